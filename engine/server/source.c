/* PostgreSQL sources (issue 5): CREATE SOURCE ... FROM POSTGRES, its
 * subsources and progress relation, the source thread, DROP SOURCE, and
 * what reads need to know (see source_int.h).
 *
 * Notes:
 * - Objects. A SOURCE object (eng_obj.rt = the srcrt) owns one SUBSOURCE
 *   per upstream table and a progress SUBSOURCE `<name>_progress` (lsn).
 *   Subsources are recorded in the catalog with an internal statement
 *   (CREATE SUBSOURCE '<json>') so a restart recreates them with the same
 *   ids and columns without asking upstream.
 * - Dataflows. A subsource is: one stream input + one input per snapshot
 *   connection -> union -> op_arrange in a CDC mode. A table with a key
 *   (primary key or replica identity index) is arranged UPSERT by that key
 *   (rows = key ++ all columns): an UPDATE or DELETE carries only the key
 *   and the arrangement finds the old row itself, so REPLICA IDENTITY
 *   DEFAULT works as FULL does and unchanged TOAST values are filled from
 *   the stored row. A table without a key (REPLICA IDENTITY FULL) is a BAG:
 *   old rows come in the messages. TRUNCATE is a command broadcast to
 *   every worker. Each input has exactly one feeding client: the source
 *   thread feeds the stream inputs, snapshot thread k feeds input k.
 * - Time. The snapshot lands at t0 (one timestamp; the subsources are
 *   readable at t0 only once every table is fully copied). The stream
 *   groups whole upstream transactions into ticks of one millisecond: a
 *   transaction never spans two timestamps and a tick closes (frontier
 *   advances) when the wall clock moves on and no transaction is open. When
 *   idle the frontier follows the wall clock.
 * - Upstream acknowledgement. The LSN confirmed to PostgreSQL is the end of
 *   the last transaction whose tick closed (its data is in the
 *   arrangements), or, when nothing is pending, the keepalive's position,
 *   so an idle publication does not pin WAL. Nothing is durable across a
 *   restart yet: a restart drops the slot and takes a new snapshot.
 * - Threads and locks. The source thread and snapshot threads never take
 *   the coordinator lock. src->mu guards status strings and subsource
 *   errors; statistics are atomics. DROP stops the threads before the
 *   dataflows go. A reader waiting for a snapshot holds a reference. */
#include "engine/server/source_rt.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "engine/core/eng_log.h"
#include "engine/core/eng_size.h"
#include "engine/core/eng_text.h"
#include "engine/server/lex.h"
#include "io/io_loop.h"
#include "io/io_pgrepl.h"
#include "operators/op_arrange.h"
#include "operators/op_union.h"

/* ------------------------------------------------------------------ state */

eng_time
src_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (eng_time)ts.tv_sec * 1000 + (eng_time)(ts.tv_nsec / 1000000);
}

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

char *
src_strdup(const char *s)
{
    char *d = strdup(s ? s : "");
    ENG_ASSERT(d != NULL);
    return d;
}

void
src_set_status(srcrt *src, const char *status, const char *error)
{
    pthread_mutex_lock(&src->mu);
    snprintf(src->status, sizeof src->status, "%s", status);
    free(src->error);
    src->error = error ? src_strdup(error) : NULL;
    if (strcmp(status, "failed") == 0)
        src->failed = true;
    pthread_cond_broadcast(&src->cv);
    pthread_mutex_unlock(&src->mu);
}

void
src_sub_fail(srcrt *src, subrt *sb, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&src->mu);
    if (sb->error == NULL) {
        sb->error = src_strdup(msg);
        atomic_store(&sb->errored, true);
        eng_log(ENG_LOG_WARN, "source %s: subsource %s stalled: %s", src->name, sb->name, msg);
    }
    pthread_mutex_unlock(&src->mu);
}

bool
src_sub_errored(const subrt *sb)
{
    return atomic_load_explicit(&sb->errored, memory_order_relaxed);
}

void
src_unref(srcrt *src)
{
    if (atomic_fetch_sub(&src->refs, 1) != 1)
        return;
    for (int i = 0; i < src->nsub; i++) {
        subrt *sb = &src->subs[i];
        for (int j = 0; j < sb->t.ncols; j++)
            free(sb->t.cols[j].name);
        free(sb->t.cols);
        free(sb->t.key);
        free(sb->t.schema);
        free(sb->t.name);
        free(sb->t.alias);
        free(sb->t.rowfilter);
        free(sb->name);
        free(sb->map);
        free(sb->error);
    }
    free(src->subs);
    if (src->k != NULL && src->k_free != NULL)
        src->k_free(src->k);
    ex_pgconn_free(&src->conn);
    free(src->name);
    free(src->publication);
    free(src->slot);
    free(src->error);
    free(src->details);
    pthread_mutex_destroy(&src->mu);
    pthread_cond_destroy(&src->cv);
    free(src);
}

/* ------------------------------------------------------------------ rows */

/* Builds a command row into out from per-column text values: key datums
 * (keyed) ++ every column ++ meta (NULL, or the unchanged mask as bytes). */
typedef struct rowctx {
    eng_rowbuf vals, out, mask;
    uint32_t *offs;
    int cap;
} rowctx;

static void
rowctx_free(rowctx *r)
{
    eng_rowbuf_free(&r->vals);
    eng_rowbuf_free(&r->out);
    eng_rowbuf_free(&r->mask);
    free(r->offs);
}

/* v[j]/len[j] (len < 0: NULL; unchanged[j] (may be NULL): TOAST value not
 * sent). */
static int
build_row(subrt *sb, rowctx *r, const char *const *v, const int32_t *len, const bool *unchanged,
          bool snapshot, eng_err *err)
{
    const io_pgsrc_table *t = &sb->t;
    if (r->cap < t->ncols + 1) {
        r->cap = t->ncols + 1;
        r->offs = realloc(r->offs, (size_t)r->cap * sizeof *r->offs);
        ENG_ASSERT(r->offs != NULL);
    }
    eng_rowbuf_reset(&r->vals);
    bool any_unchanged = false;
    for (int j = 0; j < t->ncols; j++) {
        r->offs[j] = r->vals.len;
        if (unchanged && unchanged[j]) {
            any_unchanged = true;
            eng_push_null(&r->vals);
        } else if (len[j] < 0) {
            eng_push_null(&r->vals);
        } else if (io_pgsrc_datum(&t->cols[j], v[j], (size_t)len[j], &r->vals, err) != 0) {
            return -1;
        }
    }
    r->offs[t->ncols] = r->vals.len;
    eng_rowbuf_reset(&r->out);
    if (sb->keyed)
        for (int k = 0; k < t->nkey; k++) {
            int j = t->key[k];
            eng_rowbuf_append(&r->out, r->vals.data + r->offs[j], r->offs[j + 1] - r->offs[j]);
        }
    eng_rowbuf_append(&r->out, r->vals.data, r->vals.len);
    if (any_unchanged) {
        uint8_t bits[(1024 + 7) / 8] = {0};
        int nb = (t->ncols + 7) / 8;
        for (int j = 0; j < t->ncols && j < 1024; j++)
            if (unchanged[j])
                bits[j / 8] |= (uint8_t)(1u << (j % 8));
        eng_push_var(&r->out, ENG_TAG_BYTES, bits, (uint32_t)nb);
    } else if (snapshot && sb->keyed) {
        eng_push_bool(&r->out, true); /* a new key: the arrangement need not look */
    } else {
        eng_push_null(&r->out);
    }
    return 0;
}

/* ------------------------------------------------------------------ snapshot */

typedef struct snap_task {
    int sub;
    int64_t first, end; /* pages; first < 0: whole table */
} snap_task;

typedef struct snapctx {
    srcrt *src;
    snap_task *tasks;
    int ntasks;
    atomic_int next;
    atomic_int done; /* threads finished */
    pthread_mutex_t mu;
    char *error; /* first failure */
} snapctx;

typedef struct snapw {
    snapctx *sc;
    int k;
    pthread_t th;
} snapw;

static void
snap_fail(snapctx *sc, const eng_err *e)
{
    pthread_mutex_lock(&sc->mu);
    if (sc->error == NULL) {
        char buf[1200];
        snprintf(buf, sizeof buf, "%s (SQLSTATE %s)", e->message, e->sqlstate);
        sc->error = src_strdup(buf);
    }
    pthread_mutex_unlock(&sc->mu);
}

static void *
snap_main(void *arg)
{
    snapw *w = arg;
    snapctx *sc = w->sc;
    srcrt *src = sc->src;
    eng_client *c = eng_client_new(src->co->rt);
    eng_err err;
    eng_err_clear(&err);
    char app[64];
    snprintf(app, sizeof app, "sluice snapshot %d", w->k);
    PGconn *pg = io_pgsrc_connect(&src->conn.c, false, app, &err);
    bool ok = pg != NULL && io_pgsrc_begin_snapshot(pg, src->snapshot, &err) == 0;
    eng_strbuf sql = {0}, fields = {0};
    rowctx rc = {0};
    int fcap = 0;
    int32_t *off = NULL, *len = NULL;
    const char **v = NULL;
    while (ok && !atomic_load(&src->stop)) {
        int ti = atomic_fetch_add(&sc->next, 1);
        if (ti >= sc->ntasks)
            break;
        snap_task *task = &sc->tasks[ti];
        subrt *sb = &src->subs[task->sub];
        int ncols = sb->t.ncols;
        if (fcap < ncols + 1) {
            fcap = ncols + 1;
            off = realloc(off, (size_t)fcap * sizeof *off);
            len = realloc(len, (size_t)fcap * sizeof *len);
            v = realloc(v, (size_t)fcap * sizeof *v);
            ENG_ASSERT(off && len && v);
        }
        io_pgsrc_copy_sql(&sb->t, task->first, task->end, &sql);
        if (src_sub_errored(sb))
            continue; /* altered upstream while we were down: stalled, not copied */
        /* A refused COPY: the server's error (its SQLSTATE and message). */
        PGresult *r = io_pgsrc_exec(pg, eng_strbuf_cstr(&sql), PGRES_COPY_OUT, &err);
        if (r == NULL) {
            ok = false;
            break;
        }
        PQclear(r);
        eng_batch *b = eng_client_batch(c);
        for (;;) {
            char *line = NULL;
            int n = PQgetCopyData(pg, &line, 0);
            if (n < 0)
                break;
            int nf = io_pgsrc_copy_split(line, (size_t)n, &fields, off, len, fcap, &err);
            if (nf >= 0 && nf != ncols)
                nf = eng_err_set(&err, ENG_ERRCODE_DATA_CORRUPTED,
                                 "a COPY row of %s.%s has %d fields, expected %d", sb->t.schema,
                                 sb->t.name, nf, ncols);
            if (nf >= 0) {
                for (int j = 0; j < ncols; j++)
                    v[j] = fields.data + off[j];
                if (build_row(sb, &rc, v, len, NULL, true, &err) != 0)
                    nf = -1;
            }
            PQfreemem(line);
            if (nf < 0) {
                ok = false;
                break;
            }
            eng_batch_push(b, eng_rowbuf_row(&rc.out), src->t0, 1);
            if (b->n >= ENG_BATCH_TARGET) {
                eng_df_send_keyed(c, sb->df, sb->in_snap0 + w->k, b, sb->kw);
                b = eng_client_batch(c);
                atomic_fetch_add(&src->snapshot_staged, ENG_BATCH_TARGET);
            }
            if (atomic_load(&src->stop)) {
                ok = false;
                break;
            }
        }
        if (b->n > 0) {
            atomic_fetch_add(&src->snapshot_staged, b->n);
            eng_df_send_keyed(c, sb->df, sb->in_snap0 + w->k, b, sb->kw);
        } else {
            eng_batch_free(b);
        }
        if (!ok)
            break;
        PGresult *end = PQgetResult(pg);
        if (PQresultStatus(end) != PGRES_COMMAND_OK) {
            eng_err_set(&err, ENG_ERRCODE_CONNECTION_FAILURE, "COPY of %s.%s failed: %s",
                        sb->t.schema, sb->t.name, PQerrorMessage(pg));
            ok = false;
        }
        PQclear(end);
        while ((end = PQgetResult(pg)) != NULL)
            PQclear(end);
    }
    if (!ok && !atomic_load(&src->stop))
        snap_fail(sc, &err);
    /* This connection is done with every subsource: close its inputs (the
     * snapshot is all at t0, nothing follows). */
    for (int i = 0; i < src->nsub; i++)
        eng_df_advance(c, src->subs[i].df, src->subs[i].in_snap0 + w->k, ENG_TIME_MAX);
    PQfinish(pg);
    eng_strbuf_free(&sql);
    eng_strbuf_free(&fields);
    rowctx_free(&rc);
    free(off);
    free(len);
    free(v);
    eng_client_free(c);
    atomic_fetch_add(&sc->done, 1);
    return NULL;
}

/* Copies every table in the exported snapshot over src->nsnap connections.
 * Returns 0, or -1 with err (the first failure). */
static int
snapshot_all(srcrt *src, eng_err *err)
{
    snapctx sc = {.src = src};
    pthread_mutex_init(&sc.mu, NULL);
    atomic_init(&sc.next, 0);
    atomic_init(&sc.done, 0);
    uint64_t known = 0;
    int cap = 0;
    for (int i = 0; i < src->nsub; i++) {
        const io_pgsrc_table *t = &src->subs[i].t;
        if (t->tuples > 0)
            known += (uint64_t)t->tuples;
        /* Big tables are split into ctid ranges, several per connection. */
        int parts = t->pages > 2048 ? src->nsnap * 4 : 1;
        if (sc.ntasks + parts > cap) {
            cap = (sc.ntasks + parts) * 2;
            sc.tasks = realloc(sc.tasks, (size_t)cap * sizeof *sc.tasks);
            ENG_ASSERT(sc.tasks != NULL);
        }
        if (parts == 1) {
            sc.tasks[sc.ntasks++] = (snap_task){i, -1, -1};
            continue;
        }
        int64_t step = (t->pages + parts - 1) / parts;
        for (int p = 0; p < parts; p++)
            sc.tasks[sc.ntasks++] =
                (snap_task){i, (int64_t)p * step, p == parts - 1 ? -1 : (int64_t)(p + 1) * step};
    }
    atomic_store(&src->snapshot_known, known);
    snapw *w = calloc((size_t)src->nsnap, sizeof *w);
    ENG_ASSERT(w != NULL);
    for (int k = 0; k < src->nsnap; k++) {
        w[k].sc = &sc;
        w[k].k = k;
        if (pthread_create(&w[k].th, NULL, snap_main, &w[k]) != 0)
            ENG_UNREACHABLE("cannot start a snapshot thread");
    }
    /* Progress in the log every 2 s while the copies run. */
    struct timespec last;
    clock_gettime(CLOCK_MONOTONIC, &last);
    while (atomic_load(&sc.done) < src->nsnap) {
        sleep_ms(20);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - last.tv_sec < 2)
            continue;
        last = now;
        uint64_t staged = atomic_load(&src->snapshot_staged);
        eng_log(ENG_LOG_INFO, "source %s: snapshot %llu of ~%llu rows (%d%%)", src->name,
                (unsigned long long)staged, (unsigned long long)known,
                known ? (int)(staged * 100 / known > 99 ? 99 : staged * 100 / known) : 0);
    }
    for (int k = 0; k < src->nsnap; k++)
        pthread_join(w[k].th, NULL);
    free(w);
    free(sc.tasks);
    pthread_mutex_destroy(&sc.mu);
    if (sc.error != NULL) {
        eng_err_set(err, ENG_ERRCODE_CONNECTION_FAILURE, "snapshot failed: %s", sc.error);
        free(sc.error);
        return -1;
    }
    atomic_store(&src->snapshot_known, atomic_load(&src->snapshot_staged));
    return 0;
}

/* ------------------------------------------------------------------ streaming */

void
src_sub_truncate(srcrt *src, eng_client *c, subrt *sb, eng_time t)
{
    eng_rowbuf rb = {0};
    int n = (sb->keyed ? sb->t.nkey : 0) + sb->t.ncols;
    for (int j = 0; j < n; j++)
        eng_push_null(&rb);
    eng_push_int2(&rb, 1);
    int W = eng_rt_workers(src->co->rt);
    for (int w = 0; w < W; w++) {
        eng_batch *b = eng_client_batch(c);
        eng_batch_push(b, eng_rowbuf_row(&rb), t, 1);
        eng_df_send_to(c, sb->df, sb->in_stream, w, b, sb->kw);
    }
    eng_rowbuf_free(&rb);
}

void
src_publish_counts(srcrt *src, uint64_t *msgs, uint64_t *bytes, uint64_t *staged)
{
    if (*msgs)
        atomic_fetch_add_explicit(&src->messages_received, *msgs, memory_order_relaxed);
    if (*bytes)
        atomic_fetch_add_explicit(&src->bytes_received, *bytes, memory_order_relaxed);
    if (*staged)
        atomic_fetch_add_explicit(&src->updates_staged, *staged, memory_order_relaxed);
    *msgs = *bytes = *staged = 0;
}

struct src_pollop {
    io_op op;
    src_io *io;
    bool dead; /* cancelled: freed on its completion */
};

static void
io_poll_cb(io_loop *loop, io_op *op, int res, unsigned flags)
{
    (void)loop;
    (void)res;
    (void)flags;
    src_pollop *po = (src_pollop *)op;
    src_io *io = po->io;
    if (po->dead) {
        io->dead_polls--;
        free(po);
        return;
    }
    io->poll = NULL;
    free(po);
    io->on_ready(io->ctx);
}

void
src_io_poll(src_io *io, int fd)
{
    if (io->poll != NULL)
        return;
    src_pollop *po = calloc(1, sizeof *po);
    ENG_ASSERT(po != NULL);
    po->op.cb = io_poll_cb;
    po->io = io;
    io->poll = po;
    struct io_uring_sqe *sqe = io_loop_sqe(io->loop, &po->op);
    io_uring_prep_poll_add(sqe, fd, POLLIN);
}

void
src_io_unpoll(src_io *io)
{
    if (io->poll == NULL)
        return;
    io->poll->dead = true;
    io->dead_polls++;
    struct io_uring_sqe *sqe = io_loop_sqe(io->loop, NULL);
    io_uring_prep_poll_remove(sqe, (__u64)(uintptr_t)&io->poll->op);
    io_uring_sqe_set_data(sqe, NULL);
    io->poll = NULL;
}

static void
arm_tick(src_io *io)
{
    io->tick_ts.tv_sec = 0;
    io->tick_ts.tv_nsec = 1000000;
    struct io_uring_sqe *sqe = io_loop_sqe(io->loop, &io->timer);
    io_uring_prep_timeout(sqe, &io->tick_ts, 0, 0);
}

static void
io_timer_cb(io_loop *loop, io_op *op, int res, unsigned flags)
{
    (void)res;
    (void)flags;
    src_io *io = op->ctx;
    if (atomic_load(&io->src->stop)) {
        io->timer_done = true;
        io_loop_stop(loop);
        return;
    }
    io->on_tick(io->ctx);
    arm_tick(io);
}

int
src_io_open(src_io *io, srcrt *src, void (*on_ready)(void *ctx), void (*on_tick)(void *ctx),
            void *ctx, eng_err *err)
{
    memset(io, 0, sizeof *io);
    io->src = src;
    io->on_ready = on_ready;
    io->on_tick = on_tick;
    io->ctx = ctx;
    io->timer.cb = io_timer_cb;
    io->timer.ctx = io;
    return io_loop_open(&io->loop, 64, err);
}

void
src_io_run(src_io *io)
{
    eng_err err;
    eng_err_clear(&err);
    arm_tick(io);
    (void)io_loop_run(io->loop, &err);
}

static bool
io_quiet(void *arg)
{
    const src_io *io = arg;
    return io->timer_done && io->dead_polls == 0;
}

void
src_io_close(src_io *io)
{
    if (io->loop == NULL)
        return;
    src_io_unpoll(io);
    /* Let the cancelled poll and the timer complete before the ring goes. */
    (void)io_loop_run_for(io->loop, 1000, io_quiet, io);
    io_loop_close(io->loop);
    io->loop = NULL;
}

typedef struct stream {
    srcrt *src;
    eng_client *c;
    src_io io; /* polls pg's socket */
    PGconn *pg;
    io_pgrepl_scratch scratch;
    rowctx rc;
    /* transactions */
    bool in_txn;
    uint64_t txn_final_lsn;
    uint64_t txn_changes;                  /* data changes of the open transaction seen so far */
    uint64_t skip_final_lsn, skip_changes; /* a transaction partly applied before a reconnect */
    uint64_t last_commit_end;              /* end LSN of the last transaction applied */
    /* ticks */
    bool tick_open;
    eng_time tick_t;
    eng_time frontier;        /* every stream input is at this frontier */
    uint64_t tick_commit_end; /* last commit end in the open tick */
    uint64_t confirmed;       /* the LSN we report as applied */
    uint64_t progress_lsn;    /* the value in the progress relation */
    uint64_t tick_staged;
    /* statistics counted here and published once per drain (no atomic
     * per message on the hot path) */
    uint64_t n_msgs, n_bytes, n_staged;
    int64_t last_status_us;
    /* reconnecting */
    bool connected;
    int backoff_ms;
    eng_time next_attempt;
    int last_sub; /* lookup cache */
    /* scratch for tuples */
    const char **v;
    int32_t *len;
    bool *unch;
    int vcap;
} stream;

static void arm_poll(stream *st);

static void
send_status(stream *st, bool reply)
{
    if (st->pg == NULL)
        return;
    uint8_t buf[34];
    size_t n = io_pgrepl_status_encode(buf, st->confirmed, st->confirmed, st->confirmed,
                                       ex_now_us(), reply);
    if (PQputCopyData(st->pg, (const char *)buf, (int)n) == 1)
        (void)PQflush(st->pg);
    st->last_status_us = ex_now_us();
    atomic_store(&st->src->offset_committed, st->confirmed);
}

static void
flush_sub(stream *st, subrt *sb)
{
    if (sb->b != NULL && sb->b->n > 0) {
        eng_df_send_keyed(st->c, sb->df, sb->in_stream, sb->b, sb->kw);
        sb->b = NULL;
    }
}

/* Advances every stream input (and the progress relation) to f. */
static void
advance_all(stream *st, eng_time f)
{
    srcrt *src = st->src;
    for (int i = 0; i < src->nsub; i++) {
        flush_sub(st, &src->subs[i]);
        eng_df_advance(st->c, src->subs[i].df, src->subs[i].in_stream, f);
    }
    eng_df_advance(st->c, src->prog_df, src->prog_in, f);
    st->frontier = f;
}

static void
progress_row(eng_rowbuf *rb, uint64_t lsn)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)lsn);
    eng_type nt = eng_type_make(ENG_TYPE_NUMERIC, ENG_TYPMOD_NONE);
    eng_err e;
    eng_err_clear(&e);
    eng_rowbuf_reset(rb);
    if (eng_text_parse(&nt, buf, strlen(buf), rb, &e) != 0)
        eng_push_null(rb);
}

static void
set_progress(stream *st, eng_time t, uint64_t lsn)
{
    if (lsn == st->progress_lsn)
        return;
    srcrt *src = st->src;
    eng_batch *b = eng_client_batch(st->c);
    eng_rowbuf rb = {0};
    if (st->progress_lsn != 0) {
        progress_row(&rb, st->progress_lsn);
        eng_batch_push(b, eng_rowbuf_row(&rb), t, -1);
    }
    progress_row(&rb, lsn);
    eng_batch_push(b, eng_rowbuf_row(&rb), t, 1);
    eng_rowbuf_free(&rb);
    eng_df_send(st->c, src->prog_df, src->prog_in, b);
    st->progress_lsn = lsn;
}

static void
tick_begin(stream *st)
{
    if (st->tick_open)
        return;
    eng_time now = src_now_ms();
    st->tick_t = now > st->frontier ? now : st->frontier;
    st->tick_open = true;
    st->tick_staged = 0;
}

static void
tick_close(stream *st)
{
    if (!st->tick_open || st->in_txn || st->skip_final_lsn != 0)
        return;
    if (st->tick_commit_end > st->progress_lsn)
        set_progress(st, st->tick_t, st->tick_commit_end);
    advance_all(st, st->tick_t + 1);
    st->tick_open = false;
    atomic_fetch_add(&st->src->updates_committed, st->tick_staged);
    if (st->tick_commit_end > st->confirmed)
        st->confirmed = st->tick_commit_end;
}

static subrt *
find_sub(stream *st, uint32_t relid)
{
    srcrt *src = st->src;
    if (st->last_sub < src->nsub && src->subs[st->last_sub].t.relid == relid)
        return &src->subs[st->last_sub];
    for (int i = 0; i < src->nsub; i++)
        if (src->subs[i].t.relid == relid) {
            st->last_sub = i;
            return &src->subs[i];
        }
    return NULL;
}

static void
push_cmd(stream *st, subrt *sb, eng_row r, int64_t diff)
{
    if (sb->b == NULL)
        sb->b = eng_client_batch(st->c);
    eng_batch_push(sb->b, r, st->tick_t, diff);
    if (sb->b->n >= ENG_BATCH_TARGET)
        flush_sub(st, sb);
    st->tick_staged++;
    st->n_staged++;
}

/* A Relation message: map its columns onto the subsource's by name. */
static void
on_relation(stream *st, const io_pgrepl_msg *m)
{
    subrt *sb = find_sub(st, m->relid);
    if (sb == NULL)
        return;
    free(sb->map);
    sb->map = calloc((size_t)(m->ncols ? m->ncols : 1), sizeof *sb->map);
    ENG_ASSERT(sb->map != NULL);
    sb->map_n = m->ncols;
    sb->rel_seen = true;
    const io_pgsrc_table *t = &sb->t;
    for (int i = 0; i < m->ncols; i++) {
        sb->map[i] = -1;
        for (int j = 0; j < t->ncols; j++)
            if (strcmp(t->cols[j].name, m->cols[i].name) == 0) {
                sb->map[i] = j;
                if (m->cols[i].type_oid != t->cols[j].oid)
                    src_sub_fail(st->src, sb,
                                 "table %s.%s was altered upstream: column \"%s\" changed type; "
                                 "recreate the source to pick up the new definition",
                                 t->schema, t->name, t->cols[j].name);
            }
    }
    for (int j = 0; j < t->ncols; j++) {
        bool found = false;
        for (int i = 0; i < m->ncols; i++)
            found |= sb->map[i] == j;
        if (!found)
            src_sub_fail(
                st->src, sb,
                "table %s.%s was altered upstream: column \"%s\" was dropped; recreate the "
                "source to pick up the new definition",
                t->schema, t->name, t->cols[j].name);
    }
}

/* Maps a tuple onto the subsource's columns (st->v/len/unch). fill: a
 * tuple whose unchanged values are filled from (or NULL). */
static int
map_tuple(stream *st, subrt *sb, const io_pgrepl_tuple *tup, const io_pgrepl_tuple *fill)
{
    int ncols = sb->t.ncols;
    if (st->vcap < ncols) {
        st->vcap = ncols;
        st->v = realloc(st->v, (size_t)ncols * sizeof *st->v);
        st->len = realloc(st->len, (size_t)ncols * sizeof *st->len);
        st->unch = realloc(st->unch, (size_t)ncols * sizeof *st->unch);
        ENG_ASSERT(st->v && st->len && st->unch);
    }
    if (!sb->rel_seen || tup->ncols != sb->map_n) {
        src_sub_fail(st->src, sb, "a change of table %s.%s does not match its Relation message",
                     sb->t.schema, sb->t.name);
        return -1;
    }
    for (int j = 0; j < ncols; j++) {
        st->v[j] = NULL;
        st->len[j] = -1;
        st->unch[j] = false;
    }
    for (int i = 0; i < tup->ncols; i++) {
        int j = sb->map[i];
        if (j < 0)
            continue;
        const io_pgrepl_value *x = &tup->values[i];
        if (x->kind == 'u' && fill != NULL && i < fill->ncols && fill->values[i].kind != 'u')
            x = &fill->values[i];
        if (x->kind == 't') {
            st->v[j] = (const char *)x->data;
            st->len[j] = (int32_t)x->len;
        } else if (x->kind == 'u') {
            st->unch[j] = true;
        } else if (x->kind == 'b') {
            src_sub_fail(st->src, sb, "binary values are not expected in table %s.%s", sb->t.schema,
                         sb->t.name);
            return -1;
        }
    }
    return 0;
}

static bool
any_unchanged(stream *st, int ncols)
{
    for (int j = 0; j < ncols; j++)
        if (st->unch[j])
            return true;
    return false;
}

static int
emit_tuple(stream *st, subrt *sb, int64_t diff, bool with_mask, bool new_key)
{
    eng_err e;
    eng_err_clear(&e);
    if (build_row(sb, &st->rc, st->v, st->len, with_mask ? st->unch : NULL, new_key, &e) != 0) {
        src_sub_fail(st->src, sb, "cannot ingest a row of table %s.%s: %s", sb->t.schema,
                     sb->t.name, e.message);
        return -1;
    }
    push_cmd(st, sb, eng_rowbuf_row(&st->rc.out), diff);
    return 0;
}

/* Whether two tuples' key columns differ (keyed tables). */
static bool
key_changed(subrt *sb, const io_pgrepl_tuple *a, const io_pgrepl_tuple *b)
{
    for (int i = 0; i < a->ncols && i < b->ncols && i < sb->map_n; i++) {
        int j = sb->map[i];
        bool is_key = false;
        for (int k = 0; k < sb->t.nkey; k++)
            is_key |= sb->t.key[k] == j;
        if (!is_key || j < 0)
            continue;
        const io_pgrepl_value *x = &a->values[i], *y = &b->values[i];
        if (x->kind == 'u' || y->kind == 'u')
            continue;
        if (x->kind != y->kind || x->len != y->len ||
            (x->len && memcmp(x->data, y->data, x->len) != 0))
            return true;
    }
    return false;
}

static void
on_change(stream *st, const io_pgrepl_msg *m)
{
    srcrt *src = st->src;
    if (m->kind == 'T') {
        for (int r = 0; r < m->nrels; r++) {
            subrt *sb = find_sub(st, m->relids[r]);
            if (sb == NULL || src_sub_errored(sb))
                continue;
            flush_sub(st, sb);
            src_sub_truncate(src, st->c, sb, st->tick_t);
            st->tick_staged++;
            st->n_staged++;
        }
        return;
    }
    subrt *sb = find_sub(st, m->relid);
    if (sb == NULL || src_sub_errored(sb))
        return;
    int ncols = sb->t.ncols;
    switch (m->kind) {
    case 'I':
        /* An inserted key is absent: upstream's immediate unique key says
         * so, and the subsource is upstream as of the previous change. */
        if (map_tuple(st, sb, &m->newtup, NULL) == 0)
            (void)emit_tuple(st, sb, 1, false, true);
        break;
    case 'U':
        if (sb->keyed) {
            if (m->old_kind != 0 && key_changed(sb, &m->oldtup, &m->newtup)) {
                /* The key changed: delete the old key, insert the new row
                 * (unchanged values are filled from the old row, if sent). */
                if (map_tuple(st, sb, &m->oldtup, NULL) != 0 ||
                    emit_tuple(st, sb, -1, false, false))
                    break;
                if (map_tuple(st, sb, &m->newtup, m->old_kind == 'O' ? &m->oldtup : NULL) != 0)
                    break;
                if (any_unchanged(st, ncols)) {
                    src_sub_fail(src, sb,
                                 "an update of table %s.%s changed its key and left a TOAST value "
                                 "unsent; set REPLICA IDENTITY FULL upstream",
                                 sb->t.schema, sb->t.name);
                    break;
                }
                (void)emit_tuple(st, sb, 1, false, false);
            } else if (map_tuple(st, sb, &m->newtup, m->old_kind == 'O' ? &m->oldtup : NULL) == 0) {
                (void)emit_tuple(st, sb, 1, true, false);
            }
        } else {
            if (m->old_kind != 'O') {
                src_sub_fail(src, sb,
                             "table %s.%s has no key and its updates carry no old row; set "
                             "REPLICA IDENTITY FULL upstream",
                             sb->t.schema, sb->t.name);
                break;
            }
            if (map_tuple(st, sb, &m->oldtup, NULL) != 0 || emit_tuple(st, sb, -1, false, false))
                break;
            if (map_tuple(st, sb, &m->newtup, &m->oldtup) != 0)
                break;
            (void)emit_tuple(st, sb, 1, false, false);
        }
        break;
    case 'D':
        if (m->old_kind == 0) {
            src_sub_fail(src, sb, "a delete from table %s.%s carries no old row", sb->t.schema,
                         sb->t.name);
            break;
        }
        if (!sb->keyed && m->old_kind != 'O') {
            src_sub_fail(src, sb,
                         "table %s.%s has no key and its deletes carry no old row; set REPLICA "
                         "IDENTITY FULL upstream",
                         sb->t.schema, sb->t.name);
            break;
        }
        if (map_tuple(st, sb, &m->oldtup, NULL) == 0)
            (void)emit_tuple(st, sb, -1, false, false);
        break;
    default:
        break;
    }
}

/* One pgoutput message. Returns 0, or -1 (the stream is broken). */
static int
on_message(stream *st, const uint8_t *p, size_t n, eng_err *err)
{
    io_pgrepl_msg m;
    if (io_pgrepl_decode(p, n, &st->scratch, &m, err) != 0)
        return -1;
    switch (m.kind) {
    case 'B':
        tick_begin(st);
        st->in_txn = true;
        st->txn_final_lsn = m.lsn;
        st->txn_changes = 0;
        break;
    case 'C':
        st->in_txn = false;
        if (st->skip_final_lsn != 0 && st->skip_final_lsn == st->txn_final_lsn)
            st->skip_final_lsn = 0;
        st->last_commit_end = m.end_lsn;
        st->tick_commit_end = m.end_lsn;
        if (src_now_ms() > st->tick_t)
            tick_close(st);
        break;
    case 'R':
        on_relation(st, &m);
        break;
    case 'I':
    case 'U':
    case 'D':
    case 'T':
        if (!st->in_txn)
            return eng_err_set(err, ENG_ERRCODE_PROTOCOL_VIOLATION,
                               "pgoutput sent a change outside a transaction");
        st->txn_changes++;
        if (st->skip_final_lsn != 0 && st->skip_final_lsn == st->txn_final_lsn &&
            st->txn_changes <= st->skip_changes)
            break; /* applied before the connection was lost */
        on_change(st, &m);
        break;
    default: /* Origin, Type, Message */
        break;
    }
    return 0;
}

static void
conn_lost(stream *st, const char *why)
{
    srcrt *src = st->src;
    src_io_unpoll(&st->io);
    if (st->in_txn) {
        /* Part of this transaction is in the open tick: after reconnecting,
         * skip what was applied when it arrives again. */
        st->skip_final_lsn = st->txn_final_lsn;
        st->skip_changes = st->txn_changes;
        st->in_txn = false;
    }
    PQfinish(st->pg);
    st->pg = NULL;
    st->connected = false;
    /* The first attempt comes at once (a terminated walsender is usually
     * just that), then 20 ms doubling to 30 s. */
    st->backoff_ms =
        st->backoff_ms ? (st->backoff_ms * 2 > 30000 ? 30000 : st->backoff_ms * 2) : 10;
    st->next_attempt = src_now_ms() + (eng_time)st->backoff_ms;
    char msg[1200];
    snprintf(msg, sizeof msg, "replication connection lost: %s; reconnecting", why);
    eng_log(ENG_LOG_WARN, "source %s: %s", src->name, msg);
    src_set_status(src, "stalled", msg);
}

static void
publish_stats(stream *st)
{
    srcrt *src = st->src;
    src_publish_counts(src, &st->n_msgs, &st->n_bytes, &st->n_staged);
}

/* Everything libpq has for us now, then the poll is armed again. */
static void
drain_once(stream *st)
{
    srcrt *src = st->src;
    eng_err err;
    eng_err_clear(&err);
    if (PQconsumeInput(st->pg) == 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", PQerrorMessage(st->pg));
        conn_lost(st, why);
        return;
    }
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(st->pg, &buf, 1);
        if (n == 0)
            break;
        if (n < 0) {
            char why[512] = "the server ended the stream";
            PGresult *r = PQgetResult(st->pg);
            if (r != NULL && PQresultStatus(r) == PGRES_FATAL_ERROR)
                snprintf(why, sizeof why, "%s", PQresultErrorMessage(r));
            PQclear(r);
            if (n == -2)
                snprintf(why, sizeof why, "%s", PQerrorMessage(st->pg));
            conn_lost(st, why);
            return;
        }
        st->n_msgs++;
        st->n_bytes += (uint64_t)n;
        io_pgrepl_frame f;
        int rc = io_pgrepl_frame_decode((const uint8_t *)buf, (size_t)n, &f, &err);
        if (rc == 0) {
            if (f.end > atomic_load(&src->offset_known))
                atomic_store(&src->offset_known, f.end);
            if (f.kind == 'w') {
                rc = on_message(st, f.data, f.len, &err);
            } else if (f.kind == 'k') {
                if (!st->in_txn && !st->tick_open && st->skip_final_lsn == 0 &&
                    f.end > st->confirmed)
                    st->confirmed = f.end;
                if (f.reply)
                    send_status(st, false);
            }
        }
        PQfreemem(buf);
        if (rc != 0) {
            conn_lost(st, err.message);
            return;
        }
    }
    if (!st->in_txn && st->tick_open && src_now_ms() > st->tick_t)
        tick_close(st);
    arm_poll(st);
}

static void
drain(stream *st)
{
    drain_once(st);
    publish_stats(st);
}

/* pg's socket is readable. */
static void
on_ready(void *arg)
{
    stream *st = arg;
    if (st->pg != NULL)
        drain(st);
}

static void
arm_poll(stream *st)
{
    if (st->pg != NULL)
        src_io_poll(&st->io, PQsocket(st->pg));
}

/* START_REPLICATION from the last applied transaction. */
static int
start_stream(stream *st, PGconn *pg, eng_err *err)
{
    srcrt *src = st->src;
    char lsn[32], sql[1024];
    uint64_t from = st->last_commit_end ? st->last_commit_end : src->start_lsn;
    io_pgsrc_lsn_format(from, lsn, sizeof lsn);
    char *slot = PQescapeIdentifier(pg, src->slot, strlen(src->slot));
    /* publication_names is a comma-separated list of identifiers. */
    char *pubid = PQescapeIdentifier(pg, src->publication, strlen(src->publication));
    char *publit = pubid ? PQescapeLiteral(pg, pubid, strlen(pubid)) : NULL;
    if (slot == NULL || publit == NULL) {
        PQfreemem(slot);
        PQfreemem(pubid);
        PQfreemem(publit);
        return eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "cannot quote names");
    }
    snprintf(sql, sizeof sql,
             "START_REPLICATION SLOT %s LOGICAL %s (proto_version '1', publication_names %s, "
             "messages 'true')",
             slot, lsn, publit);
    PQfreemem(slot);
    PQfreemem(pubid);
    PQfreemem(publit);
    PGresult *r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_COPY_BOTH) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        char msg[600];
        snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
        size_t ml = strlen(msg);
        while (ml && (msg[ml - 1] == '\n'))
            msg[--ml] = '\0';
        if (state && strcmp(state, "42704") == 0)
            eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT,
                        "replication slot \"%s\" no longer exists upstream; drop and recreate "
                        "the source",
                        src->slot);
        else
            eng_err_set(err, state && strlen(state) == 5 ? state : ENG_ERRCODE_CONNECTION_FAILURE,
                        "START_REPLICATION failed: %s", msg);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    PQsetnonblocking(pg, 1);
    st->pg = pg;
    st->connected = true;
    st->backoff_ms = 0;
    return 0;
}

static void
try_reconnect(stream *st)
{
    srcrt *src = st->src;
    eng_err err;
    eng_err_clear(&err);
    PGconn *pg = io_pgsrc_connect(&src->conn.c, true, "sluice", &err);
    if (pg != NULL && start_stream(st, pg, &err) == 0) {
        eng_log(ENG_LOG_INFO, "source %s: replication resumed", src->name);
        src_set_status(src, "running", NULL);
        arm_poll(st);
        return;
    }
    PQfinish(pg);
    if (strcmp(err.sqlstate, ENG_ERRCODE_UNDEFINED_OBJECT) == 0) {
        src_set_status(src, "failed", err.message);
        st->next_attempt = ENG_TIME_MAX;
        return;
    }
    st->backoff_ms =
        st->backoff_ms * 2 > 30000 ? 30000 : (st->backoff_ms ? st->backoff_ms * 2 : 20);
    st->next_attempt = src_now_ms() + (eng_time)st->backoff_ms;
    char msg[1200];
    snprintf(msg, sizeof msg, "%s; retrying in %d ms", err.message, st->backoff_ms);
    src_set_status(src, "stalled", msg);
}

/* Every millisecond. */
static void
on_tick(void *arg)
{
    stream *st = arg;
    eng_time now = src_now_ms();
    if (!st->connected) {
        if (now >= st->next_attempt)
            try_reconnect(st);
    } else if (!st->in_txn && st->skip_final_lsn == 0) {
        if (st->tick_open) {
            if (now > st->tick_t)
                tick_close(st);
        } else if (now > st->frontier) {
            /* Idle: follow the wall clock, and show the keepalive's
             * position (confirmed upstream) in the progress relation. */
            if (st->confirmed > st->progress_lsn)
                set_progress(st, st->frontier, st->confirmed);
            advance_all(st, now);
        }
    }
    if (st->connected && ex_now_us() - st->last_status_us >= 1000000)
        send_status(st, false);
}

/* Streams until src->stop. The replication connection pg has the slot. */
static void
stream_run(srcrt *src, eng_client *c, PGconn *pg)
{
    stream st = {0};
    st.src = src;
    st.c = c;
    st.frontier = src->t0 + 1;
    st.confirmed = src->start_lsn;
    st.progress_lsn = src->start_lsn;
    st.last_status_us = ex_now_us();
    eng_err err;
    eng_err_clear(&err);
    if (src_io_open(&st.io, src, on_ready, on_tick, &st, &err) != 0) {
        src_set_status(src, "failed", err.message);
        PQfinish(pg);
        return;
    }
    if (start_stream(&st, pg, &err) != 0) {
        PQfinish(pg);
        if (strcmp(err.sqlstate, ENG_ERRCODE_UNDEFINED_OBJECT) == 0) {
            src_set_status(src, "failed", err.message);
            st.next_attempt = ENG_TIME_MAX;
        } else {
            st.backoff_ms = 200;
            st.next_attempt = src_now_ms() + 200;
            src_set_status(src, "stalled", err.message);
        }
    } else {
        src_set_status(src, "running", NULL);
        arm_poll(&st);
    }
    src_io_run(&st.io);
    if (st.pg != NULL) {
        send_status(&st, false);
        src_io_unpoll(&st.io);
        PQfinish(st.pg);
        st.pg = NULL;
    }
    src_io_close(&st.io);
    for (int i = 0; i < src->nsub; i++) {
        if (src->subs[i].b != NULL)
            eng_batch_free(src->subs[i].b);
        src->subs[i].b = NULL;
    }
    io_pgrepl_scratch_free(&st.scratch);
    rowctx_free(&st.rc);
    free(st.v);
    free(st.len);
    free(st.unch);
}

/* ------------------------------------------------------------------ the source thread */

static void
random_hex(char *out, int n)
{
    uint8_t b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (uint8_t)(rand() ^ (int)time(NULL));
    for (int i = 0; i < n && i < 32; i++)
        out[i] = "0123456789abcdef"[(b[i / 2] >> ((i % 2) * 4)) & 15];
    out[n] = '\0';
}

/* A new slot (dropping an old one of the same name): leaves src->repl,
 * start_lsn and snapshot set. */
static int
take_slot(srcrt *src, eng_err *err)
{
    PGconn *plain = io_pgsrc_connect(&src->conn.c, false, "sluice", err);
    if (plain == NULL)
        return -1;
    bool existed;
    int rc = io_pgsrc_drop_slot(plain, src->slot, &existed, err);
    PQfinish(plain);
    if (rc != 0)
        return -1;
    PGconn *repl = io_pgsrc_connect(&src->conn.c, true, "sluice", err);
    if (repl == NULL)
        return -1;
    if (io_pgsrc_create_slot(repl, src->slot, &src->start_lsn, src->snapshot, sizeof src->snapshot,
                             err) != 0) {
        PQfinish(repl);
        return -1;
    }
    src->repl = repl;
    return 0;
}

/* After a restart: the tables as they are upstream now. A subsource whose
 * table lost a column or changed a column's type (or is gone) stalls with
 * the reason; added columns are fine (only ours are copied and streamed). */
static void
recheck_tables(srcrt *src)
{
    eng_err err;
    eng_err_clear(&err);
    PGconn *c = io_pgsrc_connect(&src->conn.c, false, "sluice", &err);
    if (c == NULL)
        return; /* the snapshot reports the trouble */
    for (int i = 0; i < src->nsub; i++) {
        subrt *sb = &src->subs[i];
        const char *v[2] = {sb->t.schema, sb->t.name};
        PGresult *r = PQexecParams(c,
                                   "SELECT a.attname, a.atttypid, c.oid FROM pg_class c "
                                   "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                   "JOIN pg_attribute a ON a.attrelid = c.oid "
                                   "WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 "
                                   "AND NOT a.attisdropped",
                                   2, NULL, v, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            PQclear(r);
            continue;
        }
        if (PQntuples(r) == 0)
            src_sub_fail(src, sb, "table %s.%s was dropped upstream", sb->t.schema, sb->t.name);
        else
            sb->t.relid = (uint32_t)strtoul(PQgetvalue(r, 0, 2), NULL, 10);
        for (int j = 0; j < sb->t.ncols && PQntuples(r) > 0; j++) {
            const io_pgsrc_col *col = &sb->t.cols[j];
            int at = -1;
            for (int k = 0; k < PQntuples(r); k++)
                if (strcmp(PQgetvalue(r, k, 0), col->name) == 0)
                    at = k;
            if (at < 0)
                src_sub_fail(
                    src, sb,
                    "table %s.%s was altered upstream: column \"%s\" was dropped; recreate "
                    "the source to pick up the new definition",
                    sb->t.schema, sb->t.name, col->name);
            else if ((uint32_t)strtoul(PQgetvalue(r, at, 1), NULL, 10) != col->oid)
                src_sub_fail(src, sb,
                             "table %s.%s was altered upstream: column \"%s\" changed type; "
                             "recreate the source to pick up the new definition",
                             sb->t.schema, sb->t.name, col->name);
        }
        PQclear(r);
    }
    PQfinish(c);
}

static void *
src_main(void *arg)
{
    srcrt *src = arg;
    eng_client *c = eng_client_new(src->co->rt);
    eng_err err;
    eng_err_clear(&err);
    struct timespec t_start;
    clock_gettime(CLOCK_MONOTONIC, &t_start);
    /* The inputs start at t0: views created now read from t0 on. */
    for (int i = 0; i < src->nsub; i++)
        eng_df_advance(c, src->subs[i].df, src->subs[i].in_stream, src->t0);
    eng_df_advance(c, src->prog_df, src->prog_in, src->t0);
    int backoff = 200;
    while (src->repl == NULL && !atomic_load(&src->stop)) {
        if (take_slot(src, &err) == 0)
            break;
        char msg[1200];
        snprintf(msg, sizeof msg, "%s; retrying in %d ms", err.message, backoff);
        src_set_status(src, "stalled", msg);
        eng_err_clear(&err);
        for (int waited = 0; waited < backoff && !atomic_load(&src->stop); waited += 50)
            sleep_ms(50);
        backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
    }
    if (atomic_load(&src->stop))
        goto out;
    if (src->restarted)
        recheck_tables(src);
    eng_log(ENG_LOG_INFO, "source %s: slot %s at %X/%X, snapshot over %d connections", src->name,
            src->slot, (unsigned)(src->start_lsn >> 32), (unsigned)src->start_lsn, src->nsnap);
    if (snapshot_all(src, &err) != 0) {
        if (!atomic_load(&src->stop)) {
            eng_log(ENG_LOG_WARN, "source %s: %s", src->name, err.message);
            src_set_status(src, "failed", err.message);
        }
        PQfinish(src->repl);
        src->repl = NULL;
        goto out;
    }
    /* The snapshot's progress row, then close t0 everywhere. */
    {
        eng_batch *b = eng_client_batch(c);
        eng_rowbuf rb = {0};
        progress_row(&rb, src->start_lsn);
        eng_batch_push(b, eng_rowbuf_row(&rb), src->t0, 1);
        eng_rowbuf_free(&rb);
        eng_df_send(c, src->prog_df, src->prog_in, b);
    }
    for (int i = 0; i < src->nsub; i++)
        eng_df_advance(c, src->subs[i].df, src->subs[i].in_stream, src->t0 + 1);
    eng_df_advance(c, src->prog_df, src->prog_in, src->t0 + 1);
    for (int i = 0; i < src->nsub && !atomic_load(&src->stop); i++) {
        while (!atomic_load(&src->stop) &&
               eng_df_wait(c, src->subs[i].df, src->subs[i].arr, src->t0, 200, &err) != 0)
            eng_err_clear(&err);
    }
    {
        struct timespec t_end;
        clock_gettime(CLOCK_MONOTONIC, &t_end);
        int64_t ms = (int64_t)(t_end.tv_sec - t_start.tv_sec) * 1000 +
                     (t_end.tv_nsec - t_start.tv_nsec) / 1000000;
        atomic_store(&src->rehydration_ms, ms);
        atomic_fetch_add(&src->updates_committed, atomic_load(&src->snapshot_staged));
        eng_log(ENG_LOG_INFO, "source %s: snapshot of %llu rows complete in %lld ms", src->name,
                (unsigned long long)atomic_load(&src->snapshot_staged), (long long)ms);
    }
    pthread_mutex_lock(&src->mu);
    atomic_store(&src->ready, true);
    pthread_cond_broadcast(&src->cv);
    pthread_mutex_unlock(&src->mu);
    PGconn *repl = src->repl;
    src->repl = NULL;
    if (!atomic_load(&src->stop))
        stream_run(src, c, repl);
    else
        PQfinish(repl);
out:
    eng_client_free(c);
    return NULL;
}

void
src_start(srcrt *src)
{
    src_set_status(src, "starting", NULL);
    atomic_fetch_add(&src->refs, 1); /* the thread's */
    if (pthread_create(&src->thread, NULL, src->thread_main, src) == 0)
        src->started = true;
    else
        atomic_fetch_sub(&src->refs, 1);
}

void
src_stop(srcrt *src)
{
    if (!src->started)
        return;
    atomic_store(&src->stop, true);
    pthread_join(src->thread, NULL);
    src->started = false;
    atomic_fetch_sub(&src->refs, 1);
    pthread_mutex_lock(&src->mu);
    pthread_cond_broadcast(&src->cv);
    pthread_mutex_unlock(&src->mu);
}

/* ------------------------------------------------------------------ catalog objects */

void
src_sub_rt_free(eng_obj *o)
{
    objrt *r = o->rt;
    if (r == NULL)
        return;
    srcrt *src = r->src;
    src_stop(src); /* no more feeding before the dataflow goes */
    if (r->sub >= 0)
        src->subs[r->sub].rt = NULL;
    else
        src->prog_rt = NULL;
    if (r->df != NULL)
        eng_df_drop(r->co->client, r->df);
    free(r->keycols);
    free(r);
    o->rt = NULL;
    src_unref(src);
}

static void
src_rt_free(eng_obj *o)
{
    srcrt *src = src_of(o);
    if (src == NULL)
        return;
    free(o->rt);
    src_stop(src);
    if (src->repl != NULL) {
        PQfinish(src->repl);
        src->repl = NULL;
    }
    /* DROP SOURCE drops its slot, and so does a clean shutdown: a restart
     * takes a new snapshot anyway, and a slot nobody reads pins WAL. */
    if (src->slot != NULL) {
        eng_err err;
        eng_err_clear(&err);
        PGconn *c = io_pgsrc_connect(&src->conn.c, false, "sluice", &err);
        bool existed;
        if (c == NULL || io_pgsrc_drop_slot(c, src->slot, &existed, &err) != 0)
            eng_log(ENG_LOG_WARN, "source %s: could not drop replication slot %s: %s", src->name,
                    src->slot, err.message);
        PQfinish(c);
    }
    o->rt = NULL;
    src_unref(src);
}

/* Installs the subsource's dataflow (write lock held). */
void
src_sub_install(eng_coord *co, srcrt *src, int i)
{
    subrt *sb = &src->subs[i];
    eng_plan *p = eng_plan_new();
    sb->in_stream = eng_plan_input(p, sb->name);
    sb->in_snap0 = sb->in_stream + 1;
    for (int k = 0; k < src->nsnap; k++)
        ENG_ASSERT(eng_plan_input(p, "snapshot") == sb->in_snap0 + k);
    int u = eng_plan_node(p, "union", op_union_make, NULL, NULL, 1 + src->nsnap);
    for (int k = 0; k <= src->nsnap; k++)
        eng_plan_edge(p, sb->in_stream + k, u, k, sb->kw);
    op_arrange_params *ap = calloc(1, sizeof *ap);
    ENG_ASSERT(ap != NULL);
    ap->key_ncols = sb->kw;
    ap->cdc = sb->keyed ? OP_ARRANGE_UPSERT : OP_ARRANGE_BAG;
    ap->val_ncols = sb->t.ncols;
    sb->arr = eng_plan_node(p, "arrange", op_arrange_make, ap, free, 1);
    eng_plan_edge(p, u, sb->arr, 0, -1);
    sb->df = eng_df_install(co->client, p);
    /* Readable from t0 on at once (empty until the snapshot is in), so views
     * over it can be created, and replayed, before the source runs.
     * Frontiers only ever rise, so this client's mark and the feeders'
     * later ones cannot conflict. */
    for (int k = 0; k <= src->nsnap; k++)
        eng_df_advance(co->client, sb->df, sb->in_stream + k, src->t0);
    objrt *r = calloc(1, sizeof *r);
    ENG_ASSERT(r != NULL);
    r->co = co;
    r->df = sb->df;
    r->input = sb->in_stream;
    r->has_arr = true;
    r->src = src;
    r->sub = i;
    if (sb->keyed) {
        r->keycols = malloc((size_t)sb->t.nkey * sizeof *r->keycols);
        ENG_ASSERT(r->keycols != NULL);
        memcpy(r->keycols, sb->t.key, (size_t)sb->t.nkey * sizeof *r->keycols);
        r->arr = (eng_render_arr){sb->df, sb->arr, false, sb->t.nkey, r->keycols};
    } else {
        r->arr = (eng_render_arr){sb->df, sb->arr, true, 0, NULL};
    }
    sb->rt = r;
}

static void
prog_install(eng_coord *co, srcrt *src)
{
    eng_plan *p = eng_plan_new();
    src->prog_in = eng_plan_input(p, "progress");
    op_arrange_params *ap = calloc(1, sizeof *ap);
    ENG_ASSERT(ap != NULL);
    ap->key_ncols = 1;
    int arr = eng_plan_node(p, "arrange", op_arrange_make, ap, free, 1);
    eng_plan_edge(p, src->prog_in, arr, 0, 1);
    src->prog_df = eng_df_install(co->client, p);
    eng_df_advance(co->client, src->prog_df, src->prog_in, src->t0);
    objrt *r = calloc(1, sizeof *r);
    ENG_ASSERT(r != NULL);
    r->co = co;
    r->df = src->prog_df;
    r->input = src->prog_in;
    r->has_arr = true;
    r->arr = (eng_render_arr){src->prog_df, arr, true, 0, NULL};
    r->src = src;
    r->sub = -1;
    src->prog_rt = r;
}

/* The subsource's definition as recorded in the catalog. */
static char *
sub_json(const srcrt *src, const subrt *sb)
{
    json_t *o = json_object();
    json_object_set_new(o, "source", json_string(src->name));
    json_object_set_new(o, "name", json_string(sb->name));
    json_object_set_new(o, "relid", json_integer(sb->t.relid));
    json_object_set_new(o, "schema", json_string(sb->t.schema));
    json_object_set_new(o, "table", json_string(sb->t.name));
    char ri[2] = {sb->t.replident, 0};
    json_object_set_new(o, "replident", json_string(ri));
    if (sb->t.rowfilter != NULL)
        json_object_set_new(o, "rowfilter", json_string(sb->t.rowfilter));
    char rk[2] = {sb->t.relkind ? sb->t.relkind : 'r', 0};
    json_object_set_new(o, "relkind", json_string(rk));
    json_t *cols = json_array(), *key = json_array();
    for (int j = 0; j < sb->t.ncols; j++) {
        const io_pgsrc_col *c = &sb->t.cols[j];
        json_t *x = json_object();
        json_object_set_new(x, "name", json_string(c->name));
        json_object_set_new(x, "oid", json_integer(c->oid));
        json_object_set_new(x, "typmod", json_integer(c->typmod));
        json_object_set_new(x, "text", json_boolean(c->as_text));
        json_object_set_new(x, "not_null", json_boolean(c->not_null));
        json_array_append_new(cols, x);
    }
    for (int k = 0; k < sb->t.nkey; k++)
        json_array_append_new(key, json_integer(sb->t.key[k]));
    json_object_set_new(o, "columns", cols);
    json_object_set_new(o, "key", key);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* Appends s as an SQL string literal ('it''s'). */
static void
put_quoted(eng_strbuf *b, const char *s)
{
    eng_strbuf_putc(b, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            eng_strbuf_putc(b, '\'');
        eng_strbuf_putc(b, *p);
    }
    eng_strbuf_putc(b, '\'');
}

/* CREATE SUBSOURCE '<json>' as recorded. */
static char *
sub_sql(const char *json)
{
    eng_strbuf b = {0};
    eng_strbuf_puts(&b, "CREATE SUBSOURCE ");
    put_quoted(&b, json);
    char *s = src_strdup(eng_strbuf_cstr(&b));
    eng_strbuf_free(&b);
    return s;
}

/* Creates the SUBSOURCE object for src->subs[i] (or the progress one when
 * i < 0) and its dataflow. Write lock held. */
static int
add_sub_obj(eng_coord *co, srcrt *src, int i, eng_err *err)
{
    bool prog = i < 0;
    const char *name;
    char pname[160];
    if (prog) {
        snprintf(pname, sizeof pname, "%s_progress", src->name);
        name = pname;
    } else {
        name = src->subs[i].name;
    }
    uint64_t id = coord_new_id(co);
    eng_obj *o = eng_obj_new(id, ENG_OBJ_SUBSOURCE, "public", name);
    o->persist = true;
    o->arranged = true;
    o->on_id = src->id;
    eng_obj_add_dep(o, src->id);
    if (prog) {
        if (src->kind == SRC_KAFKA) {
            eng_col cols[2] = {
                {(char *)"partition", eng_type_make(ENG_TYPE_INT4, ENG_TYPMOD_NONE), false, NULL},
                {(char *)"offset", eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE), false, NULL}};
            eng_obj_set_cols(o, 2, cols);
        } else {
            eng_col col = {(char *)"lsn", eng_type_make(ENG_TYPE_NUMERIC, ENG_TYPMOD_NONE), false,
                           NULL};
            eng_obj_set_cols(o, 1, &col);
        }
        json_t *j = json_object();
        json_object_set_new(j, "source", json_string(src->name));
        json_object_set_new(j, "progress", json_true());
        char *js = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        o->sql = sub_sql(js);
        free(js);
        prog_install(co, src);
        o->rt = src->prog_rt;
        src->prog_id = id;
    } else {
        subrt *sb = &src->subs[i];
        eng_col *cols = calloc((size_t)sb->t.ncols, sizeof *cols);
        ENG_ASSERT(cols != NULL);
        for (int j = 0; j < sb->t.ncols; j++)
            cols[j] =
                (eng_col){sb->t.cols[j].name, sb->t.cols[j].type, sb->t.cols[j].not_null, NULL};
        eng_obj_set_cols(o, sb->t.ncols, cols);
        free(cols);
        char *js = sub_json(src, sb);
        o->sql = sub_sql(js);
        free(js);
        src_sub_install(co, src, i);
        o->rt = sb->rt;
        sb->id = id;
    }
    o->rt_free = src_sub_rt_free;
    atomic_fetch_add(&src->refs, 1);
    if (eng_catalog_add(co->cat, o, err) != 0) {
        eng_obj_free(o);
        return -1;
    }
    return 0;
}

int
src_add_progress(eng_coord *co, srcrt *src, eng_err *err)
{
    return add_sub_obj(co, src, -1, err);
}

/* ------------------------------------------------------------------ statements */

typedef struct src_spec {
    src_head h;
    char conn[128], publication[256], slot[128];
    io_pgsrc_select sel;
} src_spec;

static void
spec_free(src_spec *sp)
{
    for (int i = 0; i < sp->sel.n; i++) {
        free(sp->sel.schema[i]);
        free(sp->sel.name[i]);
        free(sp->sel.alias[i]);
    }
    free(sp->sel.schema);
    free(sp->sel.name);
    free(sp->sel.alias);
    for (int i = 0; i < sp->sel.ntext; i++)
        free(sp->sel.text_cols[i]);
    free(sp->sel.text_cols);
}

static void
sel_push(io_pgsrc_select *s, const char *schema, const char *name, const char *alias)
{
    s->schema = realloc(s->schema, (size_t)(s->n + 1) * sizeof *s->schema);
    s->name = realloc(s->name, (size_t)(s->n + 1) * sizeof *s->name);
    s->alias = realloc(s->alias, (size_t)(s->n + 1) * sizeof *s->alias);
    ENG_ASSERT(s->schema && s->name && s->alias);
    s->schema[s->n] = schema ? src_strdup(schema) : NULL;
    s->name[s->n] = name ? src_strdup(name) : NULL;
    s->alias[s->n] = alias ? src_strdup(alias) : NULL;
    s->n++;
}

int
src_parse_head(ex_lexer *l, src_head *h, eng_err *err)
{
    char parts[2][128];
    ex_lex_kw(l, "create");
    ex_lex_kw(l, "source");
    if (ex_lex_kw(l, "if")) {
        if (!ex_lex_kw(l, "not") || !ex_lex_kw(l, "exists"))
            return ex_lex_syntax(l, err, "NOT EXISTS after IF");
        h->if_not_exists = true;
    }
    int np = ex_lex_qname(l, parts, 2);
    if (np == 0)
        return ex_lex_syntax(l, err, "a source name");
    if (np == 2 && strcmp(parts[0], "public") != 0)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "sources live in schema public");
    snprintf(h->name, sizeof h->name, "%s", parts[np - 1]);
    if (ex_lex_kw(l, "in")) {
        if (!ex_lex_kw(l, "cluster") || ex_lex_qname(l, parts, 1) == 0)
            return ex_lex_syntax(l, err, "CLUSTER name after IN");
    }
    return 0;
}

int
src_parse_tail(ex_lexer *l, src_head *h, src_with_fn fn, void *arg, const char *expected,
               eng_err *err)
{
    snprintf(h->size, sizeof h->size, "3xsmall");
    h->with_close = -1;
    if (ex_lex_kw(l, "with")) {
        if (!ex_lex_punct(l, '('))
            return ex_lex_syntax(l, err, "'('");
        do {
            if (ex_lex_kw(l, "size")) {
                ex_lex_punct(l, '=');
                if (!ex_lex_value(l, h->size, sizeof h->size))
                    return ex_lex_syntax(l, err, "a value");
                continue;
            }
            int got = fn(l, arg, err);
            if (got < 0)
                return -1;
            if (got == 0)
                return ex_lex_syntax(l, err, expected);
        } while (ex_lex_punct(l, ','));
        if (!ex_lex_punct(l, ')'))
            return ex_lex_syntax(l, err, "')'");
        h->with_close = (int)(l->p - 1 - l->sql);
    }
    h->end_at = (int)(l->p - l->sql);
    if (!ex_lex_end(l))
        return ex_lex_syntax(l, err, "end of statement");
    eng_size sz;
    return eng_size_parse(h->size, &sz, err);
}

char *
src_sql_with(const char *sql, const src_head *h, const char *opt, const char *value)
{
    eng_strbuf b = {0};
    if (h->with_close >= 0) {
        eng_strbuf_append(&b, sql, (size_t)h->with_close);
        eng_strbuf_printf(&b, ", %s = ", opt);
    } else {
        eng_strbuf_append(&b, sql, (size_t)h->end_at);
        eng_strbuf_printf(&b, " WITH (%s = ", opt);
    }
    put_quoted(&b, value);
    eng_strbuf_putc(&b, ')');
    char *s = src_strdup(eng_strbuf_cstr(&b));
    eng_strbuf_free(&b);
    return s;
}

int
src_exists(const eng_obj *old, const src_head *h, const eng_sink *sink, eng_err *err)
{
    if (h->if_not_exists && old->kind == ENG_OBJ_SOURCE) {
        ex_notice(sink, "source \"%s\" already exists, skipping", h->name);
        return ex_complete(sink, "CREATE SOURCE");
    }
    return eng_err_set(err, ENG_ERRCODE_DUPLICATE_OBJECT, "an object named \"%s\" already exists",
                       h->name);
}

eng_obj *
src_find_conn(eng_coord *co, const char *name)
{
    eng_obj *o = eng_catalog_find(co->cat, "public", name);
    return o != NULL && o->kind == ENG_OBJ_CONNECTION ? o : NULL;
}

const char *
src_name_taken(eng_coord *co, const char *name, char pname[160])
{
    snprintf(pname, 160, "%s_progress", name);
    return eng_catalog_find(co->cat, "public", name)    ? name
           : eng_catalog_find(co->cat, "public", pname) ? pname
                                                        : NULL;
}

void
src_undo_create(eng_coord *co, eng_obj *o, eng_err *err)
{
    eng_err saved = *err;
    eng_sink none = {0};
    eng_err e2;
    eng_err_clear(&e2);
    (void)ex_drop_obj(co, o, true, &none, &e2);
    *err = saved;
}

/* WITH (SLOT = '...') of a PostgreSQL source. */
static int
with_slot(ex_lexer *l, void *arg, eng_err *err)
{
    src_spec *sp = arg;
    if (!ex_lex_kw(l, "slot"))
        return 0;
    ex_lex_punct(l, '=');
    if (!ex_lex_value(l, sp->slot, sizeof sp->slot))
        return ex_lex_syntax(l, err, "a value");
    return 1;
}

/* CREATE SOURCE [IF NOT EXISTS] name [IN CLUSTER c] FROM POSTGRES CONNECTION
 * conn (PUBLICATION 'p' [, TEXT COLUMNS (...)]) FOR ALL TABLES | FOR TABLES
 * (...) | FOR SCHEMAS (...) [WITH (SIZE = '...' [, SLOT = '...'])] */
static int
parse_create(const char *sql, src_spec *sp, eng_err *err)
{
    ex_lexer l = {sql, sql};
    char parts[3][128];
    if (src_parse_head(&l, &sp->h, err) != 0)
        return -1;
    if (!ex_lex_kw(&l, "from"))
        return ex_lex_syntax(&l, err, "FROM");
    if (ex_lex_kw(&l, "load") || ex_lex_kw(&l, "webhook") || ex_lex_kw(&l, "mysql"))
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "only PostgreSQL and Kafka sources are supported");
    if (!ex_lex_kw(&l, "postgres"))
        return ex_lex_syntax(&l, err, "POSTGRES");
    if (!ex_lex_kw(&l, "connection"))
        return ex_lex_syntax(&l, err, "CONNECTION");
    if (ex_lex_qname(&l, parts, 2) == 0)
        return ex_lex_syntax(&l, err, "a connection name");
    snprintf(sp->conn, sizeof sp->conn, "%s", parts[0]);
    if (!ex_lex_punct(&l, '('))
        return ex_lex_syntax(&l, err, "'(' and the source's options");
    for (;;) {
        if (ex_lex_kw(&l, "publication")) {
            ex_lex_punct(&l, '=');
            if (!ex_lex_string(&l, sp->publication, sizeof sp->publication))
                return ex_lex_syntax(&l, err, "the publication's name as a string");
        } else if (ex_lex_kw(&l, "text")) {
            if (!ex_lex_kw(&l, "columns"))
                return ex_lex_syntax(&l, err, "COLUMNS after TEXT");
            ex_lex_punct(&l, '=');
            if (!ex_lex_punct(&l, '('))
                return ex_lex_syntax(&l, err, "'('");
            do {
                int n = ex_lex_qname(&l, parts, 3);
                if (n < 2)
                    return ex_lex_syntax(&l, err, "table.column");
                char buf[400];
                if (n == 2)
                    snprintf(buf, sizeof buf, "%s.%s", parts[0], parts[1]);
                else
                    snprintf(buf, sizeof buf, "%s.%s.%s", parts[0], parts[1], parts[2]);
                io_pgsrc_select *s = &sp->sel;
                s->text_cols = realloc(s->text_cols, (size_t)(s->ntext + 1) * sizeof(char *));
                ENG_ASSERT(s->text_cols != NULL);
                s->text_cols[s->ntext++] = src_strdup(buf);
            } while (ex_lex_punct(&l, ','));
            if (!ex_lex_punct(&l, ')'))
                return ex_lex_syntax(&l, err, "')'");
        } else {
            return ex_lex_syntax(&l, err, "PUBLICATION or TEXT COLUMNS");
        }
        if (ex_lex_punct(&l, ','))
            continue;
        if (ex_lex_punct(&l, ')'))
            break;
        return ex_lex_syntax(&l, err, "',' or ')'");
    }
    if (sp->publication[0] == '\0')
        return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "a PostgreSQL source needs PUBLICATION");
    if (!ex_lex_kw(&l, "for"))
        return ex_lex_syntax(&l, err, "FOR ALL TABLES, FOR TABLES (...) or FOR SCHEMAS (...)");
    if (ex_lex_kw(&l, "all")) {
        if (!ex_lex_kw(&l, "tables"))
            return ex_lex_syntax(&l, err, "TABLES after FOR ALL");
        sp->sel.kind = IO_PGSRC_ALL;
    } else if (ex_lex_kw(&l, "tables")) {
        sp->sel.kind = IO_PGSRC_TABLES;
        if (!ex_lex_punct(&l, '('))
            return ex_lex_syntax(&l, err, "'('");
        do {
            int n = ex_lex_qname(&l, parts, 3);
            if (n == 0)
                return ex_lex_syntax(&l, err, "a table name");
            char alias[128] = "";
            char ap[1][128];
            if (ex_lex_kw(&l, "as")) {
                if (ex_lex_qname(&l, ap, 1) == 0)
                    return ex_lex_syntax(&l, err, "an alias after AS");
                snprintf(alias, sizeof alias, "%s", ap[0]);
            }
            /* db.schema.table, schema.table or table */
            sel_push(&sp->sel, n >= 2 ? parts[n - 2] : NULL, parts[n - 1], alias[0] ? alias : NULL);
        } while (ex_lex_punct(&l, ','));
        if (!ex_lex_punct(&l, ')'))
            return ex_lex_syntax(&l, err, "')'");
    } else if (ex_lex_kw(&l, "schemas")) {
        sp->sel.kind = IO_PGSRC_SCHEMAS;
        if (!ex_lex_punct(&l, '('))
            return ex_lex_syntax(&l, err, "'('");
        do {
            if (ex_lex_qname(&l, parts, 1) == 0)
                return ex_lex_syntax(&l, err, "a schema name");
            sel_push(&sp->sel, parts[0], NULL, NULL);
        } while (ex_lex_punct(&l, ','));
        if (!ex_lex_punct(&l, ')'))
            return ex_lex_syntax(&l, err, "')'");
    } else {
        return ex_lex_syntax(&l, err, "ALL TABLES, TABLES (...) or SCHEMAS (...)");
    }
    if (src_parse_tail(&l, &sp->h, with_slot, sp, "SIZE or SLOT", err) != 0)
        return -1;
    for (const char *p = sp->slot; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                               "SLOT may contain only lower-case letters, digits and '_'");
    return 0;
}

/* The SQL recorded for a source: as written, with the slot pinned. */
static char *
recorded_sql(const char *sql, const src_spec *sp, const char *slot)
{
    if (sp->slot[0] == '\0')
        return src_sql_with(sql, &sp->h, "SLOT", slot);
    char *s = strndup(sql, (size_t)sp->h.end_at);
    ENG_ASSERT(s != NULL);
    return s;
}

srcrt *
src_new(eng_coord *co, src_kind kind, const char *name, const char *size)
{
    srcrt *src = calloc(1, sizeof *src);
    ENG_ASSERT(src != NULL);
    src->co = co;
    src->kind = kind;
    src->thread_main = src_main;
    src->name = src_strdup(name);
    snprintf(src->size, sizeof src->size, "%s", size);
    eng_size sz;
    eng_err e;
    eng_err_clear(&e);
    src->nsnap = eng_size_parse(size, &sz, &e) == 0 && sz.workers > 2 ? sz.workers : 2;
    if (src->nsnap > 16)
        src->nsnap = 16;
    /* The snapshot's timestamp. */
    src->t0 = src_now_ms();
    if (src->t0 <= co->ts)
        src->t0 = co->ts + 1;
    pthread_mutex_init(&src->mu, NULL);
    pthread_cond_init(&src->cv, NULL);
    atomic_init(&src->refs, 1);
    atomic_init(&src->rehydration_ms, -1);
    snprintf(src->status, sizeof src->status, "starting");
    return src;
}

void
src_add_sub(srcrt *src, io_pgsrc_table *t, const char *name)
{
    if (src->nsub == src->subcap) {
        src->subcap = src->subcap ? src->subcap * 2 : 8;
        src->subs = realloc(src->subs, (size_t)src->subcap * sizeof *src->subs);
        ENG_ASSERT(src->subs != NULL);
    }
    subrt *sb = &src->subs[src->nsub++];
    memset(sb, 0, sizeof *sb);
    sb->t = *t; /* takes ownership */
    memset(t, 0, sizeof *t);
    sb->name = src_strdup(name);
    sb->keyed = sb->t.nkey > 0;
    sb->kw = sb->keyed ? sb->t.nkey : sb->t.ncols;
}

static eng_obj *
find_source(eng_coord *co, const char *name)
{
    eng_obj *o = eng_catalog_find(co->cat, "public", name);
    return o != NULL && o->kind == ENG_OBJ_SOURCE ? o : NULL;
}

/* Whether sql is CREATE SOURCE ... FROM KAFKA. */
static bool
from_kafka(const char *sql)
{
    ex_lexer l = {sql, sql};
    src_head h = {0};
    eng_err e;
    eng_err_clear(&e);
    return src_parse_head(&l, &h, &e) == 0 && ex_lex_kw(&l, "from") && ex_lex_kw(&l, "kafka");
}

static int
create_source(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err)
{
    if (from_kafka(sql)) {
#ifdef SLUICE_KAFKA
        return ex_kafka_create_source(s, sql, sink, err);
#else
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "this build of Sluice has no Kafka support (ThreadSanitizer builds "
                           "leave librdkafka out)");
#endif
    }
    eng_coord *co = s->co;
    src_spec sp = {0};
    if (parse_create(sql, &sp, err) != 0) {
        spec_free(&sp);
        return -1;
    }
    int rc = -1;
    io_pgsrc_table *tabs = NULL;
    int nt = 0;
    srcrt *src = src_new(co, SRC_POSTGRES, sp.h.name, sp.h.size);
    src->publication = src_strdup(sp.publication);
    PGconn *plain = NULL;
    bool slot_made = false;
    /* Names and the connection, under the read lock. */
    pthread_rwlock_rdlock(&co->lock);
    eng_obj *old = eng_catalog_find(co->cat, "public", sp.h.name);
    eng_obj *conn = src_find_conn(co, sp.conn);
    uint64_t conn_id = conn ? conn->id : 0;
    int crc = 0;
    if (old == NULL && conn != NULL)
        crc = ex_pgconn_resolve(co, conn, &src->conn, err);
    pthread_rwlock_unlock(&co->lock);
    if (old != NULL) {
        rc = src_exists(old, &sp.h, sink, err);
        goto done;
    }
    if (conn == NULL) {
        eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT, "unknown connection '%s'", sp.conn);
        goto done;
    }
    if (crc != 0)
        goto done;
    if (sp.slot[0]) {
        src->slot = src_strdup(sp.slot);
    } else {
        char hex[17], name[64];
        random_hex(hex, 16);
        snprintf(name, sizeof name, "sluice_%s", hex);
        src->slot = src_strdup(name);
    }
    if (co->replaying) {
        /* Subsources follow as CREATE SUBSOURCE; the source starts once the
         * whole catalog is back (ex_sources_start). */
    } else {
        plain = io_pgsrc_connect(&src->conn.c, false, "sluice", err);
        if (plain == NULL)
            goto done;
        if (io_pgsrc_discover(plain, sp.publication, &sp.sel, &tabs, &nt, err) != 0)
            goto done;
        for (int i = 0; i < nt; i++) {
            const char *nm = tabs[i].alias ? tabs[i].alias : tabs[i].name;
            for (int k = 0; k < i; k++) {
                const char *o2 = tabs[k].alias ? tabs[k].alias : tabs[k].name;
                if (strcmp(nm, o2) == 0) {
                    eng_err_set(err, ENG_ERRCODE_DUPLICATE_OBJECT,
                                "tables %s.%s and %s.%s would both become subsource \"%s\"",
                                tabs[k].schema, tabs[k].name, tabs[i].schema, tabs[i].name, nm);
                    eng_err_hint(err, "use FOR TABLES (... AS alias) to name them apart");
                    goto done;
                }
            }
        }
        PGconn *repl = io_pgsrc_connect(&src->conn.c, true, "sluice", err);
        if (repl == NULL)
            goto done;
        if (io_pgsrc_create_slot(repl, src->slot, &src->start_lsn, src->snapshot,
                                 sizeof src->snapshot, err) != 0) {
            PQfinish(repl);
            goto done;
        }
        src->repl = repl;
        slot_made = true;
    }
    pthread_rwlock_wrlock(&co->lock);
    /* Everything is checked again under the write lock. */
    char pname[160];
    const char *taken = src_name_taken(co, sp.h.name, pname);
    for (int i = 0; i < nt && taken == NULL; i++) {
        const char *nm = tabs[i].alias ? tabs[i].alias : tabs[i].name;
        if (eng_catalog_find(co->cat, "public", nm) != NULL)
            taken = nm;
    }
    conn = eng_catalog_get(co->cat, conn_id);
    if (taken != NULL || conn == NULL) {
        if (taken)
            eng_err_set(err, ENG_ERRCODE_DUPLICATE_OBJECT, "an object named \"%s\" already exists",
                        taken);
        else
            eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT, "connection '%s' was dropped", sp.conn);
        if (taken && strcmp(taken, sp.h.name) != 0)
            eng_err_hint(err, "name the subsource with FOR TABLES (... AS alias)");
        pthread_rwlock_unlock(&co->lock);
        goto done;
    }
    src->id = coord_new_id(co);
    eng_obj *o = eng_obj_new(src->id, ENG_OBJ_SOURCE, "public", sp.h.name);
    o->sql = recorded_sql(sql, &sp, src->slot);
    o->persist = true;
    eng_obj_add_dep(o, conn_id);
    objrt *hdr = calloc(1, sizeof *hdr);
    ENG_ASSERT(hdr != NULL);
    hdr->co = co;
    hdr->src = src;
    hdr->sub = SRC_SUB_HEADER;
    o->rt = hdr;
    o->rt_free = src_rt_free;
    atomic_fetch_add(&src->refs, 1);
    if (eng_catalog_add(co->cat, o, err) != 0) {
        eng_obj_free(o);
        pthread_rwlock_unlock(&co->lock);
        goto done;
    }
    if (!co->replaying) {
        for (int i = 0; i < nt; i++)
            src_add_sub(src, &tabs[i], tabs[i].alias ? tabs[i].alias : tabs[i].name);
        int arc = add_sub_obj(co, src, -1, err);
        for (int i = 0; i < src->nsub && arc == 0; i++)
            arc = add_sub_obj(co, src, i, err);
        if (arc != 0) {
            src_undo_create(co, o, err); /* drops the slot too */
            slot_made = false;
            pthread_rwlock_unlock(&co->lock);
            goto done;
        }
        src_start(src);
    }
    pthread_rwlock_unlock(&co->lock);
    slot_made = false;
    if (!co->replaying)
        ex_notice(sink, "source \"%s\": %d subsource%s, snapshot started", sp.h.name, src->nsub,
                  src->nsub == 1 ? "" : "s");
    rc = ex_complete(sink, "CREATE SOURCE");
done:
    if (slot_made) {
        /* Nothing may stay behind upstream when CREATE SOURCE fails. */
        PQfinish(src->repl);
        src->repl = NULL;
        eng_err e2;
        eng_err_clear(&e2);
        bool existed;
        if (plain == NULL || io_pgsrc_drop_slot(plain, src->slot, &existed, &e2) != 0)
            eng_log(ENG_LOG_WARN, "source %s: could not drop slot %s: %s", sp.h.name, src->slot,
                    e2.message);
    }
    PQfinish(plain);
    io_pgsrc_tables_free(tabs, nt);
    spec_free(&sp);
    src_unref(src);
    return rc;
}

/* CREATE SUBSOURCE '<json>': catalog replay only. */
static int
create_subsource(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err)
{
    eng_coord *co = s->co;
    if (!co->replaying)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "subsources are created by CREATE SOURCE");
    ex_lexer l = {sql, sql};
    ex_lex_kw(&l, "create");
    ex_lex_kw(&l, "subsource");
    size_t cap = strlen(sql) + 1;
    char *js = malloc(cap);
    ENG_ASSERT(js != NULL);
    if (!ex_lex_string(&l, js, cap)) {
        free(js);
        return ex_lex_syntax(&l, err, "the subsource's definition");
    }
    json_t *o = json_loads(js, 0, NULL);
    free(js);
    if (o == NULL)
        return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "corrupt subsource definition");
    int rc = -1;
    pthread_rwlock_wrlock(&co->lock);
    eng_obj *so = find_source(co, json_string_value(json_object_get(o, "source")));
    if (so == NULL || src_of(so) == NULL) {
        eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "subsource of an unknown source");
        goto out;
    }
    srcrt *src = src_of(so);
    if (json_is_true(json_object_get(o, "progress"))) {
        rc = add_sub_obj(co, src, -1, err);
        goto out;
    }
    io_pgsrc_table t = {0};
    t.relid = (uint32_t)json_integer_value(json_object_get(o, "relid"));
    t.schema = src_strdup(json_string_value(json_object_get(o, "schema")));
    t.name = src_strdup(json_string_value(json_object_get(o, "table")));
    const char *ri = json_string_value(json_object_get(o, "replident"));
    t.replident = ri && ri[0] ? ri[0] : 'd';
    const char *rf = json_string_value(json_object_get(o, "rowfilter"));
    t.rowfilter = rf ? src_strdup(rf) : NULL;
    const char *rk = json_string_value(json_object_get(o, "relkind"));
    t.relkind = rk && rk[0] ? rk[0] : 'r';
    json_t *cols = json_object_get(o, "columns"), *key = json_object_get(o, "key");
    t.ncols = (int)json_array_size(cols);
    t.cols = calloc((size_t)(t.ncols ? t.ncols : 1), sizeof *t.cols);
    ENG_ASSERT(t.cols != NULL);
    for (int j = 0; j < t.ncols; j++) {
        json_t *x = json_array_get(cols, (size_t)j);
        io_pgsrc_col *c = &t.cols[j];
        c->name = src_strdup(json_string_value(json_object_get(x, "name")));
        c->oid = (uint32_t)json_integer_value(json_object_get(x, "oid"));
        c->typmod = (int32_t)json_integer_value(json_object_get(x, "typmod"));
        c->as_text = json_is_true(json_object_get(x, "text"));
        c->not_null = json_is_true(json_object_get(x, "not_null"));
        c->type = c->as_text ? eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE)
                             : eng_type_from_oid(c->oid, c->typmod);
    }
    t.nkey = (int)json_array_size(key);
    t.key = calloc((size_t)(t.nkey ? t.nkey : 1), sizeof *t.key);
    ENG_ASSERT(t.key != NULL);
    for (int k = 0; k < t.nkey; k++) {
        t.key[k] = (int)json_integer_value(json_array_get(key, (size_t)k));
        if (t.key[k] < 0 || t.key[k] >= t.ncols) {
            io_pgsrc_table *tp = malloc(sizeof *tp);
            ENG_ASSERT(tp != NULL);
            *tp = t;
            io_pgsrc_tables_free(tp, 1);
            eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "corrupt subsource key");
            goto out;
        }
    }
    src_add_sub(src, &t, json_string_value(json_object_get(o, "name")));
    rc = add_sub_obj(co, src, src->nsub - 1, err);
out:
    pthread_rwlock_unlock(&co->lock);
    json_decref(o);
    (void)sink;
    return rc;
}

static int
drop_source(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err)
{
    ex_lexer l = {sql, sql};
    ex_lex_kw(&l, "drop");
    ex_lex_kw(&l, "source");
    bool ie = false;
    if (ex_lex_kw(&l, "if")) {
        if (!ex_lex_kw(&l, "exists"))
            return ex_lex_syntax(&l, err, "EXISTS after IF");
        ie = true;
    }
    char parts[2][128];
    int np = ex_lex_qname(&l, parts, 2);
    if (np == 0)
        return ex_lex_syntax(&l, err, "a source name");
    bool cascade = ex_lex_kw(&l, "cascade");
    if (!cascade)
        ex_lex_kw(&l, "restrict");
    if (!ex_lex_end(&l))
        return ex_lex_syntax(&l, err, "end of statement");
    eng_coord *co = s->co;
    pthread_rwlock_wrlock(&co->lock);
    int rc = 0;
    eng_obj *o = eng_catalog_find(co->cat, "public", parts[np - 1]);
    if (o != NULL && o->kind == ENG_OBJ_SUBSOURCE) {
        eng_obj *so = eng_catalog_get(co->cat, o->on_id);
        rc = eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                         "cannot drop subsource \"%s\" on its own", o->name);
        eng_err_hint(err, "drop its source: DROP SOURCE %s", so ? so->name : "...");
    } else if (o == NULL || o->kind != ENG_OBJ_SOURCE) {
        if (ie)
            ex_notice(sink, "source \"%s\" does not exist, skipping", parts[np - 1]);
        else
            rc = eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT, "unknown source '%s'",
                             parts[np - 1]);
    } else {
        rc = ex_drop_obj(co, o, cascade, sink, err);
    }
    pthread_rwlock_unlock(&co->lock);
    return rc == 0 ? ex_complete(sink, "DROP SOURCE") : -1;
}

bool
ex_source_match(const char *sql)
{
    ex_lexer l = {sql, sql};
    if (ex_lex_kw(&l, "create"))
        return ex_lex_kw(&l, "source") || ex_lex_kw(&l, "subsource");
    if (ex_lex_kw(&l, "drop"))
        return ex_lex_kw(&l, "source");
    return false;
}

int
ex_source(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err)
{
    ex_lexer l = {sql, sql};
    if (ex_lex_kw(&l, "drop"))
        return drop_source(s, sql, sink, err);
    ex_lex_kw(&l, "create");
    if (ex_lex_kw(&l, "subsource"))
        return create_subsource(s, sql, sink, err);
    return create_source(s, sql, sink, err);
}

void
ex_sources_start(eng_coord *co)
{
    pthread_rwlock_wrlock(&co->lock);
    int n = eng_catalog_count(co->cat);
    for (int i = 0; i < n; i++) {
        eng_obj *o = eng_catalog_at(co->cat, i);
        srcrt *src = o->kind == ENG_OBJ_SOURCE ? src_of(o) : NULL;
        if (src != NULL && !src->started) {
            if (src->prog_rt == NULL) {
                eng_log(ENG_LOG_WARN,
                        "source %s has no progress relation in the catalog; not started",
                        src->name);
                continue;
            }
            eng_log(ENG_LOG_INFO, "source %s: restarted; %s", src->name,
                    src->kind == SRC_KAFKA ? "reading the topic again" : "taking a new snapshot");
            src->restarted = true;
            src_start(src);
        }
    }
    pthread_rwlock_unlock(&co->lock);
}

const char *
ex_source_type(const eng_obj *o)
{
    if (o->kind == ENG_OBJ_SOURCE) {
        const srcrt *src = src_of(o);
        return src != NULL && src->kind == SRC_KAFKA ? "kafka" : "postgres";
    }
    if (o->kind == ENG_OBJ_SUBSOURCE) {
        const objrt *r = o->rt;
        return r != NULL && r->sub < 0 ? "progress" : "subsource";
    }
    return "";
}

const char *
ex_source_size(const eng_obj *o)
{
    const srcrt *src = o->kind == ENG_OBJ_SOURCE ? src_of(o) : NULL;
    return src != NULL ? src->size : NULL;
}

/* ------------------------------------------------------------------ reads */

typedef struct readscan {
    eng_coord *co;
    bool any;
    eng_time t;    /* min over arrangements read of (frontier - 1) */
    eng_time need; /* the latest snapshot time among the sources read */
    srcrt *wait;
    const char *error;
    const char *error_sub;
    int depth;
} readscan;

static void
scan_obj(readscan *rs, eng_obj *o)
{
    if (o == NULL || rs->depth > 64)
        return;
    objrt *r = o->rt;
    if (r != NULL && (o->kind == ENG_OBJ_SUBSOURCE || (o->kind == ENG_OBJ_SOURCE && r->has_arr))) {
        srcrt *src = r->src;
        rs->any = true;
        if (src->t0 > rs->need)
            rs->need = src->t0;
        pthread_mutex_lock(&src->mu);
        if (r->sub >= 0 && src->subs[r->sub].error != NULL && rs->error == NULL) {
            rs->error = src->subs[r->sub].error;
            rs->error_sub = src->subs[r->sub].name;
        }
        if (src->failed && rs->error == NULL && src->error != NULL) {
            rs->error = src->error;
            rs->error_sub = src->name;
        }
        pthread_mutex_unlock(&src->mu);
        if (!atomic_load(&src->ready) && rs->wait == NULL) {
            rs->wait = src;
            atomic_fetch_add(&src->refs, 1);
        }
        return;
    }
    rs->depth++;
    for (int i = 0; i < o->ndeps; i++)
        scan_obj(rs, eng_catalog_get(rs->co->cat, o->deps[i]));
    if (o->kind == ENG_OBJ_INDEX)
        scan_obj(rs, eng_catalog_get(rs->co->cat, o->on_id));
    rs->depth--;
}

static void
scan_rel(readscan *rs, const eng_rel *r)
{
    if (r->kind == ENG_REL_GET) {
        eng_obj *o = eng_catalog_get(rs->co->cat, r->get_id);
        bool before = rs->any;
        rs->any = false;
        scan_obj(rs, o);
        if (rs->any && o != NULL) {
            objrt *rt = o->rt;
            coord_look lk = {.co = rs->co};
            const eng_render_arr *arrs;
            eng_err e;
            eng_err_clear(&e);
            int n = rt != NULL && rt->has_arr ? 1 : coord_lookup_arrs(&lk, o->id, &arrs, &e);
            const eng_render_arr *a = rt != NULL && rt->has_arr ? &rt->arr
                                      : n > 0                   ? &arrs[0]
                                                                : NULL;
            if (a != NULL) {
                eng_time f = eng_df_frontier(a->df, a->node);
                eng_time t = f > 0 ? f - 1 : 0;
                if (t < rs->t)
                    rs->t = t;
            }
        }
        rs->any |= before;
        return;
    }
    for (int i = 0; i < r->nin; i++)
        scan_rel(rs, r->in[i]);
}

int
ex_source_read_ts(eng_coord *co, const eng_rel *rel, eng_time *t, srcrt **wait, eng_err *err)
{
    readscan rs = {.co = co, .t = ENG_TIME_MAX};
    scan_rel(&rs, rel);
    *wait = NULL;
    if (!rs.any)
        return 0;
    if (rs.error != NULL) {
        if (rs.wait)
            src_unref(rs.wait);
        eng_err_set(err, ENG_ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "source %s: %s",
                    rs.error_sub, rs.error);
        return -1;
    }
    if (rs.wait != NULL) {
        *wait = rs.wait;
        return 2;
    }
    *t = rs.t == ENG_TIME_MAX ? co->ts : rs.t;
    if (*t < rs.need)
        *t = rs.need;
    return 1;
}

int
ex_source_wait(eng_session *s, srcrt *src, eng_err *err)
{
    int rc = 0;
    pthread_mutex_lock(&src->mu);
    while (!atomic_load(&src->ready) && !src->failed && src->started) {
        if (s->sink && s->sink->cancelled && s->sink->cancelled(s->sink->ctx)) {
            rc = eng_err_set(err, ENG_ERRCODE_QUERY_CANCELED,
                             "canceling statement due to user request");
            break;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 50 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&src->cv, &src->mu, &until);
    }
    if (rc == 0 && !atomic_load(&src->ready))
        rc = eng_err_set(err, ENG_ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                         "source %s has no snapshot: %s", src->name,
                         src->error ? src->error : "it was stopped");
    pthread_mutex_unlock(&src->mu);
    src_unref(src);
    return rc;
}

void
ex_source_wait_cancel(srcrt *src)
{
    src_unref(src);
}

/* ------------------------------------------------------------------ introspection */

static void
push_text(eng_rowbuf *rb, const char *s)
{
    if (s == NULL)
        eng_push_null(rb);
    else
        eng_push_var(rb, ENG_TAG_TEXT, s, (uint32_t)strlen(s));
}

static void
status_row(eng_batch *out, const eng_obj *o, const char *type, const char *status,
           const char *error, const char *details)
{
    eng_rowbuf rb = {0};
    char id[32];
    snprintf(id, sizeof id, "u%llu", (unsigned long long)o->id);
    push_text(&rb, id);
    push_text(&rb, o->name);
    push_text(&rb, type);
    push_text(&rb, status);
    push_text(&rb, error);
    push_text(&rb, details);
    eng_batch_push(out, eng_rowbuf_row(&rb), 0, 1);
    eng_rowbuf_free(&rb);
}

void
ex_source_status_rows(eng_coord *co, const eng_obj *o, eng_batch *out)
{
    srcrt *src = o->kind == ENG_OBJ_SOURCE ? src_of(o) : NULL;
    if (src == NULL)
        return;
    pthread_mutex_lock(&src->mu);
    if (src->kind == SRC_KAFKA) {
        json_t *d = json_object();
        json_object_set_new(d, "topic", json_string(src->subs[0].t.name));
        json_object_set_new(d, "caught_up", json_boolean(atomic_load(&src->ready)));
        char *ds = json_dumps(d, JSON_COMPACT);
        json_decref(d);
        /* The source is its relation: its error is the relation's, unless
         * the whole source failed (bad input before its start contents
         * were in), which its progress relation shows too. */
        subrt *sb = &src->subs[0];
        bool stalled = sb->error != NULL && !src->failed;
        status_row(out, o, "kafka", stalled ? "stalled" : src->status,
                   stalled ? sb->error : src->error, ds);
        free(ds);
        eng_obj *po = eng_catalog_get(co->cat, src->prog_id);
        if (po != NULL)
            status_row(out, po, "progress", src->status, src->error, NULL);
        pthread_mutex_unlock(&src->mu);
        return;
    }
    char details[256];
    snprintf(details, sizeof details,
             "{\"slot\": \"%s\", \"snapshot_complete\": %s, \"publication\": \"%s\"}", src->slot,
             atomic_load(&src->ready) ? "true" : "false", src->publication);
    status_row(out, o, "postgres", src->status, src->error, details);
    for (int i = 0; i < src->nsub; i++) {
        subrt *sb = &src->subs[i];
        eng_obj *so = eng_catalog_get(co->cat, sb->id);
        if (so == NULL)
            continue;
        const char *st = sb->error ? "stalled" : src->status;
        status_row(out, so, "subsource", st, sb->error ? sb->error : src->error, NULL);
    }
    eng_obj *po = eng_catalog_get(co->cat, src->prog_id);
    if (po != NULL)
        status_row(out, po, "progress", src->status, src->error, NULL);
    pthread_mutex_unlock(&src->mu);
}

void
ex_source_stats_rows(eng_coord *co, const eng_obj *o, eng_batch *out)
{
    (void)co;
    srcrt *src = o->kind == ENG_OBJ_SOURCE ? src_of(o) : NULL;
    if (src == NULL)
        return;
    eng_rowbuf rb = {0};
    char id[32];
    snprintf(id, sizeof id, "u%llu", (unsigned long long)o->id);
    push_text(&rb, id);
    push_text(&rb, o->name);
    uint64_t v[8] = {atomic_load(&src->messages_received), atomic_load(&src->bytes_received),
                     atomic_load(&src->updates_staged),    atomic_load(&src->updates_committed),
                     atomic_load(&src->snapshot_known),    atomic_load(&src->snapshot_staged),
                     atomic_load(&src->offset_known),      atomic_load(&src->offset_committed)};
    for (int i = 0; i < 8; i++)
        eng_push_int8(&rb, (int64_t)v[i]);
    int64_t rl = atomic_load(&src->rehydration_ms);
    if (rl < 0) {
        eng_push_null(&rb);
    } else {
        uint8_t iv[16] = {0};
        int64_t us = rl * 1000;
        memcpy(iv + 8, &us, 8);
        eng_push_fixed(&rb, ENG_TAG_INTERVAL, iv, 16);
    }
    eng_batch_push(out, eng_rowbuf_row(&rb), 0, 1);
    eng_rowbuf_free(&rb);
}
