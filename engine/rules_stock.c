/*
 * rules_stock.c: stock leaving and coming back - shipments (only released units ship, held
 * ones never), subcontract lots (what comes back balances what was sent, within a declared
 * allowance), and counts with the adjustments they lead to (never below zero).
 */
#define _POSIX_C_SOURCE 200809L
#include "engine/rules_int.h"

#include <stdio.h>
#include <string.h>

/* A subcontractor may keep at most this share of a lot as a declared allowance (shrinkage of
 * dyeing, embroidery trimmings): beyond it, the difference is a loss to declare as such. */
#define SUBCONTRACT_ALLOWANCE_MAX_PERMILLE 50

/* ---- records of the `records` table with a state machine */

static int record_load(rule_t *r, const char *kind, const char *field, char *id, record_t *record,
                       bool *found)
{
    if (!eng__text(&r->payload, field, id, EV_ID_LEN_MAX + 1))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload has no %s", field);
    return eng__state_get(r, r->ledger->dbi_records, kind, id, record, sizeof(*record), found);
}

static int record_save(rule_t *r, const char *kind, const char *id, record_t *record, uint8_t state)
{
    record->format = 1;
    record->state = state;
    record->since_seq = r->seq;
    return eng__state_put(r, r->ledger->dbi_records, kind, id, record, sizeof(*record));
}

/* ---- shipments: planned, loaded with released units, dispatched */

const char *const eng__ship_states[] = {"", "planned", "dispatched"};

int eng__rule_shipment_planned(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1];
    record_t ship;
    bool found;
    int rc = record_load(r, "ship", "ship_id", id, &ship, &found);
    if (rc != 0 || r->code != 0)
        return rc;
    if (found)
        return eng__refuse(r, FL_ERULE_STATE, "ship-%s already exists", id);
    if (!eng__text(&r->payload, "customer_location_id", ship.subject, sizeof(ship.subject)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no customer");
    return record_save(r, "ship", id, &ship, SHIP_PLANNED);
}

/* A shipment still at the dock, named by ship_id. */
static int ship_open(rule_t *r, char *id, record_t *ship)
{
    bool found;
    int rc = record_load(r, "ship", "ship_id", id, ship, &found);
    if (rc != 0 || r->code != 0)
        return rc;
    if (!found)
        return eng__refuse(r, FL_ERULE_STATE, "no shipment ship-%s (ShipmentPlanned)", id);
    if (ship->state != SHIP_PLANNED)
        return eng__refuse(r, FL_ERULE_STATE, "ship-%s is %s", id, eng__ship_states[ship->state]);
    return 0;
}

/* Every unit of a load, contents included, must be released: held or rejected never ship. */
static int check_shippable(rule_t *r, const char *id, hu_t *hu, void *data)
{
    (void)data;
    if (hu->status == HU_ON_HOLD || hu->status == HU_REJECTED)
        return eng__refuse(r, FL_ERULE_HU_HELD, "hu-%s is %s: it may not ship", id,
                           eng__hu_status_names[hu->status]);
    if (hu->status != HU_RELEASED)
        return eng__refuse(r, FL_ERULE_STATE, "hu-%s is %s: only released units ship", id,
                           eng__hu_status_names[hu->status]);
    return 0;
}

/* ShipmentLoaded and ShipmentUnloaded: an open shipment, units (hu_ids) and a location. */
static int ship_units(rule_t *r, const char *location_field, char *ship_id, record_t *ship,
                      char *location, char *group, const msgpack_object **ids)
{
    *ids = eng__member(&r->payload, "hu_ids");
    int rc = ship_open(r, ship_id, ship);
    if (rc != 0 || r->code != 0)
        return rc;
    if (!eng__text(&r->payload, location_field, location, EV_ID_LEN_MAX + 1) || *ids == NULL ||
        (*ids)->type != MSGPACK_OBJECT_ARRAY)
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not name units and %s",
                           location_field);
    snprintf(group, EV_NAME_LEN_MAX + 1, "ship-%s", ship_id);
    return 0;
}

int eng__rule_shipment_loaded(rule_t *r)
{
    char ship_id[EV_ID_LEN_MAX + 1], from[EV_ID_LEN_MAX + 1], group[EV_NAME_LEN_MAX + 1];
    const msgpack_object *ids;
    record_t ship;
    int rc = ship_units(r, "from_location_id", ship_id, &ship, from, group, &ids);
    if (rc != 0 || r->code != 0)
        return rc;
    for (uint32_t pass = 0; pass < 2; pass++) { /* pass 0 checks, pass 1 writes */
        for (uint32_t i = 0; i < ids->via.array.size; i++) {
            char id[EV_ID_LEN_MAX + 1], other[EV_ID_LEN_MAX + 1];
            hu_t hu;
            bool found;
            if (!eng__id_at(ids, i, id, sizeof(id)))
                return eng__refuse(r, FL_EINVALID_VALUE, "hu_ids[%u] is not an id", i);
            if ((rc = eng__hu_get(r, id, &hu, &found)) != 0)
                return rc;
            if (pass == 1) {
                eng__cat(hu.holder, sizeof(hu.holder), "ship:", ship_id);
                ship.count++;
                if ((rc = eng__hu_put(r, id, &hu)) != 0 ||
                    (rc = eng__member_set(r, group, id, true)) != 0)
                    return rc;
                continue;
            }
            for (uint32_t j = 0; j < i; j++)
                if (eng__id_at(ids, j, other, sizeof(other)) && strcmp(id, other) == 0)
                    return eng__refuse(r, FL_ERULE_STATE, "hu-%s is listed twice", id);
            if (!eng__hu_usable(r, id, &hu, found))
                return 0;
            if (hu.parent[0] != '\0')
                return eng__refuse(r, FL_ERULE_CONTAINMENT,
                                   "hu-%s is inside hu-%s: load the container", id, hu.parent);
            if (strcmp(hu.location, from) != 0)
                return eng__refuse(r, FL_ERULE_HU_LOCATION, "hu-%s is at loc-%s, not at loc-%s", id,
                                   hu.location, from);
            if ((rc = eng__hu_visit(r, id, check_shippable, NULL)) != 0 || r->code != 0)
                return rc;
        }
    }
    return record_save(r, "ship", ship_id, &ship, SHIP_PLANNED);
}

int eng__rule_shipment_unloaded(rule_t *r)
{
    char ship_id[EV_ID_LEN_MAX + 1], to[EV_ID_LEN_MAX + 1], group[EV_NAME_LEN_MAX + 1];
    char holder[EV_NAME_LEN_MAX + 1];
    const msgpack_object *ids;
    record_t ship;
    int rc = ship_units(r, "to_location_id", ship_id, &ship, to, group, &ids);
    if (rc != 0 || r->code != 0)
        return rc;
    eng__cat(holder, sizeof(holder), "ship:", ship_id);
    for (uint32_t pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < ids->via.array.size; i++) {
            char id[EV_ID_LEN_MAX + 1], other[EV_ID_LEN_MAX + 1];
            hu_t hu;
            bool found;
            if (!eng__id_at(ids, i, id, sizeof(id)))
                return eng__refuse(r, FL_EINVALID_VALUE, "hu_ids[%u] is not an id", i);
            if ((rc = eng__hu_get(r, id, &hu, &found)) != 0)
                return rc;
            if (pass == 0) {
                if (!found || strcmp(hu.holder, holder) != 0)
                    return eng__refuse(r, FL_ERULE_STATE, "hu-%s is not on ship-%s", id, ship_id);
                for (uint32_t j = 0; j < i; j++)
                    if (eng__id_at(ids, j, other, sizeof(other)) && strcmp(id, other) == 0)
                        return eng__refuse(r, FL_ERULE_STATE, "hu-%s is listed twice", id);
                continue;
            }
            hu.holder[0] = '\0';
            ship.count--;
            if ((rc = eng__hu_put(r, id, &hu)) != 0 ||
                (rc = eng__member_set(r, group, id, false)) != 0)
                return rc;
            if ((rc = eng__hu_visit(r, id, eng__hu_move_one, to)) != 0)
                return rc;
        }
    }
    return record_save(r, "ship", ship_id, &ship, SHIP_PLANNED);
}

static int ship_one(rule_t *r, const char *id, hu_t *hu, void *data)
{
    hu_t old = *hu;
    hu->status = HU_SHIPPED;
    hu->holder[0] = '\0';
    eng__cat(hu->location, sizeof(hu->location), (const char *)data, "");
    return eng__hu_update(r, id, &old, hu);
}

static int ship_member(rule_t *r, const char *id, void *data)
{
    return eng__hu_visit(r, id, ship_one, data);
}

/* ShipmentDispatched: everything loaded leaves, as shipped stock at the customer. */
int eng__rule_shipment_dispatched(rule_t *r)
{
    char ship_id[EV_ID_LEN_MAX + 1], to[EV_ID_LEN_MAX + 1], group[EV_NAME_LEN_MAX + 1];
    record_t ship;
    int rc = ship_open(r, ship_id, &ship);
    if (rc != 0 || r->code != 0)
        return rc;
    if (!eng__text(&r->payload, "to_location_id", to, sizeof(to)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no destination");
    if (ship.count == 0)
        return eng__refuse(r, FL_ERULE_STATE, "ship-%s is empty: load it first", ship_id);
    eng__cat(group, sizeof(group), "ship-", ship_id);
    if ((rc = eng__members_each(r, group, ship_member, to)) != 0)
        return rc;
    return record_save(r, "ship", ship_id, &ship, SHIP_DISPATCHED);
}

/* ---- subcontracting: a lot of units sent, goods coming back until the lot balances */

static int sublot_get(rule_t *r, const char *id, sublot_t *lot, bool *found)
{
    return eng__state_get(r, r->ledger->dbi_records, "sublot", id, lot, sizeof(*lot), found);
}

int eng__rule_lot_sent(rule_t *r)
{
    char lot_id[EV_ID_LEN_MAX + 1], from[EV_ID_LEN_MAX + 1], to[EV_ID_LEN_MAX + 1];
    char group[EV_NAME_LEN_MAX + 1];
    const msgpack_object *ids = eng__member(&r->payload, "hu_ids");
    sublot_t lot;
    int64_t qty, sum = 0;
    bool found;
    if (!eng__text(&r->payload, "sublot_id", lot_id, sizeof(lot_id)) ||
        !eng__text(&r->payload, "from_location_id", from, sizeof(from)) ||
        !eng__text(&r->payload, "to_location_id", to, sizeof(to)) || ids == NULL ||
        ids->type != MSGPACK_OBJECT_ARRAY || ids->via.array.size == 0 ||
        !eng__number(&r->payload, "qty_milli", &qty))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe a lot");
    int rc = sublot_get(r, lot_id, &lot, &found);
    if (rc != 0)
        return rc;
    if (found)
        return eng__refuse(r, FL_ERULE_STATE, "sublot-%s already exists", lot_id);
    lot = (sublot_t){.format = 1, .state = SUBLOT_OPEN, .sent_milli = qty};
    if (!eng__text(&r->payload, "sub_id", lot.sub, sizeof(lot.sub)) ||
        !eng__text(&r->payload, "unit", lot.unit, sizeof(lot.unit)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe a lot");
    eng__cat(lot.location, sizeof(lot.location), to, "");
    eng__cat(group, sizeof(group), "sublot-", lot_id);
    for (uint32_t i = 0; i < ids->via.array.size; i++) { /* check everything first */
        char id[EV_ID_LEN_MAX + 1], other[EV_ID_LEN_MAX + 1];
        hu_t hu;
        if (!eng__id_at(ids, i, id, sizeof(id)))
            return eng__refuse(r, FL_EINVALID_VALUE, "hu_ids[%u] is not an id", i);
        for (uint32_t j = 0; j < i; j++)
            if (eng__id_at(ids, j, other, sizeof(other)) && strcmp(id, other) == 0)
                return eng__refuse(r, FL_ERULE_STATE, "hu-%s is listed twice", id);
        if ((rc = eng__hu_get(r, id, &hu, &found)) != 0 || !eng__hu_usable(r, id, &hu, found))
            return rc;
        if (hu.parent[0] != '\0' || strcmp(hu.location, from) != 0)
            return eng__refuse(r, FL_ERULE_HU_LOCATION, "hu-%s is not loose at loc-%s", id, from);
        if (strcmp(hu.unit, lot.unit) != 0)
            return eng__refuse(r, FL_ERULE_CONSERVATION, "hu-%s is counted in %s, the lot in %s",
                               id, hu.unit, lot.unit);
        if (i == 0)
            eng__cat(lot.item, sizeof(lot.item), hu.item, "");
        sum += hu.qty_milli;
    }
    if (sum != qty)
        return eng__refuse(r, FL_ERULE_CONSERVATION,
                           "sublot-%s declares %lld thousandths of %s, its units hold %lld", lot_id,
                           (long long)qty, lot.unit, (long long)sum);
    for (uint32_t i = 0; i < ids->via.array.size && rc == 0; i++) {
        char id[EV_ID_LEN_MAX + 1];
        hu_t hu;
        eng__id_at(ids, i, id, sizeof(id));
        if ((rc = eng__hu_visit(r, id, eng__hu_move_one, to)) != 0 ||
            (rc = eng__hu_get(r, id, &hu, &found)) != 0)
            break;
        eng__cat(hu.holder, sizeof(hu.holder), "sublot:", lot_id);
        if ((rc = eng__hu_put(r, id, &hu)) == 0)
            rc = eng__member_set(r, group, id, true);
    }
    return rc != 0 ? rc
                   : eng__state_put(r, r->ledger->dbi_records, "sublot", lot_id, &lot, sizeof(lot));
}

/* What comes back is taken out of the lot's units in the order they were sent. */
typedef struct {
    int64_t left;     /* still to take */
    const char *made; /* entity names of the returned units, for the links */
    const char *made2;
    const char *group;
} settle_t;

static int settle_member(rule_t *r, const char *id, void *data)
{
    settle_t *settle = data;
    hu_t hu;
    bool found;
    int rc = eng__hu_get(r, id, &hu, &found);
    if (rc != 0 || !found)
        return rc != 0 ? rc : MDB_CORRUPTED;
    int64_t take = hu.qty_milli < settle->left ? hu.qty_milli : settle->left;
    if (take == 0)
        return 0;
    settle->left -= take;
    if ((rc = eng__hu_take(r, id, &hu, take)) != 0)
        return rc;
    char name[EV_NAME_LEN_MAX + 1];
    eng__cat(name, sizeof(name), "hu-", id);
    if (settle->made[0] != '\0' && (rc = eng__link_add(r, name, settle->made, "subcontract")) != 0)
        return rc;
    if (settle->made2[0] != '\0' &&
        (rc = eng__link_add(r, name, settle->made2, "subcontract")) != 0)
        return rc;
    if (hu.qty_milli == 0) { /* used up: no longer at the subcontractor */
        hu.holder[0] = '\0';
        if ((rc = eng__hu_put(r, id, &hu)) != 0)
            return rc;
        return eng__member_set(r, settle->group, id, false);
    }
    return 0;
}

/* A unit made by a return, if its quantity is not zero. */
static int returned_unit(rule_t *r, const sublot_t *lot, const char *id_field, int64_t qty,
                         uint8_t status, const char *to, char *name, size_t name_size)
{
    char id[EV_ID_LEN_MAX + 1];
    name[0] = '\0';
    if (qty == 0)
        return 0;
    if (!eng__text(&r->payload, id_field, id, sizeof(id))) {
        if (status == HU_REJECTED)
            return 0; /* rejects left at the subcontractor, written off: no unit comes back */
        return eng__refuse(r, FL_EINVALID_VALUE, "%s is needed for a quantity of %lld", id_field,
                           (long long)qty);
    }
    hu_t hu = {.format = HU_FORMAT, .status = status, .created_seq = r->seq, .qty_milli = qty};
    bool found;
    int rc = eng__hu_get(r, id, &(hu_t){0}, &found);
    if (rc != 0)
        return rc;
    if (found)
        return eng__refuse(r, FL_ERULE_HU_EXISTS, "hu-%s already exists (label reused?)", id);
    if (!eng__text(&r->payload, "item_id", hu.item, sizeof(hu.item)))
        eng__cat(hu.item, sizeof(hu.item), lot->item, "");
    eng__cat(hu.unit, sizeof(hu.unit), lot->unit, "");
    eng__cat(hu.location, sizeof(hu.location), to, "");
    hu.grade = eng__grade(&r->payload);
    snprintf(name, name_size, "hu-%s", id);
    return eng__hu_update(r, id, NULL, &hu);
}

/* LotReturnedFromSubcontractor: good + rejected + lost + allowance never pass what is out; a
 * return that closes the lot settles it exactly, the allowance within its bound. */
int eng__rule_lot_returned(rule_t *r)
{
    char lot_id[EV_ID_LEN_MAX + 1], sub[EV_ID_LEN_MAX + 1], to[EV_ID_LEN_MAX + 1];
    char group[EV_NAME_LEN_MAX + 1], good_name[EV_NAME_LEN_MAX + 1];
    char rejected_name[EV_NAME_LEN_MAX + 1];
    int64_t good, rejected, lost, allowance;
    const msgpack_object *closes = eng__member(&r->payload, "closes_lot");
    sublot_t lot;
    bool found;
    if (!eng__text(&r->payload, "sublot_id", lot_id, sizeof(lot_id)) ||
        !eng__text(&r->payload, "sub_id", sub, sizeof(sub)) ||
        !eng__text(&r->payload, "to_location_id", to, sizeof(to)) ||
        !eng__number(&r->payload, "good_qty_milli", &good) ||
        !eng__number(&r->payload, "rejected_qty_milli", &rejected) ||
        !eng__number(&r->payload, "lost_qty_milli", &lost) ||
        !eng__number(&r->payload, "allowance_qty_milli", &allowance) || closes == NULL ||
        closes->type != MSGPACK_OBJECT_BOOLEAN)
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe a return");
    int rc = sublot_get(r, lot_id, &lot, &found);
    if (rc != 0)
        return rc;
    if (!found || lot.state != SUBLOT_OPEN || strcmp(lot.sub, sub) != 0)
        return eng__refuse(r, FL_ERULE_STATE, "sublot-%s is not open at sub-%s", lot_id, sub);
    int64_t out =
        lot.sent_milli - lot.good_milli - lot.rejected_milli - lot.lost_milli - lot.allowance_milli;
    int64_t back = good + rejected + lost + allowance;
    int64_t allowance_max = lot.sent_milli * SUBCONTRACT_ALLOWANCE_MAX_PERMILLE / 1000;
    if (back > out)
        return eng__refuse(r, FL_ERULE_CONSERVATION,
                           "sublot-%s has %lld thousandths of %s out: %lld cannot come back",
                           lot_id, (long long)out, lot.unit, (long long)back);
    if (closes->via.boolean && back != out)
        return eng__refuse(r, FL_ERULE_CONSERVATION,
                           "closing sublot-%s: %lld out but %lld accounted for (good, rejected, "
                           "lost, allowance)",
                           lot_id, (long long)out, (long long)back);
    if (lot.allowance_milli + allowance > allowance_max)
        return eng__refuse(r, FL_ERULE_CONSERVATION,
                           "sublot-%s: an allowance of %lld passes the bound of %lld (%d per "
                           "mille of what was sent); declare the rest as lost",
                           lot_id, (long long)(lot.allowance_milli + allowance),
                           (long long)allowance_max, SUBCONTRACT_ALLOWANCE_MAX_PERMILLE);
    if ((rc = returned_unit(r, &lot, "good_hu_id", good, HU_AVAILABLE, to, good_name,
                            sizeof(good_name))) != 0 ||
        r->code != 0 ||
        (rc = returned_unit(r, &lot, "rejected_hu_id", rejected, HU_REJECTED, to, rejected_name,
                            sizeof(rejected_name))) != 0 ||
        r->code != 0)
        return rc;
    eng__cat(group, sizeof(group), "sublot-", lot_id);
    settle_t settle = {.left = back, .made = good_name, .made2 = rejected_name, .group = group};
    if ((rc = eng__members_each(r, group, settle_member, &settle)) != 0)
        return rc;
    if (settle.left != 0)
        return MDB_CORRUPTED; /* the units sent no longer hold what the lot says is out */
    lot.good_milli += good;
    lot.rejected_milli += rejected;
    lot.lost_milli += lost;
    lot.allowance_milli += allowance;
    if (closes->via.boolean)
        lot.state = SUBLOT_CLOSED;
    return eng__state_put(r, r->ledger->dbi_records, "sublot", lot_id, &lot, sizeof(lot));
}

/* ---- counts: opened on locations, units counted there, closed; adjustments after */

int eng__rule_count_opened(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1], group[EV_NAME_LEN_MAX + 1];
    const msgpack_object *locations = eng__member(&r->payload, "location_ids");
    record_t count;
    bool found;
    int rc = record_load(r, "count", "count_id", id, &count, &found);
    if (rc != 0 || r->code != 0)
        return rc;
    if (found)
        return eng__refuse(r, FL_ERULE_STATE, "count-%s already exists", id);
    if (locations == NULL || locations->type != MSGPACK_OBJECT_ARRAY)
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no locations");
    eng__cat(group, sizeof(group), "count-", id);
    for (uint32_t i = 0; i < locations->via.array.size && rc == 0; i++) {
        char location[EV_ID_LEN_MAX + 1];
        if (!eng__id_at(locations, i, location, sizeof(location)))
            return eng__refuse(r, FL_EINVALID_VALUE, "location_ids[%u] is not an id", i);
        rc = eng__member_set(r, group, location, true);
    }
    count.count = locations->via.array.size;
    return rc != 0 ? rc : record_save(r, "count", id, &count, COUNT_OPEN);
}

/* A count session named by count_id in the payload, in state `state`. */
const char *const eng__count_states[] = {"", "open", "closed"};
const char *const eng__sublot_states[] = {"", "open", "closed"};

static int count_in(rule_t *r, char *id, record_t *count, uint8_t state)
{
    const char *const *states = eng__count_states;
    bool found;
    int rc = record_load(r, "count", "count_id", id, count, &found);
    if (rc != 0 || r->code != 0)
        return rc;
    if (!found)
        return eng__refuse(r, FL_ERULE_STATE, "no count session count-%s", id);
    if (count->state != state)
        return eng__refuse(r, FL_ERULE_STATE, "count-%s is %s, not %s", id, states[count->state],
                           states[state]);
    return 0;
}

int eng__rule_item_counted(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1], location[EV_ID_LEN_MAX + 1], group[EV_NAME_LEN_MAX + 1];
    record_t count;
    bool in_scope;
    int rc = count_in(r, id, &count, COUNT_OPEN);
    if (rc != 0 || r->code != 0)
        return rc;
    if (!eng__text(&r->payload, "location_id", location, sizeof(location)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no location");
    eng__cat(group, sizeof(group), "count-", id);
    if ((rc = eng__member_has(r, group, location, &in_scope)) != 0)
        return rc;
    if (!in_scope)
        return eng__refuse(r, FL_ERULE_STATE, "loc-%s is not counted by count-%s", location, id);
    return 0;
}

int eng__rule_count_closed(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1];
    record_t count;
    int rc = count_in(r, id, &count, COUNT_OPEN);
    if (rc != 0 || r->code != 0)
        return rc;
    return record_save(r, "count", id, &count, COUNT_CLOSED);
}

/* InventoryAdjusted: book stock follows a closed count; never below zero. */
int eng__rule_inventory_adjusted(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1], hu_id[EV_ID_LEN_MAX + 1], item[EV_ID_LEN_MAX + 1];
    char location[EV_ID_LEN_MAX + 1];
    int64_t delta;
    record_t count;
    hu_t hu;
    int rc = count_in(r, id, &count, COUNT_CLOSED);
    if (rc != 0 || r->code != 0)
        return rc;
    if (!eng__text(&r->payload, "hu_id", hu_id, sizeof(hu_id)) ||
        !eng__text(&r->payload, "item_id", item, sizeof(item)) ||
        !eng__text(&r->payload, "location_id", location, sizeof(location)) ||
        !eng__number(&r->payload, "delta_qty_milli", &delta))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe an adjustment");
    if ((rc = eng__hu_known(r, hu_id, &hu)) != 0 || r->code != 0)
        return rc;
    if (strcmp(hu.item, item) != 0 || strcmp(hu.location, location) != 0)
        return eng__refuse(r, FL_ERULE_HU_LOCATION, "hu-%s holds item-%s at loc-%s", hu_id, hu.item,
                           hu.location);
    if (hu.status == HU_SHIPPED || hu.holder[0] != '\0')
        return eng__refuse(r, FL_ERULE_STATE, "hu-%s is not on the plant's shelves", hu_id);
    if (hu.qty_milli + delta < 0)
        return eng__refuse(r, FL_ERULE_NEGATIVE_STOCK,
                           "hu-%s holds %lld thousandths: an adjustment of %lld would go below "
                           "zero",
                           hu_id, (long long)hu.qty_milli, (long long)delta);
    hu_t old = hu;
    hu.qty_milli += delta;
    if (hu.qty_milli == 0)
        hu.status = HU_CONSUMED;
    else if (hu.status == HU_CONSUMED)
        hu.status = HU_AVAILABLE;
    return eng__hu_update(r, hu_id, &old, &hu);
}
