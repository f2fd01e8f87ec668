/* The replica size table. */
#include "engine/core/eng_size.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

#define GIB (1024ull * 1024 * 1024)

static const eng_size size_table[] = {
    {"3xsmall", "25cc", 1, 4 * GIB},     {"2xsmall", "50cc", 1, 8 * GIB},
    {"xsmall", "100cc", 2, 16 * GIB},    {"small", "200cc", 4, 32 * GIB},
    {"medium", "400cc", 8, 64 * GIB},    {"large", "800cc", 16, 128 * GIB},
    {"xlarge", "1600cc", 32, 256 * GIB}, {"2xlarge", "3200cc", 64, 512 * GIB},
};

int
eng_size_parse(const char *name, eng_size *out, eng_err *err)
{
    if (name == NULL || *name == '\0')
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "size must not be empty");
    for (size_t i = 0; i < sizeof size_table / sizeof size_table[0]; i++) {
        if (strcasecmp(name, size_table[i].name) == 0 ||
            strcasecmp(name, size_table[i].cc_name) == 0) {
            *out = size_table[i];
            return 0;
        }
    }
    bool digits = true;
    for (const char *p = name; *p; p++)
        if (!isdigit((unsigned char)*p))
            digits = false;
    if (digits) {
        errno = 0;
        long n = strtol(name, NULL, 10);
        if (errno != 0 || n < 1 || n > ENG_SIZE_MAX_WORKERS)
            return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                               "invalid size \"%s\": a worker count must be between 1 and %d", name,
                               ENG_SIZE_MAX_WORKERS);
        out->name = "N";
        out->cc_name = NULL;
        out->workers = (int)n;
        out->memory_bytes = 0;
        return 0;
    }
    eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                "invalid size \"%s\": expected one of 3xsmall, 2xsmall, xsmall, small, medium, "
                "large, xlarge, 2xlarge, 25cc..3200cc, or a worker count",
                name);
    return -1;
}

void
eng_size_print_table(FILE *f)
{
    fprintf(f, "  %-8s %-7s %7s %8s\n", "size", "cc", "workers", "memory");
    for (size_t i = 0; i < sizeof size_table / sizeof size_table[0]; i++)
        fprintf(f, "  %-8s %-7s %7d %5llu GiB\n", size_table[i].name, size_table[i].cc_name,
                size_table[i].workers, (unsigned long long)(size_table[i].memory_bytes / GIB));
    fprintf(f, "  %-8s %-7s %7s %8s\n", "N", "", "N", "-");
}
