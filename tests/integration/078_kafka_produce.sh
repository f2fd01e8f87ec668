#!/usr/bin/env bash
# sluice-kafka-produce against the Kafka mock, read back with kcat: JSON
# keys and values, no key, null keys and tombstones (kcat -Z prints NULL,
# %K/%S print -1), explicit and default partitions (the default partitioner
# puts a key where kcat's librdkafka puts it), order kept within a
# partition, raw hex bytes, Avro in the Confluent framing with a given
# schema id (exact bytes), and failures: an invalid line (JSON, hex, an
# Avro field) stops the input with exit 1 naming the line, after the lines
# before it were delivered; a partition that does not exist; an unreachable
# registry; usage errors. --gen-debezium's events: ids per partition, the
# row and key schemas of Debezium's documented events, Avro sizes. The
# Avro encoder itself is tested by tests/harness/test_avro_encode.c;
# registration with a schema registry is not tested here (no registry
# fixture yet).
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"

PRODUCE=$SLUICE_BUILD_DIR/tests/harness/sluice-kafka-produce
h_kafka_start topic:3 kcatref:3 raw:1 avro:1 env:1 bad:1 order:2 badhex:1 badavro:1 \
    gen:3 gena:1
B=$H_KAFKA_BROKERS

# consume TOPIC PARTITION: every message as "KEY|VALUE|KEYLEN|VALUELEN".
consume() {
    timeout 30 kcat -C -b "$B" -t "$1" -p "$2" -o beginning -e -q -Z -f '%k|%s|%K|%S\n' ||
        h_fail "kcat could not consume $1/$2"
}

# The single message's value (or key with %k) of TOPIC/0 as hex bytes.
hexof() {
    timeout 30 kcat -C -b "$B" -t "$1" -p 0 -o beginning -e -q -f "${2:-%s}" |
        od -An -v -tx1 | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'
}

expect() { # what got want
    [ "$2" = "$3" ] || h_fail "$1: got
$2
want
$3"
}

# --- JSON: keys, no key, null key, tombstones, partitions --------------------
T=$'\t'
cat >"$H_TMP/json.in" <<EOF
# a comment, then a blank line and a line of spaces

   
{"id":1}${T}{"id":1,"v":"a"}
{"id":2}${T}{"id":2,"v":"b"}
@2${T}{"id":3}${T}{"id":3,"v":"c"}
@2${T}null${T}{"v":"null key"}
@2${T}{"v":"no key"}
@0${T}{"id":9}${T}null
{"id":1}${T}{"id":1,"v":"a2"}
@1${T}"k"${T}[1, 2, "tab-free"]
@1${T}""${T}""
EOF
printf '@1\t{"id":4}\t{"crlf":true}\r\n' >>"$H_TMP/json.in"
"$PRODUCE" -b "$B" -t topic -v <"$H_TMP/json.in" 2>"$H_TMP/json.err" ||
    { cat "$H_TMP/json.err" >&2; h_fail "producing JSON failed"; }
grep -q 'sluice-kafka-produce: 10 messages delivered to topic' "$H_TMP/json.err" ||
    { cat "$H_TMP/json.err" >&2; h_fail "-v did not count 10 messages"; }

# where librdkafka's default partitioner (as kcat uses it) puts keys 1 and 2
printf '{"id":1}\tx\n{"id":2}\tx\n' | timeout 30 kcat -P -b "$B" -t kcatref -K "$T" ||
    h_fail "kcat could not produce"
p1='' p2=''
for p in 0 1 2; do
    c=$(consume kcatref $p)
    grep -q '^{"id":1}|' <<<"$c" && p1=$p
    grep -q '^{"id":2}|' <<<"$c" && p2=$p
done
if [ -z "$p1" ] || [ -z "$p2" ]; then h_fail "kcat's reference messages not found"; fi
h_log "default partitioner: key 1 -> $p1, key 2 -> $p2"

# m KEY VALUE: a message as consume prints it ("null" for none)
m() {
    local k=$1 v=$2 kl=${#1} vl=${#2}
    [ "$k" = null ] && k=NULL kl=-1
    [ "$v" = null ] && v=NULL vl=-1
    printf '%s|%s|%s|%s\n' "$k" "$v" "$kl" "$vl"
}
declare -A want=([0]='' [1]='' [2]='')
want[$p1]+=$(m '{"id":1}' '{"id":1,"v":"a"}')$'\n'
want[$p2]+=$(m '{"id":2}' '{"id":2,"v":"b"}')$'\n'
want[2]+=$(m '{"id":3}' '{"id":3,"v":"c"}')$'\n'
want[2]+=$(m null '{"v":"null key"}')$'\n'
want[2]+=$(m null '{"v":"no key"}')$'\n'
want[0]+=$(m '{"id":9}' null)$'\n'
want[$p1]+=$(m '{"id":1}' '{"id":1,"v":"a2"}')$'\n'
want[1]+=$(m '"k"' '[1, 2, "tab-free"]')$'\n'
want[1]+=$(m '""' '""')$'\n'
want[1]+=$(m '{"id":4}' '{"crlf":true}')$'\n'
for p in 0 1 2; do
    got=$(consume topic $p)
    expect "topic partition $p" "$got" "$(printf '%s' "${want[$p]}")"
done
h_log "json: keys, tombstones and partitions as written"

# -p sets the partition, @P overrides it
printf '{"a":1}\n@0\t{"b":2}\n{"c":3}\n' | "$PRODUCE" -b "$B" -t order -p 1 ||
    h_fail "producing with -p failed"
expect "-p 1" "$(consume order 1)" $'NULL|{"a":1}|-1|7\nNULL|{"c":3}|-1|7'
expect "@0 over -p 1" "$(consume order 0)" $'NULL|{"b":2}|-1|7'

# order within a partition over many messages (several batches)
seq 1 5000 | sed 's/.*/{"n":&}/' | "$PRODUCE" -b "$B" -t order -p 0 -X batch.num.messages=100 ||
    h_fail "producing 5000 messages failed"
got=$(consume order 0 | tail -n +2 | sed 's/^NULL|{"n":\([0-9]*\)}|.*/\1/')
expect "5000 messages in order" "$got" "$(seq 1 5000)"
h_log "json: -p, @P and order over 5000 messages"

# --- raw: hex bytes, spaces allowed --------------------------------------------
printf '00 01 FF\t00 00 00 00 07 0a\n' | "$PRODUCE" -b "$B" -t raw --format raw ||
    h_fail "producing raw failed"
expect "raw key" "$(hexof raw %k)" "00 01 ff"
expect "raw value" "$(hexof raw)" "00 00 00 00 07 0a"

# --- avro with a given schema id (no registry) ---------------------------------
cat >"$H_TMP/v.avsc" <<'EOF'
{"type": "record", "name": "V", "namespace": "t", "fields": [
  {"name": "id", "type": "int"},
  {"name": "name", "type": ["null", "string"], "default": null},
  {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
  {"name": "kind", "type": {"type": "enum", "name": "K", "symbols": ["A", "B"]}}]}
EOF
printf '{"id": 7}\t{"id": -1, "name": "x", "amount": "12.34", "kind": "B"}\n' |
    "$PRODUCE" -b "$B" -t avro --format avro --value-schema "$H_TMP/v.avsc" \
        --value-schema-id 258 || h_fail "producing avro failed"
# magic 0, id 258, then id -1, union branch 1 "x", decimal 1234, enum 1
expect "avro value" "$(hexof avro)" "00 00 00 01 02 01 02 02 78 04 04 d2 02"
expect "avro key (JSON text)" "$(timeout 30 kcat -C -b "$B" -t avro -p 0 -o beginning -e -q -f '%k')" \
    '{"id": 7}'

# Debezium's envelope and key schemas, both sides Avro
ENV=$SLUICE_SOURCE_DIR/tests/io/data
cat >"$H_TMP/env.in" <<'EOF'
{"id": 1004}	{"after": {"id": 1004, "first_name": "Anne", "last_name": "K", "email": "a@b"}, "source": {"version": "2.5", "connector": "postgresql", "name": "pg", "ts_ms": 1, "db": "postgres", "schema": "public", "table": "customers", "lsn": 33}, "op": "c"}
{"id": 1004}	null
EOF
"$PRODUCE" -b "$B" -t env --format avro --key-schema "$ENV/key.avsc" --key-schema-id 1 \
    --value-schema "$ENV/envelope.avsc" --value-schema-id 2 <"$H_TMP/env.in" ||
    h_fail "producing Debezium Avro failed"
got=$(timeout 30 kcat -C -b "$B" -t env -p 0 -o beginning -e -q -Z -f '%K %S\n')
expect "envelope sizes" "$got" $'7 71\n7 -1'
got=$(timeout 30 kcat -C -b "$B" -t env -p 0 -o beginning -e -q -c 1 -f '%k' | od -An -tx1 |
    tr -s ' \n' ' ')
expect "Avro key" "$got" " 00 00 00 00 01 d8 0f "
h_log "raw and avro bytes as expected"

# --- generated Debezium load ------------------------------------------------------
"$PRODUCE" -b "$B" -t gen --gen-debezium 30 --gen-format json --gen-partitions 3 ||
    h_fail "--gen-debezium json failed"
for p in 0 1 2; do
    got=$(timeout 30 kcat -C -b "$B" -t gen -p $p -o beginning -e -q -f '%s\n' |
        jq -r '[.payload.op, .payload.after.id, .payload.source.lsn] | join(" ")')
    expect "generated ids in partition $p" "$got" \
        "$(seq $((p + 1)) 3 30 | while read -r i; do echo "c $i $((1000 + 16 * i))"; done)"
done
# the row and key schemas are the ones of Debezium's documented customers events
msg=$(timeout 30 kcat -C -b "$B" -t gen -p 0 -o beginning -c 1 -e -q -f '%s')
key=$(timeout 30 kcat -C -b "$B" -t gen -p 0 -o beginning -c 1 -e -q -f '%k')
DBZ=$SLUICE_SOURCE_DIR/tests/io/dbz
expect "generated row schema" "$(jq -c '.schema.fields[1].fields' <<<"$msg")" \
    "$(jq -c '.schema.fields[1].fields' "$DBZ/pg-create-event.value.json")"
expect "generated key" "$(jq -c '[.schema.fields, .payload]' <<<"$key")" \
    "$(jq -c '[.schema.fields, .payload]' "$DBZ/pg-key.json")"
"$PRODUCE" -b "$B" -t gena --gen-debezium 4 --gen-format avro --key-schema "$ENV/key.avsc" \
    --key-schema-id 1 --value-schema "$ENV/envelope.avsc" --value-schema-id 2 ||
    h_fail "--gen-debezium avro failed"
expect "generated Avro sizes" \
    "$(timeout 30 kcat -C -b "$B" -t gena -p 0 -o beginning -e -q -f '%K %S\n')" \
    "$(printf '6 112\n%.0s' 1 2 3 4)"
h_log "generated Debezium events as documented"

# --- failures -------------------------------------------------------------------
# must_fail RC PATTERN CMD...: CMD (reading this stdin) exits RC with an
# stderr line matching PATTERN (grep -E).
must_fail() {
    local code=$1 pat=$2 rc=0
    shift 2
    "$@" 2>"$H_TMP/err" || rc=$?
    if [ "$rc" -ne "$code" ] || ! grep -Eq "$pat" "$H_TMP/err"; then
        cat "$H_TMP/err" >&2
        h_fail "$*: exit status $rc (want $code), or no /$pat/ on stderr"
    fi
}
# an invalid JSON line: the lines before it are delivered, nothing from it on
printf '{"ok":1}\n# two\n{"ok":2}\n{"bad":\n{"never":1}\n' |
    must_fail 1 '^sluice-kafka-produce: line 4: value: invalid JSON at column' \
        "$PRODUCE" -b "$B" -t bad
expect "only the lines before the bad one" "$(consume bad 0)" \
    $'NULL|{"ok":1}|-1|8\nNULL|{"ok":2}|-1|8'
# ... unless --no-check
printf 'not json\tnot json either\n' | "$PRODUCE" -b "$B" -t bad --no-check ||
    h_fail "--no-check still checked"
# a bad key is named as the key; bad hex; a bad Avro field; a bad @partition
printf '{x}\t{}\n' | must_fail 1 'line 1: key: invalid JSON' "$PRODUCE" -b "$B" -t badhex
printf '00 01\n\n0g\n' | must_fail 1 'line 3: value: not hex digit pairs at character 1' \
    "$PRODUCE" -b "$B" -t badhex --format raw
expect "the hex before the bad line" "$(hexof badhex)" "00 01"
printf '{"id": 1, "amount": 1, "kind": "A"}\n{"id": 2, "amount": "1.234", "kind": "A"}\n' |
    must_fail 1 'line 2: value: amount: 1.234 has more than 2 digits after the decimal point' \
        "$PRODUCE" -b "$B" -t badavro --format avro --value-schema "$H_TMP/v.avsc" \
        --value-schema-id 1
expect "one avro message before the bad one" \
    "$(timeout 30 kcat -C -b "$B" -t badavro -p 0 -o beginning -e -q -f '%S\n')" 10
printf '@x\t{}\n' | must_fail 1 'line 1: bad partition "x"' "$PRODUCE" -b "$B" -t bad
# a partition that does not exist fails the delivery, naming the line
printf '{}\n@7\t{}\n' | must_fail 1 'line 2: delivery failed: .*Unknown partition' \
    "$PRODUCE" -b "$B" -t topic
# a registry that is not there
port=$(h_freeport)
printf '{}\n' | must_fail 1 \
    "registering avro-value at http://127.0.0.1:$port/subjects/avro-value/versions" \
    "$PRODUCE" -b "$B" -t avro --format avro --value-schema "$H_TMP/v.avsc" \
    --registry "http://127.0.0.1:$port"
# a missing schema; usage errors exit 2
must_fail 1 'needs --value-schema FILE' "$PRODUCE" -b "$B" -t t --format avro </dev/null
must_fail 2 '^usage:' "$PRODUCE" -t topic </dev/null
must_fail 2 '^usage:' "$PRODUCE" -b "$B" </dev/null
must_fail 2 '^usage:' "$PRODUCE" -b "$B" -t topic --format xml </dev/null
must_fail 2 'not avro' "$PRODUCE" -b "$B" -t topic --value-schema-id 3 </dev/null
must_fail 2 '^usage:' "$PRODUCE" -b "$B" -t topic extra </dev/null
h_log "failures named and stopped where they should"
echo "078 kafka produce passed"
