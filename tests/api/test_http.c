/*
 * The HTTP layer of foutad through real sockets: keep-alive, pipelining, chunked bodies,
 * Expect: 100-continue, content negotiation, and the limits: malformed requests, oversized
 * headers, slow clients, idle connections, too many connections.
 */
#include "tests/api/client.h"

static server_t server;

static void start(void)
{
    const char *extra[] = {"--header-bytes-max",
                           "2048",
                           "--header-timeout-ms",
                           "400",
                           "--idle-timeout-ms",
                           "600",
                           "--connections-max",
                           "8",
                           "--body-bytes-max",
                           "8192",
                           NULL};
    server_start_args(&server, extra);
}

static void stop(void)
{
    cr_assert_eq(server_stop(&server), 0, "foutad did not stop cleanly");
}

TestSuite(http, .init = start, .fini = stop, .timeout = 60);

Test(http, keep_alive_serves_several_requests_on_one_connection)
{
    client_t c;
    client_open(&c, server.port);
    for (int i = 0; i < 5; i++) {
        response_t r;
        client_request(&c, "GET", "/health/live", "", NULL, &r);
        cr_assert_eq(r.status, 200);
        cr_assert_str_eq(r.body, "{\"status\":\"live\"}");
        response_free(&r);
    }
    client_close(&c);
}

Test(http, pipelined_requests_are_answered_in_order)
{
    client_t c;
    client_open(&c, server.port);
    char event[1024], request[4096];
    event_goods(event, sizeof(event), 1, "Y1", "25000");
    const char *reader = AUTH("manager");
    int len = snprintf(request, sizeof(request),
                       "GET /api/v1/head HTTP/1.1\r\nHost: t\r\n%s\r\n"
                       "POST /api/v1/events HTTP/1.1\r\nHost: t\r\n%sContent-Length: %zu\r\n\r\n%s"
                       "GET /api/v1/head HTTP/1.1\r\nHost: t\r\n%s\r\n"
                       "GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n",
                       reader, ACTOR("store_raw"), strlen(event), event, reader);
    client_send(c.fd, request, (size_t)len);
    response_t r;
    client_read(&c, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(json_number(r.body, "seq"), 0);
    response_free(&r);
    client_read(&c, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    response_free(&r);
    client_read(&c, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(json_number(r.body, "seq"), 1, "the append was answered before this read");
    response_free(&r);
    client_read(&c, &r);
    cr_assert_eq(r.status, 404);
    response_free(&r);
    client_close(&c);
}

Test(http, a_chunked_body_is_accepted)
{
    client_t c;
    client_open(&c, server.port);
    char event[1024], request[4096];
    event_goods(event, sizeof(event), 1, "Y1", "25000");
    size_t half = strlen(event) / 2;
    int len =
        snprintf(request, sizeof(request),
                 "POST /api/v1/events HTTP/1.1\r\nHost: t\r\n%s"
                 "Transfer-Encoding: chunked\r\n\r\n%zx\r\n%.*s\r\n%zx\r\n%s\r\n0\r\n\r\n",
                 ACTOR("store_raw"), half, (int)half, event, strlen(event) - half, event + half);
    client_send(c.fd, request, (size_t)len);
    response_t r;
    client_read(&c, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    response_free(&r);
    client_close(&c);
}

Test(http, expect_100_continue_gets_an_interim_response_before_the_body)
{
    client_t c;
    client_open(&c, server.port);
    char event[1024], head[1024];
    event_goods(event, sizeof(event), 1, "Y1", "25000");
    snprintf(head, sizeof(head),
             "POST /api/v1/events HTTP/1.1\r\nHost: t\r\n%s"
             "Expect: 100-continue\r\nContent-Length: %zu\r\n\r\n",
             ACTOR("store_raw"), strlen(event));
    client_send_text(c.fd, head);
    response_t r;
    client_read(&c, &r);
    cr_assert_eq(r.status, 100);
    response_free(&r);
    client_send_text(c.fd, event);
    client_read(&c, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    response_free(&r);
    client_close(&c);
}

Test(http, expect_100_continue_with_a_body_over_the_limit_gets_413_at_once)
{
    client_t c;
    client_open(&c, server.port);
    char head[2048];
    snprintf(head, sizeof(head),
             "POST /api/v1/events HTTP/1.1\r\nHost: t\r\n%s"
             "Expect: 100-continue\r\nContent-Length: 100000\r\n\r\n",
             ACTOR("store_raw"));
    client_send_text(c.fd, head);
    response_t r;
    client_read(&c, &r);
    cr_assert_eq(r.status, 413);
    cr_assert_not_null(strstr(r.body, "\"code\":\"TOOBIG\""));
    response_free(&r);
    cr_assert(client_closed_by_server(&c));
    client_close(&c);
}

Test(http, malformed_http_answers_400_and_closes)
{
    client_t c;
    client_open(&c, server.port);
    client_send_text(c.fd, "GET / HTTP/1.1\r\nHost: t\r\nBad Header Line\r\n\r\n");
    response_t r;
    client_read(&c, &r);
    cr_assert_eq(r.status, 400);
    cr_assert_not_null(strstr(r.body, "\"code\":\"HTTP_MALFORMED\""));
    response_free(&r);
    cr_assert(client_closed_by_server(&c));
    client_close(&c);
}

Test(http, oversized_headers_answer_431)
{
    client_t c;
    client_open(&c, server.port);
    char request[8192];
    char filler[4000];
    memset(filler, 'a', sizeof(filler) - 1);
    filler[sizeof(filler) - 1] = '\0';
    snprintf(request, sizeof(request), "GET /health/live HTTP/1.1\r\nX-Big: %s\r\n\r\n", filler);
    client_send_text(c.fd, request);
    response_t r;
    client_read(&c, &r);
    cr_assert_eq(r.status, 431);
    cr_assert_not_null(strstr(r.body, "\"code\":\"HTTP_HEADERS_TOO_LARGE\""));
    response_free(&r);
    client_close(&c);
}

Test(http, a_slow_drip_client_gets_408_and_is_closed)
{
    client_t c;
    client_open(&c, server.port);
    const char *request = "GET /health/live HTTP/1.1\r\nHost: t\r\nX-Slow: 1\r\n\r\n";
    uint64_t start = fl_mono_ns();
    response_t r = {.status = -1};
    for (const char *p = request; *p != '\0'; p++) {
        if (send(c.fd, p, 1, MSG_NOSIGNAL) != 1)
            break;
        sleep_ms(50); /* one byte every 50 ms: the whole request would take 2.5 s */
        struct timeval none = {0};
        fd_set set;
        FD_ZERO(&set);
        FD_SET(c.fd, &set);
        if (select(c.fd + 1, &set, NULL, NULL, &none) == 1)
            break;
    }
    client_read(&c, &r);
    cr_assert_eq(r.status, 408, "%s", r.body != NULL ? r.body : "");
    cr_assert_lt(fl_mono_ns() - start, 2000000000ull, "the header timeout is 400 ms");
    response_free(&r);
    cr_assert(client_closed_by_server(&c));
    client_close(&c);
}

Test(http, an_idle_keep_alive_connection_is_closed)
{
    client_t c;
    client_open(&c, server.port);
    response_t r;
    client_request(&c, "GET", "/health/live", "", NULL, &r);
    cr_assert_eq(r.status, 200);
    response_free(&r);
    sleep_ms(900);
    cr_assert(client_closed_by_server(&c));
    client_close(&c);
}

Test(http, connections_beyond_the_limit_get_503)
{
    client_t c[9];
    for (int i = 0; i < 8; i++) {
        client_open(&c[i], server.port);
        response_t r;
        client_request(&c[i], "GET", "/health/live", "", NULL, &r);
        cr_assert_eq(r.status, 200);
        response_free(&r);
    }
    client_open(&c[8], server.port);
    response_t r;
    client_read(&c[8], &r);
    cr_assert_eq(r.status, 503);
    cr_assert_not_null(strstr(r.body, "\"code\":\"BUSY\""));
    response_free(&r);
    for (int i = 0; i < 9; i++)
        client_close(&c[i]);
}

Test(http, an_unknown_path_answers_404_and_a_wrong_method_405)
{
    client_t c;
    client_open(&c, server.port);
    response_t r;
    client_request(&c, "GET", "/api/v1/nothing", "", NULL, &r);
    cr_assert_eq(r.status, 404);
    cr_assert_not_null(strstr(r.body, "\"code\":\"NOENT\""));
    response_free(&r);
    client_request(&c, "DELETE", "/api/v1/events", "", NULL, &r);
    cr_assert_eq(r.status, 405);
    cr_assert_not_null(strstr(r.body, "\"code\":\"HTTP_METHOD\""));
    response_free(&r);
    client_close(&c);
}

Test(http, msgpack_is_accepted_and_returned_by_negotiation)
{
    client_t c;
    client_open(&c, server.port);
    /* {"id":..., "type":"GoodsReceived", "occurred_at_us":1764000000000000, "payload":{...}} */
    static const uint8_t head[] = {0x84, 0xa2, 'i', 'd', 0xd9, 36};
    const char *id = "0190b2a0-7c1d-7000-8000-000000000001";
    uint8_t body[512];
    size_t n = 0;
    memcpy(body, head, sizeof(head));
    n += sizeof(head);
    memcpy(body + n, id, 36);
    n += 36;
    const uint8_t rest[] = {0xa4, 't',  'y',  'p',  'e',  0xad, 'G',  'o',  'o',  'd',  's',  'R',
                            'e',  'c',  'e',  'i',  'v',  'e',  'd',  0xae, 'o',  'c',  'c',  'u',
                            'r',  'r',  'e',  'd',  '_',  'a',  't',  '_',  'u',  's',  0xcf, 0x00,
                            0x06, 0x44, 0x59, 0x41, 0x62, 0x40, 0x00, /* 1764000000000000 */
                            0xa7, 'p',  'a',  'y',  'l',  'o',  'a',  'd',  0x86, 0xa5, 'h',  'u',
                            '_',  'i',  'd',  0xa2, 'Y',  '1',  0xa7, 'i',  't',  'e',  'm',  '_',
                            'i',  'd',  0xa7, 'Y',  'A',  'R',  'N',  '-',  '3',  '0',  0xa9, 'q',
                            't',  'y',  '_',  'm',  'i',  'l',  'l',  'i',  0xcd, 0x61, 0xa8, 0xa4,
                            'u',  'n',  'i',  't',  0xa2, 'k',  'g',  0xab, 'l',  'o',  'c',  'a',
                            't',  'i',  'o',  'n',  '_',  'i',  'd',  0xa3, 'M',  'P',  '1',  0xa8,
                            's',  'u',  'p',  'p',  'l',  'i',  'e',  'r',  0xa1, 'S'};
    memcpy(body + n, rest, sizeof(rest));
    n += sizeof(rest);
    char head_text[2048];
    snprintf(head_text, sizeof(head_text),
             "POST /api/v1/events HTTP/1.1\r\nHost: t\r\nContent-Type: application/msgpack\r\n"
             "Accept: application/msgpack\r\n%sContent-Length: %zu\r\n\r\n",
             AUTH("store_raw"), n);
    client_send_text(c.fd, head_text);
    client_send(c.fd, body, n);
    response_t r;
    client_read(&c, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    char type[64];
    cr_assert_str_eq(response_header(&r, "Content-Type", type, sizeof(type)),
                     "application/msgpack");
    cr_assert_eq((uint8_t)r.body[0] & 0xf0, 0x80, "a msgpack map");
    bool found = false;
    for (size_t i = 0; i + 5 <= r.body_len && !found; i++)
        found = memcmp(r.body + i, "\xa3seq\x01", 5) == 0;
    cr_assert(found, "seq 1 in the msgpack answer");
    response_free(&r);
    /* Invalid msgpack is refused as a malformed body. */
    char msgpack_headers[2048];
    snprintf(msgpack_headers, sizeof(msgpack_headers), "Content-Type: application/msgpack\r\n%s",
             AUTH("store_raw"));
    client_request(&c, "POST", "/api/v1/events", msgpack_headers, "\xc1\xc1", &r);
    cr_assert_eq(r.status, 400);
    cr_assert_not_null(strstr(r.body, "\"code\":\"INVALID_JSON\""));
    response_free(&r);
    client_close(&c);
}
