/*
 * plant.h: what the tests of the plant's rules share - a plant ledger per test, events posted
 * as the apps post them (JSON through the catalog, as a role), and payload builders.
 */
#ifndef FL_TESTS_ENGINE_PLANT_H
#define FL_TESTS_ENGINE_PLANT_H

#include "tests/support/support.h"

#include <pthread.h>
#include <stdarg.h>

#include "events/events.h"

static char dir[256];
static eng_ledger_t *ledger;
static char detail[ENG_DETAIL_LEN_MAX];
static unsigned next_id;

static inline void setup(void)
{
    test_tmpdir(dir, sizeof(dir));
    eng_config_t config = {.dir = dir, .rules = ENG_RULES_PLANT};
    cr_assert_eq(eng_open(&ledger, &config), 0);
    next_id = 1;
}

static inline void teardown(void)
{
    eng_close(ledger);
    test_tmpdir_remove(dir);
}

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
} waiter_t;

static inline void wake(eng_append_req_t *req, void *data)
{
    (void)req;
    waiter_t *w = data;
    pthread_mutex_lock(&w->lock);
    w->done = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* Posts events (JSON payloads of the given types) as role, atomically when there are several;
 * returns the request's status and leaves the refusal's detail in `detail`. */
static inline int post_group(ev_role_t role, const char *const *types, const char *const *payloads,
                             uint32_t count)
{
    static ev_event_t decoded[4];
    eng_event_t events[4];
    eng_position_t positions[4];
    int results[4];
    ev_actor_t actor = {.user = "tester", .role = role, .device = "bench-1"};
    cr_assert_leq(count, 4);
    for (uint32_t i = 0; i < count; i++) {
        char json[4096];
        snprintf(json, sizeof(json),
                 "{\"id\":\"0190b2a0-7c1d-7000-8000-%012u\",\"type\":\"%s\","
                 "\"occurred_at_us\":1764000000000000,\"payload\":%s}",
                 next_id++, types[i], payloads[i]);
        ev_error_t error;
        int rc = ev_decode_json(json, strlen(json), &actor, &decoded[i], &error);
        cr_assert_eq(rc, 0, "%s: %s at %s: %s", types[i], fl_errname(rc), error.path,
                     error.message);
        eng_event_from_catalog(&decoded[i], &actor, &events[i]);
    }
    waiter_t w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    eng_append_req_t req = {.events = events,
                            .count = count,
                            .flags = ENG_APPEND_ATOMIC,
                            .positions = positions,
                            .results = results,
                            .cb = wake,
                            .data = &w};
    cr_assert_eq(eng_append_submit(ledger, &req), 0);
    pthread_mutex_lock(&w.lock);
    while (!w.done)
        pthread_cond_wait(&w.cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
    memcpy(detail, req.detail, sizeof(detail));
    return req.status;
}

static inline int post(ev_role_t role, const char *type, const char *payload)
{
    return post_group(role, &type, &payload, 1);
}

#define RECEIVE(hu, qty)                                                                           \
    "{\"hu_id\":\"" hu "\",\"item_id\":\"YARN-30\",\"qty_milli\":" qty ",\"unit\":\"kg\","         \
    "\"location_id\":\"MP1\",\"supplier\":\"Filature du Sahel\"}"
#define ROLL(hu)                                                                                   \
    "{\"hu_id\":\"" hu "\",\"of_id\":\"OF7\",\"loom_id\":\"L012\",\"item_id\":\"TW-500\","         \
    "\"qty_milli\":120000,\"unit\":\"pcs\",\"location_id\":\"WEAVING\","                           \
    "\"length_milli\":60000,\"picks\":1800000}"
#define MOVE(hu, from, to)                                                                         \
    "{\"hu_id\":\"" hu "\",\"from_location_id\":\"" from "\",\"to_location_id\":\"" to "\"}"
#define CUT(input, consumed, first, second, waste)                                                 \
    "{\"input_hu_id\":\"" input "\",\"consumed_qty_milli\":" consumed ",\"unit\":\"pcs\","         \
    "\"location_id\":\"CUT\",\"outputs\":["                                                        \
    "{\"hu_id\":\"" input "-A\",\"item_id\":\"TW-500\",\"grade\":\"first\",\"qty_milli\":" first   \
    "},{\"hu_id\":\"" input                                                                        \
    "-B\",\"item_id\":\"TW-500\",\"grade\":\"second\",\"qty_milli\":" second                       \
    "}],\"waste_qty_milli\":" waste ",\"waste_reason\":\"roll_end\"}"
#define SPEC(tolerance)                                                                            \
    "{\"item_id\":\"TW-500\",\"name\":\"Fouta 50x90\",\"unit\":\"pcs\",\"width_mm\":500,"          \
    "\"repeat_length_mm\":900,\"gsm\":450,\"picks_per_cm_milli\":18000,"                           \
    "\"first_piece_required\":true,\"cutting_tolerance_permille\":" tolerance ","                  \
    "\"overproduction_allowed_permille\":50}"

#define ORDER(of, planned)                                                                         \
    "{\"of_id\":\"" of "\",\"item_id\":\"TW-500\",\"planned_qty_milli\":" planned ","              \
    "\"unit\":\"pcs\",\"due_at_us\":1767000000000000,\"priority\":1}"
#define LOOM(loom)                                                                                 \
    "{\"loom_id\":\"" loom "\",\"name\":\"Picanol " loom "\",\"location_id\":\"WEAVING\","         \
    "\"nominal_picks_per_min\":450,\"terry\":true}"
#define ON_LOOM(loom, of) "{\"loom_id\":\"" loom "\",\"of_id\":\"" of "\",\"picks\":1000}"
#define FIRST_PIECE(loom, of, result)                                                              \
    "{\"loom_id\":\"" loom "\",\"of_id\":\"" of "\",\"result\":\"" result "\"}"
#define BEAM(beam, loom, position, length)                                                         \
    "{\"beam_id\":\"" beam "\",\"loom_id\":\"" loom "\",\"position\":\"" position "\","            \
    "\"length_milli\":" length "}"
#define UNBEAM(beam, loom, position, remaining)                                                    \
    "{\"beam_id\":\"" beam "\",\"loom_id\":\"" loom "\",\"position\":\"" position "\","            \
    "\"remaining_length_milli\":" remaining ",\"reason\":\"beam_out\"}"

static inline uint64_t head_seq(void)
{
    eng_head_t head;
    eng_head(ledger, &head);
    return head.seq;
}

static inline int64_t stock(const char *item, const char *location, const char *status)
{
    int64_t qty;
    cr_assert_eq(eng_stock_get(ledger, item, location, status, &qty), 0);
    return qty;
}

/* Loom L012 weaving order OF7 (TW-500, 1,000 pieces planned, 5% over-production allowed,
 * first piece required and passed). */
static inline void start_weaving(void)
{
    cr_assert_eq(post(EV_ROLE_MANAGER, "ArticleSpecDefined", SPEC("10")), 0, "%s", detail);
    cr_assert_eq(post(EV_ROLE_MANAGER, "LoomDefined", LOOM("L012")), 0, "%s", detail);
    cr_assert_eq(post(EV_ROLE_MANAGER, "OFCreated", ORDER("OF7", "1000000")), 0, "%s", detail);
    cr_assert_eq(post(EV_ROLE_MANAGER, "OFReleased", "{\"of_id\":\"OF7\"}"), 0, "%s", detail);
    cr_assert_eq(post(EV_ROLE_WEAVER, "OFStartedOnLoom", ON_LOOM("L012", "OF7")), 0, "%s", detail);
    cr_assert_eq(
        post(EV_ROLE_MECHANIC, "FirstPieceInspected", FIRST_PIECE("L012", "OF7", "passed")), 0,
        "%s", detail);
}

/* A JSON payload from a format, in one of eight rotating buffers. */
static inline const char *J(const char *format, ...)
{
    static char buffers[8][2048];
    static unsigned next;
    char *out = buffers[next++ % 8];
    va_list args;
    va_start(args, format);
    vsnprintf(out, sizeof(buffers[0]), format, args);
    va_end(args);
    return out;
}

#define REGISTER(beam, position, length)                                                           \
    "{\"beam_id\":\"" beam "\",\"item_id\":\"WARP-20\",\"position\":\"" position "\","             \
    "\"length_milli\":" length ",\"location_id\":\"BEAMS\"}"

static inline int snapshot_row(const eng_stock_row_t *row, void *data)
{
    char *text = data;
    size_t len = strlen(text);
    snprintf(text + len, 8192 - len, "%s/%s/%s/%d=%lld;", row->item, row->location, row->status,
             row->grade, (long long)row->qty_milli);
    return 0;
}

static inline int snapshot_loom(const eng_loom_view_t *loom, void *data)
{
    char *text = data;
    size_t len = strlen(text);
    snprintf(text + len, 8192 - len, "%s:%d:%s:%s:%s;", loom->loom_id, loom->stopped, loom->order,
             loom->beams[0], loom->beams[1]);
    return 0;
}

/* The head of the log, every stock balance and the loom board, as text (8 KB): what a refused
 * event must leave as it was. */
static inline void snapshot(char text[8192])
{
    text[0] = '\0';
    snprintf(text, 8192, "head=%llu;", (unsigned long long)head_seq());
    cr_assert_eq(eng_stock_each(ledger, NULL, snapshot_row, text), 0);
    cr_assert_eq(eng_loom_each(ledger, snapshot_loom, text), 0);
}

/* Posts an event that must be refused with `code`, and checks that nothing changed. */
#define REFUSED(code, role, type, payload)                                                         \
    do {                                                                                           \
        static char before_[8192], after_[8192];                                                   \
        snapshot(before_);                                                                         \
        int rc_ = post(role, type, payload);                                                       \
        cr_assert_eq(rc_, code, "%s: %s instead of %s (%s)", type, fl_errname(rc_),                \
                     fl_errname(code), detail);                                                    \
        snapshot(after_);                                                                          \
        cr_assert_str_eq(before_, after_, "%s changed the state", type);                           \
    } while (0)

#define POSTED(role, type, payload)                                                                \
    do {                                                                                           \
        int rc_ = post(role, type, payload);                                                       \
        cr_assert_eq(rc_, 0, "%s: %s (%s)", type, fl_errname(rc_), detail);                        \
    } while (0)

/* ---- a whole day of the plant (test_plant.c checks its outcome) */

static inline void day_roll(const char *id, const char *pieces)
{
    POSTED(EV_ROLE_WEAVER, "ProductionDeclared",
           J("{\"hu_id\":\"%s\",\"of_id\":\"OF1\",\"loom_id\":\"L1\",\"item_id\":\"TW-500\","
             "\"qty_milli\":%s,\"unit\":\"pcs\",\"location_id\":\"WEAVING\","
             "\"length_milli\":60000,\"picks\":1800000}",
             id, pieces));
}

static inline void day_cut(const char *roll_id, const char *first, const char *second,
                           const char *waste)
{
    POSTED(EV_ROLE_CUTTER, "CuttingDeclared",
           J("{\"input_hu_id\":\"%s\",\"consumed_qty_milli\":120000,\"unit\":\"pcs\","
             "\"location_id\":\"CUT\",\"outputs\":["
             "{\"hu_id\":\"%s-A\",\"item_id\":\"TW-500\",\"grade\":\"first\",\"qty_milli\":%s},"
             "{\"hu_id\":\"%s-B\",\"item_id\":\"TW-500\",\"grade\":\"second\",\"qty_milli\":%s}"
             "],\"waste_qty_milli\":%s,\"waste_reason\":\"roll_end\"}",
             roll_id, roll_id, first, roll_id, second, waste));
}

static inline void day_transfer(const char *hu, const char *from, const char *to)
{
    POSTED(EV_ROLE_STORE_FINISHED, "StockTransferred",
           J("{\"hu_id\":\"%s\",\"from_location_id\":\"%s\",\"to_location_id\":\"%s\"}", hu, from,
             to));
}

static inline void day_release(const char *hu)
{
    POSTED(EV_ROLE_QUALITY, "LotReleased", J("{\"hu_id\":\"%s\"}", hu));
}

static inline void the_plant_works_a_day(void)
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
    day_roll("R1", "120000");
    POSTED(EV_ROLE_WEAVER, "LoomStopped",
           "{\"loom_id\":\"L1\",\"stop_class\":\"warp\",\"reason_code\":\"W12\","
           "\"picks\":1800000}");
    eng_loom_view_t loom;
    cr_assert_eq(eng_loom_get(ledger, "L1", &loom), 0);
    cr_assert(loom.stopped);
    cr_assert_str_eq(loom.stop_code, "W12");
    POSTED(EV_ROLE_WEAVER, "LoomRestarted", "{\"loom_id\":\"L1\",\"picks\":1800000}");
    day_roll("R2", "120000");
    /* Cutting into first and second choice. */
    day_cut("R1", "100000", "18000", "2000");
    day_cut("R2", "110000", "9000", "1000");
    /* Quality: R1-A held, then released with the others. */
    POSTED(EV_ROLE_QUALITY, "LotPutOnHold",
           "{\"hu_id\":\"R1-A\",\"reason\":\"check the selvedge\"}");
    REFUSED(FL_ERULE_HU_HELD, EV_ROLE_STORE_FINISHED, "StockTransferred",
            "{\"hu_id\":\"R1-A\",\"from_location_id\":\"CUT\",\"to_location_id\":\"FG\"}");
    day_release("R1-A");
    day_release("R1-B");
    day_release("R2-A");
    day_release("R2-B");
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
    day_release("E1");
    /* Packing and palletizing in the finished-goods store. */
    day_transfer("R1-A", "CUT", "FG");
    day_transfer("R2-A", "CUT", "FG");
    day_transfer("R1-B", "CUT", "FG");
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

#endif
