/* Oracle test of op_window alone: random insert/retract streams over many
 * timestamps with 1 and 2 workers. At every timestamp the operator's output
 * (peeked at that time, peeked back at an earlier time under a hold, peeked
 * by one key, and the subscription stream accumulated) must equal a
 * from-scratch recomputation written here independently of the operator.
 *
 * Rows: (k int8 | NULL, v int8 | NULL, w text | NULL) from small domains,
 * so partitions have ties, NULLs in order columns and duplicates
 * (multiplicity 2, and equal rows inserted twice). Partitioned by k
 * (key_ncols 1) or globally (key_ncols 0, the whole row is the value).
 *
 * Seeds are fixed; SLUICE_SEED overrides; failures print the seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "engine/core/eng_log.h"
#include "engine/runtime/eng_rt.h"
#include "operators/op_window.h"
#include "tests/model/oracle.h"

static shard_topo *topo;
static uint64_t base_seed = 4242;

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

/* ------------------------------------------------------------------ the case */

enum { NKEYS = 4 };

/* An order column over the logical columns (0 k, 1 v, 2 w). */
typedef struct ord {
    int col;
    bool desc, nulls_first;
} ord;

/* A function: kind, logical column and offset for lag/lead, default
 * (dflt_null, else an int8 dflt_i for v or the text dflt_s for w). */
typedef struct fn {
    op_window_kind kind;
    int col;
    int64_t offset;
    bool dflt_null;
    int64_t dflt_i;
    const char *dflt_s;
} fn;

typedef struct wcase {
    const char *name;
    int key_ncols; /* 1: partition by k; 0: one partition */
    int norder;
    ord order[2];
    int nfn;
    fn fns[8];
} wcase;

static const wcase cases[] = {
    {"v asc, all functions",
     1,
     1,
     {{1, false, false}},
     6,
     {{OP_WINDOW_ROW_NUMBER, 0, 0, true, 0, NULL},
      {OP_WINDOW_RANK, 0, 0, true, 0, NULL},
      {OP_WINDOW_DENSE_RANK, 0, 0, true, 0, NULL},
      {OP_WINDOW_LAG, 1, 1, true, 0, NULL},
      {OP_WINDOW_LEAD, 2, 2, false, 0, "zz"},
      {OP_WINDOW_LAG, 1, 2, false, -99, NULL}}},
    {"v desc nulls first, w asc nulls first",
     1,
     2,
     {{1, true, true}, {2, false, true}},
     5,
     {{OP_WINDOW_RANK, 0, 0, true, 0, NULL},
      {OP_WINDOW_LEAD, 1, 1, false, 7, NULL},
      {OP_WINDOW_DENSE_RANK, 0, 0, true, 0, NULL},
      {OP_WINDOW_ROW_NUMBER, 0, 0, true, 0, NULL},
      {OP_WINDOW_LAG, 2, 1, true, 0, NULL}}},
    {"ranks only (copies accumulate)",
     1,
     1,
     {{2, true, false}},
     2,
     {{OP_WINDOW_RANK, 0, 0, true, 0, NULL}, {OP_WINDOW_DENSE_RANK, 0, 0, true, 0, NULL}}},
    {"global, v asc nulls first",
     0,
     1,
     {{1, false, true}},
     4,
     {{OP_WINDOW_ROW_NUMBER, 0, 0, true, 0, NULL},
      {OP_WINDOW_RANK, 0, 0, true, 0, NULL},
      {OP_WINDOW_LEAD, 0, 2, false, -1, NULL},
      {OP_WINDOW_LAG, 2, -1, false, 0, "none"}}},
    {"no order columns (all peers)",
     1,
     0,
     {{0, false, false}},
     4,
     {{OP_WINDOW_ROW_NUMBER, 0, 0, true, 0, NULL},
      {OP_WINDOW_RANK, 0, 0, true, 0, NULL},
      {OP_WINDOW_DENSE_RANK, 0, 0, true, 0, NULL},
      {OP_WINDOW_LAG, 1, 0, true, 0, NULL}}},
};

/* ------------------------------------------------------------------ random streams */

static const char *const words[] = {"a", "b", "cc"};

static void
gen_row(uint64_t *s, eng_rowbuf *rb)
{
    eng_rowbuf_reset(rb);
    if (t_rand(s) % 100 < 5)
        eng_push_null(rb);
    else
        eng_push_int8(rb, (int64_t)(t_rand(s) % NKEYS));
    if (t_rand(s) % 100 < 15)
        eng_push_null(rb);
    else
        eng_push_int8(rb, (int64_t)(t_rand(s) % 5) - 2);
    if (t_rand(s) % 100 < 15) {
        eng_push_null(rb);
    } else {
        const char *w = words[t_rand(s) % 3];
        eng_push_text(rb, w, (uint32_t)strlen(w));
    }
}

/* n updates at t into b and state: inserts (sometimes of a row already
 * present, sometimes with multiplicity 2) and retractions. */
static void
generate(uint64_t *s, t_mset *state, eng_batch *b, int n, eng_time t)
{
    eng_rowbuf rb = {0};
    for (int i = 0; i < n; i++) {
        eng_batch *st = state->b;
        uint64_t x = t_rand(s) % 100;
        if (st->n > 0 && x < 55) {
            uint32_t j = (uint32_t)(t_rand(s) % st->n);
            if (st->upd[j].diff > 0) {
                eng_rowbuf_reset(&rb);
                eng_push_row(&rb, eng_batch_row(st, j));
                int64_t d = x < 40 ? -1 : 1; /* retract, or insert a duplicate */
                eng_batch_push(b, eng_rowbuf_row(&rb), t, d);
                t_mset_add(state, eng_rowbuf_row(&rb), d);
                continue;
            }
        }
        gen_row(s, &rb);
        int64_t d = t_rand(s) % 8 == 0 ? 2 : 1;
        eng_batch_push(b, eng_rowbuf_row(&rb), t, d);
        t_mset_add(state, eng_rowbuf_row(&rb), d);
    }
    eng_rowbuf_free(&rb);
}

/* ------------------------------------------------------------------ the naive recompute */

static eng_datum
col_of(eng_row r, int c)
{
    uint32_t pos = 0;
    eng_datum d = eng_row_next(r, &pos);
    for (int i = 0; i < c; i++)
        d = eng_row_next(r, &pos);
    return d;
}

/* k and v are int8, w text: compared here by hand. */
static int
cmp_datum(eng_datum a, eng_datum b)
{
    if (a.tag == ENG_TAG_INT8) {
        int64_t x = eng_datum_int8(a), y = eng_datum_int8(b);
        return x < y ? -1 : x > y;
    }
    uint32_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    return c ? c : (a.len < b.len ? -1 : a.len > b.len);
}

static int
cmp_peer(const wcase *wc, eng_row a, eng_row b)
{
    for (int i = 0; i < wc->norder; i++) {
        const ord *o = &wc->order[i];
        eng_datum x = col_of(a, o->col), y = col_of(b, o->col);
        bool nx = x.tag == ENG_TAG_NULL, ny = y.tag == ENG_TAG_NULL;
        if (nx && ny)
            continue;
        if (nx || ny)
            return (nx ? 1 : -1) * (o->nulls_first ? -1 : 1);
        int c = cmp_datum(x, y);
        if (c)
            return o->desc ? -c : c;
    }
    return 0;
}

/* Full order: peers by the value's bytes (the value = the row after the
 * partition key). */
static int
cmp_full(const wcase *wc, eng_row a, eng_row b)
{
    int c = cmp_peer(wc, a, b);
    if (c)
        return c;
    uint32_t ka = 0, kb = 0;
    for (int i = 0; i < wc->key_ncols; i++) {
        ka += eng_datum_size_at(a.data + ka);
        kb += eng_datum_size_at(b.data + kb);
    }
    uint32_t la = a.len - ka, lb = b.len - kb, n = la < lb ? la : lb;
    c = n ? memcmp(a.data + ka, b.data + kb, n) : 0;
    return c ? c : (la < lb ? -1 : la > lb);
}

static void
push_default(eng_rowbuf *rb, const fn *f)
{
    if (f->dflt_null)
        eng_push_null(rb);
    else if (f->dflt_s)
        eng_push_text(rb, f->dflt_s, (uint32_t)strlen(f->dflt_s));
    else
        eng_push_int8(rb, f->dflt_i);
}

static eng_batch *
expect(const wcase *wc, const t_mset *state)
{
    t_mset out;
    t_mset_init(&out);
    const eng_batch *in = state->b;
    /* every copy of every row, then each partition in turn */
    eng_row *rows = calloc(1024, sizeof *rows);
    uint32_t n = 0;
    for (uint32_t i = 0; i < in->n; i++)
        for (int64_t c = 0; c < in->upd[i].diff && n < 1024; c++)
            rows[n++] = eng_batch_row(in, i);
    eng_row *part = calloc(1024, sizeof *part);
    bool *done = calloc(1024, sizeof *done);
    eng_rowbuf rb = {0};
    for (uint32_t s = 0; s < n; s++) {
        if (done[s])
            continue;
        uint32_t m = 0;
        for (uint32_t i = s; i < n; i++) {
            bool same = wc->key_ncols == 0 ||
                        eng_row_eq((eng_row){rows[i].data, eng_datum_size_at(rows[i].data)},
                                   (eng_row){rows[s].data, eng_datum_size_at(rows[s].data)});
            if (same && !done[i]) {
                done[i] = true;
                part[m++] = rows[i];
            }
        }
        for (uint32_t a = 1; a < m; a++) /* insertion sort */
            for (uint32_t b = a; b > 0 && cmp_full(wc, part[b - 1], part[b]) > 0; b--) {
                eng_row t = part[b];
                part[b] = part[b - 1];
                part[b - 1] = t;
            }
        for (uint32_t i = 0; i < m; i++) {
            eng_rowbuf_reset(&rb);
            eng_push_row(&rb, part[i]);
            for (int f = 0; f < wc->nfn; f++) {
                const fn *x = &wc->fns[f];
                int64_t rank = 1, dense = 1;
                for (uint32_t j = 0; j < m; j++)
                    if (cmp_peer(wc, part[j], part[i]) < 0) {
                        rank++;
                        if (j == 0 || cmp_peer(wc, part[j - 1], part[j]) != 0)
                            dense++;
                    }
                switch (x->kind) {
                case OP_WINDOW_ROW_NUMBER:
                    eng_push_int8(&rb, (int64_t)i + 1);
                    break;
                case OP_WINDOW_RANK:
                    eng_push_int8(&rb, rank);
                    break;
                case OP_WINDOW_DENSE_RANK:
                    eng_push_int8(&rb, dense);
                    break;
                case OP_WINDOW_LAG:
                case OP_WINDOW_LEAD: {
                    int64_t q = (int64_t)i + (x->kind == OP_WINDOW_LAG ? -x->offset : x->offset);
                    if (q >= 0 && q < (int64_t)m)
                        eng_push_datum(&rb, col_of(part[q], x->col));
                    else
                        push_default(&rb, x);
                    break;
                }
                }
            }
            t_mset_add(&out, eng_rowbuf_row(&rb), 1);
        }
    }
    eng_rowbuf_free(&rb);
    free(rows);
    free(part);
    free(done);
    eng_batch *res = out.b;
    out.b = NULL;
    return res;
}

/* ------------------------------------------------------------------ the driver */

static op_window_params *
make_params(const wcase *wc)
{
    int shift = wc->key_ncols; /* logical column -> value column */
    op_window_params *p = op_window_params_new(wc->key_ncols, wc->norder, wc->nfn);
    for (int i = 0; i < wc->norder; i++)
        p->order[i] =
            (op_order){wc->order[i].col - shift, wc->order[i].desc, wc->order[i].nulls_first};
    eng_rowbuf rb = {0};
    for (int i = 0; i < wc->nfn; i++) {
        const fn *x = &wc->fns[i];
        p->fns[i].kind = x->kind;
        p->fns[i].col = x->col - shift;
        p->fns[i].offset = x->offset;
        if (x->kind == OP_WINDOW_LAG || x->kind == OP_WINDOW_LEAD) {
            eng_rowbuf_reset(&rb);
            push_default(&rb, x);
            op_window_params_set_default(p, i, eng_rowbuf_row(&rb));
        }
    }
    eng_rowbuf_free(&rb);
    return p;
}

static void
run(int W, const wcase *wc, uint64_t seed)
{
    eng_err err;
    eng_err_clear(&err);
    eng_rt *rt;
    assert_int_equal(eng_rt_start(&rt, topo, W, &err), 0);
    eng_client *c = eng_client_new(rt);
    eng_plan *p = eng_plan_new();
    int input = eng_plan_input(p, "in");
    int node =
        eng_plan_node(p, "window", op_window_make, make_params(wc), op_window_params_free, 1);
    eng_plan_edge(p, input, node, 0, wc->key_ncols);
    eng_sub *sub;
    assert_true(eng_plan_subscribe(p, node, c, &sub) >= 0);
    eng_df *df = eng_df_install(c, p);

    const int T = 30, per_step = 16;
    uint64_t s = seed;
    t_mset state, subacc;
    t_mset_init(&state);
    t_mset_init(&subacc);
    eng_batch **wants = calloc((size_t)T, sizeof *wants);
    eng_batch *b = eng_client_batch(c);
    generate(&s, &state, b, per_step, 0);
    eng_df_send(c, df, input, b);
    char what[160];
    for (int t = 0; t < T; t++) {
        /* expected at t: the state after the updates at <= t */
        wants[t] = expect(wc, &state);
        /* updates for t + 1 go out before the frontier reaches t + 1, in
         * two batches, so the operator sees future updates wait */
        eng_batch *b1 = eng_client_batch(c), *b2 = eng_client_batch(c);
        generate(&s, &state, b1, per_step / 2, (eng_time)t + 1);
        generate(&s, &state, b2, per_step - per_step / 2, (eng_time)t + 1);
        eng_df_send(c, df, input, b1);
        eng_df_send(c, df, input, b2);
        eng_df_advance(c, df, input, (eng_time)t + 1);

        eng_batch *got;
        eng_time at;
        eng_err_clear(&err);
        int rc = eng_df_peek(c, df, node, (eng_time)t, NULL, &got, &at, &err);
        if (rc != 0)
            fail_msg("%s seed %llu t=%d: peek failed: %s", wc->name, (unsigned long long)seed, t,
                     err.message);
        snprintf(what, sizeof what, "%s W=%d seed %llu: peek at t=%d", wc->name, W,
                 (unsigned long long)seed, t);
        if (!t_same(what, got, wants[t]))
            fail_msg("%s", what);
        eng_batch_free(got);
        if (t == 0) {
            eng_err_clear(&err);
            assert_int_equal(eng_df_hold(df, node, 0, &err), 0);
        } else { /* back in time, kept readable by the hold */
            int back = (int)(t_rand(&s) % (uint64_t)t);
            eng_err_clear(&err);
            assert_int_equal(eng_df_peek(c, df, node, (eng_time)back, NULL, &got, &at, &err), 0);
            snprintf(what, sizeof what, "%s W=%d seed %llu: peek back at t=%d (now %d)", wc->name,
                     W, (unsigned long long)seed, back, t);
            if (!t_same(what, got, wants[back]))
                fail_msg("%s", what);
            eng_batch_free(got);
        }
        if (wc->key_ncols == 1) { /* one partition */
            eng_rowbuf kb = {0};
            eng_push_int8(&kb, (int64_t)((seed + (uint64_t)t) % NKEYS));
            eng_row key = eng_rowbuf_row(&kb);
            eng_err_clear(&err);
            assert_int_equal(eng_df_peek(c, df, node, (eng_time)t, &key, &got, &at, &err), 0);
            eng_batch *wk = calloc(1, sizeof *wk);
            for (uint32_t k = 0; k < wants[t]->n; k++) {
                eng_row r = eng_batch_row(wants[t], k);
                if (r.len >= key.len && memcmp(r.data, key.data, key.len) == 0)
                    eng_batch_push(wk, r, 0, wants[t]->upd[k].diff);
            }
            snprintf(what, sizeof what, "%s W=%d seed %llu: key peek at t=%d", wc->name, W,
                     (unsigned long long)seed, t);
            if (!t_same(what, got, wk))
                fail_msg("%s", what);
            eng_batch_free(got);
            eng_batch_free(wk);
            eng_rowbuf_free(&kb);
        }
        /* the subscription, accumulated up to t + 1 */
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
            snprintf(what, sizeof what, "%s W=%d seed %llu: subscription at t=%d", wc->name, W,
                     (unsigned long long)seed, t);
            if (!t_same(what, subacc.b, wants[t]))
                fail_msg("%s", what);
        }
    }
    eng_df_release(df, node, 0);
    for (int t = 0; t < T; t++)
        eng_batch_free(wants[t]);
    free(wants);
    t_mset_free(&state);
    t_mset_free(&subacc);
    eng_df_drop(c, df);
    eng_client_free(c);
    eng_rt_stop(rt);
}

static void
test_window(void **st)
{
    (void)st;
    int ws[] = {1, 2};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int w = 0; w < 2; w++)
            for (uint64_t k = 0; k < 2; k++)
                run(ws[w], &cases[i], base_seed + 10 * i + k);
}

/* A fixed partition, checked by hand: PostgreSQL gives, for
 * SELECT v, row_number() OVER w, rank() OVER w, dense_rank() OVER w,
 *        lag(v) OVER w, lead(v, 2, 0) OVER w
 * FROM (VALUES (1), (1), (2), (NULL), (3), (3), (3)) t(v) WINDOW w AS (ORDER BY v):
 *   1 1 1 1 NULL 2 | 1 2 1 1 1 3 | 2 3 3 2 1 3 | 3 4 4 3 2 3
 *   3 5 4 3 3 NULL | 3 6 4 3 3 0 | NULL 7 7 4 3 0 */
static void
test_window_fixed(void **st)
{
    (void)st;
    eng_err err;
    eng_err_clear(&err);
    eng_rt *rt;
    assert_int_equal(eng_rt_start(&rt, topo, 1, &err), 0);
    eng_client *c = eng_client_new(rt);
    eng_plan *p = eng_plan_new();
    int input = eng_plan_input(p, "in");
    op_window_params *wp = op_window_params_new(0, 1, 5);
    wp->order[0] = (op_order){0, false, false};
    wp->fns[0].kind = OP_WINDOW_ROW_NUMBER;
    wp->fns[1].kind = OP_WINDOW_RANK;
    wp->fns[2].kind = OP_WINDOW_DENSE_RANK;
    wp->fns[3] = (op_window_fn){OP_WINDOW_LAG, 0, 1, wp->fns[3].dflt};
    wp->fns[4] = (op_window_fn){OP_WINDOW_LEAD, 0, 2, wp->fns[4].dflt};
    uint8_t zero[9] = {ENG_TAG_INT8};
    op_window_params_set_default(wp, 4, (eng_row){zero, 9});
    int node = eng_plan_node(p, "window", op_window_make, wp, op_window_params_free, 1);
    eng_plan_edge(p, input, node, 0, 0);
    eng_df *df = eng_df_install(c, p);
    eng_batch *b = eng_client_batch(c);
    eng_rowbuf rb = {0};
    const int64_t vals[] = {1, 2, -1, 3};
    const int64_t mult[] = {2, 1, 1, 3};
    for (int i = 0; i < 4; i++) {
        eng_rowbuf_reset(&rb);
        if (vals[i] < 0)
            eng_push_null(&rb);
        else
            eng_push_int8(&rb, vals[i]);
        eng_batch_push(b, eng_rowbuf_row(&rb), 0, mult[i]);
    }
    eng_df_send(c, df, input, b);
    eng_df_advance(c, df, input, 1);
    /* v, row_number, rank, dense_rank, lag(v), lead(v, 2, 0); -1 = NULL */
    const int64_t want[7][6] = {
        {1, 1, 1, 1, -1, 2}, {1, 2, 1, 1, 1, 3}, {2, 3, 3, 2, 1, 3},  {3, 4, 4, 3, 2, 3},
        {3, 5, 4, 3, 3, -1}, {3, 6, 4, 3, 3, 0}, {-1, 7, 7, 4, 3, 0},
    };
    eng_batch *wb = calloc(1, sizeof *wb);
    for (int i = 0; i < 7; i++) {
        eng_rowbuf_reset(&rb);
        for (int j = 0; j < 6; j++)
            if (want[i][j] < 0)
                eng_push_null(&rb);
            else
                eng_push_int8(&rb, want[i][j]);
        eng_batch_push(wb, eng_rowbuf_row(&rb), 0, 1);
    }
    eng_batch *got;
    eng_time at;
    assert_int_equal(eng_df_peek(c, df, node, 0, NULL, &got, &at, &err), 0);
    assert_true(t_same("fixed partition", got, wb));
    eng_batch_free(got);
    eng_batch_free(wb);
    eng_rowbuf_free(&rb);
    eng_df_drop(c, df);
    eng_client_free(c);
    eng_rt_stop(rt);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_fixed),
        cmocka_unit_test(test_window),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
