/* SPSC channels between threads, and the bell a consumer parks on.
 *
 * Notes: a shard_chan is a bounded ring of non-NULL `void *` messages with
 * exactly one producer thread and one consumer thread for its whole life.
 * Indexes are free-running 64-bit counters (never wrap in practice); a slot
 * is `index & mask`. The producer owns `tail`, the consumer owns `head`;
 * each lives on its own cache line together with the owner's cached copy of
 * the other side's index, so in the steady state neither side touches the
 * other's line except to refresh that cache when the ring looks full (the
 * producer) or empty (the consumer). Ownership of a message passes from the
 * producer to the consumer at push; the channel never frees messages.
 *
 * A shard_bell lets one consumer that serves many channels sleep when all
 * of them are empty. Protocol (see chan.c for why no wake-up is lost):
 *
 *   consumer:  shard_bell_prepare(b);
 *              if (any input non-empty) shard_bell_cancel(b);
 *              else shard_bell_wait(b, timeout);
 *   producer:  push...; shard_bell_ring(b);   (once per batch is enough)
 *
 * ring() costs one full fence and one load while the consumer is awake; it
 * enters the kernel only when the consumer is parked (or about to park).
 *
 * Threading: push/push_many from the producer thread only; pop/pop_many/
 * empty from the consumer thread only; shard_bell_ring from any thread;
 * prepare/cancel/wait from the bell's one consumer thread only. */
#ifndef SHARD_CHAN_H
#define SHARD_CHAN_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct shard_chan shard_chan;

/* Returns a new empty channel with room for `capacity` messages (a power of
 * two, at least 2), or NULL if out of memory. Free with shard_chan_free. */
shard_chan *shard_chan_new(uint32_t capacity);

/* Frees the ring (not the messages still in it). No thread may use it any more. */
void shard_chan_free(shard_chan *c);

uint32_t shard_chan_capacity(const shard_chan *c);

/* Producer: appends msg (non-NULL; ownership passes to the consumer).
 * Returns false, leaving the channel unchanged, if it is full. Never blocks. */
bool shard_chan_push(shard_chan *c, void *msg);

/* Producer: appends msgs[0..k) for the largest k <= n that fits and returns
 * k (0 if full). One release store publishes the whole batch. */
uint32_t shard_chan_push_many(shard_chan *c, void *const *msgs, uint32_t n);

/* Consumer: removes and returns the oldest message, or NULL if empty. */
void *shard_chan_pop(shard_chan *c);

/* Consumer: removes up to max messages into out[] in FIFO order and returns
 * how many. */
uint32_t shard_chan_pop_many(shard_chan *c, void **out, uint32_t max);

/* Consumer: true if nothing is available right now (re-reads the
 * producer's index, so it is the check to make after shard_bell_prepare). */
bool shard_chan_empty(shard_chan *c);

/* Producer: true once the consumer has taken every message pushed (for a
 * producer that must not go away with messages in flight). */
bool shard_chan_drained(shard_chan *c);

/* ------------------------------------------------------------------ bell */

/* Embeddable; on its own cache line so ringing it does not disturb the
 * consumer's other state. Initialise with shard_bell_init. */
typedef struct shard_bell {
    alignas(64) _Atomic uint32_t state; /* futex word: SHARD_BELL_AWAKE / _PARKED */
    _Atomic uint64_t wakes;             /* times a ringer entered the kernel to wake */
} shard_bell;

void shard_bell_init(shard_bell *b);

/* Consumer: announces it is about to sleep. It must then re-check every
 * input (shard_chan_empty) and call shard_bell_cancel or shard_bell_wait. */
void shard_bell_prepare(shard_bell *b);

/* Consumer: found work after prepare; stays awake. */
void shard_bell_cancel(shard_bell *b);

/* Consumer, after prepare and an empty re-check: sleeps until the bell is
 * rung or timeout_ns elapses (timeout_ns < 0: no timeout). Returns true if
 * rung, false on timeout. The bell is awake again on return either way. */
bool shard_bell_wait(shard_bell *b, int64_t timeout_ns);

/* Producer (any thread), after making input visible (push): wakes the
 * consumer if it is parked or about to park. */
void shard_bell_ring(shard_bell *b);

/* Number of kernel wake-ups issued so far (for stats and tests). */
uint64_t shard_bell_wakes(const shard_bell *b);

#endif
