#!/usr/bin/env bash
# The PostgreSQL CDC guide end to end against the harness PostgreSQL:
# publication, CREATE SOURCE ... FOR ALL TABLES WITH (SIZE = '3xsmall'),
# subsources and the progress relation, the snapshot, then streamed
# INSERT/UPDATE/DELETE into a materialized view, compared with what
# PostgreSQL itself answers; DROP SOURCE drops the slot.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"

h_pg_start
h_psql -c "CREATE ROLE dbuser LOGIN PASSWORD 'pw' REPLICATION" >/dev/null
h_psql -c "CREATE TABLE view1 (id int PRIMARY KEY, field1 text, v numeric)" >/dev/null
h_psql -c "CREATE TABLE t_full (a int, b text)" >/dev/null
h_psql -c "ALTER TABLE t_full REPLICA IDENTITY FULL" >/dev/null
h_psql -c "INSERT INTO view1 SELECT g, 'f' || (g % 7), g * 1.5 FROM generate_series(1, 5000) g" >/dev/null
h_psql -c "INSERT INTO t_full VALUES (1, 'x'), (1, 'x'), (2, NULL)" >/dev/null
h_psql -c "GRANT SELECT ON ALL TABLES IN SCHEMA public TO dbuser" >/dev/null
h_psql -c "CREATE PUBLICATION mz_source FOR ALL TABLES" >/dev/null
h_sluiced_start

q() { h_sluice_psql -X -At -v ON_ERROR_STOP=1 "$@"; }

q -c "CREATE SECRET pgpass AS 'pw'" >/dev/null
q -c "CREATE CONNECTION pg_connection TO POSTGRES (HOST '127.0.0.1', PORT $H_PG_PORT, USER dbuser, PASSWORD SECRET pgpass, DATABASE 'postgres')" >/dev/null
q -c "CREATE SOURCE mz_source
    FROM POSTGRES CONNECTION pg_connection (PUBLICATION 'mz_source')
    FOR ALL TABLES
    WITH (SIZE = '3xsmall');" >/dev/null || h_fail "CREATE SOURCE failed"
q -c "CREATE MATERIALIZED VIEW cnt_view1 AS
    SELECT field1,
           COUNT(*) AS cnt
    FROM view1
    GROUP BY field1;" >/dev/null || h_fail "CREATE MATERIALIZED VIEW failed"

got=$(q -c "SHOW SOURCES" | sort)
want=$(printf 'mz_source_progress|progress|\nmz_source|postgres|3xsmall\nt_full|subsource|\nview1|subsource|' | sort)
[ "$got" = "$want" ] || h_fail "SHOW SOURCES: [$got]"
[ "$(h_psql -X -At -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'sluice_%'")" = 1 ] ||
    h_fail "no slot upstream"

# The snapshot, never half loaded: the first answer is the whole table.
[ "$(q -c 'SELECT count(*) FROM view1')" = 5000 ] || h_fail "snapshot count"
h_same_as_pg "SELECT field1, count(*) FROM view1 GROUP BY field1 ORDER BY 1"
h_same_as_pg "SELECT a, b FROM t_full ORDER BY 1, 2"
h_wait_for "SELECT field1, cnt FROM cnt_view1 WHERE field1 = 'f3'" "f3|714"
h_same_as_pg "SELECT sum(v) FROM view1"

# Streaming: inserts, updates (including the key), deletes, in one
# transaction and in many.
h_psql -c "INSERT INTO view1 VALUES (6001, 'new', 1)" >/dev/null
h_psql -c "BEGIN; UPDATE view1 SET field1 = 'moved' WHERE id <= 10; DELETE FROM view1 WHERE id BETWEEN 11 AND 20; UPDATE view1 SET id = id + 100000 WHERE id BETWEEN 21 AND 25; COMMIT" >/dev/null
h_psql -c "UPDATE t_full SET b = 'y' WHERE a = 1; DELETE FROM t_full WHERE a = 2; INSERT INTO t_full VALUES (3, 'z')" >/dev/null
h_same_as_pg "SELECT field1, count(*), sum(v) FROM view1 GROUP BY field1 ORDER BY 1"
h_same_as_pg "SELECT id, field1 FROM view1 WHERE id > 100000 OR id <= 25 ORDER BY 1"
h_same_as_pg "SELECT a, b FROM t_full ORDER BY 1, 2"
h_wait_for "SELECT cnt FROM cnt_view1 WHERE field1 = 'moved'" "10"
h_wait_for "SELECT count(*) FROM mz_source_progress WHERE lsn > 0" "1"

# Statuses and statistics.
h_wait_for "SELECT status FROM mz_internal.mz_source_statuses WHERE name = 'mz_source'" running
st=$(q -c "SELECT snapshot_records_known, snapshot_records_staged, updates_committed > 5003, messages_received > 0 FROM mz_source_statistics WHERE name = 'mz_source'")
[ "$st" = "5003|5003|t|t" ] || h_fail "statistics: [$st]"

# DROP SOURCE needs CASCADE for the view, then drops its slot.
out=$(h_sluice_psql -X -c "DROP SOURCE mz_source" 2>&1 || true)
h_grep "$out" -q "depend" || h_fail "DROP SOURCE without CASCADE: $out"
out=$(q -c "DROP SOURCE mz_source CASCADE" 2>&1)
h_grep "$out" -q "drop cascades to materialized view cnt_view1" || h_fail "no cascade notice: $out"
h_grep "$out" -q "subsource" && h_fail "subsources go with their source silently: $out"
[ -z "$(q -c 'SHOW SOURCES')" ] || h_fail "objects left after DROP SOURCE"
[ "$(h_psql -X -At -c "SELECT count(*) FROM pg_replication_slots")" = 0 ] || h_fail "slot left after DROP SOURCE"
h_sluiced_stop 10 || h_fail "sluiced exited non-zero"
