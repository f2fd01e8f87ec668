/* Oracle test: shard_arr against a naive list of every update.
 *
 * Random updates over a few hundred keys and a handful of values (rows of
 * varied lengths, including empty ones) at random times, random
 * advance_upper/advance_since (since sometimes passing upper), single and
 * batched updates, and a weak-hash mode where many keys share a full 64-bit
 * hash. At random readable times every key's accumulated values, its total
 * count and the all-keys iteration are compared with a recomputation from
 * the update list; after full compaction the stats (keys, records, pending,
 * negatives) are compared too, and shard_arr_check runs along the way.
 *
 * Seeds are fixed (SLUICE_SEED=n runs one seed, SLUICE_SEEDS=n runs n);
 * a failure, including an assertion abort inside the store, prints the seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shard/shard_arr.h"

#define MAXK 400
#define MAXV 12

typedef struct upd {
    uint16_t k, v;
    uint64_t time;
    int64_t diff;
} upd;

typedef struct world {
    uint64_t rng;
    int nk, nv;
    bool weak_hash, well_formed;
    eng_rowbuf krow[MAXK], vrow[MAXV];
    uint64_t khash[MAXK];
    upd *log;
    size_t nlog, caplog;
    int64_t total[MAXK][MAXV]; /* over all times given so far */
    uint64_t tmax;             /* largest time given so far */
    int64_t acc[MAXK][MAXV];   /* scratch: accumulation at some t */
} world;

static uint64_t cur_seed;
static int cur_step;

static void
on_abort(int sig)
{
    char buf[96];
    int n = snprintf(buf, sizeof buf, "test_arr_oracle: aborted at seed=%llu step=%d\n",
                     (unsigned long long)cur_seed, cur_step);
    if (n > 0 && write(2, buf, (size_t)n) < 0)
        _exit(134);
    signal(sig, SIG_DFL);
    raise(sig);
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail_msg("seed=%llu step=%d: %s (line %d)", (unsigned long long)cur_seed, cur_step,    \
                     #cond, __LINE__);                                                             \
    } while (0)

static uint64_t
rnd(world *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

static uint64_t
below(world *w, uint64_t n)
{
    return rnd(w) % n;
}

static void
world_init(world *w, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    w->rng = seed * 0x9E3779B97F4A7C15ull + 1;
    w->nk = 1 + (int)below(w, MAXK);
    w->nv = 1 + (int)below(w, MAXV);
    w->weak_hash = below(w, 4) == 0;
    w->well_formed = below(w, 3) != 0;
    for (int k = 0; k < w->nk; k++) {
        eng_rowbuf *b = &w->krow[k];
        if (k % 3 == 0) {
            eng_push_int8(b, k);
        } else if (k % 3 == 1) {
            char s[64];
            int len = snprintf(s, sizeof s, "key-%d-%.*s", k, (k * 7) % 40,
                               "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
            eng_push_text(b, s, (uint32_t)len);
        } else {
            eng_push_int4(b, k);
            eng_push_null(b);
        }
        w->khash[k] = eng_row_hash(eng_rowbuf_row(b));
        if (w->weak_hash)
            w->khash[k] &= 0x7; /* many keys share the whole 64-bit hash */
    }
    for (int v = 0; v < w->nv; v++) {
        eng_rowbuf *b = &w->vrow[v];
        if (v == 0) { /* the empty row (with a buffer: eng_row_eq memcmps its data) */
            eng_rowbuf_grow(b, 1);
            continue;
        }
        char s[80];
        memset(s, 'a' + v, sizeof s);
        if (v % 2)
            eng_push_text(b, s, (uint32_t)((v * 13) % 70));
        else
            eng_push_int8(b, -v);
    }
}

static void
world_free(world *w)
{
    for (int k = 0; k < MAXK; k++)
        eng_rowbuf_free(&w->krow[k]);
    for (int v = 0; v < MAXV; v++)
        eng_rowbuf_free(&w->vrow[v]);
    free(w->log);
}

static eng_row
krow(const world *w, int k)
{
    return eng_rowbuf_row(&w->krow[k]);
}

static eng_row
vrow(const world *w, int v)
{
    return eng_rowbuf_row(&w->vrow[v]);
}

static void
record(world *w, int k, int v, uint64_t time, int64_t diff)
{
    if (w->nlog == w->caplog) {
        w->caplog = w->caplog ? w->caplog * 2 : 1024;
        w->log = realloc(w->log, w->caplog * sizeof *w->log);
    }
    w->log[w->nlog++] = (upd){(uint16_t)k, (uint16_t)v, time, diff};
    w->total[k][v] += diff;
    if (time > w->tmax)
        w->tmax = time;
}

static void
accumulate(world *w, uint64_t t)
{
    memset(w->acc, 0, sizeof w->acc);
    for (size_t i = 0; i < w->nlog; i++)
        if (w->log[i].time <= t)
            w->acc[w->log[i].k][w->log[i].v] += w->log[i].diff;
}

/* Which value id a row is. */
static int
val_id(const world *w, eng_row r)
{
    for (int v = 0; v < w->nv; v++)
        if (eng_row_eq(r, vrow(w, v)))
            return v;
    return -1;
}

/* Which key id a row is: the id is encoded in the row's first datum. */
static int
key_id(const world *w, eng_row r)
{
    if (r.len == 0)
        return -1;
    uint32_t pos = 0;
    eng_datum d = eng_row_next(r, &pos);
    long k = -1;
    if (d.tag == ENG_TAG_INT8)
        k = (long)eng_datum_int8(d);
    else if (d.tag == ENG_TAG_INT4)
        k = (long)eng_load_i32(d.ptr);
    else if (d.tag == ENG_TAG_TEXT && d.len > 4)
        k = strtol((const char *)d.ptr + 4, NULL, 10);
    if (k < 0 || k >= w->nk || !eng_row_eq(r, krow(w, (int)k)))
        return -1;
    return (int)k;
}

/* Compares every key and the whole collection at t with the oracle. */
static void
compare_at(world *w, shard_arr *a, uint64_t t, shard_arr_cursor *c)
{
    accumulate(w, t);
    int64_t seen[MAXK][MAXV];
    eng_row keys[MAXK];
    const shard_arr_key *found[MAXK];
    for (int k = 0; k < w->nk; k++)
        keys[k] = krow(w, k);
    shard_arr_find_batch(a, w->khash, keys, (size_t)w->nk, found);
    for (int k = 0; k < w->nk; k++) {
        memset(seen[k], 0, sizeof seen[k]);
        const shard_arr_key *key = shard_arr_find(a, w->khash[k], krow(w, k));
        CHECK(found[k] == key);
        int64_t count = 0;
        bool any = false;
        for (int v = 0; v < w->nv; v++) {
            count += w->acc[k][v];
            any = any || w->acc[k][v] != 0;
        }
        if (key == NULL) {
            CHECK(!any);
            continue;
        }
        CHECK(eng_row_eq(shard_arr_key_row(key), krow(w, k)));
        CHECK(shard_arr_key_hash(key) == w->khash[k]);
        CHECK(shard_arr_key_count(a, key, t) == count);
        shard_arr_cursor_seek(c, a, key, t);
        eng_row val;
        int64_t d;
        while (shard_arr_cursor_next(c, &val, &d)) {
            int v = val_id(w, val);
            CHECK(v >= 0);
            CHECK(seen[k][v] == 0); /* each value once */
            CHECK(d != 0);
            seen[k][v] = d;
        }
        for (int v = 0; v < w->nv; v++)
            CHECK(seen[k][v] == w->acc[k][v]);
    }
    /* The all-keys iteration gives the same collection, each key once. */
    bool key_seen[MAXK] = {0};
    size_t pos = 0, records = 0, expect_records = 0;
    const shard_arr_key *key;
    while ((key = shard_arr_next_key(a, &pos)) != NULL) {
        int k = key_id(w, shard_arr_key_row(key));
        CHECK(k >= 0 && !key_seen[k]);
        key_seen[k] = true;
        shard_arr_cursor_seek(c, a, key, t);
        eng_row val;
        int64_t d;
        while (shard_arr_cursor_next(c, &val, &d)) {
            int v = val_id(w, val);
            CHECK(v >= 0 && d == w->acc[k][v]);
            records++;
        }
    }
    for (int k = 0; k < w->nk; k++)
        for (int v = 0; v < w->nv; v++)
            expect_records += w->acc[k][v] != 0;
    CHECK(records == expect_records);
}

/* Compacts everything given so far and checks the stats exactly. */
static void
compare_stats_compacted(world *w, shard_arr *a)
{
    uint64_t end = w->tmax + 1 > shard_arr_upper(a) ? w->tmax + 1 : shard_arr_upper(a);
    shard_arr_advance_upper(a, end);
    /* Also when since is already past end: compaction runs on every call. */
    shard_arr_advance_since(a, end > shard_arr_since(a) ? end : shard_arr_since(a));
    shard_arr_check(a);
    shard_arr_stats st;
    shard_arr_stats_get(a, &st);
    uint64_t keys = 0, records = 0;
    bool negative = false;
    for (int k = 0; k < w->nk; k++) {
        bool any = false;
        for (int v = 0; v < w->nv; v++) {
            records += w->total[k][v] != 0;
            any = any || w->total[k][v] != 0;
            negative = negative || w->total[k][v] < 0;
        }
        keys += any;
    }
    CHECK(st.pending == 0);
    CHECK(st.keys == keys);
    CHECK(st.records == records);
    if (w->well_formed)
        CHECK(st.negatives == 0);
    if (negative)
        CHECK(st.negatives > 0);
    CHECK(st.bytes >= st.table_bytes + st.entry_bytes + st.arena_bytes + st.log_bytes);
    CHECK(st.arena_live <= st.arena_bytes);
}

static void
run_seed(uint64_t seed, int steps)
{
    cur_seed = seed;
    world *w = calloc(1, sizeof *w);
    world_init(w, seed);
    shard_arr *a = shard_arr_new();
    shard_arr_cursor c;
    shard_arr_cursor_init(&c);
    shard_arr_upd batch[64];
    for (cur_step = 0; cur_step < steps; cur_step++) {
        uint64_t upper = shard_arr_upper(a), since = shard_arr_since(a);
        uint64_t r = below(w, 100);
        if (r < 60) { /* a run of updates, one by one or batched */
            int n = 1 + (int)below(w, 64);
            bool batched = below(w, 2) == 0;
            for (int i = 0; i < n; i++) {
                int k = (int)below(w, (uint64_t)w->nk), v = (int)below(w, (uint64_t)w->nv);
                uint64_t t = upper + below(w, 6);
                int64_t d = (int64_t)below(w, 4) + 1;
                if (below(w, 3) == 0) { /* a retraction */
                    if (w->well_formed) {
                        /* Of at most what is there at every time from t on. */
                        t = w->tmax > upper ? w->tmax : upper;
                        d = w->total[k][v] > 0 ? -(int64_t)(1 + below(w, (uint64_t)w->total[k][v]))
                                               : 0;
                    } else {
                        d = -d;
                    }
                }
                if (below(w, 50) == 0)
                    d = 0;
                record(w, k, v, t, d);
                if (batched)
                    batch[i] = (shard_arr_upd){w->khash[k], krow(w, k), vrow(w, v), t, d};
                else
                    shard_arr_update(a, w->khash[k], krow(w, k), vrow(w, v), t, d);
            }
            if (batched)
                shard_arr_update_batch(a, batch, (size_t)n);
        } else if (r < 75) {
            shard_arr_advance_upper(a, upper + below(w, 3));
        } else if (r < 87) {
            /* Usually up to upper; now and then beyond it. */
            uint64_t to = since;
            if (below(w, 8) == 0)
                to = (upper > since ? upper : since) + below(w, 4);
            else if (upper > since)
                to = since + below(w, upper - since + 1);
            shard_arr_advance_since(a, to);
        } else if (r < 93) {
            compare_at(w, a, since + below(w, 8), &c);
        } else if (r < 96) {
            /* Retire a key's history now and then so keys die and come back. */
            int k = (int)below(w, (uint64_t)w->nk);
            uint64_t t = w->tmax > upper ? w->tmax : upper;
            for (int v = 0; v < w->nv; v++) {
                if (w->total[k][v] == 0)
                    continue;
                int64_t d = -w->total[k][v];
                record(w, k, v, t, d);
                shard_arr_update(a, w->khash[k], krow(w, k), vrow(w, v), t, d);
            }
        } else if (r < 98) {
            shard_arr_check(a);
        } else {
            compare_stats_compacted(w, a);
        }
    }
    compare_at(w, a, shard_arr_since(a) + 3, &c);
    compare_stats_compacted(w, a);
    compare_at(w, a, shard_arr_since(a), &c);
    shard_arr_cursor_fini(&c);
    shard_arr_free(a);
    world_free(w);
    free(w);
}

static void
test_oracle(void **state)
{
    (void)state;
    signal(SIGABRT, on_abort);
    const char *one = getenv("SLUICE_SEED"), *many = getenv("SLUICE_SEEDS");
    if (one != NULL) {
        run_seed(strtoull(one, NULL, 10), 3000);
        return;
    }
    int nseeds = many ? atoi(many) : 40;
    for (int s = 1; s <= nseeds; s++)
        run_seed((uint64_t)s, 3000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_oracle)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
