#!/usr/bin/env bash
# The PostgreSQL CDC guide's Kafka + Debezium path with FORMAT JSON, against
# the harness Kafka (librdkafka's mock cluster) and PostgreSQL. Tables in
# PostgreSQL are captured by tests/harness/debezium_capture.sql, which turns
# every change into the messages Debezium's PostgreSQL connector publishes
# (JsonConverter with schemas.enable=true: envelope with schema, source
# block, op, ts_ms; keys {"schema", "payload": {"id": N}}; Decimal as base64
# with its precision and scale; MicroTimestamp; tombstones; the transaction
# topic); sluice-kafka-produce writes them into the topics, and every
# answer of the sources is compared with what PostgreSQL answers for the
# same table. Covered: the guide's CREATE CONNECTION / CREATE SOURCE /
# CREATE MATERIALIZED VIEW; snapshot reads (op r) readable at once after
# CREATE SOURCE; the source's columns against PostgreSQL's; creates;
# updates without before and with a partial before (REPLICA IDENTITY
# DEFAULT) and with the whole old row (FULL); deletes and their tombstones;
# primary-key changes (delete + tombstone + create); truncate (op t); three
# partitions, checked against kcat's count and the progress relation; the
# same messages redelivered after a "connector restart" leaving results
# unchanged; a table without primary key (null keys, bag semantics);
# transaction metadata: a multi-event transaction shows all at once, only
# when its END and every one of its events are in, whichever comes last;
# a source created when the newest message of the topic is a truncate;
# statuses and statistics.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"

PRODUCE=$SLUICE_BUILD_DIR/tests/harness/sluice-kafka-produce
T1=pg_repl.public.table1
T2=pg_repl.public.table2
TA=pg_repl.public.accounts
TT=pg_repl.public.t_trunc
TX=pg_repl.transaction
h_pg_start
h_kafka_start "$T1:3" "$T2:1" "$TA:1" "$TT:1" "$TX:1"
h_sluiced_start
H_PSQL_NULL=NULL
q() { h_sluice_q "$@"; }
pg() { h_psql -c "$@" >/dev/null; } # changes upstream (several -c: one session)
# publish TOPIC [N]: produces the next N (default: all) captured messages of TOPIC.
publish() {
    h_psql -X -At -c "SELECT dbz_take('$1', ${2:-NULL})" >"$H_TMP/batch"
    h_kafka_produce "$1" <"$H_TMP/batch"
}
# same_now SQL [PG_SQL]: sluice and PostgreSQL answer alike on the first try.
same_now() {
    local a b
    a=$(q -c "$1" 2>&1) || true
    b=$(h_pg_q -c "${2:-$1}")
    [ "$a" = "$b" ] && return 0
    diff <(echo "$a") <(echo "$b") >&2 || true
    h_fail "sluice [$1] differs from postgres [${2:-$1}] (diff above: < sluice, > postgres)"
}
# Messages in TOPIC (every partition: offsets start at 0, nothing is compacted).
topic_count() { h_kafka_ends "$1" | awk -F'|' '{ n += $2 } END { print n }'; }

ROWS="SELECT id, field1, amount, ts, ok, note FROM"
t1_same() {
    h_same_as_pg "$ROWS kafka_repl ORDER BY id" "$ROWS table1 ORDER BY id"
    h_same_as_pg "SELECT field1, cnt FROM cnt_table1 ORDER BY field1" \
        "SELECT field1, count(*) FROM table1 GROUP BY field1 ORDER BY field1"
}

h_psql -f "$SLUICE_SOURCE_DIR/tests/harness/debezium_capture.sql" >/dev/null
pg "CREATE TABLE table1 (id int PRIMARY KEY, field1 text, amount numeric(10,2), ts timestamp,
        ok boolean, note text NULL)" \
    -c "SELECT dbz_capture('table1', 3)"

# --- the snapshot: op r events, then the guide's statements ----------------------
pg "SET session_replication_role = replica" \
    -c "INSERT INTO table1 SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'f' || g % 4 END,
            CASE WHEN g % 9 = 0 THEN NULL ELSE g * 37.25 - 500 END,
            timestamp '2024-01-01' + g * interval '1 hour 0.000123 s', g % 3 = 0,
            CASE WHEN g % 5 = 0 THEN NULL ELSE 'note ' || g END
        FROM generate_series(1, 40) g" \
    -c "INSERT INTO table1 VALUES
        (41, 'edge', -99999999.99, '1969-12-31 23:59:59.999999', NULL,
         E'tab\there \"quoted\" back\\\\slash \u00fcn\u00efcode ''single'''),
        (42, '', 99999999.99, '0001-01-01 00:00:00', true, E'line\nbreak'),
        (43, 'edge', 0.01, '2262-04-11 23:47:16.854775', false, '')"
pg "SELECT dbz_snapshot('table1')"
publish "$T1"

q -c "CREATE CONNECTION kafka_connection TO KAFKA (BROKER '$H_KAFKA_BROKERS')" >/dev/null ||
    h_fail "CREATE CONNECTION failed"
q -c "CREATE SOURCE kafka_repl
    FROM KAFKA CONNECTION kafka_connection (TOPIC 'pg_repl.public.table1')
    FORMAT JSON
    ENVELOPE DEBEZIUM
    WITH (SIZE = '3xsmall');" >/dev/null || h_fail "CREATE SOURCE failed"
q -c "CREATE MATERIALIZED VIEW cnt_table1 AS
    SELECT field1,
           COUNT(*) AS cnt
    FROM kafka_repl
    GROUP BY field1;" >/dev/null || h_fail "CREATE MATERIALIZED VIEW failed"

# The columns are the after record's, as PostgreSQL has them; the snapshot
# is in at the first read (one timestamp), never half loaded.
same_now "SELECT column_name, data_type, is_nullable FROM information_schema.columns
          WHERE table_name = 'kafka_repl' ORDER BY ordinal_position" \
    "SELECT column_name, data_type, is_nullable FROM information_schema.columns
     WHERE table_name = 'table1' ORDER BY ordinal_position"
same_now "$ROWS kafka_repl ORDER BY id" "$ROWS table1 ORDER BY id"
[ "$(q -c 'SELECT count(*) FROM kafka_repl')" = 43 ] || h_fail "snapshot count"
h_same_as_pg "SELECT field1, cnt FROM cnt_table1 ORDER BY field1" \
    "SELECT field1, count(*) FROM table1 GROUP BY field1 ORDER BY field1"
h_log "snapshot: 43 rows as in PostgreSQL"

# --- streaming under REPLICA IDENTITY DEFAULT ----------------------------------------
pg "INSERT INTO table1 VALUES (101, 'new', 1.5, '2024-02-29 12:00:00', true, NULL),
        (102, 'f1', -0.01, NULL, false, 'x')"
pg "UPDATE table1 SET field1 = 'moved', amount = amount * 2 WHERE id <= 5" # before: null
pg "SET dbz.update_before = 'key'" \
    -c "UPDATE table1 SET note = 'partial before', ok = NULL WHERE id BETWEEN 6 AND 8"
pg "DELETE FROM table1 WHERE id BETWEEN 9 AND 11"         # before: the key; tombstones
pg "UPDATE table1 SET id = id + 1000 WHERE id IN (12, 13)" # key change: d + tombstone + c
pg "DELETE FROM table1 WHERE id = 14" -c "INSERT INTO table1 VALUES (14, 'again', 14, NULL, NULL, NULL)"
publish "$T1"
t1_same
h_log "streaming under REPLICA IDENTITY DEFAULT: as in PostgreSQL"

# --- streaming under REPLICA IDENTITY FULL ----------------------------------------------
pg "ALTER TABLE table1 REPLICA IDENTITY FULL"
mark=$(h_psql -X -At -c "SELECT max(seq) FROM dbz_out WHERE topic = '$T1'")
pg "UPDATE table1 SET ok = NOT ok, ts = ts + interval '1 day' WHERE id BETWEEN 15 AND 18"
pg "DELETE FROM table1 WHERE id = 19"
pg "UPDATE table1 SET id = 2000 + id, field1 = 'rekeyed' WHERE id = 20"
pg "BEGIN" -c "INSERT INTO table1 VALUES (103, 'txn', 3, now()::timestamp, true, 'a')" \
    -c "UPDATE table1 SET amount = 0, note = NULL WHERE id = 103" \
    -c "DELETE FROM table1 WHERE id = 101" -c "UPDATE table1 SET field1 = 'f2' WHERE id = 102" \
    -c "COMMIT"
publish "$T1"
t1_same
h_log "streaming under REPLICA IDENTITY FULL: as in PostgreSQL"

# --- a connector restart: the messages since mark are delivered again -----------------
h_psql -X -At -c "SELECT line FROM dbz_out WHERE topic = '$T1' AND seq > $mark ORDER BY seq" \
    >"$H_TMP/again"
n_again=$(wc -l <"$H_TMP/again")
[ "$n_again" -ge 10 ] || h_fail "only $n_again messages to redeliver"
"$PRODUCE" -b "$H_KAFKA_BROKERS" -t "$T1" <"$H_TMP/again" || h_fail "redelivery failed"
total=$(topic_count "$T1")
h_wait_for "SELECT sum(\"offset\") FROM kafka_repl_progress" "$total"
t1_same
h_log "$n_again messages redelivered: results unchanged"

# --- truncate (op t, null key), then new rows -----------------------------------------
pg "TRUNCATE table1"
publish "$T1"
h_wait_for "SELECT count(*) FROM kafka_repl" 0
h_wait_for "SELECT count(*) FROM cnt_table1" 0
pg "INSERT INTO table1 SELECT g, 'after truncate', g, NULL, g % 2 = 0, NULL
    FROM generate_series(200, 230) g"
pg "UPDATE table1 SET field1 = 'changed' WHERE id % 3 = 0" -c "DELETE FROM table1 WHERE id % 5 = 0"
publish "$T1"
t1_same
h_log "truncate: as in PostgreSQL"

# --- partitions: all three used, each read to its end ---------------------------------
want_prog=$(h_kafka_ends "$T1")
for p in 0 1 2; do
    grep -qE "^$p\|([1-9][0-9]|[0-9]{3,})$" <<<"$want_prog" ||
        h_fail "partition $p of $T1 has fewer than 10 messages: [$want_prog]"
done
h_wait_for "SELECT partition, \"offset\" FROM kafka_repl_progress ORDER BY 1" "$want_prog"
total=$(topic_count "$T1")
h_wait_for "SELECT status, error FROM mz_internal.mz_source_statuses WHERE name = 'kafka_repl'" \
    "running|NULL"
h_wait_for "SELECT messages_received, offset_committed, offset_known, updates_committed > 0
            FROM mz_internal.mz_source_statistics WHERE name = 'kafka_repl'" "$total|$total|$total|t"
h_log "partitions: $(echo "$want_prog" | tr '\n' ' ')"

# --- a table without primary key: null keys, a bag ------------------------------------
pg "CREATE TABLE table2 (a int, b text)" -c "ALTER TABLE table2 REPLICA IDENTITY FULL" \
    -c "SELECT dbz_capture('table2', 1)"
pg "SET session_replication_role = replica" \
    -c "INSERT INTO table2 VALUES (1, 'x'), (1, 'x'), (2, NULL), (3, 'y'), (NULL, NULL)"
pg "SELECT dbz_snapshot('table2')"
publish "$T2"
q -c "CREATE SOURCE table2_src FROM KAFKA CONNECTION kafka_connection (TOPIC '$T2')
      FORMAT JSON ENVELOPE DEBEZIUM" >/dev/null || h_fail "CREATE SOURCE table2_src failed"
BAG="SELECT a, b, count(*) FROM"
same_now "$BAG table2_src GROUP BY a, b ORDER BY a, b" "$BAG table2 GROUP BY a, b ORDER BY a, b"
pg "INSERT INTO table2 VALUES (1, 'x')"
pg "UPDATE table2 SET b = 'z' WHERE a = 3" -c "UPDATE table2 SET a = 20 WHERE a = 2"
pg "DELETE FROM table2 WHERE ctid = (SELECT min(ctid) FROM table2 WHERE a = 1)"
pg "UPDATE table2 SET b = 'x2' WHERE ctid = (SELECT max(ctid) FROM table2 WHERE a = 1)"
pg "INSERT INTO table2 VALUES (NULL, NULL)"
publish "$T2"
h_same_as_pg "$BAG table2_src GROUP BY a, b ORDER BY a, b" "$BAG table2 GROUP BY a, b ORDER BY a, b"
h_log "table without primary key: the same bag as PostgreSQL"

# --- transaction metadata ---------------------------------------------------------------
pg "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)" \
    -c "SELECT dbz_capture('accounts', 1)"
pg "SET session_replication_role = replica" \
    -c "INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 5) g"
pg "SELECT dbz_snapshot('accounts')"
publish "$TA"
publish "$TX" # BEGIN/END of the transactions so far (none touched accounts)
q -c "CREATE SOURCE accounts_src FROM KAFKA CONNECTION kafka_connection (TOPIC '$TA')
      FORMAT JSON ENVELOPE DEBEZIUM (TRANSACTION METADATA (TOPIC '$TX'))" >/dev/null ||
    h_fail "CREATE SOURCE with TRANSACTION METADATA failed"
q -c "CREATE MATERIALIZED VIEW acct_total AS SELECT count(*) AS n, sum(balance) AS total
      FROM accounts_src" >/dev/null
STATE="SELECT string_agg(id || ':' || balance, ',' ORDER BY id || ':' || balance) FROM"
old=$(h_pg_q -c "$STATE accounts")
[ "$(q -c "$STATE accounts_src")" = "$old" ] || h_fail "accounts snapshot"

# watch_states FINAL: records every state of accounts_src until it is FINAL
# (for 30 s at most), in the background (watcher), from its first read on.
watch_states() {
    : >"$H_TMP/states"
    (
        local st deadline=$((SECONDS + 30))
        while [ "$SECONDS" -lt "$deadline" ]; do
            st=$(q -c "$STATE accounts_src" 2>&1) || true
            echo "$st" >>"$H_TMP/states"
            [ "$st" = "$1" ] && exit 0
        done
    ) &
    watcher=$!
    while [ ! -s "$H_TMP/states" ]; do sleep 0.01; done
}
# only_states OLD NEW: the watcher saw NEW in the end, and nothing but OLD before.
only_states() {
    wait "$watcher"
    local bad
    bad=$(sort -u "$H_TMP/states" | grep -vxF -e "$1" -e "$2" || true)
    [ -z "$bad" ] || h_fail "a transaction showed partly: [$bad] (before [$1], after [$2])"
    [ "$(tail -n1 "$H_TMP/states")" = "$2" ] ||
        h_fail "accounts_src never showed [$2]; last [$(tail -n1 "$H_TMP/states")]"
    h_log "$(wc -l <"$H_TMP/states") reads while the transaction landed, none of it partial"
}

# A transaction over accounts (4 events) and table1 (1 event): its events
# first, END last.
pg "BEGIN" -c "UPDATE accounts SET balance = balance - 30 WHERE id = 1" \
    -c "UPDATE accounts SET balance = balance + 30 WHERE id = 2" \
    -c "INSERT INTO accounts VALUES (6, 70)" \
    -c "UPDATE accounts SET balance = balance - 70 WHERE id = 3" \
    -c "INSERT INTO table1 VALUES (300, 'in txn', 1, NULL, NULL, NULL)" -c "COMMIT"
new=$(h_pg_q -c "$STATE accounts")
[ "$(h_psql -X -At -c "SELECT count(*) FROM dbz_out WHERE topic = '$TX' AND NOT taken")" = 2 ] ||
    h_fail "expected BEGIN and END upstream"
publish "$TX" 1 # BEGIN
publish "$TA"   # all four events
publish "$T1"
h_wait_for "SELECT messages_received FROM mz_source_statistics WHERE name = 'accounts_src'" 9
h_wait_for "SELECT field1 FROM kafka_repl WHERE id = 300" "in txn" # no metadata: at once
for _ in 1 2 3 4 5; do
    [ "$(q -c "$STATE accounts_src")" = "$old" ] || h_fail "a transaction showed before its END"
    sleep 0.2
done
watch_states "$new"
publish "$TX" # END
only_states "$old" "$new"
h_wait_for "SELECT n, total FROM acct_total" "6|500"
h_log "transaction metadata: events first, shown at END, all at once"

# The next one's BEGIN and END first, then its events one by one.
old=$new
pg "BEGIN" -c "UPDATE accounts SET balance = balance + 5 WHERE id IN (4, 5)" \
    -c "DELETE FROM accounts WHERE id = 6" -c "COMMIT"
new=$(h_pg_q -c "$STATE accounts")
publish "$TX"
publish "$TA" 2
h_wait_for "SELECT messages_received FROM mz_source_statistics WHERE name = 'accounts_src'" 11
sleep 0.5
[ "$(q -c "$STATE accounts_src")" = "$old" ] || h_fail "a transaction showed before all its events"
watch_states "$new"
publish "$TA" # the delete and its tombstone
only_states "$old" "$new"
h_same_as_pg "$STATE accounts_src" "$STATE accounts"
h_wait_for "SELECT n, total FROM acct_total" "5|440"
h_log "transaction metadata: END first, shown with the last event, all at once"

# Streamed events of transactions already applied come again (a connector
# restart; here without their ENDs, which would otherwise complete them a
# second time): they are skipped rather than waiting for an END that may
# never come, and a new transaction behind them lands.
old=$new
h_psql -X -At -c "SELECT line FROM dbz_out WHERE topic = '$TA' AND taken AND txn IS NOT NULL ORDER BY seq" \
    >"$H_TMP/again_ta"
h_kafka_produce "$TA" <"$H_TMP/again_ta"
pg "BEGIN" -c "UPDATE accounts SET balance = balance + 1 WHERE id = 1" \
    -c "UPDATE accounts SET balance = balance - 1 WHERE id = 2" -c "COMMIT"
new=$(h_pg_q -c "$STATE accounts")
publish "$TA"
publish "$TX"
h_same_as_pg "$STATE accounts_src" "$STATE accounts"
h_wait_for "SELECT n, total FROM acct_total" "5|440"
h_log "transaction metadata: redelivered transactions skipped, the next one lands"

# --- a source created when the topic's newest message is a truncate --------------------
pg "CREATE TABLE t_trunc (id int PRIMARY KEY, v text)" -c "SELECT dbz_capture('t_trunc', 1)"
pg "INSERT INTO t_trunc VALUES (1, 'a'), (2, 'b')"
pg "TRUNCATE t_trunc"
publish "$TT"
q -c "CREATE SOURCE trunc_src FROM KAFKA CONNECTION kafka_connection (TOPIC '$TT')
      FORMAT JSON ENVELOPE DEBEZIUM" >/dev/null || h_fail "CREATE SOURCE trunc_src failed"
same_now "SELECT id, v FROM trunc_src ORDER BY id" "SELECT id, v FROM t_trunc ORDER BY id"
pg "INSERT INTO t_trunc VALUES (3, 'c'), (4, 'd')"
pg "UPDATE t_trunc SET v = 'c2' WHERE id = 3" -c "DELETE FROM t_trunc WHERE id = 4"
publish "$TT"
h_same_as_pg "SELECT id, v FROM trunc_src ORDER BY id" "SELECT id, v FROM t_trunc ORDER BY id"
h_wait_for "SELECT status, error FROM mz_internal.mz_source_statuses WHERE name = 'trunc_src'" \
    "running|NULL"
h_log "a source created after a truncate: keyed, as in PostgreSQL"

# Nothing went wrong anywhere else meanwhile.
h_wait_for "SELECT name, status FROM mz_internal.mz_source_statuses
            WHERE name IN ('kafka_repl', 'table2_src', 'accounts_src') ORDER BY name" \
    "$(printf 'accounts_src|running\nkafka_repl|running\ntable2_src|running')"
t1_same
h_sluiced_stop 10 || h_fail "sluiced exited non-zero"
