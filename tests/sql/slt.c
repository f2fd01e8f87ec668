/* sluice-slt: a sqllogictest runner over libpq, with a differential mode
 * that runs every record on sluiced and on PostgreSQL and compares them.
 *
 * Notes:
 * - The format is described in tests/README.md ("sqllogictest files"); this
 *   file is the reference for the details.
 * - Statements go through the simple query protocol (PQsendQuery) unless the
 *   file says `extended` or --extended is given, in which case each one is
 *   prepared as the unnamed statement and executed (Parse/Bind/Execute).
 * - Every command has a deadline (--timeout): when it passes, the runner
 *   sends a cancel request, waits a few seconds more for the server to
 *   answer, and otherwise drops the connection; either way the record fails.
 * - Results are compared as flat lists of values formatted as text: NULL is
 *   `NULL`, the empty string `(empty)`; the sort mode applies to both sides.
 * - Single-threaded; file-level state lives in `static` variables.
 */
#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/sql/slt_md5.h"

#define MAX_COLS 64
#define MAX_WORDS 16
#define DIFF_ROWS 5      /* rows shown around the first difference */
#define CANCEL_GRACE 5.0 /* seconds the server gets to honour a cancel */

/* ------------------------------------------------------------------ utilities */

static void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "sluice-slt: out of memory\n");
        exit(2);
    }
    return p;
}

static void *
xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "sluice-slt: out of memory\n");
        exit(2);
    }
    return p;
}

static char *
xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static char *
xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

/* A growable string; p is NUL-terminated whenever len > 0. */
typedef struct {
    char *p;
    size_t len, cap;
} t_buf;

static void
buf_putn(t_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void
buf_puts(t_buf *b, const char *s)
{
    buf_putn(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void
buf_printf(t_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        buf_putn(b, tmp, (size_t)n);
        return;
    }
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf_putn(b, big, (size_t)n);
    free(big);
}

static void
buf_free(t_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool
is_blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

/* Splits s at whitespace into at most max words (new strings in out);
 * returns the number of words, or max + 1 if there were more. */
static int
split_words(const char *s, char **out, int max)
{
    int n = 0;
    while (*s) {
        while (*s && isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        const char *start = s;
        while (*s && !isspace((unsigned char)*s))
            s++;
        if (n == max) {
            for (int i = 0; i < n; i++)
                free(out[i]);
            return max + 1;
        }
        out[n++] = xstrndup(start, (size_t)(s - start));
    }
    return n;
}

static void
free_words(char **w, int n)
{
    for (int i = 0; i < n && i <= MAX_WORDS; i++)
        free(w[i]);
}

/* ------------------------------------------------------------------ options and engines */

enum { ENG_SLUICE, ENG_PG, ENG_N };

typedef struct {
    const char *name; /* engine name used by skipif/onlyif */
    const char *dsn;
    bool active;
    bool fresh;      /* each file gets its own database on this server */
    char dbname[64]; /* the fresh database of the current file, or "" */
    PGconn *pg;      /* NULL when not connected */
    char **labels;   /* label i has result hash hashes[i] (this file) */
    char **hashes;
    int nlabels;
} engine;

static engine engines[ENG_N] = {{.name = "sluice"}, {.name = "postgresql"}};

static struct {
    bool differential, pg_only, verbose, stop_on_fail, extended, rewrite;
    double timeout;
} opt = {.timeout = 30};

static void
notice_quiet(void *arg, const char *msg)
{
    engine *e = arg;
    if (opt.verbose)
        fprintf(stderr, "  [%s] %s", e->name, msg);
}

/* The outcome of one SQL string on one engine. */
enum { OUT_OK, OUT_ERROR, OUT_TIMEOUT, OUT_BROKEN };

typedef struct {
    int kind;
    char sqlstate[6];
    char *msg;     /* error message (primary), or NULL */
    PGresult *res; /* result of the last command when kind == OUT_OK */
} outcome;

static void
outcome_clear(outcome *o)
{
    free(o->msg);
    PQclear(o->res);
    memset(o, 0, sizeof *o);
}

/* Records the first failure of a command; later ones (e.g. the 57014 that
 * follows our own cancel) are ignored. */
__attribute__((format(printf, 4, 5))) static void
set_error(outcome *o, int kind, const char *state, const char *fmt, ...)
{
    if (o->kind != OUT_OK)
        return;
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    size_t n = strlen(tmp);
    while (n > 0 && (tmp[n - 1] == '\n' || tmp[n - 1] == ' '))
        tmp[--n] = '\0';
    o->kind = kind;
    snprintf(o->sqlstate, sizeof o->sqlstate, "%s", state ? state : "");
    o->msg = xstrdup(tmp);
    PQclear(o->res);
    o->res = NULL;
}

static PGconn *
connect_to(const char *dsn, const char *dbname)
{
    const char *keys[] = {"connect_timeout", "application_name", "dbname", "dbname", NULL};
    const char *vals[] = {"10", "sluice-slt", dsn, dbname, NULL};
    if (!dbname)
        keys[3] = NULL;
    return PQconnectdbParams(keys, vals, 1);
}

static void
engine_drop(engine *e)
{
    if (e->pg)
        PQfinish(e->pg);
    e->pg = NULL;
}

static int
engine_connect(engine *e, outcome *o)
{
    e->pg = connect_to(e->dsn, e->dbname[0] ? e->dbname : NULL);
    if (PQstatus(e->pg) != CONNECTION_OK) {
        set_error(o, OUT_BROKEN, "08006", "cannot connect to %s: %s", e->name,
                  PQerrorMessage(e->pg));
        engine_drop(e);
        return -1;
    }
    PQsetNoticeProcessor(e->pg, notice_quiet, e);
    return 0;
}

/* Runs one administrative command on the engine's base DSN (for fresh
 * databases); returns 0 or -1 with the message in err. */
static int
admin_exec(engine *e, const char *sql, t_buf *err)
{
    PGconn *c = connect_to(e->dsn, NULL);
    int rc = 0;
    if (PQstatus(c) != CONNECTION_OK) {
        buf_printf(err, "cannot connect to %s (%s): %s", e->name, e->dsn, PQerrorMessage(c));
        rc = -1;
    } else {
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            buf_printf(err, "%s on %s: %s", sql, e->name, PQresultErrorMessage(r));
            rc = -1;
        }
        PQclear(r);
    }
    PQfinish(c);
    return rc;
}

static void
cancel_query(engine *e)
{
    PGcancel *c = PQgetCancel(e->pg);
    if (!c)
        return;
    char errbuf[256];
    if (!PQcancel(c, errbuf, sizeof errbuf) && opt.verbose)
        fprintf(stderr, "  [%s] cancel failed: %s\n", e->name, errbuf);
    PQfreeCancel(c);
}

/* Reads every result of the command in flight until PQgetResult says it is
 * done, honouring the deadline. Keeps the last successful result in o->res
 * and the first error. May drop the connection (a later command reconnects). */
static void
collect(engine *e, double deadline, outcome *o)
{
    bool cancelled = false;
    for (;;) {
        while (PQisBusy(e->pg)) {
            double left = deadline - now_s();
            if (left <= 0) {
                if (!cancelled) {
                    cancel_query(e);
                    cancelled = true;
                    set_error(o, OUT_TIMEOUT, "57014", "timed out after %g s (query cancelled)",
                              opt.timeout);
                    deadline = now_s() + CANCEL_GRACE;
                    continue;
                }
                set_error(o, OUT_TIMEOUT, "57014", "timed out; the cancel was not honoured");
                engine_drop(e);
                return;
            }
            struct pollfd pfd = {.fd = PQsocket(e->pg), .events = POLLIN};
            int rc = poll(&pfd, 1, (int)(left * 1000) + 1);
            if (rc < 0 && errno != EINTR) {
                set_error(o, OUT_BROKEN, "08006", "poll: %s", strerror(errno));
                engine_drop(e);
                return;
            }
            if (!PQconsumeInput(e->pg)) {
                set_error(o, OUT_BROKEN, "08006", "connection to %s lost: %s", e->name,
                          PQerrorMessage(e->pg));
                engine_drop(e);
                return;
            }
        }
        PGresult *r = PQgetResult(e->pg);
        if (!r)
            break;
        switch (PQresultStatus(r)) {
        case PGRES_TUPLES_OK:
        case PGRES_COMMAND_OK:
        case PGRES_EMPTY_QUERY:
            if (o->kind == OUT_OK) {
                PQclear(o->res);
                o->res = r;
                r = NULL;
            }
            break;
        case PGRES_COPY_IN:
            PQputCopyEnd(e->pg, "sluice-slt does not run COPY");
            set_error(o, OUT_ERROR, "", "COPY is not supported by sluice-slt");
            break;
        case PGRES_COPY_OUT: {
            char *data;
            while (PQgetCopyData(e->pg, &data, 0) > 0)
                PQfreemem(data);
            set_error(o, OUT_ERROR, "", "COPY is not supported by sluice-slt");
            break;
        }
        default: {
            const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
            set_error(o, OUT_ERROR, st ? st : "", "%s", m ? m : PQresultErrorMessage(r));
            break;
        }
        }
        PQclear(r);
    }
    if (e->pg && PQstatus(e->pg) == CONNECTION_BAD) {
        set_error(o, OUT_BROKEN, "08006", "connection to %s lost", e->name);
        engine_drop(e);
    }
}

/* Runs sql on the engine through the simple or the extended protocol. The
 * outcome is always filled; free it with outcome_clear. */
static void
exec_sql(engine *e, const char *sql, bool extended, outcome *o)
{
    memset(o, 0, sizeof *o);
    if (!e->pg && engine_connect(e, o) != 0)
        return;
    double deadline = now_s() + opt.timeout;
    int sent = extended ? PQsendPrepare(e->pg, "", sql, 0, NULL) : PQsendQuery(e->pg, sql);
    if (!sent) {
        set_error(o, OUT_BROKEN, "08006", "cannot send to %s: %s", e->name, PQerrorMessage(e->pg));
        engine_drop(e);
        return;
    }
    collect(e, deadline, o);
    if (!extended || o->kind != OUT_OK || !e->pg)
        return;
    PQclear(o->res);
    o->res = NULL;
    if (!PQsendQueryPrepared(e->pg, "", 0, NULL, NULL, NULL, 0)) {
        set_error(o, OUT_BROKEN, "08006", "cannot send to %s: %s", e->name, PQerrorMessage(e->pg));
        engine_drop(e);
        return;
    }
    collect(e, deadline, o);
}

/* ------------------------------------------------------------------ values */

enum { SORT_NONE, SORT_ROWS, SORT_VALUES };
enum { MODE_AUTO, MODE_ROWS, MODE_VALUES };

/* A result set as a flat list of formatted values (n = rows * ncols). */
typedef struct {
    char **v;
    int n;
} t_vals;

static void
vals_free(t_vals *x)
{
    for (int i = 0; i < x->n; i++)
        free(x->v[i]);
    free(x->v);
    x->v = NULL;
    x->n = 0;
}

static void
vals_push(t_vals *x, char *s)
{
    x->v = xrealloc(x->v, sizeof(char *) * (size_t)(x->n + 1));
    x->v[x->n++] = s;
}

/* Normalises an expected value of a column of type t ('B' accepts
 * true/false for the server's t/f). Takes ownership of s. */
static char *
norm_value(char *s, char t)
{
    if (t == 'B' && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
        s[1] = '\0';
    }
    return s;
}

/* Formats a server value: NULL, (empty), newlines and tabs escaped. */
static char *
fmt_value(const PGresult *r, int row, int col, char t)
{
    if (PQgetisnull(r, row, col))
        return xstrdup("NULL");
    const char *s = PQgetvalue(r, row, col);
    if (!*s)
        return xstrdup("(empty)");
    t_buf b = {0};
    for (; *s; s++) {
        if (*s == '\n')
            buf_puts(&b, "\\n");
        else if (*s == '\t')
            buf_puts(&b, "\\t");
        else
            buf_putn(&b, s, 1);
    }
    return norm_value(b.p, t);
}

static int sort_ncols; /* the row width qsort's comparator needs */

static int
cmp_rows(const void *a, const void *b)
{
    char *const *ra = *(char **const *)a, *const *rb = *(char **const *)b;
    for (int i = 0; i < sort_ncols; i++) {
        int c = strcmp(ra[i], rb[i]);
        if (c)
            return c;
    }
    return 0;
}

static int
cmp_strs(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
sort_vals(t_vals *x, int ncols, int sort)
{
    if (sort == SORT_VALUES) {
        qsort(x->v, (size_t)x->n, sizeof(char *), cmp_strs);
    } else if (sort == SORT_ROWS && ncols > 0 && x->n > 0) {
        int nrows = x->n / ncols;
        char ***rows = xmalloc(sizeof(char **) * (size_t)nrows);
        for (int i = 0; i < nrows; i++)
            rows[i] = x->v + (size_t)i * (size_t)ncols;
        sort_ncols = ncols;
        qsort(rows, (size_t)nrows, sizeof(char **), cmp_rows);
        char **nv = xmalloc(sizeof(char *) * (size_t)x->n);
        for (int i = 0; i < nrows; i++)
            memcpy(nv + (size_t)i * (size_t)ncols, rows[i], sizeof(char *) * (size_t)ncols);
        free(rows);
        free(x->v);
        x->v = nv;
    }
}

/* Equal as text, or for R columns within a relative 1e-9 as numbers. */
static bool
value_eq(const char *a, const char *b, char t)
{
    if (strcmp(a, b) == 0)
        return true;
    if (t != 'R')
        return false;
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (ea == a || *ea || eb == b || *eb || !isfinite(x) || !isfinite(y))
        return false;
    double m = fmax(fabs(x), fabs(y));
    return fabs(x - y) <= 1e-9 * m;
}

/* Index of the first differing value, or -1 when the lists are equal. */
static int
vals_diff(const t_vals *a, const t_vals *b, const char *types, int ncols)
{
    int n = a->n < b->n ? a->n : b->n;
    for (int i = 0; i < n; i++)
        if (!value_eq(a->v[i], b->v[i], types[i % ncols]))
            return i;
    return a->n == b->n ? -1 : n;
}

static void
vals_hash(const t_vals *x, char hex[33])
{
    t_md5 m;
    t_md5_init(&m);
    for (int i = 0; i < x->n; i++) {
        t_md5_update(&m, x->v[i], strlen(x->v[i]));
        t_md5_update(&m, "\n", 1);
    }
    t_md5_final_hex(&m, hex);
}

static void
print_rows(t_buf *out, const char *what, const t_vals *x, int ncols, int from_row)
{
    int nrows = x->n / ncols;
    for (int r = from_row; r < nrows && r < from_row + DIFF_ROWS; r++) {
        buf_printf(out, "    %s row %d:", what, r + 1);
        for (int c = 0; c < ncols; c++)
            buf_printf(out, " %s", x->v[r * ncols + c]);
        buf_puts(out, "\n");
    }
    if (from_row >= nrows)
        buf_printf(out, "    %s: (no row %d)\n", what, from_row + 1);
    else if (nrows > from_row + DIFF_ROWS)
        buf_printf(out, "    %s: ... %d more rows\n", what, nrows - from_row - DIFF_ROWS);
}

/* Describes how b (actual) differs from a (expected) at value index at. */
static void
describe_diff(t_buf *out, const char *ea, const t_vals *a, const char *eb, const t_vals *b,
              int ncols, int at)
{
    int row = at / ncols;
    buf_printf(out, "  %s has %d rows, %s has %d rows; first difference at row %d\n", ea,
               a->n / ncols, eb, b->n / ncols, row + 1);
    int from = row > 1 ? row - 1 : 0;
    print_rows(out, ea, a, ncols, from);
    print_rows(out, eb, b, ncols, from);
}

/* ------------------------------------------------------------------ records */

typedef struct {
    int line; /* 1-based line of the record's first line */
    bool is_query;
    bool expect_error; /* statement error / query error */
    long count;        /* statement count N; -1 otherwise */
    char *pattern;     /* error pattern, "" for any */
    char *sql;
    char types[MAX_COLS + 1]; /* query column types */
    int ncols;
    int sort;
    bool colnames;
    char *label;
    int dash_line;        /* index of "----", or -1 */
    int sql_end, rec_end; /* line indices: after the SQL, after the record */
    bool run_on[ENG_N];
} record;

static void
record_free(record *r)
{
    free(r->pattern);
    free(r->sql);
    free(r->label);
}

/* Per-file state. */
static struct {
    const char *path;
    char **lines;
    int nlines;
    int statements, queries, failures, skipped;
    int mode, hash_threshold;
    bool extended;
    t_buf edits_text; /* --rewrite: the new file, built as records pass */
    int copied;       /* lines of the original copied to edits_text so far */
} F;

static long total_failures;

static void
report(const record *r, const t_buf *why)
{
    printf("%s:%d: FAIL\n", F.path, r->line);
    const char *s = r->sql;
    while (s && *s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        printf("    | %.*s\n", (int)n, s);
        s = nl ? nl + 1 : s + n;
    }
    fputs(why->p, stdout);
    fflush(stdout);
    F.failures++;
}

__attribute__((format(printf, 2, 3))) static void
malformed(int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s:%d: malformed: ", F.path, line);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    F.failures++;
}

/* Checks an error pattern at parse time: "", "SQLSTATE <prefix> [regex]" or
 * a regex. Returns false (and says why) if it cannot be used. */
static bool
pattern_valid(const char *p, int line)
{
    if (strncmp(p, "SQLSTATE", 8) == 0 && (p[8] == ' ' || p[8] == '\0')) {
        p += 8;
        while (*p == ' ')
            p++;
        size_t n = 0;
        while (p[n] && p[n] != ' ') {
            if (!isdigit((unsigned char)p[n]) && !isupper((unsigned char)p[n])) {
                malformed(line, "SQLSTATE must be digits and capital letters");
                return false;
            }
            n++;
        }
        if (n == 0 || n > 5) {
            malformed(line, "SQLSTATE needs 1 to 5 characters");
            return false;
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    if (!*p)
        return true;
    regex_t re;
    int rc = regcomp(&re, p, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[128];
        regerror(rc, &re, msg, sizeof msg);
        malformed(line, "bad error regex '%s': %s", p, msg);
        return false;
    }
    regfree(&re);
    return true;
}

/* Whether an error (state, msg) satisfies a pattern already validated. */
static bool
pattern_match(const char *p, const char *state, const char *msg)
{
    if (strncmp(p, "SQLSTATE", 8) == 0 && (p[8] == ' ' || p[8] == '\0')) {
        p += 8;
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (strncmp(state, p, n) != 0)
            return false;
        p += n;
        while (*p == ' ')
            p++;
    }
    if (!*p || strstr(msg, p))
        return true;
    regex_t re;
    if (regcomp(&re, p, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    bool m = regexec(&re, msg, 0, NULL, 0) == 0;
    regfree(&re);
    return m;
}

/* Parses the expected results of a query (lines [from, to)) into x. */
static bool
parse_expected(const record *r, int from, int to, t_vals *x, t_vals *names, bool *hashed, long *hn,
               char hash[33])
{
    *hashed = false;
    if (r->colnames) {
        if (from >= to) {
            malformed(r->line, "colnames needs a line of column names");
            return false;
        }
        char *w[MAX_COLS + 1];
        int n = split_words(F.lines[from], w, MAX_COLS);
        for (int i = 0; i < n && i < MAX_COLS; i++)
            vals_push(names, w[i]);
        if (n != r->ncols) {
            malformed(from + 1, "%d column names for %d columns", n, r->ncols);
            return false;
        }
        from++;
    }
    if (to - from == 1) {
        char hex[40];
        int used = 0;
        if (sscanf(F.lines[from], "%ld values hashing to %39s%n", hn, hex, &used) == 2 &&
            F.lines[from][used] == '\0') {
            if (strlen(hex) != 32 || strspn(hex, "0123456789abcdef") != 32) {
                malformed(from + 1, "a hash is 32 lowercase hex digits");
                return false;
            }
            memcpy(hash, hex, 33);
            *hashed = true;
            return true;
        }
    }
    int mode = F.mode;
    if (r->ncols == 1)
        mode = MODE_VALUES;
    if (mode == MODE_AUTO) {
        mode = MODE_ROWS;
        for (int i = from; i < to && mode == MODE_ROWS; i++) {
            char *w[MAX_COLS + 1];
            int n = split_words(F.lines[i], w, MAX_COLS);
            free_words(w, n);
            if (n != r->ncols)
                mode = MODE_VALUES;
        }
    }
    for (int i = from; i < to; i++) {
        if (mode == MODE_VALUES) {
            vals_push(x, norm_value(xstrdup(F.lines[i]), r->types[x->n % r->ncols]));
            continue;
        }
        char *w[MAX_COLS + 1];
        int n = split_words(F.lines[i], w, MAX_COLS);
        if (n != r->ncols) {
            free_words(w, n);
            malformed(i + 1, "result row has %d values, the query has %d columns",
                      n > MAX_COLS ? MAX_COLS + 1 : n, r->ncols);
            return false;
        }
        for (int c = 0; c < n; c++)
            vals_push(x, norm_value(w[c], r->types[c]));
    }
    if (x->n % r->ncols != 0) {
        malformed(from + 1, "%d result lines are neither rows of %d values nor one value per line",
                  to - from, r->ncols);
        return false;
    }
    return true;
}

/* The values of a successful query outcome; false (with why) if the result
 * is not a row set of the declared width. */
static bool
actual_values(const record *r, const engine *e, const outcome *o, t_vals *x, t_buf *why)
{
    if (!o->res || PQresultStatus(o->res) != PGRES_TUPLES_OK) {
        buf_printf(why, "  [%s] the query returned no rows (not a SELECT?)\n", e->name);
        return false;
    }
    int nf = PQnfields(o->res);
    if (nf != r->ncols) {
        buf_printf(why, "  [%s] the query returned %d columns, the record declares %d (%s)\n",
                   e->name, nf, r->ncols, r->types);
        return false;
    }
    int nt = PQntuples(o->res);
    for (int i = 0; i < nt; i++)
        for (int c = 0; c < nf; c++)
            vals_push(x, fmt_value(o->res, i, c, r->types[c]));
    sort_vals(x, r->ncols, r->sort);
    return true;
}

static void
describe_outcome(t_buf *b, const engine *e, const outcome *o)
{
    switch (o->kind) {
    case OUT_OK:
        buf_printf(b, "  [%s] succeeded", e->name);
        if (o->res && PQresultStatus(o->res) == PGRES_TUPLES_OK)
            buf_printf(b, " (%d rows)", PQntuples(o->res));
        buf_puts(b, "\n");
        break;
    case OUT_ERROR:
        buf_printf(b, "  [%s] error %s: %s\n", e->name, o->sqlstate, o->msg);
        break;
    case OUT_TIMEOUT:
        buf_printf(b, "  [%s] %s\n", e->name, o->msg);
        break;
    default:
        buf_printf(b, "  [%s] connection failure: %s\n", e->name, o->msg);
        break;
    }
}

/* Checks one engine's outcome against the record; appends reasons to why. */
static void
check_one(const record *r, engine *e, const outcome *o, const t_vals *exp, const t_vals *names,
          bool hashed, long hn, const char *hash, bool have_exp, t_vals *act, bool *act_ok,
          t_buf *why)
{
    *act_ok = false;
    if (r->expect_error) {
        if (o->kind == OUT_OK) {
            buf_printf(why, "  [%s] expected an error (%s), but it succeeded\n", e->name,
                       r->pattern[0] ? r->pattern : "any");
        } else if (o->kind != OUT_ERROR) {
            describe_outcome(why, e, o);
        } else if (!pattern_match(r->pattern, o->sqlstate, o->msg)) {
            buf_printf(why, "  [%s] error %s: %s\n    does not match: %s\n", e->name, o->sqlstate,
                       o->msg, r->pattern);
        }
        return;
    }
    if (o->kind != OUT_OK) {
        buf_printf(why, "  [%s] expected success, got ", e->name);
        if (o->kind == OUT_ERROR)
            buf_printf(why, "error %s: %s\n", o->sqlstate, o->msg);
        else
            buf_printf(why, "%s\n", o->msg);
        return;
    }
    if (!r->is_query) {
        if (r->count >= 0) {
            const char *ct = o->res ? PQcmdTuples(o->res) : "";
            if (!*ct || strtol(ct, NULL, 10) != r->count)
                buf_printf(why, "  [%s] expected %ld rows affected, got %s\n", e->name, r->count,
                           *ct ? ct : "no count");
        }
        return;
    }
    if (!actual_values(r, e, o, act, why))
        return;
    *act_ok = true;
    if (r->colnames && names->n == r->ncols) {
        for (int c = 0; c < r->ncols; c++)
            if (strcmp(names->v[c], PQfname(o->res, c)) != 0)
                buf_printf(why, "  [%s] column %d is named %s, expected %s\n", e->name, c + 1,
                           PQfname(o->res, c), names->v[c]);
    }
    char hex[33];
    vals_hash(act, hex);
    if (have_exp && hashed) {
        if (hn != act->n || strcmp(hex, hash) != 0) {
            buf_printf(why,
                       "  [%s] expected %ld values hashing to %s, got %d values hashing to %s\n",
                       e->name, hn, hash, act->n, hex);
            print_rows(why, "actual", act, r->ncols, 0);
        }
    } else if (have_exp) {
        int at = vals_diff(exp, act, r->types, r->ncols);
        if (at >= 0) {
            buf_printf(why, "  [%s] wrong results\n", e->name);
            describe_diff(why, "expected", exp, "actual", act, r->ncols, at);
        }
    }
    if (r->label) {
        int i;
        for (i = 0; i < e->nlabels; i++)
            if (strcmp(e->labels[i], r->label) == 0)
                break;
        if (i == e->nlabels) {
            e->labels = xrealloc(e->labels, sizeof(char *) * (size_t)(i + 1));
            e->hashes = xrealloc(e->hashes, sizeof(char *) * (size_t)(i + 1));
            e->labels[i] = xstrdup(r->label);
            e->hashes[i] = xstrdup(hex);
            e->nlabels++;
        } else if (strcmp(e->hashes[i], hex) != 0) {
            buf_printf(why, "  [%s] results differ from earlier queries labelled %s\n", e->name,
                       r->label);
        }
    }
}

/* --rewrite: appends the original lines up to (not including) line index
 * upto to the new file. */
static void
rewrite_copy(int upto)
{
    for (; F.copied < upto; F.copied++) {
        buf_puts(&F.edits_text, F.lines[F.copied]);
        buf_puts(&F.edits_text, "\n");
    }
}

static bool
rows_format_ok(const t_vals *x, int ncols)
{
    if (F.mode == MODE_VALUES || ncols == 1)
        return false;
    for (int i = 0; i < x->n; i++)
        for (const char *s = x->v[i]; *s; s++)
            if (isspace((unsigned char)*s))
                return false;
    return true;
}

/* --rewrite: replaces the record's results with act. */
static void
rewrite_results(const record *r, const PGresult *res, const t_vals *act)
{
    rewrite_copy(r->sql_end);
    buf_puts(&F.edits_text, "----\n");
    if (r->colnames) {
        for (int c = 0; c < r->ncols; c++)
            buf_printf(&F.edits_text, "%s%s", c ? " " : "", PQfname(res, c));
        buf_puts(&F.edits_text, "\n");
    }
    bool rows = rows_format_ok(act, r->ncols);
    bool hash = F.hash_threshold > 0 && act->n > F.hash_threshold;
    if (!rows && !hash && F.mode != MODE_VALUES && r->ncols > 1) {
        /* one value per line would be read back as rows if every line
         * happened to have ncols words: use the hash instead */
        bool ambiguous = act->n > 0;
        for (int i = 0; i < act->n && ambiguous; i++) {
            char *w[MAX_COLS + 1];
            int n = split_words(act->v[i], w, MAX_COLS);
            free_words(w, n);
            ambiguous = n == r->ncols;
        }
        hash = ambiguous;
    }
    for (int i = 0; i < act->n && !hash && !rows; i++) {
        /* a blank value would end the record, trailing blanks do not
         * survive editors: such results can only be written as a hash */
        size_t n = strlen(act->v[i]);
        hash = is_blank(act->v[i]) || isspace((unsigned char)act->v[i][n - 1]);
    }
    if (hash) {
        char hex[33];
        vals_hash(act, hex);
        buf_printf(&F.edits_text, "%d values hashing to %s\n", act->n, hex);
    } else {
        for (int i = 0; i < act->n; i++) {
            buf_puts(&F.edits_text, act->v[i]);
            bool eol = !rows || (i + 1) % r->ncols == 0;
            buf_puts(&F.edits_text, eol ? "\n" : " ");
        }
    }
    F.copied = r->rec_end;
}

/* Runs one parsed record on every engine it applies to. */
static void
run_record(record *r)
{
    t_buf why = {0};
    t_vals exp = {0}, names = {0}, act[ENG_N] = {{0}};
    bool hashed = false, have_exp = false, act_ok[ENG_N] = {false};
    long hn = 0;
    char hash[33] = "";
    outcome out[ENG_N] = {{0}};
    bool ran[ENG_N] = {false};
    int nran = 0;

    if (r->is_query && !r->expect_error && r->dash_line >= 0) {
        have_exp = true;
        if (!parse_expected(r, r->dash_line + 1, r->rec_end, &exp, &names, &hashed, &hn, hash))
            goto done;
        sort_vals(&exp, r->ncols, r->sort);
    }
    for (int i = 0; i < ENG_N; i++) {
        if (!engines[i].active || !r->run_on[i])
            continue;
        if (opt.verbose)
            fprintf(stderr, "%s:%d: [%s] %s\n", F.path, r->line, engines[i].name,
                    r->is_query ? "query" : "statement");
        exec_sql(&engines[i], r->sql, F.extended, &out[i]);
        ran[i] = true;
        nran++;
    }
    if (nran == 0) {
        F.skipped++;
        goto done;
    }
    if (r->is_query)
        F.queries++;
    else
        F.statements++;
    for (int i = 0; i < ENG_N; i++)
        if (ran[i])
            check_one(r, &engines[i], &out[i], &exp, &names, hashed, hn, hash, have_exp, &act[i],
                      &act_ok[i], &why);
    if (nran == 2) {
        /* differential: the two engines must agree with each other */
        outcome *a = &out[ENG_SLUICE], *b = &out[ENG_PG];
        bool aok = a->kind == OUT_OK, bok = b->kind == OUT_OK;
        if (aok != bok) {
            buf_puts(&why, "  the engines disagree:\n");
            describe_outcome(&why, &engines[ENG_SLUICE], a);
            describe_outcome(&why, &engines[ENG_PG], b);
        } else if (!aok && strcmp(a->sqlstate, b->sqlstate) != 0 &&
                   !(r->expect_error && r->pattern[0] &&
                     pattern_match(r->pattern, a->sqlstate, a->msg ? a->msg : "") &&
                     pattern_match(r->pattern, b->sqlstate, b->msg ? b->msg : ""))) {
            buf_puts(&why, "  the engines fail with different SQLSTATEs:\n");
            describe_outcome(&why, &engines[ENG_SLUICE], a);
            describe_outcome(&why, &engines[ENG_PG], b);
        } else if (act_ok[ENG_SLUICE] && act_ok[ENG_PG]) {
            int at = vals_diff(&act[ENG_PG], &act[ENG_SLUICE], r->types, r->ncols);
            if (at >= 0) {
                buf_puts(&why, "  the engines return different results\n");
                describe_diff(&why, "postgresql", &act[ENG_PG], "sluice", &act[ENG_SLUICE],
                              r->ncols, at);
            }
        }
    }
    if (opt.rewrite && r->is_query && !r->expect_error) {
        int i = engines[ENG_SLUICE].active ? ENG_SLUICE : ENG_PG;
        if (act_ok[i])
            rewrite_results(r, out[i].res, &act[i]);
    }
    if (why.len > 0)
        report(r, &why);
done:
    for (int i = 0; i < ENG_N; i++) {
        outcome_clear(&out[i]);
        vals_free(&act[i]);
    }
    vals_free(&exp);
    vals_free(&names);
    buf_free(&why);
}

/* Reads the file into F.lines (newlines and trailing CRs removed). */
static int
load_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("%s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (memchr(line, '\0', (size_t)n)) {
            printf("%s:%d: malformed: NUL byte in the file\n", path, F.nlines + 1);
            free(line);
            fclose(f);
            return -1;
        }
        F.lines = xrealloc(F.lines, sizeof(char *) * (size_t)(F.nlines + 1));
        F.lines[F.nlines++] = xstrndup(line, (size_t)n);
    }
    free(line);
    bool err = ferror(f);
    fclose(f);
    if (err) {
        printf("%s: read error\n", path);
        return -1;
    }
    return 0;
}

static int
engine_index(const char *name)
{
    for (int i = 0; i < ENG_N; i++)
        if (strcmp(engines[i].name, name) == 0)
            return i;
    return -1;
}

/* Skips to the line after the current record (the next blank line). */
static int
skip_record(int i)
{
    while (i < F.nlines && !is_blank(F.lines[i]))
        i++;
    return i;
}

/* Parses the record whose head (split into w) is at line index i; fills r
 * and returns true, or reports it as malformed. *next is where to go on. */
static bool
parse_record(char **w, int nw, int i, record *r, int *next)
{
    const char *head = F.lines[i];
    memset(r, 0, sizeof *r);
    r->line = i + 1;
    r->count = -1;
    r->dash_line = -1;
    *next = skip_record(i);
    r->is_query = strcmp(w[0], "query") == 0;
    if (nw < 2) {
        malformed(r->line, "%s needs a kind (%s)", w[0],
                  r->is_query ? "query <types> or query error"
                              : "statement ok, statement error or statement count");
        return false;
    }
    if (strcmp(w[1], "error") == 0) {
        const char *p = strstr(head, "error") + 5;
        while (isspace((unsigned char)*p))
            p++;
        r->pattern = xstrdup(p);
        size_t n = strlen(r->pattern);
        while (n > 0 && isspace((unsigned char)r->pattern[n - 1]))
            r->pattern[--n] = '\0';
        r->expect_error = true;
        if (!pattern_valid(r->pattern, r->line))
            return false;
    } else if (!r->is_query && strcmp(w[1], "ok") == 0 && nw == 2) {
    } else if (!r->is_query && strcmp(w[1], "count") == 0 && nw == 3) {
        char *end;
        r->count = strtol(w[2], &end, 10);
        if (*end || r->count < 0) {
            malformed(r->line, "statement count needs a row count, not '%s'", w[2]);
            return false;
        }
    } else if (!r->is_query) {
        malformed(r->line, "unknown statement kind '%s' (ok, error, count N)", head);
        return false;
    } else {
        size_t nt = strlen(w[1]);
        if (nt > MAX_COLS) {
            malformed(r->line, "more than %d columns", MAX_COLS);
            return false;
        }
        for (size_t k = 0; k < nt; k++)
            if (!isalpha((unsigned char)w[1][k])) {
                malformed(r->line, "column types are letters (I, R, T, B, ...), not '%s'", w[1]);
                return false;
            }
        memcpy(r->types, w[1], nt + 1);
        r->ncols = (int)nt;
        for (int k = 2; k < nw; k++) {
            if (strcmp(w[k], "nosort") == 0)
                r->sort = SORT_NONE;
            else if (strcmp(w[k], "rowsort") == 0)
                r->sort = SORT_ROWS;
            else if (strcmp(w[k], "valuesort") == 0)
                r->sort = SORT_VALUES;
            else if (strcmp(w[k], "colnames") == 0)
                r->colnames = true;
            else if (!r->label)
                r->label = xstrdup(w[k]);
            else {
                malformed(r->line, "unknown query option '%s'", w[k]);
                return false;
            }
        }
    }
    /* the SQL runs to the next blank line or "----" */
    t_buf sql = {0};
    int j = i + 1;
    for (; j < F.nlines && !is_blank(F.lines[j]); j++) {
        if (strcmp(F.lines[j], "----") == 0) {
            r->dash_line = j;
            break;
        }
        if (sql.len)
            buf_puts(&sql, "\n");
        buf_puts(&sql, F.lines[j]);
    }
    r->sql = sql.p;
    r->sql_end = j;
    r->rec_end = *next;
    if (!r->sql) {
        malformed(r->line, "%s without SQL", w[0]);
        return false;
    }
    if (r->dash_line >= 0 && (!r->is_query || r->expect_error)) {
        malformed(r->dash_line + 1, "only a query that succeeds has results after ----");
        return false;
    }
    return true;
}

/* Runs one file; returns its failure count. */
static int
run_file(const char *path, int fileno)
{
    memset(&F, 0, sizeof F);
    F.path = path;
    F.extended = opt.extended;
    bool cond_only[ENG_N] = {false}, cond_skip[ENG_N] = {false}, have_only = false;
    bool have_cond = false;
    int cond_line = 0;
    if (load_file(path) != 0) {
        F.failures++;
        goto out;
    }
    for (int k = 0; k < ENG_N; k++) {
        engine *e = &engines[k];
        if (!e->active)
            continue;
        if (e->fresh) {
            t_buf err = {0}, sql = {0};
            snprintf(e->dbname, sizeof e->dbname, "slt_%ld_%d_%d", (long)getpid(), fileno, k);
            buf_printf(&sql, "CREATE DATABASE %s", e->dbname);
            int rc = admin_exec(e, sql.p, &err);
            if (rc != 0) {
                printf("%s: %s\n", path, err.p);
                F.failures++;
                e->dbname[0] = '\0';
            }
            buf_free(&err);
            buf_free(&sql);
            if (rc != 0)
                goto out;
        }
    }
    int i = 0;
    while (i < F.nlines) {
        const char *line = F.lines[i];
        if (is_blank(line) || line[0] == '#') {
            i++;
            continue;
        }
        char *w[MAX_WORDS + 1];
        int nw = split_words(line, w, MAX_WORDS);
        if (nw > MAX_WORDS) {
            malformed(i + 1, "too many words");
            i = skip_record(i);
            continue;
        }
        int next = i + 1;
        bool is_cond = strcmp(w[0], "skipif") == 0 || strcmp(w[0], "onlyif") == 0;
        bool is_record = strcmp(w[0], "statement") == 0 || strcmp(w[0], "query") == 0 ||
                         strcmp(w[0], "halt") == 0;
        if (have_cond && !is_cond && !is_record) {
            malformed(cond_line, "skipif/onlyif must precede statement, query or halt");
            have_cond = have_only = false;
            memset(cond_only, 0, sizeof cond_only);
            memset(cond_skip, 0, sizeof cond_skip);
        }
        if (is_cond) {
            int k = nw == 2 ? engine_index(w[1]) : -1;
            if (k < 0) {
                malformed(i + 1, "%s needs one engine name: sluice or postgresql", w[0]);
            } else {
                if (w[0][0] == 'o') {
                    cond_only[k] = true;
                    have_only = true;
                } else {
                    cond_skip[k] = true;
                }
                if (!have_cond)
                    cond_line = i + 1;
                have_cond = true;
            }
        } else if (is_record) {
            bool runs[ENG_N], any = false;
            for (int k = 0; k < ENG_N; k++) {
                runs[k] = !cond_skip[k] && (!have_only || cond_only[k]);
                any |= runs[k] && engines[k].active;
            }
            have_cond = have_only = false;
            memset(cond_only, 0, sizeof cond_only);
            memset(cond_skip, 0, sizeof cond_skip);
            if (w[0][0] == 'h') {
                if (nw != 1)
                    malformed(i + 1, "halt takes no arguments");
                else if (any) {
                    free_words(w, nw);
                    break;
                }
            } else {
                record r;
                if (parse_record(w, nw, i, &r, &next)) {
                    memcpy(r.run_on, runs, sizeof runs);
                    run_record(&r);
                }
                record_free(&r);
            }
        } else if (strcmp(w[0], "mode") == 0 && nw == 2) {
            if (strcmp(w[1], "cockroach") == 0 || strcmp(w[1], "rows") == 0)
                F.mode = MODE_ROWS;
            else if (strcmp(w[1], "standard") == 0 || strcmp(w[1], "values") == 0)
                F.mode = MODE_VALUES;
            else if (strcmp(w[1], "auto") == 0)
                F.mode = MODE_AUTO;
            else
                malformed(i + 1, "unknown mode '%s' (auto, rows/cockroach, values/standard)", w[1]);
        } else if (strcmp(w[0], "hash-threshold") == 0 && nw == 2) {
            char *end;
            long t = strtol(w[1], &end, 10);
            if (*end || t < 0 || t > 1000000000)
                malformed(i + 1, "hash-threshold needs a number");
            else
                F.hash_threshold = (int)t;
        } else if (strcmp(w[0], "simple") == 0 && nw == 1) {
            F.extended = false;
        } else if (strcmp(w[0], "extended") == 0 && nw == 1) {
            F.extended = true;
        } else {
            malformed(i + 1, "unknown directive '%s'", line);
            next = skip_record(i);
        }
        free_words(w, nw);
        i = next;
        if (opt.stop_on_fail && F.failures)
            break;
    }
    if (have_cond)
        malformed(cond_line, "skipif/onlyif at the end of the file");
    if (opt.rewrite) {
        /* results that differed are replaced; records that failed
         * otherwise (errors, malformed) are copied as they are */
        int before = F.failures;
        rewrite_copy(F.nlines);
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.rewrite", path);
        FILE *f = fopen(tmp, "w");
        if (!f || fwrite(F.edits_text.p ? F.edits_text.p : "", 1, F.edits_text.len, f) !=
                      F.edits_text.len) {
            printf("%s: cannot write: %s\n", tmp, strerror(errno));
            F.failures++;
        }
        if (f && fclose(f) != 0)
            F.failures++;
        if (F.failures == before && rename(tmp, path) != 0) {
            printf("%s: cannot rename: %s\n", tmp, strerror(errno));
            F.failures++;
        }
    }
out:
    for (int k = 0; k < ENG_N; k++) {
        engine *e = &engines[k];
        engine_drop(e);
        if (e->dbname[0]) {
            t_buf err = {0}, sql = {0};
            buf_printf(&sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", e->dbname);
            if (admin_exec(e, sql.p, &err) != 0)
                printf("%s: warning: %s\n", path, err.p);
            buf_free(&err);
            buf_free(&sql);
            e->dbname[0] = '\0';
        }
        for (int l = 0; l < e->nlabels; l++) {
            free(e->labels[l]);
            free(e->hashes[l]);
        }
        free(e->labels);
        free(e->hashes);
        e->labels = e->hashes = NULL;
        e->nlabels = 0;
    }
    printf("slt: %s: %d statements, %d queries, %d failures, %d skipped\n", path, F.statements,
           F.queries, F.failures, F.skipped);
    fflush(stdout);
    for (int l = 0; l < F.nlines; l++)
        free(F.lines[l]);
    free(F.lines);
    buf_free(&F.edits_text);
    return F.failures;
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: sluice-slt [--dsn DSN] [--pg-dsn DSN] [--differential | --pg-only]\n"
               "                  [--timeout SECS] [--extended] [--fresh-db pg|dsn|both]\n"
               "                  [--rewrite] [--verbose] [--stop-on-fail] FILE...\n"
               "  --dsn DSN        the engine under test (engine name 'sluice');\n"
               "                   default host=127.0.0.1 port=6875 user=materialize "
               "dbname=materialize\n"
               "  --pg-dsn DSN     PostgreSQL (engine name 'postgresql')\n"
               "  --differential   run every record on both and compare them\n"
               "  --pg-only        run the files against --pg-dsn only\n"
               "  --timeout SECS   per statement, default 30; a timeout is a failure\n"
               "  --extended       start every file in the extended protocol\n"
               "  --fresh-db W     a new database per file on W (PostgreSQL servers only)\n"
               "  --rewrite        replace the expected results with the actual ones (one engine)\n"
               "exit status: 0 all passed, 1 failures, 2 usage error\n");
}

int
main(int argc, char **argv)
{
    const char *fresh = NULL;
    engines[ENG_SLUICE].dsn = "host=127.0.0.1 port=6875 user=materialize dbname=materialize";
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "--dsn") == 0 && has_val) {
            engines[ENG_SLUICE].dsn = argv[++i];
        } else if (strcmp(a, "--pg-dsn") == 0 && has_val) {
            engines[ENG_PG].dsn = argv[++i];
        } else if (strcmp(a, "--timeout") == 0 && has_val) {
            char *end;
            opt.timeout = strtod(argv[++i], &end);
            if (*end || !(opt.timeout > 0) || opt.timeout > 86400) {
                fprintf(stderr, "sluice-slt: invalid --timeout '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(a, "--fresh-db") == 0 && has_val) {
            fresh = argv[++i];
            if (strcmp(fresh, "pg") && strcmp(fresh, "dsn") && strcmp(fresh, "both")) {
                fprintf(stderr, "sluice-slt: --fresh-db takes pg, dsn or both\n");
                return 2;
            }
        } else if (strcmp(a, "--differential") == 0) {
            opt.differential = true;
        } else if (strcmp(a, "--pg-only") == 0) {
            opt.pg_only = true;
        } else if (strcmp(a, "--verbose") == 0) {
            opt.verbose = true;
        } else if (strcmp(a, "--stop-on-fail") == 0) {
            opt.stop_on_fail = true;
        } else if (strcmp(a, "--extended") == 0) {
            opt.extended = true;
        } else if (strcmp(a, "--rewrite") == 0) {
            opt.rewrite = true;
        } else if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "sluice-slt: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (i == argc) {
        fprintf(stderr, "sluice-slt: no files given\n");
        usage(stderr);
        return 2;
    }
    if ((opt.differential || opt.pg_only) && !engines[ENG_PG].dsn) {
        fprintf(stderr, "sluice-slt: --differential and --pg-only need --pg-dsn\n");
        return 2;
    }
    if (opt.differential && opt.pg_only) {
        fprintf(stderr, "sluice-slt: --differential and --pg-only exclude each other\n");
        return 2;
    }
    if (opt.rewrite && opt.differential) {
        fprintf(stderr, "sluice-slt: --rewrite runs against one engine, not --differential\n");
        return 2;
    }
    engines[ENG_SLUICE].active = !opt.pg_only;
    engines[ENG_PG].active = opt.pg_only || opt.differential;
    if (fresh) {
        engines[ENG_PG].fresh = strcmp(fresh, "dsn") != 0;
        engines[ENG_SLUICE].fresh = strcmp(fresh, "pg") != 0;
    }
    int nfiles = 0, failed_files = 0;
    for (; i < argc; i++) {
        int f = run_file(argv[i], nfiles++);
        total_failures += f;
        if (f)
            failed_files++;
        if (f && opt.stop_on_fail)
            break;
    }
    if (nfiles > 1)
        printf("slt: %d files, %d with failures, %ld failures in all\n", nfiles, failed_files,
               total_failures);
    return total_failures ? 1 : 0;
}
