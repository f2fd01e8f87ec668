/* Unit test: in mimalloc builds, mimalloc is the process allocator (plain
 * malloc returns memory from mimalloc's heap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>

#include <mimalloc.h>

static void
test_malloc_is_mimalloc(void **state)
{
    (void)state;
    void *p = malloc(100);
    assert_non_null(p);
    assert_true(mi_is_in_heap_region(p));
    assert_true(mi_usable_size(p) >= 100);
    free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_malloc_is_mimalloc)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
