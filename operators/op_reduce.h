/* reduce: GROUP BY with aggregates.
 *
 * Input: keyed rows (key_ncols group-key datums, then value datums),
 * exchanged by the group key. Output: rows (group key datums, one datum
 * per aggregate), as retractions of the old row and insertions of the new
 * one at the time the group changed. The output is also kept arranged by
 * group key, so the node is peekable.
 *
 * State per group: its row count and one accumulator per accumulable
 * aggregate (count, sum, avg, bool_and/or: running sums, so a retraction
 * is a subtraction); the non-accumulable ones (min, max, count(distinct),
 * string_agg) keep the group's multiset of values so retractions work.
 * Result types follow PostgreSQL: sum(int2/int4) int8, sum(int8) numeric,
 * sum(numeric) numeric, sum(float4) float4, sum(float8) float8, avg of
 * integers and numerics numeric (sum / count at PostgreSQL's division
 * scale), avg of floats float8.
 *
 * Progress: updates at the input frontier are folded into the groups as
 * they arrive; later ones wait in a buffer. When the frontier passes t,
 * every group changed at t emits its new row (a group emits only if its
 * row changed). Output frontier = input frontier.
 *
 * Modes DISTINCT and THRESHOLD (no aggregates; key = the whole row) are the
 * set operators' building blocks: distinct(x), and max(count, 0).
 *
 * With `global` set (an aggregate without GROUP BY, key_ncols = 0), the
 * group exists even when empty, as SQL wants: count 0, other aggregates
 * NULL. */
#ifndef OP_REDUCE_H
#define OP_REDUCE_H

#include <stdbool.h>

#include "engine/runtime/eng_dataflow.h"

typedef enum op_agg_kind {
    OP_AGG_COUNT_STAR = 0, /* count(*): int8 */
    OP_AGG_COUNT,          /* count(x): int8, non-NULL values */
    OP_AGG_SUM_INT,        /* sum(int2/int4): exact, int8 result (22003 past int8) */
    OP_AGG_SUM_FLOAT,      /* sum(float8): float8 */
    OP_AGG_AVG_INT,        /* avg(int2/int4/int8): exact sum / count, numeric result */
    OP_AGG_AVG_FLOAT,      /* avg(float4/float8): float8 */
    OP_AGG_BOOL_AND,
    OP_AGG_BOOL_OR,
    OP_AGG_MIN,
    OP_AGG_MAX,
    OP_AGG_COUNT_DISTINCT, /* count(DISTINCT x): int8 */
    OP_AGG_STRING_AGG,     /* string_agg(x, sep) over text, in value byte order */
    OP_AGG_SUM_INT8,       /* sum(int8): exact, numeric result (as PostgreSQL) */
    OP_AGG_SUM_FLOAT4,     /* sum(float4): float4 */
    OP_AGG_SUM_NUMERIC,    /* sum(numeric): numeric */
    OP_AGG_AVG_NUMERIC,    /* avg(numeric): numeric */
} op_agg_kind;

typedef struct op_agg {
    op_agg_kind kind;
    int col;         /* value column (0-based, after the key) the aggregate reads */
    const char *sep; /* string_agg separator (borrowed from the params) */
} op_agg;

typedef enum op_reduce_mode {
    OP_REDUCE_GROUP = 0, /* one row per group: key ++ aggregates */
    OP_REDUCE_DISTINCT,  /* the key row once if its count > 0 (DISTINCT, UNION) */
    OP_REDUCE_THRESHOLD, /* the key row with multiplicity max(count, 0) (EXCEPT ALL...) */
} op_reduce_mode;

/* The key of DISTINCT / THRESHOLD: the whole row. */
#define OP_KEY_ALL 0x7fff

typedef struct op_reduce_params {
    int key_ncols; /* OP_KEY_ALL: the whole row */
    op_reduce_mode mode;
    bool global;
    uint32_t gc_min_groups; /* drop dead groups only past this many (0: 4096); tests set 1 */
    int naggs;
    op_agg aggs[]; /* naggs entries */
} op_reduce_params;

/* Allocates params for n aggregates (free with free()). */
op_reduce_params *op_reduce_params_new(int key_ncols, int naggs);

eng_op *op_reduce_make(const void *params, eng_wctx *w);

#endif
