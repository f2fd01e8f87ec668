/* io_uring loop with callback completions. */
#include "io/io_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct io_loop {
    struct io_uring ring;
    bool stop;
};

int
io_loop_open(io_loop **out, unsigned entries, eng_err *err)
{
    io_loop *loop = calloc(1, sizeof *loop);
    if (loop == NULL)
        return eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "out of memory creating io loop");
    int rc = io_uring_queue_init(entries, &loop->ring, 0);
    if (rc < 0) {
        free(loop);
        return eng_err_set(err, ENG_ERRCODE_SYSTEM_ERROR, "io_uring_queue_init: %s", strerror(-rc));
    }
    *out = loop;
    return 0;
}

void
io_loop_close(io_loop *loop)
{
    if (loop == NULL)
        return;
    io_uring_queue_exit(&loop->ring);
    free(loop);
}

struct io_uring_sqe *
io_loop_sqe(io_loop *loop, io_op *op)
{
    struct io_uring_sqe *sqe;
    while ((sqe = io_uring_get_sqe(&loop->ring)) == NULL)
        io_uring_submit(&loop->ring);
    io_uring_sqe_set_data(sqe, op);
    return sqe;
}

void
io_loop_stop(io_loop *loop)
{
    loop->stop = true;
}

/* Calls back every completion ready now; stops early once the loop is
 * stopped (the rest stay queued for io_loop_run_for at teardown). */
static void
process_cqes(io_loop *loop)
{
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&loop->ring, head, cqe)
    {
        io_op *op = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        unsigned flags = cqe->flags;
        seen++;
        if (op != NULL && op->cb != NULL)
            op->cb(loop, op, res, flags);
        if (loop->stop)
            break;
    }
    io_uring_cq_advance(&loop->ring, seen);
}

int
io_loop_run(io_loop *loop, eng_err *err)
{
    while (!loop->stop) {
        int rc = io_uring_submit_and_wait(&loop->ring, 1);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
            return eng_err_set(err, ENG_ERRCODE_SYSTEM_ERROR, "io_uring_submit_and_wait: %s",
                               strerror(-rc));
        process_cqes(loop);
    }
    return 0;
}

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
io_loop_run_for(io_loop *loop, int timeout_ms, bool (*done)(void *arg), void *arg)
{
    loop->stop = false;
    int64_t deadline = now_ms() + timeout_ms;
    while (!done(arg)) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return false;
        struct __kernel_timespec ts = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000};
        struct io_uring_cqe *cqe;
        io_uring_submit(&loop->ring);
        int rc = io_uring_wait_cqe_timeout(&loop->ring, &cqe, &ts);
        if (rc < 0 && rc != -ETIME && rc != -EINTR)
            return false;
        process_cqes(loop);
    }
    return true;
}
