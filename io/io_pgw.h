/* The PostgreSQL wire protocol (v3) server on the io_uring loop.
 *
 * Notes: runs on the io thread only. Each connection owns an input buffer
 * and an output buffer; at most one recv and one send are in flight per
 * connection, so a slow client only holds its own buffers. Untrusted bytes:
 * every malformed or oversized message becomes a FATAL ErrorResponse
 * (08P01) and a closed connection, never a crash.
 *
 * Statement execution is not wired in yet: after a normal startup every
 * query is answered with ErrorResponse 0A000 and ReadyForQuery, so clients
 * see a live server and a clear message. */
#ifndef IO_PGW_H
#define IO_PGW_H

#include "engine/core/eng_err.h"
#include "io/io_loop.h"

typedef struct io_pgw_server io_pgw_server;

/* Binds host:port (port 0 picks a free one) and starts accepting on loop.
 * Returns 0, or -1 with err set (08006 for bind/listen failures). */
int io_pgw_listen(io_pgw_server **out, io_loop *loop, const char *host, int port, eng_err *err);

/* The bound port (useful after port 0). */
int io_pgw_port(const io_pgw_server *srv);

/* Number of open client connections. */
int io_pgw_connections(const io_pgw_server *srv);

/* Closes the listening socket and every connection (sending 57P01 admin
 * shutdown to each), frees the server. */
void io_pgw_close(io_pgw_server *srv);

#endif
