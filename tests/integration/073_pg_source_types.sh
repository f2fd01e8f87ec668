#!/usr/bin/env bash
# Every type a PostgreSQL source supports, through the snapshot (COPY text
# format) and through the stream (pgoutput text values): sluice's text
# output of the subsource equals PostgreSQL's for the same rows, byte for
# byte. Floats with NaN, ±Infinity and -0 (stored as 0), numeric NaN and long
# precision, char(n) padding, NULL in every column, multi-byte and emoji
# text, COPY's escapes (tab, newline, carriage return, backslash), 16 MiB
# text and bytea values (compared by md5 and length), and an UPDATE of
# another column of a row whose 16 MiB values are TOASTed (REPLICA IDENTITY
# DEFAULT: pgoutput leaves them out, the stored row must fill them in;
# REPLICA IDENTITY FULL: the old row fills them), and a key change of such
# a row, which stops that subsource with a clear error.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"

h_pg_start
cols="id, b, i2, i4, i8, f4, f8, n, n2, t, vc, c, by, d, tm, ts, tz, iv, u, j, jb"
h_psql <<'SQL' >/dev/null
CREATE ROLE dbuser LOGIN PASSWORD 'pw' REPLICATION;
CREATE TABLE ty (
    id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
    n numeric, n2 numeric(12, 3), t text, vc varchar(12), c char(6), by bytea, d date,
    tm time, ts timestamp, tz timestamptz, iv interval, u uuid, j json, jb jsonb);
-- The rows, kept in a table of their own: the snapshot copies them into ty
-- now, the stream inserts them again (id + 1000) after CREATE SOURCE.
CREATE TABLE rows (LIKE ty);
INSERT INTO rows VALUES
 (1, true, 1, 2, 3, 1.5, 2.25, 3.125, 4.5, 'plain', 'vc', 'ch', '\x0102', '2024-02-29',
  '12:34:56', '2024-02-29 12:34:56', '2024-02-29 12:34:56+00', '1 day', 
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": 1}', '{"a": 1}'),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, false, -32768, -2147483648, -9223372036854775808, 'NaN', 'NaN', 'NaN', -0.001, '',
  '', '', '\x', '0001-01-01', '00:00:00', '0001-01-01 00:00:00', '1970-01-01 00:00:00+00',
  '0', '00000000-0000-0000-0000-000000000000', '[]', '[]'),
 (4, true, 32767, 2147483647, 9223372036854775807, 'Infinity', 'Infinity',
  '123456789012345678901234567890.123456789012345678901234567890', 123456789.999,
  'x', 'abcdefghijkl', 'abcdef', '\xffffffff', '9999-12-31', '23:59:59.999999',
  '9999-12-31 23:59:59.999999', '2024-02-29 12:34:56.789+05:30',
  '1 year 2 mons 3 days 04:05:06.789', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '{"b" : [1, 2.50, "x\ty"],  "a": null, "a": 2}', '{"b": [1, 2.50, "x\ty"], "a": null, "a": 2}'),
 (5, false, 0, 0, 0, '-Infinity', '-Infinity', '-0.000000000000000000000000000001', 0,
  'tab	tab', 'nl', 'a', '\x00', '1999-12-31', '00:00:00.000001', '2000-01-01 00:00:00',
  '1999-12-31 23:59:59.999999-08', '-1 days +02:00:00', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12',
  'null', 'null'),
 (6, true, -1, -1, -1, '-0', '-0', '0.0', -0, E'line1\nline2\r\nback\\slash \\N \\t',
  E'a\tb\\c', E'\\\t\n', E'\\x5c5c0a09', '2000-01-01', '01:02:03', '2000-01-01 01:02:03.5',
  '2000-01-01 01:02:03.5+00', '-1 year -2 mons +3 days -04:05:06', 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  E'{"esc": "a\\nb\\\\c\\u00e9"}', E'{"esc": "a\\nb\\\\c\\u00e9"}'),
 (7, true, 7, 7, 7, 3.4028235e38, 1.7976931348623157e308, 1e-20, 0.5,
  'héllo wörld ✓ 🎉 日本語 𝄞', 'ünïcødé 🎉', 'ñ🎉', '\xf09f8e89', '2024-01-01', '12:00:00',
  '2024-01-01 12:00:00', '2024-01-01 12:00:00+00', '00:00:00.000001',
  '11111111-2222-3333-4444-555555555555', '{"k": "🎉 日本"}', '{"k": "🎉 日本"}'),
 (8, false, 8, 8, 8, 1.17549435e-38, 4.9406564584124654e-324, 1e20, 1,
  repeat('long text ', 500), repeat('v', 12), 'xyz   ', decode(repeat('00ff', 3000), 'hex'),
  '1970-01-01', '13:14:15.16', '1970-01-01 00:00:00', '2038-01-19 03:14:07+00', '100 years',
  'c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"n": 1e400}', '{"n": 1.0e2}');
INSERT INTO ty SELECT * FROM rows;
-- The 16 MiB row: hex digits of md5s (not compressible enough to stay
-- inline) as text, and their bytes as bytea.
CREATE TABLE big (id int PRIMARY KEY, t text, by bytea, v int);
INSERT INTO big SELECT 1, string_agg(md5(g::text), '' ORDER BY g), NULL, 0
    FROM generate_series(1, 524288) g;
UPDATE big SET by = decode(t || t, 'hex') WHERE id = 1;
-- The same value in a table without a key (REPLICA IDENTITY FULL) and in
-- one whose key will change.
CREATE TABLE bigfull (k int, t text, v int);
ALTER TABLE bigfull REPLICA IDENTITY FULL;
INSERT INTO bigfull SELECT 1, t, 0 FROM big;
CREATE TABLE bigkey (id int PRIMARY KEY, t text);
INSERT INTO bigkey SELECT 1, t FROM big;
GRANT SELECT ON ty, big, bigfull, bigkey TO dbuser;
CREATE PUBLICATION pub FOR TABLE ty, big, bigfull, bigkey;
SQL
h_sluiced_start

H_PSQL_NULL=NULL # h_same_as_pg tells NULL from the empty string
H_POLL_SECS=60   # and compares 16 MiB values
q() { h_sluice_psql -X -At -P null=NULL -v ON_ERROR_STOP=1 "$@"; }
pgq() { h_psql -X -At -P null=NULL -c "$1"; }
# The rows of ty in [lo, hi), every column, through both. Sluice stores
# -0 as 0 (docs/types.md), so PostgreSQL's side adds +0 to the floats.
pg_cols=${cols/f4, f8/f4 + 0::float4 AS f4, f8 + 0::float8 AS f8}
same_rows() {
    h_same_as_pg "SELECT $cols FROM ty WHERE id >= $1 AND id < $2 ORDER BY id" \
        "SELECT $pg_cols FROM ty WHERE id >= $1 AND id < $2 ORDER BY id"
}
big_sql="SELECT id, v, length(t), md5(t), length(by), md5(by), substr(t, 1, 40), substr(t, 16777200) FROM big ORDER BY id"

[ "$(pgq "SELECT length(t), length(by), (SELECT pg_relation_size(reltoastrelid) > 32000000 FROM pg_class WHERE relname = 'big') FROM big")" = "16777216|16777216|t" ] ||
    h_fail "the big row is not 16 MiB: $(pgq 'SELECT length(t), length(by) FROM big')"
q -c "CREATE SECRET pgpass AS 'pw'" >/dev/null
q -c "CREATE CONNECTION pg_conn TO POSTGRES (HOST '127.0.0.1', PORT $H_PG_PORT, USER dbuser, PASSWORD SECRET pgpass, DATABASE 'postgres')" >/dev/null
q -c "CREATE SOURCE src FROM POSTGRES CONNECTION pg_conn (PUBLICATION 'pub') FOR ALL TABLES" >/dev/null ||
    h_fail "CREATE SOURCE failed"

# The snapshot: COPY's text format.
same_rows 0 1000
h_same_as_pg "$big_sql"
# The stream: the same rows inserted again, one transaction per row and
# all in one; then every row updated to another's values.
for i in 1 2 3 4; do
    h_psql -c "INSERT INTO ty SELECT id + 1000, b, i2, i4, i8, f4, f8, n, n2, t, vc, c, by, d, tm, ts, tz, iv, u, j, jb FROM rows WHERE id = $i" >/dev/null
done
h_psql -c "INSERT INTO ty SELECT id + 1000, b, i2, i4, i8, f4, f8, n, n2, t, vc, c, by, d, tm, ts, tz, iv, u, j, jb FROM rows WHERE id > 4" >/dev/null
same_rows 1000 2000
# Identical values whichever path they came by.
h_same_as_pg "SELECT a.id FROM ty a JOIN ty b ON b.id = a.id + 1000 WHERE a.id < 1000 AND a.b IS NOT DISTINCT FROM b.b AND a.t IS NOT DISTINCT FROM b.t AND a.by IS NOT DISTINCT FROM b.by AND a.c IS NOT DISTINCT FROM b.c ORDER BY 1"
h_psql -c "UPDATE ty SET (b, i2, i4, i8, f4, f8, n, n2, t, vc, c, by, d, tm, ts, tz, iv, u, j, jb) =
    (SELECT b, i2, i4, i8, f4, f8, n, n2, t, vc, c, by, d, tm, ts, tz, iv, u, j, jb FROM rows
     WHERE rows.id = (ty.id - 1000) % 8 + 1) WHERE id > 1000" >/dev/null
same_rows 1000 2000
h_psql -c "DELETE FROM ty WHERE id IN (1003, 1006)" >/dev/null
same_rows 0 2000

# The big values streamed: a new row carries them whole.
h_psql -c "INSERT INTO big SELECT 2, t, by, 0 FROM big WHERE id = 1" >/dev/null
h_same_as_pg "$big_sql"
# An UPDATE of another column: pgoutput sends the TOASTed values as
# unchanged; the subsource keeps the stored ones (snapshot row 1, streamed
# row 2), also when the update comes in the same transaction as another
# change of the row.
[ "$(pgq "SELECT relreplident FROM pg_class WHERE relname = 'big'")" = d ] || h_fail "big: replica identity"
h_psql -c "UPDATE big SET v = 42" >/dev/null
h_same_as_pg "$big_sql"
h_psql -c "BEGIN" -c "UPDATE big SET v = v + 1 WHERE id = 1" -c "UPDATE big SET v = v + 1 WHERE id = 1" \
    -c "UPDATE big SET v = -1, t = t || 'z' WHERE id = 2" -c "COMMIT" >/dev/null
h_same_as_pg "$big_sql"
h_same_as_pg "SELECT id, v, length(t)::int8, length(by)::int8 FROM big ORDER BY id"
h_psql -c "UPDATE big SET t = 'small' WHERE id = 1" -c "UPDATE big SET v = 7 WHERE id = 1" >/dev/null
h_same_as_pg "$big_sql"

# REPLICA IDENTITY FULL: the old row comes whole, the new one leaves the
# TOASTed value out; it is filled from the old row.
full_sql="SELECT k, v, length(t)::int8, md5(t) FROM bigfull ORDER BY k, v"
h_same_as_pg "$full_sql"
h_psql -c "UPDATE bigfull SET v = 5" >/dev/null
h_same_as_pg "$full_sql"
h_psql -c "INSERT INTO bigfull SELECT 2, t, 6 FROM bigfull" -c "UPDATE bigfull SET k = k + 10 WHERE k = 1" >/dev/null
h_same_as_pg "$full_sql"
h_psql -c "DELETE FROM bigfull WHERE k = 11" >/dev/null
h_same_as_pg "$full_sql"

st=$(q -c "SELECT name, status, error FROM mz_internal.mz_source_statuses WHERE name IN ('ty', 'big', 'bigfull', 'bigkey') ORDER BY name")
[ "$st" = "$(printf 'big|running|NULL\nbigfull|running|NULL\nbigkey|running|NULL\nty|running|NULL')" ] ||
    h_fail "subsource statuses: [$st]"

# A key change of a row whose TOASTed value is unchanged (REPLICA IDENTITY
# DEFAULT): pgoutput sends the old key and leaves the value out, so the new
# row cannot be completed. That subsource stops with a clear error (reads
# of it fail, its status says why); the others go on.
h_same_as_pg "SELECT id, md5(t) FROM bigkey ORDER BY id"
h_psql -c "UPDATE bigkey SET id = 2" -c "INSERT INTO ty VALUES (5000)" >/dev/null
h_same_as_pg "SELECT id FROM ty WHERE id = 5000"
wait_for_status() {
    local got=
    for _ in $(seq 200); do
        got=$(q -c "SELECT status, error FROM mz_source_statuses WHERE name = 'bigkey'")
        case "$got" in "stalled|"*"changed its key"*"REPLICA IDENTITY FULL"*) return 0 ;; esac
        sleep 0.05
    done
    h_fail "bigkey's status after a key change with unsent TOAST: [$got]"
}
wait_for_status
out=$(h_sluice_psql -X -v VERBOSITY=verbose -c "SELECT count(*) FROM bigkey" 2>&1) &&
    h_fail "reading a stalled subsource succeeded: $out"
h_grep "$out" -q "ERROR:  55000: .*bigkey.*REPLICA IDENTITY FULL" || h_fail "stalled subsource read: $out"
h_same_as_pg "SELECT id, v FROM big ORDER BY id"
q -c "DROP SOURCE src" >/dev/null
[ "$(pgq "SELECT count(*) FROM pg_replication_slots")" = 0 ] || h_fail "slot left after DROP SOURCE"
h_sluiced_stop 10 || h_fail "sluiced exited non-zero"
