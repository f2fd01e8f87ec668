/* union (concatenation of inputs) and negate. */
#include "operators/op_union.h"

#include <stdlib.h>

typedef struct passop {
    eng_op op;
    int64_t sign;
} passop;

static void
pass_input(eng_op *op, int port, const eng_batch *b)
{
    (void)port;
    if (!eng_op_has_output(op))
        return;
    int64_t sign = ((passop *)op)->sign;
    eng_batch *out = eng_op_out(op);
    for (uint32_t i = 0; i < b->n; i++)
        eng_batch_push(out, eng_batch_row(b, i), b->upd[i].time, sign * b->upd[i].diff);
    eng_op_flush(op);
}

static eng_time
pass_frontier(eng_op *op, eng_time f)
{
    (void)op;
    return f;
}

static void
pass_destroy(eng_op *op)
{
    free(op);
}

static const eng_op_vt union_vt = {
    .name = "union", .input = pass_input, .frontier = pass_frontier, .destroy = pass_destroy};
static const eng_op_vt negate_vt = {
    .name = "negate", .input = pass_input, .frontier = pass_frontier, .destroy = pass_destroy};

static eng_op *
make(const eng_op_vt *vt, int64_t sign)
{
    passop *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->op.vt = vt;
    p->sign = sign;
    return &p->op;
}

eng_op *
op_union_make(const void *params, eng_wctx *w)
{
    (void)params;
    (void)w;
    return make(&union_vt, 1);
}

eng_op *
op_negate_make(const void *params, eng_wctx *w)
{
    (void)params;
    (void)w;
    return make(&negate_vt, -1);
}
