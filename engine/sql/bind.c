/* Binding queries: SELECT (FROM, joins, WHERE, GROUP BY, HAVING, select
 * list, DISTINCT, ORDER BY, LIMIT), VALUES, set operations and WITH.
 *
 * Notes: a FROM clause becomes a relation plus a scope naming its columns.
 * Joins become equi-joins: equalities between the two sides are the keys
 * (cast to a common type), a condition on one side only is pushed into
 * that side (or, for the side an outer join preserves, turned into an
 * extra key that can only match when it holds), anything else is a filter
 * above an inner join. Grouped queries bind their expressions over the
 * FROM scope with aggregates registered on the side (bind_expr.c), then
 * lift them over the REDUCE's output: a subtree equal to a GROUP BY
 * expression becomes that key column; a bare FROM column left over is
 * 42803. */
#include "engine/sql/bind_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
xstrdup(const char *s)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    ENG_ASSERT(d != NULL);
    return d;
}

static void *
xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    ENG_ASSERT(p != NULL);
    return p;
}

/* ------------------------------------------------------------------ scopes */

static void
scope_free(bscope *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->cols[i].rel);
        free(s->cols[i].name);
    }
    free(s->cols);
    s->cols = NULL;
    s->n = 0;
}

static void
scope_add(bscope *s, const char *rel, const char *name, eng_type t)
{
    s->cols = realloc(s->cols, (size_t)(s->n + 1) * sizeof *s->cols);
    ENG_ASSERT(s->cols != NULL);
    s->cols[s->n] = (bcol){xstrdup(rel), xstrdup(name), t, true, s->n, false};
    s->n++;
}

static eng_type *
scope_types(const bscope *s)
{
    eng_type *t = xcalloc((size_t)s->n, sizeof *t);
    for (int i = 0; i < s->n; i++)
        t[i] = s->cols[i].type;
    return t;
}

/* Column indexes of SELECT * in order (rel NULL: all; else only that
 * relation's). Returns the count; *out new. */
static int
scope_star(const bscope *s, const char *rel, int **out)
{
    int *v = xcalloc((size_t)s->n, sizeof *v);
    int n = 0;
    for (int pos = 0; pos < s->n; pos++)
        for (int i = 0; i < s->n; i++) {
            const bcol *col = &s->cols[i];
            if (rel != NULL) {
                if (col->rel == NULL || strcmp(col->rel, rel) != 0 || col->name == NULL)
                    continue;
                /* t.* lists t's columns in t's order, hidden or not. */
                if (i != pos)
                    continue;
            } else if (!col->star || col->star_pos != pos) {
                continue;
            }
            v[n++] = i;
        }
    *out = v;
    return n;
}

static void
add_dep(bctx *c, uint64_t id)
{
    for (int i = 0; i < c->ndeps; i++)
        if (c->deps[i] == id)
            return;
    c->deps = realloc(c->deps, (size_t)(c->ndeps + 1) * sizeof *c->deps);
    ENG_ASSERT(c->deps != NULL);
    c->deps[c->ndeps++] = id;
}

/* ------------------------------------------------------------------ queries as relations */

void
eng_query_free(eng_query *q)
{
    if (q == NULL)
        return;
    eng_rel_free(q->rel);
    for (int i = 0; i < q->ncols; i++)
        free(q->names[i]);
    free(q->names);
    free(q->types);
    free(q->order);
    free(q->deps);
    memset(q, 0, sizeof *q);
}

eng_rel *
bq_query_rel(eng_query *q)
{
    return eng_query_rel(q, false);
}

eng_rel *
eng_query_rel(eng_query *q, bool keep_hidden)
{
    eng_rel *r = q->rel;
    q->rel = NULL;
    if (q->limit >= 0 || q->offset > 0) {
        op_order *ord = xcalloc((size_t)q->norder, sizeof *ord);
        memcpy(ord, q->order, (size_t)q->norder * sizeof *ord);
        r = eng_rel_topk(r, 0, NULL, q->norder, ord, q->limit, q->offset);
        free(ord);
    }
    r = eng_opt(r);
    if (r->ncols != q->ncols && !keep_hidden) {
        int *cols = xcalloc((size_t)q->ncols, sizeof *cols);
        for (int i = 0; i < q->ncols; i++)
            cols[i] = i;
        r = eng_rel_project(r, q->ncols, cols);
        free(cols);
    }
    return r;
}

/* ------------------------------------------------------------------ expressions over relations */

/* Appends exprs to rel as new columns (MAP). Takes ownership of exprs[i]
 * (not of the array). Returns the new relation or NULL (rel freed). */
static eng_rel *
map_exprs(bctx *c, eng_rel *rel, int n, eng_sx **exprs)
{
    if (n == 0)
        return rel;
    eng_sx **v = xcalloc((size_t)n, sizeof *v);
    memcpy(v, exprs, (size_t)n * sizeof *v);
    eng_rel *r = eng_rel_map(rel, n, v, c->err);
    return r;
}

static eng_rel *
project_range(eng_rel *rel, int from, int n)
{
    int *cols = xcalloc((size_t)n, sizeof *cols);
    for (int i = 0; i < n; i++)
        cols[i] = from + i;
    eng_rel *r = eng_rel_project(rel, n, cols);
    free(cols);
    return r;
}

/* Flattens AND into conjuncts (takes ownership of e). */
static void
conjuncts(eng_sx *e, eng_sx ***v, int *n, int *cap)
{
    if (e->kind == ENG_SX_CALL && e->fn == OP_AND) {
        for (int i = 0; i < e->nargs; i++) {
            conjuncts(e->args[i], v, n, cap);
            e->args[i] = NULL;
        }
        e->nargs = 0;
        eng_sx_free(e);
        return;
    }
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *v = realloc(*v, (size_t)*cap * sizeof **v);
        ENG_ASSERT(*v != NULL);
    }
    (*v)[(*n)++] = e;
}

static bool
is_true_lit(const eng_sx *e)
{
    if (e->kind != ENG_SX_LIT)
        return false;
    uint32_t pos = 0;
    return eng_row_next(e->lit, &pos).tag == ENG_TAG_TRUE;
}

/* Which sides an expression reads: bit 1 left (< nl), bit 2 right. */
static int
sides(const eng_sx *e, int nl)
{
    if (e == NULL)
        return 0;
    if (e->kind == ENG_SX_COL)
        return e->col < nl ? 1 : 2;
    int m = 0;
    for (int i = 0; i < e->nargs; i++)
        m |= sides(e->args[i], nl);
    return m;
}

/* ------------------------------------------------------------------ joins */

typedef struct keyvec {
    int n, cap;
    eng_sx **l, **r; /* over each side's own columns */
} keyvec;

static void
keys_push(keyvec *k, eng_sx *l, eng_sx *r)
{
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 4;
        k->l = realloc(k->l, (size_t)k->cap * sizeof *k->l);
        k->r = realloc(k->r, (size_t)k->cap * sizeof *k->r);
        ENG_ASSERT(k->l && k->r);
    }
    k->l[k->n] = l;
    k->r[k->n] = r;
    k->n++;
}

static void
keys_free(keyvec *k)
{
    for (int i = 0; i < k->n; i++) {
        eng_sx_free(k->l[i]);
        eng_sx_free(k->r[i]);
    }
    free(k->l);
    free(k->r);
}

/* Adds the key expressions of one side as columns where they are not
 * plain columns; fills cols[i]. Takes ownership of exprs. */
static eng_rel *
key_side(bctx *c, eng_rel *rel, int n, eng_sx **exprs, int *cols)
{
    // cppcheck-suppress [ctunullpointer, nullPointerRedundantCheck] ; callers pass a relation
    int base = rel->ncols, m = 0;
    eng_sx **add = xcalloc((size_t)n, sizeof *add);
    for (int i = 0; i < n; i++) {
        if (exprs[i]->kind == ENG_SX_COL) {
            cols[i] = exprs[i]->col;
            eng_sx_free(exprs[i]);
        } else {
            cols[i] = base + m;
            add[m++] = exprs[i];
        }
        exprs[i] = NULL;
    }
    eng_rel *r = map_exprs(c, rel, m, add);
    free(add);
    return r;
}

/* Builds l JOIN r with the ON condition `on` (over l ++ r columns; may be
 * NULL) and extra equi-keys. Output columns: l's then r's. Takes ownership
 * of l, r, on and the keys. */
static eng_rel *
make_join(bctx *c, op_join_kind kind, eng_rel *l, eng_rel *r, eng_sx *on, keyvec *keys,
          const json_t *node)
{
    int nl = l->ncols, nr = r->ncols;
    eng_sx **conj = NULL;
    int ncj = 0, capcj = 0;
    if (on != NULL)
        conjuncts(on, &conj, &ncj, &capcj);
    eng_sx **lpre = xcalloc((size_t)ncj + 1, sizeof *lpre),
           **rpre = xcalloc((size_t)ncj + 1, sizeof *rpre);
    eng_sx **resid = xcalloc((size_t)ncj + 1, sizeof *resid);
    int nlp = 0, nrp = 0, nres = 0;
    bool lpres = kind == OP_JOIN_LEFT || kind == OP_JOIN_FULL;  /* left rows preserved */
    bool rpres = kind == OP_JOIN_RIGHT || kind == OP_JOIN_FULL; /* right rows preserved */
    eng_rel *out = NULL;
    for (int i = 0; i < ncj; i++) {
        eng_sx *e = conj[i];
        conj[i] = NULL;
        if (is_true_lit(e)) {
            eng_sx_free(e);
            continue;
        }
        if (e->kind == ENG_SX_CALL && e->fn == OP_EQ && e->nargs == 2) {
            int sa = sides(e->args[0], nl), sb = sides(e->args[1], nl);
            if ((sa == 1 && sb == 2) || (sa == 2 && sb == 1)) {
                eng_sx *a = e->args[sa == 1 ? 0 : 1], *b = e->args[sa == 1 ? 1 : 0];
                e->args[0] = e->args[1] = NULL;
                eng_sx_free(e);
                eng_type t;
                if (bx_common_type(c, a->type, b->type, "JOIN", &t) != 0) {
                    eng_sx_free(a);
                    eng_sx_free(b);
                    goto fail;
                }
                eng_sx_shift(b, -nl);
                a = bx_cast_to(c, a, t);
                b = bx_cast_to(c, b, t);
                keys_push(keys, a, b);
                continue;
            }
        }
        int sd = sides(e, nl);
        if (sd == 0 || sd == 1) {
            if (!rpres) {
                lpre[nlp++] = e; /* filter the left input */
            } else {
                /* The left side is preserved: the row joins only where e
                 * holds, so make that an extra key. */
                eng_sx *args[1] = {e};
                eng_sx *k = eng_sx_call(OP_IS_TRUE, 1, args);
                k->type = eng_type_make(ENG_TYPE_BOOL, ENG_TYPMOD_NONE);
                keys_push(keys, k, eng_sx_bool(true));
            }
        } else if (sd == 2) {
            eng_sx_shift(e, -nl);
            if (!lpres) {
                rpre[nrp++] = e;
            } else {
                eng_sx *args[1] = {e};
                eng_sx *k = eng_sx_call(OP_IS_TRUE, 1, args);
                k->type = eng_type_make(ENG_TYPE_BOOL, ENG_TYPMOD_NONE);
                keys_push(keys, eng_sx_bool(true), k);
            }
        } else if (kind == OP_JOIN_INNER) {
            resid[nres++] = e;
        } else {
            eng_sx_free(e);
            bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                        "outer join conditions that compare the two sides other than by "
                        "equality are not supported yet");
            goto fail;
        }
    }
    if (nlp > 0) {
        l = eng_rel_filter(l, nlp, lpre);
        lpre = NULL;
    }
    if (nrp > 0) {
        r = eng_rel_filter(r, nrp, rpre);
        rpre = NULL;
    }
    int nk = keys->n;
    int *lk = xcalloc((size_t)nk, sizeof *lk), *rk = xcalloc((size_t)nk, sizeof *rk);
    l = key_side(c, l, nk, keys->l, lk);
    r = l ? key_side(c, r, nk, keys->r, rk) : (eng_rel_free(r), NULL);
    keys->n = 0;
    if (l == NULL || r == NULL) {
        eng_rel_free(l);
        eng_rel_free(r);
        l = r = NULL;
        free(lk);
        free(rk);
        goto fail;
    }
    int nl2 = l->ncols;
    out = eng_rel_join(kind, l, r, nk, lk, rk);
    l = r = NULL;
    free(lk);
    free(rk);
    if (nl2 != nl || out->ncols != nl + nr) {
        int *cols = xcalloc((size_t)(nl + nr), sizeof *cols);
        for (int i = 0; i < nl; i++)
            cols[i] = i;
        for (int i = 0; i < nr; i++)
            cols[nl + i] = nl2 + i;
        out = eng_rel_project(out, nl + nr, cols);
        free(cols);
    }
    if (nres > 0) {
        out = eng_rel_filter(out, nres, resid);
        resid = NULL;
    }
    free(lpre);
    free(rpre);
    free(resid);
    free(conj);
    return out;
fail:
    for (int i = 0; i < ncj; i++)
        eng_sx_free(conj[i]);
    for (int i = 0; lpre && i < nlp; i++)
        eng_sx_free(lpre[i]);
    for (int i = 0; rpre && i < nrp; i++)
        eng_sx_free(rpre[i]);
    for (int i = 0; resid && i < nres; i++)
        eng_sx_free(resid[i]);
    free(lpre);
    free(rpre);
    free(resid);
    free(conj);
    eng_rel_free(l);
    eng_rel_free(r);
    return NULL;
}

static int bind_from_item(bctx *c, const json_t *node, eng_rel **rel, bscope *s);
static void json_conjuncts(const json_t *node, const json_t ***v, int *n);
static int where_sublink(bctx *c, eng_rel **rel, const bscope *s, const json_t *node);

static int
find_unique(const bscope *s, const char *name)
{
    int f = -1;
    for (int i = 0; i < s->n; i++)
        if (!s->cols[i].hidden && s->cols[i].name && strcmp(s->cols[i].name, name) == 0) {
            if (f >= 0)
                return -2;
            f = i;
        }
    return f;
}

static int
bind_join(bctx *c, const json_t *node, const json_t *b, eng_rel **rel, bscope *s)
{
    eng_rel *l = NULL, *r = NULL;
    bscope ls = {0}, rs = {0};
    keyvec keys = {0};
    int rc = -1;
    const char *jt = eng_pg_str(b, "jointype");
    op_join_kind kind = OP_JOIN_INNER;
    if (jt == NULL || strcmp(jt, "JOIN_INNER") == 0)
        kind = OP_JOIN_INNER;
    else if (strcmp(jt, "JOIN_LEFT") == 0)
        kind = OP_JOIN_LEFT;
    else if (strcmp(jt, "JOIN_RIGHT") == 0)
        kind = OP_JOIN_RIGHT;
    else if (strcmp(jt, "JOIN_FULL") == 0)
        kind = OP_JOIN_FULL;
    else {
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "join type %s is not supported",
                    jt);
        return -1;
    }
    if (bind_from_item(c, json_object_get(b, "larg"), &l, &ls) != 0)
        goto done;
    if (bind_from_item(c, json_object_get(b, "rarg"), &r, &rs) != 0)
        goto done;
    int nl = ls.n, nr = rs.n;
    /* USING / NATURAL column pairs. */
    int nusing = 0;
    char **using = NULL;
    json_t *ul = json_object_get(b, "usingClause");
    if (eng_pg_bool(b, "isNatural")) {
        using = xcalloc((size_t)nl, sizeof *using);
        for (int i = 0; i < nl; i++) {
            if (ls.cols[i].hidden || ls.cols[i].name == NULL)
                continue;
            if (find_unique(&rs, ls.cols[i].name) >= 0)
                using[nusing++] = ls.cols[i].name;
        }
    } else if (ul != NULL) {
        using = xcalloc(json_array_size(ul), sizeof *using);
        for (size_t i = 0; i < json_array_size(ul); i++)
            using[nusing++] = (char *)eng_pg_strnode(json_array_get(ul, i));
    }
    int *lu = xcalloc((size_t)nusing, sizeof *lu), *ru = xcalloc((size_t)nusing, sizeof *ru);
    for (int i = 0; i < nusing; i++) {
        lu[i] = find_unique(&ls, using[i]);
        ru[i] = find_unique(&rs, using[i]);
        if (lu[i] < 0 || ru[i] < 0) {
            const char *side = lu[i] < 0 ? "left" : "right";
            if (lu[i] == -2 || ru[i] == -2)
                bx_error_at(c, node, ENG_ERRCODE_AMBIGUOUS_COLUMN,
                            "common column name \"%s\" appears more than once in %s table",
                            using[i], side);
            else
                bx_error_at(c, node, ENG_ERRCODE_UNDEFINED_COLUMN,
                            "column \"%s\" specified in USING clause does not exist in %s table",
                            using[i], side);
            free(lu);
            free(ru);
            free(using);
            goto done;
        }
        keys_push(&keys, eng_sx_col(lu[i], ls.cols[lu[i]].type),
                  eng_sx_col(ru[i], rs.cols[ru[i]].type));
        eng_type t;
        if (bx_common_type(c, ls.cols[lu[i]].type, rs.cols[ru[i]].type, "JOIN/USING", &t) != 0) {
            free(lu);
            free(ru);
            free(using);
            goto done;
        }
        keys.l[keys.n - 1] = bx_cast_to(c, keys.l[keys.n - 1], t);
        keys.r[keys.n - 1] = bx_cast_to(c, keys.r[keys.n - 1], t);
    }
    /* The combined scope (for ON). */
    bscope cs = {0};
    for (int i = 0; i < nl; i++)
        scope_add(&cs, ls.cols[i].rel, ls.cols[i].name, ls.cols[i].type);
    for (int i = 0; i < nr; i++)
        scope_add(&cs, rs.cols[i].rel, rs.cols[i].name, rs.cols[i].type);
    for (int i = 0; i < nl; i++)
        cs.cols[i].hidden = ls.cols[i].hidden;
    for (int i = 0; i < nr; i++)
        cs.cols[nl + i].hidden = rs.cols[i].hidden;
    eng_sx *on = NULL;
    const json_t *quals = json_object_get(b, "quals");
    if (quals != NULL && (on = bx_bool(c, &cs, quals, "JOIN/ON")) == NULL) {
        scope_free(&cs);
        free(lu);
        free(ru);
        free(using);
        goto done;
    }
    eng_rel *j = make_join(c, kind, l, r, on, &keys, node);
    l = r = NULL;
    if (j == NULL) {
        scope_free(&cs);
        free(lu);
        free(ru);
        free(using);
        goto done;
    }
    /* Output scope: USING columns merged and first in SELECT *. */
    const json_t *alias = json_object_get(b, "alias");
    const char *aname = alias ? eng_pg_str(alias, "aliasname") : NULL;
    int pos = 0;
    for (int i = 0; i < cs.n; i++)
        cs.cols[i].star_pos = -1;
    for (int i = 0; i < nusing; i++) {
        bcol *lc = &cs.cols[lu[i]], *rc2 = &cs.cols[nl + ru[i]];
        if (kind == OP_JOIN_FULL) {
            eng_sx *args[2] = {eng_sx_col(lu[i], lc->type), eng_sx_col(nl + ru[i], rc2->type)};
            eng_type t;
            bx_common_type(c, lc->type, rc2->type, "COALESCE", &t);
            args[0] = bx_cast_to(c, args[0], t);
            args[1] = bx_cast_to(c, args[1], t);
            eng_sx *co = eng_sx_call(OP_COALESCE, 2, args);
            eng_sx *m[1] = {co};
            j = map_exprs(c, j, 1, m);
            if (j == NULL) {
                scope_free(&cs);
                free(lu);
                free(ru);
                free(using);
                goto done;
            }
            scope_add(&cs, aname, using[i], j -> types[j->ncols - 1]);
            lc = &cs.cols[lu[i]];
            rc2 = &cs.cols[nl + ru[i]];
            lc->hidden = rc2->hidden = true;
            cs.cols[cs.n - 1].star_pos = pos++;
        } else {
            bcol *keep = kind == OP_JOIN_RIGHT ? rc2 : lc, *drop = kind == OP_JOIN_RIGHT ? lc : rc2;
            drop->hidden = true;
            keep->star_pos = pos++;
            if (aname) {
                free(keep->rel);
                keep->rel = xstrdup(aname);
            }
        }
    }
    for (int i = 0; i < nl + nr; i++) {
        const bcol *orig = i < nl ? &ls.cols[i] : &rs.cols[i - nl];
        bool merged = false;
        for (int u = 0; u < nusing; u++)
            merged |= (i < nl ? lu[u] == i : ru[u] == i - nl);
        if (merged)
            continue;
        if (orig->star) {
            cs.cols[i].star_pos = pos++;
            if (aname) {
                free(cs.cols[i].rel);
                cs.cols[i].rel = xstrdup(aname);
            }
        }
    }
    for (int i = 0; i < cs.n; i++)
        cs.cols[i].star = cs.cols[i].star_pos >= 0;
    free(lu);
    free(ru);
    free(using);
    *rel = j;
    *s = cs;
    rc = 0;
done:
    keys_free(&keys);
    eng_rel_free(l);
    eng_rel_free(r);
    scope_free(&ls);
    scope_free(&rs);
    return rc;
}

static int
bind_rangevar(bctx *c, const json_t *node, const json_t *b, eng_rel **rel, bscope *s)
{
    const char *schema = eng_pg_str(b, "schemaname");
    const char *name = eng_pg_str(b, "relname");
    const json_t *alias = json_object_get(b, "alias");
    const char *aname = alias ? eng_pg_str(alias, "aliasname") : NULL;
    json_t *acols = alias ? json_object_get(alias, "colnames") : NULL;
    const char *dbname = eng_pg_str(b, "catalogname");
    if (dbname != NULL && strcmp(dbname, "materialize") != 0) {
        bx_error_at(c, node, ENG_ERRCODE_UNDEFINED_TABLE, "database \"%s\" does not exist", dbname);
        return -1;
    }
    eng_rel *r = NULL;
    int ncols = 0;
    char **names = NULL;
    eng_type *types = NULL;
    if (schema == NULL) {
        for (int i = c->ncte - 1; i >= 0; i--) {
            if (strcmp(c->ctes[i].name, name) != 0)
                continue;
            eng_query *q = &c->ctes[i].q;
            eng_query copy = *q;
            copy.rel = eng_rel_copy(q->rel);
            r = bq_query_rel(&copy);
            ncols = q->ncols;
            names = q->names;
            types = q->types;
            break;
        }
    }
    eng_obj *o = NULL;
    if (r == NULL) {
        o = eng_catalog_find(c->env->cat, schema, name);
        if (o == NULL || o->kind == ENG_OBJ_SCHEMA || o->kind == ENG_OBJ_SECRET ||
            o->kind == ENG_OBJ_CONNECTION) {
            if (schema && !eng_catalog_schema_exists(c->env->cat, schema))
                bx_error_at(c, node, ENG_ERRCODE_INVALID_SCHEMA_NAME,
                            "schema \"%s\" does not exist", schema);
            else
                bx_error_at(c, node, ENG_ERRCODE_UNDEFINED_TABLE, "relation \"%s\" does not exist",
                            name);
            return -1;
        }
        if (o->kind == ENG_OBJ_INDEX) {
            bx_error_at(c, node, ENG_ERRCODE_WRONG_OBJECT_TYPE, "\"%s\" is an index", name);
            return -1;
        }
        if (o->kind == ENG_OBJ_SOURCE && o->ncols == 0) {
            bx_error_at(c, node, ENG_ERRCODE_WRONG_OBJECT_TYPE,
                        "\"%s\" is a source without columns; read its subsources", name);
            return -1;
        }
        add_dep(c, o->id);
        ncols = o->ncols;
        types = xcalloc((size_t)ncols, sizeof *types);
        for (int i = 0; i < ncols; i++)
            types[i] = o->cols[i].type;
        if (o->kind == ENG_OBJ_VIEW && !o->arranged)
            r = eng_rel_copy(o->view_rel);
        else
            r = eng_rel_get(o->id, o->name, ncols, types);
    }
    if (acols != NULL && (int)json_array_size(acols) > ncols) {
        bx_error_at(c, node, ENG_ERRCODE_INVALID_COLUMN_REFERENCE,
                    "table \"%s\" has %d columns available but %d columns specified",
                    aname ? aname : name, ncols, (int)json_array_size(acols));
        eng_rel_free(r);
        if (o)
            free(types);
        return -1;
    }
    bscope sc = {0};
    for (int i = 0; i < ncols; i++) {
        const char *cn = o ? o->cols[i].name : names[i];
        if (acols != NULL && (size_t)i < json_array_size(acols))
            cn = eng_pg_strnode(json_array_get(acols, (size_t)i));
        scope_add(&sc, aname ? aname : name, cn, types[i]);
    }
    if (o)
        free(types);
    *rel = r;
    *s = sc;
    return 0;
}

/* generate_series(start, stop [, step]) over constant integers: a CONST
 * relation of one column. */
static int
bind_rangefunc(bctx *c, const json_t *node, const json_t *b, eng_rel **rel, bscope *s)
{
    json_t *fns = json_object_get(b, "functions");
    const json_t *lb = NULL;
    eng_pg_node(json_array_get(fns, 0), &lb);
    const json_t *fc = json_array_get(json_object_get(lb, "items"), 0);
    const json_t *fb = NULL;
    const char *fk = eng_pg_node(fc, &fb);
    if (json_array_size(fns) != 1 || fk == NULL || strcmp(fk, "FuncCall") != 0 ||
        eng_pg_bool(b, "lateral") || eng_pg_bool(b, "ordinality"))
        return bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "only generate_series(start, stop [, step]) is supported in FROM");
    json_t *names = json_object_get(fb, "funcname");
    const char *fname = eng_pg_strnode(json_array_get(names, json_array_size(names) - 1));
    if (fname == NULL || strcmp(fname, "generate_series") != 0)
        return bx_error_at(c, fc, ENG_ERRCODE_UNDEFINED_FUNCTION, "function %s does not exist",
                           fname ? fname : "?");
    json_t *args = json_object_get(fb, "args");
    size_t na = json_array_size(args);
    if (na < 2 || na > 3)
        return bx_error_at(c, fc, ENG_ERRCODE_UNDEFINED_FUNCTION,
                           "function generate_series with %zu arguments does not exist", na);
    int64_t v[3] = {0, 0, 1};
    bool wide = false;
    bscope empty = {0};
    for (size_t i = 0; i < na; i++) {
        eng_sx *e = bx_expr(c, &empty, json_array_get(args, i));
        if (e == NULL)
            return -1;
        if (e->type.id == ENG_TYPE_UNKNOWN)
            bx_coerce_unknown(c, e, eng_type_make(ENG_TYPE_INT4, ENG_TYPMOD_NONE));
        if (e->type.id != ENG_TYPE_INT2 && e->type.id != ENG_TYPE_INT4 &&
            e->type.id != ENG_TYPE_INT8) {
            eng_sx_free(e);
            return bx_error_at(c, json_array_get(args, i), ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                               "generate_series is supported over integers only");
        }
        wide |= e->type.id == ENG_TYPE_INT8;
        eng_rowbuf buf = {0};
        if (!eng_sx_is_const(e) || eng_bind_fold(e, &buf, c->err) != 0) {
            if (!eng_err_isset(c->err))
                bx_error_at(c, json_array_get(args, i), ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                            "generate_series needs constant arguments");
            eng_sx_free(e);
            eng_rowbuf_free(&buf);
            return -1;
        }
        uint32_t pos = 0;
        eng_datum d = eng_row_next(eng_rowbuf_row(&buf), &pos);
        eng_sx_free(e);
        if (d.tag == ENG_TAG_NULL) {
            eng_rowbuf_free(&buf);
            v[0] = 1;
            v[1] = 0; /* NULL argument: no rows */
            v[2] = 1;
            break;
        }
        v[i] = d.tag == ENG_TAG_INT2   ? (int64_t)(int16_t)(d.ptr[0] | (d.ptr[1] << 8))
               : d.tag == ENG_TAG_INT4 ? (int64_t)eng_load_i32(d.ptr)
                                       : eng_load_i64(d.ptr);
        eng_rowbuf_free(&buf);
    }
    if (v[2] == 0)
        return bx_error_at(c, fc, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "step size cannot equal zero");
    __int128 span = ((__int128)v[1] - v[0]) / v[2];
    int64_t n = span < 0 ? 0 : (int64_t)span + 1;
    if (n > 10000000)
        return bx_error_at(c, fc, ENG_ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                           "generate_series would produce %lld rows; at most 10000000 are allowed",
                           (long long)n);
    eng_rowbuf buf = {0};
    for (int64_t i = 0; i < n; i++) {
        int64_t x = v[0] + i * v[2];
        if (wide)
            eng_push_int8(&buf, x);
        else
            eng_push_int4(&buf, (int32_t)x);
    }
    eng_row *rows = xcalloc((size_t)n + 1, sizeof *rows);
    int64_t *diffs = xcalloc((size_t)n + 1, sizeof *diffs);
    uint32_t w = wide ? 9 : 5;
    for (int64_t i = 0; i < n; i++) {
        rows[i] = (eng_row){buf.data + (size_t)i * w, w};
        diffs[i] = 1;
    }
    eng_type t = eng_type_make(wide ? ENG_TYPE_INT8 : ENG_TYPE_INT4, ENG_TYPMOD_NONE);
    *rel = eng_rel_const(1, &t, (int)n, rows, diffs);
    free(rows);
    free(diffs);
    eng_rowbuf_free(&buf);
    const json_t *alias = json_object_get(b, "alias");
    const char *aname = alias ? eng_pg_str(alias, "aliasname") : NULL;
    json_t *acols = alias ? json_object_get(alias, "colnames") : NULL;
    const char *cname = acols && json_array_size(acols) > 0
                            ? eng_pg_strnode(json_array_get(acols, 0))
                            : (aname ? aname : "generate_series");
    memset(s, 0, sizeof *s);
    scope_add(s, aname ? aname : "generate_series", cname, t);
    return 0;
}

static int
bind_from_item(bctx *c, const json_t *node, eng_rel **rel, bscope *s)
{
    const json_t *b = NULL;
    const char *t = eng_pg_node(node, &b);
    if (t == NULL)
        return bx_error_at(c, NULL, ENG_ERRCODE_SYNTAX_ERROR, "malformed FROM clause");
    if (strcmp(t, "RangeVar") == 0)
        return bind_rangevar(c, node, b, rel, s);
    if (strcmp(t, "JoinExpr") == 0)
        return bind_join(c, node, b, rel, s);
    if (strcmp(t, "RangeSubselect") == 0) {
        if (eng_pg_bool(b, "lateral"))
            return bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                               "LATERAL subqueries are not supported yet");
        eng_query q = {0};
        bctx sub = *c;
        sub.agg = NULL;
        sub.deps = NULL;
        sub.ndeps = 0;
        int src = bq_select(&sub, json_object_get(b, "subquery"), &q);
        c->ctes = sub.ctes; /* sub may have grown the shared CTE array */
        if (src != 0) {
            free(sub.deps);
            return -1;
        }
        for (int i = 0; i < sub.ndeps; i++)
            add_dep(c, sub.deps[i]);
        free(sub.deps);
        const json_t *alias = json_object_get(b, "alias");
        const char *aname = alias ? eng_pg_str(alias, "aliasname") : NULL;
        json_t *acols = alias ? json_object_get(alias, "colnames") : NULL;
        bscope sc = {0};
        for (int i = 0; i < q.ncols; i++) {
            const char *cn = q.names[i];
            if (acols != NULL && (size_t)i < json_array_size(acols))
                cn = eng_pg_strnode(json_array_get(acols, (size_t)i));
            scope_add(&sc, aname, cn, q.types[i]);
        }
        *rel = bq_query_rel(&q);
        eng_query_free(&q);
        *s = sc;
        return 0;
    }
    if (strcmp(t, "RangeFunction") == 0)
        return bind_rangefunc(c, node, b, rel, s);
    return bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "FROM item %s is not supported",
                       t);
}

static void json_conjuncts(const json_t *node, const json_t ***v, int *n);
static bool is_name_error(const eng_err *e);
static int bind_from(bctx *c, const json_t *from, eng_rel **rel, bscope *s);
static int64_t const_count(bctx *c, const json_t *node, const char *what, bool *isnull);

/* ------------------------------------------------------------------ correlation */

/* A subquery's WHERE split by correlation: the conjuncts that bind in the
 * subquery's own FROM scope (local), and the equalities `inner = outer`
 * whose inner side binds there and outer side over the outer scope. Every
 * decorrelation (EXISTS/IN, scalar subqueries, LATERAL) starts from this. */
typedef struct corr {
    int nlocal;
    const json_t **local; /* conjunct nodes, borrowed from the parse tree */
    int n;
    const json_t **inner; /* inner sides' nodes, borrowed */
    eng_sx **outer;       /* outer sides, bound (owned until taken) */
} corr;

static void
corr_free(corr *k)
{
    for (int i = 0; i < k->n; i++)
        eng_sx_free(k->outer[i]);
    free(k->local);
    free(k->inner);
    free(k->outer);
    memset(k, 0, sizeof *k);
}

/* Splits where (may be NULL). sc/ss: the subquery's context and FROM
 * scope; os: the outer scope; who names the construct in the error for a
 * correlation that is not an equality. Returns 0, or -1 with err set. */
static int
corr_split(bctx *c, const bctx *sc, const bscope *ss, const bscope *os, const json_t *where,
           const char *who, corr *k)
{
    memset(k, 0, sizeof *k);
    const json_t **cj = NULL;
    int ncj = 0;
    if (where != NULL)
        json_conjuncts(where, &cj, &ncj);
    k->local = xcalloc((size_t)ncj + 1, sizeof *k->local);
    k->inner = xcalloc((size_t)ncj + 1, sizeof *k->inner);
    k->outer = xcalloc((size_t)ncj + 1, sizeof *k->outer);
    int rc = 0;
    for (int i = 0; i < ncj && rc == 0; i++) {
        eng_err e2;
        eng_err_clear(&e2);
        bctx t2 = *sc;
        t2.err = &e2;
        eng_sx *p = bx_bool(&t2, ss, cj[i], "WHERE");
        if (p != NULL) {
            eng_sx_free(p);
            k->local[k->nlocal++] = cj[i];
            continue;
        }
        if (!is_name_error(&e2)) {
            *c->err = e2;
            rc = -1;
            break;
        }
        const json_t *ab = NULL;
        const char *at = eng_pg_node(cj[i], &ab);
        json_t *nm = at ? json_object_get(ab, "name") : NULL;
        const char *opn = nm ? eng_pg_strnode(json_array_get(nm, 0)) : NULL;
        bool ok = at && strcmp(at, "A_Expr") == 0 &&
                  strcmp(eng_pg_str(ab, "kind") ?: "", "AEXPR_OP") == 0 && opn &&
                  strcmp(opn, "=") == 0;
        eng_sx *out = NULL;
        const json_t *ie = NULL;
        for (int side = 0; ok && side < 2 && out == NULL; side++) {
            ie = json_object_get(ab, side ? "rexpr" : "lexpr");
            const json_t *oe = json_object_get(ab, side ? "lexpr" : "rexpr");
            eng_err e3;
            eng_err_clear(&e3);
            bctx t3 = *sc;
            t3.err = &e3;
            eng_sx *in = bx_expr(&t3, ss, ie);
            if (in == NULL)
                continue;
            eng_sx_free(in);
            eng_err_clear(&e3);
            bctx t4 = *c;
            t4.err = &e3;
            t4.cur_rel = NULL;
            t4.cur_scope = NULL;
            out = bx_expr(&t4, os, oe);
        }
        if (out == NULL) {
            bx_error_at(c, cj[i], ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                        "%s may refer to the outer query only in equalities (inner = outer) of "
                        "its WHERE clause",
                        who);
            rc = -1;
            break;
        }
        k->inner[k->n] = ie;
        k->outer[k->n++] = out;
    }
    free(cj);
    if (rc != 0)
        corr_free(k);
    return rc;
}

/* The parse tree of the uncorrelated query: b (copied) with only the local
 * conjuncts in WHERE and the inner sides appended to its target list.
 * Returns a new JSON object (json_decref). */
static json_t *
corr_rewrite(const json_t *b, const corr *k)
{
    json_t *copy = json_deep_copy(b);
    if (k->nlocal == 0) {
        json_object_del(copy, "whereClause");
    } else if (k->nlocal == 1) {
        json_object_set_new(copy, "whereClause", json_deep_copy(k->local[0]));
    } else {
        json_t *args = json_array();
        for (int i = 0; i < k->nlocal; i++)
            json_array_append_new(args, json_deep_copy(k->local[i]));
        json_object_set_new(
            copy, "whereClause",
            json_pack("{s:{s:s,s:o}}", "BoolExpr", "boolop", "AND_EXPR", "args", args));
    }
    json_t *tl = json_object_get(copy, "targetList");
    for (int i = 0; i < k->n; i++)
        json_array_append_new(tl, json_pack("{s:{s:O}}", "ResTarget", "val", k->inner[i]));
    return copy;
}

/* `left, LATERAL (SELECT ... FROM ... WHERE inner = outer AND ... [ORDER BY
 * ...] [LIMIT k])`: decorrelated like a correlated subquery. The equalities
 * with the outer side become join keys, the subquery also returns its side
 * of them, its ORDER BY / LIMIT become a TOPK per key, and the result is
 * joined onto `left` (an inner join: rows of `left` without a match drop,
 * as in PostgreSQL). Extends *ls with the subquery's columns. Takes
 * ownership of left; returns the joined relation or NULL (left freed). */
static eng_rel *
bind_lateral(bctx *c, eng_rel *left, bscope *ls, const json_t *node, const json_t *rb)
{
    const json_t *sel = json_object_get(rb, "subquery");
    const json_t *b = NULL;
    eng_pg_node(sel, &b);
    if (b == NULL)
        b = sel;
    const char *op = eng_pg_str(b, "op");
    if ((op && strcmp(op, "SETOP_NONE") != 0) || json_object_get(b, "groupClause") ||
        json_object_get(b, "havingClause") || json_object_get(b, "distinctClause") ||
        json_object_get(b, "withClause") || bx_has_agg(json_object_get(b, "targetList"))) {
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                    "LATERAL subqueries with grouping, DISTINCT, WITH or set operations are not "
                    "supported yet");
        eng_rel_free(left);
        return NULL;
    }
    eng_rel *srel = NULL;
    bscope ss = {0};
    bctx sc = *c;
    sc.agg = NULL;
    sc.win = NULL;
    sc.cur_rel = NULL;
    sc.cur_scope = NULL;
    sc.deps = NULL;
    sc.ndeps = 0;
    if (bind_from(&sc, json_object_get(b, "fromClause"), &srel, &ss) != 0) {
        free(sc.deps);
        eng_rel_free(left);
        return NULL;
    }
    eng_rel_free(srel);
    free(sc.deps);
    corr k;
    eng_rel *res = NULL;
    eng_query q = {0};
    int64_t limit = -1, offset = 0;
    json_t *copy = NULL;
    if (corr_split(c, &sc, &ss, ls, json_object_get(b, "whereClause"), "a LATERAL subquery", &k) !=
        0) {
        scope_free(&ss);
        eng_rel_free(left);
        return NULL;
    }
    eng_sx **outer = k.outer;
    int nk = k.n;
    if (nk == 0) {
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                    "LATERAL without a correlation is a cross join: drop LATERAL");
        goto done;
    }
    /* The uncorrelated query: local conjuncts; targets ++ inner keys; no
     * LIMIT (it becomes a TOPK per key below). */
    int nvis = (int)json_array_size(json_object_get(b, "targetList"));
    copy = corr_rewrite(b, &k);
    bool isnull;
    if (json_object_get(b, "limitCount") != NULL) {
        limit = const_count(c, json_object_get(b, "limitCount"), "LIMIT", &isnull);
        if (limit < 0 && !isnull)
            goto done;
        if (isnull)
            limit = -1;
    }
    if (json_object_get(b, "limitOffset") != NULL) {
        offset = const_count(c, json_object_get(b, "limitOffset"), "OFFSET", &isnull);
        if (offset < 0)
            goto done;
    }
    json_object_del(copy, "limitCount");
    json_object_del(copy, "limitOffset");
    bctx sub = *c;
    sub.cur_rel = NULL;
    sub.cur_scope = NULL;
    sub.agg = NULL;
    sub.win = NULL;
    sub.deps = NULL;
    sub.ndeps = 0;
    int rc = bq_select(&sub, copy, &q);
    for (int i = 0; i < sub.ndeps; i++)
        add_dep(c, sub.deps[i]);
    free(sub.deps);
    if (rc != 0)
        goto done;
    /* rel: visible targets, inner keys, then hidden sort columns. */
    int norder = q.norder;
    op_order *order = xcalloc((size_t)norder + 1, sizeof *order);
    memcpy(order, q.order, (size_t)norder * sizeof *order);
    q.limit = -1;
    q.offset = 0;
    eng_rel *r = eng_query_rel(&q, true);
    if (limit >= 0 || offset > 0) {
        int *g = xcalloc((size_t)nk + 1, sizeof *g);
        for (int i = 0; i < nk; i++)
            g[i] = nvis + i;
        r = eng_rel_topk(r, nk, g, norder, order, limit, offset);
        free(g);
    }
    free(order);
    r = project_range(r, 0, nvis + nk);
    keyvec keys = {0};
    for (int i = 0; i < nk; i++) {
        eng_type t;
        if (bx_common_type(c, outer[i]->type, r->types[nvis + i], "=", &t) != 0) {
            keys_free(&keys);
            eng_rel_free(r);
            goto done;
        }
        keys_push(&keys, bx_cast_to(c, outer[i], t),
                  bx_cast_to(c, eng_sx_col(nvis + i, r->types[nvis + i]), t));
        outer[i] = NULL;
    }
    int nl = left->ncols;
    res = make_join(c, OP_JOIN_INNER, left, r, NULL, &keys, node);
    left = NULL;
    keys_free(&keys);
    if (res == NULL)
        goto done;
    /* Scope: the subquery's targets under its alias; keys hidden. */
    const json_t *alias = json_object_get(rb, "alias");
    const char *aname = alias ? eng_pg_str(alias, "aliasname") : NULL;
    json_t *acols = alias ? json_object_get(alias, "colnames") : NULL;
    int maxpos = -1;
    for (int j = 0; j < ls->n; j++)
        if (ls->cols[j].star_pos > maxpos)
            maxpos = ls->cols[j].star_pos;
    for (int i = 0; i < nvis + nk; i++) {
        const char *cn = i < nvis ? q.names[i] : NULL;
        if (i < nvis && acols != NULL && (size_t)i < json_array_size(acols))
            cn = eng_pg_strnode(json_array_get(acols, (size_t)i));
        scope_add(ls, aname, cn, res->types[nl + i]);
        bcol *col = &ls->cols[ls->n - 1];
        col->star = i < nvis;
        col->star_pos = i < nvis ? maxpos + 1 + i : -1;
        col->hidden = i >= nvis;
    }
done:
    eng_rel_free(left);
    eng_query_free(&q);
    corr_free(&k);
    json_decref(copy);
    scope_free(&ss);
    return res;
}

/* FROM a, b, c: a cross join of the items. No FROM: one empty row. */
static int
bind_from(bctx *c, const json_t *from, eng_rel **rel, bscope *s)
{
    size_t n = json_array_size(from);
    if (n == 0) {
        eng_row empty = {(const uint8_t *)"", 0};
        int64_t one = 1;
        *rel = eng_rel_const(0, NULL, 1, &empty, &one);
        memset(s, 0, sizeof *s);
        return 0;
    }
    eng_rel *acc = NULL;
    bscope as = {0};
    for (size_t i = 0; i < n; i++) {
        eng_rel *r;
        bscope rs;
        const json_t *item = json_array_get(from, i);
        const json_t *ib = NULL;
        const char *ik = eng_pg_node(item, &ib);
        if (acc != NULL && ik != NULL && strcmp(ik, "RangeSubselect") == 0 &&
            eng_pg_bool(ib, "lateral")) {
            /* LATERAL: joined onto everything to its left here. */
            eng_rel *j = bind_lateral(c, acc, &as, item, ib);
            if (j == NULL) {
                scope_free(&as);
                return -1;
            }
            acc = j;
            continue;
        }
        if (bind_from_item(c, item, &r, &rs) != 0) {
            eng_rel_free(acc);
            scope_free(&as);
            return -1;
        }
        if (acc == NULL) {
            acc = r;
            as = rs;
            continue;
        }
        keyvec none = {0};
        int nl = as.n;
        acc = make_join(c, OP_JOIN_INNER, acc, r, NULL, &none, json_array_get(from, i));
        keys_free(&none);
        int maxpos = -1;
        for (int k = 0; k < as.n; k++)
            if (as.cols[k].star_pos > maxpos)
                maxpos = as.cols[k].star_pos;
        for (int k = 0; k < rs.n; k++) {
            scope_add(&as, rs.cols[k].rel, rs.cols[k].name, rs.cols[k].type);
            as.cols[nl + k].hidden = rs.cols[k].hidden;
            as.cols[nl + k].star = rs.cols[k].star;
            as.cols[nl + k].star_pos = rs.cols[k].star ? maxpos + 1 + rs.cols[k].star_pos : -1;
        }
        scope_free(&rs);
        if (acc == NULL) {
            scope_free(&as);
            return -1;
        }
    }
    *rel = acc;
    *s = as;
    return 0;
}

/* ------------------------------------------------------------------ grouping */

/* Rewrites e (over FROM columns + aggregate placeholders) over the REDUCE
 * output (group keys, then aggregates). Returns e rewritten (maybe a new
 * node) or NULL with err set (e freed). */
static eng_sx *
lift(bctx *c, eng_sx *e, int nfrom, int ngroup, eng_sx **group, const bscope *from,
     const json_t *node)
{
    for (int g = 0; g < ngroup; g++)
        if (bx_sx_equal(e, group[g])) {
            eng_type t = e->type;
            eng_sx_free(e);
            return eng_sx_col(g, t);
        }
    if (e->kind == ENG_SX_COL) {
        if (e->col >= nfrom) {
            e->col = ngroup + (e->col - nfrom);
            return e;
        }
        const bcol *col = &from->cols[e->col];
        if (col->rel)
            bx_error_at(c, node, ENG_ERRCODE_GROUPING_ERROR,
                        "column \"%s.%s\" must appear in the GROUP BY clause or be used in an "
                        "aggregate function",
                        col->rel, col->name ? col->name : "?");
        else
            bx_error_at(c, node, ENG_ERRCODE_GROUPING_ERROR,
                        "column \"%s\" must appear in the GROUP BY clause or be used in an "
                        "aggregate function",
                        col->name ? col->name : "?");
        eng_sx_free(e);
        return NULL;
    }
    for (int i = 0; i < e->nargs; i++) {
        if (e->args[i] == NULL)
            continue;
        e->args[i] = lift(c, e->args[i], nfrom, ngroup, group, from, node);
        if (e->args[i] == NULL) {
            eng_sx_free(e);
            return NULL;
        }
    }
    return e;
}

/* ------------------------------------------------------------------ SELECT */

typedef struct target {
    eng_sx *e;
    char *name;
    const json_t *node;
} tgt;

static int64_t
const_count(bctx *c, const json_t *node, const char *what, bool *isnull)
{
    *isnull = false;
    bscope empty = {0};
    eng_sx *e = bx_expr(c, &empty, node);
    if (e == NULL)
        return -1;
    if (e->type.id == ENG_TYPE_UNKNOWN)
        bx_coerce_unknown(c, e, eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE));
    eng_rowbuf buf = {0};
    int64_t v = -1;
    if (!eng_sx_is_const(e)) {
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "%s must be a constant", what);
        goto done;
    }
    e = bx_cast_to(c, e, eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE));
    if (e == NULL)
        goto done;
    if (bx_typecheck(c, &empty, e) != 0 || eng_bind_fold(e, &buf, c->err) != 0)
        goto done;
    uint32_t pos = 0;
    eng_datum d = eng_row_next(eng_rowbuf_row(&buf), &pos);
    if (d.tag == ENG_TAG_NULL) {
        *isnull = true;
        v = 0;
    } else {
        v = eng_datum_int8(d);
        if (v < 0) {
            bx_error_at(c, node,
                        what[0] == 'L' ? ENG_ERRCODE_INVALID_ROW_COUNT_IN_LIMIT_CLAUSE
                                       : ENG_ERRCODE_INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE,
                        "%s must not be negative", what);
            v = -1;
        }
    }
done:
    eng_sx_free(e);
    eng_rowbuf_free(&buf);
    return v;
}

/* Binds the select list into targets (star expanded). */
static int
bind_targets(bctx *c, const bscope *s, const json_t *tl, tgt **out, int *nout)
{
    int n = 0, cap = 8;
    tgt *v = xcalloc((size_t)cap, sizeof *v);
    size_t i;
    json_t *item;
    json_array_foreach((json_t *)tl, i, item)
    {
        const json_t *rb = NULL;
        eng_pg_node(item, &rb);
        const json_t *val = json_object_get(rb, "val");
        const char *name = eng_pg_str(rb, "name");
        const json_t *vb = NULL;
        const char *vt = eng_pg_node(val, &vb);
        /* * and t.* */
        if (vt != NULL && strcmp(vt, "ColumnRef") == 0) {
            json_t *fields = json_object_get(vb, "fields");
            size_t nf = json_array_size(fields);
            const char *last = eng_pg_node(json_array_get(fields, nf - 1), NULL);
            if (last != NULL && strcmp(last, "A_Star") == 0) {
                const char *rel = nf >= 2 ? eng_pg_strnode(json_array_get(fields, nf - 2)) : NULL;
                int *cols;
                int m = scope_star(s, rel, &cols);
                if (m == 0 && rel != NULL) {
                    free(cols);
                    bx_error_at(c, val, ENG_ERRCODE_UNDEFINED_TABLE,
                                "missing FROM-clause entry for table \"%s\"", rel);
                    goto fail;
                }
                if (m == 0 && s->n == 0 && rel == NULL) {
                    free(cols);
                    bx_error_at(c, val, ENG_ERRCODE_SYNTAX_ERROR,
                                "SELECT * with no tables specified is not valid");
                    goto fail;
                }
                for (int k = 0; k < m; k++) {
                    if (n == cap) {
                        cap *= 2;
                        v = realloc(v, (size_t)cap * sizeof *v);
                        ENG_ASSERT(v != NULL);
                    }
                    eng_sx *e = eng_sx_col(cols[k], s->cols[cols[k]].type);
                    v[n++] = (tgt){e, xstrdup(s->cols[cols[k]].name), val};
                }
                free(cols);
                continue;
            }
        }
        eng_sx *e = bx_expr(c, s, val);
        if (e == NULL)
            goto fail;
        if (e->type.id == ENG_TYPE_UNKNOWN &&
            bx_coerce_unknown(c, e, eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE)) != 0) {
            eng_sx_free(e);
            goto fail;
        }
        if (n == cap) {
            cap *= 2;
            v = realloc(v, (size_t)cap * sizeof *v);
            ENG_ASSERT(v != NULL);
        }
        v[n++] = (tgt){e, xstrdup(name ? name : bx_colname(val)), val};
    }
    *out = v;
    *nout = n;
    return 0;
fail:
    for (int k = 0; k < n; k++) {
        eng_sx_free(v[k].e);
        free(v[k].name);
    }
    free(v);
    return -1;
}

static void
targets_free(tgt *v, int n)
{
    for (int k = 0; k < n; k++) {
        eng_sx_free(v[k].e);
        free(v[k].name);
    }
    free(v);
}

/* The output column a bare ORDER BY / GROUP BY name or ordinal refers to,
 * -1 if none, -2 on error. */
static int
output_ref(bctx *c, const json_t *node, tgt *t, int nt, bool by_name, const char *clause)
{
    const json_t *b = NULL;
    const char *k = eng_pg_node(node, &b);
    if (k != NULL && strcmp(k, "A_Const") == 0 && json_object_get(b, "ival") != NULL) {
        json_t *iv = json_object_get(json_object_get(b, "ival"), "ival");
        int pos = json_is_integer(iv) ? (int)json_integer_value(iv) : 0;
        if (pos < 1 || pos > nt) {
            bx_error_at(c, node, ENG_ERRCODE_INVALID_COLUMN_REFERENCE,
                        "%s position %d is not in select list", clause, pos);
            return -2;
        }
        return pos - 1;
    }
    if (by_name && k != NULL && strcmp(k, "ColumnRef") == 0) {
        json_t *f = json_object_get(b, "fields");
        if (json_array_size(f) != 1)
            return -1;
        const char *name = eng_pg_strnode(json_array_get(f, 0));
        if (name == NULL)
            return -1;
        int found = -1;
        for (int i = 0; i < nt; i++)
            if (t[i].name && strcmp(t[i].name, name) == 0) {
                if (found >= 0 && !bx_sx_equal(t[found].e, t[i].e)) {
                    bx_error_at(c, node, ENG_ERRCODE_AMBIGUOUS_COLUMN, "%s \"%s\" is ambiguous",
                                clause, name);
                    return -2;
                }
                if (found < 0)
                    found = i;
            }
        return found;
    }
    return -1;
}

/* ------------------------------------------------------------------ window functions */

static bool
json_has_over(const json_t *node)
{
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach((json_t *)node, i, v) if (json_has_over(v)) return true;
        return false;
    }
    if (!json_is_object(node))
        return false;
    const json_t *b = NULL;
    const char *t = eng_pg_node(node, &b);
    if (t != NULL && strcmp(t, "FuncCall") == 0 && json_object_get(b, "over") != NULL)
        return true;
    if (t != NULL && (strcmp(t, "SubLink") == 0 || strcmp(t, "SelectStmt") == 0))
        return false;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)node, key, v) if (json_has_over(v)) return true;
    return false;
}

static int64_t
lit_int(const eng_sx *e, bool *ok)
{
    *ok = false;
    if (e->kind != ENG_SX_LIT)
        return 0;
    uint32_t pos = 0;
    eng_datum d = eng_row_next(e->lit, &pos);
    *ok = true;
    if (d.tag == ENG_TAG_INT2)
        return (int16_t)(d.ptr[0] | (d.ptr[1] << 8));
    if (d.tag == ENG_TAG_INT4)
        return eng_load_i32(d.ptr);
    if (d.tag == ENG_TAG_INT8)
        return eng_load_i64(d.ptr);
    *ok = false;
    return 0;
}

/* Adds window function *f to ws (taking its contents; *f is zeroed) and
 * returns the placeholder column reading it. */
static eng_sx *
win_register(bwin_state *ws, bwin_fn *f)
{
    if (ws->n == ws->cap) {
        ws->cap = ws->cap ? ws->cap * 2 : 4;
        ws->fns = realloc(ws->fns, (size_t)ws->cap * sizeof *ws->fns);
        ENG_ASSERT(ws->fns != NULL);
    }
    ws->fns[ws->n++] = *f;
    ws->types = realloc(ws->types, (size_t)(ws->nfrom + ws->n) * sizeof *ws->types);
    ENG_ASSERT(ws->types != NULL);
    ws->types[ws->nfrom + ws->n - 1] = f->type;
    memset(f, 0, sizeof *f);
    return eng_sx_col(ws->nfrom + ws->n - 1, ws->types[ws->nfrom + ws->n - 1]);
}

/* An aggregate over a whole partition: `agg(x) OVER ([PARTITION BY ...])`
 * without ORDER BY (with one, the frame is a running one: not supported).
 * Rendered by build_windows as a REDUCE per partition joined back. */
static eng_sx *
window_agg(bctx *c, const bscope *s, const json_t *node, const json_t *b, const char *name)
{
    bwin_state *ws = c->win;
    const json_t *over = json_object_get(b, "over");
    if (json_array_size(json_object_get(over, "orderClause")) > 0) {
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                    "%s() OVER (... ORDER BY ...) (a running aggregate) is not supported yet",
                    name);
        return NULL;
    }
    if (eng_pg_bool(b, "agg_distinct") || json_object_get(b, "agg_filter") != NULL ||
        strcmp(name, "string_agg") == 0) {
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                    "%s() OVER with DISTINCT, FILTER or a separator is not supported yet", name);
        return NULL;
    }
    bwin_fn f = {0};
    f.is_agg = true;
    c->win = NULL;
    eng_sx *ret = NULL;
    json_t *args = json_object_get(b, "args");
    bool star = eng_pg_bool(b, "agg_star");
    if (!star) {
        if (json_array_size(args) != 1) {
            bx_error_at(c, node, ENG_ERRCODE_UNDEFINED_FUNCTION,
                        "function %s with %zu arguments does not exist", name,
                        json_array_size(args));
            goto done;
        }
        if ((f.arg = bx_expr(c, s, json_array_get(args, 0))) == NULL)
            goto done;
        if (f.arg->type.id == ENG_TYPE_UNKNOWN)
            bx_coerce_unknown(c, f.arg, eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE));
    }
    eng_typeid t = f.arg ? f.arg->type.id : ENG_TYPE_INT8;
    bool isint = t == ENG_TYPE_INT2 || t == ENG_TYPE_INT4;
    if (star)
        f.agg = OP_AGG_COUNT_STAR;
    else if (strcmp(name, "count") == 0)
        f.agg = OP_AGG_COUNT;
    else if (strcmp(name, "sum") == 0 && (isint || t == ENG_TYPE_INT8 || t == ENG_TYPE_NUMERIC ||
                                          t == ENG_TYPE_FLOAT4 || t == ENG_TYPE_FLOAT8))
        f.agg = isint                   ? OP_AGG_SUM_INT
                : t == ENG_TYPE_INT8    ? OP_AGG_SUM_INT8
                : t == ENG_TYPE_NUMERIC ? OP_AGG_SUM_NUMERIC
                : t == ENG_TYPE_FLOAT4  ? OP_AGG_SUM_FLOAT4
                                        : OP_AGG_SUM_FLOAT;
    else if (strcmp(name, "avg") == 0 && (isint || t == ENG_TYPE_INT8 || t == ENG_TYPE_NUMERIC ||
                                          t == ENG_TYPE_FLOAT4 || t == ENG_TYPE_FLOAT8))
        f.agg = (isint || t == ENG_TYPE_INT8) ? OP_AGG_AVG_INT
                : t == ENG_TYPE_NUMERIC       ? OP_AGG_AVG_NUMERIC
                                              : OP_AGG_AVG_FLOAT;
    else if ((strcmp(name, "min") == 0 || strcmp(name, "max") == 0) && t != ENG_TYPE_BOOL &&
             t != ENG_TYPE_JSON)
        f.agg = name[1] == 'i' ? OP_AGG_MIN : OP_AGG_MAX;
    else if ((strcmp(name, "bool_and") == 0 || strcmp(name, "every") == 0) && t == ENG_TYPE_BOOL)
        f.agg = OP_AGG_BOOL_AND;
    else if (strcmp(name, "bool_or") == 0 && t == ENG_TYPE_BOOL)
        f.agg = OP_AGG_BOOL_OR;
    else {
        bx_error_at(c, node, ENG_ERRCODE_UNDEFINED_FUNCTION, "function %s(%s) does not exist", name,
                    op_type_name((op_type)t));
        goto done;
    }
    json_t *pl = json_object_get(over, "partitionClause");
    f.npart = (int)json_array_size(pl);
    f.part = xcalloc((size_t)f.npart + 1, sizeof *f.part);
    f.order = xcalloc(1, sizeof *f.order);
    f.dirs = xcalloc(1, sizeof *f.dirs);
    for (int i = 0; i < f.npart; i++)
        if ((f.part[i] = bx_expr(c, s, json_array_get(pl, (size_t)i))) == NULL)
            goto done;
    f.type =
        eng_agg_type(f.agg, f.arg ? f.arg->type : eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE));
    ret = win_register(ws, &f);
done:
    c->win = ws;
    if (ret == NULL) {
        for (int i = 0; f.part && i < f.npart; i++)
            eng_sx_free(f.part[i]);
        free(f.part);
        free(f.order);
        free(f.dirs);
        eng_sx_free(f.arg);
    }
    return ret;
}

eng_sx *
bq_window_call(bctx *c, const bscope *s, const json_t *node, const json_t *b, const char *name)
{
    bwin_state *ws = c->win;
    if (ws == NULL || s->n != ws->nfrom) {
        bx_error_at(c, node, ENG_ERRCODE_WINDOWING_ERROR, "window functions are not allowed in %s",
                    c->where ? c->where : "this context");
        return NULL;
    }
    bwin_fn f = {0};
    f.offset = 1;
    if (strcmp(name, "row_number") == 0)
        f.kind = OP_WINDOW_ROW_NUMBER;
    else if (strcmp(name, "rank") == 0)
        f.kind = OP_WINDOW_RANK;
    else if (strcmp(name, "dense_rank") == 0)
        f.kind = OP_WINDOW_DENSE_RANK;
    else if (strcmp(name, "lag") == 0)
        f.kind = OP_WINDOW_LAG;
    else if (strcmp(name, "lead") == 0)
        f.kind = OP_WINDOW_LEAD;
    else if (bx_is_agg_name(name)) {
        return window_agg(c, s, node, b, name);
    } else {
        bx_error_at(c, node, ENG_ERRCODE_UNDEFINED_FUNCTION, "window function %s does not exist",
                    name);
        return NULL;
    }
    const json_t *over = json_object_get(b, "over");
    if (eng_pg_str(over, "refname") != NULL || eng_pg_str(over, "name") != NULL) {
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                    "named windows are not supported yet");
        return NULL;
    }
    json_t *args = json_object_get(b, "args");
    size_t na = json_array_size(args);
    bool lag = f.kind == OP_WINDOW_LAG || f.kind == OP_WINDOW_LEAD;
    if ((!lag && na != 0) || (lag && (na < 1 || na > 3))) {
        bx_error_at(c, node, ENG_ERRCODE_UNDEFINED_FUNCTION,
                    "function %s with %zu arguments does not exist", name, na);
        return NULL;
    }
    c->win = NULL; /* no nesting */
    eng_sx *ret = NULL;
    if (lag) {
        if ((f.arg = bx_expr(c, s, json_array_get(args, 0))) == NULL)
            goto done;
        if (f.arg->type.id == ENG_TYPE_UNKNOWN)
            bx_coerce_unknown(c, f.arg, eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE));
        if (na >= 2) {
            eng_sx *o = bx_expr(c, s, json_array_get(args, 1));
            bool ok;
            f.offset = o ? lit_int(o, &ok) : 0;
            eng_sx_free(o);
            if (o == NULL || !ok) {
                if (!eng_err_isset(c->err))
                    bx_error_at(c, json_array_get(args, 1), ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                                "the offset of %s must be an integer constant", name);
                goto done;
            }
        }
        if (na == 3) {
            eng_sx *d = bx_expr(c, s, json_array_get(args, 2));
            if (d == NULL)
                goto done;
            if ((d = bx_cast_to(c, d, f.arg->type)) == NULL)
                goto done;
            if (!eng_sx_is_const(d)) {
                eng_sx_free(d);
                bx_error_at(c, json_array_get(args, 2), ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                            "the default of %s must be a constant", name);
                goto done;
            }
            f.dflt = d;
        }
    }
    json_t *pl = json_object_get(over, "partitionClause");
    json_t *ol = json_object_get(over, "orderClause");
    f.npart = (int)json_array_size(pl);
    f.norder = (int)json_array_size(ol);
    f.part = xcalloc((size_t)f.npart + 1, sizeof *f.part);
    f.order = xcalloc((size_t)f.norder + 1, sizeof *f.order);
    f.dirs = xcalloc((size_t)f.norder + 1, sizeof *f.dirs);
    for (int i = 0; i < f.npart; i++) {
        if ((f.part[i] = bx_expr(c, s, json_array_get(pl, (size_t)i))) == NULL)
            goto done;
        if (f.part[i]->type.id == ENG_TYPE_UNKNOWN)
            bx_coerce_unknown(c, f.part[i], eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE));
    }
    for (int i = 0; i < f.norder; i++) {
        const json_t *sb = NULL;
        eng_pg_node(json_array_get(ol, (size_t)i), &sb);
        if ((f.order[i] = bx_expr(c, s, json_object_get(sb, "node"))) == NULL)
            goto done;
        if (f.order[i]->type.id == ENG_TYPE_UNKNOWN)
            bx_coerce_unknown(c, f.order[i], eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE));
        const char *dir = eng_pg_str(sb, "sortby_dir");
        const char *nulls = eng_pg_str(sb, "sortby_nulls");
        bool desc = dir && strcmp(dir, "SORTBY_DESC") == 0;
        bool nf = desc;
        if (nulls && strcmp(nulls, "SORTBY_NULLS_FIRST") == 0)
            nf = true;
        else if (nulls && strcmp(nulls, "SORTBY_NULLS_LAST") == 0)
            nf = false;
        f.dirs[i] = (op_order){0, desc, nf};
    }
    f.type = lag ? f.arg->type : eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE);
    ret = win_register(ws, &f);
done:
    c->win = ws;
    if (ret == NULL) {
        for (int i = 0; f.part && i < f.npart; i++)
            eng_sx_free(f.part[i]);
        for (int i = 0; f.order && i < f.norder; i++)
            eng_sx_free(f.order[i]);
        free(f.part);
        free(f.order);
        free(f.dirs);
        eng_sx_free(f.arg);
        eng_sx_free(f.dflt);
    }
    return ret;
}

static void
win_state_free(bwin_state *ws)
{
    for (int k = 0; k < ws->n; k++) {
        bwin_fn *f = &ws->fns[k];
        for (int i = 0; i < f->npart; i++)
            eng_sx_free(f->part[i]);
        for (int i = 0; i < f->norder; i++)
            eng_sx_free(f->order[i]);
        free(f->part);
        free(f->order);
        free(f->dirs);
        eng_sx_free(f->arg);
        eng_sx_free(f->dflt);
    }
    free(ws->fns);
    free(ws->types);
    memset(ws, 0, sizeof *ws);
}

/* Appends one WINDOW per registered function (its partition, order and
 * argument expressions MAPped first); winmap[k] = the column holding
 * function k. Returns the new relation or NULL (rel freed). */
static eng_rel *
build_windows(bctx *c, eng_rel *rel, bwin_state *ws, int *winmap)
{
    for (int k = 0; k < ws->n && rel != NULL; k++) {
        bwin_fn *f = &ws->fns[k];
        int base = rel->ncols;
        if (f->is_agg) {
            /* Null-safe partition keys (k IS NULL, coalesce(k::text, '')),
             * then the argument; a REDUCE per partition joined back. */
            int np = f->npart;
            int nm = 2 * np + (f->arg ? 1 : 0);
            eng_sx **m = xcalloc((size_t)nm + 1, sizeof *m);
            eng_type text = eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE);
            for (int i = 0; i < np; i++) {
                eng_sx *a1[1] = {eng_sx_copy(f->part[i])};
                m[2 * i] = eng_sx_call(OP_IS_NULL, 1, a1);
                eng_rowbuf eb = {0};
                eng_push_text(&eb, "", 0);
                eng_sx *a2[2] = {eng_sx_cast(f->part[i], text),
                                 eng_sx_lit(eng_rowbuf_row(&eb), text)};
                eng_rowbuf_free(&eb);
                a2[0]->type = text;
                m[2 * i + 1] = eng_sx_call(OP_COALESCE, 2, a2);
                f->part[i] = NULL;
            }
            if (f->arg) {
                m[nm - 1] = f->arg;
                f->arg = NULL;
            }
            rel = map_exprs(c, rel, nm, m);
            free(m);
            if (rel == NULL)
                return NULL;
            int *g = xcalloc((size_t)(2 * np) + 1, sizeof *g);
            int *lk = xcalloc((size_t)(2 * np) + 1, sizeof *lk);
            int *rk = xcalloc((size_t)(2 * np) + 1, sizeof *rk);
            for (int i = 0; i < 2 * np; i++) {
                g[i] = base + i;
                lk[i] = base + i;
                rk[i] = i;
            }
            eng_agg ag = {f->agg, f->agg == OP_AGG_COUNT_STAR ? -1 : base + nm - 1, NULL};
            eng_rel *red = eng_rel_reduce(eng_rel_copy(rel), 2 * np, g, 1, &ag, np == 0);
            int lcols = rel->ncols;
            rel = eng_rel_join(OP_JOIN_INNER, rel, red, 2 * np, lk, rk);
            free(g);
            free(lk);
            free(rk);
            winmap[k] = lcols + 2 * np;
            continue;
        }
        int nm = f->npart + f->norder + (f->arg ? 1 : 0);
        eng_sx **m = xcalloc((size_t)nm + 1, sizeof *m);
        int j = 0;
        for (int i = 0; i < f->npart; i++, j++) {
            m[j] = f->part[i];
            f->part[i] = NULL;
        }
        for (int i = 0; i < f->norder; i++, j++) {
            m[j] = f->order[i];
            f->order[i] = NULL;
        }
        if (f->arg) {
            m[j++] = f->arg;
            f->arg = NULL;
        }
        rel = map_exprs(c, rel, nm, m);
        free(m);
        if (rel == NULL)
            return NULL;
        int *part = xcalloc((size_t)f->npart + 1, sizeof *part);
        op_order *ord = xcalloc((size_t)f->norder + 1, sizeof *ord);
        for (int i = 0; i < f->npart; i++)
            part[i] = base + i;
        for (int i = 0; i < f->norder; i++)
            ord[i] = (op_order){base + f->npart + i, f->dirs[i].desc, f->dirs[i].nulls_first};
        eng_win w = {f->kind, base + f->npart + f->norder, f->offset, {NULL, 0}};
        eng_rowbuf db = {0};
        if (f->dflt != NULL) {
            if (eng_bind_fold(f->dflt, &db, c->err) != 0) {
                eng_rel_free(rel);
                free(part);
                free(ord);
                return NULL;
            }
            w.dflt = eng_rowbuf_row(&db);
        } else if (f->kind == OP_WINDOW_LAG || f->kind == OP_WINDOW_LEAD) {
            eng_push_null(&db);
            w.dflt = eng_rowbuf_row(&db);
        }
        if (f->kind != OP_WINDOW_LAG && f->kind != OP_WINDOW_LEAD)
            w.col = 0;
        rel = eng_rel_window(rel, f->npart, part, f->norder, ord, 1, &w);
        eng_rowbuf_free(&db);
        free(part);
        free(ord);
        // cppcheck-suppress nullPointerRedundantCheck ; eng_rel_window never fails
        winmap[k] = rel->ncols - 1;
    }
    return rel;
}

/* The top-k idiom: FILTER(row_number <= k) over (PROJECT/MAP over) a
 * WINDOW computing only row_number puts a TOPK(k) under the WINDOW, so
 * the window sees at most k rows per partition. Mutates f in place. */
static void
topk_pushdown(eng_rel *f)
{
    if (f == NULL || f->kind != ENG_REL_FILTER)
        return;
    for (int p = 0; p < f->nexprs; p++) {
        const eng_sx *e = f->exprs[p];
        if (e->kind != ENG_SX_CALL || e->nargs != 2)
            continue;
        const eng_sx *col = e->args[0], *lit = e->args[1];
        op_fn fn = e->fn;
        if (col->kind != ENG_SX_COL) {
            col = e->args[1];
            lit = e->args[0];
            fn = fn == OP_GE ? OP_LE : fn == OP_GT ? OP_LT : fn;
        }
        bool ok;
        int64_t k = col->kind == ENG_SX_COL ? lit_int(lit, &ok) : 0;
        if (col->kind != ENG_SX_COL || !ok)
            continue;
        int64_t limit = fn == OP_LE ? k : fn == OP_LT ? k - 1 : fn == OP_EQ && k == 1 ? 1 : -1;
        if (limit < 0)
            continue;
        eng_rel *r = f->in[0];
        int c = col->col;
        while (r != NULL) {
            if (r->kind == ENG_REL_PROJECT) {
                c = r->cols[c];
                r = r->in[0];
            } else if (r->kind == ENG_REL_MAP && c < r->in[0]->ncols) {
                r = r->in[0];
            } else if (r->kind == ENG_REL_FILTER) {
                r = r->in[0];
            } else {
                break;
            }
        }
        if (r == NULL || r->kind != ENG_REL_WINDOW || r->nwin != 1 ||
            r->wins[0].kind != OP_WINDOW_ROW_NUMBER || c != r->in[0]->ncols ||
            r->in[0]->kind == ENG_REL_TOPK)
            continue;
        r->in[0] = eng_rel_topk(r->in[0], r->npart, r->part, r->norder, r->order, limit, 0);
        return;
    }
}

static int
bind_simple(bctx *c, const json_t *b, eng_query *out)
{
    eng_rel *rel = NULL;
    bscope s = {0};
    tgt *t = NULL;
    int nt = 0, rc = -1;
    eng_sx **group = NULL, *having = NULL;
    int ngroup = 0;
    bagg_state st = {0};
    bwin_state ws = {0};
    eng_sx **ord = NULL;
    op_order *order = NULL;
    int norder = 0;
    const json_t *sort = json_object_get(b, "sortClause");
    int nsort = (int)json_array_size(sort);

    if (json_object_get(b, "intoClause") != NULL)
        return bx_error_at(c, NULL, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "SELECT INTO is not supported");
    if (json_object_get(b, "lockingClause") != NULL)
        return bx_error_at(c, NULL, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "SELECT ... FOR UPDATE is not supported");
    if (json_object_get(b, "windowClause") != NULL)
        return bx_error_at(c, NULL, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "WINDOW clauses are not supported yet");
    if (bind_from(c, json_object_get(b, "fromClause"), &rel, &s) != 0)
        return -1;
    const json_t *where = json_object_get(b, "whereClause");
    /* Cleared before returning (done:). */
    // cppcheck-suppress autoVariables
    c->cur_rel = &rel;
    // cppcheck-suppress autoVariables
    c->cur_scope = &s;
    if (where != NULL) {
        if (bx_has_agg(where)) {
            bx_error_at(c, where, ENG_ERRCODE_GROUPING_ERROR,
                        "aggregate functions are not allowed in WHERE");
            goto done;
        }
        const json_t **wj = NULL;
        int nwj = 0;
        json_conjuncts(where, &wj, &nwj);
        eng_sx **cj = xcalloc((size_t)nwj + 1, sizeof *cj);
        int ncj = 0;
        for (int i = 0; i < nwj; i++) {
            int h = where_sublink(c, &rel, &s, wj[i]);
            if (h == 1)
                continue;
            eng_sx *w = h == 0 ? bx_bool(c, &s, wj[i], "WHERE") : NULL;
            if (w == NULL || rel == NULL) {
                eng_sx_free(w);
                for (int k = 0; k < ncj; k++)
                    eng_sx_free(cj[k]);
                free(cj);
                free(wj);
                goto done;
            }
            int cap = nwj + 1;
            conjuncts(w, &cj, &ncj, &cap);
        }
        free(wj);
        if (ncj > 0) {
            rel = eng_rel_filter(rel, ncj, cj);
            topk_pushdown(rel);
        } else {
            free(cj);
        }
    }
    const json_t *tl = json_object_get(b, "targetList");
    const json_t *gl = json_object_get(b, "groupClause");
    const json_t *hv = json_object_get(b, "havingClause");
    bool grouped = json_array_size(gl) > 0 || hv != NULL || bx_has_agg(tl) || bx_has_agg(sort);
    if (grouped) {
        c->cur_rel = NULL; /* scalar subqueries would change the FROM scope */
        c->cur_scope = NULL;
        st.nfrom = s.n;
        st.types = scope_types(&s);
        /* GROUP BY expressions: FROM columns first, then output names and
         * ordinals, as PostgreSQL resolves them. */
        ngroup = (int)json_array_size(gl);
        group = xcalloc((size_t)ngroup, sizeof *group);
        tgt *pre = NULL;
        int npre = 0;
        bool need_targets = false;
        for (int i = 0; i < ngroup; i++) {
            const json_t *g = json_array_get(gl, (size_t)i);
            const char *gk = eng_pg_node(g, NULL);
            if (gk && (strcmp(gk, "GroupingSet") == 0)) {
                bx_error_at(c, g, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                            "GROUPING SETS, ROLLUP and CUBE are not supported yet");
                goto done;
            }
            need_targets |= gk && (strcmp(gk, "A_Const") == 0 || strcmp(gk, "ColumnRef") == 0);
        }
        if (need_targets) {
            // cppcheck-suppress autoVariables ; cleared before returning
            c->agg = &st;
            c->where = "GROUP BY";
            if (bind_targets(c, &s, tl, &pre, &npre) != 0) {
                c->agg = NULL;
                goto done;
            }
            c->agg = NULL;
        }
        for (int i = 0; i < ngroup; i++) {
            const json_t *g = json_array_get(gl, (size_t)i);
            const json_t *gb = NULL;
            const char *gk = eng_pg_node(g, &gb);
            int ref = -1;
            if (gk && strcmp(gk, "A_Const") == 0) {
                ref = output_ref(c, g, pre, npre, false, "GROUP BY");
            } else if (gk && strcmp(gk, "ColumnRef") == 0) {
                eng_err tmp;
                eng_err_clear(&tmp);
                bctx c2 = *c;
                c2.err = &tmp;
                eng_sx *e = bx_expr(&c2, &s, g);
                if (e != NULL) {
                    group[i] = e;
                    continue;
                }
                ref = output_ref(c, g, pre, npre, true, "GROUP BY");
                if (ref == -1) {
                    bx_expr(c, &s, g); /* report the original error */
                    ref = -2;
                }
            }
            if (ref == -2) {
                targets_free(pre, npre);
                goto done;
            }
            if (ref >= 0) {
                if (eng_sx_max_col(pre[ref].e) >= s.n) {
                    bx_error_at(c, g, ENG_ERRCODE_GROUPING_ERROR,
                                "aggregate functions are not allowed in GROUP BY");
                    targets_free(pre, npre);
                    goto done;
                }
                group[i] = eng_sx_copy(pre[ref].e);
                continue;
            }
            c->where = "GROUP BY";
            if ((group[i] = bx_expr(c, &s, g)) == NULL) {
                targets_free(pre, npre);
                goto done;
            }
        }
        targets_free(pre, npre);
        /* Aggregates registered while binding targets for GROUP BY lookup
         * are discarded: rebind from scratch. */
        for (int k = 0; k < st.n; k++) {
            eng_sx_free(st.aggs[k].arg);
            free(st.aggs[k].sep);
        }
        st.n = 0;
        // cppcheck-suppress autoVariables ; cleared before returning
        c->agg = &st;
        c->where = "this context";
        if (bind_targets(c, &s, tl, &t, &nt) != 0) {
            c->agg = NULL;
            goto done;
        }
        if (hv != NULL && (having = bx_bool(c, &s, hv, "HAVING")) == NULL) {
            c->agg = NULL;
            goto done;
        }
    } else {
        c->where = "this context";
        if (json_has_over(tl) || json_has_over(sort)) {
            /* Window functions: placeholders past the FROM columns, like
             * aggregates; no scalar subqueries in the select list then. */
            c->cur_rel = NULL;
            c->cur_scope = NULL;
            ws.nfrom = s.n;
            ws.types = scope_types(&s);
            // cppcheck-suppress autoVariables ; cleared before returning
            c->win = &ws;
        }
        if (bind_targets(c, &s, tl, &t, &nt) != 0)
            goto done;
    }
    /* ORDER BY: output columns by name or ordinal, else expressions. */
    ord = xcalloc((size_t)nsort + 1, sizeof *ord);
    order = xcalloc((size_t)nsort + 1, sizeof *order);
    int nhidden = 0;
    for (int i = 0; i < nsort; i++) {
        const json_t *sb = NULL;
        eng_pg_node(json_array_get(sort, (size_t)i), &sb);
        const json_t *sn = json_object_get(sb, "node");
        const char *dir = eng_pg_str(sb, "sortby_dir");
        const char *nulls = eng_pg_str(sb, "sortby_nulls");
        bool desc = dir && strcmp(dir, "SORTBY_DESC") == 0;
        if (dir && strcmp(dir, "SORTBY_USING") == 0) {
            bx_error_at(c, sn, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                        "ORDER BY USING is not supported");
            c->agg = NULL;
            goto done;
        }
        bool nf = desc;
        if (nulls && strcmp(nulls, "SORTBY_NULLS_FIRST") == 0)
            nf = true;
        else if (nulls && strcmp(nulls, "SORTBY_NULLS_LAST") == 0)
            nf = false;
        int ref = output_ref(c, sn, t, nt, true, "ORDER BY");
        if (ref == -2) {
            c->agg = NULL;
            goto done;
        }
        if (ref < 0) {
            c->where = "ORDER BY";
            eng_sx *e = bx_expr(c, &s, sn);
            if (e == NULL) {
                c->agg = NULL;
                goto done;
            }
            for (int k = 0; k < nt; k++)
                if (bx_sx_equal(e, t[k].e)) {
                    ref = k;
                    break;
                }
            if (ref < 0) {
                ord[nhidden] = e;
                ref = nt + nhidden++;
            } else {
                eng_sx_free(e);
            }
        }
        order[norder++] = (op_order){ref, desc, nf};
    }
    c->win = NULL;
    bool distinct = json_object_get(b, "distinctClause") != NULL;
    json_t *dl = json_object_get(b, "distinctClause");
    int ndon = 0;
    int *don = NULL;
    if (distinct && json_array_size(dl) > 0 && eng_pg_node(json_array_get(dl, 0), NULL) != NULL) {
        /* DISTINCT ON (e, ...): the first row of each group in ORDER BY
         * order, i.e. a TOPK per group with limit 1. */
        distinct = false;
        ndon = (int)json_array_size(dl);
        don = xcalloc((size_t)ndon, sizeof *don);
        ord = realloc(ord, (size_t)(nsort + ndon + 1) * sizeof *ord);
        ENG_ASSERT(ord != NULL);
        for (int i = nsort; i < nsort + ndon + 1; i++)
            ord[i] = NULL;
        for (int i = 0; i < ndon; i++) {
            const json_t *dn = json_array_get(dl, (size_t)i);
            int ref = output_ref(c, dn, t, nt, true, "SELECT DISTINCT ON");
            if (ref == -2) {
                free(don);
                c->agg = NULL;
                goto done;
            }
            if (ref < 0) {
                eng_sx *e = bx_expr(c, &s, dn);
                if (e == NULL) {
                    free(don);
                    c->agg = NULL;
                    goto done;
                }
                for (int k = 0; k < nt + nhidden && ref < 0; k++)
                    if (bx_sx_equal(e, k < nt ? t[k].e : ord[k - nt]))
                        ref = k;
                if (ref < 0) {
                    ord[nhidden] = e;
                    ref = nt + nhidden++;
                } else {
                    eng_sx_free(e);
                }
            }
            don[i] = ref;
        }
        for (int i = 0; i < ndon && i < norder; i++) {
            bool found = false;
            for (int k = 0; k < ndon; k++)
                found |= order[i].col == don[k];
            if (!found) {
                free(don);
                bx_error_at(c, json_array_get(dl, 0), ENG_ERRCODE_INVALID_COLUMN_REFERENCE,
                            "SELECT DISTINCT ON expressions must match initial ORDER BY "
                            "expressions");
                c->agg = NULL;
                goto done;
            }
        }
        nsort += ndon; /* so the cleanup frees the extra slots */
    }
    c->agg = NULL;
    if (distinct) {
        if (nhidden > 0) {
            bx_error_at(c, NULL, ENG_ERRCODE_INVALID_COLUMN_REFERENCE,
                        "for SELECT DISTINCT, ORDER BY expressions must appear in select list");
            goto done;
        }
    }
    int nbase;
    if (grouped) {
        /* MAP group keys and aggregate arguments, REDUCE, then lift. */
        int nf = s.n;
        int na = st.n;
        eng_sx **pre = xcalloc((size_t)(ngroup + na) + 1, sizeof *pre);
        int npre = 0;
        for (int g = 0; g < ngroup; g++)
            pre[npre++] = eng_sx_copy(group[g]);
        eng_agg *aggs = xcalloc((size_t)na + 1, sizeof *aggs);
        int *gcols = xcalloc((size_t)ngroup + 1, sizeof *gcols);
        for (int g = 0; g < ngroup; g++)
            gcols[g] = nf + g;
        /* Whether all aggregates read the same argument (for DISTINCT). */
        bool same_arg = na > 0 && st.aggs[0].arg != NULL;
        for (int k = 1; same_arg && k < na; k++)
            same_arg = bx_sx_equal(st.aggs[k].arg, st.aggs[0].arg);
        for (int k = 0; k < na; k++) {
            aggs[k].kind = st.aggs[k].kind;
            aggs[k].sep = st.aggs[k].sep;
            st.aggs[k].sep = NULL;
            if (st.aggs[k].arg != NULL) {
                aggs[k].col = nf + npre;
                pre[npre++] = st.aggs[k].arg;
                st.aggs[k].arg = NULL;
            } else {
                aggs[k].col = -1;
            }
        }
        /* DISTINCT aggregates (besides count(DISTINCT), which the
         * operator does itself): when every aggregate is DISTINCT over the
         * same argument, reduce over the distinct (keys, argument) rows. */
        int ndist = 0, ncd = 0;
        for (int k = 0; k < na; k++) {
            ndist += st.aggs[k].distinct;
            ncd += aggs[k].kind == OP_AGG_COUNT_DISTINCT;
        }
        if (ndist > 0)
            ndist += ncd; /* count(DISTINCT x) is count(x) over distinct rows */
        rel = map_exprs(c, rel, npre, pre);
        free(pre);
        if (rel != NULL && ndist > 0) {
            if (ndist != na || !same_arg) {
                bx_error_at(c, st.aggs[0].node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                            "aggregates with DISTINCT are supported only when every aggregate of "
                            "the query is DISTINCT over the same argument");
                eng_rel_free(rel);
                rel = NULL;
            } else {
                int *cols = xcalloc((size_t)ngroup + 2, sizeof *cols);
                for (int g = 0; g < ngroup; g++)
                    cols[g] = gcols[g];
                cols[ngroup] = aggs[0].col;
                rel = eng_rel_distinct(eng_rel_project(rel, ngroup + 1, cols));
                free(cols);
                for (int g = 0; g < ngroup; g++)
                    gcols[g] = g;
                for (int k = 0; k < na; k++) {
                    aggs[k].col = ngroup;
                    if (aggs[k].kind == OP_AGG_COUNT_DISTINCT)
                        aggs[k].kind = OP_AGG_COUNT;
                }
            }
        }
        if (rel == NULL) {
            for (int k = 0; k < na; k++)
                free(aggs[k].sep);
            free(aggs);
            free(gcols);
            goto done;
        }
        rel = eng_rel_reduce(rel, ngroup, gcols, na, aggs, ngroup == 0);
        free(gcols);
        for (int k = 0; k < na; k++)
            free(aggs[k].sep);
        free(aggs);
        for (int i = 0; i < nt; i++)
            if ((t[i].e = lift(c, t[i].e, nf, ngroup, group, &s, t[i].node)) == NULL)
                goto done;
        for (int i = 0; i < nhidden; i++)
            if ((ord[i] = lift(c, ord[i], nf, ngroup, group, &s, NULL)) == NULL)
                goto done;
        if (having != NULL) {
            if ((having = lift(c, having, nf, ngroup, group, &s, hv)) == NULL)
                goto done;
            eng_sx **cj = NULL;
            int ncj = 0, cap = 0;
            conjuncts(having, &cj, &ncj, &cap);
            having = NULL;
            rel = eng_rel_filter(rel, ncj, cj);
        }
        nbase = ngroup + na;
    } else {
        nbase = s.n;
        if (ws.n > 0) {
            int *winmap = xcalloc((size_t)ws.n, sizeof *winmap);
            rel = build_windows(c, rel, &ws, winmap);
            if (rel == NULL) {
                free(winmap);
                goto done;
            }
            int *map = xcalloc((size_t)(s.n + ws.n), sizeof *map);
            for (int i = 0; i < s.n; i++)
                map[i] = i;
            for (int k = 0; k < ws.n; k++)
                map[s.n + k] = winmap[k];
            for (int i = 0; i < nt; i++)
                eng_sx_remap(t[i].e, map);
            for (int i = 0; i < nhidden; i++)
                eng_sx_remap(ord[i], map);
            free(map);
            free(winmap);
            nbase = rel->ncols;
        }
    }
    /* MAP the targets and hidden order keys, PROJECT them. */
    {
        int nm = nt + nhidden;
        eng_sx **m = xcalloc((size_t)nm + 1, sizeof *m);
        int *cols = xcalloc((size_t)nm + 1, sizeof *cols);
        int added = 0;
        for (int i = 0; i < nm; i++) {
            eng_sx *e = i < nt ? t[i].e : ord[i - nt];
            if (e->kind == ENG_SX_COL) {
                cols[i] = e->col;
                eng_sx_free(e);
            } else {
                cols[i] = nbase + added;
                m[added++] = e;
            }
            if (i < nt)
                t[i].e = NULL;
            else
                ord[i - nt] = NULL;
        }
        out->types = xcalloc((size_t)nt + 1, sizeof *out->types);
        rel = map_exprs(c, rel, added, m);
        free(m);
        if (rel == NULL) {
            free(cols);
            goto done;
        }
        bool identity = nm == rel->ncols;
        for (int i = 0; identity && i < nm; i++)
            identity = cols[i] == i;
        if (!identity)
            rel = eng_rel_project(rel, nm, cols);
        free(cols);
        for (int i = 0; i < nt; i++)
            out->types[i] = rel->types[i];
    }
    if (distinct)
        rel = eng_rel_distinct(rel);
    if (ndon > 0) {
        rel = eng_rel_topk(rel, ndon, don, norder, order, 1, 0);
        free(don);
    }
    out->ncols = nt;
    out->names = xcalloc((size_t)nt + 1, sizeof *out->names);
    for (int i = 0; i < nt; i++) {
        out->names[i] = t[i].name;
        t[i].name = NULL;
    }
    out->rel = rel;
    rel = NULL;
    out->order = order;
    out->norder = norder;
    order = NULL;
    rc = 0;
done:
    c->agg = NULL;
    c->win = NULL;
    win_state_free(&ws);
    c->cur_rel = NULL;
    c->cur_scope = NULL;
    if (rc != 0) {
        free(out->types);
        out->types = NULL;
    }
    eng_rel_free(rel);
    scope_free(&s);
    if (t)
        targets_free(t, nt);
    for (int i = 0; i < ngroup; i++)
        eng_sx_free(group ? group[i] : NULL);
    free(group);
    eng_sx_free(having);
    for (int i = 0; ord && i < nsort; i++)
        eng_sx_free(ord[i]);
    free(ord);
    free(order);
    for (int k = 0; k < st.n; k++) {
        eng_sx_free(st.aggs[k].arg);
        free(st.aggs[k].sep);
    }
    free(st.aggs);
    free(st.types);
    return rc;
}

/* ------------------------------------------------------------------ VALUES */

static int
bind_values(bctx *c, const json_t *lists, eng_query *out)
{
    int nrows = (int)json_array_size(lists);
    int ncols = -1;
    bscope empty = {0};
    eng_sx ***cells = xcalloc((size_t)nrows, sizeof *cells);
    int rc = -1;
    for (int r = 0; r < nrows; r++) {
        const json_t *lb = NULL;
        eng_pg_node(json_array_get(lists, (size_t)r), &lb);
        json_t *items = json_object_get(lb, "items");
        int n = (int)json_array_size(items);
        if (ncols < 0)
            ncols = n;
        if (n != ncols) {
            bx_error_at(c, json_array_get(items, 0), ENG_ERRCODE_SYNTAX_ERROR,
                        "VALUES lists must all be the same length");
            goto done;
        }
        cells[r] = xcalloc((size_t)n + 1, sizeof **cells);
        for (int k = 0; k < n; k++)
            if ((cells[r][k] = bx_expr(c, &empty, json_array_get(items, (size_t)k))) == NULL)
                goto done;
    }
    eng_type *types = xcalloc((size_t)ncols + 1, sizeof *types);
    for (int k = 0; k < ncols; k++) {
        eng_type t = eng_type_make(ENG_TYPE_UNKNOWN, ENG_TYPMOD_NONE);
        for (int r = 0; r < nrows; r++)
            if (bx_common_type(c, t, cells[r][k]->type, "VALUES", &t) != 0) {
                free(types);
                goto done;
            }
        if (t.id == ENG_TYPE_UNKNOWN)
            t = eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE);
        types[k] = t;
        for (int r = 0; r < nrows; r++)
            if ((cells[r][k] = bx_cast_to(c, cells[r][k], t)) == NULL) {
                free(types);
                goto done;
            }
    }
    /* Constant rows become one CONST; others a UNION ALL of MAPs. */
    eng_rowbuf buf = {0};
    uint32_t *offs = xcalloc((size_t)nrows + 1, sizeof *offs);
    bool allconst = true;
    for (int r = 0; r < nrows && allconst; r++) {
        offs[r] = buf.len;
        for (int k = 0; k < ncols; k++) {
            if (!eng_sx_is_const(cells[r][k])) {
                allconst = false;
                break;
            }
            if (cells[r][k]->kind != ENG_SX_LIT &&
                (bx_typecheck(c, &empty, cells[r][k]) != 0 ||
                 eng_bind_fold(cells[r][k], &buf, c->err) != 0)) {
                eng_rowbuf_free(&buf);
                free(offs);
                free(types);
                goto done;
            }
            if (cells[r][k]->kind == ENG_SX_LIT)
                eng_push_row(&buf, cells[r][k]->lit);
        }
    }
    offs[nrows] = buf.len;
    eng_rel *rel;
    if (allconst) {
        eng_row *rows = xcalloc((size_t)nrows + 1, sizeof *rows);
        int64_t *diffs = xcalloc((size_t)nrows + 1, sizeof *diffs);
        for (int r = 0; r < nrows; r++) {
            rows[r] = (eng_row){buf.data + offs[r], offs[r + 1] - offs[r]};
            diffs[r] = 1;
        }
        rel = eng_rel_const(ncols, types, nrows, rows, diffs);
        free(rows);
        free(diffs);
    } else {
        eng_rel **ins = xcalloc((size_t)nrows, sizeof *ins);
        for (int r = 0; r < nrows; r++) {
            eng_row empty_row = {(const uint8_t *)"", 0};
            int64_t one = 1;
            eng_rel *one_row = eng_rel_const(0, NULL, 1, &empty_row, &one);
            ins[r] = map_exprs(c, one_row, ncols, cells[r]);
            for (int k = 0; k < ncols; k++)
                cells[r][k] = NULL;
            if (ins[r] == NULL) {
                for (int q = 0; q < r; q++)
                    eng_rel_free(ins[q]);
                free(ins);
                eng_rowbuf_free(&buf);
                free(offs);
                free(types);
                goto done;
            }
        }
        rel = nrows == 1 ? ins[0] : eng_rel_union(nrows, ins);
        if (nrows == 1)
            free(ins);
    }
    eng_rowbuf_free(&buf);
    free(offs);
    out->rel = rel;
    out->ncols = ncols;
    out->types = types;
    out->names = xcalloc((size_t)ncols + 1, sizeof *out->names);
    for (int k = 0; k < ncols; k++) {
        char nm[32];
        snprintf(nm, sizeof nm, "column%d", k + 1);
        out->names[k] = xstrdup(nm);
    }
    rc = 0;
done:
    for (int r = 0; r < nrows; r++) {
        for (int k = 0; cells[r] && k < ncols; k++)
            eng_sx_free(cells[r][k]);
        free(cells[r]);
    }
    free(cells);
    return rc;
}

/* ------------------------------------------------------------------ set operations */

static eng_rel *
cast_cols(bctx *c, eng_rel *r, const eng_type *to)
{
    int n = r->ncols;
    bool need = false;
    for (int i = 0; i < n; i++)
        need |= r->types[i].id != to[i].id ||
                (to[i].typmod != ENG_TYPMOD_NONE && r->types[i].typmod != to[i].typmod);
    if (!need)
        return r;
    eng_sx **m = xcalloc((size_t)n, sizeof *m);
    for (int i = 0; i < n; i++)
        m[i] = bx_cast_to(c, eng_sx_col(i, r->types[i]), to[i]);
    r = map_exprs(c, r, n, m);
    free(m);
    return r ? project_range(r, n, n) : NULL;
}

static int
bind_setop(bctx *c, const json_t *b, eng_query *out)
{
    const char *op = eng_pg_str(b, "op");
    bool all = eng_pg_bool(b, "all");
    eng_query lq = {0}, rq = {0};
    if (bq_select(c, json_object_get(b, "larg"), &lq) != 0)
        return -1;
    if (bq_select(c, json_object_get(b, "rarg"), &rq) != 0) {
        eng_query_free(&lq);
        return -1;
    }
    const char *what = strcmp(op, "SETOP_UNION") == 0       ? "UNION"
                       : strcmp(op, "SETOP_INTERSECT") == 0 ? "INTERSECT"
                                                            : "EXCEPT";
    int rc = -1;
    if (lq.ncols != rq.ncols) {
        bx_error_at(c, json_object_get(b, "rarg"), ENG_ERRCODE_SYNTAX_ERROR,
                    "each %s query must have the same number of columns", what);
        goto done;
    }
    int n = lq.ncols;
    eng_type *types = xcalloc((size_t)n + 1, sizeof *types);
    for (int i = 0; i < n; i++)
        if (bx_common_type(c, lq.types[i], rq.types[i], what, &types[i]) != 0) {
            free(types);
            goto done;
        }
    eng_rel *l = cast_cols(c, bq_query_rel(&lq), types);
    eng_rel *r = l ? cast_cols(c, bq_query_rel(&rq), types) : NULL;
    if (r == NULL) {
        eng_rel_free(l);
        free(types);
        goto done;
    }
    eng_rel *res;
    if (what[0] == 'U') {
        eng_rel *ins[2] = {l, r};
        eng_rel **v = xcalloc(2, sizeof *v);
        memcpy(v, ins, sizeof ins);
        res = eng_rel_union(2, v);
        if (!all)
            res = eng_rel_distinct(res);
    } else if (what[0] == 'E') {
        if (!all) {
            l = eng_rel_distinct(l);
            r = eng_rel_distinct(r);
        }
        eng_rel **v = xcalloc(2, sizeof *v);
        v[0] = l;
        v[1] = eng_rel_negate(r);
        res = eng_rel_threshold(eng_rel_union(2, v));
    } else {
        if (!all) {
            l = eng_rel_distinct(l);
            r = eng_rel_distinct(r);
        }
        /* min(a, b) = a - max(a - b, 0) */
        eng_rel *l2 = eng_rel_copy(l);
        eng_rel **v = xcalloc(2, sizeof *v);
        v[0] = l;
        v[1] = eng_rel_negate(r);
        eng_rel *diff = eng_rel_threshold(eng_rel_union(2, v));
        eng_rel **w = xcalloc(2, sizeof *w);
        w[0] = l2;
        w[1] = eng_rel_negate(diff);
        res = eng_rel_union(2, w);
    }
    out->rel = res;
    out->ncols = n;
    out->types = types;
    out->names = lq.names;
    lq.names = NULL;
    lq.ncols = 0;
    rc = 0;
done:
    eng_query_free(&lq);
    eng_query_free(&rq);
    return rc;
}

/* ORDER BY / LIMIT / OFFSET on a set operation or VALUES: output columns
 * by name or position only. */
static int
bind_outer_order(bctx *c, const json_t *b, eng_query *q)
{
    const json_t *sort = json_object_get(b, "sortClause");
    int nsort = (int)json_array_size(sort);
    if (nsort == 0)
        return 0;
    bscope s = {0};
    for (int i = 0; i < q->ncols; i++)
        scope_add(&s, NULL, q->names[i], q->types[i]);
    q->order = xcalloc((size_t)nsort, sizeof *q->order);
    int rc = -1;
    for (int i = 0; i < nsort; i++) {
        const json_t *sb = NULL;
        eng_pg_node(json_array_get(sort, (size_t)i), &sb);
        const json_t *sn = json_object_get(sb, "node");
        const char *dir = eng_pg_str(sb, "sortby_dir");
        const char *nulls = eng_pg_str(sb, "sortby_nulls");
        bool desc = dir && strcmp(dir, "SORTBY_DESC") == 0;
        bool nf = desc;
        if (nulls && strcmp(nulls, "SORTBY_NULLS_FIRST") == 0)
            nf = true;
        else if (nulls && strcmp(nulls, "SORTBY_NULLS_LAST") == 0)
            nf = false;
        const json_t *nb = NULL;
        const char *nk = eng_pg_node(sn, &nb);
        int col = -1;
        if (nk && strcmp(nk, "A_Const") == 0) {
            json_t *iv = json_object_get(json_object_get(nb, "ival"), "ival");
            int pos = json_is_integer(iv) ? (int)json_integer_value(iv) : 0;
            if (pos < 1 || pos > q->ncols) {
                bx_error_at(c, sn, ENG_ERRCODE_INVALID_COLUMN_REFERENCE,
                            "ORDER BY position %d is not in select list", pos);
                goto done;
            }
            col = pos - 1;
        } else {
            eng_sx *e = bx_expr(c, &s, sn);
            if (e == NULL)
                goto done;
            if (e->kind != ENG_SX_COL) {
                eng_sx_free(e);
                bx_error_at(c, sn, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                            "ORDER BY on a UNION/INTERSECT/EXCEPT result must be on one of the "
                            "result columns");
                goto done;
            }
            col = e->col;
            eng_sx_free(e);
        }
        q->order[q->norder++] = (op_order){col, desc, nf};
    }
    rc = 0;
done:
    scope_free(&s);
    return rc;
}

int
bq_select(bctx *c, const json_t *node, eng_query *out)
{
    const json_t *b = node;
    const char *kind = eng_pg_node(node, &b);
    if (kind == NULL || strcmp(kind, "SelectStmt") != 0)
        b = node; /* already the body */
    memset(out, 0, sizeof *out);
    out->limit = -1;
    int saved_cte = c->ncte;
    int rc = -1;
    const json_t *with = json_object_get(b, "withClause");
    if (with != NULL) {
        if (eng_pg_bool(with, "recursive")) {
            bx_error_at(c, NULL, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                        "WITH RECURSIVE is not supported yet");
            goto done;
        }
        json_t *ctes = json_object_get(with, "ctes");
        for (size_t i = 0; i < json_array_size(ctes); i++) {
            const json_t *cb = NULL;
            eng_pg_node(json_array_get(ctes, i), &cb);
            const char *name = eng_pg_str(cb, "ctename");
            for (int k = saved_cte; k < c->ncte; k++)
                if (strcmp(c->ctes[k].name, name) == 0) {
                    bx_error_at(c, json_array_get(ctes, i), ENG_ERRCODE_DUPLICATE_ALIAS,
                                "WITH query name \"%s\" specified more than once", name);
                    goto done;
                }
            eng_query q;
            if (bq_select(c, json_object_get(cb, "ctequery"), &q) != 0)
                goto done;
            json_t *acols = json_object_get(cb, "aliascolnames");
            for (size_t k = 0; k < json_array_size(acols) && (int)k < q.ncols; k++) {
                free(q.names[k]);
                q.names[k] = xstrdup(eng_pg_strnode(json_array_get(acols, k)));
            }
            c->ctes = realloc(c->ctes, (size_t)(c->ncte + 1) * sizeof *c->ctes);
            ENG_ASSERT(c->ctes != NULL);
            c->ctes[c->ncte].name = xstrdup(name);
            c->ctes[c->ncte].q = q;
            c->ncte++;
        }
    }
    const char *op = eng_pg_str(b, "op");
    if (op != NULL && strcmp(op, "SETOP_NONE") != 0) {
        if (bind_setop(c, b, out) != 0 || bind_outer_order(c, b, out) != 0)
            goto done;
    } else if (json_object_get(b, "valuesLists") != NULL) {
        if (bind_values(c, json_object_get(b, "valuesLists"), out) != 0 ||
            bind_outer_order(c, b, out) != 0)
            goto done;
    } else if (bind_simple(c, b, out) != 0) {
        goto done;
    }
    const json_t *lc = json_object_get(b, "limitCount"), *lo = json_object_get(b, "limitOffset");
    const char *lopt = eng_pg_str(b, "limitOption");
    if (lopt && strcmp(lopt, "LIMIT_OPTION_WITH_TIES") == 0) {
        bx_error_at(c, NULL, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                    "FETCH ... WITH TIES is not supported");
        goto done;
    }
    bool isnull;
    if (lc != NULL) {
        int64_t v = const_count(c, lc, "LIMIT", &isnull);
        if (v < 0)
            goto done;
        out->limit = isnull ? -1 : v;
    }
    if (lo != NULL) {
        int64_t v = const_count(c, lo, "OFFSET", &isnull);
        if (v < 0)
            goto done;
        out->offset = isnull ? 0 : v;
    }
    rc = 0;
done:
    while (c->ncte > saved_cte) {
        c->ncte--;
        free(c->ctes[c->ncte].name);
        eng_query_free(&c->ctes[c->ncte].q);
    }
    if (rc != 0)
        eng_query_free(out);
    return rc;
}

/* ------------------------------------------------------------------ entry points */

int
eng_bind_select(const eng_bind_env *env, const json_t *select, eng_query *out, eng_err *err)
{
    bctx c = {0};
    c.env = env;
    c.err = err;
    eng_bind_params *p = env->params;
    if (p != NULL && p->values == NULL)
        c.param_nodes = xcalloc((size_t)p->n + 1, sizeof *c.param_nodes);
    int rc = bq_select(&c, select, out);
    if (rc == 0) {
        out->deps = c.deps;
        out->ndeps = c.ndeps;
        c.deps = NULL;
        if (c.param_nodes != NULL)
            for (int i = 0; i < p->n; i++)
                if (p->types[i].id == ENG_TYPE_UNKNOWN)
                    p->types[i] = c.param_nodes[i] && c.param_nodes[i]->type.id != ENG_TYPE_UNKNOWN
                                      ? c.param_nodes[i]->type
                                      : eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE);
    }
    free(c.param_nodes);
    free(c.deps);
    free(c.ctes);
    return rc;
}

eng_sx *
eng_bind_scalar(const eng_bind_env *env, const eng_obj *obj, const json_t *node, eng_err *err)
{
    bctx c = {0};
    c.env = env;
    c.err = err;
    bscope s = {0};
    for (int i = 0; obj && i < obj->ncols; i++)
        scope_add(&s, obj->name, obj->cols[i].name, obj->cols[i].type);
    eng_bind_params *p = env->params;
    if (p != NULL && p->values == NULL)
        c.param_nodes = xcalloc((size_t)p->n + 1, sizeof *c.param_nodes);
    c.where = "this context";
    eng_sx *e = bx_expr(&c, &s, node);
    if (e != NULL && c.param_nodes != NULL)
        for (int i = 0; i < p->n; i++)
            if (p->types[i].id == ENG_TYPE_UNKNOWN && c.param_nodes[i] != NULL &&
                c.param_nodes[i]->type.id != ENG_TYPE_UNKNOWN)
                p->types[i] = c.param_nodes[i]->type;
    free(c.param_nodes);
    free(c.deps);
    scope_free(&s);
    return e;
}

/* ------------------------------------------------------------------ DML */

/* Binds a column's DEFAULT expression text (NULL: a NULL of its type). */
static eng_sx *
bind_default(bctx *c, const eng_col *col)
{
    if (col->default_sql == NULL)
        return eng_sx_null(col->type);
    eng_sx *e = NULL;
    json_t *root = json_loads(col->default_sql, 0, NULL);
    if (root == NULL) {
        eng_err_set(c->err, ENG_ERRCODE_DATA_CORRUPTED, "bad DEFAULT expression for column \"%s\"",
                    col->name);
        return NULL;
    }
    bscope empty = {0};
    e = bx_expr(c, &empty, root);
    json_decref(root);
    if (e != NULL)
        e = eng_bind_assign(e, col->type, col->name, c->err);
    return e;
}

static eng_obj *
dml_target(bctx *c, const json_t *rv, const char *verb, bscope *s)
{
    const json_t *b = NULL;
    eng_pg_node(rv, &b);
    if (b == NULL)
        b = rv;
    const char *schema = eng_pg_str(b, "schemaname"), *name = eng_pg_str(b, "relname");
    eng_obj *o = eng_catalog_find(c->env->cat, schema, name);
    if (o == NULL || o->kind == ENG_OBJ_SCHEMA || o->kind == ENG_OBJ_SECRET ||
        o->kind == ENG_OBJ_CONNECTION) {
        bx_error_at(c, rv, ENG_ERRCODE_UNDEFINED_TABLE, "relation \"%s\" does not exist", name);
        return NULL;
    }
    if (o->kind != ENG_OBJ_TABLE) {
        bx_error_at(c, rv, ENG_ERRCODE_WRONG_OBJECT_TYPE, "cannot %s %s %s \"%s\"", verb,
                    strcmp(verb, "insert") == 0 ? "into" : "", eng_obj_kind_name(o->kind), name);
        return NULL;
    }
    add_dep(c, o->id);
    if (s != NULL) {
        const json_t *alias = json_object_get(b, "alias");
        const char *aname = alias ? eng_pg_str(alias, "aliasname") : NULL;
        memset(s, 0, sizeof *s);
        for (int i = 0; i < o->ncols; i++)
            scope_add(s, aname ? aname : name, o->cols[i].name, o->cols[i].type);
    }
    return o;
}

static eng_rel *
get_obj(const eng_obj *o)
{
    eng_type *types = xcalloc((size_t)o->ncols, sizeof *types);
    for (int i = 0; i < o->ncols; i++)
        types[i] = o->cols[i].type;
    eng_rel *r = eng_rel_get(o->id, o->name, o->ncols, types);
    free(types);
    return r;
}

static int
dml_common(bctx *c, const json_t *b)
{
    if (json_object_get(b, "returningList") != NULL)
        return bx_error_at(c, NULL, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "RETURNING is not supported");
    if (json_object_get(b, "withClause") != NULL)
        return bx_error_at(c, NULL, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "WITH in INSERT/UPDATE/DELETE is not supported");
    return 0;
}

int
eng_bind_insert(const eng_bind_env *env, const json_t *b, eng_obj **target, eng_rel **out,
                eng_err *err)
{
    bctx c = {0};
    c.env = env;
    c.err = err;
    c.where = "VALUES";
    int rc = -1;
    eng_query q = {0};
    eng_sx **row = NULL;
    int *tcols = NULL;
    if (dml_common(&c, b) != 0)
        return -1;
    if (json_object_get(b, "onConflictClause") != NULL)
        return bx_error_at(&c, NULL, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "INSERT ... ON CONFLICT is not supported");
    eng_obj *o = dml_target(&c, json_object_get(b, "relation"), "insert", NULL);
    if (o == NULL)
        return -1;
    /* Target columns. */
    json_t *cl = json_object_get(b, "cols");
    int nt = cl ? (int)json_array_size(cl) : o->ncols;
    tcols = xcalloc((size_t)nt + 1, sizeof *tcols);
    for (int i = 0; i < nt; i++) {
        if (cl == NULL) {
            tcols[i] = i;
            continue;
        }
        const json_t *rb = NULL;
        eng_pg_node(json_array_get(cl, (size_t)i), &rb);
        const char *nm = eng_pg_str(rb, "name");
        if (json_object_get(rb, "indirection") != NULL) {
            bx_error_at(&c, json_array_get(cl, (size_t)i), ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                        "INSERT into a subfield is not supported");
            goto done;
        }
        tcols[i] = -1;
        for (int k = 0; k < o->ncols; k++)
            if (strcmp(o->cols[k].name, nm) == 0)
                tcols[i] = k;
        if (tcols[i] < 0) {
            bx_error_at(&c, json_array_get(cl, (size_t)i), ENG_ERRCODE_UNDEFINED_COLUMN,
                        "column \"%s\" of relation \"%s\" does not exist", nm, o->name);
            goto done;
        }
        for (int k = 0; k < i; k++)
            if (tcols[k] == tcols[i]) {
                bx_error_at(&c, json_array_get(cl, (size_t)i), ENG_ERRCODE_DUPLICATE_COLUMN,
                            "column \"%s\" specified more than once", nm);
                goto done;
            }
    }
    const json_t *sel = json_object_get(b, "selectStmt");
    const json_t *sb = NULL;
    eng_pg_node(sel, &sb);
    json_t *vl = sb ? json_object_get(sb, "valuesLists") : NULL;
    eng_rel *rel = NULL;
    if (sel == NULL) {
        /* DEFAULT VALUES */
        eng_row empty = {(const uint8_t *)"", 0};
        int64_t one = 1;
        rel = eng_rel_const(0, NULL, 1, &empty, &one);
        nt = 0;
    } else if (vl != NULL && json_object_get(sb, "sortClause") == NULL &&
               json_object_get(sb, "limitCount") == NULL) {
        /* VALUES: each cell coerced to its column directly (untyped
         * literals take the column's type), DEFAULT allowed. */
        int nrows = (int)json_array_size(vl);
        eng_rowbuf buf = {0};
        uint32_t *offs = xcalloc((size_t)nrows + 1, sizeof *offs);
        bscope empty = {0};
        bool allconst = true;
        eng_rel **ins = xcalloc((size_t)nrows + 1, sizeof *ins);
        int nins = 0;
        eng_type *types = xcalloc((size_t)o->ncols + 1, sizeof *types);
        for (int k = 0; k < o->ncols; k++)
            types[k] = o->cols[k].type;
        for (int r = 0; r < nrows; r++) {
            const json_t *lb = NULL;
            eng_pg_node(json_array_get(vl, (size_t)r), &lb);
            json_t *items = json_object_get(lb, "items");
            int n = (int)json_array_size(items);
            if (n > nt) {
                bx_error_at(&c, json_array_get(items, (size_t)nt), ENG_ERRCODE_SYNTAX_ERROR,
                            "INSERT has more expressions than target columns");
                goto vfail;
            }
            if (n < nt) {
                bx_error_at(&c, json_array_get(items, (size_t)n - 1), ENG_ERRCODE_SYNTAX_ERROR,
                            "INSERT has more target columns than expressions");
                goto vfail;
            }
            row = xcalloc((size_t)o->ncols + 1, sizeof *row);
            for (int i = 0; i < n; i++) {
                const json_t *cell = json_array_get(items, (size_t)i);
                const char *ck = eng_pg_node(cell, NULL);
                int col = tcols[i];
                if (ck && strcmp(ck, "SetToDefault") == 0) {
                    row[col] = bind_default(&c, &o->cols[col]);
                } else {
                    if (bx_has_agg(cell)) {
                        bx_error_at(&c, cell, ENG_ERRCODE_GROUPING_ERROR,
                                    "aggregate functions are not allowed in VALUES");
                        goto vfail;
                    }
                    eng_sx *e = bx_expr(&c, &empty, cell);
                    row[col] =
                        e ? eng_bind_assign(e, o->cols[col].type, o->cols[col].name, err) : NULL;
                    if (row[col] == NULL && c.err->position == 0 && eng_pg_location(cell) >= 0)
                        c.err->position = eng_pg_location(cell) + 1;
                }
                if (row[col] == NULL)
                    goto vfail;
            }
            for (int k = 0; k < o->ncols; k++)
                if (row[k] == NULL && (row[k] = bind_default(&c, &o->cols[k])) == NULL)
                    goto vfail;
            bool rowconst = true;
            for (int k = 0; k < o->ncols; k++)
                rowconst &= eng_sx_is_const(row[k]);
            if (rowconst && allconst) {
                offs[r] = buf.len;
                for (int k = 0; k < o->ncols; k++) {
                    if (row[k]->kind != ENG_SX_LIT && bx_typecheck(&c, &empty, row[k]) != 0)
                        goto vfail;
                    if (eng_bind_fold(row[k], &buf, err) != 0)
                        goto vfail;
                }
                offs[r + 1] = buf.len;
            } else {
                allconst = false;
                eng_row er = {(const uint8_t *)"", 0};
                int64_t one = 1;
                eng_rel *m = map_exprs(&c, eng_rel_const(0, NULL, 1, &er, &one), o->ncols, row);
                for (int k = 0; k < o->ncols; k++)
                    row[k] = NULL;
                if (m == NULL)
                    goto vfail;
                ins[nins++] = m;
            }
            for (int k = 0; k < o->ncols; k++)
                eng_sx_free(row[k]);
            free(row);
            row = NULL;
        }
        if (allconst) {
            eng_row *rows = xcalloc((size_t)nrows + 1, sizeof *rows);
            int64_t *diffs = xcalloc((size_t)nrows + 1, sizeof *diffs);
            for (int r = 0; r < nrows; r++) {
                rows[r] = (eng_row){buf.data + offs[r], offs[r + 1] - offs[r]};
                diffs[r] = 1;
            }
            rel = eng_rel_const(o->ncols, types, nrows, rows, diffs);
            free(rows);
            free(diffs);
            free(ins);
        } else {
            /* Rows folded before the first non-constant one go in as a CONST. */
            int nconst = 0;
            while (nconst < nrows && offs[nconst + 1] > offs[nconst])
                nconst++;
            if (nconst > 0) {
                eng_row *rows = xcalloc((size_t)nconst, sizeof *rows);
                int64_t *diffs = xcalloc((size_t)nconst, sizeof *diffs);
                for (int r = 0; r < nconst; r++) {
                    rows[r] = (eng_row){buf.data + offs[r], offs[r + 1] - offs[r]};
                    diffs[r] = 1;
                }
                ins[nins++] = eng_rel_const(o->ncols, types, nconst, rows, diffs);
                free(rows);
                free(diffs);
            }
            rel = nins == 1 ? ins[0] : eng_rel_union(nins, ins);
            if (nins == 1)
                free(ins);
        }
        eng_rowbuf_free(&buf);
        free(offs);
        free(types);
        *target = o;
        *out = rel;
        rc = 0;
        goto done;
    vfail:
        if (row != NULL) {
            for (int k = 0; k < o->ncols; k++)
                eng_sx_free(row[k]);
            free(row);
            row = NULL;
        }
        for (int i = 0; i < nins; i++)
            eng_rel_free(ins[i]);
        free(ins);
        eng_rowbuf_free(&buf);
        free(offs);
        free(types);
        goto done;
    } else {
        if (bq_select(&c, sel, &q) != 0)
            goto done;
        if (q.ncols > nt) {
            bx_error_at(&c, sel, ENG_ERRCODE_SYNTAX_ERROR,
                        "INSERT has more expressions than target columns");
            goto done;
        }
        if (q.ncols < nt) {
            bx_error_at(&c, sel, ENG_ERRCODE_SYNTAX_ERROR,
                        "INSERT has more target columns than expressions");
            goto done;
        }
        rel = bq_query_rel(&q);
    }
    /* Full table rows: targeted columns assign-cast, others defaulted. */
    {
        int nin = rel->ncols;
        row = xcalloc((size_t)o->ncols + 1, sizeof *row);
        for (int i = 0; i < nt; i++) {
            row[tcols[i]] = eng_bind_assign(eng_sx_col(i, rel->types[i]), o->cols[tcols[i]].type,
                                            o->cols[tcols[i]].name, err);
            if (row[tcols[i]] == NULL) {
                eng_rel_free(rel);
                goto done;
            }
        }
        for (int k = 0; k < o->ncols; k++)
            if (row[k] == NULL && (row[k] = bind_default(&c, &o->cols[k])) == NULL) {
                eng_rel_free(rel);
                goto done;
            }
        rel = map_exprs(&c, rel, o->ncols, row);
        for (int k = 0; k < o->ncols; k++)
            row[k] = NULL;
        if (rel == NULL)
            goto done;
        rel = project_range(rel, nin, o->ncols);
    }
    *target = o;
    *out = rel;
    rc = 0;
done:
    if (row != NULL) {
        for (int k = 0; k < o->ncols; k++)
            eng_sx_free(row[k]);
        free(row);
    }
    free(tcols);
    eng_query_free(&q);
    free(c.deps);
    free(c.ctes);
    return rc;
}

int
eng_bind_update(const eng_bind_env *env, const json_t *b, eng_obj **target, eng_rel **out,
                eng_err *err)
{
    bctx c = {0};
    c.env = env;
    c.err = err;
    c.where = "UPDATE";
    bscope s = {0};
    int rc = -1;
    eng_sx **set = NULL;
    eng_sx *where = NULL;
    if (dml_common(&c, b) != 0)
        return -1;
    if (json_object_get(b, "fromClause") != NULL)
        return bx_error_at(&c, NULL, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "UPDATE ... FROM is not supported");
    eng_obj *o = dml_target(&c, json_object_get(b, "relation"), "update", &s);
    if (o == NULL)
        return -1;
    set = xcalloc((size_t)o->ncols + 1, sizeof *set);
    json_t *tl = json_object_get(b, "targetList");
    for (size_t i = 0; i < json_array_size(tl); i++) {
        const json_t *item = json_array_get(tl, i);
        const json_t *rb = NULL;
        eng_pg_node(item, &rb);
        const char *nm = eng_pg_str(rb, "name");
        if (json_object_get(rb, "indirection") != NULL) {
            bx_error_at(&c, item, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                        "UPDATE of a subfield is not supported");
            goto done;
        }
        int col = -1;
        for (int k = 0; k < o->ncols; k++)
            if (strcmp(o->cols[k].name, nm) == 0)
                col = k;
        if (col < 0) {
            bx_error_at(&c, item, ENG_ERRCODE_UNDEFINED_COLUMN,
                        "column \"%s\" of relation \"%s\" does not exist", nm, o->name);
            goto done;
        }
        if (set[col] != NULL) {
            bx_error_at(&c, item, ENG_ERRCODE_SYNTAX_ERROR,
                        "multiple assignments to same column \"%s\"", nm);
            goto done;
        }
        const json_t *val = json_object_get(rb, "val");
        const char *vk = eng_pg_node(val, NULL);
        if (vk && strcmp(vk, "SetToDefault") == 0) {
            set[col] = bind_default(&c, &o->cols[col]);
        } else {
            if (bx_has_agg(val)) {
                bx_error_at(&c, val, ENG_ERRCODE_GROUPING_ERROR,
                            "aggregate functions are not allowed in UPDATE");
                goto done;
            }
            eng_sx *e = bx_expr(&c, &s, val);
            set[col] = e ? eng_bind_assign(e, o->cols[col].type, nm, err) : NULL;
        }
        if (set[col] == NULL)
            goto done;
    }
    const json_t *w = json_object_get(b, "whereClause");
    if (w != NULL && (where = bx_bool(&c, &s, w, "WHERE")) == NULL)
        goto done;
    eng_rel *old = get_obj(o);
    if (where != NULL) {
        eng_sx **p = xcalloc(1, sizeof *p);
        p[0] = where;
        where = NULL;
        old = eng_rel_filter(old, 1, p);
    }
    eng_rel *nw = eng_rel_copy(old);
    int n = o->ncols;
    eng_sx **m = xcalloc((size_t)n + 1, sizeof *m);
    for (int k = 0; k < n; k++) {
        m[k] = set[k] ? set[k] : eng_sx_col(k, o->cols[k].type);
        set[k] = NULL;
    }
    nw = map_exprs(&c, nw, n, m);
    free(m);
    if (nw == NULL) {
        eng_rel_free(old);
        goto done;
    }
    nw = project_range(nw, n, n);
    eng_rel **v = xcalloc(2, sizeof *v);
    v[0] = eng_rel_negate(old);
    v[1] = nw;
    *out = eng_rel_union(2, v);
    *target = o;
    rc = 0;
done:
    for (int k = 0; set && k < o->ncols; k++)
        eng_sx_free(set[k]);
    free(set);
    eng_sx_free(where);
    scope_free(&s);
    free(c.deps);
    return rc;
}

int
eng_bind_delete(const eng_bind_env *env, const json_t *b, eng_obj **target, eng_rel **out,
                eng_err *err)
{
    bctx c = {0};
    c.env = env;
    c.err = err;
    c.where = "DELETE";
    bscope s = {0};
    if (dml_common(&c, b) != 0)
        return -1;
    if (json_object_get(b, "usingClause") != NULL)
        return bx_error_at(&c, NULL, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "DELETE ... USING is not supported");
    eng_obj *o = dml_target(&c, json_object_get(b, "relation"), "delete from", &s);
    if (o == NULL)
        return -1;
    eng_rel *old = get_obj(o);
    const json_t *w = json_object_get(b, "whereClause");
    if (w != NULL) {
        eng_sx *p = bx_bool(&c, &s, w, "WHERE");
        if (p == NULL) {
            eng_rel_free(old);
            scope_free(&s);
            free(c.deps);
            return -1;
        }
        eng_sx **v = xcalloc(1, sizeof *v);
        v[0] = p;
        old = eng_rel_filter(old, 1, v);
    }
    scope_free(&s);
    free(c.deps);
    *out = eng_rel_negate(old);
    *target = o;
    return 0;
}

/* ------------------------------------------------------------------ subqueries */

static bool
is_name_error(const eng_err *e)
{
    return strcmp(e->sqlstate, ENG_ERRCODE_UNDEFINED_COLUMN) == 0 ||
           strcmp(e->sqlstate, ENG_ERRCODE_UNDEFINED_TABLE) == 0;
}

/* Flattens a JSON AND tree into its conjuncts. */
static void
json_conjuncts(const json_t *node, const json_t ***v, int *n)
{
    const json_t *b = NULL;
    const char *t = eng_pg_node(node, &b);
    if (t != NULL && strcmp(t, "BoolExpr") == 0 &&
        strcmp(eng_pg_str(b, "boolop") ?: "", "AND_EXPR") == 0) {
        json_t *args = json_object_get(b, "args");
        for (size_t i = 0; i < json_array_size(args); i++)
            json_conjuncts(json_array_get(args, i), v, n);
        return;
    }
    *v = realloc(*v, (size_t)(*n + 1) * sizeof **v);
    ENG_ASSERT(*v != NULL);
    (*v)[(*n)++] = node;
}

/* The subquery as a relation plus the key pairs (outer expr over s, inner
 * column of the returned relation) that connect it to the outer query.
 * Uncorrelated subqueries bind as queries; correlated ones must be simple
 * (no set operation, grouping, DISTINCT or LIMIT) and correlated only by
 * equalities `inner = outer` among their WHERE conjuncts. in_lhs: the
 * left side of IN (NULL for EXISTS), matched against the subquery's single
 * column. On success returns the relation of distinct key tuples. */
static eng_rel *
sub_keys(bctx *c, const bscope *s, const json_t *subselect, const json_t *in_lhs, keyvec *keys,
         const json_t *node)
{
    eng_query q;
    eng_err tmp;
    eng_err_clear(&tmp);
    bctx sub = *c;
    sub.err = &tmp;
    sub.agg = NULL;
    sub.cur_rel = NULL;
    sub.cur_scope = NULL;
    sub.deps = NULL;
    sub.ndeps = 0;
    int rc = bq_select(&sub, subselect, &q);
    c->ctes = sub.ctes; /* sub may have grown the shared CTE array */
    for (int i = 0; i < sub.ndeps; i++)
        add_dep(c, sub.deps[i]);
    free(sub.deps);
    if (rc == 0) {
        eng_rel *r = bq_query_rel(&q);
        if (in_lhs != NULL) {
            if (q.ncols != 1) {
                eng_query_free(&q);
                eng_rel_free(r);
                bx_error_at(c, node, ENG_ERRCODE_SYNTAX_ERROR, "subquery has too %s columns",
                            q.ncols > 1 ? "many" : "few");
                return NULL;
            }
            eng_sx *l = bx_expr(c, s, in_lhs);
            if (l == NULL) {
                eng_query_free(&q);
                eng_rel_free(r);
                return NULL;
            }
            eng_type t;
            if (bx_common_type(c, l->type, r->types[0], "IN", &t) != 0) {
                eng_sx_free(l);
                eng_query_free(&q);
                eng_rel_free(r);
                return NULL;
            }
            keys_push(keys, bx_cast_to(c, l, t), bx_cast_to(c, eng_sx_col(0, r->types[0]), t));
            r = project_range(r, 0, 1);
        } else {
            r = project_range(r, 0, 0);
        }
        eng_query_free(&q);
        return eng_rel_distinct(r);
    }
    if (!is_name_error(&tmp)) {
        *c->err = tmp;
        return NULL;
    }
    /* Correlated: bind the subquery's FROM, split its WHERE. */
    const json_t *b = NULL;
    eng_pg_node(subselect, &b);
    if (b == NULL)
        b = subselect;
    const char *op = eng_pg_str(b, "op");
    if ((op && strcmp(op, "SETOP_NONE") != 0) || json_object_get(b, "groupClause") ||
        json_object_get(b, "havingClause") || json_object_get(b, "distinctClause") ||
        json_object_get(b, "limitCount") || json_object_get(b, "withClause") ||
        bx_has_agg(json_object_get(b, "targetList"))) {
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                    "correlated subqueries with grouping, DISTINCT, LIMIT or set operations are "
                    "not supported yet");
        return NULL;
    }
    eng_rel *srel = NULL;
    bscope ss = {0};
    bctx sc = *c;
    sc.agg = NULL;
    sc.cur_rel = NULL;
    sc.cur_scope = NULL;
    if (bind_from(&sc, json_object_get(b, "fromClause"), &srel, &ss) != 0)
        return NULL;
    corr k;
    if (corr_split(c, &sc, &ss, s, json_object_get(b, "whereClause"), "a correlated subquery",
                   &k) != 0) {
        eng_rel_free(srel);
        scope_free(&ss);
        return NULL;
    }
    eng_sx **local = xcalloc((size_t)k.nlocal + 1, sizeof *local);
    int nlocal = 0;
    eng_sx **inner = xcalloc((size_t)k.n + 2, sizeof *inner);
    eng_sx **outer = xcalloc((size_t)k.n + 2, sizeof *outer);
    int nk = 0;
    eng_rel *res = NULL;
    if (in_lhs != NULL) {
        json_t *tl = json_object_get(b, "targetList");
        if (json_array_size(tl) != 1) {
            bx_error_at(c, node, ENG_ERRCODE_SYNTAX_ERROR, "subquery has too many columns");
            goto done;
        }
        const json_t *rb = NULL;
        eng_pg_node(json_array_get(tl, 0), &rb);
        inner[nk] = bx_expr(&sc, &ss, json_object_get(rb, "val"));
        outer[nk] = inner[nk] ? bx_expr(c, s, in_lhs) : NULL;
        if (outer[nk] == NULL) {
            eng_sx_free(inner[nk]);
            goto done;
        }
        nk++;
    }
    /* Bind the local conjuncts and the inner sides (they bound during the
     * split, so they bind again). */
    for (int i = 0; i < k.nlocal; i++)
        if ((local[nlocal] = bx_bool(&sc, &ss, k.local[i], "WHERE")) != NULL)
            nlocal++;
    for (int i = 0; i < k.n; i++) {
        inner[nk] = bx_expr(&sc, &ss, k.inner[i]);
        outer[nk] = k.outer[i];
        k.outer[i] = NULL;
        if (inner[nk] == NULL) {
            eng_sx_free(outer[nk]);
            goto done;
        }
        nk++;
    }
    if (nlocal > 0) {
        srel = eng_rel_filter(srel, nlocal, local);
        local = NULL;
        nlocal = 0;
    }
    for (int i = 0; i < nk; i++) {
        eng_type t;
        if (bx_common_type(c, inner[i]->type, outer[i]->type, "IN", &t) != 0)
            goto done;
        inner[i] = bx_cast_to(c, inner[i], t);
        outer[i] = bx_cast_to(c, outer[i], t);
    }
    int base = srel->ncols;
    srel = map_exprs(c, srel, nk, inner);
    for (int i = 0; i < nk; i++)
        inner[i] = NULL;
    if (srel == NULL)
        goto done;
    srel = project_range(srel, base, nk);
    for (int i = 0; i < nk; i++) {
        keys_push(keys, outer[i], eng_sx_col(i, srel->types[i]));
        outer[i] = NULL;
    }
    res = srel;
    srel = NULL;
done:
    for (int i = 0; local && i < nlocal; i++)
        eng_sx_free(local[i]);
    free(local);
    for (int i = 0; i < nk; i++) {
        eng_sx_free(inner[i]);
        eng_sx_free(outer[i]);
    }
    free(inner);
    free(outer);
    corr_free(&k);
    eng_rel_free(srel);
    scope_free(&ss);
    return res ? eng_rel_distinct(res) : NULL;
}

/* rel semi-joined with d (distinct key tuples) on keys: the rows of rel
 * that have a match, each once per its own multiplicity. */
static eng_rel *
semijoin(bctx *c, eng_rel *rel, eng_rel *d, keyvec *keys, const json_t *node)
{
    int n = rel->ncols;
    eng_rel *j = make_join(c, OP_JOIN_INNER, rel, d, NULL, keys, node);
    return j ? project_range(j, 0, n) : NULL;
}

/* A WHERE conjunct that is [NOT] EXISTS (...) or x [NOT] IN (...):
 * applied to *rel as a semi- or anti-join. Returns 1 if handled, 0 if the
 * conjunct is something else, -1 on error. */
static int
where_sublink(bctx *c, eng_rel **rel, const bscope *s, const json_t *node)
{
    const json_t *b = NULL;
    const char *t = eng_pg_node(node, &b);
    bool neg = false;
    if (t != NULL && strcmp(t, "BoolExpr") == 0 &&
        strcmp(eng_pg_str(b, "boolop") ?: "", "NOT_EXPR") == 0) {
        const json_t *inner = json_array_get(json_object_get(b, "args"), 0);
        const char *it = eng_pg_node(inner, NULL);
        if (it == NULL || strcmp(it, "SubLink") != 0)
            return 0;
        neg = true;
        node = inner;
        t = eng_pg_node(node, &b);
    }
    if (t == NULL || strcmp(t, "SubLink") != 0)
        return 0;
    const char *kind = eng_pg_str(b, "subLinkType") ?: "";
    const json_t *lhs = NULL;
    if (strcmp(kind, "ANY_SUBLINK") == 0) {
        json_t *opn = json_object_get(b, "operName");
        const char *o = opn ? eng_pg_strnode(json_array_get(opn, json_array_size(opn) - 1)) : "=";
        if (o == NULL || strcmp(o, "=") != 0)
            return 0;
        lhs = json_object_get(b, "testexpr");
        const char *lk = eng_pg_node(lhs, NULL);
        if (lk && strcmp(lk, "RowExpr") == 0) {
            bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                        "row constructors in IN (subquery) are not supported yet");
            return -1;
        }
    } else if (strcmp(kind, "EXISTS_SUBLINK") != 0) {
        return 0;
    }
    keyvec keys = {0};
    eng_rel *d = sub_keys(c, s, json_object_get(b, "subselect"), lhs, &keys, node);
    if (d == NULL) {
        keys_free(&keys);
        return -1;
    }
    if (!neg) {
        *rel = semijoin(c, *rel, d, &keys, node);
        keys_free(&keys);
        return *rel ? 1 : -1;
    }
    if (lhs == NULL) {
        /* NOT EXISTS: rel minus its semi-join. */
        eng_rel *copy = eng_rel_copy(*rel);
        eng_rel *semi = semijoin(c, copy, d, &keys, node);
        keys_free(&keys);
        if (semi == NULL)
            return -1;
        eng_rel **v = xcalloc(2, sizeof *v);
        v[0] = *rel;
        v[1] = eng_rel_negate(semi);
        *rel = eng_rel_union(2, v);
        return 1;
    }
    /* x NOT IN (subquery): true when the subquery is empty, or when x is
     * not NULL, matches nothing and the subquery holds no NULL. */
    if (keys.n != 1) {
        keys_free(&keys);
        eng_rel_free(d);
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                    "correlated NOT IN subqueries are not supported yet; use NOT EXISTS");
        return -1;
    }
    int n = (*rel)->ncols;
    eng_sx *x = eng_sx_copy(keys.l[0]);
    eng_rel *dcopy = eng_rel_copy(d);
    eng_rel *copy = eng_rel_copy(*rel);
    eng_rel *semi = semijoin(c, copy, d, &keys, node);
    keys_free(&keys);
    if (semi == NULL) {
        eng_sx_free(x);
        eng_rel_free(dcopy);
        return -1;
    }
    eng_rel **v = xcalloc(2, sizeof *v);
    v[0] = *rel;
    v[1] = eng_rel_negate(semi);
    eng_rel *anti = eng_rel_union(2, v);
    /* Counts over the subquery: rows and non-NULL values. */
    eng_agg aggs[2] = {{OP_AGG_COUNT_STAR, -1, NULL}, {OP_AGG_COUNT, 0, NULL}};
    eng_rel *cnt = eng_rel_reduce(dcopy, 0, NULL, 2, aggs, true);
    keyvec none = {0};
    eng_rel *j = make_join(c, OP_JOIN_INNER, anti, cnt, NULL, &none, node);
    keys_free(&none);
    if (j == NULL) {
        eng_sx_free(x);
        return -1;
    }
    eng_type i8 = eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE);
    eng_sx *a0[2] = {eng_sx_col(n, i8), eng_sx_int8(0)};
    eng_sx *empty = eng_sx_call(OP_EQ, 2, a0);
    eng_sx *a1[1] = {x};
    eng_sx *notnull = eng_sx_call(OP_IS_NOT_NULL, 1, a1);
    eng_sx *a2[2] = {eng_sx_col(n, i8), eng_sx_col(n + 1, i8)};
    eng_sx *nonulls = eng_sx_call(OP_EQ, 2, a2);
    eng_sx *a3[2] = {notnull, nonulls};
    eng_sx *both = eng_sx_call(OP_AND, 2, a3);
    eng_sx *a4[2] = {empty, both};
    eng_sx **pred = xcalloc(1, sizeof *pred);
    pred[0] = eng_sx_call(OP_OR, 2, a4);
    bscope tmp = {0};
    (void)tmp;
    j = eng_rel_filter(j, 1, pred);
    *rel = project_range(j, 0, n);
    return 1;
}

/* x op ANY (S) / x op ALL (S) over an uncorrelated one-column S, with
 * SQL's three-valued result, from a summary of S joined onto the FROM
 * relation: n = count(*), nn = count(y), lo = min(y), hi = max(y), and
 * for = / <> a LEFT JOIN on x telling whether x occurs in S.
 *   x < ANY: x < hi true; else NULL if x NULL or nn < n (n > 0)...
 * Each case reduces to: TRUE if some y compares TRUE, FALSE if every y
 * compares FALSE, NULL otherwise (ALL: dually). */
static eng_sx *
quantified(bctx *c, const bscope *s, const json_t *node, const json_t *b, bool all)
{
    json_t *opn = json_object_get(b, "operName");
    const char *o = opn ? eng_pg_strnode(json_array_get(opn, json_array_size(opn) - 1)) : "=";
    op_fn fn;
    if (o == NULL)
        o = "=";
    if (strcmp(o, "=") == 0)
        fn = OP_EQ;
    else if (strcmp(o, "<>") == 0 || strcmp(o, "!=") == 0)
        fn = OP_NE;
    else if (strcmp(o, "<") == 0)
        fn = OP_LT;
    else if (strcmp(o, "<=") == 0)
        fn = OP_LE;
    else if (strcmp(o, ">") == 0)
        fn = OP_GT;
    else if (strcmp(o, ">=") == 0)
        fn = OP_GE;
    else {
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                    "operator %s with ANY/ALL is not supported", o);
        return NULL;
    }
    const json_t *lhs = json_object_get(b, "testexpr");
    eng_sx *x = bx_expr(c, s, lhs);
    if (x == NULL)
        return NULL;
    eng_query q;
    eng_err tmp;
    eng_err_clear(&tmp);
    bctx sub = *c;
    sub.err = &tmp;
    sub.cur_rel = NULL;
    sub.cur_scope = NULL;
    sub.deps = NULL;
    sub.ndeps = 0;
    int rc = bq_select(&sub, json_object_get(b, "subselect"), &q);
    for (int i = 0; i < sub.ndeps; i++)
        add_dep(c, sub.deps[i]);
    free(sub.deps);
    if (rc != 0) {
        eng_sx_free(x);
        if (is_name_error(&tmp))
            bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                        "correlated subqueries in ANY/ALL/IN expressions are not supported yet "
                        "(%s)",
                        tmp.message);
        else
            *c->err = tmp;
        return NULL;
    }
    if (q.ncols != 1) {
        eng_query_free(&q);
        eng_sx_free(x);
        bx_error_at(c, node, ENG_ERRCODE_SYNTAX_ERROR, "subquery has too many columns");
        return NULL;
    }
    eng_rel *r = bq_query_rel(&q);
    eng_type yt = q.types[0];
    eng_query_free(&q);
    eng_type t;
    if (bx_common_type(c, x->type, yt, "ANY/ALL", &t) != 0) {
        eng_sx_free(x);
        eng_rel_free(r);
        return NULL;
    }
    x = bx_cast_to(c, x, t);
    eng_rel *rs = r;
    if (yt.id != t.id) {
        eng_sx *m[1] = {bx_cast_to(c, eng_sx_col(0, yt), t)};
        rs = map_exprs(c, rs, 1, m);
        rs = rs ? project_range(rs, 1, 1) : NULL;
        if (rs == NULL) {
            eng_sx_free(x);
            return NULL;
        }
    }
    bool eqlike = fn == OP_EQ || fn == OP_NE;
    eng_rel *rcopy = eqlike ? eng_rel_copy(rs) : NULL;
    eng_agg aggs[4] = {{OP_AGG_COUNT_STAR, -1, NULL},
                       {OP_AGG_COUNT, 0, NULL},
                       {OP_AGG_MIN, 0, NULL},
                       {OP_AGG_MAX, 0, NULL}};
    eng_rel *summary = eng_rel_reduce(rs, 0, NULL, 4, aggs, true);
    keyvec none = {0};
    int base = (*c->cur_rel)->ncols;
    eng_rel *j = make_join(c, OP_JOIN_INNER, *c->cur_rel, summary, NULL, &none, node);
    keys_free(&none);
    *c->cur_rel = j;
    if (j == NULL) {
        eng_sx_free(x);
        eng_rel_free(rcopy);
        return NULL;
    }
    bscope *cs = c->cur_scope;
    for (int i = 0; i < 4; i++) {
        scope_add(cs, NULL, NULL, j->types[base + i]);
        cs->cols[cs->n - 1].star = false;
        cs->cols[cs->n - 1].star_pos = -1;
        cs->cols[cs->n - 1].hidden = true;
    }
    eng_type i8 = eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE);
    eng_sx *n = eng_sx_col(base, i8), *nn = eng_sx_col(base + 1, i8);
    eng_sx *lo = eng_sx_col(base + 2, t), *hi = eng_sx_col(base + 3, t);
    int found = -1;
    if (eqlike) {
        /* found: TRUE where x occurs in S (a LEFT JOIN on x). */
        eng_sx *mt[1] = {eng_sx_bool(true)};
        eng_rel *d = map_exprs(c, eng_rel_distinct(rcopy), 1, mt);
        keyvec keys = {0};
        keys_push(&keys, eng_sx_copy(x), eng_sx_col(0, t));
        int b2 = (*c->cur_rel)->ncols;
        eng_rel *j2 = d ? make_join(c, OP_JOIN_LEFT, *c->cur_rel, d, NULL, &keys, node) : NULL;
        keys_free(&keys);
        *c->cur_rel = j2;
        if (j2 == NULL) {
            eng_sx_free(x);
            eng_sx_free(n);
            eng_sx_free(nn);
            eng_sx_free(lo);
            eng_sx_free(hi);
            return NULL;
        }
        for (int i = 0; i < 2; i++) {
            scope_add(cs, NULL, NULL, j2->types[b2 + i]);
            cs->cols[cs->n - 1].star = false;
            cs->cols[cs->n - 1].star_pos = -1;
            cs->cols[cs->n - 1].hidden = true;
        }
        found = b2 + 1;
    }
    /* Build CASE over the summary. `some_true` / `all_false` per operator. */
    eng_sx *some_true, *all_false;
    eng_sx *nulls = NULL; /* S holds a NULL */
    {
        eng_sx *a[2] = {eng_sx_copy(nn), eng_sx_copy(n)};
        nulls = eng_sx_call(OP_LT, 2, a);
    }
    eng_type bt = eng_type_make(ENG_TYPE_BOOL, ENG_TYPMOD_NONE);
    switch (fn) {
    case OP_EQ: {
        if (!all) {
            eng_sx *a[1] = {eng_sx_col(found, bt)};
            some_true = eng_sx_call(OP_IS_NOT_NULL, 1, a);
            /* every y <> x: x not found, no NULL in S, x not NULL */
            eng_sx *b1[1] = {eng_sx_col(found, bt)};
            eng_sx *b3[1] = {eng_sx_copy(x)};
            eng_sx *b4[1] = {eng_sx_copy(nulls)};
            eng_sx *parts[3] = {eng_sx_call(OP_IS_NULL, 1, b1), eng_sx_call(OP_IS_NOT_NULL, 1, b3),
                                eng_sx_call(OP_NOT, 1, b4)};
            all_false = eng_sx_call(OP_AND, 3, parts);
        } else {
            /* = ALL: TRUE iff every y = x: lo = hi = x and no NULL */
            eng_sx *e1[2] = {eng_sx_copy(lo), eng_sx_copy(x)};
            eng_sx *e2[2] = {eng_sx_copy(hi), eng_sx_copy(x)};
            eng_sx *e3[1] = {eng_sx_copy(nulls)};
            eng_sx *parts[3] = {eng_sx_call(OP_EQ, 2, e1), eng_sx_call(OP_EQ, 2, e2),
                                eng_sx_call(OP_NOT, 1, e3)};
            some_true = eng_sx_call(OP_AND, 3, parts); /* here: "all true" */
            /* some y <> x known: lo <> x or hi <> x */
            eng_sx *f1[2] = {eng_sx_copy(lo), eng_sx_copy(x)};
            eng_sx *f2[2] = {eng_sx_copy(hi), eng_sx_copy(x)};
            eng_sx *fp[2] = {eng_sx_call(OP_NE, 2, f1), eng_sx_call(OP_NE, 2, f2)};
            all_false = eng_sx_call(OP_OR, 2, fp); /* here: "some false" */
        }
        break;
    }
    case OP_NE: {
        if (!all) {
            /* <> ANY: some y <> x: lo <> x or hi <> x; all equal: lo = hi = x, no NULL */
            eng_sx *f1[2] = {eng_sx_copy(lo), eng_sx_copy(x)};
            eng_sx *f2[2] = {eng_sx_copy(hi), eng_sx_copy(x)};
            eng_sx *fp[2] = {eng_sx_call(OP_NE, 2, f1), eng_sx_call(OP_NE, 2, f2)};
            some_true = eng_sx_call(OP_OR, 2, fp);
            eng_sx *e1[2] = {eng_sx_copy(lo), eng_sx_copy(x)};
            eng_sx *e2[2] = {eng_sx_copy(hi), eng_sx_copy(x)};
            eng_sx *e3[1] = {eng_sx_copy(nulls)};
            eng_sx *parts[3] = {eng_sx_call(OP_EQ, 2, e1), eng_sx_call(OP_EQ, 2, e2),
                                eng_sx_call(OP_NOT, 1, e3)};
            all_false = eng_sx_call(OP_AND, 3, parts);
        } else {
            /* <> ALL = NOT IN: all true when x not found, no NULL, x not NULL;
             * some false when found. */
            eng_sx *b1[1] = {eng_sx_col(found, bt)};
            eng_sx *b3[1] = {eng_sx_copy(x)};
            eng_sx *b4[1] = {eng_sx_copy(nulls)};
            eng_sx *parts[3] = {eng_sx_call(OP_IS_NULL, 1, b1), eng_sx_call(OP_IS_NOT_NULL, 1, b3),
                                eng_sx_call(OP_NOT, 1, b4)};
            some_true = eng_sx_call(OP_AND, 3, parts);
            eng_sx *a[1] = {eng_sx_col(found, bt)};
            all_false = eng_sx_call(OP_IS_NOT_NULL, 1, a);
        }
        break;
    }
    default: {
        /* x > ANY: x > lo; all false: x <= hi over non-NULL y, no NULL.
         * x > ALL: x > hi and no NULL; some false: x <= lo. (Mirrored for <.) */
        bool gt = fn == OP_GT || fn == OP_GE;
        op_fn neg = fn == OP_GT ? OP_LE : fn == OP_GE ? OP_LT : fn == OP_LT ? OP_GE : OP_GT;
        eng_sx *ext_any = gt ? lo : hi, *ext_all = gt ? hi : lo;
        if (!all) {
            eng_sx *a[2] = {eng_sx_copy(x), eng_sx_copy(ext_any)};
            some_true = eng_sx_call(fn, 2, a);
            eng_sx *b1[2] = {eng_sx_copy(x), eng_sx_copy(ext_all)};
            eng_sx *b2[1] = {eng_sx_copy(nulls)};
            eng_sx *parts[2] = {eng_sx_call(neg, 2, b1), eng_sx_call(OP_NOT, 1, b2)};
            all_false = eng_sx_call(OP_AND, 2, parts);
        } else {
            eng_sx *a[2] = {eng_sx_copy(x), eng_sx_copy(ext_all)};
            eng_sx *b2[1] = {eng_sx_copy(nulls)};
            eng_sx *parts[2] = {eng_sx_call(fn, 2, a), eng_sx_call(OP_NOT, 1, b2)};
            some_true = eng_sx_call(OP_AND, 2, parts); /* all true */
            eng_sx *b1[2] = {eng_sx_copy(x), eng_sx_copy(ext_any)};
            all_false = eng_sx_call(neg, 2, b1); /* some false */
        }
        break;
    }
    }
    /* ANY: CASE WHEN n = 0 THEN FALSE WHEN some_true THEN TRUE
     *           WHEN all_false THEN FALSE ELSE NULL END
     * ALL: CASE WHEN n = 0 THEN TRUE WHEN all_true THEN TRUE
     *           WHEN some_false THEN FALSE ELSE NULL END */
    eng_sx *z[2] = {eng_sx_copy(n), eng_sx_int8(0)};
    eng_sx *whens[3] = {eng_sx_call(OP_EQ, 2, z), some_true, all_false};
    eng_sx *thens[3] = {eng_sx_bool(all), eng_sx_bool(true), eng_sx_bool(false)};
    eng_sx *res = eng_sx_case(NULL, 3, whens, thens, eng_sx_null(bt));
    eng_sx_free(n);
    eng_sx_free(nn);
    eng_sx_free(lo);
    eng_sx_free(hi);
    eng_sx_free(nulls);
    eng_sx_free(x);
    if (bx_typecheck(c, cs, res) != 0) {
        eng_sx_free(res);
        return NULL;
    }
    return res;
}

/* A correlated scalar subquery `(SELECT e FROM ... WHERE inner = outer
 * AND ...)`, e possibly an aggregate: rewritten (on a copy of its parse
 * tree) into an uncorrelated query that also returns the inner
 * correlation expressions (grouped by them if e aggregates), LEFT JOINed
 * onto the FROM relation by those expressions. */
static eng_sx *
correlated_scalar(bctx *c, const bscope *s, const json_t *node, const json_t *subselect)
{
    const json_t *b = NULL;
    eng_pg_node(subselect, &b);
    if (b == NULL)
        b = subselect;
    const char *op = eng_pg_str(b, "op");
    json_t *tl = json_object_get(b, "targetList");
    if ((op && strcmp(op, "SETOP_NONE") != 0) || json_object_get(b, "groupClause") ||
        json_object_get(b, "havingClause") || json_object_get(b, "distinctClause") ||
        json_object_get(b, "limitCount") || json_object_get(b, "withClause") ||
        json_object_get(b, "sortClause") || json_array_size(tl) != 1) {
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                    "correlated scalar subqueries must be a single expression over FROM ... "
                    "WHERE, without GROUP BY, DISTINCT, ORDER BY or LIMIT");
        return NULL;
    }
    eng_rel *srel = NULL;
    bscope ss = {0};
    bctx sc = *c;
    sc.agg = NULL;
    sc.cur_rel = NULL;
    sc.cur_scope = NULL;
    sc.deps = NULL;
    sc.ndeps = 0;
    if (bind_from(&sc, json_object_get(b, "fromClause"), &srel, &ss) != 0) {
        free(sc.deps);
        return NULL;
    }
    eng_rel_free(srel);
    free(sc.deps);
    corr k;
    eng_sx *res = NULL;
    eng_query q = {0};
    json_t *copy = NULL;
    if (corr_split(c, &sc, &ss, s, json_object_get(b, "whereClause"), "a correlated subquery",
                   &k) != 0) {
        scope_free(&ss);
        return NULL;
    }
    eng_sx **outer = k.outer;
    int nk = k.n;
    /* The uncorrelated query: local conjuncts, value ++ inner keys,
     * grouped by the inner keys if the value aggregates. */
    copy = corr_rewrite(b, &k);
    bool agg = bx_has_agg(tl);
    if (agg) {
        json_t *group = json_array();
        for (int i = 0; i < nk; i++)
            json_array_append_new(group, json_deep_copy(k.inner[i]));
        json_object_set_new(copy, "groupClause", group);
    }
    bctx sub = *c;
    sub.cur_rel = NULL;
    sub.cur_scope = NULL;
    sub.agg = NULL;
    sub.deps = NULL;
    sub.ndeps = 0;
    int rc = bq_select(&sub, copy, &q);
    c->ctes = sub.ctes; /* sub may have grown the shared CTE array */
    for (int i = 0; i < sub.ndeps; i++)
        add_dep(c, sub.deps[i]);
    free(sub.deps);
    if (rc != 0)
        goto done;
    eng_rel *r = bq_query_rel(&q);
    if (!agg) {
        /* Several inner rows per key would multiply outer rows: Materialize
         * reports an error there; we keep one value per key (the least). */
        eng_agg a = {OP_AGG_MIN, 0, NULL};
        int *g = xcalloc((size_t)nk + 1, sizeof *g);
        int *cols = xcalloc((size_t)nk + 1, sizeof *cols);
        for (int i = 0; i < nk; i++)
            g[i] = 1 + i;
        r = eng_rel_reduce(r, nk, g, 1, &a, false);
        for (int i = 0; i < nk + 1; i++)
            cols[i] = i == 0 ? nk : i - 1;
        r = eng_rel_project(r, nk + 1, cols);
        free(g);
        free(cols);
    }
    keyvec keys = {0};
    for (int i = 0; i < nk; i++) {
        eng_type t;
        if (bx_common_type(c, outer[i]->type, r->types[1 + i], "=", &t) != 0) {
            keys_free(&keys);
            eng_rel_free(r);
            goto done;
        }
        keys_push(&keys, bx_cast_to(c, outer[i], t),
                  bx_cast_to(c, eng_sx_col(1 + i, r->types[1 + i]), t));
        outer[i] = NULL;
    }
    int base = (*c->cur_rel)->ncols;
    eng_type vt = r->types[0];
    int rn = r->ncols;
    eng_rel *j = make_join(c, OP_JOIN_LEFT, *c->cur_rel, r, NULL, &keys, node);
    keys_free(&keys);
    *c->cur_rel = j;
    if (j == NULL)
        goto done;
    bscope *cs = c->cur_scope;
    for (int i = 0; i < rn; i++) {
        scope_add(cs, NULL, NULL, j->types[base + i]);
        cs->cols[cs->n - 1].star = false;
        cs->cols[cs->n - 1].star_pos = -1;
        cs->cols[cs->n - 1].hidden = true;
    }
    res = eng_sx_col(base, vt);
    /* count() over no rows is 0, not the NULL of the outer join. */
    const json_t *rb0 = NULL;
    eng_pg_node(json_array_get(tl, 0), &rb0);
    const json_t *fb = NULL;
    const char *fk = eng_pg_node(json_object_get(rb0, "val"), &fb);
    if (fk && strcmp(fk, "FuncCall") == 0) {
        json_t *fnm = json_object_get(fb, "funcname");
        const char *fname = eng_pg_strnode(json_array_get(fnm, json_array_size(fnm) - 1));
        if (fname && strcmp(fname, "count") == 0) {
            eng_sx *args[2] = {res, eng_sx_int8(0)};
            res = eng_sx_call(OP_COALESCE, 2, args);
            if (bx_typecheck(c, cs, res) != 0) {
                eng_sx_free(res);
                res = NULL;
            }
        }
    }
done:
    eng_query_free(&q);
    corr_free(&k);
    json_decref(copy);
    scope_free(&ss);
    return res;
}

/* The error of a scalar subquery that returned more than one row. */
static int
raise_cardinality(const eng_datum *args, int n, eng_rowbuf *out, eng_err *err)
{
    (void)args;
    (void)n;
    (void)out;
    return eng_err_set(err, ENG_ERRCODE_CARDINALITY_VIOLATION,
                       "more than one row returned by a subquery used as an expression");
}

eng_sx *
bq_sublink_expr(bctx *c, const bscope *s, const json_t *node, const json_t *b)
{
    const char *kind = eng_pg_str(b, "subLinkType") ?: "";
    if (c->cur_rel == NULL || c->agg != NULL || s != c->cur_scope) {
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                    "subqueries are not supported in this position yet");
        return NULL;
    }
    if (strcmp(kind, "ANY_SUBLINK") == 0 || strcmp(kind, "ALL_SUBLINK") == 0)
        return quantified(c, s, node, b, strcmp(kind, "ALL_SUBLINK") == 0);
    if (strcmp(kind, "EXPR_SUBLINK") != 0 && strcmp(kind, "EXISTS_SUBLINK") != 0) {
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "%s subqueries are not supported",
                    kind);
        return NULL;
    }
    eng_query q;
    eng_err tmp;
    eng_err_clear(&tmp);
    bctx sub = *c;
    sub.err = &tmp;
    sub.cur_rel = NULL;
    sub.cur_scope = NULL;
    sub.deps = NULL;
    sub.ndeps = 0;
    int rc = bq_select(&sub, json_object_get(b, "subselect"), &q);
    c->ctes = sub.ctes; /* sub may have grown the shared CTE array */
    for (int i = 0; i < sub.ndeps; i++)
        add_dep(c, sub.deps[i]);
    free(sub.deps);
    if (rc != 0) {
        if (is_name_error(&tmp) && strcmp(kind, "EXPR_SUBLINK") == 0)
            return correlated_scalar(c, s, node, json_object_get(b, "subselect"));
        if (is_name_error(&tmp)) {
            bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                        "correlated EXISTS is supported only as a condition of WHERE (%s)",
                        tmp.message);
            return NULL;
        }
        *c->err = tmp;
        return NULL;
    }
    eng_rel *r = bq_query_rel(&q);
    eng_type t;
    if (strcmp(kind, "EXISTS_SUBLINK") == 0) {
        eng_agg a = {OP_AGG_COUNT_STAR, -1, NULL};
        r = eng_rel_reduce(r, 0, NULL, 1, &a, true);
        t = eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE);
    } else {
        if (q.ncols != 1) {
            eng_query_free(&q);
            eng_rel_free(r);
            bx_error_at(c, node, ENG_ERRCODE_SYNTAX_ERROR, "subquery must return only one column");
            return NULL;
        }
        t = q.types[0];
    }
    eng_query_free(&q);
    if (strcmp(kind, "EXPR_SUBLINK") == 0) {
        /* More than one row is an error (21000), raised in the data: the
         * value becomes CASE WHEN count > 1 THEN <error> ELSE v END. */
        eng_rel *cnt_in = eng_rel_copy(r);
        eng_agg a = {OP_AGG_COUNT_STAR, -1, NULL};
        eng_rel *cnt = eng_rel_reduce(cnt_in, 0, NULL, 1, &a, true);
        keyvec nk = {0};
        eng_rel *rc2 = make_join(c, OP_JOIN_INNER, r, cnt, NULL, &nk, node);
        keys_free(&nk);
        if (rc2 == NULL)
            return NULL;
        eng_type i8 = eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE);
        eng_sx *gt[2] = {eng_sx_col(1, i8), eng_sx_int8(1)};
        eng_sx *w[1] = {eng_sx_call(OP_GT, 2, gt)};
        eng_sx *th[1] = {eng_sx_ext("more than one row", raise_cardinality, t, false, 0, NULL)};
        eng_sx *m[1] = {eng_sx_case(NULL, 1, w, th, eng_sx_col(0, t))};
        r = map_exprs(c, rc2, 1, m);
        if (r == NULL)
            return NULL;
        r = project_range(r, 2, 1);
    }
    /* LEFT JOIN onto the FROM relation (no keys): an empty subquery
     * gives NULL. */
    keyvec none = {0};
    eng_rel *j = make_join(c, strcmp(kind, "EXISTS_SUBLINK") == 0 ? OP_JOIN_INNER : OP_JOIN_LEFT,
                           *c->cur_rel, r, NULL, &none, node);
    keys_free(&none);
    *c->cur_rel = j;
    if (j == NULL)
        return NULL;
    bscope *cs = c->cur_scope;
    scope_add(cs, NULL, NULL, t);
    cs->cols[cs->n - 1].star = false;
    cs->cols[cs->n - 1].star_pos = -1;
    cs->cols[cs->n - 1].hidden = true;
    eng_sx *col = eng_sx_col(cs->n - 1, t);
    if (strcmp(kind, "EXISTS_SUBLINK") == 0) {
        eng_sx *args[2] = {col, eng_sx_int8(0)};
        eng_sx *e = eng_sx_call(OP_GT, 2, args);
        if (bx_typecheck(c, cs, e) != 0) {
            eng_sx_free(e);
            return NULL;
        }
        return e;
    }
    return col;
}
