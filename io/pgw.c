/* pgwire v3: startup, simple and extended query framing, ErrorResponse. */
#include "io/io_pgw.h"
#include "engine/core/eng_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PGW_MAX_STARTUP 10000      /* PostgreSQL's own limit for the startup packet */
#define PGW_MAX_MESSAGE (1u << 30) /* 1 GiB, as PostgreSQL */
#define PGW_RECV_CHUNK 65536
#define PGW_PROTO_SSL 80877103
#define PGW_PROTO_GSS 80877104
#define PGW_PROTO_CANCEL 80877102

typedef struct buf {
    char *data;
    size_t len, cap, off; /* off: consumed prefix (input) or sent prefix (output) */
} buf;

typedef enum conn_state { CONN_STARTUP, CONN_READY, CONN_CLOSING } conn_state;

typedef struct conn {
    io_pgw_server *srv;
    int fd;
    conn_state state;
    bool recv_pending, send_pending, closed;
    bool skip_till_sync; /* extended protocol: after an error, discard until Sync */
    int32_t pid, secret;
    io_op recv_op, send_op;
    buf in, out;
    struct conn *next, *prev;
} conn;

struct io_pgw_server {
    io_loop *loop;
    int fd;
    int port;
    io_op accept_op;
    bool accept_pending;
    bool closing;
    conn *conns;
    int nconns;
    int32_t next_pid;
    io_pgw_query_fn query;
    void *query_ctx;
};

void
io_pgw_set_query_handler(io_pgw_server *srv, io_pgw_query_fn fn, void *ctx)
{
    srv->query = fn;
    srv->query_ctx = ctx;
}

/* ------------------------------------------------------------------ buffers */

static int
buf_reserve(buf *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return 0;
    if (b->off > 0) { /* compact before growing */
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->len + extra <= b->cap)
            return 0;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (d == NULL)
        return -1;
    b->data = d;
    b->cap = cap;
    return 0;
}

static void
buf_free(buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static void
put_bytes(buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return; /* out of memory: the connection is closed by the caller's check */
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void
put_u8(buf *b, uint8_t v)
{
    put_bytes(b, &v, 1);
}

static void
put_i32(buf *b, int32_t v)
{
    uint32_t n = htonl((uint32_t)v);
    put_bytes(b, &n, 4);
}

static void
put_str(buf *b, const char *s)
{
    put_bytes(b, s, strlen(s) + 1);
}

/* Begins a message of type t; returns the offset of its length word. */
static size_t
msg_begin(buf *b, char t)
{
    put_u8(b, (uint8_t)t);
    size_t at = b->len;
    put_i32(b, 0);
    return at;
}

static void
msg_end(buf *b, size_t at)
{
    if (at + 4 > b->len)
        return;
    uint32_t n = htonl((uint32_t)(b->len - at));
    memcpy(b->data + at, &n, 4);
}

static uint32_t
get_u32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return ntohl(v);
}

/* ------------------------------------------------------------------ messages */

static void
send_error(conn *c, const eng_err *e, bool fatal)
{
    size_t at = msg_begin(&c->out, 'E');
    const char *sev = fatal ? "FATAL" : eng_err_severity_name(e->severity);
    put_u8(&c->out, 'S');
    put_str(&c->out, sev);
    put_u8(&c->out, 'V');
    put_str(&c->out, sev);
    put_u8(&c->out, 'C');
    put_str(&c->out, e->sqlstate);
    put_u8(&c->out, 'M');
    put_str(&c->out, e->message);
    if (e->detail[0]) {
        put_u8(&c->out, 'D');
        put_str(&c->out, e->detail);
    }
    if (e->hint[0]) {
        put_u8(&c->out, 'H');
        put_str(&c->out, e->hint);
    }
    if (e->position > 0) {
        char pos[16];
        snprintf(pos, sizeof pos, "%d", e->position);
        put_u8(&c->out, 'P');
        put_str(&c->out, pos);
    }
    put_u8(&c->out, 0);
    msg_end(&c->out, at);
}

static void
send_param(conn *c, const char *k, const char *v)
{
    size_t at = msg_begin(&c->out, 'S');
    put_str(&c->out, k);
    put_str(&c->out, v);
    msg_end(&c->out, at);
}

static void
send_ready(conn *c)
{
    size_t at = msg_begin(&c->out, 'Z');
    put_u8(&c->out, 'I');
    msg_end(&c->out, at);
}

/* ------------------------------------------------------------------ connection I/O */

static void conn_flush(conn *c);

static void
conn_free(conn *c)
{
    io_pgw_server *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->nconns--;
    buf_free(&c->in);
    buf_free(&c->out);
    free(c);
}

/* Closes the socket; the struct is freed once no operation is in flight. */
static void
conn_close(conn *c)
{
    if (!c->closed) {
        c->closed = true;
        shutdown(c->fd, SHUT_RDWR); /* completes pending recv/send */
        close(c->fd);
        eng_log(ENG_LOG_DEBUG, "connection %d closed", c->pid);
    }
    if (!c->recv_pending && !c->send_pending)
        conn_free(c);
}

/* Marks c to close once what is buffered has been sent. The caller (the
 * recv completion) flushes; nothing is freed here, so message handlers may
 * go on touching c. */
static void
conn_close_after_flush(conn *c)
{
    c->state = CONN_CLOSING;
}

static void
fatal(conn *c, const char *sqlstate, const char *fmt, const char *arg)
{
    eng_err e;
    eng_err_clear(&e);
    eng_err_set(&e, sqlstate, fmt, arg);
    send_error(c, &e, true);
    conn_close_after_flush(c);
}

static void
on_send(io_loop *loop, io_op *op, int res, unsigned flags)
{
    (void)loop;
    (void)flags;
    conn *c = op->ctx;
    c->send_pending = false;
    if (c->closed) {
        conn_close(c);
        return;
    }
    if (res < 0) {
        eng_log(ENG_LOG_DEBUG, "connection %d: send: %s", c->pid, strerror(-res));
        conn_close(c);
        return;
    }
    c->out.off += (size_t)res;
    if (c->out.off == c->out.len)
        c->out.off = c->out.len = 0;
    conn_flush(c);
}

static void
conn_flush(conn *c)
{
    if (c->closed || c->send_pending)
        return;
    if (c->out.off < c->out.len) {
        struct io_uring_sqe *sqe = io_loop_sqe(c->srv->loop, &c->send_op);
        io_uring_prep_send(sqe, c->fd, c->out.data + c->out.off, c->out.len - c->out.off,
                           MSG_NOSIGNAL);
        c->send_pending = true;
    } else if (c->state == CONN_CLOSING) {
        conn_close(c);
    }
}

/* Handles the startup packet at the head of c->in. Returns bytes consumed,
 * 0 if incomplete. */
static size_t
handle_startup(conn *c)
{
    size_t avail = c->in.len - c->in.off;
    const char *p = c->in.data + c->in.off;
    if (avail < 4)
        return 0;
    uint32_t len = get_u32(p);
    if (len < 8 || len > PGW_MAX_STARTUP) {
        fatal(c, ENG_ERRCODE_PROTOCOL_VIOLATION, "invalid length of startup packet%s", "");
        return avail;
    }
    if (avail < len)
        return 0;
    uint32_t code = get_u32(p + 4);
    if (code == PGW_PROTO_SSL || code == PGW_PROTO_GSS) {
        put_u8(&c->out, 'N'); /* no TLS/GSS: the client retries in plain text */
        return len;
    }
    if (code == PGW_PROTO_CANCEL) {
        conn_close_after_flush(c); /* nothing runs yet, so there is nothing to cancel */
        return len;
    }
    if ((code >> 16) != 3) {
        char v[32];
        snprintf(v, sizeof v, "%u.%u", code >> 16, code & 0xffff);
        fatal(c, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
              "unsupported frontend protocol %s: server supports 3.0", v);
        return len;
    }
    /* Parameters: NUL-terminated key/value pairs, then one more NUL. */
    const char *user = NULL, *database = NULL, *appname = "";
    const char *q = p + 8, *end = p + len;
    while (q < end && *q) {
        const char *k = q;
        const char *kz = memchr(k, 0, (size_t)(end - k));
        if (kz == NULL || kz + 1 >= end)
            break;
        const char *v = kz + 1;
        const char *vz = memchr(v, 0, (size_t)(end - v));
        if (vz == NULL)
            break;
        if (strcmp(k, "user") == 0)
            user = v;
        else if (strcmp(k, "database") == 0)
            database = v;
        else if (strcmp(k, "application_name") == 0)
            appname = v;
        q = vz + 1;
    }
    if (q >= end || *q != '\0') {
        fatal(c, ENG_ERRCODE_PROTOCOL_VIOLATION, "malformed startup packet%s", "");
        return len;
    }
    if (user == NULL || *user == '\0') {
        fatal(c, ENG_ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
              "no PostgreSQL user name specified in startup packet%s", "");
        return len;
    }
    if (database == NULL || *database == '\0')
        database = user;
    if (strcmp(database, "materialize") != 0) {
        fatal(c, ENG_ERRCODE_INVALID_CATALOG_NAME, "database \"%s\" does not exist", database);
        return len;
    }
    size_t at = msg_begin(&c->out, 'R');
    put_i32(&c->out, 0); /* AuthenticationOk: trust */
    msg_end(&c->out, at);
    send_param(c, "server_version", "15.0");
    send_param(c, "server_encoding", "UTF8");
    send_param(c, "client_encoding", "UTF8");
    send_param(c, "DateStyle", "ISO, MDY");
    send_param(c, "IntervalStyle", "postgres");
    send_param(c, "TimeZone", "UTC");
    send_param(c, "integer_datetimes", "on");
    send_param(c, "standard_conforming_strings", "on");
    send_param(c, "is_superuser", "off");
    send_param(c, "session_authorization", user);
    send_param(c, "application_name", appname);
    at = msg_begin(&c->out, 'K');
    put_i32(&c->out, c->pid);
    put_i32(&c->out, c->secret);
    msg_end(&c->out, at);
    send_ready(c);
    c->state = CONN_READY;
    eng_log(ENG_LOG_DEBUG, "connection %d: user \"%s\" database \"%s\"", c->pid, user, database);
    return len;
}

static void
not_supported(conn *c)
{
    eng_err e;
    eng_err_clear(&e);
    eng_err_set(&e, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                "this sluiced build does not execute SQL statements yet");
    eng_err_hint(&e, "the server is up; the SQL front end arrives in a later version");
    send_error(c, &e, false);
}

/* Handles one regular message at the head of c->in. Returns bytes
 * consumed, 0 if incomplete. */
static size_t
handle_message(conn *c)
{
    size_t avail = c->in.len - c->in.off;
    const char *p = c->in.data + c->in.off;
    if (avail < 5)
        return 0;
    char type = p[0];
    uint32_t len = get_u32(p + 1);
    if (len < 4 || len > PGW_MAX_MESSAGE) {
        fatal(c, ENG_ERRCODE_PROTOCOL_VIOLATION, "invalid message length%s", "");
        return avail;
    }
    if (avail < (size_t)len + 1)
        return 0;
    const char *body = p + 5;
    size_t blen = len - 4;
    switch (type) {
    case 'Q':
        if (blen == 0 || body[blen - 1] != '\0') {
            fatal(c, ENG_ERRCODE_PROTOCOL_VIOLATION, "invalid query message%s", "");
            break;
        }
        {
            const char *s = body;
            while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == ';')
                s++;
            if (*s == '\0') {
                size_t at = msg_begin(&c->out, 'I'); /* EmptyQueryResponse */
                msg_end(&c->out, at);
            } else if (c->srv->query == NULL) {
                not_supported(c);
            } else {
                eng_err e;
                eng_err_clear(&e);
                char tag[64] = "";
                if (c->srv->query(c->srv->query_ctx, body, tag, sizeof tag, &e) != 0) {
                    send_error(c, &e, false);
                } else {
                    size_t at = msg_begin(&c->out, 'C'); /* CommandComplete */
                    put_str(&c->out, tag);
                    msg_end(&c->out, at);
                }
            }
        }
        send_ready(c);
        break;
    case 'X':
        conn_close_after_flush(c);
        break;
    case 'S': /* Sync */
        c->skip_till_sync = false;
        send_ready(c);
        break;
    case 'H': /* Flush */
        break;
    case 'P':
    case 'B':
    case 'D':
    case 'E':
    case 'C':
        if (!c->skip_till_sync) {
            not_supported(c);
            c->skip_till_sync = true;
        }
        break;
    default: {
        char t[8];
        snprintf(t, sizeof t, "%d", (unsigned char)type);
        fatal(c, ENG_ERRCODE_PROTOCOL_VIOLATION, "invalid frontend message type %s", t);
        break;
    }
    }
    return (size_t)len + 1;
}

static bool conn_recv(conn *c);

static void
on_recv(io_loop *loop, io_op *op, int res, unsigned flags)
{
    (void)loop;
    (void)flags;
    conn *c = op->ctx;
    c->recv_pending = false;
    if (c->closed || res <= 0) { /* closing, or EOF/error: the client went away */
        conn_close(c);
        return;
    }
    c->in.len += (size_t)res;
    while (c->state != CONN_CLOSING) {
        size_t used = c->state == CONN_STARTUP ? handle_startup(c) : handle_message(c);
        if (used == 0)
            break;
        c->in.off += used;
    }
    if (c->in.off == c->in.len)
        c->in.off = c->in.len = 0;
    if (c->state == CONN_CLOSING) {
        conn_flush(c); /* may free c */
        return;
    }
    if (conn_recv(c))
        conn_flush(c);
}

/* Arms a recv. Returns false if c was closed (and possibly freed). */
static bool
conn_recv(conn *c)
{
    if (c->closed || c->recv_pending)
        return !c->closed;
    if (buf_reserve(&c->in, PGW_RECV_CHUNK) != 0) {
        conn_close(c);
        return false;
    }
    struct io_uring_sqe *sqe = io_loop_sqe(c->srv->loop, &c->recv_op);
    io_uring_prep_recv(sqe, c->fd, c->in.data + c->in.len, c->in.cap - c->in.len, 0);
    c->recv_pending = true;
    return true;
}

/* ------------------------------------------------------------------ listener */

static void arm_accept(io_pgw_server *srv);

static void
on_accept(io_loop *loop, io_op *op, int res, unsigned flags)
{
    (void)loop;
    io_pgw_server *srv = op->ctx;
    if (!(flags & IORING_CQE_F_MORE))
        srv->accept_pending = false;
    if (srv->closing) {
        if (res >= 0)
            close(res);
        if (!srv->accept_pending && srv->fd < 0)
            free(srv);
        return;
    }
    if (res < 0) {
        if (res != -EINTR && res != -ECONNABORTED)
            eng_log(ENG_LOG_WARN, "accept: %s", strerror(-res));
    } else {
        conn *c = calloc(1, sizeof *c);
        if (c == NULL) {
            close(res);
        } else {
            int one = 1;
            setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c->srv = srv;
            c->fd = res;
            c->state = CONN_STARTUP;
            c->pid = ++srv->next_pid;
            c->secret = (int32_t)random();
            c->recv_op = (io_op){on_recv, c};
            c->send_op = (io_op){on_send, c};
            c->next = srv->conns;
            if (srv->conns)
                srv->conns->prev = c;
            srv->conns = c;
            srv->nconns++;
            (void)conn_recv(c);
        }
    }
    if (!srv->accept_pending)
        arm_accept(srv);
}

static void
arm_accept(io_pgw_server *srv)
{
    struct io_uring_sqe *sqe = io_loop_sqe(srv->loop, &srv->accept_op);
    io_uring_prep_multishot_accept(sqe, srv->fd, NULL, NULL, SOCK_CLOEXEC);
    srv->accept_pending = true;
}

int
io_pgw_listen(io_pgw_server **out, io_loop *loop, const char *host, int port, eng_err *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &ai);
    if (rc != 0)
        return eng_err_set(err, ENG_ERRCODE_CONNECTION_FAILURE,
                           "cannot resolve listen address %s: %s", host, gai_strerror(rc));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(ai);
        return eng_err_set(err, ENG_ERRCODE_CONNECTION_FAILURE, "socket: %s", strerror(errno));
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        freeaddrinfo(ai);
        close(fd);
        return eng_err_set(err, ENG_ERRCODE_CONNECTION_FAILURE, "cannot listen on %s:%d: %s", host,
                           port, strerror(e));
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    io_pgw_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        close(fd);
        return eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "out of memory");
    }
    srv->loop = loop;
    srv->fd = fd;
    srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    srv->accept_op = (io_op){on_accept, srv};
    arm_accept(srv);
    *out = srv;
    return 0;
}

int
io_pgw_port(const io_pgw_server *srv)
{
    return srv->port;
}

int
io_pgw_connections(const io_pgw_server *srv)
{
    return srv->nconns;
}

void
io_pgw_close(io_pgw_server *srv)
{
    if (srv == NULL)
        return;
    srv->closing = true;
    eng_err e;
    eng_err_clear(&e);
    eng_err_set(&e, ENG_ERRCODE_ADMIN_SHUTDOWN, "terminating connection: sluiced is shutting down");
    /* Best effort, synchronous: the loop no longer runs at shutdown. */
    for (conn *c = srv->conns; c != NULL;) {
        conn *next = c->next;
        if (!c->closed && c->state != CONN_STARTUP) {
            send_error(c, &e, true);
            ssize_t w = send(c->fd, c->out.data + c->out.off, c->out.len - c->out.off,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)w;
        }
        if (!c->closed) {
            shutdown(c->fd, SHUT_RDWR);
            close(c->fd);
        }
        buf_free(&c->in);
        buf_free(&c->out);
        free(c);
        c = next;
    }
    srv->conns = NULL;
    close(srv->fd);
    srv->fd = -1;
    /* The ring is torn down right after this, cancelling the accept; the
     * server struct can go now because no completion will be reaped. */
    free(srv);
}
