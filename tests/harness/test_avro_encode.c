/* The test tools' Avro encoder (avro_encode.c) against two independent
 * readers: Sluice's own decoder (io/avro_cf.c: every column type, logical
 * and Debezium connect.name types, the Debezium envelope and key schemas
 * in io/data/) and avro-c (arrays, maps, enums, fixed, nested and
 * recursive named types, namespaces: avro-c reads our bytes, prints them
 * as JSON and writes them again, byte for byte). Exact bytes for the
 * encoding's edge cases (zig-zag, decimals' two's complement, blocks), the
 * union forms, defaults, and errors that name the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>
#include <cmocka.h>

#include "engine/core/eng_strbuf.h"
#include "engine/core/eng_text.h"
#include "io/io_avro.h"
#include "tests/harness/avro_encode.h"
#include "tests/io/avro_check.h"

/* ------------------------------------------------------------------ helpers */

static t_avro_schema *
schema(const char *json)
{
    char err[512];
    t_avro_schema *s = t_avro_schema_parse(json, strlen(json), err, sizeof err);
    if (s == NULL)
        fail_msg("schema: %s", err);
    return s;
}

static void
encode(const t_avro_schema *s, const char *doc, t_avro_buf *out)
{
    char err[512];
    if (t_avro_encode_text(s, doc, strlen(doc), out, err, sizeof err) < 0)
        fail_msg("encode %s: %s", doc, err);
}

static void
hex(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%02x", i ? " " : "", p[i]);
    out[o] = '\0';
}

/* doc encoded against schema_json is exactly want (hex bytes). */
static void
expect_bytes(const char *schema_json, const char *doc, const char *want)
{
    t_avro_schema *s = schema(schema_json);
    t_avro_buf b = {0};
    encode(s, doc, &b);
    char got[1024];
    hex(b.data, b.len, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("%s as %s: got \"%s\", want \"%s\"", doc, schema_json, got, want);
    t_avro_buf_free(&b);
    t_avro_schema_free(s);
}

/* doc fails against schema_json with an error containing want, leaving the
 * buffer as it was. */
static void
expect_error(const char *schema_json, const char *doc, const char *want)
{
    t_avro_schema *s = schema(schema_json);
    t_avro_buf b = {0};
    t_avro_cf_header(&b, 1);
    char err[512];
    if (t_avro_encode_text(s, doc, strlen(doc), &b, err, sizeof err) == 0)
        fail_msg("%s as %s encoded", doc, schema_json);
    if (strstr(err, want) == NULL)
        fail_msg("%s: \"%s\" does not contain \"%s\"", doc, err, want);
    assert_int_equal(b.len, 5);
    t_avro_buf_free(&b);
    t_avro_schema_free(s);
}

static io_avro_decoder *
decoder(const char *json, io_avro_mode mode, uint32_t id)
{
    eng_err err;
    eng_err_clear(&err);
    io_avro_decoder *d = io_avro_decoder_create(json, strlen(json), mode, &err);
    if (d == NULL || io_avro_decoder_add_schema(d, id, json, strlen(json), &err) < 0)
        fail_msg("%s: %s", err.sqlstate, err.message);
    return d;
}

/* doc, encoded and framed with id 1, decodes with io_avro_decode to the
 * row text want. */
static void
expect_row(const char *schema_json, const char *doc, const char *want)
{
    t_avro_schema *s = schema(schema_json);
    io_avro_decoder *d = decoder(schema_json, IO_AVRO_PLAIN, 1);
    t_avro_buf b = {0};
    t_avro_cf_header(&b, 1);
    encode(s, doc, &b);
    eng_err err;
    eng_err_clear(&err);
    eng_rowbuf rb = {0};
    if (io_avro_decode(d, b.data, b.len, &rb, &err) < 0)
        fail_msg("%s: %s: %s", doc, err.sqlstate, err.message);
    char got[2048];
    t_avro_row_text(d, eng_rowbuf_row(&rb), got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("%s: got \"%s\", want \"%s\"", doc, got, want);
    eng_rowbuf_free(&rb);
    t_avro_buf_free(&b);
    io_avro_decoder_free(d);
    t_avro_schema_free(s);
}

/* doc encoded by us is read by avro-c, whose JSON rendering equals
 * want_json (as JSON values) and whose own encoding of what it read is our
 * bytes exactly. */
static void
expect_avro_c(const char *schema_json, const char *doc, const char *want_json)
{
    t_avro_schema *s = schema(schema_json);
    t_avro_buf b = {0};
    encode(s, doc, &b);
    avro_schema_t as;
    if (avro_schema_from_json_length(schema_json, strlen(schema_json), &as) != 0)
        fail_msg("avro-c: %s", avro_strerror());
    avro_value_iface_t *iface = avro_generic_class_from_schema(as);
    avro_value_t v;
    assert_int_equal(avro_generic_value_new(iface, &v), 0);
    avro_reader_t r = avro_reader_memory((const char *)b.data, (int64_t)b.len);
    if (avro_value_read(r, &v) != 0)
        fail_msg("avro-c cannot read %s: %s", doc, avro_strerror());
    avro_reader_free(r);
    char *js = NULL;
    assert_int_equal(avro_value_to_json(&v, 1, &js), 0);
    json_t *got = json_loads(js, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    json_t *want = json_loads(want_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    assert_non_null(got);
    assert_non_null(want);
    if (!json_equal(got, want))
        fail_msg("%s: avro-c read %s, want %s", doc, js, want_json);
    uint8_t again[8192];
    avro_writer_t w = avro_writer_memory((char *)again, sizeof again);
    assert_int_equal(avro_value_write(w, &v), 0);
    size_t n = (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    char h1[4096], h2[4096];
    hex(b.data, b.len, h1, sizeof h1);
    hex(again, n, h2, sizeof h2);
    if (strcmp(h1, h2) != 0)
        fail_msg("%s: we wrote %s, avro-c writes %s", doc, h1, h2);
    json_decref(got);
    json_decref(want);
    free(js);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    avro_schema_decref(as);
    t_avro_buf_free(&b);
    t_avro_schema_free(s);
}

/* ------------------------------------------------------------------ exact bytes */

static void
test_bytes(void **state)
{
    (void)state;
    /* zig-zag varints */
    expect_bytes("\"int\"", "0", "00");
    expect_bytes("\"int\"", "-1", "01");
    expect_bytes("\"int\"", "1", "02");
    expect_bytes("\"int\"", "-64", "7f");
    expect_bytes("\"int\"", "64", "80 01");
    expect_bytes("\"int\"", "2147483647", "fe ff ff ff 0f");
    expect_bytes("\"int\"", "-2147483648", "ff ff ff ff 0f");
    expect_bytes("\"long\"", "9223372036854775807", "fe ff ff ff ff ff ff ff ff 01");
    expect_bytes("\"long\"", "-9223372036854775808", "ff ff ff ff ff ff ff ff ff 01");
    expect_bytes("\"null\"", "null", "");
    expect_bytes("\"boolean\"", "true", "01");
    expect_bytes("\"boolean\"", "false", "00");
    expect_bytes("\"float\"", "1.5", "00 00 c0 3f");
    expect_bytes("\"float\"", "2", "00 00 00 40");
    expect_bytes("\"double\"", "-2.0", "00 00 00 00 00 00 00 c0");
    expect_bytes("\"float\"", "\"-Infinity\"", "00 00 80 ff");
    expect_bytes("\"double\"", "\"Infinity\"", "00 00 00 00 00 00 f0 7f");
    expect_bytes("\"string\"", "\"h\\u00e9\"", "06 68 c3 a9");
    expect_bytes("\"string\"", "\"a\\u0000b\"", "06 61 00 62");
    /* bytes are code points U+0000..U+00FF */
    expect_bytes("\"bytes\"", "\"\\u0000\\u00ff\\u0080A\"", "08 00 ff 80 41");
    expect_bytes("\"bytes\"", "\"\"", "00");
    expect_bytes("{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}", "\"\\u0001\\u00fez\"",
                 "01 fe 7a");
    expect_bytes("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\",\"C\"]}", "\"C\"",
                 "04");
    /* one block, then the 0 that ends the array or map; empty is just 0 */
    expect_bytes("{\"type\":\"array\",\"items\":\"int\"}", "[1, -1, 64]", "06 02 01 80 01 00");
    expect_bytes("{\"type\":\"array\",\"items\":\"int\"}", "[]", "00");
    expect_bytes("{\"type\":\"map\",\"values\":\"long\"}", "{\"a\": 1, \"bc\": 2}",
                 "04 02 61 02 04 62 63 04 00");
    expect_bytes("{\"type\":\"map\",\"values\":\"long\"}", "{}", "00");
    /* unions: plain values match the first branch that takes them */
    const char *u = "[\"null\", \"int\", \"string\", \"double\"]";
    expect_bytes(u, "null", "00");
    expect_bytes(u, "3", "02 06");
    expect_bytes(u, "\"x\"", "04 02 78");
    expect_bytes(u, "2.5", "06 00 00 00 00 00 00 04 40");
    expect_bytes(u, "4294967296", "06 00 00 00 00 00 00 f0 41"); /* not an int: a double */
    /* ... or the wrapped form picks the branch */
    expect_bytes(u, "{\"double\": 3}", "06 00 00 00 00 00 00 08 40");
    expect_bytes(u, "{\"string\": \"y\"}", "04 02 79");
    expect_bytes(u, "{\"null\": null}", "00");
    const char *nu = "[\"null\", {\"type\":\"record\",\"name\":\"R\",\"namespace\":\"a.b\","
                     "\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}, {\"type\":\"map\","
                     "\"values\":\"int\"}]";
    expect_bytes(nu, "{\"x\": 1}", "02 02");
    expect_bytes(nu, "{\"a.b.R\": {\"x\": 1}}", "02 02");
    expect_bytes(nu, "{\"R\": {\"x\": 1}}", "02 02");
    expect_bytes(nu, "{\"y\": 1}", "04 02 02 79 02 00"); /* not an R: the map */
    expect_bytes(nu, "{\"map\": {\"x\": 1}}", "04 02 02 78 02 00");
    /* record fields in schema order, whatever the object's; defaults */
    expect_bytes("{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"a\",\"type\":"
                 "\"int\"},{\"name\":\"b\",\"type\":[\"null\",\"string\"],\"default\":null},"
                 "{\"name\":\"c\",\"type\":\"string\",\"default\":\"dflt\"}]}",
                 "{\"c\": \"z\", \"a\": 5}", "0a 00 02 7a");
    expect_bytes("{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"a\",\"type\":"
                 "\"int\",\"default\":7},{\"name\":\"b\",\"type\":\"bytes\",\"default\":"
                 "\"\\u00ff\"}]}",
                 "{}", "0e 02 ff");
    /* logical types are their underlying type */
    expect_bytes("{\"type\":\"int\",\"logicalType\":\"date\"}", "-1", "01");
    expect_bytes("{\"type\":\"string\",\"logicalType\":\"uuid\"}", "\"u\"", "02 75");
}

/* Decimals: the unscaled value as minimal big-endian two's complement. */
static void
test_decimal_bytes(void **state)
{
    (void)state;
    const char *d2 = "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":9,\"scale\":2}";
    expect_bytes(d2, "\"12.34\"", "04 04 d2");
    expect_bytes(d2, "12.34", "04 04 d2");
    expect_bytes(d2, "\"-12.34\"", "04 fb 2e");
    expect_bytes(d2, "0", "02 00");
    expect_bytes(d2, "\"-0.00\"", "02 00");
    expect_bytes(d2, "\"1.27\"", "02 7f");
    expect_bytes(d2, "\"1.28\"", "04 00 80");
    expect_bytes(d2, "\"-1.28\"", "02 80");
    expect_bytes(d2, "\"-1.29\"", "04 ff 7f");
    expect_bytes(d2, "\"-0.01\"", "02 ff");
    expect_bytes(d2, "5", "04 01 f4");
    expect_bytes(d2, "\"1.5e1\"", "04 05 dc");
    expect_bytes(d2, "\"+.5\"", "02 32");
    expect_bytes(d2, "\"1234.5000\"", "06 01 e2 3a"); /* trailing zeros beyond the scale */
    /* a string that is not a number is the raw bytes */
    expect_bytes(d2, "\"\\u0004\\u00d2\"", "04 04 d2");
    /* Kafka Connect's Decimal: the scale from connect.parameters */
    expect_bytes("{\"type\":\"bytes\",\"connect.name\":\"org.apache.kafka.connect.data.Decimal\","
                 "\"connect.parameters\":{\"scale\":\"3\"}}",
                 "\"-0.005\"", "02 fb");
    /* fixed: sign-extended to the size */
    const char *fd = "{\"type\":\"fixed\",\"name\":\"D\",\"size\":4,\"logicalType\":\"decimal\","
                     "\"precision\":8,\"scale\":1}";
    expect_bytes(fd, "\"-0.1\"", "ff ff ff ff");
    expect_bytes(fd, "\"123.4\"", "00 00 04 d2");
    expect_bytes(fd, "\"\\u0001\\u0002\\u0003\\u0004\"", "01 02 03 04");
    /* 2^127 - 1 and -2^127 at scale 0 */
    const char *big = "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":39}";
    expect_bytes(big, "\"170141183460469231731687303715884105727\"",
                 "20 7f ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff");
    expect_bytes(big, "\"-170141183460469231731687303715884105728\"",
                 "20 80 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
    expect_bytes(big, "\"-170141183460469231731687303715884105729\"",
                 "22 ff 7f ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff");
}

/* ------------------------------------------------------------------ io/avro_cf.c reads it */

static void
test_sluice_decoder(void **state)
{
    (void)state;
    expect_row(t_avro_all_types,
               "{\"b\": true, \"i\": 2147483647, \"l\": 9223372036854775807, \"f\": 1.5, "
               "\"d\": 0.1, \"s\": \"h\\u00e9llo\", \"y\": \"\\u0001\\u00ff\", \"e\": \"RED\", "
               "\"x\": \"ab\", \"n\": -7, \"dec\": \"99999999.99\", \"fdec\": 1.234, "
               "\"dt\": -1, \"tm\": 45296789, \"tu\": 45296789012, \"tsm\": 0, "
               "\"tsu\": 1700000000123456, \"u\": \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\", "
               "\"ns\": null}",
               "t|2147483647|9223372036854775807|1.5|0.1|héllo|\\x01ff|RED|\\x6162|-7|"
               "99999999.99|1.234|1969-12-31|12:34:56.789|12:34:56.789012|1970-01-01 00:00:00|"
               "2023-11-14 22:13:20.123456|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|NULL");
    /* the same through the wrapped union form and the other edges */
    expect_row(
        t_avro_all_types,
        "{\"b\": false, \"i\": -2147483648, \"l\": -9223372036854775808, \"f\": -0.0, "
        "\"d\": -1e300, \"s\": \"\", \"y\": \"\", \"e\": \"BLUE\", \"x\": \"\\u0000\\u0000\", "
        "\"n\": {\"null\": null}, \"dec\": -123.45, \"fdec\": \"-0.001\", "
        "\"dt\": -719528, \"tm\": 0, \"tu\": 86399999999, \"tsm\": -1, "
        "\"tsu\": -62135596800000000, \"u\": \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\", "
        "\"ns\": {\"string\": \"x\"}}",
        "f|-2147483648|-9223372036854775808|0|-1e+300||\\x|BLUE|\\x0000|NULL|-123.45|"
        "-0.001|0001-01-01 BC|00:00:00|23:59:59.999999|1969-12-31 23:59:59.999|"
        "0001-01-01 00:00:00|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|x");
    /* big decimals, exactly */
    const char *dec = "{\"type\":\"record\",\"name\":\"N\",\"fields\":["
                      "{\"name\":\"a\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\","
                      "\"precision\":38,\"scale\":10}},"
                      "{\"name\":\"b\",\"type\":[\"null\",{\"type\":\"bytes\",\"logicalType\":"
                      "\"decimal\",\"precision\":38,\"scale\":0}]}]}";
    expect_row(dec, "{\"a\": \"-1234567890123456789012345678.0123456789\", \"b\": \"1e37\"}",
               "-1234567890123456789012345678.0123456789|"
               "10000000000000000000000000000000000000");
    expect_row(dec, "{\"a\": \"0.0000000001\", \"b\": -1}", "0.0000000001|-1");
    /* Debezium's connect.name types */
    const char *dbz =
        "{\"type\":\"record\",\"name\":\"V\",\"fields\":["
        "{\"name\":\"d\",\"type\":{\"type\":\"int\",\"connect.name\":\"io.debezium.time.Date\"}},"
        "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"connect.name\":"
        "\"io.debezium.time.MicroTimestamp\"}},"
        "{\"name\":\"zts\",\"type\":[\"null\",{\"type\":\"string\",\"connect.name\":"
        "\"io.debezium.time.ZonedTimestamp\"}]},"
        "{\"name\":\"j\",\"type\":{\"type\":\"string\",\"connect.name\":\"io.debezium.data.Json\"}}"
        ","
        "{\"name\":\"k\",\"type\":{\"type\":\"bytes\",\"connect.name\":"
        "\"org.apache.kafka.connect.data.Decimal\",\"connect.parameters\":{\"scale\":\"3\"}}},"
        "{\"name\":\"v\",\"type\":{\"type\":\"record\",\"name\":\"VariableScaleDecimal\","
        "\"namespace\":\"io.debezium.data\",\"fields\":[{\"name\":\"scale\",\"type\":\"int\"},"
        "{\"name\":\"value\",\"type\":\"bytes\"}],\"connect.name\":"
        "\"io.debezium.data.VariableScaleDecimal\"}}"
        "]}";
    expect_row(dbz,
               "{\"d\": -3653, \"ts\": -1, \"zts\": \"2024-01-02T03:04:05.123456Z\", "
               "\"j\": \"{\\\"b\\\": 1}\", \"k\": \"12.5\", "
               "\"v\": {\"scale\": 2, \"value\": \"\\u00ff\\u0085\"}}",
               "1960-01-01|1969-12-31 23:59:59.999999|2024-01-02 03:04:05.123456+00|{\"b\": 1}|"
               "12.500|-1.23");
}

/* Debezium envelopes and keys (io/data's sample schemas) from JSON, read
 * by io_avro_decode_debezium. */
static void
test_debezium_envelope(void **state)
{
    (void)state;
    const char *env = t_avro_slurp("envelope.avsc");
    t_avro_schema *s = schema(env);
    io_avro_decoder *d = decoder(env, IO_AVRO_DEBEZIUM, 42);
    const char *docs[] = {
        /* plain union values */
        "{\"before\": null, \"after\": {\"id\": 1004, \"first_name\": \"Anne\", \"last_name\": "
        "\"Kretchmar\", \"email\": \"annek@noanswer.org\"}, \"source\": {\"version\": \"2.5\", "
        "\"connector\": \"postgresql\", \"name\": \"pg\", \"ts_ms\": 1559033904863, \"db\": "
        "\"postgres\", \"schema\": \"public\", \"table\": \"customers\", \"txId\": 555, \"lsn\": "
        "24023128}, \"op\": \"c\", \"ts_ms\": 1559033904863}",
        /* wrapped, with the records' full names; defaults for the rest */
        "{\"before\": {\"PostgreSQL_server.public.customers.Value\": {\"id\": 1004, "
        "\"first_name\": \"Anne\", \"last_name\": \"K\", \"email\": \"a@b\"}}, \"after\": "
        "{\"PostgreSQL_server.public.customers.Value\": {\"id\": 1004, \"first_name\": \"Anne "
        "Marie\", \"last_name\": \"K\", \"email\": \"a@b\"}}, \"source\": {\"version\": \"2.5\", "
        "\"connector\": \"postgresql\", \"name\": \"pg\", \"ts_ms\": 1, \"db\": \"postgres\", "
        "\"schema\": \"public\", \"table\": \"customers\", \"lsn\": {\"long\": 24023200}}, "
        "\"op\": \"u\"}",
        "{\"before\": {\"id\": 7, \"first_name\": \"\", \"last_name\": \"\", \"email\": \"\"}, "
        "\"source\": {\"version\": \"2.5\", \"connector\": \"postgresql\", \"name\": \"pg\", "
        "\"ts_ms\": 1, \"db\": \"postgres\", \"schema\": \"public\", \"table\": \"customers\"}, "
        "\"op\": \"d\"}",
    };
    const char *want[][3] = {
        {"c", NULL, "1004|Anne|Kretchmar|annek@noanswer.org"},
        {"u", "1004|Anne|K|a@b", "1004|Anne Marie|K|a@b"},
        {"d", "7|||", NULL},
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        t_avro_buf b = {0};
        t_avro_cf_header(&b, 42);
        encode(s, docs[i], &b);
        eng_err err;
        eng_err_clear(&err);
        io_avro_change c;
        if (io_avro_decode_debezium(d, b.data, b.len, &c, &err) < 0)
            fail_msg("%zu: %s: %s", i, err.sqlstate, err.message);
        assert_int_equal(c.op, want[i][0][0]);
        char got[512];
        assert_int_equal(c.has_before, want[i][1] != NULL);
        if (want[i][1]) {
            t_avro_row_text(d, c.before, got, sizeof got);
            assert_string_equal(got, want[i][1]);
        }
        assert_int_equal(c.has_after, want[i][2] != NULL);
        if (want[i][2]) {
            t_avro_row_text(d, c.after, got, sizeof got);
            assert_string_equal(got, want[i][2]);
        }
        assert_int_equal(c.has_lsn, i < 2);
        assert_int_equal(c.has_txid, i == 0);
        assert_int_equal(c.has_ts_ms, i == 0);
        if (i == 0) {
            assert_int_equal(c.lsn, 24023128);
            assert_int_equal(c.txid, 555);
            assert_int_equal(c.ts_ms, 1559033904863);
        }
        t_avro_buf_free(&b);
    }
    io_avro_decoder_free(d);
    /* avro-c agrees on the bytes (its JSON names union branches by their
     * short names) */
    expect_avro_c(env, docs[1],
                  "{\"before\": {\"Value\": {\"id\": 1004, "
                  "\"first_name\": \"Anne\", \"last_name\": \"K\", \"email\": \"a@b\"}}, "
                  "\"after\": {\"Value\": {\"id\": 1004, "
                  "\"first_name\": \"Anne Marie\", \"last_name\": \"K\", \"email\": \"a@b\"}}, "
                  "\"source\": {\"version\": \"2.5\", \"connector\": \"postgresql\", \"name\": "
                  "\"pg\", \"ts_ms\": 1, \"db\": \"postgres\", \"schema\": \"public\", "
                  "\"table\": \"customers\", \"txId\": null, \"lsn\": {\"long\": 24023200}}, "
                  "\"op\": \"u\", \"ts_ms\": null}");
    t_avro_schema_free(s);

    const char *key = t_avro_slurp("key.avsc");
    expect_row(key, "{\"id\": -1004}", "-1004");
    expect_avro_c(key, "{\"id\": -1004}", "{\"id\": -1004}");
}

/* ------------------------------------------------------------------ avro-c reads it */

static void
test_avro_c(void **state)
{
    (void)state;
    /* named types referred to by short and full names across namespaces,
     * a recursive record, arrays and maps of records and unions */
    const char *s =
        "{\"type\":\"record\",\"name\":\"Top\",\"namespace\":\"t.ns\",\"fields\":["
        "{\"name\":\"color\",\"type\":{\"type\":\"enum\",\"name\":\"Color\",\"symbols\":"
        "[\"RED\",\"GREEN\"]}},"
        "{\"name\":\"other\",\"type\":{\"type\":\"record\",\"name\":\"Other\",\"namespace\":"
        "\"o\",\"fields\":[{\"name\":\"c\",\"type\":\"t.ns.Color\"},{\"name\":\"h\",\"type\":"
        "{\"type\":\"fixed\",\"name\":\"Hash\",\"size\":2}}]}},"
        "{\"name\":\"h2\",\"type\":\"o.Hash\"},"
        "{\"name\":\"c2\",\"type\":\"Color\"},"
        "{\"name\":\"list\",\"type\":{\"type\":\"record\",\"name\":\"Node\",\"fields\":["
        "{\"name\":\"v\",\"type\":\"long\"},{\"name\":\"next\",\"type\":[\"null\",\"Node\"]}]}},"
        "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
        "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":[\"null\",\"double\","
        "\"o.Other\"]}},"
        "{\"name\":\"grid\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"array\","
        "\"items\":\"int\"}}},"
        "{\"name\":\"raw\",\"type\":[\"bytes\",\"null\"]},"
        "{\"name\":\"flag\",\"type\":\"boolean\",\"default\":true},"
        "{\"name\":\"f\",\"type\":\"float\"}]}";
    expect_avro_c(s,
                  "{\"color\": \"GREEN\", \"other\": {\"c\": \"RED\", \"h\": \"\\u00ff\\u0001\"}, "
                  "\"h2\": \"hi\", \"c2\": \"RED\", \"list\": {\"v\": 1, \"next\": {\"v\": -2, "
                  "\"next\": {\"t.ns.Node\": {\"v\": 3, \"next\": null}}}}, \"tags\": [\"a\", "
                  "\"\", \"c\"], \"attrs\": {\"x\": 1.5, \"y\": null, \"z\": {\"c\": \"GREEN\", "
                  "\"h\": \"zz\"}}, \"grid\": [[1, 2], [], [3]], \"raw\": \"\\u0080\", "
                  "\"f\": -0.25}",
                  "{\"color\": \"GREEN\", \"other\": {\"c\": \"RED\", \"h\": \"\\u00ff\\u0001\"}, "
                  "\"h2\": \"hi\", \"c2\": \"RED\", \"list\": {\"v\": 1, \"next\": {\"Node\": "
                  "{\"v\": -2, \"next\": {\"Node\": {\"v\": 3, \"next\": null}}}}}, "
                  "\"tags\": [\"a\", \"\", \"c\"], \"attrs\": {\"x\": {\"double\": 1.5}, \"y\": "
                  "null, \"z\": {\"Other\": {\"c\": \"GREEN\", \"h\": \"zz\"}}}, \"grid\": "
                  "[[1, 2], [], [3]], \"raw\": {\"bytes\": \"\\u0080\"}, \"flag\": true, "
                  "\"f\": -0.25}");
    expect_avro_c(s,
                  "{\"color\": \"RED\", \"other\": {\"c\": \"GREEN\", \"h\": \"ab\"}, \"h2\": "
                  "\"cd\", \"c2\": \"GREEN\", \"list\": {\"v\": 0, \"next\": null}, \"tags\": [], "
                  "\"attrs\": {}, \"grid\": [], \"raw\": null, \"flag\": false, \"f\": 1e10}",
                  "{\"color\": \"RED\", \"other\": {\"c\": \"GREEN\", \"h\": \"ab\"}, \"h2\": "
                  "\"cd\", \"c2\": \"GREEN\", \"list\": {\"v\": 0, \"next\": null}, \"tags\": [], "
                  "\"attrs\": {}, \"grid\": [], \"raw\": null, \"flag\": false, "
                  "\"f\": 10000000000.0}");
}

/* ------------------------------------------------------------------ errors */

static void
test_errors(void **state)
{
    (void)state;
    const char *rec = "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                      "{\"name\":\"id\",\"type\":\"int\"},"
                      "{\"name\":\"after\",\"type\":[\"null\",{\"type\":\"record\",\"name\":"
                      "\"V\",\"fields\":[{\"name\":\"email\",\"type\":\"string\"},"
                      "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"int\"}},"
                      "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"boolean\"}}]}]},"
                      "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":"
                      "[\"A\"]},\"default\":\"A\"}]}";
    expect_error(rec, "{\"id\": \"1\"}", "id: expected an integer for int, got a string");
    expect_error(rec, "{\"id\": 2147483648}", "id: 2147483648 is out of range for int");
    expect_error(rec, "{\"after\": null}", "missing field \"id\" of record R");
    expect_error(rec, "{\"id\": 1, \"idd\": 2, \"after\": null}", "unknown field \"idd\"");
    expect_error(rec, "{\"id\": 1, \"after\": {\"email\": 5, \"tags\": [], \"m\": {}}}",
                 "after.email: expected a string, got an integer");
    expect_error(rec, "{\"id\": 1, \"after\": {\"email\": \"x\", \"tags\": [1, 2.5], \"m\": {}}}",
                 "after.tags[1]: expected an integer for int, got a real number");
    expect_error(rec, "{\"id\": 1, \"after\": {\"email\": \"x\", \"tags\": [], \"m\": {\"k\": 1}}}",
                 "after.m[k]: expected true or false, got an integer");
    expect_error(rec, "{\"id\": 1, \"after\": 5}",
                 "after: an integer matches no branch of the union [null, V]");
    expect_error(rec, "{\"id\": 1, \"after\": {\"V\": {\"email\": \"x\"}}}",
                 "after: missing field \"tags\" of record V");
    expect_error(rec, "{\"id\": 1, \"after\": null, \"e\": \"B\"}",
                 "e: \"B\" is not a symbol of enum E");
    expect_error(rec, "{\"id\": 1,", "invalid JSON at column");
    expect_error(rec, "[]", "expected an object for record R, got an array");
    expect_error("\"bytes\"", "\"\\u0100\"", "a character above U+00FF at byte 0");
    expect_error("{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}", "\"abc\"",
                 "3 bytes for fixed F of size 2");
    expect_error("\"float\"", "1e39", "out of range for float");
    expect_error("\"double\"", "\"1.5\"", "expected a number for double, got a string");
    const char *d2 = "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":4,\"scale\":2}";
    expect_error(d2, "\"1.234\"", "1.234 has more than 2 digits after the decimal point");
    expect_error(d2, "123.4", "123.4 has more than 4 digits (the precision)");
    expect_error(d2, "true", "expected a decimal");
    expect_error("{\"type\":\"fixed\",\"name\":\"D\",\"size\":1,\"logicalType\":\"decimal\","
                 "\"scale\":0}",
                 "128", "decimal does not fit in fixed D of size 1");
    expect_error("{\"type\":\"fixed\",\"name\":\"D\",\"size\":2,\"logicalType\":\"decimal\"}",
                 "\"x\"", "1 bytes for fixed D of size 2");

    /* schemas */
    const char *bad[][2] = {
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"Nope\"}]}",
         "unknown type \"Nope\" (field \"a\" of R)"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":"
         "\"enum\",\"name\":\"R\",\"symbols\":[]}}]}",
         "\"R\" is defined twice"},
        {"[\"null\", [\"int\"]]", "a union directly inside a union"},
        {"{\"type\":\"fixed\",\"name\":\"F\"}", "fixed F without a size"},
        {"{\"type\":\"record\",\"fields\":[]}", "a record without a name"},
        {"{\"type\":", "invalid JSON"},
        {"{\"type\":\"array\"}", "array without items"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
         "{\"name\":\"a\",\"type\":\"int\"}]}",
         "field \"a\" of R is defined twice"},
        /* a reference to a type in another namespace needs the full name */
        {"{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"n\",\"fields\":[{\"name\":\"a\","
         "\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"namespace\":\"m\",\"size\":1}},"
         "{\"name\":\"b\",\"type\":\"F\"}]}",
         "unknown type \"F\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[512];
        t_avro_schema *sc = t_avro_schema_parse(bad[i][0], strlen(bad[i][0]), err, sizeof err);
        if (sc != NULL)
            fail_msg("%s compiled", bad[i][0]);
        if (strstr(err, bad[i][1]) == NULL)
            fail_msg("%s: \"%s\" does not contain \"%s\"", bad[i][0], err, bad[i][1]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes),          cmocka_unit_test(test_decimal_bytes),
        cmocka_unit_test(test_sluice_decoder), cmocka_unit_test(test_debezium_envelope),
        cmocka_unit_test(test_avro_c),         cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
