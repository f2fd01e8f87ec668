/* The binder's internals, shared by bind.c (queries) and bind_expr.c
 * (scalar expressions). */
#ifndef ENG_BIND_INT_H
#define ENG_BIND_INT_H

#include "engine/sql/eng_bind.h"

/* One column of a FROM scope: scope column i is relation column i. */
typedef struct bcol {
    char *rel;  /* table name or alias that qualifies it (NULL: none) */
    char *name; /* column name (NULL: unnamed, not referable) */
    eng_type type;
    bool star;    /* included in SELECT * */
    int star_pos; /* order in SELECT * (USING columns first) */
    bool hidden;  /* not found by unqualified names (a USING column's side copies) */
} bcol;

typedef struct bscope {
    int n;
    bcol *cols;
} bscope;

/* A registered aggregate call while binding a grouped query. */
typedef struct bagg {
    op_agg_kind kind;
    eng_sx *arg; /* over the FROM scope (NULL: count(*)) */
    char *sep;
    eng_type type; /* result type */
    const json_t *node;
    bool distinct; /* sum/avg/string_agg(DISTINCT x): over distinct values */
} bagg;

typedef struct bagg_state {
    int nfrom; /* columns of the FROM scope; aggregate k is column nfrom + k */
    int n, cap;
    bagg *aggs;
    eng_type *types; /* nfrom + n column types for typechecking */
    bool in_agg;     /* binding an aggregate's argument (nesting is an error) */
} bagg_state;

/* A registered window function while binding a select list. */
typedef struct bwin_fn {
    op_window_kind kind;
    int npart, norder;
    eng_sx **part;  /* over the FROM scope */
    eng_sx **order; /* over the FROM scope */
    op_order *dirs; /* desc / nulls_first per order item (col unused) */
    eng_sx *arg;    /* lag/lead value */
    int64_t offset;
    eng_sx *dflt; /* lag/lead default (a literal), NULL: NULL */
    eng_type type;
    bool is_agg;     /* an aggregate over the whole partition (no ORDER BY) */
    op_agg_kind agg; /* its kind; arg NULL for count(*) */
} bwin_fn;

typedef struct bwin_state {
    int nfrom; /* window function k is column nfrom + k */
    int n, cap;
    bwin_fn *fns;
    eng_type *types; /* nfrom + n column types */
} bwin_state;

typedef struct bcte {
    char *name;
    eng_query q;
} bcte;

typedef struct bctx {
    const eng_bind_env *env;
    eng_err *err;
    int ncte;
    bcte *ctes;
    int ndeps;
    uint64_t *deps;
    bagg_state *agg;      /* non-NULL: aggregates allowed and collected */
    bwin_state *win;      /* non-NULL: window functions allowed and collected */
    const char *where;    /* "WHERE", "GROUP BY"... for error messages */
    eng_sx **param_nodes; /* param i's placeholder (prepare-time inference) */
    /* The FROM relation being bound and its scope: scalar subqueries join
     * onto it (NULL where they are not allowed). */
    eng_rel **cur_rel;
    bscope *cur_scope;
} bctx;

/* Expressions (bind_expr.c). */
eng_sx *bx_expr(bctx *c, const bscope *s, const json_t *node);
/* Binds and requires a boolean (WHERE, HAVING, ON). */
eng_sx *bx_bool(bctx *c, const bscope *s, const json_t *node, const char *clause);
/* Coerces an untyped literal to `to` in place (no-op for typed ones). */
int bx_coerce_unknown(bctx *c, eng_sx *e, eng_type to);
/* Wraps e in a cast to `to` if its type differs (implicit-context cast
 * for UNION/CASE unification). Returns the new expression. */
eng_sx *bx_cast_to(bctx *c, eng_sx *e, eng_type to);
/* PostgreSQL's common type of two types for UNION/CASE/COALESCE/IN, or -1
 * with err (42804 "<what> types X and Y cannot be matched"). */
int bx_common_type(bctx *c, eng_type a, eng_type b, const char *what, eng_type *out);
bool bx_sx_equal(const eng_sx *a, const eng_sx *b);
/* The column name PostgreSQL derives for an expression node. */
const char *bx_colname(const json_t *node);
/* Types of a scope (for typechecking), borrowed until the scope changes. */
int bx_typecheck(bctx *c, const bscope *s, eng_sx *e);
int bx_error_at(bctx *c, const json_t *node, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Whether the node tree contains an aggregate call. */
bool bx_has_agg(const json_t *node);
bool bx_is_agg_name(const char *name);

/* Window functions (bind.c): registers the call, returns its placeholder. */
eng_sx *bq_window_call(bctx *c, const bscope *s, const json_t *node, const json_t *b,
                       const char *name);

/* Queries (bind.c). */
/* A subquery used as an expression (scalar, EXISTS): joined onto
 * c->cur_rel; returns the expression reading its value. */
eng_sx *bq_sublink_expr(bctx *c, const bscope *s, const json_t *node, const json_t *b);
int bq_select(bctx *c, const json_t *select, eng_query *out);
/* A query as a relation (its LIMIT applied as TOPK, hidden columns
 * projected away); takes ownership of q's relation. */
eng_rel *bq_query_rel(eng_query *q);

#endif
