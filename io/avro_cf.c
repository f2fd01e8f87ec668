/* Avro with the Confluent wire format (see io_avro.h): the framing, the
 * writer schema cache, writer -> reader resolution plans and a hand-written
 * decoder of the binary encoding driven by them. Schemas are compiled in
 * avro_schema.c. */
#include "io/avro_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/eng_datetime.h"
#include "engine/core/eng_numeric.h"
#include "engine/core/eng_strbuf.h"
#include "engine/core/eng_text.h"

/* Microseconds from 1970-01-01 to 2000-01-01, and days. */
#define EPOCH_SHIFT_US INT64_C(946684800000000)
#define EPOCH_SHIFT_DAYS 10957
/* PostgreSQL's valid ranges (engine/core/datetime_int.h): dates from Julian
 * day 0 (4714-11-24 BC) up to 5874898-01-01 exclusive, timestamps from
 * 4714-11-24 BC up to 294277-01-01 exclusive (microseconds since 2000). */
#define DATE_MIN_DAYS (-ENG_POSTGRES_EPOCH_JDATE)
#define DATE_END_DAYS (2147483494 - ENG_POSTGRES_EPOCH_JDATE)
#define TS_MIN_US INT64_C(-211813488000000000)
#define TS_END_US INT64_C(9223371331200000000)

/* ------------------------------------------------------------------ resolution plans */

/* How one writer value is read into one reader value (r NULL: skipped). */
typedef struct plan plan;
struct plan {
    const anode *w, *r;
    int nkids;
    plan *kids; /* record: per writer field; union (writer): per branch;
                 * reader union only: [0]; array/map: [0] */
    int *ridx;  /* record: reader field per writer field (-1 skip);
                 * unions: reader branch (-1: no match) */
    /* record: reader fields the writer lacks, with their default datums */
    int ndef;
    int *def_field;
    eng_rowbuf defs; /* the datums, in def_field order */
    bool in_order;   /* record: reader fields arrive in order, none defaulted */
};

static void
plan_free(plan *p)
{
    for (int i = 0; i < p->nkids; i++)
        plan_free(&p->kids[i]);
    free(p->kids);
    free(p->ridx);
    free(p->def_field);
    eng_rowbuf_free(&p->defs);
}

static bool
names_match(const anode *w, const anode *r)
{
    return w->name && r->name && strcmp(w->name, r->name) == 0;
}

/* True if a writer value of w can be read as r (not looking into unions). */
static bool
match(const anode *w, const anode *r)
{
    if (w->kind == r->kind) {
        if (w->kind == K_RECORD || w->kind == K_ENUM)
            return names_match(w, r);
        if (w->kind == K_FIXED)
            return names_match(w, r) && w->size == r->size;
        return true;
    }
    switch (w->kind) {
    case K_INT:
        return r->kind == K_LONG || r->kind == K_FLOAT || r->kind == K_DOUBLE;
    case K_LONG:
        return r->kind == K_FLOAT || r->kind == K_DOUBLE;
    case K_FLOAT:
        return r->kind == K_DOUBLE;
    case K_STRING:
        return r->kind == K_BYTES;
    case K_BYTES:
        return r->kind == K_STRING;
    default:
        return false;
    }
}

static int push_default(const anode *r, json_t *def, eng_rowbuf *out, eng_err *err);

static int
plan_build(plan *p, const anode *w, const anode *r, int depth, eng_err *err)
{
    memset(p, 0, sizeof *p);
    p->w = w;
    p->r = r;
    if (depth > IO_AVRO_MAX_DEPTH)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "Avro schemas nested deeper than %d levels", IO_AVRO_MAX_DEPTH);
    if (r == NULL) {
        /* skipping: plans only for records (their fields) are not needed;
         * skip() walks the writer schema directly */
        return 0;
    }
    if (w->kind == K_UNION) {
        p->nkids = w->n;
        p->kids = calloc((size_t)w->n, sizeof *p->kids);
        p->ridx = malloc((size_t)w->n * sizeof *p->ridx);
        ENG_ASSERT(p->kids && p->ridx);
        for (int i = 0; i < w->n; i++) {
            const anode *wb = w->kids[i];
            const anode *rb = NULL;
            p->ridx[i] = -1;
            if (r->kind == K_UNION) {
                for (int pass = 0; pass < 2 && rb == NULL; pass++)
                    for (int k = 0; k < r->n; k++)
                        if (pass == 0 ? (r->kids[k]->kind == wb->kind && match(wb, r->kids[k]))
                                      : match(wb, r->kids[k])) {
                            rb = r->kids[k];
                            p->ridx[i] = k;
                            break;
                        }
            } else if (match(wb, r)) {
                rb = r;
                p->ridx[i] = 0;
            }
            /* a writer branch that matches nothing is an error only when a
             * message uses it (Avro's rule) */
            if (rb && plan_build(&p->kids[i], wb, rb, depth + 1, err) < 0)
                return -1;
            if (!rb)
                p->kids[i].w = wb;
        }
        return 0;
    }
    if (r->kind == K_UNION) {
        p->nkids = 1;
        p->kids = calloc(1, sizeof *p->kids);
        p->ridx = malloc(sizeof *p->ridx);
        ENG_ASSERT(p->kids && p->ridx);
        for (int pass = 0; pass < 2; pass++)
            for (int k = 0; k < r->n; k++)
                if (pass == 0 ? (r->kids[k]->kind == w->kind && match(w, r->kids[k]))
                              : match(w, r->kids[k])) {
                    p->ridx[0] = k;
                    return plan_build(&p->kids[0], w, r->kids[k], depth + 1, err);
                }
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "Avro writer type %s matches no branch of the reader's union",
                           io_avro_kind_name[w->kind]);
    }
    if (!match(w, r))
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "Avro writer type %s%s%s cannot be read as %s%s%s",
                           io_avro_kind_name[w->kind], w->name ? " " : "", w->name ? w->name : "",
                           io_avro_kind_name[r->kind], r->name ? " " : "", r->name ? r->name : "");
    if (w->kind == K_ARRAY || w->kind == K_MAP) {
        p->nkids = 1;
        p->kids = calloc(1, sizeof *p->kids);
        ENG_ASSERT(p->kids != NULL);
        return plan_build(&p->kids[0], w->kids[0], r->kids[0], depth + 1, err);
    }
    if (w->kind != K_RECORD)
        return 0;
    p->nkids = w->n;
    p->kids = calloc(w->n ? (size_t)w->n : 1, sizeof *p->kids);
    p->ridx = malloc((w->n ? (size_t)w->n : 1) * sizeof *p->ridx);
    p->def_field = malloc((r->n ? (size_t)r->n : 1) * sizeof *p->def_field);
    bool *seen = calloc(r->n ? (size_t)r->n : 1, 1);
    ENG_ASSERT(p->kids && p->ridx && p->def_field && seen);
    int rc = 0, last = -1;
    p->in_order = true;
    for (int i = 0; i < w->n && rc == 0; i++) {
        p->ridx[i] = -1;
        for (int k = 0; k < r->n; k++)
            if (strcmp(w->names[i], r->names[k]) == 0) {
                p->ridx[i] = k;
                seen[k] = true;
                break;
            }
        if (p->ridx[i] >= 0) {
            if (p->ridx[i] != last + 1)
                p->in_order = false;
            last = p->ridx[i];
        }
        rc = plan_build(&p->kids[i], w->kids[i], p->ridx[i] >= 0 ? r->kids[p->ridx[i]] : NULL,
                        depth + 1, err);
        if (rc < 0)
            eng_err_context(err, "Avro field \"%s\"", w->names[i]);
    }
    for (int k = 0; k < r->n && rc == 0; k++) {
        if (seen[k])
            continue;
        p->in_order = false;
        if (r->defaults[k] == NULL) {
            rc = eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                             "Avro reader field \"%s\" is missing from the writer schema and "
                             "has no default",
                             r->names[k]);
            break;
        }
        p->def_field[p->ndef++] = k;
        rc = push_default(r->kids[k], r->defaults[k], &p->defs, err);
        if (rc < 0)
            eng_err_context(err, "default of Avro field \"%s\"", r->names[k]);
    }
    free(seen);
    return rc;
}

/* ------------------------------------------------------------------ the decoder */

typedef struct wentry {
    uint32_t id;
    aschema *schema;
    plan plan;
} wentry;

struct io_avro_decoder {
    io_avro_mode mode;
    aschema *reader;
    const anode *row_rec; /* the record whose fields are the columns */
    io_avro_column *cols;
    int ncols;
    int f_before, f_after, f_source, f_op, f_ts; /* envelope fields in the reader (-1) */
    int f_lsn, f_txid;                           /* in the reader's source record */
    wentry *ws;
    int nws, wcap;
    int last; /* index of the last used entry (messages of a topic share an id) */
    /* scratch, reused */
    eng_rowbuf tmp;
    uint32_t *off, *len;
    int offcap;
    eng_rowbuf before, after;
    eng_strbuf sb;
    eng_numeric num;
};

static int
field_index(const anode *rec, const char *name)
{
    for (int i = 0; rec && rec->kind == K_RECORD && i < rec->n; i++)
        if (strcmp(rec->names[i], name) == 0)
            return i;
    return -1;
}

io_avro_decoder *
io_avro_decoder_create(const char *reader_json, size_t n, io_avro_mode mode, eng_err *err)
{
    aschema *s = io_avro_schema_parse(reader_json, n, err);
    if (s == NULL)
        return NULL;
    io_avro_decoder *d = calloc(1, sizeof *d);
    ENG_ASSERT(d != NULL);
    d->mode = mode;
    d->reader = s;
    d->last = -1;
    eng_numeric_init(&d->num);
    d->f_before = d->f_after = d->f_source = d->f_op = d->f_ts = d->f_lsn = d->f_txid = -1;
    const anode *rec = s->root;
    if (mode == IO_AVRO_DEBEZIUM) {
        d->f_before = field_index(rec, "before");
        d->f_after = field_index(rec, "after");
        d->f_source = field_index(rec, "source");
        d->f_op = field_index(rec, "op");
        d->f_ts = field_index(rec, "ts_ms");
        const anode *after = d->f_after >= 0 ? io_avro_nullable_inner(rec->kids[d->f_after]) : NULL;
        if (d->f_op < 0 || after == NULL || after->kind != K_RECORD ||
            rec->kids[d->f_op]->kind != K_STRING) {
            eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                        "the Avro schema is not a Debezium envelope (it needs an optional "
                        "record \"after\" and a string \"op\")");
            io_avro_decoder_free(d);
            return NULL;
        }
        if (d->f_source >= 0) {
            const anode *src = rec->kids[d->f_source];
            if (io_avro_nullable_inner(src))
                src = io_avro_nullable_inner(src);
            d->f_lsn = field_index(src, "lsn");
            d->f_txid = field_index(src, "txId");
        }
        rec = after;
    }
    d->row_rec = rec;
    if (io_avro_make_columns(rec, &d->cols, err) < 0) {
        io_avro_decoder_free(d);
        return NULL;
    }
    d->ncols = rec->n;
    d->offcap = rec->n ? rec->n : 1;
    d->off = malloc((size_t)d->offcap * sizeof *d->off);
    d->len = malloc((size_t)d->offcap * sizeof *d->len);
    ENG_ASSERT(d->off && d->len);
    return d;
}

void
io_avro_decoder_free(io_avro_decoder *d)
{
    if (d == NULL)
        return;
    for (int i = 0; i < d->nws; i++) {
        plan_free(&d->ws[i].plan);
        io_avro_schema_free(d->ws[i].schema);
    }
    free(d->ws);
    io_avro_schema_free(d->reader);
    free(d->cols);
    free(d->off);
    free(d->len);
    eng_rowbuf_free(&d->tmp);
    eng_rowbuf_free(&d->before);
    eng_rowbuf_free(&d->after);
    eng_strbuf_free(&d->sb);
    eng_numeric_free(&d->num);
    free(d);
}

int
io_avro_decoder_ncols(const io_avro_decoder *d)
{
    return d->ncols;
}

const io_avro_column *
io_avro_decoder_cols(const io_avro_decoder *d)
{
    return d->cols;
}

bool
io_avro_decoder_has_schema(const io_avro_decoder *d, uint32_t id)
{
    for (int i = 0; i < d->nws; i++)
        if (d->ws[i].id == id)
            return true;
    return false;
}

int
io_avro_decoder_add_schema(io_avro_decoder *d, uint32_t id, const char *json, size_t n,
                           eng_err *err)
{
    if (io_avro_decoder_has_schema(d, id))
        return 0;
    aschema *s = io_avro_schema_parse(json, n, err);
    if (s == NULL)
        return -1;
    plan p;
    if (plan_build(&p, s->root, d->reader->root, 0, err) < 0) {
        plan_free(&p);
        io_avro_schema_free(s);
        eng_err_context(err, "Avro writer schema id %u", id);
        return -1;
    }
    if (d->nws == d->wcap) {
        d->wcap = d->wcap ? d->wcap * 2 : 4;
        d->ws = realloc(d->ws, (size_t)d->wcap * sizeof *d->ws);
        ENG_ASSERT(d->ws != NULL);
    }
    d->ws[d->nws++] = (wentry){id, s, p};
    return 0;
}

/* ------------------------------------------------------------------ binary decoding */

/* Array and map items a message may hold beyond one per byte: items that
 * encode to no bytes (nulls, records of nulls) would otherwise let a
 * hostile count of 2^62 spin the decoder. */
#define ITEMS_SLACK 65536

typedef struct rd {
    const uint8_t *p;
    size_t n, off;
    uint64_t items; /* array/map items left for this message */
} rd;

static int
corrupt(eng_err *err, const char *what)
{
    return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "malformed Avro message: %s", what);
}

/* A zig-zag varint of at most 10 bytes. */
static int
rd_long(rd *r, int64_t *v, eng_err *err)
{
    uint64_t u = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->off >= r->n)
            return corrupt(err, "truncated");
        uint8_t b = r->p[r->off++];
        if (shift == 63 && (b & 0x7e))
            return corrupt(err, "a varint overflows 64 bits");
        u |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
            return 0;
        }
    }
    return corrupt(err, "a varint longer than 10 bytes");
}

static int
rd_int(rd *r, int64_t *v, eng_err *err)
{
    if (rd_long(r, v, err) < 0)
        return -1;
    if (*v < INT32_MIN || *v > INT32_MAX)
        return corrupt(err, "an int out of range");
    return 0;
}

static int
rd_bytes(rd *r, const uint8_t **p, size_t *len, eng_err *err)
{
    int64_t l = 0;
    if (rd_long(r, &l, err) < 0)
        return -1;
    if (l < 0 || (uint64_t)l > r->n - r->off)
        return corrupt(err, "a length runs past the message");
    *p = r->p + r->off;
    *len = (size_t)l;
    r->off += (size_t)l;
    return 0;
}

static int
rd_fixed(rd *r, size_t len, const uint8_t **p, eng_err *err)
{
    if (len > r->n - r->off)
        return corrupt(err, "truncated");
    *p = r->p + r->off;
    r->off += len;
    return 0;
}

/* Skips one writer value of w. */
static int
skip(rd *r, const anode *w, int depth, eng_err *err)
{
    int64_t v;
    const uint8_t *p;
    size_t l;
    if (depth > IO_AVRO_MAX_DEPTH)
        return corrupt(err, "nested too deeply");
    switch (w->kind) {
    case K_NULL:
        return 0;
    case K_BOOL:
        return rd_fixed(r, 1, &p, err);
    case K_INT:
    case K_LONG:
    case K_ENUM:
        return rd_long(r, &v, err);
    case K_FLOAT:
        return rd_fixed(r, 4, &p, err);
    case K_DOUBLE:
        return rd_fixed(r, 8, &p, err);
    case K_BYTES:
    case K_STRING:
        return rd_bytes(r, &p, &l, err);
    case K_FIXED:
        return rd_fixed(r, (size_t)w->size, &p, err);
    case K_RECORD:
        for (int i = 0; i < w->n; i++)
            if (skip(r, w->kids[i], depth + 1, err) < 0)
                return -1;
        return 0;
    case K_UNION:
        if (rd_long(r, &v, err) < 0)
            return -1;
        if (v < 0 || v >= w->n)
            return corrupt(err, "a union branch out of range");
        return skip(r, w->kids[v], depth + 1, err);
    case K_ARRAY:
    case K_MAP:
        for (;;) {
            int64_t count;
            if (rd_long(r, &count, err) < 0)
                return -1;
            if (count == 0)
                return 0;
            if (count < 0) { /* a block with its byte size: skip it whole */
                int64_t size;
                if (rd_long(r, &size, err) < 0)
                    return -1;
                if (size < 0 || (uint64_t)size > r->n - r->off)
                    return corrupt(err, "a block runs past the message");
                r->off += (size_t)size;
                continue;
            }
            if ((uint64_t)count > r->items)
                return corrupt(err, "more array or map items than the message can hold");
            r->items -= (uint64_t)count;
            for (int64_t i = 0; i < count; i++) {
                if (w->kind == K_MAP && rd_bytes(r, &p, &l, err) < 0)
                    return -1;
                if (skip(r, w->kids[0], depth + 1, err) < 0)
                    return -1;
            }
        }
    }
    return corrupt(err, "unknown schema node");
}

static int
range_err(eng_err *err, const char *what)
{
    return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW, "%s out of range", what);
}

static int
push_ts(eng_rowbuf *out, uint8_t tag, int64_t v, int64_t mul, int64_t div, eng_err *err)
{
    int64_t us;
    if (div > 1) {
        us = v / div;
        if (v % div < 0)
            us--; /* floor, so instants before 1970 keep their order */
    } else if (__builtin_mul_overflow(v, mul, &us))
        return range_err(err, "timestamp");
    if (us < TS_MIN_US + EPOCH_SHIFT_US || us - EPOCH_SHIFT_US >= TS_END_US)
        return range_err(err, "timestamp");
    us -= EPOCH_SHIFT_US;
    eng_push_fixed(out, tag, &us, 8);
    return 0;
}

static int
push_time(eng_rowbuf *out, int64_t v, int64_t mul, int64_t div, eng_err *err)
{
    int64_t us = div > 1 ? v / div : v * mul; /* |v| < 2^63 / 1000 checked below */
    if (div == 1 && (v < 0 || v > ENG_USECS_PER_DAY))
        return range_err(err, "time");
    if (us < 0 || us > ENG_USECS_PER_DAY)
        return range_err(err, "time");
    eng_push_fixed(out, ENG_TAG_TIME, &us, 8);
    return 0;
}

/* Unscaled two's complement big-endian bytes with scale -> numeric datum. */
static int
push_decimal(io_avro_decoder *d, const uint8_t *p, size_t n, int32_t scale, int32_t typmod,
             eng_rowbuf *out, eng_err *err)
{
    if (n > 128)
        return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                           "Avro decimal of %zu bytes is too large", n);
    if (scale < 0 || scale > ENG_NUMERIC_DSCALE_MAX)
        return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                           "Avro decimal scale %d out of range", scale);
    uint8_t mag[128] = {0};
    bool neg = n > 0 && (p[0] & 0x80);
    /* magnitude: two's complement negation for negative values */
    int carry = 1;
    for (size_t i = n; i-- > 0;) {
        if (neg) {
            int b = (uint8_t)~p[i] + carry;
            mag[i] = (uint8_t)b;
            carry = b >> 8;
        } else
            mag[i] = p[i];
    }
    /* base-256 -> decimal digits by repeated division by 10 */
    char digits[320];
    int nd = 0;
    size_t start = 0;
    while (start < n && mag[start] == 0)
        start++;
    while (start < n) {
        unsigned rem = 0;
        for (size_t i = start; i < n; i++) {
            unsigned cur = (rem << 8) | mag[i];
            mag[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
        }
        digits[nd++] = (char)('0' + rem);
        while (start < n && mag[start] == 0)
            start++;
    }
    /* text: [-]int.frac */
    eng_strbuf_reset(&d->sb);
    if (neg)
        eng_strbuf_putc(&d->sb, '-');
    int intd = nd - scale;
    if (intd <= 0)
        eng_strbuf_putc(&d->sb, '0');
    for (int i = nd - 1; i >= scale && i >= 0; i--)
        eng_strbuf_putc(&d->sb, digits[i]);
    if (scale > 0) {
        eng_strbuf_putc(&d->sb, '.');
        for (int i = scale - 1; i >= 0; i--)
            eng_strbuf_putc(&d->sb, i < nd ? digits[i] : '0');
    }
    if (eng_numeric_parse(d->sb.data, d->sb.len, typmod, &d->num, err) < 0)
        return -1;
    eng_numeric_push(out, &d->num);
    return 0;
}

/* Reads one writer value w (resolved by plan pl to reader node pl->r)
 * and pushes one datum. */
static int
value(io_avro_decoder *d, rd *r, const plan *pl, eng_rowbuf *out, int depth, eng_err *err)
{
    const anode *w = pl->w, *rn = pl->r;
    int64_t v = 0;
    const uint8_t *p = NULL;
    size_t l = 0;
    if (depth > IO_AVRO_MAX_DEPTH)
        return corrupt(err, "nested too deeply");
    if (w->kind == K_UNION) {
        if (rd_long(r, &v, err) < 0)
            return -1;
        if (v < 0 || v >= w->n)
            return corrupt(err, "a union branch out of range");
        if (pl->ridx[v] < 0)
            return corrupt(err, "a union branch the reader schema cannot read");
        return value(d, r, &pl->kids[v], out, depth + 1, err);
    }
    if (rn->kind == K_UNION)
        return value(d, r, &pl->kids[0], out, depth + 1, err);
    /* read the writer's value */
    double f = 0;
    switch (w->kind) {
    case K_NULL:
        eng_push_null(out);
        return 0;
    case K_BOOL:
        if (rd_fixed(r, 1, &p, err) < 0)
            return -1;
        if (p[0] > 1)
            return corrupt(err, "a boolean other than 0 or 1");
        eng_push_bool(out, p[0] == 1);
        return 0;
    case K_INT:
        if (rd_int(r, &v, err) < 0)
            return -1;
        f = (double)v;
        break;
    case K_LONG:
        if (rd_long(r, &v, err) < 0)
            return -1;
        f = (double)v;
        break;
    case K_FLOAT: {
        float x;
        if (rd_fixed(r, 4, &p, err) < 0)
            return -1;
        memcpy(&x, p, 4); /* Avro floats are little-endian, as we are */
        f = x;
        break;
    }
    case K_DOUBLE:
        if (rd_fixed(r, 8, &p, err) < 0)
            return -1;
        memcpy(&f, p, 8);
        break;
    case K_BYTES:
    case K_STRING:
        if (rd_bytes(r, &p, &l, err) < 0)
            return -1;
        break;
    case K_FIXED:
        if (rd_fixed(r, (size_t)w->size, &p, err) < 0)
            return -1;
        l = (size_t)w->size;
        break;
    case K_ENUM:
        if (rd_long(r, &v, err) < 0)
            return -1;
        if (v < 0 || v >= w->n)
            return corrupt(err, "an enum index out of range");
        p = (const uint8_t *)w->names[v];
        l = strlen(w->names[v]);
        break;
    case K_RECORD:
        if (rn->conv == CV_VSDEC) {
            /* io.debezium.data.VariableScaleDecimal {scale int, value bytes} */
            int64_t sc = 0;
            const uint8_t *vp = NULL;
            size_t vl = 0;
            bool has_s = false, has_v = false;
            for (int i = 0; i < w->n; i++) {
                if (strcmp(w->names[i], "scale") == 0 && w->kids[i]->kind == K_INT) {
                    if (rd_int(r, &sc, err) < 0)
                        return -1;
                    has_s = true;
                } else if (strcmp(w->names[i], "value") == 0 && w->kids[i]->kind == K_BYTES) {
                    if (rd_bytes(r, &vp, &vl, err) < 0)
                        return -1;
                    has_v = true;
                } else if (skip(r, w->kids[i], depth + 1, err) < 0)
                    return -1;
            }
            if (!has_s || !has_v)
                return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                                   "VariableScaleDecimal without scale and value fields");
            return push_decimal(d, vp, vl, (int32_t)sc, -1, out, err);
        }
        /* fallthrough */
    default:
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "Avro %s values are not supported as columns",
                           io_avro_kind_name[w->kind]);
    }
    /* convert to the reader's column type */
    switch (rn->conv) {
    case CV_INT4:
        eng_push_int4(out, (int32_t)v);
        return 0;
    case CV_INT8:
        eng_push_int8(out, v);
        return 0;
    case CV_FLOAT4:
        eng_push_float4(out, (float)f);
        return 0;
    case CV_FLOAT8:
        eng_push_float8(out, f);
        return 0;
    case CV_TEXT:
    case CV_BYTES:
        if (rn->conv == CV_TEXT && eng_utf8_validate((const char *)p, l, err) < 0)
            return -1;
        eng_push_var(out, rn->conv == CV_TEXT ? ENG_TAG_TEXT : ENG_TAG_BYTES, p, (uint32_t)l);
        return 0;
    case CV_JSON:
        eng_strbuf_reset(&d->sb);
        if (eng_jsonb_canonicalize((const char *)p, l, &d->sb, err) < 0)
            return -1;
        eng_push_text(out, d->sb.data, (uint32_t)d->sb.len);
        return 0;
    case CV_UUID: {
        uint8_t u[16];
        if (eng_uuid_parse((const char *)p, l, u, err) < 0)
            return -1;
        eng_push_fixed(out, ENG_TAG_UUID, u, 16);
        return 0;
    }
    case CV_DATE: {
        if (v - EPOCH_SHIFT_DAYS < DATE_MIN_DAYS || v - EPOCH_SHIFT_DAYS >= DATE_END_DAYS)
            return range_err(err, "date");
        int32_t days = (int32_t)(v - EPOCH_SHIFT_DAYS);
        eng_push_fixed(out, ENG_TAG_DATE, &days, 4);
        return 0;
    }
    case CV_TIME_MS:
        return push_time(out, v, 1000, 1, err);
    case CV_TIME_US:
        return push_time(out, v, 1, 1, err);
    case CV_TIME_NS:
        return push_time(out, v, 1, 1000, err);
    case CV_TS_MS:
        return push_ts(out, ENG_TAG_TIMESTAMP, v, 1000, 1, err);
    case CV_TS_US:
        return push_ts(out, ENG_TAG_TIMESTAMP, v, 1, 1, err);
    case CV_TS_NS:
        return push_ts(out, ENG_TAG_TIMESTAMP, v, 1, 1000, err);
    case CV_TSTZ_STR: {
        int64_t ts;
        if (eng_timestamp_parse((const char *)p, l, true, -1, &ts, err) < 0)
            return -1;
        eng_push_fixed(out, ENG_TAG_TIMESTAMPTZ, &ts, 8);
        return 0;
    }
    case CV_DECIMAL: {
        int32_t typmod = -1;
        if (rn->precision >= 1 && rn->precision <= ENG_NUMERIC_MAX_PRECISION && rn->scale >= 0 &&
            rn->scale <= rn->precision)
            typmod = eng_numeric_typmod_make(rn->precision, rn->scale);
        return push_decimal(d, p, l, rn->scale, typmod, out, err);
    }
    default:
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "Avro type %s is not supported as a column",
                           io_avro_kind_name[rn->kind]);
    }
}

/* Reads a writer record resolved by pl into a row of the reader record's
 * fields, in the reader's order. */
static int
record_row(io_avro_decoder *d, rd *r, const plan *pl, eng_rowbuf *out, eng_err *err)
{
    const anode *w = pl->w;
    if (pl->in_order) {
        for (int i = 0; i < w->n; i++) {
            int rc = pl->ridx[i] >= 0 ? value(d, r, &pl->kids[i], out, 1, err)
                                      : skip(r, w->kids[i], 1, err);
            if (rc < 0) {
                eng_err_context(err, "Avro field \"%s\"", w->names[i]);
                return -1;
            }
        }
        return 0;
    }
    int nr = pl->r->n;
    eng_rowbuf_reset(&d->tmp);
    for (int i = 0; i < w->n; i++) {
        int k = pl->ridx[i];
        uint32_t at = d->tmp.len;
        int rc = k >= 0 ? value(d, r, &pl->kids[i], &d->tmp, 1, err) : skip(r, w->kids[i], 1, err);
        if (rc < 0) {
            eng_err_context(err, "Avro field \"%s\"", w->names[i]);
            return -1;
        }
        if (k >= 0) {
            d->off[k] = at;
            d->len[k] = d->tmp.len - at;
        }
    }
    /* defaults go after the writer's fields in the same scratch */
    uint32_t doff = 0;
    for (int j = 0; j < pl->ndef; j++) {
        uint32_t sz = eng_datum_size_at(pl->defs.data + doff);
        d->off[pl->def_field[j]] = d->tmp.len;
        d->len[pl->def_field[j]] = sz;
        eng_rowbuf_append(&d->tmp, pl->defs.data + doff, sz);
        doff += sz;
    }
    for (int k = 0; k < nr; k++)
        eng_rowbuf_append(out, d->tmp.data + d->off[k], d->len[k]);
    return 0;
}

static int
find_writer(io_avro_decoder *d, const uint8_t *msg, size_t n, rd *r, wentry **we, eng_err *err)
{
    uint32_t id = 0;
    const uint8_t *body = NULL;
    size_t blen = 0;
    if (io_avro_cf_frame(msg, n, &id, &body, &blen, err) < 0)
        return -1;
    if (d->last < 0 || d->ws[d->last].id != id) {
        d->last = -1;
        for (int i = 0; i < d->nws; i++)
            if (d->ws[i].id == id)
                d->last = i;
        if (d->last < 0)
            return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                               "unknown Avro schema id %u", id);
    }
    *we = &d->ws[d->last];
    *r = (rd){body, blen, 0, blen + ITEMS_SLACK};
    return 0;
}

int
io_avro_decode(io_avro_decoder *d, const uint8_t *msg, size_t n, eng_rowbuf *out, eng_err *err)
{
    ENG_ASSERT(d->mode == IO_AVRO_PLAIN);
    rd r;
    wentry *we = NULL;
    if (find_writer(d, msg, n, &r, &we, err) < 0)
        return -1;
    uint32_t start = out->len;
    if (record_row(d, &r, &we->plan, out, err) < 0) {
        out->len = start;
        return -1;
    }
    if (r.off != r.n) {
        out->len = start;
        return corrupt(err, "bytes after the record");
    }
    return 0;
}

/* An optional record (before/after): 0 with *present false for null. */
static int
opt_row(io_avro_decoder *d, rd *r, const plan *pl, eng_rowbuf *out, bool *present, eng_err *err)
{
    *present = false;
    eng_rowbuf_reset(out);
    const plan *rp = pl;
    if (pl->w->kind == K_UNION) {
        int64_t v;
        if (rd_long(r, &v, err) < 0)
            return -1;
        if (v < 0 || v >= pl->w->n)
            return corrupt(err, "a union branch out of range");
        if (pl->w->kids[v]->kind == K_NULL)
            return 0;
        if (pl->ridx[v] < 0)
            return corrupt(err, "a union branch the reader schema cannot read");
        rp = &pl->kids[v];
    } else if (pl->r->kind == K_UNION)
        rp = &pl->kids[0];
    if (rp->w->kind != K_RECORD || rp->r == NULL || rp->r->kind != K_RECORD)
        return corrupt(err, "before/after is not a record");
    *present = true;
    return record_row(d, r, rp, out, err);
}

/* A long or optional long into *v. */
static int
opt_long(rd *r, const plan *pl, bool *has, int64_t *v, eng_err *err)
{
    const anode *w = pl->w;
    *has = false;
    if (w->kind == K_UNION) {
        int64_t b;
        if (rd_long(r, &b, err) < 0)
            return -1;
        if (b < 0 || b >= w->n)
            return corrupt(err, "a union branch out of range");
        w = w->kids[b];
    }
    if (w->kind == K_NULL)
        return 0;
    if (w->kind != K_LONG && w->kind != K_INT)
        return skip(r, w, 1, err);
    *has = true;
    return rd_long(r, v, err);
}

int
io_avro_decode_debezium(io_avro_decoder *d, const uint8_t *msg, size_t n, io_avro_change *c,
                        eng_err *err)
{
    ENG_ASSERT(d->mode == IO_AVRO_DEBEZIUM);
    memset(c, 0, sizeof *c);
    rd r;
    wentry *we = NULL;
    if (find_writer(d, msg, n, &r, &we, err) < 0)
        return -1;
    const plan *pl = &we->plan;
    const anode *w = pl->w;
    if (w->kind != K_RECORD)
        return corrupt(err, "the writer schema is not a record");
    for (int i = 0; i < w->n; i++) {
        int k = pl->ridx[i];
        const plan *fp = &pl->kids[i];
        int rc;
        if (k < 0) {
            rc = skip(&r, w->kids[i], 1, err);
        } else if (k == d->f_before) {
            rc = opt_row(d, &r, fp, &d->before, &c->has_before, err);
        } else if (k == d->f_after) {
            rc = opt_row(d, &r, fp, &d->after, &c->has_after, err);
        } else if (k == d->f_op) {
            const uint8_t *p;
            size_t l;
            rc = w->kids[i]->kind == K_STRING ? rd_bytes(&r, &p, &l, err)
                                              : corrupt(err, "op is not a string");
            if (rc == 0) {
                if (l != 1 || p[0] == 0 || strchr("crudt", p[0]) == NULL)
                    return corrupt(err, "op is not one of c, r, u, d, t");
                c->op = (char)p[0];
            }
        } else if (k == d->f_ts) {
            rc = opt_long(&r, fp, &c->has_ts_ms, &c->ts_ms, err);
        } else if (k == d->f_source) {
            const anode *sw = w->kids[i];
            rc = 0;
            if (sw->kind == K_UNION) {
                int64_t b;
                if ((rc = rd_long(&r, &b, err)) == 0 && (b < 0 || b >= sw->n))
                    rc = corrupt(err, "a union branch out of range");
                if (rc == 0)
                    sw = sw->kids[b];
            }
            for (int j = 0; rc == 0 && sw->kind == K_RECORD && j < sw->n; j++) {
                plan sp = {.w = sw->kids[j]};
                if (strcmp(sw->names[j], "lsn") == 0)
                    rc = opt_long(&r, &sp, &c->has_lsn, &c->lsn, err);
                else if (strcmp(sw->names[j], "txId") == 0)
                    rc = opt_long(&r, &sp, &c->has_txid, &c->txid, err);
                else
                    rc = skip(&r, sw->kids[j], 2, err);
            }
        } else {
            rc = skip(&r, w->kids[i], 1, err);
        }
        if (rc < 0) {
            eng_err_context(err, "Avro field \"%s\"", w->names[i]);
            return -1;
        }
    }
    if (r.off != r.n)
        return corrupt(err, "bytes after the record");
    if (c->op == 0)
        return corrupt(err, "no op");
    c->before = eng_rowbuf_row(&d->before);
    c->after = eng_rowbuf_row(&d->after);
    return 0;
}

/* ------------------------------------------------------------------ defaults */

/* A field default (JSON, per the Avro spec: a union's default is of its
 * first branch) as one datum. Only defaults of column types are needed. */
static int
push_default(const anode *r, json_t *def, eng_rowbuf *out, eng_err *err)
{
    if (r->kind == K_UNION)
        r = r->kids[0];
    switch (r->kind) {
    case K_NULL:
        if (!json_is_null(def))
            break;
        eng_push_null(out);
        return 0;
    case K_BOOL:
        if (!json_is_boolean(def))
            break;
        eng_push_bool(out, json_is_true(def));
        return 0;
    case K_INT:
    case K_LONG:
    case K_FLOAT:
    case K_DOUBLE:
    case K_STRING:
    case K_ENUM: {
        /* run the value through the same conversion as a message would */
        uint8_t buf[256];
        size_t bl = 0;
        const char *s = NULL;
        if (r->kind == K_STRING || r->kind == K_ENUM) {
            if (!json_is_string(def))
                break;
            s = json_string_value(def);
            if (r->kind == K_ENUM) {
                if (r->conv != CV_TEXT)
                    break;
                eng_push_text(out, s, (uint32_t)strlen(s));
                return 0;
            }
        } else if (r->kind == K_INT || r->kind == K_LONG) {
            if (!json_is_integer(def))
                break;
            json_int_t x = json_integer_value(def);
            uint64_t u = ((uint64_t)x << 1) ^ (x < 0 ? UINT64_MAX : 0);
            do {
                buf[bl++] = (uint8_t)((u & 0x7f) | (u > 0x7f ? 0x80 : 0));
                u >>= 7;
            } while (u);
        } else {
            if (!json_is_number(def))
                break;
            double x = json_number_value(def);
            if (r->kind == K_FLOAT) {
                float fx = (float)x;
                memcpy(buf, &fx, 4);
                bl = 4;
            } else {
                memcpy(buf, &x, 8);
                bl = 8;
            }
        }
        plan p = {.w = r, .r = r};
        if (s) {
            /* a string default: encoded as Avro would encode it */
            if (r->conv == CV_JSON)
                break; /* needs the decoder's scratch; not worth it for a default */
            size_t sl = strlen(s);
            if (sl > sizeof buf - 16)
                break;
            uint64_t u = (uint64_t)sl << 1;
            do {
                buf[bl++] = (uint8_t)((u & 0x7f) | (u > 0x7f ? 0x80 : 0));
                u >>= 7;
            } while (u);
            memcpy(buf + bl, s, sl);
            bl += sl;
        }
        rd rr = {buf, bl, 0, 0};
        return value(NULL, &rr, &p, out, 0, err);
    }
    default:
        break;
    }
    return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                       "Avro default of type %s is not supported (or does not match its type)",
                       io_avro_kind_name[r->kind]);
}

/* ------------------------------------------------------------------ framing */

int
io_avro_cf_frame(const uint8_t *p, size_t n, uint32_t *schema_id, const uint8_t **body,
                 size_t *body_len, eng_err *err)
{
    if (n < 5)
        return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED,
                           "Confluent Avro message of %zu bytes is shorter than its 5-byte header",
                           n);
    if (p[0] != 0)
        return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED,
                           "Confluent Avro message starts with magic byte 0x%02x, not 0x00",
                           (unsigned)p[0]);
    *schema_id = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
    *body = p + 5;
    *body_len = n - 5;
    return 0;
}
