/*
 * ws.c: the live stream. fc_tail upgrades a connection of its own to WebSocket (RFC 6455,
 * checked by its accept key), lets wslay frame the messages, and hands each event to the
 * caller once, in sequence order. When the connection is lost (foutad restarting, a network
 * fault) it connects again from the sequence after the last event delivered: the server's
 * catch-up and live delivery are one operation, so nothing is missed or repeated.
 */
#define _POSIX_C_SOURCE 200809L
#include "clients/client/client_int.h"

#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#define WS_GUID    "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_POLL_MS 100

typedef struct {
    fc_client_t *client;
    int fd;
    const char *left; /* bytes read with the upgrade's answer, before the first frame */
    size_t left_len;
    fc_tail_cb cb;
    void *data;
    uint64_t next_seq;
    uint64_t mask_state;
    uint64_t last_event_ms;
    bool stop, lost, delivered;
} session_t;

static uint64_t now_ms(void)
{
    return fl_mono_ns() / 1000000u;
}

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    (void)flags;
    session_t *s = user;
    if (s->left_len > 0) {
        size_t n = s->left_len < len ? s->left_len : len;
        memcpy(buf, s->left, n);
        s->left += n;
        s->left_len -= n;
        return (ssize_t)n;
    }
    ssize_t n = fc__recv(s->client, buf, len);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (n <= 0) {
        s->lost = true;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return n;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    (void)flags;
    session_t *s = user;
    ssize_t n = fc__send(s->client, data, len);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (n < 0) {
        s->lost = true;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return n;
}

/* Masks of client frames: they only need to be unpredictable to a proxy, not secret. */
static int ws_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    (void)ctx;
    session_t *s = user;
    for (size_t i = 0; i < len; i++) {
        s->mask_state = s->mask_state * 6364136223846793005ull + 1442695040888963407ull;
        buf[i] = (uint8_t)(s->mask_state >> 56);
    }
    return 0;
}

static void ws_message(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                       void *user)
{
    (void)ctx;
    session_t *s = user;
    if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        s->lost = true;
        return;
    }
    if (arg->opcode != WSLAY_TEXT_FRAME || s->stop)
        return;
    json_t *root = json_loadb((const char *)arg->msg, arg->msg_length, 0, NULL);
    const char *kind = json_string_value(json_object_get(root, "kind"));
    json_t *event = json_object_get(root, "event");
    if (kind != NULL && strcmp(kind, "event") == 0 && json_is_object(event)) {
        uint64_t seq = (uint64_t)json_integer_value(json_object_get(event, "seq"));
        if (seq >= s->next_seq) { /* never one twice, even across a resume */
            char *text = json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER);
            s->next_seq = seq + 1;
            s->delivered = true;
            s->last_event_ms = now_ms();
            if (text == NULL || s->cb(seq, text, strlen(text), s->data) != 0)
                s->stop = true;
            free(text);
        }
    }
    json_decref(root);
}

/* The accept key the server must answer for our key. */
static void accept_key(const char *key, char out[64])
{
    char joined[128];
    unsigned char digest[SHA_DIGEST_LENGTH];
    snprintf(joined, sizeof(joined), "%s%s", key, WS_GUID);
    SHA1((const unsigned char *)joined, strlen(joined), digest);
    EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH);
}

/* Connects, upgrades from next_seq, and leaves the answer's extra bytes in client->in. */
static int upgrade(fc_client_t *client, const fc_tail_config_t *config, uint64_t next_seq,
                   size_t *head_len)
{
    uint8_t nonce[16];
    char key[32], expected[64], answer[64], request[2048], auth[512], query[1024] = "";
    char from[32];
    int rc = fl_uuid7(nonce);
    if (rc != 0)
        return rc;
    EVP_EncodeBlock((unsigned char *)key, nonce, sizeof(nonce));
    accept_key(key, expected);
    snprintf(from, sizeof(from), "%llu", (unsigned long long)next_seq);
    if ((rc = fc_query_add(query, sizeof(query), "from_seq", from)) != 0 ||
        (config->types != NULL &&
         (rc = fc_query_add(query, sizeof(query), "types", config->types)) != 0) ||
        (config->streams != NULL &&
         (rc = fc_query_add(query, sizeof(query), "streams", config->streams)) != 0))
        return rc;
    int auth_len = fc_auth_headers(client, auth, sizeof(auth));
    if (auth_len < 0)
        return auth_len;
    int len = snprintf(request, sizeof(request),
                       "GET %s/api/v1/ws?%s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                       "Sec-WebSocket-Version: 13\r\n%s\r\n",
                       client->prefix, query, client->host, client->port, key, auth);
    if (len < 0 || (size_t)len >= sizeof(request))
        return FL_ETOOBIG;
    if ((rc = fc__connect(client)) != 0 || (rc = fc__send_all(client, request, (size_t)len)) != 0 ||
        (rc = fc__fill(client, 0)) != 0)
        return rc;
    const char *end = strstr(client->in, "\r\n\r\n");
    *head_len = (size_t)(end - client->in) + 4;
    int status = 0;
    if (sscanf(client->in, "HTTP/1.1 %d", &status) != 1 || status != 101)
        return status == 503   ? FL_EBUSY
               : status == 401 ? FL_EUNAUTHORIZED
               : status == 403 ? FL_EFORBIDDEN
                               : FL_EINVAL;
    const char *at = strstr(client->in, "Sec-WebSocket-Accept:");
    if (at == NULL || at > end || sscanf(at + 21, " %63s", answer) != 1 ||
        strcmp(answer, expected) != 0)
        return FL_EINVAL;
    return 0;
}

/* One connection's worth of the stream. Returns 0 when stopped (by cb or idleness), else why
 * the connection was lost. */
static int session(fc_client_t *client, const fc_tail_config_t *config, session_t *s)
{
    size_t head_len;
    int rc = upgrade(client, config, s->next_seq, &head_len);
    if (rc != 0)
        return rc;
    s->client = client;
    s->fd = client->fd;
    s->left = client->in + head_len;
    s->left_len = client->in_len - head_len;
    s->lost = false;
    fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
    struct wslay_event_callbacks callbacks = {ws_recv, ws_send, ws_genmask, NULL,
                                              NULL,    NULL,    ws_message};
    wslay_event_context_ptr ctx;
    if (wslay_event_context_client_init(&ctx, &callbacks, s) != 0)
        return FL_ENOMEM;
    wslay_event_config_set_max_recv_msg_length(ctx, FC_WS_MESSAGE_BYTES_MAX);
    s->last_event_ms = now_ms();
    while (!s->stop && !s->lost) {
        if (config->idle_ms != 0 && now_ms() - s->last_event_ms >= config->idle_ms) {
            s->stop = true;
            break;
        }
        struct pollfd poller = {.fd = s->fd, .events = POLLIN};
        if (wslay_event_want_write(ctx))
            poller.events |= POLLOUT;
        if (fc__pending(client))
            poller.revents = POLLIN; /* TLS already holds bytes: poll(2) would not see them */
        else if (s->left_len == 0 && poll(&poller, 1, WS_POLL_MS) <= 0)
            continue;
        if ((s->left_len > 0 || (poller.revents & (POLLIN | POLLHUP | POLLERR))) &&
            wslay_event_recv(ctx) != 0)
            s->lost = true;
        if ((poller.revents & POLLOUT) && wslay_event_send(ctx) != 0)
            s->lost = true;
        if (!wslay_event_want_read(ctx))
            s->lost = true;
    }
    wslay_event_context_free(ctx);
    fc__disconnect(client); /* the socket was a WebSocket now: never reused for HTTP */
    return s->stop ? 0 : FL_EIO;
}

/* The sequence after the head: where "from now" starts, fixed once so a resume loses nothing. */
static int head_next(fc_client_t *client, uint64_t *next)
{
    fc_response_t response;
    int rc = fc_get(client, "/api/v1/head", &response, NULL);
    if (rc == 0) {
        json_t *root = json_loadb(response.body, response.body_len, 0, NULL);
        json_t *seq = json_object_get(root, "seq");
        if (!json_is_integer(seq))
            rc = FL_EIO;
        else
            *next = (uint64_t)json_integer_value(seq) + 1;
        json_decref(root);
    }
    fc_response_free(&response);
    return rc;
}

int fc_tail(fc_client_t *client, const fc_tail_config_t *config, fc_tail_cb cb, void *data,
            uint64_t *next_seq_out)
{
    session_t s = {
        .fd = -1, .cb = cb, .data = data, .next_seq = config->from_seq, .mask_state = fl_mono_ns()};
    int rc = 0;
    if (s.next_seq == 0 && (rc = head_next(client, &s.next_seq)) != 0)
        goto done;
    fc__disconnect(client);
    for (uint32_t failures = 0, renewals = 0;;) {
        s.delivered = false;
        rc = session(client, config, &s);
        /* A token that expired while the tail ran (15 minutes): signed in again, once a row. */
        if (rc == FL_EUNAUTHORIZED && renewals == 0 && fc__auth_renew(client)) {
            renewals++;
            continue;
        }
        if (rc != FL_EUNAUTHORIZED)
            renewals = 0;
        if (rc == 0 || rc == FL_EINVAL || rc == FL_ENOMEM || rc == FL_ETOOBIG ||
            rc == FL_ETLS_UNTRUSTED || rc == FL_EUNAUTHORIZED || rc == FL_EFORBIDDEN)
            break;
        failures = s.delivered ? 1 : failures + 1;
        if (failures > client->retries_max)
            break;
        client->retries++;
        fc__backoff(failures);
    }
done:
    if (next_seq_out != NULL)
        *next_seq_out = s.next_seq;
    return rc;
}
