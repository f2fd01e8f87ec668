#!/usr/bin/env bash
# Differential test of the type library (engine/core) against a real
# PostgreSQL 15: tests/core/test_types_pg.c evaluates ~18k literal casts,
# arithmetic expressions, cast chains and type names on both sides and
# compares the text (or the SQLSTATE) byte for byte. It prints every
# mismatch with the input, our output and PostgreSQL's, and a per-type
# summary; documented deviations (docs/types.md) are counted apart.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"

h_pg_start
"$SLUICE_BUILD_DIR/tests/test_types_pg" "$H_PG_DSN" ${SLUICE_TYPES_SEED:-} \
    || h_fail "the type library differs from PostgreSQL (mismatches above)"
echo "types vs postgres: passed"
