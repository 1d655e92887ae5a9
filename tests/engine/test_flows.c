/*
 * Tests of the rules on stock flows: packing into a tree of released units, containers moving
 * with their contents, shipments, subcontract lots, counts, transfers, splits, scrap, labels,
 * material issues, and the state machines of interventions and non-conformities. Every refusal
 * is checked to leave the log, the stock and the loom board as they were (REFUSED).
 */
#include "tests/engine/plant.h"

TestSuite(flows, .init = setup, .fini = teardown, .timeout = 60);

/* A finished bundle of `pieces` thousandths of TW-500 at location, released by quality. */
static void bundle(const char *id, const char *location, const char *pieces, bool release)
{
    POSTED(EV_ROLE_STORE_FINISHED, "GoodsReceived",
           J("{\"hu_id\":\"%s\",\"item_id\":\"TW-500\",\"qty_milli\":%s,\"unit\":\"pcs\","
             "\"location_id\":\"%s\",\"supplier\":\"in-house\"}",
             id, pieces, location));
    if (release)
        POSTED(EV_ROLE_QUALITY, "LotReleased", J("{\"hu_id\":\"%s\"}", id));
}

static const char *pack(const char *container, const char *ids, const char *location)
{
    return J("{\"carton_hu_id\":\"%s\",\"hu_ids\":[%s],\"location_id\":\"%s\"}", container, ids,
             location);
}

static const char *palletize(const char *pallet, const char *ids, const char *location)
{
    return J("{\"pallet_hu_id\":\"%s\",\"hu_ids\":[%s],\"location_id\":\"%s\"}", pallet, ids,
             location);
}

static const char *move(const char *hu, const char *from, const char *to)
{
    return J("{\"hu_id\":\"%s\",\"from_location_id\":\"%s\",\"to_location_id\":\"%s\"}", hu, from,
             to);
}

static const char *hold(const char *hu)
{
    return J("{\"hu_id\":\"%s\",\"reason\":\"shade variation\"}", hu);
}

typedef struct {
    char lines[16][96];
    unsigned count;
} listing_t;

static int list_unit(const char *id, const eng_hu_view_t *hu, uint32_t depth, void *data)
{
    listing_t *listing = data;
    cr_assert_lt(listing->count, 16);
    snprintf(listing->lines[listing->count++], 96, "%u %s %s %lld", depth, id, hu->location,
             (long long)hu->qty_milli);
    return 0;
}

/* B1, B2 released in carton C1 on pallet P1 at FG; B3 released and loose at FG. */
static void packed_pallet(void)
{
    bundle("B1", "FG", "100000", true);
    bundle("B2", "FG", "50000", true);
    bundle("B3", "FG", "20000", true);
    POSTED(EV_ROLE_STORE_FINISHED, "HUPacked", pack("C1", "\"B1\",\"B2\"", "FG"));
    POSTED(EV_ROLE_STORE_FINISHED, "HUPalletized", palletize("P1", "\"C1\"", "FG"));
}

Test(flows, packing_makes_a_tree_that_reads_back_with_its_contents)
{
    packed_pallet();
    listing_t listing = {0};
    cr_assert_eq(eng_hu_contents(ledger, "P1", list_unit, &listing), 0);
    cr_assert_eq(listing.count, 4);
    cr_assert_str_eq(listing.lines[0], "0 P1 FG 0");
    cr_assert_str_eq(listing.lines[1], "1 C1 FG 0");
    cr_assert_str_eq(listing.lines[2], "2 B1 FG 100000");
    cr_assert_str_eq(listing.lines[3], "2 B2 FG 50000");
    eng_hu_view_t b1;
    cr_assert_eq(eng_hu_get(ledger, "B1", &b1), 0);
    cr_assert_str_eq(b1.parent, "C1");
    cr_assert_eq(eng_hu_contents(ledger, "NOPE", list_unit, &listing), FL_ENOENT);
}

Test(flows, containment_stays_a_tree_of_released_units_at_one_place)
{
    packed_pallet();
    REFUSED(FL_ERULE_CONTAINMENT, EV_ROLE_STORE_FINISHED, "HUPacked", pack("C2", "\"B1\"", "FG"));
    cr_assert_not_null(strstr(detail, "already in hu-C1"), "%s", detail);
    REFUSED(FL_ERULE_CONTAINMENT, EV_ROLE_STORE_FINISHED, "HUPacked", pack("C1", "\"P1\"", "FG"));
    REFUSED(FL_ERULE_CONTAINMENT, EV_ROLE_STORE_FINISHED, "HUPacked", pack("B3", "\"B3\"", "FG"));
    REFUSED(FL_ERULE_CONTAINMENT, EV_ROLE_STORE_FINISHED, "HUPacked",
            pack("C3", "\"B3\",\"B3\"", "FG"));
    bundle("B4", "FG", "10000", false);
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_FINISHED, "HUPacked", pack("C3", "\"B4\"", "FG"));
    cr_assert_not_null(strstr(detail, "only released"), "%s", detail);
    POSTED(EV_ROLE_QUALITY, "LotPutOnHold", hold("B4"));
    REFUSED(FL_ERULE_HU_HELD, EV_ROLE_STORE_FINISHED, "HUPacked", pack("C3", "\"B4\"", "FG"));
    bundle("B5", "DOCK", "10000", true);
    REFUSED(FL_ERULE_HU_LOCATION, EV_ROLE_STORE_FINISHED, "HUPacked", pack("C3", "\"B5\"", "FG"));
    REFUSED(FL_ERULE_HU_UNKNOWN, EV_ROLE_STORE_FINISHED, "HUPacked", pack("C3", "\"B9\"", "FG"));
    eng_hu_view_t c3;
    cr_assert_eq(eng_hu_get(ledger, "C3", &c3), FL_ENOENT, "no container is left behind");
}

Test(flows, a_container_moves_with_its_contents_and_a_content_never_alone)
{
    packed_pallet();
    REFUSED(FL_ERULE_CONTAINMENT, EV_ROLE_STORE_FINISHED, "StockTransferred",
            move("B1", "FG", "DOCK"));
    cr_assert_not_null(strstr(detail, "inside hu-C1"), "%s", detail);
    POSTED(EV_ROLE_STORE_FINISHED, "StockTransferred", move("P1", "FG", "DOCK"));
    cr_assert_eq(stock("TW-500", "DOCK", "released"), 150000);
    cr_assert_eq(stock("TW-500", "FG", "released"), 20000);
    eng_hu_view_t b2;
    cr_assert_eq(eng_hu_get(ledger, "B2", &b2), 0);
    cr_assert_str_eq(b2.location, "DOCK");
    /* A held content holds the whole pallet back. */
    POSTED(EV_ROLE_QUALITY, "LotPutOnHold", hold("B2"));
    REFUSED(FL_ERULE_HU_HELD, EV_ROLE_STORE_FINISHED, "StockTransferred", move("P1", "DOCK", "FG"));
    cr_assert_not_null(strstr(detail, "hu-B2"), "%s", detail);
}

Test(flows, unpacking_frees_the_unit_where_the_container_is)
{
    packed_pallet();
    const char *unpack = "{\"container_hu_id\":\"C1\",\"hu_ids\":[\"B1\"]}";
    POSTED(EV_ROLE_STORE_FINISHED, "HUUnpacked", unpack);
    REFUSED(FL_ERULE_CONTAINMENT, EV_ROLE_STORE_FINISHED, "HUUnpacked", unpack);
    POSTED(EV_ROLE_STORE_FINISHED, "StockTransferred", move("B1", "FG", "DOCK"));
    listing_t listing = {0};
    cr_assert_eq(eng_hu_contents(ledger, "P1", list_unit, &listing), 0);
    cr_assert_eq(listing.count, 3, "P1 > C1 > B2");
}

static const char *const PLAN = "{\"ship_id\":\"S1\",\"customer_location_id\":\"CUST-1\","
                                "\"planned_at_us\":1767000000000000}";
static const char *const DISPATCH = "{\"ship_id\":\"S1\",\"to_location_id\":\"CUST-1\"}";

static const char *load(const char *ids, const char *from)
{
    return J("{\"ship_id\":\"S1\",\"hu_ids\":[%s],\"from_location_id\":\"%s\"}", ids, from);
}

Test(flows, only_released_units_ship_and_held_ones_never)
{
    packed_pallet();
    bundle("B6", "FG", "5000", false);
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_FINISHED, "ShipmentLoaded", load("\"P1\"", "FG"));
    cr_assert_not_null(strstr(detail, "ShipmentPlanned"), "%s", detail);
    POSTED(EV_ROLE_MANAGER, "ShipmentPlanned", PLAN);
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_FINISHED, "ShipmentDispatched", DISPATCH);
    cr_assert_not_null(strstr(detail, "empty"), "%s", detail);
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_FINISHED, "ShipmentLoaded", load("\"B6\"", "FG"));
    POSTED(EV_ROLE_QUALITY, "LotPutOnHold", hold("B1"));
    REFUSED(FL_ERULE_HU_HELD, EV_ROLE_STORE_FINISHED, "ShipmentLoaded", load("\"P1\"", "FG"));
    cr_assert_not_null(strstr(detail, "hu-B1"), "%s", detail);
    POSTED(EV_ROLE_QUALITY, "LotReleased", J("{\"hu_id\":\"B1\"}"));
    POSTED(EV_ROLE_STORE_FINISHED, "ShipmentLoaded", load("\"P1\",\"B3\"", "FG"));
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_FINISHED, "HUUnpacked",
            "{\"container_hu_id\":\"C1\",\"hu_ids\":[\"B1\"]}");
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_FINISHED, "StockTransferred", move("P1", "FG", "DOCK"));
    cr_assert_not_null(strstr(detail, "ship:S1"), "%s", detail);
    POSTED(EV_ROLE_STORE_FINISHED, "ShipmentUnloaded",
           "{\"ship_id\":\"S1\",\"hu_ids\":[\"B3\"],\"to_location_id\":\"FG\","
           "\"reason\":\"no room\"}");
    POSTED(EV_ROLE_STORE_FINISHED, "ShipmentDispatched", DISPATCH);
    cr_assert_eq(stock("TW-500", "CUST-1", "shipped"), 150000);
    cr_assert_eq(stock("TW-500", "FG", "released"), 20000, "B3 stayed");
    eng_record_view_t ship;
    cr_assert_eq(eng_record_get(ledger, "ship", "S1", &ship), 0);
    cr_assert_str_eq(ship.state, "dispatched");
    cr_assert_eq(ship.count, 1);
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_FINISHED, "ShipmentDispatched", DISPATCH);
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_FINISHED, "ShipmentLoaded", load("\"B3\"", "FG"));
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_FINISHED, "StockTransferred", move("P1", "CUST-1", "FG"));
}

static const char *send(const char *lot, const char *ids, const char *qty)
{
    return J("{\"sublot_id\":\"%s\",\"sub_id\":\"BRODERIE\",\"operation\":\"embroidery\","
             "\"hu_ids\":[%s],\"qty_milli\":%s,\"unit\":\"pcs\",\"from_location_id\":\"FG\","
             "\"to_location_id\":\"SUB-BRODERIE\"}",
             lot, ids, qty);
}

static const char *back(const char *good_id, const char *good, const char *rejected,
                        const char *lost, const char *allowance, bool closes)
{
    return J("{\"sublot_id\":\"L1\",\"sub_id\":\"BRODERIE\",\"good_hu_id\":\"%s\","
             "\"good_qty_milli\":%s,\"rejected_hu_id\":\"%s-R\",\"rejected_qty_milli\":%s,"
             "\"lost_qty_milli\":%s,\"allowance_qty_milli\":%s,\"to_location_id\":\"FG\","
             "\"closes_lot\":%s}",
             good_id, good, good_id, rejected, lost, allowance, closes ? "true" : "false");
}

Test(flows, a_subcontract_lot_balances_within_its_allowance)
{
    bundle("B1", "FG", "100000", true);
    bundle("B2", "FG", "60000", true);
    bundle("B3", "FG", "1000", true);
    POSTED(EV_ROLE_QUALITY, "LotPutOnHold", hold("B3"));
    REFUSED(FL_ERULE_HU_HELD, EV_ROLE_STORE_SUBCONTRACT, "LotSentToSubcontractor",
            send("L1", "\"B3\"", "1000"));
    REFUSED(FL_ERULE_CONSERVATION, EV_ROLE_STORE_SUBCONTRACT, "LotSentToSubcontractor",
            send("L1", "\"B1\",\"B2\"", "150000"));
    POSTED(EV_ROLE_STORE_SUBCONTRACT, "LotSentToSubcontractor",
           send("L1", "\"B1\",\"B2\"", "160000"));
    cr_assert_eq(stock("TW-500", "SUB-BRODERIE", "released"), 160000);
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_FINISHED, "StockTransferred",
            move("B1", "SUB-BRODERIE", "FG"));
    /* More than is out, a close that does not balance, an allowance past 5%. */
    REFUSED(FL_ERULE_CONSERVATION, EV_ROLE_STORE_SUBCONTRACT, "LotReturnedFromSubcontractor",
            back("E1", "150000", "10000", "0", "1000", false));
    REFUSED(FL_ERULE_CONSERVATION, EV_ROLE_STORE_SUBCONTRACT, "LotReturnedFromSubcontractor",
            back("E1", "150000", "0", "0", "0", true));
    REFUSED(FL_ERULE_CONSERVATION, EV_ROLE_STORE_SUBCONTRACT, "LotReturnedFromSubcontractor",
            back("E1", "150000", "0", "0", "10000", true));
    cr_assert_not_null(strstr(detail, "allowance"), "%s", detail);
    /* 120 good now, then 30 good + 4 rejected + 1 lost + 5 allowance to close. */
    POSTED(EV_ROLE_STORE_SUBCONTRACT, "LotReturnedFromSubcontractor",
           back("E1", "120000", "0", "0", "0", false));
    eng_sublot_view_t lot;
    cr_assert_eq(eng_sublot_get(ledger, "L1", &lot), 0);
    cr_assert_str_eq(lot.state, "open");
    cr_assert_eq(lot.out_milli, 40000);
    cr_assert_eq(stock("TW-500", "SUB-BRODERIE", "released"), 40000);
    POSTED(EV_ROLE_STORE_SUBCONTRACT, "LotReturnedFromSubcontractor",
           back("E2", "30000", "4000", "1000", "5000", true));
    cr_assert_eq(eng_sublot_get(ledger, "L1", &lot), 0);
    cr_assert_str_eq(lot.state, "closed");
    cr_assert_eq(lot.out_milli, 0);
    cr_assert_eq(stock("TW-500", "SUB-BRODERIE", "released"), 0);
    cr_assert_eq(stock("TW-500", "FG", "available"), 150000);
    cr_assert_eq(stock("TW-500", "FG", "rejected"), 4000);
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_SUBCONTRACT, "LotReturnedFromSubcontractor",
            back("E3", "1000", "0", "0", "0", false));
}

Test(flows, counts_adjust_book_stock_after_closing_and_never_below_zero)
{
    bundle("B1", "FG", "100000", false);
    const char *counted = "{\"count_id\":\"K1\",\"hu_id\":\"B1\",\"item_id\":\"TW-500\","
                          "\"location_id\":\"FG\",\"counted_qty_milli\":98000,\"unit\":\"pcs\"}";
    const char *adjust = "{\"count_id\":\"K1\",\"hu_id\":\"B1\",\"item_id\":\"TW-500\","
                         "\"location_id\":\"FG\",\"delta_qty_milli\":-2000,\"unit\":\"pcs\"}";
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_FINISHED, "ItemCounted", counted);
    POSTED(EV_ROLE_STORE_FINISHED, "CountOpened",
           "{\"count_id\":\"K1\",\"location_ids\":[\"FG\"],\"scope\":\"cycle\"}");
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_FINISHED, "ItemCounted",
            "{\"count_id\":\"K1\",\"hu_id\":\"B1\",\"item_id\":\"TW-500\","
            "\"location_id\":\"DOCK\",\"counted_qty_milli\":1,\"unit\":\"pcs\"}");
    cr_assert_not_null(strstr(detail, "not counted"), "%s", detail);
    POSTED(EV_ROLE_STORE_FINISHED, "ItemCounted", counted);
    REFUSED(FL_ERULE_STATE, EV_ROLE_MANAGER, "InventoryAdjusted", adjust);
    POSTED(EV_ROLE_STORE_FINISHED, "CountClosed", "{\"count_id\":\"K1\"}");
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_FINISHED, "ItemCounted", counted);
    REFUSED(FL_ERULE_NEGATIVE_STOCK, EV_ROLE_MANAGER, "InventoryAdjusted",
            "{\"count_id\":\"K1\",\"hu_id\":\"B1\",\"item_id\":\"TW-500\","
            "\"location_id\":\"FG\",\"delta_qty_milli\":-100001,\"unit\":\"pcs\"}");
    POSTED(EV_ROLE_MANAGER, "InventoryAdjusted", adjust);
    cr_assert_eq(stock("TW-500", "FG", "available"), 98000);
}

Test(flows, a_transfer_in_transit_arrives_only_where_it_was_sent)
{
    bundle("B1", "FG", "100000", true);
    POSTED(EV_ROLE_STORE_FINISHED, "TransferDispatched", move("B1", "FG", "SHOP"));
    cr_assert_eq(stock("TW-500", "transit", "released"), 100000);
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_FINISHED, "StockTransferred",
            move("B1", "transit", "FG"));
    REFUSED(FL_ERULE_HU_LOCATION, EV_ROLE_STORE_FINISHED, "TransferReceived",
            "{\"hu_id\":\"B1\",\"to_location_id\":\"DOCK\"}");
    POSTED(EV_ROLE_STORE_FINISHED, "TransferReceived",
           "{\"hu_id\":\"B1\",\"to_location_id\":\"SHOP\"}");
    cr_assert_eq(stock("TW-500", "SHOP", "released"), 100000);
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_FINISHED, "TransferReceived",
            "{\"hu_id\":\"B1\",\"to_location_id\":\"SHOP\"}");
}

Test(flows, a_split_conserves_the_unit_and_scrap_never_takes_more_than_is_there)
{
    bundle("B1", "FG", "100000", true);
    const char *bad = "{\"hu_id\":\"B1\",\"outputs\":[{\"hu_id\":\"B1a\",\"qty_milli\":60000},"
                      "{\"hu_id\":\"B1b\",\"qty_milli\":30000}]}";
    REFUSED(FL_ERULE_CONSERVATION, EV_ROLE_STORE_FINISHED, "HUSplit", bad);
    POSTED(EV_ROLE_STORE_FINISHED, "HUSplit",
           "{\"hu_id\":\"B1\",\"outputs\":[{\"hu_id\":\"B1a\",\"qty_milli\":60000},"
           "{\"hu_id\":\"B1b\",\"qty_milli\":40000}]}");
    eng_hu_view_t part;
    cr_assert_eq(eng_hu_get(ledger, "B1b", &part), 0);
    cr_assert_str_eq(part.status, "released", "a part keeps the source's status");
    cr_assert_eq(stock("TW-500", "FG", "released"), 100000);
    const char *scrap = "{\"hu_id\":\"B1a\",\"qty_milli\":60001,\"reason\":\"damaged\"}";
    REFUSED(FL_ERULE_NEGATIVE_STOCK, EV_ROLE_QUALITY, "HUScrapped", scrap);
    POSTED(EV_ROLE_QUALITY, "LotRejected",
           "{\"hu_id\":\"B1a\",\"reason\":\"stains\",\"disposition\":\"scrap\"}");
    POSTED(EV_ROLE_QUALITY, "HUScrapped",
           "{\"hu_id\":\"B1a\",\"qty_milli\":60000,\"reason\":\"damaged\"}");
    cr_assert_eq(stock("TW-500", "FG", "rejected"), 0);
    REFUSED(FL_ERULE_STATE, EV_ROLE_QUALITY, "HUScrapped",
            "{\"hu_id\":\"B1a\",\"qty_milli\":1,\"reason\":\"damaged\"}");
    /* Voiding: only a unit that holds nothing. */
    POSTED(EV_ROLE_STORE_FINISHED, "HUPacked", pack("C1", "\"B1b\"", "FG"));
    REFUSED(FL_ERULE_CONTAINMENT, EV_ROLE_MANAGER, "HUVoided",
            "{\"hu_id\":\"C1\",\"reason\":\"wrong label\"}");
    REFUSED(FL_ERULE_STATE, EV_ROLE_MANAGER, "HUVoided",
            "{\"hu_id\":\"B1b\",\"reason\":\"wrong label\"}");
    bundle("B2", "FG", "5000", false);
    POSTED(EV_ROLE_MANAGER, "HUVoided", "{\"hu_id\":\"B2\",\"reason\":\"wrong label\"}");
    cr_assert_eq(stock("TW-500", "FG", "available"), 0);
}

Test(flows, a_label_is_printed_once_and_then_only_reprinted)
{
    bundle("B1", "FG", "100000", true);
    const char *print = "{\"hu_id\":\"B1\",\"printer\":\"zebra-1\",\"format\":\"zpl\"}";
    const char *reprint = "{\"hu_id\":\"B1\",\"reason_code\":\"damaged\",\"reason\":\"torn\","
                          "\"printer\":\"zebra-1\",\"format\":\"zpl\"}";
    REFUSED(FL_ERULE_STATE, EV_ROLE_WEAVER, "LabelReprinted", reprint);
    REFUSED(FL_ERULE_HU_UNKNOWN, EV_ROLE_WEAVER, "LabelPrinted",
            "{\"hu_id\":\"B9\",\"printer\":\"zebra-1\",\"format\":\"zpl\"}");
    POSTED(EV_ROLE_WEAVER, "LabelPrinted", print);
    REFUSED(FL_ERULE_STATE, EV_ROLE_WEAVER, "LabelPrinted", print);
    cr_assert_not_null(strstr(detail, "LabelReprinted"), "%s", detail);
    POSTED(EV_ROLE_WEAVER, "LabelReprinted", reprint);
    eng_record_view_t label;
    cr_assert_eq(eng_record_get(ledger, "label", "B1", &label), 0);
    cr_assert_eq(label.count, 2);
}

static const char *issue(const char *qty, const char *loom, const char *of)
{
    return J("{\"hu_id\":\"Y1\",\"loom_id\":\"%s\",\"of_id\":\"%s\",\"qty_milli\":%s,"
             "\"from_location_id\":\"MP1\"}",
             loom, of, qty);
}

Test(flows, yarn_goes_to_a_running_order_and_comes_back_only_as_much_as_went)
{
    start_weaving();
    POSTED(EV_ROLE_STORE_RAW, "GoodsReceived", RECEIVE("Y1", "25000"));
    REFUSED(FL_ERULE_NEGATIVE_STOCK, EV_ROLE_STORE_RAW, "MaterialIssuedToLoom",
            issue("25001", "L012", "OF7"));
    REFUSED(FL_ERULE_STATE, EV_ROLE_STORE_RAW, "MaterialIssuedToLoom",
            issue("1000", "L012", "OF8"));
    POSTED(EV_ROLE_STORE_RAW, "MaterialIssuedToLoom", issue("10000", "L012", "OF7"));
    cr_assert_eq(stock("YARN-30", "MP1", "available"), 15000);
    const char *give_back = "{\"hu_id\":\"Y1\",\"qty_milli\":%s,\"to_location_id\":\"MP1\","
                            "\"reason\":\"leftover\"}";
    REFUSED(FL_ERULE_CONSERVATION, EV_ROLE_STORE_RAW, "MaterialReturned", J(give_back, "10001"));
    POSTED(EV_ROLE_STORE_RAW, "MaterialReturned", J(give_back, "4000"));
    eng_hu_view_t yarn;
    cr_assert_eq(eng_hu_get(ledger, "Y1", &yarn), 0);
    cr_assert_eq(yarn.qty_milli, 19000);
    cr_assert_eq(yarn.out_milli, 6000);
}

static const char *step(const char *extra)
{
    return J("{\"int_id\":\"I1\",\"loom_id\":\"L1\"%s}", extra);
}

Test(flows, interventions_follow_their_state_machine)
{
    POSTED(EV_ROLE_MANAGER, "LoomDefined", LOOM("L1"));
    const char *request = ",\"fault_class\":\"warp\",\"urgency\":\"high\"";
    REFUSED(FL_ERULE_STATE, EV_ROLE_MECHANIC, "InterventionStarted", step(""));
    REFUSED(FL_ERULE_STATE, EV_ROLE_WEAVER, "InterventionRequested",
            J("{\"int_id\":\"I1\",\"loom_id\":\"L404\"%s}", request));
    POSTED(EV_ROLE_WEAVER, "InterventionRequested", step(request));
    REFUSED(FL_ERULE_STATE, EV_ROLE_WEAVER, "InterventionRequested", step(request));
    POSTED(EV_ROLE_MECHANIC, "InterventionAcknowledged", step(""));
    REFUSED(FL_ERULE_STATE, EV_ROLE_MECHANIC, "InterventionPaused",
            step(",\"reason\":\"waiting_parts\""));
    POSTED(EV_ROLE_MECHANIC, "InterventionStarted", step(""));
    POSTED(EV_ROLE_MECHANIC, "InterventionPaused", step(",\"reason\":\"waiting_parts\""));
    REFUSED(FL_ERULE_STATE, EV_ROLE_MECHANIC, "InterventionCancelled",
            step(",\"reason\":\"too late\""));
    POSTED(EV_ROLE_MECHANIC, "InterventionResumed", step(""));
    const char *done = ",\"root_cause\":\"wear\",\"root_cause_detail\":\"heddle worn\"";
    POSTED(EV_ROLE_MECHANIC, "InterventionCompleted", step(done));
    REFUSED(FL_ERULE_STATE, EV_ROLE_MECHANIC, "InterventionCompleted", step(done));
    eng_record_view_t work;
    cr_assert_eq(eng_record_get(ledger, "int", "I1", &work), 0);
    cr_assert_str_eq(work.state, "completed");
    cr_assert_str_eq(work.subject, "L1");
}

Test(flows, a_non_conformity_closes_only_after_containment_and_corrective_action)
{
    const char *open = "{\"nc_id\":\"N1\",\"title\":\"Stains\",\"description\":\"oil on roll\","
                       "\"source\":\"weaving\",\"severity\":\"major\"}";
    const char *contain = "{\"nc_id\":\"N1\",\"action\":\"rolls of L1 on hold\"}";
    const char *act = "{\"nc_id\":\"N1\",\"root_cause\":\"leak\",\"action\":\"new seal\"}";
    const char *close = "{\"nc_id\":\"N1\",\"effective\":true,\"conclusion\":\"no more oil\"}";
    REFUSED(FL_ERULE_STATE, EV_ROLE_QUALITY, "ContainmentRecorded", contain);
    POSTED(EV_ROLE_QUALITY, "NCOpened", open);
    REFUSED(FL_ERULE_STATE, EV_ROLE_QUALITY, "NCOpened", open);
    REFUSED(FL_ERULE_STATE, EV_ROLE_QUALITY, "CorrectiveActionRecorded", act);
    REFUSED(FL_ERULE_STATE, EV_ROLE_QUALITY, "NCClosed", close);
    POSTED(EV_ROLE_QUALITY, "ContainmentRecorded", contain);
    POSTED(EV_ROLE_QUALITY, "CorrectiveActionRecorded", act);
    POSTED(EV_ROLE_QUALITY, "NCClosed", close);
    REFUSED(FL_ERULE_STATE, EV_ROLE_QUALITY, "ContainmentRecorded", contain);
    eng_record_view_t nc;
    cr_assert_eq(eng_record_get(ledger, "nc", "N1", &nc), 0);
    cr_assert_str_eq(nc.state, "closed");
}

Test(flows, a_deviation_releases_only_a_held_unit)
{
    bundle("B1", "FG", "1000", false);
    const char *deviation = "{\"hu_id\":\"B1\",\"reason\":\"customer accepts the shade\"}";
    REFUSED(FL_ERULE_STATE, EV_ROLE_QUALITY, "DeviationApproved", deviation);
    POSTED(EV_ROLE_QUALITY, "LotPutOnHold", hold("B1"));
    POSTED(EV_ROLE_QUALITY, "DeviationApproved", deviation);
    cr_assert_eq(stock("TW-500", "FG", "released"), 1000);
}

Test(flows, an_orders_plan_never_falls_below_what_was_declared)
{
    start_weaving();
    POSTED(EV_ROLE_WEAVER, "ProductionDeclared", ROLL("R1"));
    REFUSED(FL_ERULE_OVERPRODUCTION, EV_ROLE_MANAGER, "OFQuantityRevised",
            "{\"of_id\":\"OF7\",\"planned_qty_milli\":119999,\"reason\":\"less yarn\"}");
    POSTED(EV_ROLE_MANAGER, "OFQuantityRevised",
           "{\"of_id\":\"OF7\",\"planned_qty_milli\":500000,\"reason\":\"less yarn\"}");
    eng_order_view_t order;
    cr_assert_eq(eng_order_get(ledger, "OF7", &order), 0);
    cr_assert_eq(order.planned_milli, 500000);
    cr_assert_eq(order.declared_milli, 120000);
    cr_assert_str_eq(order.state, "in progress");
}

Test(flows, the_stock_listing_filters_by_item_location_status_and_grade)
{
    bundle("B1", "FG", "1000", true);
    bundle("B2", "DOCK", "2000", false);
    POSTED(EV_ROLE_STORE_RAW, "GoodsReceived", RECEIVE("Y1", "25000"));
    char text[8192] = "";
    eng_stock_filter_t filter = {.item = "TW-500", .grade = -1};
    cr_assert_eq(eng_stock_each(ledger, &filter, snapshot_row, text), 0);
    cr_assert_str_eq(text, "TW-500/DOCK/available/0=2000;TW-500/FG/released/0=1000;");
    text[0] = '\0';
    filter = (eng_stock_filter_t){.status = "available", .grade = 0};
    cr_assert_eq(eng_stock_each(ledger, &filter, snapshot_row, text), 0);
    cr_assert_str_eq(text, "TW-500/DOCK/available/0=2000;YARN-30/MP1/available/0=25000;");
    filter.status = "lost";
    cr_assert_eq(eng_stock_each(ledger, &filter, snapshot_row, text), FL_EINVAL);
}

Test(flows, a_weaver_takes_a_loom_once_and_leaves_only_a_loom_he_runs)
{
    POSTED(EV_ROLE_MANAGER, "LoomDefined", LOOM("L1"));
    const char *take = "{\"loom_id\":\"L1\",\"user_id\":\"%s\"}";
    REFUSED(FL_ERULE_STATE, EV_ROLE_WEAVER, "OperatorAssignedToLoom",
            "{\"loom_id\":\"L404\",\"user_id\":\"amel\"}");
    POSTED(EV_ROLE_WEAVER, "OperatorAssignedToLoom", J(take, "amel"));
    REFUSED(FL_ERULE_STATE, EV_ROLE_WEAVER, "OperatorAssignedToLoom", J(take, "amel"));
    POSTED(EV_ROLE_WEAVER, "OperatorAssignedToLoom", J(take, "sami"));
    REFUSED(FL_ERULE_STATE, EV_ROLE_WEAVER, "OperatorUnassignedFromLoom", J(take, "nour"));
    POSTED(EV_ROLE_WEAVER, "OperatorUnassignedFromLoom", J(take, "amel"));
    eng_loom_view_t loom;
    cr_assert_eq(eng_loom_get(ledger, "L1", &loom), 0);
    cr_assert_str_eq(loom.operators[0], "");
    cr_assert_str_eq(loom.operators[1], "sami");
    for (const char *name = "abc"; *name != '\0'; name++) {
        char user[8];
        snprintf(user, sizeof(user), "op-%c", *name);
        POSTED(EV_ROLE_WEAVER, "OperatorAssignedToLoom", J(take, user));
    }
    REFUSED(FL_ERULE_STATE, EV_ROLE_WEAVER, "OperatorAssignedToLoom", J(take, "op-d"));
    cr_assert_not_null(strstr(detail, "4 operators"), "%s", detail);
}

Test(flows, rejects_left_at_the_subcontractor_are_written_off_without_a_unit)
{
    bundle("B1", "FG", "10000", true);
    POSTED(EV_ROLE_STORE_SUBCONTRACT, "LotSentToSubcontractor", send("L1", "\"B1\"", "10000"));
    POSTED(EV_ROLE_STORE_SUBCONTRACT, "LotReturnedFromSubcontractor",
           "{\"sublot_id\":\"L1\",\"sub_id\":\"BRODERIE\",\"good_hu_id\":\"E1\","
           "\"good_qty_milli\":9000,\"rejected_qty_milli\":1000,\"lost_qty_milli\":0,"
           "\"allowance_qty_milli\":0,\"to_location_id\":\"FG\",\"closes_lot\":true}");
    cr_assert_eq(stock("TW-500", "FG", "available"), 9000);
    cr_assert_eq(stock("TW-500", "FG", "rejected"), 0, "the rejects stayed there");
    cr_assert_eq(stock("TW-500", "SUB-BRODERIE", "released"), 0);
    eng_sublot_view_t lot;
    cr_assert_eq(eng_sublot_get(ledger, "L1", &lot), 0);
    cr_assert_eq(lot.rejected_milli, 1000);
}
