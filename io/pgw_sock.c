/* pgwire, session side: the connection's socket I/O after startup.
 *
 * Notes: everything here runs on the connection's session thread, which
 * owns the socket's reads and writes once the io thread handed it over (the
 * io thread keeps only a hang-up poll on it). This is PostgreSQL's backend
 * model: one round trip of a simple query costs the client -> session ->
 * client wake-ups and nothing else, where a hand-off through the io thread
 * costs two more context switches per query (io/README.md has the
 * figures).
 *   - Reads block in recv(2). What wakes them: data, EOF or RST from the
 *     client, and the server closing (io_pgw_close shuts the socket down
 *     for reading, which makes a blocked or later recv return 0).
 *   - Writes never block in send(2) (MSG_DONTWAIT); while the socket does
 *     not take more, the session polls the socket (POLLOUT, and POLLRDHUP
 *     for a client that left) and its eventfd, which the io thread writes
 *     for a CancelRequest and a hang-up. So a client that stops reading
 *     holds only its own session thread and the kernel's socket buffers. */
#include "io/pgw_int.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PGW_RECV_MIN 8192 /* room kept free for a recv */

void
io_pgw_set_dead(pgw_conn *c)
{
    pthread_mutex_lock(&c->mu);
    atomic_store(&c->dead, true);
    pthread_mutex_unlock(&c->mu);
}

static int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends what the socket takes now. Returns 1 all sent, 0 the socket is
 * full, -1 the client is gone (dead set). */
static int
send_some(pgw_conn *c, pgw_buf *b)
{
    while (b->off < b->len) {
        ssize_t n = send(c->fd, b->data + b->off, b->len - b->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            b->off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        } else {
            io_pgw_set_dead(c);
            return -1;
        }
    }
    b->off = b->len = 0;
    return 1;
}

/* Empties the wake-up eventfd (its counter only says "look again"). */
static void
drain_wfd(pgw_conn *c)
{
    uint64_t v;
    ssize_t r = read(c->wfd, &v, sizeof v);
    (void)r; /* EAGAIN: someone else read it; the flags are what count */
}

int
io_pgw_write_out(pgw_conn *c, bool stop_on_cancel)
{
    pgw_buf *b = &c->out.b;
    if (b->oom)
        return -1;
    for (;;) {
        if (atomic_load(&c->dead)) {
            b->off = b->len = 0;
            return -1;
        }
        int r = send_some(c, b);
        if (r != 0)
            return r > 0 ? 0 : -1;
        /* The socket is full: wait, unless there is a reason to stop. */
        if (atomic_load(&c->shutting))
            return -1;
        if (stop_on_cancel && atomic_load(&c->cancel))
            return -2;
        struct pollfd p[2] = {{c->fd, POLLOUT | POLLRDHUP, 0}, {c->wfd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0 && errno != EINTR) {
            io_pgw_set_dead(c); /* cannot wait: give the connection up */
            continue;
        }
        if (p[1].revents & POLLIN)
            drain_wfd(c);
        /* The client half-closed or hung up: it is gone, as an EOF on a
         * read would say (our own SHUT_RD at shutdown reports POLLRDHUP
         * too: the shutting check above ends the wait next). */
        if ((p[0].revents & (POLLRDHUP | POLLHUP | POLLERR)) && !atomic_load(&c->shutting))
            io_pgw_set_dead(c);
    }
}

void
io_pgw_write_last(pgw_conn *c)
{
    pgw_buf *b = &c->out.b;
    if (b->oom || atomic_load(&c->dead))
        return;
    pthread_mutex_lock(&c->mu);
    int64_t deadline = c->close_deadline;
    pthread_mutex_unlock(&c->mu);
    for (;;) {
        if (send_some(c, b) != 0)
            return;
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return;
        /* No POLLRDHUP: our own SHUT_RD would report it at once. */
        struct pollfd p = {c->fd, POLLOUT, 0};
        if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
            return;
    }
}

ssize_t
io_pgw_read_more(pgw_conn *c, pgw_buf *in, size_t need)
{
    size_t want = need > PGW_RECV_MIN ? need : PGW_RECV_MIN;
    if (in->cap - in->len < want && !io_pgw_buf_reserve(in, want))
        return -1;
    for (;;) {
        if (atomic_load(&c->dead) || atomic_load(&c->shutting))
            return 0;
        ssize_t n = recv(c->fd, in->data + in->len, in->cap - in->len, 0);
        if (n > 0) {
            in->len += (size_t)n;
            return n;
        }
        if (n < 0 && errno == EINTR)
            continue;
        /* EOF, RST, or our own SHUT_RD at shutdown. */
        if (!atomic_load(&c->shutting))
            io_pgw_set_dead(c);
        return 0;
    }
}

uint32_t
io_pgw_max_len(char type)
{
    switch (type) {
    case 'Q':
    case 'P':
    case 'B':
    case 'd':
    case 'F':
        return PGW_MAX_LARGE;
    case 'p':
        return PGW_MAX_AUTH;
    default:
        return PGW_MAX_SMALL;
    }
}
