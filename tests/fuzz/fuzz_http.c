/*
 * Fuzz target: bytes from the network through foutad's whole request path - llhttp and its glue,
 * the headers kept, the router, the guard (token, tenant, roles, rate limits, CORS), the
 * handlers' parameter checks and bodies, WebSocket upgrades - against a real server running in
 * this process (so the fuzzer sees its coverage), on loopback. Each input is one connection:
 * its bytes, with every "@T@" replaced by a valid access token of the manager (so that inputs
 * get past the guard), then the end of the stream.
 *
 * Properties: the server never crashes (ASan, UBSan); it closes the connection within the
 * request timeouts once the client has said everything (no hang); and it keeps serving: after
 * each input, GET /health/live answers 200 on a new connection.
 */
#define _POSIX_C_SOURCE 200809L
#include "tests/fuzz/fuzz_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_port == 0)
        fuzz_start();
    if (size > FUZZ_REQUEST_BYTES_MAX / 2)
        return 0;
    /* The input, with "@T@" standing for the token. */
    static char request[FUZZ_REQUEST_BYTES_MAX];
    size_t len = 0, token_len = strlen(fuzz_token);
    for (size_t i = 0; i < size && len + token_len < sizeof(request);) {
        if (i + 3 <= size && memcmp(data + i, "@T@", 3) == 0) {
            memcpy(request + len, fuzz_token, token_len);
            len += token_len;
            i += 3;
        } else {
            request[len++] = (char)data[i++];
        }
    }
    static char answer[64 * 1024];
    if (fuzz_exchange(request, len, answer, sizeof(answer)) < 0)
        abort(); /* the server held a finished connection open: a hang */
    if (getenv("FL_FUZZ_HTTP_VERBOSE") != NULL) /* for writing seeds: each answer's status */
        for (const char *at = strstr(answer, "HTTP/1.1 "); at != NULL;
             at = strstr(at + 1, "HTTP/1.1 "))
            fprintf(stderr, "%.12s\n", at);
    fuzz_check_alive();
    return 0;
}
