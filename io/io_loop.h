/* The io_uring event loop: one ring, completion callbacks.
 *
 * Notes: every submission carries a pointer to an io_op as user_data; the
 * loop calls op->cb with the completion's result and flags. An io_op must
 * stay valid until its last completion (for multishot requests, until a
 * completion arrives without IORING_CQE_F_MORE). Single-threaded: only the
 * thread that runs the loop may touch it. */
#ifndef IO_LOOP_H
#define IO_LOOP_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/core/eng_err.h"

typedef struct io_loop io_loop;
typedef struct io_op io_op;

typedef void (*io_op_cb)(io_loop *loop, io_op *op, int res, unsigned flags);

struct io_op {
    io_op_cb cb;
    void *ctx;
};

/* Opens a ring with `entries` submission slots. Returns 0, or -1 with err. */
int io_loop_open(io_loop **out, unsigned entries, eng_err *err);
void io_loop_close(io_loop *loop);

/* A submission slot bound to op (submitting queued ones if the ring is
 * full). Never NULL. */
struct io_uring_sqe *io_loop_sqe(io_loop *loop, io_op *op);

/* Runs until io_loop_stop(); returns 0, or -1 with err if the ring fails. */
int io_loop_run(io_loop *loop, eng_err *err);
void io_loop_stop(io_loop *loop);

/* For teardown after io_loop_run returned: submits and calls back
 * completions until done(arg) is true (checked before each wait) or
 * timeout_ms passed. Returns done(arg). Completions queued when the loop
 * was stopped are delivered here (io_loop_run stops mid-batch). */
bool io_loop_run_for(io_loop *loop, int timeout_ms, bool (*done)(void *arg), void *arg);

#endif
