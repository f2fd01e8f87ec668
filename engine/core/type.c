/* Type descriptors: OIDs, names, tags and the SQL type-name parser. */
#include "engine/core/eng_type.h"
#include "engine/core/eng_row.h"

#include <string.h>

static const struct {
    const char *name;    /* format_type base name */
    const char *catalog; /* pg_type.typname */
    uint32_t oid;
    int16_t typlen;
    uint8_t tag;
} type_info[ENG_TYPE_COUNT_] = {
    [ENG_TYPE_UNKNOWN] = {"unknown", "unknown", 705, -2, ENG_TAG_TEXT},
    [ENG_TYPE_BOOL] = {"boolean", "bool", 16, 1, ENG_TAG_TRUE},
    [ENG_TYPE_INT2] = {"smallint", "int2", 21, 2, ENG_TAG_INT2},
    [ENG_TYPE_INT4] = {"integer", "int4", 23, 4, ENG_TAG_INT4},
    [ENG_TYPE_INT8] = {"bigint", "int8", 20, 8, ENG_TAG_INT8},
    [ENG_TYPE_FLOAT4] = {"real", "float4", 700, 4, ENG_TAG_FLOAT4},
    [ENG_TYPE_FLOAT8] = {"double precision", "float8", 701, 8, ENG_TAG_FLOAT8},
    [ENG_TYPE_NUMERIC] = {"numeric", "numeric", 1700, -1, ENG_TAG_NUMERIC},
    [ENG_TYPE_TEXT] = {"text", "text", 25, -1, ENG_TAG_TEXT},
    [ENG_TYPE_VARCHAR] = {"character varying", "varchar", 1043, -1, ENG_TAG_TEXT},
    [ENG_TYPE_BPCHAR] = {"character", "bpchar", 1042, -1, ENG_TAG_TEXT},
    [ENG_TYPE_BYTEA] = {"bytea", "bytea", 17, -1, ENG_TAG_BYTES},
    [ENG_TYPE_DATE] = {"date", "date", 1082, 4, ENG_TAG_DATE},
    [ENG_TYPE_TIME] = {"time without time zone", "time", 1083, 8, ENG_TAG_TIME},
    [ENG_TYPE_TIMESTAMP] = {"timestamp without time zone", "timestamp", 1114, 8, ENG_TAG_TIMESTAMP},
    [ENG_TYPE_TIMESTAMPTZ] = {"timestamp with time zone", "timestamptz", 1184, 8,
                              ENG_TAG_TIMESTAMPTZ},
    [ENG_TYPE_INTERVAL] = {"interval", "interval", 1186, 16, ENG_TAG_INTERVAL},
    [ENG_TYPE_UUID] = {"uuid", "uuid", 2950, 16, ENG_TAG_UUID},
    [ENG_TYPE_JSON] = {"json", "json", 114, -1, ENG_TAG_TEXT},
    [ENG_TYPE_JSONB] = {"jsonb", "jsonb", 3802, -1, ENG_TAG_TEXT},
    [ENG_TYPE_OTHER] = {"text", "text", 25, -1, ENG_TAG_TEXT},
};

uint32_t
eng_type_oid(const eng_type *t)
{
    ENG_ASSERT(t->id < ENG_TYPE_COUNT_);
    return type_info[t->id].oid;
}

int16_t
eng_type_typlen(const eng_type *t)
{
    ENG_ASSERT(t->id < ENG_TYPE_COUNT_);
    return type_info[t->id].typlen;
}

uint8_t
eng_type_tag(const eng_type *t)
{
    ENG_ASSERT(t->id < ENG_TYPE_COUNT_);
    return type_info[t->id].tag;
}

bool
eng_type_tag_matches(const eng_type *t, uint8_t tag)
{
    if (t->id == ENG_TYPE_BOOL)
        return tag == ENG_TAG_TRUE || tag == ENG_TAG_FALSE;
    return tag == eng_type_tag(t);
}

const char *
eng_type_name(eng_typeid id)
{
    ENG_ASSERT(id < ENG_TYPE_COUNT_);
    return type_info[id].name;
}

const char *
eng_type_catalog_name(eng_typeid id)
{
    ENG_ASSERT(id < ENG_TYPE_COUNT_);
    return type_info[id].catalog;
}

bool
eng_type_is_string(eng_typeid id)
{
    return id == ENG_TYPE_TEXT || id == ENG_TYPE_VARCHAR || id == ENG_TYPE_BPCHAR ||
           id == ENG_TYPE_UNKNOWN || id == ENG_TYPE_OTHER;
}

eng_type
eng_type_from_oid(uint32_t oid, int32_t typmod)
{
    for (int i = 0; i < ENG_TYPE_COUNT_; i++)
        if (i != ENG_TYPE_OTHER && type_info[i].oid == oid)
            return eng_type_make((eng_typeid)i, typmod);
    return eng_type_make(ENG_TYPE_OTHER, ENG_TYPMOD_NONE);
}

/* ------------------------------------------------------------------ format_type */

static const struct {
    int mask;
    const char *text;
} interval_fields[] = {
    {ENG_INTERVAL_YEAR, " year"},
    {ENG_INTERVAL_MONTH, " month"},
    {ENG_INTERVAL_DAY, " day"},
    {ENG_INTERVAL_HOUR, " hour"},
    {ENG_INTERVAL_MINUTE, " minute"},
    {ENG_INTERVAL_SECOND, " second"},
    {ENG_INTERVAL_YEAR | ENG_INTERVAL_MONTH, " year to month"},
    {ENG_INTERVAL_DAY | ENG_INTERVAL_HOUR, " day to hour"},
    {ENG_INTERVAL_DAY | ENG_INTERVAL_HOUR | ENG_INTERVAL_MINUTE, " day to minute"},
    {ENG_INTERVAL_DAY | ENG_INTERVAL_HOUR | ENG_INTERVAL_MINUTE | ENG_INTERVAL_SECOND,
     " day to second"},
    {ENG_INTERVAL_HOUR | ENG_INTERVAL_MINUTE, " hour to minute"},
    {ENG_INTERVAL_HOUR | ENG_INTERVAL_MINUTE | ENG_INTERVAL_SECOND, " hour to second"},
    {ENG_INTERVAL_MINUTE | ENG_INTERVAL_SECOND, " minute to second"},
    {ENG_INTERVAL_FULL_RANGE, ""},
};

void
eng_type_format(const eng_type *t, eng_strbuf *out)
{
    int32_t tm = t->typmod;
    switch (t->id) {
    case ENG_TYPE_NUMERIC:
        if (tm >= 4)
            eng_strbuf_printf(out, "numeric(%d,%d)", (tm - 4) >> 16,
                              (int)((((uint32_t)(tm - 4) & 0x7ff) ^ 1024)) - 1024);
        else
            eng_strbuf_puts(out, "numeric");
        return;
    case ENG_TYPE_VARCHAR:
        if (tm > 4)
            eng_strbuf_printf(out, "character varying(%d)", tm - 4);
        else
            eng_strbuf_puts(out, "character varying");
        return;
    case ENG_TYPE_BPCHAR:
        /* bpchar without a length is not character(1): PostgreSQL prints the
         * catalog name so it reads back the same. */
        if (tm > 4)
            eng_strbuf_printf(out, "character(%d)", tm - 4);
        else
            eng_strbuf_puts(out, "bpchar");
        return;
    case ENG_TYPE_TIME:
    case ENG_TYPE_TIMESTAMP:
    case ENG_TYPE_TIMESTAMPTZ: {
        const char *base = t->id == ENG_TYPE_TIME ? "time" : "timestamp";
        const char *zone = t->id == ENG_TYPE_TIMESTAMPTZ ? "with" : "without";
        if (tm >= 0)
            eng_strbuf_printf(out, "%s(%d) %s time zone", base, tm, zone);
        else
            eng_strbuf_printf(out, "%s %s time zone", base, zone);
        return;
    }
    case ENG_TYPE_INTERVAL: {
        eng_strbuf_puts(out, "interval");
        if (tm < 0)
            return;
        int range = ENG_INTERVAL_RANGE(tm), prec = ENG_INTERVAL_PRECISION(tm);
        for (size_t i = 0; i < sizeof interval_fields / sizeof interval_fields[0]; i++)
            if (interval_fields[i].mask == range) {
                eng_strbuf_puts(out, interval_fields[i].text);
                break;
            }
        if (prec != ENG_INTERVAL_FULL_PRECISION)
            eng_strbuf_printf(out, "(%d)", prec);
        return;
    }
    default:
        eng_strbuf_puts(out, eng_type_name(t->id));
        return;
    }
}

/* ------------------------------------------------------------------ type-name parser */

typedef enum { TOK_END, TOK_IDENT, TOK_QIDENT, TOK_NUM, TOK_PUNCT, TOK_BAD } tok_kind;

typedef struct {
    tok_kind kind;
    char text[64]; /* identifiers lower-cased (unless quoted); punctuation */
    long num;
    size_t pos;
} token;

typedef struct {
    const char *s;
    size_t n, pos;
    token tok; /* current token */
    const char *src;
    size_t srclen;
} lexer;

static bool
is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (unsigned char)c >= 0x80;
}

static void
next_token(lexer *lx)
{
    token *t = &lx->tok;
    while (lx->pos < lx->n && (lx->s[lx->pos] == ' ' || lx->s[lx->pos] == '\t' ||
                               lx->s[lx->pos] == '\n' || lx->s[lx->pos] == '\r'))
        lx->pos++;
    t->pos = lx->pos;
    t->text[0] = '\0';
    if (lx->pos >= lx->n) {
        t->kind = TOK_END;
        return;
    }
    char c = lx->s[lx->pos];
    if (is_ident_start(c)) {
        size_t k = 0;
        while (lx->pos < lx->n &&
               (is_ident_start(lx->s[lx->pos]) ||
                (lx->s[lx->pos] >= '0' && lx->s[lx->pos] <= '9') || lx->s[lx->pos] == '$')) {
            char ch = lx->s[lx->pos++];
            if (ch >= 'A' && ch <= 'Z')
                ch = (char)(ch + 32);
            if (k + 1 < sizeof t->text)
                t->text[k++] = ch;
        }
        t->text[k] = '\0';
        t->kind = TOK_IDENT;
        return;
    }
    if (c == '"') {
        size_t k = 0;
        lx->pos++;
        for (;;) {
            if (lx->pos >= lx->n) {
                t->kind = TOK_BAD;
                return;
            }
            char ch = lx->s[lx->pos++];
            if (ch == '"') {
                if (lx->pos < lx->n && lx->s[lx->pos] == '"') {
                    lx->pos++;
                } else {
                    break;
                }
            }
            if (k + 1 < sizeof t->text)
                t->text[k++] = ch;
        }
        t->text[k] = '\0';
        t->kind = TOK_QIDENT;
        return;
    }
    if (c >= '0' && c <= '9') {
        long v = 0;
        while (lx->pos < lx->n && lx->s[lx->pos] >= '0' && lx->s[lx->pos] <= '9') {
            if (v < 100000000L)
                v = v * 10 + (lx->s[lx->pos] - '0');
            lx->pos++;
        }
        t->num = v;
        t->kind = TOK_NUM;
        return;
    }
    t->text[0] = c;
    t->text[1] = '\0';
    t->kind = TOK_PUNCT;
    lx->pos++;
}

static bool
is_kw(const lexer *lx, const char *kw)
{
    return lx->tok.kind == TOK_IDENT && strcmp(lx->tok.text, kw) == 0;
}

static bool
accept_kw(lexer *lx, const char *kw)
{
    if (!is_kw(lx, kw))
        return false;
    next_token(lx);
    return true;
}

static bool
accept_punct(lexer *lx, char c)
{
    if (lx->tok.kind != TOK_PUNCT || lx->tok.text[0] != c)
        return false;
    next_token(lx);
    return true;
}

static int
syntax_error(lexer *lx, eng_err *err)
{
    if (lx->tok.kind == TOK_END)
        return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "syntax error at end of input");
    size_t start = lx->tok.pos, end = lx->pos;
    if (lx->tok.kind == TOK_QIDENT || lx->tok.kind == TOK_IDENT)
        return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "syntax error at or near \"%s\"",
                           lx->tok.text);
    return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "syntax error at or near \"%.*s\"",
                       (int)(end - start), lx->s + start);
}

/* Parses "(n[, n...])" if present; returns the count (0 if absent), -1 on a
 * syntax error. A leading minus is allowed only for scales (numeric). */
static int
parse_mods(lexer *lx, long *mods, int max, bool allow_negative, eng_err *err)
{
    if (!accept_punct(lx, '('))
        return 0;
    int k = 0;
    for (;;) {
        bool neg = allow_negative && k > 0 && accept_punct(lx, '-');
        if (lx->tok.kind != TOK_NUM)
            return syntax_error(lx, err);
        if (k >= max) {
            next_token(lx);
            k++;
        } else {
            mods[k++] = neg ? -lx->tok.num : lx->tok.num;
            next_token(lx);
        }
        if (accept_punct(lx, ','))
            continue;
        if (accept_punct(lx, ')'))
            return k;
        return syntax_error(lx, err);
    }
}

static int
char_typmod(long n, bool has, const char *tname, int32_t *typmod, eng_err *err)
{
    if (!has) {
        *typmod = ENG_TYPMOD_NONE;
        return 0;
    }
    if (n < 1)
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "length for type %s must be at least 1", tname);
    if (n > ENG_MAX_CHAR_LENGTH)
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "length for type %s cannot exceed %d", tname, ENG_MAX_CHAR_LENGTH);
    *typmod = (int32_t)n + 4;
    return 0;
}

static int
numeric_typmod(const long *mods, int nmods, int32_t *typmod, eng_err *err)
{
    if (nmods == 0) {
        *typmod = ENG_TYPMOD_NONE;
        return 0;
    }
    if (nmods > 2)
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "invalid NUMERIC type modifier");
    long p = mods[0], s = nmods == 2 ? mods[1] : 0;
    if (p < 1 || p > 1000)
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "NUMERIC precision %ld must be between 1 and %d", p, 1000);
    if (s < -1000 || s > 1000)
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "NUMERIC scale %ld must be between %d and %d", s, -1000, 1000);
    *typmod = (int32_t)((((uint32_t)p << 16) | ((uint32_t)s & 0x7ff)) + 4);
    return 0;
}

/* Time precision: > 6 is reduced to 6 (PostgreSQL warns). */
static int32_t
time_precision(long p)
{
    return p > ENG_MAX_TIME_PRECISION ? ENG_MAX_TIME_PRECISION : (int32_t)p;
}

/* [WITH | WITHOUT] TIME ZONE after time/timestamp: 1 with, 0 without/none. */
static int
parse_zone(lexer *lx, bool *with, eng_err *err)
{
    *with = false;
    if (is_kw(lx, "with") || is_kw(lx, "without")) {
        *with = is_kw(lx, "with");
        next_token(lx);
        if (!accept_kw(lx, "time"))
            return syntax_error(lx, err);
        if (!accept_kw(lx, "zone"))
            return syntax_error(lx, err);
    }
    return 0;
}

/* interval [fields] [(p)] */
static int
parse_interval(lexer *lx, eng_type *out, eng_err *err)
{
    long mods[1];
    int nm = parse_mods(lx, mods, 1, false, err);
    if (nm < 0)
        return -1;
    int range = ENG_INTERVAL_FULL_RANGE;
    bool second_last = false;
    static const struct {
        const char *kw;
        int mask;
    } units[] = {{"year", ENG_INTERVAL_YEAR},     {"month", ENG_INTERVAL_MONTH},
                 {"day", ENG_INTERVAL_DAY},       {"hour", ENG_INTERVAL_HOUR},
                 {"minute", ENG_INTERVAL_MINUTE}, {"second", ENG_INTERVAL_SECOND}};
    int first = -1;
    for (int i = 0; nm == 0 && i < 6; i++)
        if (accept_kw(lx, units[i].kw)) {
            first = i;
            break;
        }
    if (first >= 0) {
        range = units[first].mask;
        second_last = first == 5;
        if (accept_kw(lx, "to")) {
            int last = -1;
            for (int i = first + 1; i < 6; i++)
                if (accept_kw(lx, units[i].kw)) {
                    last = i;
                    break;
                }
            /* Valid spans: year to month, day|hour|minute to a later unit. */
            if (last < 0 || (first == 0 && last != 1) || first == 1 || first == 5)
                return syntax_error(lx, err);
            range = 0;
            for (int i = first; i <= last; i++)
                range |= units[i].mask;
            if (first == 0)
                range = ENG_INTERVAL_YEAR | ENG_INTERVAL_MONTH;
            second_last = last == 5;
        }
        if (second_last) {
            nm = parse_mods(lx, mods, 1, false, err);
            if (nm < 0)
                return -1;
        }
    }
    if (nm > 1)
        return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "invalid INTERVAL type modifier");
    out->id = ENG_TYPE_INTERVAL;
    if (nm == 0 && range == ENG_INTERVAL_FULL_RANGE)
        out->typmod = ENG_TYPMOD_NONE;
    else
        out->typmod =
            ENG_INTERVAL_TYPMOD(nm ? time_precision(mods[0]) : ENG_INTERVAL_FULL_PRECISION, range);
    return 0;
}

static const char *const unsupported_names[] = {
    "timetz",   "money",    "inet",      "cidr",          "macaddr",   "macaddr8",
    "point",    "line",     "lseg",      "box",           "path",      "polygon",
    "circle",   "xml",      "bit",       "varbit",        "oid",       "name",
    "char",     "tsvector", "tsquery",   "int2vector",    "oidvector", "regclass",
    "regtype",  "regproc",  "pg_lsn",    "txid_snapshot", "int4range", "int8range",
    "numrange", "tsrange",  "tstzrange", "daterange",     "jsonpath",  "record",
};

/* Catalog (pg_type) names: also what a double-quoted name must match. */
static int
lookup_catalog(const char *name, eng_type *out)
{
    for (int i = 0; i < ENG_TYPE_COUNT_; i++) {
        if (i == ENG_TYPE_OTHER)
            continue;
        if (strcmp(type_info[i].catalog, name) == 0) {
            *out = eng_type_make((eng_typeid)i, ENG_TYPMOD_NONE);
            return 0;
        }
    }
    return -1;
}

static int
undefined_type(const char *name, eng_err *err)
{
    for (size_t i = 0; i < sizeof unsupported_names / sizeof unsupported_names[0]; i++)
        if (strcmp(unsupported_names[i], name) == 0)
            return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                               "type \"%s\" is not supported", name);
    return eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT, "type \"%s\" does not exist", name);
}

/* A generic (catalog) name with optional modifiers. */
static int
parse_generic(lexer *lx, const char *name, eng_type *out, eng_err *err)
{
    if (lookup_catalog(name, out) < 0)
        return undefined_type(name, err);
    long mods[3];
    bool numeric = out->id == ENG_TYPE_NUMERIC;
    size_t modpos = lx->tok.pos;
    int nm = parse_mods(lx, mods, 3, numeric, err);
    if (nm < 0)
        return -1;
    switch (out->id) {
    case ENG_TYPE_NUMERIC:
        return numeric_typmod(mods, nm, &out->typmod, err);
    case ENG_TYPE_VARCHAR:
    case ENG_TYPE_BPCHAR:
        if (nm > 1)
            return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "invalid type modifier");
        return char_typmod(nm ? mods[0] : 0, nm == 1,
                           out->id == ENG_TYPE_VARCHAR ? "varchar" : "char", &out->typmod, err);
    case ENG_TYPE_TIME:
    case ENG_TYPE_TIMESTAMP:
    case ENG_TYPE_TIMESTAMPTZ:
        if (nm > 1)
            return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "invalid type modifier");
        out->typmod = nm ? time_precision(mods[0]) : ENG_TYPMOD_NONE;
        if (out->id != ENG_TYPE_TIMESTAMPTZ) {
            bool with;
            if (parse_zone(lx, &with, err) < 0)
                return -1;
            if (with && out->id == ENG_TYPE_TIMESTAMP)
                out->id = ENG_TYPE_TIMESTAMPTZ;
            else if (with)
                return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                                   "type \"time with time zone\" is not supported");
        }
        return 0;
    case ENG_TYPE_INTERVAL:
        lx->pos = modpos; /* re-read with the interval grammar */
        next_token(lx);
        return parse_interval(lx, out, err);
    default:
        if (nm > 0)
            return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR,
                               "type modifier is not allowed for type \"%s\"", name);
        return 0;
    }
}

/* CHARACTER / CHAR / NCHAR [VARYING] [(n)] */
static int
parse_character(lexer *lx, eng_type *out, eng_err *err)
{
    bool varying = accept_kw(lx, "varying");
    long mods[1];
    int nm = parse_mods(lx, mods, 1, false, err);
    if (nm < 0)
        return -1;
    out->id = varying ? ENG_TYPE_VARCHAR : ENG_TYPE_BPCHAR;
    /* CHARACTER without a length means CHARACTER(1); VARYING means no limit. */
    if (nm == 0 && !varying)
        return char_typmod(1, true, "char", &out->typmod, err);
    return char_typmod(nm ? mods[0] : 0, nm == 1, varying ? "varchar" : "char", &out->typmod, err);
}

static int
parse_base(lexer *lx, eng_type *out, eng_err *err)
{
    if (lx->tok.kind == TOK_QIDENT) {
        char name[64];
        memcpy(name, lx->tok.text, sizeof name);
        next_token(lx);
        return parse_generic(lx, name, out, err);
    }
    if (lx->tok.kind != TOK_IDENT)
        return syntax_error(lx, err);
    char name[64];
    memcpy(name, lx->tok.text, sizeof name);
    next_token(lx);
    long mods[3];
    int nm;
    static const struct {
        const char *kw;
        eng_typeid id;
    } simple[] = {
        {"int", ENG_TYPE_INT4},    {"integer", ENG_TYPE_INT4}, {"smallint", ENG_TYPE_INT2},
        {"bigint", ENG_TYPE_INT8}, {"real", ENG_TYPE_FLOAT4},  {"boolean", ENG_TYPE_BOOL},
    };
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (strcmp(name, simple[i].kw) == 0) {
            *out = eng_type_make(simple[i].id, ENG_TYPMOD_NONE);
            return 0;
        }
    if (strcmp(name, "double") == 0) {
        if (!accept_kw(lx, "precision"))
            return parse_generic(lx, name, out, err);
        *out = eng_type_make(ENG_TYPE_FLOAT8, ENG_TYPMOD_NONE);
        return 0;
    }
    if (strcmp(name, "float") == 0) {
        nm = parse_mods(lx, mods, 1, false, err);
        if (nm < 0)
            return -1;
        if (nm == 1 && mods[0] < 1)
            return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                               "precision for type float must be at least 1 bit");
        if (nm == 1 && mods[0] > 53)
            return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                               "precision for type float must be less than 54 bits");
        *out = eng_type_make(nm == 1 && mods[0] <= 24 ? ENG_TYPE_FLOAT4 : ENG_TYPE_FLOAT8,
                             ENG_TYPMOD_NONE);
        return 0;
    }
    if (strcmp(name, "decimal") == 0 || strcmp(name, "dec") == 0 || strcmp(name, "numeric") == 0) {
        nm = parse_mods(lx, mods, 3, true, err);
        if (nm < 0)
            return -1;
        out->id = ENG_TYPE_NUMERIC;
        return numeric_typmod(mods, nm, &out->typmod, err);
    }
    if (strcmp(name, "character") == 0 || strcmp(name, "char") == 0 || strcmp(name, "nchar") == 0)
        return parse_character(lx, out, err);
    if (strcmp(name, "national") == 0) {
        if (!accept_kw(lx, "character") && !accept_kw(lx, "char"))
            return syntax_error(lx, err);
        return parse_character(lx, out, err);
    }
    if (strcmp(name, "varchar") == 0) {
        nm = parse_mods(lx, mods, 1, false, err);
        if (nm < 0)
            return -1;
        out->id = ENG_TYPE_VARCHAR;
        return char_typmod(nm ? mods[0] : 0, nm == 1, "varchar", &out->typmod, err);
    }
    if (strcmp(name, "time") == 0 || strcmp(name, "timestamp") == 0) {
        bool ts = name[4] != '\0';
        nm = parse_mods(lx, mods, 1, false, err);
        if (nm < 0)
            return -1;
        bool with;
        if (parse_zone(lx, &with, err) < 0)
            return -1;
        if (!ts && with)
            return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                               "type \"time with time zone\" is not supported");
        out->id = !ts ? ENG_TYPE_TIME : with ? ENG_TYPE_TIMESTAMPTZ : ENG_TYPE_TIMESTAMP;
        out->typmod = nm ? time_precision(mods[0]) : ENG_TYPMOD_NONE;
        return 0;
    }
    if (strcmp(name, "interval") == 0)
        return parse_interval(lx, out, err);
    return parse_generic(lx, name, out, err);
}

int
eng_type_parse(const char *s, size_t n, eng_type *out, eng_err *err)
{
    lexer lx = {.s = s, .n = n, .pos = 0};
    next_token(&lx);
    if (lx.tok.kind == TOK_BAD)
        return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "unterminated quoted identifier");
    /* Optional pg_catalog qualification. */
    if ((is_kw(&lx, "pg_catalog") ||
         (lx.tok.kind == TOK_QIDENT && strcmp(lx.tok.text, "pg_catalog") == 0))) {
        size_t save = lx.pos;
        token saved = lx.tok;
        next_token(&lx);
        if (accept_punct(&lx, '.')) {
            if (lx.tok.kind != TOK_IDENT && lx.tok.kind != TOK_QIDENT)
                return syntax_error(&lx, err);
            /* Qualified names are catalog names (no grammar keywords). */
            char name[64];
            memcpy(name, lx.tok.text, sizeof name);
            next_token(&lx);
            if (parse_generic(&lx, name, out, err) < 0)
                return -1;
            goto tail;
        }
        lx.pos = save;
        lx.tok = saved;
    }
    if (parse_base(&lx, out, err) < 0)
        return -1;
tail:
    if (lx.tok.kind == TOK_PUNCT && lx.tok.text[0] == '[')
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "array types are not supported");
    if (is_kw(&lx, "array"))
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "array types are not supported");
    if (lx.tok.kind != TOK_END)
        return syntax_error(&lx, err);
    return 0;
}
