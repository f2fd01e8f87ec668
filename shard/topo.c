/* hwloc topology discovery and worker placement. */
#include "shard/shard_topo.h"

#include <errno.h>
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct shard_topo {
    hwloc_topology_t t;
    int npackages, nnuma, ncores, npus;
    int *pu_order; /* PU logical indexes: first PU of each core, then siblings */
    int *pu_core;  /* core logical index of pu_order[i] */
    int *pu_rank;  /* 0 for the first PU of a core, 1.. for siblings */
};

static int
count_type(hwloc_topology_t t, hwloc_obj_type_t type)
{
    int n = hwloc_get_nbobjs_by_type(t, type);
    return n < 0 ? 0 : n;
}

int
shard_topo_open(shard_topo **out, eng_err *err)
{
    shard_topo *topo = calloc(1, sizeof *topo);
    if (topo == NULL)
        return eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "out of memory loading topology");
    if (hwloc_topology_init(&topo->t) != 0 || hwloc_topology_load(topo->t) != 0) {
        eng_err_set(err, ENG_ERRCODE_SYSTEM_ERROR, "hwloc could not load the machine topology: %s",
                    strerror(errno));
        free(topo);
        return -1;
    }
    topo->npackages = count_type(topo->t, HWLOC_OBJ_PACKAGE);
    topo->nnuma = count_type(topo->t, HWLOC_OBJ_NUMANODE);
    topo->ncores = count_type(topo->t, HWLOC_OBJ_CORE);
    topo->npus = count_type(topo->t, HWLOC_OBJ_PU);
    if (topo->npus <= 0) {
        hwloc_topology_destroy(topo->t);
        free(topo);
        return eng_err_set(err, ENG_ERRCODE_SYSTEM_ERROR, "hwloc found no processing units");
    }
    topo->pu_order = calloc((size_t)topo->npus, sizeof(int));
    topo->pu_core = calloc((size_t)topo->npus, sizeof(int));
    topo->pu_rank = calloc((size_t)topo->npus, sizeof(int));
    if (!topo->pu_order || !topo->pu_core || !topo->pu_rank) {
        shard_topo_close(topo);
        return eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "out of memory loading topology");
    }
    /* Order PUs by (rank within core, core): all first PUs, then all seconds... */
    int n = 0;
    for (int rank = 0; n < topo->npus; rank++) {
        int added = 0;
        if (topo->ncores > 0) {
            for (int c = 0; c < topo->ncores; c++) {
                hwloc_obj_t core = hwloc_get_obj_by_type(topo->t, HWLOC_OBJ_CORE, (unsigned)c);
                hwloc_obj_t pu = hwloc_get_obj_inside_cpuset_by_type(topo->t, core->cpuset,
                                                                     HWLOC_OBJ_PU, (unsigned)rank);
                if (pu == NULL)
                    continue;
                topo->pu_order[n] = (int)pu->logical_index;
                topo->pu_core[n] = c;
                topo->pu_rank[n] = rank;
                n++;
                added++;
            }
        } else if (rank == 0) { /* no core objects: treat each PU as a core */
            for (int p = 0; p < topo->npus; p++) {
                topo->pu_order[n] = p;
                topo->pu_core[n] = p;
                topo->pu_rank[n] = 0;
                n++;
                added++;
            }
        }
        if (added == 0)
            break;
    }
    /* PUs outside any core (unusual) are left out of the order; keep count right. */
    topo->npus = n;
    *out = topo;
    return 0;
}

void
shard_topo_close(shard_topo *topo)
{
    if (topo == NULL)
        return;
    hwloc_topology_destroy(topo->t);
    free(topo->pu_order);
    free(topo->pu_core);
    free(topo->pu_rank);
    free(topo);
}

int
shard_topo_packages(const shard_topo *topo)
{
    return topo->npackages;
}
int
shard_topo_numa_nodes(const shard_topo *topo)
{
    return topo->nnuma;
}
int
shard_topo_cores(const shard_topo *topo)
{
    return topo->ncores > 0 ? topo->ncores : topo->npus;
}
int
shard_topo_pus(const shard_topo *topo)
{
    return topo->npus;
}

void
shard_topo_describe(const shard_topo *topo, char *buf, size_t cap)
{
    snprintf(buf, cap, "%d package%s, %d NUMA node%s, %d core%s, %d PU%s", topo->npackages,
             topo->npackages == 1 ? "" : "s", topo->nnuma, topo->nnuma == 1 ? "" : "s",
             shard_topo_cores(topo), shard_topo_cores(topo) == 1 ? "" : "s", topo->npus,
             topo->npus == 1 ? "" : "s");
}

void
shard_topo_plan(const shard_topo *topo, int workers, shard_place *places)
{
    for (int w = 0; w < workers; w++) {
        int slot = w % topo->npus;
        hwloc_obj_t pu =
            hwloc_get_obj_by_type(topo->t, HWLOC_OBJ_PU, (unsigned)topo->pu_order[slot]);
        places[w].worker = w;
        places[w].pu = (int)pu->os_index;
        places[w].core = topo->pu_core[slot];
        places[w].numa_node = pu->nodeset ? hwloc_bitmap_first(pu->nodeset) : -1;
        places[w].sibling = topo->pu_rank[slot] > 0;
        places[w].oversubscribed = w >= topo->npus;
    }
}

int
shard_topo_bind_self(const shard_topo *topo, const shard_place *place, eng_err *err)
{
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (set == NULL)
        return eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "out of memory binding thread");
    hwloc_bitmap_only(set, (unsigned)place->pu);
    int rc = hwloc_set_cpubind(topo->t, set, HWLOC_CPUBIND_THREAD);
    if (rc != 0) {
        hwloc_bitmap_free(set);
        return eng_err_set(err, ENG_ERRCODE_SYSTEM_ERROR, "cannot pin worker %d to CPU %d: %s",
                           place->worker, place->pu, strerror(errno));
    }
    if (place->numa_node >= 0) {
        hwloc_bitmap_only(set, (unsigned)place->numa_node);
        /* Memory binding is advisory: a kernel without NUMA support refuses it,
         * which changes nothing on a one-node machine. */
        (void)hwloc_set_membind(topo->t, set, HWLOC_MEMBIND_BIND,
                                HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET);
    }
    hwloc_bitmap_free(set);
    return 0;
}
