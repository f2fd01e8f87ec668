/* Dataflow plans: nodes and edges, built by a client before installation. */
#include "engine/runtime/rt_internal.h"

#include <stdlib.h>
#include <string.h>

eng_plan *
eng_plan_new(void)
{
    eng_plan *p = calloc(1, sizeof *p);
    ENG_ASSERT(p != NULL);
    return p;
}

void
eng_plan_free(eng_plan *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->n; i++) {
        if (p->nodes[i].free_params)
            p->nodes[i].free_params(p->nodes[i].params);
        free(p->nodes[i].name);
        free(p->nodes[i].in_edges);
    }
    free(p->nodes);
    free(p->edges);
    free(p);
}

static int
add_node(eng_plan *p, const char *name, eng_op_make_fn make, void *params,
         void (*free_params)(void *), int ninputs, int kind)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->nodes = realloc(p->nodes, (size_t)p->cap * sizeof *p->nodes);
        ENG_ASSERT(p->nodes != NULL);
    }
    rt_plan_node *n = &p->nodes[p->n];
    memset(n, 0, sizeof *n);
    n->name = strdup(name ? name : "op");
    n->make = make;
    n->params = params;
    n->free_params = free_params;
    n->ninputs = ninputs;
    n->kind = kind;
    n->in_edges = calloc((size_t)(ninputs > 0 ? ninputs : 1), sizeof(int));
    for (int i = 0; i < ninputs; i++)
        n->in_edges[i] = -1;
    return p->n++;
}

int
eng_plan_input(eng_plan *p, const char *name)
{
    return add_node(p, name, NULL, NULL, NULL, 0, RT_NODE_INPUT);
}

int
eng_plan_node(eng_plan *p, const char *name, eng_op_make_fn make, void *params,
              void (*free_params)(void *), int ninputs)
{
    ENG_ASSERT(make != NULL && ninputs >= 0);
    return add_node(p, name, make, params, free_params, ninputs, RT_NODE_OP);
}

int
rt_plan_sink(eng_plan *p, const char *name, void *params, int kind)
{
    return add_node(p, name, NULL, params, NULL, 1, kind);
}

void
eng_plan_set_as_of(eng_plan *p, eng_time t)
{
    if (t > p->as_of)
        p->as_of = t;
}

void
eng_plan_edge(eng_plan *p, int from, int to, int port, int key_ncols)
{
    /* Node ids are creation order; edges go forward, so id order is a
     * topological order and one pass over the nodes moves data to the end. */
    ENG_ASSERT(from >= 0 && from < to && to < p->n);
    ENG_ASSERT(port >= 0 && port < p->nodes[to].ninputs);
    ENG_ASSERT(p->nodes[to].in_edges[port] == -1); /* one edge per port */
    if (p->nedges == p->ecap) {
        p->ecap = p->ecap ? p->ecap * 2 : 8;
        p->edges = realloc(p->edges, (size_t)p->ecap * sizeof *p->edges);
        ENG_ASSERT(p->edges != NULL);
    }
    p->edges[p->nedges] = (rt_plan_edge){from, to, port, key_ncols};
    p->nodes[to].in_edges[port] = p->nedges;
    p->nedges++;
}
