/*
 * The whole plant in one test, as its apps would post it: yarn received, warp beams wound from
 * it, an order released, beams mounted, weft issued, first piece passed, weaving with a stop,
 * cutting into grades, a bundle held then released by quality, a lot sent to an embroiderer and
 * back with an allowance, packing, palletizing, shipment, a count and its adjustment. At the
 * end the stock equals the expected figures and the genealogy from the pallet reaches the yarn
 * lots and the loom, and back.
 */
#include "tests/engine/plant.h"

TestSuite(plant, .init = setup, .fini = teardown, .timeout = 60);

static void roll(const char *id, const char *pieces)
{
    POSTED(EV_ROLE_WEAVER, "ProductionDeclared",
           J("{\"hu_id\":\"%s\",\"of_id\":\"OF1\",\"loom_id\":\"L1\",\"item_id\":\"TW-500\","
             "\"qty_milli\":%s,\"unit\":\"pcs\",\"location_id\":\"WEAVING\","
             "\"length_milli\":60000,\"picks\":1800000}",
             id, pieces));
}

static void cut(const char *roll_id, const char *first, const char *second, const char *waste)
{
    POSTED(EV_ROLE_CUTTER, "CuttingDeclared",
           J("{\"input_hu_id\":\"%s\",\"consumed_qty_milli\":120000,\"unit\":\"pcs\","
             "\"location_id\":\"CUT\",\"outputs\":["
             "{\"hu_id\":\"%s-A\",\"item_id\":\"TW-500\",\"grade\":\"first\",\"qty_milli\":%s},"
             "{\"hu_id\":\"%s-B\",\"item_id\":\"TW-500\",\"grade\":\"second\",\"qty_milli\":%s}"
             "],\"waste_qty_milli\":%s,\"waste_reason\":\"roll_end\"}",
             roll_id, roll_id, first, roll_id, second, waste));
}

static void transfer(const char *hu, const char *from, const char *to)
{
    POSTED(EV_ROLE_STORE_FINISHED, "StockTransferred",
           J("{\"hu_id\":\"%s\",\"from_location_id\":\"%s\",\"to_location_id\":\"%s\"}", hu, from,
             to));
}

static void release(const char *hu)
{
    POSTED(EV_ROLE_QUALITY, "LotReleased", J("{\"hu_id\":\"%s\"}", hu));
}

/* The entities reached from a start, as "name name ... " in the order met. */
typedef struct {
    char text[4096];
} reached_t;

static int reach(const eng_link_t *link, void *data)
{
    reached_t *reached = data;
    size_t len = strlen(reached->text);
    snprintf(reached->text + len, sizeof(reached->text) - len, "%s>%s(%s) ", link->from, link->to,
             link->kind);
    return 0;
}

static bool reached(const reached_t *walk, const char *edge)
{
    return strstr(walk->text, edge) != NULL;
}

static void the_plant_works_a_day(void)
{
    /* Master data. */
    POSTED(EV_ROLE_MANAGER, "ArticleSpecDefined", SPEC("10"));
    POSTED(EV_ROLE_MANAGER, "LoomDefined", LOOM("L1"));
    /* Yarn received: warp and weft. */
    POSTED(EV_ROLE_STORE_RAW, "GoodsReceived",
           "{\"hu_id\":\"Y-WARP\",\"item_id\":\"WARP-20\",\"qty_milli\":500000,\"unit\":\"kg\","
           "\"location_id\":\"MP1\",\"supplier\":\"Filature du Sahel\"}");
    POSTED(EV_ROLE_STORE_RAW, "GoodsReceived",
           "{\"hu_id\":\"Y-WEFT\",\"item_id\":\"YARN-30\",\"qty_milli\":200000,\"unit\":\"kg\","
           "\"location_id\":\"MP1\",\"supplier\":\"Filature du Sahel\"}");
    /* Two beams wound from the warp lot. */
    POSTED(EV_ROLE_STORE_RAW, "BeamRegistered",
           "{\"beam_id\":\"BM1\",\"item_id\":\"WARP-20\",\"position\":\"ground\","
           "\"length_milli\":3000000,\"location_id\":\"BEAMS\","
           "\"yarn_lots\":[{\"hu_id\":\"Y-WARP\",\"qty_milli\":300000}]}");
    POSTED(EV_ROLE_STORE_RAW, "BeamRegistered",
           "{\"beam_id\":\"BM2\",\"item_id\":\"WARP-20\",\"position\":\"pile\","
           "\"length_milli\":2000000,\"location_id\":\"BEAMS\","
           "\"yarn_lots\":[{\"hu_id\":\"Y-WARP\",\"qty_milli\":100000}]}");
    /* The order, released and started on L1 with its beams and weft. */
    POSTED(EV_ROLE_MANAGER, "OFCreated", ORDER("OF1", "1000000"));
    POSTED(EV_ROLE_MANAGER, "OFReleased", "{\"of_id\":\"OF1\"}");
    POSTED(EV_ROLE_MECHANIC, "BeamMounted", BEAM("BM1", "L1", "ground", "3000000"));
    POSTED(EV_ROLE_MECHANIC, "BeamMounted", BEAM("BM2", "L1", "pile", "2000000"));
    POSTED(EV_ROLE_WEAVER, "OFStartedOnLoom", ON_LOOM("L1", "OF1"));
    POSTED(EV_ROLE_STORE_RAW, "MaterialIssuedToLoom",
           "{\"hu_id\":\"Y-WEFT\",\"loom_id\":\"L1\",\"of_id\":\"OF1\",\"qty_milli\":50000,"
           "\"from_location_id\":\"MP1\"}");
    /* No roll before a passed first piece. */
    REFUSED(FL_ERULE_STATE, EV_ROLE_WEAVER, "ProductionDeclared",
            "{\"hu_id\":\"R0\",\"of_id\":\"OF1\",\"loom_id\":\"L1\",\"item_id\":\"TW-500\","
            "\"qty_milli\":1000,\"unit\":\"pcs\",\"location_id\":\"WEAVING\","
            "\"length_milli\":600,\"picks\":18000}");
    POSTED(EV_ROLE_MECHANIC, "FirstPieceInspected", FIRST_PIECE("L1", "OF1", "passed"));
    /* Weaving with a stop. */
    roll("R1", "120000");
    POSTED(EV_ROLE_WEAVER, "LoomStopped",
           "{\"loom_id\":\"L1\",\"stop_class\":\"warp\",\"reason_code\":\"W12\","
           "\"picks\":1800000}");
    eng_loom_view_t loom;
    cr_assert_eq(eng_loom_get(ledger, "L1", &loom), 0);
    cr_assert(loom.stopped);
    cr_assert_str_eq(loom.stop_code, "W12");
    POSTED(EV_ROLE_WEAVER, "LoomRestarted", "{\"loom_id\":\"L1\",\"picks\":1800000}");
    roll("R2", "120000");
    /* Cutting into first and second choice. */
    cut("R1", "100000", "18000", "2000");
    cut("R2", "110000", "9000", "1000");
    /* Quality: R1-A held, then released with the others. */
    POSTED(EV_ROLE_QUALITY, "LotPutOnHold",
           "{\"hu_id\":\"R1-A\",\"reason\":\"check the selvedge\"}");
    REFUSED(FL_ERULE_HU_HELD, EV_ROLE_STORE_FINISHED, "StockTransferred",
            "{\"hu_id\":\"R1-A\",\"from_location_id\":\"CUT\",\"to_location_id\":\"FG\"}");
    release("R1-A");
    release("R1-B");
    release("R2-A");
    release("R2-B");
    /* R2-B goes to the embroiderer and comes back, less a declared allowance. */
    POSTED(EV_ROLE_STORE_SUBCONTRACT, "LotSentToSubcontractor",
           "{\"sublot_id\":\"SL1\",\"sub_id\":\"BRODERIE\",\"operation\":\"embroidery\","
           "\"hu_ids\":[\"R2-B\"],\"qty_milli\":9000,\"unit\":\"pcs\","
           "\"from_location_id\":\"CUT\",\"to_location_id\":\"SUB-BRODERIE\"}");
    POSTED(EV_ROLE_STORE_SUBCONTRACT, "LotReturnedFromSubcontractor",
           "{\"sublot_id\":\"SL1\",\"sub_id\":\"BRODERIE\",\"good_hu_id\":\"E1\","
           "\"grade\":\"second\",\"good_qty_milli\":8500,\"rejected_qty_milli\":0,"
           "\"lost_qty_milli\":200,\"allowance_qty_milli\":300,\"allowance_reason\":\"trim\","
           "\"to_location_id\":\"FG\",\"closes_lot\":true}");
    release("E1");
    /* Packing and palletizing in the finished-goods store. */
    transfer("R1-A", "CUT", "FG");
    transfer("R2-A", "CUT", "FG");
    transfer("R1-B", "CUT", "FG");
    POSTED(EV_ROLE_STORE_FINISHED, "HUPacked",
           "{\"carton_hu_id\":\"C1\",\"hu_ids\":[\"R1-A\",\"R2-A\"],\"location_id\":\"FG\"}");
    POSTED(EV_ROLE_STORE_FINISHED, "HUPacked",
           "{\"carton_hu_id\":\"C2\",\"hu_ids\":[\"R1-B\",\"E1\"],\"location_id\":\"FG\"}");
    POSTED(EV_ROLE_STORE_FINISHED, "HUPalletized",
           "{\"pallet_hu_id\":\"P1\",\"hu_ids\":[\"C1\",\"C2\"],\"location_id\":\"FG\"}");
    /* Shipment. */
    POSTED(EV_ROLE_MANAGER, "ShipmentPlanned",
           "{\"ship_id\":\"S1\",\"customer_location_id\":\"CUST-1\","
           "\"planned_at_us\":1767000000000000}");
    POSTED(EV_ROLE_STORE_FINISHED, "ShipmentLoaded",
           "{\"ship_id\":\"S1\",\"hu_ids\":[\"P1\"],\"from_location_id\":\"FG\"}");
    POSTED(EV_ROLE_STORE_FINISHED, "ShipmentDispatched",
           "{\"ship_id\":\"S1\",\"to_location_id\":\"CUST-1\"}");
    /* A count of the raw-material store finds a kilo of weft missing. */
    POSTED(EV_ROLE_STORE_RAW, "CountOpened",
           "{\"count_id\":\"K1\",\"location_ids\":[\"MP1\"],\"scope\":\"full\"}");
    POSTED(EV_ROLE_STORE_RAW, "ItemCounted",
           "{\"count_id\":\"K1\",\"hu_id\":\"Y-WEFT\",\"item_id\":\"YARN-30\","
           "\"location_id\":\"MP1\",\"counted_qty_milli\":149000,\"unit\":\"kg\"}");
    POSTED(EV_ROLE_STORE_RAW, "CountClosed", "{\"count_id\":\"K1\"}");
    POSTED(EV_ROLE_MANAGER, "InventoryAdjusted",
           "{\"count_id\":\"K1\",\"hu_id\":\"Y-WEFT\",\"item_id\":\"YARN-30\","
           "\"location_id\":\"MP1\",\"delta_qty_milli\":-1000,\"unit\":\"kg\"}");
}

Test(plant, a_day_of_the_plant_ends_with_the_expected_stock)
{
    the_plant_works_a_day();
    cr_assert_eq(stock("WARP-20", "MP1", "available"), 100000, "500 kg less 400 wound");
    cr_assert_eq(stock("YARN-30", "MP1", "available"), 149000, "200 kg less 50 issued, 1 lost");
    /* 100 + 110 first, 18 second, 8.5 back from embroidery: all shipped. */
    cr_assert_eq(stock("TW-500", "CUST-1", "shipped"), 236500);
    const char *places[] = {"WEAVING", "CUT", "FG", "SUB-BRODERIE"};
    const char *statuses[] = {"available", "on hold", "released", "rejected"};
    for (size_t p = 0; p < 4; p++)
        for (size_t s = 0; s < 4; s++)
            cr_assert_eq(stock("TW-500", places[p], statuses[s]), 0, "%s %s", places[p],
                         statuses[s]);
    eng_order_view_t order;
    cr_assert_eq(eng_order_get(ledger, "OF1", &order), 0);
    cr_assert_eq(order.declared_milli, 240000);
    eng_beam_view_t beam;
    cr_assert_eq(eng_beam_get(ledger, "BM1", &beam), 0);
    cr_assert_str_eq(beam.loom, "L1");
    eng_sublot_view_t lot;
    cr_assert_eq(eng_sublot_get(ledger, "SL1", &lot), 0);
    cr_assert_str_eq(lot.state, "closed");
    cr_assert_eq(lot.allowance_milli, 300);
    eng_hu_view_t pallet;
    cr_assert_eq(eng_hu_get(ledger, "P1", &pallet), 0);
    cr_assert_str_eq(pallet.status, "shipped");
    cr_assert_eq(eng_verify(ledger, &(uint64_t){0}, &(uint64_t){0}), 0);
}

Test(plant, the_pallet_leads_back_to_the_yarn_lots_and_the_loom_and_they_lead_to_the_pallet)
{
    the_plant_works_a_day();
    reached_t up = {0};
    cr_assert_eq(eng_genealogy(ledger, "hu-P1", ENG_BACKWARD, 16, 0, reach, &up), 0);
    const char *expected_up[] = {
        "hu-C1>hu-P1(packed_in)",     "hu-R1-A>hu-C1(packed_in)", "hu-R1>hu-R1-A(cut)",
        "loom-L1>hu-R1(woven_on)",    "of-OF1>hu-R1(for_order)",  "beam-BM1>hu-R1(warp)",
        "beam-BM2>hu-R2(warp)",       "hu-Y-WARP>beam-BM1(yarn)", "hu-Y-WEFT>of-OF1(yarn)",
        "hu-R2-B>hu-E1(subcontract)", "hu-E1>hu-C2(packed_in)",
    };
    for (size_t i = 0; i < sizeof(expected_up) / sizeof(expected_up[0]); i++)
        cr_assert(reached(&up, expected_up[i]), "%s not in %s", expected_up[i], up.text);

    reached_t down = {0};
    cr_assert_eq(eng_genealogy(ledger, "hu-Y-WARP", ENG_FORWARD, 16, 0, reach, &down), 0);
    cr_assert(reached(&down, ">hu-P1(packed_in)"), "%s", down.text);
    cr_assert(reached(&down, "hu-E1>hu-C2(packed_in)"), "%s", down.text);
    reached_t from_loom = {0};
    cr_assert_eq(eng_genealogy(ledger, "loom-L1", ENG_FORWARD, 16, 0, reach, &from_loom), 0);
    cr_assert(reached(&from_loom, ">hu-P1(packed_in)"), "%s", from_loom.text);

    /* Bounded: one level up from the pallet is its cartons only. */
    reached_t near = {0};
    cr_assert_eq(eng_genealogy(ledger, "hu-P1", ENG_BACKWARD, 1, 0, reach, &near), 0);
    cr_assert_str_eq(near.text, "hu-C1>hu-P1(packed_in) hu-C2>hu-P1(packed_in) ");
    reached_t few = {0};
    cr_assert_eq(eng_genealogy(ledger, "hu-P1", ENG_BACKWARD, 16, 3, reach, &few), FL_ETOOBIG);
}

/* ---- the change journal: a projection that follows it equals the state read whole */

#define ROWS_MAX 512

typedef struct {
    char keys[ROWS_MAX][192];
    char values[ROWS_MAX][512];
    unsigned count;
} table_t;

static void row_text(const eng_row_t *row, char *key, char *value)
{
    snprintf(key, 192, "%d/%s/%s", row->kind, row->kind_name, row->id);
    switch (row->kind) {
    case ENG_ROW_HU:
        snprintf(value, 512, "%s %s %s %s %lld %d %s %lld", row->hu.status, row->hu.item,
                 row->hu.location, row->hu.parent, (long long)row->hu.qty_milli, row->hu.grade,
                 row->hu.holder, (long long)row->hu.out_milli);
        break;
    case ENG_ROW_STOCK:
        snprintf(value, 512, "%lld", (long long)row->stock.qty_milli);
        break;
    case ENG_ROW_ORDER:
        snprintf(value, 512, "%s %lld %lld", row->order.state, (long long)row->order.planned_milli,
                 (long long)row->order.declared_milli);
        break;
    case ENG_ROW_LOOM:
        snprintf(value, 512, "%d %s %s %s %s", row->loom.stopped, row->loom.stop_code,
                 row->loom.order, row->loom.beams[0], row->loom.beams[1]);
        break;
    case ENG_ROW_BEAM:
        snprintf(value, 512, "%s %s %lld", row->beam.loom, row->beam.position,
                 (long long)row->beam.remaining_milli);
        break;
    case ENG_ROW_RECORD:
        snprintf(value, 512, "%s %s %u", row->record.state, row->record.subject, row->record.count);
        break;
    case ENG_ROW_SUBLOT:
        snprintf(value, 512, "%s %lld", row->sublot.state, (long long)row->sublot.out_milli);
        break;
    case ENG_ROW_LINK:
        snprintf(value, 512, "%s %llu", row->link.kind, (unsigned long long)row->link.seq);
        break;
    default:
        snprintf(value, 512, "%lld %d", (long long)row->article.cutting_tolerance_permille,
                 row->article.first_piece_required);
    }
}

/* Upserts a present row, deletes a gone one. */
static int table_apply(uint64_t seq, const eng_row_t *row, void *data)
{
    (void)seq;
    table_t *table = data;
    char key[192], value[512];
    row_text(row, key, value);
    for (unsigned i = 0; i < table->count; i++) {
        if (strcmp(table->keys[i], key) != 0)
            continue;
        if (row->present) {
            memcpy(table->values[i], value, sizeof(value));
        } else {
            table->count--;
            memcpy(table->keys[i], table->keys[table->count], sizeof(key));
            memcpy(table->values[i], table->values[table->count], sizeof(value));
        }
        return 0;
    }
    if (row->present) {
        cr_assert_lt(table->count, ROWS_MAX);
        memcpy(table->keys[table->count], key, sizeof(key));
        memcpy(table->values[table->count++], value, sizeof(value));
    }
    return 0;
}

static const char *table_find(const table_t *table, const char *key)
{
    for (unsigned i = 0; i < table->count; i++)
        if (strcmp(table->keys[i], key) == 0)
            return table->values[i];
    return NULL;
}

Test(plant, a_projection_that_follows_the_change_journal_equals_the_state_read_whole)
{
    the_plant_works_a_day();
    static table_t followed, whole;
    followed.count = whole.count = 0;
    uint64_t at = 0, last = 0, head = 0;
    do { /* a few events at a time, as a projector catching up */
        at = last;
        cr_assert_eq(eng_changes(ledger, at, 7, table_apply, &followed, &last), 0);
    } while (last != at);
    for (int kind = ENG_ROW_HU; kind < ENG_ROW_KINDS; kind++)
        cr_assert_eq(eng_rows(ledger, (eng_row_kind_t)kind, table_apply, &whole, &head), 0);
    cr_assert_eq(head, head_seq());
    cr_assert_gt(whole.count, 40, "units, stock, orders, looms, beams, records, links...");
    cr_assert_eq(followed.count, whole.count);
    for (unsigned i = 0; i < whole.count; i++) {
        const char *value = table_find(&followed, whole.keys[i]);
        cr_assert_not_null(value, "%s missing from the journal", whole.keys[i]);
        cr_assert_str_eq(value, whole.values[i], "%s", whole.keys[i]);
    }
    char key[192];
    snprintf(key, sizeof(key), "%d//TW-500/CUST-1/shipped/1", ENG_ROW_STOCK);
    cr_assert_str_eq(table_find(&whole, key), "210000", "first choice shipped");
    snprintf(key, sizeof(key), "%d/sublot/SL1", ENG_ROW_SUBLOT);
    cr_assert_str_eq(table_find(&whole, key), "closed 0");
}

typedef struct {
    uint64_t after, head;
    int rc;
} waiting_t;

static void *wait_main(void *arg)
{
    waiting_t *w = arg;
    w->rc = eng_wait(ledger, w->after, 10000, &w->head);
    return NULL;
}

Test(plant, a_follower_waits_for_the_next_commit_and_not_longer)
{
    uint64_t head = 99;
    cr_assert_eq(eng_wait(ledger, 0, 20, &head), FL_ETIMEDOUT);
    cr_assert_eq(head, 0);
    waiting_t w = {.after = 0};
    pthread_t thread;
    cr_assert_eq(pthread_create(&thread, NULL, wait_main, &w), 0);
    POSTED(EV_ROLE_MANAGER, "LoomDefined", LOOM("L1"));
    pthread_join(thread, NULL);
    cr_assert_eq(w.rc, 0);
    cr_assert_eq(w.head, 1);
    cr_assert_eq(eng_wait(ledger, 0, 0, &head), 0, "already past: no wait");
}
