/* Avro in the Confluent wire format: messages built by hand (every
 * primitive and logical type, Debezium's connect.name types, edge values)
 * and by avro-c's writer (Debezium's envelope.avsc and key.avsc) decode to
 * the expected rows, compared as text through eng_text_format; writer ->
 * reader resolution (promotion, fields added with defaults and removed,
 * reordered fields and union branches); every truncation and random
 * corruption of a message is an error or a clean decode, never a crash
 * (the sanitizer builds check the "never"). */
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
#include "tests/io/avro_check.h"

/* ------------------------------------------------------------------ a hand encoder */

typedef struct buf {
    uint8_t b[4096];
    size_t n;
} buf;

static void
hdr(buf *b, uint32_t id)
{
    b->n = 0;
    b->b[b->n++] = 0;
    for (int i = 3; i >= 0; i--)
        b->b[b->n++] = (uint8_t)(id >> (8 * i));
}

static void
zlong(buf *b, int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
    do {
        b->b[b->n++] = (uint8_t)((u & 0x7f) | (u > 0x7f ? 0x80 : 0));
        u >>= 7;
    } while (u);
}

static void
raw(buf *b, const void *p, size_t n)
{
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void
zbytes(buf *b, const void *p, size_t n)
{
    zlong(b, (int64_t)n);
    raw(b, p, n);
}

static void
zstr(buf *b, const char *s)
{
    zbytes(b, s, strlen(s));
}

/* Minimal big-endian two's complement of v. */
static void
zdecimal(buf *b, int64_t v)
{
    uint8_t t[8];
    int n = 8;
    for (int i = 0; i < 8; i++)
        t[i] = (uint8_t)((uint64_t)v >> (8 * (7 - i)));
    int s = 0;
    while (s < 7 && ((t[s] == 0 && !(t[s + 1] & 0x80)) || (t[s] == 0xff && (t[s + 1] & 0x80))))
        s++;
    zbytes(b, t + s, (size_t)(n - s));
}

/* ------------------------------------------------------------------ helpers */

static io_avro_decoder *
decoder(const char *json, io_avro_mode mode)
{
    eng_err err;
    eng_err_clear(&err);
    io_avro_decoder *d = io_avro_decoder_create(json, strlen(json), mode, &err);
    if (d == NULL)
        fail_msg("%s: %s", err.sqlstate, err.message);
    return d;
}

static void
add(io_avro_decoder *d, uint32_t id, const char *json)
{
    eng_err err;
    eng_err_clear(&err);
    if (io_avro_decoder_add_schema(d, id, json, strlen(json), &err) < 0)
        fail_msg("%s: %s", err.sqlstate, err.message);
}

static void
expect_row(io_avro_decoder *d, const buf *m, const char *want)
{
    eng_err err;
    eng_err_clear(&err);
    eng_rowbuf rb = {0};
    if (io_avro_decode(d, m->b, m->n, &rb, &err) < 0)
        fail_msg("%s: %s", err.sqlstate, err.message);
    assert_true(eng_row_validate(eng_rowbuf_row(&rb), io_avro_decoder_ncols(d)));
    char got[2048];
    t_avro_row_text(d, eng_rowbuf_row(&rb), got, sizeof got);
    assert_string_equal(got, want);
    eng_rowbuf_free(&rb);
}

static void
expect_err(io_avro_decoder *d, const buf *m, const char *sqlstate, const char *substr)
{
    eng_err err;
    eng_err_clear(&err);
    eng_rowbuf rb = {0};
    assert_int_equal(io_avro_decode(d, m->b, m->n, &rb, &err), -1);
    assert_int_equal(rb.len, 0);
    assert_string_equal(err.sqlstate, sqlstate);
    if (strstr(err.message, substr) == NULL)
        fail_msg("\"%s\" does not mention \"%s\"", err.message, substr);
    eng_rowbuf_free(&rb);
}

/* Every truncation is an error; random corruptions never crash and a
 * clean decode gives a valid row. */
static void
mangle(io_avro_decoder *d, const buf *m, bool debezium)
{
    eng_rowbuf rb = {0};
    eng_err err;
    io_avro_change ch;
    for (size_t n = 0; n < m->n; n++) {
        eng_err_clear(&err);
        eng_rowbuf_reset(&rb);
        int rc = debezium ? io_avro_decode_debezium(d, m->b, n, &ch, &err)
                          : io_avro_decode(d, m->b, n, &rb, &err);
        if (rc != -1)
            fail_msg("a truncation to %zu of %zu bytes decoded", n, m->n);
        assert_true(err.sqlstate[0] != 0);
    }
    unsigned seed = 12345;
    buf c;
    for (int it = 0; it < 20000; it++) {
        c = *m;
        int flips = 1 + (int)(rand_r(&seed) % 3);
        for (int f = 0; f < flips; f++)
            c.b[5 + rand_r(&seed) % (c.n - 5)] = (uint8_t)rand_r(&seed);
        eng_err_clear(&err);
        eng_rowbuf_reset(&rb);
        int rc = debezium ? io_avro_decode_debezium(d, c.b, c.n, &ch, &err)
                          : io_avro_decode(d, c.b, c.n, &rb, &err);
        if (rc == 0 && !debezium)
            assert_true(eng_row_validate(eng_rowbuf_row(&rb), io_avro_decoder_ncols(d)));
        if (rc == 0 && debezium) {
            if (ch.has_after)
                assert_true(eng_row_validate(ch.after, io_avro_decoder_ncols(d)));
            if (ch.has_before)
                assert_true(eng_row_validate(ch.before, io_avro_decoder_ncols(d)));
        }
        if (rc != 0)
            assert_true(err.sqlstate[0] != 0);
    }
    eng_rowbuf_free(&rb);
}

/* ------------------------------------------------------------------ framing */

static void
test_frame(void **state)
{
    (void)state;
    eng_err err;
    uint32_t id;
    const uint8_t *body;
    size_t bl;
    const uint8_t ok[] = {0, 0, 0, 1, 2, 42};
    eng_err_clear(&err);
    assert_int_equal(io_avro_cf_frame(ok, sizeof ok, &id, &body, &bl, &err), 0);
    assert_int_equal(id, 258);
    assert_int_equal(bl, 1);
    assert_int_equal(body[0], 42);
    const uint8_t magic[] = {1, 0, 0, 0, 1, 0};
    assert_int_equal(io_avro_cf_frame(magic, sizeof magic, &id, &body, &bl, &err), -1);
    assert_string_equal(err.sqlstate, "XX001");
    assert_non_null(strstr(err.message, "magic byte 0x01"));
    for (size_t n = 0; n < 5; n++) {
        eng_err_clear(&err);
        assert_int_equal(io_avro_cf_frame(ok, n, &id, &body, &bl, &err), -1);
        assert_string_equal(err.sqlstate, "XX001");
    }
    /* through a decoder: wrong magic and an unknown id */
    io_avro_decoder *d = decoder(
        "{\"type\":\"record\",\"name\":\"K\",\"fields\":[{\"name\":\"id\",\"type\":\"int\"}]}",
        IO_AVRO_PLAIN);
    buf m;
    hdr(&m, 7);
    zlong(&m, 5);
    expect_err(d, &m, "22023", "unknown Avro schema id 7");
    m.b[0] = 0xfe;
    expect_err(d, &m, "XX001", "magic byte 0xfe");
    io_avro_decoder_free(d);
}

/* ------------------------------------------------------------------ types */

static void
all_types_msg(buf *m, int variant)
{
    hdr(m, 1);
    m->b[m->n++] = variant ? 0 : 1;             /* b */
    zlong(m, variant ? INT32_MIN : 2147483647); /* i */
    zlong(m, variant ? INT64_MIN : INT64_MAX);  /* l */
    float f = variant ? -0.0f : 1.5f;
    raw(m, &f, 4);
    double dd = variant ? -1e300 : 0.1;
    raw(m, &dd, 8);
    zstr(m, variant ? "" : "héllo");
    zbytes(m, "\x01\xff", 2);
    zlong(m, variant ? 1 : 0); /* enum */
    raw(m, "ab", 2);           /* fixed */
    if (variant)
        zlong(m, 0); /* null */
    else {
        zlong(m, 1);
        zlong(m, -7);
    }
    zdecimal(m, variant ? -12345 : 99999999); /* dec (10,2) */
    /* fixed decimal(6,3), 3 bytes: -1 (0xffffff) or 1234 */
    if (variant)
        raw(m, "\xff\xff\xff", 3);
    else
        raw(m, "\x00\x04\xd2", 3);
    zlong(m, variant ? -719528 : -1);                       /* date: 1 BC-01-01 / 1969-12-31 */
    zlong(m, variant ? 0 : 45296789);                       /* time-millis */
    zlong(m, variant ? INT64_C(86399999999) : 45296789012); /* time-micros */
    zlong(m, variant ? -1 : 0);                             /* timestamp-millis */
    zlong(m, variant ? INT64_C(-62135596800000000) : INT64_C(1700000000123456)); /* micros */
    zstr(m, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    if (variant) {
        zlong(m, 1);
        zstr(m, "x");
    } else
        zlong(m, 0);
}

static void
test_all_types(void **state)
{
    (void)state;
    io_avro_decoder *d = decoder(t_avro_all_types, IO_AVRO_PLAIN);
    add(d, 1, t_avro_all_types);
    const io_avro_column *c = io_avro_decoder_cols(d);
    assert_int_equal(io_avro_decoder_ncols(d), 19);
    assert_string_equal(c[0].name, "b");
    assert_int_equal(c[0].type.id, ENG_TYPE_BOOL);
    assert_false(c[0].nullable);
    assert_int_equal(c[9].type.id, ENG_TYPE_INT4);
    assert_true(c[9].nullable);
    assert_int_equal(c[10].type.id, ENG_TYPE_NUMERIC);
    eng_strbuf sb = {0};
    eng_type_format(&c[10].type, &sb);
    eng_strbuf_putc(&sb, 0);
    assert_string_equal(sb.data, "numeric(10,2)");
    eng_strbuf_free(&sb);
    assert_int_equal(c[15].type.id, ENG_TYPE_TIMESTAMP);
    assert_int_equal(c[17].type.id, ENG_TYPE_UUID);
    buf m;
    all_types_msg(&m, 0);
    expect_row(d, &m,
               "t|2147483647|9223372036854775807|1.5|0.1|héllo|\\x01ff|RED|\\x6162|-7|999999.99|"
               "1.234|1969-12-31|12:34:56.789|12:34:56.789012|1970-01-01 00:00:00|"
               "2023-11-14 22:13:20.123456|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|NULL");
    mangle(d, &m, false);
    all_types_msg(&m, 1);
    expect_row(d, &m,
               "f|-2147483648|-9223372036854775808|0|-1e+300||\\x01ff|BLUE|\\x6162|NULL|-123.45|"
               "-0.001|0001-01-01 BC|00:00:00|23:59:59.999999|1969-12-31 23:59:59.999|"
               "0001-01-01 00:00:00|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|x");
    mangle(d, &m, false);
    /* invalid UTF-8 in a string, a bad boolean, a bad union index, trailing bytes */
    all_types_msg(&m, 0);
    buf bad = m;
    bad.b[5] = 2;
    expect_err(d, &bad, "XX001", "boolean");
    bad = m;
    bad.b[bad.n - 1] = 4; /* ns: union branch 2 */
    expect_err(d, &bad, "XX001", "union branch");
    bad = m;
    bad.b[bad.n++] = 0;
    expect_err(d, &bad, "XX001", "bytes after the record");
    /* a date before 4714-11-24 BC and a timestamp before it */
    const char *dts = "{\"type\":\"record\",\"name\":\"D\",\"fields\":[{\"name\":\"d\",\"type\":"
                      "{\"type\":\"int\",\"logicalType\":\"date\"}},{\"name\":\"t\",\"type\":"
                      "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}}]}";
    io_avro_decoder *d2 = decoder(dts, IO_AVRO_PLAIN);
    add(d2, 3, dts);
    hdr(&bad, 3);
    zlong(&bad, -2440588);
    zlong(&bad, 0);
    expect_row(d2, &bad, "4714-11-24 BC|1970-01-01 00:00:00");
    bad.n = 5;
    zlong(&bad, -2440589);
    zlong(&bad, 0);
    expect_err(d2, &bad, "22008", "date out of range");
    bad.n = 5;
    zlong(&bad, 0);
    zlong(&bad, INT64_MIN); /* 292277 BC */
    expect_err(d2, &bad, "22008", "timestamp out of range");
    io_avro_decoder_free(d2);
    io_avro_decoder_free(d);
}

static const char *dbz_types =
    "{\"type\":\"record\",\"name\":\"V\",\"fields\":["
    "{\"name\":\"d\",\"type\":{\"type\":\"int\",\"connect.name\":\"io.debezium.time.Date\"}},"
    "{\"name\":\"t\",\"type\":{\"type\":\"long\",\"connect.name\":\"io.debezium.time.MicroTime\"}},"
    "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"connect.name\":"
    "\"io.debezium.time.MicroTimestamp\"}},"
    "{\"name\":\"nts\",\"type\":{\"type\":\"long\",\"connect.name\":"
    "\"io.debezium.time.NanoTimestamp\"}},"
    "{\"name\":\"zts\",\"type\":[\"null\",{\"type\":\"string\",\"connect.name\":"
    "\"io.debezium.time.ZonedTimestamp\"}]},"
    "{\"name\":\"j\",\"type\":{\"type\":\"string\",\"connect.name\":\"io.debezium.data.Json\"}},"
    "{\"name\":\"u\",\"type\":{\"type\":\"string\",\"connect.name\":\"io.debezium.data.Uuid\"}},"
    "{\"name\":\"k\",\"type\":{\"type\":\"bytes\",\"connect.name\":"
    "\"org.apache.kafka.connect.data.Decimal\",\"connect.parameters\":{\"scale\":\"3\"}}},"
    "{\"name\":\"v\",\"type\":{\"type\":\"record\",\"name\":\"VariableScaleDecimal\","
    "\"namespace\":\"io.debezium.data\",\"fields\":[{\"name\":\"scale\",\"type\":\"int\"},"
    "{\"name\":\"value\",\"type\":\"bytes\"}],\"connect.name\":"
    "\"io.debezium.data.VariableScaleDecimal\"}}"
    "]}";

static void
test_debezium_types(void **state)
{
    (void)state;
    io_avro_decoder *d = decoder(dbz_types, IO_AVRO_PLAIN);
    add(d, 9, dbz_types);
    const io_avro_column *c = io_avro_decoder_cols(d);
    assert_int_equal(c[0].type.id, ENG_TYPE_DATE);
    assert_int_equal(c[1].type.id, ENG_TYPE_TIME);
    assert_int_equal(c[2].type.id, ENG_TYPE_TIMESTAMP);
    assert_int_equal(c[4].type.id, ENG_TYPE_TIMESTAMPTZ);
    assert_true(c[4].nullable);
    assert_int_equal(c[5].type.id, ENG_TYPE_JSONB);
    assert_int_equal(c[6].type.id, ENG_TYPE_UUID);
    assert_int_equal(c[7].type.id, ENG_TYPE_NUMERIC);
    assert_int_equal(c[8].type.id, ENG_TYPE_NUMERIC);
    buf m;
    hdr(&m, 9);
    zlong(&m, -3653);                        /* 1960-01-01 */
    zlong(&m, 1);                            /* 00:00:00.000001 */
    zlong(&m, -1);                           /* 1969-12-31 23:59:59.999999 */
    zlong(&m, INT64_C(1700000000123456789)); /* nanos: truncated to micros */
    zlong(&m, 1);
    zstr(&m, "2024-01-02T03:04:05.123456Z");
    zstr(&m, "{\"b\": 1, \"a\": [1, 2]}");
    zstr(&m, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11");
    zdecimal(&m, -5); /* -0.005 */
    zlong(&m, 5);     /* VariableScaleDecimal: scale 5, -2^159 */
    uint8_t big[20] = {0x80};
    zbytes(&m, big, sizeof big);
    expect_row(d, &m,
               "1960-01-01|00:00:00.000001|1969-12-31 23:59:59.999999|"
               "2023-11-14 22:13:20.123456|2024-01-02 03:04:05.123456+00|{\"a\": [1, 2], \"b\": "
               "1}|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|-0.005|"
               "-7307508186654514591018424163581415098279662.71488");
    mangle(d, &m, false);
    io_avro_decoder_free(d);

    /* the millisecond and nanosecond variants; a nanosecond instant before
     * 1970 floors to the microsecond below */
    const char *more =
        "{\"type\":\"record\",\"name\":\"W\",\"fields\":["
        "{\"name\":\"t\",\"type\":{\"type\":\"int\",\"connect.name\":\"io.debezium.time.Time\"}},"
        "{\"name\":\"nt\",\"type\":{\"type\":\"long\",\"connect.name\":"
        "\"io.debezium.time.NanoTime\"}},"
        "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"connect.name\":"
        "\"io.debezium.time.Timestamp\"}},"
        "{\"name\":\"nts\",\"type\":{\"type\":\"long\",\"connect.name\":"
        "\"io.debezium.time.NanoTimestamp\"}}]}";
    d = decoder(more, IO_AVRO_PLAIN);
    add(d, 1, more);
    hdr(&m, 1);
    zlong(&m, 86399999);
    zlong(&m, INT64_C(3723000004999));
    zlong(&m, INT64_C(-86400001));
    zlong(&m, -1);
    expect_row(d, &m,
               "23:59:59.999|01:02:03.000004|1969-12-30 23:59:59.999|"
               "1969-12-31 23:59:59.999999");
    mangle(d, &m, false);
    io_avro_decoder_free(d);
}

static void
test_unsupported(void **state)
{
    (void)state;
    eng_err err;
    eng_err_clear(&err);
    const char *s = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"tags\",\"type\":"
                    "{\"type\":\"array\",\"items\":\"string\"}}]}";
    assert_null(io_avro_decoder_create(s, strlen(s), IO_AVRO_PLAIN, &err));
    assert_string_equal(err.sqlstate, "0A000");
    assert_non_null(strstr(err.message, "\"tags\""));
    eng_err_clear(&err);
    assert_null(io_avro_decoder_create("{\"type\":", 8, IO_AVRO_PLAIN, &err));
    assert_string_equal(err.sqlstate, "22023");
    eng_err_clear(&err);
    const char *u =
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"Nope\"}]}";
    assert_null(io_avro_decoder_create(u, strlen(u), IO_AVRO_PLAIN, &err));
    assert_string_equal(err.sqlstate, "22023");
    assert_non_null(strstr(err.message, "Nope"));
}

/* ------------------------------------------------------------------ evolution */

static void
test_evolution(void **state)
{
    (void)state;
    const char *reader =
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
        "{\"name\":\"id\",\"type\":\"long\"},"
        "{\"name\":\"name\",\"type\":[\"null\",\"string\"]},"
        "{\"name\":\"score\",\"type\":\"double\",\"default\":1.5},"
        "{\"name\":\"note\",\"type\":[\"null\",\"string\"],\"default\":null},"
        "{\"name\":\"tag\",\"type\":\"string\",\"default\":\"none\"},"
        "{\"name\":\"since\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"},\"default\":0}]}";
    /* writer: fields reordered, id an int (promoted), name's union in the
     * other order, an extra field, score/note/tag/since missing */
    const char *writer = "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                         "{\"name\":\"name\",\"type\":[\"string\",\"null\"]},"
                         "{\"name\":\"extra\",\"type\":{\"type\":\"map\",\"values\":\"long\"}},"
                         "{\"name\":\"id\",\"type\":\"int\"}]}";
    io_avro_decoder *d = decoder(reader, IO_AVRO_PLAIN);
    add(d, 1, reader);
    add(d, 2, writer);
    add(d, 2, writer); /* cached: a no-op */
    assert_true(io_avro_decoder_has_schema(d, 2));
    assert_false(io_avro_decoder_has_schema(d, 3));
    buf m;
    hdr(&m, 2);
    zlong(&m, 0);
    zstr(&m, "ann");
    zlong(&m, 2); /* map block of 2 */
    zstr(&m, "a");
    zlong(&m, 1);
    zstr(&m, "b");
    zlong(&m, 2);
    zlong(&m, -2); /* a block with its byte size */
    buf blk = {.n = 0};
    zstr(&blk, "c");
    zlong(&blk, 3);
    zstr(&blk, "d");
    zlong(&blk, 4);
    zlong(&m, (int64_t)blk.n);
    raw(&m, blk.b, blk.n);
    zlong(&m, 0);
    zlong(&m, -42);
    expect_row(d, &m, "-42|ann|1.5|NULL|none|1970-01-01");
    mangle(d, &m, false);
    /* a hostile count of items that encode to no bytes */
    const char *wn = "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                     "{\"name\":\"nulls\",\"type\":{\"type\":\"array\",\"items\":\"null\"}},"
                     "{\"name\":\"id\",\"type\":\"long\"},"
                     "{\"name\":\"name\",\"type\":\"null\"}]}";
    add(d, 4, wn);
    hdr(&m, 4);
    zlong(&m, 1000); /* 1000 nulls: fine */
    zlong(&m, 0);
    zlong(&m, 8);
    expect_row(d, &m, "8|NULL|1.5|NULL|none|1970-01-01");
    hdr(&m, 4);
    zlong(&m, INT64_C(1) << 62);
    zlong(&m, 0);
    zlong(&m, 8);
    expect_err(d, &m, "XX001", "more array or map items");
    /* the same reader schema as writer */
    hdr(&m, 1);
    zlong(&m, INT64_MAX);
    zlong(&m, 0);
    double sc = 2.25;
    raw(&m, &sc, 8);
    zlong(&m, 1);
    zstr(&m, "n");
    zstr(&m, "t");
    zlong(&m, 1);
    expect_row(d, &m, "9223372036854775807|NULL|2.25|n|t|1970-01-02");
    /* a writer int for a reader float: promotion to double */
    const char *rf = "{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"a\",\"type\":"
                     "\"double\"},{\"name\":\"b\",\"type\":\"float\"},{\"name\":\"c\",\"type\":"
                     "\"bytes\"}]}";
    const char *wf = "{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"a\",\"type\":"
                     "\"long\"},{\"name\":\"b\",\"type\":\"int\"},{\"name\":\"c\",\"type\":"
                     "\"string\"}]}";
    io_avro_decoder *d2 = decoder(rf, IO_AVRO_PLAIN);
    add(d2, 5, wf);
    hdr(&m, 5);
    zlong(&m, -3);
    zlong(&m, 7);
    zstr(&m, "hi");
    expect_row(d2, &m, "-3|7|\\x6869");
    /* not resolvable: a reader field with no default missing from the
     * writer; a string for a long */
    eng_err err;
    eng_err_clear(&err);
    const char *w3 = "{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"a\",\"type\":"
                     "\"long\"}]}";
    assert_int_equal(io_avro_decoder_add_schema(d2, 6, w3, strlen(w3), &err), -1);
    assert_string_equal(err.sqlstate, "22023");
    assert_non_null(strstr(err.message, "\"b\""));
    eng_err_clear(&err);
    const char *w4 = "{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"a\",\"type\":"
                     "\"string\"},{\"name\":\"b\",\"type\":\"int\"},{\"name\":\"c\",\"type\":"
                     "\"string\"}]}";
    assert_int_equal(io_avro_decoder_add_schema(d2, 7, w4, strlen(w4), &err), -1);
    assert_string_equal(err.sqlstate, "22023");
    assert_false(io_avro_decoder_has_schema(d2, 7));
    io_avro_decoder_free(d2);
    io_avro_decoder_free(d);
}

/* ------------------------------------------------------------------ Debezium, through avro-c */

typedef struct row_in {
    int id;
    const char *first, *last, *email;
} row_in;

static void
set_row(avro_value_t *parent, const char *field, const row_in *r)
{
    avro_value_t f, br, v;
    assert_int_equal(avro_value_get_by_name(parent, field, &f, NULL), 0);
    if (r == NULL) {
        assert_int_equal(avro_value_set_branch(&f, 0, &br), 0);
        assert_int_equal(avro_value_set_null(&br), 0);
        return;
    }
    assert_int_equal(avro_value_set_branch(&f, 1, &br), 0);
    assert_int_equal(avro_value_get_by_name(&br, "id", &v, NULL), 0);
    assert_int_equal(avro_value_set_int(&v, r->id), 0);
    assert_int_equal(avro_value_get_by_name(&br, "first_name", &v, NULL), 0);
    assert_int_equal(avro_value_set_string(&v, r->first), 0);
    assert_int_equal(avro_value_get_by_name(&br, "last_name", &v, NULL), 0);
    assert_int_equal(avro_value_set_string(&v, r->last), 0);
    assert_int_equal(avro_value_get_by_name(&br, "email", &v, NULL), 0);
    assert_int_equal(avro_value_set_string(&v, r->email), 0);
}

static void
set_str(avro_value_t *rec, const char *name, const char *s)
{
    avro_value_t v;
    assert_int_equal(avro_value_get_by_name(rec, name, &v, NULL), 0);
    assert_int_equal(avro_value_set_string(&v, s), 0);
}

static void
set_opt_long(avro_value_t *rec, const char *name, bool has, int64_t x)
{
    avro_value_t v, br;
    assert_int_equal(avro_value_get_by_name(rec, name, &v, NULL), 0);
    assert_int_equal(avro_value_set_branch(&v, has ? 1 : 0, &br), 0);
    if (has)
        assert_int_equal(avro_value_set_long(&br, x), 0);
    else
        assert_int_equal(avro_value_set_null(&br), 0);
}

/* One envelope encoded by avro-c, Confluent-framed with id. */
static void
envelope(avro_schema_t schema, uint32_t id, char op, const row_in *before, const row_in *after,
         int64_t lsn, buf *m)
{
    avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
    avro_value_t val, src, v;
    assert_int_equal(avro_generic_value_new(iface, &val), 0);
    set_row(&val, "before", before);
    set_row(&val, "after", after);
    assert_int_equal(avro_value_get_by_name(&val, "source", &src, NULL), 0);
    set_str(&src, "version", "2.5.0.Final");
    set_str(&src, "connector", "postgresql");
    set_str(&src, "name", "PostgreSQL_server");
    assert_int_equal(avro_value_get_by_name(&src, "ts_ms", &v, NULL), 0);
    assert_int_equal(avro_value_set_long(&v, 1559033904863), 0);
    set_str(&src, "db", "postgres");
    set_str(&src, "schema", "public");
    set_str(&src, "table", "customers");
    set_opt_long(&src, "txId", true, 555);
    set_opt_long(&src, "lsn", lsn >= 0, lsn);
    char ops[2] = {op, 0};
    set_str(&val, "op", ops);
    set_opt_long(&val, "ts_ms", true, 1559033904863);
    hdr(m, id);
    avro_writer_t w = avro_writer_memory((char *)m->b + 5, (int64_t)(sizeof m->b - 5));
    if (avro_value_write(w, &val) != 0)
        fail_msg("avro-c: %s", avro_strerror());
    m->n += (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    avro_value_decref(&val);
    avro_value_iface_decref(iface);
}

static void
expect_change(io_avro_decoder *d, const buf *m, char op, const char *before, const char *after,
              int64_t lsn)
{
    eng_err err;
    eng_err_clear(&err);
    io_avro_change c;
    if (io_avro_decode_debezium(d, m->b, m->n, &c, &err) < 0)
        fail_msg("%s: %s", err.sqlstate, err.message);
    assert_int_equal(c.op, op);
    char got[512];
    assert_int_equal(c.has_before, before != NULL);
    if (before) {
        t_avro_row_text(d, c.before, got, sizeof got);
        assert_string_equal(got, before);
    }
    assert_int_equal(c.has_after, after != NULL);
    if (after) {
        t_avro_row_text(d, c.after, got, sizeof got);
        assert_string_equal(got, after);
    }
    assert_int_equal(c.has_lsn, lsn >= 0);
    if (lsn >= 0)
        assert_int_equal(c.lsn, lsn);
    assert_true(c.has_txid);
    assert_int_equal(c.txid, 555);
    assert_true(c.has_ts_ms);
    assert_int_equal(c.ts_ms, 1559033904863);
}

static void
test_debezium_envelope(void **state)
{
    (void)state;
    const char *env = t_avro_slurp("envelope.avsc");
    avro_schema_t schema;
    if (avro_schema_from_json_length(env, strlen(env), &schema) != 0)
        fail_msg("avro-c: %s", avro_strerror());
    io_avro_decoder *d = decoder(env, IO_AVRO_DEBEZIUM);
    add(d, 11, env);
    assert_int_equal(io_avro_decoder_ncols(d), 4);
    assert_string_equal(io_avro_decoder_cols(d)[3].name, "email");
    assert_int_equal(io_avro_decoder_cols(d)[0].type.id, ENG_TYPE_INT4);
    row_in a = {1004, "Anne", "Kretchmar", "annek@noanswer.org"};
    row_in b = {1004, "Anne Marie", "Kretchmar", "annek@noanswer.org"};
    buf m;
    envelope(schema, 11, 'c', NULL, &a, 24023128, &m);
    expect_change(d, &m, 'c', NULL, "1004|Anne|Kretchmar|annek@noanswer.org", 24023128);
    mangle(d, &m, true);
    envelope(schema, 11, 'u', &a, &b, 24023200, &m);
    expect_change(d, &m, 'u', "1004|Anne|Kretchmar|annek@noanswer.org",
                  "1004|Anne Marie|Kretchmar|annek@noanswer.org", 24023200);
    mangle(d, &m, true);
    envelope(schema, 11, 'd', &b, NULL, -1, &m);
    expect_change(d, &m, 'd', "1004|Anne Marie|Kretchmar|annek@noanswer.org", NULL, -1);
    envelope(schema, 11, 'r', NULL, &a, 1, &m);
    expect_change(d, &m, 'r', NULL, "1004|Anne|Kretchmar|annek@noanswer.org", 1);
    envelope(schema, 11, 't', NULL, NULL, 2, &m);
    expect_change(d, &m, 't', NULL, NULL, 2);
    /* an op outside c/r/u/d/t */
    envelope(schema, 11, 'x', NULL, NULL, 2, &m);
    eng_err err;
    io_avro_change c;
    eng_err_clear(&err);
    assert_int_equal(io_avro_decode_debezium(d, m.b, m.n, &c, &err), -1);
    assert_string_equal(err.sqlstate, "XX001");

    /* the key, as a plain record */
    const char *key = t_avro_slurp("key.avsc");
    io_avro_decoder *k = decoder(key, IO_AVRO_PLAIN);
    add(k, 10, key);
    avro_schema_t ks;
    assert_int_equal(avro_schema_from_json_length(key, strlen(key), &ks), 0);
    avro_value_iface_t *ki = avro_generic_class_from_schema(ks);
    avro_value_t kv, idv;
    assert_int_equal(avro_generic_value_new(ki, &kv), 0);
    assert_int_equal(avro_value_get_by_name(&kv, "id", &idv, NULL), 0);
    assert_int_equal(avro_value_set_int(&idv, -1004), 0);
    hdr(&m, 10);
    avro_writer_t w = avro_writer_memory((char *)m.b + 5, 100);
    assert_int_equal(avro_value_write(w, &kv), 0);
    m.n += (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    avro_value_decref(&kv);
    avro_value_iface_decref(ki);
    avro_schema_decref(ks);
    expect_row(k, &m, "-1004");
    mangle(k, &m, false);
    io_avro_decoder_free(k);

    /* evolution inside the envelope: the writer's row has an extra column
     * (a column added upstream before the source was recreated) */
    char env2[16384];
    const char *at = strstr(env, "{\"name\": \"email\", \"type\": \"string\"}");
    assert_non_null(at);
    size_t pre = (size_t)(at - env);
    snprintf(env2, sizeof env2,
             "%.*s{\"name\": \"email\", \"type\": \"string\"}, {\"name\": \"age\", \"type\": "
             "[\"null\", \"int\"], \"default\": null}%s",
             (int)pre, env, at + strlen("{\"name\": \"email\", \"type\": \"string\"}"));
    add(d, 12, env2);
    avro_schema_t s2;
    if (avro_schema_from_json_length(env2, strlen(env2), &s2) != 0)
        fail_msg("avro-c: %s", avro_strerror());
    avro_value_iface_t *i2 = avro_generic_class_from_schema(s2);
    avro_value_t v2, f, br, x;
    assert_int_equal(avro_generic_value_new(i2, &v2), 0);
    set_row(&v2, "before", NULL);
    assert_int_equal(avro_value_get_by_name(&v2, "after", &f, NULL), 0);
    assert_int_equal(avro_value_set_branch(&f, 1, &br), 0);
    assert_int_equal(avro_value_get_by_name(&br, "id", &x, NULL), 0);
    assert_int_equal(avro_value_set_int(&x, 7), 0);
    set_str(&br, "first_name", "a");
    set_str(&br, "last_name", "b");
    set_str(&br, "email", "c");
    assert_int_equal(avro_value_get_by_name(&br, "age", &x, NULL), 0);
    avro_value_t ab;
    assert_int_equal(avro_value_set_branch(&x, 1, &ab), 0);
    assert_int_equal(avro_value_set_int(&ab, 33), 0);
    avro_value_t src;
    assert_int_equal(avro_value_get_by_name(&v2, "source", &src, NULL), 0);
    set_opt_long(&src, "txId", true, 555);
    set_opt_long(&src, "lsn", true, 9);
    set_str(&v2, "op", "c");
    set_opt_long(&v2, "ts_ms", true, 1559033904863);
    hdr(&m, 12);
    w = avro_writer_memory((char *)m.b + 5, (int64_t)(sizeof m.b - 5));
    assert_int_equal(avro_value_write(w, &v2), 0);
    m.n += (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    avro_value_decref(&v2);
    avro_value_iface_decref(i2);
    avro_schema_decref(s2);
    expect_change(d, &m, 'c', NULL, "7|a|b|c", 9);
    mangle(d, &m, true);

    avro_schema_decref(schema);
    io_avro_decoder_free(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame),          cmocka_unit_test(test_all_types),
        cmocka_unit_test(test_debezium_types), cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_evolution),      cmocka_unit_test(test_debezium_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
