/* The catalog's object store and its persistence (catalog.json). */
#include "engine/catalog/eng_catalog.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/core/eng_row.h"
#include "engine/sql/eng_ir.h"

static const char *const builtin_schemas[] = {"public", "mz_catalog", "mz_internal", "pg_catalog",
                                              "information_schema"};
#define NBUILTIN (sizeof builtin_schemas / sizeof builtin_schemas[0])

struct eng_catalog {
    char *path; /* catalog.json, NULL: memory only */
    uint64_t next_id;
    int n, cap;
    eng_obj **objs; /* creation order */
    /* eng_catalog_load is replaying the file: it is the record already, and
     * must stay whole if the replay fails part way. */
    bool loading;
};

static char *
xstrdup(const char *s)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    ENG_ASSERT(d != NULL);
    return d;
}

const char *
eng_obj_kind_name(eng_obj_kind k)
{
    switch (k) {
    case ENG_OBJ_SCHEMA:
        return "schema";
    case ENG_OBJ_TABLE:
        return "table";
    case ENG_OBJ_VIEW:
        return "view";
    case ENG_OBJ_MATVIEW:
        return "materialized view";
    case ENG_OBJ_INDEX:
        return "index";
    case ENG_OBJ_SOURCE:
        return "source";
    case ENG_OBJ_SUBSOURCE:
        return "subsource";
    case ENG_OBJ_SECRET:
        return "secret";
    case ENG_OBJ_CONNECTION:
        return "connection";
    case ENG_OBJ_SYSTEM:
        return "system relation";
    }
    return "object";
}

eng_catalog *
eng_catalog_new(const char *data_dir)
{
    eng_catalog *cat = calloc(1, sizeof *cat);
    ENG_ASSERT(cat != NULL);
    cat->next_id = 1000; /* ids below are reserved for system relations */
    if (data_dir != NULL) {
        size_t n = strlen(data_dir) + 16;
        cat->path = malloc(n);
        ENG_ASSERT(cat->path != NULL);
        snprintf(cat->path, n, "%s/catalog.json", data_dir);
    }
    return cat;
}

void
eng_catalog_free(eng_catalog *cat)
{
    if (cat == NULL)
        return;
    /* Newest first: dependents go before what they read. */
    for (int i = cat->n - 1; i >= 0; i--)
        eng_obj_free(cat->objs[i]);
    free(cat->objs);
    free(cat->path);
    free(cat);
}

uint64_t
eng_catalog_next_id(eng_catalog *cat)
{
    return cat->next_id++;
}

bool
eng_catalog_schema_exists(eng_catalog *cat, const char *schema)
{
    for (size_t i = 0; i < NBUILTIN; i++)
        if (strcmp(builtin_schemas[i], schema) == 0)
            return true;
    for (int i = 0; i < cat->n; i++)
        if (cat->objs[i]->kind == ENG_OBJ_SCHEMA && strcmp(cat->objs[i]->name, schema) == 0)
            return true;
    return false;
}

static eng_obj *
find_in(eng_catalog *cat, const char *schema, const char *name)
{
    for (int i = 0; i < cat->n; i++) {
        eng_obj *o = cat->objs[i];
        if (o->kind != ENG_OBJ_SCHEMA && strcmp(o->schema, schema) == 0 &&
            strcmp(o->name, name) == 0)
            return o;
    }
    return NULL;
}

eng_obj *
eng_catalog_find(eng_catalog *cat, const char *schema, const char *name)
{
    if (schema != NULL)
        return find_in(cat, schema, name);
    static const char *const path[] = {"public", "mz_catalog", "mz_internal", "pg_catalog",
                                       "information_schema"};
    for (size_t i = 0; i < sizeof path / sizeof path[0]; i++) {
        eng_obj *o = find_in(cat, path[i], name);
        if (o != NULL)
            return o;
    }
    return NULL;
}

eng_obj *
eng_catalog_get(eng_catalog *cat, uint64_t id)
{
    for (int i = 0; i < cat->n; i++)
        if (cat->objs[i]->id == id)
            return cat->objs[i];
    return NULL;
}

int
eng_catalog_count(const eng_catalog *cat)
{
    return cat->n;
}

eng_obj *
eng_catalog_at(eng_catalog *cat, int i)
{
    return i >= 0 && i < cat->n ? cat->objs[i] : NULL;
}

eng_obj *
eng_obj_new(uint64_t id, eng_obj_kind kind, const char *schema, const char *name)
{
    eng_obj *o = calloc(1, sizeof *o);
    ENG_ASSERT(o != NULL);
    o->id = id;
    o->kind = kind;
    o->schema = xstrdup(schema ? schema : "");
    o->name = xstrdup(name);
    return o;
}

void
eng_obj_set_cols(eng_obj *o, int ncols, const eng_col *cols)
{
    o->ncols = ncols;
    o->cols = calloc((size_t)(ncols ? ncols : 1), sizeof *o->cols);
    ENG_ASSERT(o->cols != NULL);
    for (int i = 0; i < ncols; i++) {
        o->cols[i] = cols[i];
        o->cols[i].name = xstrdup(cols[i].name);
        o->cols[i].default_sql = xstrdup(cols[i].default_sql);
    }
}

void
eng_obj_add_dep(eng_obj *o, uint64_t id)
{
    for (int i = 0; i < o->ndeps; i++)
        if (o->deps[i] == id)
            return;
    o->deps = realloc(o->deps, (size_t)(o->ndeps + 1) * sizeof *o->deps);
    ENG_ASSERT(o->deps != NULL);
    o->deps[o->ndeps++] = id;
}

void
eng_obj_free(eng_obj *o)
{
    if (o == NULL)
        return;
    if (o->rt_free != NULL)
        o->rt_free(o);
    eng_rel_free(o->view_rel);
    for (int i = 0; i < o->ncols; i++) {
        free(o->cols[i].name);
        free(o->cols[i].default_sql);
    }
    free(o->cols);
    free(o->key);
    if (o->secret != NULL) {
        memset(o->secret, 0, strlen(o->secret));
        free(o->secret);
    }
    free(o->conn);
    free(o->deps);
    free(o->schema);
    free(o->name);
    free(o->sql);
    free(o);
}

int
eng_catalog_add(eng_catalog *cat, eng_obj *o, eng_err *err)
{
    if (o->kind == ENG_OBJ_SCHEMA) {
        if (eng_catalog_schema_exists(cat, o->name)) {
            eng_err_set(err, ENG_ERRCODE_DUPLICATE_SCHEMA, "schema \"%s\" already exists", o->name);
            return -1;
        }
    } else {
        if (!eng_catalog_schema_exists(cat, o->schema)) {
            eng_err_set(err, ENG_ERRCODE_INVALID_SCHEMA_NAME, "schema \"%s\" does not exist",
                        o->schema);
            return -1;
        }
        eng_obj *old = find_in(cat, o->schema, o->name);
        if (old != NULL) {
            eng_err_set(err, ENG_ERRCODE_DUPLICATE_TABLE, "%s \"%s\" already exists",
                        eng_obj_kind_name(old->kind), o->name);
            return -1;
        }
    }
    if (cat->n == cat->cap) {
        cat->cap = cat->cap ? cat->cap * 2 : 64;
        cat->objs = realloc(cat->objs, (size_t)cat->cap * sizeof *cat->objs);
        ENG_ASSERT(cat->objs != NULL);
    }
    cat->objs[cat->n++] = o;
    uint64_t next = cat->next_id;
    if (o->id >= cat->next_id)
        cat->next_id = o->id + 1;
    if (o->persist && eng_catalog_persist(cat, err) != 0) {
        /* Not recorded: not added either (the caller still owns o). */
        cat->n--;
        cat->next_id = next;
        return -1;
    }
    return 0;
}

static bool
depends_on(const eng_obj *o, uint64_t id)
{
    for (int i = 0; i < o->ndeps; i++)
        if (o->deps[i] == id)
            return true;
    return false;
}

/* Depth-first: every dependent of id, children before parents (post-order
 * gives "dependents first" once reversed below). */
static void
collect(eng_catalog *cat, uint64_t id, uint64_t **out, int *n, int *cap)
{
    for (int i = 0; i < cat->n; i++) {
        eng_obj *o = cat->objs[i];
        if (!depends_on(o, id))
            continue;
        bool seen = false;
        for (int j = 0; j < *n; j++)
            seen |= (*out)[j] == o->id;
        if (seen)
            continue;
        collect(cat, o->id, out, n, cap);
        for (int j = 0; j < *n; j++)
            seen |= (*out)[j] == o->id;
        if (seen)
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 8;
            *out = realloc(*out, (size_t)*cap * sizeof **out);
            ENG_ASSERT(*out != NULL);
        }
        (*out)[(*n)++] = o->id;
    }
}

int
eng_catalog_dependents(eng_catalog *cat, uint64_t id, uint64_t **out)
{
    int n = 0, cap = 0;
    *out = NULL;
    collect(cat, id, out, &n, &cap);
    return n;
}

int
eng_catalog_remove(eng_catalog *cat, uint64_t id, eng_err *err)
{
    for (int i = 0; i < cat->n; i++) {
        if (cat->objs[i]->id != id)
            continue;
        eng_obj *o = cat->objs[i];
        bool persist = o->persist;
        memmove(cat->objs + i, cat->objs + i + 1, (size_t)(cat->n - i - 1) * sizeof *cat->objs);
        cat->n--;
        eng_obj_free(o);
        return persist ? eng_catalog_persist(cat, err) : 0;
    }
    return 0;
}

int
eng_catalog_persist(eng_catalog *cat, eng_err *err)
{
    if (cat->path == NULL || cat->loading)
        return 0;
    json_t *root = json_object();
    json_t *objs = json_array();
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "next_id", json_integer((json_int_t)cat->next_id));
    for (int i = 0; i < cat->n; i++) {
        eng_obj *o = cat->objs[i];
        if (!o->persist)
            continue;
        json_t *e = json_object();
        json_object_set_new(e, "id", json_integer((json_int_t)o->id));
        json_object_set_new(e, "sql", json_string(o->sql ? o->sql : ""));
        json_array_append_new(objs, e);
    }
    json_object_set_new(root, "objects", objs);
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", cat->path);
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        goto fail;
    char *text = json_dumps(root, JSON_INDENT(1));
    size_t len = text ? strlen(text) : 0;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    free(text);
    if (off != len || fsync(fd) != 0) {
        close(fd);
        goto fail;
    }
    close(fd);
    if (rename(tmp, cat->path) != 0)
        goto fail;
    /* Make the rename durable. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", cat->path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = '\0';
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    rc = 0;
    goto done;
fail:
    eng_err_set(err, ENG_ERRCODE_IO_ERROR, "could not write catalog file \"%s\": %s", cat->path,
                strerror(errno));
done:
    json_decref(root);
    return rc;
}

int
eng_catalog_load(eng_catalog *cat,
                 int (*replay)(void *ctx, uint64_t id, const char *sql, eng_err *err), void *ctx,
                 eng_err *err)
{
    if (cat->path == NULL || access(cat->path, F_OK) != 0)
        return 0;
    json_error_t jerr;
    json_t *root = json_load_file(cat->path, 0, &jerr);
    if (root == NULL) {
        eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "catalog file \"%s\" is corrupt: %s (line %d)",
                    cat->path, jerr.text, jerr.line);
        return -1;
    }
    int rc = -1;
    json_t *objs = json_object_get(root, "objects");
    json_t *next = json_object_get(root, "next_id");
    if (!json_is_array(objs) || !json_is_integer(next)) {
        eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED,
                    "catalog file \"%s\" is corrupt: no objects or next_id", cat->path);
        goto done;
    }
    size_t i;
    json_t *e;
    cat->loading = true;
    json_array_foreach(objs, i, e)
    {
        json_t *id = json_object_get(e, "id");
        json_t *sql = json_object_get(e, "sql");
        if (!json_is_integer(id) || !json_is_string(sql)) {
            eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED,
                        "catalog file \"%s\" is corrupt: entry %zu lacks id or sql", cat->path, i);
            goto done;
        }
        if (replay(ctx, (uint64_t)json_integer_value(id), json_string_value(sql), err) != 0) {
            eng_err_context(err, "while replaying catalog entry %zu", i);
            goto done;
        }
    }
    if ((uint64_t)json_integer_value(next) > cat->next_id)
        cat->next_id = (uint64_t)json_integer_value(next);
    rc = 0;
done:
    cat->loading = false;
    json_decref(root);
    return rc;
}
