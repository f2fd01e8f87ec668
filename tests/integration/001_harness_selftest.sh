#!/usr/bin/env bash
# Harness self-test: a real PostgreSQL streams a change through a pgoutput
# slot to pg_recvlogical; the Kafka mock carries a message from kcat to kcat.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"

# --- PostgreSQL: publication + pgoutput slot + one change via pg_recvlogical
h_pg_start
[ "$(h_psql -Atc 'SHOW wal_level')" = logical ] || h_fail "wal_level is not logical"
h_psql -c "CREATE TABLE t (id int PRIMARY KEY, v text)" \
       -c "CREATE PUBLICATION pub FOR TABLE t" \
       -c "SELECT pg_create_logical_replication_slot('slot1', 'pgoutput')" >/dev/null
h_psql -c "INSERT INTO t VALUES (42, 'harness-hello')"
out=$H_TMP/recv.bin
# pg_recvlogical's -E stops at the first keepalive past the end position,
# which may come before the data: stream in the background and wait for it.
"$H_PGBIN/pg_recvlogical" -h 127.0.0.1 -p "$H_PG_PORT" -U postgres -d postgres \
    --slot slot1 --start -o proto_version=1 -o publication_names=pub -F 0 -s 1 \
    -f "$out" --no-loop 2>"$H_TMP/recv.log" &
recv_pid=$!
H_PIDS+=("$recv_pid")
for _ in $(seq 200); do
    grep -q 'harness-hello' "$out" 2>/dev/null && break
    kill -0 "$recv_pid" 2>/dev/null || { cat "$H_TMP/recv.log" >&2; h_fail "pg_recvlogical exited"; }
    sleep 0.05
done
# pgoutput is binary: the Relation message names the table, the Insert
# carries the text value.
grep -q 'harness-hello' "$out" || h_fail "the inserted row did not come through pgoutput"
grep -qa 'public' "$out" || h_fail "no Relation message in the pgoutput stream"
h_log "postgres: change streamed through pgoutput ($(wc -c <"$out") bytes)"

# --- Kafka mock: produce one message with kcat, consume it back with kcat
h_kafka_start selftest:3
echo "kafka-hello" | timeout 30 kcat -b "$H_KAFKA_BROKERS" -P -t selftest -p 1 \
    || h_fail "kcat could not produce"
got=$(timeout 30 kcat -b "$H_KAFKA_BROKERS" -C -t selftest -p 1 -o beginning -c 1 -e -q) \
    || h_fail "kcat could not consume"
[ "$got" = kafka-hello ] || h_fail "consumed '$got', expected 'kafka-hello'"
parts=$(timeout 30 kcat -b "$H_KAFKA_BROKERS" -L -t selftest | grep -c 'partition [0-9]')
[ "$parts" -eq 3 ] || h_fail "topic has $parts partitions, expected 3"
h_log "kafka: message round-tripped through kcat"
echo "harness self-test passed"
