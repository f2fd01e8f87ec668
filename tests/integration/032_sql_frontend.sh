#!/usr/bin/env bash
# The SQL front end through psql against a real sluiced: the catalog
# survives a restart (definitions replayed, table contents not yet durable),
# DROP with dependencies, SUBSCRIBE through COPY and through cursors,
# introspection, concurrent writers, errors with SQLSTATE and position.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"

q() { h_sluice_psql -X -At -v ON_ERROR_STOP=1 "$@"; }
expect() { # expect "what" "expected" "actual"
    [ "$2" = "$3" ] || h_fail "$1: expected [$2], got [$3]"
}

h_sluiced_start

# --- definitions, reads, views over views
q -c "CREATE TABLE acct (id int NOT NULL, owner text, balance numeric(12,2) DEFAULT 0)" >/dev/null
q -c "INSERT INTO acct VALUES (1, 'ann', 100), (2, 'bob', 50.5), (3, 'cy', 0)" >/dev/null
q -c "INSERT INTO acct (id, owner) VALUES (4, 'dee')" >/dev/null
q -c "CREATE VIEW rich AS SELECT id, owner FROM acct WHERE balance > 10" >/dev/null
q -c "CREATE MATERIALIZED VIEW total AS SELECT count(*) AS n, sum(balance) AS s FROM acct" >/dev/null
q -c "CREATE INDEX acct_id ON acct (id)" >/dev/null
q -c "CREATE SCHEMA app" >/dev/null
q -c "CREATE TABLE app.t (x int)" >/dev/null
expect "MV" "4|150.50" "$(q -c 'SELECT n, s FROM total')"
expect "view" "ann,bob" "$(q -c "SELECT string_agg(owner, ',' ORDER BY owner) FROM rich")"
expect "default" "0.00" "$(q -c 'SELECT balance FROM acct WHERE id = 4')"
expect "point lookup" "bob" "$(q -c 'SELECT owner FROM acct WHERE id = 2')"
expect "SHOW TABLES" "acct" "$(q -c 'SHOW TABLES')"
expect "SHOW TABLES FROM app" "t" "$(q -c 'SHOW TABLES FROM app')"
expect "SHOW INDEXES" "acct_id|acct|default|{id}" "$(q -c 'SHOW INDEXES')"
n=$(q -c "SELECT records > 0 AND bytes > 0 FROM mz_internal.mz_arrangement_sizes WHERE name = 'total'")
expect "arrangement size of total" "t" "$n"

# --- NOT NULL, types, errors with SQLSTATE and position
out=$(h_sluice_psql -X -v VERBOSITY=verbose -c "INSERT INTO acct VALUES (NULL, 'x', 1)" 2>&1 || true)
h_grep "$out" -q '23502' || h_fail "NOT NULL not enforced: $out"
out=$(h_sluice_psql -X -v VERBOSITY=verbose -c "SELECT nosuch FROM acct" 2>&1 || true)
h_grep "$out" -q '42703' || h_fail "no 42703: $out"
h_grep "$out" -q '^ *\^' || h_fail "no position for 42703: $out"
out=$(h_sluice_psql -X -v VERBOSITY=verbose -c "SELECT 1 + 'a'::text" 2>&1 || true)
h_grep "$out" -q '42883' || h_fail "no 42883: $out"
# now() is the statement's time in a one-off query, refused in a view
# (a view's value must not depend on when it is read).
[ "$(q -c "SELECT now() > '2026-01-01'::timestamptz AND now() < '2100-01-01'::timestamptz")" = t ] ||
    h_fail "now() in a one-off query"
out=$(h_sluice_psql -X -v VERBOSITY=verbose -c "CREATE VIEW v_now AS SELECT now() AS t" 2>&1 || true)
h_grep "$out" -q '0A000.*not supported in views' || h_fail "now() in a view: $out"
out=$(h_sluice_psql -X -v VERBOSITY=verbose -c "CREATE MATERIALIZED VIEW mv_now AS SELECT current_date AS d" 2>&1 || true)
h_grep "$out" -q '0A000.*not supported in views' || h_fail "current_date in a view: $out"
out=$(h_sluice_psql -X -v VERBOSITY=verbose -c "SELECT 1/0" 2>&1 || true)
h_grep "$out" -q '22012' || h_fail "no 22012: $out"

# --- DROP with dependencies
out=$(h_sluice_psql -X -v VERBOSITY=verbose -c "DROP TABLE acct" 2>&1 || true)
h_grep "$out" -q '2BP01' || h_fail "DROP without CASCADE allowed: $out"
out=$(h_sluice_psql -X -c 'DROP VIEW IF EXISTS nothere' 2>&1) || h_fail "DROP VIEW IF EXISTS: $out"
h_grep "$out" -q 'does not exist, skipping' || h_fail "no notice for DROP IF EXISTS: $out"

# --- the catalog survives a restart; table contents do not (yet)
h_sluiced_stop 10 || h_fail "sluiced exited non-zero"
h_sluiced_start
expect "tables after restart" "acct" "$(q -c 'SHOW TABLES')"
expect "MV after restart" "0|" "$(q -c 'SELECT n, s FROM total')"
q -c "INSERT INTO acct VALUES (7, 'eve', 70)" >/dev/null
expect "MV maintained after restart" "1|70.00" "$(q -c 'SELECT n, s FROM total')"
expect "index after restart" "eve" "$(q -c 'SELECT owner FROM acct WHERE id = 7')"
expect "schema table after restart" "t" "$(q -c 'SHOW TABLES FROM app')"

# --- SUBSCRIBE through cursors
out=$(q <<'SQL'
DECLARE c CURSOR FOR SUBSCRIBE (SELECT owner FROM acct WHERE id > 5);
FETCH ALL c WITH (timeout = '2s');
INSERT INTO acct VALUES (8, 'fay', 1);
FETCH ALL c WITH (timeout = '2s');
DELETE FROM acct WHERE id = 7;
FETCH ALL c WITH (timeout = '2s');
CLOSE c;
SQL
)
h_grep "$out" -Eq '^[0-9]+\|1\|eve$' || h_fail "SUBSCRIBE snapshot: $out"
h_grep "$out" -Eq '^[0-9]+\|1\|fay$' || h_fail "SUBSCRIBE insert: $out"
h_grep "$out" -Eq '^[0-9]+\|-1\|eve$' || h_fail "SUBSCRIBE retraction: $out"

# --- SUBSCRIBE through COPY: a streaming client sees later writes, and
# a cancel (psql sends one on SIGINT) ends it with 57014.
# (timeout delivers the SIGINT: a background job of this shell ignores it.)
timeout -s INT 3 psql -X -v VERBOSITY=verbose -h 127.0.0.1 -p "$H_SLUICED_PORT" -U materialize \
    materialize -c "COPY (SUBSCRIBE total) TO STDOUT" >"$H_TMP/copy.out" 2>&1 &
copy_pid=$!
sleep 1
q -c "INSERT INTO acct VALUES (9, 'gus', 9)" >/dev/null
wait "$copy_pid" 2>/dev/null || true
grep -q '57014' "$H_TMP/copy.out" || h_fail "cancel did not report 57014: $(cat "$H_TMP/copy.out")"
grep -Eq '^[0-9]+	1	1	1.00$' "$H_TMP/copy.out" || h_fail "COPY SUBSCRIBE snapshot: $(cat "$H_TMP/copy.out")"
grep -Eq '^[0-9]+	1	2	10.00$' "$H_TMP/copy.out" || h_fail "COPY SUBSCRIBE update: $(cat "$H_TMP/copy.out")"
# the server is fine after the streaming client vanished
expect "after COPY client was cancelled" "2" "$(q -c 'SELECT n FROM total')"

# --- concurrent writers: every acknowledged insert is in the view
writers=()
for w in $(seq 8); do
    (for i in $(seq 20); do
        q -c "INSERT INTO acct VALUES ($((w * 1000 + i)), 'w$w', 1)" >/dev/null || exit 1
    done) &
    writers+=($!)
done
for p in "${writers[@]}"; do
    wait "$p" || h_fail "a concurrent writer failed"
done
expect "concurrent inserts" "162" "$(q -c 'SELECT n FROM total')"
expect "concurrent inserts (table)" "160" "$(q -c "SELECT count(*) FROM acct WHERE owner LIKE 'w%'")"

# --- DROP ... CASCADE removes dependents, and the catalog file agrees
q -c "DROP TABLE acct CASCADE" >/dev/null
expect "views after cascade" "" "$(q -c 'SHOW MATERIALIZED VIEWS')"
grep -q 'CREATE MATERIALIZED VIEW' "$H_TMP/sluice-data/catalog.json" && h_fail "catalog still holds the MV"
h_log "SQL front end: definitions, restart, DROP, SUBSCRIBE, concurrency OK"
