/* Dataflow plans and the operator interface.
 *
 * Notes: a plan is a DAG of nodes built by a client thread; installing it
 * instantiates every node on every worker (eng_rt.h). A node has one output
 * and any number of input ports. An edge either stays on the worker
 * (pipeline) or exchanges: each update is routed to the worker that owns
 * the shard of the hash of its first `key_ncols` datums (keyed rows carry
 * their key first; operators split key and value by column count).
 *
 * Operators are driven through eng_op_vt, the way PostgreSQL drives output
 * plugins through a callback struct. A worker calls, on its own thread:
 *   input(op, port, batch)   for each batch that arrived (borrowed for the call);
 *   frontier(op, f)          when the minimum frontier over all inputs rose to f:
 *                            the op emits everything it owes for times < f
 *                            and returns its output frontier (<= f; usually f).
 * Progress: an operator whose semantics need completeness (reduce, top-k,
 * distinct, join) buffers until frontier() and emits then; a stateless one
 * (map/filter) emits in input(). Output goes through eng_op_out() /
 * eng_op_flush(); the runtime forwards an op's output frontier only after
 * the data it flushed, so no receiver sees a frontier pass data in flight. */
#ifndef ENG_DATAFLOW_H
#define ENG_DATAFLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/core/eng_err.h"
#include "engine/runtime/eng_batch.h"

typedef struct eng_op eng_op;
typedef struct eng_wctx eng_wctx; /* one worker's context, visible to operators */
typedef struct eng_node eng_node; /* runtime-private per-worker node state */

typedef struct eng_op_vt {
    const char *name;
    /* A batch arrived on `port`. b is borrowed for the call. */
    void (*input)(eng_op *op, int port, const eng_batch *b);
    /* All inputs' frontier rose to f. Returns the output frontier. */
    eng_time (*frontier)(eng_op *op, eng_time f);
    void (*destroy)(eng_op *op);
    /* Optional: bytes of state held (arranged memory). */
    size_t (*memory)(const eng_op *op);
    /* Optional: record count held. */
    size_t (*records)(const eng_op *op);
    /* Optional, for peekable nodes: appends this worker's part of the
     * collection as of time t (every row with its accumulated count as
     * diff, time = t) to out. key (may be NULL) restricts to rows whose
     * first datums equal the key row. Called only when since <= t < the
     * op's output frontier. */
    void (*peek)(eng_op *op, eng_time t, const eng_row *key, eng_batch *out);
    /* Optional: the op may compact history older than `since`. */
    void (*compact)(eng_op *op, eng_time since);
} eng_op_vt;

/* The header every operator state starts with. */
struct eng_op {
    const eng_op_vt *vt;
    eng_wctx *w;
    eng_node *node;
};

/* Creates a node's operator on a worker. params are the plan's shared,
 * read-only parameters (borrowed until the dataflow is dropped). Returns
 * NULL only on allocation failure. The op's header is filled by the caller. */
typedef eng_op *(*eng_op_make_fn)(const void *params, eng_wctx *w);

/* ------------------------------------------------------------------ operator helpers */

int eng_wctx_index(const eng_wctx *w);
int eng_wctx_workers(const eng_wctx *w);
eng_batch_pool *eng_wctx_pool(eng_wctx *w);

/* The op's current output batch (appended to by the op). */
eng_batch *eng_op_out(eng_op *op);
/* Sends the current output batch downstream if it holds updates. */
void eng_op_flush(eng_op *op);

/* False if nothing reads the op's output stream (it may skip emitting it;
 * its peekable state must still be maintained). */
bool eng_op_has_output(const eng_op *op);

static inline void
eng_op_emit(eng_op *op, eng_row r, eng_time t, int64_t diff)
{
    eng_batch *b = eng_op_out(op);
    eng_batch_push(b, r, t, diff);
    if (b->n >= ENG_BATCH_TARGET)
        eng_op_flush(op);
}

/* Advances the op's output frontier to f outside a frontier() call (for
 * ops fed from outside their dataflow's inputs, such as an import of another
 * dataflow's arrangement). Flushes the op's output first. */
void eng_op_advance(eng_op *op, eng_time f);

/* The op of node `node` in dataflow `df_id` on this worker, or NULL if that
 * dataflow is not installed here. For ops that share state across
 * dataflows on one worker (same thread, so no synchronisation). */
eng_op *eng_wctx_find_op(eng_wctx *w, uint64_t df_id, int node);

/* Reports an error in data (division by zero, bad cast...) at time t with
 * multiplicity diff, as Materialize does: the dataflow's output stays
 * readable only while its accumulated errors are empty; a read returns the
 * error instead. Retract with diff -1 when the offending row is retracted. */
void eng_op_error(eng_op *op, const eng_err *err, eng_time t, int64_t diff);

/* ------------------------------------------------------------------ plans */

typedef struct eng_plan eng_plan;

eng_plan *eng_plan_new(void);
void eng_plan_free(eng_plan *p);

/* An input node: fed by a client with eng_df_send/eng_df_advance. Returns
 * its node id. */
int eng_plan_input(eng_plan *p, const char *name);

/* An operator node with `ninputs` input ports. params (may be NULL) is
 * owned by the plan from now on and freed with free_params (may be NULL).
 * Returns the node id. */
int eng_plan_node(eng_plan *p, const char *name, eng_op_make_fn make, void *params,
                  void (*free_params)(void *), int ninputs);

/* Reads of the dataflow at times below t are refused (its collections
 * start at t, e.g. when it imports another dataflow's arrangement as of t). */
void eng_plan_set_as_of(eng_plan *p, eng_time t);

/* Connects from's output to port `port` of `to`. key_ncols < 0: pipeline
 * (same worker); key_ncols >= 0: exchange by the hash of the first key_ncols
 * datums (0 = all rows to worker 0, for global aggregates). */
void eng_plan_edge(eng_plan *p, int from, int to, int port, int key_ncols);

#endif
