/* sluice-bench pgcdc: PostgreSQL change data capture (pgoutput) into sluiced,
 * side by side with pg_recvlogical and a PostgreSQL subscriber in one run.
 *
 *   ingest     WAL backlog drains: every consumer's slot exists, consumers
 *              are stopped, the load runs (--txns single-row transactions,
 *              then one --bulk row transaction), then each consumer is
 *              started alone and timed until it has applied everything.
 *   freshness  a paced live load; p50/p99 from upstream commit to the row
 *              being counted by a view in sluiced.
 *   snapshot   CREATE SOURCE over a table of --snapshot-rows rows until the
 *              view over it has them all, against parallel ctid-range COPY.
 *
 * Notes
 * - Consumers. pg_recvlogical: its own slot, `--start -E <end lsn>`, timed
 *   to exit. pg_subscriber: a second cluster (--sub-dsn) with
 *   CREATE SUBSCRIPTION ... WITH (copy_data = false, enabled = false); ENABLE
 *   starts it, and it is done when the sentinel row committed after the load
 *   (table bench_mark) is visible on the subscriber (it applies in commit
 *   order), checked by count(*) afterwards. sluiced (--dsn, --sluiced-pid):
 *   SIGSTOP during the load, SIGCONT, done when `SELECT n FROM cnt` reaches
 *   the row count.
 * - A SIGSTOPped sluiced leaves its walsender running: it keeps reading WAL
 *   (and spilling a large transaction to disk) and sending into the socket
 *   buffers (several MB on loopback); measured, it had read the whole
 *   backlog by the time sluiced was continued. So by default
 *   (`--sluice-pause terminate`) the walsender is terminated right after the
 *   SIGSTOP: sluiced reconnects when continued (after its 200 ms backoff,
 *   counted in its time) and starts from its slot, as the baselines do.
 *   `--sluice-pause sigstop` only stops sluiced. The sluice lines report
 *   `predecoded`, the fraction of the backlog's WAL that sluiced's
 *   walsender had read when sluiced was continued.
 * - Every wait has a deadline (--timeout per wait); a global alarm ends the
 *   run if anything else hangs. sluiced is always continued on exit.
 * - Without --dsn (or when sluiced refuses the statements) the baselines are
 *   still measured; the sluice figures are null and the exit status is 1
 *   unless --dsn was omitted. */
#include <errno.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "bench/bench.h"

#define RECV_SLOT "bench_recv"
#define SUB_NAME "bench_sub"
#define PUB "mz_source"
#define SNAP_PUB "snap_pub"

typedef struct cfg {
    const char *pg_dsn, *sub_dsn, *dsn, *pgbin, *pg_password, *pause, *decoding_mem;
    pid_t sluiced_pid;
    long txns, bulk, snap_rows, initial;
    int load_conns, fresh_clients, snap_conns;
    double fresh_seconds, fresh_rate, timeout;
    bool ingest, fresh, snap;
} cfg;

typedef struct state {
    const cfg *c;
    PGconn *up, *sub;
    bench_sluice sl;
    char up_host[128], up_port[16], up_user[64], up_db[64];
    char decoding_mem[32]; /* upstream logical_decoding_work_mem */
    long next_id;          /* the next unused id of t */
    long rows;             /* rows committed to t */
    long sub_base;         /* rows of t that existed before the subscription */
    long fresh_rows;       /* rows committed to fresh */
    double recv_single_rate;
    int marks;
} state;

/* ------------------------------------------------------------ process state */

static pid_t g_sluiced = 0;
static volatile sig_atomic_t g_stopped = 0;

static void
resume_sluiced(void)
{
    if (g_sluiced > 0 && g_stopped) {
        kill(g_sluiced, SIGCONT);
        g_stopped = 0;
    }
}

/* ------------------------------------------------------------ libpq helpers */

static PGconn *
connect_or_die(const char *dsn)
{
    char err[512];
    PGconn *c = bench_connect(dsn, err, sizeof err);
    if (c == NULL)
        bench_die("%s", err);
    return c;
}

/* For the PostgreSQL side, where a failure ends the run. */
static PGresult *
pg_exec(PGconn *c, const char *sql, double secs)
{
    char err[1024];
    PGresult *r = bench_exec_deadline(c, sql, secs, err, sizeof err);
    if (r == NULL)
        bench_die("%s", err);
    return r;
}

static void
pg_cmd(PGconn *c, const char *sql)
{
    PQclear(pg_exec(c, sql, 600));
}

/* First column of the first row as a long; dies on anything else. */
static long
pg_long(PGconn *c, const char *sql)
{
    PGresult *r = pg_exec(c, sql, 600);
    if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0))
        bench_die("%s: expected one non-null value, got %d rows", sql, PQntuples(r));
    long v = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

static void
pg_text(PGconn *c, const char *sql, char *out, size_t outlen)
{
    PGresult *r = pg_exec(c, sql, 600);
    if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0))
        bench_die("%s: expected one non-null value, got %d rows", sql, PQntuples(r));
    snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

/* ------------------------------------------------------------ sluiced */

/* `SELECT n FROM <view>` through sluiced, waiting at most secs (a read may
 * wait for a source's snapshot to complete): 0 and *n, or -1 (sluice
 * failed). */
static int
sluice_count(state *s, const char *view, long *n, double secs)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT n FROM %s", view);
    return bench_sluice_long(&s->sl, sql, secs, n);
}

/* Polls the view every poll_ms until it counts `want` rows. Returns the
 * seconds since `t0`, or -1 (timeout or a count above `want`: wrong). */
static double
sluice_wait(state *s, const char *view, long want, double t0, double poll_ms)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT n FROM %s", view);
    return bench_sluice_wait(&s->sl, sql, view, want, t0, bench_now_s() + s->c->timeout,
                             poll_ms / 1000);
}

static void
sluice_stop(state *s)
{
    if (!bench_sluice_on(&s->sl) || s->c->sluiced_pid <= 0)
        return;
    if (kill(s->c->sluiced_pid, SIGSTOP) != 0)
        bench_die("SIGSTOP %d: %s", (int)s->c->sluiced_pid, strerror(errno));
    g_stopped = 1;
    if (strcmp(s->c->pause, "terminate") == 0) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 /* with a timeout: returns once the walsender has exited */
                 "SELECT count(pg_terminate_backend(active_pid, 10000)) FROM pg_replication_slots "
                 "WHERE active AND slot_name NOT IN ('%s', '%s')",
                 RECV_SLOT, SUB_NAME);
        bench_note("terminated %ld sluiced walsender(s)", pg_long(s->up, sql));
    }
}

/* ------------------------------------------------------------ upstream */

/* Waits until no walsender is behind `lsn` in reading WAL (sent_lsn is
 * where logical decoding has read to), so background decoding does not
 * overlap a measurement. Stopped consumers' walsenders are skipped. */
static void
wait_walsenders(state *s, const char *lsn)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_stat_replication r JOIN pg_replication_slots s "
             "ON s.active_pid = r.pid WHERE r.sent_lsn < '%s' AND s.slot_name <> '%s'",
             lsn, SUB_NAME);
    double end = bench_now_s() + s->c->timeout;
    while (pg_long(s->up, sql) > 0) {
        if (bench_now_s() > end) {
            bench_note("walsenders still behind %s after %.0f s; measuring anyway", lsn,
                       s->c->timeout);
            return;
        }
        bench_sleep_s(0.05);
    }
}

static void
slot_wait_inactive(state *s, const char *slot)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '%s' AND active", slot);
    double end = bench_now_s() + 60;
    while (pg_long(s->up, sql) > 0) {
        if (bench_now_s() > end)
            bench_die("slot %s still active 60 s after its consumer was stopped", slot);
        bench_sleep_s(0.02);
    }
}

typedef struct loader {
    const char *dsn;
    long lo, hi;
    char err[512];
} loader;

/* One connection: ids lo..hi, one transaction each (a procedure that
 * commits after every row: the same WAL as a client's single-row
 * transactions, without the round trips). */
static void *
loader_thread(void *p)
{
    loader *l = p;
    PGconn *c = bench_connect(l->dsn, l->err, sizeof l->err);
    if (c == NULL)
        return NULL;
    char sql[128];
    PGresult *r = bench_exec_deadline(c, "SET synchronous_commit = off", 60, l->err, sizeof l->err);
    if (r != NULL) {
        PQclear(r);
        snprintf(sql, sizeof sql, "CALL bench_ins(%ld, %ld)", l->lo, l->hi);
        r = bench_exec_deadline(c, sql, 3600, l->err, sizeof l->err);
        if (r != NULL) {
            PQclear(r);
            l->err[0] = '\0';
        }
    }
    PQfinish(c);
    return NULL;
}

/* Commits `n` single-row transactions over load_conns connections. */
static void
load_single(state *s, long n)
{
    int k = s->c->load_conns;
    pthread_t th[64];
    loader ls[64];
    long per = (n + k - 1) / k, id = s->next_id;
    int used = 0;
    for (int i = 0; i < k && id < s->next_id + n; i++, used++) {
        long hi = id + per - 1 < s->next_id + n - 1 ? id + per - 1 : s->next_id + n - 1;
        ls[i] = (loader){s->c->pg_dsn, id, hi, "unset"};
        pthread_create(&th[i], NULL, loader_thread, &ls[i]);
        id = hi + 1;
    }
    for (int i = 0; i < used; i++) {
        pthread_join(th[i], NULL);
        if (ls[i].err[0] != '\0')
            bench_die("load: %s", ls[i].err);
    }
    s->next_id += n;
    s->rows += n;
}

/* One transaction of n rows. */
static void
load_bulk(state *s, long n)
{
    char sql[256];
    pg_cmd(s->up, "SET synchronous_commit = off");
    snprintf(sql, sizeof sql,
             "INSERT INTO t (id, v) SELECT x, 'v' || x FROM generate_series(%ld::bigint, %ld) x",
             s->next_id, s->next_id + n - 1);
    pg_cmd(s->up, sql);
    pg_cmd(s->up, "SET synchronous_commit = on");
    s->next_id += n;
    s->rows += n;
}

/* ------------------------------------------------------------ consumers */

/* Bytes a slot's walsender has spilled to disk so far (the reorder buffer
 * past logical_decoding_work_mem); -1 when no statistics. */
static long
slot_spill_bytes(state *s, const char *slot)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT coalesce((SELECT spill_bytes FROM pg_stat_replication_slots "
             "WHERE slot_name = '%s'), -1)",
             slot);
    return pg_long(s->up, sql);
}

/* pg_recvlogical from its slot to `end_lsn`: seconds until it exits. */
static double
run_recvlogical(state *s, const char *end_lsn)
{
    char exe[512], conn[512], pubopt[128];
    snprintf(exe, sizeof exe, "%s/pg_recvlogical", s->c->pgbin);
    snprintf(conn, sizeof conn, "host=%s port=%s user=%s dbname=%s", s->up_host, s->up_port,
             s->up_user, s->up_db);
    snprintf(pubopt, sizeof pubopt, "publication_names=%s", PUB);
    char *argv[] = {exe,
                    "-d",
                    conn,
                    "-S",
                    RECV_SLOT,
                    "--start",
                    "--no-loop",
                    "-E",
                    (char *)end_lsn,
                    "-f",
                    "/dev/null",
                    "-o",
                    "proto_version=1",
                    "-o",
                    pubopt,
                    NULL};
    double t0 = bench_now_s(), secs = 0, cpu = 0;
    int st = bench_wait_child(bench_spawn(argv, -1), t0, s->c->timeout, &secs, &cpu);
    if (st < 0)
        bench_die("pg_recvlogical did not reach %s within %.0f s", end_lsn, s->c->timeout);
    if (st != 0)
        bench_die("pg_recvlogical failed (status %d)", st);
    return secs;
}

/* The subscriber from its origin to the sentinel `tag`: seconds from
 * ENABLE until the sentinel is visible there, then the subscription is
 * disabled again and its row count checked. */
static double
run_subscriber(state *s, const char *tag, const char *end_lsn)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM bench_mark WHERE tag = '%s'", tag);
    double t0 = bench_now_s(), end = t0 + s->c->timeout;
    pg_cmd(s->sub, "ALTER SUBSCRIPTION " SUB_NAME " ENABLE");
    while (pg_long(s->sub, sql) == 0) {
        if (bench_now_s() > end)
            bench_die("the subscriber did not apply the backlog within %.0f s", s->c->timeout);
        bench_sleep_s(0.005);
    }
    double secs = bench_now_s() - t0;
    /* Before stopping: let it confirm the backlog (its feedback follows the
     * local flush), so the next start does not decode this backlog again. */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '%s' AND "
             "confirmed_flush_lsn >= '%s'",
             SUB_NAME, end_lsn);
    end = bench_now_s() + 30;
    while (pg_long(s->up, sql) == 0 && bench_now_s() < end)
        bench_sleep_s(0.05);
    if (bench_now_s() >= end)
        bench_note("the subscriber did not confirm %s within 30 s", end_lsn);
    pg_cmd(s->sub, "ALTER SUBSCRIPTION " SUB_NAME " DISABLE");
    slot_wait_inactive(s, SUB_NAME);
    long want = s->rows - s->sub_base;
    long got = pg_long(s->sub, "SELECT count(*) FROM t");
    if (got != want)
        bench_die("the subscriber has %ld rows in t, expected %ld (wrong answer)", got, want);
    return secs;
}

/* ------------------------------------------------------------ ingest */

static void
print_ingest(state *s, const char *name, long rows, double build_s, double sl_s, double predec,
             const char *baseline, double base_s, long base_spill)
{
    printf("{\"bench\":\"pgcdc\",\"name\":\"%s\",\"unit\":\"rows/s\",\"rows\":%ld,"
           "\"backlog_build_s\":%.2f,",
           name, rows, build_s);
    if (sl_s > 0)
        printf("\"value\":%.0f,\"seconds\":%.3f,\"predecoded\":%.3f,", rows / sl_s, sl_s, predec);
    else
        printf("\"value\":null,");
    printf("\"baseline\":\"%s\",\"baseline_value\":", baseline);
    if (base_s > 0)
        printf("%.0f,\"baseline_seconds\":%.3f,\"baseline_spill_mb\":%.1f,", rows / base_s, base_s,
               (double)base_spill / 1048576);
    else
        printf("null,");
    if (sl_s > 0 && base_s > 0)
        printf("\"ratio\":%.3f", base_s / sl_s);
    else
        printf("\"ratio\":null");
    bench_json_error(&s->sl);
    printf(",\"sluice_pause\":\"%s\",\"logical_decoding_work_mem\":\"%s\"}\n", s->c->pause,
           s->decoding_mem);
    fflush(stdout);
}

/* One workload: stop every consumer (slots exist), build the backlog, then
 * drain it with each consumer alone. */
static void
ingest_one(state *s, const char *name, long rows, bool bulk)
{
    char sql[512], start_lsn[64], end_lsn[64], tag[64];
    /* A fresh pg_recvlogical slot: it starts exactly at the backlog. */
    pg_cmd(s->up, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                  "WHERE slot_name = '" RECV_SLOT "'");
    pg_cmd(s->up, "SELECT pg_create_logical_replication_slot('" RECV_SLOT "', 'pgoutput')");
    if (bench_sluice_on(&s->sl))
        sluice_wait(s, "cnt", s->rows, bench_now_s(), 10);
    sluice_stop(s);
    pg_text(s->up, "SELECT pg_current_wal_lsn()", start_lsn, sizeof start_lsn);
    bench_note("%s: building a backlog of %ld rows", name, rows);
    double t0 = bench_now_s();
    if (bulk)
        load_bulk(s, rows);
    else
        load_single(s, rows);
    snprintf(tag, sizeof tag, "%s_%d", name, ++s->marks);
    snprintf(sql, sizeof sql, "INSERT INTO bench_mark VALUES ('%s')", tag);
    pg_cmd(s->up, "SET synchronous_commit = on");
    pg_cmd(s->up, sql);
    double build_s = bench_now_s() - t0;
    /* A checkpoint logs a running-xacts record after the backlog: decoding
     * it lets a slot's restart point move past the backlog once confirmed,
     * so the next workload does not re-read this one. */
    pg_cmd(s->up, "CHECKPOINT");
    pg_text(s->up, "SELECT pg_current_wal_lsn()", end_lsn, sizeof end_lsn);
    snprintf(sql, sizeof sql, "SELECT pg_size_pretty(pg_wal_lsn_diff('%s', '%s'))", end_lsn,
             start_lsn);
    char wal[64];
    pg_text(s->up, sql, wal, sizeof wal);
    bench_note("%s: backlog built in %.1f s (%.0f rows/s), %s of WAL", name, build_s,
               rows / build_s, wal);

    double recv_s = run_recvlogical(s, end_lsn);
    long recv_spill = slot_spill_bytes(s, RECV_SLOT), sub_spill = 0;
    bench_note("%s: pg_recvlogical %.2f s (%.0f rows/s)", name, recv_s, rows / recv_s);
    if (!bulk)
        s->recv_single_rate = rows / recv_s;
    double sub_s = -1;
    if (s->sub != NULL) {
        long before = slot_spill_bytes(s, SUB_NAME);
        sub_s = run_subscriber(s, tag, end_lsn);
        sub_spill = slot_spill_bytes(s, SUB_NAME) - before;
        bench_note("%s: pg_subscriber %.2f s (%.0f rows/s)", name, sub_s, rows / sub_s);
    }
    double sl_s = -1, predec = 0;
    if (bench_sluice_on(&s->sl)) {
        /* How far sluiced's walsender read the backlog while sluiced was
         * stopped (0 with --sluice-pause terminate). */
        snprintf(sql, sizeof sql,
                 "SELECT coalesce(max(greatest(0, least(1, pg_wal_lsn_diff(r.sent_lsn, '%s') / "
                 "greatest(1, pg_wal_lsn_diff('%s', '%s'))))), 0) FROM pg_stat_replication r "
                 "JOIN pg_replication_slots s ON s.active_pid = r.pid "
                 "WHERE s.slot_name NOT IN ('%s', '%s')",
                 start_lsn, end_lsn, start_lsn, RECV_SLOT, SUB_NAME);
        char buf[64];
        pg_text(s->up, sql, buf, sizeof buf);
        predec = atof(buf);
        double c0 = bench_now_s();
        kill(s->c->sluiced_pid, SIGCONT);
        g_stopped = 0;
        sl_s = sluice_wait(s, "cnt", s->rows, c0, 2);
        if (sl_s > 0)
            bench_note("%s: sluiced %.2f s (%.0f rows/s), predecoded %.2f", name, sl_s, rows / sl_s,
                       predec);
    }
    print_ingest(s, name, rows, build_s, sl_s, predec, "pg_recvlogical", recv_s, recv_spill);
    if (s->sub != NULL)
        print_ingest(s, name, rows, build_s, sl_s, predec, "pg_subscriber", sub_s, sub_spill);
}

/* ------------------------------------------------------------ freshness */

typedef struct fresher {
    const char *dsn;
    int idx, clients;
    long id0, cap;
    double start, end, rate;
    double *commit_at; /* by global transaction number; 0: not committed */
    long done;
    char err[512];
} fresher;

/* Paced single-row transactions into `fresh` (synchronous_commit on: a
 * walsender only sends flushed WAL, so asynchronous commits would add up to
 * wal_writer_delay). The commit time is taken when COMMIT returns. */
static void *
fresher_thread(void *p)
{
    fresher *f = p;
    PGconn *c = bench_connect(f->dsn, f->err, sizeof f->err);
    if (c == NULL)
        return NULL;
    PGresult *r = bench_exec_deadline(c, "SET synchronous_commit = on", 60, f->err, sizeof f->err);
    if (r == NULL)
        goto out;
    PQclear(r);
    for (long i = 0;; i++) {
        long g = f->idx + i * f->clients;
        if (g >= f->cap)
            break;
        double at = f->start + (double)g / f->rate;
        if (at >= f->end)
            break;
        bench_sleep_s(at - bench_now_s());
        char sql[160];
        snprintf(sql, sizeof sql, "INSERT INTO fresh (id, ts) VALUES (%ld, clock_timestamp())",
                 f->id0 + g);
        r = bench_exec_deadline(c, sql, 30, f->err, sizeof f->err);
        if (r == NULL)
            goto out;
        PQclear(r);
        f->commit_at[g] = bench_now_s();
        f->done++;
    }
    f->err[0] = '\0';
out:
    PQfinish(c);
    return NULL;
}

typedef struct fresh_res {
    bool ok;
    long txns;
    double p50, p99, max, achieved, poll_ms;
} fresh_res;

/* Rows of `fresh` the consumer shows: sluiced's view fresh_cnt, or
 * count(*) on the subscriber. 0, or -1 when the consumer failed. */
static int
fresh_count(state *s, bool sluice, long *n)
{
    if (sluice)
        return sluice_count(s, "fresh_cnt", n, s->c->timeout);
    *n = pg_long(s->sub, "SELECT count(*) FROM fresh");
    return 0;
}

/* A live load at `rate` transactions/s for fresh_seconds while polling the
 * consumer's count of `fresh` every millisecond; latency per transaction =
 * the first poll that shows it - its commit. */
static fresh_res
fresh_run(state *s, bool sluice, double rate)
{
    const cfg *c = s->c;
    fresh_res res = {0};
    int k = c->fresh_clients;
    long cap = (long)(rate * c->fresh_seconds) + k + 1, n0;
    if (fresh_count(s, sluice, &n0) < 0)
        return res;
    if (n0 != s->fresh_rows) {
        if (sluice)
            bench_sluice_fail(&s->sl, "fresh_cnt counts %ld rows, expected %ld", n0, s->fresh_rows);
        else
            bench_die("the subscriber's fresh has %ld rows, expected %ld", n0, s->fresh_rows);
        return res;
    }
    double *commit_at = calloc((size_t)cap, sizeof *commit_at);
    pthread_t th[64];
    fresher fs[64];
    double start = bench_now_s() + 0.3;
    for (int i = 0; i < k; i++) {
        fs[i] = (fresher){.dsn = c->pg_dsn,
                          .idx = i,
                          .clients = k,
                          .id0 = s->fresh_rows + 1,
                          .cap = cap,
                          .start = start,
                          .end = start + c->fresh_seconds,
                          .rate = rate,
                          .commit_at = commit_at,
                          .err = "unset"};
        pthread_create(&th[i], NULL, fresher_thread, &fs[i]);
    }
    size_t np = 0, pcap = 1 << 16;
    double *pt = malloc(pcap * sizeof *pt);
    long *pn = malloc(pcap * sizeof *pn);
    double deadline = start + c->fresh_seconds + c->timeout;
    long total = -1, n = 0;
    int joined = 0;
    bool failed = false;
    while (bench_now_s() < deadline) {
        if (fresh_count(s, sluice, &n) < 0) {
            failed = true;
            break;
        }
        double t = bench_now_s();
        if (np == pcap) {
            pcap *= 2;
            pt = realloc(pt, pcap * sizeof *pt);
            pn = realloc(pn, pcap * sizeof *pn);
        }
        pt[np] = t;
        pn[np++] = n - n0;
        if (joined < k && t > start + c->fresh_seconds + 0.5) {
            for (; joined < k; joined++) {
                pthread_join(th[joined], NULL);
                if (fs[joined].err[0] != '\0')
                    bench_die("freshness load: %s", fs[joined].err);
            }
            total = 0;
            for (int i = 0; i < k; i++)
                total += fs[i].done;
            s->fresh_rows += total;
        }
        if (total >= 0 && n - n0 >= total)
            break;
        bench_sleep_s(0.001);
    }
    for (; joined < k; joined++)
        pthread_join(th[joined], NULL);
    if (total < 0) { /* the poller failed before the load ended */
        total = 0;
        for (int i = 0; i < k; i++)
            total += fs[i].done;
        s->fresh_rows += total;
    }
    if (!failed && (np == 0 || n - n0 != total)) {
        if (sluice)
            bench_sluice_fail(&s->sl, "freshness: sluiced showed %ld of %ld rows after %.0f s",
                              n - n0, total, c->timeout);
        else
            bench_die("freshness: the subscriber showed %ld of %ld rows after %.0f s", n - n0,
                      total, c->timeout);
    }
    if (failed || n - n0 != total || total == 0)
        goto out;
    /* Transactions become visible in commit order: the j-th commit (by
     * client-observed commit time) is visible at the first poll counting j
     * rows. Concurrent commits microseconds apart may swap: noise. */
    double *ct = malloc((size_t)total * sizeof *ct);
    long m = 0;
    for (long g = 0; g < cap && m < total; g++)
        if (commit_at[g] > 0)
            ct[m++] = commit_at[g];
    qsort(ct, (size_t)m, sizeof *ct, bench_cmp_double);
    double *lat = malloc((size_t)m * sizeof *lat);
    size_t pi = 0;
    for (long j = 0; j < m; j++) {
        while (pi < np - 1 && pn[pi] < j + 1)
            pi++;
        double l = (pt[pi] - ct[j]) * 1000;
        lat[j] = l > 0 ? l : 0;
    }
    qsort(lat, (size_t)m, sizeof *lat, bench_cmp_double);
    res = (fresh_res){true,
                      m,
                      lat[m / 2],
                      lat[(long)((double)m * 0.99)],
                      lat[m - 1],
                      (double)m / c->fresh_seconds,
                      np > 1 ? (pt[np - 1] - pt[0]) * 1000 / (double)(np - 1) : 0};
    free(ct);
    free(lat);
out:
    free(commit_at);
    free(pt);
    free(pn);
    return res;
}

/* The subscriber first (sluiced stopped), then sluiced (the subscription
 * disabled): each consumer measured alone. */
static void
freshness(state *s)
{
    const cfg *c = s->c;
    double rate = c->fresh_rate;
    if (rate <= 0)
        rate = s->recv_single_rate > 0 ? s->recv_single_rate / 2 : 5000;
    bench_note("freshness: %.0f transactions/s for %.1f s over %d connections", rate,
               c->fresh_seconds, c->fresh_clients);
    fresh_res sub = {0}, sl = {0};
    if (s->sub != NULL) {
        sluice_stop(s);
        pg_cmd(s->sub, "ALTER SUBSCRIPTION " SUB_NAME " ENABLE");
        sub = fresh_run(s, false, rate);
        pg_cmd(s->sub, "ALTER SUBSCRIPTION " SUB_NAME " DISABLE");
        slot_wait_inactive(s, SUB_NAME);
        bench_note("freshness: pg_subscriber p50 %.2f ms, p99 %.2f ms (%.0f txns/s)", sub.p50,
                   sub.p99, sub.achieved);
        resume_sluiced();
    }
    if (bench_sluice_on(&s->sl) &&
        sluice_wait(s, "fresh_cnt", s->fresh_rows, bench_now_s(), 10) >= 0 &&
        sluice_wait(s, "cnt", s->rows, bench_now_s(), 10) >= 0) {
        sl = fresh_run(s, true, rate);
        if (sl.ok)
            bench_note("freshness: sluiced p50 %.2f ms, p99 %.2f ms (%.0f txns/s)", sl.p50, sl.p99,
                       sl.achieved);
    }
    printf("{\"bench\":\"pgcdc\",\"name\":\"freshness\",\"unit\":\"ms\",\"rate_target\":%.0f,"
           "\"clients\":%d,\"seconds\":%.1f,",
           rate, c->fresh_clients, c->fresh_seconds);
    if (sl.ok)
        printf("\"value\":%.2f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,\"txns\":%ld,"
               "\"rate_achieved\":%.0f,\"poll_interval_ms\":%.2f,",
               sl.p99, sl.p50, sl.p99, sl.max, sl.txns, sl.achieved, sl.poll_ms);
    else
        printf("\"value\":null,");
    if (sub.ok)
        printf("\"baseline\":\"pg_subscriber\",\"baseline_p50_ms\":%.2f,\"baseline_p99_ms\":%.2f,"
               "\"baseline_max_ms\":%.2f,\"baseline_rate_achieved\":%.0f,"
               "\"baseline_poll_interval_ms\":%.2f,",
               sub.p50, sub.p99, sub.max, sub.achieved, sub.poll_ms);
    else
        printf("\"baseline\":null,");
    if (sl.ok && sub.ok)
        printf("\"ratio_p99\":%.3f,", sl.p99 / sub.p99);
    if (s->sl.err[0] != '\0')
        printf("\"error\":\"%s\",", s->sl.err);
    printf("\"target_p99_ms\":50}\n");
    fflush(stdout);
}

/* ------------------------------------------------------------ snapshot */

typedef struct copier {
    const char *dsn;
    long lo_blk, hi_blk; /* hi_blk < 0: to the end */
    long rows;
    char err[512];
} copier;

/* COPY one ctid range to STDOUT and discard it, counting rows. */
static void *
copier_thread(void *p)
{
    copier *k = p;
    PGconn *c = bench_connect(k->dsn, k->err, sizeof k->err);
    if (c == NULL)
        return NULL;
    char sql[256];
    if (k->hi_blk >= 0)
        snprintf(sql, sizeof sql,
                 "COPY (SELECT * FROM snap WHERE ctid >= '(%ld,0)' AND ctid < '(%ld,0)') TO STDOUT",
                 k->lo_blk, k->hi_blk);
    else
        snprintf(sql, sizeof sql, "COPY (SELECT * FROM snap WHERE ctid >= '(%ld,0)') TO STDOUT",
                 k->lo_blk);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        snprintf(k->err, sizeof k->err, "%s: %s", sql, PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        return NULL;
    }
    PQclear(r);
    char *buf;
    int len;
    long rows = 0;
    while ((len = PQgetCopyData(c, &buf, 0)) > 0) {
        rows++; /* text COPY: one message per row */
        PQfreemem(buf);
    }
    r = PQgetResult(c);
    if (len != -1 || PQresultStatus(r) != PGRES_COMMAND_OK)
        snprintf(k->err, sizeof k->err, "%s: %s", sql, PQerrorMessage(c));
    else
        k->err[0] = '\0';
    PQclear(r);
    k->rows = rows;
    PQfinish(c);
    return NULL;
}

static double
parallel_copy(state *s, long rows)
{
    int n = s->c->snap_conns;
    long blocks = pg_long(s->up, "SELECT pg_relation_size('snap') / "
                                 "current_setting('block_size')::bigint");
    pthread_t th[64];
    copier ks[64];
    for (int i = 0; i < n; i++)
        ks[i] = (copier){s->c->pg_dsn, blocks * i / n, i == n - 1 ? -1 : blocks * (i + 1) / n, 0,
                         "unset"};
    double t0 = bench_now_s();
    for (int i = 0; i < n; i++)
        pthread_create(&th[i], NULL, copier_thread, &ks[i]);
    long got = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        if (ks[i].err[0] != '\0')
            bench_die("parallel COPY: %s", ks[i].err);
        got += ks[i].rows;
    }
    double secs = bench_now_s() - t0;
    if (got != rows)
        bench_die("parallel COPY read %ld rows, expected %ld", got, rows);
    return secs;
}

static void
snapshot(state *s)
{
    long k = s->c->snap_rows;
    char sql[256], lsn[64];
    bench_note("snapshot: loading %ld rows into snap", k);
    pg_cmd(s->up, "DROP PUBLICATION IF EXISTS " SNAP_PUB);
    pg_cmd(s->up, "DROP TABLE IF EXISTS snap");
    pg_cmd(s->up, "CREATE TABLE snap (id bigint NOT NULL, ts timestamptz NOT NULL DEFAULT "
                  "clock_timestamp(), v text NOT NULL)");
    pg_cmd(s->up, "SET synchronous_commit = off");
    for (long lo = 1; lo <= k; lo += 1000000) {
        long hi = lo + 999999 < k ? lo + 999999 : k;
        snprintf(sql, sizeof sql,
                 "INSERT INTO snap (id, v) SELECT x, 'v' || x FROM generate_series(%ld::bigint, "
                 "%ld) x",
                 lo, hi);
        pg_cmd(s->up, sql);
    }
    pg_cmd(s->up, "SET synchronous_commit = on");
    pg_cmd(s->up, "VACUUM (FREEZE, ANALYZE) snap");
    pg_cmd(s->up, "CREATE PUBLICATION " SNAP_PUB " FOR TABLE snap");
    pg_text(s->up, "SELECT pg_current_wal_lsn()", lsn, sizeof lsn);
    wait_walsenders(s, lsn);

    double base_s = parallel_copy(s, k);
    bench_note("snapshot: parallel COPY (%d connections) %.2f s (%.0f rows/s)", s->c->snap_conns,
               base_s, k / base_s);
    double sl_s = -1;
    if (bench_sluice_on(&s->sl)) {
        double t0 = bench_now_s();
        if (bench_sluice_cmd(&s->sl,
                             "CREATE SOURCE snap_source FROM POSTGRES CONNECTION pg_connection "
                             "(PUBLICATION '" SNAP_PUB "') FOR ALL TABLES WITH (SIZE = '3xsmall')",
                             60) &&
            bench_sluice_cmd(
                &s->sl, "CREATE MATERIALIZED VIEW snap_cnt AS SELECT count(*) AS n FROM snap", 60))
            sl_s = sluice_wait(s, "snap_cnt", k, t0, 5);
        if (sl_s > 0)
            bench_note("snapshot: sluiced %.2f s (%.0f rows/s)", sl_s, k / sl_s);
    }
    printf("{\"bench\":\"pgcdc\",\"name\":\"snapshot\",\"unit\":\"rows/s\",\"rows\":%ld,", k);
    if (sl_s > 0)
        printf("\"value\":%.0f,\"seconds\":%.3f,", k / sl_s, sl_s);
    else
        printf("\"value\":null,");
    printf("\"baseline\":\"parallel_copy\",\"connections\":%d,\"baseline_value\":%.0f,"
           "\"baseline_seconds\":%.3f,",
           s->c->snap_conns, k / base_s, base_s);
    if (sl_s > 0)
        printf("\"ratio\":%.3f", base_s / sl_s);
    else
        printf("\"ratio\":null");
    bench_json_error(&s->sl);
    printf("}\n");
    fflush(stdout);
}

/* ------------------------------------------------------------ setup */

static void
setup_upstream(state *s)
{
    char sql[512];
    s->up = connect_or_die(s->c->pg_dsn);
    snprintf(s->up_host, sizeof s->up_host, "%s", PQhost(s->up));
    snprintf(s->up_port, sizeof s->up_port, "%s", PQport(s->up));
    snprintf(s->up_user, sizeof s->up_user, "%s", PQuser(s->up));
    snprintf(s->up_db, sizeof s->up_db, "%s", PQdb(s->up));
    if (pg_long(s->up, "SELECT (current_setting('wal_level') = 'logical')::int") != 1)
        bench_die("the upstream PostgreSQL needs wal_level = logical");
    /* A stopped consumer must not be disconnected for silence. */
    pg_cmd(s->up, "ALTER SYSTEM SET wal_sender_timeout = 0");
    if (strcmp(s->c->decoding_mem, "default") != 0) {
        snprintf(sql, sizeof sql, "ALTER SYSTEM SET logical_decoding_work_mem = '%s'",
                 s->c->decoding_mem);
        pg_cmd(s->up, sql);
    } else {
        pg_cmd(s->up, "ALTER SYSTEM RESET logical_decoding_work_mem");
    }
    pg_cmd(s->up, "SELECT pg_reload_conf()");
    bench_sleep_s(0.2); /* the reload is asynchronous */
    pg_text(s->up,
            "SELECT setting || coalesce(unit, '') FROM pg_settings "
            "WHERE name = 'logical_decoding_work_mem'",
            s->decoding_mem, sizeof s->decoding_mem);
    pg_cmd(s->up, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                  "WHERE slot_name = '" RECV_SLOT "' AND NOT active");
    pg_cmd(s->up, "DROP PUBLICATION IF EXISTS " PUB);
    pg_cmd(s->up, "DROP TABLE IF EXISTS t, bench_mark, fresh");
    pg_cmd(s->up, "CREATE TABLE fresh (id bigint NOT NULL, ts timestamptz NOT NULL)");
    pg_cmd(s->up, "CREATE TABLE t (id bigint NOT NULL, ts timestamptz NOT NULL DEFAULT "
                  "clock_timestamp(), v text NOT NULL)");
    pg_cmd(s->up, "CREATE TABLE bench_mark (tag text NOT NULL)");
    pg_cmd(s->up, "CREATE OR REPLACE PROCEDURE bench_ins(lo bigint, hi bigint) LANGUAGE plpgsql "
                  "AS $$ BEGIN FOR i IN lo..hi LOOP INSERT INTO t (id, v) VALUES (i, 'v' || i); "
                  "COMMIT; END LOOP; END $$");
    snprintf(sql, sizeof sql,
             "INSERT INTO t (id, v) SELECT x, 'v' || x FROM generate_series(1::bigint, %ld) x",
             s->c->initial);
    pg_cmd(s->up, sql);
    s->next_id = s->c->initial + 1;
    s->rows = s->c->initial;
    pg_cmd(s->up, "CREATE PUBLICATION " PUB " FOR TABLE t, bench_mark, fresh");
}

static void
setup_subscriber(state *s)
{
    char sql[1024];
    s->sub = connect_or_die(s->c->sub_dsn);
    /* A leftover subscription of an earlier run: drop it with its slot. */
    PGresult *r =
        pg_exec(s->sub, "SELECT 1 FROM pg_subscription WHERE subname = '" SUB_NAME "'", 60);
    if (PQntuples(r) > 0) {
        pg_cmd(s->sub, "ALTER SUBSCRIPTION " SUB_NAME " DISABLE");
        bench_sleep_s(0.5);
        pg_cmd(s->sub, "DROP SUBSCRIPTION " SUB_NAME);
    }
    PQclear(r);
    /* The launcher waits wal_retrieve_retry_interval (5 s) between worker
     * starts: ENABLE after a DISABLE would otherwise wait for it. */
    pg_cmd(s->sub, "ALTER SYSTEM SET wal_retrieve_retry_interval = '10ms'");
    pg_cmd(s->sub, "SELECT pg_reload_conf()");
    pg_cmd(s->sub, "DROP TABLE IF EXISTS t, bench_mark, fresh");
    pg_cmd(s->sub, "CREATE TABLE t (id bigint NOT NULL, ts timestamptz NOT NULL, v text NOT NULL)");
    pg_cmd(s->sub, "CREATE TABLE fresh (id bigint NOT NULL, ts timestamptz NOT NULL)");
    pg_cmd(s->sub, "CREATE TABLE bench_mark (tag text NOT NULL)");
    snprintf(sql, sizeof sql,
             "CREATE SUBSCRIPTION " SUB_NAME " CONNECTION 'host=%s port=%s user=%s dbname=%s "
             "password=%s' PUBLICATION " PUB " WITH (copy_data = false, enabled = false, "
             "slot_name = '" SUB_NAME "')",
             s->up_host, s->up_port, s->up_user, s->up_db, s->c->pg_password);
    pg_cmd(s->sub, sql);
    s->sub_base = s->rows;
}

static void
setup_sluice(state *s)
{
    char sql[1024];
    if (!bench_sluice_connect(&s->sl, s->c->dsn))
        return;
    snprintf(sql, sizeof sql, "CREATE SECRET pgpass AS '%s'", s->c->pg_password);
    if (!bench_sluice_cmd(&s->sl, sql, 30))
        return;
    snprintf(sql, sizeof sql,
             "CREATE CONNECTION pg_connection TO POSTGRES (HOST '%s', PORT %s, USER %s, "
             "PASSWORD SECRET pgpass, DATABASE '%s')",
             s->up_host, s->up_port, s->up_user, s->up_db);
    if (!bench_sluice_cmd(&s->sl, sql, 30))
        return;
    if (!bench_sluice_cmd(&s->sl,
                          "CREATE SOURCE mz_source FROM POSTGRES CONNECTION pg_connection "
                          "(PUBLICATION '" PUB "') FOR ALL TABLES WITH (SIZE = '3xsmall')",
                          60))
        return;
    if (!bench_sluice_cmd(&s->sl, "CREATE MATERIALIZED VIEW cnt AS SELECT count(*) AS n FROM t",
                          60) ||
        !bench_sluice_cmd(
            &s->sl, "CREATE MATERIALIZED VIEW fresh_cnt AS SELECT count(*) AS n FROM fresh", 60))
        return;
    double secs = sluice_wait(s, "cnt", s->c->initial, bench_now_s(), 10);
    if (secs >= 0)
        bench_note("sluiced: source snapshot of %ld rows done in %.2f s", s->c->initial, secs);
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: sluice-bench pgcdc --pg-dsn DSN [--sub-dsn DSN] [--dsn DSN --sluiced-pid PID]\n"
            "       [--txns N] [--bulk M] [--snapshot-rows K] [--quick] [--only "
            "ingest|freshness|snapshot]...\n"
            "       [--fresh-seconds S] [--fresh-rate R] [--fresh-clients N] [--load-conns N]\n"
            "       [--sluice-pause terminate|sigstop] [--decoding-work-mem SIZE|default]\n"
            "       [--timeout S] [--pgbin DIR] [--pg-password PW]   (see bench/README.md)\n");
}

int
bench_pgcdc_main(int argc, char **argv)
{
    cfg c = {.pgbin = "/usr/lib/postgresql/15/bin",
             .pg_password = "postgres",
             .pause = "terminate",
             .decoding_mem = "default",
             .txns = 1000000,
             .bulk = 10000000,
             .snap_rows = 10000000,
             .initial = 1000,
             .load_conns = 4,
             .fresh_clients = 2,
             .snap_conns = 2,
             .fresh_seconds = 5,
             .timeout = 600};
    bool only = false;
    static const struct option opts[] = {
        {"pg-dsn", required_argument, NULL, 'p'},
        {"sub-dsn", required_argument, NULL, 'b'},
        {"dsn", required_argument, NULL, 'd'},
        {"sluiced-pid", required_argument, NULL, 'P'},
        {"txns", required_argument, NULL, 'n'},
        {"bulk", required_argument, NULL, 'm'},
        {"snapshot-rows", required_argument, NULL, 'k'},
        {"quick", no_argument, NULL, 'q'},
        {"only", required_argument, NULL, 'o'},
        {"fresh-seconds", required_argument, NULL, 's'},
        {"fresh-rate", required_argument, NULL, 'r'},
        {"fresh-clients", required_argument, NULL, 'c'},
        {"load-conns", required_argument, NULL, 'l'},
        {"sluice-pause", required_argument, NULL, 'z'},
        {"decoding-work-mem", required_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 't'},
        {"pgbin", required_argument, NULL, 'B'},
        {"pg-password", required_argument, NULL, 'W'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    int o;
    while ((o = getopt_long(argc + 1, argv - 1, "", opts, NULL)) != -1) {
        switch (o) {
        case 'p':
            c.pg_dsn = optarg;
            break;
        case 'b':
            c.sub_dsn = optarg;
            break;
        case 'd':
            c.dsn = optarg;
            break;
        case 'P':
            c.sluiced_pid = (pid_t)atol(optarg);
            break;
        case 'n':
            c.txns = atol(optarg);
            break;
        case 'm':
            c.bulk = atol(optarg);
            break;
        case 'k':
            c.snap_rows = atol(optarg);
            break;
        case 'q':
            c.txns = 20000;
            c.bulk = 200000;
            c.snap_rows = 200000;
            c.fresh_seconds = 2;
            c.timeout = 60;
            break;
        case 'o':
            only = true;
            if (strcmp(optarg, "ingest") == 0)
                c.ingest = true;
            else if (strcmp(optarg, "freshness") == 0)
                c.fresh = true;
            else if (strcmp(optarg, "snapshot") == 0)
                c.snap = true;
            else {
                usage();
                return 2;
            }
            break;
        case 's':
            c.fresh_seconds = atof(optarg);
            break;
        case 'r':
            c.fresh_rate = atof(optarg);
            break;
        case 'c':
            c.fresh_clients = atoi(optarg);
            break;
        case 'l':
            c.load_conns = atoi(optarg);
            break;
        case 'z':
            c.pause = optarg;
            break;
        case 'w':
            c.decoding_mem = optarg;
            break;
        case 't':
            c.timeout = atof(optarg);
            break;
        case 'B':
            c.pgbin = optarg;
            break;
        case 'W':
            c.pg_password = optarg;
            break;
        default:
            usage();
            return 2;
        }
    }
    if (!only)
        c.ingest = c.fresh = c.snap = true;
    if (c.pg_dsn == NULL || c.txns < 1 || c.bulk < 1 || c.snap_rows < 1 || c.timeout <= 0 ||
        c.load_conns < 1 || c.load_conns > 64 || c.fresh_clients < 1 || c.fresh_clients > 64 ||
        c.fresh_seconds <= 0 || (c.dsn != NULL && c.sluiced_pid <= 0) ||
        (strcmp(c.pause, "sigstop") != 0 && strcmp(c.pause, "terminate") != 0)) {
        usage();
        return 2;
    }

    g_sluiced = c.sluiced_pid;
    bench_start("sluice-bench pgcdc", resume_sluiced);
    /* The whole run: every wait has its own deadline; this catches the rest. */
    alarm((unsigned)(c.timeout * 12 + 600));

    state s = {.c = &c, .sl = {.timeout = c.timeout, .on_fail = resume_sluiced}};
    setup_upstream(&s);
    if (c.dsn != NULL)
        setup_sluice(&s);
    else
        snprintf(s.sl.err, sizeof s.sl.err, "no sluiced (--dsn)");
    if (c.ingest || c.fresh) {
        if (c.sub_dsn != NULL)
            setup_subscriber(&s);
        else
            bench_note("no --sub-dsn: the pg_subscriber baseline is skipped");
    }
    if (c.ingest) {
        ingest_one(&s, "ingest_single_row_txns", c.txns, false);
        ingest_one(&s, "ingest_bulk_txn", c.bulk, true);
        pg_cmd(s.up, "SELECT pg_drop_replication_slot('" RECV_SLOT "')");
    }
    if (c.fresh)
        freshness(&s);
    /* The subscription's slot would hold WAL and decode the snapshot load. */
    if (s.sub != NULL) {
        pg_cmd(s.sub, "DROP SUBSCRIPTION " SUB_NAME);
        PQfinish(s.sub);
        s.sub = NULL;
    }
    if (c.snap)
        snapshot(&s);
    if (s.sl.conn != NULL)
        PQfinish(s.sl.conn);
    PQfinish(s.up);
    return s.sl.failed ? 1 : 0;
}
