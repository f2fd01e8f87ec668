/* Avro schemas: JSON text (jansson) compiled into schema nodes, with the
 * column conversion of each node from its logicalType or Debezium's
 * connect.name; the columns of a record. See io_avro.h. Allocates only
 * while compiling. */
#include "io/avro_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/eng_numeric.h"

/* ------------------------------------------------------------------ schema nodes */

static anode *
node_new(aschema *s, uint8_t kind)
{
    if (s->nall == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 32;
        s->all = realloc(s->all, (size_t)s->cap * sizeof *s->all);
        ENG_ASSERT(s->all != NULL);
    }
    anode *a = calloc(1, sizeof *a);
    ENG_ASSERT(a != NULL);
    a->kind = kind;
    s->all[s->nall++] = a;
    return a;
}

void
io_avro_schema_free(aschema *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->nall; i++) {
        anode *a = s->all[i];
        for (int j = 0; a->names && j < a->n; j++)
            free(a->names[j]);
        for (int j = 0; a->defaults && j < a->n; j++)
            if (a->defaults[j])
                json_decref(a->defaults[j]);
        free(a->names);
        free(a->defaults);
        free(a->kids);
        free(a->name);
        free(a);
    }
    free(s->all);
    free(s);
}

typedef struct named {
    char *full;
    anode *node;
} named;

typedef struct cctx {
    aschema *s;
    named *names;
    int nnames, cap;
    eng_err *err;
} cctx;

static int
bad_schema(cctx *c, const char *what, const char *name)
{
    return eng_err_set(c->err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "invalid Avro schema: %s%s%s",
                       what, name ? " " : "", name ? name : "");
}

static const char *
unqualified(const char *full)
{
    const char *dot = strrchr(full, '.');
    return dot ? dot + 1 : full;
}

static anode *
lookup(cctx *c, const char *name, const char *ns)
{
    char buf[512];
    if (strchr(name, '.') == NULL && ns && *ns) {
        snprintf(buf, sizeof buf, "%s.%s", ns, name);
        for (int i = 0; i < c->nnames; i++)
            if (strcmp(c->names[i].full, buf) == 0)
                return c->names[i].node;
    }
    for (int i = 0; i < c->nnames; i++)
        if (strcmp(c->names[i].full, name) == 0)
            return c->names[i].node;
    return NULL;
}

static void
define(cctx *c, const char *name, const char *ns, anode *a)
{
    char buf[512];
    if (strchr(name, '.') == NULL && ns && *ns)
        snprintf(buf, sizeof buf, "%s.%s", ns, name);
    else
        snprintf(buf, sizeof buf, "%s", name);
    if (c->nnames == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->names = realloc(c->names, (size_t)c->cap * sizeof *c->names);
        ENG_ASSERT(c->names != NULL);
    }
    c->names[c->nnames].full = strdup(buf);
    c->names[c->nnames].node = a;
    c->nnames++;
    a->name = strdup(unqualified(name));
}

static int
primitive(const char *t)
{
    static const char *const p[] = {"null",  "boolean", "int",   "long",
                                    "float", "double",  "bytes", "string"};
    for (int i = 0; i < 8; i++)
        if (strcmp(t, p[i]) == 0)
            return i;
    return -1;
}

/* The column conversion of a node, from its kind, logicalType and
 * connect.name. */
static void
set_conv(anode *a, json_t *j)
{
    static const uint8_t base[] = {CV_NONE,   CV_BOOL,  CV_INT4, CV_INT8, CV_FLOAT4,
                                   CV_FLOAT8, CV_BYTES, CV_TEXT, CV_NONE, CV_TEXT,
                                   CV_NONE,   CV_NONE,  CV_NONE, CV_BYTES};
    a->conv = base[a->kind];
    if (!json_is_object(j))
        return;
    const char *lt = json_string_value(json_object_get(j, "logicalType"));
    const char *cn = json_string_value(json_object_get(j, "connect.name"));
    uint8_t k = a->kind;
    if (cn) {
        if (strcmp(cn, "io.debezium.time.Date") == 0 && k == K_INT)
            a->conv = CV_DATE;
        else if (strcmp(cn, "io.debezium.time.Time") == 0 && k == K_INT)
            a->conv = CV_TIME_MS;
        else if (strcmp(cn, "io.debezium.time.MicroTime") == 0 && k == K_LONG)
            a->conv = CV_TIME_US;
        else if (strcmp(cn, "io.debezium.time.NanoTime") == 0 && k == K_LONG)
            a->conv = CV_TIME_NS;
        else if (strcmp(cn, "io.debezium.time.Timestamp") == 0 && k == K_LONG)
            a->conv = CV_TS_MS;
        else if (strcmp(cn, "io.debezium.time.MicroTimestamp") == 0 && k == K_LONG)
            a->conv = CV_TS_US;
        else if (strcmp(cn, "io.debezium.time.NanoTimestamp") == 0 && k == K_LONG)
            a->conv = CV_TS_NS;
        else if (strcmp(cn, "io.debezium.time.ZonedTimestamp") == 0 && k == K_STRING)
            a->conv = CV_TSTZ_STR;
        else if (strcmp(cn, "io.debezium.data.Json") == 0 && k == K_STRING)
            a->conv = CV_JSON;
        else if (strcmp(cn, "io.debezium.data.Uuid") == 0 && k == K_STRING)
            a->conv = CV_UUID;
        else if (strcmp(cn, "io.debezium.data.VariableScaleDecimal") == 0 && k == K_RECORD)
            a->conv = CV_VSDEC;
        else if (strcmp(cn, "org.apache.kafka.connect.data.Decimal") == 0 &&
                 (k == K_BYTES || k == K_FIXED)) {
            a->conv = CV_DECIMAL;
            json_t *params = json_object_get(j, "connect.parameters");
            const char *sc = json_string_value(json_object_get(params, "scale"));
            a->scale = sc ? atoi(sc) : 0;
            a->precision = -1;
        }
    }
    if (lt) {
        if (strcmp(lt, "decimal") == 0 && (k == K_BYTES || k == K_FIXED)) {
            a->conv = CV_DECIMAL;
            a->scale = (int32_t)json_integer_value(json_object_get(j, "scale"));
            json_t *p = json_object_get(j, "precision");
            a->precision = json_is_integer(p) ? (int32_t)json_integer_value(p) : -1;
        } else if (strcmp(lt, "date") == 0 && k == K_INT)
            a->conv = CV_DATE;
        else if (strcmp(lt, "time-millis") == 0 && k == K_INT)
            a->conv = CV_TIME_MS;
        else if (strcmp(lt, "time-micros") == 0 && k == K_LONG)
            a->conv = CV_TIME_US;
        else if (strcmp(lt, "timestamp-millis") == 0 && k == K_LONG)
            a->conv = CV_TS_MS;
        else if (strcmp(lt, "timestamp-micros") == 0 && k == K_LONG)
            a->conv = CV_TS_US;
        else if (strcmp(lt, "uuid") == 0 && k == K_STRING)
            a->conv = CV_UUID;
        /* Unknown logical types fall back to the underlying type, as the
         * spec requires. */
    }
}

static anode *compile(cctx *c, json_t *j, const char *ns, int depth);

static anode *
compile_record(cctx *c, json_t *j, const char *ns, int depth)
{
    const char *name = json_string_value(json_object_get(j, "name"));
    json_t *fields = json_object_get(j, "fields");
    if (name == NULL || !json_is_array(fields)) {
        bad_schema(c, "a record needs a name and fields", NULL);
        return NULL;
    }
    const char *ns2 = json_string_value(json_object_get(j, "namespace"));
    char nsbuf[512];
    if (strchr(name, '.')) { /* a full name sets the namespace */
        snprintf(nsbuf, sizeof nsbuf, "%.*s", (int)(strrchr(name, '.') - name), name);
        ns2 = nsbuf;
    } else if (ns2 == NULL)
        ns2 = ns;
    anode *a = node_new(c->s, K_RECORD);
    define(c, name, ns2, a);
    size_t nf = json_array_size(fields);
    a->n = (int)nf;
    a->kids = calloc(nf ? nf : 1, sizeof *a->kids);
    a->names = calloc(nf ? nf : 1, sizeof *a->names);
    a->defaults = calloc(nf ? nf : 1, sizeof *a->defaults);
    ENG_ASSERT(a->kids && a->names && a->defaults);
    for (size_t i = 0; i < nf; i++) {
        json_t *f = json_array_get(fields, i);
        const char *fname = json_string_value(json_object_get(f, "name"));
        json_t *ft = json_object_get(f, "type");
        if (fname == NULL || ft == NULL) {
            bad_schema(c, "a field needs a name and a type in record", name);
            return NULL;
        }
        a->names[i] = strdup(fname);
        json_t *def = json_object_get(f, "default");
        if (def)
            a->defaults[i] = json_incref(def);
        a->kids[i] = compile(c, ft, ns2, depth + 1);
        if (a->kids[i] == NULL)
            return NULL;
    }
    set_conv(a, j);
    return a;
}

static anode *
compile(cctx *c, json_t *j, const char *ns, int depth)
{
    if (depth > IO_AVRO_MAX_DEPTH) {
        bad_schema(c, "nested too deeply", NULL);
        return NULL;
    }
    if (json_is_string(j)) {
        const char *t = json_string_value(j);
        int p = primitive(t);
        if (p >= 0) {
            anode *a = node_new(c->s, (uint8_t)p);
            set_conv(a, NULL);
            return a;
        }
        anode *a = lookup(c, t, ns);
        if (a == NULL)
            bad_schema(c, "unknown type", t);
        return a;
    }
    if (json_is_array(j)) {
        anode *a = node_new(c->s, K_UNION);
        size_t nb = json_array_size(j);
        if (nb == 0) {
            bad_schema(c, "an empty union", NULL);
            return NULL;
        }
        a->n = (int)nb;
        a->kids = calloc(nb, sizeof *a->kids);
        ENG_ASSERT(a->kids != NULL);
        for (size_t i = 0; i < nb; i++)
            if ((a->kids[i] = compile(c, json_array_get(j, i), ns, depth + 1)) == NULL)
                return NULL;
        return a;
    }
    if (!json_is_object(j)) {
        bad_schema(c, "a type must be a string, an array or an object", NULL);
        return NULL;
    }
    const char *t = json_string_value(json_object_get(j, "type"));
    if (t == NULL) {
        /* {"type": {...}} wraps another type */
        json_t *inner = json_object_get(j, "type");
        if (inner)
            return compile(c, inner, ns, depth + 1);
        bad_schema(c, "a type object without \"type\"", NULL);
        return NULL;
    }
    int p = primitive(t);
    if (p >= 0) {
        anode *a = node_new(c->s, (uint8_t)p);
        set_conv(a, j);
        return a;
    }
    if (strcmp(t, "record") == 0 || strcmp(t, "error") == 0)
        return compile_record(c, j, ns, depth);
    if (strcmp(t, "enum") == 0) {
        const char *name = json_string_value(json_object_get(j, "name"));
        json_t *syms = json_object_get(j, "symbols");
        if (name == NULL || !json_is_array(syms)) {
            bad_schema(c, "an enum needs a name and symbols", NULL);
            return NULL;
        }
        const char *ns2 = json_string_value(json_object_get(j, "namespace"));
        anode *a = node_new(c->s, K_ENUM);
        define(c, name, ns2 ? ns2 : ns, a);
        size_t ns_ = json_array_size(syms);
        a->n = (int)ns_;
        a->names = calloc(ns_ ? ns_ : 1, sizeof *a->names);
        ENG_ASSERT(a->names != NULL);
        for (size_t i = 0; i < ns_; i++) {
            const char *sym = json_string_value(json_array_get(syms, i));
            if (sym == NULL) {
                bad_schema(c, "an enum symbol must be a string in", name);
                return NULL;
            }
            a->names[i] = strdup(sym);
        }
        set_conv(a, j);
        return a;
    }
    if (strcmp(t, "fixed") == 0) {
        const char *name = json_string_value(json_object_get(j, "name"));
        json_t *size = json_object_get(j, "size");
        if (name == NULL || !json_is_integer(size) || json_integer_value(size) < 0 ||
            json_integer_value(size) > (1 << 20)) {
            bad_schema(c, "a fixed needs a name and a size", NULL);
            return NULL;
        }
        const char *ns2 = json_string_value(json_object_get(j, "namespace"));
        anode *a = node_new(c->s, K_FIXED);
        define(c, name, ns2 ? ns2 : ns, a);
        a->size = (int32_t)json_integer_value(size);
        set_conv(a, j);
        return a;
    }
    if (strcmp(t, "array") == 0 || strcmp(t, "map") == 0) {
        bool arr = t[0] == 'a';
        json_t *it = json_object_get(j, arr ? "items" : "values");
        if (it == NULL) {
            bad_schema(c, arr ? "an array needs items" : "a map needs values", NULL);
            return NULL;
        }
        anode *a = node_new(c->s, arr ? K_ARRAY : K_MAP);
        a->n = 1;
        a->kids = calloc(1, sizeof *a->kids);
        ENG_ASSERT(a->kids != NULL);
        if ((a->kids[0] = compile(c, it, ns, depth + 1)) == NULL)
            return NULL;
        return a;
    }
    /* a named type referenced as {"type": "Name"} */
    anode *a = lookup(c, t, ns);
    if (a == NULL)
        bad_schema(c, "unknown type", t);
    return a;
}

aschema *
io_avro_schema_parse(const char *text, size_t n, eng_err *err)
{
    json_error_t je;
    json_t *j = json_loadb(text, n, JSON_DECODE_ANY, &je);
    if (j == NULL) {
        eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "invalid Avro schema: %s (line %d)",
                    je.text, je.line);
        return NULL;
    }
    aschema *s = calloc(1, sizeof *s);
    ENG_ASSERT(s != NULL);
    cctx c = {s, NULL, 0, 0, err};
    s->root = compile(&c, j, "", 0);
    for (int i = 0; i < c.nnames; i++)
        free(c.names[i].full);
    free(c.names);
    json_decref(j);
    if (s->root == NULL) {
        io_avro_schema_free(s);
        return NULL;
    }
    return s;
}

/* ------------------------------------------------------------------ columns */

/* The non-null branch of ["null", T] / [T, "null"], else NULL. */
anode *
io_avro_nullable_inner(const anode *a)
{
    if (a->kind != K_UNION || a->n != 2)
        return NULL;
    if (a->kids[0]->kind == K_NULL && a->kids[1]->kind != K_NULL)
        return a->kids[1];
    if (a->kids[1]->kind == K_NULL && a->kids[0]->kind != K_NULL)
        return a->kids[0];
    return NULL;
}

eng_type
io_avro_conv_type(const anode *a)
{
    switch (a->conv) {
    case CV_BOOL:
        return eng_type_make(ENG_TYPE_BOOL, -1);
    case CV_INT4:
        return eng_type_make(ENG_TYPE_INT4, -1);
    case CV_INT8:
        return eng_type_make(ENG_TYPE_INT8, -1);
    case CV_FLOAT4:
        return eng_type_make(ENG_TYPE_FLOAT4, -1);
    case CV_FLOAT8:
        return eng_type_make(ENG_TYPE_FLOAT8, -1);
    case CV_TEXT:
        return eng_type_make(ENG_TYPE_TEXT, -1);
    case CV_BYTES:
        return eng_type_make(ENG_TYPE_BYTEA, -1);
    case CV_JSON:
        return eng_type_make(ENG_TYPE_JSONB, -1);
    case CV_UUID:
        return eng_type_make(ENG_TYPE_UUID, -1);
    case CV_DATE:
        return eng_type_make(ENG_TYPE_DATE, -1);
    case CV_TIME_MS:
        return eng_type_make(ENG_TYPE_TIME, 3);
    case CV_TIME_US:
    case CV_TIME_NS:
        return eng_type_make(ENG_TYPE_TIME, -1);
    case CV_TS_MS:
        return eng_type_make(ENG_TYPE_TIMESTAMP, 3);
    case CV_TS_US:
    case CV_TS_NS:
        return eng_type_make(ENG_TYPE_TIMESTAMP, -1);
    case CV_TSTZ_STR:
        return eng_type_make(ENG_TYPE_TIMESTAMPTZ, -1);
    case CV_DECIMAL:
        if (a->precision >= 1 && a->precision <= ENG_NUMERIC_MAX_PRECISION && a->scale >= 0 &&
            a->scale <= a->precision)
            return eng_type_make(ENG_TYPE_NUMERIC, eng_numeric_typmod_make(a->precision, a->scale));
        return eng_type_make(ENG_TYPE_NUMERIC, -1);
    case CV_VSDEC:
        return eng_type_make(ENG_TYPE_NUMERIC, -1);
    default:
        return eng_type_make(ENG_TYPE_UNKNOWN, -1);
    }
}

const char *const io_avro_kind_name[] = {"null",   "boolean", "int",    "long",   "float",
                                         "double", "bytes",   "string", "record", "enum",
                                         "array",  "map",     "union",  "fixed"};

/* Columns of reader record rec. */
int
io_avro_make_columns(const anode *rec, io_avro_column **out, eng_err *err)
{
    if (rec->kind != K_RECORD)
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "the Avro schema of a source must be a record, not %s",
                           io_avro_kind_name[rec->kind]);
    io_avro_column *cols = calloc(rec->n ? (size_t)rec->n : 1, sizeof *cols);
    ENG_ASSERT(cols != NULL);
    for (int i = 0; i < rec->n; i++) {
        const anode *t = rec->kids[i];
        const anode *inner = io_avro_nullable_inner(t);
        cols[i].name = rec->names[i];
        cols[i].nullable = inner != NULL || t->kind == K_NULL;
        if (inner)
            t = inner;
        cols[i].type = io_avro_conv_type(t);
        if (t->conv == CV_NONE) {
            free(cols);
            return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                               "Avro field \"%s\" of type %s is not supported as a column",
                               rec->names[i], io_avro_kind_name[t->kind]);
        }
    }
    *out = cols;
    return 0;
}
