/*
 * Reading through foutad: pages with cursors, filters, streams, entity history, ETags for
 * polling, the plant's state (HU, stock, genealogy), health, metrics and the OpenAPI document.
 */
#include "tests/api/client.h"

static server_t server;
static client_t client;

/* Ten units received (Y1..Y10), then Y3 moved from MP1 to MP2: eleven events. */
static void setup(void)
{
    server_start(&server);
    client_open(&client, server.port);
    for (unsigned i = 1; i <= 10; i++) {
        char event[1024], hu[16];
        snprintf(hu, sizeof(hu), "Y%u", i);
        event_goods(event, sizeof(event), i, hu, "1000");
        response_t r;
        client_request(&client, "POST", "/api/v1/events", ACTOR("store_raw"), event, &r);
        cr_assert_eq(r.status, 201, "%s", r.body);
        response_free(&r);
    }
    char move[1024];
    event_move(move, sizeof(move), 11, "Y3", "MP1", "MP2");
    response_t r;
    client_request(&client, "POST", "/api/v1/events", ACTOR("store_raw"), move, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    response_free(&r);
}

static void teardown(void)
{
    client_close(&client);
    cr_assert_eq(server_stop(&server), 0, "foutad did not stop cleanly");
}

TestSuite(reads, .init = setup, .fini = teardown, .timeout = 60);

static unsigned count_of(const char *body, const char *needle)
{
    unsigned n = 0;
    for (const char *p = strstr(body, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void get(const char *path, response_t *r)
{
    client_request(&client, "GET", path, "", NULL, r);
}

Test(reads, events_are_paged_with_a_cursor_until_the_end_without_gap_or_repeat)
{
    char path[128] = "/api/v1/events?limit=4";
    unsigned long long expected = 1;
    for (int page = 0; page < 3; page++) {
        response_t r;
        get(path, &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        for (const char *p = strstr(r.body, "{\"seq\":"); p != NULL; p = strstr(p + 1, "{\"seq\":"))
            cr_assert_eq(strtoull(p + 7, NULL, 10), expected++);
        const char *cursor = strstr(r.body, "\"next_cursor\":\"");
        if (page < 2) {
            cr_assert_not_null(cursor, "page %d: %s", page, r.body);
            snprintf(path, sizeof(path), "/api/v1/events?limit=4&cursor=%llu",
                     strtoull(cursor + 15, NULL, 10));
        } else {
            cr_assert_null(cursor);
            cr_assert_not_null(strstr(r.body, "\"next_cursor\":null"));
        }
        response_free(&r);
    }
    cr_assert_eq(expected, 12);
}

Test(reads, events_filter_by_type_stream_entity_and_range)
{
    response_t r;
    get("/api/v1/events?type=StockTransferred", &r);
    cr_assert_eq(count_of(r.body, "\"seq\":"), 1, "%s", r.body);
    response_free(&r);
    get("/api/v1/events?stream=hu-Y3", &r);
    cr_assert_eq(count_of(r.body, "\"seq\":"), 2, "%s", r.body);
    response_free(&r);
    get("/api/v1/events?entity=loc-MP2", &r);
    cr_assert_eq(count_of(r.body, "\"seq\":"), 1, "%s", r.body);
    response_free(&r);
    get("/api/v1/events?from_seq=5&to_seq=7", &r);
    cr_assert_eq(count_of(r.body, "\"seq\":"), 3, "%s", r.body);
    response_free(&r);
    get("/api/v1/events?limit=0", &r);
    cr_assert_eq(r.status, 400);
    cr_assert_not_null(strstr(r.body, "\"field\":\"query:limit\""));
    response_free(&r);
}

Test(reads, a_stream_reads_from_a_version)
{
    response_t r;
    get("/api/v1/streams/hu-Y3?from_version=2", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(count_of(r.body, "\"seq\":"), 1, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"stream_version\":2"));
    response_free(&r);
}

Test(reads, an_entity_history_reads_both_ways)
{
    response_t r;
    get("/api/v1/entities/hu-Y3/history?direction=backward&limit=1", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"type\":\"StockTransferred\""));
    cr_assert_not_null(strstr(r.body, "\"next_cursor\":\""), "%s", r.body);
    response_free(&r);
    get("/api/v1/entities/actor:store_raw/history", &r); /* the token's user */
    cr_assert_eq(count_of(r.body, "\"seq\":"), 11, "%s", r.body);
    response_free(&r);
}

Test(reads, an_unchanged_ledger_answers_304_to_its_etag)
{
    response_t r;
    get("/api/v1/events?from_seq=11", &r);
    char etag[64];
    response_header(&r, "ETag", etag, sizeof(etag));
    cr_assert_str_eq(etag, "W/\"11\"");
    response_free(&r);
    char headers[128];
    snprintf(headers, sizeof(headers), "If-None-Match: %s\r\n", etag);
    client_request(&client, "GET", "/api/v1/events?from_seq=11", headers, NULL, &r);
    cr_assert_eq(r.status, 304);
    response_free(&r);
    char event[1024];
    event_goods(event, sizeof(event), 99, "Y99", "1000");
    client_request(&client, "POST", "/api/v1/events", ACTOR("store_raw"), event, &r);
    response_free(&r);
    client_request(&client, "GET", "/api/v1/events?from_seq=11", headers, NULL, &r);
    cr_assert_eq(r.status, 200, "an append changes the ETag");
    response_free(&r);
}

Test(reads, a_unit_and_stock_show_what_was_posted)
{
    response_t r;
    get("/api/v1/hus/Y3", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"location\":\"MP2\""), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"contents\":[]"));
    response_free(&r);
    get("/api/v1/hus/NOPE", &r);
    cr_assert_eq(r.status, 404);
    response_free(&r);
    get("/api/v1/stock?item=YARN-30&location=MP1", &r);
    cr_assert_eq(json_number(r.body, "qty_milli"), 9000, "%s", r.body);
    response_free(&r);
    get("/api/v1/hus/Y3/genealogy?direction=up", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"entity\":\"hu-Y3\""));
    response_free(&r);
    get("/api/v1/events/3", &r);
    cr_assert_not_null(strstr(r.body, "\"hu_id\":\"Y3\""), "%s", r.body);
    response_free(&r);
}

Test(reads, health_metrics_and_openapi_answer)
{
    response_t r;
    get("/health/ready", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    response_free(&r);
    get("/metrics", &r);
    cr_assert_not_null(strstr(r.body, "fouta_http_requests_total{route=\"postEvents\","
                                      "status=\"201\"} 11"),
                       "%s", r.body);
    cr_assert_not_null(strstr(r.body, "fouta_ledger_events_appended_total 11"));
    cr_assert_not_null(strstr(r.body, "fouta_ws_clients 0"));
    response_free(&r);
    get("/api/v1/openapi.json", &r);
    cr_assert_not_null(strstr(r.body, "\"openapi\":\"3.1.0\""));
    cr_assert_not_null(strstr(r.body, "\"ProductionDeclaredPayload\""));
    cr_assert_not_null(strstr(r.body, "\"/api/v1/streams/{stream}\""));
    response_free(&r);
}

Test(reads, ready_reports_an_unreachable_postgres_as_not_ready)
{
    server_t other = {0};
    const char *extra[] = {"--postgres-url", "postgresql://u@127.0.0.1:1/db", NULL};
    server_start_args(&other, extra);
    client_t c;
    client_open(&c, other.port);
    response_t r;
    client_request(&c, "GET", "/health/ready", "", NULL, &r);
    cr_assert_eq(r.status, 503, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"postgres\":\"down\""));
    response_free(&r);
    client_close(&c);
    cr_assert_eq(server_stop(&other), 0);
}
