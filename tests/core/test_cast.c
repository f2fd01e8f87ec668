/* Unit tests: casts between types (engine/core/cast.c). Expected results
 * are PostgreSQL 15's for the same cast. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "engine/core/eng_cast.h"
#include "engine/core/eng_text.h"

static eng_strbuf sb;
static eng_rowbuf in_rb, out_rb;

static eng_type
ty(const char *name)
{
    eng_type t;
    eng_err e;
    eng_err_clear(&e);
    if (eng_type_parse(name, strlen(name), &t, &e) != 0)
        fail_msg("type %s: %s", name, e.message);
    return t;
}

/* 'val'::from::to in context ctx; want is the text, "<NULL>", or
 * "!SQLSTATE message". */
static void
check_ctx(const char *from, const char *to, eng_cast_context ctx, const char *val, const char *want)
{
    eng_type tf = ty(from), tt = ty(to);
    eng_err e;
    eng_err_clear(&e);
    eng_rowbuf_reset(&in_rb);
    if (eng_text_parse(&tf, val, strlen(val), &in_rb, &e) != 0)
        fail_msg("input %s '%s': %s", from, val, e.message);
    uint32_t pos = 0;
    eng_datum d = eng_row_next(eng_rowbuf_row(&in_rb), &pos);
    eng_rowbuf_reset(&out_rb);
    int rc = eng_cast_ctx(&tf, &tt, ctx, d, &out_rb, &e);
    if (want[0] == '!') {
        if (rc == 0)
            fail_msg("'%s'::%s::%s succeeded, want %s", val, from, to, want);
        char got[700];
        snprintf(got, sizeof got, "!%s %s", e.sqlstate, e.message);
        if (strcmp(got, want) != 0)
            fail_msg("'%s'::%s::%s: %s, want %s", val, from, to, got, want);
        assert_int_equal(out_rb.len, 0);
        return;
    }
    if (rc != 0)
        fail_msg("'%s'::%s::%s: %s %s", val, from, to, e.sqlstate, e.message);
    pos = 0;
    eng_datum r = eng_row_next(eng_rowbuf_row(&out_rb), &pos);
    eng_strbuf_reset(&sb);
    if (r.tag == ENG_TAG_NULL)
        eng_strbuf_puts(&sb, "<NULL>");
    else {
        assert_true(eng_type_tag_matches(&tt, r.tag));
        eng_text_format(&tt, r, &sb);
    }
    if (strcmp(eng_strbuf_cstr(&sb), want) != 0)
        fail_msg("'%s'::%s::%s = \"%s\", want \"%s\"", val, from, to, eng_strbuf_cstr(&sb), want);
}

static void
check(const char *from, const char *to, const char *val, const char *want)
{
    check_ctx(from, to, ENG_CAST_EXPLICIT, val, want);
}

static void
test_numbers(void **state)
{
    (void)state;
    check("numeric", "int4", "0.5", "1");
    check("numeric", "int4", "-2.5", "-3");
    check("numeric", "int4", "2147483647.5", "!22003 integer out of range");
    check("numeric", "int2", "32767.5", "!22003 smallint out of range");
    check("numeric", "int8", "9223372036854775808", "!22003 bigint out of range");
    check("numeric", "int4", "NaN", "!0A000 cannot convert NaN to integer");
    check("numeric", "int8", "Infinity", "!0A000 cannot convert infinity to bigint");
    check("float8", "int4", "2.5", "2"); /* rint: half to even */
    check("float8", "int4", "3.5", "4");
    check("float8", "int4", "-2.5", "-2");
    check("float8", "int4", "NaN", "!22003 integer out of range");
    check("float8", "int4", "2147483647.4", "2147483647");
    check("float8", "int4", "2147483647.5", "!22003 integer out of range");
    check("float8", "int8", "-9.2233720368547758e18", "-9223372036854775808");
    check("float8", "int8", "9.2233720368547758e18", "!22003 bigint out of range");
    check("float4", "int2", "32767.4", "32767");
    check("float8", "float4", "1e300", "!22003 value out of range: overflow");
    check("float8", "float4", "1e-300", "!22003 value out of range: underflow");
    check("float8", "float4", "0.1", "0.1");
    check("float4", "float8", "0.1", "0.10000000149011612");
    check("float8", "numeric", "0.1", "0.1");
    check("float8", "numeric", "1e20", "100000000000000000000");
    check("float8", "numeric", "123456789012345678", "123456789012346000");
    check("float8", "numeric", "-inf", "-Infinity");
    check("float4", "numeric", "0.1", "0.1");
    check("numeric", "float8", "0.1", "0.1");
    check("numeric", "float4", "123456789.123", "1.2345679e+08");
    check("int8", "int4", "2147483648", "!22003 integer out of range");
    check("int8", "int2", "-32769", "!22003 smallint out of range");
    check("int4", "int2", "32767", "32767");
    check("int8", "float4", "16777217", "1.6777216e+07");
    check("int4", "numeric(3,1)", "100", "!22003 numeric field overflow");
    check("int4", "numeric(4,1)", "100", "100.0");
    check("numeric", "numeric(5,2)", "123.455", "123.46");
    check("int4", "bool", "0", "f");
    check("int4", "bool", "-5", "t");
    check("bool", "int4", "t", "1");
    check("int8", "bool", "1", "!42846 cannot cast type bigint to boolean");
    check("bool", "int2", "t", "!42846 cannot cast type boolean to smallint");
    check("numeric", "bool", "1", "!42846 cannot cast type numeric to boolean");
}

static void
test_strings(void **state)
{
    (void)state;
    check("bool", "text", "t", "true");
    check("bool", "varchar", "f", "false");
    check("bool", "char(2)", "t", "tr");
    check("int4", "char(3)", "12345", "123");
    check("int4", "varchar(2)", "12345", "12");
    check("char(5)", "text", "ab", "ab");
    check("char(5)", "varchar", "ab", "ab");
    check("text", "char(5)", "ab", "ab   ");
    check("text", "varchar(2)", "abcdef", "ab");
    check("text", "int4", "  12  ", "12");
    check("text", "int4", "x", "!22P02 invalid input syntax for type integer: \"x\"");
    check("text", "numeric(5,2)", "1.005", "1.01");
    check("text", "bytea", "\\x0102", "\\x0102");
    check("bytea", "text", "abc", "\\x616263");
    check("text", "uuid", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
          "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    check("float8", "text", "0.1", "0.1");
    check("float4", "varchar(3)", "0.1", "0.1");
    check("numeric", "char(6)", "1.5", "1.5   ");
    check("timestamptz", "text", "2024-01-02 03:04:05+05", "2024-01-01 22:04:05+00");
    check("interval", "text", "1 day", "1 day");
    check("jsonb", "text", "{\"a\" : 1}", "{\"a\": 1}");
    check("json", "text", "{\"a\" : 1}", "{\"a\" : 1}");
    /* assignment: too long is an error, excess spaces are fine */
    check_ctx("text", "varchar(2)", ENG_CAST_ASSIGNMENT, "abc",
              "!22001 value too long for type character varying(2)");
    check_ctx("text", "varchar(2)", ENG_CAST_ASSIGNMENT, "ab  ", "ab");
    check_ctx("text", "char(2)", ENG_CAST_ASSIGNMENT, "abc",
              "!22001 value too long for type character(2)");
    check_ctx("int4", "text", ENG_CAST_ASSIGNMENT, "5", "5");
    /* text -> other types only explicitly */
    check_ctx("text", "int4", ENG_CAST_ASSIGNMENT, "5", "!42846 cannot cast type text to integer");
    check_ctx("int4", "text", ENG_CAST_IMPLICIT, "5", "!42846 cannot cast type integer to text");
    check_ctx("varchar", "text", ENG_CAST_IMPLICIT, "x", "x");
}

static void
test_datetimes_json(void **state)
{
    (void)state;
    check("date", "timestamp", "2024-01-02", "2024-01-02 00:00:00");
    check("date", "timestamptz", "2024-01-02", "2024-01-02 00:00:00+00");
    check("date", "timestamp", "294277-01-01", "!22008 date out of range for timestamp");
    check("date", "timestamp", "infinity", "infinity");
    check("timestamp", "date", "2024-01-02 23:59:59", "2024-01-02");
    check("timestamp", "date", "0001-01-01 00:00:00 BC", "0001-01-01 BC");
    check("timestamptz", "date", "2024-01-02 23:59:59+02", "2024-01-02");
    check("timestamp", "timestamptz", "2024-01-02 03:04:05", "2024-01-02 03:04:05+00");
    check("timestamptz", "timestamp", "2024-01-02 03:04:05-07", "2024-01-02 10:04:05");
    check("timestamp", "time", "2024-01-02 03:04:05.5", "03:04:05.5");
    check("timestamp", "time", "infinity", "<NULL>");
    check("time", "interval", "10:00", "10:00:00");
    check("interval", "time", "-1 hours", "23:00:00");
    check("interval", "time", "25 hours", "01:00:00");
    check("timestamp", "timestamp(2)", "2024-01-02 03:04:05.555555", "2024-01-02 03:04:05.56");
    check("time", "time(0)", "23:59:59.5", "24:00:00");
    check("interval", "interval(1)", "1 year 2.55 sec", "1 year 00:00:02.6");
    check("interval", "interval day to hour", "1 year 2 days 03:04", "1 year 2 days 03:00:00");
    check("int4", "date", "5", "!42846 cannot cast type integer to date");
    check("time", "timestamp", "10:00",
          "!42846 cannot cast type time without time zone to "
          "timestamp without time zone");
    check("json", "jsonb", "{\"b\":1, \"a\":[1,2]}", "{\"a\": [1, 2], \"b\": 1}");
    check("jsonb", "json", "{\"b\":1, \"a\":2}", "{\"a\": 2, \"b\": 1}");
    check("jsonb", "int4", "1.5", "2");
    check("jsonb", "numeric", "1e2", "100");
    check("jsonb", "bool", "true", "t");
    check("jsonb", "float8", "1.5", "1.5");
    check("jsonb", "int4", "\"a\"", "!22023 cannot cast jsonb string to type integer");
    check("jsonb", "int4", "null", "!22023 cannot cast jsonb null to type integer");
    check("jsonb", "bool", "1", "!22023 cannot cast jsonb numeric to type boolean");
    check("jsonb", "int2", "[1]", "!22023 cannot cast jsonb array to type smallint");
    check("json", "int4", "1", "!42846 cannot cast type json to integer");
    check("uuid", "bytea", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
          "!42846 cannot cast type uuid to bytea");
}

static void
test_lookup_and_null(void **state)
{
    (void)state;
    assert_int_equal(eng_cast_lookup(ENG_TYPE_INT2, ENG_TYPE_INT8), ENG_CAST_IMPLICIT);
    assert_int_equal(eng_cast_lookup(ENG_TYPE_INT8, ENG_TYPE_INT2), ENG_CAST_ASSIGNMENT);
    assert_int_equal(eng_cast_lookup(ENG_TYPE_NUMERIC, ENG_TYPE_FLOAT8), ENG_CAST_IMPLICIT);
    assert_int_equal(eng_cast_lookup(ENG_TYPE_FLOAT8, ENG_TYPE_NUMERIC), ENG_CAST_ASSIGNMENT);
    assert_int_equal(eng_cast_lookup(ENG_TYPE_INT4, ENG_TYPE_BOOL), ENG_CAST_EXPLICIT);
    assert_int_equal(eng_cast_lookup(ENG_TYPE_DATE, ENG_TYPE_TIMESTAMPTZ), ENG_CAST_IMPLICIT);
    assert_int_equal(eng_cast_lookup(ENG_TYPE_TIMESTAMPTZ, ENG_TYPE_TIMESTAMP),
                     ENG_CAST_ASSIGNMENT);
    assert_int_equal(eng_cast_lookup(ENG_TYPE_UUID, ENG_TYPE_TEXT), ENG_CAST_ASSIGNMENT);
    assert_int_equal(eng_cast_lookup(ENG_TYPE_TEXT, ENG_TYPE_UUID), ENG_CAST_EXPLICIT);
    assert_int_equal(eng_cast_lookup(ENG_TYPE_UNKNOWN, ENG_TYPE_UUID), ENG_CAST_IMPLICIT);
    assert_int_equal(eng_cast_lookup(ENG_TYPE_BYTEA, ENG_TYPE_UUID), -1);
    assert_int_equal(eng_cast_lookup(ENG_TYPE_INT8, ENG_TYPE_BOOL), -1);
    /* every pair gives a definite answer and same-type casts are implicit */
    for (int a = 0; a < ENG_TYPE_COUNT_; a++) {
        assert_int_equal(eng_cast_lookup((eng_typeid)a, (eng_typeid)a), ENG_CAST_IMPLICIT);
        for (int b = 0; b < ENG_TYPE_COUNT_; b++) {
            int c = eng_cast_lookup((eng_typeid)a, (eng_typeid)b);
            assert_true(c >= -1 && c <= ENG_CAST_EXPLICIT);
        }
    }
    /* NULL casts to NULL, even where the cast would not exist */
    eng_type a = ty("int4"), b = ty("text");
    eng_rowbuf_reset(&out_rb);
    eng_datum null = {ENG_TAG_NULL, 0, NULL};
    assert_int_equal(eng_cast(&a, &b, null, &out_rb, NULL), 0);
    assert_int_equal(out_rb.len, 1);
    assert_int_equal(out_rb.data[0], ENG_TAG_NULL);
    /* unknown literals parse through the target's input function */
    eng_type unk = eng_type_make(ENG_TYPE_UNKNOWN, -1), iv = ty("interval year");
    eng_datum lit = {ENG_TAG_TEXT, 1, (const uint8_t *)"1"};
    eng_rowbuf_reset(&out_rb);
    assert_int_equal(eng_cast(&unk, &iv, lit, &out_rb, NULL), 0);
    uint32_t pos = 0;
    eng_strbuf_reset(&sb);
    eng_text_format(&iv, eng_row_next(eng_rowbuf_row(&out_rb), &pos), &sb);
    assert_string_equal(eng_strbuf_cstr(&sb), "1 year");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_datetimes_json),
        cmocka_unit_test(test_lookup_and_null),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    eng_strbuf_free(&sb);
    eng_rowbuf_free(&in_rb);
    eng_rowbuf_free(&out_rb);
    return rc;
}
