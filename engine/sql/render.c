/* The renderer: IR relations to dataflow plan nodes (eng_render.h).
 *
 * Notes:
 * - render() is recursive over the IR and returns the node whose rows are
 *   a projection of the relation's columns (the projection a parent needs,
 *   e.g. "join key first"), so a MAP/FILTER/PROJECT chain and the
 *   reordering its parent asks for become one op_mfp, and a GET's layout
 *   projection folds into the parent's reordering.
 * - Keyed operators get rows whose key comes first and whose value is the
 *   whole input row (join: key ++ all columns of the side; reduce: group
 *   columns ++ the aggregates' argument columns; topk: group columns ++
 *   all columns; window: partition columns ++ all columns), over an
 *   exchange edge on the key. Their output is then
 *   projected back to the IR's column order.
 * - Sources are imported once per (dataflow, arrange node); the as_of and
 *   the holds are settled after the whole tree rendered, so a failure
 *   leaves no hold behind. */
#include "engine/sql/eng_render.h"

#include <stdlib.h>
#include <string.h>

#include "operators/op_arrange.h"
#include "operators/op_import.h"
#include "operators/op_mfp.h"
#include "operators/op_project.h"
#include "operators/op_union.h"
#include "operators/op_window.h"

struct eng_render_import {
    eng_df *src;
    int src_node;
    int node;
    op_import_params *params; /* owned by the plan; as_of filled at the end */
};

struct eng_render_const {
    int input;
    int nrows;
    eng_row *rows; /* point into buf */
    int64_t *diffs;
    uint8_t *buf;
};

typedef struct rctx {
    const eng_render_env *env;
    eng_plan *plan;
    eng_err *err;
    eng_render_import *imports;
    int nimports, capimports;
    eng_render_const *consts;
    int nconsts, capconsts;
    op_join_params **shared; /* shared joins: shared_as_of filled at the end */
    int nshared, capshared;
} rctx;

static void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    ENG_ASSERT(p != NULL);
    return p;
}

static void *
xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    ENG_ASSERT(p != NULL);
    return p;
}

#define GROW(arr, n, cap)                                                                          \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? (cap)*2 : 4;                                                           \
            (arr) = realloc((arr), (size_t)(cap) * sizeof *(arr));                                 \
            ENG_ASSERT((arr) != NULL);                                                             \
        }                                                                                          \
    } while (0)

static int render(rctx *cx, const eng_rel *r, const int *proj, int nproj);

/* ------------------------------------------------------------------ helpers */

/* A node projecting from's rows (in_ncols columns) to cols[0..n); from
 * itself when the projection is the identity. */
static int
add_project(rctx *cx, int from, int in_ncols, const int *cols, int n)
{
    bool identity = n == in_ncols;
    for (int i = 0; identity && i < n; i++)
        identity = cols[i] == i;
    if (identity)
        return from;
    op_project_params *pp = op_project_params_new(n);
    for (int i = 0; i < n; i++)
        pp->cols[i] = cols[i];
    int node = eng_plan_node(cx->plan, "project", op_project_make, pp, free, 1);
    eng_plan_edge(cx->plan, from, node, 0, -1);
    return node;
}

/* Renders r (all columns) as seen through proj: logical column c of r
 * lives at column base[c] of node `from`; returns a node with columns
 * base[proj[i]] (or base[c] for all c when proj is NULL). */
static int
finish(rctx *cx, int from, int from_ncols, const int *base, int ncols, const int *proj, int nproj)
{
    int n = proj ? nproj : ncols;
    int *cols = xmalloc((size_t)(n ? n : 1) * sizeof *cols);
    for (int i = 0; i < n; i++)
        cols[i] = base[proj ? proj[i] : i];
    int node = add_project(cx, from, from_ncols, cols, n);
    free(cols);
    return node;
}

static int
check_col(rctx *cx, int c, int ncols, const char *what)
{
    if (c < 0 || c >= ncols)
        return eng_err_set(cx->err, ENG_ERRCODE_UNDEFINED_COLUMN,
                           "%s refers to column %d of an input with %d columns", what, c, ncols);
    return 0;
}

/* Every column reference of e is in [0, ncols). */
static int
check_sx_cols(rctx *cx, const eng_sx *e, int ncols)
{
    if (e->kind == ENG_SX_COL && check_col(cx, e->col, ncols, "an expression") != 0)
        return -1;
    for (int i = 0; i < e->nargs; i++) {
        if (e->args[i] == NULL)
            return eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR, "expression without argument");
        if (check_sx_cols(cx, e->args[i], ncols) != 0)
            return -1;
    }
    return 0;
}

/* Two columns whose values must compare equal bytewise (join keys, union
 * inputs): same row tag. */
static bool
same_encoding(const eng_type *a, const eng_type *b)
{
    if (a->id == ENG_TYPE_UNKNOWN || b->id == ENG_TYPE_UNKNOWN)
        return true; /* only NULLs */
    return eng_type_tag(a) == eng_type_tag(b);
}

/* ------------------------------------------------------------------ sources */

static int
import_of(rctx *cx, const eng_render_arr *a)
{
    for (int i = 0; i < cx->nimports; i++)
        if (cx->imports[i].src == a->df && cx->imports[i].src_node == a->node)
            return cx->imports[i].node;
    op_import_params *ip = xcalloc(1, sizeof *ip);
    ip->src_df = eng_df_id(a->df);
    ip->src_node = a->node;
    ip->as_of = 0;
    int node = eng_plan_node(cx->plan, "import", op_import_make, ip, free, 0);
    GROW(cx->imports, cx->nimports, cx->capimports);
    cx->imports[cx->nimports++] = (eng_render_import){a->df, a->node, node, ip};
    return node;
}

static int
lookup(rctx *cx, const eng_rel *r, const eng_render_arr **arrs)
{
    int n = cx->env->lookup(cx->env->ctx, r->get_id, arrs, cx->err);
    if (n < 0) {
        if (!eng_err_isset(cx->err))
            eng_err_set(cx->err, ENG_ERRCODE_UNDEFINED_TABLE, "unknown collection %llu",
                        (unsigned long long)r->get_id);
        return -1;
    }
    if (n == 0)
        return eng_err_set(cx->err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "collection %s has no arrangement to read",
                           r->get_name ? r->get_name : "?");
    for (int i = 0; i < n; i++) {
        const eng_render_arr *a = &(*arrs)[i];
        if (a->df == NULL || a->key_is_row)
            continue;
        if (a->nkey <= 0)
            return eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR,
                               "arrangement of %s has no key columns",
                               r->get_name ? r->get_name : "?");
        for (int k = 0; k < a->nkey; k++)
            if (check_col(cx, a->keycols[k], r->ncols, "an arrangement key") != 0)
                return -1;
    }
    if ((*arrs)[0].df == NULL)
        return eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR, "arrangement without dataflow");
    return n;
}

static int
render_get(rctx *cx, const eng_rel *r, const int *proj, int nproj)
{
    const eng_render_arr *arrs;
    int n = lookup(cx, r, &arrs);
    if (n < 0)
        return -1;
    /* Prefer the layout needing no projection. */
    const eng_render_arr *a = &arrs[0];
    for (int i = 0; i < n; i++)
        if (arrs[i].key_is_row && arrs[i].df != NULL)
            a = &arrs[i];
    int node = import_of(cx, a);
    int off = a->key_is_row ? 0 : a->nkey;
    int *base = xmalloc((size_t)(r->ncols ? r->ncols : 1) * sizeof *base);
    for (int c = 0; c < r->ncols; c++)
        base[c] = off + c;
    node = finish(cx, node, off + r->ncols, base, r->ncols, proj, nproj);
    free(base);
    return node;
}

static int
render_const(rctx *cx, const eng_rel *r, const int *proj, int nproj)
{
    size_t total = 0;
    for (int i = 0; i < r->nrows; i++) {
        if (!eng_row_validate(r->rows[i], r->ncols))
            return eng_err_set(cx->err, ENG_ERRCODE_INVALID_BINARY_REPRESENTATION,
                               "constant row %d is not %d well-formed datums", i, r->ncols);
        uint32_t pos = 0;
        for (int c = 0; c < r->ncols; c++) {
            eng_datum d = eng_row_next(r->rows[i], &pos);
            if (d.tag != ENG_TAG_NULL && !eng_type_tag_matches(&r->types[c], d.tag))
                return eng_err_set(cx->err, ENG_ERRCODE_DATATYPE_MISMATCH,
                                   "constant row %d: column %d is not of type %s", i, c,
                                   eng_type_name(r->types[c].id));
        }
        total += r->rows[i].len;
    }
    int node = eng_plan_input(cx->plan, "constant");
    GROW(cx->consts, cx->nconsts, cx->capconsts);
    eng_render_const *k = &cx->consts[cx->nconsts++];
    k->input = node;
    k->nrows = r->nrows;
    k->buf = xmalloc(total);
    k->rows = xcalloc((size_t)r->nrows, sizeof *k->rows);
    k->diffs = xcalloc((size_t)r->nrows, sizeof *k->diffs);
    size_t off = 0;
    for (int i = 0; i < r->nrows; i++) {
        memcpy(k->buf + off, r->rows[i].data, r->rows[i].len);
        k->rows[i] = (eng_row){k->buf + off, r->rows[i].len};
        k->diffs[i] = r->diffs[i];
        off += r->rows[i].len;
    }
    int *base = xmalloc((size_t)(r->ncols ? r->ncols : 1) * sizeof *base);
    for (int c = 0; c < r->ncols; c++)
        base[c] = c;
    node = finish(cx, node, r->ncols, base, r->ncols, proj, nproj);
    free(base);
    return node;
}

/* ------------------------------------------------------------------ map / filter / project */

static bool
is_mfp(const eng_rel *r)
{
    return r->kind == ENG_REL_MAP || r->kind == ENG_REL_FILTER || r->kind == ENG_REL_PROJECT;
}

/* Adds e (a logical expression over the chain's columns so far) to the
 * mfp: copied, remapped to mfp columns by cur, lowered. */
static op_expr *
lower_remapped(const eng_sx *e, const int *cur)
{
    eng_sx *c = eng_sx_copy(e);
    eng_sx_remap(c, cur);
    op_expr *x = eng_sx_lower(c);
    eng_sx_free(c);
    return x;
}

static int
render_mfp(rctx *cx, const eng_rel *top, const int *proj, int nproj)
{
    int nchain = 0;
    const eng_rel *b = top;
    while (is_mfp(b)) {
        nchain++;
        b = b->in[0];
    }
    const eng_rel **chain = xmalloc((size_t)nchain * sizeof *chain);
    b = top;
    for (int i = nchain - 1; i >= 0; i--) {
        chain[i] = b;
        b = b->in[0];
    }
    int rc = -1;
    int *cur = NULL;
    op_mfp_params *mp = NULL;
    int from = render(cx, b, NULL, 0);
    if (from < 0)
        goto done;
    op_type *bt = xmalloc((size_t)(b->ncols ? b->ncols : 1) * sizeof *bt);
    for (int c = 0; c < b->ncols; c++)
        bt[c] = (op_type)b->types[c].id;
    mp = op_mfp_params_new(b->ncols, bt);
    free(bt);
    /* cur[c]: the mfp column holding logical column c */
    int ncur = b->ncols, capcur = b->ncols + 8;
    cur = xmalloc((size_t)capcur * sizeof *cur);
    for (int c = 0; c < ncur; c++)
        cur[c] = c;
    for (int i = 0; i < nchain; i++) {
        const eng_rel *r = chain[i];
        const eng_rel *in = r->in[0];
        if (in->ncols != ncur) {
            eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR, "relation column count mismatch");
            goto done;
        }
        switch (r->kind) {
        case ENG_REL_MAP:
            if (r->ncols != in->ncols + r->nexprs) {
                eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR, "map column count mismatch");
                goto done;
            }
            for (int j = 0; j < r->nexprs; j++) {
                if (check_sx_cols(cx, r->exprs[j], ncur) != 0)
                    goto done;
                int idx = op_mfp_map(mp, lower_remapped(r->exprs[j], cur), cx->err);
                if (idx < 0)
                    goto done;
                if (ncur == capcur) {
                    capcur *= 2;
                    int *grown = realloc(cur, (size_t)capcur * sizeof *cur);
                    ENG_ASSERT(grown != NULL);
                    cur = grown;
                }
                cur[ncur++] = idx;
            }
            break;
        case ENG_REL_FILTER:
            for (int j = 0; j < r->nexprs; j++) {
                if (check_sx_cols(cx, r->exprs[j], ncur) != 0)
                    goto done;
                if (op_mfp_filter(mp, lower_remapped(r->exprs[j], cur), cx->err) != 0)
                    goto done;
            }
            break;
        case ENG_REL_PROJECT: {
            int *nc = xmalloc((size_t)(r->ncols + 8) * sizeof *nc);
            for (int c = 0; c < r->ncols; c++) {
                if (check_col(cx, r->cols[c], ncur, "a projection") != 0) {
                    free(nc);
                    goto done;
                }
                nc[c] = cur[r->cols[c]];
            }
            free(cur);
            cur = nc;
            ncur = r->ncols;
            capcur = r->ncols + 8;
            break;
        }
        default:
            ENG_UNREACHABLE("not a map/filter/project");
        }
    }
    int n = proj ? nproj : ncur;
    int *out = xmalloc((size_t)(n ? n : 1) * sizeof *out);
    for (int i = 0; i < n; i++)
        out[i] = cur[proj ? proj[i] : i];
    int prc = op_mfp_project(mp, n, out, cx->err);
    free(out);
    if (prc != 0)
        goto done;
    rc = eng_plan_node(cx->plan, "mfp", op_mfp_make, mp, op_mfp_params_free, 1);
    mp = NULL;
    eng_plan_edge(cx->plan, from, rc, 0, -1);
done:
    if (mp)
        op_mfp_params_free(mp);
    free(cur);
    free(chain);
    return rc;
}

/* ------------------------------------------------------------------ join */

/* The arrangement of GET r keyed by exactly keys[0..n), or NULL. */
static const eng_render_arr *
shared_arr_for(rctx *cx, const eng_rel *r, const int *keys, int n)
{
    if (r->kind != ENG_REL_GET)
        return NULL;
    const eng_render_arr *arrs;
    eng_err ignored;
    eng_err_clear(&ignored);
    int na = cx->env->lookup(cx->env->ctx, r->get_id, &arrs, &ignored);
    for (int i = 0; i < na; i++) {
        const eng_render_arr *a = &arrs[i];
        if (a->df == NULL || a->key_is_row || a->nkey != n)
            continue;
        bool same = true;
        for (int k = 0; same && k < n; k++)
            same = a->keycols[k] == keys[k];
        if (same)
            return a;
    }
    return NULL;
}

/* Node of side s's rows as key ++ all columns. */
static int
render_keyed(rctx *cx, const eng_rel *r, const int *keys, int nkeys)
{
    int n = nkeys + r->ncols;
    int *cols = xmalloc((size_t)(n ? n : 1) * sizeof *cols);
    for (int k = 0; k < nkeys; k++)
        cols[k] = keys[k];
    for (int c = 0; c < r->ncols; c++)
        cols[nkeys + c] = c;
    int node = render(cx, r, cols, n);
    free(cols);
    return node;
}

static int
render_join(rctx *cx, const eng_rel *r, const int *proj, int nproj)
{
    if (r->nin != 2)
        return eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR, "join needs two inputs");
    const eng_rel *L = r->in[0], *R = r->in[1];
    if (r->join_kind < OP_JOIN_INNER || r->join_kind > OP_JOIN_FULL)
        return eng_err_set(cx->err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "unknown join kind %d",
                           (int)r->join_kind);
    if (r->nkeys < 0 || r->ncols != L->ncols + R->ncols)
        return eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR, "malformed join");
    for (int k = 0; k < r->nkeys; k++) {
        if (check_col(cx, r->lkeys[k], L->ncols, "a join key") != 0 ||
            check_col(cx, r->rkeys[k], R->ncols, "a join key") != 0)
            return -1;
        if (!same_encoding(&L->types[r->lkeys[k]], &R->types[r->rkeys[k]]))
            return eng_err_set(cx->err, ENG_ERRCODE_DATATYPE_MISMATCH,
                               "join key %d compares %s with %s (cast one side)", k,
                               eng_type_name(L->types[r->lkeys[k]].id),
                               eng_type_name(R->types[r->rkeys[k]].id));
    }
    op_join_params *jp = xcalloc(1, sizeof *jp);
    jp->kind = r->join_kind;
    jp->key_ncols = r->nkeys;
    jp->left_vcols = L->ncols;
    jp->right_vcols = R->ncols;
    jp->shared_side = -1;
    const eng_render_arr *sa = NULL;
    if (r->join_kind == OP_JOIN_INNER && r->nkeys > 0) {
        sa = shared_arr_for(cx, L, r->lkeys, r->nkeys);
        jp->shared_side = sa ? 0 : -1;
        if (sa == NULL) {
            sa = shared_arr_for(cx, R, r->rkeys, r->nkeys);
            jp->shared_side = sa ? 1 : -1;
        }
    }
    int ports[2];
    for (int s = 0; s < 2; s++) {
        const eng_rel *side = r->in[s];
        if (s == jp->shared_side) {
            ports[s] = import_of(cx, sa);
            continue;
        }
        ports[s] = render_keyed(cx, side, s == 0 ? r->lkeys : r->rkeys, r->nkeys);
        if (ports[s] < 0) {
            free(jp);
            return -1;
        }
    }
    if (jp->shared_side >= 0) {
        jp->shared_df = eng_df_id(sa->df);
        jp->shared_node = sa->node;
        GROW(cx->shared, cx->nshared, cx->capshared);
        cx->shared[cx->nshared++] = jp;
    }
    int j = eng_plan_node(cx->plan, "join", op_join_make, jp, free, 2);
    for (int s = 0; s < 2; s++) /* the import emits this worker's shard of the key */
        eng_plan_edge(cx->plan, ports[s], j, s, s == jp->shared_side ? -1 : r->nkeys);
    /* output: key ++ left ++ right; logical column c is at nkeys + c */
    int *base = xmalloc((size_t)(r->ncols ? r->ncols : 1) * sizeof *base);
    for (int c = 0; c < r->ncols; c++)
        base[c] = r->nkeys + c;
    int node = finish(cx, j, r->nkeys + r->ncols, base, r->ncols, proj, nproj);
    free(base);
    return node;
}

/* ------------------------------------------------------------------ reduce / topk / distinct */

static void
reduce_params_free(void *p)
{
    op_reduce_params *rp = p;
    for (int i = 0; i < rp->naggs; i++)
        free((char *)rp->aggs[i].sep);
    free(rp);
}

static bool
is_int(eng_typeid t)
{
    return t == ENG_TYPE_INT2 || t == ENG_TYPE_INT4 || t == ENG_TYPE_INT8;
}

/* Whether aggregate kind accepts a column of type t. */
static bool
agg_accepts(op_agg_kind kind, eng_typeid t)
{
    switch (kind) {
    case OP_AGG_COUNT_STAR:
    case OP_AGG_COUNT:
    case OP_AGG_COUNT_DISTINCT:
    case OP_AGG_MIN:
    case OP_AGG_MAX:
        return true;
    case OP_AGG_SUM_INT:
    case OP_AGG_SUM_INT8:
    case OP_AGG_AVG_INT:
        return is_int(t);
    case OP_AGG_SUM_FLOAT:
    case OP_AGG_AVG_FLOAT:
        return t == ENG_TYPE_FLOAT4 || t == ENG_TYPE_FLOAT8;
    case OP_AGG_SUM_FLOAT4:
        return t == ENG_TYPE_FLOAT4;
    case OP_AGG_SUM_NUMERIC:
    case OP_AGG_AVG_NUMERIC:
        return t == ENG_TYPE_NUMERIC || is_int(t);
    case OP_AGG_BOOL_AND:
    case OP_AGG_BOOL_OR:
        return t == ENG_TYPE_BOOL;
    case OP_AGG_STRING_AGG:
        return eng_type_is_string(t);
    }
    return false;
}

static int
render_reduce(rctx *cx, const eng_rel *r, const int *proj, int nproj)
{
    const eng_rel *in = r->in[0];
    if (r->global && r->ngroup > 0)
        return eng_err_set(cx->err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "a global aggregate has no group columns");
    if (r->ngroup < 0 || r->naggs < 0 || r->ncols != r->ngroup + r->naggs)
        return eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR, "malformed reduce");
    for (int g = 0; g < r->ngroup; g++)
        if (check_col(cx, r->group[g], in->ncols, "a group column") != 0)
            return -1;
    int nvals = 0;
    for (int a = 0; a < r->naggs; a++) {
        const eng_agg *ag = &r->aggs[a];
        if (ag->kind < OP_AGG_COUNT_STAR || ag->kind > OP_AGG_AVG_NUMERIC)
            return eng_err_set(cx->err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                               "unknown aggregate kind %d", (int)ag->kind);
        if (ag->kind == OP_AGG_COUNT_STAR)
            continue;
        if (check_col(cx, ag->col, in->ncols, "an aggregate") != 0)
            return -1;
        if (!agg_accepts(ag->kind, in->types[ag->col].id))
            return eng_err_set(cx->err, ENG_ERRCODE_DATATYPE_MISMATCH,
                               "aggregate %d cannot read a column of type %s", a,
                               eng_type_name(in->types[ag->col].id));
        nvals++;
    }
    int n = r->ngroup + nvals;
    int *cols = xmalloc((size_t)(n ? n : 1) * sizeof *cols);
    for (int g = 0; g < r->ngroup; g++)
        cols[g] = r->group[g];
    op_reduce_params *rp = op_reduce_params_new(r->ngroup, r->naggs);
    rp->mode = OP_REDUCE_GROUP;
    rp->global = r->global;
    int v = 0;
    for (int a = 0; a < r->naggs; a++) {
        const eng_agg *ag = &r->aggs[a];
        rp->aggs[a].kind = ag->kind;
        rp->aggs[a].sep = NULL;
        if (ag->kind == OP_AGG_STRING_AGG) {
            const char *s = ag->sep ? ag->sep : "";
            size_t len = strlen(s) + 1;
            char *sep = xmalloc(len);
            memcpy(sep, s, len);
            rp->aggs[a].sep = sep;
        }
        if (ag->kind == OP_AGG_COUNT_STAR) {
            rp->aggs[a].col = 0;
            continue;
        }
        cols[r->ngroup + v] = ag->col;
        rp->aggs[a].col = v++;
    }
    int from = render(cx, in, cols, n);
    free(cols);
    if (from < 0) {
        reduce_params_free(rp);
        return -1;
    }
    int node = eng_plan_node(cx->plan, "reduce", op_reduce_make, rp, reduce_params_free, 1);
    eng_plan_edge(cx->plan, from, node, 0, r->ngroup);
    int *base = xmalloc((size_t)(r->ncols ? r->ncols : 1) * sizeof *base);
    for (int c = 0; c < r->ncols; c++)
        base[c] = c;
    node = finish(cx, node, r->ncols, base, r->ncols, proj, nproj);
    free(base);
    return node;
}

static int
render_topk(rctx *cx, const eng_rel *r, const int *proj, int nproj)
{
    const eng_rel *in = r->in[0];
    if (r->ngroup < 0 || r->norder < 0 || r->ncols != in->ncols)
        return eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR, "malformed topk");
    if (r->offset < 0)
        return eng_err_set(cx->err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "OFFSET must not be negative");
    for (int g = 0; g < r->ngroup; g++)
        if (check_col(cx, r->group[g], in->ncols, "a group column") != 0)
            return -1;
    for (int o = 0; o < r->norder; o++)
        if (check_col(cx, r->order[o].col, in->ncols, "an order column") != 0)
            return -1;
    int from = render_keyed(cx, in, r->group, r->ngroup);
    if (from < 0)
        return -1;
    op_topk_params *tp = op_topk_params_new(r->ngroup, r->norder);
    tp->limit = r->limit < 0 ? -1 : r->limit;
    tp->offset = r->offset;
    for (int o = 0; o < r->norder; o++)
        tp->order[o] = r->order[o];
    int node = eng_plan_node(cx->plan, "topk", op_topk_make, tp, free, 1);
    eng_plan_edge(cx->plan, from, node, 0, r->ngroup);
    int *base = xmalloc((size_t)(r->ncols ? r->ncols : 1) * sizeof *base);
    for (int c = 0; c < r->ncols; c++)
        base[c] = r->ngroup + c;
    node = finish(cx, node, r->ngroup + r->ncols, base, r->ncols, proj, nproj);
    free(base);
    return node;
}

/* WINDOW: partition columns ++ all input columns into op_window (exchange
 * on the partition; none: worker 0), whose output (partition ++ input ++
 * function columns) is projected back to input ++ function columns. */
static int
render_window(rctx *cx, const eng_rel *r, const int *proj, int nproj)
{
    const eng_rel *in = r->in[0];
    if (r->npart < 0 || r->norder < 0 || r->nwin < 0 || r->ncols != in->ncols + r->nwin ||
        (r->npart > 0 && r->part == NULL) || (r->norder > 0 && r->order == NULL) ||
        (r->nwin > 0 && r->wins == NULL))
        return eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR, "malformed window");
    for (int g = 0; g < r->npart; g++)
        if (check_col(cx, r->part[g], in->ncols, "a partition column") != 0)
            return -1;
    for (int o = 0; o < r->norder; o++)
        if (check_col(cx, r->order[o].col, in->ncols, "an order column") != 0)
            return -1;
    for (int i = 0; i < r->nwin; i++) {
        const eng_win *w = &r->wins[i];
        switch (w->kind) {
        case OP_WINDOW_ROW_NUMBER:
        case OP_WINDOW_RANK:
        case OP_WINDOW_DENSE_RANK:
            continue;
        case OP_WINDOW_LAG:
        case OP_WINDOW_LEAD:
            break;
        default:
            return eng_err_set(cx->err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                               "unknown window function kind %d", (int)w->kind);
        }
        if (check_col(cx, w->col, in->ncols, "a window function") != 0)
            return -1;
        if (!eng_row_validate(w->dflt, 1))
            return eng_err_set(cx->err, ENG_ERRCODE_DATATYPE_MISMATCH,
                               "window function %d: the default is not one datum", i);
        if (w->dflt.data[0] != ENG_TAG_NULL &&
            !eng_type_tag_matches(&in->types[w->col], w->dflt.data[0]))
            return eng_err_set(cx->err, ENG_ERRCODE_DATATYPE_MISMATCH,
                               "window function %d: the default is not of type %s", i,
                               eng_type_name(in->types[w->col].id));
    }
    int from = render_keyed(cx, in, r->part, r->npart);
    if (from < 0)
        return -1;
    /* value columns = input columns: order and function columns stay as they are */
    op_window_params *wp = op_window_params_new(r->npart, r->norder, r->nwin);
    for (int o = 0; o < r->norder; o++)
        wp->order[o] = r->order[o];
    for (int i = 0; i < r->nwin; i++) {
        wp->fns[i].kind = r->wins[i].kind;
        wp->fns[i].col = r->wins[i].col;
        wp->fns[i].offset = r->wins[i].offset;
        if (r->wins[i].kind == OP_WINDOW_LAG || r->wins[i].kind == OP_WINDOW_LEAD)
            op_window_params_set_default(wp, i, r->wins[i].dflt); /* validated above */
    }
    int node = eng_plan_node(cx->plan, "window", op_window_make, wp, op_window_params_free, 1);
    eng_plan_edge(cx->plan, from, node, 0, r->npart);
    int *base = xmalloc((size_t)(r->ncols ? r->ncols : 1) * sizeof *base);
    for (int c = 0; c < r->ncols; c++)
        base[c] = r->npart + c;
    node = finish(cx, node, r->npart + r->ncols, base, r->ncols, proj, nproj);
    free(base);
    return node;
}

/* Renders the single-input, column-preserving kinds (distinct, threshold,
 * negate) and union. */
static int
render_setop(rctx *cx, const eng_rel *r, const int *proj, int nproj)
{
    /* Column-preserving and row-wise: the parent's projection can go below
     * negate and union; distinct/threshold need whole rows. */
    bool push = r->kind == ENG_REL_NEGATE || r->kind == ENG_REL_UNION;
    int node;
    if (r->kind == ENG_REL_UNION) {
        if (r->nin < 1)
            return eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR, "union without inputs");
        for (int i = 0; i < r->nin; i++) {
            const eng_rel *x = r->in[i];
            bool ok = x->ncols == r->ncols;
            for (int c = 0; ok && c < r->ncols; c++)
                ok = same_encoding(&x->types[c], &r->types[c]);
            if (!ok)
                return eng_err_set(cx->err, ENG_ERRCODE_DATATYPE_MISMATCH,
                                   "union input %d does not have the column types of input 0", i);
        }
        if (r->nin == 1)
            return render(cx, r->in[0], proj, nproj);
        int *ports = xmalloc((size_t)r->nin * sizeof *ports);
        for (int i = 0; i < r->nin; i++) {
            ports[i] = render(cx, r->in[i], proj, nproj);
            if (ports[i] < 0) {
                free(ports);
                return -1;
            }
        }
        node = eng_plan_node(cx->plan, "union", op_union_make, NULL, NULL, r->nin);
        for (int i = 0; i < r->nin; i++)
            eng_plan_edge(cx->plan, ports[i], node, i, -1);
        free(ports);
    } else if (r->kind == ENG_REL_NEGATE) {
        int from = render(cx, r->in[0], proj, nproj);
        if (from < 0)
            return -1;
        node = eng_plan_node(cx->plan, "negate", op_negate_make, NULL, NULL, 1);
        eng_plan_edge(cx->plan, from, node, 0, -1);
    } else {
        int from = render(cx, r->in[0], NULL, 0);
        if (from < 0)
            return -1;
        op_reduce_params *rp = op_reduce_params_new(OP_KEY_ALL, 0);
        rp->mode = r->kind == ENG_REL_DISTINCT ? OP_REDUCE_DISTINCT : OP_REDUCE_THRESHOLD;
        node = eng_plan_node(cx->plan, r->kind == ENG_REL_DISTINCT ? "distinct" : "threshold",
                             op_reduce_make, rp, free, 1);
        eng_plan_edge(cx->plan, from, node, 0, OP_KEY_ALL);
    }
    if (push)
        return node;
    int *base = xmalloc((size_t)(r->ncols ? r->ncols : 1) * sizeof *base);
    for (int c = 0; c < r->ncols; c++)
        base[c] = c;
    node = finish(cx, node, r->ncols, base, r->ncols, proj, nproj);
    free(base);
    return node;
}

static int
render(rctx *cx, const eng_rel *r, const int *proj, int nproj)
{
    if (r == NULL)
        return eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR, "missing relation");
    int need_in = r->kind == ENG_REL_GET || r->kind == ENG_REL_CONST
                      ? 0
                      : (r->kind == ENG_REL_JOIN ? 2 : (r->kind == ENG_REL_UNION ? -1 : 1));
    if (need_in >= 0 && r->nin != need_in)
        return eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR, "relation with %d inputs", r->nin);
    for (int i = 0; i < r->nin; i++)
        if (r->in[i] == NULL)
            return eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR, "missing input");
    for (int i = 0; proj && i < nproj; i++)
        ENG_ASSERT(proj[i] >= 0 && proj[i] < r->ncols); /* built here, checked already */
    switch (r->kind) {
    case ENG_REL_GET:
        return render_get(cx, r, proj, nproj);
    case ENG_REL_CONST:
        return render_const(cx, r, proj, nproj);
    case ENG_REL_MAP:
    case ENG_REL_FILTER:
    case ENG_REL_PROJECT:
        return render_mfp(cx, r, proj, nproj);
    case ENG_REL_JOIN:
        return render_join(cx, r, proj, nproj);
    case ENG_REL_REDUCE:
        return render_reduce(cx, r, proj, nproj);
    case ENG_REL_TOPK:
        return render_topk(cx, r, proj, nproj);
    case ENG_REL_WINDOW:
        return render_window(cx, r, proj, nproj);
    case ENG_REL_DISTINCT:
    case ENG_REL_UNION:
    case ENG_REL_NEGATE:
    case ENG_REL_THRESHOLD:
        return render_setop(cx, r, proj, nproj);
    }
    return eng_err_set(cx->err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "unknown relation kind %d",
                       (int)r->kind);
}

/* ------------------------------------------------------------------ as_of and holds */

static eng_time
readable(eng_df *df, int node)
{
    eng_time f = eng_df_frontier(df, node);
    if (f == 0)
        return 0;
    return f == ENG_TIME_MAX ? ENG_TIME_MAX - 1 : f - 1;
}

/* Picks the largest readable time over the sources and holds each there.
 * Retries when a source compacted past the chosen time meanwhile. */
static int
settle_as_of(rctx *cx, eng_time *as_of)
{
    *as_of = 0;
    if (cx->nimports == 0)
        return 0;
    for (int attempt = 0; attempt < 1000; attempt++) {
        eng_time t = 0;
        for (int i = 0; i < cx->nimports; i++) {
            eng_time r = readable(cx->imports[i].src, cx->imports[i].src_node);
            if (r > t)
                t = r;
        }
        int held = 0;
        for (; held < cx->nimports; held++) {
            eng_err e;
            eng_err_clear(&e);
            if (eng_df_hold(cx->imports[held].src, cx->imports[held].src_node, t, &e) != 0)
                break;
        }
        if (held == cx->nimports) {
            *as_of = t;
            return 0;
        }
        for (int i = 0; i < held; i++)
            eng_df_release(cx->imports[i].src, cx->imports[i].src_node, t);
    }
    return eng_err_set(cx->err, ENG_ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                       "could not find a time readable in every source");
}

static void
free_consts(eng_render_const *k, int n)
{
    for (int i = 0; i < n; i++) {
        free(k[i].rows);
        free(k[i].diffs);
        free(k[i].buf);
    }
    free(k);
}

int
eng_render(const eng_rel *rel, const eng_render_env *env, const eng_render_opts *opts,
           eng_plan *plan, eng_render_result *out, eng_err *err)
{
    rctx cx = {.env = env, .plan = plan, .err = err};
    memset(out, 0, sizeof *out);
    out->arrange = -1;
    eng_render_opts none = {0};
    if (opts == NULL)
        opts = &none;
    int node = render(&cx, rel, NULL, 0);
    if (node < 0)
        goto fail;
    out->output = node;
    if (opts->arrange == ENG_RENDER_ARRANGE_ROW) {
        op_arrange_params *ap = xcalloc(1, sizeof *ap);
        ap->key_ncols = OP_KEY_ALL;
        out->arrange = eng_plan_node(plan, "arrange", op_arrange_make, ap, free, 1);
        eng_plan_edge(plan, node, out->arrange, 0, OP_KEY_ALL);
    } else if (opts->arrange == ENG_RENDER_ARRANGE_KEYS) {
        if (opts->nkey <= 0) {
            eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "an arrangement needs keys");
            goto fail;
        }
        int n = opts->nkey + rel->ncols;
        int *cols = xmalloc((size_t)n * sizeof *cols);
        for (int k = 0; k < opts->nkey; k++) {
            if (check_col(&cx, opts->keycols[k], rel->ncols, "an arrangement key") != 0) {
                free(cols);
                goto fail;
            }
            cols[k] = opts->keycols[k];
        }
        for (int c = 0; c < rel->ncols; c++)
            cols[opts->nkey + c] = c;
        int from = add_project(&cx, node, rel->ncols, cols, n);
        free(cols);
        op_arrange_params *ap = xcalloc(1, sizeof *ap);
        ap->key_ncols = opts->nkey;
        out->arrange = eng_plan_node(plan, "arrange", op_arrange_make, ap, free, 1);
        eng_plan_edge(plan, from, out->arrange, 0, opts->nkey);
    } else if (opts->arrange != ENG_RENDER_NO_ARRANGE) {
        eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "unknown arrangement option");
        goto fail;
    }
    if (settle_as_of(&cx, &out->as_of) != 0)
        goto fail;
    for (int i = 0; i < cx.nimports; i++)
        cx.imports[i].params->as_of = out->as_of;
    for (int i = 0; i < cx.nshared; i++)
        cx.shared[i]->shared_as_of = out->as_of;
    eng_plan_set_as_of(plan, out->as_of);
    out->shared_joins = cx.nshared;
    out->nimports = cx.nimports;
    out->imports = cx.imports;
    out->nconsts = cx.nconsts;
    out->consts = cx.consts;
    free(cx.shared);
    return 0;
fail:
    free(cx.imports);
    free_consts(cx.consts, cx.nconsts);
    free(cx.shared);
    memset(out, 0, sizeof *out);
    out->arrange = -1;
    return -1;
}

void
eng_render_start(eng_render_result *res, eng_client *c, eng_df *df)
{
    ENG_ASSERT(!res->started);
    res->started = true;
    for (int i = 0; i < res->nconsts; i++) {
        const eng_render_const *k = &res->consts[i];
        eng_batch *b = eng_client_batch(c);
        for (int r = 0; r < k->nrows; r++)
            if (k->diffs[r] != 0)
                eng_batch_push(b, k->rows[r], res->as_of, k->diffs[r]);
        eng_df_send(c, df, k->input, b);
        eng_df_advance(c, df, k->input, ENG_TIME_MAX);
    }
    for (int i = 0; i < res->nimports; i++)
        op_import_ready(c, df, res->imports[i].node, res->imports[i].src, res->imports[i].src_node,
                        res->as_of);
}

void
eng_render_result_free(eng_render_result *res)
{
    if (!res->started)
        for (int i = 0; i < res->nimports; i++)
            eng_df_release(res->imports[i].src, res->imports[i].src_node, res->as_of);
    free(res->imports);
    free_consts(res->consts, res->nconsts);
    memset(res, 0, sizeof *res);
    res->arrange = -1;
}
