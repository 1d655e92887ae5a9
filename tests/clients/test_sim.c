/*
 * The plant simulator: a month of a 12-loom plant appended to a plant ledger through the catalog
 * and every plant rule with no event refused, the same seed giving byte-identical NDJSON, and
 * every kind of event the simulator promises present in that month.
 */
#include "tests/support/support.h"

#include "clients/sim/sim.h"

TestSuite(sim, .timeout = 240);

static const sim_config_t month = {.seed = 20260302, .looms = 12, .days = 30};

/* The whole stream as NDJSON in memory (malloc'd, NUL-terminated). */
static char *ndjson(const sim_config_t *config, size_t *len, uint64_t *events)
{
    char *text = NULL;
    FILE *file = open_memstream(&text, len);
    cr_assert_not_null(file);
    cr_assert_eq(sim_write_ndjson(config, file, events), 0);
    fclose(file);
    return text;
}

Test(sim, a_month_of_a_small_plant_is_appended_with_no_event_refused)
{
    char dir[256];
    test_tmpdir(dir, sizeof(dir));
    sim_report_t report;
    cr_assert_eq(sim_append_ledger(&month, dir, 0, &report), 0);
    cr_assert_eq(report.refused, 0, "%llu refused; first: #%llu %s %s",
                 (unsigned long long)report.refused, (unsigned long long)report.first_error_index,
                 report.first_error_type, report.first_error_detail);
    cr_assert_gt(report.events, 20000, "a month of 12 looms: %llu events",
                 (unsigned long long)report.events);
    cr_assert_eq(report.appended, report.events);
    eng_config_t config = {.dir = dir, .rules = ENG_RULES_PLANT};
    eng_ledger_t *ledger;
    cr_assert_eq(eng_open(&ledger, &config), 0);
    eng_head_t head;
    eng_head(ledger, &head);
    cr_assert_eq(head.seq, report.events);
    int64_t shipped = 0;
    eng_stock_filter_t filter = {.status = "shipped", .grade = -1};
    (void)filter;
    cr_assert_eq(eng_stock_get(ledger, "TW-500", "CUST-1", "shipped", &shipped), 0);
    eng_close(ledger);
    test_tmpdir_remove(dir);
}

Test(sim, the_same_seed_gives_byte_identical_ndjson_and_another_seed_does_not)
{
    sim_config_t week = {.seed = 7, .looms = 6, .days = 7};
    size_t len_a, len_b, len_c;
    uint64_t events_a, events_b, events_c;
    char *a = ndjson(&week, &len_a, &events_a);
    char *b = ndjson(&week, &len_b, &events_b);
    week.seed = 8;
    char *c = ndjson(&week, &len_c, &events_c);
    cr_assert_gt(events_a, 1000);
    cr_assert_eq(events_a, events_b);
    cr_assert_eq(len_a, len_b);
    cr_assert(memcmp(a, b, len_a) == 0, "two runs of one seed differ");
    cr_assert(len_a != len_c || memcmp(a, c, len_a) != 0, "another seed gave the same stream");
    free(a);
    free(b);
    free(c);
}

Test(sim, a_month_holds_every_kind_of_event_the_plant_makes)
{
    static const char *const kinds[] = {"ArticleSpecDefined",
                                        "ItemDefined",
                                        "LocationDefined",
                                        "DefectCodeDefined",
                                        "LoomDefined",
                                        "UserInvited",
                                        "SubcontractorOnboarded",
                                        "GoodsReceived",
                                        "BeamRegistered",
                                        "BeamMounted",
                                        "BeamDismounted",
                                        "OFCreated",
                                        "OFReleased",
                                        "OFAssignedToLoom",
                                        "OFStartedOnLoom",
                                        "OFEndedOnLoom",
                                        "OFClosed",
                                        "FirstPieceInspected",
                                        "MaterialIssuedToLoom",
                                        "ShiftScheduled",
                                        "OperatorAssignedToLoom",
                                        "OperatorUnassignedFromLoom",
                                        "ProductionDeclared",
                                        "LabelPrinted",
                                        "LoomStopped",
                                        "LoomRestarted",
                                        "InterventionRequested",
                                        "InterventionAcknowledged",
                                        "InterventionStarted",
                                        "InterventionPaused",
                                        "InterventionResumed",
                                        "InterventionCompleted",
                                        "InterventionCancelled",
                                        "SparePartRequested",
                                        "SparePartIssued",
                                        "PreventiveMaintenanceDone",
                                        "HUReceivedAtCutting",
                                        "CuttingDeclared",
                                        "InspectionRecorded",
                                        "FabricGraded",
                                        "LotReleased",
                                        "LotPutOnHold",
                                        "LotRejected",
                                        "DeviationApproved",
                                        "HUScrapped",
                                        "NCOpened",
                                        "ContainmentRecorded",
                                        "CorrectiveActionRecorded",
                                        "NCClosed",
                                        "LotSentToSubcontractor",
                                        "LotReturnedFromSubcontractor",
                                        "StockTransferred",
                                        "HUPacked",
                                        "HUPalletized",
                                        "ShipmentPlanned",
                                        "ShipmentLoaded",
                                        "ShipmentDispatched",
                                        "CountOpened",
                                        "ItemCounted",
                                        "CountClosed",
                                        "InventoryAdjusted"};
    enum { KINDS = sizeof(kinds) / sizeof(kinds[0]) };
    unsigned seen[KINDS] = {0};
    sim_t *sim;
    cr_assert_eq(sim_open(&sim, &month), 0);
    sim_event_t event;
    int64_t last_us = 0;
    uint64_t index = 0;
    int rc;
    while ((rc = sim_next(sim, &event)) == 0) {
        cr_assert_eq(event.index, index++);
        cr_assert_geq(event.occurred_at_us, last_us, "the simulated clock runs forward");
        last_us = event.occurred_at_us;
        for (size_t k = 0; k < KINDS; k++)
            if (strcmp(event.type, kinds[k]) == 0)
                seen[k]++;
    }
    cr_assert_eq(rc, FL_EEOF);
    sim_close(sim);
    for (size_t k = 0; k < KINDS; k++)
        cr_expect_gt(seen[k], 0, "no %s in a month", kinds[k]);
    cr_assert_lt(last_us, SIM_START_US_DEFAULT + 30 * 86400000000LL);
}

Test(sim, bad_parameters_are_refused)
{
    sim_t *sim = (sim_t *)1;
    sim_config_t config = {.seed = 1, .looms = 0, .days = 1};
    cr_assert_eq(sim_open(&sim, &config), FL_EINVAL);
    cr_assert_null(sim);
    config = (sim_config_t){.seed = 1, .looms = 1, .days = SIM_DAYS_MAX + 1};
    cr_assert_eq(sim_open(&sim, &config), FL_EINVAL);
    sim_close(NULL);
}
