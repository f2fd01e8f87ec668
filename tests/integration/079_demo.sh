#!/usr/bin/env bash
# `make demo` must not rot: runs scripts/demo non-interactively for 8 seconds
# against this build and checks its output shows the guide's statements
# succeeding, the view, a nonzero ingest rate, a freshness figure, a running
# source, consistent reads (view1 always holds 10000 rows upstream), the view
# equal to PostgreSQL's answer once the load stops, and that it tore down
# what it started.
set -euo pipefail
: "${SLUICE_BUILD_DIR:?}" "${SLUICE_SOURCE_DIR:?}"

out=$(mktemp "${TMPDIR:-/tmp}/sluice-demo-test.XXXXXX")
trap 'rm -f "$out"' EXIT
fail() {
    echo "FAIL: $*" >&2
    echo "----- demo output -----" >&2
    cat "$out" >&2
    exit 1
}

rc=0
DEMO_SECONDS=8 timeout 120 bash "$SLUICE_SOURCE_DIR/scripts/demo" "$SLUICE_BUILD_DIR" \
    </dev/null >"$out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "the demo exited with status $rc"

for tag in "CREATE SECRET" "CREATE CONNECTION" "CREATE SOURCE" "CREATE MATERIALIZED VIEW" \
    "CREATE PUBLICATION"; do
    grep -qx "  | $tag" "$out" || fail "no '$tag' result echoed"
done

# One line per refresh, about two a second.
live=$(grep '^t= *[0-9.]*s status=' "$out" || true)
n=$(grep -c . <<<"$live" || true)
[ "$n" -ge 10 ] || fail "only $n refresh lines in 8 s"
grep -q 'status=running ' <<<"$live" || fail "the source never showed as running"
grep -Eq 'ingest=[1-9][0-9]* rows/s' <<<"$live" || fail "no nonzero ingest rate"
grep -Eq 'freshness=-?[0-9]+ ms' <<<"$live" || fail "no freshness figure"
grep -Eq 'cnt_view1: f0=[0-9]+ .* f9=[0-9]+ total=' <<<"$live" || fail "the view is not shown"
# Each upstream transaction inserts one row and deletes one: a read that does
# not sum to 10000 saw part of a transaction.
bad=$(grep -v ' total=10000$' <<<"$live" || true)
[ -z "$bad" ] || fail "inconsistent reads: $bad"
grep -q 'every read summed to 10000 rows' "$out" || fail "no consistency summary"
grep -q "cnt_view1 equals PostgreSQL's GROUP BY" "$out" ||
    fail "after the load stopped, the view did not reach PostgreSQL's answer"

# Everything it started is gone.
dir=$(sed -n 's/^== tearing down: .*, \(\/.*sluice-demo\.[A-Za-z0-9]*\)$/\1/p' "$out")
[ -n "$dir" ] || fail "no teardown line"
[ ! -e "$dir" ] || fail "$dir left behind"
if pgrep -f -- "$dir" >/dev/null; then fail "processes left running in $dir"; fi
echo "demo: $n refreshes; last: $(tail -n1 <<<"$live" | cut -c1-100)"
