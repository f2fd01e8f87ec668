/* MD5 (RFC 1321), written from the RFC's description; used only to
 * fingerprint result sets, never for security. */
#include "tests/sql/slt_md5.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const uint8_t shifts[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                   5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                   4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                   6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

/* K[i] = floor(|sin(i + 1)| * 2^32), computed once: a double holds it exactly. */
static uint32_t K[64];

static uint32_t
rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static void
block(t_md5 *m, const uint8_t *p)
{
    uint32_t w[16];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
               (uint32_t)p[4 * i + 3] << 24;
    uint32_t a = m->h[0], b = m->h[1], c = m->h[2], d = m->h[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g;
        if (i < 16) {
            f = (b & c) | (~b & d);
            g = i;
        } else if (i < 32) {
            f = (d & b) | (~d & c);
            g = (5 * i + 1) % 16;
        } else if (i < 48) {
            f = b ^ c ^ d;
            g = (3 * i + 5) % 16;
        } else {
            f = c ^ (b | ~d);
            g = (7 * i) % 16;
        }
        f = f + a + K[i] + w[g];
        a = d;
        d = c;
        c = b;
        b = b + rotl(f, shifts[i]);
    }
    m->h[0] += a;
    m->h[1] += b;
    m->h[2] += c;
    m->h[3] += d;
}

void
t_md5_init(t_md5 *m)
{
    if (K[0] == 0)
        for (int i = 0; i < 64; i++)
            K[i] = (uint32_t)floor(fabs(sin((double)(i + 1))) * 4294967296.0);
    m->h[0] = 0x67452301u;
    m->h[1] = 0xefcdab89u;
    m->h[2] = 0x98badcfeu;
    m->h[3] = 0x10325476u;
    m->len = 0;
}

void
t_md5_update(t_md5 *m, const void *data, size_t n)
{
    const uint8_t *p = data;
    size_t have = (size_t)(m->len % 64);
    m->len += n;
    while (n > 0) {
        size_t take = 64 - have < n ? 64 - have : n;
        memcpy(m->buf + have, p, take);
        have += take;
        p += take;
        n -= take;
        if (have == 64) {
            block(m, m->buf);
            have = 0;
        }
    }
}

void
t_md5_final_hex(t_md5 *m, char hex[33])
{
    uint64_t bits = m->len * 8;
    static const uint8_t pad0 = 0x80, zero = 0;
    t_md5_update(m, &pad0, 1);
    while (m->len % 64 != 56)
        t_md5_update(m, &zero, 1);
    uint8_t lenle[8];
    for (int i = 0; i < 8; i++)
        lenle[i] = (uint8_t)(bits >> (8 * i));
    t_md5_update(m, lenle, 8);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            snprintf(hex + 8 * i + 2 * j, 3, "%02x", (unsigned)((m->h[i] >> (8 * j)) & 0xff));
    hex[32] = '\0';
}
