/* Debezium JSON decoding: Debezium's documented PostgreSQL connector
 * messages (tests/io/dbz/, copied from the Debezium documentation) decode
 * to the expected rows and positions; every op, tombstones, a primary-key
 * change, REPLICA IDENTITY DEFAULT and FULL; every logical type with edge
 * values; bad input is an error naming the field; every truncation and
 * random byte corruptions of the samples are an error or a clean decode,
 * never a crash (the sanitizer builds check the "never"). Differential:
 * io_dbz_decode/_key/_txn against the jansson tree decoder they replaced
 * (tests/io/dbz_json_ref.c) on the samples, the generated load
 * (tests/harness/dbz_gen.c), every logical type at its edges, JSON at the
 * edges of what jansson accepts, and seeded random events, keys and
 * transaction messages with mutations and truncations (SLUICE_TEST_SEED,
 * SLUICE_TEST_ROUNDS): same outcome, SQLSTATE, message, and output bytes. */
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
#include "tests/harness/dbz_gen.h"
#include "tests/io/dbz_json_ref.h"

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

/* An empty decimal on a change whose scratch was never used: the tree
 * decoder crashed here (memcpy from its NULL scratch let GCC drop a NULL
 * check). */
static void
test_empty_decimal_fresh_change(void **state)
{
    (void)state;
    io_dbz_schema s = {0};
    eng_err err;
    io_dbz_change fresh = {0};
    char msg[1024];
    snprintf(msg, sizeof msg,
             "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"field\":"
             "\"after\",\"optional\":true,\"fields\":[{\"type\":\"bytes\",\"name\":\"org."
             "apache.kafka.connect.data.Decimal\",\"parameters\":{\"scale\":\"2\"},\"field\":"
             "\"f\"}]}]},\"payload\":{\"op\":\"c\",\"after\":{\"f\":\"\"}}}");
    eng_err_clear(&err);
    assert_int_equal(io_dbz_schema_derive(msg, strlen(msg), &s, &err), 0);
    assert_int_equal(io_dbz_decode(&s, msg, strlen(msg), &fresh, &err), 0);
    assert_string_equal(fmt_row(&s, &fresh.after), "0.00");
    io_dbz_change_free(&fresh);
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

/* Decodes p[0..n) every way; returns nothing, must not crash. */
static void
try_all(const io_dbz_schema *s, const io_dbz_schema *ks, const char *p, size_t n, io_dbz_change *c)
{
    eng_err err;
    eng_err_clear(&err);
    int rc = io_dbz_decode(s, p, n, c, &err);
    assert_true(rc == 0 ? !eng_err_isset(&err) : eng_err_isset(&err));
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
    printf("seed %u\n", seed);
    io_dbz_change_free(&c);
    io_dbz_schema_free(&s);
    io_dbz_schema_free(&ks);
}

/* ------------------------------------------------------------------ differential */

/* The decoders in io/dbz_decode.c (a scanner over the bytes) and
 * tests/io/dbz_json_ref.c (the jansson tree decoder they replaced) must
 * agree on every input: success or failure, the SQLSTATE, the message (or,
 * for invalid JSON, its prefix: the texts differ), and on success every
 * output field and every row byte. */

static unsigned diff_seed = 6; /* SLUICE_TEST_SEED overrides; printed on failure */
static long diff_cases, diff_ok;
static long diff_calls[3], diff_decoded[3]; /* decode, decode_key, decode_txn */

static void
show(const char *p, size_t n)
{
    fprintf(stderr, "input (%zu bytes): \"", n);
    for (size_t i = 0; i < n && i < 3000; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\')
            fprintf(stderr, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    fprintf(stderr, "%s\"\n", n > 3000 ? "..." : "");
}

#define DIFF_FAIL(p, n, ...)                                                                       \
    do {                                                                                           \
        show(p, n);                                                                                \
        fail_msg("seed %u: " __VA_ARGS__);                                                         \
    } while (0)

static bool
same_rows(const eng_rowbuf *a, const eng_rowbuf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Both results of one call: same rc, SQLSTATE and message. */
static void
same_outcome(const char *what, const char *p, size_t n, int rc_new, const eng_err *e_new,
             int rc_ref, const eng_err *e_ref)
{
    diff_cases++;
    if (rc_new != rc_ref)
        DIFF_FAIL(p, n, "%s: new rc %d (%s %s), reference rc %d (%s %s)", diff_seed, what, rc_new,
                  e_new->sqlstate, e_new->message, rc_ref, e_ref->sqlstate, e_ref->message);
    if (rc_new == 0) {
        diff_ok++;
        return;
    }
    if (strcmp(e_new->sqlstate, e_ref->sqlstate) != 0)
        DIFF_FAIL(p, n, "%s: new %s (%s), reference %s (%s)", diff_seed, what, e_new->sqlstate,
                  e_new->message, e_ref->sqlstate, e_ref->message);
    static const char json[] = "invalid JSON in Debezium message: ";
    bool ref_json = strncmp(e_ref->message, json, sizeof json - 1) == 0;
    bool new_json = strncmp(e_new->message, json, sizeof json - 1) == 0;
    if (ref_json != new_json || (!ref_json && strcmp(e_new->message, e_ref->message) != 0))
        DIFF_FAIL(p, n, "%s: new message \"%s\", reference \"%s\"", diff_seed, what, e_new->message,
                  e_ref->message);
}

static void
diff_decode(const io_dbz_schema *s, const char *p, size_t n)
{
    static io_dbz_change a, b; /* reused, as a source reuses its change */
    eng_err ea, eb;
    eng_err_clear(&ea);
    eng_err_clear(&eb);
    int ra = io_dbz_decode(s, p, n, &a, &ea);
    int rb = t_dbz_ref_decode(s, p, n, &b, &eb);
    same_outcome("io_dbz_decode", p, n, ra, &ea, rb, &eb);
    diff_calls[0]++;
    if (ra != 0)
        return;
    diff_decoded[0]++;
    if (a.op != b.op || a.has_before != b.has_before || a.has_after != b.has_after ||
        a.before_partial != b.before_partial || a.unknown_fields != b.unknown_fields ||
        a.has_key != b.has_key || !same_rows(&a.before, &b.before) ||
        !same_rows(&a.after, &b.after) || !same_rows(&a.key, &b.key))
        DIFF_FAIL(p, n,
                  "rows differ: op %d/%d before %d/%d after %d/%d partial %d/%d unknown %d/%d",
                  diff_seed, a.op, b.op, a.has_before, b.has_before, a.has_after, b.has_after,
                  a.before_partial, b.before_partial, a.unknown_fields, b.unknown_fields);
    if (a.has_lsn != b.has_lsn || a.has_txid != b.has_txid || a.has_source_ts != b.has_source_ts ||
        a.has_ts != b.has_ts || a.lsn != b.lsn || a.txid != b.txid ||
        a.source_ts_ms != b.source_ts_ms || a.ts_ms != b.ts_ms || a.has_txn != b.has_txn ||
        strcmp(a.txn_id, b.txn_id) != 0 || a.txn_total_order != b.txn_total_order ||
        a.txn_collection_order != b.txn_collection_order)
        DIFF_FAIL(p, n, "positions or transaction differ", diff_seed);
}

static void
diff_key(const io_dbz_schema *s, const char *p, size_t n)
{
    static io_dbz_change a, b;
    eng_err ea, eb;
    eng_err_clear(&ea);
    eng_err_clear(&eb);
    int ra = io_dbz_decode_key(s, p, n, &a, &ea);
    int rb = t_dbz_ref_decode_key(s, p, n, &b, &eb);
    same_outcome("io_dbz_decode_key", p, n, ra, &ea, rb, &eb);
    diff_calls[1]++;
    diff_decoded[1] += ra == 0;
    if (ra == 0 && (a.has_key != b.has_key || !same_rows(&a.key, &b.key)))
        DIFF_FAIL(p, n, "keys differ", diff_seed);
}

static void
diff_txn(const char *collection, const char *p, size_t n)
{
    io_dbz_txn a, b;
    eng_err ea, eb;
    eng_err_clear(&ea);
    eng_err_clear(&eb);
    int ra = io_dbz_decode_txn(p, n, collection, &a, &ea);
    int rb = t_dbz_ref_decode_txn(p, n, collection, &b, &eb);
    same_outcome("io_dbz_decode_txn", p, n, ra, &ea, rb, &eb);
    diff_calls[2]++;
    diff_decoded[2] += ra == 0;
    if (ra == 0 &&
        (a.end != b.end || strcmp(a.id, b.id) != 0 || a.has_ts != b.has_ts || a.ts_ms != b.ts_ms ||
         a.events != b.events || a.collection_events != b.collection_events))
        DIFF_FAIL(p, n, "transaction messages differ", diff_seed);
}

/* The schemas every input is decoded against. */
typedef struct diff_schemas {
    io_dbz_schema cust, cust_key, wide, given, pg_key, multi_key;
} diff_schemas;

/* Every decoder on an exact copy of p[0..n) (ASan sees any over-read). */
static void
diff_all(const diff_schemas *ds, const char *p, size_t n)
{
    char *t = malloc(n ? n : 1);
    assert_non_null(t);
    memcpy(t, p, n);
    diff_decode(&ds->cust, t, n);
    diff_decode(&ds->wide, t, n);
    diff_decode(&ds->given, t, n);
    diff_key(&ds->cust_key, t, n);
    diff_key(&ds->multi_key, t, n);
    diff_txn("s1.a", t, n);
    diff_txn(NULL, t, n);
    free(t);
}

static uint64_t
rnd_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t
rnd_below(uint64_t *s, size_t n)
{
    return (size_t)(rnd_next(s) % n);
}

/* One field of every Connect type and logical name the decoder maps, with
 * values at its edges (and a few that its column type rejects). */
static const struct wide_field {
    const char *type; /* the field schema without "optional" and "field" */
    bool optional;
    const char *values[10];
} wide[] = {
    {"\"type\":\"int8\"", true, {"-128", "127", "0", "-0", "5", "!128"}},
    {"\"type\":\"int16\"", false, {"-32768", "32767", "7", "!-32769"}},
    {"\"type\":\"int32\"", false, {"2147483647", "-2147483648", "0", "!2147483648"}},
    {"\"type\":\"int64\"", true, {"9223372036854775807", "-9223372036854775808", "1", "-1"}},
    {"\"type\":\"float32\"",
     true,
     {"1.5", "-0.0", "3.4028234663852886e38", "1e-46", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"",
      "16777217", "1E2", "!3.5e38"}},
    {"\"type\":\"float64\"",
     true,
     {"-2.5e300", "1.7976931348623157e308", "4.9e-324", "1e-400", "123456789012345678", "0.1",
      "\"NaN\"", "-0", "2.2250738585072014e-308", "!\"nan\""}},
    {"\"type\":\"boolean\"", true, {"true", "false"}},
    {"\"type\":\"string\"",
     true,
     {"\"h\\u00e9 \\\"q\\\"\"", "\"\\ud83d\\ude00 \\uD83D\\uDE00\"", "\"\\/\\b\\f\\n\\r\\t\\\\\"",
      "\"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac\"", "\"\"", "\"\x7f\"",
      "\"abcdefghijklmnopqrstuvwxyz0123456789 abcdefghijklmnopqrstuvwxyz0123456789\""}},
    {"\"type\":\"bytes\"",
     true,
     {"\"3q2+7w==\"", "\"\"", "\"AA==\"", "\"AAA=\"", "\"\\u0041QID\"", "\"AB==\"",
      "\"AAAA\\/w==\"", "!\"A===\""}},
    {"\"type\":\"int32\",\"name\":\"io.debezium.time.Date\"",
     true,
     {"-1", "-2440588", "2145042905", "0", "!-2440589", "!2145042906"}},
    {"\"type\":\"int32\",\"name\":\"org.apache.kafka.connect.data.Date\"", true, {"18000"}},
    {"\"type\":\"int32\",\"name\":\"io.debezium.time.Time\"",
     true,
     {"3723004", "0", "86400000", "!86400001", "!-1"}},
    {"\"type\":\"int32\",\"name\":\"org.apache.kafka.connect.data.Time\"", true, {"0", "1"}},
    {"\"type\":\"int64\",\"name\":\"io.debezium.time.MicroTime\"",
     true,
     {"86399999999", "86400000000", "0", "!86400000001"}},
    {"\"type\":\"int64\",\"name\":\"io.debezium.time.NanoTime\"",
     true,
     {"3723004005006", "86400000000000", "999", "!86400000000001"}},
    {"\"type\":\"int64\",\"name\":\"io.debezium.time.Timestamp\"",
     true,
     {"-1", "0", "1559033904863", "!9223372036854775807", "-210866803200000", "!9224318015999999"}},
    {"\"type\":\"int64\",\"name\":\"org.apache.kafka.connect.data.Timestamp\"", true, {"0"}},
    {"\"type\":\"int64\",\"name\":\"io.debezium.time.MicroTimestamp\"",
     true,
     {"1559033904863123", "-210866803200000000", "!-210866803200000001", "!9224318015999999999",
      "!-9223372036854775808"}},
    {"\"type\":\"int64\",\"name\":\"io.debezium.time.NanoTimestamp\"",
     true,
     {"-1", "1559033904863123999", "!-9223372036854775808", "!9223372036854775807"}},
    {"\"type\":\"string\",\"name\":\"io.debezium.time.ZonedTimestamp\"",
     true,
     {"\"2019-05-28T08:58:24.863123Z\"", "\"2019-05-28T08:58:24+02:00\"", "!\"x\""}},
    {"\"type\":\"int64\",\"name\":\"io.debezium.time.MicroDuration\"",
     true,
     {"90061000001", "-1", "0", "9223372036854775807"}},
    {"\"type\":\"string\",\"name\":\"io.debezium.data.Json\"",
     true,
     {"\"{\\\"b\\\":1,\\\"a\\\":[1,2]}\"", "\"null\"", "\"[]\"", "!\"{\""}},
    {"\"type\":\"string\",\"name\":\"io.debezium.data.Uuid\"",
     true,
     {"\"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11\"", "!\"nope\""}},
    {"\"type\":\"string\",\"name\":\"io.debezium.data.Enum\"", true, {"\"red\""}},
    {"\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"parameters\":"
     "{\"scale\":\"2\",\"connect.decimal.precision\":\"7\"}",
     true,
     {"\"z8c=\"", "\"AA==\"", "\"AYag\"", "\"\"", "!\"D0JA\""}},
    {"\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"parameters\":"
     "{\"scale\":\"2\"}",
     true,
     {"\"+w==\"", "\"BQ==\"", "\"/8AAAAAAAAAAAA==\"", "\"AEAAAAAAAAAAAA==\""}},
    {"\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\",\"parameters\":"
     "{\"scale\":-2}",
     true,
     {"\"+w==\""}},
    {"\"type\":\"struct\",\"name\":\"io.debezium.data.VariableScaleDecimal\",\"fields\":["
     "{\"type\":\"int32\",\"field\":\"scale\"},{\"type\":\"bytes\",\"field\":\"value\"}]",
     true,
     {"{\"scale\":3,\"value\":\"/w==\"}", "{\"value\":\"z8c=\",\"scale\":0}",
      "{\"scale\":-5,\"value\":\"AQ==\"}", "!{\"scale\":1001,\"value\":\"AQ==\"}", "!{\"scale\":2}",
      "!{\"scale\":\"2\",\"value\":\"AQ==\"}", "{\"sc\\u0061le\":1,\"value\":\"AQ==\"}"}},
    {"\"type\":\"string\"", false, {"\"pk\"", "\"\""}},
};
#define NWIDE (sizeof wide / sizeof wide[0])

/* Values of every JSON type, valid and not, for fields given the wrong one. */
static const char *const any_value[] = {
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1.5",
    "1e5",
    "-0.0",
    "\"\"",
    "\"x\"",
    "\"1\"",
    "[]",
    "{}",
    "[1,2]",
    "{\"a\":1}",
    "\"NaN\"",
    "9223372036854775807",
    "\"AA==\"",
    "\"\\u00e9\"",
    "{\"scale\":1,\"value\":\"AA==\"}",
    "\"2019-05-28T08:58:24Z\"",
    "1e308",
    "4e-330",
};

/* A value of field f: one its column takes, or with dirty any (a leading
 * '!' marks a value the column rejects). */
static const char *
values_pick(uint64_t *r, const struct wide_field *f, bool dirty)
{
    size_t n = 0;
    while (n < 10 && f->values[n])
        n++;
    for (;;) {
        const char *v = f->values[rnd_below(r, n)];
        if (*v != '!')
            return v;
        if (dirty)
            return v + 1;
    }
}

/* Appends white space now and then. */
static void
put_ws(eng_strbuf *b, uint64_t *r)
{
    static const char *const ws[] = {" ", "\n", "\t ", "\r\n  "};
    if (rnd_below(r, 12) == 0)
        eng_strbuf_puts(b, ws[rnd_below(r, 4)]);
}

/* Appends "name": with, now and then, a character \u-escaped. */
static void
put_key(eng_strbuf *b, uint64_t *r, const char *name)
{
    put_ws(b, r);
    eng_strbuf_putc(b, '"');
    size_t n = strlen(name), esc = rnd_below(r, 10) == 0 && n ? rnd_below(r, n) : SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (i == esc)
            eng_strbuf_printf(b, rnd_below(r, 2) ? "\\u%04x" : "\\u%04X", (unsigned char)name[i]);
        else
            eng_strbuf_putc(b, name[i]);
    }
    eng_strbuf_puts(b, "\"");
    put_ws(b, r);
    eng_strbuf_putc(b, ':');
    put_ws(b, r);
}

/* A row object for the wide schema. dirty: some values of the wrong kind.
 * mode 0 full, 1 only the key field (f28), 2 shuffled with extras. */
static void
put_row(eng_strbuf *b, uint64_t *r, bool dirty, int mode)
{
    size_t order[NWIDE + 2];
    size_t n = 0;
    for (size_t i = 0; i < NWIDE; i++)
        if (mode != 1 || i == NWIDE - 1)
            order[n++] = i;
    if (mode == 2) {
        order[n++] = 1000; /* a field that is not a column */
        for (size_t i = n; i > 1; i--) {
            size_t j = rnd_below(r, i), t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
    }
    eng_strbuf_putc(b, '{');
    bool first = true;
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        char name[16];
        snprintf(name, sizeof name, i == 1000 ? "extra" : "f%zu", i);
        const char *v;
        if (i == 1000) {
            v = any_value[rnd_below(r, sizeof any_value / sizeof any_value[0])];
        } else {
            size_t roll = rnd_below(r, 100);
            if (roll < 4 && wide[i].optional && mode != 1)
                continue; /* left out */
            if (roll < 8 && wide[i].optional)
                v = "null";
            else if (dirty && roll < 14)
                v = any_value[rnd_below(r, sizeof any_value / sizeof any_value[0])];
            else
                v = values_pick(r, &wide[i], dirty && roll < 30);
        }
        if (!first)
            eng_strbuf_putc(b, ',');
        first = false;
        put_key(b, r, name);
        eng_strbuf_puts(b, v);
        put_ws(b, r);
    }
    eng_strbuf_putc(b, '}');
}

static const char *const meta_value[] = {
    "123",
    "\"456\"",
    "\" 7 \"",
    "\"x\"",
    "null",
    "1.5",
    "-9223372036854775808",
    "\"+8\"",
    "\"99999999999999999999\"",
    "true",
    "{}",
    "\"\\u0031\\u0032\"",
};

/* A random change event (sometimes wrapped with the wide schema). */
static void
put_event(eng_strbuf *b, uint64_t *r, const char *wide_schema)
{
    bool wrap = rnd_below(r, 3) == 0, dirty = rnd_below(r, 3) == 0;
    if (wrap) {
        eng_strbuf_putc(b, '{');
        put_key(b, r, "schema");
        eng_strbuf_puts(b, rnd_below(r, 8) ? wide_schema : "null");
        eng_strbuf_putc(b, ',');
        put_key(b, r, "payload");
    }
    static const char *const ops[] = {"\"c\"", "\"r\"", "\"u\"",  "\"d\"", "\"t\"",      "\"m\"",
                                      "\"x\"", "\"\"",  "\"cc\"", "1",     "\"\\u0063\""};
    size_t nop = dirty ? sizeof ops / sizeof ops[0] : 6;
    const char *parts[7];
    int np = 0;
    char *mem[7] = {0};
    for (int k = 0; k < 7; k++) {
        eng_strbuf m = {0};
        switch (k) {
        case 0:
            put_key(&m, r, "op");
            eng_strbuf_puts(&m, ops[rnd_below(r, nop)]);
            break;
        case 1: {
            size_t roll = rnd_below(r, 8);
            if (roll == 0)
                continue;
            put_key(&m, r, "before");
            if (roll == 1)
                eng_strbuf_puts(&m, "null");
            else
                put_row(&m, r, dirty, (int)rnd_below(r, 3));
            break;
        }
        case 2:
            if (rnd_below(r, 10) == 0)
                continue;
            put_key(&m, r, "after");
            if (rnd_below(r, 12) == 0)
                eng_strbuf_puts(&m, dirty ? "[]" : "null");
            else
                put_row(&m, r, dirty, rnd_below(r, 4) == 0 ? 2 : 0);
            break;
        case 3:
            if (rnd_below(r, 6) == 0)
                continue;
            put_key(&m, r, "source");
            if (dirty && rnd_below(r, 6) == 0) {
                eng_strbuf_puts(&m, rnd_below(r, 2) ? "null" : "3");
                break;
            }
            eng_strbuf_puts(&m, "{\"version\":\"2.5.0.Final\",\"connector\":\"postgresql\"");
            static const char *const sk[] = {"lsn", "txId", "ts_ms"};
            for (int i = 0; i < 3; i++) {
                if (rnd_below(r, 5) == 0)
                    continue;
                eng_strbuf_putc(&m, ',');
                put_key(&m, r, sk[i]);
                eng_strbuf_puts(&m,
                                dirty ? meta_value[rnd_below(r, 12)] : meta_value[rnd_below(r, 3)]);
            }
            eng_strbuf_putc(&m, '}');
            break;
        case 4:
            if (rnd_below(r, 3) == 0)
                continue;
            put_key(&m, r, "ts_ms");
            eng_strbuf_puts(&m, dirty ? meta_value[rnd_below(r, 12)] : "1559033904863");
            break;
        case 5: {
            if (rnd_below(r, 3) != 0)
                continue;
            put_key(&m, r, "transaction");
            static const char *const ids[] = {
                "\"571:53195832\"",
                "\"\"",
                "7",
                "\"a\\u00e9\\n\"",
                "\"0123456789012345678901234567890123456789012345678901234567890123456789"
                "01234567890123456789012345678901234567890123456789012345678\"",
                "\"0123456789012345678901234567890123456789012345678901234567890123456789"
                "012345678901234567890123456789012345678901234567890123456\"",
            };
            if (dirty && rnd_below(r, 5) == 0) {
                eng_strbuf_puts(&m, rnd_below(r, 2) ? "null" : "[]");
                break;
            }
            eng_strbuf_puts(&m, "{");
            if (!dirty || rnd_below(r, 5)) {
                put_key(&m, r, "id");
                eng_strbuf_puts(&m, ids[rnd_below(r, dirty ? 6 : 1)]);
                eng_strbuf_putc(&m, ',');
            }
            put_key(&m, r, "total_order");
            eng_strbuf_puts(&m, dirty ? meta_value[rnd_below(r, 12)] : "\"1\"");
            eng_strbuf_putc(&m, ',');
            put_key(&m, r, "data_collection_order");
            eng_strbuf_puts(&m, meta_value[rnd_below(r, dirty ? 12 : 3)]);
            eng_strbuf_puts(&m, "}");
            break;
        }
        case 6:
            if (rnd_below(r, 4) != 0)
                continue;
            put_key(&m, r, "message");
            eng_strbuf_puts(&m, "{\"prefix\":\"p\",\"content\":\"AA==\"}");
            break;
        }
        mem[np] = m.data;
        parts[np++] = m.data;
    }
    /* Debezium's order, or shuffled */
    if (rnd_below(r, 4) == 0)
        for (int i = np; i > 1; i--) {
            size_t j = rnd_below(r, (size_t)i);
            const char *t = parts[i - 1];
            parts[i - 1] = parts[j];
            parts[j] = t;
        }
    put_ws(b, r);
    eng_strbuf_putc(b, '{');
    for (int i = 0; i < np; i++) {
        if (i)
            eng_strbuf_putc(b, ',');
        eng_strbuf_puts(b, parts[i]);
    }
    eng_strbuf_putc(b, '}');
    put_ws(b, r);
    if (wrap) {
        if (rnd_below(r, 20) == 0) {
            eng_strbuf_putc(b, ',');
            put_key(b, r, "extra");
            eng_strbuf_puts(b, "1");
        }
        eng_strbuf_putc(b, '}');
    }
    for (int i = 0; i < np; i++)
        free(mem[i]);
}

/* A random transaction metadata message; dirty: some fields wrong. */
static void
put_txn(eng_strbuf *b, uint64_t *r)
{
    static const char *const status[] = {"\"BEGIN\"",  "\"END\"", "\"\\u0045ND\"",
                                         "\"COMMIT\"", "null",    "1"};
    static const char *const counts[] = {"2", "0", "\"3\"", "-1", "null", "1.0", "\"x\""};
    static const char *const names[] = {"\"s1.a\"", "\"s2.a\"", "\"s1.\\u0061\"", "7", "null"};
    bool dirty = rnd_below(r, 3) == 0;
    eng_strbuf_putc(b, '{');
    put_key(b, r, "status");
    eng_strbuf_puts(b, status[rnd_below(r, dirty ? 6 : 3)]);
    if (!dirty || rnd_below(r, 4)) {
        eng_strbuf_putc(b, ',');
        put_key(b, r, "id");
        eng_strbuf_puts(b, !dirty || rnd_below(r, 4) ? "\"571:53195832\"" : "5");
    }
    eng_strbuf_putc(b, ',');
    put_key(b, r, "ts_ms");
    eng_strbuf_puts(b, meta_value[rnd_below(r, dirty ? 12 : 3)]);
    eng_strbuf_putc(b, ',');
    put_key(b, r, "event_count");
    eng_strbuf_puts(b, counts[rnd_below(r, dirty ? 7 : 3)]);
    size_t roll = rnd_below(r, 8);
    if (roll) {
        eng_strbuf_putc(b, ',');
        put_key(b, r, "data_collections");
        if (roll == 1) {
            eng_strbuf_puts(b, "null");
        } else if (roll == 2 && dirty) {
            eng_strbuf_puts(b, "{}");
        } else {
            eng_strbuf_putc(b, '[');
            size_t n = rnd_below(r, 4);
            for (size_t i = 0; i < n; i++) {
                if (i)
                    eng_strbuf_putc(b, ',');
                if (dirty && rnd_below(r, 6) == 0) {
                    eng_strbuf_puts(b, "3");
                    continue;
                }
                eng_strbuf_putc(b, '{');
                put_key(b, r, "data_collection");
                eng_strbuf_puts(b, names[rnd_below(r, dirty ? 5 : 3)]);
                eng_strbuf_putc(b, ',');
                put_key(b, r, "event_count");
                eng_strbuf_puts(b, counts[rnd_below(r, dirty ? 7 : 3)]);
                eng_strbuf_putc(b, '}');
            }
            eng_strbuf_putc(b, ']');
        }
    }
    eng_strbuf_putc(b, '}');
    if (rnd_below(r, 4) == 0) {
        /* wrapped as with schemas.enable=true */
        char *inner = strdup(b->data);
        assert_non_null(inner);
        eng_strbuf_reset(b);
        eng_strbuf_printf(b, "{\"schema\":{\"type\":\"struct\",\"fields\":[]},\"payload\":%s}",
                          inner);
        free(inner);
    }
}

/* Mutates p[0..*n) in place (cap bytes of room): byte flips from a JSON
 * alphabet, deletions, insertions, a truncation or a copied span. */
static void
mutate(uint64_t *r, char *p, size_t *n, size_t cap)
{
    static const char alphabet[] = "{}[]\":,0123456789-+.eE\\ntfu\"\x00\xff\xc3\x80\xed\xa0 \t";
    int k = 1 + (int)rnd_below(r, 3);
    for (int f = 0; f<k && * n> 0; f++) {
        size_t at = rnd_below(r, *n);
        switch (rnd_below(r, 6)) {
        case 0:
            p[at] = (char)rnd_next(r);
            break;
        case 1:
        case 2:
            p[at] = alphabet[rnd_below(r, sizeof alphabet - 1)];
            break;
        case 3:
            memmove(p + at, p + at + 1, *n - at - 1);
            (*n)--;
            break;
        case 4:
            if (*n < cap) {
                memmove(p + at + 1, p + at, *n - at);
                p[at] = alphabet[rnd_below(r, sizeof alphabet - 1)];
                (*n)++;
            }
            break;
        default: {
            size_t from = rnd_below(r, *n), len = 1 + rnd_below(r, 16);
            if (from + len > *n)
                len = *n - from;
            if (*n + len <= cap) {
                memmove(p + at + len, p + at, *n - at);
                memmove(p + at, p + (from >= at ? from + len : from), len);
                *n += len;
            }
        }
        }
    }
    if (rnd_below(r, 8) == 0)
        *n = rnd_below(r, *n + 1);
}

static void
diff_schemas_init(diff_schemas *ds, eng_strbuf *wide_schema)
{
    memset(ds, 0, sizeof *ds);
    char msg[4096];
    eng_err err;
    eng_err_clear(&err);
    size_t n = t_dbz_gen_message(1, 0, msg, sizeof msg);
    assert_int_equal(io_dbz_schema_derive(msg, n, &ds->cust, &err), 0);
    n = t_dbz_gen_message(1, 1, msg, sizeof msg);
    assert_int_equal(io_dbz_schema_derive(msg, n, &ds->cust_key, &err), 0);
    /* the wide schema: every field in before and after */
    eng_strbuf fields = {0};
    for (size_t i = 0; i < NWIDE; i++)
        eng_strbuf_printf(&fields, "%s{%s,\"optional\":%s,\"field\":\"f%zu\"}", i ? "," : "",
                          wide[i].type, wide[i].optional ? "true" : "false", i);
    eng_strbuf_printf(wide_schema,
                      "{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"fields\":[%s],"
                      "\"optional\":true,\"field\":\"before\"},{\"type\":\"struct\",\"fields\":"
                      "[%s],\"optional\":true,\"field\":\"after\"},{\"type\":\"string\","
                      "\"optional\":false,\"field\":\"op\"}],\"optional\":false,\"name\":\"w\"}",
                      fields.data, fields.data);
    eng_strbuf_free(&fields);
    eng_strbuf m = {0};
    eng_strbuf_printf(&m, "{\"schema\":%s,\"payload\":null}", wide_schema->data);
    if (io_dbz_schema_derive(m.data, m.len, &ds->wide, &err) < 0)
        fail_msg("wide schema: %s", err.message);
    assert_int_equal(ds->wide.ncols, (int)NWIDE);
    eng_strbuf_free(&m);
    /* schemas.enable=false: columns given, text read by other types, a
     * repeated name, a column named like an envelope member */
    io_dbz_schema_add(&ds->given, "pk", eng_type_make(ENG_TYPE_TEXT, -1), IO_DBZ_STRING, false, 0);
    io_dbz_schema_add(&ds->given, "aa", eng_type_make(ENG_TYPE_INT4, -1), IO_DBZ_STRING, true, 0);
    io_dbz_schema_add(&ds->given, "f2", eng_type_make(ENG_TYPE_INT8, -1), IO_DBZ_INT64, true, 0);
    io_dbz_schema_add(&ds->given, "f7", eng_type_make(ENG_TYPE_FLOAT8, -1), IO_DBZ_STRING, true, 0);
    io_dbz_schema_add(&ds->given, "f7", eng_type_make(ENG_TYPE_TEXT, -1), IO_DBZ_STRING, true, 0);
    io_dbz_schema_add(&ds->given, "id", eng_type_make(ENG_TYPE_NUMERIC, -1), IO_DBZ_STRING, true,
                      0);
    io_dbz_schema_add(&ds->given, "f\xc3\xa9", eng_type_make(ENG_TYPE_BOOL, -1), IO_DBZ_BOOL, true,
                      0);
    io_dbz_schema_add(&ds->given, "", eng_type_make(ENG_TYPE_TEXT, -1), IO_DBZ_STRING, true, 0);
    derive_sample("pg-key.json", &ds->pg_key);
    io_dbz_schema_add(&ds->multi_key, "id", eng_type_make(ENG_TYPE_INT4, -1), IO_DBZ_INT32, false,
                      0);
    io_dbz_schema_add(&ds->multi_key, "f28", eng_type_make(ENG_TYPE_TEXT, -1), IO_DBZ_STRING, true,
                      0);
}

static void
diff_schemas_free(diff_schemas *ds)
{
    io_dbz_schema_free(&ds->cust);
    io_dbz_schema_free(&ds->cust_key);
    io_dbz_schema_free(&ds->wide);
    io_dbz_schema_free(&ds->given);
    io_dbz_schema_free(&ds->pg_key);
    io_dbz_schema_free(&ds->multi_key);
}

static void
diff_seed_init(void)
{
    const char *env = getenv("SLUICE_TEST_SEED");
    if (env)
        diff_seed = (unsigned)strtoul(env, NULL, 10);
}

/* The documented samples, the generated events and a message of every
 * logical type at its edges: both decoders, every truncation too. */
static void
test_differential_samples(void **state)
{
    (void)state;
    diff_seed_init();
    diff_schemas ds;
    eng_strbuf wide_schema = {0};
    diff_schemas_init(&ds, &wide_schema);
    static const char *samples[] = {
        "pg-create-event.value.json",
        "pg-update-event.value.json",
        "pg-delete-event.value.json",
        "pg-truncate-event.value.json",
        "pg-key.json",
        "pg-event-with-transaction-field.value.json",
        "transaction-metadata.begin-end.jsonl",
    };
    for (size_t k = 0; k < sizeof samples / sizeof samples[0]; k++) {
        size_t n;
        char *p = slurp(samples[k], &n);
        diff_decode(&ds.pg_key, p, n);
        for (char *line = p, *nl; (nl = memchr(line, '\n', n - (size_t)(line - p))) != NULL;
             line = nl + 1)
            diff_all(&ds, line, (size_t)(nl - line));
        for (size_t len = 0; len <= n; len++)
            diff_all(&ds, p, len);
        free(p);
    }
    /* the generated load, ids at int32's edges too */
    static const long long ids[] = {1,
                                    2,
                                    120000,
                                    0,
                                    -1,
                                    2147483647,
                                    2147483648LL,
                                    -2147483648LL,
                                    -2147483649LL,
                                    500000000000000000LL};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        char msg[4096];
        for (int key = 0; key < 2; key++) {
            size_t n = t_dbz_gen_message(ids[k], key, msg, sizeof msg);
            diff_all(&ds, msg, n);
            if (k == 0)
                for (size_t len = 0; len < n; len++)
                    diff_all(&ds, msg, len);
        }
        size_t n = t_dbz_gen_payload(ids[k], msg, sizeof msg);
        diff_all(&ds, msg, n);
    }
    /* every value of every wide field, alone in "after", bare and wrapped */
    eng_strbuf m = {0};
    for (size_t i = 0; i < NWIDE; i++)
        for (size_t v = 0; v < 10 && wide[i].values[v]; v++) {
            const char *val = wide[i].values[v] + (wide[i].values[v][0] == '!');
            eng_strbuf_reset(&m);
            eng_strbuf_printf(&m, "{\"op\":\"c\",\"after\":{\"f%zu\":%s,\"f28\":\"k\"}}", i, val);
            diff_all(&ds, m.data, m.len);
            eng_strbuf_reset(&m);
            eng_strbuf_printf(&m,
                              "{\"schema\":%s,\"payload\":{\"op\":\"c\",\"after\":{\"f%zu\":%s,"
                              "\"f28\":\"k\"}}}",
                              wide_schema.data, i, val);
            diff_all(&ds, m.data, m.len);
        }
    eng_strbuf_free(&m);
    eng_strbuf_free(&wide_schema);
    diff_schemas_free(&ds);
}

/* JSON at the edges of what jansson accepts, alone, in the schema's place
 * (which is only checked) and as a row value. */
static void
test_differential_json_edges(void **state)
{
    (void)state;
    diff_seed_init();
    diff_schemas ds;
    eng_strbuf wide_schema = {0};
    diff_schemas_init(&ds, &wide_schema);
    static const char *const cases[] = {
        "",
        " ",
        "{",
        "}",
        "[]",
        "{}",
        "[1,]",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{1:2}",
        "{\"a\":1 \"b\":2}",
        "[1 2]",
        "{}{}",
        "{} x",
        "{}\n",
        "\n{}",
        "{}\x00",
        "\x00{}",
        "\t{ \"a\" : [ 1 , 2 ] }\r\n",
        "1",
        "\"x\"",
        "null",
        "true",
        "[null]",
        "[{}]",
        "{\"a\":1,\"a\":2}",
        "{\"a\":1,\"\\u0061\":2}",
        "{\"ab\":1,\"a\\u0062\":1}",
        "{\"a\":{\"b\":1},\"b\":{\"b\":2}}",
        "{\"a\":{\"b\":1,\"b\":2}}",
        "{\"\":1,\"\":2}",
        "{\"\":1,\"\\u0000\":2}",
        "{\"a\\u0000\":1}",
        "[\"\\u0000\"]",
        "[\"\\ud800\"]",
        "[\"\\ud800\\u0041\"]",
        "[\"\\udc00\"]",
        "[\"\\ud800\\udc00\"]",
        "[\"\\uD83D\\uDE00\"]",
        "[\"\\ud800\\ud800\"]",
        "[\"\\ud800\\\\u\"]",
        "[\"\\x\"]",
        "[\"\\u12G4\"]",
        "[\"\\u12\"]",
        "[\"\\u00e9\"]",
        "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
        "[\"\xc3\xa9\"]",
        "[\"\xc3\"]",
        "[\"\xc0\x80\"]",
        "[\"\xed\xa0\x80\"]",
        "[\"\xf4\x90\x80\x80\"]",
        "[\"\xf0\x9f\x98\x80\"]",
        "[\"\xe0\x80\x80\"]",
        "[\"\xef\xbf\xbf\"]",
        "[\"\xf8\x88\x80\x80\x80\"]",
        "[\xc3\xa9]",
        "[\"\x01\"]",
        "[\"\x7f\"]",
        "[\"\t\"]",
        "[\"\n\"]",
        "[\"a",
        "[\"a\\",
        "[-0]",
        "[0]",
        "[01]",
        "[-]",
        "[1.]",
        "[1.e5]",
        "[.5]",
        "[1e]",
        "[1e+]",
        "[1E+5]",
        "[-01]",
        "[00]",
        "[+1]",
        "[1e5.5]",
        "[0x10]",
        "[9223372036854775807]",
        "[9223372036854775808]",
        "[-9223372036854775808]",
        "[-9223372036854775809]",
        "[123456789012345678901234567890]",
        "[1e308]",
        "[1.7976931348623157e308]",
        "[1.7976931348623158e308]",
        "[1.7976931348623159e308]",
        "[1e309]",
        "[-1e309]",
        "[0e99999]",
        "[1e-99999]",
        "[0.000000000000000000001e330]",
        "[10000000000000000000000000000000000000000.0e270]",
        "[1e99999999999999999999]",
        "[tru]",
        "[truex]",
        "[nul]",
        "[True]",
        "[NaN]",
        "[Infinity]",
        "[-Infinity]",
        "[nulll]",
        "[true1]",
        "[falsey]",
    };
    eng_strbuf m = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *c = cases[i];
        size_t n = strlen(c);
        if (i == 16 || i == 17)
            n = 3; /* the NUL byte counts */
        diff_all(&ds, c, n);
        eng_strbuf_reset(&m);
        eng_strbuf_puts(&m, "{\"schema\":");
        eng_strbuf_append(&m, c, n);
        eng_strbuf_puts(&m, ",\"payload\":{\"op\":\"c\",\"after\":{\"id\":1,\"first_name\":\"a\","
                            "\"last_name\":\"b\",\"email\":\"c\"}}}");
        diff_all(&ds, m.data, m.len);
        eng_strbuf_reset(&m);
        eng_strbuf_puts(&m, "{\"op\":\"c\",\"after\":{\"f7\":");
        eng_strbuf_append(&m, c, n);
        eng_strbuf_puts(&m, ",\"f28\":\"k\",\"f5\":");
        eng_strbuf_append(&m, c, n);
        eng_strbuf_puts(&m, "}}");
        diff_all(&ds, m.data, m.len);
    }
    /* nesting at jansson's limit: 2048 levels are fine, 2049 are not */
    for (int depth = 2046; depth <= 2050; depth++) {
        for (int inner = 0; inner < 3; inner++) {
            eng_strbuf_reset(&m);
            for (int d = 0; d < depth; d++)
                eng_strbuf_puts(&m, d % 3 == 2 ? "{\"k\":" : "[");
            eng_strbuf_puts(&m, inner == 0 ? "" : inner == 1 ? "1" : "{}");
            for (int d = depth; d-- > 0;)
                eng_strbuf_puts(&m, d % 3 == 2 ? "}" : "]");
            diff_all(&ds, m.data, m.len);
        }
    }
    /* long reals near the double's edge (strtod on a heap copy): 2^1024 -
     * 2^970 rounds to infinity, one less is DBL_MAX */
    static const char *const big[] = {
        "[17976931348623158079372897140530341507993413271003782693617377898044496829276475094664901"
        "7977587207096330286416692887910946555547851940402630657488671505820681908902000708383676"
        "2738548458177115317644757302700698555713669596228429148198608349364752927190741684443655"
        "10704342711559699508093042880177904174497792.0]",
        "[17976931348623158079372897140530341507993413271003782693617377898044496829276475094664901"
        "7977587207096330286416692887910946555547851940402630657488671505820681908902000708383676"
        "2738548458177115317644757302700698555713669596228429148198608349364752927190741684443655"
        "10704342711559699508093042880177904174497791.9999]",
    };
    for (size_t i = 0; i < 2; i++)
        diff_all(&ds, big[i], strlen(big[i]));
    /* objects with many keys (the sorted duplicate check): equal first and
     * last 8 bytes and lengths, so every hash collides */
    for (int dup = 0; dup < 2; dup++) {
        eng_strbuf_reset(&m);
        eng_strbuf_putc(&m, '{');
        for (int i = 0; i < 300; i++)
            eng_strbuf_printf(&m, "%s\"aaaaaaaa%03dbbbbbbbb\":%d", i ? "," : "", i, i);
        if (dup)
            eng_strbuf_puts(&m, ",\"aaaaaaaa1\\u0037bbbbbbbbb\":0,\"aaaaaaaa\\u00317bbbbbbbb\":1");
        eng_strbuf_putc(&m, '}');
        diff_all(&ds, m.data, m.len);
    }
    /* more keys pending than the scanner keeps inline */
    eng_strbuf_reset(&m);
    for (int i = 0; i < 200; i++)
        eng_strbuf_printf(&m, "{\"k%d\":1,\"n\":", i);
    eng_strbuf_puts(&m, "null");
    for (int i = 0; i < 200; i++)
        eng_strbuf_putc(&m, '}');
    diff_all(&ds, m.data, m.len);
    /* the envelope's shape at the top */
    static const char *const tops[] = {
        "{\"schema\":null,\"payload\":{\"op\":\"c\",\"after\":{\"id\":1,\"first_name\":\"a\","
        "\"last_name\":\"b\",\"email\":\"c\"}},\"x\":1}",
        "{\"payload\":{\"op\":\"t\"}}",
        "{\"\\u0073chema\":null,\"p\\u0061yload\":{\"op\":\"t\"}}",
        "{\"schema\":1,\"payload\":null}",
        "{\"schema\":1,\"payload\":[]}",
        "[{\"op\":\"c\"}]",
        "{\"payload\":null,\"schema\":{}}",
        "{\"op\":\"c\",\"after\":{\"id\":1,\"first_name\":\"a\",\"last_name\":\"b\","
        "\"email\":\"c\"},\"schema\":1}",
        /* objects beside the payload with the envelope's member names */
        "{\"schema\":{\"op\":\"d\",\"after\":null,\"source\":{\"lsn\":1}},\"payload\":{\"op\":"
        "\"c\",\"after\":{\"id\":1,\"first_name\":\"a\",\"last_name\":\"b\",\"email\":\"c\"},"
        "\"source\":{\"lsn\":7}}}",
        "{\"payload\":{\"op\":\"c\",\"after\":{\"id\":1,\"first_name\":\"a\",\"last_name\":"
        "\"b\",\"email\":\"c\"},\"source\":{\"lsn\":7}},\"schema\":{\"op\":\"d\",\"after\":"
        "null,\"source\":{\"lsn\":1},\"ts_ms\":3}}",
        "[{\"op\":\"d\"},{\"op\":\"c\"}]",
    };
    for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++)
        diff_all(&ds, tops[i], strlen(tops[i]));
    /* envelopes with 15 to 18 members: the check records at most 16 of an
     * envelope's members, the decoder walks the object beyond that */
    for (int extra = 10; extra <= 13; extra++)
        for (int wrap = 0; wrap < 2; wrap++) {
            eng_strbuf_reset(&m);
            if (wrap)
                eng_strbuf_puts(&m, "{\"schema\":{},\"payload\":");
            eng_strbuf_puts(&m, "{\"before\":null");
            for (int i = 0; i < extra; i++)
                eng_strbuf_printf(&m, ",\"x%d\":%d", i, i);
            eng_strbuf_puts(&m, ",\"after\":{\"id\":1,\"first_name\":\"a\",\"last_name\":\"b\","
                                "\"email\":\"c\"},\"source\":{\"lsn\":7},\"op\":\"c\","
                                "\"ts_ms\":5,\"op\\u0000\":1}");
            if (wrap)
                eng_strbuf_putc(&m, '}');
            diff_all(&ds, m.data, m.len);
            /* the same without the invalid last key decodes */
            char *nul = strstr(m.data, ",\"op\\u0000\":1");
            memmove(nul, nul + 13, strlen(nul + 13) + 1);
            m.len -= 13;
            diff_all(&ds, m.data, m.len);
            io_dbz_change c = {0};
            eng_err err;
            eng_err_clear(&err);
            assert_int_equal(io_dbz_decode(&ds.cust, m.data, m.len, &c, &err), 0);
            assert_true(c.op == 'c' && c.has_lsn && c.lsn == 7 && c.ts_ms == 5);
            io_dbz_change_free(&c);
        }
    eng_strbuf_free(&m);
    eng_strbuf_free(&wide_schema);
    diff_schemas_free(&ds);
}

/* Seeded random events, transaction messages and keys, most of them then
 * mutated: thousands of inputs through both decoders. */
static void
test_differential_random(void **state)
{
    (void)state;
    diff_seed_init();
    diff_schemas ds;
    eng_strbuf wide_schema = {0};
    diff_schemas_init(&ds, &wide_schema);
    uint64_t r = diff_seed;
    long rounds = 6000;
    const char *env = getenv("SLUICE_TEST_ROUNDS");
    if (env)
        rounds = strtol(env, NULL, 10);
    eng_strbuf b = {0};
    diff_cases = diff_ok = 0;
    memset(diff_calls, 0, sizeof diff_calls);
    memset(diff_decoded, 0, sizeof diff_decoded);
    for (long round = 0; round < rounds; round++) {
        eng_strbuf_reset(&b);
        size_t kind = rnd_below(&r, 10);
        if (kind < 6) {
            put_event(&b, &r, wide_schema.data);
        } else if (kind < 8) {
            put_txn(&b, &r);
        } else if (kind == 8) {
            char msg[4096];
            long long id = (long long)rnd_below(&r, 5000000000ull) - 2500000000LL;
            size_t n = t_dbz_gen_message(id, (int)rnd_below(&r, 2), msg, sizeof msg);
            eng_strbuf_append(&b, msg, n);
        } else {
            static const char *const ids[] = {"1", "-2147483648", "2147483647", "0", "7"};
            eng_strbuf_putc(&b, '{');
            put_key(&b, &r, "id");
            if (rnd_below(&r, 4))
                eng_strbuf_puts(&b, ids[rnd_below(&r, 5)]);
            else
                eng_strbuf_puts(&b,
                                any_value[rnd_below(&r, sizeof any_value / sizeof any_value[0])]);
            if (rnd_below(&r, 2)) {
                eng_strbuf_putc(&b, ',');
                put_key(&b, &r, "f28");
                eng_strbuf_puts(&b, rnd_below(&r, 3) ? "\"x\"" : "null");
            }
            eng_strbuf_putc(&b, '}');
        }
        diff_all(&ds, b.data, b.len);
        /* mutated copies */
        size_t cap = b.len + 64;
        char *t = malloc(cap);
        assert_non_null(t);
        for (int k = 0; k < 2; k++) {
            size_t n = b.len;
            memcpy(t, b.data, n);
            mutate(&r, t, &n, cap);
            diff_all(&ds, t, n);
        }
        free(t);
    }
    printf("differential: seed %u, %ld inputs, %ld calls (%ld decoded): decode %ld/%ld, key "
           "%ld/%ld, txn %ld/%ld\n",
           diff_seed, rounds * 3, diff_cases, diff_ok, diff_decoded[0], diff_calls[0],
           diff_decoded[1], diff_calls[1], diff_decoded[2], diff_calls[2]);
    /* a test that cannot fail is a defect: both outcomes must be common */
    for (int i = 0; i < 3; i++)
        assert_true(diff_decoded[i] > diff_calls[i] / 50);
    eng_strbuf_free(&b);
    eng_strbuf_free(&wide_schema);
    diff_schemas_free(&ds);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_samples),
        cmocka_unit_test(test_ops),
        cmocka_unit_test(test_logical_types),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_transaction_metadata),
        cmocka_unit_test(test_truncation_corruption),
        cmocka_unit_test(test_differential_samples),
        cmocka_unit_test(test_differential_json_edges),
        cmocka_unit_test(test_differential_random),
        cmocka_unit_test(test_empty_decimal_fresh_change),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
