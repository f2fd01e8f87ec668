/* mfp: map/filter/project over compiled scalar expressions.
 *
 * Notes: the schedule (which predicates run before which map) is computed
 * per worker in op_mfp_make from the shared params: predicate k needs
 * need[k] maps, the number of maps up to the highest column it reads. The
 * per-row loop runs, for s = 0..nmaps, the predicates that need exactly s
 * maps, then map s. */
#include "operators/op_mfp.h"

#include <stdlib.h>
#include <string.h>

struct op_mfp_params {
    int nin;         /* input columns */
    int ncols, capc; /* input + maps */
    op_type *types;  /* per column */
    op_prog **maps;  /* ncols - nin of them */
    op_prog **preds;
    int npreds, capp;
    int *proj; /* NULL: every column */
    int nproj;
};

op_mfp_params *
op_mfp_params_new(int ncols, const op_type *types)
{
    op_mfp_params *p = calloc(1, sizeof *p);
    ENG_ASSERT(p != NULL && ncols >= 0);
    p->nin = p->ncols = ncols;
    p->capc = ncols + 4;
    p->types = malloc((size_t)p->capc * sizeof *p->types);
    p->maps = calloc((size_t)p->capc, sizeof *p->maps);
    ENG_ASSERT(p->types != NULL && p->maps != NULL);
    if (ncols)
        memcpy(p->types, types, (size_t)ncols * sizeof *types);
    return p;
}

int
op_mfp_map(op_mfp_params *p, op_expr *e, eng_err *err)
{
    op_prog *prog;
    int rc = op_expr_compile(e, p->ncols, p->types, &prog, err);
    op_expr_free(e);
    if (rc)
        return -1;
    if (p->ncols == p->capc) {
        p->capc *= 2;
        p->types = realloc(p->types, (size_t)p->capc * sizeof *p->types);
        p->maps = realloc(p->maps, (size_t)p->capc * sizeof *p->maps);
        ENG_ASSERT(p->types != NULL && p->maps != NULL);
    }
    p->types[p->ncols] = op_prog_type(prog);
    p->maps[p->ncols - p->nin] = prog;
    return p->ncols++;
}

int
op_mfp_filter(op_mfp_params *p, op_expr *e, eng_err *err)
{
    op_prog *prog;
    int rc = op_expr_compile(e, p->ncols, p->types, &prog, err);
    op_expr_free(e);
    if (rc)
        return -1;
    op_type t = op_prog_type(prog);
    if (t != OP_T_BOOL && t != OP_T_UNKNOWN) {
        op_prog_free(prog);
        return eng_err_set(err, ENG_ERRCODE_DATATYPE_MISMATCH,
                           "argument of WHERE must be type boolean, not type %s", op_type_name(t));
    }
    if (p->npreds == p->capp) {
        p->capp = p->capp ? 2 * p->capp : 4;
        p->preds = realloc(p->preds, (size_t)p->capp * sizeof *p->preds);
        ENG_ASSERT(p->preds != NULL);
    }
    p->preds[p->npreds++] = prog;
    return 0;
}

int
op_mfp_project(op_mfp_params *p, int n, const int *cols, eng_err *err)
{
    for (int i = 0; i < n; i++)
        if (cols[i] < 0 || cols[i] >= p->ncols)
            return eng_err_set(err, ENG_ERRCODE_UNDEFINED_COLUMN,
                               "projected column index %d is out of range (%d columns)", cols[i],
                               p->ncols);
    free(p->proj);
    p->proj = malloc((size_t)(n > 0 ? n : 1) * sizeof *p->proj);
    ENG_ASSERT(p->proj != NULL);
    if (n)
        memcpy(p->proj, cols, (size_t)n * sizeof *cols);
    p->nproj = n;
    return 0;
}

int
op_mfp_out_ncols(const op_mfp_params *p)
{
    return p->proj ? p->nproj : p->ncols;
}

op_type
op_mfp_out_type(const op_mfp_params *p, int i)
{
    ENG_ASSERT(i >= 0 && i < op_mfp_out_ncols(p));
    return p->types[p->proj ? p->proj[i] : i];
}

void
op_mfp_params_free(void *vp)
{
    op_mfp_params *p = vp;
    if (p == NULL)
        return;
    for (int i = 0; i < p->ncols - p->nin; i++)
        op_prog_free(p->maps[i]);
    for (int i = 0; i < p->npreds; i++)
        op_prog_free(p->preds[i]);
    free(p->maps);
    free(p->preds);
    free(p->types);
    free(p->proj);
    free(p);
}

/* ------------------------------------------------------------------ the operator */

typedef struct mfp {
    eng_op op;
    const op_mfp_params *p;
    op_eval *ev;
    eng_rowbuf out;
    int *order;  /* predicates sorted by need */
    int *need;   /* maps each predicate needs */
    int *outcol; /* projection (every column when params have none) */
    int nout;
} mfp;

/* Evaluates one row; returns false if it is dropped (filtered or failed,
 * the failure reported as an error in data). */
static bool
eval_row(mfp *m, eng_row r, eng_time t, int64_t diff)
{
    const op_mfp_params *p = m->p;
    int nmaps = p->ncols - p->nin, k = 0;
    eng_err err;
    eng_err_clear(&err);
    op_eval_begin(m->ev, r);
    for (int s = 0; s <= nmaps; s++) {
        for (; k < p->npreds && m->need[m->order[k]] == s; k++) {
            op_val v;
            if (op_eval_run(m->ev, p->preds[m->order[k]], &v, &err))
                goto fail;
            if (v.tag != ENG_TAG_TRUE)
                return false;
        }
        if (s < nmaps) {
            op_val v;
            if (op_eval_run(m->ev, p->maps[s], &v, &err))
                goto fail;
            op_eval_add_col(m->ev, &v);
        }
    }
    return true;
fail:
    eng_op_error(&m->op, &err, t, diff);
    return false;
}

static void
mfp_input(eng_op *op, int port, const eng_batch *b)
{
    (void)port;
    mfp *m = (mfp *)op;
    for (uint32_t i = 0; i < b->n; i++) {
        eng_row r = eng_batch_row(b, i);
        if (!eval_row(m, r, b->upd[i].time, b->upd[i].diff))
            continue;
        eng_rowbuf_reset(&m->out);
        for (int c = 0; c < m->nout; c++)
            op_eval_push_col(m->ev, m->outcol[c], &m->out);
        eng_op_emit(op, eng_rowbuf_row(&m->out), b->upd[i].time, b->upd[i].diff);
    }
    eng_op_flush(op);
}

static eng_time
mfp_frontier(eng_op *op, eng_time f)
{
    (void)op;
    return f;
}

static void
mfp_destroy(eng_op *op)
{
    mfp *m = (mfp *)op;
    op_eval_free(m->ev);
    eng_rowbuf_free(&m->out);
    free(m->order);
    free(m->need);
    free(m->outcol);
    free(m);
}

static const eng_op_vt mfp_vt = {
    .name = "mfp",
    .input = mfp_input,
    .frontier = mfp_frontier,
    .destroy = mfp_destroy,
};

eng_op *
op_mfp_make(const void *params, eng_wctx *w)
{
    (void)w;
    const op_mfp_params *p = params;
    mfp *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->op.vt = &mfp_vt;
    m->p = p;
    m->ev = op_eval_new();
    int np = p->npreds > 0 ? p->npreds : 1;
    m->order = malloc((size_t)np * sizeof *m->order);
    m->need = malloc((size_t)np * sizeof *m->need);
    m->nout = op_mfp_out_ncols(p);
    m->outcol = malloc((size_t)(m->nout > 0 ? m->nout : 1) * sizeof *m->outcol);
    if (m->order == NULL || m->need == NULL || m->outcol == NULL) {
        mfp_destroy(&m->op);
        return NULL;
    }
    for (int c = 0; c < m->nout; c++)
        m->outcol[c] = p->proj ? p->proj[c] : c;
    /* need = maps up to the highest column read; stable insertion sort */
    for (int k = 0; k < p->npreds; k++) {
        int mc = op_prog_max_col(p->preds[k]);
        m->need[k] = mc < p->nin ? 0 : mc - p->nin + 1;
        int j = k;
        while (j > 0 && m->need[m->order[j - 1]] > m->need[k]) {
            m->order[j] = m->order[j - 1];
            j--;
        }
        m->order[j] = k;
    }
    return &m->op;
}
