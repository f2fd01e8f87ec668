#!/usr/bin/env bash
# CREATE SOURCE picking tables: the guide's FOR TABLES (table_1,
# sch.table_2 AS alias_table_2) and FOR SCHEMAS (sch), two sources on one
# PostgreSQL at once, each with its own slot; snapshot then streamed
# INSERT/UPDATE/DELETE compared with PostgreSQL; SHOW SOURCES, SHOW CREATE
# SOURCE (whose statement recreates the source), the progress relation's
# growing LSN, mz_source_statuses and mz_source_statistics (with and
# without mz_internal), the slot's confirmed_flush_lsn following; dropping
# one source leaves the other streaming; a publication's row filter and
# column list; partitioned tables (via the root and via the leaves) and
# inheritance;
# logical messages in the stream; a lost replication
# connection; a source created while its table is being written; a
# restart; the slot dropped upstream.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"

h_pg_start
pgq() { h_psql -X -At -c "$1"; }
h_psql <<'SQL' >/dev/null
CREATE ROLE dbuser LOGIN PASSWORD 'pw' REPLICATION;
CREATE SCHEMA sch;
CREATE TABLE table_1 (id int PRIMARY KEY, v text);
CREATE TABLE sch.table_2 (id int PRIMARY KEY, w int);
CREATE TABLE sch.table_3 (k text, n int);
ALTER TABLE sch.table_3 REPLICA IDENTITY FULL;
-- No primary key: the replica identity index is the key.
CREATE TABLE sch.table_4 (a int NOT NULL, b int NOT NULL, v text, UNIQUE (a, b));
ALTER TABLE sch.table_4 REPLICA IDENTITY USING INDEX table_4_a_b_key;
INSERT INTO sch.table_4 SELECT g % 3, g, 'v' || g FROM generate_series(1, 20) g;
-- Big enough (> 2048 pages, counted by VACUUM) to be copied in ctid ranges
-- over several connections.
CREATE TABLE sch.table_big (id int PRIMARY KEY, pad text);
INSERT INTO sch.table_big SELECT g, repeat(md5(g::text), 5) FROM generate_series(1, 150000) g;
CREATE TABLE other (id int PRIMARY KEY);
INSERT INTO table_1 SELECT g, 'v' || g FROM generate_series(1, 1000) g;
INSERT INTO sch.table_2 SELECT g, g * 10 FROM generate_series(1, 500) g;
INSERT INTO sch.table_3 SELECT 'k' || (g % 5), g FROM generate_series(1, 30) g;
INSERT INTO other SELECT generate_series(1, 7);
GRANT USAGE ON SCHEMA sch TO dbuser;
GRANT SELECT ON ALL TABLES IN SCHEMA public, sch TO dbuser;
CREATE PUBLICATION mz_source FOR ALL TABLES;
SQL
h_psql -c "VACUUM ANALYZE sch.table_big" >/dev/null
[ "$(pgq "SELECT relpages > 2048 FROM pg_class WHERE relname = 'table_big'")" = t ] ||
    h_fail "table_big is too small to be split: $(pgq "SELECT relpages FROM pg_class WHERE relname = 'table_big'")"
h_sluiced_start

q() { h_sluice_psql -X -At -v ON_ERROR_STOP=1 "$@"; }
wal_lsn() { pgq "SELECT pg_current_wal_insert_lsn() - '0/0'"; }

q -c "CREATE SECRET pgpass AS 'pw'" >/dev/null
q -c "CREATE CONNECTION pg_connection TO POSTGRES (HOST '127.0.0.1', PORT $H_PG_PORT, USER dbuser, PASSWORD SECRET pgpass, DATABASE 'postgres')" >/dev/null
guide="CREATE SOURCE mz_source
  FROM POSTGRES CONNECTION pg_connection (PUBLICATION 'mz_source')
  FOR TABLES (table_1, sch.table_2 AS alias_table_2)
  WITH (SIZE = '3xsmall');"
q -c "$guide" >/dev/null || h_fail "the guide's FOR TABLES statement failed"
# A name with "with" in it, and no WITH clause of its own.
schemas="CREATE SOURCE withdrawals FROM POSTGRES CONNECTION pg_connection (PUBLICATION 'mz_source') FOR SCHEMAS (sch)"
q -c "$schemas" >/dev/null || h_fail "FOR SCHEMAS failed"

want_sources=$(printf '%s\n' 'alias_table_2|subsource|' 'withdrawals_progress|progress|' \
    'withdrawals|postgres|3xsmall' 'mz_source_progress|progress|' 'mz_source|postgres|3xsmall' \
    'table_1|subsource|' 'table_2|subsource|' 'table_3|subsource|' 'table_4|subsource|' \
    'table_big|subsource|' | sort)
got=$(q -c "SHOW SOURCES" | sort)
[ "$got" = "$want_sources" ] || h_fail "SHOW SOURCES: [$got]"
[ "$(pgq "SELECT count(*) FROM pg_replication_slots")" = 2 ] ||
    h_fail "two slots expected: $(pgq 'SELECT slot_name, active FROM pg_replication_slots')"

# Snapshots.
h_same_as_pg "SELECT count(*), sum(id), min(v), max(v) FROM table_1"
h_same_as_pg "SELECT id, w FROM alias_table_2 ORDER BY id" "SELECT id, w FROM sch.table_2 ORDER BY id"
h_same_as_pg "SELECT id, w FROM table_2 ORDER BY id" "SELECT id, w FROM sch.table_2 ORDER BY id"
h_same_as_pg "SELECT k, n FROM table_3 ORDER BY n" "SELECT k, n FROM sch.table_3 ORDER BY n"
h_same_as_pg "SELECT a, b, v FROM table_4 ORDER BY a, b" "SELECT a, b, v FROM sch.table_4 ORDER BY a, b"
h_same_as_pg "SELECT count(*), count(DISTINCT id), sum(id), min(pad), max(pad) FROM table_big" \
    "SELECT count(*), count(DISTINCT id), sum(id), min(pad), max(pad) FROM sch.table_big"
out=$(h_sluice_psql -X -At -c "SELECT * FROM other" 2>&1) && h_fail "table other is in no source: $out"

# Both stream once their snapshot is in.
for _ in $(seq 200); do
    [ "$(pgq "SELECT count(*) FROM pg_replication_slots WHERE active")" = 2 ] && break
    sleep 0.05
done
[ "$(pgq "SELECT count(*) FROM pg_replication_slots WHERE active")" = 2 ] ||
    h_fail "two active slots expected: $(pgq 'SELECT slot_name, active FROM pg_replication_slots')"

# Statuses and statistics: every object running; the snapshot counts
# equal the rows copied (1000 + 500 for mz_source, 500 + 30 + 20 + 150000
# for withdrawals).
want_st=$(printf '%s\n' 'alias_table_2|subsource|running' 'mz_source|postgres|running' \
    'mz_source_progress|progress|running' 'table_1|subsource|running')
h_wait_for "SELECT name, type, status FROM mz_internal.mz_source_statuses WHERE name IN ('mz_source', 'mz_source_progress', 'table_1', 'alias_table_2') ORDER BY name" "$want_st"
h_wait_for "SELECT name, type, status FROM mz_source_statuses WHERE name LIKE 'withdrawals%' OR name IN ('table_2', 'table_3', 'table_4', 'table_big') ORDER BY name" \
    "$(printf '%s\n' 'table_2|subsource|running' 'table_3|subsource|running' 'table_4|subsource|running' 'table_big|subsource|running' 'withdrawals|postgres|running' 'withdrawals_progress|progress|running')"
[ "$(q -c "SELECT count(*) FROM mz_source_statuses WHERE error IS NOT NULL")" = 0 ] ||
    h_fail "errors in statuses: $(q -c 'SELECT * FROM mz_source_statuses')"
h_wait_for "SELECT name, snapshot_records_known, snapshot_records_staged, rehydration_latency IS NOT NULL FROM mz_internal.mz_source_statistics ORDER BY name" \
    "$(printf '%s\n' 'mz_source|1500|1500|t' 'withdrawals|150550|150550|t')"
h_wait_for "SELECT name, snapshot_records_known, snapshot_records_staged FROM mz_source_statistics ORDER BY name" \
    "$(printf '%s\n' 'mz_source|1500|1500' 'withdrawals|150550|150550')"

# The progress relation: one numeric LSN, between the slots' restart
# points and what PostgreSQL has written.
lsn0=$(q -c "SELECT lsn FROM mz_source_progress")
[[ "$lsn0" =~ ^[0-9]+$ ]] || h_fail "mz_source_progress.lsn is not a number: [$lsn0]"
[ "$(pgq "SELECT $lsn0 >= min(restart_lsn - '0/0') AND $lsn0 <= pg_current_wal_insert_lsn() - '0/0' FROM pg_replication_slots")" = t ] ||
    h_fail "progress lsn $lsn0 outside [restart_lsn, current]: $(pgq 'SELECT restart_lsn, pg_current_wal_insert_lsn() FROM pg_replication_slots')"
[ "$(q -c "SELECT count(*), sum(lsn) > 0 FROM mz_source_progress")" = "1|t" ] ||
    h_fail "progress relation: $(q -c 'SELECT * FROM mz_source_progress')"
off0=$(q -c "SELECT offset_committed FROM mz_source_statistics WHERE name = 'mz_source'")
upd0=$(q -c "SELECT updates_committed FROM mz_source_statistics WHERE name = 'mz_source'")

# Streaming into both sources, and into a table neither picked.
before=$(wal_lsn)
h_psql <<'SQL' >/dev/null
INSERT INTO table_1 VALUES (1001, 'new'), (1002, NULL);
UPDATE table_1 SET v = 'upd' WHERE id <= 5;
DELETE FROM table_1 WHERE id BETWEEN 10 AND 19;
BEGIN;
INSERT INTO sch.table_2 VALUES (501, 5010);
UPDATE sch.table_2 SET w = -w WHERE id % 100 = 0;
UPDATE sch.table_2 SET id = id + 1000 WHERE id BETWEEN 1 AND 3;
DELETE FROM sch.table_2 WHERE id BETWEEN 4 AND 6;
COMMIT;
UPDATE sch.table_3 SET n = n + 100 WHERE k = 'k1';
DELETE FROM sch.table_3 WHERE k = 'k2';
INSERT INTO sch.table_3 VALUES ('k1', 1), ('k1', 1);
INSERT INTO other VALUES (8);
SELECT pg_logical_emit_message(true, 'sluice-test', 'in a transaction');
SELECT pg_logical_emit_message(false, 'sluice-test', 'outside any transaction');
UPDATE sch.table_4 SET v = 'u' || v WHERE a = 1;
UPDATE sch.table_4 SET b = b + 100 WHERE a = 2;
DELETE FROM sch.table_4 WHERE a = 0 AND b < 10;
UPDATE sch.table_big SET pad = 'changed' WHERE id % 1000 = 0;
DELETE FROM sch.table_big WHERE id > 149990;
SQL
after=$(wal_lsn)
h_same_as_pg "SELECT id, v FROM table_1 WHERE id <= 20 OR id > 1000 ORDER BY id"
h_same_as_pg "SELECT count(*), sum(id), count(v) FROM table_1"
h_same_as_pg "SELECT id, w FROM alias_table_2 ORDER BY id" "SELECT id, w FROM sch.table_2 ORDER BY id"
h_same_as_pg "SELECT id, w FROM table_2 ORDER BY id" "SELECT id, w FROM sch.table_2 ORDER BY id"
h_same_as_pg "SELECT k, n FROM table_3 ORDER BY k, n" "SELECT k, n FROM sch.table_3 ORDER BY k, n"
h_same_as_pg "SELECT a, b, v FROM table_4 ORDER BY a, b" "SELECT a, b, v FROM sch.table_4 ORDER BY a, b"
h_same_as_pg "SELECT count(*), sum(id), count(*) FILTER (WHERE pad = 'changed') FROM table_big" \
    "SELECT count(*), sum(id), count(*) FILTER (WHERE pad = 'changed') FROM sch.table_big"
# The progress LSN grew past every commit above (each commit ends after
# $before), and is not past what PostgreSQL has written.
h_wait_for "SELECT lsn > $before FROM mz_source_progress" t
h_wait_for "SELECT lsn > $before FROM withdrawals_progress" t
lsn1=$(q -c "SELECT lsn FROM mz_source_progress")
[ "$(pgq "SELECT $lsn1 > $lsn0 AND $lsn1 <= pg_current_wal_insert_lsn() - '0/0'")" = t ] ||
    h_fail "progress lsn $lsn0 -> $lsn1 (wal $before .. $after)"
# Acknowledged upstream: offset_committed and the slot's confirmed_flush_lsn.
h_wait_for "SELECT offset_committed > $off0 AND offset_committed > $before FROM mz_source_statistics WHERE name = 'mz_source'" t
h_wait_for "SELECT offset_committed >= $before, updates_committed > $upd0, updates_staged >= updates_committed - 1500 FROM mz_internal.mz_source_statistics WHERE name = 'mz_source'" "t|t|t"
for _ in $(seq 200); do
    [ "$(pgq "SELECT bool_and(confirmed_flush_lsn - '0/0' > $before) FROM pg_replication_slots")" = t ] && break
    sleep 0.05
done
[ "$(pgq "SELECT bool_and(confirmed_flush_lsn - '0/0' > $before) FROM pg_replication_slots")" = t ] ||
    h_fail "slots not confirmed past $before: $(pgq 'SELECT slot_name, confirmed_flush_lsn FROM pg_replication_slots')"

# The replication connection dies: the source says so, reconnects, and
# resumes where it was (nothing lost, nothing twice).
mz_slot=$(q -c "SHOW CREATE SOURCE mz_source" | sed -n "s/.*SLOT = '\([a-z0-9_]*\)'.*/\1/p")
[ "$(pgq "SELECT count(pg_terminate_backend(active_pid)) FROM pg_replication_slots WHERE slot_name = '$mz_slot'")" = 1 ] ||
    h_fail "no walsender to terminate for $mz_slot"
h_psql -c "INSERT INTO table_1 VALUES (1500, 'while reconnecting')" -c "UPDATE sch.table_2 SET w = 99 WHERE id = 501" \
    -c "DELETE FROM table_1 WHERE id = 1001" >/dev/null
h_same_as_pg "SELECT id, v FROM table_1 WHERE id > 1000 ORDER BY id"
h_same_as_pg "SELECT id, w FROM alias_table_2 ORDER BY id" "SELECT id, w FROM sch.table_2 ORDER BY id"
h_wait_for "SELECT status, error IS NULL FROM mz_source_statuses WHERE name = 'mz_source'" "running|t"
grep -q "source mz_source: replication connection lost" "$H_SLUICED_LOG" || h_fail "the lost connection was not logged"

# TRUNCATE: a keyed table and a keyless one in one statement (each in its
# own source), then new rows.
h_psql -c "TRUNCATE table_1, sch.table_3" -c "INSERT INTO table_1 VALUES (1, 'again')" \
    -c "INSERT INTO sch.table_3 VALUES ('t', 1), ('t', 1)" >/dev/null
h_same_as_pg "SELECT id, v FROM table_1 ORDER BY id"
h_same_as_pg "SELECT k, n FROM table_3 ORDER BY k, n" "SELECT k, n FROM sch.table_3 ORDER BY k, n"

# SHOW CREATE SOURCE: the statement as written with its slot pinned; run
# again after DROP SOURCE it recreates the same source on the same slot.
# Prints the statement; sets slot_of_last to the slot it names.
check_show_create() {
    local name=$1 stmt=$2 got
    got=$(q -c "SHOW CREATE SOURCE $name")
    case "$got" in "materialize.public.$name|$stmt"*) ;; *) h_fail "SHOW CREATE SOURCE $name: [$got]" ;; esac
    slot_of_last=$(printf '%s' "$got" | sed -n "s/.*SLOT = '\([a-z0-9_]*\)'.*/\1/p")
    for _ in $(seq 200); do
        [ "$(pgq "SELECT count(*) FROM pg_replication_slots WHERE active AND slot_name = '$slot_of_last'")" = 1 ] &&
            break
        sleep 0.05
    done
    [ "$(pgq "SELECT count(*) FROM pg_replication_slots WHERE active AND slot_name = '$slot_of_last'")" = 1 ] ||
        h_fail "SHOW CREATE SOURCE $name names no live slot: [$got]"
    sql_of_last=${got#*|}
}
check_show_create mz_source "${guide%);}"
check_show_create withdrawals "$schemas"
sql_bw=$sql_of_last slot_bw=$slot_of_last
q -c "DROP SOURCE withdrawals" >/dev/null
[ "$(pgq "SELECT count(*) FROM pg_replication_slots")" = 1 ] || h_fail "DROP SOURCE withdrawals kept its slot"
# mz_source streams on alone.
h_psql -c "UPDATE sch.table_2 SET w = 7 WHERE id = 501" -c "INSERT INTO table_1 VALUES (2000, 'after drop')" >/dev/null
h_same_as_pg "SELECT id, w FROM alias_table_2 ORDER BY id" "SELECT id, w FROM sch.table_2 ORDER BY id"
h_same_as_pg "SELECT count(*), sum(id), count(v) FROM table_1"
q -c "$sql_bw" >/dev/null || h_fail "SHOW CREATE SOURCE's statement does not run: [$sql_bw]"
[ "$(pgq "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$slot_bw'")" = 1 ] ||
    h_fail "the recreated source is not on slot $slot_bw"
got=$(q -c "SHOW SOURCES" | sort)
[ "$got" = "$want_sources" ] || h_fail "SHOW SOURCES after recreating withdrawals: [$got]"
h_same_as_pg "SELECT id, w FROM table_2 ORDER BY id" "SELECT id, w FROM sch.table_2 ORDER BY id"
h_psql -c "DELETE FROM sch.table_3 WHERE n > 100" >/dev/null
h_same_as_pg "SELECT k, n FROM table_3 ORDER BY k, n" "SELECT k, n FROM sch.table_3 ORDER BY k, n"

# A publication with a row filter and a column list (PostgreSQL 15): the
# snapshot holds the rows the filter passes, the stream follows rows in
# and out of it, only the listed columns exist; also after a restart.
h_psql <<'SQL' >/dev/null
CREATE TABLE rf (id int PRIMARY KEY, v int, w text);
ALTER TABLE rf REPLICA IDENTITY FULL;
INSERT INTO rf SELECT g, g, 'w' || g FROM generate_series(1, 20) g;
CREATE TABLE cl (id int PRIMARY KEY, a text, secret text);
INSERT INTO cl VALUES (1, 'a1', 's1'), (2, 'a2', 's2');
GRANT SELECT ON rf, cl TO dbuser;
CREATE PUBLICATION pub_filtered FOR TABLE rf WHERE (v > 10 AND w <> 'w15'), cl (id, a);
SQL
q -c "CREATE SOURCE filtered FROM POSTGRES CONNECTION pg_connection (PUBLICATION 'pub_filtered') FOR ALL TABLES" \
    >/dev/null || h_fail "CREATE SOURCE filtered"
check_filtered() {
    h_same_as_pg "SELECT id, v, w FROM rf ORDER BY id" \
        "SELECT id, v, w FROM rf WHERE v > 10 AND w <> 'w15' ORDER BY id"
    h_same_as_pg "SELECT * FROM cl ORDER BY id" "SELECT id, a FROM cl ORDER BY id"
}
check_filtered
h_psql -c "UPDATE rf SET v = v + 5 WHERE id BETWEEN 3 AND 8" -c "UPDATE rf SET v = 0 WHERE id = 20" \
    -c "UPDATE rf SET w = 'w15' WHERE id = 19" -c "UPDATE rf SET w = 'back' WHERE id = 15" \
    -c "INSERT INTO rf VALUES (21, 1, 'x'), (22, 100, 'y')" -c "DELETE FROM rf WHERE id IN (12, 2)" \
    -c "UPDATE cl SET a = 'a1b', secret = 'hidden' WHERE id = 1" -c "INSERT INTO cl VALUES (3, 'a3', 's3')" >/dev/null
check_filtered

# A partitioned table, published through its root (one subsource named
# after the root) and through its leaves (one per partition); rows move
# between partitions. An inheritance parent and child (with a row filter,
# so the parent is read with a SELECT): the parent's rows only.
h_psql <<'SQL' >/dev/null
CREATE TABLE parted (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100);
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (100) TO (200);
INSERT INTO parted SELECT g, 'v' || g FROM generate_series(1, 199, 7) g;
GRANT SELECT ON parted, parted_1, parted_2 TO dbuser;
CREATE PUBLICATION pub_root FOR TABLE parted WITH (publish_via_partition_root = true);
-- Legacy inheritance too: the parent and its child are two tables.
CREATE TABLE inh_parent (id int PRIMARY KEY, v text);
CREATE TABLE inh_child (extra int) INHERITS (inh_parent);
ALTER TABLE inh_child ADD PRIMARY KEY (id);
INSERT INTO inh_parent VALUES (1, 'p1'), (2, 'p2');
INSERT INTO inh_child VALUES (3, 'c3', 30), (4, 'c4', 40);
GRANT SELECT ON inh_parent, inh_child TO dbuser;
CREATE PUBLICATION pub_leaves FOR TABLE parted, inh_parent WHERE (id > 0);
SQL
q -c "CREATE SOURCE via_root FROM POSTGRES CONNECTION pg_connection (PUBLICATION 'pub_root') FOR ALL TABLES" \
    >/dev/null || h_fail "CREATE SOURCE via_root"
q -c "CREATE SOURCE via_leaves FROM POSTGRES CONNECTION pg_connection (PUBLICATION 'pub_leaves') FOR ALL TABLES" \
    >/dev/null || h_fail "CREATE SOURCE via_leaves"
check_parted() {
    h_same_as_pg "SELECT id, v FROM parted ORDER BY id"
    h_same_as_pg "SELECT id, v FROM parted_1 ORDER BY id"
    h_same_as_pg "SELECT id, v FROM parted_2 ORDER BY id"
    h_same_as_pg "SELECT id, v FROM inh_parent ORDER BY id" "SELECT id, v FROM ONLY inh_parent ORDER BY id"
    h_same_as_pg "SELECT id, v, extra FROM inh_child ORDER BY id"
}
check_parted
h_psql -c "INSERT INTO parted VALUES (32, 'new'), (150, 'new2')" -c "UPDATE parted SET id = id + 100 WHERE id < 30" \
    -c "UPDATE parted SET v = 'x' WHERE id > 180" -c "DELETE FROM parted WHERE id BETWEEN 40 AND 60" \
    -c "INSERT INTO inh_child VALUES (5, 'c5', 50)" -c "UPDATE inh_parent SET v = v || '!'" >/dev/null
check_parted
q -c "DROP SOURCE via_root" >/dev/null
q -c "DROP SOURCE via_leaves" >/dev/null

# A third source created while PostgreSQL is busy writing its table: the
# snapshot and the stream meet exactly (nothing lost, nothing twice).
h_psql -c "CREATE TABLE churn (id int PRIMARY KEY, v int)" \
    -c "INSERT INTO churn SELECT g, 0 FROM generate_series(1, 100000) g" \
    -c "GRANT SELECT ON churn TO dbuser" >/dev/null
for i in $(seq 1 4000); do
    echo "INSERT INTO churn VALUES ($((100000 + i)), $i);"
    echo "UPDATE churn SET v = v + 1 WHERE id = $((i * 25));"
    echo "DELETE FROM churn WHERE id = $((i * 25 - 7));"
done >"$H_TMP/churn.sql"
h_psql -f "$H_TMP/churn.sql" >/dev/null &
writer=$!
q -c "CREATE SOURCE churn_src FROM POSTGRES CONNECTION pg_connection (PUBLICATION 'mz_source') FOR TABLES (churn)" \
    >/dev/null || h_fail "CREATE SOURCE churn_src"
kill -0 "$writer" 2>/dev/null && h_log "the writer was still running when CREATE SOURCE returned"
wait "$writer" || h_fail "the writer failed"
h_same_as_pg "SELECT count(*), sum(id), sum(v) FROM churn"
h_same_as_pg "SELECT id, v FROM churn ORDER BY id"
q -c "DROP SOURCE churn_src" >/dev/null

# A restart: the sources come back on their slots (a new snapshot each)
# and stream on.
h_sluiced_stop 10 || h_fail "sluiced exited non-zero"
h_sluiced_start
got=$(q -c "SHOW SOURCES" | sort)
want_restart=$(printf '%s\n' "$want_sources" 'filtered|postgres|3xsmall' 'filtered_progress|progress|' \
    'rf|subsource|' 'cl|subsource|' | sort)
[ "$got" = "$want_restart" ] || h_fail "SHOW SOURCES after a restart: [$got]"
check_filtered
h_psql -c "UPDATE rf SET v = 50 WHERE id = 1" -c "UPDATE rf SET v = 1 WHERE id = 22" >/dev/null
check_filtered
q -c "DROP SOURCE filtered" >/dev/null
check_show_create withdrawals "$schemas"
[ "$slot_of_last" = "$slot_bw" ] || h_fail "withdrawals on slot $slot_of_last after a restart, not $slot_bw"
[ "$(pgq "SELECT count(*) FROM pg_replication_slots")" = 2 ] ||
    h_fail "slots after a restart: $(pgq 'SELECT slot_name FROM pg_replication_slots')"
h_psql -c "INSERT INTO table_1 VALUES (3000, 'after restart')" -c "UPDATE sch.table_2 SET w = 1 WHERE id = 501" >/dev/null
h_same_as_pg "SELECT id, v FROM table_1 ORDER BY id"
h_same_as_pg "SELECT id, w FROM alias_table_2 ORDER BY id" "SELECT id, w FROM sch.table_2 ORDER BY id"
h_same_as_pg "SELECT id, w FROM table_2 ORDER BY id" "SELECT id, w FROM sch.table_2 ORDER BY id"
h_same_as_pg "SELECT count(*), sum(id) FROM table_big" "SELECT count(*), sum(id) FROM sch.table_big"

# The slot dropped upstream behind the source's back: the source fails
# with a clear error, and so do reads of its subsources.
terminate_and_drop() { h_pg_drop_slot "$1"; }
terminate_and_drop "$slot_bw"
for _ in $(seq 200); do
    st=$(q -c "SELECT status, error FROM mz_source_statuses WHERE name = 'withdrawals'")
    case "$st" in "failed|"*"$slot_bw"*"no longer exists"*) break ;; esac
    sleep 0.05
done
case "$st" in "failed|"*"$slot_bw"*"no longer exists"*) ;; *) h_fail "withdrawals after its slot was dropped: [$st]" ;; esac
out=$(h_sluice_psql -X -v VERBOSITY=verbose -c "SELECT count(*) FROM table_2" 2>&1) &&
    h_fail "a read of a failed source succeeded: $out"
h_grep "$out" -q "ERROR:  55000: .*no longer exists" || h_fail "read of a failed source: $out"
h_same_as_pg "SELECT count(*) FROM table_1"

q -c "DROP SOURCE mz_source" >/dev/null
q -c "DROP SOURCE withdrawals" >/dev/null
[ -z "$(q -c 'SHOW SOURCES')" ] || h_fail "objects left after DROP SOURCE"
[ "$(pgq "SELECT count(*) FROM pg_replication_slots")" = 0 ] || h_fail "slots left after DROP SOURCE"
h_sluiced_stop 10 || h_fail "sluiced exited non-zero"
