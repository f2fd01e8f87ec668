#!/usr/bin/env bash
# Differential test of the scalar expression evaluator (operators/op_expr.h)
# against a real PostgreSQL 15: the hand-written cases of
# tests/operators/expr_cases.h and 1500 random well-typed expressions are
# evaluated by both and compared byte for byte (values as text, NULL, error
# SQLSTATE and message). See tests/integration/expr_vs_pg.c.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"

h_pg_start
out=$H_TMP/expr_vs_pg.out
if ! "$SLUICE_BUILD_DIR/tests/harness/sluice-expr-vs-pg" "$H_PG_DSN" --random 1500 >"$out" 2>&1; then
    head -n 200 "$out" >&2
    h_fail "the evaluator and PostgreSQL disagree"
fi
tail -n 1 "$out"
