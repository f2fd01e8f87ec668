/* Runtime internals shared by the runtime's own files (not for operators). */
#ifndef ENG_RT_INTERNAL_H
#define ENG_RT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "engine/runtime/eng_rt.h"
#include "shard/shard_chan.h"

enum { RT_NODE_INPUT = 1, RT_NODE_OP, RT_NODE_SUBSCRIBE };

typedef struct rt_plan_node {
    char *name;
    eng_op_make_fn make;
    void *params;
    void (*free_params)(void *);
    int ninputs;
    int kind;
    int *in_edges; /* edge index per port, -1 if unconnected */
} rt_plan_node;

typedef struct rt_plan_edge {
    int from, to, port, key_ncols;
} rt_plan_edge;

struct eng_plan {
    eng_time as_of; /* reads below this time are refused (set by imports) */
    rt_plan_node *nodes;
    int n, cap;
    rt_plan_edge *edges;
    int nedges, ecap;
};

int rt_plan_sink(eng_plan *p, const char *name, void *params, int kind);

/* Control messages (eng_batch.control when kind == ENG_MSG_CONTROL). */
enum {
    RT_CTL_INSTALL = 1, /* client -> worker: payload eng_df* */
    RT_CTL_DROP,        /* client -> worker: payload eng_df* */
    RT_CTL_PEEK,        /* client -> worker: payload rt_peek* */
    RT_CTL_PEEK_REPLY,  /* worker -> client: rows in the batch, payload rt_errsum* or NULL */
    RT_CTL_PEEK_ERROR,  /* worker -> client: payload eng_err* (new): the peek cannot run */
};

/* A worker's errors in data at a peek's time (malloc'd; the client frees). */
typedef struct rt_errsum {
    int n;
    struct {
        eng_err err;
        int64_t count;
    } items[];
} rt_errsum;

typedef struct rt_peek {
    eng_df *df;
    int node;
    eng_time t;
    eng_row key; /* key.data NULL: whole collection; bytes owned by the request */
    uint64_t id;
    int client;
} rt_peek;

/* Shared, published per (node, worker): written by the worker, read by anyone. */
typedef struct rt_pub {
    _Atomic eng_time frontier;
    _Atomic eng_time since;
    _Atomic size_t memory;
    _Atomic size_t records;
} rt_pub;

struct eng_df {
    uint64_t id;
    eng_plan *plan;
    int W;
    rt_pub *pub;             /* [node * W + worker] */
    _Atomic eng_time *hold;  /* [node]: minimum read hold, ENG_TIME_MAX if none */
    pthread_mutex_t hold_mu; /* guards hold_list */
    eng_time *hold_list;
    int nholds, hold_cap;
    _Atomic int dropped; /* workers that tore it down */
    int next_worker;     /* round-robin target for eng_df_send (client-owned) */
    eng_sub **subs;      /* per node: subscription, if a subscribe sink */
};

#endif
