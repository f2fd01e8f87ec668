/* PostgreSQL logical replication: decoding of the streaming replication
 * protocol's CopyData frames and of pgoutput's messages (protocol version
 * 1): Begin, Commit, Origin, Relation, Type, Insert, Update, Delete,
 * Truncate, Message.
 *
 * Notes: the bytes come from the network and are untrusted: every length
 * and count is checked against the buffer; a malformed message is an
 * eng_err (XX001 "malformed pgoutput message ..."), never an assert or a
 * read past the end. Decoding allocates nothing per message at steady
 * state: strings point into the input buffer (pgoutput terminates them
 * with NUL) and arrays live in a scratch the caller reuses. Everything a
 * decoded message points to is borrowed until the next decode with the
 * same scratch or until the input buffer changes. The first slice of the
 * PostgreSQL source (issue 5); the replication client comes next. */
#ifndef IO_PGREPL_H
#define IO_PGREPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/eng_err.h"

/* ------------------------------------------------------------------ CopyData frames */

typedef struct io_pgrepl_frame {
    char kind;           /* 'w' XLogData, 'k' primary keepalive */
    uint64_t start;      /* w: WAL start of the data */
    uint64_t end;        /* w: current end of WAL on the server; k: the same */
    int64_t send_time;   /* microseconds since 2000-01-01 */
    bool reply;          /* k: the server asks for a standby status update now */
    const uint8_t *data; /* w: the pgoutput message */
    size_t len;
} io_pgrepl_frame;

/* Decodes one CopyData payload of a START_REPLICATION stream. Returns 0,
 * or -1 with err set (XX001 on malformed bytes or an unknown kind). */
int io_pgrepl_frame_decode(const uint8_t *p, size_t n, io_pgrepl_frame *out, eng_err *err);

/* Writes a standby status update ('r': written, flushed and applied LSN,
 * the client's time, reply-requested flag) into buf (34 bytes). */
size_t io_pgrepl_status_encode(uint8_t buf[34], uint64_t written, uint64_t flushed,
                               uint64_t applied, int64_t now_us, bool reply);

/* ------------------------------------------------------------------ pgoutput messages */

typedef struct io_pgrepl_column {
    uint8_t flags; /* 1: part of the replica identity key */
    const char *name;
    uint32_t type_oid;
    int32_t typmod;
} io_pgrepl_column;

/* A column value of a tuple. */
typedef struct io_pgrepl_value {
    char kind; /* 'n' NULL, 'u' unchanged TOAST (value not sent), 't' text, 'b' binary */
    const uint8_t *data;
    uint32_t len;
} io_pgrepl_value;

typedef struct io_pgrepl_tuple {
    int ncols;
    io_pgrepl_value *values;
} io_pgrepl_tuple;

typedef struct io_pgrepl_msg {
    char kind; /* 'B','C','O','R','Y','I','U','D','T','M' */
    /* B: final_lsn, commit_time, xid; C: flags, lsn (commit), end_lsn,
     * commit_time; O: lsn + origin; M: flags (1 transactional), lsn,
     * prefix, content */
    uint64_t lsn, end_lsn;
    int64_t commit_time;
    uint32_t xid;
    uint8_t flags;
    const char *origin;
    const char *prefix;
    const uint8_t *content;
    uint32_t content_len;
    /* R: the relation; Y: the type (oid in type_oid) */
    uint32_t relid;
    const char *nspname, *relname;
    char replident; /* 'd' default, 'n' nothing, 'f' full, 'i' index */
    int ncols;
    io_pgrepl_column *cols;
    uint32_t type_oid;
    /* I/U/D: old_kind 0 (none), 'K' (key columns only) or 'O' (old row);
     * U and I carry newtup */
    char old_kind;
    io_pgrepl_tuple oldtup, newtup;
    /* T */
    int nrels;
    uint32_t *relids;
    uint8_t truncate_options; /* 1 CASCADE, 2 RESTART IDENTITY */
} io_pgrepl_msg;

/* Reused arrays for decoded messages. Zero-initialise; free with
 * io_pgrepl_scratch_free. */
typedef struct io_pgrepl_scratch {
    io_pgrepl_column *cols;
    int cols_cap;
    io_pgrepl_value *vals;
    int vals_cap;
    uint32_t *relids;
    int relids_cap;
} io_pgrepl_scratch;

void io_pgrepl_scratch_free(io_pgrepl_scratch *s);

/* Decodes one pgoutput message (protocol version 1). Returns 0, or -1 with
 * err set (XX001 for malformed bytes, 0A000 for a message kind this
 * version does not know, e.g. the streaming ones of version 2). */
int io_pgrepl_decode(const uint8_t *p, size_t n, io_pgrepl_scratch *s, io_pgrepl_msg *out,
                     eng_err *err);

#endif
