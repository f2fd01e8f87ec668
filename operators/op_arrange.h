/* arrange: maintains a keyed collection as an arrangement (shard_arr) that
 * peeks read at any time between its since and its frontier, and passes its
 * input through unchanged.
 *
 * Input: keyed rows (key_ncols key datums, then the value), exchanged by
 * key. Output: the same updates. State: this worker's shard of the
 * collection with the history not yet compacted. Frontier: output frontier
 * = input frontier; the arrangement's upper follows it. Retractions: just
 * negative diffs; a key whose multiplicity goes negative is reported as an
 * error in data. */
#ifndef OP_ARRANGE_H
#define OP_ARRANGE_H

#include "engine/runtime/eng_dataflow.h"

typedef struct op_arrange_params {
    int key_ncols;
} op_arrange_params;

/* make function for eng_plan_node; params: op_arrange_params. */
eng_op *op_arrange_make(const void *params, eng_wctx *w);

/* ---- sharing, between dataflows on one worker (same thread) ----------- */

#include "shard/shard_arr.h"

/* The arrangement of an arrange op, or NULL if op is not one. Borrowed
 * until the op is destroyed (readers register with op_arrange_listen to be
 * told). */
shard_arr *op_arrange_arr(eng_op *op);
int op_arrange_key_ncols(const eng_op *op);

/* A reader of a shared arrangement: told about new data and frontiers
 * (either callback may be NULL) and about the source going away; its
 * `hold` keeps the arrangement's history readable at times >= hold. */
typedef struct op_arrange_reader {
    eng_op *who;
    void (*on_data)(eng_op *who, const eng_batch *b);
    void (*on_frontier)(eng_op *who, eng_time f);
    void (*on_gone)(eng_op *who);
    eng_time hold;
} op_arrange_reader;

/* Registers r (copied). Returns -1 if r->hold is already compacted. */
int op_arrange_listen(eng_op *arrange, const op_arrange_reader *r);
/* Moves who's hold forward to t. */
void op_arrange_hold(eng_op *arrange, eng_op *who, eng_time t);
void op_arrange_unlisten(eng_op *arrange, eng_op *who);

/* Emits, through `to` (any op on this worker), the arrangement's contents
 * as of t stamped t, then every update held with a time > t. */
void op_arrange_snapshot(eng_op *arrange, eng_time t, eng_op *to);

eng_time op_arrange_frontier(const eng_op *arrange);

/* Appends the rows of arr (key ++ value) as of t, with their counts as diffs
 * and time t, restricted to `key` if not NULL. Shared by peekable ops that
 * keep their output in a shard_arr. */
void op_arr_peek(const shard_arr *arr, eng_time t, const eng_row *key, eng_batch *out);

#endif
