/* pgwire server against real clients: libpq for everything it can say, a
 * raw socket for what it cannot (Execute row limits, garbage, RST).
 *
 * Notes: the server runs on its own io thread with a test handler that
 * understands a few statements:
 *   ROWS n      one int4 column "n", rows 1..n
 *   TYPES       one row with a value of every type (+ a NULL int4)
 *   ECHO        (extended) one row echoing the bound parameters
 *   SLEEP       waits (polling io_pgw_cancelled) until cancelled: 57014
 *   COPY n      COPY TO STDOUT of n rows with characters that need escapes
 *   NOTICE      a NoticeResponse, then "DO"
 *   FAIL        22012 division by zero
 *   BIG n       n rows of 1000 bytes (counts rows sent in big_rows)
 * Simple queries may hold several statements separated by ';'. */
#include <arpa/inet.h>
#include <errno.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/core/eng_datetime.h"
#include "engine/core/eng_text.h"
#include "io/io_pgw.h"

/* ------------------------------------------------------------------ the test handler */

static atomic_int n_open, n_close, big_rows, sleeping;

typedef struct tstmt {
    char sql[256];
    int nparams;
    uint32_t oids[16];
    char names[32][16];
    io_pgw_col cols[32];
    io_pgw_desc desc;
} tstmt;

typedef struct tportal {
    tstmt *st;
    eng_rowbuf row; /* ECHO: the bound parameters as a row */
} tportal;

enum { NTYPES = 20 };
static const struct {
    const char *name;
    eng_typeid id;
    int32_t typmod;
    const char *in, *out; /* input literal, PostgreSQL's output */
} types[NTYPES] = {
    {"b", ENG_TYPE_BOOL, -1, "true", "t"},
    {"i2", ENG_TYPE_INT2, -1, "-2", "-2"},
    {"i4", ENG_TYPE_INT4, -1, "123456", "123456"},
    {"i8", ENG_TYPE_INT8, -1, "-9000000000", "-9000000000"},
    {"f4", ENG_TYPE_FLOAT4, -1, "1.5", "1.5"},
    {"f8", ENG_TYPE_FLOAT8, -1, "-2.25", "-2.25"},
    {"num", ENG_TYPE_NUMERIC, ((10 << 16) | 3) + 4, "-12345.678", "-12345.678"},
    {"t", ENG_TYPE_TEXT, -1, "hello\tworld", "hello\tworld"},
    {"vc", ENG_TYPE_VARCHAR, 14, "abc", "abc"},
    {"bp", ENG_TYPE_BPCHAR, 9, "ab", "ab   "},
    {"by", ENG_TYPE_BYTEA, -1, "\\x00ff10", "\\x00ff10"},
    {"d", ENG_TYPE_DATE, -1, "2024-02-29", "2024-02-29"},
    {"tm", ENG_TYPE_TIME, -1, "04:05:06.789", "04:05:06.789"},
    {"ts", ENG_TYPE_TIMESTAMP, -1, "2024-02-29 04:05:06.789", "2024-02-29 04:05:06.789"},
    {"tz", ENG_TYPE_TIMESTAMPTZ, -1, "2024-02-29 04:05:06.789+00", "2024-02-29 04:05:06.789+00"},
    {"iv", ENG_TYPE_INTERVAL, -1, "1 year 2 mons 3 days 04:05:06.789",
     "1 year 2 mons 3 days 04:05:06.789"},
    {"u", ENG_TYPE_UUID, -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
     "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
    {"j", ENG_TYPE_JSON, -1, "{\"b\": 1,  \"a\": [1, 2]}", "{\"b\": 1,  \"a\": [1, 2]}"},
    {"jb", ENG_TYPE_JSONB, -1, "{\"b\": 1, \"a\": [1, 2]}", "{\"a\": [1, 2], \"b\": 1}"},
    {"nul", ENG_TYPE_INT4, -1, NULL, NULL},
};

static bool
starts(const char *sql, const char *kw)
{
    size_t n = strlen(kw);
    return strncmp(sql, kw, n) == 0 && (sql[n] == '\0' || sql[n] == ' ');
}

/* Fills st's description for its statement (ncols -1: no rows). */
static void
describe_stmt(tstmt *st)
{
    io_pgw_desc *d = &st->desc;
    d->nparams = st->nparams;
    d->param_oids = st->oids;
    d->cols = st->cols;
    d->ncols = -1;
    memset(st->cols, 0, sizeof st->cols);
    if (starts(st->sql, "ROWS") || starts(st->sql, "BIG")) {
        st->cols[0] = (io_pgw_col){
            starts(st->sql, "ROWS") ? "n" : "big",
            eng_type_make(starts(st->sql, "ROWS") ? ENG_TYPE_INT4 : ENG_TYPE_TEXT, -1), 0, 0};
        d->ncols = 1;
    } else if (starts(st->sql, "TYPES")) {
        for (int i = 0; i < NTYPES; i++)
            st->cols[i] = (io_pgw_col){types[i].name, eng_type_make(types[i].id, types[i].typmod),
                                       12345, (int16_t)(i + 1)};
        d->ncols = NTYPES;
    } else if (starts(st->sql, "ECHO")) {
        for (int i = 0; i < st->nparams; i++) {
            if (st->oids[i] == 0)
                st->oids[i] = 25;
            snprintf(st->names[i], sizeof st->names[i], "p%d", i + 1);
            st->cols[i] = (io_pgw_col){st->names[i], eng_type_from_oid(st->oids[i], -1), 0, 0};
        }
        d->ncols = st->nparams;
    }
}

static int
run_stmt(const char *sql, tportal *p, io_pgw_out *o, eng_err *err)
{
    tstmt local;
    tstmt *st = p ? p->st : &local;
    if (!p) {
        snprintf(local.sql, sizeof local.sql, "%s", sql);
        local.nparams = 0;
        describe_stmt(&local);
    }
    eng_rowbuf rb = {0};
    char tag[64];
    int rc = 0;
    if (starts(sql, "ROWS")) {
        int n = atoi(sql + 4);
        if (io_pgw_send_rowdesc(o, &st->desc) != 0)
            goto fail;
        for (int i = 1; i <= n; i++) {
            eng_rowbuf_reset(&rb);
            eng_push_int4(&rb, i);
            if (io_pgw_send_row(o, eng_rowbuf_row(&rb)) != 0)
                goto fail;
        }
        snprintf(tag, sizeof tag, "SELECT %d", n);
        rc = io_pgw_send_complete(o, tag);
    } else if (starts(sql, "BIG")) {
        int n = atoi(sql + 3);
        char payload[1000];
        memset(payload, 'x', sizeof payload);
        if (io_pgw_send_rowdesc(o, &st->desc) != 0)
            goto fail;
        for (int i = 0; i < n; i++) {
            eng_rowbuf_reset(&rb);
            eng_push_text(&rb, payload, sizeof payload);
            if (io_pgw_send_row(o, eng_rowbuf_row(&rb)) != 0)
                goto fail;
            atomic_fetch_add(&big_rows, 1);
        }
        snprintf(tag, sizeof tag, "SELECT %d", n);
        rc = io_pgw_send_complete(o, tag);
    } else if (starts(sql, "TYPES")) {
        if (io_pgw_send_rowdesc(o, &st->desc) != 0)
            goto fail;
        for (int i = 0; i < NTYPES; i++) {
            eng_type t = eng_type_make(types[i].id, types[i].typmod);
            if (types[i].in == NULL)
                eng_push_null(&rb);
            else if (eng_text_parse(&t, types[i].in, strlen(types[i].in), &rb, err) != 0)
                goto fail;
        }
        if (io_pgw_send_row(o, eng_rowbuf_row(&rb)) != 0)
            goto fail;
        rc = io_pgw_send_complete(o, "SELECT 1");
    } else if (starts(sql, "ECHO")) {
        if (p == NULL) {
            eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "ECHO needs parameters");
            goto fail;
        }
        if (io_pgw_send_rowdesc(o, &st->desc) != 0 || io_pgw_send_row(o, eng_rowbuf_row(&p->row)))
            goto fail;
        rc = io_pgw_send_complete(o, "SELECT 1");
    } else if (starts(sql, "SLEEP")) {
        atomic_fetch_add(&sleeping, 1);
        for (int i = 0; i < 1000 && !io_pgw_cancelled(o); i++)
            usleep(5000);
        atomic_fetch_sub(&sleeping, 1);
        if (io_pgw_cancelled(o)) {
            eng_err_set(err, ENG_ERRCODE_QUERY_CANCELED, "canceling statement due to user request");
            goto fail;
        }
        rc = io_pgw_send_complete(o, "SLEEP");
    } else if (starts(sql, "COPY")) {
        int n = atoi(sql + 4);
        io_pgw_col cols[2] = {{"i", eng_type_make(ENG_TYPE_INT4, -1), 0, 0},
                              {"s", eng_type_make(ENG_TYPE_TEXT, -1), 0, 0}};
        io_pgw_desc d = {0, NULL, 2, cols};
        if (io_pgw_send_copy_begin(o, &d) != 0)
            goto fail;
        for (int i = 1; i <= n; i++) {
            eng_rowbuf_reset(&rb);
            eng_push_int4(&rb, i);
            if (i % 2 == 0)
                eng_push_null(&rb);
            else
                eng_push_text(&rb, "a\tb\\c\nd\re", 9);
            if (io_pgw_send_copy_row(o, eng_rowbuf_row(&rb)) != 0)
                goto fail;
        }
        if (io_pgw_send_copy_done(o) != 0)
            goto fail;
        snprintf(tag, sizeof tag, "COPY %d", n);
        rc = io_pgw_send_complete(o, tag);
    } else if (starts(sql, "NOTICE")) {
        eng_err n;
        eng_err_clear(&n);
        eng_err_set(&n, "01000", "hello from the server");
        n.severity = ENG_SEV_NOTICE;
        if (io_pgw_send_notice(o, &n) != 0)
            goto fail;
        rc = io_pgw_send_complete(o, "DO");
    } else if (starts(sql, "FAIL")) {
        eng_err_set(err, ENG_ERRCODE_DIVISION_BY_ZERO, "division by zero");
        goto fail;
    } else {
        eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "unknown test statement \"%s\"", sql);
        goto fail;
    }
    eng_rowbuf_free(&rb);
    return rc;
fail:
    eng_rowbuf_free(&rb);
    return -1;
}

static void *
h_open(void *ctx, const io_pgw_startup *st, eng_err *err)
{
    (void)ctx;
    if (strcmp(st->user, "refused") == 0) {
        eng_err_set(err, ENG_ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION, "user refused");
        return NULL;
    }
    atomic_fetch_add(&n_open, 1);
    return calloc(1, 1);
}

static void
h_close(void *sess)
{
    atomic_fetch_add(&n_close, 1);
    free(sess);
}

static int
h_simple(void *sess, const char *sql, io_pgw_out *o, eng_err *err)
{
    (void)sess;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", sql);
    char *save = NULL;
    for (char *s = strtok_r(buf, ";", &save); s != NULL; s = strtok_r(NULL, ";", &save)) {
        while (*s == ' ')
            s++;
        if (*s == '\0')
            continue;
        if (run_stmt(s, NULL, o, err) != 0)
            return -1;
    }
    return 0;
}

static void *
h_prepare(void *sess, const char *sql, int nparams, const uint32_t *oids, eng_err *err)
{
    (void)sess;
    if (nparams > 16) {
        eng_err_set(err, ENG_ERRCODE_PROGRAM_LIMIT_EXCEEDED, "too many parameters");
        return NULL;
    }
    if (starts(sql, "FAILPREPARE")) {
        eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "cannot prepare");
        return NULL;
    }
    tstmt *st = calloc(1, sizeof *st);
    snprintf(st->sql, sizeof st->sql, "%s", sql);
    st->nparams = nparams;
    memcpy(st->oids, oids, (size_t)nparams * sizeof *oids);
    describe_stmt(st);
    return st;
}

static const io_pgw_desc *
h_describe(void *sess, void *stmt)
{
    (void)sess;
    return &((tstmt *)stmt)->desc;
}

static void
h_unprepare(void *sess, void *stmt)
{
    (void)sess;
    free(stmt);
}

static uint64_t
be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static void *
h_bind(void *sess, void *stmt, int nparams, const io_pgw_param *params, eng_err *err)
{
    (void)sess;
    tstmt *st = stmt;
    if (nparams != st->nparams) {
        eng_err_set(err, ENG_ERRCODE_PROTOCOL_VIOLATION,
                    "bind message supplies %d parameters, but prepared statement requires %d",
                    nparams, st->nparams);
        return NULL;
    }
    tportal *p = calloc(1, sizeof *p);
    p->st = st;
    for (int i = 0; i < nparams; i++) {
        const io_pgw_param *pa = &params[i];
        eng_type t = st->cols[i].type;
        if (pa->len < 0) {
            eng_push_null(&p->row);
        } else if (pa->format == 0) {
            if (eng_text_parse(&t, (const char *)pa->data, (size_t)pa->len, &p->row, err) != 0)
                goto bad;
        } else if (t.id == ENG_TYPE_INT2 && pa->len == 2) {
            eng_push_int2(&p->row, (int16_t)be(pa->data, 2));
        } else if (t.id == ENG_TYPE_INT4 && pa->len == 4) {
            eng_push_int4(&p->row, (int32_t)be(pa->data, 4));
        } else if (t.id == ENG_TYPE_INT8 && pa->len == 8) {
            eng_push_int8(&p->row, (int64_t)be(pa->data, 8));
        } else if (t.id == ENG_TYPE_FLOAT8 && pa->len == 8) {
            uint64_t bits = be(pa->data, 8);
            double d;
            memcpy(&d, &bits, 8);
            eng_push_float8(&p->row, d);
        } else if (t.id == ENG_TYPE_BOOL && pa->len == 1) {
            eng_push_bool(&p->row, pa->data[0] != 0);
        } else if (t.id == ENG_TYPE_TEXT) {
            eng_push_text(&p->row, (const char *)pa->data, (uint32_t)pa->len);
        } else if (t.id == ENG_TYPE_BYTEA) {
            eng_push_var(&p->row, ENG_TAG_BYTES, pa->data, (uint32_t)pa->len);
        } else {
            eng_err_set(err, "22P03", "incorrect binary data format in bind parameter %d", i + 1);
            goto bad;
        }
    }
    return p;
bad:
    eng_rowbuf_free(&p->row);
    free(p);
    return NULL;
}

static const io_pgw_desc *
h_describe_portal(void *sess, void *portal)
{
    (void)sess;
    return &((tportal *)portal)->st->desc;
}

static int
h_execute(void *sess, void *portal, io_pgw_out *o, eng_err *err)
{
    (void)sess;
    tportal *p = portal;
    return run_stmt(p->st->sql, p, o, err);
}

static void
h_unbind(void *sess, void *portal)
{
    (void)sess;
    tportal *p = portal;
    eng_rowbuf_free(&p->row);
    free(p);
}

static char
h_txn(void *sess)
{
    (void)sess;
    return 'I';
}

static const io_pgw_handler handler = {h_open,     h_close,     h_simple, h_prepare,
                                       h_describe, h_unprepare, h_bind,   h_describe_portal,
                                       h_execute,  h_unbind,    h_txn};

/* ------------------------------------------------------------------ the server under test */

typedef struct tsrv {
    io_loop *loop;
    io_pgw_server *srv;
    pthread_t th;
    int port;
    int stop_fd;
    io_op stop_op;
    uint64_t stop_val;
} tsrv;

static void
on_stop(io_loop *loop, io_op *op, int res, unsigned flags)
{
    (void)op;
    (void)res;
    (void)flags;
    io_loop_stop(loop);
}

static void *
loop_main(void *arg)
{
    tsrv *t = arg;
    eng_err err;
    eng_err_clear(&err);
    int rc = io_loop_run(t->loop, &err);
    assert_int_equal(rc, 0);
    io_pgw_close(t->srv); /* on the io thread, after the loop */
    return NULL;
}

static void
tsrv_start(tsrv *t, const char *password_file)
{
    memset(t, 0, sizeof *t);
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(io_loop_open(&t->loop, 256, &err), 0);
    io_pgw_options opts = {.host = "127.0.0.1", .password_file = password_file};
    assert_int_equal(io_pgw_listen(&t->srv, t->loop, &opts, &handler, NULL, &err), 0);
    t->port = io_pgw_port(t->srv);
    t->stop_fd = eventfd(0, EFD_CLOEXEC);
    t->stop_op = (io_op){on_stop, t};
    io_uring_prep_read(io_loop_sqe(t->loop, &t->stop_op), t->stop_fd, &t->stop_val,
                       sizeof t->stop_val, 0);
    assert_int_equal(pthread_create(&t->th, NULL, loop_main, t), 0);
}

static void
tsrv_stop(tsrv *t)
{
    uint64_t one = 1;
    assert_int_equal(write(t->stop_fd, &one, sizeof one), 8);
    pthread_join(t->th, NULL);
    io_loop_close(t->loop);
    close(t->stop_fd);
}

static tsrv S; /* the trust server shared by most tests */

static int
setup(void **state)
{
    (void)state;
    tsrv_start(&S, NULL);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    tsrv_stop(&S);
    return 0;
}

static PGconn *
connect_as(int port, const char *extra)
{
    char dsn[256];
    snprintf(dsn, sizeof dsn,
             "host=127.0.0.1 port=%d user=materialize dbname=materialize connect_timeout=5 %s",
             port, extra ? extra : "");
    return PQconnectdb(dsn);
}

static PGconn *
connect_ok(void)
{
    PGconn *c = connect_as(S.port, NULL);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect: %s", PQerrorMessage(c));
    return c;
}

static const char *
sqlstate(const PGresult *r)
{
    const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    return s ? s : "";
}

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls until *v == want or ms pass; returns the last value. */
static int
wait_for(atomic_int *v, int want, int ms)
{
    int64_t end = now_ms() + ms;
    while (atomic_load(v) != want && now_ms() < end)
        usleep(2000);
    return atomic_load(v);
}

/* ------------------------------------------------------------------ raw sockets */

static int
raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void
raw_write(int fd, const void *p, size_t n)
{
    assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void
raw_startup_packet(int fd, uint32_t proto, const char *user, const char *db)
{
    char b[256];
    size_t n = 8;
    n += (size_t)snprintf(b + n, sizeof b - n, "user") + 1;
    n += (size_t)snprintf(b + n, sizeof b - n, "%s", user) + 1;
    n += (size_t)snprintf(b + n, sizeof b - n, "database") + 1;
    n += (size_t)snprintf(b + n, sizeof b - n, "%s", db) + 1;
    b[n++] = 0;
    uint32_t len = htonl((uint32_t)n), pr = htonl(proto);
    memcpy(b, &len, 4);
    memcpy(b + 4, &pr, 4);
    raw_write(fd, b, n);
}

/* Reads n bytes with a 10 s timeout; false on EOF/timeout. */
static bool
raw_read_full(int fd, void *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 10000) <= 0)
            return false;
        ssize_t r = recv(fd, (char *)p + got, n - got, 0);
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

/* Next server message: returns its type (0 at EOF), body in buf. */
static char
raw_msg(int fd, char *buf, size_t cap, size_t *len)
{
    char h[5];
    if (!raw_read_full(fd, h, 5))
        return 0;
    uint32_t l;
    memcpy(&l, h + 1, 4);
    l = ntohl(l) - 4;
    assert_true(l < cap);
    if (!raw_read_full(fd, buf, l))
        return 0;
    buf[l] = 0;
    if (len)
        *len = l;
    return h[0];
}

/* The value of field code in an ErrorResponse body ("" if absent). */
static const char *
err_field(const char *body, size_t len, char code)
{
    for (size_t i = 0; i < len && body[i];) {
        if (body[i] == code)
            return body + i + 1;
        i += strlen(body + i) + 1;
    }
    return "";
}

/* A raw connection past startup (up to ReadyForQuery). */
static int
raw_session(void)
{
    int fd = raw_connect(S.port);
    raw_startup_packet(fd, 196608, "raw", "materialize");
    char buf[4096];
    char t;
    while ((t = raw_msg(fd, buf, sizeof buf, NULL)) != 'Z')
        assert_true(t != 0 && t != 'E');
    return fd;
}

static void
raw_send(int fd, char type, const void *body, size_t n)
{
    char h[5];
    h[0] = type;
    uint32_t l = htonl((uint32_t)n + 4);
    memcpy(h + 1, &l, 4);
    raw_write(fd, h, 5);
    if (n)
        raw_write(fd, body, n);
}

/* Expects the connection to be closed by the server (EOF) within 10 s. */
static void
expect_eof(int fd)
{
    char b[4096];
    char t;
    while ((t = raw_msg(fd, b, sizeof b, NULL)) != 0)
        ;
}

/* ------------------------------------------------------------------ tests */

static void
test_simple_query(void **state)
{
    (void)state;
    PGconn *c = connect_ok();
    assert_string_equal(PQparameterStatus(c, "server_version"), "15.0 (Sluice)");
    assert_string_equal(PQparameterStatus(c, "DateStyle"), "ISO, MDY");
    assert_string_equal(PQparameterStatus(c, "integer_datetimes"), "on");
    assert_string_equal(PQparameterStatus(c, "session_authorization"), "materialize");
    assert_int_equal(PQserverVersion(c), 150000);
    assert_true(PQbackendPID(c) > 0);

    PGresult *r = PQexec(c, "ROWS 3");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 3);
    assert_int_equal(PQnfields(r), 1);
    assert_string_equal(PQfname(r, 0), "n");
    assert_int_equal(PQftype(r, 0), 23);
    assert_string_equal(PQgetvalue(r, 2, 0), "3");
    assert_string_equal(PQcmdStatus(r), "SELECT 3");
    PQclear(r);

    r = PQexec(c, "TYPES");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQnfields(r), NTYPES);
    for (int i = 0; i < NTYPES; i++) {
        assert_string_equal(PQfname(r, i), types[i].name);
        assert_int_equal(PQftable(r, i), 12345);
        assert_int_equal(PQftablecol(r, i), i + 1);
        eng_type t = eng_type_make(types[i].id, types[i].typmod);
        assert_int_equal(PQftype(r, i), eng_type_oid(&t));
        assert_int_equal(PQfmod(r, i), types[i].typmod);
        assert_int_equal(PQfsize(r, i), eng_type_typlen(&t));
        if (types[i].out == NULL) {
            assert_true(PQgetisnull(r, 0, i));
        } else {
            assert_false(PQgetisnull(r, 0, i));
            assert_string_equal(PQgetvalue(r, 0, i), types[i].out);
        }
    }
    PQclear(r);

    r = PQexec(c, "");
    assert_int_equal(PQresultStatus(r), PGRES_EMPTY_QUERY);
    PQclear(r);
    r = PQexec(c, "FAIL");
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(sqlstate(r), "22012");
    assert_string_equal(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY), "division by zero");
    PQclear(r);
    r = PQexec(c, "ROWS 1"); /* the connection survives an error */
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    PQfinish(c);
}

static void
test_multiple_results(void **state)
{
    (void)state;
    PGconn *c = connect_ok();
    assert_int_equal(PQsendQuery(c, "ROWS 2; ROWS 3; NOTICE; FAIL; ROWS 4"), 1);
    PGresult *r = PQgetResult(c);
    assert_int_equal(PQntuples(r), 2);
    PQclear(r);
    r = PQgetResult(c);
    assert_int_equal(PQntuples(r), 3);
    PQclear(r);
    r = PQgetResult(c);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    assert_string_equal(PQcmdStatus(r), "DO");
    PQclear(r);
    r = PQgetResult(c); /* the error stops the string: no ROWS 4 */
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    PQclear(r);
    assert_null(PQgetResult(c));
    PQfinish(c);
}

static void
expect_binary_types(PGresult *r)
{
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQnfields(r), NTYPES);
    for (int i = 0; i < NTYPES; i++)
        assert_int_equal(PQfformat(r, i), 1);
    const uint8_t *v;
#define COL(i) (v = (const uint8_t *)PQgetvalue(r, 0, i), PQgetlength(r, 0, i))
    assert_int_equal(COL(0), 1);
    assert_int_equal(v[0], 1);
    assert_int_equal(COL(1), 2);
    assert_int_equal((int16_t)be(v, 2), -2);
    assert_int_equal(COL(2), 4);
    assert_int_equal((int32_t)be(v, 4), 123456);
    assert_int_equal(COL(3), 8);
    assert_int_equal((int64_t)be(v, 8), INT64_C(-9000000000));
    assert_int_equal(COL(4), 4);
    uint32_t f4bits = (uint32_t)be(v, 4);
    float f4;
    memcpy(&f4, &f4bits, 4);
    assert_true(f4 == 1.5f);
    assert_int_equal(COL(5), 8);
    uint64_t f8bits = be(v, 8);
    double f8;
    memcpy(&f8, &f8bits, 8);
    assert_true(f8 == -2.25);
    /* numeric -12345.678: ndigits 3, weight 1, sign NEG, dscale 3, 1 2345 6780 */
    assert_int_equal(COL(6), 14);
    assert_int_equal(be(v, 2), 3);
    assert_int_equal(be(v + 2, 2), 1);
    assert_int_equal(be(v + 4, 2), 0x4000);
    assert_int_equal(be(v + 6, 2), 3);
    assert_int_equal(be(v + 8, 2), 1);
    assert_int_equal(be(v + 10, 2), 2345);
    assert_int_equal(be(v + 12, 2), 6780);
    assert_int_equal(COL(7), 11);
    assert_memory_equal(v, "hello\tworld", 11);
    assert_int_equal(COL(8), 3);
    assert_memory_equal(v, "abc", 3);
    assert_int_equal(COL(9), 5);
    assert_memory_equal(v, "ab   ", 5);
    assert_int_equal(COL(10), 3);
    assert_memory_equal(v, "\x00\xff\x10", 3);
    int32_t days = eng_date2j(2024, 2, 29) - ENG_POSTGRES_EPOCH_JDATE;
    int64_t tod = (4 * 3600 + 5 * 60 + 6) * ENG_USECS_PER_SEC + 789000;
    assert_int_equal(COL(11), 4);
    assert_int_equal((int32_t)be(v, 4), days);
    assert_int_equal(COL(12), 8);
    assert_int_equal((int64_t)be(v, 8), tod);
    assert_int_equal(COL(13), 8);
    assert_int_equal((int64_t)be(v, 8), days * ENG_USECS_PER_DAY + tod);
    assert_int_equal(COL(14), 8);
    assert_int_equal((int64_t)be(v, 8), days * ENG_USECS_PER_DAY + tod);
    assert_int_equal(COL(15), 16); /* interval: usecs, days, months */
    assert_int_equal((int64_t)be(v, 8), tod);
    assert_int_equal((int32_t)be(v + 8, 4), 3);
    assert_int_equal((int32_t)be(v + 12, 4), 14);
    assert_int_equal(COL(16), 16);
    assert_memory_equal(v, "\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b\xb9\xbd\x38\x0a\x11", 16);
    assert_int_equal(COL(17), (int)strlen(types[17].out));
    assert_memory_equal(v, types[17].out, strlen(types[17].out));
    assert_int_equal(COL(18), (int)strlen(types[18].out) + 1);
    assert_int_equal(v[0], 1);
    assert_memory_equal(v + 1, types[18].out, strlen(types[18].out));
    assert_true(PQgetisnull(r, 0, 19));
#undef COL
}

static void
test_exec_params_binary(void **state)
{
    (void)state;
    PGconn *c = connect_ok();
    /* every type out in binary */
    PGresult *r = PQexecParams(c, "TYPES", 0, NULL, NULL, NULL, NULL, 1);
    expect_binary_types(r);
    PQclear(r);

    /* parameters: binary and text mixed, a NULL, binary results */
    Oid oids[8] = {21, 23, 20, 701, 16, 25, 17, 23};
    uint8_t i2[2] = {0xff, 0xfe}, i8[8] = {0xff, 0xff, 0xff, 0xfd, 0xe7, 0x8e, 0xe6, 0x00};
    double d = 6.5;
    uint64_t dbits;
    memcpy(&dbits, &d, 8);
    uint8_t f8[8];
    for (int i = 0; i < 8; i++)
        f8[i] = (uint8_t)(dbits >> (56 - 8 * i));
    uint8_t bo[1] = {1};
    const char *vals[8] = {(char *)i2, "42",   (char *)i8,  (char *)f8,
                           (char *)bo, "tëxt", "\x00\x01z", NULL};
    int lens[8] = {2, 0, 8, 8, 1, 0, 3, 0};
    int fmts[8] = {1, 0, 1, 1, 1, 0, 1, 0};
    r = PQexecParams(c, "ECHO", 8, oids, vals, lens, fmts, 1);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQnfields(r), 8);
    assert_int_equal(PQftype(r, 3), 701);
    assert_int_equal((int16_t)be((const uint8_t *)PQgetvalue(r, 0, 0), 2), -2);
    assert_int_equal((int32_t)be((const uint8_t *)PQgetvalue(r, 0, 1), 4), 42);
    assert_int_equal((int64_t)be((const uint8_t *)PQgetvalue(r, 0, 2), 8), INT64_C(-9000000000));
    assert_int_equal(be((const uint8_t *)PQgetvalue(r, 0, 3), 8), dbits);
    assert_int_equal(PQgetvalue(r, 0, 4)[0], 1);
    assert_string_equal(PQgetvalue(r, 0, 5), "tëxt");
    assert_int_equal(PQgetlength(r, 0, 6), 3);
    assert_memory_equal(PQgetvalue(r, 0, 6), "\x00\x01z", 3);
    assert_true(PQgetisnull(r, 0, 7));
    PQclear(r);

    /* text results of the same echo */
    r = PQexecParams(c, "ECHO", 8, oids, vals, lens, fmts, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 2), "-9000000000");
    assert_string_equal(PQgetvalue(r, 0, 3), "6.5");
    assert_string_equal(PQgetvalue(r, 0, 6), "\\x00017a");
    PQclear(r);

    /* a bad text parameter is the handler's error, the connection goes on */
    const char *bad[1] = {"nope"};
    Oid o1[1] = {23};
    r = PQexecParams(c, "ECHO", 1, o1, bad, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(sqlstate(r), "22P02");
    PQclear(r);
    r = PQexecParams(c, "", 0, NULL, NULL, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_EMPTY_QUERY);
    PQclear(r);
    r = PQexecParams(c, "ROWS 2", 0, NULL, NULL, NULL, NULL, 0);
    assert_int_equal(PQntuples(r), 2);
    PQclear(r);
    PQfinish(c);
}

static void
test_prepared(void **state)
{
    (void)state;
    PGconn *c = connect_ok();
    Oid oids[2] = {23, 0};
    PGresult *r = PQprepare(c, "echo2", "ECHO", 2, oids);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    r = PQprepare(c, "echo2", "ECHO", 2, oids);
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(sqlstate(r), "42P05");
    PQclear(r);
    r = PQdescribePrepared(c, "echo2");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    assert_int_equal(PQnparams(r), 2);
    assert_int_equal(PQparamtype(r, 0), 23);
    assert_int_equal(PQparamtype(r, 1), 25); /* inferred */
    assert_int_equal(PQnfields(r), 2);
    assert_int_equal(PQftype(r, 1), 25);
    PQclear(r);
    for (int i = 0; i < 3; i++) {
        char n[16];
        snprintf(n, sizeof n, "%d", i * 7);
        const char *vals[2] = {n, "hi"};
        r = PQexecPrepared(c, "echo2", 2, vals, NULL, NULL, 0);
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        assert_string_equal(PQgetvalue(r, 0, 0), n);
        assert_string_equal(PQgetvalue(r, 0, 1), "hi");
        PQclear(r);
    }
    r = PQprepare(c, "types", "TYPES", 0, NULL);
    PQclear(r);
    r = PQdescribePrepared(c, "types");
    assert_int_equal(PQnparams(r), 0);
    assert_int_equal(PQnfields(r), NTYPES);
    for (int i = 0; i < NTYPES; i++) {
        eng_type t = eng_type_make(types[i].id, types[i].typmod);
        assert_int_equal(PQftype(r, i), eng_type_oid(&t));
        assert_int_equal(PQfmod(r, i), types[i].typmod);
    }
    PQclear(r);
    r = PQexecPrepared(c, "types", 0, NULL, NULL, NULL, 1);
    expect_binary_types(r);
    PQclear(r);
    r = PQprepare(c, "", "FAILPREPARE", 0, NULL);
    assert_string_equal(sqlstate(r), "42601");
    PQclear(r);
    r = PQdescribePrepared(c, "nosuch");
    assert_string_equal(sqlstate(r), "26000");
    PQclear(r);
    r = PQexecPrepared(c, "nosuch", 0, NULL, NULL, NULL, 0);
    assert_string_equal(sqlstate(r), "26000");
    PQclear(r);
    r = PQprepare(c, "notice", "NOTICE", 0, NULL);
    PQclear(r);
    r = PQdescribePrepared(c, "notice");
    assert_int_equal(PQnfields(r), 0); /* NoData */
    PQclear(r);
    PQfinish(c);
}

static void
test_single_row_mode(void **state)
{
    (void)state;
    PGconn *c = connect_ok();
    assert_int_equal(PQsendQuery(c, "ROWS 5"), 1);
    assert_int_equal(PQsetSingleRowMode(c), 1);
    for (int i = 1; i <= 5; i++) {
        PGresult *r = PQgetResult(c);
        assert_int_equal(PQresultStatus(r), PGRES_SINGLE_TUPLE);
        char n[16];
        snprintf(n, sizeof n, "%d", i);
        assert_string_equal(PQgetvalue(r, 0, 0), n);
        PQclear(r);
    }
    PGresult *r = PQgetResult(c);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 0);
    PQclear(r);
    assert_null(PQgetResult(c));
    PQfinish(c);
}

static void
test_pipeline_error_skips_to_sync(void **state)
{
    (void)state;
    PGconn *c = connect_ok();
    assert_int_equal(PQenterPipelineMode(c), 1);
    assert_int_equal(PQsendQueryParams(c, "ROWS 1", 0, NULL, NULL, NULL, NULL, 0), 1);
    assert_int_equal(PQsendQueryParams(c, "FAIL", 0, NULL, NULL, NULL, NULL, 0), 1);
    assert_int_equal(PQsendQueryParams(c, "ROWS 2", 0, NULL, NULL, NULL, NULL, 0), 1);
    assert_int_equal(PQpipelineSync(c), 1);
    assert_int_equal(PQsendQueryParams(c, "ROWS 3", 0, NULL, NULL, NULL, NULL, 0), 1);
    assert_int_equal(PQpipelineSync(c), 1);
    PGresult *r = PQgetResult(c);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    PQclear(r);
    assert_null(PQgetResult(c));
    r = PQgetResult(c);
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(sqlstate(r), "22012");
    PQclear(r);
    assert_null(PQgetResult(c));
    r = PQgetResult(c);
    assert_int_equal(PQresultStatus(r), PGRES_PIPELINE_ABORTED);
    PQclear(r);
    assert_null(PQgetResult(c));
    r = PQgetResult(c);
    assert_int_equal(PQresultStatus(r), PGRES_PIPELINE_SYNC);
    PQclear(r);
    r = PQgetResult(c); /* after Sync the next query runs */
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 3);
    PQclear(r);
    assert_null(PQgetResult(c));
    r = PQgetResult(c);
    assert_int_equal(PQresultStatus(r), PGRES_PIPELINE_SYNC);
    PQclear(r);
    assert_int_equal(PQexitPipelineMode(c), 1);
    PQfinish(c);
}

static char notice_text[256];

static void
on_notice(void *arg, const char *message)
{
    (void)arg;
    snprintf(notice_text, sizeof notice_text, "%s", message);
}

static void
test_notice(void **state)
{
    (void)state;
    PGconn *c = connect_ok();
    PQsetNoticeProcessor(c, on_notice, NULL);
    notice_text[0] = 0;
    PGresult *r = PQexec(c, "NOTICE");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    assert_string_equal(notice_text, "NOTICE:  hello from the server\n");
    PQfinish(c);
}

static void
test_copy_out(void **state)
{
    (void)state;
    PGconn *c = connect_ok();
    PGresult *r = PQexec(c, "COPY 3");
    assert_int_equal(PQresultStatus(r), PGRES_COPY_OUT);
    assert_int_equal(PQnfields(r), 2);
    assert_int_equal(PQbinaryTuples(r), 0);
    PQclear(r);
    const char *want[3] = {"1\ta\\tb\\\\c\\nd\\re\n", "2\t\\N\n", "3\ta\\tb\\\\c\\nd\\re\n"};
    for (int i = 0; i < 3; i++) {
        char *line = NULL;
        int n = PQgetCopyData(c, &line, 0);
        assert_int_equal(n, (int)strlen(want[i]));
        assert_memory_equal(line, want[i], (size_t)n);
        PQfreemem(line);
    }
    char *line = NULL;
    assert_int_equal(PQgetCopyData(c, &line, 0), -1);
    r = PQgetResult(c);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    assert_string_equal(PQcmdStatus(r), "COPY 3");
    PQclear(r);
    assert_null(PQgetResult(c));
    PQfinish(c);
}

static void
test_cancel(void **state)
{
    (void)state;
    PGconn *c = connect_ok();
    /* A cancel with nothing running is ignored. */
    PGcancel *cc = PQgetCancel(c);
    char eb[256];
    assert_int_equal(PQcancel(cc, eb, sizeof eb), 1);
    usleep(50000);
    PGresult *r = PQexec(c, "ROWS 1");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);

    assert_int_equal(PQsendQuery(c, "SLEEP"), 1);
    assert_int_equal(wait_for(&sleeping, 1, 2000), 1);
    int64_t t0 = now_ms();
    assert_int_equal(PQcancel(cc, eb, sizeof eb), 1);
    r = PQgetResult(c);
    int64_t ms = now_ms() - t0;
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(sqlstate(r), "57014");
    PQclear(r);
    assert_null(PQgetResult(c));
    assert_true(ms < 1000);
    r = PQexec(c, "ROWS 2"); /* the next statement is not cancelled */
    assert_int_equal(PQntuples(r), 2);
    PQclear(r);
    PQfreeCancel(cc);
    PQfinish(c);
}

/* 200 connections open at once, each running queries, from 8 threads. */
enum { NTHREADS = 8, PER_THREAD = 25 };
static pthread_barrier_t many_barrier;
static atomic_int many_ok;

static void *
many_main(void *arg)
{
    (void)arg;
    PGconn *cs[PER_THREAD];
    for (int i = 0; i < PER_THREAD; i++) {
        cs[i] = connect_as(S.port, NULL);
        if (PQstatus(cs[i]) != CONNECTION_OK)
            fprintf(stderr, "many: connect: %s", PQerrorMessage(cs[i]));
    }
    pthread_barrier_wait(&many_barrier);
    int ok = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < PER_THREAD; i++) {
            if (PQstatus(cs[i]) != CONNECTION_OK)
                continue;
            PGresult *r = PQexec(cs[i], round == 1 ? "ROWS 10; ROWS 20" : "ROWS 10");
            if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == (round == 1 ? 20 : 10))
                ok++;
            else
                fprintf(stderr, "many: query: %s", PQerrorMessage(cs[i]));
            PQclear(r);
        }
    }
    pthread_barrier_wait(&many_barrier); /* all queried */
    pthread_barrier_wait(&many_barrier); /* the main thread counted the connections */
    for (int i = 0; i < PER_THREAD; i++)
        PQfinish(cs[i]);
    atomic_fetch_add(&many_ok, ok);
    return NULL;
}

static void
test_many_connections(void **state)
{
    (void)state;
    int base_open = atomic_load(&n_open);
    pthread_t th[NTHREADS];
    pthread_barrier_init(&many_barrier, NULL, NTHREADS + 1);
    atomic_store(&many_ok, 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&th[i], NULL, many_main, NULL);
    pthread_barrier_wait(&many_barrier); /* all connected */
    pthread_barrier_wait(&many_barrier); /* all queried */
    assert_int_equal(atomic_load(&n_open) - base_open, NTHREADS * PER_THREAD);
    int nconns = io_pgw_connections(S.srv);
    if (nconns < NTHREADS * PER_THREAD)
        fprintf(stderr, "many: %d connections\n", nconns);
    pthread_barrier_wait(&many_barrier); /* now the clients may leave */
    assert_true(nconns >= NTHREADS * PER_THREAD);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&many_barrier);
    assert_int_equal(atomic_load(&many_ok), NTHREADS * PER_THREAD * 3);
    assert_int_equal(wait_for(&n_close, atomic_load(&n_open), 5000), atomic_load(&n_open));
}

static void
test_slow_reader_does_not_block_others(void **state)
{
    (void)state;
    int closes = atomic_load(&n_close);
    atomic_store(&big_rows, 0);
    int fd = raw_session();
    const char q[] = "BIG 1000000"; /* 1 GB if nothing held it back */
    raw_send(fd, 'Q', q, sizeof q);
    usleep(300000);
    PGconn *c = connect_ok();
    int64_t t0 = now_ms();
    for (int i = 0; i < 20; i++) {
        PGresult *r = PQexec(c, "ROWS 3");
        assert_int_equal(PQntuples(r), 3);
        PQclear(r);
    }
    assert_true(now_ms() - t0 < 2000);
    /* Backpressure: the stuck session stopped producing (socket buffers
     * plus the 1 MiB limit hold a few thousand 1 kB rows, not a million). */
    int sent = atomic_load(&big_rows);
    usleep(200000);
    assert_int_equal(atomic_load(&big_rows), sent);
    assert_true(sent < 100000);
    close(fd); /* the blocked session ends: its sends fail */
    assert_int_equal(wait_for(&n_close, closes + 1, 3000), closes + 1);
    PQfinish(c);
}

static void
test_dead_client_ends_session(void **state)
{
    (void)state;
    assert_int_equal(wait_for(&n_close, atomic_load(&n_open), 3000), atomic_load(&n_open));
    int closes = atomic_load(&n_close);
    int fd = raw_session();
    const char q[] = "SLEEP";
    raw_send(fd, 'Q', q, sizeof q);
    assert_int_equal(wait_for(&sleeping, 1, 2000), 1);
    struct linger lg = {1, 0}; /* close with RST */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    int64_t t0 = now_ms();
    close(fd);
    assert_int_equal(wait_for(&sleeping, 0, 1000), 0);
    assert_int_equal(wait_for(&n_close, closes + 1, 2000), closes + 1);
    assert_true(now_ms() - t0 < 1000);
}

static void
test_row_limit_raw(void **state)
{
    (void)state;
    int fd = raw_session();
    char b[4096];
    size_t n;
    raw_send(fd, 'P', "\0ROWS 5\0\0\0", 10);
    raw_send(fd, 'B', "\0\0\0\0\0\0\0\0", 8);
    raw_send(fd, 'D', "P\0", 2);
    for (int i = 0; i < 3; i++)
        raw_send(fd, 'E', "\0\0\0\0\2", 5);
    raw_send(fd, 'E', "\0\0\0\0\0", 5); /* the portal is done: 0 rows */
    raw_send(fd, 'S', NULL, 0);
    const char *want = "12TDDsDDsDCCZ";
    int row = 0;
    for (const char *w = want; *w; w++) {
        char t = raw_msg(fd, b, sizeof b, &n);
        assert_int_equal(t, *w);
        if (t == 'D') {
            char v[16];
            snprintf(v, sizeof v, "%d", ++row);
            assert_int_equal(n, 2 + 4 + strlen(v));
            assert_memory_equal(b + 6, v, strlen(v));
        }
        if (t == 'C')
            assert_string_equal(b, w[1] == 'C' ? "SELECT 1" : "SELECT 0");
        if (t == 'Z')
            assert_int_equal(b[0], 'I');
    }
    /* An error skips everything until Sync; unknown portal is 34000. */
    raw_send(fd, 'E', "nosuch\0\0\0\0\0", 11);
    raw_send(fd, 'P', "\0ROWS 1\0\0\0", 10);
    raw_send(fd, 'S', NULL, 0);
    assert_int_equal(raw_msg(fd, b, sizeof b, &n), 'E');
    assert_string_equal(err_field(b, n, 'C'), "34000");
    assert_int_equal(raw_msg(fd, b, sizeof b, &n), 'Z');
    /* Named portals, Close, result formats per column count. */
    raw_send(fd, 'P', "s1\0ROWS 3\0\0\0", 12);
    raw_send(fd, 'B', "p1\0s1\0\0\0\0\0\0\1\0\1", 14);
    raw_send(fd, 'E', "p1\0\0\0\0\1", 7);
    raw_send(fd, 'C', "Pp1\0", 4);
    raw_send(fd, 'E', "p1\0\0\0\0\1", 7);
    raw_send(fd, 'S', NULL, 0);
    const char *want2 = "12Ds3E";
    for (const char *w = want2; *w; w++) {
        char t = raw_msg(fd, b, sizeof b, &n);
        assert_int_equal(t, *w);
        if (t == 'D') /* binary int4 */
            assert_memory_equal(b + 2, "\0\0\0\4\0\0\0\1", 8);
        if (t == 'E')
            assert_string_equal(err_field(b, n, 'C'), "34000");
    }
    assert_int_equal(raw_msg(fd, b, sizeof b, &n), 'Z');
    /* Two result formats for a one-column query. */
    raw_send(fd, 'B', "\0s1\0\0\0\0\0\0\2\0\1\0\1", 14);
    raw_send(fd, 'S', NULL, 0);
    assert_int_equal(raw_msg(fd, b, sizeof b, &n), 'E');
    assert_string_equal(err_field(b, n, 'C'), "08P01");
    assert_int_equal(raw_msg(fd, b, sizeof b, &n), 'Z');
    /* Terminate: the server closes. */
    raw_send(fd, 'X', NULL, 0);
    expect_eof(fd);
    close(fd);
}

static void
expect_fatal(int fd, const char *code)
{
    char b[4096];
    size_t n;
    char t = raw_msg(fd, b, sizeof b, &n);
    assert_int_equal(t, 'E');
    assert_string_equal(err_field(b, n, 'S'), "FATAL");
    assert_string_equal(err_field(b, n, 'C'), code);
    expect_eof(fd);
    close(fd);
}

static void
test_garbage(void **state)
{
    (void)state;
    srand(42);
    for (int k = 0; k < 20; k++) { /* random bytes: answered or dropped, never a crash */
        int fd = raw_connect(S.port);
        char junk[512];
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (char)rand();
        if (k % 2 == 1) /* a valid startup, then junk */
            raw_startup_packet(fd, 196608, "raw", "materialize");
        send(fd, junk, sizeof junk, MSG_NOSIGNAL);
        if (k % 4 == 0) {
            expect_eof(fd);
        }
        close(fd);
    }
    int fd = raw_connect(S.port); /* truncated startup packet */
    raw_write(fd, "\0\0\0\x64\0\3", 6);
    close(fd);
    fd = raw_connect(S.port);
    raw_write(fd, "\x7f\xff\xff\xff", 4);
    expect_fatal(fd, "08P01");
    fd = raw_connect(S.port);
    raw_startup_packet(fd, 2 << 16, "raw", "materialize");
    expect_fatal(fd, "0A000");
    fd = raw_connect(S.port);
    raw_startup_packet(fd, 196608, "raw", "nosuch");
    char b[4096];
    size_t n;
    assert_int_equal(raw_msg(fd, b, sizeof b, &n), 'R');
    assert_int_equal(raw_msg(fd, b, sizeof b, &n), 'E');
    assert_string_equal(err_field(b, n, 'C'), "3D000");
    assert_string_equal(err_field(b, n, 'M'), "database \"nosuch\" does not exist");
    expect_eof(fd);
    close(fd);
    fd = raw_connect(S.port); /* the handler refuses the session */
    raw_startup_packet(fd, 196608, "refused", "materialize");
    assert_int_equal(raw_msg(fd, b, sizeof b, &n), 'R');
    expect_fatal(fd, "28000");
    fd = raw_session(); /* length below 4 */
    raw_write(fd, "Q\0\0\0\2", 5);
    expect_fatal(fd, "08P01");
    fd = raw_session(); /* unknown message type */
    raw_send(fd, 'z', "abc", 3);
    expect_fatal(fd, "08P01");
    fd = raw_session(); /* a small message over its limit */
    raw_write(fd, "S\0\1\0\0", 5);
    expect_fatal(fd, "08P01");
    fd = raw_session(); /* a truncated Bind is an ERROR, not FATAL */
    raw_send(fd, 'B', "\0\0\0\5", 4);
    raw_send(fd, 'S', NULL, 0);
    assert_int_equal(raw_msg(fd, b, sizeof b, &n), 'E');
    assert_string_equal(err_field(b, n, 'C'), "08P01");
    assert_int_equal(raw_msg(fd, b, sizeof b, &n), 'Z');
    raw_write(fd, "Q\0\0\0\x0a", 5); /* a truncated message, then the client leaves */
    close(fd);
    fd = raw_connect(S.port); /* a cancel with a wrong key: no answer, closed */
    raw_write(fd, "\0\0\0\x10\x04\xd2\x16\x2e\0\0\0\1\0\0\0\2", 16);
    expect_eof(fd);
    close(fd);
    fd = raw_connect(S.port); /* SSLRequest: N, then a normal startup */
    raw_write(fd, "\0\0\0\x08\x04\xd2\x16\x2f", 8);
    assert_true(raw_read_full(fd, b, 1));
    assert_int_equal(b[0], 'N');
    raw_startup_packet(fd, 196608, "raw", "materialize");
    while ((b[0] = raw_msg(fd, b + 1, sizeof b - 1, NULL)) != 'Z')
        assert_true(b[0] != 0);
    close(fd);
    PGconn *c = connect_ok(); /* and the server is fine */
    PGresult *r = PQexec(c, "ROWS 2");
    assert_int_equal(PQntuples(r), 2);
    PQclear(r);
    PQfinish(c);
}

static void
test_terminate(void **state)
{
    (void)state;
    assert_int_equal(wait_for(&n_close, atomic_load(&n_open), 3000), atomic_load(&n_open));
    int opens = atomic_load(&n_open);
    PGconn *c = connect_ok();
    assert_int_equal(atomic_load(&n_open), opens + 1);
    PQfinish(c); /* sends Terminate */
    assert_int_equal(wait_for(&n_close, opens + 1, 2000), opens + 1);
}

static void
test_password_file(void **state)
{
    (void)state;
    char path[] = "/tmp/sluice-pw-XXXXXX";
    int fd = mkstemp(path);
    const char text[] = "# users\nalice:s3cret\n\nbob:pw:with:colons\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)sizeof text - 1);
    close(fd);
    tsrv t;
    tsrv_start(&t, path);
    PGconn *c = connect_as(t.port, "user=alice password=s3cret");
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "ROWS 1");
    assert_int_equal(PQntuples(r), 1);
    PQclear(r);
    PQfinish(c);
    c = connect_as(t.port, "user=bob password=pw:with:colons");
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQfinish(c);
    c = connect_as(t.port, "user=alice password=wrong");
    assert_int_equal(PQstatus(c), CONNECTION_BAD);
    assert_non_null(strstr(PQerrorMessage(c), "password authentication failed for user \"alice\""));
    PQfinish(c);
    c = connect_as(t.port, "user=carol password=s3cret");
    assert_int_equal(PQstatus(c), CONNECTION_BAD);
    assert_non_null(strstr(PQerrorMessage(c), "password authentication failed for user \"carol\""));
    PQfinish(c);
    c = connect_as(t.port, "user=alice password=s3cret dbname=other");
    assert_int_equal(PQstatus(c), CONNECTION_BAD);
    assert_non_null(strstr(PQerrorMessage(c), "database \"other\" does not exist"));
    PQfinish(c);
    tsrv_stop(&t);
    unlink(path);

    /* An unreadable file fails listen with 58P01. */
    io_loop *loop;
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(io_loop_open(&loop, 8, &err), 0);
    io_pgw_server *srv = NULL;
    io_pgw_options opts = {.host = "127.0.0.1", .password_file = "/nonexistent/pw"};
    assert_int_equal(io_pgw_listen(&srv, loop, &opts, &handler, NULL, &err), -1);
    assert_string_equal(err.sqlstate, "58P01");
    io_loop_close(loop);
}

static void
test_shutdown_with_clients(void **state)
{
    (void)state;
    tsrv t;
    tsrv_start(&t, NULL);
    PGconn *idle = connect_as(t.port, NULL);
    PGconn *busy = connect_as(t.port, NULL);
    assert_int_equal(PQstatus(idle), CONNECTION_OK);
    assert_int_equal(PQsendQuery(busy, "SLEEP"), 1);
    int raw = raw_connect(t.port); /* mid-startup */
    usleep(100000);
    int64_t t0 = now_ms();
    tsrv_stop(&t);
    assert_true(now_ms() - t0 < 1500);
    PGresult *r = PQgetResult(busy);
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    PQclear(r);
    while ((r = PQgetResult(busy)) != NULL)
        PQclear(r);
    r = PQexec(idle, "ROWS 1");
    assert_int_not_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    PQfinish(idle);
    PQfinish(busy);
    close(raw);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_query),
        cmocka_unit_test(test_multiple_results),
        cmocka_unit_test(test_exec_params_binary),
        cmocka_unit_test(test_prepared),
        cmocka_unit_test(test_single_row_mode),
        cmocka_unit_test(test_pipeline_error_skips_to_sync),
        cmocka_unit_test(test_notice),
        cmocka_unit_test(test_copy_out),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_row_limit_raw),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_many_connections),
        cmocka_unit_test(test_slow_reader_does_not_block_others),
        cmocka_unit_test(test_dead_client_ends_session),
        cmocka_unit_test(test_terminate),
        cmocka_unit_test(test_password_file),
        cmocka_unit_test(test_shutdown_with_clients),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
