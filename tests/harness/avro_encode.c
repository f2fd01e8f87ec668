/* Avro binary encoding of JSON documents against a schema (see
 * avro_encode.h): schema compilation, then a recursive encoder that keeps
 * the path of the value it is in for its error messages. */
#include "tests/harness/avro_encode.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ buffer */

static void
buf_reserve(t_avro_buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL)
        abort();
    b->data = p;
    b->cap = cap;
}

void
t_avro_buf_put(t_avro_buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void
buf_byte(t_avro_buf *b, uint8_t c)
{
    t_avro_buf_put(b, &c, 1);
}

/* A long as Avro writes it: zig-zag, then 7 bits a byte, low bits first. */
static void
buf_long(t_avro_buf *b, int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
    while (u > 0x7f) {
        buf_byte(b, (uint8_t)(0x80 | (u & 0x7f)));
        u >>= 7;
    }
    buf_byte(b, (uint8_t)u);
}

void
t_avro_buf_free(t_avro_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void
t_avro_cf_header(t_avro_buf *out, uint32_t id)
{
    uint8_t h[5] = {0, (uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id};
    t_avro_buf_put(out, h, sizeof h);
}

/* ------------------------------------------------------------------ schema */

typedef enum kind {
    K_NULL,
    K_BOOLEAN,
    K_INT,
    K_LONG,
    K_FLOAT,
    K_DOUBLE,
    K_BYTES,
    K_STRING,
    K_FIXED,
    K_ENUM,
    K_ARRAY,
    K_MAP,
    K_UNION,
    K_RECORD
} kind;

static const char *const kind_names[] = {"null",   "boolean", "int",    "long",  "float",
                                         "double", "bytes",   "string", "fixed", "enum",
                                         "array",  "map",     "union",  "record"};

typedef struct node node;

typedef struct field {
    char *name;
    node *type;
    json_t *def; /* the default (a reference held), NULL if none */
} field;

struct node {
    kind k;
    char *fullname; /* record, enum, fixed */
    bool decimal;   /* bytes or fixed holding a decimal */
    int scale;
    int precision; /* 0: not given */
    size_t size;   /* fixed */
    char **symbols;
    size_t nsym;
    node *items; /* array items, map values */
    node **branches;
    size_t nbr;
    field *fields;
    size_t nfields;
};

struct t_avro_schema {
    node *root;
    node **all; /* every node, for freeing and for name lookup */
    size_t nall, cap;
};

typedef struct pctx {
    t_avro_schema *s;
    char *err;
    size_t cap;
} pctx;

static int
perr(pctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->cap, fmt, ap);
    va_end(ap);
    return -1;
}

static char *
xstrdup(const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        abort();
    return d;
}

static node *
node_new(t_avro_schema *s, kind k)
{
    if (s->nall == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        node **a = realloc(s->all, s->cap * sizeof *a);
        if (a == NULL)
            abort();
        s->all = a;
    }
    node *n = calloc(1, sizeof *n);
    if (n == NULL)
        abort();
    n->k = k;
    s->all[s->nall++] = n;
    return n;
}

void
t_avro_schema_free(t_avro_schema *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nall; i++) {
        node *n = s->all[i];
        free(n->fullname);
        for (size_t j = 0; j < n->nsym; j++)
            free(n->symbols[j]);
        free(n->symbols);
        free(n->branches);
        for (size_t j = 0; j < n->nfields; j++) {
            free(n->fields[j].name);
            json_decref(n->fields[j].def);
        }
        free(n->fields);
        free(n);
    }
    free(s->all);
    free(s);
}

static int
primitive(const char *name)
{
    for (int k = K_NULL; k <= K_STRING; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return k;
    return -1;
}

static node *
find_named(const t_avro_schema *s, const char *fullname)
{
    for (size_t i = 0; i < s->nall; i++)
        if (s->all[i]->fullname && strcmp(s->all[i]->fullname, fullname) == 0)
            return s->all[i];
    return NULL;
}

/* A reference to a named type: a dotted name is a full name; a simple one
 * is looked up in the enclosing namespace, then in the null namespace. */
static node *
resolve(pctx *c, const char *name, const char *ns)
{
    node *n = NULL;
    if (strchr(name, '.') == NULL && ns && ns[0]) {
        size_t len = strlen(ns) + 1 + strlen(name) + 1;
        char *full = malloc(len);
        if (full == NULL)
            abort();
        snprintf(full, len, "%s.%s", ns, name);
        n = find_named(c->s, full);
        free(full);
    }
    if (n == NULL)
        n = find_named(c->s, name);
    if (n == NULL)
        perr(c, "invalid Avro schema: unknown type \"%s\"", name);
    return n;
}

static node *parse(pctx *c, json_t *j, const char *ns);

/* Creates a named type (record, enum, fixed) from j's "name" and
 * "namespace" (a dotted name carries its own; else the enclosing ns).
 * Sets *own_ns to the type's namespace, the one its fields' names are
 * resolved in (a new string the caller frees). Returns NULL with c->err
 * set for a missing name or a name defined twice. */
static node *
named_new(pctx *c, json_t *j, kind k, const char *ns, char **own_ns)
{
    const char *name = json_string_value(json_object_get(j, "name"));
    if (name == NULL || name[0] == '\0') {
        perr(c, "invalid Avro schema: a %s without a name", kind_names[k]);
        return NULL;
    }
    const char *dot = strrchr(name, '.');
    char *space;
    if (dot)
        space = strndup(name, (size_t)(dot - name));
    else {
        json_t *jns = json_object_get(j, "namespace");
        const char *s = json_is_string(jns) ? json_string_value(jns) : ns;
        space = xstrdup(s ? s : "");
    }
    if (space == NULL)
        abort();
    size_t len = strlen(space) + 1 + strlen(name) + 1;
    char *full = malloc(len);
    if (full == NULL)
        abort();
    if (dot || space[0] == '\0')
        snprintf(full, len, "%s", name);
    else
        snprintf(full, len, "%s.%s", space, name);
    if (find_named(c->s, full)) {
        perr(c, "invalid Avro schema: \"%s\" is defined twice", full);
        free(full);
        free(space);
        return NULL;
    }
    node *n = node_new(c->s, k);
    n->fullname = full;
    *own_ns = space;
    return n;
}

static int
parse_record(pctx *c, json_t *j, node *n, const char *ns)
{
    json_t *fields = json_object_get(j, "fields");
    if (!json_is_array(fields))
        return perr(c, "invalid Avro schema: record %s has no fields array", n->fullname);
    size_t nf = json_array_size(fields);
    n->fields = calloc(nf ? nf : 1, sizeof *n->fields);
    if (n->fields == NULL)
        abort();
    for (size_t i = 0; i < nf; i++) {
        json_t *f = json_array_get(fields, i);
        const char *fname = json_string_value(json_object_get(f, "name"));
        if (fname == NULL)
            return perr(c, "invalid Avro schema: field %zu of %s has no name", i, n->fullname);
        for (size_t k = 0; k < n->nfields; k++)
            if (strcmp(n->fields[k].name, fname) == 0)
                return perr(c, "invalid Avro schema: field \"%s\" of %s is defined twice", fname,
                            n->fullname);
        field *fd = &n->fields[n->nfields++];
        fd->name = xstrdup(fname);
        json_t *def = json_object_get(f, "default");
        if (def)
            fd->def = json_incref(def);
        fd->type = parse(c, json_object_get(f, "type"), ns);
        if (fd->type == NULL) {
            size_t len = strlen(c->err);
            snprintf(c->err + len, c->cap - len, " (field \"%s\" of %s)", fname, n->fullname);
            return -1;
        }
    }
    return 0;
}

static int
parse_enum(pctx *c, json_t *j, node *n)
{
    json_t *syms = json_object_get(j, "symbols");
    if (!json_is_array(syms))
        return perr(c, "invalid Avro schema: enum %s has no symbols array", n->fullname);
    n->symbols = calloc(json_array_size(syms) + 1, sizeof *n->symbols);
    if (n->symbols == NULL)
        abort();
    for (size_t i = 0; i < json_array_size(syms); i++) {
        const char *sym = json_string_value(json_array_get(syms, i));
        if (sym == NULL)
            return perr(c, "invalid Avro schema: enum %s has a symbol that is not a string",
                        n->fullname);
        n->symbols[n->nsym++] = xstrdup(sym);
    }
    return 0;
}

/* logicalType decimal, or Kafka Connect's Decimal (scale in
 * connect.parameters, as a string). */
static int
parse_decimal(pctx *c, json_t *j, node *n)
{
    const char *lt = json_string_value(json_object_get(j, "logicalType"));
    const char *cn = json_string_value(json_object_get(j, "connect.name"));
    if (lt && strcmp(lt, "decimal") == 0) {
        json_t *sc = json_object_get(j, "scale"), *pr = json_object_get(j, "precision");
        n->decimal = true;
        n->scale = json_is_integer(sc) ? (int)json_integer_value(sc) : 0;
        n->precision = json_is_integer(pr) ? (int)json_integer_value(pr) : 0;
    } else if (cn && strcmp(cn, "org.apache.kafka.connect.data.Decimal") == 0) {
        json_t *params = json_object_get(j, "connect.parameters");
        const char *sc = json_string_value(json_object_get(params, "scale"));
        n->decimal = true;
        n->scale = sc ? atoi(sc) : 0;
    }
    if (n->decimal && (n->scale < 0 || n->scale > 1000 || n->precision < 0))
        return perr(c, "invalid Avro schema: decimal scale %d or precision %d", n->scale,
                    n->precision);
    return 0;
}

/* Compiles schema j in namespace ns. Returns the node, or NULL with
 * c->err set. */
static node *
parse(pctx *c, json_t *j, const char *ns)
{
    if (json_is_string(j)) {
        const char *name = json_string_value(j);
        int k = primitive(name);
        return k >= 0 ? node_new(c->s, (kind)k) : resolve(c, name, ns);
    }
    if (json_is_array(j)) {
        node *n = node_new(c->s, K_UNION);
        n->branches = calloc(json_array_size(j) + 1, sizeof *n->branches);
        if (n->branches == NULL)
            abort();
        for (size_t i = 0; i < json_array_size(j); i++) {
            node *b = parse(c, json_array_get(j, i), ns);
            if (b == NULL)
                return NULL;
            if (b->k == K_UNION) {
                perr(c, "invalid Avro schema: a union directly inside a union");
                return NULL;
            }
            n->branches[n->nbr++] = b;
        }
        return n;
    }
    if (!json_is_object(j)) {
        perr(c, "invalid Avro schema: a type must be a name, an array or an object");
        return NULL;
    }
    json_t *type = json_object_get(j, "type");
    if (type == NULL) {
        perr(c, "invalid Avro schema: an object without a type");
        return NULL;
    }
    if (!json_is_string(type))
        return parse(c, type, ns); /* {"type": {...}} or {"type": [...]} */
    const char *t = json_string_value(type);
    int k = primitive(t);
    if (k >= 0) {
        node *n = node_new(c->s, (kind)k);
        if (k == K_BYTES && parse_decimal(c, j, n) < 0)
            return NULL;
        return n;
    }
    if (strcmp(t, "array") == 0 || strcmp(t, "map") == 0) {
        node *n = node_new(c->s, t[0] == 'a' ? K_ARRAY : K_MAP);
        json_t *items = json_object_get(j, t[0] == 'a' ? "items" : "values");
        if (items == NULL) {
            perr(c, "invalid Avro schema: %s without %s", t, t[0] == 'a' ? "items" : "values");
            return NULL;
        }
        n->items = parse(c, items, ns);
        return n->items ? n : NULL;
    }
    kind nk;
    if (strcmp(t, "record") == 0 || strcmp(t, "error") == 0)
        nk = K_RECORD;
    else if (strcmp(t, "enum") == 0)
        nk = K_ENUM;
    else if (strcmp(t, "fixed") == 0)
        nk = K_FIXED;
    else
        return resolve(c, t, ns);
    char *space = NULL;
    node *n = named_new(c, j, nk, ns, &space);
    if (n == NULL)
        return NULL;
    int rc = 0;
    if (nk == K_RECORD) {
        rc = parse_record(c, j, n, space);
    } else if (nk == K_ENUM) {
        rc = parse_enum(c, j, n);
    } else {
        json_t *size = json_object_get(j, "size");
        if (!json_is_integer(size) || json_integer_value(size) < 0)
            rc = perr(c, "invalid Avro schema: fixed %s without a size", n->fullname);
        else {
            n->size = (size_t)json_integer_value(size);
            rc = parse_decimal(c, j, n);
        }
    }
    free(space);
    return rc == 0 ? n : NULL;
}

t_avro_schema *
t_avro_schema_parse(const char *text, size_t n, char *err, size_t errcap)
{
    json_error_t je;
    json_t *j = json_loadb(text, n, JSON_DECODE_ANY, &je);
    if (j == NULL) {
        snprintf(err, errcap, "invalid Avro schema: invalid JSON at line %d column %d: %s", je.line,
                 je.column, je.text);
        return NULL;
    }
    t_avro_schema *s = calloc(1, sizeof *s);
    if (s == NULL)
        abort();
    pctx c = {s, err, errcap};
    s->root = parse(&c, j, NULL);
    json_decref(j);
    if (s->root == NULL) {
        t_avro_schema_free(s);
        return NULL;
    }
    return s;
}

/* ------------------------------------------------------------------ encoder */

typedef struct ectx {
    t_avro_buf *out;
    char path[512];
    size_t plen;
    char *err;
    size_t cap;
} ectx;

static int
eerr(ectx *e, const char *fmt, ...)
{
    int off = 0;
    if (e->plen)
        off = snprintf(e->err, e->cap, "%s: ", e->path);
    if (off < 0 || (size_t)off >= e->cap)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->err + off, e->cap - (size_t)off, fmt, ap);
    va_end(ap);
    return -1;
}

/* Appends a path element: ".name" for a field (no dot at the top),
 * "[x]" for an array index or a map key. Returns the length to pop back
 * to; a path too long for the buffer is cut short. */
static size_t
push(ectx *e, bool is_field, const char *name, size_t idx)
{
    size_t old = e->plen, room = sizeof e->path - old;
    int w;
    if (is_field)
        w = snprintf(e->path + old, room, "%s%s", old ? "." : "", name);
    else if (name)
        w = snprintf(e->path + old, room, "[%s]", name);
    else
        w = snprintf(e->path + old, room, "[%zu]", idx);
    if (w > 0)
        e->plen = (size_t)w < room ? old + (size_t)w : sizeof e->path - 1;
    return old;
}

static void
pop(ectx *e, size_t old)
{
    e->plen = old;
    e->path[old] = '\0';
}

static const char *
json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    default:
        return "null";
    }
}

/* The name a union branch goes by in the wrapped form. */
static const char *
branch_name(const node *n)
{
    return n->fullname ? n->fullname : kind_names[n->k];
}

static int encode(ectx *e, const node *n, const json_t *v);

/* A JSON string's code points as bytes (ISO-8859-1). */
static int
latin1(ectx *e, const json_t *v, t_avro_buf *b)
{
    const uint8_t *s = (const uint8_t *)json_string_value(v);
    size_t n = json_string_length(v);
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x80) {
            buf_byte(b, s[i]);
        } else if ((s[i] == 0xc2 || s[i] == 0xc3) && i + 1 < n) {
            /* U+0080..U+00FF: 110000xx 10xxxxxx */
            buf_byte(b, (uint8_t)(((s[i] & 0x03) << 6) | (s[i + 1] & 0x3f)));
            i++;
        } else
            return eerr(e,
                        "a character above U+00FF at byte %zu of a bytes string (bytes are "
                        "written as code points U+0000..U+00FF)",
                        i);
    }
    return 0;
}

/* True if s reads as a decimal number: [+-]digits[.digits][e[+-]digits]
 * (digits on at least one side of the point). */
static bool
numeric_text(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (digits == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t ed = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, ed++;
        if (ed == 0)
            return false;
    }
    return i == n;
}

/* The unscaled value of the number text s (numeric_text) at scale, as
 * minimal big-endian two's complement bytes in out. */
static int
unscaled(ectx *e, const node *n, const char *s, size_t len, t_avro_buf *out)
{
    size_t i = 0;
    bool neg = false;
    if (s[i] == '-' || s[i] == '+')
        neg = s[i++] == '-';
    char *digits = malloc(len + (size_t)n->scale + 2);
    if (digits == NULL)
        abort();
    size_t nd = 0;
    long exp = 0; /* the value is digits * 10^exp */
    bool fraction = false;
    for (; i < len && s[i] != 'e' && s[i] != 'E'; i++) {
        if (s[i] == '.') {
            fraction = true;
            continue;
        }
        digits[nd++] = s[i];
        if (fraction)
            exp--;
    }
    if (i < len) {
        long x = strtol(s + i + 1, NULL, 10);
        if (x > 100000 || x < -100000) {
            free(digits);
            return eerr(e, "decimal exponent out of range in \"%.*s\"", (int)len, s);
        }
        exp += x;
    }
    exp += n->scale;
    int rc = 0;
    if (exp < 0) {
        /* digits below the scale must be zeros */
        for (long k = 0; k < -exp; k++)
            if (nd > (size_t)k && digits[nd - 1 - (size_t)k] != '0') {
                rc = eerr(e, "%.*s has more than %d digits after the decimal point (the scale)",
                          (int)len, s, n->scale);
                goto done;
            }
        nd = (size_t)-exp >= nd ? 0 : nd - (size_t)-exp;
    } else {
        if (nd + (size_t)exp > 1000) { /* more digits than any decimal we need */
            rc = eerr(e, "decimal %.*s out of range", (int)len, s);
            goto done;
        }
        char *d = realloc(digits, nd + (size_t)exp + 1);
        if (d == NULL)
            abort();
        digits = d;
        memset(digits + nd, '0', (size_t)exp);
        nd += (size_t)exp;
    }
    size_t lead = 0;
    while (lead < nd && digits[lead] == '0')
        lead++;
    if (n->precision > 0 && nd - lead > (size_t)n->precision) {
        rc = eerr(e, "%.*s has more than %d digits (the precision)", (int)len, s, n->precision);
        goto done;
    }
    /* base 10 -> base 256, big-endian, one spare byte for the sign */
    size_t nb = nd + 2;
    uint8_t *mag = calloc(nb, 1);
    if (mag == NULL)
        abort();
    for (size_t k = lead; k < nd; k++) {
        unsigned carry = (unsigned)(digits[k] - '0');
        for (size_t b = nb; b-- > 0;) {
            unsigned v = mag[b] * 10u + carry;
            mag[b] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    if (neg) {
        unsigned carry = 1;
        for (size_t b = nb; b-- > 0;) {
            unsigned v = (uint8_t)~mag[b] + carry;
            mag[b] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    size_t st = 0;
    while (st + 1 < nb &&
           ((mag[st] == 0 && !(mag[st + 1] & 0x80)) || (mag[st] == 0xff && (mag[st + 1] & 0x80))))
        st++;
    t_avro_buf_put(out, mag + st, nb - st);
    free(mag);
done:
    free(digits);
    return rc;
}

/* A decimal's unscaled bytes from a number, a numeric string or raw bytes. */
static int
decimal_bytes(ectx *e, const node *n, const json_t *v, t_avro_buf *b)
{
    char text[64];
    if (json_is_integer(v)) {
        snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return unscaled(e, n, text, strlen(text), b);
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        for (int p = 1; p <= 17; p++) {
            snprintf(text, sizeof text, "%.*g", p, d);
            if (strtod(text, NULL) == d)
                break;
        }
        return unscaled(e, n, text, strlen(text), b);
    }
    if (!json_is_string(v))
        return eerr(e, "expected a decimal (a number, a numeric string or raw bytes), got %s",
                    json_kind(v));
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (numeric_text(s, len))
        return unscaled(e, n, s, len, b);
    return latin1(e, v, b);
}

static int
encode_bytes(ectx *e, const node *n, const json_t *v)
{
    t_avro_buf tmp = {0};
    int rc;
    if (n->decimal)
        rc = decimal_bytes(e, n, v, &tmp);
    else if (json_is_string(v))
        rc = latin1(e, v, &tmp);
    else
        rc = eerr(e, "expected a string for %s, got %s", kind_names[n->k], json_kind(v));
    if (rc == 0 && n->k == K_BYTES) {
        buf_long(e->out, (int64_t)tmp.len);
        t_avro_buf_put(e->out, tmp.data, tmp.len);
    } else if (rc == 0 && tmp.len == n->size) {
        t_avro_buf_put(e->out, tmp.data, tmp.len);
    } else if (rc == 0 && n->decimal && tmp.len < n->size) {
        /* sign-extend the unscaled value (raw bytes must have the size) */
        bool raw = json_is_string(v) && !numeric_text(json_string_value(v), json_string_length(v));
        if (raw)
            rc = eerr(e, "%zu bytes for fixed %s of size %zu", tmp.len, n->fullname, n->size);
        else {
            uint8_t fill = tmp.len && (tmp.data[0] & 0x80) ? 0xff : 0x00;
            for (size_t i = tmp.len; i < n->size; i++)
                buf_byte(e->out, fill);
            t_avro_buf_put(e->out, tmp.data, tmp.len);
        }
    } else if (rc == 0) {
        rc = n->decimal && tmp.len > n->size
                 ? eerr(e, "decimal does not fit in fixed %s of size %zu", n->fullname, n->size)
                 : eerr(e, "%zu bytes for fixed %s of size %zu", tmp.len, n->fullname, n->size);
    }
    t_avro_buf_free(&tmp);
    return rc;
}

static int
encode_float(ectx *e, const node *n, const json_t *v)
{
    double d;
    if (json_is_number(v))
        d = json_number_value(v);
    else if (json_is_string(v) && strcmp(json_string_value(v), "NaN") == 0)
        d = NAN;
    else if (json_is_string(v) && strcmp(json_string_value(v), "Infinity") == 0)
        d = INFINITY;
    else if (json_is_string(v) && strcmp(json_string_value(v), "-Infinity") == 0)
        d = -INFINITY;
    else
        return eerr(e, "expected a number for %s, got %s", kind_names[n->k], json_kind(v));
    uint8_t le[8] = {0};
    uint64_t bits;
    size_t w;
    if (n->k == K_FLOAT) {
        if (isfinite(d) && fabs(d) > 3.4028234663852886e38)
            return eerr(e, "%g is out of range for float", d);
        float f = (float)d;
        uint32_t b32;
        memcpy(&b32, &f, 4);
        bits = b32;
        w = 4;
    } else {
        memcpy(&bits, &d, 8);
        w = 8;
    }
    for (size_t i = 0; i < w; i++)
        le[i] = (uint8_t)(bits >> (8 * i));
    t_avro_buf_put(e->out, le, w);
    return 0;
}

static int
encode_record(ectx *e, const node *n, const json_t *v)
{
    if (!json_is_object(v))
        return eerr(e, "expected an object for record %s, got %s", n->fullname, json_kind(v));
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val)
    {
        size_t i = 0;
        while (i < n->nfields && strcmp(n->fields[i].name, key) != 0)
            i++;
        if (i == n->nfields)
            return eerr(e, "unknown field \"%s\" (record %s has no such field)", key, n->fullname);
    }
    for (size_t i = 0; i < n->nfields; i++) {
        const field *f = &n->fields[i];
        const json_t *fv = json_object_get(v, f->name);
        if (fv == NULL && f->def == NULL)
            return eerr(e, "missing field \"%s\" of record %s (it has no default)", f->name,
                        n->fullname);
        size_t old = push(e, true, f->name, 0);
        int rc = encode(e, f->type, fv ? fv : f->def);
        if (rc < 0)
            return rc;
        pop(e, old);
    }
    return 0;
}

/* Whether the JSON value has the shape of a value of n (to pick which
 * failed union branch explains the failure). */
static bool
shape_fits(const node *n, const json_t *v)
{
    switch (n->k) {
    case K_NULL:
        return json_is_null(v);
    case K_BOOLEAN:
        return json_is_boolean(v);
    case K_INT:
    case K_LONG:
        return json_is_integer(v);
    case K_FLOAT:
    case K_DOUBLE:
        return json_is_number(v) || json_is_string(v);
    case K_BYTES:
    case K_FIXED:
        return json_is_string(v) || (n->decimal && json_is_number(v));
    case K_STRING:
    case K_ENUM:
        return json_is_string(v);
    case K_ARRAY:
        return json_is_array(v);
    default:
        return json_is_object(v);
    }
}

static int
encode_union(ectx *e, const node *n, const json_t *v)
{
    /* the wrapped form: {"branch name": value} */
    if (json_is_object(v) && json_object_size(v) == 1) {
        const char *key = json_object_iter_key(json_object_iter((json_t *)v));
        int hit = -1, short_hits = 0, short_hit = -1;
        for (size_t i = 0; i < n->nbr; i++) {
            const char *bn = branch_name(n->branches[i]);
            if (strcmp(bn, key) == 0)
                hit = (int)i;
            const char *dot = n->branches[i]->fullname ? strrchr(bn, '.') : NULL;
            if (dot && strcmp(dot + 1, key) == 0)
                short_hits++, short_hit = (int)i;
        }
        if (hit < 0 && short_hits == 1)
            hit = short_hit;
        if (hit >= 0) {
            buf_long(e->out, hit);
            return encode(e, n->branches[hit],
                          json_object_iter_value(json_object_iter((json_t *)v)));
        }
    }
    /* the plain form: the first branch that takes the value */
    char first[512] = "";
    size_t mark = e->out->len, plen = e->plen;
    for (size_t i = 0; i < n->nbr; i++) {
        buf_long(e->out, (int64_t)i);
        if (encode(e, n->branches[i], v) == 0)
            return 0;
        e->out->len = mark;
        pop(e, plen);
        if (first[0] == '\0' && shape_fits(n->branches[i], v))
            snprintf(first, sizeof first, "%s", e->err);
    }
    if (first[0]) {
        snprintf(e->err, e->cap, "%s", first);
        return -1;
    }
    char names[256] = "";
    size_t off = 0;
    for (size_t i = 0; i < n->nbr && off < sizeof names; i++) {
        int w = snprintf(names + off, sizeof names - off, "%s%s", i ? ", " : "",
                         branch_name(n->branches[i]));
        off += w > 0 ? (size_t)w : 0;
    }
    return eerr(e, "%s matches no branch of the union [%s]", json_kind(v), names);
}

static int
encode(ectx *e, const node *n, const json_t *v)
{
    switch (n->k) {
    case K_NULL:
        if (!json_is_null(v))
            return eerr(e, "expected null, got %s", json_kind(v));
        return 0;
    case K_BOOLEAN:
        if (!json_is_boolean(v))
            return eerr(e, "expected true or false, got %s", json_kind(v));
        buf_byte(e->out, json_is_true(v) ? 1 : 0);
        return 0;
    case K_INT:
    case K_LONG: {
        if (!json_is_integer(v))
            return eerr(e, "expected an integer for %s, got %s", kind_names[n->k], json_kind(v));
        json_int_t x = json_integer_value(v);
        if (n->k == K_INT && (x < INT32_MIN || x > INT32_MAX))
            return eerr(e, "%" JSON_INTEGER_FORMAT " is out of range for int", x);
        buf_long(e->out, (int64_t)x);
        return 0;
    }
    case K_FLOAT:
    case K_DOUBLE:
        return encode_float(e, n, v);
    case K_BYTES:
    case K_FIXED:
        return encode_bytes(e, n, v);
    case K_STRING:
        if (!json_is_string(v))
            return eerr(e, "expected a string, got %s", json_kind(v));
        buf_long(e->out, (int64_t)json_string_length(v));
        t_avro_buf_put(e->out, json_string_value(v), json_string_length(v));
        return 0;
    case K_ENUM: {
        const char *s = json_string_value(v);
        if (s == NULL)
            return eerr(e, "expected a symbol of enum %s, got %s", n->fullname, json_kind(v));
        for (size_t i = 0; i < n->nsym; i++)
            if (strcmp(n->symbols[i], s) == 0) {
                buf_long(e->out, (int64_t)i);
                return 0;
            }
        return eerr(e, "\"%s\" is not a symbol of enum %s", s, n->fullname);
    }
    case K_ARRAY: {
        if (!json_is_array(v))
            return eerr(e, "expected an array, got %s", json_kind(v));
        size_t cnt = json_array_size(v);
        if (cnt)
            buf_long(e->out, (int64_t)cnt);
        for (size_t i = 0; i < cnt; i++) {
            size_t old = push(e, false, NULL, i);
            if (encode(e, n->items, json_array_get(v, i)) < 0)
                return -1;
            pop(e, old);
        }
        buf_byte(e->out, 0);
        return 0;
    }
    case K_MAP: {
        if (!json_is_object(v))
            return eerr(e, "expected an object for a map, got %s", json_kind(v));
        if (json_object_size(v))
            buf_long(e->out, (int64_t)json_object_size(v));
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val)
        {
            buf_long(e->out, (int64_t)strlen(key));
            t_avro_buf_put(e->out, key, strlen(key));
            size_t old = push(e, false, key, 0);
            if (encode(e, n->items, val) < 0)
                return -1;
            pop(e, old);
        }
        buf_byte(e->out, 0);
        return 0;
    }
    case K_UNION:
        return encode_union(e, n, v);
    case K_RECORD:
        return encode_record(e, n, v);
    }
    return eerr(e, "unknown schema node");
}

int
t_avro_encode(const t_avro_schema *s, const json_t *value, t_avro_buf *out, char *err,
              size_t errcap)
{
    ectx e = {.out = out, .err = err, .cap = errcap};
    size_t mark = out->len;
    if (encode(&e, s->root, value) < 0) {
        out->len = mark;
        return -1;
    }
    return 0;
}

int
t_avro_encode_text(const t_avro_schema *s, const char *doc, size_t n, t_avro_buf *out, char *err,
                   size_t errcap)
{
    json_error_t je;
    json_t *j = json_loadb(doc, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (j == NULL) {
        snprintf(err, errcap, "invalid JSON at column %d: %s", je.column, je.text);
        return -1;
    }
    int rc = t_avro_encode(s, j, out, err, errcap);
    json_decref(j);
    return rc;
}
