/*
 * Photos through foutad: a PNG is stored once under its SHA-256, served back with caching
 * headers, and then an event may reference it; other bytes and oversized photos are refused.
 */
#include "tests/api/client.h"

static server_t server;
static client_t client;

static void setup(void)
{
    const char *extra[] = {"--blob-bytes-max", "4096", NULL};
    server_start_args(&server, extra);
    client_open(&client, server.port);
}

static void teardown(void)
{
    client_close(&client);
    cr_assert_eq(server_stop(&server), 0, "foutad did not stop cleanly");
}

TestSuite(blobs, .init = setup, .fini = teardown, .timeout = 60);

static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                              'I',  'H', 'D', 'R', 0,    0,    0,    1,    0, 0, 0, 1};

static void post_blob(const void *bytes, size_t len, response_t *r)
{
    char head[2048];
    snprintf(head, sizeof(head),
             "POST /api/v1/blobs HTTP/1.1\r\nHost: t\r\nContent-Type: image/png\r\n"
             "%sContent-Length: %zu\r\n\r\n",
             AUTH("quality"), len);
    client_send_text(client.fd, head);
    client_send(client.fd, bytes, len);
    client_read(&client, r);
}

Test(blobs, a_png_is_stored_once_and_served_back_and_events_may_reference_it)
{
    response_t r;
    post_blob(png, sizeof(png), &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    const char *at = strstr(r.body, "\"sha256\":\"");
    cr_assert_not_null(at);
    char hash[65];
    snprintf(hash, sizeof(hash), "%.64s", at + 10);
    response_free(&r);
    post_blob(png, sizeof(png), &r);
    cr_assert_eq(r.status, 200, "the same bytes are stored once");
    response_free(&r);

    char path[128];
    snprintf(path, sizeof(path), "/api/v1/blobs/%s", hash);
    client_request(&client, "GET", path, "", NULL, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body_len, sizeof(png));
    cr_assert_eq(memcmp(r.body, png, sizeof(png)), 0);
    char value[128];
    cr_assert_str_eq(response_header(&r, "Content-Type", value, sizeof(value)), "image/png");
    cr_assert_not_null(
        strstr(response_header(&r, "Cache-Control", value, sizeof(value)), "immutable"));
    response_free(&r);

    char event[1024];
    event_goods(event, sizeof(event), 1, "R1", "1000");
    client_request(&client, "POST", "/api/v1/events", ACTOR("store_raw"), event, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    response_free(&r);
    snprintf(event, sizeof(event),
             "{\"id\":\"0190b2a0-7c1d-7000-8000-000000000002\",\"type\":\"DefectRecorded\","
             "\"occurred_at_us\":1764000000000000,\"payload\":{\"hu_id\":\"R1\",\"defect_id\":"
             "\"D1\",\"count\":1,\"photos\":[{\"sha256\":\"%s\"}]}}",
             hash);
    client_request(&client, "POST", "/api/v1/events", ACTOR("quality"), event, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    response_free(&r);
}

Test(blobs, bytes_that_are_not_a_jpeg_or_png_answer_415)
{
    response_t r;
    post_blob("GIF89a......", 12, &r);
    cr_assert_eq(r.status, 415);
    cr_assert_not_null(strstr(r.body, "\"code\":\"HTTP_MEDIA_TYPE\""));
    response_free(&r);
}

Test(blobs, a_photo_over_the_limit_answers_413)
{
    uint8_t *big = calloc(1, 8192);
    memcpy(big, png, sizeof(png));
    response_t r;
    post_blob(big, 8192, &r);
    cr_assert_eq(r.status, 413);
    response_free(&r);
    free(big);
}

Test(blobs, an_unknown_hash_answers_404)
{
    response_t r;
    client_request(&client, "GET",
                   "/api/v1/blobs/0000000000000000000000000000000000000000000000000000000000000000",
                   "", NULL, &r);
    cr_assert_eq(r.status, 404);
    response_free(&r);
}
