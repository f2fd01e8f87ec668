/* The catalog: every named object (schemas, tables, views, materialized
 * views, indexes, sources, secrets, connections), its columns, its
 * dependencies and the SQL that created it; persisted in the data
 * directory and replayed at start.
 *
 * Notes:
 * - Objects have a stable 64-bit id (never reused within a data directory)
 *   and live in a schema of database `materialize`. Names are unique per
 *   schema across relation kinds, as in PostgreSQL.
 * - The catalog is a plain data structure: it does not lock. The
 *   coordinator (engine/server) serialises changes and lets readers in
 *   under its own lock.
 * - The runtime state of an object (its dataflow, its arrangement nodes)
 *   is set by the coordinator and freed by it (the `rt_free` hook).
 * - Persistence: catalog.json in the data directory holds the next id and,
 *   in creation order, each persisted object's id and SQL; it is replaced
 *   atomically (write, fsync, rename, fsync the directory) on every change.
 *   Replay re-executes the SQL with the recorded ids. */
#ifndef ENG_CATALOG_H
#define ENG_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/eng_err.h"
#include "engine/core/eng_type.h"
#include "engine/runtime/eng_rt.h"

typedef enum eng_obj_kind {
    ENG_OBJ_SCHEMA = 0,
    ENG_OBJ_TABLE,
    ENG_OBJ_VIEW,
    ENG_OBJ_MATVIEW,
    ENG_OBJ_INDEX,
    ENG_OBJ_SOURCE,
    ENG_OBJ_SUBSOURCE,
    ENG_OBJ_SECRET,
    ENG_OBJ_CONNECTION,
    ENG_OBJ_SYSTEM, /* an introspection relation (mz_tables, pg_class...) */
} eng_obj_kind;

/* "table", "view", "materialized view", "index", ... */
const char *eng_obj_kind_name(eng_obj_kind k);

typedef struct eng_col {
    char *name;
    eng_type type;
    bool not_null;
    char *default_sql; /* DEFAULT expression (libpg_query JSON node), NULL if none */
} eng_col;

struct eng_rel;

typedef struct eng_obj eng_obj;
struct eng_obj {
    uint64_t id;
    eng_obj_kind kind;
    char *schema;
    char *name;
    char *sql;    /* the CREATE statement as the user wrote it */
    bool persist; /* recorded in catalog.json */

    int ncols;
    eng_col *cols;

    /* VIEW: the bound relation, inlined wherever the view is read unless
     * `arranged` (an index keeps it: reads then use the index). */
    struct eng_rel *view_rel;
    /* Reads can GET this object from an arrangement (tables, materialized
     * views, sources, indexed views). */
    bool arranged;

    /* INDEX: the indexed object and its key columns. */
    uint64_t on_id;
    int nkey;
    int *key;

    /* SECRET: its value (owned). */
    char *secret;
    /* CONNECTION: its options as a JSON object (owned): host, port, user,
     * database, ssl_mode, password_secret, ssl_ca_secret. */
    char *conn;

    /* Objects this one reads or names (dropped with CASCADE). */
    int ndeps;
    uint64_t *deps;

    /* Runtime state, owned by the coordinator. */
    void *rt;
    void (*rt_free)(eng_obj *o);
};

typedef struct eng_catalog eng_catalog;

/* A new catalog persisted under data_dir (NULL: in memory only), holding
 * the schemas materialize's users expect: public, mz_catalog, mz_internal,
 * pg_catalog, information_schema. */
eng_catalog *eng_catalog_new(const char *data_dir);
void eng_catalog_free(eng_catalog *cat);

/* Next unused id (and reserves it). */
uint64_t eng_catalog_next_id(eng_catalog *cat);

/* Looks up a relation-like object by name. schema NULL searches the search
 * path (public, then mz_catalog, mz_internal, pg_catalog). Returns NULL if
 * there is none. Borrowed until the object is dropped. */
eng_obj *eng_catalog_find(eng_catalog *cat, const char *schema, const char *name);
eng_obj *eng_catalog_get(eng_catalog *cat, uint64_t id);
bool eng_catalog_schema_exists(eng_catalog *cat, const char *schema);

/* Object i in creation order (i < count), for introspection and SHOW. */
int eng_catalog_count(const eng_catalog *cat);
eng_obj *eng_catalog_at(eng_catalog *cat, int i);

/* A new object (zeroed, with id, kind, schema, name copied); not yet in
 * the catalog. */
eng_obj *eng_obj_new(uint64_t id, eng_obj_kind kind, const char *schema, const char *name);
/* Adds the columns (copied). */
void eng_obj_set_cols(eng_obj *o, int ncols, const eng_col *cols);
void eng_obj_add_dep(eng_obj *o, uint64_t id);
/* Frees o (calls rt_free first if set). */
void eng_obj_free(eng_obj *o);

/* Adds o (takes ownership). Fails with 42P07 if the name is taken, 3F000
 * if the schema does not exist. Persists if o->persist. */
int eng_catalog_add(eng_catalog *cat, eng_obj *o, eng_err *err);

/* The objects that depend on id, directly or not, in an order where each
 * comes after everything that depends on it (so dropping in that order is
 * safe). Returns the count; *out is a new array (free with free()). */
int eng_catalog_dependents(eng_catalog *cat, uint64_t id, uint64_t **out);

/* Removes and frees object id (dependents must have been removed first).
 * Persists. */
int eng_catalog_remove(eng_catalog *cat, uint64_t id, eng_err *err);

/* Writes catalog.json now. Returns 0, or -1 with err (58030). */
int eng_catalog_persist(eng_catalog *cat, eng_err *err);

/* Reads catalog.json if present: calls replay(ctx, id, sql) for every
 * recorded object in order and restores next_id. Returns 0, or -1 with err
 * (XX001 for a corrupt file, or the replay's error). Nothing is written
 * while replaying (objects added meanwhile are not persisted), so a replay
 * that fails part way leaves the file as it was. */
int eng_catalog_load(eng_catalog *cat,
                     int (*replay)(void *ctx, uint64_t id, const char *sql, eng_err *err),
                     void *ctx, eng_err *err);

#endif
