/* The runtime of a source, shared by source.c (PostgreSQL sources, the
 * catalog objects, reads, status) and kafka_source.c (Kafka sources).
 * Internal to engine/server. */
#ifndef ENG_SOURCE_RT_H
#define ENG_SOURCE_RT_H

#include <pthread.h>
#include <stdatomic.h>

#include "engine/server/lex.h"
#include "engine/server/source_int.h"
#include "io/io_loop.h"

typedef enum src_kind { SRC_POSTGRES, SRC_KAFKA } src_kind;

/* objrt.sub of a SOURCE object that is not itself a relation (PostgreSQL
 * sources: their tables are subsources). */
#define SRC_SUB_HEADER (-2)

typedef struct subrt {
    uint64_t id;
    char *name;
    io_pgsrc_table t; /* upstream table (owned) */
    bool keyed;       /* UPSERT by t.key, else BAG */
    int kw;           /* exchange key width: t.nkey or t.ncols */
    eng_df *df;
    int in_stream, in_snap0, arr;
    objrt *rt;
    /* source thread only */
    eng_batch *b;
    int *map; /* upstream column i of the last Relation -> our column, -1: not ours */
    int map_n;
    bool rel_seen;
    /* src->mu (errored: set with it, read without) */
    char *error;
    atomic_bool errored;
} subrt;

struct srcrt {
    eng_coord *co;
    src_kind kind;
    void *(*thread_main)(void *); /* the source thread */
    void *k;                      /* KAFKA: its kafka state (kafka_source.c) */
    void (*k_free)(void *k);
    uint64_t id;
    char *name;
    ex_pgconn conn;
    char *publication, *slot;
    char size[64];
    int nsnap;
    int nsub, subcap;
    subrt *subs;
    /* the progress subsource */
    uint64_t prog_id;
    eng_df *prog_df;
    int prog_in;
    objrt *prog_rt;
    /* from CREATE SOURCE: the replication connection holding the new slot's snapshot */
    PGconn *repl;
    uint64_t start_lsn;
    char snapshot[128];
    eng_time t0;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    atomic_int refs;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_bool ready;
    bool failed;    /* mu */
    bool restarted; /* started from the catalog at startup, not by CREATE SOURCE */
    char status[16];
    char *error, *details;
    _Atomic uint64_t messages_received, bytes_received, updates_staged, updates_committed;
    _Atomic uint64_t snapshot_known, snapshot_staged, offset_known, offset_committed;
    _Atomic int64_t rehydration_ms;
};

/* The source thread's io_uring loop: a 1 ms tick and at most one armed
 * poll of the upstream's descriptor (libpq's socket, librdkafka's event
 * fd). A cancelled poll still completes: it is marked dead, counted, and
 * freed then; src_io_close waits for those completions (and the timer's
 * last) before the ring goes. Source thread only. */
typedef struct src_pollop src_pollop;
typedef struct src_io {
    io_loop *loop;
    srcrt *src;
    void (*on_ready)(void *ctx); /* the descriptor is readable; the poll is no longer armed */
    void (*on_tick)(void *ctx);  /* every 1 ms until src->stop */
    void *ctx;
    io_op timer;
    struct __kernel_timespec tick_ts;
    bool timer_done;  /* the timer saw src->stop and stopped the loop */
    src_pollop *poll; /* the armed poll, NULL when none */
    int dead_polls;   /* cancelled polls not yet completed */
} src_io;

/* Opens the ring (io is reset; nothing armed yet). 0, or -1 with err. */
int src_io_open(src_io *io, srcrt *src, void (*on_ready)(void *ctx), void (*on_tick)(void *ctx),
                void *ctx, eng_err *err);
/* Arms a poll of fd for readability, unless one is armed. */
void src_io_poll(src_io *io, int fd);
/* Cancels the armed poll (none: nothing), before its descriptor closes. */
void src_io_unpoll(src_io *io);
/* Arms the tick and runs the loop until src->stop. */
void src_io_run(src_io *io);
/* Cancels the poll, waits up to 1 s for the outstanding completions and
 * closes the ring. Nothing if the ring was never opened. */
void src_io_close(src_io *io);

/* The source of a SOURCE or SUBSOURCE object (NULL for others). */
static inline srcrt *
src_of(const eng_obj *o)
{
    if ((o->kind != ENG_OBJ_SOURCE && o->kind != ENG_OBJ_SUBSOURCE) || o->rt == NULL)
        return NULL;
    return ((const objrt *)o->rt)->src;
}

eng_time src_now_ms(void);
char *src_strdup(const char *s);
/* Sets the status ("starting", "running", "stalled", "failed") and error. */
void src_set_status(srcrt *src, const char *status, const char *error);
/* Stalls one of the source's relations with an error its readers get. */
void src_sub_fail(srcrt *src, subrt *sb, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool src_sub_errored(const subrt *sb);
void src_unref(srcrt *src);
/* A new source (one reference) named name, of size `size`, t0 = now. */
srcrt *src_new(eng_coord *co, src_kind kind, const char *name, const char *size);
/* Appends a relation with table t's columns and key (t is taken over). */
void src_add_sub(srcrt *src, io_pgsrc_table *t, const char *name);
/* Installs sub i's dataflow and its objrt (write lock held). */
void src_sub_install(eng_coord *co, srcrt *src, int i);
/* Creates the progress SUBSOURCE `<source>_progress` (lsn for PostgreSQL,
 * partition and offset for Kafka). Write lock held. */
int src_add_progress(eng_coord *co, srcrt *src, eng_err *err);
/* Starts / stops src->thread_main on its own thread. */
void src_start(srcrt *src);
void src_stop(srcrt *src);
/* Sends sb's truncation at t to every worker: a row of NULLs with 1 in
 * the meta column, which empties the relation. Source thread. */
void src_sub_truncate(srcrt *src, eng_client *c, subrt *sb, eng_time t);
/* Adds a drain's counts to the source's statistics and zeroes them (one
 * atomic per figure and drain, not per message). Source thread. */
void src_publish_counts(srcrt *src, uint64_t *msgs, uint64_t *bytes, uint64_t *staged);
/* Frees the runtime of an object that is one of a source's relations (a
 * SUBSOURCE, or the SOURCE of a Kafka source): stops the source first. */
void src_sub_rt_free(eng_obj *o);

/* ------------------------------------------------------------------ CREATE SOURCE
 * What the PostgreSQL and the Kafka statements share: the same head, the
 * same WITH (SIZE ...) tail, and the same steps to become a SOURCE object. */

typedef struct src_head {
    bool if_not_exists;
    char name[128];
    char size[64]; /* WITH (SIZE ...); 3xsmall when not given */
    /* Byte offsets in the statement: its end (before blanks, comments and
     * ';'), and the ')' closing WITH (...) (-1: no WITH clause). */
    int end_at, with_close;
} src_head;

/* CREATE SOURCE [IF NOT EXISTS] [public.]name [IN CLUSTER c], up to FROM.
 * 0, or -1 with err (a syntax error at l's position). */
int src_parse_head(ex_lexer *l, src_head *h, eng_err *err);

/* A WITH option other than SIZE, after `WITH (` or `,`: returns 1 if it
 * parsed one (keyword, '=', value), 0 if the next word is none of its
 * options, -1 with err on a bad value. */
typedef int (*src_with_fn)(ex_lexer *l, void *arg, eng_err *err);

/* [WITH (SIZE [=] v | <option of fn>, ...)] and the end of the statement:
 * sets h->size (checked as a size), h->end_at and h->with_close. expected
 * names the options in the syntax error for an unknown one ("SIZE or
 * SLOT"). 0, or -1 with err. */
int src_parse_tail(ex_lexer *l, src_head *h, src_with_fn fn, void *arg, const char *expected,
                   eng_err *err);

/* sql up to h->end_at with `opt = 'value'` added inside its WITH (...), or
 * as a new WITH clause; value quoted as an SQL string. The statement the
 * catalog records. Returns new; free with free(). */
char *src_sql_with(const char *sql, const src_head *h, const char *opt, const char *value);

/* An object named h->name exists (old): with IF NOT EXISTS and a SOURCE, a
 * notice and CREATE SOURCE's completion (returns 0), else 42710 (-1). */
int src_exists(const eng_obj *old, const src_head *h, const eng_sink *sink, eng_err *err);

/* The CONNECTION object named name, NULL if there is none. Lock held. */
eng_obj *src_find_conn(eng_coord *co, const char *name);

/* The name a new source cannot have because it is taken: name itself or
 * its progress subsource's, written to pname (NULL: both free). Write
 * lock held. */
const char *src_name_taken(eng_coord *co, const char *name, char pname[160]);

/* Drops the SOURCE object o (already in the catalog) again after a later
 * step failed with err, which is kept as it is. Write lock held. */
void src_undo_create(eng_coord *co, eng_obj *o, eng_err *err);

#ifdef SLUICE_KAFKA
/* Kafka sources (kafka_source.c). */
int ex_kafka_create_source(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err);
#endif

#endif
