/* Introspection relations, Materialize-style (mz_catalog.mz_tables, ...,
 * mz_internal.mz_arrangement_sizes): catalog objects of kind SYSTEM whose
 * rows are generated from the catalog and the runtime when read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/server/coord_int.h"
#include "engine/server/source_int.h"

typedef enum sysrel {
    SYS_TABLES = 1,
    SYS_VIEWS,
    SYS_MATVIEWS,
    SYS_INDEXES,
    SYS_SOURCES,
    SYS_COLUMNS,
    SYS_ARR_SIZES,
    SYS_SCHEMAS,
    SYS_OBJECTS,
    /* pg_catalog and information_schema, for tools' simple queries. */
    SYS_PG_NAMESPACE,
    SYS_PG_CLASS,
    SYS_PG_ATTRIBUTE,
    SYS_PG_TYPE,
    SYS_PG_DATABASE,
    SYS_IS_TABLES,
    SYS_IS_COLUMNS,
    SYS_SOURCE_STATUSES,
    SYS_SOURCE_STATS,
} sysrel;

typedef struct sysdef {
    sysrel id;
    const char *schema, *name;
    const char *cols; /* "name:type,..." */
} sysdef;

static const sysdef sysdefs[] = {
    {SYS_TABLES, "mz_catalog", "mz_tables", "id:text,schema_name:text,name:text"},
    {SYS_VIEWS, "mz_catalog", "mz_views", "id:text,schema_name:text,name:text,definition:text"},
    {SYS_MATVIEWS, "mz_catalog", "mz_materialized_views",
     "id:text,schema_name:text,name:text,cluster_id:text,definition:text"},
    {SYS_INDEXES, "mz_catalog", "mz_indexes", "id:text,name:text,on_id:text,cluster_id:text"},
    {SYS_SOURCES, "mz_catalog", "mz_sources", "id:text,schema_name:text,name:text,type:text"},
    {SYS_COLUMNS, "mz_catalog", "mz_columns",
     "id:text,name:text,position:int8,nullable:bool,type:text,default:text"},
    {SYS_ARR_SIZES, "mz_internal", "mz_arrangement_sizes",
     "object_id:text,name:text,records:int8,bytes:int8"},
    {SYS_SCHEMAS, "mz_catalog", "mz_schemas", "id:text,name:text"},
    {SYS_OBJECTS, "mz_catalog", "mz_objects", "id:text,schema_name:text,name:text,type:text"},
    /* Oids are int8 (Sluice has no oid type). */
    {SYS_PG_NAMESPACE, "pg_catalog", "pg_namespace", "oid:int8,nspname:text,nspowner:int8"},
    {SYS_PG_CLASS, "pg_catalog", "pg_class",
     "oid:int8,relname:text,relnamespace:int8,relkind:text,relowner:int8,relnatts:int2,"
     "relhasindex:bool"},
    {SYS_PG_ATTRIBUTE, "pg_catalog", "pg_attribute",
     "attrelid:int8,attname:text,atttypid:int8,attnum:int2,atttypmod:int4,attnotnull:bool,"
     "atthasdef:bool,attisdropped:bool"},
    {SYS_PG_TYPE, "pg_catalog", "pg_type", "oid:int8,typname:text,typnamespace:int8,typlen:int2"},
    {SYS_PG_DATABASE, "pg_catalog", "pg_database", "oid:int8,datname:text"},
    {SYS_IS_TABLES, "information_schema", "tables",
     "table_catalog:text,table_schema:text,table_name:text,table_type:text"},
    {SYS_IS_COLUMNS, "information_schema", "columns",
     "table_catalog:text,table_schema:text,table_name:text,column_name:text,"
     "ordinal_position:int8,column_default:text,is_nullable:text,data_type:text"},
    {SYS_SOURCE_STATUSES, "mz_internal", "mz_source_statuses",
     "id:text,name:text,type:text,status:text,error:text,details:text"},
    {SYS_SOURCE_STATS, "mz_internal", "mz_source_statistics",
     "id:text,name:text,messages_received:int8,bytes_received:int8,updates_staged:int8,"
     "updates_committed:int8,snapshot_records_known:int8,snapshot_records_staged:int8,"
     "offset_known:int8,offset_committed:int8,rehydration_latency:interval"},
};

/* ------------------------------------------------------------------ oids */

static const struct {
    const char *name;
    uint32_t oid;
} builtin_schemas[] = {
    {"pg_catalog", 11},    {"public", 2200},       {"information_schema", 13000},
    {"mz_catalog", 14000}, {"mz_internal", 14001},
};

const char *
coord_builtin_schema(int i, uint32_t *oid)
{
    if (i < 0 || (size_t)i >= sizeof builtin_schemas / sizeof builtin_schemas[0])
        return NULL;
    *oid = builtin_schemas[i].oid;
    return builtin_schemas[i].name;
}

uint32_t
coord_obj_oid(const eng_obj *o)
{
    /* Ids below 1000 are system relations, user ids start at 1000: every
     * oid is >= 16384 (PostgreSQL's FirstNormalObjectId) and unique. */
    return (uint32_t)(16384 + o->id);
}

uint32_t
coord_schema_oid(eng_catalog *cat, const char *schema)
{
    for (size_t i = 0; i < sizeof builtin_schemas / sizeof builtin_schemas[0]; i++)
        if (strcmp(builtin_schemas[i].name, schema) == 0)
            return builtin_schemas[i].oid;
    int n = eng_catalog_count(cat);
    for (int i = 0; i < n; i++) {
        eng_obj *o = eng_catalog_at(cat, i);
        if (o->kind == ENG_OBJ_SCHEMA && strcmp(o->name, schema) == 0)
            return coord_obj_oid(o);
    }
    return 0;
}

/* pg_class.relkind, 0 for objects that are not relations. */
static const char *
pg_relkind(const eng_obj *o)
{
    switch (o->kind) {
    case ENG_OBJ_TABLE:
    case ENG_OBJ_SOURCE:
    case ENG_OBJ_SUBSOURCE:
        return "r";
    case ENG_OBJ_VIEW:
    case ENG_OBJ_SYSTEM:
        return "v";
    case ENG_OBJ_MATVIEW:
        return "m";
    case ENG_OBJ_INDEX:
        return "i";
    default:
        return NULL;
    }
}

void
coord_system_init(eng_coord *co)
{
    for (size_t i = 0; i < sizeof sysdefs / sizeof sysdefs[0]; i++) {
        const sysdef *d = &sysdefs[i];
        eng_obj *o = eng_obj_new((uint64_t)d->id, ENG_OBJ_SYSTEM, d->schema, d->name);
        eng_col cols[16];
        int n = 0;
        char buf[256];
        snprintf(buf, sizeof buf, "%s", d->cols);
        char *save = NULL;
        for (char *tok = strtok_r(buf, ",", &save); tok && n < 16;
             tok = strtok_r(NULL, ",", &save)) {
            char *colon = strchr(tok, ':');
            *colon = '\0';
            eng_type t;
            eng_err e;
            eng_err_clear(&e);
            if (eng_type_parse(colon + 1, strlen(colon + 1), &t, &e) != 0)
                t = eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE);
            cols[n++] = (eng_col){tok, t, false, NULL};
        }
        eng_obj_set_cols(o, n, cols);
        o->arranged = true;
        eng_err e;
        eng_err_clear(&e);
        eng_catalog_add(co->cat, o, &e);
    }
}

static void
push_str(eng_rowbuf *b, const char *s)
{
    if (s == NULL)
        eng_push_null(b);
    else
        eng_push_text(b, s, (uint32_t)strlen(s));
}

static void
push_id(eng_rowbuf *b, uint64_t id)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%c%llu", id < 1000 ? 's' : 'u', (unsigned long long)id);
    push_str(b, buf);
}

/* Rows that do not come from catalog objects: built-in schemas, types,
 * the database. */
static void
system_fixed_rows(eng_coord *co, const eng_obj *sys, eng_batch *b, eng_rowbuf *rb)
{
    (void)co;
    switch ((sysrel)sys->id) {
    case SYS_PG_NAMESPACE: {
        uint32_t oid;
        const char *name;
        for (int i = 0; (name = coord_builtin_schema(i, &oid)) != NULL; i++) {
            eng_rowbuf_reset(rb);
            eng_push_int8(rb, oid);
            push_str(rb, name);
            eng_push_int8(rb, 10);
            eng_batch_push(b, eng_rowbuf_row(rb), 0, 1);
        }
        break;
    }
    case SYS_PG_TYPE: {
        /* One row per distinct oid (ENG_TYPE_OTHER shares text's). */
        for (int t = ENG_TYPE_BOOL; t < ENG_TYPE_OTHER; t++) {
            eng_type ty = eng_type_make((eng_typeid)t, ENG_TYPMOD_NONE);
            eng_rowbuf_reset(rb);
            eng_push_int8(rb, eng_type_oid(&ty));
            push_str(rb, eng_type_catalog_name((eng_typeid)t));
            eng_push_int8(rb, 11);
            eng_push_int2(rb, eng_type_typlen(&ty));
            eng_batch_push(b, eng_rowbuf_row(rb), 0, 1);
        }
        break;
    }
    case SYS_PG_DATABASE:
        eng_rowbuf_reset(rb);
        eng_push_int8(rb, 16384);
        push_str(rb, "materialize");
        eng_batch_push(b, eng_rowbuf_row(rb), 0, 1);
        break;
    default:
        break;
    }
}

int
coord_system_rows(eng_coord *co, eng_client *c, eng_obj *sys, eng_batch **out, eng_err *err)
{
    (void)err;
    eng_batch *b = eng_client_batch(c);
    eng_rowbuf rb = {0};
    int n = eng_catalog_count(co->cat);
    system_fixed_rows(co, sys, b, &rb);
    for (int i = 0; i < n; i++) {
        eng_obj *o = eng_catalog_at(co->cat, i);
        eng_rowbuf_reset(&rb);
        bool emit = true;
        switch ((sysrel)sys->id) {
        case SYS_TABLES:
        case SYS_VIEWS:
        case SYS_MATVIEWS:
        case SYS_SOURCES: {
            eng_obj_kind want = sys->id == SYS_TABLES     ? ENG_OBJ_TABLE
                                : sys->id == SYS_VIEWS    ? ENG_OBJ_VIEW
                                : sys->id == SYS_MATVIEWS ? ENG_OBJ_MATVIEW
                                                          : ENG_OBJ_SOURCE;
            if (o->kind != want && !(want == ENG_OBJ_SOURCE && o->kind == ENG_OBJ_SUBSOURCE)) {
                emit = false;
                break;
            }
            push_id(&rb, o->id);
            push_str(&rb, o->schema);
            push_str(&rb, o->name);
            if (sys->id == SYS_MATVIEWS)
                push_str(&rb, "u1");
            if (sys->id == SYS_VIEWS || sys->id == SYS_MATVIEWS)
                push_str(&rb, o->sql);
            if (sys->id == SYS_SOURCES)
                push_str(&rb, ex_source_type(o));
            break;
        }
        case SYS_INDEXES:
            if (o->kind != ENG_OBJ_INDEX) {
                emit = false;
                break;
            }
            push_id(&rb, o->id);
            push_str(&rb, o->name);
            push_id(&rb, o->on_id);
            push_str(&rb, "u1");
            break;
        case SYS_SCHEMAS:
            emit = o->kind == ENG_OBJ_SCHEMA;
            if (emit) {
                push_id(&rb, o->id);
                push_str(&rb, o->name);
            }
            break;
        case SYS_OBJECTS:
            emit = o->kind != ENG_OBJ_SCHEMA;
            if (emit) {
                push_id(&rb, o->id);
                push_str(&rb, o->schema);
                push_str(&rb, o->name);
                push_str(&rb, eng_obj_kind_name(o->kind));
            }
            break;
        case SYS_COLUMNS:
            emit = false;
            for (int k = 0; k < o->ncols; k++) {
                eng_rowbuf_reset(&rb);
                push_id(&rb, o->id);
                push_str(&rb, o->cols[k].name);
                eng_push_int8(&rb, k + 1);
                eng_push_bool(&rb, !o->cols[k].not_null);
                eng_strbuf tb = {0};
                eng_type_format(&o->cols[k].type, &tb);
                push_str(&rb, eng_strbuf_cstr(&tb));
                eng_strbuf_free(&tb);
                push_str(&rb, NULL);
                eng_batch_push(b, eng_rowbuf_row(&rb), 0, 1);
            }
            break;
        case SYS_PG_NAMESPACE:
            emit = o->kind == ENG_OBJ_SCHEMA;
            if (emit) {
                eng_push_int8(&rb, coord_obj_oid(o));
                push_str(&rb, o->name);
                eng_push_int8(&rb, 10);
            }
            break;
        case SYS_PG_CLASS: {
            const char *k = pg_relkind(o);
            emit = k != NULL;
            if (emit) {
                bool hasidx = false;
                for (int j = 0; j < n; j++) {
                    const eng_obj *x = eng_catalog_at(co->cat, j);
                    hasidx |= x->kind == ENG_OBJ_INDEX && x->on_id == o->id;
                }
                eng_push_int8(&rb, coord_obj_oid(o));
                push_str(&rb, o->name);
                eng_push_int8(&rb, coord_schema_oid(co->cat, o->schema));
                push_str(&rb, k);
                eng_push_int8(&rb, 10);
                eng_push_int2(&rb, (int16_t)(o->kind == ENG_OBJ_INDEX ? o->nkey : o->ncols));
                eng_push_bool(&rb, hasidx);
            }
            break;
        }
        case SYS_PG_ATTRIBUTE:
        case SYS_IS_COLUMNS: {
            emit = false;
            const char *k = pg_relkind(o);
            if (k == NULL || (sys->id == SYS_IS_COLUMNS && o->kind == ENG_OBJ_INDEX))
                break;
            const eng_obj *on = o->kind == ENG_OBJ_INDEX ? eng_catalog_get(co->cat, o->on_id) : o;
            int nc = o->kind == ENG_OBJ_INDEX ? o->nkey : o->ncols;
            for (int k2 = 0; on != NULL && k2 < nc; k2++) {
                int ci = o->kind == ENG_OBJ_INDEX ? o->key[k2] : k2;
                if (ci < 0 || ci >= on->ncols)
                    continue;
                const eng_col *col = &on->cols[ci];
                eng_rowbuf_reset(&rb);
                if (sys->id == SYS_PG_ATTRIBUTE) {
                    eng_push_int8(&rb, coord_obj_oid(o));
                    push_str(&rb, col->name);
                    eng_push_int8(&rb, eng_type_oid(&col->type));
                    eng_push_int2(&rb, (int16_t)(k2 + 1));
                    eng_push_int4(&rb, col->type.typmod);
                    eng_push_bool(&rb, col->not_null);
                    eng_push_bool(&rb, col->default_sql != NULL);
                    eng_push_bool(&rb, false);
                } else {
                    push_str(&rb, "materialize");
                    push_str(&rb, o->schema);
                    push_str(&rb, o->name);
                    push_str(&rb, col->name);
                    eng_push_int8(&rb, k2 + 1);
                    push_str(&rb, NULL);
                    push_str(&rb, col->not_null ? "NO" : "YES");
                    push_str(&rb, eng_type_name(col->type.id));
                }
                eng_batch_push(b, eng_rowbuf_row(&rb), 0, 1);
            }
            break;
        }
        case SYS_IS_TABLES:
            emit = o->kind == ENG_OBJ_TABLE || o->kind == ENG_OBJ_SOURCE ||
                   o->kind == ENG_OBJ_SUBSOURCE || o->kind == ENG_OBJ_VIEW ||
                   o->kind == ENG_OBJ_MATVIEW || o->kind == ENG_OBJ_SYSTEM;
            if (emit) {
                push_str(&rb, "materialize");
                push_str(&rb, o->schema);
                push_str(&rb, o->name);
                push_str(&rb, o->kind == ENG_OBJ_MATVIEW ? "MATERIALIZED VIEW"
                              : o->kind == ENG_OBJ_VIEW || o->kind == ENG_OBJ_SYSTEM
                                  ? "VIEW"
                                  : "BASE TABLE");
            }
            break;
        case SYS_PG_TYPE:
        case SYS_PG_DATABASE:
            emit = false; /* fixed rows only */
            break;
        case SYS_ARR_SIZES: {
            objrt *r = o->rt;
            if (r == NULL || !r->has_arr || r->df == NULL) {
                emit = false;
                break;
            }
            push_id(&rb, o->id);
            push_str(&rb, o->name);
            eng_push_int8(&rb, (int64_t)eng_df_records(r->df, r->arr.node));
            eng_push_int8(&rb, (int64_t)eng_df_memory(r->df, r->arr.node));
            break;
        }
        case SYS_SOURCE_STATUSES:
            ex_source_status_rows(co, o, b);
            emit = false;
            break;
        case SYS_SOURCE_STATS:
            ex_source_stats_rows(co, o, b);
            emit = false;
            break;
        }
        if (emit)
            eng_batch_push(b, eng_rowbuf_row(&rb), 0, 1);
    }
    eng_rowbuf_free(&rb);
    *out = b;
    return 0;
}
