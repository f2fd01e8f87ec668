/* Unit tests: SQLSTATE errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "engine/core/eng_err.h"

static void
test_set_and_context(void **state)
{
    (void)state;
    eng_err e;
    eng_err_clear(&e);
    assert_false(eng_err_isset(&e));
    assert_int_equal(eng_err_set(&e, ENG_ERRCODE_DIVISION_BY_ZERO, "division by %s", "zero"), -1);
    assert_true(eng_err_isset(&e));
    assert_string_equal(e.sqlstate, "22012");
    assert_string_equal(e.message, "division by zero");
    eng_err_context(&e, "evaluating view %s", "v1");
    assert_string_equal(e.message, "evaluating view v1: division by zero");
    eng_err_hint(&e, "retract the row %d", 7);
    assert_string_equal(e.hint, "retract the row 7");
    assert_string_equal(eng_err_severity_name(e.severity), "ERROR");
}

static void
test_condition_names(void **state)
{
    (void)state;
    assert_string_equal(eng_err_condition_name("22012"), "division_by_zero");
    assert_string_equal(eng_err_condition_name("42P01"), "undefined_table");
    assert_string_equal(eng_err_condition_name(ENG_ERRCODE_FEATURE_NOT_SUPPORTED),
                        "feature_not_supported");
    assert_null(eng_err_condition_name("ZZZZZ"));
    assert_null(eng_err_condition_name(NULL));
}

static void
test_null_err_is_dropped(void **state)
{
    (void)state;
    assert_int_equal(eng_err_set(NULL, ENG_ERRCODE_INTERNAL_ERROR, "x"), -1);
    eng_err_context(NULL, "y");
}

static void
test_long_message_truncates(void **state)
{
    (void)state;
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    eng_err e;
    eng_err_clear(&e);
    eng_err_set(&e, ENG_ERRCODE_INTERNAL_ERROR, "%s", big);
    assert_int_equal(strlen(e.message), ENG_ERR_MSG_MAX - 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_and_context),
        cmocka_unit_test(test_condition_names),
        cmocka_unit_test(test_null_err_is_dropped),
        cmocka_unit_test(test_long_message_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
