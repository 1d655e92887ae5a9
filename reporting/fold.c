/*
 * fold.c: the second pass - each event folded into the state the figures need, and into the
 * sums of the slice it belongs to when it occurred inside the period. One handler per event
 * type, found by binary search in a table sorted by name; types no figure reads are skipped
 * without decoding their payload.
 *
 * A loom's time is integrated between its own events: when something happens on a loom, the
 * time since its previous event is added to the slice of the loom's state during that time
 * (its order, article, weaver, ground beam; the shift of each piece of it), clipped to the
 * period and to the calendar's scheduled time.
 */
#include "reporting/rep_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    rep_report_t *r;
    const eng_record_t *record;
    rep_fields_t f;
} ev_t;

/* ---- small helpers */

static uint32_t name_of(ev_t *e, const char *field)
{
    const char *text;
    size_t len;
    if (!rep__str(&e->f, field, &text, &len))
        return 0;
    return rep__name(e->r, text, len);
}

static int64_t int_of(ev_t *e, const char *field)
{
    int64_t value = 0;
    rep__int(&e->f, field, &value);
    return value;
}

static bool str_is(ev_t *e, const char *field, const char *value)
{
    const char *text;
    size_t len;
    return rep__str(&e->f, field, &text, &len) && len == strlen(value) &&
           memcmp(text, value, len) == 0;
}

/* Where the event's figures go: the total, and the slice of attr in the report's dimension. */
static int targets(rep_report_t *r, const rep_attr_t *attr, rep_slice_t *out[2])
{
    out[0] = &r->result.total;
    if (r->query.by == REP_BY_TOTAL)
        return 1;
    out[1] = rep__slice(r, attr->name[r->query.by]);
    return out[1] != NULL ? 2 : 1;
}

static void place(rep_report_t *r, const rep_attr_t *attr)
{
    r->attr = *attr;
    r->attr_known = true;
}

static rep_loom_t *loom_of(rep_report_t *r, uint32_t name)
{
    if (name == 0)
        return NULL;
    uint16_t at = r->loom_of[name - 1];
    if (at != 0)
        return &r->looms[at - 1];
    if (r->looms_count == REP_LOOMS_MAX) {
        r->result.untracked++;
        return NULL;
    }
    rep_loom_t *loom = &r->looms[r->looms_count++];
    loom->name = name;
    loom->last_us = r->t;
    r->loom_of[name - 1] = (uint16_t)r->looms_count;
    return loom;
}

static uint32_t order_item(const rep_report_t *r, uint32_t order)
{
    return order == 0 ? 0 : r->orders[order - 1].item;
}

/* The loom's place now: its order and article, first weaver, ground (else pile) beam. */
static void loom_attr(rep_report_t *r, const rep_loom_t *loom, rep_attr_t *attr)
{
    memset(attr, 0, sizeof(*attr));
    attr->name[REP_BY_SHIFT] = rep__shift_at(r, r->t);
    if (loom == NULL)
        return;
    attr->name[REP_BY_LOOM] = loom->name;
    attr->name[REP_BY_ORDER] = loom->order;
    attr->name[REP_BY_ARTICLE] = order_item(r, loom->order);
    attr->name[REP_BY_WEAVER] = loom->weavers[0];
    attr->name[REP_BY_BEAM] = loom->beams[0] != 0 ? loom->beams[0] : loom->beams[1];
}

static rep_unit_t *unit_of(rep_report_t *r, const char *text, size_t len, bool create)
{
    if (len == 0)
        return NULL;
    uint64_t h = rep__hash(text, len);
    uint32_t mask = REP_UNITS_MAX - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        rep_unit_t *unit = &r->units[i];
        if (unit->hash == h)
            return unit;
        if (unit->hash != 0)
            continue;
        if (!create || r->units_count >= REP_UNITS_MAX / 4 * 3) {
            r->result.untracked += create;
            return NULL;
        }
        memset(unit, 0, sizeof(*unit));
        unit->hash = h;
        unit->created_us = r->t;
        r->units_count++;
        return unit;
    }
}

static rep_unit_t *unit_field(ev_t *e, const char *field, bool create)
{
    const char *text;
    size_t len;
    if (!rep__str(&e->f, field, &text, &len))
        return NULL;
    return unit_of(e->r, text, len, create);
}

static void unit_stage(rep_unit_t *unit, int stage_plus_one)
{
    if (unit != NULL)
        unit->stage = (uint8_t)stage_plus_one;
}

enum { WOVEN = 1, AT_CUTTING, CUT, HELD, RELEASED, SUBCONTRACT };

/* ---- loom time and picks */

typedef struct {
    rep_loom_t *loom;
    rep_attr_t attr;
} span_t;

static void loom_span(rep_report_t *r, uint32_t shift, int64_t scheduled_us, void *data)
{
    span_t *span = data;
    span->attr.name[REP_BY_SHIFT] = shift;
    rep_slice_t *ts[2];
    int n = targets(r, &span->attr, ts);
    int64_t ppm = span->loom->nominal_ppm;
    for (int i = 0; i < n; i++) {
        ts[i]->scheduled_us += scheduled_us;
        ts[i]->nominal_ppm_us += ppm * scheduled_us;
        if (!span->loom->stopped) {
            ts[i]->running_us += scheduled_us;
            ts[i]->nominal_running_ppm_us += ppm * scheduled_us;
        }
    }
    span->loom->period_scheduled_us += scheduled_us;
}

/* Adds the loom's time up to t (clipped to the period and to now) to its slice. */
static void loom_advance(rep_report_t *r, rep_loom_t *loom, int64_t t)
{
    if (loom == NULL)
        return;
    int64_t end = r->query.to_us < r->query.now_us ? r->query.to_us : r->query.now_us;
    int64_t a = loom->last_us > r->query.from_us ? loom->last_us : r->query.from_us;
    int64_t b = t < end ? t : end;
    if (loom->defined && a < b) {
        span_t span = {.loom = loom};
        int64_t saved = r->t;
        r->t = a;
        loom_attr(r, loom, &span.attr);
        r->t = saved;
        rep__calendar_spans(r, a, b, loom_span, &span);
    }
    if (t > loom->last_us)
        loom->last_us = t;
}

/* A pick counter reading: the picks since the previous one go to the loom's slice, in
 * proportion to the part of that time inside the period. */
static void loom_picks(ev_t *e, rep_loom_t *loom, int64_t picks)
{
    rep_report_t *r = e->r;
    if (loom == NULL)
        return;
    int64_t t = r->t, from = r->query.from_us;
    if (loom->picks_known && picks >= loom->picks && t >= from) {
        int64_t delta = picks - loom->picks;
        if (loom->picks_us < from && t > loom->picks_us)
            delta = (int64_t)((double)delta * (double)(t - from) / (double)(t - loom->picks_us));
        rep_attr_t attr;
        loom_attr(r, loom, &attr);
        const rep_article_t *article =
            attr.name[REP_BY_ARTICLE] ? &r->articles[attr.name[REP_BY_ARTICLE] - 1] : NULL;
        rep_slice_t *ts[2];
        int n = targets(r, &attr, ts);
        for (int i = 0; i < n; i++) {
            ts[i]->picks += delta;
            if (article != NULL && article->picks_per_cm_milli > 0)
                ts[i]->picks_metres_milli += delta * 10000 / article->picks_per_cm_milli;
        }
    }
    loom->picks_known = true;
    loom->picks = picks;
    loom->picks_us = t;
}

/* The loom an event names, its time folded up to the event. */
static rep_loom_t *loom_event(ev_t *e)
{
    rep_loom_t *loom = loom_of(e->r, name_of(e, "loom_id"));
    loom_advance(e->r, loom, e->r->t);
    return loom;
}

/* ---- master data and orders */

static void on_article(ev_t *e)
{
    uint32_t item = name_of(e, "item_id");
    if (item == 0)
        return;
    rep_article_t *a = &e->r->articles[item - 1];
    a->defined = true;
    a->width_mm = int_of(e, "width_mm");
    a->repeat_mm = int_of(e, "repeat_length_mm");
    a->picks_per_cm_milli = int_of(e, "picks_per_cm_milli");
    a->pile_ratio_milli = int_of(e, "pile_ratio_milli");
}

static void on_loom_defined(ev_t *e)
{
    rep_loom_t *loom = loom_event(e);
    if (loom == NULL)
        return;
    bool active = true;
    rep__bool(&e->f, "active", &active);
    loom->defined = active;
    loom->nominal_ppm = int_of(e, "nominal_picks_per_min");
}

static void on_operator(ev_t *e)
{
    rep_loom_t *loom = loom_event(e);
    uint32_t user = name_of(e, "user_id");
    if (loom == NULL || user == 0)
        return;
    bool assign = e->record->type.ptr[8] == 'A'; /* "OperatorAssignedToLoom" */
    uint32_t kept = 0, w[4] = {0};
    for (int i = 0; i < 4; i++)
        if (loom->weavers[i] != 0 && loom->weavers[i] != user)
            w[kept++] = loom->weavers[i];
    if (assign && kept < 4)
        w[kept++] = user;
    memcpy(loom->weavers, w, sizeof(w));
}

static rep_order_t *order_field(ev_t *e)
{
    uint32_t of = name_of(e, "of_id");
    return of == 0 ? NULL : &e->r->orders[of - 1];
}

static void on_order_created(ev_t *e)
{
    rep_order_t *o = order_field(e);
    if (o == NULL)
        return;
    o->known = true;
    o->item = name_of(e, "item_id");
    o->planned_milli = int_of(e, "planned_qty_milli");
    o->due_us = int_of(e, "due_at_us");
}

static void on_order_state(ev_t *e)
{
    rep_order_t *o = order_field(e);
    if (o == NULL)
        return;
    const char *type = e->record->type.ptr;
    if (type[2] == 'R' && type[3] == 'e' && type[4] == 'l') /* OFReleased */
        o->state = 1;
    else if (type[2] == 'R') /* OFRescheduled */
        o->due_us = int_of(e, "due_at_us");
    else if (type[2] == 'Q') /* OFQuantityRevised */
        o->planned_milli = int_of(e, "planned_qty_milli");
    else /* OFClosed, OFCancelled */
        o->state = 2;
}

static rep_assign_t *assignment(rep_order_t *o, uint32_t loom, bool create)
{
    for (uint32_t i = 0; i < o->assign_count; i++)
        if (o->assign[i].loom == loom)
            return &o->assign[i];
    if (!create || o->assign_count == REP_ASSIGN_MAX)
        return NULL;
    rep_assign_t *a = &o->assign[o->assign_count++];
    memset(a, 0, sizeof(*a));
    a->loom = loom;
    return a;
}

static void on_order_assigned(ev_t *e)
{
    rep_order_t *o = order_field(e);
    uint32_t loom = name_of(e, "loom_id");
    if (o == NULL || loom == 0)
        return;
    bool assign = e->record->type.ptr[2] == 'A'; /* OFAssignedToLoom, OFUnassignedFromLoom */
    rep_assign_t *a = assignment(o, loom, assign);
    if (a == NULL)
        return;
    if (!assign) {
        *a = o->assign[--o->assign_count];
        return;
    }
    a->planned_milli = int_of(e, "planned_qty_milli");
    a->sequence = (uint32_t)int_of(e, "sequence");
    a->ended = false;
}

static void on_order_on_loom(ev_t *e)
{
    rep_loom_t *loom = loom_event(e);
    if (loom == NULL)
        return;
    loom_picks(e, loom, int_of(e, "picks"));
    uint32_t of = name_of(e, "of_id");
    bool start = e->record->type.ptr[2] == 'S'; /* OFStartedOnLoom, OFEndedOnLoom */
    loom->order = start ? of : 0;
    if (of == 0)
        return;
    rep_assign_t *a = assignment(&e->r->orders[of - 1], loom->name, start);
    if (a != NULL)
        a->ended = !start;
}

/* ---- stops and production */

static int stop_class(ev_t *e)
{
    const char *text;
    size_t len;
    if (rep__str(&e->f, "stop_class", &text, &len))
        for (int c = 0; c < REP_STOP_CLASSES; c++)
            if (strlen(rep_stop_class_names[c]) == len &&
                memcmp(rep_stop_class_names[c], text, len) == 0)
                return c;
    return REP_STOP_CLASSES - 1; /* other */
}

static void on_loom_stop(ev_t *e)
{
    rep_report_t *r = e->r;
    rep_loom_t *loom = loom_event(e);
    if (loom == NULL)
        return;
    loom_picks(e, loom, int_of(e, "picks"));
    bool stop = e->record->type.ptr[4] == 'S'; /* LoomStopped, LoomRestarted */
    rep_attr_t attr;
    loom_attr(r, loom, &attr);
    place(r, &attr);
    rep_slice_t *ts[2];
    int n = r->in_period ? targets(r, &attr, ts) : 0;
    if (stop) {
        int c = stop_class(e);
        for (int i = 0; i < n; i++)
            ts[i]->stops[c]++;
        if (!loom->stopped)
            loom->stopped_us = r->t;
        loom->stopped = true;
        loom->stop_class = c;
        return;
    }
    if (loom->stopped)
        for (int i = 0; i < n; i++) {
            ts[i]->repairs[loom->stop_class]++;
            ts[i]->repair_us[loom->stop_class] += r->t - loom->stopped_us;
        }
    loom->stopped = false;
}

/* Counts a weaver once per slice (output per weaver). */
static void weaver_seen(rep_report_t *r, rep_slice_t *slice, uint32_t weaver)
{
    uint64_t key = ((uint64_t)(slice - r->slices + 1) << 32 | weaver) + 1;
    if (slice == &r->result.total)
        key = (uint64_t)weaver + 1;
    uint32_t mask = REP_PAIRS_MAX - 1;
    for (uint32_t i = (uint32_t)(key * 0x9e3779b97f4a7c15ULL >> 40) & mask, probes = 0;
         probes < REP_PAIRS_MAX; i = (i + 1) & mask, probes++) {
        if (r->pairs[i] == key)
            return;
        if (r->pairs[i] == 0) {
            r->pairs[i] = key;
            slice->weavers++;
            return;
        }
    }
    r->result.untracked++;
}

static void on_production(ev_t *e)
{
    rep_report_t *r = e->r;
    rep_loom_t *loom = loom_event(e);
    int64_t picks = int_of(e, "picks");
    if (picks > 0)
        loom_picks(e, loom, picks);
    rep_attr_t attr;
    loom_attr(r, loom, &attr);
    uint32_t of = name_of(e, "of_id");
    attr.name[REP_BY_ORDER] = of;
    attr.name[REP_BY_ARTICLE] = name_of(e, "item_id");
    if (e->record->actor_role.len == 6 && memcmp(e->record->actor_role.ptr, "weaver", 6) == 0)
        attr.name[REP_BY_WEAVER] =
            rep__name(r, e->record->actor_user.ptr, e->record->actor_user.len);
    place(r, &attr);
    int64_t qty = int_of(e, "qty_milli"), length = int_of(e, "length_milli");
    rep_unit_t *unit = unit_field(e, "hu_id", true);
    if (unit != NULL) {
        unit->attr = attr;
        unit->qty_milli = qty;
        unit->stage = WOVEN;
    }
    if (of != 0) {
        rep_order_t *o = &r->orders[of - 1];
        o->declared_milli += qty;
        rep_assign_t *a = loom != NULL ? assignment(o, loom->name, false) : NULL;
        if (a != NULL)
            a->declared_milli += qty;
    }
    if (loom != NULL) {
        const rep_article_t *article =
            attr.name[REP_BY_ARTICLE] ? &r->articles[attr.name[REP_BY_ARTICLE] - 1] : NULL;
        for (int p = 0; p < 2; p++) {
            if (loom->beams[p] == 0)
                continue;
            int64_t ratio = p == 1 && article != NULL && article->pile_ratio_milli > 0
                                ? article->pile_ratio_milli
                                : 1000;
            r->beams[loom->beams[p] - 1].woven_milli += length * ratio / 1000;
        }
        if (r->in_period)
            loom->period_length_milli += length;
    }
    if (!r->in_period)
        return;
    rep_slice_t *ts[2];
    int n = targets(r, &attr, ts);
    for (int i = 0; i < n; i++) {
        ts[i]->rolls++;
        ts[i]->pieces_milli += qty;
        ts[i]->length_milli += length;
        if (attr.name[REP_BY_WEAVER] != 0)
            weaver_seen(r, ts[i], attr.name[REP_BY_WEAVER]);
    }
}

/* ---- beams */

static int position_of(ev_t *e)
{
    return str_is(e, "position", "pile") ? 1 : 0;
}

static void on_beam_mounted(ev_t *e)
{
    rep_report_t *r = e->r;
    rep_loom_t *loom = loom_event(e);
    uint32_t beam = name_of(e, "beam_id");
    int p = position_of(e);
    if (loom == NULL || beam == 0)
        return;
    loom->beams[p] = beam;
    rep_beamstate_t *b = &r->beams[beam - 1];
    b->loom = loom->name, b->position = p;
    b->mounted_milli = int_of(e, "length_milli"), b->woven_milli = 0;
    rep_attr_t attr;
    loom_attr(r, loom, &attr);
    attr.name[REP_BY_BEAM] = beam;
    place(r, &attr);
    if (loom->beam_off_us[p] != 0 && r->in_period) {
        rep_slice_t *ts[2];
        int n = targets(r, &attr, ts);
        for (int i = 0; i < n; i++) {
            ts[i]->beam_changes++;
            ts[i]->beam_change_us += r->t - loom->beam_off_us[p];
        }
    }
    loom->beam_off_us[p] = 0;
}

static void on_beam_dismounted(ev_t *e)
{
    rep_report_t *r = e->r;
    rep_loom_t *loom = loom_event(e);
    uint32_t beam = name_of(e, "beam_id");
    int p = position_of(e);
    if (loom == NULL || beam == 0)
        return;
    rep_attr_t attr;
    loom_attr(r, loom, &attr);
    attr.name[REP_BY_BEAM] = beam;
    place(r, &attr);
    if (r->in_period && str_is(e, "reason", "beam_out")) {
        rep_slice_t *ts[2];
        int n = targets(r, &attr, ts);
        for (int i = 0; i < n; i++) {
            ts[i]->beam_outs++;
            ts[i]->beam_end_waste_milli += int_of(e, "remaining_length_milli");
        }
    }
    if (loom->beams[p] == beam)
        loom->beams[p] = 0;
    loom->beam_off_us[p] = r->t;
    r->beams[beam - 1].loom = 0;
}

/* ---- cutting, quality, units */

static const rep_attr_t no_attr;

static void on_cutting(ev_t *e)
{
    rep_report_t *r = e->r;
    rep_unit_t *roll = unit_field(e, "input_hu_id", false);
    rep_attr_t attr = roll != NULL ? roll->attr : no_attr;
    place(r, &attr);
    int64_t consumed = int_of(e, "consumed_qty_milli"), waste = int_of(e, "waste_qty_milli");
    int64_t grades[2] = {0, 0};
    rep_mp_t items;
    uint32_t count = 0;
    rep__array(&e->f, "outputs", &items, &count);
    for (uint32_t i = 0; i < count; i++) {
        rep_mp_t item = items;
        if (!rep__mp_skip(&items))
            break;
        rep_fields_t out;
        if (!rep__fields(item.p, (size_t)(items.p - item.p), &out))
            break;
        ev_t sub = {.r = r, .record = e->record, .f = out};
        int64_t qty = int_of(&sub, "qty_milli");
        grades[str_is(&sub, "grade", "second") ? 1 : 0] += qty;
        rep_unit_t *bundle = unit_field(&sub, "hu_id", true);
        if (bundle != NULL) {
            bundle->attr = attr;
            uint32_t item_name = name_of(&sub, "item_id");
            if (item_name != 0)
                bundle->attr.name[REP_BY_ARTICLE] = item_name;
            bundle->qty_milli = qty;
            bundle->stage = CUT;
        }
    }
    if (roll != NULL) {
        roll->qty_milli -= consumed;
        roll->stage = roll->qty_milli > 0 ? AT_CUTTING : STAGE_NONE;
    }
    if (!r->in_period)
        return;
    rep_slice_t *ts[2];
    int n = targets(r, &attr, ts);
    for (int i = 0; i < n; i++) {
        ts[i]->cut_consumed_milli += consumed;
        ts[i]->cut_first_milli += grades[0];
        ts[i]->cut_second_milli += grades[1];
        ts[i]->cut_waste_milli += waste;
    }
}

static void on_received_at_cutting(ev_t *e)
{
    rep_unit_t *unit = unit_field(e, "hu_id", false);
    if (unit != NULL && unit->stage == WOVEN)
        unit->stage = AT_CUTTING;
}

static void defect_add(rep_report_t *r, uint32_t defect, int64_t count, int64_t points)
{
    if (defect == 0 || !r->in_period)
        return;
    r->defects[defect - 1].occurrences += count;
    r->defects[defect - 1].points += points;
}

static void on_inspection(ev_t *e)
{
    rep_report_t *r = e->r;
    rep_unit_t *unit = unit_field(e, "hu_id", false);
    rep_attr_t attr = unit != NULL ? unit->attr : no_attr;
    place(r, &attr);
    int64_t points = 0;
    rep_mp_t items;
    uint32_t count = 0;
    rep__array(&e->f, "defects", &items, &count);
    for (uint32_t i = 0; i < count; i++) {
        rep_mp_t item = items;
        if (!rep__mp_skip(&items))
            break;
        rep_fields_t d;
        if (!rep__fields(item.p, (size_t)(items.p - item.p), &d))
            break;
        ev_t sub = {.r = r, .record = e->record, .f = d};
        int64_t n = int_of(&sub, "count"), each = int_of(&sub, "points");
        points += n * each;
        defect_add(r, name_of(&sub, "defect_id"), n, n * each);
    }
    if (!r->in_period)
        return;
    int64_t width = int_of(e, "width_mm"), length = int_of(e, "inspected_length_milli");
    rep_slice_t *ts[2];
    int n = targets(r, &attr, ts);
    for (int i = 0; i < n; i++) {
        ts[i]->inspections++;
        ts[i]->points += points;
        ts[i]->inspected_mm_milli_m += width * length;
    }
}

static void on_defect(ev_t *e)
{
    rep_unit_t *unit = unit_field(e, "hu_id", false);
    if (unit != NULL)
        place(e->r, &unit->attr);
    int64_t count = int_of(e, "count");
    defect_add(e->r, name_of(e, "defect_id"), count, count * int_of(e, "points"));
}

static void on_graded(ev_t *e)
{
    rep_report_t *r = e->r;
    rep_unit_t *unit = unit_field(e, "hu_id", false);
    rep_attr_t attr = unit != NULL ? unit->attr : no_attr;
    place(r, &attr);
    if (!r->in_period)
        return;
    int grade = str_is(e, "grade", "second") ? 1 : 0;
    rep_slice_t *ts[2];
    int n = targets(r, &attr, ts);
    for (int i = 0; i < n; i++) {
        ts[i]->graded[grade]++;
        ts[i]->graded_ppm_milli_sum += int_of(e, "points_per_100m2_milli");
    }
}

/* LotReleased, LotPutOnHold, LotRejected, DeviationApproved: the unit's first verdict counts
 * for first-pass yield; the stage follows every verdict. */
static void on_verdict(ev_t *e)
{
    rep_report_t *r = e->r;
    rep_unit_t *unit = unit_field(e, "hu_id", false);
    if (unit == NULL)
        return;
    place(r, &unit->attr);
    const char *type = e->record->type.ptr;
    bool released = type[3] == 'R' && type[5] == 'l'; /* LotReleased, not LotRejected */
    bool rejected = type[3] == 'R' && type[5] == 'j';
    bool deviation = type[0] == 'D';
    if (!unit->verdict && !deviation) {
        unit->verdict = true;
        if (r->in_period) {
            rep_slice_t *ts[2];
            int n = targets(r, &unit->attr, ts);
            for (int i = 0; i < n; i++) {
                ts[i]->verdicts++;
                ts[i]->verdicts_first_pass += released;
            }
        }
    }
    if (unit->stage == STAGE_NONE)
        return;
    unit_stage(unit, rejected ? STAGE_NONE : (released || deviation) ? RELEASED : HELD);
}

static void on_unit_gone(ev_t *e)
{
    /* HUScrapped (partly or wholly), HUVoided */
    rep_unit_t *unit = unit_field(e, "hu_id", false);
    if (unit == NULL)
        return;
    place(e->r, &unit->attr);
    if (e->record->type.ptr[2] == 'V') {
        unit->stage = STAGE_NONE;
        return;
    }
    unit->qty_milli -= int_of(e, "qty_milli");
    if (unit->qty_milli <= 0)
        unit->stage = STAGE_NONE;
}

/* Calls fn on each unit an ids field names. */
static void each_unit(ev_t *e, const char *field, void (*fn)(ev_t *, rep_unit_t *, void *),
                      void *data)
{
    rep_mp_t items;
    uint32_t count = 0;
    rep__array(&e->f, field, &items, &count);
    for (uint32_t i = 0; i < count; i++) {
        const char *text;
        size_t len;
        if (!rep__mp_str(&items, &text, &len))
            return;
        rep_unit_t *unit = unit_of(e->r, text, len, false);
        if (unit != NULL)
            fn(e, unit, data);
    }
}

static void packed(ev_t *e, rep_unit_t *unit, void *data)
{
    (void)e, (void)data;
    unit->stage = STAGE_NONE;
}

static void on_packed(ev_t *e)
{
    each_unit(e, "hu_ids", packed, NULL);
}

static void on_split(ev_t *e)
{
    rep_unit_t *source = unit_field(e, "hu_id", false);
    if (source == NULL)
        return;
    rep_unit_t copy = *source;
    rep_mp_t items;
    uint32_t count = 0;
    rep__array(&e->f, "outputs", &items, &count);
    for (uint32_t i = 0; i < count; i++) {
        rep_mp_t item = items;
        if (!rep__mp_skip(&items))
            break;
        rep_fields_t out;
        if (!rep__fields(item.p, (size_t)(items.p - item.p), &out))
            break;
        ev_t sub = {.r = e->r, .record = e->record, .f = out};
        int64_t qty = int_of(&sub, "qty_milli");
        rep_unit_t *part = unit_field(&sub, "hu_id", true);
        if (part != NULL) {
            part->attr = copy.attr, part->stage = copy.stage, part->verdict = copy.verdict;
            part->qty_milli = qty;
        }
        copy.qty_milli -= qty;
    }
    source = unit_field(e, "hu_id", false); /* the table may have moved nothing, but re-find */
    if (source != NULL) {
        source->qty_milli = copy.qty_milli;
        if (source->qty_milli <= 0)
            source->stage = STAGE_NONE;
    }
}

/* ---- subcontracting */

typedef struct {
    rep_sublot_t *lot;
    bool first;
} send_t;

static void sent(ev_t *e, rep_unit_t *unit, void *data)
{
    (void)e;
    send_t *send = data;
    if (send->first) {
        uint32_t sub = send->lot->attr.name[REP_BY_SUBCONTRACTOR];
        send->lot->attr = unit->attr;
        send->lot->attr.name[REP_BY_SUBCONTRACTOR] = sub;
        send->first = false;
    }
    if (send->lot->units_count < 24)
        send->lot->units[send->lot->units_count++] = unit->hash;
    unit->stage = SUBCONTRACT;
}

static rep_sublot_t *sublot_of(ev_t *e, bool create)
{
    rep_report_t *r = e->r;
    uint32_t name = name_of(e, "sublot_id");
    if (name == 0)
        return NULL;
    if (r->sublot_of[name - 1] != 0)
        return &r->sublots[r->sublot_of[name - 1] - 1];
    if (!create || r->sublots_count == REP_SUBLOTS_MAX) {
        r->result.untracked += create;
        return NULL;
    }
    rep_sublot_t *lot = &r->sublots[r->sublots_count++];
    lot->name = name;
    r->sublot_of[name - 1] = (uint16_t)r->sublots_count;
    return lot;
}

static void on_sent(ev_t *e)
{
    rep_report_t *r = e->r;
    rep_sublot_t *lot = sublot_of(e, true);
    rep_attr_t attr = no_attr;
    attr.name[REP_BY_SUBCONTRACTOR] = name_of(e, "sub_id");
    if (lot != NULL) {
        lot->attr = attr;
        send_t send = {lot, true};
        each_unit(e, "hu_ids", sent, &send);
        attr = lot->attr;
    }
    place(r, &attr);
    if (!r->in_period)
        return;
    rep_slice_t *ts[2];
    int n = targets(r, &attr, ts);
    for (int i = 0; i < n; i++) {
        ts[i]->sub_lots_sent++;
        ts[i]->sub_sent_milli += int_of(e, "qty_milli");
    }
}

static void on_returned(ev_t *e)
{
    rep_report_t *r = e->r;
    rep_sublot_t *lot = sublot_of(e, false);
    rep_attr_t attr = lot != NULL ? lot->attr : no_attr;
    attr.name[REP_BY_SUBCONTRACTOR] = name_of(e, "sub_id");
    place(r, &attr);
    rep_unit_t *good = unit_field(e, "good_hu_id", true);
    if (good != NULL) {
        good->attr = attr;
        good->qty_milli = int_of(e, "good_qty_milli");
        good->stage = RELEASED;
    }
    bool closes = false;
    rep__bool(&e->f, "closes_lot", &closes);
    if (closes && lot != NULL)
        for (uint32_t i = 0; i < lot->units_count; i++) {
            uint32_t mask = REP_UNITS_MAX - 1;
            for (uint32_t s = (uint32_t)lot->units[i] & mask; r->units[s].hash != 0;
                 s = (s + 1) & mask)
                if (r->units[s].hash == lot->units[i]) {
                    r->units[s].stage = STAGE_NONE;
                    break;
                }
        }
    if (!r->in_period)
        return;
    rep_slice_t *ts[2];
    int n = targets(r, &attr, ts);
    for (int i = 0; i < n; i++) {
        ts[i]->sub_returns++;
        ts[i]->sub_good_milli += int_of(e, "good_qty_milli");
        ts[i]->sub_rejected_milli += int_of(e, "rejected_qty_milli");
        ts[i]->sub_lost_milli += int_of(e, "lost_qty_milli");
        ts[i]->sub_allowance_milli += int_of(e, "allowance_qty_milli");
    }
}

/* ---- maintenance */

static rep_int_t *int_field(ev_t *e)
{
    uint32_t name = name_of(e, "int_id");
    return name == 0 ? NULL : &e->r->ints[name - 1];
}

static void on_intervention(ev_t *e)
{
    rep_report_t *r = e->r;
    rep_int_t *it = int_field(e);
    if (it == NULL)
        return;
    const char *type = e->record->type.ptr + 12; /* after "Intervention" */
    int64_t t = r->t;
    if (type[0] == 'R' && type[2] == 'q') { /* Requested */
        rep_loom_t *loom = loom_of(r, name_of(e, "loom_id"));
        memset(it, 0, sizeof(*it));
        it->known = true;
        loom_attr(r, loom, &it->attr);
        it->requested_us = t;
    }
    if (!it->known)
        return;
    place(r, &it->attr);
    rep_slice_t *ts[2];
    int n = r->in_period ? targets(r, &it->attr, ts) : 0;
    switch (type[0]) {
    case 'R':
        if (type[2] == 'q') {
            for (int i = 0; i < n; i++)
                ts[i]->breakdowns++;
        } else if (it->paused_us != 0) { /* Resumed */
            it->paused_total_us += t - it->paused_us;
            it->paused_us = 0;
        }
        break;
    case 'A':
        it->acknowledged_us = t;
        for (int i = 0; i < n; i++)
            ts[i]->responses++, ts[i]->response_us += t - it->requested_us;
        break;
    case 'S':
        it->started_us = t;
        break;
    case 'P':
        it->paused_us = t;
        break;
    case 'C':
        if (type[1] == 'o' && it->started_us != 0) { /* Completed, not Cancelled */
            int64_t paused = it->paused_total_us + (it->paused_us != 0 ? t - it->paused_us : 0);
            for (int i = 0; i < n; i++)
                ts[i]->repairs_done++, ts[i]->repair_done_us += t - it->started_us - paused;
        }
        break;
    default:
        break;
    }
}

static rep_pm_t *pm_field(ev_t *e, uint32_t *loom_name)
{
    const char *loom, *task;
    size_t loom_len, task_len;
    if (!rep__str(&e->f, "loom_id", &loom, &loom_len) ||
        !rep__str(&e->f, "task_code", &task, &task_len) || loom_len + task_len + 1 > 200)
        return NULL;
    char key[208];
    memcpy(key, loom, loom_len);
    key[loom_len] = '/';
    memcpy(key + loom_len + 1, task, task_len);
    uint32_t name = rep__name(e->r, key, loom_len + 1 + task_len);
    *loom_name = rep__name(e->r, loom, loom_len);
    return name == 0 ? NULL : &e->r->pms[name - 1];
}

static void pm_occurrence(rep_report_t *r, rep_pm_t *pm, bool on_time)
{
    int64_t end = r->query.to_us < r->query.now_us ? r->query.to_us : r->query.now_us;
    if (pm->due_us < r->query.from_us || pm->due_us >= end)
        return;
    rep_slice_t *ts[2];
    int n = targets(r, &pm->attr, ts);
    for (int i = 0; i < n; i++)
        ts[i]->pm_due++, ts[i]->pm_on_time += on_time;
}

static void on_pm(ev_t *e)
{
    rep_report_t *r = e->r;
    uint32_t loom_name = 0;
    rep_pm_t *pm = pm_field(e, &loom_name);
    if (pm == NULL)
        return;
    rep_loom_t *loom = loom_of(r, loom_name);
    if (e->record->type.len == 30) { /* PreventiveMaintenanceScheduled */
        pm->known = pm->pending = true;
        loom_attr(r, loom, &pm->attr);
        pm->due_us = int_of(e, "due_at_us");
        pm->interval_us = int_of(e, "interval_days") * 24 * 3600 * 1000000;
        return;
    }
    if (!pm->pending)
        return;
    place(r, &pm->attr);
    pm->attr.name[REP_BY_SHIFT] = rep__shift_at(r, pm->due_us);
    pm_occurrence(r, pm, r->t <= pm->due_us + REP_PM_GRACE_US);
    if (pm->interval_us > 0)
        pm->due_us += pm->interval_us;
    else
        pm->pending = false;
}

/* ---- non-conformities */

static void on_nc(ev_t *e)
{
    rep_report_t *r = e->r;
    uint32_t name = name_of(e, "nc_id");
    if (name == 0)
        return;
    rep_nc_t *nc = &r->ncs[name - 1];
    bool open = e->record->type.ptr[2] == 'O'; /* NCOpened, NCClosed */
    if (open) {
        memset(nc, 0, sizeof(*nc));
        nc->known = true;
        nc->opened_us = r->t;
        rep_loom_t *loom = loom_of(r, name_of(e, "loom_id"));
        loom_attr(r, loom, &nc->attr);
        if (loom == NULL) { /* from the first unit concerned */
            rep_mp_t items;
            uint32_t count = 0;
            const char *text;
            size_t len;
            if (rep__array(&e->f, "hu_ids", &items, &count) && count > 0 &&
                rep__mp_str(&items, &text, &len)) {
                rep_unit_t *unit = unit_of(r, text, len, false);
                if (unit != NULL)
                    nc->attr = unit->attr;
            }
        }
        uint32_t of = name_of(e, "of_id"), item = name_of(e, "item_id");
        if (of != 0)
            nc->attr.name[REP_BY_ORDER] = of;
        if (item != 0)
            nc->attr.name[REP_BY_ARTICLE] = item;
        nc->attr.name[REP_BY_SUBCONTRACTOR] = name_of(e, "sub_id");
        nc->attr.name[REP_BY_SHIFT] = rep__shift_at(r, r->t);
    }
    if (!nc->known || (!open && e->record->type.ptr[2] != 'C'))
        return;
    place(r, &nc->attr);
    rep_slice_t *ts[2];
    int n = r->in_period ? targets(r, &nc->attr, ts) : 0;
    if (open) {
        for (int i = 0; i < n; i++)
            ts[i]->nc_opened++;
        return;
    }
    nc->closed = true;
    for (int i = 0; i < n; i++)
        ts[i]->nc_closed++, ts[i]->nc_close_us += r->t - nc->opened_us;
}

/* ---- counts */

static void on_count(ev_t *e)
{
    rep_report_t *r = e->r;
    rep_attr_t attr = no_attr;
    attr.name[REP_BY_ARTICLE] = name_of(e, "item_id");
    place(r, &attr);
    if (!r->in_period)
        return;
    bool adjusted = e->record->type.ptr[0] == 'I' && e->record->type.ptr[1] == 'n';
    int64_t qty = int_of(e, adjusted ? "delta_qty_milli" : "counted_qty_milli");
    rep_slice_t *ts[2];
    int n = targets(r, &attr, ts);
    for (int i = 0; i < n; i++) {
        if (adjusted) {
            ts[i]->adjustments++;
            ts[i]->adjusted_milli += qty;
            ts[i]->adjusted_abs_milli += qty < 0 ? -qty : qty;
        } else {
            ts[i]->count_lines++;
            ts[i]->counted_milli += qty;
        }
    }
}

/* ---- dispatch */

typedef struct {
    const char *type;
    void (*fn)(ev_t *);
} handler_t;

/* Sorted by type name (strcmp), for the binary search. */
static const handler_t handlers[] = {
    {"ArticleSpecDefined", on_article},
    {"BeamDismounted", on_beam_dismounted},
    {"BeamMounted", on_beam_mounted},
    {"CuttingDeclared", on_cutting},
    {"DefectRecorded", on_defect},
    {"DeviationApproved", on_verdict},
    {"FabricGraded", on_graded},
    {"HUPacked", on_packed},
    {"HUReceivedAtCutting", on_received_at_cutting},
    {"HUScrapped", on_unit_gone},
    {"HUSplit", on_split},
    {"HUVoided", on_unit_gone},
    {"InspectionRecorded", on_inspection},
    {"InterventionAcknowledged", on_intervention},
    {"InterventionCancelled", on_intervention},
    {"InterventionCompleted", on_intervention},
    {"InterventionPaused", on_intervention},
    {"InterventionRequested", on_intervention},
    {"InterventionResumed", on_intervention},
    {"InterventionStarted", on_intervention},
    {"InventoryAdjusted", on_count},
    {"ItemCounted", on_count},
    {"LoomDefined", on_loom_defined},
    {"LoomRestarted", on_loom_stop},
    {"LoomStopped", on_loom_stop},
    {"LotPutOnHold", on_verdict},
    {"LotRejected", on_verdict},
    {"LotReleased", on_verdict},
    {"LotReturnedFromSubcontractor", on_returned},
    {"LotSentToSubcontractor", on_sent},
    {"NCClosed", on_nc},
    {"NCOpened", on_nc},
    {"OFAssignedToLoom", on_order_assigned},
    {"OFCancelled", on_order_state},
    {"OFClosed", on_order_state},
    {"OFCreated", on_order_created},
    {"OFEndedOnLoom", on_order_on_loom},
    {"OFQuantityRevised", on_order_state},
    {"OFReleased", on_order_state},
    {"OFRescheduled", on_order_state},
    {"OFStartedOnLoom", on_order_on_loom},
    {"OFUnassignedFromLoom", on_order_assigned},
    {"OperatorAssignedToLoom", on_operator},
    {"OperatorUnassignedFromLoom", on_operator},
    {"PreventiveMaintenanceDone", on_pm},
    {"PreventiveMaintenanceScheduled", on_pm},
    {"ProductionDeclared", on_production},
};

static const handler_t *handler_of(const eng_str_t *type)
{
    size_t lo = 0, hi = sizeof(handlers) / sizeof(handlers[0]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *name = handlers[mid].type;
        size_t len = strlen(name), n = len < type->len ? len : type->len;
        int c = memcmp(type->ptr, name, n);
        if (c == 0)
            c = type->len < len ? -1 : type->len > len;
        if (c == 0)
            return &handlers[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static void lag(rep_report_t *r, const eng_record_t *record)
{
    int64_t us = record->recorded_at_us - record->occurred_at_us;
    if (us < 0)
        us = 0; /* a device clock ahead of the server's */
    int bucket = 0;
    while (bucket < REP_LAG_BUCKETS - 1 && (us >> bucket) > 0)
        bucket++;
    rep_slice_t *ts[2];
    int n = r->attr_known ? targets(r, &r->attr, ts) : (ts[0] = &r->result.total, 1);
    for (int i = 0; i < n; i++) {
        ts[i]->lag_events++;
        ts[i]->lag_us += us;
        if (us > ts[i]->lag_us_max)
            ts[i]->lag_us_max = us;
        ts[i]->lag_over_minute += us > 60 * 1000000LL;
        ts[i]->lag_buckets[bucket]++;
    }
}

void rep__fold(rep_report_t *r, const eng_record_t *record)
{
    r->t = record->occurred_at_us;
    if (r->t >= r->query.to_us)
        return;
    r->in_period = r->t >= r->query.from_us;
    r->attr_known = false;
    r->result.events_in_period += r->in_period;
    const handler_t *handler = handler_of(&record->type);
    if (handler != NULL) {
        ev_t e = {.r = r, .record = record};
        if (rep__fields(record->payload, record->payload_len, &e.f))
            handler->fn(&e);
    }
    if (r->in_period)
        lag(r, record);
}

/* ---- the end of the period */

static void wip_at_end(rep_report_t *r, int64_t end)
{
    static const int64_t day = 24LL * 3600 * 1000000;
    for (uint32_t i = 0; i < REP_UNITS_MAX; i++) {
        const rep_unit_t *unit = &r->units[i];
        if (unit->hash == 0 || unit->stage == STAGE_NONE)
            continue;
        int stage = unit->stage - 1;
        int64_t age = end - unit->created_us;
        int bucket = age < day ? 0 : age < 3 * day ? 1 : age < 7 * day ? 2 : 3;
        rep_slice_t *ts[2];
        int n = targets(r, &unit->attr, ts);
        for (int k = 0; k < n; k++) {
            ts[k]->wip_units[stage]++;
            ts[k]->wip_milli[stage] += unit->qty_milli;
            ts[k]->wip_age_us[stage] += age;
            ts[k]->wip_ages[stage][bucket]++;
        }
    }
}

static void beams_at_end(rep_report_t *r)
{
    uint32_t n = 0;
    for (uint32_t l = 0; l < r->looms_count; l++) {
        const rep_loom_t *loom = &r->looms[l];
        uint32_t item = order_item(r, loom->order);
        const rep_article_t *article = item != 0 ? &r->articles[item - 1] : NULL;
        double rate_m_per_h = loom->period_scheduled_us > 0
                                  ? (double)loom->period_length_milli / 1000.0 /
                                        ((double)loom->period_scheduled_us / 3600e6)
                                  : 0;
        for (int p = 0; p < 2; p++) {
            if (loom->beams[p] == 0)
                continue;
            const rep_beamstate_t *b = &r->beams[loom->beams[p] - 1];
            rep_beam_t *out = &r->beam_list[n++];
            snprintf(out->beam_id, sizeof(out->beam_id), "%s", rep__name_text(r, loom->beams[p]));
            snprintf(out->loom_id, sizeof(out->loom_id), "%s", rep__name_text(r, loom->name));
            out->position = p;
            out->mounted_milli = b->mounted_milli, out->woven_milli = b->woven_milli;
            out->remaining_milli =
                b->mounted_milli > b->woven_milli ? b->mounted_milli - b->woven_milli : 0;
            double ratio = p == 1 && article != NULL && article->pile_ratio_milli > 0
                               ? (double)article->pile_ratio_milli / 1000.0
                               : 1.0;
            out->hours_to_beam_out =
                rate_m_per_h > 0 ? (double)out->remaining_milli / 1000.0 / ratio / rate_m_per_h
                                 : (double)NAN;
        }
    }
    r->result.beams_count = n;
}

void rep__fold_end(rep_report_t *r)
{
    int64_t end = r->query.to_us < r->query.now_us ? r->query.to_us : r->query.now_us;
    r->t = end;
    r->in_period = true;
    for (uint32_t l = 0; l < r->looms_count; l++)
        loom_advance(r, &r->looms[l], end);
    for (uint32_t name = 1; name <= REP_NAMES_MAX; name++) {
        const rep_nc_t *nc = &r->ncs[name - 1];
        if (nc->known && !nc->closed) {
            rep_slice_t *ts[2];
            int n = targets(r, &nc->attr, ts);
            for (int i = 0; i < n; i++)
                ts[i]->nc_open_at_end++;
        }
        rep_pm_t *pm = &r->pms[name - 1];
        /* Occurrences due in the period and never done are missed. */
        for (int guard = 0; pm->known && pm->pending && pm->due_us < end && guard < 1000; guard++) {
            pm->attr.name[REP_BY_SHIFT] = rep__shift_at(r, pm->due_us);
            pm_occurrence(r, pm, false);
            if (pm->interval_us <= 0)
                break;
            pm->due_us += pm->interval_us;
        }
    }
    wip_at_end(r, end);
    beams_at_end(r);
}
