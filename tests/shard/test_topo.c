/* Unit tests: topology discovery and placement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>

#include "shard/shard_topo.h"

static shard_topo *topo;

static int
setup(void **state)
{
    (void)state;
    eng_err e;
    eng_err_clear(&e);
    return shard_topo_open(&topo, &e);
}

static int
teardown(void **state)
{
    (void)state;
    shard_topo_close(topo);
    return 0;
}

static void
test_counts(void **state)
{
    (void)state;
    assert_true(shard_topo_pus(topo) >= 1);
    assert_true(shard_topo_cores(topo) >= 1);
    assert_true(shard_topo_cores(topo) <= shard_topo_pus(topo));
    assert_true(shard_topo_numa_nodes(topo) >= 1);
    char d[128];
    shard_topo_describe(topo, d, sizeof d);
    assert_non_null(strstr(d, "core"));
}

/* Physical cores first: the first `cores` workers land on distinct cores,
 * none of them a sibling; beyond the PU count, oversubscribed. */
static void
test_plan_cores_first(void **state)
{
    (void)state;
    int cores = shard_topo_cores(topo), pus = shard_topo_pus(topo);
    int n = pus * 2 + 1;
    shard_place *pl = calloc((size_t)n, sizeof *pl);
    shard_topo_plan(topo, n, pl);
    for (int i = 0; i < cores; i++) {
        assert_false(pl[i].sibling);
        assert_false(pl[i].oversubscribed);
        for (int j = 0; j < i; j++)
            assert_int_not_equal(pl[i].core, pl[j].core);
    }
    for (int i = 0; i < pus; i++)
        for (int j = 0; j < i; j++)
            assert_int_not_equal(pl[i].pu, pl[j].pu);
    for (int i = pus; i < n; i++)
        assert_true(pl[i].oversubscribed);
    free(pl);
}

static void
test_bind_self(void **state)
{
    (void)state;
    shard_place pl;
    shard_topo_plan(topo, 1, &pl);
    eng_err e;
    eng_err_clear(&e);
    assert_int_equal(shard_topo_bind_self(topo, &pl, &e), 0);
    assert_int_equal(sched_getcpu(), pl.pu);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_plan_cores_first),
        cmocka_unit_test(test_bind_self),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
