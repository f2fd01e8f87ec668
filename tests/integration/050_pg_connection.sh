#!/usr/bin/env bash
# CREATE SECRET / CREATE CONNECTION ... TO POSTGRES against the harness
# PostgreSQL: the connection is checked at creation (a wrong password, an
# unreachable port, a server without SSL when SSL is required are clear
# errors), secrets are dependencies, the connection survives a restart.
. "$SLUICE_SOURCE_DIR/tests/harness/harness.sh"

h_pg_start
# A role that must authenticate with a password (scram ahead of the
# harness's trust line).
h_psql -c "CREATE ROLE conn_user LOGIN PASSWORD 'rightpw'"
sed -i '1i host all conn_user 127.0.0.1/32 scram-sha-256' "$H_PG_DATA/pg_hba.conf"
h_psql -c "SELECT pg_reload_conf()" >/dev/null
h_sluiced_start

q() { h_sluice_psql -X -At -v ON_ERROR_STOP=1 "$@"; }
err_of() { h_sluice_psql -X -v VERBOSITY=verbose -c "$1" 2>&1 || true; }

q -c "CREATE SECRET pgpass AS 'rightpw'" >/dev/null
q -c "CREATE SECRET badpass AS 'wrongpw'" >/dev/null
opts="HOST '127.0.0.1', PORT $H_PG_PORT, USER conn_user, DATABASE 'postgres'"

q -c "CREATE CONNECTION pg_connection TO POSTGRES ($opts, PASSWORD SECRET pgpass, SSL MODE 'disable')" \
    >/dev/null || h_fail "a valid connection was refused"
[ "$(q -c 'SHOW CONNECTIONS')" = "pg_connection|postgres" ] || h_fail "SHOW CONNECTIONS: $(q -c 'SHOW CONNECTIONS')"

out=$(err_of "CREATE CONNECTION c2 TO POSTGRES ($opts, PASSWORD SECRET badpass)")
h_grep "$out" -q '08001' || h_fail "wrong password: no 08001: $out"
h_grep "$out" -q 'password authentication failed' || h_fail "wrong password: unclear: $out"

port=$(h_freeport)
out=$(err_of "CREATE CONNECTION c3 TO POSTGRES (HOST '127.0.0.1', PORT $port, USER conn_user, PASSWORD SECRET pgpass)")
h_grep "$out" -q "08001.*cannot connect to PostgreSQL at 127.0.0.1:$port" || h_fail "unreachable: $out"

out=$(err_of "CREATE CONNECTION c4 TO POSTGRES ($opts, PASSWORD SECRET pgpass, SSL MODE 'require')")
h_grep "$out" -q '08001' || h_fail "SSL required from a server without SSL: $out"
h_grep "$out" -qi 'ssl' || h_fail "SSL error does not say SSL: $out"

out=$(err_of "CREATE CONNECTION c5 TO POSTGRES ($opts, PASSWORD SECRET nosuch)")
h_grep "$out" -q "42704.*unknown secret 'nosuch'" || h_fail "unknown secret: $out"
out=$(err_of "CREATE CONNECTION c6 TO POSTGRES ($opts, SSL MODE 'sometimes')")
h_grep "$out" -q '22023.*invalid SSL MODE' || h_fail "bad SSL MODE: $out"
out=$(err_of "CREATE CONNECTION c7 TO POSTGRES ($opts, COLOR 'red')")
h_grep "$out" -q '42601' || h_fail "unknown option: $out"
out=$(err_of "CREATE CONNECTION pg_connection TO POSTGRES ($opts, PASSWORD SECRET pgpass)")
h_grep "$out" -q '42710' || h_fail "duplicate: $out"
# none of the failed ones exists
[ "$(q -c 'SHOW CONNECTIONS' | wc -l)" -eq 1 ] || h_fail "a failed connection was kept: $(q -c 'SHOW CONNECTIONS')"

# The secret is a dependency.
out=$(err_of "DROP SECRET pgpass")
h_grep "$out" -q '2BP01' || h_fail "DROP SECRET under a connection: $out"

# Definitions survive a restart (replayed without connecting).
h_sluiced_stop 10 || h_fail "sluiced exited non-zero"
h_sluiced_start
[ "$(q -c 'SHOW CONNECTIONS')" = "pg_connection|postgres" ] || h_fail "connection lost in restart"
q -c "DROP CONNECTION pg_connection" >/dev/null
q -c "DROP SECRET pgpass" >/dev/null
[ -z "$(q -c 'SHOW CONNECTIONS')" ] || h_fail "DROP CONNECTION"
h_log "connections: checked at creation, dependencies, restart OK"
