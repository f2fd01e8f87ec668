/* Internal to the datetime modules: the field splitter and error mapping
 * shared by date/time/timestamp input (datetime_parse.c) and interval
 * input (interval.c). Not for use outside engine/core. */
#ifndef ENG_DATETIME_PARSE_H
#define ENG_DATETIME_PARSE_H

#include <stddef.h>

#include "engine/core/eng_err.h"

#define ENG_DT_MAXFIELDS 25

/* Field types (PostgreSQL's DTK_* for ParseDateTime output). */
enum {
    ENG_DTK_NUMBER = 0,
    ENG_DTK_STRING = 1,
    ENG_DTK_DATE = 2,
    ENG_DTK_TIME = 3,
    ENG_DTK_TZ = 4,
    ENG_DTK_SPECIAL = 6,
};

/* Decoder errors (PostgreSQL's DTERR_*). */
enum {
    ENG_DTERR_BAD_FORMAT = -1,
    ENG_DTERR_FIELD_OVERFLOW = -2,
    ENG_DTERR_MD_FIELD_OVERFLOW = -3,
    ENG_DTERR_INTERVAL_OVERFLOW = -4,
    ENG_DTERR_TZDISP_OVERFLOW = -5,
    ENG_DTERR_ZONE_UNKNOWN = -6,
};

typedef struct eng_dt_fields {
    char buf[320];
    char *field[ENG_DT_MAXFIELDS];
    int ftype[ENG_DT_MAXFIELDS];
    int nf;
    const char *bad_zone; /* for ENG_DTERR_ZONE_UNKNOWN: the field */
} eng_dt_fields;

/* Splits s into typed, lower-cased, NUL-terminated fields (ParseDateTime);
 * bufmax bounds the total field bytes as PostgreSQL's work buffer does. */
int eng_dt_split(const char *s, size_t n, size_t bufmax, eng_dt_fields *f);
/* "+hh[:mm[:ss]]" / "-hhmm" into seconds west of UTC (DecodeTimezone). */
int eng_dt_decode_timezone(const char *str, int *tzp);
/* Reports a decoder error as PostgreSQL's DateTimeParseError; returns -1.
 * zone: the unrecognized zone name for ENG_DTERR_ZONE_UNKNOWN. */
int eng_dt_error(int dterr, const char *s, size_t n, const char *tname, const char *zone,
                 eng_err *err);

#endif
