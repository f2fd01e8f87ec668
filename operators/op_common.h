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

/* A growable array of pending updates kept by operators that must wait for
 * their input frontier: rows copied into an owned batch. */
typedef struct op_pending {
    eng_batch *b;
    eng_time min_time; /* smallest time held, ENG_TIME_MAX if empty */
} op_pending;

/* Type-aware order of two non-NULL datums as PostgreSQL sorts them (ints by
 * value, floats with NaN greatest, dates/times by value, text and bytes
 * bytewise, i.e. C collation). Numerics compare by their canonical bytes
 * until the numeric library is wired in. Different tags order by tag. */
int op_datum_cmp(eng_datum a, eng_datum b);

/* Integer and float value of a datum (0 for other tags). */
int64_t op_datum_int(eng_datum d);
double op_datum_float(eng_datum d);

#endif
