/* PostgreSQL as a source, the upstream side (see io_pgsrc.h). */
#include "io/io_pgsrc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/core/eng_text.h"

static void
trim_nl(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

PGconn *
io_pgsrc_connect(const io_pgsrc_conn *o, bool replication, const char *appname, eng_err *err)
{
    const char *keys[16], *vals[16];
    int n = 0;
#define KV(k, v)                                                                                   \
    do {                                                                                           \
        if ((v) != NULL) {                                                                         \
            keys[n] = (k);                                                                         \
            vals[n++] = (v);                                                                       \
        }                                                                                          \
    } while (0)
    /* A constant value, always present. */
#define KC(k, v)                                                                                   \
    do {                                                                                           \
        keys[n] = (k);                                                                             \
        vals[n++] = (v);                                                                           \
    } while (0)
    KV("host", o->host);
    KV("port", o->port);
    KV("user", o->user);
    KV("password", o->password);
    KV("dbname", o->dbname ? o->dbname : "postgres");
    KV("sslmode", o->sslmode ? o->sslmode : "disable");
    KV("sslrootcert", o->ca_file);
    KC("connect_timeout", "10");
    KV("application_name", appname ? appname : "sluice");
    KC("client_encoding", "UTF8");
    KC("options", "-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=postgres "
                  "-c extra_float_digits=3 -c bytea_output=hex");
    if (replication)
        KC("replication", "database");
#undef KV
#undef KC
    keys[n] = NULL;
    vals[n] = NULL;
    PGconn *c = PQconnectdbParams(keys, vals, 0);
    if (c == NULL) {
        eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "out of memory opening a connection");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[ENG_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
        trim_nl(msg);
        eng_err_set(err, ENG_ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
                    "cannot connect to PostgreSQL at %s:%s: %s", o->host ? o->host : "localhost",
                    o->port ? o->port : "5432", msg);
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* err from a failed result (the server's SQLSTATE, else 08006). */
static int
result_err(PGconn *c, PGresult *r, eng_err *err)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    char msg[ENG_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s",
             r && PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : PQerrorMessage(c));
    trim_nl(msg);
    if (strncmp(msg, "ERROR:  ", 8) == 0)
        memmove(msg, msg + 8, strlen(msg + 8) + 1);
    if (state == NULL || strlen(state) != 5)
        state = ENG_ERRCODE_CONNECTION_FAILURE;
    return eng_err_set(err, state, "upstream PostgreSQL: %s", msg[0] ? msg : "connection lost");
}

PGresult *
io_pgsrc_exec(PGconn *c, const char *sql, ExecStatusType want, eng_err *err)
{
    PGresult *r = PQexec(c, sql);
    if (r != NULL && PQresultStatus(r) == want)
        return r;
    result_err(c, r, err);
    PQclear(r);
    return NULL;
}

static PGresult *
exec1(PGconn *c, const char *sql, const char *param, eng_err *err)
{
    const char *v[1] = {param};
    PGresult *r = PQexecParams(c, sql, 1, NULL, v, NULL, NULL, 0);
    if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK)
        return r;
    result_err(c, r, err);
    PQclear(r);
    return NULL;
}

/* ------------------------------------------------------------------ types */

bool
io_pgsrc_type_supported(uint32_t oid)
{
    switch (oid) {
    case 16:   /* bool */
    case 17:   /* bytea */
    case 20:   /* int8 */
    case 21:   /* int2 */
    case 23:   /* int4 */
    case 25:   /* text */
    case 114:  /* json */
    case 700:  /* float4 */
    case 701:  /* float8 */
    case 1042: /* bpchar */
    case 1043: /* varchar */
    case 1082: /* date */
    case 1083: /* time */
    case 1114: /* timestamp */
    case 1184: /* timestamptz */
    case 1186: /* interval */
    case 1700: /* numeric */
    case 2950: /* uuid */
    case 3802: /* jsonb */
        return true;
    default:
        return false;
    }
}

int
io_pgsrc_datum(const io_pgsrc_col *col, const char *s, size_t n, eng_rowbuf *out, eng_err *err)
{
    switch (col->type.id) {
    case ENG_TYPE_INT4:
    case ENG_TYPE_INT8:
    case ENG_TYPE_INT2: {
        /* PostgreSQL's output: optional '-', digits. */
        size_t i = 0;
        bool neg = n > 0 && s[0] == '-';
        i = neg;
        uint64_t v = 0;
        if (i < n && n - i <= 18) {
            for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
                v = v * 10 + (uint64_t)(s[i] - '0');
            if (i == n) {
                int64_t x = neg ? -(int64_t)v : (int64_t)v;
                if (col->type.id == ENG_TYPE_INT8)
                    eng_push_int8(out, x);
                else if (col->type.id == ENG_TYPE_INT4 && x >= INT32_MIN && x <= INT32_MAX)
                    eng_push_int4(out, (int32_t)x);
                else if (col->type.id == ENG_TYPE_INT2 && x >= INT16_MIN && x <= INT16_MAX)
                    eng_push_int2(out, (int16_t)x);
                else
                    break;
                return 0;
            }
        }
        break;
    }
    case ENG_TYPE_TEXT:
    case ENG_TYPE_VARCHAR:
    case ENG_TYPE_OTHER:
        if (n > ENG_TEXT_MAX_LEN)
            break;
        if (eng_utf8_validate(s, n, err) != 0)
            return -1;
        eng_push_var(out, ENG_TAG_TEXT, s, (uint32_t)n);
        return 0;
    default:
        break;
    }
    return eng_text_parse(&col->type, s, n, out, err);
}

/* ------------------------------------------------------------------ discovery */

void
io_pgsrc_tables_free(io_pgsrc_table *t, int n)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < t[i].ncols; j++)
            free(t[i].cols[j].name);
        free(t[i].cols);
        free(t[i].key);
        free(t[i].schema);
        free(t[i].name);
        free(t[i].alias);
        free(t[i].rowfilter);
    }
    free(t);
}

/* Splits s at '\x01' into names (at most cap); returns the count. */
static int
split_names(char *s, char **out, int cap)
{
    int n = 0;
    if (s == NULL || *s == '\0')
        return 0;
    for (char *p = s;;) {
        char *e = strchr(p, '\x01');
        if (n < cap)
            out[n++] = p;
        if (e == NULL)
            break;
        *e = '\0';
        p = e + 1;
    }
    return n;
}

static bool
picked(const io_pgsrc_select *sel, const char *schema, const char *name, int *which)
{
    *which = -1;
    switch (sel->kind) {
    case IO_PGSRC_ALL:
        return true;
    case IO_PGSRC_SCHEMAS:
        for (int i = 0; i < sel->n; i++)
            if (strcmp(sel->schema[i], schema) == 0)
                return true;
        return false;
    case IO_PGSRC_TABLES:
        for (int i = 0; i < sel->n; i++)
            if (strcmp(sel->name[i], name) == 0 &&
                (sel->schema[i] == NULL || strcmp(sel->schema[i], schema) == 0)) {
                *which = i;
                return true;
            }
        return false;
    }
    return false;
}

/* TEXT COLUMNS entry e names (schema.)table.col of this table? */
static bool
text_col_match(const char *e, const io_pgsrc_table *t, const char *col)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s.%s", t->name, col);
    if (strcmp(e, buf) == 0)
        return true;
    snprintf(buf, sizeof buf, "%s.%s.%s", t->schema, t->name, col);
    return strcmp(e, buf) == 0;
}

int
io_pgsrc_discover(PGconn *c, const char *pub, const io_pgsrc_select *sel, io_pgsrc_table **out,
                  int *nout, eng_err *err)
{
    *out = NULL;
    *nout = 0;
    PGresult *r = io_pgsrc_exec(c,
                                "SELECT current_setting('wal_level'), "
                                "(SELECT rolreplication OR rolsuper FROM pg_roles "
                                "WHERE rolname = current_user)",
                                PGRES_TUPLES_OK, err);
    if (r == NULL)
        return -1;
    if (strcmp(PQgetvalue(r, 0, 0), "logical") != 0) {
        eng_err_set(err, ENG_ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "upstream PostgreSQL's wal_level is %s, not logical", PQgetvalue(r, 0, 0));
        eng_err_hint(err, "set wal_level = logical in postgresql.conf and restart PostgreSQL");
        PQclear(r);
        return -1;
    }
    if (strcmp(PQgetvalue(r, 0, 1), "t") != 0) {
        eng_err_set(err, ENG_ERRCODE_INSUFFICIENT_PRIVILEGE,
                    "the upstream user lacks the REPLICATION privilege");
        eng_err_hint(err, "run ALTER ROLE ... WITH REPLICATION upstream");
        PQclear(r);
        return -1;
    }
    PQclear(r);
    r = exec1(c, "SELECT 1 FROM pg_publication WHERE pubname = $1", pub, err);
    if (r == NULL)
        return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT, "publication \"%s\" does not exist upstream",
                    pub);
        eng_err_hint(err, "run CREATE PUBLICATION %s FOR ALL TABLES (or FOR TABLE ...) upstream",
                     pub);
        return -1;
    }
    PQclear(r);
    bool has_attnames = PQserverVersion(c) >= 150000;
    char sql[2048];
    snprintf(sql, sizeof sql,
             "SELECT c.oid, n.nspname, c.relname, c.relreplident, c.relpages, c.reltuples, "
             "has_table_privilege(c.oid, 'SELECT'), %s, %s, c.relkind "
             "FROM pg_publication_tables pt JOIN pg_namespace n ON n.nspname = pt.schemaname "
             "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename "
             "WHERE pt.pubname = $1 ORDER BY n.nspname, c.relname",
             has_attnames ? "array_to_string(pt.attnames, E'\\x01')" : "NULL::text",
             has_attnames ? "pt.rowfilter" : "NULL::text");
    r = exec1(c, sql, pub, err);
    if (r == NULL)
        return -1;
    int nt = PQntuples(r);
    if (nt == 0) {
        PQclear(r);
        eng_err_set(err, ENG_ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "publication \"%s\" has no tables", pub);
        eng_err_hint(err, "add tables with ALTER PUBLICATION %s ADD TABLE ... upstream", pub);
        return -1;
    }
    io_pgsrc_table *t = calloc((size_t)nt, sizeof *t);
    char **colsets = calloc((size_t)nt, sizeof *colsets);
    bool *found = sel->n > 0 ? calloc((size_t)sel->n, sizeof *found) : NULL;
    ENG_ASSERT(t != NULL && colsets != NULL && (sel->n == 0 || found != NULL));
    int n = 0, rc = -1;
    eng_strbuf oids = {0};
    eng_strbuf_puts(&oids, "{");
    for (int i = 0; i < nt; i++) {
        const char *schema = PQgetvalue(r, i, 1), *name = PQgetvalue(r, i, 2);
        int which;
        if (!picked(sel, schema, name, &which))
            continue;
        if (which >= 0)
            found[which] = true;
        /* One table, one subsource: a second entry naming it is refused. */
        for (int k = which + 1; which >= 0 && k < sel->n; k++)
            if (strcmp(sel->name[k], name) == 0 &&
                (sel->schema[k] == NULL || strcmp(sel->schema[k], schema) == 0)) {
                eng_err_set(err, ENG_ERRCODE_DUPLICATE_OBJECT,
                            "table \"%s.%s\" is named twice in FOR TABLES", schema, name);
                goto done;
            }
        if (sel->kind == IO_PGSRC_SCHEMAS)
            for (int k = 0; k < sel->n; k++)
                if (strcmp(sel->schema[k], schema) == 0)
                    found[k] = true;
        io_pgsrc_table *x = &t[n++];
        x->relid = (uint32_t)strtoul(PQgetvalue(r, i, 0), NULL, 10);
        x->schema = eng_strdup(schema);
        x->name = eng_strdup(name);
        x->alias = which >= 0 && sel->alias[which] ? eng_strdup(sel->alias[which]) : NULL;
        x->replident = PQgetvalue(r, i, 3)[0];
        x->pages = strtoll(PQgetvalue(r, i, 4), NULL, 10);
        x->tuples = strtod(PQgetvalue(r, i, 5), NULL);
        colsets[n - 1] = PQgetisnull(r, i, 7) ? NULL : eng_strdup(PQgetvalue(r, i, 7));
        x->rowfilter = PQgetisnull(r, i, 8) ? NULL : eng_strdup(PQgetvalue(r, i, 8));
        x->relkind = PQgetvalue(r, i, 9)[0];
        if (strcmp(PQgetvalue(r, i, 6), "t") != 0) {
            eng_err_set(err, ENG_ERRCODE_INSUFFICIENT_PRIVILEGE,
                        "the upstream user may not SELECT from table \"%s\".\"%s\"", schema, name);
            eng_err_hint(err, "run GRANT SELECT ON %s.%s TO <user> upstream", schema, name);
            goto done;
        }
        if (x->replident == 'n') {
            eng_err_set(err, ENG_ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "table \"%s\".\"%s\" has REPLICA IDENTITY NOTHING", schema, name);
            eng_err_hint(err,
                         "run ALTER TABLE %s.%s REPLICA IDENTITY DEFAULT (with a primary "
                         "key) or FULL upstream",
                         schema, name);
            goto done;
        }
        eng_strbuf_printf(&oids, "%s%u", n > 1 ? "," : "", x->relid);
    }
    eng_strbuf_puts(&oids, "}");
    for (int k = 0; k < sel->n; k++)
        if (!found[k]) {
            if (sel->kind == IO_PGSRC_SCHEMAS)
                eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT,
                            "publication \"%s\" has no tables in schema \"%s\"", pub,
                            sel->schema[k]);
            else
                eng_err_set(err, ENG_ERRCODE_UNDEFINED_TABLE,
                            "table \"%s%s%s\" is not in publication \"%s\"",
                            sel->schema[k] ? sel->schema[k] : "", sel->schema[k] ? "." : "",
                            sel->name[k], pub);
            goto done;
        }
    PQclear(r);
    r = exec1(c,
              "SELECT a.attrelid, a.attname, a.atttypid, a.atttypmod, a.attnotnull "
              "FROM pg_attribute a WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 "
              "AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attrelid, a.attnum",
              eng_strbuf_cstr(&oids), err);
    if (r == NULL)
        goto done;
    for (int i = 0; i < PQntuples(r); i++) {
        uint32_t rel = (uint32_t)strtoul(PQgetvalue(r, i, 0), NULL, 10);
        for (int k = 0; k < n; k++) {
            if (t[k].relid != rel)
                continue;
            const char *cname = PQgetvalue(r, i, 1);
            if (colsets[k] != NULL) { /* a publication column list */
                bool in = false;
                for (const char *p = colsets[k]; *p;) {
                    const char *e = strchr(p, '\x01');
                    size_t len = e ? (size_t)(e - p) : strlen(p);
                    if (len == strlen(cname) && memcmp(p, cname, len) == 0)
                        in = true;
                    p = e ? e + 1 : p + len;
                }
                if (!in)
                    break;
            }
            io_pgsrc_table *x = &t[k];
            x->cols = realloc(x->cols, (size_t)(x->ncols + 1) * sizeof *x->cols);
            ENG_ASSERT(x->cols != NULL);
            io_pgsrc_col *col = &x->cols[x->ncols++];
            memset(col, 0, sizeof *col);
            col->name = eng_strdup(cname);
            col->oid = (uint32_t)strtoul(PQgetvalue(r, i, 2), NULL, 10);
            col->typmod = (int32_t)strtol(PQgetvalue(r, i, 3), NULL, 10);
            col->not_null = strcmp(PQgetvalue(r, i, 4), "t") == 0;
            break;
        }
    }
    /* Types and TEXT COLUMNS. */
    bool *text_used = sel->ntext > 0 ? calloc((size_t)sel->ntext, sizeof *text_used) : NULL;
    for (int k = 0; k < n; k++) {
        io_pgsrc_table *x = &t[k];
        for (int j = 0; j < x->ncols; j++) {
            io_pgsrc_col *col = &x->cols[j];
            for (int e = 0; e < sel->ntext; e++)
                if (text_col_match(sel->text_cols[e], x, col->name)) {
                    col->as_text = true;
                    text_used[e] = true;
                }
            if (col->as_text) {
                col->type = eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE);
            } else if (io_pgsrc_type_supported(col->oid)) {
                col->type = eng_type_from_oid(col->oid, col->typmod);
            } else {
                PGresult *tn = NULL;
                char q[128];
                snprintf(q, sizeof q, "SELECT format_type(%u, %d)", col->oid, (int)col->typmod);
                tn = PQexec(c, q);
                eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                            "column \"%s\".\"%s\".\"%s\" has type %s, which Sluice does not "
                            "support",
                            x->schema, x->name, col->name,
                            tn && PQresultStatus(tn) == PGRES_TUPLES_OK ? PQgetvalue(tn, 0, 0)
                                                                        : "?");
                eng_err_hint(err, "ingest it as text with TEXT COLUMNS (%s.%s)", x->name,
                             col->name);
                PQclear(tn);
                free(text_used);
                goto done;
            }
        }
    }
    for (int e = 0; e < sel->ntext; e++)
        if (!text_used[e]) {
            eng_err_set(err, ENG_ERRCODE_UNDEFINED_COLUMN,
                        "TEXT COLUMNS names \"%s\", which is not a column of a table in the "
                        "source",
                        sel->text_cols[e]);
            free(text_used);
            goto done;
        }
    free(text_used);
    PQclear(r);
    /* Keys: the identity index, else the primary key; only immediate ones
     * (PostgreSQL itself ignores a deferrable primary key as the identity,
     * and with one a transaction may briefly hold two rows of a key). */
    r = exec1(c,
              "SELECT i.indrelid, i.indisprimary, i.indisreplident, "
              "array_to_string(ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) "
              "WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = i.indrelid "
              "AND a.attnum = k.attnum ORDER BY k.ord), E'\\x01') "
              "FROM pg_index i WHERE i.indrelid = ANY($1::oid[]) "
              "AND (i.indisprimary OR i.indisreplident) AND i.indimmediate",
              eng_strbuf_cstr(&oids), err);
    if (r == NULL)
        goto done;
    for (int pass = 0; pass < 2; pass++) /* pass 0: identity indexes, 1: primary keys */
        for (int i = 0; i < PQntuples(r); i++) {
            uint32_t rel = (uint32_t)strtoul(PQgetvalue(r, i, 0), NULL, 10);
            bool prim = strcmp(PQgetvalue(r, i, 1), "t") == 0;
            bool ident = strcmp(PQgetvalue(r, i, 2), "t") == 0;
            for (int k = 0; k < n; k++) {
                io_pgsrc_table *x = &t[k];
                if (x->relid != rel || x->nkey > 0)
                    continue;
                if (pass == 0 ? !(ident && x->replident == 'i') : !prim)
                    continue;
                char *names = eng_strdup(PQgetvalue(r, i, 3));
                char *parts[64];
                int np = split_names(names, parts, 64);
                int *key = calloc((size_t)(np ? np : 1), sizeof *key);
                ENG_ASSERT(key != NULL);
                int nk = 0;
                for (int p = 0; p < np; p++)
                    for (int j = 0; j < x->ncols; j++)
                        if (strcmp(x->cols[j].name, parts[p]) == 0)
                            key[nk++] = j;
                free(names);
                if (nk == np && np > 0) {
                    x->key = key;
                    x->nkey = nk;
                } else {
                    free(key); /* a key column outside the publication's column list */
                }
            }
        }
    rc = 0;
done:
    PQclear(r);
    for (int i = 0; i < nt; i++)
        free(colsets[i]);
    free(colsets);
    free(found);
    eng_strbuf_free(&oids);
    if (rc != 0) {
        io_pgsrc_tables_free(t, n);
        return -1;
    }
    *out = t;
    *nout = n;
    return 0;
}

/* ------------------------------------------------------------------ slot and snapshot */

static bool
parse_lsn(const char *s, uint64_t *out)
{
    unsigned hi, lo;
    if (s == NULL || sscanf(s, "%X/%X", &hi, &lo) != 2)
        return false;
    *out = ((uint64_t)hi << 32) | lo;
    return true;
}

void
io_pgsrc_lsn_format(uint64_t lsn, char *buf, size_t cap)
{
    snprintf(buf, cap, "%X/%X", (unsigned)(lsn >> 32), (unsigned)lsn);
}

int
io_pgsrc_create_slot(PGconn *repl, const char *slot, uint64_t *lsn, char *snapshot, size_t snapcap,
                     eng_err *err)
{
    char *id = PQescapeIdentifier(repl, slot, strlen(slot));
    if (id == NULL)
        return eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "cannot quote the slot name");
    char sql[512];
    snprintf(sql, sizeof sql, "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput (SNAPSHOT 'export')",
             id);
    PQfreemem(id);
    PGresult *r = io_pgsrc_exec(repl, sql, PGRES_TUPLES_OK, err);
    if (r == NULL)
        return -1;
    /* slot_name, consistent_point, snapshot_name, output_plugin */
    int rc = 0;
    if (PQnfields(r) < 3 || PQntuples(r) != 1 || !parse_lsn(PQgetvalue(r, 0, 1), lsn))
        rc = eng_err_set(err, ENG_ERRCODE_PROTOCOL_VIOLATION,
                         "unexpected answer to CREATE_REPLICATION_SLOT");
    else
        snprintf(snapshot, snapcap, "%s", PQgetvalue(r, 0, 2));
    PQclear(r);
    return rc;
}

int
io_pgsrc_drop_slot(PGconn *c, const char *slot, bool *existed, eng_err *err)
{
    *existed = false;
    for (int attempt = 0; attempt < 50; attempt++) {
        PGresult *r =
            exec1(c, "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1", slot, err);
        if (r == NULL)
            return -1;
        if (PQntuples(r) == 0) {
            PQclear(r);
            return 0;
        }
        *existed = true;
        bool active = !PQgetisnull(r, 0, 0);
        char pid[32];
        snprintf(pid, sizeof pid, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        if (active) {
            r = exec1(c, "SELECT pg_terminate_backend($1::int)", pid, err);
            if (r == NULL)
                return -1;
            PQclear(r);
        }
        const char *v[1] = {slot};
        r = PQexecParams(c,
                         "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                         "WHERE slot_name = $1 AND active_pid IS NULL",
                         1, NULL, v, NULL, NULL, 0);
        if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
            PQclear(r);
            return 0;
        }
        /* Still active (the walsender is exiting) or raced: retry shortly. */
        PQclear(r);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return eng_err_set(err, ENG_ERRCODE_OBJECT_IN_USE,
                       "replication slot \"%s\" is still in use upstream", slot);
}

int
io_pgsrc_begin_snapshot(PGconn *c, const char *snapshot, eng_err *err)
{
    PGresult *r =
        io_pgsrc_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", PGRES_COMMAND_OK, err);
    if (r == NULL)
        return -1;
    PQclear(r);
    char *lit = PQescapeLiteral(c, snapshot, strlen(snapshot));
    if (lit == NULL)
        return eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "cannot quote the snapshot name");
    char sql[256];
    snprintf(sql, sizeof sql, "SET TRANSACTION SNAPSHOT %s", lit);
    PQfreemem(lit);
    r = io_pgsrc_exec(c, sql, PGRES_COMMAND_OK, err);
    if (r == NULL)
        return -1;
    PQclear(r);
    return 0;
}

/* "name" with inner quotes doubled. */
static void
put_ident(eng_strbuf *b, const char *s)
{
    eng_strbuf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            eng_strbuf_putc(b, '"');
        eng_strbuf_putc(b, *s);
    }
    eng_strbuf_putc(b, '"');
}

void
io_pgsrc_copy_sql(const io_pgsrc_table *t, int64_t first_page, int64_t end_page, eng_strbuf *out)
{
    eng_strbuf_reset(out);
    /* A whole table without a row filter: COPY table (cols); otherwise, and
     * for a partitioned table (which COPY table refuses), COPY (SELECT cols
     * FROM table WHERE ...). */
    bool select = first_page >= 0 || t->rowfilter != NULL || t->relkind == 'p';
    eng_strbuf_puts(out, "COPY ");
    if (select)
        eng_strbuf_puts(out, "(SELECT ");
    else {
        put_ident(out, t->schema);
        eng_strbuf_putc(out, '.');
        put_ident(out, t->name);
        eng_strbuf_puts(out, " (");
    }
    for (int j = 0; j < t->ncols; j++) {
        if (j)
            eng_strbuf_puts(out, ", ");
        put_ident(out, t->cols[j].name);
    }
    if (select) {
        /* ONLY: an inheritance parent's children are tables of their own
         * (a partitioned table's partitions are its rows). */
        eng_strbuf_puts(out, t->relkind == 'p' ? " FROM " : " FROM ONLY ");
        put_ident(out, t->schema);
        eng_strbuf_putc(out, '.');
        put_ident(out, t->name);
        eng_strbuf_puts(out, " WHERE true");
        if (first_page >= 0)
            eng_strbuf_printf(out, " AND ctid >= '(%" PRId64 ",0)'::tid", first_page);
        if (first_page >= 0 && end_page >= 0)
            eng_strbuf_printf(out, " AND ctid < '(%" PRId64 ",0)'::tid", end_page);
        if (t->rowfilter != NULL)
            eng_strbuf_printf(out, " AND (%s)", t->rowfilter);
    }
    eng_strbuf_puts(out, ") TO STDOUT");
}

int
io_pgsrc_copy_split(const char *line, size_t n, eng_strbuf *buf, int32_t *off, int32_t *len,
                    int cap, eng_err *err)
{
    eng_strbuf_reset(buf);
    if (n > 0 && line[n - 1] == '\n')
        n--;
    int nf = 0;
    size_t i = 0;
    for (;;) {
        if (nf == cap)
            return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED,
                               "a COPY row has more than %d fields", cap);
        if (i + 2 <= n && line[i] == '\\' && line[i + 1] == 'N' &&
            (i + 2 == n || line[i + 2] == '\t')) {
            off[nf] = 0;
            len[nf++] = -1;
            i += 2;
        } else {
            size_t start = buf->len;
            /* Copy runs without escapes in one go. */
            while (i < n && line[i] != '\t') {
                size_t j = i;
                while (j < n && line[j] != '\t' && line[j] != '\\')
                    j++;
                eng_strbuf_append(buf, line + i, j - i);
                i = j;
                if (i < n && line[i] == '\\') {
                    if (i + 1 >= n)
                        return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED,
                                           "a COPY row ends inside an escape");
                    char e = line[i + 1], ch;
                    i += 2;
                    switch (e) {
                    case 'b':
                        ch = '\b';
                        break;
                    case 'f':
                        ch = '\f';
                        break;
                    case 'n':
                        ch = '\n';
                        break;
                    case 'r':
                        ch = '\r';
                        break;
                    case 't':
                        ch = '\t';
                        break;
                    case 'v':
                        ch = '\v';
                        break;
                    case 'x': {
                        int v = 0, k = 0;
                        while (k < 2 && i < n && strchr("0123456789abcdefABCDEF", line[i]) &&
                               line[i] != '\0') {
                            char h = line[i++];
                            v = v * 16 + (h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
                            k++;
                        }
                        ch = (char)v;
                        break;
                    }
                    default:
                        if (e >= '0' && e <= '7') {
                            int v = e - '0', k = 1;
                            while (k < 3 && i < n && line[i] >= '0' && line[i] <= '7') {
                                v = v * 8 + (line[i++] - '0');
                                k++;
                            }
                            ch = (char)v;
                        } else {
                            ch = e; /* \\ and any other escaped character */
                        }
                    }
                    eng_strbuf_putc(buf, ch);
                }
            }
            off[nf] = (int32_t)start;
            len[nf++] = (int32_t)(buf->len - start);
        }
        if (i >= n)
            break;
        if (line[i] != '\t')
            return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "malformed COPY row");
        i++;
    }
    return nf;
}
