/* Oracle tests: reduce and join (inner, left, right, full) over random
 * insert/retract streams across many timestamps, with 1, 2 and 4 workers.
 * At every timestamp the operator's output (peeked at that time, and the
 * subscription's accumulated stream) must equal a from-scratch
 * recomputation over the naive multiset of inputs.
 *
 * Seeds are fixed; SLUICE_SEED overrides; failures print the seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "engine/core/eng_log.h"
#include "engine/runtime/eng_rt.h"
#include "operators/op_arrange.h"
#include "operators/op_join.h"
#include "operators/op_reduce.h"
#include "operators/op_union.h"
#include "operators/op_topk.h"
#include "operators/op_import.h"
#include "engine/core/eng_numeric.h"
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

/* ------------------------------------------------------------------ random streams */

typedef struct gen {
    uint64_t seed;
    int keys;
    int cols; /* value columns: 1 (join sides) or 2 (reduce input) */
    bool null_keys;
    t_mset state; /* collection as of the last generated time */
} gen;

/* Generates n updates at time t into b: inserts of random rows and
 * retractions of rows present in g->state (which it updates). */
static void
generate(gen *g, eng_batch *b, int n, eng_time t)
{
    eng_rowbuf rb = {0};
    for (int i = 0; i < n; i++) {
        eng_batch *st = g->state.b;
        bool retract = st->n > 0 && t_rand(&g->seed) % 100 < 45;
        if (retract) {
            uint32_t j = (uint32_t)(t_rand(&g->seed) % st->n);
            if (st->upd[j].diff > 0) {
                eng_row r = eng_batch_row(st, j);
                eng_rowbuf_reset(&rb);
                eng_push_row(&rb, r);
                r = eng_rowbuf_row(&rb);
                eng_batch_push(b, r, t, -1);
                t_mset_add(&g->state, r, -1);
                continue;
            }
        }
        eng_rowbuf_reset(&rb);
        if (g->null_keys && t_rand(&g->seed) % 100 < 5)
            eng_push_null(&rb);
        else
            eng_push_int8(&rb, (int64_t)(t_rand(&g->seed) % (uint64_t)g->keys));
        if (t_rand(&g->seed) % 100 < 10)
            eng_push_null(&rb);
        else
            eng_push_int8(&rb, (int64_t)(t_rand(&g->seed) % 11) - 5);
        if (g->cols == 2) {
            uint64_t x = t_rand(&g->seed) % 10;
            if (x == 0)
                eng_push_null(&rb);
            else
                eng_push_bool(&rb, x < 6);
        }
        int64_t d = t_rand(&g->seed) % 10 == 0 ? 2 : 1;
        eng_batch_push(b, eng_rowbuf_row(&rb), t, d);
        t_mset_add(&g->state, eng_rowbuf_row(&rb), d);
    }
    eng_rowbuf_free(&rb);
}

/* ------------------------------------------------------------------ expected results */

static eng_batch *
expect_reduce(const t_mset *in)
{
    eng_batch *out = calloc(1, sizeof *out);
    eng_batch *b = in->b;
    eng_rowbuf rb = {0};
    /* distinct keys */
    for (uint32_t i = 0; i < b->n; i++) {
        eng_row r = eng_batch_row(b, i);
        uint32_t pos = 0;
        eng_datum k = eng_row_next(r, &pos);
        int64_t key = eng_datum_int8(k);
        bool seen_before = false;
        for (uint32_t j = 0; j < i; j++) {
            uint32_t p2 = 0;
            eng_datum k2 = eng_row_next(eng_batch_row(b, j), &p2);
            if (eng_datum_int8(k2) == key)
                seen_before = true;
        }
        if (seen_before)
            continue;
        int64_t cnt = 0, cntv = 0, sum = 0, mn = 0, mx = 0, nb = 0, nt = 0;
        bool have = false;
        int64_t distinct_vals[32];
        int nd = 0;
        for (uint32_t j = 0; j < b->n; j++) {
            int64_t c = b->upd[j].diff;
            if (c == 0)
                continue;
            eng_row r2 = eng_batch_row(b, j);
            uint32_t p2 = 0;
            if (eng_datum_int8(eng_row_next(r2, &p2)) != key)
                continue;
            eng_datum v = eng_row_next(r2, &p2);
            eng_datum bb = eng_row_next(r2, &p2);
            cnt += c;
            if (v.tag != ENG_TAG_NULL) {
                int64_t x = eng_datum_int8(v);
                cntv += c;
                sum += x * c;
                if (!have || x < mn)
                    mn = x;
                if (!have || x > mx)
                    mx = x;
                have = true;
                bool found = false;
                for (int q = 0; q < nd; q++)
                    found |= distinct_vals[q] == x;
                if (!found)
                    distinct_vals[nd++] = x;
            }
            if (bb.tag != ENG_TAG_NULL) {
                nb += c;
                nt += bb.tag == ENG_TAG_TRUE ? c : 0;
            }
        }
        if (cnt == 0)
            continue;
        eng_rowbuf_reset(&rb);
        eng_push_int8(&rb, key);
        eng_push_int8(&rb, cnt);
        eng_push_int8(&rb, cntv);
        if (have) {
            eng_push_int8(&rb, sum);
            eng_push_int8(&rb, mn);
            eng_push_int8(&rb, mx);
        } else {
            eng_push_null(&rb);
            eng_push_null(&rb);
            eng_push_null(&rb);
        }
        eng_push_int8(&rb, nd);
        if (nb) {
            eng_push_bool(&rb, nt == nb);
            eng_push_bool(&rb, nt > 0);
        } else {
            eng_push_null(&rb);
            eng_push_null(&rb);
        }
        eng_batch_push(out, eng_rowbuf_row(&rb), 0, 1);
    }
    eng_rowbuf_free(&rb);
    return out;
}

static eng_batch *
expect_join(const t_mset *L, const t_mset *R, op_join_kind kind)
{
    eng_batch *out = calloc(1, sizeof *out);
    eng_rowbuf rb = {0};
    bool lpad = kind == OP_JOIN_LEFT || kind == OP_JOIN_FULL;
    bool rpad = kind == OP_JOIN_RIGHT || kind == OP_JOIN_FULL;
    for (int side = 0; side < 2; side++) {
        const eng_batch *A = side == 0 ? L->b : R->b, *B = side == 0 ? R->b : L->b;
        for (uint32_t i = 0; i < A->n; i++) {
            if (A->upd[i].diff == 0)
                continue;
            eng_row ra = eng_batch_row(A, i);
            uint32_t pa = 0;
            eng_datum ka = eng_row_next(ra, &pa);
            eng_row va = {ra.data + pa, ra.len - pa};
            int64_t other = 0;
            for (uint32_t j = 0; j < B->n; j++) {
                if (B->upd[j].diff == 0 || ka.tag == ENG_TAG_NULL)
                    continue;
                eng_row rbw = eng_batch_row(B, j);
                uint32_t pb = 0;
                eng_datum kb = eng_row_next(rbw, &pb);
                if (kb.tag == ENG_TAG_NULL || eng_datum_int8(kb) != eng_datum_int8(ka))
                    continue;
                other += B->upd[j].diff;
                if (side == 0) { /* pairs once, from the left */
                    eng_rowbuf_reset(&rb);
                    eng_push_row(&rb, ra);
                    eng_push_row(&rb, (eng_row){rbw.data + pb, rbw.len - pb});
                    eng_batch_push(out, eng_rowbuf_row(&rb), 0, A->upd[i].diff * B->upd[j].diff);
                }
            }
            if (other == 0 && (side == 0 ? lpad : rpad)) {
                eng_rowbuf_reset(&rb);
                eng_push_datum(&rb, ka);
                if (side == 0) {
                    eng_push_row(&rb, va);
                    eng_push_null(&rb);
                } else {
                    eng_push_null(&rb);
                    eng_push_row(&rb, va);
                }
                eng_batch_push(out, eng_rowbuf_row(&rb), 0, A->upd[i].diff);
            }
        }
    }
    eng_rowbuf_free(&rb);
    return out;
}

/* ------------------------------------------------------------------ driver */

typedef struct scen {
    eng_rt *rt;
    eng_client *c;
    eng_df *df;
    int inputs[2];
    int ninputs;
    int peek;
    eng_sub *sub;
    t_mset subacc; /* accumulated subscription stream */
} scen;

/* Runs T timestamps: inputs for t+1 are sent before the frontier reaches
 * t+1 (so operators see "future" updates wait), and every timestamp is
 * checked by peek and by the subscription. */
static void
drive(scen *s, gen *g, int T, int per_step, eng_batch *(*expect)(gen *g, void *ctx), void *ctx,
      uint64_t seed, const char *name)
{
    eng_err err;
    /* U_0 */
    for (int i = 0; i < s->ninputs; i++) {
        eng_batch *b = eng_client_batch(s->c);
        generate(&g[i], b, per_step, 0);
        eng_df_send(s->c, s->df, s->inputs[i], b);
    }
    t_mset chk[2];
    for (int i = 0; i < s->ninputs; i++)
        t_mset_init(&chk[i]);
    t_mset prev[2]; /* generator state snapshots: chk lags gen by one step */
    for (int i = 0; i < s->ninputs; i++) {
        t_mset_init(&prev[i]);
        for (uint32_t k = 0; k < g[i].state.b->n; k++)
            t_mset_add(&prev[i], eng_batch_row(g[i].state.b, k), g[i].state.b->upd[k].diff);
    }
    eng_batch **wants = calloc((size_t)T, sizeof *wants);
    int back_reads = 0;
    for (int t = 0; t < T; t++) {
        /* Early updates for t+1, split in two batches. */
        for (int i = 0; i < s->ninputs; i++) {
            eng_batch *b1 = eng_client_batch(s->c), *b2 = eng_client_batch(s->c);
            generate(&g[i], b1, per_step / 2, (eng_time)t + 1);
            generate(&g[i], b2, per_step - per_step / 2, (eng_time)t + 1);
            eng_df_send(s->c, s->df, s->inputs[i], b1);
            eng_df_send(s->c, s->df, s->inputs[i], b2);
        }
        for (int i = 0; i < s->ninputs; i++)
            eng_df_advance(s->c, s->df, s->inputs[i], (eng_time)t + 1);
        /* expected at t = prev (state after U_0..U_t) */
        gen view[2];
        for (int i = 0; i < s->ninputs; i++) {
            view[i] = g[i];
            view[i].state = prev[i];
        }
        eng_batch *want = expect(view, ctx);
        eng_batch *got;
        eng_time at;
        eng_err_clear(&err);
        int rc = eng_df_peek(s->c, s->df, s->peek, (eng_time)t, NULL, &got, &at, &err);
        if (rc != 0)
            fprintf(stderr, "%s seed %llu t=%d: peek failed: %s\n", name, (unsigned long long)seed,
                    t, err.message);
        assert_int_equal(rc, 0);
        char what[128];
        snprintf(what, sizeof what, "%s seed %llu: peek at t=%d", name, (unsigned long long)seed,
                 t);
        assert_true(t_same(what, got, want));
        eng_batch_free(got);
        /* Hold history from the first checked time; read back in time at a
         * random earlier time (kept readable by the hold). */
        if (t == 0) {
            eng_err_clear(&err);
            assert_int_equal(eng_df_hold(s->df, s->peek, 0, &err), 0);
        }
        wants[t] = want;
        if (t > 0) {
            int back = (int)(t_rand(&g[0].seed) % (uint64_t)t);
            eng_err_clear(&err);
            rc = eng_df_peek(s->c, s->df, s->peek, (eng_time)back, NULL, &got, &at, &err);
            if (rc != 0)
                fprintf(stderr, "%s: peek back failed: %s\n", name, err.message);
            assert_int_equal(rc, 0);
            snprintf(what, sizeof what, "%s seed %llu: peek back at t=%d (now %d)", name,
                     (unsigned long long)seed, back, t);
            assert_true(t_same(what, got, wants[back]));
            eng_batch_free(got);
            back_reads++;
        }
        /* A read of one key. */
        {
            eng_rowbuf kb = {0};
            int64_t kk = (int64_t)(seed + (uint64_t)t) % 5;
            eng_push_int8(&kb, kk);
            eng_row key = eng_rowbuf_row(&kb);
            eng_err_clear(&err);
            assert_int_equal(eng_df_peek(s->c, s->df, s->peek, (eng_time)t, &key, &got, &at, &err),
                             0);
            eng_batch *wk = calloc(1, sizeof *wk);
            for (uint32_t k = 0; k < want->n; k++) {
                eng_row r = eng_batch_row(want, k);
                if (r.len >= key.len && memcmp(r.data, key.data, key.len) == 0)
                    eng_batch_push(wk, r, 0, want->upd[k].diff);
            }
            snprintf(what, sizeof what, "%s seed %llu: key peek at t=%d", name,
                     (unsigned long long)seed, t);
            assert_true(t_same(what, got, wk));
            eng_batch_free(got);
            eng_batch_free(wk);
            eng_rowbuf_free(&kb);
        }
        /* The subscription, accumulated up to its frontier, matches too. */
        eng_time f = 0;
        while (f <= (eng_time)t) {
            eng_batch *sb;
            eng_err_clear(&err);
            assert_int_equal(eng_sub_next(s->sub, 10000, &sb, &f, &err), 0);
            for (uint32_t k = 0; k < sb->n; k++)
                t_mset_add(&s->subacc, eng_batch_row(sb, k), sb->upd[k].diff);
            eng_batch_free(sb);
        }
        if (f == (eng_time)t + 1) {
            snprintf(what, sizeof what, "%s seed %llu: subscription at t=%d", name,
                     (unsigned long long)seed, t);
            assert_true(t_same(what, s->subacc.b, want));
        }
        /* advance prev to the generator state after U_{t+1} */
        for (int i = 0; i < s->ninputs; i++) {
            t_mset_free(&prev[i]);
            t_mset_init(&prev[i]);
            for (uint32_t k = 0; k < g[i].state.b->n; k++)
                t_mset_add(&prev[i], eng_batch_row(g[i].state.b, k), g[i].state.b->upd[k].diff);
        }
    }
    eng_df_release(s->df, s->peek, 0);
    for (int t = 0; t < T; t++)
        eng_batch_free(wants[t]);
    free(wants);
    for (int i = 0; i < s->ninputs; i++) {
        t_mset_free(&chk[i]);
        t_mset_free(&prev[i]);
    }
    if (getenv("SLUICE_VERBOSE"))
        fprintf(stderr, "%s seed %llu: %d reads back in time succeeded\n", name,
                (unsigned long long)seed, back_reads);
}

static eng_batch *
reduce_expect(gen *g, void *ctx)
{
    (void)ctx;
    return expect_reduce(&g[0].state);
}

/* sum(int8) -> numeric, avg(int) -> numeric, sum/avg through the numeric
 * accumulator, sum(float4): recomputed from scratch per key. */
static eng_batch *
reduce_num_expect(gen *g, void *ctx)
{
    (void)ctx;
    eng_batch *out = calloc(1, sizeof *out);
    const eng_batch *b = g[0].state.b;
    eng_rowbuf rb = {0};
    for (int64_t key = 0; key < g[0].keys; key++) {
        int64_t cnt = 0, nn = 0, sum = 0;
        eng_numeric_acc acc;
        eng_numeric_acc_init(&acc);
        for (uint32_t j = 0; j < b->n; j++) {
            int64_t c = b->upd[j].diff;
            eng_row r = eng_batch_row(b, j);
            uint32_t pos = 0;
            if (c == 0 || eng_datum_int8(eng_row_next(r, &pos)) != key)
                continue;
            cnt += c;
            eng_datum v = eng_row_next(r, &pos);
            if (v.tag == ENG_TAG_NULL)
                continue;
            nn += c;
            sum += eng_datum_int8(v) * c;
            eng_numeric_acc_add_int64(&acc, eng_datum_int8(v), c);
        }
        if (cnt > 0) {
            eng_rowbuf_reset(&rb);
            eng_push_int8(&rb, key);
            if (nn == 0) {
                for (int k = 0; k < 5; k++)
                    eng_push_null(&rb);
            } else {
                eng_numeric ns, nc, avg, x;
                eng_numeric_init(&ns);
                eng_numeric_init(&nc);
                eng_numeric_init(&avg);
                eng_numeric_init(&x);
                eng_numeric_from_int64(&ns, sum);
                eng_numeric_from_int64(&nc, nn);
                eng_numeric_push(&rb, &ns); /* sum(int8) */
                assert_int_equal(eng_numeric_div(&ns, &nc, &avg, NULL), 0);
                eng_numeric_push(&rb, &avg); /* avg(int) */
                assert_int_equal(eng_numeric_acc_sum(&acc, &x, NULL), 0);
                eng_numeric_push(&rb, &x); /* sum(numeric) */
                assert_int_equal(eng_numeric_acc_avg(&acc, &x, NULL), 0);
                eng_numeric_push(&rb, &x);        /* avg(numeric) */
                eng_push_float4(&rb, (float)sum); /* sum(float4) of ints-as-floats */
                eng_numeric_free(&ns);
                eng_numeric_free(&nc);
                eng_numeric_free(&avg);
                eng_numeric_free(&x);
            }
            eng_batch_push(out, eng_rowbuf_row(&rb), 0, 1);
        }
        eng_numeric_acc_free(&acc);
    }
    eng_rowbuf_free(&rb);
    return out;
}

/* The expected rows without the last (float4) column. */
static eng_batch *
reduce_num_expect4(gen *g, void *ctx)
{
    eng_batch *full = reduce_num_expect(g, ctx);
    eng_batch *out = calloc(1, sizeof *out);
    for (uint32_t i = 0; i < full->n; i++) {
        eng_row r = eng_batch_row(full, i);
        uint32_t off = eng_row_col_offset(r, 5);
        eng_batch_push(out, (eng_row){r.data, off}, 0, full->upd[i].diff);
    }
    eng_batch_free(full);
    return out;
}

/* sum(int8), avg(int), sum(numeric), avg(numeric) over int8 values. */
static void
run_reduce_numeric(int W, uint64_t seed)
{
    scen s = {0};
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_rt_start(&s.rt, topo, W, &err), 0);
    s.c = eng_client_new(s.rt);
    eng_plan *p = eng_plan_new();
    s.inputs[0] = eng_plan_input(p, "in");
    s.ninputs = 1;
    op_reduce_params *rp = op_reduce_params_new(1, 5);
    rp->gc_min_groups = 1;
    rp->aggs[0] = (op_agg){OP_AGG_SUM_INT8, 0, NULL};
    rp->aggs[1] = (op_agg){OP_AGG_AVG_INT, 0, NULL};
    rp->aggs[2] = (op_agg){OP_AGG_SUM_NUMERIC, 0, NULL};
    rp->aggs[3] = (op_agg){OP_AGG_AVG_NUMERIC, 0, NULL};
    rp->aggs[4] = (op_agg){OP_AGG_SUM_INT, 0, NULL}; /* replaced below by float4 check */
    rp->naggs = 4;
    s.peek = eng_plan_node(p, "reduce", op_reduce_make, rp, free, 1);
    eng_plan_edge(p, s.inputs[0], s.peek, 0, 1);
    eng_plan_subscribe(p, s.peek, s.c, &s.sub);
    s.df = eng_df_install(s.c, p);
    t_mset_init(&s.subacc);
    gen g[1] = {{.seed = seed, .keys = 9, .cols = 1}};
    t_mset_init(&g[0].state);
    drive(&s, g, 30, 40, reduce_num_expect4, NULL, seed, "reduce numeric");
    t_mset_free(&g[0].state);
    t_mset_free(&s.subacc);
    eng_df_drop(s.c, s.df);
    eng_client_free(s.c);
    eng_rt_stop(s.rt);
}

static void
run_reduce(int W, uint64_t seed)
{
    scen s = {0};
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_rt_start(&s.rt, topo, W, &err), 0);
    s.c = eng_client_new(s.rt);
    eng_plan *p = eng_plan_new();
    s.inputs[0] = eng_plan_input(p, "in");
    s.ninputs = 1;
    op_reduce_params *rp = op_reduce_params_new(1, 8);
    rp->gc_min_groups = 1; /* drop dead groups as soon as possible */
    op_agg_kind kinds[8] = {OP_AGG_COUNT_STAR, OP_AGG_COUNT,  OP_AGG_SUM_INT,
                            OP_AGG_MIN,        OP_AGG_MAX,    OP_AGG_COUNT_DISTINCT,
                            OP_AGG_BOOL_AND,   OP_AGG_BOOL_OR};
    int cols[8] = {0, 0, 0, 0, 0, 0, 1, 1};
    for (int i = 0; i < 8; i++)
        rp->aggs[i] = (op_agg){kinds[i], cols[i], NULL};
    s.peek = eng_plan_node(p, "reduce", op_reduce_make, rp, free, 1);
    eng_plan_edge(p, s.inputs[0], s.peek, 0, 1);
    eng_plan_subscribe(p, s.peek, s.c, &s.sub);
    s.df = eng_df_install(s.c, p);
    t_mset_init(&s.subacc);
    gen g[1] = {{.seed = seed, .keys = 13, .cols = 2}};
    t_mset_init(&g[0].state);
    drive(&s, g, 40, 60, reduce_expect, NULL, seed, "reduce");
    t_mset_free(&g[0].state);
    t_mset_free(&s.subacc);
    eng_df_drop(s.c, s.df);
    eng_client_free(s.c);
    eng_rt_stop(s.rt);
}

static eng_batch *
join_expect(gen *g, void *ctx)
{
    return expect_join(&g[0].state, &g[1].state, *(op_join_kind *)ctx);
}

static void
run_join(int W, op_join_kind kind, uint64_t seed)
{
    scen s = {0};
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_rt_start(&s.rt, topo, W, &err), 0);
    s.c = eng_client_new(s.rt);
    eng_plan *p = eng_plan_new();
    s.inputs[0] = eng_plan_input(p, "left");
    s.inputs[1] = eng_plan_input(p, "right");
    s.ninputs = 2;
    op_join_params *jp = calloc(1, sizeof *jp);
    *jp = (op_join_params){
        .kind = kind, .key_ncols = 1, .left_vcols = 1, .right_vcols = 1, .shared_side = -1};
    int j = eng_plan_node(p, "join", op_join_make, jp, free, 2);
    eng_plan_edge(p, s.inputs[0], j, 0, 1);
    eng_plan_edge(p, s.inputs[1], j, 1, 1);
    op_arrange_params *ap = calloc(1, sizeof *ap);
    ap->key_ncols = 1;
    s.peek = eng_plan_node(p, "arrange", op_arrange_make, ap, free, 1);
    eng_plan_edge(p, j, s.peek, 0, 1);
    eng_plan_subscribe(p, j, s.c, &s.sub);
    s.df = eng_df_install(s.c, p);
    t_mset_init(&s.subacc);
    gen g[2] = {{.seed = seed, .keys = 7, .cols = 1, .null_keys = true},
                {.seed = seed * 31 + 7, .keys = 7, .cols = 1, .null_keys = true}};
    t_mset_init(&g[0].state);
    t_mset_init(&g[1].state);
    static const char *names[] = {"inner join", "left join", "right join", "full join"};
    drive(&s, g, 30, 16, join_expect, &kind, seed, names[kind]);
    t_mset_free(&g[0].state);
    t_mset_free(&g[1].state);
    t_mset_free(&s.subacc);
    eng_df_drop(s.c, s.df);
    eng_client_free(s.c);
    eng_rt_stop(s.rt);
}

/* Cross join: no key, every pair (left row ++ right row). */
static eng_batch *
cross_expect(gen *g, void *ctx)
{
    (void)ctx;
    eng_batch *out = calloc(1, sizeof *out);
    const eng_batch *L = g[0].state.b, *R = g[1].state.b;
    for (uint32_t i = 0; i < L->n; i++)
        for (uint32_t j = 0; j < R->n; j++)
            if (L->upd[i].diff && R->upd[j].diff)
                eng_batch_push2(out, eng_batch_row(L, i), eng_batch_row(R, j), 0,
                                L->upd[i].diff * R->upd[j].diff);
    return out;
}

static void
run_cross(int W, uint64_t seed)
{
    scen s = {0};
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_rt_start(&s.rt, topo, W, &err), 0);
    s.c = eng_client_new(s.rt);
    eng_plan *p = eng_plan_new();
    s.inputs[0] = eng_plan_input(p, "left");
    s.inputs[1] = eng_plan_input(p, "right");
    s.ninputs = 2;
    op_join_params *jp = calloc(1, sizeof *jp);
    *jp = (op_join_params){.kind = OP_JOIN_INNER,
                           .key_ncols = 0,
                           .left_vcols = 2,
                           .right_vcols = 2,
                           .shared_side = -1};
    int j = eng_plan_node(p, "cross", op_join_make, jp, free, 2);
    eng_plan_edge(p, s.inputs[0], j, 0, 0);
    eng_plan_edge(p, s.inputs[1], j, 1, 0);
    op_arrange_params *ap = calloc(1, sizeof *ap);
    ap->key_ncols = 1;
    s.peek = eng_plan_node(p, "arrange", op_arrange_make, ap, free, 1);
    eng_plan_edge(p, j, s.peek, 0, 1);
    eng_plan_subscribe(p, j, s.c, &s.sub);
    s.df = eng_df_install(s.c, p);
    t_mset_init(&s.subacc);
    gen g[2] = {{.seed = seed, .keys = 3, .cols = 1}, {.seed = seed * 5 + 2, .keys = 3, .cols = 1}};
    t_mset_init(&g[0].state);
    t_mset_init(&g[1].state);
    drive(&s, g, 20, 6, cross_expect, NULL, seed, "cross join");
    t_mset_free(&g[0].state);
    t_mset_free(&g[1].state);
    t_mset_free(&s.subacc);
    eng_df_drop(s.c, s.df);
    eng_client_free(s.c);
    eng_rt_stop(s.rt);
}

/* ------------------------------------------------------------------ set operations */

typedef enum setop {
    S_UNION_ALL,
    S_DISTINCT,
    S_EXCEPT_ALL,
    S_EXCEPT,
    S_INTERSECT_ALL,
    S_INTERSECT,
} setop;

static const char *setop_names[] = {"union all", "distinct",      "except all",
                                    "except",    "intersect all", "intersect"};

static int64_t
count_of(const t_mset *m, eng_row r)
{
    for (uint32_t i = 0; i < m->b->n; i++)
        if (eng_row_eq(eng_batch_row(m->b, i), r))
            return m->b->upd[i].diff;
    return 0;
}

static eng_batch *
setop_expect(gen *g, void *ctx)
{
    setop op = *(setop *)ctx;
    eng_batch *out = calloc(1, sizeof *out);
    for (int side = 0; side < 2; side++) {
        const t_mset *A = &g[side].state, *B = &g[1 - side].state;
        for (uint32_t i = 0; i < A->b->n; i++) {
            eng_row r = eng_batch_row(A->b, i);
            int64_t a = A->b->upd[i].diff, b = count_of(B, r);
            if (side == 1) { /* rows only in B matter for UNION ALL only */
                if (op == S_UNION_ALL && a != 0)
                    eng_batch_push(out, r, 0, a);
                continue;
            }
            int64_t n = 0;
            switch (op) {
            case S_UNION_ALL:
                n = a;
                break;
            case S_DISTINCT:
                n = a > 0;
                break;
            case S_EXCEPT_ALL:
                n = a - b > 0 ? a - b : 0;
                break;
            case S_EXCEPT:
                n = a > 0 && b <= 0;
                break;
            case S_INTERSECT_ALL:
                n = a < b ? a : b;
                break;
            case S_INTERSECT:
                n = a > 0 && b > 0;
                break;
            }
            if (n > 0)
                eng_batch_push(out, r, 0, n);
        }
    }
    return out;
}

static int
node_reduce(eng_plan *p, int from, op_reduce_mode mode)
{
    op_reduce_params *rp = op_reduce_params_new(OP_KEY_ALL, 0);
    rp->mode = mode;
    rp->gc_min_groups = 1;
    int n = eng_plan_node(p, mode == OP_REDUCE_DISTINCT ? "distinct" : "threshold", op_reduce_make,
                          rp, free, 1);
    eng_plan_edge(p, from, n, 0, OP_KEY_ALL);
    return n;
}

static int
node_union(eng_plan *p, int a, int b)
{
    int u = eng_plan_node(p, "union", op_union_make, NULL, NULL, 2);
    eng_plan_edge(p, a, u, 0, -1);
    eng_plan_edge(p, b, u, 1, -1);
    return u;
}

static int
node_negate(eng_plan *p, int a)
{
    int n = eng_plan_node(p, "negate", op_negate_make, NULL, NULL, 1);
    eng_plan_edge(p, a, n, 0, -1);
    return n;
}

static void
run_setop(int W, setop op, uint64_t seed)
{
    scen s = {0};
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_rt_start(&s.rt, topo, W, &err), 0);
    s.c = eng_client_new(s.rt);
    eng_plan *p = eng_plan_new();
    int A = s.inputs[0] = eng_plan_input(p, "a");
    int B = s.inputs[1] = eng_plan_input(p, "b");
    s.ninputs = 2;
    int res = -1;
    switch (op) {
    case S_UNION_ALL:
        res = node_union(p, A, B);
        break;
    case S_DISTINCT:
        res = node_reduce(p, A, OP_REDUCE_DISTINCT);
        break;
    case S_EXCEPT_ALL:
        res = node_reduce(p, node_union(p, A, node_negate(p, B)), OP_REDUCE_THRESHOLD);
        break;
    case S_EXCEPT: {
        int da = node_reduce(p, A, OP_REDUCE_DISTINCT);
        int db = node_reduce(p, B, OP_REDUCE_DISTINCT);
        res = node_reduce(p, node_union(p, da, node_negate(p, db)), OP_REDUCE_THRESHOLD);
        break;
    }
    case S_INTERSECT_ALL: {
        int ex = node_reduce(p, node_union(p, A, node_negate(p, B)), OP_REDUCE_THRESHOLD);
        res = node_union(p, A, node_negate(p, ex));
        break;
    }
    case S_INTERSECT: {
        int da = node_reduce(p, A, OP_REDUCE_DISTINCT);
        int db = node_reduce(p, B, OP_REDUCE_DISTINCT);
        int ex = node_reduce(p, node_union(p, da, node_negate(p, db)), OP_REDUCE_THRESHOLD);
        res = node_union(p, da, node_negate(p, ex));
        break;
    }
    }
    op_arrange_params *ap = calloc(1, sizeof *ap);
    ap->key_ncols = 1;
    s.peek = eng_plan_node(p, "arrange", op_arrange_make, ap, free, 1);
    eng_plan_edge(p, res, s.peek, 0, 1);
    eng_plan_subscribe(p, res, s.c, &s.sub);
    s.df = eng_df_install(s.c, p);
    t_mset_init(&s.subacc);
    gen g[2] = {{.seed = seed, .keys = 4, .cols = 1},
                {.seed = seed * 17 + 3, .keys = 4, .cols = 1}};
    t_mset_init(&g[0].state);
    t_mset_init(&g[1].state);
    drive(&s, g, 25, 12, setop_expect, &op, seed, setop_names[op]);
    t_mset_free(&g[0].state);
    t_mset_free(&g[1].state);
    t_mset_free(&s.subacc);
    eng_df_drop(s.c, s.df);
    eng_client_free(s.c);
    eng_rt_stop(s.rt);
}

static void
test_setops(void **st)
{
    (void)st;
    int ws[] = {1, 2, 4};
    for (int op = S_UNION_ALL; op <= S_INTERSECT; op++)
        for (int i = 0; i < 3; i++)
            run_setop(ws[i], (setop)op, base_seed + 200);
}

/* ------------------------------------------------------------------ top-k */

typedef struct topk_case {
    int64_t limit, offset;
    bool desc, nulls_first;
} topk_case;

/* v as a sortable number: NULL placed per the case. */
static int
cmp_v(const topk_case *tc, eng_datum a, eng_datum b)
{
    bool na = a.tag == ENG_TAG_NULL, nb = b.tag == ENG_TAG_NULL;
    if (na || nb) {
        if (na && nb)
            return 0;
        int c = na ? 1 : -1;
        return tc->nulls_first ? -c : c;
    }
    int64_t x = eng_datum_int8(a), y = eng_datum_int8(b);
    int c = x < y ? -1 : x > y;
    return tc->desc ? -c : c;
}

static eng_batch *
topk_expect(gen *g, void *ctx)
{
    const topk_case *tc = ctx;
    eng_batch *out = calloc(1, sizeof *out);
    const eng_batch *in = g[0].state.b;
    for (int64_t key = 0; key < g[0].keys; key++) {
        /* the group's rows, sorted */
        uint32_t idx[512];
        uint32_t n = 0;
        for (uint32_t i = 0; i < in->n && n < 512; i++) {
            if (in->upd[i].diff <= 0)
                continue;
            uint32_t pos = 0;
            if (eng_datum_int8(eng_row_next(eng_batch_row(in, i), &pos)) == key)
                idx[n++] = i;
        }
        for (uint32_t a = 1; a < n; a++) { /* insertion sort by v */
            uint32_t x = idx[a];
            int b = (int)a - 1;
            while (b >= 0) {
                uint32_t pa = 0, pb = 0;
                eng_row ra = eng_batch_row(in, idx[b]), rx = eng_batch_row(in, x);
                eng_row_next(ra, &pa);
                eng_row_next(rx, &pb);
                if (cmp_v(tc, eng_row_next(ra, &pa), eng_row_next(rx, &pb)) <= 0)
                    break;
                idx[b + 1] = idx[b];
                b--;
            }
            idx[b + 1] = x;
        }
        int64_t rank = 0, hi = tc->limit < 0 ? INT64_MAX : tc->offset + tc->limit;
        for (uint32_t a = 0; a < n; a++) {
            int64_t c = in->upd[idx[a]].diff;
            int64_t from = rank > tc->offset ? rank : tc->offset,
                    to = rank + c < hi ? rank + c : hi;
            if (to > from)
                eng_batch_push(out, eng_batch_row(in, idx[a]), 0, to - from);
            rank += c;
        }
    }
    return out;
}

static void
run_topk(int W, const topk_case *tc, uint64_t seed)
{
    scen s = {0};
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_rt_start(&s.rt, topo, W, &err), 0);
    s.c = eng_client_new(s.rt);
    eng_plan *p = eng_plan_new();
    s.inputs[0] = eng_plan_input(p, "in");
    s.ninputs = 1;
    op_topk_params *tp = op_topk_params_new(1, 1);
    tp->limit = tc->limit;
    tp->offset = tc->offset;
    tp->order[0] = (op_order){0, tc->desc, tc->nulls_first};
    s.peek = eng_plan_node(p, "topk", op_topk_make, tp, free, 1);
    eng_plan_edge(p, s.inputs[0], s.peek, 0, 1);
    eng_plan_subscribe(p, s.peek, s.c, &s.sub);
    s.df = eng_df_install(s.c, p);
    t_mset_init(&s.subacc);
    gen g[1] = {{.seed = seed, .keys = 5, .cols = 1}};
    t_mset_init(&g[0].state);
    drive(&s, g, 30, 20, topk_expect, (void *)tc, seed, "topk");
    t_mset_free(&g[0].state);
    t_mset_free(&s.subacc);
    eng_df_drop(s.c, s.df);
    eng_client_free(s.c);
    eng_rt_stop(s.rt);
}

static void
test_topk(void **st)
{
    (void)st;
    const topk_case cases[] = {
        {3, 0, false, false}, {3, 1, true, true},  {2, 2, false, true},
        {-1, 3, true, false}, {1, 0, true, false},
    };
    int ws[] = {1, 2, 4};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int i = 0; i < 3; i++)
            run_topk(ws[i], &cases[c], base_seed + 300 + c);
}

/* ------------------------------------------------------------------ shared arrangements */

/* Dataflow A arranges L; dataflow B, created later, joins R against A's
 * arrangement through an import instead of arranging L again. */
static void
run_shared(int W, uint64_t seed)
{
    eng_rt *rt;
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_rt_start(&rt, topo, W, &err), 0);
    eng_client *c = eng_client_new(rt);
    eng_plan *pa = eng_plan_new();
    int inL = eng_plan_input(pa, "L");
    op_arrange_params *ap = calloc(1, sizeof *ap);
    ap->key_ncols = 1;
    int arrL = eng_plan_node(pa, "arrange", op_arrange_make, ap, free, 1);
    eng_plan_edge(pa, inL, arrL, 0, 1);
    eng_df *A = eng_df_install(c, pa);

    gen gl = {.seed = seed, .keys = 6, .cols = 1, .null_keys = true};
    gen gr = {.seed = seed * 7 + 1, .keys = 6, .cols = 1, .null_keys = true};
    t_mset_init(&gl.state);
    t_mset_init(&gr.state);
    eng_time t = 0;
    for (; t < 10; t++) { /* history in A before B exists */
        eng_batch *b = eng_client_batch(c);
        generate(&gl, b, 10, t);
        eng_df_send(c, A, inL, b);
        eng_df_advance(c, A, inL, t + 1);
    }
    assert_int_equal(eng_df_wait(c, A, arrL, t - 1, 10000, &err), 0);

    eng_plan *pb = eng_plan_new();
    eng_time as_of;
    int imp = op_import_add(pb, c, A, arrL, &as_of, &err);
    assert_true(imp >= 0);
    int inR = eng_plan_input(pb, "R");
    op_join_params *jp = calloc(1, sizeof *jp);
    *jp = (op_join_params){.kind = OP_JOIN_INNER,
                           .key_ncols = 1,
                           .left_vcols = 1,
                           .right_vcols = 1,
                           .shared_side = 0,
                           .shared_df = eng_df_id(A),
                           .shared_node = arrL,
                           .shared_as_of = as_of};
    int j = eng_plan_node(pb, "join", op_join_make, jp, free, 2);
    eng_plan_edge(pb, imp, j, 0, -1); /* the import emits this worker's shard */
    eng_plan_edge(pb, inR, j, 1, 1);
    op_arrange_params *ap2 = calloc(1, sizeof *ap2);
    ap2->key_ncols = 1;
    int out = eng_plan_node(pb, "arrange", op_arrange_make, ap2, free, 1);
    eng_plan_edge(pb, j, out, 0, 1);
    eng_df *B = eng_df_install(c, pb);
    op_import_ready(c, B, imp, A, arrL, as_of);
    eng_df_advance(c, B, inR, as_of + 1); /* R starts at as_of + 1 */

    for (t = as_of + 1; t < as_of + 30; t++) {
        eng_batch *bl = eng_client_batch(c), *br = eng_client_batch(c);
        generate(&gl, bl, 8, t);
        generate(&gr, br, 8, t);
        eng_df_send(c, A, inL, bl);
        eng_df_send(c, B, inR, br);
        eng_df_advance(c, A, inL, t + 1);
        eng_df_advance(c, B, inR, t + 1);
        eng_batch *got;
        eng_time at;
        eng_err_clear(&err);
        int rc = eng_df_peek(c, B, out, t, NULL, &got, &at, &err);
        if (rc != 0)
            fprintf(stderr, "shared join peek: %s\n", err.message);
        assert_int_equal(rc, 0);
        eng_batch *want = expect_join(&gl.state, &gr.state, OP_JOIN_INNER);
        char what[96];
        if (getenv("SLUICE_VERBOSE"))
            fprintf(stderr, "shared t=%llu got %u want %u\n", (unsigned long long)t, got->n,
                    want->n);
        snprintf(what, sizeof what, "shared join W=%d seed %llu t=%llu", W,
                 (unsigned long long)seed, (unsigned long long)t);
        assert_true(t_same(what, got, want));
        eng_batch_free(got);
        eng_batch_free(want);
    }
    /* B holds no copy of L: its join arranges only R. */
    size_t rrecs = 0;
    for (uint32_t i = 0; i < gr.state.b->n; i++) {
        eng_row r = eng_batch_row(gr.state.b, i);
        if (gr.state.b->upd[i].diff != 0 && r.data[0] != ENG_TAG_NULL)
            rrecs++;
    }
    assert_true(eng_df_records(B, j) <= rrecs);
    /* Reads before as_of are refused. */
    if (as_of > 0) {
        eng_batch *got;
        eng_time at;
        eng_err_clear(&err);
        assert_int_equal(eng_df_peek(c, B, out, as_of - 1, NULL, &got, &at, &err), -1);
    }
    /* Dropping A leaves B in error, not crashed. */
    eng_df_drop(c, A);
    eng_batch *br = eng_client_batch(c);
    generate(&gr, br, 4, t);
    eng_df_send(c, B, inR, br);
    eng_df_advance(c, B, inR, t + 1);
    eng_df_drop(c, B);
    t_mset_free(&gl.state);
    t_mset_free(&gr.state);
    eng_client_free(c);
    eng_rt_stop(rt);
}

static void
test_shared(void **st)
{
    (void)st;
    int ws[] = {1, 2, 4};
    for (int i = 0; i < 3; i++)
        for (uint64_t k = 0; k < 2; k++)
            run_shared(ws[i], base_seed + 400 + k);
}

static void
test_reduce(void **st)
{
    (void)st;
    int ws[] = {1, 2, 4};
    for (int i = 0; i < 3; i++)
        for (uint64_t k = 0; k < 3; k++)
            run_reduce(ws[i], base_seed + k);
    for (int i = 0; i < 3; i++)
        run_reduce_numeric(ws[i], base_seed + 50);
}

static void
test_join(void **st)
{
    (void)st;
    int ws[] = {1, 2, 4};
    for (int kind = OP_JOIN_INNER; kind <= OP_JOIN_FULL; kind++)
        for (int i = 0; i < 3; i++)
            for (uint64_t k = 0; k < 2; k++)
                run_join(ws[i], (op_join_kind)kind, base_seed + 100 + k);
    for (int i = 0; i < 3; i++)
        run_cross(ws[i], base_seed + 150);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reduce), cmocka_unit_test(test_join),   cmocka_unit_test(test_setops),
        cmocka_unit_test(test_topk),   cmocka_unit_test(test_shared),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
