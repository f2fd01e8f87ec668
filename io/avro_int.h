/* Avro internals shared by avro_schema.c (schemas compiled from JSON,
 * columns) and avro_cf.c (resolution plans, binary decoding). Not part of
 * the module's interface (io_avro.h). */
#ifndef IO_AVRO_INT_H
#define IO_AVRO_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "io/io_avro.h"

/* Deepest nesting of schemas and values we follow (recursive named types
 * and hostile messages stop here). */
#define IO_AVRO_MAX_DEPTH 64

enum kind {
    K_NULL,
    K_BOOL,
    K_INT,
    K_LONG,
    K_FLOAT,
    K_DOUBLE,
    K_BYTES,
    K_STRING,
    K_RECORD,
    K_ENUM,
    K_ARRAY,
    K_MAP,
    K_UNION,
    K_FIXED
};

/* How a reader node's value becomes a datum. */
enum conv {
    CV_NONE, /* not a column type */
    CV_BOOL,
    CV_INT4,
    CV_INT8,
    CV_FLOAT4,
    CV_FLOAT8,
    CV_TEXT,
    CV_BYTES,
    CV_JSON,
    CV_UUID,
    CV_DATE,    /* int days since 1970 */
    CV_TIME_MS, /* int */
    CV_TIME_US, /* long */
    CV_TIME_NS, /* long */
    CV_TS_MS,   /* long since 1970 */
    CV_TS_US,
    CV_TS_NS,
    CV_TSTZ_STR, /* string, ISO 8601 */
    CV_DECIMAL,  /* bytes/fixed, two's complement big-endian unscaled */
    CV_VSDEC     /* record {scale int, value bytes} */
};

typedef struct anode anode;
struct anode {
    uint8_t kind;
    uint8_t conv;
    int32_t scale, precision; /* decimal */
    int32_t size;             /* fixed */
    char *name;               /* named types: the unqualified name */
    int n;                    /* fields, branches or symbols */
    anode **kids;             /* field types, union branches; [0] array items / map values */
    char **names;             /* field names, enum symbols */
    json_t **defaults;        /* field defaults (NULL: none); references held */
};

typedef struct aschema {
    anode **all; /* every node, for freeing */
    int nall, cap;
    anode *root;
} aschema;

/* Kind names for messages ("int", "record"), indexed by enum kind. */
extern const char *const io_avro_kind_name[];

/* Parses and compiles a schema (JSON text, borrowed for the call). Returns
 * a new schema (free with io_avro_schema_free) or NULL with err set
 * (22023 invalid JSON or schema). */
aschema *io_avro_schema_parse(const char *text, size_t n, eng_err *err);
void io_avro_schema_free(aschema *s);
/* The non-null branch of ["null", T] / [T, "null"], else NULL. */
anode *io_avro_nullable_inner(const anode *a);
/* The SQL type of a column read as node a (ENG_TYPE_UNKNOWN: none). */
eng_type io_avro_conv_type(const anode *a);
/* The columns of reader record rec (new array, free with free(); names
 * borrowed from the schema). 22023 if rec is not a record, 0A000 naming
 * the field for a type that is not a column type. */
int io_avro_make_columns(const anode *rec, io_avro_column **out, eng_err *err);

#endif
