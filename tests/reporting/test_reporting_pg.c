/*
 * The KPIs of a simulated month (fl_sim: 8 looms, 30 days) agree between the embedded ledger
 * (reporting/) and PostgreSQL's KPI views (projections/pg_schema.c, migration 2) fed by the
 * projector, over the whole month and over ten days inside it, per loom and in total: production,
 * stops and repairs per class, cutting grades, inspection points, grading, the defect Pareto,
 * interventions, non-conformities, beams, subcontracting, counts, weavers and offline lag; and
 * (migration 3) loom time over the shift calendar with efficiency, availability, performance,
 * OEE, rate and MTBF, first-pass yield, preventive maintenance, and the work in progress, the
 * NCs open and the beams left at the period's end. A real PostgreSQL 15 is started by tests/support/servers.sh.
 */
#include "tests/projections/projections_test.h"

#include <libpq-fe.h>
#include <math.h>

#include "clients/sim/sim.h"
#include "reporting/reporting.h"

#define DAY_US (86400LL * 1000000)

static PGconn *db;
static char tenant[PRJ_TENANT_LEN_MAX + 1];
static char schema[PRJ_TENANT_LEN_MAX + 8];

static void quiet(void *data, const char *message)
{
    (void)data;
    (void)message;
}

static void month_setup(void)
{
    test_tmpdir(dir, sizeof(dir));
    snprintf(ledger_dir, sizeof(ledger_dir), "%s/ledger", dir);
    sim_config_t config = {.seed = 7, .looms = 8, .days = 30, .start_us = SIM_START_US_DEFAULT};
    sim_report_t report;
    cr_assert_eq(sim_append_ledger(&config, ledger_dir, 0, &report), 0);
    cr_assert_eq(report.refused, 0, "%s: %s", report.first_error_type, report.first_error_detail);
    ledger_open();
    db = PQconnectdb(env_or_skip("FL_TEST_PG_URL"));
    cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
    PQsetNoticeProcessor(db, quiet, NULL);
    snprintf(tenant, sizeof(tenant), "r%d_%ld", (int)getpid(), (long)time(NULL) % 100000);
    snprintf(schema, sizeof(schema), "fouta_%s", tenant);
}

static void month_teardown(void)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", schema);
    PQclear(PQexec(db, sql));
    PQfinish(db);
    teardown();
}

TestSuite(reporting_pg, .init = month_setup, .fini = month_teardown, .timeout = 240);

/* Each row of a query as one line "a|b|c", into state. %1$s is the schema; the period is
 * [from, to) as timestamptz, %2$s and %3$s. */
static void sql_lines(state_t *state, const char *format, int64_t from, int64_t to)
{
    char sql[4096], from_text[96], to_text[96];
    snprintf(from_text, sizeof(from_text), "(timestamptz 'epoch' + %lld * interval '1 us')",
             (long long)from);
    snprintf(to_text, sizeof(to_text), "(timestamptz 'epoch' + %lld * interval '1 us')",
             (long long)to);
    snprintf(sql, sizeof(sql), format, schema, from_text, to_text);
    PGresult *res = PQexec(db, sql);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(res));
    for (int row = 0; row < PQntuples(res); row++) {
        char line[384];
        size_t at = 0;
        for (int col = 0; col < PQnfields(res); col++)
            at += (size_t)snprintf(line + at, sizeof(line) - at, "%s%s", col > 0 ? "|" : "",
                                   PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col));
        state_add(state, line);
    }
    PQclear(res);
}

static void line(state_t *state, const char *format, ...)
{
    char text[384];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof(text), format, args);
    va_end(args);
    state_add(state, text);
}

/* A figure as both sides print it: 4 decimals, empty when it has no denominator. */
static const char *fig(char *out, double value)
{
    if (isnan(value))
        out[0] = '\0';
    else
        snprintf(out, 32, "%.4f", value);
    return out;
}

/* The figures over loom time: the sums (exact), then the ratios kpi_looms computes. */
static void loom_time_line(state_t *state, const char *key, const rep_slice_t *s)
{
    line(state, "%s|%lld|%lld|%lld|%lld|%lld|%lld", key, (long long)s->scheduled_us,
         (long long)s->running_us, (long long)s->nominal_ppm_us,
         (long long)s->nominal_running_ppm_us, (long long)s->picks,
         (long long)s->picks_metres_milli);
}

static void figures_line(state_t *state, const char *key, const rep_slice_t *s)
{
    rep_kpis_t k;
    rep_kpis(s, &k);
    char f[7][32];
    line(state, "%s|%s|%s|%s|%s|%s|%s|%s", key, fig(f[0], k.efficiency_pct),
         fig(f[1], k.availability_pct), fig(f[2], k.performance_pct), fig(f[3], k.quality_pct),
         fig(f[4], k.oee_pct), fig(f[5], k.rate_m_per_h), fig(f[6], k.mtbf_h));
}

/* Work in progress by stage: units, quantity, summed age and the four age buckets. */
#define WIP_SQL                                                                                    \
    "count(*), sum(qty_milli), sum(age_us), count(*) FILTER (WHERE age_us < 86400e6),"            \
    " count(*) FILTER (WHERE age_us >= 86400e6 AND age_us < 3 * 86400e6),"                        \
    " count(*) FILTER (WHERE age_us >= 3 * 86400e6 AND age_us < 7 * 86400e6),"                    \
    " count(*) FILTER (WHERE age_us >= 7 * 86400e6) FROM %1$s.kpi_wip(%3$s, %3$s)"

static void wip_lines(state_t *state, const char *key, const rep_slice_t *s)
{
    for (int c = 0; c < REP_WIP_STAGES; c++)
        if (s->wip_units[c] > 0)
            line(state, "%s%s%s|%lld|%lld|%lld|%lld|%lld|%lld|%lld", key, key[0] ? "|" : "",
                 rep_wip_stage_names[c], (long long)s->wip_units[c], (long long)s->wip_milli[c],
                 (long long)s->wip_age_us[c], (long long)s->wip_ages[c][0],
                 (long long)s->wip_ages[c][1], (long long)s->wip_ages[c][2],
                 (long long)s->wip_ages[c][3]);
}

static rep_report_t *report_by(int64_t from, int64_t to, rep_by_t by)
{
    rep_query_t query = {.from_us = from, .to_us = to, .by = by};
    rep_report_t *report;
    cr_assert_eq(rep_report_run(ledger, &query, &report), 0);
    return report;
}

/* Compares one family: the ledger's lines against the query's. */
#define SAME(what, query, ...)                                                                     \
    do {                                                                                           \
        state_t expected, actual;                                                                  \
        state_init(&expected);                                                                     \
        state_init(&actual);                                                                       \
        __VA_ARGS__;                                                                               \
        sql_lines(&actual, query, from, to);                                                       \
        state_assert_equal(&expected, &actual, what);                                              \
        state_free(&expected);                                                                     \
        state_free(&actual);                                                                       \
    } while (0)

static void per_loom(int64_t from, int64_t to)
{
    rep_report_t *report = report_by(from, to, REP_BY_LOOM);
    const rep_result_t *r = rep_report_result(report);
    const rep_slice_t *s = r->slices;
    uint32_t n = r->slices_count;
    SAME("production by loom",
         "SELECT loom_id, count(*), sum(qty_milli), sum(length_milli) FROM %1$s.kpi_production"
         " WHERE occurred_at >= %2$s AND occurred_at < %3$s GROUP BY loom_id",
         for (uint32_t i = 0; i < n; i++) if (s[i].rolls > 0)
             line(&expected, "%s|%lld|%lld|%lld", s[i].key, (long long)s[i].rolls,
                  (long long)s[i].pieces_milli, (long long)s[i].length_milli));
    SAME("stops by loom and class",
         "SELECT loom_id, stop_class, count(*) FROM %1$s.kpi_stops"
         " WHERE occurred_at >= %2$s AND occurred_at < %3$s GROUP BY loom_id, stop_class",
         for (uint32_t i = 0; i < n; i++) for (int c = 0; c < REP_STOP_CLASSES;
                                               c++) if (s[i].stops[c] > 0)
             line(&expected, "%s|%s|%lld", s[i].key, rep_stop_class_names[c],
                  (long long)s[i].stops[c]));
    SAME("repairs by loom and class",
         "SELECT loom_id, stop_class, count(*), round(sum(repair_us)) FROM %1$s.kpi_stops"
         " WHERE restarted_at >= %2$s AND restarted_at < %3$s GROUP BY loom_id, stop_class",
         for (uint32_t i = 0; i < n; i++) for (int c = 0; c < REP_STOP_CLASSES;
                                               c++) if (s[i].repairs[c] > 0)
             line(&expected, "%s|%s|%lld|%lld", s[i].key, rep_stop_class_names[c],
                  (long long)s[i].repairs[c], (long long)s[i].repair_us[c]));
    SAME("cutting by loom",
         "SELECT loom_id, sum(consumed_milli), sum(first_milli), sum(second_milli),"
         " sum(waste_milli) FROM %1$s.kpi_cutting"
         " WHERE occurred_at >= %2$s AND occurred_at < %3$s GROUP BY loom_id",
         for (uint32_t i = 0; i < n; i++) if (s[i].cut_consumed_milli > 0)
             line(&expected, "%s|%lld|%lld|%lld|%lld", s[i].key, (long long)s[i].cut_consumed_milli,
                  (long long)s[i].cut_first_milli, (long long)s[i].cut_second_milli,
                  (long long)s[i].cut_waste_milli));
    /* Not vacuous: the month has shifts, picks, verdicts, maintenance and beams. */
    cr_assert(r->calendar);
    cr_assert_gt(r->total.picks, 0);
    cr_assert_gt(r->total.verdicts, 0);
    cr_assert_gt(r->total.pm_due, 0);
    cr_assert_gt(r->beams_count, 0);
    SAME("loom time by loom",
         "SELECT loom_id, sum(scheduled_us), sum(running_us), sum(nominal_ppm_us),"
         " sum(nominal_running_ppm_us), sum(picks), sum(picks_metres_milli)"
         " FROM %1$s.kpi_loom_time(%2$s, %3$s, %3$s) GROUP BY ROLLUP (loom_id)"
         " HAVING sum(scheduled_us) > 0 OR sum(picks) > 0",
         for (uint32_t i = 0; i < n; i++) if (s[i].scheduled_us > 0 || s[i].picks > 0)
             loom_time_line(&expected, s[i].key, &s[i]);
         loom_time_line(&expected, "", &r->total));
    SAME("efficiency, availability, performance, quality, OEE, rate and MTBF by loom",
         "SELECT loom_id, round(efficiency_pct::numeric, 4), round(availability_pct::numeric, 4),"
         " round(performance_pct::numeric, 4), round(quality_pct::numeric, 4),"
         " round(oee_pct::numeric, 4), round(rate_m_per_h::numeric, 4), round(mtbf_h::numeric, 4)"
         " FROM %1$s.kpi_looms(%2$s, %3$s, %3$s) WHERE scheduled_min > 0",
         for (uint32_t i = 0; i < n; i++) if (s[i].scheduled_us > 0)
             figures_line(&expected, s[i].key, &s[i]);
         figures_line(&expected, "(total)", &r->total));
    SAME("first verdicts by loom",
         "SELECT loom_id, count(*), count(*) FILTER (WHERE first_pass)"
         " FROM %1$s.kpi_first_verdicts WHERE occurred_at >= %2$s AND occurred_at < %3$s"
         " GROUP BY loom_id",
         for (uint32_t i = 0; i < n; i++) if (s[i].verdicts > 0)
             line(&expected, "%s|%lld|%lld", s[i].key, (long long)s[i].verdicts,
                  (long long)s[i].verdicts_first_pass));
    SAME("preventive maintenance by loom",
         "SELECT loom_id, count(*), count(*) FILTER (WHERE on_time)"
         " FROM %1$s.kpi_pm(%2$s, %3$s, %3$s) GROUP BY loom_id",
         for (uint32_t i = 0; i < n; i++) if (s[i].pm_due > 0)
             line(&expected, "%s|%lld|%lld", s[i].key, (long long)s[i].pm_due,
                  (long long)s[i].pm_on_time));
    SAME("beams at the period's end",
         "SELECT beam_id, loom_id, beam_position, round(mounted_m * 1000), round(woven_m * 1000),"
         " round(remaining_m * 1000), round(hours_to_beam_out::numeric, 4)"
         " FROM %1$s.kpi_beams_at_end(%2$s, %3$s, %3$s)",
         for (uint32_t i = 0; i < r->beams_count; i++) {
             const rep_beam_t *b = &r->beams[i];
             char h[32];
             line(&expected, "%s|%s|%s|%lld|%lld|%lld|%s", b->beam_id, b->loom_id,
                  b->position == 1 ? "pile" : "ground", (long long)b->mounted_milli,
                  (long long)b->woven_milli, (long long)b->remaining_milli,
                  fig(h, b->hours_to_beam_out));
         });
    SAME("work in progress by loom and stage",
         "SELECT loom_id, stage, " WIP_SQL " WHERE loom_id IS NOT NULL GROUP BY loom_id, stage",
         for (uint32_t i = 0; i < n; i++) wip_lines(&expected, s[i].key, &s[i]));
    SAME("breakdowns by loom",
         "SELECT loom_id, count(*) FROM %1$s.kpi_interventions"
         " WHERE requested_at >= %2$s AND requested_at < %3$s GROUP BY loom_id",
         for (uint32_t i = 0; i < n; i++) if (s[i].breakdowns > 0)
             line(&expected, "%s|%lld", s[i].key, (long long)s[i].breakdowns));
    rep_report_free(report);
}

static void in_total(int64_t from, int64_t to)
{
    rep_report_t *report = report_by(from, to, REP_BY_TOTAL);
    const rep_result_t *r = rep_report_result(report);
    const rep_slice_t *t = &r->total;
    cr_assert_gt(t->rolls, 100);
    cr_assert_gt(t->stops[0], 10);
    SAME("defect Pareto",
         "SELECT defect_id, sum(occurrences), sum(points) FROM %1$s.kpi_defects"
         " WHERE occurred_at >= %2$s AND occurred_at < %3$s GROUP BY defect_id",
         for (uint32_t i = 0; i < r->defects_count; i++)
             line(&expected, "%s|%lld|%lld", r->defects[i].defect_id,
                  (long long)r->defects[i].occurrences, (long long)r->defects[i].points));
    SAME("inspections and grading",
         "SELECT (SELECT count(*) FROM %1$s.kpi_inspections WHERE occurred_at >= %2$s"
         "  AND occurred_at < %3$s),"
         " (SELECT sum(points) FROM %1$s.kpi_inspections WHERE occurred_at >= %2$s"
         "  AND occurred_at < %3$s),"
         " (SELECT coalesce(sum(width_mm * inspected_length_milli), 0) FROM %1$s.kpi_inspections"
         "  WHERE occurred_at >= %2$s AND occurred_at < %3$s),"
         " (SELECT count(*) FILTER (WHERE grade = 'first') || '|' ||"
         "  count(*) FILTER (WHERE grade = 'second') || '|' || sum(points_per_100m2_milli)"
         "  FROM %1$s.kpi_grading WHERE occurred_at >= %2$s AND occurred_at < %3$s)",
         line(&expected, "%lld|%lld|%lld|%lld|%lld|%lld", (long long)t->inspections,
              (long long)t->points, (long long)t->inspected_mm_milli_m, (long long)t->graded[0],
              (long long)t->graded[1], (long long)t->graded_ppm_milli_sum));
    SAME("interventions",
         "SELECT count(*) FILTER (WHERE acknowledged_at >= %2$s AND acknowledged_at < %3$s),"
         " round(coalesce(sum(extract(epoch FROM acknowledged_at - requested_at) * 1000000)"
         "  FILTER (WHERE acknowledged_at >= %2$s AND acknowledged_at < %3$s), 0)),"
         " count(*) FILTER (WHERE completed_at >= %2$s AND completed_at < %3$s"
         "  AND started_at IS NOT NULL),"
         " round(coalesce(sum(extract(epoch FROM completed_at - started_at) * 1000000 -"
         "  paused_us) FILTER (WHERE completed_at >= %2$s AND completed_at < %3$s"
         "  AND started_at IS NOT NULL), 0)) FROM %1$s.kpi_interventions",
         line(&expected, "%lld|%lld|%lld|%lld", (long long)t->responses, (long long)t->response_us,
              (long long)t->repairs_done, (long long)t->repair_done_us));
    SAME("non-conformities",
         "SELECT count(*) FILTER (WHERE opened_at >= %2$s AND opened_at < %3$s),"
         " count(*) FILTER (WHERE closed_at >= %2$s AND closed_at < %3$s),"
         " round(coalesce(sum(extract(epoch FROM closed_at - opened_at) * 1000000)"
         "  FILTER (WHERE closed_at >= %2$s AND closed_at < %3$s), 0))"
         " FROM %1$s.kpi_non_conformities",
         line(&expected, "%lld|%lld|%lld", (long long)t->nc_opened, (long long)t->nc_closed,
              (long long)t->nc_close_us));
    SAME("beams",
         "SELECT count(*) FILTER (WHERE reason = 'beam_out'),"
         " coalesce(sum(remaining_length_milli) FILTER (WHERE reason = 'beam_out'), 0),"
         " count(change_us), round(coalesce(sum(change_us), 0)) FROM %1$s.kpi_beams"
         " WHERE occurred_at >= %2$s AND occurred_at < %3$s",
         line(&expected, "%lld|%lld|%lld|%lld", (long long)t->beam_outs,
              (long long)t->beam_end_waste_milli, (long long)t->beam_changes,
              (long long)t->beam_change_us));
    SAME("subcontracting",
         "SELECT count(*) FILTER (WHERE type = 'LotSentToSubcontractor'),"
         " coalesce(sum(sent_milli), 0),"
         " count(*) FILTER (WHERE type = 'LotReturnedFromSubcontractor'),"
         " coalesce(sum(good_milli), 0), coalesce(sum(rejected_milli), 0),"
         " coalesce(sum(lost_milli), 0), coalesce(sum(allowance_milli), 0)"
         " FROM %1$s.kpi_subcontract WHERE occurred_at >= %2$s AND occurred_at < %3$s",
         line(&expected, "%lld|%lld|%lld|%lld|%lld|%lld|%lld", (long long)t->sub_lots_sent,
              (long long)t->sub_sent_milli, (long long)t->sub_returns, (long long)t->sub_good_milli,
              (long long)t->sub_rejected_milli, (long long)t->sub_lost_milli,
              (long long)t->sub_allowance_milli));
    SAME("counts",
         "SELECT count(*) FILTER (WHERE type = 'ItemCounted'), coalesce(sum(counted_milli), 0),"
         " count(*) FILTER (WHERE type = 'InventoryAdjusted'), coalesce(sum(delta_milli), 0),"
         " coalesce(sum(abs(delta_milli)), 0) FROM %1$s.kpi_counts"
         " WHERE occurred_at >= %2$s AND occurred_at < %3$s",
         line(&expected, "%lld|%lld|%lld|%lld|%lld", (long long)t->count_lines,
              (long long)t->counted_milli, (long long)t->adjustments, (long long)t->adjusted_milli,
              (long long)t->adjusted_abs_milli));
    cr_assert_gt(t->wip_units[0] + t->wip_units[2] + t->wip_units[4], 0);
    SAME("work in progress by stage", "SELECT stage, " WIP_SQL " GROUP BY stage",
         wip_lines(&expected, "", t));
    SAME("non-conformities open at the period's end",
         "SELECT count(*) FROM %1$s.kpi_non_conformities"
         " WHERE opened_at < %3$s AND (closed_at IS NULL OR closed_at >= %3$s)",
         line(&expected, "%lld", (long long)t->nc_open_at_end));
    SAME("weavers and offline lag",
         "SELECT (SELECT count(DISTINCT weaver_id) FROM %1$s.kpi_production"
         "  WHERE occurred_at >= %2$s AND occurred_at < %3$s),"
         " count(*), round(sum(lag_us)) FROM %1$s.kpi_offline_lag"
         " WHERE occurred_at >= %2$s AND occurred_at < %3$s",
         line(&expected, "%lld|%lld|%lld", (long long)t->weavers, (long long)t->lag_events,
              (long long)t->lag_us));
    rep_report_free(report);
}

Test(reporting_pg, a_simulated_month_has_the_same_kpis_in_the_ledger_and_in_postgresql)
{
    prj_sink_t *sink = NULL;
    cr_assert_eq(prj_pg_sink_open(&sink, env_or_skip("FL_TEST_PG_URL"), tenant), 0);
    prj_projector_t *projector = projector_start(sink, "postgres", 1000, PRJ_POISON_PAUSE);
    caught_up(projector, 180000);
    prj_stop(projector);
    prj_sink_close(sink);
    int64_t start = SIM_START_US_DEFAULT;
    /* The month, then ten days inside it. */
    per_loom(start, start + 30 * DAY_US);
    in_total(start, start + 30 * DAY_US);
    per_loom(start + 10 * DAY_US, start + 20 * DAY_US);
    in_total(start + 10 * DAY_US, start + 20 * DAY_US);
}
