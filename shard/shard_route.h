/* Routing: key hash -> shard -> owning worker.
 *
 * Notes: there are S shards (a power of two, default 256) and W workers;
 * which worker owns which shard is a table, so shards can move between
 * workers (or processes, later) without rehashing any data. A shard is the
 * hash's HIGH bits: arrangements index their hash tables with the LOW bits,
 * so the keys one worker owns still spread evenly over its tables (using the
 * same bits for both would leave most of every worker's table empty).
 * A shard_map is a plain value: build it once, then read it from any thread;
 * changing ownership is the coordinator's job and needs its own protocol. */
#ifndef SHARD_ROUTE_H
#define SHARD_ROUTE_H

#include <stdint.h>

#include "engine/core/eng_err.h"

#define SHARD_DEFAULT_SHARDS 256u
#define SHARD_MAX_SHARDS 4096u

typedef struct shard_map {
    uint32_t shards;                  /* S, a power of two in [1, SHARD_MAX_SHARDS] */
    uint32_t bits;                    /* log2(S) */
    uint32_t workers;                 /* W */
    uint16_t owner[SHARD_MAX_SHARDS]; /* owner[s] = worker of shard s, for s < S */
} shard_map;

/* The shard of a 64-bit key hash: its top log2(S) bits. Two shifts so that
 * S = 1 (bits = 0) never shifts a 64-bit value by 64. */
static inline uint32_t
shard_of(const shard_map *m, uint64_t hash)
{
    return (uint32_t)((hash >> 32) >> (32 - m->bits));
}

static inline uint32_t
shard_owner(const shard_map *m, uint64_t hash)
{
    return m->owner[shard_of(m, hash)];
}

/* Fills m with `shards` shards (power of two <= SHARD_MAX_SHARDS) dealt
 * round-robin to `workers` workers (1..65536). */
static inline void
shard_map_init(shard_map *m, uint32_t shards, uint32_t workers)
{
    ENG_ASSERT(shards >= 1 && shards <= SHARD_MAX_SHARDS && (shards & (shards - 1)) == 0);
    ENG_ASSERT(workers >= 1 && workers <= 65536);
    m->shards = shards;
    m->bits = 0;
    while ((1u << m->bits) < shards)
        m->bits++;
    m->workers = workers;
    for (uint32_t s = 0; s < shards; s++)
        m->owner[s] = (uint16_t)(s % workers);
}

/* Moves shard s to worker w. */
static inline void
shard_map_assign(shard_map *m, uint32_t s, uint32_t w)
{
    ENG_ASSERT(s < m->shards && w < m->workers);
    m->owner[s] = (uint16_t)w;
}

#endif
