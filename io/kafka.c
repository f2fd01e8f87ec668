/* A Kafka consumer for sources over librdkafka (see io_kafka.h). */
#include "io/io_kafka.h"

#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/core/eng_log.h"

struct io_kafka {
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;
    rd_kafka_topic_t *rkt;
    char *topic;
    int pipe[2];
};

static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    /* syslog levels: 3 error, 4 warning; the rest is chatter. */
    if (level <= 4)
        eng_log(level <= 3 ? ENG_LOG_ERROR : ENG_LOG_WARN, "kafka %s: %s", fac, buf);
}

/* A configuration for c, or NULL with err (22023 naming the setting). */
static rd_kafka_conf_t *
make_conf(const io_kafka_conf *c, const char *client_id, eng_err *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char es[512], qkb[32];
    snprintf(qkb, sizeof qkb, "%d", c->queue_kbytes > 0 ? c->queue_kbytes : 65536);
    struct {
        const char *k, *v;
    } kv[] = {
        {"bootstrap.servers", c->brokers},
        {"client.id", client_id ? client_id : "sluice"},
        {"group.id", client_id ? client_id : "sluice"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"},
        {"auto.offset.reset", "earliest"},
        {"allow.auto.create.topics", "false"},
        /* Freshness: do not let the broker sit on a fetch for 500 ms. */
        {"fetch.wait.max.ms", "10"},
        /* Throughput: once the queue we poll holds queued.min.messages (it
         * counts every assigned partition's messages, the default 100000
         * is reached within a second of catching up) librdkafka 2.0 stops
         * fetching for about a second, however fast we drain it: a reader
         * slower than the broker then stalls every 100k messages. Memory
         * stays bounded by queued.max.messages.kbytes (64 MB). Measured
         * (sluice-bench kafka, 1M Avro messages): 2.9 s -> 1.0 s. */
        {"queued.min.messages", "1000000"},
        /* The same pause comes when the queue reaches this many KiB (a
         * reader slower than the broker reaches it while catching up): the
         * source sizes it from its memory (io_kafka_conf.queue_kbytes).
         * Measured (sluice-bench kafka, 256k Debezium JSON messages):
         * 64 MiB 2.3 s -> 256 MiB 1.4 s. */
        {"queued.max.messages.kbytes", qkb},
        {"fetch.error.backoff.ms", "50"},
        {"reconnect.backoff.ms", "20"},
        {"reconnect.backoff.max.ms", "5000"},
        {"topic.metadata.refresh.interval.ms", "10000"},
        {"security.protocol", c->security_protocol},
        {"sasl.mechanisms", c->sasl_mechanisms},
        {"sasl.username", c->sasl_username},
        {"sasl.password", c->sasl_password},
        {"ssl.ca.pem", c->ssl_ca_pem},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        if (kv[i].v == NULL)
            continue;
        if (rd_kafka_conf_set(conf, kv[i].k, kv[i].v, es, sizeof es) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            bool secret = strcmp(kv[i].k, "sasl.password") == 0;
            eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "invalid Kafka setting %s: %s",
                        kv[i].k, secret ? "(not shown)" : es);
            return NULL;
        }
    }
    rd_kafka_conf_set_log_cb(conf, log_cb);
    return conf;
}

/* The SQLSTATE for a librdkafka error. */
static const char *
state_of(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
        return ENG_ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
        return ENG_ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        return ENG_ERRCODE_UNDEFINED_OBJECT;
    default:
        return ENG_ERRCODE_SYSTEM_ERROR;
    }
}

static rd_kafka_t *
make_client(const io_kafka_conf *c, const char *client_id, rd_kafka_type_t type, eng_err *err)
{
    if (c->brokers == NULL || c->brokers[0] == '\0') {
        eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "no Kafka brokers given");
        return NULL;
    }
    rd_kafka_conf_t *conf = make_conf(c, client_id, err);
    if (conf == NULL)
        return NULL;
    char es[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, es, sizeof es);
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "cannot create a Kafka client: %s",
                    es);
    }
    return rk;
}

/* Metadata for topic (NULL: all topics) into *md. */
static int
metadata(rd_kafka_t *rk, rd_kafka_topic_t *rkt, int timeout_ms, const struct rd_kafka_metadata **md,
         const char *brokers, eng_err *err)
{
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, rkt == NULL, rkt, md, timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        eng_err_set(err, state_of(e), "Kafka brokers %s did not answer: %s", brokers,
                    rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

int
io_kafka_check(const io_kafka_conf *c, int timeout_ms, eng_err *err)
{
    rd_kafka_t *rk = make_client(c, "sluice-check", RD_KAFKA_CONSUMER, err);
    if (rk == NULL)
        return -1;
    const struct rd_kafka_metadata *md = NULL;
    int rc = metadata(rk, NULL, timeout_ms, &md, c->brokers, err);
    if (md != NULL)
        rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return rc;
}

int
io_kafka_partitions(io_kafka *k, int timeout_ms, eng_err *err)
{
    const struct rd_kafka_metadata *md = NULL;
    if (metadata(k->rk, k->rkt, timeout_ms, &md, "", err) != 0)
        return -1;
    int n = -1;
    if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR ||
        md->topics[0].partition_cnt <= 0) {
        rd_kafka_resp_err_t e =
            md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            e = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
            eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT, "Kafka topic \"%s\" does not exist",
                        k->topic);
        else
            eng_err_set(err, state_of(e), "Kafka topic \"%s\": %s", k->topic, rd_kafka_err2str(e));
    } else {
        n = md->topics[0].partition_cnt;
    }
    rd_kafka_metadata_destroy(md);
    return n;
}

io_kafka *
io_kafka_open(const io_kafka_conf *c, const char *topic, const char *client_id, int timeout_ms,
              int *nparts, eng_err *err)
{
    io_kafka *k = calloc(1, sizeof *k);
    if (k == NULL) {
        eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    k->pipe[0] = k->pipe[1] = -1;
    k->topic = strdup(topic);
    k->rk = make_client(c, client_id, RD_KAFKA_CONSUMER, err);
    if (k->topic == NULL || k->rk == NULL)
        goto fail;
    rd_kafka_poll_set_consumer(k->rk);
    k->rkt = rd_kafka_topic_new(k->rk, topic, NULL);
    if (k->rkt == NULL) {
        eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "invalid Kafka topic name \"%s\"",
                    topic);
        goto fail;
    }
    /* A topic just created may take a metadata round or two to show. */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        eng_err_clear(err);
        int n = io_kafka_partitions(k, timeout_ms, err);
        if (n > 0) {
            *nparts = n;
            break;
        }
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long el = (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
        if (strcmp(err->sqlstate, ENG_ERRCODE_UNDEFINED_OBJECT) != 0 || el >= 1000)
            goto fail;
        struct timespec d = {0, 100 * 1000000L};
        nanosleep(&d, NULL);
    }
    if (strcmp(err->sqlstate, "00000") != 0)
        eng_err_clear(err);
    k->q = rd_kafka_queue_get_consumer(k->rk);
    if (k->q == NULL || pipe2(k->pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        eng_err_set(err, ENG_ERRCODE_SYSTEM_ERROR, "cannot set up the Kafka consumer queue");
        goto fail;
    }
    rd_kafka_queue_io_event_enable(k->q, k->pipe[1], "1", 1);
    return k;
fail:
    io_kafka_close(k);
    return NULL;
}

void
io_kafka_close(io_kafka *k)
{
    if (k == NULL)
        return;
    if (k->q != NULL) {
        rd_kafka_queue_io_event_enable(k->q, -1, NULL, 0);
        rd_kafka_queue_destroy(k->q);
    }
    if (k->rk != NULL)
        (void)rd_kafka_assign(k->rk, NULL);
    if (k->rkt != NULL)
        rd_kafka_topic_destroy(k->rkt);
    if (k->rk != NULL)
        rd_kafka_destroy_flags(k->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    for (int i = 0; i < 2; i++)
        if (k->pipe[i] >= 0)
            close(k->pipe[i]);
    free(k->topic);
    free(k);
}

int
io_kafka_watermarks(io_kafka *k, int partition, int64_t *lo, int64_t *hi, int timeout_ms,
                    eng_err *err)
{
    rd_kafka_resp_err_t e =
        rd_kafka_query_watermark_offsets(k->rk, k->topic, partition, lo, hi, timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return eng_err_set(err, state_of(e), "Kafka topic \"%s\" partition %d: %s", k->topic,
                           partition, rd_kafka_err2str(e));
    return 0;
}

int
io_kafka_assign(io_kafka *k, int n, const int64_t *offsets, eng_err *err)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n > 0 ? n : 1);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, k->topic, i)->offset = offsets[i];
    rd_kafka_resp_err_t e = rd_kafka_assign(k->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return eng_err_set(err, state_of(e), "cannot consume Kafka topic \"%s\": %s", k->topic,
                           rd_kafka_err2str(e));
    return 0;
}

int64_t
io_kafka_position(io_kafka *k, int partition)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, k->topic, partition);
    int64_t off = -1;
    if (rd_kafka_position(k->rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR && l->elems[0].offset >= 0)
        off = l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    return off;
}

int
io_kafka_event_fd(const io_kafka *k)
{
    return k->pipe[0];
}

void
io_kafka_event_reset(io_kafka *k)
{
    char buf[256];
    while (read(k->pipe[0], buf, sizeof buf) > 0) {
    }
}

static void
fill(io_kafka_msg *m, rd_kafka_message_t *r)
{
    memset(m, 0, sizeof *m);
    m->opaque = r;
    m->partition = r->partition;
    m->offset = r->offset;
    if (r->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        m->error = (int)r->err;
        m->errstr = r->payload != NULL ? rd_kafka_message_errstr(r) : rd_kafka_err2str(r->err);
        /* Unknown topic/partition and authorization end consumption;
         * transport errors are retried by librdkafka itself. */
        m->fatal = r->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                   r->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                   r->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                   r->err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
                   r->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE ||
                   r->err == RD_KAFKA_RESP_ERR__FATAL;
        return;
    }
    m->key = r->key;
    m->key_len = r->key_len;
    m->value = r->payload;
    m->value_len = r->len;
    rd_kafka_timestamp_type_t tt;
    m->ts_ms = rd_kafka_message_timestamp(r, &tt);
}

int
io_kafka_poll(io_kafka *k, io_kafka_msg *out, int max)
{
    rd_kafka_message_t *buf[256];
    int total = 0;
    while (total < max) {
        int want = max - total > 256 ? 256 : max - total;
        ssize_t n = rd_kafka_consume_batch_queue(k->q, 0, buf, (size_t)want);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            fill(&out[total + i], buf[i]);
        total += (int)n;
        if (n < want)
            break;
    }
    return total;
}

void
io_kafka_release(io_kafka_msg *m, int n)
{
    for (int i = 0; i < n; i++) {
        if (m[i].opaque != NULL)
            rd_kafka_message_destroy(m[i].opaque);
        m[i].opaque = NULL;
    }
}

int
io_kafka_read_ranges(io_kafka *k, int n, const int64_t *from, const int64_t *to, int timeout_ms,
                     void (*fn)(void *arg, const io_kafka_msg *m), void *arg, eng_err *err)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n > 0 ? n : 1);
    char *done = calloc(n > 0 ? (size_t)n : 1, 1);
    if (done == NULL) {
        rd_kafka_topic_partition_list_destroy(l);
        return eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "out of memory");
    }
    int left = 0, rc = 0;
    for (int p = 0; p < n; p++) {
        if (from[p] >= to[p]) {
            done[p] = 1;
            continue;
        }
        rd_kafka_topic_partition_list_add(l, k->topic, p)->offset = from[p];
        left++;
    }
    if (left == 0)
        goto out;
    rd_kafka_resp_err_t e = rd_kafka_assign(k->rk, l);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rc = eng_err_set(err, state_of(e), "cannot read Kafka topic \"%s\": %s", k->topic,
                         rd_kafka_err2str(e));
        goto out;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (left > 0) {
        rd_kafka_message_t *r = rd_kafka_consume_queue(k->q, 10);
        if (r != NULL) {
            int p = r->partition;
            if (r->err == RD_KAFKA_RESP_ERR_NO_ERROR && p >= 0 && p < n && !done[p] &&
                r->offset >= from[p]) {
                io_kafka_msg m;
                fill(&m, r);
                m.opaque = NULL; /* borrowed: destroyed below */
                fn(arg, &m);
                if (r->offset >= to[p] - 1) {
                    done[p] = 1;
                    left--;
                }
            } else if (r->err != RD_KAFKA_RESP_ERR_NO_ERROR &&
                       r->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                rc = eng_err_set(err, state_of(r->err), "cannot read Kafka topic \"%s\": %s",
                                 k->topic, rd_kafka_message_errstr(r));
                rd_kafka_message_destroy(r);
                goto out;
            }
            rd_kafka_message_destroy(r);
        }
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long el = (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
        if (el >= timeout_ms)
            break;
    }
out:
    (void)rd_kafka_assign(k->rk, NULL);
    rd_kafka_topic_partition_list_destroy(l);
    free(done);
    return rc;
}
