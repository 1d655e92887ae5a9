/*
 * ws.c: WebSocket subscriptions (RFC 6455). wslay parses what clients send and answers their
 * control frames; the event and heartbeat messages the server sends are framed here.
 *
 * A subscriber has one number, next_seq: the next sequence it may be sent. Catch-up and live
 * are the same thing, reading the log from next_seq, so the switch has no gap and no
 * duplicate by construction: an event is sent only when its sequence equals next_seq, which
 * then moves past it. Live delivery is shared: when commits arrive, the hub reads the new
 * records once (a round, at most WS_ROUND_RECORDS_MAX records) and encodes each one's frame
 * once; server frames are not masked, so the bytes are the same for every subscriber and one
 * reference-counted frame is written to each subscriber whose next_seq is that record. A
 * subscriber that is behind (catching up, or lagging) reads the log on its own, at most
 * WS_PUMP_RECORDS_MAX records per turn of the loop.
 *
 * The loop thread also answers every HTTP request, so the fan-out never holds it long: the
 * server answers the appends of a wake before it wakes the hub, and a round visits subscribers
 * for at most WS_SLICE_NS per turn of the loop, then lets the loop poll (reads, new requests,
 * the writer's completions) and continues on the next turn from where it stopped. A subscriber
 * gets one write per round, of every frame of the round it takes.
 *
 * Each subscriber's queued bytes are bounded (ws_buffer_bytes_max), and its queued frames
 * (WS_QUEUE_FRAMES_MAX). A subscriber past a bound stops receiving and is marked lagging; the
 * writer and the other subscribers never wait for it. When its socket drains below half the
 * bound it reads the log again from its next_seq: it has dropped back to catch-up, and loses
 * nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <assert.h>
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
#define WS_ROUND_RECORDS_MAX 256     /* records one round of the hub reads and encodes */
#define WS_SLICE_NS          1000000 /* fan-out per turn of the loop before it polls again */
#define WS_SLICE_CHECK       16      /* subscribers visited between two looks at the clock */
#define WS_QUEUE_FRAMES_MAX  1024    /* frames waiting for one subscriber's socket */
#define WS_CONTROL_FRAMES    16      /* of those, kept for control frames (pong, close) */
#define WS_WRITE_FRAMES_MAX  64      /* frames in one write */
#define WS_FRAME_HEADER_MAX  10      /* an unmasked frame's header, 64-bit length */
#define WS_OPCODE_TEXT       0x1
#define WS_GUID              "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

_Static_assert(WS_CONTROL_FRAMES < WS_QUEUE_FRAMES_MAX, "room is left for data frames");

typedef struct {
    const char *values[WS_FILTER_VALUES_MAX];
    size_t lens[WS_FILTER_VALUES_MAX];
    uint32_t count;
    char text[WS_FILTER_TEXT_MAX];
} ws_list_t;

/*
 * Bytes the server sends, in one allocation, shared by the subscribers it is written to and
 * freed by the last reference. An event's frame keeps the record's sequence, type, stream and
 * entities (in the same allocation) for the filters.
 */
typedef struct {
    uint32_t refs;
    uint32_t len; /* of bytes */
    uint64_t seq; /* 0: not an event */
    eng_str_t type, stream;
    uint32_t entities_count;
    eng_str_t *entities;
    uint8_t *bytes;
} ws_frame_t;

/* One write to a subscriber's socket: the frames it holds a reference to until it ends. */
typedef struct {
    uv_write_t req;
    ws_frame_t *frames[WS_WRITE_FRAMES_MAX];
    uv_buf_t bufs[WS_WRITE_FRAMES_MAX];
    uint32_t count;
    size_t bytes;
} ws_write_t;

struct api_ws {
    api_conn_t *conn;
    wslay_event_context_ptr ctx;
    const uint8_t *in;
    size_t in_len;
    uint64_t next_seq;
    ws_list_t types, streams, entities;
    bool lagging;
    bool catching_up;                       /* behind the hub: reads the log on its own */
    bool writing;                           /* write is in flight */
    ws_frame_t *queue[WS_QUEUE_FRAMES_MAX]; /* a ring: frames not yet written */
    uint32_t queue_head;
    uint32_t queue_count;
    size_t queue_bytes;
    ws_write_t write;
    api_ws_t *prev, *next;
};

typedef struct {
    api_server_t *server;
    eng_ledger_t *ledger; /* the tenant's: a hub serves one tenant */
    api_tenant_t *tenant; /* whose keys decrypt personal data for its subscribers */
    api_ws_t *subscribers;
    uint32_t count;
    uint64_t hub_next; /* the next sequence the hub will read (the round's end while one runs) */
    uv_timer_t catchup;
    bool catchup_armed;
    uv_idle_t fanout; /* runs the round's next slice on the next turn of the loop */
    int handles_open;
    /* The round: frames of records [round_from, hub_next), and the next subscriber to visit.
     * Subscribers that join during a round are put before the cursor: they are either ahead of
     * the round (from now) or catching up from the log, which reads up to hub_next. */
    ws_frame_t *round[WS_ROUND_RECORDS_MAX];
    uint32_t round_count;
    bool round_active;
    api_ws_t *cursor;
    api_buf_t message;
} hub_t;

static hub_t *hub_of(const api_conn_t *conn)
{
    return conn->tenant->hub;
}

/* ---- frames ---- */

/* A frame of opcode around payload; for an event, record gives what the filters look at. */
static ws_frame_t *frame_new(int opcode, const void *payload, size_t len,
                             const eng_record_t *record)
{
    size_t strings = 0;
    uint32_t entities = 0;
    if (record != NULL) {
        entities = record->entities_count;
        strings = record->type.len + record->stream.len;
        for (uint32_t i = 0; i < entities; i++)
            strings += record->entities[i].len;
    }
    if (len > UINT32_MAX - WS_FRAME_HEADER_MAX)
        return NULL;
    size_t size =
        sizeof(ws_frame_t) + entities * sizeof(eng_str_t) + WS_FRAME_HEADER_MAX + len + strings;
    ws_frame_t *frame = malloc(size);
    if (frame == NULL)
        return NULL;
    memset(frame, 0, sizeof(*frame));
    frame->refs = 1;
    frame->entities = (eng_str_t *)(frame + 1);
    frame->bytes = (uint8_t *)(frame->entities + entities);
    uint8_t *b = frame->bytes;
    size_t head = 2;
    b[0] = (uint8_t)(0x80 | opcode); /* FIN, never fragmented */
    if (len < 126) {
        b[1] = (uint8_t)len;
    } else if (len <= UINT16_MAX) {
        b[1] = 126;
        b[2] = (uint8_t)(len >> 8);
        b[3] = (uint8_t)len;
        head = 4;
    } else {
        b[1] = 127;
        for (int i = 0; i < 8; i++)
            b[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
        head = 10;
    }
    if (len > 0)
        memcpy(b + head, payload, len);
    frame->len = (uint32_t)(head + len);
    if (record == NULL)
        return frame;
    char *text = (char *)b + WS_FRAME_HEADER_MAX + len;
    frame->seq = record->seq;
    const eng_str_t *from[2] = {&record->type, &record->stream};
    eng_str_t *to[2] = {&frame->type, &frame->stream};
    for (int i = 0; i < 2; i++) {
        memcpy(text, from[i]->ptr, from[i]->len);
        *to[i] = (eng_str_t){text, from[i]->len};
        text += from[i]->len;
    }
    for (uint32_t i = 0; i < entities; i++) {
        memcpy(text, record->entities[i].ptr, record->entities[i].len);
        frame->entities[i] = (eng_str_t){text, record->entities[i].len};
        text += record->entities[i].len;
    }
    frame->entities_count = entities;
    return frame;
}

/* Bytes already framed (wslay's control frames). */
static ws_frame_t *frame_raw(const void *bytes, size_t len)
{
    ws_frame_t *frame = malloc(sizeof(ws_frame_t) + len);
    if (frame == NULL)
        return NULL;
    memset(frame, 0, sizeof(*frame));
    frame->refs = 1;
    frame->bytes = (uint8_t *)(frame + 1);
    frame->entities = NULL;
    memcpy(frame->bytes, bytes, len);
    frame->len = (uint32_t)len;
    return frame;
}

static void frame_release(ws_frame_t *frame)
{
    if (frame == NULL)
        return;
    assert(frame->refs > 0);
    if (--frame->refs == 0)
        free(frame);
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

static bool matches(const api_ws_t *ws, eng_str_t type, eng_str_t stream, const eng_str_t *entities,
                    uint32_t entities_count)
{
    if (ws->types.count > 0 && !in_list(&ws->types, type))
        return false;
    if (ws->streams.count > 0 && !in_list(&ws->streams, stream))
        return false;
    if (ws->entities.count == 0)
        return true;
    for (uint32_t i = 0; i < entities_count; i++)
        if (in_list(&ws->entities, entities[i]))
            return true;
    return false;
}

static bool record_matches(const api_ws_t *ws, const eng_record_t *record)
{
    return matches(ws, record->type, record->stream, record->entities, record->entities_count);
}

static bool frame_matches(const api_ws_t *ws, const ws_frame_t *frame)
{
    return matches(ws, frame->type, frame->stream, frame->entities, frame->entities_count);
}

/* ---- a subscriber's output: a queue of frames, one write in flight ---- */

static size_t queued(const api_ws_t *ws)
{
    return ws->queue_bytes + (ws->writing ? ws->write.bytes : 0) +
           wslay_event_get_queued_msg_length(ws->ctx) + api_conn_queued(ws->conn);
}

/* No data frame may follow a close frame. */
static bool closing(const api_ws_t *ws)
{
    return ws->conn->close_after_write || ws->conn->closed_handles ||
           wslay_event_get_close_sent(ws->ctx) || wslay_event_get_close_received(ws->ctx);
}

/* Queues a reference to frame; false when the queue is full (control frames have a reserve). */
static bool enqueue(api_ws_t *ws, ws_frame_t *frame, bool control)
{
    uint32_t max = control ? WS_QUEUE_FRAMES_MAX : WS_QUEUE_FRAMES_MAX - WS_CONTROL_FRAMES;
    if (ws->queue_count >= max)
        return false;
    frame->refs++;
    ws->queue[(ws->queue_head + ws->queue_count) % WS_QUEUE_FRAMES_MAX] = frame;
    ws->queue_count++;
    ws->queue_bytes += frame->len;
    return true;
}

static void flush(api_ws_t *ws);

static void on_write(uv_write_t *req, int status)
{
    api_ws_t *ws = req->data;
    for (uint32_t i = 0; i < ws->write.count; i++)
        frame_release(ws->write.frames[i]);
    ws->write.count = 0;
    ws->write.bytes = 0;
    ws->writing = false;
    if (ws->conn->closed_handles)
        return;
    if (status < 0) {
        api_conn_close(ws->conn);
        return;
    }
    flush(ws);
    if (!ws->writing)
        api_ws_writable(ws->conn);
}

/* Writes what is queued, in one write of up to WS_WRITE_FRAMES_MAX frames. The connection's
 * own bytes (the 101 answer) go first: until they are handed to libuv, frames wait. */
static void flush(api_ws_t *ws)
{
    api_conn_t *conn = ws->conn;
    if (ws->writing || ws->queue_count == 0 || conn->closed_handles || conn->out.len > 0)
        return;
    ws_write_t *w = &ws->write;
    w->count = 0;
    w->bytes = 0;
    while (ws->queue_count > 0 && w->count < WS_WRITE_FRAMES_MAX) {
        ws_frame_t *frame = ws->queue[ws->queue_head];
        ws->queue_head = (ws->queue_head + 1) % WS_QUEUE_FRAMES_MAX;
        ws->queue_count--;
        ws->queue_bytes -= frame->len;
        w->frames[w->count] = frame;
        w->bufs[w->count] = uv_buf_init((char *)frame->bytes, frame->len);
        w->count++;
        w->bytes += frame->len;
    }
    w->req.data = ws;
    ws->writing = true;
    if (api_conn_uv_write(conn, &w->req, w->bufs, w->count, on_write) != 0) {
        ws->writing = false;
        for (uint32_t i = 0; i < w->count; i++)
            frame_release(w->frames[i]);
        w->count = 0;
        w->bytes = 0;
        api_conn_close(conn);
    }
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

/* wslay's frames (pongs, pings, close) join the subscriber's queue, in order. */
static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    (void)flags;
    api_ws_t *ws = user;
    ws_frame_t *frame = ws->conn->closed_handles ? NULL : frame_raw(data, len);
    if (frame == NULL || !enqueue(ws, frame, true)) {
        frame_release(frame);
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    frame_release(frame); /* the queue holds it */
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

/* Lets wslay write its control frames, writes the queue, and closes once the close handshake
 * is over and everything is written. */
static void send_now(api_ws_t *ws)
{
    if (wslay_event_want_write(ws->ctx))
        wslay_event_send(ws->ctx);
    flush(ws);
    if (!wslay_event_want_read(ws->ctx) && !wslay_event_want_write(ws->ctx)) {
        ws->conn->close_after_write = true;
        if (queued(ws) == 0)
            api_conn_close(ws->conn);
    }
}

/* Offers one event (its frame) to ws; false when ws can take no more now (it is then
 * lagging). */
static bool offer(api_ws_t *ws, ws_frame_t *frame)
{
    if (ws->next_seq != frame->seq)
        return true;
    api_server_t *server = ws->conn->server;
    if (frame_matches(ws, frame)) {
        if (queued(ws) > server->config.ws_buffer_bytes_max || !enqueue(ws, frame, false)) {
            ws->lagging = true;
            server->metrics.ws_lagged++;
            return false;
        }
        server->metrics.ws_events_sent++;
    }
    ws->next_seq = frame->seq + 1;
    return true;
}

/* The event message of record, framed; NULL when it cannot be built. */
static ws_frame_t *event_frame(hub_t *hub, const eng_record_t *record)
{
    api_buf_t *message = &hub->message;
    api_buf_reset(message);
    api_buf_str(message, "{\"kind\":\"event\",\"event\":");
    /* Live streams carry no personal data: one frame serves every subscriber, whatever its role. */
    if (api_record_json(message, record, hub->tenant, false) != 0)
        return NULL;
    api_buf_str(message, "}");
    if (message->oom)
        return NULL;
    return frame_new(WS_OPCODE_TEXT, message->data, message->len, record);
}

static void arm_catchup(hub_t *hub);

/* Reads the log from ws->next_seq for a subscriber that is behind the hub. */
static void pump(hub_t *hub, api_ws_t *ws)
{
    if (ws->lagging || closing(ws))
        return;
    eng_iter_t *iter = NULL;
    if (eng_iter_log(hub->ledger, ws->next_seq, ENG_FORWARD, &iter) != 0)
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
        if (record.seq != ws->next_seq)
            continue;
        if (!record_matches(ws, &record)) {
            ws->next_seq = record.seq + 1;
            continue;
        }
        ws_frame_t *frame = event_frame(hub, &record);
        if (frame == NULL)
            break; /* out of memory: retried on the next turn */
        bool taken = offer(ws, frame);
        frame_release(frame);
        if (!taken)
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

/* ---- the hub's rounds ---- */

static void round_end(hub_t *hub)
{
    for (uint32_t i = 0; i < hub->round_count; i++)
        frame_release(hub->round[i]);
    hub->round_count = 0;
    hub->round_active = false;
    hub->cursor = NULL;
}

/* Reads the records committed since the last round and encodes each once. False when there
 * is nothing to send (no new record, or nobody to send it to). */
static bool round_start(hub_t *hub)
{
    assert(!hub->round_active);
    eng_head_t head;
    eng_head(hub->ledger, &head);
    if (head.seq < hub->hub_next)
        return false;
    if (hub->count == 0) {
        hub->hub_next = head.seq + 1; /* nobody listens: nothing to read */
        return false;
    }
    eng_iter_t *iter = NULL;
    if (eng_iter_log(hub->ledger, hub->hub_next, ENG_FORWARD, &iter) != 0)
        return false;
    eng_record_t record;
    while (hub->round_count < WS_ROUND_RECORDS_MAX && eng_iter_next(iter, &record) == 0 &&
           record.seq == hub->hub_next) {
        ws_frame_t *frame = event_frame(hub, &record);
        if (frame == NULL)
            break; /* out of memory: the round ends here, the next one retries */
        hub->round[hub->round_count++] = frame;
        hub->hub_next = record.seq + 1;
    }
    eng_iter_close(iter);
    if (hub->round_count == 0)
        return false;
    hub->round_active = true;
    hub->cursor = hub->subscribers;
    return true;
}

/* Gives a live subscriber the round's frames from its next_seq, in one write. */
static void visit(hub_t *hub, api_ws_t *ws)
{
    if (ws->lagging || ws->catching_up || closing(ws))
        return;
    for (uint32_t i = 0; i < hub->round_count; i++)
        if (!offer(ws, hub->round[i]))
            break;
    if (!ws->lagging && ws->next_seq < hub->hub_next) {
        ws->catching_up = true; /* it was behind the round: the log has the rest */
        arm_catchup(hub);
    }
    send_now(ws);
}

/* Visits subscribers for at most WS_SLICE_NS; true when the round is over. */
static bool round_slice(hub_t *hub)
{
    uint64_t deadline = uv_hrtime() + WS_SLICE_NS;
    uint32_t visited = 0;
    while (hub->cursor != NULL) {
        api_ws_t *ws = hub->cursor;
        hub->cursor = ws->next;
        visit(hub, ws);
        if (++visited % WS_SLICE_CHECK == 0 && uv_hrtime() >= deadline)
            break;
    }
    if (hub->cursor != NULL)
        return false;
    round_end(hub);
    return true;
}

static void on_fanout(uv_idle_t *idle);

/* Starts a round when none runs and runs a slice of it; keeps the idle handle on while work is
 * left, so that the loop polls between two slices and the next one runs on its next turn. */
static void fan_out(hub_t *hub)
{
    if (!hub->round_active)
        round_start(hub);
    if (hub->round_active)
        round_slice(hub);
    bool more = hub->round_active;
    if (!more && hub->count > 0) {
        eng_head_t head;
        eng_head(hub->ledger, &head);
        more = head.seq >= hub->hub_next;
    }
    if (more)
        uv_idle_start(&hub->fanout, on_fanout);
    else
        uv_idle_stop(&hub->fanout);
}

static void on_fanout(uv_idle_t *idle)
{
    fan_out(idle->data);
}

void api_ws_hub_wake(api_server_t *server)
{
    for (uint32_t i = 0; i < server->tenants_count; i++) {
        hub_t *hub = server->tenants[i]->hub;
        if (!hub->round_active) /* else the running round's end starts the next one */
            fan_out(hub);
    }
}

void api_ws_writable(api_conn_t *conn)
{
    api_ws_t *ws = conn->ws;
    if (ws == NULL)
        return;
    send_now(ws);
    if (conn->close_after_write) {
        if (queued(ws) == 0 && !conn->closed_handles)
            api_conn_close(conn);
        return;
    }
    if (ws->lagging && queued(ws) < conn->server->config.ws_buffer_bytes_max / 2) {
        ws->lagging = false; /* back to catch-up from the log, from its next_seq */
        ws->catching_up = true;
        pump(hub_of(conn), ws);
    }
}

static void heartbeat(hub_t *hub)
{
    eng_head_t head;
    eng_head(hub->ledger, &head);
    for (api_ws_t *ws = hub->subscribers, *next; ws != NULL; ws = next) {
        next = ws->next;
        struct wslay_event_msg ping = {WSLAY_PING, NULL, 0};
        wslay_event_queue_msg(ws->ctx, &ping);
        if (!ws->lagging && !closing(ws)) {
            api_buf_reset(&hub->message);
            api_buf_str(&hub->message, "{\"kind\":\"heartbeat\",\"head_seq\":");
            api_buf_u64(&hub->message, head.seq);
            api_buf_str(&hub->message, ",\"next_seq\":");
            api_buf_u64(&hub->message, ws->next_seq);
            api_buf_str(&hub->message, "}");
            ws_frame_t *frame = hub->message.oom ? NULL
                                                 : frame_new(WS_OPCODE_TEXT, hub->message.data,
                                                             hub->message.len, NULL);
            if (frame != NULL)
                enqueue(ws, frame, false); /* a full queue skips a heartbeat */
            frame_release(frame);
        }
        send_now(ws);
    }
}

void api_ws_heartbeat(api_server_t *server)
{
    for (uint32_t i = 0; i < server->tenants_count; i++)
        heartbeat(server->tenants[i]->hub);
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
    hub_t *hub = hub_of(conn);
    assert(!ws->writing); /* libuv ends a closed stream's writes before its close callback */
    if (hub->cursor == ws)
        hub->cursor = ws->next;
    while (ws->queue_count > 0) {
        frame_release(ws->queue[ws->queue_head]);
        ws->queue_head = (ws->queue_head + 1) % WS_QUEUE_FRAMES_MAX;
        ws->queue_count--;
    }
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
    if (queued(ws) == 0)
        api_conn_close(conn);
}

uint32_t api_ws_clients(api_server_t *server)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < server->tenants_count; i++)
        count += ((hub_t *)server->tenants[i]->hub)->count;
    return count;
}

uint64_t api_ws_lag_max(api_server_t *server)
{
    uint64_t lag = 0;
    for (uint32_t i = 0; i < server->tenants_count; i++) {
        hub_t *hub = server->tenants[i]->hub;
        eng_head_t head;
        eng_head(hub->ledger, &head);
        for (api_ws_t *ws = hub->subscribers; ws != NULL; ws = ws->next)
            if (head.seq + 1 > ws->next_seq && head.seq + 1 - ws->next_seq > lag)
                lag = head.seq + 1 - ws->next_seq;
    }
    return lag;
}

int api_ws_hub_init(api_server_t *server, api_tenant_t *tenant)
{
    hub_t *hub = calloc(1, sizeof(*hub));
    if (hub == NULL)
        return FL_ENOMEM;
    hub->server = server;
    hub->ledger = tenant->ledger;
    hub->tenant = tenant;
    eng_head_t head;
    eng_head(hub->ledger, &head);
    hub->hub_next = head.seq + 1;
    uv_timer_init(&server->loop, &hub->catchup);
    hub->catchup.data = hub;
    uv_idle_init(&server->loop, &hub->fanout);
    hub->fanout.data = hub;
    hub->handles_open = 2;
    tenant->hub = hub;
    return 0;
}

static void free_hub(uv_handle_t *handle)
{
    hub_t *hub = handle->data;
    if (--hub->handles_open > 0)
        return;
    round_end(hub);
    api_buf_free(&hub->message);
    free(hub);
}

void api_ws_hub_free(api_server_t *server)
{
    for (uint32_t i = 0; i < server->tenants_count; i++) {
        hub_t *hub = server->tenants[i]->hub;
        if (hub == NULL)
            continue;
        server->tenants[i]->hub = NULL;
        uv_close((uv_handle_t *)&hub->catchup, free_hub);
        uv_close((uv_handle_t *)&hub->fanout, free_hub);
    }
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
    eng_head(conn->tenant->ledger, &head);
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
    hub_t *hub = hub_of(conn);
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
