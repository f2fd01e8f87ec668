/* psql's describe commands (\d, \dt, \dv, \dm, \di, \dn, \d NAME and their
 * "+" forms): recognises the catalog queries psql sends and answers them
 * from the catalog.
 *
 * Notes:
 * - Why a recogniser and not a full pg_catalog: psql's describe queries
 *   use a dozen catalogs Sluice has no use for (pg_policy, pg_inherits,
 *   pg_publication, pg_statistic_ext, pg_rewrite...), correlated scalar
 *   subqueries, UNION, ARRAY(subquery), regclass/regtype casts, COLLATE,
 *   OPERATOR(pg_catalog.~) and functions such as pg_get_indexdef and
 *   pg_get_expr over PostgreSQL's internal node trees. Running them
 *   through the binder would need most of that; answering them here needs
 *   none of it, and plain tools' queries still go to the real pg_catalog
 *   relations of system.c.
 * - A query is normalised (whitespace outside quotes collapsed, no space
 *   after '(' or before ')' and ','), then classified by the shape of its
 *   FROM clause (which catalogs, in which order). Only psql's shapes are
 *   recognised; anything else falls through to the normal path.
 * - Columns are answered by expression, not by position: the select list
 *   is split at top-level commas and each expression ("c.relkind",
 *   "pg_catalog.format_type(a.atttypid, a.atttypmod)", ...) maps to a
 *   value, so a psql that adds or reorders columns still gets the shape it
 *   asked for (an unknown expression answers NULL).
 * - Filters are the ones psql writes: c.relkind IN (...), the regular
 *   expressions on c.relname / n.nspname built from a pattern (POSIX
 *   extended regexps, which cover what psql generates), the exclusion of
 *   system schemas, pg_table_is_visible and c.oid = '<oid>'.
 * - Oids come from system.c (coord_obj_oid, coord_schema_oid).
 * - Called on a session's thread; takes the coordinator's read lock. */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/server/exec_int.h"

typedef enum qkind {
    Q_NONE = 0,
    Q_RELS,          /* pg_class c LEFT JOIN pg_namespace n: \d, \dt..., \d NAME lookup */
    Q_RELINFO,       /* one relation's flags (c.oid = X) */
    Q_ATTRS,         /* pg_attribute a WHERE a.attrelid = X */
    Q_TABLE_INDEXES, /* the indexes on relation X */
    Q_INDEXINFO,     /* index X's flags and table */
    Q_VIEWDEF,       /* pg_get_viewdef(X) */
    Q_SCHEMAS,       /* pg_namespace n: \dn */
    Q_EMPTY,         /* catalogs Sluice has nothing in (policies, rules...) */
} qkind;

#define MAX_COLS 32

typedef struct query {
    qkind kind;
    char *norm; /* normalised text, owned */
    int ncols;
    char *exprs[MAX_COLS]; /* owned */
    char *names[MAX_COLS]; /* owned */
    bool too_many;         /* the select list has more than MAX_COLS items */
} query;

/* Catalogs whose rows Sluice never has: a psql query over them answers no
 * rows. */
static const char *const empty_catalogs[] = {
    "pg_policy",        "pg_statistic_ext", "pg_publication", "pg_rewrite",
    "pg_trigger",       "pg_inherits",      "pg_constraint",  "pg_foreign_table",
    "pg_event_trigger", "pg_sequence",      "pg_attrdef",     "pg_description",
};

/* ------------------------------------------------------------------ text */

static char *
xstrdup(const char *s)
{
    char *d = strdup(s);
    ENG_ASSERT(d != NULL);
    return d;
}

/* Skips the quoted token at p ('...' with '' escapes or "..."); returns
 * the first character after it. */
static const char *
skip_quoted(const char *p)
{
    char q = *p++;
    while (*p) {
        if (*p == q) {
            if (p[1] == q) {
                p += 2;
                continue;
            }
            return p + 1;
        }
        p++;
    }
    return p;
}

/* The normalised text of sql: new, free with free(). */
static char *
normalise(const char *sql)
{
    size_t n = strlen(sql);
    char *out = malloc(n + 1);
    ENG_ASSERT(out != NULL);
    size_t k = 0;
    const char *p = sql;
    while (*p) {
        if (*p == '\'' || *p == '"') {
            const char *e = skip_quoted(p);
            memcpy(out + k, p, (size_t)(e - p));
            k += (size_t)(e - p);
            p = e;
            continue;
        }
        if (isspace((unsigned char)*p)) {
            while (isspace((unsigned char)*p))
                p++;
            if (k > 0 && out[k - 1] != '(' && *p != ')' && *p != ',' && *p != '\0')
                out[k++] = ' ';
            continue;
        }
        out[k++] = *p++;
    }
    while (k > 0 && (out[k - 1] == ';' || out[k - 1] == ' '))
        k--;
    out[k] = '\0';
    return out;
}

/* The first occurrence of word (case-insensitive) at parenthesis depth 0
 * and outside quotes, or NULL. */
static const char *
find_top(const char *s, const char *word)
{
    size_t wl = strlen(word);
    int depth = 0;
    for (const char *p = s; *p;) {
        if (*p == '\'' || *p == '"') {
            p = skip_quoted(p);
            continue;
        }
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth--;
        else if (depth == 0 && strncasecmp(p, word, wl) == 0)
            return p;
        p++;
    }
    return NULL;
}

/* Decodes the string literal at p ('...') into a new string; NULL if p
 * is not a literal. */
static char *
literal_at(const char *p)
{
    if (p == NULL || *p != '\'')
        return NULL;
    const char *e = skip_quoted(p);
    size_t n = (size_t)(e - p);
    char *out = malloc(n + 1);
    ENG_ASSERT(out != NULL);
    size_t k = 0;
    for (const char *q = p + 1; q < e - 1; q++) {
        out[k++] = *q;
        if (*q == '\'' && q[1] == '\'')
            q++;
    }
    out[k] = '\0';
    return out;
}

/* The literal right after the first occurrence of marker in s that a
 * literal follows (new string), or NULL. */
static char *
literal_after(const char *s, const char *marker)
{
    size_t ml = strlen(marker);
    for (const char *p = strstr(s, marker); p != NULL; p = strstr(p + 1, marker))
        if (p[ml] == '\'')
            return literal_at(p + ml);
    return NULL;
}

static bool
starts(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* ------------------------------------------------------------------ classify */

static qkind
classify(const char *norm)
{
    if (!starts(norm, "SELECT "))
        return Q_NONE;
    if (starts(norm, "SELECT pg_catalog.pg_get_viewdef('"))
        return Q_VIEWDEF;
    const char *from = find_top(norm, " FROM ");
    if (from == NULL)
        return Q_NONE;
    from += 6;
    /* Each shape also needs psql's first column, so that a user's own
     * query over the same catalogs goes to the system relations. */
    if (starts(norm, "SELECT c2.relname,") &&
        starts(from, "pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i ") &&
        strstr(from, "c.oid = i.indrelid"))
        return Q_TABLE_INDEXES;
    if (starts(norm, "SELECT i.indisunique,") &&
        starts(from, "pg_catalog.pg_index i, pg_catalog.pg_class c, pg_catalog.pg_class c2, "
                     "pg_catalog.pg_am a WHERE"))
        return Q_INDEXINFO;
    if (starts(norm, "SELECT a.attname,") &&
        starts(from, "pg_catalog.pg_attribute a WHERE a.attrelid = '"))
        return Q_ATTRS;
    if (starts(norm, "SELECT c.relchecks,") &&
        starts(from, "pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_class tc ON") &&
        strstr(from, "WHERE c.oid = '"))
        return Q_RELINFO;
    if (starts(from, "pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = "
                     "c.relnamespace") &&
        starts(norm, "SELECT n.nspname as \"Schema\", c.relname as \"Name\"")) /* lists */
        return Q_RELS;
    if (starts(norm, "SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c LEFT JOIN "
                     "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE "))
        return Q_RELS; /* \d NAME: the lookup */
    if (starts(norm, "SELECT n.nspname AS \"Name\"") && starts(from, "pg_catalog.pg_namespace n") &&
        (from[25] == '\0' || starts(from + 25, " WHERE ") || starts(from + 25, " ORDER BY ")))
        return Q_SCHEMAS;
    if (starts(from, "pg_catalog.pg_class c, pg_catalog.pg_inherits i WHERE"))
        return Q_EMPTY;
    if (starts(from, "pg_catalog.") && !starts(norm, "SELECT *")) {
        for (size_t i = 0; i < sizeof empty_catalogs / sizeof empty_catalogs[0]; i++) {
            size_t l = strlen(empty_catalogs[i]);
            if (strncmp(from + 11, empty_catalogs[i], l) == 0 &&
                (from[11 + l] == ' ' || from[11 + l] == '\0'))
                return Q_EMPTY;
        }
    }
    return Q_NONE;
}

/* Splits the select list of q->norm into expressions and column names. */
static void
split_targets(query *q)
{
    const char *p = q->norm + 7; /* "SELECT " */
    const char *end = find_top(p, " FROM ");
    if (end == NULL)
        end = p + strlen(p);
    while (p < end && q->ncols < MAX_COLS) {
        int depth = 0;
        const char *e = p;
        while (e < end) {
            if (*e == '\'' || *e == '"') {
                e = skip_quoted(e);
                continue;
            }
            if (*e == '(')
                depth++;
            else if (*e == ')')
                depth--;
            else if (*e == ',' && depth == 0)
                break;
            e++;
        }
        if (e > end)
            e = end;
        while (p < e && *p == ' ')
            p++;
        size_t len = (size_t)(e - p);
        char *expr = strndup(p, len);
        ENG_ASSERT(expr != NULL);
        char *name = NULL;
        /* A trailing top-level "AS alias". */
        const char *as = NULL;
        for (const char *a = find_top(expr, " AS "); a != NULL; a = find_top(a + 4, " AS "))
            as = a;
        bool quoted_alias = as != NULL && as[4] == '"' && *skip_quoted(as + 4) == '\0';
        if (as != NULL && (quoted_alias || strchr(as + 4, ' ') == NULL)) {
            const char *al = as + 4;
            if (*al == '"') {
                name = strndup(al + 1, strlen(al) - 2);
                ENG_ASSERT(name != NULL);
            } else {
                name = xstrdup(al);
            }
            expr[as - expr] = '\0';
        }
        if (name == NULL) {
            const char *paren = strchr(expr, '(');
            const char *dot = NULL;
            for (const char *d = expr; *d && (paren == NULL || d < paren); d++)
                if (*d == '.')
                    dot = d;
            bool ident = true;
            for (const char *c = dot ? dot + 1 : expr; *c && c != paren; c++)
                if (!(isalnum((unsigned char)*c) || *c == '_'))
                    ident = false;
            if (ident && (paren != NULL || dot != NULL) && paren != expr) {
                const char *b = dot ? dot + 1 : expr;
                name = strndup(b, paren ? (size_t)(paren - b) : strlen(b));
                ENG_ASSERT(name != NULL);
            } else {
                name = xstrdup(ident && paren == NULL && *expr ? expr : "?column?");
            }
        }
        q->exprs[q->ncols] = expr;
        q->names[q->ncols] = name;
        q->ncols++;
        p = e < end ? e + 1 : end;
    }
    q->too_many = p < end;
}

static void
query_free(query *q)
{
    free(q->norm);
    for (int i = 0; i < q->ncols; i++) {
        free(q->exprs[i]);
        free(q->names[i]);
    }
}

bool
ex_psql_match(const char *sql)
{
    if (!starts(sql + strspn(sql, " \t\r\n"), "SELECT"))
        return false;
    /* Every query psql describes with names pg_catalog: a cheap filter
     * before normalising (this runs for every SELECT). */
    if (strstr(sql, "pg_catalog") == NULL)
        return false;
    char *norm = normalise(sql);
    bool m = classify(norm) != Q_NONE;
    free(norm);
    return m;
}

/* ------------------------------------------------------------------ catalog helpers */

static bool
system_schema(const char *s)
{
    return strcmp(s, "pg_catalog") == 0 || strcmp(s, "information_schema") == 0 ||
           strcmp(s, "mz_catalog") == 0 || strcmp(s, "mz_internal") == 0 ||
           strncmp(s, "pg_", 3) == 0;
}

/* pg_class.relkind of an object, 0 for objects that are not relations. */
static char
relkind(const eng_obj *o)
{
    switch (o->kind) {
    case ENG_OBJ_TABLE:
    case ENG_OBJ_SOURCE:
    case ENG_OBJ_SUBSOURCE:
        return 'r';
    case ENG_OBJ_VIEW:
    case ENG_OBJ_SYSTEM:
        return 'v';
    case ENG_OBJ_MATVIEW:
        return 'm';
    case ENG_OBJ_INDEX:
        return 'i';
    default:
        return 0;
    }
}

static eng_obj *
obj_by_oid(eng_catalog *cat, const char *lit)
{
    if (lit == NULL)
        return NULL;
    char *end;
    unsigned long v = strtoul(lit, &end, 10);
    if (end == lit || *end != '\0')
        return NULL;
    int n = eng_catalog_count(cat);
    for (int i = 0; i < n; i++) {
        eng_obj *o = eng_catalog_at(cat, i);
        if (relkind(o) != 0 && coord_obj_oid(o) == v)
            return o;
    }
    return NULL;
}

static bool
has_index(eng_catalog *cat, const eng_obj *o)
{
    int n = eng_catalog_count(cat);
    for (int i = 0; i < n; i++) {
        const eng_obj *x = eng_catalog_at(cat, i);
        if (x->kind == ENG_OBJ_INDEX && x->on_id == o->id)
            return true;
    }
    return false;
}

/* Skips one SQL token (quoted, word, or punctuation) starting at p. */
static const char *
skip_token(const char *p)
{
    if (*p == '\'' || *p == '"')
        return skip_quoted(p);
    if (isalnum((unsigned char)*p) || *p == '_') {
        while (isalnum((unsigned char)*p) || *p == '_' || *p == '.')
            p++;
        return p;
    }
    return p + 1;
}

/* The text of column name's DEFAULT expression as written in o's CREATE
 * statement: new string (free with free()), or NULL. */
static char *
default_text(const eng_obj *o, const char *col)
{
    if (o->sql == NULL)
        return NULL;
    json_t *root = NULL;
    const char *type;
    const json_t *body = NULL;
    eng_err e;
    eng_err_clear(&e);
    if (ex_parse(o->sql, &root, &type, &body, &e) != 0 || root == NULL)
        return NULL;
    char *out = NULL;
    const json_t *elts =
        strcmp(type, "CreateStmt") == 0 ? json_object_get(body, "tableElts") : NULL;
    size_t slen = strlen(o->sql);
    for (size_t i = 0; i < json_array_size(elts) && out == NULL; i++) {
        const json_t *cd = NULL;
        const char *k = eng_pg_node(json_array_get(elts, i), &cd);
        if (k == NULL || strcmp(k, "ColumnDef") != 0)
            continue;
        const char *cn = eng_pg_str(cd, "colname");
        if (cn == NULL || strcmp(cn, col) != 0)
            continue;
        const json_t *cons = json_object_get(cd, "constraints");
        for (size_t j = 0; j < json_array_size(cons); j++) {
            const json_t *cb = NULL;
            eng_pg_node(json_array_get(cons, j), &cb);
            const char *ct = eng_pg_str(cb, "contype");
            if (ct == NULL || strcmp(ct, "CONSTR_DEFAULT") != 0)
                continue;
            int loc = eng_pg_int(cb, "location", -1);
            if (loc < 0 || (size_t)loc + 7 > slen || strncasecmp(o->sql + loc, "DEFAULT", 7) != 0)
                break;
            const char *p = o->sql + loc + 7;
            while (isspace((unsigned char)*p))
                p++;
            const char *start = p, *last = p;
            int depth = 0;
            static const char *const stops[] = {"NOT",        "NULL",      "CONSTRAINT",
                                                "PRIMARY",    "UNIQUE",    "CHECK",
                                                "REFERENCES", "GENERATED", "COLLATE"};
            while (*p) {
                if (depth == 0 && (*p == ',' || *p == ')'))
                    break;
                if (depth == 0 && p > start && (isalpha((unsigned char)*p)) &&
                    !(isalnum((unsigned char)p[-1]) || p[-1] == '_')) {
                    bool stop = false;
                    for (size_t s = 0; s < sizeof stops / sizeof stops[0]; s++) {
                        size_t l = strlen(stops[s]);
                        if (strncasecmp(p, stops[s], l) == 0 &&
                            !(isalnum((unsigned char)p[l]) || p[l] == '_'))
                            stop = true;
                    }
                    if (stop)
                        break;
                }
                if (*p == '(')
                    depth++;
                else if (*p == ')')
                    depth--;
                const char *nx = skip_token(p);
                if (!isspace((unsigned char)*p))
                    last = nx;
                p = nx;
            }
            if (last > start) {
                out = strndup(start, (size_t)(last - start));
                ENG_ASSERT(out != NULL);
            }
            break;
        }
    }
    json_decref(root);
    return out;
}

/* The defining query of a view or materialized view (the text after the
 * first top-level AS of its CREATE statement, with a ';' as PostgreSQL's
 * pg_get_viewdef ends it): new string, or NULL. */
static char *
view_text(const eng_obj *o)
{
    if (o->sql == NULL || (o->kind != ENG_OBJ_VIEW && o->kind != ENG_OBJ_MATVIEW))
        return NULL;
    const char *p = o->sql;
    int depth = 0;
    while (*p) {
        if (*p == '\'' || *p == '"') {
            p = skip_quoted(p);
            continue;
        }
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth--;
        else if (depth == 0 && (p[0] == 'a' || p[0] == 'A') && (p[1] == 's' || p[1] == 'S') &&
                 p > o->sql && isspace((unsigned char)p[-1]) && isspace((unsigned char)p[2]))
            break;
        if (isalnum((unsigned char)*p) || *p == '_')
            p = skip_token(p);
        else
            p++;
    }
    if (*p == '\0')
        return NULL;
    p += 2;
    while (isspace((unsigned char)*p))
        p++;
    size_t n = strlen(p);
    while (n > 0 && (isspace((unsigned char)p[n - 1]) || p[n - 1] == ';'))
        n--;
    char *out = malloc(n + 2);
    ENG_ASSERT(out != NULL);
    memcpy(out, p, n);
    out[n] = ';';
    out[n + 1] = '\0';
    return out;
}

/* "CREATE INDEX i ON s.t USING arrangement (a, b)": new string. */
static char *
index_def(eng_catalog *cat, const eng_obj *ix)
{
    eng_obj *on = eng_catalog_get(cat, ix->on_id);
    eng_strbuf sb = {0};
    eng_strbuf_printf(&sb, "CREATE INDEX %s ON %s.%s USING arrangement (", ix->name,
                      on ? on->schema : "?", on ? on->name : "?");
    for (int k = 0; k < ix->nkey; k++) {
        const char *cn =
            on && ix->key[k] >= 0 && ix->key[k] < on->ncols ? on->cols[ix->key[k]].name : "?";
        eng_strbuf_printf(&sb, "%s%s", k ? ", " : "", cn);
    }
    eng_strbuf_puts(&sb, ")");
    char *out = xstrdup(eng_strbuf_cstr(&sb));
    eng_strbuf_free(&sb);
    return out;
}

/* ------------------------------------------------------------------ values */

/* What one result row is about. */
typedef struct rowctx {
    eng_catalog *cat;
    eng_obj *o;         /* the relation (for Q_TABLE_INDEXES: the index) */
    const char *schema; /* Q_SCHEMAS */
    uint32_t schema_oid;
    const eng_col *col; /* Q_ATTRS */
    int attnum;
    bool index_attr; /* Q_ATTRS of an index */
} rowctx;

static char *
fmt_u(unsigned long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lu", v);
    return xstrdup(buf);
}

static const char *
kind_label(char k)
{
    switch (k) {
    case 'r':
        return "table";
    case 'v':
        return "view";
    case 'm':
        return "materialized view";
    case 'i':
        return "index";
    default:
        return "";
    }
}

/* Generic answers: literals and boolean constants. Returns true and sets
 * *out (new string or NULL) if expr is one. */
static bool
constant(const char *expr, char **out)
{
    if (expr[0] == '\'') {
        *out = literal_at(expr);
        return true;
    }
    if (strcasecmp(expr, "false") == 0 || strcasecmp(expr, "true") == 0) {
        *out = xstrdup(expr[0] == 'f' || expr[0] == 'F' ? "f" : "t");
        return true;
    }
    if (strcasecmp(expr, "NULL") == 0) {
        *out = NULL;
        return true;
    }
    return false;
}

/* The value of expression expr for row r: new string, or NULL (SQL NULL).
 * Unknown expressions answer NULL. */
static char *
value(qkind kind, const char *expr, const rowctx *r)
{
    char *v;
    if (constant(expr, &v))
        return v;
    const eng_obj *o = r->o;
    eng_obj *on = o && o->kind == ENG_OBJ_INDEX ? eng_catalog_get(r->cat, o->on_id) : NULL;
    switch (kind) {
    case Q_RELS:
        if (strcmp(expr, "n.nspname") == 0)
            return xstrdup(o->schema);
        if (strcmp(expr, "c.relname") == 0)
            return xstrdup(o->name);
        if (strcmp(expr, "c.oid") == 0)
            return fmt_u(coord_obj_oid(o));
        if (starts(expr, "CASE c.relkind WHEN"))
            return xstrdup(kind_label(relkind(o)));
        if (strcmp(expr, "c.relkind") == 0) {
            char k[2] = {relkind(o), 0};
            return xstrdup(k);
        }
        if (starts(expr, "pg_catalog.pg_get_userbyid("))
            return xstrdup("materialize");
        if (strcmp(expr, "c2.relname") == 0)
            return on ? xstrdup(on->name) : NULL;
        if (starts(expr, "CASE c.relpersistence WHEN"))
            return xstrdup("permanent");
        if (strcmp(expr, "am.amname") == 0)
            return o->kind == ENG_OBJ_INDEX ? xstrdup("arrangement") : NULL;
        return NULL;
    case Q_RELINFO:
        if (strcmp(expr, "c.relchecks") == 0 || strcmp(expr, "c.reltablespace") == 0)
            return xstrdup("0");
        if (strcmp(expr, "c.relkind") == 0) {
            char k[2] = {relkind(o), 0};
            return xstrdup(k);
        }
        if (strcmp(expr, "c.relhasindex") == 0)
            return xstrdup(has_index(r->cat, o) ? "t" : "f");
        if (strcmp(expr, "c.relhasrules") == 0 || strcmp(expr, "c.relhastriggers") == 0 ||
            strcmp(expr, "c.relrowsecurity") == 0 || strcmp(expr, "c.relforcerowsecurity") == 0 ||
            strcmp(expr, "c.relispartition") == 0)
            return xstrdup("f");
        if (starts(expr, "pg_catalog.array_to_string(c.reloptions") ||
            starts(expr, "CASE WHEN c.reloftype = 0"))
            return xstrdup("");
        if (strcmp(expr, "c.relpersistence") == 0)
            return xstrdup("p");
        if (strcmp(expr, "c.relreplident") == 0)
            return xstrdup("d");
        return NULL;
    case Q_ATTRS:
        if (strcmp(expr, "a.attname") == 0)
            return xstrdup(r->col->name);
        if (strcmp(expr, "a.attnum") == 0)
            return fmt_u((unsigned long)r->attnum);
        if (starts(expr, "pg_catalog.format_type(a.atttypid")) {
            eng_strbuf sb = {0};
            eng_type_format(&r->col->type, &sb);
            v = xstrdup(eng_strbuf_cstr(&sb));
            eng_strbuf_free(&sb);
            return v;
        }
        if (starts(expr, "(SELECT pg_catalog.pg_get_expr(d.adbin"))
            return r->index_attr || r->col->default_sql == NULL ? NULL
                                                                : default_text(o, r->col->name);
        if (strcmp(expr, "a.attnotnull") == 0)
            return xstrdup(r->col->not_null ? "t" : "f");
        if (strcmp(expr, "a.attidentity") == 0 || strcmp(expr, "a.attgenerated") == 0 ||
            strcmp(expr, "a.attcompression") == 0)
            return xstrdup("");
        if (strcmp(expr, "a.attstorage") == 0) {
            eng_typeid t = r->col->type.id;
            bool varlena = eng_type_is_string(t) || t == ENG_TYPE_NUMERIC || t == ENG_TYPE_BYTEA ||
                           t == ENG_TYPE_JSON || t == ENG_TYPE_JSONB;
            return xstrdup(varlena ? "x" : "p");
        }
        if (starts(expr, "CASE WHEN a.attnum <="))
            return xstrdup("yes");
        if (starts(expr, "pg_catalog.pg_get_indexdef(a.attrelid, a.attnum"))
            return xstrdup(r->col->name);
        return NULL;
    case Q_TABLE_INDEXES:
        if (strcmp(expr, "c2.relname") == 0)
            return xstrdup(o->name);
        if (strcmp(expr, "i.indisvalid") == 0)
            return xstrdup("t");
        if (strcmp(expr, "i.indisprimary") == 0 || strcmp(expr, "i.indisunique") == 0 ||
            strcmp(expr, "i.indisclustered") == 0 || strcmp(expr, "i.indisreplident") == 0)
            return xstrdup("f");
        if (starts(expr, "pg_catalog.pg_get_indexdef(i.indexrelid"))
            return index_def(r->cat, o);
        if (strcmp(expr, "c2.reltablespace") == 0)
            return xstrdup("0");
        return NULL;
    case Q_INDEXINFO:
        if (strcmp(expr, "i.indisvalid") == 0)
            return xstrdup("t");
        if (starts(expr, "i.indis") || starts(expr, "i.indnullsnotdistinct") ||
            starts(expr, "(NOT i.indimmediate)"))
            return xstrdup("f");
        if (strcmp(expr, "a.amname") == 0)
            return xstrdup("arrangement");
        if (strcmp(expr, "c2.relname") == 0)
            return on ? xstrdup(on->name) : NULL;
        return NULL;
    case Q_VIEWDEF:
        return starts(expr, "pg_catalog.pg_get_viewdef(") ? view_text(o) : NULL;
    case Q_SCHEMAS:
        if (strcmp(expr, "n.nspname") == 0)
            return xstrdup(r->schema);
        if (strcmp(expr, "n.oid") == 0)
            return fmt_u(r->schema_oid);
        if (starts(expr, "pg_catalog.pg_get_userbyid("))
            return xstrdup("materialize");
        return NULL;
    default:
        return NULL;
    }
}

/* ------------------------------------------------------------------ rows */

typedef struct result {
    int nrows, cap;
    int ncols;
    char **cells; /* row-major, owned */
} result;

static void
add_row(result *res, const query *q, const rowctx *r)
{
    if (res->nrows == res->cap) {
        res->cap = res->cap ? res->cap * 2 : 16;
        res->cells = realloc(res->cells, (size_t)res->cap * (size_t)q->ncols * sizeof *res->cells);
        ENG_ASSERT(res->cells != NULL);
    }
    for (int c = 0; c < q->ncols; c++)
        res->cells[(size_t)res->nrows * (size_t)q->ncols + (size_t)c] =
            value(q->kind, q->exprs[c], r);
    res->nrows++;
}

/* A compiled regular expression from psql's pattern after marker, if
 * any. Returns 1 if one was compiled into re, 0 if there is none, -1 with
 * err for a bad one. */
static int
pattern(const char *norm, const char *marker, regex_t *re, eng_err *err)
{
    char *lit = literal_after(norm, marker);
    if (lit == NULL)
        return 0;
    int rc = regcomp(re, lit, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[128];
        regerror(rc, re, msg, sizeof msg);
        eng_err_set(err, ENG_ERRCODE_INVALID_REGULAR_EXPRESSION,
                    "invalid regular expression \"%s\": %s", lit, msg);
        free(lit);
        return -1;
    }
    free(lit);
    return 1;
}

static int
cmp_obj(const void *a, const void *b)
{
    const eng_obj *x = *(eng_obj *const *)a, *y = *(eng_obj *const *)b;
    int c = strcmp(x->schema, y->schema);
    return c ? c : strcmp(x->name, y->name);
}

/* Q_RELS: the relations passing psql's filters, ordered by schema and
 * name. */
static int
rels(eng_catalog *cat, const query *q, result *res, eng_err *err)
{
    regex_t rel_re, nsp_re;
    int has_rel = pattern(q->norm, "c.relname OPERATOR(pg_catalog.~) ", &rel_re, err);
    if (has_rel < 0)
        return -1;
    int has_nsp = pattern(q->norm, "n.nspname OPERATOR(pg_catalog.~) ", &nsp_re, err);
    if (has_nsp < 0) {
        if (has_rel)
            regfree(&rel_re);
        return -1;
    }
    char kinds[16] = "";
    const char *in = strstr(q->norm, "c.relkind IN (");
    if (in != NULL) {
        size_t k = 0;
        for (const char *p = in + 14; *p && *p != ')' && k + 1 < sizeof kinds;) {
            if (*p == '\'') {
                char *l = literal_at(p);
                if (l[0] != '\0' && l[1] == '\0')
                    kinds[k++] = l[0];
                free(l);
                p = skip_quoted(p);
            } else {
                p++;
            }
        }
        kinds[k] = '\0';
    }
    bool hide_system = strstr(q->norm, "n.nspname <> 'pg_catalog'") != NULL;
    bool visible_only = strstr(q->norm, "pg_catalog.pg_table_is_visible(c.oid)") != NULL;
    int n = eng_catalog_count(cat), m = 0;
    eng_obj **sel = calloc((size_t)n + 1, sizeof *sel);
    ENG_ASSERT(sel != NULL);
    for (int i = 0; i < n; i++) {
        eng_obj *o = eng_catalog_at(cat, i);
        char k = relkind(o);
        if (k == 0 || (in != NULL && strchr(kinds, k) == NULL))
            continue;
        if (hide_system && system_schema(o->schema))
            continue;
        if (has_rel && regexec(&rel_re, o->name, 0, NULL, 0) != 0)
            continue;
        if (has_nsp && regexec(&nsp_re, o->schema, 0, NULL, 0) != 0)
            continue;
        if (visible_only && eng_catalog_find(cat, NULL, o->name) != o)
            continue;
        sel[m++] = o;
    }
    qsort(sel, (size_t)m, sizeof *sel, cmp_obj);
    for (int i = 0; i < m; i++) {
        rowctx r = {.cat = cat, .o = sel[i]};
        add_row(res, q, &r);
    }
    free(sel);
    if (has_rel)
        regfree(&rel_re);
    if (has_nsp)
        regfree(&nsp_re);
    return 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Q_SCHEMAS: built-in and created schemas passing psql's filters. */
static int
schemas(eng_catalog *cat, const query *q, result *res, eng_err *err)
{
    regex_t re;
    int has = pattern(q->norm, "n.nspname OPERATOR(pg_catalog.~) ", &re, err);
    if (has < 0)
        return -1;
    bool hide_system = strstr(q->norm, "n.nspname !~ '^pg_'") != NULL;
    int n = eng_catalog_count(cat), m = 0;
    const char **names = calloc((size_t)n + 16, sizeof *names);
    ENG_ASSERT(names != NULL);
    uint32_t oid;
    for (int i = 0; coord_builtin_schema(i, &oid) != NULL; i++)
        names[m++] = coord_builtin_schema(i, &oid);
    for (int i = 0; i < n; i++) {
        eng_obj *o = eng_catalog_at(cat, i);
        if (o->kind == ENG_OBJ_SCHEMA)
            names[m++] = o->name;
    }
    qsort(names, (size_t)m, sizeof *names, cmp_str);
    for (int i = 0; i < m; i++) {
        if (hide_system && system_schema(names[i]))
            continue;
        if (has && regexec(&re, names[i], 0, NULL, 0) != 0)
            continue;
        rowctx r = {.cat = cat, .schema = names[i], .schema_oid = coord_schema_oid(cat, names[i])};
        add_row(res, q, &r);
    }
    free(names);
    if (has)
        regfree(&re);
    return 0;
}

/* Fills res for q. Read lock held. */
static int
answer(eng_catalog *cat, const query *q, result *res, eng_err *err)
{
    switch (q->kind) {
    case Q_RELS:
        return rels(cat, q, res, err);
    case Q_SCHEMAS:
        return schemas(cat, q, res, err);
    case Q_EMPTY:
    case Q_NONE:
        return 0;
    default:
        break;
    }
    /* Queries about one object, named by its oid. */
    const char *marker = q->kind == Q_ATTRS     ? "a.attrelid = "
                         : q->kind == Q_VIEWDEF ? "pg_catalog.pg_get_viewdef("
                                                : "c.oid = ";
    char *lit = literal_after(q->norm, marker);
    eng_obj *o = obj_by_oid(cat, lit);
    free(lit);
    if (o == NULL)
        return 0;
    rowctx r = {.cat = cat, .o = o};
    switch (q->kind) {
    case Q_RELINFO:
        add_row(res, q, &r);
        break;
    case Q_VIEWDEF:
        if (o->kind == ENG_OBJ_VIEW || o->kind == ENG_OBJ_MATVIEW)
            add_row(res, q, &r);
        break;
    case Q_INDEXINFO:
        if (o->kind == ENG_OBJ_INDEX)
            add_row(res, q, &r);
        break;
    case Q_ATTRS:
        if (o->kind == ENG_OBJ_INDEX) {
            eng_obj *on = eng_catalog_get(cat, o->on_id);
            for (int k = 0; on != NULL && k < o->nkey; k++) {
                if (o->key[k] < 0 || o->key[k] >= on->ncols)
                    continue;
                r.col = &on->cols[o->key[k]];
                r.attnum = k + 1;
                r.index_attr = true;
                add_row(res, q, &r);
            }
        } else {
            for (int k = 0; k < o->ncols; k++) {
                r.col = &o->cols[k];
                r.attnum = k + 1;
                add_row(res, q, &r);
            }
        }
        break;
    case Q_TABLE_INDEXES: {
        int n = eng_catalog_count(cat), m = 0;
        eng_obj **ix = calloc((size_t)n + 1, sizeof *ix);
        ENG_ASSERT(ix != NULL);
        for (int i = 0; i < n; i++) {
            eng_obj *x = eng_catalog_at(cat, i);
            if (x->kind == ENG_OBJ_INDEX && x->on_id == o->id)
                ix[m++] = x;
        }
        qsort(ix, (size_t)m, sizeof *ix, cmp_obj);
        for (int i = 0; i < m; i++) {
            rowctx ri = {.cat = cat, .o = ix[i]};
            add_row(res, q, &ri);
        }
        free(ix);
        break;
    }
    default:
        break;
    }
    return 0;
}

int
ex_psql(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err)
{
    if (s->txn == 'E')
        return eng_err_set(err, ENG_ERRCODE_IN_FAILED_SQL_TRANSACTION,
                           "current transaction is aborted, commands ignored until end of "
                           "transaction block");
    query q = {0};
    q.norm = normalise(sql);
    q.kind = classify(q.norm);
    if (q.kind == Q_NONE) {
        query_free(&q);
        return eng_err_set(err, ENG_ERRCODE_INTERNAL_ERROR, "not a psql catalog query");
    }
    split_targets(&q);
    if (q.too_many) {
        query_free(&q);
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "catalog query with more than %d columns is not supported", MAX_COLS);
    }
    result res = {0};
    pthread_rwlock_rdlock(&s->co->lock);
    int rc = answer(s->co->cat, &q, &res, err);
    pthread_rwlock_unlock(&s->co->lock);
    if (rc == 0)
        rc = ex_text_result(sink, q.ncols, (const char *const *)q.names, res.nrows,
                            (const char *const *)res.cells, NULL);
    for (size_t i = 0; i < (size_t)res.nrows * (size_t)q.ncols; i++)
        free(res.cells[i]);
    free(res.cells);
    query_free(&q);
    return rc;
}
