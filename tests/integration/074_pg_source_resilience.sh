#!/usr/bin/env bash
# The PostgreSQL source under stress and failure, against the harness
# PostgreSQL: transactions are atomic in sluice (a reader polling the sum
# of balances during transfers never sees it change), a big transaction,
# TRUNCATE, upstream ALTER TABLE (ADD COLUMN goes on, DROP COLUMN stalls only
# that subsource), the walsender killed mid-stream and PostgreSQL restarted
# (nothing lost or doubled), an idle publication does not pin WAL, a
# restart of sluiced re-snapshots, a slot dropped upstream is a clear error.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"

h_pg_start
h_psql <<'SQL' >/dev/null
CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);
INSERT INTO accounts SELECT g, 1000 FROM generate_series(1, 100) g;
CREATE TABLE events (id bigint PRIMARY KEY, note text);
CREATE TABLE side (id int PRIMARY KEY, a int, b text);
INSERT INTO side VALUES (1, 1, 'one'), (2, 2, 'two');
CREATE TABLE bag (x int, y text);
ALTER TABLE bag REPLICA IDENTITY FULL;
CREATE TABLE unpublished (x int);
CREATE PUBLICATION pub FOR TABLE accounts, events, side, bag;
SQL
h_sluiced_start

q() { h_sluice_psql -X -At -v ON_ERROR_STOP=1 "$@"; }
H_POLL_SECS=30 # h_wait_for, h_same_as_pg: the loads here are large

q -c "CREATE CONNECTION pg TO POSTGRES (HOST '127.0.0.1', PORT $H_PG_PORT, USER postgres, DATABASE 'postgres')" >/dev/null
q -c "CREATE SOURCE src FROM POSTGRES CONNECTION pg (PUBLICATION 'pub') FOR ALL TABLES" >/dev/null
q -c "CREATE MATERIALIZED VIEW total AS SELECT sum(balance) AS s, count(*) AS n FROM accounts" >/dev/null
h_wait_for "SELECT s, n FROM total" "100000|100"

# --- Transactions are atomic: transfers keep the sum; a reader never sees
# a different one, through the view or directly.
(
    for i in $(seq 5000); do
        a=$(( (i * 7) % 100 + 1 )) b=$(( (i * 13) % 100 + 1 ))
        echo "BEGIN; UPDATE accounts SET balance = balance - $i WHERE id = $a; UPDATE accounts SET balance = balance + $i WHERE id = $b; COMMIT;"
    done
) | h_psql >/dev/null &
load=$!
seen=0
while kill -0 "$load" 2>/dev/null; do
    s1=$(q -c "SELECT s FROM total")
    s2=$(q -c "SELECT sum(balance) FROM accounts")
    [ "$s1" = 100000 ] || h_fail "the view saw a partial transaction: sum $s1"
    [ "$s2" = 100000 ] || h_fail "a read saw a partial transaction: sum $s2"
    seen=$((seen + 1))
done
wait "$load"
[ "$seen" -gt 3 ] || h_fail "the reader polled only $seen times"
h_same_as_pg "SELECT id, balance FROM accounts ORDER BY id"

# --- A 1M-row transaction lands at once.
h_psql -c "INSERT INTO events SELECT g, 'e' || g FROM generate_series(1, 1000000) g" >/dev/null
h_wait_for "SELECT count(*), sum(id) FROM events" "1000000|500000500000" 120
h_same_as_pg "SELECT count(*), min(note), max(note) FROM events"

# --- TRUNCATE retracts, and later rows come back.
h_psql -c "INSERT INTO bag VALUES (1, 'a'), (1, 'a'), (2, 'b')" >/dev/null
h_wait_for "SELECT count(*) FROM bag" 3
h_psql -c "BEGIN; TRUNCATE events, bag; INSERT INTO bag VALUES (9, 'z'); COMMIT" >/dev/null
h_wait_for "SELECT count(*) FROM events" 0
h_same_as_pg "SELECT x, y FROM bag ORDER BY 1"
h_psql -c "INSERT INTO events VALUES (1, 'back')" >/dev/null
h_wait_for "SELECT note FROM events" back

# --- The walsender is killed during a load: nothing lost or doubled.
(
    for i in $(seq 1000 1999); do echo "INSERT INTO events VALUES ($i, 'k$i');"; done
) | h_psql >/dev/null &
load=$!
sleep 0.2
h_psql -c "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE active_pid IS NOT NULL" >/dev/null
sleep 0.3
h_psql -c "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE active_pid IS NOT NULL" >/dev/null
wait "$load"
h_same_as_pg "SELECT count(*), sum(id), count(DISTINCT id) FROM events"
h_wait_for "SELECT status FROM mz_internal.mz_source_statuses WHERE name = 'src'" running

# --- PostgreSQL restarts: the source reconnects and resumes.
h_pg_restart
h_psql -c "INSERT INTO events SELECT g, 'r' FROM generate_series(5000, 5099) g" >/dev/null
h_same_as_pg "SELECT count(*), sum(id) FROM events"

# --- Upstream ALTER TABLE: ADD COLUMN keeps the subsource going with its
# columns; DROP COLUMN stalls only that subsource with a clear error.
h_psql -c "ALTER TABLE side ADD COLUMN c int DEFAULT 7" >/dev/null
h_psql -c "INSERT INTO side VALUES (3, 3, 'three', 9)" >/dev/null
h_same_as_pg "SELECT id, a, b FROM side ORDER BY 1"
[ "$(q -c "SELECT count(*) FROM mz_columns c JOIN mz_sources s ON s.id = c.id WHERE s.name = 'side'")" = 3 ] ||
    h_fail "the subsource's columns changed"
h_psql -c "ALTER TABLE side DROP COLUMN b" >/dev/null
h_psql -c "INSERT INTO side VALUES (4, 4, 10)" >/dev/null
h_psql -c "INSERT INTO events VALUES (7777, 'after alter')" >/dev/null
h_wait_for "SELECT note FROM events WHERE id = 7777" "after alter"
out=$(h_sluice_psql -X -c "SELECT * FROM side" 2>&1 || true)
h_grep "$out" -q 'was altered upstream' || h_fail "no altered-table error: $out"
h_wait_for "SELECT status FROM mz_internal.mz_source_statuses WHERE name = 'side'" stalled
h_wait_for "SELECT status FROM mz_internal.mz_source_statuses WHERE name = 'events'" running

# --- An idle publication does not pin WAL: writes to an unpublished table
# move the slot's confirmed LSN.
before=$(h_psql -X -At -c "SELECT confirmed_flush_lsn FROM pg_replication_slots")
h_psql -c "INSERT INTO unpublished SELECT generate_series(1, 1000)" >/dev/null
after=$(h_psql -X -At -c "SELECT pg_current_wal_lsn()")
for _ in $(seq 200); do
    now=$(h_psql -X -At -c "SELECT confirmed_flush_lsn >= '$after' FROM pg_replication_slots")
    [ "$now" = t ] && break
    sleep 0.05
done
[ "$now" = t ] || h_fail "confirmed_flush_lsn stayed at $before (WAL end $after)"

# --- A restart of sluiced re-snapshots with a new slot; views are right again.
slot=$(h_psql -X -At -c "SELECT slot_name FROM pg_replication_slots")
h_sluiced_stop 20 || h_fail "sluiced exited non-zero"
h_psql -c "INSERT INTO events VALUES (8888, 'while down')" >/dev/null
h_sluiced_start
h_wait_for "SELECT note FROM events WHERE id = 8888" "while down"
h_same_as_pg "SELECT count(*), sum(id) FROM events"
h_wait_for "SELECT s, n FROM total" "100000|100"
[ "$(h_psql -X -At -c "SELECT count(*) FROM pg_replication_slots")" = 1 ] || h_fail "slots after restart"

# --- The slot dropped upstream: a clear error in the status.
h_pg_drop_slot "$(h_psql -X -At -c "SELECT slot_name FROM pg_replication_slots")"
for _ in $(seq 400); do
    st=$(q -c "SELECT status || ': ' || coalesce(error, '') FROM mz_internal.mz_source_statuses WHERE name = 'src'" 2>&1)
    case $st in failed*) break ;; esac
    sleep 0.1
done
h_grep "$st" -q 'failed: .*replication slot .* no longer exists' || h_fail "slot gone: [$st]"
q -c "DROP SOURCE src CASCADE" >/dev/null
h_sluiced_stop 20 || h_fail "sluiced exited non-zero"
