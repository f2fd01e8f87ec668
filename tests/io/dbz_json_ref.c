/* The tree decoder of Debezium JSON that io/dbz_decode.c replaced, kept
 * (renamed, and one crash fixed: see push_decimal) as the oracle of the differential tests and the
 * baseline of `sluice-bench dbzjson`: jansson parses the whole message
 * (JSON_REJECT_DUPLICATES) into a tree, then the envelope, rows and values
 * are read from the tree. Not linked into sluiced. */
#include "tests/io/dbz_json_ref.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine/core/eng_datetime.h"
#include "engine/core/eng_text.h"

#define BAD(err, ...)                                                                              \
    eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "malformed Debezium message: " __VA_ARGS__)

/* Largest unscaled decimal accepted, in bytes (~1200 digits). */
#define MAX_DECIMAL_BYTES 512
/* Largest |scale| of a decimal (numeric's display scale limit). */
#define MAX_DECIMAL_SCALE 1000

static int
load(const char *p, size_t n, json_t **out, eng_err *err)
{
    json_error_t je;
    *out = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
    if (!*out)
        return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                           "invalid JSON in Debezium message: %s (line %d, column %d)", je.text,
                           je.line, je.column);
    return 0;
}

/* ------------------------------------------------------------------ values */

static int
b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes padded standard base64 (what Jackson writes) into out. */
static int
base64_decode(const char *s, size_t n, eng_strbuf *out)
{
    eng_strbuf_reset(out);
    if (n % 4 != 0)
        return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)s[i + (size_t)k];
            if (c == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = b64val(c)) < 0) {
                return -1;
            }
        }
        uint32_t w = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) | ((uint32_t)v[2] << 6) |
                     (uint32_t)v[3];
        char b[3] = {(char)(w >> 16), (char)(w >> 8), (char)w};
        eng_strbuf_append(out, b, (size_t)(3 - pad));
    }
    return 0;
}

/* Appends the decimal text of the big-endian two's complement integer
 * p[0..n) scaled by 10^-scale to out. */
static void
decimal_text(const uint8_t *p, size_t n, int32_t scale, eng_strbuf *out)
{
    uint8_t mag[MAX_DECIMAL_BYTES] = {0};
    bool neg = n > 0 && (p[0] & 0x80);
    /* magnitude: negate the two's complement when negative */
    int carry = 1;
    for (size_t i = n; i-- > 0;) {
        if (neg) {
            int b = (uint8_t)~p[i] + carry;
            mag[i] = (uint8_t)b;
            carry = b >> 8;
        } else {
            mag[i] = p[i];
        }
    }
    /* base 10^9 limbs by repeated division, least significant first */
    uint32_t limbs[MAX_DECIMAL_BYTES / 4 * 10 / 9 + 4];
    size_t nl = 0, start = 0;
    while (start < n && mag[start] == 0)
        start++;
    while (start < n) {
        uint64_t rem = 0;
        for (size_t i = start; i < n; i++) {
            uint64_t cur = (rem << 8) | mag[i];
            mag[i] = (uint8_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        limbs[nl++] = (uint32_t)rem;
        while (start < n && mag[start] == 0)
            start++;
    }
    char digits[MAX_DECIMAL_BYTES * 3 + 16];
    size_t nd = 0;
    if (nl == 0) {
        digits[nd++] = '0';
    } else {
        nd = (size_t)snprintf(digits, sizeof digits, "%" PRIu32, limbs[nl - 1]);
        for (size_t i = nl - 1; i-- > 0;)
            nd += (size_t)snprintf(digits + nd, sizeof digits - nd, "%09" PRIu32, limbs[i]);
    }
    eng_strbuf_reset(out);
    if (neg)
        eng_strbuf_putc(out, '-');
    if (scale <= 0) {
        eng_strbuf_append(out, digits, nd);
        for (int32_t i = 0; i < -scale; i++)
            eng_strbuf_putc(out, '0');
    } else if ((size_t)scale >= nd) {
        eng_strbuf_append(out, "0.", 2);
        for (size_t i = nd; i < (size_t)scale; i++)
            eng_strbuf_putc(out, '0');
        eng_strbuf_append(out, digits, nd);
    } else {
        eng_strbuf_append(out, digits, nd - (size_t)scale);
        eng_strbuf_putc(out, '.');
        eng_strbuf_append(out, digits + nd - (size_t)scale, (size_t)scale);
    }
}

static int
push_decimal(const io_dbz_column *c, const char *where, json_t *b64, int64_t scale,
             eng_strbuf *scratch, eng_rowbuf *row, eng_err *err)
{
    if (!json_is_string(b64))
        return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                           "%s: expected a base64 string for a decimal", where);
    if (base64_decode(json_string_value(b64), json_string_length(b64), scratch) < 0)
        return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION, "%s: invalid base64",
                           where);
    if (scratch->len > MAX_DECIMAL_BYTES)
        return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                           "%s: decimal of %zu bytes is too large", where, scratch->len);
    if (scale < -MAX_DECIMAL_SCALE || scale > MAX_DECIMAL_SCALE)
        return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                           "%s: decimal scale %" PRId64 " is out of range", where, scale);
    uint8_t bytes[MAX_DECIMAL_BYTES];
    size_t nb = scratch->len;
    /* the one change to the original: it called memcpy(bytes, NULL, 0) for
     * an empty value ("") on a change whose scratch was never used, which
     * let GCC drop the NULL check in eng_strbuf_reset below: a crash */
    if (nb)
        memcpy(bytes, scratch->data, nb);
    decimal_text(bytes, nb, (int32_t)scale, scratch);
    if (eng_text_parse(&c->type, scratch->data, scratch->len, row, err) < 0) {
        eng_err_context(err, "%s", where);
        return -1;
    }
    return 0;
}

/* floor(a / b) for b > 0 */
static int64_t
floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static int
expect_int(json_t *v, const char *where, int64_t lo, int64_t hi, const char *tname, int64_t *out,
           eng_err *err)
{
    if (!json_is_integer(v))
        return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                           "%s: expected a JSON integer for %s", where, tname);
    *out = json_integer_value(v);
    if (*out < lo || *out > hi)
        return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                           "%s: value %" PRId64 " is out of range for type %s", where, *out, tname);
    return 0;
}

/* Appends the datum for JSON value v (not null) of column c. */
static int
push_value(const io_dbz_column *c, const char *where, json_t *v, eng_strbuf *scratch,
           eng_rowbuf *row, eng_err *err)
{
    int64_t x = 0; /* GCC -O3 sees a path where it is unset */
    switch (c->kind) {
    case IO_DBZ_INT8:
        if (expect_int(v, where, INT8_MIN, INT8_MAX, "int8", &x, err) < 0)
            return -1;
        eng_push_int2(row, (int16_t)x);
        return 0;
    case IO_DBZ_INT16:
        if (expect_int(v, where, INT16_MIN, INT16_MAX, "smallint", &x, err) < 0)
            return -1;
        eng_push_int2(row, (int16_t)x);
        return 0;
    case IO_DBZ_INT32:
        if (expect_int(v, where, INT32_MIN, INT32_MAX, "integer", &x, err) < 0)
            return -1;
        eng_push_int4(row, (int32_t)x);
        return 0;
    case IO_DBZ_INT64:
        if (expect_int(v, where, INT64_MIN, INT64_MAX, "bigint", &x, err) < 0)
            return -1;
        eng_push_int8(row, x);
        return 0;
    case IO_DBZ_FLOAT32:
    case IO_DBZ_FLOAT64: {
        double d;
        if (json_is_number(v)) {
            d = json_number_value(v);
        } else if (json_is_string(v) && strcmp(json_string_value(v), "NaN") == 0) {
            d = NAN;
        } else if (json_is_string(v) && strcmp(json_string_value(v), "Infinity") == 0) {
            d = INFINITY;
        } else if (json_is_string(v) && strcmp(json_string_value(v), "-Infinity") == 0) {
            d = -INFINITY;
        } else {
            return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                               "%s: expected a JSON number", where);
        }
        if (c->kind == IO_DBZ_FLOAT64) {
            eng_push_float8(row, d);
            return 0;
        }
        if (isfinite(d) && fabs(d) > FLT_MAX)
            return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                               "%s: value out of range for type real", where);
        eng_push_float4(row, (float)d);
        return 0;
    }
    case IO_DBZ_BOOL:
        if (!json_is_boolean(v))
            return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                               "%s: expected a JSON boolean", where);
        eng_push_bool(row, json_is_true(v));
        return 0;
    case IO_DBZ_STRING:
        if (!json_is_string(v))
            return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                               "%s: expected a JSON string", where);
        if (eng_text_parse(&c->type, json_string_value(v), json_string_length(v), row, err) < 0) {
            eng_err_context(err, "%s", where);
            return -1;
        }
        return 0;
    case IO_DBZ_BYTES:
        if (!json_is_string(v) ||
            base64_decode(json_string_value(v), json_string_length(v), scratch) < 0)
            return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                               "%s: expected a base64 string", where);
        if (scratch->len > ENG_TEXT_MAX_LEN)
            return eng_err_set(err, ENG_ERRCODE_PROGRAM_LIMIT_EXCEEDED, "%s: value too long",
                               where);
        eng_push_var(row, ENG_TAG_BYTES, scratch->data, (uint32_t)scratch->len);
        return 0;
    case IO_DBZ_DECIMAL:
        return push_decimal(c, where, v, c->scale, scratch, row, err);
    case IO_DBZ_VDECIMAL: {
        json_t *sc = json_object_get(v, "scale");
        if (!json_is_object(v) || !json_is_integer(sc))
            return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                               "%s: expected {\"scale\": integer, \"value\": base64}", where);
        return push_decimal(c, where, json_object_get(v, "value"), json_integer_value(sc), scratch,
                            row, err);
    }
    case IO_DBZ_DATE: {
        /* PostgreSQL's dates: Julian day 0 (4714-11-24 BC) to 5874897-12-31 */
        int64_t lo = -ENG_UNIX_EPOCH_JDATE, hi = 2147483493 - ENG_UNIX_EPOCH_JDATE;
        if (expect_int(v, where, lo, hi, "date", &x, err) < 0)
            return -1;
        int32_t d = (int32_t)(x + ENG_UNIX_EPOCH_JDATE - ENG_POSTGRES_EPOCH_JDATE);
        eng_push_fixed(row, ENG_TAG_DATE, &d, 4);
        return 0;
    }
    case IO_DBZ_TIME_MS:
    case IO_DBZ_TIME_US:
    case IO_DBZ_TIME_NS: {
        int64_t per = c->kind == IO_DBZ_TIME_MS ? 1000 : 1;
        int64_t div = c->kind == IO_DBZ_TIME_NS ? 1000 : 1;
        int64_t hi = ENG_USECS_PER_DAY / per * div;
        if (expect_int(v, where, 0, hi, "time", &x, err) < 0)
            return -1;
        int64_t t = c->kind == IO_DBZ_TIME_NS ? x / 1000 : x * per;
        eng_push_fixed(row, ENG_TAG_TIME, &t, 8);
        return 0;
    }
    case IO_DBZ_TS_MS:
    case IO_DBZ_TS_US:
    case IO_DBZ_TS_NS: {
        if (expect_int(v, where, INT64_MIN, INT64_MAX, "timestamp", &x, err) < 0)
            return -1;
        int64_t us;
        if (c->kind == IO_DBZ_TS_NS)
            us = floordiv(x, 1000);
        else if (c->kind == IO_DBZ_TS_US)
            us = x;
        else if (x > INT64_MAX / 1000 || x < INT64_MIN / 1000)
            goto ts_range;
        else
            us = x * 1000;
        int64_t shift =
            (int64_t)(ENG_POSTGRES_EPOCH_JDATE - ENG_UNIX_EPOCH_JDATE) * ENG_USECS_PER_DAY;
        if (us < INT64_MIN + shift)
            goto ts_range;
        us -= shift;
        if (!eng_timestamp_in_range(us))
            goto ts_range;
        eng_push_fixed(row, ENG_TAG_TIMESTAMP, &us, 8);
        return 0;
    ts_range:
        return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW,
                           "%s: timestamp out of range: %" PRId64, where, x);
    }
    case IO_DBZ_DURATION_US: {
        if (expect_int(v, where, INT64_MIN, INT64_MAX, "interval", &x, err) < 0)
            return -1;
        uint8_t iv[16] = {0};
        memcpy(iv + 8, &x, 8);
        eng_push_fixed(row, ENG_TAG_INTERVAL, iv, 16);
        return 0;
    }
    }
    ENG_UNREACHABLE("io_dbz_kind");
}

/* Decodes the object obj into row (cols in order). Missing fields and
 * nulls are NULL when the column is optional; otherwise an error unless
 * partial is non-NULL (before: REPLICA IDENTITY DEFAULT sends only the key),
 * where they become NULL and set *partial. */
static int
decode_row(const io_dbz_schema *cols, const char *which, json_t *obj, eng_strbuf *scratch,
           eng_rowbuf *row, bool *partial, bool *unknown, eng_err *err)
{
    eng_rowbuf_reset(row);
    if (!json_is_object(obj))
        return BAD(err, "\"%s\" is not an object", which);
    size_t found = 0;
    for (int i = 0; i < cols->ncols; i++) {
        const io_dbz_column *c = &cols->cols[i];
        json_t *v = json_object_get(obj, c->name);
        found += v != NULL;
        char where[200];
        snprintf(where, sizeof where, "Debezium field \"%s.%s\"", which, c->name);
        if (!v || json_is_null(v)) {
            if (!c->nullable) {
                if (!partial)
                    return BAD(err, "non-optional field \"%s.%s\" is %s", which, c->name,
                               v ? "null" : "missing");
                *partial = true;
            }
            eng_push_null(row);
            continue;
        }
        if (push_value(c, where, v, scratch, row, err) < 0)
            return -1;
    }
    /* object keys are unique (JSON_REJECT_DUPLICATES), so a surplus is a
     * field that is not a column */
    if (found < json_object_size(obj))
        *unknown = true;
    return 0;
}

/* An int64 metadata field: a JSON integer or a decimal string (some
 * Debezium tools emit "1580390884335"), absent or null -> *has = false. */
static int
meta_int(json_t *obj, const char *key, const char *where, bool *has, int64_t *out, eng_err *err)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    *has = false;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
    } else if (json_is_string(v)) {
        eng_err e2;
        eng_err_clear(&e2);
        if (eng_int_parse(json_string_value(v), json_string_length(v), 64, out, &e2) < 0)
            return BAD(err, "\"%s\" is not an integer", where);
    } else {
        return BAD(err, "\"%s\" is not an integer", where);
    }
    *has = true;
    return 0;
}

/* The envelope: the payload of {"schema", "payload"} or the bare object. */
static json_t *
payload_of(json_t *root)
{
    if (json_is_object(root) && json_object_size(root) == 2 && json_object_get(root, "schema") &&
        json_object_get(root, "payload"))
        return json_object_get(root, "payload");
    return root;
}

static void
clear_change(io_dbz_change *c)
{
    c->op = 0;
    c->has_before = c->has_after = c->before_partial = c->unknown_fields = c->has_key = false;
    c->has_lsn = c->has_txid = c->has_source_ts = c->has_ts = c->has_txn = false;
    c->lsn = c->txid = c->source_ts_ms = c->ts_ms = 0;
    c->txn_id[0] = '\0';
    c->txn_total_order = c->txn_collection_order = -1;
    eng_rowbuf_reset(&c->before);
    eng_rowbuf_reset(&c->after);
    eng_rowbuf_reset(&c->key);
}

static int
decode_envelope(const io_dbz_schema *cols, json_t *env, io_dbz_change *out, eng_err *err)
{
    if (json_is_null(env))
        return 0; /* tombstone */
    if (!json_is_object(env))
        return BAD(err, "the payload is not an object");
    const char *op = json_string_value(json_object_get(env, "op"));
    if (!op)
        return BAD(err, "\"op\" is missing or not a string");
    if (strlen(op) != 1 || !strchr("crudtm", op[0]))
        return BAD(err, "unknown op \"%.20s\"", op);
    out->op = op[0];
    json_t *src = json_object_get(env, "source");
    if (src && !json_is_null(src) && !json_is_object(src))
        return BAD(err, "\"source\" is not an object");
    if (meta_int(src, "lsn", "source.lsn", &out->has_lsn, &out->lsn, err) < 0 ||
        meta_int(src, "txId", "source.txId", &out->has_txid, &out->txid, err) < 0 ||
        meta_int(src, "ts_ms", "source.ts_ms", &out->has_source_ts, &out->source_ts_ms, err) < 0 ||
        meta_int(env, "ts_ms", "ts_ms", &out->has_ts, &out->ts_ms, err) < 0)
        return -1;
    json_t *txn = json_object_get(env, "transaction");
    if (txn && !json_is_null(txn)) {
        const char *id = json_string_value(json_object_get(txn, "id"));
        bool has;
        if (!json_is_object(txn) || !id)
            return BAD(err, "\"transaction\" lacks a string \"id\"");
        if (strlen(id) >= sizeof out->txn_id)
            return BAD(err, "\"transaction.id\" is too long");
        strcpy(out->txn_id, id);
        out->has_txn = true;
        if (meta_int(txn, "total_order", "transaction.total_order", &has, &out->txn_total_order,
                     err) < 0 ||
            meta_int(txn, "data_collection_order", "transaction.data_collection_order", &has,
                     &out->txn_collection_order, err) < 0)
            return -1;
    }
    if (out->op == 't' || out->op == 'm')
        return 0;
    json_t *before = json_object_get(env, "before");
    json_t *after = json_object_get(env, "after");
    if (before && !json_is_null(before)) {
        if (decode_row(cols, "before", before, &out->scratch, &out->before, &out->before_partial,
                       &out->unknown_fields, err) < 0)
            return -1;
        out->has_before = true;
    }
    if (out->op != 'd') {
        if (!after || json_is_null(after))
            return BAD(err, "op \"%c\" without \"after\"", out->op);
        if (decode_row(cols, "after", after, &out->scratch, &out->after, NULL, &out->unknown_fields,
                       err) < 0)
            return -1;
        out->has_after = true;
    }
    return 0;
}

int
t_dbz_ref_decode(const io_dbz_schema *cols, const char *value, size_t n, io_dbz_change *out,
                 eng_err *err)
{
    clear_change(out);
    if (!value || n == 0)
        return 0;
    json_t *root;
    if (load(value, n, &root, err) < 0)
        return -1;
    int rc = decode_envelope(cols, payload_of(root), out, err);
    json_decref(root);
    return rc;
}

int
t_dbz_ref_decode_key(const io_dbz_schema *key_cols, const char *key, size_t n, io_dbz_change *out,
                     eng_err *err)
{
    out->has_key = false;
    eng_rowbuf_reset(&out->key);
    if (!key || n == 0)
        return BAD(err, "the message has no key");
    json_t *root;
    if (load(key, n, &root, err) < 0)
        return -1;
    bool unknown = false;
    int rc = decode_row(key_cols, "key", payload_of(root), &out->scratch, &out->key, NULL, &unknown,
                        err);
    if (rc == 0 && unknown) {
        BAD(err, "the key has fields that are not key columns");
        rc = -1;
    }
    json_decref(root);
    if (rc == 0)
        out->has_key = true;
    return rc;
}

static int
decode_txn(json_t *env, const char *collection, io_dbz_txn *out, eng_err *err)
{
    if (!json_is_object(env))
        return BAD(err, "the transaction message is not an object");
    const char *status = json_string_value(json_object_get(env, "status"));
    const char *id = json_string_value(json_object_get(env, "id"));
    if (!status || (strcmp(status, "BEGIN") != 0 && strcmp(status, "END") != 0))
        return BAD(err, "transaction \"status\" is not BEGIN or END");
    if (!id)
        return BAD(err, "transaction \"id\" is missing");
    if (strlen(id) >= sizeof out->id)
        return BAD(err, "transaction \"id\" is too long");
    strcpy(out->id, id);
    out->end = status[0] == 'E';
    if (meta_int(env, "ts_ms", "ts_ms", &out->has_ts, &out->ts_ms, err) < 0)
        return -1;
    if (!out->end)
        return 0;
    bool has;
    if (meta_int(env, "event_count", "event_count", &has, &out->events, err) < 0)
        return -1;
    if (!has || out->events < 0)
        return BAD(err, "END without a valid \"event_count\"");
    json_t *dcs = json_object_get(env, "data_collections");
    if (dcs && !json_is_null(dcs) && !json_is_array(dcs))
        return BAD(err, "\"data_collections\" is not an array");
    out->collection_events = 0;
    size_t i;
    json_t *dc;
    json_array_foreach(dcs, i, dc)
    {
        const char *name = json_string_value(json_object_get(dc, "data_collection"));
        int64_t cnt;
        if (!name)
            return BAD(err, "a data_collections entry lacks \"data_collection\"");
        if (meta_int(dc, "event_count", "data_collections.event_count", &has, &cnt, err) < 0)
            return -1;
        if (!has || cnt < 0)
            return BAD(err, "a data_collections entry lacks a valid \"event_count\"");
        if (collection && strcmp(name, collection) == 0)
            out->collection_events = cnt;
    }
    return 0;
}

int
t_dbz_ref_decode_txn(const char *msg, size_t n, const char *collection, io_dbz_txn *out,
                     eng_err *err)
{
    memset(out, 0, sizeof *out);
    out->events = out->collection_events = -1;
    if (!msg || n == 0)
        return BAD(err, "empty transaction message");
    json_t *root;
    if (load(msg, n, &root, err) < 0)
        return -1;
    int rc = decode_txn(payload_of(root), collection, out, err);
    json_decref(root);
    return rc;
}
