#!/usr/bin/env bash
# Kafka sources without Debezium, against the harness Kafka: FORMAT TEXT,
# BYTES and JSON with ENVELOPE NONE (append-only: duplicates kept, null
# values skipped, the empty value kept; `text`, `data` columns), KEY FORMAT
# TEXT VALUE FORMAT JSON ENVELOPE UPSERT (the latest value per key, a null
# value deletes; columns key, data) over three partitions, START OFFSET
# skipping messages per partition, the progress relations' offsets per
# partition (against kcat), SHOW SOURCES, the status and statistics rows
# (messages and bytes against kcat's count), DROP SOURCE (with and without
# CASCADE; its progress relation goes with it; the name is reusable), and
# a restart of sluiced on the same data dir: the catalog is replayed, the
# topics are read again (with what was produced while it was down) and
# every answer is the same. The expected rows are the same data loaded
# into PostgreSQL (text and bytea from the same hex, jsonb from the same
# JSON text, the upserts applied with INSERT ... ON CONFLICT / DELETE).
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"

h_pg_start
h_kafka_start f_text:1 f_bytes:1 f_json:2 f_upsert:3 f_offs:2
h_sluiced_start
H_PSQL_NULL=NULL
q() { h_sluice_q "$@"; }
qe() { h_sluice_psql -X -At -v VERBOSITY=verbose -c "$1" 2>&1 || true; } # an expected error
pg() { h_psql -c "$@" >/dev/null; }
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
# produce TOPIC [producer options]: the input lines on stdin.
produce() { h_kafka_produce "$@"; }
# kcat_stats TOPIC: "messages|bytes" (keys and values; null ones count 0).
kcat_stats() {
    timeout 30 kcat -C -b "$H_KAFKA_BROKERS" -t "$1" -o beginning -e -q -f '%K %S\n' |
        awk '{ n++; b += ($1 > 0 ? $1 : 0) + ($2 > 0 ? $2 : 0) } END { printf "%d|%d", n, b }'
}
q -c "CREATE CONNECTION kc TO KAFKA (BROKER '$H_KAFKA_BROKERS')" >/dev/null

# --- FORMAT TEXT -----------------------------------------------------------------------
texts=(hello hello "ünïcödé 🎉 and 'quotes'" "" $'tab\there\nnewline' "$(printf 'x%.0s' {1..5000})")
pg "CREATE TABLE exp_text (text text)"
: >"$H_TMP/text.in"
for s in "${texts[@]}"; do
    printf 'null\t%s\n' "$(hex "$s")" >>"$H_TMP/text.in"
    pg "INSERT INTO exp_text VALUES (convert_from(decode('$(hex "$s")', 'hex'), 'UTF8'))"
done
printf 'null\tnull\n' >>"$H_TMP/text.in" # a null value: nothing to append
produce f_text --format raw <"$H_TMP/text.in"
q -c "CREATE SOURCE txt FROM KAFKA CONNECTION kc (TOPIC 'f_text') FORMAT TEXT" >/dev/null ||
    h_fail "CREATE SOURCE FORMAT TEXT failed"
TXT="SELECT text, length(text), octet_length(text) FROM"
h_same_as_pg "$TXT txt ORDER BY 1" "$TXT exp_text ORDER BY 1"
[ "$(q -c "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'txt'")" = "text|text" ] ||
    h_fail "FORMAT TEXT's column"
h_log "FORMAT TEXT: ${#texts[@]} values, duplicates and the empty one kept"

# --- FORMAT BYTES (ENVELOPE NONE spelled out) --------------------------------------------
pg "CREATE TABLE exp_bytes (data bytea)"
: >"$H_TMP/bytes.in"
for h in 00 ff00ff "" deadbeef 00 c328 "$(hex 'plain')"; do
    printf 'null\t%s\n' "$h" >>"$H_TMP/bytes.in"
    pg "INSERT INTO exp_bytes VALUES (decode('$h', 'hex'))"
done
produce f_bytes --format raw <"$H_TMP/bytes.in"
q -c "CREATE SOURCE byt FROM KAFKA CONNECTION kc (TOPIC 'f_bytes') FORMAT BYTES ENVELOPE NONE" \
    >/dev/null || h_fail "CREATE SOURCE FORMAT BYTES failed"
h_same_as_pg "SELECT data, length(data) FROM byt ORDER BY 1" \
    "SELECT data, length(data) FROM exp_bytes ORDER BY 1"

# --- FORMAT JSON over two partitions ------------------------------------------------------
pg "CREATE TABLE exp_json (data jsonb)"
docs=('{"id": 1, "a": "x"}' '[1, 2, {"b": null}]' '"a string"' '42' '1.5e3' 'true'
    '{"b": 2, "a": 1, "a": 3}' '{"nested": {"u": "\u00e9\ud83c\udf89", "n": 12345678901234567890.5}}'
    '  {"spaces" :  [ ] , "e": {}}  ')
: >"$H_TMP/json.in"
i=0
for d in "${docs[@]}"; do
    printf '@%d\tnull\t%s\n' $((i++ % 2)) "$d" >>"$H_TMP/json.in"
    pg "INSERT INTO exp_json VALUES (\$j\$$d\$j\$)"
done
printf '@1\tnull\t%s\n' 6e756c6c >"$H_TMP/jnull.in" # the JSON null literal, not a null value
produce f_json <"$H_TMP/json.in"
produce f_json --format raw <"$H_TMP/jnull.in"
pg "INSERT INTO exp_json VALUES ('null')"
q -c "CREATE SOURCE jsn FROM KAFKA CONNECTION kc (TOPIC 'f_json') FORMAT JSON" >/dev/null ||
    h_fail "CREATE SOURCE FORMAT JSON failed"
JS="SELECT data::text, data->>'a', data->'nested'->>'u', data IS NULL FROM"
h_same_as_pg "$JS jsn ORDER BY 1" "$JS exp_json ORDER BY 1"
h_log "FORMAT BYTES and JSON: as PostgreSQL reads the same bytes"

# --- KEY FORMAT TEXT VALUE FORMAT JSON ENVELOPE UPSERT over three partitions --------------
pg "CREATE TABLE exp_upsert (key text PRIMARY KEY, data jsonb)"
# upsert KEY VALUE...: produces the pairs and applies them to exp_upsert.
upsert() {
    local k v sql=''
    : >"$H_TMP/upsert.in"
    while [ $# -gt 0 ]; do
        k=$1 v=$2
        shift 2
        printf '%s\t%s\n' "$k" "$v" >>"$H_TMP/upsert.in"
        if [ "$v" = null ]; then
            sql+="DELETE FROM exp_upsert WHERE key = \$k\$$k\$k\$;"
        else
            sql+="INSERT INTO exp_upsert VALUES (\$k\$$k\$k\$, \$j\$$v\$j\$)
                  ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data;"
        fi
    done
    produce f_upsert --no-check <"$H_TMP/upsert.in"
    pg "$sql"
}
upsert k1 '{"v": 1}' k2 '{"v": 2}' k3 '{"v": 3}' k1 '{"v": 10}' k2 null k4 '{"v": [4]}' \
    k3 '{"v": 3}' k5 null 'ü key' '{"v": "unicode key"}' '' '{"v": "empty key"}' k6 '{}' k6 null
q -c "CREATE SOURCE ups FROM KAFKA CONNECTION kc (TOPIC 'f_upsert')
      KEY FORMAT TEXT VALUE FORMAT JSON ENVELOPE UPSERT" >/dev/null ||
    h_fail "CREATE SOURCE ENVELOPE UPSERT failed"
UPS="SELECT key, data::text FROM"
h_same_as_pg "$UPS ups ORDER BY 1" "$UPS exp_upsert ORDER BY 1"
[ "$(q -c "SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY column_name || ':' || data_type) FROM information_schema.columns WHERE table_name = 'ups'")" = "data:jsonb,key:text" ] ||
    h_fail "UPSERT's columns"
upsert k1 '{"v": 11}' k4 null k7 '{"v": 7}' k1 '{"v": 12}' k2 '{"v": "back"}'
h_same_as_pg "$UPS ups ORDER BY 1" "$UPS exp_upsert ORDER BY 1"
h_log "ENVELOPE UPSERT: the latest value per key, as in PostgreSQL"

# --- START OFFSET ------------------------------------------------------------------------
: >"$H_TMP/offs.in"
for i in 0 1 2 3 4; do printf '@0\tnull\t"p0-%d"\n' "$i" >>"$H_TMP/offs.in"; done
for i in 0 1 2 3; do printf '@1\tnull\t"p1-%d"\n' "$i" >>"$H_TMP/offs.in"; done
produce f_offs <"$H_TMP/offs.in"
q -c "CREATE SOURCE offs FROM KAFKA CONNECTION kc (TOPIC 'f_offs', START OFFSET (2, 3))
      FORMAT JSON" >/dev/null || h_fail "START OFFSET (2, 3) failed"
q -c "CREATE SOURCE offs1 FROM KAFKA CONNECTION kc (TOPIC 'f_offs', START OFFSET (4)) FORMAT JSON" \
    >/dev/null || h_fail "START OFFSET (4) failed"
[ "$(q -c "SELECT string_agg(data #>> '{}', ',' ORDER BY data #>> '{}') FROM offs")" = "p0-2,p0-3,p0-4,p1-3" ] ||
    h_fail "START OFFSET (2, 3): [$(q -c 'SELECT data FROM offs')]"
[ "$(q -c "SELECT string_agg(data #>> '{}', ',' ORDER BY data #>> '{}') FROM offs1")" = "p0-4,p1-0,p1-1,p1-2,p1-3" ] ||
    h_fail "START OFFSET (4): [$(q -c 'SELECT data FROM offs1')]"
printf '@0\tnull\t"p0-5"\n@1\tnull\t"p1-4"\n' | produce f_offs
h_wait_for "SELECT count(*) FROM offs" 6
h_log "START OFFSET: earlier messages skipped per partition"

# --- progress, SHOW SOURCES, statuses, statistics -------------------------------------------
for s in txt:f_text byt:f_bytes jsn:f_json ups:f_upsert offs:f_offs offs1:f_offs; do
    h_wait_for "SELECT partition, \"offset\" FROM ${s%%:*}_progress ORDER BY 1" "$(h_kafka_ends "${s#*:}")"
done
[ "$(q -c "SELECT count(*) FROM ups_progress")" = 3 ] || h_fail "ups_progress rows"
all="byt jsn offs offs1 txt ups"
want=''
for s in $all; do want+="$s|kafka|3xsmall"$'\n'"${s}_progress|progress|NULL"$'\n'; done
got=$(q -c "SHOW SOURCES" | sort)
[ "$got" = "$(printf '%s' "$want" | sort)" ] || h_fail "SHOW SOURCES: [$got]"
h_wait_for "SELECT string_agg(name || ':' || type || ':' || status, ',' ORDER BY name || ':' || type || ':' || status)
            FROM mz_internal.mz_source_statuses WHERE error IS NULL AND name NOT LIKE '%progress'" \
    "byt:kafka:running,jsn:kafka:running,offs1:kafka:running,offs:kafka:running,txt:kafka:running,ups:kafka:running"
for s in txt:f_text byt:f_bytes jsn:f_json ups:f_upsert; do
    st=$(kcat_stats "${s#*:}")
    h_wait_for "SELECT messages_received, bytes_received, offset_committed = messages_received,
                       updates_committed > 0, rehydration_latency IS NOT NULL
                FROM mz_internal.mz_source_statistics WHERE name = '${s%%:*}'" "$st|t|t|t"
done
h_log "progress, SHOW SOURCES, statuses and statistics as expected"

# --- DROP SOURCE ---------------------------------------------------------------------------
q -c "CREATE VIEW txt_len AS SELECT sum(length(text)) AS n FROM txt" >/dev/null
out=$(qe "DROP SOURCE txt")
case "$out" in *2BP01*depend*) ;; *) h_fail "DROP SOURCE with a dependent view: [$out]" ;; esac
q -c "DROP SOURCE byt" >/dev/null || h_fail "DROP SOURCE byt failed"
out=$(qe "SELECT * FROM byt_progress")
case "$out" in *42P01*) ;; *) h_fail "byt_progress after DROP SOURCE: [$out]" ;; esac
h_grep "$(q -c "SHOW SOURCES")" -q '^byt' && h_fail "byt still shown after DROP SOURCE"
[ -z "$(q -c "SELECT name FROM mz_internal.mz_source_statuses WHERE name LIKE 'byt%'")" ] ||
    h_fail "byt still has a status after DROP SOURCE"
h_log "DROP SOURCE: the source and its progress relation gone"

# --- restart: the catalog replayed, the topics read again ----------------------------------
QUERIES=("$TXT txt ORDER BY 1" "$JS jsn ORDER BY 1" "$UPS ups ORDER BY 1"
    "SELECT data::text FROM offs ORDER BY 1" "SELECT data::text FROM offs1 ORDER BY 1"
    "SELECT n FROM txt_len" "SELECT partition, \"offset\" FROM ups_progress ORDER BY 1")
for i in "${!QUERIES[@]}"; do q -c "${QUERIES[$i]}" >"$H_TMP/before.$i"; done
h_sluiced_stop 10 || h_fail "sluiced exited non-zero"
upsert k7 null k8 '{"v": "while down"}' k1 '{"v": 13}'
h_sluiced_start
for i in "${!QUERIES[@]}"; do
    got=$(q -c "${QUERIES[$i]}" 2>&1) || true
    case $i in
    2) h_same_as_pg "$UPS ups ORDER BY 1" "$UPS exp_upsert ORDER BY 1" ;;
    6) [ "$got" = "$(h_kafka_ends f_upsert)" ] || h_fail "ups_progress after the restart: [$got]" ;;
    *) [ "$got" = "$(cat "$H_TMP/before.$i")" ] ||
        h_fail "after the restart [${QUERIES[$i]}] gave [$got], before [$(cat "$H_TMP/before.$i")]" ;;
    esac
done
h_same_as_pg "$TXT txt ORDER BY 1" "$TXT exp_text ORDER BY 1"
out=$(qe "SELECT * FROM byt")
case "$out" in *42P01*) ;; *) h_fail "byt came back after the restart: [$out]" ;; esac
q -c "CREATE SOURCE byt FROM KAFKA CONNECTION kc (TOPIC 'f_bytes') FORMAT BYTES" >/dev/null ||
    h_fail "the dropped source's name is not reusable"
h_same_as_pg "SELECT data, length(data) FROM byt ORDER BY 1" \
    "SELECT data, length(data) FROM exp_bytes ORDER BY 1"
h_wait_for "SELECT count(*) FROM mz_internal.mz_source_statuses WHERE status = 'running' AND name NOT LIKE '%progress'" 6
out=$(q -c "DROP SOURCE txt CASCADE" 2>&1)
h_grep "$out" -q "drop cascades to view txt_len" || h_fail "no cascade notice: [$out]"
out=$(qe "SELECT * FROM txt_len")
case "$out" in *42P01*) ;; *) h_fail "txt_len after DROP SOURCE CASCADE: [$out]" ;; esac
h_log "restart: the same answers, messages produced while down included"
h_sluiced_stop 10 || h_fail "sluiced exited non-zero"
