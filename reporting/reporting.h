/*
 * reporting: the plant's KPIs computed from the events, over any period, sliced by loom, shift,
 * weaver, article, order, beam or subcontractor, and the planning board.
 *
 * A report reads the log twice. The first pass takes only the calendar (ShiftScheduled,
 * ShiftCancelled), so that the second can clip every loom's time to the scheduled minutes of
 * the shifts, breaks excluded. The second folds every event that occurred before the period's
 * end into the state the figures need (each loom's order, weaver, beams, pick counter and stop;
 * each unit's loom, order, article, weaver, shift and stage; interventions, non-conformities,
 * preventive maintenance) and adds to the figures of the slice the event belongs to when it
 * occurred inside the period. Events are placed by occurred_at (the shop floor's clock), so a
 * device that posts late still lands in the right shift; both passes read from the first event
 * to the head, because a period's figures need the state its earlier events built (a loom's
 * order and pick counter, a roll's loom, an NC's opening) and its late events may come last.
 * Events that occurred after the period's end are skipped before their payload is read.
 *
 * Every table is sized at the start of a report (named limits below): nothing is allocated per
 * event. A table that fills up does not fail the report: what did not fit is counted in
 * rep_report_t.untracked and left out of the slices. docs/reporting.md gives each figure's
 * formula and the events it reads.
 *
 * Error codes are those of base/base.h.
 */
#ifndef REP_REPORTING_H
#define REP_REPORTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "engine/engine.h"

/* Limits of one report. */
#define REP_NAMES_MAX   (1u << 16) /* distinct ids (looms, orders, weavers...) remembered */
#define REP_UNITS_MAX   (1u << 18) /* handling units remembered (hash slots) */
#define REP_SUBLOTS_MAX 2048
#define REP_PAIRS_MAX   (1u << 16) /* (slice, weaver) pairs seen, for output per weaver */
#define REP_SLICES_MAX  4096       /* slices of one report */
#define REP_LOOMS_MAX   1024
#define REP_SHIFTS_MAX  8192
#define REP_DEFECTS_MAX 256 /* defect codes in the Pareto */
#define REP_ID_LEN_MAX  71
#define REP_PM_GRACE_US (24LL * 3600 * 1000000) /* a maintenance done this late is on time */
#define REP_LIVE_US     (24LL * 3600 * 1000000) /* the planning board's live window */
#define REP_LAG_BUCKETS 48                      /* log2 buckets of offline lag, in us */

/* What a report is sliced by. */
#define REP_BY_MAP(X)                                                                              \
    X(TOTAL, "total")                                                                              \
    X(LOOM, "loom")                                                                                \
    X(SHIFT, "shift")                                                                              \
    X(WEAVER, "weaver")                                                                            \
    X(ARTICLE, "article")                                                                          \
    X(ORDER, "order")                                                                              \
    X(BEAM, "beam")                                                                                \
    X(SUBCONTRACTOR, "subcontractor")

typedef enum {
#define REP_BY_ENUM(name, text) REP_BY_##name,
    REP_BY_MAP(REP_BY_ENUM)
#undef REP_BY_ENUM
        REP_BY_COUNT
} rep_by_t;

/* "loom", and back (REP_BY_COUNT when unknown). */
const char *rep_by_name(rep_by_t by);
rep_by_t rep_by_parse(const char *name);

/* Stop classes of LoomStopped, in the catalog's order. */
#define REP_STOP_CLASSES 7
extern const char *const rep_stop_class_names[REP_STOP_CLASSES];

/* Stages of work in process: a roll woven and not yet at cutting, a roll at cutting not wholly
 * cut, a bundle waiting for quality's verdict, on hold, released and not yet packed or sent,
 * at a subcontractor. A unit packed, shipped, consumed, rejected or scrapped is out of WIP. */
#define REP_WIP_STAGES 6
extern const char *const rep_wip_stage_names[REP_WIP_STAGES];
#define REP_WIP_AGES 4 /* under 1 day, 1-3 days, 3-7 days, 7 days and more */

/* The sums one slice accumulates; the figures (rep_kpis_t) are computed from them. Quantities
 * are in thousandths of their unit, times in microseconds. */
typedef struct {
    char key[REP_ID_LEN_MAX + 1]; /* the loom, shift... id; "" for the total or "none" */
    /* loom time, clipped to the calendar's scheduled time (breaks excluded) */
    int64_t scheduled_us;
    int64_t running_us;             /* scheduled and not stopped */
    int64_t nominal_ppm_us;         /* sum of nominal picks/min x scheduled us */
    int64_t nominal_running_ppm_us; /* the same over running time */
    int64_t picks;                  /* counter differences of the slice's looms */
    int64_t picks_metres_milli;     /* picks / (picks per cm x 100), in thousandths of m */
    /* production */
    int64_t rolls, pieces_milli, length_milli;
    /* stops */
    int64_t stops[REP_STOP_CLASSES];
    int64_t repairs[REP_STOP_CLASSES]; /* stops ended by a restart */
    int64_t repair_us[REP_STOP_CLASSES];
    /* beams */
    int64_t beam_outs, beam_end_waste_milli, beam_changes, beam_change_us;
    /* cutting */
    int64_t cut_consumed_milli, cut_first_milli, cut_second_milli, cut_waste_milli;
    /* inspections and grading */
    int64_t inspections, points, inspected_mm_milli_m; /* width mm x length in thousandths of m */
    int64_t graded[2], graded_ppm_milli_sum;           /* first, second; points/100 m2 summed */
    int64_t verdicts, verdicts_first_pass; /* units' first quality verdict; of them, released */
    /* non-conformities */
    int64_t nc_opened, nc_closed, nc_close_us, nc_open_at_end;
    /* maintenance */
    int64_t breakdowns, responses, response_us, repairs_done, repair_done_us;
    int64_t pm_due, pm_on_time;
    /* work in process at the period's end */
    int64_t wip_units[REP_WIP_STAGES], wip_milli[REP_WIP_STAGES], wip_age_us[REP_WIP_STAGES];
    int64_t wip_ages[REP_WIP_STAGES][REP_WIP_AGES];
    /* subcontracting */
    int64_t sub_lots_sent, sub_sent_milli, sub_returns, sub_good_milli, sub_rejected_milli;
    int64_t sub_lost_milli, sub_allowance_milli;
    /* counts */
    int64_t count_lines, counted_milli, adjustments, adjusted_milli, adjusted_abs_milli;
    /* people */
    int64_t weavers; /* distinct weavers who declared production (total only) */
    /* offline lag of the devices */
    int64_t lag_events, lag_us, lag_us_max, lag_over_minute;
    int64_t lag_buckets[REP_LAG_BUCKETS];
} rep_slice_t;

/* The figures of one slice. A figure whose denominator is 0 is NAN (null in JSON, empty in
 * CSV). */
typedef struct {
    double efficiency_pct;    /* picks / (nominal ppm x scheduled min) x 100 */
    double rate_m_per_h;      /* metres declared / scheduled hours */
    double rate_pieces_per_h; /* pieces declared / scheduled hours */
    double stops_per_100k_picks[REP_STOP_CLASSES + 1]; /* per class, then all classes */
    double repair_min_mean[REP_STOP_CLASSES + 1];
    double availability_pct, performance_pct, quality_pct, oee_pct;
    double beam_change_min_mean, beam_end_waste_m_mean;
    double first_pct, second_pct, waste_pct; /* of first + second + waste out of cutting */
    double points_per_100m2;                 /* 100,000 x points / (width mm x length m) */
    double graded_first_pct, graded_ppm_mean;
    double first_pass_yield_pct;
    double nc_days_to_close_mean;
    double mtbf_h, mttr_min, response_min;
    double pm_compliance_pct;
    double sub_yield_pct, sub_loss_pct,
        sub_allowance_pct; /* of good + rejected + lost - allowance */
    double inventory_accuracy_pct;
    double output_pieces_per_weaver;
    double lag_s_mean, lag_s_p95, lag_s_max;
} rep_kpis_t;

void rep_kpis(const rep_slice_t *slice, rep_kpis_t *out);

/* A defect code's line of the Pareto (total of the report). */
typedef struct {
    char defect_id[REP_ID_LEN_MAX + 1];
    int64_t occurrences, points;
} rep_defect_t;

typedef struct {
    int64_t from_us, to_us; /* the period, [from, to) by occurred_at */
    rep_by_t by;
    int64_t now_us; /* beams and planning: the moment they are computed for; 0: to_us */
} rep_query_t;

/* A beam mounted now (as of the period's end), with what is left on it. */
typedef struct {
    char beam_id[REP_ID_LEN_MAX + 1];
    char loom_id[REP_ID_LEN_MAX + 1];
    int position; /* 0 ground, 1 pile */
    int64_t mounted_milli, woven_milli, remaining_milli;
    double hours_to_beam_out; /* remaining / the loom's rate over the period; NAN when idle */
} rep_beam_t;

typedef struct rep_report rep_report_t;

/* The result of a report. Slices are sorted by key. Owned by the report. */
typedef struct {
    rep_query_t query;
    uint64_t events_read, events_in_period, last_seq;
    uint64_t untracked; /* units, names or slices that did not fit a table */
    bool calendar;      /* false: the ledger has no shift, every minute is scheduled */
    rep_slice_t total;
    const rep_slice_t *slices;
    uint32_t slices_count;
    const rep_defect_t *defects; /* by occurrences, most first */
    uint32_t defects_count;
    const rep_beam_t *beams;
    uint32_t beams_count;
} rep_result_t;

/*
 * Computes a report. *out is freed by rep_report_free. Errors: FL_EINVAL (from >= to, by out of
 * range), FL_ENOMEM, and the engine's read errors (FL_EBUSY, FL_EIO, FL_ECORRUPT).
 */
int rep_report_run(eng_ledger_t *ledger, const rep_query_t *query, rep_report_t **out);
const rep_result_t *rep_report_result(const rep_report_t *report);
/* Accepts NULL. */
void rep_report_free(rep_report_t *report);

/* The report as JSON or CSV text, malloc'd and NUL-terminated (the caller frees): 0, or
 * FL_ENOMEM. The CSV has one line per slice and the total last, with one column per figure. */
int rep_report_json(const rep_report_t *report, char **out, size_t *len);
int rep_report_csv(const rep_report_t *report, char **out, size_t *len);

/* ---- planning: orders on looms over time */

typedef struct {
    char loom_id[REP_ID_LEN_MAX + 1];
    char of_id[REP_ID_LEN_MAX + 1];
    char item_id[REP_ID_LEN_MAX + 1];
    bool running;      /* in progress on the loom now; else queued after it by sequence */
    uint32_t sequence; /* OFAssignedToLoom's place in the loom's queue, 0 when none */
    int64_t planned_milli, declared_milli, remaining_milli; /* the loom's share of the order */
    int64_t due_us, expected_start_us, expected_finish_us;  /* 0: cannot be computed */
    double efficiency_pct;    /* the loom's over the last REP_LIVE_US */
    double rate_m_per_h;      /* nominal ppm x 60 x efficiency / (picks per cm x 100) */
    int64_t beam_out_us;      /* when the first beam of the loom runs out; 0: unknown */
    bool beam_out_before_end; /* a beam runs out before the order ends */
    bool late;                /* expected to finish after its due date */
} rep_plan_line_t;

typedef struct rep_planning rep_planning_t;

/* The board as of now_us: each loom's running order and its queue (OFAssignedToLoom not yet
 * started, by sequence), each with its expected finish from the remaining quantity, the loom's
 * live efficiency (last REP_LIVE_US) and its beams' remaining length. Errors: those of
 * rep_report_run. */
int rep_planning_run(eng_ledger_t *ledger, int64_t now_us, rep_planning_t **out);
const rep_plan_line_t *rep_planning_lines(const rep_planning_t *planning, uint32_t *count);
int rep_planning_json(const rep_planning_t *planning, char **out, size_t *len);
int rep_planning_csv(const rep_planning_t *planning, char **out, size_t *len);
void rep_planning_free(rep_planning_t *planning);

#endif
