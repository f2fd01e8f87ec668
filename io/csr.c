/* Confluent Schema Registry client over libcurl (see io_csr.h).
 *
 * Notes: one easy handle per client, created at the first request and kept
 * (libcurl keeps the connection alive inside it); the options that do not
 * change are set once. The response body is collected in a buffer that
 * refuses to grow past IO_CSR_MAX_RESPONSE (the write callback returns a
 * short count and libcurl aborts the transfer). Every message goes through
 * fail(), which masks the password (the configured one and one embedded
 * in the URL) wherever it appears, in case a registry echoes it back. */
#include "io/io_csr.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/core/eng_strbuf.h"

#define DEFAULT_TIMEOUT_MS 10000
/* Longest piece of a registry's own message quoted in an error. */
#define QUOTE_MAX 240
/* A response buffer larger than this is freed after its request. */
#define KEEP_BUF_MAX (1u << 20)

struct io_csr {
    char *base;         /* the URL without trailing slashes */
    char *shown;        /* base without the userinfo password, for messages */
    char *url_password; /* the password inside the URL, NULL if none */
    bool url_user;      /* the URL has userinfo (credentials) */
    char *user, *password, *ca_pem;
    int timeout_ms;
    CURL *curl; /* NULL until the first request */
    struct curl_slist *hdr_get, *hdr_post;
    char *resp; /* the response body, NUL-terminated after a transfer */
    size_t resp_len, resp_cap;
    bool resp_too_big, resp_oom;
    char cerr[CURL_ERROR_SIZE];
};

/* One request: what the error messages name. */
typedef struct req {
    const char *method; /* "GET" or "POST" */
    const char *path;   /* URL-encoded, starts with '/' */
    const char *body;   /* POST body, NULL for GET */
    const char *subject;
    bool has_id;
    uint32_t id;
} req;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void
global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Overwrites every occurrence of secret in msg with '*'. Secrets shorter
 * than 4 bytes are left alone: masking them would garble the message
 * while hiding next to nothing. */
static void
mask(char *msg, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    if (n < 4)
        return;
    for (char *p = strstr(msg, secret); p != NULL; p = strstr(p + n, secret))
        memset(p, '*', n);
}

static int fail(const io_csr *c, eng_err *err, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(const io_csr *c, eng_err *err, const char *sqlstate, const char *fmt, ...)
{
    char msg[ENG_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c != NULL) {
        mask(msg, c->password);
        mask(msg, c->url_password);
    }
    return eng_err_set(err, sqlstate, "%s", msg);
}

/* Copies untrusted text into dst for quoting: control characters become
 * '?', and a cut never splits a UTF-8 sequence. */
static void
quote(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    for (; src[n] != '\0' && n + 1 < cap; n++) {
        unsigned char ch = (unsigned char)src[n];
        dst[n] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    /* Cut before a continuation byte: drop the partial sequence. */
    if (src[n] != '\0')
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
            n--;
    dst[n] = '\0';
}

/* Splits url into the base (trailing slashes dropped), the URL shown in
 * messages (userinfo without its password) and the URL's password. */
static void
split_url(io_csr *c, const char *url)
{
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    c->base = strndup(url, n);
    ENG_ASSERT(c->base != NULL);
    c->shown = eng_strdup(c->base);
    const char *auth = strstr(c->base, "://");
    if (auth == NULL)
        return;
    auth += 3;
    size_t alen = strcspn(auth, "/");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            at = auth + i;
    if (at == NULL)
        return;
    c->url_user = true;
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    if (colon == NULL)
        return;
    c->url_password = strndup(colon + 1, (size_t)(at - colon - 1));
    ENG_ASSERT(c->url_password != NULL);
    /* shown = everything up to the colon, then from the '@' on. */
    size_t head = (size_t)(colon - c->base);
    memmove(c->shown + head, c->shown + (at - c->base), strlen(at) + 1);
}

io_csr *
io_csr_open(const io_csr_conf *conf, eng_err *err)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        fail(NULL, err, ENG_ERRCODE_OUT_OF_MEMORY, "cannot initialise libcurl: %s",
             curl_easy_strerror(global_rc));
        return NULL;
    }
    if (conf->url == NULL || conf->url[0] == '\0') {
        fail(NULL, err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "the schema registry URL is empty");
        return NULL;
    }
    io_csr *c = calloc(1, sizeof *c);
    ENG_ASSERT(c != NULL);
    c->user = eng_strdup(conf->user);
    c->password = eng_strdup(conf->password);
    c->ca_pem = eng_strdup(conf->ca_pem);
    c->timeout_ms = conf->timeout_ms == 0 ? DEFAULT_TIMEOUT_MS : conf->timeout_ms;
    split_url(c, conf->url);

    const char *u = c->base;
    bool scheme = strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
    const char *host = scheme ? strstr(u, "://") + 3 : u;
    const char *at = memchr(host, '@', strcspn(host, "/"));
    if (at != NULL)
        host = at + 1;
    bool bad_char = false;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '?' || *p == '#')
            bad_char = true;
    if (!scheme || bad_char || host[0] == '\0' || host[0] == '/' || host[0] == ':') {
        char q[QUOTE_MAX];
        quote(q, sizeof q, c->shown);
        fail(c, err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
             "invalid schema registry URL \"%s\": it must be http[s]://host[:port][/path], "
             "with no spaces, query or fragment",
             q);
        io_csr_close(c);
        return NULL;
    }
    if (conf->timeout_ms < 0) {
        fail(c, err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
             "invalid schema registry timeout %d ms for %s", conf->timeout_ms, c->shown);
        io_csr_close(c);
        return NULL;
    }
    return c;
}

void
io_csr_close(io_csr *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->hdr_get);
    curl_slist_free_all(c->hdr_post);
    free(c->resp);
    free(c->base);
    free(c->shown);
    if (c->url_password != NULL)
        explicit_bzero(c->url_password, strlen(c->url_password));
    if (c->password != NULL)
        explicit_bzero(c->password, strlen(c->password));
    free(c->url_password);
    free(c->user);
    free(c->password);
    free(c->ca_pem);
    free(c);
}

/* libcurl's write callback: appends to the response buffer, refusing to
 * go past IO_CSR_MAX_RESPONSE (a short count aborts the transfer). */
static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
    io_csr *c = arg;
    size_t n = size * nmemb;
    if (n > IO_CSR_MAX_RESPONSE - c->resp_len) {
        c->resp_too_big = true;
        return 0;
    }
    if (c->resp_len + n + 1 > c->resp_cap) {
        size_t cap = c->resp_cap ? c->resp_cap : 4096;
        while (cap < c->resp_len + n + 1)
            cap *= 2;
        char *b = realloc(c->resp, cap);
        if (b == NULL) {
            c->resp_oom = true;
            return 0;
        }
        c->resp = b;
        c->resp_cap = cap;
    }
    memcpy(c->resp + c->resp_len, p, n);
    c->resp_len += n;
    return n;
}

/* Appends header h to *l; false when out of memory (*l is kept). */
static bool
add_header(struct curl_slist **l, const char *h)
{
    struct curl_slist *n = curl_slist_append(*l, h);
    if (n == NULL)
        return false;
    *l = n;
    return true;
}

/* Creates the easy handle and sets the options every request shares. */
static int
ensure_handle(io_csr *c, eng_err *err)
{
    if (c->curl != NULL)
        return 0;
    CURL *h = curl_easy_init();
    if (h == NULL)
        return fail(c, err, ENG_ERRCODE_OUT_OF_MEMORY, "cannot create a libcurl handle");
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(h, opt, val);                                                    \
    } while (0)
    SET(CURLOPT_NOSIGNAL, 1L); /* timeouts without SIGALRM: we are one thread of many */
    SET(CURLOPT_ERRORBUFFER, c->cerr);
    SET(CURLOPT_WRITEFUNCTION, on_data);
    SET(CURLOPT_WRITEDATA, c);
    SET(CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PATH_AS_IS, 1L); /* a subject "..": its segment is not squashed */
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_USERAGENT, "sluice");
    if (c->user != NULL) {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        SET(CURLOPT_USERNAME, c->user);
        SET(CURLOPT_PASSWORD, c->password ? c->password : "");
    }
    if (c->ca_pem != NULL) {
        struct curl_blob blob = {c->ca_pem, strlen(c->ca_pem), CURL_BLOB_COPY};
        SET(CURLOPT_CAINFO_BLOB, &blob);
    }
#undef SET
    const char *accept = "Accept: application/vnd.schemaregistry.v1+json, "
                         "application/vnd.schemaregistry+json, application/json";
    struct curl_slist *g = NULL, *p = NULL;
    bool hdr_ok = add_header(&g, accept) && add_header(&p, accept) &&
                  add_header(&p, "Content-Type: application/vnd.schemaregistry.v1+json") &&
                  /* no "Expect: 100-continue" round trip before large bodies */
                  add_header(&p, "Expect:");
    if (rc != CURLE_OK || !hdr_ok) {
        curl_slist_free_all(g);
        curl_slist_free_all(p);
        curl_easy_cleanup(h);
        if (rc == CURLE_OK || rc == CURLE_OUT_OF_MEMORY)
            return fail(c, err, ENG_ERRCODE_OUT_OF_MEMORY, "cannot set up a libcurl handle");
        return fail(c, err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                    "cannot configure the schema registry client for %s: %s", c->shown,
                    curl_easy_strerror(rc));
    }
    c->curl = h;
    c->hdr_get = g;
    c->hdr_post = p;
    return 0;
}

/* The error for a transfer that did not complete. */
static int
transfer_error(io_csr *c, const req *r, CURLcode rc, eng_err *err)
{
    const char *why = c->cerr[0] ? c->cerr : curl_easy_strerror(rc);
    char q[QUOTE_MAX];
    quote(q, sizeof q, why);
    if (c->resp_too_big)
        return fail(c, err, ENG_ERRCODE_PROTOCOL_VIOLATION,
                    "the schema registry at %s answered %s %s with more than %u bytes", c->shown,
                    r->method, r->path, IO_CSR_MAX_RESPONSE);
    if (c->resp_oom || rc == CURLE_OUT_OF_MEMORY)
        return fail(c, err, ENG_ERRCODE_OUT_OF_MEMORY,
                    "out of memory reading the schema registry's answer to %s %s", r->method,
                    r->path);
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return fail(c, err, ENG_ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
                    "the schema registry at %s did not answer %s %s within %d ms", c->shown,
                    r->method, r->path, c->timeout_ms);
    case CURLE_URL_MALFORMAT:
        return fail(c, err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                    "invalid schema registry URL \"%s\": %s", c->shown, q);
    case CURLE_UNSUPPORTED_PROTOCOL: /* the scheme was checked at open: an HTTP/0.9 answer */
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
        return fail(c, err, ENG_ERRCODE_PROTOCOL_VIOLATION,
                    "the schema registry at %s answered %s %s with something that is not HTTP: %s",
                    c->shown, r->method, r->path, q);
    default:
        return fail(c, err, ENG_ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
                    "cannot reach the schema registry at %s: %s", c->shown, q);
    }
}

/* The error for an HTTP status other than 2xx, from the registry's
 * {"error_code": N, "message": "..."} when it sent one. */
static int
status_error(io_csr *c, const req *r, long status, eng_err *err)
{
    json_t *j = c->resp_len ? json_loadb(c->resp, c->resp_len, 0, NULL) : NULL;
    json_t *jc = json_is_object(j) ? json_object_get(j, "error_code") : NULL;
    json_t *jm = json_is_object(j) ? json_object_get(j, "message") : NULL;
    long long code = json_is_integer(jc) ? json_integer_value(jc) : 0;
    char msg[QUOTE_MAX] = "";
    if (json_is_string(jm))
        quote(msg, sizeof msg, json_string_value(jm));
    json_decref(j);

    if (status == 401 || status == 403) {
        if (c->user == NULL && !c->url_user)
            return fail(c, err, ENG_ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
                        "schema registry at %s requires credentials (HTTP %ld)", c->shown, status);
        return fail(c, err, ENG_ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
                    "schema registry at %s refused the credentials (HTTP %ld)", c->shown, status);
    }
    if (r->subject != NULL && (code == 40401 || code == 40402))
        return fail(c, err, ENG_ERRCODE_UNDEFINED_OBJECT,
                    "subject \"%s\" not found in the schema registry at %s", r->subject, c->shown);
    if (r->has_id && code == 40403)
        return fail(c, err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                    "schema id %" PRIu32 " not found in the schema registry at %s", r->id,
                    c->shown);
    if (r->body != NULL && code == 42201)
        return fail(c, err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                    "the schema registry at %s rejected the schema for subject \"%s\": %s",
                    c->shown, r->subject, msg[0] ? msg : "invalid schema");
    char codes[40] = "";
    if (code != 0)
        snprintf(codes, sizeof codes, " (error code %lld)", code);
    fail(c, err, ENG_ERRCODE_SYSTEM_ERROR,
         "the schema registry at %s answered HTTP %ld to %s %s%s%s%s", c->shown, status, r->method,
         r->path, msg[0] ? ": " : "", msg, codes);
    if (status == 404 && (code == 0 || code == 404)) /* no registry's "not found" */
        eng_err_hint(err, "Is %s the URL of a Confluent-compatible schema registry?", c->shown);
    return -1;
}

/* Performs r and, on a 2xx status, parses the body into *out (new; the
 * caller decrefs). Returns 0, or -1 with err set. Blocks up to the
 * timeout. */
static int
request(io_csr *c, const req *r, json_t **out, eng_err *err)
{
    if (ensure_handle(c, err) != 0)
        return -1;
    size_t n = strlen(c->base) + strlen(r->path) + 1;
    char *url = malloc(n);
    ENG_ASSERT(url != NULL);
    snprintf(url, n, "%s%s", c->base, r->path);
    CURLcode rc = curl_easy_setopt(c->curl, CURLOPT_URL, url);
    if (rc == CURLE_OK && r->body != NULL) {
        rc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(r->body));
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, r->body);
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->hdr_post);
    } else if (rc == CURLE_OK) {
        rc = curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->hdr_get);
    }
    c->resp_len = 0;
    c->resp_too_big = c->resp_oom = false;
    c->cerr[0] = '\0';
    if (rc == CURLE_OK)
        rc = curl_easy_perform(c->curl);
    free(url);
    /* POSTFIELDS is borrowed: drop it before r->body goes away. */
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);

    int ret = -1;
    long status = 0;
    if (rc != CURLE_OK) {
        transfer_error(c, r, rc, err);
        goto out;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        status_error(c, r, status, err);
        goto out;
    }
    json_error_t je;
    *out = json_loadb(c->resp ? c->resp : "", c->resp_len, 0, &je);
    if (*out == NULL) {
        char q[QUOTE_MAX];
        quote(q, sizeof q, je.text);
        fail(c, err, ENG_ERRCODE_PROTOCOL_VIOLATION,
             "the schema registry at %s answered %s %s with something that is not JSON: %s",
             c->shown, r->method, r->path, q);
        goto out;
    }
    ret = 0;
out:
    if (c->resp_cap > KEEP_BUF_MAX) {
        free(c->resp);
        c->resp = NULL;
        c->resp_cap = 0;
    }
    c->resp_len = 0;
    return ret;
}

static int
unexpected(io_csr *c, const req *r, const char *what, eng_err *err)
{
    return fail(c, err, ENG_ERRCODE_PROTOCOL_VIOLATION,
                "unexpected answer from the schema registry at %s to %s %s: %s", c->shown,
                r->method, r->path, what);
}

/* Reads an id field: an integer in 0..2^32-1. */
static int
get_id(io_csr *c, const req *r, json_t *o, uint32_t *id, eng_err *err)
{
    json_t *j = json_object_get(o, "id");
    if (!json_is_integer(j) || json_integer_value(j) < 0 ||
        json_integer_value(j) > (json_int_t)UINT32_MAX)
        return unexpected(c, r, "no integer \"id\"", err);
    *id = (uint32_t)json_integer_value(j);
    return 0;
}

/* Reads the "schema" string of o (refusing schema types other than Avro)
 * into *schema (new). what names the schema in messages. */
static int
get_schema(io_csr *c, const req *r, json_t *o, const char *what, char **schema, eng_err *err)
{
    json_t *j = json_object_get(o, "schema");
    if (!json_is_string(j))
        return unexpected(c, r, "no string \"schema\"", err);
    if (strlen(json_string_value(j)) != json_string_length(j))
        return unexpected(c, r, "a NUL character inside \"schema\"", err);
    json_t *t = json_object_get(o, "schemaType");
    if (t != NULL && !json_is_null(t) &&
        (!json_is_string(t) || strcmp(json_string_value(t), "AVRO") != 0)) {
        char q[64];
        quote(q, sizeof q, json_is_string(t) ? json_string_value(t) : "?");
        return fail(c, err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                    "%s in the schema registry at %s is a %s schema; only Avro is supported", what,
                    c->shown, q);
    }
    *schema = eng_strdup(json_string_value(j));
    return 0;
}

/* "/subjects/<subject, URL-encoded><suffix>" (new), or NULL with err set. */
static char *
subject_path(io_csr *c, const char *subject, const char *suffix, eng_err *err)
{
    if (subject == NULL || subject[0] == '\0') {
        fail(c, err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "empty schema registry subject name");
        return NULL;
    }
    if (ensure_handle(c, err) != 0)
        return NULL;
    /* curl_easy_escape leaves '.' as is: "." and ".." would read as dot
     * segments to a server that normalises the path. */
    const char *dots = strcmp(subject, ".") == 0    ? "%2E"
                       : strcmp(subject, "..") == 0 ? "%2E%2E"
                                                    : NULL;
    char *e = dots ? NULL : curl_easy_escape(c->curl, subject, 0);
    if (dots == NULL && e == NULL) {
        fail(c, err, ENG_ERRCODE_OUT_OF_MEMORY, "cannot URL-encode subject \"%s\"", subject);
        return NULL;
    }
    const char *enc = dots ? dots : e;
    size_t n = strlen("/subjects/") + strlen(enc) + strlen(suffix) + 1;
    char *p = malloc(n);
    ENG_ASSERT(p != NULL);
    snprintf(p, n, "/subjects/%s%s", enc, suffix);
    curl_free(e);
    return p;
}

int
io_csr_check(io_csr *c, eng_err *err)
{
    req r = {.method = "GET", .path = "/subjects"};
    json_t *j = NULL;
    if (request(c, &r, &j, err) != 0)
        return -1;
    int rc = json_is_array(j) ? 0 : unexpected(c, &r, "not a JSON array of subjects", err);
    json_decref(j);
    return rc;
}

int
io_csr_schema_by_id(io_csr *c, uint32_t id, char **schema, eng_err *err)
{
    char path[64];
    snprintf(path, sizeof path, "/schemas/ids/%" PRIu32, id);
    req r = {.method = "GET", .path = path, .has_id = true, .id = id};
    json_t *j = NULL;
    if (request(c, &r, &j, err) != 0)
        return -1;
    char what[48];
    snprintf(what, sizeof what, "schema id %" PRIu32, id);
    int rc = json_is_object(j) ? get_schema(c, &r, j, what, schema, err)
                               : unexpected(c, &r, "not a JSON object", err);
    json_decref(j);
    return rc;
}

int
io_csr_latest(io_csr *c, const char *subject, uint32_t *id, char **schema, eng_err *err)
{
    char *path = subject_path(c, subject, "/versions/latest", err);
    if (path == NULL)
        return -1;
    req r = {.method = "GET", .path = path, .subject = subject};
    json_t *j = NULL;
    int rc = request(c, &r, &j, err);
    if (rc == 0 && !json_is_object(j))
        rc = unexpected(c, &r, "not a JSON object", err);
    uint32_t got = 0;
    if (rc == 0)
        rc = get_id(c, &r, j, &got, err);
    if (rc == 0) {
        char what[ENG_ERR_MSG_MAX / 2];
        snprintf(what, sizeof what, "the latest schema of subject \"%s\" (id %" PRIu32 ")", subject,
                 got);
        rc = get_schema(c, &r, j, what, schema, err);
    }
    if (rc == 0)
        *id = got;
    json_decref(j);
    free(path);
    return rc;
}

int
io_csr_register(io_csr *c, const char *subject, const char *schema, uint32_t *id, eng_err *err)
{
    json_t *s = json_string(schema);
    if (s == NULL)
        return fail(c, err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                    "the schema to register under subject \"%s\" is not valid UTF-8", subject);
    json_t *o = json_object();
    ENG_ASSERT(o != NULL);
    int set = json_object_set_new(o, "schema", s);
    ENG_ASSERT(set == 0);
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    ENG_ASSERT(body != NULL);
    char *path = subject_path(c, subject, "/versions", err);
    if (path == NULL) {
        free(body);
        return -1;
    }
    req r = {.method = "POST", .path = path, .body = body, .subject = subject};
    json_t *j = NULL;
    int rc = request(c, &r, &j, err);
    if (rc == 0 && !json_is_object(j))
        rc = unexpected(c, &r, "not a JSON object", err);
    if (rc == 0)
        rc = get_id(c, &r, j, id, err);
    json_decref(j);
    free(path);
    free(body);
    return rc;
}
