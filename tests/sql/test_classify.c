/* Unit tests: statement classification and syntax errors with positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "engine/sql/eng_sql.h"

static void
check_tag(const char *sql, const char *tag, bool sluice)
{
    eng_sql_stmt st;
    eng_err e;
    eng_err_clear(&e);
    int rc = eng_sql_classify(sql, &st, &e);
    if (rc != 0)
        fail_msg("%s: unexpected error %s %s", sql, e.sqlstate, e.message);
    assert_string_equal(st.tag, tag);
    assert_int_equal(st.sluice, sluice);
}

static void
test_postgres_statements(void **s)
{
    (void)s;
    check_tag("SELECT 1", "SELECT", false);
    check_tag("  select a, count(*) from t group by a;", "SELECT", false);
    check_tag("INSERT INTO t VALUES (1)", "INSERT", false);
    check_tag("CREATE TABLE t (a int)", "CREATE TABLE", false);
    check_tag("CREATE VIEW v AS SELECT 1", "CREATE VIEW", false);
    check_tag("CREATE INDEX i ON t (a)", "CREATE INDEX", false);
    check_tag("SHOW wal_level", "SHOW", false);
    check_tag("CREATE MATERIALIZED VIEW cnt_view1 AS SELECT field1, COUNT(*) AS cnt FROM view1 "
              "GROUP BY field1",
              "CREATE MATERIALIZED VIEW", false);
    check_tag("CREATE TABLE t2 AS SELECT 1", "CREATE TABLE AS", false);
    check_tag("DELETE FROM t WHERE a = 1", "DELETE", false);
    check_tag("UPDATE t SET a = 2", "UPDATE", false);
    check_tag("EXPLAIN SELECT 1", "EXPLAIN", false);
}

static void
test_sluice_statements(void **s)
{
    (void)s;
    check_tag("CREATE SECRET pgpass AS 'postgres'", "CREATE SECRET", true);
    check_tag("CREATE CONNECTION pg_connection TO POSTGRES (HOST 'h', PORT 5432, USER 'postgres', "
              "PASSWORD SECRET pgpass, DATABASE 'postgres')",
              "CREATE CONNECTION", true);
    check_tag("CREATE SOURCE mz_source FROM POSTGRES CONNECTION pg_connection (PUBLICATION "
              "'mz_source') FOR ALL TABLES WITH (SIZE = '3xsmall')",
              "CREATE SOURCE", true);
    check_tag("-- a comment\n  subscribe to cnt_view1", "SUBSCRIBE", true);
    check_tag("/* c */ SHOW\tSOURCES", "SHOW SOURCES", true);
    check_tag("create sink s from v into kafka connection k (topic 't') format json", "CREATE SINK",
              true);
}

static void
test_syntax_errors(void **s)
{
    (void)s;
    struct {
        const char *sql;
        int position;
        const char *near;
    } cases[] = {
        {"SELEC 1", 1, "\"SELEC\""},
        {"select * from t where", 22, "end of input"},
        {"SELECT (1", 10, "end of input"},
        {"CREATE SOURCES x", 8, "\"SOURCES\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eng_sql_stmt st;
        eng_err e;
        eng_err_clear(&e);
        assert_int_equal(eng_sql_classify(cases[i].sql, &st, &e), -1);
        assert_string_equal(e.sqlstate, "42601");
        assert_int_equal(e.position, cases[i].position);
        assert_non_null(strstr(e.message, cases[i].near));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postgres_statements),
        cmocka_unit_test(test_sluice_statements),
        cmocka_unit_test(test_syntax_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
