/* The coordinator in process: a reader that stops consuming its rows (a
 * slow client) must not hold up writers; every write is visible to the
 * next read (read-your-writes); statements over a dropped object fail
 * cleanly. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "t_session.h"

static shard_topo *topo;
static eng_rt *rt;
static eng_coord *co;

static int
setup(void **state)
{
    (void)state;
    eng_err err;
    eng_err_clear(&err);
    if (shard_topo_open(&topo, &err) != 0 || eng_rt_start(&rt, topo, 2, &err) != 0 ||
        eng_coord_open(&co, rt, NULL, &err) != 0)
        return -1;
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    eng_coord_close(co);
    eng_rt_stop(rt);
    shard_topo_close(topo);
    return 0;
}

static void
expect_sql(eng_session *s, const char *sql, const char *want)
{
    char *got = t_sql(s, sql);
    if (strcmp(got, want) != 0)
        fail_msg("%s\nexpected:\n%sgot:\n%s", sql, want, got);
    free(got);
}

/* A sink that blocks in its first row until released. */
typedef struct slow {
    atomic_int in_row, release;
} slow;

static int
slow_row(void *ctx, eng_row row)
{
    (void)row;
    slow *sl = ctx;
    atomic_store(&sl->in_row, 1);
    while (!atomic_load(&sl->release))
        usleep(1000);
    return 0;
}

static int
slow_complete(void *ctx, const char *tag)
{
    (void)ctx;
    (void)tag;
    return 0;
}

static void *
slow_reader(void *arg)
{
    slow *sl = arg;
    eng_session *s = eng_session_new(co);
    eng_sink sink = {0};
    sink.ctx = sl;
    sink.row = slow_row;
    sink.complete = slow_complete;
    eng_err err;
    eng_err_clear(&err);
    int rc = eng_session_run(s, "SELECT * FROM slow_t", &sink, &err);
    eng_session_free(s);
    return (void *)(intptr_t)rc;
}

static void
test_slow_reader_does_not_block_writers(void **state)
{
    (void)state;
    eng_session *w = eng_session_new(co);
    expect_sql(w, "CREATE TABLE slow_t (a int)", "CREATE TABLE\n");
    expect_sql(w, "INSERT INTO slow_t VALUES (1), (2), (3)", "INSERT 0 3\n");
    slow sl = {0};
    pthread_t th;
    pthread_create(&th, NULL, slow_reader, &sl);
    while (!atomic_load(&sl.in_row))
        usleep(1000);
    /* The reader is stuck in its first row; writes and DDL go on. */
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    expect_sql(w, "INSERT INTO slow_t VALUES (4)", "INSERT 0 1\n");
    expect_sql(w, "CREATE VIEW slow_v AS SELECT count(*) AS n FROM slow_t", "CREATE VIEW\n");
    expect_sql(w, "SELECT n FROM slow_v", "n\n4\nSELECT 1\n");
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1000 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    atomic_store(&sl.release, 1);
    void *rc;
    pthread_join(th, &rc);
    assert_int_equal((intptr_t)rc, 0);
    /* Not a timing assertion: the writes completed at all while the reader
     * was blocked (they would deadlock otherwise); report the figure. */
    print_message("writes while a reader was stuck took %.1f ms\n", ms);
    eng_session_free(w);
}

static void
test_read_your_writes(void **state)
{
    (void)state;
    eng_session *s = eng_session_new(co);
    eng_session *r = eng_session_new(co);
    expect_sql(s, "CREATE TABLE ryw (a int)", "CREATE TABLE\n");
    expect_sql(s, "CREATE MATERIALIZED VIEW ryw_n AS SELECT count(*) AS n FROM ryw",
               "CREATE MATERIALIZED VIEW\n");
    for (int i = 1; i <= 30; i++) {
        char sql[64], want[64];
        snprintf(sql, sizeof sql, "INSERT INTO ryw VALUES (%d)", i);
        expect_sql(s, sql, "INSERT 0 1\n");
        snprintf(want, sizeof want, "n\n%d\nSELECT 1\n", i);
        /* another session sees it at once */
        expect_sql(r, "SELECT n FROM ryw_n", want);
    }
    eng_session_free(s);
    eng_session_free(r);
}

static void
test_dropped_objects(void **state)
{
    (void)state;
    eng_session *s = eng_session_new(co);
    expect_sql(s, "CREATE TABLE d1 (a int)", "CREATE TABLE\n");
    expect_sql(s, "CREATE VIEW d2 AS SELECT a FROM d1", "CREATE VIEW\n");
    expect_sql(s, "DROP TABLE d1",
               "ERROR 2BP01: cannot drop table d1 because other objects depend on it\n");
    expect_sql(s, "DROP TABLE d1 CASCADE", "DROP TABLE\n");
    expect_sql(s, "SELECT * FROM d2", "ERROR 42P01: relation \"d2\" does not exist\n");
    expect_sql(s, "INSERT INTO d1 VALUES (1)", "ERROR 42P01: relation \"d1\" does not exist\n");
    eng_session_free(s);
}

static void
test_secrets(void **state)
{
    (void)state;
    eng_session *s = eng_session_new(co);
    expect_sql(s, "CREATE SECRET pw AS 'it''s s3cret'", "CREATE SECRET\n");
    expect_sql(s, "CREATE SECRET pw AS 'x'", "ERROR 42710: secret \"pw\" already exists\n");
    expect_sql(s, "ALTER SECRET pw AS 'y'", "ALTER SECRET\n");
    expect_sql(s, "SHOW SECRETS", "name\npw\nSELECT 1\n");
    expect_sql(s, "CREATE SECRET bad 'x'", "ERROR 42601: Expected AS after the secret name\n");
    expect_sql(s, "DROP SECRET pw", "DROP SECRET\n");
    expect_sql(s, "DROP SECRET pw", "ERROR 42704: unknown secret 'pw'\n");
    eng_session_free(s);
}

/* When the catalog cannot be written, the object is not created (and no
 * dangling entry is left behind). */
static void
test_unwritable_catalog(void **state)
{
    (void)state;
    eng_coord *c2;
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_coord_open(&c2, rt, "/nonexistent/sluice/dir", &err), 0);
    eng_session *s = eng_session_new(c2);
    char *r = t_sql(s, "CREATE TABLE t (a int)");
    assert_true(strncmp(r, "ERROR 58030", 11) == 0);
    free(r);
    expect_sql(s, "SHOW TABLES", "name\nSELECT 0\n");
    expect_sql(s, "SELECT * FROM t", "ERROR 42P01: relation \"t\" does not exist\n");
    eng_session_free(s);
    eng_coord_close(c2);
}

/* Tables advance with the wall clock even without writes: a SUBSCRIBE
 * WITH (PROGRESS) over an idle table reports progress. */
static void
test_idle_tables_advance(void **state)
{
    (void)state;
    eng_session *s = eng_session_new(co);
    expect_sql(s, "CREATE TABLE idle (a int)", "CREATE TABLE\n");
    expect_sql(s, "DECLARE c CURSOR FOR SUBSCRIBE idle WITH (PROGRESS)", "DECLARE CURSOR\n");
    /* The first progress row comes with the snapshot; a second one only if
     * time passes for the idle table. */
    char *r = t_sql(s, "FETCH ALL c WITH (timeout = '500ms')");
    assert_non_null(strstr(r, "|t|NULL|NULL\n"));
    free(r);
    r = t_sql(s, "FETCH ALL c WITH (timeout = '3s')");
    assert_non_null(strstr(r, "|t|NULL|NULL\n"));
    free(r);
    expect_sql(s, "CLOSE c", "CLOSE CURSOR\n");
    eng_session_free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_reader_does_not_block_writers),
        cmocka_unit_test(test_read_your_writes),
        cmocka_unit_test(test_dropped_objects),
        cmocka_unit_test(test_secrets),
        cmocka_unit_test(test_unwritable_catalog),
        cmocka_unit_test(test_idle_tables_advance),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
