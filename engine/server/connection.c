/* Connections: CREATE CONNECTION name TO POSTGRES (HOST ..., PORT ...,
 * USER ..., PASSWORD SECRET s, DATABASE ..., SSL MODE ..., SSL CERTIFICATE
 * AUTHORITY SECRET s), checked at creation by connecting; DROP
 * CONNECTION. The first slice of the PostgreSQL source (issue 5).
 *
 * Notes: the options are kept on the catalog object as a JSON object
 * (eng_obj.conn) for the sources that will use them; secrets are named, not
 * copied, so ALTER SECRET takes effect and DROP SECRET needs CASCADE. The
 * check connects with libpq (10 s timeout) and runs SELECT 1; it is skipped
 * when the catalog is replayed at start (the upstream may be down then). */
#include <ctype.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "engine/server/exec_int.h"
#include "engine/server/lex.h"

/* ------------------------------------------------------------------ checking */

/* Fills *out from the options o and the resolved secrets pw / ca (the CA
 * is staged in a private temporary file that lives until ex_pgconn_free). */
static int
pgconn_fill(const json_t *o, const char *pw, const char *ca, ex_pgconn *out, eng_err *err)
{
    memset(out, 0, sizeof *out);
    const char *keys[5] = {"host", "port", "user", "database", "ssl_mode"};
    for (int i = 0; i < 5; i++) {
        const char *v = json_string_value(json_object_get(o, keys[i]));
        out->strs[i] = v ? strdup(v) : NULL;
    }
    out->strs[5] = pw ? strdup(pw) : NULL;
    out->c.host = out->strs[0];
    out->c.port = out->strs[1] ? out->strs[1] : "5432";
    out->c.user = out->strs[2];
    out->c.dbname = out->strs[3];
    out->c.sslmode = out->strs[4] ? out->strs[4] : "disable";
    out->c.password = out->strs[5];
    if (json_object_get(o, "ssl_ca_secret") != NULL) {
        snprintf(out->ca_path, sizeof out->ca_path, "/tmp/sluice-ca-XXXXXX");
        int fd = mkstemp(out->ca_path);
        if (fd < 0 || ca == NULL || write(fd, ca, strlen(ca)) != (ssize_t)strlen(ca)) {
            if (fd >= 0) {
                close(fd);
                unlink(out->ca_path);
            }
            out->ca_path[0] = '\0';
            ex_pgconn_free(out);
            return eng_err_set(err, ENG_ERRCODE_IO_ERROR,
                               "could not stage the certificate authority of secret %s",
                               json_string_value(json_object_get(o, "ssl_ca_secret")));
        }
        close(fd);
        out->c.ca_file = out->ca_path;
    }
    return 0;
}

void
ex_pgconn_free(ex_pgconn *c)
{
    for (int i = 0; i < 6; i++) {
        if (c->strs[i] != NULL)
            memset(c->strs[i], 0, strlen(c->strs[i]));
        free(c->strs[i]);
        c->strs[i] = NULL;
    }
    if (c->ca_path[0])
        unlink(c->ca_path);
    c->ca_path[0] = '\0';
}

int
ex_pgconn_resolve(eng_coord *co, const eng_obj *conn, ex_pgconn *out, eng_err *err)
{
    json_t *o = json_loads(conn->conn ? conn->conn : "{}", 0, NULL);
    if (o == NULL)
        return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "connection %s is corrupt", conn->name);
    const char *vals[2] = {NULL, NULL};
    const char *secs[2] = {json_string_value(json_object_get(o, "password_secret")),
                           json_string_value(json_object_get(o, "ssl_ca_secret"))};
    for (int i = 0; i < 2; i++) {
        if (secs[i] == NULL)
            continue;
        eng_obj *d = eng_catalog_find(co->cat, "public", secs[i]);
        if (d == NULL || d->kind != ENG_OBJ_SECRET) {
            json_decref(o);
            return eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT, "unknown secret '%s'", secs[i]);
        }
        vals[i] = d->secret;
    }
    int rc = pgconn_fill(o, vals[0], vals[1], out, err);
    json_decref(o);
    return rc;
}

/* Connects with the options (secrets resolved) and runs SELECT 1. */
static int
check_postgres(const json_t *o, const char *pw, const char *ca, eng_err *err)
{
    ex_pgconn pc;
    if (pgconn_fill(o, pw, ca, &pc, err) != 0)
        return -1;
    PGconn *c = io_pgsrc_connect(&pc.c, false, "sluice", err);
    int rc = -1;
    if (c == NULL) {
        eng_err_hint(err, "check HOST, PORT, USER, the password secret, DATABASE and SSL MODE");
    } else {
        PGresult *r = io_pgsrc_exec(c, "SELECT 1", PGRES_TUPLES_OK, err);
        rc = r ? 0 : -1;
        PQclear(r);
    }
    PQfinish(c);
    ex_pgconn_free(&pc);
    return rc;
}

/* ------------------------------------------------------------------ statements */

/* CREATE CONNECTION [IF NOT EXISTS] name TO POSTGRES (...) */
static int
create_connection(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err)
{
    ex_lexer l = {sql, sql};
    char name[128], buf[1024];
    if (!ex_lex_kw(&l, "create") || !ex_lex_kw(&l, "connection"))
        return ex_lex_syntax(&l, err, "CREATE CONNECTION");
    bool ine = false;
    if (ex_lex_kw(&l, "if")) {
        if (!ex_lex_kw(&l, "not") || !ex_lex_kw(&l, "exists"))
            return ex_lex_syntax(&l, err, "NOT EXISTS after IF");
        ine = true;
    }
    if (!ex_lex_value(&l, name, sizeof name))
        return ex_lex_syntax(&l, err, "a connection name");
    if (!ex_lex_kw(&l, "to"))
        return ex_lex_syntax(&l, err, "TO");
    if (!ex_lex_kw(&l, "postgres")) {
        if (ex_lex_kw(&l, "kafka") || ex_lex_kw(&l, "confluent")) {
            eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                        "Kafka and schema registry connections are not supported yet");
            return -1;
        }
        return ex_lex_syntax(&l, err, "POSTGRES");
    }
    if (!ex_lex_punct(&l, '('))
        return ex_lex_syntax(&l, err, "'('");
    json_t *o = json_object();
    int rc = -1;
    for (;;) {
        const char *opt_at = (ex_lex_ws(&l), l.p);
        const char *key = NULL;
        bool secret = false;
        if (ex_lex_kw(&l, "host"))
            key = "host";
        else if (ex_lex_kw(&l, "port"))
            key = "port";
        else if (ex_lex_kw(&l, "user") || ex_lex_kw(&l, "username"))
            key = "user";
        else if (ex_lex_kw(&l, "database"))
            key = "database";
        else if (ex_lex_kw(&l, "password")) {
            if (!ex_lex_kw(&l, "secret")) {
                ex_lex_syntax(&l, err, "SECRET after PASSWORD (passwords are given as secrets)");
                goto done;
            }
            key = "password_secret";
            secret = true;
        } else if (ex_lex_kw(&l, "ssl")) {
            if (ex_lex_kw(&l, "mode")) {
                key = "ssl_mode";
            } else if (ex_lex_kw(&l, "certificate")) {
                if (!ex_lex_kw(&l, "authority") || !ex_lex_kw(&l, "secret")) {
                    ex_lex_syntax(&l, err, "AUTHORITY SECRET after SSL CERTIFICATE");
                    goto done;
                }
                key = "ssl_ca_secret";
                secret = true;
            } else {
                ex_lex_syntax(&l, err, "MODE or CERTIFICATE AUTHORITY after SSL");
                goto done;
            }
        } else {
            l.p = opt_at;
            ex_lex_syntax(&l, err,
                          "a connection option (HOST, PORT, USER, PASSWORD SECRET, DATABASE, "
                          "SSL MODE, SSL CERTIFICATE AUTHORITY SECRET)");
            goto done;
        }
        ex_lex_punct(&l, '=');
        if (!ex_lex_value(&l, buf, sizeof buf)) {
            ex_lex_syntax(&l, err, "a value");
            goto done;
        }
        if (json_object_get(o, key) != NULL) {
            eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "option %s specified more than once", key);
            err->position = (int)(opt_at - sql) + 1;
            goto done;
        }
        if (strcmp(key, "ssl_mode") == 0) {
            for (char *q = buf; *q; q++)
                *q = (char)tolower((unsigned char)*q);
            if (strcmp(buf, "disable") != 0 && strcmp(buf, "require") != 0 &&
                strcmp(buf, "verify-ca") != 0 && strcmp(buf, "verify-full") != 0) {
                eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                            "invalid SSL MODE '%s': expected disable, require, verify-ca or "
                            "verify-full",
                            buf);
                goto done;
            }
        }
        if (strcmp(key, "port") == 0) {
            char *end;
            long pn = strtol(buf, &end, 10);
            if (*end != '\0' || pn < 1 || pn > 65535) {
                eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "invalid PORT %s", buf);
                goto done;
            }
        }
        (void)secret;
        json_object_set_new(o, key, json_string(buf));
        if (ex_lex_punct(&l, ','))
            continue;
        if (ex_lex_punct(&l, ')'))
            break;
        ex_lex_syntax(&l, err, "',' or ')'");
        goto done;
    }
    ex_lex_ws(&l);
    if (*l.p == ';')
        l.p++;
    ex_lex_ws(&l);
    if (*l.p != '\0') {
        ex_lex_syntax(&l, err, "end of statement");
        goto done;
    }
    if (json_object_get(o, "host") == NULL || json_object_get(o, "user") == NULL) {
        eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "a POSTGRES connection needs HOST and USER");
        goto done;
    }
    eng_coord *co = s->co;
    const char *secs[2] = {json_string_value(json_object_get(o, "password_secret")),
                           json_string_value(json_object_get(o, "ssl_ca_secret"))};
    char *vals[2] = {NULL, NULL};
    /* Resolve the secrets, then connect without holding the lock (the check
     * may take up to the connect timeout), then add under the write lock. */
    pthread_rwlock_rdlock(&co->lock);
    eng_obj *old = eng_catalog_find(co->cat, "public", name);
    for (int i = 0; i < 2 && old == NULL; i++) {
        if (secs[i] == NULL)
            continue;
        const char *v = ex_secret_value(s, secs[i]);
        if (v == NULL) {
            pthread_rwlock_unlock(&co->lock);
            eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT, "unknown secret '%s'", secs[i]);
            goto secrets_done;
        }
        vals[i] = strdup(v);
    }
    pthread_rwlock_unlock(&co->lock);
    if (old != NULL) {
        if (ine) {
            ex_notice(sink, "connection \"%s\" already exists, skipping", name);
            rc = ex_complete(sink, "CREATE CONNECTION");
        } else {
            eng_err_set(err, ENG_ERRCODE_DUPLICATE_OBJECT, "an object named \"%s\" already exists",
                        name);
        }
        goto secrets_done;
    }
    if (!co->replaying && check_postgres(o, vals[0], vals[1], err) != 0)
        goto secrets_done;
    pthread_rwlock_wrlock(&co->lock);
    eng_obj *obj = eng_obj_new(coord_new_id(co), ENG_OBJ_CONNECTION, "public", name);
    obj->sql = strdup(sql);
    obj->persist = true;
    obj->conn = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    for (int i = 0; i < 2; i++) {
        if (secs[i] == NULL)
            continue;
        eng_obj *d = eng_catalog_find(co->cat, "public", secs[i]);
        if (d == NULL || d->kind != ENG_OBJ_SECRET) {
            eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT, "unknown secret '%s'", secs[i]);
            eng_obj_free(obj);
            pthread_rwlock_unlock(&co->lock);
            goto secrets_done;
        }
        eng_obj_add_dep(obj, d->id);
    }
    if (eng_catalog_add(co->cat, obj, err) != 0) {
        eng_obj_free(obj);
        pthread_rwlock_unlock(&co->lock);
        goto secrets_done;
    }
    pthread_rwlock_unlock(&co->lock);
    rc = 0;
secrets_done:
    for (int i = 0; i < 2; i++)
        if (vals[i] != NULL) {
            memset(vals[i], 0, strlen(vals[i]));
            free(vals[i]);
        }
    if (rc != 0 || old != NULL)
        goto done;
    rc = ex_complete(sink, "CREATE CONNECTION");
done:
    json_decref(o);
    return rc;
}

static int
drop_connection(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err)
{
    ex_lexer l = {sql, sql};
    char name[128];
    ex_lex_kw(&l, "drop");
    ex_lex_kw(&l, "connection");
    bool ie = false;
    if (ex_lex_kw(&l, "if")) {
        if (!ex_lex_kw(&l, "exists"))
            return ex_lex_syntax(&l, err, "EXISTS after IF");
        ie = true;
    }
    if (!ex_lex_value(&l, name, sizeof name))
        return ex_lex_syntax(&l, err, "a connection name");
    bool cascade = ex_lex_kw(&l, "cascade");
    if (!cascade)
        ex_lex_kw(&l, "restrict");
    eng_coord *co = s->co;
    pthread_rwlock_wrlock(&co->lock);
    int rc = 0;
    eng_obj *o = eng_catalog_find(co->cat, "public", name);
    if (o == NULL || o->kind != ENG_OBJ_CONNECTION) {
        if (ie)
            ex_notice(sink, "connection \"%s\" does not exist, skipping", name);
        else
            rc = eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT, "unknown connection '%s'", name);
    } else {
        rc = ex_drop_obj(co, o, cascade, sink, err);
    }
    pthread_rwlock_unlock(&co->lock);
    return rc == 0 ? ex_complete(sink, "DROP CONNECTION") : -1;
}

int
ex_connection(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err)
{
    ex_lexer l = {sql, sql};
    if (ex_lex_kw(&l, "drop"))
        return drop_connection(s, sql, sink, err);
    return create_connection(s, sql, sink, err);
}
