/* import: a view of another dataflow's arrangement on the same worker. */
#include "operators/op_import.h"
#include "operators/op_arrange.h"

#include <stdlib.h>

typedef struct import {
    eng_op op;
    const op_import_params *p;
    eng_op *src; /* the source arrange op; NULL once it is gone */
    bool attached;
    eng_time frontier;
} import;

static void
import_input(eng_op *op, int port, const eng_batch *b)
{
    (void)op;
    (void)port;
    (void)b; /* no input ports */
}

void
op_import_data(eng_op *op, const eng_batch *b)
{
    eng_batch *out = eng_op_out(op);
    for (uint32_t i = 0; i < b->n; i++)
        eng_batch_push(out, eng_batch_row(b, i), b->upd[i].time, b->upd[i].diff);
    eng_op_flush(op);
}

void
op_import_frontier(eng_op *op, eng_time f)
{
    import *im = (import *)op;
    if (f > im->frontier) {
        im->frontier = f;
        eng_op_advance(op, f);
    }
}

void
op_import_gone(eng_op *op)
{
    import *im = (import *)op;
    im->src = NULL;
    eng_err e;
    eng_err_clear(&e);
    eng_err_set(&e, ENG_ERRCODE_UNDEFINED_OBJECT, "the collection this view reads was dropped");
    eng_op_error(op, &e, im->frontier, 1);
}

/* Registers with the source and emits the snapshot. Runs at the first
 * frontier() call, which the runtime makes as soon as the node exists (it
 * has no inputs), once op->node is set. */
static void
attach(import *im)
{
    const op_import_params *p = im->p;
    im->src = eng_wctx_find_op(im->op.w, p->src_df, p->src_node);
    if (op_arrange_arr(im->src) == NULL) {
        op_import_gone(&im->op);
        return;
    }
    op_arrange_reader r = {.who = &im->op,
                           .on_data = op_import_data,
                           .on_frontier = op_import_frontier,
                           .on_gone = op_import_gone,
                           .hold = p->as_of};
    if (op_arrange_listen(im->src, &r) != 0) {
        op_import_gone(&im->op);
        return;
    }
    op_arrange_snapshot(im->src, p->as_of, &im->op);
    /* Past the snapshot the import reads no history: release its hold. */
    op_arrange_hold(im->src, &im->op, ENG_TIME_MAX);
    eng_time f = op_arrange_frontier(im->src);
    if (f > im->frontier)
        im->frontier = f;
}

static eng_time
import_frontier(eng_op *op, eng_time f)
{
    (void)f; /* no inputs: f is the empty frontier; ours is the source's */
    import *im = (import *)op;
    if (!im->attached) {
        im->attached = true;
        attach(im);
    }
    return im->frontier;
}

static void
import_destroy(eng_op *op)
{
    import *im = (import *)op;
    if (im->src)
        op_arrange_unlisten(im->src, op);
    free(im);
}

static const eng_op_vt import_vt = {
    .name = "import",
    .input = import_input,
    .frontier = import_frontier,
    .destroy = import_destroy,
};

eng_op *
op_import_make(const void *params, eng_wctx *w)
{
    (void)w;
    import *im = calloc(1, sizeof *im);
    if (im == NULL)
        return NULL;
    im->op.vt = &import_vt;
    im->p = params;
    return &im->op;
}

/* ------------------------------------------------------------------ client side */

int
op_import_add(eng_plan *p, eng_client *c, eng_df *src, int src_node, eng_time *as_of, eng_err *err)
{
    for (;;) {
        eng_time f = eng_df_frontier(src, src_node);
        if (f == 0) {
            if (eng_df_wait(c, src, src_node, 0, 10000, err) != 0)
                return -1;
            continue;
        }
        eng_time t = f == ENG_TIME_MAX ? ENG_TIME_MAX - 1 : f - 1;
        eng_err e2;
        eng_err_clear(&e2);
        if (eng_df_hold(src, src_node, t, &e2) != 0)
            continue; /* compacted meanwhile: try a later time */
        *as_of = t;
        break;
    }
    op_import_params *ip = calloc(1, sizeof *ip);
    ENG_ASSERT(ip != NULL);
    ip->src_df = eng_df_id(src);
    ip->src_node = src_node;
    ip->as_of = *as_of;
    eng_plan_set_as_of(p, *as_of);
    return eng_plan_node(p, "import", op_import_make, ip, free, 0);
}

void
op_import_ready(eng_client *c, eng_df *dst, int node, eng_df *src, int src_node, eng_time as_of)
{
    /* Attached everywhere once the import's frontier passed as_of on every
     * worker (attach sets it to the source's, which is past as_of). */
    eng_err err;
    eng_err_clear(&err);
    (void)eng_df_wait(c, dst, node, as_of, -1, &err);
    eng_df_release(src, src_node, as_of);
}
