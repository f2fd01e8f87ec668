/* Prepared statements (the extended query protocol's Parse/Bind/Execute):
 * parsed once, bound at prepare time to describe parameters and result
 * columns, re-bound with the parameter values at each execution. */
#include <stdlib.h>
#include <string.h>

#include "engine/server/exec_int.h"

struct eng_prepared {
    char *sql;
    json_t *root;
    const char *type; /* NULL: empty statement; "dialect": Sluice's own */
    const json_t *body;
    int nparams;
    eng_type *ptypes;
    int ncols; /* < 0: no rows */
    char **names;
    eng_type *ctypes;
};

static void
max_param(const json_t *node, int *max)
{
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach((json_t *)node, i, v) max_param(v, max);
        return;
    }
    if (!json_is_object(node))
        return;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)node, key, v)
    {
        if (strcmp(key, "ParamRef") == 0) {
            int n = (int)json_integer_value(json_object_get(v, "number"));
            if (n > *max)
                *max = n;
        }
        max_param(v, max);
    }
}

/* A sink that only records the row description (describing SHOW/EXPLAIN
 * by running them: they have no side effects). */
typedef struct capture {
    eng_prepared *p;
} capture;

static int
cap_rowdesc(void *ctx, int ncols, char *const *names, const eng_type *types)
{
    eng_prepared *p = ((capture *)ctx)->p;
    p->ncols = ncols;
    p->names = calloc((size_t)ncols + 1, sizeof *p->names);
    p->ctypes = calloc((size_t)ncols + 1, sizeof *p->ctypes);
    ENG_ASSERT(p->names && p->ctypes);
    for (int i = 0; i < ncols; i++) {
        p->names[i] = strdup(names[i]);
        p->ctypes[i] = types[i];
    }
    return 0;
}

eng_prepared *
eng_session_prepare(eng_session *s, const char *sql, int nparams, const eng_type *param_types,
                    eng_err *err)
{
    eng_prepared *p = calloc(1, sizeof *p);
    ENG_ASSERT(p != NULL);
    p->sql = strdup(sql);
    p->ncols = -1;
    if (ex_subscribe_match(sql)) {
        p->type = "subscribe";
    } else if (ex_dialect_match(sql)) {
        p->type = "dialect";
    } else if (ex_psql_match(sql)) {
        p->type = "psql";
    } else if (ex_parse(sql, &p->root, &p->type, &p->body, err) != 0) {
        eng_prepared_free(p);
        return NULL;
    }
    int maxp = nparams;
    if (p->root != NULL)
        max_param(p->root, &maxp);
    p->nparams = maxp;
    p->ptypes = calloc((size_t)maxp + 1, sizeof *p->ptypes);
    ENG_ASSERT(p->ptypes != NULL);
    for (int i = 0; i < maxp; i++)
        p->ptypes[i] =
            i < nparams ? param_types[i] : eng_type_make(ENG_TYPE_UNKNOWN, ENG_TYPMOD_NONE);
    if (p->type == NULL)
        return p;
    eng_bind_params params = {p->nparams, p->ptypes, NULL};
    if (strcmp(p->type, "subscribe") == 0) {
        int nc;
        char *const *names;
        const eng_type *types;
        if (ex_fetch_describe(s, sql, &nc, &names, &types) == 0) {
            capture c = {p};
            cap_rowdesc(&c, nc, names, types);
        }
    } else if (strcmp(p->type, "SelectStmt") == 0) {
        pthread_rwlock_rdlock(&s->co->lock);
        eng_bind_env env = {s->co->cat, &params, ex_now_us()};
        eng_query q;
        int rc = eng_bind_select(&env, p->body, &q, err);
        if (rc == 0) {
            capture c = {p};
            cap_rowdesc(&c, q.ncols, q.names, q.types);
            eng_query_free(&q);
        }
        pthread_rwlock_unlock(&s->co->lock);
        if (rc != 0) {
            eng_prepared_free(p);
            return NULL;
        }
    } else if (strcmp(p->type, "psql") == 0) {
        /* Describing runs it: it only reads the catalog. */
        capture c = {p};
        eng_sink sink = {0};
        sink.ctx = &c;
        sink.rowdesc = cap_rowdesc;
        if (ex_psql(s, sql, &sink, err) != 0) {
            eng_prepared_free(p);
            return NULL;
        }
    } else if (strcmp(p->type, "dialect") == 0 || strcmp(p->type, "VariableShowStmt") == 0 ||
               strcmp(p->type, "ExplainStmt") == 0) {
        capture c = {p};
        eng_sink sink = {0};
        sink.ctx = &c;
        sink.rowdesc = cap_rowdesc;
        eng_err tmp;
        eng_err_clear(&tmp);
        if (strcmp(p->type, "dialect") == 0) {
            if (ex_dialect_is_show(sql) && ex_dialect(s, sql, &sink, &tmp) != 0) {
                *err = tmp;
                eng_prepared_free(p);
                return NULL;
            }
        } else if (ex_stmt(s, p->type, p->body, sql, &params, &sink, &tmp) != 0) {
            *err = tmp;
            eng_prepared_free(p);
            return NULL;
        }
    } else if (strcmp(p->type, "InsertStmt") == 0 || strcmp(p->type, "UpdateStmt") == 0 ||
               strcmp(p->type, "DeleteStmt") == 0) {
        /* Infer parameter types by binding (no execution). */
        pthread_rwlock_rdlock(&s->co->lock);
        eng_bind_env env = {s->co->cat, &params, ex_now_us()};
        eng_obj *o;
        eng_rel *rel = NULL;
        int rc = p->type[0] == 'I'   ? eng_bind_insert(&env, p->body, &o, &rel, err)
                 : p->type[0] == 'U' ? eng_bind_update(&env, p->body, &o, &rel, err)
                                     : eng_bind_delete(&env, p->body, &o, &rel, err);
        eng_rel_free(rel);
        pthread_rwlock_unlock(&s->co->lock);
        if (rc != 0) {
            eng_prepared_free(p);
            return NULL;
        }
    }
    for (int i = 0; i < p->nparams; i++)
        if (p->ptypes[i].id == ENG_TYPE_UNKNOWN)
            p->ptypes[i] = eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE);
    return p;
}

int
eng_prepared_params(const eng_prepared *p, const eng_type **types)
{
    *types = p->ptypes;
    return p->nparams;
}

int
eng_prepared_columns(const eng_prepared *p, char *const **names, const eng_type **types)
{
    *names = p->names;
    *types = p->ctypes;
    return p->ncols;
}

int
eng_prepared_execute(eng_session *s, eng_prepared *p, const eng_row *values, const eng_sink *sink,
                     eng_err *err)
{
    s->sink = sink;
    if (p->type == NULL)
        return 0;
    if (strcmp(p->type, "dialect") == 0)
        return ex_dialect(s, p->sql, sink, err);
    if (strcmp(p->type, "subscribe") == 0)
        return ex_subscribe(s, p->sql, sink, err);
    if (strcmp(p->type, "psql") == 0)
        return ex_psql(s, p->sql, sink, err);
    eng_bind_params params = {p->nparams, p->ptypes, values};
    int rc = ex_stmt(s, p->type, p->body, p->sql, &params, sink, err);
    if (rc != 0 && s->txn == 'T')
        s->txn = 'E';
    return rc;
}

void
eng_prepared_free(eng_prepared *p)
{
    if (p == NULL)
        return;
    json_decref(p->root);
    free(p->sql);
    free(p->ptypes);
    for (int i = 0; p->names && i < p->ncols; i++)
        free(p->names[i]);
    free(p->names);
    free(p->ctypes);
    free(p);
}
