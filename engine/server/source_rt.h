/* The runtime of a source, shared by source.c (PostgreSQL sources, the
 * catalog objects, reads, status) and kafka_source.c (Kafka sources).
 * Internal to engine/server. */
#ifndef ENG_SOURCE_RT_H
#define ENG_SOURCE_RT_H

#include <pthread.h>
#include <stdatomic.h>

#include "engine/server/source_int.h"

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
/* Frees a SUBSOURCE object's runtime (stops the source first). */
void src_sub_rt_free(eng_obj *o);

#ifdef SLUICE_KAFKA
/* Kafka sources (kafka_source.c). */
int ex_kafka_create_source(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err);
#endif

#endif
