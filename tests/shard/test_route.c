/* Unit tests: hash -> shard -> worker routing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/core/eng_row.h"
#include "shard/shard_route.h"

static void
test_shard_of_uses_high_bits(void **state)
{
    (void)state;
    shard_map *m = malloc(sizeof *m);
    shard_map_init(m, 256, 3);
    assert_int_equal(m->bits, 8);
    assert_int_equal(shard_of(m, 0), 0);
    assert_int_equal(shard_of(m, UINT64_MAX), 255);
    assert_int_equal(shard_of(m, 0x00ffffffffffffffull), 0);
    assert_int_equal(shard_of(m, 0xab00000000000000ull), 0xab);
    assert_int_equal(shard_owner(m, 0xab00000000000000ull), 0xab % 3);
    /* One shard: everything in shard 0 (no shift by 64). */
    shard_map_init(m, 1, 1);
    assert_int_equal(m->bits, 0);
    assert_int_equal(shard_of(m, UINT64_MAX), 0);
    /* The largest map. */
    shard_map_init(m, SHARD_MAX_SHARDS, 7);
    assert_int_equal(shard_of(m, UINT64_MAX), SHARD_MAX_SHARDS - 1);
    free(m);
}

/* Ownership is a table: moving a shard moves exactly its keys, and real
 * row hashes spread evenly over shards and workers. */
static void
test_owner_table(void **state)
{
    (void)state;
    shard_map *m = malloc(sizeof *m);
    shard_map_init(m, SHARD_DEFAULT_SHARDS, 4);
    uint32_t per_worker[4] = {0}, per_shard[SHARD_DEFAULT_SHARDS] = {0};
    eng_rowbuf b = {0};
    const uint32_t n = 256000;
    for (uint32_t i = 0; i < n; i++) {
        eng_rowbuf_reset(&b);
        eng_push_int8(&b, (int64_t)i);
        uint64_t h = eng_row_hash(eng_rowbuf_row(&b));
        per_shard[shard_of(m, h)]++;
        per_worker[shard_owner(m, h)]++;
    }
    for (int s = 0; s < (int)SHARD_DEFAULT_SHARDS; s++)
        assert_true(per_shard[s] > 800 && per_shard[s] < 1200);
    for (int w = 0; w < 4; w++)
        assert_true(per_worker[w] > n / 4 - 3000 && per_worker[w] < n / 4 + 3000);
    shard_map_assign(m, 5, 3);
    assert_int_equal(shard_owner(m, (uint64_t)5 << 56), 3);
    assert_int_equal(shard_owner(m, (uint64_t)6 << 56), 2);
    eng_rowbuf_free(&b);
    free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shard_of_uses_high_bits),
        cmocka_unit_test(test_owner_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
