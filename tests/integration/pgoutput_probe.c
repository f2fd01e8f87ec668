/* Drives a real PostgreSQL's logical replication (pgoutput, protocol 1)
 * through libpq and checks that io_pgrepl decodes what it sends: Begin,
 * Relation, Insert, Update (a primary-key change with the old key, an
 * unchanged TOAST value), Delete, Truncate, Message, Commit, keepalives.
 * Usage: sluice-pgoutput-probe "DSN" (run by integration/060_pgoutput.sh). */
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "io/io_pgrepl.h"

static int failures;

static void
check(int ok, const char *fmt, ...)
{
    if (ok)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pgoutput-probe: FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    failures++;
}

static void
run(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "pgoutput-probe: %s: %s", sql, PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
}

static int
val_eq(const io_pgrepl_value *v, const char *s)
{
    return v->kind == 't' && v->len == strlen(s) && memcmp(v->data, s, v->len) == 0;
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: sluice-pgoutput-probe DSN\n");
        return 2;
    }
    PGconn *c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pgoutput-probe: %s", PQerrorMessage(c));
        return 1;
    }
    run(c, "DROP PUBLICATION IF EXISTS probe_pub");
    run(c, "DROP TABLE IF EXISTS probe_t");
    run(c, "CREATE TABLE probe_t (id int PRIMARY KEY, v text, big text)");
    run(c, "CREATE PUBLICATION probe_pub FOR TABLE probe_t");
    char rdsn[1024];
    snprintf(rdsn, sizeof rdsn, "%s replication=database", argv[1]);
    PGconn *rc = PQconnectdb(rdsn);
    if (PQstatus(rc) != CONNECTION_OK) {
        fprintf(stderr, "pgoutput-probe: replication connection: %s", PQerrorMessage(rc));
        return 1;
    }
    run(rc, "CREATE_REPLICATION_SLOT probe_slot TEMPORARY LOGICAL pgoutput");
    /* The changes, after the slot exists. */
    /* md5 hex does not compress below the TOAST threshold: stored out of line. */
    run(c, "INSERT INTO probe_t VALUES (1, 'one', (SELECT string_agg(md5(i::text), '') FROM "
           "generate_series(1, 4000) i)), (2, 'two', NULL)");
    run(c, "UPDATE probe_t SET id = 10, v = 'ten' WHERE id = 1"); /* key change, TOAST kept */
    run(c, "DELETE FROM probe_t WHERE id = 2");
    run(c, "TRUNCATE probe_t");
    run(c, "SELECT pg_logical_emit_message(true, 'probe', 'hello')");
    PGresult *r = PQexec(rc, "START_REPLICATION SLOT probe_slot LOGICAL 0/0 (proto_version '1', "
                             "publication_names 'probe_pub', messages 'true')");
    if (PQresultStatus(r) != PGRES_COPY_BOTH) {
        fprintf(stderr, "pgoutput-probe: START_REPLICATION: %s", PQerrorMessage(rc));
        return 1;
    }
    PQclear(r);
    io_pgrepl_scratch sc = {0};
    int n_begin = 0, n_commit = 0, n_rel = 0, n_ins = 0, n_upd = 0, n_del = 0, n_trunc = 0,
        n_msg = 0, n_keepalive = 0;
    uint32_t relid = 0;
    int done = 0;
    for (int spins = 0; !done && spins < 200;) {
        char *buf = NULL;
        int len = PQgetCopyData(rc, &buf, 1);
        if (len == 0) {
            int fd = PQsocket(rc);
            fd_set rs;
            FD_ZERO(&rs);
            FD_SET(fd, &rs);
            struct timeval tv = {0, 100000};
            select(fd + 1, &rs, NULL, NULL, &tv);
            PQconsumeInput(rc);
            spins++;
            continue;
        }
        if (len < 0) {
            fprintf(stderr, "pgoutput-probe: stream ended: %s", PQerrorMessage(rc));
            return 1;
        }
        io_pgrepl_frame f;
        eng_err err;
        eng_err_clear(&err);
        if (io_pgrepl_frame_decode((const uint8_t *)buf, (size_t)len, &f, &err) != 0) {
            check(0, "frame: %s", err.message);
            PQfreemem(buf);
            break;
        }
        if (f.kind == 'k') {
            n_keepalive++;
            PQfreemem(buf);
            continue;
        }
        io_pgrepl_msg m;
        if (io_pgrepl_decode(f.data, f.len, &sc, &m, &err) != 0) {
            check(0, "message: %s", err.message);
            PQfreemem(buf);
            break;
        }
        switch (m.kind) {
        case 'B':
            n_begin++;
            check(m.xid != 0 && m.lsn != 0, "Begin without xid/lsn");
            break;
        case 'C':
            n_commit++;
            check(m.end_lsn >= m.lsn, "Commit end_lsn < lsn");
            break;
        case 'R':
            n_rel++;
            relid = m.relid;
            check(strcmp(m.relname, "probe_t") == 0 && strcmp(m.nspname, "public") == 0,
                  "Relation name %s.%s", m.nspname, m.relname);
            check(m.ncols == 3 && strcmp(m.cols[2].name, "big") == 0 && m.cols[0].type_oid == 23 &&
                      m.cols[1].type_oid == 25 && (m.cols[0].flags & 1),
                  "Relation columns");
            check(m.replident == 'd', "replica identity %c", m.replident);
            break;
        case 'I':
            n_ins++;
            check(m.relid == relid && m.newtup.ncols == 3, "Insert shape");
            if (n_ins == 1)
                check(val_eq(&m.newtup.values[0], "1") && val_eq(&m.newtup.values[1], "one") &&
                          m.newtup.values[2].kind == 't' && m.newtup.values[2].len == 128000,
                      "first Insert values");
            else
                check(val_eq(&m.newtup.values[0], "2") && m.newtup.values[2].kind == 'n',
                      "second Insert values");
            break;
        case 'U':
            n_upd++;
            check(m.old_kind == 'K' && val_eq(&m.oldtup.values[0], "1"),
                  "Update: the old key (a primary-key change)");
            check(val_eq(&m.newtup.values[0], "10") && val_eq(&m.newtup.values[1], "ten"),
                  "Update: new values");
            check(m.newtup.values[2].kind == 'u', "Update: the unchanged TOAST value is 'u' (%c)",
                  m.newtup.values[2].kind);
            break;
        case 'D':
            n_del++;
            check(m.old_kind == 'K' && val_eq(&m.oldtup.values[0], "2"), "Delete key");
            break;
        case 'T':
            n_trunc++;
            check(m.nrels == 1 && m.relids[0] == relid, "Truncate relation");
            break;
        case 'M':
            n_msg++;
            check(strcmp(m.prefix, "probe") == 0 && m.content_len == 5 &&
                      memcmp(m.content, "hello", 5) == 0 && m.flags == 1,
                  "Message content");
            break;
        default:
            break;
        }
        PQfreemem(buf);
        if (n_msg > 0 && n_commit >= 5)
            done = 1;
    }
    check(done, "did not see every change (begin %d commit %d)", n_begin, n_commit);
    check(n_rel >= 1 && n_ins == 2 && n_upd == 1 && n_del == 1 && n_trunc == 1 && n_msg == 1,
          "counts: R%d I%d U%d D%d T%d M%d", n_rel, n_ins, n_upd, n_del, n_trunc, n_msg);
    check(n_begin == n_commit, "Begin %d / Commit %d", n_begin, n_commit);
    printf("pgoutput-probe: B%d R%d I%d U%d D%d T%d M%d C%d keepalives %d, %d failures\n", n_begin,
           n_rel, n_ins, n_upd, n_del, n_trunc, n_msg, n_commit, n_keepalive, failures);
    io_pgrepl_scratch_free(&sc);
    PQfinish(rc);
    run(c, "DROP PUBLICATION probe_pub");
    run(c, "DROP TABLE probe_t");
    PQfinish(c);
    return failures ? 1 : 0;
}
