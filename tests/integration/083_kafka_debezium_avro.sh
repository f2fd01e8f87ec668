#!/usr/bin/env bash
# The Kafka + Debezium part of the PostgreSQL CDC guide end to end, in Avro
# through the schema registry fixture: the guide's statements as written
# (connections, CREATE SOURCE kafka_repl ... ENVELOPE DEBEZIUM, the view
# cnt_table1), against a table mirrored in the harness PostgreSQL.
#
# PostgreSQL plays Debezium's PostgreSQL connector with the AvroConverter:
# triggers turn every change into the events the connector documents (key
# {id}, envelope {before, after, source, op, ts_ms, transaction}; before in
# full with REPLICA IDENTITY FULL; with DEFAULT key-only on a delete and
# absent (or, when the test asks, key-only) on an update; a delete followed
# by a tombstone; a primary-key change as delete + tombstone + create;
# TRUNCATE as op t without key), logged in dbz_log and produced in order,
# each key to partition id % 3. After each change the source must have
# consumed every message (its progress relation) and answer what PostgreSQL
# answers. Covered: snapshot reads (op r) read in full by the first SELECT,
# every column type (int, text, numeric(10,2) as Kafka Connect's Decimal,
# io.debezium.time.Date, MicroTimestamp, boolean, io.debezium.data.Uuid and
# Json, nullable text; edge values), creates, updates without, with a
# key-only and with a full before, deletes and tombstones, key changes,
# truncate (streamed, and among the start contents), redelivered events (a
# connector restart replays a suffix of each partition), a table without
# primary key (no key subject, null keys: a bag, duplicate rows count), and
# schema evolution after CREATE SOURCE: a version adding a field with a
# default and one removing an optional field, produced mixed with the older
# versions; the source keeps its columns and reads them right.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"

PRODUCE=$SLUICE_BUILD_DIR/tests/harness/sluice-kafka-produce
T1=pg_repl.public.table1
T2=pg_repl.public.table2
T3=pg_repl.public.table3
h_pg_start
h_kafka_start "$T1:3" "$T2:3" "$T3:1"
h_csr_start
h_sluiced_start

q() { h_sluice_psql -X -At -v ON_ERROR_STOP=1 "$@"; }

# --- the upstream tables and the Debezium stand-in ----------------------------
h_psql <<'SQL'
CREATE TABLE table1 (id int PRIMARY KEY, field1 text, amount numeric(10,2), d date,
                     ts timestamp, flag boolean, u uuid, j jsonb, note text);
CREATE TABLE table2 (a int, b text);
ALTER TABLE table2 REPLICA IDENTITY FULL;
CREATE TABLE dbz_topic (topic text PRIMARY KEY, nparts int NOT NULL);
INSERT INTO dbz_topic VALUES ('pg_repl.public.table1', 3), ('pg_repl.public.table2', 3),
                             ('pg_repl.public.table3', 1);
-- k NULL: a null key; v NULL: a tombstone
CREATE TABLE dbz_log (seq bigserial PRIMARY KEY, topic text NOT NULL, part int NOT NULL,
                      k jsonb, v jsonb);

-- A row as the AvroConverter encodes it (the JSON the test producer takes):
-- numeric as a numeric string, date as days, timestamp as microseconds,
-- uuid and json as strings.
CREATE FUNCTION dbz_doc(r jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT r
        || CASE WHEN r->'amount' IS NOT NULL AND r->'amount' <> 'null'
                THEN jsonb_build_object('amount', r->>'amount') ELSE '{}' END
        || CASE WHEN r->'d' IS NOT NULL AND r->'d' <> 'null'
                THEN jsonb_build_object('d', (r->>'d')::date - date '1970-01-01') ELSE '{}' END
        || CASE WHEN r->'ts' IS NOT NULL AND r->'ts' <> 'null'
                THEN jsonb_build_object('ts',
                     (extract(epoch FROM (r->>'ts')::timestamp) * 1000000)::bigint)
                ELSE '{}' END
        || CASE WHEN r->'j' IS NOT NULL AND r->'j' <> 'null'
                THEN jsonb_build_object('j', (r->'j')::text) ELSE '{}' END
$$;

CREATE FUNCTION dbz_env(topic text, op text, b jsonb, a jsonb) RETURNS jsonb
LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'before', b, 'after', a,
        'source', jsonb_build_object(
            'version', '2.5.0.Final', 'connector', 'postgresql', 'name', 'pg_repl',
            'ts_ms', (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
            'snapshot', CASE WHEN op = 'r' THEN 'true' ELSE 'false' END,
            'db', 'postgres', 'sequence', NULL, 'schema', 'public',
            'table', split_part(topic, '.', 3), 'txId', txid_current(),
            'lsn', pg_current_wal_lsn() - '0/0', 'xmin', NULL),
        'op', op, 'ts_ms', (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
        'transaction', NULL)
$$;

-- The primary key of a row's document, NULL for a table without one.
CREATE FUNCTION dbz_key(rel oid, r jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_object_agg(a.attname, r->a.attname)
    FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
    WHERE i.indrelid = rel AND i.indisprimary
$$;

CREATE FUNCTION dbz_emit(topic text, k jsonb, v jsonb) RETURNS void LANGUAGE sql AS $$
    INSERT INTO dbz_log (topic, part, k, v)
    SELECT topic,
           CASE WHEN k IS NOT NULL THEN (k->>'id')::int % t.nparts
                WHEN v IS NULL OR v->>'op' = 't' THEN 0
                ELSE (SELECT count(*) FROM dbz_log l WHERE l.topic = dbz_emit.topic) % t.nparts END,
           k, v
    FROM dbz_topic t WHERE t.topic = dbz_emit.topic
$$;

CREATE FUNCTION dbz_capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    topic text := 'pg_repl.' || TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
    full_ident bool := (SELECT relreplident = 'f' FROM pg_class WHERE oid = TG_RELID);
    o jsonb; n jsonb; ko jsonb; kn jsonb; b jsonb;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM dbz_emit(topic, NULL, dbz_env(topic, 't', NULL, NULL));
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        o := dbz_doc(to_jsonb(OLD));
        ko := dbz_key(TG_RELID, o);
        -- REPLICA IDENTITY DEFAULT: the old row is its key, other columns null
        b := CASE WHEN full_ident OR ko IS NULL THEN o
                  ELSE (SELECT jsonb_object_agg(e.key, CASE WHEN ko ? e.key THEN e.value
                                                           ELSE 'null' END)
                        FROM jsonb_each(o) e) END;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        n := dbz_doc(to_jsonb(NEW));
        kn := dbz_key(TG_RELID, n);
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM dbz_emit(topic, kn, dbz_env(topic, 'c', NULL, n));
    ELSIF TG_OP = 'DELETE' OR ko IS DISTINCT FROM kn THEN
        -- a delete, or a key change: delete + tombstone (+ create)
        PERFORM dbz_emit(topic, ko, dbz_env(topic, 'd', b, NULL));
        IF ko IS NOT NULL THEN PERFORM dbz_emit(topic, ko, NULL); END IF;
        IF TG_OP = 'UPDATE' THEN PERFORM dbz_emit(topic, kn, dbz_env(topic, 'c', NULL, n)); END IF;
    ELSE
        -- DEFAULT: no before (dbz.update_before = 'key': the key only, as
        -- some connector versions and message transforms send it)
        PERFORM dbz_emit(topic, kn, dbz_env(topic, 'u',
            CASE WHEN full_ident OR current_setting('dbz.update_before', true) = 'key'
                 THEN b END, n));
    END IF;
    RETURN NULL;
END $$;

-- The initial snapshot: one read event per row.
CREATE FUNCTION dbz_snapshot(rel regclass) RETURNS void LANGUAGE plpgsql AS $$
DECLARE r jsonb; topic text := 'pg_repl.public.' || rel::text;
BEGIN
    FOR r IN EXECUTE format('SELECT dbz_doc(to_jsonb(t)) FROM %s t ORDER BY 1', rel) LOOP
        PERFORM dbz_emit(topic, dbz_key(rel, r), dbz_env(topic, 'r', NULL, r));
    END LOOP;
END $$;

-- An event with before/after cut down to the fields a writer schema has.
CREATE FUNCTION dbz_strip(v jsonb, keep text[]) RETURNS jsonb LANGUAGE sql AS $$
    SELECT CASE WHEN v IS NULL THEN NULL ELSE v
        || jsonb_build_object('before', (SELECT jsonb_object_agg(e.key, e.value)
                                         FROM jsonb_each(CASE WHEN jsonb_typeof(v->'before') = 'object'
                                                              THEN v->'before' END) e
                                         WHERE e.key = ANY (keep)))
        || jsonb_build_object('after', (SELECT jsonb_object_agg(e.key, e.value)
                                        FROM jsonb_each(CASE WHEN jsonb_typeof(v->'after') = 'object'
                                                             THEN v->'after' END) e
                                        WHERE e.key = ANY (keep))) END
$$;
SQL

# --- Avro schemas as the AvroConverter registers them ---------------------------
# fields NAME...: the Value record's fields (from the list below), as JSON.
declare -A FIELD=(
    [id]='{"name": "id", "type": "int"}'
    [field1]='{"name": "field1", "type": ["null", "string"], "default": null}'
    [amount]='{"name": "amount", "type": ["null", {"type": "bytes", "scale": 2, "precision": 10, "connect.version": 1, "connect.parameters": {"scale": "2", "connect.decimal.precision": "10"}, "connect.name": "org.apache.kafka.connect.data.Decimal", "logicalType": "decimal"}], "default": null}'
    [d]='{"name": "d", "type": ["null", {"type": "int", "connect.version": 1, "connect.name": "io.debezium.time.Date"}], "default": null}'
    [ts]='{"name": "ts", "type": ["null", {"type": "long", "connect.version": 1, "connect.name": "io.debezium.time.MicroTimestamp"}], "default": null}'
    [flag]='{"name": "flag", "type": ["null", "boolean"], "default": null}'
    [u]='{"name": "u", "type": ["null", {"type": "string", "connect.version": 1, "connect.name": "io.debezium.data.Uuid"}], "default": null}'
    [j]='{"name": "j", "type": ["null", {"type": "string", "connect.version": 1, "connect.name": "io.debezium.data.Json"}], "default": null}'
    [note]='{"name": "note", "type": ["null", "string"], "default": null}'
    [extra]='{"name": "extra", "type": [{"type": "int", "connect.default": 7}, "null"], "default": 7}'
    [a]='{"name": "a", "type": ["null", "int"], "default": null}'
    [b]='{"name": "b", "type": ["null", "string"], "default": null}'
)
# envelope FILE TABLE FIELD...: Debezium's envelope for the table's row.
envelope() {
    local file=$1 table=$2 f fields=
    shift 2
    for f in "$@"; do fields+=${fields:+, }${FIELD[$f]}; done
    cat >"$file" <<EOF
{"type": "record", "name": "Envelope", "namespace": "pg_repl.public.$table",
 "fields": [
  {"name": "before", "type": ["null", {"type": "record", "name": "Value", "fields": [$fields],
      "connect.name": "pg_repl.public.$table.Value"}], "default": null},
  {"name": "after", "type": ["null", "Value"], "default": null},
  {"name": "source", "type": {"type": "record", "name": "Source",
      "namespace": "io.debezium.connector.postgresql", "fields": [
    {"name": "version", "type": "string"},
    {"name": "connector", "type": "string"},
    {"name": "name", "type": "string"},
    {"name": "ts_ms", "type": "long"},
    {"name": "snapshot", "type": [{"type": "string", "connect.version": 1,
        "connect.parameters": {"allowed": "true,last,false,incremental"},
        "connect.default": "false", "connect.name": "io.debezium.data.Enum"}, "null"],
     "default": "false"},
    {"name": "db", "type": "string"},
    {"name": "sequence", "type": ["null", "string"], "default": null},
    {"name": "schema", "type": "string"},
    {"name": "table", "type": "string"},
    {"name": "txId", "type": ["null", "long"], "default": null},
    {"name": "lsn", "type": ["null", "long"], "default": null},
    {"name": "xmin", "type": ["null", "long"], "default": null}],
    "connect.name": "io.debezium.connector.postgresql.Source"}},
  {"name": "op", "type": "string"},
  {"name": "ts_ms", "type": ["null", "long"], "default": null},
  {"name": "transaction", "type": ["null", {"type": "record", "name": "block",
      "namespace": "event", "fields": [
    {"name": "id", "type": "string"},
    {"name": "total_order", "type": "long"},
    {"name": "data_collection_order", "type": "long"}],
    "connect.version": 1, "connect.name": "event.block"}], "default": null}],
 "connect.version": 1, "connect.name": "pg_repl.public.$table.Envelope"}
EOF
}
S=$H_TMP/schemas
mkdir -p "$S"
V1=(id field1 amount d ts flag u j note)
V2=(id field1 amount d ts flag u j note extra) # + a field with a default
V3=(id field1 amount d ts flag u j extra)      # - the optional field note
envelope "$S/t1.v1.avsc" table1 "${V1[@]}"
envelope "$S/t1.v2.avsc" table1 "${V2[@]}"
envelope "$S/t1.v3.avsc" table1 "${V3[@]}"
envelope "$S/t2.avsc" table2 a b
envelope "$S/t3.avsc" table3 id field1
for t in table1 table3; do
    cat >"$S/$t.key.avsc" <<EOF
{"type": "record", "name": "Key", "namespace": "pg_repl.public.$t",
 "fields": [{"name": "id", "type": "int"}], "connect.name": "pg_repl.public.$t.Key"}
EOF
done

# pump TOPIC SCHEMA FIELDS [KEYSCHEMA]: produces the events logged since the
# last pump of TOPIC, cut to FIELDS (comma-separated), with SCHEMA
# (registered under TOPIC-value) and KEYSCHEMA (TOPIC-key; none: null keys).
declare -A PUMPED=([$T1]=0 [$T2]=0 [$T3]=0) PRODUCED=([$T1]=0 [$T2]=0 [$T3]=0)
pump() {
    local topic=$1 schema=$2 fields=$3 keyschema=${4:-} last n
    last=${PUMPED[$topic]}
    h_psql -At -F $'\t' -c "SELECT '@' || part, coalesce(k::text, 'null'),
            coalesce(dbz_strip(v, string_to_array('$fields', ','))::text, 'null')
        FROM dbz_log WHERE topic = '$topic' AND seq > $last ORDER BY seq" >"$H_TMP/pump.in"
    n=$(wc -l <"$H_TMP/pump.in")
    [ "$n" -gt 0 ] || h_fail "pump $topic: no new events"
    "$PRODUCE" -b "$H_KAFKA_BROKERS" -t "$topic" --format avro --registry "$H_CSR_URL" \
        --value-schema "$schema" ${keyschema:+--key-schema "$keyschema"} <"$H_TMP/pump.in" \
        2>"$H_TMP/pump.err" || { cat "$H_TMP/pump.err" >&2; h_fail "producing to $topic failed"; }
    PUMPED[$topic]=$(h_psql -At -c "SELECT coalesce(max(seq), 0) FROM dbz_log")
    PRODUCED[$topic]=$((PRODUCED[$topic] + n))
}
join_by_comma() { local IFS=,; echo "$*"; }
F1=$(join_by_comma "${V1[@]}") F2=$(join_by_comma "${V2[@]}") F3=$(join_by_comma "${V3[@]}")
pump1() { pump "$T1" "$S/t1.$1.avsc" "$2" "$S/table1.key.avsc"; }
pump2() { pump "$T2" "$S/t2.avsc" a,b; }
pump3() { pump "$T3" "$S/t3.avsc" id,field1 "$S/table3.key.avsc"; }

COLS="id, field1, amount, d, ts, flag, u, j, note"
h_psql -c "CREATE VIEW table1_expect AS SELECT $COLS FROM table1" >/dev/null
# same SLUICE_SQL PG_SQL: both answer alike (polled, 200 tries 50 ms apart).
same() {
    local a='' b=''
    for _ in $(seq 200); do
        a=$(q -c "$1" 2>&1) || true
        b=$(h_psql -X -At -c "$2")
        [ "$a" = "$b" ] && return 0
        sleep 0.05
    done
    h_fail "[$1] vs PostgreSQL's [$2]:
sluice:
$a
postgres:
$b"
}
# consumed TOPIC SOURCE: the source's progress shows every produced message.
consumed() {
    local got=
    for _ in $(seq 200); do
        got=$(q -c "SELECT sum(\"offset\") FROM $2_progress" 2>&1) || true
        [ "$got" = "${PRODUCED[$1]}" ] && return 0
        sleep 0.05
    done
    h_fail "$2_progress: $got messages consumed, ${PRODUCED[$1]} produced"
}
check1() {
    consumed "$T1" kafka_repl
    same "SELECT $COLS FROM kafka_repl ORDER BY id" "SELECT * FROM table1_expect ORDER BY id"
    same "SELECT field1, cnt FROM cnt_table1 ORDER BY field1" \
        "SELECT field1, count(*) FROM table1 GROUP BY field1 ORDER BY field1"
}
check2() {
    consumed "$T2" kafka_repl2
    same "SELECT a, b FROM kafka_repl2 ORDER BY a, b" "SELECT a, b FROM table2 ORDER BY a, b"
}
# change SQL: applies SQL upstream (the triggers log its events).
change() { h_psql -c "$1" >/dev/null || h_fail "upstream: $1"; }

# --- the snapshot: read events, then the source --------------------------------
h_psql <<'SQL' >/dev/null
INSERT INTO table1 VALUES
  (1, 'a', 12.34, '2024-02-29', '2024-02-29 23:59:59.999999', true,
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": [1, 2.50, "x"], "b": null}', 'first'),
  (2, 'b', -0.01, '1969-12-31', '1969-12-31 23:59:59.5', false,
   '00000000-0000-0000-0000-000000000000', '[]', NULL),
  (3, 'a', 99999999.99, '0001-01-01', '1900-01-01 00:00:00', NULL, NULL, '"é\u0001 ☃"', ''),
  (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (5, 'c', 0, '2038-01-19', '2038-01-19 03:14:08', true,
   'ffffffff-ffff-ffff-ffff-ffffffffffff', '{"a": {"b": {"c": 1e3}}}', 'x|y');
INSERT INTO table1 SELECT g, 'f' || (g % 7), g * 1.25, date '2000-01-01' + g,
    timestamp '2000-01-01' + g * interval '1.000001 s', g % 2 = 0,
    md5(g::text)::uuid, jsonb_build_object('g', g), 'n' || g
FROM generate_series(6, 2000) g;
INSERT INTO table2 VALUES (1, 'x'), (1, 'x'), (2, NULL), (NULL, NULL);
SELECT dbz_snapshot('table1');
SELECT dbz_snapshot('table2');
CREATE TRIGGER dbz AFTER INSERT OR UPDATE OR DELETE ON table1 FOR EACH ROW EXECUTE FUNCTION dbz_capture();
CREATE TRIGGER dbz_t AFTER TRUNCATE ON table1 FOR EACH STATEMENT EXECUTE FUNCTION dbz_capture();
CREATE TRIGGER dbz AFTER INSERT OR UPDATE OR DELETE ON table2 FOR EACH ROW EXECUTE FUNCTION dbz_capture();
CREATE TRIGGER dbz_t AFTER TRUNCATE ON table2 FOR EACH STATEMENT EXECUTE FUNCTION dbz_capture();
SQL
pump1 v1 "$F1"
pump2

q <<EOF >/dev/null || h_fail "the guide's statements failed"
CREATE CONNECTION kafka_connection TO KAFKA (BROKER '$H_KAFKA_BROKERS');
CREATE CONNECTION csr_connection TO CONFLUENT SCHEMA REGISTRY (URL '$H_CSR_URL');
CREATE SOURCE kafka_repl
  FROM KAFKA CONNECTION kafka_connection (TOPIC 'pg_repl.public.table1')
  FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr_connection
  ENVELOPE DEBEZIUM
  WITH (SIZE = '3xsmall');
CREATE MATERIALIZED VIEW cnt_table1 AS
    SELECT field1,
           COUNT(*) AS cnt
    FROM kafka_repl
    GROUP BY field1;
EOF

# The columns are the after record's, typed from the Debezium names.
got=$(q -c "SELECT column_name, data_type, is_nullable FROM information_schema.columns
            WHERE table_name = 'kafka_repl' ORDER BY ordinal_position" | tr '\n' ' ')
want="id|integer|NO field1|text|YES amount|numeric|YES d|date|YES ts|timestamp without time zone|YES flag|boolean|YES u|uuid|YES j|jsonb|YES note|text|YES "
[ "$got" = "$want" ] || h_fail "kafka_repl's columns: [$got], want [$want]"
# The first answer is the whole snapshot, not a part of it.
got=$(q -c "SELECT count(*), sum(id) FROM kafka_repl")
[ "$got" = "2000|2001000" ] || h_fail "the first SELECT saw part of the snapshot: $got"
check1
h_log "snapshot: 2000 rows of every type as in PostgreSQL"

# --- streaming changes ---------------------------------------------------------
# REPLICA IDENTITY DEFAULT: updates without before, deletes with the key only.
change "INSERT INTO table1 VALUES (2001, 'new', 1.5, '2024-01-01', '2024-01-01 00:00:00.000001', true, gen_random_uuid(), '{\"n\": 1}', NULL)"
change "UPDATE table1 SET field1 = 'moved', amount = amount + 0.01 WHERE id BETWEEN 10 AND 40"
change "UPDATE table1 SET note = NULL, j = '{\"z\": [true, false]}' WHERE id = 1"
change "DELETE FROM table1 WHERE id BETWEEN 41 AND 60 OR id = 2"
change "SET dbz.update_before = 'key'; UPDATE table1 SET d = d - 1, note = 'key-only before' WHERE id BETWEEN 61 AND 70"
pump1 v1 "$F1"
check1
n=$(h_psql -At -c "SELECT count(*) FILTER (WHERE v->'before' = 'null'),
                          count(*) FILTER (WHERE v->'before'->'id' IS NOT NULL AND v->'before'->'d' = 'null')
                   FROM dbz_log WHERE topic = '$T1' AND v->>'op' = 'u'")
[ "$n" = "32|10" ] || h_fail "updates without before | with a key-only before: $n, want 32|10"
h_log "identity DEFAULT: creates, updates without before, deletes by key"

change "ALTER TABLE table1 REPLICA IDENTITY FULL"
change "UPDATE table1 SET flag = NOT flag, ts = ts + interval '1 day' WHERE id % 5 = 0"
change "DELETE FROM table1 WHERE id BETWEEN 100 AND 110"
# primary-key changes: delete + tombstone + create (to another partition)
change "UPDATE table1 SET id = id + 10000 WHERE id BETWEEN 200 AND 205"
change "UPDATE table1 SET id = 3000 WHERE id = 3"
change "INSERT INTO table1 (id, field1) VALUES (3, 'reused key')"
pump1 v1 "$F1"
check1
n=$(h_psql -At -c "SELECT count(*) FROM dbz_log WHERE topic = '$T1' AND v IS NULL")
[ "$n" -gt 30 ] || h_fail "too few tombstones ($n)"
h_log "identity FULL: updates with before, deletes, key changes"

# --- redelivery: a connector restart replays the last events of each partition --
last=${PUMPED[$T1]}
PUMPED[$T1]=$(h_psql -At -c "SELECT min(seq) - 1 FROM dbz_log WHERE topic = '$T1' AND seq > $last - 150")
h_psql -At -c "SELECT count(*) FROM dbz_log WHERE topic = '$T1' AND seq > ${PUMPED[$T1]}" |
    grep -qx 150 || h_fail "replay: not 150 events"
pump1 v1 "$F1"
# markers behind the replay in every partition: once they are in, so is the replay
change "INSERT INTO table1 (id, field1) VALUES (7000, 'marker'), (7001, 'marker'), (7002, 'marker')"
pump1 v1 "$F1"
check1
# ... and once more, replaying a suffix that ends with creates and updates.
change "INSERT INTO table1 (id, field1) VALUES (4001, 'r1'), (4002, 'r1'), (4003, 'r1')"
change "UPDATE table1 SET field1 = 'r2' WHERE id > 4000"
pump1 v1 "$F1"
PUMPED[$T1]=$(h_psql -At -c "SELECT max(seq) - 6 FROM dbz_log WHERE topic = '$T1'")
pump1 v1 "$F1"
change "DELETE FROM table1 WHERE id BETWEEN 7000 AND 7002"
pump1 v1 "$F1"
check1
h_log "redelivered events leave the results as they were"

# --- truncate ------------------------------------------------------------------
change "TRUNCATE table1"
pump1 v1 "$F1"
check1
[ "$(q -c 'SELECT count(*) FROM kafka_repl')" = 0 ] || h_fail "TRUNCATE left rows"
change "INSERT INTO table1 SELECT g, 'after truncate ' || (g % 3), g, NULL, NULL, NULL, NULL, NULL, 'n' FROM generate_series(1, 30) g"
pump1 v1 "$F1"
check1
h_log "truncate empties the source; later creates land"

# --- a table without primary key: null keys, a bag ------------------------------
[ "$(curl -s "$H_CSR_URL/subjects" | jq -c "map(select(startswith(\"$T2\")))")" = "[\"$T2-value\"]" ] ||
    h_fail "table2 has a key subject: $(curl -s "$H_CSR_URL/subjects")"
q -c "CREATE SOURCE kafka_repl2
  FROM KAFKA CONNECTION kafka_connection (TOPIC '$T2')
  FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr_connection
  ENVELOPE DEBEZIUM" >/dev/null || h_fail "CREATE SOURCE kafka_repl2 failed"
check2
change "INSERT INTO table2 VALUES (1, 'x'), (3, 'z')"
change "UPDATE table2 SET b = 'y' WHERE a = 1 AND ctid = (SELECT min(ctid) FROM table2 WHERE a = 1)"
change "DELETE FROM table2 WHERE ctid = (SELECT max(ctid) FROM table2 WHERE a = 1 AND b = 'x')"
change "UPDATE table2 SET a = 20 WHERE a = 2"
change "DELETE FROM table2 WHERE a IS NULL"
pump2
check2
same "SELECT a, b, count(*) FROM kafka_repl2 GROUP BY a, b ORDER BY a, b" \
    "SELECT a, b, count(*) FROM table2 GROUP BY a, b ORDER BY a, b"
# a truncate has no key: nothing orders it against the other partitions (as
# with Debezium), so it is consumed before the next inserts are produced
change "TRUNCATE table2"
pump2
check2
change "INSERT INTO table2 VALUES (5, 'five'), (5, 'five')"
pump2
check2
h_log "keyless table: duplicates rows kept as a bag, truncate"

# --- a truncate among the start contents (one partition: ordered) ----------------
h_psql <<'SQL' >/dev/null
CREATE TABLE table3 (id int PRIMARY KEY, field1 text);
INSERT INTO table3 SELECT g, 'old ' || g FROM generate_series(1, 3000) g;
SELECT dbz_snapshot('table3');
CREATE TRIGGER dbz AFTER INSERT OR UPDATE OR DELETE ON table3 FOR EACH ROW EXECUTE FUNCTION dbz_capture();
CREATE TRIGGER dbz_t AFTER TRUNCATE ON table3 FOR EACH STATEMENT EXECUTE FUNCTION dbz_capture();
TRUNCATE table3;
INSERT INTO table3 SELECT g, 'new ' || g FROM generate_series(2990, 3010) g;
UPDATE table3 SET field1 = 'updated' WHERE id % 2 = 0;
DELETE FROM table3 WHERE id > 3005;
TRUNCATE table3;
INSERT INTO table3 SELECT g, 'last ' || g FROM generate_series(1, 5) g;
UPDATE table3 SET id = 100 WHERE id = 5;
SQL
pump3
q -c "CREATE SOURCE kafka_repl3 FROM KAFKA CONNECTION kafka_connection (TOPIC '$T3')
      FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION csr_connection ENVELOPE DEBEZIUM" \
    >/dev/null || h_fail "CREATE SOURCE kafka_repl3 failed"
got=$(q -c "SELECT id, field1 FROM kafka_repl3 ORDER BY id" | paste -sd' ')
[ "$got" = "1|last 1 2|last 2 3|last 3 4|last 4 100|last 5" ] ||
    h_fail "truncates among the start contents: [$got]"
consumed "$T3" kafka_repl3
same "SELECT id, field1 FROM kafka_repl3 ORDER BY id" "SELECT id, field1 FROM table3 ORDER BY id"
h_log "truncates among the start contents apply in order"

# --- schema evolution after CREATE SOURCE ---------------------------------------
h_psql -c "ALTER TABLE table1 ADD COLUMN extra int DEFAULT 7" >/dev/null
change "INSERT INTO table1 (id, field1, note, extra) VALUES (50, 'v2', 'with extra', 8), (51, 'v2', NULL, NULL)"
change "UPDATE table1 SET amount = 0.5, note = 'v2 update' WHERE id BETWEEN 1 AND 5"
pump1 v2 "$F2" # a new version, adding a field with a default
[ "$(curl -s "$H_CSR_URL/subjects/$T1-value/versions")" = "[1,2]" ] ||
    h_fail "no second version of $T1-value: $(curl -s "$H_CSR_URL/subjects/$T1-value/versions")"
check1
change "UPDATE table1 SET field1 = 'old writer' WHERE id BETWEEN 6 AND 8"
pump1 v1 "$F1" # the old writer again
change "INSERT INTO table1 (id, field1, amount, note) VALUES (52, 'v2 again', 2.5, 'kept')"
pump1 v2 "$F2"
check1
h_log "evolution: a field added with a default, mixed with the old writer"

# Removing the optional field note: rows written without it read note NULL.
h_psql -c "DROP VIEW table1_expect; CREATE TABLE note_shadow AS SELECT id, note FROM table1" >/dev/null
drop_seq=$(h_psql -At -c "SELECT coalesce(max(seq), 0) FROM dbz_log")
h_psql -c "ALTER TABLE table1 DROP COLUMN note" >/dev/null
h_psql -c "CREATE VIEW table1_expect AS SELECT t.id, t.field1, t.amount, t.d, t.ts, t.flag, t.u, t.j,
    CASE WHEN EXISTS (SELECT FROM dbz_log l WHERE l.seq > $drop_seq AND l.topic = '$T1'
                      AND (l.k->>'id')::int = t.id) THEN NULL ELSE s.note END AS note
    FROM table1 t LEFT JOIN note_shadow s USING (id)" >/dev/null
change "UPDATE table1 SET field1 = 'v3' WHERE id IN (1, 2, 3, 9, 10)"
change "INSERT INTO table1 (id, field1, extra) VALUES (53, 'v3', 9)"
pump1 v3 "$F3"
[ "$(curl -s "$H_CSR_URL/subjects/$T1-value/versions")" = "[1,2,3]" ] ||
    h_fail "no third version of $T1-value"
change "UPDATE table1 SET field1 = 'v1 after drop' WHERE id IN (11, 12)"
pump1 v1 "$F1"
change "UPDATE table1 SET field1 = 'v2 after drop' WHERE id IN (13, 14)"
pump1 v2 "$F2"
change "DELETE FROM table1 WHERE id IN (4, 5)"
change "UPDATE table1 SET id = 5000 WHERE id = 6"
pump1 v3 "$F3"
check1
[ "$(q -c "SELECT note FROM kafka_repl WHERE id = 52")" = kept ] ||
    h_fail "a row untouched since the drop lost its note"
[ "$(q -c "SELECT count(*) FROM kafka_repl WHERE id IN (1, 9, 53, 5000) AND note IS NULL")" = 4 ] ||
    h_fail "rows written without note do not read it as NULL"
# The columns are still the ones fixed at CREATE SOURCE.
got=$(q -c "SELECT column_name FROM information_schema.columns WHERE table_name = 'kafka_repl'
            ORDER BY ordinal_position" | paste -sd,)
[ "$got" = "$F1" ] || h_fail "kafka_repl's columns changed: $got"
h_log "evolution: an optional field removed, mixed with both older writers"

# --- status and the end ------------------------------------------------------------
[ "$(q -c "SELECT status, error IS NULL FROM mz_internal.mz_source_statuses WHERE name = 'kafka_repl'")" = "running|t" ] ||
    h_fail "status: $(q -c "SELECT * FROM mz_internal.mz_source_statuses")"
h_sluiced_stop 10 || h_fail "sluiced exited non-zero"
echo "083 kafka debezium avro passed"
