/* The dataflow runtime: pinned workers running every installed dataflow over
 * their shards, and the client API other threads use to drive them.
 *
 * Notes: threads. Workers are started by eng_rt_start and run until
 * eng_rt_stop. Any other thread (coordinator, io, tests) talks to workers
 * through an eng_client it creates for itself: a client is used by one
 * thread at a time and owns a single-producer single-consumer channel to
 * each worker and one back. Nothing is shared between workers except
 * through channels; the only shared memory is the atomics a dataflow
 * publishes for progress (frontiers, since, read holds).
 *
 * Consistency: every node's output frontier is published per worker; a
 * node is readable at t once every worker's output frontier is > t. A peek
 * at t takes a read hold first, so no worker compacts the node's history
 * past t while the peek is in flight. */
#ifndef ENG_RT_H
#define ENG_RT_H

#include "engine/core/eng_err.h"
#include "engine/runtime/eng_batch.h"
#include "engine/runtime/eng_dataflow.h"
#include "shard/shard_topo.h"

typedef struct eng_rt eng_rt;
typedef struct eng_client eng_client;
typedef struct eng_df eng_df;
typedef struct eng_sub eng_sub;

/* Starts `workers` pinned worker threads. topo is borrowed until stop.
 * Returns 0, or -1 with err set. */
int eng_rt_start(eng_rt **out, const shard_topo *topo, int workers, eng_err *err);

/* Stops and joins the workers; drops every dataflow still installed. All
 * clients must have been freed. */
void eng_rt_stop(eng_rt *rt);

int eng_rt_workers(const eng_rt *rt);

/* Where worker i runs (borrowed until eng_rt_stop). */
const shard_place *eng_rt_place(const eng_rt *rt, int i);

/* ------------------------------------------------------------------ clients */

/* A new client for the calling thread. */
eng_client *eng_client_new(eng_rt *rt);
void eng_client_free(eng_client *c);

/* An empty batch from the client's pool (to fill and pass to eng_df_send). */
eng_batch *eng_client_batch(eng_client *c);

/* ------------------------------------------------------------------ dataflows */

/* Installs plan on every worker (takes ownership of plan). Returns the
 * dataflow handle, valid until eng_df_drop. */
eng_df *eng_df_install(eng_client *c, eng_plan *plan);

/* Tears the dataflow down on every worker and frees the handle. Waits
 * until every worker has dropped it. */
void eng_df_drop(eng_client *c, eng_df *df);

/* Sends a batch of updates into input node `input` (takes ownership of b).
 * Updates must have times >= the input's current frontier. Batches are
 * spread over workers; exchange edges route them onwards. */
void eng_df_send(eng_client *c, eng_df *df, int input, eng_batch *b);

/* As eng_df_send, but routes each update to the worker that owns the hash
 * of its first key_ncols datums, so an exchange on that key downstream of
 * the input moves nothing (sources that know their keys use this). */
void eng_df_send_keyed(eng_client *c, eng_df *df, int input, eng_batch *b, int key_ncols);

/* The worker that owns a key hash (for sources that partition their data
 * themselves), and sending a batch whose updates all belong to worker w by
 * the hash of their first key_ncols datums. */
int eng_rt_owner(const eng_rt *rt, uint64_t key_hash);
void eng_df_send_to(eng_client *c, eng_df *df, int input, int w, eng_batch *b, int key_ncols);

/* Promises no more updates at times < frontier on input node `input`. */
void eng_df_advance(eng_client *c, eng_df *df, int input, eng_time frontier);

/* The dataflow's id (what eng_wctx_find_op takes). */
uint64_t eng_df_id(const eng_df *df);

/* The node's output frontier: min over workers. Readable times are < it. */
eng_time eng_df_frontier(const eng_df *df, int node);

/* Waits (up to timeout_ms; <0 forever) until node's frontier > t. Returns
 * 0, or -1 with err (57014) on timeout. */
int eng_df_wait(eng_client *c, eng_df *df, int node, eng_time t, int timeout_ms, eng_err *err);

/* Arranged bytes and records held by a node's operators, summed over
 * workers (a snapshot; may lag by one worker step). */
size_t eng_df_memory(const eng_df *df, int node);
size_t eng_df_records(const eng_df *df, int node);

/* Keeps node's history at times >= t readable (no worker compacts past t)
 * until eng_df_release(df, node, t). Returns 0, or -1 with err (22023) if t
 * was already compacted. Holds nest: each hold needs its own release. */
int eng_df_hold(eng_df *df, int node, eng_time t, eng_err *err);
void eng_df_release(eng_df *df, int node, eng_time t);

/* A consistent read of peekable node `node` at time t (< its frontier, or
 * waits until it is): every row with its multiplicity as diff, from all
 * workers, at one time. key (may be NULL) restricts to rows starting with
 * those datums. On success *out is a new batch (free with eng_batch_free or
 * return to a pool). On an error in the data at t, returns -1 with err set
 * to that error. t = ENG_TIME_MAX means "the latest readable time". */
int eng_df_peek(eng_client *c, eng_df *df, int node, eng_time t, const eng_row *key,
                eng_batch **out, eng_time *at, eng_err *err);

/* ------------------------------------------------------------------ subscriptions */

/* Adds a subscription sink reading node `from`; the subscription is
 * delivered to client c (the client that will call eng_sub_next). Returns
 * the sink's node id. *out is valid until the dataflow is dropped. */
int eng_plan_subscribe(eng_plan *p, int from, eng_client *c, eng_sub **out);

/* Waits up to timeout_ms for the subscription's frontier to advance. On
 * return, *out (a new batch, may be empty) holds every update with time
 * below the new frontier that was not returned before, sorted by time and
 * consolidated; *frontier is the new frontier. Returns 0, or -1 with err
 * set (57014 on timeout with no progress). */
int eng_sub_next(eng_sub *s, int timeout_ms, eng_batch **out, eng_time *frontier, eng_err *err);

#endif
