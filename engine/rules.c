/*
 * rules.c: the plant's state beside the log, and the rules every event is checked against,
 * inside the append transaction.
 *
 * Each rule reads what it needs and checks everything before it writes anything, so a refused
 * event leaves the state as it found it (an atomic group is rolled back by its nested
 * transaction, a failed batch by its aborted one). A refusal carries a code of its own
 * (FL_ERULE_...) and a detail naming the rule and the entity.
 *
 * State tables (docs/engine.md describes them and every rule):
 *   hus       "hu-<id>"                       -> hu_t (status, quantity, item, location, parent,
 *                                                holder, quantity out on the floor)
 *   stock     item 0x00 location 0x00 status grade -> i64 quantity in thousandths (no zero rows)
 *   articles  "item-<id>"                     -> article_t (tolerances from ArticleSpecDefined)
 *   orders    "of-<id>"                       -> order_t (state, plan, declared so far)
 *   looms     "loom-<id>"                     -> loom_t (order, first piece, beams, stop reason)
 *   beams     "beam-<id>"                     -> beam_t (loom and position, length left, yarn)
 *   records   "<kind>-<id>"                   -> record_t (int, nc, count, ship, label) or
 *                                                sublot_t ("sublot-<id>")
 *   children  group 0x00 id                   -> empty: what a container holds, what a shipment
 *                                                carries, what a sublot sent, what a count covers
 *   links     to 0x00 'u' 0x00 from (+ 'd')  -> link_t: genealogy (rules.md: which 'd' keys)
 *
 * The rules live in rules_units.c (units: created, moved, held, cut, packed, split, scrapped,
 * labelled, yarn issued), rules_stock.c (shipments, subcontract lots, counts) and
 * rules_floor.c (orders, production, looms, beams, interventions, non-conformities); the
 * dispatch table below names the type each one checks. Types without an entry (master data
 * other than articles and looms, inspections, requests, shifts, users...) are recorded with no
 * state effect.
 */
#define _POSIX_C_SOURCE 200809L
#include "engine/rules_int.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const eng__hu_status_names[] = {"",         "available", "on hold", "released",
                                            "rejected", "consumed",  "shipped"};
const char *const eng__of_state_names[] = {"",       "created",  "released", "in progress",
                                           "closed", "cancelled"};

int eng__refuse(rule_t *r, int code, const char *format, ...)
{
    r->code = code;
    va_list args;
    va_start(args, format);
    vsnprintf(r->detail, r->detail_size, format, args);
    va_end(args);
    return 0;
}

/* ---- payload access (the catalog validated the payload; a misfit is a refusal, not a crash) */

const msgpack_object *eng__member(const msgpack_object *map, const char *name)
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

bool eng__text(const msgpack_object *map, const char *name, char *out, size_t size)
{
    const msgpack_object *value = eng__member(map, name);
    if (value == NULL || value->type != MSGPACK_OBJECT_STR || value->via.str.size >= size)
        return false;
    memcpy(out, value->via.str.ptr, value->via.str.size);
    out[value->via.str.size] = '\0';
    return true;
}

bool eng__number(const msgpack_object *map, const char *name, int64_t *out)
{
    const msgpack_object *value = eng__member(map, name);
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

/* A unit is stored packed like the other state records (eng__state_pack below): hu_t's fixed
 * text fields made a record of 368 bytes where about 60 carry something, eleven units to a page
 * instead of about fifty, and so many more pages written by every commit that creates or
 * changes units. Units stored whole by earlier versions still read. */
int eng__hu_get(rule_t *r, const char *id, hu_t *out, bool *found)
{
    char key_text[EV_NAME_LEN_MAX + 1];
    int len = eng__cat(key_text, sizeof(key_text), "hu-", id);
    MDB_val key = {.mv_size = (size_t)len, .mv_data = key_text}, value;
    int rc = mdb_get(r->txn, r->ledger->dbi_hus, &key, &value);
    *found = rc == 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    /* paired with hu_put's assertions */
    bool valid = eng__state_unpack(&value, out, sizeof(*out)) && out->format == HU_FORMAT &&
                 out->status >= HU_AVAILABLE && out->status <= HU_SHIPPED && out->qty_milli >= 0;
    return valid ? 0 : MDB_CORRUPTED;
}

int eng__hu_put(rule_t *r, const char *id, const hu_t *hu)
{
    assert(hu->format == HU_FORMAT && hu->qty_milli >= 0);
    assert(hu->status >= HU_AVAILABLE && hu->status <= HU_SHIPPED);
    char key_text[EV_NAME_LEN_MAX + 1];
    int len = eng__cat(key_text, sizeof(key_text), "hu-", id);
    uint8_t packed[ENG_STATE_PACKED_MAX(sizeof(hu_t))];
    MDB_val key = {.mv_size = (size_t)len, .mv_data = key_text};
    MDB_val value = {.mv_size = eng__state_pack(hu, sizeof(*hu), packed, sizeof(packed)),
                     .mv_data = packed};
#ifdef FL_EXPENSIVE_CHECKS
    hu_t check;
    assert(eng__state_unpack(&value, &check, sizeof(check)) &&
           memcmp(&check, hu, sizeof(check)) == 0);
#endif
    int rc = mdb_put(r->txn, r->ledger->dbi_hus, &key, &value, 0);
    return rc != 0 ? rc : eng__changed(r, ENG_ROW_HU, key_text + 3, (size_t)len - 3);
}

/* Adds delta to the balance of (item, location, status). A balance below zero means the state
 * disagrees with itself, which the HU checks make impossible: it is reported as corruption. */
size_t eng__stock_key(const hu_t *hu, uint8_t status, uint8_t out[STOCK_KEY_MAX])
{
    size_t item_len = strlen(hu->item), location_len = strlen(hu->location);
    memcpy(out, hu->item, item_len);
    out[item_len] = 0;
    memcpy(out + item_len + 1, hu->location, location_len);
    out[item_len + 1 + location_len] = 0;
    out[item_len + 2 + location_len] = status;
    out[item_len + 3 + location_len] = hu->grade;
    return item_len + location_len + 4;
}

static int stock_add(rule_t *r, const hu_t *hu, uint8_t status, int64_t delta)
{
    uint8_t key_bytes[STOCK_KEY_MAX];
    MDB_val key = {.mv_size = eng__stock_key(hu, status, key_bytes), .mv_data = key_bytes}, value;
    int64_t balance = 0;
    int rc = mdb_get(r->txn, r->ledger->dbi_stock, &key, &value);
    if (rc == 0 && value.mv_size == sizeof(balance))
        memcpy(&balance, value.mv_data, sizeof(balance));
    else if (rc != MDB_NOTFOUND)
        return rc == 0 ? MDB_CORRUPTED : rc;
    balance += delta;
    if (balance < 0)
        return MDB_CORRUPTED;
    if (balance == 0) /* no row for nothing: listings see only what is there */
        rc = mdb_del(r->txn, r->ledger->dbi_stock, &key, NULL);
    else
        rc = mdb_put(r->txn, r->ledger->dbi_stock, &key,
                     &(MDB_val){.mv_size = sizeof(balance), .mv_data = &balance}, 0);
    return rc != 0 ? rc : eng__changed(r, ENG_ROW_STOCK, key_bytes, key.mv_size);
}

/* Writes hu and moves its stock from what it was (old, NULL for a new unit). */
int eng__hu_update(rule_t *r, const char *id, const hu_t *old, const hu_t *hu)
{
    int rc = 0;
    if (old != NULL && old->qty_milli > 0)
        rc = stock_add(r, old, old->status, -old->qty_milli);
    if (rc == 0 && hu->qty_milli > 0)
        rc = stock_add(r, hu, hu->status, hu->qty_milli);
    return rc != 0 ? rc : eng__hu_put(r, id, hu);
}

int eng__article_get(rule_t *r, const char *item, article_t *out)
{
    char key_text[EV_NAME_LEN_MAX + 1];
    int len = eng__cat(key_text, sizeof(key_text), "item-", item);
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

/* Records of the state tables keyed "<kind>-<id>": orders, looms, beams, records and lots
 * (fixed layouts with a format byte 1, like hu_t). Their text fields are mostly padding: a loom
 * is 572 bytes of which a few dozen say something. So they are stored packed (format 2): the
 * bytes after the format byte as runs, each a count of bytes given then a count of zero bytes
 * left out (one byte each, at most 255). Records stored whole by earlier versions still read. */
#define STATE_PACKED 2

/* The records are mostly zeros: runs are scanned a word at a time, then byte by byte. */
#define BYTES_ONES  0x0101010101010101ull
#define BYTES_HIGHS 0x8080808080808080ull

static inline uint64_t load_word(const uint8_t *p)
{
    uint64_t word;
    memcpy(&word, p, sizeof(word));
    return word;
}

static inline bool word_has_zero_byte(uint64_t word)
{
    return ((word - BYTES_ONES) & ~word & BYTES_HIGHS) != 0;
}

/* The end of the run of bytes other than zero from i, at most limit. */
static size_t run_given_end(const uint8_t *in, size_t i, size_t limit)
{
    while (i + sizeof(uint64_t) <= limit && !word_has_zero_byte(load_word(in + i)))
        i += sizeof(uint64_t);
    while (i < limit && in[i] != 0)
        i++;
    return i;
}

/* The end of the run of zeros from i, at most limit. */
static size_t run_zeros_end(const uint8_t *in, size_t i, size_t limit)
{
    while (i + sizeof(uint64_t) <= limit && load_word(in + i) == 0)
        i += sizeof(uint64_t);
    while (i < limit && in[i] == 0)
        i++;
    return i;
}

size_t eng__state_pack(const void *record, size_t size, uint8_t *out, size_t out_size)
{
    const uint8_t *in = record;
    assert(size >= 1 && in[0] == 1 && out_size >= ENG_STATE_PACKED_MAX(size));
    size_t at = 0, i = 1;
    out[at++] = STATE_PACKED;
    while (i < size) {
        size_t start = i;
        i = run_given_end(in, i, size - start > UINT8_MAX ? start + UINT8_MAX : size);
        /* Text fields keep old bytes past their end: runs can be short enough that the packed
         * form would not be smaller. Then the record is stored whole (format 1). */
        if (at + 2 + (i - start) >= size) {
            memcpy(out, record, size);
            return size;
        }
        out[at++] = (uint8_t)(i - start);
        memcpy(out + at, in + start, i - start);
        at += i - start;
        start = i;
        i = run_zeros_end(in, i, size - start > UINT8_MAX ? start + UINT8_MAX : size);
        out[at++] = (uint8_t)(i - start);
    }
    assert(at < size);
    return at;
}

bool eng__state_unpack(const MDB_val *value, void *record, size_t size)
{
    const uint8_t *in = value->mv_data;
    uint8_t *out = record;
    if (value->mv_size == size && value->mv_size > 0 && in[0] == 1) { /* stored whole */
        memcpy(record, in, size);
        return true;
    }
    if (value->mv_size < 1 || in[0] != STATE_PACKED)
        return false;
    size_t at = 1, filled = 1;
    out[0] = 1;
    while (at < value->mv_size) {
        size_t given = in[at++];
        if (given > value->mv_size - at || given > size - filled)
            return false;
        memcpy(out + filled, in + at, given);
        at += given;
        filled += given;
        if (at >= value->mv_size)
            return false; /* every run ends with its count of zeros */
        size_t zeros = in[at++];
        if (zeros > size - filled)
            return false;
        memset(out + filled, 0, zeros);
        filled += zeros;
    }
    return filled == size;
}

int eng__state_get(rule_t *r, MDB_dbi dbi, const char *kind, const char *id, void *out, size_t size,
                   bool *found)
{
    char key_text[EV_NAME_LEN_MAX + 1];
    int len = eng__join(key_text, sizeof(key_text), kind, '-', id);
    MDB_val key = {.mv_size = (size_t)len, .mv_data = key_text}, value;
    int rc = mdb_get(r->txn, dbi, &key, &value);
    *found = rc == 0;
    memset(out, 0, size);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    return eng__state_unpack(&value, out, size) ? 0 : MDB_CORRUPTED;
}

int eng__state_put(rule_t *r, MDB_dbi dbi, const char *kind, const char *id, const void *record,
                   size_t size)
{
    assert(((const uint8_t *)record)[0] == 1); /* every record is at format 1 */
    assert(size <= ENG_STATE_RECORD_MAX);
    char key_text[EV_NAME_LEN_MAX + 1];
    int len = eng__join(key_text, sizeof(key_text), kind, '-', id);
    uint8_t packed[ENG_STATE_PACKED_MAX(ENG_STATE_RECORD_MAX)];
    MDB_val key = {.mv_size = (size_t)len, .mv_data = key_text};
    MDB_val value = {.mv_size = eng__state_pack(record, size, packed, sizeof(packed)),
                     .mv_data = packed};
#ifdef FL_EXPENSIVE_CHECKS
    uint8_t check[ENG_STATE_RECORD_MAX];
    assert(eng__state_unpack(&value, check, size) && memcmp(check, record, size) == 0);
#endif
    int rc = mdb_put(r->txn, dbi, &key, &value, 0);
    uint8_t row = dbi == r->ledger->dbi_orders  ? ENG_ROW_ORDER
                  : dbi == r->ledger->dbi_looms ? ENG_ROW_LOOM
                  : dbi == r->ledger->dbi_beams ? ENG_ROW_BEAM
                                                : ENG_ROW_RECORD;
    size_t skip = row == ENG_ROW_RECORD ? 0 : strlen(kind) + 1; /* records keep their kind */
    return rc != 0 ? rc : eng__changed(r, row, key_text + skip, (size_t)len - skip);
}

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

int eng__link_add(rule_t *r, const char *from, const char *to, const char *kind)
{
    uint8_t key_bytes[2 * EV_NAME_LEN_MAX + 4];
    link_t link = {.seq = r->seq};
    eng__cat(link.kind, sizeof(link.kind), kind, "");
    MDB_val value = {.mv_size = sizeof(link), .mv_data = &link};
    MDB_val key = {.mv_size = link_key(to, 'u', from, key_bytes), .mv_data = key_bytes};
    int rc = mdb_put(r->txn, r->ledger->dbi_links, &key, &value, 0);
    if (rc == 0)
        rc = eng__changed(r, ENG_ROW_LINK, key_bytes, key.mv_size);
    if (rc != 0 || eng__link_indexed(from))
        return rc; /* the walk finds these from the events (rules_read.c) */
    key.mv_size = link_key(from, 'd', to, key_bytes);
    return mdb_put(r->txn, r->ledger->dbi_links, &key, &value, 0);
}

/* The change journal: each event's changed keys, entries of [kind u8][length u16 BE][key]. */
#define CHANGES_BYTES_MAX (1u << 22) /* a pallet of 4,096 units moved: well under this */

int eng__changed(rule_t *r, uint8_t kind, const void *key, size_t len)
{
    eng_ledger_t *ledger = r->ledger;
    assert(len > 0 && len <= UINT16_MAX);
    if (ledger->config.state_only)
        return 0;                                    /* no journal kept (eng__rules_apply) */
    for (size_t at = 0; at < ledger->changes_len;) { /* each key once per event */
        size_t entry_len = (size_t)ledger->changes[at + 1] << 8 | ledger->changes[at + 2];
        if (ledger->changes[at] == kind && entry_len == len &&
            memcmp(ledger->changes + at + 3, key, len) == 0)
            return 0;
        at += 3 + entry_len;
    }
    size_t need = ledger->changes_len + 3 + len;
    if (need > CHANGES_BYTES_MAX)
        return MDB_BAD_VALSIZE; /* bounded like everything else; cannot happen in practice */
    if (need > ledger->changes_cap) {
        size_t cap = ledger->changes_cap == 0 ? 4096 : ledger->changes_cap * 2;
        while (cap < need)
            cap *= 2;
        uint8_t *grown = realloc(ledger->changes, cap);
        if (grown == NULL)
            return ENOMEM;
        ledger->changes = grown;
        ledger->changes_cap = cap;
    }
    uint8_t *entry = ledger->changes + ledger->changes_len;
    entry[0] = kind;
    entry[1] = (uint8_t)(len >> 8);
    entry[2] = (uint8_t)len;
    memcpy(entry + 3, key, len);
    ledger->changes_len = need;
    return 0;
}

int eng__member_set(rule_t *r, const char *group, const char *id, bool add)
{
    uint8_t key_bytes[2 * EV_NAME_LEN_MAX + 4];
    int len = eng__join((char *)key_bytes, sizeof(key_bytes), group, 0, id);
    MDB_val key = {.mv_size = (size_t)len, .mv_data = key_bytes};
    MDB_val value = {.mv_size = 0, .mv_data = NULL};
    if (add)
        return mdb_put(r->txn, r->ledger->dbi_children, &key, &value, 0);
    int rc = mdb_del(r->txn, r->ledger->dbi_children, &key, NULL);
    return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
}

int eng__member_has(rule_t *r, const char *group, const char *id, bool *found)
{
    uint8_t key_bytes[2 * EV_NAME_LEN_MAX + 4];
    int len = eng__join((char *)key_bytes, sizeof(key_bytes), group, 0, id);
    MDB_val key = {.mv_size = (size_t)len, .mv_data = key_bytes}, value;
    int rc = mdb_get(r->txn, r->ledger->dbi_children, &key, &value);
    *found = rc == 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int eng__members_each(rule_t *r, const char *group,
                      int (*fn)(rule_t *r, const char *id, void *data), void *data)
{
    char prefix[EV_NAME_LEN_MAX + 2];
    int prefix_len = eng__join(prefix, sizeof(prefix), group, 0, "");
    MDB_cursor *cursor;
    int rc = mdb_cursor_open(r->txn, r->ledger->dbi_children, &cursor);
    if (rc != 0)
        return rc;
    MDB_val key = {.mv_size = (size_t)prefix_len, .mv_data = prefix}, value;
    rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
    while (rc == 0 && key.mv_size > (size_t)prefix_len &&
           memcmp(key.mv_data, prefix, (size_t)prefix_len) == 0 && r->code == 0) {
        char id[EV_NAME_LEN_MAX + 1], resume[2 * EV_NAME_LEN_MAX + 4];
        size_t id_len = key.mv_size - (size_t)prefix_len, resume_len = key.mv_size;
        if (id_len >= sizeof(id) || resume_len > sizeof(resume)) {
            rc = MDB_CORRUPTED;
            break;
        }
        memcpy(id, (const char *)key.mv_data + prefix_len, id_len);
        id[id_len] = '\0';
        memcpy(resume, key.mv_data, resume_len);
        if ((rc = fn(r, id, data)) != 0)
            break;
        /* fn may have written, even this member away: find our place again by key. */
        key = (MDB_val){.mv_size = resume_len, .mv_data = resume};
        rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
        if (rc == 0 && key.mv_size == resume_len && memcmp(key.mv_data, resume, resume_len) == 0)
            rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
    }
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

bool eng__id_at(const msgpack_object *array, uint32_t i, char *out, size_t size)
{
    if (array == NULL || array->type != MSGPACK_OBJECT_ARRAY || i >= array->via.array.size)
        return false;
    const msgpack_object *item = &array->via.array.ptr[i];
    if (item->type != MSGPACK_OBJECT_STR || item->via.str.size == 0 || item->via.str.size >= size)
        return false;
    memcpy(out, item->via.str.ptr, item->via.str.size);
    out[item->via.str.size] = '\0';
    return true;
}

int eng__hu_known(rule_t *r, const char *id, hu_t *hu)
{
    bool found;
    int rc = eng__hu_get(r, id, hu, &found);
    if (rc == 0 && !found)
        eng__refuse(r, FL_ERULE_HU_UNKNOWN, "no handling unit hu-%s in this plant", id);
    return rc;
}

/* A unit that may move, be cut or packed: known, and neither held, rejected, used up nor
 * shipped. Returns false (with the refusal set) otherwise. */
bool eng__hu_usable(rule_t *r, const char *id, const hu_t *hu, bool found)
{
    if (!found) {
        eng__refuse(r, FL_ERULE_HU_UNKNOWN, "no handling unit hu-%s in this plant", id);
        return false;
    }
    if (hu->status == HU_ON_HOLD || hu->status == HU_REJECTED) {
        eng__refuse(r, FL_ERULE_HU_HELD, "hu-%s is %s: it may not move, be cut, packed or shipped",
                    id, eng__hu_status_names[hu->status]);
        return false;
    }
    if (hu->status == HU_CONSUMED || hu->status == HU_SHIPPED) {
        eng__refuse(r, FL_ERULE_STATE, "hu-%s is %s", id, eng__hu_status_names[hu->status]);
        return false;
    }
    if (hu->holder[0] != '\0') {
        eng__refuse(r, FL_ERULE_STATE, "hu-%s is held by %s: it moves only with it", id,
                    hu->holder);
        return false;
    }
    return true;
}

/* ---- the rules */

uint8_t eng__grade(const msgpack_object *map)
{
    char grade[16];
    if (!eng__text(map, "grade", grade, sizeof(grade)))
        return 0;
    return strcmp(grade, "first") == 0 ? 1 : 2;
}
/* ArticleSpecDefined: the article's tolerances, which later rules read. */
int eng__rule_article(rule_t *r)
{
    char item[EV_ID_LEN_MAX + 1], key_text[EV_NAME_LEN_MAX + 1];
    article_t article = {.format = ARTICLE_FORMAT};
    const msgpack_object *first_piece = eng__member(&r->payload, "first_piece_required");
    if (!eng__text(&r->payload, "item_id", item, sizeof(item)) ||
        !eng__number(&r->payload, "cutting_tolerance_permille",
                     &article.cutting_tolerance_permille) ||
        !eng__number(&r->payload, "overproduction_allowed_permille",
                     &article.overproduction_allowed_permille))
        return eng__refuse(r, FL_EINVALID_VALUE, "the payload does not describe an article");
    if (!eng__number(&r->payload, "pile_ratio_milli", &article.pile_ratio_milli))
        article.pile_ratio_milli = 0;
    article.first_piece_required = first_piece != NULL &&
                                   first_piece->type == MSGPACK_OBJECT_BOOLEAN &&
                                   first_piece->via.boolean;
    int len = eng__cat(key_text, sizeof(key_text), "item-", item);
    MDB_val key = {.mv_size = (size_t)len, .mv_data = key_text};
    MDB_val value = {.mv_size = sizeof(article), .mv_data = &article};
    int rc = mdb_put(r->txn, r->ledger->dbi_articles, &key, &value, 0);
    return rc != 0 ? rc : eng__changed(r, ENG_ROW_ARTICLE, item, strlen(item));
}

/* ---- dispatch */

typedef struct {
    const char *type;
    int (*apply)(rule_t *r);
} rule_entry_t;

/* Sorted by type name. */
static const rule_entry_t rules[] = {
    {"ArticleSpecDefined", eng__rule_article},
    {"BeamDismounted", eng__rule_beam_dismounted},
    {"BeamMounted", eng__rule_beam_mounted},
    {"BeamRegistered", eng__rule_beam_registered},
    {"ContainmentRecorded", eng__rule_nc_contained},
    {"CorrectiveActionRecorded", eng__rule_nc_action},
    {"CountClosed", eng__rule_count_closed},
    {"CountOpened", eng__rule_count_opened},
    {"CuttingDeclared", eng__rule_cut},
    {"DeviationApproved", eng__rule_deviation},
    {"FirstPieceInspected", eng__rule_first_piece},
    {"GoodsReceived", eng__rule_hu_created},
    {"HUPacked", eng__rule_packed},
    {"HUPalletized", eng__rule_palletized},
    {"HUReceivedAtCutting", eng__rule_hu_moved},
    {"HUScrapped", eng__rule_scrapped},
    {"HUSplit", eng__rule_split},
    {"HUUnpacked", eng__rule_unpacked},
    {"HUVoided", eng__rule_voided},
    {"InterventionAcknowledged", eng__rule_int_acknowledged},
    {"InterventionCancelled", eng__rule_int_cancelled},
    {"InterventionCompleted", eng__rule_int_completed},
    {"InterventionPaused", eng__rule_int_paused},
    {"InterventionRequested", eng__rule_int_requested},
    {"InterventionResumed", eng__rule_int_resumed},
    {"InterventionStarted", eng__rule_int_started},
    {"InventoryAdjusted", eng__rule_inventory_adjusted},
    {"ItemCounted", eng__rule_item_counted},
    {"LabelPrinted", eng__rule_label_printed},
    {"LabelReprinted", eng__rule_label_reprinted},
    {"LoomDefined", eng__rule_loom_defined},
    {"LoomRestarted", eng__rule_loom_restarted},
    {"LoomStopped", eng__rule_loom_stopped},
    {"LotPutOnHold", eng__rule_hold},
    {"LotRejected", eng__rule_reject},
    {"LotReleased", eng__rule_release},
    {"LotReturnedFromSubcontractor", eng__rule_lot_returned},
    {"LotSentToSubcontractor", eng__rule_lot_sent},
    {"MaterialIssuedToLoom", eng__rule_material_issued},
    {"MaterialReturned", eng__rule_material_returned},
    {"NCClosed", eng__rule_nc_closed},
    {"NCOpened", eng__rule_nc_opened},
    {"OFCancelled", eng__rule_order_cancelled},
    {"OFClosed", eng__rule_order_closed},
    {"OFCreated", eng__rule_order_created},
    {"OFEndedOnLoom", eng__rule_order_ended},
    {"OFQuantityRevised", eng__rule_order_revised},
    {"OFReleased", eng__rule_order_released},
    {"OFStartedOnLoom", eng__rule_order_started},
    {"OperatorAssignedToLoom", eng__rule_operator_assigned},
    {"OperatorUnassignedFromLoom", eng__rule_operator_unassigned},
    {"ProductionDeclared", eng__rule_production},
    {"ShipmentDispatched", eng__rule_shipment_dispatched},
    {"ShipmentLoaded", eng__rule_shipment_loaded},
    {"ShipmentPlanned", eng__rule_shipment_planned},
    {"ShipmentUnloaded", eng__rule_shipment_unloaded},
    {"SparePartIssued", eng__rule_spare_part_issued},
    {"StockTransferred", eng__rule_hu_moved},
    {"TransferDispatched", eng__rule_transfer_dispatched},
    {"TransferReceived", eng__rule_transfer_received},
};

static const rule_entry_t *rule_find(const char *type)
{
    size_t low = 0, high = sizeof(rules) / sizeof(rules[0]);
    while (low < high) { /* binary search: the table is sorted by type */
        size_t middle = low + (high - low) / 2;
        int order = strcmp(rules[middle].type, type);
        if (order == 0)
            return &rules[middle];
        if (order < 0)
            low = middle + 1;
        else
            high = middle;
    }
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
    ledger->changes_len = 0;
    int rc = entry->apply(&r);
    *code = r.code;
    /* A state-only ledger (a replay's target, a snapshot) feeds no projection: no journal, and
     * eng__changed gathers nothing for one. */
    if (rc != 0 || r.code != 0 || ledger->changes_len == 0)
        return rc;
    MDB_val key = {.mv_size = sizeof(seq), .mv_data = &seq};
    MDB_val value = {.mv_size = ledger->changes_len, .mv_data = ledger->changes};
    return mdb_put(txn, ledger->dbi_changes, &key, &value, MDB_APPEND);
}
