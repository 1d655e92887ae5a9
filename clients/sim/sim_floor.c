/*
 * sim_floor.c: the weaving floor of the simulator. Each loom is a small state machine driven by
 * one pending task: it gets an order (created, released, assigned by the manager), has beams
 * wound and mounted, starts the order, receives weft, passes its first piece, then weaves rolls
 * with stops (short ones restarted by the weaver, breakdowns repaired through an intervention),
 * beam changes when a beam runs out, and weekly preventive maintenance. Weavers change with the
 * shifts, each in charge of LOOMS_PER_WEAVER looms.
 */
#define _POSIX_C_SOURCE 200809L
#include "clients/sim/sim_int.h"

#include <assert.h>
#include <string.h>

static sim_loom_t *loom_at(sim_t *sim, int index)
{
    assert(index >= 0 && (size_t)index < sim->looms.count);
    return SIM_AT(sim->looms, sim_loom_t, index);
}

static sim_order_t *order_of(sim_t *sim, const sim_loom_t *loom)
{
    assert(loom->order >= 0);
    return SIM_AT(sim->orders, sim_order_t, loom->order);
}

static const sim_article_t *article_of(sim_t *sim, const sim_loom_t *loom)
{
    return &sim__articles[order_of(sim, loom)->article];
}

/* Picks per minute actually woven. */
static int64_t effective_ppm(const sim_loom_t *loom)
{
    return (int64_t)loom->ppm * loom->efficiency_permille / 1000;
}

/* The pieces of the roll being woven: a full roll, or what the order still needs. */
static int64_t roll_pieces(sim_t *sim, const sim_loom_t *loom)
{
    const sim_article_t *article = article_of(sim, loom);
    const sim_order_t *order = order_of(sim, loom);
    int64_t full = ROLL_LENGTH_MM / article->repeat_mm;
    int64_t left = (order->planned - order->declared) / MILLI;
    return left < full ? left : full;
}

static int64_t roll_mm(sim_t *sim, const sim_loom_t *loom)
{
    return roll_pieces(sim, loom) * article_of(sim, loom)->repeat_mm;
}

/* Adds what was woven since run_since_us to the roll, the pick counter and the beams. */
static void accrue(sim_t *sim, sim_loom_t *loom)
{
    const sim_article_t *article = article_of(sim, loom);
    int64_t elapsed = sim->now_us - loom->run_since_us;
    int64_t mm = elapsed * effective_ppm(loom) * 10000 / (article->picks_per_cm_milli * MINUTE_US);
    int64_t left = roll_mm(sim, loom) - loom->woven_mm;
    if (mm > left)
        mm = left;
    loom->woven_mm += mm;
    loom->picks += mm * article->picks_per_cm_milli / 10000;
    SIM_AT(sim->beams, sim_beam_t, loom->beam[0])->remaining_mm -= mm;
    SIM_AT(sim->beams, sim_beam_t, loom->beam[1])->remaining_mm -=
        mm * article->pile_ratio_milli / 1000;
    loom->run_since_us = sim->now_us;
}

/* Whether both beams hold the warp of the roll still to weave. */
static bool beams_suffice(sim_t *sim, const sim_loom_t *loom)
{
    if (loom->beam[0] < 0 || loom->beam[1] < 0)
        return false;
    int64_t need = roll_mm(sim, loom) - loom->woven_mm;
    const sim_beam_t *ground = SIM_AT(sim->beams, sim_beam_t, loom->beam[0]);
    const sim_beam_t *pile = SIM_AT(sim->beams, sim_beam_t, loom->beam[1]);
    return ground->remaining_mm >= need &&
           pile->remaining_mm >= need * article_of(sim, loom)->pile_ratio_milli / 1000;
}

/* Schedules the loom's next step while it runs: the roll done, or a stop before, or its
 * preventive maintenance when due. */
static void run(sim_t *sim, int index)
{
    sim_loom_t *loom = loom_at(sim, index);
    const sim_article_t *article = article_of(sim, loom);
    loom->run_since_us = sim->now_us;
    int64_t left_mm = roll_mm(sim, loom) - loom->woven_mm;
    int64_t roll_us =
        left_mm * article->picks_per_cm_milli * MINUTE_US / (effective_ppm(loom) * 10000) + 1;
    int64_t stop_us = sim__between(sim, 25 * MINUTE_US, 300 * MINUTE_US);
    if (sim->now_us >= loom->next_pm_us) {
        loom->phase = PH_PM;
        sim__schedule(sim, sim->now_us + sim__between(sim, MINUTE_US, 30 * MINUTE_US), T_LOOM,
                      index);
    } else if (stop_us < roll_us) {
        loom->phase = PH_STOP;
        sim__schedule(sim, sim->now_us + stop_us, T_LOOM, index);
    } else {
        loom->phase = PH_ROLL;
        sim__schedule(sim, sim->now_us + roll_us, T_LOOM, index);
    }
}

static void stop(sim_t *sim, sim_loom_t *loom, const char *role, const char *user,
                 const char *stop_class, const char *code)
{
    sim__begin(sim, "LoomStopped", role, user);
    sim__str(sim, "loom_id", "%s", loom->id);
    sim__str(sim, "stop_class", "%s", stop_class);
    sim__str(sim, "reason_code", "%s", code);
    sim__int(sim, "picks", loom->picks);
    sim__end(sim);
}

static void restart(sim_t *sim, sim_loom_t *loom, const char *role, const char *user)
{
    sim__begin(sim, "LoomRestarted", role, user);
    sim__str(sim, "loom_id", "%s", loom->id);
    sim__int(sim, "picks", loom->picks);
    sim__end(sim);
}

/* ---- beams */

/* A new warp wound from yarn lots (consumed from stock), registered, then mounted. */
static void beam_mount(sim_t *sim, int index, int position)
{
    sim_loom_t *loom = loom_at(sim, index);
    sim_beam_t *beam = sim__vec_push(sim, &sim->beams);
    if (beam == NULL)
        return;
    int beam_index = (int)sim->beams.count - 1;
    snprintf(beam->id, sizeof(beam->id), "BM%05d", beam_index + 1);
    beam->position = position;
    /* A ground warp of 1.5 to 2.2 km; the pile warp is longer by the pile ratio (at most 4.5). */
    int64_t ground_mm = sim__between(sim, 1500000, 2200000);
    beam->remaining_mm = position == 0 ? ground_mm : ground_mm * 4600 / 1000;
    int item = position == 0 ? ITEM_GROUND : ITEM_PILE;
    int64_t yarn_milli = beam->remaining_mm / (position == 0 ? 5 : 25); /* g per m of warp */
    int lot = sim__yarn_take(sim, item, yarn_milli);
    sim_hu_t *hu = sim__hu(sim, lot);
    hu->qty -= yarn_milli;
    if (hu->qty == 0)
        hu->status = ST_CONSUMED;
    beam = SIM_AT(sim->beams, sim_beam_t, beam_index);
    sim__begin(sim, "BeamRegistered", "store_raw", sim__user(U_STORE_RAW, beam_index));
    sim__str(sim, "beam_id", "%s", beam->id);
    sim__str(sim, "item_id", "%s", sim__item_ids[item]);
    sim__str(sim, "position", position == 0 ? "ground" : "pile");
    sim__int(sim, "length_milli", beam->remaining_mm);
    sim__int(sim, "ends", position == 0 ? 4800 : 2400);
    sim__str(sim, "location_id", "BEAMS");
    sim__str(sim, "of_id", "%s", order_of(sim, loom)->id);
    sim__open(sim, "yarn_lots", '[');
    sim__open(sim, NULL, '{');
    sim__str(sim, "hu_id", "%s", sim__hu(sim, lot)->id);
    sim__int(sim, "qty_milli", yarn_milli);
    sim__close(sim, '}');
    sim__close(sim, ']');
    sim__end(sim);
    sim__begin(sim, "BeamMounted", "mechanic", sim__user(U_MECHANIC, index));
    sim__str(sim, "beam_id", "%s", beam->id);
    sim__str(sim, "loom_id", "%s", loom->id);
    sim__str(sim, "position", position == 0 ? "ground" : "pile");
    sim__int(sim, "length_milli", beam->remaining_mm);
    sim__str(sim, "of_id", "%s", order_of(sim, loom)->id);
    sim__end(sim);
    loom->beam[position] = beam_index;
}

static void beam_dismount(sim_t *sim, int index, int position, const char *reason)
{
    sim_loom_t *loom = loom_at(sim, index);
    sim_beam_t *beam = SIM_AT(sim->beams, sim_beam_t, loom->beam[position]);
    if (beam->remaining_mm < 0)
        beam->remaining_mm = 0;
    sim__begin(sim, "BeamDismounted", "mechanic", sim__user(U_MECHANIC, index));
    sim__str(sim, "beam_id", "%s", beam->id);
    sim__str(sim, "loom_id", "%s", loom->id);
    sim__str(sim, "position", position == 0 ? "ground" : "pile");
    sim__int(sim, "remaining_length_milli", beam->remaining_mm);
    sim__str(sim, "reason", "%s", reason);
    sim__str(sim, "to_location_id", "BEAMS");
    sim__end(sim);
    loom->beam[position] = -1;
}

/* The beams that cannot finish the next roll come off (their remaining length is waste). */
static void beams_out(sim_t *sim, int index, const char *reason)
{
    sim_loom_t *loom = loom_at(sim, index);
    int64_t need = roll_mm(sim, loom) - loom->woven_mm;
    int64_t pile_need = need * article_of(sim, loom)->pile_ratio_milli / 1000;
    for (int position = 0; position < 2; position++) {
        if (loom->beam[position] < 0)
            continue;
        int64_t left = SIM_AT(sim->beams, sim_beam_t, loom->beam[position])->remaining_mm;
        if (left < (position == 0 ? need : pile_need))
            beam_dismount(sim, index, position, reason);
    }
}

static void beams_in(sim_t *sim, int index)
{
    for (int position = 0; position < 2; position++)
        if (loom_at(sim, index)->beam[position] < 0)
            beam_mount(sim, index, position);
}

/* ---- orders */

static void order_new(sim_t *sim, int index)
{
    sim_loom_t *loom = loom_at(sim, index);
    sim_order_t *order = sim__vec_push(sim, &sim->orders);
    if (order == NULL)
        return;
    int order_index = (int)sim->orders.count - 1;
    snprintf(order->id, sizeof(order->id), "OF-%05d", order_index + 1);
    order->article = (int)((index + order_index) % ARTICLE_COUNT);
    order->loom = index;
    const sim_article_t *article = &sim__articles[order->article];
    int64_t rolls = sim__between(sim, 5, 12);
    order->planned = rolls * (ROLL_LENGTH_MM / article->repeat_mm) * MILLI;
    loom->order = order_index;
    const char *manager = sim__user(U_MANAGER, order_index);
    sim__begin(sim, "OFCreated", "manager", manager);
    sim__str(sim, "of_id", "%s", order->id);
    sim__str(sim, "item_id", "%s", article->id);
    sim__int(sim, "planned_qty_milli", order->planned);
    sim__str(sim, "unit", "pcs");
    sim__int(sim, "due_at_us", sim->now_us + sim__between(sim, 5, 14) * DAY_US);
    sim__int(sim, "priority", sim__between(sim, 1, 5));
    sim__str(sim, "customer_location_id", "%s", sim__loc_ids[LOC_CUST1 + order_index % 3]);
    sim__str(sim, "customer_order_ref", "PO-%u", 7000 + (unsigned)order_index);
    sim__end(sim);
    sim__begin(sim, "OFReleased", "manager", manager);
    sim__str(sim, "of_id", "%s", order->id);
    sim__end(sim);
    sim__begin(sim, "OFAssignedToLoom", "manager", manager);
    sim__str(sim, "of_id", "%s", order->id);
    sim__str(sim, "loom_id", "%s", loom->id);
    sim__int(sim, "planned_qty_milli", order->planned);
    sim__int(sim, "planned_start_at_us", sim->now_us + 10 * MINUTE_US);
    sim__int(sim, "sequence", 1);
    sim__end(sim);
    if (sim__chance(sim, 100)) {
        sim__begin(sim, "OFRescheduled", "manager", manager);
        sim__str(sim, "of_id", "%s", order->id);
        sim__int(sim, "due_at_us", sim->now_us + 16 * DAY_US);
        sim__int(sim, "priority", 2);
        sim__str(sim, "reason", "customer moved the delivery");
        sim__end(sim);
    }
}

static void first_piece(sim_t *sim, sim_loom_t *loom, int index, bool passed)
{
    const sim_article_t *article = article_of(sim, loom);
    sim__begin(sim, "FirstPieceInspected", passed ? "quality" : "mechanic",
               passed ? sim__user(U_QUALITY, index) : sim__user(U_MECHANIC, index));
    sim__str(sim, "loom_id", "%s", loom->id);
    sim__str(sim, "of_id", "%s", order_of(sim, loom)->id);
    sim__str(sim, "result", passed ? "passed" : "failed");
    sim__int(sim, "width_mm", article->width_mm + sim__between(sim, -4, 4));
    sim__int(sim, "repeat_length_mm", article->repeat_mm + sim__between(sim, -6, 6));
    sim__int(sim, "gsm", article->gsm + sim__between(sim, -10, 10));
    if (!passed) {
        sim__open(sim, "defects", '[');
        sim__open(sim, NULL, '{');
        sim__str(sim, "defect_id", "PILE-MISSING");
        sim__int(sim, "count", sim__between(sim, 1, 4));
        sim__close(sim, '}');
        sim__close(sim, ']');
        sim__str(sim, "note", "pile height uneven: tension adjusted");
    }
    sim__end(sim);
}

/* An order on the loom: created, beams, started, weft issued, first piece; then it runs. */
static void order_start(sim_t *sim, int index)
{
    order_new(sim, index);
    sim_loom_t *loom = loom_at(sim, index);
    if (sim->error != 0)
        return;
    if (!beams_suffice(sim, loom)) {
        beams_out(sim, index, "changeover");
        beams_in(sim, index);
    }
    loom = loom_at(sim, index);
    sim__begin(sim, "OFStartedOnLoom", "weaver", sim__weaver(sim, index));
    sim__str(sim, "loom_id", "%s", loom->id);
    sim__str(sim, "of_id", "%s", order_of(sim, loom)->id);
    sim__int(sim, "picks", loom->picks);
    sim__end(sim);
    int64_t weft = sim__between(sim, 60, 140) * MILLI;
    int lot = sim__yarn_take(sim, ITEM_WEFT, weft);
    sim_hu_t *hu = sim__hu(sim, lot);
    hu->qty -= weft;
    hu->out += weft;
    if (hu->qty == 0)
        hu->status = ST_CONSUMED;
    loom = loom_at(sim, index);
    loom->weft = lot;
    sim__begin(sim, "MaterialIssuedToLoom", "store_raw", sim__user(U_STORE_RAW, index));
    sim__str(sim, "hu_id", "%s", hu->id);
    sim__str(sim, "loom_id", "%s", loom->id);
    sim__str(sim, "of_id", "%s", order_of(sim, loom)->id);
    sim__int(sim, "qty_milli", weft);
    sim__str(sim, "from_location_id", "MP1");
    sim__end(sim);
    if (sim__chance(sim, 80))
        first_piece(sim, loom, index, false);
    first_piece(sim, loom, index, true);
    run(sim, index);
}

/* A roll is done: declared, labelled, sometimes marked with a defect; the order ends when
 * its plan is woven, else the loom goes on (after a beam change when a beam is out). */
static void roll_done(sim_t *sim, int index)
{
    sim_loom_t *loom = loom_at(sim, index);
    accrue(sim, loom);
    const sim_article_t *article = article_of(sim, loom);
    sim_order_t *order = order_of(sim, loom);
    int64_t pieces = roll_pieces(sim, loom);
    int article_index = order->article;
    int hu = sim__hu_new(sim, HK_ROLL, article_index, LOC_WEAVING, pieces * MILLI, "R%06u",
                         ++sim->rolls);
    loom = loom_at(sim, index);
    order = order_of(sim, loom);
    sim__hu(sim, hu)->loom = index;
    const char *weaver = sim__weaver(sim, index);
    sim__begin(sim, "ProductionDeclared", "weaver", weaver);
    sim__str(sim, "hu_id", "%s", sim__hu(sim, hu)->id);
    sim__str(sim, "of_id", "%s", order->id);
    sim__str(sim, "loom_id", "%s", loom->id);
    sim__str(sim, "item_id", "%s", article->id);
    sim__int(sim, "qty_milli", pieces * MILLI);
    sim__str(sim, "unit", "pcs");
    sim__str(sim, "location_id", "WEAVING");
    sim__int(sim, "length_milli", pieces * article->repeat_mm);
    sim__int(sim, "weight_milli",
             pieces * article->gsm * article->width_mm / 1000 * article->repeat_mm / 1000);
    sim__int(sim, "picks", loom->picks);
    sim__end(sim);
    sim__label(sim, hu, "weaver", weaver);
    if (sim__chance(sim, 25)) {
        sim__begin(sim, "DefectRecorded", "weaver", weaver);
        sim__str(sim, "hu_id", "%s", sim__hu(sim, hu)->id);
        sim__str(sim, "defect_id", "BROKEN-PICK");
        sim__int(sim, "count", sim__between(sim, 1, 3));
        sim__int(sim, "position_milli", sim__between(sim, 0, pieces * article->repeat_mm));
        sim__end(sim);
    }
    if (sim__chance(sim, 15)) {
        sim__begin(sim, "LabelReprinted", "weaver", weaver);
        sim__str(sim, "hu_id", "%s", sim__hu(sim, hu)->id);
        sim__str(sim, "reason_code", "damaged");
        sim__str(sim, "reason", "label torn on the cloth roller");
        sim__str(sim, "printer", "zebra-%s", weaver);
        sim__str(sim, "format", "zpl");
        sim__end(sim);
    }
    order->declared += pieces * MILLI;
    loom->woven_mm = 0;
    if (order->declared >= order->planned) {
        sim__begin(sim, "OFEndedOnLoom", "weaver", weaver);
        sim__str(sim, "loom_id", "%s", loom->id);
        sim__str(sim, "of_id", "%s", order->id);
        sim__str(sim, "reason", "completed");
        sim__int(sim, "picks", loom->picks);
        sim__end(sim);
        sim_hu_t *weft = sim__hu(sim, loom->weft);
        if (weft->out > 0 && sim__chance(sim, 400)) {
            int64_t back = sim__between(sim, 1, weft->out / MILLI < 15 ? weft->out / MILLI : 15);
            weft->qty += back * MILLI;
            weft->out -= back * MILLI;
            weft->status = ST_AVAILABLE;
            sim__begin(sim, "MaterialReturned", "store_raw", sim__user(U_STORE_RAW, index));
            sim__str(sim, "hu_id", "%s", weft->id);
            sim__int(sim, "qty_milli", back * MILLI);
            sim__str(sim, "to_location_id", "MP1");
            sim__str(sim, "loom_id", "%s", loom->id);
            sim__str(sim, "of_id", "%s", order->id);
            sim__str(sim, "reason", "of_closed");
            sim__end(sim);
        }
        sim__begin(sim, "OFClosed", "manager", sim__user(U_MANAGER, index));
        sim__str(sim, "of_id", "%s", order->id);
        sim__end(sim);
        order->closed = true;
        loom->order = -1;
        loom->phase = PH_ORDER;
        sim__schedule(sim, sim->now_us + sim__between(sim, 15 * MINUTE_US, 60 * MINUTE_US), T_LOOM,
                      index);
        return;
    }
    if (!beams_suffice(sim, loom)) {
        stop(sim, loom, "weaver", weaver, "no_material", "BEAM-OUT");
        beams_out(sim, index, "beam_out");
        loom->phase = PH_BEAM;
        sim__schedule(sim, sim->now_us + sim__between(sim, 40 * MINUTE_US, 90 * MINUTE_US), T_LOOM,
                      index);
        return;
    }
    run(sim, index);
}

/* ---- stops and interventions */

static const char *const short_classes[] = {"warp", "warp", "weft", "weft", "weft", "other"};
static const char *const short_codes[] = {"WARP-BREAK", "PILE-BREAK", "WEFT-BREAK",
                                          "WEFT-EMPTY", "WEFT-LOOP",  "OPERATOR"};

static void intervention_request(sim_t *sim, int index, const char *fault_class)
{
    sim_loom_t *loom = loom_at(sim, index);
    sim_int_t *work = sim__vec_push(sim, &sim->ints);
    if (work == NULL)
        return;
    int work_index = (int)sim->ints.count - 1;
    snprintf(work->id, sizeof(work->id), "INT-%05d", work_index + 1);
    work->loom = index;
    work->part = -1;
    work->pauses = sim__chance(sim, 300);
    sim__begin(sim, "InterventionRequested", "weaver", sim__weaver(sim, index));
    sim__str(sim, "int_id", "%s", work->id);
    sim__str(sim, "loom_id", "%s", loom->id);
    sim__str(sim, "fault_class", "%s", fault_class);
    sim__str(sim, "urgency", sim__chance(sim, 300) ? "critical" : "high");
    sim__str(sim, "description", "loom stopped with a %s fault", fault_class);
    sim__end(sim);
    sim__schedule(sim, sim->now_us + sim__between(sim, 3 * MINUTE_US, 15 * MINUTE_US), T_INT,
                  work_index);
    if (sim__chance(sim, 150)) { /* the next weaver calls too: a duplicate, cancelled */
        char id[SIM_ID_LEN];
        sim_int_t *dup = sim__vec_push(sim, &sim->ints);
        if (dup == NULL)
            return;
        snprintf(dup->id, sizeof(dup->id), "INT-%05d", (int)sim->ints.count);
        dup->loom = index;
        dup->step = 4;
        snprintf(id, sizeof(id), "%s", dup->id);
        sim__begin(sim, "InterventionRequested", "weaver", sim__weaver(sim, index));
        sim__str(sim, "int_id", "%s", id);
        sim__str(sim, "loom_id", "%s", loom->id);
        sim__str(sim, "fault_class", "%s", fault_class);
        sim__str(sim, "urgency", "normal");
        sim__end(sim);
        sim__begin(sim, "InterventionCancelled", "mechanic", sim__user(U_MECHANIC, index));
        sim__str(sim, "int_id", "%s", id);
        sim__str(sim, "loom_id", "%s", loom->id);
        sim__str(sim, "reason", "duplicate request");
        sim__end(sim);
    }
}

static void loom_stop(sim_t *sim, int index)
{
    sim_loom_t *loom = loom_at(sim, index);
    accrue(sim, loom);
    if (sim__chance(sim, 110)) {
        const char *fault = sim__chance(sim, 600) ? "mechanical" : "electrical";
        stop(sim, loom, "weaver", sim__weaver(sim, index), fault,
             fault[0] == 'm' ? "MECH-FAULT" : "ELEC-FAULT");
        loom->phase = PH_WAIT_MECHANIC;
        intervention_request(sim, index, fault);
        return;
    }
    uint32_t which = sim__dice(sim, sizeof(short_codes) / sizeof(short_codes[0]));
    stop(sim, loom, "weaver", sim__weaver(sim, index), short_classes[which], short_codes[which]);
    loom->phase = PH_RESTART;
    sim__schedule(sim, sim->now_us + sim__between(sim, 2 * MINUTE_US, 14 * MINUTE_US), T_LOOM,
                  index);
}

static void int_event(sim_t *sim, const sim_int_t *work, const char *type)
{
    sim__begin(sim, type, "mechanic", sim__user(U_MECHANIC, work->loom));
    sim__str(sim, "int_id", "%s", work->id);
    sim__str(sim, "loom_id", "%s", loom_at(sim, work->loom)->id);
}

/* Parts for a paused intervention: requested by the mechanic, issued by the store. */
static void int_parts(sim_t *sim, int work_index)
{
    sim_int_t *work = SIM_AT(sim->ints, sim_int_t, work_index);
    int64_t qty = sim__between(sim, 1, 2) * MILLI;
    char pr[SIM_ID_LEN];
    snprintf(pr, sizeof(pr), "PR-%05u", ++sim->prs);
    sim__begin(sim, "SparePartRequested", "mechanic", sim__user(U_MECHANIC, work->loom));
    sim__str(sim, "pr_id", "%s", pr);
    sim__str(sim, "item_id", "SP-PICKER");
    sim__int(sim, "qty_milli", qty);
    sim__str(sim, "loom_id", "%s", loom_at(sim, work->loom)->id);
    sim__str(sim, "int_id", "%s", work->id);
    sim__str(sim, "urgency", "high");
    sim__end(sim);
    int lot = sim__yarn_take(sim, ITEM_PICKER, qty);
    work = SIM_AT(sim->ints, sim_int_t, work_index);
    sim_hu_t *hu = sim__hu(sim, lot);
    hu->qty -= qty;
    if (hu->qty == 0)
        hu->status = ST_CONSUMED;
    work->part = lot;
    sim__begin(sim, "SparePartIssued", "store_raw", sim__user(U_STORE_RAW, work->loom));
    sim__str(sim, "hu_id", "%s", hu->id);
    sim__str(sim, "item_id", "SP-PICKER");
    sim__int(sim, "qty_milli", qty);
    sim__str(sim, "from_location_id", "SPARES");
    sim__str(sim, "pr_id", "%s", pr);
    sim__str(sim, "loom_id", "%s", loom_at(sim, work->loom)->id);
    sim__str(sim, "int_id", "%s", work->id);
    sim__end(sim);
}

static const char *const root_causes[] = {"wear", "breakage", "misadjustment", "lubrication",
                                          "electrical_fault"};

/* An intervention's next step: acknowledged, started, paused for parts and resumed, completed
 * with its root cause; the mechanic restarts the loom. */
void sim__int_task(sim_t *sim, int work_index)
{
    sim_int_t *work = SIM_AT(sim->ints, sim_int_t, work_index);
    int64_t next = sim->now_us;
    switch (work->step) {
    case 0:
        int_event(sim, work, "InterventionAcknowledged");
        sim__str(sim, "assigned_user_id", "%s", sim__user(U_MECHANIC, work->loom));
        sim__int(sim, "eta_min", sim__between(sim, 2, 15));
        sim__end(sim);
        next += sim__between(sim, 4 * MINUTE_US, 15 * MINUTE_US);
        break;
    case 1:
        int_event(sim, work, "InterventionStarted");
        sim__end(sim);
        next += sim__between(sim, 10 * MINUTE_US, 70 * MINUTE_US);
        break;
    case 2:
        if (work->pauses) {
            int_event(sim, work, "InterventionPaused");
            sim__str(sim, "reason", "waiting_parts");
            sim__str(sim, "note", "picker worn through");
            sim__end(sim);
            int_parts(sim, work_index);
            next += sim__between(sim, 15 * MINUTE_US, 40 * MINUTE_US);
            break;
        }
        int_event(sim, work, "InterventionCompleted");
        sim__str(sim, "root_cause", "%s", root_causes[sim__dice(sim, 5)]);
        sim__str(sim, "root_cause_detail", "found at the loom and fixed");
        sim__str(sim, "action_taken", "adjusted and tested for 10 minutes");
        if (work->part >= 0) {
            sim__open(sim, "parts_used", '[');
            sim__open(sim, NULL, '{');
            sim__str(sim, "item_id", "SP-PICKER");
            sim__int(sim, "qty_milli", MILLI);
            sim__close(sim, '}');
            sim__close(sim, ']');
        }
        sim__end(sim);
        work->step = 4;
        sim_loom_t *loom = loom_at(sim, work->loom);
        restart(sim, loom, "mechanic", sim__user(U_MECHANIC, work->loom));
        run(sim, work->loom);
        return;
    default: /* 3: paused, parts issued */
        int_event(sim, work, "InterventionResumed");
        sim__end(sim);
        work->pauses = false;
        work->step = 2;
        sim__schedule(sim, sim->now_us + sim__between(sim, 10 * MINUTE_US, 40 * MINUTE_US), T_INT,
                      work_index);
        return;
    }
    work = SIM_AT(sim->ints, sim_int_t, work_index);
    work->step++;
    if (work->step == 3 && !work->pauses)
        work->step = 2;
    sim__schedule(sim, next, T_INT, work_index);
}

/* ---- the loom's task */

static void pm(sim_t *sim, int index, bool done)
{
    sim_loom_t *loom = loom_at(sim, index);
    const char *mechanic = sim__user(U_MECHANIC, index);
    if (!done) {
        accrue(sim, loom);
        stop(sim, loom, "mechanic", mechanic, "mechanical", "PM");
        loom->phase = PH_PM_DONE;
        sim__schedule(sim, sim->now_us + sim__between(sim, 30 * MINUTE_US, 60 * MINUTE_US), T_LOOM,
                      index);
        return;
    }
    sim__begin(sim, "PreventiveMaintenanceDone", "mechanic", mechanic);
    sim__str(sim, "loom_id", "%s", loom->id);
    sim__str(sim, "task_code", "LUB-WEEKLY");
    sim__int(sim, "duration_min", sim__between(sim, 30, 60));
    sim__str(sim, "note", "sley lubricated, pickers checked");
    sim__end(sim);
    loom->next_pm_us += 7 * DAY_US;
    restart(sim, loom, "mechanic", mechanic);
    run(sim, index);
}

void sim__loom_task(sim_t *sim, int index)
{
    sim_loom_t *loom = loom_at(sim, index);
    switch (loom->phase) {
    case PH_ORDER:
        order_start(sim, index);
        break;
    case PH_ROLL:
        roll_done(sim, index);
        break;
    case PH_STOP:
        loom_stop(sim, index);
        break;
    case PH_RESTART:
        restart(sim, loom, "weaver", sim__weaver(sim, index));
        run(sim, index);
        break;
    case PH_BEAM:
        beams_in(sim, index);
        restart(sim, loom_at(sim, index), "mechanic", sim__user(U_MECHANIC, index));
        run(sim, index);
        break;
    case PH_PM:
        pm(sim, index, false);
        break;
    case PH_PM_DONE:
        pm(sim, index, true);
        break;
    default:
        assert(false && "a loom waiting for its mechanic has no task");
    }
}

/* A new shift: each loom changes hands from the last team's weaver to this team's. */
void sim__shift_task(sim_t *sim)
{
    for (size_t i = 0; i < sim->looms.count; i++) {
        sim_loom_t *loom = loom_at(sim, (int)i);
        if (loom->weaver >= 0) {
            int old_team = (sim->team + SIM_TEAMS - 1) % SIM_TEAMS;
            int team = sim->team;
            sim->team = old_team;
            const char *old = sim__weaver(sim, (int)i);
            sim->team = team;
            sim__begin(sim, "OperatorUnassignedFromLoom", "weaver", old);
            sim__str(sim, "loom_id", "%s", loom->id);
            sim__str(sim, "user_id", "%s", old);
            sim__end(sim);
        }
        sim__begin(sim, "OperatorAssignedToLoom", "weaver", sim__weaver(sim, (int)i));
        sim__str(sim, "loom_id", "%s", loom->id);
        sim__str(sim, "user_id", "%s", sim__weaver(sim, (int)i));
        sim__str(sim, "shift_id", "%s", sim->shift_id);
        sim__end(sim);
        loom->weaver = (int)i / LOOMS_PER_WEAVER;
    }
}
