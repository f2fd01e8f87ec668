/* PostgreSQL sources inside the coordinator: CREATE SOURCE / DROP SOURCE,
 * the source thread (snapshot, then the replication stream on its own
 * io_uring loop), subsources as arranged collections, read timestamps for
 * queries over them, and their status and statistics. */
#ifndef ENG_SOURCE_INT_H
#define ENG_SOURCE_INT_H

#include "engine/server/exec_int.h"

typedef struct srcrt srcrt;

/* CREATE SOURCE, CREATE SUBSOURCE (catalog replay only), DROP SOURCE. */
bool ex_source_match(const char *sql);
int ex_source(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err);

/* After the catalog was replayed: starts every source (each takes a new
 * slot and snapshot: nothing durable survives a restart yet). */
void ex_sources_start(eng_coord *co);

/* "postgres", "subsource" or "progress" for SHOW SOURCES / mz_sources. */
const char *ex_source_type(const eng_obj *o);

/* The source's SIZE ("3xsmall"), NULL for other objects. */
const char *ex_source_size(const eng_obj *o);

/* The timestamp to read rel at if it reads a source's data (directly or
 * through views): returns 1 with *t set; 0 if it reads no source; -1 with
 * err if a subsource it reads is in an error state; 2 if a snapshot is
 * still loading (*wait = the source, referenced: pass it to
 * ex_source_wait). Read lock held. */
int ex_source_read_ts(eng_coord *co, const eng_rel *rel, eng_time *t, srcrt **wait, eng_err *err);

/* Waits, without the coordinator lock, until src's snapshot is readable,
 * the source fails, or the session is canceled; drops the reference. */
int ex_source_wait(eng_session *s, srcrt *src, eng_err *err);

/* Drops the reference ex_source_read_ts returned, without waiting. */
void ex_source_wait_cancel(srcrt *src);

/* Rows of mz_internal.mz_source_statuses / mz_source_statistics for the
 * source object o (and its subsources). Read lock held. */
void ex_source_status_rows(eng_coord *co, const eng_obj *o, eng_batch *out);
void ex_source_stats_rows(eng_coord *co, const eng_obj *o, eng_batch *out);

#endif
