/*
 * report.c: a report's life - its tables sized once, the two passes over the log (the calendar,
 * then the fold), and the result: slices sorted by key, the defect Pareto, the beams mounted.
 * Names (loom, order, weaver... ids) are interned once so that every other table is indexed by
 * a small integer.
 */
#include "reporting/rep_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const by_names[REP_BY_COUNT] = {
#define REP_BY_TEXT(name, text) text,
    REP_BY_MAP(REP_BY_TEXT)
#undef REP_BY_TEXT
};

const char *rep_by_name(rep_by_t by)
{
    return by < REP_BY_COUNT ? by_names[by] : "?";
}

rep_by_t rep_by_parse(const char *name)
{
    for (int by = 0; by < REP_BY_COUNT; by++)
        if (strcmp(by_names[by], name) == 0)
            return (rep_by_t)by;
    return REP_BY_COUNT;
}

uint64_t rep__hash(const char *text, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)text[i]) * 1099511628211ULL;
    return h == 0 ? 1 : h;
}

uint32_t rep__name(rep_report_t *report, const char *text, size_t len)
{
    if (len == 0 || len > REP_ID_LEN_MAX)
        return 0;
    uint64_t h = rep__hash(text, len);
    uint32_t mask = REP_NAMES_MAX - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        rep_name_t *slot = &report->names[i];
        if (slot->hash == h && strncmp(slot->text, text, len) == 0 && slot->text[len] == '\0')
            return (uint32_t)(slot - report->names) + 1;
        if (slot->hash != 0)
            continue;
        /* Keep a quarter of the slots free so that probes stay short. */
        if (report->names_count >= REP_NAMES_MAX / 4 * 3) {
            report->result.untracked++;
            return 0;
        }
        slot->hash = h;
        memcpy(slot->text, text, len);
        slot->text[len] = '\0';
        report->names_count++;
        return i + 1;
    }
}

const char *rep__name_text(const rep_report_t *report, uint32_t name)
{
    return name == 0 ? "" : report->names[name - 1].text;
}

rep_slice_t *rep__slice(rep_report_t *report, uint32_t name)
{
    if (name == 0)
        return NULL;
    uint32_t at = report->slice_of[name - 1];
    if (at != 0)
        return &report->slices[at - 1];
    if (report->slices_count == REP_SLICES_MAX) {
        report->result.untracked++;
        return NULL;
    }
    rep_slice_t *slice = &report->slices[report->slices_count++];
    snprintf(slice->key, sizeof(slice->key), "%s", rep__name_text(report, name));
    report->slice_of[name - 1] = report->slices_count;
    return slice;
}

/* ---- the calendar */

void rep__calendar_event(rep_report_t *report, const eng_record_t *record)
{
    rep_fields_t f;
    const char *id;
    size_t id_len;
    if (!rep__fields(record->payload, record->payload_len, &f) ||
        !rep__str(&f, "shift_id", &id, &id_len))
        return;
    uint32_t name = rep__name(report, id, id_len);
    if (name == 0)
        return;
    rep_shift_t *shift = NULL;
    for (uint32_t i = 0; i < report->shifts_count; i++)
        if (report->shifts[i].name == name)
            shift = &report->shifts[i];
    bool cancel = memcmp(record->type.ptr, "ShiftCancelled", 14) == 0;
    if (shift == NULL) {
        if (cancel || report->shifts_count == REP_SHIFTS_MAX) {
            report->result.untracked += cancel ? 0 : 1;
            return;
        }
        shift = &report->shifts[report->shifts_count++];
        shift->name = name;
    }
    if (cancel) {
        shift->cancelled = true;
        return;
    }
    int64_t start = 0, end = 0, break_min = 0;
    rep__int(&f, "starts_at_us", &start);
    rep__int(&f, "ends_at_us", &end);
    rep__int(&f, "break_min", &break_min);
    shift->start_us = start, shift->end_us = end > start ? end : start;
    shift->break_us = break_min * 60 * 1000000;
    if (shift->break_us > shift->end_us - shift->start_us)
        shift->break_us = shift->end_us - shift->start_us;
    shift->cancelled = false; /* scheduled again: it replaces the cancelled one */
}

static int shift_order(const void *a, const void *b)
{
    const rep_shift_t *x = a, *y = b;
    return x->start_us < y->start_us ? -1 : x->start_us > y->start_us;
}

void rep__calendar_sort(rep_report_t *report)
{
    /* Cancelled shifts leave the calendar: they schedule no time. */
    uint32_t kept = 0;
    for (uint32_t i = 0; i < report->shifts_count; i++)
        if (!report->shifts[i].cancelled && report->shifts[i].end_us > report->shifts[i].start_us)
            report->shifts[kept++] = report->shifts[i];
    report->shifts_count = kept;
    qsort(report->shifts, kept, sizeof(report->shifts[0]), shift_order);
    report->result.calendar = kept > 0;
}

/* The first shift that ends after t (shifts do not overlap, so their ends are sorted too). */
static uint32_t shift_after(const rep_report_t *report, int64_t t)
{
    uint32_t lo = 0, hi = report->shifts_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (report->shifts[mid].end_us <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint32_t rep__shift_at(rep_report_t *report, int64_t t)
{
    uint32_t hint = report->shift_hint;
    if (hint < report->shifts_count && report->shifts[hint].start_us <= t &&
        t < report->shifts[hint].end_us)
        return report->shifts[hint].name;
    uint32_t i = shift_after(report, t);
    if (i < report->shifts_count && report->shifts[i].start_us <= t) {
        report->shift_hint = i;
        return report->shifts[i].name;
    }
    return 0;
}

/* a x b / c rounded to the nearest, for times in microseconds whose product passes int64: a
 * double keeps 53 bits, so the result is within a microsecond. */
static int64_t muldiv(int64_t a, int64_t b, int64_t c)
{
    if (a == c)
        return b;
    if (b == c)
        return a;
    double x = (double)a * (double)b / (double)c;
    return (int64_t)(x >= 0 ? x + 0.5 : x - 0.5);
}

void rep__calendar_spans(rep_report_t *report, int64_t a, int64_t b, rep_span_cb cb, void *data)
{
    if (a >= b)
        return;
    if (!report->result.calendar) {
        cb(report, 0, b - a, data);
        return;
    }
    for (uint32_t i = shift_after(report, a); i < report->shifts_count; i++) {
        const rep_shift_t *shift = &report->shifts[i];
        if (shift->start_us >= b)
            break;
        int64_t lo = a > shift->start_us ? a : shift->start_us;
        int64_t hi = b < shift->end_us ? b : shift->end_us;
        int64_t length = shift->end_us - shift->start_us;
        /* Breaks are not placed in the shift: each minute of it is worked in proportion. */
        int64_t scheduled = muldiv(hi - lo, length - shift->break_us, length);
        if (scheduled > 0)
            cb(report, shift->name, scheduled, data);
    }
}

int64_t rep__calendar_advance(rep_report_t *report, int64_t start_us, int64_t scheduled_us)
{
    if (!report->result.calendar || scheduled_us <= 0)
        return start_us + (scheduled_us > 0 ? scheduled_us : 0);
    int64_t left = scheduled_us, total_span = 0, total_worked = 0;
    for (uint32_t i = 0; i < report->shifts_count; i++) {
        const rep_shift_t *shift = &report->shifts[i];
        total_span += shift->end_us - shift->start_us,
            total_worked += shift->end_us - shift->start_us - shift->break_us;
    }
    int64_t t = start_us;
    for (uint32_t i = shift_after(report, start_us); i < report->shifts_count; i++) {
        const rep_shift_t *shift = &report->shifts[i];
        int64_t lo = t > shift->start_us ? t : shift->start_us;
        int64_t length = shift->end_us - shift->start_us;
        int64_t worked = muldiv(shift->end_us - lo, length - shift->break_us, length);
        if (worked >= left)
            return lo + muldiv(left, length, length - shift->break_us);
        left -= worked;
        t = shift->end_us;
    }
    /* Beyond the calendar: the calendar's own ratio of worked to elapsed time. */
    if (total_worked <= 0)
        return 0;
    return t + muldiv(left, total_span, total_worked);
}

/* ---- the passes */

static void *table(size_t count, size_t size, bool *failed)
{
    void *p = calloc(count, size);
    *failed |= p == NULL;
    return p;
}

static int report_alloc(rep_report_t *r)
{
    bool failed = false;
    r->names = table(REP_NAMES_MAX, sizeof(*r->names), &failed);
    r->loom_of = table(REP_NAMES_MAX, sizeof(*r->loom_of), &failed);
    r->slice_of = table(REP_NAMES_MAX, sizeof(*r->slice_of), &failed);
    r->sublot_of = table(REP_NAMES_MAX, sizeof(*r->sublot_of), &failed);
    r->weaver_seen = table(REP_NAMES_MAX, sizeof(*r->weaver_seen), &failed);
    r->articles = table(REP_NAMES_MAX, sizeof(*r->articles), &failed);
    r->orders = table(REP_NAMES_MAX, sizeof(*r->orders), &failed);
    r->ints = table(REP_NAMES_MAX, sizeof(*r->ints), &failed);
    r->ncs = table(REP_NAMES_MAX, sizeof(*r->ncs), &failed);
    r->pms = table(REP_NAMES_MAX, sizeof(*r->pms), &failed);
    r->beams = table(REP_NAMES_MAX, sizeof(*r->beams), &failed);
    r->defects = table(REP_NAMES_MAX, sizeof(*r->defects), &failed);
    r->units = table(REP_UNITS_MAX, sizeof(*r->units), &failed);
    r->looms = table(REP_LOOMS_MAX, sizeof(*r->looms), &failed);
    r->sublots = table(REP_SUBLOTS_MAX, sizeof(*r->sublots), &failed);
    r->shifts = table(REP_SHIFTS_MAX, sizeof(*r->shifts), &failed);
    r->pairs = table(REP_PAIRS_MAX, sizeof(*r->pairs), &failed);
    r->slices = table(REP_SLICES_MAX, sizeof(*r->slices), &failed);
    r->pareto = table(REP_DEFECTS_MAX, sizeof(*r->pareto), &failed);
    r->beam_list = table(REP_LOOMS_MAX * 2, sizeof(*r->beam_list), &failed);
    return failed ? FL_ENOMEM : 0;
}

void rep_report_free(rep_report_t *r)
{
    if (r == NULL)
        return;
    void *tables[] = {r->names,    r->loom_of, r->slice_of, r->sublot_of, r->weaver_seen,
                      r->articles, r->orders,  r->ints,     r->ncs,       r->pms,
                      r->beams,    r->defects, r->units,    r->looms,     r->sublots,
                      r->shifts,   r->pairs,   r->slices,   r->pareto,    r->beam_list};
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        free(tables[i]);
    free(r);
}

static bool is_calendar(const eng_record_t *record)
{
    return record->type.len == 14 && (memcmp(record->type.ptr, "ShiftScheduled", 14) == 0 ||
                                      memcmp(record->type.ptr, "ShiftCancelled", 14) == 0);
}

/* One pass over the log up to end_seq: the calendar only, or the fold. */
static int pass(rep_report_t *report, uint64_t end_seq, bool calendar)
{
    eng_iter_t *iter;
    int rc = eng_iter_log(report->ledger, 1, ENG_FORWARD, &iter);
    if (rc != 0)
        return rc;
    eng_record_t record;
    while ((rc = eng_iter_next(iter, &record)) == 0 && record.seq < end_seq) {
        if (calendar) {
            if (is_calendar(&record))
                rep__calendar_event(report, &record);
            continue;
        }
        report->result.events_read++;
        report->result.last_seq = record.seq;
        rep__fold(report, &record);
    }
    eng_iter_close(iter);
    return rc == FL_EEOF || rc == 0 ? 0 : rc;
}

static int slice_order(const void *a, const void *b)
{
    return strcmp(((const rep_slice_t *)a)->key, ((const rep_slice_t *)b)->key);
}

static int defect_order(const void *a, const void *b)
{
    const rep_defect_t *x = a, *y = b;
    if (x->occurrences != y->occurrences)
        return x->occurrences > y->occurrences ? -1 : 1;
    return strcmp(x->defect_id, y->defect_id);
}

static void finish(rep_report_t *r)
{
    qsort(r->slices, r->slices_count, sizeof(r->slices[0]), slice_order);
    uint32_t n = 0;
    for (uint32_t name = 1; name <= REP_NAMES_MAX; name++) {
        const rep_defect_sum_t *d = &r->defects[name - 1];
        if (d->occurrences == 0 && d->points == 0)
            continue;
        if (n == REP_DEFECTS_MAX) {
            r->result.untracked++;
            break;
        }
        snprintf(r->pareto[n].defect_id, sizeof(r->pareto[n].defect_id), "%s",
                 rep__name_text(r, name));
        r->pareto[n].occurrences = d->occurrences, r->pareto[n].points = d->points;
        n++;
    }
    qsort(r->pareto, n, sizeof(r->pareto[0]), defect_order);
    r->result.slices = r->slices, r->result.slices_count = r->slices_count;
    r->result.defects = r->pareto, r->result.defects_count = n;
    r->result.beams = r->beam_list;
}

int rep_report_run(eng_ledger_t *ledger, const rep_query_t *query, rep_report_t **out)
{
    *out = NULL;
    if (ledger == NULL || query == NULL || query->from_us >= query->to_us ||
        query->by >= REP_BY_COUNT)
        return FL_EINVAL;
    rep_report_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return FL_ENOMEM;
    int rc = report_alloc(r);
    if (rc != 0)
        goto fail;
    r->ledger = ledger;
    r->query = *query;
    if (r->query.now_us == 0)
        r->query.now_us = query->to_us;
    r->result.query = r->query;
    /* Both passes read up to the head as it is now: an event posted late by a device that was
     * offline may belong to any past period. */
    eng_head_t head;
    eng_head(ledger, &head);
    uint64_t end_seq = head.seq + 1;
    if ((rc = pass(r, end_seq, true)) != 0)
        goto fail;
    rep__calendar_sort(r);
    if ((rc = pass(r, end_seq, false)) != 0)
        goto fail;
    rep__fold_end(r);
    finish(r);
    *out = r;
    return 0;
fail:
    rep_report_free(r);
    return rc;
}

const rep_result_t *rep_report_result(const rep_report_t *report)
{
    return &report->result;
}
