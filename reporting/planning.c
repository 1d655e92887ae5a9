/*
 * planning.c: the planning board - each loom's running order and the orders queued on it
 * (OFAssignedToLoom, by sequence), with when each is expected to finish. A report over the last
 * REP_LIVE_US gives each loom's live efficiency and the state at now (orders, assignments,
 * beams); the rate of a loom on an article is the domain's nominal ppm x 60 x efficiency /
 * (picks per cm x 100) metres an hour, and time runs on the shift calendar (breaks excluded).
 * Rescheduling is an event (OFAssignedToLoom again with another sequence, OFRescheduled for the
 * due date), so the board is always the log's.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include "reporting/rep_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REP_PLAN_LINES_MAX 8192

struct rep_planning {
    rep_plan_line_t *lines;
    uint32_t count;
};

typedef struct {
    rep_plan_line_t line;
    const rep_loom_t *loom;
    const rep_order_t *order;
} candidate_t;

static int line_order(const void *a, const void *b)
{
    const rep_plan_line_t *x = &((const candidate_t *)a)->line;
    const rep_plan_line_t *y = &((const candidate_t *)b)->line;
    int c = strcmp(x->loom_id, y->loom_id);
    if (c != 0)
        return c;
    if (x->running != y->running)
        return x->running ? -1 : 1;
    if (x->sequence != y->sequence)
        return x->sequence < y->sequence ? -1 : 1;
    return strcmp(x->of_id, y->of_id);
}

static const rep_slice_t *loom_slice(const rep_result_t *result, const char *loom_id)
{
    size_t lo = 0, hi = result->slices_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(result->slices[mid].key, loom_id);
        if (c == 0)
            return &result->slices[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Metres an hour of a loom weaving an article at an efficiency (per cent). */
static double rate_m_per_h(const rep_loom_t *loom, const rep_article_t *article, double eff)
{
    if (article == NULL || article->picks_per_cm_milli <= 0 || isnan(eff))
        return 0;
    return (double)loom->nominal_ppm * 60.0 * eff / 100.0 /
           ((double)article->picks_per_cm_milli / 1000.0 * 100.0);
}

static void add_line(rep_report_t *r, candidate_t *out, uint32_t *count, const rep_loom_t *loom,
                     uint32_t of, const rep_assign_t *a)
{
    if (*count == REP_PLAN_LINES_MAX) {
        r->result.untracked++;
        return;
    }
    const rep_order_t *o = &r->orders[of - 1];
    candidate_t *c = &out[(*count)++];
    memset(c, 0, sizeof(*c));
    c->loom = loom, c->order = o;
    rep_plan_line_t *line = &c->line;
    snprintf(line->loom_id, sizeof(line->loom_id), "%s", rep__name_text(r, loom->name));
    snprintf(line->of_id, sizeof(line->of_id), "%s", rep__name_text(r, of));
    snprintf(line->item_id, sizeof(line->item_id), "%s", rep__name_text(r, o->item));
    line->running = loom->order == of;
    line->sequence = a != NULL ? a->sequence : 0;
    bool share = a != NULL && a->planned_milli > 0;
    line->planned_milli = share ? a->planned_milli : o->planned_milli;
    line->declared_milli = share ? a->declared_milli : o->declared_milli;
    line->remaining_milli =
        line->planned_milli > line->declared_milli ? line->planned_milli - line->declared_milli : 0;
    line->due_us = o->due_us;
}

/* Times along one loom's lines (running first, then the queue). */
static void schedule_loom(rep_report_t *r, candidate_t *lines, uint32_t n, int64_t now)
{
    const rep_loom_t *loom = lines[0].loom;
    const rep_slice_t *slice = loom_slice(&r->result, lines[0].line.loom_id);
    rep_kpis_t k;
    double eff = (double)NAN;
    if (slice != NULL) {
        rep_kpis(slice, &k);
        eff = k.efficiency_pct;
    }
    /* When the first of its beams runs out, at the running order's rate. */
    const rep_article_t *running = lines[0].line.running && lines[0].order->item != 0
                                       ? &r->articles[lines[0].order->item - 1]
                                       : NULL;
    double rate_now = rate_m_per_h(loom, running, eff);
    int64_t beam_out = 0;
    for (int p = 0; p < 2 && rate_now > 0; p++) {
        if (loom->beams[p] == 0)
            continue;
        const rep_beamstate_t *b = &r->beams[loom->beams[p] - 1];
        double left_m =
            (double)(b->mounted_milli > b->woven_milli ? b->mounted_milli - b->woven_milli : 0) /
            1000.0;
        if (p == 1 && running != NULL && running->pile_ratio_milli > 0)
            left_m /= (double)running->pile_ratio_milli / 1000.0;
        int64_t at = rep__calendar_advance(r, now, (int64_t)(left_m / rate_now * 3600e6));
        if (at != 0 && (beam_out == 0 || at < beam_out))
            beam_out = at;
    }
    int64_t start = now;
    for (uint32_t i = 0; i < n; i++) {
        rep_plan_line_t *line = &lines[i].line;
        const rep_article_t *article =
            lines[i].order->item != 0 ? &r->articles[lines[i].order->item - 1] : NULL;
        line->efficiency_pct = eff;
        line->rate_m_per_h = rate_m_per_h(loom, article, eff);
        line->beam_out_us = beam_out;
        if (start == 0 || line->rate_m_per_h <= 0 || article == NULL || article->repeat_mm <= 0) {
            start = 0; /* the rest of the queue cannot be timed either */
            continue;
        }
        double metres =
            (double)line->remaining_milli / 1000.0 * (double)article->repeat_mm / 1000.0;
        line->expected_start_us = start;
        line->expected_finish_us =
            rep__calendar_advance(r, start, (int64_t)(metres / line->rate_m_per_h * 3600e6));
        line->beam_out_before_end =
            beam_out != 0 && line->expected_finish_us != 0 && beam_out < line->expected_finish_us;
        line->late = line->due_us != 0 && line->expected_finish_us > line->due_us;
        start = line->expected_finish_us;
    }
}

int rep_planning_run(eng_ledger_t *ledger, int64_t now_us, rep_planning_t **out)
{
    *out = NULL;
    rep_query_t query = {
        .from_us = now_us - REP_LIVE_US, .to_us = now_us + 1, .by = REP_BY_LOOM, .now_us = now_us};
    rep_report_t *r;
    int rc = rep_report_run(ledger, &query, &r);
    if (rc != 0)
        return rc;
    rep_planning_t *planning = calloc(1, sizeof(*planning));
    candidate_t *c = calloc(REP_PLAN_LINES_MAX, sizeof(*c));
    if (planning == NULL || c == NULL) {
        rc = FL_ENOMEM;
        goto fail;
    }
    uint32_t n = 0;
    for (uint32_t l = 0; l < r->looms_count; l++) {
        const rep_loom_t *loom = &r->looms[l];
        if (loom->order != 0) {
            const rep_order_t *o = &r->orders[loom->order - 1];
            const rep_assign_t *a = NULL;
            for (uint32_t i = 0; i < o->assign_count; i++)
                if (o->assign[i].loom == loom->name)
                    a = &o->assign[i];
            add_line(r, c, &n, loom, loom->order, a);
        }
    }
    for (uint32_t of = 1; of <= REP_NAMES_MAX; of++) {
        const rep_order_t *o = &r->orders[of - 1];
        if (!o->known || o->state == 2)
            continue;
        for (uint32_t i = 0; i < o->assign_count; i++) {
            const rep_assign_t *a = &o->assign[i];
            uint16_t at = r->loom_of[a->loom - 1];
            if (a->ended || at == 0 || r->looms[at - 1].order == of)
                continue;
            add_line(r, c, &n, &r->looms[at - 1], of, a);
        }
    }
    qsort(c, n, sizeof(*c), line_order);
    for (uint32_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && c[j].loom == c[i].loom; j++)
            ;
        schedule_loom(r, c + i, j - i, now_us);
    }
    planning->lines = calloc(n > 0 ? n : 1, sizeof(*planning->lines));
    if (planning->lines == NULL) {
        rc = FL_ENOMEM;
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++)
        planning->lines[i] = c[i].line;
    planning->count = n;
    free(c);
    rep_report_free(r);
    *out = planning;
    return 0;
fail:
    free(c);
    rep_planning_free(planning);
    rep_report_free(r);
    return rc;
}

const rep_plan_line_t *rep_planning_lines(const rep_planning_t *planning, uint32_t *count)
{
    *count = planning->count;
    return planning->lines;
}

void rep_planning_free(rep_planning_t *planning)
{
    if (planning == NULL)
        return;
    free(planning->lines);
    free(planning);
}

static void number_or_null(FILE *out, const char *member, double value)
{
    if (isnan(value) || isinf(value))
        fprintf(out, ",\"%s\":null", member);
    else
        fprintf(out, ",\"%s\":%.4f", member, value);
}

int rep_planning_json(const rep_planning_t *planning, char **text, size_t *len)
{
    *text = NULL, *len = 0;
    FILE *out = open_memstream(text, len);
    if (out == NULL)
        return FL_ENOMEM;
    fputs("{\"lines\":[", out);
    for (uint32_t i = 0; i < planning->count; i++) {
        const rep_plan_line_t *l = &planning->lines[i];
        /* Ids are [A-Za-z0-9._:-] (the catalog's id kind): no escaping needed. */
        fprintf(out,
                "%s{\"loom_id\":\"%s\",\"of_id\":\"%s\",\"item_id\":\"%s\",\"running\":%s,"
                "\"sequence\":%u,\"planned_milli\":%lld,\"declared_milli\":%lld,"
                "\"remaining_milli\":%lld,\"due_us\":%lld,\"expected_start_us\":%lld,"
                "\"expected_finish_us\":%lld,\"beam_out_us\":%lld,\"beam_out_before_end\":%s,"
                "\"late\":%s",
                i > 0 ? "," : "", l->loom_id, l->of_id, l->item_id, l->running ? "true" : "false",
                l->sequence, (long long)l->planned_milli, (long long)l->declared_milli,
                (long long)l->remaining_milli, (long long)l->due_us,
                (long long)l->expected_start_us, (long long)l->expected_finish_us,
                (long long)l->beam_out_us, l->beam_out_before_end ? "true" : "false",
                l->late ? "true" : "false");
        number_or_null(out, "efficiency_pct", l->efficiency_pct);
        number_or_null(out, "rate_m_per_h", l->rate_m_per_h);
        fputc('}', out);
    }
    fputs("]}", out);
    bool failed = ferror(out) != 0;
    if (fclose(out) != 0 || failed) {
        free(*text);
        *text = NULL, *len = 0;
        return FL_ENOMEM;
    }
    return 0;
}

int rep_planning_csv(const rep_planning_t *planning, char **text, size_t *len)
{
    *text = NULL, *len = 0;
    FILE *out = open_memstream(text, len);
    if (out == NULL)
        return FL_ENOMEM;
    fputs("loom_id,of_id,item_id,running,sequence,planned,declared,remaining,due_us,"
          "expected_start_us,expected_finish_us,beam_out_us,beam_out_before_end,late,"
          "efficiency_pct,rate_m_per_h\r\n",
          out);
    for (uint32_t i = 0; i < planning->count; i++) {
        const rep_plan_line_t *l = &planning->lines[i];
        fprintf(out, "%s,%s,%s,%d,%u,%.3f,%.3f,%.3f,%lld,%lld,%lld,%lld,%d,%d,", l->loom_id,
                l->of_id, l->item_id, l->running, l->sequence, (double)l->planned_milli / 1000,
                (double)l->declared_milli / 1000, (double)l->remaining_milli / 1000,
                (long long)l->due_us, (long long)l->expected_start_us,
                (long long)l->expected_finish_us, (long long)l->beam_out_us, l->beam_out_before_end,
                l->late);
        if (!isnan(l->efficiency_pct))
            fprintf(out, "%.4f", l->efficiency_pct);
        fputc(',', out);
        if (l->rate_m_per_h > 0)
            fprintf(out, "%.4f", l->rate_m_per_h);
        fputs("\r\n", out);
    }
    bool failed = ferror(out) != 0;
    if (fclose(out) != 0 || failed) {
        free(*text);
        *text = NULL, *len = 0;
        return FL_ENOMEM;
    }
    return 0;
}
