/* Arrangement store: hash index over key entries, arena-held key bytes and
 * value blobs, and a log of recent updates. Layout and semantics are in
 * shard_arr.h; this file keeps to the mechanics.
 *
 * Notes — invariants (shard_arr_check verifies all of them):
 * - Every key entry 0..nkeys has exactly one table slot, whose h32 is the
 *   low 32 bits of the entry's hash. A slot is empty iff kidx == NONE.
 * - An entry is dead iff vals == NULL and log == NONE. Dead entries keep
 *   their slot (so the table never needs deletion) until a rebuild squeezes
 *   them out; find and next_key skip them. ndead counts them.
 * - dirty[0..ndirty) lists, once each, exactly the entries with log != NONE.
 * - A blob holds values with distinct bytes and nonzero diffs; records is
 *   the sum of their counts.
 * - arena.live is the byte count of live keys' bytes, their unused blob
 *   reserves and their blobs (rebuild asserts it is exact).
 * - A blob reserve exists only while the key has no blob.
 * - log_live is the number of entries reachable from some key's chain;
 *   every unreachable entry below log_len is garbage. log_min_time is a lower
 *   bound of the times in the log. */
#include "shard/shard_arr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/eng_err.h"

#define NONE UINT32_MAX
#define KSHIFT 12u
#define KCHUNK (1u << KSHIFT) /* key entries per chunk */
#define KFIRST 16u            /* first capacity of chunk 0 */
#define TAB_MIN 16u
#define ARENA_MIN_CHUNK 4096u
#define ARENA_MAX_CHUNK (4u << 20)
#define GARBAGE_MIN 4096u
#define SMALL_MERGE 32u /* consolidate by linear search up to this many values */

struct shard_arr_key {
    uint64_t hash;
    const uint8_t *key; /* key bytes in the arena (then maybe a reserve, see below) */
    uint8_t *vals;      /* compacted value blob in the arena, or NULL */
    uint32_t klen;      /* key length, | KLEN_RESERVE while a blob reserve follows the key */
    uint32_t log;       /* newest log entry of this key, or NONE */
};
_Static_assert(sizeof(struct shard_arr_key) == 32, "key entries are 32 bytes");

/* A new key's bytes are allocated together with room for its first blob
 * (one value, the first update's, diff in [-64, 63]) right behind them, so
 * that a key and its values usually share a cache line: a lookup that reads
 * values costs one miss less. While unused, the reserve holds its own size
 * as a varint and KLEN_RESERVE is set; the first blob written goes there if
 * it fits, and the reserve is given up otherwise (or when the key dies). */
#define KLEN_RESERVE 0x80000000u
#define KLEN_MASK 0x7fffffffu

static inline uint32_t
kent_klen(const shard_arr_key *k)
{
    return k->klen & KLEN_MASK;
}

typedef struct kent_slot {
    uint32_t h32;
    uint32_t kidx;
} kent_slot;

typedef struct logent {
    const uint8_t *val;
    uint32_t vlen;
    uint32_t next; /* older entry of the same key, or NONE */
    uint64_t time;
    int64_t diff;
} logent;

/* A bump arena of chunks; freed as a whole. */
typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t size;
    uint8_t data[];
} arena_chunk;

typedef struct arena {
    arena_chunk *chunks;
    uint8_t *cur; /* free space of the current chunk: cur[0..left) */
    size_t left;
    size_t total; /* sum of chunk sizes */
    size_t live;  /* bytes handed out and not released */
} arena;

typedef shard_arr_key kent;

/* Where zero-length log values point: rows handed out are never NULL, so
 * callers may memcmp them without special cases. */
static const uint8_t empty_bytes[1];

struct shard_arr {
    uint64_t upper, since;
    /* index */
    kent_slot *tab;
    uint32_t tab_mask;
    /* key entries */
    kent **kchunks;
    uint32_t nkchunks, kchunks_cap, k0cap;
    uint32_t nkeys, ndead;
    uint64_t records, negatives;
    arena arena;
    /* log of recent updates */
    logent *log;
    uint32_t log_len, log_cap, log_live;
    uint64_t log_min_time;
    arena log_arena;
    uint32_t *dirty;
    uint32_t ndirty, dirty_cap;
    /* scratch for compaction */
    shard_arr_vd *scratch;
    uint32_t scratch_cap;
    uint8_t *enc;
    size_t enc_cap;
};

/* ------------------------------------------------------------------ memory */

static void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL && n > 0) {
        fprintf(stderr, "shard_arr: out of memory allocating %zu bytes\n", n);
        abort();
    }
    return q;
}

static void
arena_init(arena *ar)
{
    memset(ar, 0, sizeof *ar);
}

static void
arena_free(arena *ar)
{
    arena_chunk *c = ar->chunks;
    while (c != NULL) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    arena_init(ar);
}

static arena_chunk *
arena_add_chunk(arena *ar, size_t size)
{
    arena_chunk *c = xrealloc(NULL, sizeof *c + size);
    c->size = size;
    c->next = ar->chunks;
    ar->chunks = c;
    ar->total += size;
    return c;
}

/* Bytes that are neither live nor still free in the current chunk. */
static size_t
arena_garbage(const arena *ar)
{
    return ar->total - ar->live - ar->left;
}

/* Returns n fresh bytes (n > 0), valid until the arena is freed. Requests
 * larger than an eighth of a chunk get a chunk of their own, so the free
 * tail of the current chunk is not thrown away for them. */
static uint8_t *
arena_alloc(arena *ar, size_t n)
{
    ar->live += n;
    if (ar->left >= n) {
        uint8_t *p = ar->cur;
        ar->cur += n;
        ar->left -= n;
        return p;
    }
    size_t chunk = ar->total / 8;
    chunk = chunk < ARENA_MIN_CHUNK ? ARENA_MIN_CHUNK : chunk;
    chunk = chunk > ARENA_MAX_CHUNK ? ARENA_MAX_CHUNK : chunk;
    if (n > chunk / 8) {
        arena_chunk *c = arena_add_chunk(ar, n);
        if (ar->cur != NULL) { /* keep the current chunk current: move c behind it */
            ar->chunks = c->next;
            c->next = ar->chunks->next;
            ar->chunks->next = c;
        }
        return c->data;
    }
    arena_chunk *c = arena_add_chunk(ar, chunk);
    ar->cur = c->data + n;
    ar->left = chunk - n;
    return c->data;
}

static void
arena_release(arena *ar, size_t n)
{
    ENG_ASSERT(ar->live >= n);
    ar->live -= n;
}

/* ------------------------------------------------------------------ varints */

static inline uint32_t
varint_len(uint64_t v)
{
    uint32_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline uint8_t *
varint_put(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static inline const uint8_t *
varint_get(const uint8_t *p, uint64_t *out)
{
    uint64_t v = *p & 0x7f;
    unsigned shift = 7;
    while (*p++ & 0x80) {
        v |= (uint64_t)(*p & 0x7f) << shift;
        shift += 7;
    }
    *out = v;
    return p;
}

static inline uint64_t
zigzag(int64_t v)
{
    uint64_t u = (uint64_t)v;
    return (u << 1) ^ (0 - (u >> 63)); /* all ones for negatives, no signed shift */
}

static inline int64_t
unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Decodes one blob value at p; returns the position after it. */
static inline const uint8_t *
blob_value(const uint8_t *p, shard_arr_vd *out)
{
    uint64_t len, zz;
    p = varint_get(p, &len);
    p = varint_get(p, &zz);
    out->data = p;
    out->len = (uint32_t)len;
    out->diff = unzigzag(zz);
    return p + len;
}

static inline uint32_t
blob_count(const uint8_t *blob)
{
    uint64_t n;
    varint_get(blob, &n);
    return (uint32_t)n;
}

/* Encoded size of a blob (0 for NULL). */
static size_t
blob_size(const uint8_t *blob)
{
    if (blob == NULL)
        return 0;
    uint64_t n;
    const uint8_t *p = varint_get(blob, &n);
    shard_arr_vd v;
    for (uint64_t i = 0; i < n; i++)
        p = blob_value(p, &v);
    return (size_t)(p - blob);
}

/* Size of the blob reserve behind k's key bytes (0 if none). */
static inline size_t
reserve_size(const shard_arr_key *k)
{
    if (!(k->klen & KLEN_RESERVE))
        return 0;
    uint64_t r;
    varint_get(k->key + kent_klen(k), &r);
    return (size_t)r;
}

/* ------------------------------------------------------------------ key entries and table */

static inline kent *
kent_at(const shard_arr *a, uint32_t kidx)
{
    return a->kchunks[kidx >> KSHIFT] + (kidx & (KCHUNK - 1));
}

static inline bool
kent_dead(const kent *k)
{
    return k->vals == NULL && k->log == NONE;
}

/* Appends an entry and returns its index. Chunk 0 grows by doubling up to
 * KCHUNK entries (small arrangements stay small); later chunks are full size
 * and never move. */
static uint32_t
kent_append(shard_arr *a)
{
    uint32_t kidx = a->nkeys;
    ENG_ASSERT(kidx < NONE - 1);
    uint32_t c = kidx >> KSHIFT;
    if (c == 0) {
        if (a->nkchunks == 0) {
            a->kchunks_cap = 4;
            a->kchunks = xrealloc(NULL, a->kchunks_cap * sizeof(kent *));
            a->kchunks[0] = NULL;
            a->nkchunks = 1;
        }
        if (kidx == a->k0cap) {
            a->k0cap = a->k0cap ? a->k0cap * 2 : KFIRST;
            a->kchunks[0] = xrealloc(a->kchunks[0], a->k0cap * sizeof(kent));
        }
    } else if (c == a->nkchunks) {
        if (a->nkchunks == a->kchunks_cap) {
            a->kchunks_cap *= 2;
            a->kchunks = xrealloc(a->kchunks, a->kchunks_cap * sizeof(kent *));
        }
        a->kchunks[a->nkchunks++] = xrealloc(NULL, KCHUNK * sizeof(kent));
    }
    a->nkeys++;
    return kidx;
}

static void
tab_alloc(shard_arr *a, uint32_t cap)
{
    a->tab = xrealloc(NULL, (size_t)cap * sizeof(kent_slot));
    memset(a->tab, 0xff, (size_t)cap * sizeof(kent_slot));
    a->tab_mask = cap - 1;
}

static inline void
tab_place(kent_slot *tab, uint32_t mask, uint32_t h32, uint32_t kidx)
{
    uint32_t i = h32 & mask;
    while (tab[i].kidx != NONE)
        i = (i + 1) & mask;
    tab[i] = (kent_slot){h32, kidx};
}

/* Smallest power-of-two capacity that holds n keys at load <= 3/4. */
static uint32_t
tab_cap_for(uint32_t n)
{
    uint64_t cap = TAB_MIN;
    while (n > cap / 4 * 3)
        cap *= 2;
    ENG_ASSERT(cap <= (1ull << 31));
    return (uint32_t)cap;
}

/* Doubles the table. Slots carry the index bits, so no entry is read. */
static void
tab_grow(shard_arr *a)
{
    kent_slot *old = a->tab;
    uint32_t oldcap = a->tab_mask + 1;
    tab_alloc(a, tab_cap_for(a->nkeys + 1));
    for (uint32_t i = 0; i < oldcap; i++)
        if (old[i].kidx != NONE)
            tab_place(a->tab, a->tab_mask, old[i].h32, old[i].kidx);
    free(old);
}

/* Rebuilds the table from the entries, sized for nkeys. */
static void
tab_rebuild(shard_arr *a)
{
    free(a->tab);
    tab_alloc(a, tab_cap_for(a->nkeys));
    for (uint32_t i = 0; i < a->nkeys; i++)
        tab_place(a->tab, a->tab_mask, (uint32_t)kent_at(a, i)->hash, i);
}

/* memcmp(a, b, n) == 0, inlined for the short keys that dominate (8 to 16
 * bytes: two overlapping 8-byte loads, no call). */
static inline bool
bytes_eq(const uint8_t *a, const uint8_t *b, uint32_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a0, b0, a1, b1;
        memcpy(&a0, a, 8);
        memcpy(&b0, b, 8);
        memcpy(&a1, a + n - 8, 8);
        memcpy(&b1, b + n - 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    return n == 0 || memcmp(a, b, n) == 0;
}

/* Index of the entry for (hash, key), dead or alive, or NONE; *slot_out is
 * its slot or the empty slot ending the probe. */
static inline uint32_t
tab_lookup(const shard_arr *a, uint64_t hash, eng_row key, uint32_t *slot_out)
{
    uint32_t h32 = (uint32_t)hash, mask = a->tab_mask;
    uint32_t i = h32 & mask;
    for (;;) {
        kent_slot s = a->tab[i];
        if (s.kidx == NONE)
            break;
        if (s.h32 == h32) {
            const kent *k = kent_at(a, s.kidx);
            if (k->hash == hash && kent_klen(k) == key.len && bytes_eq(k->key, key.data, key.len)) {
                *slot_out = i;
                return s.kidx;
            }
        }
        i = (i + 1) & mask;
    }
    *slot_out = i;
    return NONE;
}

/* Prefetches the cache line of hash's home slot. */
static inline void
prefetch_slot(const shard_arr *a, uint64_t hash)
{
    __builtin_prefetch(&a->tab[(uint32_t)hash & a->tab_mask]);
}

/* Finds, among the first few slots of hash's probe run (the home slot's
 * line is already in cache), the first one with matching bits, and
 * prefetches its entry (or, when deep, the entry's key bytes, blob and
 * newest log entry: the entry must then be in cache too). */
static inline void
prefetch_entry(const shard_arr *a, uint64_t hash, bool deep)
{
    uint32_t h32 = (uint32_t)hash, i = h32 & a->tab_mask;
    kent_slot s;
    for (int probe = 0;; probe++) {
        s = a->tab[i];
        if (s.kidx == NONE || probe == 4)
            return;
        if (s.h32 == h32)
            break;
        i = (i + 1) & a->tab_mask;
    }
    const kent *k = kent_at(a, s.kidx);
    if (!deep) {
        __builtin_prefetch(k);
        return;
    }
    __builtin_prefetch(k->key);
    if (k->log != NONE)
        __builtin_prefetch(&a->log[k->log]);
    if (k->vals != NULL)
        __builtin_prefetch(k->vals);
}

/* ------------------------------------------------------------------ lifecycle */

shard_arr *
shard_arr_new(void)
{
    shard_arr *a = xrealloc(NULL, sizeof *a);
    memset(a, 0, sizeof *a);
    arena_init(&a->arena);
    arena_init(&a->log_arena);
    tab_alloc(a, TAB_MIN);
    a->log_min_time = UINT64_MAX;
    return a;
}

void
shard_arr_free(shard_arr *a)
{
    if (a == NULL)
        return;
    free(a->tab);
    for (uint32_t c = 0; c < a->nkchunks; c++)
        free(a->kchunks[c]);
    free(a->kchunks);
    arena_free(&a->arena);
    arena_free(&a->log_arena);
    free(a->log);
    free(a->dirty);
    free(a->scratch);
    free(a->enc);
    free(a);
}

uint64_t
shard_arr_upper(const shard_arr *a)
{
    return a->upper;
}

uint64_t
shard_arr_since(const shard_arr *a)
{
    return a->since;
}

void
shard_arr_advance_upper(shard_arr *a, uint64_t upper)
{
    ENG_ASSERT(upper >= a->upper);
    a->upper = upper;
}

/* ------------------------------------------------------------------ updates */

static void
dirty_push(shard_arr *a, uint32_t kidx)
{
    if (a->ndirty == a->dirty_cap) {
        a->dirty_cap = a->dirty_cap ? a->dirty_cap * 2 : 64;
        a->dirty = xrealloc(a->dirty, a->dirty_cap * sizeof(uint32_t));
    }
    a->dirty[a->ndirty++] = kidx;
}

static void
log_append(shard_arr *a, kent *k, eng_row val, uint64_t time, int64_t diff)
{
    if (a->log_len == a->log_cap) {
        ENG_ASSERT(a->log_cap < NONE / 2);
        a->log_cap = a->log_cap ? a->log_cap * 2 : 256;
        a->log = xrealloc(a->log, (size_t)a->log_cap * sizeof(logent));
    }
    logent *e = &a->log[a->log_len];
    e->val = empty_bytes;
    if (val.len > 0) {
        uint8_t *p = arena_alloc(&a->log_arena, val.len);
        memcpy(p, val.data, val.len);
        e->val = p;
    }
    e->vlen = val.len;
    e->next = k->log;
    e->time = time;
    e->diff = diff;
    k->log = a->log_len++;
    a->log_live++;
    if (time < a->log_min_time)
        a->log_min_time = time;
}

/* Applies one nonzero update (time already checked). */
static inline void
apply_update(shard_arr *a, uint64_t hash, eng_row key, eng_row val, uint64_t time, int64_t diff)
{
    uint32_t slot;
    uint32_t kidx = tab_lookup(a, hash, key, &slot);
    kent *k;
    if (kidx == NONE) {
        if (a->nkeys + 1 > (a->tab_mask + 1) / 4 * 3) {
            tab_grow(a);
            tab_lookup(a, hash, key, &slot);
        }
        ENG_ASSERT(key.len <= KLEN_MASK);
        kidx = kent_append(a);
        a->tab[slot] = (kent_slot){(uint32_t)hash, kidx};
        k = kent_at(a, kidx);
        k->hash = hash;
        k->klen = key.len | KLEN_RESERVE;
        k->vals = NULL;
        k->log = NONE;
        size_t reserve = 1 + varint_len(val.len) + 1 + val.len; /* count, len, diff, bytes */
        uint8_t *p = arena_alloc(&a->arena, key.len + reserve);
        if (key.len)
            memcpy(p, key.data, key.len);
        varint_put(p + key.len, reserve);
        k->key = p;
        dirty_push(a, kidx);
    } else {
        k = kent_at(a, kidx);
        if (k->log != NONE) {
            /* Repeats of the newest (val, time) add up in place: hot keys
             * updated many times within one time cost one entry. */
            logent *e = &a->log[k->log];
            if (e->time == time && e->vlen == val.len && bytes_eq(e->val, val.data, val.len)) {
                e->diff += diff;
                return;
            }
        } else {
            if (k->vals == NULL) { /* dead until now: its key bytes are live again */
                a->ndead--;
                a->arena.live += kent_klen(k);
            }
            dirty_push(a, kidx);
        }
    }
    log_append(a, k, val, time, diff);
}

void
shard_arr_update(shard_arr *a, uint64_t hash, eng_row key, eng_row val, uint64_t time, int64_t diff)
{
    ENG_ASSERT(time >= a->upper);
    if (diff == 0)
        return;
    apply_update(a, hash, key, val, time, diff);
}

/* Three-stage software pipeline: slot lines are prefetched PF_SLOT updates
 * ahead; PF_ENTRY ahead the (now cached) slots name the key entry to
 * prefetch; PF_KEY ahead the (now cached) entry names the key bytes (with
 * the blob usually behind them) and the newest log entry. Each update then
 * finds most of its memory in cache. A resize in the middle only makes some
 * prefetches useless. Longer distances (32/16/8) measured the same here. */
enum { PF_SLOT = 16, PF_ENTRY = 8, PF_KEY = 4 };

void
shard_arr_update_batch(shard_arr *a, const shard_arr_upd *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i + PF_SLOT < n)
            prefetch_slot(a, u[i + PF_SLOT].hash);
        if (i + PF_ENTRY < n)
            prefetch_entry(a, u[i + PF_ENTRY].hash, false);
        if (i + PF_KEY < n)
            prefetch_entry(a, u[i + PF_KEY].hash, true);
        ENG_ASSERT(u[i].time >= a->upper);
        if (u[i].diff != 0)
            apply_update(a, u[i].hash, u[i].key, u[i].val, u[i].time, u[i].diff);
    }
}

/* ------------------------------------------------------------------ consolidation */

static int
vd_cmp(const void *x, const void *y)
{
    const shard_arr_vd *a = x, *b = y;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return a->len ? memcmp(a->data, b->data, a->len) : 0;
}

static inline bool
vd_same(const shard_arr_vd *a, const shard_arr_vd *b)
{
    return a->len == b->len && bytes_eq(a->data, b->data, a->len);
}

/* Merges equal values of v[0..n) by adding diffs, where v[0..nd) are
 * already distinct; returns the new count. Zero diffs are kept. */
static uint32_t
vd_consolidate(shard_arr_vd *v, uint32_t nd, uint32_t n)
{
    if (n == nd)
        return n;
    if (n <= SMALL_MERGE) {
        uint32_t m = nd;
        for (uint32_t i = nd; i < n; i++) {
            uint32_t j = 0;
            while (j < m && !vd_same(&v[j], &v[i]))
                j++;
            if (j < m)
                v[j].diff += v[i].diff;
            else
                v[m++] = v[i];
        }
        return m;
    }
    qsort(v, n, sizeof *v, vd_cmp);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (m > 0 && vd_same(&v[m - 1], &v[i]))
            v[m - 1].diff += v[i].diff;
        else
            v[m++] = v[i];
    }
    return m;
}

static void
vd_reserve(shard_arr_vd **buf, uint32_t *cap, uint32_t need)
{
    if (need <= *cap)
        return;
    uint32_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    *buf = xrealloc(*buf, (size_t)c * sizeof **buf);
    *cap = c;
}

/* Appends the blob's values to buf[*n..]. */
static void
vd_push_blob(shard_arr_vd **buf, uint32_t *cap, uint32_t *n, const uint8_t *blob)
{
    if (blob == NULL)
        return;
    uint64_t cnt;
    const uint8_t *p = varint_get(blob, &cnt);
    vd_reserve(buf, cap, *n + (uint32_t)cnt);
    for (uint64_t i = 0; i < cnt; i++)
        p = blob_value(p, &(*buf)[(*n)++]);
}

/* ------------------------------------------------------------------ compaction */

/* Replaces k's blob by the nonzero values of v[0..m). */
static void
write_blob(shard_arr *a, kent *k, const shard_arr_vd *v, uint32_t m, size_t old_size)
{
    uint32_t cnt = 0;
    size_t size = 0;
    for (uint32_t i = 0; i < m; i++) {
        if (v[i].diff == 0)
            continue;
        cnt++;
        size += varint_len(v[i].len) + varint_len(zigzag(v[i].diff)) + v[i].len;
        if (v[i].diff < 0)
            a->negatives++;
    }
    if (cnt == 0) {
        arena_release(&a->arena, old_size);
        k->vals = NULL;
        return; /* an unused reserve stays for later */
    }
    size += varint_len(cnt);
    /* Encode aside: the values may point into the old blob. */
    if (size > a->enc_cap) {
        a->enc_cap = size * 2;
        a->enc = xrealloc(a->enc, a->enc_cap);
    }
    uint8_t *p = varint_put(a->enc, cnt);
    for (uint32_t i = 0; i < m; i++) {
        if (v[i].diff == 0)
            continue;
        p = varint_put(p, v[i].len);
        p = varint_put(p, zigzag(v[i].diff));
        if (v[i].len)
            memcpy(p, v[i].data, v[i].len);
        p += v[i].len;
    }
    ENG_ASSERT((size_t)(p - a->enc) == size);
    size_t reserve = reserve_size(k);
    if (k->vals != NULL && size <= old_size) {
        memcpy(k->vals, a->enc, size);
        arena_release(&a->arena, old_size - size);
    } else if (reserve > 0) { /* first blob: into the reserve if it fits */
        k->klen &= KLEN_MASK;
        uint8_t *r = (uint8_t *)k->key + kent_klen(k);
        if (size <= reserve) {
            memcpy(r, a->enc, size);
            k->vals = r;
            arena_release(&a->arena, reserve - size);
        } else {
            arena_release(&a->arena, reserve);
            k->vals = arena_alloc(&a->arena, size);
            memcpy(k->vals, a->enc, size);
        }
    } else {
        arena_release(&a->arena, old_size);
        k->vals = arena_alloc(&a->arena, size);
        memcpy(k->vals, a->enc, size);
    }
    a->records += cnt;
}

/* Folds k's log entries with time <= since (and any zero diff) into its
 * blob; keeps the rest chained in order. Returns true if k still has log entries. */
static bool
compact_key(shard_arr *a, kent *k, uint64_t since, uint64_t *min_time)
{
    /* Fast path, the common case of a counter-like key: one log entry, due,
     * for the one value the blob holds. Add the diff in place when its
     * encoded length does not change. */
    const logent *one = &a->log[k->log];
    if (one->next == NONE && one->time <= since && k->vals != NULL && k->vals[0] == 1) {
        shard_arr_vd v;
        uint8_t *dp = k->vals + 1 + varint_len(one->vlen); /* where the diff starts */
        const uint8_t *end = blob_value(k->vals + 1, &v);
        int64_t nd = v.diff + one->diff;
        if (nd != 0 && v.len == one->vlen && bytes_eq(v.data, one->val, v.len) &&
            varint_len(zigzag(nd)) == varint_len(zigzag(v.diff))) {
            uint8_t *after = varint_put(dp, zigzag(nd));
            ENG_ASSERT(after == v.data && end == v.data + v.len);
            if (nd < 0)
                a->negatives++;
            a->log_live--;
            k->log = NONE;
            return false;
        }
    }
    uint32_t n = 0, nblob = 0;
    bool merged = false;
    size_t old_size = 0;
    uint32_t keep_head = NONE, keep_tail = NONE;
    for (uint32_t e = k->log; e != NONE;) {
        logent *le = &a->log[e];
        uint32_t next = le->next;
        if (le->time <= since || le->diff == 0) {
            a->log_live--;
            if (le->diff != 0) {
                if (!merged) { /* the blob goes first: its values are distinct */
                    merged = true;
                    old_size = blob_size(k->vals);
                    if (k->vals != NULL)
                        a->records -= blob_count(k->vals);
                    vd_push_blob(&a->scratch, &a->scratch_cap, &n, k->vals);
                    nblob = n;
                }
                vd_reserve(&a->scratch, &a->scratch_cap, n + 1);
                a->scratch[n++] = (shard_arr_vd){le->val, le->vlen, le->diff};
            }
        } else {
            if (keep_tail == NONE)
                keep_head = e;
            else
                a->log[keep_tail].next = e;
            keep_tail = e;
            if (le->time < *min_time)
                *min_time = le->time;
        }
        e = next;
    }
    if (keep_tail != NONE)
        a->log[keep_tail].next = NONE;
    k->log = keep_head;
    if (merged) {
        uint32_t m = vd_consolidate(a->scratch, nblob, n);
        write_blob(a, k, a->scratch, m, old_size);
    }
    return keep_head != NONE;
}

/* Copies the surviving log entries (and their value bytes) into fresh
 * storage, each key's chain contiguous and newest first. */
static void
log_rebuild(shard_arr *a)
{
    uint32_t cap = 256;
    while (cap < a->log_live)
        cap *= 2;
    logent *fresh = xrealloc(NULL, (size_t)cap * sizeof(logent));
    arena bytes;
    arena_init(&bytes);
    uint32_t len = 0;
    for (uint32_t d = 0; d < a->ndirty; d++) {
        kent *k = kent_at(a, a->dirty[d]);
        uint32_t e = k->log;
        k->log = len;
        for (; e != NONE; e = a->log[e].next) {
            logent *ne = &fresh[len];
            *ne = a->log[e];
            if (ne->vlen > 0) {
                uint8_t *p = arena_alloc(&bytes, ne->vlen);
                memcpy(p, ne->val, ne->vlen);
                ne->val = p;
            }
            ne->next = ne->next == NONE ? NONE : len + 1;
            len++;
        }
    }
    ENG_ASSERT(len == a->log_live);
    free(a->log);
    arena_free(&a->log_arena);
    a->log = fresh;
    a->log_cap = cap;
    a->log_len = len;
    a->log_arena = bytes;
}

/* Empties the log. The array keeps its capacity for the next tick, but is
 * halved whenever a round used under a quarter of it: a steady load (which
 * uses between half and all of it) never reallocates, and a burst's memory
 * is given back over a few rounds (or at once by shard_arr_trim). */
static void
log_reset(shard_arr *a)
{
    if (a->log_cap > 256 && a->log_len < a->log_cap / 4) {
        a->log_cap /= 2;
        a->log = xrealloc(a->log, (size_t)a->log_cap * sizeof(logent));
    }
    a->log_len = 0;
    /* Keep the newest (largest) chunk of value bytes for reuse. */
    arena *la = &a->log_arena;
    if (la->chunks != NULL) {
        arena_chunk *keep = la->chunks;
        arena_chunk *c = keep->next;
        while (c != NULL) {
            arena_chunk *next = c->next;
            free(c);
            c = next;
        }
        keep->next = NULL;
        la->chunks = keep;
        la->total = keep->size;
        la->cur = keep->data;
        la->left = keep->size;
        la->live = 0;
    }
}

/* Copies every live key's bytes and blob into one exact-size chunk (key,
 * then blob, in entry order), squeezes dead entries out, and rebuilds the
 * table and key list if any were. */
static void
rebuild(shard_arr *a)
{
    arena fresh;
    arena_init(&fresh);
    uint8_t *p = NULL;
    size_t copied = 0;
    if (a->arena.live > 0) {
        arena_chunk *c = arena_add_chunk(&fresh, a->arena.live);
        p = c->data;
        fresh.cur = c->data + c->size; /* full: later allocations start a chunk */
        fresh.left = 0;
        fresh.live = a->arena.live;
    }
    uint32_t j = 0;
    for (uint32_t i = 0; i < a->nkeys; i++) {
        kent *k = kent_at(a, i);
        if (kent_dead(k))
            continue;
        size_t kb = kent_klen(k) + reserve_size(k); /* the reserve moves with the key */
        if (kb) {
            memcpy(p, k->key, kb);
            k->key = p;
            p += kb;
            copied += kb;
        }
        if (k->vals != NULL) {
            size_t sz = blob_size(k->vals);
            memcpy(p, k->vals, sz);
            k->vals = p;
            p += sz;
            copied += sz;
        }
        if (j != i)
            *kent_at(a, j) = *k;
        j++;
    }
    ENG_ASSERT(copied == fresh.live); /* the live-byte accounting is exact */
    arena_free(&a->arena);
    a->arena = fresh;
    if (j == a->nkeys)
        return;
    a->nkeys = j;
    a->ndead = 0;
    uint32_t need = (j + KCHUNK - 1) >> KSHIFT;
    need = need ? need : 1;
    while (a->nkchunks > need)
        free(a->kchunks[--a->nkchunks]);
    tab_rebuild(a);
    a->ndirty = 0;
    for (uint32_t i = 0; i < a->nkeys; i++)
        if (kent_at(a, i)->log != NONE)
            dirty_push(a, i);
}

void
shard_arr_advance_since(shard_arr *a, uint64_t since)
{
    ENG_ASSERT(since >= a->since);
    a->since = since;
    if (a->log_len == 0 || a->log_min_time > since)
        return; /* nothing to merge */
    uint64_t min_time = UINT64_MAX;
    uint32_t keep = 0;
    for (uint32_t d = 0; d < a->ndirty; d++) {
        /* The key list is in first-touch order, scattered over memory:
         * prefetch entries ahead, then (once cached) their blob and log. */
        if (d + PF_ENTRY < a->ndirty)
            __builtin_prefetch(kent_at(a, a->dirty[d + PF_ENTRY]));
        if (d + PF_KEY < a->ndirty) {
            const kent *pk = kent_at(a, a->dirty[d + PF_KEY]);
            __builtin_prefetch(&a->log[pk->log]);
            if (pk->vals != NULL)
                __builtin_prefetch(pk->vals);
        }
        uint32_t kidx = a->dirty[d];
        kent *k = kent_at(a, kidx);
        if (compact_key(a, k, since, &min_time))
            a->dirty[keep++] = kidx;
        else if (k->vals == NULL) { /* nothing left: dead until swept */
            a->ndead++;
            arena_release(&a->arena, kent_klen(k) + reserve_size(k));
            k->klen &= KLEN_MASK;
        }
    }
    a->ndirty = keep;
    a->log_min_time = min_time;
    if (a->log_live == 0)
        log_reset(a);
    else if (a->log_live * 2 <= a->log_len)
        log_rebuild(a);
    size_t garbage = arena_garbage(&a->arena);
    if ((a->ndead > 0 && a->ndead >= a->nkeys / 8) ||
        (garbage >= GARBAGE_MIN && garbage * 4 >= a->arena.total))
        rebuild(a);
}

void
shard_arr_trim(shard_arr *a)
{
    if (a->log_live == 0) {
        free(a->log);
        a->log = NULL;
        a->log_cap = a->log_len = 0;
        arena_free(&a->log_arena);
        free(a->dirty);
        a->dirty = NULL;
        a->dirty_cap = a->ndirty = 0;
    }
    free(a->scratch);
    a->scratch = NULL;
    a->scratch_cap = 0;
    free(a->enc);
    a->enc = NULL;
    a->enc_cap = 0;
}

/* ------------------------------------------------------------------ reads */

const shard_arr_key *
shard_arr_find(const shard_arr *a, uint64_t hash, eng_row key)
{
    uint32_t slot;
    uint32_t kidx = tab_lookup(a, hash, key, &slot);
    if (kidx == NONE)
        return NULL;
    const kent *k = kent_at(a, kidx);
    return kent_dead(k) ? NULL : k;
}

void
shard_arr_find_batch(const shard_arr *a, const uint64_t *hashes, const eng_row *keys, size_t n,
                     const shard_arr_key **out)
{
    for (size_t i = 0; i < n; i++) {
        if (i + PF_SLOT < n)
            prefetch_slot(a, hashes[i + PF_SLOT]);
        if (i + PF_ENTRY < n)
            prefetch_entry(a, hashes[i + PF_ENTRY], false);
        if (i + PF_KEY < n)
            prefetch_entry(a, hashes[i + PF_KEY], true);
        out[i] = shard_arr_find(a, hashes[i], keys[i]);
    }
}

const shard_arr_key *
shard_arr_next_key(const shard_arr *a, size_t *pos)
{
    while (*pos < a->nkeys) {
        const kent *k = kent_at(a, (uint32_t)(*pos)++);
        if (!kent_dead(k))
            return k;
    }
    return NULL;
}

eng_row
shard_arr_key_row(const shard_arr_key *k)
{
    return (eng_row){k->key, kent_klen(k)};
}

uint64_t
shard_arr_key_hash(const shard_arr_key *k)
{
    return k->hash;
}

int64_t
shard_arr_key_count(const shard_arr *a, const shard_arr_key *k, uint64_t t)
{
    ENG_ASSERT(t >= a->since);
    int64_t sum = 0;
    if (k->vals != NULL) {
        uint64_t cnt;
        const uint8_t *p = varint_get(k->vals, &cnt);
        shard_arr_vd v;
        for (uint64_t i = 0; i < cnt; i++) {
            p = blob_value(p, &v);
            sum += v.diff;
        }
    }
    for (uint32_t e = k->log; e != NONE; e = a->log[e].next)
        if (a->log[e].time <= t)
            sum += a->log[e].diff;
    return sum;
}

void
shard_arr_cursor_init(shard_arr_cursor *c)
{
    memset(c, 0, sizeof *c);
}

void
shard_arr_cursor_seek(shard_arr_cursor *c, const shard_arr *a, const shard_arr_key *k, uint64_t t)
{
    ENG_ASSERT(t >= a->since);
    c->i = c->n = 0;
    c->left = 0;
    c->p = NULL;
    if (k->log == NONE) { /* compacted only: walk the blob in place */
        if (k->vals != NULL) {
            uint64_t cnt;
            c->p = varint_get(k->vals, &cnt);
            c->left = (uint32_t)cnt;
        }
        return;
    }
    uint32_t n = 0;
    vd_push_blob(&c->buf, &c->cap, &n, k->vals);
    uint32_t nblob = n;
    for (uint32_t e = k->log; e != NONE; e = a->log[e].next) {
        const logent *le = &a->log[e];
        if (le->time > t || le->diff == 0)
            continue;
        vd_reserve(&c->buf, &c->cap, n + 1);
        c->buf[n++] = (shard_arr_vd){le->val, le->vlen, le->diff};
    }
    c->n = vd_consolidate(c->buf, nblob, n);
}

bool
shard_arr_cursor_next(shard_arr_cursor *c, eng_row *val, int64_t *diff)
{
    if (c->left > 0) {
        shard_arr_vd v;
        c->p = blob_value(c->p, &v);
        c->left--;
        *val = (eng_row){v.data, v.len};
        *diff = v.diff;
        return true;
    }
    while (c->i < c->n) {
        const shard_arr_vd *v = &c->buf[c->i++];
        if (v->diff != 0) {
            *val = (eng_row){v->data, v->len};
            *diff = v->diff;
            return true;
        }
    }
    return false;
}

void
shard_arr_cursor_fini(shard_arr_cursor *c)
{
    free(c->buf);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------ stats and checks */

void
shard_arr_stats_get(const shard_arr *a, shard_arr_stats *out)
{
    memset(out, 0, sizeof *out);
    out->keys = a->nkeys - a->ndead;
    out->records = a->records;
    out->pending = a->log_live;
    out->negatives = a->negatives;
    out->table_bytes = (uint64_t)(a->tab_mask + 1) * sizeof(kent_slot);
    out->entry_bytes = (uint64_t)a->kchunks_cap * sizeof(kent *);
    for (uint32_t c = 0; c < a->nkchunks; c++)
        out->entry_bytes += (c == 0 ? a->k0cap : KCHUNK) * sizeof(kent);
    out->arena_bytes = a->arena.total;
    out->log_bytes = (uint64_t)a->log_cap * sizeof(logent) + a->log_arena.total +
                     (uint64_t)a->dirty_cap * sizeof(uint32_t) +
                     (uint64_t)a->scratch_cap * sizeof(shard_arr_vd) + a->enc_cap;
    out->arena_live = a->arena.live;
    out->bytes =
        sizeof *a + out->table_bytes + out->entry_bytes + out->arena_bytes + out->log_bytes;
}

void
shard_arr_check(const shard_arr *a)
{
    uint32_t cap = a->tab_mask + 1;
    ENG_ASSERT((cap & (cap - 1)) == 0);
    ENG_ASSERT(a->nkeys <= cap / 4 * 3);
    /* Table <-> entries: each entry has exactly one slot, reachable by probing. */
    uint32_t used = 0;
    uint8_t *seen = calloc(a->nkeys ? a->nkeys : 1, 1);
    ENG_ASSERT(seen != NULL);
    for (uint32_t i = 0; i < cap; i++) {
        kent_slot s = a->tab[i];
        if (s.kidx == NONE)
            continue;
        used++;
        ENG_ASSERT(s.kidx < a->nkeys && !seen[s.kidx]);
        seen[s.kidx] = 1;
        const kent *k = kent_at(a, s.kidx);
        ENG_ASSERT(s.h32 == (uint32_t)k->hash);
        uint32_t slot;
        ENG_ASSERT(tab_lookup(a, k->hash, shard_arr_key_row(k), &slot) == s.kidx);
        ENG_ASSERT(slot == i);
    }
    ENG_ASSERT(used == a->nkeys);
    /* Entries, blobs, chains, accounting. */
    uint32_t ndead = 0, nlog = 0;
    uint64_t records = 0, live = 0;
    uint8_t *inlog = calloc(a->log_len ? a->log_len : 1, 1);
    ENG_ASSERT(inlog != NULL);
    for (uint32_t i = 0; i < a->nkeys; i++) {
        const kent *k = kent_at(a, i);
        if (kent_dead(k)) {
            ndead++;
            continue;
        }
        live += kent_klen(k) + reserve_size(k);
        ENG_ASSERT(!(k->klen & KLEN_RESERVE) || k->vals == NULL);
        if (k->vals != NULL) {
            live += blob_size(k->vals);
            uint64_t cnt;
            const uint8_t *p = varint_get(k->vals, &cnt);
            ENG_ASSERT(cnt > 0);
            shard_arr_vd *v = calloc(cnt, sizeof *v);
            ENG_ASSERT(v != NULL);
            for (uint64_t j = 0; j < cnt; j++) {
                p = blob_value(p, &v[j]);
                ENG_ASSERT(v[j].diff != 0);
                for (uint64_t q = 0; q < j; q++)
                    ENG_ASSERT(!vd_same(&v[q], &v[j]));
            }
            free(v);
            records += cnt;
        }
        for (uint32_t e = k->log; e != NONE; e = a->log[e].next) {
            ENG_ASSERT(e < a->log_len && !inlog[e]);
            inlog[e] = 1;
            ENG_ASSERT(a->log[e].time >= a->log_min_time);
            nlog++;
        }
    }
    free(inlog);
    ENG_ASSERT(ndead == a->ndead && records == a->records);
    ENG_ASSERT(nlog == a->log_live && live == a->arena.live);
    /* The key list: exactly the entries with a chain, once each. */
    uint32_t ndirty = 0;
    memset(seen, 0, a->nkeys ? a->nkeys : 1);
    for (uint32_t d = 0; d < a->ndirty; d++) {
        uint32_t kidx = a->dirty[d];
        ENG_ASSERT(kidx < a->nkeys && !seen[kidx] && kent_at(a, kidx)->log != NONE);
        seen[kidx] = 1;
    }
    for (uint32_t i = 0; i < a->nkeys; i++)
        ndirty += kent_at(a, i)->log != NONE;
    ENG_ASSERT(ndirty == a->ndirty);
    free(seen);
}
