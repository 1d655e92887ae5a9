/*
 * jwt.c: foutad's access tokens. A token is a JWT (RFC 7519) signed with HMAC-SHA-256 under a
 * key named by its `kid`, so keys rotate: the key file lists keys, the first signs, every key
 * verifies. Anything but {"alg":"HS256"} with a known kid is refused before any signature is
 * computed: `none`, RS256 (the HMAC/RSA confusion, where an RSA public key is used as an HMAC
 * secret) and every other algorithm. Then the signature, the issuer, the audience, the times and
 * the claims foutad needs (tenant, user, role, family, generation) are checked.
 *
 * An app sends the same token on every request for its quarter of an hour, and parsing two JSON
 * segments and computing an HMAC was most of what an authenticated read cost (bench/run http),
 * so each thread keeps the few tokens it verified last: a token equal byte for byte (compared in
 * constant time) to one verified with the same key is not parsed again; its times are checked
 * against now on every request, as a full verification would.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <assert.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define JWT_SEGMENT_BYTES_MAX 2048
#define JWT_CLOCK_SKEW_S      30
#define JWT_CACHE_SLOTS       32  /* per thread: tokens verified lately */
#define JWT_CACHE_TOKEN_MAX   768 /* longer tokens (foutad's are about 450 bytes) are not kept */

_Static_assert((JWT_CACHE_SLOTS & (JWT_CACHE_SLOTS - 1)) == 0, "a power of two");
_Static_assert(JWT_CACHE_TOKEN_MAX <= API_TOKEN_LEN_MAX, "a kept token is a token");

/* ---- base64url without padding (RFC 4648 section 5) ---- */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t api_b64url_encode(const uint8_t *bytes, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)bytes[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)bytes[i + 1] << 8;
        if (i + 2 < len)
            v |= bytes[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = b64url[(v >> 6) & 63];
        if (i + 2 < len)
            out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
    return o;
}

/* The value of a base64url digit, -1 for anything else (the inverse of b64url[]). */
static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

long api_b64url_decode(const char *text, size_t len, uint8_t *out, size_t size)
{
    if (len % 4 == 1 || len / 4 * 3 + 3 > size)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value(text[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* The bits past the last byte must be zero: a text has one spelling, so a signed token
     * cannot be varied into another string that still verifies. */
    if ((acc & ((1u << bits) - 1u)) != 0)
        return -1;
    return (long)o;
}

/* ---- keys ---- */

static int parse_key_line(const char *line, api_jwt_key_t *key)
{
    char kid[64], hex[80];
    if (sscanf(line, "%63s %79s", kid, hex) != 2 || strlen(hex) != 2 * API_JWT_KEY_BYTES ||
        strlen(kid) >= sizeof(key->kid))
        return FL_EINVAL;
    for (size_t i = 0; i < API_JWT_KEY_BYTES; i++) {
        unsigned byte;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
            return FL_EINVAL;
        key->key[i] = (uint8_t)byte;
    }
    memcpy(key->kid, kid, strlen(kid) + 1); /* checked shorter than key->kid above */
    return 0;
}

/* Writes a new key file with one random key (mode 0600, never replacing a file). */
static int create_key_file(const char *path)
{
    uint8_t secret[API_JWT_KEY_BYTES], kid_bytes[6];
    if (getrandom(secret, sizeof(secret), 0) != (ssize_t)sizeof(secret) ||
        getrandom(kid_bytes, sizeof(kid_bytes), 0) != (ssize_t)sizeof(kid_bytes))
        return FL_EIO;
    char hex[2 * API_JWT_KEY_BYTES + 1], kid[2 * sizeof(kid_bytes) + 1];
    fl_hex_format(secret, sizeof(secret), hex);
    fl_hex_format(kid_bytes, sizeof(kid_bytes), kid);
    OPENSSL_cleanse(secret, sizeof(secret));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return errno == EEXIST ? 0 : fl_err_from_errno(errno);
    char line[200];
    int len =
        snprintf(line, sizeof(line),
                 "# foutad token keys: KID HEX; the first signs, all verify\nk%s %s\n", kid, hex);
    OPENSSL_cleanse(hex, sizeof(hex));
    bool ok = write(fd, line, (size_t)len) == len && fsync(fd) == 0;
    OPENSSL_cleanse(line, sizeof(line));
    close(fd);
    return ok ? 0 : FL_EIO;
}

int api_jwt_keys_load(api_jwt_keys_t *keys, const char *path, bool create)
{
    memset(keys, 0, sizeof(*keys));
    if (create) {
        int rc = create_key_file(path);
        if (rc != 0)
            return rc;
    }
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return fl_err_from_errno(errno);
    char line[256];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), file) != NULL) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (keys->count == API_JWT_KEYS_MAX)
            rc = FL_ETOOBIG;
        else
            rc = parse_key_line(line, &keys->keys[keys->count++]);
    }
    OPENSSL_cleanse(line, sizeof(line));
    fclose(file);
    if (rc == 0 && keys->count == 0)
        rc = FL_EINVAL;
    if (rc != 0)
        OPENSSL_cleanse(keys, sizeof(*keys));
    return rc;
}

static const api_jwt_key_t *key_find(const api_jwt_keys_t *keys, const char *kid)
{
    for (uint32_t i = 0; i < keys->count; i++)
        if (strcmp(keys->keys[i].kid, kid) == 0)
            return &keys->keys[i];
    return NULL;
}

/* ---- signing ---- */

static void mac(const api_jwt_key_t *key, const char *input, size_t len, uint8_t out[32])
{
    unsigned out_len = 32;
    HMAC(EVP_sha256(), key->key, API_JWT_KEY_BYTES, (const unsigned char *)input, len, out,
         &out_len);
    assert(out_len == 32);
}

int api_jwt_sign(const api_jwt_keys_t *keys, const api_claims_t *claims, char *out, size_t size)
{
    assert(keys->count > 0);
    const api_jwt_key_t *key = &keys->keys[0];
    char header[128], payload[1024];
    int header_len = snprintf(header, sizeof(header),
                              "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", key->kid);
    char family[33];
    fl_hex_format(claims->family, sizeof(claims->family), family);
    json_t *body =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I}", "iss", API_JWT_ISSUER, "aud",
                  API_JWT_AUDIENCE, "sub", claims->user, "ten", claims->tenant, "role",
                  ev_role_name(claims->role), "dev", claims->device, "fam", family, "gen",
                  (json_int_t)claims->generation, "iat", (json_int_t)claims->issued_s, "nbf",
                  (json_int_t)claims->issued_s, "exp", (json_int_t)claims->expires_s);
    if (body == NULL)
        return FL_ENOMEM;
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL)
        return FL_ENOMEM;
    int payload_len = snprintf(payload, sizeof(payload), "%s", text);
    free(text);
    if (payload_len < 0 || (size_t)payload_len >= sizeof(payload))
        return FL_ETOOBIG;
    size_t need = (size_t)(header_len + payload_len) * 4 / 3 + 64;
    if (size < need)
        return FL_ETOOBIG;
    size_t o = api_b64url_encode((const uint8_t *)header, (size_t)header_len, out);
    out[o++] = '.';
    o += api_b64url_encode((const uint8_t *)payload, (size_t)payload_len, out + o);
    uint8_t signature[32];
    mac(key, out, o, signature);
    out[o++] = '.';
    o += api_b64url_encode(signature, sizeof(signature), out + o);
    return (int)o;
}

/* ---- verifying ---- */

static json_t *segment_json(const char *text, size_t len)
{
    uint8_t bytes[JWT_SEGMENT_BYTES_MAX];
    if (len > JWT_SEGMENT_BYTES_MAX)
        return NULL;
    long n = api_b64url_decode(text, len, bytes, sizeof(bytes));
    if (n <= 0)
        return NULL;
    json_t *value = json_loadb((const char *)bytes, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
    if (value != NULL && !json_is_object(value)) {
        json_decref(value);
        return NULL;
    }
    return value;
}

static bool claim_str(json_t *body, const char *name, char *out, size_t size)
{
    const char *text = json_string_value(json_object_get(body, name));
    if (text == NULL || strlen(text) >= size)
        return false;
    snprintf(out, size, "%s", text);
    return true;
}

static const char *check_header(json_t *header, const api_jwt_keys_t *keys,
                                const api_jwt_key_t **key)
{
    const char *alg = json_string_value(json_object_get(header, "alg"));
    if (alg == NULL || strcmp(alg, "HS256") != 0)
        return "the token's algorithm is not HS256";
    const char *kid = json_string_value(json_object_get(header, "kid"));
    if (kid == NULL)
        return "the token names no key (kid)";
    *key = key_find(keys, kid);
    return *key == NULL ? "the token's key (kid) is unknown" : NULL;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static const char *check_claims(json_t *body, int64_t now_s, api_claims_t *out)
{
    const char *iss = json_string_value(json_object_get(body, "iss"));
    const char *aud = json_string_value(json_object_get(body, "aud"));
    if (iss == NULL || strcmp(iss, API_JWT_ISSUER) != 0)
        return "the token's issuer is not foutad";
    if (aud == NULL || strcmp(aud, API_JWT_AUDIENCE) != 0)
        return "the token's audience is not this API";
    json_t *exp = json_object_get(body, "exp"), *nbf = json_object_get(body, "nbf");
    if (!json_is_integer(exp) || !json_is_integer(nbf))
        return "the token has no exp or nbf";
    if (json_integer_value(exp) <= now_s)
        return "the token has expired";
    if (json_integer_value(nbf) > now_s + JWT_CLOCK_SKEW_S)
        return "the token is not valid yet";
    char role[32], family[40];
    if (!claim_str(body, "sub", out->user, sizeof(out->user)) ||
        !claim_str(body, "ten", out->tenant, sizeof(out->tenant)) ||
        !claim_str(body, "role", role, sizeof(role)) ||
        !claim_str(body, "dev", out->device, sizeof(out->device)) ||
        !claim_str(body, "fam", family, sizeof(family)) || strlen(family) != 32 ||
        !json_is_integer(json_object_get(body, "gen")))
        return "the token lacks a claim foutad needs";
    out->role = ev_role_parse(role, strlen(role));
    if (out->role == EV_ROLE_COUNT || out->user[0] == '\0' || out->tenant[0] == '\0')
        return "the token's role, user or tenant is not valid";
    for (int i = 0; i < 16; i++) {
        int high = hex_value(family[2 * i]), low = hex_value(family[2 * i + 1]);
        if (high < 0 || low < 0)
            return "the token's family is not valid";
        out->family[i] = (uint8_t)(high << 4 | low);
    }
    out->generation = (uint64_t)json_integer_value(json_object_get(body, "gen"));
    out->expires_s = json_integer_value(exp);
    out->issued_s = json_integer_value(nbf);
    return NULL;
}

/* The whole verification; *key is the key that verified the token. */
static int verify(const api_jwt_keys_t *keys, const char *token, size_t len, int64_t now_s,
                  api_claims_t *out, const char **why, const api_jwt_key_t **verified_by)
{
    memset(out, 0, sizeof(*out));
    *why = "the token is not a JWT";
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 =
        dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (dot1 == NULL || dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return FL_EUNAUTHORIZED;
    json_t *header = segment_json(token, (size_t)(dot1 - token));
    if (header == NULL)
        return FL_EUNAUTHORIZED;
    const api_jwt_key_t *key = NULL;
    const char *refused = check_header(header, keys, &key);
    json_decref(header);
    if (refused != NULL) {
        *why = refused;
        return FL_EUNAUTHORIZED;
    }
    uint8_t expected[32], given[40];
    mac(key, token, (size_t)(dot2 - token), expected);
    long given_len =
        api_b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), given, sizeof(given));
    if (given_len != 32 || CRYPTO_memcmp(expected, given, 32) != 0) {
        *why = "the token's signature does not verify";
        return FL_EUNAUTHORIZED;
    }
    json_t *body = segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (body == NULL)
        return FL_EUNAUTHORIZED;
    refused = check_claims(body, now_s, out);
    json_decref(body);
    if (refused != NULL) {
        *why = refused;
        memset(out, 0, sizeof(*out));
        return FL_EUNAUTHORIZED;
    }
    *why = "";
    *verified_by = key;
    return 0;
}

/* ---- tokens verified lately ---- */

/* A token that verified, the key that verified it and what it says. Each thread has its own
 * (foutad verifies on its loop thread), so no lock. A slot is chosen by the token's last bytes
 * (its signature's): a forged token may land on a slot but never equals what it holds. */
typedef struct {
    size_t len; /* 0: empty */
    char token[JWT_CACHE_TOKEN_MAX];
    api_jwt_key_t key;
    api_claims_t claims;
} cached_t;

static _Thread_local cached_t cache[JWT_CACHE_SLOTS];

static cached_t *cache_slot(const char *token, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = len > 8 ? len - 8 : 0; i < len; i++)
        h = (h ^ (uint8_t)token[i]) * 16777619u;
    return &cache[h & (JWT_CACHE_SLOTS - 1)];
}

/* The cached claims of token when it verified before with a key keys still holds, the same
 * bytes under the same kid, and its times hold now; NULL otherwise (verify it in full). */
static const api_claims_t *cache_find(const api_jwt_keys_t *keys, const char *token, size_t len,
                                      int64_t now_s)
{
    const cached_t *c = cache_slot(token, len);
    if (c->len != len || CRYPTO_memcmp(c->token, token, len) != 0)
        return NULL;
    const api_jwt_key_t *key = key_find(keys, c->key.kid);
    if (key == NULL || CRYPTO_memcmp(key->key, c->key.key, API_JWT_KEY_BYTES) != 0)
        return NULL;
    if (c->claims.expires_s <= now_s || c->claims.issued_s > now_s + JWT_CLOCK_SKEW_S)
        return NULL; /* the full verification says why */
    return &c->claims;
}

int api_jwt_verify(const api_jwt_keys_t *keys, const char *token, size_t len, int64_t now_s,
                   api_claims_t *out, const char **why)
{
    const api_claims_t *known = len <= JWT_CACHE_TOKEN_MAX ? cache_find(keys, token, len, now_s)
                                                           : NULL;
    if (known != NULL) {
        *out = *known;
        *why = "";
        return 0;
    }
    const api_jwt_key_t *key = NULL;
    int rc = verify(keys, token, len, now_s, out, why, &key);
    if (rc == 0 && len <= JWT_CACHE_TOKEN_MAX) {
        cached_t *c = cache_slot(token, len);
        memcpy(c->token, token, len);
        c->len = len;
        c->key = *key;
        c->claims = *out;
    }
    return rc;
}
