/* The optimiser: rewrites a bound relation before it is rendered.
 *
 * Notes: two rewrites, both semantics-preserving on multisets:
 * - constant folding: a MAP or FILTER expression without column
 *   references is evaluated once (if evaluating it fails, it stays, so the
 *   error surfaces as an error in data only for rows that reach it, as it
 *   would have);
 * - predicate pushdown: a FILTER moves below PROJECT, MAP (predicates over
 *   the map's input), other FILTERs (merged), UNION/NEGATE/DISTINCT/
 *   THRESHOLD (copied into each input), REDUCE/TOPK/WINDOW (predicates
 *   over group or partition keys only) and into the sides of joins (both
 *   sides of an inner join; the preserved side of a left or right join).
 * The tree is rewritten in place; nodes are freed or reused as they move. */
#include <stdlib.h>
#include <string.h>

#include "engine/sql/eng_bind.h"

static void *
xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    ENG_ASSERT(p != NULL);
    return p;
}

/* Folds e if it is a constant non-literal expression. */
static eng_sx *
fold(eng_sx *e)
{
    if (e == NULL || e->kind == ENG_SX_LIT || e->kind == ENG_SX_COL)
        return e;
    if (!eng_sx_is_const(e)) {
        for (int i = 0; i < e->nargs; i++)
            e->args[i] = fold(e->args[i]);
        return e;
    }
    if (e->type.id == ENG_TYPE_UNKNOWN)
        return e;
    /* EXT functions (e.g. an error raiser) are evaluated per row. */
    if (e->kind == ENG_SX_EXT)
        return e;
    for (int i = 0; i < e->nargs; i++)
        if (e->args[i] != NULL && e->args[i]->kind == ENG_SX_EXT)
            return e;
    eng_rowbuf buf = {0};
    eng_err err;
    eng_err_clear(&err);
    if (eng_bind_fold(e, &buf, &err) != 0) {
        eng_rowbuf_free(&buf);
        return e;
    }
    eng_sx *lit = eng_sx_lit(eng_rowbuf_row(&buf), e->type);
    eng_rowbuf_free(&buf);
    eng_sx_free(e);
    return lit;
}

static bool
is_true(const eng_sx *e)
{
    if (e->kind != ENG_SX_LIT)
        return false;
    uint32_t pos = 0;
    return eng_row_next(e->lit, &pos).tag == ENG_TAG_TRUE;
}

/* Largest column an expression reads is below n and every column is in
 * the set given by `ok` (NULL: any below n). */
static bool
reads_only(const eng_sx *e, int lo, int hi)
{
    if (e == NULL)
        return true;
    if (e->kind == ENG_SX_COL)
        return e->col >= lo && e->col < hi;
    for (int i = 0; i < e->nargs; i++)
        if (!reads_only(e->args[i], lo, hi))
            return false;
    return true;
}

/* Columns read map onto key positions: every column c must satisfy
 * c < nkey (key columns come first in REDUCE output, or are listed in
 * keys for TOPK/WINDOW). Returns the remap (input column per column) or
 * false. */
static bool
over_keys(const eng_sx *e, const int *keys, int nkey, bool positional)
{
    if (e == NULL)
        return true;
    if (e->kind == ENG_SX_COL) {
        if (positional)
            return e->col < nkey;
        for (int i = 0; i < nkey; i++)
            if (keys[i] == e->col)
                return true;
        return false;
    }
    for (int i = 0; i < e->nargs; i++)
        if (!over_keys(e->args[i], keys, nkey, positional))
            return false;
    return true;
}

static eng_rel *push_filter(eng_rel *f);

/* A FILTER of preds[0..n) over in (pushing it further down), or in itself
 * when n == 0. Takes ownership of in, preds (array from malloc). */
static eng_rel *
filter_over(eng_rel *in, int n, eng_sx **preds)
{
    if (n == 0) {
        free(preds);
        return in;
    }
    return push_filter(eng_rel_filter(in, n, preds));
}

/* Frees the FILTER shell f (its input and predicates were taken). */
static void
drop_shell(eng_rel *f)
{
    f->in[0] = NULL;
    f->nin = 0;
    f->nexprs = 0;
    eng_rel_free(f);
}

static eng_rel *
push_filter(eng_rel *f)
{
    eng_rel *in = f->in[0];
    int n = f->nexprs;
    eng_sx **p = f->exprs;
    switch (in->kind) {
    case ENG_REL_FILTER: {
        /* Merge into the lower filter. */
        eng_sx **all = xcalloc((size_t)(n + in->nexprs), sizeof *all);
        memcpy(all, in->exprs, (size_t)in->nexprs * sizeof *all);
        memcpy(all + in->nexprs, p, (size_t)n * sizeof *all);
        int m = n + in->nexprs;
        eng_rel *below = in->in[0];
        in->in[0] = NULL;
        in->nin = 0;
        in->nexprs = 0;
        eng_rel_free(in);
        drop_shell(f);
        return filter_over(below, m, all);
    }
    case ENG_REL_PROJECT: {
        for (int i = 0; i < n; i++)
            eng_sx_remap(p[i], in->cols);
        eng_sx **moved = xcalloc((size_t)n, sizeof *moved);
        memcpy(moved, p, (size_t)n * sizeof *moved);
        eng_rel *below = in->in[0];
        in->in[0] = filter_over(below, n, moved);
        drop_shell(f);
        return in;
    }
    case ENG_REL_MAP: {
        int nin = in->in[0]->ncols;
        eng_sx **down = xcalloc((size_t)n, sizeof *down), **up = xcalloc((size_t)n, sizeof *up);
        int nd = 0, nu = 0;
        for (int i = 0; i < n; i++) {
            if (reads_only(p[i], 0, nin))
                down[nd++] = p[i];
            else
                up[nu++] = p[i];
        }
        if (nd == 0) {
            free(down);
            free(up);
            return f;
        }
        in->in[0] = filter_over(in->in[0], nd, down);
        drop_shell(f);
        return nu ? eng_rel_filter(in, nu, up) : (free(up), in);
    }
    case ENG_REL_UNION:
    case ENG_REL_NEGATE:
    case ENG_REL_DISTINCT:
    case ENG_REL_THRESHOLD: {
        for (int k = 0; k < in->nin; k++) {
            eng_sx **c = xcalloc((size_t)n, sizeof *c);
            for (int i = 0; i < n; i++)
                c[i] = eng_sx_copy(p[i]);
            in->in[k] = filter_over(in->in[k], n, c);
        }
        f->in[0] = NULL;
        f->nin = 0;
        eng_rel_free(f);
        return in;
    }
    case ENG_REL_REDUCE:
    case ENG_REL_TOPK:
    case ENG_REL_WINDOW: {
        const int *keys = in->kind == ENG_REL_REDUCE ? in->group
                          : in->kind == ENG_REL_TOPK ? in->group
                                                     : in->part;
        int nkey = in->kind == ENG_REL_WINDOW ? in->npart : in->ngroup;
        bool positional = in->kind == ENG_REL_REDUCE; /* output: keys first */
        eng_sx **down = xcalloc((size_t)n, sizeof *down), **up = xcalloc((size_t)n, sizeof *up);
        int nd = 0, nu = 0;
        for (int i = 0; i < n; i++) {
            bool ok = nkey > 0 && over_keys(p[i], keys, nkey, positional);
            if (ok && in->kind == ENG_REL_REDUCE && in->global)
                ok = false;
            if (ok) {
                if (positional)
                    eng_sx_remap(p[i], keys);
                down[nd++] = p[i];
            } else {
                up[nu++] = p[i];
            }
        }
        if (nd == 0) {
            free(down);
            free(up);
            return f;
        }
        in->in[0] = filter_over(in->in[0], nd, down);
        drop_shell(f);
        return nu ? eng_rel_filter(in, nu, up) : (free(up), in);
    }
    case ENG_REL_JOIN: {
        int nl = in->in[0]->ncols, nr = in->in[1]->ncols;
        bool to_left = in->join_kind == OP_JOIN_INNER || in->join_kind == OP_JOIN_LEFT;
        bool to_right = in->join_kind == OP_JOIN_INNER || in->join_kind == OP_JOIN_RIGHT;
        eng_sx **l = xcalloc((size_t)n, sizeof *l), **r = xcalloc((size_t)n, sizeof *r);
        eng_sx **up = xcalloc((size_t)n, sizeof *up);
        int nlp = 0, nrp = 0, nu = 0;
        for (int i = 0; i < n; i++) {
            if (to_left && reads_only(p[i], 0, nl)) {
                l[nlp++] = p[i];
            } else if (to_right && reads_only(p[i], nl, nl + nr) && !reads_only(p[i], 0, 0)) {
                eng_sx_shift(p[i], -nl);
                r[nrp++] = p[i];
            } else {
                up[nu++] = p[i];
            }
        }
        if (nlp == 0 && nrp == 0) {
            free(l);
            free(r);
            free(up);
            return f;
        }
        in->in[0] = filter_over(in->in[0], nlp, l);
        in->in[1] = filter_over(in->in[1], nrp, r);
        drop_shell(f);
        return nu ? eng_rel_filter(in, nu, up) : (free(up), in);
    }
    default:
        return f;
    }
}

eng_rel *
eng_opt(eng_rel *r)
{
    if (r == NULL)
        return NULL;
    for (int i = 0; i < r->nin; i++)
        r->in[i] = eng_opt(r->in[i]);
    if (r->kind == ENG_REL_MAP || r->kind == ENG_REL_FILTER)
        for (int i = 0; i < r->nexprs; i++)
            r->exprs[i] = fold(r->exprs[i]);
    if (r->kind == ENG_REL_FILTER) {
        /* Drop predicates that are constant TRUE. */
        int k = 0;
        for (int i = 0; i < r->nexprs; i++) {
            if (is_true(r->exprs[i]))
                eng_sx_free(r->exprs[i]);
            else
                r->exprs[k++] = r->exprs[i];
        }
        r->nexprs = k;
        if (k == 0) {
            eng_rel *below = r->in[0];
            drop_shell(r);
            return below;
        }
        return push_filter(r);
    }
    return r;
}
