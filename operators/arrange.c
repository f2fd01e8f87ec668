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
} arrange;

static void
arrange_input(eng_op *op, int port, const eng_batch *b)
{
    (void)port;
    arrange *a = (arrange *)op;
    if (b->n > a->ups_cap) {
        a->ups_cap = b->n;
        a->ups = realloc(a->ups, a->ups_cap * sizeof *a->ups);
        ENG_ASSERT(a->ups != NULL);
    }
    for (uint32_t i = 0; i < b->n; i++) {
        eng_row r = eng_batch_row(b, i);
        shard_arr_upd *u = &a->ups[i];
        op_split(r, a->key_ncols, &u->key, &u->val);
        u->hash = eng_row_hash(u->key);
        u->time = b->upd[i].time;
        u->diff = b->upd[i].diff;
    }
    shard_arr_update_batch(a->arr, a->ups, b->n);
    eng_batch *out = eng_op_out(op);
    for (uint32_t i = 0; i < b->n; i++)
        eng_batch_push(out, eng_batch_row(b, i), b->upd[i].time, b->upd[i].diff);
    eng_op_flush(op);
}

static eng_time
arrange_frontier(eng_op *op, eng_time f)
{
    arrange *a = (arrange *)op;
    shard_arr_advance_upper(a->arr, f);
    return f;
}

static void
arrange_compact(eng_op *op, eng_time since)
{
    arrange *a = (arrange *)op;
    shard_arr_advance_since(a->arr, since);
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
void op_arr_peek(const shard_arr *arr, eng_time t, const eng_row *key, eng_batch *out);

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
    (void)w;
    const op_arrange_params *p = params;
    arrange *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->op.vt = &arrange_vt;
    a->key_ncols = p->key_ncols;
    a->arr = shard_arr_new();
    return &a->op;
}
