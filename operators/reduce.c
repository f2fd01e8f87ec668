/* reduce: GROUP BY with accumulable and multiset aggregates.
 *
 * Notes: the group table is the operator's state and its peekable output.
 * A group record holds the key (inline up to 16 bytes), the row count and
 * the accumulators; the group's output row is computed from it on demand.
 * History for reads at times before the newest: when a group first changes
 * at a time, its previous output row is stashed (the dirty list); when the
 * time is emitted the stash moves to an undo log ordered by time. A read at
 * t uses, per group, the earliest stashed row from after t, else the
 * current row. compact(since) drops undo entries at times <= since. So the
 * history costs memory only for changes no reader can still need. */
#include "operators/op_common.h"
#include "operators/op_reduce.h"
#include "engine/core/eng_numeric.h"
#include "shard/shard_arr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct acc_int {
    __int128 sum;
    int64_t nn; /* non-NULL inputs */
    int64_t pad;
} acc_int;

typedef struct acc_float {
    double sum;
    int64_t nn;
} acc_float;

/* sum/avg of numerics: the exact accumulator lives on the heap (it grows
 * with the values' digit range); the group holds a pointer. */
typedef struct acc_num {
    eng_numeric_acc *acc;
} acc_num;

typedef struct acc_bool {
    int64_t ntrue;
    int64_t nn;
} acc_bool;

#define KEY_INLINE 16
#define G_DIRTY 1u
#define G_OVERFLOW 2u /* an error in data is reported for this group: sum overflow */
#define G_NEGATIVE 4u /* an error in data is reported for this group: negative count */

/* 32 bytes plus accumulators. The key's hash is not stored: the index
 * slot holds its top 32 bits as a tag, and a rebuild rehashes the key. */
typedef struct group {
    int64_t count; /* rows in the group */
    uint32_t key_len;
    uint32_t flags;
    union {
        uint8_t inl[KEY_INLINE];
        uint64_t off; /* in r->keys when key_len > KEY_INLINE */
    } key;
} group;

/* A group's previous output row, stashed when it first changed at a time. */
typedef struct undo {
    uint32_t group;
    uint32_t len;
    uint64_t off; /* row bytes in the owning arena */
    eng_time time;
    int64_t mult; /* its multiplicity (1, or the count in THRESHOLD mode) */
    uint8_t had;  /* the group had an output row */
} undo;

/* A string_agg value with its multiplicity, sorted before concatenation. */
typedef struct strval {
    eng_datum d;
    int64_t n;
} strval;

static int
strval_cmp(const void *a, const void *b)
{
    const strval *x = a, *y = b;
    uint32_t n = x->d.len < y->d.len ? x->d.len : y->d.len;
    int c = n ? memcmp(x->d.ptr, y->d.ptr, n) : 0;
    if (c != 0)
        return c;
    return x->d.len < y->d.len ? -1 : x->d.len > y->d.len;
}

typedef struct reduce {
    eng_op op;
    const op_reduce_params *p;
    size_t stride;
    size_t *acc_off;
    bool has_multiset;
    bool has_heap_acc; /* numeric accumulators to free */
    bool simple_count; /* only count(*): no value decoding */
    uint8_t *groups;
    uint32_t ngroups, gcap;
    uint64_t nlive;         /* groups with an output row */
    uint32_t dead_after_gc; /* dead groups the last rebuild had to keep */
    uint64_t *index;        /* (hash high 32 << 32) | (group + 1); 0 = empty */
    uint32_t imask;
    eng_rowbuf keys; /* long keys */
    undo *dirty;     /* groups changed at open_time, with their previous rows in prevbuf */
    uint32_t ndirty, dcap;
    eng_rowbuf prevbuf;
    undo *log; /* emitted changes, time order; rows in logbuf */
    uint32_t nlog, logcap, loghead;
    eng_rowbuf logbuf;
    bool open;
    eng_time open_time;
    eng_time frontier;
    op_pending pending; /* updates at times > frontier */
    shard_arr *vals;    /* multisets: key = group key + int2 aggregate index */
    shard_arr_cursor cur;
    eng_rowbuf row, tmp, agg;
    strval *sv; /* string_agg scratch */
    size_t nsv, capsv;
} reduce;

op_reduce_params *
op_reduce_params_new(int key_ncols, int naggs)
{
    op_reduce_params *p = calloc(1, sizeof *p + (size_t)naggs * sizeof(op_agg));
    ENG_ASSERT(p != NULL);
    p->key_ncols = key_ncols;
    p->naggs = naggs;
    return p;
}

static inline group *
G(const reduce *r, uint32_t i)
{
    return (group *)(r->groups + (size_t)i * r->stride);
}

static inline eng_row
group_key(const reduce *r, const group *g)
{
    if (g->key_len <= KEY_INLINE)
        return (eng_row){g->key.inl, g->key_len};
    return (eng_row){r->keys.data + g->key.off, g->key_len};
}

/* Rebuilds the index with cap slots (a power of two). */
static void
index_rebuild(reduce *r, uint32_t cap)
{
    uint64_t *ix = calloc(cap, sizeof *ix);
    ENG_ASSERT(ix != NULL);
    for (uint32_t g = 0; g < r->ngroups; g++) {
        uint64_t h = eng_row_hash(group_key(r, G(r, g)));
        uint32_t s = (uint32_t)h & (cap - 1);
        while (ix[s])
            s = (s + 1) & (cap - 1);
        ix[s] = (h & 0xffffffff00000000ull) | (uint64_t)(g + 1);
    }
    free(r->index);
    r->index = ix;
    r->imask = cap - 1;
}

static void
index_grow(reduce *r)
{
    index_rebuild(r, r->imask ? (r->imask + 1) * 2 : 1024);
}

static inline bool
group_matches(const reduce *r, const group *gr, uint64_t h, eng_row key)
{
    (void)h; /* the index tag already matched the hash's top 32 bits */
    if (gr->key_len != key.len)
        return false;
    eng_row k = group_key(r, gr);
    return eng_bytes_eq(k.data, key.data, key.len);
}

/* The group of key, or UINT32_MAX (create = false) if absent. */
static uint32_t
group_lookup(reduce *r, uint64_t h, eng_row key, bool create)
{
    if (create && (uint64_t)(r->ngroups + 1) * 4 > (uint64_t)(r->imask + 1) * 3)
        index_grow(r);
    if (r->index == NULL)
        return UINT32_MAX;
    uint32_t s = (uint32_t)h & r->imask;
    uint64_t tag = h & 0xffffffff00000000ull;
    for (;;) {
        uint64_t e = r->index[s];
        if (e == 0)
            break;
        if ((e & 0xffffffff00000000ull) == tag) {
            uint32_t g = (uint32_t)(e & 0xffffffffu) - 1;
            if (group_matches(r, G(r, g), h, key))
                return g;
        }
        s = (s + 1) & r->imask;
    }
    if (!create)
        return UINT32_MAX;
    if (r->ngroups == r->gcap) {
        r->gcap = r->gcap ? r->gcap + r->gcap / 2 : 1024; /* 1.5x: memory over speed */
        r->groups = realloc(r->groups, (size_t)r->gcap * r->stride);
        ENG_ASSERT(r->groups != NULL);
    }
    uint32_t g = r->ngroups++;
    group *gr = G(r, g);
    memset(gr, 0, r->stride);
    gr->key_len = key.len;
    if (key.len <= KEY_INLINE) {
        if (key.len)
            memcpy(gr->key.inl, key.data, key.len);
    } else {
        gr->key.off = r->keys.len;
        eng_rowbuf_append(&r->keys, key.data, (uint32_t)(key.len));
    }
    r->index[s] = tag | (uint64_t)(g + 1);
    return g;
}

static inline bool
group_exists(const reduce *r, const group *gr)
{
    return gr->count > 0 || (r->p->global && r->p->mode == OP_REDUCE_GROUP);
}

static inline int64_t
group_mult(const reduce *r, const group *gr)
{
    return r->p->mode == OP_REDUCE_THRESHOLD ? gr->count : 1;
}

/* An exact 128-bit integer as a numeric (through its decimal digits). */
static void
numeric_from_int128(__int128 v, eng_numeric *out)
{
    char buf[48];
    int n = sizeof buf;
    bool neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
    do {
        buf[--n] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0);
    if (neg)
        buf[--n] = '-';
    int rc = eng_numeric_parse(buf + n, sizeof buf - (size_t)n, -1, out, NULL);
    ENG_ASSERT(rc == 0);
}

/* Appends aggregate a's current result for group gr to out. */
static void
push_result(reduce *r, const group *gr, int a, eng_rowbuf *out)
{
    const op_agg *ag = &r->p->aggs[a];
    const uint8_t *acc = (const uint8_t *)gr + r->acc_off[a];
    switch (ag->kind) {
    case OP_AGG_COUNT_STAR:
        eng_push_int8(out, gr->count);
        return;
    case OP_AGG_COUNT:
        eng_push_int8(out, *(const int64_t *)acc);
        return;
    case OP_AGG_SUM_INT: {
        const acc_int *ai = (const acc_int *)acc;
        if (ai->nn == 0)
            eng_push_null(out);
        else if (ai->sum > INT64_MAX || ai->sum < INT64_MIN)
            eng_push_null(out); /* reported as an error in data by emit_dirty */
        else
            eng_push_int8(out, (int64_t)ai->sum);
        return;
    }
    case OP_AGG_SUM_INT8:
    case OP_AGG_AVG_INT: {
        const acc_int *ai = (const acc_int *)acc;
        if (ai->nn == 0) {
            eng_push_null(out);
            return;
        }
        eng_numeric sum, res;
        eng_numeric_init(&sum);
        eng_numeric_init(&res);
        numeric_from_int128(ai->sum, &sum);
        if (ag->kind == OP_AGG_SUM_INT8) {
            eng_numeric_push(out, &sum);
        } else {
            eng_numeric cnt;
            eng_numeric_init(&cnt);
            eng_numeric_from_int64(&cnt, ai->nn);
            if (eng_numeric_div(&sum, &cnt, &res, NULL) == 0)
                eng_numeric_push(out, &res);
            else
                eng_push_null(out);
            eng_numeric_free(&cnt);
        }
        eng_numeric_free(&sum);
        eng_numeric_free(&res);
        return;
    }
    case OP_AGG_SUM_NUMERIC:
    case OP_AGG_AVG_NUMERIC: {
        const acc_num *an = (const acc_num *)acc;
        if (an->acc == NULL || an->acc->count == 0) {
            eng_push_null(out);
            return;
        }
        eng_numeric res;
        eng_numeric_init(&res);
        int rc = ag->kind == OP_AGG_SUM_NUMERIC ? eng_numeric_acc_sum(an->acc, &res, NULL)
                                                : eng_numeric_acc_avg(an->acc, &res, NULL);
        if (rc == 0)
            eng_numeric_push(out, &res);
        else
            eng_push_null(out); /* overflow: reported as an error in data by emit_dirty */
        eng_numeric_free(&res);
        return;
    }
    case OP_AGG_SUM_FLOAT:
    case OP_AGG_SUM_FLOAT4:
    case OP_AGG_AVG_FLOAT: {
        const acc_float *af = (const acc_float *)acc;
        if (af->nn == 0)
            eng_push_null(out);
        else if (ag->kind == OP_AGG_SUM_FLOAT4)
            eng_push_float4(out, (float)af->sum);
        else
            eng_push_float8(out, ag->kind == OP_AGG_SUM_FLOAT ? af->sum : af->sum / (double)af->nn);
        return;
    }
    case OP_AGG_BOOL_AND:
    case OP_AGG_BOOL_OR: {
        const acc_bool *ab = (const acc_bool *)acc;
        if (ab->nn == 0)
            eng_push_null(out);
        else if (ag->kind == OP_AGG_BOOL_AND)
            eng_push_bool(out, ab->ntrue == ab->nn);
        else
            eng_push_bool(out, ab->ntrue > 0);
        return;
    }
    default:
        break;
    }
    /* Multiset aggregates: walk the group's values at the open time (the
     * value multisets hold only current state). */
    eng_rowbuf_reset(&r->tmp);
    eng_push_row(&r->tmp, group_key(r, gr));
    eng_push_int2(&r->tmp, (int16_t)a);
    eng_row mk = eng_rowbuf_row(&r->tmp);
    const shard_arr_key *k = shard_arr_find(r->vals, eng_row_hash(mk), mk);
    int64_t distinct = 0;
    bool have = false, first = true;
    eng_datum best = {0};
    eng_rowbuf_reset(&r->agg);
    if (k != NULL) {
        shard_arr_cursor_seek(&r->cur, r->vals, k, ENG_TIME_MAX - 1);
        eng_row v;
        int64_t diff;
        while (shard_arr_cursor_next(&r->cur, &v, &diff)) {
            if (diff <= 0)
                continue;
            uint32_t pos = 0;
            eng_datum d = eng_row_next(v, &pos);
            distinct++;
            if (ag->kind == OP_AGG_MIN || ag->kind == OP_AGG_MAX) {
                int c = have ? op_datum_cmp(d, best) : 0;
                if (!have || (ag->kind == OP_AGG_MIN ? c < 0 : c > 0))
                    best = d;
                have = true;
            } else if (ag->kind == OP_AGG_STRING_AGG) {
                if (r->nsv == r->capsv) {
                    r->capsv = r->capsv ? r->capsv * 2 : 64;
                    r->sv = realloc(r->sv, r->capsv * sizeof *r->sv);
                    ENG_ASSERT(r->sv != NULL);
                }
                r->sv[r->nsv++] = (strval){d, diff};
                have = true;
            }
        }
    }
    if (ag->kind == OP_AGG_STRING_AGG && r->nsv > 0) {
        /* In value order (C collation), as string_agg(x, sep ORDER BY x). */
        qsort(r->sv, r->nsv, sizeof *r->sv, strval_cmp);
        size_t sl = ag->sep ? strlen(ag->sep) : 0;
        for (size_t j = 0; j < r->nsv; j++)
            for (int64_t i = 0; i < r->sv[j].n; i++) {
                if (!first && sl)
                    eng_rowbuf_append(&r->agg, ag->sep, (uint32_t)(sl));
                eng_rowbuf_append(&r->agg, r->sv[j].d.ptr, (uint32_t)(r->sv[j].d.len));
                first = false;
            }
        r->nsv = 0;
    }
    switch (ag->kind) {
    case OP_AGG_COUNT_DISTINCT:
        eng_push_int8(out, distinct);
        break;
    case OP_AGG_MIN:
    case OP_AGG_MAX:
        if (have)
            eng_push_datum(out, best);
        else
            eng_push_null(out);
        break;
    case OP_AGG_STRING_AGG:
        if (have)
            eng_push_text(out, (const char *)r->agg.data, r->agg.len);
        else
            eng_push_null(out);
        break;
    default:
        ENG_UNREACHABLE("unhandled aggregate");
    }
}

/* Writes group gr's current output row (key, aggregates) into out. */
static void
group_row(reduce *r, const group *gr, eng_rowbuf *out)
{
    eng_push_row(out, group_key(r, gr));
    for (int a = 0; a < r->p->naggs; a++)
        push_result(r, gr, a, out);
}

/* First change of group g at the open time: stash its current row. */
static inline void
mark_dirty(reduce *r, uint32_t g)
{
    group *gr = G(r, g);
    if (gr->flags & G_DIRTY)
        return;
    gr->flags |= G_DIRTY;
    if (r->ndirty == r->dcap) {
        r->dcap = r->dcap ? r->dcap * 2 : 1024;
        r->dirty = realloc(r->dirty, r->dcap * sizeof *r->dirty);
        ENG_ASSERT(r->dirty != NULL);
    }
    undo *u = &r->dirty[r->ndirty++];
    u->group = g;
    u->had = group_exists(r, gr);
    u->mult = u->had ? group_mult(r, gr) : 0;
    u->off = r->prevbuf.len;
    if (u->had)
        group_row(r, gr, &r->prevbuf);
    u->len = (uint32_t)(r->prevbuf.len - u->off);
}

/* Folds one update into its group (at the open time). */
static void
apply(reduce *r, eng_row row, uint64_t h, eng_row key, int64_t diff)
{
    uint32_t g = group_lookup(r, h, key, true);
    mark_dirty(r, g);
    group *gr = G(r, g);
    gr->count += diff;
    if (r->simple_count)
        return;
    const op_reduce_params *p = r->p;
    eng_row val = {row.data + key.len, row.len - key.len};
    uint32_t pos = 0, dstart = 0;
    int col = 0;
    eng_datum d = {0};
    for (int a = 0; a < p->naggs; a++) {
        const op_agg *ag = &p->aggs[a];
        if (ag->kind == OP_AGG_COUNT_STAR)
            continue;
        if (ag->col < col) { /* columns out of order: restart */
            pos = 0;
            col = 0;
        }
        while (col <= ag->col && pos < val.len) {
            dstart = pos;
            d = eng_row_next(val, &pos);
            col++;
        }
        ENG_ASSERT(col == ag->col + 1);
        if (d.tag == ENG_TAG_NULL)
            continue;
        uint8_t *acc = (uint8_t *)gr + r->acc_off[a];
        switch (ag->kind) {
        case OP_AGG_COUNT:
            *(int64_t *)acc += diff;
            break;
        case OP_AGG_SUM_INT:
        case OP_AGG_SUM_INT8:
        case OP_AGG_AVG_INT: {
            acc_int *ai = (acc_int *)acc;
            ai->sum += (__int128)op_datum_int(d) * diff;
            ai->nn += diff;
            break;
        }
        case OP_AGG_SUM_NUMERIC:
        case OP_AGG_AVG_NUMERIC: {
            acc_num *an = (acc_num *)acc;
            if (an->acc == NULL) {
                an->acc = malloc(sizeof *an->acc);
                ENG_ASSERT(an->acc != NULL);
                eng_numeric_acc_init(an->acc);
            }
            if (d.tag == ENG_TAG_NUMERIC) {
                eng_numeric v;
                eng_numeric_init(&v);
                eng_numeric_from_datum(d, &v);
                eng_numeric_acc_add(an->acc, &v, diff);
                eng_numeric_free(&v);
            } else {
                eng_numeric_acc_add_int64(an->acc, op_datum_int(d), diff);
            }
            break;
        }
        case OP_AGG_SUM_FLOAT:
        case OP_AGG_SUM_FLOAT4:
        case OP_AGG_AVG_FLOAT: {
            acc_float *af = (acc_float *)acc;
            af->sum += op_datum_float(d) * (double)diff;
            af->nn += diff;
            break;
        }
        case OP_AGG_BOOL_AND:
        case OP_AGG_BOOL_OR: {
            acc_bool *ab = (acc_bool *)acc;
            ab->ntrue += d.tag == ENG_TAG_TRUE ? diff : 0;
            ab->nn += diff;
            break;
        }
        default: { /* multiset aggregates */
            eng_rowbuf_reset(&r->tmp);
            eng_push_row(&r->tmp, key);
            eng_push_int2(&r->tmp, (int16_t)a);
            eng_row mk = eng_rowbuf_row(&r->tmp);
            eng_row dv = {val.data + dstart, pos - dstart};
            shard_arr_update(r->vals, eng_row_hash(mk), mk, dv, r->open_time, diff);
            break;
        }
        }
    }
}

static void
log_push(reduce *r, const undo *u, eng_time t)
{
    if (r->nlog == r->logcap) {
        r->logcap = r->logcap ? r->logcap * 2 : 1024;
        r->log = realloc(r->log, r->logcap * sizeof *r->log);
        ENG_ASSERT(r->log != NULL);
    }
    undo *l = &r->log[r->nlog++];
    *l = *u;
    l->time = t;
    l->off = r->logbuf.len;
    if (u->len)
        eng_rowbuf_append(&r->logbuf, r->prevbuf.data + u->off, (uint32_t)(u->len));
}

/* Errors in data follow the group's state: reported (+1) when the group
 * enters the bad state, retracted (-1) when it leaves it, so a read fails
 * exactly while some group is bad. */
static void
track_error(reduce *r, group *gr, uint32_t flag, bool bad, const char *sqlstate, const char *msg,
            eng_time t)
{
    bool was = (gr->flags & flag) != 0;
    if (was == bad)
        return;
    eng_err e;
    eng_err_clear(&e);
    eng_err_set(&e, sqlstate, "%s", msg);
    eng_op_error(&r->op, &e, t, bad ? 1 : -1);
    if (bad)
        gr->flags |= flag;
    else
        gr->flags &= ~flag;
}

/* Emits the changes of every dirty group at time t and logs their previous
 * rows for reads at earlier times. */
static void
emit_dirty(reduce *r, eng_time t)
{
    bool out = eng_op_has_output(&r->op);
    for (uint32_t i = 0; i < r->ndirty; i++) {
        if (i + 8 < r->ndirty)
            __builtin_prefetch(G(r, r->dirty[i + 8].group));
        undo *u = &r->dirty[i];
        group *gr = G(r, u->group);
        gr->flags &= ~G_DIRTY;
        track_error(r, gr, G_NEGATIVE, gr->count < 0 && r->p->mode != OP_REDUCE_THRESHOLD,
                    ENG_ERRCODE_INTERNAL_ERROR,
                    "a group's row count went negative: a row was retracted that was never "
                    "inserted",
                    t);
        bool now = group_exists(r, gr);
        eng_rowbuf_reset(&r->row);
        if (now)
            group_row(r, gr, &r->row);
        eng_row prev = {r->prevbuf.data + u->off, u->len};
        eng_row cur = eng_rowbuf_row(&r->row);
        bool overflow = false;
        for (int a = 0; now && a < r->p->naggs; a++) {
            if (r->p->aggs[a].kind == OP_AGG_SUM_INT) {
                const acc_int *ai = (const acc_int *)((const uint8_t *)gr + r->acc_off[a]);
                overflow |= ai->nn && (ai->sum > INT64_MAX || ai->sum < INT64_MIN);
            } else if (r->p->aggs[a].kind == OP_AGG_SUM_NUMERIC) {
                const acc_num *an = (const acc_num *)((const uint8_t *)gr + r->acc_off[a]);
                eng_numeric tmp;
                eng_numeric_init(&tmp);
                overflow |=
                    an->acc && an->acc->count && eng_numeric_acc_sum(an->acc, &tmp, NULL) != 0;
                eng_numeric_free(&tmp);
            }
        }
        track_error(r, gr, G_OVERFLOW, overflow, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                    "bigint out of range", t);
        int64_t mult = now ? group_mult(r, gr) : 0;
        if (u->had && now && u->mult == mult && eng_row_eq(prev, cur))
            continue;
        r->nlive += (uint64_t)now - (uint64_t)u->had;
        if (out) {
            eng_batch *ob = eng_op_out(&r->op);
            if (u->had)
                eng_batch_push(ob, prev, t, -u->mult);
            if (now)
                eng_batch_push(ob, cur, t, mult);
            if (ob->n >= ENG_BATCH_TARGET)
                eng_op_flush(&r->op);
        }
        log_push(r, u, t);
    }
    r->ndirty = 0;
    eng_rowbuf_reset(&r->prevbuf);
}

/* Two-stage software pipeline over the batch: hash and prefetch the index
 * slot DIST updates ahead, then (DIST/2 ahead) read that slot and prefetch
 * the group record it points at, so both dependent cache misses of a lookup
 * overlap with work on earlier updates. */
#define DIST 16
#define HALF (DIST / 2)

static inline void
prefetch_slot(reduce *r, uint64_t h)
{
    __builtin_prefetch(&r->index[(uint32_t)h & r->imask]);
}

static inline void
prefetch_group(reduce *r, uint64_t h)
{
    uint64_t e = r->index[(uint32_t)h & r->imask];
    if (e != 0 && (e & 0xffffffff00000000ull) == (h & 0xffffffff00000000ull))
        __builtin_prefetch(G(r, (uint32_t)(e & 0xffffffffu) - 1));
}

static void apply_row(reduce *r, eng_row row, int64_t diff);

/* Folds every update of b, all at time t (the open time), into its group. */
static void
fold_batch(reduce *r, const eng_batch *b, eng_time t)
{
    uint32_t n = b->n;
    r->open = true;
    r->open_time = t;
    /* The index may grow mid-batch (group_lookup): prefetches read it
     * through r->index each time, so they stay valid. */
    if (r->index == NULL)
        index_grow(r);
    uint64_t hs[DIST];
    uint32_t kl[DIST];
    int kn = r->p->key_ncols;
    for (uint32_t i = 0; i < n && i < DIST; i++) {
        eng_row key, val;
        op_split(eng_batch_row(b, i), kn, &key, &val);
        kl[i] = key.len;
        hs[i] = eng_row_hash(key);
        prefetch_slot(r, hs[i]);
    }
    for (uint32_t i = 0; i < n && i < HALF; i++)
        prefetch_group(r, hs[i]);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t slot = i % DIST;
        uint64_t h = hs[slot];
        eng_row row = eng_batch_row(b, i);
        eng_row key = {row.data, kl[slot]};
        int64_t diff = b->upd[i].diff;
        if (i + HALF < n)
            prefetch_group(r, hs[(i + HALF) % DIST]);
        uint32_t j = i + DIST;
        if (j < n) {
            eng_row kj, vj;
            op_split(eng_batch_row(b, j), kn, &kj, &vj);
            kl[slot] = kj.len;
            hs[slot] = eng_row_hash(kj);
            prefetch_slot(r, hs[slot]);
        }
        apply(r, row, h, key, diff);
    }
}

static void
reduce_input(eng_op *op, int port, const eng_batch *b)
{
    (void)port;
    reduce *r = (reduce *)op;
    bool all_now = true;
    for (uint32_t i = 0; i < b->n && all_now; i++)
        all_now = b->upd[i].time == r->frontier;
    if (all_now) {
        /* No update at an earlier time can still come: fold them in now. */
        fold_batch(r, b, r->frontier);
        return;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        eng_time t = b->upd[i].time;
        ENG_DASSERT(t >= r->frontier);
        if (t == r->frontier) {
            r->open = true;
            r->open_time = t;
            apply_row(r, eng_batch_row(b, i), b->upd[i].diff);
        } else {
            op_pending_push(&r->pending, eng_wctx_pool(op->w), eng_batch_row(b, i), t,
                            b->upd[i].diff);
        }
    }
}

static void
apply_row(reduce *r, eng_row row, int64_t diff)
{
    eng_row key, val;
    op_split(row, r->p->key_ncols, &key, &val);
    apply(r, row, eng_row_hash(key), key, diff);
}

static eng_time
reduce_frontier(eng_op *op, eng_time f)
{
    reduce *r = (reduce *)op;
    if (r->open) {
        emit_dirty(r, r->open_time);
        r->open = false;
    }
    /* Held updates, one time at a time; those at f can be folded in now. */
    eng_batch *pb;
    eng_time t;
    while ((pb = op_pending_pop(&r->pending, f, true, &t)) != NULL) {
        fold_batch(r, pb, t);
        eng_batch_put(eng_wctx_pool(op->w), pb);
        if (t < f) {
            emit_dirty(r, t);
            r->open = false;
        }
    }
    r->frontier = f;
    if (r->has_multiset) {
        /* The value multisets are read only at the open time: keep no history. */
        shard_arr_advance_upper(r->vals, f);
        shard_arr_advance_since(r->vals, f);
    }
    return f;
}

/* Finds the row group g had at time t: from the earliest logged or stashed
 * change after t, or its current row. Returns false if it had none. */
static bool
row_at(reduce *r, uint32_t g, eng_time t, eng_row *out, int64_t *mult)
{
    for (uint32_t i = r->loghead; i < r->nlog; i++) {
        const undo *u = &r->log[i];
        if (u->group == g && u->time > t) {
            *out = (eng_row){r->logbuf.data + u->off, u->len};
            *mult = u->mult;
            return u->had;
        }
    }
    if (G(r, g)->flags & G_DIRTY) {
        for (uint32_t i = 0; i < r->ndirty; i++) {
            const undo *u = &r->dirty[i];
            if (u->group == g) {
                *out = (eng_row){r->prevbuf.data + u->off, u->len};
                *mult = u->mult;
                return u->had;
            }
        }
    }
    const group *gr = G(r, g);
    if (!group_exists(r, gr))
        return false;
    eng_rowbuf_reset(&r->row);
    group_row(r, gr, &r->row);
    *out = eng_rowbuf_row(&r->row);
    *mult = group_mult(r, gr);
    return true;
}

static void
reduce_peek(eng_op *op, eng_time t, const eng_row *key, eng_batch *out)
{
    reduce *r = (reduce *)op;
    if (key != NULL) {
        /* A key that is a whole group key: look it up; a prefix: scan. */
        uint32_t g = group_lookup(r, eng_row_hash(*key), *key, false);
        if (g != UINT32_MAX) {
            eng_row row;
            int64_t mult;
            if (row_at(r, g, t, &row, &mult))
                eng_batch_push(out, row, t, mult);
            return;
        }
    }
    /* Groups with a change after t, and where their row at t is. */
    uint32_t first = r->loghead;
    while (first < r->nlog && r->log[first].time <= t)
        first++;
    uint32_t nov = (r->nlog - first) + r->ndirty;
    uint32_t cap = 16;
    while (cap < nov * 2)
        cap *= 2;
    uint64_t *ov = calloc(cap, sizeof *ov); /* (group + 1) << 32 | source index + 1 */
    ENG_ASSERT(ov != NULL);
    const undo **src = malloc((size_t)(nov ? nov : 1) * sizeof *src);
    ENG_ASSERT(src != NULL);
    const uint8_t **base = malloc((size_t)(nov ? nov : 1) * sizeof *base);
    ENG_ASSERT(base != NULL);
    uint32_t ns = 0;
    for (uint32_t i = first; i < r->nlog + r->ndirty; i++) {
        bool logged = i < r->nlog;
        const undo *u = logged ? &r->log[i] : &r->dirty[i - r->nlog];
        uint32_t s = (u->group * 0x9e3779b9u) & (cap - 1);
        bool seen = false;
        while (ov[s]) {
            if ((uint32_t)(ov[s] >> 32) == u->group + 1) {
                seen = true;
                break;
            }
            s = (s + 1) & (cap - 1);
        }
        if (seen)
            continue; /* an earlier change after t wins */
        src[ns] = u;
        base[ns] = logged ? r->logbuf.data : r->prevbuf.data;
        ov[s] = ((uint64_t)(u->group + 1) << 32) | (uint64_t)(ns + 1);
        ns++;
    }
    for (uint32_t g = 0; g < r->ngroups; g++) {
        const group *gr = G(r, g);
        if (key != NULL) {
            eng_row k = group_key(r, gr);
            if (k.len < key->len || memcmp(k.data, key->data, key->len) != 0)
                continue;
        }
        uint32_t s = (g * 0x9e3779b9u) & (cap - 1);
        const undo *u = NULL;
        const uint8_t *bs = NULL;
        while (ov[s]) {
            if ((uint32_t)(ov[s] >> 32) == g + 1) {
                uint32_t k = (uint32_t)ov[s] - 1;
                u = src[k];
                bs = base[k];
                break;
            }
            s = (s + 1) & (cap - 1);
        }
        if (u != NULL) {
            if (u->had)
                eng_batch_push(out, (eng_row){bs + u->off, u->len}, t, u->mult);
        } else if (group_exists(r, gr)) {
            eng_rowbuf_reset(&r->row);
            group_row(r, gr, &r->row);
            eng_batch_push(out, eng_rowbuf_row(&r->row), t, group_mult(r, gr));
        }
    }
    free(ov);
    free(src);
    free(base);
}

static void free_heap_accs(reduce *r, group *gr);

/* Shrinks a buffer whose capacity far exceeds its use (after a burst). */
static void
shrink_rowbuf(eng_rowbuf *b)
{
    if (b->cap > 65536 && b->len < b->cap / 4) {
        uint32_t cap = b->cap / 2;
        uint8_t *d = realloc(b->data, cap);
        ENG_ASSERT(d != NULL);
        b->data = d;
        b->cap = cap;
    }
}

static void
shrink_undo(undo **v, uint32_t n, uint32_t *cap)
{
    if (*cap > 4096 && n < *cap / 4) {
        *cap /= 2;
        undo *d = realloc(*v, *cap * sizeof **v);
        ENG_ASSERT(d != NULL);
        *v = d;
    }
}

/* Drops groups that have no row, are not changing now and that no read can
 * still need (no undo entry names them), when they are a quarter of all:
 * rebuilds the group array, long-key arena and index, and renumbers the
 * undo entries. O(groups); amortised over at least ngroups/4 deaths. */
static void
gc_groups(reduce *r)
{
    uint32_t n = r->ngroups;
    uint32_t *map = malloc((size_t)n * sizeof *map);
    ENG_ASSERT(map != NULL);
    for (uint32_t g = 0; g < n; g++)
        map[g] = 0;
    for (uint32_t i = r->loghead; i < r->nlog; i++)
        map[r->log[i].group] = 1;
    for (uint32_t i = 0; i < r->ndirty; i++)
        map[r->dirty[i].group] = 1;
    eng_rowbuf keys = {0};
    uint32_t k = 0;
    for (uint32_t g = 0; g < n; g++) {
        group *gr = G(r, g);
        bool keep = map[g] || group_exists(r, gr) || gr->count != 0 ||
                    (gr->flags & (G_DIRTY | G_OVERFLOW | G_NEGATIVE));
        if (!keep) {
            if (r->has_heap_acc)
                free_heap_accs(r, gr);
            map[g] = UINT32_MAX;
            continue;
        }
        if (gr->key_len > KEY_INLINE) {
            uint64_t off = keys.len;
            eng_rowbuf_append(&keys, r->keys.data + gr->key.off, (uint32_t)(gr->key_len));
            gr->key.off = off;
        }
        if (k != g)
            memcpy(G(r, k), gr, r->stride);
        map[g] = k++;
    }
    for (uint32_t i = r->loghead; i < r->nlog; i++)
        r->log[i].group = map[r->log[i].group];
    for (uint32_t i = 0; i < r->ndirty; i++)
        r->dirty[i].group = map[r->dirty[i].group];
    free(map);
    eng_rowbuf_free(&r->keys);
    r->keys = keys;
    r->ngroups = k;
    uint32_t gcap = k + k / 4 > 1024 ? k + k / 4 : 1024; /* room to grow a little */
    if (gcap < r->gcap) {
        uint8_t *gs = realloc(r->groups, (size_t)gcap * r->stride);
        ENG_ASSERT(gs != NULL);
        r->groups = gs;
        r->gcap = gcap;
    }
    uint32_t cap = 1024;
    while ((uint64_t)r->ngroups * 4 > (uint64_t)cap * 3)
        cap *= 2;
    index_rebuild(r, cap);
    r->dead_after_gc = r->ngroups - (uint32_t)r->nlive;
}

static void
reduce_compact(eng_op *op, eng_time since)
{
    reduce *r = (reduce *)op;
    while (r->loghead < r->nlog && r->log[r->loghead].time <= since)
        r->loghead++;
    if (r->loghead == r->nlog) {
        r->loghead = r->nlog = 0;
        eng_rowbuf_reset(&r->logbuf);
    } else if (r->loghead > r->nlog / 2 && r->loghead > 1024) {
        uint64_t base = r->log[r->loghead].off;
        uint32_t keep = r->nlog - r->loghead;
        memmove(r->log, r->log + r->loghead, keep * sizeof *r->log);
        for (uint32_t i = 0; i < keep; i++)
            r->log[i].off -= base;
        memmove(r->logbuf.data, r->logbuf.data + base, r->logbuf.len - base);
        r->logbuf.len -= (uint32_t)base;
        r->nlog = keep;
        r->loghead = 0;
    }
    shrink_undo(&r->log, r->nlog, &r->logcap);
    shrink_rowbuf(&r->logbuf);
    shrink_undo(&r->dirty, r->ndirty, &r->dcap);
    shrink_rowbuf(&r->prevbuf);
    /* Rebuild once dead groups (beyond those the last rebuild had to keep)
     * are a quarter of all: amortised O(1) per death. */
    uint32_t min = r->p->gc_min_groups ? r->p->gc_min_groups : 4096;
    uint64_t dead = r->ngroups - r->nlive;
    if (r->ngroups > min && dead > r->dead_after_gc && (dead - r->dead_after_gc) * 4 > r->ngroups)
        gc_groups(r);
}

static size_t
reduce_memory(const eng_op *op)
{
    const reduce *r = (const reduce *)op;
    size_t m = (size_t)r->gcap * r->stride + (r->index ? (size_t)(r->imask + 1) * 8 : 0) +
               r->keys.cap + r->prevbuf.cap + r->logbuf.cap + (size_t)r->logcap * sizeof(undo) +
               (size_t)r->dcap * sizeof(undo);
    if (r->has_multiset) {
        shard_arr_stats st;
        shard_arr_stats_get(r->vals, &st);
        m += st.bytes;
    }
    return m;
}

static size_t
reduce_records(const eng_op *op)
{
    return ((const reduce *)op)->nlive;
}

static void
free_heap_accs(reduce *r, group *gr)
{
    for (int a = 0; a < r->p->naggs; a++) {
        op_agg_kind k = r->p->aggs[a].kind;
        if (k != OP_AGG_SUM_NUMERIC && k != OP_AGG_AVG_NUMERIC)
            continue;
        acc_num *an = (acc_num *)((uint8_t *)gr + r->acc_off[a]);
        if (an->acc) {
            eng_numeric_acc_free(an->acc);
            free(an->acc);
            an->acc = NULL;
        }
    }
}

static void
reduce_destroy(eng_op *op)
{
    reduce *r = (reduce *)op;
    if (r->has_heap_acc)
        for (uint32_t g = 0; g < r->ngroups; g++)
            free_heap_accs(r, G(r, g));
    free(r->acc_off);
    free(r->groups);
    free(r->index);
    free(r->dirty);
    free(r->log);
    eng_rowbuf_free(&r->keys);
    eng_rowbuf_free(&r->prevbuf);
    eng_rowbuf_free(&r->logbuf);
    eng_rowbuf_free(&r->row);
    eng_rowbuf_free(&r->tmp);
    eng_rowbuf_free(&r->agg);
    free(r->sv);
    op_pending_free(&r->pending);
    if (r->vals)
        shard_arr_free(r->vals);
    shard_arr_cursor_fini(&r->cur);
    free(r);
}

static const eng_op_vt reduce_vt = {
    .name = "reduce",
    .input = reduce_input,
    .frontier = reduce_frontier,
    .destroy = reduce_destroy,
    .memory = reduce_memory,
    .records = reduce_records,
    .peek = reduce_peek,
    .compact = reduce_compact,
};

eng_op *
op_reduce_make(const void *params, eng_wctx *w)
{
    const op_reduce_params *p = params;
    reduce *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->op.vt = &reduce_vt;
    r->p = p;
    r->acc_off = calloc((size_t)(p->naggs ? p->naggs : 1), sizeof *r->acc_off);
    ENG_ASSERT(r->acc_off != NULL);
    size_t off = sizeof(group), align = 8;
    r->simple_count = true;
    for (int a = 0; a < p->naggs; a++) {
        size_t sz = 0, al = 8;
        switch (p->aggs[a].kind) {
        case OP_AGG_COUNT:
            sz = 8;
            break;
        case OP_AGG_SUM_INT:
        case OP_AGG_SUM_INT8:
        case OP_AGG_AVG_INT:
            sz = sizeof(acc_int);
            al = 16;
            break;
        case OP_AGG_SUM_FLOAT:
        case OP_AGG_SUM_FLOAT4:
        case OP_AGG_AVG_FLOAT:
            sz = sizeof(acc_float);
            break;
        case OP_AGG_SUM_NUMERIC:
        case OP_AGG_AVG_NUMERIC:
            sz = sizeof(acc_num);
            r->has_heap_acc = true;
            break;
        case OP_AGG_BOOL_AND:
        case OP_AGG_BOOL_OR:
            sz = sizeof(acc_bool);
            break;
        case OP_AGG_COUNT_STAR:
            break;
        default:
            r->has_multiset = true;
            break;
        }
        if (p->aggs[a].kind != OP_AGG_COUNT_STAR)
            r->simple_count = false;
        if (sz) {
            off = (off + al - 1) & ~(al - 1);
            r->acc_off[a] = off;
            off += sz;
            if (al > align)
                align = al;
        }
    }
    r->stride = (off + align - 1) & ~(align - 1);
    if (r->has_multiset)
        r->vals = shard_arr_new();
    shard_arr_cursor_init(&r->cur);
    if (p->global && eng_wctx_index(w) == 0) {
        /* The global group exists from time 0 on worker 0 (key_ncols = 0
         * routes everything there): emitted when the frontier passes 0. */
        uint32_t g = group_lookup(r, eng_row_hash((eng_row){(const uint8_t *)"", 0}),
                                  (eng_row){(const uint8_t *)"", 0}, true);
        r->open = true;
        r->open_time = 0;
        group *gr = G(r, g);
        gr->flags |= G_DIRTY;
        r->dirty = calloc(1024, sizeof *r->dirty);
        r->dcap = 1024;
        r->dirty[0] = (undo){.group = g, .had = 0, .off = 0, .len = 0};
        r->ndirty = 1;
    }
    return &r->op;
}
