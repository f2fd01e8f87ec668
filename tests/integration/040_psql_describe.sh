#!/usr/bin/env bash
# psql's describe commands against sluiced: \d, \dt, \dv, \dm, \di, \dn and
# \d NAME of a table, a view, a materialized view and an index (columns,
# types, nullability, defaults, view definitions, indexes), none printing
# an ERROR; psql's catalog queries through the extended protocol too; and
# the plain pg_catalog / information_schema relations tools query.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"
SLT=$SLUICE_BUILD_DIR/tests/sql/sluice-slt

h_sluiced_start

h_sluice_psql -v ON_ERROR_STOP=1 <<'SQL' || h_fail "setup failed"
CREATE TABLE t (a int NOT NULL, b text DEFAULT 'x', c numeric(10,2));
CREATE VIEW v AS SELECT a, b FROM t WHERE a > 1;
CREATE MATERIALIZED VIEW mv AS SELECT a, count(*) AS n FROM t GROUP BY a;
CREATE INDEX t_a_idx ON t (a);
CREATE SCHEMA s2;
CREATE TABLE s2.x (id bigint);
SQL

# d CMD: psql's output for a backslash command (stdout and stderr), which
# must not contain an error.
d() {
    local out
    out=$(h_sluice_psql -P pager=off -c "$1" 2>&1) || h_fail "psql $1 exited non-zero: $out"
    if h_grep "$out" -qiE 'ERROR|FATAL|not supported'; then
        h_fail "psql $1 printed an error: $out"
    fi
    printf '%s\n' "$out"
}

# has OUT REGEX WHAT: OUT has a line matching the extended REGEX.
has() {
    h_grep "$1" -qE -- "$2" || h_fail "$3: no line matching /$2/ in:
$1"
}
hasnt() {
    h_grep "$1" -qE -- "$2" && h_fail "$3: unexpected line matching /$2/ in:
$1"
    return 0
}

# --- \d: the relations visible on the search path (as in PostgreSQL, not
# s2.x), ordered by schema and name; no system ones
out=$(d '\d')
has "$out" '^ public +\| mv +\| materialized view +\|' '\d'
has "$out" '^ public +\| t +\| table +\|' '\d'
has "$out" '^ public +\| v +\| view +\|' '\d'
hasnt "$out" '^ s2 ' '\d'
has "$out" '\(3 rows\)' '\d'
hasnt "$out" 'mz_tables|pg_class' '\d'

out=$(d '\dt')
has "$out" '^ public +\| t +\| table' '\dt'
has "$out" '\(1 row\)' '\dt'
out=$(d '\dv')
has "$out" '^ public +\| v +\| view' '\dv'
has "$out" '\(1 row\)' '\dv'
out=$(d '\dm')
has "$out" '^ public +\| mv +\| materialized view' '\dm'
has "$out" '\(1 row\)' '\dm'
out=$(d '\di')
has "$out" '^ public +\| t_a_idx +\| index +\| [a-z_]+ +\| t *$' '\di'
has "$out" '\(1 row\)' '\di'
out=$(d '\dn')
has "$out" '^ public +\|' '\dn'
has "$out" '^ s2 +\|' '\dn'
hasnt "$out" 'pg_catalog|mz_catalog|information_schema' '\dn'
out=$(d '\dt t*')
has "$out" '^ public +\| t +\| table' '\dt t*'
has "$out" '\(1 row\)' '\dt t*'
out=$(d '\dt s2.*')
has "$out" '^ s2 +\| x +\| table' '\dt s2.*'

# --- \d t: columns, types, nullability, default, index
out=$(d '\d t')
has "$out" 'Table "public\.t"' '\d t'
has "$out" '^ a +\| integer +\| +\| not null \| *$' '\d t'
has "$out" "^ b +\\| text +\\| +\\| +\\| 'x'" '\d t'
has "$out" '^ c +\| numeric\(10,2\) +\| +\| +\| *$' '\d t'
has "$out" '^Indexes:' '\d t'
has "$out" '^ +"t_a_idx" [a-z]+ \(a\)$' '\d t'
out2=$(d '\d public.t')
[ "$out" = "$out2" ] || h_fail "\\d public.t differs from \\d t: $out2"

# --- \d v, \d+ v: columns and the definition
out=$(d '\d v')
has "$out" 'View "public\.v"' '\d v'
has "$out" '^ a +\| integer +\|' '\d v'
has "$out" '^ b +\| text +\|' '\d v'
out=$(d '\d+ v')
has "$out" '^View definition:' '\d+ v'
has "$out" 'SELECT a, b FROM t WHERE a > 1' '\d+ v'

# --- \d mv, \d+ mv (the issue: \d of a materialized view works)
out=$(d '\d mv')
has "$out" 'Materialized view "public\.mv"' '\d mv'
has "$out" '^ a +\| integer +\|' '\d mv'
has "$out" '^ n +\| bigint +\|' '\d mv'
out=$(d '\d+ mv')
has "$out" '^View definition:' '\d+ mv'
has "$out" 'SELECT a, count\(\*\) AS n FROM t GROUP BY a' '\d+ mv'

# --- \d t_a_idx: the key column and the table
out=$(d '\d t_a_idx')
has "$out" 'Index "public\.t_a_idx"' '\d t_a_idx'
has "$out" '^ a +\| integer +\| yes +\| a *$' '\d t_a_idx'
has "$out" 'for table "public\.t"' '\d t_a_idx'

# --- \d of a system relation and of nothing
out=$(d '\d mz_tables')
has "$out" '"mz_catalog\.mz_tables"' '\d mz_tables'
has "$out" '^ schema_name +\| text' '\d mz_tables'
# (not quiet: psql -q drops the "Did not find" messages)
npsql() { psql -X -h 127.0.0.1 -p "$H_SLUICED_PORT" -U materialize materialize "$@"; }
out=$(npsql -c '\d nosuch' 2>&1 || true)
has "$out" 'Did not find any relation named "nosuch"' '\d nosuch'

# --- the "+" forms run without errors
for c in '\d+' '\dt+' '\dv+' '\dm+' '\di+' '\dn+' '\d+ t' '\d+ t_a_idx'; do d "$c" >/dev/null; done

# --- after a DROP, the catalog answers change
h_sluice_psql -v ON_ERROR_STOP=1 -c 'DROP INDEX t_a_idx' >/dev/null || h_fail "DROP INDEX"
out=$(d '\d t')
hasnt "$out" 'Indexes:' '\d t after DROP INDEX'
out=$(npsql -c '\di' 2>&1 || true)
has "$out" 'Did not find any relations' '\di after DROP INDEX'

# --- plain catalog relations
q() { h_sluice_psql -At -v ON_ERROR_STOP=1 -c "$1" 2>&1 || h_fail "query failed: $1"; }
out=$(q "SELECT table_name || ':' || table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
[ "$out" = "$(printf 'mv:MATERIALIZED VIEW\nt:BASE TABLE\nv:VIEW')" ] || h_fail "information_schema.tables: $out"
out=$(q "SELECT column_name || ':' || data_type || ':' || is_nullable FROM information_schema.columns WHERE table_name = 't' ORDER BY ordinal_position")
[ "$out" = "$(printf 'a:integer:NO\nb:text:YES\nc:numeric:YES')" ] || h_fail "information_schema.columns: $out"
out=$(q "SELECT c.relname || ':' || c.relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' ORDER BY 1")
[ "$out" = "$(printf 'mv:m\nt:r\nv:v')" ] || h_fail "pg_class/pg_namespace: $out"
out=$(q "SELECT a.attname || ':' || t.typname || ':' || a.attnotnull::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid WHERE c.relname = 't' ORDER BY a.attnum")
[ "$out" = "$(printf 'a:int4:true\nb:text:false\nc:numeric:false')" ] || h_fail "pg_attribute/pg_type: $out"
out=$(q "SELECT datname FROM pg_database")
[ "$out" = "materialize" ] || h_fail "pg_database: $out"
# The oid psql uses for t is the one pg_class shows.
oid=$(q "SELECT oid FROM pg_class WHERE relname = 't'")
[ -n "$oid" ] || h_fail "no oid for t"
# A user's own queries over the catalogs psql reads are not taken for
# psql's: they go to the system relations.
out=$(q "SELECT nspname FROM pg_catalog.pg_namespace n WHERE nspname NOT LIKE 'pg_%' ORDER BY 1")
[ "$out" = "$(printf 'information_schema\nmz_catalog\nmz_internal\npublic\ns2')" ] || h_fail "pg_namespace: $out"
out=$(q "SELECT attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = '$oid' ORDER BY attnum")
[ "$out" = "$(printf 'a\nb\nc')" ] || h_fail "pg_attribute by oid: $out"

# --- psql's queries through the extended protocol (Parse/Describe/Execute)
if [ -x "$SLT" ]; then
    cat >"$H_TMP/psql_ext.slt" <<EOF
query TTT
SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(t)\$' COLLATE pg_catalog.default
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 2, 3
----
$oid public t

query TTTT
SELECT a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)
   FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
  a.attnotnull
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = '$oid' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
----
a integer NULL t
b text 'x' f
c numeric(10,2) NULL f
EOF
    out=$("$SLT" --extended --dsn "host=127.0.0.1 port=$H_SLUICED_PORT user=materialize dbname=materialize" \
        "$H_TMP/psql_ext.slt" 2>&1) || h_fail "psql queries over the extended protocol: $out"
    h_grep "$out" -q ' 0 failures' || h_fail "extended protocol: $out"
fi
echo "psql describe test passed"
