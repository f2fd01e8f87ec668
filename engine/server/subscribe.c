/* SUBSCRIBE and cursors: a dataflow with a subscription sink streams
 * (mz_timestamp, [mz_progressed,] mz_diff, columns...) in timestamp order,
 * through COPY (SUBSCRIBE ...) TO STDOUT (also what a bare SUBSCRIBE
 * statement does) or DECLARE c CURSOR FOR SUBSCRIBE ...; FETCH n c [WITH
 * (timeout = '1s')]; CLOSE c. DECLARE ... FOR SELECT gives a cursor over
 * the query's rows.
 *
 * Notes: the statements are parsed by hand (PostgreSQL's grammar has no
 * SUBSCRIBE). The coordinator's read lock is held only while binding and
 * installing: a running subscription never blocks writes or DDL. If a
 * collection it reads is dropped, the import reports an error in data and
 * the subscription ends with it. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/core/eng_text.h"
#include "engine/server/exec_int.h"

typedef struct sub_spec {
    char *query; /* SELECT text to subscribe to */
    bool snapshot, progress;
    bool has_as_of, has_up_to;
    eng_time as_of, up_to;
} sub_spec;

struct eng_cursor {
    char *name;
    /* SUBSCRIBE cursors */
    eng_df *df;
    eng_sub *sub;
    sub_spec spec;
    eng_time frontier;
    bool done;
    /* Result shape. */
    int ncols; /* output columns */
    char **names;
    eng_type *types;
    /* Buffered output rows not fetched yet. */
    eng_batch *rows;
    uint32_t next;
};

/* ------------------------------------------------------------------ lexing */

static const char *
skip_ws(const char *p)
{
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        return p;
    }
}

/* Matches keyword kw (case-insensitive, whole word); advances *pp. */
static bool
kw(const char **pp, const char *k)
{
    const char *p = skip_ws(*pp);
    size_t n = strlen(k);
    if (strncasecmp(p, k, n) != 0 || isalnum((unsigned char)p[n]) || p[n] == '_')
        return false;
    *pp = p + n;
    return true;
}

/* An identifier (possibly quoted or qualified with dots) into buf. */
static bool
ident(const char **pp, char *buf, size_t cap)
{
    const char *p = skip_ws(*pp);
    size_t k = 0;
    for (;;) {
        if (*p == '"') {
            if (k + 1 < cap)
                buf[k++] = '"';
            p++;
            while (*p && !(*p == '"' && p[1] != '"')) {
                if (*p == '"')
                    p++;
                if (k + 1 < cap)
                    buf[k++] = *p;
                p++;
            }
            if (*p != '"')
                return false;
            if (k + 1 < cap)
                buf[k++] = '"';
            p++;
        } else if (isalpha((unsigned char)*p) || *p == '_' || (unsigned char)*p >= 0x80) {
            while (isalnum((unsigned char)*p) || *p == '_' || *p == '$' ||
                   (unsigned char)*p >= 0x80) {
                if (k + 1 < cap)
                    buf[k++] = *p;
                p++;
            }
        } else {
            return false;
        }
        if (*p == '.') {
            if (k + 1 < cap)
                buf[k++] = '.';
            p++;
            continue;
        }
        break;
    }
    buf[k] = '\0';
    *pp = p;
    return k > 0;
}

/* A parenthesized text (quotes respected): returns a new string of its
 * inside. */
static char *
paren_text(const char **pp)
{
    const char *p = skip_ws(*pp);
    if (*p != '(')
        return NULL;
    int depth = 0;
    const char *start = p + 1;
    for (; *p; p++) {
        if (*p == '\'' || *p == '"') {
            char q = *p++;
            while (*p && !(*p == q && p[1] != q)) {
                if (*p == q)
                    p++;
                p++;
            }
            if (!*p)
                return NULL;
            continue;
        }
        if (*p == '(')
            depth++;
        else if (*p == ')' && --depth == 0) {
            char *r = strndup(start, (size_t)(p - start));
            *pp = p + 1;
            return r;
        }
    }
    return NULL;
}

static bool
number(const char **pp, eng_time *out)
{
    const char *p = skip_ws(*pp);
    if (!isdigit((unsigned char)*p))
        return false;
    eng_time v = 0;
    while (isdigit((unsigned char)*p))
        v = v * 10 + (eng_time)(*p++ - '0');
    *out = v;
    *pp = p;
    return true;
}

static int
syntax(eng_err *err, const char *sql, const char *at, const char *what)
{
    eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "syntax error: expected %s", what);
    err->position = (int)eng_utf8_strlen(sql, (size_t)(at - sql)) + 1;
    return -1;
}

/* WITH (name [= value], ...): values true/false/on/off or quoted. Calls
 * opt(name, value) for each. */
static int
with_opts(const char *sql, const char **pp, eng_err *err,
          int (*opt)(void *ctx, const char *name, const char *value, eng_err *err), void *ctx)
{
    const char *p = *pp;
    if (!kw(&p, "with"))
        return 0;
    p = skip_ws(p);
    if (*p != '(')
        return syntax(err, sql, p, "'(' after WITH");
    p++;
    for (;;) {
        char name[64], value[64] = "true";
        if (!ident(&p, name, sizeof name))
            return syntax(err, sql, p, "an option name");
        p = skip_ws(p);
        if (*p == '=') {
            p = skip_ws(p + 1);
            size_t k = 0;
            if (*p == '\'') {
                p++;
                while (*p && *p != '\'' && k + 1 < sizeof value)
                    value[k++] = *p++;
                if (*p != '\'')
                    return syntax(err, sql, p, "a closing quote");
                p++;
            } else {
                while ((isalnum((unsigned char)*p) || *p == '_' || *p == '.') &&
                       k + 1 < sizeof value)
                    value[k++] = *p++;
            }
            value[k] = '\0';
        }
        if (opt(ctx, name, value, err) != 0)
            return -1;
        p = skip_ws(p);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == ')') {
            p++;
            break;
        }
        return syntax(err, sql, p, "',' or ')'");
    }
    *pp = p;
    return 0;
}

static int
parse_bool(const char *v, bool *out, const char *name, eng_err *err)
{
    if (strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0)
        *out = true;
    else if (strcasecmp(v, "false") == 0 || strcasecmp(v, "off") == 0 || strcmp(v, "0") == 0)
        *out = false;
    else
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "invalid value for option %s: \"%s\" (expected a boolean)", name, v);
    return 0;
}

static int
sub_opt(void *ctx, const char *name, const char *value, eng_err *err)
{
    sub_spec *sp = ctx;
    if (strcasecmp(name, "snapshot") == 0)
        return parse_bool(value, &sp->snapshot, "SNAPSHOT", err);
    if (strcasecmp(name, "progress") == 0)
        return parse_bool(value, &sp->progress, "PROGRESS", err);
    return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "unknown SUBSCRIBE option %s", name);
}

/* Parses "SUBSCRIBE [TO] name|(query) [WITH (...)] [AS OF n] [UP TO n]"
 * starting at p (after the SUBSCRIBE keyword). */
static int
parse_subscribe(const char *sql, const char *p, sub_spec *sp, eng_err *err)
{
    memset(sp, 0, sizeof *sp);
    sp->snapshot = true;
    kw(&p, "to");
    p = skip_ws(p);
    if (*p == '(') {
        sp->query = paren_text(&p);
        if (sp->query == NULL)
            return syntax(err, sql, p, "a closing ')'");
    } else {
        char name[256];
        if (!ident(&p, name, sizeof name))
            return syntax(err, sql, p, "a relation name or a parenthesized query");
        size_t n = strlen(name) + 32;
        sp->query = malloc(n);
        ENG_ASSERT(sp->query != NULL);
        snprintf(sp->query, n, "SELECT * FROM %s", name);
    }
    if (with_opts(sql, &p, err, sub_opt, sp) != 0)
        return -1;
    if (kw(&p, "as")) {
        if (!kw(&p, "of") || !number(&p, &sp->as_of))
            return syntax(err, sql, p, "OF <timestamp> after AS");
        sp->has_as_of = true;
    }
    if (kw(&p, "up")) {
        if (!kw(&p, "to") || !number(&p, &sp->up_to))
            return syntax(err, sql, p, "TO <timestamp> after UP");
        sp->has_up_to = true;
    }
    p = skip_ws(p);
    if (*p == ';')
        p = skip_ws(p + 1);
    if (*p != '\0')
        return syntax(err, sql, p, "end of statement");
    return 0;
}

/* ------------------------------------------------------------------ running */

static void
cursor_free(eng_session *s, eng_cursor *c)
{
    if (c == NULL)
        return;
    if (c->df != NULL)
        eng_df_drop(s->client, c->df);
    if (c->rows != NULL)
        eng_batch_free(c->rows);
    for (int i = 0; i < c->ncols; i++)
        free(c->names[i]);
    free(c->names);
    free(c->types);
    free(c->spec.query);
    free(c->name);
    free(c);
}

/* Binds and installs the subscription's dataflow. */
static int
sub_start(eng_session *s, eng_cursor *c, eng_err *err)
{
    eng_coord *co = s->co;
    json_t *root = NULL;
    const char *type;
    const json_t *body = NULL;
    if (ex_parse(c->spec.query, &root, &type, &body, err) != 0)
        return -1;
    if (type == NULL || strcmp(type, "SelectStmt") != 0) {
        json_decref(root);
        return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "SUBSCRIBE needs a relation or a SELECT");
    }
    pthread_rwlock_rdlock(&co->lock);
    eng_bind_env env = {co->cat, NULL, 0};
    eng_query q;
    int rc = eng_bind_select(&env, body, &q, err);
    json_decref(root);
    if (rc != 0) {
        pthread_rwlock_unlock(&co->lock);
        return -1;
    }
    int extra = c->spec.progress ? 3 : 2;
    c->ncols = extra + q.ncols;
    c->names = calloc((size_t)c->ncols, sizeof *c->names);
    c->types = calloc((size_t)c->ncols, sizeof *c->types);
    ENG_ASSERT(c->names && c->types);
    int k = 0;
    c->names[k] = strdup("mz_timestamp");
    c->types[k++] = eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE);
    if (c->spec.progress) {
        c->names[k] = strdup("mz_progressed");
        c->types[k++] = eng_type_make(ENG_TYPE_BOOL, ENG_TYPMOD_NONE);
    }
    c->names[k] = strdup("mz_diff");
    c->types[k++] = eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE);
    for (int i = 0; i < q.ncols; i++) {
        c->names[k] = strdup(q.names[i]);
        c->types[k++] = q.types[i];
    }
    eng_rel *rel = eng_query_rel(&q, false);
    eng_query_free(&q);
    eng_plan *plan = eng_plan_new();
    coord_look lk = {.co = co};
    eng_render_env renv = {s->client, coord_lookup_arrs, &lk};
    eng_render_result res;
    rc = eng_render(rel, &renv, NULL, plan, &res, err);
    eng_rel_free(rel);
    if (rc != 0) {
        eng_plan_free(plan);
        pthread_rwlock_unlock(&co->lock);
        return -1;
    }
    if (c->spec.has_as_of && c->spec.as_of < res.as_of) {
        eng_render_result_free(&res);
        eng_plan_free(plan);
        pthread_rwlock_unlock(&co->lock);
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "AS OF %llu is before the earliest readable time %llu",
                           (unsigned long long)c->spec.as_of, (unsigned long long)res.as_of);
    }
    eng_plan_subscribe(plan, res.output, s->client, &c->sub);
    c->df = eng_df_install(s->client, plan);
    eng_render_start(&res, s->client, c->df);
    if (!c->spec.has_as_of) /* at least the latest write: reads see their own writes */
        c->spec.as_of = res.as_of > co->ts ? res.as_of : co->ts;
    eng_render_result_free(&res);
    pthread_rwlock_unlock(&co->lock);
    c->rows = eng_client_batch(s->client);
    return 0;
}

/* Waits up to timeout_ms for progress; appends output rows to c->rows.
 * Returns 0 (maybe no new rows), or -1 with err. */
static int
sub_poll(eng_cursor *c, int timeout_ms, eng_err *err)
{
    eng_batch *b = NULL;
    eng_time f;
    eng_err e;
    eng_err_clear(&e);
    if (eng_sub_next(c->sub, timeout_ms, &b, &f, &e) != 0) {
        if (b != NULL)
            eng_batch_free(b);
        if (strcmp(e.sqlstate, ENG_ERRCODE_QUERY_CANCELED) == 0)
            return 0; /* no progress within the timeout */
        *err = e;
        return -1;
    }
    eng_rowbuf rb = {0};
    if (b != NULL) {
        /* Everything up to as_of is the snapshot, stamped as_of. */
        bool clamp = false;
        for (uint32_t i = 0; i < b->n; i++)
            if (b->upd[i].time < c->spec.as_of) {
                b->upd[i].time = c->spec.as_of;
                clamp = true;
            }
        if (clamp)
            eng_batch_consolidate(b);
    }
    for (uint32_t i = 0; b != NULL && i < b->n; i++) {
        eng_time t = b->upd[i].time;
        if (!c->spec.snapshot && t <= c->spec.as_of)
            continue;
        if (c->spec.has_up_to && t >= c->spec.up_to)
            continue;
        eng_rowbuf_reset(&rb);
        eng_push_int8(&rb, (int64_t)t);
        if (c->spec.progress)
            eng_push_bool(&rb, false);
        eng_push_int8(&rb, b->upd[i].diff);
        eng_push_row(&rb, eng_batch_row(b, i));
        eng_batch_push(c->rows, eng_rowbuf_row(&rb), t, 1);
    }
    if (b != NULL)
        eng_batch_free(b);
    if (f > c->frontier) {
        c->frontier = f;
        if (c->spec.progress && (!c->spec.has_up_to || f < c->spec.up_to)) {
            eng_rowbuf_reset(&rb);
            eng_push_int8(&rb, (int64_t)f);
            eng_push_bool(&rb, true);
            eng_push_null(&rb);
            for (int i = 3; i < c->ncols; i++)
                eng_push_null(&rb);
            eng_batch_push(c->rows, eng_rowbuf_row(&rb), f, 1);
        }
        if (c->spec.has_up_to && f >= c->spec.up_to)
            c->done = true;
    }
    eng_rowbuf_free(&rb);
    return 0;
}

static int
send_buffered(eng_cursor *c, const eng_sink *sink, bool copy, int64_t max, int64_t *sent)
{
    while (c->next < c->rows->n && (max < 0 || *sent < max)) {
        eng_row r = eng_batch_row(c->rows, c->next++);
        int rc = copy ? sink->copy_row(sink->ctx, r) : sink->row(sink->ctx, r);
        if (rc != 0)
            return -1;
        (*sent)++;
    }
    if (c->next == c->rows->n) {
        eng_batch_clear(c->rows);
        c->next = 0;
    }
    return 0;
}

static bool
cancelled(const eng_sink *sink)
{
    return sink->cancelled != NULL && sink->cancelled(sink->ctx);
}

/* SUBSCRIBE through COPY: streams until cancelled, UP TO, or an error. */
static int
run_copy_subscribe(eng_session *s, const char *sql, const char *p, const eng_sink *sink,
                   eng_err *err)
{
    eng_cursor *c = calloc(1, sizeof *c);
    ENG_ASSERT(c != NULL);
    if (parse_subscribe(sql, p, &c->spec, err) != 0 || sub_start(s, c, err) != 0) {
        cursor_free(s, c);
        return -1;
    }
    if (sink->copy_begin == NULL || sink->copy_begin(sink->ctx, c->ncols, c->types) != 0) {
        cursor_free(s, c);
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "SUBSCRIBE needs a client that reads COPY output");
    }
    int64_t sent = 0;
    int rc = 0;
    while (rc == 0 && !c->done) {
        if (cancelled(sink)) {
            rc = eng_err_set(err, ENG_ERRCODE_QUERY_CANCELED,
                             "canceling statement due to user request");
            break;
        }
        rc = sub_poll(c, 100, err);
        if (rc == 0 && send_buffered(c, sink, true, -1, &sent) != 0)
            rc = eng_err_set(err, ENG_ERRCODE_QUERY_CANCELED,
                             "canceling statement due to user request");
    }
    cursor_free(s, c);
    if (rc != 0)
        return -1;
    sink->copy_done(sink->ctx);
    return ex_complete(sink, "COPY %lld", (long long)sent);
}

/* ------------------------------------------------------------------ cursors */

static eng_cursor **
find_cursor(eng_session *s, const char *name)
{
    for (int i = 0; i < s->ncursors; i++)
        if (strcmp(s->cursors[i]->name, name) == 0)
            return &s->cursors[i];
    return NULL;
}

static void
drop_cursor(eng_session *s, eng_cursor **slot)
{
    cursor_free(s, *slot);
    *slot = s->cursors[--s->ncursors];
}

void
ex_cursors_free(eng_session *s)
{
    while (s->ncursors > 0)
        drop_cursor(s, &s->cursors[0]);
    free(s->cursors);
    s->cursors = NULL;
}

static int
rowdesc(const eng_sink *sink, eng_cursor *c)
{
    return sink->rowdesc ? sink->rowdesc(sink->ctx, c->ncols, c->names, c->types) : 0;
}

/* A cursor over a SELECT's rows: run it now, keep the rows. */
static int
select_cursor(eng_session *s, eng_cursor *c, const char *query, eng_err *err)
{
    json_t *root = NULL;
    const char *type;
    const json_t *body = NULL;
    if (ex_parse(query, &root, &type, &body, err) != 0)
        return -1;
    if (type == NULL || strcmp(type, "SelectStmt") != 0) {
        json_decref(root);
        return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR,
                           "DECLARE CURSOR needs a SELECT or SUBSCRIBE");
    }
    /* Capture the rows through a sink into the cursor's buffer. */
    eng_coord *co = s->co;
    pthread_rwlock_rdlock(&co->lock);
    eng_bind_env env = {co->cat, NULL, 0};
    eng_query q;
    int rc = eng_bind_select(&env, body, &q, err);
    json_decref(root);
    if (rc == 0) {
        c->ncols = q.ncols;
        c->names = calloc((size_t)q.ncols + 1, sizeof *c->names);
        c->types = calloc((size_t)q.ncols + 1, sizeof *c->types);
        for (int i = 0; i < q.ncols; i++) {
            c->names[i] = strdup(q.names[i]);
            c->types[i] = q.types[i];
        }
        c->rows = eng_client_batch(s->client);
        rc = ex_query_rows(s, &q, c->rows, err);
        eng_query_free(&q);
    }
    pthread_rwlock_unlock(&co->lock);
    c->done = true;
    return rc;
}

static int
parse_timeout(const char *v, int *ms, eng_err *err)
{
    char *end;
    double x = strtod(v, &end);
    while (*end == ' ')
        end++;
    double mult = 1000;
    if (strcasecmp(end, "ms") == 0)
        mult = 1;
    else if (strcasecmp(end, "s") == 0 || *end == '\0')
        mult = 1000;
    else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "min") == 0)
        mult = 60000;
    else
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "invalid timeout \"%s\"", v);
    if (x < 0 || x * mult > 86400000.0)
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "timeout out of range: \"%s\"",
                           v);
    *ms = (int)(x * mult);
    return 0;
}

typedef struct fetch_opts {
    int timeout_ms; /* < 0: wait for a row */
} fetch_opts;

static int
fetch_opt(void *ctx, const char *name, const char *value, eng_err *err)
{
    fetch_opts *fo = ctx;
    if (strcasecmp(name, "timeout") == 0)
        return parse_timeout(value, &fo->timeout_ms, err);
    return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "unknown FETCH option %s", name);
}

static int
run_fetch(eng_session *s, const char *sql, const char *p, const eng_sink *sink, eng_err *err)
{
    int64_t count = 1;
    eng_time n;
    kw(&p, "forward");
    if (kw(&p, "all"))
        count = -1;
    else if (number(&p, &n))
        count = (int64_t)n;
    else if (kw(&p, "next"))
        count = 1;
    if (!kw(&p, "from"))
        kw(&p, "in");
    char name[128];
    if (!ident(&p, name, sizeof name))
        return syntax(err, sql, p, "a cursor name");
    fetch_opts fo = {-1};
    if (with_opts(sql, &p, err, fetch_opt, &fo) != 0)
        return -1;
    eng_cursor **slot = find_cursor(s, name);
    if (slot == NULL)
        return eng_err_set(err, ENG_ERRCODE_INVALID_CURSOR_NAME, "cursor \"%s\" does not exist",
                           name);
    eng_cursor *c = *slot;
    if (rowdesc(sink, c) != 0)
        return eng_err_set(err, ENG_ERRCODE_QUERY_CANCELED,
                           "canceling statement due to user request");
    /* Wait for at least one row (or the timeout), then hand out what is
     * buffered, up to count. */
    int waited = 0;
    while (c->sub != NULL && !c->done && c->next >= c->rows->n) {
        if (cancelled(sink))
            return eng_err_set(err, ENG_ERRCODE_QUERY_CANCELED,
                               "canceling statement due to user request");
        if (fo.timeout_ms >= 0 && waited >= fo.timeout_ms)
            break;
        int step = 100;
        if (fo.timeout_ms >= 0 && fo.timeout_ms - waited < step)
            step = fo.timeout_ms - waited;
        if (sub_poll(c, step, err) != 0)
            return -1;
        waited += step;
    }
    int64_t sent = 0;
    if (send_buffered(c, sink, false, count, &sent) != 0)
        return eng_err_set(err, ENG_ERRCODE_QUERY_CANCELED,
                           "canceling statement due to user request");
    return ex_complete(sink, "FETCH %lld", (long long)sent);
}

static int
run_declare(eng_session *s, const char *sql, const char *p, const eng_sink *sink, eng_err *err)
{
    char name[128];
    if (!ident(&p, name, sizeof name))
        return syntax(err, sql, p, "a cursor name");
    kw(&p, "binary");
    kw(&p, "no");
    kw(&p, "scroll");
    if (!kw(&p, "cursor"))
        return syntax(err, sql, p, "CURSOR");
    if (kw(&p, "with") || kw(&p, "without"))
        kw(&p, "hold");
    if (!kw(&p, "for"))
        return syntax(err, sql, p, "FOR");
    if (find_cursor(s, name) != NULL)
        return eng_err_set(err, ENG_ERRCODE_DUPLICATE_CURSOR, "cursor \"%s\" already exists", name);
    eng_cursor *c = calloc(1, sizeof *c);
    ENG_ASSERT(c != NULL);
    c->name = strdup(name);
    int rc;
    const char *q = p;
    if (kw(&q, "subscribe")) {
        rc = parse_subscribe(sql, q, &c->spec, err);
        if (rc == 0)
            rc = sub_start(s, c, err);
    } else {
        rc = select_cursor(s, c, p, err);
    }
    if (rc != 0) {
        cursor_free(s, c);
        return -1;
    }
    s->cursors = realloc(s->cursors, (size_t)(s->ncursors + 1) * sizeof *s->cursors);
    ENG_ASSERT(s->cursors != NULL);
    s->cursors[s->ncursors++] = c;
    return ex_complete(sink, "DECLARE CURSOR");
}

static int
run_close(eng_session *s, const char *sql, const char *p, const eng_sink *sink, eng_err *err)
{
    if (kw(&p, "all")) {
        while (s->ncursors > 0)
            drop_cursor(s, &s->cursors[0]);
        return ex_complete(sink, "CLOSE CURSOR");
    }
    char name[128];
    if (!ident(&p, name, sizeof name))
        return syntax(err, sql, p, "a cursor name");
    eng_cursor **slot = find_cursor(s, name);
    if (slot == NULL)
        return eng_err_set(err, ENG_ERRCODE_INVALID_CURSOR_NAME, "cursor \"%s\" does not exist",
                           name);
    drop_cursor(s, slot);
    return ex_complete(sink, "CLOSE CURSOR");
}

bool
ex_subscribe_match(const char *sql)
{
    const char *p = sql;
    if (kw(&p, "subscribe") || kw(&p, "fetch") || kw(&p, "declare") || kw(&p, "close"))
        return true;
    p = sql;
    if (kw(&p, "copy")) {
        p = skip_ws(p);
        if (*p == '(') {
            p++;
            return kw(&p, "subscribe");
        }
    }
    return false;
}

int
ex_subscribe(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err)
{
    const char *p = sql;
    if (kw(&p, "subscribe"))
        return run_copy_subscribe(s, sql, p, sink, err);
    if (kw(&p, "fetch"))
        return run_fetch(s, sql, p, sink, err);
    if (kw(&p, "declare"))
        return run_declare(s, sql, p, sink, err);
    if (kw(&p, "close"))
        return run_close(s, sql, p, sink, err);
    p = sql;
    if (kw(&p, "copy")) {
        char *inner = paren_text(&p);
        if (inner == NULL)
            return syntax(err, sql, p, "a parenthesized SUBSCRIBE");
        if (!kw(&p, "to") || !kw(&p, "stdout")) {
            free(inner);
            return syntax(err, sql, p, "TO STDOUT");
        }
        /* Options of COPY (e.g. WITH (FORMAT text)) are accepted and ignored. */
        const char *q = inner;
        kw(&q, "subscribe");
        char *whole = strdup(q);
        int rc = run_copy_subscribe(s, whole, whole, sink, err);
        free(whole);
        free(inner);
        return rc;
    }
    return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "not a SUBSCRIBE statement");
}

int
ex_fetch_describe(eng_session *s, const char *sql, int *ncols, char *const **names,
                  const eng_type **types)
{
    const char *p = sql;
    if (!kw(&p, "fetch"))
        return -1;
    eng_time n;
    kw(&p, "forward");
    if (!kw(&p, "all") && !number(&p, &n))
        kw(&p, "next");
    if (!kw(&p, "from"))
        kw(&p, "in");
    char name[128];
    if (!ident(&p, name, sizeof name))
        return -1;
    eng_cursor **slot = find_cursor(s, name);
    if (slot == NULL)
        return -1;
    *ncols = (*slot)->ncols;
    *names = (*slot)->names;
    *types = (*slot)->types;
    return 0;
}
