/* Unit tests: the catalog's persistence. A replay that fails part way
 * (a statement the new binary refuses) must leave catalog.json as it was:
 * the objects after the failing entry are the user's data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/catalog/eng_catalog.h"

static char dir[64];

static void
add(eng_catalog *cat, uint64_t id, const char *name, const char *sql)
{
    eng_obj *o = eng_obj_new(id, ENG_OBJ_VIEW, "public", name);
    o->sql = strdup(sql);
    o->persist = true;
    eng_err e;
    eng_err_clear(&e);
    assert_int_equal(eng_catalog_add(cat, o, &e), 0);
}

static char *
slurp(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/catalog.json", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strdup(buf);
}

typedef struct replay_ctx {
    eng_catalog *cat;
    int calls, fail_at;
} replay_ctx;

/* Replays like the coordinator: each entry is added again (persisted). */
static int
replay(void *arg, uint64_t id, const char *sql, eng_err *err)
{
    replay_ctx *r = arg;
    if (r->calls++ == r->fail_at)
        return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "refused");
    char name[32];
    snprintf(name, sizeof name, "v%llu", (unsigned long long)id);
    add(r->cat, id, name, sql);
    return 0;
}

static void
test_failed_replay_keeps_the_file(void **state)
{
    (void)state;
    eng_catalog *cat = eng_catalog_new(dir);
    add(cat, 1000, "a", "CREATE VIEW a AS SELECT 1");
    add(cat, 1001, "b", "CREATE VIEW b AS SELECT 2");
    add(cat, 1002, "c", "CREATE VIEW c AS SELECT 3");
    eng_catalog_free(cat);
    char *before = slurp();

    cat = eng_catalog_new(dir);
    replay_ctx r = {cat, 0, 1};
    eng_err e;
    eng_err_clear(&e);
    assert_int_equal(eng_catalog_load(cat, replay, &r, &e), -1);
    eng_catalog_free(cat);
    char *after = slurp();
    assert_string_equal(before, after);

    /* A replay that succeeds rewrites nothing either, and keeps all three. */
    cat = eng_catalog_new(dir);
    r = (replay_ctx){cat, 0, -1};
    eng_err_clear(&e);
    assert_int_equal(eng_catalog_load(cat, replay, &r, &e), 0);
    assert_int_equal(eng_catalog_count(cat), 3);
    eng_catalog_free(cat);
    char *again = slurp();
    assert_string_equal(before, again);
    free(before);
    free(after);
    free(again);
}

int
main(void)
{
    snprintf(dir, sizeof dir, "/tmp/sluice-cat-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_replay_keeps_the_file),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
