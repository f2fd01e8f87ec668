/* The coordinator: executes SQL statements against the catalog and the
 * dataflow runtime, for every session.
 *
 * Notes:
 * - One coordinator per process. It owns the catalog, a client used for
 *   every persistent dataflow (installs, drops, and all table writes, so
 *   each table input has a single feeder and its frontier marks stay
 *   ordered), and the table timestamp: every table's input is advanced to
 *   ts + 1 after each write, so all tables are readable at ts together.
 * - Locking: a rwlock. Reads (SELECT, SHOW, EXPLAIN) hold it shared, so
 *   the objects they read stay alive and ts does not move; DDL and writes
 *   hold it exclusively. Each session has its own client for reads.
 * - Reads: a SELECT over collections with arrangements and only
 *   map/filter/project/union steps is a peek plus local evaluation; any
 *   other SELECT renders a temporary dataflow, peeks its result at ts and
 *   drops it; a query over no collection at all is evaluated directly.
 *   Final ORDER BY / LIMIT / OFFSET are applied to the peeked rows. */
#ifndef ENG_COORD_H
#define ENG_COORD_H

#include <stdbool.h>

#include "engine/catalog/eng_catalog.h"
#include "engine/core/eng_err.h"
#include "engine/core/eng_row.h"
#include "engine/runtime/eng_rt.h"

typedef struct eng_coord eng_coord;
typedef struct eng_session eng_session;

/* Where results go: the pgwire glue or a test. Every call returns 0, or
 * -1 when the receiver is gone (the statement then stops). */
typedef struct eng_sink {
    void *ctx;
    int (*rowdesc)(void *ctx, int ncols, char *const *names, const eng_type *types);
    int (*row)(void *ctx, eng_row row);
    int (*complete)(void *ctx, const char *tag);
    int (*notice)(void *ctx, const eng_err *notice);
    /* COPY ... TO STDOUT (may be NULL: COPY is then 0A000). */
    int (*copy_begin)(void *ctx, int ncols, const eng_type *types);
    int (*copy_row)(void *ctx, eng_row row);
    int (*copy_done)(void *ctx);
    /* True once the client cancelled or went away. */
    bool (*cancelled)(void *ctx);
} eng_sink;

/* Opens the coordinator over a running runtime; data_dir NULL keeps the
 * catalog in memory. Replays the catalog found in data_dir. Returns 0, or
 * -1 with err set. */
int eng_coord_open(eng_coord **out, eng_rt *rt, const char *data_dir, eng_err *err);
void eng_coord_close(eng_coord *co);

eng_session *eng_session_new(eng_coord *co);
void eng_session_free(eng_session *s);

/* Runs every statement of sql (simple query protocol), reporting each
 * result through sink; stops at the first error. Returns 0, or -1 with
 * err set. */
int eng_session_run(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err);

/* Prepared statements (extended protocol). */
typedef struct eng_prepared eng_prepared;

/* Parses and binds one statement; param_types[i] may be UNKNOWN (inferred).
 * Returns the statement or NULL with err set. */
eng_prepared *eng_session_prepare(eng_session *s, const char *sql, int nparams,
                                  const eng_type *param_types, eng_err *err);
/* Parameter count and types (after inference), result columns (ncols < 0:
 * no rows). Borrowed until eng_prepared_free. */
int eng_prepared_params(const eng_prepared *p, const eng_type **types);
int eng_prepared_columns(const eng_prepared *p, char *const **names, const eng_type **types);
/* Executes with parameter values (one-datum rows of the parameter types).
 * Returns 0, or -1 with err set. */
int eng_prepared_execute(eng_session *s, eng_prepared *p, const eng_row *values,
                         const eng_sink *sink, eng_err *err);
void eng_prepared_free(eng_prepared *p);

/* 'I' idle, 'T' in a transaction block, 'E' failed block. */
char eng_session_txn_status(const eng_session *s);

#endif
