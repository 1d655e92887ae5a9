/*
 * bench/reporting.c: the full KPI set over a month of a 200-loom plant.
 *
 * Builds the plant with the simulator (fl_sim, appended straight to a ledger: every event
 * through the catalog and the plant's rules), then measures in the same run:
 *   - the raw scan of the log (eng_iter_log, every record decoded), the peer: a report reads
 *     the log twice (the calendar, then the fold);
 *   - a report over the month for each slicing (total, loom, shift, weaver, article, order,
 *     beam, subcontractor), best of RUNS;
 *   - the planning board at the month's end.
 * Prints a table, then "RESULT key=value ...". Nothing is asserted about time.
 * BENCH_LOOMS and BENCH_DAYS change the plant (default 200 looms, 30 days).
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "clients/sim/sim.h"
#include "reporting/reporting.h"

#define RUNS 3

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_reporting: %s: %s\n", what, fl_strerror(rc));
    exit(1);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint32_t env_u32(const char *name, uint32_t def)
{
    const char *value = getenv(name);
    return value != NULL && atoi(value) > 0 ? (uint32_t)atoi(value) : def;
}

static double scan_ms(eng_ledger_t *ledger, uint64_t *events)
{
    double start = now_ms();
    eng_iter_t *iter;
    int rc = eng_iter_log(ledger, 1, ENG_FORWARD, &iter);
    if (rc != 0)
        die("iter", rc);
    eng_record_t record;
    *events = 0;
    while ((rc = eng_iter_next(iter, &record)) == 0)
        (*events)++;
    eng_iter_close(iter);
    if (rc != FL_EEOF)
        die("scan", rc);
    return now_ms() - start;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_reporting DATA_DIR\n");
        return 2;
    }
    sim_config_t config = {.seed = 1,
                           .looms = env_u32("BENCH_LOOMS", 200),
                           .days = env_u32("BENCH_DAYS", 30),
                           .start_us = SIM_START_US_DEFAULT};
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/ledger", argv[1]);
    sim_report_t built;
    double start = now_ms();
    int rc = sim_append_ledger(&config, dir, 0, &built);
    if (rc != 0)
        die("simulate", rc);
    double build_ms = now_ms() - start;
    if (built.refused != 0)
        fprintf(stderr, "bench_reporting: %" PRIu64 " events refused (first: %s %s)\n",
                built.refused, built.first_error_type, built.first_error_detail);

    eng_ledger_t *ledger;
    eng_config_t engine = {.dir = dir, .rules = ENG_RULES_PLANT};
    if ((rc = eng_open(&ledger, &engine)) != 0)
        die("open", rc);
    uint64_t events = 0;
    double scan = 1e18;
    for (int i = 0; i < RUNS; i++) {
        double ms = scan_ms(ledger, &events);
        scan = ms < scan ? ms : scan;
    }
    printf("plant: %u looms, %u days, %" PRIu64 " events (built in %.0f ms)\n", config.looms,
           config.days, events, build_ms);
    printf("%-16s %10s %8s %10s\n", "report by", "best ms", "slices", "vs scan");
    printf("%-16s %10.1f %8s %10s\n", "(raw scan)", scan, "", "1.00");
    rep_query_t query = {.from_us = config.start_us,
                         .to_us = config.start_us + (int64_t)config.days * 86400 * 1000000};
    double by_ms[REP_BY_COUNT];
    for (int by = 0; by < REP_BY_COUNT; by++) {
        query.by = (rep_by_t)by;
        by_ms[by] = 1e18;
        uint32_t slices = 0;
        for (int i = 0; i < RUNS; i++) {
            rep_report_t *report;
            double t0 = now_ms();
            if ((rc = rep_report_run(ledger, &query, &report)) != 0)
                die("report", rc);
            double ms = now_ms() - t0;
            by_ms[by] = ms < by_ms[by] ? ms : by_ms[by];
            slices = rep_report_result(report)->slices_count;
            rep_report_free(report);
        }
        printf("%-16s %10.1f %8u %10.2f\n", rep_by_name((rep_by_t)by), by_ms[by], slices,
               by_ms[by] / scan);
    }
    double planning_ms = 1e18;
    for (int i = 0; i < RUNS; i++) {
        rep_planning_t *planning;
        double t0 = now_ms();
        if ((rc = rep_planning_run(ledger, query.to_us, &planning)) != 0)
            die("planning", rc);
        double ms = now_ms() - t0;
        planning_ms = ms < planning_ms ? ms : planning_ms;
        rep_planning_free(planning);
    }
    printf("%-16s %10.1f\n", "planning board", planning_ms);
    double worst = 0;
    for (int by = 0; by < REP_BY_COUNT; by++)
        worst = by_ms[by] > worst ? by_ms[by] : worst;
    eng_close(ledger);
    printf("RESULT looms=%u days=%u events=%" PRIu64 " kpi_month_ms=%.1f kpi_month_by_loom_ms=%.1f "
           "kpi_month_worst_ms=%.1f scan_ms=%.1f planning_ms=%.1f\n",
           config.looms, config.days, events, by_ms[REP_BY_TOTAL], by_ms[REP_BY_LOOM], worst, scan,
           planning_ms);
    return 0;
}
