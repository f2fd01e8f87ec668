/* arrange: a peekable arrangement of a keyed collection. */
#include "operators/op_arrange.h"
#include "operators/op_common.h"
#include "shard/shard_arr.h"

#include <stdlib.h>

typedef struct arrange {
    eng_op op;
    int key_ncols;
    shard_arr *arr;
    shard_arr_upd *ups;
    size_t ups_cap;
    uint64_t negatives_reported;
    eng_time frontier, since;
    eng_batch *hist; /* updates with time > since, for snapshots of importers */
    op_arrange_reader *readers;
    int nreaders, rcap;
} arrange;

static const eng_op_vt arrange_vt;

static void
ups_reserve(arrange *a, size_t n)
{
    if (n > a->ups_cap) {
        a->ups_cap = n;
        a->ups = realloc(a->ups, a->ups_cap * sizeof *a->ups);
        ENG_ASSERT(a->ups != NULL);
    }
}

/* Hands b, already applied to the arrangement, to the history kept for
 * snapshots, to the readers and to the output stream. */
static void
publish(arrange *a, const eng_batch *b)
{
    for (uint32_t i = 0; i < b->n; i++)
        eng_batch_push(a->hist, eng_batch_row(b, i), b->upd[i].time, b->upd[i].diff);
    for (int i = 0; i < a->nreaders; i++)
        if (a->readers[i].on_data)
            a->readers[i].on_data(a->readers[i].who, b);
    if (!eng_op_has_output(&a->op))
        return;
    eng_batch *out = eng_op_out(&a->op);
    for (uint32_t i = 0; i < b->n; i++)
        eng_batch_push(out, eng_batch_row(b, i), b->upd[i].time, b->upd[i].diff);
    eng_op_flush(&a->op);
}

static void
arrange_input(eng_op *op, int port, const eng_batch *b)
{
    (void)port;
    arrange *a = (arrange *)op;
    ups_reserve(a, b->n);
    for (uint32_t i = 0; i < b->n; i++) {
        eng_row r = eng_batch_row(b, i);
        shard_arr_upd *u = &a->ups[i];
        op_split(r, a->key_ncols, &u->key, &u->val);
        u->hash = eng_row_hash(u->key);
        u->time = b->upd[i].time;
        u->diff = b->upd[i].diff;
    }
    shard_arr_update_batch(a->arr, a->ups, b->n);
    publish(a, b);
}

static eng_time
arrange_frontier(eng_op *op, eng_time f)
{
    arrange *a = (arrange *)op;
    shard_arr_advance_upper(a->arr, f);
    a->frontier = f;
    for (int i = 0; i < a->nreaders; i++)
        if (a->readers[i].on_frontier)
            a->readers[i].on_frontier(a->readers[i].who, f);
    return f;
}

static void
arrange_compact(eng_op *op, eng_time since)
{
    arrange *a = (arrange *)op;
    for (int i = 0; i < a->nreaders; i++)
        if (a->readers[i].hold < since)
            since = a->readers[i].hold;
    if (since <= a->since)
        return;
    a->since = since;
    shard_arr_advance_since(a->arr, since);
    /* keep only history later than since */
    eng_batch *h = a->hist;
    uint32_t k = 0;
    for (uint32_t i = 0; i < h->n; i++)
        if (h->upd[i].time > since)
            h->upd[k++] = h->upd[i];
    h->n = k;
    if (k == 0)
        h->blen = 0;
    else if (h->blen > 4096 && h->blen > 4 * (h->n * 16u)) { /* reclaim dead row bytes */
        eng_batch *c = eng_batch_get(eng_wctx_pool(op->w));
        for (uint32_t i = 0; i < h->n; i++)
            eng_batch_push(c, eng_batch_row(h, i), h->upd[i].time, h->upd[i].diff);
        eng_batch_put(eng_wctx_pool(op->w), h);
        a->hist = c;
    }
    shard_arr_stats st;
    shard_arr_stats_get(a->arr, &st);
    if (st.negatives > a->negatives_reported) {
        eng_err e;
        eng_err_clear(&e);
        eng_err_set(&e, ENG_ERRCODE_INTERNAL_ERROR,
                    "a collection holds a row with a negative multiplicity");
        eng_op_error(op, &e, since, (int64_t)(st.negatives - a->negatives_reported));
        a->negatives_reported = st.negatives;
    }
}

static void
emit_key(const shard_arr *arr, const shard_arr_key *k, eng_time t, shard_arr_cursor *cur,
         eng_batch *out)
{
    eng_row key = shard_arr_key_row(k);
    shard_arr_cursor_seek(cur, arr, k, t);
    eng_row val;
    int64_t diff;
    while (shard_arr_cursor_next(cur, &val, &diff))
        eng_batch_push2(out, key, val, t, diff);
}

/* Shared by every op that keeps its output in a shard_arr. */

void
op_arr_peek(const shard_arr *arr, eng_time t, const eng_row *key, eng_batch *out)
{
    shard_arr_cursor cur;
    shard_arr_cursor_init(&cur);
    if (key != NULL) {
        const shard_arr_key *k = shard_arr_find(arr, eng_row_hash(*key), *key);
        if (k)
            emit_key(arr, k, t, &cur, out);
    } else {
        size_t pos = 0;
        const shard_arr_key *k;
        while ((k = shard_arr_next_key(arr, &pos)) != NULL)
            emit_key(arr, k, t, &cur, out);
    }
    shard_arr_cursor_fini(&cur);
}

static void
arrange_peek(eng_op *op, eng_time t, const eng_row *key, eng_batch *out)
{
    op_arr_peek(((arrange *)op)->arr, t, key, out);
}

static size_t
arrange_memory(const eng_op *op)
{
    shard_arr_stats st;
    shard_arr_stats_get(((const arrange *)op)->arr, &st);
    return st.bytes;
}

static size_t
arrange_records(const eng_op *op)
{
    shard_arr_stats st;
    shard_arr_stats_get(((const arrange *)op)->arr, &st);
    return st.records + st.pending;
}

static void
arrange_destroy(eng_op *op)
{
    arrange *a = (arrange *)op;
    for (int i = 0; i < a->nreaders; i++)
        if (a->readers[i].on_gone)
            a->readers[i].on_gone(a->readers[i].who);
    free(a->readers);
    eng_batch_free(a->hist);
    shard_arr_free(a->arr);
    free(a->ups);
    free(a);
}

static const eng_op_vt arrange_vt = {
    .name = "arrange",
    .input = arrange_input,
    .frontier = arrange_frontier,
    .destroy = arrange_destroy,
    .memory = arrange_memory,
    .records = arrange_records,
    .peek = arrange_peek,
    .compact = arrange_compact,
};

eng_op *
op_arrange_make(const void *params, eng_wctx *w)
{
    const op_arrange_params *p = params;
    arrange *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->op.vt = &arrange_vt;
    a->key_ncols = p->key_ncols;
    a->arr = shard_arr_new();
    a->hist = eng_batch_get(eng_wctx_pool(w));
    return &a->op;
}

/* ------------------------------------------------------------------ sharing */

shard_arr *
op_arrange_arr(eng_op *op)
{
    return op && op->vt == &arrange_vt ? ((arrange *)op)->arr : NULL;
}

int
op_arrange_key_ncols(const eng_op *op)
{
    return ((const arrange *)op)->key_ncols;
}

eng_time
op_arrange_frontier(const eng_op *op)
{
    return ((const arrange *)op)->frontier;
}

int
op_arrange_listen(eng_op *op, const op_arrange_reader *r)
{
    arrange *a = (arrange *)op;
    ENG_ASSERT(op->vt == &arrange_vt);
    if (r->hold < a->since)
        return -1;
    if (a->nreaders == a->rcap) {
        a->rcap = a->rcap ? a->rcap * 2 : 4;
        a->readers = realloc(a->readers, (size_t)a->rcap * sizeof *a->readers);
        ENG_ASSERT(a->readers != NULL);
    }
    a->readers[a->nreaders++] = *r;
    return 0;
}

void
op_arrange_hold(eng_op *op, eng_op *who, eng_time t)
{
    arrange *a = (arrange *)op;
    for (int i = 0; i < a->nreaders; i++)
        if (a->readers[i].who == who && t > a->readers[i].hold)
            a->readers[i].hold = t;
}

void
op_arrange_unlisten(eng_op *op, eng_op *who)
{
    arrange *a = (arrange *)op;
    for (int i = 0; i < a->nreaders; i++) {
        if (a->readers[i].who == who) {
            a->readers[i] = a->readers[--a->nreaders];
            return;
        }
    }
}

void
op_arrange_snapshot(eng_op *op, eng_time t, eng_op *to)
{
    arrange *a = (arrange *)op;
    ENG_ASSERT(a->since <= t);
    eng_batch *out = eng_op_out(to);
    op_arr_peek(a->arr, t, NULL, out);
    for (uint32_t i = 0; i < a->hist->n; i++)
        if (a->hist->upd[i].time > t)
            eng_batch_push(out, eng_batch_row(a->hist, i), a->hist->upd[i].time,
                           a->hist->upd[i].diff);
    eng_op_flush(to);
}
