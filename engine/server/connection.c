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

/* ------------------------------------------------------------------ lexing */

typedef struct lexer {
    const char *sql, *p;
} lexer;

static void
ws(lexer *l)
{
    for (;;) {
        while (isspace((unsigned char)*l->p))
            l->p++;
        if (l->p[0] == '-' && l->p[1] == '-') {
            while (*l->p && *l->p != '\n')
                l->p++;
            continue;
        }
        return;
    }
}

static bool
kw(lexer *l, const char *k)
{
    ws(l);
    size_t n = strlen(k);
    if (strncasecmp(l->p, k, n) != 0 || isalnum((unsigned char)l->p[n]) || l->p[n] == '_')
        return false;
    l->p += n;
    return true;
}

static bool
punct(lexer *l, char c)
{
    ws(l);
    if (*l->p != c)
        return false;
    l->p++;
    return true;
}

static int
syntax(lexer *l, eng_err *err, const char *what)
{
    ws(l);
    eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "syntax error: expected %s", what);
    err->position = (int)(l->p - l->sql) + 1;
    return -1;
}

/* An identifier (lower-cased unless quoted), a string literal or a
 * number, into buf. */
static bool
value(lexer *l, char *buf, size_t cap)
{
    ws(l);
    size_t k = 0;
    const char *p = l->p;
    if (*p == '\'') {
        p++;
        for (;;) {
            if (*p == '\0')
                return false;
            if (*p == '\'' && p[1] == '\'') {
                p += 2;
                if (k + 1 < cap)
                    buf[k++] = '\'';
                continue;
            }
            if (*p == '\'') {
                p++;
                break;
            }
            if (k + 1 < cap)
                buf[k++] = *p;
            p++;
        }
    } else if (*p == '"') {
        p++;
        while (*p && *p != '"') {
            if (k + 1 < cap)
                buf[k++] = *p;
            p++;
        }
        if (*p != '"')
            return false;
        p++;
    } else if (isalnum((unsigned char)*p) || *p == '_') {
        while (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-')
            if (k + 1 < cap)
                buf[k++] = (char)tolower((unsigned char)*p++);
            else
                p++;
    } else {
        return false;
    }
    buf[k] = '\0';
    l->p = p;
    return true;
}

/* ------------------------------------------------------------------ checking */

/* Connects with the options (secrets resolved) and runs SELECT 1. */
static int
check_postgres(const json_t *o, const char *pw, const char *ca, eng_err *err)
{
    const char *keys[12], *vals[12];
    int n = 0;
    char port[16] = "5432";
    const char *host = json_string_value(json_object_get(o, "host"));
    const char *user = json_string_value(json_object_get(o, "user"));
    const char *db = json_string_value(json_object_get(o, "database"));
    const char *mode = json_string_value(json_object_get(o, "ssl_mode"));
    const char *pwsec = json_string_value(json_object_get(o, "password_secret"));
    const char *casec = json_string_value(json_object_get(o, "ssl_ca_secret"));
    if (json_is_string(json_object_get(o, "port")))
        snprintf(port, sizeof port, "%s", json_string_value(json_object_get(o, "port")));
    keys[n] = "host", vals[n++] = host;
    keys[n] = "port", vals[n++] = port;
    keys[n] = "user", vals[n++] = user;
    keys[n] = "dbname", vals[n++] = db ? db : "postgres";
    keys[n] = "sslmode", vals[n++] = mode ? mode : "disable";
    keys[n] = "connect_timeout", vals[n++] = "10";
    keys[n] = "application_name", vals[n++] = "sluice";
    (void)pwsec;
    if (pw != NULL)
        keys[n] = "password", vals[n++] = pw;
    char capath[] = "/tmp/sluice-ca-XXXXXX";
    int cafd = -1;
    if (casec != NULL) {
        cafd = mkstemp(capath);
        if (cafd < 0 || ca == NULL || write(cafd, ca, strlen(ca)) != (ssize_t)strlen(ca)) {
            if (cafd >= 0) {
                close(cafd);
                unlink(capath);
            }
            return eng_err_set(err, ENG_ERRCODE_IO_ERROR,
                               "could not stage the certificate authority of secret %s", casec);
        }
        close(cafd);
        keys[n] = "sslrootcert", vals[n++] = capath;
    }
    keys[n] = NULL;
    vals[n] = NULL;
    PGconn *c = PQconnectdbParams(keys, vals, 0);
    int rc = 0;
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[ENG_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
        size_t ml = strlen(msg);
        while (ml > 0 && (msg[ml - 1] == '\n' || msg[ml - 1] == ' '))
            msg[--ml] = '\0';
        rc = eng_err_set(err, ENG_ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
                         "cannot connect to PostgreSQL at %s:%s: %s", host, port, msg);
        eng_err_hint(err, "check HOST, PORT, USER, the password secret, DATABASE and SSL MODE");
    } else {
        PGresult *r = PQexec(c, "SELECT 1");
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            rc = eng_err_set(err, ENG_ERRCODE_CONNECTION_FAILURE,
                             "connected to PostgreSQL at %s:%s but SELECT 1 failed: %s", host, port,
                             PQerrorMessage(c));
        PQclear(r);
    }
    PQfinish(c);
    if (casec != NULL)
        unlink(capath);
    return rc;
}

/* ------------------------------------------------------------------ statements */

/* CREATE CONNECTION [IF NOT EXISTS] name TO POSTGRES (...) */
static int
create_connection(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err)
{
    lexer l = {sql, sql};
    char name[128], buf[1024];
    if (!kw(&l, "create") || !kw(&l, "connection"))
        return syntax(&l, err, "CREATE CONNECTION");
    bool ine = false;
    if (kw(&l, "if")) {
        if (!kw(&l, "not") || !kw(&l, "exists"))
            return syntax(&l, err, "NOT EXISTS after IF");
        ine = true;
    }
    if (!value(&l, name, sizeof name))
        return syntax(&l, err, "a connection name");
    if (!kw(&l, "to"))
        return syntax(&l, err, "TO");
    if (!kw(&l, "postgres")) {
        if (kw(&l, "kafka") || kw(&l, "confluent")) {
            eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                        "Kafka and schema registry connections are not supported yet");
            return -1;
        }
        return syntax(&l, err, "POSTGRES");
    }
    if (!punct(&l, '('))
        return syntax(&l, err, "'('");
    json_t *o = json_object();
    int rc = -1;
    for (;;) {
        const char *opt_at = (ws(&l), l.p);
        const char *key = NULL;
        bool secret = false;
        if (kw(&l, "host"))
            key = "host";
        else if (kw(&l, "port"))
            key = "port";
        else if (kw(&l, "user") || kw(&l, "username"))
            key = "user";
        else if (kw(&l, "database"))
            key = "database";
        else if (kw(&l, "password")) {
            if (!kw(&l, "secret")) {
                syntax(&l, err, "SECRET after PASSWORD (passwords are given as secrets)");
                goto done;
            }
            key = "password_secret";
            secret = true;
        } else if (kw(&l, "ssl")) {
            if (kw(&l, "mode")) {
                key = "ssl_mode";
            } else if (kw(&l, "certificate")) {
                if (!kw(&l, "authority") || !kw(&l, "secret")) {
                    syntax(&l, err, "AUTHORITY SECRET after SSL CERTIFICATE");
                    goto done;
                }
                key = "ssl_ca_secret";
                secret = true;
            } else {
                syntax(&l, err, "MODE or CERTIFICATE AUTHORITY after SSL");
                goto done;
            }
        } else {
            l.p = opt_at;
            syntax(&l, err,
                   "a connection option (HOST, PORT, USER, PASSWORD SECRET, DATABASE, "
                   "SSL MODE, SSL CERTIFICATE AUTHORITY SECRET)");
            goto done;
        }
        punct(&l, '=');
        if (!value(&l, buf, sizeof buf)) {
            syntax(&l, err, "a value");
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
        if (punct(&l, ','))
            continue;
        if (punct(&l, ')'))
            break;
        syntax(&l, err, "',' or ')'");
        goto done;
    }
    ws(&l);
    if (*l.p == ';')
        l.p++;
    ws(&l);
    if (*l.p != '\0') {
        syntax(&l, err, "end of statement");
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
    lexer l = {sql, sql};
    char name[128];
    kw(&l, "drop");
    kw(&l, "connection");
    bool ie = false;
    if (kw(&l, "if")) {
        if (!kw(&l, "exists"))
            return syntax(&l, err, "EXISTS after IF");
        ie = true;
    }
    if (!value(&l, name, sizeof name))
        return syntax(&l, err, "a connection name");
    bool cascade = kw(&l, "cascade");
    if (!cascade)
        kw(&l, "restrict");
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
    lexer l = {sql, sql};
    if (kw(&l, "drop"))
        return drop_connection(s, sql, sink, err);
    return create_connection(s, sql, sink, err);
}
