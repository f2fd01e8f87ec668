/* Update batches: the unit of data movement between operators and workers.
 *
 * Notes: a batch holds n updates (row, time, diff). Row bytes live in the
 * batch's own byte arena and are addressed by offset, so a batch is two
 * allocations however many updates it holds, and it can be handed to
 * another worker as one pointer. Batches are recycled through per-worker
 * pools (eng_batch_pool); at steady state no allocation happens per batch,
 * never per update.
 *
 * A batch also serves as the message envelope between threads: `kind`
 * says whether it carries updates or only a frontier, and the routing
 * fields say where it goes. */
#ifndef ENG_BATCH_H
#define ENG_BATCH_H

#include <stdint.h>

#include "engine/core/eng_row.h"

typedef uint64_t eng_time;
#define ENG_TIME_MAX UINT64_MAX /* the empty frontier: nothing more will ever come */

typedef struct eng_update {
    uint32_t off; /* row bytes at batch->bytes + off */
    uint32_t len;
    eng_time time;
    int64_t diff;
} eng_update;

typedef enum eng_msg_kind {
    ENG_MSG_DATA = 0, /* updates for (dataflow, node, port) */
    ENG_MSG_FRONTIER, /* sender's frontier on (dataflow, node, port) advanced to `frontier` */
    ENG_MSG_CONTROL,  /* runtime control message; `control` says which */
} eng_msg_kind;

typedef struct eng_batch {
    eng_update *upd;
    uint32_t n, cap;
    uint8_t *bytes;
    uint32_t blen, bcap;

    /* envelope */
    uint8_t kind;    /* eng_msg_kind */
    uint8_t control; /* runtime-defined when kind == ENG_MSG_CONTROL */
    uint16_t port;
    uint32_t node;
    uint32_t sender;  /* sending worker (or client) index */
    int32_t part_key; /* >= 0: every update belongs to this worker by the hash of its
                         first part_key datums (an exchange on that key keeps it whole) */
    uint64_t dataflow;
    eng_time frontier;
    void *payload;          /* control messages */
    struct eng_batch *next; /* pool / queue link */
} eng_batch;

/* Capacity hint: operators flush output batches at this many updates. */
#define ENG_BATCH_TARGET 4096

static inline eng_row
eng_batch_row(const eng_batch *b, uint32_t i)
{
    return (eng_row){b->bytes + b->upd[i].off, b->upd[i].len};
}

void eng_batch_grow_upd(eng_batch *b);
void eng_batch_grow_bytes(eng_batch *b, uint32_t need);

/* Reserves room for one update whose row is `len` bytes; returns where to
 * write the row bytes. The update is appended with the given time/diff. */
static inline uint8_t *
eng_batch_append(eng_batch *b, uint32_t len, eng_time time, int64_t diff)
{
    if (b->n == b->cap)
        eng_batch_grow_upd(b);
    if (b->blen + len > b->bcap)
        eng_batch_grow_bytes(b, b->blen + len);
    eng_update *u = &b->upd[b->n++];
    u->off = b->blen;
    u->len = len;
    u->time = time;
    u->diff = diff;
    uint8_t *p = b->bytes + b->blen;
    b->blen += len;
    return p;
}

/* Appends an update copying row r. */
static inline void
eng_batch_push(eng_batch *b, eng_row r, eng_time time, int64_t diff)
{
    uint8_t *p = eng_batch_append(b, r.len, time, diff);
    if (r.len)
        memcpy(p, r.data, r.len);
}

/* Appends an update whose row is the concatenation of a and c. */
static inline void
eng_batch_push2(eng_batch *b, eng_row a, eng_row c, eng_time time, int64_t diff)
{
    uint8_t *p = eng_batch_append(b, a.len + c.len, time, diff);
    if (a.len)
        memcpy(p, a.data, a.len);
    if (c.len)
        memcpy(p + a.len, c.data, c.len);
}

static inline void
eng_batch_clear(eng_batch *b)
{
    b->n = 0;
    b->blen = 0;
    b->kind = ENG_MSG_DATA;
    b->control = 0;
    b->payload = NULL;
    b->next = NULL;
    b->part_key = -1;
}

/* Sorts the updates by (time, row bytes) and merges equal (row, time)
 * pairs, dropping zero diffs. Row bytes are left in place (offsets move). */
void eng_batch_consolidate(eng_batch *b);

/* A per-thread free list of batches. Not thread-safe: each worker (and
 * each client) owns one; batches migrate between pools freely. */
typedef struct eng_batch_pool {
    eng_batch *free;
    uint32_t nfree;
} eng_batch_pool;

/* Returns an empty batch (new, or recycled). Never NULL (aborts on OOM). */
eng_batch *eng_batch_get(eng_batch_pool *pool);

/* Returns b to the pool (b may come from another thread's pool). */
void eng_batch_put(eng_batch_pool *pool, eng_batch *b);

/* Frees every pooled batch. */
void eng_batch_pool_drain(eng_batch_pool *pool);

void eng_batch_free(eng_batch *b);

#endif
