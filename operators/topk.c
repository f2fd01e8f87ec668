/* topk: per-group ORDER BY / LIMIT / OFFSET. */
#include "operators/op_topk.h"
#include "operators/op_arrange.h"
#include "operators/op_common.h"
#include "shard/shard_arr.h"

#include <stdlib.h>

typedef struct vc {
    eng_row val;
    int64_t count;
} vc;

typedef struct topk {
    eng_op op;
    const op_topk_params *p;
    shard_arr *in, *out;
    eng_time frontier;
    bool open;
    eng_time open_time;
    op_pending pending; /* updates at times > frontier */
    /* groups changed at the open time: keys in dkeys, set in dset */
    eng_rowbuf dkeys;
    uint32_t *doff, *dlen;
    uint64_t *dhash;
    uint32_t nd, dcap;
    uint32_t *dset; /* open addressing: index + 1 */
    uint32_t dmask;
    shard_arr_cursor cur;
    vc *vals;
    size_t nvals, vcap;
    eng_rowbuf keep; /* copies of values while in/out change */
} topk;

op_topk_params *
op_topk_params_new(int key_ncols, int norder)
{
    op_topk_params *p = calloc(1, sizeof *p + (size_t)norder * sizeof(op_order));
    ENG_ASSERT(p != NULL);
    p->key_ncols = key_ncols;
    p->norder = norder;
    p->limit = -1;
    return p;
}

static void
dirty_add(topk *k, uint64_t h, eng_row key)
{
    if ((k->nd + 1) * 2 > k->dmask + 1) {
        uint32_t cap = k->dmask ? (k->dmask + 1) * 2 : 64;
        uint32_t *set = calloc(cap, sizeof *set);
        ENG_ASSERT(set != NULL);
        for (uint32_t i = 0; i < k->nd; i++) {
            uint32_t s = (uint32_t)k->dhash[i] & (cap - 1);
            while (set[s])
                s = (s + 1) & (cap - 1);
            set[s] = i + 1;
        }
        free(k->dset);
        k->dset = set;
        k->dmask = cap - 1;
    }
    uint32_t s = (uint32_t)h & k->dmask;
    while (k->dset[s]) {
        uint32_t i = k->dset[s] - 1;
        if (k->dhash[i] == h && k->dlen[i] == key.len &&
            eng_bytes_eq(k->dkeys.data + k->doff[i], key.data, key.len))
            return;
        s = (s + 1) & k->dmask;
    }
    if (k->nd == k->dcap) {
        k->dcap = k->dcap ? k->dcap * 2 : 64;
        k->doff = realloc(k->doff, k->dcap * sizeof *k->doff);
        k->dlen = realloc(k->dlen, k->dcap * sizeof *k->dlen);
        k->dhash = realloc(k->dhash, k->dcap * sizeof *k->dhash);
        ENG_ASSERT(k->doff && k->dlen && k->dhash);
    }
    k->doff[k->nd] = k->dkeys.len;
    k->dlen[k->nd] = key.len;
    k->dhash[k->nd] = h;
    if (key.len) /* the global group's key is empty (and dkeys may be NULL) */
        eng_rowbuf_append(&k->dkeys, key.data, (uint32_t)(key.len));
    k->dset[s] = ++k->nd;
}

static void
apply(topk *k, eng_row row, eng_time t, int64_t diff)
{
    eng_row key, val;
    op_split(row, k->p->key_ncols, &key, &val);
    uint64_t h = eng_row_hash(key);
    shard_arr_update(k->in, h, key, val, t, diff);
    dirty_add(k, h, key);
}

/* Order of two values by the order columns, then bytewise. */
/* qsort has no context argument: the params travel through a thread-local. */
static _Thread_local const op_topk_params *sort_p;

static int
cmp_vals(const void *x, const void *y)
{
    const vc *a = x, *b = y;
    for (int i = 0; i < sort_p->norder; i++) {
        const op_order *o = &sort_p->order[i];
        uint32_t pa = eng_row_col_offset(a->val, o->col), pb = eng_row_col_offset(b->val, o->col);
        uint32_t qa = pa, qb = pb;
        eng_datum da = eng_row_next(a->val, &qa), db = eng_row_next(b->val, &qb);
        bool na = da.tag == ENG_TAG_NULL, nb = db.tag == ENG_TAG_NULL;
        int c;
        if (na || nb) {
            if (na && nb)
                continue;
            c = na ? 1 : -1; /* NULLs last ... */
            if (o->nulls_first)
                c = -c;
            return c; /* ... or first, independent of direction */
        }
        c = op_datum_cmp(da, db);
        if (c != 0)
            return o->desc ? -c : c;
    }
    uint32_t n = a->val.len < b->val.len ? a->val.len : b->val.len;
    int c = memcmp(a->val.data, b->val.data, n);
    return c ? c : (a->val.len < b->val.len ? -1 : a->val.len > b->val.len);
}

static void
recompute(topk *k, uint32_t i, eng_time t)
{
    eng_row key = {k->dkeys.data + k->doff[i], k->dlen[i]};
    uint64_t h = k->dhash[i];
    /* Current input values of the group, copied (in/out change below). */
    k->nvals = 0;
    eng_rowbuf_reset(&k->keep);
    const shard_arr_key *ki = shard_arr_find(k->in, h, key);
    size_t nin = 0;
    if (ki != NULL) {
        shard_arr_cursor_seek(&k->cur, k->in, ki, t);
        eng_row v;
        int64_t d;
        while (shard_arr_cursor_next(&k->cur, &v, &d)) {
            if (d <= 0)
                continue;
            if (k->nvals == k->vcap) {
                k->vcap = k->vcap ? k->vcap * 2 : 64;
                k->vals = realloc(k->vals, k->vcap * sizeof *k->vals);
                ENG_ASSERT(k->vals != NULL);
            }
            k->vals[k->nvals].val.len = v.len;
            k->vals[k->nvals].val.data =
                (const uint8_t *)(uintptr_t)k->keep.len; /* offset for now */
            k->vals[k->nvals].count = d;
            eng_rowbuf_append(&k->keep, v.data, (uint32_t)(v.len));
            k->nvals++;
        }
    }
    nin = k->nvals;
    /* Old output values of the group, after the input ones (count negated). */
    const shard_arr_key *ko = shard_arr_find(k->out, h, key);
    if (ko != NULL) {
        shard_arr_cursor_seek(&k->cur, k->out, ko, t);
        eng_row v;
        int64_t d;
        while (shard_arr_cursor_next(&k->cur, &v, &d)) {
            if (k->nvals == k->vcap) {
                k->vcap = k->vcap ? k->vcap * 2 : 64;
                k->vals = realloc(k->vals, k->vcap * sizeof *k->vals);
                ENG_ASSERT(k->vals != NULL);
            }
            k->vals[k->nvals].val.len = v.len;
            k->vals[k->nvals].val.data = (const uint8_t *)(uintptr_t)k->keep.len;
            k->vals[k->nvals].count = d;
            eng_rowbuf_append(&k->keep, v.data, (uint32_t)(v.len));
            k->nvals++;
        }
    }
    for (size_t j = 0; j < k->nvals; j++)
        k->vals[j].val.data = k->keep.data + (uintptr_t)k->vals[j].val.data;
    sort_p = k->p;
    if (nin > 1)
        qsort(k->vals, nin, sizeof *k->vals, cmp_vals);
    /* Walk the ranking: rows [offset, offset + limit) are in. New counts
     * replace the input counts in place. */
    int64_t lo = k->p->offset, hi = k->p->limit < 0 ? INT64_MAX : k->p->offset + k->p->limit;
    if (hi < lo)
        hi = lo;
    int64_t rank = 0;
    for (size_t j = 0; j < nin; j++) {
        int64_t c = k->vals[j].count;
        int64_t from = rank > lo ? rank : lo, to = rank + c < hi ? rank + c : hi;
        k->vals[j].count = to > from ? to - from : 0;
        rank += c;
    }
    /* Difference: new (input part) minus old (output part). */
    bool emit = eng_op_has_output(&k->op);
    for (size_t j = 0; j < k->nvals; j++) {
        int64_t newc = 0, oldc = 0;
        if (j < nin) {
            newc = k->vals[j].count;
            for (size_t q = nin; q < k->nvals; q++)
                if (eng_row_eq(k->vals[q].val, k->vals[j].val))
                    oldc = k->vals[q].count;
        } else {
            bool in_new = false;
            for (size_t q = 0; q < nin; q++)
                if (eng_row_eq(k->vals[q].val, k->vals[j].val))
                    in_new = true;
            if (in_new)
                continue; /* handled with the input entry */
            oldc = k->vals[j].count;
        }
        int64_t d = newc - oldc;
        if (d == 0)
            continue;
        shard_arr_update(k->out, h, key, k->vals[j].val, t, d);
        if (emit) {
            eng_batch *ob = eng_op_out(&k->op);
            eng_batch_push2(ob, key, k->vals[j].val, t, d);
            if (ob->n >= ENG_BATCH_TARGET)
                eng_op_flush(&k->op);
        }
    }
}

static void
emit_dirty(topk *k, eng_time t)
{
    for (uint32_t i = 0; i < k->nd; i++)
        recompute(k, i, t);
    k->nd = 0;
    eng_rowbuf_reset(&k->dkeys);
    if (k->dset)
        memset(k->dset, 0, (k->dmask + 1) * sizeof *k->dset);
}

static void
topk_input(eng_op *op, int port, const eng_batch *b)
{
    (void)port;
    topk *k = (topk *)op;
    for (uint32_t i = 0; i < b->n; i++) {
        eng_time t = b->upd[i].time;
        if (t == k->frontier) {
            k->open = true;
            k->open_time = t;
            apply(k, eng_batch_row(b, i), t, b->upd[i].diff);
        } else {
            op_pending_push(&k->pending, eng_wctx_pool(op->w), eng_batch_row(b, i), t,
                            b->upd[i].diff);
        }
    }
}

static eng_time
topk_frontier(eng_op *op, eng_time f)
{
    topk *k = (topk *)op;
    if (k->open) {
        emit_dirty(k, k->open_time);
        k->open = false;
    }
    /* Held updates, one time at a time; those at f open the next time. */
    eng_batch *pb;
    eng_time t;
    while ((pb = op_pending_pop(&k->pending, f, true, &t)) != NULL) {
        for (uint32_t i = 0; i < pb->n; i++)
            apply(k, eng_batch_row(pb, i), t, pb->upd[i].diff);
        eng_batch_put(eng_wctx_pool(op->w), pb);
        if (t < f) {
            emit_dirty(k, t);
        } else {
            k->open = true;
            k->open_time = f;
        }
    }
    k->frontier = f;
    shard_arr_advance_upper(k->in, f);
    shard_arr_advance_since(k->in, f); /* the input is read only at the newest time */
    shard_arr_advance_upper(k->out, f);
    return f;
}

static void
topk_peek(eng_op *op, eng_time t, const eng_row *key, eng_batch *out)
{
    op_arr_peek(((topk *)op)->out, t, key, out);
}

static void
topk_compact(eng_op *op, eng_time since)
{
    shard_arr_advance_since(((topk *)op)->out, since);
}

static size_t
topk_memory(const eng_op *op)
{
    const topk *k = (const topk *)op;
    shard_arr_stats a, b;
    shard_arr_stats_get(k->in, &a);
    shard_arr_stats_get(k->out, &b);
    return a.bytes + b.bytes;
}

static size_t
topk_records(const eng_op *op)
{
    shard_arr_stats b;
    shard_arr_stats_get(((const topk *)op)->out, &b);
    return b.records;
}

static void
topk_destroy(eng_op *op)
{
    topk *k = (topk *)op;
    shard_arr_free(k->in);
    shard_arr_free(k->out);
    op_pending_free(&k->pending);
    eng_rowbuf_free(&k->dkeys);
    eng_rowbuf_free(&k->keep);
    free(k->doff);
    free(k->dlen);
    free(k->dhash);
    free(k->dset);
    free(k->vals);
    shard_arr_cursor_fini(&k->cur);
    free(k);
}

static const eng_op_vt topk_vt = {
    .name = "topk",
    .input = topk_input,
    .frontier = topk_frontier,
    .destroy = topk_destroy,
    .memory = topk_memory,
    .records = topk_records,
    .peek = topk_peek,
    .compact = topk_compact,
};

eng_op *
op_topk_make(const void *params, eng_wctx *w)
{
    (void)w;
    topk *k = calloc(1, sizeof *k);
    if (k == NULL)
        return NULL;
    k->op.vt = &topk_vt;
    k->p = params;
    k->in = shard_arr_new();
    k->out = shard_arr_new();
    shard_arr_cursor_init(&k->cur);
    return &k->op;
}
