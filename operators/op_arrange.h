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

#endif
