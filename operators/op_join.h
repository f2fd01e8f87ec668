/* join: binary equi-join (inner, left, right, full outer; cross with no key).
 *
 * Inputs: port 0 (left) and port 1 (right), keyed rows with key_ncols key
 * datums each, both exchanged by key. Output: rows (key datums, left value
 * datums, right value datums); an outer join pads the missing side's value
 * with left_vcols / right_vcols NULLs. A key containing NULL never matches
 * (SQL equality), so such rows only ever appear padded in outer joins.
 *
 * State: both inputs arranged by key (shard_arr), at their current state.
 * Algorithm: updates are processed one at a time in time order; each one is
 * joined against the other side's current state, then added to its own
 * side. For a pair of updates at the same time, whichever is processed
 * second produces the pair, so every pair is produced once:
 * d(A x B) = dA x B + A' x dB. Updates at the input frontier (nothing can
 * arrive before them any more) are processed as they arrive; later ones
 * wait for the frontier. Outer joins track each key's multiplicity on the
 * other side and emit or retract padded rows when it crosses zero.
 *
 * With a shared side, the arrangements are read at times: each time t is
 * processed once the frontier passed it, as dL(t) x R(< t) + L(<= t) x dR(t),
 * so the shared arrangement may already hold later updates. The join keeps
 * a hold on the shared arrangement at its own frontier. */
#ifndef OP_JOIN_H
#define OP_JOIN_H

#include "engine/runtime/eng_dataflow.h"

typedef enum op_join_kind {
    OP_JOIN_INNER = 0,
    OP_JOIN_LEFT,
    OP_JOIN_RIGHT,
    OP_JOIN_FULL,
} op_join_kind;

typedef struct op_join_params {
    op_join_kind kind;
    int key_ncols;
    int left_vcols, right_vcols; /* value columns of each side (for padding) */
    /* Shared arrangement (inner joins only): side `shared_side` (0 or 1; -1:
     * none) is read from the arrange node (shared_df, shared_node) of another
     * dataflow on the same worker instead of being arranged again; its port
     * must be fed by an import of that node (op_import.h), readable from
     * shared_as_of on. */
    int shared_side;
    uint64_t shared_df;
    int shared_node;
    eng_time shared_as_of;
} op_join_params;

eng_op *op_join_make(const void *params, eng_wctx *w);

#endif
