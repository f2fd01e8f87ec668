/* Statement execution: splitting a query string, dispatching each
 * statement (PostgreSQL grammar through libpg_query, Sluice's own through
 * the keyword parser in dialect.c), DDL, DML and reads. */
#include <ctype.h>
#include <jansson.h>
#include <pg_query.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/core/eng_log.h"
#include "engine/core/eng_text.h"
#include "engine/server/coord_int.h"
#include "engine/server/exec_int.h"
#include "operators/op_arrange.h"

static void *
xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    ENG_ASSERT(p != NULL);
    return p;
}

static char *
xstrndup(const char *s, size_t n)
{
    char *d = strndup(s, n);
    ENG_ASSERT(d != NULL);
    return d;
}

/* ------------------------------------------------------------------ splitting */

/* Finds the end of the statement starting at p: the first ';' outside
 * quotes, dollar quotes and comments, or the end of the string. */
static const char *
stmt_end(const char *start, const char *p)
{
    while (*p) {
        char ch = *p;
        if (ch == ';')
            return p;
        if (ch == '\'' || ch == '"') {
            bool esc = ch == '\'' && p > start && (p[-1] == 'E' || p[-1] == 'e');
            p++;
            while (*p) {
                if (esc && *p == '\\' && p[1]) {
                    p += 2;
                    continue;
                }
                if (*p == ch) {
                    if (p[1] == ch) {
                        p += 2;
                        continue;
                    }
                    break;
                }
                p++;
            }
            if (*p)
                p++;
            continue;
        }
        if (ch == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        if (ch == '/' && p[1] == '*') {
            int depth = 1;
            p += 2;
            while (*p && depth > 0) {
                if (p[0] == '/' && p[1] == '*') {
                    depth++;
                    p += 2;
                } else if (p[0] == '*' && p[1] == '/') {
                    depth--;
                    p += 2;
                } else {
                    p++;
                }
            }
            continue;
        }
        if (ch == '$') {
            const char *q = p + 1;
            while (isalnum((unsigned char)*q) || *q == '_')
                q++;
            if (*q == '$' && !(p > start && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))) {
                size_t tl = (size_t)(q - p + 1);
                const char *e;
                for (e = q + 1; *e; e++)
                    if (strncmp(e, p, tl) == 0)
                        break;
                p = *e ? e + tl : e;
                continue;
            }
        }
        p++;
    }
    return p;
}

static bool
blank(const char *p, const char *e)
{
    while (p < e) {
        if (isspace((unsigned char)*p)) {
            p++;
        } else if (p[0] == '-' && p + 1 < e && p[1] == '-') {
            while (p < e && *p != '\n')
                p++;
        } else if (p[0] == '/' && p + 1 < e && p[1] == '*') {
            const char *c = strstr(p + 2, "*/");
            p = c ? c + 2 : e;
        } else {
            return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------------ helpers */

int
ex_complete(const eng_sink *sink, const char *fmt, ...)
{
    char tag[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tag, sizeof tag, fmt, ap);
    va_end(ap);
    return sink->complete ? sink->complete(sink->ctx, tag) : 0;
}

void
ex_notice(const eng_sink *sink, const char *fmt, ...)
{
    if (sink->notice == NULL)
        return;
    eng_err n;
    eng_err_clear(&n);
    char msg[ENG_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    eng_err_set(&n, ENG_ERRCODE_SUCCESSFUL_COMPLETION, "%s", msg);
    n.severity = ENG_SEV_NOTICE;
    sink->notice(sink->ctx, &n);
}

/* Sends a result computed as rows of text columns (SHOW, EXPLAIN...). */
int
ex_text_result(const eng_sink *sink, int ncols, const char *const *names, int nrows,
               const char *const *cells, const char *tag)
{
    eng_type *types = xcalloc((size_t)ncols, sizeof *types);
    char **nm = xcalloc((size_t)ncols, sizeof *nm);
    for (int i = 0; i < ncols; i++) {
        types[i] = eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE);
        nm[i] = (char *)names[i];
    }
    int rc = sink->rowdesc ? sink->rowdesc(sink->ctx, ncols, nm, types) : 0;
    eng_rowbuf rb = {0};
    for (int r = 0; r < nrows && rc == 0; r++) {
        eng_rowbuf_reset(&rb);
        for (int c = 0; c < ncols; c++) {
            const char *v = cells[(size_t)r * (size_t)ncols + (size_t)c];
            if (v == NULL)
                eng_push_null(&rb);
            else
                eng_push_text(&rb, v, (uint32_t)strlen(v));
        }
        rc = sink->row ? sink->row(sink->ctx, eng_rowbuf_row(&rb)) : 0;
    }
    eng_rowbuf_free(&rb);
    free(types);
    free(nm);
    if (rc == 0)
        rc = tag ? ex_complete(sink, "%s", tag) : ex_complete(sink, "SELECT %d", nrows);
    return rc;
}

static void
qualified(const json_t *rv, const char **schema, const char **name)
{
    const json_t *b = rv;
    const json_t *inner = NULL;
    const char *k = eng_pg_node(rv, &inner);
    if (k != NULL && strcmp(k, "RangeVar") == 0)
        b = inner;
    *schema = eng_pg_str(b, "schemaname");
    *name = eng_pg_str(b, "relname");
}

/* ------------------------------------------------------------------ reads */

int64_t
ex_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((int64_t)ts.tv_sec - 946684800) * 1000000 + ts.tv_nsec / 1000;
}

int
ex_query(eng_session *s, eng_query *q, const eng_sink *sink, bool copy, eng_err *err)
{
    eng_rel *rel = eng_query_rel(q, true);
    eng_batch *b = NULL;
    int rc = coord_eval(s, rel, &b, err);
    int ncols = rel->ncols;
    eng_type *types = xcalloc((size_t)ncols, sizeof *types);
    memcpy(types, rel->types, (size_t)ncols * sizeof *types);
    eng_rel_free(rel);
    /* The rows are ours now: a slow client must not hold the lock (and
     * with it every writer) while it reads them. */
    pthread_rwlock_unlock(&s->co->lock);
    if (rc != 0) {
        free(types);
        return -1;
    }
    /* Visible columns keep the query's declared types (typmods). */
    for (int i = 0; i < q->ncols; i++)
        types[i] = q->types[i];
    if (copy) {
        if (sink->copy_begin == NULL) {
            eng_batch_free(b);
            free(types);
            return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                               "COPY TO STDOUT is not supported by this client");
        }
        rc = sink->copy_begin(sink->ctx, q->ncols, types);
    } else if (sink->rowdesc != NULL) {
        rc = sink->rowdesc(sink->ctx, q->ncols, q->names, types);
    }
    if (rc != 0) {
        eng_batch_free(b);
        free(types);
        return eng_err_set(err, ENG_ERRCODE_QUERY_CANCELED,
                           "canceling statement due to user request");
    }
    /* LIMIT/OFFSET were applied by the TOPK eng_query_rel added. */
    int64_t n =
        coord_send_rows(b, ncols, types, q->ncols, q->norder, q->order, -1, 0, sink, copy, err);
    eng_batch_free(b);
    free(types);
    if (n < 0)
        return -1;
    if (copy) {
        sink->copy_done(sink->ctx);
        return ex_complete(sink, "COPY %lld", (long long)n);
    }
    return ex_complete(sink, "SELECT %lld", (long long)n);
}

typedef struct rowcap {
    eng_batch *out;
} rowcap;

static int
cap_row(void *ctx, eng_row row)
{
    eng_batch_push(((rowcap *)ctx)->out, row, 0, 1);
    return 0;
}

int
ex_query_rows(eng_session *s, eng_query *q, eng_batch *out, eng_err *err)
{
    eng_rel *rel = eng_query_rel(q, true);
    eng_batch *b = NULL;
    int rc = coord_eval(s, rel, &b, err);
    int ncols = rel->ncols;
    eng_type *types = xcalloc((size_t)ncols, sizeof *types);
    memcpy(types, rel->types, (size_t)ncols * sizeof *types);
    eng_rel_free(rel);
    if (rc == 0) {
        rowcap cap = {out};
        eng_sink sink = {0};
        sink.ctx = &cap;
        sink.row = cap_row;
        rc = coord_send_rows(b, ncols, types, q->ncols, q->norder, q->order, -1, 0, &sink, false,
                             err) < 0
                 ? -1
                 : 0;
        eng_batch_free(b);
    }
    free(types);
    return rc;
}

static int
exec_select(eng_session *s, const json_t *stmt, const eng_sink *sink, eng_bind_params *params,
            eng_err *err)
{
    eng_coord *co = s->co;
    pthread_rwlock_rdlock(&co->lock);
    eng_bind_env env = {co->cat, params, ex_now_us()};
    eng_query q;
    int rc = eng_bind_select(&env, stmt, &q, err);
    if (rc != 0) {
        pthread_rwlock_unlock(&co->lock);
        return -1;
    }
    rc = ex_query(s, &q, sink, false, err); /* releases the lock */
    eng_query_free(&q);
    return rc;
}

/* ------------------------------------------------------------------ writes */

/* Applies the change rel (rows with multiplicities over table o's
 * columns) at a new timestamp. Write lock held. Returns the number of rows
 * inserted (+) and deleted (-) through *ins / *del. */
static int
apply_change(eng_session *s, eng_obj *o, const eng_rel *rel, int64_t *ins, int64_t *del,
             eng_err *err)
{
    eng_coord *co = s->co;
    eng_batch *b = NULL;
    s->wrlocked = true;
    int erc = coord_eval(s, rel, &b, err);
    s->wrlocked = false;
    if (erc != 0)
        return -1;
    *ins = *del = 0;
    /* NOT NULL constraints. */
    for (uint32_t i = 0; i < b->n; i++) {
        if (b->upd[i].diff <= 0) {
            *del -= b->upd[i].diff;
            continue;
        }
        *ins += b->upd[i].diff;
        eng_row r = eng_batch_row(b, i);
        uint32_t pos = 0;
        for (int c = 0; c < o->ncols; c++) {
            eng_datum d = eng_row_next(r, &pos);
            if (d.tag == ENG_TAG_NULL && o->cols[c].not_null) {
                eng_batch_free(b);
                eng_err_set(err, ENG_ERRCODE_NOT_NULL_VIOLATION,
                            "null value in column \"%s\" of relation \"%s\" violates not-null "
                            "constraint",
                            o->cols[c].name, o->name);
                return -1;
            }
        }
    }
    objrt *r = o->rt;
    if (b->n > 0) {
        eng_time t = co->ts + 1;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        eng_time wall = (eng_time)ts.tv_sec * 1000 + (eng_time)(ts.tv_nsec / 1000000);
        if (wall > t)
            t = wall;
        eng_batch *out = eng_client_batch(co->client);
        for (uint32_t i = 0; i < b->n; i++)
            eng_batch_push(out, eng_batch_row(b, i), t, b->upd[i].diff);
        eng_df_send(co->client, r->df, r->input, out);
        coord_set_ts(co, t);
    }
    eng_batch_free(b);
    return 0;
}

static int
exec_dml(eng_session *s, const char *kind, const json_t *stmt, const eng_sink *sink,
         eng_bind_params *params, eng_err *err)
{
    eng_coord *co = s->co;
    pthread_rwlock_wrlock(&co->lock);
    eng_bind_env env = {co->cat, params, ex_now_us()};
    eng_obj *o = NULL;
    eng_rel *rel = NULL;
    int rc;
    if (kind[0] == 'I')
        rc = eng_bind_insert(&env, stmt, &o, &rel, err);
    else if (kind[0] == 'U')
        rc = eng_bind_update(&env, stmt, &o, &rel, err);
    else
        rc = eng_bind_delete(&env, stmt, &o, &rel, err);
    int64_t ins = 0, del = 0;
    if (rc == 0) {
        rel = eng_opt(rel);
        rc = apply_change(s, o, rel, &ins, &del, err);
    }
    eng_rel_free(rel);
    pthread_rwlock_unlock(&co->lock);
    if (rc != 0)
        return -1;
    if (kind[0] == 'I')
        return ex_complete(sink, "INSERT 0 %lld", (long long)ins);
    if (kind[0] == 'U')
        return ex_complete(sink, "UPDATE %lld", (long long)del);
    return ex_complete(sink, "DELETE %lld", (long long)del);
}

/* ------------------------------------------------------------------ DDL */

/* Registers a new object: the catalog add (persisting it) under the write
 * lock. o->sql must be set for persisted objects. */
static int
add_obj(eng_coord *co, eng_obj *o, eng_err *err)
{
    o->persist = o->kind != ENG_OBJ_SYSTEM;
    if (co->replaying)
        o->persist = true;
    return eng_catalog_add(co->cat, o, err);
}

/* Checks a name is free (42P07), honouring IF NOT EXISTS (returns 1). */
static int
name_free(eng_coord *co, const char *schema, const char *name, bool if_not_exists,
          const eng_sink *sink, eng_err *err)
{
    if (schema != NULL && !eng_catalog_schema_exists(co->cat, schema))
        return eng_err_set(err, ENG_ERRCODE_INVALID_SCHEMA_NAME, "schema \"%s\" does not exist",
                           schema);
    eng_obj *old = eng_catalog_find(co->cat, schema ? schema : "public", name);
    if (old == NULL)
        return 0;
    if (if_not_exists) {
        ex_notice(sink, "%s \"%s\" already exists, skipping", eng_obj_kind_name(old->kind), name);
        return 1;
    }
    return eng_err_set(err, ENG_ERRCODE_DUPLICATE_TABLE, "%s \"%s\" already exists",
                       eng_obj_kind_name(old->kind), name);
}

/* A table's dataflow: input -> arrange (whole row). */
static void
table_runtime(eng_coord *co, eng_obj *o)
{
    objrt *r = xcalloc(1, sizeof *r);
    r->co = co;
    eng_plan *p = eng_plan_new();
    int in = eng_plan_input(p, o->name);
    op_arrange_params *ap = xcalloc(1, sizeof *ap);
    ap->key_ncols = o->ncols;
    int arr = eng_plan_node(p, "arrange", op_arrange_make, ap, free, 1);
    eng_plan_edge(p, in, arr, 0, o->ncols);
    r->df = eng_df_install(co->client, p);
    r->input = in;
    r->has_arr = true;
    r->arr = (eng_render_arr){r->df, arr, true, 0, NULL};
    eng_df_advance(co->client, r->df, in, co->ts + 1);
    o->rt = r;
    o->rt_free = ex_objrt_free;
    o->arranged = true;
}

void
ex_objrt_free(eng_obj *o)
{
    objrt *r = o->rt;
    if (r == NULL)
        return;
    if (r->df != NULL)
        eng_df_drop(r->co->client, r->df);
    free(r->keycols);
    free(r);
    o->rt = NULL;
}

static int
exec_create_table(eng_session *s, const json_t *b, const char *sql, const eng_sink *sink,
                  eng_err *err)
{
    eng_coord *co = s->co;
    const char *schema, *name;
    qualified(json_object_get(b, "relation"), &schema, &name);
    if (json_object_get(b, "inhRelations") || json_object_get(b, "partbound") ||
        json_object_get(b, "partspec"))
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "table inheritance and partitioning are not supported");
    json_t *elts = json_object_get(b, "tableElts");
    int n = (int)json_array_size(elts);
    eng_col *cols = xcalloc((size_t)n, sizeof *cols);
    int ncols = 0, rc = -1;
    bool pk_notice = false;
    for (int i = 0; i < n; i++) {
        const json_t *eb = NULL;
        const char *ek = eng_pg_node(json_array_get(elts, (size_t)i), &eb);
        if (ek != NULL && strcmp(ek, "Constraint") == 0) {
            const char *ct = eng_pg_str(eb, "contype");
            if (ct && strcmp(ct, "CONSTR_PRIMARY") == 0) {
                json_t *keys = json_object_get(eb, "keys");
                for (size_t k = 0; k < json_array_size(keys); k++) {
                    const char *kn = eng_pg_strnode(json_array_get(keys, k));
                    for (int c = 0; c < ncols; c++)
                        if (kn && strcmp(cols[c].name, kn) == 0)
                            cols[c].not_null = true;
                }
                pk_notice = true;
                continue;
            }
            eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                        "table constraint %s is not supported", ct ? ct + 7 : "?");
            goto done;
        }
        if (ek == NULL || strcmp(ek, "ColumnDef") != 0) {
            eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                        "CREATE TABLE element %s is not supported", ek ? ek : "?");
            goto done;
        }
        eng_col *c = &cols[ncols];
        c->name = (char *)eng_pg_str(eb, "colname");
        for (int k = 0; k < ncols; k++)
            if (strcmp(cols[k].name, c->name) == 0) {
                eng_err_set(err, ENG_ERRCODE_DUPLICATE_COLUMN,
                            "column \"%s\" specified more than once", c->name);
                goto done;
            }
        if (eng_bind_typename(json_object_get(eb, "typeName"), &c->type, err) != 0)
            goto done;
        json_t *cons = json_object_get(eb, "constraints");
        for (size_t k = 0; k < json_array_size(cons); k++) {
            const json_t *cb = NULL;
            eng_pg_node(json_array_get(cons, k), &cb);
            const char *ct = eng_pg_str(cb, "contype");
            if (ct == NULL)
                continue;
            if (strcmp(ct, "CONSTR_NOTNULL") == 0) {
                c->not_null = true;
            } else if (strcmp(ct, "CONSTR_NULL") == 0) {
                c->not_null = false;
            } else if (strcmp(ct, "CONSTR_DEFAULT") == 0) {
                c->default_sql = json_dumps(json_object_get(cb, "raw_expr"), JSON_COMPACT);
            } else if (strcmp(ct, "CONSTR_PRIMARY") == 0) {
                c->not_null = true;
                pk_notice = true;
            } else {
                eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                            "column constraint %s is not supported", ct + 7);
                goto done;
            }
        }
        ncols++;
    }
    pthread_rwlock_wrlock(&co->lock);
    int nf = name_free(co, schema, name, eng_pg_bool(b, "if_not_exists"), sink, err);
    if (nf != 0) {
        pthread_rwlock_unlock(&co->lock);
        rc = nf < 0 ? -1 : ex_complete(sink, "CREATE TABLE");
        goto done;
    }
    /* Check the defaults bind (and their types). */
    eng_obj *o = eng_obj_new(coord_new_id(co), ENG_OBJ_TABLE, schema ? schema : "public", name);
    eng_obj_set_cols(o, ncols, cols);
    o->sql = strdup(sql);
    eng_bind_env env = {co->cat, NULL, 0};
    for (int i = 0; i < ncols; i++) {
        if (cols[i].default_sql == NULL)
            continue;
        json_t *dj = json_loads(cols[i].default_sql, 0, NULL);
        eng_sx *e = dj ? eng_bind_scalar(&env, NULL, dj, err) : NULL;
        json_decref(dj);
        if (e != NULL)
            e = eng_bind_assign(e, cols[i].type, cols[i].name, err);
        if (e == NULL) {
            eng_obj_free(o);
            pthread_rwlock_unlock(&co->lock);
            goto done;
        }
        eng_sx_free(e);
    }
    if (add_obj(co, o, err) != 0) {
        eng_obj_free(o);
        pthread_rwlock_unlock(&co->lock);
        goto done;
    }
    table_runtime(co, o);
    pthread_rwlock_unlock(&co->lock);
    if (pk_notice)
        ex_notice(sink, "PRIMARY KEY constraints are not enforced (their columns are NOT NULL)");
    rc = ex_complete(sink, "CREATE TABLE");
done:
    for (int i = 0; i < n; i++)
        free(cols[i].default_sql);
    free(cols);
    return rc;
}

/* Binds the query of a view (names from aliases). Read or write lock held. */
static int
bind_view_query(eng_coord *co, const json_t *query, const json_t *aliases, eng_query *q,
                eng_err *err)
{
    eng_bind_env env = {co->cat, NULL, 0};
    if (eng_bind_select(&env, query, q, err) != 0)
        return -1;
    size_t na = json_array_size(aliases);
    if ((int)na > q->ncols) {
        eng_query_free(q);
        return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR,
                           "CREATE VIEW specifies more column names "
                           "than columns");
    }
    for (size_t i = 0; i < na; i++) {
        const char *a = eng_pg_strnode(json_array_get(aliases, i));
        free(q->names[i]);
        q->names[i] = strdup(a ? a : "?column?");
    }
    for (int i = 0; i < q->ncols; i++)
        for (int k = 0; k < i; k++)
            if (strcmp(q->names[i], q->names[k]) == 0) {
                eng_err_set(err, ENG_ERRCODE_DUPLICATE_COLUMN,
                            "column \"%s\" specified more than once", q->names[i]);
                eng_query_free(q);
                return -1;
            }
    return 0;
}

static eng_obj *
view_obj(eng_coord *co, eng_obj_kind kind, const char *schema, const char *name, eng_query *q,
         const char *sql)
{
    eng_obj *o = eng_obj_new(coord_new_id(co), kind, schema ? schema : "public", name);
    eng_col *cols = xcalloc((size_t)q->ncols, sizeof *cols);
    for (int i = 0; i < q->ncols; i++)
        cols[i] = (eng_col){q->names[i], q->types[i], false, NULL};
    eng_obj_set_cols(o, q->ncols, cols);
    free(cols);
    for (int i = 0; i < q->ndeps; i++)
        eng_obj_add_dep(o, q->deps[i]);
    o->sql = strdup(sql);
    return o;
}

static int
exec_create_view(eng_session *s, const json_t *b, const char *sql, const eng_sink *sink,
                 eng_err *err)
{
    eng_coord *co = s->co;
    const char *schema, *name;
    qualified(json_object_get(b, "view"), &schema, &name);
    const char *check = eng_pg_str(b, "withCheckOption");
    if (check && strcmp(check, "NO_CHECK_OPTION") != 0)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "WITH CHECK OPTION is not supported");
    pthread_rwlock_wrlock(&co->lock);
    eng_query q;
    int rc = -1;
    bool replace = eng_pg_bool(b, "replace");
    eng_obj *old = eng_catalog_find(co->cat, schema ? schema : "public", name);
    if (old != NULL && replace) {
        pthread_rwlock_unlock(&co->lock);
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "CREATE OR REPLACE VIEW over an existing view is not supported yet");
    }
    int nf = name_free(co, schema, name, false, sink, err);
    if (nf != 0)
        goto done;
    if (bind_view_query(co, json_object_get(b, "query"), json_object_get(b, "aliases"), &q, err) !=
        0)
        goto done;
    eng_obj *o = view_obj(co, ENG_OBJ_VIEW, schema, name, &q, sql);
    o->view_rel = eng_query_rel(&q, false);
    eng_query_free(&q);
    if (add_obj(co, o, err) != 0) {
        eng_obj_free(o);
        goto done;
    }
    rc = 0;
done:
    pthread_rwlock_unlock(&co->lock);
    return rc == 0 ? ex_complete(sink, "CREATE VIEW") : -1;
}

/* Renders rel into a persistent dataflow arranged as asked. Write lock. */
static int
install_rendered(eng_coord *co, const eng_rel *rel, const eng_render_opts *opts, objrt *r,
                 eng_err *err)
{
    eng_plan *plan = eng_plan_new();
    coord_look lk = {.co = co};
    eng_render_env env = {co->client, coord_lookup_arrs, &lk};
    eng_render_result res;
    if (eng_render(rel, &env, opts, plan, &res, err) != 0) {
        eng_plan_free(plan);
        return -1;
    }
    r->df = eng_df_install(co->client, plan);
    eng_render_start(&res, co->client, r->df);
    r->has_arr = res.arrange >= 0;
    r->arr.df = r->df;
    r->arr.node = res.arrange;
    eng_render_result_free(&res);
    return 0;
}

static int
exec_create_mv(eng_session *s, const json_t *b, const char *sql, const eng_sink *sink, eng_err *err)
{
    eng_coord *co = s->co;
    const json_t *into = json_object_get(b, "into");
    const char *schema, *name;
    qualified(json_object_get(into, "rel"), &schema, &name);
    pthread_rwlock_wrlock(&co->lock);
    int rc = -1;
    eng_query q;
    int nf = name_free(co, schema, name, eng_pg_bool(b, "if_not_exists"), sink, err);
    if (nf != 0) {
        rc = nf < 0 ? -1 : 0;
        goto done;
    }
    if (bind_view_query(co, json_object_get(b, "query"), json_object_get(into, "colNames"), &q,
                        err) != 0)
        goto done;
    eng_obj *o = view_obj(co, ENG_OBJ_MATVIEW, schema, name, &q, sql);
    eng_rel *rel = eng_query_rel(&q, false);
    eng_query_free(&q);
    objrt *r = xcalloc(1, sizeof *r);
    r->co = co;
    r->input = -1;
    r->arr.key_is_row = true;
    eng_render_opts opts = {ENG_RENDER_ARRANGE_ROW, 0, NULL};
    if (install_rendered(co, rel, &opts, r, err) != 0) {
        eng_rel_free(rel);
        free(r);
        eng_obj_free(o);
        goto done;
    }
    eng_rel_free(rel);
    o->rt = r;
    o->rt_free = ex_objrt_free;
    o->arranged = true;
    if (add_obj(co, o, err) != 0) {
        eng_obj_free(o);
        goto done;
    }
    rc = 0;
done:
    pthread_rwlock_unlock(&co->lock);
    return rc == 0 ? ex_complete(sink, "CREATE MATERIALIZED VIEW") : -1;
}

static int
exec_create_index(eng_session *s, const json_t *b, const char *sql, const eng_sink *sink,
                  eng_err *err)
{
    eng_coord *co = s->co;
    const char *schema, *oname;
    qualified(json_object_get(b, "relation"), &schema, &oname);
    if (eng_pg_bool(b, "unique"))
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "UNIQUE indexes are not supported");
    if (json_object_get(b, "whereClause") != NULL)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "partial indexes are not supported");
    pthread_rwlock_wrlock(&co->lock);
    int rc = -1;
    int *keys = NULL;
    eng_obj *on = eng_catalog_find(co->cat, schema, oname);
    if (on == NULL ||
        !(on->kind == ENG_OBJ_TABLE || on->kind == ENG_OBJ_VIEW || on->kind == ENG_OBJ_MATVIEW ||
          on->kind == ENG_OBJ_SOURCE || on->kind == ENG_OBJ_SUBSOURCE)) {
        if (on == NULL)
            eng_err_set(err, ENG_ERRCODE_UNDEFINED_TABLE, "relation \"%s\" does not exist", oname);
        else
            eng_err_set(err, ENG_ERRCODE_WRONG_OBJECT_TYPE, "cannot create an index on %s \"%s\"",
                        eng_obj_kind_name(on->kind), oname);
        goto done;
    }
    json_t *params = json_object_get(b, "indexParams");
    int nkey = (int)json_array_size(params);
    keys = xcalloc((size_t)nkey + 1, sizeof *keys);
    char iname[256];
    int off = snprintf(iname, sizeof iname, "%s", on->name);
    for (int i = 0; i < nkey; i++) {
        const json_t *ib = NULL;
        eng_pg_node(json_array_get(params, (size_t)i), &ib);
        const char *cn = eng_pg_str(ib, "name");
        if (cn == NULL) {
            eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                        "indexes on expressions are not supported yet; index columns");
            goto done;
        }
        keys[i] = -1;
        for (int c = 0; c < on->ncols; c++)
            if (strcmp(on->cols[c].name, cn) == 0)
                keys[i] = c;
        if (keys[i] < 0) {
            eng_err_set(err, ENG_ERRCODE_UNDEFINED_COLUMN, "column \"%s\" does not exist", cn);
            goto done;
        }
        if (off < (int)sizeof iname)
            off += snprintf(iname + off, sizeof iname - (size_t)off, "_%s", cn);
    }
    if (nkey == 0) {
        eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "an index needs at least one column");
        goto done;
    }
    if (off < (int)sizeof iname)
        snprintf(iname + off, sizeof iname - (size_t)off, "_idx");
    const char *name = eng_pg_str(b, "idxname");
    if (name == NULL) {
        /* PostgreSQL's choice: the first free of t_a_idx, t_a_idx1, ... */
        static char buf[300];
        snprintf(buf, sizeof buf, "%s", iname);
        for (int k = 1; eng_catalog_find(co->cat, on->schema, buf) != NULL; k++)
            snprintf(buf, sizeof buf, "%s%d", iname, k);
        name = buf;
    }
    int nf = name_free(co, on->schema, name, eng_pg_bool(b, "if_not_exists"), sink, err);
    if (nf != 0) {
        rc = nf < 0 ? -1 : 0;
        goto done;
    }
    eng_obj *o = eng_obj_new(coord_new_id(co), ENG_OBJ_INDEX, on->schema, name);
    o->on_id = on->id;
    o->nkey = nkey;
    o->key = xcalloc((size_t)nkey, sizeof *o->key);
    memcpy(o->key, keys, (size_t)nkey * sizeof *keys);
    eng_obj_add_dep(o, on->id);
    o->sql = strdup(sql);
    eng_rel *rel;
    if (on->kind == ENG_OBJ_VIEW && !on->arranged) {
        rel = eng_rel_copy(on->view_rel);
    } else {
        eng_type *types = xcalloc((size_t)on->ncols, sizeof *types);
        for (int c = 0; c < on->ncols; c++)
            types[c] = on->cols[c].type;
        rel = eng_rel_get(on->id, on->name, on->ncols, types);
        free(types);
    }
    objrt *r = xcalloc(1, sizeof *r);
    r->co = co;
    r->input = -1;
    r->keycols = xcalloc((size_t)nkey, sizeof *r->keycols);
    memcpy(r->keycols, keys, (size_t)nkey * sizeof *keys);
    r->arr.key_is_row = false;
    r->arr.nkey = nkey;
    r->arr.keycols = r->keycols;
    eng_render_opts opts = {ENG_RENDER_ARRANGE_KEYS, nkey, keys};
    if (install_rendered(co, rel, &opts, r, err) != 0) {
        eng_rel_free(rel);
        free(r->keycols);
        free(r);
        eng_obj_free(o);
        goto done;
    }
    eng_rel_free(rel);
    o->rt = r;
    o->rt_free = ex_objrt_free;
    if (add_obj(co, o, err) != 0) {
        eng_obj_free(o);
        goto done;
    }
    if (on->kind == ENG_OBJ_VIEW)
        on->arranged = true;
    rc = 0;
done:
    free(keys);
    pthread_rwlock_unlock(&co->lock);
    return rc == 0 ? ex_complete(sink, "CREATE INDEX") : -1;
}

static eng_obj_kind
drop_kind(const char *t, const char **word)
{
    if (strcmp(t, "OBJECT_TABLE") == 0)
        return *word = "table", ENG_OBJ_TABLE;
    if (strcmp(t, "OBJECT_VIEW") == 0)
        return *word = "view", ENG_OBJ_VIEW;
    if (strcmp(t, "OBJECT_MATVIEW") == 0)
        return *word = "materialized view", ENG_OBJ_MATVIEW;
    if (strcmp(t, "OBJECT_INDEX") == 0)
        return *word = "index", ENG_OBJ_INDEX;
    if (strcmp(t, "OBJECT_SCHEMA") == 0)
        return *word = "schema", ENG_OBJ_SCHEMA;
    *word = NULL;
    return ENG_OBJ_SYSTEM;
}

/* After removing index idx: a view it indexed may no longer be arranged. */
static void
view_unindexed(eng_coord *co, uint64_t view_id)
{
    eng_obj *v = eng_catalog_get(co->cat, view_id);
    if (v == NULL || v->kind != ENG_OBJ_VIEW)
        return;
    int n = eng_catalog_count(co->cat);
    for (int i = 0; i < n; i++) {
        eng_obj *x = eng_catalog_at(co->cat, i);
        if (x->kind == ENG_OBJ_INDEX && x->on_id == view_id)
            return;
    }
    v->arranged = false;
}

/* Objects that go with o without CASCADE: its indexes (as in PostgreSQL)
 * and a source's subsources. */
static bool
part_of(const eng_obj *d, const eng_obj *o)
{
    return (d->kind == ENG_OBJ_INDEX || d->kind == ENG_OBJ_SUBSOURCE) && d->on_id == o->id;
}

/* Drops object o and (cascade) what depends on it. Write lock held. */
int
ex_drop_obj(eng_coord *co, eng_obj *o, bool cascade, const eng_sink *sink, eng_err *err)
{
    uint64_t *deps = NULL;
    int nd = eng_catalog_dependents(co->cat, o->id, &deps);
    /* Indexes of o go with it, as in PostgreSQL. */
    int blocking = 0;
    eng_obj *first = NULL;
    for (int i = 0; i < nd; i++) {
        eng_obj *d = eng_catalog_get(co->cat, deps[i]);
        if (part_of(d, o))
            continue;
        if (first == NULL)
            first = d;
        blocking++;
    }
    if (blocking > 0 && !cascade) {
        eng_err_set(err, ENG_ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST,
                    "cannot drop %s %s because other objects depend on it",
                    eng_obj_kind_name(o->kind), o->name);
        eng_err_detail(err, "%s %s depends on %s %s", eng_obj_kind_name(first->kind), first->name,
                       eng_obj_kind_name(o->kind), o->name);
        eng_err_hint(err, "Use DROP ... CASCADE to drop the dependent objects too.");
        free(deps);
        return -1;
    }
    for (int i = 0; i < nd; i++) {
        eng_obj *d = eng_catalog_get(co->cat, deps[i]);
        if (d == NULL)
            continue;
        if (!part_of(d, o))
            ex_notice(sink, "drop cascades to %s %s", eng_obj_kind_name(d->kind), d->name);
        uint64_t on = d->kind == ENG_OBJ_INDEX ? d->on_id : 0;
        if (eng_catalog_remove(co->cat, deps[i], err) != 0) {
            free(deps);
            return -1;
        }
        if (on)
            view_unindexed(co, on);
    }
    free(deps);
    uint64_t on = o->kind == ENG_OBJ_INDEX ? o->on_id : 0;
    if (eng_catalog_remove(co->cat, o->id, err) != 0)
        return -1;
    if (on)
        view_unindexed(co, on);
    return 0;
}

static int
exec_drop(eng_session *s, const json_t *b, const eng_sink *sink, eng_err *err)
{
    eng_coord *co = s->co;
    const char *word;
    const char *rt = eng_pg_str(b, "removeType");
    eng_obj_kind kind = drop_kind(rt ? rt : "", &word);
    if (word == NULL)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "DROP %s is not supported",
                           rt ? rt + 7 : "?");
    bool cascade = strcmp(eng_pg_str(b, "behavior") ?: "", "DROP_CASCADE") == 0;
    bool missing_ok = eng_pg_bool(b, "missing_ok");
    json_t *objs = json_object_get(b, "objects");
    pthread_rwlock_wrlock(&co->lock);
    int rc = 0;
    for (size_t i = 0; i < json_array_size(objs) && rc == 0; i++) {
        const json_t *ob = json_array_get(objs, i);
        const char *schema = NULL, *name = NULL;
        const json_t *lb = NULL;
        const char *k = eng_pg_node(ob, &lb);
        if (k != NULL && strcmp(k, "List") == 0) {
            json_t *items = json_object_get(lb, "items");
            size_t n = json_array_size(items);
            name = eng_pg_strnode(json_array_get(items, n - 1));
            if (n >= 2)
                schema = eng_pg_strnode(json_array_get(items, n - 2));
        } else {
            name = eng_pg_strnode(ob);
        }
        if (name == NULL) {
            rc = eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "malformed DROP");
            break;
        }
        if (kind == ENG_OBJ_SCHEMA) {
            eng_obj *sch = NULL;
            int n = eng_catalog_count(co->cat);
            for (int j = 0; j < n; j++) {
                eng_obj *x = eng_catalog_at(co->cat, j);
                if (x->kind == ENG_OBJ_SCHEMA && strcmp(x->name, name) == 0)
                    sch = x;
            }
            if (sch == NULL) {
                if (eng_catalog_schema_exists(co->cat, name))
                    rc = eng_err_set(err, ENG_ERRCODE_INSUFFICIENT_PRIVILEGE,
                                     "cannot drop schema %s because it is required by the system",
                                     name);
                else if (missing_ok)
                    ex_notice(sink, "schema \"%s\" does not exist, skipping", name);
                else
                    rc = eng_err_set(err, ENG_ERRCODE_INVALID_SCHEMA_NAME,
                                     "schema \"%s\" does not exist", name);
                continue;
            }
            /* Its objects, newest first. */
            for (int j = eng_catalog_count(co->cat) - 1; j >= 0 && rc == 0; j--) {
                eng_obj *x = eng_catalog_at(co->cat, j);
                if (x == NULL || x->kind == ENG_OBJ_SCHEMA || strcmp(x->schema, name) != 0)
                    continue;
                if (!cascade) {
                    rc = eng_err_set(err, ENG_ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST,
                                     "cannot drop schema %s because other objects depend on it",
                                     name);
                    eng_err_hint(err, "Use DROP ... CASCADE to drop the dependent objects too.");
                    break;
                }
                rc = ex_drop_obj(co, x, true, sink, err);
                j = eng_catalog_count(co->cat);
            }
            if (rc == 0)
                rc = eng_catalog_remove(co->cat, sch->id, err);
            continue;
        }
        eng_obj *o = eng_catalog_find(co->cat, schema, name);
        if (o == NULL || o->kind == ENG_OBJ_SCHEMA) {
            if (missing_ok)
                ex_notice(sink, "%s \"%s\" does not exist, skipping", word, name);
            else
                rc = eng_err_set(err, ENG_ERRCODE_UNDEFINED_TABLE, "%s \"%s\" does not exist", word,
                                 name);
            continue;
        }
        if (o->kind != kind) {
            rc = eng_err_set(err, ENG_ERRCODE_WRONG_OBJECT_TYPE, "\"%s\" is not a %s", name, word);
            if (o->kind == ENG_OBJ_TABLE || o->kind == ENG_OBJ_VIEW || o->kind == ENG_OBJ_MATVIEW ||
                o->kind == ENG_OBJ_INDEX)
                eng_err_hint(err, "Use DROP %s to remove a %s.",
                             o->kind == ENG_OBJ_TABLE   ? "TABLE"
                             : o->kind == ENG_OBJ_VIEW  ? "VIEW"
                             : o->kind == ENG_OBJ_INDEX ? "INDEX"
                                                        : "MATERIALIZED VIEW",
                             eng_obj_kind_name(o->kind));
            continue;
        }
        if (o->kind == ENG_OBJ_SYSTEM) {
            rc = eng_err_set(err, ENG_ERRCODE_INSUFFICIENT_PRIVILEGE,
                             "cannot drop %s because it is required by the system", name);
            continue;
        }
        rc = ex_drop_obj(co, o, cascade, sink, err);
    }
    pthread_rwlock_unlock(&co->lock);
    if (rc != 0)
        return -1;
    char tag[64];
    snprintf(tag, sizeof tag, "DROP %s", word);
    for (char *p = tag; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return ex_complete(sink, "%s", tag);
}

static int
exec_create_schema(eng_session *s, const json_t *b, const char *sql, const eng_sink *sink,
                   eng_err *err)
{
    eng_coord *co = s->co;
    const char *name = eng_pg_str(b, "schemaname");
    if (name == NULL)
        return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "CREATE SCHEMA needs a name");
    if (json_object_get(b, "schemaElts") != NULL)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "CREATE SCHEMA with elements is not supported");
    pthread_rwlock_wrlock(&co->lock);
    int rc = 0;
    if (eng_catalog_schema_exists(co->cat, name)) {
        if (eng_pg_bool(b, "if_not_exists"))
            ex_notice(sink, "schema \"%s\" already exists, skipping", name);
        else
            rc = eng_err_set(err, ENG_ERRCODE_DUPLICATE_SCHEMA, "schema \"%s\" already exists",
                             name);
    } else {
        eng_obj *o = eng_obj_new(coord_new_id(co), ENG_OBJ_SCHEMA, NULL, name);
        o->sql = strdup(sql);
        rc = add_obj(co, o, err);
        if (rc != 0)
            eng_obj_free(o);
    }
    pthread_rwlock_unlock(&co->lock);
    return rc == 0 ? ex_complete(sink, "CREATE SCHEMA") : -1;
}

static int
exec_explain(eng_session *s, const json_t *b, const eng_sink *sink, eng_err *err)
{
    eng_coord *co = s->co;
    const json_t *qb = NULL;
    const char *k = eng_pg_node(json_object_get(b, "query"), &qb);
    if (k == NULL || strcmp(k, "SelectStmt") != 0)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "EXPLAIN of %s is not supported",
                           k ? k : "this statement");
    pthread_rwlock_rdlock(&co->lock);
    eng_bind_env env = {co->cat, NULL, ex_now_us()};
    eng_query q;
    int rc = eng_bind_select(&env, qb, &q, err);
    if (rc == 0) {
        eng_rel *rel = eng_query_rel(&q, true);
        eng_strbuf sb = {0};
        eng_rel_explain(rel, &sb);
        if (q.norder > 0 || q.limit >= 0) {
            eng_strbuf_puts(&sb, "Finish order_by=[");
            for (int i = 0; i < q.norder; i++)
                eng_strbuf_printf(&sb, "%s#%d%s", i ? ", " : "", q.order[i].col,
                                  q.order[i].desc ? " desc" : " asc");
            eng_strbuf_puts(&sb, "]");
            if (q.limit >= 0)
                eng_strbuf_printf(&sb, " limit=%lld", (long long)q.limit);
            if (q.offset > 0)
                eng_strbuf_printf(&sb, " offset=%lld", (long long)q.offset);
            eng_strbuf_puts(&sb, "\n");
        }
        const char *names[1] = {"Optimized Plan"};
        const char *cells[1] = {eng_strbuf_cstr(&sb)};
        rc = ex_text_result(sink, 1, names, 1, cells, "EXPLAIN");
        eng_strbuf_free(&sb);
        eng_rel_free(rel);
        eng_query_free(&q);
    }
    pthread_rwlock_unlock(&co->lock);
    return rc;
}

static int
exec_copy(eng_session *s, const json_t *b, const eng_sink *sink, eng_err *err)
{
    if (eng_pg_bool(b, "is_from"))
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "COPY FROM is not supported yet");
    if (eng_pg_str(b, "filename") != NULL)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "COPY to a file is not supported; use COPY ... TO STDOUT");
    if (json_object_get(b, "options") != NULL)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "COPY options are not supported yet");
    eng_coord *co = s->co;
    pthread_rwlock_rdlock(&co->lock);
    eng_bind_env env = {co->cat, NULL, ex_now_us()};
    eng_query q;
    int rc;
    const json_t *query = json_object_get(b, "query");
    if (query != NULL) {
        const json_t *qb = NULL;
        const char *k = eng_pg_node(query, &qb);
        if (k == NULL || strcmp(k, "SelectStmt") != 0) {
            pthread_rwlock_unlock(&co->lock);
            return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "COPY (%s) is not supported",
                               k ? k : "?");
        }
        rc = eng_bind_select(&env, qb, &q, err);
    } else {
        /* COPY t TO STDOUT = COPY (SELECT * FROM t) TO STDOUT */
        const char *schema, *name;
        qualified(json_object_get(b, "relation"), &schema, &name);
        char sql[512];
        snprintf(sql, sizeof sql, "SELECT * FROM %s%s\"%s\"", schema ? schema : "",
                 schema ? "." : "", name ? name : "");
        PgQueryParseResult r = pg_query_parse(sql);
        json_t *root = r.error ? NULL : json_loads(r.parse_tree, 0, NULL);
        pg_query_free_parse_result(r);
        const json_t *sb = NULL;
        if (root != NULL)
            eng_pg_node(json_object_get(json_array_get(json_object_get(root, "stmts"), 0), "stmt"),
                        &sb);
        rc = sb ? eng_bind_select(&env, sb, &q, err)
                : eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "bad COPY relation");
        json_decref(root);
    }
    if (rc != 0) {
        pthread_rwlock_unlock(&co->lock);
        return -1;
    }
    rc = ex_query(s, &q, sink, true, err); /* releases the lock */
    eng_query_free(&q);
    return rc;
}

/* ------------------------------------------------------------------ session statements */

static const char *
var_get(eng_session *s, const char *name)
{
    for (int i = 0; i < s->nvars; i++)
        if (strcasecmp(s->vars[i].name, name) == 0)
            return s->vars[i].value;
    static const struct {
        const char *name, *value;
    } defaults[] = {
        {"server_version", "15.0 (Sluice)"},
        {"server_version_num", "150000"},
        {"client_encoding", "UTF8"},
        {"server_encoding", "UTF8"},
        {"datestyle", "ISO, MDY"},
        {"timezone", "UTC"},
        {"intervalstyle", "postgres"},
        {"standard_conforming_strings", "on"},
        {"transaction_isolation", "strict serializable"},
        {"search_path", "public"},
        {"database", "materialize"},
        {"cluster", "default"},
        {"application_name", ""},
        {"extra_float_digits", "1"},
        {"integer_datetimes", "on"},
        {"max_identifier_length", "63"},
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (strcasecmp(defaults[i].name, name) == 0)
            return defaults[i].value;
    return NULL;
}

static void
var_set(eng_session *s, const char *name, const char *value)
{
    for (int i = 0; i < s->nvars; i++)
        if (strcasecmp(s->vars[i].name, name) == 0) {
            free(s->vars[i].value);
            s->vars[i].value = strdup(value);
            return;
        }
    s->vars = realloc(s->vars, (size_t)(s->nvars + 1) * sizeof *s->vars);
    ENG_ASSERT(s->vars != NULL);
    s->vars[s->nvars].name = strdup(name);
    s->vars[s->nvars].value = strdup(value);
    s->nvars++;
}

static int
exec_set(eng_session *s, const json_t *b, const eng_sink *sink, eng_err *err)
{
    const char *kind = eng_pg_str(b, "kind") ?: "";
    const char *name = eng_pg_str(b, "name");
    if (strcmp(kind, "VAR_SET_VALUE") == 0 && name != NULL) {
        json_t *args = json_object_get(b, "args");
        eng_strbuf sb = {0};
        for (size_t i = 0; i < json_array_size(args); i++) {
            const json_t *ab = NULL;
            eng_pg_node(json_array_get(args, i), &ab);
            json_t *v;
            if (i)
                eng_strbuf_puts(&sb, ", ");
            if ((v = json_object_get(ab, "sval")) != NULL)
                eng_strbuf_puts(&sb, eng_pg_str(v, "sval") ?: "");
            else if ((v = json_object_get(ab, "ival")) != NULL)
                eng_strbuf_printf(&sb, "%lld",
                                  (long long)json_integer_value(json_object_get(v, "ival")));
            else if ((v = json_object_get(ab, "fval")) != NULL)
                eng_strbuf_puts(&sb, eng_pg_str(v, "fval") ?: "");
            else if ((v = json_object_get(ab, "boolval")) != NULL)
                eng_strbuf_puts(&sb, eng_pg_bool(v, "boolval") ? "on" : "off");
        }
        if (strcasecmp(name, "timezone") == 0 && strcasecmp(eng_strbuf_cstr(&sb), "UTC") != 0 &&
            strcasecmp(eng_strbuf_cstr(&sb), "+00:00") != 0) {
            eng_strbuf_free(&sb);
            return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "TimeZone can only be UTC");
        }
        var_set(s, name, eng_strbuf_cstr(&sb));
        eng_strbuf_free(&sb);
    } else if (strcmp(kind, "VAR_RESET") == 0 && name != NULL) {
        for (int i = 0; i < s->nvars; i++)
            if (strcasecmp(s->vars[i].name, name) == 0) {
                free(s->vars[i].value);
                free(s->vars[i].name);
                s->vars[i] = s->vars[--s->nvars];
                break;
            }
    }
    (void)sink;
    return ex_complete(sink, strcmp(kind, "VAR_RESET") == 0 ? "RESET" : "SET");
}

static int
exec_show_var(eng_session *s, const char *name, const eng_sink *sink, eng_err *err)
{
    const char *v = var_get(s, name);
    if (v == NULL)
        return eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT,
                           "unrecognized configuration parameter \"%s\"", name);
    const char *names[1] = {name};
    const char *cells[1] = {v};
    return ex_text_result(sink, 1, names, 1, cells, "SHOW");
}

static int
exec_txn(eng_session *s, const json_t *b, const eng_sink *sink, eng_err *err)
{
    const char *k = eng_pg_str(b, "kind") ?: "";
    (void)err;
    if (strcmp(k, "TRANS_STMT_BEGIN") == 0 || strcmp(k, "TRANS_STMT_START") == 0) {
        if (s->txn != 'I')
            ex_notice(sink, "there is already a transaction in progress");
        s->txn = 'T';
        return ex_complete(sink,
                           strcmp(k, "TRANS_STMT_BEGIN") == 0 ? "BEGIN" : "START TRANSACTION");
    }
    if (strcmp(k, "TRANS_STMT_COMMIT") == 0) {
        if (s->txn == 'I')
            ex_notice(sink, "there is no transaction in progress");
        bool failed = s->txn == 'E';
        s->txn = 'I';
        return ex_complete(sink, failed ? "ROLLBACK" : "COMMIT");
    }
    if (strcmp(k, "TRANS_STMT_ROLLBACK") == 0) {
        if (s->txn == 'I')
            ex_notice(sink, "there is no transaction in progress");
        s->txn = 'I';
        return ex_complete(sink, "ROLLBACK");
    }
    return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "%s is not supported", k);
}

/* ------------------------------------------------------------------ dispatch */

/* Runs one parsed statement (the body of its node). sql: its text. */
int
ex_stmt(eng_session *s, const char *type, const json_t *b, const char *sql, eng_bind_params *params,
        const eng_sink *sink, eng_err *err)
{
    if (s->txn == 'E' && strcmp(type, "TransactionStmt") != 0)
        return eng_err_set(err, ENG_ERRCODE_IN_FAILED_SQL_TRANSACTION,
                           "current transaction is aborted, commands ignored until end of "
                           "transaction block");
    if (strcmp(type, "SelectStmt") == 0)
        return exec_select(s, b, sink, params, err);
    if (strcmp(type, "InsertStmt") == 0)
        return exec_dml(s, "INSERT", b, sink, params, err);
    if (strcmp(type, "UpdateStmt") == 0)
        return exec_dml(s, "UPDATE", b, sink, params, err);
    if (strcmp(type, "DeleteStmt") == 0)
        return exec_dml(s, "DELETE", b, sink, params, err);
    if (strcmp(type, "CreateStmt") == 0)
        return exec_create_table(s, b, sql, sink, err);
    if (strcmp(type, "ViewStmt") == 0)
        return exec_create_view(s, b, sql, sink, err);
    if (strcmp(type, "CreateTableAsStmt") == 0) {
        const char *ot = eng_pg_str(b, "objtype") ?: "";
        if (strcmp(ot, "OBJECT_MATVIEW") == 0)
            return exec_create_mv(s, b, sql, sink, err);
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "CREATE TABLE AS is not supported; use CREATE MATERIALIZED VIEW");
    }
    if (strcmp(type, "IndexStmt") == 0)
        return exec_create_index(s, b, sql, sink, err);
    if (strcmp(type, "DropStmt") == 0)
        return exec_drop(s, b, sink, err);
    if (strcmp(type, "CreateSchemaStmt") == 0)
        return exec_create_schema(s, b, sql, sink, err);
    if (strcmp(type, "ExplainStmt") == 0)
        return exec_explain(s, b, sink, err);
    if (strcmp(type, "CopyStmt") == 0)
        return exec_copy(s, b, sink, err);
    if (strcmp(type, "TransactionStmt") == 0)
        return exec_txn(s, b, sink, err);
    if (strcmp(type, "VariableSetStmt") == 0)
        return exec_set(s, b, sink, err);
    if (strcmp(type, "VariableShowStmt") == 0) {
        const char *name = eng_pg_str(b, "name") ?: "";
        char buf[64];
        snprintf(buf, sizeof buf, "SHOW %s", name);
        if (ex_dialect_is_show(buf))
            return ex_dialect(s, buf, sink, err);
        return exec_show_var(s, name, sink, err);
    }
    if (strcmp(type, "DiscardStmt") == 0 || strcmp(type, "DeallocateStmt") == 0)
        return ex_complete(sink, strcmp(type, "DiscardStmt") == 0 ? "DISCARD ALL" : "DEALLOCATE");
    eng_sql_stmt cls;
    char tag[ENG_SQL_TAG_MAX];
    snprintf(tag, sizeof tag, "%s", type);
    if (eng_sql_classify(sql, &cls, NULL) == 0)
        snprintf(tag, sizeof tag, "%s", cls.tag);
    return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "%s is not supported", tag);
}

/* libpg_query 15-4.0.0's JSON output drops negative integer constants
 * (-7 comes out as an A_Const with an empty ival). Restores them from the
 * statement text at the constant's location. */
static void
fix_consts(json_t *node, const char *sql, size_t len)
{
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v) fix_consts(v, sql, len);
        return;
    }
    if (!json_is_object(node))
        return;
    json_t *ac = json_object_get(node, "A_Const");
    if (ac != NULL) {
        json_t *iv = json_object_get(ac, "ival");
        json_t *loc = json_object_get(ac, "location");
        if (json_is_object(iv) && json_object_get(iv, "ival") == NULL && json_is_integer(loc)) {
            json_int_t l = json_integer_value(loc);
            if (l >= 0 && (size_t)l < len) {
                long long v = strtoll(sql + l, NULL, 10);
                if (v != 0)
                    json_object_set_new(iv, "ival", json_integer(v));
            }
        }
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach(node, key, v) fix_consts(v, sql, len);
}

/* Parses one statement's text. On success *root owns the JSON and
 * *type and *body point into it. */
int
ex_parse(const char *sql, json_t **root, const char **type, const json_t **body, eng_err *err)
{
    PgQueryParseResult r = pg_query_parse(sql);
    if (r.error != NULL) {
        eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "%s", r.error->message);
        err->position = r.error->cursorpos;
        pg_query_free_parse_result(r);
        return -1;
    }
    json_error_t je;
    *root = json_loads(r.parse_tree, 0, &je);
    pg_query_free_parse_result(r);
    if (*root == NULL)
        return eng_err_set(err, ENG_ERRCODE_INTERNAL_ERROR, "parse tree: %s", je.text);
    fix_consts(*root, sql, strlen(sql));
    json_t *stmts = json_object_get(*root, "stmts");
    if (json_array_size(stmts) != 1) {
        json_decref(*root);
        *root = NULL;
        if (json_array_size(stmts) == 0) {
            *type = NULL;
            return 0;
        }
        return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR,
                           "cannot insert multiple commands into a prepared statement");
    }
    *type = eng_pg_node(json_object_get(json_array_get(stmts, 0), "stmt"), body);
    return 0;
}

static int
run_one(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err)
{
    if (ex_subscribe_match(sql))
        return ex_subscribe(s, sql, sink, err);
    if (ex_dialect_match(sql))
        return ex_dialect(s, sql, sink, err);
    if (ex_psql_match(sql))
        return ex_psql(s, sql, sink, err);
    size_t len = strlen(sql);
    uint64_t h = XXH3_64bits(sql, len);
    parse_ent *hit = NULL;
    for (int i = 0; i < SESS_PARSE_CACHE; i++)
        if (s->parsed[i].sql != NULL && s->parsed[i].hash == h &&
            strcmp(s->parsed[i].sql, sql) == 0)
            hit = &s->parsed[i];
    json_t *root = NULL;
    const char *type;
    const json_t *body = NULL;
    if (hit != NULL) {
        root = json_incref(hit->root);
        type = hit->type;
        body = hit->body;
    } else {
        if (ex_parse(sql, &root, &type, &body, err) != 0)
            return -1;
        if (type == NULL)
            return 0;
        if (len <= 8192) {
            parse_ent *e = &s->parsed[s->parsed_next];
            s->parsed_next = (s->parsed_next + 1) % SESS_PARSE_CACHE;
            free(e->sql);
            json_decref(e->root);
            *e = (parse_ent){h, strdup(sql), json_incref(root), type, body};
        }
    }
    int rc = ex_stmt(s, type, body, sql, NULL, sink, err);
    json_decref(root);
    return rc;
}

void
ex_parse_cache_free(eng_session *s)
{
    for (int i = 0; i < SESS_PARSE_CACHE; i++) {
        free(s->parsed[i].sql);
        json_decref(s->parsed[i].root);
        s->parsed[i] = (parse_ent){0};
    }
}

int
eng_session_run(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err)
{
    const char *p = sql;
    int rc = 0;
    int n = 0;
    s->sink = sink;
    while (*p && rc == 0) {
        const char *e = stmt_end(sql, p);
        if (!blank(p, e)) {
            char *one = xstrndup(p, (size_t)(e - p));
            rc = run_one(s, one, sink, err);
            free(one);
            if (rc != 0 && err->position > 0)
                err->position += (int)eng_utf8_strlen(sql, (size_t)(p - sql));
            if (rc != 0 && s->txn == 'T')
                s->txn = 'E';
            n++;
        }
        p = *e ? e + 1 : e;
    }
    (void)n;
    return rc;
}
