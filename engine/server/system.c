/* Introspection relations, Materialize-style (mz_catalog.mz_tables, ...,
 * mz_internal.mz_arrangement_sizes): catalog objects of kind SYSTEM whose
 * rows are generated from the catalog and the runtime when read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/server/coord_int.h"

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
};

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

int
coord_system_rows(eng_coord *co, eng_client *c, eng_obj *sys, eng_batch **out, eng_err *err)
{
    (void)err;
    eng_batch *b = eng_client_batch(c);
    eng_rowbuf rb = {0};
    int n = eng_catalog_count(co->cat);
    for (int i = 0; i < n; i++) {
        eng_obj *o = eng_catalog_at(co->cat, i);
        eng_rowbuf_reset(&rb);
        bool emit = true;
        switch ((sysrel)sys->id) {
        case SYS_TABLES:
        case SYS_VIEWS:
        case SYS_MATVIEWS:
        case SYS_SOURCES: {
            eng_obj_kind want = sys->id == SYS_TABLES    ? ENG_OBJ_TABLE
                                : sys->id == SYS_VIEWS   ? ENG_OBJ_VIEW
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
                push_str(&rb, o->kind == ENG_OBJ_SOURCE ? "source" : "subsource");
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
        }
        if (emit)
            eng_batch_push(b, eng_rowbuf_row(&rb), 0, 1);
    }
    eng_rowbuf_free(&rb);
    *out = b;
    return 0;
}
