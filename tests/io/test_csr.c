/* The schema registry client (io_csr) against sluice-csr-fixture, started
 * as a child process, and against a canned HTTP server in a thread for the
 * answers a real registry would not give: register / latest / by id
 * round trips, one id for one schema across subjects, evolution, each
 * error class with its SQLSTATE and message (unknown subject and id,
 * credentials, connection refused, timeout, not JSON, too large, not
 * Avro, other statuses), the password kept out of messages, URLs with
 * trailing slashes, subjects that need URL encoding, keep-alive,
 * concurrent clients; and the fixture itself against malformed
 * requests. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "io/io_csr.h"

static const char *const SCHEMA_V1 =
    "{\"type\": \"record\", \"name\": \"t\", \"fields\": [{\"name\": \"id\", \"type\": \"int\"}]}";
/* V1 with a field added with a default: a compatible evolution. */
static const char *const SCHEMA_V2 =
    "{\"type\":\"record\",\"name\":\"t\",\"fields\":[{\"name\":\"id\",\"type\":\"int\"},"
    "{\"name\":\"note\",\"type\":[\"null\",\"string\"],\"default\":null}]}";

/* ------------------------------------------------------------------ the fixture process */

typedef struct fixture {
    pid_t pid;
    char url[128];
} fixture;

/* Starts sluice-csr-fixture with the given extra arguments (NULL-ended)
 * and reads the URL it prints. */
static void
fx_start(fixture *f, ...)
{
    const char *argv[16] = {SLUICE_CSR_FIXTURE};
    int argc = 1;
    va_list ap;
    va_start(ap, f);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 15;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t parent = getpid();
    f->pid = fork();
    assert_true(f->pid >= 0);
    if (f->pid == 0) {
        /* Dies with the test, even when a failed assertion skips fx_stop. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execv(SLUICE_CSR_FIXTURE, (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    FILE *in = fdopen(p[0], "r");
    assert_non_null(in);
    if (fgets(f->url, sizeof f->url, in) == NULL)
        fail_msg("%s printed no URL", SLUICE_CSR_FIXTURE);
    fclose(in);
    f->url[strcspn(f->url, "\n")] = '\0';
    assert_true(strncmp(f->url, "http://127.0.0.1:", 17) == 0);
}

static void
fx_stop(fixture *f)
{
    int st = 0;
    assert_int_equal(kill(f->pid, SIGTERM), 0);
    assert_int_equal(waitpid(f->pid, &st, 0), f->pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static fixture fx; /* the plain fixture every test may use */

static int
group_setup(void **state)
{
    (void)state;
    fx_start(&fx, (const char *)NULL);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    fx_stop(&fx);
    return 0;
}

/* ------------------------------------------------------------------ helpers */

static io_csr *
open_url(const char *url, const char *user, const char *password, int timeout_ms)
{
    io_csr_conf conf = {.url = url, .user = user, .password = password, .timeout_ms = timeout_ms};
    eng_err err;
    eng_err_clear(&err);
    io_csr *c = io_csr_open(&conf, &err);
    if (c == NULL)
        fail_msg("io_csr_open(%s): %s %s", url, err.sqlstate, err.message);
    return c;
}

/* Asserts err is state with sub in its message (and not secret). */
static void
expect_err(const eng_err *err, const char *state, const char *sub, const char *secret)
{
    if (strcmp(err->sqlstate, state) != 0 || strstr(err->message, sub) == NULL)
        fail_msg("expected %s with \"%s\", got %s \"%s\"", state, sub, err->sqlstate, err->message);
    if (secret != NULL &&
        (strstr(err->message, secret) || strstr(err->detail, secret) || strstr(err->hint, secret)))
        fail_msg("the password leaked: %s \"%s\"", err->sqlstate, err->message);
}

static void
ok(int rc, const eng_err *err)
{
    if (rc != 0)
        fail_msg("unexpected error %s: %s", err->sqlstate, err->message);
}

/* Asserts that two schemas are the same JSON. */
static void
same_json(const char *a, const char *b)
{
    json_t *ja = json_loads(a, JSON_DECODE_ANY, NULL), *jb = json_loads(b, JSON_DECODE_ANY, NULL);
    if (ja == NULL || jb == NULL || !json_equal(ja, jb))
        fail_msg("different schemas:\n  %s\n  %s", a, b);
    json_decref(ja);
    json_decref(jb);
}

static uint32_t
reg(io_csr *c, const char *subject, const char *schema)
{
    eng_err err;
    eng_err_clear(&err);
    uint32_t id = 0;
    ok(io_csr_register(c, subject, schema, &id, &err), &err);
    return id;
}

static void
expect_latest(io_csr *c, const char *subject, uint32_t id, const char *schema)
{
    eng_err err;
    eng_err_clear(&err);
    uint32_t got = 0;
    char *s = NULL;
    ok(io_csr_latest(c, subject, &got, &s, &err), &err);
    assert_int_equal(got, id);
    same_json(s, schema);
    free(s);
}

static void
expect_by_id(io_csr *c, uint32_t id, const char *schema)
{
    eng_err err;
    eng_err_clear(&err);
    char *s = NULL;
    ok(io_csr_schema_by_id(c, id, &s, &err), &err);
    same_json(s, schema);
    free(s);
}

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------ round trips */

static void
test_round_trip(void **state)
{
    (void)state;
    io_csr *c = open_url(fx.url, NULL, NULL, 0);
    eng_err err;
    eng_err_clear(&err);
    ok(io_csr_check(c, &err), &err);
    uint32_t id = reg(c, "rt-value", SCHEMA_V1);
    assert_true(id >= 1);
    expect_latest(c, "rt-value", id, SCHEMA_V1);
    expect_by_id(c, id, SCHEMA_V1);
    /* A primitive schema is JSON too (a string). */
    uint32_t sid = reg(c, "rt-key", "\"string\"");
    assert_true(sid != id);
    expect_latest(c, "rt-key", sid, "\"string\"");
    io_csr_close(c);
}

static void
test_same_schema_same_id(void **state)
{
    (void)state;
    io_csr *c = open_url(fx.url, NULL, NULL, 0);
    uint32_t a = reg(c, "same-a-value", SCHEMA_V1);
    /* The same schema with other whitespace, under another subject. */
    char compact[512];
    json_t *j = json_loads(SCHEMA_V1, 0, NULL);
    char *d = json_dumps(j, JSON_COMPACT);
    snprintf(compact, sizeof compact, "%s", d);
    free(d);
    json_decref(j);
    assert_int_equal(reg(c, "same-b-value", compact), a);
    /* Re-registering a schema the subject has adds no version: after V2,
     * registering V1 again returns V1's id and V2 stays the latest. */
    uint32_t b = reg(c, "same-a-value", SCHEMA_V2);
    assert_true(b != a);
    assert_int_equal(reg(c, "same-a-value", SCHEMA_V1), a);
    expect_latest(c, "same-a-value", b, SCHEMA_V2);
    expect_latest(c, "same-b-value", a, SCHEMA_V1);
    io_csr_close(c);
}

static void
test_evolution(void **state)
{
    (void)state;
    io_csr *c = open_url(fx.url, NULL, NULL, 0);
    const char *v3 = "{\"type\":\"record\",\"name\":\"evo\",\"fields\":[{\"name\":\"x\","
                     "\"type\":\"long\"}]}";
    const char *v4 = "{\"type\":\"record\",\"name\":\"evo\",\"fields\":[{\"name\":\"x\","
                     "\"type\":\"long\"},{\"name\":\"y\",\"type\":\"string\",\"default\":\"\"}]}";
    uint32_t a = reg(c, "evo-value", v3);
    expect_latest(c, "evo-value", a, v3);
    uint32_t b = reg(c, "evo-value", v4);
    assert_true(b > a);
    expect_latest(c, "evo-value", b, v4);
    expect_by_id(c, a, v3); /* old ids stay readable */
    expect_by_id(c, b, v4);
    io_csr_close(c);
}

/* ------------------------------------------------------------------ errors from the registry */

static void
test_unknown_subject_and_id(void **state)
{
    (void)state;
    io_csr *c = open_url(fx.url, NULL, NULL, 0);
    eng_err err;
    eng_err_clear(&err);
    uint32_t id = 7;
    char *s = NULL;
    assert_int_equal(io_csr_latest(c, "t-value", &id, &s, &err), -1);
    char want[256];
    snprintf(want, sizeof want, "subject \"t-value\" not found in the schema registry at %s",
             fx.url);
    expect_err(&err, "42704", want, NULL);
    assert_int_equal(id, 7);
    assert_null(s);

    eng_err_clear(&err);
    assert_int_equal(io_csr_schema_by_id(c, 987654, &s, &err), -1);
    snprintf(want, sizeof want, "schema id 987654 not found in the schema registry at %s", fx.url);
    expect_err(&err, "22023", want, NULL);
    assert_null(s);

    /* The client still works on the same connection after errors. */
    uint32_t a = reg(c, "after-errors-value", SCHEMA_V1);
    expect_latest(c, "after-errors-value", a, SCHEMA_V1);

    /* A registry rejects a schema that is not JSON. */
    eng_err_clear(&err);
    assert_int_equal(io_csr_register(c, "bad-value", "{not json", &id, &err), -1);
    expect_err(&err, "22023", "rejected the schema for subject \"bad-value\"", NULL);
    eng_err_clear(&err);
    assert_int_equal(io_csr_latest(c, "", &id, &s, &err), -1);
    expect_err(&err, "22023", "empty schema registry subject name", NULL);
    io_csr_close(c);
}

static void
test_credentials(void **state)
{
    (void)state;
    const char *pw = "s3cr3t-pw";
    fixture fa;
    fx_start(&fa, "--user", "alice", "--password", pw, (const char *)NULL);
    eng_err err;

    io_csr *c = open_url(fa.url, "alice", pw, 0);
    eng_err_clear(&err);
    ok(io_csr_check(c, &err), &err);
    uint32_t id = reg(c, "auth-value", SCHEMA_V1);
    expect_latest(c, "auth-value", id, SCHEMA_V1);
    expect_by_id(c, id, SCHEMA_V1);
    /* An error that names the URL and subject still hides the password. */
    eng_err_clear(&err);
    char *s = NULL;
    assert_int_equal(io_csr_latest(c, pw, &id, &s, &err), -1);
    expect_err(&err, "42704", "not found", pw);
    io_csr_close(c);

    char want[256];
    snprintf(want, sizeof want, "schema registry at %s refused the credentials", fa.url);
    c = open_url(fa.url, "alice", "wrong-password-1", 0);
    eng_err_clear(&err);
    assert_int_equal(io_csr_check(c, &err), -1);
    expect_err(&err, "28000", want, "wrong-password-1");
    eng_err_clear(&err);
    assert_int_equal(io_csr_schema_by_id(c, id, &s, &err), -1);
    expect_err(&err, "28000", want, "wrong-password-1");
    io_csr_close(c);

    c = open_url(fa.url, NULL, NULL, 0);
    eng_err_clear(&err);
    assert_int_equal(io_csr_check(c, &err), -1);
    expect_err(&err, "28000", "requires credentials", NULL);
    io_csr_close(c);

    /* Credentials in the URL work, and the URL in messages loses them. */
    char url[256];
    snprintf(url, sizeof url, "http://alice:%s@%s", pw, fa.url + strlen("http://"));
    c = open_url(url, NULL, NULL, 0);
    eng_err_clear(&err);
    ok(io_csr_check(c, &err), &err);
    eng_err_clear(&err);
    assert_int_equal(io_csr_latest(c, "nope-value", &id, &s, &err), -1);
    snprintf(want, sizeof want, "at http://alice@%s", fa.url + strlen("http://"));
    expect_err(&err, "42704", want, pw);
    io_csr_close(c);
    snprintf(url, sizeof url, "http://alice:bad-url-pw@%s", fa.url + strlen("http://"));
    c = open_url(url, NULL, NULL, 0);
    eng_err_clear(&err);
    assert_int_equal(io_csr_check(c, &err), -1);
    expect_err(&err, "28000", "refused", "bad-url-pw");
    io_csr_close(c);
    fx_stop(&fa);
}

/* ------------------------------------------------------------------ connection failures */

static void
test_refused(void **state)
{
    (void)state;
    /* A bound socket that does not listen: connecting to it is refused,
     * and no other process can take the port meanwhile. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    char url[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(sa.sin_port));
    io_csr *c = open_url(url, "bob", "hunter2-refused", 0);
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(io_csr_check(c, &err), -1);
    char want[256];
    snprintf(want, sizeof want, "cannot reach the schema registry at %s", url);
    expect_err(&err, "08001", want, "hunter2-refused");
    eng_err_clear(&err);
    char *s = NULL;
    assert_int_equal(io_csr_schema_by_id(c, 1, &s, &err), -1);
    expect_err(&err, "08001", want, NULL);
    io_csr_close(c);
    close(fd);

    /* https to a plain HTTP server, with a CA bundle: the TLS handshake
     * fails and that is a connection error too. */
    snprintf(url, sizeof url, "https://%s", fx.url + strlen("http://"));
    io_csr_conf tls = {.url = url, .ca_pem = "-----BEGIN CERTIFICATE-----\nnot one\n"};
    eng_err_clear(&err);
    c = io_csr_open(&tls, &err);
    assert_non_null(c);
    assert_int_equal(io_csr_check(c, &err), -1);
    snprintf(want, sizeof want, "cannot reach the schema registry at %s", url);
    expect_err(&err, "08001", want, NULL);
    io_csr_close(c);

    /* A name that does not resolve (.invalid never does, RFC 6761). */
    c = open_url("http://no-such-host.invalid:8081", NULL, NULL, 5000);
    eng_err_clear(&err);
    assert_int_equal(io_csr_check(c, &err), -1);
    expect_err(&err, "08001", "http://no-such-host.invalid:8081", NULL);
    io_csr_close(c);
}

static void
test_timeout(void **state)
{
    (void)state;
    fixture fs;
    fx_start(&fs, "--delay-ms", "3000", (const char *)NULL);
    io_csr *c = open_url(fs.url, NULL, NULL, 250);
    eng_err err;
    eng_err_clear(&err);
    double t0 = now_ms();
    assert_int_equal(io_csr_check(c, &err), -1);
    double took = now_ms() - t0;
    char want[256];
    snprintf(want, sizeof want, "the schema registry at %s did not answer", fs.url);
    expect_err(&err, "08001", want, NULL);
    expect_err(&err, "08001", "within 250 ms", NULL);
    if (took < 200 || took > 2500)
        fail_msg("the 250 ms timeout took %.0f ms", took);
    io_csr_close(c);
    fx_stop(&fs);
}

/* ------------------------------------------------------------------ URLs and subjects */

static void
test_urls(void **state)
{
    (void)state;
    char url[160];
    snprintf(url, sizeof url, "%s/", fx.url);
    io_csr *c = open_url(url, NULL, NULL, 0);
    eng_err err;
    eng_err_clear(&err);
    ok(io_csr_check(c, &err), &err);
    uint32_t id = reg(c, "slash-value", SCHEMA_V1);
    expect_latest(c, "slash-value", id, SCHEMA_V1);
    eng_err_clear(&err);
    char *s = NULL;
    assert_int_equal(io_csr_latest(c, "slash-missing", &id, &s, &err), -1);
    char want[200];
    snprintf(want, sizeof want, "in the schema registry at %s", fx.url); /* no slash shown */
    expect_err(&err, "42704", want, NULL);
    io_csr_close(c);
    snprintf(url, sizeof url, "%s//", fx.url);
    c = open_url(url, NULL, NULL, 0);
    eng_err_clear(&err);
    ok(io_csr_check(c, &err), &err);
    io_csr_close(c);

    /* A path that is not a registry: a 404 without a registry error code. */
    snprintf(url, sizeof url, "%s/not/a/registry", fx.url);
    c = open_url(url, NULL, NULL, 0);
    eng_err_clear(&err);
    assert_int_equal(io_csr_check(c, &err), -1);
    expect_err(&err, "58000", "answered HTTP 404 to GET /subjects", NULL);
    assert_non_null(strstr(err.hint, "Confluent-compatible schema registry"));
    io_csr_close(c);

    /* URLs refused at open, without I/O. */
    const char *bad[] = {"",
                         "ftp://127.0.0.1:1",
                         "127.0.0.1:8081",
                         "http://",
                         "http:///x",
                         "http://h:1/x?y=1",
                         "http://h:1/#f",
                         "http://h :1",
                         "http://h:1/\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        io_csr_conf conf = {.url = bad[i]};
        eng_err_clear(&err);
        if (io_csr_open(&conf, &err) != NULL)
            fail_msg("URL \"%s\" accepted", bad[i]);
        expect_err(&err, "22023", "schema registry URL", NULL);
    }
    io_csr_conf none = {.url = NULL};
    eng_err_clear(&err);
    assert_null(io_csr_open(&none, &err));
    expect_err(&err, "22023", "URL is empty", NULL);
    io_csr_conf neg = {.url = fx.url, .timeout_ms = -1};
    eng_err_clear(&err);
    assert_null(io_csr_open(&neg, &err));
    expect_err(&err, "22023", "timeout", NULL);
    io_csr_conf secret = {.url = "ftp://u:ftp-secret@h/"};
    eng_err_clear(&err);
    assert_null(io_csr_open(&secret, &err));
    expect_err(&err, "22023", "ftp://u@h", "ftp-secret");
}

static void
test_subject_encoding(void **state)
{
    (void)state;
    io_csr *c = open_url(fx.url, NULL, NULL, 0);
    const char *names[] = {"a/b value", "a", "100%?#&+=;x", "über/ünïcode", "..", "a%2Fb"};
    uint32_t ids[6];
    char schema[256];
    for (int i = 0; i < 6; i++) {
        /* A distinct schema per subject, so ids tell them apart. */
        snprintf(schema, sizeof schema,
                 "{\"type\":\"record\",\"name\":\"enc%d\",\"fields\":[{\"name\":\"f\",\"type\":"
                 "\"int\"}]}",
                 i);
        ids[i] = reg(c, names[i], schema);
    }
    for (int i = 0; i < 6; i++) {
        snprintf(schema, sizeof schema,
                 "{\"type\":\"record\",\"name\":\"enc%d\",\"fields\":[{\"name\":\"f\",\"type\":"
                 "\"int\"}]}",
                 i);
        expect_latest(c, names[i], ids[i], schema);
        for (int k = 0; k < i; k++)
            assert_true(ids[i] != ids[k]);
    }
    /* "a/b value" did not land on subject "a" nor on a path with a slash. */
    eng_err err;
    eng_err_clear(&err);
    uint32_t id;
    char *s = NULL;
    assert_int_equal(io_csr_latest(c, "a/b", &id, &s, &err), -1);
    expect_err(&err, "42704", "subject \"a/b\" not found", NULL);
    io_csr_close(c);
}

/* ------------------------------------------------------------------ a canned server */

/* Serves nreq requests on the first connection it accepts (the listening
 * socket is closed right after that accept, so a client that reconnects
 * is refused), answering each with resp, then big zero bytes. */
typedef struct canned {
    int lfd;
    char url[64];
    char resp[1024];
    size_t big;
    int nreq;
    int served;
    pthread_t t;
} canned;

static void *
canned_main(void *arg)
{
    canned *k = arg;
    int fd = accept(k->lfd, NULL, NULL);
    close(k->lfd);
    if (fd < 0)
        return NULL;
    char buf[8192];
    size_t len = 0;
    for (int i = 0; i < k->nreq; i++) {
        char *end = NULL;
        while ((end = memmem(buf, len, "\r\n\r\n", 4)) == NULL) {
            ssize_t n = len < sizeof buf ? recv(fd, buf + len, sizeof buf - len, 0) : -1;
            if (n <= 0)
                goto out;
            len += (size_t)n;
        }
        size_t used = (size_t)(end - buf) + 4;
        memmove(buf, buf + used, len - used);
        len -= used;
        k->served++;
        if (send(fd, k->resp, strlen(k->resp), MSG_NOSIGNAL) < 0)
            goto out;
        static const char zeros[65536];
        for (size_t sent = 0; sent < k->big; sent += sizeof zeros)
            if (send(fd, zeros, sizeof zeros, MSG_NOSIGNAL) < 0)
                goto out;
    }
out:
    close(fd);
    return NULL;
}

/* status: "200 OK" and so on, with a Content-Length for body and big;
 * NULL: body is sent as is. */
static void
canned_start(canned *k, const char *status, const char *body, size_t big, int nreq)
{
    *k = (canned){.big = big, .nreq = nreq};
    if (status != NULL)
        snprintf(k->resp, sizeof k->resp, "HTTP/1.1 %s\r\nContent-Length: %zu\r\n\r\n%s", status,
                 strlen(body) + big, body);
    else
        snprintf(k->resp, sizeof k->resp, "%s", body);
    k->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(k->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(k->lfd, 4), 0);
    assert_int_equal(getsockname(k->lfd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(k->url, sizeof k->url, "http://127.0.0.1:%d", ntohs(sa.sin_port));
    assert_int_equal(pthread_create(&k->t, NULL, canned_main, k), 0);
}

static void
canned_join(canned *k)
{
    pthread_join(k->t, NULL);
}

/* One canned answer to GET /schemas/ids/5 (with credentials whose
 * password the answer may echo). */
static void
canned_by_id(const char *status, const char *body, size_t big, const char *state, const char *sub)
{
    canned k;
    canned_start(&k, status, body, big, 1);
    io_csr *c = open_url(k.url, "carol", "echoed-secret", 5000);
    eng_err err;
    eng_err_clear(&err);
    char *s = NULL;
    assert_int_equal(io_csr_schema_by_id(c, 5, &s, &err), -1);
    assert_null(s);
    expect_err(&err, state, sub, "echoed-secret");
    io_csr_close(c);
    canned_join(&k);
}

static void
test_bad_answers(void **state)
{
    (void)state;
    canned_by_id("200 OK", "hello", 0, "08P01",
                 "answered GET /schemas/ids/5 with something that is not JSON");
    canned_by_id("200 OK", "[]", 0, "08P01", "unexpected answer from the schema registry");
    canned_by_id("200 OK", "{\"schema\":1}", 0, "08P01", "no string \"schema\"");
    canned_by_id("200 OK", "{\"schema\":\"a\\u0000b\"}", 0, "08P01", "NUL");
    const char *proto = "{\"schema\":\"syntax = 1\",\"schemaType\":\"PROTOBUF\"}";
    canned_by_id("200 OK", proto, 0, "0A000", "schema id 5 in the schema registry at");
    canned_by_id("200 OK", proto, 0, "0A000", "is a PROTOBUF schema; only Avro is supported");
    /* A 500 with the registry's message (control characters replaced,
     * the password it echoes masked). */
    canned_by_id("500 Internal Server Error",
                 "{\"error_code\":50001,\"message\":\"store\\nbroken for echoed-secret\"}", 0,
                 "58000",
                 "answered HTTP 500 to GET /schemas/ids/5: store?broken for ************* "
                 "(error code 50001)");
    canned_by_id("503 Service Unavailable", "", 0, "58000",
                 "answered HTTP 503 to GET /schemas/ids/5");
    canned_by_id("403 Forbidden", "", 0, "28000", "refused the credentials");
    /* More than 16 MiB: refused as it arrives. */
    canned_by_id("200 OK", "", 17u << 20, "08P01", "with more than 16777216 bytes");
    /* Not HTTP, and nothing at all. */
    canned_by_id(NULL, "garbage\r\n\r\n", 0, "08P01", "not HTTP");
    canned_by_id(NULL, "", 0, "08001", "cannot reach the schema registry");
    /* A latest without an id. */
    canned k;
    canned_start(&k, "200 OK", "{\"schema\":\"1\"}", 0, 1);
    io_csr *c = open_url(k.url, NULL, NULL, 5000);
    eng_err err;
    eng_err_clear(&err);
    uint32_t id = 3;
    char *s = NULL;
    assert_int_equal(io_csr_latest(c, "x", &id, &s, &err), -1);
    expect_err(&err, "08P01", "no integer \"id\"", NULL);
    assert_int_equal(id, 3);
    assert_null(s);
    io_csr_close(c);
    canned_join(&k);
}

/* Three requests on one client: the canned server accepts one connection
 * only, so they all went over it. */
static void
test_keepalive(void **state)
{
    (void)state;
    canned k;
    canned_start(&k, "200 OK", "[]", 0, 3);
    io_csr *c = open_url(k.url, NULL, NULL, 5000);
    eng_err err;
    for (int i = 0; i < 3; i++) {
        eng_err_clear(&err);
        ok(io_csr_check(c, &err), &err);
    }
    io_csr_close(c);
    canned_join(&k);
    assert_int_equal(k.served, 3);
}

/* ------------------------------------------------------------------ threads */

static void *
worker(void *arg)
{
    int w = (int)(intptr_t)arg;
    io_csr_conf conf = {.url = fx.url};
    eng_err err;
    eng_err_clear(&err);
    io_csr *c = io_csr_open(&conf, &err);
    if (c == NULL)
        return (void *)1;
    intptr_t bad = 0;
    for (int i = 0; i < 20 && !bad; i++) {
        char subject[64], schema[200];
        snprintf(subject, sizeof subject, "thread-%d-value", w);
        snprintf(schema, sizeof schema,
                 "{\"type\":\"record\",\"name\":\"w%d\",\"fields\":[{\"name\":\"f%d\","
                 "\"type\":\"int\"}]}",
                 w, i);
        uint32_t id = 0, got = 0;
        char *s = NULL;
        eng_err_clear(&err);
        bad = io_csr_register(c, subject, schema, &id, &err) != 0 ||
              io_csr_latest(c, subject, &got, &s, &err) != 0 || got != id;
        free(s);
    }
    io_csr_close(c);
    return (void *)bad;
}

static void
test_threads(void **state)
{
    (void)state;
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 4; i++) {
        void *bad = NULL;
        pthread_join(t[i], &bad);
        assert_null(bad);
    }
}

/* ------------------------------------------------------------------ the fixture's robustness */

/* Sends n bytes of req on a new connection and reads until the fixture
 * closes it (or 2 s pass); returns what came back (static). */
static const char *
raw_send(const char *req, size_t n)
{
    static char out[8192];
    int port = atoi(strrchr(fx.url, ':') + 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)!send(fd, req, n, MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    size_t len = 0;
    ssize_t r;
    while (len + 1 < sizeof out && (r = recv(fd, out + len, sizeof out - 1 - len, 0)) > 0)
        len += (size_t)r;
    out[len] = '\0';
    close(fd);
    return out;
}

static const char *
raw_exchange(const char *req)
{
    return raw_send(req, strlen(req));
}

static void
test_fixture_robust(void **state)
{
    (void)state;
    const char *r = raw_exchange("GARBAGE\r\n\r\n");
    assert_non_null(strstr(r, "HTTP/1.1 400 "));
    assert_non_null(strstr(r, "Connection: close"));
    const char *two = "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /subjects HTTP/1.1\r\n\r\n";
    r = raw_exchange(two);
    const char *first = strstr(r, "HTTP/1.1 200 ");
    assert_non_null(first);
    assert_non_null(strstr(first + 1, "HTTP/1.1 200 "));
    r = raw_exchange("GET /subjects/%zz/versions HTTP/1.1\r\n\r\n");
    assert_non_null(strstr(r, "HTTP/1.1 400 "));
    r = raw_exchange("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_non_null(strstr(r, "HTTP/1.1 400 "));
    r = raw_exchange("POST /subjects/x/versions HTTP/1.1\r\nContent-Length: 3\r\n\r\n{}x");
    assert_non_null(strstr(r, "42201"));
    /* Random bytes, fixed seed: the fixture answers or closes, and lives. */
    unsigned seed = 42;
    char junk[600];
    for (int i = 0; i < 100; i++) {
        size_t n = 1 + (size_t)rand_r(&seed) % sizeof junk;
        for (size_t k = 0; k < n; k++)
            junk[k] = (char)rand_r(&seed);
        if (i % 2)
            memcpy(junk, "GET /", n < 5 ? n : 5);
        raw_send(junk, n);
    }
    io_csr *c = open_url(fx.url, NULL, NULL, 0);
    eng_err err;
    eng_err_clear(&err);
    ok(io_csr_check(c, &err), &err);
    io_csr_close(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_same_schema_same_id),
        cmocka_unit_test(test_evolution),        cmocka_unit_test(test_unknown_subject_and_id),
        cmocka_unit_test(test_credentials),      cmocka_unit_test(test_refused),
        cmocka_unit_test(test_timeout),          cmocka_unit_test(test_urls),
        cmocka_unit_test(test_subject_encoding), cmocka_unit_test(test_bad_answers),
        cmocka_unit_test(test_keepalive),        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_fixture_robust),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
