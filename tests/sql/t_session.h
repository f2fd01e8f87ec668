/* Test helper: runs SQL through a coordinator session in-process and
 * renders results as text ("col|col\nval|val\n...", then "TAG"), or
 * "ERROR <sqlstate>: <message>". */
#ifndef T_SESSION_H
#define T_SESSION_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/eng_text.h"
#include "engine/server/coord.h"
#include "shard/shard_topo.h"

typedef struct t_out {
    eng_strbuf sb;
    int ncols;
    eng_type types[64];
} t_out;

static int
t_rowdesc(void *ctx, int ncols, char *const *names, const eng_type *types)
{
    t_out *o = ctx;
    o->ncols = ncols;
    for (int i = 0; i < ncols && i < 64; i++) {
        o->types[i] = types[i];
        eng_strbuf_printf(&o->sb, "%s%s", i ? "|" : "", names[i]);
    }
    eng_strbuf_puts(&o->sb, "\n");
    return 0;
}

static int
t_row(void *ctx, eng_row row)
{
    t_out *o = ctx;
    uint32_t pos = 0;
    for (int i = 0; i < o->ncols; i++) {
        eng_datum d = eng_row_next(row, &pos);
        if (i)
            eng_strbuf_puts(&o->sb, "|");
        if (d.tag == ENG_TAG_NULL)
            eng_strbuf_puts(&o->sb, "NULL");
        else
            eng_text_format(&o->types[i], d, &o->sb);
    }
    eng_strbuf_puts(&o->sb, "\n");
    return 0;
}

static int
t_complete(void *ctx, const char *tag)
{
    t_out *o = ctx;
    eng_strbuf_printf(&o->sb, "%s\n", tag);
    return 0;
}

static int
t_copy_begin(void *ctx, int ncols, const eng_type *types)
{
    t_out *o = ctx;
    o->ncols = ncols;
    for (int i = 0; i < ncols && i < 64; i++)
        o->types[i] = types[i];
    eng_strbuf_puts(&o->sb, "COPY-BEGIN\n");
    return 0;
}

static int
t_copy_done(void *ctx)
{
    t_out *o = ctx;
    eng_strbuf_puts(&o->sb, "COPY-DONE\n");
    return 0;
}

/* Runs sql; returns a new string (free it). */
static char *
t_sql(eng_session *s, const char *sql)
{
    t_out o = {0};
    eng_sink sink = {0};
    sink.ctx = &o;
    sink.rowdesc = t_rowdesc;
    sink.row = t_row;
    sink.complete = t_complete;
    sink.copy_begin = t_copy_begin;
    sink.copy_row = t_row;
    sink.copy_done = t_copy_done;
    eng_err err;
    eng_err_clear(&err);
    if (eng_session_run(s, sql, &sink, &err) != 0)
        eng_strbuf_printf(&o.sb, "ERROR %s: %s\n", err.sqlstate, err.message);
    char *r = strdup(eng_strbuf_cstr(&o.sb));
    eng_strbuf_free(&o.sb);
    return r;
}

#endif
