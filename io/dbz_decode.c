/* Debezium JSON change events, transaction metadata and keys decoded in
 * place from the message bytes. See io_dbz.h for the type mapping and the
 * error contract.
 *
 * Notes: a message is first checked whole by io_dbz_json_check (invalid
 * JSON anywhere, the embedded schema included, is 22P02 before anything
 * else is looked at, as with the tree decoder this replaced); then the
 * envelope's members are taken from what the check recorded (a walk over
 * the payload object if it has more than 16), source's and transaction's
 * by a walk over theirs, and each row's by a walk over its object guided
 * by the columns: the member
 * under the cursor is tried first (Debezium writes fields in schema
 * order, so that is one string compare per column), a full search of the
 * object only when it is not the column's. Values are converted straight
 * from their bytes: strings without escapes are handed to the type's
 * input function in place, escaped ones are unescaped into the change's
 * scratch. The checks run in the tree decoder's order (op, source,
 * ts_ms, transaction, before, after; a row's columns in schema order), so
 * the first error, and its SQLSTATE, are the same.
 *
 * Cost: a column missing from its object (REPLICA IDENTITY DEFAULT's
 * before, an optional field left out) costs a walk over the object; a
 * row whose fields come in another order than the columns costs up to
 * one walk per column (quadratic in the worst case, bounded by the
 * message's size times the column count).
 *
 * Allocation: none per message at steady state (the rows and the scratch
 * are the change's reusable buffers); io_dbz_decode_txn unescapes into a
 * stack buffer (the heap only for an escaped string over 255 bytes). */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/eng_datetime.h"
#include "engine/core/eng_text.h"
#include "io/dbz_int.h"
#include "io/io_dbz.h"

#define BAD(err, ...)                                                                              \
    eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "malformed Debezium message: " __VA_ARGS__)

/* Largest unscaled decimal accepted, in bytes (~1200 digits). */
#define MAX_DECIMAL_BYTES 512
/* Largest |scale| of a decimal (numeric's display scale limit). */
#define MAX_DECIMAL_SCALE 1000

/* One message being decoded. */
typedef struct dctx {
    const char *end;          /* the message's end */
    eng_strbuf *scratch;      /* unescaped strings, decoded base64, decimal text */
    const io_dbz_jroot *root; /* what the check recorded */
} dctx;

/* Finds the members named names[0..n) (n <= 8, no escapes in the names) of the
 * object at obj: vals[i] is the value's first byte, or NULL. Objects whose
 * members the check recorded (the envelope) are not walked again. */
static void
members(const dctx *d, const char *obj, const char *const *names, int n, const char **vals)
{
    size_t len[8];
    for (int i = 0; i < n; i++) {
        vals[i] = NULL;
        len[i] = strlen(names[i]);
    }
    const io_dbz_jmembers *rec = obj == d->root->value     ? &d->root->top
                                 : obj == d->root->payload ? &d->root->inner
                                                           : NULL;
    if (rec && rec->complete) {
        for (int j = 0; j < rec->n; j++)
            for (int i = 0; i < n; i++)
                if (vals[i] == NULL && io_dbz_json_str_eq(&rec->m[j].key, names[i], len[i])) {
                    vals[i] = rec->m[j].val;
                    break;
                }
        return;
    }
    io_dbz_jiter it;
    io_dbz_jstr k;
    const char *v;
    io_dbz_json_iter(&it, obj, d->end);
    while (io_dbz_json_member(&it, &k, &v)) {
        for (int i = 0; i < n; i++) {
            if (vals[i] == NULL && io_dbz_json_str_eq(&k, names[i], len[i])) {
                vals[i] = v;
                break;
            }
        }
    }
}

/* The unescaped text of the string at v ('"'): in place when it has no
 * escapes, else in the scratch (reset). Borrowed until the scratch's next
 * use. */
static const char *
str_text(dctx *d, const char *v, size_t *n)
{
    io_dbz_jstr s;
    io_dbz_json_string(v, d->end, &s);
    if (!s.esc) {
        *n = s.n;
        return s.p;
    }
    eng_strbuf_reset(d->scratch);
    io_dbz_json_unescape(&s, d->scratch);
    *n = d->scratch->len;
    return d->scratch->data;
}

/* v at a value: true and *out if it is a JSON integer (no fraction, no
 * exponent; the check kept it within int64). */
static bool
json_int(const char *v, int64_t *out)
{
    const char *p = v;
    bool neg = *p == '-';
    if (neg)
        p++;
    if (*p < '0' || *p > '9')
        return false;
    uint64_t x = 0;
    while (*p >= '0' && *p <= '9')
        x = x * 10 + (uint64_t)(*p++ - '0');
    if (*p == '.' || *p == 'e' || *p == 'E')
        return false;
    *out = neg ? (int64_t)(0 - x) : (int64_t)x;
    return true;
}

static bool
is_number(const char *v)
{
    return *v == '-' || (*v >= '0' && *v <= '9');
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

/* Decodes padded standard base64 (what Jackson writes) s[0..n) into the
 * scratch; s may be the scratch's own data (decoded in place: each quad
 * is read before its 3 bytes are written, behind it). */
static int
base64_decode(const char *s, size_t n, eng_strbuf *out)
{
    if (n % 4 != 0)
        return -1;
    uint8_t *o;
    if (s == out->data) {
        o = (uint8_t *)out->data;
    } else {
        eng_strbuf_reset(out);
        o = (uint8_t *)eng_strbuf_extend(out, n / 4 * 3);
    }
    size_t len = 0;
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
        o[len] = (uint8_t)(w >> 16);
        if (pad < 2)
            o[len + 1] = (uint8_t)(w >> 8);
        if (pad < 1)
            o[len + 2] = (uint8_t)w;
        len += (size_t)(3 - pad);
    }
    out->len = len;
    out->data[len] = '\0';
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

/* Sets err to "Debezium field \"which.name\": <fmt>"; returns -1. The
 * field's name is formatted only here, on the error path. */
__attribute__((format(printf, 5, 6))) static int
field_err(eng_err *err, const char *code, const char *which, const io_dbz_column *c,
          const char *fmt, ...)
{
    char where[200], msg[ENG_ERR_MSG_MAX];
    snprintf(where, sizeof where, "Debezium field \"%s.%s\"", which, c->name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return eng_err_set(err, code, "%s: %s", where, msg);
}

/* The type's input function over s[0..n), the field named on error. */
static int
text_parse(const io_dbz_column *c, const char *which, const char *s, size_t n, eng_rowbuf *row,
           eng_err *err)
{
    if (eng_text_parse(&c->type, s, n, row, err) == 0)
        return 0;
    char where[200];
    snprintf(where, sizeof where, "Debezium field \"%s.%s\"", which, c->name);
    eng_err_context(err, "%s", where);
    return -1;
}

static int
push_decimal(dctx *d, const io_dbz_column *c, const char *which, const char *b64, int64_t scale,
             eng_rowbuf *row, eng_err *err)
{
    if (b64 == NULL || *b64 != '"')
        return field_err(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION, which, c,
                         "expected a base64 string for a decimal");
    size_t n;
    const char *s = str_text(d, b64, &n);
    if (base64_decode(s, n, d->scratch) < 0)
        return field_err(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION, which, c, "invalid base64");
    if (d->scratch->len > MAX_DECIMAL_BYTES)
        return field_err(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, which, c,
                         "decimal of %zu bytes is too large", d->scratch->len);
    if (scale < -MAX_DECIMAL_SCALE || scale > MAX_DECIMAL_SCALE)
        return field_err(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, which, c,
                         "decimal scale %" PRId64 " is out of range", scale);
    uint8_t bytes[MAX_DECIMAL_BYTES];
    size_t nb = d->scratch->len;
    memcpy(bytes, d->scratch->data, nb);
    decimal_text(bytes, nb, (int32_t)scale, d->scratch);
    return text_parse(c, which, d->scratch->data, d->scratch->len, row, err);
}

/* floor(a / b) for b > 0 */
static int64_t
floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static int
expect_int(const char *v, const char *which, const io_dbz_column *c, int64_t lo, int64_t hi,
           const char *tname, int64_t *out, eng_err *err)
{
    if (!json_int(v, out))
        return field_err(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION, which, c,
                         "expected a JSON integer for %s", tname);
    if (*out < lo || *out > hi)
        return field_err(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, which, c,
                         "value %" PRId64 " is out of range for type %s", *out, tname);
    return 0;
}

/* Appends the datum for JSON value v (not null) of column c. */
static int
push_value(dctx *d, const io_dbz_column *c, const char *which, const char *v, eng_rowbuf *row,
           eng_err *err)
{
    int64_t x;
    size_t n;
    const char *s;
    switch (c->kind) {
    case IO_DBZ_INT8:
        if (expect_int(v, which, c, INT8_MIN, INT8_MAX, "int8", &x, err) < 0)
            return -1;
        eng_push_int2(row, (int16_t)x);
        return 0;
    case IO_DBZ_INT16:
        if (expect_int(v, which, c, INT16_MIN, INT16_MAX, "smallint", &x, err) < 0)
            return -1;
        eng_push_int2(row, (int16_t)x);
        return 0;
    case IO_DBZ_INT32:
        if (expect_int(v, which, c, INT32_MIN, INT32_MAX, "integer", &x, err) < 0)
            return -1;
        eng_push_int4(row, (int32_t)x);
        return 0;
    case IO_DBZ_INT64:
        if (expect_int(v, which, c, INT64_MIN, INT64_MAX, "bigint", &x, err) < 0)
            return -1;
        eng_push_int8(row, x);
        return 0;
    case IO_DBZ_FLOAT32:
    case IO_DBZ_FLOAT64: {
        double f;
        if (json_int(v, &x)) {
            f = (double)x;
        } else if (is_number(v)) {
            const char *e = io_dbz_json_number_end(v, d->end);
            io_dbz_json_real(v, (size_t)(e - v), &f); /* the check ruled out overflow */
        } else if (*v == '"') {
            s = str_text(d, v, &n);
            if (n == 3 && memcmp(s, "NaN", 3) == 0)
                f = NAN;
            else if (n == 8 && memcmp(s, "Infinity", 8) == 0)
                f = INFINITY;
            else if (n == 9 && memcmp(s, "-Infinity", 9) == 0)
                f = -INFINITY;
            else
                return field_err(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION, which, c,
                                 "expected a JSON number");
        } else {
            return field_err(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION, which, c,
                             "expected a JSON number");
        }
        if (c->kind == IO_DBZ_FLOAT64) {
            eng_push_float8(row, f);
            return 0;
        }
        if (isfinite(f) && fabs(f) > FLT_MAX)
            return field_err(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, which, c,
                             "value out of range for type real");
        eng_push_float4(row, (float)f);
        return 0;
    }
    case IO_DBZ_BOOL:
        if (*v != 't' && *v != 'f')
            return field_err(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION, which, c,
                             "expected a JSON boolean");
        eng_push_bool(row, *v == 't');
        return 0;
    case IO_DBZ_STRING:
        if (*v != '"')
            return field_err(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION, which, c,
                             "expected a JSON string");
        s = str_text(d, v, &n);
        return text_parse(c, which, s, n, row, err);
    case IO_DBZ_BYTES:
        if (*v != '"' || (s = str_text(d, v, &n), base64_decode(s, n, d->scratch) < 0))
            return field_err(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION, which, c,
                             "expected a base64 string");
        if (d->scratch->len > ENG_TEXT_MAX_LEN)
            return field_err(err, ENG_ERRCODE_PROGRAM_LIMIT_EXCEEDED, which, c, "value too long");
        eng_push_var(row, ENG_TAG_BYTES, d->scratch->data, (uint32_t)d->scratch->len);
        return 0;
    case IO_DBZ_DECIMAL:
        return push_decimal(d, c, which, v, c->scale, row, err);
    case IO_DBZ_VDECIMAL: {
        static const char *const names[] = {"scale", "value"};
        const char *m[2] = {NULL, NULL};
        if (*v == '{')
            members(d, v, names, 2, m);
        if (m[0] == NULL || !json_int(m[0], &x))
            return field_err(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION, which, c,
                             "expected {\"scale\": integer, \"value\": base64}");
        return push_decimal(d, c, which, m[1], x, row, err);
    }
    case IO_DBZ_DATE: {
        /* PostgreSQL's dates: Julian day 0 (4714-11-24 BC) to 5874897-12-31 */
        int64_t lo = -ENG_UNIX_EPOCH_JDATE, hi = 2147483493 - ENG_UNIX_EPOCH_JDATE;
        if (expect_int(v, which, c, lo, hi, "date", &x, err) < 0)
            return -1;
        int32_t day = (int32_t)(x + ENG_UNIX_EPOCH_JDATE - ENG_POSTGRES_EPOCH_JDATE);
        eng_push_fixed(row, ENG_TAG_DATE, &day, 4);
        return 0;
    }
    case IO_DBZ_TIME_MS:
    case IO_DBZ_TIME_US:
    case IO_DBZ_TIME_NS: {
        int64_t per = c->kind == IO_DBZ_TIME_MS ? 1000 : 1;
        int64_t div = c->kind == IO_DBZ_TIME_NS ? 1000 : 1;
        int64_t hi = ENG_USECS_PER_DAY / per * div;
        if (expect_int(v, which, c, 0, hi, "time", &x, err) < 0)
            return -1;
        int64_t t = c->kind == IO_DBZ_TIME_NS ? x / 1000 : x * per;
        eng_push_fixed(row, ENG_TAG_TIME, &t, 8);
        return 0;
    }
    case IO_DBZ_TS_MS:
    case IO_DBZ_TS_US:
    case IO_DBZ_TS_NS: {
        if (expect_int(v, which, c, INT64_MIN, INT64_MAX, "timestamp", &x, err) < 0)
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
        return field_err(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW, which, c,
                         "timestamp out of range: %" PRId64, x);
    }
    case IO_DBZ_DURATION_US: {
        if (expect_int(v, which, c, INT64_MIN, INT64_MAX, "interval", &x, err) < 0)
            return -1;
        uint8_t iv[16] = {0};
        memcpy(iv + 8, &x, 8);
        eng_push_fixed(row, ENG_TAG_INTERVAL, iv, 16);
        return 0;
    }
    }
    ENG_UNREACHABLE("io_dbz_kind");
}

/* The value of the member named name[0..n) of the object at obj, or NULL;
 * when found, *cur is left on the member after it. */
static const char *
find_member(const char *obj, const char *end, const char *name, size_t n, io_dbz_jiter *cur,
            io_dbz_jstr *ck, const char **cv, bool *have)
{
    io_dbz_jiter it;
    io_dbz_jstr k;
    const char *v;
    io_dbz_json_iter(&it, obj, end);
    while (io_dbz_json_member(&it, &k, &v)) {
        if (io_dbz_json_str_eq(&k, name, n)) {
            *have = io_dbz_json_member(&it, ck, cv);
            *cur = it;
            return v;
        }
    }
    return NULL;
}

/* Decodes the object at obj into row (cols in order). Missing fields and
 * nulls are NULL when the column is optional; otherwise an error unless
 * partial is non-NULL (before: REPLICA IDENTITY DEFAULT sends only the
 * key), where they become NULL and set *partial. Sets *unknown if the
 * object has members that no column took. */
static int
decode_row(const io_dbz_schema *cols, const char *which, const char *obj, dctx *d, eng_rowbuf *row,
           bool *partial, bool *unknown, eng_err *err)
{
    eng_rowbuf_reset(row);
    if (*obj != '{')
        return BAD(err, "\"%s\" is not an object", which);
    /* the cursor: the member expected to hold the next column */
    io_dbz_jiter cur;
    io_dbz_jstr ck;
    const char *cv;
    io_dbz_json_iter(&cur, obj, d->end);
    bool have = io_dbz_json_member(&cur, &ck, &cv), jumped = false;
    size_t passed = have, found = 0;
    for (int i = 0; i < cols->ncols; i++) {
        const io_dbz_column *c = &cols->cols[i];
        size_t nlen = strlen(c->name);
        const char *v;
        if (have && io_dbz_json_str_eq(&ck, c->name, nlen)) {
            v = cv;
            have = io_dbz_json_member(&cur, &ck, &cv);
            passed += have;
        } else {
            v = find_member(obj, d->end, c->name, nlen, &cur, &ck, &cv, &have);
            jumped |= v != NULL;
        }
        found += v != NULL;
        if (v == NULL || *v == 'n') {
            if (!c->nullable) {
                if (!partial)
                    return BAD(err, "non-optional field \"%s.%s\" is %s", which, c->name,
                               v ? "null" : "missing");
                *partial = true;
            }
            eng_push_null(row);
            continue;
        }
        if (push_value(d, c, which, v, row, err) < 0)
            return -1;
    }
    /* members no column took: when the cursor only ever stepped forward,
     * it passed every member up to its position */
    size_t nmembers = passed;
    if (jumped) {
        io_dbz_json_iter(&cur, obj, d->end);
        nmembers = 0;
    }
    while (io_dbz_json_member(&cur, &ck, &cv))
        nmembers++;
    if (found < nmembers)
        *unknown = true;
    return 0;
}

/* An int64 metadata field: a JSON integer or a decimal string (some
 * Debezium tools emit "1580390884335"); absent or null -> *has = false. */
static int
meta_int(dctx *d, const char *v, const char *where, bool *has, int64_t *out, eng_err *err)
{
    *has = false;
    if (v == NULL || *v == 'n')
        return 0;
    if (!json_int(v, out)) {
        if (*v != '"')
            return BAD(err, "\"%s\" is not an integer", where);
        size_t n;
        const char *s = str_text(d, v, &n);
        eng_err e2;
        eng_err_clear(&e2);
        if (eng_int_parse(s, n, 64, out, &e2) < 0)
            return BAD(err, "\"%s\" is not an integer", where);
    }
    *has = true;
    return 0;
}

/* The envelope: the payload of {"schema", "payload"} or the bare value. */
static const char *
envelope(const io_dbz_jroot *r)
{
    if (*r->value == '{' && r->nmembers == 2 && r->schema && r->payload)
        return r->payload;
    return r->value;
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

/* Copies the string at v into out[0..cap) NUL-terminated; -1 if it does
 * not fit. */
static int
copy_id(const char *v, const char *end, char *out, size_t cap)
{
    io_dbz_jstr s;
    io_dbz_json_string(v, end, &s);
    size_t n = io_dbz_json_unescape_to(&s, out, cap - 1);
    if (n == SIZE_MAX)
        return -1;
    out[n] = '\0';
    return 0;
}

static int
decode_envelope(const io_dbz_schema *cols, const char *env, dctx *d, io_dbz_change *out,
                eng_err *err)
{
    if (*env == 'n')
        return 0; /* tombstone */
    if (*env != '{')
        return BAD(err, "the payload is not an object");
    enum { OP, SOURCE, TS, TXN, BEFORE, AFTER };
    static const char *const names[] = {"op", "source", "ts_ms", "transaction", "before", "after"};
    const char *m[6];
    members(d, env, names, 6, m);
    if (m[OP] == NULL || *m[OP] != '"')
        return BAD(err, "\"op\" is missing or not a string");
    size_t n;
    const char *op = str_text(d, m[OP], &n);
    if (n != 1 || !strchr("crudtm", op[0]))
        return BAD(err, "unknown op \"%.*s\"", (int)(n < 20 ? n : 20), op);
    out->op = op[0];
    const char *src = m[SOURCE];
    if (src && *src != 'n' && *src != '{')
        return BAD(err, "\"source\" is not an object");
    static const char *const snames[] = {"lsn", "txId", "ts_ms"};
    const char *sm[3] = {NULL, NULL, NULL};
    if (src && *src == '{')
        members(d, src, snames, 3, sm);
    if (meta_int(d, sm[0], "source.lsn", &out->has_lsn, &out->lsn, err) < 0 ||
        meta_int(d, sm[1], "source.txId", &out->has_txid, &out->txid, err) < 0 ||
        meta_int(d, sm[2], "source.ts_ms", &out->has_source_ts, &out->source_ts_ms, err) < 0 ||
        meta_int(d, m[TS], "ts_ms", &out->has_ts, &out->ts_ms, err) < 0)
        return -1;
    const char *txn = m[TXN];
    if (txn && *txn != 'n') {
        static const char *const tnames[] = {"id", "total_order", "data_collection_order"};
        const char *tm[3] = {NULL, NULL, NULL};
        bool has;
        if (*txn == '{')
            members(d, txn, tnames, 3, tm);
        if (tm[0] == NULL || *tm[0] != '"')
            return BAD(err, "\"transaction\" lacks a string \"id\"");
        if (copy_id(tm[0], d->end, out->txn_id, sizeof out->txn_id) < 0)
            return BAD(err, "\"transaction.id\" is too long");
        out->has_txn = true;
        if (meta_int(d, tm[1], "transaction.total_order", &has, &out->txn_total_order, err) < 0 ||
            meta_int(d, tm[2], "transaction.data_collection_order", &has,
                     &out->txn_collection_order, err) < 0)
            return -1;
    }
    if (out->op == 't' || out->op == 'm')
        return 0;
    const char *before = m[BEFORE], *after = m[AFTER];
    if (before && *before != 'n') {
        if (decode_row(cols, "before", before, d, &out->before, &out->before_partial,
                       &out->unknown_fields, err) < 0)
            return -1;
        out->has_before = true;
    }
    if (out->op != 'd') {
        if (after == NULL || *after == 'n')
            return BAD(err, "op \"%c\" without \"after\"", out->op);
        if (decode_row(cols, "after", after, d, &out->after, NULL, &out->unknown_fields, err) < 0)
            return -1;
        out->has_after = true;
    }
    return 0;
}

int
io_dbz_decode(const io_dbz_schema *cols, const char *value, size_t n, io_dbz_change *out,
              eng_err *err)
{
    clear_change(out);
    if (!value || n == 0)
        return 0;
    io_dbz_jroot r;
    if (io_dbz_json_check(value, n, &r, err) < 0)
        return -1;
    dctx d = {value + n, &out->scratch, &r};
    return decode_envelope(cols, envelope(&r), &d, out, err);
}

int
io_dbz_decode_key(const io_dbz_schema *key_cols, const char *key, size_t n, io_dbz_change *out,
                  eng_err *err)
{
    out->has_key = false;
    eng_rowbuf_reset(&out->key);
    if (!key || n == 0)
        return BAD(err, "the message has no key");
    io_dbz_jroot r;
    if (io_dbz_json_check(key, n, &r, err) < 0)
        return -1;
    dctx d = {key + n, &out->scratch, &r};
    bool unknown = false;
    if (decode_row(key_cols, "key", envelope(&r), &d, &out->key, NULL, &unknown, err) < 0)
        return -1;
    if (unknown)
        return BAD(err, "the key has fields that are not key columns");
    out->has_key = true;
    return 0;
}

static int
decode_txn(const char *env, dctx *d, const char *collection, io_dbz_txn *out, eng_err *err)
{
    if (*env != '{')
        return BAD(err, "the transaction message is not an object");
    enum { STATUS, ID, TS, COUNT, DCS };
    static const char *const names[] = {"status", "id", "ts_ms", "event_count", "data_collections"};
    const char *m[5];
    members(d, env, names, 5, m);
    io_dbz_jstr status = {NULL, 0, false};
    if (m[STATUS] && *m[STATUS] == '"')
        io_dbz_json_string(m[STATUS], d->end, &status);
    bool begin = status.p && io_dbz_json_str_eq(&status, "BEGIN", 5);
    if (!begin && !(status.p && io_dbz_json_str_eq(&status, "END", 3)))
        return BAD(err, "transaction \"status\" is not BEGIN or END");
    if (m[ID] == NULL || *m[ID] != '"')
        return BAD(err, "transaction \"id\" is missing");
    if (copy_id(m[ID], d->end, out->id, sizeof out->id) < 0)
        return BAD(err, "transaction \"id\" is too long");
    out->end = !begin;
    if (meta_int(d, m[TS], "ts_ms", &out->has_ts, &out->ts_ms, err) < 0)
        return -1;
    if (!out->end)
        return 0;
    bool has;
    if (meta_int(d, m[COUNT], "event_count", &has, &out->events, err) < 0)
        return -1;
    if (!has || out->events < 0)
        return BAD(err, "END without a valid \"event_count\"");
    const char *dcs = m[DCS];
    if (dcs && *dcs != 'n' && *dcs != '[')
        return BAD(err, "\"data_collections\" is not an array");
    out->collection_events = 0;
    if (dcs == NULL || *dcs != '[')
        return 0;
    size_t clen = collection ? strlen(collection) : 0;
    io_dbz_jiter it;
    const char *dc;
    io_dbz_json_iter(&it, dcs, d->end);
    while (io_dbz_json_element(&it, &dc)) {
        static const char *const dnames[] = {"data_collection", "event_count"};
        const char *dm[2] = {NULL, NULL};
        if (*dc == '{')
            members(d, dc, dnames, 2, dm);
        if (dm[0] == NULL || *dm[0] != '"')
            return BAD(err, "a data_collections entry lacks \"data_collection\"");
        int64_t cnt;
        if (meta_int(d, dm[1], "data_collections.event_count", &has, &cnt, err) < 0)
            return -1;
        if (!has || cnt < 0)
            return BAD(err, "a data_collections entry lacks a valid \"event_count\"");
        io_dbz_jstr name;
        io_dbz_json_string(dm[0], d->end, &name);
        if (collection && io_dbz_json_str_eq(&name, collection, clen))
            out->collection_events = cnt;
    }
    return 0;
}

int
io_dbz_decode_txn(const char *msg, size_t n, const char *collection, io_dbz_txn *out, eng_err *err)
{
    memset(out, 0, sizeof *out);
    out->events = out->collection_events = -1;
    if (!msg || n == 0)
        return BAD(err, "empty transaction message");
    io_dbz_jroot r;
    if (io_dbz_json_check(msg, n, &r, err) < 0)
        return -1;
    char buf[256];
    eng_strbuf scratch;
    eng_strbuf_init_on(&scratch, buf, sizeof buf);
    dctx d = {msg + n, &scratch, &r};
    int rc = decode_txn(envelope(&r), &d, collection, out, err);
    eng_strbuf_free(&scratch);
    return rc;
}
