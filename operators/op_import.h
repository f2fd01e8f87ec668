/* import: reads another dataflow's arrangement (an arrange node) on the
 * same worker, so a second view over the same collection reuses the first
 * one's arranged state instead of building its own (shared arrangements).
 *
 * Output: the collection as of the import's as_of time (a snapshot at that
 * time), then every later update as the source arrangement receives it.
 * Output frontier: the source's. The importing dataflow is readable from
 * as_of on. If the source dataflow is dropped, the import reports an error
 * in data (the importing view's reads fail) and its frontier stops.
 *
 * Client side: op_import_add() picks as_of (the source's latest readable
 * time) and holds the source's history there; after eng_df_install(),
 * op_import_ready() waits until every worker attached, then releases it. */
#ifndef OP_IMPORT_H
#define OP_IMPORT_H

#include "engine/runtime/eng_rt.h"

typedef struct op_import_params {
    uint64_t src_df;
    int src_node;
    eng_time as_of;
} op_import_params;

/* Adds an import of (src, src_node) to p. Returns its node id and the
 * as_of time chosen, or -1 with err set (the source is not readable yet or
 * its history is gone). */
int op_import_add(eng_plan *p, eng_client *c, eng_df *src, int src_node, eng_time *as_of,
                  eng_err *err);

/* After installing the importing dataflow: waits until its import node is
 * attached on every worker and releases the hold on the source. */
void op_import_ready(eng_client *c, eng_df *dst, int node, eng_df *src, int src_node,
                     eng_time as_of);

eng_op *op_import_make(const void *params, eng_wctx *w);

/* Called by the source arrangement (same worker thread). */
void op_import_data(eng_op *imp, const eng_batch *b);
void op_import_frontier(eng_op *imp, eng_time f);
void op_import_gone(eng_op *imp);

#endif
