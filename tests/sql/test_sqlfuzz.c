/* Mutation fuzzing of the SQL front end, in process: the statements of the
 * sqllogictest corpus (tests/sql/[0-9]*.slt) are run once as written (so
 * their tables exist), then mutated (tokens deleted, inserted, replaced)
 * and run again. Every statement must come back, with a result or an
 * error carrying a SQLSTATE that is not an internal error (XX000); the
 * sanitizer builds turn any crash, leak or undefined behaviour into a
 * failure. Deterministic: seeds 1..SEEDS. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "t_session.h"

#ifndef SLUICE_SOURCE_DIR
#define SLUICE_SOURCE_DIR "."
#endif

enum { SEEDS = 4, MUTANTS = 1000, MAXSTMT = 4096 };

static char *stmts[MAXSTMT];
static int nstmts;

/* Collects the SQL of every record of an .slt file. */
static void
load(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[4096];
    eng_strbuf cur = {0};
    bool in_sql = false;
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        bool blank = line[0] == '\0';
        if (strncmp(line, "statement", 9) == 0 || strncmp(line, "query", 5) == 0) {
            in_sql = true;
            eng_strbuf_reset(&cur);
            continue;
        }
        if (in_sql && (strcmp(line, "----") == 0 || blank)) {
            if (cur.len > 0 && nstmts < MAXSTMT)
                stmts[nstmts++] = strdup(eng_strbuf_cstr(&cur));
            in_sql = false;
            continue;
        }
        if (in_sql) {
            if (cur.len)
                eng_strbuf_putc(&cur, ' ');
            eng_strbuf_puts(&cur, line);
        }
    }
    if (in_sql && cur.len > 0 && nstmts < MAXSTMT)
        stmts[nstmts++] = strdup(eng_strbuf_cstr(&cur));
    eng_strbuf_free(&cur);
    fclose(f);
}

static uint64_t rng;

static uint64_t
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char *const tokens[] = {
    "(",
    ")",
    ",",
    "SELECT",
    "FROM",
    "WHERE",
    "JOIN",
    "ON",
    "NULL",
    "1",
    "0",
    "-1",
    "'x'",
    "*",
    "/",
    "+",
    "GROUP BY",
    "ORDER BY",
    "LIMIT",
    "OVER ()",
    "EXISTS",
    "IN",
    "(SELECT 1)",
    "::int",
    "::text",
    "CASE WHEN",
    "END",
    "AND",
    "OR",
    "NOT",
    "DISTINCT",
    "UNION",
    "count(*)",
    "row_number()",
    "$1",
    "LATERAL",
    "WITH x AS (SELECT 1)",
    "''",
    "1e400",
    "9223372036854775808",
    "'2020-13-45'::date",
    "NATURAL",
    "USING",
    "HAVING",
    "ALL",
    "ANY",
    "::numeric(3,1)",
};

/* Splits s into words (quoted strings kept whole) and mutates them. */
static char *
mutate(const char *s)
{
    const char *w[512];
    size_t wl[512];
    int n = 0;
    const char *p = s;
    while (*p && n < 512) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *st = p;
        if (*p == '\'') {
            p++;
            while (*p && *p != '\'')
                p++;
            if (*p)
                p++;
        } else {
            while (*p && *p != ' ')
                p++;
        }
        w[n] = st;
        wl[n] = (size_t)(p - st);
        n++;
    }
    int edits = 1 + (int)(rnd() % 3);
    for (int e = 0; e < edits; e++) {
        int op = (int)(rnd() % 3);
        const char *tok = tokens[rnd() % (sizeof tokens / sizeof tokens[0])];
        if (op == 0 && n > 0) {
            int i = (int)(rnd() % (uint64_t)n);
            memmove(&w[i], &w[i + 1], (size_t)(n - i - 1) * sizeof *w);
            memmove(&wl[i], &wl[i + 1], (size_t)(n - i - 1) * sizeof *wl);
            n--;
        } else if (op == 1 && n < 511) {
            int i = (int)(rnd() % (uint64_t)(n + 1));
            memmove(&w[i + 1], &w[i], (size_t)(n - i) * sizeof *w);
            memmove(&wl[i + 1], &wl[i], (size_t)(n - i) * sizeof *wl);
            w[i] = tok;
            wl[i] = strlen(tok);
            n++;
        } else if (n > 0) {
            int i = (int)(rnd() % (uint64_t)n);
            w[i] = tok;
            wl[i] = strlen(tok);
        }
    }
    eng_strbuf out = {0};
    for (int i = 0; i < n; i++) {
        if (i)
            eng_strbuf_putc(&out, ' ');
        eng_strbuf_append(&out, w[i], wl[i]);
    }
    char *r = strdup(eng_strbuf_cstr(&out));
    eng_strbuf_free(&out);
    return r;
}

static void
check(const char *sql, const char *res)
{
    if (strncmp(res, "ERROR XX", 8) == 0)
        fail_msg("internal error for: %s\n%s", sql, res);
}

static void
test_fuzz(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/sql", SLUICE_SOURCE_DIR);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".slt") == 0 && de->d_name[0] >= '0' &&
            de->d_name[0] <= '9') {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            load(path);
        }
    }
    closedir(d);
    assert_true(nstmts > 200);
    eng_err err;
    eng_err_clear(&err);
    shard_topo *topo;
    eng_rt *rt;
    eng_coord *co;
    assert_int_equal(shard_topo_open(&topo, &err), 0);
    assert_int_equal(eng_rt_start(&rt, topo, 2, &err), 0);
    assert_int_equal(eng_coord_open(&co, rt, NULL, &err), 0);
    eng_session *s = eng_session_new(co);
    int ok = 0;
    for (int i = 0; i < nstmts; i++) {
        if (strncasecmp(stmts[i], "FETCH", 5) == 0 ||
            strncasecmp(stmts[i], "COPY (SUBSCRIBE", 15) == 0)
            continue; /* could wait for data forever */
        char *r = t_sql(s, stmts[i]);
        check(stmts[i], r);
        ok += strncmp(r, "ERROR", 5) != 0;
        free(r);
    }
    assert_true(ok > nstmts / 2); /* the corpus itself mostly runs */
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        rng = seed * 0x9e3779b97f4a7c15ULL;
        for (int m = 0; m < MUTANTS; m++) {
            char *sql = mutate(stmts[rnd() % (uint64_t)nstmts]);
            if (strcasestr(sql, "SUBSCRIBE") || strcasestr(sql, "FETCH")) {
                free(sql);
                continue;
            }
            char *r = t_sql(s, sql);
            check(sql, r);
            free(r);
            free(sql);
        }
    }
    eng_session_free(s);
    eng_coord_close(co);
    eng_rt_stop(rt);
    shard_topo_close(topo);
    for (int i = 0; i < nstmts; i++)
        free(stmts[i]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
