/* Consistency: readers running concurrently with a writer never see part of
 * a timestamp. The writer moves money between accounts; every transaction
 * (retract two balances, insert the two new ones) lands at one timestamp.
 * Reader threads, each with its own client, peek the arranged balances and
 * a global sum while the writer runs: every read must see every account
 * exactly once and the invariant total. Also: errors in data (a sum that
 * overflows int8) make reads fail with the error until the offending rows
 * are retracted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/core/eng_log.h"
#include "engine/runtime/eng_rt.h"
#include "operators/op_arrange.h"
#include "operators/op_reduce.h"

#define ACCOUNTS 64
#define START_BALANCE 1000

static shard_topo *topo;

typedef struct shared {
    eng_rt *rt;
    eng_df *df;
    int arr, sum;
    _Atomic bool done;
    _Atomic long reads;
    _Atomic long bad;
} shared;

static void *
reader(void *arg)
{
    shared *sh = arg;
    eng_client *c = eng_client_new(sh->rt);
    eng_err err;
    while (!atomic_load(&sh->done)) {
        eng_batch *out;
        eng_time at;
        eng_err_clear(&err);
        if (eng_df_peek(c, sh->df, sh->arr, ENG_TIME_MAX, NULL, &out, &at, &err) != 0) {
            atomic_fetch_add(&sh->bad, 1);
            continue;
        }
        int64_t total = 0, rows = 0;
        for (uint32_t i = 0; i < out->n; i++) {
            eng_row r = eng_batch_row(out, i);
            uint32_t pos = 0;
            eng_row_next(r, &pos);
            total += eng_datum_int8(eng_row_next(r, &pos)) * out->upd[i].diff;
            rows += out->upd[i].diff;
        }
        eng_batch_free(out);
        if (total != (int64_t)ACCOUNTS * START_BALANCE || rows != ACCOUNTS) {
            fprintf(stderr, "inconsistent read at %llu: %lld rows, total %lld\n",
                    (unsigned long long)at, (long long)rows, (long long)total);
            atomic_fetch_add(&sh->bad, 1);
        }
        /* the global sum agrees */
        eng_err_clear(&err);
        if (eng_df_peek(c, sh->df, sh->sum, ENG_TIME_MAX, NULL, &out, &at, &err) == 0) {
            if (out->n != 1) {
                atomic_fetch_add(&sh->bad, 1);
            } else {
                eng_row r = eng_batch_row(out, 0);
                uint32_t pos = 0;
                eng_datum d = eng_row_next(r, &pos);
                if (d.tag != ENG_TAG_INT8 || eng_datum_int8(d) != (int64_t)ACCOUNTS * START_BALANCE)
                    atomic_fetch_add(&sh->bad, 1);
            }
            eng_batch_free(out);
        } else {
            atomic_fetch_add(&sh->bad, 1);
        }
        atomic_fetch_add(&sh->reads, 1);
    }
    eng_client_free(c);
    return NULL;
}

static void
push_balance(eng_batch *b, int64_t acct, int64_t bal, eng_time t, int64_t diff)
{
    eng_rowbuf rb = {0};
    eng_push_int8(&rb, acct);
    eng_push_int8(&rb, bal);
    eng_batch_push(b, eng_rowbuf_row(&rb), t, diff);
    eng_rowbuf_free(&rb);
}

static void
run(int W)
{
    shared sh = {0};
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_rt_start(&sh.rt, topo, W, &err), 0);
    eng_client *c = eng_client_new(sh.rt);
    eng_plan *p = eng_plan_new();
    int in = eng_plan_input(p, "balances");
    op_arrange_params *ap = calloc(1, sizeof *ap);
    ap->key_ncols = 1;
    sh.arr = eng_plan_node(p, "arrange", op_arrange_make, ap, free, 1);
    eng_plan_edge(p, in, sh.arr, 0, 1);
    op_reduce_params *rp = op_reduce_params_new(0, 1);
    rp->global = true;
    rp->aggs[0] = (op_agg){OP_AGG_SUM_INT, 1, NULL}; /* value column 1: the balance */
    sh.sum = eng_plan_node(p, "sum", op_reduce_make, rp, free, 1);
    eng_plan_edge(p, in, sh.sum, 0, 0);
    sh.df = eng_df_install(c, p);

    int64_t bal[ACCOUNTS];
    eng_batch *b = eng_client_batch(c);
    for (int a = 0; a < ACCOUNTS; a++) {
        bal[a] = START_BALANCE;
        push_balance(b, a, bal[a], 0, 1);
    }
    eng_df_send(c, sh.df, in, b);
    eng_df_advance(c, sh.df, in, 1);
    if (eng_df_wait(c, sh.df, sh.sum, 0, 10000, &err) != 0)
        fprintf(stderr, "wait: %s\n", err.message);
    assert_int_equal(err.sqlstate[0], 0);

    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, reader, &sh);
    uint64_t seed = 12345;
    for (eng_time t = 1; t <= 2000; t++) {
        /* one transaction per timestamp, spread over two batches so a
         * worker may see half of it before the other half arrives */
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        int from = (int)((seed >> 33) % ACCOUNTS), to = (int)((seed >> 17) % ACCOUNTS);
        if (from == to)
            to = (to + 1) % ACCOUNTS;
        int64_t x = (int64_t)((seed >> 5) % 50);
        eng_batch *b1 = eng_client_batch(c), *b2 = eng_client_batch(c);
        push_balance(b1, from, bal[from], t, -1);
        push_balance(b1, from, bal[from] - x, t, 1);
        push_balance(b2, to, bal[to], t, -1);
        push_balance(b2, to, bal[to] + x, t, 1);
        bal[from] -= x;
        bal[to] += x;
        eng_df_send(c, sh.df, in, b1);
        eng_df_send(c, sh.df, in, b2);
        eng_df_advance(c, sh.df, in, t + 1);
    }
    assert_int_equal(eng_df_wait(c, sh.df, sh.arr, 2000, 20000, &err), 0);
    atomic_store(&sh.done, true);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&sh.bad), 0);
    assert_true(atomic_load(&sh.reads) > 0);

    /* Errors in data: push the sum past int8, read fails with 22003; retract,
     * readable again. */
    eng_time t = 2001;
    b = eng_client_batch(c);
    push_balance(b, 1000, INT64_MAX, t, 1);
    eng_df_send(c, sh.df, in, b);
    eng_df_advance(c, sh.df, in, t + 1);
    eng_batch *out;
    eng_time at;
    eng_err_clear(&err);
    assert_int_equal(eng_df_peek(c, sh.df, sh.sum, t, NULL, &out, &at, &err), -1);
    assert_string_equal(err.sqlstate, "22003");
    b = eng_client_batch(c);
    push_balance(b, 1000, INT64_MAX, t + 1, -1);
    eng_df_send(c, sh.df, in, b);
    eng_df_advance(c, sh.df, in, t + 2);
    eng_err_clear(&err);
    assert_int_equal(eng_df_peek(c, sh.df, sh.sum, t + 1, NULL, &out, &at, &err), 0);
    assert_int_equal(out->n, 1);
    eng_batch_free(out);

    eng_df_drop(c, sh.df);
    eng_client_free(c);
    eng_rt_stop(sh.rt);
}

static void
test_consistent_reads(void **st)
{
    (void)st;
    int ws[] = {1, 2, 4};
    for (int i = 0; i < 3; i++)
        run(ws[i]);
}

int
main(void)
{
    eng_log_init(ENG_LOG_ERROR, 2);
    eng_err e;
    eng_err_clear(&e);
    if (shard_topo_open(&topo, &e) != 0)
        return 1;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_consistent_reads)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    shard_topo_close(topo);
    return rc;
}
