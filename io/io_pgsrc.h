/* PostgreSQL as a source, the upstream side: connecting (plain or
 * replication), discovering and validating a publication's tables, the
 * logical slot with its exported snapshot, COPY of a table (or a ctid
 * range of it) inside that snapshot, and turning PostgreSQL's text output
 * (COPY's and pgoutput's) into Sluice datums.
 *
 * Notes: everything here is synchronous libpq; the caller decides which
 * thread runs it (CREATE SOURCE validates on the session thread, snapshot
 * workers copy on their own threads, the source thread streams on its
 * io_uring loop with io_pgrepl.h's decoder). Every connection is opened with
 * the session settings that make PostgreSQL's text output canonical for our
 * parsers: DateStyle ISO, TimeZone UTC, IntervalStyle postgres,
 * extra_float_digits 3, bytea_output hex, client_encoding UTF8. Upstream
 * failures are eng_errs with PostgreSQL's own SQLSTATE where it sent one
 * (42501 for a missing privilege, ...) and 08xxx for connection trouble. */
#ifndef IO_PGSRC_H
#define IO_PGSRC_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/core/eng_err.h"
#include "engine/core/eng_row.h"
#include "engine/core/eng_strbuf.h"
#include "engine/core/eng_type.h"

/* Where to connect (all strings owned by the caller; NULL = libpq's default). */
typedef struct io_pgsrc_conn {
    const char *host, *port, *user, *password, *dbname, *sslmode;
    const char *ca_file; /* a file holding the CA certificate, or NULL */
} io_pgsrc_conn;

/* Opens a connection (replication = true: a walsender, replication=database).
 * Returns NULL with err set (08001 with libpq's reason). */
PGconn *io_pgsrc_connect(const io_pgsrc_conn *o, bool replication, const char *appname,
                         eng_err *err);

/* Runs sql; returns the result if its status is `want`, else NULL with err
 * set from the server's error (its SQLSTATE, or 08006 if the link broke). */
PGresult *io_pgsrc_exec(PGconn *c, const char *sql, ExecStatusType want, eng_err *err);

/* ------------------------------------------------------------------ discovery */

typedef struct io_pgsrc_col {
    char *name;
    uint32_t oid; /* upstream type */
    int32_t typmod;
    eng_type type; /* how Sluice keeps it (text for TEXT COLUMNS) */
    bool as_text;  /* named in TEXT COLUMNS */
    bool not_null;
} io_pgsrc_col;

typedef struct io_pgsrc_table {
    uint32_t relid;
    char *schema, *name;
    char *alias;     /* the subsource's name (FOR TABLES ... AS alias), or NULL */
    char *rowfilter; /* the publication's row filter (SQL over the columns), or NULL */
    char replident;  /* 'd', 'f', 'i' ('n' is refused) */
    char relkind;    /* 'r' a table, 'p' a partitioned table (published via its root) */
    int ncols;
    io_pgsrc_col *cols;
    int nkey; /* the key used to find old rows: primary key / identity index */
    int *key; /* column indices */
    int64_t pages;
    double tuples; /* pg_class.reltuples (an estimate; -1 never analysed) */
} io_pgsrc_table;

typedef enum io_pgsrc_for { IO_PGSRC_ALL = 0, IO_PGSRC_TABLES, IO_PGSRC_SCHEMAS } io_pgsrc_for;

typedef struct io_pgsrc_select {
    io_pgsrc_for kind;
    int n;
    char **schema; /* TABLES: may be NULL each (any schema); SCHEMAS: the schemas */
    char **name;   /* TABLES: the table names */
    char **alias;  /* TABLES: NULL each or the alias */
    int ntext;
    char **text_cols; /* "table.col" or "schema.table.col" */
} io_pgsrc_select;

/* Validates the upstream for a source on publication `pub` and lists the
 * tables `sel` picks, in publication order: wal_level is logical (55000),
 * the user has REPLICATION (42501), the publication exists (42704) and has
 * tables (55000), every picked table is in it (42P01) and picked once
 * (42710), the user may SELECT each (42501), no table has REPLICA IDENTITY
 * NOTHING (55000), and every column's type is supported or named in TEXT
 * COLUMNS (0A000; a TEXT COLUMNS entry naming nothing is 42703). Each
 * table carries the publication's column list (as its columns) and row
 * filter. *out is owned by the caller (io_pgsrc_tables_free). */
int io_pgsrc_discover(PGconn *c, const char *pub, const io_pgsrc_select *sel, io_pgsrc_table **out,
                      int *n, eng_err *err);
void io_pgsrc_tables_free(io_pgsrc_table *t, int n);

/* Whether Sluice keeps values of upstream type oid (otherwise TEXT COLUMNS). */
bool io_pgsrc_type_supported(uint32_t oid);

/* ------------------------------------------------------------------ slot and snapshot */

/* On a replication connection: CREATE_REPLICATION_SLOT slot LOGICAL pgoutput
 * exporting a snapshot. *lsn = its consistent point, snapshot = the
 * exported snapshot's name (valid while `repl` runs no other command). */
int io_pgsrc_create_slot(PGconn *repl, const char *slot, uint64_t *lsn, char *snapshot,
                         size_t snapcap, eng_err *err);

/* On a plain connection: drops the slot if it exists, first ending the
 * walsender that holds it (if any). *existed tells whether there was one. */
int io_pgsrc_drop_slot(PGconn *c, const char *slot, bool *existed, eng_err *err);

/* Opens a REPEATABLE READ transaction on c reading `snapshot`. */
int io_pgsrc_begin_snapshot(PGconn *c, const char *snapshot, eng_err *err);

/* The COPY statement that reads table t (its columns in order, the rows its
 * row filter passes), all of it (first_page < 0) or pages
 * [first_page, end_page) (end_page < 0: to the end). */
void io_pgsrc_copy_sql(const io_pgsrc_table *t, int64_t first_page, int64_t end_page,
                       eng_strbuf *out);

/* Splits one COPY text-format row (without its newline) into fields,
 * undoing backslash escapes in place into `buf`: field i is buf bytes
 * [off[i], off[i] + len[i]), len[i] < 0 for NULL (\N). Returns the field
 * count, or -1 with err (XX001) if the row is malformed or has more than
 * cap fields. */
int io_pgsrc_copy_split(const char *line, size_t n, eng_strbuf *buf, int32_t *off, int32_t *len,
                        int cap, eng_err *err);

/* Appends the datum for PostgreSQL's text output s[0..n) of column col.
 * Returns 0, or -1 with err (the value does not fit Sluice's type). */
int io_pgsrc_datum(const io_pgsrc_col *col, const char *s, size_t n, eng_rowbuf *out, eng_err *err);

/* "0/16B3748" */
void io_pgsrc_lsn_format(uint64_t lsn, char *buf, size_t cap);

#endif
