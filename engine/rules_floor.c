/*
 * rules_floor.c: the weaving floor - production orders and their state machine, rolls
 * declared against them, looms running and stopped, beams mounted and dismounted.
 */
#define _POSIX_C_SOURCE 200809L
#include "engine/rules_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A roll comes from its loom, its order and the beams mounted on the loom when it was woven. */
static int production_links(rule_t *r, const loom_t *loom)
{
    char roll[EV_NAME_LEN_MAX + 1], from[EV_NAME_LEN_MAX + 1], id[EV_ID_LEN_MAX + 1];
    eng__text(&r->payload, "hu_id", id, sizeof(id));
    eng__cat(roll, sizeof(roll), "hu-", id);
    eng__text(&r->payload, "loom_id", id, sizeof(id));
    eng__cat(from, sizeof(from), "loom-", id);
    int rc = eng__link_add(r, from, roll, "woven_on");
    eng__cat(from, sizeof(from), "of-", loom->order);
    if (rc == 0)
        rc = eng__link_add(r, from, roll, "for_order");
    for (int position = 0; position < BEAM_POSITIONS && rc == 0; position++) {
        if (loom->beams[position][0] == '\0')
            continue;
        eng__cat(from, sizeof(from), "beam-", loom->beams[position]);
        rc = eng__link_add(r, from, roll, "warp");
    }
    return rc;
}

/* Weaving a roll draws its length off the ground beam, and its length times the article's pile
 * ratio off the pile beam; a beam never goes below zero (the dismount measures what is left). */
static int beams_draw(rule_t *r, const loom_t *loom, const article_t *article)
{
    int64_t length;
    if (!eng__number(&r->payload, "length_milli", &length) || length <= 0)
        return 0;
    for (int position = 0; position < BEAM_POSITIONS; position++) {
        if (loom->beams[position][0] == '\0')
            continue;
        beam_t beam;
        bool found;
        int rc = eng__state_get(r, r->ledger->dbi_beams, "beam", loom->beams[position], &beam,
                                sizeof(beam), &found);
        if (rc != 0 || !found)
            return rc != 0 ? rc : MDB_CORRUPTED;
        int64_t drawn = position == BEAM_PILE && article->pile_ratio_milli > 0
                            ? length * article->pile_ratio_milli / 1000
                            : length;
        beam.length_milli = drawn < beam.length_milli ? beam.length_milli - drawn : 0;
        if ((rc = eng__state_put(r, r->ledger->dbi_beams, "beam", loom->beams[position], &beam,
                                 sizeof(beam))) != 0)
            return rc;
    }
    return 0;
}

/* ProductionDeclared: a new roll, only on an order in progress on that loom, after a passed
 * first piece when the article requires one, and never beyond the plan plus the allowed
 * over-production. */
int eng__rule_production(rule_t *r)
{
    char loom_id[EV_ID_LEN_MAX + 1], order_id[EV_ID_LEN_MAX + 1], unit[8];
    int64_t qty;
    if (!eng__text(&r->payload, "loom_id", loom_id, sizeof(loom_id)) ||
        !eng__text(&r->payload, "of_id", order_id, sizeof(order_id)) ||
        !eng__text(&r->payload, "unit", unit, sizeof(unit)) ||
        !eng__number(&r->payload, "qty_milli", &qty))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe a roll");
    loom_t loom;
    order_t order;
    article_t article;
    bool loom_found, order_found;
    int rc =
        eng__state_get(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom), &loom_found);
    if (rc == 0)
        rc = eng__state_get(r, r->ledger->dbi_orders, "of", order_id, &order, sizeof(order),
                            &order_found);
    if (rc != 0)
        return rc;
    if (!loom_found || strcmp(loom.order, order_id) != 0 || !order_found)
        return eng__refuse(r, FL_ERULE_STATE, "of-%s is not in progress on loom-%s", order_id,
                           loom_id);
    if ((rc = eng__article_get(r, order.item, &article)) != 0)
        return rc;
    if (article.first_piece_required && !loom.first_piece_passed)
        return eng__refuse(r, FL_ERULE_STATE,
                           "loom-%s has no passed first piece for of-%s (item-%s)", loom_id,
                           order_id, order.item);
    if (strcmp(unit, order.unit) != 0)
        return eng__refuse(r, FL_ERULE_CONSERVATION, "of-%s is planned in %s, the roll is in %s",
                           order_id, order.unit, unit);
    int64_t allowed =
        order.planned_milli + order.planned_milli * article.overproduction_allowed_permille / 1000;
    if (order.declared_milli + qty > allowed)
        return eng__refuse(
            r, FL_ERULE_OVERPRODUCTION,
            "of-%s: %lld declared + %lld would pass the plan of %lld (+%lld per mille)", order_id,
            (long long)order.declared_milli, (long long)qty, (long long)order.planned_milli,
            (long long)article.overproduction_allowed_permille);
    if ((rc = eng__rule_hu_created(r)) != 0 || r->code != 0 ||
        (rc = production_links(r, &loom)) != 0)
        return rc;
    if ((rc = beams_draw(r, &loom, &article)) != 0)
        return rc;
    order.declared_milli += qty;
    return eng__state_put(r, r->ledger->dbi_orders, "of", order_id, &order, sizeof(order));
}

/* ---- production orders: created -> released -> in progress -> closed / cancelled */

int eng__rule_order_created(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1];
    order_t order = {.format = 1, .state = OF_CREATED};
    bool found;
    if (!eng__text(&r->payload, "of_id", id, sizeof(id)) ||
        !eng__text(&r->payload, "item_id", order.item, sizeof(order.item)) ||
        !eng__text(&r->payload, "unit", order.unit, sizeof(order.unit)) ||
        !eng__number(&r->payload, "planned_qty_milli", &order.planned_milli))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe an order");
    order_t existing;
    int rc =
        eng__state_get(r, r->ledger->dbi_orders, "of", id, &existing, sizeof(existing), &found);
    if (rc != 0)
        return rc;
    if (found)
        return eng__refuse(r, FL_ERULE_STATE, "of-%s already exists", id);
    return eng__state_put(r, r->ledger->dbi_orders, "of", id, &order, sizeof(order));
}

/* An order moves to state `to` from one of the states in from_mask. */
static int order_transition(rule_t *r, uint8_t to, uint32_t from_mask)
{
    char id[EV_ID_LEN_MAX + 1];
    order_t order;
    bool found;
    if (!eng__text(&r->payload, "of_id", id, sizeof(id)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no order");
    int rc = eng__state_get(r, r->ledger->dbi_orders, "of", id, &order, sizeof(order), &found);
    if (rc != 0)
        return rc;
    if (!found)
        return eng__refuse(r, FL_ERULE_STATE, "no production order of-%s", id);
    if (!(from_mask & (1u << order.state)))
        return eng__refuse(r, FL_ERULE_STATE, "of-%s is %s: it cannot become %s", id,
                           eng__of_state_names[order.state], eng__of_state_names[to]);
    order.state = to;
    return eng__state_put(r, r->ledger->dbi_orders, "of", id, &order, sizeof(order));
}

int eng__rule_order_released(rule_t *r)
{
    return order_transition(r, OF_RELEASED, FROM(OF_CREATED));
}

int eng__rule_order_closed(rule_t *r)
{
    return order_transition(r, OF_CLOSED, FROM(OF_RELEASED) | FROM(OF_IN_PROGRESS));
}

int eng__rule_order_cancelled(rule_t *r)
{
    return order_transition(r, OF_CANCELLED,
                            FROM(OF_CREATED) | FROM(OF_RELEASED) | FROM(OF_IN_PROGRESS));
}

/* ---- looms: defined, an order started and ended on them, stopped and restarted */

static int loom_load(rule_t *r, char *id, size_t size, loom_t *loom)
{
    bool found;
    if (!eng__text(&r->payload, "loom_id", id, size))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no loom");
    int rc = eng__state_get(r, r->ledger->dbi_looms, "loom", id, loom, sizeof(*loom), &found);
    if (rc == 0 && !found)
        eng__refuse(r, FL_ERULE_STATE, "loom-%s is not defined (LoomDefined)", id);
    return rc;
}

int eng__rule_loom_defined(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1];
    loom_t loom;
    bool found;
    if (!eng__text(&r->payload, "loom_id", id, sizeof(id)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no loom");
    int rc = eng__state_get(r, r->ledger->dbi_looms, "loom", id, &loom, sizeof(loom), &found);
    if (rc != 0 || found) /* redefining a loom keeps its running state */
        return rc;
    loom.format = 1;
    return eng__state_put(r, r->ledger->dbi_looms, "loom", id, &loom, sizeof(loom));
}

int eng__rule_order_started(rule_t *r)
{
    char loom_id[EV_ID_LEN_MAX + 1], order_id[EV_ID_LEN_MAX + 1];
    loom_t loom;
    order_t order;
    bool found;
    int rc = loom_load(r, loom_id, sizeof(loom_id), &loom);
    if (rc != 0 || r->code != 0)
        return rc;
    if (!eng__text(&r->payload, "of_id", order_id, sizeof(order_id)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no order");
    if (loom.order[0] != '\0')
        return eng__refuse(r, FL_ERULE_STATE, "loom-%s is running of-%s: end it first", loom_id,
                           loom.order);
    rc = eng__state_get(r, r->ledger->dbi_orders, "of", order_id, &order, sizeof(order), &found);
    if (rc != 0)
        return rc;
    if (!found || (order.state != OF_RELEASED && order.state != OF_IN_PROGRESS))
        return eng__refuse(r, FL_ERULE_STATE, "of-%s is %s: only a released order starts", order_id,
                           found ? eng__of_state_names[order.state] : "unknown");
    order.state = OF_IN_PROGRESS;
    eng__cat(loom.order, sizeof(loom.order), order_id, "");
    loom.first_piece_passed = false;
    loom.stopped = false;
    if ((rc = eng__state_put(r, r->ledger->dbi_orders, "of", order_id, &order, sizeof(order))) != 0)
        return rc;
    return eng__state_put(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom));
}

/* OFEndedOnLoom and FirstPieceInspected: about the order the loom runs now. */
static int loom_with_order(rule_t *r, char *loom_id, loom_t *loom)
{
    char order_id[EV_ID_LEN_MAX + 1];
    int rc = loom_load(r, loom_id, EV_ID_LEN_MAX + 1, loom);
    if (rc != 0 || r->code != 0)
        return rc;
    if (!eng__text(&r->payload, "of_id", order_id, sizeof(order_id)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no order");
    if (strcmp(loom->order, order_id) != 0)
        return eng__refuse(r, FL_ERULE_STATE, "of-%s is not in progress on loom-%s", order_id,
                           loom_id);
    return 0;
}

int eng__rule_order_ended(rule_t *r)
{
    char loom_id[EV_ID_LEN_MAX + 1];
    loom_t loom;
    int rc = loom_with_order(r, loom_id, &loom);
    if (rc != 0 || r->code != 0)
        return rc;
    loom.order[0] = '\0';
    loom.first_piece_passed = false;
    return eng__state_put(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom));
}

int eng__rule_first_piece(rule_t *r)
{
    char loom_id[EV_ID_LEN_MAX + 1], result[16];
    loom_t loom;
    int rc = loom_with_order(r, loom_id, &loom);
    if (rc != 0 || r->code != 0)
        return rc;
    if (!eng__text(&r->payload, "result", result, sizeof(result)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload has no result");
    loom.first_piece_passed = strcmp(result, "passed") == 0;
    return eng__state_put(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom));
}

/* LoomStopped and LoomRestarted: a loom is running or stopped, never both twice. */
static int loom_run(rule_t *r, bool stop)
{
    char loom_id[EV_ID_LEN_MAX + 1];
    loom_t loom;
    int rc = loom_load(r, loom_id, sizeof(loom_id), &loom);
    if (rc != 0 || r->code != 0)
        return rc;
    if (loom.stopped == stop)
        return eng__refuse(r, FL_ERULE_STATE, "loom-%s is already %s", loom_id,
                           stop ? "stopped" : "running");
    loom.stopped = stop;
    loom.since_seq = r->seq;
    loom.stop_class[0] = loom.stop_code[0] = '\0';
    if (stop && (!eng__text(&r->payload, "stop_class", loom.stop_class, sizeof(loom.stop_class)) ||
                 !eng__text(&r->payload, "reason_code", loom.stop_code, sizeof(loom.stop_code))))
        return eng__refuse(r, FL_EINVALID_VALUE, "a stop needs its class and reason code");
    return eng__state_put(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom));
}

int eng__rule_loom_stopped(rule_t *r)
{
    return loom_run(r, true);
}

int eng__rule_loom_restarted(rule_t *r)
{
    return loom_run(r, false);
}

/* ---- beams: one loom per beam, one beam per loom position, never longer when dismounted */

static int beam_load(rule_t *r, char *beam_id, char *loom_id, beam_t *beam, loom_t *loom,
                     int *position)
{
    char where[16];
    bool found;
    int rc = loom_load(r, loom_id, EV_ID_LEN_MAX + 1, loom);
    if (rc != 0 || r->code != 0)
        return rc;
    if (!eng__text(&r->payload, "beam_id", beam_id, EV_ID_LEN_MAX + 1) ||
        !eng__text(&r->payload, "position", where, sizeof(where)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no beam or position");
    *position = strcmp(where, "pile") == 0 ? BEAM_PILE : BEAM_GROUND;
    return eng__state_get(r, r->ledger->dbi_beams, "beam", beam_id, beam, sizeof(*beam), &found);
}

int eng__rule_beam_mounted(rule_t *r)
{
    char beam_id[EV_ID_LEN_MAX + 1], loom_id[EV_ID_LEN_MAX + 1];
    static const char *const positions[] = {"ground", "pile"};
    beam_t beam;
    loom_t loom;
    int position;
    int rc = beam_load(r, beam_id, loom_id, &beam, &loom, &position);
    if (rc != 0 || r->code != 0)
        return rc;
    if (beam.format == 0)
        return eng__refuse(r, FL_ERULE_STATE, "beam-%s is not registered (BeamRegistered)",
                           beam_id);
    if (beam.loom[0] != '\0')
        return eng__refuse(r, FL_ERULE_STATE, "beam-%s is already on loom-%s", beam_id, beam.loom);
    if (loom.beams[position][0] != '\0')
        return eng__refuse(r, FL_ERULE_STATE, "the %s position of loom-%s holds beam-%s",
                           positions[position], loom_id, loom.beams[position]);
    if (beam.position != position)
        return eng__refuse(r, FL_ERULE_STATE, "beam-%s is a %s beam", beam_id,
                           positions[beam.position]);
    int64_t length;
    if (!eng__number(&r->payload, "length_milli", &length))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload has no length");
    if (length > beam.length_milli)
        return eng__refuse(r, FL_ERULE_CONSERVATION,
                           "beam-%s has %lld thousandths of m left: it cannot be mounted with %lld",
                           beam_id, (long long)beam.length_milli, (long long)length);
    beam.length_milli = length;
    beam.mounted_milli = length;
    eng__cat(beam.loom, sizeof(beam.loom), loom_id, "");
    eng__cat(loom.beams[position], sizeof(loom.beams[position]), beam_id, "");
    if ((rc = eng__state_put(r, r->ledger->dbi_beams, "beam", beam_id, &beam, sizeof(beam))) != 0)
        return rc;
    return eng__state_put(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom));
}

int eng__rule_beam_dismounted(rule_t *r)
{
    char beam_id[EV_ID_LEN_MAX + 1], loom_id[EV_ID_LEN_MAX + 1];
    beam_t beam;
    loom_t loom;
    int position;
    int64_t remaining;
    int rc = beam_load(r, beam_id, loom_id, &beam, &loom, &position);
    if (rc != 0 || r->code != 0)
        return rc;
    if (strcmp(beam.loom, loom_id) != 0 || beam.position != position)
        return eng__refuse(r, FL_ERULE_STATE, "beam-%s is not at that position of loom-%s", beam_id,
                           loom_id);
    if (!eng__number(&r->payload, "remaining_length_milli", &remaining) || remaining < 0 ||
        remaining > beam.mounted_milli)
        return eng__refuse(
            r, FL_ERULE_CONSERVATION,
            "beam-%s was mounted with %lld thousandths of m: it cannot have %lld left", beam_id,
            (long long)beam.mounted_milli, (long long)remaining);
    beam.loom[0] = '\0';
    beam.length_milli = remaining;
    loom.beams[position][0] = '\0';
    if ((rc = eng__state_put(r, r->ledger->dbi_beams, "beam", beam_id, &beam, sizeof(beam))) != 0)
        return rc;
    return eng__state_put(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom));
}

/* BeamRegistered: a new warp beam, wound from yarn lots that it consumes from stock. */
int eng__rule_beam_registered(rule_t *r)
{
    char beam_id[EV_ID_LEN_MAX + 1], where[16], name[EV_NAME_LEN_MAX + 1];
    const msgpack_object *lots = eng__member(&r->payload, "yarn_lots");
    beam_t beam;
    bool found;
    if (!eng__text(&r->payload, "beam_id", beam_id, sizeof(beam_id)) ||
        !eng__text(&r->payload, "position", where, sizeof(where)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no beam or position");
    int rc = eng__state_get(r, r->ledger->dbi_beams, "beam", beam_id, &beam, sizeof(beam), &found);
    if (rc != 0)
        return rc;
    if (found)
        return eng__refuse(r, FL_ERULE_STATE, "beam-%s is already registered", beam_id);
    beam = (beam_t){.format = 1, .position = strcmp(where, "pile") == 0 ? BEAM_PILE : BEAM_GROUND};
    if (!eng__text(&r->payload, "item_id", beam.item, sizeof(beam.item)) ||
        !eng__number(&r->payload, "length_milli", &beam.length_milli))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload has no yarn or length");
    uint32_t count = lots != NULL && lots->type == MSGPACK_OBJECT_ARRAY ? lots->via.array.size : 0;
    eng__cat(name, sizeof(name), "beam-", beam_id);
    for (uint32_t pass = 0; pass < 2; pass++) { /* pass 0 checks, pass 1 writes */
        for (uint32_t i = 0; i < count; i++) {
            const msgpack_object *lot = &lots->via.array.ptr[i];
            char id[EV_ID_LEN_MAX + 1], yarn[EV_NAME_LEN_MAX + 1], other[EV_ID_LEN_MAX + 1];
            int64_t qty;
            hu_t hu;
            if (!eng__text(lot, "hu_id", id, sizeof(id)) || !eng__number(lot, "qty_milli", &qty))
                return eng__refuse(r, FL_EINVALID_VALUE, "yarn_lots[%u] is not a yarn lot", i);
            if ((rc = eng__hu_get(r, id, &hu, &found)) != 0)
                return rc;
            if (pass == 1) {
                eng__cat(yarn, sizeof(yarn), "hu-", id);
                if ((rc = eng__hu_take(r, id, &hu, qty)) != 0 ||
                    (rc = eng__link_add(r, yarn, name, "yarn")) != 0)
                    return rc;
                continue;
            }
            for (uint32_t j = 0; j < i; j++)
                if (eng__text(&lots->via.array.ptr[j], "hu_id", other, sizeof(other)) &&
                    strcmp(id, other) == 0)
                    return eng__refuse(r, FL_ERULE_STATE, "hu-%s is listed twice", id);
            if (!eng__hu_usable(r, id, &hu, found))
                return 0;
            if (hu.parent[0] != '\0')
                return eng__refuse(r, FL_ERULE_CONTAINMENT, "hu-%s is inside hu-%s", id, hu.parent);
            if (qty > hu.qty_milli)
                return eng__refuse(r, FL_ERULE_NEGATIVE_STOCK,
                                   "hu-%s holds %lld thousandths of %s: %lld cannot be wound", id,
                                   (long long)hu.qty_milli, hu.unit, (long long)qty);
        }
    }
    return eng__state_put(r, r->ledger->dbi_beams, "beam", beam_id, &beam, sizeof(beam));
}

/* OFQuantityRevised: the plan never falls below what is already declared. */
int eng__rule_order_revised(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1];
    order_t order;
    bool found;
    int64_t planned;
    if (!eng__text(&r->payload, "of_id", id, sizeof(id)) ||
        !eng__number(&r->payload, "planned_qty_milli", &planned))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe a revision");
    int rc = eng__state_get(r, r->ledger->dbi_orders, "of", id, &order, sizeof(order), &found);
    if (rc != 0)
        return rc;
    if (!found || order.state == OF_CLOSED || order.state == OF_CANCELLED)
        return eng__refuse(r, FL_ERULE_STATE, "of-%s is %s: its plan is final", id,
                           found ? eng__of_state_names[order.state] : "unknown");
    if (planned < order.declared_milli)
        return eng__refuse(r, FL_ERULE_OVERPRODUCTION,
                           "of-%s has %lld declared already: the plan cannot fall to %lld", id,
                           (long long)order.declared_milli, (long long)planned);
    order.planned_milli = planned;
    return eng__state_put(r, r->ledger->dbi_orders, "of", id, &order, sizeof(order));
}

/* ---- interventions: requested -> acknowledged -> started <-> paused -> completed; cancelled
 * before work starts */

const char *const eng__int_states[] = {"",       "requested", "acknowledged", "started",
                                       "paused", "completed", "cancelled"};

static int intervention_step(rule_t *r, uint8_t to, uint32_t from_mask)
{
    char id[EV_ID_LEN_MAX + 1], loom_id[EV_ID_LEN_MAX + 1];
    record_t work;
    bool found;
    if (!eng__text(&r->payload, "int_id", id, sizeof(id)) ||
        !eng__text(&r->payload, "loom_id", loom_id, sizeof(loom_id)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no intervention or loom");
    int rc = eng__state_get(r, r->ledger->dbi_records, "int", id, &work, sizeof(work), &found);
    if (rc != 0)
        return rc;
    if (to == INT_REQUESTED) {
        loom_t loom;
        bool loom_found;
        if (found)
            return eng__refuse(r, FL_ERULE_STATE, "int-%s already exists", id);
        if ((rc = eng__state_get(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom),
                                 &loom_found)) != 0)
            return rc;
        if (!loom_found)
            return eng__refuse(r, FL_ERULE_STATE, "loom-%s is not defined (LoomDefined)", loom_id);
        eng__cat(work.subject, sizeof(work.subject), loom_id, "");
    } else if (!found) {
        return eng__refuse(r, FL_ERULE_STATE, "no intervention int-%s", id);
    } else if (strcmp(work.subject, loom_id) != 0) {
        return eng__refuse(r, FL_ERULE_STATE, "int-%s is on loom-%s, not loom-%s", id, work.subject,
                           loom_id);
    } else if (!(from_mask & FROM(work.state))) {
        return eng__refuse(r, FL_ERULE_STATE, "int-%s is %s: it cannot become %s", id,
                           eng__int_states[work.state], eng__int_states[to]);
    }
    work.format = 1;
    work.state = to;
    work.since_seq = r->seq;
    return eng__state_put(r, r->ledger->dbi_records, "int", id, &work, sizeof(work));
}

int eng__rule_int_requested(rule_t *r)
{
    return intervention_step(r, INT_REQUESTED, 0);
}

int eng__rule_int_acknowledged(rule_t *r)
{
    return intervention_step(r, INT_ACKNOWLEDGED, FROM(INT_REQUESTED));
}

int eng__rule_int_started(rule_t *r)
{
    return intervention_step(r, INT_STARTED, FROM(INT_REQUESTED) | FROM(INT_ACKNOWLEDGED));
}

int eng__rule_int_paused(rule_t *r)
{
    return intervention_step(r, INT_PAUSED, FROM(INT_STARTED));
}

int eng__rule_int_resumed(rule_t *r)
{
    return intervention_step(r, INT_STARTED, FROM(INT_PAUSED));
}

int eng__rule_int_completed(rule_t *r)
{
    return intervention_step(r, INT_COMPLETED, FROM(INT_STARTED) | FROM(INT_PAUSED));
}

int eng__rule_int_cancelled(rule_t *r)
{
    return intervention_step(r, INT_CANCELLED, FROM(INT_REQUESTED) | FROM(INT_ACKNOWLEDGED));
}

/* ---- non-conformities: open -> contained -> corrective action -> closed */

const char *const eng__nc_states[] = {"", "open", "contained", "with corrective action", "closed"};

static int nc_step(rule_t *r, uint8_t to, uint32_t from_mask)
{
    char id[EV_ID_LEN_MAX + 1];
    record_t nc;
    bool found;
    if (!eng__text(&r->payload, "nc_id", id, sizeof(id)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no non-conformity");
    int rc = eng__state_get(r, r->ledger->dbi_records, "nc", id, &nc, sizeof(nc), &found);
    if (rc != 0)
        return rc;
    if (to == NC_OPEN && found)
        return eng__refuse(r, FL_ERULE_STATE, "nc-%s already exists", id);
    if (to != NC_OPEN && !found)
        return eng__refuse(r, FL_ERULE_STATE, "no non-conformity nc-%s", id);
    if (to != NC_OPEN && !(from_mask & FROM(nc.state)))
        return eng__refuse(r, FL_ERULE_STATE, "nc-%s is %s: it cannot be %s", id,
                           eng__nc_states[nc.state], eng__nc_states[to]);
    nc.format = 1;
    nc.state = to;
    nc.since_seq = r->seq;
    return eng__state_put(r, r->ledger->dbi_records, "nc", id, &nc, sizeof(nc));
}

int eng__rule_nc_opened(rule_t *r)
{
    return nc_step(r, NC_OPEN, 0);
}

int eng__rule_nc_contained(rule_t *r)
{
    return nc_step(r, NC_CONTAINED, FROM(NC_OPEN) | FROM(NC_CONTAINED));
}

int eng__rule_nc_action(rule_t *r)
{
    return nc_step(r, NC_ACTION, FROM(NC_CONTAINED) | FROM(NC_ACTION));
}

int eng__rule_nc_closed(rule_t *r)
{
    return nc_step(r, NC_CLOSED, FROM(NC_ACTION));
}

/* ---- operators: a weaver takes charge of a loom and leaves it; a loom has a few at most */

static int operator_change(rule_t *r, bool assign)
{
    char loom_id[EV_ID_LEN_MAX + 1], user[EV_ID_LEN_MAX + 1];
    loom_t loom;
    int rc = loom_load(r, loom_id, sizeof(loom_id), &loom);
    if (rc != 0 || r->code != 0)
        return rc;
    if (!eng__text(&r->payload, "user_id", user, sizeof(user)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no operator");
    int at = -1, free_slot = -1;
    for (int i = 0; i < LOOM_OPERATORS_MAX; i++) {
        if (strcmp(loom.operators[i], user) == 0)
            at = i;
        else if (loom.operators[i][0] == '\0' && free_slot < 0)
            free_slot = i;
    }
    if (assign && at >= 0)
        return eng__refuse(r, FL_ERULE_STATE, "user-%s already runs loom-%s", user, loom_id);
    if (!assign && at < 0)
        return eng__refuse(r, FL_ERULE_STATE, "user-%s does not run loom-%s", user, loom_id);
    if (assign && free_slot < 0)
        return eng__refuse(r, FL_ERULE_STATE, "loom-%s already has %d operators", loom_id,
                           LOOM_OPERATORS_MAX);
    if (assign)
        eng__cat(loom.operators[free_slot], sizeof(loom.operators[free_slot]), user, "");
    else
        loom.operators[at][0] = '\0';
    return eng__state_put(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom));
}

int eng__rule_operator_assigned(rule_t *r)
{
    return operator_change(r, true);
}

int eng__rule_operator_unassigned(rule_t *r)
{
    return operator_change(r, false);
}
