/* Differential test of the type library against a real PostgreSQL 15.
 *
 * Usage: test_types_pg DSN [seed]
 * For every case PostgreSQL evaluates a SQL expression (a literal cast, an
 * arithmetic expression, a cast chain, a type name) and we compute the same
 * with eng_text_parse / eng_cast / eng_numeric_* / eng_text_format. Both
 * must succeed with byte-identical text, or both fail with the same
 * SQLSTATE. Cases: hand-picked edge values per type, random floats from
 * random bit patterns, random numerics (large and small scales) and their
 * sums, differences, products, quotients and remainders, random timestamps,
 * dates and intervals (BC and infinities included), random JSON documents.
 * Differences that are deliberate (documented in docs/types.md) are counted
 * apart and do not fail the run. Exit status: 0 when every other case
 * matches, 1 otherwise; every mismatch is printed with the input, our
 * output and PostgreSQL's. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/eng_cast.h"
#include "engine/core/eng_cmp.h"
#include "engine/core/eng_datetime.h"
#include "engine/core/eng_float.h"
#include "engine/core/eng_numeric.h"
#include "engine/core/eng_text.h"
#include "engine/core/eng_type.h"
#include "tests/core/t_types_pg.h"

/* ------------------------------------------------------------------ bookkeeping */

typedef struct {
    bool ok;
    char sqlstate[6];
    char msg[600];
    eng_strbuf text;
} result;

typedef struct {
    const char *name;
    int total, pass, fail, deviation, msg_diff;
} category;

static PGconn *conn;
static category cats[64];
static int ncats;
static int max_print = 40; /* mismatches printed per category */
static int verbose;

static category *
cat(const char *name)
{
    for (int i = 0; i < ncats; i++)
        if (strcmp(cats[i].name, name) == 0)
            return &cats[i];
    cats[ncats].name = name;
    return &cats[ncats++];
}

static void
result_reset(result *r)
{
    eng_strbuf_reset(&r->text);
    r->ok = false;
    r->sqlstate[0] = '\0';
    r->msg[0] = '\0';
}

static void
result_error(result *r, const eng_err *e)
{
    r->ok = false;
    memcpy(r->sqlstate, e->sqlstate, 6);
    snprintf(r->msg, sizeof r->msg, "%s", e->message);
}

static void
pg_run(const char *sql, result *r)
{
    result_reset(r);
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK) {
        r->ok = true;
        if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
            eng_strbuf_puts(&r->text, PQgetvalue(res, 0, 0));
        else
            eng_strbuf_puts(&r->text, "<NULL>");
    } else if (st == PGRES_COMMAND_OK) {
        r->ok = true;
    } else {
        const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        snprintf(r->sqlstate, sizeof r->sqlstate, "%s", s ? s : "?????");
        snprintf(r->msg, sizeof r->msg, "%s", m ? m : "");
        if (s == NULL) {
            fprintf(stderr, "connection problem: %s\n", PQerrorMessage(conn));
            exit(2);
        }
    }
    PQclear(res);
}

/* Deliberate differences (docs/types.md). */
static bool
known_deviation(const char *cname, const result *ours, const result *pg)
{
    /* -0 is stored as 0 (canonical float encoding). */
    if (ours->ok && pg->ok && (strncmp(cname, "float", 5) == 0 || strcmp(cname, "cast") == 0)) {
        const char *o = eng_strbuf_cstr(&ours->text), *p = eng_strbuf_cstr(&pg->text);
        if (p[0] == '-' && strcmp(o, p + 1) == 0 && strspn(p + 1, "0") == strlen(p + 1))
            return true;
    }
    /* Types PostgreSQL has and Sluice does not model (timetz, money,
     * arrays, "char"): our parser says 0A000. */
    if (!ours->ok && pg->ok && strcmp(cname, "type name") == 0 &&
        strcmp(ours->sqlstate, "0A000") == 0)
        return true;
    return false;
}

static void
compare(const char *cname, const char *input, const result *ours, const result *pg)
{
    category *c = cat(cname);
    c->total++;
    bool same;
    if (ours->ok && pg->ok)
        same = strcmp(eng_strbuf_cstr(&ours->text), eng_strbuf_cstr(&pg->text)) == 0;
    else if (!ours->ok && !pg->ok)
        same = strcmp(ours->sqlstate, pg->sqlstate) == 0;
    else
        same = false;
    if (same) {
        c->pass++;
        if (!ours->ok && strcmp(ours->msg, pg->msg) != 0) {
            c->msg_diff++;
            if (verbose)
                printf("  message differs [%s] %s: ours \"%s\" pg \"%s\"\n", cname, input,
                       ours->msg, pg->msg);
        }
        return;
    }
    if (known_deviation(cname, ours, pg)) {
        c->deviation++;
        return;
    }
    c->fail++;
    if (c->fail > max_print)
        return;
    printf("MISMATCH [%s] input: %s\n", cname, input);
    if (ours->ok)
        printf("    ours: %s\n", eng_strbuf_cstr(&ours->text));
    else
        printf("    ours: ERROR %s %s\n", ours->sqlstate, ours->msg);
    if (pg->ok)
        printf("    pg:   %s\n", eng_strbuf_cstr(&pg->text));
    else
        printf("    pg:   ERROR %s %s\n", pg->sqlstate, pg->msg);
}

/* Appends s as a SQL string literal (standard_conforming_strings on). */
static void
put_literal(eng_strbuf *b, const char *s)
{
    eng_strbuf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            eng_strbuf_putc(b, '\'');
        eng_strbuf_putc(b, *s);
    }
    eng_strbuf_putc(b, '\'');
}

static result ours_r, pg_r;
static eng_strbuf sql;
static eng_rowbuf rb;

/* Our value of the literal cast 's'::typename, formatted. */
static void
ours_literal(const char *typname, const char *s, result *r)
{
    result_reset(r);
    eng_err e;
    eng_err_clear(&e);
    eng_type t;
    if (eng_type_parse(typname, strlen(typname), &t, &e) < 0) {
        result_error(r, &e);
        return;
    }
    eng_type unk = eng_type_make(ENG_TYPE_UNKNOWN, -1);
    eng_rowbuf_reset(&rb);
    eng_datum in = {ENG_TAG_TEXT, (uint32_t)strlen(s), (const uint8_t *)s};
    if (eng_cast(&unk, &t, in, &rb, &e) < 0) {
        result_error(r, &e);
        return;
    }
    uint32_t pos = 0;
    eng_datum d = eng_row_next(eng_rowbuf_row(&rb), &pos);
    r->ok = true;
    if (d.tag == ENG_TAG_NULL)
        eng_strbuf_puts(&r->text, "<NULL>");
    else
        eng_text_format(&t, d, &r->text);
}

/* 's'::typename compared with PostgreSQL. */
void
t_check_literal(const char *cname, const char *typname, const char *s)
{
    if (strchr(s, '\0') != s + strlen(s))
        return;
    eng_strbuf_reset(&sql);
    eng_strbuf_puts(&sql, "SELECT ");
    put_literal(&sql, s);
    eng_strbuf_printf(&sql, "::%s", typname);
    pg_run(eng_strbuf_cstr(&sql), &pg_r);
    ours_literal(typname, s, &ours_r);
    char label[700];
    snprintf(label, sizeof label, "'%s'::%s", s, typname);
    compare(cname, label, &ours_r, &pg_r);
}

/* 's'::from::to: parse as `from`, cast to `to`. */
void
t_check_cast(const char *from, const char *to, const char *s)
{
    eng_strbuf_reset(&sql);
    eng_strbuf_puts(&sql, "SELECT ");
    put_literal(&sql, s);
    eng_strbuf_printf(&sql, "::%s::%s", from, to);
    pg_run(eng_strbuf_cstr(&sql), &pg_r);

    result *r = &ours_r;
    result_reset(r);
    eng_err e;
    eng_err_clear(&e);
    eng_type tf, tt;
    int rc = eng_type_parse(from, strlen(from), &tf, &e);
    if (rc == 0)
        rc = eng_type_parse(to, strlen(to), &tt, &e);
    eng_type unk = eng_type_make(ENG_TYPE_UNKNOWN, -1);
    eng_rowbuf_reset(&rb);
    eng_datum in = {ENG_TAG_TEXT, (uint32_t)strlen(s), (const uint8_t *)s};
    if (rc == 0)
        rc = eng_cast(&unk, &tf, in, &rb, &e);
    if (rc == 0) {
        uint32_t pos = 0;
        eng_datum d = eng_row_next(eng_rowbuf_row(&rb), &pos);
        eng_rowbuf tmp = {0};
        rc = eng_cast(&tf, &tt, d, &tmp, &e);
        if (rc == 0) {
            pos = 0;
            eng_datum d2 = eng_row_next(eng_rowbuf_row(&tmp), &pos);
            r->ok = true;
            if (d2.tag == ENG_TAG_NULL)
                eng_strbuf_puts(&r->text, "<NULL>");
            else
                eng_text_format(&tt, d2, &r->text);
        }
        eng_rowbuf_free(&tmp);
    }
    if (rc < 0)
        result_error(r, &e);
    char label[700];
    snprintf(label, sizeof label, "'%s'::%s::%s", s, from, to);
    compare("cast", label, r, &pg_r);
}

/* INSERT semantics (input function with typmod, assignment): compare
 * eng_text_parse with PostgreSQL storing into a column of that type. */
void
t_check_assign(const char *typname, const char *s)
{
    eng_strbuf_reset(&sql);
    eng_strbuf_printf(&sql, "DROP TABLE IF EXISTS _a; CREATE TEMP TABLE _a (c %s)", typname);
    pg_run(eng_strbuf_cstr(&sql), &pg_r);
    eng_strbuf_reset(&sql);
    eng_strbuf_puts(&sql, "INSERT INTO _a VALUES (");
    put_literal(&sql, s);
    eng_strbuf_puts(&sql, ") RETURNING c");
    pg_run(eng_strbuf_cstr(&sql), &pg_r);

    result *r = &ours_r;
    result_reset(r);
    eng_err e;
    eng_err_clear(&e);
    eng_type t;
    int rc = eng_type_parse(typname, strlen(typname), &t, &e);
    eng_rowbuf_reset(&rb);
    if (rc == 0)
        rc = eng_text_parse(&t, s, strlen(s), &rb, &e);
    if (rc == 0) {
        uint32_t pos = 0;
        eng_datum d = eng_row_next(eng_rowbuf_row(&rb), &pos);
        r->ok = true;
        eng_text_format(&t, d, &r->text);
    } else {
        result_error(r, &e);
    }
    char label[700];
    snprintf(label, sizeof label, "INSERT '%s' INTO %s", s, typname);
    compare("assign", label, r, &pg_r);
}

/* ------------------------------------------------------------------ numeric expressions */

static int
parse_num(const char *s, eng_numeric *n, eng_err *e)
{
    return eng_numeric_parse(s, strlen(s), -1, n, e);
}

void
t_check_numeric_op(const char *a, char op, const char *b)
{
    eng_strbuf_reset(&sql);
    eng_strbuf_puts(&sql, "SELECT ");
    put_literal(&sql, a);
    eng_strbuf_printf(&sql, "::numeric %c ", op);
    put_literal(&sql, b);
    eng_strbuf_puts(&sql, "::numeric");
    pg_run(eng_strbuf_cstr(&sql), &pg_r);

    result *r = &ours_r;
    result_reset(r);
    eng_err e;
    eng_err_clear(&e);
    eng_numeric x, y, z;
    eng_numeric_init(&x);
    eng_numeric_init(&y);
    eng_numeric_init(&z);
    int rc = parse_num(a, &x, &e);
    if (rc == 0)
        rc = parse_num(b, &y, &e);
    if (rc == 0) {
        switch (op) {
        case '+':
            rc = eng_numeric_add(&x, &y, &z, &e);
            break;
        case '-':
            rc = eng_numeric_sub(&x, &y, &z, &e);
            break;
        case '*':
            rc = eng_numeric_mul(&x, &y, &z, &e);
            break;
        case '/':
            rc = eng_numeric_div(&x, &y, &z, &e);
            break;
        default:
            rc = eng_numeric_mod(&x, &y, &z, &e);
            break;
        }
    }
    if (rc == 0) {
        r->ok = true;
        eng_numeric_format(&z, &r->text);
    } else {
        result_error(r, &e);
    }
    eng_numeric_free(&x);
    eng_numeric_free(&y);
    eng_numeric_free(&z);
    char label[2200];
    snprintf(label, sizeof label, "%s %c %s", a, op, b);
    static const char *names[] = {"numeric +", "numeric -", "numeric *", "numeric /", "numeric %"};
    compare(names[strchr("+-*/%", op) - "+-*/%"], label, r, &pg_r);
}

void
t_check_numeric_round(const char *a, int scale, bool trunc)
{
    eng_strbuf_reset(&sql);
    eng_strbuf_printf(&sql, "SELECT %s(", trunc ? "trunc" : "round");
    put_literal(&sql, a);
    eng_strbuf_printf(&sql, "::numeric, %d)", scale);
    pg_run(eng_strbuf_cstr(&sql), &pg_r);
    result *r = &ours_r;
    result_reset(r);
    eng_err e;
    eng_err_clear(&e);
    eng_numeric x;
    eng_numeric_init(&x);
    if (parse_num(a, &x, &e) == 0) {
        if (trunc)
            eng_numeric_trunc(&x, scale);
        else
            eng_numeric_round(&x, scale);
        r->ok = true;
        eng_numeric_format(&x, &r->text);
    } else {
        result_error(r, &e);
    }
    eng_numeric_free(&x);
    char label[1200];
    snprintf(label, sizeof label, "%s(%s, %d)", trunc ? "trunc" : "round", a, scale);
    compare("numeric round", label, r, &pg_r);
}

/* sum() and avg() over a set of values through the accumulator. */
void
t_check_numeric_agg(char **vals, int n)
{
    eng_strbuf_reset(&sql);
    eng_strbuf_puts(&sql, "SELECT sum(x)::text || ' ' || avg(x)::text FROM (VALUES ");
    for (int i = 0; i < n; i++) {
        if (i)
            eng_strbuf_puts(&sql, ", ");
        eng_strbuf_putc(&sql, '(');
        put_literal(&sql, vals[i]);
        eng_strbuf_puts(&sql, "::numeric)");
    }
    eng_strbuf_puts(&sql, ") v(x)");
    pg_run(eng_strbuf_cstr(&sql), &pg_r);
    result *r = &ours_r;
    result_reset(r);
    eng_err e;
    eng_err_clear(&e);
    eng_numeric_acc acc;
    eng_numeric_acc_init(&acc);
    eng_numeric x, s;
    eng_numeric_init(&x);
    eng_numeric_init(&s);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        rc = parse_num(vals[i], &x, &e);
        if (rc == 0) {
            eng_numeric_acc_add(&acc, &x, 1);
            /* and a retracted extra value, to exercise negative diffs */
            eng_numeric_acc_add(&acc, &x, 3);
            eng_numeric_acc_add(&acc, &x, -3);
        }
    }
    if (rc == 0)
        rc = eng_numeric_acc_sum(&acc, &s, &e);
    if (rc == 0) {
        eng_numeric_format(&s, &r->text);
        eng_strbuf_putc(&r->text, ' ');
        rc = eng_numeric_acc_avg(&acc, &s, &e);
        if (rc == 0)
            eng_numeric_format(&s, &r->text);
    }
    r->ok = rc == 0;
    if (rc < 0)
        result_error(r, &e);
    eng_numeric_free(&x);
    eng_numeric_free(&s);
    eng_numeric_acc_free(&acc);
    compare("numeric sum/avg", eng_strbuf_cstr(&sql), r, &pg_r);
}

/* ------------------------------------------------------------------ type names */

void
t_check_type_name(const char *name)
{
    eng_strbuf_reset(&sql);
    eng_strbuf_printf(&sql,
                      "DROP TABLE IF EXISTS _t; CREATE TEMP TABLE _t (c %s); SELECT "
                      "format_type(atttypid, atttypmod) || ' ' || atttypid || ' ' || atttypmod "
                      "FROM pg_attribute WHERE attrelid = '_t'::regclass AND attname = 'c'",
                      name);
    pg_run(eng_strbuf_cstr(&sql), &pg_r);
    result *r = &ours_r;
    result_reset(r);
    eng_err e;
    eng_err_clear(&e);
    eng_type t;
    if (eng_type_parse(name, strlen(name), &t, &e) == 0) {
        r->ok = true;
        eng_type_format(&t, &r->text);
        eng_strbuf_printf(&r->text, " %" PRIu32 " %" PRId32, eng_type_oid(&t), t.typmod);
    } else {
        result_error(r, &e);
    }
    compare("type name", name, r, &pg_r);
}

/* Every time zone abbreviation the server knows (pg_timezone_abbrevs),
 * at dates where dynamic ones differ, with and without "dst". */
static void
run_abbrevs(void)
{
    PGresult *res = PQexec(conn, "SELECT abbrev FROM pg_timezone_abbrevs ORDER BY 1");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "pg_timezone_abbrevs: %s\n", PQerrorMessage(conn));
        exit(2);
    }
    static const char *when[] = {"2024-01-15 12:00", "2024-07-15 12:00", "1990-07-02 03:04",
                                 "1920-01-01 00:00", "2060-07-01 00:00"};
    char buf[128];
    for (int i = 0; i < PQntuples(res); i++) {
        const char *ab = PQgetvalue(res, i, 0);
        for (size_t w = 0; w < sizeof when / sizeof when[0]; w++) {
            snprintf(buf, sizeof buf, "%s %s", when[w], ab);
            t_check_literal("abbrevs", "timestamptz", buf);
        }
        snprintf(buf, sizeof buf, "2024-01-15 12:00 %s DST", ab);
        t_check_literal("abbrevs", "timestamptz", buf);
        snprintf(buf, sizeof buf, "12:00 %s", ab);
        t_check_literal("abbrevs", "time", buf);
    }
    PQclear(res);
    t_check_literal("abbrevs", "timestamptz", "2024-01-15 12:00 DST");
    t_check_literal("abbrevs", "timestamptz", "2024-01-15 12:00 Europe/Paris DST");
    t_check_literal("abbrevs", "timestamptz", "2024-01-15 12:00 +02 DST");
}

/* ------------------------------------------------------------------ main */

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DSN [seed] [-v]\n", argv[0]);
        return 2;
    }
    uint64_t seed = 20240601;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else
            seed = strtoull(argv[i], NULL, 10);
    }
    t_rng_state = seed ? seed : 1;
    printf("test_types_pg: seed %" PRIu64 "\n", seed);
    conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "connect failed: %s\n", PQerrorMessage(conn));
        return 2;
    }
    pg_run("SET datestyle = 'ISO, MDY'; SET intervalstyle = postgres; SET timezone = 'UTC'; "
           "SET extra_float_digits = 1; SET bytea_output = hex; "
           "SET client_min_messages = error",
           &pg_r);
    if (!pg_r.ok) {
        fprintf(stderr, "session setup failed: %s\n", pg_r.msg);
        return 2;
    }
    t_run_type_names();
    t_run_ints();
    t_run_floats();
    t_run_numeric();
    t_run_strings();
    t_run_casts();
    t_run_bytea_uuid();
    t_run_json();
    t_run_dates();
    t_run_times();
    t_run_timestamps();
    t_run_intervals();
    t_run_zones();
    run_abbrevs();

    int total = 0, pass = 0, fail = 0, dev = 0;
    printf("\n%-20s %7s %7s %7s %9s %9s\n", "category", "cases", "pass", "fail", "deviation",
           "msg-diff");
    for (int i = 0; i < ncats; i++) {
        category *c = &cats[i];
        printf("%-20s %7d %7d %7d %9d %9d\n", c->name, c->total, c->pass, c->fail, c->deviation,
               c->msg_diff);
        total += c->total;
        pass += c->pass;
        fail += c->fail;
        dev += c->deviation;
    }
    printf("%-20s %7d %7d %7d %9d\n", "TOTAL", total, pass, fail, dev);
    if (fail)
        printf("FAILED (seed %" PRIu64 ")\n", seed);
    eng_strbuf_free(&ours_r.text);
    eng_strbuf_free(&pg_r.text);
    eng_strbuf_free(&sql);
    eng_rowbuf_free(&rb);
    PQfinish(conn);
    return fail ? 1 : 0;
}
