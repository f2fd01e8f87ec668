/* Unit tests: the worker pool starts, pins and stops for several sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "engine/core/eng_log.h"
#include "engine/runtime/eng_rt.h"

static void
test_start_stop(void **state)
{
    (void)state;
    eng_log_init(ENG_LOG_WARN, 2);
    shard_topo *topo;
    eng_err e;
    eng_err_clear(&e);
    assert_int_equal(shard_topo_open(&topo, &e), 0);
    int sizes[] = {1, 2, 4, 9};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        eng_rt *pool;
        assert_int_equal(eng_rt_start(&pool, topo, sizes[i], &e), 0);
        assert_int_equal(eng_rt_workers(pool), sizes[i]);
        for (int w = 0; w < sizes[i]; w++)
            assert_int_equal(eng_rt_place(pool, w)->worker, w);
        eng_rt_stop(pool);
    }
    shard_topo_close(topo);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_start_stop)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
