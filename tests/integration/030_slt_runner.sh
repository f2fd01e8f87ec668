#!/usr/bin/env bash
# Tests of sluice-slt itself against the harness PostgreSQL: files that must
# pass do, and every deliberate failure in tests/sql/runner/fail_*.slt,
# diff_fail_*.slt and malformed.slt is reported with its file:line, the
# right message and the right failure count (a runner whose checks cannot
# fail is worthless). Differential mode runs with both sides on PostgreSQL
# (two databases), the `sluice` side being the second database.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"
SLT=$SLUICE_BUILD_DIR/tests/sql/sluice-slt
R=$SLUICE_SOURCE_DIR/tests/sql/runner
[ -x "$SLT" ] || h_fail "no $SLT"

h_pg_start
h_psql -c "CREATE DATABASE slt_other"
PG="$H_PG_DSN"
OTHER="host=127.0.0.1 port=$H_PG_PORT user=postgres dbname=slt_other"
cd "$R"

# run_slt OUTFILE ARGS...: runs sluice-slt, output to OUTFILE, sets $rc.
run_slt() {
    local out=$1
    shift
    rc=0
    "$SLT" "$@" >"$out" 2>&1 || rc=$?
}

# expect_pass FILE ARGS...
expect_pass() {
    local f=$1 out=$H_TMP/out.txt
    shift
    run_slt "$out" "$@" "$f"
    [ "$rc" -eq 0 ] || { cat "$out" >&2; h_fail "$f ($*): exit $rc, expected 0"; }
    grep -q "^slt: $f: .* 0 failures" "$out" || { cat "$out" >&2; h_fail "$f: no clean summary"; }
    h_log "pass: $f $*"
}

# expect_fail FILE NFAILURES LINE REGEX ARGS...: exit 1, exactly NFAILURES
# failures, a report at FILE:LINE and REGEX in the output.
expect_fail() {
    local f=$1 n=$2 line=$3 re=$4 out=$H_TMP/out.txt
    shift 4
    run_slt "$out" "$@" "$f"
    [ "$rc" -eq 1 ] || { cat "$out" >&2; h_fail "$f ($*): exit $rc, expected 1"; }
    grep -q "^slt: $f: .*, $n failures," "$out" \
        || { cat "$out" >&2; h_fail "$f: expected exactly $n failures"; }
    grep -q "^$f:$line: " "$out" || { cat "$out" >&2; h_fail "$f: no report at line $line"; }
    grep -Eq -- "$re" "$out" || { cat "$out" >&2; h_fail "$f: output lacks /$re/"; }
    h_log "fails as it should: $f ($n) $*"
}

ONLY=(--pg-only --pg-dsn "$PG" --fresh-db pg --timeout 10)
DIFF=(--differential --dsn "$OTHER" --pg-dsn "$PG" --fresh-db both --timeout 10)

# --- files that must pass, in both protocols
expect_pass pass_formats.slt "${ONLY[@]}"
expect_pass pass_formats.slt "${ONLY[@]}" --extended
grep -q "^slt: pass_formats.slt: 9 statements, 19 queries, 0 failures, 2 skipped" "$H_TMP/out.txt" \
    || h_fail "pass_formats.slt: unexpected counts: $(tail -n1 "$H_TMP/out.txt")"
expect_pass diff_pass.slt "${DIFF[@]}"
expect_pass diff_pass.slt "${DIFF[@]}" --extended

# --- deliberate failures (pg-only)
expect_fail fail_value.slt 1 8 'first difference at row 2' "${ONLY[@]}"
expect_fail fail_value.slt 1 8 'expected row 2: 2 deux' "${ONLY[@]}" --extended
expect_fail fail_rowcount.slt 1 2 'expected has 2 rows, actual has 3 rows' "${ONLY[@]}"
expect_fail fail_error_for_ok.slt 1 2 'expected success, got error 42P01' "${ONLY[@]}"
expect_fail fail_ok_for_error.slt 1 2 'expected an error \(any\), but it succeeded' "${ONLY[@]}"
expect_fail fail_sqlstate.slt 1 2 'error 22012: division by zero' "${ONLY[@]}"
grep -q 'does not match: SQLSTATE 42P01' "$H_TMP/out.txt" || h_fail "fail_sqlstate: no pattern shown"
expect_fail fail_message.slt 1 2 'does not match: relation \.\* is missing' "${ONLY[@]}"
expect_fail fail_hash.slt 1 2 'got 3 values hashing to c0710d6b4f15dfa88f600b0e6b624077' "${ONLY[@]}"
expect_fail fail_columns.slt 1 2 'returned 2 columns, the record declares 3' "${ONLY[@]}"
expect_fail fail_count.slt 1 5 'expected 3 rows affected, got 2' "${ONLY[@]}"
expect_fail fail_label.slt 1 5 'differ from earlier queries labelled lbl' "${ONLY[@]}"
expect_fail fail_bool.slt 1 2 'expected row 1: f' "${ONLY[@]}"

# a hang is a failure, not a hung test: cancelled after --timeout, and the
# session goes on (the next query passes)
t0=$(date +%s)
expect_fail fail_timeout.slt 1 2 'timed out after 1 s' --pg-only --pg-dsn "$PG" --fresh-db pg --timeout 1
[ $(($(date +%s) - t0)) -lt 20 ] || h_fail "the timeout took too long"
grep -q "1 statements, 1 queries, 1 failures" "$H_TMP/out.txt" || h_fail "fail_timeout: the session did not go on"
[ -z "$(h_psql -Atc "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(120)%' AND state = 'active'")" ] \
    || h_fail "the timed-out query still runs on the server"

# malformed files: every bad record reported with its line, no crash
expect_fail malformed.slt 12 3 "unknown directive 'frobnicate the database'" "${ONLY[@]}"
for l in 5 8 11 14 17 23 25 27 36 40 43; do
    grep -q "^malformed.slt:$l: malformed: " "$H_TMP/out.txt" || h_fail "malformed.slt:$l not reported"
done

# --- differential failures (both engines are PostgreSQL here)
expect_fail diff_fail_results.slt 1 13 'the engines return different results' "${DIFF[@]}"
grep -q 'sluice row 2: 2' "$H_TMP/out.txt" || h_fail "diff_fail_results: rows not shown"
expect_fail diff_fail_outcome.slt 1 6 'the engines disagree' "${DIFF[@]}"
expect_fail diff_fail_sqlstate.slt 1 17 'different SQLSTATEs' "${DIFF[@]}"
grep -q '\[sluice\] error 42P01' "$H_TMP/out.txt" || h_fail "diff_fail_sqlstate: 42P01 not shown"
# the same file in pg-only mode has no failure: differential mode found them
expect_pass diff_fail_results.slt "${ONLY[@]}"
expect_pass diff_fail_sqlstate.slt "${ONLY[@]}"

# --- the hash form agrees with md5sum
f=$H_TMP/hash.slt
h=$(seq 1 100 | md5sum | cut -d' ' -f1)
printf 'query I\nSELECT x FROM generate_series(1, 100) x\n----\n100 values hashing to %s\n' "$h" >"$f"
run_slt "$H_TMP/out.txt" "${ONLY[@]}" "$f"
[ "$rc" -eq 0 ] || { cat "$H_TMP/out.txt" >&2; h_fail "hash of 1..100 differs from md5sum's"; }

# --- --rewrite fills in results, then the file passes
cp fail_value.slt "$H_TMP/rw.slt"
printf '\nquery IT\nSELECT 5, $$five$$\n' >>"$H_TMP/rw.slt"
run_slt "$H_TMP/out.txt" "${ONLY[@]}" --rewrite "$H_TMP/rw.slt"
grep -q '^2 two$' "$H_TMP/rw.slt" && grep -q '^5 five$' "$H_TMP/rw.slt" \
    || { cat "$H_TMP/rw.slt" >&2; h_fail "--rewrite did not write the results"; }
expect_pass "$H_TMP/rw.slt" "${ONLY[@]}"

# --- several files, --stop-on-fail, usage errors
run_slt "$H_TMP/out.txt" "${ONLY[@]}" pass_formats.slt fail_value.slt fail_bool.slt
[ "$rc" -eq 1 ] && grep -q '^slt: 3 files, 2 with failures, 2 failures in all' "$H_TMP/out.txt" \
    || { cat "$H_TMP/out.txt" >&2; h_fail "multi-file summary"; }
run_slt "$H_TMP/out.txt" "${ONLY[@]}" --stop-on-fail fail_value.slt fail_bool.slt
[ "$rc" -eq 1 ] && ! grep -q fail_bool "$H_TMP/out.txt" || h_fail "--stop-on-fail did not stop"
run_slt "$H_TMP/out.txt" "${ONLY[@]}" no_such_file.slt
[ "$rc" -eq 1 ] && grep -q 'no_such_file.slt: cannot open' "$H_TMP/out.txt" || h_fail "missing file"
run_slt "$H_TMP/out.txt" --pg-only pass_formats.slt
[ "$rc" -eq 2 ] || h_fail "--pg-only without --pg-dsn: exit $rc, expected 2"
run_slt "$H_TMP/out.txt" --bogus pass_formats.slt
[ "$rc" -eq 2 ] && grep -q '^usage: sluice-slt' "$H_TMP/out.txt" || h_fail "unknown option"
run_slt "$H_TMP/out.txt" --dsn "host=127.0.0.1 port=1 connect_timeout=2" pass_formats.slt
[ "$rc" -eq 1 ] && grep -q 'cannot connect to sluice' "$H_TMP/out.txt" || h_fail "unreachable server"
# no database is left behind by --fresh-db
left=$(h_psql -Atc "SELECT count(*) FROM pg_database WHERE datname LIKE 'slt\_%' AND datname <> 'slt_other'")
[ "$left" -eq 0 ] || h_fail "$left fresh databases left behind"
echo "sluice-slt runner tests passed"
