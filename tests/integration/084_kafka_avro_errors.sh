#!/usr/bin/env bash
# Kafka sources in Avro when things go wrong, against the Kafka mock and the
# schema registry fixture (with HTTP Basic auth):
# - CREATE CONNECTION ... TO CONFLUENT SCHEMA REGISTRY: an unreachable URL
#   (08001), no or wrong credentials (28000, the password in no error text,
#   not even one given in the URL), the right ones;
# - CREATE SOURCE refusals: no <topic>-value subject (42704), a KAFKA
#   connection as the registry and a registry as the KAFKA connection
#   (42809), nothing left behind;
# - ENVELOPE UPSERT with KEY FORMAT AVRO VALUE FORMAT AVRO (a two-field key):
#   the latest value per key, a null value deletes, compared with PostgreSQL
#   applying the same upserts;
# - bad input at runtime, one source each: a wrong magic byte (among the
#   start contents: the source fails), a message shorter than the framing,
#   an unknown schema id (Debezium), a length running past the body, a body
#   cut short, a bad union index (while running: the source stalls). The
#   status and every read of the source (and of a view and a materialized
#   view over it) carry the error, naming topic, partition, offset and
#   reason; sluiced keeps serving the other sources; DROP SOURCE and START
#   OFFSET past the message recover; no password in sluiced's log;
# - the registry unreachable, then answering 503, when a message needs a
#   writer schema the source has not seen: no bad input, the source waits
#   (stalled, retrying) with its reads answering, then reads on, every
#   message once;
# - a SELECT issued while a source reads a 100k-event backlog written with
#   two schema versions (the registry answering 1 s late, so the source
#   stops between them) waits for all of it: never a partial count.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"

PRODUCE=$SLUICE_BUILD_DIR/tests/harness/sluice-kafka-produce
PW=pw-Secret-42
WRONG=wrong-Secret-99
h_pg_start
h_kafka_start ups:2 e_magic:1 e_short:1 e_unknown:1 e_trunc:2 e_cut:1 e_union:2 big:4 outage:2
h_csr_start --user u --password "$PW"
CSR=$H_CSR_URL
h_sluiced_start
B=$H_KAFKA_BROKERS

q() { h_sluice_psql -X -At -v ON_ERROR_STOP=1 "$@"; }
# fails SQLSTATE PATTERN SQL: SQL fails with SQLSTATE and an error matching
# PATTERN (grep -E); the whole error is left in $out.
fails() {
    out=$(h_sluice_psql -X -At -v VERBOSITY=verbose -c "$3" 2>&1) &&
        h_fail "[$3] succeeded: $out"
    grep -q "^ERROR:  $1: " <<<"$out" || h_fail "[$3]: not SQLSTATE $1: $out"
    grep -Eq "$2" <<<"$out" || h_fail "[$3]: no /$2/ in: $out"
    ! grep -Fq -e "$PW" -e "$WRONG" <<<"$out" || h_fail "[$3]: a password in the error: $out"
}
wait_for() { # SQL WANT: polls SQL until it prints WANT (10 s)
    local got=
    for _ in $(seq 200); do
        got=$(q -c "$1" 2>&1) && [ "$got" = "$2" ] && return 0
        sleep 0.05
    done
    h_fail "waited for [$1] = [$2], got [$got]"
}
# produce TOPIC ARGS...: stdin into TOPIC through the authenticated registry.
produce() {
    local t=$1
    shift
    h_kafka_produce "$t" --registry "$CSR" --user u --password "$PW" "$@"
}
# schema id of SUBJECT's latest version
schema_id() { curl -sf -u "u:$PW" "$CSR/subjects/$1/versions/latest" | jq -e .id; }
hex_id() { printf '%02x %02x %02x %02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }

# --- registry connections ----------------------------------------------------
port=$(h_freeport)
fails 08001 "127\.0\.0\.1:$port" \
    "CREATE CONNECTION csr_down TO CONFLUENT SCHEMA REGISTRY (URL 'http://127.0.0.1:$port')"
fails 28000 "requires credentials" \
    "CREATE CONNECTION csr_anon TO CONFLUENT SCHEMA REGISTRY (URL '$CSR')"
q -c "CREATE SECRET csr_wrong AS '$WRONG'" >/dev/null
q -c "CREATE SECRET csr_password AS '$PW'" >/dev/null
fails 28000 "refused the credentials" \
    "CREATE CONNECTION csr_connection TO CONFLUENT SCHEMA REGISTRY (URL '$CSR', USERNAME 'u', PASSWORD SECRET csr_wrong)"
fails 28000 "refused the credentials" \
    "CREATE CONNECTION csr_connection TO CONFLUENT SCHEMA REGISTRY (URL '$CSR', USERNAME 'nobody', PASSWORD SECRET csr_password)"
fails 28000 "refused the credentials" \
    "CREATE CONNECTION csr_connection TO CONFLUENT SCHEMA REGISTRY (URL '${CSR/http:\/\//http://u:$WRONG@}')"
[ -z "$(q -c "SHOW CONNECTIONS")" ] || h_fail "a refused connection was kept: $(q -c "SHOW CONNECTIONS")"
q <<EOF >/dev/null || h_fail "the right credentials were refused"
CREATE CONNECTION kafka_connection TO KAFKA (BROKER '$B');
CREATE CONNECTION csr_connection TO CONFLUENT SCHEMA REGISTRY (URL '$CSR', USERNAME 'u', PASSWORD SECRET csr_password);
EOF
h_log "registry connections: unreachable, no or wrong credentials, the right ones"

# --- CREATE SOURCE refusals --------------------------------------------------------
AVRO="FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr_connection"
fails 42704 'subject "nosubject-value" not found' \
    "CREATE SOURCE s FROM KAFKA CONNECTION kafka_connection (TOPIC 'nosubject') $AVRO"
fails 42809 "connection kafka_connection is not a CONFLUENT SCHEMA REGISTRY connection" \
    "CREATE SOURCE s FROM KAFKA CONNECTION kafka_connection (TOPIC 'ups')
     FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION kafka_connection"
fails 42809 "connection csr_connection is not a KAFKA connection" \
    "CREATE SOURCE s FROM KAFKA CONNECTION csr_connection (TOPIC 'ups') $AVRO"
[ -z "$(q -c "SHOW SOURCES")" ] || h_fail "a refused source was kept: $(q -c "SHOW SOURCES")"
h_log "CREATE SOURCE refusals: 42704, 42809 both ways"

# --- ENVELOPE UPSERT, Avro key and value ---------------------------------------------
S=$H_TMP/schemas
mkdir -p "$S"
echo '{"type": "record", "name": "K", "namespace": "t", "fields": [
  {"name": "id", "type": "int"}, {"name": "region", "type": "string"}]}' >"$S/k.avsc"
echo '{"type": "record", "name": "V", "namespace": "t", "fields": [
  {"name": "name", "type": "string"},
  {"name": "qty", "type": ["null", "int"], "default": null}]}' >"$S/v.avsc"
echo '{"type": "record", "name": "P", "namespace": "t", "fields": [
  {"name": "id", "type": "int"},
  {"name": "name", "type": ["null", "string"], "default": null}]}' >"$S/p.avsc"
h_psql -c "CREATE TABLE ups (id int, region text, name text NOT NULL, qty int,
                             PRIMARY KEY (id, region))" >/dev/null
# upsert: lines "P<TAB>KEY<TAB>VALUE|null" to topic ups and to PostgreSQL.
upsert() {
    cat >"$H_TMP/ups.in"
    sed 's/^/@/' "$H_TMP/ups.in" | produce ups --format avro --key-schema "$S/k.avsc" \
        --value-schema "$S/v.avsc"
    local p k v
    while IFS=$'\t' read -r p k v; do
        if [ "$v" = null ]; then
            h_psql -c "DELETE FROM ups WHERE (id, region) = (SELECT id, region FROM
                       jsonb_to_record('$k') AS k(id int, region text))" >/dev/null
        else
            h_psql -c "INSERT INTO ups SELECT k.id, k.region, v.name, v.qty
                       FROM jsonb_to_record('$k') AS k(id int, region text),
                            jsonb_to_record('$v') AS v(name text, qty int)
                       ON CONFLICT (id, region) DO UPDATE SET name = excluded.name,
                                                              qty = excluded.qty" >/dev/null
        fi
    done <"$H_TMP/ups.in"
}
same_ups() {
    local a='' b=''
    for _ in $(seq 200); do
        a=$(q -c "SELECT id, region, name, qty FROM ups ORDER BY id, region" 2>&1) || true
        b=$(h_psql -At -c "SELECT id, region, name, qty FROM ups ORDER BY id, region")
        [ "$a" = "$b" ] && return 0
        sleep 0.05
    done
    h_fail "ups: sluice [$a], PostgreSQL [$b]"
}
T=$'\t'
upsert <<EOF
1${T}{"id": 1, "region": "eu"}${T}{"name": "a", "qty": 1}
1${T}{"id": 1, "region": "us"}${T}{"name": "b", "qty": null}
0${T}{"id": 2, "region": "eu"}${T}{"name": "c", "qty": 3}
1${T}{"id": 1, "region": "eu"}${T}{"name": "a2", "qty": 10}
0${T}{"id": 2, "region": "eu"}${T}null
0${T}{"id": 4, "region": "eu"}${T}{"name": "d", "qty": 4}
0${T}{"id": 6, "region": "eu"}${T}null
EOF
q -c "CREATE SOURCE ups FROM KAFKA CONNECTION kafka_connection (TOPIC 'ups')
      KEY FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr_connection
      VALUE FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr_connection
      ENVELOPE UPSERT" >/dev/null || h_fail "CREATE SOURCE ups failed"
got=$(q -c "SELECT column_name, data_type, is_nullable FROM information_schema.columns
            WHERE table_name = 'ups' ORDER BY ordinal_position" | paste -sd' ')
[ "$got" = "id|integer|NO region|text|NO name|text|NO qty|integer|YES" ] ||
    h_fail "ups's columns: $got"
[ "$(q -c "SELECT id, region, name, qty FROM ups ORDER BY id, region" | paste -sd' ')" = \
    "1|eu|a2|10 1|us|b| 4|eu|d|4" ] || h_fail "ups start contents: $(q -c "SELECT * FROM ups")"
same_ups
upsert <<EOF
0${T}{"id": 4, "region": "eu"}${T}null
0${T}{"id": 2, "region": "eu"}${T}{"name": "c again", "qty": null}
1${T}{"id": 1, "region": "us"}${T}{"name": "b2", "qty": 7}
1${T}{"id": 1, "region": "us"}${T}null
1${T}{"id": 1, "region": "us"}${T}{"name": "b3", "qty": 8}
1${T}{"id": 3, "region": "eu"}${T}null
EOF
same_ups
h_log "ENVELOPE UPSERT: latest value per key, null values delete"

# --- bad input ---------------------------------------------------------------------
# A source per case, each over two good messages then a bad one. Good
# messages register the schema P; raw ones are framed by hand with its id.
for t in e_magic e_short e_union e_trunc e_cut; do
    printf '{"id": 1, "name": "a"}\n{"id": 2}\n' |
        produce "$t" -p 0 --format avro --value-schema "$S/p.avsc"
done
PID=$(schema_id e_short-value) || h_fail "no schema id for e_short-value"
P=$(hex_id "$PID")
raw() { produce "$1" -p 0 --format raw; }

# A wrong magic byte among the start contents: the source fails while loading.
printf '01 %s 06 02 02 61\n00 %s 08 00\n' "$P" "$P" | raw e_magic
q -c "CREATE SOURCE e_magic FROM KAFKA CONNECTION kafka_connection (TOPIC 'e_magic') $AVRO" >/dev/null ||
    h_fail "CREATE SOURCE e_magic failed"
# stalled NAME STATUS REASON: the source's status, and reads of it, carry the
# error naming topic, partition and offset (REASON: a fixed string).
stalled() {
    local name=$1 status=$2 reason=$3 got=
    for _ in $(seq 200); do
        got=$(q -c "SELECT status || '|' || coalesce(error, '') FROM mz_internal.mz_source_statuses
                    WHERE name = '$name'")
        [ "${got%%|*}" = "$status" ] && break
        sleep 0.05
    done
    [ "$got" = "$status|$reason" ] || h_fail "$name's status: [$got], want [$status|$reason]"
    fails 55000 "" "SELECT * FROM $name"
    grep -Fq "$reason" <<<"$out" || h_fail "SELECT from $name: not [$reason]: $out"
}
stalled e_magic failed \
    "topic e_magic partition 0 offset 2: cannot decode the value: Confluent Avro message starts with magic byte 0x01, not 0x00"

# The others fail while running: the start contents first, views over them.
for t in e_short e_union e_trunc e_cut; do
    q -c "CREATE SOURCE $t FROM KAFKA CONNECTION kafka_connection (TOPIC '$t') $AVRO" >/dev/null ||
        h_fail "CREATE SOURCE $t failed"
    [ "$(q -c "SELECT id, name FROM $t ORDER BY id" | paste -sd' ')" = "1|a 2|" ] ||
        h_fail "$t: start contents"
done
q -c "CREATE VIEW v_short AS SELECT count(*) AS n FROM e_short" >/dev/null
q -c "CREATE MATERIALIZED VIEW mv_short AS SELECT id, name FROM e_short WHERE id > 1" >/dev/null
[ "$(q -c "SELECT n FROM v_short")|$(q -c "SELECT id FROM mv_short")" = "2|2" ] ||
    h_fail "views over e_short"

printf '00 00 01\n' | raw e_short
printf '@1\t00 %s 0a 06 02 61\n' "$P" | raw e_union # name's union branch 3 of 2
printf '00 %s 0c 02 04 61\n' "$P" | raw e_trunc      # id 6, name of 2 bytes: 1 left
printf '00 %s 0e\n' "$P" | raw e_cut                  # id 7, then nothing for name
stalled e_short stalled \
    "topic e_short partition 0 offset 2: cannot decode the value: Confluent Avro message of 3 bytes is shorter than its 5-byte header"
for v in v_short mv_short; do
    fails 55000 "topic e_short partition 0 offset 2: cannot decode the value: Confluent Avro message of 3 bytes" \
        "SELECT * FROM $v"
done
stalled e_union stalled \
    'topic e_union partition 1 offset 0: cannot decode the value: Avro field "name": malformed Avro message: a union branch out of range'
stalled e_trunc stalled \
    'topic e_trunc partition 0 offset 2: cannot decode the value: Avro field "name": malformed Avro message: a length runs past the message'
stalled e_cut stalled \
    'topic e_cut partition 0 offset 2: cannot decode the value: Avro field "name": malformed Avro message: truncated'

# An unknown schema id (a Debezium source): the registry says so.
ENV=$SLUICE_SOURCE_DIR/tests/io/data
dbz() { # ID OP [SCHEMA-ID]: a Debezium event for customer ID
    printf '{"id": %d}\t{"%s": {"id": %d, "first_name": "F%d", "last_name": "L", "email": "e"}, "source": {"version": "2.5", "connector": "postgresql", "name": "pg", "ts_ms": 1, "db": "postgres", "schema": "public", "table": "customers", "lsn": %d}, "op": "%s"}\n' \
        "$1" "$([ "$2" = d ] && echo before || echo after)" "$1" "$1" $((100 + $1)) "$2"
}
{ dbz 1 c; dbz 2 c; } | produce e_unknown --format avro --key-schema "$ENV/key.avsc" \
    --value-schema "$ENV/envelope.avsc"
q -c "CREATE SOURCE e_unknown FROM KAFKA CONNECTION kafka_connection (TOPIC 'e_unknown') $AVRO
      ENVELOPE DEBEZIUM" >/dev/null || h_fail "CREATE SOURCE e_unknown failed"
[ "$(q -c "SELECT id, first_name FROM e_unknown ORDER BY id" | paste -sd' ')" = "1|F1 2|F2" ] ||
    h_fail "e_unknown: start contents"
dbz 3 c | produce e_unknown --format avro --key-schema "$ENV/key.avsc" \
    --value-schema "$ENV/envelope.avsc" --value-schema-id 9999
stalled e_unknown stalled \
    "topic e_unknown partition 0 offset 2: schema id 9999 not found in the schema registry at $CSR"
h_log "bad input: magic byte, short message, bad union index, truncated body, unknown id"

# The rest of sluiced runs on: other sources follow their topics.
upsert <<EOF
0${T}{"id": 8, "region": "eu"}${T}{"name": "after the errors", "qty": 1}
EOF
same_ups
[ "$(q -c "SELECT 1")" = 1 ] || h_fail "SELECT 1"
# DROP SOURCE, then START OFFSET past the bad message, recovers.
q -c "DROP SOURCE e_short CASCADE" >/dev/null 2>&1 || h_fail "DROP SOURCE e_short failed"
printf '{"id": 3, "name": "c"}\n' | produce e_short --format avro --value-schema "$S/p.avsc"
q -c "CREATE SOURCE e_short FROM KAFKA CONNECTION kafka_connection (TOPIC 'e_short', START OFFSET (3)) $AVRO" >/dev/null ||
    h_fail "CREATE SOURCE e_short past the bad message failed"
[ "$(q -c "SELECT id, name FROM e_short")" = "3|c" ] || h_fail "e_short after START OFFSET"
wait_for "SELECT status FROM mz_internal.mz_source_statuses WHERE name = 'e_short'" running
! grep -Fq -e "$PW" -e "$WRONG" "$H_SLUICED_LOG" || h_fail "a password in sluiced's log"
h_log "sluiced serves the other sources; a new source past the message recovers"

# --- the registry down for a while is no bad input ------------------------------------
# A message with a writer schema the source has not seen while the registry
# cannot be reached, then while it answers 503: the source waits (stalled,
# retrying) with its reads answering; once the registry serves again it
# reads on, each message once. The registry is restarted on the same port,
# empty, serving no reads (--unavailable-while) until its schemas are back.
port=$(h_freeport)
DOWN=$H_TMP/csr-down
h_csr_start --port "$port" --unavailable-while "$DOWN"
R1=${H_PIDS[-1]}
echo '{"type": "record", "name": "P", "namespace": "t", "doc": "version 2", "fields": [
  {"name": "id", "type": "int"},
  {"name": "name", "type": ["null", "string"], "default": null}]}' >"$S/p2.avsc"
# register: versions 1 and 2 of outage-value, ids 1 and 2 (a fresh registry)
register() {
    local v
    for v in p p2; do
        jq -n --rawfile s "$S/$v.avsc" '{schema: $s}' |
            curl -sf -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
                --data-binary @- "$H_CSR_URL/subjects/outage-value/versions" >/dev/null ||
            h_fail "registering $v failed"
    done
    [ "$(curl -s "$H_CSR_URL/subjects" -o /dev/null -w '%{http_code}')" = 503 ] ||
        [ "$(curl -s "$H_CSR_URL/subjects/outage-value/versions/2" | jq -c '[.version, .id]')" = "[2,2]" ] ||
        h_fail "outage-value version 2 is not id 2"
}
register
printf '{"id": 1, "name": "a"}\n' |
    "$PRODUCE" -b "$B" -t outage -p 0 --format avro --value-schema "$S/p.avsc" --value-schema-id 1 ||
    h_fail "producing to outage failed"
q -c "CREATE CONNECTION csr_outage TO CONFLUENT SCHEMA REGISTRY (URL '$H_CSR_URL')" >/dev/null
q -c "CREATE SOURCE outage FROM KAFKA CONNECTION kafka_connection (TOPIC 'outage')
      FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr_outage" >/dev/null ||
    h_fail "CREATE SOURCE outage failed"
[ "$(q -c "SELECT id, name FROM outage")" = "1|a" ] || h_fail "outage: start contents"
kill -TERM "$R1"
wait "$R1" 2>/dev/null || true
# version 2 (unknown to the source) at partition 0 offset 1, then version 1
# in both partitions
printf '@0\t{"id": 2, "name": "b"}\n' |
    "$PRODUCE" -b "$B" -t outage --format avro --value-schema "$S/p2.avsc" --value-schema-id 2 ||
    h_fail "producing to outage failed"
seq 3 300 | awk '{ printf "@%d\t{\"id\": %d}\n", $1 % 2, $1 }' |
    "$PRODUCE" -b "$B" -t outage --format avro --value-schema "$S/p.avsc" --value-schema-id 1 ||
    h_fail "producing to outage failed"
# waiting REGEX: the status is stalled with an error matching REGEX, and
# reads answer (what was read before the message: not all).
waiting() {
    local got=''
    for _ in $(seq 200); do
        got=$(q -c "SELECT status || '|' || error FROM mz_internal.mz_source_statuses WHERE name = 'outage'")
        grep -Eq "$1" <<<"$got" && break
        sleep 0.05
    done
    grep -Eq "$1" <<<"$got" || h_fail "outage's status: [$got], want /$1/"
    got=$(q -c "SELECT min(id), max(id) < 300 FROM outage" 2>&1)
    [ "$got" = "1|t" ] || h_fail "reads of outage with the registry down: $got"
}
at="^stalled\|topic outage partition 0 offset 1: "
waiting "$at.*cannot reach the schema registry at $H_CSR_URL.*; retrying in [0-9]+ ms\$"
touch "$DOWN"
h_csr_start --port "$port" --unavailable-while "$DOWN"
register
waiting "$at.*the schema registry at $H_CSR_URL answered HTTP 503 to GET /schemas/ids/2.*; retrying in [0-9]+ ms\$"
rm "$DOWN"
wait_for "SELECT count(*), count(DISTINCT id), min(id), max(id), string_agg(name, ',' ORDER BY name)
          FROM outage" "300|300|1|300|a,b"
wait_for "SELECT status || '|' || coalesce(error, '') FROM mz_internal.mz_source_statuses WHERE name = 'outage'" "running|"
h_log "the registry unreachable, then answering 503: the source waits and retries, then reads on"

# --- a SELECT during a backlog waits for all of it ---------------------------------------
# 100k events in 4 partitions: the first half written with one schema, the
# second with another (a new version). A second registry answers every
# request 1 s late, so the source reads the first half, then waits a second
# for the second writer schema: the SELECT arrives in between.
h_csr_start --delay-ms 1000
N=100000
"$PRODUCE" -b "$B" -t big --registry "$H_CSR_URL" --gen-debezium $((N / 2)) --gen-format avro \
    --gen-partitions 4 --key-schema "$ENV/key.avsc" --value-schema "$ENV/envelope.avsc" ||
    h_fail "producing the backlog failed"
jq -c '. + {"doc": "version 2"}' "$ENV/envelope.avsc" >"$S/envelope2.avsc"
awk -v from=$((N / 2 + 1)) -v to=$N 'BEGIN { for (i = from; i <= to; i++)
    printf "@%d\t{\"id\": %d}\t{\"after\": {\"id\": %d, \"first_name\": \"F%d\", \"last_name\": \"L\", \"email\": \"e\"}, \"source\": {\"version\": \"2.5\", \"connector\": \"postgresql\", \"name\": \"pg\", \"ts_ms\": 1, \"db\": \"postgres\", \"schema\": \"public\", \"table\": \"customers\", \"lsn\": %d}, \"op\": \"c\"}\n",
        (i - 1) % 4, i, i, i, 1000 + 16 * i }' >"$H_TMP/big2.in"
"$PRODUCE" -b "$B" -t big --format avro --registry "$H_CSR_URL" --key-schema "$ENV/key.avsc" \
    --value-schema "$S/envelope2.avsc" <"$H_TMP/big2.in" || h_fail "producing the backlog failed"
[ "$(curl -s "$H_CSR_URL/subjects/big-value/versions")" = "[1,2]" ] ||
    h_fail "big-value has not two versions"
q -c "CREATE CONNECTION csr_slow TO CONFLUENT SCHEMA REGISTRY (URL '$H_CSR_URL')" >/dev/null
q -c "CREATE SOURCE big FROM KAFKA CONNECTION kafka_connection (TOPIC 'big')
      FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr_slow ENVELOPE DEBEZIUM" >/dev/null ||
    h_fail "CREATE SOURCE big failed"
sleep 1.4
t0=$(date +%s%N)
got=$(q -c "SELECT count(*), sum(id), count(*) FILTER (WHERE first_name = 'F' || id) FROM big")
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$got" = "$N|$((N * (N + 1) / 2))|$((N / 2))" ] ||
    h_fail "SELECT during the backlog: [$got], not all $N rows"
[ "$ms" -ge 100 ] || h_fail "the SELECT took $ms ms: the backlog was in before it was issued"
h_log "a SELECT issued during a $N-event backlog waited ${ms} ms for all of it"

h_sluiced_stop 10 || h_fail "sluiced exited non-zero"
echo "084 kafka avro errors passed"
