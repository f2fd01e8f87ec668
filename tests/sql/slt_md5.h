/* MD5 (RFC 1321) for sluice-slt's "N values hashing to H" result form. */
#ifndef T_SLT_MD5_H
#define T_SLT_MD5_H

#include <stddef.h>
#include <stdint.h>

typedef struct t_md5 {
    uint32_t h[4];
    uint64_t len; /* bytes fed so far */
    uint8_t buf[64];
} t_md5;

void t_md5_init(t_md5 *m);
void t_md5_update(t_md5 *m, const void *data, size_t n);
/* Writes 32 lowercase hex digits and a NUL into hex. */
void t_md5_final_hex(t_md5 *m, char hex[33]);

#endif
