#!/usr/bin/env bash
# Kafka connections and sources that cannot work, against the harness Kafka:
# CREATE CONNECTION ... TO KAFKA refused with its SQLSTATE (an unreachable
# broker: 08001 with a hint, checked while other sessions go on; bad option
# values; BROKER missing or given twice; inconsistent SASL settings; an
# unknown secret; syntax), SHOW CONNECTIONS' types; CREATE SOURCE ... FROM
# KAFKA refused (an unknown connection, a POSTGRES connection used for Kafka
# or a KAFKA one for a schema registry: 42809, Debezium JSON on an empty
# topic or one without embedded schemas, formats, envelopes, START OFFSET,
# SIZE, syntax), leaving nothing behind. Then bad input at run time: invalid
# JSON (present at CREATE SOURCE, and arriving later), an invalid Debezium
# envelope, a Debezium value that does not fit its column, invalid UTF-8 for
# FORMAT TEXT, a message without key for ENVELOPE UPSERT: each stops that
# source with an error naming topic, partition, offset and reason, shown by
# mz_source_statuses for the source and its progress relation and returned
# by every read of it (55000), while sluiced keeps serving the other sources
# and queries, and exits cleanly.
#
# Not tested here: a topic that does not exist. The mock cluster creates an
# unknown topic (4 partitions) on any metadata request for it, so CREATE
# SOURCE on a missing topic succeeds against it.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"

h_pg_start
h_kafka_start empty:1 schemaless:1 good:1 j_early:1 j_late:1 dbz_op:1 dbz_type:1 txt:1 ups:2
h_sluiced_start
H_PSQL_NULL=NULL
B=$H_KAFKA_BROKERS
q() { h_sluice_q "$@"; }
produce() { h_kafka_produce "$@"; }
# expect_err SQL SQLSTATE [TEXT...]: SQL fails with SQLSTATE, and every TEXT
# is in psql's verbose output.
expect_err() {
    local sql=$1 state=$2 out t
    shift 2
    out=$(h_sluice_psql -X -At -v VERBOSITY=verbose -c "$sql" 2>&1) &&
        h_fail "[$sql] succeeded: [$out]"
    grep -q "^ERROR:  $state: " <<<"$out" || h_fail "[$sql]: expected SQLSTATE $state, got [$out]"
    for t in "$@"; do grep -qF -- "$t" <<<"$out" || h_fail "[$sql]: no [$t] in [$out]"; done
}

# --- CREATE CONNECTION ----------------------------------------------------------------
# An unreachable broker: refused after the check's timeout (10 s), meanwhile
# the rest of this test goes on in other sessions.
dead=$(h_freeport)
(expect_err "CREATE CONNECTION k_dead TO KAFKA (BROKER '127.0.0.1:$dead')" 08001 \
    "Kafka brokers 127.0.0.1:$dead did not answer" \
    "HINT:  check BROKER(S), SECURITY PROTOCOL and the SASL settings") &
dead_check=$!

K="CREATE CONNECTION k1 TO KAFKA"
expect_err "$K (BROKER 'nocolon')" 22023 "invalid broker 'nocolon': expected host:port"
expect_err "$K (BROKERS ('$B', 'x:'))" 22023 "invalid broker 'x:': expected host:port"
expect_err "$K (BROKERS ())" 42601 "expected a broker 'host:port'"
expect_err "$K (BROKER '$B', BROKERS ('$B'))" 42601 "option brokers specified more than once"
expect_err "$K (BROKER '$B', SECURITY PROTOCOL 'FOO')" 22023 "invalid SECURITY PROTOCOL 'FOO'"
expect_err "$K (BROKER '$B', SECURITY PROTOCOL SASL_PLAINTEXT, SASL MECHANISMS 'MD5')" 22023 \
    "invalid SASL MECHANISMS 'MD5'"
expect_err "$K (SECURITY PROTOCOL PLAINTEXT)" 42601 "a KAFKA connection needs BROKER or BROKERS"
expect_err "$K (BROKER '$B', SASL MECHANISMS PLAIN)" 22023 \
    "SASL MECHANISMS needs SECURITY PROTOCOL SASL_PLAINTEXT or SASL_SSL"
expect_err "$K (BROKER '$B', SECURITY PROTOCOL SASL_SSL, SASL MECHANISMS PLAIN, SASL USERNAME 'u')" \
    22023 "SECURITY PROTOCOL SASL_SSL needs SASL MECHANISMS, SASL USERNAME and SASL PASSWORD SECRET"
expect_err "$K (BROKER '$B', SECURITY PROTOCOL SASL_PLAINTEXT, SASL USERNAME 'u')" 22023 \
    "SECURITY PROTOCOL SASL_PLAINTEXT needs SASL MECHANISMS"
expect_err "$K (BROKER '$B', SECURITY PROTOCOL SASL_PLAINTEXT, SASL MECHANISMS PLAIN,
            SASL USERNAME 'u', SASL PASSWORD SECRET nosuch)" 42704 "unknown secret 'nosuch'"
expect_err "$K (BROKER '$B', TOPIC 'x')" 42601 "expected a connection option (BROKER, BROKERS"
expect_err "$K BROKER '$B'" 42601 "syntax error: expected '('"
expect_err "CREATE CONNECTION k1 TO KAFKAESQUE (BROKER '$B')" 42601 \
    "expected POSTGRES, KAFKA or CONFLUENT SCHEMA REGISTRY"
[ -z "$(q -c 'SHOW CONNECTIONS')" ] || h_fail "a refused connection was created: $(q -c 'SHOW CONNECTIONS')"

q -c "CREATE CONNECTION kc TO KAFKA (BROKER '$B')" >/dev/null || h_fail "CREATE CONNECTION kc failed"
q -c "CREATE CONNECTION pgc TO POSTGRES (HOST '127.0.0.1', PORT $H_PG_PORT, USER postgres,
      DATABASE 'postgres')" >/dev/null || h_fail "CREATE CONNECTION pgc failed"
expect_err "CREATE CONNECTION kc TO KAFKA (BROKER '$B')" 42710 'an object named "kc" already exists'
out=$(q -c "CREATE CONNECTION IF NOT EXISTS kc TO KAFKA (BROKER 'other:1')" 2>&1)
grep -q 'connection "kc" already exists, skipping' <<<"$out" || h_fail "IF NOT EXISTS: [$out]"
got=$(q -c "SHOW CONNECTIONS" | sort)
[ "$got" = "$(printf 'kc|kafka\npgc|postgres')" ] || h_fail "SHOW CONNECTIONS: [$got]"
h_log "CREATE CONNECTION refusals"

# --- CREATE SOURCE ----------------------------------------------------------------------
printf '{"a": 1}\n' | produce schemaless
printf '{"a": 1}\n' | produce good
S="CREATE SOURCE s FROM KAFKA CONNECTION"
expect_err "$S nope (TOPIC 'good') FORMAT TEXT" 42704 "unknown connection 'nope'"
expect_err "$S pgc (TOPIC 'good') FORMAT TEXT" 42809 "connection pgc is not a KAFKA connection"
expect_err "$S kc (TOPIC 'good') FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION kc" 42809 \
    "connection kc is not a CONFLUENT SCHEMA REGISTRY connection"
expect_err "$S kc (TOPIC 'good') FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION nope" 42704 \
    "unknown connection 'nope'"
for t in empty schemaless; do
    expect_err "$S kc (TOPIC '$t') FORMAT JSON ENVELOPE DEBEZIUM" 55000 \
        "Kafka topic \"$t\" has no Debezium JSON message with an embedded schema to take the columns from" \
        "HINT:  produce with the JsonConverter's schemas.enable=true, or use FORMAT AVRO"
done
expect_err "$S kc (START OFFSET (1)) FORMAT TEXT" 42601 "a Kafka source needs TOPIC"
expect_err "$S kc (TOPIC '') FORMAT TEXT" 42601 "a Kafka source needs TOPIC"
expect_err "$S kc () FORMAT TEXT" 42601 "expected TOPIC or START OFFSET"
expect_err "$S kc (TOPIC 'good')" 42601 "expected FORMAT or KEY FORMAT ... VALUE FORMAT"
expect_err "$S kc (TOPIC 'good') FORMAT XML" 42601 "expected AVRO, JSON, TEXT or BYTES"
expect_err "$S kc (TOPIC 'good') FORMAT PROTOBUF" 0A000 "Kafka sources read AVRO, JSON, TEXT or BYTES"
expect_err "$S kc (TOPIC 'good') FORMAT TEXT ENVELOPE FOO" 42601 \
    "expected DEBEZIUM, UPSERT or NONE after ENVELOPE"
expect_err "$S kc (TOPIC 'good') FORMAT TEXT ENVELOPE DEBEZIUM" 0A000 \
    "ENVELOPE DEBEZIUM needs FORMAT AVRO or FORMAT JSON"
expect_err "$S kc (TOPIC 'good') FORMAT JSON ENVELOPE DEBEZIUM (TRANSACTION METADATA (COLLECTION 'a.b'))" \
    42601 "TRANSACTION METADATA needs TOPIC"
expect_err "$S kc (TOPIC 'good') KEY FORMAT TEXT VALUE FORMAT JSON" 0A000 \
    "KEY FORMAT needs ENVELOPE UPSERT or DEBEZIUM"
expect_err "$S kc (TOPIC 'good') FORMAT TEXT INCLUDE KEY" 0A000 "INCLUDE (key, partition, offset, ...) is not supported yet"
expect_err "$S kc (TOPIC 'good', START OFFSET (x)) FORMAT TEXT" 22023 \
    "START OFFSET must be non-negative integers, not 'x'"
expect_err "$S kc (TOPIC 'good', START OFFSET (0, -1)) FORMAT TEXT" 22023 \
    "START OFFSET must be non-negative integers, not '-1'"
expect_err "$S kc (TOPIC 'good') FORMAT TEXT WITH (SIZE = 'huge')" 22023 'invalid size "huge"'
expect_err "$S kc (TOPIC 'good') FORMAT TEXT WITH (RESOLVED = '{}')" 42601 "RESOLVED is set by Sluice itself"
expect_err "$S kc (TOPIC 'good') FORMAT TEXT extra" 42601 "expected end of statement"
q -c "CREATE TABLE taken (x int)" >/dev/null
expect_err "CREATE SOURCE taken FROM KAFKA CONNECTION kc (TOPIC 'good') FORMAT TEXT" 42710 \
    'an object named "taken" already exists'
q -c "CREATE TABLE s_progress (x int)" >/dev/null
expect_err "$S kc (TOPIC 'good') FORMAT TEXT" 42710 'an object named "s_progress" already exists'
q -c "DROP TABLE s_progress" >/dev/null
[ -z "$(q -c 'SHOW SOURCES')" ] || h_fail "a refused source was created: $(q -c 'SHOW SOURCES')"
[ -z "$(q -c 'SELECT name FROM mz_internal.mz_source_statuses')" ] || h_fail "statuses left behind"
q -c "CREATE SOURCE good_src FROM KAFKA CONNECTION kc (TOPIC 'good') FORMAT JSON" >/dev/null ||
    h_fail "a valid CREATE SOURCE after the refusals failed"
[ "$(q -c "SELECT data->>'a' FROM good_src")" = 1 ] || h_fail "good_src"
expect_err "DROP CONNECTION kc" 2BP01 "depend"
h_log "CREATE SOURCE refusals; nothing left behind"

# --- bad input at run time ----------------------------------------------------------------
# broken NAME STATUS ERROR: the source and its progress relation show STATUS
# and ERROR, and a read of the source fails with "source NAME: ERROR".
broken() {
    local name=$1 status=$2 msg=$3 out
    h_wait_for "SELECT status, error FROM mz_internal.mz_source_statuses WHERE name = '$name'" \
        "$status|$msg"
    h_wait_for "SELECT status, error FROM mz_internal.mz_source_statuses WHERE name = '${name}_progress'" \
        "$status|$msg"
    out=$(h_sluice_psql -X -At -v VERBOSITY=verbose -c "SELECT * FROM $name" 2>&1) &&
        h_fail "SELECT from $name succeeded: [$out]"
    [ "$out" = "ERROR:  55000: source $name: $msg" ] || h_fail "SELECT from $name: [$out]"
}
# good_still_works: the healthy source takes a new message; plain queries go on.
n_good=1
good_still_works() {
    n_good=$((n_good + 1))
    printf '{"a": %d}\n' "$n_good" | produce good
    h_wait_for "SELECT count(*), max((data->>'a')::int) FROM good_src" "$n_good|$n_good"
    [ "$(q -c 'SELECT 1 + 1')" = 2 ] || h_fail "a plain query failed"
}

# Invalid JSON already in the topic at CREATE SOURCE: the start contents
# never load, so the source has failed.
printf '{"a": 1}\n[1, 2]\n{"bad": \n{"a": 3}\n' | produce j_early --no-check
q -c "CREATE SOURCE j_early_src FROM KAFKA CONNECTION kc (TOPIC 'j_early') FORMAT JSON" \
    >/dev/null || h_fail "CREATE SOURCE j_early_src failed"
broken j_early_src failed \
    "topic j_early partition 0 offset 2: cannot decode the value: invalid input syntax for type json"
good_still_works

# Invalid JSON arriving later: the source stalls at it (what follows is not
# applied; the progress relation stays at the bad offset).
printf '{"a": 1}\n{"a": 2}\n' | produce j_late
q -c "CREATE SOURCE j_late_src FROM KAFKA CONNECTION kc (TOPIC 'j_late') FORMAT JSON" >/dev/null
q -c "CREATE MATERIALIZED VIEW j_late_n AS SELECT count(*) AS n FROM j_late_src" >/dev/null
h_wait_for "SELECT n FROM j_late_n" 2
printf 'nope\n{"a": 3}\n' | produce j_late --no-check
broken j_late_src stalled \
    "topic j_late partition 0 offset 2: cannot decode the value: invalid input syntax for type json"
expect_err "SELECT n FROM j_late_n" 55000 "source j_late_src: topic j_late partition 0 offset 2"
[ "$(q -c 'SELECT partition, "offset" FROM j_late_src_progress')" = "0|2" ] ||
    h_fail "j_late_src_progress: [$(q -c 'SELECT * FROM j_late_src_progress')]"
good_still_works

# An invalid Debezium envelope, and a value that does not fit its column.
KS='{"schema": {"type": "struct", "fields": [{"type": "int32", "optional": false, "field": "id"}],
    "optional": false, "name": "t.Key"}, "payload": {"id": 1}}'
ROW='[{"type": "int32", "optional": false, "field": "id"},
      {"type": "bytes", "optional": true, "name": "org.apache.kafka.connect.data.Decimal",
       "version": 1, "parameters": {"scale": "2", "connect.decimal.precision": "6"}, "field": "amount"}]'
VS='{"type": "struct", "fields": [
    {"type": "struct", "fields": '$ROW', "optional": true, "name": "t.Value", "field": "before"},
    {"type": "struct", "fields": '$ROW', "optional": true, "name": "t.Value", "field": "after"},
    {"type": "string", "optional": false, "field": "op"},
    {"type": "int64", "optional": true, "field": "ts_ms"}], "optional": false, "name": "t.Envelope"}'
# dbz KEY_PAYLOAD PAYLOAD: one line of a Debezium JSON message (schemas.enable=true).
dbz() { printf '%s\t{"schema": %s, "payload": %s}\n' "${KS/\{\"id\": 1\}/$1}" "$VS" "$2" | tr '\n' ' '; echo; }
for t in dbz_op dbz_type; do
    dbz '{"id": 1}' '{"before": null, "after": {"id": 1, "amount": "AQ=="}, "op": "r", "ts_ms": 1}' |
        produce "$t"
    q -c "CREATE SOURCE ${t}_src FROM KAFKA CONNECTION kc (TOPIC '$t') FORMAT JSON ENVELOPE DEBEZIUM" \
        >/dev/null || h_fail "CREATE SOURCE ${t}_src failed"
    [ "$(q -c "SELECT id, amount FROM ${t}_src")" = "1|0.01" ] || h_fail "${t}_src's first row"
done
{
    dbz '{"id": 2}' '{"before": null, "after": {"id": 2, "amount": "AQ=="}, "ts_ms": 2}'
    dbz '{"id": 3}' '{"before": null, "after": {"id": 3, "amount": "AQ=="}, "op": "c", "ts_ms": 3}'
} | produce dbz_op
broken dbz_op_src stalled \
    "topic dbz_op partition 0 offset 1: malformed Debezium message: \"op\" is missing or not a string"
dbz '{"id": 2}' '{"before": null, "after": {"id": 2, "amount": "not base64!"}, "op": "c", "ts_ms": 2}' |
    produce dbz_type
broken dbz_type_src stalled \
    "topic dbz_type partition 0 offset 1: Debezium field \"after.amount\": invalid base64"
good_still_works

# Invalid UTF-8 for FORMAT TEXT.
printf 'null\t68 69\nnull\tc3 28\n' | produce txt --format raw
q -c "CREATE SOURCE txt_src FROM KAFKA CONNECTION kc (TOPIC 'txt') FORMAT TEXT" >/dev/null
broken txt_src failed \
    'topic txt partition 0 offset 1: cannot decode the value: invalid byte sequence for encoding "UTF8": 0xc3 0x28'

# A message without key for ENVELOPE UPSERT, on the second partition.
printf '@0\tk1\t{"v": 1}\n@1\tk2\t{"v": 2}\n' | produce ups --no-check
q -c "CREATE SOURCE ups_src FROM KAFKA CONNECTION kc (TOPIC 'ups')
      KEY FORMAT TEXT VALUE FORMAT JSON ENVELOPE UPSERT" >/dev/null
[ "$(q -c "SELECT key, data->>'v' FROM ups_src ORDER BY 1")" = "$(printf 'k1|1\nk2|2')" ] ||
    h_fail "ups_src's first rows"
printf '@1\tnull\t{"v": 3}\n' | produce ups
broken ups_src stalled \
    "topic ups partition 1 offset 1: a message without key (ENVELOPE UPSERT needs one)"
good_still_works
h_log "bad input: each source stopped with its error, the others served"

# Every broken source is still broken, the healthy one running; DROP works.
h_wait_for "SELECT name, status FROM mz_internal.mz_source_statuses
            WHERE name NOT LIKE '%progress' ORDER BY name" \
    "$(printf '%s\n' dbz_op_src:stalled dbz_type_src:stalled good_src:running j_early_src:failed \
        j_late_src:stalled txt_src:failed ups_src:stalled | tr ':' '|')"
q -c "DROP SOURCE j_late_src CASCADE" >/dev/null || h_fail "DROP SOURCE of a stalled source"
q -c "DROP SOURCE j_early_src" >/dev/null || h_fail "DROP SOURCE of a failed source"
wait "$dead_check" || h_fail "the unreachable broker's check (above)"
[ "$(q -c 'SHOW CONNECTIONS' | sort | tr '\n' ' ')" = "kc|kafka pgc|postgres " ] ||
    h_fail "the unreachable broker's connection was created"
good_still_works
kill -0 "$H_SLUICED_PID" || h_fail "sluiced died"
h_sluiced_stop 10 || h_fail "sluiced exited non-zero"
