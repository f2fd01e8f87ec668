/* Unit tests: SPSC channels (single-thread semantics, a two-thread stress
 * run checking order and count) and the bell (parking and waking). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "shard/shard_chan.h"

#define MSG(i) ((void *)(uintptr_t)(i))
#define VAL(p) ((uint64_t)(uintptr_t)(p))

static void
test_single_thread(void **state)
{
    (void)state;
    shard_chan *c = shard_chan_new(8);
    assert_non_null(c);
    assert_int_equal(shard_chan_capacity(c), 8);
    assert_true(shard_chan_empty(c));
    assert_null(shard_chan_pop(c));
    for (uint64_t i = 1; i <= 8; i++)
        assert_true(shard_chan_push(c, MSG(i)));
    assert_false(shard_chan_push(c, MSG(99)));
    assert_false(shard_chan_empty(c));
    for (uint64_t i = 1; i <= 3; i++)
        assert_int_equal(VAL(shard_chan_pop(c)), i);
    /* Wrap around: 3 free slots, a batch of 5 only partly fits. */
    void *batch[5] = {MSG(9), MSG(10), MSG(11), MSG(12), MSG(13)};
    assert_int_equal(shard_chan_push_many(c, batch, 5), 3);
    assert_int_equal(shard_chan_push_many(c, batch + 3, 2), 0);
    void *out[16];
    assert_int_equal(shard_chan_pop_many(c, out, 2), 2);
    assert_int_equal(VAL(out[0]), 4);
    assert_int_equal(VAL(out[1]), 5);
    assert_int_equal(shard_chan_pop_many(c, out, 16), 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(VAL(out[i]), (uint64_t)(6 + i));
    assert_true(shard_chan_empty(c));
    assert_int_equal(shard_chan_pop_many(c, out, 16), 0);
    assert_null(shard_chan_pop(c));
    /* Many laps of the ring with odd batch sizes. */
    uint64_t next_in = 1, next_out = 1;
    for (int round = 0; round < 10000; round++) {
        void *b[7];
        uint32_t n = (uint32_t)(round % 7) + 1;
        for (uint32_t i = 0; i < n; i++)
            b[i] = MSG(next_in + i);
        next_in += shard_chan_push_many(c, b, n);
        uint32_t got = shard_chan_pop_many(c, out, (uint32_t)(round % 5) + 1);
        for (uint32_t i = 0; i < got; i++)
            assert_int_equal(VAL(out[i]), next_out++);
    }
    void *p;
    while ((p = shard_chan_pop(c)) != NULL)
        assert_int_equal(VAL(p), next_out++);
    assert_int_equal(next_in, next_out);
    shard_chan_free(c);
}

/* ------------------------------------------------------------------ stress */

#define STRESS_N 20000000ull

/* Full or empty: let the other side run (matters when the test shares a
 * core with others, e.g. under ctest -j). sched_yield is only a hint to
 * the scheduler, so a long run of misses sleeps briefly. Callers reset
 * *misses on progress. */
static void
backoff(uint32_t *misses)
{
    ++*misses;
    if (*misses % 1024 == 0) {
        struct timespec d = {0, 50000};
        nanosleep(&d, NULL);
    } else if (*misses % 64 == 0) {
        sched_yield();
    }
}

static void *
stress_producer(void *arg)
{
    shard_chan *c = arg;
    uint64_t next = 1;
    uint32_t misses = 0;
    void *b[64];
    while (next <= STRESS_N) {
        if (next % 3 == 0) { /* single pushes */
            if (shard_chan_push(c, MSG(next)))
                next++, misses = 0;
            else
                backoff(&misses);
            continue;
        }
        uint32_t n = (uint32_t)(next % 61) + 1;
        if (next + n - 1 > STRESS_N)
            n = (uint32_t)(STRESS_N - next + 1);
        for (uint32_t i = 0; i < n; i++)
            b[i] = MSG(next + i);
        uint32_t k = shard_chan_push_many(c, b, n);
        if (k == 0)
            backoff(&misses);
        else
            misses = 0;
        next += k;
    }
    return NULL;
}

static void
test_two_thread_stress(void **state)
{
    (void)state;
    shard_chan *c = shard_chan_new(1024);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, stress_producer, c), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t expect = 1, count = 0, polls = 0;
    uint32_t misses = 0;
    void *out[100];
    while (expect <= STRESS_N) {
        polls++;
        if (polls % 2) {
            void *p = shard_chan_pop(c);
            if (p == NULL) {
                backoff(&misses);
            } else {
                misses = 0;
                if (VAL(p) != expect)
                    fail_msg("out of order: got %llu, expected %llu", (unsigned long long)VAL(p),
                             (unsigned long long)expect);
                expect++, count++;
            }
            continue;
        }
        uint32_t n = shard_chan_pop_many(c, out, (uint32_t)(polls % 100) + 1);
        if (n == 0)
            backoff(&misses);
        else
            misses = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (VAL(out[i]) != expect)
                fail_msg("out of order: got %llu, expected %llu", (unsigned long long)VAL(out[i]),
                         (unsigned long long)expect);
            expect++, count++;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(count, STRESS_N);
    assert_true(shard_chan_empty(c));
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("# stress: %llu messages in %.3f s (%.1f M msgs/s)\n", (unsigned long long)count, s,
           (double)count / s / 1e6);
    shard_chan_free(c);
}

/* ------------------------------------------------------------------ bell */

static void
test_bell_basics(void **state)
{
    (void)state;
    shard_bell b;
    shard_bell_init(&b);
    /* Ringing an awake consumer costs no system call. */
    for (int i = 0; i < 1000; i++)
        shard_bell_ring(&b);
    assert_int_equal(shard_bell_wakes(&b), 0);
    /* Nobody rings: wait times out and leaves the bell awake. */
    shard_bell_prepare(&b);
    assert_false(shard_bell_wait(&b, 2000000));
    shard_bell_ring(&b);
    assert_int_equal(shard_bell_wakes(&b), 0);
    /* Rung between prepare and wait: wait returns at once. */
    shard_bell_prepare(&b);
    shard_bell_ring(&b);
    assert_int_equal(shard_bell_wakes(&b), 1);
    assert_true(shard_bell_wait(&b, -1));
    /* Cancel after prepare. */
    shard_bell_prepare(&b);
    shard_bell_cancel(&b);
    shard_bell_ring(&b);
    assert_int_equal(shard_bell_wakes(&b), 1);
}

#define PARK_PRODUCERS 2
#define PARK_MSGS 20000

typedef struct park_arg {
    shard_chan *c;
    shard_bell *bell;
} park_arg;

static void *
park_producer(void *argp)
{
    park_arg *arg = argp;
    for (uint64_t i = 1; i <= PARK_MSGS; i++) {
        uint32_t misses = 0;
        while (!shard_chan_push(arg->c, MSG(i)))
            backoff(&misses);
        shard_bell_ring(arg->bell);
        /* Pause now and then so the consumer runs dry and parks. */
        if (i % 4 == 0) {
            struct timespec d = {0, 20000};
            nanosleep(&d, NULL);
        }
    }
    return NULL;
}

/* One consumer serving two channels parks whenever both are empty; every
 * message must arrive in order and no wait may run into its (long)
 * timeout, which is what a lost wake-up would look like. */
static void
test_bell_parking(void **state)
{
    (void)state;
    shard_bell bell;
    shard_bell_init(&bell);
    shard_chan *ch[PARK_PRODUCERS];
    park_arg args[PARK_PRODUCERS];
    pthread_t th[PARK_PRODUCERS];
    for (int p = 0; p < PARK_PRODUCERS; p++) {
        ch[p] = shard_chan_new(16);
        args[p] = (park_arg){ch[p], &bell};
    }
    for (int p = 0; p < PARK_PRODUCERS; p++)
        assert_int_equal(pthread_create(&th[p], NULL, park_producer, &args[p]), 0);
    uint64_t expect[PARK_PRODUCERS];
    for (int p = 0; p < PARK_PRODUCERS; p++)
        expect[p] = 1;
    uint64_t received = 0, sleeps = 0, cancels = 0;
    while (received < (uint64_t)PARK_PRODUCERS * PARK_MSGS) {
        bool any = false;
        for (int p = 0; p < PARK_PRODUCERS; p++) {
            void *m;
            while ((m = shard_chan_pop(ch[p])) != NULL) {
                assert_int_equal(VAL(m), expect[p]);
                expect[p]++, received++;
                any = true;
            }
        }
        if (any)
            continue;
        shard_bell_prepare(&bell);
        bool empty = true;
        for (int p = 0; p < PARK_PRODUCERS; p++)
            empty = empty && shard_chan_empty(ch[p]);
        if (!empty) {
            shard_bell_cancel(&bell);
            cancels++;
            continue;
        }
        if (!shard_bell_wait(&bell, 10ll * 1000000000))
            fail_msg("consumer slept 10 s with %llu of %d messages received: lost wake-up",
                     (unsigned long long)received, PARK_PRODUCERS * PARK_MSGS);
        sleeps++;
    }
    for (int p = 0; p < PARK_PRODUCERS; p++) {
        assert_int_equal(pthread_join(th[p], NULL), 0);
        assert_int_equal(expect[p], PARK_MSGS + 1);
        shard_chan_free(ch[p]);
    }
    printf("# parking: %llu waits, %llu cancels, %llu kernel wakes\n", (unsigned long long)sleeps,
           (unsigned long long)cancels, (unsigned long long)shard_bell_wakes(&bell));
    assert_true(sleeps >= 1000);
    assert_true(shard_bell_wakes(&bell) >= 1000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_thread),
        cmocka_unit_test(test_two_thread_stress),
        cmocka_unit_test(test_bell_basics),
        cmocka_unit_test(test_bell_parking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
