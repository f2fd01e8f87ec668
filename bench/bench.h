/* sluice-bench subcommands, and the helpers the service benchmarks share. */
#ifndef BENCH_H
#define BENCH_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Each subcommand returns a process exit status. */
int bench_core_main(int argc, char **argv);
int bench_expr_main(int argc, char **argv);
/* mode: "peek" or "pgwire" (bench_sql.c). */
int bench_sql_main(const char *mode, int argc, char **argv);
/* PostgreSQL CDC into sluiced vs pg_recvlogical / a subscriber (bench_pgcdc.c). */
int bench_pgcdc_main(int argc, char **argv);
/* Debezium JSON and Avro from Kafka into sluiced vs kcat (bench_kafka.c; built with
 * SLUICE_KAFKA only). */
int bench_kafka_main(int argc, char **argv);
/* Debezium JSON decoding vs the jansson tree decoder (bench_dbz.c). */
int bench_dbz_main(int argc, char **argv);

/* ------------------------------------------------------------ bench_util.c */

/* Names the program in every message (prog, e.g. "sluice-bench kafka";
 * borrowed for the process's life) and installs the exit path: at exit, on
 * SIGINT/SIGTERM and on SIGALRM (the caller's global alarm) hook is called
 * (if not NULL) and the child of bench_spawn killed. Call once. */
void bench_start(const char *prog, void (*hook)(void));
/* "prog: message" on stderr, then the exit path and exit(1). */
_Noreturn void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: message" on stderr. */
void bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Seconds on the monotonic clock. */
double bench_now_s(void);
/* Sleeps s seconds (nothing if s <= 0), through EINTR. */
void bench_sleep_s(double s);
/* qsort comparator for doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);
/* The median of v[0..n) (v is not reordered); -1 if n <= 0. */
double bench_median(const double *v, int n);
/* Prints `,"key":` and v in fmt, or null when v < 0 (unknown). */
void bench_json_double(const char *key, double v, const char *fmt);

/* CPU seconds (user + system, every thread) process pid has used so far,
 * from /proc/PID/stat; -1 if unknown. */
double bench_proc_cpu_s(pid_t pid);
/* Starts argv (PATH searched) with stdin from /dev/null and stdout to
 * out_fd (-1: /dev/null). Returns its pid; it is killed on exit until
 * bench_wait_child reaps it. Dies if fork fails. */
pid_t bench_spawn(char *const argv[], int out_fd);
/* Waits for the child of bench_spawn until t0 + timeout (then kills it and
 * returns -1). Returns its exit status (128 + signal if killed), with
 * *secs since t0 and *cpu its user + system time. */
int bench_wait_child(pid_t pid, double t0, double timeout, double *secs, double *cpu);

/* Connects with a 10 s connect timeout, NOTICEs discarded; NULL and *err
 * filled on failure. Blocks. */
PGconn *bench_connect(const char *dsn, char *err, size_t errlen);
/* Runs sql (one or more statements) and waits at most secs for the answer.
 * Returns the last result (free with PQclear), or NULL with *err filled if
 * any statement failed, the connection broke or the deadline passed (the
 * statement is then cancelled). Blocks. */
PGresult *bench_exec_deadline(PGconn *c, const char *sql, double secs, char *err, size_t errlen);

/* The connection to the sluiced under test. Its first failure (a refused
 * statement, a timeout, a wrong answer) is kept in err and skips the rest
 * of the sluice parts: their figures are null and the exit status is 1;
 * the baselines are still measured. */
typedef struct bench_sluice {
    PGconn *conn;          /* NULL: not connected */
    char err[512];         /* non-empty: the sluice parts are skipped */
    bool failed;           /* bench_sluice_fail was called: exit status 1 */
    double timeout;        /* seconds a bench_sluice_wait may take (--timeout) */
    void (*on_fail)(void); /* NULL, or called on the first failure */
} bench_sluice;

/* Connected and nothing failed yet. */
bool bench_sluice_on(const bench_sluice *b);
/* Records the first failure (later ones are dropped), noted on stderr and
 * made safe to print inside a JSON string. */
void bench_sluice_fail(bench_sluice *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* bench_connect into b->conn; false (b failed) if it cannot. */
bool bench_sluice_connect(bench_sluice *b, const char *dsn);
/* Runs sql, waiting at most secs; false (b failed) on any error. */
bool bench_sluice_cmd(bench_sluice *b, const char *sql, double secs);
/* One row of one column of sql, waiting at most secs: the result (free
 * with PQclear), or NULL (b failed). */
PGresult *bench_sluice_row(bench_sluice *b, const char *sql, double secs);
/* That value as a long (NULL reads 0): 0 and *n, or -1 (b failed). */
int bench_sluice_long(bench_sluice *b, const char *sql, double secs, long *n);
/* Runs count_sql every poll_s seconds until it returns want. Returns the
 * seconds since t0, or -1 (b failed: a count above want is a wrong answer,
 * what names it; or still short of want at the deadline end). */
double bench_sluice_wait(bench_sluice *b, const char *count_sql, const char *what, long want,
                         double t0, double end, double poll_s);
/* Prints `,"error":"..."` for a failed b, nothing otherwise. */
void bench_json_error(const bench_sluice *b);

#endif
