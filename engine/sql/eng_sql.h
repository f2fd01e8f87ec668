/* SQL statement recognition: libpg_query for PostgreSQL's grammar, a keyword
 * check for the statements PostgreSQL lacks (CREATE SOURCE/CONNECTION/
 * SECRET/SINK/CLUSTER, SUBSCRIBE, SHOW ..., ALTER SOURCE, DROP SOURCE...).
 *
 * Notes: the first slice of the SQL front end (issue 4): statements are
 * classified and syntax errors reported with SQLSTATE 42601 and the cursor
 * position, exactly where PostgreSQL's own parser puts it; execution comes
 * with the planner. Thread-safe (libpg_query keeps per-thread state). */
#ifndef ENG_SQL_H
#define ENG_SQL_H

#include <stdbool.h>

#include "engine/core/eng_err.h"

#define ENG_SQL_TAG_MAX 64

typedef struct eng_sql_stmt {
    char tag[ENG_SQL_TAG_MAX]; /* e.g. "SELECT", "CREATE TABLE AS", "CREATE SOURCE" */
    bool sluice;               /* a statement of Sluice's own dialect */
    int nstmts;                /* statements in the string */
} eng_sql_stmt;

/* Classifies the first statement of sql. Returns 0, or -1 with err set:
 * 42601 (syntax error, position = 1-based character offset) for text
 * PostgreSQL's grammar rejects, 54000 for absurdly long input. */
int eng_sql_classify(const char *sql, eng_sql_stmt *out, eng_err *err);

#endif
