/*
 * replay/ through foutad's API: the stock as of a sequence equals the stock read live at that
 * moment, after more moves and receipts; a count's reconciliation report flags a
 * unit moved after it was counted and proposes adjustments, as JSON and as CSV; the recall
 * picture of a yarn lot in JSON and DOT; the chain verified; bad arguments refused with their
 * field.
 */
#include "tests/api/client.h"

static server_t server;
static client_t client;
static unsigned next_id = 1;

static void setup(void)
{
    server_start(&server);
    client_open(&client, server.port);
}

static void teardown(void)
{
    client_close(&client);
    cr_assert_eq(server_stop(&server), 0, "foutad did not stop cleanly");
}

TestSuite(audit, .init = setup, .fini = teardown, .timeout = 120);

/* Posts one event (its type and payload) as role; expects 201. */
static void post(const char *role, const char *type, const char *payload)
{
    char event[2048];
    snprintf(event, sizeof(event),
             "{\"id\":\"0190b2a0-7c1d-7000-8000-%012u\",\"type\":\"%s\","
             "\"occurred_at_us\":%llu,\"payload\":%s}",
             next_id, type, 1764000000000000ull + next_id * 1000000ull, payload);
    next_id++;
    response_t r;
    client_request(&client, "POST", "/api/v1/events", ACTOR(role), event, &r);
    cr_assert_eq(r.status, 201, "%s: %s", type, r.body);
    response_free(&r);
}

static void goods(const char *hu, const char *qty, const char *location)
{
    char payload[512];
    snprintf(payload, sizeof(payload),
             "{\"hu_id\":\"%s\",\"item_id\":\"YARN-30\",\"qty_milli\":%s,\"unit\":\"kg\","
             "\"location_id\":\"%s\",\"supplier\":\"Filature du Sahel\"}",
             hu, qty, location);
    post("store_raw", "GoodsReceived", payload);
}

static void move(const char *hu, const char *from, const char *to)
{
    char payload[256];
    snprintf(payload, sizeof(payload),
             "{\"hu_id\":\"%s\",\"from_location_id\":\"%s\",\"to_location_id\":\"%s\"}", hu, from,
             to);
    post("store_raw", "StockTransferred", payload);
}

/* GET path: the status, the body copied into out. */
static int get(const char *path, char *out, size_t size)
{
    response_t r;
    client_request(&client, "GET", path, "", NULL, &r);
    snprintf(out, size, "%s", r.body != NULL ? r.body : "");
    int status = r.status;
    response_free(&r);
    return status;
}

Test(audit, the_stock_as_of_a_sequence_is_the_stock_that_was_read_live_then)
{
    static char live[8192], again[8192], path[256];
    goods("A1", "1000", "MP1");
    goods("A2", "2000", "MP1");
    move("A1", "MP1", "MP2");
    cr_assert_eq(get("/api/v1/stock?group_by=location,status", live, sizeof(live)), 200);
    unsigned seq = next_id - 1; /* one event a sequence, from 1 */
    /* More afterwards: units moved away and back, a new one. */
    move("A2", "MP1", "MP3");
    goods("A3", "500", "MP2");
    move("A1", "MP2", "MP1");
    snprintf(path, sizeof(path), "/api/v1/stock?group_by=location,status&as_of_seq=%u", seq);
    cr_assert_eq(get(path, again, sizeof(again)), 200, "%s", again);
    cr_assert_str_eq(again, live);
    /* With a filter, and the same answer twice. */
    snprintf(path, sizeof(path), "/api/v1/stock?location=MP2&as_of_seq=%u", seq);
    cr_assert_eq(get(path, again, sizeof(again)), 200);
    cr_assert(strstr(again, "\"qty_milli\":1000") != NULL, "%s", again);
    cr_assert(strstr(again, "\"count\":1") != NULL, "%s", again);
    cr_assert_eq(get(path, live, sizeof(live)), 200);
    cr_assert_str_eq(live, again);
    /* Past the head, zero, not a number: the field at fault. */
    snprintf(path, sizeof(path), "/api/v1/stock?as_of_seq=%u", next_id + 5);
    cr_assert_eq(get(path, again, sizeof(again)), 400);
    cr_assert(strstr(again, "\"field\":\"query:as_of_seq\"") != NULL, "%s", again);
    cr_assert_eq(get("/api/v1/stock?as_of_seq=0", again, sizeof(again)), 400);
    cr_assert_eq(get("/api/v1/stock?as_of_seq=x", again, sizeof(again)), 400);
}

Test(audit, a_count_report_flags_a_unit_moved_after_its_count_and_proposes_adjustments)
{
    static char body[16384];
    goods("C1", "1000", "MP1");
    goods("C2", "2000", "MP1");
    goods("C3", "3000", "MP1");
    post("store_raw", "CountOpened",
         "{\"count_id\":\"K1\",\"location_ids\":[\"MP1\"],\"scope\":\"full\"}");
    post("store_raw", "ItemCounted",
         "{\"count_id\":\"K1\",\"hu_id\":\"C1\",\"item_id\":\"YARN-30\",\"location_id\":\"MP1\","
         "\"counted_qty_milli\":1000,\"unit\":\"kg\"}");
    post("store_raw", "ItemCounted",
         "{\"count_id\":\"K1\",\"hu_id\":\"C2\",\"item_id\":\"YARN-30\",\"location_id\":\"MP1\","
         "\"counted_qty_milli\":1500,\"unit\":\"kg\"}");
    move("C1", "MP1", "MP2"); /* after its count: outdated */
    post("store_raw", "CountClosed", "{\"count_id\":\"K1\"}");
    cr_assert_eq(get("/api/v1/counts/K1/report", body, sizeof(body)), 200, "%s", body);
    cr_assert(strstr(body, "\"hu_id\": \"C1\", \"item_id\": \"YARN-30\", \"location_id\": "
                           "\"MP1\", \"unit\": \"kg\", \"book_milli\": 1000, \"counted_milli\": "
                           "1000, \"verdict\": \"outdated\"") != NULL,
              "%s", body);
    cr_assert(strstr(body, "\"counted_milli\": 1500, \"verdict\": \"difference\", "
                           "\"proposed_delta_milli\": -500") != NULL,
              "%s", body);
    cr_assert(strstr(body, "\"counted_milli\": null, \"verdict\": \"not counted\"") != NULL, "%s",
              body);
    cr_assert(strstr(body, "\"hu_id\": \"C2\", \"item_id\": \"YARN-30\", \"location_id\": "
                           "\"MP1\", \"delta_qty_milli\": -500") != NULL,
              "the adjustment proposed: %s", body);
    cr_assert_eq(get("/api/v1/counts/K1/report?format=csv", body, sizeof(body)), 200);
    cr_assert(strstr(body, "C2") != NULL && strchr(body, ',') != NULL, "%s", body);
    cr_assert_eq(get("/api/v1/counts/NOPE/report", body, sizeof(body)), 404);
    cr_assert(strstr(body, "\"field\":\"path:count_id\"") != NULL, "%s", body);
    cr_assert_eq(get("/api/v1/counts/K1/report?threshold_permille=2000", body, sizeof(body)), 400);
    cr_assert_eq(get("/api/v1/counts/K1/report?format=pdf", body, sizeof(body)), 400);
}

Test(audit, the_recall_picture_and_the_chain_check_answer_as_the_tools_do)
{
    static char body[16384];
    goods("Y1", "1000", "MP1");
    move("Y1", "MP1", "MP2");
    cr_assert_eq(get("/api/v1/trace/hu-Y1?direction=down", body, sizeof(body)), 200, "%s", body);
    cr_assert(strstr(body, "\"root\": \"hu-Y1\"") != NULL, "%s", body);
    cr_assert(strstr(body, "\"nodes\"") != NULL && strstr(body, "\"edges\"") != NULL);
    cr_assert_eq(get("/api/v1/trace/hu-Y1?direction=up&format=dot", body, sizeof(body)), 200);
    cr_assert(strstr(body, "digraph") != NULL, "%s", body);
    cr_assert_eq(get("/api/v1/recall?source=hu-Y1", body, sizeof(body)), 200, "%s", body);
    cr_assert(strstr(body, "\"source\"") != NULL, "%s", body);
    cr_assert_eq(get("/api/v1/trace/hu-Y1?direction=sideways", body, sizeof(body)), 400);
    cr_assert(strstr(body, "\"field\":\"query:direction\"") != NULL, "%s", body);
    cr_assert_eq(get("/api/v1/trace/hu-Y1?depth=0", body, sizeof(body)), 400);
    cr_assert_eq(get("/api/v1/recall", body, sizeof(body)), 400);
    cr_assert(strstr(body, "\"field\":\"query:source\"") != NULL, "%s", body);
    cr_assert_eq(get("/api/v1/recall?source=hu-Y1&from_us=10&until_us=5", body, sizeof(body)), 400);
    cr_assert_eq(get("/api/v1/verify", body, sizeof(body)), 200, "%s", body);
    char expected[64];
    snprintf(expected, sizeof(expected), "\"ok\":true,\"checked\":%u", next_id - 1);
    cr_assert(strstr(body, expected) != NULL, "%s", body);
}
