/* mfp: map/filter/project fused, over scalar expressions (op_expr.h).
 *
 * Contract: one input port, stateless. For each input update (row, time,
 * diff) it appends the map expressions' values as new columns (input
 * columns 0..n-1, map j is column n+j; a map may read the input and
 * earlier maps), keeps the row only if every predicate is TRUE (FALSE and
 * NULL drop it), then emits the projection (output column i = column
 * proj[i] of input + maps) with the same time and diff. It emits in
 * input(); its output frontier is its input frontier.
 *
 * Order of evaluation: each predicate runs as soon as the columns it reads
 * exist, before any later map (so `WHERE x <> 0` guards a map `1 / x`, as
 * in SQL where WHERE runs before SELECT's expressions); a dropped row
 * evaluates nothing further. All maps of a kept row are evaluated.
 *
 * Errors in data: an expression that fails on a row (division by zero, bad
 * cast...) drops the row and reports eng_op_error(op, err, time, diff), as
 * Materialize does. Evaluation is deterministic, so the retraction of that
 * row (diff negated) reports the same error and cancels it, on whichever
 * worker it arrives: reads sum error counts over workers.
 *
 * Params are built once by the planner, shared read-only by every worker
 * (compiled programs are immutable); each worker has its own evaluator
 * (op_eval) and row buffer, so no allocation happens per row. */
#ifndef OP_MFP_H
#define OP_MFP_H

#include "engine/runtime/eng_dataflow.h"
#include "operators/op_expr.h"

typedef struct op_mfp_params op_mfp_params;

/* New params for input rows of ncols columns of the given types (copied).
 * Never NULL (aborts on OOM). Free with op_mfp_params_free. */
op_mfp_params *op_mfp_params_new(int ncols, const op_type *types);

/* Appends e as the next column. Takes ownership of e (freed on error too).
 * Returns the new column's index, or -1 with err set (compile error). */
int op_mfp_map(op_mfp_params *p, op_expr *e, eng_err *err);

/* Adds a predicate over the columns so far (input + maps). Takes ownership
 * of e. Returns 0, or -1 with err set (compile error; 42804 if e is not
 * boolean). */
int op_mfp_filter(op_mfp_params *p, op_expr *e, eng_err *err);

/* Sets the output columns (indexes over input + maps; repeats allowed).
 * Without a projection the output is every column, input then maps.
 * Returns 0, or -1 with err set (42703) for an index out of range. */
int op_mfp_project(op_mfp_params *p, int n, const int *cols, eng_err *err);

/* Output column count and type of output column i. */
int op_mfp_out_ncols(const op_mfp_params *p);
op_type op_mfp_out_type(const op_mfp_params *p, int i);

/* Frees params (the free_params of eng_plan_node). */
void op_mfp_params_free(void *p);

/* The operator (eng_op_make_fn); params: const op_mfp_params *. */
eng_op *op_mfp_make(const void *params, eng_wctx *w);

#endif
