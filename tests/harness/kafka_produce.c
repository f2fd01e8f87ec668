/* sluice-kafka-produce: writes messages given one per line on stdin into a
 * Kafka topic (the harness's mock cluster), in order, for integration tests
 * and benchmarks of the Kafka sources.
 *
 *   sluice-kafka-produce -b BROKERS -t TOPIC [-p PARTITION]
 *       [--format json|avro|raw] [--key-format json|avro|raw] [--no-check]
 *       [--registry URL [--user U --password P]]
 *       [--key-schema FILE] [--value-schema FILE]
 *       [--key-subject S] [--value-subject S]
 *       [--key-schema-id N] [--value-schema-id N]
 *       [-X librdkafka.property=value]... [-v] < input
 *   sluice-kafka-produce -b BROKERS -t TOPIC --gen-debezium N
 *       --gen-format json|avro [--gen-partitions P] [schema options]
 *
 * Input, one message per line: `[@P<TAB>]KEY<TAB>VALUE`, or `[@P<TAB>]VALUE`
 * for a message without a key. The first TAB after the optional partition
 * ends the key. `null` as KEY is no key; `null` as VALUE is a null value (a
 * tombstone). `@P` sends the message to partition P, overriding -p;
 * without either, librdkafka's default partitioner (a hash of the key)
 * decides. Blank lines and lines starting with `#` are skipped.
 *
 * Formats (--format for values, --key-format for keys):
 *   json  the bytes as written, checked to be one JSON value (--no-check
 *         skips the check);
 *   raw   hex digits, spaces allowed between bytes ("00 00 00 00 01 ff"),
 *         for corrupt input;
 *   avro  a JSON document encoded as Avro binary against --value-schema
 *         (--key-schema) in the Confluent wire format (magic 0, 4-byte
 *         big-endian schema id, body); see avro_encode.h for the JSON
 *         accepted. The id comes from registering the schema file with the
 *         registry (POST URL/subjects/SUBJECT/versions, subjects
 *         TOPIC-key and TOPIC-value by default), or from --*-schema-id N,
 *         which skips the registry (to test unknown ids).
 * The key format defaults to --format, except that with --format avro and
 * no --key-schema keys are JSON text.
 *
 * Order and failure: lines are produced in input order with
 * enable.idempotence=false, acks=all and one request in flight per broker,
 * so a partition keeps the input's order even across retries. The first
 * invalid line stops the input: the lines before it are delivered, nothing
 * of it or after it is produced, and the exit status is 1 with
 * "line N: ..." on stderr. A failed delivery (say, to a partition that does
 * not exist) stops the input as soon as it is reported (lines already
 * handed to librdkafka are still delivered); the exit status is 1 with
 * "line N: delivery failed: ..." for the first failed line. -X passes
 * librdkafka properties (after the defaults, so they override). Exit 0
 * once every message is delivered (-v prints how many), 2 for a usage
 * error.
 *
 * Generated load (benchmarks): --gen-debezium N --gen-format json|avro
 * [--gen-partitions P] reads no input and produces N Debezium inserts
 * (op "c") of a customers(id, first_name, last_name, email) table, ids 1..N,
 * keyed by {"id": i}, with source.lsn 1000 + 16 i and source.txId i; id i
 * goes to partition (i - 1) % P, or where the default partitioner puts its
 * key without --gen-partitions. json: Debezium's JSON with embedded schemas
 * (schemas.enable=true); avro: the envelope and key as JSON documents
 * encoded against --value-schema and --key-schema (tests/io/data's
 * envelope.avsc and key.avsc fit). The generated lines go through the same
 * path as input lines ("line N" is event N), without the JSON check. The
 * mock keeps about 5 MiB per partition (a JSON event is about 2.5 KiB):
 * spread a large N over partitions or consume while producing. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/eng_hex.h"
#include "tests/harness/avro_encode.h"
#include "tests/harness/dbz_gen.h"

#define PROG "sluice-kafka-produce"

typedef enum fmt { F_JSON, F_AVRO, F_RAW, F_UNSET } fmt;

/* How keys or values are written. */
typedef struct side {
    const char *what; /* "key" or "value" */
    fmt format;
    const char *schema_file, *subject;
    long long schema_id; /* -1: register */
    t_avro_schema *schema;
} side;

typedef struct opts {
    const char *brokers, *topic, *registry, *user, *password;
    int32_t partition;
    bool check, verbose;
    side key, value;
    long long gen;       /* --gen-debezium N; 0: read stdin */
    fmt gen_format;      /* F_UNSET unless --gen-format */
    long long gen_parts; /* --gen-partitions P; 0: the default partitioner */
} opts;

/* Delivery state, updated by the delivery report callback (which runs
 * inside rd_kafka_poll/flush on this thread). */
typedef struct delivery {
    long delivered, failed;
    long first_failed_line;
    char first_error[512];
} delivery;

static void
usage(void)
{
    fprintf(stderr,
            "usage: " PROG " -b BROKERS -t TOPIC [-p PARTITION] [--format json|avro|raw]\n"
            "    [--key-format json|avro|raw] [--no-check] [--registry URL [--user U --password "
            "P]]\n"
            "    [--key-schema FILE] [--value-schema FILE] [--key-subject S] [--value-subject S]\n"
            "    [--key-schema-id N] [--value-schema-id N] [-X prop=value]... [-v] < input\n"
            "   or: ... --gen-debezium N --gen-format json|avro [--gen-partitions P]\n"
            "input: one message a line, [@PARTITION<TAB>][KEY<TAB>]VALUE; null = no key / a "
            "tombstone\n");
}

static int
parse_fmt(const char *s, fmt *out)
{
    if (strcmp(s, "json") == 0)
        *out = F_JSON;
    else if (strcmp(s, "avro") == 0)
        *out = F_AVRO;
    else if (strcmp(s, "raw") == 0)
        *out = F_RAW;
    else
        return -1;
    return 0;
}

static int
parse_ll(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *p = realloc(buf, cap);
            if (p == NULL)
                abort();
            buf = p;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* ------------------------------------------------------------------ registry */

static size_t
collect(char *p, size_t size, size_t n, void *ud)
{
    t_avro_buf_put(ud, p, size * n);
    return size * n;
}

/* Registers schema text under subject; returns its id, or -1 with a
 * message on stderr. Blocks for the HTTP round trip (30 s at most). */
static long long
register_schema(const opts *o, const char *subject, const char *text)
{
    long long id = -1;
    CURL *h = curl_easy_init();
    json_t *body = json_pack("{s:s}", "schema", text);
    char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
    char *esc = h ? curl_easy_escape(h, subject, 0) : NULL;
    struct curl_slist *hdrs = NULL;
    t_avro_buf resp = {0};
    if (h == NULL || payload == NULL || esc == NULL) {
        fprintf(stderr, PROG ": cannot build the registry request for %s\n", subject);
        goto done;
    }
    size_t ulen = strlen(o->registry);
    while (ulen > 0 && o->registry[ulen - 1] == '/')
        ulen--;
    char url[2048];
    snprintf(url, sizeof url, "%.*s/subjects/%s/versions", (int)ulen, o->registry, esc);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/vnd.schemaregistry.v1+json");
    hdrs = curl_slist_append(hdrs, "Accept: application/vnd.schemaregistry.v1+json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (o->user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, o->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, o->password ? o->password : "");
    }
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        fprintf(stderr, PROG ": registering %s at %s: %s\n", subject, url, curl_easy_strerror(cc));
        goto done;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    t_avro_buf_put(&resp, "", 1); /* a C string, for the message below */
    json_t *r = json_loadb((const char *)resp.data, resp.len - 1, 0, NULL);
    json_t *jid = json_object_get(r, "id");
    if (status / 100 == 2 && json_is_integer(jid) && json_integer_value(jid) >= 0 &&
        json_integer_value(jid) <= UINT32_MAX) {
        id = json_integer_value(jid);
    } else {
        fprintf(stderr, PROG ": registering %s at %s: HTTP %ld: %s\n", subject, url, status,
                resp.len > 1 ? (const char *)resp.data : "(empty response)");
    }
    json_decref(r);
done:
    t_avro_buf_free(&resp);
    curl_slist_free_all(hdrs);
    curl_free(esc);
    free(payload);
    json_decref(body);
    if (h)
        curl_easy_cleanup(h);
    return id;
}

/* Compiles the side's schema and finds its id (registering it unless
 * given). Returns 0 or -1 with a message on stderr. */
static int
prepare_avro(opts *o, side *s)
{
    if (s->schema_file == NULL) {
        fprintf(stderr, PROG ": --format avro for the %s needs --%s-schema FILE\n", s->what,
                s->what);
        return -1;
    }
    size_t n;
    char *text = slurp(s->schema_file, &n);
    if (text == NULL) {
        fprintf(stderr, PROG ": cannot read %s: %s\n", s->schema_file, strerror(errno));
        return -1;
    }
    char err[512];
    s->schema = t_avro_schema_parse(text, n, err, sizeof err);
    if (s->schema == NULL) {
        fprintf(stderr, PROG ": %s: %s\n", s->schema_file, err);
        free(text);
        return -1;
    }
    if (s->schema_id < 0) {
        if (o->registry == NULL) {
            fprintf(stderr, PROG ": the %s schema needs --registry URL or --%s-schema-id N\n",
                    s->what, s->what);
            free(text);
            return -1;
        }
        char subject[512];
        if (s->subject)
            snprintf(subject, sizeof subject, "%s", s->subject);
        else
            snprintf(subject, sizeof subject, "%s-%s", o->topic, s->what);
        s->schema_id = register_schema(o, subject, text);
        if (s->schema_id < 0) {
            free(text);
            return -1;
        }
        if (o->verbose)
            fprintf(stderr, PROG ": %s registered as schema id %lld\n", subject, s->schema_id);
    }
    free(text);
    return 0;
}

/* ------------------------------------------------------------------ lines */

/* Encodes one key or value text (borrowed) into out as s's format says.
 * Returns 0, or -1 with a message in err. */
static int
encode_side(const opts *o, const side *s, const char *p, size_t n, t_avro_buf *out, char *err,
            size_t cap)
{
    out->len = 0;
    if (s->format == F_RAW) {
        for (size_t i = 0; i < n;) {
            if (p[i] == ' ') {
                i++;
                continue;
            }
            int hi = eng_hex_digit(p[i]), lo = i + 1 < n ? eng_hex_digit(p[i + 1]) : -1;
            if (hi < 0 || lo < 0) {
                snprintf(err, cap, "%s: not hex digit pairs at character %zu", s->what, i + 1);
                return -1;
            }
            uint8_t b = (uint8_t)(hi << 4 | lo);
            t_avro_buf_put(out, &b, 1);
            i += 2;
        }
        return 0;
    }
    char msg[512];
    if (s->format == F_AVRO) {
        t_avro_cf_header(out, (uint32_t)s->schema_id);
        if (t_avro_encode_text(s->schema, p, n, out, msg, sizeof msg) < 0) {
            snprintf(err, cap, "%s: %s", s->what, msg);
            return -1;
        }
        return 0;
    }
    if (o->check) {
        json_error_t je;
        json_t *j = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        if (j == NULL) {
            snprintf(err, cap, "%s: invalid JSON at column %d: %s", s->what, je.column, je.text);
            return -1;
        }
        json_decref(j);
    }
    t_avro_buf_put(out, p, n);
    return 0;
}

/* One parsed input line: a partition (RD_KAFKA_PARTITION_UA if none) and
 * the encoded key and value (NULL: none / a tombstone). */
typedef struct msg {
    int32_t partition;
    bool has_key, has_value;
    t_avro_buf key, value;
} msg;

/* Parses one line (without its newline) into m. Returns 1 for a message,
 * 0 for a line to skip, -1 with a message in err. */
static int
parse_line(const opts *o, char *line, size_t len, msg *m, char *err, size_t cap)
{
    while (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
    size_t sp = 0;
    while (sp < len && (line[sp] == ' ' || line[sp] == '\t'))
        sp++;
    if (sp == len || line[0] == '#')
        return 0;
    m->partition = o->partition;
    char *p = line, *end = line + len;
    if (p[0] == '@') {
        char *tab = memchr(p, '\t', len);
        long long part;
        if (tab == NULL || tab == p + 1) {
            snprintf(err, cap, "a line starting with @ needs @PARTITION<TAB>");
            return -1;
        }
        *tab = '\0';
        if (parse_ll(p + 1, 0, INT32_MAX, &part) < 0) {
            snprintf(err, cap, "bad partition \"%s\" (expected @PARTITION<TAB>)", p + 1);
            return -1;
        }
        m->partition = (int32_t)part;
        p = tab + 1;
    }
    char *tab = memchr(p, '\t', (size_t)(end - p));
    const char *k = NULL, *v = p;
    size_t kn = 0, vn = (size_t)(end - p);
    if (tab) {
        k = p;
        kn = (size_t)(tab - p);
        v = tab + 1;
        vn = (size_t)(end - v);
    }
    m->has_key = k != NULL && !(kn == 4 && memcmp(k, "null", 4) == 0);
    m->has_value = !(vn == 4 && memcmp(v, "null", 4) == 0);
    if (m->has_key && encode_side(o, &o->key, k, kn, &m->key, err, cap) < 0)
        return -1;
    if (m->has_value && encode_side(o, &o->value, v, vn, &m->value, err, cap) < 0)
        return -1;
    return 1;
}

/* ------------------------------------------------------------------ generated load */

/* Writes generated event i as an input line ("[@P<TAB>]KEY<TAB>VALUE")
 * into line (grown as needed); returns its length. */
static size_t
gen_line(const opts *o, long long i, char **line, size_t *cap)
{
    char part[32] = "", key[64], payload[512];
    if (o->gen_parts > 0)
        snprintf(part, sizeof part, "@%lld\t", (i - 1) % o->gen_parts);
    t_dbz_gen_key(i, key, sizeof key);
    t_dbz_gen_payload(i, payload, sizeof payload);
    size_t need = strlen(t_dbz_gen_key_schema) + strlen(t_dbz_gen_value_schema) + 1024;
    if (*cap < need) {
        char *p = realloc(*line, need);
        if (p == NULL)
            abort();
        *line = p;
        *cap = need;
    }
    int n;
    if (o->gen_format == F_AVRO)
        n = snprintf(*line, *cap, "%s%s\t%s", part, key, payload);
    else
        n = snprintf(*line, *cap,
                     "%s{\"schema\":%s,\"payload\":%s}\t{\"schema\":%s,\"payload\":%s}", part,
                     t_dbz_gen_key_schema, key, t_dbz_gen_value_schema, payload);
    return (size_t)n;
}

/* ------------------------------------------------------------------ producing */

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    delivery *d = opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        d->delivered++;
        return;
    }
    long line = (long)(intptr_t)m->_private;
    if (d->failed++ == 0 || line < d->first_failed_line) {
        d->first_failed_line = line;
        snprintf(d->first_error, sizeof d->first_error, "%s (partition %d)",
                 rd_kafka_err2str(m->err), (int)m->partition);
    }
}

static rd_kafka_t *
make_producer(const opts *o, delivery *d, char **props, int nprops)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *defaults[][2] = {
        {"bootstrap.servers", o->brokers},
        {"enable.idempotence", "false"},
        {"acks", "all"},
        {"linger.ms", "5"},
        /* without idempotence a retried request could overtake the next */
        {"max.in.flight.requests.per.connection", "1"},
        /* a wrong broker address fails in 30 s, not librdkafka's 5 minutes */
        {"message.timeout.ms", "30000"},
        {"log_level", "3"},
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (rd_kafka_conf_set(conf, defaults[i][0], defaults[i][1], errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK) {
            fprintf(stderr, PROG ": %s\n", errstr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    for (int i = 0; i < nprops; i++) {
        char *eq = strchr(props[i], '=');
        if (eq == NULL) {
            fprintf(stderr, PROG ": -X %s: expected property=value\n", props[i]);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
        *eq = '\0';
        if (rd_kafka_conf_set(conf, props[i], eq + 1, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, PROG ": -X %s: %s\n", props[i], errstr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, d);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        fprintf(stderr, PROG ": %s\n", errstr);
        rd_kafka_conf_destroy(conf); /* rd_kafka_new takes it only on success */
    }
    return rk;
}

/* Hands one message to librdkafka (copied), waiting while its queue is
 * full. Returns 0 or -1 with a message in err. */
static int
produce(rd_kafka_t *rk, const opts *o, const msg *m, long line, char *err, size_t cap)
{
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(o->topic), RD_KAFKA_V_PARTITION(m->partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(m->has_key ? m->key.data : NULL, m->has_key ? m->key.len : 0),
            RD_KAFKA_V_VALUE(m->has_value ? m->value.data : NULL, m->has_value ? m->value.len : 0),
            RD_KAFKA_V_OPAQUE((void *)(intptr_t)line), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            snprintf(err, cap, "cannot produce: %s", rd_kafka_err2str(e));
            return -1;
        }
        rd_kafka_poll(rk, 10);
    }
}

/* Fills o from the command line; -X properties go to props (argc slots),
 * their count to *nprops. Returns 0, 1 for --help, -1 for a usage error
 * (the caller prints the usage). */
static int
parse_args(int argc, char **argv, opts *o, char **props, int *nprops)
{
    *o = (opts){.partition = RD_KAFKA_PARTITION_UA, .check = true, .gen_format = F_UNSET};
    o->key = (side){.what = "key", .format = F_UNSET, .schema_id = -1};
    o->value = (side){.what = "value", .format = F_JSON, .schema_id = -1};
    enum {
        O_FORMAT = 256,
        O_KEY_FORMAT,
        O_NO_CHECK,
        O_REGISTRY,
        O_USER,
        O_PASSWORD,
        O_KEY_SCHEMA,
        O_VALUE_SCHEMA,
        O_KEY_SUBJECT,
        O_VALUE_SUBJECT,
        O_KEY_ID,
        O_VALUE_ID,
        O_GEN,
        O_GEN_FORMAT,
        O_GEN_PARTS
    };
    static const struct option longs[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"partition", required_argument, NULL, 'p'},
        {"format", required_argument, NULL, O_FORMAT},
        {"key-format", required_argument, NULL, O_KEY_FORMAT},
        {"no-check", no_argument, NULL, O_NO_CHECK},
        {"registry", required_argument, NULL, O_REGISTRY},
        {"user", required_argument, NULL, O_USER},
        {"password", required_argument, NULL, O_PASSWORD},
        {"key-schema", required_argument, NULL, O_KEY_SCHEMA},
        {"value-schema", required_argument, NULL, O_VALUE_SCHEMA},
        {"key-subject", required_argument, NULL, O_KEY_SUBJECT},
        {"value-subject", required_argument, NULL, O_VALUE_SUBJECT},
        {"key-schema-id", required_argument, NULL, O_KEY_ID},
        {"value-schema-id", required_argument, NULL, O_VALUE_ID},
        {"gen-debezium", required_argument, NULL, O_GEN},
        {"gen-format", required_argument, NULL, O_GEN_FORMAT},
        {"gen-partitions", required_argument, NULL, O_GEN_PARTS},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    long long ll;
    while ((c = getopt_long(argc, argv, "b:t:p:X:vh", longs, NULL)) != -1) {
        switch (c) {
        case 'b':
            o->brokers = optarg;
            break;
        case 't':
            o->topic = optarg;
            break;
        case 'p':
            if (parse_ll(optarg, 0, INT32_MAX, &ll) < 0)
                return -1;
            o->partition = (int32_t)ll;
            break;
        case 'X':
            props[(*nprops)++] = optarg;
            break;
        case 'v':
            o->verbose = true;
            break;
        case O_FORMAT:
            if (parse_fmt(optarg, &o->value.format) < 0)
                return -1;
            break;
        case O_KEY_FORMAT:
            if (parse_fmt(optarg, &o->key.format) < 0)
                return -1;
            break;
        case O_NO_CHECK:
            o->check = false;
            break;
        case O_REGISTRY:
            o->registry = optarg;
            break;
        case O_USER:
            o->user = optarg;
            break;
        case O_PASSWORD:
            o->password = optarg;
            break;
        case O_KEY_SCHEMA:
            o->key.schema_file = optarg;
            break;
        case O_VALUE_SCHEMA:
            o->value.schema_file = optarg;
            break;
        case O_KEY_SUBJECT:
            o->key.subject = optarg;
            break;
        case O_VALUE_SUBJECT:
            o->value.subject = optarg;
            break;
        case O_KEY_ID:
        case O_VALUE_ID:
            if (parse_ll(optarg, 0, UINT32_MAX, &ll) < 0)
                return -1;
            (c == O_KEY_ID ? &o->key : &o->value)->schema_id = ll;
            break;
        case O_GEN:
            if (parse_ll(optarg, 1, 1000000000, &o->gen) < 0)
                return -1;
            break;
        case O_GEN_FORMAT:
            if (parse_fmt(optarg, &o->gen_format) < 0 || o->gen_format == F_RAW)
                return -1;
            break;
        case O_GEN_PARTS:
            if (parse_ll(optarg, 1, INT32_MAX, &o->gen_parts) < 0)
                return -1;
            break;
        case 'h':
            return 1;
        default:
            return -1;
        }
    }
    if (optind != argc || o->brokers == NULL || o->topic == NULL)
        return -1;
    if ((o->gen > 0) != (o->gen_format != F_UNSET) || (o->gen_parts && !o->gen)) {
        fprintf(stderr, PROG ": --gen-debezium N and --gen-format go together\n");
        return -1;
    }
    if (o->gen) {
        o->key.format = o->value.format = o->gen_format;
        o->check = false; /* valid JSON by construction; checking would dominate */
    }
    if (o->key.format == F_UNSET)
        o->key.format =
            o->value.format == F_AVRO && o->key.schema_file == NULL ? F_JSON : o->value.format;
    if ((o->key.format != F_AVRO && (o->key.schema_file || o->key.schema_id >= 0)) ||
        (o->value.format != F_AVRO && (o->value.schema_file || o->value.schema_id >= 0))) {
        fprintf(stderr, PROG ": a schema or schema id is given for a side that is not avro\n");
        return -1;
    }
    return 0;
}

/* Registers the schemas, then produces stdin line by line and waits for
 * every delivery. Returns the exit status (0 or 1). */
static int
run(opts *o, char **props, int nprops)
{
    int rc = 1;
    rd_kafka_t *rk = NULL;
    char *line = NULL;
    size_t lcap = 0;
    msg m = {0};
    delivery d = {0};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if ((o->key.format == F_AVRO && prepare_avro(o, &o->key) < 0) ||
        (o->value.format == F_AVRO && prepare_avro(o, &o->value) < 0))
        goto done;
    rk = make_producer(o, &d, props, nprops);
    if (rk == NULL)
        goto done;

    long lineno = 0;
    bool failed = false;
    ssize_t len;
    char err[1024];
    while (!failed) {
        if (o->gen) {
            if (lineno == o->gen)
                break;
            lineno++;
            len = (ssize_t)gen_line(o, lineno, &line, &lcap);
        } else {
            if ((len = getline(&line, &lcap, stdin)) == -1)
                break;
            lineno++;
            if (len > 0 && line[len - 1] == '\n')
                line[--len] = '\0';
        }
        int r = parse_line(o, line, (size_t)len, &m, err, sizeof err);
        if (r == 0)
            continue;
        if (r < 0 || produce(rk, o, &m, lineno, err, sizeof err) < 0) {
            fprintf(stderr, PROG ": line %ld: %s\n", lineno, err);
            failed = true;
            continue;
        }
        rd_kafka_poll(rk, 0);
        failed = d.failed > 0; /* a failed delivery stops the input too */
    }
    if (!o->gen && ferror(stdin)) {
        fprintf(stderr, PROG ": reading stdin: %s\n", strerror(errno));
        failed = true;
    }
    /* deliver what was produced, invalid line or not */
    while (rd_kafka_outq_len(rk) > 0)
        rd_kafka_flush(rk, 1000);
    if (d.failed) {
        fprintf(stderr, PROG ": line %ld: delivery failed: %s (%ld message%s failed)\n",
                d.first_failed_line, d.first_error, d.failed, d.failed == 1 ? "" : "s");
        failed = true;
    }
    if (o->verbose)
        fprintf(stderr, PROG ": %ld message%s delivered to %s\n", d.delivered,
                d.delivered == 1 ? "" : "s", o->topic);
    rc = failed ? 1 : 0;
done:
    if (rk)
        rd_kafka_destroy(rk);
    t_avro_schema_free(o->key.schema);
    t_avro_schema_free(o->value.schema);
    t_avro_buf_free(&m.key);
    t_avro_buf_free(&m.value);
    free(line);
    curl_global_cleanup();
    return rc;
}

int
main(int argc, char **argv)
{
    opts o;
    int nprops = 0;
    char **props = calloc((size_t)argc + 1, sizeof *props);
    if (props == NULL)
        abort();
    int rc = parse_args(argc, argv, &o, props, &nprops);
    if (rc != 0) {
        usage();
        free(props);
        return rc > 0 ? 0 : 2;
    }
    rc = run(&o, props, nprops);
    free(props);
    return rc;
}
