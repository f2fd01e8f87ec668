/* Decoding of the streaming replication protocol's CopyData frames and of
 * pgoutput's messages (see io_pgrepl.h). All integers are big-endian. */
#include "io/io_pgrepl.h"

#include <stdlib.h>
#include <string.h>

typedef struct rd {
    const uint8_t *p;
    size_t n, off;
    bool bad;
} rd;

static uint8_t
u8(rd *r)
{
    if (r->off + 1 > r->n) {
        r->bad = true;
        return 0;
    }
    return r->p[r->off++];
}

static uint64_t
uN(rd *r, int bytes)
{
    if (r->off + (size_t)bytes > r->n) {
        r->bad = true;
        r->off = r->n;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = (v << 8) | r->p[r->off + (size_t)i];
    r->off += (size_t)bytes;
    return v;
}

/* A NUL-terminated string inside the buffer. */
static const char *
str(rd *r)
{
    if (r->off >= r->n) {
        r->bad = true;
        return "";
    }
    const uint8_t *s = r->p + r->off;
    const uint8_t *z = memchr(s, 0, r->n - r->off);
    if (z == NULL) {
        r->bad = true;
        r->off = r->n;
        return "";
    }
    r->off += (size_t)(z - s) + 1;
    return (const char *)s;
}

static int
malformed(eng_err *err, char kind, const char *what)
{
    return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "malformed pgoutput message '%c': %s",
                       kind >= 32 && kind < 127 ? kind : '?', what);
}

int
io_pgrepl_frame_decode(const uint8_t *p, size_t n, io_pgrepl_frame *out, eng_err *err)
{
    memset(out, 0, sizeof *out);
    rd r = {p, n, 0, false};
    out->kind = (char)u8(&r);
    if (out->kind == 'w') {
        out->start = uN(&r, 8);
        out->end = uN(&r, 8);
        out->send_time = (int64_t)uN(&r, 8);
        if (r.bad)
            return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED,
                               "malformed XLogData frame (%zu bytes)", n);
        out->data = p + r.off;
        out->len = n - r.off;
        return 0;
    }
    if (out->kind == 'k') {
        out->end = uN(&r, 8);
        out->send_time = (int64_t)uN(&r, 8);
        out->reply = u8(&r) != 0;
        if (r.bad)
            return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED,
                               "malformed keepalive frame (%zu bytes)", n);
        return 0;
    }
    return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "unknown replication frame kind 0x%02x",
                       (unsigned)(uint8_t)out->kind);
}

static void
put(uint8_t *b, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        b[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

size_t
io_pgrepl_status_encode(uint8_t buf[34], uint64_t written, uint64_t flushed, uint64_t applied,
                        int64_t now_us, bool reply)
{
    buf[0] = 'r';
    put(buf + 1, written, 8);
    put(buf + 9, flushed, 8);
    put(buf + 17, applied, 8);
    put(buf + 25, (uint64_t)now_us, 8);
    buf[33] = reply ? 1 : 0;
    return 34;
}

void
io_pgrepl_scratch_free(io_pgrepl_scratch *s)
{
    free(s->cols);
    free(s->vals);
    free(s->relids);
    memset(s, 0, sizeof *s);
}

/* Room for n more values in the scratch (values of old and new tuples
 * share one array). */
static io_pgrepl_value *
vals_at(io_pgrepl_scratch *s, int used, int n)
{
    if (used + n > s->vals_cap) {
        int cap = s->vals_cap ? s->vals_cap : 16;
        while (cap < used + n)
            cap *= 2;
        io_pgrepl_value *v = realloc(s->vals, (size_t)cap * sizeof *v);
        ENG_ASSERT(v != NULL);
        s->vals = v;
        s->vals_cap = cap;
    }
    return s->vals + used;
}

/* TupleData: int16 count, then per column a kind byte and, for 't' / 'b',
 * an int32 length and the bytes. Values are placed at *used in the
 * scratch; the tuple's pointer is fixed up by the caller (realloc). */
static int
tuple(rd *r, io_pgrepl_scratch *s, int *used, io_pgrepl_tuple *t, char kind, eng_err *err)
{
    int n = (int)(int16_t)uN(r, 2);
    if (r->bad || n < 0 || n > 1664)
        return malformed(err, kind, "bad column count in a tuple");
    io_pgrepl_value *v = vals_at(s, *used, n);
    for (int i = 0; i < n; i++) {
        char k = (char)u8(r);
        v[i].kind = k;
        v[i].data = NULL;
        v[i].len = 0;
        if (k == 't' || k == 'b') {
            uint64_t len = uN(r, 4);
            if (r->bad || len > r->n - r->off)
                return malformed(err, kind, "a column value runs past the message");
            v[i].data = r->p + r->off;
            v[i].len = (uint32_t)len;
            r->off += len;
        } else if (k != 'n' && k != 'u') {
            return malformed(err, kind, "unknown column value kind");
        }
    }
    if (r->bad)
        return malformed(err, kind, "truncated tuple");
    t->ncols = n;
    t->values = (io_pgrepl_value *)(uintptr_t)*used; /* an index until fixed up */
    *used += n;
    return 0;
}

int
io_pgrepl_decode(const uint8_t *p, size_t n, io_pgrepl_scratch *s, io_pgrepl_msg *m, eng_err *err)
{
    memset(m, 0, sizeof *m);
    rd r = {p, n, 0, false};
    char kind = (char)u8(&r);
    m->kind = kind;
    int used = 0;
    switch (kind) {
    case 'B':
        m->lsn = uN(&r, 8);
        m->commit_time = (int64_t)uN(&r, 8);
        m->xid = (uint32_t)uN(&r, 4);
        break;
    case 'C':
        m->flags = u8(&r);
        m->lsn = uN(&r, 8);
        m->end_lsn = uN(&r, 8);
        m->commit_time = (int64_t)uN(&r, 8);
        break;
    case 'O':
        m->lsn = uN(&r, 8);
        m->origin = str(&r);
        break;
    case 'Y':
        m->type_oid = (uint32_t)uN(&r, 4);
        m->nspname = str(&r);
        m->relname = str(&r);
        break;
    case 'R': {
        m->relid = (uint32_t)uN(&r, 4);
        m->nspname = str(&r);
        m->relname = str(&r);
        m->replident = (char)u8(&r);
        int nc = (int)(int16_t)uN(&r, 2);
        if (r.bad || nc < 0 || nc > 1664)
            return malformed(err, kind, "bad column count");
        if (nc > s->cols_cap) {
            io_pgrepl_column *c = realloc(s->cols, (size_t)nc * sizeof *c);
            ENG_ASSERT(c != NULL);
            s->cols = c;
            s->cols_cap = nc;
        }
        for (int i = 0; i < nc && !r.bad; i++) {
            s->cols[i].flags = u8(&r);
            s->cols[i].name = str(&r);
            s->cols[i].type_oid = (uint32_t)uN(&r, 4);
            s->cols[i].typmod = (int32_t)uN(&r, 4);
        }
        m->ncols = nc;
        m->cols = s->cols;
        break;
    }
    case 'I': {
        m->relid = (uint32_t)uN(&r, 4);
        if (u8(&r) != 'N')
            return malformed(err, kind, "expected a new tuple ('N')");
        if (tuple(&r, s, &used, &m->newtup, kind, err) != 0)
            return -1;
        break;
    }
    case 'U':
    case 'D': {
        m->relid = (uint32_t)uN(&r, 4);
        char t = (char)u8(&r);
        if (t == 'K' || t == 'O') {
            m->old_kind = t;
            if (tuple(&r, s, &used, &m->oldtup, kind, err) != 0)
                return -1;
            if (kind == 'U')
                t = (char)u8(&r);
        } else if (kind == 'D') {
            return malformed(err, kind, "expected a key or old tuple ('K' or 'O')");
        }
        if (kind == 'U') {
            if (t != 'N')
                return malformed(err, kind, "expected a new tuple ('N')");
            if (tuple(&r, s, &used, &m->newtup, kind, err) != 0)
                return -1;
        }
        break;
    }
    case 'T': {
        int nr = (int)(int32_t)uN(&r, 4);
        m->truncate_options = u8(&r);
        if (r.bad || nr < 0 || (size_t)nr * 4 > n - r.off)
            return malformed(err, kind, "bad relation count");
        if (nr > s->relids_cap) {
            uint32_t *v = realloc(s->relids, (size_t)nr * sizeof *v);
            ENG_ASSERT(v != NULL);
            s->relids = v;
            s->relids_cap = nr;
        }
        for (int i = 0; i < nr; i++)
            s->relids[i] = (uint32_t)uN(&r, 4);
        m->nrels = nr;
        m->relids = s->relids;
        break;
    }
    case 'M': {
        m->flags = u8(&r);
        m->lsn = uN(&r, 8);
        m->prefix = str(&r);
        uint64_t len = uN(&r, 4);
        if (r.bad || len > n - r.off)
            return malformed(err, kind, "content runs past the message");
        m->content = p + r.off;
        m->content_len = (uint32_t)len;
        r.off += len;
        break;
    }
    case 'S':
    case 'E':
    case 'c':
    case 'A':
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "pgoutput streaming message '%c' (protocol version 2) is not supported",
                           kind);
    default:
        return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "unknown pgoutput message kind 0x%02x",
                           (unsigned)(uint8_t)kind);
    }
    if (r.bad)
        return malformed(err, kind, "truncated");
    if (r.off != n)
        return malformed(err, kind, "trailing bytes");
    /* The value arrays were placed by index while the scratch could move. */
    if (m->oldtup.ncols > 0 || m->old_kind)
        m->oldtup.values = s->vals + (uintptr_t)m->oldtup.values;
    if (kind == 'I' || kind == 'U')
        m->newtup.values = s->vals + (uintptr_t)m->newtup.values;
    return 0;
}
