/*
 * replay/ through foutad's API: the stock as of a sequence equals the stock read live at that
 * moment, after more moves and receipts; a count's reconciliation report flags a
 * unit moved after it was counted and proposes adjustments, as JSON and as CSV; the recall
 * picture of a yarn lot in JSON and DOT; the chain verified; the log exported in pages, NDJSON
 * and msgpack, which fouta-replay imports as the very same chain; bad arguments refused with
 * their field.
 */
#define _GNU_SOURCE /* strcasestr */
#include "tests/api/client.h"

static server_t server;
static client_t client;
static unsigned next_id = 1;

static void setup(void)
{
    /* A snapshot every other event: as-of reads and count reports replay over one; and the
     * background pass every 50 ms, racing them. */
    setenv("FOUTA_ASOF_SNAPSHOT_EVERY", "2", 1);
    setenv("FOUTA_ASOF_SNAPSHOT_PERIOD_MS", "50", 1);
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

Test(audit, the_as_of_snapshots_are_made_in_the_background_before_any_read)
{
    goods("B1", "1000", "MP1");
    goods("B2", "2000", "MP1");
    move("B1", "MP1", "MP2");
    goods("B3", "500", "MP2");
    char path[512];
    snprintf(path, sizeof(path), "%s/data/tenants/%s/snapshots/%020u", server.dir, TEST_TENANT,
             next_id - 1);
    struct stat info;
    bool made = false;
    for (int i = 0; i < 500 && !made; i++) {
        made = stat(path, &info) == 0;
        if (!made)
            sleep_ms(10);
    }
    cr_assert(made, "no snapshot at the head: %s", path);
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

/* The log exported page by page in format (pages of 10 records) into a file: its path. */
static void export_pages(const char *format, char *path, size_t size)
{
    snprintf(path, size, "%s/export.%s", server.dir, format);
    FILE *file = fopen(path, "wb");
    cr_assert_not_null(file, "%s", path);
    unsigned pages = 0;
    for (unsigned long long from = 1; from != 0; pages++) {
        char query[160];
        snprintf(query, sizeof(query), "/api/v1/export?from_seq=%llu&to_seq=%llu&format=%s", from,
                 from + 9 < next_id - 1 ? from + 9 : (unsigned long long)next_id - 1, format);
        response_t r;
        client_request(&client, "GET", query, "", NULL, &r);
        cr_assert_eq(r.status, 200, "%s: %s", query, r.body);
        cr_assert(strstr(r.headers, strcmp(format, "msgpack") == 0
                                        ? "application/msgpack"
                                        : "application/x-ndjson") != NULL,
                  "%s", r.headers);
        cr_assert_eq(fwrite(r.body, 1, r.body_len, file), r.body_len);
        const char *next = strcasestr(r.headers, "X-Next-From-Seq: ");
        unsigned long long after = next != NULL ? strtoull(next + 17, NULL, 10) : 0;
        cr_assert(after == 0 || after == from + 10, "pages follow one another: %llu", after);
        from = after;
        response_free(&r);
    }
    fclose(file);
    cr_assert_eq(pages, (next_id - 1 + 9) / 10, "the last page names no next one");
}

Test(audit, the_log_exported_in_pages_imports_as_the_same_chain_in_either_format)
{
    for (unsigned i = 0; i < 12; i++) {
        char hu[16];
        snprintf(hu, sizeof(hu), "Y%u", i);
        goods(hu, "1000", "MP1");
        move(hu, "MP1", "MP2");
    }
    static char head[512];
    cr_assert_eq(get("/api/v1/head", head, sizeof(head)), 200, "%s", head);
    char hash[80];
    json_text(head, "hash", hash, sizeof(hash));
    cr_assert_neq(hash[0], '\0', "%s", head);
    static const char *const formats[] = {"ndjson", "msgpack"};
    for (int f = 0; f < 2; f++) {
        char path[400], command[2048], copy[400];
        export_pages(formats[f], path, sizeof(path));
        snprintf(copy, sizeof(copy), "%s/imported-%s", server.dir, formats[f]);
        snprintf(command, sizeof(command),
                 "%s import %s %s | grep -q '^import: %u records' && %s head %s | grep -q '%s'",
                 FOUTA_REPLAY, copy, path, next_id - 1, FOUTA_LEDGER, copy, hash);
        cr_assert_eq(system(command), 0, "%s: the import is the same chain, up to %s", formats[f],
                     hash);
    }
    /* Bad arguments, each named; the desk's view only. */
    static char body[4096];
    cr_assert_eq(get("/api/v1/export?format=xml", body, sizeof(body)), 400);
    cr_assert(strstr(body, "\"field\":\"query:format\"") != NULL, "%s", body);
    cr_assert_eq(get("/api/v1/export?from_seq=0", body, sizeof(body)), 400);
    cr_assert(strstr(body, "\"field\":\"query:from_seq\"") != NULL, "%s", body);
    cr_assert_eq(get("/api/v1/export?from_seq=5&to_seq=4", body, sizeof(body)), 400);
    cr_assert(strstr(body, "\"field\":\"query:to_seq\"") != NULL, "%s", body);
    cr_assert_eq(get("/api/v1/export?to_seq=1000", body, sizeof(body)), 400);
    response_t r;
    client_request(&client, "GET", "/api/v1/export", ACTOR("weaver"), NULL, &r);
    cr_assert_eq(r.status, 403, "%s", r.body);
    response_free(&r);
}
