/* Unit tests: float4/float8 text I/O (engine/core/float.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/eng_float.h"

static void
check8(double v, const char *want)
{
    char buf[ENG_FLOAT_SHORTEST_MAX];
    eng_float8_shortest(v, buf);
    if (strcmp(buf, want) != 0)
        fail_msg("float8 %.17g printed %s, want %s", v, buf, want);
}

static void
check4(float v, const char *want)
{
    char buf[ENG_FLOAT_SHORTEST_MAX];
    eng_float4_shortest(v, buf);
    if (strcmp(buf, want) != 0)
        fail_msg("float4 %.9g printed %s, want %s", (double)v, buf, want);
}

static void
test_float8_output(void **state)
{
    (void)state;
    check8(0.0, "0");
    check8(-0.0, "-0");
    check8(1.0, "1");
    check8(-1.5, "-1.5");
    check8(0.1, "0.1");
    check8(0.1 + 0.2, "0.30000000000000004");
    check8(1e20, "1e+20");
    check8(1e15, "1e+15");
    check8(1e14, "100000000000000");
    check8(123456789012345.0, "123456789012345");
    check8(1234567890123456.0, "1.234567890123456e+15");
    check8(0.0001, "0.0001");
    check8(0.00001, "1e-05");
    check8(1.2345678901234568e-05, "1.2345678901234568e-05");
    check8(1.2345678901234e-05, "1.2345678901234e-05");
    check8(1e100, "1e+100");
    check8(1e-100, "1e-100");
    check8(5e-324, "5e-324");
    check8(1.7976931348623157e308, "1.7976931348623157e+308");
    check8(2.2250738585072014e-308, "2.2250738585072014e-308");
    check8(NAN, "NaN");
    check8(INFINITY, "Infinity");
    check8(-INFINITY, "-Infinity");
    check8(9007199254740993.0, "9.007199254740992e+15");
    /* PostgreSQL's Ryu never picks a boundary value, even when
     * round-half-even would read it back: 1e23 is such a boundary. */
    check8(1e23, "9.999999999999999e+22");
    check8(1.359284e21, "1.3592839999999999e+21");
    check8(5.55103e20, "5.5510300000000003e+20");
    check8(2.5, "2.5");
    check8(100.0, "100");
    check8(123.456, "123.456");
}

static void
test_float4_output(void **state)
{
    (void)state;
    check4(0.0f, "0");
    check4(0.1f, "0.1");
    check4(1e6f, "1e+06");
    check4(100000.0f, "100000");
    check4(123456.0f, "123456");
    check4(1234567.0f, "1.234567e+06");
    check4(0.0001f, "0.0001");
    check4(1e-5f, "1e-05");
    check4(3.4028235e38f, "3.4028235e+38");
    check4(1.4e-45f, "1e-45");
    check4(16777217.0f, "1.6777216e+07");
    check4(59371168.0f, "5.9371168e+07"); /* boundary case as for float8 */
    check4(NAN, "NaN");
    check4(-INFINITY, "-Infinity");
}

static void
check_parse8(const char *s, const char *want_or_err)
{
    double v;
    eng_err e;
    eng_err_clear(&e);
    int rc = eng_float8_parse(s, strlen(s), &v, &e);
    if (want_or_err[0] == '!') {
        if (rc == 0)
            fail_msg("float8 \"%s\" parsed, want error %s", s, want_or_err + 1);
        assert_string_equal(e.sqlstate, want_or_err + 1);
        return;
    }
    if (rc != 0)
        fail_msg("float8 \"%s\": %s", s, e.message);
    char buf[ENG_FLOAT_SHORTEST_MAX];
    eng_float8_shortest(v, buf);
    assert_string_equal(buf, want_or_err);
}

static void
test_parse(void **state)
{
    (void)state;
    check_parse8("1", "1");
    check_parse8(" 1.5 ", "1.5");
    check_parse8("\t-2e3\n", "-2000");
    check_parse8("NaN", "NaN");
    check_parse8("nan", "NaN");
    check_parse8("Infinity", "Infinity");
    check_parse8("-Infinity", "-Infinity");
    check_parse8("+inf", "Infinity");
    check_parse8("-INF", "-Infinity");
    check_parse8("0x10", "16");
    check_parse8("1e-320", "1e-320");
    check_parse8("4.9e-324", "5e-324");
    check_parse8("", "!22P02");
    check_parse8("   ", "!22P02");
    check_parse8("abc", "!22P02");
    check_parse8("1.5x", "!22P02");
    check_parse8("infinit", "!22P02");
    check_parse8("1e309", "!22003");
    check_parse8("-1e309", "!22003");
    check_parse8("1e-400", "!22003");
    eng_err e;
    eng_err_clear(&e);
    double v;
    eng_float8_parse("xyz", 3, &v, &e);
    assert_string_equal(e.message, "invalid input syntax for type double precision: \"xyz\"");
    float f;
    eng_err_clear(&e);
    assert_int_equal(eng_float4_parse("1e39", 4, &f, &e), -1);
    assert_string_equal(e.message, "\"1e39\" is out of range for type real");
    eng_err_clear(&e);
    assert_int_equal(eng_float4_parse("7e-46", 5, &f, &e), -1);
    assert_string_equal(e.sqlstate, "22003");
    assert_int_equal(eng_float4_parse("1e-45", 5, &f, NULL), 0);
    assert_true(f > 0.0f);
    eng_err_clear(&e);
    assert_int_equal(eng_float4_parse("x", 1, &f, &e), -1);
    assert_string_equal(e.message, "invalid input syntax for type real: \"x\"");
    /* embedded NUL is junk */
    eng_err_clear(&e);
    assert_int_equal(eng_float8_parse("1\0", 2, &v, &e), -1);
    /* long input */
    char big[600];
    memset(big, '1', sizeof big - 1);
    big[0] = '0';
    big[1] = '.';
    big[sizeof big - 1] = '\0';
    assert_int_equal(eng_float8_parse(big, strlen(big), &v, NULL), 0);
    assert_true(fabs(v - 0.1111111111111111) < 1e-15);
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

/* parse(format(x)) == x for random bit patterns, and the output is never
 * longer than 17 significant digits (9 for float4). */
static void
test_random_roundtrip(void **state)
{
    (void)state;
    uint64_t seed = 42;
    rng = seed;
    char buf[ENG_FLOAT_SHORTEST_MAX];
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = rnd();
        double d;
        memcpy(&d, &bits, 8);
        size_t n = eng_float8_shortest(d, buf);
        double back;
        if (eng_float8_parse(buf, n, &back, NULL) != 0)
            fail_msg("seed %" PRIu64 " i %d: %s does not parse", seed, i, buf);
        if (!(isnan(d) ? isnan(back) : memcmp(&d, &back, 8) == 0))
            fail_msg("seed %" PRIu64 " i %d: %.17g printed %s reads %.17g", seed, i, d, buf, back);
        uint32_t b4 = (uint32_t)rnd();
        float f, f2;
        memcpy(&f, &b4, 4);
        n = eng_float4_shortest(f, buf);
        if (eng_float4_parse(buf, n, &f2, NULL) != 0)
            fail_msg("seed %" PRIu64 " i %d: %s does not parse", seed, i, buf);
        if (!(isnan(f) ? isnan(f2) : memcmp(&f, &f2, 4) == 0))
            fail_msg("seed %" PRIu64 " i %d: float4 %.9g printed %s", seed, i, (double)f, buf);
    }
}

/* Short decimals print as themselves (after normalisation). */
static void
test_short_decimals(void **state)
{
    (void)state;
    uint64_t seed = 7;
    rng = seed;
    char in[64], out[ENG_FLOAT_SHORTEST_MAX];
    for (int i = 0; i < 20000; i++) {
        int digits = 1 + (int)(rnd() % 15);
        uint64_t m = rnd() % 1000000000000000ULL;
        char ds[32];
        snprintf(ds, sizeof ds, "%015" PRIu64, m);
        ds[digits] = '\0';
        if (ds[0] == '0')
            ds[0] = '1';
        int exp = (int)(rnd() % 40) - 20;
        snprintf(in, sizeof in, "%c.%se%d", ds[0], ds + 1, exp);
        double v = strtod(in, NULL);
        eng_float8_shortest(v, out);
        /* our output reads back as v, with at most as many significant
         * digits as the input unless the input sits on a rounding
         * boundary (then PostgreSQL prints the exact neighbour) */
        if (strtod(out, NULL) != v)
            fail_msg("seed %" PRIu64 ": %s -> %s", seed, in, out);
        size_t sig = 0;
        bool lead = true;
        for (const char *p = out; *p && *p != 'e'; p++)
            if (*p >= '0' && *p <= '9' && !(lead && *p == '0')) {
                lead = false;
                sig++;
            }
        if (sig > 17)
            fail_msg("seed %" PRIu64 ": %s -> %s has %zu digits", seed, in, out, sig);
    }
}

static void
test_format_strbuf(void **state)
{
    (void)state;
    eng_strbuf b = {0};
    eng_float8_format(0.5, &b);
    eng_strbuf_putc(&b, ' ');
    eng_float4_format(0.25f, &b);
    assert_string_equal(eng_strbuf_cstr(&b), "0.5 0.25");
    eng_strbuf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float8_output),  cmocka_unit_test(test_float4_output),
        cmocka_unit_test(test_parse),          cmocka_unit_test(test_random_roundtrip),
        cmocka_unit_test(test_short_decimals), cmocka_unit_test(test_format_strbuf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
