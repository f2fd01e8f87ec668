/* Avro binary encoding of JSON documents against an Avro schema, for test
 * tools (sluice-kafka-produce) and tests: the writing side of what
 * io/avro_cf.c reads, written independently of it.
 *
 * Notes: the schema is JSON text (jansson) compiled into nodes once; named
 * types (record, enum, fixed) are resolved with their namespaces, so a
 * field may refer to a type defined earlier (or to its own record). The
 * document follows Avro's JSON encoding, with conveniences for tests:
 *   - a union value is given plainly (`null`, `5`, `"x"`, `{...}`: the
 *     first branch that accepts it wins) or wrapped in an object with one
 *     member named after the branch (`{"string": "x"}`, `{"int": 5}`,
 *     `{"ns.Record": {...}}`; a named type's short name is accepted when
 *     it names one branch). An object with a single member named like a
 *     branch is always read as wrapped.
 *   - bytes and fixed are JSON strings whose code points (U+0000..U+00FF)
 *     are the bytes (ISO-8859-1, as in Avro's JSON encoding).
 *   - a decimal (logicalType decimal on bytes or fixed, or Kafka Connect's
 *     org.apache.kafka.connect.data.Decimal with connect.parameters.scale)
 *     also takes a JSON number or a string that reads as a number
 *     ("-12.34", "1e3"): it is scaled by the schema's scale (more decimal
 *     places than the scale is an error, so is more digits than the
 *     precision) and written as the minimal big-endian two's complement
 *     unscaled value (sign-extended to a fixed's size). Any other string
 *     is the raw bytes. A JSON real goes through its shortest round-trip
 *     decimal text; use a string for values beyond 15 significant digits.
 *   - float and double also take "NaN", "Infinity" and "-Infinity".
 *   - a record field missing from the object takes the field's default;
 *     a member that is not a field is an error (catches typos).
 *   - other logical types are their underlying type (a date is an int).
 * Errors name the field as a path from the top ("after.email",
 * "tags[2]", "attrs[color]").
 *
 * Threading: encoding only reads the schema, so threads may share one.
 * Allocation: the schema owns its nodes; output goes to a growable buffer
 * the caller owns. Out of memory aborts (a test tool). */
#ifndef T_AVRO_ENCODE_H
#define T_AVRO_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* A growable byte buffer. Zero-initialise; free with t_avro_buf_free. */
typedef struct t_avro_buf {
    uint8_t *data;
    size_t len, cap;
} t_avro_buf;

/* Appends n bytes (may be 0; p borrowed for the call). */
void t_avro_buf_put(t_avro_buf *b, const void *p, size_t n);
void t_avro_buf_free(t_avro_buf *b);

typedef struct t_avro_schema t_avro_schema;

/* Compiles a schema from its JSON text (borrowed for the call). Returns a
 * new schema (free with t_avro_schema_free) or NULL with a message in err
 * (invalid JSON, an unknown type name, a malformed named type). */
t_avro_schema *t_avro_schema_parse(const char *text, size_t n, char *err, size_t errcap);
void t_avro_schema_free(t_avro_schema *s);

/* Appends the Avro binary encoding of value (borrowed) to out. Returns 0,
 * or -1 with "PATH: message" in err (just the message at the top level);
 * out is then back at its length on entry. */
int t_avro_encode(const t_avro_schema *s, const json_t *value, t_avro_buf *out, char *err,
                  size_t errcap);

/* t_avro_encode of a JSON document given as text (any JSON value; \u0000
 * allowed in strings). Invalid JSON is an error naming the column. */
int t_avro_encode_text(const t_avro_schema *s, const char *doc, size_t n, t_avro_buf *out,
                       char *err, size_t errcap);

/* Appends the Confluent wire-format header: magic byte 0, then id as 4
 * big-endian bytes. */
void t_avro_cf_header(t_avro_buf *out, uint32_t id);

#endif
