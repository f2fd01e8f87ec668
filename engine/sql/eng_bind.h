/* The binder: PostgreSQL parse trees (libpg_query's JSON, parsed with
 * jansson) to typed IR (eng_ir.h), resolving names against the catalog.
 *
 * Notes:
 * - Names are resolved as PostgreSQL does: unqualified relation names
 *   through the search path (CTEs first), column references through the
 *   FROM clause's scope (an ambiguous one is 42702), output column names
 *   derived as PostgreSQL derives them ("count", "?column?", ...).
 * - Types: untyped literals ('...', NULL, parameters without a declared
 *   type) take the type their context asks for (the other operand of an
 *   operator, the column of an INSERT, the common type of CASE/UNION
 *   branches), text otherwise, as in PostgreSQL.
 * - A query's final ORDER BY / LIMIT / OFFSET is kept apart from its
 *   relation (eng_query.order...) so the reader can order the rows it
 *   returns; inside views and subqueries LIMIT becomes a TOPK.
 * - Thread-safety: binding reads the catalog; the caller holds whatever
 *   lock keeps it stable. */
#ifndef ENG_BIND_H
#define ENG_BIND_H

#include <jansson.h>
#include <stdint.h>

#include "engine/catalog/eng_catalog.h"
#include "engine/sql/eng_ir.h"

/* Parameters of a prepared statement. At prepare time `values` is NULL and
 * the binder fills the types it infers for parameters declared with type
 * UNKNOWN; at execution, values[i] is a one-datum row of types[i]. */
typedef struct eng_bind_params {
    int n;
    eng_type *types; /* n entries, updated in place by inference */
    const eng_row *values;
} eng_bind_params;

typedef struct eng_bind_env {
    eng_catalog *cat;
    eng_bind_params *params; /* may be NULL: no parameters */
    /* One-off statements: now(), current_timestamp, current_date... are
     * this time (microseconds since 2000-01-01 UTC, as timestamptz). 0 in
     * views, where they are refused (a view's value must not depend on
     * when it is read). */
    int64_t now_us;
} eng_bind_env;

/* A bound query. */
typedef struct eng_query {
    eng_rel *rel; /* rows, unordered; columns [0, ncols) visible, then hidden sort keys */
    int ncols;    /* visible columns */
    char **names; /* ncols names */
    eng_type *types;
    int norder; /* final ordering over rel's columns */
    op_order *order;
    int64_t limit; /* < 0: none (final; rel already applies it as a TOPK when ordered) */
    int64_t offset;
    int ndeps;
    uint64_t *deps; /* catalog objects read (views expanded: their own deps too) */
} eng_query;

/* Binds a SelectStmt node (the value under "SelectStmt"). sql is the
 * statement text (for error positions). Returns 0, or -1 with err set. */
int eng_bind_select(const eng_bind_env *env, const json_t *select, eng_query *out, eng_err *err);

/* Binds one scalar expression node over the columns of obj (for DEFAULT
 * expressions, UPDATE SET, DELETE WHERE): col i of the scope is obj's
 * column i. Returns a new expression or NULL with err set. */
eng_sx *eng_bind_scalar(const eng_bind_env *env, const eng_obj *obj, const json_t *node,
                        eng_err *err);

/* Converts e to type `to` for storing into a column (assignment cast
 * rules; untyped literals coerced). Takes ownership of e; returns the new
 * expression or NULL with err set (42804 with the column named). */
eng_sx *eng_bind_assign(eng_sx *e, eng_type to, const char *colname, eng_err *err);

/* Evaluates a constant expression now. Appends one datum to out. Returns
 * 0, or -1 with err set. */
int eng_bind_fold(const eng_sx *e, eng_rowbuf *out, eng_err *err);

/* The type named by a TypeName node (int4, varchar(3), numeric(10,2)...). */
int eng_bind_typename(const json_t *typename_node, eng_type *out, eng_err *err);

void eng_query_free(eng_query *q);

/* DML: the change a statement makes to its table, as a relation over the
 * table's columns: INSERT the new rows; UPDATE the old rows negated plus
 * the new ones; DELETE the old rows negated. stmt is the InsertStmt /
 * UpdateStmt / DeleteStmt body; *target the table. Returns 0, or -1 with
 * err set. */
int eng_bind_insert(const eng_bind_env *env, const json_t *stmt, eng_obj **target, eng_rel **out,
                    eng_err *err);
int eng_bind_update(const eng_bind_env *env, const json_t *stmt, eng_obj **target, eng_rel **out,
                    eng_err *err);
int eng_bind_delete(const eng_bind_env *env, const json_t *stmt, eng_obj **target, eng_rel **out,
                    eng_err *err);

/* The optimiser (opt.c): constant folding and predicate pushdown, in
 * place. Takes ownership of r and returns the rewritten tree. */
eng_rel *eng_opt(eng_rel *r);

/* A query as a relation: LIMIT/OFFSET applied as a TOPK; hidden sort
 * columns kept if keep_hidden. Takes the relation out of q. */
eng_rel *eng_query_rel(eng_query *q, bool keep_hidden);

/* Small accessors over libpg_query's JSON nodes. */
/* The node's type name ("SelectStmt") and its body, or NULL. */
const char *eng_pg_node(const json_t *node, const json_t **body);
/* Field `key` of body as a string (NULL if absent). */
const char *eng_pg_str(const json_t *body, const char *key);
/* The sval of a {"String": {"sval": ...}} node. */
const char *eng_pg_strnode(const json_t *node);
int eng_pg_int(const json_t *body, const char *key, int dflt);
bool eng_pg_bool(const json_t *body, const char *key);
/* Location (0-based byte offset) of a node, -1 if none. */
int eng_pg_location(const json_t *node);

#endif
