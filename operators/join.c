/* join: incremental binary equi-join with outer variants. */
#include "operators/op_join.h"
#include "operators/op_arrange.h"
#include "operators/op_common.h"
#include "shard/shard_arr.h"

#include <stdlib.h>

typedef struct join {
    eng_op op;
    op_join_params p;
    shard_arr *side[2]; /* side[shared_side] is borrowed from the source arrange op */
    eng_op *shared_src; /* that op; NULL if none or gone */
    bool gone_reported;
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
    if (key.len)
        memcpy(p, key.data, key.len);
    if (l.len)
        memcpy(p + key.len, l.data, l.len);
    if (r.len)
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

/* Shared mode: one update of time t, reading the other side at t - 1 (left
 * updates) or t (right updates). Owned sides are updated here. */
static void
process_timed(join *j, int side, eng_row row, eng_time t, int64_t diff)
{
    eng_row key, val;
    op_split(row, j->p.key_ncols, &key, &val);
    uint64_t h = eng_row_hash(key);
    int other = 1 - side;
    bool other_shared = other == j->p.shared_side;
    /* Left reads the right side strictly before t, right reads the left at t. */
    bool read = side == 0 ? t > 0 : true;
    eng_time rt = side == 0 ? t - 1 : t;
    if (other_shared && rt < j->p.shared_as_of)
        read = false; /* covered by the shared side's snapshot at as_of */
    if (!key_has_null(key) && read && j->side[other] != NULL) {
        const shard_arr_key *ko = shard_arr_find(j->side[other], h, key);
        if (ko != NULL) {
            shard_arr_cursor_seek(&j->cur, j->side[other], ko, rt);
            eng_row ov;
            int64_t od;
            while (shard_arr_cursor_next(&j->cur, &ov, &od)) {
                if (side == 0)
                    emit3(j, key, val, ov, t, diff * od);
                else
                    emit3(j, key, ov, val, t, diff * od);
            }
        }
    }
    if (side != j->p.shared_side && !key_has_null(key))
        shard_arr_update(j->side[side], h, key, val, t, diff);
}

static void
shared_gone(eng_op *op)
{
    join *j = (join *)op;
    j->shared_src = NULL;
    j->side[j->p.shared_side] = NULL;
    if (j->gone_reported)
        return;
    j->gone_reported = true;
    eng_err e;
    eng_err_clear(&e);
    eng_err_set(&e, ENG_ERRCODE_UNDEFINED_OBJECT, "the collection this join reads was dropped");
    eng_op_error(op, &e, 0, 1);
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
    bool shared = j->p.shared_side >= 0;
    for (uint32_t i = 0; i < b->n; i++) {
        eng_time t = b->upd[i].time;
        if (t == j->frontier && !shared)
            process(j, port, eng_batch_row(b, i), t, b->upd[i].diff);
        else
            pend(j, port, eng_batch_row(b, i), t, b->upd[i].diff);
    }
}

typedef struct pidx {
    eng_time t;
    uint32_t port;
    uint32_t i;
} pidx;

static int
cmp_pidx(const void *x, const void *y)
{
    const pidx *a = x, *b = y;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static eng_time
join_frontier(eng_op *op, eng_time f)
{
    join *j = (join *)op;
    if (j->p.shared_side >= 0 && j->shared_src == NULL && !j->gone_reported)
        shared_gone(op);
    j->frontier = f;
    eng_batch *pb = j->pending;
    if (pb->n > 0) {
        pidx *ix = malloc((size_t)pb->n * sizeof *ix);
        ENG_ASSERT(ix != NULL);
        for (uint32_t i = 0; i < pb->n; i++)
            ix[i] = (pidx){pb->upd[i].time, j->pending_port[i], i};
        qsort(ix, pb->n, sizeof *ix, cmp_pidx);
        eng_batch *rest = eng_batch_get(eng_wctx_pool(op->w));
        uint8_t *rest_port = malloc(pb->n);
        ENG_ASSERT(rest_port != NULL);
        uint32_t nrest = 0;
        bool shared = j->p.shared_side >= 0;
        for (uint32_t k = 0; k < pb->n; k++) {
            uint32_t i = ix[k].i;
            if (shared && pb->upd[i].time < f) {
                /* left updates of a time before right ones (sorted by port) */
                process_timed(j, j->pending_port[i], eng_batch_row(pb, i), pb->upd[i].time,
                              pb->upd[i].diff);
            } else if (!shared && pb->upd[i].time <= f) {
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
        if (s == j->p.shared_side) {
            /* Next reads of the shared side: at >= f (left) or >= f - 1 (right). */
            if (j->shared_src)
                op_arrange_hold(j->shared_src, op, s == 0 ? f : (f > 0 ? f - 1 : 0));
            continue;
        }
        shard_arr_advance_upper(j->side[s], f);
        /* Eager mode reads only the current state; timed mode reads at f - 1. */
        shard_arr_advance_since(j->side[s], j->p.shared_side >= 0 && f > 0 ? f - 1 : f);
    }
    return f;
}

static size_t
join_memory(const eng_op *op)
{
    const join *j = (const join *)op;
    size_t m = 0;
    for (int s = 0; s < 2; s++) {
        if (s == j->p.shared_side || j->side[s] == NULL)
            continue; /* the shared side's memory is its owner's */
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
        if (s == j->p.shared_side || j->side[s] == NULL)
            continue;
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
    if (j->shared_src)
        op_arrange_unlisten(j->shared_src, op);
    for (int s = 0; s < 2; s++)
        if (s != j->p.shared_side)
            shard_arr_free(j->side[s]);
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
    j->op.w = w;
    for (int s = 0; s < 2; s++) {
        if (s != p->shared_side) {
            j->side[s] = shard_arr_new();
            continue;
        }
        ENG_ASSERT(p->kind == OP_JOIN_INNER); /* the planner shares only inner joins */
        eng_op *src = eng_wctx_find_op(w, p->shared_df, p->shared_node);
        j->side[s] = op_arrange_arr(src);
        op_arrange_reader r = {.who = &j->op, .on_gone = shared_gone, .hold = p->shared_as_of};
        if (j->side[s] != NULL && op_arrange_listen(src, &r) == 0) {
            j->shared_src = src;
        } else {
            j->side[s] = NULL; /* reported as an error once running */
            j->p.shared_side = s;
        }
    }
    j->pending = eng_batch_get(eng_wctx_pool(w));
    shard_arr_cursor_init(&j->cur);
    for (int i = 0; i < p->left_vcols; i++)
        eng_push_null(&j->nulls[0]);
    for (int i = 0; i < p->right_vcols; i++)
        eng_push_null(&j->nulls[1]);
    return &j->op;
}
