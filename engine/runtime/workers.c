/* Pinned worker threads that park on an eventfd while idle. */
#include "engine/runtime/eng_workers.h"
#include "engine/core/eng_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#ifdef SLUICE_HAVE_MIMALLOC
#include <mimalloc.h>
#endif

typedef struct worker {
    struct eng_workers *pool;
    int index;
    int wake_fd;
    pthread_t thread;
    bool started;
} worker;

struct eng_workers {
    const shard_topo *topo;
    int n;
    _Atomic bool stopping;
    shard_place *places;
    worker *workers;
    pthread_mutex_t ready_mu;
    pthread_cond_t ready_cv;
    int ready;
    int failed;
};

static void *
worker_main(void *arg)
{
    worker *w = arg;
    eng_workers *pool = w->pool;
    const shard_place *pl = &pool->places[w->index];
    char name[16];
    snprintf(name, sizeof name, "worker-%d", w->index);
    eng_log_thread_name(name);
    pthread_setname_np(pthread_self(), name);

    eng_err err;
    eng_err_clear(&err);
    int rc = shard_topo_bind_self(pool->topo, pl, &err);
    if (rc != 0)
        eng_log(ENG_LOG_WARN, "%s", err.message); /* runs unpinned; still correct */
    else
        eng_log(ENG_LOG_INFO, "worker %d pinned to CPU %d (core %d%s), memory on NUMA node %d%s",
                w->index, pl->pu, pl->core, pl->sibling ? ", hyperthread sibling" : "",
                pl->numa_node, pl->oversubscribed ? " [oversubscribed]" : "");
#ifdef SLUICE_HAVE_MIMALLOC
    /* Touch the allocator from this thread so its thread-local heap is
     * created after binding, i.e. on this worker's NUMA node. */
    void *probe = mi_malloc(64);
    mi_free(probe);
#endif

    pthread_mutex_lock(&pool->ready_mu);
    pool->ready++;
    pthread_cond_broadcast(&pool->ready_cv);
    pthread_mutex_unlock(&pool->ready_mu);

    while (!atomic_load_explicit(&pool->stopping, memory_order_acquire)) {
        uint64_t v;
        ssize_t r = read(w->wake_fd, &v, sizeof v); /* parks until woken */
        if (r < 0 && errno != EINTR && errno != EAGAIN) {
            eng_log(ENG_LOG_ERROR, "worker %d: wake-up read failed: %s", w->index, strerror(errno));
            break;
        }
    }
    eng_log(ENG_LOG_DEBUG, "worker %d stopped", w->index);
    return NULL;
}

int
eng_workers_start(eng_workers **out, const shard_topo *topo, int n, eng_err *err)
{
    ENG_ASSERT(n >= 1);
    eng_workers *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "out of memory starting workers");
    pool->topo = topo;
    pool->n = n;
    atomic_init(&pool->stopping, false);
    pthread_mutex_init(&pool->ready_mu, NULL);
    pthread_cond_init(&pool->ready_cv, NULL);
    pool->places = calloc((size_t)n, sizeof *pool->places);
    pool->workers = calloc((size_t)n, sizeof *pool->workers);
    if (pool->places == NULL || pool->workers == NULL) {
        eng_workers_stop(pool);
        return eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "out of memory starting workers");
    }
    shard_topo_plan(topo, n, pool->places);
    if (n > shard_topo_pus(topo))
        eng_log(ENG_LOG_WARN,
                "%d workers on %d processing units: workers share CPUs, expect lower throughput", n,
                shard_topo_pus(topo));
    else if (n > shard_topo_cores(topo))
        eng_log(ENG_LOG_WARN, "%d workers on %d physical cores: some share a core (hyperthreads)",
                n, shard_topo_cores(topo));

    for (int i = 0; i < n; i++) {
        worker *w = &pool->workers[i];
        w->pool = pool;
        w->index = i;
        w->wake_fd = eventfd(0, EFD_CLOEXEC);
        if (w->wake_fd < 0) {
            eng_err_set(err, ENG_ERRCODE_SYSTEM_ERROR, "eventfd for worker %d: %s", i,
                        strerror(errno));
            eng_workers_stop(pool);
            return -1;
        }
        int rc = pthread_create(&w->thread, NULL, worker_main, w);
        if (rc != 0) {
            eng_err_set(err, ENG_ERRCODE_SYSTEM_ERROR, "cannot start worker %d: %s", i,
                        strerror(rc));
            close(w->wake_fd);
            w->wake_fd = -1;
            eng_workers_stop(pool);
            return -1;
        }
        w->started = true;
    }
    pthread_mutex_lock(&pool->ready_mu);
    while (pool->ready < n)
        pthread_cond_wait(&pool->ready_cv, &pool->ready_mu);
    pthread_mutex_unlock(&pool->ready_mu);
    *out = pool;
    return 0;
}

int
eng_workers_count(const eng_workers *pool)
{
    return pool->n;
}

const shard_place *
eng_workers_place(const eng_workers *pool, int i)
{
    ENG_ASSERT(i >= 0 && i < pool->n);
    return &pool->places[i];
}

void
eng_workers_stop(eng_workers *pool)
{
    if (pool == NULL)
        return;
    atomic_store_explicit(&pool->stopping, true, memory_order_release);
    for (int i = 0; pool->workers && i < pool->n; i++) {
        worker *w = &pool->workers[i];
        if (!w->started)
            continue;
        uint64_t one = 1;
        ssize_t r = write(w->wake_fd, &one, sizeof one);
        (void)r;
    }
    for (int i = 0; pool->workers && i < pool->n; i++) {
        worker *w = &pool->workers[i];
        if (w->started)
            pthread_join(w->thread, NULL);
        if (w->wake_fd > 0)
            close(w->wake_fd);
    }
    pthread_mutex_destroy(&pool->ready_mu);
    pthread_cond_destroy(&pool->ready_cv);
    free(pool->places);
    free(pool->workers);
    free(pool);
}
