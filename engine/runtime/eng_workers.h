/* The worker pool: W threads, each pinned by hwloc to its own PU with its
 * memory on that PU's NUMA node, parked on an eventfd while idle.
 *
 * Notes: created and stopped by the coordinator (or main) thread only. A
 * worker never touches another worker's state; everything reaches it
 * through its wake-up eventfd and, later, its command channels. */
#ifndef ENG_WORKERS_H
#define ENG_WORKERS_H

#include "engine/core/eng_err.h"
#include "shard/shard_topo.h"

typedef struct eng_workers eng_workers;

/* Starts n workers placed by shard_topo_plan(); logs where each is pinned
 * and warns when workers outnumber PUs. Returns 0 once every worker runs,
 * or -1 with err set (nothing left running). topo is borrowed and must
 * outlive the pool. */
int eng_workers_start(eng_workers **out, const shard_topo *topo, int n, eng_err *err);

int eng_workers_count(const eng_workers *pool);

/* The placement of worker i (borrowed, valid until eng_workers_stop). */
const shard_place *eng_workers_place(const eng_workers *pool, int i);

/* Wakes every worker, asks it to exit, joins and frees the pool. */
void eng_workers_stop(eng_workers *pool);

#endif
