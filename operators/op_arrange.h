/* arrange: maintains a keyed collection as an arrangement (shard_arr) that
 * peeks read at any time between its since and its frontier, and passes its
 * input through unchanged (PLAIN) or applies change commands to it (CDC).
 *
 * Input: keyed rows (key_ncols key datums, then the value), exchanged by
 * key. Output: the same updates. State: this worker's shard of the
 * collection with the history not yet compacted. Frontier: output frontier
 * = input frontier; the arrangement's upper follows it. Retractions: just
 * negative diffs; a key whose multiplicity goes negative is reported as an
 * error in data.
 *
 * CDC modes (op_arrange_cdc; for change-data sources: PostgreSQL CDC,
 * Kafka UPSERT/Debezium). The input rows are *commands*, key ++ value ++
 * meta, where meta is one trailing datum; everything the op hands out (the
 * output stream, the arrangement, peeks, readers, imports, snapshots) is
 * ordinary updates of key ++ value rows, exactly as a PLAIN arrange of the
 * resulting collection would show them. The old row of an update or delete
 * is looked up in the arrangement itself: no second copy of the data.
 *
 *   UPSERT: at most one value per key (the first key_ncols datums); the
 *     value is val_ncols datums. Commands:
 *       diff +1, meta NULL or BYTES   upsert: retract the key's current
 *                                     value (if any), add the new one. A
 *                                     value column i (0-based after the
 *                                     key) whose bit is set in the BYTES
 *                                     bitmap (byte i/8, bit i%8, LSB
 *                                     first) is "unchanged" and taken
 *                                     from the current value (NULL if
 *                                     there is none; missing bytes are 0
 *                                     bits). New == old emits nothing.
 *       diff +1, meta TRUE            insert of a key the feeder knows is
 *                                     absent (a snapshot of a table with
 *                                     a unique key): no lookup; runs of
 *                                     them are applied in one batch. A
 *                                     key that was present ends up with
 *                                     two values: the feeder's promise.
 *       diff -1, any meta             delete by key: retract the current
 *                                     value if any (the command's value
 *                                     is ignored).
 *       diff +1, meta INT2            TRUNCATE: retract every row this
 *                                     worker holds. The sender sends it
 *                                     to every worker (eng_df_send_to,
 *                                     with the edge's key_ncols); its key
 *                                     and value may be anything.
 *     Rows without exactly key_ncols + val_ncols + 1 datums, other diffs
 *     and other meta tags are ignored and counted
 *     (op_arrange_cdc_ignored), never a crash.
 *   BAG: no key of its own (key_ncols covers the whole row, as for
 *     tables: give the row's column count, so the exchange does not hash
 *     the meta datum). meta NULL, diff n: the update (row, n); meta INT2,
 *     diff +1: TRUNCATE as above (every row retracted with its current
 *     count); anything else is ignored and counted.
 *
 * Commands are applied in arrival order, each seeing the effect of the
 * ones before it, also several for one key at one time. So one feeder must
 * keep a key's commands in order: send them with eng_df_send_keyed on the
 * edge's key_ncols (an eng_df_send spreads batches over workers and the
 * exchange may reorder them). Command times must not decrease; a command
 * older than one already applied on its worker is applied at the newest
 * time seen (its time never goes back). State, frontier and retractions
 * are as for PLAIN; a BAG retraction of an absent row is the same error in
 * data. */
#ifndef OP_ARRANGE_H
#define OP_ARRANGE_H

#include "engine/runtime/eng_dataflow.h"

typedef enum op_arrange_cdc {
    OP_ARRANGE_PLAIN = 0, /* input rows are updates */
    OP_ARRANGE_UPSERT,    /* input rows are keyed upsert/delete/truncate commands */
    OP_ARRANGE_BAG,       /* input rows are updates and truncate commands */
} op_arrange_cdc;

typedef struct op_arrange_params {
    int key_ncols;
    op_arrange_cdc cdc; /* default PLAIN: updates in, updates out */
    int val_ncols;      /* UPSERT: number of value columns (for the unchanged mask) */
} op_arrange_params;

/* make function for eng_plan_node; params: op_arrange_params. */
eng_op *op_arrange_make(const void *params, eng_wctx *w);

/* ---- sharing, between dataflows on one worker (same thread) ----------- */

#include "shard/shard_arr.h"

/* The arrangement of an arrange op, or NULL if op is not one. Borrowed
 * until the op is destroyed (readers register with op_arrange_listen to be
 * told). */
shard_arr *op_arrange_arr(eng_op *op);
int op_arrange_key_ncols(const eng_op *op);

/* A reader of a shared arrangement: told about new data and frontiers
 * (either callback may be NULL) and about the source going away; its
 * `hold` keeps the arrangement's history readable at times >= hold. */
typedef struct op_arrange_reader {
    eng_op *who;
    void (*on_data)(eng_op *who, const eng_batch *b);
    void (*on_frontier)(eng_op *who, eng_time f);
    void (*on_gone)(eng_op *who);
    eng_time hold;
} op_arrange_reader;

/* Registers r (copied). Returns -1 if r->hold is already compacted. */
int op_arrange_listen(eng_op *arrange, const op_arrange_reader *r);
/* Moves who's hold forward to t. */
void op_arrange_hold(eng_op *arrange, eng_op *who, eng_time t);
void op_arrange_unlisten(eng_op *arrange, eng_op *who);

/* Emits, through `to` (any op on this worker), the arrangement's contents
 * as of t stamped t, then every update held with a time > t. */
void op_arrange_snapshot(eng_op *arrange, eng_time t, eng_op *to);

eng_time op_arrange_frontier(const eng_op *arrange);

/* Commands a CDC arrange ignored on this worker (bad diff, meta or shape).
 * Worker thread only. */
uint64_t op_arrange_cdc_ignored(const eng_op *arrange);

/* Appends the rows of arr (key ++ value) as of t, with their counts as diffs
 * and time t, restricted to `key` if not NULL. Shared by peekable ops that
 * keep their output in a shard_arr. */
void op_arr_peek(const shard_arr *arr, eng_time t, const eng_row *key, eng_batch *out);

#endif
