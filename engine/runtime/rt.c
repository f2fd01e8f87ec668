/* The dataflow runtime: worker threads, message dispatch, progress
 * propagation, exchange, peeks and subscriptions.
 *
 * Notes: each worker runs a loop: drain its client channels and peer
 * channels (delivering batches into node port queues, frontier marks into
 * per-sender frontiers), step every dataflow once (nodes in id order, which
 * is topological: run queued inputs, then if the minimum input frontier
 * rose, let the op emit and forward its output frontier), answer peeks that
 * became readable, compact what no reader holds, and park on its bell when
 * a whole pass did nothing.
 *
 * Ordering guarantee: per channel, messages arrive in send order; an op's
 * output is flushed (sent) before its output frontier, so a frontier mark
 * F on a channel follows every update with time < F on that channel. A
 * port's frontier is the minimum over its senders (one per worker for an
 * exchange edge), so once it passes t, every update at t from every worker
 * has been delivered. */
#include "engine/runtime/rt_internal.h"
#include "engine/core/eng_log.h"
#include "shard/shard_route.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHAN_CAP 1024

typedef struct worker worker;
typedef struct client_link client_link;

/* One node instantiated on one worker. */
typedef struct wport {
    eng_batch *qhead, *qtail; /* queued data batches */
    eng_time *sender;         /* frontier per sender */
    int nsenders;
} wport;

struct eng_node {
    int id;
    int kind;
    eng_op *op;
    wport *ports;
    int nports;
    eng_time in_frontier, out_frontier, since;
    eng_batch *out;
    int *out_edges; /* plan edge indexes leaving this node */
    int nout;
    struct wdf *df;
    eng_sub *sub; /* RT_NODE_SUBSCRIBE */
};

typedef struct rt_errent {
    eng_err err;
    eng_time time;
    int64_t diff;
} rt_errent;

typedef struct wdf {
    eng_df *df;
    eng_node *nodes;
    int n;
    rt_errent *errs; /* errors in data, with times (rare) */
    int nerrs, errcap;
    struct wdf *next;
} wdf;

/* Messages for a dataflow this worker has not installed yet. */
typedef struct pending_df {
    uint64_t id;
    eng_batch *head, *tail;
    struct pending_df *next;
} pending_df;

struct client_link {
    int id;
    shard_chan *in;  /* client -> worker (consumed here) */
    shard_chan *out; /* worker -> client (produced here) */
    eng_client *client;
};

struct eng_wctx {
    eng_rt *rt;
    int index;
    pthread_t thread;
    bool started;
    shard_bell bell;
    eng_batch_pool pool;
    shard_chan **from_peer;           /* [W]: peer -> me */
    eng_batch **ovf_head, **ovf_tail; /* [W]: overflow when a peer channel is full */
    client_link *clients;
    int nclients;
    uint64_t clients_version;
    wdf *dfs;
    pending_df *pending;
    uint64_t *dropped_ids;
    int ndropped, dropcap;
    rt_peek **peeks; /* waiting until readable */
    int npeeks, peekcap;
};

struct eng_client {
    eng_rt *rt;
    int id;
    shard_chan **to_worker;   /* [W] */
    shard_chan **from_worker; /* [W] */
    shard_bell bell;
    eng_batch_pool pool;
    uint64_t next_peek;
    /* replies for the peek in flight */
    rt_peek *peek;
    int peek_replies;
    eng_batch *peek_out;
    eng_err peek_err;
    bool peek_failed;
    rt_errsum *peek_errs; /* error counts summed over the replies so far */
    eng_sub *subs;        /* subscriptions delivered to this client */
};

struct eng_sub {
    struct eng_sub *next; /* the client's list */
    eng_client *client;
    eng_df *df;
    int node;
    int W;
    eng_time *wfront; /* per worker */
    eng_time frontier;
    eng_batch *buf; /* updates received, not yet returned */
};

struct eng_rt {
    const shard_topo *topo;
    int W;
    shard_place *places;
    eng_wctx *w;
    shard_map route;
    _Atomic bool stopping;
    pthread_mutex_t mu; /* clients registry */
    eng_client **clients;
    int nclients, clientcap;
    _Atomic uint64_t clients_version;
    _Atomic uint64_t next_df;
    int next_client; /* guarded by mu */
    pthread_mutex_t ready_mu;
    pthread_cond_t ready_cv;
    int ready;
};

/* ------------------------------------------------------------------ helpers */

int
eng_wctx_index(const eng_wctx *w)
{
    return w->index;
}

int
eng_wctx_workers(const eng_wctx *w)
{
    return w->rt->W;
}

eng_batch_pool *
eng_wctx_pool(eng_wctx *w)
{
    return &w->pool;
}

int
eng_rt_workers(const eng_rt *rt)
{
    return rt->W;
}

const shard_place *
eng_rt_place(const eng_rt *rt, int i)
{
    ENG_ASSERT(i >= 0 && i < rt->W);
    return &rt->places[i];
}

static inline rt_pub *
pub_of(eng_df *df, int node, int w)
{
    return &df->pub[(size_t)node * (size_t)df->W + (size_t)w];
}

/* Pushes to a worker-owned outgoing channel; keeps overflow locally so a
 * full channel never blocks a worker (two workers sending to each other
 * would deadlock otherwise). */
static void
send_peer(eng_wctx *w, int dst, eng_batch *b)
{
    eng_wctx *peer = &w->rt->w[dst];
    b->next = NULL;
    if (w->ovf_head[dst] == NULL && shard_chan_push(peer->from_peer[w->index], b)) {
        shard_bell_ring(&peer->bell);
        return;
    }
    if (w->ovf_tail[dst])
        w->ovf_tail[dst]->next = b;
    else
        w->ovf_head[dst] = b;
    w->ovf_tail[dst] = b;
}

static bool
flush_overflow(eng_wctx *w)
{
    bool did = false;
    for (int d = 0; d < w->rt->W; d++) {
        eng_wctx *peer = &w->rt->w[d];
        while (w->ovf_head[d]) {
            eng_batch *b = w->ovf_head[d];
            eng_batch *next = b->next;
            if (!shard_chan_push(peer->from_peer[w->index], b))
                break;
            did = true;
            w->ovf_head[d] = next;
            if (next == NULL)
                w->ovf_tail[d] = NULL;
        }
        if (did)
            shard_bell_ring(&peer->bell);
    }
    return did;
}

/* Worker -> client. The client drains promptly; spin politely if full. */
static void
send_client(eng_wctx *w, client_link *cl, eng_batch *b)
{
    while (!shard_chan_push(cl->out, b)) {
        shard_bell_ring(&cl->client->bell);
        if (atomic_load(&w->rt->stopping))
            return;
        sched_yield();
    }
    shard_bell_ring(&cl->client->bell);
}

static client_link *
find_client(eng_wctx *w, int id)
{
    for (int i = 0; i < w->nclients; i++)
        if (w->clients[i].id == id)
            return &w->clients[i];
    return NULL;
}

/* ------------------------------------------------------------------ errors in data */

void
eng_op_error(eng_op *op, const eng_err *err, eng_time t, int64_t diff)
{
    wdf *d = op->node->df;
    for (int i = 0; i < d->nerrs; i++) {
        rt_errent *e = &d->errs[i];
        if (e->time == t && strcmp(e->err.message, err->message) == 0 &&
            strcmp(e->err.sqlstate, err->sqlstate) == 0) {
            e->diff += diff;
            return;
        }
    }
    if (d->nerrs == d->errcap) {
        d->errcap = d->errcap ? d->errcap * 2 : 4;
        d->errs = realloc(d->errs, (size_t)d->errcap * sizeof *d->errs);
        ENG_ASSERT(d->errs != NULL);
    }
    d->errs[d->nerrs++] = (rt_errent){*err, t, diff};
}

/* This worker's errors in data accumulated at times <= t, one entry per
 * distinct (SQLSTATE, message) with a non-zero count, or NULL if none. A
 * worker's count alone says nothing: an error inserted through one worker
 * may be retracted through another, so the reader sums over workers. */
static rt_errsum *
errors_at(wdf *d, eng_time t)
{
    rt_errsum *es = NULL;
    for (int i = 0; i < d->nerrs; i++) {
        const rt_errent *e = &d->errs[i];
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(d->errs[j].err.message, e->err.message) == 0 &&
                   strcmp(d->errs[j].err.sqlstate, e->err.sqlstate) == 0;
        if (seen)
            continue;
        int64_t sum = 0;
        for (int j = i; j < d->nerrs; j++)
            if (d->errs[j].time <= t && strcmp(d->errs[j].err.message, e->err.message) == 0 &&
                strcmp(d->errs[j].err.sqlstate, e->err.sqlstate) == 0)
                sum += d->errs[j].diff;
        if (sum == 0)
            continue;
        if (es == NULL) {
            es = calloc(1, sizeof *es + (size_t)d->nerrs * sizeof es->items[0]);
            ENG_ASSERT(es != NULL);
        }
        es->items[es->n].err = e->err;
        es->items[es->n].count = sum;
        es->n++;
    }
    return es;
}

/* ------------------------------------------------------------------ output */

eng_batch *
eng_op_out(eng_op *op)
{
    eng_node *n = op->node;
    if (n->out == NULL)
        n->out = eng_batch_get(&op->w->pool);
    return n->out;
}

static void deliver_local(eng_wctx *w, wdf *d, int node, int port, eng_batch *b);
static wdf *find_df(eng_wctx *w, uint64_t id);

/* Splits b by the hash of its first key_ncols datums into per-worker batches
 * and sends them; b is consumed. */
static void
exchange(eng_wctx *w, wdf *d, const rt_plan_edge *e, eng_batch *b)
{
    int W = w->rt->W;
    if (b->part_key == e->key_ncols && e->key_ncols > 0) {
        /* Already partitioned by this key for this worker. */
        b->kind = ENG_MSG_DATA;
        b->dataflow = d->df->id;
        b->node = (uint32_t)e->to;
        b->port = (uint16_t)e->port;
        b->sender = (uint32_t)w->index;
        deliver_local(w, d, e->to, e->port, b);
        return;
    }
    if (W == 1 || e->key_ncols == 0) {
        int dst = 0;
        b->kind = ENG_MSG_DATA;
        b->dataflow = d->df->id;
        b->node = (uint32_t)e->to;
        b->port = (uint16_t)e->port;
        b->sender = (uint32_t)w->index;
        if (dst == w->index)
            deliver_local(w, d, e->to, e->port, b);
        else
            send_peer(w, dst, b);
        return;
    }
    eng_batch *parts[W];
    for (int i = 0; i < W; i++)
        parts[i] = NULL;
    for (uint32_t i = 0; i < b->n; i++) {
        eng_row r = eng_batch_row(b, i);
        uint32_t klen = eng_row_col_offset(r, e->key_ncols);
        uint64_t h = XXH3_64bits(r.data, klen);
        int dst = (int)shard_owner(&w->rt->route, h);
        if (parts[dst] == NULL)
            parts[dst] = eng_batch_get(&w->pool);
        eng_batch_push(parts[dst], r, b->upd[i].time, b->upd[i].diff);
    }
    eng_batch_put(&w->pool, b);
    for (int dst = 0; dst < W; dst++) {
        eng_batch *p = parts[dst];
        if (p == NULL)
            continue;
        p->kind = ENG_MSG_DATA;
        p->dataflow = d->df->id;
        p->node = (uint32_t)e->to;
        p->port = (uint16_t)e->port;
        p->sender = (uint32_t)w->index;
        if (dst == w->index)
            deliver_local(w, d, e->to, e->port, p);
        else
            send_peer(w, dst, p);
    }
}

static eng_batch *
clone_batch(eng_wctx *w, const eng_batch *b)
{
    eng_batch *c = eng_batch_get(&w->pool);
    for (uint32_t i = 0; i < b->n; i++)
        eng_batch_push(c, eng_batch_row(b, i), b->upd[i].time, b->upd[i].diff);
    return c;
}

/* Sends the node's current output batch along every out edge. */
static void
node_flush(eng_wctx *w, eng_node *n)
{
    eng_batch *b = n->out;
    if (b == NULL || b->n == 0)
        return;
    n->out = NULL;
    wdf *d = n->df;
    const eng_plan *p = d->df->plan;
    if (n->nout == 0) {
        eng_batch_put(&w->pool, b);
        return;
    }
    for (int i = 0; i < n->nout; i++) {
        const rt_plan_edge *e = &p->edges[n->out_edges[i]];
        eng_batch *send = (i + 1 == n->nout) ? b : clone_batch(w, b);
        if (e->key_ncols < 0) {
            send->sender = 0;
            deliver_local(w, d, e->to, e->port, send);
        } else {
            exchange(w, d, e, send);
        }
    }
}

void
eng_op_flush(eng_op *op)
{
    node_flush(op->w, op->node);
}

static void node_publish(eng_wctx *w, wdf *d, eng_node *n, eng_time of);

void
eng_op_advance(eng_op *op, eng_time f)
{
    eng_node *n = op->node;
    node_flush(op->w, n);
    if (f > n->out_frontier)
        node_publish(op->w, n->df, n, f);
}

eng_op *
eng_wctx_find_op(eng_wctx *w, uint64_t df_id, int node)
{
    wdf *d = find_df(w, df_id);
    if (d == NULL || node < 0 || node >= d->n)
        return NULL;
    return d->nodes[node].op;
}

bool
eng_op_has_output(const eng_op *op)
{
    return op->node->nout > 0;
}

/* Forwards node n's output frontier along its out edges. */
static void
node_forward_frontier(eng_wctx *w, eng_node *n)
{
    wdf *d = n->df;
    const eng_plan *p = d->df->plan;
    for (int i = 0; i < n->nout; i++) {
        const rt_plan_edge *e = &p->edges[n->out_edges[i]];
        for (int dst = 0; dst < w->rt->W; dst++) {
            if (e->key_ncols < 0 && dst != w->index)
                continue; /* pipeline: only ourselves */
            eng_batch *m = eng_batch_get(&w->pool);
            m->kind = ENG_MSG_FRONTIER;
            m->dataflow = d->df->id;
            m->node = (uint32_t)e->to;
            m->port = (uint16_t)e->port;
            m->sender = e->key_ncols < 0 ? 0 : (uint32_t)w->index;
            m->frontier = n->out_frontier;
            if (dst == w->index)
                deliver_local(w, d, e->to, e->port, m);
            else
                send_peer(w, dst, m);
        }
    }
}

/* ------------------------------------------------------------------ delivery */

static void
deliver_local(eng_wctx *w, wdf *d, int node, int port, eng_batch *b)
{
    (void)w;
    wport *pt = &d->nodes[node].ports[port];
    b->next = NULL;
    if (pt->qtail)
        pt->qtail->next = b;
    else
        pt->qhead = b;
    pt->qtail = b;
}

static wdf *
find_df(eng_wctx *w, uint64_t id)
{
    for (wdf *d = w->dfs; d; d = d->next)
        if (d->df->id == id)
            return d;
    return NULL;
}

static bool
was_dropped(eng_wctx *w, uint64_t id)
{
    for (int i = 0; i < w->ndropped; i++)
        if (w->dropped_ids[i] == id)
            return true;
    return false;
}

static void
pend(eng_wctx *w, eng_batch *b)
{
    pending_df *p;
    for (p = w->pending; p; p = p->next)
        if (p->id == b->dataflow)
            break;
    if (p == NULL) {
        p = calloc(1, sizeof *p);
        ENG_ASSERT(p != NULL);
        p->id = b->dataflow;
        p->next = w->pending;
        w->pending = p;
    }
    b->next = NULL;
    if (p->tail)
        p->tail->next = b;
    else
        p->head = b;
    p->tail = b;
}

static void sub_receive(eng_client *c, eng_batch *b);

/* Routes a data or frontier message to its dataflow. */
static void
deliver(eng_wctx *w, eng_batch *b)
{
    wdf *d = find_df(w, b->dataflow);
    if (d == NULL) {
        if (was_dropped(w, b->dataflow))
            eng_batch_put(&w->pool, b);
        else
            pend(w, b); /* sent by a peer that installed it before we did */
        return;
    }
    ENG_ASSERT(b->node < (uint32_t)d->n);
    eng_node *n = &d->nodes[b->node];
    ENG_ASSERT(b->port < n->nports);
    ENG_ASSERT(b->kind != ENG_MSG_FRONTIER || b->sender < (uint32_t)n->ports[b->port].nsenders);
    /* Frontier marks are queued in order with data, so the node sees each
     * frontier advance right after the data that preceded it and can fold
     * updates in eagerly instead of buffering several times' worth. */
    deliver_local(w, d, (int)b->node, b->port, b);
}

/* ------------------------------------------------------------------ install / drop */

static void
install(eng_wctx *w, eng_df *df)
{
    const eng_plan *p = df->plan;
    int W = w->rt->W;
    wdf *d = calloc(1, sizeof *d);
    ENG_ASSERT(d != NULL);
    d->df = df;
    d->n = p->n;
    d->nodes = calloc((size_t)p->n, sizeof *d->nodes);
    ENG_ASSERT(d->nodes != NULL);
    for (int i = 0; i < p->n; i++) {
        const rt_plan_node *pn = &p->nodes[i];
        eng_node *n = &d->nodes[i];
        n->id = i;
        n->kind = pn->kind;
        n->df = d;
        n->nports = pn->kind == RT_NODE_INPUT ? 1 : pn->ninputs;
        n->ports = calloc((size_t)(n->nports > 0 ? n->nports : 1), sizeof *n->ports);
        ENG_ASSERT(n->ports != NULL);
        for (int port = 0; port < n->nports; port++) {
            wport *pt = &n->ports[port];
            int ei = pn->kind == RT_NODE_INPUT ? -1 : pn->in_edges[port];
            pt->nsenders = (ei >= 0 && p->edges[ei].key_ncols >= 0) ? W : 1;
            pt->sender = calloc((size_t)pt->nsenders, sizeof *pt->sender);
            ENG_ASSERT(pt->sender != NULL);
            if (pn->kind != RT_NODE_INPUT && ei < 0) /* unconnected port: closed */
                pt->sender[0] = ENG_TIME_MAX;
        }
        for (int e = 0; e < p->nedges; e++)
            if (p->edges[e].from == i)
                n->nout++;
        n->out_edges = calloc((size_t)(n->nout ? n->nout : 1), sizeof(int));
        ENG_ASSERT(n->out_edges != NULL);
        int k = 0;
        for (int e = 0; e < p->nedges; e++)
            if (p->edges[e].from == i)
                n->out_edges[k++] = e;
        if (pn->kind == RT_NODE_OP) {
            n->op = pn->make(pn->params, w);
            ENG_ASSERT(n->op != NULL);
            n->op->w = w;
            n->op->node = n;
        } else if (pn->kind == RT_NODE_SUBSCRIBE) {
            n->sub = pn->params;
        }
    }
    d->next = w->dfs;
    w->dfs = d;
    /* Replay messages peers sent before we installed. */
    pending_df **pp = &w->pending;
    while (*pp) {
        pending_df *pd = *pp;
        if (pd->id == df->id) {
            *pp = pd->next;
            for (eng_batch *b = pd->head; b;) {
                eng_batch *next = b->next;
                deliver(w, b);
                b = next;
            }
            free(pd);
        } else {
            pp = &pd->next;
        }
    }
}

static void
free_wdf(eng_wctx *w, wdf *d)
{
    for (int i = 0; i < d->n; i++) {
        eng_node *n = &d->nodes[i];
        if (n->op)
            n->op->vt->destroy(n->op);
        for (int port = 0; port < n->nports; port++) {
            for (eng_batch *b = n->ports[port].qhead; b;) {
                eng_batch *next = b->next;
                eng_batch_put(&w->pool, b);
                b = next;
            }
            free(n->ports[port].sender);
        }
        free(n->ports);
        free(n->out_edges);
        if (n->out)
            eng_batch_put(&w->pool, n->out);
    }
    free(d->nodes);
    free(d->errs);
    free(d);
}

static void
drop(eng_wctx *w, eng_df *df)
{
    for (wdf **pp = &w->dfs; *pp; pp = &(*pp)->next) {
        if ((*pp)->df == df) {
            wdf *d = *pp;
            *pp = d->next;
            free_wdf(w, d);
            break;
        }
    }
    if (w->ndropped == w->dropcap) {
        w->dropcap = w->dropcap ? w->dropcap * 2 : 16;
        w->dropped_ids = realloc(w->dropped_ids, (size_t)w->dropcap * sizeof(uint64_t));
        ENG_ASSERT(w->dropped_ids != NULL);
    }
    w->dropped_ids[w->ndropped++] = df->id;
    for (pending_df **pp = &w->pending; *pp;) {
        pending_df *pd = *pp;
        if (pd->id == df->id) {
            *pp = pd->next;
            for (eng_batch *b = pd->head; b;) {
                eng_batch *next = b->next;
                eng_batch_put(&w->pool, b);
                b = next;
            }
            free(pd);
        } else {
            pp = &pd->next;
        }
    }
    /* Drop any waiting peek on it: the client is the one dropping, so it
     * has no peek in flight on this dataflow. */
    atomic_fetch_add_explicit(&df->dropped, 1, memory_order_acq_rel);
}

/* ------------------------------------------------------------------ stepping */

static eng_time
port_frontier(const wport *pt)
{
    eng_time f = ENG_TIME_MAX;
    for (int s = 0; s < pt->nsenders; s++)
        if (pt->sender[s] < f)
            f = pt->sender[s];
    return f;
}

/* Compacts a peekable node's history no reader holds. */
static void
maybe_compact(eng_wctx *w, wdf *d, eng_node *n)
{
    if (n->op == NULL || n->op->vt->compact == NULL)
        return;
    eng_df *df = d->df;
    /* The globally readable frontier: a peek reads at a time below it. */
    eng_time g = ENG_TIME_MAX;
    for (int i = 0; i < df->W; i++) {
        eng_time f = atomic_load_explicit(&pub_of(df, n->id, i)->frontier, memory_order_acquire);
        if (f < g)
            g = f;
    }
    if (g == 0)
        return;
    /* A closed node (frontier: the empty one) stays readable at
     * ENG_TIME_MAX - 1, the time eng_df_peek reads it at. */
    eng_time s = g == ENG_TIME_MAX ? ENG_TIME_MAX - 1 : g - 1;
    eng_time h = atomic_load(&df->hold[n->id]);
    if (h < s)
        s = h;
    if (s <= n->since)
        return;
    /* Dekker-style handshake with eng_df_peek: publish the intended since,
     * then look at the holds again. Either we see the client's new hold, or
     * the client sees our since and retries at a later time. */
    rt_pub *pb = pub_of(df, n->id, w->index);
    atomic_store(&pb->since, s);
    h = atomic_load(&df->hold[n->id]);
    if (h < s) {
        s = h > n->since ? h : n->since;
        atomic_store(&pb->since, s);
    }
    if (s <= n->since)
        return;
    n->op->vt->compact(n->op, s);
    n->since = s;
}

static void sub_forward(eng_wctx *w, eng_node *n, eng_batch *b);

/* Recomputes node n's input frontier; if it rose, lets the op emit what it
 * owes and forwards the output frontier. */
static void
node_advance(eng_wctx *w, wdf *d, eng_node *n)
{
    eng_time f = ENG_TIME_MAX;
    for (int port = 0; port < n->nports; port++) {
        eng_time pf = port_frontier(&n->ports[port]);
        if (pf < f)
            f = pf;
    }
    if (f <= n->in_frontier)
        return;
    if (n->kind == RT_NODE_OP)
        node_flush(w, n); /* what input() emitted goes before any frontier */
    n->in_frontier = f;
    eng_time of = f;
    if (n->kind == RT_NODE_OP) {
        of = n->op->vt->frontier(n->op, f);
        ENG_ASSERT(of <= f);
        node_flush(w, n);
    }
    if (n->kind == RT_NODE_SUBSCRIBE)
        sub_forward(w, n, NULL);
    if (of > n->out_frontier)
        node_publish(w, d, n, of);
}

/* Sets n's output frontier to of, forwards it and publishes it. */
static void
node_publish(eng_wctx *w, wdf *d, eng_node *n, eng_time of)
{
    n->out_frontier = of;
    node_forward_frontier(w, n);
    rt_pub *pb = pub_of(d->df, n->id, w->index);
    if (n->op && n->op->vt->memory)
        atomic_store_explicit(&pb->memory, n->op->vt->memory(n->op), memory_order_relaxed);
    if (n->op && n->op->vt->records)
        atomic_store_explicit(&pb->records, n->op->vt->records(n->op), memory_order_relaxed);
    atomic_store_explicit(&pb->frontier, of, memory_order_release);
}

/* One pass over the dataflow's nodes (id order is topological). Returns
 * true if anything happened. */
static bool
step_df(eng_wctx *w, wdf *d)
{
    bool did = false;
    for (int i = 0; i < d->n; i++) {
        eng_node *n = &d->nodes[i];
        /* Ports take turns, one message each, so frontier marks of every
         * input are seen close to when they arrived and the op can keep
         * folding updates in eagerly instead of buffering. */
        for (bool more = true; more;) {
            more = false;
            for (int port = 0; port < n->nports; port++) {
                wport *pt = &n->ports[port];
                eng_batch *b = pt->qhead;
                if (b == NULL)
                    continue;
                more = true;
                pt->qhead = b->next;
                if (pt->qhead == NULL)
                    pt->qtail = NULL;
                did = true;
                if (b->kind == ENG_MSG_FRONTIER) {
                    if (b->frontier > pt->sender[b->sender])
                        pt->sender[b->sender] = b->frontier;
                    eng_batch_put(&w->pool, b);
                    node_advance(w, d, n);
                    continue;
                }
                if (n->kind == RT_NODE_INPUT) {
                    /* Inputs pass batches through unchanged. */
                    if (n->out)
                        node_flush(w, n);
                    b->next = NULL;
                    n->out = b;
                    node_flush(w, n);
                    continue;
                }
                if (n->kind == RT_NODE_SUBSCRIBE) {
                    sub_forward(w, n, b);
                    continue;
                }
                n->op->vt->input(n->op, port, b);
                eng_batch_put(&w->pool, b);
            }
        }
        if (n->kind == RT_NODE_OP)
            node_flush(w, n);
        node_advance(w, d, n); /* unconnected ports start closed */
        maybe_compact(w, d, n);
    }
    return did;
}

/* ------------------------------------------------------------------ peeks (worker side) */

static bool
try_peek(eng_wctx *w, rt_peek *pk)
{
    wdf *d = find_df(w, pk->df->id);
    client_link *cl = find_client(w, pk->client);
    if (cl == NULL)
        return true; /* client gone: drop the request */
    if (d == NULL) {
        eng_batch *m = eng_batch_get(&w->pool);
        eng_err *e = calloc(1, sizeof *e);
        ENG_ASSERT(e != NULL);
        eng_err_set(e, ENG_ERRCODE_UNDEFINED_OBJECT, "dataflow %llu is not installed",
                    (unsigned long long)pk->df->id);
        m->kind = ENG_MSG_CONTROL;
        m->control = RT_CTL_PEEK_ERROR;
        m->payload = e;
        m->sender = (uint32_t)w->index;
        m->dataflow = pk->id;
        send_client(w, cl, m);
        return true;
    }
    eng_node *n = &d->nodes[pk->node];
    if (n->out_frontier <= pk->t)
        return false; /* not readable here yet */
    eng_batch *m = eng_batch_get(&w->pool);
    m->sender = (uint32_t)w->index;
    m->dataflow = pk->id;
    ENG_ASSERT(n->since <= pk->t);
    if (n->op && n->op->vt->peek)
        n->op->vt->peek(n->op, pk->t, pk->key.data ? &pk->key : NULL, m);
    m->kind = ENG_MSG_CONTROL;
    m->control = RT_CTL_PEEK_REPLY;
    m->payload = errors_at(d, pk->t); /* the reader sums these over workers */
    send_client(w, cl, m);
    return true;
}

static bool
run_peeks(eng_wctx *w)
{
    bool did = false;
    int k = 0;
    for (int i = 0; i < w->npeeks; i++) {
        if (try_peek(w, w->peeks[i]))
            did = true;
        else
            w->peeks[k++] = w->peeks[i];
    }
    w->npeeks = k;
    return did;
}

/* ------------------------------------------------------------------ worker loop */

static void
refresh_clients(eng_wctx *w)
{
    eng_rt *rt = w->rt;
    uint64_t v = atomic_load_explicit(&rt->clients_version, memory_order_acquire);
    if (v == w->clients_version)
        return;
    pthread_mutex_lock(&rt->mu);
    free(w->clients);
    w->nclients = rt->nclients;
    w->clients = calloc((size_t)(w->nclients ? w->nclients : 1), sizeof *w->clients);
    ENG_ASSERT(w->clients != NULL);
    for (int i = 0; i < rt->nclients; i++) {
        eng_client *c = rt->clients[i];
        w->clients[i] = (client_link){c->id, c->to_worker[w->index], c->from_worker[w->index], c};
    }
    w->clients_version = atomic_load(&rt->clients_version);
    pthread_mutex_unlock(&rt->mu);
}

static void
handle_control(eng_wctx *w, eng_batch *b)
{
    switch (b->control) {
    case RT_CTL_INSTALL:
        install(w, b->payload);
        break;
    case RT_CTL_DROP:
        drop(w, b->payload);
        break;
    case RT_CTL_PEEK: {
        rt_peek *pk = b->payload;
        if (!try_peek(w, pk)) {
            if (w->npeeks == w->peekcap) {
                w->peekcap = w->peekcap ? w->peekcap * 2 : 8;
                w->peeks = realloc(w->peeks, (size_t)w->peekcap * sizeof *w->peeks);
                ENG_ASSERT(w->peeks != NULL);
            }
            w->peeks[w->npeeks++] = pk;
        }
        break;
    }
    default:
        ENG_UNREACHABLE("unknown control message");
    }
    eng_batch_put(&w->pool, b);
}

static bool
drain_inputs(eng_wctx *w)
{
    bool did = false;
    refresh_clients(w);
    for (int i = 0; i < w->nclients; i++) {
        eng_batch *b;
        int budget = 256;
        while (budget-- > 0 && (b = shard_chan_pop(w->clients[i].in)) != NULL) {
            did = true;
            if (b->kind == ENG_MSG_CONTROL)
                handle_control(w, b);
            else
                deliver(w, b);
        }
    }
    for (int p = 0; p < w->rt->W; p++) {
        if (p == w->index)
            continue;
        eng_batch *b;
        int budget = 1024;
        while (budget-- > 0 && (b = shard_chan_pop(w->from_peer[p])) != NULL) {
            did = true;
            deliver(w, b);
        }
    }
    return did;
}

static bool
inputs_empty(eng_wctx *w)
{
    for (int i = 0; i < w->nclients; i++)
        if (!shard_chan_empty(w->clients[i].in))
            return false;
    for (int p = 0; p < w->rt->W; p++)
        if (p != w->index && !shard_chan_empty(w->from_peer[p]))
            return false;
    return atomic_load_explicit(&w->rt->clients_version, memory_order_acquire) ==
           w->clients_version;
}

static void *
worker_main(void *arg)
{
    eng_wctx *w = arg;
    eng_rt *rt = w->rt;
    const shard_place *pl = &rt->places[w->index];
    char name[16];
    snprintf(name, sizeof name, "worker-%d", w->index);
    eng_log_thread_name(name);
    pthread_setname_np(pthread_self(), name);
    eng_err err;
    eng_err_clear(&err);
    if (shard_topo_bind_self(rt->topo, pl, &err) != 0)
        eng_log(ENG_LOG_WARN, "%s (worker runs unpinned)", err.message);
    else
        eng_log(ENG_LOG_INFO, "worker %d pinned to CPU %d (core %d%s), memory on NUMA node %d%s",
                w->index, pl->pu, pl->core, pl->sibling ? ", hyperthread sibling" : "",
                pl->numa_node, pl->oversubscribed ? " [oversubscribed]" : "");
    /* The first allocation from this thread creates its allocator heap
     * (mimalloc: one thread-local heap per thread), after binding: on this
     * worker's NUMA node. */
    eng_batch_put(&w->pool, eng_batch_get(&w->pool));

    pthread_mutex_lock(&rt->ready_mu);
    rt->ready++;
    pthread_cond_broadcast(&rt->ready_cv);
    pthread_mutex_unlock(&rt->ready_mu);

    int idle = 0;
    while (!atomic_load_explicit(&rt->stopping, memory_order_acquire)) {
        bool did = drain_inputs(w);
        for (wdf *d = w->dfs; d; d = d->next)
            did |= step_df(w, d);
        did |= flush_overflow(w);
        did |= run_peeks(w);
        if (did) {
            idle = 0;
            continue;
        }
        if (++idle < 64)
            continue; /* spin briefly: new work usually follows quickly */
        bool overflow = false;
        for (int p = 0; p < rt->W; p++)
            overflow |= w->ovf_head[p] != NULL;
        shard_bell_prepare(&w->bell);
        if (inputs_empty(w) && !overflow && !atomic_load(&rt->stopping))
            shard_bell_wait(&w->bell, 100 * 1000 * 1000);
        else
            shard_bell_cancel(&w->bell);
        idle = 0;
    }
    /* Tear down what is left. */
    while (w->dfs) {
        wdf *d = w->dfs;
        w->dfs = d->next;
        free_wdf(w, d);
    }
    eng_log(ENG_LOG_DEBUG, "worker %d stopped", w->index);
    return NULL;
}

/* ------------------------------------------------------------------ subscriptions (worker side) */

/* Sends a copy of b (or, with b NULL, the node's new input frontier) to the
 * subscribing client. b, if given, is consumed. */
static void
sub_forward(eng_wctx *w, eng_node *n, eng_batch *b)
{
    eng_sub *s = n->sub;
    client_link *cl = find_client(w, s->client->id);
    if (cl == NULL) {
        if (b)
            eng_batch_put(&w->pool, b);
        return;
    }
    eng_batch *m = b ? b : eng_batch_get(&w->pool);
    m->kind = b ? ENG_MSG_DATA : ENG_MSG_FRONTIER;
    m->dataflow = n->df->df->id;
    m->node = (uint32_t)n->id;
    m->sender = (uint32_t)w->index;
    m->frontier = n->in_frontier;
    m->next = NULL;
    send_client(w, cl, m);
}

/* ------------------------------------------------------------------ start / stop */

int
eng_rt_start(eng_rt **out, const shard_topo *topo, int workers, eng_err *err)
{
    ENG_ASSERT(workers >= 1);
    eng_rt *rt = calloc(1, sizeof *rt);
    if (rt == NULL)
        return eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "out of memory starting runtime");
    rt->topo = topo;
    rt->W = workers;
    pthread_mutex_init(&rt->mu, NULL);
    pthread_mutex_init(&rt->ready_mu, NULL);
    pthread_cond_init(&rt->ready_cv, NULL);
    atomic_init(&rt->next_df, 1);
    shard_map_init(&rt->route, SHARD_DEFAULT_SHARDS, (uint32_t)workers);
    rt->places = calloc((size_t)workers, sizeof *rt->places);
    rt->w = calloc((size_t)workers, sizeof *rt->w);
    ENG_ASSERT(rt->places && rt->w);
    shard_topo_plan(topo, workers, rt->places);
    if (workers > shard_topo_pus(topo))
        eng_log(ENG_LOG_WARN,
                "%d workers on %d processing units: workers share CPUs, expect lower throughput",
                workers, shard_topo_pus(topo));
    else if (workers > shard_topo_cores(topo))
        eng_log(ENG_LOG_WARN, "%d workers on %d physical cores: some share a core (hyperthreads)",
                workers, shard_topo_cores(topo));
    for (int i = 0; i < workers; i++) {
        eng_wctx *w = &rt->w[i];
        w->rt = rt;
        w->index = i;
        shard_bell_init(&w->bell);
        w->from_peer = calloc((size_t)workers, sizeof *w->from_peer);
        w->ovf_head = calloc((size_t)workers, sizeof *w->ovf_head);
        w->ovf_tail = calloc((size_t)workers, sizeof *w->ovf_tail);
        ENG_ASSERT(w->from_peer && w->ovf_head && w->ovf_tail);
        for (int p = 0; p < workers; p++)
            if (p != i)
                w->from_peer[p] = shard_chan_new(CHAN_CAP);
    }
    for (int i = 0; i < workers; i++) {
        int rc = pthread_create(&rt->w[i].thread, NULL, worker_main, &rt->w[i]);
        if (rc != 0) {
            eng_err_set(err, ENG_ERRCODE_SYSTEM_ERROR, "cannot start worker %d: %s", i,
                        strerror(rc));
            eng_rt_stop(rt);
            return -1;
        }
        rt->w[i].started = true;
    }
    pthread_mutex_lock(&rt->ready_mu);
    while (rt->ready < workers)
        pthread_cond_wait(&rt->ready_cv, &rt->ready_mu);
    pthread_mutex_unlock(&rt->ready_mu);
    *out = rt;
    return 0;
}

void
eng_rt_stop(eng_rt *rt)
{
    if (rt == NULL)
        return;
    atomic_store_explicit(&rt->stopping, true, memory_order_release);
    for (int i = 0; i < rt->W; i++)
        shard_bell_ring(&rt->w[i].bell);
    for (int i = 0; i < rt->W; i++)
        if (rt->w[i].started)
            pthread_join(rt->w[i].thread, NULL);
    for (int i = 0; i < rt->W; i++) {
        eng_wctx *w = &rt->w[i];
        for (int p = 0; p < rt->W; p++) {
            if (p == i)
                continue;
            eng_batch *b;
            while ((b = shard_chan_pop(w->from_peer[p])) != NULL)
                eng_batch_free(b);
            shard_chan_free(w->from_peer[p]);
            for (b = w->ovf_head[p]; b;) {
                eng_batch *next = b->next;
                eng_batch_free(b);
                b = next;
            }
        }
        while (w->pending) {
            pending_df *pd = w->pending;
            w->pending = pd->next;
            for (eng_batch *b = pd->head; b;) {
                eng_batch *next = b->next;
                eng_batch_free(b);
                b = next;
            }
            free(pd);
        }
        free(w->from_peer);
        free(w->ovf_head);
        free(w->ovf_tail);
        free(w->clients);
        free(w->dropped_ids);
        free(w->peeks);
        eng_batch_pool_drain(&w->pool);
    }
    free(rt->clients);
    free(rt->places);
    free(rt->w);
    pthread_mutex_destroy(&rt->mu);
    pthread_mutex_destroy(&rt->ready_mu);
    pthread_cond_destroy(&rt->ready_cv);
    free(rt);
}

/* ------------------------------------------------------------------ clients */

eng_client *
eng_client_new(eng_rt *rt)
{
    eng_client *c = calloc(1, sizeof *c);
    ENG_ASSERT(c != NULL);
    c->rt = rt;
    c->to_worker = calloc((size_t)rt->W, sizeof *c->to_worker);
    c->from_worker = calloc((size_t)rt->W, sizeof *c->from_worker);
    ENG_ASSERT(c->to_worker && c->from_worker);
    for (int i = 0; i < rt->W; i++) {
        c->to_worker[i] = shard_chan_new(CHAN_CAP);
        c->from_worker[i] = shard_chan_new(CHAN_CAP);
    }
    shard_bell_init(&c->bell);
    pthread_mutex_lock(&rt->mu);
    c->id = ++rt->next_client;
    if (rt->nclients == rt->clientcap) {
        rt->clientcap = rt->clientcap ? rt->clientcap * 2 : 8;
        rt->clients = realloc(rt->clients, (size_t)rt->clientcap * sizeof *rt->clients);
        ENG_ASSERT(rt->clients != NULL);
    }
    rt->clients[rt->nclients++] = c;
    atomic_fetch_add_explicit(&rt->clients_version, 1, memory_order_release);
    pthread_mutex_unlock(&rt->mu);
    return c;
}

/* Waits until every worker has picked up the current client list (so no
 * worker still holds a pointer to a client's channels). */
static void
wait_clients_seen(eng_rt *rt)
{
    uint64_t v = atomic_load(&rt->clients_version);
    for (int i = 0; i < rt->W; i++) {
        eng_wctx *w = &rt->w[i];
        for (;;) {
            pthread_mutex_lock(&rt->mu);
            uint64_t seen = w->clients_version;
            pthread_mutex_unlock(&rt->mu);
            if (seen >= v)
                break;
            shard_bell_ring(&w->bell);
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
    }
}

static void client_poll(eng_client *c);

void
eng_client_free(eng_client *c)
{
    if (c == NULL)
        return;
    eng_rt *rt = c->rt;
    /* Everything sent is delivered: a client that feeds an input and goes
     * away (a snapshot thread) must not lose its last data or frontier. */
    for (int i = 0; i < rt->W; i++)
        while (!shard_chan_drained(c->to_worker[i])) {
            shard_bell_ring(&rt->w[i].bell);
            client_poll(c);
            sched_yield();
        }
    pthread_mutex_lock(&rt->mu);
    for (int i = 0; i < rt->nclients; i++) {
        if (rt->clients[i] == c) {
            rt->clients[i] = rt->clients[--rt->nclients];
            break;
        }
    }
    atomic_fetch_add_explicit(&rt->clients_version, 1, memory_order_release);
    pthread_mutex_unlock(&rt->mu);
    wait_clients_seen(rt);
    for (int i = 0; i < rt->W; i++) {
        eng_batch *b;
        while ((b = shard_chan_pop(c->to_worker[i])) != NULL)
            eng_batch_free(b);
        while ((b = shard_chan_pop(c->from_worker[i])) != NULL) {
            if (b->kind == ENG_MSG_CONTROL)
                free(b->payload);
            eng_batch_free(b);
        }
        shard_chan_free(c->to_worker[i]);
        shard_chan_free(c->from_worker[i]);
    }
    free(c->to_worker);
    free(c->from_worker);
    eng_batch_pool_drain(&c->pool);
    free(c);
}

eng_batch *
eng_client_batch(eng_client *c)
{
    return eng_batch_get(&c->pool);
}

/* Client -> worker; waits (draining replies) while the channel is full. */
static void
client_send(eng_client *c, int wi, eng_batch *b)
{
    b->next = NULL;
    while (!shard_chan_push(c->to_worker[wi], b)) {
        shard_bell_ring(&c->rt->w[wi].bell);
        client_poll(c);
        sched_yield();
    }
    shard_bell_ring(&c->rt->w[wi].bell);
}

static void
client_control(eng_client *c, int wi, int ctl, void *payload)
{
    eng_batch *b = eng_batch_get(&c->pool);
    b->kind = ENG_MSG_CONTROL;
    b->control = (uint8_t)ctl;
    b->payload = payload;
    client_send(c, wi, b);
}

/* Adds the counts of src into *dst (matching SQLSTATE and message). */
static void
errsum_merge(rt_errsum **dst, const rt_errsum *src)
{
    if (src == NULL)
        return;
    for (int i = 0; i < src->n; i++) {
        rt_errsum *d = *dst;
        int j = 0;
        for (; d && j < d->n; j++)
            if (strcmp(d->items[j].err.message, src->items[i].err.message) == 0 &&
                strcmp(d->items[j].err.sqlstate, src->items[i].err.sqlstate) == 0)
                break;
        if (d && j < d->n) {
            d->items[j].count += src->items[i].count;
            continue;
        }
        int n = d ? d->n : 0;
        d = realloc(d, sizeof *d + (size_t)(n + 1) * sizeof d->items[0]);
        ENG_ASSERT(d != NULL);
        d->n = n + 1;
        d->items[n] = src->items[i];
        *dst = d;
    }
}

/* Drains replies from workers: subscription data and peek replies. */
static void
client_poll(eng_client *c)
{
    for (int i = 0; i < c->rt->W; i++) {
        eng_batch *b;
        while ((b = shard_chan_pop(c->from_worker[i])) != NULL) {
            if (b->kind == ENG_MSG_CONTROL) {
                if (c->peek == NULL || b->dataflow != c->peek->id) {
                    free(b->payload);           /* eng_err or rt_errsum */
                    eng_batch_put(&c->pool, b); /* stale reply */
                    continue;
                }
                c->peek_replies++;
                if (b->control == RT_CTL_PEEK_ERROR) {
                    if (!c->peek_failed) {
                        c->peek_err = *(eng_err *)b->payload;
                        c->peek_failed = true;
                    }
                    free(b->payload);
                } else {
                    for (uint32_t k = 0; k < b->n; k++)
                        eng_batch_push(c->peek_out, eng_batch_row(b, k), b->upd[k].time,
                                       b->upd[k].diff);
                    errsum_merge(&c->peek_errs, b->payload);
                    free(b->payload);
                }
                eng_batch_put(&c->pool, b);
                continue;
            }
            sub_receive(c, b);
        }
    }
}

/* Sleeps until a worker rings the client's bell (or timeout_ms passes). */
static void
client_park(eng_client *c, int timeout_ms)
{
    shard_bell_prepare(&c->bell);
    bool empty = true;
    for (int i = 0; i < c->rt->W; i++)
        empty &= shard_chan_empty(c->from_worker[i]);
    if (empty)
        shard_bell_wait(&c->bell, (int64_t)timeout_ms * 1000000);
    else
        shard_bell_cancel(&c->bell);
}

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ dataflows (client side) */

eng_df *
eng_df_install(eng_client *c, eng_plan *plan)
{
    eng_rt *rt = c->rt;
    eng_df *df = calloc(1, sizeof *df);
    ENG_ASSERT(df != NULL);
    df->id = atomic_fetch_add(&rt->next_df, 1);
    df->plan = plan;
    df->W = rt->W;
    df->pub = calloc((size_t)plan->n * (size_t)rt->W, sizeof *df->pub);
    df->hold = calloc((size_t)plan->n, sizeof *df->hold);
    df->subs = calloc((size_t)plan->n, sizeof *df->subs);
    ENG_ASSERT(df->pub && df->hold && df->subs);
    for (int i = 0; i < plan->n; i++) {
        atomic_init(&df->hold[i], ENG_TIME_MAX);
        if (plan->nodes[i].kind == RT_NODE_SUBSCRIBE) {
            eng_sub *s = plan->nodes[i].params;
            s->df = df;
            s->node = i;
            df->subs[i] = s;
        }
    }
    pthread_mutex_init(&df->hold_mu, NULL);
    for (int i = 0; i < rt->W; i++)
        client_control(c, i, RT_CTL_INSTALL, df);
    return df;
}

void
eng_df_drop(eng_client *c, eng_df *df)
{
    if (df == NULL)
        return;
    for (int i = 0; i < c->rt->W; i++)
        client_control(c, i, RT_CTL_DROP, df);
    while (atomic_load_explicit(&df->dropped, memory_order_acquire) < df->W) {
        client_poll(c);
        client_park(c, 1);
    }
    client_poll(c); /* discard subscription data still queued */
    for (int i = 0; i < df->plan->n; i++) {
        eng_sub *s = df->subs[i];
        if (s) {
            for (eng_sub **pp = &s->client->subs; *pp; pp = &(*pp)->next) {
                if (*pp == s) {
                    *pp = s->next;
                    break;
                }
            }
            eng_batch_free(s->buf);
            free(s->wfront);
            free(s);
        }
    }
    eng_plan_free(df->plan);
    free(df->pub);
    free(df->hold);
    free(df->hold_list);
    free(df->subs);
    pthread_mutex_destroy(&df->hold_mu);
    free(df);
}

void
eng_df_send(eng_client *c, eng_df *df, int input, eng_batch *b)
{
    ENG_ASSERT(input >= 0 && input < df->plan->n && df->plan->nodes[input].kind == RT_NODE_INPUT);
    int wi = df->next_worker;
    df->next_worker = (wi + 1) % df->W;
    b->kind = ENG_MSG_DATA;
    b->dataflow = df->id;
    b->node = (uint32_t)input;
    b->port = 0;
    b->sender = 0;
    client_send(c, wi, b);
}

int
eng_rt_owner(const eng_rt *rt, uint64_t key_hash)
{
    return (int)shard_owner(&rt->route, key_hash);
}

void
eng_df_send_to(eng_client *c, eng_df *df, int input, int w, eng_batch *b, int key_ncols)
{
    ENG_ASSERT(w >= 0 && w < df->W);
    b->kind = ENG_MSG_DATA;
    b->dataflow = df->id;
    b->node = (uint32_t)input;
    b->port = 0;
    b->sender = 0;
    b->part_key = key_ncols;
    client_send(c, w, b);
}

void
eng_df_send_keyed(eng_client *c, eng_df *df, int input, eng_batch *b, int key_ncols)
{
    int W = df->W;
    if (W == 1 || key_ncols <= 0) {
        eng_df_send(c, df, input, b);
        return;
    }
    eng_batch *parts[W];
    for (int i = 0; i < W; i++)
        parts[i] = NULL;
    for (uint32_t i = 0; i < b->n; i++) {
        eng_row r = eng_batch_row(b, i);
        uint32_t klen = eng_row_col_offset(r, key_ncols);
        int dst = (int)shard_owner(&c->rt->route, XXH3_64bits(r.data, klen));
        if (parts[dst] == NULL)
            parts[dst] = eng_batch_get(&c->pool);
        eng_batch_push(parts[dst], r, b->upd[i].time, b->upd[i].diff);
    }
    eng_batch_put(&c->pool, b);
    for (int wi = 0; wi < W; wi++) {
        eng_batch *p = parts[wi];
        if (p == NULL)
            continue;
        p->kind = ENG_MSG_DATA;
        p->dataflow = df->id;
        p->node = (uint32_t)input;
        p->port = 0;
        p->sender = 0;
        p->part_key = key_ncols;
        client_send(c, wi, p);
    }
}

void
eng_df_advance(eng_client *c, eng_df *df, int input, eng_time frontier)
{
    ENG_ASSERT(input >= 0 && input < df->plan->n && df->plan->nodes[input].kind == RT_NODE_INPUT);
    for (int i = 0; i < df->W; i++) {
        eng_batch *b = eng_batch_get(&c->pool);
        b->kind = ENG_MSG_FRONTIER;
        b->dataflow = df->id;
        b->node = (uint32_t)input;
        b->port = 0;
        b->sender = 0;
        b->frontier = frontier;
        client_send(c, i, b);
    }
}

uint64_t
eng_df_id(const eng_df *df)
{
    return df->id;
}

eng_time
eng_df_frontier(const eng_df *df, int node)
{
    eng_time f = ENG_TIME_MAX;
    for (int i = 0; i < df->W; i++) {
        eng_time x = atomic_load_explicit(
            &df->pub[(size_t)node * (size_t)df->W + (size_t)i].frontier, memory_order_acquire);
        if (x < f)
            f = x;
    }
    return f;
}

size_t
eng_df_memory(const eng_df *df, int node)
{
    size_t s = 0;
    for (int i = 0; i < df->W; i++)
        s += atomic_load_explicit(&pub_of((eng_df *)df, node, i)->memory, memory_order_relaxed);
    return s;
}

size_t
eng_df_records(const eng_df *df, int node)
{
    size_t s = 0;
    for (int i = 0; i < df->W; i++)
        s += atomic_load_explicit(&pub_of((eng_df *)df, node, i)->records, memory_order_relaxed);
    return s;
}

int
eng_df_wait(eng_client *c, eng_df *df, int node, eng_time t, int timeout_ms, eng_err *err)
{
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
    while (eng_df_frontier(df, node) <= t) {
        if (now_ms() >= deadline)
            return eng_err_set(err, ENG_ERRCODE_QUERY_CANCELED,
                               "timed out waiting for %s to become readable at %llu",
                               df->plan->nodes[node].name, (unsigned long long)t);
        client_poll(c);
        /* Frontiers are published without ringing clients; poll gently. */
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Publishes the node's minimum hold (hold_mu held). seq_cst store: the
 * other half of the handshake in maybe_compact. */
static void
hold_publish(eng_df *df, int node)
{
    eng_time m = ENG_TIME_MAX;
    for (int i = 0; i < df->nholds; i++)
        if (df->hold_list[2 * i] == (eng_time)node && df->hold_list[2 * i + 1] < m)
            m = df->hold_list[2 * i + 1];
    atomic_store(&df->hold[node], m);
}

static void
hold_add(eng_df *df, int node, eng_time t)
{
    pthread_mutex_lock(&df->hold_mu);
    if (df->nholds == df->hold_cap) {
        df->hold_cap = df->hold_cap ? df->hold_cap * 2 : 4;
        df->hold_list = realloc(df->hold_list, (size_t)df->hold_cap * 2 * sizeof(eng_time));
        ENG_ASSERT(df->hold_list != NULL);
    }
    df->hold_list[2 * df->nholds] = (eng_time)node;
    df->hold_list[2 * df->nholds + 1] = t;
    df->nholds++;
    hold_publish(df, node);
    pthread_mutex_unlock(&df->hold_mu);
}

static void
hold_remove(eng_df *df, int node, eng_time t)
{
    pthread_mutex_lock(&df->hold_mu);
    for (int i = 0; i < df->nholds; i++) {
        if (df->hold_list[2 * i] == (eng_time)node && df->hold_list[2 * i + 1] == t) {
            df->nholds--;
            df->hold_list[2 * i] = df->hold_list[2 * df->nholds];
            df->hold_list[2 * i + 1] = df->hold_list[2 * df->nholds + 1];
            break;
        }
    }
    hold_publish(df, node);
    pthread_mutex_unlock(&df->hold_mu);
}

int
eng_df_hold(eng_df *df, int node, eng_time t, eng_err *err)
{
    ENG_ASSERT(node >= 0 && node < df->plan->n);
    hold_add(df, node, t);
    for (int i = 0; i < df->W; i++) {
        if (atomic_load(&pub_of(df, node, i)->since) > t) {
            hold_remove(df, node, t);
            return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                               "timestamp %llu is no longer readable (compacted)",
                               (unsigned long long)t);
        }
    }
    return 0;
}

void
eng_df_release(eng_df *df, int node, eng_time t)
{
    hold_remove(df, node, t);
}

int
eng_df_peek(eng_client *c, eng_df *df, int node, eng_time t, const eng_row *key, eng_batch **out,
            eng_time *at, eng_err *err)
{
    ENG_ASSERT(node >= 0 && node < df->plan->n);
    if (t != ENG_TIME_MAX && t < df->plan->as_of)
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "timestamp %llu is before the dataflow's first readable time %llu",
                           (unsigned long long)t, (unsigned long long)df->plan->as_of);
    eng_time pt;
    for (;;) {
        if (t == ENG_TIME_MAX) {
            eng_time f = eng_df_frontier(df, node);
            if (f == 0) { /* nothing readable yet: wait for the first time */
                if (eng_df_wait(c, df, node, 0, -1, err) != 0)
                    return -1;
                continue;
            }
            pt = f == ENG_TIME_MAX ? ENG_TIME_MAX - 1 : f - 1;
        } else {
            pt = t;
        }
        hold_add(df, node, pt);
        bool ok = true;
        for (int i = 0; i < df->W; i++)
            if (atomic_load(&pub_of(df, node, i)->since) > pt)
                ok = false;
        if (ok)
            break;
        hold_remove(df, node, pt);
        if (t != ENG_TIME_MAX)
            return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                               "timestamp %llu is no longer readable (compacted)",
                               (unsigned long long)t);
    }
    rt_peek pk = {.df = df, .node = node, .t = pt, .id = ++c->next_peek, .client = c->id};
    eng_rowbuf kb = {0};
    if (key) {
        eng_push_row(&kb, *key);
        pk.key = eng_rowbuf_row(&kb);
    }
    c->peek = &pk;
    c->peek_replies = 0;
    c->peek_failed = false;
    eng_err_clear(&c->peek_err);
    c->peek_out = eng_batch_get(&c->pool);
    for (int i = 0; i < df->W; i++)
        client_control(c, i, RT_CTL_PEEK, &pk);
    while (c->peek_replies < df->W) {
        client_poll(c);
        if (c->peek_replies < df->W)
            client_park(c, 10);
    }
    c->peek = NULL;
    hold_remove(df, node, pt);
    if (c->peek_errs != NULL) {
        for (int i = 0; i < c->peek_errs->n && !c->peek_failed; i++) {
            if (c->peek_errs->items[i].count != 0) {
                c->peek_err = c->peek_errs->items[i].err;
                c->peek_failed = true;
            }
        }
        free(c->peek_errs);
        c->peek_errs = NULL;
    }
    eng_rowbuf_free(&kb);
    if (at)
        *at = pt;
    if (c->peek_failed) {
        eng_batch_put(&c->pool, c->peek_out);
        c->peek_out = NULL;
        if (err) {
            ENG_DASSERT(!eng_err_isset(err));
            *err = c->peek_err;
        }
        return -1;
    }
    *out = c->peek_out;
    c->peek_out = NULL;
    return 0;
}

/* ------------------------------------------------------------------ subscriptions (client side) */

int
eng_plan_subscribe(eng_plan *p, int from, eng_client *c, eng_sub **out)
{
    eng_sub *s = calloc(1, sizeof *s);
    ENG_ASSERT(s != NULL);
    s->client = c;
    s->W = c->rt->W;
    s->wfront = calloc((size_t)s->W, sizeof *s->wfront);
    s->buf = eng_batch_get(&c->pool);
    ENG_ASSERT(s->wfront != NULL);
    s->next = c->subs;
    c->subs = s;
    int id = rt_plan_sink(p, "subscribe", s, RT_NODE_SUBSCRIBE);
    eng_plan_edge(p, from, id, 0, -1);
    *out = s;
    return id;
}

static eng_sub *
sub_lookup(eng_client *c, uint64_t df, uint32_t node)
{
    for (eng_sub *s = c->subs; s; s = s->next)
        if (s->df != NULL && s->df->id == df && s->node == (int)node)
            return s;
    return NULL;
}

static void
sub_receive(eng_client *c, eng_batch *b)
{
    eng_sub *s = sub_lookup(c, b->dataflow, b->node);
    if (s == NULL) {
        eng_batch_put(&c->pool, b);
        return;
    }
    if (b->kind == ENG_MSG_FRONTIER) {
        if (b->frontier > s->wfront[b->sender])
            s->wfront[b->sender] = b->frontier;
    } else {
        for (uint32_t i = 0; i < b->n; i++)
            eng_batch_push(s->buf, eng_batch_row(b, i), b->upd[i].time, b->upd[i].diff);
    }
    eng_batch_put(&c->pool, b);
}

static eng_time
sub_frontier(const eng_sub *s)
{
    eng_time f = ENG_TIME_MAX;
    for (int i = 0; i < s->W; i++)
        if (s->wfront[i] < f)
            f = s->wfront[i];
    return f;
}

int
eng_sub_next(eng_sub *s, int timeout_ms, eng_batch **out, eng_time *frontier, eng_err *err)
{
    eng_client *c = s->client;
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
    client_poll(c);
    while (sub_frontier(s) <= s->frontier) {
        if (s->frontier == ENG_TIME_MAX || now_ms() >= deadline)
            return eng_err_set(err, ENG_ERRCODE_QUERY_CANCELED,
                               "no progress on the subscription within %d ms", timeout_ms);
        client_park(c, 10);
        client_poll(c);
    }
    eng_time f = sub_frontier(s);
    /* Move updates with time < f out, keep the rest. */
    eng_batch *res = eng_batch_get(&c->pool);
    eng_batch *keep = eng_batch_get(&c->pool);
    for (uint32_t i = 0; i < s->buf->n; i++) {
        eng_batch *dst = s->buf->upd[i].time < f ? res : keep;
        eng_batch_push(dst, eng_batch_row(s->buf, i), s->buf->upd[i].time, s->buf->upd[i].diff);
    }
    eng_batch_put(&c->pool, s->buf);
    s->buf = keep;
    eng_batch_consolidate(res);
    s->frontier = f;
    *out = res;
    *frontier = f;
    return 0;
}
