/*
 * Fuzz target: a WebSocket subscription's parameters and its client's frames, against a real
 * foutad in this process (fuzz_server.h) whose tenant holds a few events to stream. Each input is
 * one connection, made of:
 *   - the subscription: the input's bytes up to the first '\n' (at most 512) become the query of
 *     GET /api/v1/ws?..., percent-encoded where a request line could not carry them, so that
 *     every byte reaches the query's decoding (from_seq, types, streams, entities);
 *   - then frames, each built from a header byte sent as is (FIN, the reserved bits, any
 *     opcode), a length byte - 0 to 253 that many payload bytes, 254 a 64-bit length taken from
 *     the next four bytes (declared, even when the input holds fewer), 255 a 16-bit length from
 *     the next two - and the payload that follows, masked with a fixed key as a client must.
 * The upgrade itself is always valid, with the manager's token: the frames are what is fuzzed.
 *
 * Properties: no crash (ASan, UBSan); the server closes the connection once the client has said
 * everything (no hang); GET /health/live still answers 200 afterwards.
 */
#define _GNU_SOURCE /* memmem */
#include "tests/fuzz/fuzz_server.h"

#define FUZZ_QUERY_BYTES_MAX 512

static const uint8_t mask_key[4] = {0x37, 0xfa, 0x21, 0x3d};

/* The tenant's first events, so that a subscription has something to send. */
static void seed_events(void)
{
    char body[2048], request[sizeof(body) + sizeof(fuzz_token) + 256];
    size_t len = (size_t)snprintf(body, sizeof(body), "[");
    for (int i = 1; i <= 3; i++)
        len += (size_t)snprintf(
            body + len, sizeof(body) - len,
            "%s{\"id\":\"0190b2a0-7c1d-7000-8000-%012d\",\"type\":\"GoodsReceived\","
            "\"occurred_at_us\":1764000000000000,\"payload\":{\"hu_id\":\"W%d\","
            "\"item_id\":\"YARN-30\",\"qty_milli\":1000,\"unit\":\"kg\",\"location_id\":\"MP1\","
            "\"supplier\":\"Filature du Sahel\"}}",
            i > 1 ? "," : "", i, i);
    snprintf(body + len, sizeof(body) - len, "]");
    snprintf(request, sizeof(request),
             "POST /api/v1/events HTTP/1.1\r\nHost: f\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: application/json\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
             fuzz_token, strlen(body), body);
    char answer[8192];
    if (fuzz_exchange(request, strlen(request), answer, sizeof(answer)) <= 0 ||
        strncmp(answer, "HTTP/1.1 201", 12) != 0)
        abort();
}

/* Appends the upgrade request with the input's query; returns the input bytes it used. */
static size_t put_upgrade(const uint8_t *data, size_t size, char *out, size_t *len)
{
    size_t used = 0;
    *len += (size_t)sprintf(out + *len, "GET /api/v1/ws?");
    for (; used < size && used < FUZZ_QUERY_BYTES_MAX && data[used] != '\n'; used++) {
        uint8_t c = data[used];
        if (c > 0x20 && c < 0x7f && c != '#')
            out[(*len)++] = (char)c;
        else
            *len += (size_t)sprintf(out + *len, "%%%02X", c);
    }
    if (used < size && data[used] == '\n')
        used++;
    *len += (size_t)sprintf(out + *len,
                            " HTTP/1.1\r\nHost: f\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n",
                            fuzz_token);
    return used;
}

/* Appends the frames the rest of the input describes (header comment), within size_max. */
static void put_frames(const uint8_t *data, size_t size, char *out, size_t *len, size_t size_max)
{
    for (size_t i = 0; i + 2 <= size && *len + 14 + 4 < size_max;) {
        uint8_t head = data[i++], code = data[i++];
        uint64_t declared = code;
        uint8_t *frame = (uint8_t *)out + *len;
        size_t at = 0;
        frame[at++] = head;
        if (code == 255 && i + 2 <= size) {
            declared = (uint64_t)data[i] << 8 | data[i + 1];
            i += 2;
            frame[at++] = 0x80 | 126;
            frame[at++] = (uint8_t)(declared >> 8);
            frame[at++] = (uint8_t)declared;
        } else if (code == 254 && i + 4 <= size) {
            declared = (uint64_t)data[i] << 24 | (uint64_t)data[i + 1] << 16 |
                       (uint64_t)data[i + 2] << 8 | data[i + 3];
            i += 4;
            frame[at++] = 0x80 | 127;
            for (int shift = 56; shift >= 0; shift -= 8)
                frame[at++] = (uint8_t)(declared >> shift);
        } else {
            if (code >= 254)
                declared = 0;
            frame[at++] = (uint8_t)(0x80 | declared);
        }
        memcpy(frame + at, mask_key, 4);
        at += 4;
        size_t payload = size - i < declared ? size - i : (size_t)declared;
        if (payload > size_max - *len - at)
            payload = size_max - *len - at;
        for (size_t k = 0; k < payload; k++)
            frame[at + k] = data[i + k] ^ mask_key[k % 4];
        i += payload;
        *len += at + payload;
    }
}

static void send_all(int fd, const char *bytes, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = send(fd, bytes + done, len - done, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the server may close early: fine */
        done += (size_t)n;
    }
}

/* Sends the upgrade and reads its answer's head (so that the subscription is live and streaming
 * when the frames arrive), then the frames, says the end and reads until the server closes:
 * the bytes read (out, cut at size), or -1 when the server did not close in time. */
static long exchange_ws(const char *upgrade, size_t upgrade_len, const char *frames,
                        size_t frames_len, char *out, size_t size)
{
    int fd = fuzz_connect();
    send_all(fd, upgrade, upgrade_len);
    size_t got = 0;
    long result = 0;
    bool head = false;
    for (;;) {
        if (head || got + 1 >= size) {
            head = true;
            break;
        }
        ssize_t n = recv(fd, out + got, size - 1 - got, 0);
        if (n <= 0) {
            result = n < 0 && fuzz_timed_out() ? -1 : 0;
            break; /* refused and closed, or no answer in time */
        }
        got += (size_t)n;
        out[got] = '\0';
        head = strstr(out, "\r\n\r\n") != NULL;
    }
    if (head) {
        send_all(fd, frames, frames_len);
        shutdown(fd, SHUT_WR);
        for (;;) {
            char buf[4096];
            ssize_t n = recv(fd, buf, sizeof(buf), 0);
            if (n <= 0) {
                result = n < 0 && fuzz_timed_out() ? -1 : 0;
                break;
            }
            size_t keep = got + (size_t)n < size - 1 ? (size_t)n : size - 1 - got;
            memcpy(out + got, buf, keep);
            got += keep;
        }
    }
    close(fd);
    out[got] = '\0';
    return result < 0 ? -1 : (long)got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_port == 0) {
        fuzz_start();
        seed_events();
    }
    if (size > FUZZ_REQUEST_BYTES_MAX / 4)
        return 0;
    static char upgrade[4 * FUZZ_QUERY_BYTES_MAX + sizeof(fuzz_token)],
        frames[FUZZ_REQUEST_BYTES_MAX];
    size_t upgrade_len = 0, frames_len = 0;
    size_t used = put_upgrade(data, size, upgrade, &upgrade_len);
    put_frames(data + used, size - used, frames, &frames_len, sizeof(frames));
    static char answer[64 * 1024];
    long got = exchange_ws(upgrade, upgrade_len, frames, frames_len, answer, sizeof(answer));
    if (got < 0)
        abort(); /* the server held a finished connection open: a hang */
    if (getenv("FL_FUZZ_WS_VERBOSE") != NULL) /* for writing seeds: the answer's status, size */
        fprintf(stderr, "%.12s, %ld bytes, %s\n", answer, got < 0 ? 0 : got,
                memmem(answer, (size_t)got, "\"kind\":\"event\"", 14) != NULL ? "events"
                                                                              : "no event");
    fuzz_check_alive();
    return 0;
}
