/* sluice-bench kafka: Debezium messages from Kafka into sluiced, side by
 * side with kcat reading the same topic in one run.
 *
 *   debezium_json  Debezium JSON with the schema in every message (the
 *                  JsonConverter's schemas.enable=true), FORMAT JSON
 *                  ENVELOPE DEBEZIUM.
 *   debezium_avro  Debezium Avro in the Confluent framing, schemas in a
 *                  schema registry, FORMAT AVRO USING CONFLUENT SCHEMA
 *                  REGISTRY CONNECTION ... ENVELOPE DEBEZIUM.
 *
 * Notes
 * - Load. sluice-kafka-produce --gen-debezium N writes N inserts of a
 *   customers table (ids 1..N, keyed by id) round-robin over the topic's
 *   partitions, before anything is timed. The harness's Kafka is
 *   librdkafka's mock cluster: it keeps about 5 MiB per partition and drops
 *   older message sets silently, so the defaults spread N thin enough
 *   (JSON events are ~1.7 KiB, Avro ~115 B), and the first kcat run counts
 *   what the topic holds: anything but N ends the run. The mock answers a
 *   fetch with one message set per partition and finds it by a linear scan,
 *   so small producer batches make it, not the consumer, the bottleneck;
 *   the producer lingers --linger-ms (default 100) to write big batches.
 * - Baseline. `kcat -C -b B -t T -o beginning -e -q -X
 *   fetch.wait.max.ms=10 > /dev/null`: the broker path without decoding,
 *   timed from fork to exit; its CPU time from wait4's rusage. sluiced's
 *   consumer fetches with fetch.wait.max.ms=10 (io/kafka.c); kcat's default
 *   (500) adds ~0.5 s of waiting at the end of the topic before -e exits
 *   (measured), so the baseline uses sluiced's setting
 *   (--kcat-fetch-wait-ms 500 gives kcat's default).
 * - sluiced. Timed from CREATE SOURCE (which reads topic metadata and, for
 *   JSON, the newest messages' embedded schemas), followed by CREATE
 *   MATERIALIZED VIEW cnt AS SELECT count(*) AS n FROM src, until
 *   `SELECT n FROM cnt` returns N (a read waits until the topic's contents
 *   at start are in); --count select instead polls `SELECT count(*) FROM
 *   src`, an ad hoc scan of the source (~0.2 s for 1M rows). Its CPU
 *   time is the utime + stime delta of the sluiced process (/proc/PID/stat)
 *   over that span, so it includes every thread's work (and the little an
 *   idle sluiced spends, reported as sluiced_idle_cpu_per_s).
 *   `rehydration_seconds` is the source's own figure
 *   (mz_internal.mz_source_statistics.rehydration_latency: from the
 *   consumer's start until the start contents are readable). Each run
 *   creates a new source reading the topic from the beginning and drops it
 *   afterwards.
 * - Runs. A warm-up of each side first (the kcat one counts), then --reps
 *   runs alternating kcat and sluiced; the figures are medians.
 * - Every statement has a deadline (--timeout); a global alarm ends the run
 *   if anything else hangs. A sluiced that refuses a statement or gives a
 *   wrong count makes its figures null with an `error` and the exit status
 *   1; the baseline is still measured. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"

#define TOPIC_JSON "bench_dbz_json"
#define TOPIC_AVRO "bench_dbz_avro"
#define MAX_REPS 32

typedef struct cfg {
    const char *brokers, *dsn, *registry, *produce, *schema_dir, *kcat;
    pid_t sluiced_pid;
    long json_n, avro_n;
    int json_parts, avro_parts, reps, linger_ms, kcat_wait_ms;
    double timeout;
    bool json, avro;
    bool select_count; /* --count select: SELECT count(*) FROM src, not a view */
} cfg;

typedef struct state {
    const cfg *c;
    PGconn *sl;
    char sluice_err[512]; /* non-empty: the sluice parts are skipped */
    bool failed;
    int sources; /* sources created so far (their names) */
    double idle_cpu_per_s;
} state;

/* One timed run of either side. */
typedef struct run {
    double secs, cpu, create_s, rehyd_s;
} run;

/* ------------------------------------------------------------ process state */

static volatile pid_t g_child = 0;

static void
cleanup(void)
{
    if (g_child > 0)
        kill(g_child, SIGKILL);
}

static void
on_signal(int sig)
{
    static const char msg[] = "sluice-bench kafka: interrupted (signal or --timeout alarm)\n";
    cleanup();
    if (write(2, msg, sizeof msg - 1) < 0) {
        /* nothing left to do */
    }
    _exit(sig == SIGALRM ? 1 : 128 + sig);
}

static void
die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sluice-bench kafka: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cleanup();
    exit(1);
}

static void
note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sluice-bench kafka: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
median(const double *v, int n)
{
    double s[MAX_REPS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* CPU seconds (user + system) a process has used so far, -1 if unknown.
 * The command name in /proc/PID/stat may hold spaces: fields are counted
 * from its closing parenthesis. */
static double
proc_cpu_s(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* after ")": state(3) ppid pgrp session tty_nr tpgid flags minflt
     * cminflt majflt cmajflt utime(14) stime(15) */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ------------------------------------------------------------ children */

/* Starts argv with stdin from /dev/null and stdout to out_fd (-1:
 * /dev/null). Returns its pid (also in g_child, killed on exit). */
static pid_t
spawn(char *const argv[], int out_fd)
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(out_fd >= 0 ? out_fd : nul, 1);
        }
        execvp(argv[0], argv);
        fprintf(stderr, "sluice-bench kafka: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    g_child = pid;
    return pid;
}

/* Waits for a child of spawn() until t0 + timeout (then kills it and
 * returns -1). Returns its exit status (128 + signal if killed), with
 * *secs since t0 and *cpu its user + system time. */
static int
wait_child(pid_t pid, double t0, double timeout, double *secs, double *cpu)
{
    int st = 0;
    struct rusage ru;
    double end = t0 + timeout;
    for (;;) {
        pid_t w = wait4(pid, &st, WNOHANG, &ru);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            die("wait4: %s", strerror(errno));
        if (now_s() > end) {
            kill(pid, SIGKILL);
            wait4(pid, &st, 0, &ru);
            g_child = 0;
            return -1;
        }
        sleep_s(0.0005);
    }
    *secs = now_s() - t0;
    g_child = 0;
    *cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* ------------------------------------------------------------ libpq helpers */

static void
quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Runs sql (one or more statements) and waits at most secs for the answer.
 * Returns the last result (free with PQclear), or NULL with *err filled if
 * any statement failed, the connection broke or the deadline passed (the
 * statement is then cancelled). Blocks. */
static PGresult *
exec_deadline(PGconn *c, const char *sql, double secs, char *err, size_t errlen)
{
    if (!PQsendQuery(c, sql)) {
        snprintf(err, errlen, "%s: %s", sql, PQerrorMessage(c));
        return NULL;
    }
    double end = now_s() + secs;
    PGresult *last = NULL;
    bool bad = false, cancelled = false;
    err[0] = '\0';
    for (;;) {
        while (!PQisBusy(c)) {
            PGresult *r = PQgetResult(c);
            if (r == NULL)
                goto done;
            ExecStatusType st = PQresultStatus(r);
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
                if (!bad && !cancelled)
                    snprintf(err, errlen, "%s: %s", sql, PQresultErrorMessage(r));
                bad = true;
            }
            PQclear(last);
            last = r;
        }
        double left = end - now_s();
        if (left <= 0) {
            if (cancelled) {
                snprintf(err, errlen, "%s: no answer within %.0f s (cancel ignored)", sql, secs);
                PQclear(last);
                return NULL;
            }
            PGcancel *k = PQgetCancel(c);
            char buf[256];
            if (k != NULL) {
                PQcancel(k, buf, sizeof buf);
                PQfreeCancel(k);
            }
            snprintf(err, errlen, "%s: no answer within %.0f s (cancelled)", sql, secs);
            bad = cancelled = true;
            end = now_s() + 5;
            continue;
        }
        struct pollfd p = {PQsocket(c), POLLIN, 0};
        int ms = left > 0.1 ? 100 : (int)(left * 1000) + 1;
        if (poll(&p, 1, ms) < 0 && errno != EINTR) {
            snprintf(err, errlen, "%s: poll: %s", sql, strerror(errno));
            PQclear(last);
            return NULL;
        }
        if (!PQconsumeInput(c)) {
            snprintf(err, errlen, "%s: %s", sql, PQerrorMessage(c));
            PQclear(last);
            return NULL;
        }
    }
done:
    if (bad) {
        PQclear(last);
        return NULL;
    }
    return last;
}

/* ------------------------------------------------------------ sluiced */

static bool
sluice_on(const state *s)
{
    return s->sl != NULL && s->sluice_err[0] == '\0';
}

static void
sluice_fail(state *s, const char *fmt, ...)
{
    if (s->sluice_err[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->sluice_err, sizeof s->sluice_err, fmt, ap);
    va_end(ap);
    for (char *p = s->sluice_err; *p; p++)
        if (*p == '\n' || *p == '"' || *p == '\\')
            *p = ' ';
    note("sluice part failed: %s", s->sluice_err);
    s->failed = true;
}

static bool
sluice_cmd(state *s, const char *sql, double secs)
{
    char err[512];
    PGresult *r = exec_deadline(s->sl, sql, secs, err, sizeof err);
    if (r == NULL) {
        sluice_fail(s, "%s", err);
        return false;
    }
    PQclear(r);
    return true;
}

/* One row of sql through sluiced, waiting at most secs: the result (free
 * with PQclear), or NULL (sluice failed). */
static PGresult *
sluice_row(state *s, const char *sql, double secs)
{
    char err[512];
    PGresult *r = exec_deadline(s->sl, sql, secs, err, sizeof err);
    if (r == NULL) {
        sluice_fail(s, "%s", err);
        return NULL;
    }
    if (PQntuples(r) != 1) {
        sluice_fail(s, "%s: %d rows, expected 1", sql, PQntuples(r));
        PQclear(r);
        return NULL;
    }
    return r;
}

/* Seconds of an interval in PostgreSQL's text output ("[N day[s] ]HH:MM:SS[.f]"),
 * -1 if it is something else. */
static double
interval_s(const char *t)
{
    double days = 0, h = 0, m = 0, sec = 0;
    const char *p = strstr(t, "day");
    if (p != NULL) {
        days = atof(t);
        p = strchr(p, ' ');
        t = p != NULL ? p + 1 : "0:0:0";
    }
    if (sscanf(t, "%lf:%lf:%lf", &h, &m, &sec) != 3)
        return -1;
    return days * 86400 + h * 3600 + m * 60 + sec;
}

static void
setup_sluice(state *s)
{
    char err[512], sql[1024];
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    const char *vals[] = {s->c->dsn, "10", NULL};
    s->sl = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(s->sl) != CONNECTION_OK) {
        snprintf(err, sizeof err, "cannot connect to %s: %s", s->c->dsn, PQerrorMessage(s->sl));
        PQfinish(s->sl);
        s->sl = NULL;
        sluice_fail(s, "%s", err);
        return;
    }
    PQsetNoticeProcessor(s->sl, quiet_notice, NULL);
    snprintf(sql, sizeof sql, "CREATE CONNECTION bench_kafka TO KAFKA (BROKER '%s')",
             s->c->brokers);
    if (!sluice_cmd(s, sql, 30))
        return;
    /* What an idle sluiced spends (its timers), to read cpu_seconds by. */
    if (s->c->sluiced_pid > 0) {
        double c0 = proc_cpu_s(s->c->sluiced_pid), t0 = now_s();
        sleep_s(1);
        double c1 = proc_cpu_s(s->c->sluiced_pid);
        s->idle_cpu_per_s = c0 >= 0 && c1 >= 0 ? (c1 - c0) / (now_s() - t0) : -1;
    }
}

/* CREATE SOURCE over topic and a view counting it until the view says
 * want (--count select: until `SELECT count(*)` from the source does),
 * then DROP SOURCE ... CASCADE. Returns false (sluice failed) on a refused statement, a timeout
 * or a wrong count. */
static bool
sluice_run(state *s, bool avro, const char *topic, long want, run *out)
{
    const cfg *c = s->c;
    char name[64], sql[1024];
    snprintf(name, sizeof name, "bench_src_%d", ++s->sources);
    if (avro)
        snprintf(sql, sizeof sql,
                 "CREATE SOURCE %s FROM KAFKA CONNECTION bench_kafka (TOPIC '%s') FORMAT AVRO "
                 "USING CONFLUENT SCHEMA REGISTRY CONNECTION bench_csr ENVELOPE DEBEZIUM",
                 name, topic);
    else
        snprintf(sql, sizeof sql,
                 "CREATE SOURCE %s FROM KAFKA CONNECTION bench_kafka (TOPIC '%s') FORMAT JSON "
                 "ENVELOPE DEBEZIUM",
                 name, topic);
    double c0 = c->sluiced_pid > 0 ? proc_cpu_s(c->sluiced_pid) : -1;
    double t0 = now_s(), end = t0 + c->timeout;
    if (!sluice_cmd(s, sql, c->timeout))
        return false;
    out->create_s = now_s() - t0;
    char count_sql[128];
    if (c->select_count) {
        snprintf(count_sql, sizeof count_sql, "SELECT count(*) FROM %s", name);
    } else {
        snprintf(sql, sizeof sql, "CREATE MATERIALIZED VIEW %s_cnt AS SELECT count(*) AS n FROM %s",
                 name, name);
        if (!sluice_cmd(s, sql, c->timeout))
            return false;
        snprintf(count_sql, sizeof count_sql, "SELECT n FROM %s_cnt", name);
    }
    long n = -1;
    for (;;) {
        double left = end - now_s();
        PGresult *r = sluice_row(s, count_sql, left > 1 ? left : 1);
        if (r == NULL)
            return false;
        n = atol(PQgetvalue(r, 0, 0));
        PQclear(r);
        if (n == want)
            break;
        if (n > want) {
            sluice_fail(s, "%s counts %ld rows, expected %ld (wrong answer)", name, n, want);
            return false;
        }
        if (now_s() > end) {
            sluice_fail(s, "%s counted %ld rows after %.0f s, expected %ld", name, n, c->timeout,
                        want);
            return false;
        }
        sleep_s(0.005);
    }
    out->secs = now_s() - t0;
    double c1 = c->sluiced_pid > 0 ? proc_cpu_s(c->sluiced_pid) : -1;
    out->cpu = c0 >= 0 && c1 >= 0 ? c1 - c0 : -1;
    snprintf(sql, sizeof sql,
             "SELECT rehydration_latency FROM mz_internal.mz_source_statistics WHERE name = '%s'",
             name);
    PGresult *r = sluice_row(s, sql, 30);
    if (r == NULL)
        return false;
    out->rehyd_s = PQgetisnull(r, 0, 0) ? -1 : interval_s(PQgetvalue(r, 0, 0));
    PQclear(r);
    snprintf(sql, sizeof sql, "DROP SOURCE %s CASCADE", name);
    if (!sluice_cmd(s, sql, 60))
        return false;
    sleep_s(0.3); /* the consumer thread stops, the arrangement goes */
    return true;
}

/* ------------------------------------------------------------ Kafka side */

static void
produce(state *s, bool avro, const char *topic, long n, int parts)
{
    const cfg *c = s->c;
    char nbuf[32], pbuf[32], linger[64], vs[1024], ks[1024];
    snprintf(nbuf, sizeof nbuf, "%ld", n);
    snprintf(pbuf, sizeof pbuf, "%d", parts);
    snprintf(linger, sizeof linger, "linger.ms=%d", c->linger_ms);
    char *argv[32];
    int a = 0;
    argv[a++] = (char *)c->produce;
    argv[a++] = "-b";
    argv[a++] = (char *)c->brokers;
    argv[a++] = "-t";
    argv[a++] = (char *)topic;
    argv[a++] = "--gen-debezium";
    argv[a++] = nbuf;
    argv[a++] = "--gen-format";
    argv[a++] = avro ? "avro" : "json";
    argv[a++] = "--gen-partitions";
    argv[a++] = pbuf;
    argv[a++] = "-X";
    argv[a++] = linger;
    if (avro) {
        snprintf(vs, sizeof vs, "%s/envelope.avsc", c->schema_dir);
        snprintf(ks, sizeof ks, "%s/key.avsc", c->schema_dir);
        argv[a++] = "--registry";
        argv[a++] = (char *)c->registry;
        argv[a++] = "--value-schema";
        argv[a++] = vs;
        argv[a++] = "--key-schema";
        argv[a++] = ks;
    }
    argv[a] = NULL;
    double t0 = now_s(), secs = 0, cpu = 0;
    pid_t pid = spawn(argv, -1);
    int st = wait_child(pid, t0, c->timeout * 4, &secs, &cpu);
    if (st != 0)
        die("%s --gen-debezium %ld into %s failed (status %d)", c->produce, n, topic, st);
    note("%s: produced %ld messages over %d partitions in %.1f s", topic, n, parts, secs);
}

/* kcat reading the whole topic once. counted: its output is one byte per
 * message, counted into *count; otherwise it goes to /dev/null (timed). */
static void
kcat_run(state *s, const char *topic, bool counted, long *count, run *out)
{
    const cfg *c = s->c;
    char wait[64];
    snprintf(wait, sizeof wait, "fetch.wait.max.ms=%d", c->kcat_wait_ms);
    char *argv[16];
    int a = 0;
    argv[a++] = (char *)c->kcat;
    argv[a++] = "-C";
    argv[a++] = "-b";
    argv[a++] = (char *)c->brokers;
    argv[a++] = "-t";
    argv[a++] = (char *)topic;
    argv[a++] = "-o";
    argv[a++] = "beginning";
    argv[a++] = "-e";
    argv[a++] = "-q";
    argv[a++] = "-X";
    argv[a++] = wait;
    if (counted) {
        argv[a++] = "-f";
        argv[a++] = "x";
    }
    argv[a] = NULL;
    int fds[2] = {-1, -1};
    if (counted && pipe2(fds, O_CLOEXEC) != 0)
        die("pipe: %s", strerror(errno));
    double t0 = now_s();
    pid_t pid = spawn(argv, fds[1]);
    if (counted) {
        close(fds[1]);
        long got = 0;
        char buf[65536];
        for (;;) {
            double left = t0 + c->timeout - now_s();
            struct pollfd p = {fds[0], POLLIN, 0};
            if (left <= 0)
                break;
            if (poll(&p, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
                die("poll: %s", strerror(errno));
            ssize_t k = read(fds[0], buf, sizeof buf);
            if (k == 0)
                break;
            if (k < 0 && errno != EINTR && errno != EAGAIN)
                die("read: %s", strerror(errno));
            if (k > 0)
                got += k;
        }
        close(fds[0]);
        *count = got;
    }
    int st = wait_child(pid, t0, c->timeout, &out->secs, &out->cpu);
    if (st < 0)
        die("kcat did not read %s within %.0f s", topic, c->timeout);
    if (st != 0)
        die("kcat -C -t %s failed (status %d)", topic, st);
}

/* ------------------------------------------------------------ one workload */

static void
print_json_double(const char *key, double v, const char *fmt)
{
    printf(",\"%s\":", key);
    if (v < 0)
        printf("null");
    else
        printf(fmt, v);
}

static void
bench_one(state *s, const char *name, bool avro, const char *topic, long n, int parts,
          double target)
{
    const cfg *c = s->c;
    produce(s, avro, topic, n, parts);
    run warm = {0};
    long count = 0;
    kcat_run(s, topic, true, &count, &warm);
    if (count != n)
        die("%s: kcat read %ld messages, %ld were produced: the Kafka mock dropped some (it "
            "keeps ~5 MiB per partition); use more partitions or fewer messages",
            topic, count, n);
    note("%s: kcat read all %ld messages (warm-up, %.2f s)", topic, count, warm.secs);
    if (sluice_on(s) && sluice_run(s, avro, topic, n, &warm))
        note("%s: sluiced warm-up %.2f s (CREATE SOURCE %.2f s)", topic, warm.secs, warm.create_s);
    int reps = c->reps;
    double ks[MAX_REPS], kc[MAX_REPS], ss[MAX_REPS], sc[MAX_REPS], scr[MAX_REPS], sr[MAX_REPS];
    int nk = 0, ns = 0;
    for (int r = 0; r < reps; r++) {
        run k = {0};
        kcat_run(s, topic, false, NULL, &k);
        ks[nk] = k.secs;
        kc[nk++] = k.cpu;
        note("%s: run %d: kcat %.3f s (%.0f msgs/s), cpu %.2f s", topic, r + 1, k.secs, n / k.secs,
             k.cpu);
        run sl = {0};
        if (sluice_on(s) && sluice_run(s, avro, topic, n, &sl)) {
            ss[ns] = sl.secs;
            sc[ns] = sl.cpu;
            scr[ns] = sl.create_s;
            sr[ns++] = sl.rehyd_s;
            note("%s: run %d: sluiced %.3f s (%.0f msgs/s; CREATE SOURCE %.2f s, rehydration "
                 "%.2f s), cpu %.2f s",
                 topic, r + 1, sl.secs, n / sl.secs, sl.create_s, sl.rehyd_s, sl.cpu);
        }
    }
    double kmed = median(ks, nk), kcpu = median(kc, nk);
    bool have = ns == reps;
    double smed = have ? median(ss, ns) : -1, scpu = have ? median(sc, ns) : -1;
    printf("{\"bench\":\"kafka\",\"name\":\"%s\",\"unit\":\"msgs/s\",\"messages\":%ld,"
           "\"partitions\":%d,\"runs\":%d,\"count\":\"%s\"",
           name, n, parts, reps, c->select_count ? "select" : "view");
    if (have) {
        printf(",\"seconds\":%.3f,\"msgs_per_s\":%.0f", smed, n / smed);
        print_json_double("cpu_seconds", scpu, "%.2f");
        print_json_double("create_source_seconds", median(scr, ns), "%.3f");
        print_json_double("rehydration_seconds", median(sr, ns), "%.3f");
    } else {
        printf(",\"seconds\":null,\"msgs_per_s\":null,\"cpu_seconds\":null");
    }
    printf(",\"baseline\":\"kcat\",\"baseline_fetch_wait_ms\":%d,\"baseline_seconds\":%.3f,"
           "\"baseline_msgs_per_s\":%.0f,\"baseline_cpu_seconds\":%.2f",
           c->kcat_wait_ms, kmed, n / kmed, kcpu);
    if (have) {
        printf(",\"ratio\":%.3f", kmed / smed);
        print_json_double("cpu_ratio", scpu > 0 ? kcpu / scpu : -1, "%.3f");
        printf(",\"target\":%.1f,\"met\":%s", target, kmed / smed >= target ? "true" : "false");
    } else {
        printf(",\"ratio\":null,\"target\":%.1f,\"met\":null", target);
    }
    print_json_double("sluiced_idle_cpu_per_s", s->idle_cpu_per_s, "%.3f");
    printf(",\"seconds_all\":[");
    for (int i = 0; i < ns; i++)
        printf("%s%.3f", i ? "," : "", ss[i]);
    printf("],\"baseline_seconds_all\":[");
    for (int i = 0; i < nk; i++)
        printf("%s%.3f", i ? "," : "", ks[i]);
    printf("]");
    if (s->sluice_err[0] != '\0')
        printf(",\"error\":\"%s\"", s->sluice_err);
    printf("}\n");
    fflush(stdout);
}

/* ------------------------------------------------------------ main */

static void
usage(void)
{
    fprintf(stderr,
            "usage: sluice-bench kafka --brokers B [--dsn DSN --sluiced-pid PID] [--registry URL]\n"
            "       [--json-messages N] [--json-partitions P] [--avro-messages N]\n"
            "       [--avro-partitions P] [--reps R] [--only json|avro]... [--quick]\n"
            "       [--linger-ms MS] [--timeout S] [--produce PATH] [--schema-dir DIR]\n"
            "       [--kcat PATH] [--kcat-fetch-wait-ms MS] [--count view|select]\n"
            "   or: sluice-bench kafka --print-topics [the same options]   (see "
            "bench/README.md)\n");
}

/* sluice-kafka-produce next to this program (build/tests/harness/), or
 * NULL. */
static char *
default_produce(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    size_t len = strlen(exe) + 64;
    char *p = malloc(len);
    if (p != NULL)
        snprintf(p, len, "%s/tests/harness/sluice-kafka-produce", exe);
    return p;
}

int
bench_kafka_main(int argc, char **argv)
{
    cfg c = {.kcat = "kcat",
             .json_n = 256000,
             .json_parts = 128,
             .avro_n = 1000000,
             .avro_parts = 64,
             .reps = 3,
             .linger_ms = 100,
             .kcat_wait_ms = 10,
             .timeout = 300};
    bool only = false, print_topics = false;
    static const struct option opts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"dsn", required_argument, NULL, 'd'},
        {"sluiced-pid", required_argument, NULL, 'P'},
        {"registry", required_argument, NULL, 'r'},
        {"json-messages", required_argument, NULL, 'j'},
        {"json-partitions", required_argument, NULL, 'J'},
        {"avro-messages", required_argument, NULL, 'a'},
        {"avro-partitions", required_argument, NULL, 'A'},
        {"reps", required_argument, NULL, 'n'},
        {"only", required_argument, NULL, 'o'},
        {"quick", no_argument, NULL, 'q'},
        {"linger-ms", required_argument, NULL, 'l'},
        {"timeout", required_argument, NULL, 't'},
        {"produce", required_argument, NULL, 'p'},
        {"schema-dir", required_argument, NULL, 's'},
        {"kcat", required_argument, NULL, 'k'},
        {"kcat-fetch-wait-ms", required_argument, NULL, 'w'},
        {"print-topics", no_argument, NULL, 'T'},
        {"count", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    int o;
    while ((o = getopt_long(argc + 1, argv - 1, "", opts, NULL)) != -1) {
        switch (o) {
        case 'b':
            c.brokers = optarg;
            break;
        case 'd':
            c.dsn = optarg;
            break;
        case 'P':
            c.sluiced_pid = (pid_t)atol(optarg);
            break;
        case 'r':
            c.registry = optarg;
            break;
        case 'j':
            c.json_n = atol(optarg);
            break;
        case 'J':
            c.json_parts = atoi(optarg);
            break;
        case 'a':
            c.avro_n = atol(optarg);
            break;
        case 'A':
            c.avro_parts = atoi(optarg);
            break;
        case 'n':
            c.reps = atoi(optarg);
            break;
        case 'o':
            only = true;
            if (strcmp(optarg, "json") == 0)
                c.json = true;
            else if (strcmp(optarg, "avro") == 0)
                c.avro = true;
            else {
                usage();
                return 2;
            }
            break;
        case 'q':
            c.json_n = 16000;
            c.json_parts = 16;
            c.avro_n = 50000;
            c.avro_parts = 8;
            c.reps = 1;
            c.timeout = 60;
            break;
        case 'l':
            c.linger_ms = atoi(optarg);
            break;
        case 't':
            c.timeout = atof(optarg);
            break;
        case 'p':
            c.produce = optarg;
            break;
        case 's':
            c.schema_dir = optarg;
            break;
        case 'k':
            c.kcat = optarg;
            break;
        case 'w':
            c.kcat_wait_ms = atoi(optarg);
            break;
        case 'c':
            if (strcmp(optarg, "view") != 0 && strcmp(optarg, "select") != 0) {
                usage();
                return 2;
            }
            c.select_count = strcmp(optarg, "select") == 0;
            break;
        case 'T':
            print_topics = true;
            break;
        default:
            usage();
            return 2;
        }
    }
    if (!only)
        c.json = c.avro = true;
    if (c.json_n < 1 || c.avro_n < 1 || c.json_parts < 1 || c.avro_parts < 1 || c.reps < 1 ||
        c.reps > MAX_REPS || c.linger_ms < 0 || c.kcat_wait_ms < 0 || c.timeout <= 0 ||
        (c.dsn != NULL && c.sluiced_pid <= 0)) {
        usage();
        return 2;
    }
    if (print_topics) {
        /* For the script that starts the Kafka mock with these topics. */
        if (c.json)
            printf("%s:%d\n", TOPIC_JSON, c.json_parts);
        if (c.avro)
            printf("%s:%d\n", TOPIC_AVRO, c.avro_parts);
        return 0;
    }
    if (c.brokers == NULL) {
        usage();
        return 2;
    }
    char *produce_path = NULL;
    if (c.produce == NULL)
        c.produce = produce_path = default_produce();
    if (c.produce == NULL || access(c.produce, X_OK) != 0)
        die("sluice-kafka-produce not found (--produce PATH)");
    if (c.avro && (c.registry == NULL || c.schema_dir == NULL)) {
        note("no --registry or --schema-dir: debezium_avro is skipped");
        c.avro = false;
    }

    atexit(cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGALRM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    /* The whole run: every wait has its own deadline; this catches the rest. */
    alarm((unsigned)(c.timeout * (4 + 2 * (c.reps + 1)) * 2 + 600));

    state s = {.c = &c, .idle_cpu_per_s = -1};
    if (c.dsn != NULL)
        setup_sluice(&s);
    else
        snprintf(s.sluice_err, sizeof s.sluice_err, "no sluiced (--dsn)");
    if (c.json)
        bench_one(&s, "debezium_json", false, TOPIC_JSON, c.json_n, c.json_parts, 0.5);
    if (c.avro) {
        if (sluice_on(&s)) {
            char sql[1024];
            snprintf(sql, sizeof sql,
                     "CREATE CONNECTION bench_csr TO CONFLUENT SCHEMA REGISTRY (URL '%s')",
                     c.registry);
            sluice_cmd(&s, sql, 30);
        }
        bench_one(&s, "debezium_avro", true, TOPIC_AVRO, c.avro_n, c.avro_parts, 0.7);
    }
    if (s.sl != NULL)
        PQfinish(s.sl);
    free(produce_path);
    return s.failed ? 1 : 0;
}
