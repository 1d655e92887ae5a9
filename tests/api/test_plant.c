/*
 * The plant's state through foutad: a small day of the plant posted as the apps post it
 * (POST /api/v1/events, one role per event), then every state route read back through a real
 * socket - a unit with its contents, stock filtered and grouped, an order's progress, the loom
 * board and one loom, a beam, interventions, non-conformities, counts, shipments, labels and
 * subcontract lots - with their 404s, their 400s naming the query field, their ETags and their
 * OpenAPI schemas. Answers are parsed as JSON, so each assertion names a member and a value.
 */
#include "tests/api/client.h"

#include <jansson.h>
#include <stdarg.h>

static server_t server;
static client_t client;
static unsigned next_id;

/* Posts one event of type as role; the payload is a printf format. Must be accepted. */
static void post(const char *role, const char *type, const char *payload_format, ...)
{
    char payload[2048], event[3072], headers[1500];
    va_list args;
    va_start(args, payload_format);
    vsnprintf(payload, sizeof(payload), payload_format, args);
    va_end(args);
    snprintf(event, sizeof(event),
             "{\"id\":\"0190b2a0-7c1d-7000-8000-%012u\",\"type\":\"%s\","
             "\"occurred_at_us\":1764000000000000,\"payload\":%s}",
             ++next_id, type, payload);
    snprintf(headers, sizeof(headers), "%s", ACTOR(role));
    response_t r;
    client_request(&client, "POST", "/api/v1/events", headers, event, &r);
    cr_assert_eq(r.status, 201, "%s %s: %s", type, payload, r.body);
    response_free(&r);
}

/*
 * Yarn received, two beams wound from the warp lot, an order released and started on L1 with
 * its beams and 50 kg of weft, a first piece passed, one roll of 120 pieces, a warp stop, the
 * roll cut into 100 first and 18 second, the seconds sent to an embroiderer, the firsts
 * labelled, packed into C1 and palletized on P1; an intervention requested on L1, a
 * non-conformity opened, a count of MP1 opened, a shipment planned. L2 stands idle.
 */
static void plant_day(void)
{
    post("manager", "ArticleSpecDefined",
         "{\"item_id\":\"TW-500\",\"name\":\"Fouta 50x90\",\"unit\":\"pcs\",\"width_mm\":500,"
         "\"repeat_length_mm\":900,\"gsm\":450,\"picks_per_cm_milli\":18000,"
         "\"first_piece_required\":true,\"cutting_tolerance_permille\":10,"
         "\"overproduction_allowed_permille\":50}");
    for (int loom = 1; loom <= 2; loom++)
        post("manager", "LoomDefined",
             "{\"loom_id\":\"L%d\",\"name\":\"Picanol L%d\",\"location_id\":\"WEAVING\","
             "\"nominal_picks_per_min\":450,\"terry\":true}",
             loom, loom);
    post("store_raw", "GoodsReceived",
         "{\"hu_id\":\"Y-WARP\",\"item_id\":\"WARP-20\",\"qty_milli\":500000,\"unit\":\"kg\","
         "\"location_id\":\"MP1\",\"supplier\":\"Filature du Sahel\"}");
    post("store_raw", "GoodsReceived",
         "{\"hu_id\":\"Y-WEFT\",\"item_id\":\"YARN-30\",\"qty_milli\":200000,\"unit\":\"kg\","
         "\"location_id\":\"MP1\",\"supplier\":\"Filature du Sahel\"}");
    post("store_raw", "BeamRegistered",
         "{\"beam_id\":\"BM1\",\"item_id\":\"WARP-20\",\"position\":\"ground\","
         "\"length_milli\":3000000,\"location_id\":\"BEAMS\","
         "\"yarn_lots\":[{\"hu_id\":\"Y-WARP\",\"qty_milli\":300000}]}");
    post("store_raw", "BeamRegistered",
         "{\"beam_id\":\"BM2\",\"item_id\":\"WARP-20\",\"position\":\"pile\","
         "\"length_milli\":2000000,\"location_id\":\"BEAMS\","
         "\"yarn_lots\":[{\"hu_id\":\"Y-WARP\",\"qty_milli\":100000}]}");
    post("manager", "OFCreated",
         "{\"of_id\":\"OF1\",\"item_id\":\"TW-500\",\"planned_qty_milli\":1000000,"
         "\"unit\":\"pcs\",\"due_at_us\":1767000000000000,\"priority\":1}");
    post("manager", "OFReleased", "{\"of_id\":\"OF1\"}");
    post("mechanic", "BeamMounted",
         "{\"beam_id\":\"BM1\",\"loom_id\":\"L1\",\"position\":\"ground\","
         "\"length_milli\":3000000}");
    post("mechanic", "BeamMounted",
         "{\"beam_id\":\"BM2\",\"loom_id\":\"L1\",\"position\":\"pile\","
         "\"length_milli\":2000000}");
    post("weaver", "OFStartedOnLoom", "{\"loom_id\":\"L1\",\"of_id\":\"OF1\",\"picks\":1000}");
    post("store_raw", "MaterialIssuedToLoom",
         "{\"hu_id\":\"Y-WEFT\",\"loom_id\":\"L1\",\"of_id\":\"OF1\",\"qty_milli\":50000,"
         "\"from_location_id\":\"MP1\"}");
    post("mechanic", "FirstPieceInspected",
         "{\"loom_id\":\"L1\",\"of_id\":\"OF1\",\"result\":\"passed\"}");
    post("weaver", "ProductionDeclared",
         "{\"hu_id\":\"R1\",\"of_id\":\"OF1\",\"loom_id\":\"L1\",\"item_id\":\"TW-500\","
         "\"qty_milli\":120000,\"unit\":\"pcs\",\"location_id\":\"WEAVING\","
         "\"length_milli\":60000,\"picks\":1800000}");
    post("weaver", "LoomStopped",
         "{\"loom_id\":\"L1\",\"stop_class\":\"warp\",\"reason_code\":\"W12\","
         "\"picks\":1800000}");
    post("cutter", "CuttingDeclared",
         "{\"input_hu_id\":\"R1\",\"consumed_qty_milli\":120000,\"unit\":\"pcs\","
         "\"location_id\":\"CUT\",\"outputs\":["
         "{\"hu_id\":\"R1-A\",\"item_id\":\"TW-500\",\"grade\":\"first\",\"qty_milli\":100000},"
         "{\"hu_id\":\"R1-B\",\"item_id\":\"TW-500\",\"grade\":\"second\",\"qty_milli\":18000}"
         "],\"waste_qty_milli\":2000,\"waste_reason\":\"roll_end\"}");
    post("quality", "LotReleased", "{\"hu_id\":\"R1-A\"}");
    post("quality", "LotReleased", "{\"hu_id\":\"R1-B\"}");
    post("store_subcontract", "LotSentToSubcontractor",
         "{\"sublot_id\":\"SL1\",\"sub_id\":\"BRODERIE\",\"operation\":\"embroidery\","
         "\"hu_ids\":[\"R1-B\"],\"qty_milli\":18000,\"unit\":\"pcs\","
         "\"from_location_id\":\"CUT\",\"to_location_id\":\"SUB-BRODERIE\"}");
    post("weaver", "LabelPrinted",
         "{\"hu_id\":\"R1-A\",\"printer\":\"zebra-1\",\"format\":\"zpl\"}");
    post("store_finished", "StockTransferred",
         "{\"hu_id\":\"R1-A\",\"from_location_id\":\"CUT\",\"to_location_id\":\"FG\"}");
    post("store_finished", "HUPacked",
         "{\"carton_hu_id\":\"C1\",\"hu_ids\":[\"R1-A\"],\"location_id\":\"FG\"}");
    post("store_finished", "HUPalletized",
         "{\"pallet_hu_id\":\"P1\",\"hu_ids\":[\"C1\"],\"location_id\":\"FG\"}");
    post("weaver", "InterventionRequested",
         "{\"int_id\":\"I1\",\"loom_id\":\"L1\",\"fault_class\":\"warp\",\"urgency\":\"high\"}");
    post("quality", "NCOpened",
         "{\"nc_id\":\"N1\",\"title\":\"Stains\",\"description\":\"oil on roll\","
         "\"source\":\"weaving\",\"severity\":\"major\"}");
    post("store_raw", "CountOpened",
         "{\"count_id\":\"K1\",\"location_ids\":[\"MP1\"],\"scope\":\"full\"}");
    post("manager", "ShipmentPlanned",
         "{\"ship_id\":\"S1\",\"customer_location_id\":\"CUST-1\","
         "\"planned_at_us\":1767000000000000}");
}

static void setup(void)
{
    server_start(&server);
    client_open(&client, server.port);
    next_id = 0;
    plant_day();
}

static void teardown(void)
{
    client_close(&client);
    cr_assert_eq(server_stop(&server), 0, "foutad did not stop cleanly");
}

TestSuite(plant_reads, .init = setup, .fini = teardown, .timeout = 60);

/* GETs path and parses the answer, which must have the given status and be JSON. */
static json_t *get_json(const char *path, int status)
{
    response_t r;
    client_request(&client, "GET", path, "", NULL, &r);
    cr_assert_eq(r.status, status, "GET %s: %d %s", path, r.status, r.body);
    json_error_t error;
    json_t *body = json_loads(r.body, 0, &error);
    cr_assert_not_null(body, "GET %s: not JSON (%s): %s", path, error.text, r.body);
    response_free(&r);
    return body;
}

static const char *text_of(const json_t *object, const char *member)
{
    const json_t *value = json_object_get(object, member);
    cr_assert(json_is_string(value), "%s is not a string", member);
    return json_string_value(value);
}

static long long number_of(const json_t *object, const char *member)
{
    const json_t *value = json_object_get(object, member);
    cr_assert(json_is_integer(value), "%s is not an integer", member);
    return json_integer_value(value);
}

static bool is_null(const json_t *object, const char *member)
{
    return json_is_null(json_object_get(object, member));
}

/* A problem answer: status, code and field as documented. */
static void expect_problem(const char *path, int status, const char *code, const char *field)
{
    json_t *problem = get_json(path, status);
    cr_assert_str_eq(text_of(problem, "code"), code, "GET %s", path);
    cr_assert_str_eq(text_of(problem, "field"), field, "GET %s", path);
    json_decref(problem);
}

Test(plant_reads, a_pallet_answers_with_its_carton_and_the_bundle_inside_it)
{
    json_t *pallet = get_json("/api/v1/hus/P1", 200);
    cr_assert_str_eq(text_of(pallet, "hu_id"), "P1");
    cr_assert_str_eq(text_of(pallet, "location"), "FG");
    cr_assert(is_null(pallet, "parent"));
    cr_assert(is_null(pallet, "holder"));
    json_t *contents = json_object_get(pallet, "contents");
    cr_assert_eq(json_array_size(contents), 2, "the carton and the bundle it holds");
    cr_assert_eq(number_of(pallet, "contents_count"), 2);
    cr_assert(json_is_false(json_object_get(pallet, "truncated")));
    json_t *carton = json_array_get(contents, 0);
    cr_assert_str_eq(text_of(carton, "hu_id"), "C1");
    cr_assert_str_eq(text_of(carton, "parent"), "P1");
    cr_assert_eq(number_of(carton, "depth"), 1);
    json_t *bundle = json_array_get(contents, 1);
    cr_assert_str_eq(text_of(bundle, "hu_id"), "R1-A");
    cr_assert_str_eq(text_of(bundle, "parent"), "C1");
    cr_assert_eq(number_of(bundle, "depth"), 2);
    cr_assert_eq(number_of(bundle, "qty_milli"), 100000);
    cr_assert_str_eq(text_of(bundle, "grade"), "first");
    cr_assert_str_eq(text_of(bundle, "status"), "released");
    json_decref(pallet);
}

Test(plant_reads, a_unit_shows_who_holds_it_and_the_yarn_out_on_the_floor)
{
    json_t *seconds = get_json("/api/v1/hus/hu-R1-B", 200);
    cr_assert_str_eq(text_of(seconds, "hu_id"), "R1-B", "the hu- prefix names the same unit");
    cr_assert_str_eq(text_of(seconds, "holder"), "sublot:SL1");
    cr_assert_eq(json_array_size(json_object_get(seconds, "contents")), 0);
    json_decref(seconds);
    json_t *weft = get_json("/api/v1/hus/Y-WEFT", 200);
    cr_assert_eq(number_of(weft, "qty_milli"), 150000, "200 kg less 50 issued");
    cr_assert_eq(number_of(weft, "out_milli"), 50000, "50 kg on loom L1");
    json_decref(weft);
    json_t *old_path = get_json("/api/v1/hu/P1", 200);
    cr_assert_eq(json_array_size(json_object_get(old_path, "contents")), 2,
                 "the older path answers the same");
    json_decref(old_path);
    expect_problem("/api/v1/hus/NOPE", 404, "NOENT", "path:hu_id");
}

Test(plant_reads, stock_lists_every_row_and_filters_by_item_location_status_and_grade)
{
    json_t *all = get_json("/api/v1/stock", 200);
    json_t *rows = json_object_get(all, "rows");
    long long yarn = 0, seconds_away = 0;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *row = json_array_get(rows, i);
        if (strcmp(text_of(row, "item"), "YARN-30") == 0 &&
            strcmp(text_of(row, "location"), "MP1") == 0)
            yarn += number_of(row, "qty_milli");
        if (strcmp(text_of(row, "location"), "SUB-BRODERIE") == 0) {
            cr_assert_str_eq(text_of(row, "grade"), "second");
            seconds_away += number_of(row, "qty_milli");
        }
    }
    cr_assert_eq(yarn, 150000);
    cr_assert_eq(seconds_away, 18000);
    cr_assert_eq(number_of(all, "count"), (long long)json_array_size(rows));
    json_decref(all);

    json_t *first = get_json("/api/v1/stock?item=TW-500&location=FG&status=released&grade=1", 200);
    rows = json_object_get(first, "rows");
    cr_assert_eq(json_array_size(rows), 1, "one row: the firsts packed in FG");
    cr_assert_eq(number_of(json_array_get(rows, 0), "qty_milli"), 100000);
    json_decref(first);

    json_t *none = get_json("/api/v1/stock?item=TW-500&location=FG&grade=second", 200);
    cr_assert_eq(json_array_size(json_object_get(none, "rows")), 0, "no seconds in FG");
    json_decref(none);

    json_t *held = get_json("/api/v1/stock?status=on%20hold", 200);
    cr_assert_eq(number_of(held, "count"), 0, "nothing is on hold");
    json_decref(held);
}

Test(plant_reads, stock_grouped_by_item_sums_the_rows_of_each_item)
{
    json_t *grouped = get_json("/api/v1/stock?status=available&group_by=item", 200);
    json_t *rows = json_object_get(grouped, "rows");
    cr_assert_eq(json_array_size(rows), 2, "WARP-20 and YARN-30 are available");
    json_t *warp = json_array_get(rows, 0);
    cr_assert_str_eq(text_of(warp, "item"), "WARP-20");
    cr_assert_eq(number_of(warp, "qty_milli"), 100000, "500 kg less 400 wound on beams");
    cr_assert_null(json_object_get(warp, "location"), "only the grouped keys are members");
    cr_assert_str_eq(text_of(json_array_get(rows, 1), "item"), "YARN-30");
    json_t *keys = json_object_get(grouped, "group_by");
    cr_assert_eq(json_array_size(keys), 1);
    cr_assert_str_eq(json_string_value(json_array_get(keys, 0)), "item");
    json_decref(grouped);

    json_t *by_place = get_json("/api/v1/stock?item=TW-500&group_by=location,grade", 200);
    rows = json_object_get(by_place, "rows");
    cr_assert_eq(json_array_size(rows), 2, "firsts in FG, seconds at the embroiderer");
    for (size_t i = 0; i < 2; i++) {
        json_t *row = json_array_get(rows, i);
        bool fg = strcmp(text_of(row, "location"), "FG") == 0;
        cr_assert_str_eq(text_of(row, "grade"), fg ? "first" : "second");
        cr_assert_eq(number_of(row, "qty_milli"), fg ? 100000 : 18000);
        cr_assert_null(json_object_get(row, "item"));
    }
    json_decref(by_place);
}

Test(plant_reads, a_bad_stock_filter_is_refused_with_the_query_field_at_fault)
{
    expect_problem("/api/v1/stock?status=lost", 400, "INVALID_VALUE", "query:status");
    expect_problem("/api/v1/stock?grade=3", 400, "INVALID_VALUE", "query:grade");
    expect_problem("/api/v1/stock?grade=-1", 400, "INVALID_VALUE", "query:grade");
    expect_problem("/api/v1/stock?group_by=item,colour", 400, "INVALID_VALUE", "query:group_by");
    expect_problem("/api/v1/stock?group_by=", 400, "INVALID_VALUE", "query:group_by");
}

Test(plant_reads, an_order_shows_its_plan_what_was_declared_and_its_progress)
{
    json_t *order = get_json("/api/v1/orders/OF1", 200);
    cr_assert_str_eq(text_of(order, "of_id"), "OF1");
    cr_assert_str_eq(text_of(order, "state"), "in progress");
    cr_assert_str_eq(text_of(order, "item"), "TW-500");
    cr_assert_str_eq(text_of(order, "unit"), "pcs");
    cr_assert_eq(number_of(order, "planned_milli"), 1000000);
    cr_assert_eq(number_of(order, "declared_milli"), 120000);
    cr_assert_eq(number_of(order, "progress_permille"), 120, "120 of 1000 pieces");
    json_decref(order);
    expect_problem("/api/v1/orders/OF9", 404, "NOENT", "path:of_id");
}

Test(plant_reads, the_loom_board_shows_the_stopped_loom_with_its_order_and_beams)
{
    json_t *board = get_json("/api/v1/looms", 200);
    cr_assert_eq(number_of(board, "count"), 2);
    cr_assert_eq(number_of(board, "stopped"), 1);
    json_t *looms = json_object_get(board, "looms");
    json_t *l1 = json_array_get(looms, 0);
    cr_assert_str_eq(text_of(l1, "loom_id"), "L1");
    cr_assert(json_is_true(json_object_get(l1, "stopped")));
    cr_assert_str_eq(text_of(l1, "stop_class"), "warp");
    cr_assert_str_eq(text_of(l1, "stop_code"), "W12");
    cr_assert_gt(number_of(l1, "since_seq"), 0);
    cr_assert_str_eq(text_of(l1, "of_id"), "OF1");
    cr_assert(json_is_true(json_object_get(l1, "first_piece_passed")));
    json_t *beams = json_object_get(l1, "beams");
    cr_assert_str_eq(text_of(json_object_get(beams, "ground"), "beam_id"), "BM1");
    cr_assert_str_eq(text_of(json_object_get(beams, "pile"), "beam_id"), "BM2");
    json_t *l2 = json_array_get(looms, 1);
    cr_assert_str_eq(text_of(l2, "loom_id"), "L2");
    cr_assert(json_is_false(json_object_get(l2, "stopped")));
    cr_assert(is_null(l2, "of_id"), "L2 has no order");
    cr_assert(is_null(l2, "stop_code"));
    cr_assert(is_null(json_object_get(l2, "beams"), "ground"));
    json_decref(board);

    json_t *one = get_json("/api/v1/looms/L1", 200);
    cr_assert_str_eq(text_of(one, "stop_code"), "W12");
    json_decref(one);
    expect_problem("/api/v1/looms/L404", 404, "NOENT", "path:loom_id");
}

Test(plant_reads, a_beam_shows_the_loom_it_is_mounted_on)
{
    json_t *beam = get_json("/api/v1/beams/BM2", 200);
    cr_assert_str_eq(text_of(beam, "beam_id"), "BM2");
    cr_assert_str_eq(text_of(beam, "item"), "WARP-20");
    cr_assert_str_eq(text_of(beam, "loom_id"), "L1");
    cr_assert_str_eq(text_of(beam, "position"), "pile");
    cr_assert(json_is_true(json_object_get(beam, "mounted")));
    cr_assert_gt(number_of(beam, "remaining_milli"), 0);
    cr_assert_leq(number_of(beam, "remaining_milli"), 2000000);
    json_decref(beam);
    expect_problem("/api/v1/beams/BM9", 404, "NOENT", "path:beam_id");
}

Test(plant_reads, records_answer_their_state_and_what_they_are_about)
{
    json_t *work = get_json("/api/v1/interventions/I1", 200);
    cr_assert_str_eq(text_of(work, "int_id"), "I1");
    cr_assert_str_eq(text_of(work, "state"), "requested");
    cr_assert_str_eq(text_of(work, "loom_id"), "L1");
    json_decref(work);
    json_t *nc = get_json("/api/v1/ncs/N1", 200);
    cr_assert_str_eq(text_of(nc, "state"), "open");
    json_decref(nc);
    json_t *count = get_json("/api/v1/counts/K1", 200);
    cr_assert_str_eq(text_of(count, "state"), "open");
    cr_assert_eq(number_of(count, "locations"), 1);
    json_decref(count);
    json_t *shipment = get_json("/api/v1/shipments/S1", 200);
    cr_assert_str_eq(text_of(shipment, "state"), "planned");
    cr_assert_str_eq(text_of(shipment, "customer_location_id"), "CUST-1");
    cr_assert_eq(number_of(shipment, "units_loaded"), 0);
    json_decref(shipment);
    json_t *label = get_json("/api/v1/labels/R1-A", 200);
    cr_assert_str_eq(text_of(label, "state"), "printed");
    cr_assert_eq(number_of(label, "prints"), 1);
    cr_assert_gt(number_of(label, "since_seq"), 0);
    json_decref(label);
    expect_problem("/api/v1/interventions/I9", 404, "NOENT", "path:int_id");
    expect_problem("/api/v1/ncs/N9", 404, "NOENT", "path:nc_id");
    expect_problem("/api/v1/counts/K9", 404, "NOENT", "path:count_id");
    expect_problem("/api/v1/shipments/S9", 404, "NOENT", "path:ship_id");
    expect_problem("/api/v1/labels/R1-B", 404, "NOENT", "path:hu_id");
}

Test(plant_reads, a_subcontract_lot_shows_what_is_still_out)
{
    json_t *lot = get_json("/api/v1/sublots/SL1", 200);
    cr_assert_str_eq(text_of(lot, "state"), "open");
    cr_assert_str_eq(text_of(lot, "sub_id"), "BRODERIE");
    cr_assert_str_eq(text_of(lot, "item"), "TW-500");
    cr_assert_eq(number_of(lot, "sent_milli"), 18000);
    cr_assert_eq(number_of(lot, "good_milli"), 0);
    cr_assert_eq(number_of(lot, "out_milli"), 18000, "nothing came back yet");
    json_decref(lot);
    expect_problem("/api/v1/sublots/SL9", 404, "NOENT", "path:sublot_id");
}

Test(plant_reads, an_id_longer_than_the_catalog_allows_is_refused_as_too_long)
{
    char path[160];
    snprintf(path, sizeof(path), "/api/v1/orders/%0100d", 7);
    expect_problem(path, 400, "TOO_LONG", "path:of_id");
}

Test(plant_reads, each_state_read_answers_304_to_its_etag_until_an_append)
{
    const char *paths[] = {"/api/v1/hus/P1",      "/api/v1/stock?group_by=item",
                           "/api/v1/orders/OF1",  "/api/v1/looms",
                           "/api/v1/looms/L1",    "/api/v1/beams/BM1",
                           "/api/v1/ncs/N1",      "/api/v1/sublots/SL1",
                           "/api/v1/labels/R1-A", "/api/v1/shipments/S1"};
    char expected[32];
    snprintf(expected, sizeof(expected), "W/\"%u\"", next_id);
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        response_t r;
        client_request(&client, "GET", paths[i], "", NULL, &r);
        char etag[64];
        response_header(&r, "ETag", etag, sizeof(etag));
        cr_assert_str_eq(etag, expected, "%s names the head", paths[i]);
        response_free(&r);
        client_request(&client, "GET", paths[i], "If-None-Match: W/\"0\"\r\n", NULL, &r);
        cr_assert_eq(r.status, 200, "%s: another version is not a match", paths[i]);
        response_free(&r);
        char headers[96];
        snprintf(headers, sizeof(headers), "If-None-Match: %s\r\n", expected);
        client_request(&client, "GET", paths[i], headers, NULL, &r);
        cr_assert_eq(r.status, 304, "%s", paths[i]);
        cr_assert_eq(r.body_len, 0);
        response_free(&r);
    }
    post("weaver", "LoomRestarted", "{\"loom_id\":\"L1\",\"picks\":1800000}");
    char headers[96];
    snprintf(headers, sizeof(headers), "If-None-Match: %s\r\n", expected);
    response_t r;
    client_request(&client, "GET", "/api/v1/looms/L1", headers, NULL, &r);
    cr_assert_eq(r.status, 200, "the restart changed the board");
    cr_assert_not_null(strstr(r.body, "\"stopped\":false"), "%s", r.body);
    response_free(&r);
}

Test(plant_reads, a_client_that_prefers_msgpack_gets_the_order_as_msgpack)
{
    response_t r;
    client_request(&client, "GET", "/api/v1/orders/OF1", "Accept: application/msgpack\r\n", NULL,
                   &r);
    cr_assert_eq(r.status, 200);
    char type[64];
    cr_assert_str_eq(response_header(&r, "Content-Type", type, sizeof(type)),
                     "application/msgpack");
    /* A map whose keys include the fixstr "progress_permille" (0xb1 = fixstr of 17 bytes). */
    cr_assert_eq((unsigned char)r.body[0] & 0xf0, 0x80, "a fixmap");
    static const char key[] = "\xb1progress_permille";
    bool found = false;
    for (size_t i = 0; !found && i + sizeof(key) - 1 <= r.body_len; i++)
        found = memcmp(r.body + i, key, sizeof(key) - 1) == 0;
    cr_assert(found, "the body is msgpack with the order's members");
    response_free(&r);
}

Test(plant_reads, openapi_documents_each_state_route_with_its_answer_schema)
{
    json_t *doc = get_json("/api/v1/openapi.json", 200);
    json_t *paths = json_object_get(doc, "paths");
    json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
    const struct {
        const char *path;
        const char *schema;
        const char *member;
    } routes[] = {
        {"/api/v1/hus/{hu_id}", "HandlingUnit", "contents"},
        {"/api/v1/stock", "Stock", "group_by"},
        {"/api/v1/orders/{of_id}", "Order", "progress_permille"},
        {"/api/v1/looms", "LoomBoard", "looms"},
        {"/api/v1/looms/{loom_id}", "Loom", "beams"},
        {"/api/v1/beams/{beam_id}", "Beam", "remaining_milli"},
        {"/api/v1/interventions/{int_id}", "Intervention", "loom_id"},
        {"/api/v1/ncs/{nc_id}", "NonConformity", "state"},
        {"/api/v1/counts/{count_id}", "Count", "locations"},
        {"/api/v1/shipments/{ship_id}", "Shipment", "units_loaded"},
        {"/api/v1/labels/{hu_id}", "Label", "prints"},
        {"/api/v1/sublots/{sublot_id}", "SubcontractLot", "out_milli"},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        json_t *get = json_object_get(json_object_get(paths, routes[i].path), "get");
        cr_assert_not_null(get, "%s is documented", routes[i].path);
        json_t *ok = json_object_get(json_object_get(get, "responses"), "200");
        json_t *schema = json_object_get(
            json_object_get(json_object_get(ok, "content"), "application/json"), "schema");
        char ref[96];
        snprintf(ref, sizeof(ref), "#/components/schemas/%s", routes[i].schema);
        cr_assert_str_eq(text_of(schema, "$ref"), ref, "%s", routes[i].path);
        json_t *properties =
            json_object_get(json_object_get(schemas, routes[i].schema), "properties");
        cr_assert_not_null(json_object_get(properties, routes[i].member), "%s has %s",
                           routes[i].schema, routes[i].member);
    }
    json_t *old = json_object_get(json_object_get(paths, "/api/v1/hu/{hu_id}"), "get");
    cr_assert(json_is_true(json_object_get(old, "deprecated")));
    json_t *stock_params = json_object_get(
        json_object_get(json_object_get(paths, "/api/v1/stock"), "get"), "parameters");
    cr_assert_eq(json_array_size(stock_params), 5, "item, location, status, grade, group_by");
    json_decref(doc);
}
