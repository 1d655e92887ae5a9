/*
 * figures.c: the figures computed from a slice's sums, and the report as JSON and CSV. One
 * column table lists every figure once, so the JSON members and the CSV columns cannot drift.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include "reporting/rep_int.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const rep_stop_class_names[REP_STOP_CLASSES] = {
    "warp", "weft", "mechanical", "electrical", "quality", "no_material", "other"};

const char *const rep_wip_stage_names[REP_WIP_STAGES] = {"woven",   "at_cutting", "awaiting_qc",
                                                         "on_hold", "released",   "subcontract"};

static double ratio(double num, double den)
{
    return den != 0 ? num / den : (double)NAN;
}

static double pct(double num, double den)
{
    return den != 0 ? 100.0 * num / den : (double)NAN;
}

/* The value below which 95% of the events' lags fall, as the upper bound of its bucket. */
static double lag_p95_s(const rep_slice_t *s)
{
    if (s->lag_events == 0)
        return (double)NAN;
    int64_t rank = (s->lag_events * 95 + 99) / 100, seen = 0;
    for (int b = 0; b < REP_LAG_BUCKETS; b++) {
        seen += s->lag_buckets[b];
        if (seen >= rank) {
            double upper_us = b == 0 ? 0 : (double)((1LL << b) - 1);
            return fmin(upper_us, (double)s->lag_us_max) / 1e6;
        }
    }
    return (double)s->lag_us_max / 1e6;
}

void rep_kpis(const rep_slice_t *s, rep_kpis_t *k)
{
    double scheduled_h = (double)s->scheduled_us / 3600e6;
    k->efficiency_pct = pct((double)s->picks * 60e6, (double)s->nominal_ppm_us);
    k->rate_m_per_h = ratio((double)s->length_milli / 1000.0, scheduled_h);
    k->rate_pieces_per_h = ratio((double)s->pieces_milli / 1000.0, scheduled_h);
    int64_t stops = 0, repairs = 0, repair_us = 0;
    for (int c = 0; c < REP_STOP_CLASSES; c++) {
        k->stops_per_100k_picks[c] = ratio((double)s->stops[c] * 100000.0, (double)s->picks);
        k->repair_min_mean[c] = ratio((double)s->repair_us[c] / 60e6, (double)s->repairs[c]);
        stops += s->stops[c], repairs += s->repairs[c], repair_us += s->repair_us[c];
    }
    k->stops_per_100k_picks[REP_STOP_CLASSES] = ratio((double)stops * 100000.0, (double)s->picks);
    k->repair_min_mean[REP_STOP_CLASSES] = ratio((double)repair_us / 60e6, (double)repairs);
    k->availability_pct = pct((double)s->running_us, (double)s->scheduled_us);
    k->performance_pct = pct((double)s->picks * 60e6, (double)s->nominal_running_ppm_us);
    int64_t cut = s->cut_first_milli + s->cut_second_milli + s->cut_waste_milli;
    k->quality_pct = pct((double)s->cut_first_milli, (double)cut);
    k->oee_pct = k->availability_pct * k->performance_pct * k->quality_pct / 10000.0;
    k->beam_change_min_mean = ratio((double)s->beam_change_us / 60e6, (double)s->beam_changes);
    k->beam_end_waste_m_mean =
        ratio((double)s->beam_end_waste_milli / 1000.0, (double)s->beam_outs);
    k->first_pct = pct((double)s->cut_first_milli, (double)cut);
    k->second_pct = pct((double)s->cut_second_milli, (double)cut);
    k->waste_pct = pct((double)s->cut_waste_milli, (double)cut);
    k->points_per_100m2 =
        ratio(100000.0 * (double)s->points * 1000.0, (double)s->inspected_mm_milli_m);
    int64_t graded = s->graded[0] + s->graded[1];
    k->graded_first_pct = pct((double)s->graded[0], (double)graded);
    k->graded_ppm_mean = ratio((double)s->graded_ppm_milli_sum / 1000.0, (double)graded);
    k->first_pass_yield_pct = pct((double)s->verdicts_first_pass, (double)s->verdicts);
    k->nc_days_to_close_mean = ratio((double)s->nc_close_us / 86400e6, (double)s->nc_closed);
    k->mtbf_h = ratio((double)s->running_us / 3600e6, (double)s->breakdowns);
    k->mttr_min = ratio((double)s->repair_done_us / 60e6, (double)s->repairs_done);
    k->response_min = ratio((double)s->response_us / 60e6, (double)s->responses);
    k->pm_compliance_pct = pct((double)s->pm_on_time, (double)s->pm_due);
    double returned = (double)(s->sub_good_milli + s->sub_rejected_milli + s->sub_lost_milli -
                               s->sub_allowance_milli);
    k->sub_yield_pct = pct((double)s->sub_good_milli, returned);
    k->sub_loss_pct = pct((double)(s->sub_rejected_milli + s->sub_lost_milli), returned);
    k->sub_allowance_pct = pct((double)s->sub_allowance_milli, returned);
    double book = (double)(s->counted_milli - s->adjusted_milli);
    k->inventory_accuracy_pct =
        book > 0 ? 100.0 * (1.0 - (double)s->adjusted_abs_milli / book) : (double)NAN;
    k->output_pieces_per_weaver = ratio((double)s->pieces_milli / 1000.0, (double)s->weavers);
    k->lag_s_mean = ratio((double)s->lag_us / 1e6, (double)s->lag_events);
    k->lag_s_p95 = lag_p95_s(s);
    k->lag_s_max = s->lag_events > 0 ? (double)s->lag_us_max / 1e6 : (double)NAN;
}

/* ---- columns */

typedef enum { FIGURE, SUM_INT, SUM_MILLI, SUM_MIN, STAGE_MEAN_AGE_H } column_kind_t;

typedef struct {
    const char *name;
    column_kind_t kind;
    size_t offset; /* in rep_kpis_t (FIGURE) or rep_slice_t */
    int index;     /* STAGE_MEAN_AGE_H: the stage */
} column_t;

#define K(name, member)                                                                            \
    {                                                                                              \
        name, FIGURE, offsetof(rep_kpis_t, member), 0                                              \
    }
#define I(name, member)                                                                            \
    {                                                                                              \
        name, SUM_INT, offsetof(rep_slice_t, member), 0                                            \
    }
#define M(name, member)                                                                            \
    {                                                                                              \
        name, SUM_MILLI, offsetof(rep_slice_t, member), 0                                          \
    }
#define MIN(name, member)                                                                          \
    {                                                                                              \
        name, SUM_MIN, offsetof(rep_slice_t, member), 0                                            \
    }
#define STOP(c, text)                                                                              \
    I("stops_" text, stops[c]), K("stops_per_100k_picks_" text, stops_per_100k_picks[c]),          \
        K("repair_min_mean_" text, repair_min_mean[c])
#define WIP(s, text)                                                                               \
    I("wip_" text "_units", wip_units[s]), M("wip_" text "_qty", wip_milli[s]),                    \
        {"wip_" text "_age_h_mean", STAGE_MEAN_AGE_H, 0, s},                                       \
        I("wip_" text "_under_1d", wip_ages[s][0]), I("wip_" text "_1d_3d", wip_ages[s][1]),       \
        I("wip_" text "_3d_7d", wip_ages[s][2]), I("wip_" text "_over_7d", wip_ages[s][3])

static const column_t columns[] = {
    MIN("scheduled_min", scheduled_us),
    MIN("running_min", running_us),
    I("picks", picks),
    K("efficiency_pct", efficiency_pct),
    I("rolls", rolls),
    M("pieces", pieces_milli),
    M("metres", length_milli),
    M("metres_from_picks", picks_metres_milli),
    K("rate_m_per_h", rate_m_per_h),
    K("rate_pieces_per_h", rate_pieces_per_h),
    STOP(0, "warp"),
    STOP(1, "weft"),
    STOP(2, "mechanical"),
    STOP(3, "electrical"),
    STOP(4, "quality"),
    STOP(5, "no_material"),
    STOP(6, "other"),
    K("stops_per_100k_picks", stops_per_100k_picks[REP_STOP_CLASSES]),
    K("repair_min_mean", repair_min_mean[REP_STOP_CLASSES]),
    K("availability_pct", availability_pct),
    K("performance_pct", performance_pct),
    K("quality_pct", quality_pct),
    K("oee_pct", oee_pct),
    I("beam_outs", beam_outs),
    M("beam_end_waste_m", beam_end_waste_milli),
    K("beam_end_waste_m_mean", beam_end_waste_m_mean),
    I("beam_changes", beam_changes),
    K("beam_change_min_mean", beam_change_min_mean),
    M("cut_consumed", cut_consumed_milli),
    M("cut_first", cut_first_milli),
    M("cut_second", cut_second_milli),
    M("cut_waste", cut_waste_milli),
    K("first_pct", first_pct),
    K("second_pct", second_pct),
    K("waste_pct", waste_pct),
    I("inspections", inspections),
    I("points", points),
    K("points_per_100m2", points_per_100m2),
    I("graded_first", graded[0]),
    I("graded_second", graded[1]),
    K("graded_first_pct", graded_first_pct),
    K("graded_points_per_100m2_mean", graded_ppm_mean),
    I("verdicts", verdicts),
    I("verdicts_first_pass", verdicts_first_pass),
    K("first_pass_yield_pct", first_pass_yield_pct),
    I("nc_opened", nc_opened),
    I("nc_closed", nc_closed),
    I("nc_open_at_end", nc_open_at_end),
    K("nc_days_to_close_mean", nc_days_to_close_mean),
    I("breakdowns", breakdowns),
    K("mtbf_h", mtbf_h),
    I("repairs_done", repairs_done),
    K("mttr_min", mttr_min),
    I("responses", responses),
    K("response_min", response_min),
    I("pm_due", pm_due),
    I("pm_on_time", pm_on_time),
    K("pm_compliance_pct", pm_compliance_pct),
    WIP(0, "woven"),
    WIP(1, "at_cutting"),
    WIP(2, "awaiting_qc"),
    WIP(3, "on_hold"),
    WIP(4, "released"),
    WIP(5, "subcontract"),
    I("sub_lots_sent", sub_lots_sent),
    M("sub_sent", sub_sent_milli),
    I("sub_returns", sub_returns),
    M("sub_good", sub_good_milli),
    M("sub_rejected", sub_rejected_milli),
    M("sub_lost", sub_lost_milli),
    M("sub_allowance", sub_allowance_milli),
    K("sub_yield_pct", sub_yield_pct),
    K("sub_loss_pct", sub_loss_pct),
    K("sub_allowance_pct", sub_allowance_pct),
    I("count_lines", count_lines),
    M("counted", counted_milli),
    I("adjustments", adjustments),
    M("adjusted_abs", adjusted_abs_milli),
    K("inventory_accuracy_pct", inventory_accuracy_pct),
    I("weavers", weavers),
    K("output_pieces_per_weaver", output_pieces_per_weaver),
    I("lag_events", lag_events),
    I("lag_over_1min", lag_over_minute),
    K("lag_s_mean", lag_s_mean),
    K("lag_s_p95", lag_s_p95),
    K("lag_s_max", lag_s_max),
};

#define COLUMNS (sizeof(columns) / sizeof(columns[0]))

/* A column's value as text ("" for a figure without a denominator). */
static void column_text(const column_t *c, const rep_slice_t *s, const rep_kpis_t *k, char *out,
                        size_t size)
{
    const char *base = c->kind == FIGURE ? (const char *)k : (const char *)s;
    double d;
    int64_t v;
    switch (c->kind) {
    case FIGURE:
        memcpy(&d, base + c->offset, sizeof(d));
        if (isnan(d) || isinf(d))
            snprintf(out, size, "%s", "");
        else
            snprintf(out, size, "%.4f", d);
        return;
    case STAGE_MEAN_AGE_H:
        if (s->wip_units[c->index] == 0)
            snprintf(out, size, "%s", "");
        else
            snprintf(out, size, "%.4f",
                     (double)s->wip_age_us[c->index] / 3600e6 / (double)s->wip_units[c->index]);
        return;
    default:
        memcpy(&v, base + c->offset, sizeof(v));
        if (c->kind == SUM_INT)
            snprintf(out, size, "%lld", (long long)v);
        else if (c->kind == SUM_MILLI)
            snprintf(out, size, "%.3f", (double)v / 1000.0);
        else
            snprintf(out, size, "%.3f", (double)v / 60e6);
    }
}

static void json_string(FILE *out, const char *text)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c < 0x20)
            fprintf(out, "\\u%04x", *c);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

static void json_slice(FILE *out, const rep_slice_t *s, bool with_key)
{
    rep_kpis_t k;
    rep_kpis(s, &k);
    fputc('{', out);
    if (with_key) {
        fputs("\"key\":", out);
        json_string(out, s->key);
        fputc(',', out);
    }
    for (size_t i = 0; i < COLUMNS; i++) {
        char text[64];
        column_text(&columns[i], s, &k, text, sizeof(text));
        fprintf(out, "%s\"%s\":%s", i > 0 ? "," : "", columns[i].name,
                text[0] != '\0' ? text : "null");
    }
    fputc('}', out);
}

static int close_stream(FILE *out, char **text, size_t *len)
{
    bool failed = ferror(out) != 0;
    if (fclose(out) != 0 || failed) {
        free(*text);
        *text = NULL, *len = 0;
        return FL_ENOMEM;
    }
    return 0;
}

int rep_report_json(const rep_report_t *report, char **text, size_t *len)
{
    *text = NULL, *len = 0;
    FILE *out = open_memstream(text, len);
    if (out == NULL)
        return FL_ENOMEM;
    const rep_result_t *r = &report->result;
    fprintf(out,
            "{\"from_us\":%lld,\"to_us\":%lld,\"by\":\"%s\",\"events_read\":%llu,"
            "\"events_in_period\":%llu,\"last_seq\":%llu,\"untracked\":%llu,\"calendar\":%s,"
            "\"total\":",
            (long long)r->query.from_us, (long long)r->query.to_us, rep_by_name(r->query.by),
            (unsigned long long)r->events_read, (unsigned long long)r->events_in_period,
            (unsigned long long)r->last_seq, (unsigned long long)r->untracked,
            r->calendar ? "true" : "false");
    json_slice(out, &r->total, false);
    fputs(",\"slices\":[", out);
    for (uint32_t i = 0; i < r->slices_count; i++) {
        if (i > 0)
            fputc(',', out);
        json_slice(out, &r->slices[i], true);
    }
    fputs("],\"defect_pareto\":[", out);
    int64_t all = 0, cumulative = 0;
    for (uint32_t i = 0; i < r->defects_count; i++)
        all += r->defects[i].occurrences;
    for (uint32_t i = 0; i < r->defects_count; i++) {
        cumulative += r->defects[i].occurrences;
        fprintf(out, "%s{\"defect_id\":", i > 0 ? "," : "");
        json_string(out, r->defects[i].defect_id);
        fprintf(out, ",\"occurrences\":%lld,\"points\":%lld,\"cumulative_pct\":%.4f}",
                (long long)r->defects[i].occurrences, (long long)r->defects[i].points,
                all > 0 ? 100.0 * (double)cumulative / (double)all : 0.0);
    }
    fputs("],\"beams\":[", out);
    for (uint32_t i = 0; i < r->beams_count; i++) {
        const rep_beam_t *b = &r->beams[i];
        fprintf(out, "%s{\"beam_id\":", i > 0 ? "," : "");
        json_string(out, b->beam_id);
        fputs(",\"loom_id\":", out);
        json_string(out, b->loom_id);
        fprintf(out,
                ",\"position\":\"%s\",\"mounted_m\":%.3f,\"woven_m\":%.3f,\"remaining_m\":%.3f",
                b->position == 1 ? "pile" : "ground", (double)b->mounted_milli / 1000.0,
                (double)b->woven_milli / 1000.0, (double)b->remaining_milli / 1000.0);
        if (isnan(b->hours_to_beam_out))
            fputs(",\"hours_to_beam_out\":null}", out);
        else
            fprintf(out, ",\"hours_to_beam_out\":%.4f}", b->hours_to_beam_out);
    }
    fputs("]}", out);
    return close_stream(out, text, len);
}

static void csv_field(FILE *out, const char *text)
{
    if (strpbrk(text, ",\"\r\n") == NULL) {
        fputs(text, out);
        return;
    }
    fputc('"', out);
    for (const char *c = text; *c != '\0'; c++) {
        if (*c == '"')
            fputc('"', out);
        fputc(*c, out);
    }
    fputc('"', out);
}

static void csv_line(FILE *out, const char *key, const rep_slice_t *s)
{
    rep_kpis_t k;
    rep_kpis(s, &k);
    csv_field(out, key);
    for (size_t i = 0; i < COLUMNS; i++) {
        char text[64];
        column_text(&columns[i], s, &k, text, sizeof(text));
        fputc(',', out);
        fputs(text, out);
    }
    fputs("\r\n", out);
}

int rep_report_csv(const rep_report_t *report, char **text, size_t *len)
{
    *text = NULL, *len = 0;
    FILE *out = open_memstream(text, len);
    if (out == NULL)
        return FL_ENOMEM;
    const rep_result_t *r = &report->result;
    fputs(rep_by_name(r->query.by), out);
    for (size_t i = 0; i < COLUMNS; i++)
        fprintf(out, ",%s", columns[i].name);
    fputs("\r\n", out);
    for (uint32_t i = 0; i < r->slices_count; i++)
        csv_line(out, r->slices[i].key, &r->slices[i]);
    csv_line(out, "(total)", &r->total);
    return close_stream(out, text, len);
}
