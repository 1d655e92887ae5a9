/*
 * The KPIs of reporting/ on a small plant day computed by hand: two looms over one shift of
 * 06:00-14:00 with a 60-minute break (every minute of it worked at 7/8), stops, an
 * intervention, rolls cut into grades, an inspection, verdicts, non-conformities, preventive
 * maintenance, a beam change, a subcontract lot and a count. Each figure below is the one
 * computed in the comments. Then: a cancelled shift schedules nothing, the slices, the JSON
 * and CSV, the planning board, offline lag, and bad queries.
 */
#include "tests/support/support.h"

#include <math.h>
#include <stdarg.h>
#include <time.h>

#include "events/events.h"
#include "reporting/reporting.h"

static char dir[256];
static eng_ledger_t *ledger;
static unsigned next_id;

/* 2026-03-02 00:00 UTC; MIN(m) is m minutes after it. */
#define T0     1772409600000000LL
#define MIN(m) (T0 + (int64_t)((m)*60.0 * 1e6))
#define H(h)   ((h)*60)

static void setup(void)
{
    test_tmpdir(dir, sizeof(dir));
    eng_config_t config = {.dir = dir, .rules = ENG_RULES_PLANT, .scratch = true};
    cr_assert_eq(eng_open(&ledger, &config), 0);
    next_id = 1;
}

static void teardown(void)
{
    eng_close(ledger);
    test_tmpdir_remove(dir);
}

/* Posts one event as role and user, occurred at the given microsecond. */
static void post_at(ev_role_t role, const char *user, int64_t at_us, const char *type,
                    const char *format, ...)
{
    char payload[4096], json[8192];
    va_list args;
    va_start(args, format);
    vsnprintf(payload, sizeof(payload), format, args);
    va_end(args);
    snprintf(json, sizeof(json),
             "{\"id\":\"0190b2a0-7c1d-7000-8000-%012u\",\"type\":\"%s\",\"occurred_at_us\":%lld,"
             "\"payload\":%s}",
             next_id++, type, (long long)at_us, payload);
    static ev_event_t decoded;
    ev_actor_t actor = {.user = user, .role = role, .device = "dev-1"};
    ev_error_t error;
    int rc = ev_decode_json(json, strlen(json), &actor, &decoded, &error);
    cr_assert_eq(rc, 0, "%s: %s at %s: %s", type, fl_errname(rc), error.path, error.message);
    eng_event_t event;
    eng_event_from_catalog(&decoded, &actor, &event);
    eng_position_t position;
    int result = 0;
    rc = eng_append(ledger, &event, 1, 0, &position, &result);
    cr_assert_eq(rc, 0, "%s: %s", type, fl_errname(rc));
    cr_assert_eq(result, 0, "%s refused: %s", type, fl_errname(result));
}

/* who is one of the actors below: a role and a user. */
#define POST(who, minute, type, ...) post_at(who, MIN(minute), type, __VA_ARGS__)
#define MGR                          EV_ROLE_MANAGER, "MGR"
#define MEC                          EV_ROLE_MECHANIC, "MEC"
#define QC                           EV_ROLE_QUALITY, "QC"
#define CUTTER                       EV_ROLE_CUTTER, "CUT"
#define WEAVER1                      EV_ROLE_WEAVER, "W1"
#define WEAVER2                      EV_ROLE_WEAVER, "W2"
#define STORE_RAW                    EV_ROLE_STORE_RAW, "SR"
#define STORE_SUB                    EV_ROLE_STORE_SUBCONTRACT, "SS"
#define STORE_FG                     EV_ROLE_STORE_FINISHED, "SF"

static void roll(const char *weaver, double minute, const char *hu, const char *of,
                 const char *loom, int pieces, int metres, long picks)
{
    post_at(EV_ROLE_WEAVER, weaver, MIN(minute), "ProductionDeclared",
            "{\"hu_id\":\"%s\",\"of_id\":\"%s\",\"loom_id\":\"%s\",\"item_id\":\"TW\","
            "\"qty_milli\":%d000,\"unit\":\"pcs\",\"location_id\":\"WEAVING\","
            "\"length_milli\":%d000,\"picks\":%ld}",
            hu, of, loom, pieces, metres, picks);
}

static void loom_stop(const char *weaver, double minute, const char *loom, const char *class,
                      long picks)
{
    post_at(EV_ROLE_WEAVER, weaver, MIN(minute), "LoomStopped",
            "{\"loom_id\":\"%s\",\"stop_class\":\"%s\",\"reason_code\":\"R\",\"picks\":%ld}", loom,
            class, picks);
}

static void loom_restart(const char *weaver, double minute, const char *loom, long picks)
{
    post_at(EV_ROLE_WEAVER, weaver, MIN(minute), "LoomRestarted",
            "{\"loom_id\":\"%s\",\"picks\":%ld}", loom, picks);
}

static void cut(double minute, const char *roll_id, int consumed, int first, int second, int waste)
{
    POST(CUTTER, minute, "HUReceivedAtCutting",
         "{\"hu_id\":\"%s\",\"from_location_id\":\"WEAVING\",\"to_location_id\":\"CUT\"}", roll_id);
    POST(CUTTER, minute + 1, "CuttingDeclared",
         "{\"input_hu_id\":\"%s\",\"consumed_qty_milli\":%d000,\"unit\":\"pcs\","
         "\"location_id\":\"CUT\",\"outputs\":["
         "{\"hu_id\":\"%s-A\",\"item_id\":\"TW\",\"grade\":\"first\",\"qty_milli\":%d000},"
         "{\"hu_id\":\"%s-B\",\"item_id\":\"TW\",\"grade\":\"second\",\"qty_milli\":%d000}],"
         "\"waste_qty_milli\":%d000,\"waste_reason\":\"roll_end\"}",
         roll_id, consumed, roll_id, first, roll_id, second, waste);
}

/* The day. Times are minutes after midnight; the shift is 06:00-14:00 (360-840). */
static void plant_day(void)
{
    /* Master data and the calendar: S1 worked, S2 cancelled. */
    POST(MGR, H(5), "ShiftScheduled",
         "{\"shift_id\":\"S1\",\"name\":\"morning\",\"starts_at_us\":%lld,\"ends_at_us\":%lld,"
         "\"break_min\":60}",
         (long long)MIN(H(6)), (long long)MIN(H(14)));
    POST(MGR, H(5), "ShiftScheduled",
         "{\"shift_id\":\"S2\",\"name\":\"afternoon\",\"starts_at_us\":%lld,"
         "\"ends_at_us\":%lld}",
         (long long)MIN(H(14)), (long long)MIN(H(22)));
    POST(MGR, H(5), "ShiftCancelled", "{\"shift_id\":\"S2\",\"reason\":\"holiday\"}");
    POST(MGR, H(5), "ArticleSpecDefined",
         "{\"item_id\":\"TW\",\"name\":\"Towel\",\"unit\":\"pcs\",\"width_mm\":500,"
         "\"repeat_length_mm\":900,\"gsm\":450,\"picks_per_cm_milli\":18000,"
         "\"first_piece_required\":false,\"cutting_tolerance_permille\":10,"
         "\"overproduction_allowed_permille\":50}");
    POST(MGR, H(5), "LoomDefined",
         "{\"loom_id\":\"L1\",\"name\":\"L1\",\"location_id\":\"WEAVING\","
         "\"nominal_picks_per_min\":400,\"terry\":false}");
    POST(MGR, H(5), "LoomDefined",
         "{\"loom_id\":\"L2\",\"name\":\"L2\",\"location_id\":\"WEAVING\","
         "\"nominal_picks_per_min\":500,\"terry\":false}");
    POST(STORE_RAW, H(5), "GoodsReceived",
         "{\"hu_id\":\"Y1\",\"item_id\":\"YARN\",\"qty_milli\":100000,\"unit\":\"kg\","
         "\"location_id\":\"MP1\",\"supplier\":\"S\"}");
    POST(STORE_SUB, H(5), "SubcontractorOnboarded",
         "{\"sub_id\":\"SUB1\",\"name\":\"Brodeur\",\"location_id\":\"SUB-LOC\"}");
    /* Orders: OF1 (2,000 pcs on L1), OF2 (500 on L2), OF3 queued on L1 after OF1. */
    const char *orders[][3] = {
        {"OF1", "2000000", "L1"}, {"OF2", "500000", "L2"}, {"OF3", "100000", "L1"}};
    for (int i = 0; i < 3; i++) {
        POST(MGR, H(5), "OFCreated",
             "{\"of_id\":\"%s\",\"item_id\":\"TW\",\"planned_qty_milli\":%s,\"unit\":\"pcs\","
             "\"due_at_us\":%lld,\"priority\":1}",
             orders[i][0], orders[i][1], (long long)(i == 1 ? MIN(H(240)) : MIN(H(48))));
        POST(MGR, H(5), "OFReleased", "{\"of_id\":\"%s\"}", orders[i][0]);
        POST(MGR, H(5), "OFAssignedToLoom",
             "{\"of_id\":\"%s\",\"loom_id\":\"%s\",\"planned_qty_milli\":%s,\"sequence\":%d}",
             orders[i][0], orders[i][2], orders[i][1], i == 2 ? 2 : 1);
    }
    /* Beams: BM1 1,000 m on L1, BM2 200 m on L2. */
    const char *beams[][3] = {
        {"BM1", "1000000", "L1"}, {"BM2", "200000", "L2"}, {"BM3", "500000", ""}};
    for (int i = 0; i < 3; i++)
        POST(MEC, H(5), "BeamRegistered",
             "{\"beam_id\":\"%s\",\"item_id\":\"WARP\",\"position\":\"ground\","
             "\"length_milli\":%s,\"location_id\":\"BEAMS\"}",
             beams[i][0], beams[i][1]);
    for (int i = 0; i < 2; i++)
        POST(MEC, H(5) + 30, "BeamMounted",
             "{\"beam_id\":\"%s\",\"loom_id\":\"%s\",\"position\":\"ground\",\"length_milli\":%s}",
             beams[i][0], beams[i][2], beams[i][1]);
    /* Maintenance plan: L1 due 07:00 (done 07:30, on time), L2 due 09:30 (never done). */
    POST(MEC, H(5), "PreventiveMaintenanceScheduled",
         "{\"loom_id\":\"L1\",\"task_code\":\"LUB\",\"due_at_us\":%lld}", (long long)MIN(H(7)));
    POST(MEC, H(5), "PreventiveMaintenanceScheduled",
         "{\"loom_id\":\"L2\",\"task_code\":\"LUB\",\"due_at_us\":%lld}",
         (long long)MIN(H(9) + 30));

    /* 06:00 the weavers take their looms and start the orders. */
    POST(WEAVER1, H(6), "OperatorAssignedToLoom",
         "{\"loom_id\":\"L1\",\"user_id\":\"W1\",\"shift_id\":\"S1\"}");
    POST(WEAVER2, H(6), "OperatorAssignedToLoom",
         "{\"loom_id\":\"L2\",\"user_id\":\"W2\",\"shift_id\":\"S1\"}");
    POST(WEAVER1, H(6), "OFStartedOnLoom",
         "{\"loom_id\":\"L1\",\"of_id\":\"OF1\",\"picks\":1000000}");
    POST(WEAVER2, H(6), "OFStartedOnLoom",
         "{\"loom_id\":\"L2\",\"of_id\":\"OF2\",\"picks\":2000000}");
    POST(MEC, H(7) + 30, "PreventiveMaintenanceDone",
         "{\"loom_id\":\"L1\",\"task_code\":\"LUB\",\"duration_min\":20}");

    /* L1: a warp stop 08:00-08:16, R1 at 10:00, a weft stop 12:00-12:08, R2 at 13:00. */
    loom_stop("W1", H(8), "L1", "warp", 1040000);
    loom_restart("W1", H(8) + 16, "L1", 1040000);
    roll("W1", H(10), "R1", "OF1", "L1", 100, 90, 1080000);
    loom_stop("W1", H(12), "L1", "weft", 1120000);
    loom_restart("W1", H(12) + 8, "L1", 1120000);
    roll("W1", H(13), "R2", "OF1", "L1", 50, 45, 1140000);

    /* L2: a mechanical stop 09:00-10:24 with its intervention, R3 at 12:00, its beam out at
     * 13:20 (20 m left) and the next one mounted at 13:44. */
    loom_stop("W2", H(9), "L2", "mechanical", 2072000);
    POST(WEAVER2, H(9), "InterventionRequested",
         "{\"int_id\":\"I1\",\"loom_id\":\"L2\",\"fault_class\":\"mechanical\","
         "\"urgency\":\"high\"}");
    POST(MEC, H(9) + 8, "InterventionAcknowledged", "{\"int_id\":\"I1\",\"loom_id\":\"L2\"}");
    POST(MEC, H(9) + 16, "InterventionStarted", "{\"int_id\":\"I1\",\"loom_id\":\"L2\"}");
    POST(MEC, H(9) + 40, "InterventionPaused",
         "{\"int_id\":\"I1\",\"loom_id\":\"L2\",\"reason\":\"waiting_parts\"}");
    POST(MEC, H(9) + 56, "InterventionResumed", "{\"int_id\":\"I1\",\"loom_id\":\"L2\"}");
    POST(MEC, H(10) + 24, "InterventionCompleted",
         "{\"int_id\":\"I1\",\"loom_id\":\"L2\",\"root_cause\":\"wear\","
         "\"root_cause_detail\":\"picker worn\"}");
    loom_restart("W2", H(10) + 24, "L2", 2072000);
    roll("W2", H(12), "R3", "OF2", "L2", 120, 108, 2140000);
    POST(MEC, H(13) + 20, "BeamDismounted",
         "{\"beam_id\":\"BM2\",\"loom_id\":\"L2\",\"position\":\"ground\","
         "\"remaining_length_milli\":20000,\"reason\":\"beam_out\"}");
    POST(MEC, H(13) + 44, "BeamMounted",
         "{\"beam_id\":\"BM3\",\"loom_id\":\"L2\",\"position\":\"ground\","
         "\"length_milli\":500000}");

    /* Cutting: R1 (100) at 10:30 into 90 first, 6 second, 4 waste; R3 (120) at 12:30 into
     * 110, 5, 5. R2 stays woven. */
    cut(H(10) + 30, "R1", 100, 90, 6, 4);
    cut(H(12) + 30, "R3", 120, 110, 5, 5);

    /* Quality: R1-A inspected over 50 m x 500 mm with 3 x 2 + 1 x 4 = 10 points; a defect
     * recorded on R3 (1 SLUB of 1 point); grades; verdicts. */
    POST(QC, H(11) + 30, "InspectionRecorded",
         "{\"hu_id\":\"R1-A\",\"stage\":\"final\",\"inspected_length_milli\":50000,"
         "\"width_mm\":500,\"defects\":[{\"defect_id\":\"BROKEN-PICK\",\"points\":2,"
         "\"count\":3},{\"defect_id\":\"SLUB\",\"points\":4,\"count\":1}]}");
    POST(WEAVER2, H(12) + 10, "DefectRecorded",
         "{\"hu_id\":\"R3\",\"defect_id\":\"SLUB\",\"count\":1,\"points\":1}");
    POST(QC, H(11) + 40, "FabricGraded",
         "{\"hu_id\":\"R1-A\",\"grade\":\"first\",\"points_total\":10,"
         "\"points_per_100m2_milli\":40000}");
    POST(QC, H(12) + 40, "FabricGraded",
         "{\"hu_id\":\"R3-B\",\"grade\":\"second\",\"points_total\":30,"
         "\"points_per_100m2_milli\":60000}");
    POST(QC, H(11) + 45, "LotReleased", "{\"hu_id\":\"R1-A\"}");
    POST(QC, H(11) + 50, "LotPutOnHold", "{\"hu_id\":\"R1-B\",\"reason\":\"loops\"}");
    POST(QC, H(11) + 50, "NCOpened",
         "{\"nc_id\":\"NC1\",\"title\":\"loops\",\"description\":\"d\",\"source\":\"weaving\","
         "\"severity\":\"minor\",\"hu_ids\":[\"R1-B\"],\"loom_id\":\"L1\"}");
    POST(QC, H(12), "ContainmentRecorded", "{\"nc_id\":\"NC1\",\"action\":\"held\"}");
    POST(QC, H(12) + 10, "LotReleased", "{\"hu_id\":\"R1-B\"}");
    POST(QC, H(12) + 30, "CorrectiveActionRecorded",
         "{\"nc_id\":\"NC1\",\"root_cause\":\"r\",\"action\":\"a\"}");
    POST(QC, H(13), "NCClosed", "{\"nc_id\":\"NC1\",\"effective\":true,\"conclusion\":\"ok\"}");
    POST(QC, H(13) + 10, "NCOpened",
         "{\"nc_id\":\"NC2\",\"title\":\"stain\",\"description\":\"d\",\"source\":\"weaving\","
         "\"severity\":\"minor\",\"loom_id\":\"L2\"}");
    POST(QC, H(13) + 30, "LotReleased", "{\"hu_id\":\"R3-A\"}");
    POST(STORE_FG, H(13) + 40, "HUPacked",
         "{\"carton_hu_id\":\"C1\",\"hu_ids\":[\"R3-A\"],\"location_id\":\"CUT\"}");

    /* Subcontracting: R1-B (6) out at 12:20, back at 13:50: 5 good, 1 lost. */
    POST(STORE_SUB, H(12) + 20, "LotSentToSubcontractor",
         "{\"sublot_id\":\"SL1\",\"sub_id\":\"SUB1\",\"operation\":\"hemming\","
         "\"hu_ids\":[\"R1-B\"],\"qty_milli\":6000,\"unit\":\"pcs\","
         "\"from_location_id\":\"CUT\",\"to_location_id\":\"SUB-LOC\"}");
    POST(STORE_SUB, H(13) + 50, "LotReturnedFromSubcontractor",
         "{\"sublot_id\":\"SL1\",\"sub_id\":\"SUB1\",\"good_hu_id\":\"G1\","
         "\"good_qty_milli\":5000,\"rejected_qty_milli\":0,\"lost_qty_milli\":1000,"
         "\"allowance_qty_milli\":0,\"to_location_id\":\"FG\",\"closes_lot\":true}");

    /* A count: Y1 counted 98 kg of a book of 100, adjusted by -2. */
    POST(STORE_RAW, H(13), "CountOpened",
         "{\"count_id\":\"CNT1\",\"location_ids\":[\"MP1\"],\"scope\":\"spot\"}");
    POST(STORE_RAW, H(13) + 5, "ItemCounted",
         "{\"count_id\":\"CNT1\",\"hu_id\":\"Y1\",\"item_id\":\"YARN\",\"location_id\":\"MP1\","
         "\"counted_qty_milli\":98000,\"unit\":\"kg\"}");
    POST(STORE_RAW, H(13) + 10, "CountClosed", "{\"count_id\":\"CNT1\"}");
    POST(MGR, H(13) + 15, "InventoryAdjusted",
         "{\"count_id\":\"CNT1\",\"hu_id\":\"Y1\",\"item_id\":\"YARN\",\"location_id\":\"MP1\","
         "\"delta_qty_milli\":-2000,\"unit\":\"kg\"}");
}

TestSuite(reporting, .init = setup, .fini = teardown, .timeout = 60);

static rep_report_t *run(int64_t from, int64_t to, rep_by_t by)
{
    rep_query_t query = {.from_us = from, .to_us = to, .by = by};
    rep_report_t *report;
    cr_assert_eq(rep_report_run(ledger, &query, &report), 0);
    return report;
}

static const rep_slice_t *slice(const rep_result_t *result, const char *key)
{
    for (uint32_t i = 0; i < result->slices_count; i++)
        if (strcmp(result->slices[i].key, key) == 0)
            return &result->slices[i];
    cr_assert_fail("no slice %s", key);
    return NULL;
}

static void near(const char *what, double actual, double expected)
{
    double scale = fabs(expected) > 1 ? fabs(expected) : 1;
    cr_assert(fabs(actual - expected) < 1e-6 * scale, "%s = %.9f, expected %.9f", what, actual,
              expected);
}

#define NEAR(actual, expected) near(#actual, (double)(actual), (double)(expected))

Test(reporting, every_kpi_of_the_day_equals_the_figure_computed_by_hand)
{
    plant_day();
    rep_report_t *report = run(MIN(H(6)), MIN(H(14)), REP_BY_TOTAL);
    const rep_result_t *result = rep_report_result(report);
    const rep_slice_t *t = &result->total;
    rep_kpis_t k;
    rep_kpis(t, &k);
    cr_assert(result->calendar);
    cr_assert_eq(result->untracked, 0);

    /* Scheduled: 2 looms x 480 min x 7/8 = 840 min. Stops: L1 16 + 8 = 24 min, L2 84 min,
     * scheduled at 7/8: 21 and 73.5; running 840 - 94.5 = 745.5 min. */
    cr_assert_eq(t->scheduled_us, 840LL * 60000000);
    cr_assert_eq(t->running_us, 745500LL * 60000 / 1000 * 1000);
    /* Picks: L1 1,140,000 - 1,000,000, L2 2,140,000 - 2,000,000: 280,000. Nominal: 400 x 420
     * + 500 x 420 = 378,000; efficiency 280,000 / 378,000 = 74.0741 %. */
    cr_assert_eq(t->picks, 280000);
    NEAR(k.efficiency_pct, 100.0 * 280000 / 378000);
    /* Production: 3 rolls, 270 pieces, 243 m over 14 scheduled hours. */
    cr_assert_eq(t->rolls, 3);
    cr_assert_eq(t->pieces_milli, 270000);
    NEAR(k.rate_m_per_h, 243.0 / 14);
    NEAR(k.rate_pieces_per_h, 270.0 / 14);
    /* Stops per 100,000 picks: 1 warp, 1 weft, 1 mechanical of 280,000 picks; repair minutes
     * (real time, not the calendar's): 16, 8, 84, mean 36. */
    NEAR(k.stops_per_100k_picks[0], 100000.0 / 280000);
    NEAR(k.stops_per_100k_picks[2], 100000.0 / 280000);
    NEAR(k.stops_per_100k_picks[REP_STOP_CLASSES], 300000.0 / 280000);
    NEAR(k.repair_min_mean[0], 16);
    NEAR(k.repair_min_mean[1], 8);
    NEAR(k.repair_min_mean[2], 84);
    NEAR(k.repair_min_mean[REP_STOP_CLASSES], 36);
    /* OEE: availability 745.5 / 840; performance 280,000 / (400 x 399 + 500 x 346.5) =
     * 280,000 / 332,850; quality 200 first of 220 out of cutting. */
    NEAR(k.availability_pct, 100.0 * 745.5 / 840);
    NEAR(k.performance_pct, 100.0 * 280000 / 332850);
    NEAR(k.quality_pct, 100.0 * 200 / 220);
    NEAR(k.oee_pct, 100.0 * (745.5 / 840) * (280000.0 / 332850) * (200.0 / 220));
    /* Cutting: 200 first, 11 second, 9 waste of 220. */
    NEAR(k.first_pct, 100.0 * 200 / 220);
    NEAR(k.second_pct, 100.0 * 11 / 220);
    NEAR(k.waste_pct, 100.0 * 9 / 220);
    /* 4-point: 100,000 x 10 / (500 x 50) = 40 points per 100 m2; grades 1 first, 1 second,
     * mean of 40 and 60. */
    NEAR(k.points_per_100m2, 40);
    cr_assert_eq(t->graded[0], 1);
    cr_assert_eq(t->graded[1], 1);
    NEAR(k.graded_first_pct, 50);
    NEAR(k.graded_ppm_mean, 50);
    /* Pareto: BROKEN-PICK 3 occurrences (6 points), SLUB 1 + 1 (4 + 1 points). */
    cr_assert_eq(result->defects_count, 2);
    cr_assert_str_eq(result->defects[0].defect_id, "BROKEN-PICK");
    cr_assert_eq(result->defects[0].occurrences, 3);
    cr_assert_eq(result->defects[0].points, 6);
    cr_assert_str_eq(result->defects[1].defect_id, "SLUB");
    cr_assert_eq(result->defects[1].occurrences, 2);
    cr_assert_eq(result->defects[1].points, 5);
    /* First-pass yield: first verdicts R1-A released, R1-B held, R3-A released: 2 of 3. */
    NEAR(k.first_pass_yield_pct, 200.0 / 3);
    /* NCs: NC1 closed after 70 min (0.048611 days), NC2 open at the end. */
    cr_assert_eq(t->nc_opened, 2);
    cr_assert_eq(t->nc_open_at_end, 1);
    NEAR(k.nc_days_to_close_mean, 70.0 / 1440);
    /* Maintenance: 1 breakdown over 745.5 running minutes (12.425 h); response 8 min; repair
     * 10:24 - 09:16 - 16 min paused = 52 min. PM: 1 of 2 due in the period on time. */
    NEAR(k.mtbf_h, 745.5 / 60);
    NEAR(k.response_min, 8);
    NEAR(k.mttr_min, 52);
    NEAR(k.pm_compliance_pct, 50);
    /* Beams: BM2 out with 20 m left; the change took 24 min. */
    cr_assert_eq(t->beam_outs, 1);
    NEAR(k.beam_end_waste_m_mean, 20);
    NEAR(k.beam_change_min_mean, 24);
    /* WIP at 14:00: R2 woven (50, 1 h old); R3-B awaiting quality (5, 1 h 29 min old); R1-A
     * (90, cut at 10:31, 3 h 29 min) and G1 back from the subcontractor (5, 10 min) released.
     * R1, R3 cut whole, R3-A packed, R1-B closed in its lot: out of WIP. */
    cr_assert_eq(t->wip_units[0], 1);
    cr_assert_eq(t->wip_milli[0], 50000);
    cr_assert_eq(t->wip_age_us[0], 60LL * 60000000);
    cr_assert_eq(t->wip_units[1], 0);
    cr_assert_eq(t->wip_units[2], 1);
    cr_assert_eq(t->wip_milli[2], 5000);
    cr_assert_eq(t->wip_units[4], 2);
    cr_assert_eq(t->wip_milli[4], 95000);
    cr_assert_eq(t->wip_age_us[4], (209LL + 10) * 60000000);
    cr_assert_eq(t->wip_units[5], 0);
    /* Subcontracting: 5 good and 1 lost of 6: yield 83.33 %, loss 16.67 %, no allowance. */
    NEAR(k.sub_yield_pct, 500.0 / 6);
    NEAR(k.sub_loss_pct, 100.0 / 6);
    NEAR(k.sub_allowance_pct, 0);
    /* Count: 1 - 2 / (98 + 2) = 98 %. */
    NEAR(k.inventory_accuracy_pct, 98);
    /* Output per weaver: 270 pieces by W1 and W2. */
    cr_assert_eq(t->weavers, 2);
    NEAR(k.output_pieces_per_weaver, 135);
    rep_report_free(report);
}

Test(reporting, a_cancelled_shift_schedules_no_loom_time)
{
    plant_day();
    /* 06:00-22:00: S2 (14:00-22:00) was cancelled, so the figures are the morning's. */
    rep_report_t *report = run(MIN(H(6)), MIN(H(22)), REP_BY_TOTAL);
    const rep_slice_t *t = &rep_report_result(report)->total;
    cr_assert_eq(t->scheduled_us, 840LL * 60000000);
    cr_assert_eq(t->picks, 280000);
    rep_report_free(report);
}

Test(reporting, slices_by_loom_weaver_order_shift_beam_and_subcontractor)
{
    plant_day();
    rep_report_t *report = run(MIN(H(6)), MIN(H(14)), REP_BY_LOOM);
    const rep_result_t *r = rep_report_result(report);
    cr_assert_eq(r->slices_count, 2);
    rep_kpis_t k;
    /* L1: 140,000 / (400 x 420) = 83.33 %; availability 399 / 420 = 95 %. */
    rep_kpis(slice(r, "L1"), &k);
    NEAR(k.efficiency_pct, 100.0 * 140000 / 168000);
    NEAR(k.availability_pct, 95);
    NEAR(k.first_pct, 90);
    cr_assert_eq(slice(r, "L1")->nc_closed, 1);
    /* L2: 140,000 / (500 x 420) = 66.67 %; the breakdown, the open NC and the missed PM. */
    rep_kpis(slice(r, "L2"), &k);
    NEAR(k.efficiency_pct, 100.0 * 140000 / 210000);
    cr_assert_eq(slice(r, "L2")->breakdowns, 1);
    cr_assert_eq(slice(r, "L2")->nc_open_at_end, 1);
    NEAR(k.pm_compliance_pct, 0);
    NEAR(k.mtbf_h, 346.5 / 60);
    /* Beams of the period's end: BM1 on L1 with 1,000 - 135 m, at L1's 135 m / 7 h. */
    cr_assert_eq(r->beams_count, 2);
    cr_assert_str_eq(r->beams[0].beam_id, "BM1");
    cr_assert_eq(r->beams[0].remaining_milli, 865000);
    NEAR(r->beams[0].hours_to_beam_out, 865.0 / (135.0 / 7));
    rep_report_free(report);

    report = run(MIN(H(6)), MIN(H(14)), REP_BY_WEAVER);
    r = rep_report_result(report);
    cr_assert_eq(slice(r, "W1")->pieces_milli, 150000);
    cr_assert_eq(slice(r, "W2")->pieces_milli, 120000);
    cr_assert_eq(slice(r, "W1")->weavers, 1);
    rep_report_free(report);

    report = run(MIN(H(6)), MIN(H(14)), REP_BY_ORDER);
    r = rep_report_result(report);
    cr_assert_eq(slice(r, "OF1")->picks, 140000);
    cr_assert_eq(slice(r, "OF2")->rolls, 1);
    rep_report_free(report);

    report = run(MIN(H(6)), MIN(H(14)), REP_BY_SHIFT);
    r = rep_report_result(report);
    cr_assert_eq(slice(r, "S1")->scheduled_us, 840LL * 60000000);
    cr_assert_eq(slice(r, "S1")->rolls, 3);
    rep_report_free(report);

    report = run(MIN(H(6)), MIN(H(14)), REP_BY_BEAM);
    r = rep_report_result(report);
    cr_assert_eq(slice(r, "BM2")->beam_outs, 1);
    cr_assert_eq(slice(r, "BM3")->beam_changes, 1);
    rep_report_free(report);

    report = run(MIN(H(6)), MIN(H(14)), REP_BY_SUBCONTRACTOR);
    r = rep_report_result(report);
    cr_assert_eq(r->slices_count, 1);
    rep_kpis(slice(r, "SUB1"), &k);
    NEAR(k.sub_yield_pct, 500.0 / 6);
    rep_report_free(report);
}

Test(reporting, json_and_csv_carry_every_figure)
{
    plant_day();
    rep_report_t *report = run(MIN(H(6)), MIN(H(14)), REP_BY_LOOM);
    char *text;
    size_t len;
    cr_assert_eq(rep_report_json(report, &text, &len), 0);
    cr_assert_eq(strlen(text), len);
    cr_assert_not_null(strstr(text, "\"by\":\"loom\""));
    cr_assert_not_null(strstr(text, "\"key\":\"L1\""));
    cr_assert_not_null(strstr(text, "\"efficiency_pct\":83.3333"));
    cr_assert_not_null(strstr(text, "\"defect_id\":\"BROKEN-PICK\""));
    free(text);
    cr_assert_eq(rep_report_csv(report, &text, &len), 0);
    cr_assert_eq(strncmp(text, "loom,scheduled_min,", 19), 0);
    cr_assert_not_null(strstr(text, "\r\nL1,420.000,399.000,140000,83.3333,"));
    cr_assert_not_null(strstr(text, "\r\n(total),840.000,745.500,280000,"));
    free(text);
    rep_report_free(report);
}

Test(reporting, the_planning_board_times_orders_on_the_calendar_and_flags_a_beam_out)
{
    plant_day();
    rep_planning_t *planning;
    cr_assert_eq(rep_planning_run(ledger, MIN(H(14)), &planning), 0);
    uint32_t count;
    const rep_plan_line_t *lines = rep_planning_lines(planning, &count);
    cr_assert_eq(count, 3);
    /* L1 runs OF1: 2,000 - 150 = 1,850 pieces x 0.9 m = 1,665 m at 400 x 60 x 83.33 % /
     * (18 x 100) = 11.11 m/h: 149.85 scheduled hours. After 14:00 the calendar has no shift
     * left: time runs at its ratio, 480 elapsed for 420 worked. */
    cr_assert_str_eq(lines[0].loom_id, "L1");
    cr_assert_str_eq(lines[0].of_id, "OF1");
    cr_assert(lines[0].running);
    cr_assert_eq(lines[0].remaining_milli, 1850000);
    NEAR(lines[0].rate_m_per_h, 400 * 60 * (140000.0 / 168000) / 1800);
    double hours = 1665 / (400 * 60 * (140000.0 / 168000) / 1800) * 8 / 7;
    NEAR((double)(lines[0].expected_finish_us - MIN(H(14))) / 3600e6, hours);
    /* BM1's 865 m last 77.85 scheduled hours: out before OF1 ends; OF1 due in 48 h: late. */
    NEAR((double)(lines[0].beam_out_us - MIN(H(14))) / 3600e6,
         865 / (400 * 60 * (140000.0 / 168000) / 1800) * 8 / 7);
    cr_assert(lines[0].beam_out_before_end);
    cr_assert(lines[0].late);
    /* OF3 is queued after it. */
    cr_assert_str_eq(lines[1].of_id, "OF3");
    cr_assert_not(lines[1].running);
    cr_assert_eq(lines[1].expected_start_us, lines[0].expected_finish_us);
    /* L2 runs OF2: 380 pieces = 342 m at 500 x 60 x 66.67 % / 1800 = 11.11 m/h; BM3's
     * 500 m outlast it; due in 10 days. */
    cr_assert_str_eq(lines[2].of_id, "OF2");
    cr_assert_not(lines[2].beam_out_before_end);
    cr_assert_not(lines[2].late);
    char *text;
    size_t len;
    cr_assert_eq(rep_planning_json(planning, &text, &len), 0);
    cr_assert_not_null(strstr(text, "\"of_id\":\"OF3\""));
    free(text);
    cr_assert_eq(rep_planning_csv(planning, &text, &len), 0);
    cr_assert_eq(strncmp(text, "loom_id,of_id,", 14), 0);
    free(text);
    rep_planning_free(planning);
}

Test(reporting, offline_lag_is_recorded_at_minus_occurred_at)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    /* Two events a device kept for 120 s and 60 s before posting them. */
    post_at(EV_ROLE_MANAGER, "MGR", now - 120000000, "LoomDefined",
            "{\"loom_id\":\"L9\",\"name\":\"L9\",\"location_id\":\"W\","
            "\"nominal_picks_per_min\":400,\"terry\":false}");
    post_at(EV_ROLE_WEAVER, "W1", now - 60000000, "LoomStopped",
            "{\"loom_id\":\"L9\",\"stop_class\":\"warp\",\"reason_code\":\"R\",\"picks\":1}");
    rep_report_t *report = run(now - 3600000000LL, now + 1, REP_BY_TOTAL);
    const rep_slice_t *t = &rep_report_result(report)->total;
    rep_kpis_t k;
    rep_kpis(t, &k);
    cr_assert_eq(t->lag_events, 2);
    cr_assert_eq(t->lag_over_minute, 2);
    /* The mean is 90 s plus the test's own time; the max 120 s plus it. */
    cr_assert(k.lag_s_mean >= 90 && k.lag_s_mean < 150, "mean %f", k.lag_s_mean);
    cr_assert(k.lag_s_max >= 120 && k.lag_s_max < 180, "max %f", k.lag_s_max);
    rep_report_free(report);
}

Test(reporting, a_bad_query_is_refused_and_an_empty_ledger_has_no_figures)
{
    rep_report_t *report = (rep_report_t *)&report;
    rep_query_t query = {.from_us = MIN(60), .to_us = MIN(60), .by = REP_BY_LOOM};
    cr_assert_eq(rep_report_run(ledger, &query, &report), FL_EINVAL);
    cr_assert_null(report);
    query.to_us = MIN(120);
    query.by = REP_BY_COUNT;
    cr_assert_eq(rep_report_run(ledger, &query, &report), FL_EINVAL);
    cr_assert_eq(rep_by_parse("loom"), REP_BY_LOOM);
    cr_assert_eq(rep_by_parse("planet"), REP_BY_COUNT);
    report = run(MIN(60), MIN(120), REP_BY_LOOM);
    const rep_result_t *r = rep_report_result(report);
    cr_assert_eq(r->events_read, 0);
    cr_assert_eq(r->slices_count, 0);
    rep_kpis_t k;
    rep_kpis(&r->total, &k);
    cr_assert(isnan(k.efficiency_pct));
    /* With no calendar, every minute of the period is scheduled: none here without looms. */
    cr_assert_not(r->calendar);
    rep_report_free(report);
    rep_report_free(NULL);
}
