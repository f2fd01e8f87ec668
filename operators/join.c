/* join: incremental binary equi-join with outer variants. */
#include "operators/op_join.h"
#include "operators/op_common.h"
#include "shard/shard_arr.h"

#include <stdlib.h>

typedef struct join {
    eng_op op;
    op_join_params p;
    shard_arr *side[2];
    eng_batch *pending; /* updates at times > frontier; port in upd via parity list */
    uint8_t *pending_port;
    uint32_t pport_cap;
    eng_time frontier;
    shard_arr_cursor cur;
    eng_rowbuf nulls[2]; /* padding for a missing left (0) / right (1) value */
    eng_rowbuf row;
} join;

static bool
key_has_null(eng_row key)
{
    uint32_t pos = 0;
    while (pos < key.len) {
        if (key.data[pos] == ENG_TAG_NULL)
            return true;
        pos += eng_datum_size_at(key.data + pos);
    }
    return false;
}

/* Emits key ++ left ++ right. */
static inline void
emit3(join *j, eng_row key, eng_row l, eng_row r, eng_time t, int64_t diff)
{
    eng_batch *b = eng_op_out(&j->op);
    uint8_t *p = eng_batch_append(b, key.len + l.len + r.len, t, diff);
    memcpy(p, key.data, key.len);
    memcpy(p + key.len, l.data, l.len);
    memcpy(p + key.len + l.len, r.data, r.len);
    if (b->n >= ENG_BATCH_TARGET)
        eng_op_flush(&j->op);
}

static inline bool
pads(const join *j, int side)
{
    /* side 0 (left rows) are padded in LEFT and FULL joins; right in RIGHT/FULL. */
    return side == 0 ? (j->p.kind == OP_JOIN_LEFT || j->p.kind == OP_JOIN_FULL)
                     : (j->p.kind == OP_JOIN_RIGHT || j->p.kind == OP_JOIN_FULL);
}

/* Emits (own value, other side NULLs) with the right column order. */
static inline void
emit_padded(join *j, int side, eng_row key, eng_row val, eng_time t, int64_t diff)
{
    if (side == 0)
        emit3(j, key, val, eng_rowbuf_row(&j->nulls[1]), t, diff);
    else
        emit3(j, key, eng_rowbuf_row(&j->nulls[0]), val, t, diff);
}

/* Processes one update on `side` at time t. */
static void
process(join *j, int side, eng_row row, eng_time t, int64_t diff)
{
    eng_row key, val;
    op_split(row, j->p.key_ncols, &key, &val);
    int other = 1 - side;
    if (key_has_null(key)) {
        if (pads(j, side))
            emit_padded(j, side, key, val, t, diff);
        return;
    }
    uint64_t h = eng_row_hash(key);
    const shard_arr_key *ko = shard_arr_find(j->side[other], h, key);
    int64_t other_count = ko ? shard_arr_key_count(j->side[other], ko, t) : 0;
    if (ko != NULL && other_count != 0) {
        shard_arr_cursor_seek(&j->cur, j->side[other], ko, t);
        eng_row ov;
        int64_t od;
        while (shard_arr_cursor_next(&j->cur, &ov, &od)) {
            if (side == 0)
                emit3(j, key, val, ov, t, diff * od);
            else
                emit3(j, key, ov, val, t, diff * od);
        }
    } else if (pads(j, side)) {
        emit_padded(j, side, key, val, t, diff);
    }
    /* The other side's padded rows appear or vanish when this side's count
     * for the key crosses zero. */
    if (pads(j, other) && ko != NULL && other_count != 0) {
        const shard_arr_key *ks = shard_arr_find(j->side[side], h, key);
        int64_t before = ks ? shard_arr_key_count(j->side[side], ks, t) : 0;
        int64_t after = before + diff;
        if ((before == 0) != (after == 0)) {
            int64_t sign = before == 0 ? -1 : 1; /* matches appear: retract padding */
            shard_arr_cursor_seek(&j->cur, j->side[other], ko, t);
            eng_row ov;
            int64_t od;
            while (shard_arr_cursor_next(&j->cur, &ov, &od)) {
                /* ov is borrowed from the other side, unchanged until we update ours */
                emit_padded(j, other, key, ov, t, sign * od);
            }
        }
    }
    shard_arr_update(j->side[side], h, key, val, t, diff);
}

static void
pend(join *j, int port, eng_row r, eng_time t, int64_t diff)
{
    eng_batch *pb = j->pending;
    if (pb->n == j->pport_cap) {
        j->pport_cap = j->pport_cap ? j->pport_cap * 2 : 1024;
        j->pending_port = realloc(j->pending_port, j->pport_cap);
        ENG_ASSERT(j->pending_port != NULL);
    }
    j->pending_port[pb->n] = (uint8_t)port;
    eng_batch_push(pb, r, t, diff);
}

static void
join_input(eng_op *op, int port, const eng_batch *b)
{
    join *j = (join *)op;
    for (uint32_t i = 0; i < b->n; i++) {
        eng_time t = b->upd[i].time;
        if (t == j->frontier)
            process(j, port, eng_batch_row(b, i), t, b->upd[i].diff);
        else
            pend(j, port, eng_batch_row(b, i), t, b->upd[i].diff);
    }
}

typedef struct pidx {
    eng_time t;
    uint32_t i;
} pidx;

static int
cmp_pidx(const void *x, const void *y)
{
    const pidx *a = x, *b = y;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static eng_time
join_frontier(eng_op *op, eng_time f)
{
    join *j = (join *)op;
    j->frontier = f;
    eng_batch *pb = j->pending;
    if (pb->n > 0) {
        pidx *ix = malloc((size_t)pb->n * sizeof *ix);
        ENG_ASSERT(ix != NULL);
        for (uint32_t i = 0; i < pb->n; i++)
            ix[i] = (pidx){pb->upd[i].time, i};
        qsort(ix, pb->n, sizeof *ix, cmp_pidx);
        eng_batch *rest = eng_batch_get(eng_wctx_pool(op->w));
        uint8_t *rest_port = malloc(pb->n);
        ENG_ASSERT(rest_port != NULL);
        uint32_t nrest = 0;
        for (uint32_t k = 0; k < pb->n; k++) {
            uint32_t i = ix[k].i;
            if (pb->upd[i].time <= f) {
                process(j, j->pending_port[i], eng_batch_row(pb, i), pb->upd[i].time,
                        pb->upd[i].diff);
            } else {
                rest_port[nrest++] = j->pending_port[i];
                eng_batch_push(rest, eng_batch_row(pb, i), pb->upd[i].time, pb->upd[i].diff);
            }
        }
        memcpy(j->pending_port, rest_port, nrest);
        free(rest_port);
        free(ix);
        eng_batch_put(eng_wctx_pool(op->w), pb);
        j->pending = rest;
    }
    for (int s = 0; s < 2; s++) {
        shard_arr_advance_upper(j->side[s], f);
        /* Only the current state is ever read: compact right away. */
        shard_arr_advance_since(j->side[s], f);
    }
    return f;
}

static size_t
join_memory(const eng_op *op)
{
    const join *j = (const join *)op;
    size_t m = 0;
    for (int s = 0; s < 2; s++) {
        shard_arr_stats st;
        shard_arr_stats_get(j->side[s], &st);
        m += st.bytes;
    }
    return m;
}

static size_t
join_records(const eng_op *op)
{
    const join *j = (const join *)op;
    size_t m = 0;
    for (int s = 0; s < 2; s++) {
        shard_arr_stats st;
        shard_arr_stats_get(j->side[s], &st);
        m += st.records;
    }
    return m;
}

static void
join_destroy(eng_op *op)
{
    join *j = (join *)op;
    shard_arr_free(j->side[0]);
    shard_arr_free(j->side[1]);
    eng_batch_free(j->pending);
    free(j->pending_port);
    shard_arr_cursor_fini(&j->cur);
    eng_rowbuf_free(&j->nulls[0]);
    eng_rowbuf_free(&j->nulls[1]);
    eng_rowbuf_free(&j->row);
    free(j);
}

static const eng_op_vt join_vt = {
    .name = "join",
    .input = join_input,
    .frontier = join_frontier,
    .destroy = join_destroy,
    .memory = join_memory,
    .records = join_records,
};

eng_op *
op_join_make(const void *params, eng_wctx *w)
{
    const op_join_params *p = params;
    join *j = calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    j->op.vt = &join_vt;
    j->p = *p;
    j->side[0] = shard_arr_new();
    j->side[1] = shard_arr_new();
    j->pending = eng_batch_get(eng_wctx_pool(w));
    shard_arr_cursor_init(&j->cur);
    for (int i = 0; i < p->left_vcols; i++)
        eng_push_null(&j->nulls[0]);
    for (int i = 0; i < p->right_vcols; i++)
        eng_push_null(&j->nulls[1]);
    return &j->op;
}
