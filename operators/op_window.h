/* window: row_number, rank, dense_rank, lag and lead over
 * PARTITION BY ... ORDER BY (SQL window functions that ignore the frame).
 *
 * Input: keyed rows (key_ncols partition-key datums, then the value),
 * exchanged by the partition key (key_ncols = 0: one global partition, on
 * worker 0). Output: every input row (key ++ value) followed by one datum
 * per function, as retractions and insertions when a partition changes.
 *
 * Semantics are PostgreSQL's. Rows of a partition are ordered by the order
 * columns (ASC/DESC, NULLS FIRST/LAST as op_order says; NULLs compare
 * equal to each other); rows equal on every order column are peers.
 *   row_number  1, 2, ... in that order; peers are ordered by their value
 *               bytes, so the numbering is deterministic.
 *   rank        1 + the number of rows before the row's first peer.
 *   dense_rank  1 + the number of distinct peer groups before the row's.
 *   lag/lead    column `col` of the row `offset` rows before/after in the
 *               row_number order (a negative offset looks the other way,
 *               0 is the row itself); `dflt` if there is no such row.
 * Ranking results are int8; lag/lead's are the column's datum. A row with
 * multiplicity m counts as m separate rows (row_number 1 and 2 for two
 * copies; lag of the second copy is the first copy's value); output rows
 * that come out equal accumulate. Rows with non-positive multiplicity are
 * ignored.
 *
 * State: each partition's input multiset (current state only) and its
 * output arranged with history (shard_arr), so the node is peekable and
 * compactable. Progress as topk: updates at the input frontier are folded
 * in as they arrive, later ones wait; when the frontier passes t, every
 * partition changed at t recomputes its output (O(n log n) in its size,
 * scratch buffers reused across partitions: no allocation per row at steady
 * state) and emits the difference from its previous output.
 *
 * Cost: with row_number, lag or lead every copy of a row is an output row
 * of its own, so a row with multiplicity m costs O(m) time and scratch; with
 * rank/dense_rank only, copies are output once with multiplicity m. */
#ifndef OP_WINDOW_H
#define OP_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/eng_row.h"
#include "engine/runtime/eng_dataflow.h"
#include "operators/op_topk.h" /* op_order */

typedef enum op_window_kind {
    OP_WINDOW_ROW_NUMBER = 0,
    OP_WINDOW_RANK,
    OP_WINDOW_DENSE_RANK,
    OP_WINDOW_LAG,
    OP_WINDOW_LEAD,
} op_window_kind;

typedef struct op_window_fn {
    op_window_kind kind;
    int col;        /* LAG/LEAD: value column (0-based, after the key) */
    int64_t offset; /* LAG/LEAD: rows back (LAG) or ahead (LEAD); default 1 */
    eng_row dflt;   /* LAG/LEAD: one datum (a NULL datum: SQL NULL); owned by
                       the params (op_window_params_set_default), valid until
                       op_window_params_free */
} op_window_fn;

/* The operator's parameters: one allocation holding both arrays, plus the
 * default datums' bytes. Immutable once the plan is installed; shared by
 * all workers. */
typedef struct op_window_params {
    int key_ncols; /* partition key datums at the front of each row */
    int norder;
    op_order *order; /* norder entries (col: value column, as op_topk) */
    int nfn;
    op_window_fn *fns; /* nfn entries; kinds default to ROW_NUMBER, offsets to
                          1, defaults to NULL */
} op_window_params;

/* New params for norder order columns and nfn functions (arrays zeroed but
 * for offsets 1 and NULL defaults). Free with op_window_params_free. Aborts
 * on allocation failure. */
op_window_params *op_window_params_new(int key_ncols, int norder, int nfn);

/* Sets fns[i].dflt to a copy of the first datum of r (r borrowed for the
 * call; r.len == 0 means NULL). */
void op_window_params_set_default(op_window_params *p, int i, eng_row r);

/* Frees p and its default datums (NULL is a no-op). Usable as a plan's
 * free_params. */
void op_window_params_free(void *p);

/* make function for eng_plan_node; params: op_window_params. */
eng_op *op_window_make(const void *params, eng_wctx *w);

#endif
