/* A Kafka consumer for sources, over librdkafka: connection settings,
 * a reachability check, topic metadata, partitions assigned by us (no
 * consumer group: offsets live with the source's state), a file descriptor
 * that becomes readable when messages are queued (for the io_uring loop),
 * and batches of messages without blocking.
 *
 * Notes: librdkafka runs its own threads (one per broker plus a main one)
 * and buffers fetched messages; this wrapper never blocks in the consume
 * path (io_kafka_poll returns what is queued). Group rebalancing is not
 * used because a new member may wait long for an assignment (see
 * ENVIRONMENT.md); group.id is set only because librdkafka requires one.
 * Errors carry SQLSTATEs: 08001 brokers unreachable, 28000 authentication,
 * 42704 unknown topic, 22023 bad settings, 58000 anything else. librdkafka
 * logs go to eng_log (warnings and errors only). Kept out of the `io`
 * library (its own, io_kafka) so ThreadSanitizer builds can leave
 * librdkafka out. */
#ifndef IO_KAFKA_H
#define IO_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/eng_err.h"

typedef struct io_kafka_conf {
    const char *brokers;           /* "host:port[,host:port...]" */
    const char *security_protocol; /* NULL: PLAINTEXT */
    const char *sasl_mechanisms;   /* NULL: none */
    const char *sasl_username;
    const char *sasl_password;
    const char *ssl_ca_pem; /* NULL: system CAs */
    int queue_kbytes;       /* prefetched messages kept at most (KiB); 0: 64 MiB */
} io_kafka_conf;

/* Asks the brokers for the cluster's metadata (within timeout_ms).
 * Returns 0, or -1 with err (08001 unreachable, 28000 authentication). */
int io_kafka_check(const io_kafka_conf *c, int timeout_ms, eng_err *err);

typedef struct io_kafka io_kafka;

/* A consumer of topic (nothing assigned yet); *nparts is the topic's
 * partition count. Returns NULL with err: 42704 if the topic does not
 * exist, 08001 if the brokers do not answer within timeout_ms. */
io_kafka *io_kafka_open(const io_kafka_conf *c, const char *topic, const char *client_id,
                        int timeout_ms, int *nparts, eng_err *err);
void io_kafka_close(io_kafka *k);

/* The topic's partition count now (it can grow), or -1 with err. */
int io_kafka_partitions(io_kafka *k, int timeout_ms, eng_err *err);

/* The low and high watermarks (first offset, next offset) of a partition. */
int io_kafka_watermarks(io_kafka *k, int partition, int64_t *lo, int64_t *hi, int timeout_ms,
                        eng_err *err);

#define IO_KAFKA_OFFSET_BEGINNING (-2)
#define IO_KAFKA_OFFSET_END (-1)

/* Consumes partitions [0, n) from offsets[i] (an offset, or
 * IO_KAFKA_OFFSET_BEGINNING/END), replacing any earlier assignment. */
int io_kafka_assign(io_kafka *k, int n, const int64_t *offsets, eng_err *err);

/* The offset the consumer fetches next in partition p (past gaps such as
 * transaction markers), -1 if unknown. */
int64_t io_kafka_position(io_kafka *k, int partition);

/* Readable when messages (or errors) are queued; call io_kafka_poll until
 * it returns 0, then io_kafka_event_reset before waiting on it again. */
int io_kafka_event_fd(const io_kafka *k);
void io_kafka_event_reset(io_kafka *k);

typedef struct io_kafka_msg {
    int32_t partition;
    int64_t offset;
    const uint8_t *key; /* NULL: no key */
    size_t key_len;
    const uint8_t *value; /* NULL: a null value (tombstone) */
    size_t value_len;
    int64_t ts_ms;      /* the message's timestamp, -1 if none */
    int error;          /* 0, or a consumer error (then errstr says what) */
    const char *errstr; /* borrowed until io_kafka_release */
    bool fatal;         /* the error stops consumption (not a transient one) */
    void *opaque;       /* internal */
} io_kafka_msg;

/* Up to max queued messages, without waiting. Returns the count (0: none
 * queued). Release them with io_kafka_release. */
int io_kafka_poll(io_kafka *k, io_kafka_msg *out, int max);
void io_kafka_release(io_kafka_msg *m, int n);

/* Reads partitions [0, n) at once, each from offset from[p] up to to[p]
 * (exclusive; a partition with from[p] >= to[p] is skipped), with a
 * consumer of its own (used at CREATE SOURCE to look at the newest
 * messages), calling fn for every message in the ranges (borrowed for the
 * call; per partition in offset order). Returns once every range's last
 * offset was seen or after timeout_ms (a range ending in a gap, such as a
 * transaction marker, waits for that), 0, or -1 with err on a consumer
 * error. Changes the assignment. */
int io_kafka_read_ranges(io_kafka *k, int n, const int64_t *from, const int64_t *to, int timeout_ms,
                         void (*fn)(void *arg, const io_kafka_msg *m), void *arg, eng_err *err);

#endif
