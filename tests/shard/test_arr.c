/* Unit tests: the arrangement store (shard_arr). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shard/shard_arr.h"

/* Rows built from int8s; each helper call returns a row in its own buffer. */
typedef struct rows {
    eng_rowbuf b[8];
    int next;
} rows;

static eng_row
int_row(rows *r, int64_t v)
{
    eng_rowbuf *b = &r->b[r->next++ % 8];
    eng_rowbuf_reset(b);
    eng_push_int8(b, v);
    return eng_rowbuf_row(b);
}

static void
rows_free(rows *r)
{
    for (int i = 0; i < 8; i++)
        eng_rowbuf_free(&r->b[i]);
}

static void
put(shard_arr *a, rows *r, int64_t k, int64_t v, uint64_t t, int64_t d)
{
    eng_row key = int_row(r, k);
    shard_arr_update(a, eng_row_hash(key), key, int_row(r, v), t, d);
}

static const shard_arr_key *
get(const shard_arr *a, rows *r, int64_t k)
{
    eng_row key = int_row(r, k);
    return shard_arr_find(a, eng_row_hash(key), key);
}

/* Diff of value v under key k at t (0 if absent); asserts each value
 * appears at most once and no zero diff is returned. */
static int64_t
diff_of(const shard_arr *a, rows *r, int64_t k, int64_t v, uint64_t t)
{
    const shard_arr_key *key = get(a, r, k);
    if (key == NULL)
        return 0;
    shard_arr_cursor c;
    shard_arr_cursor_init(&c);
    shard_arr_cursor_seek(&c, a, key, t);
    eng_row val;
    int64_t d, found = 0;
    int hits = 0;
    while (shard_arr_cursor_next(&c, &val, &d)) {
        assert_true(d != 0);
        uint32_t pos = 0;
        if (eng_datum_int8(eng_row_next(val, &pos)) == v) {
            found = d;
            hits++;
        }
    }
    shard_arr_cursor_fini(&c);
    assert_true(hits <= 1);
    return found;
}

static void
test_basic(void **state)
{
    (void)state;
    rows r = {0};
    shard_arr *a = shard_arr_new();
    assert_null(get(a, &r, 1));
    put(a, &r, 1, 10, 0, 1);
    put(a, &r, 1, 10, 0, 2); /* merges into the newest entry */
    put(a, &r, 1, 11, 1, 1);
    put(a, &r, 2, 20, 2, 5);
    put(a, &r, 3, 30, 2, 0); /* no-op */
    shard_arr_check(a);
    assert_null(get(a, &r, 3));
    assert_int_equal(diff_of(a, &r, 1, 10, 0), 3);
    assert_int_equal(diff_of(a, &r, 1, 11, 0), 0);
    assert_int_equal(diff_of(a, &r, 1, 11, 1), 1);
    assert_int_equal(diff_of(a, &r, 2, 20, 1), 0);
    assert_int_equal(diff_of(a, &r, 2, 20, 2), 5);
    assert_int_equal(shard_arr_key_count(a, get(a, &r, 1), 5), 4);
    shard_arr_stats st;
    shard_arr_stats_get(a, &st);
    assert_int_equal(st.keys, 2);
    assert_int_equal(st.records, 0);
    assert_int_equal(st.pending, 3);

    shard_arr_advance_upper(a, 3);
    shard_arr_advance_since(a, 1); /* merges times 0 and 1 */
    shard_arr_check(a);
    shard_arr_stats_get(a, &st);
    assert_int_equal(st.records, 2);
    assert_int_equal(st.pending, 1);
    assert_int_equal(diff_of(a, &r, 2, 20, 1), 0);
    shard_arr_advance_since(a, 2); /* and time 2 */
    shard_arr_stats_get(a, &st);
    assert_int_equal(st.records, 3);
    assert_int_equal(st.pending, 0);
    assert_int_equal(diff_of(a, &r, 1, 10, 2), 3);
    assert_int_equal(diff_of(a, &r, 1, 11, 2), 1);
    assert_int_equal(diff_of(a, &r, 2, 20, 2), 5);

    /* Retract everything under key 1 and part of key 2. */
    put(a, &r, 1, 10, 3, -3);
    put(a, &r, 1, 11, 4, -1);
    put(a, &r, 2, 20, 4, -2);
    assert_int_equal(diff_of(a, &r, 1, 10, 3), 0);
    assert_int_equal(diff_of(a, &r, 1, 11, 3), 1);
    assert_non_null(get(a, &r, 1));
    shard_arr_advance_upper(a, 5);
    shard_arr_advance_since(a, 5);
    shard_arr_check(a);
    assert_null(get(a, &r, 1)); /* no values left: removed */
    assert_int_equal(diff_of(a, &r, 2, 20, 5), 3);
    shard_arr_stats_get(a, &st);
    assert_int_equal(st.keys, 1);
    assert_int_equal(st.records, 1);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.negatives, 0);

    /* A removed key comes back. */
    put(a, &r, 1, 12, 5, 7);
    assert_int_equal(diff_of(a, &r, 1, 12, 5), 7);
    shard_arr_advance_since(a, 6);
    shard_arr_check(a);
    assert_int_equal(diff_of(a, &r, 1, 12, 6), 7);
    size_t pos = 0;
    int n = 0;
    while (shard_arr_next_key(a, &pos) != NULL)
        n++;
    assert_int_equal(n, 2);
    shard_arr_free(a);
    rows_free(&r);
}

static void
test_negative_detected(void **state)
{
    (void)state;
    rows r = {0};
    shard_arr *a = shard_arr_new();
    put(a, &r, 1, 1, 0, 1);
    put(a, &r, 1, 2, 0, -1); /* retracting what was never there */
    assert_int_equal(diff_of(a, &r, 1, 2, 0), -1);
    shard_arr_advance_since(a, 1);
    shard_arr_stats st;
    shard_arr_stats_get(a, &st);
    assert_int_equal(st.negatives, 1);
    assert_int_equal(diff_of(a, &r, 1, 2, 1), -1); /* kept, not hidden */
    assert_int_equal(shard_arr_key_count(a, get(a, &r, 1), 1), 0);
    shard_arr_check(a);
    shard_arr_free(a);
    rows_free(&r);
}

/* Empty keys and values (zero-column rows) and large values that need
 * chunks of their own. */
static void
test_empty_and_large_rows(void **state)
{
    (void)state;
    shard_arr *a = shard_arr_new();
    eng_row empty = {NULL, 0};
    uint64_t h = eng_row_hash(empty);
    shard_arr_update(a, h, empty, empty, 0, 4);
    const shard_arr_key *k = shard_arr_find(a, h, empty);
    assert_non_null(k);
    assert_int_equal(shard_arr_key_row(k).len, 0);
    assert_int_equal(shard_arr_key_count(a, k, 0), 4);
    size_t big = 300000;
    uint8_t *bytes = malloc(big);
    for (size_t i = 0; i < big; i++)
        bytes[i] = (uint8_t)(i * 7);
    eng_row bigrow = {bytes, (uint32_t)big};
    for (int i = 0; i < 3; i++) {
        bytes[0] = (uint8_t)i;
        shard_arr_update(a, h, empty, bigrow, 0, 1);
        shard_arr_update(a, eng_row_hash(bigrow), bigrow, empty, 0, 1);
    }
    shard_arr_advance_since(a, 1);
    shard_arr_check(a);
    k = shard_arr_find(a, h, empty);
    shard_arr_cursor c;
    shard_arr_cursor_init(&c);
    shard_arr_cursor_seek(&c, a, k, 1);
    eng_row v;
    int64_t d;
    int nbig = 0, nempty = 0;
    while (shard_arr_cursor_next(&c, &v, &d)) {
        if (v.len == 0) {
            assert_int_equal(d, 4);
            nempty++;
        } else {
            assert_int_equal(v.len, big);
            assert_memory_equal(v.data + 1, bytes + 1, big - 1);
            assert_true(v.data[0] < 3);
            nbig++;
        }
    }
    shard_arr_cursor_fini(&c);
    assert_int_equal(nempty, 1);
    assert_int_equal(nbig, 3);
    const shard_arr_key *bk = shard_arr_find(a, eng_row_hash(bigrow), bigrow);
    assert_non_null(bk); /* bytes[0] == 2: the last of the three big keys */
    assert_int_equal(shard_arr_key_count(a, bk, 1), 1);
    shard_arr_stats st;
    shard_arr_stats_get(a, &st);
    assert_int_equal(st.keys, 4);
    assert_int_equal(st.records, 7); /* empty key: empty + 3 big values; 3 big keys: empty */
    assert_true(st.arena_live >= 6 * big);
    free(bytes);
    shard_arr_free(a);
}

/* Different keys with equal hashes, and hashes equal in the low 32 bits
 * only: all must stay apart. */
static void
test_hash_collisions(void **state)
{
    (void)state;
    rows r = {0};
    shard_arr *a = shard_arr_new();
    for (int64_t k = 0; k < 100; k++) {
        eng_row key = int_row(&r, k);
        uint64_t h = (k % 2) ? 42 : (42 | ((uint64_t)k << 32));
        shard_arr_update(a, h, key, int_row(&r, k * 10), 0, k + 1);
    }
    shard_arr_check(a);
    for (int round = 0; round < 2; round++) {
        for (int64_t k = 0; k < 100; k++) {
            eng_row key = int_row(&r, k);
            uint64_t h = (k % 2) ? 42 : (42 | ((uint64_t)k << 32));
            const shard_arr_key *f = shard_arr_find(a, h, key);
            assert_non_null(f);
            assert_true(eng_row_eq(shard_arr_key_row(f), key));
            assert_int_equal(shard_arr_key_hash(f), h);
            assert_int_equal(shard_arr_key_count(a, f, 1), k + 1);
            assert_null(shard_arr_find(a, h ^ (1ull << 40), key));
        }
        shard_arr_advance_since(a, 1);
        shard_arr_check(a);
    }
    shard_arr_free(a);
    rows_free(&r);
}

/* update_batch gives the same state as one-by-one updates, across table
 * growth and key-chunk boundaries; deleting most keys squeezes them out and
 * gives memory back. */
static void
test_batch_growth_and_rebuild(void **state)
{
    (void)state;
    const int nkeys = 20000, nupd = 100000;
    shard_arr *one = shard_arr_new(), *bat = shard_arr_new();
    eng_rowbuf kb = {0}, vb = {0};
    shard_arr_upd *u = calloc((size_t)nupd, sizeof *u);
    uint8_t *store = malloc((size_t)nupd * 18);
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < nupd; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        eng_rowbuf_reset(&kb);
        eng_push_int8(&kb, (int64_t)(((uint64_t)i * 7919) % (uint64_t)nkeys)); /* 5 each */
        eng_rowbuf_reset(&vb);
        eng_push_int8(&vb, (int64_t)((x >> 20) % 3));
        memcpy(store + (size_t)i * 18, kb.data, 9);
        memcpy(store + (size_t)i * 18 + 9, vb.data, 9);
        u[i].key = (eng_row){store + (size_t)i * 18, 9};
        u[i].val = (eng_row){store + (size_t)i * 18 + 9, 9};
        u[i].hash = eng_row_hash(u[i].key);
        u[i].time = (uint64_t)(i / 10000);
        u[i].diff = 1;
    }
    for (int i = 0; i < nupd; i += 10000) {
        shard_arr_update_batch(bat, u + i, 10000);
        for (int j = i; j < i + 10000; j++)
            shard_arr_update(one, u[j].hash, u[j].key, u[j].val, u[j].time, u[j].diff);
        uint64_t t = (uint64_t)(i / 10000) + 1;
        shard_arr_advance_upper(bat, t);
        shard_arr_advance_upper(one, t);
        if (t % 3 == 0) {
            shard_arr_advance_since(bat, t - 1);
            shard_arr_advance_since(one, t - 1);
        }
    }
    shard_arr_check(bat);
    shard_arr_check(one);
    shard_arr_stats s1, s2;
    shard_arr_stats_get(one, &s1);
    shard_arr_stats_get(bat, &s2);
    assert_int_equal(s1.keys, nkeys);
    assert_int_equal(s1.keys, s2.keys);
    assert_int_equal(s1.records, s2.records);
    assert_int_equal(s1.pending, s2.pending);
    size_t pos = 0;
    const shard_arr_key *k;
    shard_arr_cursor c;
    shard_arr_cursor_init(&c);
    int64_t total = 0;
    while ((k = shard_arr_next_key(one, &pos)) != NULL) {
        const shard_arr_key *k2 = shard_arr_find(bat, shard_arr_key_hash(k), shard_arr_key_row(k));
        assert_non_null(k2);
        int64_t n1 = shard_arr_key_count(one, k, 9), n2 = shard_arr_key_count(bat, k2, 9);
        assert_int_equal(n1, n2);
        total += n1;
        shard_arr_cursor_seek(&c, one, k, 9);
        eng_row v;
        int64_t d;
        while (shard_arr_cursor_next(&c, &v, &d))
            assert_true(d > 0);
    }
    shard_arr_cursor_fini(&c);
    assert_int_equal(total, nupd);

    /* Retract everything but every 16th key. */
    shard_arr_advance_upper(bat, 10);
    shard_arr_advance_since(bat, 10);
    shard_arr_stats_get(bat, &s1);
    for (int i = 0; i < nupd; i++) {
        uint32_t pos9 = 0;
        int64_t kv = eng_datum_int8(eng_row_next(u[i].key, &pos9));
        u[i].time = 10;
        u[i].diff = kv % 16 != 0 ? -1 : 0;
    }
    shard_arr_update_batch(bat, u, (size_t)nupd);
    shard_arr_advance_upper(bat, 11);
    shard_arr_advance_since(bat, 11);
    shard_arr_check(bat);
    shard_arr_stats_get(bat, &s2);
    assert_int_equal(s2.keys, (nkeys + 15) / 16);
    assert_int_equal(s2.pending, 0);
    /* The log keeps its array for the next burst; the rest shrinks. */
    assert_true(s2.bytes - s2.log_bytes < (s1.bytes - s1.log_bytes) / 4);
    printf("# %d keys: %llu bytes; after deleting 15/16: %llu keys, %llu bytes\n", nkeys,
           (unsigned long long)s1.bytes, (unsigned long long)s2.keys, (unsigned long long)s2.bytes);
    free(u);
    free(store);
    eng_rowbuf_free(&kb);
    eng_rowbuf_free(&vb);
    shard_arr_free(one);
    shard_arr_free(bat);
}

/* since may pass upper: updates then arriving at times < since are merged
 * by the next compaction and read at any t >= since. */
static void
test_since_beyond_upper(void **state)
{
    (void)state;
    rows r = {0};
    shard_arr *a = shard_arr_new();
    shard_arr_advance_since(a, 10);
    put(a, &r, 1, 1, 3, 2);
    put(a, &r, 1, 1, 12, 1);
    assert_int_equal(diff_of(a, &r, 1, 1, 10), 2);
    assert_int_equal(diff_of(a, &r, 1, 1, 12), 3);
    shard_arr_advance_since(a, 10);
    shard_arr_check(a);
    shard_arr_stats st;
    shard_arr_stats_get(a, &st);
    assert_int_equal(st.records, 1);
    assert_int_equal(st.pending, 1);
    assert_int_equal(diff_of(a, &r, 1, 1, 11), 2);
    shard_arr_free(a);
    rows_free(&r);
}

/* Many values under one key take the sort-based consolidation path. */
static void
test_many_values(void **state)
{
    (void)state;
    rows r = {0};
    shard_arr *a = shard_arr_new();
    for (int t = 0; t < 4; t++)
        for (int64_t v = 0; v < 500; v++)
            put(a, &r, 7, v, (uint64_t)t, (v % 3 == 0 && t == 3) ? -t : 1);
    assert_int_equal(diff_of(a, &r, 7, 3, 3), 0);
    assert_int_equal(diff_of(a, &r, 7, 4, 3), 4);
    shard_arr_advance_since(a, 2);
    assert_int_equal(diff_of(a, &r, 7, 3, 3), 0);
    assert_int_equal(diff_of(a, &r, 7, 3, 2), 3);
    shard_arr_advance_since(a, 4);
    shard_arr_check(a);
    shard_arr_stats st;
    shard_arr_stats_get(a, &st);
    assert_int_equal(st.records, 500 - 167);
    assert_int_equal(shard_arr_key_count(a, get(a, &r, 7), 4), 4 * 333);
    shard_arr_free(a);
    rows_free(&r);
}

/* A burst's log memory is given back over later rounds, or at once by
 * trim; nothing readable changes. */
static void
test_log_shrinks_and_trim(void **state)
{
    (void)state;
    rows r = {0};
    shard_arr *a = shard_arr_new();
    for (int64_t i = 0; i < 100000; i++)
        put(a, &r, i % 5000, i % 3, 0, 1);
    shard_arr_advance_upper(a, 1);
    shard_arr_advance_since(a, 1);
    shard_arr_stats burst, later;
    shard_arr_stats_get(a, &burst);
    assert_true(burst.log_bytes >= 100000 * 32);
    for (uint64_t t = 1; t < 12; t++) {
        put(a, &r, (int64_t)t, 0, t, 1);
        shard_arr_advance_upper(a, t + 1);
        shard_arr_advance_since(a, t + 1);
    }
    shard_arr_check(a);
    shard_arr_stats_get(a, &later);
    assert_true(later.log_bytes < burst.log_bytes / 8);
    shard_arr_trim(a);
    shard_arr_stats_get(a, &later);
    assert_true(later.log_bytes == 0);
    assert_int_equal(diff_of(a, &r, 7, 0, 12), 7 + 1); /* 7 in the burst, 1 at t = 7 */
    assert_int_equal(diff_of(a, &r, 7, 1, 12), 7);
    put(a, &r, 7, 1, 12, 1);
    shard_arr_trim(a); /* with a pending update: the log stays */
    assert_int_equal(diff_of(a, &r, 7, 1, 12), 8);
    shard_arr_advance_since(a, 12);
    shard_arr_check(a);
    assert_int_equal(diff_of(a, &r, 7, 1, 12), 8);
    shard_arr_free(a);
    rows_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_negative_detected),
        cmocka_unit_test(test_empty_and_large_rows),
        cmocka_unit_test(test_hash_collisions),
        cmocka_unit_test(test_batch_growth_and_rebuild),
        cmocka_unit_test(test_since_beyond_upper),
        cmocka_unit_test(test_many_values),
        cmocka_unit_test(test_log_shrinks_and_trim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
