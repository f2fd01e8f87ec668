# Test harness for integration tests: throwaway PostgreSQL 15, Kafka (mock
# cluster) and sluiced, torn down when the test exits, whatever happens.
#
# Usage, from a test script run by ctest (which sets SLUICE_BUILD_DIR):
#   . "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"
#   h_pg_start            # exports H_PG_PORT, H_PG_DSN, PGHOST/PGPORT/PGUSER
#   h_pg_restart          # the same PostgreSQL stopped and started again
#   h_pg_start_other [-c name=value ...]  # a second cluster; exports H_PG_OTHER_PORT
#   h_kafka_start [topic:parts ...]   # exports H_KAFKA_BROKERS
#   h_csr_start [--user U --password P] [--delay-ms N]  # schema registry; exports H_CSR_URL
#   h_kafka_produce TOPIC [options]   # stdin's lines into TOPIC (sluice-kafka-produce)
#   h_kafka_ends TOPIC                # "partition|end offset" lines (kcat -Q)
#   h_sluiced_start [flags...]        # exports H_SLUICED_PORT, H_SLUICED_PID, H_SLUICED_LOG
#   h_sluiced_stop [secs]             # SIGTERM; h_sluiced_start again reuses the data dir
#   h_sluice_q / h_pg_q -c SQL        # psql -At against sluiced / PostgreSQL
#   h_wait_for SQL WANT [secs]        # polls sluiced until SQL prints WANT (H_POLL_SECS, 15 s)
#   h_same_as_pg SQL [PG_SQL [secs]]  # polls until sluiced and PostgreSQL answer alike
#   h_fail "message"      # prints the message and the collected logs, exits 1
# Every service's log is printed if the test exits non-zero.
set -euo pipefail

: "${SLUICE_BUILD_DIR:?SLUICE_BUILD_DIR must point at the build directory}"
: "${SLUICE_SOURCE_DIR:?SLUICE_SOURCE_DIR must point at the source tree}"

H_PGBIN=${H_PGBIN:-/usr/lib/postgresql/15/bin}
H_TMP=$(mktemp -d "${TMPDIR:-/tmp}/${H_TMP_PREFIX:-sluice-test}.XXXXXX")
chmod 755 "$H_TMP"
H_PIDS=()
H_LOGS=()
H_PG_DATA=
H_PG_DATAS=() # every cluster started, stopped at teardown

h_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Runs a command as the unprivileged PostgreSQL user when we are root
# (PostgreSQL refuses to run as root), as ourselves otherwise.
h_as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

h_freeport() { "$SLUICE_BUILD_DIR/tests/harness/sluice-freeport"; }

h_dump_logs() {
    local f
    for f in "${H_LOGS[@]}"; do
        [ -f "$f" ] || continue
        echo "----- $f (last 60 lines) -----" >&2
        tail -n 60 "$f" >&2 || true
    done
}

h_teardown() {
    local rc=$?
    set +e
    [ "$rc" -ne 0 ] && h_dump_logs
    local p
    for p in "${H_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${H_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    local d
    for d in "${H_PG_DATAS[@]}"; do
        [ -f "$d/postmaster.pid" ] &&
            h_as_pg "$H_PGBIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1
    done
    rm -rf "$H_TMP"
    exit "$rc"
}
trap h_teardown EXIT
trap 'exit 130' INT TERM

h_fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# Waits until a TCP port accepts connections, up to $2 seconds (default 20).
h_wait_port() {
    local port=$1 secs=${2:-20} i
    for ((i = 0; i < secs * 20; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    return 1
}

# Creates and starts a PostgreSQL 15 cluster in $H_TMP/NAME on a free port
# with wal_level=logical; extra arguments are server options appended
# after the defaults (so "-c wal_level=replica" overrides). Sets H__PORT,
# H__OPTS (the server options, for a restart) and H__LOG.
h__pg_cluster() {
    local name=$1
    shift
    local data=$H_TMP/$name sock=$H_TMP/$name.sock log=$H_TMP/$name.log
    mkdir -p "$data" "$sock"
    touch "$log"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$data" "$sock" "$log"
    H_LOGS+=("$log")
    H_PG_DATAS+=("$data")
    h_as_pg "$H_PGBIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$H_TMP/$name.initdb.log" 2>&1 ||
        { cat "$H_TMP/$name.initdb.log" >&2; h_fail "initdb failed"; }
    local try
    for try in 1 2 3 4 5; do
        H__PORT=$(h_freeport)
        H__OPTS="-c port=$H__PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$sock \
             -c wal_level=logical -c max_replication_slots=32 -c max_wal_senders=32 \
             -c max_connections=200 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c timezone=UTC -c log_min_messages=warning $*"
        H__LOG=$log
        if h_as_pg "$H_PGBIN/pg_ctl" -D "$data" -l "$log" -w -t 30 start -o "$H__OPTS" \
            >/dev/null 2>&1; then
            return 0
        fi
    done
    h_fail "PostgreSQL ($name) did not start"
}

# Starts PostgreSQL 15 with wal_level=logical on a free port.
h_pg_start() {
    H_PG_DATA=$H_TMP/pg
    h__pg_cluster pg
    H_PG_PORT=$H__PORT H_PG_OPTS=$H__OPTS H_PG_LOG=$H__LOG
    export H_PG_PORT
    export PGHOST=127.0.0.1 PGPORT=$H_PG_PORT PGUSER=postgres PGDATABASE=postgres
    export H_PG_DSN="host=127.0.0.1 port=$H_PG_PORT user=postgres dbname=postgres"
    h_log "postgres on 127.0.0.1:$H_PG_PORT"
}

# Restarts the harness PostgreSQL (same port and settings; -m fast).
h_pg_restart() {
    h_as_pg "$H_PGBIN/pg_ctl" -D "$H_PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        h_fail "PostgreSQL did not stop"
    h_as_pg "$H_PGBIN/pg_ctl" -D "$H_PG_DATA" -l "$H_PG_LOG" -w -t 30 start \
        -o "$H_PG_OPTS" >/dev/null 2>&1 || h_fail "PostgreSQL did not restart"
}

# Starts a second PostgreSQL cluster, for a test that needs other server
# settings (e.g. h_pg_start_other -c wal_level=replica); arguments are
# server options applied after the defaults. Exports H_PG_OTHER_PORT (user
# postgres, trust); the PG* variables keep pointing at h_pg_start's.
h_pg_start_other() {
    h__pg_cluster pg-other "$@"
    H_PG_OTHER_PORT=$H__PORT
    export H_PG_OTHER_PORT
    h_log "other postgres on 127.0.0.1:$H_PG_OTHER_PORT ($*)"
}

# Drops replication slot $1 from under its consumer, which may reconnect
# at once: its walsender is terminated and the slot dropped the moment it
# is inactive, polling every millisecond inside one DO block.
h_pg_drop_slot() {
    h_psql -c "DO \$\$ DECLARE p int; BEGIN
        FOR i IN 1..5000 LOOP
            SELECT active_pid INTO p FROM pg_replication_slots WHERE slot_name = '$1';
            IF NOT FOUND THEN RAISE EXCEPTION 'no slot $1'; END IF;
            IF p IS NULL THEN
                PERFORM pg_drop_replication_slot('$1');
                RETURN;
            END IF;
            PERFORM pg_terminate_backend(p);
            PERFORM pg_sleep(0.001);
        END LOOP;
        RAISE EXCEPTION 'could not drop slot $1';
    END \$\$" >/dev/null || h_fail "could not drop slot $1"
}

# psql against the harness PostgreSQL: quiet, stops at the first error.
h_psql() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$H_PG_PORT" -U postgres postgres "$@"; }

# Starts a service that prints its address as its first line: runs "$@"
# in the background (stdin /dev/null, stderr to LOG, stdout next to it as
# .out; killed at teardown) and waits up to 10 s for that line. Sets
# H__LINE to it (empty if none came). Usage: h__start_printing LOG CMD...
h__start_printing() {
    local log=$1 out=${1%.log}.out i
    shift
    H_LOGS+=("$log")
    "$@" </dev/null >"$out" 2>"$log" &
    H_PIDS+=($!)
    for ((i = 0; i < 200; i++)); do
        [ -s "$out" ] && break
        sleep 0.05
    done
    H__LINE=$(head -n1 "$out")
}

# Starts the Kafka mock; arguments are topics to create (name[:partitions]).
h_kafka_start() {
    local t args=()
    for t in "$@"; do args+=(--topic "$t"); done
    h__start_printing "$H_TMP/kafka.log" "$SLUICE_BUILD_DIR/tests/harness/sluice-kafka-mock" \
        "${args[@]}"
    H_KAFKA_BROKERS=$H__LINE
    [ -n "$H_KAFKA_BROKERS" ] || h_fail "Kafka mock did not print its address"
    export H_KAFKA_BROKERS
    h_log "kafka mock at $H_KAFKA_BROKERS"
}

# Starts the schema registry fixture (sluice-csr-fixture) on an ephemeral
# port; arguments are passed through (--user U --password P to require
# HTTP Basic auth, --delay-ms N to delay every response). Requests are
# logged. Exports H_CSR_URL (http://127.0.0.1:PORT, no trailing slash).
h_csr_start() {
    h__start_printing "$H_TMP/csr.$RANDOM.log" "$SLUICE_BUILD_DIR/tests/harness/sluice-csr-fixture" \
        --verbose "$@"
    H_CSR_URL=$H__LINE
    [ -n "$H_CSR_URL" ] || h_fail "schema registry fixture did not print its URL"
    export H_CSR_URL
    h_log "schema registry fixture at $H_CSR_URL"
}

# grep over a string: h_grep "$out" -q PATTERN. Unlike `echo "$out" | grep
# -q`, it cannot fail for SIGPIPE under pipefail when grep exits at the
# first match before echo is done writing.
h_grep() {
    local text=$1
    shift
    grep "$@" <<<"$text"
}

# Writes stdin's lines to Kafka topic $1 with sluice-kafka-produce (further
# arguments are its options); if it fails, its stderr is shown and the test
# fails.
h_kafka_produce() {
    local t=$1
    shift
    "$SLUICE_BUILD_DIR/tests/harness/sluice-kafka-produce" -b "$H_KAFKA_BROKERS" -t "$t" "$@" \
        2>"$H_TMP/produce.err" || { cat "$H_TMP/produce.err" >&2; h_fail "producing to $t failed"; }
}

# Prints "partition|end offset" (the high watermark) for each partition of
# topic $1 of the Kafka mock, as a Kafka source's progress relation shows it
# once everything is read.
h_kafka_ends() {
    local parts p args=()
    parts=$(timeout 30 kcat -L -b "$H_KAFKA_BROKERS" -t "$1" | grep -c '^ *partition [0-9]*,') ||
        h_fail "no partitions for topic $1"
    for ((p = 0; p < parts; p++)); do args+=(-t "$1:$p:-1"); done
    timeout 30 kcat -Q -b "$H_KAFKA_BROKERS" "${args[@]}" |
        sed -n 's/^.* \[\([0-9]*\)\] offset \([0-9]*\)$/\1|\2/p' | sort -n
}

# Starts sluiced on a free port with a temporary data dir; extra flags are
# passed through. Waits until it accepts connections.
h_sluiced_start() {
    H_SLUICED_LOG=$H_TMP/sluiced.$RANDOM.log
    H_LOGS+=("$H_SLUICED_LOG")
    local try
    for try in 1 2 3; do
        H_SLUICED_PORT=$(h_freeport)
        "$SLUICE_BUILD_DIR/sluiced" --listen "127.0.0.1:$H_SLUICED_PORT" \
            --data-dir "$H_TMP/sluice-data" "$@" >>"$H_SLUICED_LOG" 2>&1 &
        H_SLUICED_PID=$!
        H_PIDS+=("$H_SLUICED_PID")
        if h_wait_port "$H_SLUICED_PORT" 30; then
            export H_SLUICED_PORT H_SLUICED_PID H_SLUICED_LOG
            h_log "sluiced (pid $H_SLUICED_PID) on 127.0.0.1:$H_SLUICED_PORT"
            return 0
        fi
        kill -0 "$H_SLUICED_PID" 2>/dev/null && kill -KILL "$H_SLUICED_PID"
    done
    h_fail "sluiced did not start accepting connections"
}

# psql against sluiced.
h_sluice_psql() {
    psql -X -q -h 127.0.0.1 -p "$H_SLUICED_PORT" -U materialize materialize "$@"
}

# Unaligned, tuples-only queries for comparisons: h_sluice_q against
# sluiced (stops at the first error), h_pg_q against the harness
# PostgreSQL. NULL prints as $H_PSQL_NULL (default: empty, psql's own).
h_sluice_q() { h_sluice_psql -X -At -v ON_ERROR_STOP=1 -P "null=${H_PSQL_NULL:-}" "$@"; }
h_pg_q() { h_psql -X -At -P "null=${H_PSQL_NULL:-}" "$@"; }

# h_wait_for SQL WANT [SECS]: polls sluiced until SQL prints WANT
# (h_sluice_q), for up to SECS seconds (default $H_POLL_SECS, else 15);
# fails the test with the last answer (or error) otherwise.
h_wait_for() {
    local secs=${3:-${H_POLL_SECS:-15}}
    local sql=$1 want=$2 deadline=$((SECONDS + secs)) got=''
    while :; do
        got=$(h_sluice_q -c "$sql" 2>&1) && [ "$got" = "$want" ] && return 0
        [ "$SECONDS" -ge "$deadline" ] && break
        sleep 0.05
    done
    h_fail "waited ${secs}s for [$sql] = [$want], got [$got]"
}

# h_same_as_pg SQL [PG_SQL [SECS]]: polls until sluiced's answer to SQL
# equals PostgreSQL's to PG_SQL (default: SQL itself), for up to SECS
# seconds (as h_wait_for); fails the test with a diff otherwise.
h_same_as_pg() {
    local secs=${3:-${H_POLL_SECS:-15}}
    local sql=$1 pg_sql=${2:-$1} deadline=$((SECONDS + secs)) a='' b=''
    while :; do
        a=$(h_sluice_q -c "$sql" 2>&1) || true
        b=$(h_pg_q -c "$pg_sql" 2>&1) || true
        [ "$a" = "$b" ] && return 0
        [ "$SECONDS" -ge "$deadline" ] && break
        sleep 0.05
    done
    diff <(echo "$a") <(echo "$b") >&2 || true
    h_fail "sluice [$sql] differs from postgres [$pg_sql] (diff above: < sluice, > postgres)"
}

# Sends SIGTERM to sluiced and waits up to $1 seconds (default 5) for it to
# exit; returns its exit status (or fails the test if it did not stop).
h_sluiced_stop() {
    local secs=${1:-5} i
    kill -TERM "$H_SLUICED_PID"
    for ((i = 0; i < secs * 20; i++)); do
        kill -0 "$H_SLUICED_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$H_SLUICED_PID" 2>/dev/null && h_fail "sluiced did not stop within ${secs}s of SIGTERM"
    local rc=0
    wait "$H_SLUICED_PID" || rc=$?
    return "$rc"
}
