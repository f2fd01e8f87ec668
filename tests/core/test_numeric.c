/* Unit tests: exact numeric arithmetic (engine/core/numeric*.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/eng_numeric.h"

/* ------------------------------------------------------------------ helpers */

static eng_strbuf sb;

static void
num(eng_numeric *n, const char *s)
{
    eng_err e;
    eng_err_clear(&e);
    if (eng_numeric_parse(s, strlen(s), -1, n, &e) != 0)
        fail_msg("parse of \"%s\" failed: %s", s, e.message);
}

static const char *
fmt(const eng_numeric *n)
{
    eng_strbuf_reset(&sb);
    eng_numeric_format(n, &sb);
    return eng_strbuf_cstr(&sb);
}

/* Parses s and checks numeric_out's text. */
static void
check_io(const char *s, const char *want)
{
    eng_numeric n;
    eng_numeric_init(&n);
    num(&n, s);
    assert_string_equal(fmt(&n), want);
    eng_numeric_free(&n);
}

static void
check_io_error(const char *s, int32_t typmod, const char *sqlstate)
{
    eng_numeric n;
    eng_numeric_init(&n);
    eng_err e;
    eng_err_clear(&e);
    assert_int_equal(eng_numeric_parse(s, strlen(s), typmod, &n, &e), -1);
    assert_string_equal(e.sqlstate, sqlstate);
    eng_numeric_free(&n);
}

typedef int (*binop)(const eng_numeric *, const eng_numeric *, eng_numeric *, eng_err *);

static void
check_op(binop op, const char *a, const char *b, const char *want)
{
    eng_numeric x, y, z;
    eng_numeric_init(&x);
    eng_numeric_init(&y);
    eng_numeric_init(&z);
    num(&x, a);
    num(&y, b);
    eng_err e;
    eng_err_clear(&e);
    if (want[0] == '!') { /* expected error: !SQLSTATE */
        assert_int_equal(op(&x, &y, &z, &e), -1);
        assert_string_equal(e.sqlstate, want + 1);
    } else {
        assert_int_equal(op(&x, &y, &z, &e), 0);
        if (strcmp(fmt(&z), want) != 0)
            fail_msg("%s op %s = %s, want %s", a, b, fmt(&z), want);
    }
    eng_numeric_free(&x);
    eng_numeric_free(&y);
    eng_numeric_free(&z);
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

static void
random_literal(char *buf, size_t cap, int maxdig)
{
    int nd = 1 + (int)(rnd() % (uint64_t)maxdig), point = (int)(rnd() % (uint64_t)(nd + 1));
    size_t k = 0;
    if (rnd() % 2)
        buf[k++] = '-';
    for (int i = 0; i < nd && k + 3 < cap; i++) {
        if (i == point && i > 0)
            buf[k++] = '.';
        buf[k++] = (char)('0' + rnd() % 10);
    }
    buf[k] = '\0';
}

/* ------------------------------------------------------------------ tests */

static void
test_parse_format(void **state)
{
    (void)state;
    check_io("0", "0");
    check_io("-0", "0");
    check_io("-0.000", "0.000");
    check_io("1.0", "1.0");
    check_io("1.00", "1.00");
    check_io("  +12.5  ", "12.5");
    check_io(".5", "0.5");
    check_io("5.", "5");
    check_io("-.5", "-0.5");
    check_io("1e3", "1000");
    check_io("1.5e-3", "0.0015");
    check_io("12.5e1", "125");
    check_io("1.25e1", "12.5");
    check_io("1e 5", "100000"); /* strtol skips white space, as in PostgreSQL */
    check_io("0e200000", "0");
    check_io("9999.9999", "9999.9999");
    check_io("10000", "10000");
    check_io("0.0001", "0.0001");
    check_io("0.00009999", "0.00009999");
    check_io("123456789012345678901234567890.000000000000000000001",
             "123456789012345678901234567890.000000000000000000001");
    check_io("NaN", "NaN");
    check_io(" nan ", "NaN");
    check_io("Infinity", "Infinity");
    check_io("infinity", "Infinity");
    check_io("-inf", "-Infinity");
    check_io("+Infinity", "Infinity");
    check_io_error("", -1, "22P02");
    check_io_error(".", -1, "22P02");
    check_io_error("1e", -1, "22P02");
    check_io_error("1 e5", -1, "22P02");
    check_io_error("1.2.3", -1, "22P02");
    check_io_error("- 1", -1, "22P02");
    check_io_error("NaNx", -1, "22P02");
    check_io_error("infinit", -1, "22P02");
    check_io_error("0x10", -1, "22P02");
    check_io_error("1e131072", -1, "22003");
    check_io_error("1e-16384", -1, "22003");
    check_io_error("0e-16384", -1, "22003");
    check_io_error("1e2147483648", -1, "22003");
    /* the error message quotes the input as PostgreSQL does */
    eng_numeric n;
    eng_numeric_init(&n);
    eng_err e;
    eng_err_clear(&e);
    eng_numeric_parse("abc", 3, -1, &n, &e);
    assert_string_equal(e.message, "invalid input syntax for type numeric: \"abc\"");
    eng_numeric_free(&n);
}

static void
test_limits(void **state)
{
    (void)state;
    eng_numeric n;
    eng_numeric_init(&n);
    num(&n, "1e131071");
    assert_int_equal(strlen(fmt(&n)), 131072);
    num(&n, "1e-16383");
    assert_int_equal(strlen(fmt(&n)), 16385);
    /* 1000+ significant digits survive a round trip */
    char big[1502];
    for (int i = 0; i < 1500; i++)
        big[i] = (char)('1' + i % 9);
    big[1500] = '\0';
    num(&n, big);
    assert_string_equal(fmt(&n), big);
    eng_numeric_free(&n);
}

static void
test_encoding_canonical(void **state)
{
    (void)state;
    const char *vals[] = {"0",         "0.00", "1",        "1.0",       "-1",    "10000",  "0.0001",
                          "-123.4500", "NaN",  "Infinity", "-Infinity", "1e100", "-1e-100"};
    eng_rowbuf a = {0}, b = {0};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        eng_numeric x, y;
        eng_numeric_init(&x);
        eng_numeric_init(&y);
        num(&x, vals[i]);
        eng_rowbuf_reset(&a);
        eng_numeric_push(&a, &x);
        assert_int_equal(a.len, 5 + eng_numeric_encoded_size(&x));
        /* decode, re-encode: identical bytes, identical text */
        uint32_t pos = 0;
        eng_datum d = eng_row_next(eng_rowbuf_row(&a), &pos);
        eng_numeric_from_datum(d, &y);
        eng_rowbuf_reset(&b);
        eng_numeric_push(&b, &y);
        assert_true(eng_row_eq(eng_rowbuf_row(&a), eng_rowbuf_row(&b)));
        char want[256];
        snprintf(want, sizeof want, "%s", fmt(&x));
        assert_string_equal(fmt(&y), want);
        eng_numeric_free(&x);
        eng_numeric_free(&y);
    }
    /* the same value computed two ways encodes identically: 0.5 + 0.5 and 1.0 */
    eng_numeric x, y, z;
    eng_numeric_init(&x);
    eng_numeric_init(&y);
    eng_numeric_init(&z);
    num(&x, "0.5");
    num(&y, "1.0");
    assert_int_equal(eng_numeric_add(&x, &x, &z, NULL), 0);
    eng_rowbuf_reset(&a);
    eng_numeric_push(&a, &z);
    eng_rowbuf_reset(&b);
    eng_numeric_push(&b, &y);
    assert_true(eng_row_eq(eng_rowbuf_row(&a), eng_rowbuf_row(&b)));
    /* -0 is impossible: 1 - 1 is +0 */
    num(&x, "-1");
    num(&y, "1");
    eng_numeric_add(&x, &y, &z, NULL);
    assert_int_equal(z.sign, ENG_NUMERIC_POS);
    /* malformed encodings are rejected */
    eng_err e;
    eng_err_clear(&e);
    const uint8_t bad1[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}; /* zero digit */
    assert_int_equal(eng_numeric_decode(bad1, sizeof bad1, &x, &e), -1);
    assert_string_equal(e.sqlstate, "XX001");
    eng_err_clear(&e);
    const uint8_t bad2[] = {0x00, 0x40, 0x01, 0x00, 0x00, 0x00}; /* -0 */
    assert_int_equal(eng_numeric_decode(bad2, sizeof bad2, &x, &e), -1);
    eng_err_clear(&e);
    const uint8_t bad3[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x27}; /* digit 10000 */
    assert_int_equal(eng_numeric_decode(bad3, sizeof bad3, &x, &e), -1);
    eng_err_clear(&e);
    const uint8_t bad4[] = {0x00, 0xC0, 0x00}; /* odd length */
    assert_int_equal(eng_numeric_decode(bad4, sizeof bad4, &x, &e), -1);
    /* 0.5001 with display scale 1 would print as 0.5: hidden digits */
    eng_err_clear(&e);
    const uint8_t bad5[] = {0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x89, 0x13};
    assert_int_equal(eng_numeric_decode(bad5, sizeof bad5, &x, &e), -1);
    /* 0.5 with display scale 1 is fine */
    const uint8_t ok5[] = {0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x88, 0x13};
    assert_int_equal(eng_numeric_decode(ok5, sizeof ok5, &x, NULL), 0);
    assert_string_equal(fmt(&x), "0.5");
    eng_rowbuf_free(&a);
    eng_rowbuf_free(&b);
    eng_numeric_free(&x);
    eng_numeric_free(&y);
    eng_numeric_free(&z);
}

static void
test_add_sub(void **state)
{
    (void)state;
    check_op(eng_numeric_add, "1", "2", "3");
    check_op(eng_numeric_add, "1.5", "2.25", "3.75");
    check_op(eng_numeric_add, "1.50", "-1.5", "0.00");
    check_op(eng_numeric_add, "9999.9999", "0.0001", "10000.0000");
    check_op(eng_numeric_add, "-9999", "-1", "-10000");
    check_op(eng_numeric_add, "1e20", "1e-20", "100000000000000000000.00000000000000000001");
    check_op(eng_numeric_sub, "1", "2", "-1");
    check_op(eng_numeric_sub, "10000", "0.0001", "9999.9999");
    check_op(eng_numeric_sub, "-5.5", "-5.5", "0.0");
    check_op(eng_numeric_add, "Infinity", "1", "Infinity");
    check_op(eng_numeric_add, "Infinity", "-Infinity", "NaN");
    check_op(eng_numeric_sub, "Infinity", "Infinity", "NaN");
    check_op(eng_numeric_sub, "1", "Infinity", "-Infinity");
    check_op(eng_numeric_add, "NaN", "Infinity", "NaN");
    check_op(eng_numeric_add, "9e131071", "9e131071", "!22003");
}

static void
test_mul(void **state)
{
    (void)state;
    check_op(eng_numeric_mul, "2", "3", "6");
    check_op(eng_numeric_mul, "1.5", "1.5", "2.25");
    check_op(eng_numeric_mul, "1.50", "2.0", "3.000");
    check_op(eng_numeric_mul, "-0.001", "1000", "-1.000");
    check_op(eng_numeric_mul, "9999", "9999", "99980001");
    check_op(eng_numeric_mul, "0", "-5.5", "0.0");
    check_op(eng_numeric_mul, "Infinity", "0", "NaN");
    check_op(eng_numeric_mul, "-Infinity", "-2", "Infinity");
    check_op(eng_numeric_mul, "Infinity", "-0.5", "-Infinity");
    check_op(eng_numeric_mul, "NaN", "0", "NaN");
    check_op(eng_numeric_mul, "123456789012345678901234567890", "987654321098765432109876543210",
             "121932631137021795226185032733622923332237463801111263526900");
    /* the result scale is capped at 16383 with rounding */
    eng_numeric x, y, z;
    eng_numeric_init(&x);
    eng_numeric_init(&y);
    eng_numeric_init(&z);
    num(&x, "1e-16383");
    num(&y, "1e-5");
    assert_int_equal(eng_numeric_mul(&x, &y, &z, NULL), 0);
    assert_int_equal(z.dscale, 16383);
    assert_true(eng_numeric_is_zero(&z));
    eng_numeric_free(&x);
    eng_numeric_free(&y);
    eng_numeric_free(&z);
}

static void
test_div(void **state)
{
    (void)state;
    check_op(eng_numeric_div, "1", "3", "0.33333333333333333333");
    check_op(eng_numeric_div, "1.0", "3", "0.33333333333333333333");
    check_op(eng_numeric_div, "10.0", "3.00000", "3.3333333333333333");
    check_op(eng_numeric_div, "2", "3", "0.66666666666666666667");
    check_op(eng_numeric_div, "-2", "3", "-0.66666666666666666667");
    check_op(eng_numeric_div, "1", "8", "0.12500000000000000000");
    check_op(eng_numeric_div, "100", "4", "25.0000000000000000");
    check_op(eng_numeric_div, "1000000", "7", "142857.142857142857");
    check_op(eng_numeric_div, "1", "7e-30",
             "142857142857142857142857142857.142857142857142857142857142857");
    check_op(eng_numeric_div, "5", "0", "!22012");
    check_op(eng_numeric_div, "0", "0", "!22012");
    check_op(eng_numeric_div, "0", "5", "0.00000000000000000000");
    check_op(eng_numeric_div, "NaN", "0", "NaN");
    check_op(eng_numeric_div, "Infinity", "0", "!22012");
    check_op(eng_numeric_div, "Infinity", "-2", "-Infinity");
    check_op(eng_numeric_div, "Infinity", "Infinity", "NaN");
    check_op(eng_numeric_div, "1", "Infinity", "0");
    check_op(eng_numeric_div, "0.000001", "3", "0.000000333333333333333333");
    check_op(eng_numeric_mod, "10", "3", "1");
    check_op(eng_numeric_mod, "-10", "3", "-1");
    check_op(eng_numeric_mod, "10", "-3", "1");
    check_op(eng_numeric_mod, "5.5", "2", "1.5");
    check_op(eng_numeric_mod, "5.5", "2.25", "1.00");
    check_op(eng_numeric_mod, "1", "0", "!22012");
    check_op(eng_numeric_mod, "Infinity", "2", "NaN");
    check_op(eng_numeric_mod, "Infinity", "0", "!22012");
    check_op(eng_numeric_mod, "5", "Infinity", "5");
    check_op(eng_numeric_mod, "5", "NaN", "NaN");
    eng_numeric a, b;
    eng_numeric_init(&a);
    eng_numeric_init(&b);
    num(&a, "1");
    num(&b, "3");
    assert_int_equal(eng_numeric_div_scale_for(&a, &b), 20);
    num(&a, "123456789");
    num(&b, "0.001");
    assert_int_equal(eng_numeric_div_scale_for(&a, &b), 8);
    eng_numeric_free(&a);
    eng_numeric_free(&b);
}

/* Random identities, checked exactly: (a + b) - b = a, a - (a - b) = b,
 * a = trunc(a / b) * b + a % b, and the quotient is correctly rounded. */
static void
test_random_identities(void **state)
{
    (void)state;
    uint64_t seed = 0x5eed1234ULL;
    rng = seed;
    char sa[700], sb2[700];
    eng_numeric a, b, c, d, q, r;
    eng_numeric_init(&a);
    eng_numeric_init(&b);
    eng_numeric_init(&c);
    eng_numeric_init(&d);
    eng_numeric_init(&q);
    eng_numeric_init(&r);
    for (int i = 0; i < 3000; i++) {
        int maxdig = i % 50 == 0 ? 600 : 40;
        random_literal(sa, sizeof sa, maxdig);
        random_literal(sb2, sizeof sb2, maxdig);
        num(&a, sa);
        num(&b, sb2);
        assert_int_equal(eng_numeric_add(&a, &b, &c, NULL), 0);
        assert_int_equal(eng_numeric_sub(&c, &b, &d, NULL), 0);
        if (eng_numeric_cmp(&d, &a) != 0)
            fail_msg("seed %" PRIu64 " i %d: (%s + %s) - b != a", seed, i, sa, sb2);
        /* a * b / b = a when the scale allows it */
        if (eng_numeric_is_zero(&b))
            continue;
        assert_int_equal(eng_numeric_mul(&a, &b, &c, NULL), 0);
        assert_int_equal(eng_numeric_div_scale(&c, &b, a.dscale, &d, NULL), 0);
        if (eng_numeric_cmp(&d, &a) != 0)
            fail_msg("seed %" PRIu64 " i %d: %s * %s / b != a", seed, i, sa, sb2);
        /* a = trunc(a / b) * b + a % b */
        assert_int_equal(eng_numeric_mod(&a, &b, &r, NULL), 0);
        assert_int_equal(eng_numeric_div_scale(&a, &b, 0, &q, NULL), 0);
        eng_numeric_trunc(&q, 0);
        assert_int_equal(eng_numeric_sub(&a, &r, &c, NULL), 0);
        assert_int_equal(eng_numeric_div_scale(&c, &b, 0, &d, NULL), 0);
        /* (a - a % b) / b is an integer; |a % b| < |b| */
        eng_numeric absr, absb;
        eng_numeric_init(&absr);
        eng_numeric_init(&absb);
        eng_numeric_copy(&absr, &r);
        eng_numeric_copy(&absb, &b);
        eng_numeric_abs(&absr);
        eng_numeric_abs(&absb);
        if (eng_numeric_cmp(&absr, &absb) >= 0)
            fail_msg("seed %" PRIu64 " i %d: |%s %% %s| >= |b|", seed, i, sa, sb2);
        eng_numeric_free(&absr);
        eng_numeric_free(&absb);
        /* the default-scale quotient q satisfies |a - q*b| <= |b| * 0.5 ulp */
        assert_int_equal(eng_numeric_div(&a, &b, &q, NULL), 0);
        assert_int_equal(eng_numeric_mul(&q, &b, &c, NULL), 0);
        assert_int_equal(eng_numeric_sub(&a, &c, &d, NULL), 0); /* residual */
        eng_numeric half, ulp;
        eng_numeric_init(&half);
        eng_numeric_init(&ulp);
        char ulps[32];
        snprintf(ulps, sizeof ulps, "0.5e-%d", q.dscale);
        num(&half, ulps);
        eng_numeric_abs(&d);
        eng_numeric_copy(&ulp, &b);
        eng_numeric_abs(&ulp);
        assert_int_equal(eng_numeric_mul(&ulp, &half, &c, NULL), 0);
        if (eng_numeric_cmp(&d, &c) > 0)
            fail_msg("seed %" PRIu64 " i %d: %s / %s not correctly rounded", seed, i, sa, sb2);
        eng_numeric_free(&half);
        eng_numeric_free(&ulp);
    }
    eng_numeric_free(&a);
    eng_numeric_free(&b);
    eng_numeric_free(&c);
    eng_numeric_free(&d);
    eng_numeric_free(&q);
    eng_numeric_free(&r);
}

static void
test_random_roundtrip(void **state)
{
    (void)state;
    uint64_t seed = 777;
    rng = seed;
    char s[1300];
    eng_numeric a, b;
    eng_numeric_init(&a);
    eng_numeric_init(&b);
    eng_rowbuf rb = {0};
    for (int i = 0; i < 2000; i++) {
        random_literal(s, sizeof s, i % 10 == 0 ? 1200 : 50);
        num(&a, s);
        char text[1400];
        snprintf(text, sizeof text, "%s", fmt(&a));
        num(&b, text);
        if (strcmp(fmt(&b), text) != 0 || eng_numeric_cmp(&a, &b) != 0 || a.dscale != b.dscale)
            fail_msg("seed %" PRIu64 " i %d: round trip of %s", seed, i, s);
        eng_rowbuf_reset(&rb);
        eng_numeric_push(&rb, &a);
        uint32_t pos = 0;
        eng_numeric_from_datum(eng_row_next(eng_rowbuf_row(&rb), &pos), &b);
        if (eng_numeric_cmp(&a, &b) != 0 || a.dscale != b.dscale)
            fail_msg("seed %" PRIu64 " i %d: encoding round trip of %s", seed, i, s);
    }
    eng_rowbuf_free(&rb);
    eng_numeric_free(&a);
    eng_numeric_free(&b);
}

static void
test_cmp(void **state)
{
    (void)state;
    const char *order[] = {"-Infinity", "-1e100", "-2",    "-1.5",     "-0.0001",
                           "0",         "1e-100", "0.5",   "1",        "1.0000001",
                           "2",         "10000",  "1e100", "Infinity", "NaN"};
    size_t n = sizeof order / sizeof order[0];
    eng_numeric a, b;
    eng_numeric_init(&a);
    eng_numeric_init(&b);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            num(&a, order[i]);
            num(&b, order[j]);
            int c = eng_numeric_cmp(&a, &b);
            assert_int_equal(c, (i > j) - (i < j));
        }
    num(&a, "1.0");
    num(&b, "1.00");
    assert_int_equal(eng_numeric_cmp(&a, &b), 0);
    num(&a, "NaN");
    num(&b, "NaN");
    assert_int_equal(eng_numeric_cmp(&a, &b), 0);
    eng_numeric_free(&a);
    eng_numeric_free(&b);
}

static void
check_round(const char *s, int scale, bool trunc, const char *want)
{
    eng_numeric a;
    eng_numeric_init(&a);
    num(&a, s);
    if (trunc)
        eng_numeric_trunc(&a, scale);
    else
        eng_numeric_round(&a, scale);
    if (strcmp(fmt(&a), want) != 0)
        fail_msg("%s(%s, %d) = %s, want %s", trunc ? "trunc" : "round", s, scale, fmt(&a), want);
    eng_numeric_free(&a);
}

static void
test_round(void **state)
{
    (void)state;
    check_round("0.5", 0, false, "1");
    check_round("-0.5", 0, false, "-1");
    check_round("1.5", 0, false, "2");
    check_round("2.5", 0, false, "3");
    check_round("2.4999", 0, false, "2");
    check_round("9.995", 2, false, "10.00");
    check_round("9999.5", 0, false, "10000");
    check_round("0.45", 1, false, "0.5");
    check_round("1234.5678", -2, false, "1200");
    check_round("1250", -2, false, "1300");
    check_round("49", -2, false, "0");
    check_round("50", -2, false, "100");
    check_round("0.4", 0, false, "0");
    check_round("-0.4", 0, false, "0");
    check_round("1.5", 3, false, "1.500");
    check_round("1.999", 2, true, "1.99");
    check_round("-1.999", 0, true, "-1");
    check_round("1234.5678", -2, true, "1200");
    check_round("NaN", 2, false, "NaN");
    check_round("-Infinity", 2, true, "-Infinity");
}

static void
check_typmod(const char *s, int p, int sc, const char *want)
{
    eng_numeric a;
    eng_numeric_init(&a);
    eng_err e;
    eng_err_clear(&e);
    int rc = eng_numeric_parse(s, strlen(s), eng_numeric_typmod_make(p, sc), &a, &e);
    if (want[0] == '!') {
        assert_int_equal(rc, -1);
        assert_string_equal(e.sqlstate, "22003");
        assert_string_equal(e.message, "numeric field overflow");
        assert_string_equal(e.detail, want + 1);
    } else {
        assert_int_equal(rc, 0);
        assert_string_equal(fmt(&a), want);
    }
    eng_numeric_free(&a);
}

static void
test_typmod(void **state)
{
    (void)state;
    int32_t tm = eng_numeric_typmod_make(10, 2);
    assert_int_equal(tm, (10 << 16 | 2) + 4);
    assert_int_equal(eng_numeric_typmod_precision(tm), 10);
    assert_int_equal(eng_numeric_typmod_scale(tm), 2);
    assert_int_equal(eng_numeric_typmod_scale(eng_numeric_typmod_make(5, -3)), -3);
    check_typmod("1.005", 5, 2, "1.01");
    check_typmod("-1.005", 5, 2, "-1.01");
    check_typmod("999.994", 5, 2, "999.99");
    check_typmod("999.995", 5, 2,
                 "!A field with precision 5, scale 2 must round to an absolute value less "
                 "than 10^3.");
    check_typmod("12345", 3, -2, "12300");
    check_typmod("0.5", 1, 0, "1");
    check_typmod("9.5", 1, 0,
                 "!A field with precision 1, scale 0 must round to an absolute value less "
                 "than 10^1.");
    check_typmod("0.001", 2, 3, "0.001");
    check_typmod("0.01", 2, 3, "0.010");
    check_typmod("0.1", 2, 3,
                 "!A field with precision 2, scale 3 must round to an absolute value less "
                 "than 10^-1.");
    check_typmod("1e-20", 5, 2, "0.00");
    check_typmod("NaN", 3, 1, "NaN");
    check_typmod("Infinity", 3, 1,
                 "!A field with precision 3, scale 1 cannot hold an infinite "
                 "value.");
    check_typmod("0.5", 1, 1, "0.5");
    check_typmod("1", 1, 1,
                 "!A field with precision 1, scale 1 must round to an absolute value less "
                 "than 1.");
}

static void
check_to_int(const char *s, int bits, const char *want)
{
    eng_numeric a;
    eng_numeric_init(&a);
    num(&a, s);
    eng_err e;
    eng_err_clear(&e);
    int64_t v;
    int rc = eng_numeric_to_int(&a, bits, &v, &e);
    if (want[0] == '!') {
        assert_int_equal(rc, -1);
        assert_string_equal(e.message, want + 1);
    } else {
        assert_int_equal(rc, 0);
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRId64, v);
        assert_string_equal(buf, want);
    }
    eng_numeric_free(&a);
}

static void
test_conversions(void **state)
{
    (void)state;
    check_to_int("0.5", 32, "1");
    check_to_int("1.5", 32, "2");
    check_to_int("-2.5", 32, "-3");
    check_to_int("2147483647.4", 32, "2147483647");
    check_to_int("2147483647.5", 32, "!integer out of range");
    check_to_int("-2147483648.4", 32, "-2147483648");
    check_to_int("32767.5", 16, "!smallint out of range");
    check_to_int("-32768", 16, "-32768");
    check_to_int("9223372036854775807", 64, "9223372036854775807");
    check_to_int("9223372036854775808", 64, "!bigint out of range");
    check_to_int("-9223372036854775808", 64, "-9223372036854775808");
    check_to_int("-9223372036854775808.5", 64, "!bigint out of range");
    check_to_int("1e30", 64, "!bigint out of range");
    check_to_int("NaN", 32, "!cannot convert NaN to integer");
    check_to_int("Infinity", 64, "!cannot convert infinity to bigint");

    eng_numeric a;
    eng_numeric_init(&a);
    eng_numeric_from_int64(&a, INT64_MIN);
    assert_string_equal(fmt(&a), "-9223372036854775808");
    eng_numeric_from_int64(&a, 0);
    assert_string_equal(fmt(&a), "0");
    eng_numeric_from_int64(&a, 100000000);
    assert_string_equal(fmt(&a), "100000000");
    eng_numeric_from_float8(&a, 0.1);
    assert_string_equal(fmt(&a), "0.1");
    eng_numeric_from_float8(&a, 1e20);
    assert_string_equal(fmt(&a), "100000000000000000000");
    eng_numeric_from_float8(&a, 1.5e-7);
    assert_string_equal(fmt(&a), "0.00000015");
    eng_numeric_from_float8(&a, 2.0 / 3.0);
    assert_string_equal(fmt(&a), "0.666666666666667");
    eng_numeric_from_float4(&a, 0.1f);
    assert_string_equal(fmt(&a), "0.1");
    eng_numeric_from_float8(&a, -1.0 / 0.0);
    assert_string_equal(fmt(&a), "-Infinity");

    double d;
    eng_err e;
    eng_err_clear(&e);
    num(&a, "0.1");
    assert_int_equal(eng_numeric_to_float8(&a, &d, &e), 0);
    assert_true(d == 0.1);
    num(&a, "1e400");
    assert_int_equal(eng_numeric_to_float8(&a, &d, &e), -1);
    assert_string_equal(e.sqlstate, "22003");
    eng_err_clear(&e);
    num(&a, "1e-400");
    assert_int_equal(eng_numeric_to_float8(&a, &d, &e), -1);
    eng_err_clear(&e);
    float f;
    num(&a, "1e39");
    assert_int_equal(eng_numeric_to_float4(&a, &f, &e), -1);
    assert_string_equal(e.message, "\"1000000000000000000000000000000000000000\" is out of range "
                                   "for type real");
    num(&a, "16777217");
    assert_int_equal(eng_numeric_to_float4(&a, &f, NULL), 0);
    assert_true(f == 16777216.0f);
    eng_numeric_free(&a);
}

static void
check_acc(eng_numeric_acc *acc, const char *sum, const char *avg)
{
    eng_numeric s;
    eng_numeric_init(&s);
    assert_int_equal(eng_numeric_acc_sum(acc, &s, NULL), 0);
    assert_string_equal(fmt(&s), sum);
    if (avg != NULL) {
        assert_int_equal(eng_numeric_acc_avg(acc, &s, NULL), 0);
        assert_string_equal(fmt(&s), avg);
    }
    eng_numeric_free(&s);
}

static void
test_accumulator(void **state)
{
    (void)state;
    eng_numeric_acc acc;
    eng_numeric_acc_init(&acc);
    eng_numeric a, b;
    eng_numeric_init(&a);
    eng_numeric_init(&b);
    check_acc(&acc, "0", NULL);
    num(&a, "1.5");
    num(&b, "2.25");
    eng_numeric_acc_add(&acc, &a, 1);
    eng_numeric_acc_add(&acc, &b, 1);
    check_acc(&acc, "3.75", "1.8750000000000000");
    /* retracting the value with the largest scale lowers the sum's scale */
    eng_numeric_acc_add(&acc, &b, -1);
    check_acc(&acc, "1.5", "1.50000000000000000000");
    /* multiplicities, including a large one multiplied out exactly */
    eng_numeric_acc_add(&acc, &b, 3);
    check_acc(&acc, "8.25", "2.0625000000000000");
    num(&a, "-0.001");
    eng_numeric_acc_add(&acc, &a, 5000000000LL);
    check_acc(&acc, "-4999991.750", NULL);
    eng_numeric_acc_add(&acc, &a, -5000000000LL);
    check_acc(&acc, "8.25", NULL);
    /* specials */
    num(&a, "Infinity");
    eng_numeric_acc_add(&acc, &a, 1);
    check_acc(&acc, "Infinity", "Infinity");
    num(&b, "-Infinity");
    eng_numeric_acc_add(&acc, &b, 1);
    check_acc(&acc, "NaN", "NaN");
    eng_numeric_acc_add(&acc, &a, -1);
    eng_numeric_acc_add(&acc, &b, -1);
    check_acc(&acc, "8.25", NULL);
    eng_numeric_acc_free(&acc);

    /* many values of mixed magnitude, against a plain running sum */
    uint64_t seed = 99;
    rng = seed;
    eng_numeric_acc_init(&acc);
    eng_numeric run, t;
    eng_numeric_init(&run);
    eng_numeric_init(&t);
    char s[80];
    for (int i = 0; i < 20000; i++) {
        random_literal(s, sizeof s, 30);
        num(&a, s);
        int64_t diff = (rnd() % 4 == 0) ? -1 : 1 + (int64_t)(rnd() % 3);
        eng_numeric_acc_add(&acc, &a, diff);
        eng_numeric_from_int64(&b, diff);
        assert_int_equal(eng_numeric_mul(&a, &b, &t, NULL), 0);
        assert_int_equal(eng_numeric_add(&run, &t, &run, NULL), 0);
    }
    eng_numeric sum;
    eng_numeric_init(&sum);
    assert_int_equal(eng_numeric_acc_sum(&acc, &sum, NULL), 0);
    if (eng_numeric_cmp(&sum, &run) != 0)
        fail_msg("seed %" PRIu64 ": accumulator %s differs from running sum", seed, fmt(&sum));
    /* a sum past the format's limits is an error, not a crash */
    eng_numeric_acc big;
    eng_numeric_acc_init(&big);
    num(&a, "9e131071");
    eng_numeric_acc_add(&big, &a, INT64_MAX);
    eng_err e;
    eng_err_clear(&e);
    assert_int_equal(eng_numeric_acc_sum(&big, &t, &e), -1);
    assert_string_equal(e.sqlstate, "22003");
    eng_numeric_acc_add(&big, &a, -INT64_MAX);
    assert_int_equal(eng_numeric_acc_sum(&big, &t, NULL), 0);
    assert_true(eng_numeric_is_zero(&t));
    eng_numeric_acc_free(&big);
    eng_numeric_acc_add_int64(&acc, INT64_MAX, 3);
    eng_numeric_acc_add_int64(&acc, INT64_MAX, -3);
    assert_int_equal(eng_numeric_acc_sum(&acc, &t, NULL), 0);
    assert_int_equal(eng_numeric_cmp(&t, &sum), 0);
    eng_numeric_free(&sum);
    eng_numeric_free(&run);
    eng_numeric_free(&t);
    eng_numeric_acc_free(&acc);
    eng_numeric_free(&a);
    eng_numeric_free(&b);
}

static void
test_aliasing_and_neg(void **state)
{
    (void)state;
    eng_numeric a;
    eng_numeric_init(&a);
    num(&a, "12345678901234567890123456789012345678901234567890123456789012345678901234567890123456"
            "7890.5");
    assert_int_equal(eng_numeric_mul(&a, &a, &a, NULL), 0);
    assert_int_equal(eng_numeric_add(&a, &a, &a, NULL), 0);
    assert_int_equal(eng_numeric_sub(&a, &a, &a, NULL), 0);
    assert_string_equal(fmt(&a), "0.00");
    num(&a, "5");
    eng_numeric_neg(&a);
    assert_string_equal(fmt(&a), "-5");
    eng_numeric_abs(&a);
    assert_string_equal(fmt(&a), "5");
    num(&a, "0");
    eng_numeric_neg(&a);
    assert_int_equal(a.sign, ENG_NUMERIC_POS);
    num(&a, "Infinity");
    eng_numeric_neg(&a);
    assert_string_equal(fmt(&a), "-Infinity");
    eng_numeric_free(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_encoding_canonical),
        cmocka_unit_test(test_add_sub),
        cmocka_unit_test(test_mul),
        cmocka_unit_test(test_div),
        cmocka_unit_test(test_random_identities),
        cmocka_unit_test(test_random_roundtrip),
        cmocka_unit_test(test_cmp),
        cmocka_unit_test(test_round),
        cmocka_unit_test(test_typmod),
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_accumulator),
        cmocka_unit_test(test_aliasing_and_neg),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    eng_strbuf_free(&sb);
    return rc;
}
