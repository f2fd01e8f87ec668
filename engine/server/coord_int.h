/* The coordinator's internals, shared by coord.c (runtime side, reads),
 * exec.c (statements) and system.c (introspection relations). */
#ifndef ENG_COORD_INT_H
#define ENG_COORD_INT_H

#include <jansson.h>
#include <pthread.h>

#include "engine/server/coord.h"
#include "engine/sql/eng_bind.h"
#include "engine/sql/eng_render.h"
#include "operators/op_topk.h"

#define COORD_MAX_ARRS 16

/* An object's runtime state (eng_obj.rt). */
typedef struct objrt {
    eng_coord *co;
    eng_df *df;         /* its dataflow (NULL for views without index) */
    int input;          /* TABLE: the input node */
    bool has_arr;       /* arr describes an arrangement of this collection */
    eng_render_arr arr; /* TABLE/MATVIEW: key_is_row; INDEX: keyed */
    int *keycols;       /* INDEX: owned key columns (arr.keycols points here) */
    struct srcrt *src;  /* SOURCE/SUBSOURCE: its source (source_rt.h) */
    int sub;            /* its relation in the source, -1: progress, -2: none (source header) */
} objrt;

struct eng_coord {
    eng_rt *rt;
    eng_catalog *cat;
    eng_client *client; /* persistent dataflows and table writes (write lock) */
    pthread_rwlock_t lock;
    pthread_mutex_t id_mu;
    eng_time ts; /* every table is readable at ts (write lock to change) */
    bool replaying;
    uint64_t forced_id; /* replay: the id the next created object gets */
    eng_session *replay_session;
    /* The table clock (coord.c ticker_main). */
    pthread_t ticker;
    bool ticking, tick_stop;
    pthread_mutex_t tick_mu;
    pthread_cond_t tick_cv;
    uint64_t sys_base;
};

typedef struct eng_cursor eng_cursor;

typedef struct sess_var {
    char *name, *value;
} sess_var;

/* A parsed statement kept for its next execution (clients repeat
 * statements: parsing is libpg_query + JSON + jansson, the biggest part of
 * a small query's CPU time). */
typedef struct parse_ent {
    uint64_t hash;
    char *sql;
    json_t *root; /* owns the tree; type/body point into it */
    const char *type;
    const json_t *body;
} parse_ent;

#define SESS_PARSE_CACHE 16

struct eng_session {
    eng_coord *co;
    parse_ent parsed[SESS_PARSE_CACHE];
    int parsed_next;
    eng_client *client;
    char txn; /* 'I', 'T', 'E' */
    int nvars;
    sess_var *vars;
    int ncursors;
    eng_cursor **cursors;
    const eng_sink *sink; /* the running statement's (for cancellation while waiting) */
    bool wrlocked;        /* the statement holds the write lock (coord_eval must not wait) */
};

uint64_t coord_new_id(eng_coord *co);
/* Moves the table timestamp to t and advances every table's input to
 * t + 1 (write lock held). */
void coord_set_ts(eng_coord *co, eng_time t);
/* Scratch for coord_lookup_arrs, owned by its caller. */
typedef struct coord_look {
    eng_coord *co;
    int n;
    eng_render_arr arrs[COORD_MAX_ARRS];
} coord_look;
/* The arrangements of collection id (an eng_render_lookup_fn; ctx is a
 * coord_look with co set). */
int coord_lookup_arrs(void *ctx, uint64_t id, const eng_render_arr **out, eng_err *err);
int coord_eval(eng_session *s, const eng_rel *rel, eng_batch **out, eng_err *err);
int64_t coord_send_rows(eng_batch *b, int ncols, const eng_type *types, int nvisible, int norder,
                        const op_order *order, int64_t limit, int64_t offset, const eng_sink *sink,
                        bool copy, eng_err *err);

/* system.c */
void coord_system_init(eng_coord *co);
/* The rows of system relation o now (c: the calling thread's client). */
int coord_system_rows(eng_coord *co, eng_client *c, eng_obj *o, eng_batch **out, eng_err *err);
/* PostgreSQL-style oids, stable across restarts: an object's is 16384 +
 * its id; built-in schemas have fixed ones (pg_catalog 11, public 2200). */
uint32_t coord_obj_oid(const eng_obj *o);
uint32_t coord_schema_oid(eng_catalog *cat, const char *schema);
/* Built-in schema i (static storage) and its oid, NULL past the last. */
const char *coord_builtin_schema(int i, uint32_t *oid);

#endif
