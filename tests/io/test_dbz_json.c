/* Debezium JSON decoding: Debezium's documented PostgreSQL connector
 * messages (tests/io/dbz/, copied from the Debezium documentation) decode
 * to the expected rows and positions; every op, tombstones, a primary-key
 * change, REPLICA IDENTITY DEFAULT and FULL; every logical type with edge
 * values; bad input is an error naming the field; every truncation and
 * random byte corruptions of the samples are an error or a clean decode,
 * never a crash (the sanitizer builds check the "never"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/core/eng_text.h"
#include "io/io_dbz.h"

static char *
slurp(const char *name, size_t *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/io/dbz/%s", SLUICE_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)len + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    p[len] = '\0';
    *n = (size_t)len;
    return p;
}

/* "a|b|NULL": the datums of r formatted with the schema's column types. */
static const char *
fmt_row(const io_dbz_schema *s, const eng_rowbuf *b)
{
    static char out[4096];
    eng_strbuf sb = {0};
    eng_row r = eng_rowbuf_row(b);
    assert_true(eng_row_validate(r, s->ncols));
    uint32_t pos = 0;
    for (int i = 0; i < s->ncols; i++) {
        eng_datum d = eng_row_next(r, &pos);
        if (i)
            eng_strbuf_putc(&sb, '|');
        if (d.tag == ENG_TAG_NULL) {
            eng_strbuf_puts(&sb, "NULL");
        } else {
            assert_true(eng_type_tag_matches(&s->cols[i].type, d.tag));
            eng_text_format(&s->cols[i].type, d, &sb);
        }
    }
    snprintf(out, sizeof out, "%s", sb.data ? sb.data : "");
    eng_strbuf_free(&sb);
    return out;
}

static int
decode_str(const io_dbz_schema *s, const char *msg, io_dbz_change *c, eng_err *err)
{
    eng_err_clear(err);
    return io_dbz_decode(s, msg, strlen(msg), c, err);
}

static void
derive_sample(const char *name, io_dbz_schema *s)
{
    size_t n;
    char *p = slurp(name, &n);
    eng_err err;
    eng_err_clear(&err);
    int rc = io_dbz_schema_derive(p, n, s, &err);
    if (rc < 0)
        fail_msg("%s: %s", name, err.message);
    free(p);
}

static void
decode_sample(const io_dbz_schema *s, const char *name, io_dbz_change *c)
{
    size_t n;
    char *p = slurp(name, &n);
    eng_err err;
    eng_err_clear(&err);
    if (io_dbz_decode(s, p, n, c, &err) < 0)
        fail_msg("%s: %s", name, err.message);
    free(p);
}

static void
test_reference_samples(void **state)
{
    (void)state;
    io_dbz_schema s = {0}, ks = {0}, ts = {0};
    io_dbz_change c = {0};
    derive_sample("pg-create-event.value.json", &s);
    assert_int_equal(s.ncols, 4);
    assert_string_equal(s.cols[0].name, "id");
    assert_int_equal(s.cols[0].type.id, ENG_TYPE_INT4);
    assert_false(s.cols[0].nullable);
    assert_string_equal(s.cols[3].name, "email");
    assert_int_equal(s.cols[3].type.id, ENG_TYPE_TEXT);

    decode_sample(&s, "pg-create-event.value.json", &c);
    assert_int_equal(c.op, 'c');
    assert_false(c.has_before);
    assert_true(c.has_after);
    assert_string_equal(fmt_row(&s, &c.after), "1|Anne|Kretchmar|annek@noanswer.org");
    assert_true(c.has_lsn && c.has_txid && c.has_source_ts && c.has_ts);
    assert_int_equal(c.lsn, 24023128);
    assert_int_equal(c.txid, 555);
    assert_int_equal(c.source_ts_ms, 1559033904863);
    assert_int_equal(c.ts_ms, 1559033904863);
    assert_false(c.has_txn);

    /* schemas.enable=false ("schema": null) decodes against the columns;
     * the documented update and delete carry only the key in before
     * (REPLICA IDENTITY DEFAULT) */
    decode_sample(&s, "pg-update-event.value.json", &c);
    assert_int_equal(c.op, 'u');
    assert_true(c.has_before && c.before_partial);
    assert_string_equal(fmt_row(&s, &c.before), "1|NULL|NULL|NULL");
    assert_string_equal(fmt_row(&s, &c.after), "1|Anne Marie|Kretchmar|annek@noanswer.org");
    assert_int_equal(c.txid, 556);
    assert_int_equal(c.ts_ms, 1465584025523);

    decode_sample(&s, "pg-delete-event.value.json", &c);
    assert_int_equal(c.op, 'd');
    assert_true(c.has_before && c.before_partial);
    assert_false(c.has_after);
    assert_string_equal(fmt_row(&s, &c.before), "1|NULL|NULL|NULL");
    assert_int_equal(c.lsn, 46523128);

    decode_sample(&s, "pg-truncate-event.value.json", &c);
    assert_int_equal(c.op, 't');
    assert_false(c.has_before || c.has_after);
    assert_int_equal(c.lsn, 46523128);
    assert_int_equal(c.ts_ms, 1559033904961);

    /* the key message gives the key columns and the key row */
    derive_sample("pg-key.json", &ks);
    assert_int_equal(ks.ncols, 1);
    assert_string_equal(ks.cols[0].name, "id");
    size_t n;
    char *key = slurp("pg-key.json", &n);
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(io_dbz_decode_key(&ks, key, n, &c, &err), 0);
    assert_true(c.has_key);
    assert_string_equal(fmt_row(&ks, &c.key), "1");
    free(key);
    /* a bare key (schemas.enable=false) */
    assert_int_equal(io_dbz_decode_key(&ks, "{\"id\": 7}", 9, &c, &err), 0);
    assert_string_equal(fmt_row(&ks, &c.key), "7");

    /* bare envelope with a transaction block; values and positions as strings */
    io_dbz_schema_add(&ts, "pk", eng_type_make(ENG_TYPE_TEXT, -1), IO_DBZ_STRING, false, 0);
    io_dbz_schema_add(&ts, "aa", eng_type_make(ENG_TYPE_INT4, -1), IO_DBZ_STRING, true, 0);
    decode_sample(&ts, "pg-event-with-transaction-field.value.json", &c);
    assert_int_equal(c.op, 'c');
    assert_string_equal(fmt_row(&ts, &c.after), "2|1");
    assert_false(c.has_lsn || c.has_txid);
    assert_true(c.has_ts);
    assert_int_equal(c.ts_ms, 1580390884335);
    assert_true(c.has_txn);
    assert_string_equal(c.txn_id, "571:53195832");
    assert_int_equal(c.txn_total_order, 1);
    assert_int_equal(c.txn_collection_order, 1);

    io_dbz_change_free(&c);
    io_dbz_schema_free(&s);
    io_dbz_schema_free(&ks);
    io_dbz_schema_free(&ts);
}

#define ACCT_SCHEMA                                                                                \
    "{\"type\":\"struct\",\"fields\":["                                                            \
    "{\"type\":\"struct\",\"optional\":true,\"field\":\"before\",\"fields\":["                     \
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"id\"},"                                    \
    "{\"type\":\"string\",\"optional\":true,\"field\":\"owner\"}]},"                               \
    "{\"type\":\"struct\",\"optional\":true,\"field\":\"after\",\"fields\":["                      \
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"id\"},"                                    \
    "{\"type\":\"string\",\"optional\":true,\"field\":\"owner\"}]},"                               \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"}]}"

static void
test_ops(void **state)
{
    (void)state;
    io_dbz_schema s = {0};
    io_dbz_change c = {0};
    eng_err err;
    eng_err_clear(&err);
    const char *read = "{\"schema\":" ACCT_SCHEMA ",\"payload\":{\"before\":null,\"after\":"
                       "{\"id\":1,\"owner\":null},\"source\":{\"lsn\":5,\"txId\":9},\"op\":\"r\"}}";
    assert_int_equal(io_dbz_schema_derive(read, strlen(read), &s, &err), 0);
    assert_int_equal(s.ncols, 2);
    assert_int_equal(s.cols[0].type.id, ENG_TYPE_INT8);
    assert_true(s.cols[1].nullable);
    assert_int_equal(decode_str(&s, read, &c, &err), 0);
    assert_int_equal(c.op, 'r');
    assert_string_equal(fmt_row(&s, &c.after), "1|NULL");

    /* REPLICA IDENTITY FULL: the whole old row */
    assert_int_equal(decode_str(&s,
                                "{\"before\":{\"id\":1,\"owner\":\"ann\"},\"after\":{\"id\":1,"
                                "\"owner\":\"bob\"},\"op\":\"u\"}",
                                &c, &err),
                     0);
    assert_true(c.has_before);
    assert_false(c.before_partial);
    assert_string_equal(fmt_row(&s, &c.before), "1|ann");
    assert_string_equal(fmt_row(&s, &c.after), "1|bob");
    /* REPLICA IDENTITY DEFAULT without key change: before is null */
    assert_int_equal(decode_str(&s,
                                "{\"before\":null,\"after\":{\"id\":1,\"owner\":\"x\"},"
                                "\"op\":\"u\"}",
                                &c, &err),
                     0);
    assert_false(c.has_before);
    assert_true(c.has_after);

    /* primary-key change 1 -> 2: delete, tombstone, create */
    assert_int_equal(decode_str(&s,
                                "{\"before\":{\"id\":1,\"owner\":\"x\"},\"after\":null,"
                                "\"op\":\"d\"}",
                                &c, &err),
                     0);
    assert_int_equal(c.op, 'd');
    assert_string_equal(fmt_row(&s, &c.before), "1|x");
    assert_false(c.has_after);
    assert_int_equal(io_dbz_decode(&s, NULL, 0, &c, &err), 0);
    assert_int_equal(c.op, 0);
    assert_false(c.has_before || c.has_after);
    assert_int_equal(decode_str(&s, "{\"schema\":null,\"payload\":null}", &c, &err), 0);
    assert_int_equal(c.op, 0);
    assert_int_equal(decode_str(&s,
                                "{\"before\":null,\"after\":{\"id\":2,\"owner\":\"x\"},"
                                "\"op\":\"c\"}",
                                &c, &err),
                     0);
    assert_int_equal(c.op, 'c');
    assert_string_equal(fmt_row(&s, &c.after), "2|x");
    assert_false(c.unknown_fields);

    /* REPLICA IDENTITY FULL delete: the whole old row */
    assert_int_equal(
        decode_str(&s, "{\"before\":{\"id\":2,\"owner\":\"x\"},\"op\":\"d\"}", &c, &err), 0);
    assert_false(c.before_partial);
    assert_string_equal(fmt_row(&s, &c.before), "2|x");

    /* a column added upstream is flagged, not lost silently */
    assert_int_equal(decode_str(&s,
                                "{\"after\":{\"id\":3,\"owner\":\"y\",\"age\":4},"
                                "\"op\":\"c\"}",
                                &c, &err),
                     0);
    assert_true(c.unknown_fields);
    assert_string_equal(fmt_row(&s, &c.after), "3|y");

    /* a logical decoding message: no rows */
    assert_int_equal(decode_str(&s,
                                "{\"op\":\"m\",\"source\":{\"lsn\":77},\"message\":"
                                "{\"prefix\":\"p\",\"content\":\"AA==\"}}",
                                &c, &err),
                     0);
    assert_int_equal(c.op, 'm');
    assert_false(c.has_before || c.has_after);
    assert_int_equal(c.lsn, 77);

    /* a key must match the key columns exactly */
    io_dbz_schema ks = {0};
    io_dbz_schema_add(&ks, "id", eng_type_make(ENG_TYPE_INT8, -1), IO_DBZ_INT64, false, 0);
    eng_err_clear(&err);
    assert_int_equal(io_dbz_decode_key(&ks, "{\"id\":1,\"x\":2}", 14, &c, &err), -1);
    assert_string_equal(err.sqlstate, "XX001");
    assert_false(c.has_key);
    eng_err_clear(&err);
    assert_int_equal(io_dbz_decode_key(&ks, "{\"id\":1}", 8, &c, &err), 0);
    assert_string_equal(fmt_row(&ks, &c.key), "1");
    io_dbz_schema_free(&ks);

    io_dbz_change_free(&c);
    io_dbz_schema_free(&s);
}

/* One field of every type with its value; expected text. */
static const struct {
    const char *schema;
    const char *value;
    const char *want;
} logical[] = {
    {"{\"type\":\"int8\",\"field\":\"f\"}", "-128", "-128"},
    {"{\"type\":\"int16\",\"field\":\"f\"}", "-32768", "-32768"},
    {"{\"type\":\"int32\",\"field\":\"f\"}", "2147483647", "2147483647"},
    {"{\"type\":\"int64\",\"field\":\"f\"}", "-9223372036854775808", "-9223372036854775808"},
    {"{\"type\":\"float32\",\"field\":\"f\"}", "1.5", "1.5"},
    {"{\"type\":\"float64\",\"field\":\"f\"}", "-2.5e300", "-2.5e+300"},
    {"{\"type\":\"float64\",\"field\":\"f\"}", "\"NaN\"", "NaN"},
    {"{\"type\":\"float64\",\"field\":\"f\"}", "3", "3"},
    {"{\"type\":\"boolean\",\"field\":\"f\"}", "true", "t"},
    {"{\"type\":\"string\",\"field\":\"f\"}", "\"h\\u00e9 \\\"q\\\"\"", "h\xc3\xa9 \"q\""},
    {"{\"type\":\"bytes\",\"field\":\"f\"}", "\"3q2+7w==\"", "\\xdeadbeef"},
    {"{\"type\":\"bytes\",\"field\":\"f\"}", "\"\"", "\\x"},
    {"{\"type\":\"int32\",\"name\":\"io.debezium.time.Date\",\"field\":\"f\"}", "-1", "1969-12-31"},
    {"{\"type\":\"int32\",\"name\":\"io.debezium.time.Date\",\"field\":\"f\"}", "-25567",
     "1900-01-01"},
    {"{\"type\":\"int32\",\"name\":\"io.debezium.time.Date\",\"field\":\"f\"}", "-2440588",
     "4714-11-24 BC"},
    {"{\"type\":\"int32\",\"name\":\"io.debezium.time.Date\",\"field\":\"f\"}", "2145042905",
     "5874897-12-31"},
    {"{\"type\":\"int32\",\"name\":\"org.apache.kafka.connect.data.Date\",\"field\":\"f\"}",
     "18000", "2019-04-14"},
    {"{\"type\":\"int32\",\"name\":\"io.debezium.time.Time\",\"field\":\"f\"}", "3723004",
     "01:02:03.004"},
    {"{\"type\":\"int32\",\"name\":\"org.apache.kafka.connect.data.Time\",\"field\":\"f\"}", "0",
     "00:00:00"},
    {"{\"type\":\"int64\",\"name\":\"io.debezium.time.MicroTime\",\"field\":\"f\"}", "86399999999",
     "23:59:59.999999"},
    {"{\"type\":\"int64\",\"name\":\"io.debezium.time.MicroTime\",\"field\":\"f\"}", "86400000000",
     "24:00:00"},
    {"{\"type\":\"int64\",\"name\":\"io.debezium.time.NanoTime\",\"field\":\"f\"}", "3723004005006",
     "01:02:03.004005"},
    {"{\"type\":\"int64\",\"name\":\"io.debezium.time.Timestamp\",\"field\":\"f\"}", "-1",
     "1969-12-31 23:59:59.999"},
    {"{\"type\":\"int64\",\"name\":\"org.apache.kafka.connect.data.Timestamp\",\"field\":\"f\"}",
     "0", "1970-01-01 00:00:00"},
    {"{\"type\":\"int64\",\"name\":\"io.debezium.time.MicroTimestamp\",\"field\":\"f\"}",
     "1559033904863123", "2019-05-28 08:58:24.863123"},
    {"{\"type\":\"int64\",\"name\":\"io.debezium.time.NanoTimestamp\",\"field\":\"f\"}", "-1",
     "1969-12-31 23:59:59.999999"},
    {"{\"type\":\"int64\",\"name\":\"io.debezium.time.NanoTimestamp\",\"field\":\"f\"}",
     "1559033904863123999", "2019-05-28 08:58:24.863123"},
    {"{\"type\":\"string\",\"name\":\"io.debezium.time.ZonedTimestamp\",\"field\":\"f\"}",
     "\"2019-05-28T08:58:24.863123Z\"", "2019-05-28 08:58:24.863123+00"},
    {"{\"type\":\"int64\",\"name\":\"io.debezium.time.MicroDuration\",\"field\":\"f\"}",
     "90061000001", "25:01:01.000001"},
    {"{\"type\":\"string\",\"name\":\"io.debezium.data.Json\",\"field\":\"f\"}",
     "\"{\\\"b\\\":1,\\\"a\\\":[1,2]}\"", "{\"a\": [1, 2], \"b\": 1}"},
    {"{\"type\":\"string\",\"name\":\"io.debezium.data.Uuid\",\"field\":\"f\"}",
     "\"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11\"", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
    {"{\"type\":\"string\",\"name\":\"io.debezium.data.Enum\",\"field\":\"f\"}", "\"red\"", "red"},
    {"{\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"parameters\":"
     "{\"scale\":\"2\",\"connect.decimal.precision\":\"7\"},\"field\":\"f\"}",
     "\"z8c=\"", "-123.45"},
    {"{\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"parameters\":"
     "{\"scale\":\"2\"},\"field\":\"f\"}",
     "\"+w==\"", "-0.05"},
    {"{\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"parameters\":"
     "{\"scale\":\"2\"},\"field\":\"f\"}",
     "\"BQ==\"", "0.05"},
    {"{\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"parameters\":"
     "{\"scale\":\"4\"},\"field\":\"f\"}",
     "\"/8AAAAAAAAAAAA==\"", "-118059162071741130.3424"},
    {"{\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"parameters\":"
     "{\"scale\":\"0\"},\"field\":\"f\"}",
     "\"AEAAAAAAAAAAAA==\"", "1180591620717411303424"},
    {"{\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"parameters\":"
     "{\"scale\":\"0\"},\"field\":\"f\"}",
     "\"\"", "0"},
    {"{\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"parameters\":"
     "{\"scale\":-2},\"field\":\"f\"}",
     "\"+w==\"", "-500"},
    {"{\"type\":\"struct\",\"name\":\"io.debezium.data.VariableScaleDecimal\",\"field\":\"f\","
     "\"fields\":[{\"type\":\"int32\",\"field\":\"scale\"},{\"type\":\"bytes\",\"field\":"
     "\"value\"}]}",
     "{\"scale\":3,\"value\":\"/w==\"}", "-0.001"},
    {"{\"type\":\"struct\",\"name\":\"io.debezium.data.VariableScaleDecimal\",\"field\":\"f\","
     "\"fields\":[{\"type\":\"int32\",\"field\":\"scale\"},{\"type\":\"bytes\",\"field\":"
     "\"value\"}]}",
     "{\"scale\":0,\"value\":\"z8c=\"}", "-12345"},
    {"{\"type\":\"string\",\"optional\":true,\"field\":\"f\"}", "null", "NULL"},
};

static int
one_field(const char *fschema, const char *value, io_dbz_schema *s, io_dbz_change *c, eng_err *err)
{
    char msg[2048];
    snprintf(msg, sizeof msg,
             "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"field\":"
             "\"after\",\"optional\":true,\"fields\":[%s]}]},\"payload\":{\"after\":{\"f\":%s},"
             "\"op\":\"c\"}}",
             fschema, value);
    eng_err_clear(err);
    io_dbz_schema_free(s);
    if (io_dbz_schema_derive(msg, strlen(msg), s, err) < 0)
        return -1;
    return io_dbz_decode(s, msg, strlen(msg), c, err);
}

static void
test_logical_types(void **state)
{
    (void)state;
    io_dbz_schema s = {0};
    io_dbz_change c = {0};
    eng_err err;
    for (size_t i = 0; i < sizeof logical / sizeof logical[0]; i++) {
        if (one_field(logical[i].schema, logical[i].value, &s, &c, &err) < 0)
            fail_msg("%s = %s: %s", logical[i].schema, logical[i].value, err.message);
        const char *got = fmt_row(&s, &c.after);
        if (strcmp(got, logical[i].want) != 0)
            fail_msg("%s = %s: got %s, want %s", logical[i].schema, logical[i].value, got,
                     logical[i].want);
    }
    /* the decimal's precision becomes numeric(p,s) */
    assert_int_equal(one_field("{\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data."
                               "Decimal\",\"parameters\":{\"scale\":\"2\",\"connect.decimal."
                               "precision\":\"7\"},\"field\":\"f\"}",
                               "\"z8c=\"", &s, &c, &err),
                     0);
    assert_int_equal(s.cols[0].type.id, ENG_TYPE_NUMERIC);
    assert_int_equal(s.cols[0].type.typmod, ((7 << 16) | 2) + 4);
    io_dbz_change_free(&c);
    io_dbz_schema_free(&s);
}

static const struct {
    const char *schema;
    const char *value;
    const char *sqlstate;
    const char *needle; /* in the message */
} bad[] = {
    {"{\"type\":\"int16\",\"field\":\"f\"}", "32768", "22003", "after.f"},
    {"{\"type\":\"int32\",\"field\":\"f\"}", "1.5", "22P02", "after.f"},
    {"{\"type\":\"int32\",\"field\":\"f\"}", "\"1\"", "22P02", "after.f"},
    {"{\"type\":\"boolean\",\"field\":\"f\"}", "1", "22P02", "after.f"},
    {"{\"type\":\"string\",\"field\":\"f\"}", "5", "22P02", "after.f"},
    {"{\"type\":\"float32\",\"field\":\"f\"}", "1e300", "22003", "after.f"},
    {"{\"type\":\"bytes\",\"field\":\"f\"}", "\"abc\"", "22P02", "after.f"},
    {"{\"type\":\"bytes\",\"field\":\"f\"}", "\"a=bc\"", "22P02", "after.f"},
    {"{\"type\":\"int32\",\"name\":\"io.debezium.time.Date\",\"field\":\"f\"}", "-2440589", "22003",
     "after.f"},
    {"{\"type\":\"int32\",\"name\":\"io.debezium.time.Date\",\"field\":\"f\"}", "2145042906",
     "22003", "after.f"},
    {"{\"type\":\"int64\",\"name\":\"io.debezium.time.MicroTime\",\"field\":\"f\"}", "-1", "22003",
     "after.f"},
    {"{\"type\":\"int64\",\"name\":\"io.debezium.time.Timestamp\",\"field\":\"f\"}",
     "9223372036854775807", "22008", "after.f"},
    {"{\"type\":\"int64\",\"name\":\"io.debezium.time.MicroTimestamp\",\"field\":\"f\"}",
     "-9223372036854775808", "22008", "after.f"},
    {"{\"type\":\"string\",\"name\":\"io.debezium.data.Uuid\",\"field\":\"f\"}", "\"nope\"",
     "22P02", "after.f"},
    {"{\"type\":\"string\",\"name\":\"io.debezium.data.Json\",\"field\":\"f\"}", "\"{\"", "22P02",
     "after.f"},
    {"{\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"parameters\":"
     "{\"scale\":\"2\",\"connect.decimal.precision\":\"3\"},\"field\":\"f\"}",
     "\"z8c=\"", "22003", "after.f"},
    {"{\"type\":\"struct\",\"name\":\"io.debezium.data.VariableScaleDecimal\",\"field\":\"f\","
     "\"fields\":[]}",
     "{\"scale\":\"x\",\"value\":\"/w==\"}", "22P02", "after.f"},
    {"{\"type\":\"int32\",\"field\":\"f\"}", "null", "XX001", "after.f"},
    {"{\"type\":\"struct\",\"field\":\"f\",\"fields\":[]}", "{}", "0A000", "\"f\""},
    {"{\"type\":\"array\",\"field\":\"f\",\"items\":{\"type\":\"int32\"}}", "[]", "0A000", "\"f\""},
    {"{\"type\":\"map\",\"field\":\"f\"}", "{}", "0A000", "\"f\""},
    {"{\"type\":\"string\",\"name\":\"io.debezium.time.Date\",\"field\":\"f\"}", "\"x\"", "0A000",
     "\"f\""},
    {"{\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"field\":\"f\"}",
     "\"AA==\"", "XX001", "\"f\""},
};

static void
test_bad_input(void **state)
{
    (void)state;
    io_dbz_schema s = {0};
    io_dbz_change c = {0};
    eng_err err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (one_field(bad[i].schema, bad[i].value, &s, &c, &err) == 0)
            fail_msg("%s = %s decoded", bad[i].schema, bad[i].value);
        if (strcmp(err.sqlstate, bad[i].sqlstate) != 0 || !strstr(err.message, bad[i].needle))
            fail_msg("%s = %s: got %s %s", bad[i].schema, bad[i].value, err.sqlstate, err.message);
    }
    /* the envelope */
    io_dbz_schema_free(&s);
    io_dbz_schema_add(&s, "id", eng_type_make(ENG_TYPE_INT4, -1), IO_DBZ_INT32, false, 0);
    static const struct {
        const char *msg, *sqlstate, *needle;
    } env[] = {
        {"{\"op\":\"c\",", "22P02", "invalid JSON"},
        {"[1]", "XX001", "payload"},
        {"{\"after\":{\"id\":1}}", "XX001", "op"},
        {"{\"op\":\"x\",\"after\":{\"id\":1}}", "XX001", "unknown op"},
        {"{\"op\":\"c\",\"after\":null}", "XX001", "after"},
        {"{\"op\":\"c\",\"after\":{}}", "XX001", "after.id"},
        {"{\"op\":\"c\",\"after\":[]}", "XX001", "after"},
        {"{\"op\":\"c\",\"after\":{\"id\":1},\"source\":{\"lsn\":\"x\"}}", "XX001", "source.lsn"},
        {"{\"op\":\"c\",\"after\":{\"id\":1},\"source\":3}", "XX001", "source"},
        {"{\"op\":\"c\",\"after\":{\"id\":1},\"transaction\":{\"total_order\":1}}", "XX001",
         "transaction"},
        {"{\"op\":\"c\",\"op\":\"d\"}", "22P02", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++) {
        if (decode_str(&s, env[i].msg, &c, &err) == 0)
            fail_msg("%s decoded", env[i].msg);
        if (strcmp(err.sqlstate, env[i].sqlstate) != 0 || !strstr(err.message, env[i].needle))
            fail_msg("%s: got %s %s", env[i].msg, err.sqlstate, err.message);
    }
    /* a key without the key field; schema derivation without a schema */
    eng_err_clear(&err);
    assert_int_equal(io_dbz_decode_key(&s, "{}", 2, &c, &err), -1);
    assert_string_equal(err.sqlstate, "XX001");
    eng_err_clear(&err);
    assert_int_equal(io_dbz_decode_key(&s, NULL, 0, &c, &err), -1);
    assert_string_equal(err.sqlstate, "XX001");
    io_dbz_schema ds = {0};
    eng_err_clear(&err);
    const char *noschema = "{\"schema\":null,\"payload\":{}}";
    assert_int_equal(io_dbz_schema_derive(noschema, strlen(noschema), &ds, &err), -1);
    assert_string_equal(err.sqlstate, "XX001");
    assert_int_equal(ds.ncols, 0);
    io_dbz_change_free(&c);
    io_dbz_schema_free(&s);
}

static void
test_transaction_metadata(void **state)
{
    (void)state;
    size_t n;
    char *p = slurp("transaction-metadata.begin-end.jsonl", &n);
    char *nl = strchr(p, '\n');
    assert_non_null(nl);
    io_dbz_txn t;
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(io_dbz_decode_txn(p, (size_t)(nl - p), "s1.a", &t, &err), 0);
    assert_false(t.end);
    assert_string_equal(t.id, "571:53195829");
    assert_true(t.has_ts);
    assert_int_equal(t.ts_ms, 1486500577125);
    assert_int_equal(t.events, -1);
    assert_int_equal(io_dbz_decode_txn(nl + 1, strlen(nl + 1), "s2.a", &t, &err), 0);
    assert_true(t.end);
    assert_string_equal(t.id, "571:53195832");
    assert_int_equal(t.events, 2);
    assert_int_equal(t.collection_events, 1);
    assert_int_equal(io_dbz_decode_txn(nl + 1, strlen(nl + 1), "public.other", &t, &err), 0);
    assert_int_equal(t.collection_events, 0);
    /* every truncation of END is an error or a clean decode */
    for (size_t len = 0; len <= strlen(nl + 1); len++) {
        char *c = malloc(len ? len : 1);
        assert_non_null(c);
        memcpy(c, nl + 1, len);
        eng_err_clear(&err);
        int rc = io_dbz_decode_txn(c, len, "s1.a", &t, &err);
        assert_true(rc == 0 ? !eng_err_isset(&err) : eng_err_isset(&err));
        free(c);
    }
    static const char *bad_txn[] = {
        "{\"status\":\"COMMIT\",\"id\":\"1\"}",
        "{\"status\":\"BEGIN\"}",
        "{\"status\":\"END\",\"id\":\"1\",\"event_count\":null}",
        "{\"status\":\"END\",\"id\":\"1\",\"event_count\":1,\"data_collections\":[{}]}",
        "{\"status\":\"END\",\"id\":\"1\",\"event_count\":1,\"data_collections\":7}",
    };
    for (size_t i = 0; i < sizeof bad_txn / sizeof bad_txn[0]; i++) {
        eng_err_clear(&err);
        assert_int_equal(io_dbz_decode_txn(bad_txn[i], strlen(bad_txn[i]), NULL, &t, &err), -1);
        assert_string_equal(err.sqlstate, "XX001");
    }
    free(p);
}

/* Whether two decodes of one message agree: status, error, op and rows. */
static void
assert_same_decode(int rc1, const eng_err *e1, const io_dbz_change *c1, int rc2, const eng_err *e2,
                   const io_dbz_change *c2)
{
    assert_int_equal(rc1, rc2);
    assert_string_equal(e1->sqlstate, e2->sqlstate);
    assert_string_equal(e1->message, e2->message);
    if (rc1 != 0)
        return;
    assert_int_equal(c1->op, c2->op);
    assert_int_equal(c1->has_before, c2->has_before);
    assert_int_equal(c1->has_after, c2->has_after);
    assert_int_equal(c1->before.len, c2->before.len);
    assert_int_equal(c1->after.len, c2->after.len);
    assert_memory_equal(c1->before.data, c2->before.data, c1->before.len);
    assert_memory_equal(c1->after.data, c2->after.data, c1->after.len);
    assert_int_equal(c1->has_lsn, c2->has_lsn);
    assert_int_equal(c1->lsn, c2->lsn);
    assert_int_equal(c1->has_txn, c2->has_txn);
    assert_string_equal(c1->txn_id, c2->txn_id);
}

/* Decodes p[0..n) every way; returns nothing, must not crash. io_dbz_decode
 * through c (which remembers the last message's schema prefix) must agree
 * with a decode that remembers nothing. */
static uint64_t g_compared_fast; /* comparisons of a payload-alone decode */

static void
try_all(const io_dbz_schema *s, const io_dbz_schema *ks, const char *p, size_t n, io_dbz_change *c)
{
    eng_err err;
    eng_err_clear(&err);
    uint64_t hits = c->prefix_hits;
    int rc = io_dbz_decode(s, p, n, c, &err);
    g_compared_fast += c->prefix_hits > hits;
    assert_true(rc == 0 ? !eng_err_isset(&err) : eng_err_isset(&err));
    io_dbz_change cold = {0};
    eng_err cold_err;
    eng_err_clear(&cold_err);
    int cold_rc = io_dbz_decode(s, p, n, &cold, &cold_err);
    assert_same_decode(rc, &err, c, cold_rc, &cold_err, &cold);
    io_dbz_change_free(&cold);
    eng_err_clear(&err);
    rc = io_dbz_decode_key(ks, p, n, c, &err);
    assert_true(rc == 0 ? !eng_err_isset(&err) : eng_err_isset(&err));
    io_dbz_schema d = {0};
    eng_err_clear(&err);
    rc = io_dbz_schema_derive(p, n, &d, &err);
    assert_true(rc == 0 ? !eng_err_isset(&err) : eng_err_isset(&err));
    io_dbz_schema_free(&d);
    io_dbz_txn t;
    eng_err_clear(&err);
    rc = io_dbz_decode_txn(p, n, "public.customers", &t, &err);
    assert_true(rc == 0 ? !eng_err_isset(&err) : eng_err_isset(&err));
}

/* The JsonConverter's repeated schema is parsed once: a message that starts
 * with the last message's bytes up to the payload's value has only its
 * payload parsed, with the same rows and errors as a whole parse (a change
 * that remembers nothing). */
static void
test_schema_prefix(void **state)
{
    (void)state;
    io_dbz_schema s = {0};
    derive_sample("pg-create-event.value.json", &s);
    size_t n;
    char *p = slurp("pg-create-event.value.json", &n);
    const char *key = strstr(p, "\"payload\"");
    assert_non_null(key);
    const char *v = strchr(key, ':') + 1;
    while (*v == ' ' || *v == '\n')
        v++;
    size_t k = (size_t)(v - p);
    io_dbz_change c = {0};
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(io_dbz_decode(&s, p, n, &c, &err), 0);
    assert_int_equal(c.prefix.len, k); /* remembered up to the payload */
    assert_string_equal(fmt_row(&s, &c.after), "1|Anne|Kretchmar|annek@noanswer.org");
    static const char *const rests[] = {
        /* another row */
        "{\"before\": null, \"after\": {\"id\": 7, \"first_name\": \"Sally\", \"last_name\": "
        "\"Thomas\", \"email\": \"s@t.org\"}, \"op\": \"r\", \"ts_ms\": 1}\n}\n",
        "{\"op\": \"d\", \"before\": {\"id\": 7, \"first_name\": \"a\", \"last_name\": \"b\", "
        "\"email\": \"c\"}, \"after\": null}}",
        /* a tombstone payload, a payload that is not an object */
        "null}",
        "[1]}",
        /* invalid JSON in the payload, after it, a missing or extra brace */
        "{\"op\": \"c\", \"after\": {\"id\": 1,}}}",
        "{\"op\": \"c\"}} x",
        "{\"op\": \"c\"}",
        "{\"op\": \"c\"}}}",
        /* another key after the payload, a duplicate key in it */
        "{\"op\": \"c\"}, \"extra\": 1}",
        "{\"op\": \"c\", \"op\": \"d\"}}",
        /* a wrong row */
        "{\"op\": \"c\", \"after\": {\"id\": \"x\", \"first_name\": \"a\", \"last_name\": "
        "\"b\", \"email\": \"c\"}}}",
    };
    int fast = 0;
    for (size_t i = 0; i < sizeof rests / sizeof rests[0]; i++) {
        size_t rl = strlen(rests[i]);
        char *m = malloc(k + rl);
        assert_non_null(m);
        memcpy(m, p, k);
        memcpy(m + k, rests[i], rl);
        /* c remembers the sample's prefix before each */
        eng_err_clear(&err);
        assert_int_equal(io_dbz_decode(&s, p, n, &c, &err), 0);
        eng_err_clear(&err);
        uint64_t hits = c.prefix_hits;
        int rc = io_dbz_decode(&s, m, k + rl, &c, &err);
        fast += c.prefix_hits > hits;
        io_dbz_change cold = {0};
        eng_err cold_err;
        eng_err_clear(&cold_err);
        int cold_rc = io_dbz_decode(&s, m, k + rl, &cold, &cold_err);
        assert_same_decode(rc, &err, &c, cold_rc, &cold_err, &cold);
        if (i == 0)
            assert_string_equal(fmt_row(&s, &c.after), "7|Sally|Thomas|s@t.org");
        io_dbz_change_free(&cold);
        free(m);
    }
    /* the payload alone: the two rows and the wrong row (an object that
     * decodes with an error); the rest are parsed whole */
    assert_int_equal(fast, 3);
    /* A bare envelope (schemas.enable=false) forgets the prefix. */
    eng_err_clear(&err);
    assert_int_equal(decode_str(&s, "{\"op\": \"c\", \"after\": null, \"before\": null}", &c, &err),
                     -1);
    assert_int_equal(c.prefix.len, 0);
    io_dbz_change_free(&c);
    io_dbz_schema_free(&s);
    free(p);
}

static void
test_truncation_corruption(void **state)
{
    (void)state;
    static const char *samples[] = {
        "pg-create-event.value.json",
        "pg-update-event.value.json",
        "pg-delete-event.value.json",
        "pg-truncate-event.value.json",
        "pg-key.json",
        "pg-event-with-transaction-field.value.json",
    };
    io_dbz_schema s = {0}, ks = {0};
    io_dbz_change c = {0};
    derive_sample("pg-create-event.value.json", &s);
    derive_sample("pg-key.json", &ks);
    unsigned seed = 6;
    const char *env = getenv("SLUICE_TEST_SEED");
    if (env)
        seed = (unsigned)strtoul(env, NULL, 10);
    srand(seed);
    for (size_t k = 0; k < sizeof samples / sizeof samples[0]; k++) {
        size_t n;
        char *p = slurp(samples[k], &n);
        for (size_t len = 0; len <= n; len++) {
            /* a copy of exactly len bytes, so ASan sees any over-read */
            char *t = malloc(len ? len : 1);
            assert_non_null(t);
            memcpy(t, p, len);
            try_all(&s, &ks, t, len, &c);
            free(t);
        }
        char *t = malloc(n);
        assert_non_null(t);
        for (int round = 0; round < 3000; round++) {
            /* c remembers the sample's prefix: corruptions after it take
             * the payload-only path, the others the whole parse */
            eng_err werr;
            eng_err_clear(&werr);
            (void)io_dbz_decode(&s, p, n, &c, &werr);
            memcpy(t, p, n);
            int flips = 1 + rand() % 3;
            for (int f = 0; f < flips; f++) {
                static const char alphabet[] = "{}[]\":,0123456789-.eE\\ntfu\"\x00\xff\xc3 ";
                size_t at = (size_t)rand() % n;
                t[at] = (rand() & 1) ? (char)(rand() & 0xff)
                                     : alphabet[(size_t)rand() % (sizeof alphabet - 1)];
            }
            try_all(&s, &ks, t, n, &c);
        }
        free(t);
        free(p);
    }
    printf("seed %u, %llu corruptions decoded from the payload alone\n", seed,
           (unsigned long long)g_compared_fast);
    assert_true(g_compared_fast > 200); /* the comparison covered that path */
    io_dbz_change_free(&c);
    io_dbz_schema_free(&s);
    io_dbz_schema_free(&ks);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_samples),    cmocka_unit_test(test_ops),
        cmocka_unit_test(test_logical_types),        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_transaction_metadata), cmocka_unit_test(test_truncation_corruption),
        cmocka_unit_test(test_schema_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
