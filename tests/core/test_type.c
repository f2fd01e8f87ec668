/* Unit tests: type descriptors and the SQL type-name parser
 * (engine/core/type.c), and the string buffer they print into. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "engine/core/eng_row.h"
#include "engine/core/eng_type.h"

/* Parses name and checks format_type's text, the OID and the typmod. */
static void
check(const char *name, const char *want, uint32_t oid, int32_t typmod)
{
    eng_type t;
    eng_err e;
    eng_err_clear(&e);
    if (eng_type_parse(name, strlen(name), &t, &e) != 0)
        fail_msg("type \"%s\": %s", name, e.message);
    eng_strbuf b = {0};
    eng_type_format(&t, &b);
    if (strcmp(eng_strbuf_cstr(&b), want) != 0)
        fail_msg("type \"%s\" formats as \"%s\", want \"%s\"", name, eng_strbuf_cstr(&b), want);
    assert_int_equal(eng_type_oid(&t), oid);
    assert_int_equal(t.typmod, typmod);
    eng_strbuf_free(&b);
}

static void
check_error(const char *name, const char *sqlstate, const char *message)
{
    eng_type t;
    eng_err e;
    eng_err_clear(&e);
    if (eng_type_parse(name, strlen(name), &t, &e) == 0)
        fail_msg("type \"%s\" parsed, want error %s", name, sqlstate);
    assert_string_equal(e.sqlstate, sqlstate);
    if (message)
        assert_string_equal(e.message, message);
}

static void
test_aliases(void **state)
{
    (void)state;
    check("int", "integer", 23, -1);
    check("INTEGER", "integer", 23, -1);
    check("int4", "integer", 23, -1);
    check("pg_catalog.int4", "integer", 23, -1);
    check("smallint", "smallint", 21, -1);
    check("int2", "smallint", 21, -1);
    check("bigint", "bigint", 20, -1);
    check("int8", "bigint", 20, -1);
    check("real", "real", 700, -1);
    check("float4", "real", 700, -1);
    check("float(1)", "real", 700, -1);
    check("float(24)", "real", 700, -1);
    check("float(25)", "double precision", 701, -1);
    check("float", "double precision", 701, -1);
    check("double precision", "double precision", 701, -1);
    check("DOUBLE   PRECISION", "double precision", 701, -1);
    check("float8", "double precision", 701, -1);
    check("numeric", "numeric", 1700, -1);
    check("numeric(10,2)", "numeric(10,2)", 1700, (10 << 16 | 2) + 4);
    check("numeric(10)", "numeric(10,0)", 1700, (10 << 16) + 4);
    check("decimal(5, 3)", "numeric(5,3)", 1700, (5 << 16 | 3) + 4);
    check("dec", "numeric", 1700, -1);
    check("numeric(5,-2)", "numeric(5,-2)", 1700,
          (int32_t)((5u << 16 | (0x7ffu & (uint32_t)-2)) + 4));
    check("boolean", "boolean", 16, -1);
    check("bool", "boolean", 16, -1);
    check("text", "text", 25, -1);
    check("varchar", "character varying", 1043, -1);
    check("varchar(10)", "character varying(10)", 1043, 14);
    check("character varying(10)", "character varying(10)", 1043, 14);
    check("char varying", "character varying", 1043, -1);
    check("national character varying(3)", "character varying(3)", 1043, 7);
    check("char", "character(1)", 1042, 5);
    check("character", "character(1)", 1042, 5);
    check("char(5)", "character(5)", 1042, 9);
    check("nchar(2)", "character(2)", 1042, 6);
    check("bpchar", "bpchar", 1042, -1);
    check("bpchar(7)", "character(7)", 1042, 11);
    check("\"varchar\"(3)", "character varying(3)", 1043, 7);
    check("bytea", "bytea", 17, -1);
    check("date", "date", 1082, -1);
    check("time", "time without time zone", 1083, -1);
    check("time(3)", "time(3) without time zone", 1083, 3);
    check("time without time zone", "time without time zone", 1083, -1);
    check("timestamp", "timestamp without time zone", 1114, -1);
    check("timestamp(3)", "timestamp(3) without time zone", 1114, 3);
    check("timestamp with time zone", "timestamp with time zone", 1184, -1);
    check("timestamp(0) with time zone", "timestamp(0) with time zone", 1184, 0);
    check("timestamptz", "timestamp with time zone", 1184, -1);
    check("timestamptz(4)", "timestamp(4) with time zone", 1184, 4);
    check("timestamp(9)", "timestamp(6) without time zone", 1114, 6);
    check("interval", "interval", 1186, -1);
    check("interval(3)", "interval(3)", 1186, ENG_INTERVAL_TYPMOD(3, ENG_INTERVAL_FULL_RANGE));
    check("interval year", "interval year", 1186,
          ENG_INTERVAL_TYPMOD(ENG_INTERVAL_FULL_PRECISION, ENG_INTERVAL_YEAR));
    check("interval year to month", "interval year to month", 1186,
          ENG_INTERVAL_TYPMOD(ENG_INTERVAL_FULL_PRECISION, ENG_INTERVAL_YEAR | ENG_INTERVAL_MONTH));
    check("interval day to second(3)", "interval day to second(3)", 1186,
          ENG_INTERVAL_TYPMOD(3, ENG_INTERVAL_DAY | ENG_INTERVAL_HOUR | ENG_INTERVAL_MINUTE |
                                     ENG_INTERVAL_SECOND));
    check("interval minute to second", "interval minute to second", 1186,
          ENG_INTERVAL_TYPMOD(ENG_INTERVAL_FULL_PRECISION,
                              ENG_INTERVAL_MINUTE | ENG_INTERVAL_SECOND));
    check("interval second(2)", "interval second(2)", 1186,
          ENG_INTERVAL_TYPMOD(2, ENG_INTERVAL_SECOND));
    check("uuid", "uuid", 2950, -1);
    check("json", "json", 114, -1);
    check("jsonb", "jsonb", 3802, -1);
}

static void
test_errors(void **state)
{
    (void)state;
    check_error("foo", "42704", "type \"foo\" does not exist");
    check_error("\"int\"", "42704", "type \"int\" does not exist");
    check_error("double", "42704", "type \"double\" does not exist");
    check_error("", "42601", NULL);
    check_error("int(3)", "42601", NULL);
    check_error("int4(3)", "42601", "type modifier is not allowed for type \"int4\"");
    check_error("interval day(3)", "42601", NULL);
    check_error("interval month to year", "42601", NULL);
    check_error("numeric(0)", "22023", "NUMERIC precision 0 must be between 1 and 1000");
    check_error("numeric(1001)", "22023", "NUMERIC precision 1001 must be between 1 and 1000");
    check_error("numeric(5,1001)", "22023", "NUMERIC scale 1001 must be between -1000 and 1000");
    check_error("varchar(0)", "22023", "length for type varchar must be at least 1");
    check_error("char(0)", "22023", "length for type char must be at least 1");
    check_error("varchar(10485761)", "22023", "length for type varchar cannot exceed 10485760");
    check_error("float(0)", "22023", "precision for type float must be at least 1 bit");
    check_error("float(54)", "22023", "precision for type float must be less than 54 bits");
    check_error("int[]", "0A000", NULL);
    check_error("text array", "0A000", NULL);
    check_error("timetz", "0A000", NULL);
    check_error("time with time zone", "0A000", NULL);
    check_error("money", "0A000", NULL);
    check_error("varchar(3) x", "42601", NULL);
    check_error("\"unterminated", "42601", NULL);
    check_error("numeric(5,", "42601", NULL);
}

static void
test_descriptors(void **state)
{
    (void)state;
    eng_type t = eng_type_make(ENG_TYPE_BOOL, -1);
    assert_true(eng_type_tag_matches(&t, ENG_TAG_TRUE));
    assert_true(eng_type_tag_matches(&t, ENG_TAG_FALSE));
    assert_false(eng_type_tag_matches(&t, ENG_TAG_INT4));
    assert_int_equal(eng_type_typlen(&t), 1);
    t = eng_type_make(ENG_TYPE_JSONB, -1);
    assert_int_equal(eng_type_tag(&t), ENG_TAG_TEXT);
    assert_int_equal(eng_type_typlen(&t), -1);
    t = eng_type_make(ENG_TYPE_INTERVAL, -1);
    assert_int_equal(eng_type_typlen(&t), 16);
    assert_int_equal(eng_type_tag(&t), ENG_TAG_INTERVAL);
    /* OIDs map back; unknown upstream OIDs become "other", reported as text */
    for (int id = 0; id < ENG_TYPE_COUNT_; id++) {
        if (id == ENG_TYPE_OTHER)
            continue;
        eng_type x = eng_type_make((eng_typeid)id, -1);
        eng_type y = eng_type_from_oid(eng_type_oid(&x), 7);
        assert_int_equal(y.id, id);
        assert_int_equal(y.typmod, 7);
    }
    eng_type o = eng_type_from_oid(869 /* inet */, -1);
    assert_int_equal(o.id, ENG_TYPE_OTHER);
    assert_int_equal(eng_type_oid(&o), 25);
    assert_int_equal(eng_type_tag(&o), ENG_TAG_TEXT);
    assert_true(eng_type_is_string(ENG_TYPE_BPCHAR));
    assert_false(eng_type_is_string(ENG_TYPE_JSON));
    assert_string_equal(eng_type_name(ENG_TYPE_FLOAT8), "double precision");
    /* bpchar without a length prints as bpchar, with one as character(n) */
    eng_strbuf b = {0};
    t = eng_type_make(ENG_TYPE_BPCHAR, -1);
    eng_type_format(&t, &b);
    assert_string_equal(eng_strbuf_cstr(&b), "bpchar");
    eng_strbuf_free(&b);
}

static void
test_strbuf(void **state)
{
    (void)state;
    eng_strbuf b = {0};
    assert_string_equal(eng_strbuf_cstr(&b), "");
    eng_strbuf_puts(&b, "abc");
    eng_strbuf_putc(&b, '-');
    eng_strbuf_printf(&b, "%d/%s", 42, "x");
    assert_string_equal(eng_strbuf_cstr(&b), "abc-42/x");
    assert_int_equal(b.len, 8);
    char big[1000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    eng_strbuf_printf(&b, "%s", big);
    assert_int_equal(b.len, 8 + 999);
    assert_int_equal(b.data[b.len], '\0');
    eng_strbuf_truncate(&b, 3);
    assert_string_equal(eng_strbuf_cstr(&b), "abc");
    eng_strbuf_reset(&b);
    assert_string_equal(eng_strbuf_cstr(&b), "");
    eng_strbuf_free(&b);
    /* on caller storage until it outgrows it */
    char small[8];
    eng_strbuf_init_on(&b, small, sizeof small);
    eng_strbuf_puts(&b, "1234567");
    assert_ptr_equal(b.data, small);
    eng_strbuf_puts(&b, "89");
    assert_ptr_not_equal(b.data, small);
    assert_string_equal(eng_strbuf_cstr(&b), "123456789");
    eng_strbuf_free(&b);
    eng_strbuf_init_on(&b, small, sizeof small);
    eng_strbuf_putc(&b, 'x');
    eng_strbuf_free(&b); /* never grew: nothing to free */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_descriptors),
        cmocka_unit_test(test_strbuf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
