/* The PostgreSQL wire protocol (v3) server on the io_uring loop.
 *
 * Notes: threads. The io thread accepts connections and runs the startup
 * phase through io_uring (SSLRequest, CancelRequest, StartupMessage; at
 * most one recv and one send in flight per connection). Once a client has
 * completed startup, its socket is handed to the connection's own session
 * thread, which reads messages, runs the protocol (simple and extended
 * query), calls the front end's handler (io_pgw_handler) and writes the
 * output itself, as a PostgreSQL backend does; the io thread keeps watching
 * the socket for a hang-up, delivers CancelRequests and closes the
 * connection when the session ends. A handler may therefore block (waiting
 * for a frontier, a FETCH timeout, a long SUBSCRIBE) without holding up any
 * other client, and a client that stops reading blocks only its own
 * session. Untrusted bytes: every malformed or oversized message becomes a
 * FATAL ErrorResponse (08P01) and a closed connection, never a crash.
 *
 * Errors: a handler returns -1 with an eng_err; the session thread sends it
 * as an ErrorResponse (severity ERROR, SQLSTATE, message, detail, hint,
 * position). In the extended protocol the error skips messages until Sync,
 * as PostgreSQL does. */
#ifndef IO_PGW_H
#define IO_PGW_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/eng_err.h"
#include "engine/core/eng_row.h"
#include "engine/core/eng_type.h"
#include "io/io_loop.h"

typedef struct io_pgw_server io_pgw_server;

/* ------------------------------------------------------------------ descriptions */

/* A result column, as RowDescription reports it. */
typedef struct io_pgw_col {
    const char *name; /* borrowed: lives as long as the description */
    eng_type type;    /* OID, typlen and typmod come from here (eng_type.h) */
    uint32_t table_oid;
    int16_t attnum;
} io_pgw_col;

/* What Describe answers for a prepared statement or a portal. */
typedef struct io_pgw_desc {
    int nparams;
    const uint32_t *param_oids; /* ParameterDescription */
    int ncols;                  /* < 0: the statement returns no rows (NoData) */
    const io_pgw_col *cols;
} io_pgw_desc;

/* A bound parameter value (Bind). */
typedef struct io_pgw_param {
    const uint8_t *data; /* borrowed for the call */
    int32_t len;         /* -1: NULL */
    int16_t format;      /* 0 text, 1 binary */
} io_pgw_param;

/* What the client sent at startup. Borrowed for the open call. */
typedef struct io_pgw_startup {
    const char *user;
    const char *database;
    const char *application_name; /* may be NULL */
    const char *options;          /* may be NULL */
} io_pgw_startup;

/* ------------------------------------------------------------------ output (session thread) */

/* The output side of one connection, handed to the handler's calls. Every
 * function here is called on the connection's session thread. Output is
 * buffered and written to the socket by the session thread in chunks; a
 * send function blocks while the socket does not take a full chunk
 * (backpressure), and returns -1 once the client is gone or the statement
 * was cancelled, so the caller stops producing. */
typedef struct io_pgw_out io_pgw_out;

/* RowDescription for the rows that follow. In the simple query protocol the
 * handler calls it before the rows of each statement that returns rows; in
 * the extended protocol the description comes from Describe and this call
 * sends nothing (it only fixes the column types used to format rows).
 * desc is copied. */
int io_pgw_send_rowdesc(io_pgw_out *o, const io_pgw_desc *desc);

/* One DataRow: the row's datums formatted by the current description's
 * types, in text, or in binary for the columns the Bind asked so (binary
 * for bool, int2/4/8, float4/8, numeric, text/varchar/bpchar, bytea, date,
 * time, timestamp(tz), interval, uuid, json(b); text otherwise). */
int io_pgw_send_row(io_pgw_out *o, eng_row row);

/* CommandComplete with tag ("SELECT 3", "INSERT 0 1", "CREATE TABLE"). */
int io_pgw_send_complete(io_pgw_out *o, const char *tag);

/* NoticeResponse (severity NOTICE; err's SQLSTATE, message, detail, hint). */
int io_pgw_send_notice(io_pgw_out *o, const eng_err *notice);

/* ParameterStatus (after SET of a reported parameter). */
int io_pgw_send_parameter(io_pgw_out *o, const char *name, const char *value);

/* COPY ... TO STDOUT: CopyOutResponse (text format, ncols columns), then
 * one CopyData per row in COPY's text format (tab-separated, \N for NULL,
 * backslash escapes), typed by desc (copied); then CopyDone. The handler
 * sends CommandComplete ("COPY n") after copy_done. */
int io_pgw_send_copy_begin(io_pgw_out *o, const io_pgw_desc *desc);
int io_pgw_send_copy_row(io_pgw_out *o, eng_row row);
int io_pgw_send_copy_done(io_pgw_out *o);

/* Writes what is buffered to the socket now, blocking until the kernel
 * took it (a streaming SUBSCRIBE calls this after each batch; otherwise
 * output goes out at ReadyForQuery or when the buffer fills). Returns -1
 * if the client is gone or cancelled. */
int io_pgw_flush(io_pgw_out *o);

/* True once a CancelRequest for this connection arrived during the current
 * statement, or the client disconnected. A handler that waits checks it at
 * least every 100 ms and then fails with 57014 ("canceling statement due to
 * user request"). */
bool io_pgw_cancelled(const io_pgw_out *o);

/* ------------------------------------------------------------------ the front end's handler */

/* Implemented by the SQL front end. `sess`, `stmt` and `portal` are the
 * handler's own objects, opaque to pgw. All calls but `open` for a new
 * connection happen on that connection's session thread, one at a time. */
typedef struct io_pgw_handler {
    /* A client completed startup. Returns the new session, or NULL with err
     * set (sent as FATAL; e.g. 3D000 for an unknown database). Runs on the
     * session thread. */
    void *(*open)(void *ctx, const io_pgw_startup *st, eng_err *err);
    /* The connection is closing (Terminate, disconnect, shutdown). pgw has
     * already unbound every portal and unprepared every statement. */
    void (*close)(void *sess);

    /* Simple query: runs every statement of sql in order, reporting each
     * through o (rowdesc/rows/complete, or copy_*), stopping at the first
     * error. An empty string is EmptyQueryResponse (handled by pgw). Returns
     * 0, or -1 with err set. */
    int (*simple)(void *sess, const char *sql, io_pgw_out *o, eng_err *err);

    /* Parse: one statement (several: 42601 "cannot insert multiple commands
     * into a prepared statement"); param_oids[i] = 0 leaves parameter i's
     * type to be inferred. Returns the statement or NULL with err set. */
    void *(*prepare)(void *sess, const char *sql, int nparams, const uint32_t *param_oids,
                     eng_err *err);
    /* Describe of a statement; borrowed until unprepare. */
    const io_pgw_desc *(*describe)(void *sess, void *stmt);
    void (*unprepare)(void *sess, void *stmt);

    /* Bind: converts the parameters (text or binary per format, by the
     * statement's parameter types). Returns a portal or NULL with err set
     * (22P02 for a bad value, 08P01 for a wrong count). */
    void *(*bind)(void *sess, void *stmt, int nparams, const io_pgw_param *params, eng_err *err);
    /* Describe of a portal: like its statement's. Borrowed until unbind. */
    const io_pgw_desc *(*describe_portal)(void *sess, void *portal);
    /* Execute: runs the portal to completion, sending rows and the
     * CommandComplete through o (no rowdesc is sent on this path). pgw
     * implements Execute's row limit by holding the rows past the limit
     * and answering PortalSuspended; the handler need not know. */
    int (*execute)(void *sess, void *portal, io_pgw_out *o, eng_err *err);
    void (*unbind)(void *sess, void *portal);

    /* Transaction status for ReadyForQuery: 'I' idle, 'T' in a block, 'E'
     * failed block. */
    char (*txn_status)(void *sess);
} io_pgw_handler;

/* ------------------------------------------------------------------ the server (io thread) */

typedef struct io_pgw_options {
    const char *host;
    int port;                   /* 0 picks a free one */
    const char *password_file;  /* NULL: trust; else lines "user:password" */
    int max_connections;        /* 0: 1000 */
    const char *server_version; /* ParameterStatus server_version; NULL: a default */
    size_t session_stack;       /* session thread stack in bytes; 0: 256 KiB (x4 under
                                   sanitizers) */
} io_pgw_options;

/* The server_version reported when the options give none. A 15.x number:
 * psql and drivers adapt their catalog queries to it. */
#define IO_PGW_DEFAULT_SERVER_VERSION "15.0 (Sluice)"

/* Binds and starts accepting on loop. handler and ctx are borrowed until
 * io_pgw_close. Returns 0, or -1 with err set (08006 for bind/listen
 * failures, 58P01 for an unreadable password file). */
int io_pgw_listen(io_pgw_server **out, io_loop *loop, const io_pgw_options *opts,
                  const io_pgw_handler *handler, void *ctx, eng_err *err);

/* The bound port (useful after port 0). */
int io_pgw_port(const io_pgw_server *srv);

/* Number of open client connections. */
int io_pgw_connections(const io_pgw_server *srv);

/* Closes the listening socket and every connection (sending 57P01 admin
 * shutdown to each, waiting for their session threads), frees the server.
 * Called on the io thread. */
void io_pgw_close(io_pgw_server *srv);

#endif
