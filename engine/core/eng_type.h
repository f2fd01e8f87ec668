/* SQL type descriptors: identity, type modifier, PostgreSQL OID and name,
 * the row tag a value carries, and the SQL type-name parser.
 *
 * Notes: typmods use PostgreSQL's encodings so they can go into a pgwire
 * RowDescription unchanged: varchar(n)/char(n) = n + 4, numeric(p,s) =
 * ((p << 16) | (s & 0x7ff)) + 4, time/timestamp(p) = p, interval =
 * (range mask << 16) | precision; -1 means none. ENG_TYPE_OTHER stands for
 * any upstream type Sluice does not model: its values are carried as text
 * and it is reported to clients as text. Descriptors are plain values;
 * nothing here allocates except eng_type_format into the caller's buffer. */
#ifndef ENG_TYPE_H
#define ENG_TYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/eng_err.h"
#include "engine/core/eng_strbuf.h"

typedef enum eng_typeid {
    ENG_TYPE_UNKNOWN = 0, /* an untyped literal ('...'), parsed later */
    ENG_TYPE_BOOL,
    ENG_TYPE_INT2,
    ENG_TYPE_INT4,
    ENG_TYPE_INT8,
    ENG_TYPE_FLOAT4,
    ENG_TYPE_FLOAT8,
    ENG_TYPE_NUMERIC,
    ENG_TYPE_TEXT,
    ENG_TYPE_VARCHAR,
    ENG_TYPE_BPCHAR,
    ENG_TYPE_BYTEA,
    ENG_TYPE_DATE,
    ENG_TYPE_TIME,
    ENG_TYPE_TIMESTAMP,
    ENG_TYPE_TIMESTAMPTZ,
    ENG_TYPE_INTERVAL,
    ENG_TYPE_UUID,
    ENG_TYPE_JSON,
    ENG_TYPE_JSONB,
    ENG_TYPE_OTHER, /* any other upstream type, carried as text */
    ENG_TYPE_COUNT_
} eng_typeid;

typedef struct eng_type {
    eng_typeid id;
    int32_t typmod; /* -1: none */
} eng_type;

#define ENG_TYPMOD_NONE (-1)

/* Interval field masks (PostgreSQL's INTERVAL_MASK bits) and typmod parts. */
#define ENG_INTERVAL_MONTH (1 << 1)
#define ENG_INTERVAL_YEAR (1 << 2)
#define ENG_INTERVAL_DAY (1 << 3)
#define ENG_INTERVAL_HOUR (1 << 10)
#define ENG_INTERVAL_MINUTE (1 << 11)
#define ENG_INTERVAL_SECOND (1 << 12)
#define ENG_INTERVAL_FULL_RANGE 0x7FFF
#define ENG_INTERVAL_FULL_PRECISION 0xFFFF
#define ENG_INTERVAL_TYPMOD(prec, range) ((int32_t)((((range)&0x7FFF) << 16) | ((prec)&0xFFFF)))
#define ENG_INTERVAL_RANGE(typmod) ((int)(((typmod) >> 16) & 0x7FFF))
#define ENG_INTERVAL_PRECISION(typmod) ((int)((typmod)&0xFFFF))

/* Largest fractional-second precision of time, timestamp and interval. */
#define ENG_MAX_TIME_PRECISION 6
/* Longest varchar(n) / char(n). */
#define ENG_MAX_CHAR_LENGTH 10485760

static inline eng_type
eng_type_make(eng_typeid id, int32_t typmod)
{
    eng_type t = {id, typmod};
    return t;
}

/* PostgreSQL type OID for pgwire (ENG_TYPE_OTHER reports text, 25). */
uint32_t eng_type_oid(const eng_type *t);
/* typlen as pgwire's RowDescription reports it (-1 varlena, -2 cstring). */
int16_t eng_type_typlen(const eng_type *t);
/* The tag non-NULL values of this type carry in rows (ENG_TAG_TRUE stands
 * for bool, whose values are ENG_TAG_TRUE or ENG_TAG_FALSE). */
uint8_t eng_type_tag(const eng_type *t);
/* True if tag is a valid non-NULL tag for t. */
bool eng_type_tag_matches(const eng_type *t, uint8_t tag);
/* The type for an upstream OID and typmod (e.g. from a pgoutput Relation
 * message); OIDs Sluice does not model map to ENG_TYPE_OTHER. */
eng_type eng_type_from_oid(uint32_t oid, int32_t typmod);
/* True for the text-like types stored as ENG_TAG_TEXT strings that are
 * character data (text, varchar, bpchar, unknown, other). */
bool eng_type_is_string(eng_typeid id);

/* Appends the name as PostgreSQL's format_type(oid, typmod) prints it:
 * "integer", "character varying(10)", "numeric(10,2)",
 * "timestamp(3) with time zone", "interval day to second(3)", "bpchar". */
void eng_type_format(const eng_type *t, eng_strbuf *out);
/* The base name without modifiers ("character varying"); static storage. */
const char *eng_type_name(eng_typeid id);
/* pg_type.typname ("int4", "varchar"); static storage. */
const char *eng_type_catalog_name(eng_typeid id);

/* Parses a SQL type name with every PostgreSQL spelling of the supported
 * types (int, integer, int4, bigint, real, float(p), double precision,
 * decimal(p,s), character varying(n), char(n), bpchar, timestamptz,
 * timestamp(p) with time zone, interval day to second(3), ...), optionally
 * qualified by pg_catalog. Case-insensitive; double-quoted names match
 * catalog names exactly. Errors: 42704 unknown type, 42601 syntax,
 * 22023 bad modifier, 0A000 arrays and known but unsupported types. */
int eng_type_parse(const char *s, size_t n, eng_type *out, eng_err *err);

#endif
