/* pgwire output: message encoding and the io_pgw_send_* functions.
 *
 * Notes: everything here runs on a connection's session thread and writes
 * into that session's local buffer (io_pgw_out.b), which the session writes
 * to its socket in chunks (io_pgw_write_out). Rows are formatted straight into
 * the buffer: no allocation per row beyond the buffer's amortised growth.
 * Binary output follows PostgreSQL's typsend functions; text output is
 * eng_text_format. */
#include "io/pgw_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "engine/core/eng_text.h"

/* ------------------------------------------------------------------ buffers */

bool
io_pgw_buf_reserve(pgw_buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->len + extra <= b->cap)
        return true;
    if (b->off > 0) { /* compact before growing */
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->len + extra <= b->cap)
            return true;
    }
    if (extra > SIZE_MAX / 4 - b->len) {
        b->oom = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (d == NULL) {
        b->oom = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void
io_pgw_buf_put(pgw_buf *b, const void *p, size_t n)
{
    if (n == 0 || !io_pgw_buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void
io_pgw_buf_free(pgw_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------------ errors and notices */

static void
put_field(pgw_buf *b, char code, const char *s)
{
    put_u8(b, (uint8_t)code);
    put_str(b, s);
}

void
io_pgw_put_error(pgw_buf *b, char type, const eng_err *e, bool fatal)
{
    const char *sev;
    if (type == 'N')
        sev = e->severity == ENG_SEV_WARNING ? "WARNING" : "NOTICE";
    else
        sev = fatal ? "FATAL" : e->severity == ENG_SEV_FATAL ? "FATAL" : "ERROR";
    size_t at = msg_begin(b, type);
    put_field(b, 'S', sev);
    put_field(b, 'V', sev);
    put_field(b, 'C', e->sqlstate[0] ? e->sqlstate : ENG_ERRCODE_INTERNAL_ERROR);
    put_field(b, 'M', e->message);
    if (e->detail[0])
        put_field(b, 'D', e->detail);
    if (e->hint[0])
        put_field(b, 'H', e->hint);
    if (e->position > 0 && type == 'E') {
        char pos[16];
        snprintf(pos, sizeof pos, "%d", e->position);
        put_field(b, 'P', pos);
    }
    put_u8(b, 0);
    msg_end(b, at);
}

/* ------------------------------------------------------------------ descriptions */

void
io_pgw_out_init(io_pgw_out *o, pgw_conn *c)
{
    memset(o, 0, sizeof *o);
    o->c = c;
}

void
io_pgw_out_free(io_pgw_out *o)
{
    io_pgw_buf_free(&o->b);
    free(o->types);
    free(o->formats);
    eng_strbuf_free(&o->tmp);
    o->types = NULL;
    o->formats = NULL;
}

static int16_t
format_of(int nformats, const int16_t *formats, int i)
{
    if (nformats == 0)
        return 0;
    return nformats == 1 ? formats[0] : formats[i];
}

int
io_pgw_out_set_cols(io_pgw_out *o, const io_pgw_desc *d, int nformats, const int16_t *formats)
{
    int n = d != NULL && d->ncols > 0 ? d->ncols : 0;
    if (n > o->cap) {
        eng_type *t = realloc(o->types, (size_t)n * sizeof *t);
        if (t == NULL)
            return -1;
        o->types = t;
        int16_t *f = realloc(o->formats, (size_t)n * sizeof *f);
        if (f == NULL)
            return -1;
        o->formats = f;
        o->cap = n;
    }
    for (int i = 0; i < n; i++) {
        o->types[i] = d->cols[i].type;
        o->formats[i] = format_of(nformats, formats, i);
    }
    o->ncols = n;
    return 0;
}

void
io_pgw_put_rowdesc(pgw_buf *b, const io_pgw_desc *d, int nformats, const int16_t *formats)
{
    size_t at = msg_begin(b, 'T');
    put_i16(b, (int16_t)d->ncols);
    for (int i = 0; i < d->ncols; i++) {
        const io_pgw_col *col = &d->cols[i];
        put_str(b, col->name ? col->name : "?column?");
        put_i32(b, (int32_t)col->table_oid);
        put_i16(b, col->attnum);
        put_i32(b, (int32_t)eng_type_oid(&col->type));
        put_i16(b, eng_type_typlen(&col->type));
        put_i32(b, col->type.typmod);
        put_i16(b, format_of(nformats, formats, i));
    }
    msg_end(b, at);
}

/* ------------------------------------------------------------------ datums */

/* The type a datum's tag stands for, when the description has no column
 * for it or disagrees (a handler bug we survive rather than crash on). */
static eng_type
type_for_tag(uint8_t tag)
{
    static const eng_typeid ids[ENG_TAG_COUNT_] = {
        [ENG_TAG_FALSE] = ENG_TYPE_BOOL,
        [ENG_TAG_TRUE] = ENG_TYPE_BOOL,
        [ENG_TAG_INT2] = ENG_TYPE_INT2,
        [ENG_TAG_INT4] = ENG_TYPE_INT4,
        [ENG_TAG_INT8] = ENG_TYPE_INT8,
        [ENG_TAG_FLOAT4] = ENG_TYPE_FLOAT4,
        [ENG_TAG_FLOAT8] = ENG_TYPE_FLOAT8,
        [ENG_TAG_DATE] = ENG_TYPE_DATE,
        [ENG_TAG_TIME] = ENG_TYPE_TIME,
        [ENG_TAG_TIMESTAMP] = ENG_TYPE_TIMESTAMP,
        [ENG_TAG_TIMESTAMPTZ] = ENG_TYPE_TIMESTAMPTZ,
        [ENG_TAG_INTERVAL] = ENG_TYPE_INTERVAL,
        [ENG_TAG_UUID] = ENG_TYPE_UUID,
        [ENG_TAG_NUMERIC] = ENG_TYPE_NUMERIC,
        [ENG_TAG_TEXT] = ENG_TYPE_TEXT,
        [ENG_TAG_BYTES] = ENG_TYPE_BYTEA,
    };
    return eng_type_make(tag < ENG_TAG_COUNT_ ? ids[tag] : ENG_TYPE_TEXT, ENG_TYPMOD_NONE);
}

static void
put_be(pgw_buf *b, const uint8_t *le, int n)
{
    uint8_t be[8];
    for (int i = 0; i < n; i++)
        be[i] = le[n - 1 - i];
    io_pgw_buf_put(b, be, (size_t)n);
}

static uint16_t
load_u16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

/* numeric_send: ndigits, weight, sign, dscale, digits (all int16). Our
 * payload holds the same fields little-endian (eng_numeric.h). */
static void
put_numeric_binary(pgw_buf *b, eng_datum d)
{
    if (d.len < 6) { /* special value: the sign word alone */
        put_i32(b, 8);
        put_i16(b, 0);
        put_i16(b, 0);
        put_i16(b, (int16_t)load_u16le(d.ptr));
        put_i16(b, 0);
        return;
    }
    int ndigits = (int)(d.len - 6) / 2;
    put_i32(b, 8 + 2 * ndigits);
    put_i16(b, (int16_t)ndigits);
    put_i16(b, (int16_t)load_u16le(d.ptr + 2));
    put_i16(b, (int16_t)load_u16le(d.ptr));
    put_i16(b, (int16_t)load_u16le(d.ptr + 4));
    for (int i = 0; i < ndigits; i++)
        put_i16(b, (int16_t)load_u16le(d.ptr + 6 + 2 * i));
}

/* One column value (length word + bytes) in binary. */
static void
put_datum_binary(pgw_buf *b, const eng_type *t, eng_datum d)
{
    switch (d.tag) {
    case ENG_TAG_TRUE:
    case ENG_TAG_FALSE:
        put_i32(b, 1);
        put_u8(b, d.tag == ENG_TAG_TRUE);
        return;
    case ENG_TAG_INT2:
    case ENG_TAG_INT4:
    case ENG_TAG_INT8:
    case ENG_TAG_FLOAT4:
    case ENG_TAG_FLOAT8:
    case ENG_TAG_DATE:
    case ENG_TAG_TIME:
    case ENG_TAG_TIMESTAMP:
    case ENG_TAG_TIMESTAMPTZ:
        put_i32(b, (int32_t)d.len);
        put_be(b, d.ptr, (int)d.len);
        return;
    case ENG_TAG_INTERVAL: /* interval_send: time, day, month */
        put_i32(b, 16);
        put_be(b, d.ptr + 8, 8);
        put_be(b, d.ptr + 4, 4);
        put_be(b, d.ptr, 4);
        return;
    case ENG_TAG_NUMERIC:
        put_numeric_binary(b, d);
        return;
    case ENG_TAG_TEXT:
        if (t->id == ENG_TYPE_JSONB) { /* jsonb_send: version 1, then the text */
            put_i32(b, (int32_t)d.len + 1);
            put_u8(b, 1);
        } else {
            put_i32(b, (int32_t)d.len);
        }
        io_pgw_buf_put(b, d.ptr, d.len);
        return;
    default: /* UUID and BYTES: the bytes themselves */
        put_i32(b, (int32_t)d.len);
        io_pgw_buf_put(b, d.ptr, d.len);
        return;
    }
}

static void
put_datum_text(io_pgw_out *o, pgw_buf *b, const eng_type *t, eng_datum d)
{
    if (d.tag == ENG_TAG_TEXT) {
        put_i32(b, (int32_t)d.len);
        io_pgw_buf_put(b, d.ptr, d.len);
        return;
    }
    eng_strbuf_reset(&o->tmp);
    eng_text_format(t, d, &o->tmp);
    put_i32(b, (int32_t)o->tmp.len);
    io_pgw_buf_put(b, o->tmp.data, o->tmp.len);
}

/* DataRow for row into b, formatted by o's description. */
static void
put_datarow(io_pgw_out *o, pgw_buf *b, eng_row row)
{
    size_t at = msg_begin(b, 'D');
    size_t ncat = b->len;
    put_i16(b, 0);
    uint32_t pos = 0;
    int n = 0;
    while (pos < row.len) {
        eng_datum d = eng_row_next(row, &pos);
        if (d.tag == ENG_TAG_NULL) {
            put_i32(b, -1);
        } else {
            eng_type t = n < o->ncols ? o->types[n] : type_for_tag(d.tag);
            if (!eng_type_tag_matches(&t, d.tag))
                t = type_for_tag(d.tag);
            if (n < o->ncols && o->formats[n] == 1)
                put_datum_binary(b, &t, d);
            else
                put_datum_text(o, b, &t, d);
        }
        n++;
    }
    if (!b->oom) {
        uint16_t nc = htons((uint16_t)n);
        memcpy(b->data + ncat, &nc, 2);
    }
    msg_end(b, at);
}

/* ------------------------------------------------------------------ the send functions */

/* After appending to o->b: writes a full chunk out (blocking while the
 * socket does not take it). -1: stop producing. */
static int
after_put(io_pgw_out *o)
{
    if (o->b.oom)
        return -1;
    if (o->b.len >= PGW_OUT_CHUNK)
        return io_pgw_write_out(o->c, true) == 0 ? 0 : -1;
    return io_pgw_cancelled(o) ? -1 : 0;
}

int
io_pgw_send_rowdesc(io_pgw_out *o, const io_pgw_desc *desc)
{
    if (o->extended) { /* Describe sent it; keep the Bind's formats */
        if (desc->ncols > o->cap || o->ncols != (desc->ncols > 0 ? desc->ncols : 0)) {
            if (io_pgw_out_set_cols(o, desc, 0, NULL) != 0) {
                o->b.oom = true;
                return -1;
            }
        } else {
            for (int i = 0; i < o->ncols; i++)
                o->types[i] = desc->cols[i].type;
        }
        return io_pgw_cancelled(o) ? -1 : 0;
    }
    if (io_pgw_out_set_cols(o, desc, 0, NULL) != 0) {
        o->b.oom = true;
        return -1;
    }
    if (desc->ncols >= 0)
        io_pgw_put_rowdesc(&o->b, desc, 0, NULL);
    return after_put(o);
}

int
io_pgw_send_row(io_pgw_out *o, eng_row row)
{
    if (o->limit > 0 && o->nrows >= o->limit && o->held != NULL) {
        put_datarow(o, o->held, row);
        o->nheld++;
        if (o->held->oom) {
            o->b.oom = true;
            return -1;
        }
        return io_pgw_cancelled(o) ? -1 : 0;
    }
    put_datarow(o, &o->b, row);
    o->nrows++;
    return after_put(o);
}

int
io_pgw_send_complete(io_pgw_out *o, const char *tag)
{
    if (o->extended) {
        snprintf(o->tag, sizeof o->tag, "%s", tag);
        o->have_tag = true;
        return io_pgw_cancelled(o) ? -1 : 0;
    }
    size_t at = msg_begin(&o->b, 'C');
    put_str(&o->b, tag);
    msg_end(&o->b, at);
    return after_put(o);
}

int
io_pgw_send_notice(io_pgw_out *o, const eng_err *notice)
{
    io_pgw_put_error(&o->b, 'N', notice, false);
    return after_put(o);
}

int
io_pgw_send_parameter(io_pgw_out *o, const char *name, const char *value)
{
    size_t at = msg_begin(&o->b, 'S');
    put_str(&o->b, name);
    put_str(&o->b, value);
    msg_end(&o->b, at);
    return after_put(o);
}

int
io_pgw_send_copy_begin(io_pgw_out *o, const io_pgw_desc *desc)
{
    if (io_pgw_out_set_cols(o, desc, 0, NULL) != 0) {
        o->b.oom = true;
        return -1;
    }
    size_t at = msg_begin(&o->b, 'H');
    put_u8(&o->b, 0); /* text */
    put_i16(&o->b, (int16_t)o->ncols);
    for (int i = 0; i < o->ncols; i++)
        put_i16(&o->b, 0);
    msg_end(&o->b, at);
    return after_put(o);
}

/* Appends s[0..n) with COPY text escapes (as PostgreSQL's
 * CopyAttributeOutText with the tab delimiter). */
static void
put_copy_escaped(pgw_buf *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        char e;
        switch (s[i]) {
        case '\\':
            e = '\\';
            break;
        case '\t':
            e = 't';
            break;
        case '\n':
            e = 'n';
            break;
        case '\r':
            e = 'r';
            break;
        case '\b':
            e = 'b';
            break;
        case '\f':
            e = 'f';
            break;
        case '\v':
            e = 'v';
            break;
        default:
            continue;
        }
        io_pgw_buf_put(b, s + start, i - start);
        char esc[2] = {'\\', e};
        io_pgw_buf_put(b, esc, 2);
        start = i + 1;
    }
    io_pgw_buf_put(b, s + start, n - start);
}

int
io_pgw_send_copy_row(io_pgw_out *o, eng_row row)
{
    pgw_buf *b = &o->b;
    size_t at = msg_begin(b, 'd');
    uint32_t pos = 0;
    int n = 0;
    while (pos < row.len) {
        eng_datum d = eng_row_next(row, &pos);
        if (n > 0)
            put_u8(b, '\t');
        if (d.tag == ENG_TAG_NULL) {
            io_pgw_buf_put(b, "\\N", 2);
        } else if (d.tag == ENG_TAG_TEXT) {
            put_copy_escaped(b, (const char *)d.ptr, d.len);
        } else {
            eng_type t = n < o->ncols ? o->types[n] : type_for_tag(d.tag);
            if (!eng_type_tag_matches(&t, d.tag))
                t = type_for_tag(d.tag);
            eng_strbuf_reset(&o->tmp);
            eng_text_format(&t, d, &o->tmp);
            put_copy_escaped(b, o->tmp.data, o->tmp.len);
        }
        n++;
    }
    put_u8(b, '\n');
    msg_end(b, at);
    return after_put(o);
}

int
io_pgw_send_copy_done(io_pgw_out *o)
{
    size_t at = msg_begin(&o->b, 'c');
    msg_end(&o->b, at);
    return after_put(o);
}

int
io_pgw_flush(io_pgw_out *o)
{
    if (o->b.oom)
        return -1;
    return io_pgw_write_out(o->c, true) == 0 ? 0 : -1;
}

bool
io_pgw_cancelled(const io_pgw_out *o)
{
    const pgw_conn *c = o->c;
    return atomic_load_explicit(&c->cancel, memory_order_relaxed) ||
           atomic_load_explicit(&c->dead, memory_order_relaxed) ||
           atomic_load_explicit(&c->shutting, memory_order_relaxed);
}
