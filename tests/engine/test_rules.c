/*
 * Tests of the plant's rules (rules.c), posted as the apps will: JSON through the catalog, into
 * a plant ledger. Each violation is refused with its code and a detail naming the entity, and
 * leaves the log and the state as they were.
 */
#include "tests/engine/plant.h"

#include "engine/rules_int.h"

TestSuite(rules, .init = setup, .fini = teardown, .timeout = 30);

Test(rules, received_goods_become_a_unit_and_stock)
{
    cr_assert_eq(post(EV_ROLE_STORE_RAW, "GoodsReceived", RECEIVE("Y1", "25000")), 0);
    eng_hu_view_t hu;
    cr_assert_eq(eng_hu_get(ledger, "Y1", &hu), 0);
    cr_assert_str_eq(hu.status, "available");
    cr_assert_str_eq(hu.location, "MP1");
    cr_assert_eq(hu.qty_milli, 25000);
    cr_assert_eq(stock("YARN-30", "MP1", "available"), 25000);
    cr_assert_eq(eng_hu_get(ledger, "Y2", &hu), FL_ENOENT);
}

Test(rules, a_unit_cannot_be_created_twice)
{
    cr_assert_eq(post(EV_ROLE_STORE_RAW, "GoodsReceived", RECEIVE("Y1", "25000")), 0);
    uint64_t before = head_seq();
    cr_assert_eq(post(EV_ROLE_STORE_RAW, "GoodsReceived", RECEIVE("Y1", "9000")),
                 FL_ERULE_HU_EXISTS);
    cr_assert_not_null(strstr(detail, "hu-Y1"), "%s", detail);
    cr_assert_eq(head_seq(), before);
    cr_assert_eq(stock("YARN-30", "MP1", "available"), 25000);
}

Test(rules, a_move_takes_the_unit_and_its_stock_along)
{
    cr_assert_eq(post(EV_ROLE_STORE_RAW, "GoodsReceived", RECEIVE("Y1", "25000")), 0);
    cr_assert_eq(post(EV_ROLE_STORE_RAW, "StockTransferred", MOVE("Y1", "MP1", "MP2")), 0);
    cr_assert_eq(stock("YARN-30", "MP1", "available"), 0);
    cr_assert_eq(stock("YARN-30", "MP2", "available"), 25000);
}

Test(rules, a_move_from_where_the_unit_is_not_is_refused_and_changes_nothing)
{
    cr_assert_eq(post(EV_ROLE_STORE_RAW, "GoodsReceived", RECEIVE("Y1", "25000")), 0);
    uint64_t before = head_seq();
    cr_assert_eq(post(EV_ROLE_STORE_RAW, "StockTransferred", MOVE("Y1", "MP9", "MP2")),
                 FL_ERULE_HU_LOCATION);
    cr_assert_not_null(strstr(detail, "loc-MP1"), "%s", detail);
    cr_assert_eq(head_seq(), before);
    eng_hu_view_t hu;
    cr_assert_eq(eng_hu_get(ledger, "Y1", &hu), 0);
    cr_assert_str_eq(hu.location, "MP1");
    cr_assert_eq(stock("YARN-30", "MP2", "available"), 0);
}

Test(rules, an_unknown_unit_cannot_move)
{
    cr_assert_eq(post(EV_ROLE_STORE_RAW, "StockTransferred", MOVE("GHOST", "MP1", "MP2")),
                 FL_ERULE_HU_UNKNOWN);
    cr_assert_eq(head_seq(), 0);
}

Test(rules, a_held_unit_does_not_move_until_released)
{
    cr_assert_eq(post(EV_ROLE_STORE_RAW, "GoodsReceived", RECEIVE("Y1", "25000")), 0);
    cr_assert_eq(
        post(EV_ROLE_QUALITY, "LotPutOnHold", "{\"hu_id\":\"Y1\",\"reason\":\"moisture\"}"), 0);
    cr_assert_eq(stock("YARN-30", "MP1", "on hold"), 25000);
    cr_assert_eq(stock("YARN-30", "MP1", "available"), 0);
    uint64_t before = head_seq();
    cr_assert_eq(post(EV_ROLE_STORE_RAW, "StockTransferred", MOVE("Y1", "MP1", "MP2")),
                 FL_ERULE_HU_HELD);
    cr_assert_eq(head_seq(), before);
    cr_assert_eq(post(EV_ROLE_QUALITY, "LotReleased", "{\"hu_id\":\"Y1\"}"), 0);
    cr_assert_eq(post(EV_ROLE_STORE_RAW, "StockTransferred", MOVE("Y1", "MP1", "MP2")), 0);
    cr_assert_eq(stock("YARN-30", "MP2", "released"), 25000);
}

Test(rules, a_rejected_unit_cannot_be_released)
{
    cr_assert_eq(post(EV_ROLE_STORE_RAW, "GoodsReceived", RECEIVE("Y1", "25000")), 0);
    cr_assert_eq(post(EV_ROLE_QUALITY, "LotRejected",
                      "{\"hu_id\":\"Y1\",\"reason\":\"wrong count\",\"disposition\":\"scrap\"}"),
                 0);
    uint64_t before = head_seq();
    cr_assert_eq(post(EV_ROLE_QUALITY, "LotReleased", "{\"hu_id\":\"Y1\"}"), FL_ERULE_STATE);
    cr_assert_not_null(strstr(detail, "rejected"), "%s", detail);
    cr_assert_eq(head_seq(), before);
}

Test(rules, a_cut_conserves_quantity_within_the_articles_tolerance)
{
    start_weaving(); /* TW-500 cuts within 1% */
    cr_assert_eq(post(EV_ROLE_WEAVER, "ProductionDeclared", ROLL("R1")), 0);
    /* 120 pieces consumed; 100 + 18 + 1 = 119 is within 1.2 pieces. */
    cr_assert_eq(
        post(EV_ROLE_CUTTER, "CuttingDeclared", CUT("R1", "120000", "100000", "18000", "1000")), 0,
        "%s", detail);
    eng_hu_view_t roll, bundle;
    cr_assert_eq(eng_hu_get(ledger, "R1", &roll), 0);
    cr_assert_str_eq(roll.status, "consumed");
    cr_assert_eq(roll.qty_milli, 0);
    cr_assert_eq(eng_hu_get(ledger, "R1-A", &bundle), 0);
    cr_assert_eq(bundle.grade, 1);
    cr_assert_str_eq(bundle.location, "CUT");
    cr_assert_eq(stock("TW-500", "CUT", "available"), 118000);
    cr_assert_eq(stock("TW-500", "WEAVING", "available"), 0);
}

Test(rules, a_cut_that_loses_pieces_is_refused_and_changes_nothing)
{
    start_weaving();
    cr_assert_eq(post(EV_ROLE_WEAVER, "ProductionDeclared", ROLL("R1")), 0);
    uint64_t before = head_seq();
    cr_assert_eq(
        post(EV_ROLE_CUTTER, "CuttingDeclared", CUT("R1", "120000", "100000", "10000", "1000")),
        FL_ERULE_CONSERVATION);
    cr_assert_not_null(strstr(detail, "hu-R1"), "%s", detail);
    cr_assert_eq(head_seq(), before);
    eng_hu_view_t roll;
    cr_assert_eq(eng_hu_get(ledger, "R1", &roll), 0);
    cr_assert_eq(roll.qty_milli, 120000);
    cr_assert_eq(eng_hu_get(ledger, "R1-A", &roll), FL_ENOENT);
    cr_assert_eq(stock("TW-500", "CUT", "available"), 0);
}

Test(rules, a_cut_cannot_consume_more_than_the_roll_holds)
{
    start_weaving();
    cr_assert_eq(post(EV_ROLE_WEAVER, "ProductionDeclared", ROLL("R1")), 0);
    cr_assert_eq(
        post(EV_ROLE_CUTTER, "CuttingDeclared", CUT("R1", "130000", "110000", "19000", "1000")),
        FL_ERULE_NEGATIVE_STOCK);
    cr_assert_eq(stock("TW-500", "WEAVING", "available"), 120000);
}

Test(rules, a_held_roll_cannot_be_cut)
{
    start_weaving();
    cr_assert_eq(post(EV_ROLE_WEAVER, "ProductionDeclared", ROLL("R1")), 0);
    cr_assert_eq(post(EV_ROLE_QUALITY, "LotPutOnHold", "{\"hu_id\":\"R1\",\"reason\":\"stains\"}"),
                 0);
    cr_assert_eq(
        post(EV_ROLE_CUTTER, "CuttingDeclared", CUT("R1", "120000", "100000", "20000", "0")),
        FL_ERULE_HU_HELD);
}

Test(rules, an_atomic_group_with_a_broken_rule_leaves_no_state_behind)
{
    const char *types[] = {"GoodsReceived", "StockTransferred"};
    const char *payloads[] = {RECEIVE("Y5", "1000"), MOVE("Y5", "MP7", "MP2")};
    cr_assert_eq(post_group(EV_ROLE_STORE_RAW, types, payloads, 2), FL_ERULE_HU_LOCATION);
    eng_hu_view_t hu;
    cr_assert_eq(eng_hu_get(ledger, "Y5", &hu), FL_ENOENT, "the receipt was rolled back");
    cr_assert_eq(stock("YARN-30", "MP1", "available"), 0);
    cr_assert_eq(head_seq(), 0);
}

Test(rules, a_plant_ledger_refuses_types_outside_the_catalog)
{
    test_event_t e;
    test_event_make(&e, "hu-1", 1);
    e.event.type = "TeleportDeclared";
    eng_position_t position;
    cr_assert_eq(eng_append(ledger, &e.event, 1, 0, &position, NULL), FL_EUNKNOWN_TYPE);
    cr_assert_eq(head_seq(), 0);
}

Test(rules, production_needs_an_order_in_progress_on_that_loom)
{
    cr_assert_eq(post(EV_ROLE_MANAGER, "ArticleSpecDefined", SPEC("10")), 0);
    cr_assert_eq(post(EV_ROLE_MANAGER, "LoomDefined", LOOM("L012")), 0);
    cr_assert_eq(post(EV_ROLE_MANAGER, "OFCreated", ORDER("OF7", "1000000")), 0);
    uint64_t before = head_seq();
    cr_assert_eq(post(EV_ROLE_WEAVER, "ProductionDeclared", ROLL("R1")), FL_ERULE_STATE);
    cr_assert_not_null(strstr(detail, "of-OF7"), "%s", detail);
    cr_assert_eq(post(EV_ROLE_WEAVER, "OFStartedOnLoom", ON_LOOM("L012", "OF7")), FL_ERULE_STATE,
                 "an order starts only once released");
    cr_assert_eq(head_seq(), before);
    eng_hu_view_t hu;
    cr_assert_eq(eng_hu_get(ledger, "R1", &hu), FL_ENOENT);
}

Test(rules, production_waits_for_a_passed_first_piece_when_the_article_requires_one)
{
    cr_assert_eq(post(EV_ROLE_MANAGER, "ArticleSpecDefined", SPEC("10")), 0);
    cr_assert_eq(post(EV_ROLE_MANAGER, "LoomDefined", LOOM("L012")), 0);
    cr_assert_eq(post(EV_ROLE_MANAGER, "OFCreated", ORDER("OF7", "1000000")), 0);
    cr_assert_eq(post(EV_ROLE_MANAGER, "OFReleased", "{\"of_id\":\"OF7\"}"), 0);
    cr_assert_eq(post(EV_ROLE_WEAVER, "OFStartedOnLoom", ON_LOOM("L012", "OF7")), 0);
    cr_assert_eq(post(EV_ROLE_WEAVER, "ProductionDeclared", ROLL("R1")), FL_ERULE_STATE);
    cr_assert_not_null(strstr(detail, "first piece"), "%s", detail);
    cr_assert_eq(
        post(EV_ROLE_MECHANIC, "FirstPieceInspected", FIRST_PIECE("L012", "OF7", "failed")), 0);
    cr_assert_eq(post(EV_ROLE_WEAVER, "ProductionDeclared", ROLL("R1")), FL_ERULE_STATE);
    cr_assert_eq(
        post(EV_ROLE_MECHANIC, "FirstPieceInspected", FIRST_PIECE("L012", "OF7", "passed")), 0);
    cr_assert_eq(post(EV_ROLE_WEAVER, "ProductionDeclared", ROLL("R1")), 0, "%s", detail);
}

Test(rules, production_stops_at_the_plan_plus_the_allowed_over_production)
{
    start_weaving(); /* 1,000 pieces + 5% = 1,050; each roll is 120 pieces */
    char id[16];
    for (int roll = 0; roll < 8; roll++) { /* 960 pieces */
        const char *type = "ProductionDeclared";
        char payload[512];
        snprintf(id, sizeof(id), "R%d", roll);
        snprintf(payload, sizeof(payload),
                 "{\"hu_id\":\"%s\",\"of_id\":\"OF7\",\"loom_id\":\"L012\","
                 "\"item_id\":\"TW-500\",\"qty_milli\":120000,\"unit\":\"pcs\","
                 "\"location_id\":\"WEAVING\",\"length_milli\":60000,\"picks\":%d}",
                 id, 1000 + roll);
        const char *payloads[] = {payload};
        cr_assert_eq(post_group(EV_ROLE_WEAVER, &type, payloads, 1), 0, "%s", detail);
    }
    uint64_t before = head_seq();
    cr_assert_eq(post(EV_ROLE_WEAVER, "ProductionDeclared", ROLL("R9")), FL_ERULE_OVERPRODUCTION);
    cr_assert_not_null(strstr(detail, "of-OF7"), "%s", detail);
    cr_assert_eq(head_seq(), before);
    cr_assert_eq(stock("TW-500", "WEAVING", "available"), 960000);
}

Test(rules, order_states_follow_their_machine)
{
    cr_assert_eq(post(EV_ROLE_MANAGER, "OFCreated", ORDER("OF8", "1000")), 0);
    cr_assert_eq(post(EV_ROLE_MANAGER, "OFCreated", ORDER("OF8", "1000")), FL_ERULE_STATE);
    cr_assert_eq(post(EV_ROLE_MANAGER, "OFClosed", "{\"of_id\":\"OF8\"}"), FL_ERULE_STATE,
                 "a created order is released before it closes");
    cr_assert_eq(post(EV_ROLE_MANAGER, "OFCancelled", "{\"of_id\":\"OF8\",\"reason\":\"dup\"}"), 0);
    cr_assert_eq(post(EV_ROLE_MANAGER, "OFReleased", "{\"of_id\":\"OF8\"}"), FL_ERULE_STATE);
    cr_assert_not_null(strstr(detail, "cancelled"), "%s", detail);
}

Test(rules, a_loom_is_stopped_or_running_never_twice_the_same)
{
    cr_assert_eq(post(EV_ROLE_MANAGER, "LoomDefined", LOOM("L3")), 0);
    const char *stop = "{\"loom_id\":\"L3\",\"stop_class\":\"warp\",\"reason_code\":\"W12\","
                       "\"picks\":500}";
    cr_assert_eq(post(EV_ROLE_WEAVER, "LoomStopped", stop), 0);
    cr_assert_eq(post(EV_ROLE_WEAVER, "LoomStopped", stop), FL_ERULE_STATE);
    cr_assert_eq(post(EV_ROLE_WEAVER, "LoomRestarted", "{\"loom_id\":\"L3\",\"picks\":500}"), 0);
    cr_assert_eq(post(EV_ROLE_WEAVER, "LoomRestarted", "{\"loom_id\":\"L3\",\"picks\":501}"),
                 FL_ERULE_STATE);
    cr_assert_eq(post(EV_ROLE_WEAVER, "LoomStopped",
                      "{\"loom_id\":\"L404\",\"stop_class\":\"weft\",\"reason_code\":\"x\","
                      "\"picks\":1}"),
                 FL_ERULE_STATE, "an undefined loom");
}

Test(rules, a_beam_is_on_one_loom_and_a_position_holds_one_beam)
{
    cr_assert_eq(post(EV_ROLE_MANAGER, "LoomDefined", LOOM("L1")), 0);
    cr_assert_eq(post(EV_ROLE_MANAGER, "LoomDefined", LOOM("L2")), 0);
    REFUSED(FL_ERULE_STATE, EV_ROLE_MECHANIC, "BeamMounted", BEAM("B1", "L1", "pile", "3000000"));
    cr_assert_not_null(strstr(detail, "not registered"), "%s", detail);
    POSTED(EV_ROLE_MANAGER, "BeamRegistered", REGISTER("B1", "pile", "3000000"));
    POSTED(EV_ROLE_MANAGER, "BeamRegistered", REGISTER("B2", "ground", "3000000"));
    REFUSED(FL_ERULE_STATE, EV_ROLE_MECHANIC, "BeamMounted", BEAM("B1", "L1", "ground", "3000000"));
    cr_assert_not_null(strstr(detail, "pile beam"), "%s", detail);
    REFUSED(FL_ERULE_CONSERVATION, EV_ROLE_MECHANIC, "BeamMounted",
            BEAM("B1", "L1", "pile", "3000001"));
    cr_assert_eq(post(EV_ROLE_MECHANIC, "BeamMounted", BEAM("B1", "L1", "pile", "3000000")), 0,
                 "%s", detail);
    cr_assert_eq(post(EV_ROLE_MECHANIC, "BeamMounted", BEAM("B1", "L2", "pile", "3000000")),
                 FL_ERULE_STATE);
    cr_assert_not_null(strstr(detail, "loom-L1"), "%s", detail);
    cr_assert_eq(post(EV_ROLE_MECHANIC, "BeamMounted", BEAM("B2", "L1", "pile", "3000000")),
                 FL_ERULE_STATE);
    cr_assert_not_null(strstr(detail, "beam-B1"), "%s", detail);
    cr_assert_eq(post(EV_ROLE_MECHANIC, "BeamMounted", BEAM("B2", "L1", "ground", "2000000")), 0);
    cr_assert_eq(post(EV_ROLE_MECHANIC, "BeamDismounted", UNBEAM("B1", "L1", "pile", "3500000")),
                 FL_ERULE_CONSERVATION, "a beam does not grow");
    cr_assert_eq(post(EV_ROLE_MECHANIC, "BeamDismounted", UNBEAM("B1", "L2", "pile", "100")),
                 FL_ERULE_STATE);
    cr_assert_eq(post(EV_ROLE_MECHANIC, "BeamDismounted", UNBEAM("B1", "L1", "pile", "150000")), 0,
                 "%s", detail);
    cr_assert_eq(post(EV_ROLE_MECHANIC, "BeamMounted", BEAM("B1", "L2", "pile", "150000")), 0,
                 "once dismounted it may go elsewhere: %s", detail);
}

/* ---- the stored form of the state's records (rules.c) */

Test(rules, a_packed_state_record_reads_back_whole_and_a_record_stored_whole_still_reads)
{
    loom_t loom = {.format = 1, .stopped = true, .since_seq = 4242};
    strcpy(loom.order, "OF2026-001");
    strcpy(loom.beams[BEAM_PILE], "BM-7");
    strcpy(loom.stop_class, "mechanical");
    strcpy(loom.operators[2], "amel");
    uint8_t packed[ENG_STATE_PACKED_MAX(sizeof(loom_t))];
    size_t len = eng__state_pack(&loom, sizeof(loom), packed, sizeof(packed));
    cr_assert_lt(len, sizeof(loom) / 4, "packed into %zu bytes", len);
    loom_t back;
    MDB_val value = {.mv_size = len, .mv_data = packed};
    cr_assert(eng__state_unpack(&value, &back, sizeof(back)));
    cr_assert_arr_eq(&back, &loom, sizeof(loom));
    value = (MDB_val){.mv_size = sizeof(loom), .mv_data = &loom}; /* as earlier versions did */
    memset(&back, 0, sizeof(back));
    cr_assert(eng__state_unpack(&value, &back, sizeof(back)));
    cr_assert_arr_eq(&back, &loom, sizeof(loom));
}

Test(rules, a_packed_state_record_that_does_not_fit_its_layout_is_refused)
{
    order_t order = {.format = 1, .state = OF_RELEASED, .planned_milli = 5000000};
    strcpy(order.item, "TW-500");
    uint8_t packed[ENG_STATE_PACKED_MAX(sizeof(order_t))];
    size_t len = eng__state_pack(&order, sizeof(order), packed, sizeof(packed));
    order_t back;
    MDB_val value = {.mv_size = len - 1, .mv_data = packed}; /* its last count of zeros cut */
    cr_assert_not(eng__state_unpack(&value, &back, sizeof(back)));
    value.mv_size = len;
    cr_assert_not(eng__state_unpack(&value, &back, sizeof(back) - 1), "a record too short");
    cr_assert_not(eng__state_unpack(&value, &back, sizeof(back) + 1), "or too long");
    packed[0] = 3;
    cr_assert_not(eng__state_unpack(&value, &back, sizeof(back)), "an unknown format");
    packed[0] = 2;
    packed[1] = 200; /* more bytes given than follow */
    cr_assert_not(eng__state_unpack(&value, &back, sizeof(back)));
}

Test(rules, a_state_record_that_would_not_shrink_is_stored_whole)
{
    /* Text fields keep old bytes past their end (an id overwritten by a shorter one): here
     * every other byte of the loom is not zero, which packs to more than the record. */
    loom_t loom;
    memset(&loom, 0, sizeof(loom));
    uint8_t *bytes = (uint8_t *)&loom;
    for (size_t i = 1; i < sizeof(loom); i += 2)
        bytes[i] = 'a';
    loom.format = 1;
    uint8_t packed[ENG_STATE_PACKED_MAX(sizeof(loom_t))];
    size_t len = eng__state_pack(&loom, sizeof(loom), packed, sizeof(packed));
    cr_assert_eq(len, sizeof(loom), "stored whole");
    loom_t back;
    MDB_val value = {.mv_size = len, .mv_data = packed};
    cr_assert(eng__state_unpack(&value, &back, sizeof(back)));
    cr_assert_arr_eq(&back, &loom, sizeof(loom));
}

Test(rules, a_state_record_of_any_shape_packs_in_runs_of_at_most_255_and_reads_back)
{
    /* Runs are scanned a word at a time: records of every length from 2, with runs of zeros
     * and of other bytes up to 600 long, starting at any offset, must come back whole. */
    enum { SIZE_MAX_ = 1400 };
    static uint8_t record[SIZE_MAX_], back[SIZE_MAX_], packed[ENG_STATE_PACKED_MAX(SIZE_MAX_)];
    uint64_t random = 0x2545f4914f6cdd1dull;
    for (int round = 0; round < 4000; round++) {
        random ^= random << 13, random ^= random >> 7, random ^= random << 17;
        size_t size = 2 + (size_t)(random % (SIZE_MAX_ - 1));
        record[0] = 1;
        for (size_t i = 1; i < size;) {
            random ^= random << 13, random ^= random >> 7, random ^= random << 17;
            size_t run = 1 + (size_t)((random >> 8) % 600);
            bool zeros = (random & 1) != 0;
            for (; run > 0 && i < size; run--, i++)
                record[i] = zeros ? 0 : (uint8_t)(1 + (random >> (16 + i % 40)) % 255);
        }
        size_t len = eng__state_pack(record, size, packed, sizeof(packed));
        cr_assert_leq(len, size, "round %d: at most the record's size", round);
        MDB_val value = {.mv_size = len, .mv_data = packed};
        memset(back, 0xee, sizeof(back));
        cr_assert(eng__state_unpack(&value, back, size), "round %d (size %zu)", round, size);
        cr_assert_arr_eq(back, record, size, "round %d (size %zu)", round, size);
    }
    /* 300 zeros after the format byte: one empty run of given bytes with 255 zeros, then one
     * with the other 45. */
    memset(record, 0, 301);
    record[0] = 1;
    size_t len = eng__state_pack(record, 301, packed, sizeof(packed));
    uint8_t expected[] = {2, 0, 255, 0, 45};
    cr_assert_eq(len, sizeof(expected));
    cr_assert_arr_eq(packed, expected, sizeof(expected));
}
