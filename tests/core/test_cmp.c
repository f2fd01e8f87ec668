/* Unit tests: datum ordering (engine/core/cmp.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/eng_cmp.h"
#include "engine/core/eng_text.h"

/* Parses each value (in ascending PostgreSQL order) into one row, then
 * checks every pair compares as its position says; values joined by '='
 * in the list must compare equal. */
static void
check_order(const char *typname, const char *const *vals, size_t n)
{
    eng_type t;
    assert_int_equal(eng_type_parse(typname, strlen(typname), &t, NULL), 0);
    eng_rowbuf rb = {0};
    int rank[64];
    int r = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(vals[i], "=") == 0) {
            r--; /* next value ties with the previous one */
            continue;
        }
        eng_err e;
        eng_err_clear(&e);
        if (eng_text_parse(&t, vals[i], strlen(vals[i]), &rb, &e) != 0)
            fail_msg("%s '%s': %s", typname, vals[i], e.message);
        rank[k++] = r++;
    }
    eng_row row = eng_rowbuf_row(&rb);
    uint32_t pa = 0;
    for (size_t i = 0; i < k; i++) {
        eng_datum a = eng_row_next(row, &pa);
        uint32_t pb = 0;
        for (size_t j = 0; j < k; j++) {
            eng_datum b = eng_row_next(row, &pb);
            int want = (rank[i] > rank[j]) - (rank[i] < rank[j]);
            int got = eng_datum_cmp_typed(&t, a, b);
            got = (got > 0) - (got < 0);
            if (got != want)
                fail_msg("%s: cmp(#%zu, #%zu) = %d, want %d", typname, i, j, got, want);
        }
    }
    eng_rowbuf_free(&rb);
}

#define ORDER(t, ...)                                                                              \
    do {                                                                                           \
        static const char *const v[] = {__VA_ARGS__};                                              \
        check_order(t, v, sizeof v / sizeof v[0]);                                                 \
    } while (0)

static void
test_orders(void **state)
{
    (void)state;
    ORDER("bool", "f", "t");
    ORDER("int2", "-32768", "-1", "0", "1", "32767");
    ORDER("int8", "-9223372036854775808", "-1", "0", "9223372036854775807");
    ORDER("float8", "-Infinity", "-1e300", "-1", "0", "=", "-0", "5e-324", "1", "Infinity", "NaN");
    ORDER("float4", "-Infinity", "-1", "0", "1e-45", "3.4e38", "Infinity", "NaN");
    ORDER("numeric", "-Infinity", "-1e100", "-1.5", "0", "=", "0.000", "1", "=", "1.00",
          "1.0000001", "1e100", "Infinity", "NaN", "=", "nan");
    ORDER("text", "", "A", "B", "a", "ab", "b", "é");
    ORDER("bytea", "\\x", "\\x00", "\\x0000", "\\x01", "\\xff");
    ORDER("char(4)", "a", "=", "a  ", "ab", "b");
    ORDER("date", "-infinity", "4714-11-24 BC", "0001-01-01 BC", "2000-01-01", "infinity");
    ORDER("time", "00:00", "00:00:00.000001", "12:00", "24:00");
    ORDER("timestamp", "-infinity", "0001-01-01 00:00 BC", "2024-01-02 03:04:05",
          "2024-01-02 03:04:05.000001", "infinity");
    ORDER("timestamptz", "2024-01-02 03:00:00+01", "=", "2024-01-02 02:00:00+00",
          "2024-01-02 02:30:00Z");
    ORDER("interval", "-1 year", "-1 day", "00:00", "1 second", "29 days", "1 mon", "=", "30 days",
          "=", "720 hours", "1 year", "178000000 years");
    ORDER("uuid", "00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000001",
          "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

static void
test_mixed_and_null(void **state)
{
    (void)state;
    eng_rowbuf rb = {0};
    eng_push_int2(&rb, 5);
    eng_push_int8(&rb, 5);
    eng_push_int4(&rb, 6);
    eng_push_null(&rb);
    eng_push_float4(&rb, 1.5f);
    eng_push_float8(&rb, 1.5);
    eng_row row = eng_rowbuf_row(&rb);
    uint32_t p = 0;
    eng_datum i2 = eng_row_next(row, &p), i8 = eng_row_next(row, &p), i4 = eng_row_next(row, &p);
    eng_datum nul = eng_row_next(row, &p), f4 = eng_row_next(row, &p), f8 = eng_row_next(row, &p);
    assert_int_equal(eng_datum_cmp(i2, i8), 0);
    assert_true(eng_datum_cmp(i8, i4) < 0);
    assert_true(eng_datum_cmp(i4, i2) > 0);
    assert_true(eng_datum_cmp(nul, i4) > 0); /* NULLs last */
    assert_true(eng_datum_cmp(i4, nul) < 0);
    assert_int_equal(eng_datum_cmp(nul, nul), 0);
    assert_int_equal(eng_datum_cmp(f4, f8), 0);
    /* unrelated tags still give a total order */
    assert_int_equal(eng_datum_cmp(i4, f8), -eng_datum_cmp(f8, i4));
    assert_true(eng_datum_cmp(i4, f8) != 0);
    eng_rowbuf_free(&rb);
}

static void
test_row_cmp(void **state)
{
    (void)state;
    eng_rowbuf a = {0}, b = {0};
    eng_push_int4(&a, 1);
    eng_push_text(&a, "b", 1);
    eng_push_int4(&b, 1);
    eng_push_text(&b, "a", 1);
    assert_true(eng_row_cmp(eng_rowbuf_row(&a), eng_rowbuf_row(&b)) > 0);
    eng_rowbuf_reset(&b);
    eng_push_int4(&b, 1);
    assert_true(eng_row_cmp(eng_rowbuf_row(&a), eng_rowbuf_row(&b)) > 0); /* longer is later */
    assert_true(eng_row_cmp(eng_rowbuf_row(&b), eng_rowbuf_row(&a)) < 0);
    eng_push_text(&b, "b", 1);
    assert_int_equal(eng_row_cmp(eng_rowbuf_row(&a), eng_rowbuf_row(&b)), 0);
    eng_rowbuf_free(&a);
    eng_rowbuf_free(&b);
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

static eng_row sort_row;

static int
by_cmp(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return eng_datum_cmp(eng_row_next(sort_row, &a), eng_row_next(sort_row, &b));
}

/* Random numerics and floats: the order agrees with the numeric value
 * (compared as long double for floats, by subtraction for numerics) and
 * is antisymmetric and transitive (a sort is consistent). */
static void
test_random_consistency(void **state)
{
    (void)state;
    uint64_t seed = 1234;
    rng = seed;
    eng_rowbuf rb = {0};
    uint32_t offs[400];
    eng_type nt = eng_type_make(ENG_TYPE_NUMERIC, -1);
    for (int i = 0; i < 400; i++) {
        offs[i] = rb.len;
        if (i % 2) {
            uint64_t bits = rnd();
            double d;
            memcpy(&d, &bits, 8);
            eng_push_float8(&rb, d);
        } else {
            char s[64];
            snprintf(s, sizeof s, "%s%" PRIu64 ".%" PRIu64 "e%d", rnd() % 2 ? "-" : "",
                     rnd() % 100000, rnd() % 1000, (int)(rnd() % 20) - 10);
            assert_int_equal(eng_text_parse(&nt, s, strlen(s), &rb, NULL), 0);
        }
    }
    sort_row = eng_rowbuf_row(&rb);
    for (int i = 0; i < 400; i++)
        for (int j = 0; j < 400; j++) {
            uint32_t a = offs[i], b = offs[j];
            int c1 = eng_datum_cmp(eng_row_next(sort_row, &a), eng_row_next(sort_row, &b));
            a = offs[i];
            b = offs[j];
            int c2 = eng_datum_cmp(eng_row_next(sort_row, &b), eng_row_next(sort_row, &a));
            if ((c1 > 0) - (c1 < 0) != -((c2 > 0) - (c2 < 0)))
                fail_msg("seed %" PRIu64 ": not antisymmetric at %d,%d", seed, i, j);
        }
    qsort(offs, 400, sizeof offs[0], by_cmp);
    for (int i = 1; i < 400; i++) {
        uint32_t a = offs[i - 1], b = offs[i];
        eng_datum x = eng_row_next(sort_row, &a), y = eng_row_next(sort_row, &b);
        if (eng_datum_cmp(x, y) > 0)
            fail_msg("seed %" PRIu64 ": sort not ordered at %d", seed, i);
        if (x.tag == ENG_TAG_FLOAT8 && y.tag == ENG_TAG_FLOAT8) {
            double dx, dy;
            memcpy(&dx, x.ptr, 8);
            memcpy(&dy, y.ptr, 8);
            assert_true(isnan(dy) || dx <= dy);
        }
    }
    eng_rowbuf_free(&rb);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orders),
        cmocka_unit_test(test_mixed_and_null),
        cmocka_unit_test(test_row_cmp),
        cmocka_unit_test(test_random_consistency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
