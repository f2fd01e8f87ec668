/* A naive evaluator of IR relations (eng_ir.h): recomputes a relation from
 * scratch over in-memory collections. The oracle the renderer's dataflows
 * are tested against (and a reference for the IR's semantics).
 *
 * Notes: semantics are the operators' (operators/README.md): multisets
 * with signed multiplicities; NULL join keys never match; outer joins pad
 * rows whose key has zero multiplicity on the other side; a REDUCE group
 * exists while its count is positive (a global one always, with count 0
 * and NULL aggregates over no rows); sum/avg result types and NULL rules
 * as op_reduce.h; TOPK ranks rows with positive multiplicity by the order
 * columns, then by the row's bytes, duplicates counting separately;
 * WINDOW sorts each partition's rows the same way (every copy a row of its
 * own) and counts ranks by brute force;
 * DISTINCT keeps a row once if its count is positive, THRESHOLD keeps
 * max(count, 0). MAP/FILTER evaluate with op_expr; an expression failing
 * on a row of non-zero multiplicity is an error in data, returned as the
 * evaluation's error. string_agg concatenates in value byte order (the
 * operator's order is not deterministic: compare its pieces). Quadratic
 * algorithms: for tests only. */
#ifndef ENG_IR_EVAL_H
#define ENG_IR_EVAL_H

#include "engine/runtime/eng_batch.h"
#include "engine/sql/eng_ir.h"

/* The contents of collection id: rows with multiplicities as diffs (times
 * ignored), borrowed until eng_ir_eval returns. Returns 0, or -1 with err
 * set. */
typedef int (*eng_ir_eval_get_fn)(void *ctx, uint64_t id, const eng_batch **out, eng_err *err);

/* Evaluates r (borrowed). On success *out is a new consolidated batch of
 * rows with their multiplicities (time 0; free with eng_batch_free).
 * Returns 0, or -1 with err set (an error in data, a type error, or the
 * callback's error). */
int eng_ir_eval(const eng_rel *r, eng_ir_eval_get_fn get, void *ctx, eng_batch **out, eng_err *err);

#endif
