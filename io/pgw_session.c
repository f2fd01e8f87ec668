/* pgwire v3, session side: one thread per connection runs authentication,
 * the simple and extended query protocols, and the handler calls.
 *
 * Notes: the thread reads its own socket (pgw_sock.c), frames messages
 * (checking each length against its type's limit before waiting for the
 * body), answers them into its io_pgw_out and writes output at
 * ReadyForQuery, Flush, full chunks and before it blocks for input.
 * Prepared statements and portals are kept here by name; a statement is
 * reference-counted by its name and its portals, so replacing or closing a
 * statement never pulls one out from under a live portal (the handler's
 * unprepare comes after the last unbind). Execute's row limit is
 * implemented here: rows past the limit are kept, already encoded as
 * DataRow messages, in the portal's buffer and handed out by later
 * Executes. Everything in this file runs on the session thread. */
#include "io/pgw_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "engine/core/eng_log.h"

typedef struct stmt_ent {
    char *name;
    void *stmt; /* the handler's; NULL for an empty query string */
    int refs;   /* the name (while named) + one per portal */
    bool named;
    int nparams; /* for the empty statement's Describe */
    uint32_t *param_oids;
    struct stmt_ent *next;
} stmt_ent;

enum { P_NEW, P_SUSPENDED, P_DONE };

typedef struct portal_ent {
    char *name;
    void *portal; /* the handler's; NULL for an empty query string */
    stmt_ent *st;
    int nformats;
    int16_t *formats;
    int state;
    pgw_buf held;  /* DataRow messages past the row limit */
    int64_t nheld; /* rows in held not yet sent */
    char tag[PGW_TAG_MAX];
    bool have_tag;
    eng_err *err; /* an error that comes after the held rows */
    struct portal_ent *next;
} portal_ent;

typedef struct session {
    pgw_conn *c;
    const pgw_shared *sh;
    const io_pgw_handler *h;
    io_pgw_out *o;
    void *sess;
    pgw_buf in; /* bytes read from the socket; off: the next message */
    bool skip;  /* extended protocol: discard until Sync */
    bool ended;
    bool said_fatal; /* a FATAL is queued: no 57P01 after it */
    stmt_ent *stmts;
    portal_ent *portals;
} session;

typedef struct msg {
    char type;
    const char *body;
    size_t len;
} msg;

/* ------------------------------------------------------------------ reading */

/* A cursor over a message body; any overrun sets bad. */
typedef struct rd {
    const char *p, *end;
    const char *bad; /* the error message, NULL while fine */
} rd;

static const char *
rd_str(rd *r)
{
    if (r->bad)
        return "";
    const char *z = memchr(r->p, 0, (size_t)(r->end - r->p));
    if (z == NULL) {
        r->bad = "invalid string in message";
        return "";
    }
    const char *s = r->p;
    r->p = z + 1;
    return s;
}

static const char *
rd_bytes(rd *r, size_t n)
{
    if (r->bad)
        return NULL;
    if ((size_t)(r->end - r->p) < n) {
        r->bad = "insufficient data left in message";
        return NULL;
    }
    const char *s = r->p;
    r->p += n;
    return s;
}

static int32_t
rd_i32(rd *r)
{
    const char *p = rd_bytes(r, 4);
    return p ? (int32_t)get_u32(p) : 0;
}

static int16_t
rd_i16(rd *r)
{
    const char *p = rd_bytes(r, 2);
    return p ? (int16_t)get_u16(p) : 0;
}

static void
rd_end(rd *r)
{
    if (!r->bad && r->p != r->end)
        r->bad = "invalid message format";
}

/* ------------------------------------------------------------------ output helpers */

static void
send_fatal(session *s, const eng_err *e)
{
    io_pgw_put_error(&s->o->b, 'E', e, true);
    s->ended = true;
    s->said_fatal = true;
}

static void
fatal(session *s, const char *sqlstate, const char *text)
{
    eng_err e;
    eng_err_clear(&e);
    eng_err_set(&e, sqlstate, "%s", text);
    send_fatal(s, &e);
}

/* An ERROR; in the extended protocol it starts skipping until Sync. */
static void
error(session *s, const eng_err *e, bool extended)
{
    io_pgw_put_error(&s->o->b, 'E', e, false);
    if (extended)
        s->skip = true;
}

static void
errorf(session *s, bool extended, const char *sqlstate, const char *fmt, const char *arg)
{
    eng_err e;
    eng_err_clear(&e);
    eng_err_set(&e, sqlstate, fmt, arg);
    error(s, &e, extended);
}

static void
put_empty_msg(session *s, char type)
{
    size_t at = msg_begin(&s->o->b, type);
    msg_end(&s->o->b, at);
}

static void
put_auth(session *s, int32_t code, const char *data, size_t n)
{
    size_t at = msg_begin(&s->o->b, 'R');
    put_i32(&s->o->b, code);
    io_pgw_buf_put(&s->o->b, data, n);
    msg_end(&s->o->b, at);
}

static char
txn_status(session *s)
{
    return s->h->txn_status && s->sess ? s->h->txn_status(s->sess) : 'I';
}

/* ------------------------------------------------------------------ input */

/* The next message. Returns false at the end of the input: client gone,
 * server closing, or a protocol violation (reported here as FATAL, after
 * the messages before it). Writes pending output before it blocks for
 * input. */
static bool
next_msg(session *s, msg *m)
{
    pgw_conn *c = s->c;
    pgw_buf *in = &s->in;
    for (;;) {
        if (atomic_load(&c->dead) || atomic_load(&c->shutting))
            return false;
        size_t avail = in->len - in->off, need = 5 - (avail < 5 ? avail : 5);
        if (avail >= 5) {
            const char *p = in->data + in->off;
            uint32_t len = get_u32(p + 1);
            if (len < 4 || len > io_pgw_max_len(p[0])) {
                fatal(s, ENG_ERRCODE_PROTOCOL_VIOLATION, "invalid message length");
                return false;
            }
            if (avail >= (size_t)len + 1) {
                m->type = p[0];
                m->body = p + 5;
                m->len = len - 4;
                in->off += (size_t)len + 1;
                return true;
            }
            need = (size_t)len + 1 - avail;
        }
        if (avail == 0)
            in->off = in->len = 0;
        if (s->o->b.len > 0 && io_pgw_write_out(c, false) == -1)
            return false;
        ssize_t n = io_pgw_read_more(c, in, need);
        if (n < 0) {
            s->o->b.oom = true; /* the session ends and the connection closes */
            return false;
        }
        if (n == 0)
            return false;
    }
}

/* ------------------------------------------------------------------ statements in progress */

static void
stmt_begin(session *s)
{
    pthread_mutex_lock(&s->c->mu);
    s->c->busy = true;
    atomic_store(&s->c->cancel, false);
    pthread_mutex_unlock(&s->c->mu);
}

static void
stmt_end(session *s)
{
    pthread_mutex_lock(&s->c->mu);
    s->c->busy = false;
    atomic_store(&s->c->cancel, false);
    pthread_mutex_unlock(&s->c->mu);
}

/* Fills in err for a handler that failed without one (it stopped because
 * a send failed). Returns false if nothing should be reported (the client
 * is gone or the server is closing). */
static bool
failure(session *s, eng_err *err)
{
    pgw_conn *c = s->c;
    if (atomic_load(&c->dead) || atomic_load(&c->shutting) || s->o->b.oom) {
        s->ended = true;
        return false;
    }
    if (!eng_err_isset(err)) {
        if (atomic_load(&c->cancel))
            eng_err_set(err, ENG_ERRCODE_QUERY_CANCELED, "canceling statement due to user request");
        else
            eng_err_set(err, ENG_ERRCODE_INTERNAL_ERROR, "statement failed without an error");
    }
    return true;
}

/* ------------------------------------------------------------------ statements and portals */

static stmt_ent *
find_stmt(session *s, const char *name)
{
    for (stmt_ent *e = s->stmts; e != NULL; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

static portal_ent *
find_portal(session *s, const char *name)
{
    for (portal_ent *p = s->portals; p != NULL; p = p->next)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

static void
stmt_unref(session *s, stmt_ent *e)
{
    if (--e->refs > 0)
        return;
    if (e->stmt != NULL && s->h->unprepare)
        s->h->unprepare(s->sess, e->stmt);
    free(e->name);
    free(e->param_oids);
    free(e);
}

/* Removes the name (the statement lives on while portals use it). */
static void
stmt_drop(session *s, stmt_ent *e)
{
    for (stmt_ent **pp = &s->stmts; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    }
    e->named = false;
    stmt_unref(s, e);
}

static void
portal_drop(session *s, portal_ent *p)
{
    for (portal_ent **pp = &s->portals; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    if (p->portal != NULL && s->h->unbind)
        s->h->unbind(s->sess, p->portal);
    io_pgw_buf_free(&p->held);
    free(p->err);
    free(p->formats);
    free(p->name);
    stmt_unref(s, p->st);
    free(p);
}

static void
drop_unnamed_portal(session *s)
{
    portal_ent *p = find_portal(s, "");
    if (p != NULL)
        portal_drop(s, p);
}

/* At the end of a transaction (ReadyForQuery with status 'I') every portal
 * goes, as PostgreSQL's non-holdable portals do. */
static void
end_of_transaction(session *s, char status)
{
    if (status == 'I') {
        while (s->portals != NULL)
            portal_drop(s, s->portals);
    } else {
        drop_unnamed_portal(s);
    }
}

static void
ready_for_query(session *s)
{
    char status = txn_status(s);
    end_of_transaction(s, status);
    size_t at = msg_begin(&s->o->b, 'Z');
    put_u8(&s->o->b, (uint8_t)status);
    msg_end(&s->o->b, at);
    if (io_pgw_write_out(s->c, false) == -1)
        s->ended = true;
}

static bool
is_empty_query(const char *q)
{
    while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r' || *q == '\f' || *q == ';')
        q++;
    return *q == '\0';
}

/* ------------------------------------------------------------------ simple query */

static void
do_query(session *s, const msg *m)
{
    if (m->len == 0 || memchr(m->body, 0, m->len) != m->body + m->len - 1) {
        errorf(s, false, ENG_ERRCODE_PROTOCOL_VIOLATION, "invalid string in message%s", "");
        ready_for_query(s);
        return;
    }
    /* A simple query replaces the unnamed statement and portal. */
    drop_unnamed_portal(s);
    stmt_ent *un = find_stmt(s, "");
    if (un != NULL)
        stmt_drop(s, un);
    if (is_empty_query(m->body)) {
        put_empty_msg(s, 'I');
    } else if (s->h->simple == NULL) {
        errorf(s, false, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "queries are not supported%s", "");
    } else {
        eng_err err;
        eng_err_clear(&err);
        io_pgw_out *o = s->o;
        o->extended = false;
        o->limit = 0;
        o->held = NULL;
        stmt_begin(s);
        int rc = s->h->simple(s->sess, m->body, o, &err);
        stmt_end(s);
        if (rc != 0) {
            if (!failure(s, &err))
                return;
            error(s, &err, false);
        } else if (o->b.oom || atomic_load(&s->c->dead)) {
            s->ended = true;
            return;
        }
    }
    ready_for_query(s);
}

/* ------------------------------------------------------------------ extended query */

static void
do_parse(session *s, const msg *m)
{
    rd r = {m->body, m->body + m->len, NULL};
    const char *name = rd_str(&r);
    const char *query = rd_str(&r);
    int n = rd_i16(&r);
    if (n < 0)
        r.bad = "invalid message format";
    uint32_t stackoids[64], *oids = stackoids;
    if (!r.bad && n > 64) {
        oids = malloc((size_t)n * sizeof *oids);
        if (oids == NULL) {
            s->o->b.oom = true;
            return;
        }
    }
    for (int i = 0; i < n && !r.bad; i++)
        oids[i] = (uint32_t)rd_i32(&r);
    rd_end(&r);
    if (r.bad) {
        errorf(s, true, ENG_ERRCODE_PROTOCOL_VIOLATION, "%s", r.bad);
        goto done;
    }
    if (name[0] != '\0' && find_stmt(s, name) != NULL) {
        errorf(s, true, ENG_ERRCODE_DUPLICATE_PSTATEMENT,
               "prepared statement \"%s\" already exists", name);
        goto done;
    }
    if (name[0] == '\0') {
        stmt_ent *un = find_stmt(s, "");
        if (un != NULL)
            stmt_drop(s, un);
    }
    void *st = NULL;
    if (!is_empty_query(query)) {
        if (s->h->prepare == NULL) {
            errorf(s, true, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                   "the extended query protocol is not supported%s", "");
            goto done;
        }
        eng_err err;
        eng_err_clear(&err);
        stmt_begin(s);
        st = s->h->prepare(s->sess, query, n, oids, &err);
        stmt_end(s);
        if (st == NULL) {
            if (failure(s, &err))
                error(s, &err, true);
            goto done;
        }
    }
    stmt_ent *e = calloc(1, sizeof *e);
    char *nm = strdup(name);
    uint32_t *keep = n > 0 ? malloc((size_t)n * sizeof *keep) : NULL;
    if (e == NULL || nm == NULL || (n > 0 && keep == NULL)) {
        free(e);
        free(nm);
        free(keep);
        if (st != NULL && s->h->unprepare)
            s->h->unprepare(s->sess, st);
        s->o->b.oom = true;
        goto done;
    }
    if (n > 0)
        memcpy(keep, oids, (size_t)n * sizeof *keep);
    e->name = nm;
    e->stmt = st;
    e->refs = 1;
    e->named = true;
    e->nparams = n;
    e->param_oids = keep;
    e->next = s->stmts;
    s->stmts = e;
    put_empty_msg(s, '1'); /* ParseComplete */
done:
    if (oids != stackoids)
        free(oids);
}

static const io_pgw_desc *
portal_desc(session *s, const portal_ent *p)
{
    if (p->portal == NULL || s->h->describe_portal == NULL)
        return NULL;
    return s->h->describe_portal(s->sess, p->portal);
}

static void
do_bind(session *s, const msg *m)
{
    rd r = {m->body, m->body + m->len, NULL};
    const char *pname = rd_str(&r);
    const char *sname = rd_str(&r);
    int nfmt = rd_i16(&r);
    const char *fmts = rd_bytes(&r, nfmt > 0 ? 2 * (size_t)nfmt : 0);
    int nparams = rd_i16(&r);
    if (nfmt < 0 || nparams < 0)
        r.bad = "invalid message format";
    io_pgw_param *params = NULL;
    int16_t *rfmts = NULL;
    if (!r.bad && nparams > 0) {
        params = calloc((size_t)nparams, sizeof *params);
        if (params == NULL) {
            s->o->b.oom = true;
            return;
        }
    }
    for (int i = 0; i < nparams && !r.bad; i++) {
        int32_t len = rd_i32(&r);
        if (len < -1) {
            r.bad = "invalid message format";
            break;
        }
        params[i].len = len;
        params[i].data = len > 0 ? (const uint8_t *)rd_bytes(&r, (size_t)len) : NULL;
        if (len == 0)
            params[i].data = (const uint8_t *)"";
    }
    int nres = rd_i16(&r);
    if (nres < 0)
        r.bad = "invalid message format";
    const char *rf = rd_bytes(&r, nres > 0 ? 2 * (size_t)nres : 0);
    rd_end(&r);
    if (pname[0] == '\0')
        drop_unnamed_portal(s);
    if (r.bad) {
        errorf(s, true, ENG_ERRCODE_PROTOCOL_VIOLATION, "%s", r.bad);
        goto done;
    }
    if (nfmt > 1 && nfmt != nparams) {
        eng_err e;
        eng_err_clear(&e);
        eng_err_set(&e, ENG_ERRCODE_PROTOCOL_VIOLATION,
                    "bind message has %d parameter formats but %d parameters", nfmt, nparams);
        error(s, &e, true);
        goto done;
    }
    for (int i = 0; i < nparams; i++) {
        int16_t f = nfmt == 0 ? 0 : (int16_t)get_u16(fmts + 2 * (nfmt == 1 ? 0 : i));
        if (f != 0 && f != 1) {
            char v[16];
            snprintf(v, sizeof v, "%d", f);
            errorf(s, true, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "unsupported format code: %s", v);
            goto done;
        }
        params[i].format = f;
    }
    if (nres > 0) {
        rfmts = malloc((size_t)nres * sizeof *rfmts);
        if (rfmts == NULL) {
            s->o->b.oom = true;
            goto done;
        }
        for (int i = 0; i < nres; i++) {
            rfmts[i] = (int16_t)get_u16(rf + 2 * i);
            if (rfmts[i] != 0 && rfmts[i] != 1) {
                char v[16];
                snprintf(v, sizeof v, "%d", rfmts[i]);
                errorf(s, true, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "unsupported format code: %s",
                       v);
                goto done;
            }
        }
    }
    stmt_ent *st = find_stmt(s, sname);
    if (st == NULL) {
        if (sname[0] == '\0')
            errorf(s, true, ENG_ERRCODE_INVALID_SQL_STATEMENT_NAME,
                   "unnamed prepared statement does not exist%s", "");
        else
            errorf(s, true, ENG_ERRCODE_INVALID_SQL_STATEMENT_NAME,
                   "prepared statement \"%s\" does not exist", sname);
        goto done;
    }
    if (pname[0] != '\0' && find_portal(s, pname) != NULL) {
        errorf(s, true, ENG_ERRCODE_DUPLICATE_CURSOR, "portal \"%s\" already exists", pname);
        goto done;
    }
    void *portal = NULL;
    if (st->stmt == NULL) { /* the empty query */
        if (nparams != 0) {
            eng_err e;
            eng_err_clear(&e);
            eng_err_set(&e, ENG_ERRCODE_PROTOCOL_VIOLATION,
                        "bind message supplies %d parameters, but prepared statement \"%s\" "
                        "requires 0",
                        nparams, sname);
            error(s, &e, true);
            goto done;
        }
    } else {
        if (s->h->bind == NULL) {
            errorf(s, true, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "bind is not supported%s", "");
            goto done;
        }
        eng_err err;
        eng_err_clear(&err);
        stmt_begin(s);
        portal = s->h->bind(s->sess, st->stmt, nparams, params, &err);
        stmt_end(s);
        if (portal == NULL) {
            if (failure(s, &err))
                error(s, &err, true);
            goto done;
        }
    }
    portal_ent *p = calloc(1, sizeof *p);
    char *nm = strdup(pname);
    if (p == NULL || nm == NULL) {
        free(p);
        free(nm);
        if (portal != NULL && s->h->unbind)
            s->h->unbind(s->sess, portal);
        s->o->b.oom = true;
        goto done;
    }
    p->name = nm;
    p->portal = portal;
    p->st = st;
    st->refs++;
    p->nformats = nres;
    p->formats = rfmts;
    rfmts = NULL;
    p->state = P_NEW;
    p->next = s->portals;
    s->portals = p;
    const io_pgw_desc *d = portal_desc(s, p);
    int ncols = d != NULL && d->ncols > 0 ? d->ncols : 0;
    if (p->nformats > 1 && p->nformats != ncols) {
        eng_err e;
        eng_err_clear(&e);
        eng_err_set(&e, ENG_ERRCODE_PROTOCOL_VIOLATION,
                    "bind message has %d result formats but query has %d columns", p->nformats,
                    ncols);
        portal_drop(s, p);
        error(s, &e, true);
        goto done;
    }
    put_empty_msg(s, '2'); /* BindComplete */
done:
    free(params);
    free(rfmts);
}

static void
put_paramdesc(session *s, int n, const uint32_t *oids)
{
    size_t at = msg_begin(&s->o->b, 't');
    put_i16(&s->o->b, (int16_t)n);
    for (int i = 0; i < n; i++)
        put_i32(&s->o->b, (int32_t)oids[i]);
    msg_end(&s->o->b, at);
}

static void
do_describe(session *s, const msg *m)
{
    rd r = {m->body, m->body + m->len, NULL};
    const char *kind = rd_bytes(&r, 1);
    const char *name = rd_str(&r);
    rd_end(&r);
    if (r.bad) {
        errorf(s, true, ENG_ERRCODE_PROTOCOL_VIOLATION, "%s", r.bad);
        return;
    }
    const io_pgw_desc *d = NULL;
    if (*kind == 'S') {
        stmt_ent *st = find_stmt(s, name);
        if (st == NULL) {
            errorf(s, true, ENG_ERRCODE_INVALID_SQL_STATEMENT_NAME,
                   "prepared statement \"%s\" does not exist", name);
            return;
        }
        if (st->stmt != NULL && s->h->describe != NULL)
            d = s->h->describe(s->sess, st->stmt);
        if (d != NULL)
            put_paramdesc(s, d->nparams, d->param_oids);
        else
            put_paramdesc(s, st->nparams, st->param_oids);
        if (d != NULL && d->ncols >= 0)
            io_pgw_put_rowdesc(&s->o->b, d, 0, NULL);
        else
            put_empty_msg(s, 'n'); /* NoData */
    } else if (*kind == 'P') {
        portal_ent *p = find_portal(s, name);
        if (p == NULL) {
            errorf(s, true, ENG_ERRCODE_INVALID_CURSOR_NAME, "portal \"%s\" does not exist", name);
            return;
        }
        d = portal_desc(s, p);
        if (d != NULL && d->ncols >= 0)
            io_pgw_put_rowdesc(&s->o->b, d, p->nformats, p->formats);
        else
            put_empty_msg(s, 'n');
    } else {
        char v[16];
        snprintf(v, sizeof v, "%d", (unsigned char)*kind);
        errorf(s, true, ENG_ERRCODE_PROTOCOL_VIOLATION, "invalid DESCRIBE message subtype %s", v);
    }
}

static void
put_complete(session *s, const char *tag)
{
    size_t at = msg_begin(&s->o->b, 'C');
    put_str(&s->o->b, tag);
    msg_end(&s->o->b, at);
}

/* The CommandComplete tag for the last chunk of a portal's rows: a
 * SELECT reports the rows of this Execute, as PostgreSQL does. */
static void
put_chunk_complete(session *s, const portal_ent *p, int64_t nrows)
{
    if (strncmp(p->tag, "SELECT", 6) == 0 && (p->tag[6] == ' ' || p->tag[6] == '\0')) {
        char t[PGW_TAG_MAX];
        snprintf(t, sizeof t, "SELECT %lld", (long long)nrows);
        put_complete(s, t);
    } else if (p->have_tag) {
        put_complete(s, p->tag);
    }
}

/* Hands out up to limit held rows of a suspended portal. */
static void
resume_portal(session *s, portal_ent *p, int64_t limit)
{
    io_pgw_out *o = s->o;
    int64_t sent = 0;
    size_t start = p->held.off;
    while (p->nheld > 0 && (limit <= 0 || sent < limit)) {
        uint32_t len = get_u32(p->held.data + p->held.off + 1);
        p->held.off += (size_t)len + 1;
        p->nheld--;
        sent++;
        if (p->held.off - start >= PGW_OUT_CHUNK) {
            io_pgw_buf_put(&o->b, p->held.data + start, p->held.off - start);
            start = p->held.off;
            if (o->b.oom || io_pgw_write_out(s->c, false) != 0) {
                s->ended = true;
                return;
            }
        }
    }
    io_pgw_buf_put(&o->b, p->held.data + start, p->held.off - start);
    if (p->nheld > 0) {
        put_empty_msg(s, 's'); /* PortalSuspended */
        return;
    }
    p->state = P_DONE;
    io_pgw_buf_free(&p->held);
    if (p->err != NULL) {
        error(s, p->err, true);
        free(p->err);
        p->err = NULL;
    } else {
        put_chunk_complete(s, p, sent);
    }
}

static void
do_execute(session *s, const msg *m)
{
    rd r = {m->body, m->body + m->len, NULL};
    const char *name = rd_str(&r);
    int32_t maxrows = rd_i32(&r);
    rd_end(&r);
    if (r.bad) {
        errorf(s, true, ENG_ERRCODE_PROTOCOL_VIOLATION, "%s", r.bad);
        return;
    }
    portal_ent *p = find_portal(s, name);
    if (p == NULL) {
        errorf(s, true, ENG_ERRCODE_INVALID_CURSOR_NAME, "portal \"%s\" does not exist", name);
        return;
    }
    if (p->portal == NULL) {
        put_empty_msg(s, 'I'); /* EmptyQueryResponse */
        return;
    }
    if (p->state == P_SUSPENDED) {
        resume_portal(s, p, maxrows);
        return;
    }
    if (p->state == P_DONE) {
        put_chunk_complete(s, p, 0);
        return;
    }
    if (s->h->execute == NULL) {
        errorf(s, true, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "execute is not supported%s", "");
        return;
    }
    io_pgw_out *o = s->o;
    if (io_pgw_out_set_cols(o, portal_desc(s, p), p->nformats, p->formats) != 0) {
        o->b.oom = true;
        return;
    }
    o->extended = true;
    o->limit = maxrows > 0 ? maxrows : 0;
    o->nrows = o->nheld = 0;
    o->held = &p->held;
    o->have_tag = false;
    eng_err err;
    eng_err_clear(&err);
    stmt_begin(s);
    int rc = s->h->execute(s->sess, p->portal, o, &err);
    stmt_end(s);
    o->extended = false;
    o->held = NULL;
    o->limit = 0;
    p->have_tag = o->have_tag;
    if (o->have_tag)
        memcpy(p->tag, o->tag, sizeof p->tag);
    if (o->b.oom || atomic_load(&s->c->dead)) {
        s->ended = true;
        return;
    }
    if (rc != 0 && !failure(s, &err))
        return;
    if (o->nheld > 0) {
        p->state = P_SUSPENDED;
        p->nheld = o->nheld;
        if (rc != 0) {
            p->err = malloc(sizeof *p->err);
            if (p->err == NULL) {
                o->b.oom = true;
                return;
            }
            *p->err = err;
        }
        put_empty_msg(s, 's');
        return;
    }
    p->state = P_DONE;
    if (rc != 0)
        error(s, &err, true);
    else if (o->have_tag)
        put_complete(s, o->tag);
}

static void
do_close(session *s, const msg *m)
{
    rd r = {m->body, m->body + m->len, NULL};
    const char *kind = rd_bytes(&r, 1);
    const char *name = rd_str(&r);
    rd_end(&r);
    if (r.bad) {
        errorf(s, true, ENG_ERRCODE_PROTOCOL_VIOLATION, "%s", r.bad);
        return;
    }
    if (*kind == 'S') {
        stmt_ent *st = find_stmt(s, name);
        if (st != NULL)
            stmt_drop(s, st);
    } else if (*kind == 'P') {
        portal_ent *p = find_portal(s, name);
        if (p != NULL)
            portal_drop(s, p);
    } else {
        char v[16];
        snprintf(v, sizeof v, "%d", (unsigned char)*kind);
        errorf(s, true, ENG_ERRCODE_PROTOCOL_VIOLATION, "invalid CLOSE message subtype %s", v);
        return;
    }
    put_empty_msg(s, '3'); /* CloseComplete */
}

/* ------------------------------------------------------------------ dispatch */

static void
dispatch(session *s, const msg *m)
{
    switch (m->type) {
    case 'S': /* Sync */
        s->skip = false;
        ready_for_query(s);
        return;
    case 'X': /* Terminate */
        s->ended = true;
        return;
    case 'Q':
    case 'P':
    case 'B':
    case 'D':
    case 'E':
    case 'C':
    case 'H':
    case 'F':
    case 'd':
    case 'c':
    case 'f':
        break;
    default: {
        char v[16];
        snprintf(v, sizeof v, "%d", (unsigned char)m->type);
        eng_err e;
        eng_err_clear(&e);
        eng_err_set(&e, ENG_ERRCODE_PROTOCOL_VIOLATION, "invalid frontend message type %s", v);
        send_fatal(s, &e);
        return;
    }
    }
    if (s->skip)
        return;
    switch (m->type) {
    case 'Q':
        do_query(s, m);
        break;
    case 'P':
        do_parse(s, m);
        break;
    case 'B':
        do_bind(s, m);
        break;
    case 'D':
        do_describe(s, m);
        break;
    case 'E':
        do_execute(s, m);
        break;
    case 'C':
        do_close(s, m);
        break;
    case 'H': /* Flush */
        if (io_pgw_write_out(s->c, false) == -1)
            s->ended = true;
        break;
    case 'F':
        errorf(s, true, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
               "fastpath function calls are not supported%s", "");
        break;
    default: /* CopyData/CopyDone/CopyFail outside COPY FROM: ignored, as PostgreSQL */
        break;
    }
}

/* ------------------------------------------------------------------ startup */

/* SCRAM-SHA-256 against the password file. Returns 0 when authenticated;
 * otherwise the FATAL is queued (or the client left) and s->ended set. */
static int
authenticate(session *s)
{
    const char *user = s->c->st.user;
    static const char mech[] = "SCRAM-SHA-256\0";
    put_auth(s, 10, mech, sizeof mech); /* AuthenticationSASL; the list ends with "" */
    pgw_scram *sc = io_pgw_scram_new(s->sh->auth, user);
    eng_strbuf out = {0};
    eng_err err;
    eng_err_clear(&err);
    int rc = -1;
    msg m;
    if (sc == NULL) {
        s->o->b.oom = true;
        goto done;
    }
    if (!next_msg(s, &m))
        goto done;
    if (m.type != 'p') {
        char v[64];
        snprintf(v, sizeof v, "expected SASL response, got message type %d", (unsigned char)m.type);
        fatal(s, ENG_ERRCODE_PROTOCOL_VIOLATION, v);
        goto done;
    }
    rd r = {m.body, m.body + m.len, NULL};
    const char *mname = rd_str(&r);
    int32_t ilen = rd_i32(&r);
    const char *idata = ilen >= 0 ? rd_bytes(&r, (size_t)ilen) : NULL;
    rd_end(&r);
    if (r.bad || ilen < 0) {
        fatal(s, ENG_ERRCODE_PROTOCOL_VIOLATION, "malformed SASL message");
        goto done;
    }
    if (strcmp(mname, "SCRAM-SHA-256") != 0) {
        fatal(s, ENG_ERRCODE_PROTOCOL_VIOLATION,
              "client selected an invalid SASL authentication mechanism");
        goto done;
    }
    if (io_pgw_scram_first(sc, idata, (size_t)ilen, &out, &err) != 0) {
        send_fatal(s, &err);
        goto done;
    }
    put_auth(s, 11, out.data, out.len); /* AuthenticationSASLContinue */
    if (!next_msg(s, &m))
        goto done;
    if (m.type != 'p') {
        fatal(s, ENG_ERRCODE_PROTOCOL_VIOLATION, "expected SASL response");
        goto done;
    }
    eng_strbuf_reset(&out);
    int ok = io_pgw_scram_final(sc, m.body, m.len, &out, &err);
    if (ok < 0) {
        send_fatal(s, &err);
        goto done;
    }
    if (ok == 0) {
        eng_err_set(&err, ENG_ERRCODE_INVALID_PASSWORD,
                    "password authentication failed for user \"%s\"", user);
        send_fatal(s, &err);
        eng_log(ENG_LOG_INFO, "connection %d: password authentication failed for user \"%s\"",
                s->c->pid, user);
        goto done;
    }
    put_auth(s, 12, out.data, out.len); /* AuthenticationSASLFinal */
    rc = 0;
done:
    if (rc != 0)
        s->ended = true;
    eng_strbuf_free(&out);
    io_pgw_scram_free(sc);
    return rc;
}

static void
put_param(session *s, const char *k, const char *v)
{
    size_t at = msg_begin(&s->o->b, 'S');
    put_str(&s->o->b, k);
    put_str(&s->o->b, v);
    msg_end(&s->o->b, at);
}

static int
startup(session *s)
{
    const io_pgw_startup *st = &s->c->st;
    if (s->sh->auth != NULL && authenticate(s) != 0)
        return -1;
    put_auth(s, 0, NULL, 0); /* AuthenticationOk */
    if (strcmp(st->database, "materialize") != 0) {
        eng_err e;
        eng_err_clear(&e);
        eng_err_set(&e, ENG_ERRCODE_INVALID_CATALOG_NAME, "database \"%s\" does not exist",
                    st->database);
        send_fatal(s, &e);
        return -1;
    }
    if (s->h->open != NULL) {
        eng_err err;
        eng_err_clear(&err);
        s->sess = s->h->open(s->sh->ctx, st, &err);
        if (s->sess == NULL) {
            if (!eng_err_isset(&err))
                eng_err_set(&err, ENG_ERRCODE_INTERNAL_ERROR, "could not open a session");
            send_fatal(s, &err);
            return -1;
        }
    }
    put_param(s, "server_version", s->sh->server_version);
    put_param(s, "server_encoding", "UTF8");
    put_param(s, "client_encoding", "UTF8");
    put_param(s, "DateStyle", "ISO, MDY");
    put_param(s, "IntervalStyle", "postgres");
    put_param(s, "TimeZone", "UTC");
    put_param(s, "integer_datetimes", "on");
    put_param(s, "standard_conforming_strings", "on");
    put_param(s, "is_superuser", "off");
    put_param(s, "session_authorization", st->user);
    put_param(s, "application_name", st->application_name ? st->application_name : "");
    size_t at = msg_begin(&s->o->b, 'K');
    put_i32(&s->o->b, s->c->pid);
    put_i32(&s->o->b, s->c->secret);
    msg_end(&s->o->b, at);
    ready_for_query(s);
    eng_log(ENG_LOG_DEBUG, "connection %d: user \"%s\" database \"%s\"", s->c->pid, st->user,
            st->database);
    return 0;
}

/* The session's last output: what is buffered, and FATAL 57P01 when the
 * server is closing (unless the client is gone or already got a FATAL).
 * Blocks until it is written, the client is gone, or (closing) the
 * server's deadline passed. */
static void
last_words(session *s)
{
    pgw_conn *c = s->c;
    if (s->o->b.oom)
        return; /* out of memory: drop the output, close */
    if (!atomic_load(&c->shutting))
        (void)io_pgw_write_out(c, false);
    if (!atomic_load(&c->shutting) || atomic_load(&c->dead))
        return;
    if (!s->said_fatal) {
        eng_err e;
        eng_err_clear(&e);
        eng_err_set(&e, ENG_ERRCODE_ADMIN_SHUTDOWN,
                    "terminating connection due to administrator command");
        io_pgw_put_error(&s->o->b, 'E', &e, true);
    }
    io_pgw_write_last(c);
}

void *
io_pgw_session_main(void *arg)
{
    pgw_conn *c = arg;
    session s = {.c = c, .sh = io_pgw_shared(c->srv), .o = &c->out};
    s.h = s.sh->h;
    char tname[24];
    snprintf(tname, sizeof tname, "conn-%d", c->pid);
    eng_log_thread_name(tname);
    /* The io thread set up c->out (with the startup output it did not
     * send) and left the bytes after the startup packet in c->inbox. */
    buf_swap(&s.in, &c->inbox);
    if (startup(&s) == 0) {
        msg m;
        while (!s.ended && !s.o->b.oom && next_msg(&s, &m))
            dispatch(&s, &m);
    }
    while (s.portals != NULL)
        portal_drop(&s, s.portals);
    while (s.stmts != NULL)
        stmt_drop(&s, s.stmts);
    if (s.sess != NULL && s.h->close != NULL)
        s.h->close(s.sess);
    last_words(&s); /* before the io thread closes the socket */
    io_pgw_out_free(&c->out);
    io_pgw_buf_free(&s.in);
    pthread_mutex_lock(&c->mu);
    c->session_done = true;
    pthread_mutex_unlock(&c->mu);
    io_pgw_notify(c);
    return NULL;
}
