/* Runtime tests: install/drop, exchange, progress, peeks, subscriptions,
 * with 1, 2 and 4 workers, using a naive "collect" operator (a list of
 * every update it saw) as the peekable node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/core/eng_log.h"
#include "engine/runtime/eng_rt.h"

/* ------------------------------------------------------------------ a naive peekable op */

typedef struct collect {
    eng_op op;
    eng_batch *all; /* every update seen, times intact */
} collect;

static void
collect_input(eng_op *op, int port, const eng_batch *b)
{
    (void)port;
    collect *c = (collect *)op;
    for (uint32_t i = 0; i < b->n; i++) {
        eng_batch_push(c->all, eng_batch_row(b, i), b->upd[i].time, b->upd[i].diff);
        eng_op_emit(op, eng_batch_row(b, i), b->upd[i].time, b->upd[i].diff);
    }
}

static eng_time
collect_frontier(eng_op *op, eng_time f)
{
    (void)op;
    return f;
}

static void
collect_destroy(eng_op *op)
{
    collect *c = (collect *)op;
    eng_batch_free(c->all);
    free(c);
}

static void
collect_peek(eng_op *op, eng_time t, const eng_row *key, eng_batch *out)
{
    collect *c = (collect *)op;
    eng_batch *tmp = eng_batch_get(eng_wctx_pool(op->w));
    for (uint32_t i = 0; i < c->all->n; i++) {
        if (c->all->upd[i].time > t)
            continue;
        eng_row r = eng_batch_row(c->all, i);
        if (key && (r.len < key->len || memcmp(r.data, key->data, key->len) != 0))
            continue;
        eng_batch_push(tmp, r, 0, c->all->upd[i].diff);
    }
    eng_batch_consolidate(tmp);
    for (uint32_t i = 0; i < tmp->n; i++)
        eng_batch_push(out, eng_batch_row(tmp, i), t, tmp->upd[i].diff);
    eng_batch_put(eng_wctx_pool(op->w), tmp);
}

static size_t
collect_records(const eng_op *op)
{
    return ((const collect *)op)->all->n;
}

static const eng_op_vt collect_vt = {
    .name = "collect",
    .input = collect_input,
    .frontier = collect_frontier,
    .destroy = collect_destroy,
    .peek = collect_peek,
    .records = collect_records,
};

static eng_op *
collect_make(const void *params, eng_wctx *w)
{
    (void)params;
    collect *c = calloc(1, sizeof *c);
    c->op.vt = &collect_vt;
    c->all = eng_batch_get(eng_wctx_pool(w));
    return &c->op;
}

/* collect, but rows whose second column is negative are errors in data:
 * reported at their time with their diff (and not collected). */
static void
failer_input(eng_op *op, int port, const eng_batch *b)
{
    (void)port;
    collect *c = (collect *)op;
    for (uint32_t i = 0; i < b->n; i++) {
        eng_row r = eng_batch_row(b, i);
        uint32_t pos = 0;
        eng_row_next(r, &pos);
        if (eng_datum_int8(eng_row_next(r, &pos)) < 0) {
            eng_err e;
            eng_err_clear(&e);
            eng_err_set(&e, ENG_ERRCODE_DIVISION_BY_ZERO, "division by zero");
            eng_op_error(op, &e, b->upd[i].time, b->upd[i].diff);
            continue;
        }
        eng_batch_push(c->all, r, b->upd[i].time, b->upd[i].diff);
    }
}

static const eng_op_vt failer_vt = {
    .name = "failer",
    .input = failer_input,
    .frontier = collect_frontier,
    .destroy = collect_destroy,
    .peek = collect_peek,
};

static eng_op *
failer_make(const void *params, eng_wctx *w)
{
    eng_op *op = collect_make(params, w);
    op->vt = &failer_vt;
    return op;
}

/* ------------------------------------------------------------------ helpers */

static shard_topo *topo;

static int
setup(void **state)
{
    (void)state;
    eng_log_init(ENG_LOG_WARN, 2);
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

static eng_row
int_row(eng_rowbuf *rb, int64_t k, int64_t v)
{
    eng_rowbuf_reset(rb);
    eng_push_int8(rb, k);
    eng_push_int8(rb, v);
    return eng_rowbuf_row(rb);
}

static int64_t
total(const eng_batch *b)
{
    int64_t s = 0;
    for (uint32_t i = 0; i < b->n; i++)
        s += b->upd[i].diff;
    return s;
}

/* input -> exchange(key) -> collect -> subscribe */
static void
run_exchange(int W)
{
    eng_rt *rt;
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_rt_start(&rt, topo, W, &err), 0);
    eng_client *c = eng_client_new(rt);
    eng_plan *p = eng_plan_new();
    int in = eng_plan_input(p, "in");
    int col = eng_plan_node(p, "collect", collect_make, NULL, NULL, 1);
    eng_plan_edge(p, in, col, 0, 1);
    eng_sub *sub;
    eng_plan_subscribe(p, col, c, &sub);
    eng_df *df = eng_df_install(c, p);

    eng_rowbuf rb = {0};
    const int T = 20, N = 500;
    for (int t = 0; t < T; t++) {
        eng_batch *b = eng_client_batch(c);
        for (int i = 0; i < N; i++)
            eng_batch_push(b, int_row(&rb, i % 97, t), (eng_time)t, 1);
        eng_df_send(c, df, in, b);
        eng_df_advance(c, df, in, (eng_time)t + 1);
    }
    assert_int_equal(eng_df_wait(c, df, col, (eng_time)T - 1, 10000, &err), 0);
    assert_true(eng_df_frontier(df, col) >= (eng_time)T);

    /* Peek at every time: the count is exact at each. */
    for (int t = 0; t < T; t++) {
        eng_batch *out;
        eng_time at;
        assert_int_equal(eng_df_peek(c, df, col, (eng_time)t, NULL, &out, &at, &err), 0);
        assert_int_equal(at, t);
        assert_int_equal(total(out), (int64_t)N * (t + 1));
        eng_batch_free(out);
    }
    /* Key-restricted peek at the latest time. */
    eng_rowbuf kb = {0};
    eng_push_int8(&kb, 5);
    eng_row key = eng_rowbuf_row(&kb);
    eng_batch *out;
    eng_time at;
    assert_int_equal(eng_df_peek(c, df, col, ENG_TIME_MAX, &key, &out, &at, &err), 0);
    assert_true(at >= (eng_time)T - 1);
    int per_key = 0;
    for (int i = 0; i < N; i++)
        per_key += (i % 97) == 5;
    assert_int_equal(total(out), (int64_t)per_key * T);
    eng_batch_free(out);

    /* The subscription sees every update, in time order, exactly once. */
    int64_t seen = 0;
    eng_time last = 0, f = 0;
    while (f < (eng_time)T) {
        eng_batch *sb;
        assert_int_equal(eng_sub_next(sub, 10000, &sb, &f, &err), 0);
        for (uint32_t i = 0; i < sb->n; i++) {
            assert_true(sb->upd[i].time >= last);
            assert_true(sb->upd[i].time < f);
            last = sb->upd[i].time;
            seen += sb->upd[i].diff;
        }
        eng_batch_free(sb);
    }
    assert_int_equal(seen, (int64_t)T * N);
    assert_int_equal(eng_df_records(df, col) > 0, 1);

    eng_rowbuf_free(&rb);
    eng_rowbuf_free(&kb);
    eng_df_drop(c, df);
    eng_client_free(c);
    eng_rt_stop(rt);
}

static void
test_exchange_w1(void **s)
{
    (void)s;
    run_exchange(1);
}

static void
test_exchange_w2(void **s)
{
    (void)s;
    run_exchange(2);
}

static void
test_exchange_w4(void **s)
{
    (void)s;
    run_exchange(4);
}

/* Several dataflows at once, created and dropped while others run. */
static void
test_many_dataflows(void **s)
{
    (void)s;
    eng_rt *rt;
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_rt_start(&rt, topo, 3, &err), 0);
    eng_client *c = eng_client_new(rt);
    eng_rowbuf rb = {0};
    enum { D = 6 };
    eng_df *dfs[D] = {0};
    int ins[D], cols[D];
    for (int round = 0; round < 30; round++) {
        int i = round % D;
        if (dfs[i]) {
            eng_batch *out;
            eng_time at;
            assert_int_equal(eng_df_peek(c, dfs[i], cols[i], ENG_TIME_MAX, NULL, &out, &at, &err),
                             0);
            assert_int_equal(total(out), 10);
            eng_batch_free(out);
            eng_df_drop(c, dfs[i]);
        }
        eng_plan *p = eng_plan_new();
        ins[i] = eng_plan_input(p, "in");
        cols[i] = eng_plan_node(p, "collect", collect_make, NULL, NULL, 1);
        eng_plan_edge(p, ins[i], cols[i], 0, 1);
        dfs[i] = eng_df_install(c, p);
        eng_batch *b = eng_client_batch(c);
        for (int k = 0; k < 10; k++)
            eng_batch_push(b, int_row(&rb, k, round), 1, 1);
        eng_df_send(c, dfs[i], ins[i], b);
        eng_df_advance(c, dfs[i], ins[i], 2);
    }
    for (int i = 0; i < D; i++)
        eng_df_drop(c, dfs[i]);
    eng_rowbuf_free(&rb);
    eng_client_free(c);
    eng_rt_stop(rt);
}

/* A peek at a time not yet readable waits for it. */
static void
test_peek_waits(void **s)
{
    (void)s;
    eng_rt *rt;
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_rt_start(&rt, topo, 2, &err), 0);
    eng_client *c = eng_client_new(rt);
    eng_plan *p = eng_plan_new();
    int in = eng_plan_input(p, "in");
    int col = eng_plan_node(p, "collect", collect_make, NULL, NULL, 1);
    eng_plan_edge(p, in, col, 0, 1);
    eng_df *df = eng_df_install(c, p);
    eng_err_clear(&err);
    assert_int_equal(eng_df_wait(c, df, col, 5, 50, &err), -1);
    assert_string_equal(err.sqlstate, "57014");
    eng_rowbuf rb = {0};
    eng_batch *b = eng_client_batch(c);
    eng_batch_push(b, int_row(&rb, 1, 1), 5, 3);
    eng_df_send(c, df, in, b);
    eng_df_advance(c, df, in, 6);
    eng_batch *out;
    eng_time at;
    eng_err_clear(&err);
    assert_int_equal(eng_df_peek(c, df, col, 5, NULL, &out, &at, &err), 0);
    assert_int_equal(total(out), 3);
    eng_batch_free(out);
    eng_rowbuf_free(&rb);
    eng_df_drop(c, df);
    eng_client_free(c);
    eng_rt_stop(rt);
}

/* An error inserted through one worker and retracted through another
 * cancels out: reads sum error counts over workers. */
static void
test_errors_across_workers(void **s)
{
    (void)s;
    eng_rt *rt;
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_rt_start(&rt, topo, 2, &err), 0);
    eng_client *c = eng_client_new(rt);
    eng_plan *p = eng_plan_new();
    int in = eng_plan_input(p, "in");
    int f = eng_plan_node(p, "failer", failer_make, NULL, NULL, 1);
    eng_plan_edge(p, in, f, 0, -1); /* pipeline: each batch stays on its worker */
    eng_df *df = eng_df_install(c, p);
    eng_rowbuf rb = {0};
    eng_batch *b = eng_client_batch(c);
    eng_batch_push(b, int_row(&rb, 1, -1), 0, 1); /* an error row, via worker 0 */
    eng_batch_push(b, int_row(&rb, 2, 5), 0, 1);
    eng_df_send(c, df, in, b);
    eng_df_advance(c, df, in, 1);
    eng_batch *out;
    eng_time at;
    eng_err_clear(&err);
    assert_int_equal(eng_df_peek(c, df, f, 0, NULL, &out, &at, &err), -1);
    assert_string_equal(err.sqlstate, "22012");
    b = eng_client_batch(c);
    eng_batch_push(b, int_row(&rb, 1, -1), 1, -1); /* its retraction, via worker 1 */
    eng_df_send(c, df, in, b);
    eng_df_advance(c, df, in, 2);
    eng_err_clear(&err);
    assert_int_equal(eng_df_peek(c, df, f, 1, NULL, &out, &at, &err), 0);
    assert_int_equal(total(out), 1);
    eng_batch_free(out);
    eng_rowbuf_free(&rb);
    eng_df_drop(c, df);
    eng_client_free(c);
    eng_rt_stop(rt);
}

/* Rows of no columns (SELECT count(*) ... over a zero-column input, a
 * global key) are empty byte strings: consolidating them must merge them
 * without touching row bytes (the batch may have no byte buffer at all;
 * found by fuzzing the SQL front end under UBSan). */
static void
test_consolidate_empty_rows(void **state)
{
    (void)state;
    eng_batch *b = eng_batch_get(&(eng_batch_pool){0});
    eng_row empty = {(const uint8_t *)"", 0};
    eng_batch_push(b, empty, 5, 1);
    eng_batch_push(b, empty, 3, 2);
    eng_batch_push(b, empty, 5, 4);
    eng_batch_push(b, empty, 3, -2);
    eng_batch_consolidate(b);
    assert_int_equal(b->n, 1);
    assert_int_equal(b->upd[0].time, 5);
    assert_int_equal(b->upd[0].diff, 5);
    eng_batch_free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consolidate_empty_rows),
        cmocka_unit_test(test_exchange_w1),
        cmocka_unit_test(test_exchange_w2),
        cmocka_unit_test(test_exchange_w4),
        cmocka_unit_test(test_many_dataflows),
        cmocka_unit_test(test_peek_waits),
        cmocka_unit_test(test_errors_across_workers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
