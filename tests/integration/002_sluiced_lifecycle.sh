#!/usr/bin/env bash
# sluiced start/stop: flags, sizes, pinning log, pgwire handshake, bad
# input, password authentication, clean exit on SIGTERM and SIGINT.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"
S=$SLUICE_BUILD_DIR/sluiced

# --- flags that must be refused with exit status 2 and a one-line message
expect_usage_error() {
    local rc=0 err
    err=$("$S" "$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" -eq 2 ] || h_fail "sluiced $* exited $rc, expected 2"
    h_grep "$(head -n1 <<<"$err")" -q '^sluiced: ' || h_fail "sluiced $*: no one-line error: $err"
    h_grep "$err" -q '^usage: sluiced' || h_fail "sluiced $*: no usage line"
}
expect_usage_error --size 7xhuge
expect_usage_error --size 0
expect_usage_error --size 99999
expect_usage_error --bogus
expect_usage_error --listen nocolon
expect_usage_error --listen 127.0.0.1:70000
expect_usage_error --log-level loud
expect_usage_error --size
expect_usage_error extra-arg
msg=$("$S" --size 7xhuge 2>&1 || true)
h_grep "$msg" -q 'invalid size "7xhuge"' || h_fail "bad size message unclear: $msg"

# --- --help prints the size table
help=$("$S" --help)
for row in "3xsmall 25cc 1 4 GiB" "xsmall 100cc 2 16 GiB" "2xlarge 3200cc 64 512 GiB"; do
    h_grep "$(tr -s ' ' <<<"$help")" -q "$row" || h_fail "--help lacks size row: $row"
done

# --- xsmall: two pinned workers, pgwire alive, clean SIGTERM
h_sluiced_start --size xsmall
n=$(grep -c 'worker [0-9] pinned to CPU' "$H_SLUICED_LOG" || true)
[ "$n" -eq 2 ] || h_fail "expected 2 pinned workers in the log, saw $n"
grep -q 'topology: ' "$H_SLUICED_LOG" || h_fail "no topology line in the log"

# psql connects and runs a statement; an unsupported one gets a clean 0A000
# naming it, not a dropped link; a syntax error gets 42601 with its
# position, as PostgreSQL.
out=$(h_sluice_psql -At -c 'SELECT 1 + 1' 2>&1 || true)
[ "$out" = "2" ] || h_fail "SELECT 1 + 1 answered: $out"
out=$(h_sluice_psql -v VERBOSITY=verbose -c 'CREATE SEQUENCE s' 2>&1 || true)
h_grep "$out" -q '0A000: CREATE SEQ' \
    || h_fail "expected SQLSTATE 0A000 naming CREATE SEQUENCE, got: $out"
out=$(h_sluice_psql -v VERBOSITY=verbose -c 'SELECT a FROM t WHERE' 2>&1 || true)
h_grep "$out" -q '42601: syntax error at end of input' || h_fail "no 42601: $out"
h_grep "$out" -q '^ *\^' || h_fail "no error position caret: $out"
out=$(h_sluice_psql -v VERBOSITY=verbose -c "CREATE SOURCE s FROM POSTGRES CONNECTION c (PUBLICATION 'p') FOR ALL TABLES" 2>&1 || true)
h_grep "$out" -q "42704: unknown connection 'c'" || h_fail "CREATE SOURCE over no connection: $out"
out=$(h_sluice_psql -v VERBOSITY=verbose -c "CREATE SINK k FROM t INTO KAFKA CONNECTION c (TOPIC 't')" 2>&1 || true)
h_grep "$out" -q '0A000: CREATE SINK is not supported yet' || h_fail "CREATE SINK: $out"
# Wrong database: FATAL 3D000.
out=$(psql -X -h 127.0.0.1 -p "$H_SLUICED_PORT" -U materialize nosuchdb -c 'SELECT 1' 2>&1 || true)
h_grep "$out" -q 'database "nosuchdb" does not exist' || h_fail "wrong database accepted: $out"

# Garbage bytes and a truncated startup packet do not hurt the server.
printf '\x00\x00\x00\x04' >"/dev/tcp/127.0.0.1/$H_SLUICED_PORT" || true
head -c 4096 /dev/urandom >"/dev/tcp/127.0.0.1/$H_SLUICED_PORT" || true
printf '\x7f\xff\xff\xff' >"/dev/tcp/127.0.0.1/$H_SLUICED_PORT" || true
out=$(h_sluice_psql -c '' 2>&1) || h_fail "psql could not connect after garbage input: $out"
kill -0 "$H_SLUICED_PID" || h_fail "sluiced died on garbage input"

# An idle open connection does not delay shutdown.
exec 5<>"/dev/tcp/127.0.0.1/$H_SLUICED_PORT"
t0=$(date +%s%N)
h_sluiced_stop 5 || h_fail "sluiced exited non-zero on SIGTERM"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
exec 5>&-
[ "$ms" -lt 1000 ] || h_fail "SIGTERM took ${ms} ms, expected < 1000"
grep -q 'sluiced stopped' "$H_SLUICED_LOG" || h_fail "no clean stop in the log"

# --- --password-file: SCRAM-SHA-256 through psql; wrong password and unknown
# user get the same 28P01 message; a missing file is a clear start-up error.
printf '# test users\nalice:s3cret\nbob:pw:with:colons\n' >"$H_TMP/passwords"
h_sluiced_start --password-file "$H_TMP/passwords"
grep -q '(password authentication)' "$H_SLUICED_LOG" || h_fail "no password mode in the log"
pw_psql() { PGPASSWORD=$2 psql -X -w -h 127.0.0.1 -p "$H_SLUICED_PORT" -U "$1" materialize "${@:3}"; }
out=$(pw_psql alice s3cret -c '' 2>&1) || h_fail "alice with the right password refused: $out"
out=$(pw_psql bob pw:with:colons -c '' 2>&1) || h_fail "bob (colons in password) refused: $out"
out=$(pw_psql alice s3cret -At -c 'SELECT 40 + 2' 2>&1 || true)
[ "$out" = "42" ] || h_fail "authenticated query: $out"
out=$(pw_psql alice wrong -c '' 2>&1) && h_fail "wrong password accepted"
h_grep "$out" -q 'password authentication failed for user "alice"' \
    || h_fail "wrong password message: $out"
out=$(pw_psql mallory s3cret -c '' 2>&1) && h_fail "unknown user accepted"
h_grep "$out" -q 'password authentication failed for user "mallory"' \
    || h_fail "unknown user message: $out"
h_sluiced_stop 5 || h_fail "sluiced (password file) exited non-zero on SIGTERM"
rc=0
"$S" --listen 127.0.0.1:0 --data-dir "$H_TMP/d4" --password-file "$H_TMP/nope" \
    >"$H_TMP/nopw.log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || h_fail "sluiced started with a missing password file"
grep -q 'could not open password file' "$H_TMP/nopw.log" || h_fail "unclear missing-file error"
expect_usage_error --password-file

# --- more workers than PUs: runs, warns; SIGINT stops it too
h_sluiced_start --size 8
grep -q 'workers share CPUs' "$H_SLUICED_LOG" || grep -q 'share a core' "$H_SLUICED_LOG" \
    || [ "$(nproc)" -ge 8 ] || h_fail "no oversubscription warning"
kill -INT "$H_SLUICED_PID"
for _ in $(seq 40); do kill -0 "$H_SLUICED_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$H_SLUICED_PID" 2>/dev/null && h_fail "sluiced ignored SIGINT"
wait "$H_SLUICED_PID" || h_fail "sluiced exited non-zero on SIGINT"

# --- a port already in use: clear error, non-zero exit, no hang
port=$(h_freeport)
exec 6< <(exec "$SLUICE_BUILD_DIR/sluiced" --listen "127.0.0.1:$port" --data-dir "$H_TMP/d2" 2>&1)
h_wait_port "$port" 10 || h_fail "first sluiced did not start"
rc=0
timeout 10 "$S" --listen "127.0.0.1:$port" --data-dir "$H_TMP/d3" >"$H_TMP/dup.log" 2>&1 || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || h_fail "second sluiced on a busy port: exit $rc"
grep -q 'cannot listen on 127.0.0.1' "$H_TMP/dup.log" || h_fail "no clear bind error"
pkill -TERM -f "sluiced --listen 127.0.0.1:$port --data-dir $H_TMP/d2" || true
echo "sluiced lifecycle test passed"
