/* Differential test of the expression evaluator against PostgreSQL.
 *
 * Usage: sluice-expr-vs-pg CONNINFO [--random N] [--seed S] [-v]
 *
 * Every case of tests/operators/expr_cases.h (except documented
 * deviations) and N random well-typed expressions are evaluated both by
 * PostgreSQL (`SELECT (<sql>)::text`) and by our evaluator (the same tree
 * cast to text). Results are compared byte for byte: the text value, NULL,
 * or the error as "ERROR <sqlstate>: <primary message>". For the hand-
 * written cases PostgreSQL's answer must also equal the expectation the
 * unit test checks. Prints every mismatch and a summary; exits 1 if any. */
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/model/oracle.h"
#include "tests/operators/expr_cases.h"
#include "tests/operators/t_sexpr.h"

static PGconn *conn;
static bool verbose;

/* PostgreSQL's answer for sql, in the same format as t_sexpr_eval's. */
static void
pg_eval(const char *sql, char *res, size_t cap)
{
    size_t n = strlen(sql) + 32;
    char *q = malloc(n);
    snprintf(q, n, "SELECT (%s)::text", sql);
    PGresult *r = PQexec(conn, q);
    free(q);
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        if (PQgetisnull(r, 0, 0))
            snprintf(res, cap, "NULL");
        else
            snprintf(res, cap, "%s", PQgetvalue(r, 0, 0));
    } else {
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        snprintf(res, cap, "ERROR %s: %s", st ? st : "?????", msg ? msg : PQerrorMessage(conn));
    }
    PQclear(r);
}

static int npass, nfail, nwrong_want;

static void
run(const char *src, const char *want)
{
    char sql[8192], pg[4096], ours[4096];
    op_expr *e;
    if (t_sexpr_parse(src, &e, sql, sizeof sql)) {
        printf("PARSE ERROR %s: %s\n", src, sql);
        nfail++;
        return;
    }
    op_expr_free(e);
    pg_eval(sql, pg, sizeof pg);
    t_sexpr_eval(src, 0, NULL, (eng_row){(const uint8_t *)"", 0}, ours, sizeof ours);
    if (strncmp(ours, "COMPILE ", 8) == 0) { /* same format as PostgreSQL's parse-time errors */
        memmove(ours + 6, ours + 8, strlen(ours + 8) + 1);
        memcpy(ours, "ERROR ", 6);
    }
    bool same = strcmp(pg, ours) == 0;
    if (same)
        npass++;
    else
        nfail++;
    if (!same || verbose)
        printf("%s %s\n  sql:  %s\n  pg:   %s\n  ours: %s\n", same ? "ok" : "MISMATCH", src, sql,
               pg, ours);
    if (want && strcmp(pg, want) != 0) {
        nwrong_want++;
        printf("EXPECTATION %s\n  pg:   %s\n  want: %s\n", src, pg, want);
    }
}

/* ------------------------------------------------------------------ random expressions */

typedef struct gen {
    uint64_t seed;
    /* STABLE functions (concat, concat_ws, || with a non-text side, date
     * output) only at the root, outside CASE/COALESCE/AND/OR: PostgreSQL
     * does not fold them at plan time, so the immutable parts around them
     * get folded first (a branch that would never run fails, or a strict
     * call with a NULL constant skips the STABLE argument's error). */
    int lazy;
    int nest; /* gexpr nesting level */
    char *buf;
    size_t len, cap;
} gen;

static void
put(gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(g->buf + g->len, g->cap - g->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        g->len += (size_t)n;
    if (g->len >= g->cap)
        g->len = g->cap - 1;
}

static uint64_t
pick(gen *g, uint64_t n)
{
    return t_rand(&g->seed) % n;
}

enum {
    G_INT2,
    G_INT4,
    G_INT8,
    G_F4,
    G_F8,
    G_TEXT,
    G_BOOL,
    G_NUM,
    G_DATE,
    G_TS,
    G_TSTZ,
    G_IV,
    G_NT
};
static const char *const gname[G_NT] = {"i2",   "i4",        "i8",          "f4",
                                        "f8",   "text",      "bool",        "numeric",
                                        "date", "timestamp", "timestamptz", "interval"};

#define PICK(arr) (arr)[pick(g, sizeof(arr) / sizeof((arr)[0]))]

static const char *const nums[] = {
    "0",   "1.5",      "-2.25", "100.000",         "0.001", "12345678901234567890.5",
    "NaN", "Infinity", "-7",    "3.14159265358979"};
static const char *const dates[] = {"2020-02-29", "2021-01-03", "1999-12-31", "0044-03-15 BC",
                                    "infinity",   "-infinity",  "2000-01-01", "2024-01-31"};
static const char *const tss[] = {"2020-02-29 12:34:56.789",
                                  "2021-01-03 00:00",
                                  "1999-12-31 23:59:59.999999",
                                  "0044-03-15 12:00 BC",
                                  "infinity",
                                  "200000-06-30 12:00",
                                  "1970-01-01",
                                  "2024-01-31 08:00"};
static const char *const tstzs[] = {"2020-02-29 12:34:56.789+00", "2021-01-03 00:00+05:30",
                                    "1969-12-31 23:59:59.5+00", "-infinity", "2024-03-31 01:30-02"};
static const char *const ivs[] = {
    "1 day",   "1 mon", "-1 year 2 mons", "1 day 02:03:04.5", "-00:00:01", "100 years",
    "2 weeks", "0",     "1 mon -1 days",  "36 hours"};
static const char *const units[] = {
    "year",   "month",   "day",        "hour",         "minute",       "second", "week", "quarter",
    "decade", "century", "millennium", "milliseconds", "microseconds", "epoch",  "dow",  "doy",
    "isodow", "isoyear", "julian",     "timezone",     "Fortnight",    "MONTHS"};

static void gexpr(gen *g, int t, int depth);

static void
glit(gen *g, int t)
{
    static const char *const i2s[] = {"0", "1", "-1", "7", "-13", "300", "32767", "-32768", "181"};
    static const char *const i4s[] = {"0",          "1",           "-1",    "42",      "-7",
                                      "2147483647", "-2147483648", "65536", "1000000", "46341"};
    static const char *const i8s[] = {"0",
                                      "1",
                                      "-1",
                                      "123456789012",
                                      "9223372036854775807",
                                      "-9223372036854775808",
                                      "4294967296",
                                      "3037000500"};
    static const char *const fs[] = {"0",     "1",      "-1",    "0.1",        "2.5",
                                     "-3.75", "1e10",   "1e-10", "nan",        "inf",
                                     "-inf",  "3.5",    "1e38",  "123456.789", "0.3333333333333333",
                                     "1e300", "-1e-300"};
    static const char *const ts[] = {"",       "a",      "abc",       "Hello World", "  pad  ",
                                     "héllo",  "日本語", "a,b,,c",    "xXx",         "%_\\",
                                     "ÉCOLE",  "42",     " -17 ",     "1.5e3",       "true",
                                     "ñañaña", "straße", "abcabcabc", "NaN",         "off"};
    /* Typed NULLs, but not of the date/numeric types: PostgreSQL folds a
     * strict operator with a NULL constant to NULL at plan time without
     * evaluating a STABLE sibling (timestamptz arithmetic, date_trunc...),
     * which would have failed at run time. */
    if (t < G_NUM && pick(g, 12) == 0) {
        put(g, "null:%s", gname[t]);
        return;
    }
    switch (t) {
    case G_INT2:
        put(g, "i2:%s", i2s[pick(g, sizeof i2s / sizeof i2s[0])]);
        break;
    case G_INT4:
        put(g, "%s", i4s[pick(g, sizeof i4s / sizeof i4s[0])]);
        break;
    case G_INT8:
        put(g, "i8:%s", i8s[pick(g, sizeof i8s / sizeof i8s[0])]);
        break;
    case G_F4: /* the float8 pool without what overflows a float4 literal */
        put(g, "f4:%s", fs[pick(g, sizeof fs / sizeof fs[0] - 2)]);
        break;
    case G_F8:
        put(g, "f8:%s", fs[pick(g, sizeof fs / sizeof fs[0])]);
        break;
    case G_TEXT: {
        const char *s = ts[pick(g, sizeof ts / sizeof ts[0])];
        put(g, "'%s'", s);
        break;
    }
    case G_NUM:
        put(g, "(lit numeric '%s')", PICK(nums));
        break;
    case G_DATE:
        put(g, "(lit date '%s')", PICK(dates));
        break;
    case G_TS:
        put(g, "(lit timestamp '%s')", PICK(tss));
        break;
    case G_TSTZ:
        put(g, "(lit timestamptz '%s')", PICK(tstzs));
        break;
    case G_IV:
        put(g, "(lit interval '%s')", PICK(ivs));
        break;
    default:
        put(g, pick(g, 2) ? "true" : "false");
    }
}

static bool
stable_ok(const gen *g)
{
    return g->lazy == 0 && g->nest <= 1;
}

/* A type to turn into text: the date/time ones print through STABLE
 * output functions (DateStyle), so not inside lazy constructs. */
static int
text_source(gen *g)
{
    int t = (int)pick(g, G_NT);
    return !stable_ok(g) && t >= G_DATE ? G_INT4 : t;
}

/* Binary expression with each side generated from its own type. */
static void
gbin(gen *g, const char *op, int a, int b, int d)
{
    put(g, "(%s ", op);
    gexpr(g, a, d);
    put(g, " ");
    gexpr(g, b, d);
    put(g, ")");
}

/* Expressions of the types the type library brings (numeric, dates).
 * Nothing STABLE on timestamptz (date_trunc, +- interval, casts to it,
 * extract from it, comparison with date/timestamp): PostgreSQL cannot
 * fold those at plan time, so the immutable parts around them get folded
 * (and fail) in an order no executor follows; they are covered by the
 * hand-written cases instead. */
static bool
gexpr_lib(gen *g, int t, int d)
{
    static const char *const ops[] = {"+", "-", "*", "/", "%"};
    switch (t) {
    case G_NUM:
        switch (pick(g, 5)) {
        case 0:
        case 1: {
            int other = (int)pick(g, 3) ? G_NUM : (pick(g, 2) ? G_INT4 : G_INT8);
            bool swap = pick(g, 2);
            gbin(g, PICK(ops), swap ? other : G_NUM, swap ? G_NUM : other, d);
            return true;
        }
        case 2:
            put(g, pick(g, 2) ? "(neg " : "(abs ");
            gexpr(g, G_NUM, d);
            put(g, ")");
            return true;
        case 3:
            put(g, "(cast numeric ");
            gexpr(g, (int)pick(g, 5), d);
            put(g, ")");
            return true;
        default: {
            static const int src[] = {G_DATE, G_TS, G_IV};
            put(g, "(extract %s ", PICK(units));
            gexpr(g, PICK(src), d);
            put(g, ")");
            return true;
        }
        }
    case G_DATE:
        if (pick(g, 3) == 0) {
            put(g, "(cast date ");
            gexpr(g, G_TS, d);
            put(g, ")");
            return true;
        }
        put(g, pick(g, 2) ? "(+ " : "(- ");
        gexpr(g, G_DATE, d);
        put(g, " %d)", (int)pick(g, 800) - 400);
        return true;
    case G_TSTZ:
        glit(g, G_TSTZ);
        return true;
    case G_TS:
        switch (pick(g, 3)) {
        case 0:
            gbin(g, pick(g, 2) ? "+" : "-", pick(g, 3) == 0 ? G_DATE : G_TS, G_IV, d);
            return true;
        case 1:
            put(g, "(date_trunc '%s' ", PICK(units));
            gexpr(g, G_TS, d);
            put(g, ")");
            return true;
        default:
            put(g, "(cast timestamp ");
            gexpr(g, G_DATE, d);
            put(g, ")");
            return true;
        }
    case G_IV:
        switch (pick(g, 4)) {
        case 3: { /* interval * / a number */
            static const int num[] = {G_INT4, G_F8, G_NUM};
            bool div = pick(g, 3) == 0;
            if (!div && pick(g, 2))
                gbin(g, "*", PICK(num), G_IV, d);
            else
                gbin(g, div ? "/" : "*", G_IV, PICK(num), d);
            return true;
        }
        case 0: {
            int a = G_TS + (int)pick(g, 2);
            gbin(g, "-", a, a, d);
            return true;
        }
        case 1:
            gbin(g, pick(g, 2) ? "+" : "-", G_IV, G_IV, d);
            return true;
        default:
            put(g, "(neg ");
            gexpr(g, G_IV, d);
            put(g, ")");
            return true;
        }
    default:
        return false;
    }
}

static int
num_type(gen *g)
{
    return (int)pick(g, 5);
}

static void
gint_small(gen *g)
{
    /* small int4 argument for positions and counts (or an extreme one;
     * not INT_MIN: PostgreSQL's right() overflows negating it) */
    if (pick(g, 8) == 0)
        put(g, pick(g, 2) ? "2147483647" : "-2147483647");
    else
        put(g, "%d", (int)pick(g, 13) - 4);
}

static void gexpr_body(gen *g, int t, int depth);

static void
gexpr(gen *g, int t, int depth)
{
    g->nest++;
    gexpr_body(g, t, depth);
    g->nest--;
}

static void
gexpr_body(gen *g, int t, int depth)
{
    if (depth <= 0 || pick(g, 4) == 0) {
        glit(g, t);
        return;
    }
    int d = depth - 1;
    if (t >= G_NUM) {
        if (pick(g, 4) == 0) { /* conditionals over any type */
            g->lazy++;
            if (pick(g, 2)) {
                put(g, "(coalesce ");
                gexpr(g, t, d);
                put(g, " ");
                gexpr(g, t, d);
                put(g, ")");
            } else {
                put(g, "(case (when ");
                gexpr(g, G_BOOL, d);
                put(g, " ");
                gexpr(g, t, d);
                put(g, ") (else ");
                gexpr(g, t, d);
                put(g, "))");
            }
            g->lazy--;
            return;
        }
        gexpr_lib(g, t, d);
        return;
    }
    if (t == G_F8 && pick(g, 10) == 0) {
        static const int src[] = {G_DATE, G_TS, G_IV};
        put(g, "(date_part '%s' ", PICK(units));
        gexpr(g, PICK(src), d);
        put(g, ")");
        return;
    }
    if (t == G_INT4 && pick(g, 12) == 0) {
        gbin(g, "-", G_DATE, G_DATE, d);
        return;
    }
    switch (t) {
    case G_INT2:
    case G_INT4:
    case G_INT8:
    case G_F4:
    case G_F8: {
        bool isint = t <= G_INT8;
        switch (pick(g, isint ? 9 : 7)) {
        case 0:
        case 1: { /* binary arithmetic whose result type is t */
            static const char *const ops[] = {"+", "-", "*", "/", "%"};
            const char *op = ops[pick(g, isint ? 5 : 4)];
            int a = t, b = t;
            if (isint) {
                b = (int)pick(g, (uint64_t)t + 1); /* narrower or equal */
                if (pick(g, 2)) {
                    int x = a;
                    a = b;
                    b = x;
                }
            } else if (t == G_F8 && pick(g, 2)) {
                a = (int)pick(g, 4); /* int or float4 mixed with float8 */
            }
            put(g, "(%s ", op);
            gexpr(g, a, d);
            put(g, " ");
            gexpr(g, b, d);
            put(g, ")");
            return;
        }
        case 2:
            put(g, pick(g, 2) ? "(neg " : "(abs ");
            gexpr(g, t, d);
            put(g, ")");
            return;
        case 3: /* cast from another numeric type or from text */
            put(g, "(cast %s ", gname[t]);
            if (pick(g, 3) == 0)
                glit(g, G_TEXT);
            else
                gexpr(g, num_type(g), d);
            put(g, ")");
            return;
        case 4:
            g->lazy++;
            put(g, "(coalesce ");
            gexpr(g, t, d);
            put(g, " ");
            gexpr(g, t, d);
            put(g, ")");
            g->lazy--;
            return;
        case 5:
            g->lazy++;
            put(g, "(case (when ");
            gexpr(g, G_BOOL, d);
            put(g, " ");
            gexpr(g, t, d);
            put(g, ") (else ");
            gexpr(g, t, d);
            put(g, "))");
            g->lazy--;
            return;
        case 6:
            put(g, pick(g, 2) ? "(greatest " : "(least ");
            gexpr(g, t, d);
            put(g, " ");
            gexpr(g, t, d);
            put(g, ")");
            return;
        case 7:
            if (t == G_INT4) {
                static const char *const fns[] = {"length", "octet_length"};
                put(g, "(%s ", fns[pick(g, 2)]);
                gexpr(g, G_TEXT, d);
                put(g, ")");
                return;
            }
            /* fall through */
        default:
            if (t == G_INT4) {
                put(g, "(strpos ");
                gexpr(g, G_TEXT, d);
                put(g, " ");
                gexpr(g, G_TEXT, d);
                put(g, ")");
            } else {
                glit(g, t);
            }
            return;
        }
    }
    case G_TEXT:
        switch (pick(g, 16)) {
        case 0:
            put(g, pick(g, 2) ? "(upper " : "(lower ");
            gexpr(g, G_TEXT, d);
            put(g, ")");
            return;
        case 1:
            put(g, "(substr ");
            gexpr(g, G_TEXT, d);
            put(g, " ");
            gint_small(g);
            if (pick(g, 2)) {
                put(g, " ");
                gint_small(g);
            }
            put(g, ")");
            return;
        case 2: {
            static const char *const fns[] = {"btrim", "ltrim", "rtrim"};
            put(g, "(%s ", fns[pick(g, 3)]);
            gexpr(g, G_TEXT, d);
            if (pick(g, 2)) {
                put(g, " ");
                gexpr(g, G_TEXT, d);
            }
            put(g, ")");
            return;
        }
        case 3:
            put(g, "(replace ");
            gexpr(g, G_TEXT, d);
            put(g, " ");
            gexpr(g, G_TEXT, d);
            put(g, " ");
            gexpr(g, G_TEXT, d);
            put(g, ")");
            return;
        case 4:
            put(g, "(|| ");
            gexpr(g, G_TEXT, d);
            put(g, " ");
            gexpr(g, pick(g, 3) || !stable_ok(g) ? G_TEXT : (int)pick(g, G_NT), d);
            put(g, ")");
            return;
        case 5:
            if (!stable_ok(g)) {
                glit(g, t);
                return;
            }
            put(g, "(concat ");
            for (int i = 0, n = 1 + (int)pick(g, 3); i < n; i++) {
                if (i)
                    put(g, " ");
                gexpr(g, (int)pick(g, G_NT), d);
            }
            put(g, ")");
            return;
        case 6:
            put(g, pick(g, 2) ? "(left " : "(right ");
            gexpr(g, G_TEXT, d);
            put(g, " ");
            gint_small(g);
            put(g, ")");
            return;
        case 7:
            put(g, "(repeat ");
            gexpr(g, G_TEXT, d);
            put(g, " %d)", (int)pick(g, 6) - 1);
            return;
        case 8:
            put(g, pick(g, 2) ? "(lpad " : "(rpad ");
            gexpr(g, G_TEXT, d);
            put(g, " %d", (int)pick(g, 12) - 1);
            if (pick(g, 2)) {
                put(g, " ");
                gexpr(g, G_TEXT, d);
            }
            put(g, ")");
            return;
        case 9:
            put(g, "(split_part ");
            gexpr(g, G_TEXT, d);
            put(g, pick(g, 2) ? " ','" : " 'a'");
            put(g, " %d)", (int)pick(g, 9) - 4);
            return;
        case 10:
            put(g, "(reverse ");
            gexpr(g, G_TEXT, d);
            put(g, ")");
            return;
        case 11:
            put(g, "(cast text ");
            gexpr(g, text_source(g), d);
            put(g, ")");
            return;
        case 12:
            if (!stable_ok(g)) {
                glit(g, t);
                return;
            }
            put(g, "(concat_ws ");
            glit(g, G_TEXT);
            put(g, " ");
            gexpr(g, G_TEXT, d);
            put(g, " ");
            gexpr(g, (int)pick(g, G_NT), d);
            put(g, ")");
            return;
        case 13:
            g->lazy++;
            put(g, "(case (when ");
            gexpr(g, G_BOOL, d);
            put(g, " ");
            gexpr(g, G_TEXT, d);
            put(g, "))");
            g->lazy--;
            return;
        case 14:
            put(g, "(nullif ");
            gexpr(g, G_TEXT, d);
            put(g, " ");
            gexpr(g, G_TEXT, d);
            put(g, ")");
            return;
        default:
            put(g, "(substring ");
            gexpr(g, G_TEXT, d);
            put(g, " ");
            gint_small(g);
            put(g, ")");
            return;
        }
    default: /* bool */
        switch (pick(g, 10)) {
        case 0:
        case 1: { /* comparison of two values of comparable types */
            static const char *const ops[] = {"=", "<>", "<", "<=", ">", ">=", "distinct"};
            int a = (int)pick(g, G_NT), b = a;
            if (a < G_TEXT || a == G_NUM)
                b = pick(g, 3) ? num_type(g) : G_NUM;
            else if (a == G_DATE || a == G_TS)
                b = G_DATE + (int)pick(g, 2);
            put(g, "(%s ", ops[pick(g, 7)]);
            gexpr(g, a, d);
            put(g, " ");
            gexpr(g, b, d);
            put(g, ")");
            return;
        }
        case 2:
            g->lazy++;
            put(g, pick(g, 2) ? "(and " : "(or ");
            gexpr(g, G_BOOL, d);
            put(g, " ");
            gexpr(g, G_BOOL, d);
            put(g, ")");
            g->lazy--;
            return;
        case 3: {
            static const char *const fns[] = {"not",     "isnull",    "isnotnull", "istrue",
                                              "isfalse", "isunknown", "isnottrue", "isnotfalse"};
            int k = (int)pick(g, 8);
            put(g, "(%s ", fns[k]);
            gexpr(g, k == 1 || k == 2 ? (int)pick(g, G_NT) : G_BOOL, d);
            put(g, ")");
            return;
        }
        case 4:
        case 5: {
            static const char *const pats[] = {"%",   "a%",  "%c",    "_b%",   "%l%", "h_llo",
                                               "%É%", "日%", "%\\%%", "a\\_b", "",    "%a%b%c%",
                                               "___", "%_",  "x%",    "%é%"};
            static const char *const fns[] = {"like", "notlike", "ilike", "notilike"};
            put(g, "(%s ", fns[pick(g, 4)]);
            gexpr(g, G_TEXT, d);
            put(g, " '%s')", pats[pick(g, sizeof pats / sizeof pats[0])]);
            return;
        }
        case 6: {
            int a = (int)pick(g, G_NT);
            put(g, pick(g, 2) ? "(in " : "(notin ");
            gexpr(g, a, d);
            for (int i = 0, n = 1 + (int)pick(g, 3); i < n; i++) {
                put(g, " ");
                gexpr(g, a, d);
            }
            put(g, ")");
            return;
        }
        case 7:
            put(g, "(starts_with ");
            gexpr(g, G_TEXT, d);
            put(g, " ");
            gexpr(g, G_TEXT, d);
            put(g, ")");
            return;
        case 8:
            put(g, "(cast bool ");
            if (pick(g, 2))
                glit(g, G_TEXT);
            else
                gexpr(g, G_INT4, d);
            put(g, ")");
            return;
        default:
            g->lazy++;
            put(g, "(casex ");
            gexpr(g, G_INT4, d);
            put(g, " (when 1 ");
            gexpr(g, G_BOOL, d);
            put(g, ") (when ");
            gexpr(g, G_INT8, d);
            put(g, " ");
            gexpr(g, G_BOOL, d);
            put(g, ") (else ");
            gexpr(g, G_BOOL, d);
            put(g, "))");
            g->lazy--;
            return;
        }
    }
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CONNINFO [--random N] [--seed S] [-v]\n", argv[0]);
        return 2;
    }
    int nrandom = 600;
    uint64_t seed = 20240601;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--random") == 0 && i + 1 < argc)
            nrandom = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "-v") == 0)
            verbose = true;
    }
    conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "connect: %s", PQerrorMessage(conn));
        return 2;
    }
    PQclear(PQexec(conn, "SET extra_float_digits = 1"));
    PQclear(PQexec(conn, "SET client_encoding = 'UTF8'"));

    int nhand = 0;
    for (size_t i = 0; i < sizeof t_expr_cases / sizeof t_expr_cases[0]; i++) {
        if (t_expr_cases[i].nopg)
            continue;
        run(t_expr_cases[i].src, t_expr_cases[i].want);
        nhand++;
    }
    gen g = {.seed = seed, .cap = 8192};
    g.buf = malloc(g.cap);
    for (int i = 0; i < nrandom; i++) {
        g.len = 0;
        g.buf[0] = '\0';
        gexpr(&g, (int)pick(&g, G_NT), 1 + (int)pick(&g, 4));
        run(g.buf, NULL);
    }
    free(g.buf);
    PQfinish(conn);
    printf("expressions vs PostgreSQL: %d hand-written + %d random (seed %llu): %d pass, %d "
           "mismatch, %d expectation mismatches\n",
           nhand, nrandom, (unsigned long long)seed, npass, nfail, nwrong_want);
    return nfail || nwrong_want ? 1 : 0;
}
