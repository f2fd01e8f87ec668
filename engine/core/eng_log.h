/* Logging: one line per call, written with a single write(2) so lines from
 * different threads never interleave. Safe from any thread. */
#ifndef ENG_LOG_H
#define ENG_LOG_H

#include <stdbool.h>

typedef enum eng_log_level {
    ENG_LOG_ERROR = 0,
    ENG_LOG_WARN,
    ENG_LOG_INFO,
    ENG_LOG_DEBUG,
    ENG_LOG_TRACE,
} eng_log_level;

/* Sets the most verbose level printed (default INFO) and the output fd
 * (default 2). Call before threads start. */
void eng_log_init(eng_log_level level, int fd);

/* Parses "error", "warn", "info", "debug", "trace". Returns false on an
 * unknown name. */
bool eng_log_level_parse(const char *name, eng_log_level *out);

/* Names the calling thread in log lines (at most 15 characters, copied). */
void eng_log_thread_name(const char *name);

bool eng_log_enabled(eng_log_level level);

void eng_log(eng_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
