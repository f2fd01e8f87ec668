#!/usr/bin/env bash
# pgoutput decoding (io/pgrepl.c) against what a real PostgreSQL 15 sends:
# a temporary logical slot, INSERT/UPDATE (key change, unchanged TOAST)/
# DELETE/TRUNCATE and a logical message, streamed with START_REPLICATION.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"
h_pg_start
out=$("$SLUICE_BUILD_DIR/tests/integration/sluice-pgoutput-probe" "$H_PG_DSN" 2>&1) \
    || h_fail "pgoutput probe: $out"
h_grep "$out" -q ', 0 failures' || h_fail "pgoutput probe: $out"
h_log "$out"
