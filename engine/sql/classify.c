/* Statement classification through libpg_query. */
#include "engine/sql/eng_sql.h"

#include <ctype.h>
#include <jansson.h>
#include <pg_query.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_SQL (64u << 20) /* 64 MiB of SQL text is a mistake, not a query */

/* Statements of Sluice's dialect, recognised by their leading keywords. */
static const char *const sluice_stmts[] = {
    "CREATE SOURCE",    "CREATE CONNECTION", "CREATE SECRET",    "CREATE SINK",
    "CREATE CLUSTER",   "ALTER SOURCE",      "ALTER CONNECTION", "ALTER SECRET",
    "DROP SOURCE",      "DROP CONNECTION",   "DROP SECRET",      "DROP SINK",
    "DROP CLUSTER",     "SUBSCRIBE",         "SHOW SOURCES",     "SHOW SINKS",
    "SHOW CONNECTIONS", "SHOW SECRETS",      "SHOW CLUSTERS",    "SHOW MATERIALIZED VIEWS",
    "SHOW VIEWS",       "SHOW TABLES",       "SHOW INDEXES",     "SHOW COLUMNS",
    "SHOW CREATE",      "SHOW OBJECTS",      "SHOW SCHEMAS",     "SHOW DATABASES",
};

/* Skips whitespace and SQL comments. */
static const char *
skip_space(const char *p)
{
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else {
            return p;
        }
    }
}

/* True if p starts with the words of kw (single spaces in kw match any
 * whitespace), case-insensitively, followed by a word boundary. */
static bool
starts_with_words(const char *p, const char *kw)
{
    while (*kw) {
        if (*kw == ' ') {
            if (!isspace((unsigned char)*p))
                return false;
            while (isspace((unsigned char)*p))
                p++;
            kw++;
            continue;
        }
        if (toupper((unsigned char)*p) != *kw)
            return false;
        p++;
        kw++;
    }
    return !(isalnum((unsigned char)*p) || *p == '_');
}

/* "CreateTableAsStmt" -> "CREATE TABLE AS"; a few nodes are named unlike
 * their statements. */
static void
tag_from_node(const char *node, char *out, size_t cap)
{
    static const struct {
        const char *node, *tag;
    } named[] = {
        {"CreateStmt", "CREATE TABLE"},     {"ViewStmt", "CREATE VIEW"},
        {"IndexStmt", "CREATE INDEX"},      {"DropStmt", "DROP"},
        {"VariableSetStmt", "SET"},         {"VariableShowStmt", "SHOW"},
        {"TransactionStmt", "TRANSACTION"}, {"DeclareCursorStmt", "DECLARE CURSOR"},
    };
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        if (strcmp(node, named[i].node) == 0) {
            snprintf(out, cap, "%s", named[i].tag);
            return;
        }
    }
    size_t n = strlen(node), k = 0;
    if (n > 4 && strcmp(node + n - 4, "Stmt") == 0)
        n -= 4;
    for (size_t i = 0; i < n && k + 2 < cap; i++) {
        if (i > 0 && isupper((unsigned char)node[i]) && !isupper((unsigned char)node[i - 1]))
            out[k++] = ' ';
        out[k++] = (char)toupper((unsigned char)node[i]);
    }
    out[k] = '\0';
}

int
eng_sql_classify(const char *sql, eng_sql_stmt *out, eng_err *err)
{
    memset(out, 0, sizeof *out);
    if (strlen(sql) > MAX_SQL)
        return eng_err_set(err, ENG_ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                           "statement text is longer than %u bytes", MAX_SQL);
    const char *p = skip_space(sql);
    for (size_t i = 0; i < sizeof sluice_stmts / sizeof sluice_stmts[0]; i++) {
        if (starts_with_words(p, sluice_stmts[i])) {
            snprintf(out->tag, sizeof out->tag, "%s", sluice_stmts[i]);
            out->sluice = true;
            out->nstmts = 1;
            return 0;
        }
    }
    PgQueryParseResult r = pg_query_parse(sql);
    int rc = 0;
    if (r.error) {
        eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "%s", r.error->message);
        if (err)
            err->position = r.error->cursorpos;
        rc = -1;
    } else {
        json_error_t je;
        json_t *root = json_loads(r.parse_tree, 0, &je);
        json_t *stmts = root ? json_object_get(root, "stmts") : NULL;
        out->nstmts = stmts ? (int)json_array_size(stmts) : 0;
        json_t *first = out->nstmts > 0 ? json_object_get(json_array_get(stmts, 0), "stmt") : NULL;
        const char *node = NULL;
        if (first && json_is_object(first)) {
            void *it = json_object_iter(first);
            node = it ? json_object_iter_key(it) : NULL;
        }
        if (node) {
            tag_from_node(node, out->tag, sizeof out->tag);
            json_t *body = json_object_get(first, node);
            /* CREATE MATERIALIZED VIEW parses as CreateTableAsStmt. */
            const char *objtype = json_string_value(json_object_get(body, "objtype"));
            if (strcmp(node, "CreateTableAsStmt") == 0 && objtype &&
                strcmp(objtype, "OBJECT_MATVIEW") == 0)
                snprintf(out->tag, sizeof out->tag, "CREATE MATERIALIZED VIEW");
        }
        json_decref(root);
    }
    pg_query_free_parse_result(r);
    return rc;
}
