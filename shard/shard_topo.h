/* Machine topology and worker placement through hwloc.
 *
 * Notes: placement spreads workers over physical cores first (the first PU
 * of every core), then over hyperthread siblings, then wraps around
 * (oversubscription, which works but is reported). Each worker's memory is
 * bound to the NUMA node of its PU. The topology object is read-only after
 * shard_topo_open() and may be shared by all threads; shard_topo_bind_self()
 * is called by the thread being bound. */
#ifndef SHARD_TOPO_H
#define SHARD_TOPO_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/core/eng_err.h"

typedef struct shard_topo shard_topo;

typedef struct shard_place {
    int worker;          /* worker index */
    int pu;              /* OS index of the processing unit (CPU number) */
    int core;            /* logical index of the physical core */
    int numa_node;       /* OS index of the NUMA node holding the worker's memory, -1 if unknown */
    bool sibling;        /* shares its core with an earlier worker (hyperthread) */
    bool oversubscribed; /* shares its PU with an earlier worker */
} shard_place;

/* Loads the machine topology. Returns 0, or -1 with err set (58000). */
int shard_topo_open(shard_topo **out, eng_err *err);
void shard_topo_close(shard_topo *topo);

int shard_topo_packages(const shard_topo *topo);
int shard_topo_numa_nodes(const shard_topo *topo);
int shard_topo_cores(const shard_topo *topo);
int shard_topo_pus(const shard_topo *topo);

/* Writes a one-line description ("1 package, 1 NUMA node, 2 cores, 2 PUs"). */
void shard_topo_describe(const shard_topo *topo, char *buf, size_t cap);

/* Fills places[0..workers) with the placement of each worker. */
void shard_topo_plan(const shard_topo *topo, int workers, shard_place *places);

/* Binds the calling thread to place->pu and its memory allocation policy to
 * place->numa_node. Returns 0, or -1 with err set (58000). */
int shard_topo_bind_self(const shard_topo *topo, const shard_place *place, eng_err *err);

#endif
