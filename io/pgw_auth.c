/* pgwire passwords: the password file and SCRAM-SHA-256 (RFC 5802, 7677).
 *
 * Notes: the file is read once, at listen time; each user's salted
 * password is derived then (PBKDF2, 4096 iterations, a fresh random salt)
 * and only the SCRAM keys are kept, so a connection costs two HMACs and a
 * hash, not a PBKDF2. A pgw_auth is immutable after load and shared by
 * every session thread; a pgw_scram belongs to one session thread. Channel
 * binding is not offered (no TLS), as PostgreSQL without SSL. */
#include "io/pgw_int.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>

#define SCRAM_ITERS 4096
#define SCRAM_SALT 16
#define SCRAM_KEY 32
#define SCRAM_NONCE 18

typedef struct pgw_user {
    char *name;
    uint8_t salt[SCRAM_SALT];
    uint8_t stored_key[SCRAM_KEY], server_key[SCRAM_KEY];
} pgw_user;

struct pgw_auth {
    pgw_user *users;
    int nusers;
    uint8_t mock_secret[32]; /* salts for unknown users, stable per user */
};

struct pgw_scram {
    const pgw_auth *a;
    bool known;
    uint8_t salt[SCRAM_SALT];
    uint8_t stored_key[SCRAM_KEY], server_key[SCRAM_KEY];
    char *gs2;               /* the gs2 header, as the client sent it */
    char *client_first_bare; /* "n=...,r=..." */
    char *server_first;
    char *nonce; /* client nonce + server nonce */
};

/* ------------------------------------------------------------------ base64 */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
b64_encode(const uint8_t *p, size_t n, eng_strbuf *out)
{
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {b64chars[(v >> 18) & 63], b64chars[(v >> 12) & 63],
                     i + 1 < n ? b64chars[(v >> 6) & 63] : '=', i + 2 < n ? b64chars[v & 63] : '='};
        eng_strbuf_append(out, q, 4);
    }
}

static int
b64_val(char ch)
{
    const char *p = ch ? strchr(b64chars, ch) : NULL;
    return p ? (int)(p - b64chars) : -1;
}

/* Strict decoding (length a multiple of 4, '=' only at the end). Returns
 * the decoded length, or -1. */
static int
b64_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
    if (n % 4 != 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad > 0 || (v[k] = b64_val(s[i + k])) < 0) {
                return -1;
            }
        }
        uint32_t w = (uint32_t)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
        uint8_t b[3] = {(uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w};
        for (int k = 0; k < 3 - pad; k++) {
            if (o >= cap)
                return -1;
            out[o++] = b[k];
        }
    }
    return (int)o;
}

/* ------------------------------------------------------------------ keys */

static void
hmac(const uint8_t *key, size_t klen, const void *data, size_t n, uint8_t out[SCRAM_KEY])
{
    unsigned len = SCRAM_KEY;
    HMAC(EVP_sha256(), key, (int)klen, data, n, out, &len);
}

static int
derive(pgw_user *u, const char *password)
{
    uint8_t salted[SCRAM_KEY], client_key[SCRAM_KEY];
    if (RAND_bytes(u->salt, SCRAM_SALT) != 1 ||
        PKCS5_PBKDF2_HMAC(password, (int)strlen(password), u->salt, SCRAM_SALT, SCRAM_ITERS,
                          EVP_sha256(), SCRAM_KEY, salted) != 1)
        return -1;
    hmac(salted, SCRAM_KEY, "Client Key", 10, client_key);
    SHA256(client_key, SCRAM_KEY, u->stored_key);
    hmac(salted, SCRAM_KEY, "Server Key", 10, u->server_key);
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(client_key, sizeof client_key);
    return 0;
}

int
io_pgw_auth_load(pgw_auth **out, const char *path, eng_err *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return eng_err_set(err, ENG_ERRCODE_UNDEFINED_FILE,
                           "could not open password file \"%s\": %s", path, strerror(errno));
    pgw_auth *a = calloc(1, sizeof *a);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, rc = 0;
    if (a == NULL || RAND_bytes(a->mock_secret, sizeof a->mock_secret) != 1) {
        rc = eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "cannot load the password file");
        goto done;
    }
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        char *colon = strchr(line, ':');
        if (colon == NULL || colon == line) {
            rc = eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                             "malformed line %d in password file \"%s\": expected user:password",
                             lineno, path);
            goto done;
        }
        *colon = '\0';
        pgw_user *us = realloc(a->users, (size_t)(a->nusers + 1) * sizeof *us);
        if (us == NULL) {
            rc = eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "cannot load the password file");
            goto done;
        }
        a->users = us;
        pgw_user *u = &a->users[a->nusers];
        memset(u, 0, sizeof *u);
        u->name = strdup(line);
        if (u->name == NULL || derive(u, colon + 1) != 0) {
            free(u->name);
            rc = eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "cannot load the password file");
            goto done;
        }
        a->nusers++;
        OPENSSL_cleanse(colon + 1, strlen(colon + 1));
    }
    if (ferror(f))
        rc = eng_err_set(err, ENG_ERRCODE_UNDEFINED_FILE, "could not read password file \"%s\"",
                         path);
done:
    if (line != NULL)
        OPENSSL_cleanse(line, cap);
    free(line);
    fclose(f);
    if (rc != 0) {
        io_pgw_auth_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void
io_pgw_auth_free(pgw_auth *a)
{
    if (a == NULL)
        return;
    for (int i = 0; i < a->nusers; i++)
        free(a->users[i].name);
    OPENSSL_cleanse(a->users, (size_t)a->nusers * sizeof *a->users);
    free(a->users);
    free(a);
}

/* ------------------------------------------------------------------ the exchange */

pgw_scram *
io_pgw_scram_new(const pgw_auth *a, const char *user)
{
    pgw_scram *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->a = a;
    for (int i = 0; i < a->nusers; i++) {
        if (strcmp(a->users[i].name, user) == 0) {
            s->known = true;
            memcpy(s->salt, a->users[i].salt, SCRAM_SALT);
            memcpy(s->stored_key, a->users[i].stored_key, SCRAM_KEY);
            memcpy(s->server_key, a->users[i].server_key, SCRAM_KEY);
            return s;
        }
    }
    uint8_t mock[SCRAM_KEY];
    hmac(a->mock_secret, sizeof a->mock_secret, user, strlen(user), mock);
    memcpy(s->salt, mock, SCRAM_SALT);
    return s;
}

void
io_pgw_scram_free(pgw_scram *s)
{
    if (s == NULL)
        return;
    free(s->gs2);
    free(s->client_first_bare);
    free(s->server_first);
    free(s->nonce);
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

static int
malformed(eng_err *err, const char *what)
{
    return eng_err_set(err, ENG_ERRCODE_PROTOCOL_VIOLATION, "malformed SCRAM message: %s", what);
}

/* A printable SCRAM nonce: ASCII 0x21..0x7e except ','. */
static bool
valid_nonce(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ',')
            return false;
    return true;
}

int
io_pgw_scram_first(pgw_scram *s, const char *msg, size_t n, eng_strbuf *out, eng_err *err)
{
    if (memchr(msg, 0, n) != NULL)
        return malformed(err, "NUL byte");
    /* gs2-header: cbind-flag "," [authzid] "," */
    if (n < 3 || (msg[0] != 'n' && msg[0] != 'y' && msg[0] != 'p'))
        return malformed(err, "unexpected channel-binding flag");
    if (msg[0] == 'p')
        return eng_err_set(err, ENG_ERRCODE_PROTOCOL_VIOLATION,
                           "channel binding is not supported by this server");
    if (msg[1] != ',')
        return malformed(err, "comma expected");
    const char *p = msg + 2, *end = msg + n;
    if (*p != ',')
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "client uses authorization identity, but it is not supported");
    p++;
    const char *bare = p;
    /* client-first-message-bare: "n=" user "," "r=" nonce ["," ext...] */
    if (end - p < 2 || p[0] != 'n' || p[1] != '=')
        return malformed(err, "user name expected");
    const char *comma = memchr(p, ',', (size_t)(end - p));
    if (comma == NULL || end - comma < 3 || comma[1] != 'r' || comma[2] != '=')
        return malformed(err, "nonce expected");
    const char *cn = comma + 3;
    const char *cnend = memchr(cn, ',', (size_t)(end - cn));
    if (cnend == NULL)
        cnend = end;
    if (!valid_nonce(cn, (size_t)(cnend - cn)))
        return malformed(err, "invalid nonce");
    uint8_t raw[SCRAM_NONCE];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return eng_err_set(err, ENG_ERRCODE_INTERNAL_ERROR, "could not generate a SCRAM nonce");
    eng_strbuf nonce = {0};
    eng_strbuf_append(&nonce, cn, (size_t)(cnend - cn));
    b64_encode(raw, sizeof raw, &nonce);
    eng_strbuf_puts(out, "r=");
    eng_strbuf_append(out, nonce.data, nonce.len);
    eng_strbuf_puts(out, ",s=");
    b64_encode(s->salt, SCRAM_SALT, out);
    eng_strbuf_printf(out, ",i=%d", SCRAM_ITERS);
    s->gs2 = strndup(msg, (size_t)(bare - msg));
    s->client_first_bare = strndup(bare, (size_t)(end - bare));
    s->server_first = strndup(out->data, out->len);
    s->nonce = strndup(nonce.data, nonce.len);
    eng_strbuf_free(&nonce);
    if (!s->gs2 || !s->client_first_bare || !s->server_first || !s->nonce)
        return eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "out of memory");
    return 0;
}

int
io_pgw_scram_final(pgw_scram *s, const char *msg, size_t n, eng_strbuf *out, eng_err *err)
{
    if (s->nonce == NULL)
        return malformed(err, "unexpected final message");
    if (memchr(msg, 0, n) != NULL)
        return malformed(err, "NUL byte");
    const char *end = msg + n;
    /* "c=" base64(gs2 header) ",r=" nonce ... ",p=" proof */
    if (n < 2 || msg[0] != 'c' || msg[1] != '=')
        return malformed(err, "channel binding expected");
    const char *cb = msg + 2;
    const char *cbend = memchr(cb, ',', (size_t)(end - cb));
    if (cbend == NULL)
        return malformed(err, "nonce expected");
    eng_strbuf want = {0};
    b64_encode((const uint8_t *)s->gs2, strlen(s->gs2), &want);
    bool cb_ok = want.len == (size_t)(cbend - cb) && memcmp(want.data, cb, want.len) == 0;
    eng_strbuf_free(&want);
    if (!cb_ok)
        return eng_err_set(err, ENG_ERRCODE_PROTOCOL_VIOLATION,
                           "SCRAM channel binding check failed");
    const char *r = cbend + 1;
    size_t nl = strlen(s->nonce);
    if (end - r < 2 || r[0] != 'r' || r[1] != '=' || (size_t)(end - r - 2) < nl ||
        memcmp(r + 2, s->nonce, nl) != 0 || (r + 2 + nl < end && r[2 + nl] != ','))
        return malformed(err, "nonce does not match");
    /* The proof is the last attribute. */
    const char *pp = NULL;
    for (const char *q = end - 1; q > msg; q--) {
        if (*q == ',') {
            pp = q;
            break;
        }
    }
    if (pp == NULL || end - pp < 4 || pp[1] != 'p' || pp[2] != '=')
        return malformed(err, "proof expected");
    uint8_t proof[SCRAM_KEY + 3];
    if (b64_decode(pp + 3, (size_t)(end - pp - 3), proof, sizeof proof) != SCRAM_KEY)
        return malformed(err, "invalid proof");
    eng_strbuf am = {0};
    eng_strbuf_puts(&am, s->client_first_bare);
    eng_strbuf_putc(&am, ',');
    eng_strbuf_puts(&am, s->server_first);
    eng_strbuf_putc(&am, ',');
    eng_strbuf_append(&am, msg, (size_t)(pp - msg));
    uint8_t sig[SCRAM_KEY], client_key[SCRAM_KEY], stored[SCRAM_KEY];
    hmac(s->stored_key, SCRAM_KEY, am.data, am.len, sig);
    for (int i = 0; i < SCRAM_KEY; i++)
        client_key[i] = proof[i] ^ sig[i];
    SHA256(client_key, SCRAM_KEY, stored);
    bool ok = s->known && CRYPTO_memcmp(stored, s->stored_key, SCRAM_KEY) == 0;
    if (ok) {
        uint8_t server_sig[SCRAM_KEY];
        hmac(s->server_key, SCRAM_KEY, am.data, am.len, server_sig);
        eng_strbuf_puts(out, "v=");
        b64_encode(server_sig, SCRAM_KEY, out);
    }
    eng_strbuf_free(&am);
    return ok ? 1 : 0;
}
