/*
 * sim_flow.c: what happens to the rolls after the loom, in the simulator. The cutter receives
 * rolls and cuts them into first and second choice bundles and waste; quality inspects, grades,
 * releases, holds (sometimes behind a non-conformity that is then contained, corrected and
 * closed), rejects and scraps; some first-choice bundles go to a subcontractor and come back
 * with an allowance; the finished-goods store moves, packs and palletizes; pallets ship; the
 * raw-material store is counted every week and adjusted.
 */
#define _POSIX_C_SOURCE 200809L
#include "clients/sim/sim_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define CUTS_PER_PASS_MAX 16

static bool loose(const sim_hu_t *hu)
{
    return hu->parent < 0 && hu->holder == HOLDER_NONE;
}

/* ---- cutting */

static void cut_roll(sim_t *sim, int roll_index)
{
    sim_hu_t *roll = sim__hu(sim, roll_index);
    const char *cutter = sim__user(U_CUTTER, roll_index);
    sim__begin(sim, "HUReceivedAtCutting", "cutter", cutter);
    sim__str(sim, "hu_id", "%s", roll->id);
    sim__str(sim, "from_location_id", "WEAVING");
    sim__str(sim, "to_location_id", "CUT");
    sim__end(sim);
    roll->loc = LOC_CUT;
    if (sim__chance(sim, 20)) {
        sim__begin(sim, "DefectRecorded", "cutter", cutter);
        sim__str(sim, "hu_id", "%s", roll->id);
        sim__str(sim, "defect_id", "STAIN");
        sim__int(sim, "count", 1);
        sim__int(sim, "points", 2);
        sim__end(sim);
    }
    int64_t pieces = roll->qty / MILLI;
    int64_t waste = sim__between(sim, 0, pieces * 3 / 100 > 1 ? pieces * 3 / 100 : 1);
    int64_t second = sim__between(sim, 0, pieces * 6 / 100);
    int64_t first = pieces - waste - second;
    assert(first >= 2);
    int64_t parts[3] = {first / 2, first - first / 2, second};
    const char *suffix[3] = {"1", "2", "S"};
    char roll_id[SIM_ID_LEN];
    snprintf(roll_id, sizeof(roll_id), "%s", roll->id);
    int article = roll->item, loom = roll->loom;
    sim__begin(sim, "CuttingDeclared", "cutter", cutter);
    sim__str(sim, "input_hu_id", "%s", roll_id);
    sim__int(sim, "consumed_qty_milli", pieces * MILLI);
    sim__str(sim, "unit", "pcs");
    sim__str(sim, "location_id", "CUT");
    sim__open(sim, "outputs", '[');
    for (int i = 0; i < 3; i++) {
        if (parts[i] == 0)
            continue;
        sim__open(sim, NULL, '{');
        sim__str(sim, "hu_id", "%s-%s", roll_id, suffix[i]);
        sim__str(sim, "item_id", "%s", sim__articles[article].id);
        sim__str(sim, "grade", i < 2 ? "first" : "second");
        sim__int(sim, "qty_milli", parts[i] * MILLI);
        sim__close(sim, '}');
    }
    sim__close(sim, ']');
    sim__int(sim, "waste_qty_milli", waste * MILLI);
    if (waste > 0)
        sim__str(sim, "waste_reason", sim__chance(sim, 700) ? "roll_end" : "weaving_defect");
    sim__end(sim);
    roll = sim__hu(sim, roll_index);
    roll->qty = 0;
    roll->status = ST_CONSUMED;
    for (int i = 0; i < 3; i++) {
        if (parts[i] == 0)
            continue;
        int bundle = sim__hu_new(sim, HK_BUNDLE, article, LOC_CUT, parts[i] * MILLI, "%s-%s",
                                 roll_id, suffix[i]);
        sim__hu(sim, bundle)->grade = (uint8_t)(i < 2 ? 1 : 2);
        sim__hu(sim, bundle)->loom = loom;
        sim__label(sim, bundle, "cutter", cutter);
    }
}

void sim__cut_task(sim_t *sim)
{
    int done = 0;
    bool prefix = true;
    for (size_t i = sim->cut_cursor; i < sim->hus.count && done < CUTS_PER_PASS_MAX; i++) {
        sim_hu_t *hu = sim__hu(sim, (int)i);
        bool waiting = hu->kind == HK_ROLL && hu->status == ST_AVAILABLE && hu->loc == LOC_WEAVING;
        if (waiting && sim->now_us - hu->since_us >= 20 * MINUTE_US) {
            cut_roll(sim, (int)i);
            done++;
            waiting = false;
        }
        if (prefix && !waiting)
            sim->cut_cursor = i + 1;
        else
            prefix = false;
    }
}

/* ---- quality */

static void verdict(sim_t *sim, const char *type, int hu)
{
    sim__begin(sim, type, "quality", sim__user(U_QUALITY, hu));
    sim__str(sim, "hu_id", "%s", sim__hu(sim, hu)->id);
}

static void scrap(sim_t *sim, int hu_index, int nc)
{
    sim_hu_t *hu = sim__hu(sim, hu_index);
    sim__begin(sim, "HUScrapped", "quality", sim__user(U_QUALITY, hu_index));
    sim__str(sim, "hu_id", "%s", hu->id);
    sim__int(sim, "qty_milli", hu->qty);
    sim__str(sim, "reason", "defective");
    if (nc >= 0)
        sim__str(sim, "nc_id", "%s", SIM_AT(sim->ncs, sim_nc_t, nc)->id);
    sim__end(sim);
    hu->qty = 0;
    hu->status = ST_CONSUMED;
}

static void reject(sim_t *sim, int hu, int nc)
{
    verdict(sim, "LotRejected", hu);
    sim__str(sim, "reason", "holes and stains beyond repair");
    sim__str(sim, "disposition", "scrap");
    if (nc >= 0)
        sim__str(sim, "nc_id", "%s", SIM_AT(sim->ncs, sim_nc_t, nc)->id);
    sim__end(sim);
    sim__hu(sim, hu)->status = ST_REJECTED;
    scrap(sim, hu, nc);
}

static void release(sim_t *sim, int hu, const char *note)
{
    verdict(sim, "LotReleased", hu);
    if (note != NULL)
        sim__str(sim, "note", "%s", note);
    sim__end(sim);
    sim__hu(sim, hu)->status = ST_RELEASED;
    sim__hu(sim, hu)->since_us = sim->now_us;
}

static void inspect(sim_t *sim, int hu_index, const char *stage)
{
    sim_hu_t *hu = sim__hu(sim, hu_index);
    const sim_article_t *article = &sim__articles[hu->item];
    sim__begin(sim, "InspectionRecorded", "quality", sim__user(U_QUALITY, hu_index));
    sim__str(sim, "hu_id", "%s", hu->id);
    sim__str(sim, "stage", "%s", stage);
    sim__int(sim, "width_mm", article->width_mm);
    sim__int(sim, "sample_qty_milli", hu->qty < 10 * MILLI ? hu->qty : 10 * MILLI);
    sim__open(sim, "defects", '[');
    uint32_t defects = sim__dice(sim, 3);
    static const char *const codes[] = {"BROKEN-PICK", "SLUB", "SELVEDGE"};
    for (uint32_t i = 0; i < defects; i++) {
        sim__open(sim, NULL, '{');
        sim__str(sim, "defect_id", "%s", codes[i]);
        sim__int(sim, "points", sim__between(sim, 1, 4));
        sim__int(sim, "count", sim__between(sim, 1, 2));
        sim__close(sim, '}');
    }
    sim__close(sim, ']');
    sim__end(sim);
    if (sim__chance(sim, 250)) {
        int64_t points = defects * 2;
        int64_t length_m = hu->qty / MILLI * article->repeat_mm / 1000;
        sim__begin(sim, "FabricGraded", "quality", sim__user(U_QUALITY, hu_index));
        sim__str(sim, "hu_id", "%s", hu->id);
        sim__str(sim, "grade", hu->grade == 2 ? "second" : "first");
        sim__int(sim, "points_total", points);
        sim__int(sim, "points_per_100m2_milli",
                 length_m > 0 ? 100000 * points * MILLI / (article->width_mm * length_m) : 0);
        sim__end(sim);
    }
}

static int nc_open(sim_t *sim, int hu_index)
{
    sim_nc_t *nc = sim__vec_push(sim, &sim->ncs);
    if (nc == NULL)
        return -1;
    int index = (int)sim->ncs.count - 1;
    snprintf(nc->id, sizeof(nc->id), "NC-%04d", index + 1);
    nc->hus[0] = hu_index;
    nc->hus_count = 1;
    nc->since_us = sim->now_us;
    sim_hu_t *hu = sim__hu(sim, hu_index);
    nc->loom = hu->loom;
    sim__begin(sim, "NCOpened", "quality", sim__user(U_QUALITY, index));
    sim__str(sim, "nc_id", "%s", nc->id);
    sim__str(sim, "title", "Missing pile loops on %s", sim__articles[hu->item].id);
    sim__str(sim, "description", "rows of missing pile loops found at final inspection");
    sim__str(sim, "source", "weaving");
    sim__str(sim, "severity", sim__chance(sim, 200) ? "major" : "minor");
    sim__open(sim, "hu_ids", '[');
    sim__item_str(sim, hu->id);
    sim__close(sim, ']');
    if (hu->loom >= 0)
        sim__str(sim, "loom_id", "%s", SIM_AT(sim->looms, sim_loom_t, hu->loom)->id);
    sim__str(sim, "item_id", "%s", sim__articles[hu->item].id);
    sim__str(sim, "defect_id", "PILE-MISSING");
    sim__end(sim);
    return index;
}

static void hold(sim_t *sim, int hu)
{
    int nc = sim__chance(sim, 350) ? nc_open(sim, hu) : -1;
    verdict(sim, "LotPutOnHold", hu);
    sim__str(sim, "reason", "defects above the first-quality threshold");
    if (nc >= 0)
        sim__str(sim, "nc_id", "%s", SIM_AT(sim->ncs, sim_nc_t, nc)->id);
    sim__end(sim);
    sim_hu_t *unit = sim__hu(sim, hu);
    unit->status = ST_ON_HOLD;
    unit->since_us = sim->now_us;
    unit->nc = nc;
}

/* A held unit after a few hours: released, released under a deviation, or rejected. */
static void held_decision(sim_t *sim, int hu_index)
{
    sim_hu_t *hu = sim__hu(sim, hu_index);
    int nc = hu->nc;
    uint32_t dice = sim__dice(sim, 10);
    if (dice < 7) {
        release(sim, hu_index, "re-inspected: within tolerance");
    } else if (dice < 9) {
        verdict(sim, "DeviationApproved", hu_index);
        sim__str(sim, "reason", "customer accepts minor pile defects");
        sim__str(sim, "conditions", "ship as first choice to this customer only");
        sim__int(sim, "valid_until_us", sim->now_us + 30 * DAY_US);
        if (nc >= 0)
            sim__str(sim, "nc_id", "%s", SIM_AT(sim->ncs, sim_nc_t, nc)->id);
        sim__end(sim);
        sim__hu(sim, hu_index)->status = ST_RELEASED;
    } else {
        reject(sim, hu_index, nc);
    }
}

/* Non-conformities move on: contained after a few hours, corrected the next day, closed. */
static void nc_step(sim_t *sim, int index)
{
    sim_nc_t *nc = SIM_AT(sim->ncs, sim_nc_t, index);
    int64_t age = sim->now_us - nc->since_us;
    const char *user = sim__user(U_QUALITY, index);
    if (nc->step == 0 && age >= 2 * HOUR_US) {
        sim__begin(sim, "ContainmentRecorded", "quality", user);
        sim__str(sim, "nc_id", "%s", nc->id);
        sim__str(sim, "action", "held every bundle of the same roll; loom pile tension checked");
        sim__open(sim, "hu_ids", '[');
        for (int i = 0; i < nc->hus_count; i++)
            sim__item_str(sim, sim__hu(sim, nc->hus[i])->id);
        sim__close(sim, ']');
        sim__end(sim);
    } else if (nc->step == 1 && age >= DAY_US) {
        sim__begin(sim, "CorrectiveActionRecorded", "quality", user);
        sim__str(sim, "nc_id", "%s", nc->id);
        sim__str(sim, "root_cause", "pile beam tension drifting after the beam change");
        sim__str(sim, "action", "tension checked at every beam change; weekly calibration");
        sim__str(sim, "owner_user_id", "%s", sim__user(U_MECHANIC, index));
        sim__int(sim, "due_at_us", sim->now_us + 7 * DAY_US);
        sim__end(sim);
    } else if (nc->step == 2 && age >= 2 * DAY_US) {
        sim__begin(sim, "NCClosed", "quality", user);
        sim__str(sim, "nc_id", "%s", nc->id);
        sim__bool(sim, "effective", true);
        sim__str(sim, "conclusion", "no recurrence over two days of production");
        sim__end(sim);
    } else {
        return;
    }
    nc->step++;
    nc->since_us = sim->now_us;
}

void sim__qc_task(sim_t *sim)
{
    size_t count = sim->hus.count;
    for (size_t i = 0; i < count; i++) {
        sim_hu_t *hu = sim__hu(sim, (int)i);
        if (hu->kind != HK_BUNDLE || !loose(hu))
            continue;
        if (hu->status == ST_AVAILABLE && !hu->inspected) {
            hu->inspected = true;
            bool returned = hu->loc == LOC_FG; /* back from a subcontractor */
            if (returned || sim__chance(sim, 300))
                inspect(sim, (int)i, returned ? "subcontract_return" : "final");
            uint32_t dice = returned ? 0 : sim__dice(sim, 1000);
            if (dice < 925)
                release(sim, (int)i, NULL);
            else if (dice < 985)
                hold(sim, (int)i);
            else
                reject(sim, (int)i, -1);
        } else if (hu->status == ST_ON_HOLD && sim->now_us - hu->since_us >= 3 * HOUR_US) {
            held_decision(sim, (int)i);
        } else if (hu->status == ST_REJECTED && hu->qty > 0) {
            scrap(sim, (int)i, -1); /* rejects brought back by a subcontractor */
        }
    }
    for (size_t i = 0; i < sim->ncs.count; i++)
        nc_step(sim, (int)i);
}

/* ---- finished goods: moved, packed, palletized */

static void pack(sim_t *sim, const char *type, const char *field, int container, const int *hus,
                 int count)
{
    sim__begin(sim, type, "store_finished", sim__user(U_STORE_FINISHED, container));
    sim__str(sim, field, "%s", sim__hu(sim, container)->id);
    sim__open(sim, "hu_ids", '[');
    for (int i = 0; i < count; i++)
        sim__item_str(sim, sim__hu(sim, hus[i])->id);
    sim__close(sim, ']');
    sim__str(sim, "location_id", "FG");
    sim__end(sim);
    for (int i = 0; i < count; i++)
        sim__hu(sim, hus[i])->parent = container;
    sim__label(sim, container, "store_finished", sim__user(U_STORE_FINISHED, container));
}

static void move(sim_t *sim, int hu_index, int from, int to)
{
    sim_hu_t *hu = sim__hu(sim, hu_index);
    sim__begin(sim, "StockTransferred", "store_finished", sim__user(U_STORE_FINISHED, hu_index));
    sim__str(sim, "hu_id", "%s", hu->id);
    sim__str(sim, "from_location_id", "%s", sim__loc_ids[from]);
    sim__str(sim, "to_location_id", "%s", sim__loc_ids[to]);
    sim__end(sim);
    hu->loc = (int16_t)to;
}

/* Packs loose released units of one kind at FG, `per` at a time, by article (and grade), in
 * the order of the units. The candidates are gathered in one pass first rather than in a pass
 * per article and grade over every unit ever made (which made the simulator slow down as the
 * plant aged): packing changes nothing that decides whether another unit is a candidate, and
 * the containers it makes are of another kind, so the packs are the very same. */
static void pack_all(sim_t *sim, int kind, int per)
{
    size_t total = sim->hus.count, count = 0;
    int *candidates = malloc((total + 1) * sizeof(*candidates));
    if (candidates == NULL) {
        sim->error = FL_ENOMEM;
        return;
    }
    for (size_t i = 0; i < total; i++) {
        const sim_hu_t *hu = sim__hu(sim, (int)i);
        if (hu->kind == kind && hu->status == ST_RELEASED && hu->loc == LOC_FG && loose(hu))
            candidates[count++] = (int)i;
    }
    for (int article = 0; article < ARTICLE_COUNT; article++)
        for (int grade = 0; grade <= 2; grade++) {
            int group[CARTONS_PER_PALLET], grouped = 0;
            for (size_t c = 0; c < count; c++) {
                const sim_hu_t *hu = sim__hu(sim, candidates[c]);
                if (hu->item != article || hu->grade != grade)
                    continue;
                group[grouped++] = candidates[c];
                if (grouped < per)
                    continue;
                bool carton = kind == HK_BUNDLE;
                int container =
                    carton
                        ? sim__hu_new(sim, HK_CARTON, article, LOC_FG, 0, "K%06u", ++sim->cartons)
                        : sim__hu_new(sim, HK_PALLET, article, LOC_FG, 0, "P%05u", ++sim->pallets);
                sim__hu(sim, container)->status = ST_RELEASED;
                pack(sim, carton ? "HUPacked" : "HUPalletized",
                     carton ? "carton_hu_id" : "pallet_hu_id", container, group, grouped);
                grouped = 0;
            }
        }
    free(candidates);
}

void sim__fg_task(sim_t *sim)
{
    size_t count = sim->hus.count;
    for (size_t i = 0; i < count; i++) {
        sim_hu_t *hu = sim__hu(sim, (int)i);
        if (hu->kind == HK_BUNDLE && hu->status == ST_RELEASED && hu->loc == LOC_CUT && loose(hu))
            move(sim, (int)i, LOC_CUT, LOC_FG);
    }
    pack_all(sim, HK_BUNDLE, BUNDLES_PER_CARTON);
    pack_all(sim, HK_CARTON, CARTONS_PER_PALLET);
}

/* ---- shipments */

void sim__ship_task(sim_t *sim)
{
    int pallets[PALLETS_PER_SHIPMENT_MAX], count = 0;
    for (size_t i = 0; i < sim->hus.count && count < PALLETS_PER_SHIPMENT_MAX; i++) {
        sim_hu_t *hu = sim__hu(sim, (int)i);
        if (hu->kind == HK_PALLET && hu->status == ST_RELEASED && loose(hu) &&
            (hu->loc == LOC_FG || hu->loc == LOC_DOCK))
            pallets[count++] = (int)i;
    }
    if (count == 0)
        return;
    char ship[SIM_ID_LEN];
    snprintf(ship, sizeof(ship), "SHP-%04u", ++sim->ships);
    int customer = LOC_CUST1 + (int)(sim->ships % 3);
    const char *user = sim__user(U_STORE_FINISHED, (int)sim->ships);
    sim__begin(sim, "ShipmentPlanned", "store_finished", user);
    sim__str(sim, "ship_id", "%s", ship);
    sim__str(sim, "customer_location_id", "%s", sim__loc_ids[customer]);
    sim__int(sim, "planned_at_us", sim->now_us + 2 * HOUR_US);
    sim__str(sim, "customer_order_ref", "PO-%u", 9000 + sim->ships);
    sim__end(sim);
    for (int i = 0; i < count; i++)
        if (sim__hu(sim, pallets[i])->loc == LOC_FG)
            move(sim, pallets[i], LOC_FG, LOC_DOCK);
    sim__begin(sim, "ShipmentLoaded", "store_finished", user);
    sim__str(sim, "ship_id", "%s", ship);
    sim__open(sim, "hu_ids", '[');
    for (int i = 0; i < count; i++)
        sim__item_str(sim, sim__hu(sim, pallets[i])->id);
    sim__close(sim, ']');
    sim__str(sim, "from_location_id", "DOCK");
    sim__end(sim);
    if (count > 1 && sim__chance(sim, 150)) { /* the truck is full: the last pallet waits */
        count--;
        sim__begin(sim, "ShipmentUnloaded", "store_finished", user);
        sim__str(sim, "ship_id", "%s", ship);
        sim__open(sim, "hu_ids", '[');
        sim__item_str(sim, sim__hu(sim, pallets[count])->id);
        sim__close(sim, ']');
        sim__str(sim, "to_location_id", "DOCK");
        sim__str(sim, "reason", "truck full");
        sim__end(sim);
    }
    sim__begin(sim, "ShipmentDispatched", "store_finished", user);
    sim__str(sim, "ship_id", "%s", ship);
    sim__str(sim, "to_location_id", "%s", sim__loc_ids[customer]);
    sim__str(sim, "carrier", "Trans-Sahel");
    sim__str(sim, "vehicle_ref", "TN-%u", 1000 + sim__dice(sim, 9000));
    sim__str(sim, "seal_ref", "SEAL-%u", 50000 + sim->ships);
    sim__end(sim);
    for (int i = 0; i < count; i++) {
        sim_hu_t *pallet = sim__hu(sim, pallets[i]);
        pallet->status = ST_SHIPPED;
        pallet->loc = (int16_t)customer;
    }
}

/* ---- subcontracting */

static void lot_return(sim_t *sim, int index)
{
    sim_sublot_t *lot = SIM_AT(sim->sublots, sim_sublot_t, index);
    bool closing = lot->returns_left == 1;
    int64_t out = lot->out / MILLI, sent = lot->sent / MILLI;
    int64_t good = out / 2, rejected = 0, lost = 0, allowance = 0;
    if (closing) {
        lost = sim__between(sim, 0, out > 4 ? 1 : 0);
        rejected = sim__between(sim, 0, out > 8 ? 2 : 0);
        int64_t allowance_max = sent * 40 / 1000;
        allowance = sim__between(
            sim, 0, allowance_max < out - lost - rejected ? allowance_max : out - lost - rejected);
        good = out - lost - rejected - allowance;
    }
    /* The rules want a unit for any rejected quantity (the catalog says it may stay written
     * off): rejects always come back, and quality scraps them. */
    bool rejects_back = rejected > 0;
    int good_hu = -1, reject_hu = -1;
    int article = sim__hu(sim, lot->hus[0])->item;
    if (good > 0) {
        good_hu =
            sim__hu_new(sim, HK_BUNDLE, article, LOC_FG, good * MILLI, "E%05u", ++sim->returns);
        sim__hu(sim, good_hu)->grade = 1;
    }
    if (rejects_back) {
        reject_hu =
            sim__hu_new(sim, HK_BUNDLE, article, LOC_FG, rejected * MILLI, "X%05u", ++sim->returns);
        sim__hu(sim, reject_hu)->status = ST_REJECTED;
        sim__hu(sim, reject_hu)->grade = 2;
    }
    lot = SIM_AT(sim->sublots, sim_sublot_t, index);
    sim__begin(sim, "LotReturnedFromSubcontractor", "store_subcontract",
               sim__user(U_STORE_SUB, index));
    sim__str(sim, "sublot_id", "%s", lot->id);
    sim__str(sim, "sub_id", lot->sub == 0 ? "BRODERIE" : "OURLET");
    if (good_hu >= 0)
        sim__str(sim, "good_hu_id", "%s", sim__hu(sim, good_hu)->id);
    sim__str(sim, "grade", "first");
    sim__int(sim, "good_qty_milli", good * MILLI);
    sim__int(sim, "rejected_qty_milli", rejected * MILLI);
    if (reject_hu >= 0)
        sim__str(sim, "rejected_hu_id", "%s", sim__hu(sim, reject_hu)->id);
    sim__int(sim, "lost_qty_milli", lost * MILLI);
    sim__int(sim, "allowance_qty_milli", allowance * MILLI);
    if (allowance != 0)
        sim__str(sim, "allowance_reason", "trimming of the hems");
    sim__str(sim, "to_location_id", "FG");
    sim__bool(sim, "closes_lot", closing);
    sim__str(sim, "delivery_note_ref", "BL-%s-%d", lot->id, lot->returns_left);
    sim__end(sim);
    lot->out -= (good + rejected + lost + allowance) * MILLI;
    lot->returns_left--;
    lot->closed = closing;
    lot->back_us = sim->now_us + DAY_US;
    if (good_hu >= 0)
        sim__label(sim, good_hu, "store_subcontract", sim__user(U_STORE_SUB, index));
}

static void lot_send(sim_t *sim)
{
    int hus[SUBLOT_BUNDLES_MAX], count = 0, article = -1;
    int64_t sum = 0;
    for (size_t i = 0; i < sim->hus.count && count < SUBLOT_BUNDLES_MAX; i++) {
        sim_hu_t *hu = sim__hu(sim, (int)i);
        if (hu->kind != HK_BUNDLE || hu->status != ST_RELEASED || hu->loc != LOC_CUT ||
            hu->grade != 1 || !loose(hu) || (article >= 0 && hu->item != article))
            continue;
        article = hu->item;
        hus[count++] = (int)i;
        sum += hu->qty;
    }
    if (count < 2)
        return;
    sim_sublot_t *lot = sim__vec_push(sim, &sim->sublots);
    if (lot == NULL)
        return;
    int index = (int)sim->sublots.count - 1;
    snprintf(lot->id, sizeof(lot->id), "SL-%04d", index + 1);
    lot->sub = index % 2;
    memcpy(lot->hus, hus, sizeof(hus));
    lot->hus_count = count;
    lot->sent = lot->out = sum;
    lot->returns_left = sim__chance(sim, 300) ? 2 : 1;
    lot->back_us = sim->now_us + sim__between(sim, 1, 3) * DAY_US - HOUR_US;
    sim__begin(sim, "LotSentToSubcontractor", "store_subcontract", sim__user(U_STORE_SUB, index));
    sim__str(sim, "sublot_id", "%s", lot->id);
    sim__str(sim, "sub_id", lot->sub == 0 ? "BRODERIE" : "OURLET");
    sim__str(sim, "operation", lot->sub == 0 ? "embroidery" : "hemming");
    sim__open(sim, "hu_ids", '[');
    for (int i = 0; i < count; i++)
        sim__item_str(sim, sim__hu(sim, hus[i])->id);
    sim__close(sim, ']');
    sim__int(sim, "qty_milli", sum);
    sim__str(sim, "unit", "pcs");
    sim__str(sim, "from_location_id", "CUT");
    sim__str(sim, "to_location_id", "%s", sim__loc_ids[LOC_SUB_BRODERIE + lot->sub]);
    sim__int(sim, "expected_back_us", lot->back_us);
    sim__str(sim, "instructions", "%s",
             lot->sub == 0 ? "logo embroidery, thread white" : "double hem");
    sim__end(sim);
    for (int i = 0; i < count; i++) {
        sim_hu_t *hu = sim__hu(sim, hus[i]);
        hu->holder = HOLDER_SUBLOT;
        hu->loc = (int16_t)(LOC_SUB_BRODERIE + lot->sub);
    }
}

void sim__sub_task(sim_t *sim)
{
    for (size_t i = 0; i < sim->sublots.count; i++) {
        sim_sublot_t *lot = SIM_AT(sim->sublots, sim_sublot_t, i);
        if (!lot->closed && lot->back_us <= sim->now_us)
            lot_return(sim, (int)i);
    }
    lot_send(sim);
}

/* ---- counts */

void sim__count_task(sim_t *sim)
{
    char id[SIM_ID_LEN];
    snprintf(id, sizeof(id), "CNT-%04u", ++sim->counts);
    const char *counter = sim__user(U_STORE_RAW, (int)sim->counts);
    sim__begin(sim, "CountOpened", "store_raw", counter);
    sim__str(sim, "count_id", "%s", id);
    sim__open(sim, "location_ids", '[');
    sim__item_str(sim, "MP1");
    sim__close(sim, ']');
    sim__str(sim, "scope", "cycle");
    sim__bool(sim, "blind", true);
    sim__end(sim);
    enum { LINES_MAX = 256 };
    int lines[LINES_MAX], count = 0;
    int64_t deltas[LINES_MAX];
    for (size_t i = 0; i < sim->hus.count && count < LINES_MAX; i++) {
        sim_hu_t *hu = sim__hu(sim, (int)i);
        if (hu->kind != HK_YARN || hu->status != ST_AVAILABLE || hu->qty <= 0)
            continue;
        int64_t delta = sim__chance(sim, 250) ? -sim__between(sim, 1, 5) * MILLI : 0;
        if (hu->qty + delta < 0)
            delta = 0;
        sim__begin(sim, "ItemCounted", "store_raw", counter);
        sim__str(sim, "count_id", "%s", id);
        sim__str(sim, "hu_id", "%s", hu->id);
        sim__str(sim, "item_id", "%s", sim__item_ids[hu->item]);
        sim__str(sim, "location_id", "MP1");
        sim__int(sim, "counted_qty_milli", hu->qty + delta);
        sim__str(sim, "unit", "kg");
        sim__end(sim);
        lines[count] = (int)i;
        deltas[count++] = delta;
    }
    sim__begin(sim, "CountClosed", "store_raw", counter);
    sim__str(sim, "count_id", "%s", id);
    sim__end(sim);
    for (int i = 0; i < count; i++) {
        if (deltas[i] == 0)
            continue;
        sim_hu_t *hu = sim__hu(sim, lines[i]);
        sim__begin(sim, "InventoryAdjusted", "manager", sim__user(U_MANAGER, 0));
        sim__str(sim, "count_id", "%s", id);
        sim__str(sim, "hu_id", "%s", hu->id);
        sim__str(sim, "item_id", "%s", sim__item_ids[hu->item]);
        sim__str(sim, "location_id", "MP1");
        sim__int(sim, "delta_qty_milli", deltas[i]);
        sim__str(sim, "unit", "kg");
        sim__str(sim, "reason", "cones found damp and discarded");
        if (deltas[i] <= -3 * MILLI)
            sim__str(sim, "approved_by_user_id", "%s", sim__user(U_MANAGER, 1));
        sim__end(sim);
        hu->qty += deltas[i];
        if (hu->qty == 0)
            hu->status = ST_CONSUMED;
    }
}
