/* Debezium JSON: Connect schema -> columns (io_dbz_schema_derive, once per
 * schema, with jansson). The per-message decoding is dbz_decode.c over
 * dbz_scan.c. See io_dbz.h for the type mapping and the error contract. */
#include "io/io_dbz.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define BAD(err, ...)                                                                              \
    eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "malformed Debezium message: " __VA_ARGS__)

/* Largest |scale| of a decimal (numeric's display scale limit). */
#define MAX_DECIMAL_SCALE 1000

/* ------------------------------------------------------------------ schema */

void
io_dbz_schema_add(io_dbz_schema *s, const char *name, eng_type type, io_dbz_kind kind,
                  bool nullable, int32_t scale)
{
    if (s->ncols == s->cap) {
        int cap = s->cap ? 2 * s->cap : 8;
        io_dbz_column *c = realloc(s->cols, (size_t)cap * sizeof *c);
        ENG_ASSERT(c != NULL);
        s->cols = c;
        s->cap = cap;
    }
    io_dbz_column *c = &s->cols[s->ncols++];
    c->name = strdup(name);
    ENG_ASSERT(c->name != NULL);
    c->type = type;
    c->kind = kind;
    c->nullable = nullable;
    c->scale = scale;
}

void
io_dbz_schema_free(io_dbz_schema *s)
{
    for (int i = 0; i < s->ncols; i++)
        free(s->cols[i].name);
    free(s->cols);
    memset(s, 0, sizeof *s);
}

static int
load(const char *p, size_t n, json_t **out, eng_err *err)
{
    json_error_t je;
    *out = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
    if (!*out)
        return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                           "invalid JSON in Debezium message: %s (line %d, column %d)", je.text,
                           je.line, je.column);
    return 0;
}

/* A schema parameter that Connect writes as a string ("2") or a number. */
static int
param_int(json_t *params, const char *key, int64_t lo, int64_t hi, bool *found, int64_t *out)
{
    json_t *v = params ? json_object_get(params, key) : NULL;
    *found = false;
    if (!v)
        return 0;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        if (!*s)
            return -1;
        long long x = strtoll(s, &end, 10);
        if (*end)
            return -1;
        *out = x;
    } else {
        return -1;
    }
    if (*out < lo || *out > hi)
        return -1;
    *found = true;
    return 0;
}

/* Maps one Connect field schema to a column. */
static int
add_field(io_dbz_schema *s, json_t *f, eng_err *err)
{
    const char *fname = json_string_value(json_object_get(f, "field"));
    const char *type = json_string_value(json_object_get(f, "type"));
    if (!json_is_object(f) || !fname || !type)
        return BAD(err, "a schema field lacks \"field\" or \"type\"");
    json_t *opt = json_object_get(f, "optional");
    if (opt && !json_is_boolean(opt))
        return BAD(err, "schema field \"%s\": \"optional\" is not a boolean", fname);
    bool nullable = opt && json_is_true(opt);
    const char *name = json_string_value(json_object_get(f, "name"));
    if (!name)
        name = "";
    json_t *params = json_object_get(f, "parameters");
    eng_typeid id = ENG_TYPE_UNKNOWN;
    io_dbz_kind kind = IO_DBZ_STRING;
    int32_t typmod = ENG_TYPMOD_NONE, scale = 0;
    static const struct {
        const char *name, *type;
        io_dbz_kind kind;
        eng_typeid id;
    } logical[] = {
        {"io.debezium.time.Date", "int32", IO_DBZ_DATE, ENG_TYPE_DATE},
        {"org.apache.kafka.connect.data.Date", "int32", IO_DBZ_DATE, ENG_TYPE_DATE},
        {"io.debezium.time.Time", "int32", IO_DBZ_TIME_MS, ENG_TYPE_TIME},
        {"org.apache.kafka.connect.data.Time", "int32", IO_DBZ_TIME_MS, ENG_TYPE_TIME},
        {"io.debezium.time.MicroTime", "int64", IO_DBZ_TIME_US, ENG_TYPE_TIME},
        {"io.debezium.time.NanoTime", "int64", IO_DBZ_TIME_NS, ENG_TYPE_TIME},
        {"io.debezium.time.Timestamp", "int64", IO_DBZ_TS_MS, ENG_TYPE_TIMESTAMP},
        {"org.apache.kafka.connect.data.Timestamp", "int64", IO_DBZ_TS_MS, ENG_TYPE_TIMESTAMP},
        {"io.debezium.time.MicroTimestamp", "int64", IO_DBZ_TS_US, ENG_TYPE_TIMESTAMP},
        {"io.debezium.time.NanoTimestamp", "int64", IO_DBZ_TS_NS, ENG_TYPE_TIMESTAMP},
        {"io.debezium.time.ZonedTimestamp", "string", IO_DBZ_STRING, ENG_TYPE_TIMESTAMPTZ},
        {"io.debezium.time.MicroDuration", "int64", IO_DBZ_DURATION_US, ENG_TYPE_INTERVAL},
        {"io.debezium.data.Json", "string", IO_DBZ_STRING, ENG_TYPE_JSONB},
        {"io.debezium.data.Uuid", "string", IO_DBZ_STRING, ENG_TYPE_UUID},
        {"org.apache.kafka.connect.data.Decimal", "bytes", IO_DBZ_DECIMAL, ENG_TYPE_NUMERIC},
        {"io.debezium.data.VariableScaleDecimal", "struct", IO_DBZ_VDECIMAL, ENG_TYPE_NUMERIC},
    };
    for (size_t i = 0; i < sizeof logical / sizeof logical[0]; i++) {
        if (strcmp(name, logical[i].name) != 0)
            continue;
        if (strcmp(type, logical[i].type) != 0)
            return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                               "Debezium field \"%s\": logical type %s on a %s is not supported",
                               fname, name, type);
        id = logical[i].id;
        kind = logical[i].kind;
        break;
    }
    if (kind == IO_DBZ_DECIMAL) {
        bool has_s, has_p;
        int64_t sc = 0, prec = 0;
        if (param_int(params, "scale", -MAX_DECIMAL_SCALE, MAX_DECIMAL_SCALE, &has_s, &sc) < 0 ||
            !has_s)
            return BAD(err, "decimal field \"%s\" lacks a valid \"scale\" parameter", fname);
        if (param_int(params, "connect.decimal.precision", 1, 1000, &has_p, &prec) < 0)
            return BAD(err, "decimal field \"%s\": bad \"connect.decimal.precision\"", fname);
        scale = (int32_t)sc;
        if (has_p && sc >= 0 && sc <= prec)
            typmod = (int32_t)(((prec << 16) | sc) + 4);
    }
    if (id == ENG_TYPE_UNKNOWN) {
        static const struct {
            const char *type;
            io_dbz_kind kind;
            eng_typeid id;
        } prim[] = {
            {"int8", IO_DBZ_INT8, ENG_TYPE_INT2},
            {"int16", IO_DBZ_INT16, ENG_TYPE_INT2},
            {"int32", IO_DBZ_INT32, ENG_TYPE_INT4},
            {"int64", IO_DBZ_INT64, ENG_TYPE_INT8},
            {"float32", IO_DBZ_FLOAT32, ENG_TYPE_FLOAT4},
            {"float64", IO_DBZ_FLOAT64, ENG_TYPE_FLOAT8},
            {"boolean", IO_DBZ_BOOL, ENG_TYPE_BOOL},
            {"string", IO_DBZ_STRING, ENG_TYPE_TEXT},
            {"bytes", IO_DBZ_BYTES, ENG_TYPE_BYTEA},
        };
        for (size_t i = 0; i < sizeof prim / sizeof prim[0]; i++)
            if (strcmp(type, prim[i].type) == 0) {
                id = prim[i].id;
                kind = prim[i].kind;
                break;
            }
    }
    if (id == ENG_TYPE_UNKNOWN)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "Debezium field \"%s\" has type %s%s%s, which Sluice does not support",
                           fname, type, *name ? " " : "", name);
    io_dbz_schema_add(s, fname, eng_type_make(id, typmod), kind, nullable, scale);
    return 0;
}

static json_t *
struct_field(json_t *schema, const char *field)
{
    json_t *fields = json_object_get(schema, "fields");
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        const char *n = json_string_value(json_object_get(f, "field"));
        if (n && strcmp(n, field) == 0)
            return f;
    }
    return NULL;
}

int
io_dbz_schema_derive(const char *msg, size_t n, io_dbz_schema *out, eng_err *err)
{
    json_t *root;
    if (load(msg, n, &root, err) < 0)
        return -1;
    int rc = -1;
    json_t *schema = json_is_object(root) ? json_object_get(root, "schema") : NULL;
    if (!json_is_object(schema)) {
        BAD(err, "no embedded schema (is the converter's schemas.enable true?)");
        goto done;
    }
    json_t *row = struct_field(schema, "after");
    if (!row)
        row = struct_field(schema, "before");
    if (!row && !struct_field(schema, "op"))
        row = schema; /* a key message: the struct is the row */
    const char *type = json_string_value(json_object_get(row, "type"));
    json_t *fields = json_object_get(row, "fields");
    if (!type || strcmp(type, "struct") != 0 || !json_is_array(fields)) {
        BAD(err, "the schema has no \"after\" or \"before\" struct");
        goto done;
    }
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        if (add_field(out, f, err) < 0) {
            io_dbz_schema_free(out);
            goto done;
        }
    }
    rc = 0;
done:
    json_decref(root);
    return rc;
}

void
io_dbz_change_free(io_dbz_change *c)
{
    eng_rowbuf_free(&c->before);
    eng_rowbuf_free(&c->after);
    eng_rowbuf_free(&c->key);
    eng_strbuf_free(&c->scratch);
    memset(c, 0, sizeof *c);
}
