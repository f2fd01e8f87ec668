/* window: row_number, rank, dense_rank, lag, lead per partition.
 *
 * Notes: the structure is topk's (topk.c): a set of partitions changed at
 * the open time, recomputed when the frontier passes it. A recompute reads
 * the partition's input values (pointers into `in`, which is not mutated
 * meanwhile), sorts them, writes the new output rows into a scratch buffer,
 * appends copies of the old output rows (from `out`, which is mutated while
 * the difference is applied, hence the copies), sorts all of them by bytes
 * and emits every row whose counts do not cancel. All scratch arrays live
 * in the op and only grow. */
#include "operators/op_window.h"
#include "operators/op_arrange.h"
#include "operators/op_common.h"
#include "shard/shard_arr.h"

#include <stdlib.h>

/* One distinct input value of the partition being recomputed. */
typedef struct wv {
    eng_row val;   /* borrowed from `in` */
    int64_t count; /* multiplicity (> 0) */
    int64_t first; /* 0-based position of its first copy in the ordering */
    int64_t rank;  /* rank of its peer group */
    int64_t dense; /* dense_rank of its peer group */
} wv;

/* One output row difference; bytes at scratch.data + off. */
typedef struct wd {
    uint32_t off, len;
    int64_t diff;
} wd;

typedef struct window {
    eng_op op;
    const op_window_params *p;
    bool expand; /* some function tells copies apart (row_number, lag, lead) */
    shard_arr *in, *out;
    eng_time frontier;
    bool open;
    eng_time open_time;
    op_pending pending; /* updates at times > frontier */
    /* partitions changed at the open time: keys in dkeys, set in dset */
    eng_rowbuf dkeys;
    uint32_t *doff, *dlen;
    uint64_t *dhash;
    uint32_t nd, dcap;
    uint32_t *dset; /* open addressing: index + 1 */
    uint32_t dmask;
    shard_arr_cursor cur;
    wv *vals;
    size_t nvals, vcap;
    wd *diffs;
    size_t ndiffs, dfcap;
    eng_rowbuf scratch; /* new and old output rows (value ++ results) */
} window;

/* ------------------------------------------------------------------ params */

static const uint8_t null_datum[1] = {ENG_TAG_NULL};

op_window_params *
op_window_params_new(int key_ncols, int norder, int nfn)
{
    ENG_ASSERT(key_ncols >= 0 && norder >= 0 && nfn >= 0);
    /* fns (8-byte aligned) right after the struct, then order */
    size_t fsz = (size_t)nfn * sizeof(op_window_fn), osz = (size_t)norder * sizeof(op_order);
    op_window_params *p = calloc(1, sizeof *p + fsz + osz);
    ENG_ASSERT(p != NULL);
    p->key_ncols = key_ncols;
    p->nfn = nfn;
    p->norder = norder;
    p->fns = (op_window_fn *)(void *)(p + 1);
    p->order = (op_order *)(void *)((char *)(p + 1) + fsz);
    for (int i = 0; i < nfn; i++) {
        p->fns[i].kind = OP_WINDOW_ROW_NUMBER;
        p->fns[i].offset = 1;
        p->fns[i].dflt = (eng_row){null_datum, 1};
    }
    return p;
}

static void
free_default(op_window_fn *f)
{
    if (f->dflt.data != null_datum)
        free((void *)(uintptr_t)f->dflt.data);
    f->dflt = (eng_row){null_datum, 1};
}

void
op_window_params_set_default(op_window_params *p, int i, eng_row r)
{
    ENG_ASSERT(i >= 0 && i < p->nfn);
    free_default(&p->fns[i]);
    if (r.len == 0 || r.data[0] == ENG_TAG_NULL)
        return;
    uint32_t n = eng_datum_size_at(r.data);
    ENG_ASSERT(n <= r.len);
    uint8_t *b = malloc(n);
    ENG_ASSERT(b != NULL);
    memcpy(b, r.data, n);
    p->fns[i].dflt = (eng_row){b, n}; /* owned by p (free_default) */
    // cppcheck-suppress memleak ; b is kept in p->fns[i].dflt
}

void
op_window_params_free(void *pp)
{
    op_window_params *p = pp;
    if (p == NULL)
        return;
    for (int i = 0; i < p->nfn; i++)
        free_default(&p->fns[i]);
    free(p);
}

/* ------------------------------------------------------------------ changed partitions */

static void
dirty_add(window *k, uint64_t h, eng_row key)
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
    if (key.len) /* the global partition's key is empty */
        eng_rowbuf_append(&k->dkeys, key.data, (uint32_t)(key.len));
    k->dset[s] = ++k->nd;
}

static void
apply(window *k, eng_row row, eng_time t, int64_t diff)
{
    eng_row key, val;
    op_split(row, k->p->key_ncols, &key, &val);
    uint64_t h = eng_row_hash(key);
    shard_arr_update(k->in, h, key, val, t, diff);
    dirty_add(k, h, key);
}

/* ------------------------------------------------------------------ ordering */

/* qsort has no context argument: the params and the scratch base travel
 * through thread-locals (each worker sorts on its own thread). */
static _Thread_local const op_window_params *sort_p;
static _Thread_local const uint8_t *sort_base;

static int
bytes_cmp(const uint8_t *a, uint32_t na, const uint8_t *b, uint32_t nb)
{
    uint32_t n = na < nb ? na : nb;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (na < nb ? -1 : na > nb);
}

/* Order of two values by the order columns only (0: peers). */
static int
cmp_order(const op_window_params *p, eng_row a, eng_row b)
{
    for (int i = 0; i < p->norder; i++) {
        const op_order *o = &p->order[i];
        uint32_t pa = eng_row_col_offset(a, o->col), pb = eng_row_col_offset(b, o->col);
        eng_datum da = eng_row_next(a, &pa), db = eng_row_next(b, &pb);
        bool na = da.tag == ENG_TAG_NULL, nb = db.tag == ENG_TAG_NULL;
        if (na || nb) {
            if (na && nb)
                continue;
            int c = na ? 1 : -1;            /* NULLs last ... */
            return o->nulls_first ? -c : c; /* ... or first, whatever the direction */
        }
        int c = op_datum_cmp(da, db);
        if (c != 0)
            return o->desc ? -c : c;
    }
    return 0;
}

/* The row_number order: order columns, then the value's bytes. */
static int
cmp_vals(const void *x, const void *y)
{
    const wv *a = x, *b = y;
    int c = cmp_order(sort_p, a->val, b->val);
    return c ? c : bytes_cmp(a->val.data, a->val.len, b->val.data, b->val.len);
}

static int
cmp_diffs(const void *x, const void *y)
{
    const wd *a = x, *b = y;
    return bytes_cmp(sort_base + a->off, a->len, sort_base + b->off, b->len);
}

/* ------------------------------------------------------------------ recompute */

/* Position `offset` rows back (back) or ahead of p in [0, n), if any. */
static bool
shift_pos(int64_t p, int64_t n, bool back, int64_t offset, int64_t *q)
{
    /* forward distance d = offset (lead) or -offset (lag); careful with INT64_MIN */
    if (back ? offset >= 0 : offset < 0) {
        /* moving towards 0 by |offset| */
        if (offset == INT64_MIN)
            return false;
        int64_t d = offset < 0 ? -offset : offset;
        if (d > p)
            return false;
        *q = p - d;
        return true;
    }
    if (offset == INT64_MIN)
        return false;
    int64_t d = offset < 0 ? -offset : offset;
    if (d >= n - p)
        return false;
    *q = p + d;
    return true;
}

/* Index of the value holding position q (vals sorted, firsts ascending). */
static size_t
value_at(const window *k, int64_t q)
{
    size_t lo = 0, hi = k->nvals; /* vals[lo].first <= q < vals[hi].first */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->vals[mid].first <= q)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static void
push_diff(window *k, uint32_t off, int64_t diff)
{
    if (k->ndiffs == k->dfcap) {
        k->dfcap = k->dfcap ? k->dfcap * 2 : 64;
        k->diffs = realloc(k->diffs, k->dfcap * sizeof *k->diffs);
        ENG_ASSERT(k->diffs != NULL);
    }
    k->diffs[k->ndiffs++] = (wd){off, k->scratch.len - off, diff};
}

/* Appends the output row of copy c of value j (position first + c) to
 * scratch with multiplicity m. */
static void
push_output(window *k, size_t j, int64_t c, int64_t m)
{
    const op_window_params *p = k->p;
    const wv *v = &k->vals[j];
    int64_t pos = v->first + c, n = k->vals[k->nvals - 1].first + k->vals[k->nvals - 1].count;
    uint32_t off = k->scratch.len;
    eng_push_row(&k->scratch, v->val);
    for (int f = 0; f < p->nfn; f++) {
        const op_window_fn *fn = &p->fns[f];
        switch (fn->kind) {
        case OP_WINDOW_ROW_NUMBER:
            eng_push_int8(&k->scratch, pos + 1);
            break;
        case OP_WINDOW_RANK:
            eng_push_int8(&k->scratch, v->rank);
            break;
        case OP_WINDOW_DENSE_RANK:
            eng_push_int8(&k->scratch, v->dense);
            break;
        case OP_WINDOW_LAG:
        case OP_WINDOW_LEAD: {
            int64_t q;
            if (shift_pos(pos, n, fn->kind == OP_WINDOW_LAG, fn->offset, &q)) {
                eng_row src = k->vals[value_at(k, q)].val;
                uint32_t at = eng_row_col_offset(src, fn->col);
                eng_push_datum(&k->scratch, eng_row_next(src, &at));
            } else {
                eng_push_row(&k->scratch, fn->dflt);
            }
            break;
        }
        }
    }
    push_diff(k, off, m);
}

static void
recompute(window *k, uint32_t i, eng_time t)
{
    eng_row key = {k->dkeys.data + k->doff[i], k->dlen[i]};
    uint64_t h = k->dhash[i];
    /* The partition's current input values (borrowed from `in`). */
    k->nvals = 0;
    const shard_arr_key *ki = shard_arr_find(k->in, h, key);
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
            k->vals[k->nvals++] = (wv){.val = v, .count = d};
        }
    }
    sort_p = k->p;
    if (k->nvals > 1)
        qsort(k->vals, k->nvals, sizeof *k->vals, cmp_vals);
    /* Positions and peer groups. */
    int64_t pos = 0, rank = 0, dense = 0;
    for (size_t j = 0; j < k->nvals; j++) {
        wv *v = &k->vals[j];
        if (j == 0 || cmp_order(k->p, k->vals[j - 1].val, v->val) != 0) {
            rank = pos + 1;
            dense++;
        }
        v->first = pos;
        v->rank = rank;
        v->dense = dense;
        pos += v->count;
    }
    /* New output rows (+), then copies of the old ones (-). */
    eng_rowbuf_reset(&k->scratch);
    k->ndiffs = 0;
    for (size_t j = 0; j < k->nvals; j++) {
        if (k->expand)
            for (int64_t c = 0; c < k->vals[j].count; c++)
                push_output(k, j, c, 1);
        else
            push_output(k, j, 0, k->vals[j].count);
    }
    const shard_arr_key *ko = shard_arr_find(k->out, h, key);
    if (ko != NULL) {
        shard_arr_cursor_seek(&k->cur, k->out, ko, t);
        eng_row v;
        int64_t d;
        while (shard_arr_cursor_next(&k->cur, &v, &d)) {
            uint32_t off = k->scratch.len;
            eng_push_row(&k->scratch, v);
            push_diff(k, off, -d);
        }
    }
    /* Consolidate by bytes and apply what does not cancel. */
    sort_base = k->scratch.data;
    if (k->ndiffs > 1)
        qsort(k->diffs, k->ndiffs, sizeof *k->diffs, cmp_diffs);
    bool emit = eng_op_has_output(&k->op);
    for (size_t j = 0; j < k->ndiffs;) {
        const wd *a = &k->diffs[j];
        int64_t d = 0;
        size_t e = j;
        while (e < k->ndiffs && k->diffs[e].len == a->len &&
               eng_bytes_eq(k->scratch.data + k->diffs[e].off, k->scratch.data + a->off, a->len))
            d += k->diffs[e++].diff;
        j = e;
        if (d == 0)
            continue;
        eng_row row = {k->scratch.data + a->off, a->len};
        shard_arr_update(k->out, h, key, row, t, d);
        if (emit) {
            eng_batch *ob = eng_op_out(&k->op);
            eng_batch_push2(ob, key, row, t, d);
            if (ob->n >= ENG_BATCH_TARGET)
                eng_op_flush(&k->op);
        }
    }
}

static void
emit_dirty(window *k, eng_time t)
{
    for (uint32_t i = 0; i < k->nd; i++)
        recompute(k, i, t);
    k->nd = 0;
    eng_rowbuf_reset(&k->dkeys);
    if (k->dset)
        memset(k->dset, 0, (k->dmask + 1) * sizeof *k->dset);
}

/* ------------------------------------------------------------------ vtable */

static void
window_input(eng_op *op, int port, const eng_batch *b)
{
    (void)port;
    window *k = (window *)op;
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
window_frontier(eng_op *op, eng_time f)
{
    window *k = (window *)op;
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
window_peek(eng_op *op, eng_time t, const eng_row *key, eng_batch *out)
{
    op_arr_peek(((window *)op)->out, t, key, out);
}

static void
window_compact(eng_op *op, eng_time since)
{
    shard_arr_advance_since(((window *)op)->out, since);
}

static size_t
window_memory(const eng_op *op)
{
    const window *k = (const window *)op;
    shard_arr_stats a, b;
    shard_arr_stats_get(k->in, &a);
    shard_arr_stats_get(k->out, &b);
    return a.bytes + b.bytes;
}

static size_t
window_records(const eng_op *op)
{
    shard_arr_stats b;
    shard_arr_stats_get(((const window *)op)->out, &b);
    return b.records;
}

static void
window_destroy(eng_op *op)
{
    window *k = (window *)op;
    shard_arr_free(k->in);
    shard_arr_free(k->out);
    op_pending_free(&k->pending);
    eng_rowbuf_free(&k->dkeys);
    eng_rowbuf_free(&k->scratch);
    free(k->doff);
    free(k->dlen);
    free(k->dhash);
    free(k->dset);
    free(k->vals);
    free(k->diffs);
    shard_arr_cursor_fini(&k->cur);
    free(k);
}

static const eng_op_vt window_vt = {
    .name = "window",
    .input = window_input,
    .frontier = window_frontier,
    .destroy = window_destroy,
    .memory = window_memory,
    .records = window_records,
    .peek = window_peek,
    .compact = window_compact,
};

eng_op *
op_window_make(const void *params, eng_wctx *w)
{
    (void)w;
    window *k = calloc(1, sizeof *k);
    if (k == NULL)
        return NULL;
    k->op.vt = &window_vt;
    k->p = params;
    for (int f = 0; f < k->p->nfn; f++)
        if (k->p->fns[f].kind == OP_WINDOW_ROW_NUMBER || k->p->fns[f].kind == OP_WINDOW_LAG ||
            k->p->fns[f].kind == OP_WINDOW_LEAD)
            k->expand = true;
    /* never NULL, so an empty key (the global partition) has an address */
    eng_rowbuf_grow(&k->dkeys, 64);
    k->in = shard_arr_new();
    k->out = shard_arr_new();
    shard_arr_cursor_init(&k->cur);
    return &k->op;
}
