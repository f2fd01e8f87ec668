/* Hexadecimal digits, for every decoder of hex text: bytea input, JSON
 * \u escapes, decode(..., 'hex'), and the test tools' %XX and \xNN.
 * Header only, so a tool includes it without linking eng_core. */
#ifndef ENG_HEX_H
#define ENG_HEX_H

/* The value of hex digit c (either case), or -1 if c is not one. */
static inline int
eng_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
