#!/usr/bin/env bash
# CREATE SOURCE ... FROM POSTGRES validation against real upstreams: every
# refusal carries the right SQLSTATE and a clear message (checked through
# psql's verbose errors), and leaves nothing behind: no replication slot
# upstream, nothing in SHOW SOURCES, every name reusable. Covers a missing
# or empty publication, a user without REPLICATION or without SELECT,
# unsupported column types (and TEXT COLUMNS, whose values must equal
# PostgreSQL's text output, snapshot and stream), TEXT COLUMNS naming
# nothing, REPLICA IDENTITY NOTHING, FOR TABLES outside the publication,
# name collisions (subsource, progress relation, source, IF NOT EXISTS),
# an unknown connection, syntax errors with a position, FROM MYSQL, and a
# second cluster with wal_level=replica.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"

h_pg_start
h_pg_start_other -c wal_level=replica
h_psql <<'SQL' >/dev/null
CREATE ROLE dbuser LOGIN PASSWORD 'pw' REPLICATION;
CREATE ROLE norepl LOGIN PASSWORD 'pw';
CREATE TABLE good (id int PRIMARY KEY, v text);
INSERT INTO good VALUES (1, 'one'), (2, 'two');
CREATE TABLE secret (id int PRIMARY KEY, v text);
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE t_arr (id int PRIMARY KEY, tags int[]);
CREATE TABLE t_enum (id int PRIMARY KEY, m mood);
CREATE TABLE t_inet (id int PRIMARY KEY, addr inet);
INSERT INTO t_arr VALUES (1, '{1,2,NULL}'), (2, '{}'), (3, NULL), (4, '{{1,2},{3,4}}');
INSERT INTO t_enum VALUES (1, 'sad'), (2, 'happy'), (3, NULL);
INSERT INTO t_inet VALUES (1, '10.0.0.1/8'), (2, '::1'), (3, '192.168.1.5'), (4, NULL);
CREATE TABLE t_nothing (id int PRIMARY KEY, v text);
ALTER TABLE t_nothing REPLICA IDENTITY NOTHING;
CREATE SCHEMA other;
CREATE TABLE other.good (id int PRIMARY KEY);
GRANT SELECT ON good, t_arr, t_enum, t_inet, t_nothing TO dbuser;
GRANT SELECT ON good TO norepl;
CREATE PUBLICATION pub_good FOR TABLE good;
CREATE PUBLICATION pub_empty;
CREATE PUBLICATION pub_secret FOR TABLE good, secret;
CREATE PUBLICATION pub_types FOR TABLE t_arr, t_enum, t_inet;
CREATE PUBLICATION pub_nothing FOR TABLE good, t_nothing;
SQL
h_sluiced_start

q() { h_sluice_psql -X -At -v ON_ERROR_STOP=1 "$@"; }
slots() { h_psql -X -At -c "SELECT count(*) FROM pg_replication_slots"; }
# Checks that nothing of a failed CREATE SOURCE stayed behind.
nothing_left() {
    local what=$1 got
    got=$(q -c "SHOW SOURCES")
    [ -z "$got" ] || h_fail "$what: left in SHOW SOURCES: [$got]"
    got=$(slots)
    [ "$got" = 0 ] || h_fail "$what: $got replication slot(s) left upstream"
}
# Runs sql against sluice, which must refuse it with SQLSTATE state and a
# message matching pattern (grep -E); prints the whole error.
expect_err() {
    local what=$1 state=$2 pattern=$3 sql=$4 out
    out=$(h_sluice_psql -X -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "$sql" 2>&1) &&
        h_fail "$what: accepted: $out"
    h_grep "$out" -q "^ERROR:  $state: " || h_fail "$what: expected SQLSTATE $state: $out"
    h_grep "$out" -Eq -- "$pattern" || h_fail "$what: message does not match /$pattern/: $out"
    printf '%s\n' "$out"
}
# CREATE SOURCE s1 on connection $1 and publication $2, then the rest.
src_sql() { echo "CREATE SOURCE s1 FROM POSTGRES CONNECTION $1 (PUBLICATION '$2'${4:-}) $3"; }

q -c "CREATE SECRET pgpass AS 'pw'" >/dev/null
q -c "CREATE CONNECTION pg_conn TO POSTGRES (HOST '127.0.0.1', PORT $H_PG_PORT, USER dbuser, PASSWORD SECRET pgpass, DATABASE 'postgres')" >/dev/null
q -c "CREATE CONNECTION pg_norepl TO POSTGRES (HOST '127.0.0.1', PORT $H_PG_PORT, USER norepl, PASSWORD SECRET pgpass, DATABASE 'postgres')" >/dev/null
q -c "CREATE CONNECTION pg_replica TO POSTGRES (HOST '127.0.0.1', PORT $H_PG_OTHER_PORT, USER postgres, PASSWORD SECRET pgpass, DATABASE 'postgres')" >/dev/null
nothing_left "setup"

# --- upstream validation
expect_err "missing publication" 42704 'publication "nope" does not exist' \
    "$(src_sql pg_conn nope 'FOR ALL TABLES')" >/dev/null
nothing_left "missing publication"
expect_err "empty publication" 55000 'publication "pub_empty" has no tables' \
    "$(src_sql pg_conn pub_empty 'FOR ALL TABLES')" >/dev/null
nothing_left "empty publication"
out=$(expect_err "no REPLICATION" 42501 'REPLICATION' "$(src_sql pg_norepl pub_good 'FOR ALL TABLES')")
h_grep "$out" -q '^HINT: .*WITH REPLICATION' || h_fail "no REPLICATION: no hint: $out"
nothing_left "no REPLICATION"
out=$(expect_err "no SELECT" 42501 'may not SELECT from table "public"."secret"' \
    "$(src_sql pg_conn pub_secret 'FOR ALL TABLES')")
h_grep "$out" -q '^HINT: .*GRANT SELECT ON public.secret' || h_fail "no SELECT: no hint: $out"
nothing_left "no SELECT"
# The check is per picked table: picking the unreadable one fails, the
# readable one alone works (below, after the other refusals).
expect_err "no SELECT (picked)" 42501 'secret' \
    "$(src_sql pg_conn pub_secret 'FOR TABLES (secret)')" >/dev/null
nothing_left "no SELECT (picked)"
out=$(expect_err "REPLICA IDENTITY NOTHING" 55000 'REPLICA IDENTITY NOTHING' \
    "$(src_sql pg_conn pub_nothing 'FOR ALL TABLES')")
h_grep "$out" -q 't_nothing' || h_fail "REPLICA IDENTITY NOTHING: table not named: $out"
nothing_left "REPLICA IDENTITY NOTHING"
expect_err "table not in publication" 42P01 'table "nosuch" is not in publication "pub_good"' \
    "$(src_sql pg_conn pub_good 'FOR TABLES (nosuch)')" >/dev/null
nothing_left "table not in publication"
expect_err "table named twice" 42710 'table "public.good" is named twice in FOR TABLES' \
    "$(src_sql pg_conn pub_good 'FOR TABLES (good, public.good AS good2)')" >/dev/null
nothing_left "table named twice"
expect_err "table in another schema" 42P01 'table "other.good" is not in publication' \
    "$(src_sql pg_conn pub_good 'FOR TABLES (other.good)')" >/dev/null
nothing_left "table in another schema"
expect_err "schema without tables" 42704 'no tables in schema "other"' \
    "$(src_sql pg_conn pub_good 'FOR SCHEMAS (other)')" >/dev/null
nothing_left "schema without tables"
expect_err "wal_level replica" 55000 "wal_level is replica, not logical" \
    "$(src_sql pg_replica pub_good 'FOR ALL TABLES')" >/dev/null
nothing_left "wal_level replica"
[ "$(psql -X -At -h 127.0.0.1 -p "$H_PG_OTHER_PORT" -U postgres postgres \
    -c 'SELECT count(*) FROM pg_replication_slots')" = 0 ] || h_fail "slot left on the replica cluster"

# --- unsupported types, one at a time, then TEXT COLUMNS for all three
out=$(expect_err "array column" 0A000 'column "public"."t_arr"."tags" has type integer\[\]' \
    "$(src_sql pg_conn pub_types 'FOR ALL TABLES')")
h_grep "$out" -q '^HINT: .*TEXT COLUMNS (t_arr.tags)' || h_fail "array: no TEXT COLUMNS hint: $out"
nothing_left "array column"
out=$(expect_err "enum column" 0A000 '"t_enum"."m" has type mood' \
    "$(src_sql pg_conn pub_types 'FOR ALL TABLES' ', TEXT COLUMNS (t_arr.tags)')")
h_grep "$out" -q '^HINT: .*TEXT COLUMNS (t_enum.m)' || h_fail "enum: no TEXT COLUMNS hint: $out"
nothing_left "enum column"
out=$(expect_err "inet column" 0A000 '"t_inet"."addr" has type inet' \
    "$(src_sql pg_conn pub_types 'FOR ALL TABLES' ', TEXT COLUMNS (t_arr.tags, public.t_enum.m)')")
h_grep "$out" -q '^HINT: .*TEXT COLUMNS (t_inet.addr)' || h_fail "inet: no TEXT COLUMNS hint: $out"
nothing_left "inet column"
expect_err "TEXT COLUMNS naming no column" 42703 'TEXT COLUMNS names "good.nope"' \
    "$(src_sql pg_conn pub_good 'FOR ALL TABLES' ', TEXT COLUMNS (good.nope)')" >/dev/null
nothing_left "TEXT COLUMNS naming no column"
expect_err "TEXT COLUMNS naming no table" 42703 'TEXT COLUMNS names "nosuch.v"' \
    "$(src_sql pg_conn pub_good 'FOR ALL TABLES' ', TEXT COLUMNS (nosuch.v)')" >/dev/null
nothing_left "TEXT COLUMNS naming no table"
expect_err "TEXT COLUMNS naming a table outside FOR TABLES" 42703 'TEXT COLUMNS names "t_inet.addr"' \
    "$(src_sql pg_conn pub_types 'FOR TABLES (t_arr)' ', TEXT COLUMNS (t_arr.tags, t_inet.addr)')" >/dev/null
nothing_left "TEXT COLUMNS naming a table outside FOR TABLES"

# --- syntax and what is not supported
out=$(expect_err "syntax: FOR" 42601 'syntax error' \
    "CREATE SOURCE s1 FROM POSTGRES CONNECTION pg_conn (PUBLICATION 'pub_good') FOR TABLESS")
h_grep "$out" -q '^LINE 1: ' || h_fail "syntax error without a position: $out"
out=$(expect_err "syntax: option" 42601 'syntax error' \
    "CREATE SOURCE s1 FROM POSTGRES CONNECTION pg_conn (PUBLICATON 'pub_good') FOR ALL TABLES")
h_grep "$out" -q '^LINE 1: ' || h_fail "syntax error without a position: $out"
# psql marks the position with a caret under PUBLICATON.
caret=$(h_grep "$out" -A1 '^LINE 1: ' | tail -n1)
line=$(h_grep "$out" '^LINE 1: ')
[ "${line:$((${#caret} - 1)):10}" = PUBLICATON ] || h_fail "syntax error position: $out"
out=$(expect_err "syntax: trailing" 42601 'syntax error' \
    "CREATE SOURCE s1 FROM POSTGRES CONNECTION pg_conn (PUBLICATION 'pub_good') FOR ALL TABLES WITH (SIZE = '3xsmall') garbage")
h_grep "$out" -q '^LINE 1: ' || h_fail "syntax error without a position: $out"
expect_err "syntax: no publication" 42601 'PUBLICATION' \
    "CREATE SOURCE s1 FROM POSTGRES CONNECTION pg_conn (TEXT COLUMNS (good.v)) FOR ALL TABLES" >/dev/null
expect_err "FROM MYSQL" 0A000 "only PostgreSQL and Kafka sources" \
    "CREATE SOURCE s1 FROM MYSQL CONNECTION m (TOPIC 't')" >/dev/null
expect_err "unknown connection" 42704 "connection 'nosuch'" \
    "$(src_sql nosuch pub_good 'FOR ALL TABLES')" >/dev/null
expect_err "connection of another kind" 42704 "connection 'pgpass'" \
    "$(src_sql pgpass pub_good 'FOR ALL TABLES')" >/dev/null
nothing_left "syntax and unsupported"

# --- name collisions with sluice objects
q -c "CREATE TABLE good (x int)" >/dev/null
out=$(expect_err "subsource name taken" 42710 'an object named "good" already exists' \
    "$(src_sql pg_conn pub_good 'FOR ALL TABLES')")
h_grep "$out" -q '^HINT: .*AS alias' || h_fail "subsource name taken: no hint: $out"
nothing_left "subsource name taken"
[ "$(q -c 'SELECT count(*) FROM good')" = 0 ] || h_fail "the sluice table good was touched"
q -c "CREATE TABLE s1_progress (x int)" >/dev/null
expect_err "progress name taken" 42710 '"s1_progress" already exists' \
    "$(src_sql pg_conn pub_good 'FOR TABLES (good AS good_src)')" >/dev/null
nothing_left "progress name taken"
q -c "DROP TABLE s1_progress" >/dev/null
q -c "CREATE TABLE taken (x int)" >/dev/null
expect_err "source name taken by a table" 42710 '"taken" already exists' \
    "CREATE SOURCE taken FROM POSTGRES CONNECTION pg_conn (PUBLICATION 'pub_good') FOR TABLES (good AS g2)" >/dev/null
expect_err "IF NOT EXISTS over a table" 42710 '"taken" already exists' \
    "CREATE SOURCE IF NOT EXISTS taken FROM POSTGRES CONNECTION pg_conn (PUBLICATION 'pub_good') FOR TABLES (good AS g2)" >/dev/null
nothing_left "source name taken by a table"

# --- every name is still free: the same statements now succeed
q -c "$(src_sql pg_conn pub_secret 'FOR TABLES (good AS good_src)')" >/dev/null ||
    h_fail "CREATE SOURCE s1 after the failures (the readable table of pub_secret)"
[ "$(q -c 'SELECT id, v FROM good_src ORDER BY id')" = "$(printf '1|one\n2|two')" ] ||
    h_fail "s1 snapshot: $(q -c 'SELECT * FROM good_src')"
[ "$(slots)" = 1 ] || h_fail "s1: $(slots) slots"
expect_err "duplicate source" 42710 'an object named "s1" already exists' \
    "$(src_sql pg_conn pub_good 'FOR TABLES (good AS good_other)')" >/dev/null
out=$(q -c "CREATE SOURCE IF NOT EXISTS s1 FROM POSTGRES CONNECTION pg_conn (PUBLICATION 'pub_good') FOR TABLES (good AS good_other)" 2>&1) ||
    h_fail "IF NOT EXISTS failed: $out"
h_grep "$out" -q 'NOTICE:  source "s1" already exists, skipping' || h_fail "IF NOT EXISTS: no notice: $out"
[ "$(slots)" = 1 ] || h_fail "a refused or skipped CREATE SOURCE left a slot: $(slots)"
got=$(q -c "SHOW SOURCES" | sort)
[ "$got" = "$(printf 'good_src|subsource|\ns1_progress|progress|\ns1|postgres|3xsmall')" ] ||
    h_fail "SHOW SOURCES after duplicates: [$got]"
q -c "DROP SOURCE s1" >/dev/null
nothing_left "DROP SOURCE s1"

# The source named like the failed ones, over the unsupported types as text:
# values equal PostgreSQL's text output, in the snapshot and streamed.
q -c "$(src_sql pg_conn pub_types 'FOR ALL TABLES' ', TEXT COLUMNS (t_arr.tags, public.t_enum.m, t_inet.addr)')" \
    >/dev/null || h_fail "CREATE SOURCE with TEXT COLUMNS"
check_types() {
    h_same_as_pg "SELECT id, tags, tags IS NULL FROM t_arr ORDER BY id" \
        "SELECT id, tags::text, tags IS NULL FROM t_arr ORDER BY id"
    h_same_as_pg "SELECT id, m, length(m) FROM t_enum ORDER BY id" \
        "SELECT id, m::text, length(m::text) FROM t_enum ORDER BY id"
    h_same_as_pg "SELECT id, addr, addr || '' FROM t_inet ORDER BY id" \
        "SELECT id, addr, format('%s', addr) FROM t_inet ORDER BY id"
}
check_types
h_psql -c "INSERT INTO t_arr VALUES (5, ARRAY[7, -8]), (6, '{}')" \
    -c "UPDATE t_arr SET tags = '{9}' WHERE id = 1" -c "DELETE FROM t_arr WHERE id = 2" \
    -c "INSERT INTO t_enum VALUES (4, 'ok')" -c "UPDATE t_enum SET m = 'happy' WHERE id = 1" \
    -c "INSERT INTO t_inet VALUES (5, '2001:db8::/32'), (6, '127.0.0.1')" \
    -c "UPDATE t_inet SET addr = '10.1.2.3/16' WHERE id = 2" >/dev/null
check_types
[ "$(slots)" = 1 ] || h_fail "TEXT COLUMNS source: $(slots) slots"
q -c "DROP SOURCE s1" >/dev/null
nothing_left "final DROP SOURCE"
h_sluiced_stop 10 || h_fail "sluiced exited non-zero"
