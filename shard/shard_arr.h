/* Arrangement store: one worker's portion of an arranged collection, a
 * multiset of (key row, value row) with int64 multiplicities and uint64
 * times, indexed by key.
 *
 * Notes — semantics. Updates (key, val, time, diff) arrive with
 * time >= upper. advance_upper(U) says every update with time < U has been
 * given. advance_since(S) allows merging times < S, and reads are only
 * allowed at t >= S, where every update with time <= S counts alike: so
 * updates with time <= S are consolidated into one accumulated (val, diff)
 * per distinct val per key, zero diffs dropped, keys left with nothing
 * removed. A read at time t (since <= t) counts every update with
 * time <= t. since may pass upper; updates then arriving at times <= since
 * are merged by the next advance_since call (which compacts even when since
 * does not move). A negative accumulated multiplicity is a bug upstream:
 * compaction counts every (key, val) it leaves negative (stats.negatives)
 * and keeps it, so the caller can turn the count into an error; reads
 * return such diffs as they are.
 *
 * Notes — layout (64-bit build; bytes per compacted key with one value):
 *
 *   table     open addressing, linear probing, load <= 3/4, 8-byte slots
 *             { low 32 hash bits, entry index }: the slot index is
 *             hash & mask, and the 32 bits are compared before anything
 *             else is touched. Grows from the slots alone.  10.7..21.3 B
 *   entries   dense array of 32-byte key entries, 2 per cache line, in
 *             chunks of 4096 (the first grows from 16):
 *             { 64-bit hash, key bytes ptr, value blob ptr, key length,
 *               newest log entry }. A lookup compares the full hash here
 *             before the key bytes.                              32 B
 *   arena     key bytes, followed by the key's value blob: varint count,
 *             then per value varint length, zigzag varint diff, bytes. A
 *             new key is allocated with room behind it for a one-value blob
 *             of its first value, which the first compaction fills, so a key
 *             and its values usually share a cache line. Blobs are rewritten
 *             in place when they fit (a counter's diff is patched in place).
 *             Bump allocation in chunks; live bytes are tracked exactly, and
 *             when garbage passes 1/4 of the arena (or dead keys 1/8 of the
 *             entries) everything live is copied into one exact-size chunk
 *             in entry order and dead entries are squeezed out.
 *                                                    key + val + 3 B
 *   log       recent, not yet compacted updates: an array of 32-byte
 *             entries { val ptr, val len, older entry of the same key,
 *             time, diff }, chained newest first from the key entry, value
 *             bytes in a log arena; a list of the keys with a chain makes
 *             compaction O(pending updates), not O(keys). A key with only
 *             compacted state pays 4 bytes ("no log") for all this. An update
 *             repeating its key's newest (val, time) adds into that entry.
 *             Compaction that empties the log resets it in O(1), keeping
 *             the array for the next round (halved after a round that used
 *             under 1/4 of it; shard_arr_trim frees it); one that consumes
 *             half or more copies the survivors.
 *
 * So a compacted key with one value costs 32 + 10.7..21.3 + key + val + 3
 * bytes, plus arena garbage (< 1/4) and the log's kept array: 62 B for a
 * 9-byte int8 key with an empty value at 1M keys (target 2 x raw + 48 = 66).
 *
 * Lifetimes: every pointer the store hands out (key handles, eng_rows of
 * keys and values) is borrowed until the next mutating call on the same
 * arrangement (update, update_batch, advance_since, free). advance_upper
 * and trim never invalidate anything. Reads take a const arrangement and may be
 * interleaved freely, including several cursors at once.
 *
 * Threading: none inside. One arrangement portion belongs to one worker; all
 * calls come from that worker's thread. */
#ifndef SHARD_ARR_H
#define SHARD_ARR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/eng_row.h"

typedef struct shard_arr shard_arr;

/* A key present in the arrangement. Borrowed; see Lifetimes above. */
typedef struct shard_arr_key shard_arr_key;

/* One update, as operators hand them over in batches. */
typedef struct shard_arr_upd {
    uint64_t hash; /* the key's hash (eng_row_hash(key)); the same key must always come with
                      the same hash */
    eng_row key;   /* borrowed for the call; bytes are copied */
    eng_row val;   /* borrowed for the call; bytes are copied */
    uint64_t time; /* >= upper */
    int64_t diff;
} shard_arr_upd;

typedef struct shard_arr_stats {
    uint64_t keys;      /* distinct keys present */
    uint64_t records;   /* compacted (key, val) pairs, all with nonzero diff */
    uint64_t pending;   /* updates in the log (times >= since, or not compacted yet) */
    uint64_t negatives; /* times compaction left a (key, val) with a negative diff */
    uint64_t bytes;     /* everything allocated: the sum of the four below plus the struct */
    uint64_t table_bytes, entry_bytes, arena_bytes;
    uint64_t log_bytes;  /* the log, the key list and compaction scratch; when the log is
                            empty this is capacity kept for the next round (shard_arr_trim) */
    uint64_t arena_live; /* arena bytes holding live keys and blobs */
} shard_arr_stats;

/* Returns a new empty arrangement (since = upper = 0). Aborts if out of
 * memory (like every allocation in the store: arranged state has no
 * partial-failure mode worth keeping). Free with shard_arr_free. */
shard_arr *shard_arr_new(void);
void shard_arr_free(shard_arr *a);

/* Adds diff to (key, val) at time. Copies the bytes; may allocate
 * (amortised: arena chunks, table and array growth, never per update).
 * Asserts time >= upper. diff == 0 is a no-op. */
void shard_arr_update(shard_arr *a, uint64_t hash, eng_row key, eng_row val, uint64_t time,
                      int64_t diff);

/* shard_arr_update for u[0..n), prefetching hash slots and key entries a
 * few updates ahead to overlap their cache misses. */
void shard_arr_update_batch(shard_arr *a, const shard_arr_upd *u, size_t n);

/* Every update with time < upper has been given (monotone; asserts). */
void shard_arr_advance_upper(shard_arr *a, uint64_t upper);

/* Allows merging times < since (monotone; asserts) and compacts now,
 * consolidating every update with time <= since:
 * O(pending updates) plus, now and then, an O(live state) rebuild that
 * reclaims garbage. Invalidates borrowed pointers. */
void shard_arr_advance_since(shard_arr *a, uint64_t since);

/* Releases buffers kept for the next round (the log's array and byte
 * chunk when the log is empty, compaction scratch). For idle workers or
 * memory pressure; the next updates allocate them again. Invalidates
 * nothing. */
void shard_arr_trim(shard_arr *a);

uint64_t shard_arr_upper(const shard_arr *a);
uint64_t shard_arr_since(const shard_arr *a);

/* The key equal to `key` (with hash `hash`), or NULL if absent. A key
 * present may still have no values at a given time. */
const shard_arr_key *shard_arr_find(const shard_arr *a, uint64_t hash, eng_row key);

/* out[i] = shard_arr_find(a, hashes[i], keys[i]) for i < n, prefetching
 * ahead. */
void shard_arr_find_batch(const shard_arr *a, const uint64_t *hashes, const eng_row *keys, size_t n,
                          const shard_arr_key **out);

/* Iterates all keys: start with *pos = 0; returns the next key, or NULL at
 * the end. Order is unspecified but stable between mutating calls. */
const shard_arr_key *shard_arr_next_key(const shard_arr *a, size_t *pos);

/* The key's bytes and hash. */
eng_row shard_arr_key_row(const shard_arr_key *k);
uint64_t shard_arr_key_hash(const shard_arr_key *k);

/* The key's total multiplicity at t (sum of all its diffs with time <= t).
 * Asserts since <= t. */
int64_t shard_arr_key_count(const shard_arr *a, const shard_arr_key *k, uint64_t t);

/* A cursor over one key's accumulated (val, diff) at a time t, zero diffs
 * skipped. Caller-owned and reusable: init once, seek/next any number of
 * times (on any keys of any arrangements), fini once. */
typedef struct shard_arr_vd {
    const uint8_t *data;
    uint32_t len;
    int64_t diff;
} shard_arr_vd;

typedef struct shard_arr_cursor {
    /* private */
    const uint8_t *p;  /* blob mode: next encoded value */
    uint32_t left;     /* blob mode: values left */
    uint32_t i, n;     /* merged mode: buf[i..n) */
    uint32_t cap;      /* buf capacity */
    shard_arr_vd *buf; /* owned; freed by fini */
} shard_arr_cursor;

void shard_arr_cursor_init(shard_arr_cursor *c);

/* Positions c on key k at time t (asserts since <= t). When the key has
 * recent updates the cursor merges them with the compacted values into its
 * own buffer (may allocate, reused across seeks). */
void shard_arr_cursor_seek(shard_arr_cursor *c, const shard_arr *a, const shard_arr_key *k,
                           uint64_t t);

/* Next (val, diff) with diff != 0, or false at the end. *val is borrowed
 * (see Lifetimes). */
bool shard_arr_cursor_next(shard_arr_cursor *c, eng_row *val, int64_t *diff);

void shard_arr_cursor_fini(shard_arr_cursor *c);

void shard_arr_stats_get(const shard_arr *a, shard_arr_stats *out);

/* Checks every internal invariant (table <-> entries, log chains, the key
 * list, record and byte accounting); aborts through ENG_ASSERT on the first
 * violation. O(everything): for tests. */
void shard_arr_check(const shard_arr *a);

#endif
