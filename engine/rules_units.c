/*
 * rules_units.c: handling units - created, moved with their contents, held, released,
 * rejected, cut into bundles, packed into cartons and onto pallets.
 */
#define _POSIX_C_SOURCE 200809L
#include "engine/rules_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTAINMENT_DEPTH_MAX    8    /* pallet > carton > bundle ... */
#define CONTAINMENT_CONTENTS_MAX 4096 /* units under one container */

typedef int (*hu_visit_fn)(rule_t *r, const char *id, hu_t *hu, void *data);

typedef struct {
    hu_visit_fn fn;
    void *data;
    uint32_t depth;
    uint32_t visited;
} visit_t;

static int visit_one(rule_t *r, const char *id, void *data)
{
    visit_t *visit = data;
    if (visit->depth > CONTAINMENT_DEPTH_MAX || ++visit->visited > CONTAINMENT_CONTENTS_MAX)
        return MDB_CORRUPTED; /* packing keeps the tree smaller than this */
    hu_t hu;
    bool found;
    int rc = eng__hu_get(r, id, &hu, &found);
    if (rc != 0)
        return rc;
    if (!found)
        return MDB_CORRUPTED; /* a member that is no unit */
    if ((rc = visit->fn(r, id, &hu, visit->data)) != 0 || r->code != 0)
        return rc;
    char group[EV_NAME_LEN_MAX + 1];
    eng__cat(group, sizeof(group), "hu-", id);
    visit->depth++;
    rc = eng__members_each(r, group, visit_one, visit);
    visit->depth--;
    return rc;
}

int eng__hu_visit(rule_t *r, const char *id, hu_visit_fn fn, void *data)
{
    visit_t visit = {.fn = fn, .data = data};
    return visit_one(r, id, &visit);
}

int eng__hu_move_one(rule_t *r, const char *id, hu_t *hu, void *data)
{
    hu_t old = *hu;
    eng__cat(hu->location, sizeof(hu->location), (const char *)data, "");
    return eng__hu_update(r, id, &old, hu);
}

/* Held lots do not move, even inside a container. */
static int check_movable(rule_t *r, const char *id, hu_t *hu, void *data)
{
    (void)data;
    if (hu->status == HU_ON_HOLD || hu->status == HU_REJECTED)
        return eng__refuse(r, FL_ERULE_HU_HELD, "hu-%s is %s: it may not move", id,
                           eng__hu_status_names[hu->status]);
    return 0;
}

/* Moves a unit with everything it contains, after checking that none of it is held. */
static int move_with_contents(rule_t *r, const char *id, const char *to)
{
    int rc = eng__hu_visit(r, id, check_movable, NULL);
    if (rc != 0 || r->code != 0)
        return rc;
    return eng__hu_visit(r, id, eng__hu_move_one, (void *)to);
}

/* A unit named by field `field` that may leave location `from` on its own: usable, in no
 * container, there. Returns 0 with the refusal set otherwise. */
static int hu_leaving(rule_t *r, const char *field, char *id, hu_t *hu, const char *from)
{
    bool found;
    if (!eng__text(&r->payload, field, id, EV_ID_LEN_MAX + 1))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no unit in %s", field);
    int rc = eng__hu_get(r, id, hu, &found);
    if (rc != 0 || !eng__hu_usable(r, id, hu, found))
        return rc;
    if (hu->parent[0] != '\0')
        return eng__refuse(r, FL_ERULE_CONTAINMENT,
                           "hu-%s is inside hu-%s: move the container, or unpack it first", id,
                           hu->parent);
    if (from != NULL && strcmp(hu->location, from) != 0)
        return eng__refuse(r, FL_ERULE_HU_LOCATION, "hu-%s is at loc-%s, not at loc-%s", id,
                           hu->location, from);
    return 0;
}

/* A whole unit asked to go from from_location_id to to_location_id: parsed, and checked by
 * hu_leaving. */
static int move_request(rule_t *r, char *id, char *to, hu_t *hu)
{
    char from[EV_ID_LEN_MAX + 1];
    if (!eng__text(&r->payload, "from_location_id", from, sizeof(from)) ||
        !eng__text(&r->payload, "to_location_id", to, EV_ID_LEN_MAX + 1))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe a move");
    return hu_leaving(r, "hu_id", id, hu, from);
}

/* StockTransferred, HUReceivedAtCutting: a whole unit, with its contents, to another place. */
int eng__rule_hu_moved(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1], to[EV_ID_LEN_MAX + 1];
    hu_t hu;
    int rc = move_request(r, id, to, &hu);
    if (rc != 0 || r->code != 0)
        return rc;
    return move_with_contents(r, id, to);
}

/* TransferDispatched: the unit leaves for to_location and is in transit (location "transit")
 * until TransferReceived there. */
int eng__rule_transfer_dispatched(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1], to[EV_ID_LEN_MAX + 1];
    hu_t hu;
    int rc = move_request(r, id, to, &hu);
    if (rc != 0 || r->code != 0 || (rc = move_with_contents(r, id, "transit")) != 0 || r->code != 0)
        return rc;
    if ((rc = eng__hu_get(r, id, &hu, &(bool){false})) != 0)
        return rc;
    eng__cat(hu.holder, sizeof(hu.holder), "to:", to);
    return eng__hu_put(r, id, &hu);
}

int eng__rule_transfer_received(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1], to[EV_ID_LEN_MAX + 1], expected[EV_NAME_LEN_MAX + 1];
    hu_t hu;
    if (!eng__text(&r->payload, "hu_id", id, sizeof(id)) ||
        !eng__text(&r->payload, "to_location_id", to, sizeof(to)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe a receipt");
    int rc = eng__hu_known(r, id, &hu);
    if (rc != 0 || r->code != 0)
        return rc;
    if (strncmp(hu.holder, "to:", 3) != 0)
        return eng__refuse(r, FL_ERULE_STATE, "hu-%s is not in transit", id);
    eng__cat(expected, sizeof(expected), "to:", to);
    if (strcmp(hu.holder, expected) != 0)
        return eng__refuse(r, FL_ERULE_HU_LOCATION, "hu-%s travels to loc-%s, not to loc-%s", id,
                           hu.holder + 3, to);
    hu.holder[0] = '\0';
    if ((rc = eng__hu_put(r, id, &hu)) != 0)
        return rc;
    return eng__hu_visit(r, id, eng__hu_move_one, to);
}

int eng__hu_take(rule_t *r, const char *id, hu_t *hu, int64_t qty)
{
    if (qty > hu->qty_milli)
        return eng__refuse(r, FL_ERULE_NEGATIVE_STOCK,
                           "hu-%s holds %lld thousandths of %s of item-%s: %lld cannot be taken",
                           id, (long long)hu->qty_milli, hu->unit, hu->item, (long long)qty);
    hu_t old = *hu;
    hu->qty_milli -= qty;
    if (hu->qty_milli == 0)
        hu->status = HU_CONSUMED;
    return eng__hu_update(r, id, &old, hu);
}

/* HUScrapped: stock written off, held or rejected units included (that is what scrap is for). */
int eng__rule_scrapped(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1];
    int64_t qty;
    hu_t hu;
    if (!eng__text(&r->payload, "hu_id", id, sizeof(id)) ||
        !eng__number(&r->payload, "qty_milli", &qty))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe a scrap");
    int rc = eng__hu_known(r, id, &hu);
    if (rc != 0 || r->code != 0)
        return rc;
    if (hu.status == HU_CONSUMED || hu.status == HU_SHIPPED || hu.holder[0] != '\0')
        return eng__refuse(r, FL_ERULE_STATE, "hu-%s is %s%s: it cannot be scrapped here", id,
                           eng__hu_status_names[hu.status], hu.holder[0] ? " and held" : "");
    return eng__hu_take(r, id, &hu, qty);
}

static int has_contents(rule_t *r, const char *id, void *data)
{
    (void)id;
    *(bool *)data = true;
    return eng__refuse(r, FL_ERULE_CONTAINMENT, "the unit holds other units: unpack it first");
}

/* HUVoided: a unit created in error disappears; it may hold nothing and be in nothing. */
int eng__rule_voided(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1], group[EV_NAME_LEN_MAX + 1];
    hu_t hu;
    bool full = false;
    if (!eng__text(&r->payload, "hu_id", id, sizeof(id)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no unit");
    int rc = eng__hu_known(r, id, &hu);
    if (rc != 0 || r->code != 0)
        return rc;
    if (hu.status == HU_CONSUMED || hu.status == HU_SHIPPED || hu.holder[0] != '\0' ||
        hu.parent[0] != '\0')
        return eng__refuse(r, FL_ERULE_STATE, "hu-%s is %s, in a container or held: it stays", id,
                           eng__hu_status_names[hu.status]);
    eng__cat(group, sizeof(group), "hu-", id);
    if ((rc = eng__members_each(r, group, has_contents, &full)) != 0 || full)
        return rc;
    return eng__hu_take(r, id, &hu, hu.qty_milli);
}

/* HUSplit: a unit into new ones that together hold exactly what it held. */
int eng__rule_split(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1];
    const msgpack_object *outputs = eng__member(&r->payload, "outputs");
    if (outputs == NULL || outputs->type != MSGPACK_OBJECT_ARRAY || outputs->via.array.size == 0)
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe a split");
    hu_t hu;
    int64_t sum;
    int rc = hu_leaving(r, "hu_id", id, &hu, NULL);
    if (rc != 0 || r->code != 0 || (rc = eng__cut_outputs_check(r, outputs, &sum)) != 0 ||
        r->code != 0)
        return rc;
    if (sum != hu.qty_milli)
        return eng__refuse(r, FL_ERULE_CONSERVATION,
                           "hu-%s holds %lld thousandths of %s: the new units hold %lld", id,
                           (long long)hu.qty_milli, hu.unit, (long long)sum);
    hu_t source = hu;
    if ((rc = eng__hu_take(r, id, &hu, sum)) != 0)
        return rc;
    char from[EV_NAME_LEN_MAX + 1], to[EV_NAME_LEN_MAX + 1];
    eng__cat(from, sizeof(from), "hu-", id);
    for (uint32_t i = 0; i < outputs->via.array.size && rc == 0; i++) {
        char out_id[EV_ID_LEN_MAX + 1];
        hu_t part = source;
        part.created_seq = r->seq;
        part.out_milli = 0;
        eng__text(&outputs->via.array.ptr[i], "hu_id", out_id, sizeof(out_id));
        eng__number(&outputs->via.array.ptr[i], "qty_milli", &part.qty_milli);
        eng__cat(to, sizeof(to), "hu-", out_id);
        if ((rc = eng__hu_update(r, out_id, NULL, &part)) == 0)
            rc = eng__link_add(r, from, to, "split");
    }
    return rc;
}

/* MaterialIssuedToLoom: yarn from its unit to a loom, for the order the loom runs. The unit
 * keeps track of what is out on the floor, for MaterialReturned. */
int eng__rule_material_issued(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1], from[EV_ID_LEN_MAX + 1], loom_id[EV_ID_LEN_MAX + 1];
    char order_id[EV_ID_LEN_MAX + 1], name[EV_NAME_LEN_MAX + 1], order[EV_NAME_LEN_MAX + 1];
    int64_t qty;
    loom_t loom;
    bool found;
    if (!eng__text(&r->payload, "from_location_id", from, sizeof(from)) ||
        !eng__text(&r->payload, "loom_id", loom_id, sizeof(loom_id)) ||
        !eng__text(&r->payload, "of_id", order_id, sizeof(order_id)) ||
        !eng__number(&r->payload, "qty_milli", &qty))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe an issue");
    hu_t hu;
    int rc = hu_leaving(r, "hu_id", id, &hu, from);
    if (rc != 0 || r->code != 0)
        return rc;
    rc = eng__state_get(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom), &found);
    if (rc != 0)
        return rc;
    if (!found || strcmp(loom.order, order_id) != 0)
        return eng__refuse(r, FL_ERULE_STATE, "of-%s is not in progress on loom-%s", order_id,
                           loom_id);
    hu.out_milli += qty;
    if ((rc = eng__hu_take(r, id, &hu, qty)) != 0 || r->code != 0)
        return rc;
    eng__cat(name, sizeof(name), "hu-", id);
    eng__cat(order, sizeof(order), "of-", order_id);
    return eng__link_add(r, name, order, "yarn");
}

/* MaterialReturned: what was issued and not used comes back to its unit. */
int eng__rule_material_returned(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1], to[EV_ID_LEN_MAX + 1];
    int64_t qty;
    hu_t hu;
    if (!eng__text(&r->payload, "hu_id", id, sizeof(id)) ||
        !eng__text(&r->payload, "to_location_id", to, sizeof(to)) ||
        !eng__number(&r->payload, "qty_milli", &qty))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe a return");
    int rc = eng__hu_known(r, id, &hu);
    if (rc != 0 || r->code != 0)
        return rc;
    if (qty > hu.out_milli)
        return eng__refuse(r, FL_ERULE_CONSERVATION,
                           "hu-%s has %lld thousandths of %s out on the floor: %lld cannot come "
                           "back",
                           id, (long long)hu.out_milli, hu.unit, (long long)qty);
    if (hu.qty_milli > 0 && strcmp(hu.location, to) != 0)
        return eng__refuse(r, FL_ERULE_HU_LOCATION, "hu-%s is at loc-%s: return it there", id,
                           hu.location);
    hu_t old = hu;
    hu.qty_milli += qty;
    hu.out_milli -= qty;
    if (hu.status == HU_CONSUMED)
        hu.status = HU_AVAILABLE;
    eng__cat(hu.location, sizeof(hu.location), to, "");
    return eng__hu_update(r, id, &old, &hu);
}

/* SparePartIssued: a part taken from its unit's stock. */
int eng__rule_spare_part_issued(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1], from[EV_ID_LEN_MAX + 1], item[EV_ID_LEN_MAX + 1];
    int64_t qty;
    if (!eng__text(&r->payload, "from_location_id", from, sizeof(from)) ||
        !eng__text(&r->payload, "item_id", item, sizeof(item)) ||
        !eng__number(&r->payload, "qty_milli", &qty))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe an issue");
    hu_t hu;
    int rc = hu_leaving(r, "hu_id", id, &hu, from);
    if (rc != 0 || r->code != 0)
        return rc;
    if (strcmp(hu.item, item) != 0)
        return eng__refuse(r, FL_ERULE_STATE, "hu-%s holds item-%s, not item-%s", id, hu.item,
                           item);
    return eng__hu_take(r, id, &hu, qty);
}

/* LabelPrinted once per unit; LabelReprinted replaces a printed one. */
static int label(rule_t *r, bool reprint)
{
    char id[EV_ID_LEN_MAX + 1];
    hu_t hu;
    record_t record;
    bool found, printed;
    if (!eng__text(&r->payload, "hu_id", id, sizeof(id)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no unit");
    int rc = eng__hu_get(r, id, &hu, &found);
    if (rc == 0)
        rc = eng__state_get(r, r->ledger->dbi_records, "label", id, &record, sizeof(record),
                            &printed);
    if (rc != 0)
        return rc;
    if (!found)
        return eng__refuse(r, FL_ERULE_HU_UNKNOWN, "no handling unit hu-%s in this plant", id);
    if (printed && !reprint)
        return eng__refuse(r, FL_ERULE_STATE,
                           "hu-%s already has its label: print another with LabelReprinted", id);
    if (!printed && reprint)
        return eng__refuse(r, FL_ERULE_STATE, "hu-%s has no label to reprint yet", id);
    record.format = 1;
    record.count++;
    record.since_seq = r->seq;
    return eng__state_put(r, r->ledger->dbi_records, "label", id, &record, sizeof(record));
}

int eng__rule_label_printed(rule_t *r)
{
    return label(r, false);
}

int eng__rule_label_reprinted(rule_t *r)
{
    return label(r, true);
}

/* LotPutOnHold, LotReleased, LotRejected: the quality verdicts, each from the statuses it may
 * follow. */
static int quality_verdict(rule_t *r, uint8_t to, uint32_t from_mask)
{
    char id[EV_ID_LEN_MAX + 1];
    if (!eng__text(&r->payload, "hu_id", id, sizeof(id)))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload names no unit");
    hu_t hu, old;
    int rc = eng__hu_known(r, id, &hu);
    if (rc != 0 || r->code != 0)
        return rc;
    if (!(from_mask & (1u << hu.status)))
        return eng__refuse(r, FL_ERULE_STATE, "hu-%s is %s: it cannot become %s", id,
                           eng__hu_status_names[hu.status], eng__hu_status_names[to]);
    old = hu;
    hu.status = to;
    return eng__hu_update(r, id, &old, &hu);
}

int eng__rule_hold(rule_t *r)
{
    return quality_verdict(r, HU_ON_HOLD, FROM(HU_AVAILABLE) | FROM(HU_RELEASED));
}

int eng__rule_release(rule_t *r)
{
    return quality_verdict(r, HU_RELEASED, FROM(HU_AVAILABLE) | FROM(HU_ON_HOLD));
}

/* DeviationApproved: a held unit may be used all the same. */
int eng__rule_deviation(rule_t *r)
{
    return quality_verdict(r, HU_RELEASED, FROM(HU_ON_HOLD));
}

int eng__rule_reject(rule_t *r)
{
    return quality_verdict(r, HU_REJECTED,
                           FROM(HU_AVAILABLE) | FROM(HU_ON_HOLD) | FROM(HU_RELEASED));
}

/* GoodsReceived, ProductionDeclared: a new unit, available where it was made or received. */
int eng__rule_hu_created(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1];
    hu_t hu = {.format = HU_FORMAT, .status = HU_AVAILABLE, .created_seq = r->seq}, existing;
    bool found;
    if (!eng__text(&r->payload, "hu_id", id, sizeof(id)) ||
        !eng__text(&r->payload, "item_id", hu.item, sizeof(hu.item)) ||
        !eng__text(&r->payload, "location_id", hu.location, sizeof(hu.location)) ||
        !eng__text(&r->payload, "unit", hu.unit, sizeof(hu.unit)) ||
        !eng__number(&r->payload, "qty_milli", &hu.qty_milli) || hu.qty_milli <= 0)
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe a new unit");
    hu.grade = eng__grade(&r->payload);
    int rc = eng__hu_get(r, id, &existing, &found);
    if (rc != 0)
        return rc;
    if (found)
        return eng__refuse(r, FL_ERULE_HU_EXISTS, "hu-%s already exists (label reused?)", id);
    return eng__hu_update(r, id, NULL, &hu);
}

/* The outputs of a cut: new, distinct units. Returns the sum of their quantities via *sum. */
int eng__cut_outputs_check(rule_t *r, const msgpack_object *outputs, int64_t *sum)
{
    *sum = 0;
    for (uint32_t i = 0; i < outputs->via.array.size; i++) {
        const msgpack_object *output = &outputs->via.array.ptr[i];
        char id[EV_ID_LEN_MAX + 1], other[EV_ID_LEN_MAX + 1];
        int64_t qty;
        if (!eng__text(output, "hu_id", id, sizeof(id)) || !eng__number(output, "qty_milli", &qty))
            return eng__refuse(r, FL_EINVALID_VALUE, "outputs[%u] is not a bundle", i);
        for (uint32_t j = 0; j < i; j++)
            if (eng__text(&outputs->via.array.ptr[j], "hu_id", other, sizeof(other)) &&
                strcmp(id, other) == 0)
                return eng__refuse(r, FL_ERULE_HU_EXISTS, "hu-%s is made twice by this cut", id);
        hu_t existing;
        bool found;
        int rc = eng__hu_get(r, id, &existing, &found);
        if (rc != 0)
            return rc;
        if (found)
            return eng__refuse(r, FL_ERULE_HU_EXISTS, "hu-%s already exists (label reused?)", id);
        *sum += qty;
    }
    return 0;
}

/* CuttingDeclared: consumed = first + second + waste within the article's tolerance; the input
 * gives up what was consumed; each output is a new unit where the cut happened. */
int eng__rule_cut(rule_t *r)
{
    char input_id[EV_ID_LEN_MAX + 1], unit[8], location[EV_ID_LEN_MAX + 1];
    int64_t consumed, waste;
    const msgpack_object *outputs = eng__member(&r->payload, "outputs");
    if (!eng__text(&r->payload, "input_hu_id", input_id, sizeof(input_id)) ||
        !eng__text(&r->payload, "unit", unit, sizeof(unit)) ||
        !eng__text(&r->payload, "location_id", location, sizeof(location)) ||
        !eng__number(&r->payload, "consumed_qty_milli", &consumed) ||
        !eng__number(&r->payload, "waste_qty_milli", &waste) || outputs == NULL ||
        outputs->type != MSGPACK_OBJECT_ARRAY)
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe a cut");
    hu_t input, old;
    bool found;
    article_t article;
    int64_t made;
    int rc = eng__hu_get(r, input_id, &input, &found);
    if (rc != 0 || !eng__hu_usable(r, input_id, &input, found))
        return rc;
    if (strcmp(input.unit, unit) != 0)
        return eng__refuse(r, FL_ERULE_CONSERVATION, "hu-%s is counted in %s, the cut in %s",
                           input_id, input.unit, unit);
    if (consumed > input.qty_milli)
        return eng__refuse(r, FL_ERULE_NEGATIVE_STOCK,
                           "hu-%s holds %lld thousandths of %s, the cut consumes %lld", input_id,
                           (long long)input.qty_milli, unit, (long long)consumed);
    if ((rc = eng__article_get(r, input.item, &article)) != 0 ||
        (rc = eng__cut_outputs_check(r, outputs, &made)) != 0 || r->code != 0)
        return rc;
    int64_t difference = consumed - (made + waste);
    int64_t allowed = consumed * article.cutting_tolerance_permille / 1000;
    if (difference > allowed || -difference > allowed)
        return eng__refuse(
            r, FL_ERULE_CONSERVATION,
            "cutting hu-%s: consumed %lld but bundles + waste = %lld (tolerance %lld, "
            "item-%s)",
            input_id, (long long)consumed, (long long)(made + waste), (long long)allowed,
            input.item);
    /* Every check passed: now write. */
    old = input;
    input.qty_milli -= consumed;
    if (input.qty_milli == 0)
        input.status = HU_CONSUMED;
    if ((rc = eng__hu_update(r, input_id, &old, &input)) != 0)
        return rc;
    for (uint32_t i = 0; i < outputs->via.array.size && rc == 0; i++) {
        const msgpack_object *output = &outputs->via.array.ptr[i];
        char id[EV_ID_LEN_MAX + 1];
        hu_t bundle = {.format = HU_FORMAT, .status = HU_AVAILABLE, .created_seq = r->seq};
        eng__text(output, "hu_id", id, sizeof(id));
        eng__number(output, "qty_milli", &bundle.qty_milli);
        if (!eng__text(output, "item_id", bundle.item, sizeof(bundle.item)))
            eng__cat(bundle.item, sizeof(bundle.item), input.item, "");
        eng__cat(bundle.unit, sizeof(bundle.unit), unit, "");
        eng__cat(bundle.location, sizeof(bundle.location), location, "");
        bundle.grade = eng__grade(output);
        char from[EV_NAME_LEN_MAX + 1], to[EV_NAME_LEN_MAX + 1];
        eng__cat(from, sizeof(from), "hu-", input_id);
        eng__cat(to, sizeof(to), "hu-", id);
        if ((rc = eng__hu_update(r, id, NULL, &bundle)) == 0)
            rc = eng__link_add(r, from, to, "cut");
    }
    return rc;
}

/* ---- packing: containment stays a tree of released units */

/* Whether `ancestor` contains `id`, directly or not. */
static int contains(rule_t *r, const char *ancestor, const char *id, bool *result)
{
    char current[EV_ID_LEN_MAX + 1];
    eng__cat(current, sizeof(current), id, "");
    *result = false;
    for (int depth = 0; depth <= CONTAINMENT_DEPTH_MAX; depth++) {
        hu_t hu;
        bool found;
        int rc = eng__hu_get(r, current, &hu, &found);
        if (rc != 0 || !found || hu.parent[0] == '\0')
            return rc;
        if (strcmp(hu.parent, ancestor) == 0) {
            *result = true;
            return 0;
        }
        eng__cat(current, sizeof(current), hu.parent, "");
    }
    return MDB_CORRUPTED;
}

/* Checks one unit to go into the container at location; returns false with the refusal set. */
static int pack_check(rule_t *r, const char *container, const char *location, const char *id,
                      hu_t *hu, bool *ok)
{
    bool found, cycle;
    *ok = false;
    int rc = eng__hu_get(r, id, hu, &found);
    if (rc != 0 || !eng__hu_usable(r, id, hu, found))
        return rc;
    if (hu->status != HU_RELEASED)
        return eng__refuse(r, FL_ERULE_STATE, "hu-%s is %s: only released units are packed", id,
                           eng__hu_status_names[hu->status]);
    if (strcmp(id, container) == 0)
        return eng__refuse(r, FL_ERULE_CONTAINMENT, "hu-%s cannot contain itself", id);
    if (hu->parent[0] != '\0')
        return eng__refuse(r, FL_ERULE_CONTAINMENT, "hu-%s is already in hu-%s", id, hu->parent);
    if (strcmp(hu->location, location) != 0)
        return eng__refuse(r, FL_ERULE_HU_LOCATION, "hu-%s is at loc-%s, not at loc-%s", id,
                           hu->location, location);
    if ((rc = contains(r, id, container, &cycle)) != 0)
        return rc;
    if (cycle)
        return eng__refuse(r, FL_ERULE_CONTAINMENT,
                           "hu-%s contains hu-%s: packing it would make a "
                           "cycle",
                           id, container);
    *ok = true;
    return 0;
}

/* HUPacked, HUPalletized: released units at one location into a carton or a pallet, made on
 * first use. The contents keep their stock; the container holds none of its own. */
static int pack_into(rule_t *r, const char *container_field)
{
    char container[EV_ID_LEN_MAX + 1], location[EV_ID_LEN_MAX + 1];
    const msgpack_object *ids = eng__member(&r->payload, "hu_ids");
    if (!eng__text(&r->payload, container_field, container, sizeof(container)) ||
        !eng__text(&r->payload, "location_id", location, sizeof(location)) || ids == NULL ||
        ids->type != MSGPACK_OBJECT_ARRAY || ids->via.array.size == 0)
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe a packing");
    hu_t box, first, content;
    bool found;
    int rc = eng__hu_get(r, container, &box, &found);
    if (rc != 0)
        return rc;
    if (found && !eng__hu_usable(r, container, &box, found))
        return 0;
    if (found && (strcmp(box.location, location) != 0 || box.parent[0] != '\0'))
        return eng__refuse(r, FL_ERULE_CONTAINMENT, "hu-%s is not open for packing at loc-%s",
                           container, location);
    for (uint32_t i = 0; i < ids->via.array.size; i++) { /* check everything first */
        const msgpack_object *item = &ids->via.array.ptr[i];
        char id[EV_ID_LEN_MAX + 1];
        bool ok;
        if (item->type != MSGPACK_OBJECT_STR || item->via.str.size >= sizeof(id))
            return eng__refuse(r, FL_EINVALID_VALUE, "hu_ids[%u] is not an id", i);
        memcpy(id, item->via.str.ptr, item->via.str.size);
        id[item->via.str.size] = '\0';
        for (uint32_t j = 0; j < i; j++)
            if (ids->via.array.ptr[j].via.str.size == item->via.str.size &&
                memcmp(ids->via.array.ptr[j].via.str.ptr, id, item->via.str.size) == 0)
                return eng__refuse(r, FL_ERULE_CONTAINMENT, "hu-%s is listed twice", id);
        if ((rc = pack_check(r, container, location, id, i == 0 ? &first : &content, &ok)) != 0 ||
            !ok)
            return rc;
    }
    if (!found) {
        box = (hu_t){.format = HU_FORMAT, .status = HU_RELEASED, .created_seq = r->seq};
        eng__cat(box.item, sizeof(box.item), first.item, "");
        eng__cat(box.unit, sizeof(box.unit), first.unit, "");
        eng__cat(box.location, sizeof(box.location), location, "");
        if ((rc = eng__hu_put(r, container, &box)) != 0)
            return rc;
    }
    char container_name[EV_NAME_LEN_MAX + 1], content_name[EV_NAME_LEN_MAX + 1];
    eng__cat(container_name, sizeof(container_name), "hu-", container);
    for (uint32_t i = 0; i < ids->via.array.size && rc == 0; i++) {
        const msgpack_object *item = &ids->via.array.ptr[i];
        char id[EV_ID_LEN_MAX + 1];
        hu_t hu;
        memcpy(id, item->via.str.ptr, item->via.str.size);
        id[item->via.str.size] = '\0';
        if ((rc = eng__hu_get(r, id, &hu, &found)) != 0)
            break;
        eng__cat(hu.parent, sizeof(hu.parent), container, "");
        eng__cat(content_name, sizeof(content_name), "hu-", id);
        if ((rc = eng__hu_put(r, id, &hu)) == 0 &&
            (rc = eng__member_set(r, container_name, id, true)) == 0)
            rc = eng__link_add(r, content_name, container_name, "packed_in");
    }
    return rc;
}

int eng__rule_packed(rule_t *r)
{
    return pack_into(r, "carton_hu_id");
}

int eng__rule_palletized(rule_t *r)
{
    return pack_into(r, "pallet_hu_id");
}

/* HUUnpacked: units out of their container, where the container is. */
int eng__rule_unpacked(rule_t *r)
{
    char container[EV_ID_LEN_MAX + 1], group[EV_NAME_LEN_MAX + 1];
    const msgpack_object *ids = eng__member(&r->payload, "hu_ids");
    if (!eng__text(&r->payload, "container_hu_id", container, sizeof(container)) || ids == NULL ||
        ids->type != MSGPACK_OBJECT_ARRAY)
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe an unpacking");
    eng__cat(group, sizeof(group), "hu-", container);
    /* Nothing leaves a container that something holds, at any level: loaded on a shipment, in
     * transit, at a subcontractor. */
    char at[EV_ID_LEN_MAX + 1];
    eng__cat(at, sizeof(at), container, "");
    int rc = 0;
    for (int depth = 0; depth <= CONTAINMENT_DEPTH_MAX && at[0] != '\0'; depth++) {
        hu_t box;
        bool box_found;
        if ((rc = eng__hu_get(r, at, &box, &box_found)) != 0)
            return rc;
        if (!box_found)
            break;
        if (box.holder[0] != '\0')
            return eng__refuse(r, FL_ERULE_STATE, "hu-%s is held by %s: unload it first", at,
                               box.holder);
        eng__cat(at, sizeof(at), box.parent, "");
    }
    for (uint32_t pass = 0; pass < 2; pass++) { /* pass 0 checks, pass 1 writes */
        for (uint32_t i = 0; i < ids->via.array.size; i++) {
            const msgpack_object *item = &ids->via.array.ptr[i];
            char id[EV_ID_LEN_MAX + 1];
            hu_t hu;
            bool found;
            if (item->type != MSGPACK_OBJECT_STR || item->via.str.size >= sizeof(id))
                return eng__refuse(r, FL_EINVALID_VALUE, "hu_ids[%u] is not an id", i);
            memcpy(id, item->via.str.ptr, item->via.str.size);
            id[item->via.str.size] = '\0';
            rc = eng__hu_get(r, id, &hu, &found);
            if (rc != 0)
                return rc;
            if (pass == 0 && (!found || strcmp(hu.parent, container) != 0))
                return eng__refuse(r, FL_ERULE_CONTAINMENT, "hu-%s is not in hu-%s", id, container);
            for (uint32_t j = 0; pass == 0 && j < i; j++)
                if (ids->via.array.ptr[j].via.str.size == item->via.str.size &&
                    memcmp(ids->via.array.ptr[j].via.str.ptr, id, item->via.str.size) == 0)
                    return eng__refuse(r, FL_ERULE_CONTAINMENT, "hu-%s is listed twice", id);
            if (pass == 1) {
                hu.parent[0] = '\0';
                if ((rc = eng__hu_put(r, id, &hu)) != 0 ||
                    (rc = eng__member_set(r, group, id, false)) != 0)
                    return rc;
            }
        }
    }
    return 0;
}
