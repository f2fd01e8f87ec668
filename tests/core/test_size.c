/* Unit tests: the replica size table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "engine/core/eng_size.h"

#define GIB (1024ull * 1024 * 1024)

static void
check(const char *name, int workers, unsigned long long gib)
{
    eng_size s;
    eng_err e;
    eng_err_clear(&e);
    assert_int_equal(eng_size_parse(name, &s, &e), 0);
    assert_int_equal(s.workers, workers);
    assert_int_equal(s.memory_bytes, gib * GIB);
}

static void
test_named_sizes(void **state)
{
    (void)state;
    check("3xsmall", 1, 4);
    check("2xsmall", 1, 8);
    check("xsmall", 2, 16);
    check("small", 4, 32);
    check("medium", 8, 64);
    check("large", 16, 128);
    check("xlarge", 32, 256);
    check("2xlarge", 64, 512);
    check("XSMALL", 2, 16);
}

static void
test_cc_sizes(void **state)
{
    (void)state;
    check("25cc", 1, 4);
    check("50cc", 1, 8);
    check("100cc", 2, 16);
    check("200cc", 4, 32);
    check("400cc", 8, 64);
    check("800cc", 16, 128);
    check("1600cc", 32, 256);
    check("3200cc", 64, 512);
}

static void
test_counts(void **state)
{
    (void)state;
    check("1", 1, 0);
    check("3", 3, 0);
    check("1024", 1024, 0);
}

static void
test_bad_sizes(void **state)
{
    (void)state;
    const char *bad[] = {"",   "0",     "7xhuge", "-1", "1025", "99999999999999999999",
                         "4 ", "xsmal", "25CCX"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        eng_size s;
        eng_err e;
        eng_err_clear(&e);
        assert_int_equal(eng_size_parse(bad[i], &s, &e), -1);
        assert_string_equal(e.sqlstate, "22023");
        assert_true(strlen(e.message) > 10);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_sizes),
        cmocka_unit_test(test_cc_sizes),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_bad_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
