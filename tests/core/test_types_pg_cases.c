/* Case generators of the differential test (see test_types_pg.c): edge
 * values and seeded random inputs per type. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/eng_strbuf.h"
#include "tests/core/t_types_pg.h"

/* ------------------------------------------------------------------ random inputs */

uint64_t t_rng_state;

static uint64_t
rnd(void)
{
    t_rng_state ^= t_rng_state >> 12;
    t_rng_state ^= t_rng_state << 25;
    t_rng_state ^= t_rng_state >> 27;
    return t_rng_state * 0x2545F4914F6CDD1DULL;
}

static int
rnd_range(int lo, int hi) /* inclusive */
{
    return lo + (int)(rnd() % (uint64_t)(hi - lo + 1));
}

/* A random numeric literal: up to ndig digits with the point somewhere,
 * sometimes an exponent. */
static void
random_numeric(char *buf, size_t cap, int maxdig)
{
    int nd = rnd_range(1, maxdig);
    int point = rnd_range(0, nd);
    size_t k = 0;
    if (rnd() % 3 == 0)
        buf[k++] = '-';
    bool lead = rnd() % 4 != 0; /* usually no leading zeros */
    for (int i = 0; i < nd && k + 8 < cap; i++) {
        if (i == point && i > 0)
            buf[k++] = '.';
        int d = rnd_range(0, 9);
        if (i == 0 && lead && d == 0)
            d = 1;
        buf[k++] = (char)('0' + d);
    }
    if (rnd() % 8 == 0 && k + 8 < cap)
        k += (size_t)snprintf(buf + k, cap - k, "e%d", rnd_range(-40, 40));
    buf[k] = '\0';
}

void
t_run_numeric(void)
{
    static const char *edge[] = {
        "0",
        "-0",
        "0.000",
        "-0.000",
        "1",
        "-1",
        "1.0",
        "1.00",
        "0.1",
        ".5",
        "5.",
        "-.5",
        "+5",
        "  1.5  ",
        "1e3",
        "1E-3",
        "1.5e-3",
        "12.5e1",
        "1e 5",
        "1e",
        "1e+",
        ".",
        "-",
        "+.e5",
        "1 e5",
        "1e5.5",
        "NaN",
        "nan",
        " NaN ",
        "NaNx",
        "Infinity",
        "-Infinity",
        "+Infinity",
        "inf",
        "-inf",
        "+inf",
        "infinity",
        "INF",
        "infinit",
        "1e1000",
        "1e-1000",
        "1e131071",
        "1e131072",
        "1e-16383",
        "1e-16384",
        "0e-16384",
        "0e200000",
        "1e2147483648",
        "",
        "abc",
        "1.2.3",
        "--1",
        "0x10",
        "9999.9999",
        "99999999999999999999999999999999",
        "0.00000000000000000000000000000001",
        "123456789.123456789",
        "-0.0001",
        "100000000",
        "10000",
        "9999",
        "0.9999",
        "0.00009999",
    };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        t_check_literal("numeric", "numeric", edge[i]);
    static const char *typmods[] = {"numeric(5,2)", "numeric(3)",    "numeric(3,-1)",
                                    "numeric(2,3)", "numeric(10,4)", "numeric(1000,500)",
                                    "decimal(4,1)", "numeric(3,-2)"};
    static const char *tvals[] = {"1.005", "-1.005", "999.995", "123.456", "0.0005", "12345",
                                  "NaN",   "inf",    "-99.5",   "0.001",   "0.0015", "5",
                                  "-5",    "1e-20",  "99",      "150"};
    for (size_t i = 0; i < sizeof typmods / sizeof typmods[0]; i++)
        for (size_t j = 0; j < sizeof tvals / sizeof tvals[0]; j++)
            t_check_literal("numeric typmod", typmods[i], tvals[j]);
    char a[1300], b[1300];
    for (int i = 0; i < 400; i++) {
        random_numeric(a, sizeof a, i < 300 ? 30 : 1200);
        t_check_literal("numeric", "numeric", a);
    }
    /* arithmetic */
    static const char *opvals[] = {
        "0",      "1",   "-1",        "0.5",     "3",       "7",      "10",     "1.000", "0.001",
        "-2.50",  "NaN", "inf",       "-inf",    "1e20",    "1e-20",  "123.45", "9999",  "10000",
        "0.0000", "2",   "99999.999", "-0.0001", "1e-1000", "1e1000", "3.14159"};
    const char *ops = "+-*/%";
    size_t nv = sizeof opvals / sizeof opvals[0];
    for (size_t i = 0; i < nv; i++)
        for (size_t j = 0; j < nv; j++)
            for (int k = 0; k < 5; k++)
                t_check_numeric_op(opvals[i], ops[k], opvals[j]);
    for (int i = 0; i < 1500; i++) {
        int maxdig = i % 10 == 0 ? 300 : 40;
        random_numeric(a, sizeof a, maxdig);
        random_numeric(b, sizeof b, maxdig);
        t_check_numeric_op(a, ops[i % 5], b);
    }
    for (int i = 0; i < 200; i++) {
        random_numeric(a, sizeof a, 30);
        t_check_numeric_round(a, rnd_range(-8, 12), i % 2 == 1);
    }
    static const char *rv[] = {"NaN", "inf", "0.5", "-0.5", "1.5", "-2.5", "9.995", "99.5", "0"};
    for (size_t i = 0; i < sizeof rv / sizeof rv[0]; i++)
        for (int s = -2; s <= 2; s++) {
            t_check_numeric_round(rv[i], s, false);
            t_check_numeric_round(rv[i], s, true);
        }
    /* aggregation */
    char *vals[12];
    char store[12][64];
    for (int i = 0; i < 12; i++)
        vals[i] = store[i];
    for (int i = 0; i < 60; i++) {
        int n = rnd_range(1, 12);
        for (int k = 0; k < n; k++)
            random_numeric(store[k], sizeof store[k], 25);
        if (i == 5)
            strcpy(store[0], "NaN");
        if (i == 6)
            strcpy(store[0], "inf");
        if (i == 7 && n > 1) {
            strcpy(store[0], "inf");
            strcpy(store[1], "-inf");
        }
        t_check_numeric_agg(vals, n);
    }
}

void
t_run_ints(void)
{
    static const char *edge[] = {
        "0",
        "-0",
        "+5",
        " 12 ",
        "\t7\n",
        "32767",
        "32768",
        "-32768",
        "-32769",
        "2147483647",
        "2147483648",
        "-2147483648",
        "-2147483649",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999999",
        "99999999999x",
        "",
        " ",
        "abc",
        "1.5",
        "1e3",
        "0x10",
        "12 34",
        "--1",
        "+-1",
        "+",
        "-",
        "007",
        "1_000",
        " -42 ",
    };
    const char *types[] = {"int2", "int4", "int8", "smallint", "integer", "bigint"};
    for (size_t t = 0; t < 3; t++)
        for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
            t_check_literal("int", types[t], edge[i]);
    char buf[64];
    for (int i = 0; i < 300; i++) {
        int64_t v = (int64_t)rnd();
        int shift = rnd_range(0, 63);
        v >>= shift;
        snprintf(buf, sizeof buf, "%" PRId64, v);
        t_check_literal("int", types[rnd_range(0, 5)], buf);
    }
    static const char *bools[] = {"t",   "true", "TRUE",  "True", "tr",    "tru", "truex",
                                  "yes", "y",    "ye",    "on",   "off",   "of",  "o",
                                  "1",   "0",    "  t  ", "f",    "false", "fa",  "no",
                                  "n",   "",     "2",     "11",   "onx",   "of f"};
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++)
        t_check_literal("bool", "boolean", bools[i]);
    /* random prefixes of the words, random case and padding */
    static const char *words[] = {"true", "false", "yes", "no", "on", "off", "1", "0", "maybe"};
    char bbuf[32];
    for (int i = 0; i < 300; i++) {
        const char *w = words[rnd_range(0, 8)];
        int len = rnd_range(1, (int)strlen(w) + 1);
        size_t k = 0;
        int pad = rnd_range(0, 2);
        for (int p = 0; p < pad; p++)
            bbuf[k++] = " \t\n"[rnd_range(0, 2)];
        for (int c = 0; c < len; c++) {
            char ch = c < (int)strlen(w) ? w[c] : 'x';
            if (rnd() % 2 && ch >= 'a' && ch <= 'z')
                ch = (char)(ch - 32);
            bbuf[k++] = ch;
        }
        for (int p = 0; p < rnd_range(0, 2); p++)
            bbuf[k++] = ' ';
        bbuf[k] = '\0';
        t_check_literal("bool", "boolean", bbuf);
    }
}

void
t_run_floats(void)
{
    static const char *edge[] = {
        "0",
        "-0",
        "1",
        "-1",
        "0.1",
        "0.2",
        "0.3",
        "1e20",
        "1e21",
        "1e15",
        "1e14",
        "1e16",
        "123456789012345",
        "1234567890123456",
        "12345678901234567",
        "0.0001",
        "0.00001",
        "1e-5",
        "1.2345678901234567e-05",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "+Infinity",
        "inf",
        "-inf",
        "+inf",
        "INFINITY",
        "infinit",
        "1e308",
        "1e309",
        "-1e309",
        "1e-320",
        "4.9e-324",
        "1e-400",
        "2.2250738585072014e-308",
        "1.7976931348623157e308",
        " 1.5 ",
        "",
        " ",
        "abc",
        "1.5x",
        "0x10",
        "0x1p-2",
        "nan(12)",
        "1e",
        ".5",
        "5.",
        "-.5e3",
        "3.4028235e38",
        "3.4028236e38",
        "1e39",
        "1.4e-45",
        "1e-45",
        "7e-46",
        "1e-46",
        "16777216",
        "16777217",
        "100000",
        "1000000",
        "123456",
        "1234567",
        "0.1e-3",
        "9007199254740993",
        "0.30000000000000004",
        "5e-324",
        "2.5",
        "1e22",
        "1e23",
    };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        t_check_literal("float8", "float8", edge[i]);
        t_check_literal("float4", "float4", edge[i]);
    }
    char buf[64];
    for (int i = 0; i < 3000; i++) {
        uint64_t bits = rnd();
        double d;
        memcpy(&d, &bits, 8);
        if (isnan(d))
            continue;
        snprintf(buf, sizeof buf, "%.17g", d);
        t_check_literal("float8 random", "double precision", buf);
    }
    for (int i = 0; i < 1500; i++) {
        uint32_t bits = (uint32_t)rnd();
        float f;
        memcpy(&f, &bits, 4);
        if (isnan(f))
            continue;
        snprintf(buf, sizeof buf, "%.9g", (double)f);
        t_check_literal("float4 random", "real", buf);
    }
    /* short decimal inputs: shortest output must reproduce them */
    for (int i = 0; i < 500; i++) {
        snprintf(buf, sizeof buf, "%d.%de%d", rnd_range(0, 999), rnd_range(0, 9999),
                 rnd_range(-30, 30));
        t_check_literal("float8", "float8", buf);
        t_check_literal("float4", "float4", buf);
    }
}

void
t_run_casts(void)
{
    static const struct {
        const char *from, *to, *val;
    } cases[] = {
        {"numeric", "int4", "0.5"},
        {"numeric", "int4", "1.5"},
        {"numeric", "int4", "-2.5"},
        {"numeric", "int4", "2147483647.4"},
        {"numeric", "int4", "2147483647.5"},
        {"numeric", "int2", "32767.5"},
        {"numeric", "int8", "9223372036854775807"},
        {"numeric", "int8", "9223372036854775808"},
        {"numeric", "int8", "-9223372036854775808.4"},
        {"numeric", "int4", "NaN"},
        {"numeric", "int8", "inf"},
        {"numeric", "int2", "-inf"},
        {"float8", "int4", "2.5"},
        {"float8", "int4", "3.5"},
        {"float8", "int4", "-2.5"},
        {"float8", "int4", "NaN"},
        {"float8", "int4", "2147483647.4"},
        {"float8", "int4", "2147483647.5"},
        {"float8", "int4", "-2147483648.5"},
        {"float8", "int8", "9.2233720368547758e18"},
        {"float8", "int8", "-9.2233720368547758e18"},
        {"float4", "int8", "1e20"},
        {"float4", "int2", "32767.4"},
        {"float8", "int2", "-32768.5"},
        {"float8", "float4", "1e300"},
        {"float8", "float4", "1e-300"},
        {"float8", "float4", "0.1"},
        {"float4", "float8", "0.1"},
        {"float8", "numeric", "0.1"},
        {"float8", "numeric", "1e20"},
        {"float8", "numeric", "1.5e-7"},
        {"float8", "numeric", "123456789012345678"},
        {"float8", "numeric", "NaN"},
        {"float8", "numeric", "-inf"},
        {"float4", "numeric", "0.1"},
        {"float4", "numeric", "3.4028235e38"},
        {"numeric", "float8", "0.1"},
        {"numeric", "float8", "1e400"},
        {"numeric", "float8", "1e-400"},
        {"numeric", "float4", "1e39"},
        {"numeric", "float8", "NaN"},
        {"numeric", "float4", "123456789.123"},
        {"int4", "bool", "0"},
        {"int4", "bool", "-5"},
        {"bool", "int4", "t"},
        {"int8", "bool", "1"},
        {"int2", "bool", "1"},
        {"bool", "int8", "t"},
        {"int8", "int4", "2147483648"},
        {"int8", "int2", "-32769"},
        {"int4", "int2", "32767"},
        {"int8", "float4", "16777217"},
        {"int8", "float8", "9007199254740993"},
        {"int4", "numeric(3,1)", "100"},
        {"int4", "numeric(4,1)", "100"},
        {"numeric", "numeric(5,2)", "123.455"},
        {"bool", "text", "t"},
        {"bool", "varchar", "f"},
        {"bool", "char(2)", "t"},
        {"int4", "char(3)", "12345"},
        {"int4", "varchar(2)", "12345"},
        {"char(5)", "text", "ab"},
        {"char(5)", "varchar", "ab"},
        {"text", "char(5)", "ab"},
        {"text", "varchar(2)", "abcdef"},
        {"text", "char(2)", "abcdef"},
        {"varchar(3)", "text", "ab "},
        {"text", "int4", "  12  "},
        {"text", "int4", "x"},
        {"text", "numeric(5,2)", "1.005"},
        {"text", "bytea", "\\x0102"},
        {"bytea", "text", "abc"},
        {"text", "uuid", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"},
        {"uuid", "text", "{a0eebc999c0b4ef8bb6d6bb9bd380a11}"},
        {"json", "jsonb", "{\"b\":1, \"a\":[1,2]}"},
        {"jsonb", "json", "{\"b\":1, \"a\":2}"},
        {"jsonb", "int4", "1.5"},
        {"jsonb", "int4", "\"a\""},
        {"jsonb", "int4", "null"},
        {"jsonb", "numeric", "1e2"},
        {"jsonb", "bool", "true"},
        {"jsonb", "float8", "1.5"},
        {"jsonb", "bool", "1"},
        {"jsonb", "int2", "[1]"},
        {"jsonb", "int8", "{}"},
        {"json", "int4", "1"},
        {"date", "timestamp", "2024-01-02"},
        {"date", "timestamptz", "2024-01-02"},
        {"date", "timestamp", "294277-01-01"},
        {"date", "timestamp", "infinity"},
        {"date", "timestamp", "4714-11-24 BC"},
        {"timestamp", "date", "2024-01-02 23:59:59"},
        {"timestamp", "date", "0001-01-01 00:00:00 BC"},
        {"timestamp", "date", "-infinity"},
        {"timestamptz", "date", "2024-01-02 23:59:59+02"},
        {"timestamp", "timestamptz", "2024-01-02 03:04:05"},
        {"timestamptz", "timestamp", "2024-01-02 03:04:05-07"},
        {"timestamp", "time", "2024-01-02 03:04:05.5"},
        {"timestamptz", "time", "2024-01-02 03:04:05+05"},
        {"timestamp", "time", "infinity"},
        {"time", "interval", "10:00"},
        {"interval", "time", "-1 hours"},
        {"interval", "time", "25 hours"},
        {"interval", "time", "1 day 2 hours"},
        {"timestamp", "timestamp(2)", "2024-01-02 03:04:05.555555"},
        {"time", "time(0)", "23:59:59.5"},
        {"interval", "interval(1)", "1 year 2.55 sec"},
        {"interval", "interval day to hour", "1 year 2 days 03:04"},
        {"interval", "interval year", "1 year 11 mons 40 days"},
        {"interval", "interval minute to second(2)", "1 day 01:02:03.456"},
        {"int4", "date", "5"},
        {"date", "int4", "2024-01-01"},
        {"uuid", "bytea", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
        {"time", "timestamp", "10:00"},
        {"interval", "int4", "1 day"},
        {"numeric", "bool", "1"},
        {"float8", "bool", "1"},
        {"bytea", "uuid", "abc"},
        {"date", "time", "2024-01-01"},
        {"json", "text", "{\"a\" : 1}"},
        {"jsonb", "text", "{\"a\" : 1}"},
        {"interval", "text", "1 day"},
        {"float8", "text", "0.1"},
        {"float4", "varchar(3)", "0.1"},
        {"numeric", "char(6)", "1.5"},
        {"timestamptz", "text", "2024-01-02 03:04:05+05"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        t_check_cast(cases[i].from, cases[i].to, cases[i].val);
    char buf[64];
    static const char *itos[] = {"int2",   "int4", "int8", "numeric", "float4",
                                 "float8", "bool", "text", "char(3)", "numeric(6,2)"};
    for (int i = 0; i < 300; i++) {
        int64_t v = (int64_t)rnd() >> rnd_range(0, 63);
        snprintf(buf, sizeof buf, "%" PRId64, v);
        t_check_cast(i % 2 ? "int8" : "numeric", itos[i % 10], buf);
    }
    static const char *dtos[] = {"date", "timestamp", "timestamptz",
                                 "time", "text",      "timestamp(1)"};
    for (int i = 0; i < 200; i++) {
        snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06d%s", rnd_range(1, 9999),
                 rnd_range(1, 12), rnd_range(1, 28), rnd_range(0, 23), rnd_range(0, 59),
                 rnd_range(0, 59), rnd_range(0, 999999), i % 9 == 0 ? " BC" : "");
        t_check_cast(i % 2 ? "timestamptz" : "timestamp", dtos[i % 6], buf);
    }
    for (int i = 0; i < 300; i++) {
        snprintf(buf, sizeof buf, "%.17g", (double)(int64_t)(rnd() >> rnd_range(1, 63)) / 7.0);
        static const char *tos[] = {"int2", "int4", "int8", "numeric", "float4"};
        t_check_cast("float8", tos[i % 5], buf);
        random_numeric(buf, sizeof buf, 22);
        static const char *ntos[] = {"int2", "int4", "int8", "float8", "float4", "numeric(8,3)"};
        t_check_cast("numeric", ntos[i % 6], buf);
    }
}

void
t_run_strings(void)
{
    static const char *vals[] = {"",     "a",      "abc",      "abc  ",   "ab c", "  ",
                                 "abcd", "abcde ", "héllo",    "日本語x", "x\ty", "a'b",
                                 "a\\b", "ab   ",  "abcdefgh", "é  "};
    static const char *types[] = {"text",         "varchar", "varchar(3)", "char(3)",
                                  "character(1)", "char",    "bpchar",     "character varying(4)",
                                  "name_unknown"};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
            t_check_literal("string", types[t], vals[i]);
    static const char *pieces[] = {"a", "b", " ", "  ", "é", "日", "\xf0\x9f\x98\x80", "'", "x y"};
    char buf[128], tname[32];
    for (int i = 0; i < 400; i++) {
        size_t k = 0;
        int n = rnd_range(0, 8);
        for (int c = 0; c < n; c++) {
            const char *p = pieces[rnd_range(0, 8)];
            memcpy(buf + k, p, strlen(p));
            k += strlen(p);
        }
        buf[k] = '\0';
        int len = rnd_range(1, 6);
        snprintf(tname, sizeof tname, "%s(%d)", rnd() % 2 ? "varchar" : "char", len);
        t_check_literal("string", tname, buf);
        if (i % 4 == 0)
            t_check_assign(tname, buf);
    }
    static const char *assign_types[] = {"varchar(3)", "char(3)", "numeric(5,2)", "char(1)"};
    static const char *assign_vals[] = {"abc",     "abcd", "abc   ", "ab",  "1.005",
                                        "12345.1", "é",    "éé",     "a b", "999.999"};
    for (size_t t = 0; t < sizeof assign_types / sizeof assign_types[0]; t++)
        for (size_t i = 0; i < sizeof assign_vals / sizeof assign_vals[0]; i++)
            t_check_assign(assign_types[t], assign_vals[i]);
}

void
t_run_bytea_uuid(void)
{
    static const char *bytea[] = {"",           "abc",     "\\x",        "\\x0102", "\\xDEADbeef",
                                  "\\x 01 02 ", "\\x0 1",  "\\x012",     "\\xzz",   "\\xé",
                                  "\\\\",       "a\\\\b",  "\\001\\377", "\\400",   "\\1",
                                  "a\\b",       "\\X0102", "\\x01\n02",  "héllo",   "\\x\t0a"};
    for (size_t i = 0; i < sizeof bytea / sizeof bytea[0]; i++)
        t_check_literal("bytea", "bytea", bytea[i]);
    static const char *uuids[] = {
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",    "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",  "a0eebc999c0b4ef8bb6d6bb9bd380a11",
        "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",     "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
        "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",   "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",   " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g",    "",
        "a0e-ebc99-9c0b-4ef8-bb6d-6bb9bd380a11",   "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
    };
    for (size_t i = 0; i < sizeof uuids / sizeof uuids[0]; i++)
        t_check_literal("uuid", "uuid", uuids[i]);
    char buf[200];
    static const char hexd[] = "0123456789abcdefABCDEF";
    for (int i = 0; i < 300; i++) {
        /* hex format with random spacing and the odd corruption */
        size_t k = 0;
        buf[k++] = '\\';
        buf[k++] = 'x';
        int nbytes = rnd_range(0, 40);
        for (int b = 0; b < nbytes; b++) {
            if (rnd() % 6 == 0)
                buf[k++] = " \n\t"[rnd_range(0, 2)];
            buf[k++] = hexd[rnd_range(0, 21)];
            buf[k++] = hexd[rnd_range(0, 21)];
        }
        if (i % 10 == 0)
            buf[k++] = hexd[rnd_range(0, 21)]; /* odd digit count */
        if (i % 13 == 0)
            buf[k++] = 'g';
        buf[k] = '\0';
        t_check_literal("bytea", "bytea", buf);
        /* escape format: plain bytes, \\, \ooo, and invalid escapes */
        k = 0;
        int n = rnd_range(0, 20);
        for (int c = 0; c < n; c++) {
            switch (rnd_range(0, 5)) {
            case 0:
                buf[k++] = '\\';
                buf[k++] = '\\';
                break;
            case 1:
                k += (size_t)snprintf(buf + k, sizeof buf - k, "\\%03o", rnd_range(0, 255));
                break;
            case 2:
                if (i % 7 == 0) {
                    buf[k++] = '\\';
                    buf[k++] = (char)('4' + rnd_range(0, 3));
                }
                break;
            default:
                buf[k++] = (char)rnd_range(' ', '~');
                if (buf[k - 1] == '\\')
                    buf[k++] = '\\';
                break;
            }
        }
        buf[k] = '\0';
        t_check_literal("bytea", "bytea", buf);
        /* uuid in random spellings */
        uint8_t u[16];
        for (int b = 0; b < 16; b++)
            u[b] = (uint8_t)rnd();
        k = 0;
        bool braces = rnd() % 4 == 0;
        if (braces)
            buf[k++] = '{';
        for (int b = 0; b < 16; b++) {
            const char *hx = rnd() % 2 ? "0123456789abcdef" : "0123456789ABCDEF";
            buf[k++] = hx[u[b] >> 4];
            buf[k++] = hx[u[b] & 15];
            bool std = b == 3 || b == 5 || b == 7 || b == 9;
            if (b < 15 && b % 2 == 1 && (std ? rnd() % 8 != 0 : rnd() % 6 == 0))
                buf[k++] = '-';
        }
        if (braces && rnd() % 8 != 0)
            buf[k++] = '}';
        if (i % 17 == 0)
            buf[rnd_range(0, (int)k - 1)] = 'z';
        if (i % 19 == 0)
            buf[k++] = '-';
        buf[k] = '\0';
        t_check_literal("uuid", "uuid", buf);
    }
}

/* A random JSON document of bounded depth. */
static void
random_json(eng_strbuf *b, int depth)
{
    int kind = rnd_range(0, depth > 3 ? 4 : 6);
    static const char *words[] = {"a",
                                  "b",
                                  "aa",
                                  "ab",
                                  "ba",
                                  "",
                                  "é",
                                  "key",
                                  "k\\\"q",
                                  "\\u00e9",
                                  "\\ud83d\\ude00",
                                  "x\\ny",
                                  "\\t",
                                  "long key name"};
    switch (kind) {
    case 0:
        eng_strbuf_puts(b, rnd() % 2 ? "true" : "false");
        break;
    case 1:
        eng_strbuf_puts(b, "null");
        break;
    case 2: {
        char num[64];
        random_numeric(num, sizeof num, 12);
        /* JSON numbers: no '+', leading '.', or trailing '.' */
        if (num[0] == '-' && num[1] == '.')
            memmove(num + 2, num + 1, strlen(num));
        if (num[0] == '-' && num[1] == '.')
            num[1] = '0';
        char *dot = strchr(num, '.');
        if (dot && (dot[1] < '0' || dot[1] > '9'))
            *dot = '0';
        if ((num[0] == '0' && num[1] >= '0' && num[1] <= '9') ||
            (num[0] == '-' && num[1] == '0' && num[2] >= '0' && num[2] <= '9'))
            strcpy(num, "0.5");
        eng_strbuf_puts(b, num);
        break;
    }
    case 3:
    case 4:
        eng_strbuf_printf(b, "\"%s\"", words[rnd_range(0, 13)]);
        break;
    case 5: {
        eng_strbuf_putc(b, '[');
        int n = rnd_range(0, 4);
        for (int i = 0; i < n; i++) {
            if (i)
                eng_strbuf_puts(b, rnd() % 2 ? "," : " , ");
            random_json(b, depth + 1);
        }
        eng_strbuf_putc(b, ']');
        break;
    }
    default: {
        eng_strbuf_putc(b, '{');
        int n = rnd_range(0, 5);
        for (int i = 0; i < n; i++) {
            if (i)
                eng_strbuf_puts(b, ", ");
            eng_strbuf_printf(b, "\"%s\"%s", words[rnd_range(0, 13)], rnd() % 2 ? ":" : " : ");
            random_json(b, depth + 1);
        }
        eng_strbuf_putc(b, '}');
        break;
    }
    }
}

void
t_run_json(void)
{
    static const char *docs[] = {
        "{\"b\":1,\"a\":2,\"aa\":[1,2.50,1e2,-0,1E-2],\"a\":3}",
        "\"\\u0000\"",
        "\"\\ud83d\\ude00 \\/ \\u00e9\\t\\u001f\"",
        "\"\\ud83d\"",
        "\"\\ude00\"",
        "\"\\ud83d\\ud83d\"",
        "\"\\ud83dx\"",
        "01",
        "1.",
        "-",
        " [ ] ",
        " { } ",
        "{\"a\":1,}",
        "tru",
        "[1] x",
        "[1] 2",
        "\"a\tb\"",
        "1e1001",
        "\"\\x\"",
        "\"\\u12\"",
        "{\"a\" 1}",
        "",
        "[1,[2,{\"x\":null}],true,false]",
        "-1.5E+3",
        "0.000",
        "123456789012345678901234567890",
        "[1,2",
        "{\"a\":1",
        "[1 2]",
        "{1:2}",
        "nul",
        "nullx",
        "1.5e",
        "-01",
        ".5",
        "\"abc",
        "[1,]",
        "{\"a\":}",
        ":",
        "\"\\u00e9\\u0080\"",
        "{\"\":1, \"a\":{}, \"b\":[]}",
        "{\"aaa\":1, \"b\":2, \"cc\":3, \"a\":4}",
        "  1  ",
        "true",
        "false",
        "null",
        "[[[[]]]]",
        "{\"a\":{\"b\":{\"c\":[1,{\"d\":null}]}}}",
        "\"\\\\\\\"\\b\\f\\n\\r\\t\"",
        "1e-5",
        "-0",
        "-0.0",
        "0e10",
        "\"é\"",
        "[\"\\u001F\", \"\\u007f\"]",
        "{\"a\":1}x",
        "1 2",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        t_check_literal("json", "json", docs[i]);
        t_check_literal("jsonb", "jsonb", docs[i]);
    }
    eng_strbuf b = {0};
    for (int i = 0; i < 400; i++) {
        eng_strbuf_reset(&b);
        random_json(&b, 0);
        t_check_literal("jsonb random", "jsonb", eng_strbuf_cstr(&b));
        t_check_literal("json random", "json", eng_strbuf_cstr(&b));
        /* a mutated copy: one character dropped, replaced or inserted */
        if (b.len > 1) {
            size_t at = (size_t)rnd_range(0, (int)b.len - 1);
            static const char junk[] = "{}[],:\"\\ 0-.eE+ux";
            char c = junk[rnd_range(0, (int)sizeof junk - 2)];
            switch (i % 3) {
            case 0:
                memmove(b.data + at, b.data + at + 1, b.len - at);
                b.len--;
                break;
            case 1:
                b.data[at] = c;
                break;
            default:
                eng_strbuf_putc(&b, ' ');
                memmove(b.data + at + 1, b.data + at, b.len - at - 1);
                b.data[at] = c;
                break;
            }
            t_check_literal("json mutated", i % 2 ? "json" : "jsonb", eng_strbuf_cstr(&b));
        }
    }
    eng_strbuf_free(&b);
}

/* ------------------------------------------------------------------ datetimes */

void
t_run_dates(void)
{
    static const char *dates[] = {
        "2024-01-02",
        "2024-1-2",
        "01/02/2024",
        "1/2/24",
        "01-02-2024",
        "2024/01/02",
        "20240102",
        "240102",
        "2024.01.02",
        "2024-Jan-02",
        "Jan 2, 2024",
        "2 Jan 2024",
        "January 2 2024",
        "2024 January 2",
        "Jan-02-2024",
        "02-Jan-2024",
        "jan 2 24",
        "Tue Jan 02 2024",
        "2024-001",
        "2024-366",
        "2023-366",
        "2024-02-29",
        "2023-02-29",
        "2024-13-01",
        "2024-00-10",
        "2024-01-32",
        "2024-04-31",
        "13/01/2024",
        "0001-01-01",
        "0001-01-01 BC",
        "0044-03-15 BC",
        "4714-11-24 BC",
        "4714-11-23 BC",
        "5874897-12-31",
        "5874898-01-01",
        "0000-01-01",
        "epoch",
        "infinity",
        "-infinity",
        "+infinity",
        "Infinity",
        "J2451545",
        "j0",
        "J2451545.5",
        "2024-01-02 03:04:05",
        "2024-01-02T03:04",
        "2024-01-02 03:04:05+02",
        "2024-01-02 America/New_York",
        "",
        " ",
        "garbage",
        "2024-01-02 junk",
        "99-12-31",
        "69-01-01",
        "70-01-01",
        "1999-12-31 24:00:00",
        "2024-01-02 ad",
        "2024-01-02 bc",
        "1 2 3",
        "2024 01 02",
        "Feb 30 2024",
        "12 Feb",
        "2024-02",
        "10000-01-01",
        "100000-12-31",
        "on 2024-01-02 at",
        "2024-01-02,",
        "Jan 2 2024 BC",
        "allballs",
        "2024-01-02 allballs",
        "20240102T030405",
        "2024-01-02 25:00",
        "2024-01-02 23:60",
        "2024-01-02 12:00 pm",
        "2024-01-02 13:00 pm",
    };
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++)
        t_check_literal("date", "date", dates[i]);
    char buf[96];
    for (int i = 0; i < 300; i++) {
        int y = rnd_range(1, 9999), m = rnd_range(1, 12), d = rnd_range(1, 28);
        if (i % 5 == 0)
            y = rnd_range(1, 4713);
        snprintf(buf, sizeof buf, "%04d-%02d-%02d%s", y, m, d, i % 5 == 0 ? " BC" : "");
        t_check_literal("date", "date", buf);
    }
    static const char *mon[] = {"Jan",  "February", "mar",  "APR", "May", "jun",
                                "July", "aug",      "Sept", "oct", "Nov", "December"};
    for (int i = 0; i < 400; i++) {
        int y = rnd_range(1, 2500), m = rnd_range(1, 12), d = rnd_range(1, 31);
        switch (i % 6) {
        case 0:
            snprintf(buf, sizeof buf, "%s %d, %d", mon[m - 1], d, y);
            break;
        case 1:
            snprintf(buf, sizeof buf, "%d %s %d%s", d, mon[m - 1], y, rnd() % 3 ? "" : " BC");
            break;
        case 2:
            snprintf(buf, sizeof buf, "%02d/%02d/%04d", m, d, y);
            break;
        case 3:
            snprintf(buf, sizeof buf, "%04d%02d%02d", y, m, d);
            break;
        case 4:
            snprintf(buf, sizeof buf, "%d-%s-%02d", y, mon[m - 1], d);
            break;
        default:
            snprintf(buf, sizeof buf, "%02d-%02d-%02d", m, d, y % 100);
            break;
        }
        t_check_literal("date", "date", buf);
    }
}

void
t_run_times(void)
{
    static const char *times[] = {
        "00:00",
        "03:04:05",
        "3:4:5",
        "03:04:05.123456",
        "03:04:05.1234567",
        "03:04:05.9999995",
        "23:59:59.999999",
        "23:59:59.9999999",
        "24:00",
        "24:00:00",
        "24:00:00.000001",
        "23:59:60",
        "23:60",
        "25:00",
        "-01:00",
        "030405",
        "0304",
        "030405.5",
        "3:04 pm",
        "12:00 am",
        "12:00 pm",
        "13:00 pm",
        "3 pm",
        "allballs",
        "03:04:05+02",
        "03:04:05 PST",
        "2024-01-02 03:04:05",
        "03:04:05 2024-01-02",
        "T03:04:05",
        "04:05.5",
        "",
        "x",
        "03:04:05 junk",
        "10:00 zulu",
        "10:00z",
        "03:04:05.",
        "1:2",
        "2024-01-02T03:04:05",
        "12:34:56.789 America/New_York",
    };
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        t_check_literal("time", "time", times[i]);
        t_check_literal("time", "time(2)", times[i]);
    }
    char buf[96], tname[16];
    for (int i = 0; i < 400; i++) {
        int h = rnd_range(0, 24), m = rnd_range(0, 60), sec = rnd_range(0, 60);
        int frac = rnd_range(0, 9999999);
        switch (i % 4) {
        case 0:
            snprintf(buf, sizeof buf, "%02d:%02d:%02d.%07d", h, m, sec, frac);
            break;
        case 1:
            snprintf(buf, sizeof buf, "%d:%02d %s", rnd_range(0, 13), m, rnd() % 2 ? "AM" : "pm");
            break;
        case 2:
            snprintf(buf, sizeof buf, "%02d%02d%02d.%d%+03d", h, m, sec, frac % 1000,
                     rnd_range(-12, 12));
            break;
        default:
            snprintf(buf, sizeof buf, "%02d:%02d:%02d.%06d", h % 24, m % 60, sec % 60,
                     frac % 1000000);
            break;
        }
        snprintf(tname, sizeof tname, i % 3 ? "time" : "time(%d)", rnd_range(0, 6));
        t_check_literal("time", tname, buf);
    }
}

void
t_run_timestamps(void)
{
    static const char *ts[] = {
        "2024-01-02 03:04:05",
        "2024-01-02 03:04:05.123456",
        "2024-01-02T03:04:05Z",
        "2024-01-02T03:04:05.5+02:00",
        "2024-01-02 03:04:05-07",
        "2024-01-02 03:04:05+0530",
        "2024-01-02 03:04:05 +05:30",
        "2024-01-02 03:04:05+05:30:15",
        "2024-01-02 03:04:05+16",
        "2024-01-02 03:04:05+15:59",
        "2024-01-02 03:04:05+1:60",
        "2024-01-02 03:04:05 UTC",
        "2024-01-02 03:04:05 GMT",
        "2024-01-02 03:04:05 EST",
        "2024-01-02 03:04:05 pdt",
        "2024-07-02 03:04 CEST",
        "2024-01-02 03:04:05 z",
        "2024-01-02 03:04:05 zulu",
        "2024-01-02 03:04:05 Europe/Paris",
        "2024-01-02 03:04:05 XYZ",
        "Jan 2 2024 03:04:05",
        "Tue Jan 02 03:04:05 2024",
        "Tue Jan 02 03:04:05 2024 PST",
        "01/02/2024 03:04 PM",
        "2024-01-02 12:00 am",
        "20240102 030405",
        "20240102T030405",
        "2024-01-02T030405",
        "2024-01-02 24:00:00",
        "2024-12-31 24:00:00",
        "1999-12-31 23:59:60",
        "epoch",
        "infinity",
        "-infinity",
        "now junk",
        "2024-01-02 03:04:05 BC",
        "0001-01-01 00:00:00 BC",
        "4714-11-24 00:00:00 BC",
        "4714-11-23 23:59:59 BC",
        "294276-12-31 23:59:59.999999",
        "294277-01-01 00:00:00",
        "4714-11-24 00:00:00+01 BC",
        "294276-12-31 23:59:59-01",
        "2024-01-02 03:04:05.9999995",
        "2024-01-02",
        "03:04:05",
        "",
        "garbage",
        "2024-01-02 03:04:05 03:04:05",
        "J2451545 12:00",
        "2024-01-02 03:04:05 -infinity",
        "2024-02-30 00:00",
        "1 2 3 4",
        "2024-01-02 3pm",
        "2024-01-02 03:04:05.123456789",
        "2024-01-02 03:04:05+00:00:60",
        "2024-01-02 +",
        "2024-01-02 03:04:05 America",
        "2024-01-02 03:04:05-7",
        "1900-02-29 00:00",
        "2000-02-29 00:00",
        "1e5",
    };
    const char *types[] = {"timestamp", "timestamptz", "timestamp(3)", "timestamptz(0)"};
    for (size_t t = 0; t < 4; t++)
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
            t_check_literal(t % 2 ? "timestamptz" : "timestamp", types[t], ts[i]);
    char buf[128];
    for (int i = 0; i < 600; i++) {
        int y = rnd_range(1, 9999), mo = rnd_range(1, 12), d = rnd_range(1, 28);
        int h = rnd_range(0, 23), mi = rnd_range(0, 59), s = rnd_range(0, 59);
        int us = rnd_range(0, 999999);
        bool bc = i % 7 == 0;
        if (i % 11 == 0)
            y = rnd_range(10000, 294276);
        int off = rnd_range(-15, 15), offm = rnd_range(0, 3) * 15;
        if (i % 3 == 0)
            snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06d%+03d:%02d%s", y, mo, d, h,
                     mi, s, us, off, offm, bc ? " BC" : "");
        else if (i % 3 == 1)
            snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%0*d%s", y, mo, d, h, mi, s,
                     rnd_range(1, 6), us % 1000, bc ? " BC" : "");
        else
            snprintf(buf, sizeof buf, "%02d/%02d/%04d %d:%02d:%02d %s", mo, d, y, rnd_range(1, 12),
                     mi, s, rnd() % 2 ? "am" : "pm");
        t_check_literal("timestamp random", i % 2 ? "timestamptz" : "timestamp", buf);
    }
}

void
t_run_intervals(void)
{
    static const char *iv[] = {
        "1 year 2 mons 3 days 04:05:06",
        "@ 1 day",
        "1 day ago",
        "@ 1 day 2 hours ago",
        "P1Y2M3DT4H5M6S",
        "P1Y2M3DT4H5M6.5S",
        "PT0S",
        "P0D",
        "P1W",
        "P0.5Y",
        "P1.5M",
        "P0.5D",
        "PT1.5H",
        "P1Y-2M",
        "P-1Y",
        "P0001-02-03T04:05:06",
        "P00010203T040506",
        "P1Y2M3",
        "PT",
        "P",
        "p1y",
        " P1Y",
        "P1Y ",
        "PT1H2M3S4",
        "P1YT",
        "-1 year -2 mons +3 days -04:05:06",
        "1-2",
        "-1-2",
        "1-12",
        "3 4:05:06",
        "-3 -4:05:06",
        "1 2",
        "1:2",
        "1:2:3.5",
        "04:05.5",
        "-00:00:01",
        "00:00:00",
        "0",
        "1",
        "1.5",
        "-1.5",
        "1.5 years",
        "1.5 months",
        "1.5 days",
        "1.5 weeks",
        "0.5 hours",
        "1.5 minutes",
        "2.5 seconds",
        "1 millisecond",
        "1 microsecond",
        "1.5 ms",
        "1.5 us",
        "1 decade",
        "1 century",
        "1 millennium",
        "1.5 decades",
        "2 centuries",
        "3 millennia",
        "1 quarter",
        "10 mins",
        "5 secs",
        "1 hr",
        "1 yr",
        "1 y 2 mon",
        "1 d",
        "1 w",
        "1 h 1 m 1 s",
        "1 day 02:00",
        "02:00 1 day",
        "1 hour 02:00",
        "1 day 1 day",
        "1 ago",
        "ago",
        "",
        "day",
        "1 day day",
        "1 fortnight",
        "2147483647 days",
        "2147483648 days",
        "-2147483648 days",
        "178956970 years",
        "178956971 years",
        "-178956970 years -8 mons",
        "2562047788 hours",
        "2562047789 hours",
        "9223372036854775807 microseconds",
        "9223372036854775808 microseconds",
        "1 day 2562047788:00:54.775807",
        "123456789:00:00",
        "+1 day",
        "+02:03",
        "1 +02:03",
        "1 -02:03",
        "-1 +02:03",
        "1 day -02:03:04.5",
        "@ 1 minute 30 seconds ago",
        "1 mon 30 days",
        "1 year 1.5 months",
        "0.0000005 seconds",
        "0.0000015 seconds",
        "1e3 seconds",
        "P1e2D",
        "P0.000001S",
        "PT0.0000005S",
        "PT1000000000000000H",
        "P1000000000000000Y",
        "P1Y2M3DT4H5M6S junk",
        "1 day junk",
        "12:34:56.789 2 days",
    };
    for (size_t i = 0; i < sizeof iv / sizeof iv[0]; i++)
        t_check_literal("interval", "interval", iv[i]);
    static const char *typed[] = {"interval year",
                                  "interval month",
                                  "interval day",
                                  "interval hour",
                                  "interval minute",
                                  "interval second(2)",
                                  "interval year to month",
                                  "interval day to second(1)",
                                  "interval(0)",
                                  "interval minute to second"};
    static const char *tvals[] = {"1 year 2 mons 3 days 04:05:06.789",
                                  "1",
                                  "1.5",
                                  "2:03",
                                  "1-2",
                                  "3 4:05",
                                  "-1 day 02:03:04.5678"};
    for (size_t t = 0; t < sizeof typed / sizeof typed[0]; t++)
        for (size_t i = 0; i < sizeof tvals / sizeof tvals[0]; i++)
            t_check_literal("interval typmod", typed[t], tvals[i]);
    char buf[160];
    for (int i = 0; i < 400; i++) {
        int y = rnd_range(-300, 300), mo = rnd_range(-30, 30), d = rnd_range(-400, 400);
        int h = rnd_range(-50, 50), mi = rnd_range(0, 59), s = rnd_range(0, 59);
        int us = rnd_range(0, 999999);
        switch (i % 4) {
        case 0:
            snprintf(buf, sizeof buf, "%d years %d mons %d days %d:%02d:%02d.%06d", y, mo, d, h, mi,
                     s, us);
            break;
        case 1:
            snprintf(buf, sizeof buf, "P%dY%dM%dDT%dH%dM%d.%06dS", y, mo, d, h, mi, s, us);
            break;
        case 2:
            snprintf(buf, sizeof buf, "@ %d.%d days %d hours %s", d, rnd_range(0, 99), h,
                     rnd() % 2 ? "ago" : "");
            break;
        default:
            snprintf(buf, sizeof buf, "%d.%03d years %d.%02d months %d.%d weeks", y,
                     rnd_range(0, 999), mo, rnd_range(0, 99), d / 10, rnd_range(0, 9));
            break;
        }
        t_check_literal("interval random", "interval", buf);
    }
}

void
t_run_type_names(void)
{
    static const char *names[] = {
        "int",
        "integer",
        "int4",
        "INT4",
        "bigint",
        "int8",
        "smallint",
        "int2",
        "real",
        "float4",
        "float",
        "float(1)",
        "float(24)",
        "float(25)",
        "float(53)",
        "float(0)",
        "float(54)",
        "double precision",
        "float8",
        "numeric",
        "numeric(10,2)",
        "numeric(10)",
        "decimal",
        "decimal(5,3)",
        "dec(3)",
        "numeric(0)",
        "numeric(1001)",
        "numeric(5,-2)",
        "numeric(2,5)",
        "numeric(5,1001)",
        "text",
        "varchar",
        "varchar(10)",
        "character varying",
        "character varying(10)",
        "char varying(3)",
        "char",
        "char(5)",
        "character",
        "character(3)",
        "bpchar",
        "bpchar(7)",
        "nchar(2)",
        "national character varying(3)",
        "national char(4)",
        "varchar(0)",
        "varchar(10485761)",
        "char(0)",
        "bytea",
        "date",
        "time",
        "time(3)",
        "time without time zone",
        "time(2) without time zone",
        "timestamp",
        "timestamp(3)",
        "timestamp without time zone",
        "timestamp with time zone",
        "timestamp(0) with time zone",
        "timestamptz",
        "timestamptz(4)",
        "timestamp(7)",
        "interval",
        "interval(3)",
        "interval year",
        "interval month",
        "interval day",
        "interval hour",
        "interval minute",
        "interval second",
        "interval second(2)",
        "interval year to month",
        "interval day to hour",
        "interval day to minute",
        "interval day to second",
        "interval day to second(3)",
        "interval hour to minute",
        "interval hour to second",
        "interval minute to second(0)",
        "uuid",
        "json",
        "jsonb",
        "boolean",
        "bool",
        "pg_catalog.int4",
        "pg_catalog.varchar(5)",
        "\"varchar\"(3)",
        "\"int\"",
        "foo",
        "int4(3)",
        "int(3)",
        "bool(1)",
        "interval day(3)",
        "interval month to year",
        "double",
        "time with time zone",
        "timetz",
        "int[]",
        "text array",
        "money",
        "\"char\"",
        "character varying(10) with",
        "timestamp (3) with time zone",
        "numeric (12 , 4)",
        "Numeric(4,2)",
        "DOUBLE PRECISION",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        t_check_type_name(names[i]);
}

/* Named time zones: the system tz database across DST transitions, far
 * past and future, southern hemisphere, odd offsets, POSIX strings, bad
 * names. */
void
t_run_zones(void)
{
    static const char *zones[] = {
        "Europe/Paris",
        "america/new_york",
        "America/Los_Angeles",
        "Asia/Tokyo",
        "Japan",
        "Australia/Sydney",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "America/St_Johns",
        "Europe/London",
        "Europe/Moscow",
        "Pacific/Apia",
        "America/Sao_Paulo",
        "Africa/Casablanca",
        "Europe/Dublin",
        "Etc/GMT+5",
        "EST5EDT",
        "PST8PDT",
        "Etc/UTC",
        "Asia/Tehran",
        "Pacific/Chatham",
        "America/Santiago",
        "Antarctica/Troll",
        "Europe/Lisbon",
        "XYZ+3",
        "UTC+3",
        "<+03>-3",
        "Foo/Bar",
        "Europe/../Paris",
        "Nowhere",
        "Europe/Pariss",
        "posix/Europe/Paris",
    };
    size_t nz = sizeof zones / sizeof zones[0];
    static const char *fixed[] = {
        "2024-03-31 01:59:59", "2024-03-31 02:00:00", "2024-03-31 02:30:00",
        "2024-03-31 03:00:00", "2024-10-27 01:59:59", "2024-10-27 02:00:00",
        "2024-10-27 02:30:00", "2024-10-27 03:00:00", "2024-03-10 02:30:00",
        "2024-11-03 01:30:00", "2024-04-07 02:30:00", "2024-10-06 02:30:00",
        "1800-01-01 00:00:00", "1900-06-01 12:00:00", "1950-07-01 12:00:00",
        "2037-12-31 23:00:00", "2038-07-01 12:00:00", "2100-03-28 02:30:00",
        "2200-07-01 12:00:00", "2500-10-31 02:30:00", "1000-01-01 00:00:00 BC",
        "2011-12-30 12:00:00", "2011-12-29 12:00:00",
    };
    char buf[160];
    for (size_t z = 0; z < nz; z++)
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
            snprintf(buf, sizeof buf, "%s %s", fixed[i], zones[z]);
            t_check_literal("zones", "timestamptz", buf);
        }
    for (int i = 0; i < 1200; i++) {
        snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d %s", rnd_range(1700, 2400),
                 rnd_range(1, 12), rnd_range(1, 28), rnd_range(0, 23), rnd_range(0, 59),
                 rnd_range(0, 59), zones[rnd_range(0, (int)nz - 1)]);
        t_check_literal("zones random", i % 5 ? "timestamptz" : "timestamp", buf);
    }
    for (size_t z = 0; z < nz; z++) {
        snprintf(buf, sizeof buf, "2024-01-02 %s", zones[z]);
        t_check_literal("zones", "date", buf);
        snprintf(buf, sizeof buf, "03:04:05 %s", zones[z]);
        t_check_literal("zones", "time", buf);
        snprintf(buf, sizeof buf, "2024-07-01 03:04:05 %s", zones[z]);
        t_check_literal("zones", "time", buf);
        snprintf(buf, sizeof buf, "%s 2024-07-01 03:04:05", zones[z]);
        t_check_literal("zones", "timestamptz", buf);
    }
}
