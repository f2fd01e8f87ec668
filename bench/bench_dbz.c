/* sluice-bench dbzjson: Debezium JSON decoding (io_dbz_decode, a scanner
 * over the message bytes) against the jansson tree decoder it replaced
 * (tests/io/dbz_json_ref.c), on the same messages in the same run.
 *
 * Cases (one JSON line each; exits 1 if the decoders' outputs differ on
 * any message):
 *   customers_schema  the values sluice-kafka-produce --gen-debezium
 *                     --gen-format json sends: schema embedded (~1.7 KB)
 *   customers_bare    the same payloads without the schema
 *                     (schemas.enable=false, ~400 B)
 *   customers_key     the keys, schema embedded (io_dbz_decode_key)
 *   doc_create        Debezium's documented PostgreSQL create event
 *                     (tests/io/dbz/pg-create-event.value.json) with its
 *                     white space removed (~2.4 KB, the full source block)
 * Each case decodes --messages distinct messages (default 4096, ids 1..N)
 * round after round for --seconds (default 1) per decoder, after a
 * warm-up round; ns_per_msg is the mean, ratio = ref_ns_per_msg /
 * ns_per_msg. --only new|ref times one decoder (for profiling; the other
 * reads 0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "io/io_dbz.h"
#include "tests/harness/dbz_gen.h"
#include "tests/io/dbz_json_ref.h"

typedef int (*decode_fn)(const io_dbz_schema *cols, const char *p, size_t n, io_dbz_change *out,
                         eng_err *err);

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* n messages back to back in one buffer. */
typedef struct msgs {
    char *buf;
    size_t *off; /* message i = buf[off[i] .. off[i + 1]) */
    int n;
} msgs;

static void
msgs_add(msgs *M, size_t *cap, const char *p, size_t n)
{
    size_t at = M->off[M->n];
    if (at + n > *cap) {
        *cap = 2 * (at + n);
        M->buf = realloc(M->buf, *cap);
        if (M->buf == NULL)
            abort();
    }
    memcpy(M->buf + at, p, n);
    M->off[++M->n] = at + n;
}

/* Removes white space outside strings (the documented sample is
 * pretty-printed; Kafka Connect writes compact JSON). */
static size_t
compact(char *p, size_t n)
{
    size_t o = 0;
    bool in = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in) {
            if (c == '\\' && i + 1 < n) {
                p[o++] = c;
                c = p[++i];
            } else if (c == '"') {
                in = false;
            }
        } else if (c == '"') {
            in = true;
        } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            continue;
        }
        p[o++] = c;
    }
    return o;
}

static int
make_msgs(const char *cas, int n, msgs *M)
{
    size_t cap = 0;
    M->buf = NULL;
    M->n = 0;
    M->off = calloc((size_t)n + 1, sizeof *M->off);
    if (M->off == NULL)
        abort();
    char m[4096];
    if (strcmp(cas, "doc_create") == 0) {
        char path[1024];
        snprintf(path, sizeof path, "%s/tests/io/dbz/pg-create-event.value.json",
                 SLUICE_SOURCE_DIR);
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            fprintf(stderr, "dbzjson: cannot open %s\n", path);
            return -1;
        }
        size_t len = fread(m, 1, sizeof m, f);
        fclose(f);
        len = compact(m, len);
        for (int i = 0; i < n; i++)
            msgs_add(M, &cap, m, len);
        return 0;
    }
    for (int i = 1; i <= n; i++) {
        size_t len;
        if (strcmp(cas, "customers_schema") == 0)
            len = t_dbz_gen_message(i, 0, m, sizeof m);
        else if (strcmp(cas, "customers_bare") == 0)
            len = t_dbz_gen_payload(i, m, sizeof m);
        else if (strcmp(cas, "customers_key") == 0)
            len = t_dbz_gen_message(i, 1, m, sizeof m);
        else
            return -1;
        msgs_add(M, &cap, m, len);
    }
    return 0;
}

static int
key_new(const io_dbz_schema *cols, const char *p, size_t n, io_dbz_change *out, eng_err *err)
{
    return io_dbz_decode_key(cols, p, n, out, err);
}

static int
key_ref(const io_dbz_schema *cols, const char *p, size_t n, io_dbz_change *out, eng_err *err)
{
    return t_dbz_ref_decode_key(cols, p, n, out, err);
}

/* Decodes every message once; exits on an error. Returns the row bytes
 * produced (kept so the work is not optimised away). */
static size_t
round_of(decode_fn fn, const io_dbz_schema *cols, const msgs *M, io_dbz_change *c)
{
    size_t bytes = 0;
    eng_err err;
    eng_err_clear(&err);
    for (int i = 0; i < M->n; i++) {
        if (fn(cols, M->buf + M->off[i], M->off[i + 1] - M->off[i], c, &err) != 0) {
            fprintf(stderr, "dbzjson: message %d: %s\n", i, err.message);
            exit(1);
        }
        bytes += c->after.len + c->key.len;
    }
    return bytes;
}

/* Mean ns per message over rounds for at least secs. */
static double
time_decoder(decode_fn fn, const io_dbz_schema *cols, const msgs *M, double secs)
{
    io_dbz_change c = {0};
    round_of(fn, cols, M, &c); /* warm-up: buffers grown, caches and pages touched */
    long rounds = 0;
    volatile size_t sink = 0;
    double t0 = now_s(), t;
    do {
        sink += round_of(fn, cols, M, &c);
        rounds++;
    } while ((t = now_s()) - t0 < secs);
    (void)sink;
    io_dbz_change_free(&c);
    return (t - t0) * 1e9 / ((double)rounds * M->n);
}

static bool
same_change(const io_dbz_change *a, const io_dbz_change *b)
{
    return a->op == b->op && a->has_before == b->has_before && a->has_after == b->has_after &&
           a->before_partial == b->before_partial && a->unknown_fields == b->unknown_fields &&
           a->has_key == b->has_key && a->before.len == b->before.len &&
           a->after.len == b->after.len && a->key.len == b->key.len &&
           (!a->before.len || memcmp(a->before.data, b->before.data, a->before.len) == 0) &&
           (!a->after.len || memcmp(a->after.data, b->after.data, a->after.len) == 0) &&
           (!a->key.len || memcmp(a->key.data, b->key.data, a->key.len) == 0) &&
           a->has_lsn == b->has_lsn && a->lsn == b->lsn && a->has_txid == b->has_txid &&
           a->txid == b->txid && a->has_source_ts == b->has_source_ts &&
           a->source_ts_ms == b->source_ts_ms && a->has_ts == b->has_ts && a->ts_ms == b->ts_ms &&
           a->has_txn == b->has_txn && strcmp(a->txn_id, b->txn_id) == 0 &&
           a->txn_total_order == b->txn_total_order &&
           a->txn_collection_order == b->txn_collection_order;
}

/* which decoders are timed: 3 both, 1 new only, 2 reference only (for
 * profiling one of them) */
static int timed = 3;

static int
run_case(const char *cas, int n, double secs)
{
    msgs M;
    if (make_msgs(cas, n, &M) < 0) {
        fprintf(stderr, "dbzjson: unknown case %s\n", cas);
        return 2;
    }
    bool key = strcmp(cas, "customers_key") == 0;
    io_dbz_schema cols = {0};
    eng_err err;
    eng_err_clear(&err);
    /* the columns: from the first message's schema (the bare case's from
     * the generated value with its schema) */
    char m[4096];
    size_t len = strcmp(cas, "customers_bare") == 0 ? t_dbz_gen_message(1, 0, m, sizeof m) : 0;
    if (io_dbz_schema_derive(len ? m : M.buf, len ? len : M.off[1], &cols, &err) != 0) {
        fprintf(stderr, "dbzjson: %s: %s\n", cas, err.message);
        return 1;
    }
    decode_fn fnew = key ? key_new : io_dbz_decode, fref = key ? key_ref : t_dbz_ref_decode;
    /* verify: both decoders, every message */
    bool verified = true;
    io_dbz_change a = {0}, b = {0};
    for (int i = 0; i < M.n && verified; i++) {
        const char *p = M.buf + M.off[i];
        size_t pn = M.off[i + 1] - M.off[i];
        eng_err ea, eb;
        eng_err_clear(&ea);
        eng_err_clear(&eb);
        verified = fnew(&cols, p, pn, &a, &ea) == 0 && fref(&cols, p, pn, &b, &eb) == 0 &&
                   same_change(&a, &b);
    }
    io_dbz_change_free(&a);
    io_dbz_change_free(&b);
    double ns = timed & 1 ? time_decoder(fnew, &cols, &M, secs) : 0;
    double ref = timed & 2 ? time_decoder(fref, &cols, &M, secs) : 0;
    size_t bytes = M.off[M.n];
    printf("{\"bench\":\"dbzjson\",\"case\":\"%s\",\"messages\":%d,\"bytes_per_msg\":%.0f,"
           "\"ns_per_msg\":%.0f,\"msgs_per_s\":%.0f,\"MB_per_s\":%.0f,\"ref_ns_per_msg\":%.0f,"
           "\"ratio\":%.2f,\"verified\":%s}\n",
           cas, M.n, (double)bytes / M.n, ns, 1e9 / ns, (double)bytes / M.n / ns * 1e3, ref,
           ref / ns, verified ? "true" : "false");
    fflush(stdout);
    io_dbz_schema_free(&cols);
    free(M.buf);
    free(M.off);
    return verified ? 0 : 1;
}

int
bench_dbz_main(int argc, char **argv)
{
    int n = 4096;
    double secs = 1.0;
    const char *only[8];
    int nonly = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            secs = atof(argv[++i]);
        else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc && nonly < 8)
            only[nonly++] = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            timed = strcmp(argv[++i], "new") == 0 ? 1 : 2;
        else {
            fprintf(stderr, "usage: sluice-bench dbzjson [--messages N] [--seconds S] "
                            "[--case NAME]... [--only new|ref]\n");
            return 2;
        }
    }
    if (n < 1)
        n = 1;
    static const char *const cases[] = {"customers_schema", "customers_bare", "customers_key",
                                        "doc_create"};
    if (nonly == 0)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            only[nonly++] = cases[i];
    int rc = 0;
    for (int i = 0; i < nonly; i++) {
        int r = run_case(only[i], n, secs);
        if (r > rc)
            rc = r;
    }
    return rc;
}
