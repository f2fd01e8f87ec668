/* Oracle test for mfp (operators/op_mfp.h): random inserts and retractions
 * of rows (int8, text, int4, with NULLs) over many timestamps, with 1, 2
 * and 4 workers. At every timestamp the mfp's arranged output (peeked) and
 * its subscription must equal the same map/filter/project applied naively
 * to the input multiset, computed here in plain C without the evaluator.
 * Some rows make an expression fail (division by zero, a bad cast): while
 * such a row is in the input, a read must fail with exactly that SQLSTATE;
 * once it is retracted, reads succeed again (the generator retracts every
 * failing row periodically, and the test checks both states were seen).
 *
 * Seeds are fixed; SLUICE_SEED overrides; failures print the seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "engine/core/eng_log.h"
#include "engine/runtime/eng_rt.h"
#include "operators/op_arrange.h"
#include "operators/op_mfp.h"
#include "operators/op_reduce.h"
#include "tests/model/oracle.h"

static shard_topo *topo;
static uint64_t base_seed = 42;

static int
setup(void **state)
{
    (void)state;
    eng_log_init(ENG_LOG_ERROR, 2);
    const char *s = getenv("SLUICE_SEED");
    if (s)
        base_seed = strtoull(s, NULL, 10);
    eng_err e;
    eng_err_clear(&e);
    return shard_topo_open(&topo, &e);
}

static int
teardown(void **state)
{
    (void)state;
    shard_topo_close(topo);
    return 0;
}

/* ------------------------------------------------------------------ rows */

/* Input rows: (a int8|NULL, b text|NULL, c int4|NULL). */
typedef struct in_row {
    bool a_null, b_null, c_null;
    int64_t a;
    const char *b;
    int32_t c;
} in_row;

/* b values and what upper() makes of them; the last two do not parse as
 * integers. */
static const char *const b_pool[][2] = {
    {"12", "12"},   {" -7 ", " -7 "},   {"42", "42"}, {"0", "0"},
    {"007", "007"}, {"héllo", "HÉLLO"}, {"1x", "1X"},
};
#define B_GOOD 5

static in_row
decode(eng_row r)
{
    in_row x = {0};
    uint32_t pos = 0;
    eng_datum d = eng_row_next(r, &pos);
    x.a_null = d.tag == ENG_TAG_NULL;
    if (!x.a_null)
        x.a = eng_datum_int8(d);
    d = eng_row_next(r, &pos);
    x.b_null = d.tag == ENG_TAG_NULL;
    if (!x.b_null) {
        for (size_t i = 0; i < sizeof b_pool / sizeof b_pool[0]; i++)
            if (strlen(b_pool[i][0]) == d.len && memcmp(b_pool[i][0], d.ptr, d.len) == 0)
                x.b = b_pool[i][0];
        ENG_ASSERT(x.b != NULL);
    }
    d = eng_row_next(r, &pos);
    x.c_null = d.tag == ENG_TAG_NULL;
    if (!x.c_null)
        x.c = eng_load_i32(d.ptr);
    return x;
}

static const char *
upper_of(const char *b)
{
    for (size_t i = 0; i < sizeof b_pool / sizeof b_pool[0]; i++)
        if (b_pool[i][0] == b)
            return b_pool[i][1];
    return NULL;
}

static void
push_text(eng_rowbuf *rb, const char *s)
{
    eng_push_text(rb, s, (uint32_t)strlen(s));
}

/* ------------------------------------------------------------------ scenarios */

/* The naive result of one input row: dropped, an error (sqlstate), or the
 * output row appended to out. */
typedef enum { R_DROP, R_ROW, R_ERROR } r_kind;

typedef struct scenario {
    const char *name;
    const char *sqlstate; /* of the rows that fail */
    op_mfp_params *(*params)(void);
    r_kind (*naive)(in_row x, eng_rowbuf *out);
} scenario;

static const op_type in_types[3] = {OP_T_INT8, OP_T_TEXT, OP_T_INT4};

static void
ok(int rc)
{
    assert_true(rc >= 0);
}

/* Division: maps a + c, 100 / c, upper(b) || ':' || a; filters
 * a IS NOT NULL AND a % 3 <> 1, c <> 0 OR a > 5 (guards 100 / c for
 * a <= 5), a + c > -3 (reads a map: runs after it, before 100 / c);
 * projects (upper..., a, 100 / c, b, a + c). */
static op_mfp_params *
div_params(void)
{
    eng_err err;
    eng_err_clear(&err);
    op_mfp_params *p = op_mfp_params_new(3, in_types);
    ok(op_mfp_map(p, op_expr_call2(OP_ADD, op_expr_col(0), op_expr_col(2)), &err));
    ok(op_mfp_map(p, op_expr_call2(OP_DIV, op_expr_int4(100), op_expr_col(2)), &err));
    ok(op_mfp_map(p,
                  op_expr_call2(OP_CONCAT_OP,
                                op_expr_call2(OP_CONCAT_OP, op_expr_call1(OP_UPPER, op_expr_col(1)),
                                              op_expr_text(":", 1)),
                                op_expr_col(0)),
                  &err));
    ok(op_mfp_filter(
        p,
        op_expr_call2(OP_AND, op_expr_call1(OP_IS_NOT_NULL, op_expr_col(0)),
                      op_expr_call2(OP_NE, op_expr_call2(OP_MOD, op_expr_col(0), op_expr_int4(3)),
                                    op_expr_int4(1))),
        &err));
    ok(op_mfp_filter(p,
                     op_expr_call2(OP_OR, op_expr_call2(OP_NE, op_expr_col(2), op_expr_int4(0)),
                                   op_expr_call2(OP_GT, op_expr_col(0), op_expr_int4(5))),
                     &err));
    ok(op_mfp_filter(p, op_expr_call2(OP_GT, op_expr_col(3), op_expr_int4(-3)), &err));
    int proj[5] = {5, 0, 4, 1, 3};
    ok(op_mfp_project(p, 5, proj, &err));
    assert_int_equal(op_mfp_out_ncols(p), 5);
    assert_int_equal(op_mfp_out_type(p, 0), OP_T_TEXT);
    assert_int_equal(op_mfp_out_type(p, 2), OP_T_INT4);
    assert_int_equal(op_mfp_out_type(p, 4), OP_T_INT8);
    return p;
}

static r_kind
div_naive(in_row x, eng_rowbuf *out)
{
    if (x.a_null || x.a % 3 == 1)
        return R_DROP;
    /* c <> 0 OR a > 5: NULL OR false is NULL, which drops the row */
    if (!(x.a > 5 || (!x.c_null && x.c != 0)))
        return R_DROP;
    if (x.c_null) /* a + c is NULL: a + c > -3 is NULL */
        return R_DROP;
    int64_t m3 = x.a + x.c;
    if (m3 <= -3)
        return R_DROP;
    if (x.c == 0)
        return R_ERROR;
    int32_t m4 = 100 / x.c;
    if (x.b_null) {
        eng_push_null(out);
    } else {
        char buf[64];
        snprintf(buf, sizeof buf, "%s:%lld", upper_of(x.b), (long long)x.a);
        push_text(out, buf);
    }
    eng_push_int8(out, x.a);
    eng_push_int4(out, m4);
    if (x.b_null)
        eng_push_null(out);
    else
        push_text(out, x.b);
    eng_push_int8(out, m3);
    return R_ROW;
}

/* Cast: filter c > 0; maps CAST(b AS int4), that * a; filter
 * (that * a) IS DISTINCT FROM 0 (after both maps); projects (a, m4, m3). */
static op_mfp_params *
cast_params(void)
{
    eng_err err;
    eng_err_clear(&err);
    op_mfp_params *p = op_mfp_params_new(3, in_types);
    ok(op_mfp_filter(p, op_expr_call2(OP_GT, op_expr_col(2), op_expr_int4(0)), &err));
    ok(op_mfp_map(p, op_expr_cast(op_expr_col(1), op_type_full(OP_T_INT4)), &err));
    ok(op_mfp_map(p, op_expr_call2(OP_MUL, op_expr_col(3), op_expr_col(0)), &err));
    ok(op_mfp_filter(p, op_expr_call2(OP_DISTINCT, op_expr_col(4), op_expr_int4(0)), &err));
    int proj[3] = {0, 4, 3};
    ok(op_mfp_project(p, 3, proj, &err));
    return p;
}

static r_kind
cast_naive(in_row x, eng_rowbuf *out)
{
    if (x.c_null || x.c <= 0)
        return R_DROP;
    bool m3_null = x.b_null;
    int64_t m3 = 0;
    if (!m3_null) {
        char *end;
        m3 = strtol(x.b, &end, 10);
        while (*end == ' ')
            end++;
        if (*end != '\0')
            return R_ERROR;
    }
    bool m4_null = m3_null || x.a_null;
    int64_t m4 = m4_null ? 0 : m3 * x.a;
    if (!m4_null && m4 == 0)
        return R_DROP;
    if (x.a_null)
        eng_push_null(out);
    else
        eng_push_int8(out, x.a);
    if (m4_null)
        eng_push_null(out);
    else
        eng_push_int8(out, m4);
    if (m3_null)
        eng_push_null(out);
    else
        eng_push_int4(out, (int32_t)m3);
    return R_ROW;
}

static const scenario scenarios[] = {
    {"mfp division", "22012", div_params, div_naive},
    {"mfp cast", "22P02", cast_params, cast_naive},
};

/* ------------------------------------------------------------------ generator */

typedef struct gen {
    uint64_t seed;
    t_mset state;
    const scenario *sc;
} gen;

static r_kind
naive_row(const scenario *sc, eng_row r, eng_rowbuf *out)
{
    return sc->naive(decode(r), out);
}

static void
random_row(gen *g, eng_rowbuf *rb)
{
    eng_rowbuf_reset(rb);
    uint64_t x = t_rand(&g->seed);
    if (x % 100 < 8)
        eng_push_null(rb);
    else
        eng_push_int8(rb, (int64_t)(t_rand(&g->seed) % 13) - 4);
    x = t_rand(&g->seed);
    if (x % 100 < 8)
        eng_push_null(rb);
    else if (x % 100 < 12) /* rarely, text that does not parse as an int */
        push_text(rb, b_pool[B_GOOD + t_rand(&g->seed) % 2][0]);
    else
        push_text(rb, b_pool[t_rand(&g->seed) % B_GOOD][0]);
    x = t_rand(&g->seed);
    if (x % 100 < 8)
        eng_push_null(rb);
    else if (x % 100 < 13) /* rarely zero */
        eng_push_int4(rb, 0);
    else { /* -2..4 without 0 */
        int32_t v = (int32_t)(t_rand(&g->seed) % 6) - 2;
        eng_push_int4(rb, v >= 0 ? v + 1 : v);
    }
}

/* n updates at time t: inserts and retractions of present rows; with
 * cleanup, every present row that fails is retracted as well. */
static void
generate(gen *g, eng_batch *b, int n, eng_time t, bool cleanup)
{
    eng_rowbuf rb = {0}, scratch = {0};
    for (int i = 0; i < n; i++) {
        eng_batch *st = g->state.b;
        if (st->n > 0 && t_rand(&g->seed) % 100 < 45) {
            uint32_t j = (uint32_t)(t_rand(&g->seed) % st->n);
            if (st->upd[j].diff > 0) {
                eng_rowbuf_reset(&rb);
                eng_push_row(&rb, eng_batch_row(st, j));
                eng_batch_push(b, eng_rowbuf_row(&rb), t, -1);
                t_mset_add(&g->state, eng_rowbuf_row(&rb), -1);
                continue;
            }
        }
        random_row(g, &rb);
        int64_t d = t_rand(&g->seed) % 10 == 0 ? 2 : 1;
        eng_batch_push(b, eng_rowbuf_row(&rb), t, d);
        t_mset_add(&g->state, eng_rowbuf_row(&rb), d);
    }
    if (cleanup) {
        eng_batch *st = g->state.b;
        for (uint32_t j = 0; j < st->n; j++) {
            eng_rowbuf_reset(&scratch);
            int64_t d = st->upd[j].diff;
            if (d <= 0 || naive_row(g->sc, eng_batch_row(st, j), &scratch) != R_ERROR)
                continue;
            eng_rowbuf_reset(&rb);
            eng_push_row(&rb, eng_batch_row(st, j));
            eng_batch_push(b, eng_rowbuf_row(&rb), t, -d);
            st->upd[j].diff = 0;
        }
    }
    eng_rowbuf_free(&rb);
    eng_rowbuf_free(&scratch);
}

/* The expected output of the current state, and whether some row fails. */
static eng_batch *
expect(const gen *g, bool *failing)
{
    eng_batch *out = calloc(1, sizeof *out);
    eng_rowbuf rb = {0};
    *failing = false;
    const eng_batch *st = g->state.b;
    for (uint32_t j = 0; j < st->n; j++) {
        if (st->upd[j].diff == 0)
            continue;
        eng_rowbuf_reset(&rb);
        r_kind k = naive_row(g->sc, eng_batch_row(st, j), &rb);
        if (k == R_ERROR)
            *failing = true;
        else if (k == R_ROW)
            eng_batch_push(out, eng_rowbuf_row(&rb), 0, st->upd[j].diff);
    }
    eng_rowbuf_free(&rb);
    return out;
}

/* ------------------------------------------------------------------ driver */

static void
run(int W, const scenario *sc, uint64_t seed)
{
    eng_rt *rt;
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_rt_start(&rt, topo, W, &err), 0);
    eng_client *c = eng_client_new(rt);
    eng_plan *p = eng_plan_new();
    int in = eng_plan_input(p, "in");
    int m = eng_plan_node(p, "mfp", op_mfp_make, sc->params(), op_mfp_params_free, 1);
    /* equal rows meet on one worker, so a retraction cancels its error */
    eng_plan_edge(p, in, m, 0, OP_KEY_ALL);
    op_arrange_params *ap = calloc(1, sizeof *ap);
    ap->key_ncols = 1;
    int arr = eng_plan_node(p, "arrange", op_arrange_make, ap, free, 1);
    eng_plan_edge(p, m, arr, 0, 1);
    eng_sub *sub;
    eng_plan_subscribe(p, m, c, &sub);
    eng_df *df = eng_df_install(c, p);

    gen g = {.seed = seed, .sc = sc};
    t_mset_init(&g.state);
    t_mset subacc;
    t_mset_init(&subacc);
    int T = 48, failing_reads = 0, clean_reads = 0;
    char what[160];
    for (int t = 0; t < T; t++) {
        eng_batch *b = eng_client_batch(c);
        generate(&g, b, 12, (eng_time)t, t % 6 == 5);
        eng_df_send(c, df, in, b);
        eng_df_advance(c, df, in, (eng_time)t + 1);
        bool failing;
        eng_batch *want = expect(&g, &failing);
        if (getenv("SLUICE_VERBOSE") && t % 8 == 0)
            fprintf(stderr, "%s W=%d t=%d: %u input rows, %u output rows, failing %d\n", sc->name,
                    W, t, g.state.b->n, want->n, failing);
        eng_batch *got = NULL;
        eng_time at;
        eng_err_clear(&err);
        int rc = eng_df_peek(c, df, arr, (eng_time)t, NULL, &got, &at, &err);
        snprintf(what, sizeof what, "%s W=%d seed %llu t=%d", sc->name, W, (unsigned long long)seed,
                 t);
        if (failing) {
            if (rc != -1 || strcmp(err.sqlstate, sc->sqlstate) != 0)
                fprintf(stderr, "%s: read should fail with %s, got rc %d (%s %s)\n", what,
                        sc->sqlstate, rc, err.sqlstate, err.message);
            assert_int_equal(rc, -1);
            assert_string_equal(err.sqlstate, sc->sqlstate);
            failing_reads++;
        } else {
            if (rc != 0)
                fprintf(stderr, "%s: read failed: %s %s\n", what, err.sqlstate, err.message);
            assert_int_equal(rc, 0);
            assert_true(t_same(what, got, want));
            eng_batch_free(got);
            clean_reads++;
        }
        /* The subscription carries the rows that did not fail. */
        eng_time f = 0;
        while (f <= (eng_time)t) {
            eng_batch *sb;
            eng_err_clear(&err);
            assert_int_equal(eng_sub_next(sub, 10000, &sb, &f, &err), 0);
            for (uint32_t k = 0; k < sb->n; k++)
                t_mset_add(&subacc, eng_batch_row(sb, k), sb->upd[k].diff);
            eng_batch_free(sb);
        }
        if (f == (eng_time)t + 1) {
            snprintf(what, sizeof what, "%s W=%d seed %llu: subscription at t=%d", sc->name, W,
                     (unsigned long long)seed, t);
            assert_true(t_same(what, subacc.b, want));
        }
        eng_batch_free(want);
    }
    /* Both states were exercised: reads that failed, and reads that
     * succeeded after the failing rows were retracted. */
    if (failing_reads == 0 || clean_reads == 0 || getenv("SLUICE_VERBOSE"))
        fprintf(stderr, "%s W=%d seed %llu: %d failing reads, %d clean reads\n", sc->name, W,
                (unsigned long long)seed, failing_reads, clean_reads);
    assert_true(failing_reads > 0);
    assert_true(clean_reads > 0);
    t_mset_free(&g.state);
    t_mset_free(&subacc);
    eng_df_drop(c, df);
    eng_client_free(c);
    eng_rt_stop(rt);
}

static void
test_mfp(void **st)
{
    (void)st;
    int ws[] = {1, 2, 4};
    for (size_t s = 0; s < sizeof scenarios / sizeof scenarios[0]; s++)
        for (int i = 0; i < 3; i++)
            for (uint64_t k = 0; k < 2; k++)
                run(ws[i], &scenarios[s], base_seed + 500 + 10 * s + k);
}

/* Params errors are compile errors, reported when the plan is built. */
static void
test_params_errors(void **st)
{
    (void)st;
    eng_err err;
    eng_err_clear(&err);
    op_mfp_params *p = op_mfp_params_new(3, in_types);
    assert_int_equal(op_mfp_filter(p, op_expr_col(0), &err), -1);
    assert_string_equal(err.sqlstate, "42804");
    eng_err_clear(&err);
    assert_int_equal(op_mfp_map(p, op_expr_call2(OP_ADD, op_expr_col(1), op_expr_int4(1)), &err),
                     -1);
    assert_string_equal(err.sqlstate, "42883");
    eng_err_clear(&err);
    assert_int_equal(op_mfp_map(p, op_expr_col(3), &err), -1); /* no map 3 yet */
    assert_string_equal(err.sqlstate, "42703");
    eng_err_clear(&err);
    assert_int_equal(op_mfp_map(p, op_expr_call1(OP_LENGTH, op_expr_col(1)), &err), 3);
    assert_int_equal(op_mfp_map(p, op_expr_call2(OP_MUL, op_expr_col(3), op_expr_int4(2)), &err),
                     4);
    int bad[1] = {5};
    assert_int_equal(op_mfp_project(p, 1, bad, &err), -1);
    assert_string_equal(err.sqlstate, "42703");
    assert_int_equal(op_mfp_out_ncols(p), 5); /* no projection: every column */
    op_mfp_params_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_errors),
        cmocka_unit_test(test_mfp),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
