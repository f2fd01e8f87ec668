/* Replica sizes: the one table that maps a size name (3xsmall, 100cc, or a
 * bare worker count) to a worker count and memory budget. Used by sluiced's
 * --size and by WITH (SIZE = ...). */
#ifndef ENG_SIZE_H
#define ENG_SIZE_H

#include <stdint.h>
#include <stdio.h>

#include "engine/core/eng_err.h"

#define ENG_SIZE_MAX_WORKERS 1024

typedef struct eng_size {
    const char *name;    /* canonical name, e.g. "xsmall"; "N" for a bare count */
    const char *cc_name; /* e.g. "100cc"; NULL for a bare count */
    int workers;
    uint64_t memory_bytes; /* budget; 0 = unlimited (bare count) */
} eng_size;

/* Resolves name ("xsmall", "100cc", "4") into *out. Names are
 * case-insensitive. Returns 0, or -1 with err set (22023) listing valid
 * names. */
int eng_size_parse(const char *name, eng_size *out, eng_err *err);

/* Writes the size table, one row per line, for --help and docs. */
void eng_size_print_table(FILE *f);

#endif
