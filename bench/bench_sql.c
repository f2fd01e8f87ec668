/* sluice-bench peek | pgwire: the SQL front end measured through real
 * clients (libpq), side by side with PostgreSQL in the same run.
 *
 *   peek   keyed SELECT latency (p50/p99) on an indexed view of --rows rows
 *          (prepared statement, one client), against the same query on a
 *          PostgreSQL table with a btree index.
 *   pgwire simple-query throughput (SELECT 1) with --clients connections
 *          for --seconds, against PostgreSQL.
 *
 * --dsn is sluiced's DSN, --pg-dsn PostgreSQL's (scripts/bench-sql starts
 * both with the test harness). Without --pg-dsn only sluiced is measured
 * (baseline null). Every answer is checked: a wrong row fails the run. */
#include <getopt.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static PGconn *
connect_or_die(const char *dsn)
{
    PGconn *c = PQconnectdb(dsn);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "sluice-bench: cannot connect to %s: %s", dsn, PQerrorMessage(c));
        exit(1);
    }
    return c;
}

static void
exec_or_die(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fprintf(stderr, "sluice-bench: %s: %s", sql, PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct lat {
    double p50_ms, p99_ms, max_ms;
} lat;

/* Loads the data, then times `queries` keyed lookups. sluice: view + index
 * (a peek); PostgreSQL: table + btree index. */
static lat
run_peek(const char *dsn, bool sluice, long rows, int queries)
{
    PGconn *c = connect_or_die(dsn);
    exec_or_die(c, "DROP VIEW IF EXISTS bench_pv");
    exec_or_die(c, "DROP TABLE IF EXISTS bench_pk");
    exec_or_die(c, "CREATE TABLE bench_pk (k bigint, v text, n bigint)");
    char sql[256];
    double t0 = now_s();
    /* Batches keep each statement's CONST reasonable. */
    for (long lo = 1; lo <= rows; lo += 250000) {
        long hi = lo + 250000 - 1 < rows ? lo + 250000 - 1 : rows;
        snprintf(sql, sizeof sql,
                 "INSERT INTO bench_pk SELECT x, 'v' || x, x %% 100 FROM generate_series(%ld, "
                 "%ld) x",
                 lo, hi);
        exec_or_die(c, sql);
    }
    if (sluice) {
        exec_or_die(c, "CREATE VIEW bench_pv AS SELECT k, v, n FROM bench_pk");
        exec_or_die(c, "CREATE INDEX bench_pv_k ON bench_pv (k)");
    } else {
        exec_or_die(c, "CREATE INDEX bench_pk_k ON bench_pk (k)");
        exec_or_die(c, "CREATE VIEW bench_pv AS SELECT k, v, n FROM bench_pk");
        exec_or_die(c, "ANALYZE bench_pk");
    }
    /* Wait until the view answers (the index is built). */
    PGresult *r = PQexec(c, "SELECT count(*) FROM bench_pv");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || atol(PQgetvalue(r, 0, 0)) != rows) {
        fprintf(stderr, "sluice-bench: count(*) = %s, expected %ld\n",
                PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : PQerrorMessage(c),
                rows);
        exit(1);
    }
    PQclear(r);
    double load = now_s() - t0;
    r = PQprepare(c, "q", "SELECT v, n FROM bench_pv WHERE k = $1", 1, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "sluice-bench: prepare: %s", PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
    double *ms = calloc((size_t)queries, sizeof *ms);
    uint64_t seed = 42;
    for (int i = 0; i < queries; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        long k = (long)((seed >> 33) % (uint64_t)rows) + 1;
        char ks[32], want[40];
        snprintf(ks, sizeof ks, "%ld", k);
        snprintf(want, sizeof want, "v%ld", k);
        const char *vals[1] = {ks};
        double a = now_s();
        r = PQexecPrepared(c, "q", 1, vals, NULL, NULL, 0);
        ms[i] = (now_s() - a) * 1000;
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
            strcmp(PQgetvalue(r, 0, 0), want) != 0 || atol(PQgetvalue(r, 0, 1)) != k % 100) {
            fprintf(stderr, "sluice-bench: wrong answer for k=%ld: %s\n", k,
                    PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0)
                                                                             : PQerrorMessage(c));
            exit(1);
        }
        PQclear(r);
    }
    qsort(ms, (size_t)queries, sizeof *ms, cmp_double);
    lat l = {ms[queries / 2], ms[(int)((double)queries * 0.99)], ms[queries - 1]};
    free(ms);
    fprintf(stderr, "sluice-bench: %s loaded %ld rows in %.1f s\n", sluice ? "sluiced" : "postgres",
            rows, load);
    exec_or_die(c, "DROP VIEW bench_pv");
    exec_or_die(c, "DROP TABLE bench_pk");
    PQfinish(c);
    return l;
}

typedef struct tput_arg {
    const char *dsn;
    double until;
    long count;
    atomic_int *ready;
} tput_arg;

static void *
tput_thread(void *p)
{
    tput_arg *a = p;
    PGconn *c = connect_or_die(a->dsn);
    atomic_fetch_add(a->ready, 1);
    while (now_s() < a->until) {
        PGresult *r = PQexec(c, "SELECT 1");
        if (PQresultStatus(r) != PGRES_TUPLES_OK || strcmp(PQgetvalue(r, 0, 0), "1") != 0) {
            fprintf(stderr, "sluice-bench: SELECT 1 failed: %s", PQerrorMessage(c));
            exit(1);
        }
        PQclear(r);
        a->count++;
    }
    PQfinish(c);
    return NULL;
}

static double
run_tput(const char *dsn, int clients, double seconds)
{
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    tput_arg *args = calloc((size_t)clients, sizeof *args);
    atomic_int ready = 0;
    double start = now_s() + 0.5 + clients * 0.01;
    for (int i = 0; i < clients; i++) {
        args[i] = (tput_arg){dsn, start + seconds, 0, &ready};
        pthread_create(&th[i], NULL, tput_thread, &args[i]);
    }
    long total = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(th[i], NULL);
        total += args[i].count;
    }
    free(th);
    free(args);
    /* Connection setup overlaps the first half second; count over the
     * whole window is close enough and conservative for both sides. */
    return (double)total / (seconds + 0.5 + clients * 0.01);
}

static void
usage(void)
{
    fprintf(stderr, "usage: sluice-bench peek|pgwire --dsn DSN [--pg-dsn DSN] [--rows N] "
                    "[--queries N] [--clients N] [--seconds S]\n");
}

int
bench_sql_main(const char *mode, int argc, char **argv)
{
    const char *dsn = NULL, *pg = NULL;
    long rows = 1000000;
    int queries = 20000, clients = 32;
    double seconds = 5;
    static const struct option opts[] = {
        {"dsn", required_argument, NULL, 'd'},
        {"pg-dsn", required_argument, NULL, 'p'},
        {"rows", required_argument, NULL, 'r'},
        {"queries", required_argument, NULL, 'q'},
        {"clients", required_argument, NULL, 'c'},
        {"seconds", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    int o;
    while ((o = getopt_long(argc + 1, argv - 1, "", opts, NULL)) != -1) {
        switch (o) {
        case 'd':
            dsn = optarg;
            break;
        case 'p':
            pg = optarg;
            break;
        case 'r':
            rows = atol(optarg);
            break;
        case 'q':
            queries = atoi(optarg);
            break;
        case 'c':
            clients = atoi(optarg);
            break;
        case 's':
            seconds = atof(optarg);
            break;
        default:
            usage();
            return 2;
        }
    }
    if (dsn == NULL || rows < 1 || queries < 100 || clients < 1 || seconds <= 0) {
        usage();
        return 2;
    }
    if (strcmp(mode, "peek") == 0) {
        lat s = run_peek(dsn, true, rows, queries);
        printf("{\"bench\":\"keyed_peek\",\"rows\":%ld,\"queries\":%d,\"p50_ms\":%.3f,"
               "\"p99_ms\":%.3f,\"max_ms\":%.3f",
               rows, queries, s.p50_ms, s.p99_ms, s.max_ms);
        if (pg != NULL) {
            lat p = run_peek(pg, false, rows, queries);
            printf(",\"baseline\":\"postgresql\",\"baseline_p50_ms\":%.3f,\"baseline_p99_ms\":%.3f,"
                   "\"ratio_p99\":%.3f",
                   p.p50_ms, p.p99_ms, s.p99_ms / p.p99_ms);
        } else {
            printf(",\"baseline\":null");
        }
        printf(",\"target_p99_ms\":1.0}\n");
        return 0;
    }
    double s = run_tput(dsn, clients, seconds);
    printf("{\"bench\":\"pgwire_select1\",\"clients\":%d,\"seconds\":%.1f,\"queries_per_s\":%.0f",
           clients, seconds, s);
    if (pg != NULL) {
        double p = run_tput(pg, clients, seconds);
        printf(",\"baseline\":\"postgresql\",\"baseline_queries_per_s\":%.0f,\"ratio\":%.3f", p,
               s / p);
    } else {
        printf(",\"baseline\":null");
    }
    printf(",\"target_ratio\":1.0}\n");
    return 0;
}
