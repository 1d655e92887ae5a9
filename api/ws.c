/*
 * ws.c: WebSocket subscriptions (RFC 6455, framed by wslay).
 *
 * A subscriber has one number, next_seq: the next sequence it may be sent. Catch-up and live
 * are the same thing, reading the log from next_seq, so the switch has no gap and no
 * duplicate by construction: an event is sent only when its sequence equals next_seq, which
 * then moves past it. Live delivery is shared: when commits arrive, the hub reads the new
 * records once and offers each to every subscriber whose next_seq is that record. A
 * subscriber that is behind (catching up, or lagging) reads the log on its own, at most
 * WS_PUMP_RECORDS_MAX records per turn of the loop.
 *
 * Each subscriber's queued bytes are bounded (ws_buffer_bytes_max). A subscriber past the
 * bound stops receiving and is marked lagging; the writer and the other subscribers never wait
 * for it. When its socket drains below half the bound it reads the log again from its
 * next_seq: it has dropped back to catch-up, and loses nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wslay/wslay.h>

#define WS_FILTER_VALUES_MAX 16
#define WS_FILTER_TEXT_MAX   1024
#define WS_PUMP_RECORDS_MAX  1024
#define WS_RECV_MESSAGE_MAX  (64 * 1024)
#define WS_GUID              "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

typedef struct {
    const char *values[WS_FILTER_VALUES_MAX];
    size_t lens[WS_FILTER_VALUES_MAX];
    uint32_t count;
    char text[WS_FILTER_TEXT_MAX];
} ws_list_t;

struct api_ws {
    api_conn_t *conn;
    wslay_event_context_ptr ctx;
    const uint8_t *in;
    size_t in_len;
    uint64_t next_seq;
    ws_list_t types, streams, entities;
    bool lagging;
    bool catching_up; /* behind the hub: reads the log on its own */
    api_ws_t *prev, *next;
};

typedef struct {
    api_server_t *server;
    api_ws_t *subscribers;
    uint32_t count;
    uint64_t hub_next; /* the next sequence the hub will broadcast */
    uv_timer_t catchup;
    bool catchup_armed;
    api_buf_t message;
} hub_t;

static hub_t *hub_of(api_server_t *server)
{
    return server->hub;
}

/* ---- filters ---- */

static int parse_list(const char *text, ws_list_t *list)
{
    memset(list, 0, sizeof(*list));
    if (text == NULL)
        return 0;
    if (strlen(text) >= sizeof(list->text))
        return FL_ETOO_LONG;
    memcpy(list->text, text, strlen(text) + 1);
    for (const char *p = list->text; *p != '\0';) {
        size_t len = strcspn(p, ",");
        if (len > 0) {
            if (list->count == WS_FILTER_VALUES_MAX)
                return FL_ETOO_LONG;
            list->values[list->count] = p;
            list->lens[list->count++] = len;
        }
        p += len + (p[len] == ',' ? 1 : 0);
    }
    return 0;
}

static bool in_list(const ws_list_t *list, eng_str_t value)
{
    for (uint32_t i = 0; i < list->count; i++)
        if (list->lens[i] == value.len && memcmp(list->values[i], value.ptr, value.len) == 0)
            return true;
    return false;
}

static bool matches(const api_ws_t *ws, const eng_record_t *record)
{
    if (ws->types.count > 0 && !in_list(&ws->types, record->type))
        return false;
    if (ws->streams.count > 0 && !in_list(&ws->streams, record->stream))
        return false;
    if (ws->entities.count == 0)
        return true;
    for (uint32_t i = 0; i < record->entities_count; i++)
        if (in_list(&ws->entities, record->entities[i]))
            return true;
    return false;
}

/* ---- wslay callbacks ---- */

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *data)
{
    (void)flags;
    api_ws_t *ws = data;
    if (ws->in_len == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t take = len < ws->in_len ? len : ws->in_len;
    memcpy(buf, ws->in, take);
    ws->in += take;
    ws->in_len -= take;
    return (ssize_t)take;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    (void)flags;
    api_ws_t *ws = user;
    if (api_conn_queued(ws->conn) >= ws->conn->server->config.ws_buffer_bytes_max) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    api_conn_write(ws->conn, data, len);
    return (ssize_t)len;
}

static void on_message(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                       void *data)
{
    (void)ctx;
    (void)data;
    (void)arg; /* the protocol is server to client; pings and closes are wslay's */
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = on_recv,
    .send_callback = on_send,
    .on_msg_recv_callback = on_message,
};

/* ---- sending ---- */

static size_t queued(const api_ws_t *ws)
{
    return wslay_event_get_queued_msg_length(ws->ctx) + api_conn_queued(ws->conn);
}

static void send_now(api_ws_t *ws)
{
    if (wslay_event_want_write(ws->ctx))
        wslay_event_send(ws->ctx);
    if (!wslay_event_want_read(ws->ctx) && !wslay_event_want_write(ws->ctx)) {
        ws->conn->close_after_write = true;
        if (api_conn_queued(ws->conn) == 0)
            api_conn_close(ws->conn);
    }
}

static int queue_text(api_ws_t *ws, const api_buf_t *text)
{
    struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)text->data, text->len};
    return wslay_event_queue_msg(ws->ctx, &msg) == 0 ? 0 : FL_ENOMEM;
}

/* Offers one record to ws; false when ws can take no more now (it is then lagging). */
static bool offer(api_ws_t *ws, const eng_record_t *record, api_buf_t *message, bool *built)
{
    if (ws->next_seq != record->seq)
        return true;
    if (matches(ws, record)) {
        if (!*built) {
            api_buf_reset(message);
            api_buf_str(message, "{\"kind\":\"event\",\"event\":");
            if (api_record_json(message, record) != 0)
                return false;
            api_buf_str(message, "}");
            *built = true;
        }
        if (queue_text(ws, message) != 0)
            return false;
        ws->conn->server->metrics.ws_events_sent++;
    }
    ws->next_seq = record->seq + 1;
    if (queued(ws) > ws->conn->server->config.ws_buffer_bytes_max) {
        ws->lagging = true;
        ws->conn->server->metrics.ws_lagged++;
        return false;
    }
    return true;
}

static void arm_catchup(hub_t *hub);

/* Reads the log from ws->next_seq for a subscriber that is behind the hub. */
static void pump(hub_t *hub, api_ws_t *ws)
{
    if (ws->lagging || ws->conn->close_after_write)
        return;
    eng_iter_t *iter = NULL;
    if (eng_iter_log(hub->server->ledger, ws->next_seq, ENG_FORWARD, &iter) != 0)
        return;
    eng_record_t record;
    uint32_t read = 0;
    bool more = true;
    while (read < WS_PUMP_RECORDS_MAX && ws->next_seq < hub->hub_next) {
        if (eng_iter_next(iter, &record) != 0) {
            more = false;
            break;
        }
        read++;
        bool built = false;
        if (!offer(ws, &record, &hub->message, &built))
            break;
    }
    eng_iter_close(iter);
    ws->catching_up = more && ws->next_seq < hub->hub_next && !ws->lagging;
    if (ws->catching_up)
        arm_catchup(hub);
    send_now(ws);
}

static void on_catchup(uv_timer_t *timer)
{
    hub_t *hub = timer->data;
    hub->catchup_armed = false;
    for (api_ws_t *ws = hub->subscribers, *next; ws != NULL; ws = next) {
        next = ws->next;
        if (ws->catching_up)
            pump(hub, ws);
    }
}

static void arm_catchup(hub_t *hub)
{
    if (hub->catchup_armed)
        return;
    hub->catchup_armed = true;
    uv_timer_start(&hub->catchup, on_catchup, 0, 0);
}

void api_ws_hub_wake(api_server_t *server)
{
    hub_t *hub = hub_of(server);
    eng_head_t head;
    eng_head(server->ledger, &head);
    if (head.seq < hub->hub_next)
        return;
    uint64_t from = hub->hub_next;
    hub->hub_next = head.seq + 1;
    if (hub->count == 0)
        return;
    eng_iter_t *iter = NULL;
    if (eng_iter_log(server->ledger, from, ENG_FORWARD, &iter) != 0)
        return;
    eng_record_t record;
    while (eng_iter_next(iter, &record) == 0 && record.seq <= head.seq) {
        bool built = false;
        for (api_ws_t *ws = hub->subscribers; ws != NULL; ws = ws->next)
            if (!ws->lagging && !ws->catching_up)
                offer(ws, &record, &hub->message, &built);
    }
    eng_iter_close(iter);
    for (api_ws_t *ws = hub->subscribers, *next; ws != NULL; ws = next) {
        next = ws->next;
        if (!ws->lagging && !ws->catching_up && ws->next_seq < hub->hub_next) {
            ws->catching_up = true; /* it was behind the range just read */
            arm_catchup(hub);
        }
        send_now(ws);
    }
}

void api_ws_writable(api_conn_t *conn)
{
    api_ws_t *ws = conn->ws;
    if (ws == NULL)
        return;
    send_now(ws);
    if (ws->lagging && queued(ws) < conn->server->config.ws_buffer_bytes_max / 2) {
        ws->lagging = false; /* back to catch-up from the log, from its next_seq */
        ws->catching_up = true;
        pump(hub_of(conn->server), ws);
    }
}

void api_ws_heartbeat(api_server_t *server)
{
    hub_t *hub = hub_of(server);
    eng_head_t head;
    eng_head(server->ledger, &head);
    for (api_ws_t *ws = hub->subscribers, *next; ws != NULL; ws = next) {
        next = ws->next;
        struct wslay_event_msg ping = {WSLAY_PING, NULL, 0};
        wslay_event_queue_msg(ws->ctx, &ping);
        if (!ws->lagging) {
            api_buf_reset(&hub->message);
            api_buf_printf(&hub->message,
                           "{\"kind\":\"heartbeat\",\"head_seq\":%llu,\"next_seq\":%llu}",
                           (unsigned long long)head.seq, (unsigned long long)ws->next_seq);
            queue_text(ws, &hub->message);
        }
        send_now(ws);
    }
}

/* ---- lifetime ---- */

void api_ws_read(api_conn_t *conn, const char *bytes, size_t len)
{
    api_ws_t *ws = conn->ws;
    ws->in = (const uint8_t *)bytes;
    ws->in_len = len;
    if (wslay_event_recv(ws->ctx) != 0) {
        api_conn_close(conn);
        return;
    }
    ws->in_len = 0;
    send_now(ws);
}

void api_ws_free(api_conn_t *conn)
{
    api_ws_t *ws = conn->ws;
    if (ws == NULL)
        return;
    hub_t *hub = hub_of(conn->server);
    if (ws->prev != NULL)
        ws->prev->next = ws->next;
    else
        hub->subscribers = ws->next;
    if (ws->next != NULL)
        ws->next->prev = ws->prev;
    hub->count--;
    wslay_event_context_free(ws->ctx);
    free(ws);
    conn->ws = NULL;
}

void api_ws_shutdown(api_conn_t *conn)
{
    api_ws_t *ws = conn->ws;
    if (ws == NULL) {
        api_conn_close(conn);
        return;
    }
    static const char reason[] = "server stopping";
    wslay_event_queue_close(ws->ctx, 1001, (const uint8_t *)reason, sizeof(reason) - 1);
    ws->conn->close_after_write = true;
    send_now(ws);
    if (api_conn_queued(conn) == 0)
        api_conn_close(conn);
}

uint32_t api_ws_clients(api_server_t *server)
{
    return hub_of(server)->count;
}

uint64_t api_ws_lag_max(api_server_t *server)
{
    hub_t *hub = hub_of(server);
    eng_head_t head;
    eng_head(server->ledger, &head);
    uint64_t lag = 0;
    for (api_ws_t *ws = hub->subscribers; ws != NULL; ws = ws->next)
        if (head.seq + 1 > ws->next_seq && head.seq + 1 - ws->next_seq > lag)
            lag = head.seq + 1 - ws->next_seq;
    return lag;
}

int api_ws_hub_init(api_server_t *server)
{
    hub_t *hub = calloc(1, sizeof(*hub));
    if (hub == NULL)
        return FL_ENOMEM;
    hub->server = server;
    eng_head_t head;
    eng_head(server->ledger, &head);
    hub->hub_next = head.seq + 1;
    uv_timer_init(&server->loop, &hub->catchup);
    hub->catchup.data = hub;
    server->hub = hub;
    return 0;
}

static void free_hub(uv_handle_t *handle)
{
    hub_t *hub = handle->data;
    api_buf_free(&hub->message);
    free(hub);
}

void api_ws_hub_free(api_server_t *server)
{
    hub_t *hub = hub_of(server);
    if (hub == NULL)
        return;
    server->hub = NULL;
    uv_close((uv_handle_t *)&hub->catchup, free_hub);
    uv_run(&server->loop, UV_RUN_NOWAIT);
}

/* ---- the upgrade (GET /api/v1/ws) ---- */

static bool header_has(const char *value, const char *token)
{
    size_t len = strlen(token);
    for (const char *p = value; *p != '\0';) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t trimmed = n;
        while (trimmed > 0 && p[trimmed - 1] == ' ')
            trimmed--;
        if (trimmed == len && strncasecmp(p, token, len) == 0)
            return true;
        p += n;
    }
    return false;
}

static void accept_key(const char *key, char out[64])
{
    char text[128];
    snprintf(text, sizeof(text), "%s%s", key, WS_GUID);
    uint8_t digest[SHA_DIGEST_LENGTH];
    SHA1((const uint8_t *)text, strlen(text), digest);
    EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH);
}

/* The subscription's start and filters from the query. Non-zero: answered already. */
static int subscription(api_conn_t *conn, api_ws_t *ws)
{
    const char *from = api_query_get(&conn->req, "from_seq");
    eng_head_t head;
    eng_head(conn->server->ledger, &head);
    ws->next_seq = head.seq + 1;
    if (from != NULL && strcmp(from, "now") != 0) {
        uint64_t seq;
        if (api_query_u64(&conn->req, "from_seq", 0, &seq) != 0) {
            api_problem(conn, FL_EINVALID_VALUE, "query:from_seq", "a sequence or now", "");
            return FL_EINVALID_VALUE;
        }
        ws->next_seq = seq == 0 ? 1 : seq;
    }
    const char *names[] = {"types", "streams", "entities"};
    ws_list_t *lists[] = {&ws->types, &ws->streams, &ws->entities};
    for (int i = 0; i < 3; i++) {
        if (parse_list(api_query_get(&conn->req, names[i]), lists[i]) != 0) {
            char field[32];
            snprintf(field, sizeof(field), "query:%s", names[i]);
            api_problem(conn, FL_ETOO_LONG, field, "at most 16 values, 1 KiB", "");
            return FL_ETOO_LONG;
        }
    }
    return 0;
}

api_handled_t api_h_ws(api_conn_t *conn)
{
    api_request_t *req = &conn->req;
    if (strcasecmp(req->upgrade, "websocket") != 0 || !header_has(req->connection, "upgrade")) {
        api_problem_status(conn, 426, FL_EHTTP_MALFORMED, "header:Upgrade",
                           "this resource is a WebSocket: Upgrade: websocket", "");
        return API_DONE;
    }
    if (strcmp(req->ws_version, "13") != 0 || strlen(req->ws_key) < 16) {
        api_problem(conn, FL_EHTTP_MALFORMED, "header:Sec-WebSocket-Key",
                    "Sec-WebSocket-Version 13 and a key are required", "");
        return API_DONE;
    }
    api_ws_t *ws = calloc(1, sizeof(*ws));
    if (ws == NULL || wslay_event_context_server_init(&ws->ctx, &callbacks, ws) != 0) {
        free(ws);
        api_problem(conn, FL_ENOMEM, "", "", "");
        return API_DONE;
    }
    ws->conn = conn;
    if (subscription(conn, ws) != 0) {
        wslay_event_context_free(ws->ctx);
        free(ws);
        return API_DONE;
    }
    wslay_event_config_set_max_recv_msg_length(ws->ctx, WS_RECV_MESSAGE_MAX);
    char accept[64];
    accept_key(req->ws_key, accept);
    char response[256];
    int len =
        snprintf(response, sizeof(response),
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nX-Request-Id: %s\r\n\r\n",
                 accept, req->request_id);
    api_conn_write(conn, response, (size_t)len);
    api_request_done(conn, 101);
    conn->state = API_CONN_WEBSOCKET;
    conn->ws = ws;
    uv_timer_stop(&conn->timer);
    hub_t *hub = hub_of(conn->server);
    ws->next = hub->subscribers;
    if (hub->subscribers != NULL)
        hub->subscribers->prev = ws;
    hub->subscribers = ws;
    hub->count++;
    size_t left = conn->input.len - conn->input_pos;
    if (left > 0)
        api_ws_read(conn, conn->input.data + conn->input_pos, left);
    api_buf_reset(&conn->input);
    conn->input_pos = 0;
    if (!conn->reading && !conn->closed_handles) {
        conn->reading = true;
        uv_read_start((uv_stream_t *)&conn->tcp, conn->alloc, conn->on_read);
    }
    ws->catching_up = ws->next_seq < hub->hub_next;
    if (ws->catching_up)
        pump(hub, ws);
    return API_DONE;
}
