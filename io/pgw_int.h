/* pgwire internals shared by pgw.c (io thread), pgw_session.c (session
 * threads), pgw_sock.c (the session's socket I/O), pgw_out.c (message
 * encoding) and pgw_auth.c (passwords).
 *
 * Notes: one pgw_conn per client socket. Until startup completes the io
 * thread owns the socket (io_uring recv/send). From the hand-over on, the
 * connection's session thread reads and writes the socket itself (blocking
 * recv, non-blocking send plus poll), and the io thread only keeps a poll
 * for hang-ups on it. Fields fall in groups, by who may touch them:
 *   - io thread only: the in-flight ops, the startup receive buffer and
 *     the startup output being sent;
 *   - handed over: written by the io thread before it creates the session
 *     thread (pthread_create orders them), session only afterwards;
 *   - under conn->mu: busy, session_done, close_deadline;
 *   - atomics: dead / cancel / shutting, read without the lock on hot paths
 *     (every row checks them), always written under conn->mu.
 * The session tells the io thread it finished by putting the conn on the
 * server's notify list (under srv->nmu) and writing the server's eventfd,
 * which the io thread reads through io_uring. The io thread wakes a session
 * blocked on the socket with the conn's own eventfd (wfd: cancel, hang-up)
 * or shutdown(fd, SHUT_RD) (server closing). Nobody spins. */
#ifndef IO_PGW_INT_H
#define IO_PGW_INT_H

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "engine/core/eng_strbuf.h"
#include "io/io_pgw.h"

#define PGW_OUT_CHUNK (64u << 10) /* session-local output written out past this size */
#define PGW_MAX_LARGE (1u << 30)  /* Query, Parse, Bind, CopyData: 1 GiB, as PostgreSQL */
#define PGW_MAX_AUTH 65535        /* password / SASL messages */
#define PGW_MAX_SMALL 10000       /* every other message, as PostgreSQL */
#define PGW_DEFAULT_STACK (256u << 10)
#define PGW_TAG_MAX 64

/* A byte buffer. Once an allocation failed, oom stays set and every later
 * put is a no-op: the owner checks oom and closes the connection. */
typedef struct pgw_buf {
    char *data;
    size_t len, cap, off; /* off: consumed (input) or sent (output) prefix */
    bool oom;
} pgw_buf;

/* Makes room for extra more bytes after len. False (and oom) on failure. */
bool io_pgw_buf_reserve(pgw_buf *b, size_t extra);
void io_pgw_buf_put(pgw_buf *b, const void *p, size_t n);
void io_pgw_buf_free(pgw_buf *b);

static inline void
buf_swap(pgw_buf *a, pgw_buf *b)
{
    pgw_buf t = *a;
    *a = *b;
    *b = t;
}

static inline void
put_u8(pgw_buf *b, uint8_t v)
{
    io_pgw_buf_put(b, &v, 1);
}

static inline void
put_i16(pgw_buf *b, int16_t v)
{
    uint16_t n = htons((uint16_t)v);
    io_pgw_buf_put(b, &n, 2);
}

static inline void
put_i32(pgw_buf *b, int32_t v)
{
    uint32_t n = htonl((uint32_t)v);
    io_pgw_buf_put(b, &n, 4);
}

static inline void
put_i64(pgw_buf *b, int64_t v)
{
    put_i32(b, (int32_t)((uint64_t)v >> 32));
    put_i32(b, (int32_t)(uint32_t)v);
}

static inline void
put_str(pgw_buf *b, const char *s)
{
    io_pgw_buf_put(b, s, strlen(s) + 1);
}

/* Begins a message of type t; returns the offset of its length word. */
static inline size_t
msg_begin(pgw_buf *b, char t)
{
    put_u8(b, (uint8_t)t);
    size_t at = b->len;
    put_i32(b, 0);
    return at;
}

static inline void
msg_end(pgw_buf *b, size_t at)
{
    if (b->oom || at + 4 > b->len)
        return;
    uint32_t n = htonl((uint32_t)(b->len - at));
    memcpy(b->data + at, &n, 4);
}

static inline uint32_t
get_u32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return ntohl(v);
}

static inline uint16_t
get_u16(const char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return ntohs(v);
}

/* ErrorResponse (fatal: severity FATAL) or NoticeResponse ('N'). */
void io_pgw_put_error(pgw_buf *b, char type, const eng_err *e, bool fatal);

/* ------------------------------------------------------------------ output state */

struct io_pgw_out {
    struct pgw_conn *c;
    pgw_buf b; /* session-local; handed to the io thread in chunks */
    /* how rows are formatted: the current description */
    int ncols, cap;
    eng_type *types;
    int16_t *formats; /* per column: 0 text, 1 binary */
    bool extended;    /* inside Execute: rowdesc sends nothing, complete is captured */
    /* Execute's row limit: rows past it go to held (the portal's buffer) */
    int64_t limit, nrows, nheld;
    pgw_buf *held;
    char tag[PGW_TAG_MAX]; /* the captured CommandComplete */
    bool have_tag;
    eng_strbuf tmp; /* text formatting scratch, reused for every value */
};

void io_pgw_out_init(io_pgw_out *o, struct pgw_conn *c);
void io_pgw_out_free(io_pgw_out *o);
/* Fixes the column types (and formats: nformats 0 = all text, 1 = all
 * that one, else one per column) used to format rows. -1 on OOM. */
int io_pgw_out_set_cols(io_pgw_out *o, const io_pgw_desc *d, int nformats, const int16_t *formats);
/* RowDescription for d with the given formats. */
void io_pgw_put_rowdesc(pgw_buf *b, const io_pgw_desc *d, int nformats, const int16_t *formats);

/* ------------------------------------------------------------------ password file */

typedef struct pgw_auth pgw_auth;

/* Loads "user:password" lines (blank lines and # comments skipped) and
 * derives each user's SCRAM-SHA-256 keys with a fresh salt. Returns 0, or
 * -1 with err (58P01 unreadable, 22023 malformed line). */
int io_pgw_auth_load(pgw_auth **out, const char *path, eng_err *err);
void io_pgw_auth_free(pgw_auth *a);

/* One SCRAM-SHA-256 exchange, driven by the session thread:
 * start -> server-first for the client-first message; finish -> checks
 * the client-final message and gives the server-final message. A user
 * missing from the file gets a mock exchange that fails at finish, so the
 * client cannot tell a wrong password from an unknown user. */
typedef struct pgw_scram pgw_scram;
pgw_scram *io_pgw_scram_new(const pgw_auth *a, const char *user);
void io_pgw_scram_free(pgw_scram *s);
/* Returns 0 with the server-first message in out, or -1 (malformed: 08P01
 * message in err). */
int io_pgw_scram_first(pgw_scram *s, const char *msg, size_t n, eng_strbuf *out, eng_err *err);
/* Returns 1 authenticated (server-final in out), 0 wrong password or
 * unknown user, -1 malformed (err set). */
int io_pgw_scram_final(pgw_scram *s, const char *msg, size_t n, eng_strbuf *out, eng_err *err);

/* ------------------------------------------------------------------ connections */

typedef struct pgw_conn {
    io_pgw_server *srv;
    int fd;
    int wfd; /* eventfd: io thread -> session blocked in a write wait; -1 before hand-over */
    int32_t pid, secret;

    /* io thread only */
    int phase; /* PH_* in pgw.c */
    bool recv_pending, send_pending, poll_pending, sock_shut, has_thread, joined;
    io_op recv_op, send_op, poll_op;
    pgw_buf in;      /* startup phase: bytes received */
    pgw_buf sending; /* startup phase: output being sent */
    pgw_buf pend;    /* startup phase: output queued behind sending */
    struct pgw_conn *next, *prev;
    struct pgw_conn *svc_next; /* the notify batch being serviced */
    pthread_t thread;

    /* under mu */
    pthread_mutex_t mu;
    bool busy;              /* a handler call for a statement is in progress */
    bool session_done;      /* the session thread is finished */
    int64_t close_deadline; /* shutting: last words go out until then (ms, CLOCK_MONOTONIC) */
    atomic_bool dead;       /* the client is gone: output goes nowhere */
    atomic_bool cancel;     /* cancel requested for the statement in progress */
    atomic_bool shutting;   /* the server is closing */

    /* under srv->nmu */
    bool notified;
    struct pgw_conn *notify_next;

    /* handed over at session start, then session only */
    pgw_buf inbox;     /* bytes received after the startup packet, not yet framed */
    char *startup_mem; /* owns the strings of st */
    io_pgw_startup st;
    io_pgw_out out; /* out.b starts with the startup output not yet sent */
} pgw_conn;

/* The server parts the session thread reads (set before any session
 * starts, constant afterwards). */
typedef struct pgw_shared {
    const io_pgw_handler *h;
    void *ctx;
    const pgw_auth *auth;
    const char *server_version;
} pgw_shared;

const pgw_shared *io_pgw_shared(const io_pgw_server *srv);

/* Session thread -> io thread: "look at c" (the session finished). Never
 * blocks for long; safe from any thread. */
void io_pgw_notify(pgw_conn *c);

/* The client is gone: sets dead (under c->mu). Any thread. */
void io_pgw_set_dead(pgw_conn *c);

/* Session thread (pgw_sock.c): writes all of c->out.b to the socket,
 * blocking (poll) while the socket does not take it. Returns 0 once every
 * byte is with the kernel; -1 if the client is gone, the output ran out of
 * memory or the server is closing (the session must end; the unsent bytes
 * stay in out.b for the last words); -2 if stop_on_cancel and the statement
 * was cancelled while waiting. */
int io_pgw_write_out(pgw_conn *c, bool stop_on_cancel);

/* Session thread: while shutting, sends what out.b holds until
 * c->close_deadline. Best effort; never blocks past the deadline. */
void io_pgw_write_last(pgw_conn *c);

/* Session thread: reads more bytes into in (at least one; room for need
 * more is made first). Blocks. Returns the number read, 0 at the end of the
 * input (client gone: dead is set; or the server closing), -1 out of
 * memory. */
ssize_t io_pgw_read_more(pgw_conn *c, pgw_buf *in, size_t need);

/* Size limit of a message of this type (PGW_MAX_*). */
uint32_t io_pgw_max_len(char type);

/* The session thread's body (pgw_session.c). */
void *io_pgw_session_main(void *arg);

#endif
