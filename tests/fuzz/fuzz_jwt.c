/*
 * Fuzz target: access tokens through foutad's verifier (api_jwt_verify), the first code an
 * attacker's bytes reach. Properties:
 *  - the input as a token: never a crash; when it verifies, it is HS256 under our key and each
 *    of its three segments is the one canonical base64url text of its bytes (no second spelling
 *    of a valid token);
 *  - claims made from the input: signed, they verify to the same claims; any one byte of the
 *    token changed, they do not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/sec_int.h"

#define NOW_S 1800000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const api_jwt_keys_t keys = {
    .keys = {{.kid = "k1",
              .key = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                      17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}}},
    .count = 1};

/* Each segment of a verified token re-encodes to itself. */
static void canonical(const char *token, size_t len)
{
    static uint8_t bytes[API_TOKEN_LEN_MAX];
    static char again[API_TOKEN_LEN_MAX * 2];
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && token[i] != '.')
            continue;
        long n = api_b64url_decode(token + start, i - start, bytes, sizeof(bytes));
        if (n < 0)
            abort();
        size_t m = api_b64url_encode(bytes, (size_t)n, again);
        if (m != i - start || memcmp(again, token + start, m) != 0)
            abort();
        start = i + 1;
    }
}

static void text_from(const uint8_t **data, size_t *size, char *out, size_t cap)
{
    size_t n = 0;
    while (*size > 0 && n + 1 < cap && **data != 0) {
        uint8_t c = **data;
        out[n++] = (char)('a' + c % 26);
        (*data)++;
        (*size)--;
    }
    if (*size > 0) {
        (*data)++;
        (*size)--;
    }
    if (n == 0)
        out[n++] = 'x';
    out[n] = '\0';
}

static bool same(const api_claims_t *a, const api_claims_t *b)
{
    return strcmp(a->tenant, b->tenant) == 0 && strcmp(a->user, b->user) == 0 &&
           strcmp(a->device, b->device) == 0 && a->role == b->role &&
           memcmp(a->family, b->family, sizeof(a->family)) == 0 && a->generation == b->generation &&
           a->expires_s == b->expires_s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    api_claims_t claims;
    const char *why;
    if (size <= API_TOKEN_LEN_MAX &&
        api_jwt_verify(&keys, (const char *)data, size, NOW_S, &claims, &why) == 0)
        canonical((const char *)data, size);

    /* Claims from the input, signed, verified, then tampered with. */
    api_claims_t made = {0}, back;
    const uint8_t *at = data;
    size_t left = size;
    text_from(&at, &left, made.tenant, sizeof(made.tenant));
    text_from(&at, &left, made.user, sizeof(made.user));
    made.role = (ev_role_t)(size % EV_ROLE_COUNT);
    for (size_t i = 0; i < sizeof(made.family) && i < left; i++)
        made.family[i] = at[i];
    made.generation = size;
    made.issued_s = NOW_S - 10;
    made.expires_s = NOW_S + 900;
    static char token[API_TOKEN_LEN_MAX];
    int len = api_jwt_sign(&keys, &made, token, sizeof(token));
    if (len <= 0)
        abort();
    if (api_jwt_verify(&keys, token, (size_t)len, NOW_S, &back, &why) != 0 || !same(&made, &back))
        abort();
    size_t flip = (size > 0 ? data[0] * 7u + size : 0) % (size_t)len;
    char before = token[flip];
    token[flip] = before == 'A' ? 'B' : 'A';
    if (api_jwt_verify(&keys, token, (size_t)len, NOW_S, &back, &why) == 0)
        abort();
    token[flip] = before;
    return 0;
}
