/* Update batches and their pools. */
#include "engine/runtime/eng_batch.h"
#include "engine/core/eng_err.h"

#include <stdlib.h>

#define POOL_KEEP 256               /* batches kept per pool; more are freed */
#define BATCH_KEEP_BYTES (4u << 20) /* a recycled batch keeps at most this much byte arena */

void
eng_batch_grow_upd(eng_batch *b)
{
    uint32_t cap = b->cap ? b->cap * 2 : 256;
    eng_update *u = realloc(b->upd, (size_t)cap * sizeof *u);
    ENG_ASSERT(u != NULL);
    b->upd = u;
    b->cap = cap;
}

void
eng_batch_grow_bytes(eng_batch *b, uint32_t need)
{
    uint32_t cap = b->bcap ? b->bcap : 4096;
    while (cap < need) {
        ENG_ASSERT(cap < (1u << 31));
        cap *= 2;
    }
    uint8_t *p = realloc(b->bytes, cap);
    ENG_ASSERT(p != NULL);
    b->bytes = p;
    b->bcap = cap;
}

eng_batch *
eng_batch_get(eng_batch_pool *pool)
{
    eng_batch *b = pool->free;
    if (b != NULL) {
        pool->free = b->next;
        pool->nfree--;
    } else {
        b = calloc(1, sizeof *b);
        ENG_ASSERT(b != NULL);
    }
    eng_batch_clear(b);
    b->frontier = 0;
    b->dataflow = 0;
    b->node = 0;
    b->port = 0;
    b->sender = 0;
    return b;
}

void
eng_batch_free(eng_batch *b)
{
    if (b == NULL)
        return;
    free(b->upd);
    free(b->bytes);
    free(b);
}

void
eng_batch_put(eng_batch_pool *pool, eng_batch *b)
{
    if (b == NULL)
        return;
    if (pool->nfree >= POOL_KEEP || b->bcap > BATCH_KEEP_BYTES) {
        eng_batch_free(b);
        return;
    }
    b->next = pool->free;
    pool->free = b;
    pool->nfree++;
}

void
eng_batch_pool_drain(eng_batch_pool *pool)
{
    while (pool->free) {
        eng_batch *b = pool->free;
        pool->free = b->next;
        eng_batch_free(b);
    }
    pool->nfree = 0;
}

/* Sort context: qsort has none, so compare through a thread-local base. */
static _Thread_local const uint8_t *sort_bytes;

static int
cmp_update(const void *x, const void *y)
{
    const eng_update *a = x, *c = y;
    if (a->time != c->time)
        return a->time < c->time ? -1 : 1;
    uint32_t n = a->len < c->len ? a->len : c->len;
    /* Empty rows (no columns): the batch may hold no bytes at all. */
    int r = n ? memcmp(sort_bytes + a->off, sort_bytes + c->off, n) : 0;
    if (r != 0)
        return r;
    return a->len < c->len ? -1 : a->len > c->len;
}

void
eng_batch_consolidate(eng_batch *b)
{
    if (b->n == 0)
        return;
    sort_bytes = b->bytes;
    qsort(b->upd, b->n, sizeof *b->upd, cmp_update);
    uint32_t out = 0;
    for (uint32_t i = 0; i < b->n;) {
        eng_update u = b->upd[i];
        uint32_t j = i + 1;
        while (j < b->n && b->upd[j].time == u.time && b->upd[j].len == u.len &&
               (u.len == 0 || memcmp(b->bytes + b->upd[j].off, b->bytes + u.off, u.len) == 0))
            u.diff += b->upd[j++].diff;
        if (u.diff != 0)
            b->upd[out++] = u;
        i = j;
    }
    b->n = out;
}
