/* bench-arr: the arrangement store (shard_arr) against a plain C hash map.
 *
 * Inserts U updates (default 10M) over K int8 keys (default 1M; every key
 * exactly U/K times, in scrambled order) in ticks of B updates (default
 * 100k), each tick sealed with advance_upper and compacted with
 * advance_since, the way a worker would run it; then looks keys up and
 * measures memory. Baseline in the same run: an open-addressing
 * `int64 key -> int64 count` map doing the same inserts and lookups
 * ("plain_loop"). Rows and hashes are built outside the timed regions (they
 * come from upstream batches in the engine); the plain loop hashes its
 * int64 keys inside (that is what a plain loop does).
 *
 * bytes_per_key counts everything allocated; state_bytes_per_key leaves out
 * the log's buffers kept for the next round (empty after compaction; what
 * shard_arr_trim frees).
 *
 * Every run checks its answer: each key's count must equal the plain map's.
 * Prints one JSON object per line. Usage:
 *   bench-arr [--keys K] [--updates U] [--tick B] [--reps R] [--only NAME] [--quick]
 * (--only runs the plain loop and the one variant, for profiling). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/core/eng_row.h"
#include "shard/shard_arr.h"

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL) {
        fprintf(stderr, "bench-arr: out of memory\n");
        exit(2);
    }
    return p;
}

/* ------------------------------------------------------------------ the baseline */

typedef struct plain_map {
    int64_t *keys, *counts;
    uint8_t *used;
    uint64_t mask, n;
} plain_map;

static void
plain_init(plain_map *m, uint64_t cap)
{
    m->keys = xcalloc(cap, sizeof(int64_t));
    m->counts = xcalloc(cap, sizeof(int64_t));
    m->used = xcalloc(cap, 1);
    m->mask = cap - 1;
    m->n = 0;
}

static void
plain_free(plain_map *m)
{
    free(m->keys);
    free(m->counts);
    free(m->used);
}

static void plain_add(plain_map *m, int64_t key, int64_t diff);

static void
plain_grow(plain_map *m)
{
    plain_map old = *m;
    plain_init(m, (old.mask + 1) * 2);
    for (uint64_t i = 0; i <= old.mask; i++)
        if (old.used[i])
            plain_add(m, old.keys[i], old.counts[i]);
    plain_free(&old);
}

static void
plain_add(plain_map *m, int64_t key, int64_t diff)
{
    uint64_t i = mix64((uint64_t)key) & m->mask;
    while (m->used[i]) {
        if (m->keys[i] == key) {
            m->counts[i] += diff;
            return;
        }
        i = (i + 1) & m->mask;
    }
    if ((m->n + 1) * 4 > (m->mask + 1) * 3) {
        plain_grow(m);
        plain_add(m, key, diff);
        return;
    }
    m->used[i] = 1;
    m->keys[i] = key;
    m->counts[i] = diff;
    m->n++;
}

static int64_t
plain_get(const plain_map *m, int64_t key)
{
    uint64_t i = mix64((uint64_t)key) & m->mask;
    while (m->used[i]) {
        if (m->keys[i] == key)
            return m->counts[i];
        i = (i + 1) & m->mask;
    }
    return 0;
}

/* ------------------------------------------------------------------ workload */

typedef struct workload {
    uint64_t nkeys, nupd, tick;
    int64_t *kval;   /* key values */
    uint8_t *krows;  /* nkeys rows of 9 bytes */
    uint8_t *vrows;  /* nkeys value rows of 9 bytes (for the key/value variant) */
    uint64_t *khash; /* eng_row_hash of each key row */
} workload;

/* Update i touches key (i * odd) mod nkeys: every key U/K times, scrambled. */
static inline uint64_t
key_of(const workload *w, uint64_t i)
{
    return (i * 2654435761ull) % w->nkeys;
}

static void
workload_init(workload *w, uint64_t nkeys, uint64_t nupd, uint64_t tick)
{
    w->nkeys = nkeys;
    w->nupd = nupd;
    w->tick = tick;
    w->kval = xcalloc(nkeys, sizeof(int64_t));
    w->krows = xcalloc(nkeys, 9);
    w->vrows = xcalloc(nkeys, 9);
    w->khash = xcalloc(nkeys, sizeof(uint64_t));
    eng_rowbuf b = {0};
    for (uint64_t k = 0; k < nkeys; k++) {
        w->kval[k] = (int64_t)mix64(k + 1);
        eng_rowbuf_reset(&b);
        eng_push_int8(&b, w->kval[k]);
        memcpy(w->krows + k * 9, b.data, 9);
        w->khash[k] = eng_row_hash(eng_rowbuf_row(&b));
        eng_rowbuf_reset(&b);
        eng_push_int8(&b, w->kval[k] % 7);
        memcpy(w->vrows + k * 9, b.data, 9);
    }
    eng_rowbuf_free(&b);
}

static void
workload_free(workload *w)
{
    free(w->kval);
    free(w->krows);
    free(w->vrows);
    free(w->khash);
}

/* Fills u[0..n) with updates first..first+n at time t, their rows packed
 * in order into buf (18 bytes per update), like an upstream batch whose
 * rows sit contiguous in the batch's arena. */
static void
fill_batch(const workload *w, shard_arr_upd *u, uint8_t *buf, uint64_t first, uint64_t n,
           uint64_t t, bool with_val)
{
    for (uint64_t j = 0; j < n; j++) {
        uint64_t k = key_of(w, first + j);
        uint8_t *kb = buf + j * 18, *vb = kb + 9;
        memcpy(kb, w->krows + k * 9, 9);
        memcpy(vb, w->vrows + k * 9, 9);
        u[j].hash = w->khash[k];
        u[j].key = (eng_row){kb, 9};
        u[j].val = with_val ? (eng_row){vb, 9} : (eng_row){vb, 0};
        u[j].time = t;
        u[j].diff = 1;
    }
}

typedef enum { MODE_BATCH, MODE_SINGLE, MODE_LAG } insert_mode;

/* Runs the inserts; returns the timed seconds (update calls and
 * advance_since), *compact_s the part spent in advance_since. */
static double
run_arr(const workload *w, shard_arr *a, insert_mode mode, bool with_val, double *compact_s)
{
    shard_arr_upd *u = xcalloc(w->tick, sizeof *u);
    uint8_t *buf = xcalloc(w->tick, 18);
    double timed = 0, compact = 0;
    uint64_t t = 0;
    for (uint64_t first = 0; first < w->nupd; first += w->tick, t++) {
        uint64_t n = w->nupd - first < w->tick ? w->nupd - first : w->tick;
        fill_batch(w, u, buf, first, n, t, with_val);
        double t0 = now_s();
        if (mode == MODE_SINGLE)
            for (uint64_t j = 0; j < n; j++)
                shard_arr_update(a, u[j].hash, u[j].key, u[j].val, u[j].time, u[j].diff);
        else
            shard_arr_update_batch(a, u, n);
        shard_arr_advance_upper(a, t + 1);
        double t1 = now_s();
        if (mode != MODE_LAG)
            shard_arr_advance_since(a, t + 1);
        double t2 = now_s();
        timed += t2 - t0;
        compact += t2 - t1;
    }
    if (mode == MODE_LAG) { /* one compaction of everything at the end */
        double t0 = now_s();
        shard_arr_advance_since(a, t);
        double dt = now_s() - t0;
        timed += dt;
        compact += dt;
    }
    free(u);
    free(buf);
    *compact_s = compact;
    return timed;
}

static double
run_plain(const workload *w, plain_map *m)
{
    int64_t *keys = xcalloc(w->tick, sizeof(int64_t));
    double timed = 0;
    for (uint64_t first = 0; first < w->nupd; first += w->tick) {
        uint64_t n = w->nupd - first < w->tick ? w->nupd - first : w->tick;
        for (uint64_t j = 0; j < n; j++)
            keys[j] = w->kval[key_of(w, first + j)];
        double t0 = now_s();
        for (uint64_t j = 0; j < n; j++)
            plain_add(m, keys[j], 1);
        timed += now_s() - t0;
    }
    free(keys);
    return timed;
}

/* Every key's count in a equals the plain map's; returns false otherwise. */
static bool
verify(const workload *w, const shard_arr *a, const plain_map *m, uint64_t t)
{
    shard_arr_stats st;
    shard_arr_stats_get(a, &st);
    if (st.keys != m->n || st.negatives != 0)
        return false;
    for (uint64_t k = 0; k < w->nkeys; k++) {
        const shard_arr_key *key = shard_arr_find(a, w->khash[k], (eng_row){w->krows + k * 9, 9});
        int64_t expect = plain_get(m, w->kval[k]);
        if ((key == NULL) != (expect == 0))
            return false;
        if (key != NULL && shard_arr_key_count(a, key, t) != expect)
            return false;
    }
    return true;
}

/* Lookups of nlook random keys; returns seconds and sums counts into *sum. */
static double
lookup_arr(const workload *w, const shard_arr *a, uint64_t nlook, bool batched, uint64_t t,
           int64_t *sum)
{
    enum { LB = 1024 };
    uint64_t hashes[LB];
    eng_row keys[LB];
    uint8_t kbuf[LB * 9]; /* probe keys packed, as in a batch */
    const shard_arr_key *out[LB];
    int64_t s = 0;
    double timed = 0;
    uint64_t x = 0x243F6A8885A308D3ull;
    for (uint64_t done = 0; done < nlook; done += LB) {
        for (int j = 0; j < LB; j++) {
            x = mix64(x);
            uint64_t k = x % w->nkeys;
            hashes[j] = w->khash[k];
            memcpy(kbuf + j * 9, w->krows + k * 9, 9);
            keys[j] = (eng_row){kbuf + j * 9, 9};
        }
        double t0 = now_s();
        if (batched) {
            shard_arr_find_batch(a, hashes, keys, LB, out);
            for (int j = 0; j < LB; j++)
                s += out[j] ? shard_arr_key_count(a, out[j], t) : 0;
        } else {
            for (int j = 0; j < LB; j++) {
                const shard_arr_key *k = shard_arr_find(a, hashes[j], keys[j]);
                s += k ? shard_arr_key_count(a, k, t) : 0;
            }
        }
        timed += now_s() - t0;
    }
    *sum = s;
    return timed;
}

static double
lookup_plain(const workload *w, const plain_map *m, uint64_t nlook, int64_t *sum)
{
    enum { LB = 1024 };
    int64_t keys[LB];
    int64_t s = 0;
    double timed = 0;
    uint64_t x = 0x243F6A8885A308D3ull;
    for (uint64_t done = 0; done < nlook; done += LB) {
        for (int j = 0; j < LB; j++) {
            x = mix64(x);
            keys[j] = w->kval[x % w->nkeys];
        }
        double t0 = now_s();
        for (int j = 0; j < LB; j++)
            s += plain_get(m, keys[j]);
        timed += now_s() - t0;
    }
    *sum = s;
    return timed;
}

static double
min_d(double a, double b)
{
    return a < b ? a : b;
}

int
main(int argc, char **argv)
{
    uint64_t nkeys = 1000000, nupd = 10000000, tick = 100000;
    int reps = 3;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            nkeys = 20000, nupd = 200000, tick = 10000, reps = 1;
        } else if (i + 1 < argc && strcmp(argv[i], "--keys") == 0) {
            nkeys = strtoull(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(argv[i], "--updates") == 0) {
            nupd = strtoull(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(argv[i], "--tick") == 0) {
            tick = strtoull(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(argv[i], "--reps") == 0) {
            reps = atoi(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "--only") == 0) {
            only = argv[++i];
        } else {
            fprintf(stderr, "usage: bench-arr [--keys K] [--updates U] [--tick B] [--reps R] "
                            "[--only NAME] [--quick]\n");
            return 2;
        }
    }
    if (nkeys == 0 || tick == 0 || reps < 1) {
        fprintf(stderr, "bench-arr: keys, tick and reps must be positive\n");
        return 2;
    }
    workload w;
    workload_init(&w, nkeys, nupd, tick);
    uint64_t end = (nupd + tick - 1) / tick;
    bool ok = true;

    /* Baseline (best of reps; the first rep also warms fresh memory). */
    double plain_s = 1e30;
    plain_map m;
    for (int r = 0; r < reps; r++) {
        if (r > 0)
            plain_free(&m);
        plain_init(&m, 16);
        plain_s = min_d(plain_s, run_plain(&w, &m));
    }
    printf("{\"bench\":\"arr\",\"name\":\"plain_loop\",\"updates\":%llu,\"keys\":%llu,"
           "\"seconds\":%.4f,\"updates_per_s\":%.0f}\n",
           (unsigned long long)nupd, (unsigned long long)m.n, plain_s, (double)nupd / plain_s);

    static const struct {
        const char *name;
        insert_mode mode;
        bool with_val;
    } variants[] = {
        {"insert_batch", MODE_BATCH, false},
        {"insert_single", MODE_SINGLE, false},
        {"insert_batch_since_lags", MODE_LAG, false},
        {"insert_batch_kv", MODE_BATCH, true},
    };
    shard_arr *keep = NULL; /* the first variant's result, for lookups and memory */
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        if (only != NULL && v > 0 && strcmp(only, variants[v].name) != 0)
            continue; /* the first variant always runs: lookups use its result */
        double best = 1e30, best_compact = 0;
        shard_arr_stats st = {0};
        for (int r = 0; r < reps; r++) {
            shard_arr *a = shard_arr_new();
            double compact;
            double s = run_arr(&w, a, variants[v].mode, variants[v].with_val, &compact);
            if (s < best)
                best = s, best_compact = compact;
            if (!verify(&w, a, &m, end)) {
                fprintf(stderr, "bench-arr: %s: counts differ from the plain map\n",
                        variants[v].name);
                ok = false;
            }
            shard_arr_stats_get(a, &st);
            if (v == 0 && keep == NULL)
                keep = a;
            else
                shard_arr_free(a);
        }
        double raw = (double)(9 + (variants[v].with_val ? 9 : 0));
        printf("{\"bench\":\"arr\",\"name\":\"%s\",\"updates\":%llu,\"keys\":%llu,\"tick\":%llu,"
               "\"seconds\":%.4f,\"compact_seconds\":%.4f,\"updates_per_s\":%.0f,"
               "\"ratio_vs_plain\":%.2f,\"bytes_per_key\":%.1f,\"state_bytes_per_key\":%.1f,"
               "\"raw_bytes_per_key\":%.0f,\"target_bytes_per_key\":%.0f}\n",
               variants[v].name, (unsigned long long)nupd, (unsigned long long)st.keys,
               (unsigned long long)tick, best, best_compact, (double)nupd / best, best / plain_s,
               (double)st.bytes / (double)st.keys,
               (double)(st.bytes - st.log_bytes) / (double)st.keys, raw, 2 * raw + 48);
    }

    /* Lookups: find + count of random keys, on the compacted arrangement. */
    uint64_t nlook = nupd;
    int64_t sum_plain = 0, sum_b = 0, sum_s = 0;
    double lp = 1e30, lb = 1e30, ls = 1e30;
    for (int r = 0; r < reps; r++) {
        lp = min_d(lp, lookup_plain(&w, &m, nlook, &sum_plain));
        lb = min_d(lb, lookup_arr(&w, keep, nlook, true, end, &sum_b));
        ls = min_d(ls, lookup_arr(&w, keep, nlook, false, end, &sum_s));
    }
    if (sum_b != sum_plain || sum_s != sum_plain) {
        fprintf(stderr, "bench-arr: lookup sums differ\n");
        ok = false;
    }
    uint64_t nl = (nlook + 1023) / 1024 * 1024;
    printf("{\"bench\":\"arr\",\"name\":\"lookup_plain_loop\",\"lookups\":%llu,\"seconds\":%.4f,"
           "\"lookups_per_s\":%.0f}\n",
           (unsigned long long)nl, lp, (double)nl / lp);
    printf("{\"bench\":\"arr\",\"name\":\"lookup_batch\",\"lookups\":%llu,\"seconds\":%.4f,"
           "\"lookups_per_s\":%.0f,\"ratio_vs_plain\":%.2f}\n",
           (unsigned long long)nl, lb, (double)nl / lb, lb / lp);
    printf("{\"bench\":\"arr\",\"name\":\"lookup_single\",\"lookups\":%llu,\"seconds\":%.4f,"
           "\"lookups_per_s\":%.0f,\"ratio_vs_plain\":%.2f}\n",
           (unsigned long long)nl, ls, (double)nl / ls, ls / lp);

    /* Memory after compaction, broken down. */
    shard_arr_stats st;
    shard_arr_stats_get(keep, &st);
    double k = (double)st.keys;
    printf("{\"bench\":\"arr\",\"name\":\"memory\",\"keys\":%llu,\"records\":%llu,"
           "\"bytes\":%llu,\"bytes_per_key\":%.1f,\"table_per_key\":%.1f,"
           "\"entries_per_key\":%.1f,\"arena_per_key\":%.1f,\"arena_live_per_key\":%.1f,"
           "\"log_per_key\":%.1f,\"raw_bytes_per_key\":9,\"target_bytes_per_key\":66,"
           "\"plain_loop_bytes_per_key\":%.1f}\n",
           (unsigned long long)st.keys, (unsigned long long)st.records,
           (unsigned long long)st.bytes, (double)st.bytes / k, (double)st.table_bytes / k,
           (double)st.entry_bytes / k, (double)st.arena_bytes / k, (double)st.arena_live / k,
           (double)st.log_bytes / k, (double)((m.mask + 1) * 17) / (double)m.n);
    printf("{\"bench\":\"arr\",\"name\":\"verify\",\"ok\":%s}\n", ok ? "true" : "false");
    shard_arr_free(keep);
    plain_free(&m);
    workload_free(&w);
    return ok ? 0 : 1;
}
