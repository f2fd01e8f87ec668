/* The planner's intermediate representation: typed relational expressions
 * over scalar expressions, between the binder (SQL parse tree -> IR) and
 * the renderer (IR -> dataflow plan).
 *
 * Notes:
 * - A relation (eng_rel) is a tree of operators, each producing a
 *   multiset of rows of `ncols` typed columns. Columns are referred to by
 *   index into the input's columns, never by name: the binder resolves
 *   names. Every node owns its children, its arrays and its expressions;
 *   eng_rel_free frees a whole tree.
 * - Scalar expressions (eng_sx) mirror op_expr.h's builder (columns,
 *   literals, calls of op_fn, casts, CASE, external functions), but stay
 *   inspectable so the optimiser can rewrite them (remap columns, fold
 *   constants, push predicates). eng_sx_lower turns one into an op_expr
 *   tree for compilation. Each node carries its result type, filled by
 *   eng_sx_typecheck.
 * - The IR is relational algebra with multiset semantics (as differential
 *   dataflow's collections): JOIN is an equi-join on column pairs (inner,
 *   left, right, full; cross with no pairs); REDUCE groups by a prefix of
 *   key columns; TOPK keeps per group the rows ranked [offset,
 *   offset+limit); WINDOW appends row_number/rank/dense_rank/lag/lead
 *   per partition; DISTINCT, UNION (all), NEGATE and THRESHOLD build the
 *   set operators (UNION = DISTINCT(UNION ALL); EXCEPT ALL =
 *   THRESHOLD(A UNION ALL NEGATE B); INTERSECT ALL = A EXCEPT ALL (A EXCEPT
 *   ALL B); ...).
 * - Builders never fail (abort on allocation failure). */
#ifndef ENG_IR_H
#define ENG_IR_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/eng_err.h"
#include "engine/core/eng_row.h"
#include "engine/core/eng_strbuf.h"
#include "engine/core/eng_type.h"
#include "operators/op_expr.h"
#include "operators/op_join.h"
#include "operators/op_reduce.h"
#include "operators/op_topk.h"
#include "operators/op_window.h"

/* ------------------------------------------------------------------ scalars */

typedef enum eng_sx_kind {
    ENG_SX_COL,  /* input column `col` */
    ENG_SX_LIT,  /* a literal: one datum in `lit` */
    ENG_SX_CALL, /* fn(args) */
    ENG_SX_CAST, /* CAST(args[0] AS cast_to) */
    ENG_SX_CASE, /* CASE: args = [operand?] when0, then0, when1, then1, ... [else?] */
    ENG_SX_EXT,  /* ext_name(args) through ext_fn */
} eng_sx_kind;

typedef struct eng_sx eng_sx;
struct eng_sx {
    eng_sx_kind kind;
    eng_type type; /* result type (typmod kept for casts and literals) */
    int col;       /* COL */
    eng_row lit;   /* LIT: points into litbuf */
    uint8_t *litbuf;
    op_fn fn;                     /* CALL */
    eng_type cast_to;             /* CAST */
    op_cast_fn cast_fn;           /* CAST: NULL = the type library's */
    bool case_operand, case_else; /* CASE layout */
    const char *ext_name;         /* EXT (a string literal) */
    op_ext_fn ext_fn;             /* EXT */
    bool ext_strict;              /* EXT */
    int nargs;
    eng_sx **args;
};

eng_sx *eng_sx_col(int col, eng_type type);
/* Literal: copies the first datum of r; type as given (NULL: pass a NULL
 * datum row and the type, ENG_TYPE_UNKNOWN for an untyped NULL). */
eng_sx *eng_sx_lit(eng_row r, eng_type type);
eng_sx *eng_sx_bool(bool v);
eng_sx *eng_sx_int8(int64_t v);
eng_sx *eng_sx_null(eng_type type);
/* Takes ownership of args[0..n) (not of the array). */
eng_sx *eng_sx_call(op_fn fn, int n, eng_sx *const *args);
eng_sx *eng_sx_call1(op_fn fn, eng_sx *a);
eng_sx *eng_sx_call2(op_fn fn, eng_sx *a, eng_sx *b);
eng_sx *eng_sx_cast(eng_sx *arg, eng_type to);
/* CASE [operand] WHEN w THEN t ... [ELSE e] END; operand/els may be NULL. */
eng_sx *eng_sx_case(eng_sx *operand, int n, eng_sx *const *whens, eng_sx *const *thens,
                    eng_sx *els);
eng_sx *eng_sx_ext(const char *name, op_ext_fn fn, eng_type result, bool strict, int n,
                   eng_sx *const *args);

eng_sx *eng_sx_copy(const eng_sx *e);
void eng_sx_free(eng_sx *e);

/* Fills the type of every node of e (and inserts nothing: implicit casts
 * are op_expr_compile's business) for input columns of types[0..ncols).
 * Returns 0, or -1 with err set (op_expr_compile's errors). */
int eng_sx_typecheck(eng_sx *e, int ncols, const eng_type *types, eng_err *err);

/* A new op_expr tree computing e (e is unchanged). */
op_expr *eng_sx_lower(const eng_sx *e);

/* Rewrites every column reference c to map[c] (map[c] < 0 is a bug). */
void eng_sx_remap(eng_sx *e, const int *map);
/* Adds delta to every column reference. */
void eng_sx_shift(eng_sx *e, int delta);
/* Largest column referenced, -1 if none. */
int eng_sx_max_col(const eng_sx *e);
/* Whether column c is referenced. */
bool eng_sx_uses(const eng_sx *e, int c);
/* No column references (a constant expression, foldable). */
bool eng_sx_is_const(const eng_sx *e);
/* Deterministic text form for EXPLAIN and tests ("#0 + 1", "'a'::text"). */
void eng_sx_explain(const eng_sx *e, eng_strbuf *out);

/* ------------------------------------------------------------------ relations */

typedef enum eng_rel_kind {
    ENG_REL_GET,       /* a catalog collection (table, MV, source...) by id */
    ENG_REL_CONST,     /* literal rows with multiplicities */
    ENG_REL_MAP,       /* input columns ++ exprs (an expr may read earlier ones) */
    ENG_REL_FILTER,    /* rows where every pred is TRUE */
    ENG_REL_PROJECT,   /* output column i = input column cols[i] */
    ENG_REL_JOIN,      /* in[0] ++ in[1] columns, equi-joined on key pairs */
    ENG_REL_REDUCE,    /* group by key columns, then aggregates */
    ENG_REL_TOPK,      /* per group, rows ranked [offset, offset + limit) */
    ENG_REL_DISTINCT,  /* each distinct row once */
    ENG_REL_UNION,     /* UNION ALL of nin inputs (same column types) */
    ENG_REL_NEGATE,    /* every multiplicity negated */
    ENG_REL_THRESHOLD, /* multiplicity max(m, 0) */
    ENG_REL_WINDOW,    /* input columns ++ one column per window function */
} eng_rel_kind;

/* One aggregate of a REDUCE. */
typedef struct eng_agg {
    op_agg_kind kind; /* chosen by the binder from the function and arg type */
    int col;          /* input column it reads (-1 for count(*)) */
    char *sep;        /* string_agg separator (owned), NULL otherwise */
} eng_agg;

/* One window function of a WINDOW (semantics: op_window.h). */
typedef struct eng_win {
    op_window_kind kind;
    int col;        /* LAG/LEAD: input column read (ignored by the ranking kinds) */
    int64_t offset; /* LAG/LEAD: rows back/ahead (1 by default; negative looks the other way) */
    eng_row dflt;   /* LAG/LEAD: one datum of the column's type, or a NULL datum
                       (SQL NULL). In a node: owned bytes, freed with the node;
                       given to the constructor: borrowed and copied; len 0 = NULL */
} eng_win;

typedef struct eng_rel eng_rel;
struct eng_rel {
    eng_rel_kind kind;
    int ncols;
    eng_type *types; /* ncols output column types (owned) */
    int nin;
    eng_rel **in; /* inputs (owned) */

    /* GET */
    uint64_t get_id;
    char *get_name; /* for EXPLAIN (owned) */

    /* CONST: nrows rows (each ncols datums) with multiplicities */
    int nrows;
    eng_row *rows; /* point into rowbuf */
    int64_t *diffs;
    uint8_t *rowbuf;

    /* MAP (nexprs appended columns), FILTER (nexprs predicates) */
    int nexprs;
    eng_sx **exprs;

    /* PROJECT: ncols entries */
    int *cols;

    /* JOIN: in[0] left, in[1] right; nkeys pairs lkeys[i] = rkeys[i] */
    op_join_kind join_kind;
    int nkeys;
    int *lkeys, *rkeys;

    /* REDUCE: output = key columns ++ aggregates. TOPK: output = input. */
    int ngroup;
    int *group; /* input columns forming the key */
    int naggs;
    eng_agg *aggs;
    bool global; /* REDUCE without GROUP BY: one row even over no input */

    /* TOPK, WINDOW */
    int norder;
    op_order *order; /* col = input column */
    int64_t limit;   /* < 0: none */
    int64_t offset;

    /* WINDOW: partitions by part[0..npart) (input columns), orders them by
     * order[], output = input columns ++ one column per wins[i] */
    int npart;
    int *part;
    int nwin;
    eng_win *wins;
};

/* Constructors: take ownership of inputs (child relations, expressions)
 * and of the non-const arrays passed (MAP/FILTER's exprs, UNION's ins:
 * they must come from malloc); const arrays (types, rows, cols, keys,
 * group, aggs with their separators, order) are copied, the caller keeps
 * its own. Types are computed (MAP by typechecking its exprs over input
 * columns ++ earlier exprs: returns NULL with err set on a type error,
 * having freed in and exprs). FILTER does not typecheck (the renderer
 * does: 42804 for a non-boolean predicate). */
eng_rel *eng_rel_get(uint64_t id, const char *name, int ncols, const eng_type *types);
eng_rel *eng_rel_const(int ncols, const eng_type *types, int nrows, const eng_row *rows,
                       const int64_t *diffs);
eng_rel *eng_rel_map(eng_rel *in, int n, eng_sx **exprs, eng_err *err);
eng_rel *eng_rel_filter(eng_rel *in, int n, eng_sx **preds);
eng_rel *eng_rel_project(eng_rel *in, int n, const int *cols);
eng_rel *eng_rel_join(op_join_kind kind, eng_rel *l, eng_rel *r, int nkeys, const int *lkeys,
                      const int *rkeys);
/* Aggregate result types follow op_reduce.h. */
eng_rel *eng_rel_reduce(eng_rel *in, int ngroup, const int *group, int naggs, const eng_agg *aggs,
                        bool global);
eng_rel *eng_rel_topk(eng_rel *in, int ngroup, const int *group, int norder, const op_order *order,
                      int64_t limit, int64_t offset);
/* Window functions over PARTITION BY part ORDER BY order: output = input
 * columns ++ one column per function (row_number/rank/dense_rank: int8;
 * lag/lead: the type of input column col). Copies part, order and wins
 * (default datums included); takes ownership of in. Column indexes and
 * defaults are checked by the renderer (42703, 42804), not here. */
eng_rel *eng_rel_window(eng_rel *in, int npart, const int *part, int norder, const op_order *order,
                        int nwin, const eng_win *wins);
eng_rel *eng_rel_distinct(eng_rel *in);
eng_rel *eng_rel_union(int n, eng_rel **ins);
eng_rel *eng_rel_negate(eng_rel *in);
eng_rel *eng_rel_threshold(eng_rel *in);

/* The result type of window function w over input columns types[0..ncols). */
eng_type eng_win_type(const eng_win *w, int ncols, const eng_type *types);

/* The result type of aggregate kind over a column of type t. */
eng_type eng_agg_type(op_agg_kind kind, eng_type t);

eng_rel *eng_rel_copy(const eng_rel *r);
void eng_rel_free(eng_rel *r);

/* Indented text form for EXPLAIN and tests, one operator per line. */
void eng_rel_explain(const eng_rel *r, eng_strbuf *out);

#endif
