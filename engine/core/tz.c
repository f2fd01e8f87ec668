/* Named time zones for datetime input: the system tz database (TZif files
 * under /usr/share/zoneinfo, as Debian's PostgreSQL uses) and POSIX TZ
 * strings ("XYZ+3", "CET-1CEST,M3.5.0,M10.5.0/3").
 *
 * Notes: only what input needs is modelled: the UTC offset that applies
 * to a local date and time, resolved exactly as PostgreSQL's
 * DetermineTimeZoneOffset does (the boundary search starts a day before
 * the local time; in a spring-forward gap the earlier offset wins, in a
 * fall-back overlap the later one). Times past the file's last transition
 * follow its footer rule, which is what PostgreSQL's extended transition
 * table amounts to. Names are looked up case-insensitively component by
 * component and may not contain "." or ".." components, so input cannot
 * reach files outside the database. A zone is loaded per call (a few
 * system calls; no shared cache, no locks) and freed by the caller. */
#include "engine/core/datetime_int.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define TZDIR "/usr/share/zoneinfo"
#define MAX_TZFILE (1 << 20)
#define SECS_PER_DAY 86400

typedef struct {
    int32_t utoff; /* seconds east of UTC */
    bool isdst;
    uint8_t desig; /* offset of the abbreviation in chars */
} tz_type;

/* A POSIX rule date: Jn, n or Mm.w.d, plus the local time of day. */
typedef struct {
    char kind; /* 'J', 'D' (zero-based day) or 'M' */
    int day, week, mon;
    int32_t time;
} tz_rule_date;

struct eng_tz {
    int ntrans, ntypes;
    int64_t *trans; /* transition times, UTC seconds since 1970 */
    uint8_t *idx;   /* type index after each transition */
    tz_type *types; /* ntypes entries */
    bool has_rule;  /* footer / POSIX rule with DST */
    tz_type rstd, rdst;
    tz_rule_date start, end;
    bool has_std; /* a footer or POSIX string without DST: rstd applies */
    char *chars;  /* abbreviation strings of the types, NUL-separated */
    int nchars;
    char std_name[16], dst_name[16]; /* the rule's abbreviations */
};

void
eng_tz_free(eng_tz *z)
{
    if (z == NULL)
        return;
    free(z->trans);
    free(z->idx);
    free(z->types);
    free(z->chars);
    free(z);
}

/* ------------------------------------------------------------------ POSIX TZ strings */

/* A zone abbreviation ("CET" or "<+03>"), copied (truncated) into out. */
static const char *
get_name(const char *s, char out[16])
{
    const char *b, *e;
    if (*s == '<') {
        b = ++s;
        while (*s && *s != '>')
            s++;
        if (*s != '>' || s - b < 3)
            return NULL;
        e = s++;
    } else {
        b = s;
        while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
            s++;
        if (s - b < 3)
            return NULL;
        e = s;
    }
    size_t n = (size_t)(e - b) < 15 ? (size_t)(e - b) : 15;
    memcpy(out, b, n);
    out[n] = '\0';
    return s;
}

/* [+-]hh[:mm[:ss]] with hh <= maxh; returns the seconds (sign applied). */
static const char *
get_secs(const char *s, int maxh, int32_t *out)
{
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    int parts[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            if (*s != ':')
                break;
            s++;
        }
        if (*s < '0' || *s > '9')
            return NULL;
        int v = 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (*s++ - '0');
            if (v > 1000)
                return NULL;
        }
        parts[i] = v;
    }
    if (parts[0] > maxh || parts[1] > 59 || parts[2] > 59)
        return NULL;
    int32_t v = parts[0] * 3600 + parts[1] * 60 + parts[2];
    *out = neg ? -v : v;
    return s;
}

static const char *
get_int(const char *s, int lo, int hi, int *out)
{
    if (*s < '0' || *s > '9')
        return NULL;
    int v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s++ - '0');
        if (v > hi)
            return NULL;
    }
    if (v < lo)
        return NULL;
    *out = v;
    return s;
}

static const char *
get_rule_date(const char *s, tz_rule_date *r)
{
    if (*s == 'J') {
        r->kind = 'J';
        s = get_int(s + 1, 1, 365, &r->day);
    } else if (*s == 'M') {
        r->kind = 'M';
        s = get_int(s + 1, 1, 12, &r->mon);
        if (s == NULL || *s++ != '.')
            return NULL;
        s = get_int(s, 1, 5, &r->week);
        if (s == NULL || *s++ != '.')
            return NULL;
        s = get_int(s, 0, 6, &r->day);
    } else {
        r->kind = 'D';
        s = get_int(s, 0, 365, &r->day);
    }
    if (s == NULL)
        return NULL;
    r->time = 7200;
    if (*s == '/')
        s = get_secs(s + 1, 167, &r->time);
    return s;
}

/* Parses a POSIX TZ string into z's rule; false if it is not one. */
static bool
parse_posix(const char *s, eng_tz *z)
{
    int32_t off;
    if ((s = get_name(s, z->std_name)) == NULL || (s = get_secs(s, 24, &off)) == NULL)
        return false;
    z->rstd = (tz_type){-off, false, 0};
    if (*s == '\0') {
        z->has_std = true;
        return true;
    }
    if ((s = get_name(s, z->dst_name)) == NULL)
        return false;
    int32_t dstoff = off - 3600;
    if (*s != ',' && *s != '\0' && (s = get_secs(s, 24, &dstoff)) == NULL)
        return false;
    z->rdst = (tz_type){-dstoff, true, 0};
    if (*s == '\0') {
        /* no rule: PostgreSQL's default, the US rules */
        s = ",M3.2.0,M11.1.0";
    }
    if (*s++ != ',' || (s = get_rule_date(s, &z->start)) == NULL || *s++ != ',' ||
        (s = get_rule_date(s, &z->end)) == NULL || *s != '\0')
        return false;
    z->has_rule = true;
    return true;
}

/* Local seconds since the start of `year` of a rule date. */
static int64_t
rule_local(int year, const tz_rule_date *r)
{
    int64_t jan1 = eng_date2j(year, 1, 1);
    int64_t day;
    switch (r->kind) {
    case 'J': /* 1..365, February 29 never counted */
        day = r->day - 1;
        if (eng_dt_leap(year) && r->day >= 60)
            day++;
        break;
    case 'D':
        day = r->day;
        break;
    default: { /* day d of week w of month m (w = 5: the last) */
        int64_t first = eng_date2j(year, r->mon, 1);
        int dow = eng_j2day((int)first);
        int64_t d = (r->day - dow + 7) % 7;
        d += (int64_t)(r->week - 1) * 7;
        int dim = eng_dt_days_in_month(year, r->mon);
        while (d >= dim)
            d -= 7;
        day = first - jan1 + d;
        break;
    }
    }
    return day * SECS_PER_DAY + r->time;
}

/* UTC seconds since 1970 of DST start / end in `year`. */
static int64_t
rule_start(const eng_tz *z, int year)
{
    int64_t base = ((int64_t)eng_date2j(year, 1, 1) - ENG_UNIX_EPOCH_JDATE) * SECS_PER_DAY;
    return base + rule_local(year, &z->start) - z->rstd.utoff;
}

static int64_t
rule_end(const eng_tz *z, int year)
{
    int64_t base = ((int64_t)eng_date2j(year, 1, 1) - ENG_UNIX_EPOCH_JDATE) * SECS_PER_DAY;
    return base + rule_local(year, &z->end) - z->rdst.utoff;
}

/* ------------------------------------------------------------------ TZif files */

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool
parse_tzif(const uint8_t *buf, size_t len, eng_tz *z)
{
    if (len < 44 || memcmp(buf, "TZif", 4) != 0)
        return false;
    const uint8_t *p = buf;
    int pass = buf[4] >= '2' ? 2 : 1;
    for (int k = 1; k <= pass; k++) {
        if ((size_t)(p - buf) + 44 > len || memcmp(p, "TZif", 4) != 0)
            return false;
        uint32_t isut = be32(p + 20), isstd = be32(p + 24), leap = be32(p + 28);
        uint32_t timecnt = be32(p + 32), typecnt = be32(p + 36), charcnt = be32(p + 40);
        if (timecnt > 10000 || typecnt == 0 || typecnt > 256 || charcnt > 10000 || leap > 10000 ||
            isut > typecnt || isstd > typecnt)
            return false;
        size_t tsize = k == 1 ? 4 : 8;
        size_t need =
            timecnt * tsize + timecnt + typecnt * 6 + charcnt + leap * (tsize + 4) + isstd + isut;
        p += 44;
        if ((size_t)(p - buf) + need > len)
            return false;
        if (k < pass) {
            p += need; /* skip the 32-bit data of a version 2+ file */
            continue;
        }
        z->ntrans = (int)timecnt;
        z->ntypes = (int)typecnt;
        z->trans = malloc((timecnt ? timecnt : 1) * sizeof *z->trans);
        z->idx = malloc(timecnt ? timecnt : 1);
        z->types = malloc(typecnt * sizeof *z->types);
        ENG_ASSERT(z->trans && z->idx && z->types);
        for (uint32_t i = 0; i < timecnt; i++) {
            if (tsize == 8)
                z->trans[i] = (int64_t)((uint64_t)be32(p + 8 * i) << 32 | be32(p + 8 * i + 4));
            else
                z->trans[i] = (int32_t)be32(p + 4 * i);
        }
        p += timecnt * tsize;
        for (uint32_t i = 0; i < timecnt; i++) {
            if (p[i] >= typecnt)
                return false;
            z->idx[i] = p[i];
        }
        p += timecnt;
        for (uint32_t i = 0; i < typecnt; i++) {
            z->types[i].utoff = (int32_t)be32(p + 6 * i);
            z->types[i].isdst = p[6 * i + 4] != 0;
            z->types[i].desig = p[6 * i + 5];
            if (z->types[i].desig >= charcnt)
                return false;
        }
        p += typecnt * 6;
        z->nchars = (int)charcnt;
        z->chars = malloc(charcnt + 1);
        ENG_ASSERT(z->chars != NULL);
        memcpy(z->chars, p, charcnt);
        z->chars[charcnt] = '\0';
        p += need - timecnt * tsize - timecnt - typecnt * 6;
    }
    /* Footer: "\n<POSIX TZ>\n" in version 2+ files. */
    if (pass == 2 && (size_t)(p - buf) < len && *p == '\n') {
        const uint8_t *e = memchr(p + 1, '\n', len - (size_t)(p - buf) - 1);
        if (e != NULL && e - p - 1 < 256) {
            char rule[256];
            memcpy(rule, p + 1, (size_t)(e - p - 1));
            rule[e - p - 1] = '\0';
            if (rule[0] != '\0' && !parse_posix(rule, z)) {
                z->has_rule = false;
                z->has_std = false;
            }
        }
    }
    return true;
}

/* Finds path under dir matching name case-insensitively, one component at a
 * time. Components must be plain names (no "." / ".."). */
static bool
resolve(const char *name, char *path, size_t cap)
{
    size_t pl = strlen(TZDIR);
    if (pl + 1 >= cap)
        return false;
    memcpy(path, TZDIR, pl + 1);
    const char *c = name;
    while (*c) {
        const char *slash = strchr(c, '/');
        size_t cl = slash ? (size_t)(slash - c) : strlen(c);
        if (cl == 0 || cl > 100 || (cl == 1 && c[0] == '.') ||
            (cl == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        DIR *d = opendir(path);
        if (d == NULL)
            return false;
        struct dirent *ent;
        bool found = false;
        while ((ent = readdir(d)) != NULL) {
            if (strlen(ent->d_name) == cl && strncasecmp(ent->d_name, c, cl) == 0) {
                size_t el = strlen(ent->d_name);
                if (pl + 1 + el + 1 > cap)
                    break;
                path[pl++] = '/';
                memcpy(path + pl, ent->d_name, el + 1);
                pl += el;
                found = true;
                break;
            }
        }
        closedir(d);
        if (!found)
            return false;
        c = slash ? slash + 1 : c + cl;
    }
    return true;
}

static bool
load_file(const char *name, eng_tz *z)
{
    for (const char *c = name; *c; c++) {
        char ch = *c;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '/' || ch == '_' || ch == '-' || ch == '+' || ch == '.'))
            return false;
    }
    if (name[0] == '/' || strlen(name) > 200)
        return false;
    char path[512];
    if (!resolve(name, path, sizeof path))
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    bool ok = false;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size <= MAX_TZFILE) {
        uint8_t *buf = malloc((size_t)st.st_size);
        ENG_ASSERT(buf != NULL);
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        ok = got == (size_t)st.st_size && parse_tzif(buf, got, z);
        free(buf);
    }
    close(fd);
    return ok;
}

eng_tz *
eng_tz_load(const char *name)
{
    eng_tz *z = calloc(1, sizeof *z);
    ENG_ASSERT(z != NULL);
    if (load_file(name, z))
        return z;
    eng_tz_free(z);
    z = calloc(1, sizeof *z);
    ENG_ASSERT(z != NULL);
    /* Not a file: perhaps a POSIX TZ string, as PostgreSQL tries next. */
    char upper[256];
    size_t n = strlen(name);
    if (n >= sizeof upper || name[0] == ':') {
        eng_tz_free(z);
        return NULL;
    }
    for (size_t i = 0; i <= n; i++)
        upper[i] = (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 32) : name[i];
    if (!parse_posix(upper, z)) {
        eng_tz_free(z);
        return NULL;
    }
    return z;
}

/* ------------------------------------------------------------------ offsets */

/* The type in effect before the first transition: the lowest-numbered
 * standard-time type, as PostgreSQL picks. */
static tz_type
initial_type(const eng_tz *z)
{
    for (int i = 0; i < z->ntypes; i++)
        if (!z->types[i].isdst)
            return z->types[i];
    return z->types[0];
}

/* PostgreSQL's pg_next_dst_boundary: the type in effect at t and, if there
 * is a later transition, its time and the type after it. Returns 0 when
 * there is none (a zone without DST from t on). */
static int
next_boundary(const eng_tz *z, int64_t t, tz_type *before, int64_t *boundary, tz_type *after)
{
    int n = z->ntrans;
    if (n > 0 && t < z->trans[0]) {
        *before = initial_type(z);
        *boundary = z->trans[0];
        *after = z->types[z->idx[0]];
        return 1;
    }
    if (n > 0 && t < z->trans[n - 1]) {
        int lo = 1, hi = n - 1;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (t < z->trans[mid])
                hi = mid;
            else
                lo = mid + 1;
        }
        *before = z->types[z->idx[lo - 1]];
        *boundary = z->trans[lo];
        *after = z->types[z->idx[lo]];
        return 1;
    }
    /* Past the table: the last type, then the footer's rule. */
    if (n > 0)
        *before = z->types[z->idx[n - 1]];
    else if (z->has_rule || z->has_std)
        *before = z->rstd;
    else
        *before = initial_type(z);
    if (!z->has_rule)
        return 0;
    int64_t last = n > 0 ? z->trans[n - 1] : INT64_MIN;
    int y, m, d;
    int64_t days = t / SECS_PER_DAY;
    if (t % SECS_PER_DAY < 0)
        days--;
    eng_j2date((int)(days + ENG_UNIX_EPOCH_JDATE), &y, &m, &d);
    /* The latest rule transition at or before t (after the table) decides
     * the type in effect; the first one after t is the boundary. */
    int64_t prev = INT64_MIN;
    bool prev_dst = false, found = false;
    for (int yy = y - 1; yy <= y + 1 && !found; yy++) {
        int64_t s = rule_start(z, yy), e = rule_end(z, yy);
        int64_t ev[2] = {s < e ? s : e, s < e ? e : s};
        bool dst_after[2] = {s < e, !(s < e)};
        for (int k = 0; k < 2; k++) {
            if (ev[k] <= last)
                continue;
            if (ev[k] <= t) {
                prev = ev[k];
                prev_dst = dst_after[k];
            } else {
                *boundary = ev[k];
                *after = dst_after[k] ? z->rdst : z->rstd;
                found = true;
                break;
            }
        }
    }
    if (prev != INT64_MIN)
        *before = prev_dst ? z->rdst : z->rstd;
    return found ? 1 : 0;
}

/* DetermineTimeZoneOffsetInternal: seconds west for local time tm, and
 * the UTC instant it denotes. */
static int
local_offset(const eng_tz *z, const eng_tm *tm, int64_t *instant)
{
    int64_t date = (int64_t)eng_date2j(tm->year, tm->mon, tm->mday) - ENG_UNIX_EPOCH_JDATE;
    int64_t mytime = date * SECS_PER_DAY + ((int64_t)tm->hour * 60 + tm->min) * 60 + tm->sec;
    int64_t prevtime = mytime - SECS_PER_DAY;
    tz_type before, after;
    int64_t boundary;
    if (next_boundary(z, prevtime, &before, &boundary, &after) == 0) {
        *instant = mytime - before.utoff;
        return -before.utoff;
    }
    int64_t beforetime = mytime - before.utoff, aftertime = mytime - after.utoff;
    if (beforetime < boundary && aftertime < boundary) {
        *instant = beforetime;
        return -before.utoff;
    }
    if (beforetime > boundary && aftertime >= boundary) {
        *instant = aftertime;
        return -after.utoff;
    }
    /* In a gap or an overlap: spring forward keeps the earlier offset,
     * fall back takes the later one. */
    if (beforetime > aftertime) {
        *instant = beforetime;
        return -before.utoff;
    }
    *instant = aftertime;
    return -after.utoff;
}

int
eng_tz_local_offset(const eng_tz *z, const eng_tm *tm)
{
    int64_t instant;
    return local_offset(z, tm, &instant);
}

/* True if type t is designated by abbreviation `upper`. */
static bool
type_named(const eng_tz *z, const tz_type *t, const char *upper)
{
    return z->chars != NULL && strcmp(z->chars + t->desig, upper) == 0;
}

int
eng_tz_abbrev_offset(const eng_tz *z, const char *abbrev, const eng_tm *tm)
{
    int64_t t;
    int zone_offset = local_offset(z, tm, &t);
    char upper[16];
    size_t n = strlen(abbrev);
    if (n >= sizeof upper)
        return zone_offset;
    for (size_t i = 0; i <= n; i++)
        upper[i] = (abbrev[i] >= 'a' && abbrev[i] <= 'z') ? (char)(abbrev[i] - 32) : abbrev[i];
    /* Past the table the footer rule's names apply (PostgreSQL extends the
     * table with the rule's transitions). */
    if (z->ntrans > 0 && t >= z->trans[z->ntrans - 1] && (z->has_rule || z->has_std)) {
        if (strcmp(upper, z->std_name) == 0)
            return -z->rstd.utoff;
        if (z->has_rule && strcmp(upper, z->dst_name) == 0)
            return -z->rdst.utoff;
    }
    /* The latest period at or before t using the abbreviation, else the
     * first one after it. */
    int lo = 0, hi = z->ntrans;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (t < z->trans[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    for (int i = lo - 1; i >= 0; i--)
        if (type_named(z, &z->types[z->idx[i]], upper))
            return -z->types[z->idx[i]].utoff;
    for (int i = lo; i < z->ntrans; i++)
        if (type_named(z, &z->types[z->idx[i]], upper))
            return -z->types[z->idx[i]].utoff;
    return zone_offset;
}

bool
eng_tz_fixed_offset(const eng_tz *z, int *gmtoff)
{
    if (z->ntypes == 0) {
        if (z->has_rule)
            return false;
        *gmtoff = z->rstd.utoff;
        return true;
    }
    for (int i = 1; i < z->ntypes; i++)
        if (z->types[i].utoff != z->types[0].utoff)
            return false;
    *gmtoff = z->types[0].utoff;
    return true;
}
