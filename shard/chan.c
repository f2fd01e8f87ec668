/* SPSC ring channels and the futex bell a consumer parks on.
 *
 * Notes on memory ordering (ring):
 * - The producer writes the slots, then stores `tail` with release. The
 *   consumer loads `tail` with acquire before reading those slots, so the
 *   slot writes happen-before the reads (the slots themselves are plain
 *   memory, never accessed by both sides at once).
 * - The consumer reads the slots, then stores `head` with release. The
 *   producer loads `head` with acquire before overwriting a slot, so the
 *   consumer's read of the old message happens-before the new write (no
 *   data race on a recycled slot).
 * - Each side loads its own index relaxed: only it ever writes it.
 * - Each side keeps a plain cached copy of the other's index and refreshes
 *   it (the only cross-core cache-line transfer) only when the cached value
 *   says full/empty.
 *
 * Why a futex for the bell: workers only ever wait for messages from other
 * threads of this process, and a futex is the cheapest way to do that — no
 * file descriptor, one 32-bit word, FUTEX_PRIVATE_FLAG skips the
 * shared-memory lookup, and both wait and wake are a single system call that
 * the kernel checks atomically against the word's value. An eventfd is only
 * worth its fd and its 8-byte read/write when the waiter must also wait on
 * other fds (the io thread waits in io_uring); that thread can ring its ring
 * with an eventfd of its own. */
#include "shard/shard_chan.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "engine/core/eng_err.h"

struct shard_chan {
    /* Producer's line: its index and its cache of the consumer's. */
    alignas(64) _Atomic uint64_t tail;
    uint64_t head_cache;
    /* Consumer's line. */
    alignas(64) _Atomic uint64_t head;
    uint64_t tail_cache;
    /* Read-only after creation (shared, never written: no false sharing). */
    alignas(64) uint64_t mask;
    void **slots;
};

shard_chan *
shard_chan_new(uint32_t capacity)
{
    ENG_ASSERT(capacity >= 2 && (capacity & (capacity - 1)) == 0);
    shard_chan *c = aligned_alloc(64, sizeof *c);
    if (c == NULL)
        return NULL;
    memset(c, 0, sizeof *c);
    c->slots = calloc(capacity, sizeof(void *));
    if (c->slots == NULL) {
        free(c);
        return NULL;
    }
    atomic_init(&c->tail, 0);
    atomic_init(&c->head, 0);
    c->mask = capacity - 1;
    return c;
}

void
shard_chan_free(shard_chan *c)
{
    if (c == NULL)
        return;
    free(c->slots);
    free(c);
}

uint32_t
shard_chan_capacity(const shard_chan *c)
{
    return (uint32_t)(c->mask + 1);
}

/* Producer: free slots, refreshing the cached head only if the cache says
 * fewer than `want` are free. */
static inline uint64_t
chan_room(shard_chan *c, uint64_t tail, uint64_t want)
{
    uint64_t cap = c->mask + 1;
    uint64_t room = cap - (tail - c->head_cache);
    if (room < want) {
        /* acquire: pairs with the consumer's release store of head, so its
         * reads of the slots we are about to reuse are complete. */
        c->head_cache = atomic_load_explicit(&c->head, memory_order_acquire);
        room = cap - (tail - c->head_cache);
    }
    return room;
}

bool
shard_chan_push(shard_chan *c, void *msg)
{
    ENG_ASSERT(msg != NULL);
    uint64_t tail = atomic_load_explicit(&c->tail, memory_order_relaxed);
    if (chan_room(c, tail, 1) == 0)
        return false;
    c->slots[tail & c->mask] = msg;
    /* release: publishes the slot write before the new tail. */
    atomic_store_explicit(&c->tail, tail + 1, memory_order_release);
    return true;
}

uint32_t
shard_chan_push_many(shard_chan *c, void *const *msgs, uint32_t n)
{
    uint64_t tail = atomic_load_explicit(&c->tail, memory_order_relaxed);
    uint64_t room = chan_room(c, tail, n);
    uint32_t k = room < n ? (uint32_t)room : n;
    if (k == 0)
        return 0;
    for (uint32_t i = 0; i < k; i++) {
        ENG_ASSERT(msgs[i] != NULL);
        c->slots[(tail + i) & c->mask] = msgs[i];
    }
    atomic_store_explicit(&c->tail, tail + k, memory_order_release);
    return k;
}

/* Consumer: messages available, refreshing the cached tail only if the
 * cache says fewer than `want` are there. */
static inline uint64_t
chan_avail(shard_chan *c, uint64_t head, uint64_t want)
{
    uint64_t avail = c->tail_cache - head;
    if (avail < want) {
        /* acquire: pairs with the producer's release store of tail, so the
         * slot writes before it are visible to us. */
        c->tail_cache = atomic_load_explicit(&c->tail, memory_order_acquire);
        avail = c->tail_cache - head;
    }
    return avail;
}

bool
shard_chan_drained(shard_chan *c)
{
    /* acquire: pairs with the consumer's release store of head. */
    return atomic_load_explicit(&c->head, memory_order_acquire) ==
           atomic_load_explicit(&c->tail, memory_order_relaxed);
}

void *
shard_chan_pop(shard_chan *c)
{
    uint64_t head = atomic_load_explicit(&c->head, memory_order_relaxed);
    if (chan_avail(c, head, 1) == 0)
        return NULL;
    void *msg = c->slots[head & c->mask];
    /* release: our read of the slot is complete before the producer may
     * see the slot as free and overwrite it. */
    atomic_store_explicit(&c->head, head + 1, memory_order_release);
    return msg;
}

uint32_t
shard_chan_pop_many(shard_chan *c, void **out, uint32_t max)
{
    uint64_t head = atomic_load_explicit(&c->head, memory_order_relaxed);
    uint64_t avail = chan_avail(c, head, max);
    uint32_t k = avail < max ? (uint32_t)avail : max;
    if (k == 0)
        return 0;
    for (uint32_t i = 0; i < k; i++)
        out[i] = c->slots[(head + i) & c->mask];
    atomic_store_explicit(&c->head, head + k, memory_order_release);
    return k;
}

bool
shard_chan_empty(shard_chan *c)
{
    uint64_t head = atomic_load_explicit(&c->head, memory_order_relaxed);
    return chan_avail(c, head, 1) == 0;
}

/* ------------------------------------------------------------------ bell
 *
 * Why no wake-up is lost. The consumer does
 *     (C1) state = PARKED; (C2) seq_cst fence; (C3) load every channel's tail;
 *     if all empty: (C4) futex_wait(&state, PARKED)
 * and a producer does
 *     (P1) store tail (release, in push); (P2) seq_cst fence; (P3) load state;
 *     if PARKED: (P4) exchange state -> AWAKE, futex_wake if it was PARKED.
 * The two seq_cst fences are totally ordered. If C2 comes first, P3 sees
 * PARKED (or a later value written by another ringer, which then does the
 * wake itself), so some producer reaches P4. If P2 comes first, C3 sees the
 * new tail, and the consumer cancels instead of sleeping. This is the
 * store-buffering (Dekker) pattern: without both fences each side could read
 * the other's old value and the consumer would sleep on a non-empty channel.
 * Between C3 and C4 a producer may already have set AWAKE; futex_wait then
 * returns at once because the kernel compares the word with PARKED
 * atomically with queueing the waiter, and a wake issued after the waiter is
 * queued finds it. The exchange at P4 makes exactly one ringer pay for the
 * system call per sleep. */

enum { BELL_AWAKE = 0, BELL_PARKED = 1 };

_Static_assert(sizeof(_Atomic uint32_t) == sizeof(uint32_t), "futex word must be 32 bits");

static long
futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *rel)
{
    return syscall(SYS_futex, (uint32_t *)word, op | FUTEX_PRIVATE_FLAG, val, rel, NULL, 0);
}

void
shard_bell_init(shard_bell *b)
{
    atomic_init(&b->state, BELL_AWAKE);
    atomic_init(&b->wakes, 0);
}

void
shard_bell_prepare(shard_bell *b)
{
    atomic_store_explicit(&b->state, BELL_PARKED, memory_order_relaxed);
    /* C2: orders the store above before the consumer's re-check loads. */
    atomic_thread_fence(memory_order_seq_cst);
}

void
shard_bell_cancel(shard_bell *b)
{
    atomic_store_explicit(&b->state, BELL_AWAKE, memory_order_relaxed);
}

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool
shard_bell_wait(shard_bell *b, int64_t timeout_ns)
{
    int64_t deadline = timeout_ns >= 0 ? now_ns() + timeout_ns : 0;
    for (;;) {
        /* acquire: pairs with the ringer's exchange (not needed for the
         * messages, which the channels order themselves). */
        if (atomic_load_explicit(&b->state, memory_order_acquire) == BELL_AWAKE)
            return true;
        struct timespec rel, *relp = NULL;
        if (timeout_ns >= 0) {
            int64_t left = deadline - now_ns();
            if (left <= 0)
                break;
            rel.tv_sec = (time_t)(left / 1000000000);
            rel.tv_nsec = (long)(left % 1000000000);
            relp = &rel;
        }
        if (futex(&b->state, FUTEX_WAIT, BELL_PARKED, relp) != 0) {
            /* EAGAIN: already rung; EINTR: signal; ETIMEDOUT: re-checked
             * above at the top of the loop. Anything else is our bug. */
            ENG_ASSERT(errno == EAGAIN || errno == EINTR || errno == ETIMEDOUT);
        }
    }
    /* Timed out. A ringer may race us: whoever flips PARKED -> AWAKE first
     * owns the transition; if it was a ringer, report that we were rung. */
    return atomic_exchange_explicit(&b->state, BELL_AWAKE, memory_order_acq_rel) == BELL_AWAKE;
}

void
shard_bell_ring(shard_bell *b)
{
    /* P2: orders the caller's earlier tail stores before the state load. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&b->state, memory_order_relaxed) == BELL_AWAKE)
        return; /* fast path: the consumer will see our messages */
    if (atomic_exchange_explicit(&b->state, BELL_AWAKE, memory_order_acq_rel) == BELL_PARKED) {
        atomic_fetch_add_explicit(&b->wakes, 1, memory_order_relaxed);
        futex(&b->state, FUTEX_WAKE, 1, NULL);
    }
}

uint64_t
shard_bell_wakes(const shard_bell *b)
{
    return atomic_load_explicit((_Atomic uint64_t *)&b->wakes, memory_order_relaxed);
}
