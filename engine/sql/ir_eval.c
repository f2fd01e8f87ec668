/* The naive IR evaluator (eng_ir_eval.h): recompute from scratch, written
 * for obviousness rather than speed; independent of the operators' code
 * except for scalar expressions (op_expr) and the type library. */
#include "engine/sql/eng_ir_eval.h"

#include <stdlib.h>
#include <string.h>

#include "engine/core/eng_cmp.h"
#include "engine/core/eng_numeric.h"

typedef struct ectx {
    eng_ir_eval_get_fn get;
    void *ctx;
    eng_err *err;
} ectx;

static eng_batch *
new_batch(void)
{
    eng_batch *b = calloc(1, sizeof *b);
    ENG_ASSERT(b != NULL);
    return b;
}

/* Consolidates b ignoring times (all set to 0). */
static void
consolidate(eng_batch *b)
{
    for (uint32_t i = 0; i < b->n; i++)
        b->upd[i].time = 0;
    eng_batch_consolidate(b);
}

static int eval(ectx *cx, const eng_rel *r, eng_batch **out);

/* The first n datums' bytes of the columns cols[0..n) of row, appended to
 * out; *has_null set if one is NULL. */
static void
push_cols(eng_rowbuf *out, eng_row row, const int *cols, int n, bool *has_null)
{
    for (int i = 0; i < n; i++) {
        uint32_t pos = eng_row_col_offset(row, cols[i]);
        eng_datum d = eng_row_next(row, &pos);
        if (d.tag == ENG_TAG_NULL && has_null)
            *has_null = true;
        eng_push_datum(out, d);
    }
}

static op_type *
op_types(const eng_type *t, int n)
{
    op_type *o = malloc((size_t)(n ? n : 1) * sizeof *o);
    ENG_ASSERT(o != NULL);
    for (int i = 0; i < n; i++)
        o[i] = (op_type)t[i].id;
    return o;
}

/* ------------------------------------------------------------------ map / filter */

static int
eval_map(ectx *cx, const eng_rel *r, eng_batch *in, eng_batch **out)
{
    const eng_rel *src = r->in[0];
    int n = r->nexprs;
    op_prog **progs = calloc((size_t)(n ? n : 1), sizeof *progs);
    ENG_ASSERT(progs != NULL);
    int rc = -1;
    op_eval *ev = op_eval_new();
    eng_rowbuf rb = {0};
    eng_batch *res = new_batch();
    if (r->kind == ENG_REL_MAP) {
        /* types of input ++ earlier maps: r->types */
        op_type *ot = op_types(r->types, r->ncols);
        for (int j = 0; j < n; j++) {
            op_expr *x = eng_sx_lower(r->exprs[j]);
            int c = op_expr_compile(x, src->ncols + j, ot, &progs[j], cx->err);
            op_expr_free(x);
            if (c != 0) {
                free(ot);
                goto done;
            }
        }
        free(ot);
    } else {
        op_type *ot = op_types(src->types, src->ncols);
        for (int j = 0; j < n; j++) {
            op_expr *x = eng_sx_lower(r->exprs[j]);
            int c = op_expr_compile(x, src->ncols, ot, &progs[j], cx->err);
            op_expr_free(x);
            if (c == 0 && op_prog_type(progs[j]) != OP_T_BOOL &&
                op_prog_type(progs[j]) != OP_T_UNKNOWN)
                c = eng_err_set(cx->err, ENG_ERRCODE_DATATYPE_MISMATCH,
                                "argument of WHERE must be type boolean");
            if (c != 0) {
                free(ot);
                goto done;
            }
        }
        free(ot);
    }
    for (uint32_t i = 0; i < in->n; i++) {
        eng_row row = eng_batch_row(in, i);
        op_eval_begin(ev, row);
        bool keep = true;
        eng_rowbuf_reset(&rb);
        eng_push_row(&rb, row);
        for (int j = 0; j < n && keep; j++) {
            op_val v;
            if (op_eval_run(ev, progs[j], &v, cx->err) != 0)
                goto done;
            if (r->kind == ENG_REL_MAP) {
                op_eval_add_col(ev, &v);
                op_val_push(&v, &rb);
            } else {
                keep = v.tag == ENG_TAG_TRUE;
            }
        }
        if (keep)
            eng_batch_push(res, eng_rowbuf_row(&rb), 0, in->upd[i].diff);
    }
    rc = 0;
done:
    for (int j = 0; j < n; j++)
        if (progs[j])
            op_prog_free(progs[j]);
    free(progs);
    op_eval_free(ev);
    eng_rowbuf_free(&rb);
    if (rc == 0)
        *out = res;
    else
        eng_batch_free(res);
    return rc;
}

/* ------------------------------------------------------------------ join */

static void
push_nulls(eng_rowbuf *b, int n)
{
    for (int i = 0; i < n; i++)
        eng_push_null(b);
}

static eng_batch *
eval_join(const eng_rel *r, const eng_batch *L, const eng_batch *R)
{
    eng_batch *res = new_batch();
    int lnc = r->in[0]->ncols, rnc = r->in[1]->ncols;
    bool lpad = r->join_kind == OP_JOIN_LEFT || r->join_kind == OP_JOIN_FULL;
    bool rpad = r->join_kind == OP_JOIN_RIGHT || r->join_kind == OP_JOIN_FULL;
    eng_rowbuf ka = {0}, kb = {0}, rb = {0};
    for (int side = 0; side < 2; side++) {
        const eng_batch *A = side == 0 ? L : R, *B = side == 0 ? R : L;
        const int *akeys = side == 0 ? r->lkeys : r->rkeys,
                  *bkeys = side == 0 ? r->rkeys : r->lkeys;
        for (uint32_t i = 0; i < A->n; i++) {
            eng_row ra = eng_batch_row(A, i);
            bool anull = false;
            eng_rowbuf_reset(&ka);
            push_cols(&ka, ra, akeys, r->nkeys, &anull);
            int64_t other = 0;
            for (uint32_t j = 0; j < B->n && !anull; j++) {
                eng_row rbw = eng_batch_row(B, j);
                bool bnull = false;
                eng_rowbuf_reset(&kb);
                push_cols(&kb, rbw, bkeys, r->nkeys, &bnull);
                if (bnull || !eng_row_eq(eng_rowbuf_row(&ka), eng_rowbuf_row(&kb)))
                    continue;
                other += B->upd[j].diff;
                if (side == 0) { /* each pair once, from the left */
                    eng_rowbuf_reset(&rb);
                    eng_push_row(&rb, ra);
                    eng_push_row(&rb, rbw);
                    eng_batch_push(res, eng_rowbuf_row(&rb), 0, A->upd[i].diff * B->upd[j].diff);
                }
            }
            if (other == 0 && (side == 0 ? lpad : rpad)) {
                eng_rowbuf_reset(&rb);
                if (side == 0) {
                    eng_push_row(&rb, ra);
                    push_nulls(&rb, rnc);
                } else {
                    push_nulls(&rb, lnc);
                    eng_push_row(&rb, ra);
                }
                eng_batch_push(res, eng_rowbuf_row(&rb), 0, A->upd[i].diff);
            }
        }
    }
    eng_rowbuf_free(&ka);
    eng_rowbuf_free(&kb);
    eng_rowbuf_free(&rb);
    return res;
}

/* ------------------------------------------------------------------ reduce */

/* Rows of one group: indexes into the input. */
typedef struct grp {
    eng_row key;
    uint32_t *idx;
    uint32_t n, cap;
} grp;

/* Groups in by the columns cols[0..n) (linear search over groups: small
 * inputs). key bytes live in *keys. */
static grp *
group_rows(const eng_batch *in, const int *cols, int n, eng_rowbuf *keys, uint32_t *ngroups,
           bool always_one)
{
    /* first pass: collect key offsets per row */
    uint32_t *koff = calloc(in->n + 1, sizeof *koff);
    ENG_ASSERT(koff != NULL);
    for (uint32_t i = 0; i < in->n; i++) {
        koff[i] = keys->len;
        push_cols(keys, eng_batch_row(in, i), cols, n, NULL);
    }
    koff[in->n] = keys->len;
    grp *g = calloc(in->n + 1, sizeof *g);
    ENG_ASSERT(g != NULL);
    uint32_t ng = 0;
    if (always_one && in->n == 0)
        g[ng++].key = (eng_row){keys->data, 0};
    for (uint32_t i = 0; i < in->n; i++) {
        eng_row k = {keys->data + koff[i], koff[i + 1] - koff[i]};
        uint32_t j = 0;
        while (j < ng && !eng_row_eq(g[j].key, k))
            j++;
        if (j == ng)
            g[ng++].key = k;
        if (g[j].n == g[j].cap) {
            g[j].cap = g[j].cap ? g[j].cap * 2 : 4;
            g[j].idx = realloc(g[j].idx, g[j].cap * sizeof *g[j].idx);
            ENG_ASSERT(g[j].idx != NULL);
        }
        g[j].idx[g[j].n++] = i;
    }
    free(koff);
    *ngroups = ng;
    return g;
}

static void
free_groups(grp *g, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free(g[i].idx);
    free(g);
}

static eng_datum
col_of(eng_row row, int col)
{
    uint32_t pos = eng_row_col_offset(row, col);
    return eng_row_next(row, &pos);
}

typedef struct vcount {
    eng_datum d;
    int64_t n;
} vcount;

static int
vcount_bytes_cmp(const void *x, const void *y)
{
    const vcount *a = x, *b = y;
    uint32_t n = a->d.len < b->d.len ? a->d.len : b->d.len;
    int c = n ? memcmp(a->d.ptr, b->d.ptr, n) : 0;
    return c ? c : (a->d.len < b->d.len ? -1 : a->d.len > b->d.len);
}

/* The group's distinct non-NULL values of col with positive net count. */
static vcount *
value_counts(const eng_batch *in, const grp *g, int col, uint32_t *nv)
{
    vcount *v = calloc(g->n + 1, sizeof *v);
    ENG_ASSERT(v != NULL);
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        eng_datum d = col_of(eng_batch_row(in, g->idx[i]), col);
        if (d.tag == ENG_TAG_NULL)
            continue;
        uint32_t j = 0;
        while (j < n && !(v[j].d.tag == d.tag && v[j].d.len == d.len &&
                          (d.len == 0 || memcmp(v[j].d.ptr, d.ptr, d.len) == 0)))
            j++;
        if (j == n)
            v[n++] = (vcount){d, 0};
        v[j].n += in->upd[g->idx[i]].diff;
    }
    uint32_t k = 0;
    for (uint32_t j = 0; j < n; j++)
        if (v[j].n > 0)
            v[k++] = v[j];
    *nv = k;
    return v;
}

static int64_t
int_value(eng_datum d)
{
    switch (d.tag) {
    case ENG_TAG_INT2: {
        int16_t v;
        memcpy(&v, d.ptr, 2);
        return v;
    }
    case ENG_TAG_INT4:
        return eng_load_i32(d.ptr);
    case ENG_TAG_INT8:
        return eng_load_i64(d.ptr);
    default:
        return 0;
    }
}

static double
float_value(eng_datum d)
{
    if (d.tag == ENG_TAG_FLOAT4) {
        float f;
        memcpy(&f, d.ptr, 4);
        return f;
    }
    double v = 0;
    if (d.tag == ENG_TAG_FLOAT8)
        memcpy(&v, d.ptr, 8);
    return v;
}

static void
numeric_of_datum(eng_datum d, eng_numeric *out)
{
    if (d.tag == ENG_TAG_NUMERIC)
        eng_numeric_from_datum(d, out);
    else
        eng_numeric_from_int64(out, int_value(d));
}

static int
agg_value(ectx *cx, const eng_batch *in, const grp *g, const eng_agg *ag, int64_t count,
          eng_rowbuf *out)
{
    if (ag->kind == OP_AGG_COUNT_STAR) {
        eng_push_int8(out, count);
        return 0;
    }
    /* non-NULL rows: net count and sums */
    int64_t nn = 0, ntrue = 0;
    __int128 isum = 0;
    double fsum = 0;
    eng_numeric nsum, tmp, prod, mult;
    eng_numeric_init(&nsum);
    eng_numeric_init(&tmp);
    eng_numeric_init(&prod);
    eng_numeric_init(&mult);
    eng_numeric_set_zero(&nsum, 0);
    int rc = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        eng_datum d = col_of(eng_batch_row(in, g->idx[i]), ag->col);
        int64_t diff = in->upd[g->idx[i]].diff;
        if (d.tag == ENG_TAG_NULL)
            continue;
        nn += diff;
        ntrue += d.tag == ENG_TAG_TRUE ? diff : 0;
        switch (ag->kind) {
        case OP_AGG_SUM_INT:
        case OP_AGG_SUM_INT8:
        case OP_AGG_AVG_INT:
            isum += (__int128)int_value(d) * diff;
            break;
        case OP_AGG_SUM_FLOAT:
        case OP_AGG_SUM_FLOAT4:
        case OP_AGG_AVG_FLOAT:
            fsum += float_value(d) * (double)diff;
            break;
        case OP_AGG_SUM_NUMERIC:
        case OP_AGG_AVG_NUMERIC:
            numeric_of_datum(d, &tmp);
            eng_numeric_from_int64(&mult, diff);
            if (eng_numeric_mul(&tmp, &mult, &prod, cx->err) != 0 ||
                eng_numeric_add(&nsum, &prod, &tmp, cx->err) != 0) {
                rc = -1;
                goto done;
            }
            eng_numeric_copy(&nsum, &tmp);
            break;
        default:
            break;
        }
    }
    switch (ag->kind) {
    case OP_AGG_COUNT:
        eng_push_int8(out, nn);
        break;
    case OP_AGG_SUM_INT:
        if (nn == 0)
            eng_push_null(out);
        else if (isum > INT64_MAX || isum < INT64_MIN)
            rc =
                eng_err_set(cx->err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "bigint out of range");
        else
            eng_push_int8(out, (int64_t)isum);
        break;
    case OP_AGG_SUM_INT8:
    case OP_AGG_AVG_INT: {
        if (nn == 0) {
            eng_push_null(out);
            break;
        }
        /* the exact 128-bit sum through its decimal digits */
        char buf[48];
        int p = sizeof buf;
        bool neg = isum < 0;
        unsigned __int128 u = neg ? (unsigned __int128)(-(isum + 1)) + 1 : (unsigned __int128)isum;
        do {
            buf[--p] = (char)('0' + (int)(u % 10));
            u /= 10;
        } while (u);
        if (neg)
            buf[--p] = '-';
        ENG_ASSERT(eng_numeric_parse(buf + p, sizeof buf - (size_t)p, -1, &nsum, NULL) == 0);
        if (ag->kind == OP_AGG_SUM_INT8) {
            eng_numeric_push(out, &nsum);
        } else {
            eng_numeric_from_int64(&mult, nn);
            if (eng_numeric_div(&nsum, &mult, &tmp, cx->err) != 0) {
                rc = -1;
                break;
            }
            eng_numeric_push(out, &tmp);
        }
        break;
    }
    case OP_AGG_SUM_NUMERIC:
    case OP_AGG_AVG_NUMERIC:
        if (nn == 0) {
            eng_push_null(out);
        } else if (ag->kind == OP_AGG_SUM_NUMERIC) {
            eng_numeric_push(out, &nsum);
        } else {
            eng_numeric_from_int64(&mult, nn);
            if (eng_numeric_div(&nsum, &mult, &tmp, cx->err) != 0) {
                rc = -1;
                break;
            }
            eng_numeric_push(out, &tmp);
        }
        break;
    case OP_AGG_SUM_FLOAT:
    case OP_AGG_AVG_FLOAT:
    case OP_AGG_SUM_FLOAT4:
        if (nn == 0)
            eng_push_null(out);
        else if (ag->kind == OP_AGG_SUM_FLOAT4)
            eng_push_float4(out, (float)fsum);
        else
            eng_push_float8(out, ag->kind == OP_AGG_SUM_FLOAT ? fsum : fsum / (double)nn);
        break;
    case OP_AGG_BOOL_AND:
    case OP_AGG_BOOL_OR:
        if (nn == 0)
            eng_push_null(out);
        else
            eng_push_bool(out, ag->kind == OP_AGG_BOOL_AND ? ntrue == nn : ntrue > 0);
        break;
    case OP_AGG_MIN:
    case OP_AGG_MAX:
    case OP_AGG_COUNT_DISTINCT:
    case OP_AGG_STRING_AGG: {
        uint32_t nv;
        vcount *v = value_counts(in, g, ag->col, &nv);
        if (ag->kind == OP_AGG_COUNT_DISTINCT) {
            eng_push_int8(out, nv);
        } else if (nv == 0) {
            eng_push_null(out);
        } else if (ag->kind == OP_AGG_STRING_AGG) {
            qsort(v, nv, sizeof *v, vcount_bytes_cmp);
            eng_strbuf s = {0};
            bool first = true;
            for (uint32_t j = 0; j < nv; j++)
                for (int64_t k = 0; k < v[j].n; k++) {
                    if (!first && ag->sep)
                        eng_strbuf_puts(&s, ag->sep);
                    eng_strbuf_append(&s, (const char *)v[j].d.ptr, v[j].d.len);
                    first = false;
                }
            eng_push_text(out, s.data ? s.data : "", (uint32_t)s.len);
            eng_strbuf_free(&s);
        } else {
            uint32_t best = 0;
            for (uint32_t j = 1; j < nv; j++) {
                int c = eng_datum_cmp(v[j].d, v[best].d);
                if (ag->kind == OP_AGG_MIN ? c < 0 : c > 0)
                    best = j;
            }
            eng_push_datum(out, v[best].d);
        }
        free(v);
        break;
    }
    case OP_AGG_COUNT_STAR:
        break;
    }
done:
    eng_numeric_free(&nsum);
    eng_numeric_free(&tmp);
    eng_numeric_free(&prod);
    eng_numeric_free(&mult);
    return rc;
}

static int
eval_reduce(ectx *cx, const eng_rel *r, const eng_batch *in, eng_batch **out)
{
    eng_rowbuf keys = {0}, rb = {0};
    uint32_t ng;
    grp *g = group_rows(in, r->group, r->ngroup, &keys, &ng, r->global && r->ngroup == 0);
    eng_batch *res = new_batch();
    int rc = 0;
    for (uint32_t i = 0; i < ng && rc == 0; i++) {
        int64_t count = 0;
        for (uint32_t j = 0; j < g[i].n; j++)
            count += in->upd[g[i].idx[j]].diff;
        if (count < 0) {
            rc = eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR,
                             "a group's row count went negative");
            break;
        }
        if (count == 0 && !r->global)
            continue;
        eng_rowbuf_reset(&rb);
        eng_push_row(&rb, g[i].key);
        for (int a = 0; a < r->naggs && rc == 0; a++)
            rc = agg_value(cx, in, &g[i], &r->aggs[a], count, &rb);
        if (rc == 0)
            eng_batch_push(res, eng_rowbuf_row(&rb), 0, 1);
    }
    free_groups(g, ng);
    eng_rowbuf_free(&keys);
    eng_rowbuf_free(&rb);
    if (rc != 0) {
        eng_batch_free(res);
        return -1;
    }
    *out = res;
    return 0;
}

/* ------------------------------------------------------------------ topk */

typedef struct trow {
    eng_row row;
    int64_t n;
} trow;

static _Thread_local const eng_rel *sort_rel;

static int
trow_cmp(const void *x, const void *y)
{
    const trow *a = x, *b = y;
    for (int i = 0; i < sort_rel->norder; i++) {
        const op_order *o = &sort_rel->order[i];
        eng_datum da = col_of(a->row, o->col), db = col_of(b->row, o->col);
        bool na = da.tag == ENG_TAG_NULL, nb = db.tag == ENG_TAG_NULL;
        if (na && nb)
            continue;
        if (na || nb) {
            int c = na ? 1 : -1;
            return o->nulls_first ? -c : c;
        }
        int c = eng_datum_cmp(da, db);
        if (c != 0)
            return o->desc ? -c : c;
    }
    uint32_t n = a->row.len < b->row.len ? a->row.len : b->row.len;
    int c = n ? memcmp(a->row.data, b->row.data, n) : 0;
    return c ? c : (a->row.len < b->row.len ? -1 : a->row.len > b->row.len);
}

static eng_batch *
eval_topk(const eng_rel *r, const eng_batch *in)
{
    eng_rowbuf keys = {0};
    uint32_t ng;
    grp *g = group_rows(in, r->group, r->ngroup, &keys, &ng, false);
    eng_batch *res = new_batch();
    for (uint32_t i = 0; i < ng; i++) {
        trow *v = calloc(g[i].n + 1, sizeof *v);
        ENG_ASSERT(v != NULL);
        uint32_t n = 0;
        for (uint32_t j = 0; j < g[i].n; j++)
            if (in->upd[g[i].idx[j]].diff > 0)
                v[n++] = (trow){eng_batch_row(in, g[i].idx[j]), in->upd[g[i].idx[j]].diff};
        sort_rel = r;
        qsort(v, n, sizeof *v, trow_cmp);
        int64_t rank = 0, lo = r->offset, hi = r->limit < 0 ? INT64_MAX : r->offset + r->limit;
        for (uint32_t j = 0; j < n; j++) {
            int64_t from = rank > lo ? rank : lo, to = rank + v[j].n < hi ? rank + v[j].n : hi;
            if (to > from)
                eng_batch_push(res, v[j].row, 0, to - from);
            rank += v[j].n;
        }
        free(v);
    }
    free_groups(g, ng);
    eng_rowbuf_free(&keys);
    return res;
}

/* ------------------------------------------------------------------ window */

/* Whether rows a and b are peers (equal on every order column). */
static bool
win_peers(const eng_rel *r, eng_row a, eng_row b)
{
    for (int i = 0; i < r->norder; i++) {
        eng_datum da = col_of(a, r->order[i].col), db = col_of(b, r->order[i].col);
        bool na = da.tag == ENG_TAG_NULL, nb = db.tag == ENG_TAG_NULL;
        if (na != nb || (!na && eng_datum_cmp(da, db) != 0))
            return false;
    }
    return true;
}

/* Checks what the renderer checks, so a malformed node is an error here
 * too rather than a read out of bounds. */
static int
check_window(ectx *cx, const eng_rel *r)
{
    const eng_rel *in = r->in[0];
    if (r->ncols != in->ncols + r->nwin)
        return eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR, "malformed window");
    for (int i = 0; i < r->npart; i++)
        if (r->part[i] < 0 || r->part[i] >= in->ncols)
            return eng_err_set(cx->err, ENG_ERRCODE_UNDEFINED_COLUMN, "bad partition column");
    for (int i = 0; i < r->norder; i++)
        if (r->order[i].col < 0 || r->order[i].col >= in->ncols)
            return eng_err_set(cx->err, ENG_ERRCODE_UNDEFINED_COLUMN, "bad order column");
    for (int i = 0; i < r->nwin; i++) {
        const eng_win *w = &r->wins[i];
        if (w->kind != OP_WINDOW_LAG && w->kind != OP_WINDOW_LEAD)
            continue;
        if (w->col < 0 || w->col >= in->ncols)
            return eng_err_set(cx->err, ENG_ERRCODE_UNDEFINED_COLUMN, "bad lag/lead column");
        if (!eng_row_validate(w->dflt, 1))
            return eng_err_set(cx->err, ENG_ERRCODE_DATATYPE_MISMATCH, "bad lag/lead default");
    }
    return 0;
}

/* Per partition: every copy of every row with positive multiplicity,
 * sorted like TOPK (order columns, then the row's bytes); ranks counted
 * by brute force over the partition. */
static int
eval_window(ectx *cx, const eng_rel *r, const eng_batch *in, eng_batch **out)
{
    if (check_window(cx, r) != 0)
        return -1;
    eng_rowbuf keys = {0}, rb = {0};
    uint32_t ng;
    grp *g = group_rows(in, r->part, r->npart, &keys, &ng, false);
    eng_batch *res = new_batch();
    for (uint32_t i = 0; i < ng; i++) {
        int64_t n = 0;
        for (uint32_t j = 0; j < g[i].n; j++)
            if (in->upd[g[i].idx[j]].diff > 0)
                n += in->upd[g[i].idx[j]].diff;
        trow *v = calloc((size_t)n + 1, sizeof *v);
        ENG_ASSERT(v != NULL);
        int64_t m = 0;
        for (uint32_t j = 0; j < g[i].n; j++)
            for (int64_t c = 0; c < in->upd[g[i].idx[j]].diff; c++)
                v[m++] = (trow){eng_batch_row(in, g[i].idx[j]), 1};
        sort_rel = r;
        qsort(v, (size_t)m, sizeof *v, trow_cmp);
        for (int64_t p = 0; p < m; p++) {
            eng_rowbuf_reset(&rb);
            eng_push_row(&rb, v[p].row);
            for (int f = 0; f < r->nwin; f++) {
                const eng_win *w = &r->wins[f];
                int64_t rank = 1, dense = 1;
                for (int64_t q = 0; q < p; q++)
                    if (!win_peers(r, v[q].row, v[p].row)) {
                        rank++;
                        if (q == 0 || !win_peers(r, v[q - 1].row, v[q].row))
                            dense++;
                    }
                switch (w->kind) {
                case OP_WINDOW_ROW_NUMBER:
                    eng_push_int8(&rb, p + 1);
                    break;
                case OP_WINDOW_RANK:
                    eng_push_int8(&rb, rank);
                    break;
                case OP_WINDOW_DENSE_RANK:
                    eng_push_int8(&rb, dense);
                    break;
                case OP_WINDOW_LAG:
                case OP_WINDOW_LEAD: {
                    /* in 128 bits: offsets span the whole int64 range */
                    __int128 q = (__int128)p + (w->kind == OP_WINDOW_LAG ? -(__int128)w->offset
                                                                         : (__int128)w->offset);
                    if (q >= 0 && q < m)
                        eng_push_datum(&rb, col_of(v[(int64_t)q].row, w->col));
                    else
                        eng_push_row(&rb, w->dflt);
                    break;
                }
                }
            }
            eng_batch_push(res, eng_rowbuf_row(&rb), 0, 1);
        }
        free(v);
    }
    free_groups(g, ng);
    eng_rowbuf_free(&keys);
    eng_rowbuf_free(&rb);
    *out = res;
    return 0;
}

/* ------------------------------------------------------------------ driver */

static int
eval(ectx *cx, const eng_rel *r, eng_batch **out)
{
    eng_batch *ins[2] = {NULL, NULL};
    eng_batch *res = NULL;
    int rc = 0;
    switch (r->kind) {
    case ENG_REL_GET: {
        const eng_batch *src;
        if (cx->get(cx->ctx, r->get_id, &src, cx->err) != 0)
            return -1;
        res = new_batch();
        for (uint32_t i = 0; i < src->n; i++) {
            if (!eng_row_validate(eng_batch_row(src, i), r->ncols)) {
                eng_batch_free(res);
                return eng_err_set(cx->err, ENG_ERRCODE_INVALID_BINARY_REPRESENTATION,
                                   "collection row is not %d datums", r->ncols);
            }
            eng_batch_push(res, eng_batch_row(src, i), 0, src->upd[i].diff);
        }
        break;
    }
    case ENG_REL_CONST:
        res = new_batch();
        for (int i = 0; i < r->nrows; i++)
            eng_batch_push(res, r->rows[i], 0, r->diffs[i]);
        break;
    case ENG_REL_MAP:
    case ENG_REL_FILTER:
        if (eval(cx, r->in[0], &ins[0]) != 0)
            return -1;
        rc = eval_map(cx, r, ins[0], &res);
        break;
    case ENG_REL_PROJECT: {
        if (eval(cx, r->in[0], &ins[0]) != 0)
            return -1;
        res = new_batch();
        eng_rowbuf rb = {0};
        for (uint32_t i = 0; i < ins[0]->n; i++) {
            eng_rowbuf_reset(&rb);
            push_cols(&rb, eng_batch_row(ins[0], i), r->cols, r->ncols, NULL);
            eng_batch_push(res, eng_rowbuf_row(&rb), 0, ins[0]->upd[i].diff);
        }
        eng_rowbuf_free(&rb);
        break;
    }
    case ENG_REL_JOIN:
        if (eval(cx, r->in[0], &ins[0]) != 0)
            return -1;
        if (eval(cx, r->in[1], &ins[1]) != 0) {
            eng_batch_free(ins[0]);
            return -1;
        }
        res = eval_join(r, ins[0], ins[1]);
        break;
    case ENG_REL_REDUCE:
        if (eval(cx, r->in[0], &ins[0]) != 0)
            return -1;
        rc = eval_reduce(cx, r, ins[0], &res);
        break;
    case ENG_REL_TOPK:
        if (eval(cx, r->in[0], &ins[0]) != 0)
            return -1;
        res = eval_topk(r, ins[0]);
        break;
    case ENG_REL_WINDOW:
        if (eval(cx, r->in[0], &ins[0]) != 0)
            return -1;
        rc = eval_window(cx, r, ins[0], &res);
        break;
    case ENG_REL_DISTINCT:
    case ENG_REL_THRESHOLD:
    case ENG_REL_NEGATE:
        if (eval(cx, r->in[0], &ins[0]) != 0)
            return -1;
        res = new_batch();
        for (uint32_t i = 0; i < ins[0]->n; i++) {
            int64_t d = ins[0]->upd[i].diff, o;
            if (r->kind == ENG_REL_NEGATE)
                o = -d;
            else if (r->kind == ENG_REL_THRESHOLD)
                o = d > 0 ? d : 0;
            else if (d < 0) {
                rc = eng_err_set(cx->err, ENG_ERRCODE_INTERNAL_ERROR,
                                 "a group's row count went negative");
                break;
            } else
                o = d > 0;
            if (o != 0)
                eng_batch_push(res, eng_batch_row(ins[0], i), 0, o);
        }
        break;
    case ENG_REL_UNION:
        res = new_batch();
        for (int k = 0; k < r->nin && rc == 0; k++) {
            eng_batch *x;
            if (eval(cx, r->in[k], &x) != 0) {
                rc = -1;
                break;
            }
            for (uint32_t i = 0; i < x->n; i++)
                eng_batch_push(res, eng_batch_row(x, i), 0, x->upd[i].diff);
            eng_batch_free(x);
        }
        break;
    }
    if (ins[0])
        eng_batch_free(ins[0]);
    if (ins[1])
        eng_batch_free(ins[1]);
    if (rc != 0) {
        if (res)
            eng_batch_free(res);
        return -1;
    }
    if (res == NULL)
        return eng_err_set(cx->err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "unknown relation kind");
    consolidate(res);
    *out = res;
    return 0;
}

int
eng_ir_eval(const eng_rel *r, eng_ir_eval_get_fn get, void *ctx, eng_batch **out, eng_err *err)
{
    ectx cx = {get, ctx, err};
    return eval(&cx, r, out);
}
