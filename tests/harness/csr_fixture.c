/* sluice-csr-fixture: a throwaway Confluent Schema Registry for tests, the
 * subset of its REST API a Kafka source and its tests use, over HTTP/1.1.
 *
 *   sluice-csr-fixture [--port N] [--user U --password P] [--delay-ms N]
 *                      [--unavailable-while FILE] [--verbose]
 *
 * Listens on 127.0.0.1 (port 0, the default: an ephemeral port), prints
 * "http://127.0.0.1:PORT" as the first line of stdout and serves until
 * SIGTERM or SIGINT. With --user/--password every request needs HTTP
 * Basic credentials (401 otherwise); --delay-ms delays every response (for
 * timeout tests); --unavailable-while FILE answers every GET with 503
 * (error code 50301) while FILE exists, registrations still going through
 * (a registry restarted empty can be filled before it serves reads);
 * --verbose logs each request and its status on stderr.
 *
 *   GET    /                             {}
 *   GET    /subjects                     ["subject", ...] (sorted)
 *   GET    /subjects/{s}/versions        [1, 2, ...]
 *   POST   /subjects/{s}/versions        {"schema": "...", "schemaType": "AVRO"|"JSON"} -> {"id":
 * N} GET    /subjects/{s}/versions/{v}    {"subject","version","id","schema"}; v: N, latest, -1
 *   DELETE /subjects/{s}                 [deleted versions]
 *   GET    /schemas/ids/{id}             {"schema": "..."}
 *
 * Errors are {"error_code": N, "message": "..."} as Confluent's: 40401
 * subject, 40402 version, 40403 schema id not found (HTTP 404), 42201
 * invalid schema, 42202 invalid version (HTTP 422), 401 unauthorized.
 *
 * Notes: ids are global and start at 1. A schema is stored in compact
 * form (jansson's, key order kept), so registering the same schema with
 * other whitespace, under any subject, gives the same id; registering a
 * schema the subject already has adds no version. DELETE removes the
 * subject outright (ids stay valid; registering again starts at version
 * 1). One thread per connection (keep-alive, pipelining), the registry
 * under one mutex. Requests are untrusted: the head is limited to 64 KiB
 * and the body (Content-Length only, no chunked encoding) to 16 MiB;
 * anything malformed gets a 400 and the connection is closed. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine/core/eng_hex.h"

#define MAX_HEAD (64 * 1024)
#define MAX_BODY (16 * 1024 * 1024)
#define MAX_CONNS 256
#define MAX_SEGS 8

typedef struct schema {
    char *text; /* compact JSON */
    char *type; /* "AVRO" or "JSON" */
} schema;

typedef struct version {
    int version;
    uint32_t id;
} version;

typedef struct subject {
    char *name;
    version *v;
    size_t nv;
    int next; /* the next version number */
} subject;

/* The registry, under mu. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static schema *schemas; /* id i+1 is schemas[i] */
static size_t nschemas;
static subject *subjects;
static size_t nsubjects;

static char *auth_expected; /* base64("user:password"), NULL: no auth */
static int delay_ms;
static const char *unavailable_file; /* --unavailable-while */
static bool verbose;
static atomic_int nconns;
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL) {
        fprintf(stderr, "sluice-csr-fixture: out of memory\n");
        abort();
    }
    return q;
}

static char *
xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

static char *
base64(const char *s)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s), o = 0;
    char *out = xrealloc(NULL, (n + 2) / 3 * 4 + 1);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)(unsigned char)s[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)s[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* ------------------------------------------------------------------ responses */

typedef struct resp {
    int status;
    char *body; /* malloc'd JSON */
    bool close; /* close the connection after it */
} resp;

static void
reply(resp *r, int status, json_t *j)
{
    r->status = status;
    r->body = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    if (r->body == NULL) {
        fprintf(stderr, "sluice-csr-fixture: out of memory\n");
        abort();
    }
}

static void reply_error(resp *r, int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
reply_error(resp *r, int status, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* msg may hold a client's bytes cut anywhere: json_string refuses bad
     * UTF-8, so fall back to a fixed message then. */
    json_t *m = json_string(msg);
    reply(r, status,
          json_pack("{s:i,s:o}", "error_code", code, "message",
                    m ? m : json_string("invalid request")));
}

static const char *
reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 422:
        return "Unprocessable Entity";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

static int
send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
send_resp(int fd, const resp *r)
{
    char head[512];
    size_t blen = strlen(r->body);
    int n =
        snprintf(head, sizeof head,
                 "HTTP/1.1 %d %s\r\n"
                 "Content-Type: application/vnd.schemaregistry.v1+json\r\n"
                 "Content-Length: %zu\r\n"
                 "%s%s\r\n",
                 r->status, reason(r->status), blen,
                 r->status == 401 ? "WWW-Authenticate: Basic realm=\"sluice-csr-fixture\"\r\n" : "",
                 r->close ? "Connection: close\r\n" : "");
    /* One send: head and body in two would meet Nagle and the client's
     * delayed ACK (40 ms per response). */
    char *all = xrealloc(NULL, (size_t)n + blen);
    memcpy(all, head, (size_t)n);
    memcpy(all + n, r->body, blen);
    int rc = send_all(fd, all, (size_t)n + blen);
    free(all);
    return rc;
}

/* ------------------------------------------------------------------ the registry (under mu) */

static subject *
find_subject(const char *name)
{
    for (size_t i = 0; i < nsubjects; i++)
        if (strcmp(subjects[i].name, name) == 0)
            return &subjects[i];
    return NULL;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
get_subjects(resp *r)
{
    const char **names = xrealloc(NULL, (nsubjects + 1) * sizeof *names);
    for (size_t i = 0; i < nsubjects; i++)
        names[i] = subjects[i].name;
    qsort(names, nsubjects, sizeof *names, cmp_str);
    json_t *a = json_array();
    for (size_t i = 0; i < nsubjects; i++)
        json_array_append_new(a, json_string(names[i]));
    free(names);
    reply(r, 200, a);
}

static void
not_found_subject(resp *r, const char *s)
{
    reply_error(r, 404, 40401, "Subject '%s' not found.", s);
}

/* The subject's version numbers, as a JSON array. */
static json_t *
versions_of(const subject *sub)
{
    json_t *a = json_array();
    for (size_t i = 0; i < sub->nv; i++)
        json_array_append_new(a, json_integer(sub->v[i].version));
    return a;
}

static void
get_versions(resp *r, const char *s)
{
    subject *sub = find_subject(s);
    if (sub == NULL)
        return not_found_subject(r, s);
    reply(r, 200, versions_of(sub));
}

static void
delete_subject(resp *r, const char *s)
{
    subject *sub = find_subject(s);
    if (sub == NULL)
        return not_found_subject(r, s);
    json_t *a = versions_of(sub);
    free(sub->name);
    free(sub->v);
    *sub = subjects[--nsubjects];
    reply(r, 200, a);
}

static void
add_type(json_t *o, const schema *sc)
{
    if (strcmp(sc->type, "AVRO") != 0)
        json_object_set_new(o, "schemaType", json_string(sc->type));
}

/* v: "latest", "-1" or a positive integer. */
static void
get_version(resp *r, const char *s, const char *v)
{
    long n = -1;
    if (strcmp(v, "latest") != 0 && strcmp(v, "-1") != 0) {
        char *end;
        errno = 0;
        n = strtol(v, &end, 10);
        if (v[0] < '1' || v[0] > '9' || *end != '\0' || errno != 0 || n > INT_MAX)
            return reply_error(r, 422, 42202,
                               "The specified version '%s' is not a valid version id. Allowed "
                               "values are between [1, 2^31-1] and the string \"latest\"",
                               v);
    }
    subject *sub = find_subject(s);
    if (sub == NULL)
        return not_found_subject(r, s);
    const version *ver = NULL;
    if (n == -1)
        ver = sub->nv ? &sub->v[sub->nv - 1] : NULL;
    for (size_t i = 0; n != -1 && i < sub->nv; i++)
        if (sub->v[i].version == n)
            ver = &sub->v[i];
    if (ver == NULL)
        return reply_error(r, 404, 40402, "Version %s not found.", v);
    const schema *sc = &schemas[ver->id - 1];
    json_t *o = json_pack("{s:s,s:i,s:I,s:s}", "subject", sub->name, "version", ver->version, "id",
                          (json_int_t)ver->id, "schema", sc->text);
    add_type(o, sc);
    reply(r, 200, o);
}

static void
get_schema_by_id(resp *r, const char *idtext)
{
    char *end;
    errno = 0;
    unsigned long long id = strtoull(idtext, &end, 10);
    if (idtext[0] < '0' || idtext[0] > '9' || *end != '\0' || errno != 0)
        return reply_error(r, 404, 404, "HTTP 404 Not Found");
    if (id == 0 || id > nschemas)
        return reply_error(r, 404, 40403, "Schema %s not found", idtext);
    const schema *sc = &schemas[id - 1];
    json_t *o = json_pack("{s:s}", "schema", sc->text);
    add_type(o, sc);
    reply(r, 200, o);
}

static void
register_schema(resp *r, const char *s, const char *body, size_t blen)
{
    json_t *req = json_loadb(body, blen, 0, NULL);
    json_t *js = json_is_object(req) ? json_object_get(req, "schema") : NULL;
    json_t *jt = json_is_object(req) ? json_object_get(req, "schemaType") : NULL;
    const char *type = "AVRO";
    if (json_is_string(jt))
        type = json_string_value(jt);
    if (!json_is_string(js) || (jt != NULL && !json_is_null(jt) && !json_is_string(jt)) ||
        (strcmp(type, "AVRO") != 0 && strcmp(type, "JSON") != 0)) {
        json_decref(req);
        return reply_error(r, 422, 42201,
                           "Either the input schema or one of its references is "
                           "invalid (the body must be {\"schema\": \"...\"} with "
                           "schemaType AVRO or JSON)");
    }
    json_t *parsed = json_loads(json_string_value(js), JSON_DECODE_ANY, NULL);
    char *text = parsed ? json_dumps(parsed, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(parsed);
    if (text == NULL) {
        json_decref(req);
        return reply_error(r, 422, 42201, "Invalid schema: the schema is not valid JSON");
    }
    uint32_t id = 0;
    for (size_t i = 0; i < nschemas && id == 0; i++)
        if (strcmp(schemas[i].text, text) == 0 && strcmp(schemas[i].type, type) == 0)
            id = (uint32_t)(i + 1);
    if (id == 0) {
        schemas = xrealloc(schemas, (nschemas + 1) * sizeof *schemas);
        schemas[nschemas].text = text;
        schemas[nschemas].type = xstrdup(type);
        text = NULL;
        id = (uint32_t)++nschemas;
    }
    free(text);
    json_decref(req);
    subject *sub = find_subject(s);
    if (sub == NULL) {
        subjects = xrealloc(subjects, (nsubjects + 1) * sizeof *subjects);
        sub = &subjects[nsubjects++];
        *sub = (subject){.name = xstrdup(s), .next = 1};
    }
    bool known = false;
    for (size_t i = 0; i < sub->nv; i++)
        known = known || sub->v[i].id == id;
    if (!known) {
        sub->v = xrealloc(sub->v, (sub->nv + 1) * sizeof *sub->v);
        sub->v[sub->nv++] = (version){.version = sub->next++, .id = id};
    }
    reply(r, 200, json_pack("{s:I}", "id", (json_int_t)id));
}

/* ------------------------------------------------------------------ requests */

typedef struct request {
    char method[16];
    char target[256];    /* as sent, cut, for the log */
    char *seg[MAX_SEGS]; /* decoded path segments, NUL-terminated, in the head buffer */
    int nseg;
    bool http10, close, keep_alive, expect_continue, authorized;
    size_t content_length;
} request;

/* Decodes %XX in place; refuses bad escapes, NUL and invalid UTF-8. */
static int
url_decode(char *s)
{
    char *o = s;
    for (const char *p = s; *p; p++) {
        if (*p != '%') {
            *o++ = *p;
            continue;
        }
        int hi = eng_hex_digit(p[1]), lo = hi < 0 ? -1 : eng_hex_digit(p[2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return -1;
        *o++ = (char)(hi << 4 | lo);
        p += 2;
    }
    *o = '\0';
    json_t *t = json_string(s);
    if (t == NULL)
        return -1;
    json_decref(t);
    return 0;
}

static bool
token_in(const char *value, const char *tok)
{
    size_t n = strlen(tok);
    for (const char *p = value; *p;) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, " \t,");
        if (len == n && strncasecmp(p, tok, n) == 0)
            return true;
        p += len;
    }
    return false;
}

static bool
check_auth(const char *value)
{
    if (strncasecmp(value, "Basic", 5) != 0 || (value[5] != ' ' && value[5] != '\t'))
        return false;
    value += 5 + strspn(value + 5, " \t");
    return strcmp(value, auth_expected) == 0;
}

/* Parses the head (lines ending in CRLF, NUL-terminated in place at the
 * blank line). Returns 0, or an HTTP status (400, 413) with *why set. */
static int
parse_head(char *head, request *q, const char **why)
{
    *q = (request){.authorized = auth_expected == NULL};
    for (const char *p = head; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if ((ch < 0x20 && ch != '\r' && ch != '\n' && ch != '\t') || ch == 0x7f) {
            *why = "control character in the request head";
            return 400;
        }
        if (ch == '\n' && (p == head || p[-1] != '\r')) {
            *why = "bare LF in the request head";
            return 400;
        }
    }
    char *line = head, *eol = strstr(line, "\r\n");
    *eol = '\0';
    char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' ') != NULL ||
        (size_t)(sp1 - line) >= sizeof q->method || sp1 == line) {
        *why = "malformed request line";
        return 400;
    }
    *sp1 = *sp2 = '\0';
    for (const char *m = line; *m; m++)
        if (*m < 'A' || *m > 'Z') {
            *why = "malformed method";
            return 400;
        }
    strcpy(q->method, line);
    if (strcmp(sp2 + 1, "HTTP/1.1") == 0)
        q->http10 = false;
    else if (strcmp(sp2 + 1, "HTTP/1.0") == 0)
        q->http10 = true;
    else {
        *why = "unsupported HTTP version";
        return 400;
    }
    char *target = sp1 + 1;
    if (target[0] != '/') {
        *why = "the target is not an absolute path";
        return 400;
    }
    snprintf(q->target, sizeof q->target, "%s", target);
    target[strcspn(target, "?#")] = '\0';

    bool have_length = false;
    for (line = eol + 2; *line; line = eol + 2) {
        eol = strstr(line, "\r\n");
        *eol = '\0';
        char *colon = strchr(line, ':');
        if (colon == NULL || colon == line || strcspn(line, " \t") < (size_t)(colon - line)) {
            *why = "malformed header line";
            return 400;
        }
        *colon = '\0';
        char *v = colon + 1;
        v += strspn(v, " \t");
        size_t vn = strlen(v);
        while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
            v[--vn] = '\0';
        if (strcasecmp(line, "Content-Length") == 0) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(v, &end, 10);
            if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 ||
                (have_length && n != q->content_length)) {
                *why = "malformed Content-Length";
                return 400;
            }
            if (n > MAX_BODY) {
                *why = "body too large";
                return 413;
            }
            q->content_length = (size_t)n;
            have_length = true;
        } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
            *why = "Transfer-Encoding is not supported (send Content-Length)";
            return 400;
        } else if (strcasecmp(line, "Connection") == 0) {
            q->close = q->close || token_in(v, "close");
            q->keep_alive = q->keep_alive || token_in(v, "keep-alive");
        } else if (strcasecmp(line, "Expect") == 0) {
            q->expect_continue = strcasecmp(v, "100-continue") == 0;
        } else if (strcasecmp(line, "Authorization") == 0 && auth_expected != NULL) {
            q->authorized = check_auth(v);
        }
    }
    if (q->http10 && !q->keep_alive)
        q->close = true;

    /* Split the path into decoded segments ("a//b" has an empty one, which
     * no route takes); a trailing slash is ignored. */
    char *p = target + 1;
    size_t tn = strlen(p);
    if (tn > 0 && p[tn - 1] == '/')
        p[tn - 1] = '\0';
    while (*p != '\0' || q->nseg > 0) {
        if (q->nseg == MAX_SEGS) {
            q->nseg = -1; /* deeper than any route */
            break;
        }
        char *slash = strchr(p, '/');
        if (slash != NULL)
            *slash = '\0';
        if (url_decode(p) != 0) {
            *why = "malformed percent-encoding in the path";
            return 400;
        }
        q->seg[q->nseg++] = p;
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    return 0;
}

static bool
is(const request *q, int i, const char *s)
{
    return i < q->nseg && strcmp(q->seg[i], s) == 0;
}

static void
route(const request *q, const char *body, resp *r)
{
    if (!q->authorized)
        return reply_error(r, 401, 401, "Unauthorized");
    bool get = strcmp(q->method, "GET") == 0, post = strcmp(q->method, "POST") == 0,
         del = strcmp(q->method, "DELETE") == 0;
    bool known = true, allowed = false;
    for (int i = 0; i < q->nseg; i++)
        if (q->seg[i][0] == '\0')
            known = false;
    pthread_mutex_lock(&mu);
    if (!known || q->nseg < 0) {
        known = false;
    } else if (q->nseg == 0) {
        if ((allowed = get))
            reply(r, 200, json_object());
    } else if (is(q, 0, "subjects") && q->nseg == 1) {
        if ((allowed = get))
            get_subjects(r);
    } else if (is(q, 0, "subjects") && q->nseg == 2) {
        if ((allowed = del))
            delete_subject(r, q->seg[1]);
    } else if (is(q, 0, "subjects") && is(q, 2, "versions") && q->nseg == 3) {
        if ((allowed = get))
            get_versions(r, q->seg[1]);
        else if ((allowed = post))
            register_schema(r, q->seg[1], body, q->content_length);
    } else if (is(q, 0, "subjects") && is(q, 2, "versions") && q->nseg == 4) {
        if ((allowed = get))
            get_version(r, q->seg[1], q->seg[3]);
    } else if (is(q, 0, "schemas") && is(q, 1, "ids") && q->nseg == 3) {
        if ((allowed = get))
            get_schema_by_id(r, q->seg[2]);
    } else {
        known = false;
    }
    pthread_mutex_unlock(&mu);
    if (!known)
        reply_error(r, 404, 404, "HTTP 404 Not Found");
    else if (!allowed)
        reply_error(r, 405, 405, "HTTP 405 Method Not Allowed");
}

/* ------------------------------------------------------------------ connections */

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

typedef struct conn {
    int fd;
    char *buf;
    size_t len, cap;
} conn;

/* Reads more bytes into c->buf, up to want in total. Returns the bytes
 * read, 0 at EOF, -1 on error. */
static ssize_t
fill(conn *c, size_t want)
{
    if (want + 1 > c->cap) {
        c->cap = want + 1;
        c->buf = xrealloc(c->buf, c->cap);
    }
    ssize_t n;
    do
        n = recv(c->fd, c->buf + c->len, want - c->len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        c->len += (size_t)n;
    return n;
}

static void
bad_request(conn *c, int status, const char *why)
{
    resp r = {.close = true};
    if (verbose)
        fprintf(stderr, "sluice-csr-fixture: fd %d: %d %s\n", c->fd, status, why);
    reply_error(&r, status, status, "%s", why);
    send_resp(c->fd, &r);
    free(r.body);
}

static void *
conn_main(void *arg)
{
    conn c = {.fd = (int)(intptr_t)arg};
    for (;;) {
        /* The head: up to the blank line. */
        char *end;
        while (c.buf == NULL || (c.buf[c.len] = '\0', end = strstr(c.buf, "\r\n\r\n")) == NULL) {
            if (c.len >= MAX_HEAD) {
                bad_request(&c, 431, "request head larger than 64 KiB");
                goto out;
            }
            /* A NUL among the bytes would hide the blank line from strstr. */
            if (c.buf != NULL && memchr(c.buf, '\0', c.len) != NULL) {
                bad_request(&c, 400, "NUL byte in the request head");
                goto out;
            }
            size_t want = c.len + 4096 > MAX_HEAD ? MAX_HEAD : c.len + 4096;
            if (fill(&c, want) <= 0)
                goto out;
        }
        size_t head_len = (size_t)(end - c.buf) + 4;
        end[2] = '\0'; /* keep the last header's CRLF */
        request q;
        const char *why = NULL;
        int st = parse_head(c.buf, &q, &why);
        if (st != 0) {
            bad_request(&c, st, why);
            goto out;
        }
        if (q.expect_continue && c.len < head_len + q.content_length &&
            send_all(c.fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0)
            goto out;
        /* The body, after the head in c.buf. The path segments point into
         * the buffer: rebase them if it moves. */
        size_t total = head_len + q.content_length;
        if (total + 1 > c.cap) {
            size_t off[MAX_SEGS];
            for (int i = 0; i < q.nseg; i++)
                off[i] = (size_t)(q.seg[i] - c.buf);
            c.cap = total + 1;
            c.buf = xrealloc(c.buf, c.cap);
            for (int i = 0; i < q.nseg; i++)
                q.seg[i] = c.buf + off[i];
        }
        while (c.len < total)
            if (fill(&c, total) <= 0)
                goto out;
        char saved = c.buf[total];
        c.buf[total] = '\0';
        resp r = {.close = q.close};
        if (unavailable_file != NULL && strcmp(q.method, "GET") == 0 &&
            access(unavailable_file, F_OK) == 0)
            reply_error(&r, 503, 50301, "not serving reads while %s exists", unavailable_file);
        else
            route(&q, c.buf + head_len, &r);
        c.buf[total] = saved;
        if (verbose)
            fprintf(stderr, "sluice-csr-fixture: fd %d: %s %s -> %d\n", c.fd, q.method, q.target,
                    r.status);
        if (delay_ms > 0)
            sleep_ms(delay_ms);
        int sent = send_resp(c.fd, &r);
        free(r.body);
        if (sent != 0 || r.close)
            goto out;
        memmove(c.buf, c.buf + total, c.len - total);
        c.len -= total;
    }
out:
    close(c.fd);
    free(c.buf);
    atomic_fetch_sub(&nconns, 1);
    return NULL;
}

static void
usage(void)
{
    fprintf(stderr, "usage: sluice-csr-fixture [--port N] [--user U --password P] "
                    "[--delay-ms N] [--unavailable-while FILE] [--verbose]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    long port = 0;
    const char *user = NULL, *password = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--verbose") == 0) {
            verbose = true;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        char *end;
        if (strcmp(a, "--port") == 0) {
            port = strtol(v, &end, 10);
            if (*end != '\0' || port < 0 || port > 65535)
                usage();
        } else if (strcmp(a, "--delay-ms") == 0) {
            long d = strtol(v, &end, 10);
            if (*end != '\0' || d < 0 || d > 600000)
                usage();
            delay_ms = (int)d;
        } else if (strcmp(a, "--unavailable-while") == 0) {
            unavailable_file = v;
        } else if (strcmp(a, "--user") == 0) {
            user = v;
        } else if (strcmp(a, "--password") == 0) {
            password = v;
        } else {
            usage();
        }
    }
    if (password != NULL && user == NULL)
        usage();
    if (user != NULL) {
        size_t n = strlen(user) + strlen(password ? password : "") + 2;
        char *up = xrealloc(NULL, n);
        snprintf(up, n, "%s:%s", user, password ? password : "");
        auth_expected = base64(up);
        free(up);
    }
    json_object_seed(1); /* before any thread: jansson seeds its hash once */

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 128) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
        fprintf(stderr, "sluice-csr-fixture: cannot listen on 127.0.0.1:%ld: %s\n", port,
                strerror(errno));
        return 1;
    }

    struct sigaction act = {.sa_handler = on_signal}; /* no SA_RESTART: poll returns EINTR */
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGTERM, &act, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);

    printf("http://127.0.0.1:%d\n", ntohs(sa.sin_port));
    fflush(stdout);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1024 * 1024); /* jansson recurses per nesting level */
    while (!stop) {
        struct pollfd pfd = {.fd = lfd, .events = POLLIN};
        /* The timeout covers a signal that lands between the check and poll. */
        if (poll(&pfd, 1, 200) <= 0)
            continue;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        if (atomic_fetch_add(&nconns, 1) >= MAX_CONNS) {
            atomic_fetch_sub(&nconns, 1);
            close(fd);
            continue;
        }
        pthread_t t;
        /* Connection threads never take the signals: the main thread's
         * poll is the one to be interrupted. */
        pthread_sigmask(SIG_BLOCK, &block, &old);
        int rc = pthread_create(&t, &attr, conn_main, (void *)(intptr_t)fd);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0) {
            atomic_fetch_sub(&nconns, 1);
            close(fd);
        }
    }
    close(lfd);
    /* Connection threads may still be running: exit without tearing down
     * the registry they use. */
    fflush(stderr);
    _exit(0);
}
