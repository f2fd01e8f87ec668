/* pgwire v3, io thread side: listener, startup packets, cancel requests,
 * hang-ups, and handing connections over to their session threads.
 *
 * Notes: the io thread owns every socket until startup completes: at most
 * one recv and one send in flight per connection. It answers
 * SSLRequest/GSSENCRequest ('N'), CancelRequest and malformed startup
 * packets itself; once a StartupMessage is accepted (and whatever it
 * queued, e.g. NegotiateProtocolVersion, is sent or handed along) it hands
 * the socket to the connection's session thread, which reads and writes it
 * directly from then on (pgw_sock.c). Afterwards the io thread only keeps
 * a poll for a hang-up (which sets dead, so a statement waiting without
 * output notices the client left), delivers CancelRequests (the cancel
 * flag, and the conn's eventfd for a session waiting on a full socket),
 * joins the session when it ends and closes the socket. A conn is freed
 * only once its socket is shut down, no operation is in flight and its
 * session thread was joined. */
#include "io/pgw_int.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine/core/eng_log.h"

#define PGW_MAX_STARTUP 10000 /* PostgreSQL's own limit for the startup packet */
#define PGW_RECV_CHUNK 16384  /* startup phase: the startup packet is at most 10000 bytes */
#define PGW_PROTO_SSL 80877103
#define PGW_PROTO_GSS 80877104
#define PGW_PROTO_CANCEL 80877102

/* PH_HANDOVER: the StartupMessage was accepted; the session thread starts
 * as soon as no send is in flight (the socket then changes hands). */
enum { PH_STARTUP, PH_HANDOVER, PH_SESSION, PH_CLOSING };

struct io_pgw_server {
    io_loop *loop;
    int fd, port;
    io_op accept_op;
    bool accept_pending;
    int efd; /* sessions -> io thread wake-ups (a session finished) */
    io_op efd_op;
    uint64_t efd_val;
    bool efd_pending;
    bool closing;
    pgw_conn *conns;
    atomic_int nconns;
    int nsessions, max_connections;
    size_t stack;
    int32_t next_pid;
    pgw_shared sh;
    pgw_auth *auth;
    char version[64];
    pthread_mutex_t nmu; /* guards the notify list */
    pgw_conn *notify_head;
};

const pgw_shared *
io_pgw_shared(const io_pgw_server *srv)
{
    return &srv->sh;
}

/* ------------------------------------------------------------------ lifetime */

static bool arm_recv(pgw_conn *c);
static void kick_send(pgw_conn *c);

static void
conn_free(pgw_conn *c)
{
    io_pgw_server *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    atomic_fetch_sub(&srv->nconns, 1);
    close(c->fd);
    if (c->wfd >= 0)
        close(c->wfd);
    io_pgw_buf_free(&c->in);
    io_pgw_buf_free(&c->sending);
    io_pgw_buf_free(&c->inbox);
    io_pgw_buf_free(&c->pend);
    free(c->startup_mem);
    pthread_mutex_destroy(&c->mu);
    eng_log(ENG_LOG_DEBUG, "connection %d closed", c->pid);
    free(c);
}

/* Frees c if nothing can touch it any more. Returns true if freed. */
static bool
conn_try_free(pgw_conn *c)
{
    if (!c->sock_shut || c->recv_pending || c->send_pending || c->poll_pending ||
        (c->has_thread && !c->joined))
        return false;
    /* A session's last notify may have put c on the list after the join
     * started: c goes when that list entry has been serviced. */
    pthread_mutex_lock(&c->srv->nmu);
    bool listed = c->notified;
    pthread_mutex_unlock(&c->srv->nmu);
    if (listed)
        return false;
    conn_free(c);
    return true;
}

/* Shuts the socket down (completing any operation in flight); c is freed
 * once the last operation completed and the session was joined. May free
 * c. */
static void
conn_shut(pgw_conn *c)
{
    if (!c->sock_shut) {
        c->sock_shut = true;
        shutdown(c->fd, SHUT_RDWR);
    }
    (void)conn_try_free(c);
}

/* Wakes a session blocked on a full socket (it rechecks its flags). */
static void
wake_session(pgw_conn *c)
{
    if (c->wfd < 0)
        return;
    uint64_t one = 1;
    ssize_t w = write(c->wfd, &one, sizeof one);
    (void)w; /* an eventfd write only fails on counter overflow */
}

/* The client is gone: a session's sends fail, its statement counts as
 * cancelled. */
static void
set_dead(pgw_conn *c)
{
    io_pgw_set_dead(c);
    wake_session(c);
}

/* A FATAL error from the io thread (before any session exists): queue it,
 * send it, close. */
static void
io_fatal(pgw_conn *c, const char *sqlstate, const char *msg)
{
    eng_err e;
    eng_err_clear(&e);
    eng_err_set(&e, sqlstate, "%s", msg);
    io_pgw_put_error(&c->pend, 'E', &e, true);
    c->phase = PH_CLOSING;
}

/* After io-side progress on a connection whose startup failed: closes it
 * once its output went out (or the client left). May free c. */
static void
maybe_finish(pgw_conn *c)
{
    if (c->phase != PH_CLOSING)
        return;
    bool drained = !c->send_pending && c->pend.len == 0 && c->sending.off == c->sending.len;
    if (atomic_load(&c->dead) || c->pend.oom || drained)
        conn_shut(c);
}

static void handover(pgw_conn *c);

/* ------------------------------------------------------------------ sending (startup phase) */

static void
on_send(io_loop *loop, io_op *op, int res, unsigned flags)
{
    (void)loop;
    (void)flags;
    pgw_conn *c = op->ctx;
    c->send_pending = false;
    if (res < 0) {
        eng_log(ENG_LOG_DEBUG, "connection %d: send: %s", c->pid, strerror(-res));
        set_dead(c);
        conn_shut(c);
        return;
    }
    c->sending.off += (size_t)res;
    if (c->sock_shut) {
        (void)conn_try_free(c);
        return;
    }
    kick_send(c);
    if (c->send_pending)
        return;
    if (c->phase == PH_HANDOVER)
        handover(c);
    maybe_finish(c);
}

/* Starts a send if none is in flight and there is output. */
static void
kick_send(pgw_conn *c)
{
    if (c->send_pending || c->sock_shut)
        return;
    if (c->sending.off == c->sending.len) {
        c->sending.off = c->sending.len = 0;
        if (c->pend.len > 0)
            buf_swap(&c->sending, &c->pend);
    }
    if (c->sending.off == c->sending.len)
        return;
    struct io_uring_sqe *sqe = io_loop_sqe(c->srv->loop, &c->send_op);
    io_uring_prep_send(sqe, c->fd, c->sending.data + c->sending.off,
                       c->sending.len - c->sending.off, MSG_NOSIGNAL);
    c->send_pending = true;
}

/* ------------------------------------------------------------------ cancel */

static void
handle_cancel(io_pgw_server *srv, int32_t pid, int32_t secret)
{
    for (pgw_conn *c = srv->conns; c != NULL; c = c->next) {
        if (c->pid != pid || !c->has_thread)
            continue;
        if (c->secret != secret) /* silently ignored, as PostgreSQL */
            return;
        pthread_mutex_lock(&c->mu);
        bool busy = c->busy;
        if (busy)
            atomic_store(&c->cancel, true);
        pthread_mutex_unlock(&c->mu);
        if (busy)
            wake_session(c);
        eng_log(ENG_LOG_DEBUG, "connection %d: cancel request", pid);
        return;
    }
}

/* ------------------------------------------------------------------ startup */

/* Copies the startup parameters for the session (borrowed pointers into
 * c->startup_mem). Returns -1 on out of memory. */
static int
keep_startup(pgw_conn *c, const char *params, size_t n, const char *user, const char *database,
             const char *appname, const char *options)
{
    c->startup_mem = malloc(n + 1);
    if (c->startup_mem == NULL)
        return -1;
    memcpy(c->startup_mem, params, n);
    c->startup_mem[n] = '\0';
#define REBASE(p) ((p) == NULL ? NULL : c->startup_mem + ((p)-params))
    c->st.user = REBASE(user);
    c->st.database = database == NULL ? c->st.user : REBASE(database);
    c->st.application_name = REBASE(appname);
    c->st.options = REBASE(options);
#undef REBASE
    return 0;
}

static void arm_poll(pgw_conn *c);

/* Gives the socket to a new session thread: the bytes after the startup
 * packet go to its input, the startup output not sent yet to the front of
 * its output. Called once no send is in flight. On failure the client gets
 * a FATAL and the connection closes. */
static void
handover(pgw_conn *c)
{
    io_pgw_server *srv = c->srv;
    io_pgw_buf_put(&c->inbox, c->in.data + c->in.off, c->in.len - c->in.off);
    io_pgw_buf_free(&c->in);
    io_pgw_out_init(&c->out, c);
    buf_swap(&c->out.b, &c->pend);
    io_pgw_buf_free(&c->sending);
    c->wfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int rc = c->inbox.oom ? ENOMEM : c->wfd < 0 ? errno : 0;
    if (rc == 0) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, srv->stack);
        rc = pthread_create(&c->thread, &attr, io_pgw_session_main, c);
        pthread_attr_destroy(&attr);
    }
    if (rc != 0) {
        eng_log(ENG_LOG_WARN, "cannot start a session thread: %s", strerror(rc));
        buf_swap(&c->out.b, &c->pend);
        io_pgw_out_free(&c->out);
        srv->nsessions--;
        io_fatal(c, ENG_ERRCODE_INSUFFICIENT_RESOURCES,
                 "could not start a session for the "
                 "connection");
        kick_send(c);
        return;
    }
    /* From here on c->inbox, c->out and the socket's data belong to the
     * session thread. */
    c->has_thread = true;
    c->phase = PH_SESSION;
    arm_poll(c);
}

/* Handles the startup-phase packet at the head of c->in. Returns bytes
 * consumed, 0 if incomplete. */
static size_t
handle_startup(pgw_conn *c)
{
    size_t avail = c->in.len - c->in.off;
    const char *p = c->in.data + c->in.off;
    if (avail < 4)
        return 0;
    uint32_t len = get_u32(p);
    if (len < 8 || len > PGW_MAX_STARTUP) {
        io_fatal(c, ENG_ERRCODE_PROTOCOL_VIOLATION, "invalid length of startup packet");
        return avail;
    }
    if (avail < len)
        return 0;
    uint32_t code = get_u32(p + 4);
    if (code == PGW_PROTO_SSL || code == PGW_PROTO_GSS) {
        put_u8(&c->pend, 'N'); /* no TLS/GSS: the client goes on in plain text */
        return len;
    }
    if (code == PGW_PROTO_CANCEL) {
        if (len == 16)
            handle_cancel(c->srv, (int32_t)get_u32(p + 8), (int32_t)get_u32(p + 12));
        c->phase = PH_CLOSING; /* no answer, as PostgreSQL */
        return len;
    }
    if ((code >> 16) != 3) {
        char m[96];
        snprintf(m, sizeof m, "unsupported frontend protocol %u.%u: server supports 3.0 to 3.0",
                 code >> 16, code & 0xffff);
        io_fatal(c, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, m);
        return len;
    }
    /* Parameters: NUL-terminated key/value pairs, then one more NUL. */
    const char *user = NULL, *database = NULL, *appname = NULL, *options = NULL;
    const char *q = p + 8, *end = p + len;
    int nunknown = 0;
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
        else if (strcmp(k, "options") == 0)
            options = v;
        else if (strncmp(k, "_pq_.", 5) == 0)
            nunknown++;
        q = vz + 1;
    }
    if (q >= end || *q != '\0') {
        io_fatal(c, ENG_ERRCODE_PROTOCOL_VIOLATION,
                 "invalid startup packet layout: expected "
                 "terminator as last byte");
        return len;
    }
    if (user == NULL || *user == '\0') {
        io_fatal(c, ENG_ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
                 "no PostgreSQL user name specified in startup packet");
        return len;
    }
    if (database != NULL && *database == '\0')
        database = NULL;
    if (c->srv->nsessions >= c->srv->max_connections) {
        io_fatal(c, ENG_ERRCODE_TOO_MANY_CONNECTIONS, "sorry, too many clients already");
        return len;
    }
    if ((code & 0xffff) != 0 || nunknown > 0) {
        /* NegotiateProtocolVersion: we speak 3.0 and no _pq_ options. */
        size_t at = msg_begin(&c->pend, 'v');
        put_i32(&c->pend, 0);
        put_i32(&c->pend, nunknown);
        for (const char *k = p + 8; k < q;) {
            const char *v = k + strlen(k) + 1;
            if (strncmp(k, "_pq_.", 5) == 0)
                put_str(&c->pend, k);
            k = v + strlen(v) + 1;
        }
        msg_end(&c->pend, at);
    }
    if (keep_startup(c, p + 8, len - 8, user, database, appname, options) != 0) {
        io_fatal(c, ENG_ERRCODE_OUT_OF_MEMORY, "out of memory");
        return len;
    }
    c->phase = PH_HANDOVER;
    c->srv->nsessions++; /* counts against max_connections from now on */
    return len;
}

/* ------------------------------------------------------------------ receiving (startup phase) */

static void
on_recv(io_loop *loop, io_op *op, int res, unsigned flags)
{
    (void)loop;
    (void)flags;
    pgw_conn *c = op->ctx;
    c->recv_pending = false;
    if (c->sock_shut || c->srv->closing) {
        (void)conn_try_free(c);
        return;
    }
    if (res <= 0) { /* EOF or error: the client went away */
        if (res < 0)
            eng_log(ENG_LOG_DEBUG, "connection %d: recv: %s", c->pid, strerror(-res));
        set_dead(c);
        conn_shut(c);
        return;
    }
    c->in.len += (size_t)res;
    while (c->phase == PH_STARTUP) {
        size_t used = handle_startup(c);
        if (used == 0)
            break;
        c->in.off += used;
    }
    if (c->phase == PH_HANDOVER) {
        /* What follows the startup packet stays in c->in for the session;
         * output queued by the startup goes out first or along with it. */
        if (!c->send_pending)
            handover(c);
        kick_send(c);
        maybe_finish(c);
        return;
    }
    if (c->in.off == c->in.len)
        c->in.off = c->in.len = 0;
    kick_send(c);
    if (c->phase == PH_CLOSING) {
        maybe_finish(c);
        return;
    }
    (void)arm_recv(c);
}

/* Arms a recv (startup phase) unless one is in flight. Returns false if c
 * was shut down (and possibly freed). */
static bool
arm_recv(pgw_conn *c)
{
    if (c->recv_pending || c->sock_shut || c->phase != PH_STARTUP)
        return !c->sock_shut;
    if (!io_pgw_buf_reserve(&c->in, PGW_RECV_CHUNK)) {
        set_dead(c);
        conn_shut(c);
        return false;
    }
    struct io_uring_sqe *sqe = io_loop_sqe(c->srv->loop, &c->recv_op);
    io_uring_prep_recv(sqe, c->fd, c->in.data + c->in.len, c->in.cap - c->in.len, 0);
    c->recv_pending = true;
    return true;
}

/* ------------------------------------------------------------------ hang-ups (session phase) */

/* The client hung up (FIN or RST) while a session owns the socket: the
 * session learns it through dead (a blocked recv or send sees it too). */
static void
on_poll(io_loop *loop, io_op *op, int res, unsigned flags)
{
    (void)loop;
    (void)flags;
    pgw_conn *c = op->ctx;
    c->poll_pending = false;
    if (c->sock_shut || c->srv->closing) {
        (void)conn_try_free(c);
        return;
    }
    if (res < 0) {
        eng_log(ENG_LOG_DEBUG, "connection %d: poll: %s", c->pid, strerror(-res));
        return;
    }
    set_dead(c);
}

static void
arm_poll(pgw_conn *c)
{
    struct io_uring_sqe *sqe = io_loop_sqe(c->srv->loop, &c->poll_op);
    io_uring_prep_poll_add(sqe, c->fd, POLLRDHUP);
    c->poll_pending = true;
}

/* ------------------------------------------------------------------ session wake-ups */

void
io_pgw_notify(pgw_conn *c)
{
    io_pgw_server *srv = c->srv;
    bool wake = false;
    pthread_mutex_lock(&srv->nmu);
    if (!c->notified) {
        c->notified = true;
        wake = srv->notify_head == NULL;
        c->notify_next = srv->notify_head;
        srv->notify_head = c;
    }
    pthread_mutex_unlock(&srv->nmu);
    if (wake) {
        uint64_t one = 1;
        ssize_t w = write(srv->efd, &one, sizeof one);
        (void)w; /* an eventfd write only fails on counter overflow */
    }
}

/* The session finished (its last output is written): joins it and closes
 * the connection. May free c. */
static void
service(pgw_conn *c)
{
    pthread_mutex_lock(&c->mu);
    bool done = c->session_done;
    pthread_mutex_unlock(&c->mu);
    if (!done || c->joined)
        return;
    pthread_join(c->thread, NULL);
    c->joined = true;
    c->srv->nsessions--;
    conn_shut(c);
}

static void arm_efd(io_pgw_server *srv);

static void
on_efd(io_loop *loop, io_op *op, int res, unsigned flags)
{
    (void)loop;
    (void)flags;
    (void)res;
    io_pgw_server *srv = op->ctx;
    srv->efd_pending = false;
    if (srv->closing)
        return;
    /* Sessions may queue a conn again as soon as it is off the list, which
     * rewrites notify_next: walk the batch through the io-only svc_next. */
    pgw_conn *batch = NULL;
    pthread_mutex_lock(&srv->nmu);
    for (pgw_conn *c = srv->notify_head; c != NULL; c = c->notify_next) {
        c->notified = false;
        c->svc_next = batch;
        batch = c;
    }
    srv->notify_head = NULL;
    pthread_mutex_unlock(&srv->nmu);
    while (batch != NULL) {
        pgw_conn *next = batch->svc_next;
        service(batch); /* may free batch */
        batch = next;
    }
    arm_efd(srv);
}

static void
arm_efd(io_pgw_server *srv)
{
    struct io_uring_sqe *sqe = io_loop_sqe(srv->loop, &srv->efd_op);
    io_uring_prep_read(sqe, srv->efd, &srv->efd_val, sizeof srv->efd_val, 0);
    srv->efd_pending = true;
}

/* ------------------------------------------------------------------ listener */

static void arm_accept(io_pgw_server *srv);

static void
setup_socket(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Half-open peers (a host that vanished) are found by keepalives, and
     * unacknowledged output times out instead of hanging forever. */
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    int idle = 60, intvl = 10, cnt = 6;
    unsigned timeout_ms = 120000;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms, sizeof timeout_ms);
}

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
        return;
    }
    if (res < 0) {
        if (res != -EINTR && res != -ECONNABORTED)
            eng_log(ENG_LOG_WARN, "accept: %s", strerror(-res));
    } else {
        pgw_conn *c = calloc(1, sizeof *c);
        if (c == NULL) {
            close(res);
        } else {
            setup_socket(res);
            c->srv = srv;
            c->fd = res;
            c->phase = PH_STARTUP;
            c->wfd = -1;
            pthread_mutex_init(&c->mu, NULL);
            c->pid = ++srv->next_pid;
            if (getrandom(&c->secret, sizeof c->secret, 0) != (ssize_t)sizeof c->secret)
                c->secret = (int32_t)random();
            c->recv_op = (io_op){on_recv, c};
            c->send_op = (io_op){on_send, c};
            c->poll_op = (io_op){on_poll, c};
            c->next = srv->conns;
            if (srv->conns)
                srv->conns->prev = c;
            srv->conns = c;
            atomic_fetch_add(&srv->nconns, 1);
            (void)arm_recv(c);
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
io_pgw_listen(io_pgw_server **out, io_loop *loop, const io_pgw_options *opts,
              const io_pgw_handler *handler, void *ctx, eng_err *err)
{
    const char *host = opts->host ? opts->host : "127.0.0.1";
    pgw_auth *auth = NULL;
    if (opts->password_file != NULL && io_pgw_auth_load(&auth, opts->password_file, err) != 0)
        return -1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", opts->port);
    int rc = getaddrinfo(host, portstr, &hints, &ai);
    if (rc != 0) {
        io_pgw_auth_free(auth);
        return eng_err_set(err, ENG_ERRCODE_CONNECTION_FAILURE,
                           "cannot resolve listen address %s: %s", host, gai_strerror(rc));
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(ai);
        io_pgw_auth_free(auth);
        return eng_err_set(err, ENG_ERRCODE_CONNECTION_FAILURE, "socket: %s", strerror(errno));
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        freeaddrinfo(ai);
        close(fd);
        io_pgw_auth_free(auth);
        return eng_err_set(err, ENG_ERRCODE_CONNECTION_FAILURE, "cannot listen on %s:%d: %s", host,
                           opts->port, strerror(e));
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    io_pgw_server *srv = calloc(1, sizeof *srv);
    int efd = eventfd(0, EFD_CLOEXEC);
    if (srv == NULL || efd < 0) {
        free(srv);
        if (efd >= 0)
            close(efd);
        close(fd);
        io_pgw_auth_free(auth);
        return eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "cannot create the pgwire server");
    }
    srv->loop = loop;
    srv->fd = fd;
    srv->efd = efd;
    srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    srv->max_connections = opts->max_connections > 0 ? opts->max_connections : 1000;
    srv->stack = opts->session_stack > 0 ? opts->session_stack : PGW_DEFAULT_STACK;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    srv->stack *= 4; /* sanitizers grow every frame */
#endif
    snprintf(srv->version, sizeof srv->version, "%s",
             opts->server_version ? opts->server_version : IO_PGW_DEFAULT_SERVER_VERSION);
    srv->auth = auth;
    srv->sh = (pgw_shared){handler, ctx, auth, srv->version};
    uint32_t base;
    if (getrandom(&base, sizeof base, 0) != (ssize_t)sizeof base)
        base = (uint32_t)getpid();
    srv->next_pid = (int32_t)(1000 + base % 1000000);
    pthread_mutex_init(&srv->nmu, NULL);
    srv->accept_op = (io_op){on_accept, srv};
    srv->efd_op = (io_op){on_efd, srv};
    arm_accept(srv);
    arm_efd(srv);
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
    return atomic_load(&((io_pgw_server *)srv)->nconns);
}

/* ------------------------------------------------------------------ shutdown */

static bool
no_sends(void *arg)
{
    io_pgw_server *srv = arg;
    for (pgw_conn *c = srv->conns; c != NULL; c = c->next)
        if (c->send_pending)
            return false;
    return true;
}

static bool
all_quiet(void *arg)
{
    io_pgw_server *srv = arg;
    return srv->conns == NULL && !srv->accept_pending && !srv->efd_pending;
}

static int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
io_pgw_close(io_pgw_server *srv)
{
    if (srv == NULL)
        return;
    srv->closing = true;
    if (srv->accept_pending)
        io_uring_prep_cancel(io_loop_sqe(srv->loop, NULL), &srv->accept_op, 0);
    if (srv->efd_pending)
        io_uring_prep_cancel(io_loop_sqe(srv->loop, NULL), &srv->efd_op, 0);
    close(srv->fd);
    /* Stop every session: handlers see io_pgw_cancelled, waits on a full
     * socket end (eventfd), blocked reads return 0 (SHUT_RD); each session
     * then writes FATAL 57P01 as its last words until the deadline. */
    int64_t deadline = mono_ms() + 300;
    for (pgw_conn *c = srv->conns; c != NULL; c = c->next) {
        pthread_mutex_lock(&c->mu);
        c->close_deadline = deadline;
        atomic_store(&c->shutting, true);
        pthread_mutex_unlock(&c->mu);
        if (c->has_thread && !c->joined) {
            shutdown(c->fd, SHUT_RD);
            wake_session(c);
        }
    }
    for (pgw_conn *c = srv->conns; c != NULL; c = c->next) {
        if (c->has_thread && !c->joined) {
            pthread_join(c->thread, NULL);
            c->joined = true;
        }
    }
    /* No session is left to notify: forget the list. */
    pthread_mutex_lock(&srv->nmu);
    for (pgw_conn *c = srv->notify_head; c != NULL; c = c->notify_next)
        c->notified = false;
    srv->notify_head = NULL;
    pthread_mutex_unlock(&srv->nmu);
    /* Startup-phase output still in flight (a FATAL, an 'N') may finish. */
    (void)io_loop_run_for(srv->loop, 300, no_sends, srv);
    for (pgw_conn *c = srv->conns, *next; c != NULL; c = next) {
        next = c->next;
        conn_shut(c); /* may free c */
    }
    if (!io_loop_run_for(srv->loop, 2000, all_quiet, srv)) {
        /* The kernel may still use these buffers: leak rather than free. */
        eng_log(ENG_LOG_WARN, "pgwire: operations still in flight at shutdown");
        return;
    }
    close(srv->efd);
    io_pgw_auth_free(srv->auth);
    pthread_mutex_destroy(&srv->nmu);
    free(srv);
}
