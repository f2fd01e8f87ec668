/* The PostgreSQL wire protocol (v3) server on the io_uring loop.
 *
 * Notes: runs on the io thread only. Each connection owns an input buffer
 * and an output buffer; at most one recv and one send are in flight per
 * connection, so a slow client only holds its own buffers. Untrusted bytes:
 * every malformed or oversized message becomes a FATAL ErrorResponse
 * (08P01) and a closed connection, never a crash.
 *
 * Statements go to the handler set with io_pgw_set_query_handler (the SQL
 * front end); its errors become ErrorResponses with SQLSTATE and position. */
#ifndef IO_PGW_H
#define IO_PGW_H

#include "engine/core/eng_err.h"
#include "io/io_loop.h"

typedef struct io_pgw_server io_pgw_server;

/* Binds host:port (port 0 picks a free one) and starts accepting on loop.
 * Returns 0, or -1 with err set (08006 for bind/listen failures). */
int io_pgw_listen(io_pgw_server **out, io_loop *loop, const char *host, int port, eng_err *err);

/* Runs one simple-query statement string. Returns 0 when it completed
 * (CommandComplete is sent with tag), or -1 with err set (ErrorResponse,
 * with the position if err has one). Called on the io thread. */
typedef int (*io_pgw_query_fn)(void *ctx, const char *sql, char *tag, size_t tagcap, eng_err *err);

/* Installs the statement handler (without one, statements get 0A000). */
void io_pgw_set_query_handler(io_pgw_server *srv, io_pgw_query_fn fn, void *ctx);

/* The bound port (useful after port 0). */
int io_pgw_port(const io_pgw_server *srv);

/* Number of open client connections. */
int io_pgw_connections(const io_pgw_server *srv);

/* Closes the listening socket and every connection (sending 57P01 admin
 * shutdown to each), frees the server. */
void io_pgw_close(io_pgw_server *srv);

#endif
