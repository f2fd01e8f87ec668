/* Change-command (CDC) modes of arrange (op_arrange.h): UPSERT and BAG.
 *
 * Random command streams (upserts, masked upserts, deletes of present and
 * absent keys, several commands per key per time, truncates broadcast to
 * every worker, ignored commands, empty timestamps) through the real
 * runtime with 1 and 2 workers. After each timestamp the arrange node is
 * peeked (now, back in time under a sliding hold, by key), an importing
 * dataflow's copy is peeked, and the subscription on the arrange node is
 * accumulated: all must equal a naive oracle that applies the commands in
 * order to a plain map (UPSERT) or multiset (BAG). Then hand-written cases.
 *
 * Seeds are fixed; SLUICE_SEED overrides; failures print the seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "engine/core/eng_log.h"
#include "engine/runtime/eng_rt.h"
#include "operators/op_arrange.h"
#include "operators/op_import.h"
#include "tests/model/oracle.h"

static shard_topo *topo;
static uint64_t base_seed = 42;

static int
setup(void **state)
{
    (void)state;
    eng_log_init(ENG_LOG_ERROR, 2); /* ignored commands log warnings */
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

/* ------------------------------------------------------------------ feeding */

/* Sends commands the way a CDC source must: one key's commands in order to
 * the worker that owns the key, a TRUNCATE to every worker after everything
 * before it. Either through eng_df_send_keyed, with each TRUNCATE in a
 * batch of its own (eng_df_send_to), or (`partition`) routing commands
 * itself into one batch per worker (eng_df_send_to), a TRUNCATE appended to
 * every worker's batch, so commands before and after it share its batch. */
#define MAXW 2

typedef struct feeder {
    eng_client *c;
    eng_rt *rt;
    eng_df *df;
    int in, W, key_ncols;
    int trunc_ncols; /* datums before the meta datum in a TRUNCATE row */
    bool partition;
    eng_batch *cur;        /* keyed path */
    eng_batch *part[MAXW]; /* partitioned path */
} feeder;

static void
feed_open(feeder *f, eng_rt *rt, eng_client *c, eng_df *df, int in, int key_ncols, int trunc_ncols)
{
    memset(f, 0, sizeof *f);
    *f = (feeder){.c = c,
                  .rt = rt,
                  .df = df,
                  .in = in,
                  .W = eng_rt_workers(rt),
                  .key_ncols = key_ncols,
                  .trunc_ncols = trunc_ncols};
    assert_true(f->W <= MAXW);
    f->cur = eng_client_batch(c);
    for (int w = 0; w < f->W; w++)
        f->part[w] = eng_client_batch(c);
}

static void
feed_close(feeder *f)
{
    eng_batch_free(f->cur);
    for (int w = 0; w < f->W; w++)
        eng_batch_free(f->part[w]);
}

static void
feed_cmd(feeder *f, eng_row r, eng_time t, int64_t diff)
{
    if (!f->partition) {
        eng_batch_push(f->cur, r, t, diff);
        return;
    }
    eng_row key = {r.data, eng_row_col_offset(r, f->key_ncols)};
    eng_batch_push(f->part[eng_rt_owner(f->rt, eng_row_hash(key))], r, t, diff);
}

static void
feed_flush(feeder *f)
{
    if (f->cur->n > 0) {
        eng_df_send_keyed(f->c, f->df, f->in, f->cur, f->key_ncols);
        f->cur = eng_client_batch(f->c);
    }
    for (int w = 0; w < f->W; w++) {
        if (f->part[w]->n > 0) {
            eng_df_send_to(f->c, f->df, f->in, w, f->part[w], f->key_ncols);
            f->part[w] = eng_client_batch(f->c);
        }
    }
}

static void
feed_truncate(feeder *f, eng_time t)
{
    eng_rowbuf rb = {0};
    for (int i = 0; i < f->trunc_ncols; i++)
        eng_push_null(&rb);
    eng_push_int2(&rb, 7);
    if (!f->partition)
        feed_flush(f);
    for (int w = 0; w < f->W; w++) {
        if (f->partition) {
            eng_batch_push(f->part[w], eng_rowbuf_row(&rb), t, 1);
            continue;
        }
        eng_batch *b = eng_client_batch(f->c);
        eng_batch_push(b, eng_rowbuf_row(&rb), t, 1);
        eng_df_send_to(f->c, f->df, f->in, w, b, f->key_ncols);
    }
    eng_rowbuf_free(&rb);
}

/* ------------------------------------------------------------------ values */

#define NKEYS 12
#define VCOLS 2
#define V_NULL INT64_MIN

/* Pushes value datums v0 (int8, V_NULL = NULL) and v1 (text, NULL = NULL). */
static void
push_val(eng_rowbuf *rb, int64_t v0, const char *v1)
{
    if (v0 == V_NULL)
        eng_push_null(rb);
    else
        eng_push_int8(rb, v0);
    if (v1 == NULL)
        eng_push_null(rb);
    else
        eng_push_text(rb, v1, (uint32_t)strlen(v1));
}

static void
push_rand_val(uint64_t *seed, eng_rowbuf *rb)
{
    static const char *txt[] = {"", "a", "bb", "a somewhat longer text value"};
    uint64_t x = t_rand(seed) % 5, y = t_rand(seed) % 5;
    push_val(rb, x == 0 ? V_NULL : (int64_t)x, y == 4 ? NULL : txt[y]);
}

/* The byte span of datum i of r. */
static eng_row
datum_at(eng_row r, int i)
{
    uint32_t off = eng_row_col_offset(r, i);
    return (eng_row){r.data + off, eng_datum_size_at(r.data + off)};
}

/* ------------------------------------------------------------------ the oracle and generator */

typedef struct cgen {
    op_arrange_cdc mode;
    uint64_t seed;
    /* UPSERT: key k (int8) -> value (VCOLS datums) */
    bool present[NKEYS];
    eng_rowbuf val[NKEYS];
    /* BAG: rows (a int8, b int8 or NULL) with counts */
    t_mset bag;
    /* coverage: what the stream exercised */
    long upserts, masked, same, deletes, absent_deletes, truncates, ignored;
} cgen;

static void
cgen_init(cgen *g, op_arrange_cdc mode, uint64_t seed)
{
    memset(g, 0, sizeof *g);
    g->mode = mode;
    g->seed = seed;
    t_mset_init(&g->bag);
}

static void
cgen_free(cgen *g)
{
    for (int k = 0; k < NKEYS; k++)
        eng_rowbuf_free(&g->val[k]);
    t_mset_free(&g->bag);
}

/* The collection the oracle holds now, as key ++ value rows. */
static eng_batch *
cgen_expect(const cgen *g)
{
    eng_batch *out = calloc(1, sizeof *out);
    if (g->mode == OP_ARRANGE_BAG) {
        for (uint32_t i = 0; i < g->bag.b->n; i++)
            if (g->bag.b->upd[i].diff != 0)
                eng_batch_push(out, eng_batch_row(g->bag.b, i), 0, g->bag.b->upd[i].diff);
        return out;
    }
    eng_rowbuf rb = {0};
    for (int k = 0; k < NKEYS; k++) {
        if (!g->present[k])
            continue;
        eng_rowbuf_reset(&rb);
        eng_push_int8(&rb, k);
        eng_push_row(&rb, eng_rowbuf_row(&g->val[k]));
        eng_batch_push(out, eng_rowbuf_row(&rb), 0, 1);
    }
    eng_rowbuf_free(&rb);
    return out;
}

/* One UPSERT-mode command at t into f (or a truncate through f). */
static void
gen_upsert_cmd(cgen *g, feeder *f, eng_time t, eng_rowbuf *rb)
{
    uint64_t r = t_rand(&g->seed) % 100;
    int64_t k = (int64_t)(t_rand(&g->seed) % NKEYS);
    eng_rowbuf_reset(rb);
    if (r < 2) {
        feed_truncate(f, t);
        for (int i = 0; i < NKEYS; i++)
            g->present[i] = false;
        g->truncates++;
        return;
    }
    eng_push_int8(rb, k);
    if (r < 7) { /* commands to ignore */
        int64_t diff = 1;
        switch (t_rand(&g->seed) % 4) {
        case 0: /* a diff that is no command */
            push_rand_val(&g->seed, rb);
            eng_push_null(rb);
            diff = t_rand(&g->seed) % 2 ? 2 : -2;
            break;
        case 1: /* meta of another type */
            push_rand_val(&g->seed, rb);
            eng_push_text(rb, "x", 1);
            break;
        case 2: /* too few datums */
            eng_push_int8(rb, 1);
            eng_push_null(rb);
            break;
        default: /* too many datums */
            push_rand_val(&g->seed, rb);
            eng_push_int8(rb, 1);
            eng_push_null(rb);
            break;
        }
        feed_cmd(f, eng_rowbuf_row(rb), t, diff);
        g->ignored++;
        return;
    }
    if (r < 27) { /* delete: value and meta are anything */
        push_rand_val(&g->seed, rb);
        switch (t_rand(&g->seed) % 3) {
        case 0:
            eng_push_null(rb);
            break;
        case 1:
            eng_push_var(rb, ENG_TAG_BYTES, "\x03", 1);
            break;
        default:
            eng_push_int2(rb, 1); /* INT2 with diff -1 is a delete, not a truncate */
            break;
        }
        feed_cmd(f, eng_rowbuf_row(rb), t, -1);
        g->deletes++;
        g->absent_deletes += !g->present[k];
        g->present[k] = false;
        return;
    }
    /* upsert, maybe with an unchanged-columns mask */
    push_rand_val(&g->seed, rb);
    eng_row cv = {eng_rowbuf_row(rb).data + 9, eng_rowbuf_row(rb).len - 9};
    uint8_t mask[2] = {0, 0};
    int mlen = -1; /* -1: meta NULL */
    if (t_rand(&g->seed) % 100 < 35) {
        mlen = (int)(t_rand(&g->seed) % 3);
        mask[0] = (uint8_t)t_rand(&g->seed); /* bits past VCOLS must not matter */
        mask[1] = (uint8_t)t_rand(&g->seed);
    }
    eng_rowbuf nv = {0};
    bool any = false;
    for (int i = 0; i < VCOLS; i++) {
        bool bit = mlen > i / 8 && (mask[i / 8] >> (i % 8)) & 1;
        any |= bit;
        if (bit && !g->present[k])
            eng_push_null(&nv);
        else
            eng_push_row(&nv, datum_at(bit ? eng_rowbuf_row(&g->val[k]) : cv, i));
    }
    if (mlen < 0)
        eng_push_null(rb);
    else
        eng_push_var(rb, ENG_TAG_BYTES, mask, (uint32_t)mlen);
    feed_cmd(f, eng_rowbuf_row(rb), t, 1);
    g->upserts++;
    g->masked += any;
    g->same += g->present[k] && eng_row_eq(eng_rowbuf_row(&nv), eng_rowbuf_row(&g->val[k]));
    g->present[k] = true;
    eng_rowbuf_reset(&g->val[k]);
    eng_push_row(&g->val[k], eng_rowbuf_row(&nv));
    eng_rowbuf_free(&nv);
}

/* One BAG-mode command at t. */
static void
gen_bag_cmd(cgen *g, feeder *f, eng_time t, eng_rowbuf *rb)
{
    uint64_t r = t_rand(&g->seed) % 100;
    eng_rowbuf_reset(rb);
    if (r < 2) {
        feed_truncate(f, t);
        t_mset_free(&g->bag);
        t_mset_init(&g->bag);
        g->truncates++;
        return;
    }
    eng_batch *st = g->bag.b;
    if (r < 35 && st->n > 0) { /* retract (part of) a present row */
        uint32_t j = (uint32_t)(t_rand(&g->seed) % st->n);
        int64_t have = st->upd[j].diff;
        if (have > 0) {
            int64_t d = 1 + (int64_t)(t_rand(&g->seed) % (uint64_t)have);
            eng_push_row(rb, eng_batch_row(st, j));
            eng_push_null(rb);
            feed_cmd(f, eng_rowbuf_row(rb), t, -d);
            eng_row row = {eng_rowbuf_row(rb).data, eng_rowbuf_row(rb).len - 1};
            t_mset_add(&g->bag, row, -d);
            g->deletes++;
            return;
        }
    }
    eng_push_int8(rb, (int64_t)(t_rand(&g->seed) % 4));
    uint64_t b = t_rand(&g->seed) % 4;
    if (b == 3)
        eng_push_null(rb);
    else
        eng_push_int8(rb, (int64_t)b);
    eng_row row = eng_rowbuf_row(rb);
    if (r < 42) { /* commands to ignore */
        int64_t diff = 1;
        switch (t_rand(&g->seed) % 4) {
        case 0:
            eng_push_int2(rb, 0); /* INT2 with diff != +1 */
            diff = -1;
            break;
        case 1:
            eng_push_int2(rb, 0);
            diff = 2;
            break;
        case 2:
            eng_push_var(rb, ENG_TAG_BYTES, "", 0); /* BYTES meta: no BAG command */
            break;
        default:
            eng_push_null(rb);
            diff = 0;
            break;
        }
        feed_cmd(f, eng_rowbuf_row(rb), t, diff);
        g->ignored++;
        return;
    }
    int64_t d = 1 + (int64_t)(t_rand(&g->seed) % 3);
    t_mset_add(&g->bag, row, d);
    eng_push_null(rb);
    feed_cmd(f, eng_rowbuf_row(rb), t, d);
    g->upserts++;
}

/* n random commands at time t, sent in a few batches. */
static void
cgen_step(cgen *g, feeder *f, eng_time t, int n)
{
    eng_rowbuf rb = {0};
    for (int i = 0; i < n; i++) {
        if (g->mode == OP_ARRANGE_BAG)
            gen_bag_cmd(g, f, t, &rb);
        else
            gen_upsert_cmd(g, f, t, &rb);
        if (t_rand(&g->seed) % 8 == 0) {
            feed_flush(f);
            f->partition = t_rand(&g->seed) % 2;
        }
    }
    feed_flush(f);
    eng_rowbuf_free(&rb);
}

/* ------------------------------------------------------------------ random driver */

static op_arrange_params *
cdc_params(op_arrange_cdc mode, int key_ncols, int val_ncols)
{
    op_arrange_params *ap = calloc(1, sizeof *ap);
    ap->key_ncols = key_ncols;
    ap->cdc = mode;
    ap->val_ncols = val_ncols;
    return ap;
}

static void
peek_check(eng_client *c, eng_df *df, int node, eng_time t, const eng_row *key,
           const eng_batch *want, const char *what)
{
    eng_batch *got;
    eng_time at;
    eng_err err;
    eng_err_clear(&err);
    int rc = eng_df_peek(c, df, node, t, key, &got, &at, &err);
    if (rc != 0)
        fprintf(stderr, "%s: peek failed: %s\n", what, err.message);
    assert_int_equal(rc, 0);
    assert_true(t_same(what, got, want));
    eng_batch_free(got);
}

/* The rows of want that start with key's bytes. */
static eng_batch *
filter_key(const eng_batch *want, eng_row key)
{
    eng_batch *wk = calloc(1, sizeof *wk);
    for (uint32_t k = 0; k < want->n; k++) {
        eng_row r = eng_batch_row(want, k);
        if (r.len >= key.len && memcmp(r.data, key.data, key.len) == 0)
            eng_batch_push(wk, r, 0, want->upd[k].diff);
    }
    return wk;
}

static void
run_random(op_arrange_cdc mode, int W, uint64_t seed, int T, int per_step)
{
    const char *name = mode == OP_ARRANGE_BAG ? "bag" : "upsert";
    int kc = mode == OP_ARRANGE_BAG ? 2 : 1;
    eng_rt *rt;
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_rt_start(&rt, topo, W, &err), 0);
    eng_client *c = eng_client_new(rt);
    eng_plan *p = eng_plan_new();
    int in = eng_plan_input(p, "cmds");
    int arr = eng_plan_node(p, "arrange", op_arrange_make,
                            cdc_params(mode, kc, mode == OP_ARRANGE_BAG ? 0 : VCOLS), free, 1);
    eng_plan_edge(p, in, arr, 0, kc);
    eng_sub *sub;
    eng_plan_subscribe(p, arr, c, &sub);
    eng_df *df = eng_df_install(c, p);
    feeder f;
    feed_open(&f, rt, c, df, in, kc, mode == OP_ARRANGE_BAG ? 2 : 1 + VCOLS);
    cgen g;
    cgen_init(&g, mode, seed);
    t_mset subacc;
    t_mset_init(&subacc);

    /* The importing dataflow, installed a third of the way in. */
    eng_df *B = NULL;
    int arrB = -1;
    eng_time as_of = 0;

    eng_batch **wants = calloc((size_t)T + 1, sizeof *wants);
    eng_time hold = 0;
    assert_int_equal(eng_df_hold(df, arr, hold, &err), 0);
    cgen_step(&g, &f, 0, per_step);
    wants[0] = cgen_expect(&g);
    char what[160];
    for (int t = 0; t < T; t++) {
        eng_time t1 = (eng_time)t + 1;
        int n = t_rand(&g.seed) % 7 == 0 ? 0 : 1 + (int)(t_rand(&g.seed) % (uint64_t)per_step);
        /* Usually the next time's commands arrive before the frontier
         * passes this one (the arrangement holds them in its future). */
        if (t_rand(&g.seed) % 3 != 0) {
            cgen_step(&g, &f, t1, n);
            eng_df_advance(c, df, in, t1);
        } else {
            eng_df_advance(c, df, in, t1);
            cgen_step(&g, &f, t1, n);
        }
        wants[t1] = cgen_expect(&g);

        snprintf(what, sizeof what, "%s W=%d seed %llu: peek at t=%d", name, W,
                 (unsigned long long)seed, t);
        peek_check(c, df, arr, (eng_time)t, NULL, wants[t], what);
        if ((eng_time)t > hold) {
            eng_time back = hold + t_rand(&g.seed) % ((eng_time)t - hold);
            snprintf(what, sizeof what, "%s W=%d seed %llu: peek back at t=%llu (now %d)", name, W,
                     (unsigned long long)seed, (unsigned long long)back, t);
            peek_check(c, df, arr, back, NULL, wants[back], what);
        }
        { /* one key */
            eng_rowbuf kb = {0};
            eng_push_int8(&kb, (int64_t)(t_rand(&g.seed) % (mode == OP_ARRANGE_BAG ? 4 : NKEYS)));
            if (mode == OP_ARRANGE_BAG) {
                uint64_t b = t_rand(&g.seed) % 4;
                if (b == 3)
                    eng_push_null(&kb);
                else
                    eng_push_int8(&kb, (int64_t)b);
            }
            eng_row key = eng_rowbuf_row(&kb);
            eng_batch *wk = filter_key(wants[t], key);
            snprintf(what, sizeof what, "%s W=%d seed %llu: key peek at t=%d", name, W,
                     (unsigned long long)seed, t);
            peek_check(c, df, arr, (eng_time)t, &key, wk, what);
            eng_batch_free(wk);
            eng_rowbuf_free(&kb);
        }
        /* The output stream, accumulated, is the same collection. */
        eng_time sf = 0;
        while (sf <= (eng_time)t) {
            eng_batch *sb;
            eng_err_clear(&err);
            assert_int_equal(eng_sub_next(sub, 10000, &sb, &sf, &err), 0);
            for (uint32_t k = 0; k < sb->n; k++)
                t_mset_add(&subacc, eng_batch_row(sb, k), sb->upd[k].diff);
            eng_batch_free(sb);
        }
        assert_true(sf == t1);
        snprintf(what, sizeof what, "%s W=%d seed %llu: subscription at t=%d", name, W,
                 (unsigned long long)seed, t);
        assert_true(t_same(what, subacc.b, wants[t]));
        /* Another dataflow imports the arrangement: it sees plain updates. */
        if (t == T / 3) {
            eng_plan *pb = eng_plan_new();
            int imp = op_import_add(pb, c, df, arr, &as_of, &err);
            assert_true(imp >= 0);
            arrB = eng_plan_node(pb, "arrange", op_arrange_make,
                                 cdc_params(OP_ARRANGE_PLAIN, kc, 0), free, 1);
            eng_plan_edge(pb, imp, arrB, 0, -1);
            B = eng_df_install(c, pb);
            op_import_ready(c, B, imp, df, arr, as_of);
            assert_true(as_of <= (eng_time)t);
            snprintf(what, sizeof what, "%s W=%d seed %llu: import peek at as_of=%llu", name, W,
                     (unsigned long long)seed, (unsigned long long)as_of);
            peek_check(c, B, arrB, as_of, NULL, wants[as_of], what);
        }
        if (B != NULL) {
            snprintf(what, sizeof what, "%s W=%d seed %llu: import peek at t=%d", name, W,
                     (unsigned long long)seed, t);
            peek_check(c, B, arrB, (eng_time)t, NULL, wants[t], what);
        }
        /* Slide the hold so compaction runs while reads back stay possible. */
        if ((eng_time)t > hold + 4) {
            eng_time nh = (eng_time)t - 3;
            eng_err_clear(&err);
            assert_int_equal(eng_df_hold(df, arr, nh, &err), 0);
            eng_df_release(df, arr, hold);
            hold = nh;
        }
    }
    eng_df_release(df, arr, hold);
    if (getenv("SLUICE_VERBOSE"))
        fprintf(stderr,
                "%s W=%d seed %llu: %ld upserts (%ld masked, %ld unchanged), %ld deletes (%ld "
                "absent), %ld truncates, %ld ignored\n",
                name, W, (unsigned long long)seed, g.upserts, g.masked, g.same, g.deletes,
                g.absent_deletes, g.truncates, g.ignored);
    /* The stream covered what it is meant to. */
    assert_true(g.truncates > 0 && g.ignored > 0 && g.deletes > 0);
    if (mode == OP_ARRANGE_UPSERT)
        assert_true(g.masked > 0 && g.same > 0 && g.absent_deletes > 0);
    for (int t = 0; t <= T; t++)
        eng_batch_free(wants[t]);
    free(wants);
    feed_close(&f);
    if (B != NULL)
        eng_df_drop(c, B);
    eng_df_drop(c, df);
    t_mset_free(&subacc);
    cgen_free(&g);
    eng_client_free(c);
    eng_rt_stop(rt);
}

static void
test_upsert_random(void **st)
{
    (void)st;
    for (int W = 1; W <= 2; W++)
        for (uint64_t k = 0; k < 3; k++)
            run_random(OP_ARRANGE_UPSERT, W, base_seed + k, 100, 40);
}

static void
test_bag_random(void **st)
{
    (void)st;
    for (int W = 1; W <= 2; W++)
        for (uint64_t k = 0; k < 3; k++)
            run_random(OP_ARRANGE_BAG, W, base_seed + 100 + k, 100, 40);
}

/* ------------------------------------------------------------------ hand-written cases */

typedef struct hx {
    eng_rt *rt;
    eng_client *c;
    eng_df *df;
    int in, arr;
    eng_sub *sub;
    feeder f;
    eng_rowbuf rb;
} hx;

/* partition: the feeder routes commands itself, truncates share batches. */
static void
hx_open(hx *h, int W, op_arrange_cdc mode, bool partition)
{
    memset(h, 0, sizeof *h);
    int kc = mode == OP_ARRANGE_BAG ? 2 : 1;
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_rt_start(&h->rt, topo, W, &err), 0);
    h->c = eng_client_new(h->rt);
    eng_plan *p = eng_plan_new();
    h->in = eng_plan_input(p, "cmds");
    h->arr = eng_plan_node(p, "arrange", op_arrange_make,
                           cdc_params(mode, kc, mode == OP_ARRANGE_BAG ? 0 : VCOLS), free, 1);
    eng_plan_edge(p, h->in, h->arr, 0, kc);
    eng_plan_subscribe(p, h->arr, h->c, &h->sub);
    h->df = eng_df_install(h->c, p);
    /* Keep all history: reads back, and no compaction in the records check. */
    assert_int_equal(eng_df_hold(h->df, h->arr, 0, &err), 0);
    feed_open(&h->f, h->rt, h->c, h->df, h->in, kc, mode == OP_ARRANGE_BAG ? 2 : 1 + VCOLS);
    h->f.partition = partition;
}

static void
hx_close(hx *h)
{
    eng_df_release(h->df, h->arr, 0);
    feed_close(&h->f);
    eng_df_drop(h->c, h->df);
    eng_client_free(h->c);
    eng_rt_stop(h->rt);
    eng_rowbuf_free(&h->rb);
}

enum { M_NULL = -1, M_INT2 = -2, M_TEXT = -3, M_TRUE = -4 }; /* else: a one-byte BYTES mask */

/* An UPSERT command: key ++ (v0, v1) ++ meta. */
static void
hx_up(hx *h, eng_time t, int64_t diff, int64_t key, int64_t v0, const char *v1, int meta)
{
    eng_rowbuf_reset(&h->rb);
    eng_push_int8(&h->rb, key);
    push_val(&h->rb, v0, v1);
    if (meta == M_NULL)
        eng_push_null(&h->rb);
    else if (meta == M_INT2)
        eng_push_int2(&h->rb, 0);
    else if (meta == M_TEXT)
        eng_push_text(&h->rb, "?", 1);
    else if (meta == M_TRUE)
        eng_push_bool(&h->rb, true);
    else {
        uint8_t m = (uint8_t)meta;
        eng_push_var(&h->rb, ENG_TAG_BYTES, &m, 1);
    }
    feed_cmd(&h->f, eng_rowbuf_row(&h->rb), t, diff);
}

/* A BAG command: (a, b) ++ meta. */
static void
hx_bag(hx *h, eng_time t, int64_t diff, int64_t a, int64_t b, int meta)
{
    eng_rowbuf_reset(&h->rb);
    eng_push_int8(&h->rb, a);
    eng_push_int8(&h->rb, b);
    if (meta == M_INT2)
        eng_push_int2(&h->rb, 0);
    else
        eng_push_null(&h->rb);
    feed_cmd(&h->f, eng_rowbuf_row(&h->rb), t, diff);
}

static void
hx_advance(hx *h, eng_time t)
{
    feed_flush(&h->f);
    eng_df_advance(h->c, h->df, h->in, t);
}

/* Expected rows: key ++ (v0, v1) with diff 1, or (a, b) with a count. */
static void
want_up(eng_batch *w, int64_t key, int64_t v0, const char *v1)
{
    eng_rowbuf rb = {0};
    eng_push_int8(&rb, key);
    push_val(&rb, v0, v1);
    eng_batch_push(w, eng_rowbuf_row(&rb), 0, 1);
    eng_rowbuf_free(&rb);
}

static void
want_bag(eng_batch *w, int64_t a, int64_t b, int64_t n)
{
    eng_rowbuf rb = {0};
    eng_push_int8(&rb, a);
    eng_push_int8(&rb, b);
    eng_batch_push(w, eng_rowbuf_row(&rb), 0, n);
    eng_rowbuf_free(&rb);
}

static void
hx_check(hx *h, eng_time t, eng_batch *want, const char *what)
{
    peek_check(h->c, h->df, h->arr, t, NULL, want, what);
    eng_batch_free(want);
}

/* The subscription's updates up to frontier `upto`, consolidated. */
static eng_batch *
hx_sub(hx *h, eng_time upto)
{
    eng_batch *acc = calloc(1, sizeof *acc);
    eng_time f = 0;
    while (f < upto) {
        eng_batch *sb;
        eng_err err;
        eng_err_clear(&err);
        assert_int_equal(eng_sub_next(h->sub, 10000, &sb, &f, &err), 0);
        for (uint32_t k = 0; k < sb->n; k++)
            eng_batch_push(acc, eng_batch_row(sb, k), sb->upd[k].time, sb->upd[k].diff);
        eng_batch_free(sb);
    }
    eng_batch_consolidate(acc);
    return acc;
}

static eng_batch *
wnew(void)
{
    return calloc(1, sizeof(eng_batch));
}

/* Snapshot inserts (meta TRUE: the key is known absent) apply without a
 * lookup, in runs, and later commands see them like any upsert's row. */
static void
test_upsert_snapshot_inserts(void **st)
{
    (void)st;
    for (int v = 0; v < 4; v++) {
        hx h;
        hx_open(&h, 1 + v / 2, OP_ARRANGE_UPSERT, v % 2);
        for (int k = 1; k <= 50; k++)
            hx_up(&h, 0, 1, k, k * 10, "s", M_TRUE);
        /* In the same batch: an update and a delete of snapshot keys, then
         * more snapshot inserts after them. */
        hx_up(&h, 0, 1, 3, 33, NULL, 0x2); /* v1 unchanged: 's' */
        hx_up(&h, 0, -1, 4, V_NULL, NULL, M_NULL);
        hx_up(&h, 0, 1, 60, 600, "late", M_TRUE);
        hx_advance(&h, 1);
        eng_batch *w = wnew();
        for (int k = 1; k <= 50; k++)
            if (k != 3 && k != 4)
                want_up(w, k, k * 10, "s");
        want_up(w, 3, 33, "s");
        want_up(w, 60, 600, "late");
        hx_check(&h, 0, w, "snapshot inserts then changes");
        hx_close(&h);
    }
}

static void
test_upsert_cases(void **st)
{
    (void)st;
    for (int v = 0; v < 4; v++) {
        hx h;
        hx_open(&h, 1 + v / 2, OP_ARRANGE_UPSERT, v % 2);
        /* t0: insert then update the same key at the same time, in one
         * batch and across two batches. */
        hx_up(&h, 0, 1, 1, 10, "a", M_NULL);
        hx_up(&h, 0, 1, 1, 11, "b", M_NULL);
        hx_up(&h, 0, 1, 2, 20, "x", M_NULL);
        feed_flush(&h.f);
        hx_up(&h, 0, 1, 2, 21, "y", M_NULL);
        hx_up(&h, 0, 1, 3, 30, "c", M_NULL);
        hx_up(&h, 0, -1, 3, V_NULL, NULL, M_NULL); /* inserted and deleted at t0 */
        hx_advance(&h, 1);
        eng_batch *w = wnew();
        want_up(w, 1, 11, "b");
        want_up(w, 2, 21, "y");
        hx_check(&h, 0, w, "insert then update at one time");
        /* The stream shows only the net rows, never the intermediate ones. */
        eng_batch *s = hx_sub(&h, 1);
        assert_int_equal(s->n, 2);
        assert_true(s->upd[0].diff == 1 && s->upd[1].diff == 1);
        eng_batch_free(s);

        /* t1: masks fill unchanged columns from the old row; with no old
         * row a masked column is NULL; bits past the value columns and a
         * mask with no bit set change nothing. */
        hx_up(&h, 1, 1, 1, 99, NULL, 0x2);           /* v1 unchanged: 'b' */
        hx_up(&h, 1, 1, 2, V_NULL, "z", 0x1 | 0xf0); /* v0 unchanged: 21 */
        hx_up(&h, 1, 1, 4, 40, "new", 0x1);          /* no old row: v0 NULL */
        hx_up(&h, 1, 1, 5, 50, "e", 0x0);
        hx_advance(&h, 2);
        w = wnew();
        want_up(w, 1, 99, "b");
        want_up(w, 2, 21, "z");
        want_up(w, 4, V_NULL, "new");
        want_up(w, 5, 50, "e");
        hx_check(&h, 1, w, "masked upserts");

        /* t2: delete of absent keys (never seen; deleted before) changes
         * nothing; a delete's value and meta do not matter. */
        hx_up(&h, 2, -1, 7, 1, "whatever", M_NULL);
        hx_up(&h, 2, -1, 3, V_NULL, NULL, 0x3);
        hx_up(&h, 2, -1, 5, 0, "not the value", M_INT2);
        hx_advance(&h, 3);
        w = wnew();
        want_up(w, 1, 99, "b");
        want_up(w, 2, 21, "z");
        want_up(w, 4, V_NULL, "new");
        hx_check(&h, 2, w, "deletes of absent keys");

        /* t3: truncate, then insert, at the same time. */
        hx_up(&h, 3, 1, 9, 90, "before", M_NULL);
        feed_truncate(&h.f, 3);
        hx_up(&h, 3, 1, 1, 100, "after", M_NULL);
        hx_up(&h, 3, 1, 4, 4, NULL, 0x2); /* truncated: the mask finds no old row */
        hx_advance(&h, 4);
        w = wnew();
        want_up(w, 1, 100, "after");
        want_up(w, 4, 4, NULL);
        hx_check(&h, 3, w, "truncate then insert");
        w = wnew(); /* the history before the truncate is intact */
        want_up(w, 1, 99, "b");
        want_up(w, 2, 21, "z");
        want_up(w, 4, V_NULL, "new");
        hx_check(&h, 2, w, "read back before the truncate");

        /* t4: ignored commands change nothing and crash nothing. */
        hx_up(&h, 4, 2, 1, 0, "diff 2", M_NULL);
        hx_up(&h, 4, 0, 1, 0, "diff 0", M_NULL);
        hx_up(&h, 4, 1, 1, 0, "text meta", M_TEXT);
        hx_up(&h, 4, -3, 1, 0, "diff -3", M_NULL);
        eng_rowbuf_reset(&h.rb);
        eng_push_int8(&h.rb, 1);
        eng_push_null(&h.rb); /* one value column short */
        feed_cmd(&h.f, eng_rowbuf_row(&h.rb), 4, 1);
        hx_advance(&h, 5);
        w = wnew();
        want_up(w, 1, 100, "after");
        want_up(w, 4, 4, NULL);
        hx_check(&h, 4, w, "ignored commands");

        /* t5, t6: a command older than one applied is applied at the
         * newest time (both sent before the frontier passes 5). */
        hx_up(&h, 6, 1, 1, 6, "six", M_NULL);
        hx_up(&h, 5, 1, 1, 5, "five", M_NULL);
        hx_advance(&h, 7);
        w = wnew();
        want_up(w, 1, 100, "after");
        want_up(w, 4, 4, NULL);
        hx_check(&h, 5, w, "an older command waits for the newest time");
        w = wnew();
        want_up(w, 1, 5, "five");
        want_up(w, 4, 4, NULL);
        hx_check(&h, 6, w, "applied in arrival order");

        /* The stream up to here, consolidated, is the final collection. */
        s = hx_sub(&h, 7);
        eng_batch *all = calloc(1, sizeof *all);
        for (uint32_t i = 0; i < s->n; i++) /* plus what t0 returned */
            eng_batch_push(all, eng_batch_row(s, i), 0, s->upd[i].diff);
        want_up(all, 1, 11, "b");
        want_up(all, 2, 21, "y");
        w = wnew();
        want_up(w, 1, 5, "five");
        want_up(w, 4, 4, NULL);
        assert_true(t_same("upsert stream", all, w));
        eng_batch_free(all);
        eng_batch_free(w);
        eng_batch_free(s);
        hx_close(&h);
    }
}

/* An upsert that does not change the row adds nothing to the arrangement:
 * with history held (no compaction), each update is one record. */
static void
test_upsert_unchanged(void **st)
{
    (void)st;
    hx h;
    hx_open(&h, 1, OP_ARRANGE_UPSERT, false);
    hx_up(&h, 0, 1, 1, 10, "a", M_NULL);
    hx_advance(&h, 1);
    hx_up(&h, 1, 1, 1, 10, "a", M_NULL);
    hx_up(&h, 1, 1, 1, 77, "zz", 0x3); /* both columns unchanged */
    hx_advance(&h, 2);
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_df_wait(h.c, h.df, h.arr, 1, 10000, &err), 0);
    assert_int_equal(eng_df_records(h.df, h.arr), 1);
    eng_batch *w = wnew();
    want_up(w, 1, 10, "a");
    hx_check(&h, 1, w, "unchanged upserts");
    hx_close(&h);
}

static void
test_bag_cases(void **st)
{
    (void)st;
    for (int v = 0; v < 4; v++) {
        hx h;
        hx_open(&h, 1 + v / 2, OP_ARRANGE_BAG, v % 2);
        hx_bag(&h, 0, 2, 1, 1, M_NULL);
        hx_bag(&h, 0, 1, 2, 2, M_NULL);
        hx_bag(&h, 0, -1, 1, 1, M_NULL);
        hx_bag(&h, 0, 3, 3, 3, M_NULL);
        hx_advance(&h, 1);
        eng_batch *w = wnew();
        want_bag(w, 1, 1, 1);
        want_bag(w, 2, 2, 1);
        want_bag(w, 3, 3, 3);
        hx_check(&h, 0, w, "bag updates");
        /* t1: truncate retracts every count; then inserts at the same time. */
        hx_bag(&h, 1, 1, 3, 3, M_NULL);
        feed_truncate(&h.f, 1);
        hx_bag(&h, 1, 2, 3, 3, M_NULL);
        hx_bag(&h, 1, 1, 4, 4, M_NULL);
        hx_bag(&h, 1, -1, 4, 4, M_INT2); /* INT2 with diff -1: ignored */
        hx_advance(&h, 2);
        w = wnew();
        want_bag(w, 3, 3, 2);
        want_bag(w, 4, 4, 1);
        hx_check(&h, 1, w, "bag truncate then insert");
        w = wnew();
        want_bag(w, 1, 1, 1);
        want_bag(w, 2, 2, 1);
        want_bag(w, 3, 3, 3);
        hx_check(&h, 0, w, "bag read back");
        eng_batch *s = hx_sub(&h, 2);
        w = wnew();
        want_bag(w, 3, 3, 2);
        want_bag(w, 4, 4, 1);
        assert_true(t_same("bag stream", s, w));
        eng_batch_free(s);
        eng_batch_free(w);
        hx_close(&h);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upsert_cases),     cmocka_unit_test(test_upsert_snapshot_inserts),
        cmocka_unit_test(test_upsert_unchanged), cmocka_unit_test(test_bag_cases),
        cmocka_unit_test(test_upsert_random),    cmocka_unit_test(test_bag_random),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
