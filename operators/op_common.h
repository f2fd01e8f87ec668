/* Shared conventions for operators.
 *
 * Keyed rows: an operator that works by key (arrange, reduce, join, top-k,
 * distinct) receives rows whose first `key_ncols` datums are the key and
 * the rest the value; its input edge exchanges on the same key_ncols, so
 * each worker sees whole keys. The key and value are slices of the row:
 * no copy. */
#ifndef OP_COMMON_H
#define OP_COMMON_H

#include "engine/core/eng_row.h"
#include "engine/runtime/eng_dataflow.h"

/* Splits r into key (first key_ncols datums) and value (the rest). */
static inline void
op_split(eng_row r, int key_ncols, eng_row *key, eng_row *val)
{
    uint32_t k = 0;
    for (int i = 0; i < key_ncols && k < r.len; i++)
        k += eng_datum_size_at(r.data + k);
    key->data = r.data;
    key->len = k;
    val->data = r.data + k;
    val->len = r.len - k;
}

/* Updates an operator holds until its input frontier passes their time,
 * bucketed by time (one batch per distinct time, buckets in time order), so
 * releasing them needs no sort and each bucket is folded in as one batch. */
typedef struct op_pending_bucket {
    eng_time time;
    eng_batch *b;
} op_pending_bucket;

typedef struct op_pending {
    op_pending_bucket *v;
    uint32_t n, cap;
} op_pending;

/* Appends (row, t, diff) to t's bucket (rows copied). */
void op_pending_push(op_pending *p, eng_batch_pool *pool, eng_row row, eng_time t, int64_t diff);

/* The oldest bucket if its time is < f (or <= f with inclusive), removed
 * from p; NULL otherwise. The caller owns the batch (return it to a pool). */
eng_batch *op_pending_pop(op_pending *p, eng_time f, bool inclusive, eng_time *t);

void op_pending_free(op_pending *p);

/* Type-aware order of two non-NULL datums as PostgreSQL sorts them
 * (engine/core/eng_cmp.h: ints across widths and numerics by value, floats
 * with NaN greatest, text bytewise, i.e. C collation). */
int op_datum_cmp(eng_datum a, eng_datum b);

/* Integer and float value of a datum (0 for other tags). */
int64_t op_datum_int(eng_datum d);
double op_datum_float(eng_datum d);

#endif
