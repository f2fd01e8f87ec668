/* Debezium JSON: the columns of a table from a message's embedded Kafka
 * Connect schema, and one change event (key and value) decoded into
 * Sluice rows.
 *
 * Notes: the bytes come from Kafka and are untrusted. Invalid JSON is
 * 22P02; an envelope of the wrong shape (no op, payload not an object, a
 * required field missing) is XX001 "malformed Debezium message: ...";
 * a value that does not fit its column is the type's own input error
 * (22P02, 22003, 22008) prefixed with the field ("after.email: ...");
 * a Connect type Sluice cannot represent is 0A000 naming the field. Never
 * an assert, never a read past the input.
 *
 * Debezium's JSON type mapping (JsonConverter, schemas.enable=true):
 *   int8/int16 -> smallint, int32 -> integer, int64 -> bigint,
 *   float32 -> real, float64 -> double precision, boolean -> boolean,
 *   string -> text, bytes (base64) -> bytea; by logical name:
 *   io.debezium.time.Date and connect Date (int32 days since 1970) -> date;
 *   io.debezium.time.Time and connect Time (int32 ms), MicroTime (int64 us),
 *   NanoTime (int64 ns) -> time; io.debezium.time.Timestamp and connect
 *   Timestamp (int64 ms), MicroTimestamp, NanoTimestamp -> timestamp;
 *   ZonedTimestamp (ISO-8601 string) -> timestamptz; MicroDuration
 *   (int64 us) -> interval; io.debezium.data.Json -> jsonb (json and jsonb
 *   are one logical type upstream); io.debezium.data.Uuid -> uuid; connect
 *   Decimal (base64 big-endian two's complement unscaled value, scale in
 *   parameters) -> numeric(p,s) when connect.decimal.precision is given,
 *   else numeric; io.debezium.data.VariableScaleDecimal ({scale, value})
 *   -> numeric. Other logical names on a primitive type fall back to the
 *   primitive (Enum, Xml, ZonedTime, Interval in string mode -> text;
 *   Bits -> bytea). struct, array and map fields are 0A000. Nanosecond
 *   values are floored to microseconds (Sluice's precision).
 *
 * Allocation: io_dbz_schema_derive allocates the schema (derive it once per
 * schema change, not per message; it parses with jansson). io_dbz_decode,
 * io_dbz_decode_key and io_dbz_decode_txn build no tree: one validating
 * scan of the whole message (dbz_scan.c: invalid JSON anywhere, the
 * embedded schema included, is still 22P02, with jansson's acceptance
 * rules, duplicate keys included), then the payload is read in place; the
 * rows and the scratch are the change's reusable buffers, so at steady
 * state nothing is allocated per message. Duplicate keys in any object
 * are invalid JSON (22P02), as they were with jansson's
 * JSON_REJECT_DUPLICATES. Plain functions, thread-safe on distinct
 * objects. */
#ifndef IO_DBZ_H
#define IO_DBZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/eng_err.h"
#include "engine/core/eng_row.h"
#include "engine/core/eng_strbuf.h"
#include "engine/core/eng_type.h"

/* How a column's JSON value is read (the Connect type + logical name). */
typedef enum io_dbz_kind {
    IO_DBZ_INT8, /* Connect int8, stored as smallint */
    IO_DBZ_INT16,
    IO_DBZ_INT32,
    IO_DBZ_INT64,
    IO_DBZ_FLOAT32,
    IO_DBZ_FLOAT64,
    IO_DBZ_BOOL,
    IO_DBZ_STRING,   /* any string read by the column type's text input */
    IO_DBZ_BYTES,    /* base64 -> bytea */
    IO_DBZ_DECIMAL,  /* base64 unscaled two's complement, column scale */
    IO_DBZ_VDECIMAL, /* {"scale": s, "value": base64} */
    IO_DBZ_DATE,     /* int32 days since 1970-01-01 */
    IO_DBZ_TIME_MS,
    IO_DBZ_TIME_US,
    IO_DBZ_TIME_NS,
    IO_DBZ_TS_MS,
    IO_DBZ_TS_US,
    IO_DBZ_TS_NS,
    IO_DBZ_DURATION_US /* interval of microseconds */
} io_dbz_kind;

typedef struct io_dbz_column {
    char *name; /* owned by the schema (io_dbz_schema_add copies it) */
    eng_type type;
    io_dbz_kind kind;
    bool nullable;
    int32_t scale; /* IO_DBZ_DECIMAL */
} io_dbz_column;

/* Columns in message order. Zero-initialise; free with io_dbz_schema_free. */
typedef struct io_dbz_schema {
    int ncols;
    int cap;
    io_dbz_column *cols;
} io_dbz_schema;

/* Appends a column (for schemas.enable=false, where the caller knows the
 * columns). name is copied. */
void io_dbz_schema_add(io_dbz_schema *s, const char *name, eng_type type, io_dbz_kind kind,
                       bool nullable, int32_t scale);
void io_dbz_schema_free(io_dbz_schema *s);

/* Derives the columns from a message with an embedded schema
 * ({"schema": {...}, "payload": ...}): from the envelope's "after" struct
 * (else "before"), or, for a key message, from the top-level struct itself.
 * out must be empty; on error it is left empty. Errors: 22P02 invalid JSON,
 * XX001 no usable schema, 0A000 an unsupported field type. */
int io_dbz_schema_derive(const char *msg, size_t n, io_dbz_schema *out, eng_err *err);

/* One decoded change. Zero-initialise, reuse across messages, free with
 * io_dbz_change_free. Rows hold the schema's columns in order. */
typedef struct io_dbz_change {
    char op; /* 'c','r','u','d','t','m'; 0 for a tombstone (null value) */
    bool has_before, has_after;
    /* before lacked some non-optional fields (REPLICA IDENTITY DEFAULT:
     * only the key is sent); they are NULL in the row */
    bool before_partial;
    /* before or after had fields that are not columns: the upstream table
     * grew since the columns were derived (the fields are ignored) */
    bool unknown_fields;
    eng_rowbuf before, after;
    bool has_key;
    eng_rowbuf key; /* io_dbz_decode_key */
    /* ordering and dedupe: source.lsn, source.txId, source.ts_ms, the
     * envelope's ts_ms, the transaction block */
    bool has_lsn, has_txid, has_source_ts, has_ts;
    int64_t lsn, txid, source_ts_ms, ts_ms;
    bool has_txn;
    char txn_id[128];
    int64_t txn_total_order, txn_collection_order; /* -1 if absent */
    eng_strbuf scratch;                            /* internal */
} io_dbz_change;

void io_dbz_change_free(io_dbz_change *c);

/* Decodes one message value ({"schema", "payload"} or the bare envelope of
 * schemas.enable=false) against cols. value NULL or n == 0 (and a null
 * payload) is a tombstone: op 0. Everything in out is replaced (the key
 * too is cleared). Returns 0 or -1 with err set; out is then unspecified
 * but still valid for reuse and free. */
int io_dbz_decode(const io_dbz_schema *cols, const char *value, size_t n, io_dbz_change *out,
                  eng_err *err);

/* Decodes a key message ({"schema", "payload"} or bare) into out->key
 * against key_cols (io_dbz_schema_derive on a key message gives them).
 * Every key column must be present and no other field (XX001): a key that
 * changed shape would break keyed state. */
int io_dbz_decode_key(const io_dbz_schema *key_cols, const char *key, size_t n, io_dbz_change *out,
                      eng_err *err);

/* A message of the transaction metadata topic (provide.transaction.metadata):
 * BEGIN, or END with the event counts that let a consumer tell when every
 * event of the transaction has arrived. */
typedef struct io_dbz_txn {
    bool end;     /* false: BEGIN */
    char id[128]; /* "txId:lsn", matches io_dbz_change.txn_id */
    bool has_ts;
    int64_t ts_ms;
    int64_t events;            /* END: events in the transaction, else -1 */
    int64_t collection_events; /* END: events of `collection`, 0 if not listed; else -1 */
} io_dbz_txn;

/* Decodes one transaction metadata message ({"schema", "payload"} or bare).
 * collection ("schema.table" as Debezium names it, may be NULL) selects
 * the data_collections entry counted in collection_events. Errors: 22P02
 * invalid JSON, XX001 malformed. */
int io_dbz_decode_txn(const char *msg, size_t n, const char *collection, io_dbz_txn *out,
                      eng_err *err);

#endif
