/*
 * rules.c: the plant's state beside the log, and the rules every event is checked against,
 * inside the append transaction.
 *
 * Each rule reads what it needs and checks everything before it writes anything, so a refused
 * event leaves the state as it found it (an atomic group is rolled back by its nested
 * transaction, a failed batch by its aborted one). A refusal carries a code of its own
 * (FL_ERULE_...) and a detail naming the rule and the entity.
 *
 * State tables (names in docs/engine.md):
 *   hus       "hu-<id>"                       -> hu_t (status, quantity, item, location, parent)
 *   stock     item 0x00 location 0x00 status  -> i64 quantity in thousandths
 *   articles  "item-<id>"                     -> article_t (tolerances from ArticleSpecDefined)
 *   orders    "of-<id>"                       -> order_t (state, plan, declared so far)
 *   looms     "loom-<id>"                     -> loom_t (order in progress, first piece, beams)
 *   beams     "beam-<id>"                     -> beam_t (loom and position, length)
 *   children  "hu-<container>" 0x00 "<id>"    -> empty: what a container holds now
 *   links     from 0x00 'd'|'u' 0x00 to       -> link_t: genealogy, both directions
 *
 * The rules so far: handling units created, moved (with their contents), held, released,
 * rejected, cut, packed and unpacked; orders' state machine and production against them; looms running and stopped; beams mounted and
 * dismounted. The other types are recorded without state effects until their rules land.
 */
#define _POSIX_C_SOURCE 200809L
#include "engine/engine_int.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HU_FORMAT      1
#define ARTICLE_FORMAT 1
#define STOCK_KEY_MAX  (2 * (EV_ID_LEN_MAX + 1) + 1)

typedef enum {
    HU_AVAILABLE = 1,
    HU_ON_HOLD,
    HU_RELEASED,
    HU_REJECTED,
    HU_CONSUMED,
    HU_SHIPPED
} hu_status_t;

/* A handling unit as stored (native layout, with a format byte; the ledger is its source). */
typedef struct {
    uint8_t format;
    uint8_t status;
    uint8_t grade; /* 0 none, 1 first, 2 second */
    char unit[8];
    int64_t qty_milli;
    uint64_t created_seq;
    char item[EV_ID_LEN_MAX + 1];
    char location[EV_ID_LEN_MAX + 1];
    char parent[EV_ID_LEN_MAX + 1]; /* the container's id, "" when none */
} hu_t;

typedef struct {
    uint8_t format;
    int64_t cutting_tolerance_permille;
    int64_t overproduction_allowed_permille;
    bool first_piece_required;
} article_t;

typedef enum { OF_CREATED = 1, OF_RELEASED, OF_IN_PROGRESS, OF_CLOSED, OF_CANCELLED } of_state_t;

static const char *const of_state_names[] = {"",       "created",  "released", "in progress",
                                             "closed", "cancelled"};

typedef struct {
    uint8_t format;
    uint8_t state;
    char unit[8];
    char item[EV_ID_LEN_MAX + 1];
    int64_t planned_milli;
    int64_t declared_milli;
} order_t;

enum { BEAM_GROUND, BEAM_PILE, BEAM_POSITIONS };

typedef struct {
    uint8_t format;
    bool stopped;
    bool first_piece_passed;       /* for the order it runs now */
    char order[EV_ID_LEN_MAX + 1]; /* the order in progress on it, "" when none */
    char beams[BEAM_POSITIONS][EV_ID_LEN_MAX + 1];
} loom_t;

typedef struct {
    uint8_t format;
    uint8_t position;
    char loom[EV_ID_LEN_MAX + 1]; /* "" when not mounted */
    int64_t length_milli;
} beam_t;

static const char *const status_names[] = {"",         "available", "on hold", "released",
                                           "rejected", "consumed",  "shipped"};

/* One event being checked. */
typedef struct {
    eng_ledger_t *ledger;
    MDB_txn *txn;
    uint64_t seq;
    msgpack_object payload; /* a map */
    int code;               /* the refusal, 0 while the event stands */
    char *detail;
    size_t detail_size;
} rule_t;

static int refuse(rule_t *r, int code, const char *format, ...)
{
    r->code = code;
    va_list args;
    va_start(args, format);
    vsnprintf(r->detail, r->detail_size, format, args);
    va_end(args);
    return 0;
}

/* ---- payload access (the catalog validated the payload; a misfit is a refusal, not a crash) */

static const msgpack_object *member(const msgpack_object *map, const char *name)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t len = strlen(name);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *key = &map->via.map.ptr[i].key;
        if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == len &&
            memcmp(key->via.str.ptr, name, len) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

static bool text_of(const msgpack_object *map, const char *name, char *out, size_t size)
{
    const msgpack_object *value = member(map, name);
    if (value == NULL || value->type != MSGPACK_OBJECT_STR || value->via.str.size >= size)
        return false;
    memcpy(out, value->via.str.ptr, value->via.str.size);
    out[value->via.str.size] = '\0';
    return true;
}

static bool number_of(const msgpack_object *map, const char *name, int64_t *out)
{
    const msgpack_object *value = member(map, name);
    if (value == NULL)
        return false;
    if (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER && value->via.u64 <= INT64_MAX)
        *out = (int64_t)value->via.u64;
    else if (value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = value->via.i64;
    else
        return false;
    return true;
}

/* ---- state tables */

static int hu_get(rule_t *r, const char *id, hu_t *out, bool *found)
{
    char key_text[EV_NAME_LEN_MAX + 1];
    int len = snprintf(key_text, sizeof(key_text), "hu-%s", id);
    MDB_val key = {.mv_size = (size_t)len, .mv_data = key_text}, value;
    int rc = mdb_get(r->txn, r->ledger->dbi_hus, &key, &value);
    *found = rc == 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (value.mv_size != sizeof(*out))
        return MDB_CORRUPTED;
    memcpy(out, value.mv_data, sizeof(*out));
    return out->format == HU_FORMAT ? 0 : MDB_CORRUPTED; /* paired with hu_put's assertion */
}

static int hu_put(rule_t *r, const char *id, const hu_t *hu)
{
    assert(hu->format == HU_FORMAT && hu->qty_milli >= 0);
    assert(hu->status >= HU_AVAILABLE && hu->status <= HU_SHIPPED);
    char key_text[EV_NAME_LEN_MAX + 1];
    int len = snprintf(key_text, sizeof(key_text), "hu-%s", id);
    MDB_val key = {.mv_size = (size_t)len, .mv_data = key_text};
    MDB_val value = {.mv_size = sizeof(*hu), .mv_data = (void *)hu};
    return mdb_put(r->txn, r->ledger->dbi_hus, &key, &value, 0);
}

/* Adds delta to the balance of (item, location, status). A balance below zero means the state
 * disagrees with itself, which the HU checks make impossible: it is reported as corruption. */
static size_t stock_key(const hu_t *hu, uint8_t status, uint8_t out[STOCK_KEY_MAX])
{
    size_t item_len = strlen(hu->item), location_len = strlen(hu->location);
    memcpy(out, hu->item, item_len);
    out[item_len] = 0;
    memcpy(out + item_len + 1, hu->location, location_len);
    out[item_len + 1 + location_len] = 0;
    out[item_len + 2 + location_len] = status;
    return item_len + location_len + 3;
}

static int stock_add(rule_t *r, const hu_t *hu, uint8_t status, int64_t delta)
{
    uint8_t key_bytes[STOCK_KEY_MAX];
    MDB_val key = {.mv_size = stock_key(hu, status, key_bytes), .mv_data = key_bytes}, value;
    int64_t balance = 0;
    int rc = mdb_get(r->txn, r->ledger->dbi_stock, &key, &value);
    if (rc == 0 && value.mv_size == sizeof(balance))
        memcpy(&balance, value.mv_data, sizeof(balance));
    else if (rc != MDB_NOTFOUND)
        return rc == 0 ? MDB_CORRUPTED : rc;
    balance += delta;
    if (balance < 0)
        return MDB_CORRUPTED;
    value = (MDB_val){.mv_size = sizeof(balance), .mv_data = &balance};
    return mdb_put(r->txn, r->ledger->dbi_stock, &key, &value, 0);
}

/* Writes hu and moves its stock from what it was (old, NULL for a new unit). */
static int hu_update(rule_t *r, const char *id, const hu_t *old, const hu_t *hu)
{
    int rc = 0;
    if (old != NULL && old->qty_milli > 0)
        rc = stock_add(r, old, old->status, -old->qty_milli);
    if (rc == 0 && hu->qty_milli > 0)
        rc = stock_add(r, hu, hu->status, hu->qty_milli);
    return rc != 0 ? rc : hu_put(r, id, hu);
}

static int article_get(rule_t *r, const char *item, article_t *out)
{
    char key_text[EV_NAME_LEN_MAX + 1];
    int len = snprintf(key_text, sizeof(key_text), "item-%s", item);
    MDB_val key = {.mv_size = (size_t)len, .mv_data = key_text}, value;
    memset(out, 0, sizeof(*out));
    int rc = mdb_get(r->txn, r->ledger->dbi_articles, &key, &value);
    if (rc == MDB_NOTFOUND)
        return 0; /* no spec: no tolerance */
    if (rc != 0)
        return rc;
    if (value.mv_size != sizeof(*out))
        return MDB_CORRUPTED;
    memcpy(out, value.mv_data, sizeof(*out));
    return out->format == ARTICLE_FORMAT ? 0 : MDB_CORRUPTED;
}

/* Records of the state tables keyed "<kind>-<id>": orders, looms, beams (fixed layouts with a
 * format byte, like hu_t). */
static int record_get(rule_t *r, MDB_dbi dbi, const char *kind, const char *id, void *out,
                      size_t size, bool *found)
{
    char key_text[EV_NAME_LEN_MAX + 1];
    int len = snprintf(key_text, sizeof(key_text), "%s-%s", kind, id);
    MDB_val key = {.mv_size = (size_t)len, .mv_data = key_text}, value;
    int rc = mdb_get(r->txn, dbi, &key, &value);
    *found = rc == 0;
    memset(out, 0, size);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (value.mv_size != size || ((const uint8_t *)value.mv_data)[0] != 1)
        return MDB_CORRUPTED;
    memcpy(out, value.mv_data, size);
    return 0;
}

static int record_put(rule_t *r, MDB_dbi dbi, const char *kind, const char *id, const void *record,
                      size_t size)
{
    assert(((const uint8_t *)record)[0] == 1); /* every record is at format 1 */
    char key_text[EV_NAME_LEN_MAX + 1];
    int len = snprintf(key_text, sizeof(key_text), "%s-%s", kind, id);
    MDB_val key = {.mv_size = (size_t)len, .mv_data = key_text};
    MDB_val value = {.mv_size = size, .mv_data = (void *)record};
    return mdb_put(r->txn, dbi, &key, &value, 0);
}

/* Genealogy: "from" was used to make, or contains, "to". Both directions are written, so a
 * pallet leads down to its rolls and a yarn lot up to its pallets:
 *   links  from 0x00 'd' 0x00 to  -> link_t      (and  to 0x00 'u' 0x00 from)
 * Names are entity keys ("hu-R1", "loom-L012", "beam-B4"). */
typedef struct {
    uint64_t seq;
    char kind[12]; /* "cut", "contains", "woven_on", "for_order", "warp" */
} link_t;

static size_t link_key(const char *from, char direction, const char *to,
                       uint8_t out[2 * EV_NAME_LEN_MAX + 4])
{
    size_t from_len = strlen(from), to_len = strlen(to);
    memcpy(out, from, from_len);
    out[from_len] = 0;
    out[from_len + 1] = (uint8_t)direction;
    out[from_len + 2] = 0;
    memcpy(out + from_len + 3, to, to_len);
    return from_len + 3 + to_len;
}

static int link_add(rule_t *r, const char *from, const char *to, const char *kind)
{
    uint8_t key_bytes[2 * EV_NAME_LEN_MAX + 4];
    link_t link = {.seq = r->seq};
    snprintf(link.kind, sizeof(link.kind), "%s", kind);
    MDB_val value = {.mv_size = sizeof(link), .mv_data = &link};
    MDB_val key = {.mv_size = link_key(from, 'd', to, key_bytes), .mv_data = key_bytes};
    int rc = mdb_put(r->txn, r->ledger->dbi_links, &key, &value, 0);
    if (rc != 0)
        return rc;
    key.mv_size = link_key(to, 'u', from, key_bytes);
    return mdb_put(r->txn, r->ledger->dbi_links, &key, &value, 0);
}

/* Current containment, for moving a container with its contents:
 *   children  "hu-<container>" 0x00 "<content id>"  -> empty */
static int child_set(rule_t *r, const char *container, const char *content, bool add)
{
    uint8_t key_bytes[2 * EV_NAME_LEN_MAX + 4];
    int len = snprintf((char *)key_bytes, sizeof(key_bytes), "hu-%s%c%s", container, 0, content);
    MDB_val key = {.mv_size = (size_t)len, .mv_data = key_bytes};
    MDB_val value = {.mv_size = 0, .mv_data = NULL};
    if (add)
        return mdb_put(r->txn, r->ledger->dbi_children, &key, &value, 0);
    int rc = mdb_del(r->txn, r->ledger->dbi_children, &key, NULL);
    return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
}

/* A unit that may move, be cut or packed: known, and neither held, rejected, used up nor
 * shipped. Returns false (with the refusal set) otherwise. */
static bool hu_usable(rule_t *r, const char *id, const hu_t *hu, bool found)
{
    if (!found) {
        refuse(r, FL_ERULE_HU_UNKNOWN, "no handling unit hu-%s in this plant", id);
        return false;
    }
    if (hu->status == HU_ON_HOLD || hu->status == HU_REJECTED) {
        refuse(r, FL_ERULE_HU_HELD, "hu-%s is %s: it may not move, be cut, packed or shipped", id,
               status_names[hu->status]);
        return false;
    }
    if (hu->status == HU_CONSUMED || hu->status == HU_SHIPPED) {
        refuse(r, FL_ERULE_STATE, "hu-%s is %s", id, status_names[hu->status]);
        return false;
    }
    return true;
}

/* ---- the rules */

static uint8_t grade_of(const msgpack_object *map)
{
    char grade[16];
    if (!text_of(map, "grade", grade, sizeof(grade)))
        return 0;
    return strcmp(grade, "first") == 0 ? 1 : 2;
}

/* GoodsReceived, ProductionDeclared: a new unit, available where it was made or received. */
static int rule_hu_created(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1];
    hu_t hu = {.format = HU_FORMAT, .status = HU_AVAILABLE, .created_seq = r->seq}, existing;
    bool found;
    if (!text_of(&r->payload, "hu_id", id, sizeof(id)) ||
        !text_of(&r->payload, "item_id", hu.item, sizeof(hu.item)) ||
        !text_of(&r->payload, "location_id", hu.location, sizeof(hu.location)) ||
        !text_of(&r->payload, "unit", hu.unit, sizeof(hu.unit)) ||
        !number_of(&r->payload, "qty_milli", &hu.qty_milli) || hu.qty_milli <= 0)
        return refuse(r, FL_EINVALID_VALUE, "the payload does not describe a new unit");
    hu.grade = grade_of(&r->payload);
    int rc = hu_get(r, id, &existing, &found);
    if (rc != 0)
        return rc;
    if (found)
        return refuse(r, FL_ERULE_HU_EXISTS, "hu-%s already exists (label reused?)", id);
    return hu_update(r, id, NULL, &hu);
}

/* A roll comes from its loom, its order and the beams mounted on the loom when it was woven. */
static int production_links(rule_t *r, const loom_t *loom)
{
    char roll[EV_NAME_LEN_MAX + 1], from[EV_NAME_LEN_MAX + 1], id[EV_ID_LEN_MAX + 1];
    text_of(&r->payload, "hu_id", id, sizeof(id));
    snprintf(roll, sizeof(roll), "hu-%s", id);
    text_of(&r->payload, "loom_id", id, sizeof(id));
    snprintf(from, sizeof(from), "loom-%s", id);
    int rc = link_add(r, from, roll, "woven_on");
    snprintf(from, sizeof(from), "of-%s", loom->order);
    if (rc == 0)
        rc = link_add(r, from, roll, "for_order");
    for (int position = 0; position < BEAM_POSITIONS && rc == 0; position++) {
        if (loom->beams[position][0] == '\0')
            continue;
        snprintf(from, sizeof(from), "beam-%s", loom->beams[position]);
        rc = link_add(r, from, roll, "warp");
    }
    return rc;
}

/* ProductionDeclared: a new roll, only on an order in progress on that loom, after a passed
 * first piece when the article requires one, and never beyond the plan plus the allowed
 * over-production. */
static int rule_production(rule_t *r)
{
    char loom_id[EV_ID_LEN_MAX + 1], order_id[EV_ID_LEN_MAX + 1], unit[8];
    int64_t qty;
    if (!text_of(&r->payload, "loom_id", loom_id, sizeof(loom_id)) ||
        !text_of(&r->payload, "of_id", order_id, sizeof(order_id)) ||
        !text_of(&r->payload, "unit", unit, sizeof(unit)) ||
        !number_of(&r->payload, "qty_milli", &qty))
        return refuse(r, FL_EINVALID_VALUE, "the payload does not describe a roll");
    loom_t loom;
    order_t order;
    article_t article;
    bool loom_found, order_found;
    int rc = record_get(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom), &loom_found);
    if (rc == 0)
        rc = record_get(r, r->ledger->dbi_orders, "of", order_id, &order, sizeof(order),
                        &order_found);
    if (rc != 0)
        return rc;
    if (!loom_found || strcmp(loom.order, order_id) != 0 || !order_found)
        return refuse(r, FL_ERULE_STATE, "of-%s is not in progress on loom-%s", order_id, loom_id);
    if ((rc = article_get(r, order.item, &article)) != 0)
        return rc;
    if (article.first_piece_required && !loom.first_piece_passed)
        return refuse(r, FL_ERULE_STATE, "loom-%s has no passed first piece for of-%s (item-%s)",
                      loom_id, order_id, order.item);
    if (strcmp(unit, order.unit) != 0)
        return refuse(r, FL_ERULE_CONSERVATION, "of-%s is planned in %s, the roll is in %s",
                      order_id, order.unit, unit);
    int64_t allowed =
        order.planned_milli + order.planned_milli * article.overproduction_allowed_permille / 1000;
    if (order.declared_milli + qty > allowed)
        return refuse(r, FL_ERULE_OVERPRODUCTION,
                      "of-%s: %lld declared + %lld would pass the plan of %lld (+%lld per mille)",
                      order_id, (long long)order.declared_milli, (long long)qty,
                      (long long)order.planned_milli,
                      (long long)article.overproduction_allowed_permille);
    if ((rc = rule_hu_created(r)) != 0 || r->code != 0 || (rc = production_links(r, &loom)) != 0)
        return rc;
    order.declared_milli += qty;
    return record_put(r, r->ledger->dbi_orders, "of", order_id, &order, sizeof(order));
}

#define CONTAINMENT_DEPTH_MAX 8      /* pallet > carton > bundle ... */
#define CONTAINMENT_CONTENTS_MAX 4096 /* units moved with one container */

/* Moves a unit and, recursively, everything it contains, to location `to`. */
static int move_with_contents(rule_t *r, const char *id, hu_t *hu, const char *to, int depth)
{
    if (depth > CONTAINMENT_DEPTH_MAX)
        return MDB_CORRUPTED; /* packing keeps the tree shallower than this */
    hu_t old = *hu;
    snprintf(hu->location, sizeof(hu->location), "%s", to);
    int rc = hu_update(r, id, &old, hu);
    if (rc != 0)
        return rc;
    char prefix[EV_NAME_LEN_MAX + 2];
    int prefix_len = snprintf(prefix, sizeof(prefix), "hu-%s%c", id, 0);
    MDB_cursor *cursor;
    if ((rc = mdb_cursor_open(r->txn, r->ledger->dbi_children, &cursor)) != 0)
        return rc;
    MDB_val key = {.mv_size = (size_t)prefix_len, .mv_data = prefix}, value;
    uint32_t moved = 0;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
         rc == 0 && key.mv_size > (size_t)prefix_len &&
         memcmp(key.mv_data, prefix, (size_t)prefix_len) == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        char child_id[EV_ID_LEN_MAX + 1];
        size_t child_len = key.mv_size - (size_t)prefix_len;
        if (child_len >= sizeof(child_id) || ++moved > CONTAINMENT_CONTENTS_MAX) {
            rc = MDB_CORRUPTED;
            break;
        }
        memcpy(child_id, (const char *)key.mv_data + prefix_len, child_len);
        child_id[child_len] = '\0';
        hu_t child;
        bool found;
        if ((rc = hu_get(r, child_id, &child, &found)) != 0)
            break;
        if (!found) {
            rc = MDB_CORRUPTED;
            break;
        }
        /* Writing the child may move this cursor's page: reposition after it. */
        char resume[EV_NAME_LEN_MAX * 2 + 2];
        memcpy(resume, key.mv_data, key.mv_size);
        size_t resume_len = key.mv_size;
        if ((rc = move_with_contents(r, child_id, &child, to, depth + 1)) != 0)
            break;
        key = (MDB_val){.mv_size = resume_len, .mv_data = resume};
        if ((rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_KEY)) != 0)
            break;
    }
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

/* StockTransferred: a whole unit from where it is to another location. */
static int rule_hu_moved(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1], from[EV_ID_LEN_MAX + 1], to[EV_ID_LEN_MAX + 1];
    if (!text_of(&r->payload, "hu_id", id, sizeof(id)) ||
        !text_of(&r->payload, "from_location_id", from, sizeof(from)) ||
        !text_of(&r->payload, "to_location_id", to, sizeof(to)))
        return refuse(r, FL_EINVALID_VALUE, "the payload does not describe a move");
    hu_t hu;
    bool found;
    int rc = hu_get(r, id, &hu, &found);
    if (rc != 0 || !hu_usable(r, id, &hu, found))
        return rc;
    if (hu.parent[0] != '\0')
        return refuse(r, FL_ERULE_CONTAINMENT,
                      "hu-%s is inside hu-%s: move the container, or unpack it first", id,
                      hu.parent);
    if (strcmp(hu.location, from) != 0)
        return refuse(r, FL_ERULE_HU_LOCATION, "hu-%s is at loc-%s, not at loc-%s", id, hu.location,
                      from);
    return move_with_contents(r, id, &hu, to, 0);
}

/* LotPutOnHold, LotReleased, LotRejected: the quality verdicts, each from the statuses it may
 * follow. */
static int quality_verdict(rule_t *r, uint8_t to, uint32_t from_mask)
{
    char id[EV_ID_LEN_MAX + 1];
    if (!text_of(&r->payload, "hu_id", id, sizeof(id)))
        return refuse(r, FL_EINVALID_VALUE, "the payload names no unit");
    hu_t hu, old;
    bool found;
    int rc = hu_get(r, id, &hu, &found);
    if (rc != 0)
        return rc;
    if (!found)
        return refuse(r, FL_ERULE_HU_UNKNOWN, "no handling unit hu-%s in this plant", id);
    if (!(from_mask & (1u << hu.status)))
        return refuse(r, FL_ERULE_STATE, "hu-%s is %s: it cannot become %s", id,
                      status_names[hu.status], status_names[to]);
    old = hu;
    hu.status = to;
    return hu_update(r, id, &old, &hu);
}

#define FROM(status) (1u << (status))

static int rule_hold(rule_t *r)
{
    return quality_verdict(r, HU_ON_HOLD, FROM(HU_AVAILABLE) | FROM(HU_RELEASED));
}

static int rule_release(rule_t *r)
{
    return quality_verdict(r, HU_RELEASED, FROM(HU_AVAILABLE) | FROM(HU_ON_HOLD));
}

static int rule_reject(rule_t *r)
{
    return quality_verdict(r, HU_REJECTED,
                           FROM(HU_AVAILABLE) | FROM(HU_ON_HOLD) | FROM(HU_RELEASED));
}

/* The outputs of a cut: new, distinct units. Returns the sum of their quantities via *sum. */
static int cut_outputs_check(rule_t *r, const msgpack_object *outputs, int64_t *sum)
{
    *sum = 0;
    for (uint32_t i = 0; i < outputs->via.array.size; i++) {
        const msgpack_object *output = &outputs->via.array.ptr[i];
        char id[EV_ID_LEN_MAX + 1], other[EV_ID_LEN_MAX + 1];
        int64_t qty;
        if (!text_of(output, "hu_id", id, sizeof(id)) || !number_of(output, "qty_milli", &qty))
            return refuse(r, FL_EINVALID_VALUE, "outputs[%u] is not a bundle", i);
        for (uint32_t j = 0; j < i; j++)
            if (text_of(&outputs->via.array.ptr[j], "hu_id", other, sizeof(other)) &&
                strcmp(id, other) == 0)
                return refuse(r, FL_ERULE_HU_EXISTS, "hu-%s is made twice by this cut", id);
        hu_t existing;
        bool found;
        int rc = hu_get(r, id, &existing, &found);
        if (rc != 0)
            return rc;
        if (found)
            return refuse(r, FL_ERULE_HU_EXISTS, "hu-%s already exists (label reused?)", id);
        *sum += qty;
    }
    return 0;
}

/* CuttingDeclared: consumed = first + second + waste within the article's tolerance; the input
 * gives up what was consumed; each output is a new unit where the cut happened. */
static int rule_cut(rule_t *r)
{
    char input_id[EV_ID_LEN_MAX + 1], unit[8], location[EV_ID_LEN_MAX + 1];
    int64_t consumed, waste;
    const msgpack_object *outputs = member(&r->payload, "outputs");
    if (!text_of(&r->payload, "input_hu_id", input_id, sizeof(input_id)) ||
        !text_of(&r->payload, "unit", unit, sizeof(unit)) ||
        !text_of(&r->payload, "location_id", location, sizeof(location)) ||
        !number_of(&r->payload, "consumed_qty_milli", &consumed) ||
        !number_of(&r->payload, "waste_qty_milli", &waste) || outputs == NULL ||
        outputs->type != MSGPACK_OBJECT_ARRAY)
        return refuse(r, FL_EINVALID_VALUE, "the payload does not describe a cut");
    hu_t input, old;
    bool found;
    article_t article;
    int64_t made;
    int rc = hu_get(r, input_id, &input, &found);
    if (rc != 0 || !hu_usable(r, input_id, &input, found))
        return rc;
    if (strcmp(input.unit, unit) != 0)
        return refuse(r, FL_ERULE_CONSERVATION, "hu-%s is counted in %s, the cut in %s", input_id,
                      input.unit, unit);
    if (consumed > input.qty_milli)
        return refuse(r, FL_ERULE_NEGATIVE_STOCK,
                      "hu-%s holds %lld thousandths of %s, the cut consumes %lld", input_id,
                      (long long)input.qty_milli, unit, (long long)consumed);
    if ((rc = article_get(r, input.item, &article)) != 0 ||
        (rc = cut_outputs_check(r, outputs, &made)) != 0 || r->code != 0)
        return rc;
    int64_t difference = consumed - (made + waste);
    int64_t allowed = consumed * article.cutting_tolerance_permille / 1000;
    if (difference > allowed || -difference > allowed)
        return refuse(r, FL_ERULE_CONSERVATION,
                      "cutting hu-%s: consumed %lld but bundles + waste = %lld (tolerance %lld, "
                      "item-%s)",
                      input_id, (long long)consumed, (long long)(made + waste), (long long)allowed,
                      input.item);
    /* Every check passed: now write. */
    old = input;
    input.qty_milli -= consumed;
    if (input.qty_milli == 0)
        input.status = HU_CONSUMED;
    if ((rc = hu_update(r, input_id, &old, &input)) != 0)
        return rc;
    for (uint32_t i = 0; i < outputs->via.array.size && rc == 0; i++) {
        const msgpack_object *output = &outputs->via.array.ptr[i];
        char id[EV_ID_LEN_MAX + 1];
        hu_t bundle = {.format = HU_FORMAT, .status = HU_AVAILABLE, .created_seq = r->seq};
        text_of(output, "hu_id", id, sizeof(id));
        number_of(output, "qty_milli", &bundle.qty_milli);
        if (!text_of(output, "item_id", bundle.item, sizeof(bundle.item)))
            snprintf(bundle.item, sizeof(bundle.item), "%s", input.item);
        snprintf(bundle.unit, sizeof(bundle.unit), "%s", unit);
        snprintf(bundle.location, sizeof(bundle.location), "%s", location);
        bundle.grade = grade_of(output);
        char from[EV_NAME_LEN_MAX + 1], to[EV_NAME_LEN_MAX + 1];
        snprintf(from, sizeof(from), "hu-%s", input_id);
        snprintf(to, sizeof(to), "hu-%s", id);
        if ((rc = hu_update(r, id, NULL, &bundle)) == 0)
            rc = link_add(r, from, to, "cut");
    }
    return rc;
}

/* ArticleSpecDefined: the article's tolerances, which later rules read. */
static int rule_article(rule_t *r)
{
    char item[EV_ID_LEN_MAX + 1], key_text[EV_NAME_LEN_MAX + 1];
    article_t article = {.format = ARTICLE_FORMAT};
    const msgpack_object *first_piece = member(&r->payload, "first_piece_required");
    if (!text_of(&r->payload, "item_id", item, sizeof(item)) ||
        !number_of(&r->payload, "cutting_tolerance_permille",
                   &article.cutting_tolerance_permille) ||
        !number_of(&r->payload, "overproduction_allowed_permille",
                   &article.overproduction_allowed_permille))
        return refuse(r, FL_EINVALID_VALUE, "the payload does not describe an article");
    article.first_piece_required = first_piece != NULL &&
                                   first_piece->type == MSGPACK_OBJECT_BOOLEAN &&
                                   first_piece->via.boolean;
    int len = snprintf(key_text, sizeof(key_text), "item-%s", item);
    MDB_val key = {.mv_size = (size_t)len, .mv_data = key_text};
    MDB_val value = {.mv_size = sizeof(article), .mv_data = &article};
    return mdb_put(r->txn, r->ledger->dbi_articles, &key, &value, 0);
}

/* ---- packing: containment stays a tree of released units */

/* Whether `ancestor` contains `id`, directly or not. */
static int contains(rule_t *r, const char *ancestor, const char *id, bool *result)
{
    char current[EV_ID_LEN_MAX + 1];
    snprintf(current, sizeof(current), "%s", id);
    *result = false;
    for (int depth = 0; depth <= CONTAINMENT_DEPTH_MAX; depth++) {
        hu_t hu;
        bool found;
        int rc = hu_get(r, current, &hu, &found);
        if (rc != 0 || !found || hu.parent[0] == '\0')
            return rc;
        if (strcmp(hu.parent, ancestor) == 0) {
            *result = true;
            return 0;
        }
        snprintf(current, sizeof(current), "%s", hu.parent);
    }
    return MDB_CORRUPTED;
}

/* Checks one unit to go into the container at location; returns false with the refusal set. */
static int pack_check(rule_t *r, const char *container, const char *location, const char *id,
                      hu_t *hu, bool *ok)
{
    bool found, cycle;
    *ok = false;
    int rc = hu_get(r, id, hu, &found);
    if (rc != 0 || !hu_usable(r, id, hu, found))
        return rc;
    if (hu->status != HU_RELEASED)
        return refuse(r, FL_ERULE_STATE, "hu-%s is %s: only released units are packed", id,
                      status_names[hu->status]);
    if (strcmp(id, container) == 0)
        return refuse(r, FL_ERULE_CONTAINMENT, "hu-%s cannot contain itself", id);
    if (hu->parent[0] != '\0')
        return refuse(r, FL_ERULE_CONTAINMENT, "hu-%s is already in hu-%s", id, hu->parent);
    if (strcmp(hu->location, location) != 0)
        return refuse(r, FL_ERULE_HU_LOCATION, "hu-%s is at loc-%s, not at loc-%s", id,
                      hu->location, location);
    if ((rc = contains(r, id, container, &cycle)) != 0)
        return rc;
    if (cycle)
        return refuse(r, FL_ERULE_CONTAINMENT, "hu-%s contains hu-%s: packing it would make a "
                      "cycle", id, container);
    *ok = true;
    return 0;
}

/* HUPacked, HUPalletized: released units at one location into a carton or a pallet, made on
 * first use. The contents keep their stock; the container holds none of its own. */
static int pack_into(rule_t *r, const char *container_field)
{
    char container[EV_ID_LEN_MAX + 1], location[EV_ID_LEN_MAX + 1];
    const msgpack_object *ids = member(&r->payload, "hu_ids");
    if (!text_of(&r->payload, container_field, container, sizeof(container)) ||
        !text_of(&r->payload, "location_id", location, sizeof(location)) || ids == NULL ||
        ids->type != MSGPACK_OBJECT_ARRAY || ids->via.array.size == 0)
        return refuse(r, FL_EINVALID_VALUE, "the payload does not describe a packing");
    hu_t box, first, content;
    bool found;
    int rc = hu_get(r, container, &box, &found);
    if (rc != 0)
        return rc;
    if (found && !hu_usable(r, container, &box, found))
        return 0;
    if (found && (strcmp(box.location, location) != 0 || box.parent[0] != '\0'))
        return refuse(r, FL_ERULE_CONTAINMENT, "hu-%s is not open for packing at loc-%s",
                      container, location);
    for (uint32_t i = 0; i < ids->via.array.size; i++) { /* check everything first */
        const msgpack_object *item = &ids->via.array.ptr[i];
        char id[EV_ID_LEN_MAX + 1];
        bool ok;
        if (item->type != MSGPACK_OBJECT_STR || item->via.str.size >= sizeof(id))
            return refuse(r, FL_EINVALID_VALUE, "hu_ids[%u] is not an id", i);
        memcpy(id, item->via.str.ptr, item->via.str.size);
        id[item->via.str.size] = '\0';
        for (uint32_t j = 0; j < i; j++)
            if (ids->via.array.ptr[j].via.str.size == item->via.str.size &&
                memcmp(ids->via.array.ptr[j].via.str.ptr, id, item->via.str.size) == 0)
                return refuse(r, FL_ERULE_CONTAINMENT, "hu-%s is listed twice", id);
        if ((rc = pack_check(r, container, location, id, i == 0 ? &first : &content, &ok)) != 0 ||
            !ok)
            return rc;
    }
    if (!found) {
        box = (hu_t){.format = HU_FORMAT, .status = HU_RELEASED, .created_seq = r->seq};
        snprintf(box.item, sizeof(box.item), "%s", first.item);
        snprintf(box.unit, sizeof(box.unit), "%s", first.unit);
        snprintf(box.location, sizeof(box.location), "%s", location);
        if ((rc = hu_put(r, container, &box)) != 0)
            return rc;
    }
    char container_name[EV_NAME_LEN_MAX + 1], content_name[EV_NAME_LEN_MAX + 1];
    snprintf(container_name, sizeof(container_name), "hu-%s", container);
    for (uint32_t i = 0; i < ids->via.array.size && rc == 0; i++) {
        const msgpack_object *item = &ids->via.array.ptr[i];
        char id[EV_ID_LEN_MAX + 1];
        hu_t hu;
        memcpy(id, item->via.str.ptr, item->via.str.size);
        id[item->via.str.size] = '\0';
        if ((rc = hu_get(r, id, &hu, &found)) != 0)
            break;
        snprintf(hu.parent, sizeof(hu.parent), "%s", container);
        snprintf(content_name, sizeof(content_name), "hu-%s", id);
        if ((rc = hu_put(r, id, &hu)) == 0 && (rc = child_set(r, container, id, true)) == 0)
            rc = link_add(r, container_name, content_name, "contains");
    }
    return rc;
}

static int rule_packed(rule_t *r)
{
    return pack_into(r, "carton_hu_id");
}

static int rule_palletized(rule_t *r)
{
    return pack_into(r, "pallet_hu_id");
}

/* HUUnpacked: units out of their container, where the container is. */
static int rule_unpacked(rule_t *r)
{
    char container[EV_ID_LEN_MAX + 1];
    const msgpack_object *ids = member(&r->payload, "hu_ids");
    if (!text_of(&r->payload, "container_hu_id", container, sizeof(container)) || ids == NULL ||
        ids->type != MSGPACK_OBJECT_ARRAY)
        return refuse(r, FL_EINVALID_VALUE, "the payload does not describe an unpacking");
    for (uint32_t pass = 0; pass < 2; pass++) { /* pass 0 checks, pass 1 writes */
        for (uint32_t i = 0; i < ids->via.array.size; i++) {
            const msgpack_object *item = &ids->via.array.ptr[i];
            char id[EV_ID_LEN_MAX + 1];
            hu_t hu;
            bool found;
            if (item->type != MSGPACK_OBJECT_STR || item->via.str.size >= sizeof(id))
                return refuse(r, FL_EINVALID_VALUE, "hu_ids[%u] is not an id", i);
            memcpy(id, item->via.str.ptr, item->via.str.size);
            id[item->via.str.size] = '\0';
            int rc = hu_get(r, id, &hu, &found);
            if (rc != 0)
                return rc;
            if (pass == 0 && (!found || strcmp(hu.parent, container) != 0))
                return refuse(r, FL_ERULE_CONTAINMENT, "hu-%s is not in hu-%s", id, container);
            if (pass == 1) {
                hu.parent[0] = '\0';
                if ((rc = hu_put(r, id, &hu)) != 0 ||
                    (rc = child_set(r, container, id, false)) != 0)
                    return rc;
            }
        }
    }
    return 0;
}

/* ---- production orders: created -> released -> in progress -> closed / cancelled */

static int rule_order_created(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1];
    order_t order = {.format = 1, .state = OF_CREATED};
    bool found;
    if (!text_of(&r->payload, "of_id", id, sizeof(id)) ||
        !text_of(&r->payload, "item_id", order.item, sizeof(order.item)) ||
        !text_of(&r->payload, "unit", order.unit, sizeof(order.unit)) ||
        !number_of(&r->payload, "planned_qty_milli", &order.planned_milli))
        return refuse(r, FL_EINVALID_VALUE, "the payload does not describe an order");
    order_t existing;
    int rc = record_get(r, r->ledger->dbi_orders, "of", id, &existing, sizeof(existing), &found);
    if (rc != 0)
        return rc;
    if (found)
        return refuse(r, FL_ERULE_STATE, "of-%s already exists", id);
    return record_put(r, r->ledger->dbi_orders, "of", id, &order, sizeof(order));
}

/* An order moves to state `to` from one of the states in from_mask. */
static int order_transition(rule_t *r, uint8_t to, uint32_t from_mask)
{
    char id[EV_ID_LEN_MAX + 1];
    order_t order;
    bool found;
    if (!text_of(&r->payload, "of_id", id, sizeof(id)))
        return refuse(r, FL_EINVALID_VALUE, "the payload names no order");
    int rc = record_get(r, r->ledger->dbi_orders, "of", id, &order, sizeof(order), &found);
    if (rc != 0)
        return rc;
    if (!found)
        return refuse(r, FL_ERULE_STATE, "no production order of-%s", id);
    if (!(from_mask & (1u << order.state)))
        return refuse(r, FL_ERULE_STATE, "of-%s is %s: it cannot become %s", id,
                      of_state_names[order.state], of_state_names[to]);
    order.state = to;
    return record_put(r, r->ledger->dbi_orders, "of", id, &order, sizeof(order));
}

static int rule_order_released(rule_t *r)
{
    return order_transition(r, OF_RELEASED, FROM(OF_CREATED));
}

static int rule_order_closed(rule_t *r)
{
    return order_transition(r, OF_CLOSED, FROM(OF_RELEASED) | FROM(OF_IN_PROGRESS));
}

static int rule_order_cancelled(rule_t *r)
{
    return order_transition(r, OF_CANCELLED,
                            FROM(OF_CREATED) | FROM(OF_RELEASED) | FROM(OF_IN_PROGRESS));
}

/* ---- looms: defined, an order started and ended on them, stopped and restarted */

static int loom_load(rule_t *r, char *id, size_t size, loom_t *loom)
{
    bool found;
    if (!text_of(&r->payload, "loom_id", id, size))
        return refuse(r, FL_EINVALID_VALUE, "the payload names no loom");
    int rc = record_get(r, r->ledger->dbi_looms, "loom", id, loom, sizeof(*loom), &found);
    if (rc == 0 && !found)
        refuse(r, FL_ERULE_STATE, "loom-%s is not defined (LoomDefined)", id);
    return rc;
}

static int rule_loom_defined(rule_t *r)
{
    char id[EV_ID_LEN_MAX + 1];
    loom_t loom;
    bool found;
    if (!text_of(&r->payload, "loom_id", id, sizeof(id)))
        return refuse(r, FL_EINVALID_VALUE, "the payload names no loom");
    int rc = record_get(r, r->ledger->dbi_looms, "loom", id, &loom, sizeof(loom), &found);
    if (rc != 0 || found) /* redefining a loom keeps its running state */
        return rc;
    loom.format = 1;
    return record_put(r, r->ledger->dbi_looms, "loom", id, &loom, sizeof(loom));
}

static int rule_order_started(rule_t *r)
{
    char loom_id[EV_ID_LEN_MAX + 1], order_id[EV_ID_LEN_MAX + 1];
    loom_t loom;
    order_t order;
    bool found;
    int rc = loom_load(r, loom_id, sizeof(loom_id), &loom);
    if (rc != 0 || r->code != 0)
        return rc;
    if (!text_of(&r->payload, "of_id", order_id, sizeof(order_id)))
        return refuse(r, FL_EINVALID_VALUE, "the payload names no order");
    if (loom.order[0] != '\0')
        return refuse(r, FL_ERULE_STATE, "loom-%s is running of-%s: end it first", loom_id,
                      loom.order);
    rc = record_get(r, r->ledger->dbi_orders, "of", order_id, &order, sizeof(order), &found);
    if (rc != 0)
        return rc;
    if (!found || (order.state != OF_RELEASED && order.state != OF_IN_PROGRESS))
        return refuse(r, FL_ERULE_STATE, "of-%s is %s: only a released order starts", order_id,
                      found ? of_state_names[order.state] : "unknown");
    order.state = OF_IN_PROGRESS;
    snprintf(loom.order, sizeof(loom.order), "%s", order_id);
    loom.first_piece_passed = false;
    loom.stopped = false;
    if ((rc = record_put(r, r->ledger->dbi_orders, "of", order_id, &order, sizeof(order))) != 0)
        return rc;
    return record_put(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom));
}

/* OFEndedOnLoom and FirstPieceInspected: about the order the loom runs now. */
static int loom_with_order(rule_t *r, char *loom_id, loom_t *loom)
{
    char order_id[EV_ID_LEN_MAX + 1];
    int rc = loom_load(r, loom_id, EV_ID_LEN_MAX + 1, loom);
    if (rc != 0 || r->code != 0)
        return rc;
    if (!text_of(&r->payload, "of_id", order_id, sizeof(order_id)))
        return refuse(r, FL_EINVALID_VALUE, "the payload names no order");
    if (strcmp(loom->order, order_id) != 0)
        return refuse(r, FL_ERULE_STATE, "of-%s is not in progress on loom-%s", order_id, loom_id);
    return 0;
}

static int rule_order_ended(rule_t *r)
{
    char loom_id[EV_ID_LEN_MAX + 1];
    loom_t loom;
    int rc = loom_with_order(r, loom_id, &loom);
    if (rc != 0 || r->code != 0)
        return rc;
    loom.order[0] = '\0';
    loom.first_piece_passed = false;
    return record_put(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom));
}

static int rule_first_piece(rule_t *r)
{
    char loom_id[EV_ID_LEN_MAX + 1], result[16];
    loom_t loom;
    int rc = loom_with_order(r, loom_id, &loom);
    if (rc != 0 || r->code != 0)
        return rc;
    if (!text_of(&r->payload, "result", result, sizeof(result)))
        return refuse(r, FL_EINVALID_VALUE, "the payload has no result");
    loom.first_piece_passed = strcmp(result, "passed") == 0;
    return record_put(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom));
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
        return refuse(r, FL_ERULE_STATE, "loom-%s is already %s", loom_id,
                      stop ? "stopped" : "running");
    loom.stopped = stop;
    return record_put(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom));
}

static int rule_loom_stopped(rule_t *r)
{
    return loom_run(r, true);
}

static int rule_loom_restarted(rule_t *r)
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
    if (!text_of(&r->payload, "beam_id", beam_id, EV_ID_LEN_MAX + 1) ||
        !text_of(&r->payload, "position", where, sizeof(where)))
        return refuse(r, FL_EINVALID_VALUE, "the payload names no beam or position");
    *position = strcmp(where, "pile") == 0 ? BEAM_PILE : BEAM_GROUND;
    return record_get(r, r->ledger->dbi_beams, "beam", beam_id, beam, sizeof(*beam), &found);
}

static int rule_beam_mounted(rule_t *r)
{
    char beam_id[EV_ID_LEN_MAX + 1], loom_id[EV_ID_LEN_MAX + 1];
    static const char *const positions[] = {"ground", "pile"};
    beam_t beam;
    loom_t loom;
    int position;
    int rc = beam_load(r, beam_id, loom_id, &beam, &loom, &position);
    if (rc != 0 || r->code != 0)
        return rc;
    if (beam.loom[0] != '\0')
        return refuse(r, FL_ERULE_STATE, "beam-%s is already on loom-%s", beam_id, beam.loom);
    if (loom.beams[position][0] != '\0')
        return refuse(r, FL_ERULE_STATE, "the %s position of loom-%s holds beam-%s",
                      positions[position], loom_id, loom.beams[position]);
    beam.format = 1;
    beam.position = (uint8_t)position;
    snprintf(beam.loom, sizeof(beam.loom), "%s", loom_id);
    if (!number_of(&r->payload, "length_milli", &beam.length_milli))
        return refuse(r, FL_EINVALID_VALUE, "the payload has no length");
    snprintf(loom.beams[position], sizeof(loom.beams[position]), "%s", beam_id);
    if ((rc = record_put(r, r->ledger->dbi_beams, "beam", beam_id, &beam, sizeof(beam))) != 0)
        return rc;
    return record_put(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom));
}

static int rule_beam_dismounted(rule_t *r)
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
        return refuse(r, FL_ERULE_STATE, "beam-%s is not at that position of loom-%s", beam_id,
                      loom_id);
    if (!number_of(&r->payload, "remaining_length_milli", &remaining) || remaining < 0 ||
        remaining > beam.length_milli)
        return refuse(r, FL_ERULE_CONSERVATION,
                      "beam-%s was mounted with %lld thousandths of m: it cannot have %lld left",
                      beam_id, (long long)beam.length_milli, (long long)remaining);
    beam.loom[0] = '\0';
    beam.length_milli = remaining;
    loom.beams[position][0] = '\0';
    if ((rc = record_put(r, r->ledger->dbi_beams, "beam", beam_id, &beam, sizeof(beam))) != 0)
        return rc;
    return record_put(r, r->ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom));
}

/* ---- reads */

int eng_hu_get(eng_ledger_t *ledger, const char *hu_id, eng_hu_view_t *out)
{
    memset(out, 0, sizeof(*out));
    if (hu_id == NULL || strlen(hu_id) > EV_ID_LEN_MAX)
        return FL_EINVAL;
    rule_t r = {.ledger = ledger};
    int rc = eng__read_begin(ledger, &r.txn);
    if (rc != 0)
        return rc;
    hu_t hu;
    bool found = false;
    rc = eng__err_from_mdb(hu_get(&r, hu_id, &hu, &found));
    eng__read_end(ledger, r.txn);
    if (rc != 0)
        return rc;
    if (!found)
        return FL_ENOENT;
    _Static_assert(sizeof(out->item) >= sizeof(hu.item), "views hold any id");
    snprintf(out->status, sizeof(out->status), "%s", status_names[hu.status]);
    snprintf(out->unit, sizeof(out->unit), "%s", hu.unit);
    snprintf(out->item, sizeof(out->item), "%s", hu.item);
    snprintf(out->location, sizeof(out->location), "%s", hu.location);
    snprintf(out->parent, sizeof(out->parent), "%s", hu.parent);
    out->qty_milli = hu.qty_milli;
    out->grade = hu.grade;
    out->created_seq = hu.created_seq;
    return 0;
}

int eng_stock_get(eng_ledger_t *ledger, const char *item, const char *location, const char *status,
                  int64_t *qty_milli)
{
    *qty_milli = 0;
    uint8_t code = 0;
    for (uint8_t i = HU_AVAILABLE; i <= HU_SHIPPED; i++)
        if (strcmp(status_names[i], status) == 0)
            code = i;
    if (code == 0 || strlen(item) > EV_ID_LEN_MAX || strlen(location) > EV_ID_LEN_MAX)
        return FL_EINVAL;
    hu_t key_source = {.format = HU_FORMAT};
    snprintf(key_source.item, sizeof(key_source.item), "%s", item);
    snprintf(key_source.location, sizeof(key_source.location), "%s", location);
    uint8_t key_bytes[STOCK_KEY_MAX];
    MDB_val key = {.mv_size = stock_key(&key_source, code, key_bytes), .mv_data = key_bytes};
    MDB_val value;
    MDB_txn *txn = NULL;
    int rc = eng__read_begin(ledger, &txn);
    if (rc != 0)
        return rc;
    rc = mdb_get(txn, ledger->dbi_stock, &key, &value);
    if (rc == 0 && value.mv_size == sizeof(*qty_milli))
        memcpy(qty_milli, value.mv_data, sizeof(*qty_milli));
    else if (rc == 0)
        rc = MDB_CORRUPTED;
    eng__read_end(ledger, txn);
    return rc == MDB_NOTFOUND ? 0 : eng__err_from_mdb(rc);
}

typedef char node_name_t[EV_NAME_LEN_MAX + 1];

static bool node_seen(node_name_t *nodes, uint32_t count, const char *name, size_t len)
{
    for (uint32_t i = 0; i < count; i++)
        if (strlen(nodes[i]) == len && memcmp(nodes[i], name, len) == 0)
            return true;
    return false;
}

/* The links of one node in one direction, each new neighbour queued. */
static int walk_node(MDB_cursor *cursor, const char *node, char direction, uint32_t depth,
                     node_name_t *nodes, uint32_t *count, uint32_t nodes_max, eng_link_cb cb,
                     void *data, bool *stopped, bool *truncated)
{
    uint8_t prefix[EV_NAME_LEN_MAX + 4];
    size_t node_len = strlen(node);
    memcpy(prefix, node, node_len);
    prefix[node_len] = 0;
    prefix[node_len + 1] = (uint8_t)direction;
    prefix[node_len + 2] = 0;
    size_t prefix_len = node_len + 3;
    MDB_val key = {.mv_size = prefix_len, .mv_data = prefix}, value;
    int rc;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
         rc == 0 && key.mv_size > prefix_len && memcmp(key.mv_data, prefix, prefix_len) == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        const char *other = (const char *)key.mv_data + prefix_len;
        size_t other_len = key.mv_size - prefix_len;
        if (other_len > EV_NAME_LEN_MAX || value.mv_size != sizeof(link_t))
            return MDB_CORRUPTED;
        link_t stored;
        memcpy(&stored, value.mv_data, sizeof(stored));
        eng_link_t link = {.seq = stored.seq, .depth = depth};
        snprintf(link.kind, sizeof(link.kind), "%s", stored.kind);
        bool down = direction == 'd';
        snprintf(down ? link.from : link.to, sizeof(link.from), "%s", node);
        snprintf(down ? link.to : link.from, sizeof(link.to), "%.*s", (int)other_len, other);
        if (cb(&link, data) != 0) {
            *stopped = true;
            return 0;
        }
        if (node_seen(nodes, *count, other, other_len))
            continue;
        if (*count == nodes_max) {
            *truncated = true;
            continue;
        }
        snprintf(nodes[(*count)++], sizeof(node_name_t), "%.*s", (int)other_len, other);
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int eng_genealogy(eng_ledger_t *ledger, const char *entity, int direction, uint32_t depth_max,
                  uint32_t nodes_max, eng_link_cb cb, void *data)
{
    if (entity == NULL || strlen(entity) == 0 || strlen(entity) > EV_NAME_LEN_MAX ||
        (direction != ENG_FORWARD && direction != ENG_BACKWARD) || cb == NULL)
        return FL_EINVAL;
    if (nodes_max == 0 || nodes_max > ENG_GENEALOGY_NODES_MAX)
        nodes_max = ENG_GENEALOGY_NODES_MAX;
    node_name_t *nodes = calloc(nodes_max, sizeof(*nodes));
    if (nodes == NULL)
        return FL_ENOMEM;
    MDB_txn *txn = NULL;
    MDB_cursor *cursor = NULL;
    int rc = eng__read_begin(ledger, &txn);
    if (rc != 0)
        goto done;
    if ((rc = mdb_cursor_open(txn, ledger->dbi_links, &cursor)) != 0) {
        rc = eng__err_from_mdb(rc);
        goto done;
    }
    snprintf(nodes[0], sizeof(node_name_t), "%s", entity);
    uint32_t count = 1, level_start = 0, level_end = 1;
    bool stopped = false, truncated = false;
    char way = direction == ENG_FORWARD ? 'd' : 'u';
    for (uint32_t depth = 1; depth <= depth_max && level_start < level_end && !stopped; depth++) {
        for (uint32_t i = level_start; i < level_end && !stopped && rc == 0; i++)
            rc = walk_node(cursor, nodes[i], way, depth, nodes, &count, nodes_max, cb, data,
                           &stopped, &truncated);
        if (rc != 0)
            break;
        level_start = level_end;
        level_end = count;
    }
    rc = rc != 0 ? eng__err_from_mdb(rc) : truncated ? FL_ETOOBIG : 0;
done:
    if (cursor != NULL)
        mdb_cursor_close(cursor);
    if (txn != NULL)
        eng__read_end(ledger, txn);
    free(nodes);
    return rc;
}

/* ---- dispatch */

typedef struct {
    const char *type;
    int (*apply)(rule_t *r);
} rule_entry_t;

/* Sorted by type name. */
static const rule_entry_t rules[] = {
    {"ArticleSpecDefined", rule_article},
    {"BeamDismounted", rule_beam_dismounted},
    {"BeamMounted", rule_beam_mounted},
    {"CuttingDeclared", rule_cut},
    {"FirstPieceInspected", rule_first_piece},
    {"GoodsReceived", rule_hu_created},
    {"HUPacked", rule_packed},
    {"HUPalletized", rule_palletized},
    {"HUUnpacked", rule_unpacked},
    {"LoomDefined", rule_loom_defined},
    {"LoomRestarted", rule_loom_restarted},
    {"LoomStopped", rule_loom_stopped},
    {"LotPutOnHold", rule_hold},
    {"LotRejected", rule_reject},
    {"LotReleased", rule_release},
    {"OFCancelled", rule_order_cancelled},
    {"OFClosed", rule_order_closed},
    {"OFCreated", rule_order_created},
    {"OFEndedOnLoom", rule_order_ended},
    {"OFReleased", rule_order_released},
    {"OFStartedOnLoom", rule_order_started},
    {"ProductionDeclared", rule_production},
    {"StockTransferred", rule_hu_moved},
};

static const rule_entry_t *rule_find(const char *type)
{
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        if (strcmp(rules[i].type, type) == 0)
            return &rules[i];
    return NULL;
}

int eng__rules_apply(eng_ledger_t *ledger, MDB_txn *txn, const eng_event_t *event, uint64_t seq,
                     int *code, char *detail, size_t detail_size)
{
    *code = 0;
    const ev_type_t *type = ev_type_find(event->type, strlen(event->type));
    if (type == NULL) {
        snprintf(detail, detail_size, "no event type \"%s\" in the catalog", event->type);
        *code = FL_EUNKNOWN_TYPE;
        return 0;
    }
    const rule_entry_t *entry = rule_find(type->name);
    if (entry == NULL)
        return 0;
    rule_t r = {
        .ledger = ledger, .txn = txn, .seq = seq, .detail = detail, .detail_size = detail_size};
    size_t offset = 0;
    msgpack_zone_clear(&ledger->rules_zone);
    if (msgpack_unpack((const char *)event->payload, event->payload_len, &offset,
                       &ledger->rules_zone, &r.payload) != MSGPACK_UNPACK_SUCCESS ||
        r.payload.type != MSGPACK_OBJECT_MAP) {
        snprintf(detail, detail_size, "the payload is not a catalog payload");
        *code = FL_EINVALID_VALUE;
        return 0;
    }
    int rc = entry->apply(&r);
    *code = r.code;
    return rc;
}
