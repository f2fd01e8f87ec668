/* project: column selection and reordering. */
#include "operators/op_project.h"

#include <stdlib.h>

#define MAX_COLS 256

typedef struct project {
    eng_op op;
    const op_project_params *p;
} project;

op_project_params *
op_project_params_new(int ncols)
{
    op_project_params *p = calloc(1, sizeof *p + (size_t)ncols * sizeof(int));
    ENG_ASSERT(p != NULL);
    p->ncols = ncols;
    return p;
}

static void
project_input(eng_op *op, int port, const eng_batch *b)
{
    (void)port;
    project *pr = (project *)op;
    uint32_t off[MAX_COLS + 1];
    for (uint32_t i = 0; i < b->n; i++) {
        eng_row r = eng_batch_row(b, i);
        int n = 0;
        uint32_t pos = 0;
        while (pos < r.len && n < MAX_COLS) {
            off[n++] = pos;
            pos += eng_datum_size_at(r.data + pos);
        }
        off[n] = pos;
        uint32_t len = 0;
        for (int c = 0; c < pr->p->ncols; c++) {
            int k = pr->p->cols[c];
            ENG_ASSERT(k < n);
            len += off[k + 1] - off[k];
        }
        eng_batch *out = eng_op_out(op);
        uint8_t *dst = eng_batch_append(out, len, b->upd[i].time, b->upd[i].diff);
        for (int c = 0; c < pr->p->ncols; c++) {
            int k = pr->p->cols[c];
            memcpy(dst, r.data + off[k], off[k + 1] - off[k]);
            dst += off[k + 1] - off[k];
        }
        if (out->n >= ENG_BATCH_TARGET)
            eng_op_flush(op);
    }
}

static eng_time
project_frontier(eng_op *op, eng_time f)
{
    (void)op;
    return f;
}

static void
project_destroy(eng_op *op)
{
    free(op);
}

static const eng_op_vt project_vt = {
    .name = "project",
    .input = project_input,
    .frontier = project_frontier,
    .destroy = project_destroy,
};

eng_op *
op_project_make(const void *params, eng_wctx *w)
{
    (void)w;
    project *pr = calloc(1, sizeof *pr);
    if (pr == NULL)
        return NULL;
    pr->op.vt = &project_vt;
    pr->p = params;
    return &pr->op;
}
