/* Connections: CREATE CONNECTION name TO POSTGRES (HOST ..., PORT ...,
 * USER ..., PASSWORD SECRET s, DATABASE ..., SSL MODE ..., SSL CERTIFICATE
 * AUTHORITY SECRET s), TO KAFKA (BROKER 'h:p' | BROKERS ('h:p', ...),
 * SECURITY PROTOCOL ..., SASL MECHANISMS ..., SASL USERNAME ..., SASL
 * PASSWORD SECRET s, SSL CERTIFICATE AUTHORITY SECRET s) and TO CONFLUENT
 * SCHEMA REGISTRY (URL ..., USERNAME ..., PASSWORD SECRET s), each checked
 * at creation by connecting (PostgreSQL: SELECT 1; Kafka: a metadata
 * request; the registry: GET /subjects); DROP CONNECTION.
 *
 * Notes: the options are kept on the catalog object as a JSON object
 * (eng_obj.conn) for the sources that will use them; secrets are named, not
 * copied, so ALTER SECRET takes effect and DROP SECRET needs CASCADE. The
 * checks time out after 10 s; they are skipped when the catalog is replayed
 * at start (the upstream may be down then). */
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
#include "io/io_csr.h"
#ifdef SLUICE_KAFKA
#include "io/io_kafka.h"
#endif

/* The secrets an option set names, in a fixed order per kind. */
static const char *const secret_keys[] = {"password_secret", "sasl_password_secret",
                                          "ssl_ca_secret"};
#define NSECRET_KEYS 3

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
    const char *k = json_string_value(json_object_get(o, "kind"));
    if (k != NULL) {
        json_decref(o);
        return eng_err_set(err, ENG_ERRCODE_WRONG_OBJECT_TYPE,
                           "connection %s is not a POSTGRES connection", conn->name);
    }
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

/* The kind of a connection object: "postgres", "kafka" or "csr". */
static const char *
conn_kind(const json_t *o)
{
    const char *k = json_string_value(json_object_get(o, "kind"));
    return k ? k : "postgres";
}

const char *
ex_connection_type(const eng_obj *o)
{
    json_t *j = json_loads(o->conn ? o->conn : "{}", 0, NULL);
    const char *k = j != NULL ? conn_kind(j) : "postgres";
    const char *type = strcmp(k, "kafka") == 0 ? "kafka"
                       : strcmp(k, "csr") == 0 ? "confluent-schema-registry"
                                               : "postgres";
    json_decref(j);
    return type;
}

static char *
dup_opt(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? strdup(v) : NULL;
}

int
ex_kconn_resolve(eng_coord *co, const eng_obj *conn, const char *kind, ex_kconn *out, eng_err *err)
{
    memset(out, 0, sizeof *out);
    json_t *o = json_loads(conn->conn ? conn->conn : "{}", 0, NULL);
    if (o == NULL)
        return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "connection %s is corrupt", conn->name);
    if (strcmp(conn_kind(o), kind) != 0) {
        json_decref(o);
        return eng_err_set(err, ENG_ERRCODE_WRONG_OBJECT_TYPE,
                           "connection %s is not a %s connection", conn->name,
                           strcmp(kind, "kafka") == 0 ? "KAFKA" : "CONFLUENT SCHEMA REGISTRY");
    }
    char *vals[NSECRET_KEYS] = {NULL};
    for (int i = 0; i < NSECRET_KEYS; i++) {
        const char *sec = json_string_value(json_object_get(o, secret_keys[i]));
        if (sec == NULL)
            continue;
        eng_obj *d = eng_catalog_find(co->cat, "public", sec);
        if (d == NULL || d->kind != ENG_OBJ_SECRET) {
            for (int j = 0; j < i; j++)
                free(vals[j]);
            json_decref(o);
            return eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT, "unknown secret '%s'", sec);
        }
        vals[i] = strdup(d->secret ? d->secret : "");
    }
    out->brokers = dup_opt(o, "brokers");
    out->security_protocol = dup_opt(o, "security_protocol");
    out->sasl_mechanisms = dup_opt(o, "sasl_mechanisms");
    out->sasl_username = dup_opt(o, "sasl_username");
    out->url = dup_opt(o, "url");
    out->user = dup_opt(o, "user");
    out->password = vals[0];
    out->sasl_password = vals[1];
    out->ca = vals[2];
    json_decref(o);
    return 0;
}

static void
free_secret(char **p)
{
    if (*p != NULL)
        memset(*p, 0, strlen(*p));
    free(*p);
    *p = NULL;
}

void
ex_kconn_free(ex_kconn *c)
{
    free(c->brokers);
    free(c->security_protocol);
    free(c->sasl_mechanisms);
    free(c->sasl_username);
    free(c->url);
    free(c->user);
    free_secret(&c->password);
    free_secret(&c->sasl_password);
    free_secret(&c->ca);
    memset(c, 0, sizeof *c);
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

/* A connection option: its keywords, the key it is kept under, and what
 * its value is. */
typedef enum opt_val { OPT_STRING, OPT_SECRET, OPT_LIST } opt_val;

typedef struct conn_opt {
    const char *kw[4]; /* keywords in order, NULL-terminated */
    const char *key;
    opt_val val;
} conn_opt;

static const conn_opt pg_opts[] = {
    {{"host"}, "host", OPT_STRING},
    {{"port"}, "port", OPT_STRING},
    {{"user"}, "user", OPT_STRING},
    {{"username"}, "user", OPT_STRING},
    {{"database"}, "database", OPT_STRING},
    {{"password", "secret"}, "password_secret", OPT_SECRET},
    {{"ssl", "mode"}, "ssl_mode", OPT_STRING},
    {{"ssl", "certificate", "authority", "secret"}, "ssl_ca_secret", OPT_SECRET},
    {{NULL}, NULL, OPT_STRING},
};

static const conn_opt kafka_opts[] = {
    {{"brokers"}, "brokers", OPT_LIST},
    {{"broker"}, "brokers", OPT_STRING},
    {{"security", "protocol"}, "security_protocol", OPT_STRING},
    {{"sasl", "mechanisms"}, "sasl_mechanisms", OPT_STRING},
    {{"sasl", "username"}, "sasl_username", OPT_STRING},
    {{"sasl", "password", "secret"}, "sasl_password_secret", OPT_SECRET},
    {{"ssl", "certificate", "authority", "secret"}, "ssl_ca_secret", OPT_SECRET},
    {{NULL}, NULL, OPT_STRING},
};

static const conn_opt csr_opts[] = {
    {{"url"}, "url", OPT_STRING},
    {{"username"}, "user", OPT_STRING},
    {{"user"}, "user", OPT_STRING},
    {{"password", "secret"}, "password_secret", OPT_SECRET},
    {{"ssl", "certificate", "authority", "secret"}, "ssl_ca_secret", OPT_SECRET},
    {{NULL}, NULL, OPT_STRING},
};

/* Matches one option's keywords at l (restores l if none matches). */
static const conn_opt *
match_opt(ex_lexer *l, const conn_opt *opts)
{
    for (const conn_opt *o = opts; o->key != NULL; o++) {
        ex_lexer save = *l;
        int i = 0;
        while (i < 4 && o->kw[i] != NULL && ex_lex_kw(l, o->kw[i]))
            i++;
        if (i == 4 || o->kw[i] == NULL)
            return o;
        *l = save;
    }
    return NULL;
}

/* Folds buf to lower (upper) case and checks that it is one of the
 * NULL-terminated list; else 22023 "invalid WHAT 'buf': expected A, B or
 * C". 0 or -1 with err. */
static int
check_one_of(char *buf, bool upper, const char *const *allowed, const char *what, eng_err *err)
{
    for (char *q = buf; *q; q++)
        *q = (char)(upper ? toupper((unsigned char)*q) : tolower((unsigned char)*q));
    int n = 0;
    for (; allowed[n] != NULL; n++)
        if (strcmp(buf, allowed[n]) == 0)
            return 0;
    char expected[256] = "";
    size_t len = 0;
    for (int i = 0; i < n && len < sizeof expected; i++) {
        const char *sep = i == 0 ? "" : i == n - 1 ? " or " : ", ";
        len += (size_t)snprintf(expected + len, sizeof expected - len, "%s%s", sep, allowed[i]);
    }
    return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "invalid %s '%s': expected %s",
                       what, buf, expected);
}

/* Checks one option's value; 0 or -1 with err. */
static int
check_value(const char *key, char *buf, eng_err *err)
{
    static const char *const ssl_modes[] = {"disable", "require", "verify-ca", "verify-full", NULL};
    static const char *const protocols[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL", NULL};
    static const char *const mechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", NULL};
    if (strcmp(key, "ssl_mode") == 0 && check_one_of(buf, false, ssl_modes, "SSL MODE", err) != 0)
        return -1;
    if (strcmp(key, "port") == 0) {
        char *end;
        long pn = strtol(buf, &end, 10);
        if (*end != '\0' || pn < 1 || pn > 65535)
            return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "invalid PORT %s", buf);
    }
    if (strcmp(key, "security_protocol") == 0 &&
        check_one_of(buf, true, protocols, "SECURITY PROTOCOL", err) != 0)
        return -1;
    if (strcmp(key, "sasl_mechanisms") == 0 &&
        check_one_of(buf, true, mechanisms, "SASL MECHANISMS", err) != 0)
        return -1;
    if (strcmp(key, "url") == 0 && strncmp(buf, "http://", 7) != 0 &&
        strncmp(buf, "https://", 8) != 0)
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "invalid URL '%s': expected http:// or https://", buf);
    if (strcmp(key, "brokers") == 0) {
        /* host:port, comma-separated. */
        for (char *q = buf; *q;) {
            char *e = strchr(q, ',');
            size_t n = e ? (size_t)(e - q) : strlen(q);
            char *colon = memchr(q, ':', n);
            if (n == 0 || colon == NULL || colon == q || colon + 1 == q + n)
                return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                                   "invalid broker '%.*s': expected host:port", (int)n, q);
            q = e ? e + 1 : q + n;
        }
    }
    return 0;
}

/* Connects with the options (secrets resolved in vals, as secret_keys). */
static int
check_connection(const char *kind, const json_t *o, char *const *vals, eng_err *err)
{
    if (strcmp(kind, "postgres") == 0)
        return check_postgres(o, vals[0], vals[2], err);
    if (strcmp(kind, "csr") == 0) {
        io_csr_conf cf = {json_string_value(json_object_get(o, "url")),
                          json_string_value(json_object_get(o, "user")), vals[0], vals[2], 10000};
        io_csr *c = io_csr_open(&cf, err);
        int rc = c != NULL ? io_csr_check(c, err) : -1;
        io_csr_close(c);
        if (rc != 0)
            eng_err_hint(err, "check URL, USERNAME and the password secret");
        return rc;
    }
#ifdef SLUICE_KAFKA
    io_kafka_conf kc = {json_string_value(json_object_get(o, "brokers")),
                        json_string_value(json_object_get(o, "security_protocol")),
                        json_string_value(json_object_get(o, "sasl_mechanisms")),
                        json_string_value(json_object_get(o, "sasl_username")),
                        vals[1],
                        vals[2],
                        0};
    if (io_kafka_check(&kc, 10000, err) != 0) {
        eng_err_hint(err, "check BROKER(S), SECURITY PROTOCOL and the SASL settings");
        return -1;
    }
    return 0;
#else
    (void)o;
    (void)vals;
    return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                       "this build of Sluice has no Kafka support");
#endif
}

/* CREATE CONNECTION [IF NOT EXISTS] name TO POSTGRES | KAFKA | CONFLUENT
 * SCHEMA REGISTRY (...) */
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
    const char *kind;
    const conn_opt *opts;
    const char *opt_names;
    if (ex_lex_kw(&l, "postgres")) {
        kind = "postgres";
        opts = pg_opts;
        opt_names = "HOST, PORT, USER, PASSWORD SECRET, DATABASE, SSL MODE, SSL CERTIFICATE "
                    "AUTHORITY SECRET";
    } else if (ex_lex_kw(&l, "kafka")) {
        kind = "kafka";
        opts = kafka_opts;
        opt_names = "BROKER, BROKERS, SECURITY PROTOCOL, SASL MECHANISMS, SASL USERNAME, SASL "
                    "PASSWORD SECRET, SSL CERTIFICATE AUTHORITY SECRET";
    } else if (ex_lex_kw(&l, "confluent")) {
        if (!ex_lex_kw(&l, "schema") || !ex_lex_kw(&l, "registry"))
            return ex_lex_syntax(&l, err, "SCHEMA REGISTRY after CONFLUENT");
        kind = "csr";
        opts = csr_opts;
        opt_names = "URL, USERNAME, PASSWORD SECRET, SSL CERTIFICATE AUTHORITY SECRET";
    } else {
        return ex_lex_syntax(&l, err, "POSTGRES, KAFKA or CONFLUENT SCHEMA REGISTRY");
    }
    if (!ex_lex_punct(&l, '('))
        return ex_lex_syntax(&l, err, "'('");
    json_t *o = json_object();
    int rc = -1;
    char what[300];
    snprintf(what, sizeof what, "a connection option (%s)", opt_names);
    for (;;) {
        const char *opt_at = (ex_lex_ws(&l), l.p);
        const conn_opt *op = match_opt(&l, opts);
        if (op == NULL) {
            ex_lex_syntax(&l, err, what);
            goto done;
        }
        ex_lex_punct(&l, '=');
        if (op->val == OPT_LIST) {
            /* ('a:1', 'b:2') */
            if (!ex_lex_punct(&l, '(')) {
                ex_lex_syntax(&l, err, "'(' and a list of brokers");
                goto done;
            }
            eng_strbuf list = {0};
            for (;;) {
                if (!ex_lex_value(&l, buf, sizeof buf)) {
                    eng_strbuf_free(&list);
                    ex_lex_syntax(&l, err, "a broker 'host:port'");
                    goto done;
                }
                if (list.len)
                    eng_strbuf_putc(&list, ',');
                eng_strbuf_puts(&list, buf);
                if (ex_lex_punct(&l, ','))
                    continue;
                if (ex_lex_punct(&l, ')'))
                    break;
                eng_strbuf_free(&list);
                ex_lex_syntax(&l, err, "',' or ')'");
                goto done;
            }
            snprintf(buf, sizeof buf, "%s", eng_strbuf_cstr(&list));
            eng_strbuf_free(&list);
        } else if (!ex_lex_value(&l, buf, sizeof buf)) {
            ex_lex_syntax(&l, err, "a value");
            goto done;
        }
        if (json_object_get(o, op->key) != NULL) {
            eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "option %s specified more than once",
                        op->key);
            err->position = (int)(opt_at - sql) + 1;
            goto done;
        }
        if (check_value(op->key, buf, err) != 0) {
            err->position = (int)(opt_at - sql) + 1;
            goto done;
        }
        json_object_set_new(o, op->key, json_string(buf));
        if (ex_lex_punct(&l, ','))
            continue;
        if (ex_lex_punct(&l, ')'))
            break;
        ex_lex_syntax(&l, err, "',' or ')'");
        goto done;
    }
    if (!ex_lex_end(&l)) {
        ex_lex_syntax(&l, err, "end of statement");
        goto done;
    }
    if (strcmp(kind, "postgres") == 0 &&
        (json_object_get(o, "host") == NULL || json_object_get(o, "user") == NULL)) {
        eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "a POSTGRES connection needs HOST and USER");
        goto done;
    }
    if (strcmp(kind, "kafka") == 0) {
        if (json_object_get(o, "brokers") == NULL) {
            eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR,
                        "a KAFKA connection needs BROKER or BROKERS");
            goto done;
        }
        bool sasl = json_object_get(o, "sasl_mechanisms") != NULL;
        const char *sp = json_string_value(json_object_get(o, "security_protocol"));
        if (sasl && (sp == NULL || strncmp(sp, "SASL_", 5) != 0)) {
            eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                        "SASL MECHANISMS needs SECURITY PROTOCOL SASL_PLAINTEXT or SASL_SSL");
            goto done;
        }
        if (sp != NULL && strncmp(sp, "SASL_", 5) == 0 &&
            (!sasl || json_object_get(o, "sasl_username") == NULL ||
             json_object_get(o, "sasl_password_secret") == NULL)) {
            eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                        "SECURITY PROTOCOL %s needs SASL MECHANISMS, SASL USERNAME and SASL "
                        "PASSWORD SECRET",
                        sp);
            goto done;
        }
    }
    if (strcmp(kind, "csr") == 0 && json_object_get(o, "url") == NULL) {
        eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR,
                    "a CONFLUENT SCHEMA REGISTRY connection needs URL");
        goto done;
    }
    if (strcmp(kind, "postgres") != 0)
        json_object_set_new(o, "kind", json_string(kind));
    eng_coord *co = s->co;
    const char *secs[NSECRET_KEYS];
    char *vals[NSECRET_KEYS] = {NULL};
    for (int i = 0; i < NSECRET_KEYS; i++)
        secs[i] = json_string_value(json_object_get(o, secret_keys[i]));
    /* Resolve the secrets, then connect without holding the lock (the check
     * may take up to the connect timeout), then add under the write lock. */
    pthread_rwlock_rdlock(&co->lock);
    eng_obj *old = eng_catalog_find(co->cat, "public", name);
    for (int i = 0; i < NSECRET_KEYS && old == NULL; i++) {
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
    if (!co->replaying && check_connection(kind, o, vals, err) != 0)
        goto secrets_done;
    pthread_rwlock_wrlock(&co->lock);
    eng_obj *obj = eng_obj_new(coord_new_id(co), ENG_OBJ_CONNECTION, "public", name);
    obj->sql = strdup(sql);
    obj->persist = true;
    obj->conn = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    for (int i = 0; i < NSECRET_KEYS; i++) {
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
    for (int i = 0; i < NSECRET_KEYS; i++)
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
