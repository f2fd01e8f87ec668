/* Line-atomic logging with timestamps, levels and thread names. */
#include "engine/core/eng_log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_level = ENG_LOG_INFO;
static int log_fd = 2;
static _Thread_local char thread_name[16] = "main";

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

void
eng_log_init(eng_log_level level, int fd)
{
    atomic_store(&log_level, (int)level);
    log_fd = fd;
}

bool
eng_log_level_parse(const char *name, eng_log_level *out)
{
    for (int i = 0; i <= ENG_LOG_TRACE; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (eng_log_level)i;
            return true;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = ENG_LOG_WARN;
        return true;
    }
    return false;
}

void
eng_log_thread_name(const char *name)
{
    snprintf(thread_name, sizeof thread_name, "%s", name);
}

bool
eng_log_enabled(eng_log_level level)
{
    return (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

void
eng_log(eng_log_level level, const char *fmt, ...)
{
    if (!eng_log_enabled(level))
        return;
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %-5s [%s] ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000, level_names[level], thread_name);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n +
                 (m < 0 ? 0
                        : ((size_t)m < sizeof line - (size_t)n - 1 ? (size_t)m
                                                                   : sizeof line - (size_t)n - 2));
    line[len++] = '\n';
    ssize_t w = write(log_fd, line, len);
    (void)w;
}
