/* The pgwire handler (io/io_pgw.h) over coordinator sessions: one
 * eng_session per connection, results delivered through an eng_sink that
 * writes pgwire messages, parameters of the extended protocol decoded from
 * text or binary. */
#include "engine/server/pgw_glue.h"

#include <arpa/inet.h>
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/eng_text.h"
#include "io/io_pgw.h"

typedef struct gstmt {
    eng_prepared *p;
    io_pgw_desc desc;
    io_pgw_col *cols;
    uint32_t *param_oids;
} gstmt;

typedef struct gportal {
    gstmt *st;
    int n;
    eng_row *values;
    eng_rowbuf buf;
} gportal;

/* ------------------------------------------------------------------ sink */

static int
s_rowdesc(void *ctx, int ncols, char *const *names, const eng_type *types)
{
    io_pgw_col cols[ncols > 0 ? ncols : 1];
    for (int i = 0; i < ncols; i++)
        cols[i] = (io_pgw_col){names[i], types[i], 0, 0};
    io_pgw_desc d = {0, NULL, ncols, cols};
    return io_pgw_send_rowdesc(ctx, &d);
}

static int
s_row(void *ctx, eng_row row)
{
    return io_pgw_send_row(ctx, row);
}

static int
s_complete(void *ctx, const char *tag)
{
    return io_pgw_send_complete(ctx, tag);
}

static int
s_notice(void *ctx, const eng_err *n)
{
    return io_pgw_send_notice(ctx, n);
}

static int
s_copy_begin(void *ctx, int ncols, const eng_type *types)
{
    io_pgw_col cols[ncols > 0 ? ncols : 1];
    for (int i = 0; i < ncols; i++)
        cols[i] = (io_pgw_col){"", types[i], 0, 0};
    io_pgw_desc d = {0, NULL, ncols, cols};
    return io_pgw_send_copy_begin(ctx, &d);
}

static int
s_copy_row(void *ctx, eng_row row)
{
    return io_pgw_send_copy_row(ctx, row);
}

static int
s_copy_done(void *ctx)
{
    return io_pgw_send_copy_done(ctx);
}

static bool
s_cancelled(void *ctx)
{
    return io_pgw_cancelled(ctx);
}

static eng_sink
sink_for(io_pgw_out *o)
{
    eng_sink s = {o,          s_rowdesc,   s_row,      s_complete, s_notice, s_copy_begin,
                  s_copy_row, s_copy_done, s_cancelled};
    return s;
}

/* ------------------------------------------------------------------ handler */

static void *
h_open(void *ctx, const io_pgw_startup *st, eng_err *err)
{
    (void)st;
    (void)err;
    return eng_session_new(ctx);
}

static void
h_close(void *sess)
{
    eng_session_free(sess);
}

static int
h_simple(void *sess, const char *sql, io_pgw_out *o, eng_err *err)
{
    eng_sink sink = sink_for(o);
    return eng_session_run(sess, sql, &sink, err);
}

static void *
h_prepare(void *sess, const char *sql, int nparams, const uint32_t *oids, eng_err *err)
{
    eng_type *types = calloc((size_t)nparams + 1, sizeof *types);
    ENG_ASSERT(types != NULL);
    for (int i = 0; i < nparams; i++)
        types[i] = oids[i] == 0 ? eng_type_make(ENG_TYPE_UNKNOWN, ENG_TYPMOD_NONE)
                                : eng_type_from_oid(oids[i], -1);
    eng_prepared *p = eng_session_prepare(sess, sql, nparams, types, err);
    free(types);
    if (p == NULL)
        return NULL;
    gstmt *g = calloc(1, sizeof *g);
    ENG_ASSERT(g != NULL);
    g->p = p;
    const eng_type *pt;
    int np = eng_prepared_params(p, &pt);
    g->param_oids = calloc((size_t)np + 1, sizeof *g->param_oids);
    ENG_ASSERT(g->param_oids != NULL);
    for (int i = 0; i < np; i++)
        g->param_oids[i] = eng_type_oid(&pt[i]);
    char *const *names;
    const eng_type *ct;
    int nc = eng_prepared_columns(p, &names, &ct);
    g->cols = calloc((size_t)(nc > 0 ? nc : 1), sizeof *g->cols);
    ENG_ASSERT(g->cols != NULL);
    for (int i = 0; i < nc; i++)
        g->cols[i] = (io_pgw_col){names[i], ct[i], 0, 0};
    g->desc = (io_pgw_desc){np, g->param_oids, nc, g->cols};
    return g;
}

static const io_pgw_desc *
h_describe(void *sess, void *stmt)
{
    (void)sess;
    return &((gstmt *)stmt)->desc;
}

static void
h_unprepare(void *sess, void *stmt)
{
    (void)sess;
    gstmt *g = stmt;
    if (g == NULL)
        return;
    eng_prepared_free(g->p);
    free(g->cols);
    free(g->param_oids);
    free(g);
}

/* Decodes one binary parameter of type t into out. */
static int
decode_binary(const eng_type *t, const uint8_t *p, int32_t len, eng_rowbuf *out, eng_err *err)
{
    switch (t->id) {
    case ENG_TYPE_BOOL:
        if (len != 1)
            break;
        eng_push_bool(out, p[0] != 0);
        return 0;
    case ENG_TYPE_INT2: {
        if (len != 2)
            break;
        uint16_t v;
        memcpy(&v, p, 2);
        eng_push_int2(out, (int16_t)ntohs(v));
        return 0;
    }
    case ENG_TYPE_INT4: {
        if (len != 4)
            break;
        uint32_t v;
        memcpy(&v, p, 4);
        eng_push_int4(out, (int32_t)ntohl(v));
        return 0;
    }
    case ENG_TYPE_INT8: {
        if (len != 8)
            break;
        uint64_t v;
        memcpy(&v, p, 8);
        eng_push_int8(out, (int64_t)be64toh(v));
        return 0;
    }
    case ENG_TYPE_FLOAT4: {
        if (len != 4)
            break;
        uint32_t v;
        memcpy(&v, p, 4);
        v = ntohl(v);
        float f;
        memcpy(&f, &v, 4);
        eng_push_float4(out, f);
        return 0;
    }
    case ENG_TYPE_FLOAT8: {
        if (len != 8)
            break;
        uint64_t v;
        memcpy(&v, p, 8);
        v = be64toh(v);
        double d;
        memcpy(&d, &v, 8);
        eng_push_float8(out, d);
        return 0;
    }
    case ENG_TYPE_TEXT:
    case ENG_TYPE_VARCHAR:
    case ENG_TYPE_BPCHAR:
    case ENG_TYPE_JSON:
    case ENG_TYPE_UNKNOWN:
        return eng_text_parse(t, (const char *)p, (size_t)len, out, err);
    case ENG_TYPE_BYTEA:
        eng_push_var(out, ENG_TAG_BYTES, p, (uint32_t)len);
        return 0;
    default:
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "binary format for parameters of type %s is not supported; send text",
                           eng_type_name(t->id));
    }
    return eng_err_set(err, ENG_ERRCODE_INVALID_BINARY_REPRESENTATION,
                       "incorrect binary data format in bind parameter");
}

static void *
h_bind(void *sess, void *stmt, int nparams, const io_pgw_param *params, eng_err *err)
{
    (void)sess;
    gstmt *g = stmt;
    const eng_type *pt;
    int np = eng_prepared_params(g->p, &pt);
    if (nparams != np) {
        eng_err_set(err, ENG_ERRCODE_PROTOCOL_VIOLATION,
                    "bind message supplies %d parameters, but prepared statement requires %d",
                    nparams, np);
        return NULL;
    }
    gportal *po = calloc(1, sizeof *po);
    ENG_ASSERT(po != NULL);
    po->st = g;
    po->n = np;
    po->values = calloc((size_t)np + 1, sizeof *po->values);
    uint32_t *offs = calloc((size_t)np + 1, sizeof *offs);
    ENG_ASSERT(po->values && offs);
    for (int i = 0; i < np; i++) {
        offs[i] = po->buf.len;
        const io_pgw_param *pa = &params[i];
        int rc = 0;
        if (pa->len < 0)
            eng_push_null(&po->buf);
        else if (pa->format == 0)
            rc = eng_text_parse(&pt[i], (const char *)pa->data, (size_t)pa->len, &po->buf, err);
        else
            rc = decode_binary(&pt[i], pa->data, pa->len, &po->buf, err);
        if (rc != 0) {
            free(offs);
            eng_rowbuf_free(&po->buf);
            free(po->values);
            free(po);
            return NULL;
        }
    }
    offs[np] = po->buf.len;
    for (int i = 0; i < np; i++)
        po->values[i] = (eng_row){po->buf.data + offs[i], offs[i + 1] - offs[i]};
    free(offs);
    return po;
}

static const io_pgw_desc *
h_describe_portal(void *sess, void *portal)
{
    (void)sess;
    return &((gportal *)portal)->st->desc;
}

static int
h_execute(void *sess, void *portal, io_pgw_out *o, eng_err *err)
{
    gportal *po = portal;
    eng_sink sink = sink_for(o);
    return eng_prepared_execute(sess, po->st->p, po->values, &sink, err);
}

static void
h_unbind(void *sess, void *portal)
{
    (void)sess;
    gportal *po = portal;
    if (po == NULL)
        return;
    eng_rowbuf_free(&po->buf);
    free(po->values);
    free(po);
}

static char
h_txn_status(void *sess)
{
    return eng_session_txn_status(sess);
}

const io_pgw_handler eng_pgw_handler = {
    h_open, h_close,           h_simple,  h_prepare, h_describe,   h_unprepare,
    h_bind, h_describe_portal, h_execute, h_unbind,  h_txn_status,
};
