/*
 * WebSocket subscriptions through foutad: catch-up from the log then live with no gap and no
 * duplicate at the switch, a subscriber that disconnects and resumes from its last sequence,
 * filters, and a subscriber that does not read, which must neither slow the writers nor lose
 * events (it drops back to catch-up).
 */
#include "tests/api/client.h"

static server_t server;
static client_t poster;
static unsigned next_id = 1;

static void setup(void)
{
    const char *extra[] = {"--ws-buffer-bytes-max", "8192", "--ws-heartbeat-ms", "200", NULL};
    server_start_args(&server, extra);
    client_open(&poster, server.port);
}

static void teardown(void)
{
    client_close(&poster);
    cr_assert_eq(server_stop(&server), 0, "foutad did not stop cleanly");
}

TestSuite(ws, .init = setup, .fini = teardown, .timeout = 60);

/* Posts count new units in one request. */
static void post_units(unsigned count)
{
    size_t size = count * 400 + 16;
    char *body = malloc(size);
    size_t len = 0;
    body[len++] = '[';
    for (unsigned i = 0; i < count; i++) {
        char event[1024], hu[24];
        unsigned id = next_id++;
        snprintf(hu, sizeof(hu), "W%u", id);
        event_goods(event, sizeof(event), id, hu, "1000");
        len += (size_t)snprintf(body + len, size - len, "%s%s", i > 0 ? "," : "", event);
    }
    body[len++] = ']';
    body[len] = '\0';
    response_t r;
    client_request(&poster, "POST", "/api/v1/events", ACTOR("store_raw"), body, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    response_free(&r);
    free(body);
}

static void ws_open(client_t *c, const char *query)
{
    client_open(c, server.port);
    char request[2560];
    snprintf(request, sizeof(request),
             "GET /api/v1/ws%s HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\n%s\r\n",
             query, AUTH("manager"));
    client_send_text(c->fd, request);
    response_t r;
    client_read(c, &r);
    cr_assert_eq(r.status, 101);
    char accept[64];
    cr_assert_str_eq(response_header(&r, "Sec-WebSocket-Accept", accept, sizeof(accept)),
                     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    response_free(&r);
}

/* Reads one frame (server frames are not masked): its opcode, payload into out. */
static int ws_frame(client_t *c, char *out, size_t size)
{
    while (c->len < 2)
        cr_assert(client_fill(c), "closed");
    uint8_t *b = (uint8_t *)c->buf;
    size_t len = b[1] & 0x7f, head = 2;
    if (len == 126) {
        while (c->len < 4)
            cr_assert(client_fill(c));
        len = (size_t)b[2] << 8 | b[3];
        head = 4;
    } else if (len == 127) {
        while (c->len < 10)
            cr_assert(client_fill(c));
        len = 0;
        for (int i = 2; i < 10; i++)
            len = len << 8 | b[i];
        head = 10;
    }
    while (c->len < head + len)
        cr_assert(client_fill(c), "closed inside a frame");
    int opcode = b[0] & 0x0f;
    cr_assert_lt(len, size);
    memcpy(out, c->buf + head, len);
    out[len] = '\0';
    memmove(c->buf, c->buf + head + len, c->len - head - len);
    c->len -= head + len;
    return opcode;
}

/* The sequence of the next event message, skipping pings and heartbeats. */
static unsigned long long ws_next_seq(client_t *c)
{
    static char payload[256 * 1024];
    for (;;) {
        int opcode = ws_frame(c, payload, sizeof(payload));
        if (opcode == 1 && strstr(payload, "\"kind\":\"event\"") != NULL)
            return json_number(payload, "seq");
        cr_assert(opcode == 1 || opcode == 9, "unexpected opcode %d", opcode);
    }
}

Test(ws, catch_up_then_live_has_no_gap_and_no_duplicate_and_a_resume_continues)
{
    post_units(5);
    client_t sub;
    ws_open(&sub, "?from_seq=1");
    for (unsigned long long seq = 1; seq <= 3; seq++)
        cr_assert_eq(ws_next_seq(&sub), seq);
    post_units(5); /* appended while the subscriber is still catching up */
    for (unsigned long long seq = 4; seq <= 10; seq++)
        cr_assert_eq(ws_next_seq(&sub), seq);
    post_units(2); /* live */
    cr_assert_eq(ws_next_seq(&sub), 11);
    cr_assert_eq(ws_next_seq(&sub), 12);
    client_close(&sub); /* disconnects; events go on */
    post_units(3);
    ws_open(&sub, "?from_seq=13");
    for (unsigned long long seq = 13; seq <= 15; seq++)
        cr_assert_eq(ws_next_seq(&sub), seq);
    post_units(1);
    cr_assert_eq(ws_next_seq(&sub), 16);
    client_close(&sub);
}

Test(ws, a_subscription_from_now_sees_only_later_events)
{
    post_units(3);
    client_t sub;
    ws_open(&sub, "");
    post_units(1);
    cr_assert_eq(ws_next_seq(&sub), 4);
    client_close(&sub);
}

Test(ws, filters_keep_only_the_named_types_and_entities)
{
    client_t by_type, by_entity;
    ws_open(&by_type, "?from_seq=1&types=StockTransferred");
    ws_open(&by_entity, "?from_seq=1&entities=hu-W2");
    post_units(3);
    char move[1024];
    event_move(move, sizeof(move), 500, "W1", "MP1", "MP2");
    response_t r;
    client_request(&poster, "POST", "/api/v1/events", ACTOR("store_raw"), move, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    response_free(&r);
    cr_assert_eq(ws_next_seq(&by_type), 4);
    cr_assert_eq(ws_next_seq(&by_entity), 2);
    client_close(&by_type);
    client_close(&by_entity);
}

Test(ws, a_subscriber_that_does_not_read_neither_slows_writers_nor_loses_events)
{
    client_t slow;
    ws_open(&slow, "?from_seq=1");
    int small = 4096;
    setsockopt(slow.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    uint64_t start = fl_mono_ns();
    for (int i = 0; i < 20; i++)
        post_units(50); /* 1,000 events, about 600 KB of messages: far past its buffer */
    cr_assert_lt(fl_mono_ns() - start, 30000000000ull);
    response_t r;
    client_request(&poster, "GET", "/metrics", "", NULL, &r);
    cr_assert_not_null(strstr(r.body, "fouta_ws_clients 1"));
    cr_assert_null(strstr(r.body, "fouta_ws_lagged_total 0\n"), "it fell behind: %s",
                   strstr(r.body, "fouta_ws_lagged_total"));
    response_free(&r);
    for (unsigned long long seq = 1; seq <= 1000; seq++)
        cr_assert_eq(ws_next_seq(&slow), seq);
    client_close(&slow);
}

/* The fan-out shares one encoded frame between subscribers and runs in slices between the
 * loop's other work: with many subscribers every one still gets every event once, in order,
 * and the posts keep being answered meanwhile. */
#define MANY_SUBSCRIBERS 200
#define MANY_EVENTS      60

Test(ws, two_hundred_subscribers_receive_every_event_in_order_while_posts_are_answered)
{
    static client_t subs[MANY_SUBSCRIBERS];
    post_units(1); /* seq 1: before the subscriptions, not sent */
    for (int i = 0; i < MANY_SUBSCRIBERS; i++)
        ws_open(&subs[i], "");
    for (int i = 0; i < MANY_EVENTS; i++)
        post_units(1 + (unsigned)(i % 3)); /* each answered 201 (post_units checks) */
    unsigned long long last = next_id - 1;
    for (int i = 0; i < MANY_SUBSCRIBERS; i++) {
        for (unsigned long long seq = 2; seq <= last; seq++)
            cr_assert_eq(ws_next_seq(&subs[i]), seq, "subscriber %d", i);
        client_close(&subs[i]);
    }
    response_t r;
    client_request(&poster, "GET", "/metrics", "", NULL, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "fouta_ws_clients"));
    response_free(&r);
}

Test(ws, a_subscriber_that_joins_while_events_flow_misses_none_from_its_start)
{
    client_t early, late;
    ws_open(&early, "?from_seq=1");
    for (int i = 0; i < 10; i++)
        post_units(5);
    ws_open(&late, "?from_seq=20"); /* behind the hub: catches up, then live */
    for (int i = 0; i < 10; i++)
        post_units(5);
    for (unsigned long long seq = 1; seq <= 100; seq++)
        cr_assert_eq(ws_next_seq(&early), seq);
    for (unsigned long long seq = 20; seq <= 100; seq++)
        cr_assert_eq(ws_next_seq(&late), seq);
    client_close(&early);
    client_close(&late);
}
