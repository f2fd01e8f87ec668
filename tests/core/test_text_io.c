/* Unit tests: eng_text_parse / eng_text_format and the per-type input
 * helpers for integers, booleans, character data, bytea and uuid
 * (engine/core/text_io.c, chars.c, bytea.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/core/eng_text.h"

static eng_strbuf sb;
static eng_rowbuf rb;

/* Parses s as typname and checks the output text (or "!SQLSTATE"). */
static void
check(const char *typname, const char *s, size_t n, const char *want)
{
    eng_type t;
    eng_err e;
    eng_err_clear(&e);
    if (eng_type_parse(typname, strlen(typname), &t, &e) != 0)
        fail_msg("type %s: %s", typname, e.message);
    eng_rowbuf_reset(&rb);
    int rc = eng_text_parse(&t, s, n, &rb, &e);
    if (want[0] == '!') {
        if (rc == 0)
            fail_msg("%s \"%s\" parsed, want error %s", typname, s, want + 1);
        if (strcmp(e.sqlstate, want + 1) != 0)
            fail_msg("%s \"%s\": %s %s, want %s", typname, s, e.sqlstate, e.message, want + 1);
        assert_int_equal(rb.len, 0); /* nothing appended on error */
        return;
    }
    if (rc != 0)
        fail_msg("%s \"%s\": %s", typname, s, e.message);
    assert_true(eng_row_validate(eng_rowbuf_row(&rb), 1));
    uint32_t pos = 0;
    eng_datum d = eng_row_next(eng_rowbuf_row(&rb), &pos);
    assert_true(eng_type_tag_matches(&t, d.tag));
    eng_strbuf_reset(&sb);
    eng_text_format(&t, d, &sb);
    if (sb.len != strlen(want) || memcmp(sb.data, want, sb.len) != 0)
        fail_msg("%s \"%s\" -> \"%s\", want \"%s\"", typname, s, eng_strbuf_cstr(&sb), want);
}

static void
chk(const char *typname, const char *s, const char *want)
{
    check(typname, s, strlen(s), want);
}

static void
test_integers(void **state)
{
    (void)state;
    chk("int4", "0", "0");
    chk("int4", "-0", "0");
    chk("int4", "+5", "5");
    chk("int4", " 12 ", "12");
    chk("int4", "\t7\n", "7");
    chk("int4", "007", "7");
    chk("int2", "32767", "32767");
    chk("int2", "-32768", "-32768");
    chk("int2", "32768", "!22003");
    chk("int2", "-32769", "!22003");
    chk("int4", "2147483647", "2147483647");
    chk("int4", "-2147483648", "-2147483648");
    chk("int4", "2147483648", "!22003");
    chk("int8", "9223372036854775807", "9223372036854775807");
    chk("int8", "-9223372036854775808", "-9223372036854775808");
    chk("int8", "9223372036854775808", "!22003");
    chk("int8", "99999999999999999999999", "!22003");
    chk("int4", "99999999999x", "!22003"); /* overflow is reported first */
    chk("int4", "", "!22P02");
    chk("int4", " ", "!22P02");
    chk("int4", "abc", "!22P02");
    chk("int4", "1.5", "!22P02");
    chk("int4", "1e3", "!22P02");
    chk("int4", "0x10", "!22P02");
    chk("int4", "12 34", "!22P02");
    chk("int4", "--1", "!22P02");
    chk("int8", "+", "!22P02");
    chk("int4", "1_000", "!22P02");
    int64_t v;
    eng_err e;
    eng_err_clear(&e);
    eng_int_parse("abc", 3, 32, &v, &e);
    assert_string_equal(e.message, "invalid input syntax for type integer: \"abc\"");
    eng_err_clear(&e);
    eng_int_parse("40000", 5, 16, &v, &e);
    assert_string_equal(e.message, "value \"40000\" is out of range for type smallint");
    eng_err_clear(&e);
    eng_int_parse("x", 1, 64, &v, &e);
    assert_string_equal(e.message, "invalid input syntax for type bigint: \"x\"");
}

static void
test_bool(void **state)
{
    (void)state;
    const char *yes[] = {"t", "true", "TRUE", "True", "tr",    "tru",     "yes",
                         "y", "ye",   "on",   "1",    "  t  ", "\ttrue\n"};
    const char *no[] = {"f", "false", "fa", "no", "n", "off", "of", "0", " OFF "};
    const char *bad[] = {"o", "truex", "", "2", "11", "onx", "of f", "yess", "nope"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        chk("bool", yes[i], "t");
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        chk("bool", no[i], "f");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        chk("bool", bad[i], "!22P02");
    bool b;
    eng_err e;
    eng_err_clear(&e);
    eng_bool_parse("maybe", 5, &b, &e);
    assert_string_equal(e.message, "invalid input syntax for type boolean: \"maybe\"");
}

static void
test_strings(void **state)
{
    (void)state;
    chk("text", "", "");
    chk("text", "héllo wörld", "héllo wörld");
    chk("varchar(3)", "abc", "abc");
    chk("varchar(3)", "abc   ", "abc"); /* excess spaces are cut */
    chk("varchar(3)", "abcd", "!22001");
    chk("varchar(3)", "ééé", "ééé"); /* characters, not bytes */
    chk("varchar(3)", "éééé", "!22001");
    chk("char(3)", "a", "a  ");
    chk("char(3)", "ab   ", "ab ");
    chk("char(3)", "abcd", "!22001");
    chk("char(3)", "é", "é  ");
    chk("char", "x", "x");
    chk("bpchar", "ab  ", "ab  "); /* no length: kept as is */
    chk("unknown", "x", "x");
    /* invalid UTF-8 and NUL are rejected */
    check("text", "a\xc3\x28", 3, "!22021");
    check("text", "\xed\xa0\x80", 3, "!22021");
    check("text", "\xf4\x90\x80\x80", 4, "!22021");
    check("text", "\xc0\xaf", 2, "!22021");
    check("text", "\xe2\x82", 2, "!22021");
    check("text", "a\0b", 3, "!22021");
    check("text", "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80");
    eng_err e;
    eng_err_clear(&e);
    eng_utf8_validate("\xc3\x28", 2, &e);
    assert_string_equal(e.message, "invalid byte sequence for encoding \"UTF8\": 0xc3 0x28");
    eng_err_clear(&e);
    size_t keep;
    eng_varchar_check("abcd", 4, 3 + 4, false, &keep, &e);
    assert_string_equal(e.message, "value too long for type character varying(3)");
    assert_int_equal(eng_varchar_check("abcd", 4, 3 + 4, true, &keep, NULL), 0);
    assert_int_equal(keep, 3);
    assert_int_equal(eng_utf8_strlen("héllo", 6), 5);
    assert_int_equal(eng_utf8_cliplen("héllo", 6, 2), 3);
    assert_int_equal(eng_bpchar_trimmed_len("ab  ", 4), 2);
    eng_rowbuf_reset(&rb);
    eng_err_clear(&e);
    assert_int_equal(eng_bpchar_push("abcd", 4, 2 + 4, false, &rb, &e), -1);
    assert_string_equal(e.message, "value too long for type character(2)");
    assert_int_equal(eng_bpchar_push("abcd", 4, 2 + 4, true, &rb, NULL), 0);
}

static void
test_bytea(void **state)
{
    (void)state;
    chk("bytea", "", "\\x");
    chk("bytea", "abc", "\\x616263");
    chk("bytea", "\\x", "\\x");
    chk("bytea", "\\x0102", "\\x0102");
    chk("bytea", "\\xDEADbeef", "\\xdeadbeef");
    chk("bytea", "\\x 01 02 ", "\\x0102");
    chk("bytea", "\\x01\n02", "\\x0102");
    chk("bytea", "\\x0 1", "!22023");
    chk("bytea", "\\x012", "!22023");
    chk("bytea", "\\xzz", "!22023");
    chk("bytea", "\\\\", "\\x5c");
    chk("bytea", "a\\\\b", "\\x615c62");
    chk("bytea", "\\001\\377", "\\x01ff");
    chk("bytea", "\\400", "!22P02");
    chk("bytea", "\\1", "!22P02");
    chk("bytea", "a\\b", "!22P02");
    chk("bytea", "\\X0102", "!22P02");
    chk("bytea", "héllo", "\\x68c3a96c6c6f");
    eng_rowbuf_reset(&rb);
    eng_err e;
    eng_err_clear(&e);
    eng_bytea_parse("\\xé", 4, &rb, &e);
    assert_string_equal(e.message, "invalid hexadecimal digit: \"é\"");
    eng_err_clear(&e);
    eng_bytea_parse("\\x123", 5, &rb, &e);
    assert_string_equal(e.message, "invalid hexadecimal data: odd number of digits");
}

static void
test_uuid(void **state)
{
    (void)state;
    const char *want = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
    chk("uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", want);
    chk("uuid", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", want);
    chk("uuid", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", want);
    chk("uuid", "a0eebc999c0b4ef8bb6d6bb9bd380a11", want);
    chk("uuid", "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", want);
    chk("uuid", "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}", want);
    chk("uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "!22P02");
    chk("uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111", "!22P02");
    chk("uuid", "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11", "!22P02");
    chk("uuid", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "!22P02");
    chk("uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "!22P02");
    chk("uuid", " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "!22P02");
    chk("uuid", "a0e-ebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "!22P02");
    chk("uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-", "!22P02");
    chk("uuid", "", "!22P02");
    uint8_t u[16];
    eng_err e;
    eng_err_clear(&e);
    eng_uuid_parse("nope", 4, u, &e);
    assert_string_equal(e.message, "invalid input syntax for type uuid: \"nope\"");
}

static void
test_dispatch_other_types(void **state)
{
    (void)state;
    chk("float8", "0.1", "0.1");
    chk("float4", "1e6", "1e+06");
    chk("numeric(5,2)", "1.005", "1.01");
    chk("numeric(5,2)", "1234.5", "!22003");
    chk("date", "2024-01-02", "2024-01-02");
    chk("time(1)", "03:04:05.55", "03:04:05.6");
    chk("timestamp", "2024-01-02 03:04:05", "2024-01-02 03:04:05");
    chk("timestamptz", "2024-01-02 03:04:05+01", "2024-01-02 02:04:05+00");
    chk("interval", "1 day", "1 day");
    chk("json", "{\"b\":1,\"a\":2}", "{\"b\":1,\"a\":2}");
    chk("jsonb", "{\"b\":1,\"a\":2}", "{\"a\": 2, \"b\": 1}");
    chk("json", "{", "!22P02");
    /* inputs past PostgreSQL's 1 GB field limit are refused up front */
    eng_type t = eng_type_make(ENG_TYPE_TEXT, -1);
    eng_err e;
    eng_err_clear(&e);
    assert_int_equal(eng_text_parse(&t, "x", (size_t)ENG_TEXT_MAX_LEN + 1, &rb, &e), -1);
    assert_string_equal(e.sqlstate, "54000");
}

static uint64_t rng;

static uint64_t
rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

/* parse(format(x)) == x, compared as row bytes, for random values of the
 * fixed-width types and random bytea / uuid / text values. */
static void
test_random_roundtrip(void **state)
{
    (void)state;
    uint64_t seed = 2024;
    rng = seed;
    const eng_typeid ids[] = {ENG_TYPE_INT2,   ENG_TYPE_INT4,   ENG_TYPE_INT8,
                              ENG_TYPE_FLOAT4, ENG_TYPE_FLOAT8, ENG_TYPE_BYTEA,
                              ENG_TYPE_UUID,   ENG_TYPE_TEXT,   ENG_TYPE_BOOL};
    eng_rowbuf a = {0}, b = {0};
    for (int i = 0; i < 20000; i++) {
        eng_typeid id = ids[i % (sizeof ids / sizeof ids[0])];
        eng_type t = eng_type_make(id, -1);
        eng_rowbuf_reset(&a);
        uint64_t r = rnd();
        switch (id) {
        case ENG_TYPE_INT2:
            eng_push_int2(&a, (int16_t)r);
            break;
        case ENG_TYPE_INT4:
            eng_push_int4(&a, (int32_t)r);
            break;
        case ENG_TYPE_INT8:
            eng_push_int8(&a, (int64_t)r);
            break;
        case ENG_TYPE_FLOAT4: {
            float f;
            uint32_t x = (uint32_t)r;
            memcpy(&f, &x, 4);
            eng_push_float4(&a, f);
            break;
        }
        case ENG_TYPE_FLOAT8: {
            double f;
            memcpy(&f, &r, 8);
            eng_push_float8(&a, f);
            break;
        }
        case ENG_TYPE_BYTEA: {
            uint8_t bytes[32];
            size_t n = r % 33;
            for (size_t k = 0; k < n; k++)
                bytes[k] = (uint8_t)rnd();
            eng_push_var(&a, ENG_TAG_BYTES, bytes, (uint32_t)n);
            break;
        }
        case ENG_TYPE_UUID: {
            uint8_t u[16];
            for (int k = 0; k < 16; k++)
                u[k] = (uint8_t)rnd();
            eng_push_fixed(&a, ENG_TAG_UUID, u, 16);
            break;
        }
        case ENG_TYPE_TEXT: {
            char s[40];
            size_t n = r % 40;
            for (size_t k = 0; k < n; k++)
                s[k] = (char)(' ' + rnd() % 95);
            eng_push_text(&a, s, (uint32_t)n);
            break;
        }
        default:
            eng_push_bool(&a, r & 1);
            break;
        }
        uint32_t pos = 0;
        eng_datum d = eng_row_next(eng_rowbuf_row(&a), &pos);
        eng_strbuf_reset(&sb);
        eng_text_format(&t, d, &sb);
        eng_rowbuf_reset(&b);
        eng_err e;
        eng_err_clear(&e);
        if (eng_text_parse(&t, sb.data ? sb.data : "", sb.len, &b, &e) != 0 ||
            !eng_row_eq(eng_rowbuf_row(&a), eng_rowbuf_row(&b)))
            fail_msg("seed %" PRIu64 " i %d: %s \"%s\" does not round-trip (%s)", seed, i,
                     eng_type_name(id), eng_strbuf_cstr(&sb), e.message);
    }
    eng_rowbuf_free(&a);
    eng_rowbuf_free(&b);
}

/* Random byte strings, biased towards the characters parsers care about,
 * into every type's input function: each either fails with a SQLSTATE and
 * leaves the buffer alone, or yields a value whose output parses back to
 * the same bytes (output is a fixed point of input). Run under ASan this
 * is a small fuzzer for every text decoder. */
static void
test_random_garbage(void **state)
{
    (void)state;
    uint64_t seed = 99991;
    rng = seed;
    static const char alphabet[] = "0123456789 -+:./,TtZzeEaAbBpPmMyYdDhHsS{}[]\"\\xXnulfr"
                                   "\t\n'jJ@_<>\xc3\xa9\xff\x80\x01";
    static const char *types[] = {
        "bool",        "int2",         "int4",       "int8",       "float4",  "float8",
        "numeric",     "numeric(5,2)", "text",       "varchar(3)", "char(3)", "bytea",
        "uuid",        "json",         "jsonb",      "date",       "time",    "timestamp",
        "timestamptz", "interval",     "interval(2)"};
    static const char *seeds[] = {"2024-01-02 03:04:05",
                                  "1 day 02:00",
                                  "P1Y2M",
                                  "12:30",
                                  "{\"a\": [1, 2]}",
                                  "\\x0102",
                                  "-1.5e3",
                                  "Jan 2 2024",
                                  "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                                  "infinity"};
    eng_rowbuf a = {0}, b = {0};
    char in[64];
    int accepted = 0;
    for (int i = 0; i < 60000; i++) {
        size_t n;
        if (i % 3 == 0) { /* mutate a plausible value */
            const char *base = seeds[rnd() % (sizeof seeds / sizeof seeds[0])];
            n = strlen(base);
            memcpy(in, base, n);
            int edits = 1 + (int)(rnd() % 3);
            for (int k = 0; k < edits && n > 0; k++)
                in[rnd() % n] = alphabet[rnd() % (sizeof alphabet - 1)];
        } else {
            n = rnd() % 24;
            for (size_t k = 0; k < n; k++)
                in[k] = alphabet[rnd() % (sizeof alphabet - 1)];
        }
        const char *tn = types[i % (sizeof types / sizeof types[0])];
        eng_type t;
        assert_int_equal(eng_type_parse(tn, strlen(tn), &t, NULL), 0);
        eng_rowbuf_reset(&a);
        eng_err e;
        eng_err_clear(&e);
        if (eng_text_parse(&t, in, n, &a, &e) != 0) {
            if (!eng_err_isset(&e) || a.len != 0)
                fail_msg("seed %" PRIu64 " i %d: %s \"%.*s\" failed without an error", seed, i, tn,
                         (int)n, in);
            continue;
        }
        accepted++;
        uint32_t pos = 0;
        eng_datum d = eng_row_next(eng_rowbuf_row(&a), &pos);
        eng_strbuf_reset(&sb);
        eng_text_format(&t, d, &sb);
        eng_rowbuf_reset(&b);
        eng_err_clear(&e);
        if (eng_text_parse(&t, sb.data ? sb.data : "", sb.len, &b, &e) != 0 ||
            !eng_row_eq(eng_rowbuf_row(&a), eng_rowbuf_row(&b)))
            fail_msg("seed %" PRIu64 " i %d: %s \"%.*s\" -> \"%s\" does not read back (%s)", seed,
                     i, tn, (int)n, in, eng_strbuf_cstr(&sb), e.message);
    }
    /* the inputs must exercise the accepting paths too */
    printf("random garbage: %d of 60000 accepted\n", accepted);
    assert_true(accepted > 3000);
    eng_rowbuf_free(&a);
    eng_rowbuf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_bytea),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_dispatch_other_types),
        cmocka_unit_test(test_random_roundtrip),
        cmocka_unit_test(test_random_garbage),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    eng_strbuf_free(&sb);
    eng_rowbuf_free(&rb);
    return rc;
}
