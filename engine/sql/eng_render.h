/* The renderer: compiles an IR relation (eng_ir.h) into dataflow plan
 * nodes (eng_dataflow.h) built from the operators in operators/.
 *
 * Notes:
 * - Collections (GET) are read from arrangements other dataflows maintain
 *   (shared arrangements, op_import.h). The catalog describes them through
 *   a lookup callback. An arrangement's rows follow one of two layouts:
 *     key_is_row: the rows are exactly the collection's columns (the key is
 *                 the whole row);
 *     keyed:      key columns keycols[0..nkey) of the collection, rows =
 *                 key values ++ all the collection's columns (so a value
 *                 always carries the whole row).
 *   The renderer's own output arrangement (eng_render_opts) uses the same
 *   layouts, so a rendered view can be registered as a collection.
 * - Every import of one dataflow shares one as_of: the largest readable
 *   time over the sources. The renderer holds every source at that time
 *   until eng_render_start (or eng_render_result_free) releases it.
 * - Constants are fed into input nodes at the as_of after install, then
 *   their inputs are closed (advanced to ENG_TIME_MAX).
 * - MAP/FILTER/PROJECT chains become one op_mfp each (a predicate runs as
 *   soon as the columns it reads exist, as op_mfp.h says: a map on a row
 *   that a later filter drops is not evaluated). JOIN arranges both sides
 *   keyed by the join key (exchange on it) unless one side of an inner
 *   join is a GET with an arrangement keyed by exactly the join columns,
 *   which the join then reads in place (op_join shared_side).
 * - Errors are eng_err values: 0A000 for what the renderer does not
 *   support, 42804 for type mismatches (join keys, union inputs,
 *   aggregate arguments), op_expr_compile's errors for expressions, 42P01
 *   (or whatever the lookup reports) for unknown collections. No assert
 *   fires on planner input.
 * - Threading: eng_render and eng_render_start run on the thread that owns
 *   the client (eng_rt.h). */
#ifndef ENG_RENDER_H
#define ENG_RENDER_H

#include <stdbool.h>

#include "engine/runtime/eng_rt.h"
#include "engine/sql/eng_ir.h"

/* One arrangement of a collection, as the catalog keeps it. */
typedef struct eng_render_arr {
    eng_df *df;         /* the dataflow maintaining it (borrowed) */
    int node;           /* its arrange node (op_arrange) in df */
    bool key_is_row;    /* rows = the collection's columns */
    int nkey;           /* else: key columns of the collection ... */
    const int *keycols; /* ... keycols[0..nkey) (borrowed); rows = key ++ all columns */
} eng_render_arr;

/* The catalog's answer for collection id: *out = its arrangements
 * (borrowed until eng_render returns), returns their count (>= 0), or -1
 * with err set (e.g. 42P01 for an unknown id). */
typedef int (*eng_render_lookup_fn)(void *ctx, uint64_t id, const eng_render_arr **out,
                                    eng_err *err);

typedef struct eng_render_env {
    eng_client *client; /* for reading sources' frontiers and holding them */
    eng_render_lookup_fn lookup;
    void *ctx;
} eng_render_env;

typedef enum eng_render_arrange {
    ENG_RENDER_NO_ARRANGE = 0, /* output stream only */
    ENG_RENDER_ARRANGE_ROW,    /* arranged, key = the whole row (key_is_row layout) */
    ENG_RENDER_ARRANGE_KEYS,   /* arranged by keycols (rows = key values ++ all columns) */
} eng_render_arrange;

typedef struct eng_render_opts {
    eng_render_arrange arrange;
    int nkey;
    const int *keycols; /* borrowed for the call */
} eng_render_opts;

typedef struct eng_render_import eng_render_import;
typedef struct eng_render_const eng_render_const;

/* What eng_render built and what must happen after eng_df_install. */
typedef struct eng_render_result {
    int output;       /* node whose output stream is the relation's rows */
    int arrange;      /* the peekable arrange node (opts), or -1 */
    eng_time as_of;   /* the dataflow's first readable time */
    int shared_joins; /* joins reading a source's arrangement in place */
    /* private to render.c */
    int nimports;
    eng_render_import *imports;
    int nconsts;
    eng_render_const *consts;
    bool started;
} eng_render_result;

/* Adds the nodes computing rel to plan (rel and env borrowed for the call;
 * opts may be NULL) and sets the plan's as_of. On success fills *out (free
 * with eng_render_result_free) and holds the sources at out->as_of. Returns
 * 0, or -1 with err set; the plan may then hold partial nodes and must be
 * freed by the caller (eng_plan_free); no hold is left behind. */
int eng_render(const eng_rel *rel, const eng_render_env *env, const eng_render_opts *opts,
               eng_plan *plan, eng_render_result *out, eng_err *err);

/* After eng_df_install(c, plan) returned df: feeds the constants at
 * as_of and closes their inputs, then waits until every import is
 * attached and releases the holds on the sources (op_import_ready). Call
 * once. May block until the sources are readable at as_of. */
void eng_render_start(eng_render_result *res, eng_client *c, eng_df *df);

/* Frees res's memory; releases the sources' holds if eng_render_start was
 * not called (the plan was never installed). */
void eng_render_result_free(eng_render_result *res);

#endif
