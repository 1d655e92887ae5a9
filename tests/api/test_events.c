/*
 * POST /api/v1/events against a running foutad, through a socket: every status the route can
 * answer, and the body of each.
 */
#include "tests/api/client.h"

static server_t server;
static client_t client;

static void setup(void)
{
    const char *extra[] = {"--body-bytes-max", "8192", NULL};
    server_start_args(&server, extra);
    client_open(&client, server.port);
}

static void teardown(void)
{
    client_close(&client);
    cr_assert_eq(server_stop(&server), 0, "foutad did not stop cleanly");
}

TestSuite(events, .init = setup, .fini = teardown, .timeout = 60);

static int post(const char *headers, const char *body, response_t *response)
{
    client_request(&client, "POST", "/api/v1/events", headers, body, response);
    return response->status;
}

Test(events, one_event_is_acknowledged_with_201_sequence_version_and_hash)
{
    char event[1024];
    event_goods(event, sizeof(event), 1, "Y1", "25000");
    response_t r;
    cr_assert_eq(post(ACTOR("store_raw"), event, &r), 201, "%s", r.body);
    cr_assert_eq(json_number(r.body, "seq"), 1);
    cr_assert_eq(json_number(r.body, "stream_version"), 1);
    cr_assert_not_null(strstr(r.body, "\"hash\":\""));
    cr_assert_not_null(strstr(r.body, "\"duplicate\":false"));
    char location[64];
    cr_assert_str_eq(response_header(&r, "Location", location, sizeof(location)),
                     "/api/v1/events/1");
    response_free(&r);
}

Test(events, a_retry_with_the_same_id_answers_200_with_the_original_position)
{
    char event[1024], other[1024];
    event_goods(event, sizeof(event), 1, "Y1", "25000");
    event_goods(other, sizeof(other), 2, "Y2", "1000");
    response_t r;
    cr_assert_eq(post(ACTOR("store_raw"), event, &r), 201);
    response_free(&r);
    cr_assert_eq(post(ACTOR("store_raw"), other, &r), 201);
    response_free(&r);
    cr_assert_eq(post(ACTOR("store_raw"), event, &r), 200, "%s", r.body);
    cr_assert_eq(json_number(r.body, "seq"), 1);
    cr_assert_not_null(strstr(r.body, "\"duplicate\":true"));
    response_free(&r);
}

Test(events, the_same_id_with_other_content_answers_409_naming_the_id)
{
    char event[1024];
    event_goods(event, sizeof(event), 1, "Y1", "25000");
    response_t r;
    cr_assert_eq(post(ACTOR("store_raw"), event, &r), 201);
    response_free(&r);
    event_goods(event, sizeof(event), 1, "Y1", "26000");
    cr_assert_eq(post(ACTOR("store_raw"), event, &r), 409, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"code\":\"CONFLICT_ID\""));
    cr_assert_not_null(strstr(r.body, "\"field\":\"id\""));
    response_free(&r);
}

Test(events, a_stale_expected_version_answers_409_with_the_actual_version)
{
    char event[1024], move[1024];
    event_goods(event, sizeof(event), 1, "Y1", "25000");
    response_t r;
    cr_assert_eq(post(ACTOR("store_raw"), event, &r), 201);
    response_free(&r);
    event_move(move, sizeof(move), 2, "Y1", "MP1", "MP2");
    /* expected_version 0: "the stream must not exist", but hu-Y1 is at version 1. */
    char *brace = strchr(move, '{');
    char versioned[1100];
    snprintf(versioned, sizeof(versioned), "{\"expected_version\":0,%s", brace + 1);
    cr_assert_eq(post(ACTOR("store_raw"), versioned, &r), 409, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"code\":\"CONFLICT_VERSION\""));
    cr_assert_not_null(strstr(r.body, "\"field\":\"expected_version\""));
    cr_assert_eq(json_number(r.body, "actual_version"), 1);
    response_free(&r);
}

Test(events, a_broken_plant_rule_answers_422_naming_the_rule_and_the_unit)
{
    char event[1024], move[1024];
    event_goods(event, sizeof(event), 1, "Y1", "25000");
    event_move(move, sizeof(move), 2, "Y1", "MP7", "MP2");
    response_t r;
    cr_assert_eq(post(ACTOR("store_raw"), event, &r), 201);
    response_free(&r);
    cr_assert_eq(post(ACTOR("store_raw"), move, &r), 422, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"code\":\"RULE_HU_LOCATION\""));
    cr_assert_not_null(strstr(r.body, "hu-Y1"), "%s", r.body);
    char type[64];
    cr_assert_str_eq(response_header(&r, "Content-Type", type, sizeof(type)),
                     "application/problem+json");
    response_free(&r);
}

Test(events, a_malformed_event_answers_400_with_the_field_at_fault)
{
    const char *event = "{\"id\":\"0190b2a0-7c1d-7000-8000-000000000001\",\"type\":"
                        "\"GoodsReceived\",\"occurred_at_us\":1764000000000000,\"payload\":{"
                        "\"hu_id\":\"Y1\",\"item_id\":\"YARN-30\",\"unit\":\"kg\","
                        "\"location_id\":\"MP1\",\"supplier\":\"S\"}}";
    response_t r;
    cr_assert_eq(post(ACTOR("store_raw"), event, &r), 400, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"code\":\"MISSING_FIELD\""));
    cr_assert_not_null(strstr(r.body, "\"field\":\"payload.qty_milli\""), "%s", r.body);
    response_free(&r);
}

Test(events, invalid_json_answers_400_with_the_position)
{
    response_t r;
    cr_assert_eq(post(ACTOR("store_raw"), "{\"id\": [1, 2", &r), 400);
    cr_assert_not_null(strstr(r.body, "\"code\":\"INVALID_JSON\""));
    cr_assert_not_null(strstr(r.body, "column"));
    response_free(&r);
}

Test(events, a_body_over_the_limit_answers_413_and_closes)
{
    char *big = malloc(10000);
    memset(big, ' ', 9999);
    big[9999] = '\0';
    big[0] = '[';
    big[9998] = ']';
    response_t r;
    cr_assert_eq(post(ACTOR("store_raw"), big, &r), 413);
    cr_assert_not_null(strstr(r.body, "\"code\":\"TOOBIG\""));
    response_free(&r);
    free(big);
}

Test(events, a_role_that_may_not_post_the_type_answers_403)
{
    char event[1024];
    event_goods(event, sizeof(event), 1, "Y1", "25000");
    response_t r;
    cr_assert_eq(post(ACTOR("weaver"), event, &r), 403, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"code\":\"FORBIDDEN_ROLE\""));
    response_free(&r);
}

Test(events, a_post_without_an_access_token_answers_401_naming_the_header)
{
    char event[1024];
    event_goods(event, sizeof(event), 1, "Y1", "25000");
    response_t r;
    cr_assert_eq(post(JSON_HEADERS "Authorization: none\r\n", event, &r), 401);
    cr_assert_not_null(strstr(r.body, "\"field\":\"header:Authorization\""));
    response_free(&r);
}

Test(events, development_actor_headers_are_ignored)
{
    char event[1024];
    event_goods(event, sizeof(event), 1, "Y1", "25000");
    response_t r;
    cr_assert_eq(post(JSON_HEADERS "Authorization: none\r\nX-Fouta-User: u\r\n"
                                   "X-Fouta-Role: store_raw\r\n",
                      event, &r),
                 401);
    response_free(&r);
}

Test(events, a_body_that_is_neither_json_nor_msgpack_answers_415)
{
    response_t r;
    cr_assert_eq(post("Content-Type: text/plain\r\n", "hello", &r), 415);
    cr_assert_not_null(strstr(r.body, "\"code\":\"HTTP_MEDIA_TYPE\""));
    response_free(&r);
}

Test(events, an_array_is_acknowledged_with_a_position_for_each_event)
{
    char a[1024], b[1024], body[2200];
    event_goods(a, sizeof(a), 1, "Y1", "25000");
    event_goods(b, sizeof(b), 2, "Y2", "5000");
    snprintf(body, sizeof(body), "[%s,%s]", a, b);
    response_t r;
    cr_assert_eq(post(ACTOR("store_raw"), body, &r), 201, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"seq\":1"));
    cr_assert_not_null(strstr(r.body, "\"seq\":2"));
    response_free(&r);
}

Test(events, an_atomic_group_with_a_broken_rule_writes_nothing)
{
    char a[1024], b[1024], body[2400];
    event_goods(a, sizeof(a), 1, "Y5", "1000");
    event_move(b, sizeof(b), 2, "Y5", "MP7", "MP2");
    snprintf(body, sizeof(body), "{\"atomic\":true,\"events\":[%s,%s]}", a, b);
    response_t r;
    cr_assert_eq(post(ACTOR("store_raw"), body, &r), 422, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"index\":1"));
    cr_assert_not_null(strstr(r.body, "\"code\":\"ABORTED\""), "%s", r.body);
    response_free(&r);
    client_request(&client, "GET", "/api/v1/head", "", NULL, &r);
    cr_assert_eq(json_number(r.body, "seq"), 0, "%s", r.body);
    response_free(&r);
}

Test(events, a_non_atomic_array_answers_207_with_each_outcome)
{
    char a[1024], b[1024], body[2200];
    event_goods(a, sizeof(a), 1, "Y5", "1000");
    event_move(b, sizeof(b), 2, "Y5", "MP7", "MP2");
    snprintf(body, sizeof(body), "[%s,%s]", a, b);
    response_t r;
    cr_assert_eq(post(ACTOR("store_raw"), body, &r), 207, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"status\":201"));
    cr_assert_not_null(strstr(r.body, "\"status\":422"));
    response_free(&r);
}

Test(events, a_photo_reference_to_an_unknown_hash_is_refused_with_422)
{
    const char *event =
        "{\"id\":\"0190b2a0-7c1d-7000-8000-000000000009\",\"type\":\"DefectRecorded\","
        "\"occurred_at_us\":1764000000000000,\"payload\":{\"hu_id\":\"R1\",\"defect_id\":"
        "\"D1\",\"count\":1,\"photos\":[{\"sha256\":"
        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]}}";
    response_t r;
    cr_assert_eq(post(ACTOR("quality"), event, &r), 422, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"code\":\"BLOB_UNKNOWN\""));
    cr_assert_not_null(strstr(r.body, "\"field\":\"payload.photos[0].sha256\""), "%s", r.body);
    response_free(&r);
}
