/* Avro in the Confluent wire format: framing, a schema cache by id,
 * writer -> reader schema resolution, and decoding of one message into a
 * Sluice row (plain records) or into a Debezium change (op, before, after,
 * source lsn/txId).
 *
 * Notes: the message bytes come from Kafka and are untrusted: every length,
 * count and union index is checked against the buffer and the schema; a
 * malformed message is XX001, a wrong magic byte is XX001 naming the byte,
 * an unknown schema id is 22023. Schemas (JSON text, from the registry or
 * fixed at CREATE SOURCE) are parsed with jansson into our own schema
 * nodes, and the binary encoding is decoded by hand, driven by a plan that
 * resolves one writer schema against the reader schema (built once per
 * writer schema id: Avro's rules for fields added with a default, fields
 * removed, int -> long/float/double and long -> float/double and float ->
 * double promotion, string <-> bytes, union branches matched by type or
 * name in any order). avro-c's generic value API is not used on the decode
 * path: the tests use its writer to build messages, as an independent
 * encoder. Decoding allocates nothing per message at steady state: rows go
 * into the caller's eng_rowbuf, scratch buffers live in the decoder and
 * only grow.
 *
 * Column types: boolean bool, int int4, long int8, float float4, double
 * float8, bytes/fixed bytea, string/enum text; ["null", T] is a nullable
 * column of T's type. Logical types: decimal (bytes or fixed) numeric(p,s),
 * date date, time-millis/time-micros time, timestamp-millis/-micros
 * timestamp, uuid uuid; Debezium's connect.name types:
 * io.debezium.time.Date date, .Time/.MicroTime/.NanoTime time,
 * .Timestamp/.MicroTimestamp/.NanoTimestamp timestamp, .ZonedTimestamp
 * timestamptz, io.debezium.data.Json jsonb, .Uuid uuid,
 * org.apache.kafka.connect.data.Decimal numeric,
 * io.debezium.data.VariableScaleDecimal numeric. Anything else as a column
 * (arrays, maps, nested records) is 0A000 naming the field.
 *
 * Threading: a decoder belongs to one thread (the source's). */
#ifndef IO_AVRO_H
#define IO_AVRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/eng_err.h"
#include "engine/core/eng_row.h"
#include "engine/core/eng_type.h"

/* Splits a Confluent-framed message: magic byte 0, a 4-byte big-endian
 * schema id, then the Avro binary body (borrowed from p). Returns 0, or -1
 * with err set (XX001: shorter than 5 bytes or a magic byte other than 0). */
int io_avro_cf_frame(const uint8_t *p, size_t n, uint32_t *schema_id, const uint8_t **body,
                     size_t *body_len, eng_err *err);

typedef struct io_avro_column {
    const char *name; /* borrowed until the decoder is freed */
    eng_type type;
    bool nullable; /* ["null", T] (or a union with null) */
} io_avro_column;

typedef enum io_avro_mode {
    IO_AVRO_PLAIN,   /* the reader schema is a record; its fields are the columns */
    IO_AVRO_DEBEZIUM /* the reader schema is a Debezium envelope; columns are `after`'s */
} io_avro_mode;

typedef struct io_avro_decoder io_avro_decoder;

/* Creates a decoder for the reader schema (JSON text, borrowed for the
 * call). Returns a new decoder (free with io_avro_decoder_free), or NULL
 * with err set: 22023 for invalid JSON or an invalid schema, 0A000 for a
 * column type Sluice cannot hold (naming the field). */
io_avro_decoder *io_avro_decoder_create(const char *reader_json, size_t n, io_avro_mode mode,
                                        eng_err *err);
void io_avro_decoder_free(io_avro_decoder *d);

int io_avro_decoder_ncols(const io_avro_decoder *d);
/* The columns (borrowed until the decoder is freed). */
const io_avro_column *io_avro_decoder_cols(const io_avro_decoder *d);

/* Adds writer schema `id` (JSON text, as the registry returns it) to the
 * cache and resolves it against the reader schema. Returns 0 (also if the
 * id is already cached: the registry never changes an id's schema), or -1
 * with err set: 22023 for an invalid schema or one that cannot be
 * resolved against the reader (a reader field with no default missing
 * from the writer, incompatible types), 0A000 for a reader default of a
 * type we do not convert (records, arrays, maps, bytes, JSON). Allocates;
 * nothing is cached on failure. */
int io_avro_decoder_add_schema(io_avro_decoder *d, uint32_t id, const char *json, size_t n,
                               eng_err *err);
/* True if schema id is cached (the caller fetches it from the registry
 * otherwise). */
bool io_avro_decoder_has_schema(const io_avro_decoder *d, uint32_t id);

/* Decodes one Confluent-framed message (IO_AVRO_PLAIN) and appends its
 * row (the decoder's columns in order) to out. Returns 0, or -1 with err
 * set (XX001 malformed, 22023 unknown schema id, 22003/22008 a value out
 * of SQL's range). On error out is back at its length on entry. */
int io_avro_decode(io_avro_decoder *d, const uint8_t *msg, size_t n, eng_rowbuf *out, eng_err *err);

/* One Debezium change. Rows are borrowed until the next decode with the
 * same decoder. */
typedef struct io_avro_change {
    char op;                    /* 'c', 'r', 'u', 'd', 't' */
    bool has_before, has_after; /* false: the field was null */
    eng_row before, after;      /* in the decoder's column order */
    bool has_lsn, has_txid;     /* source.lsn / source.txId present and not null */
    int64_t lsn, txid;
    bool has_ts_ms;
    int64_t ts_ms; /* the envelope's ts_ms */
} io_avro_change;

/* Decodes one Confluent-framed Debezium envelope (IO_AVRO_DEBEZIUM).
 * Returns 0, or -1 with err set (as io_avro_decode; an op other than
 * c/r/u/d/t is XX001). A tombstone (an empty Kafka value) is the caller's
 * to recognise before calling. */
int io_avro_decode_debezium(io_avro_decoder *d, const uint8_t *msg, size_t n, io_avro_change *out,
                            eng_err *err);

#endif
