/* Sluice's own statements, which PostgreSQL's grammar lacks: SHOW
 * TABLES/VIEWS/MATERIALIZED VIEWS/INDEXES/SOURCES/COLUMNS/CREATE/SCHEMAS/
 * OBJECTS/CLUSTERS/DATABASES/SECRETS/CONNECTIONS. The statements of later
 * issues (CREATE SOURCE/CONNECTION/SECRET, SUBSCRIBE...) are recognised and
 * answered 0A000 naming them.
 *
 * Notes: a small word tokenizer (identifiers, "quoted identifiers",
 * punctuation); errors point at the offending word's position. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/core/eng_type.h"
#include "engine/server/exec_int.h"
#include "engine/server/source_int.h"

#define MAX_WORDS 32

typedef struct word {
    char text[128]; /* lower-cased unless quoted */
    int pos;        /* 1-based character position */
    bool quoted;
} word;

/* Splits sql into words. Returns the count (<= MAX_WORDS). */
static int
tokenize(const char *sql, word *w)
{
    int n = 0;
    const char *p = sql;
    while (*p && n < MAX_WORDS) {
        if (isspace((unsigned char)*p)) {
            p++;
            continue;
        }
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        word *x = &w[n];
        memset(x, 0, sizeof *x);
        x->pos = (int)(p - sql) + 1;
        size_t k = 0;
        if (*p == '"') {
            x->quoted = true;
            p++;
            while (*p && !(*p == '"' && p[1] != '"')) {
                if (*p == '"')
                    p++;
                if (k + 1 < sizeof x->text)
                    x->text[k++] = *p;
                p++;
            }
            if (*p)
                p++;
        } else if (isalnum((unsigned char)*p) || *p == '_') {
            while (isalnum((unsigned char)*p) || *p == '_' || (unsigned char)*p >= 0x80) {
                if (k + 1 < sizeof x->text)
                    x->text[k++] = (char)tolower((unsigned char)*p);
                p++;
            }
        } else {
            x->text[k++] = *p++;
        }
        x->text[k] = '\0';
        n++;
    }
    return n;
}

static bool
is(const word *w, int n, int i, const char *kw)
{
    return i < n && !w[i].quoted && strcmp(w[i].text, kw) == 0;
}

static const char *const dialect_lead[] = {
    "show tables",     "show views",        "show materialized", "show indexes", "show sources",
    "show columns",    "show create",       "show schemas",      "show objects", "show clusters",
    "show databases",  "show secrets",      "show connections",  "show sinks",   "show subsources",
    "create source",   "create connection", "create secret",     "create sink",  "create cluster",
    "create default",  "alter source",      "alter connection",  "alter secret", "drop source",
    "drop connection", "drop secret",       "drop sink",         "drop cluster", "subscribe",
    "show index",      "create subsource",
};

static bool
lead_match(const word *w, int n, const char *lead)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", lead);
    char *save = NULL;
    int i = 0;
    for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save), i++)
        if (!is(w, n, i, t))
            return false;
    return true;
}

/* The first word of sql, lower-cased, into buf (cheap pre-check). */
static void
first_word(const char *sql, char *buf, size_t cap)
{
    const char *p = sql;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        break;
    }
    size_t k = 0;
    while ((isalpha((unsigned char)*p) || *p == '_') && k + 1 < cap)
        buf[k++] = (char)tolower((unsigned char)*p++);
    buf[k] = '\0';
}

bool
ex_dialect_match(const char *sql)
{
    char fw[16];
    first_word(sql, fw, sizeof fw);
    if (strcmp(fw, "show") != 0 && strcmp(fw, "create") != 0 && strcmp(fw, "alter") != 0 &&
        strcmp(fw, "drop") != 0 && strcmp(fw, "subscribe") != 0)
        return false;
    word w[MAX_WORDS];
    int n = tokenize(sql, w);
    for (size_t i = 0; i < sizeof dialect_lead / sizeof dialect_lead[0]; i++)
        if (lead_match(w, n, dialect_lead[i]))
            return true;
    return false;
}

bool
ex_dialect_is_show(const char *sql)
{
    word w[MAX_WORDS];
    int n = tokenize(sql, w);
    if (!is(w, n, 0, "show"))
        return false;
    return ex_dialect_match(sql);
}

/* ------------------------------------------------------------------ SHOW */

typedef struct rows {
    int ncols, n, cap;
    char **cells;
} rows;

static void
rows_add(rows *r, const char *const *vals)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->cells = realloc(r->cells, (size_t)r->cap * (size_t)r->ncols * sizeof *r->cells);
        ENG_ASSERT(r->cells != NULL);
    }
    for (int i = 0; i < r->ncols; i++)
        r->cells[(size_t)r->n * (size_t)r->ncols + (size_t)i] = vals[i] ? strdup(vals[i]) : NULL;
    r->n++;
}

static int rows_ncols_sort;

static int
cmp_row(const void *a, const void *b)
{
    char *const *x = a, *const *y = b;
    for (int i = 0; i < rows_ncols_sort; i++) {
        int c = strcmp(x[i] ? x[i] : "", y[i] ? y[i] : "");
        if (c)
            return c;
    }
    return 0;
}

static int
rows_send(rows *r, const eng_sink *sink, const char *const *names)
{
    /* Sort rows by their columns (qsort on row blocks). */
    size_t rowsz = (size_t)r->ncols * sizeof(char *);
    rows_ncols_sort = r->ncols;
    if (r->n > 1)
        qsort(r->cells, (size_t)r->n, rowsz, cmp_row);
    int rc = ex_text_result(sink, r->ncols, names, r->n, (const char *const *)r->cells, NULL);
    for (size_t i = 0; i < (size_t)r->n * (size_t)r->ncols; i++)
        free(r->cells[i]);
    free(r->cells);
    return rc;
}

static const char *
schema_of(const word *w, int n, int i, int *next)
{
    if (is(w, n, i, "from") || is(w, n, i, "in")) {
        if (i + 1 < n) {
            *next = i + 2;
            return w[i + 1].text;
        }
    }
    *next = i;
    return NULL;
}

static int
show_kind(eng_session *s, eng_obj_kind kind, const char *schema, const eng_sink *sink)
{
    eng_catalog *cat = s->co->cat;
    int n = eng_catalog_count(cat);
    rows r = {0};
    const char *names2[2] = {"name", "cluster"};
    r.ncols = kind == ENG_OBJ_MATVIEW ? 2 : 1;
    for (int i = 0; i < n; i++) {
        eng_obj *o = eng_catalog_at(cat, i);
        if (o->kind != kind || strcmp(o->schema, schema ? schema : "public") != 0)
            continue;
        const char *v[2] = {o->name, "default"};
        rows_add(&r, v);
    }
    return rows_send(&r, sink, names2);
}

static eng_obj *
find_obj(eng_session *s, const word *w, int n, int i, eng_err *err)
{
    if (i >= n)
        return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "syntax error at end of input"), NULL;
    const char *schema = NULL, *name = w[i].text;
    if (is(w, n, i + 1, ".") && i + 2 < n) {
        schema = w[i].text;
        name = w[i + 2].text;
    }
    eng_obj *o = eng_catalog_find(s->co->cat, schema, name);
    if (o == NULL || o->kind == ENG_OBJ_SCHEMA) {
        eng_err_set(err, ENG_ERRCODE_UNDEFINED_TABLE, "unknown catalog item '%s'", name);
        err->position = w[i].pos;
        return NULL;
    }
    return o;
}

static void
key_text(const eng_obj *idx, const eng_obj *on, char *buf, size_t cap)
{
    size_t off = 0;
    off += (size_t)snprintf(buf + off, cap - off, "{");
    for (int k = 0; k < idx->nkey && off < cap; k++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s", k ? "," : "",
                                on && idx->key[k] < on->ncols ? on->cols[idx->key[k]].name : "?");
    if (off < cap)
        snprintf(buf + off, cap - off, "}");
}

static int
show(eng_session *s, const word *w, int n, const eng_sink *sink, eng_err *err)
{
    eng_catalog *cat = s->co->cat;
    int next;
    if (is(w, n, 1, "tables"))
        return show_kind(s, ENG_OBJ_TABLE, schema_of(w, n, 2, &next), sink);
    if (is(w, n, 1, "views"))
        return show_kind(s, ENG_OBJ_VIEW, schema_of(w, n, 2, &next), sink);
    if (is(w, n, 1, "materialized") && is(w, n, 2, "views"))
        return show_kind(s, ENG_OBJ_MATVIEW, schema_of(w, n, 3, &next), sink);
    if (is(w, n, 1, "indexes") || is(w, n, 1, "index")) {
        eng_obj *on = NULL;
        if (is(w, n, 2, "on") || is(w, n, 2, "from")) {
            if ((on = find_obj(s, w, n, 3, err)) == NULL)
                return -1;
        }
        rows r = {.ncols = 4};
        int cnt = eng_catalog_count(cat);
        for (int i = 0; i < cnt; i++) {
            eng_obj *o = eng_catalog_at(cat, i);
            if (o->kind != ENG_OBJ_INDEX || (on && o->on_id != on->id))
                continue;
            eng_obj *t = eng_catalog_get(cat, o->on_id);
            char key[256];
            key_text(o, t, key, sizeof key);
            const char *v[4] = {o->name, t ? t->name : "?", "default", key};
            rows_add(&r, v);
        }
        const char *names[4] = {"name", "on", "cluster", "key"};
        return rows_send(&r, sink, names);
    }
    if (is(w, n, 1, "sources") || is(w, n, 1, "subsources")) {
        rows r = {.ncols = 3};
        int cnt = eng_catalog_count(cat);
        for (int i = 0; i < cnt; i++) {
            eng_obj *o = eng_catalog_at(cat, i);
            if (o->kind != ENG_OBJ_SOURCE && o->kind != ENG_OBJ_SUBSOURCE)
                continue;
            if (is(w, n, 1, "subsources") && o->kind != ENG_OBJ_SUBSOURCE)
                continue;
            const char *v[3] = {o->name, ex_source_type(o),
                                o->kind == ENG_OBJ_SOURCE ? ex_source_size(o) : NULL};
            rows_add(&r, v);
        }
        const char *names[3] = {"name", "type", "size"};
        return rows_send(&r, sink, names);
    }
    if (is(w, n, 1, "schemas")) {
        rows r = {.ncols = 1};
        static const char *const builtin[] = {"public", "mz_catalog", "mz_internal", "pg_catalog",
                                              "information_schema"};
        for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++) {
            const char *v[1] = {builtin[i]};
            rows_add(&r, v);
        }
        int cnt = eng_catalog_count(cat);
        for (int i = 0; i < cnt; i++) {
            eng_obj *o = eng_catalog_at(cat, i);
            if (o->kind == ENG_OBJ_SCHEMA) {
                const char *v[1] = {o->name};
                rows_add(&r, v);
            }
        }
        const char *names[1] = {"name"};
        return rows_send(&r, sink, names);
    }
    if (is(w, n, 1, "objects")) {
        const char *schema = schema_of(w, n, 2, &next);
        rows r = {.ncols = 2};
        int cnt = eng_catalog_count(cat);
        for (int i = 0; i < cnt; i++) {
            eng_obj *o = eng_catalog_at(cat, i);
            if (o->kind == ENG_OBJ_SCHEMA || o->kind == ENG_OBJ_SYSTEM ||
                strcmp(o->schema, schema ? schema : "public") != 0)
                continue;
            const char *v[2] = {o->name, eng_obj_kind_name(o->kind)};
            rows_add(&r, v);
        }
        const char *names[2] = {"name", "type"};
        return rows_send(&r, sink, names);
    }
    if (is(w, n, 1, "columns")) {
        if (!(is(w, n, 2, "from") || is(w, n, 2, "in"))) {
            eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "Expected FROM or IN after SHOW COLUMNS");
            err->position = n > 2 ? w[2].pos : 0;
            return -1;
        }
        eng_obj *o = find_obj(s, w, n, 3, err);
        if (o == NULL)
            return -1;
        rows r = {.ncols = 3};
        for (int i = 0; i < o->ncols; i++) {
            eng_strbuf tb = {0};
            eng_type_format(&o->cols[i].type, &tb);
            const char *v[3] = {o->cols[i].name, o->cols[i].not_null ? "false" : "true",
                                eng_strbuf_cstr(&tb)};
            rows_add(&r, v);
            eng_strbuf_free(&tb);
        }
        const char *names[3] = {"name", "nullable", "type"};
        /* Columns keep their table order. */
        int rc = ex_text_result(sink, 3, names, r.n, (const char *const *)r.cells, NULL);
        for (size_t i = 0; i < (size_t)r.n * 3; i++)
            free(r.cells[i]);
        free(r.cells);
        return rc;
    }
    if (is(w, n, 1, "create")) {
        int at = 2;
        eng_obj_kind want;
        if (is(w, n, 2, "table"))
            want = ENG_OBJ_TABLE, at = 3;
        else if (is(w, n, 2, "view"))
            want = ENG_OBJ_VIEW, at = 3;
        else if (is(w, n, 2, "materialized") && is(w, n, 3, "view"))
            want = ENG_OBJ_MATVIEW, at = 4;
        else if (is(w, n, 2, "index"))
            want = ENG_OBJ_INDEX, at = 3;
        else if (is(w, n, 2, "source"))
            want = ENG_OBJ_SOURCE, at = 3;
        else {
            eng_err_set(
                err, ENG_ERRCODE_SYNTAX_ERROR,
                "Expected TABLE, VIEW, MATERIALIZED VIEW, INDEX or SOURCE after SHOW CREATE");
            err->position = n > 2 ? w[2].pos : 0;
            return -1;
        }
        eng_obj *o = find_obj(s, w, n, at, err);
        if (o == NULL)
            return -1;
        if (o->kind != want) {
            eng_err_set(err, ENG_ERRCODE_WRONG_OBJECT_TYPE, "%s is not a %s", o->name,
                        eng_obj_kind_name(want));
            return -1;
        }
        char qname[300];
        snprintf(qname, sizeof qname, "materialize.%s.%s", o->schema, o->name);
        const char *names[2] = {"name", "create_sql"};
        const char *cells[2] = {qname, o->sql ? o->sql : ""};
        return ex_text_result(sink, 2, names, 1, cells, NULL);
    }
    if (is(w, n, 1, "clusters")) {
        const char *names[1] = {"name"};
        const char *cells[1] = {"default"};
        return ex_text_result(sink, 1, names, 1, cells, NULL);
    }
    if (is(w, n, 1, "databases")) {
        const char *names[1] = {"name"};
        const char *cells[1] = {"materialize"};
        return ex_text_result(sink, 1, names, 1, cells, NULL);
    }
    if (is(w, n, 1, "secrets") || is(w, n, 1, "connections") || is(w, n, 1, "sinks")) {
        rows r = {.ncols = is(w, n, 1, "connections") ? 2 : 1};
        int cnt = eng_catalog_count(cat);
        eng_obj_kind k = is(w, n, 1, "secrets") ? ENG_OBJ_SECRET : ENG_OBJ_CONNECTION;
        for (int i = 0; i < cnt && !is(w, n, 1, "sinks"); i++) {
            eng_obj *o = eng_catalog_at(cat, i);
            if (o->kind == k) {
                const char *v[2] = {o->name, k == ENG_OBJ_CONNECTION ? ex_connection_type(o) : ""};
                rows_add(&r, v);
            }
        }
        const char *names[2] = {"name", "type"};
        return rows_send(&r, sink, names);
    }
    eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "unrecognized SHOW statement");
    err->position = n > 1 ? w[1].pos : 0;
    return -1;
}

/* ------------------------------------------------------------------ secrets */

/* The value of a string literal at p ('...' with '' escapes, or E'...'
 * with backslash escapes); NULL if p does not start one. */
static char *
string_lit(const char *p, const char **end)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    bool esc = false;
    if ((*p == 'E' || *p == 'e') && p[1] == '\'') {
        esc = true;
        p++;
    }
    if (*p != '\'')
        return NULL;
    p++;
    eng_strbuf sb = {0};
    for (;;) {
        if (*p == '\0') {
            eng_strbuf_free(&sb);
            return NULL;
        }
        if (*p == '\'' && p[1] == '\'') {
            eng_strbuf_putc(&sb, '\'');
            p += 2;
        } else if (*p == '\'') {
            p++;
            break;
        } else if (esc && *p == '\\' && p[1]) {
            char c = p[1] == 'n' ? '\n' : p[1] == 't' ? '\t' : p[1] == 'r' ? '\r' : p[1];
            eng_strbuf_putc(&sb, c);
            p += 2;
        } else {
            eng_strbuf_putc(&sb, *p++);
        }
    }
    *end = p;
    char *r = strdup(eng_strbuf_cstr(&sb));
    eng_strbuf_free(&sb);
    return r;
}

/* The value of a secret (for connections): borrowed from the catalog. */
const char *
ex_secret_value(eng_session *s, const char *name)
{
    eng_obj *o = eng_catalog_find(s->co->cat, NULL, name);
    return o != NULL && o->kind == ENG_OBJ_SECRET ? o->secret : NULL;
}

/* CREATE SECRET [IF NOT EXISTS] name AS 'value' / ALTER SECRET name AS
 * 'value'. The value is kept in the catalog (catalog.json, mode 0600). */
static int
secret_create(eng_session *s, const char *sql, const word *w, int n, bool alter,
              const eng_sink *sink, eng_err *err)
{
    int i = 2;
    bool ine = false;
    if (!alter && is(w, n, 2, "if") && is(w, n, 3, "not") && is(w, n, 4, "exists")) {
        ine = true;
        i = 5;
    }
    if (i >= n || w[i].text[0] == '\0' ||
        !(isalpha((unsigned char)w[i].text[0]) || w[i].text[0] == '_' || w[i].quoted)) {
        eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "Expected a secret name");
        err->position = i < n ? w[i].pos : 0;
        return -1;
    }
    const char *name = w[i].text;
    if (!is(w, n, i + 1, "as")) {
        eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "Expected AS after the secret name");
        err->position = i + 1 < n ? w[i + 1].pos : 0;
        return -1;
    }
    const char *end = NULL;
    char *value = string_lit(sql + w[i + 1].pos - 1 + 2, &end);
    if (value == NULL) {
        eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "Expected a string literal after AS");
        err->position = w[i + 1].pos;
        return -1;
    }
    while (*end == ' ' || *end == ';' || *end == '\n' || *end == '\t')
        end++;
    if (*end != '\0') {
        free(value);
        eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "unexpected text after the secret's value");
        err->position = (int)(end - sql) + 1;
        return -1;
    }
    /* Recorded as a CREATE statement (replayed at start, also after an
     * ALTER). */
    eng_strbuf canon = {0};
    eng_strbuf_puts(&canon, "CREATE SECRET \"");
    for (const char *q = name; *q; q++) {
        if (*q == '"')
            eng_strbuf_putc(&canon, '"');
        eng_strbuf_putc(&canon, *q);
    }
    eng_strbuf_puts(&canon, "\" AS '");
    for (const char *q = value; *q; q++) {
        if (*q == '\'')
            eng_strbuf_putc(&canon, '\'');
        eng_strbuf_putc(&canon, *q);
    }
    eng_strbuf_puts(&canon, "'");
    sql = eng_strbuf_cstr(&canon);
    eng_coord *co = s->co;
    pthread_rwlock_wrlock(&co->lock);
    int rc = 0;
    eng_obj *old = eng_catalog_find(co->cat, "public", name);
    if (alter) {
        if (old == NULL || old->kind != ENG_OBJ_SECRET) {
            rc = eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT, "unknown secret '%s'", name);
        } else {
            free(old->secret);
            old->secret = value;
            value = NULL;
            free(old->sql);
            old->sql = strdup(sql);
            rc = eng_catalog_persist(co->cat, err);
        }
    } else if (old != NULL) {
        if (ine)
            ex_notice(sink, "secret \"%s\" already exists, skipping", name);
        else
            rc = eng_err_set(err, ENG_ERRCODE_DUPLICATE_OBJECT, "secret \"%s\" already exists",
                             name);
    } else {
        eng_obj *o = eng_obj_new(coord_new_id(co), ENG_OBJ_SECRET, "public", name);
        o->sql = strdup(sql);
        o->secret = value;
        value = NULL;
        o->persist = true;
        if ((rc = eng_catalog_add(co->cat, o, err)) != 0)
            eng_obj_free(o);
    }
    pthread_rwlock_unlock(&co->lock);
    free(value);
    eng_strbuf_free(&canon);
    return rc == 0 ? ex_complete(sink, alter ? "ALTER SECRET" : "CREATE SECRET") : -1;
}

static int
secret_drop(eng_session *s, const word *w, int n, const eng_sink *sink, eng_err *err)
{
    int i = 2;
    bool ie = false;
    if (is(w, n, 2, "if") && is(w, n, 3, "exists")) {
        ie = true;
        i = 4;
    }
    if (i >= n) {
        eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "Expected a secret name");
        return -1;
    }
    bool cascade = is(w, n, i + 1, "cascade");
    eng_coord *co = s->co;
    pthread_rwlock_wrlock(&co->lock);
    int rc = 0;
    eng_obj *o = eng_catalog_find(co->cat, "public", w[i].text);
    if (o == NULL || o->kind != ENG_OBJ_SECRET) {
        if (ie)
            ex_notice(sink, "secret \"%s\" does not exist, skipping", w[i].text);
        else
            rc = eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT, "unknown secret '%s'", w[i].text);
    } else {
        rc = ex_drop_obj(co, o, cascade, sink, err);
    }
    pthread_rwlock_unlock(&co->lock);
    return rc == 0 ? ex_complete(sink, "DROP SECRET") : -1;
}

int
ex_dialect(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err)
{
    word w[MAX_WORDS];
    int n = tokenize(sql, w);
    if (is(w, n, 0, "show")) {
        pthread_rwlock_rdlock(&s->co->lock);
        int rc = show(s, w, n, sink, err);
        pthread_rwlock_unlock(&s->co->lock);
        return rc;
    }
    if ((is(w, n, 0, "create") || is(w, n, 0, "drop")) && is(w, n, 1, "connection"))
        return ex_connection(s, sql, sink, err);
    if (ex_source_match(sql))
        return ex_source(s, sql, sink, err);
    if ((is(w, n, 0, "create") || is(w, n, 0, "alter")) && is(w, n, 1, "secret"))
        return secret_create(s, sql, w, n, is(w, n, 0, "alter"), sink, err);
    if (is(w, n, 0, "drop") && is(w, n, 1, "secret"))
        return secret_drop(s, w, n, sink, err);
    if (is(w, n, 0, "create") && is(w, n, 1, "default") && is(w, n, 2, "index")) {
        /* CREATE DEFAULT INDEX [IN CLUSTER c] ON obj: an index on every column. */
        int i = 3;
        if (is(w, n, i, "in") && is(w, n, i + 1, "cluster"))
            i += 3;
        if (!is(w, n, i, "on")) {
            eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "Expected ON after CREATE DEFAULT INDEX");
            err->position = i < n ? w[i].pos : 0;
            return -1;
        }
        pthread_rwlock_rdlock(&s->co->lock);
        eng_obj *o = find_obj(s, w, n, i + 1, err);
        eng_strbuf sb = {0};
        if (o != NULL) {
            eng_strbuf_printf(&sb, "CREATE INDEX \"%s_primary_idx\" ON \"%s\".\"%s\" (", o->name,
                              o->schema, o->name);
            for (int k = 0; k < o->ncols; k++)
                eng_strbuf_printf(&sb, "%s\"%s\"", k ? ", " : "", o->cols[k].name);
            eng_strbuf_puts(&sb, ")");
        }
        pthread_rwlock_unlock(&s->co->lock);
        if (o == NULL)
            return -1;
        json_t *root = NULL;
        const char *type;
        const json_t *body = NULL;
        int rc = ex_parse(eng_strbuf_cstr(&sb), &root, &type, &body, err);
        if (rc == 0)
            rc = ex_stmt(s, type, body, eng_strbuf_cstr(&sb), NULL, sink, err);
        json_decref(root);
        eng_strbuf_free(&sb);
        return rc;
    }
    eng_sql_stmt cls;
    if (eng_sql_classify(sql, &cls, err) != 0)
        return -1;
    return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "%s is not supported yet", cls.tag);
}
