/* Kafka sources (issue 6): CREATE SOURCE ... FROM KAFKA CONNECTION c
 * (TOPIC 't' [, START OFFSET (o0, o1, ...)]) with FORMAT AVRO USING
 * CONFLUENT SCHEMA REGISTRY CONNECTION csr | KEY FORMAT f VALUE FORMAT f |
 * FORMAT JSON | TEXT | BYTES, ENVELOPE DEBEZIUM | UPSERT | NONE, and the
 * consumer thread that keeps the source's relation up to date.
 *
 * Notes:
 * - Objects. The SOURCE object is itself the relation (as in Materialize):
 *   its columns are the Debezium `after` record's (DEBEZIUM), the key's
 *   then the value's (UPSERT), or the value's (NONE); FORMAT JSON gives
 *   `data jsonb`, TEXT `text text`, BYTES `data bytea` (`key` for a key).
 *   `<name>_progress` (partition, offset) is a progress SUBSOURCE with the
 *   next offset to read per partition.
 * - Columns are fixed at CREATE SOURCE: from the registry's latest schemas
 *   (subjects `<topic>-value` and `<topic>-key`) for Avro, or from the
 *   embedded schema of the newest message for Debezium JSON
 *   (schemas.enable=true). They are recorded in the catalog (an internal
 *   WITH (RESOLVED = '...') option), so a restart asks upstream nothing.
 *   Later writer schemas are resolved against the recorded reader schema.
 * - State. The relation is an arrangement in a CDC mode of op_arrange:
 *   UPSERT by key for ENVELOPE UPSERT and for DEBEZIUM when the topic has
 *   a key (the key columns are the key schema's fields): an update without
 *   `before` (REPLICA IDENTITY DEFAULT) and a message redelivered after a
 *   connector restart both just replace the key's row. DEBEZIUM without a
 *   key (a table without primary key, REPLICA IDENTITY FULL) and NONE are
 *   bags: retract `before`, insert `after`.
 * - Time. Like PostgreSQL sources: messages are grouped into ticks of one
 *   millisecond; the contents of the topic when the source starts (up to
 *   each partition's high watermark then) land at one timestamp t0 and the
 *   source is readable once they are in.
 * - Offsets are kept in memory with the source's state; nothing is durable
 *   across a restart yet: a restart re-reads the topic from START OFFSET
 *   (upserts make that converge to the same contents).
 * - Bad input (wrong magic byte, unknown schema id, corrupt Avro, invalid
 *   JSON, a message without a key for UPSERT) stalls the source with an
 *   error naming topic, partition, offset and reason; reads of it fail
 *   with that error; the rest of the process runs on. A registry that
 *   cannot be reached (or answers with a server error) when a new writer
 *   schema is needed is no bad input: the source waits and retries with
 *   backoff, its reads answering what it has.
 * - Threads. The consumer thread runs its own io_uring loop polling
 *   librdkafka's queue event fd and a 1 ms timer; it never takes the
 *   coordinator lock. */
#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/core/eng_log.h"
#include "engine/core/eng_size.h"
#include "engine/core/eng_text.h"
#include "engine/server/lex.h"
#include "engine/server/source_rt.h"
#include "io/io_avro.h"
#include "io/io_csr.h"
#include "io/io_dbz.h"
#include "io/io_kafka.h"
#include "io/io_loop.h"

/* ------------------------------------------------------------------ definition */

typedef enum kfmt { KF_NONE = 0, KF_AVRO, KF_JSON, KF_TEXT, KF_BYTES } kfmt;
typedef enum kenv { KE_NONE = 0, KE_UPSERT, KE_DEBEZIUM } kenv;

static const char *const fmt_names[] = {"", "avro", "json", "text", "bytes"};
static const char *const env_names[] = {"none", "upsert", "debezium"};

/* What CREATE SOURCE resolved: formats, schemas and columns. Recorded in
 * the catalog as JSON. */
typedef struct kdef {
    kfmt key_fmt, val_fmt;
    kenv env;
    char *key_schema, *val_schema; /* Avro reader schemas (JSON text) */
    char *key_sample, *val_sample; /* Debezium JSON: {"schema": ...} of a message */
    int nkey;                      /* key columns */
    int *key;                      /* their indexes in the relation's columns */
    bool keyed;                    /* UPSERT arrangement by key */
} kdef;

static void
kdef_free(kdef *d)
{
    free(d->key_schema);
    free(d->val_schema);
    free(d->key_sample);
    free(d->val_sample);
    free(d->key);
    memset(d, 0, sizeof *d);
}

/* A key or value decoder. */
typedef struct kdec {
    kfmt fmt;
    io_avro_decoder *avro;
    io_dbz_schema dbz; /* JSON + DEBEZIUM */
} kdec;

static void
kdec_free(kdec *d)
{
    io_avro_decoder_free(d->avro);
    io_dbz_schema_free(&d->dbz);
    memset(d, 0, sizeof *d);
}

/* The Kafka side of a source (srcrt.k). */
typedef struct ksrc {
    char *topic;
    ex_kconn kafka, csr;
    bool has_csr;
    kdef def;
    int nstart;
    int64_t *start;                   /* START OFFSET per partition */
    char *txn_topic, *txn_collection; /* TRANSACTION METADATA, or NULL */
} ksrc;

static void
ksrc_free(void *p)
{
    ksrc *k = p;
    if (k == NULL)
        return;
    free(k->topic);
    ex_kconn_free(&k->kafka);
    ex_kconn_free(&k->csr);
    kdef_free(&k->def);
    free(k->start);
    free(k->txn_topic);
    free(k->txn_collection);
    free(k);
}

static io_kafka_conf
kafka_conf(const ex_kconn *c)
{
    return (io_kafka_conf){c->brokers,
                           c->security_protocol,
                           c->sasl_mechanisms,
                           c->sasl_username,
                           c->sasl_password,
                           c->ca,
                           0};
}

/* The consumer's prefetch limit: a sixteenth of the source size's memory
 * (256 MiB for 3xsmall), within [64 MiB, 1 GiB]. librdkafka 2.0 pauses
 * fetching for about a second whenever it is reached. */
static int
queue_kbytes(const srcrt *src)
{
    eng_size sz;
    eng_err e;
    eng_err_clear(&e);
    if (eng_size_parse(src->size, &sz, &e) != 0)
        return 65536;
    uint64_t kb = sz.memory_bytes / 16 / 1024;
    return kb < 65536 ? 65536 : kb > 1048576 ? 1048576 : (int)kb;
}

static io_csr_conf
csr_conf(const ex_kconn *c)
{
    return (io_csr_conf){c->url, c->user, c->password, c->ca, 10000};
}

/* ------------------------------------------------------------------ columns */

typedef struct colset {
    int n, cap;
    io_pgsrc_col *cols;
} colset;

static void
col_add(colset *cs, const char *name, eng_type type, bool not_null)
{
    if (cs->n == cs->cap) {
        cs->cap = cs->cap ? cs->cap * 2 : 8;
        cs->cols = realloc(cs->cols, (size_t)cs->cap * sizeof *cs->cols);
        ENG_ASSERT(cs->cols != NULL);
    }
    io_pgsrc_col *c = &cs->cols[cs->n++];
    memset(c, 0, sizeof *c);
    c->name = src_strdup(name);
    c->type = type;
    c->oid = eng_type_oid(&type);
    c->typmod = type.typmod;
    c->not_null = not_null;
}

static void
colset_free(colset *cs)
{
    for (int i = 0; i < cs->n; i++)
        free(cs->cols[i].name);
    free(cs->cols);
    memset(cs, 0, sizeof *cs);
}

/* The decoder for one side (key or value) of the definition, and its
 * columns appended to cs (prefix names the single column of JSON, TEXT
 * and BYTES: "key" for a key, else "data"/"text"). */
static int
make_dec(const kdef *d, bool key, kdec *out, colset *cs, eng_err *err)
{
    memset(out, 0, sizeof *out);
    out->fmt = key ? d->key_fmt : d->val_fmt;
    bool dbz = !key && d->env == KE_DEBEZIUM;
    switch (out->fmt) {
    case KF_AVRO: {
        const char *s = key ? d->key_schema : d->val_schema;
        if (s == NULL)
            return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "no Avro schema recorded");
        out->avro =
            io_avro_decoder_create(s, strlen(s), dbz ? IO_AVRO_DEBEZIUM : IO_AVRO_PLAIN, err);
        if (out->avro == NULL)
            return -1;
        if (cs != NULL) {
            const io_avro_column *c = io_avro_decoder_cols(out->avro);
            for (int i = 0; i < io_avro_decoder_ncols(out->avro); i++)
                col_add(cs, c[i].name, c[i].type, !c[i].nullable);
        }
        return 0;
    }
    case KF_JSON:
        if (dbz || (key && d->env == KE_DEBEZIUM)) {
            const char *s = key ? d->key_sample : d->val_sample;
            if (s == NULL)
                return 0; /* a keyless Debezium topic */
            if (io_dbz_schema_derive(s, strlen(s), &out->dbz, err) != 0)
                return -1;
            if (cs != NULL)
                for (int i = 0; i < out->dbz.ncols; i++)
                    col_add(cs, out->dbz.cols[i].name, out->dbz.cols[i].type,
                            !out->dbz.cols[i].nullable);
            return 0;
        }
        if (cs != NULL)
            col_add(cs, key ? "key" : "data", eng_type_make(ENG_TYPE_JSONB, ENG_TYPMOD_NONE),
                    false);
        return 0;
    case KF_TEXT:
        if (cs != NULL)
            col_add(cs, key ? "key" : "text", eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE), false);
        return 0;
    case KF_BYTES:
        if (cs != NULL)
            col_add(cs, key ? "key" : "data", eng_type_make(ENG_TYPE_BYTEA, ENG_TYPMOD_NONE),
                    false);
        return 0;
    case KF_NONE:
        return 0;
    }
    return 0;
}

/* Columns and key of the relation for definition d. */
static int
def_columns(kdef *d, colset *cs, eng_err *err)
{
    kdec kd = {0}, vd = {0};
    colset keys = {0};
    int rc = -1;
    if (d->env == KE_DEBEZIUM) {
        if (make_dec(d, false, &vd, cs, err) != 0)
            goto out;
        if (d->key_fmt != KF_NONE && (d->key_schema != NULL || d->key_sample != NULL)) {
            if (make_dec(d, true, &kd, &keys, err) != 0)
                goto out;
        }
        free(d->key);
        d->key = NULL;
        d->nkey = 0;
        if (keys.n > 0) {
            d->key = calloc((size_t)keys.n, sizeof *d->key);
            ENG_ASSERT(d->key != NULL);
            for (int i = 0; i < keys.n; i++) {
                int j = 0;
                while (j < cs->n && strcmp(cs->cols[j].name, keys.cols[i].name) != 0)
                    j++;
                if (j == cs->n) {
                    eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                                "key field \"%s\" is not a column of the value's after record",
                                keys.cols[i].name);
                    goto out;
                }
                d->key[d->nkey++] = j;
            }
        }
        d->keyed = d->nkey > 0;
    } else {
        if (d->env == KE_UPSERT && make_dec(d, true, &kd, cs, err) != 0)
            goto out;
        int nk = cs->n;
        if (make_dec(d, false, &vd, cs, err) != 0)
            goto out;
        for (int i = nk; i < cs->n; i++)
            for (int j = 0; j < nk; j++)
                if (strcmp(cs->cols[i].name, cs->cols[j].name) == 0) {
                    eng_err_set(err, ENG_ERRCODE_DUPLICATE_COLUMN,
                                "column \"%s\" is both in the key and in the value",
                                cs->cols[i].name);
                    goto out;
                }
        free(d->key);
        d->key = NULL;
        d->nkey = d->env == KE_UPSERT ? nk : 0;
        if (d->nkey > 0) {
            d->key = calloc((size_t)d->nkey, sizeof *d->key);
            ENG_ASSERT(d->key != NULL);
            for (int i = 0; i < d->nkey; i++)
                d->key[i] = i;
        }
        d->keyed = d->env == KE_UPSERT;
    }
    if (cs->n == 0) {
        eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "the source would have no columns");
        goto out;
    }
    rc = 0;
out:
    kdec_free(&kd);
    kdec_free(&vd);
    colset_free(&keys);
    return rc;
}

static char *
def_json(const kdef *d)
{
    json_t *o = json_object();
    json_object_set_new(o, "key_format", json_string(fmt_names[d->key_fmt]));
    json_object_set_new(o, "value_format", json_string(fmt_names[d->val_fmt]));
    json_object_set_new(o, "envelope", json_string(env_names[d->env]));
    if (d->key_schema)
        json_object_set_new(o, "key_schema", json_string(d->key_schema));
    if (d->val_schema)
        json_object_set_new(o, "value_schema", json_string(d->val_schema));
    if (d->key_sample)
        json_object_set_new(o, "key_sample", json_string(d->key_sample));
    if (d->val_sample)
        json_object_set_new(o, "value_sample", json_string(d->val_sample));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static kfmt
fmt_from(const char *s)
{
    for (int i = 1; i <= KF_BYTES; i++)
        if (s != NULL && strcmp(s, fmt_names[i]) == 0)
            return (kfmt)i;
    return KF_NONE;
}

static int
def_from_json(const char *js, kdef *d, eng_err *err)
{
    json_t *o = json_loads(js, 0, NULL);
    if (o == NULL)
        return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "corrupt Kafka source definition");
    d->key_fmt = fmt_from(json_string_value(json_object_get(o, "key_format")));
    d->val_fmt = fmt_from(json_string_value(json_object_get(o, "value_format")));
    const char *e = json_string_value(json_object_get(o, "envelope"));
    d->env = e && strcmp(e, "debezium") == 0 ? KE_DEBEZIUM
             : e && strcmp(e, "upsert") == 0 ? KE_UPSERT
                                             : KE_NONE;
    const char *keys[4] = {"key_schema", "value_schema", "key_sample", "value_sample"};
    char **dst[4] = {&d->key_schema, &d->val_schema, &d->key_sample, &d->val_sample};
    for (int i = 0; i < 4; i++) {
        const char *v = json_string_value(json_object_get(o, keys[i]));
        *dst[i] = v ? src_strdup(v) : NULL;
    }
    json_decref(o);
    return 0;
}

/* ------------------------------------------------------------------ the statement */

typedef struct kspec {
    src_head h;
    char conn[128], csr[128], topic[256];
    kfmt key_fmt, val_fmt;
    bool key_avro_csr; /* KEY FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY */
    kenv env;
    int nstart;
    int64_t start[256];
    char txn_topic[256], txn_collection[256]; /* TRANSACTION METADATA */
    char *resolved;                           /* WITH (RESOLVED = '...'): catalog replay */
} kspec;

/* FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION c | JSON | TEXT | BYTES */
static int
parse_format(ex_lexer *l, kspec *sp, kfmt *out, eng_err *err)
{
    char parts[2][128];
    if (ex_lex_kw(l, "avro")) {
        *out = KF_AVRO;
        if (!ex_lex_kw(l, "using") || !ex_lex_kw(l, "confluent") || !ex_lex_kw(l, "schema") ||
            !ex_lex_kw(l, "registry") || !ex_lex_kw(l, "connection"))
            return ex_lex_syntax(l, err, "USING CONFLUENT SCHEMA REGISTRY CONNECTION after AVRO");
        int n = ex_lex_qname(l, parts, 2);
        if (n == 0)
            return ex_lex_syntax(l, err, "a connection name");
        if (sp->csr[0] && strcmp(sp->csr, parts[n - 1]) != 0)
            return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                               "the key and the value must use the same schema registry");
        snprintf(sp->csr, sizeof sp->csr, "%s", parts[n - 1]);
        return 0;
    }
    if (ex_lex_kw(l, "json")) {
        *out = KF_JSON;
        return 0;
    }
    if (ex_lex_kw(l, "text")) {
        *out = KF_TEXT;
        return 0;
    }
    if (ex_lex_kw(l, "bytes")) {
        *out = KF_BYTES;
        return 0;
    }
    if (ex_lex_kw(l, "protobuf") || ex_lex_kw(l, "csv") || ex_lex_kw(l, "regex"))
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "Kafka sources read AVRO, JSON, TEXT or BYTES");
    return ex_lex_syntax(l, err, "AVRO, JSON, TEXT or BYTES");
}

/* WITH (RESOLVED = '...'): the definition CREATE SOURCE resolved, which
 * the catalog records and replays (Sluice sets it, never a user). */
static int
with_resolved(ex_lexer *l, void *arg, eng_err *err)
{
    kspec *sp = arg;
    if (!ex_lex_kw(l, "resolved"))
        return 0;
    ex_lex_punct(l, '=');
    size_t cap = strlen(l->sql) + 1;
    free(sp->resolved);
    sp->resolved = malloc(cap);
    ENG_ASSERT(sp->resolved != NULL);
    if (!ex_lex_string(l, sp->resolved, cap))
        return ex_lex_syntax(l, err, "a string");
    return 1;
}

static int
parse_create(const char *sql, kspec *sp, eng_err *err)
{
    ex_lexer l = {sql, sql};
    char parts[2][128];
    if (src_parse_head(&l, &sp->h, err) != 0)
        return -1;
    if (!ex_lex_kw(&l, "from") || !ex_lex_kw(&l, "kafka"))
        return ex_lex_syntax(&l, err, "FROM KAFKA");
    if (!ex_lex_kw(&l, "connection"))
        return ex_lex_syntax(&l, err, "CONNECTION");
    int np = ex_lex_qname(&l, parts, 2);
    if (np == 0)
        return ex_lex_syntax(&l, err, "a connection name");
    snprintf(sp->conn, sizeof sp->conn, "%s", parts[np - 1]);
    if (!ex_lex_punct(&l, '('))
        return ex_lex_syntax(&l, err, "'(' and the source's options (TOPIC ...)");
    for (;;) {
        if (ex_lex_kw(&l, "topic")) {
            ex_lex_punct(&l, '=');
            if (!ex_lex_string(&l, sp->topic, sizeof sp->topic))
                return ex_lex_syntax(&l, err, "the topic's name as a string");
        } else if (ex_lex_kw(&l, "start")) {
            if (!ex_lex_kw(&l, "offset"))
                return ex_lex_syntax(&l, err, "OFFSET after START");
            ex_lex_punct(&l, '=');
            if (!ex_lex_punct(&l, '('))
                return ex_lex_syntax(&l, err, "'(' and an offset per partition");
            do {
                char buf[64];
                ex_lex_ws(&l);
                const char *at = l.p;
                /* A sign is not part of a value token: keep it, so that a
                 * negative offset gets the message below. */
                buf[0] = '-';
                size_t sign = ex_lex_punct(&l, '-') ? 1 : 0;
                if (!ex_lex_value(&l, buf + sign, sizeof buf - 1))
                    return ex_lex_syntax(&l, err, "an offset");
                char *end;
                errno = 0;
                long long v = strtoll(buf, &end, 10);
                if (*end != '\0' || errno != 0 || v < 0) {
                    eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                                "START OFFSET must be non-negative integers, not '%s'", buf);
                    err->position = (int)(at - sql) + 1;
                    return -1;
                }
                if (sp->nstart == (int)(sizeof sp->start / sizeof sp->start[0]))
                    return eng_err_set(err, ENG_ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                                       "too many START OFFSET values");
                sp->start[sp->nstart++] = v;
            } while (ex_lex_punct(&l, ','));
            if (!ex_lex_punct(&l, ')'))
                return ex_lex_syntax(&l, err, "')'");
        } else {
            return ex_lex_syntax(&l, err, "TOPIC or START OFFSET");
        }
        if (ex_lex_punct(&l, ','))
            continue;
        if (ex_lex_punct(&l, ')'))
            break;
        return ex_lex_syntax(&l, err, "',' or ')'");
    }
    if (sp->topic[0] == '\0')
        return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "a Kafka source needs TOPIC");
    if (ex_lex_kw(&l, "key")) {
        if (!ex_lex_kw(&l, "format"))
            return ex_lex_syntax(&l, err, "FORMAT after KEY");
        if (parse_format(&l, sp, &sp->key_fmt, err) != 0)
            return -1;
        if (!ex_lex_kw(&l, "value") || !ex_lex_kw(&l, "format"))
            return ex_lex_syntax(&l, err, "VALUE FORMAT after KEY FORMAT");
        if (parse_format(&l, sp, &sp->val_fmt, err) != 0)
            return -1;
    } else if (ex_lex_kw(&l, "format")) {
        if (parse_format(&l, sp, &sp->val_fmt, err) != 0)
            return -1;
        sp->key_fmt = KF_NONE; /* decided by the envelope below */
    } else if (ex_lex_kw(&l, "value")) {
        if (!ex_lex_kw(&l, "format"))
            return ex_lex_syntax(&l, err, "FORMAT after VALUE");
        if (parse_format(&l, sp, &sp->val_fmt, err) != 0)
            return -1;
    } else {
        return ex_lex_syntax(&l, err, "FORMAT or KEY FORMAT ... VALUE FORMAT");
    }
    bool explicit_key = sp->key_fmt != KF_NONE;
    if (ex_lex_kw(&l, "include"))
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "INCLUDE (key, partition, offset, ...) is not supported yet");
    sp->env = KE_NONE;
    if (ex_lex_kw(&l, "envelope")) {
        if (ex_lex_kw(&l, "debezium"))
            sp->env = KE_DEBEZIUM;
        else if (ex_lex_kw(&l, "upsert"))
            sp->env = KE_UPSERT;
        else if (ex_lex_kw(&l, "none"))
            sp->env = KE_NONE;
        else if (ex_lex_kw(&l, "materialize"))
            return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                               "ENVELOPE MATERIALIZE is not supported");
        else
            return ex_lex_syntax(&l, err, "DEBEZIUM, UPSERT or NONE after ENVELOPE");
        if (sp->env == KE_DEBEZIUM && ex_lex_punct(&l, '(')) {
            /* (TRANSACTION METADATA (TOPIC 't' [, COLLECTION 'schema.table'])) */
            if (!ex_lex_kw(&l, "transaction") || !ex_lex_kw(&l, "metadata") ||
                !ex_lex_punct(&l, '('))
                return ex_lex_syntax(&l, err, "TRANSACTION METADATA (TOPIC '...')");
            do {
                if (ex_lex_kw(&l, "topic")) {
                    ex_lex_punct(&l, '=');
                    if (!ex_lex_string(&l, sp->txn_topic, sizeof sp->txn_topic))
                        return ex_lex_syntax(&l, err, "the transaction topic as a string");
                } else if (ex_lex_kw(&l, "collection")) {
                    ex_lex_punct(&l, '=');
                    if (!ex_lex_string(&l, sp->txn_collection, sizeof sp->txn_collection))
                        return ex_lex_syntax(&l, err, "the collection as a string");
                } else {
                    return ex_lex_syntax(&l, err, "TOPIC or COLLECTION");
                }
            } while (ex_lex_punct(&l, ','));
            if (!ex_lex_punct(&l, ')') || !ex_lex_punct(&l, ')'))
                return ex_lex_syntax(&l, err, "')'");
            if (sp->txn_topic[0] == '\0')
                return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR,
                                   "TRANSACTION METADATA needs TOPIC");
        }
    }
    /* The key's format, unless given: the value's (a single FORMAT covers
     * both, as in Materialize). */
    if (!explicit_key && sp->env != KE_NONE)
        sp->key_fmt = sp->val_fmt;
    if (sp->env == KE_DEBEZIUM && sp->val_fmt != KF_AVRO && sp->val_fmt != KF_JSON)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "ENVELOPE DEBEZIUM needs FORMAT AVRO or FORMAT JSON");
    if (sp->txn_topic[0] && sp->val_fmt != KF_JSON)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "TRANSACTION METADATA is supported with FORMAT JSON only");
    if (sp->txn_topic[0] && sp->txn_collection[0] == '\0') {
        /* Debezium names topics <prefix>.<schema>.<table> and collections
         * <schema>.<table>. */
        const char *dot = strchr(sp->topic, '.');
        snprintf(sp->txn_collection, sizeof sp->txn_collection, "%s", dot ? dot + 1 : sp->topic);
    }
    if (sp->env == KE_DEBEZIUM && sp->key_fmt != sp->val_fmt)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "ENVELOPE DEBEZIUM needs the key in the value's format");
    if (sp->env == KE_NONE && explicit_key)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "KEY FORMAT needs ENVELOPE UPSERT or DEBEZIUM (INCLUDE KEY is not "
                           "supported yet)");
    return src_parse_tail(&l, &sp->h, with_resolved, sp, "SIZE", err);
}

/* ------------------------------------------------------------------ resolving upstream */

/* The embedded-schema part of a Debezium JSON message ({"schema": ...}),
 * NULL if it has none. */
static char *
schema_part(const uint8_t *p, size_t n)
{
    json_error_t je;
    json_t *o = json_loadb((const char *)p, n, 0, &je);
    if (o == NULL)
        return NULL;
    json_t *s = json_object_get(o, "schema");
    char *out = NULL;
    if (json_is_object(s)) {
        json_t *w = json_object();
        json_object_set(w, "schema", s);
        json_object_set_new(w, "payload", json_null());
        out = json_dumps(w, JSON_COMPACT);
        json_decref(w);
    }
    json_decref(o);
    return out;
}

/* Per partition, the newest message with a value and the newest with a
 * key (copies; NULL: none yet). */
typedef struct ksample {
    int64_t val_ts, key_ts;
    char *val, *key;
    size_t val_len, key_len;
} ksample;

static char *
copy_bytes(const uint8_t *p, size_t n)
{
    char *c = malloc(n + 1);
    ENG_ASSERT(c != NULL);
    if (n > 0)
        memcpy(c, p, n);
    c[n] = '\0';
    return c;
}

/* io_kafka_read_ranges callback: a partition's messages come in offset
 * order, so the last one with a value (a key) is its newest. */
static void
sample_take(void *arg, const io_kafka_msg *m)
{
    ksample *ks = &((ksample *)arg)[m->partition];
    if (m->value != NULL) {
        free(ks->val);
        ks->val = copy_bytes(m->value, m->value_len);
        ks->val_len = m->value_len;
        ks->val_ts = m->ts_ms;
    }
    if (m->key != NULL) {
        free(ks->key);
        ks->key = copy_bytes(m->key, m->key_len);
        ks->key_len = m->key_len;
        ks->key_ts = m->ts_ms;
    }
}

/* Keeps the embedded schema of message bytes p[0..n) (NULL: none), sent
 * at ts, in *sample if it is at least as new as *newest_ts. */
static void
take_newest(char **sample, int64_t *newest_ts, const char *p, size_t n, int64_t ts)
{
    char *s = p != NULL && ts >= *newest_ts ? schema_part((const uint8_t *)p, n) : NULL;
    if (s == NULL)
        return;
    free(*sample);
    *sample = s;
    *newest_ts = ts;
}

/* Debezium JSON: the value's schema from the newest message with a value,
 * the key's from the newest message with a key, among the last 8 messages
 * of every partition, all partitions read at once (one message at a time
 * took ~50 ms each). They are sought apart: a truncate (op t) has a value
 * but a null key on a keyed topic too, and must not make the source
 * keyless when it happens to be the newest message. */
static int
sample_json(io_kafka *k, int nparts, const char *topic, kdef *d, eng_err *err)
{
    size_t np = nparts > 0 ? (size_t)nparts : 1;
    int64_t *from = malloc(np * sizeof *from);
    int64_t *to = malloc(np * sizeof *to);
    ksample *ks = calloc(np, sizeof *ks);
    ENG_ASSERT(from != NULL && to != NULL && ks != NULL);
    int rc = -1;
    for (int p = 0; p < nparts; p++) {
        int64_t lo, hi;
        if (io_kafka_watermarks(k, p, &lo, &hi, 5000, err) != 0)
            goto out;
        from[p] = hi - 8 > lo ? hi - 8 : lo;
        to[p] = hi;
    }
    if (io_kafka_read_ranges(k, nparts, from, to, 5000, sample_take, ks, err) != 0)
        goto out;
    int64_t val_ts = -1, key_ts = -1;
    for (int p = 0; p < nparts; p++) {
        take_newest(&d->val_sample, &val_ts, ks[p].val, ks[p].val_len, ks[p].val_ts);
        take_newest(&d->key_sample, &key_ts, ks[p].key, ks[p].key_len, ks[p].key_ts);
    }
    if (d->val_sample == NULL) {
        eng_err_set(err, ENG_ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "Kafka topic \"%s\" has no Debezium JSON message with an embedded schema to "
                    "take the columns from",
                    topic);
        eng_err_hint(err,
                     "produce with the JsonConverter's schemas.enable=true, or use FORMAT AVRO");
        goto out;
    }
    rc = 0;
out:
    for (int p = 0; p < nparts; p++) {
        free(ks[p].val);
        free(ks[p].key);
    }
    free(ks);
    free(from);
    free(to);
    return rc;
}

/* Avro: the latest schemas of the topic's subjects. */
static int
resolve_avro(const ex_kconn *csr, const char *topic, kdef *d, eng_err *err)
{
    io_csr_conf cf = csr_conf(csr);
    io_csr *c = io_csr_open(&cf, err);
    if (c == NULL)
        return -1;
    char subject[300];
    uint32_t id;
    int rc = -1;
    if (d->val_fmt == KF_AVRO) {
        snprintf(subject, sizeof subject, "%s-value", topic);
        if (io_csr_latest(c, subject, &id, &d->val_schema, err) != 0)
            goto out;
    }
    if (d->key_fmt == KF_AVRO) {
        snprintf(subject, sizeof subject, "%s-key", topic);
        eng_err e2;
        eng_err_clear(&e2);
        if (io_csr_latest(c, subject, &id, &d->key_schema, &e2) != 0) {
            bool missing = strcmp(e2.sqlstate, ENG_ERRCODE_UNDEFINED_OBJECT) == 0;
            if (!(missing && d->env == KE_DEBEZIUM)) {
                *err = e2;
                goto out;
            }
            /* A Debezium topic of a table without primary key: no key. */
            d->key_schema = NULL;
        }
    }
    rc = 0;
out:
    io_csr_close(c);
    return rc;
}

/* ------------------------------------------------------------------ the consumer */

#define KMSG_BATCH 1024

typedef struct kpart {
    int64_t next;     /* next offset to read */
    int64_t shown;    /* offset in the progress relation (-1: none) */
    int64_t catch_up; /* high watermark at start: data below it lands at t0 */
} kpart;

typedef struct ktxn {
    char id[128];
    int64_t expected; /* events of our collection, -1 until END */
    int64_t received;
} ktxn;

typedef struct kcmd {
    int txn; /* index in txns, -1: none */
    bool truncate;
    int64_t diff;
    size_t off; /* row bytes in fifo_bytes */
    uint32_t len;
} kcmd;

typedef struct kstream {
    srcrt *src;
    ksrc *k;
    subrt *sb;
    eng_client *c;
    src_io io; /* polls kc's event fd */
    io_kafka *kc;
    int nparts;
    kpart *parts;
    io_csr *csr;
    kdec key, val;
    bool stalled;     /* bad input: consumption stopped */
    bool catching_up; /* the start contents are not all in yet */
    bool tick_open;
    eng_time tick_t, frontier;
    uint64_t tick_staged;
    eng_time next_attempt, last_meta;
    int backoff_ms;
    bool transient; /* a consumer error is shown in the status */
    /* The registry could not be asked for a writer schema: consumption
     * waits until resume_at, then goes on from each partition's next. */
    bool waiting, registry_down;
    eng_time resume_at;
    int retry_ms;
    eng_batch *b;
    eng_rowbuf row, tmp, keyrow;
    io_dbz_change dbz;
    /* TRANSACTION METADATA: commands wait in a FIFO until the transaction
     * they belong to is complete (its END seen and all its events of our
     * collection received); commands behind an incomplete one wait too. */
    io_kafka *tx;
    int tx_nparts;
    ktxn *txns;
    int ntxn, txncap;
    int cur_txn; /* the transaction of the message being applied, -1: none */
    /* Transactions applied and forgotten, as hashes of their ids, in two
     * generations of TXN_DONE_GEN each: an event or END of one of them
     * arriving again (a connector restart redelivers) is skipped instead
     * of opening a transaction that would never complete. */
    uint64_t *done[2];
    int ndone;
    kcmd *fifo;
    size_t fifo_head, fifo_n, fifo_cap;
    eng_strbuf fifo_bytes;
    io_dbz_txn txmsg;
    io_kafka_msg msgs[KMSG_BATCH];
    uint64_t n_msgs, n_bytes, n_staged;
    struct timespec started;
} kstream;

static void kafka_arm_poll(kstream *st);

static void
kflush(kstream *st)
{
    if (st->b != NULL && st->b->n > 0) {
        eng_df_send_keyed(st->c, st->sb->df, st->sb->in_stream, st->b, st->sb->kw);
        st->b = NULL;
    }
}

static void
kpush(kstream *st, eng_row r, int64_t diff)
{
    if (st->b == NULL)
        st->b = eng_client_batch(st->c);
    eng_batch_push(st->b, r, st->tick_t, diff);
    if (st->b->n >= ENG_BATCH_TARGET)
        kflush(st);
    st->tick_staged++;
    st->n_staged++;
}

static void
kprogress_row(eng_rowbuf *rb, int part, int64_t off)
{
    eng_rowbuf_reset(rb);
    eng_push_int4(rb, part);
    eng_push_int8(rb, off);
}

/* The progress relation shows every partition's next offset at t. */
static void
kset_progress(kstream *st, eng_time t)
{
    srcrt *src = st->src;
    eng_batch *b = NULL;
    eng_rowbuf rb = {0};
    uint64_t sum = 0;
    for (int p = 0; p < st->nparts; p++) {
        kpart *kp = &st->parts[p];
        sum += (uint64_t)(kp->next > 0 ? kp->next : 0);
        if (kp->next == kp->shown)
            continue;
        if (b == NULL)
            b = eng_client_batch(st->c);
        if (kp->shown >= 0) {
            kprogress_row(&rb, p, kp->shown);
            eng_batch_push(b, eng_rowbuf_row(&rb), t, -1);
        }
        kprogress_row(&rb, p, kp->next);
        eng_batch_push(b, eng_rowbuf_row(&rb), t, 1);
        kp->shown = kp->next;
    }
    eng_rowbuf_free(&rb);
    if (b != NULL)
        eng_df_send(st->c, src->prog_df, src->prog_in, b);
    atomic_store(&src->offset_committed, sum);
}

static void
kadvance(kstream *st, eng_time f)
{
    srcrt *src = st->src;
    kflush(st);
    eng_df_advance(st->c, st->sb->df, st->sb->in_stream, f);
    eng_df_advance(st->c, src->prog_df, src->prog_in, f);
    st->frontier = f;
}

static void
ktick_begin(kstream *st)
{
    if (st->tick_open)
        return;
    eng_time now = src_now_ms();
    st->tick_t = st->catching_up ? st->src->t0 : (now > st->frontier ? now : st->frontier);
    st->tick_open = true;
    st->tick_staged = 0;
}

static void
ktick_close(kstream *st)
{
    if (!st->tick_open || st->catching_up)
        return;
    kset_progress(st, st->tick_t);
    kadvance(st, st->tick_t + 1);
    st->tick_open = false;
    atomic_fetch_add(&st->src->updates_committed, st->tick_staged);
}

/* Whether every partition has reached its high watermark at start. */
static void
check_caught_up(kstream *st)
{
    /* While waiting, the consumer's position is past messages dropped. */
    if (!st->catching_up || st->waiting)
        return;
    for (int p = 0; p < st->nparts; p++) {
        kpart *kp = &st->parts[p];
        if (kp->next >= kp->catch_up)
            continue;
        /* Offsets can have gaps (compaction, transaction markers): the
         * consumer's position tells where the next fetch starts. */
        int64_t pos = st->kc != NULL ? io_kafka_position(st->kc, p) : -1;
        if (pos < kp->catch_up)
            return;
    }
    srcrt *src = st->src;
    st->catching_up = false;
    ktick_begin(st);
    st->tick_t = src->t0;
    kset_progress(st, src->t0);
    kadvance(st, src->t0 + 1);
    st->tick_open = false;
    atomic_fetch_add(&src->updates_committed, st->tick_staged);
    /* Readable once the arrangement has it all, not when it was sent. */
    eng_err err;
    eng_err_clear(&err);
    while (!atomic_load(&src->stop) &&
           eng_df_wait(st->c, st->sb->df, st->sb->arr, src->t0, 200, &err) != 0)
        eng_err_clear(&err);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    atomic_store(&src->rehydration_ms, (int64_t)((now.tv_sec - st->started.tv_sec) * 1000 +
                                                 (now.tv_nsec - st->started.tv_nsec) / 1000000));
    pthread_mutex_lock(&src->mu);
    atomic_store(&src->ready, true);
    pthread_cond_broadcast(&src->cv);
    pthread_mutex_unlock(&src->mu);
    eng_log(ENG_LOG_INFO, "source %s: caught up with topic %s (%llu records)", src->name,
            st->k->topic, (unsigned long long)atomic_load(&src->updates_committed));
}

/* Stops consumption: the message at (partition, offset) cannot be read. */
static void
kbad(kstream *st, const io_kafka_msg *m, const char *what, const eng_err *e)
{
    srcrt *src = st->src;
    char msg[1400];
    snprintf(msg, sizeof msg, "topic %s partition %d offset %lld: %s%s%s", st->k->topic,
             (int)m->partition, (long long)m->offset, what, what[0] && e != NULL ? ": " : "",
             e != NULL ? e->message : "");
    src_sub_fail(src, st->sb, "%s", msg);
    /* While the start contents load, readers wait for them: failed lets
     * them go with the error. */
    src_set_status(src, st->catching_up ? "failed" : "stalled", msg);
    st->stalled = true;
    eng_err e2;
    eng_err_clear(&e2);
    (void)io_kafka_assign(st->kc, 0, NULL, &e2);
    if (st->catching_up) {
        /* Readers waiting for the start contents get the error. */
        pthread_mutex_lock(&src->mu);
        pthread_cond_broadcast(&src->cv);
        pthread_mutex_unlock(&src->mu);
    }
}

/* A registry error worth retrying: the registry could not be reached or
 * answered with a server error (classes 08 and 58), unlike an answer
 * about the schema (an unknown id, refused credentials). */
static bool
registry_transient(const eng_err *e)
{
    return strncmp(e->sqlstate, "08", 2) == 0 || strncmp(e->sqlstate, "58", 2) == 0;
}

/* The message at (partition, offset) waits for the registry: consumption
 * pauses (the rest of the polled batch is dropped, every partition goes
 * back to its next offset when it resumes) and is retried with backoff. */
static void
kwait(kstream *st, const io_kafka_msg *m, const eng_err *e)
{
    st->retry_ms = st->retry_ms ? (st->retry_ms * 2 > 30000 ? 30000 : st->retry_ms * 2) : 200;
    st->resume_at = src_now_ms() + st->retry_ms;
    st->waiting = true;
    st->transient = true; /* "running" again once a message goes through */
    char msg[1400];
    snprintf(msg, sizeof msg, "topic %s partition %d offset %lld: %s; retrying in %d ms",
             st->k->topic, (int)m->partition, (long long)m->offset, e->message, st->retry_ms);
    src_set_status(st->src, "stalled", msg);
    eng_err e2;
    eng_err_clear(&e2);
    (void)io_kafka_assign(st->kc, 0, NULL, &e2);
}

/* Makes sure the Avro decoder knows the message's writer schema. */
static int
avro_ready(kstream *st, kdec *d, const uint8_t *p, size_t n, eng_err *err)
{
    uint32_t id;
    const uint8_t *body;
    size_t blen;
    if (io_avro_cf_frame(p, n, &id, &body, &blen, err) != 0)
        return -1;
    if (io_avro_decoder_has_schema(d->avro, id))
        return 0;
    if (st->csr == NULL) {
        io_csr_conf cf = csr_conf(&st->k->csr);
        st->csr = io_csr_open(&cf, err);
        if (st->csr == NULL) {
            st->registry_down = registry_transient(err);
            return -1;
        }
    }
    char *schema = NULL;
    if (io_csr_schema_by_id(st->csr, id, &schema, err) != 0) {
        st->registry_down = registry_transient(err);
        return -1;
    }
    int rc = io_avro_decoder_add_schema(d->avro, id, schema, strlen(schema), err);
    free(schema);
    return rc;
}

/* Decodes one side (key or value, not Debezium) into st->tmp. */
static int
decode_plain(kstream *st, kdec *d, const uint8_t *p, size_t n, eng_err *err)
{
    eng_rowbuf_reset(&st->tmp);
    switch (d->fmt) {
    case KF_AVRO:
        if (avro_ready(st, d, p, n, err) != 0)
            return -1;
        return io_avro_decode(d->avro, p, n, &st->tmp, err);
    case KF_JSON: {
        eng_type t = eng_type_make(ENG_TYPE_JSONB, ENG_TYPMOD_NONE);
        return eng_text_parse(&t, (const char *)p, n, &st->tmp, err);
    }
    case KF_TEXT:
        if (eng_utf8_validate((const char *)p, n, err) != 0)
            return -1;
        eng_push_var(&st->tmp, ENG_TAG_TEXT, p, (uint32_t)n);
        return 0;
    case KF_BYTES:
        eng_push_var(&st->tmp, ENG_TAG_BYTES, p, (uint32_t)n);
        return 0;
    case KF_NONE:
        return 0;
    }
    return 0;
}

static void emit_truncate_now(kstream *st);

#define TXN_DONE_GEN 4096
#define TXN_DONE_SLOTS (2 * TXN_DONE_GEN) /* open addressing, half full at most */

static uint64_t
txn_hash(const char *id)
{
    uint64_t h = XXH3_64bits(id, strlen(id));
    return h ? h : 1; /* 0 marks an empty slot */
}

static bool
txn_done(const kstream *st, const char *id)
{
    uint64_t h = txn_hash(id);
    for (int g = 0; g < 2; g++) {
        const uint64_t *t = st->done[g];
        if (t == NULL)
            continue;
        for (size_t i = h % TXN_DONE_SLOTS; t[i] != 0; i = (i + 1) % TXN_DONE_SLOTS)
            if (t[i] == h)
                return true;
    }
    return false;
}

static void
txn_mark_done(kstream *st, const char *id)
{
    if (st->done[0] == NULL || st->ndone == TXN_DONE_GEN) {
        free(st->done[1]);
        st->done[1] = st->done[0];
        st->done[0] = calloc(TXN_DONE_SLOTS, sizeof *st->done[0]);
        ENG_ASSERT(st->done[0] != NULL);
        st->ndone = 0;
    }
    uint64_t h = txn_hash(id);
    size_t i = h % TXN_DONE_SLOTS;
    while (st->done[0][i] != 0 && st->done[0][i] != h)
        i = (i + 1) % TXN_DONE_SLOTS;
    if (st->done[0][i] == 0) {
        st->done[0][i] = h;
        st->ndone++;
    }
}

static int
txn_find(kstream *st, const char *id, bool add)
{
    for (int i = 0; i < st->ntxn; i++)
        if (strcmp(st->txns[i].id, id) == 0)
            return i;
    if (!add)
        return -1;
    if (st->ntxn == st->txncap) {
        st->txncap = st->txncap ? st->txncap * 2 : 16;
        st->txns = realloc(st->txns, (size_t)st->txncap * sizeof *st->txns);
        ENG_ASSERT(st->txns != NULL);
    }
    ktxn *t = &st->txns[st->ntxn];
    memset(t, 0, sizeof *t);
    snprintf(t->id, sizeof t->id, "%s", id);
    t->expected = -1;
    return st->ntxn++;
}

static void
fifo_push(kstream *st, bool truncate, eng_row r, int64_t diff)
{
    if (st->fifo_head + st->fifo_n == st->fifo_cap) {
        if (st->fifo_head > 0) {
            memmove(st->fifo, st->fifo + st->fifo_head, st->fifo_n * sizeof *st->fifo);
            st->fifo_head = 0;
        }
        if (st->fifo_n == st->fifo_cap) {
            st->fifo_cap = st->fifo_cap ? st->fifo_cap * 2 : 256;
            st->fifo = realloc(st->fifo, st->fifo_cap * sizeof *st->fifo);
            ENG_ASSERT(st->fifo != NULL);
        }
    }
    kcmd *c = &st->fifo[st->fifo_head + st->fifo_n++];
    c->txn = st->cur_txn;
    c->truncate = truncate;
    c->diff = diff;
    c->off = st->fifo_bytes.len;
    c->len = r.len;
    if (r.len)
        eng_strbuf_append(&st->fifo_bytes, (const char *)r.data, r.len);
}

static bool
txn_complete(const kstream *st, int i)
{
    return i < 0 || (st->txns[i].expected >= 0 && st->txns[i].received >= st->txns[i].expected);
}

/* Applies the commands at the FIFO's front whose transactions are complete. */
static void
fifo_flush(kstream *st)
{
    bool any = false;
    while (st->fifo_n > 0) {
        kcmd *c = &st->fifo[st->fifo_head];
        if (!txn_complete(st, c->txn))
            break;
        if (!any) {
            ktick_begin(st);
            any = true;
        }
        if (c->truncate)
            emit_truncate_now(st);
        else
            kpush(st, (eng_row){(const uint8_t *)st->fifo_bytes.data + c->off, c->len}, c->diff);
        st->fifo_head++;
        st->fifo_n--;
    }
    if (st->fifo_n == 0) {
        st->fifo_head = 0;
        eng_strbuf_reset(&st->fifo_bytes);
        /* Transactions fully applied are forgotten (but remembered as
         * done). */
        int w = 0;
        for (int i = 0; i < st->ntxn; i++) {
            if (!txn_complete(st, i) || st->txns[i].expected < 0)
                st->txns[w++] = st->txns[i];
            else
                txn_mark_done(st, st->txns[i].id);
        }
        st->ntxn = w;
    }
}

/* Reads the transaction topic: END events tell how many events of our
 * collection each transaction has. */
static void
tx_drain(kstream *st)
{
    if (st->tx == NULL)
        return;
    io_kafka_event_reset(st->tx);
    for (;;) {
        int n = io_kafka_poll(st->tx, st->msgs, KMSG_BATCH);
        for (int i = 0; i < n; i++) {
            io_kafka_msg *m = &st->msgs[i];
            if (m->error != 0 || m->value == NULL)
                continue;
            eng_err err;
            eng_err_clear(&err);
            if (io_dbz_decode_txn((const char *)m->value, m->value_len, st->k->txn_collection,
                                  &st->txmsg, &err) != 0) {
                eng_log(ENG_LOG_WARN, "source %s: transaction topic %s offset %lld: %s",
                        st->src->name, st->k->txn_topic, (long long)m->offset, err.message);
                continue;
            }
            if (!st->txmsg.end || txn_done(st, st->txmsg.id))
                continue;
            int t = txn_find(st, st->txmsg.id, st->txmsg.collection_events > 0);
            if (t >= 0)
                st->txns[t].expected =
                    st->txmsg.collection_events > 0 ? st->txmsg.collection_events : 0;
        }
        io_kafka_release(st->msgs, n);
        if (n < KMSG_BATCH)
            break;
    }
}

/* Appends the key datums of row r (the relation's columns) to st->row. */
static void
push_key_of(kstream *st, eng_row r)
{
    const kdef *d = &st->k->def;
    int nc = st->sb->t.ncols;
    uint32_t offs[nc + 1];
    uint32_t off = 0;
    for (int j = 0; j < nc; j++) {
        offs[j] = off;
        off += eng_datum_size_at(r.data + off);
    }
    offs[nc] = off;
    for (int i = 0; i < d->nkey; i++) {
        int j = d->key[i];
        eng_rowbuf_append(&st->row, r.data + offs[j], offs[j + 1] - offs[j]);
    }
}

/* A command: keyed: key(r) ++ r ++ meta; bag: r ++ meta. */
static void
emit(kstream *st, eng_row r, int64_t diff)
{
    eng_rowbuf_reset(&st->row);
    if (st->sb->keyed)
        push_key_of(st, r);
    eng_rowbuf_append(&st->row, r.data, r.len);
    eng_push_null(&st->row);
    if (st->tx != NULL)
        fifo_push(st, false, eng_rowbuf_row(&st->row), diff);
    else
        kpush(st, eng_rowbuf_row(&st->row), diff);
}

static void
emit_truncate_now(kstream *st)
{
    srcrt *src = st->src;
    subrt *sb = st->sb;
    kflush(st);
    src_sub_truncate(src, st->c, sb, st->tick_t);
    st->tick_staged++;
    st->n_staged++;
}

static void
emit_truncate(kstream *st)
{
    if (st->tx != NULL)
        fifo_push(st, true, (eng_row){NULL, 0}, 1);
    else
        emit_truncate_now(st);
}

/* One Debezium change (op, before, after in the relation's columns). */
static int
apply_change(kstream *st, char op, bool has_before, eng_row before, bool has_after, eng_row after,
             const char **why)
{
    bool keyed = st->sb->keyed;
    switch (op) {
    case 'c':
    case 'r':
        if (!has_after)
            return *why = "a create without after", -1;
        emit(st, after, 1);
        return 0;
    case 'u':
        if (!has_after)
            return *why = "an update without after", -1;
        if (!keyed) {
            if (!has_before)
                return *why = "an update without before on a topic without key (the table "
                              "needs REPLICA IDENTITY FULL)",
                       -1;
            emit(st, before, -1);
        }
        emit(st, after, 1);
        return 0;
    case 'd':
        if (!has_before)
            return *why = "a delete without before", -1;
        emit(st, before, -1);
        return 0;
    case 't':
        emit_truncate(st);
        return 0;
    case 'm':
        return 0; /* a logical decoding message: no rows */
    default:
        return *why = "an unknown op", -1;
    }
}

static int
on_debezium(kstream *st, const io_kafka_msg *m, eng_err *err, const char **why)
{
    kdec *vd = &st->val;
    if (vd->fmt == KF_AVRO) {
        if (avro_ready(st, vd, m->value, m->value_len, err) != 0)
            return -1;
        io_avro_change ch;
        if (io_avro_decode_debezium(vd->avro, m->value, m->value_len, &ch, err) != 0)
            return -1;
        return apply_change(st, ch.op, ch.has_before, ch.before, ch.has_after, ch.after, why);
    }
    if (io_dbz_decode(&vd->dbz, (const char *)m->value, m->value_len, &st->dbz, err) != 0)
        return -1;
    if (st->dbz.op == 0)
        return 0;
    st->cur_txn = -1;
    if (st->tx != NULL && st->dbz.has_txn) {
        if (txn_done(st, st->dbz.txn_id))
            return 0; /* redelivered: applied already */
        st->cur_txn = txn_find(st, st->dbz.txn_id, true);
        st->txns[st->cur_txn].received++;
    }
    return apply_change(st, st->dbz.op, st->dbz.has_before, eng_rowbuf_row(&st->dbz.before),
                        st->dbz.has_after, eng_rowbuf_row(&st->dbz.after), why);
}

static int
on_upsert(kstream *st, const io_kafka_msg *m, eng_err *err, const char **why)
{
    if (m->key == NULL) {
        *why = "a message without key (ENVELOPE UPSERT needs one)";
        return -1;
    }
    eng_rowbuf *keyrow = &st->keyrow;
    if (decode_plain(st, &st->key, m->key, m->key_len, err) != 0) {
        *why = "cannot decode the key";
        return -1;
    }
    eng_rowbuf_reset(keyrow);
    eng_rowbuf_append(keyrow, st->tmp.data, st->tmp.len);
    eng_rowbuf_reset(&st->row);
    eng_rowbuf_append(&st->row, keyrow->data, keyrow->len);
    if (m->value == NULL) {
        /* delete by key: key ++ (key ++ NULL values) ++ meta */
        eng_rowbuf_append(&st->row, keyrow->data, keyrow->len);
        for (int j = st->sb->t.nkey; j < st->sb->t.ncols; j++)
            eng_push_null(&st->row);
        eng_push_null(&st->row);
        kpush(st, eng_rowbuf_row(&st->row), -1);
        return 0;
    }
    if (decode_plain(st, &st->val, m->value, m->value_len, err) != 0) {
        *why = "cannot decode the value";
        return -1;
    }
    eng_rowbuf_append(&st->row, keyrow->data, keyrow->len);
    eng_rowbuf_append(&st->row, st->tmp.data, st->tmp.len);
    eng_push_null(&st->row);
    kpush(st, eng_rowbuf_row(&st->row), 1);
    return 0;
}

static int
on_none(kstream *st, const io_kafka_msg *m, eng_err *err, const char **why)
{
    if (m->value == NULL)
        return 0; /* nothing to append */
    if (decode_plain(st, &st->val, m->value, m->value_len, err) != 0) {
        *why = "cannot decode the value";
        return -1;
    }
    eng_rowbuf_reset(&st->row);
    eng_rowbuf_append(&st->row, st->tmp.data, st->tmp.len);
    eng_push_null(&st->row);
    kpush(st, eng_rowbuf_row(&st->row), 1);
    return 0;
}

static void
on_msg(kstream *st, const io_kafka_msg *m)
{
    srcrt *src = st->src;
    if (m->error != 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "topic %s partition %d: %s", st->k->topic, (int)m->partition,
                 m->errstr ? m->errstr : "consumer error");
        if (m->fatal) {
            src_set_status(src, "stalled", msg);
            st->transient = true;
        }
        return;
    }
    if (m->partition < 0 || m->partition >= st->nparts || st->stalled || st->waiting)
        return;
    kpart *kp = &st->parts[m->partition];
    if (m->offset < kp->next)
        return; /* already applied */
    st->n_msgs++;
    st->n_bytes += m->key_len + m->value_len;
    if (st->transient) {
        st->transient = false;
        src_set_status(src, "running", NULL);
    }
    if (st->tx == NULL)
        ktick_begin(st);
    eng_err err;
    eng_err_clear(&err);
    const char *why = "";
    int rc;
    st->registry_down = false;
    switch (st->k->def.env) {
    case KE_DEBEZIUM:
        rc = m->value == NULL ? 0 : on_debezium(st, m, &err, &why);
        break;
    case KE_UPSERT:
        rc = on_upsert(st, m, &err, &why);
        break;
    default:
        rc = on_none(st, m, &err, &why);
        break;
    }
    if (rc != 0) {
        if (st->registry_down)
            kwait(st, m, &err);
        else
            kbad(st, m, why, err.message[0] ? &err : NULL);
        return;
    }
    st->retry_ms = 0;
    kp->next = m->offset + 1;
}

static void
kpublish_stats(kstream *st)
{
    srcrt *src = st->src;
    src_publish_counts(src, &st->n_msgs, &st->n_bytes, &st->n_staged);
    uint64_t known = 0;
    for (int p = 0; p < st->nparts; p++)
        known += (uint64_t)(st->parts[p].next > 0 ? st->parts[p].next : 0);
    if (known > atomic_load(&src->offset_known))
        atomic_store(&src->offset_known, known);
}

static void
kdrain(kstream *st)
{
    if (st->kc == NULL)
        return;
    io_kafka_event_reset(st->kc);
    for (int rounds = 0; rounds < 64; rounds++) {
        int n = io_kafka_poll(st->kc, st->msgs, KMSG_BATCH);
        for (int i = 0; i < n; i++)
            on_msg(st, &st->msgs[i]);
        io_kafka_release(st->msgs, n);
        if (n < KMSG_BATCH)
            break;
    }
    if (st->tx != NULL) {
        tx_drain(st);
        fifo_flush(st);
    }
    check_caught_up(st);
    if (st->tick_open && src_now_ms() > st->tick_t)
        ktick_close(st);
    kpublish_stats(st);
}

/* The consumer's event fd is readable. */
static void
kon_ready(void *arg)
{
    kstream *st = arg;
    kdrain(st);
    kafka_arm_poll(st);
}

static void
kafka_arm_poll(kstream *st)
{
    if (st->kc != NULL)
        src_io_poll(&st->io, io_kafka_event_fd(st->kc));
}

/* Connects and assigns every partition (from where we are). */
static int
kconnect(kstream *st, eng_err *err)
{
    srcrt *src = st->src;
    ksrc *k = st->k;
    io_kafka_conf cf = kafka_conf(&k->kafka);
    cf.queue_kbytes = queue_kbytes(src);
    char cid[200];
    snprintf(cid, sizeof cid, "sluice-%s", src->name);
    int n = 0;
    io_kafka *kc = io_kafka_open(&cf, k->topic, cid, 10000, &n, err);
    if (kc == NULL)
        return -1;
    if (n > st->nparts) {
        st->parts = realloc(st->parts, (size_t)n * sizeof *st->parts);
        ENG_ASSERT(st->parts != NULL);
        for (int p = st->nparts; p < n; p++) {
            kpart *kp = &st->parts[p];
            kp->next = p < k->nstart ? k->start[p] : 0;
            kp->shown = -1;
            kp->catch_up = 0;
            if (st->catching_up) {
                int64_t lo = 0, hi = 0;
                if (io_kafka_watermarks(kc, p, &lo, &hi, 10000, err) != 0) {
                    io_kafka_close(kc);
                    return -1;
                }
                kp->catch_up = hi;
                if (kp->next < lo)
                    kp->next = lo;
            }
        }
        st->nparts = n;
    }
    int64_t *offs = malloc((size_t)st->nparts * sizeof *offs);
    ENG_ASSERT(offs != NULL);
    for (int p = 0; p < st->nparts; p++)
        offs[p] = st->parts[p].next;
    int rc = io_kafka_assign(kc, st->nparts, offs, err);
    free(offs);
    if (rc != 0) {
        io_kafka_close(kc);
        return -1;
    }
    if (k->txn_topic != NULL && st->tx == NULL) {
        int tn = 0;
        io_kafka *tx = io_kafka_open(&cf, k->txn_topic, cid, 10000, &tn, err);
        if (tx == NULL) {
            io_kafka_close(kc);
            return -1;
        }
        int64_t *toffs = malloc((size_t)tn * sizeof *toffs);
        ENG_ASSERT(toffs != NULL);
        for (int p = 0; p < tn; p++)
            toffs[p] = IO_KAFKA_OFFSET_BEGINNING;
        rc = io_kafka_assign(tx, tn, toffs, err);
        free(toffs);
        if (rc != 0) {
            io_kafka_close(tx);
            io_kafka_close(kc);
            return -1;
        }
        st->tx = tx;
        st->tx_nparts = tn;
    }
    st->kc = kc;
    st->last_meta = src_now_ms();
    return 0;
}

/* Every millisecond. */
static void
kon_tick(void *arg)
{
    kstream *st = arg;
    srcrt *src = st->src;
    eng_time now = src_now_ms();
    if (st->kc == NULL && !st->stalled && now >= st->next_attempt) {
        eng_err err;
        eng_err_clear(&err);
        if (kconnect(st, &err) == 0) {
            src_set_status(src, "running", NULL);
            st->backoff_ms = 0;
            kafka_arm_poll(st);
        } else {
            st->backoff_ms =
                st->backoff_ms * 2 > 30000 ? 30000 : (st->backoff_ms ? st->backoff_ms * 2 : 200);
            st->next_attempt = now + st->backoff_ms;
            char msg[1200];
            snprintf(msg, sizeof msg, "%s; retrying in %d ms", err.message, st->backoff_ms);
            src_set_status(src, "stalled", msg);
        }
    }
    if (st->kc != NULL && st->waiting && now >= st->resume_at) {
        int64_t *offs = malloc((size_t)st->nparts * sizeof *offs);
        ENG_ASSERT(offs != NULL);
        for (int p = 0; p < st->nparts; p++)
            offs[p] = st->parts[p].next;
        eng_err err;
        eng_err_clear(&err);
        if (io_kafka_assign(st->kc, st->nparts, offs, &err) == 0)
            st->waiting = false;
        else
            st->resume_at = now + st->retry_ms;
        free(offs);
    }
    if (st->kc != NULL && !st->stalled) {
        /* Cheap: anything queued without a wake-up is taken here too. */
        kdrain(st);
        if (!st->catching_up && !st->tick_open && now > st->frontier)
            kadvance(st, now); /* idle: follow the wall clock */
        if (!st->waiting && now - st->last_meta >= 5000) {
            /* New partitions are consumed from their beginning. */
            st->last_meta = now;
            eng_err err;
            eng_err_clear(&err);
            int n = io_kafka_partitions(st->kc, 1000, &err);
            if (n > st->nparts) {
                st->parts = realloc(st->parts, (size_t)n * sizeof *st->parts);
                ENG_ASSERT(st->parts != NULL);
                for (int p = st->nparts; p < n; p++)
                    st->parts[p] = (kpart){0, -1, 0};
                st->nparts = n;
                int64_t *offs = malloc((size_t)n * sizeof *offs);
                ENG_ASSERT(offs != NULL);
                for (int p = 0; p < n; p++)
                    offs[p] = st->parts[p].next;
                if (io_kafka_assign(st->kc, n, offs, &err) != 0)
                    src_set_status(src, "stalled", err.message);
                free(offs);
                eng_log(ENG_LOG_INFO, "source %s: topic %s now has %d partitions", src->name,
                        st->k->topic, n);
            }
        }
    }
}

static void *
kafka_main(void *arg)
{
    srcrt *src = arg;
    ksrc *k = src->k;
    kstream *st = calloc(1, sizeof *st);
    ENG_ASSERT(st != NULL);
    st->src = src;
    st->k = k;
    st->sb = &src->subs[0];
    st->c = eng_client_new(src->co->rt);
    st->frontier = src->t0;
    st->catching_up = true;
    st->cur_txn = -1;
    clock_gettime(CLOCK_MONOTONIC, &st->started);
    eng_err err;
    eng_err_clear(&err);
    if (make_dec(&k->def, false, &st->val, NULL, &err) != 0 ||
        (k->def.env == KE_UPSERT && make_dec(&k->def, true, &st->key, NULL, &err) != 0) ||
        src_io_open(&st->io, src, kon_ready, kon_tick, st, &err) != 0) {
        src_set_status(src, "failed", err.message);
        goto out;
    }
    if (kconnect(st, &err) != 0) {
        st->backoff_ms = 200;
        st->next_attempt = src_now_ms() + 200;
        src_set_status(src, "stalled", err.message);
    } else {
        src_set_status(src, "running", NULL);
        kafka_arm_poll(st);
    }
    check_caught_up(st); /* an empty topic is readable at once */
    src_io_run(&st->io);
out:
    src_io_close(&st->io);
    io_kafka_close(st->kc);
    io_kafka_close(st->tx);
    free(st->txns);
    free(st->done[0]);
    free(st->done[1]);
    free(st->fifo);
    eng_strbuf_free(&st->fifo_bytes);
    io_csr_close(st->csr);
    if (st->b != NULL)
        eng_batch_free(st->b);
    kdec_free(&st->key);
    kdec_free(&st->val);
    io_dbz_change_free(&st->dbz);
    eng_rowbuf_free(&st->row);
    eng_rowbuf_free(&st->tmp);
    eng_rowbuf_free(&st->keyrow);
    free(st->parts);
    eng_client_free(st->c);
    free(st);
    return NULL;
}

/* ------------------------------------------------------------------ CREATE SOURCE */

int
ex_kafka_create_source(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err)
{
    eng_coord *co = s->co;
    kspec sp = {0};
    int rc = -1;
    srcrt *src = NULL;
    ksrc *k = NULL;
    colset cs = {0};
    io_kafka *kc = NULL;
    if (parse_create(sql, &sp, err) != 0)
        goto done;
    k = calloc(1, sizeof *k);
    ENG_ASSERT(k != NULL);
    k->topic = src_strdup(sp.topic);
    if (sp.txn_topic[0]) {
        k->txn_topic = src_strdup(sp.txn_topic);
        k->txn_collection = src_strdup(sp.txn_collection);
    }
    k->def.key_fmt = sp.key_fmt;
    k->def.val_fmt = sp.val_fmt;
    k->def.env = sp.env;
    if (sp.nstart > 0) {
        k->nstart = sp.nstart;
        k->start = malloc((size_t)sp.nstart * sizeof *k->start);
        ENG_ASSERT(k->start != NULL);
        memcpy(k->start, sp.start, (size_t)sp.nstart * sizeof *k->start);
    }
    /* Names and connections, under the read lock. */
    pthread_rwlock_rdlock(&co->lock);
    eng_obj *old = eng_catalog_find(co->cat, "public", sp.h.name);
    eng_obj *conn = src_find_conn(co, sp.conn);
    eng_obj *csr = sp.csr[0] ? src_find_conn(co, sp.csr) : NULL;
    uint64_t conn_id = conn ? conn->id : 0, csr_id = csr ? csr->id : 0;
    int crc = 0;
    if (old == NULL && conn != NULL)
        crc = ex_kconn_resolve(co, conn, "kafka", &k->kafka, err);
    if (crc == 0 && old == NULL && csr != NULL) {
        crc = ex_kconn_resolve(co, csr, "csr", &k->csr, err);
        k->has_csr = crc == 0;
    }
    pthread_rwlock_unlock(&co->lock);
    if (old != NULL) {
        rc = src_exists(old, &sp.h, sink, err);
        goto done;
    }
    if (conn == NULL) {
        eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT, "unknown connection '%s'", sp.conn);
        goto done;
    }
    if (sp.csr[0] && csr == NULL) {
        eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT, "unknown connection '%s'", sp.csr);
        goto done;
    }
    if (crc != 0)
        goto done;
    if (sp.resolved != NULL) {
        if (!co->replaying) {
            eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "RESOLVED is set by Sluice itself");
            goto done;
        }
        kdef_free(&k->def);
        if (def_from_json(sp.resolved, &k->def, err) != 0)
            goto done;
    } else if (!co->replaying) {
        io_kafka_conf cf = kafka_conf(&k->kafka);
        int nparts = 0;
        kc = io_kafka_open(&cf, k->topic, "sluice-create", 10000, &nparts, err);
        if (kc == NULL)
            goto done;
        if ((k->def.val_fmt == KF_AVRO || k->def.key_fmt == KF_AVRO) &&
            resolve_avro(&k->csr, k->topic, &k->def, err) != 0)
            goto done;
        if (k->def.env == KE_DEBEZIUM && k->def.val_fmt == KF_JSON &&
            sample_json(kc, nparts, k->topic, &k->def, err) != 0)
            goto done;
    }
    if (def_columns(&k->def, &cs, err) != 0)
        goto done;
    src = src_new(co, SRC_KAFKA, sp.h.name, sp.h.size);
    src->thread_main = kafka_main;
    src->k = k;
    src->k_free = ksrc_free;
    src->nsnap = 0;
    {
        io_pgsrc_table t = {0};
        t.schema = src_strdup("kafka");
        t.name = src_strdup(sp.topic);
        t.ncols = cs.n;
        t.cols = cs.cols;
        t.nkey = k->def.nkey;
        t.key = calloc((size_t)(t.nkey ? t.nkey : 1), sizeof *t.key);
        ENG_ASSERT(t.key != NULL);
        if (t.nkey)
            memcpy(t.key, k->def.key, (size_t)t.nkey * sizeof *t.key);
        cs.cols = NULL;
        cs.n = 0;
        src_add_sub(src, &t, sp.h.name);
        src->subs[0].keyed = k->def.keyed;
        src->subs[0].kw = k->def.keyed ? k->def.nkey : src->subs[0].t.ncols;
    }
    k = NULL; /* the source's now */
    pthread_rwlock_wrlock(&co->lock);
    char pname[160];
    const char *taken = src_name_taken(co, sp.h.name, pname);
    if (taken != NULL || eng_catalog_get(co->cat, conn_id) == NULL ||
        (csr_id && eng_catalog_get(co->cat, csr_id) == NULL)) {
        if (taken)
            eng_err_set(err, ENG_ERRCODE_DUPLICATE_OBJECT, "an object named \"%s\" already exists",
                        taken);
        else
            eng_err_set(err, ENG_ERRCODE_UNDEFINED_OBJECT, "a connection was dropped meanwhile");
        pthread_rwlock_unlock(&co->lock);
        goto done;
    }
    src->id = coord_new_id(co);
    eng_obj *o = eng_obj_new(src->id, ENG_OBJ_SOURCE, "public", sp.h.name);
    char *res = def_json(&((ksrc *)src->k)->def);
    o->sql = sp.resolved != NULL ? src_strdup(sql) : src_sql_with(sql, &sp.h, "RESOLVED", res);
    free(res);
    o->persist = true;
    o->arranged = true;
    eng_obj_add_dep(o, conn_id);
    if (csr_id)
        eng_obj_add_dep(o, csr_id);
    subrt *sb = &src->subs[0];
    eng_col *cols = calloc((size_t)sb->t.ncols, sizeof *cols);
    ENG_ASSERT(cols != NULL);
    for (int j = 0; j < sb->t.ncols; j++)
        cols[j] = (eng_col){sb->t.cols[j].name, sb->t.cols[j].type, sb->t.cols[j].not_null, NULL};
    eng_obj_set_cols(o, sb->t.ncols, cols);
    free(cols);
    src_sub_install(co, src, 0);
    sb->id = src->id;
    o->rt = sb->rt;
    o->rt_free = src_sub_rt_free; /* the consumer stops first */
    atomic_fetch_add(&src->refs, 1);
    if (eng_catalog_add(co->cat, o, err) != 0) {
        eng_obj_free(o);
        pthread_rwlock_unlock(&co->lock);
        goto done;
    }
    if (!co->replaying && src_add_progress(co, src, err) != 0) {
        src_undo_create(co, o, err);
        pthread_rwlock_unlock(&co->lock);
        goto done;
    }
    if (!co->replaying)
        src_start(src);
    pthread_rwlock_unlock(&co->lock);
    rc = ex_complete(sink, "CREATE SOURCE");
done:
    io_kafka_close(kc);
    colset_free(&cs);
    ksrc_free(k);
    if (src != NULL)
        src_unref(src);
    free(sp.resolved);
    return rc;
}
