/* topk: ORDER BY ... LIMIT/OFFSET, per group (also the plan of
 * `row_number() OVER (PARTITION BY g ORDER BY o) <= k`).
 *
 * Input: keyed rows (key_ncols group-key datums, then the value), exchanged
 * by the group key (key_ncols = 0: one global group on worker 0). Output:
 * the rows (key ++ value) ranked [offset, offset + limit) in their group by
 * the order columns, ties broken by the whole value so the result is
 * deterministic. Duplicates count as separate rows.
 *
 * State: each group's input multiset (current state only) and its output
 * arranged with history, so the node is peekable. When the frontier passes
 * t, every group changed at t recomputes its top rows and emits the
 * difference from its previous ones. */
#ifndef OP_TOPK_H
#define OP_TOPK_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/runtime/eng_dataflow.h"

typedef struct op_order {
    int col; /* value column (0-based, after the key) */
    bool desc;
    bool nulls_first; /* PostgreSQL: ASC NULLS LAST, DESC NULLS FIRST by default */
} op_order;

typedef struct op_topk_params {
    int key_ncols;
    int64_t limit; /* < 0: no limit */
    int64_t offset;
    int norder;
    op_order order[];
} op_topk_params;

op_topk_params *op_topk_params_new(int key_ncols, int norder);
eng_op *op_topk_make(const void *params, eng_wctx *w);

#endif
