/* Helpers the service benchmarks (bench_pgcdc.c, bench_kafka.c) share:
 * messages and the exit path, clocks, medians, child processes and their
 * CPU time, libpq with deadlines, and the sluiced client whose failure
 * skips the sluice parts of a run.
 *
 * Notes
 * - One benchmark runs per process: the program name, the cleanup hook and
 *   the running child are process state, set by bench_start.
 * - A child started by bench_spawn is killed on any exit (die, signal,
 *   the global alarm), so a hung baseline never outlives the run.
 * - Single-threaded except bench_connect and bench_exec_deadline, which
 *   loader threads call on their own connections. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"

/* ------------------------------------------------------------ process state */

static const char *g_prog = "sluice-bench";
static void (*g_hook)(void);
static volatile pid_t g_child = 0;
static char g_intr_msg[128]; /* built by bench_start: on_signal may not format */

static void
cleanup(void)
{
    if (g_hook != NULL)
        g_hook();
    if (g_child > 0)
        kill(g_child, SIGKILL);
}

static void
on_signal(int sig)
{
    cleanup();
    if (write(2, g_intr_msg, strlen(g_intr_msg)) < 0) {
        /* nothing left to do */
    }
    _exit(sig == SIGALRM ? 1 : 128 + sig);
}

void
bench_start(const char *prog, void (*hook)(void))
{
    g_prog = prog;
    g_hook = hook;
    snprintf(g_intr_msg, sizeof g_intr_msg, "%s: interrupted (signal or --timeout alarm)\n", prog);
    atexit(cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGALRM, on_signal);
}

static void
vmessage(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", g_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void
bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
    cleanup();
    exit(1);
}

void
bench_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ time and figures */

double
bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
bench_sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int
bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double
bench_median(const double *v, int n)
{
    if (n <= 0)
        return -1;
    double *s = malloc((size_t)n * sizeof *s);
    if (s == NULL)
        bench_die("out of memory");
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, bench_cmp_double);
    double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

void
bench_json_double(const char *key, double v, const char *fmt)
{
    printf(",\"%s\":", key);
    if (v < 0)
        printf("null");
    else
        printf(fmt, v);
}

/* ------------------------------------------------------------ children */

double
bench_proc_cpu_s(pid_t pid)
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
    /* The command name may hold spaces: fields are counted from its closing
     * parenthesis. */
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

pid_t
bench_spawn(char *const argv[], int out_fd)
{
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork: %s", strerror(errno));
    if (pid == 0) {
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(out_fd >= 0 ? out_fd : nul, 1);
        }
        execvp(argv[0], argv);
        fprintf(stderr, "%s: exec %s: %s\n", g_prog, argv[0], strerror(errno));
        _exit(127);
    }
    g_child = pid;
    return pid;
}

int
bench_wait_child(pid_t pid, double t0, double timeout, double *secs, double *cpu)
{
    int st = 0;
    struct rusage ru;
    double end = t0 + timeout;
    for (;;) {
        pid_t w = wait4(pid, &st, WNOHANG, &ru);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            bench_die("wait4: %s", strerror(errno));
        if (bench_now_s() > end) {
            kill(pid, SIGKILL);
            wait4(pid, &st, 0, &ru);
            g_child = 0;
            return -1;
        }
        bench_sleep_s(0.0005);
    }
    *secs = bench_now_s() - t0;
    g_child = 0;
    *cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* ------------------------------------------------------------ libpq */

static void
quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *
bench_connect(const char *dsn, char *err, size_t errlen)
{
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    const char *vals[] = {dsn, "10", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect to %s: %s", dsn, PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet_notice, NULL);
    return c;
}

PGresult *
bench_exec_deadline(PGconn *c, const char *sql, double secs, char *err, size_t errlen)
{
    if (!PQsendQuery(c, sql)) {
        snprintf(err, errlen, "%s: %s", sql, PQerrorMessage(c));
        return NULL;
    }
    double end = bench_now_s() + secs;
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
        double left = end - bench_now_s();
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
            end = bench_now_s() + 5;
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

bool
bench_sluice_on(const bench_sluice *b)
{
    return b->conn != NULL && b->err[0] == '\0';
}

void
bench_sluice_fail(bench_sluice *b, const char *fmt, ...)
{
    if (b->err[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, sizeof b->err, fmt, ap);
    va_end(ap);
    /* It is printed inside a JSON string. */
    for (char *p = b->err; *p; p++)
        if (*p == '\n' || *p == '"' || *p == '\\')
            *p = ' ';
    bench_note("sluice part failed: %s", b->err);
    if (b->on_fail != NULL)
        b->on_fail();
    b->failed = true;
}

bool
bench_sluice_connect(bench_sluice *b, const char *dsn)
{
    char err[512];
    b->conn = bench_connect(dsn, err, sizeof err);
    if (b->conn == NULL) {
        bench_sluice_fail(b, "%s", err);
        return false;
    }
    return true;
}

/* sql through sluiced: its last result, or NULL (b failed). */
static PGresult *
sluice_exec(bench_sluice *b, const char *sql, double secs)
{
    char err[512];
    PGresult *r = bench_exec_deadline(b->conn, sql, secs, err, sizeof err);
    if (r == NULL)
        bench_sluice_fail(b, "%s", err);
    return r;
}

bool
bench_sluice_cmd(bench_sluice *b, const char *sql, double secs)
{
    PGresult *r = sluice_exec(b, sql, secs);
    if (r == NULL)
        return false;
    PQclear(r);
    return true;
}

PGresult *
bench_sluice_row(bench_sluice *b, const char *sql, double secs)
{
    PGresult *r = sluice_exec(b, sql, secs);
    if (r == NULL)
        return NULL;
    if (PQntuples(r) != 1 || PQnfields(r) != 1) {
        bench_sluice_fail(b, "%s: %d rows, expected 1", sql, PQntuples(r));
        PQclear(r);
        return NULL;
    }
    return r;
}

int
bench_sluice_long(bench_sluice *b, const char *sql, double secs, long *n)
{
    PGresult *r = bench_sluice_row(b, sql, secs);
    if (r == NULL)
        return -1;
    *n = PQgetisnull(r, 0, 0) ? 0 : atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

double
bench_sluice_wait(bench_sluice *b, const char *count_sql, const char *what, long want, double t0,
                  double end, double poll_s)
{
    long n = -1;
    for (;;) {
        double left = end - bench_now_s();
        if (bench_sluice_long(b, count_sql, left > 1 ? left : 1, &n) < 0)
            return -1;
        if (n == want)
            return bench_now_s() - t0;
        if (n > want) {
            bench_sluice_fail(b, "%s counts %ld rows, expected %ld (wrong answer)", what, n, want);
            return -1;
        }
        if (bench_now_s() > end) {
            bench_sluice_fail(b, "%s counted %ld rows after %.0f s, expected %ld", what, n,
                              b->timeout, want);
            return -1;
        }
        bench_sleep_s(poll_s);
    }
}

void
bench_json_error(const bench_sluice *b)
{
    if (b->err[0] != '\0')
        printf(",\"error\":\"%s\"", b->err);
}
