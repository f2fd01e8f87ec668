/* sluice-bench expr: the expression evaluator (operators/op_expr.h) over
 * rows, against hand-written C computing the same thing on the same rows.
 *
 * Cases (one JSON line each; exits 1 if an answer differs from the
 * baseline's):
 *   arith   WHERE (a * 3 + 1) % 7 = 2 AND c > 0.5      count of rows kept
 *   string  WHERE length(upper(b)) > 4 AND b LIKE '%ab%'  count of rows kept
 *   map     a * 2 + 1, upper(b) || ':' || a pushed into an output row  bytes out
 * Rows are (a int8, b text, c float8), pre-generated in one buffer. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "operators/op_expr.h"

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t
rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct rows {
    eng_rowbuf buf;
    uint32_t *off; /* row i = buf.data[off[i] .. off[i+1]) */
    int n;
} rows;

static void
gen_rows(rows *R, int n)
{
    uint64_t seed = 7;
    R->off = malloc(((size_t)n + 1) * sizeof *R->off);
    R->n = n;
    char s[16];
    for (int i = 0; i < n; i++) {
        R->off[i] = R->buf.len;
        eng_push_int8(&R->buf, (int64_t)(rnd(&seed) % 2000000) - 1000000);
        int len = 2 + (int)(rnd(&seed) % 9);
        for (int k = 0; k < len; k++)
            s[k] = "abcxyzAB"[rnd(&seed) % 8];
        eng_push_text(&R->buf, s, (uint32_t)len);
        eng_push_float8(&R->buf, (double)(rnd(&seed) % 1000) / 1000.0);
    }
    R->off[n] = R->buf.len;
}

static eng_row
row_at(const rows *R, int i)
{
    return (eng_row){R->buf.data + R->off[i], R->off[i + 1] - R->off[i]};
}

typedef struct cols {
    int64_t a;
    const char *b;
    uint32_t blen;
    double c;
} cols;

static cols
decode(eng_row r)
{
    cols x;
    uint32_t pos = 0;
    eng_datum d = eng_row_next(r, &pos);
    x.a = eng_datum_int8(d);
    d = eng_row_next(r, &pos);
    x.b = (const char *)d.ptr;
    x.blen = d.len;
    d = eng_row_next(r, &pos);
    memcpy(&x.c, d.ptr, 8);
    return x;
}

static const op_type types[3] = {OP_T_INT8, OP_T_TEXT, OP_T_FLOAT8};

static op_prog *
compile(op_expr *e)
{
    op_prog *p;
    eng_err err;
    eng_err_clear(&err);
    if (op_expr_compile(e, 3, types, &p, &err)) {
        fprintf(stderr, "compile: %s\n", err.message);
        exit(1);
    }
    op_expr_free(e);
    return p;
}

/* Runs the filter program over all rows; returns rows kept. */
static long
run_filter(const rows *R, const op_prog *p, op_eval *ev)
{
    long kept = 0;
    eng_err err;
    eng_err_clear(&err);
    for (int i = 0; i < R->n; i++) {
        op_val v;
        op_eval_begin(ev, row_at(R, i));
        if (op_eval_run(ev, p, &v, &err)) {
            fprintf(stderr, "eval: %s\n", err.message);
            exit(1);
        }
        kept += v.tag == ENG_TAG_TRUE;
    }
    return kept;
}

static long
base_arith(const rows *R)
{
    long kept = 0;
    for (int i = 0; i < R->n; i++) {
        cols x = decode(row_at(R, i));
        int64_t t;
        if (__builtin_mul_overflow(x.a, 3, &t) || __builtin_add_overflow(t, 1, &t))
            exit(1);
        kept += t % 7 == 2 && x.c > 0.5;
    }
    return kept;
}

static bool
has_ab(const char *s, uint32_t n)
{
    for (uint32_t i = 0; i + 1 < n; i++)
        if (s[i] == 'a' && s[i + 1] == 'b')
            return true;
    return false;
}

static long
base_string(const rows *R)
{
    long kept = 0;
    char up[32];
    for (int i = 0; i < R->n; i++) {
        cols x = decode(row_at(R, i));
        for (uint32_t k = 0; k < x.blen; k++) /* what upper() builds, then its length */
            up[k] = (char)toupper((unsigned char)x.b[k]);
        kept += x.blen > 4 && up[0] != 0 && has_ab(x.b, x.blen);
    }
    return kept;
}

static long
run_map(const rows *R, const op_prog *p1, const op_prog *p2, op_eval *ev)
{
    eng_rowbuf out = {0};
    long bytes = 0;
    eng_err err;
    eng_err_clear(&err);
    for (int i = 0; i < R->n; i++) {
        op_val v1, v2;
        op_eval_begin(ev, row_at(R, i));
        if (op_eval_run(ev, p1, &v1, &err) || op_eval_run(ev, p2, &v2, &err))
            exit(1);
        eng_rowbuf_reset(&out);
        op_val_push(&v1, &out);
        op_val_push(&v2, &out);
        bytes += out.len;
    }
    eng_rowbuf_free(&out);
    return bytes;
}

static long
base_map(const rows *R)
{
    eng_rowbuf out = {0};
    long bytes = 0;
    char buf[64];
    for (int i = 0; i < R->n; i++) {
        cols x = decode(row_at(R, i));
        eng_rowbuf_reset(&out);
        eng_push_int8(&out, x.a * 2 + 1);
        for (uint32_t k = 0; k < x.blen; k++)
            buf[k] = (char)toupper((unsigned char)x.b[k]);
        int n = (int)x.blen;
        n += snprintf(buf + n, sizeof buf - (size_t)n, ":%lld", (long long)x.a);
        eng_push_text(&out, buf, (uint32_t)n);
        bytes += out.len;
    }
    eng_rowbuf_free(&out);
    return bytes;
}

static void
report(const char *name, int n, double t, double tb, long got, long want)
{
    printf("{\"bench\":\"expr\",\"case\":\"%s\",\"rows\":%d,\"ns_per_row\":%.1f,"
           "\"plain_loop_ns_per_row\":%.1f,\"ratio\":%.2f,\"answer\":%ld,\"verified\":%s}\n",
           name, n, t * 1e9 / n, tb * 1e9 / n, t / tb, got, got == want ? "true" : "false");
}

int
bench_expr_main(int argc, char **argv)
{
    int n = 2000000;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
            n = atoi(argv[++i]);
    rows R = {0};
    gen_rows(&R, n);
    op_eval *ev = op_eval_new();
    int bad = 0;

    /* (a * 3 + 1) % 7 = 2 AND c > 0.5 */
    op_prog *p = compile(op_expr_call2(
        OP_AND,
        op_expr_call2(
            OP_EQ,
            op_expr_call2(OP_MOD,
                          op_expr_call2(OP_ADD,
                                        op_expr_call2(OP_MUL, op_expr_col(0), op_expr_int4(3)),
                                        op_expr_int4(1)),
                          op_expr_int4(7)),
            op_expr_int4(2)),
        op_expr_call2(OP_GT, op_expr_col(2), op_expr_float8(0.5))));
    double t0 = now_s();
    long got = run_filter(&R, p, ev);
    double t1 = now_s();
    long want = base_arith(&R);
    double t2 = now_s();
    report("arith", n, t1 - t0, t2 - t1, got, want);
    bad += got != want;
    op_prog_free(p);

    /* length(upper(b)) > 4 AND b LIKE '%ab%' */
    p = compile(op_expr_call2(
        OP_AND,
        op_expr_call2(OP_GT, op_expr_call1(OP_LENGTH, op_expr_call1(OP_UPPER, op_expr_col(1))),
                      op_expr_int4(4)),
        op_expr_call2(OP_LIKE, op_expr_col(1), op_expr_text("%ab%", 4))));
    t0 = now_s();
    got = run_filter(&R, p, ev);
    t1 = now_s();
    want = base_string(&R);
    t2 = now_s();
    report("string", n, t1 - t0, t2 - t1, got, want);
    bad += got != want;
    op_prog_free(p);

    /* a * 2 + 1, upper(b) || ':' || a */
    op_prog *p1 = compile(op_expr_call2(
        OP_ADD, op_expr_call2(OP_MUL, op_expr_col(0), op_expr_int4(2)), op_expr_int4(1)));
    op_prog *p2 = compile(op_expr_call2(
        OP_CONCAT_OP,
        op_expr_call2(OP_CONCAT_OP, op_expr_call1(OP_UPPER, op_expr_col(1)), op_expr_text(":", 1)),
        op_expr_col(0)));
    t0 = now_s();
    got = run_map(&R, p1, p2, ev);
    t1 = now_s();
    want = base_map(&R);
    t2 = now_s();
    report("map", n, t1 - t0, t2 - t1, got, want);
    bad += got != want;
    op_prog_free(p1);
    op_prog_free(p2);

    op_eval_free(ev);
    eng_rowbuf_free(&R.buf);
    free(R.off);
    return bad ? 1 : 0;
}
