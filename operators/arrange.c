/* arrange: a peekable arrangement of a keyed collection, fed with updates
 * (PLAIN) or with change commands resolved against its own state (CDC).
 *
 * Notes: the PLAIN path hands the input batch to the store in one
 * shard_arr_update_batch call and passes it on; it branches on the mode
 * once per batch, never per row. The CDC path resolves each command into
 * updates in `cout` and applies them before the next command looks a key
 * up (UPSERT), or applies runs of BAG updates in one call before a
 * TRUNCATE reads the whole state; then `cout` is passed on exactly as a
 * PLAIN batch would be. Modes are documented in op_arrange.h. */
#include "operators/op_arrange.h"
#include "engine/core/eng_log.h"
#include "operators/op_common.h"
#include "shard/shard_arr.h"

#include <stdlib.h>

typedef struct arrange {
    eng_op op;
    int key_ncols;
    op_arrange_cdc cdc;
    int val_ncols;
    shard_arr *arr;
    shard_arr_upd *ups;
    size_t ups_cap;
    uint64_t negatives_reported;
    eng_time frontier, since;
    eng_batch *hist; /* updates with time > since, for snapshots of importers */
    op_arrange_reader *readers;
    int nreaders, rcap;
    /* CDC modes only */
    eng_batch *cout;       /* the updates the current command batch resolves to */
    eng_rowbuf oldv, newv; /* a key's current value; an upsert's merged value */
    shard_arr_cursor cur;  /* reads a key's current value */
    eng_time cdc_time;     /* newest command time applied */
    uint64_t ignored;      /* commands ignored (bad diff, meta or shape) */
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

static void cdc_input(arrange *a, const eng_batch *b);

static void
arrange_input(eng_op *op, int port, const eng_batch *b)
{
    (void)port;
    arrange *a = (arrange *)op;
    if (a->cdc != OP_ARRANGE_PLAIN) {
        cdc_input(a, b);
        return;
    }
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

/* ------------------------------------------------------------------ CDC commands */

/* Applies ob's updates from *applied on to the arrangement. ob's rows are
 * copies, so they stay valid across the store's mutations. */
static void
cdc_apply(arrange *a, const eng_batch *ob, uint32_t *applied)
{
    uint32_t n = ob->n - *applied;
    if (n == 0)
        return;
    ups_reserve(a, n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = *applied + i;
        shard_arr_upd *u = &a->ups[i];
        op_split(eng_batch_row(ob, j), a->key_ncols, &u->key, &u->val);
        u->hash = eng_row_hash(u->key);
        u->time = ob->upd[j].time;
        u->diff = ob->upd[j].diff;
    }
    shard_arr_update_batch(a->arr, a->ups, n);
    *applied = ob->n;
}

/* The time at which the store holds everything applied so far: all of it
 * is at times <= t, and reads need since <= t. */
static eng_time
cdc_read_time(const arrange *a, eng_time t)
{
    eng_time s = shard_arr_since(a->arr);
    return t < s ? s : t;
}

/* Pushes to ob the retraction, at t, of every value key k holds now. */
static void
cdc_retract_key(arrange *a, const shard_arr_key *k, eng_time t, eng_batch *ob)
{
    eng_row key = shard_arr_key_row(k);
    shard_arr_cursor_seek(&a->cur, a->arr, k, cdc_read_time(a, t));
    eng_row val;
    int64_t diff;
    while (shard_arr_cursor_next(&a->cur, &val, &diff))
        eng_batch_push2(ob, key, val, t, -diff);
}

/* TRUNCATE: retracts every row of this worker's shard. */
static void
cdc_truncate(arrange *a, eng_time t, eng_batch *ob)
{
    size_t pos = 0;
    const shard_arr_key *k;
    while ((k = shard_arr_next_key(a->arr, &pos)) != NULL)
        cdc_retract_key(a, k, t, ob);
}

/* Deletes `data`'s key: retracts its current value, if any. */
static void
cdc_delete(arrange *a, eng_row data, eng_time t, eng_batch *ob)
{
    eng_row key, val;
    op_split(data, a->key_ncols, &key, &val);
    const shard_arr_key *k = shard_arr_find(a->arr, eng_row_hash(key), key);
    if (k != NULL)
        cdc_retract_key(a, k, t, ob);
}

static bool
mask_bit(eng_datum mask, int i)
{
    uint32_t byte = (uint32_t)i / 8;
    return mask.tag == ENG_TAG_BYTES && byte < mask.len && (mask.ptr[byte] >> (i % 8)) & 1;
}

/* Upserts `data` (key ++ val_ncols value datums): retracts the key's
 * current value and adds the new one, whose columns flagged in `mask` come
 * from the current value. Nothing when the value does not change. */
static void
cdc_upsert(arrange *a, eng_row data, eng_datum mask, eng_time t, eng_batch *ob)
{
    eng_row key, val;
    op_split(data, a->key_ncols, &key, &val);
    uint32_t n0 = ob->n, blen0 = ob->blen;
    bool have_old = false;
    const shard_arr_key *k = shard_arr_find(a->arr, eng_row_hash(key), key);
    if (k != NULL) {
        /* The key holds one value with count 1 (this op is the only
         * writer); retract whatever it holds, the old row for the mask is
         * the first value present with a positive count. */
        shard_arr_cursor_seek(&a->cur, a->arr, k, cdc_read_time(a, t));
        eng_row v;
        int64_t diff;
        while (shard_arr_cursor_next(&a->cur, &v, &diff)) {
            if (!have_old && diff > 0) {
                eng_rowbuf_reset(&a->oldv);
                eng_push_row(&a->oldv, v);
                have_old = true;
            }
            eng_batch_push2(ob, key, v, t, -diff);
        }
    }
    eng_row nv = val;
    bool masked = false;
    for (int i = 0; i < a->val_ncols && !masked; i++)
        masked = mask_bit(mask, i);
    if (masked) {
        eng_row old = eng_rowbuf_row(&a->oldv);
        uint32_t p = 0, q = 0;
        eng_rowbuf_reset(&a->newv);
        for (int i = 0; i < a->val_ncols; i++) {
            uint32_t sz = eng_datum_size_at(val.data + p);
            if (!mask_bit(mask, i)) {
                eng_rowbuf_append(&a->newv, val.data + p, sz);
            } else if (have_old && q < old.len) {
                eng_rowbuf_append(&a->newv, old.data + q, eng_datum_size_at(old.data + q));
            } else {
                eng_push_null(&a->newv);
            }
            if (have_old && q < old.len)
                q += eng_datum_size_at(old.data + q);
            p += sz;
        }
        nv = eng_rowbuf_row(&a->newv);
    }
    if (ob->n == n0 + 1 && ob->upd[n0].diff == -1 && have_old &&
        eng_row_eq(eng_rowbuf_row(&a->oldv), nv)) {
        ob->n = n0; /* unchanged: take the retraction back */
        ob->blen = blen0;
        return;
    }
    eng_batch_push2(ob, key, nv, t, 1);
}

/* Splits a command into its data (all but the last datum) and its meta
 * datum; returns the number of datums (0: no meta, nothing else set). */
static int
cdc_split(eng_row r, eng_row *data, eng_datum *meta)
{
    uint32_t pos = 0, last = 0;
    int n = 0;
    while (pos < r.len) {
        last = pos;
        pos += eng_datum_size_at(r.data + pos);
        n++;
    }
    if (n == 0)
        return 0;
    *data = (eng_row){r.data, last};
    *meta = eng_row_next(r, &last);
    return n;
}

static void
cdc_ignore(arrange *a)
{
    a->ignored++;
    if ((a->ignored & (a->ignored - 1)) == 0) /* 1, 2, 4...: a trace, not a flood */
        eng_log(ENG_LOG_WARN, "arrange: %llu change commands ignored (bad diff, meta or shape)",
                (unsigned long long)a->ignored);
}

/* Resolves a batch of commands into updates, in order, applying each
 * before the next one reads the state, and passes the updates on. */
static void
cdc_input(arrange *a, const eng_batch *b)
{
    eng_batch *ob = a->cout;
    eng_batch_clear(ob);
    uint32_t applied = 0;
    bool upsert = a->cdc == OP_ARRANGE_UPSERT;
    int ncols_want = a->key_ncols + a->val_ncols + 1;
    for (uint32_t i = 0; i < b->n; i++) {
        eng_time t = b->upd[i].time;
        if (t < a->cdc_time)
            t = a->cdc_time; /* a feeder's times went back: keep ours monotone */
        a->cdc_time = t;
        int64_t diff = b->upd[i].diff;
        eng_row data;
        eng_datum meta;
        int ncols = cdc_split(eng_batch_row(b, i), &data, &meta);
        if (ncols == 0) {
            cdc_ignore(a);
        } else if (meta.tag == ENG_TAG_INT2 && diff == 1) {
            cdc_apply(a, ob, &applied);
            cdc_truncate(a, t, ob);
            cdc_apply(a, ob, &applied);
        } else if (!upsert) { /* BAG: runs of updates are applied together */
            if (meta.tag == ENG_TAG_NULL && diff != 0)
                eng_batch_push(ob, data, t, diff);
            else
                cdc_ignore(a);
        } else if (ncols != ncols_want) {
            cdc_ignore(a);
        } else if (diff == 1 && meta.tag == ENG_TAG_TRUE) {
            /* An insert of a key the feeder knows is absent (a snapshot):
             * nothing to look up; runs of them are applied together. */
            eng_batch_push(ob, data, t, 1);
        } else if (diff == 1 && (meta.tag == ENG_TAG_NULL || meta.tag == ENG_TAG_BYTES)) {
            cdc_apply(a, ob, &applied);
            cdc_upsert(a, data, meta, t, ob);
            cdc_apply(a, ob, &applied);
        } else if (diff == -1) {
            cdc_apply(a, ob, &applied);
            cdc_delete(a, data, t, ob);
            cdc_apply(a, ob, &applied);
        } else {
            cdc_ignore(a);
        }
    }
    cdc_apply(a, ob, &applied);
    if (ob->n > 0)
        publish(a, ob);
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
    eng_batch_free(a->cout);
    eng_rowbuf_free(&a->oldv);
    eng_rowbuf_free(&a->newv);
    shard_arr_cursor_fini(&a->cur);
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
    a->cdc = p->cdc;
    a->val_ncols = p->val_ncols;
    ENG_ASSERT(a->cdc >= OP_ARRANGE_PLAIN && a->cdc <= OP_ARRANGE_BAG);
    ENG_ASSERT(a->cdc != OP_ARRANGE_UPSERT || (a->key_ncols >= 0 && a->val_ncols >= 0));
    a->arr = shard_arr_new();
    a->hist = eng_batch_get(eng_wctx_pool(w));
    shard_arr_cursor_init(&a->cur);
    if (a->cdc != OP_ARRANGE_PLAIN)
        a->cout = eng_batch_get(eng_wctx_pool(w));
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

uint64_t
op_arrange_cdc_ignored(const eng_op *op)
{
    return ((const arrange *)op)->ignored;
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
