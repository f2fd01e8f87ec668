/* AT TIME ZONE with a zone given by name: timestamptz -> local timestamp
 * and back (eng_datetime.h).
 *
 * Notes: the name is looked up as PostgreSQL's timezone() does: first as
 * an abbreviation of the Default set (case-insensitively; a fixed offset,
 * or a "dynamic" abbreviation whose meaning a zone's history defines),
 * then as a zone of the tz database or a POSIX TZ string ("UTC+3", "+05":
 * POSIX offsets count west). Local -> UTC uses the zone's offset for that
 * local time with PostgreSQL's choice in DST gaps and overlaps
 * (eng_tz_local_offset). UTC -> local tries the offsets in effect around
 * the instant and keeps the one whose local time maps back to it; the
 * only instants no candidate maps back to are those in the first half of
 * a fall-back overlap, which take the offset before the transition. */
#include "engine/core/datetime_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct zone {
    bool fixed;
    int east; /* fixed offset, seconds east */
    eng_tz *tz;
    const char *abbrev; /* dynamic abbreviation: its name (lower case) */
} zone;

/* A bare POSIX offset: [white space][+-]h[h[h]][:mm[:ss]], counted west
 * of UTC as POSIX does ("+05" is five hours behind UTC). */
static bool
numeric_offset(const char *s, int *east)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    int sign = 1;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    int part[3] = {0, 0, 0}, np = 0;
    for (;;) {
        int digits = 0, v = 0;
        while (*s >= '0' && *s <= '9' && digits < 3) {
            v = v * 10 + (*s++ - '0');
            digits++;
        }
        if (digits == 0 || (np > 0 && (digits > 2 || v > 59)))
            return false;
        part[np++] = v;
        if (*s == ':' && np < 3) {
            s++;
            continue;
        }
        break;
    }
    if (*s != '\0' || part[0] > 167)
        return false;
    *east = -sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    return true;
}

static int
zone_lookup(const char *name, size_t n, zone *z, eng_err *err)
{
    memset(z, 0, sizeof *z);
    char buf[256], low[256];
    if (n >= sizeof buf || memchr(name, '\0', n) != NULL)
        goto unknown;
    memcpy(buf, name, n);
    buf[n] = '\0';
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)buf[i]);
    if (numeric_offset(buf, &z->east)) {
        z->fixed = true;
        return 0;
    }
    int off;
    bool isdst;
    const char *defzone = NULL;
    if (eng_tz_abbrev_lookup(low, &off, &isdst, &defzone)) {
        if (defzone == NULL) {
            z->fixed = true;
            z->east = off;
            return 0;
        }
        z->tz = eng_tz_load(defzone);
        if (z->tz != NULL) {
            z->abbrev = defzone; /* marks a dynamic abbreviation */
            return 0;
        }
    }
    z->tz = eng_tz_load(buf);
    if (z->tz != NULL) {
        int east;
        if (eng_tz_fixed_offset(z->tz, &east)) {
            eng_tz_free(z->tz);
            z->tz = NULL;
            z->fixed = true;
            z->east = east;
        }
        return 0;
    }
unknown:
    return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                       "time zone \"%.*s\" not recognized", (int)(n > 200 ? 200 : n), name);
}

static void
tm_of(int64_t ts, eng_tm *tm)
{
    int64_t fsec;
    eng_dt_timestamp2tm(ts, tm, &fsec);
}

/* Offset (seconds west) of zone z at local time `local`. */
static int
west_at_local(const zone *z, const char *abbrev, int64_t local)
{
    eng_tm tm;
    tm_of(local, &tm);
    return abbrev ? eng_tz_abbrev_offset(z->tz, abbrev, &tm) : eng_tz_local_offset(z->tz, &tm);
}

/* Offset (seconds west) of z at the UTC instant utc. */
static int
west_at_utc(const zone *z, int64_t utc)
{
    int cand[3];
    cand[0] = west_at_local(z, NULL, utc);
    cand[1] = west_at_local(z, NULL, utc - ENG_USECS_PER_DAY);
    cand[2] = west_at_local(z, NULL, utc + ENG_USECS_PER_DAY);
    for (int i = 0; i < 3; i++)
        if (west_at_local(z, NULL, utc - (int64_t)cand[i] * ENG_USECS_PER_SEC) == cand[i])
            return cand[i];
    return cand[1];
}

int
eng_timestamp_at_zone(int64_t ts, const char *name, size_t n, bool from_utc, int64_t *out,
                      eng_err *err)
{
    zone z;
    if (zone_lookup(name, n, &z, err))
        return -1;
    int rc = 0;
    if (ts == ENG_TS_NOBEGIN || ts == ENG_TS_NOEND) {
        *out = ts;
        goto done;
    }
    int64_t west; /* seconds west of UTC */
    char low[16];
    const char *abbrev = NULL;
    if (z.abbrev != NULL && n < sizeof low) {
        for (size_t i = 0; i < n; i++)
            low[i] = (char)tolower((unsigned char)name[i]);
        low[n] = '\0';
        abbrev = low;
    }
    if (z.fixed)
        west = -z.east;
    else if (!from_utc)
        west = west_at_local(&z, abbrev, ts);
    else if (abbrev != NULL)
        west = west_at_local(&z, abbrev, ts - (int64_t)west_at_utc(&z, ts) * ENG_USECS_PER_SEC);
    else
        west = west_at_utc(&z, ts);
    int64_t r;
    if (__builtin_add_overflow(ts, (from_utc ? -west : west) * ENG_USECS_PER_SEC, &r) ||
        !eng_timestamp_in_range(r)) {
        rc = eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW, "timestamp out of range");
        goto done;
    }
    *out = r;
done:
    if (z.tz != NULL)
        eng_tz_free(z.tz);
    return rc;
}
