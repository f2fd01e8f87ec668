/* sluice-bench core: dataflow engine throughput and latency, against a plain
 * single-threaded C loop over the same updates, measured in the same run.
 *
 *   sluice-bench core [--workers N]... [--keys K] [--batch B]... [--seconds S]
 *                     [--case NAME]...
 *
 * Cases (the `bench` field): count_by_key, sum_avg_by_key, join_count, topk_per_group.
 * Updates are generated in memory before timing (the generator is not
 * measured). After a warm-up that inserts every key, half of the measured
 * updates retract an earlier insert. Each case checks its final answer
 * against the plain loop's (exit 1 on mismatch). One JSON object per line. */
#include "bench/bench.h"
#include "engine/core/eng_numeric.h"
#include "engine/core/eng_log.h"
#include "engine/runtime/eng_rt.h"
#include "operators/op_join.h"
#include "operators/op_project.h"
#include "operators/op_reduce.h"
#include "operators/op_topk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Timestamps the driver keeps in flight (sent but not yet past the output
 * frontier): a pipeline deep enough to keep every worker busy. */
static int INFLIGHT = 4;
static bool inflight_set; /* --inflight given; else 4 for throughput runs, 2 for latency runs */

typedef struct opts {
    int workers[8];
    int nworkers;
    int64_t keys;
    int batches[8];
    int nbatches;
    double seconds;
    const char *cases[8];
    int ncases;
} opts;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The client polls frontiers; a short sleep keeps it off the workers' cores
 * (10 us is well below the latencies measured). */
static void
nap(void)
{
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
}

static uint64_t
rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ------------------------------------------------------------------ workloads */

/* A pre-generated stream: warm-up batches then measured batches, one
 * timestamp per batch. Rows are [k int8] or [k int8][v int8]. */
typedef struct stream {
    eng_batch **b; /* n batches, or n * parts once partitioned */
    int n, nwarm;
    int parts; /* 0: not partitioned */
    int64_t measured_updates;
} stream;

static void
stream_free(stream *s)
{
    for (int i = 0; i < s->n * (s->parts ? s->parts : 1); i++)
        eng_batch_free(s->b[i]);
    free(s->b);
}

/* Keyed stream: warm-up inserts every key once (random order); then
 * `total` updates, half inserts of random keys, half retractions of an
 * earlier insert (sampled from a ring of live inserts). with_val adds a
 * value column. */
static stream
gen_keyed(int64_t keys, int batch, int64_t total, bool with_val, uint64_t seed)
{
    stream s = {0};
    int nb_warm = (int)((keys + batch - 1) / batch);
    int nb = nb_warm + (int)((total + batch - 1) / batch);
    s.b = calloc((size_t)nb, sizeof *s.b);
    s.nwarm = nb_warm;
    int64_t ring_cap = keys + total;
    int64_t *ring_k = malloc((size_t)ring_cap * sizeof *ring_k);
    int64_t *ring_v = malloc((size_t)ring_cap * sizeof *ring_v);
    int64_t live = 0;
    eng_rowbuf rb = {0};
    int64_t emitted = 0;
    for (int i = 0; i < nb; i++) {
        eng_batch *b = calloc(1, sizeof *b);
        s.b[i] = b;
        eng_time t = (eng_time)i;
        for (int j = 0; j < batch; j++) {
            int64_t k, v = 0;
            int64_t diff = 1;
            if (i < nb_warm) {
                int64_t idx = (int64_t)i * batch + j;
                if (idx >= keys)
                    break;
                /* a permutation of 0..keys-1 via an odd multiplier */
                k = (int64_t)(((uint64_t)idx * 0x9e3779b97f4a7c15ull) % (uint64_t)keys);
                v = (int64_t)(rnd(&seed) % 1000);
            } else {
                if (emitted >= total)
                    break;
                emitted++;
                if (live > 0 && (rnd(&seed) & 1)) {
                    int64_t r = (int64_t)(rnd(&seed) % (uint64_t)live);
                    k = ring_k[r];
                    v = ring_v[r];
                    ring_k[r] = ring_k[live - 1];
                    ring_v[r] = ring_v[live - 1];
                    live--;
                    diff = -1;
                } else {
                    k = (int64_t)(rnd(&seed) % (uint64_t)keys);
                    v = (int64_t)(rnd(&seed) % 1000);
                }
            }
            if (diff > 0) {
                ring_k[live] = k;
                ring_v[live] = v;
                live++;
            }
            eng_rowbuf_reset(&rb);
            eng_push_int8(&rb, k);
            if (with_val)
                eng_push_int8(&rb, v);
            eng_batch_push(b, eng_rowbuf_row(&rb), t, diff);
        }
    }
    s.n = nb;
    s.measured_updates = total;
    eng_rowbuf_free(&rb);
    free(ring_k);
    free(ring_v);
    return s;
}

static inline int64_t
row_int(eng_row r, int col)
{
    uint32_t pos = eng_row_col_offset(r, col);
    return eng_load_i64(r.data + pos + 1);
}

/* ------------------------------------------------------------------ the plain C loop */

typedef struct pmap {
    int64_t *k;
    int64_t *a, *c;
    uint64_t mask;
} pmap;

static void
pmap_init(pmap *m, int64_t keys)
{
    uint64_t cap = 1;
    while (cap < (uint64_t)keys * 2)
        cap <<= 1;
    m->k = malloc(cap * sizeof *m->k);
    m->a = calloc(cap, sizeof *m->a);
    m->c = calloc(cap, sizeof *m->c);
    memset(m->k, 0xff, cap * sizeof *m->k); /* -1 = empty */
    m->mask = cap - 1;
}

static inline uint64_t
pmap_slot(pmap *m, int64_t k)
{
    uint64_t h = (uint64_t)k * 0x9e3779b97f4a7c15ull;
    uint64_t s = (h >> 20) & m->mask;
    while (m->k[s] != k && m->k[s] != -1)
        s = (s + 1) & m->mask;
    m->k[s] = k;
    return s;
}

static void
pmap_free(pmap *m)
{
    free(m->k);
    free(m->a);
    free(m->c);
}

/* ------------------------------------------------------------------ driving the engine */

typedef struct run_result {
    double seconds;
    double p50_ms, p99_ms;
} run_result;

static int
cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Splits every batch of s by key owner into W batches (untimed: a source
 * that knows its partitioning, like a generator per worker, produces these
 * directly). s->b becomes an array of n * W batches, [i * W + w]. */
static void
partition(stream *s, eng_rt *rt, int W)
{
    eng_batch **pb = calloc((size_t)s->n * (size_t)W, sizeof *pb);
    for (int i = 0; i < s->n; i++) {
        for (int w = 0; w < W; w++)
            pb[(size_t)i * W + (size_t)w] = calloc(1, sizeof(eng_batch));
        eng_batch *b = s->b[i];
        for (uint32_t j = 0; b && j < b->n; j++) {
            eng_row r = eng_batch_row(b, j);
            uint32_t klen = eng_row_col_offset(r, 1);
            int w = eng_rt_owner(rt, XXH3_64bits(r.data, klen));
            eng_batch_push(pb[(size_t)i * W + (size_t)w], r, b->upd[j].time, b->upd[j].diff);
        }
        eng_batch_free(b);
    }
    free(s->b);
    s->b = pb;
    s->parts = W;
}

/* Sends every batch of the streams (ninputs parallel streams, batch i of
 * each at time i), keeping at most `inflight` timestamps in flight, and
 * waits for node `out` to pass the last time. Times only the measured
 * batches. Batches are consumed. */
static run_result
drive(eng_client *c, eng_df *df, const int *inputs, stream *const *streams, int ninputs, int out,
      int inflight)
{
    run_result r = {0};
    int n = streams[0]->n, nwarm = streams[0]->nwarm;
    for (int k = 1; k < ninputs; k++) {
        if (streams[k]->n > n)
            n = streams[k]->n;
        if (streams[k]->nwarm > nwarm)
            nwarm = streams[k]->nwarm;
    }
    double *sent = calloc((size_t)n, sizeof *sent);
    double *lat = calloc((size_t)n, sizeof *lat);
    int nlat = 0, next_done = 0;
    double t0 = 0;
    for (int i = 0; i <= n; i++) {
        if (i == nwarm) {
            /* warm-up done: wait for it, then start the clock */
            eng_df_wait(c, df, out, (eng_time)i - 1, -1, NULL);
            next_done = i;
            t0 = now_s();
        }
        if (i == n)
            break;
        /* bound the timestamps in flight */
        while (i >= nwarm && i - next_done >= inflight) {
            nap();
            eng_time f = eng_df_frontier(df, out);
            while (next_done < i && (eng_time)next_done < f) {
                lat[nlat++] = (now_s() - sent[next_done]) * 1e3;
                next_done++;
            }
        }
        sent[i] = now_s();
        for (int k = 0; k < ninputs; k++) {
            stream *st = streams[k];
            int P = st->parts ? st->parts : 1;
            for (int w = 0; w < P && i < st->n; w++) {
                eng_batch **bp = &st->b[(size_t)i * P + (size_t)w];
                if (*bp != NULL && (*bp)->n > 0) {
                    if (st->parts)
                        eng_df_send_to(c, df, inputs[k], w, *bp, 1);
                    else
                        eng_df_send(c, df, inputs[k], *bp);
                    *bp = NULL;
                }
            }
            eng_df_advance(c, df, inputs[k], (eng_time)i + 1);
        }
    }
    while (next_done < n) {
        nap();
        eng_time f = eng_df_frontier(df, out);
        while (next_done < n && (eng_time)next_done < f) {
            if (next_done >= nwarm)
                lat[nlat++] = (now_s() - sent[next_done]) * 1e3;
            next_done++;
        }
    }
    r.seconds = now_s() - t0;
    if (nlat > 0) {
        qsort(lat, (size_t)nlat, sizeof *lat, cmp_double);
        r.p50_ms = lat[nlat / 2];
        r.p99_ms = lat[(size_t)((double)nlat * 0.99) < (size_t)nlat ? (size_t)((double)nlat * 0.99)
                                                                    : (size_t)nlat - 1];
    }
    free(sent);
    free(lat);
    return r;
}

static void
print_line(const char *bench, int workers, int batch, int64_t keys, int64_t updates,
           const run_result *r, const char *extra)
{
    printf("{\"bench\":\"%s\",\"workers\":%d,\"batch\":%d,\"keys\":%lld,\"updates\":%lld,"
           "\"seconds\":%.4f,\"updates_per_s\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f%s}\n",
           bench, workers, batch, (long long)keys, (long long)updates, r->seconds,
           (double)updates / r->seconds, r->p50_ms, r->p99_ms, extra ? extra : "");
    fflush(stdout);
}

/* ------------------------------------------------------------------ cases */

static int
case_count_by_key(eng_rt *rt, int W, int64_t keys, int batch, int64_t total, double *plain_rate)
{
    eng_client *c = eng_client_new(rt);
    stream s = gen_keyed(keys, batch, total, false, 7);
    /* plain loop over the same updates */
    pmap m;
    pmap_init(&m, keys);
    double t0 = now_s();
    for (int i = s.nwarm; i < s.n; i++) {
        if (i == s.nwarm) { /* warm-up isn't timed: replay it untimed first */
            for (int w = 0; w < s.nwarm; w++)
                for (uint32_t j = 0; j < s.b[w]->n; j++)
                    m.c[pmap_slot(&m, row_int(eng_batch_row(s.b[w], j), 0))] += s.b[w]->upd[j].diff;
            t0 = now_s();
        }
        const eng_batch *b = s.b[i];
        for (uint32_t j = 0; j < b->n; j++)
            m.c[pmap_slot(&m, eng_load_i64(b->bytes + b->upd[j].off + 1))] += b->upd[j].diff;
    }
    double plain_s = now_s() - t0;
    *plain_rate = (double)total / plain_s;
    int64_t want_sum = 0, want_wsum = 0;
    for (uint64_t i = 0; i <= m.mask; i++)
        if (m.k[i] != -1) {
            want_sum += m.c[i];
            want_wsum += m.c[i] * (m.k[i] % 1000);
        }
    pmap_free(&m);

    eng_plan *p = eng_plan_new();
    int in = eng_plan_input(p, "updates");
    op_reduce_params *rp = op_reduce_params_new(1, 1);
    rp->aggs[0] = (op_agg){OP_AGG_COUNT_STAR, 0, NULL};
    int red = eng_plan_node(p, "count", op_reduce_make, rp, free, 1);
    eng_plan_edge(p, in, red, 0, 1);
    eng_df *df = eng_df_install(c, p);
    stream *sp = &s;
    partition(&s, rt, W);
    run_result r = drive(c, df, &in, &sp, 1, red, INFLIGHT);

    /* verify */
    eng_batch *out;
    eng_time at;
    eng_err err;
    eng_err_clear(&err);
    int bad = 0;
    if (eng_df_peek(c, df, red, ENG_TIME_MAX, NULL, &out, &at, &err) != 0) {
        fprintf(stderr, "count_by_key: peek failed: %s\n", err.message);
        bad = 1;
    } else {
        int64_t sum = 0, wsum = 0;
        for (uint32_t i = 0; i < out->n; i++) {
            eng_row row = eng_batch_row(out, i);
            sum += row_int(row, 1) * out->upd[i].diff;
            wsum += row_int(row, 1) * (row_int(row, 0) % 1000) * out->upd[i].diff;
        }
        if (sum != want_sum || wsum != want_wsum) {
            fprintf(stderr, "count_by_key: wrong answer: sum %lld want %lld\n", (long long)sum,
                    (long long)want_sum);
            bad = 1;
        }
        uint64_t live_keys = out->n;
        eng_batch_free(out);
        size_t mem = eng_df_memory(df, red);
        double raw = 18.0; /* [k int8][count int8] */
        char extra[512];
        snprintf(extra, sizeof extra,
                 ",\"baseline\":\"plain_loop\",\"baseline_per_s\":%.0f,\"ratio\":%.3f,"
                 "\"per_worker_per_s\":%.0f,\"live_keys\":%llu,\"arranged_bytes\":%zu,"
                 "\"bytes_per_key\":%.1f,\"memory_target_bytes_per_key\":%.1f,\"verified\":%s",
                 *plain_rate, ((double)total / r.seconds) / *plain_rate,
                 (double)total / r.seconds / W, (unsigned long long)live_keys, mem,
                 live_keys ? (double)mem / (double)live_keys : 0.0, 2 * raw + 48,
                 bad ? "false" : "true");
        print_line("count_by_key", W, batch, keys, total, &r, extra);
    }
    eng_df_drop(c, df);
    stream_free(&s);
    eng_client_free(c);
    return bad;
}

static int
case_sum_avg(eng_rt *rt, int W, int64_t keys, int batch, int64_t total)
{
    eng_client *c = eng_client_new(rt);
    stream s = gen_keyed(keys, batch, total, true, 11);
    pmap m;
    pmap_init(&m, keys);
    for (int w = 0; w < s.nwarm; w++)
        for (uint32_t j = 0; j < s.b[w]->n; j++) {
            eng_row row = eng_batch_row(s.b[w], j);
            uint64_t sl = pmap_slot(&m, row_int(row, 0));
            m.a[sl] += row_int(row, 1) * s.b[w]->upd[j].diff;
            m.c[sl] += s.b[w]->upd[j].diff;
        }
    double t0 = now_s();
    for (int i = s.nwarm; i < s.n; i++) {
        const eng_batch *b = s.b[i];
        for (uint32_t j = 0; j < b->n; j++) {
            const uint8_t *p = b->bytes + b->upd[j].off;
            uint64_t sl = pmap_slot(&m, eng_load_i64(p + 1));
            m.a[sl] += eng_load_i64(p + 10) * b->upd[j].diff;
            m.c[sl] += b->upd[j].diff;
        }
    }
    double plain_rate = (double)total / (now_s() - t0);
    int64_t want = 0;
    for (uint64_t i = 0; i <= m.mask; i++)
        if (m.k[i] != -1)
            want += m.a[i];
    pmap_free(&m);

    eng_plan *p = eng_plan_new();
    int in = eng_plan_input(p, "updates");
    op_reduce_params *rp = op_reduce_params_new(1, 2);
    rp->aggs[0] = (op_agg){OP_AGG_SUM_INT8, 0, NULL}; /* sum(int8) is numeric, as in PostgreSQL */
    rp->aggs[1] = (op_agg){OP_AGG_AVG_INT, 0, NULL};
    int red = eng_plan_node(p, "sum_avg", op_reduce_make, rp, free, 1);
    eng_plan_edge(p, in, red, 0, 1);
    eng_df *df = eng_df_install(c, p);
    stream *sp = &s;
    partition(&s, rt, W);
    run_result r = drive(c, df, &in, &sp, 1, red, INFLIGHT);
    eng_batch *out;
    eng_time at;
    int bad = 0;
    if (eng_df_peek(c, df, red, ENG_TIME_MAX, NULL, &out, &at, NULL) != 0) {
        bad = 1;
    } else {
        int64_t sum = 0;
        for (uint32_t i = 0; i < out->n; i++) {
            eng_row row = eng_batch_row(out, i);
            uint32_t pos = eng_row_col_offset(row, 1);
            eng_datum d = eng_row_next(row, &pos);
            if (d.tag == ENG_TAG_NUMERIC) {
                eng_numeric n;
                int64_t v = 0;
                eng_numeric_init(&n);
                eng_numeric_from_datum(d, &n);
                if (eng_numeric_to_int(&n, 64, &v, NULL) == 0)
                    sum += v * out->upd[i].diff;
                eng_numeric_free(&n);
            }
        }
        bad = sum != want;
        if (bad)
            fprintf(stderr, "sum_avg_by_key: wrong answer %lld want %lld\n", (long long)sum,
                    (long long)want);
        eng_batch_free(out);
    }
    char extra[256];
    snprintf(extra, sizeof extra,
             ",\"baseline\":\"plain_loop\",\"baseline_per_s\":%.0f,\"ratio\":%.3f,\"verified\":%s",
             plain_rate, ((double)total / r.seconds) / plain_rate, bad ? "false" : "true");
    print_line("sum_avg_by_key", W, batch, keys, total, &r, extra);
    eng_df_drop(c, df);
    stream_free(&s);
    eng_client_free(c);
    return bad;
}

/* orders(order_id, customer_id) join customers(customer_id, country), count
 * per country. Customers are loaded in the warm-up; orders stream in. */
static int
case_join_count(eng_rt *rt, int W, int64_t keys, int batch, int64_t total)
{
    eng_client *c = eng_client_new(rt);
    int64_t ncust = keys / 10 > 0 ? keys / 10 : 1;
    const int64_t ncountry = 200;
    /* orders: key = customer id, value = order id (reuse the keyed generator) */
    stream orders = gen_keyed(ncust, batch, total, true, 13);
    /* customers: one batch per warm-up slot, all at time 0..nwarm-1 */
    stream cust = {0};
    cust.n = orders.nwarm;
    cust.nwarm = orders.nwarm;
    cust.b = calloc((size_t)cust.n, sizeof *cust.b);
    eng_rowbuf rb = {0};
    int64_t *country = malloc((size_t)ncust * sizeof *country);
    uint64_t seed = 99;
    for (int64_t i = 0; i < ncust; i++) {
        int slot = (int)(i % cust.n);
        if (cust.b[slot] == NULL)
            cust.b[slot] = calloc(1, sizeof(eng_batch));
        country[i] = (int64_t)(rnd(&seed) % (uint64_t)ncountry);
        eng_rowbuf_reset(&rb);
        eng_push_int8(&rb, i);
        eng_push_int8(&rb, country[i]);
        eng_batch_push(cust.b[slot], eng_rowbuf_row(&rb), (eng_time)slot, 1);
    }
    eng_rowbuf_free(&rb);
    /* plain loop: hash join + count */
    int64_t *cnt = calloc((size_t)ncountry, sizeof *cnt);
    pmap m;
    pmap_init(&m, ncust);
    for (int64_t i = 0; i < ncust; i++)
        m.a[pmap_slot(&m, i)] = country[i];
    for (int w = 0; w < orders.nwarm; w++)
        for (uint32_t j = 0; j < orders.b[w]->n; j++)
            cnt[m.a[pmap_slot(&m, row_int(eng_batch_row(orders.b[w], j), 0))]] +=
                orders.b[w]->upd[j].diff;
    double t0 = now_s();
    for (int i = orders.nwarm; i < orders.n; i++) {
        const eng_batch *b = orders.b[i];
        for (uint32_t j = 0; j < b->n; j++)
            cnt[m.a[pmap_slot(&m, eng_load_i64(b->bytes + b->upd[j].off + 1))]] += b->upd[j].diff;
    }
    double plain_rate = (double)total / (now_s() - t0);
    pmap_free(&m);

    eng_plan *p = eng_plan_new();
    int in_o = eng_plan_input(p, "orders");
    int in_c = eng_plan_input(p, "customers");
    op_join_params *jp = calloc(1, sizeof *jp);
    *jp = (op_join_params){.kind = OP_JOIN_INNER,
                           .key_ncols = 1,
                           .left_vcols = 1,
                           .right_vcols = 1,
                           .shared_side = -1};
    int j = eng_plan_node(p, "join", op_join_make, jp, free, 2);
    eng_plan_edge(p, in_o, j, 0, 1);
    eng_plan_edge(p, in_c, j, 1, 1);
    op_project_params *pp = op_project_params_new(1);
    pp->cols[0] = 2; /* country */
    int pr = eng_plan_node(p, "project", op_project_make, pp, free, 1);
    eng_plan_edge(p, j, pr, 0, -1);
    op_reduce_params *rp = op_reduce_params_new(1, 1);
    rp->aggs[0] = (op_agg){OP_AGG_COUNT_STAR, 0, NULL};
    int red = eng_plan_node(p, "count", op_reduce_make, rp, free, 1);
    eng_plan_edge(p, pr, red, 0, 1);
    eng_df *df = eng_df_install(c, p);
    int ins[2] = {in_o, in_c};
    stream *sps[2] = {&orders, &cust};
    partition(&orders, rt, W);
    partition(&cust, rt, W);
    run_result r = drive(c, df, ins, sps, 2, red, INFLIGHT);
    eng_batch *out;
    eng_time at;
    int bad = 0;
    if (eng_df_peek(c, df, red, ENG_TIME_MAX, NULL, &out, &at, NULL) != 0) {
        bad = 1;
    } else {
        int64_t *got = calloc((size_t)ncountry, sizeof *got);
        for (uint32_t i = 0; i < out->n; i++) {
            eng_row row = eng_batch_row(out, i);
            got[row_int(row, 0)] += row_int(row, 1) * out->upd[i].diff;
        }
        for (int64_t i = 0; i < ncountry; i++)
            if (got[i] != cnt[i])
                bad = 1;
        if (bad)
            fprintf(stderr, "join_count: wrong answer\n");
        free(got);
        eng_batch_free(out);
    }
    char extra[256];
    snprintf(
        extra, sizeof extra,
        ",\"baseline\":\"plain_loop\",\"baseline_per_s\":%.0f,\"ratio\":%.3f,\"customers\":%lld,"
        "\"verified\":%s",
        plain_rate, ((double)total / r.seconds) / plain_rate, (long long)ncust,
        bad ? "false" : "true");
    print_line("join_count", W, batch, keys, total, &r, extra);
    eng_df_drop(c, df);
    stream_free(&orders);
    stream_free(&cust);
    free(country);
    free(cnt);
    eng_client_free(c);
    return bad;
}

/* Top 10 values per group. Groups = keys / 100; verified against a naive
 * per-group sort of the final collection. */
static int
cmp_i64_desc(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a > b ? -1 : a < b;
}

static int
case_topk(eng_rt *rt, int W, int64_t keys, int batch, int64_t total)
{
    eng_client *c = eng_client_new(rt);
    int64_t groups = keys / 100 > 0 ? keys / 100 : 1;
    stream s = gen_keyed(groups, batch, total, true, 17);
    /* the final multiset, for verification: (group, value) -> count */
    pmap m;
    pmap_init(&m, groups * 1000);
    for (int i = 0; i < s.n; i++)
        for (uint32_t j = 0; j < s.b[i]->n; j++) {
            eng_row row = eng_batch_row(s.b[i], j);
            int64_t g = row_int(row, 0), v = row_int(row, 1);
            m.c[pmap_slot(&m, g * 1000 + v)] += s.b[i]->upd[j].diff;
        }
    eng_plan *p = eng_plan_new();
    int in = eng_plan_input(p, "updates");
    op_topk_params *tp = op_topk_params_new(1, 1);
    tp->limit = 10;
    tp->order[0] = (op_order){0, true, false};
    int tk = eng_plan_node(p, "top10", op_topk_make, tp, free, 1);
    eng_plan_edge(p, in, tk, 0, 1);
    eng_df *df = eng_df_install(c, p);
    stream *sp = &s;
    partition(&s, rt, W);
    run_result r = drive(c, df, &in, &sp, 1, tk, INFLIGHT);
    int bad = 0;
    eng_batch *out;
    eng_time at;
    if (eng_df_peek(c, df, tk, ENG_TIME_MAX, NULL, &out, &at, NULL) != 0) {
        bad = 1;
    } else {
        /* expected: per group, the 10 largest values with multiplicity */
        int64_t *got_sum = calloc((size_t)groups, sizeof *got_sum);
        int64_t *want_sum = calloc((size_t)groups, sizeof *want_sum);
        for (uint32_t i = 0; i < out->n; i++) {
            eng_row row = eng_batch_row(out, i);
            got_sum[row_int(row, 0)] += row_int(row, 1) * out->upd[i].diff;
        }
        int64_t *vals = malloc(1000 * 64 * sizeof *vals);
        for (int64_t g = 0; g < groups; g++) {
            size_t n = 0;
            for (int64_t v = 0; v < 1000; v++) {
                uint64_t sl = pmap_slot(&m, g * 1000 + v);
                for (int64_t k = 0; k < m.c[sl] && n < 1000 * 64; k++)
                    vals[n++] = v;
            }
            qsort(vals, n, sizeof *vals, cmp_i64_desc);
            for (size_t k = 0; k < n && k < 10; k++)
                want_sum[g] += vals[k];
            if (want_sum[g] != got_sum[g])
                bad = 1;
        }
        if (bad)
            fprintf(stderr, "topk_per_group: wrong answer\n");
        free(vals);
        free(got_sum);
        free(want_sum);
        eng_batch_free(out);
    }
    pmap_free(&m);
    char extra[128];
    snprintf(extra, sizeof extra, ",\"groups\":%lld,\"k\":10,\"verified\":%s", (long long)groups,
             bad ? "false" : "true");
    print_line("topk_per_group", W, batch, keys, total, &r, extra);
    eng_df_drop(c, df);
    stream_free(&s);
    eng_client_free(c);
    return bad;
}

/* Park/wake round trip: an idle dataflow (workers parked) gets a frontier
 * advance; the subscription's frontier comes back to the client, which is
 * parked too. Two wake-ups per round trip. */
static int
case_wake(eng_rt *rt, int W)
{
    eng_client *c = eng_client_new(rt);
    eng_plan *p = eng_plan_new();
    int in = eng_plan_input(p, "in");
    eng_sub *sub;
    eng_plan_subscribe(p, in, c, &sub);
    eng_df *df = eng_df_install(c, p);
    enum { N = 300 };
    double lat[N];
    eng_err err;
    for (int i = 0; i < N; i++) {
        struct timespec idle = {0, 2000000}; /* 2 ms: long enough for workers to park */
        nanosleep(&idle, NULL);
        double t0 = now_s();
        eng_df_advance(c, df, in, (eng_time)i + 1);
        eng_time f = 0;
        while (f < (eng_time)i + 1) {
            eng_batch *b;
            eng_err_clear(&err);
            if (eng_sub_next(sub, 1000, &b, &f, &err) != 0)
                return 1;
            eng_batch_free(b);
        }
        lat[i] = (now_s() - t0) * 1e6;
    }
    qsort(lat, N, sizeof lat[0], cmp_double);
    printf("{\"bench\":\"wake_latency\",\"workers\":%d,\"round_trips\":%d,\"p50_us\":%.1f,"
           "\"p99_us\":%.1f}\n",
           W, N, lat[N / 2], lat[N * 99 / 100]);
    fflush(stdout);
    eng_df_drop(c, df);
    eng_client_free(c);
    return 0;
}

static bool
want_case(const opts *o, const char *name)
{
    if (o->ncases == 0)
        return true;
    for (int i = 0; i < o->ncases; i++)
        if (strcmp(o->cases[i], name) == 0)
            return true;
    return false;
}

int
bench_core_main(int argc, char **argv)
{
    opts o = {.keys = 1000000, .seconds = 2.0};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--workers") == 0 && v && o.nworkers < 8) {
            o.workers[o.nworkers++] = atoi(v);
            i++;
        } else if (strcmp(a, "--keys") == 0 && v) {
            o.keys = atoll(v);
            i++;
        } else if (strcmp(a, "--batch") == 0 && v && o.nbatches < 8) {
            o.batches[o.nbatches++] = atoi(v);
            i++;
        } else if (strcmp(a, "--seconds") == 0 && v) {
            o.seconds = atof(v);
            i++;
        } else if (strcmp(a, "--inflight") == 0 && v) {
            INFLIGHT = atoi(v) > 0 ? atoi(v) : 1;
            inflight_set = true;
            i++;
        } else if (strcmp(a, "--case") == 0 && v && o.ncases < 8) {
            o.cases[o.ncases++] = v;
            i++;
        } else {
            fprintf(stderr, "usage: sluice-bench core [--workers N]... [--keys K] [--batch B]... "
                            "[--seconds S] [--case "
                            "count_by_key|sum_avg_by_key|join_count|topk_per_group]...\n");
            return 2;
        }
    }
    if (o.nworkers == 0) {
        o.workers[0] = 1;
        o.workers[1] = 2;
        o.nworkers = 2;
    }
    if (o.nbatches == 0) {
        o.batches[0] = 100000;
        o.batches[1] = 1000;
        o.nbatches = 2;
    }
    if (o.keys < 1)
        o.keys = 1;
    eng_log_init(ENG_LOG_WARN, 2);
    eng_err err;
    eng_err_clear(&err);
    shard_topo *topo;
    if (shard_topo_open(&topo, &err) != 0) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    int bad = 0;
    for (int bi = 0; bi < o.nbatches; bi++) {
        int batch = o.batches[bi] > 0 ? o.batches[bi] : 1;
        /* Size the measured stream for about --seconds at 5M updates/s, at
         * least 20 batches. */
        int64_t total = (int64_t)(o.seconds * 5e6);
        if (!inflight_set)
            INFLIGHT = batch < 10000 ? 2 : 4;
        if (batch < 10000) /* latency runs: fewer, smaller timestamps */
            total = (int64_t)batch * 2000;
        if (total < (int64_t)batch * 20)
            total = (int64_t)batch * 20;
        for (int wi = 0; wi < o.nworkers; wi++) {
            int W = o.workers[wi];
            eng_rt *rt;
            if (eng_rt_start(&rt, topo, W, &err) != 0) {
                fprintf(stderr, "%s\n", err.message);
                return 1;
            }
            double plain;
            if (want_case(&o, "count_by_key"))
                bad |= case_count_by_key(rt, W, o.keys, batch, total, &plain);
            if (want_case(&o, "sum_avg_by_key") && batch >= 10000)
                bad |= case_sum_avg(rt, W, o.keys, batch, total);
            if (want_case(&o, "join_count"))
                bad |= case_join_count(rt, W, o.keys, batch, total);
            if (want_case(&o, "topk_per_group") && batch >= 10000)
                bad |= case_topk(rt, W, o.keys, batch, total);
            if (want_case(&o, "wake_latency") && bi == 0)
                bad |= case_wake(rt, W);
            eng_rt_stop(rt);
        }
    }
    shard_topo_close(topo);
    return bad;
}
