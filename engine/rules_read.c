/*
 * rules_read.c: the read functions of engine.h over the plant's state tables, each in one
 * LMDB read transaction.
 */
#define _POSIX_C_SOURCE 200809L
#include "engine/rules_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reads */

static void hu_view(const hu_t *hu, eng_hu_view_t *out)
{
    _Static_assert(sizeof(out->item) >= sizeof(hu->item), "views hold any id");
    _Static_assert(sizeof(out->holder) >= sizeof(hu->holder), "views hold any holder");
    memset(out, 0, sizeof(*out));
    snprintf(out->status, sizeof(out->status), "%s", eng__hu_status_names[hu->status]);
    snprintf(out->unit, sizeof(out->unit), "%s", hu->unit);
    snprintf(out->item, sizeof(out->item), "%s", hu->item);
    snprintf(out->location, sizeof(out->location), "%s", hu->location);
    snprintf(out->parent, sizeof(out->parent), "%s", hu->parent);
    snprintf(out->holder, sizeof(out->holder), "%s", hu->holder);
    out->qty_milli = hu->qty_milli;
    out->grade = hu->grade;
    out->created_seq = hu->created_seq;
    out->out_milli = hu->out_milli;
}

static bool id_ok(const char *id)
{
    return id != NULL && id[0] != '\0' && strlen(id) <= EV_ID_LEN_MAX;
}

int eng_hu_get(eng_ledger_t *ledger, const char *hu_id, eng_hu_view_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!id_ok(hu_id))
        return FL_EINVAL;
    rule_t r = {.ledger = ledger};
    int rc = eng__read_begin(ledger, &r.txn);
    if (rc != 0)
        return rc;
    hu_t hu;
    bool found = false;
    rc = eng__err_from_mdb(eng__hu_get(&r, hu_id, &hu, &found));
    eng__read_end(ledger, r.txn);
    if (rc != 0)
        return rc;
    if (!found)
        return FL_ENOENT;
    hu_view(&hu, out);
    return 0;
}

#define CONTENTS_DEPTH_MAX 8

typedef struct {
    eng_hu_cb cb;
    void *data;
    bool stopped;
} contents_t;

/* One unit, then its members; each level has its own cursor (the tree is shallow). */
static int contents_walk(rule_t *r, const char *id, uint32_t depth, contents_t *walk)
{
    hu_t hu;
    bool found;
    eng_hu_view_t view;
    int rc = eng__hu_get(r, id, &hu, &found);
    if (rc != 0)
        return rc;
    if (!found)
        return depth == 0 ? FL_ENOENT : MDB_CORRUPTED;
    if (depth > CONTENTS_DEPTH_MAX)
        return MDB_CORRUPTED;
    hu_view(&hu, &view);
    if (walk->cb(id, &view, depth, walk->data) != 0) {
        walk->stopped = true;
        return 0;
    }
    char prefix[EV_NAME_LEN_MAX + 2];
    int prefix_len = snprintf(prefix, sizeof(prefix), "hu-%s%c", id, 0);
    MDB_cursor *cursor;
    if ((rc = mdb_cursor_open(r->txn, r->ledger->dbi_children, &cursor)) != 0)
        return rc;
    MDB_val key = {.mv_size = (size_t)prefix_len, .mv_data = prefix}, value;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
         rc == 0 && !walk->stopped && key.mv_size > (size_t)prefix_len &&
         memcmp(key.mv_data, prefix, (size_t)prefix_len) == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        char child[EV_ID_LEN_MAX + 1];
        size_t len = key.mv_size - (size_t)prefix_len;
        if (len >= sizeof(child)) {
            rc = MDB_CORRUPTED;
            break;
        }
        memcpy(child, (const char *)key.mv_data + prefix_len, len);
        child[len] = '\0';
        if ((rc = contents_walk(r, child, depth + 1, walk)) != 0)
            break;
    }
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int eng_hu_contents(eng_ledger_t *ledger, const char *hu_id, eng_hu_cb cb, void *data)
{
    if (!id_ok(hu_id) || cb == NULL)
        return FL_EINVAL;
    rule_t r = {.ledger = ledger};
    int rc = eng__read_begin(ledger, &r.txn);
    if (rc != 0)
        return rc;
    contents_t walk = {.cb = cb, .data = data};
    rc = contents_walk(&r, hu_id, 0, &walk);
    eng__read_end(ledger, r.txn);
    return rc == FL_ENOENT ? rc : eng__err_from_mdb(rc);
}

static int status_code(const char *status)
{
    for (int i = HU_AVAILABLE; i <= HU_SHIPPED; i++)
        if (strcmp(eng__hu_status_names[i], status) == 0)
            return i;
    return 0;
}

/* Splits a stock key "item 0 location 0 status grade" into a row. */
static bool stock_row(const MDB_val *key, const MDB_val *value, eng_stock_row_t *row)
{
    const char *bytes = key->mv_data;
    const char *item_end = memchr(bytes, 0, key->mv_size);
    if (item_end == NULL || value->mv_size != sizeof(int64_t))
        return false;
    size_t item_len = (size_t)(item_end - bytes);
    const char *location = item_end + 1;
    const char *location_end = memchr(location, 0, key->mv_size - item_len - 1);
    if (location_end == NULL || location_end + 3 != bytes + key->mv_size)
        return false;
    uint8_t status = (uint8_t)location_end[1], grade = (uint8_t)location_end[2];
    size_t location_len = (size_t)(location_end - location);
    if (item_len >= sizeof(row->item) || location_len >= sizeof(row->location) ||
        status < HU_AVAILABLE || status > HU_SHIPPED || grade > 2)
        return false;
    snprintf(row->item, sizeof(row->item), "%.*s", (int)item_len, bytes);
    snprintf(row->location, sizeof(row->location), "%.*s", (int)location_len, location);
    snprintf(row->status, sizeof(row->status), "%s", eng__hu_status_names[status]);
    row->grade = grade;
    memcpy(&row->qty_milli, value->mv_data, sizeof(row->qty_milli));
    return true;
}

int eng_stock_each(eng_ledger_t *ledger, const eng_stock_filter_t *filter, eng_stock_cb cb,
                   void *data)
{
    eng_stock_filter_t any = {.grade = -1};
    if (filter == NULL)
        filter = &any;
    if (cb == NULL || (filter->status != NULL && status_code(filter->status) == 0) ||
        (filter->item != NULL && strlen(filter->item) > EV_ID_LEN_MAX))
        return FL_EINVAL;
    MDB_txn *txn = NULL;
    MDB_cursor *cursor = NULL;
    int rc = eng__read_begin(ledger, &txn);
    if (rc != 0)
        return rc;
    if ((rc = mdb_cursor_open(txn, ledger->dbi_stock, &cursor)) != 0)
        goto done;
    /* With an item, start at its first key (item 0x00 ...) and stop after its last. */
    char start[EV_ID_LEN_MAX + 2];
    size_t start_len = 0;
    if (filter->item != NULL)
        start_len = (size_t)snprintf(start, sizeof(start), "%s%c", filter->item, 0);
    MDB_val key = {.mv_size = start_len, .mv_data = start}, value;
    rc = mdb_cursor_get(cursor, &key, &value, start_len > 0 ? MDB_SET_RANGE : MDB_FIRST);
    for (; rc == 0; rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        if (start_len > 0 && (key.mv_size < start_len || memcmp(key.mv_data, start, start_len)))
            break;
        eng_stock_row_t row;
        if (!stock_row(&key, &value, &row)) {
            rc = MDB_CORRUPTED;
            break;
        }
        if ((filter->location != NULL && strcmp(filter->location, row.location) != 0) ||
            (filter->status != NULL && strcmp(filter->status, row.status) != 0) ||
            (filter->grade >= 0 && filter->grade != row.grade))
            continue;
        if (cb(&row, data) != 0)
            break;
    }
done:
    if (cursor != NULL)
        mdb_cursor_close(cursor);
    eng__read_end(ledger, txn);
    return rc == MDB_NOTFOUND ? 0 : eng__err_from_mdb(rc);
}

static int stock_sum(const eng_stock_row_t *row, void *data)
{
    *(int64_t *)data += row->qty_milli;
    return 0;
}

int eng_stock_get(eng_ledger_t *ledger, const char *item, const char *location, const char *status,
                  int64_t *qty_milli)
{
    *qty_milli = 0;
    if (!id_ok(item) || !id_ok(location) || status == NULL)
        return FL_EINVAL;
    eng_stock_filter_t filter = {.item = item, .location = location, .status = status, .grade = -1};
    return eng_stock_each(ledger, &filter, stock_sum, qty_milli);
}

/* Reads one record of a state table in its own read transaction. */
static int state_read(eng_ledger_t *ledger, MDB_dbi dbi, const char *kind, const char *id,
                      void *out, size_t size)
{
    if (!id_ok(id))
        return FL_EINVAL;
    rule_t r = {.ledger = ledger};
    bool found = false;
    int rc = eng__read_begin(ledger, &r.txn);
    if (rc != 0)
        return rc;
    rc = eng__err_from_mdb(eng__state_get(&r, dbi, kind, id, out, size, &found));
    eng__read_end(ledger, r.txn);
    return rc != 0 ? rc : found ? 0 : FL_ENOENT;
}

static void order_view(const order_t *order, eng_order_view_t *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->state, sizeof(out->state), "%s", eng__of_state_names[order->state]);
    snprintf(out->item, sizeof(out->item), "%s", order->item);
    snprintf(out->unit, sizeof(out->unit), "%s", order->unit);
    out->planned_milli = order->planned_milli;
    out->declared_milli = order->declared_milli;
}

int eng_order_get(eng_ledger_t *ledger, const char *of_id, eng_order_view_t *out)
{
    order_t order;
    memset(out, 0, sizeof(*out));
    int rc = state_read(ledger, ledger->dbi_orders, "of", of_id, &order, sizeof(order));
    if (rc == 0)
        order_view(&order, out);
    return rc;
}

static void loom_view(rule_t *r, const char *id, size_t id_len, const loom_t *loom,
                      eng_loom_view_t *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->loom_id, sizeof(out->loom_id), "%.*s", (int)id_len, id);
    out->stopped = loom->stopped;
    snprintf(out->stop_class, sizeof(out->stop_class), "%s", loom->stop_class);
    snprintf(out->stop_code, sizeof(out->stop_code), "%s", loom->stop_code);
    out->since_seq = loom->since_seq;
    snprintf(out->order, sizeof(out->order), "%s", loom->order);
    out->first_piece_passed = loom->first_piece_passed;
    _Static_assert(sizeof(out->operators) / sizeof(out->operators[0]) == LOOM_OPERATORS_MAX,
                   "the view holds every operator");
    for (int i = 0; i < LOOM_OPERATORS_MAX; i++)
        snprintf(out->operators[i], sizeof(out->operators[i]), "%s", loom->operators[i]);
    for (int position = 0; position < BEAM_POSITIONS; position++) {
        beam_t beam;
        bool found = false;
        snprintf(out->beams[position], sizeof(out->beams[position]), "%s", loom->beams[position]);
        if (loom->beams[position][0] != '\0' &&
            eng__state_get(r, r->ledger->dbi_beams, "beam", loom->beams[position], &beam,
                           sizeof(beam), &found) == 0 &&
            found)
            out->beam_remaining_milli[position] = beam.length_milli;
    }
}

int eng_loom_get(eng_ledger_t *ledger, const char *loom_id, eng_loom_view_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!id_ok(loom_id))
        return FL_EINVAL;
    rule_t r = {.ledger = ledger};
    loom_t loom;
    bool found = false;
    int rc = eng__read_begin(ledger, &r.txn);
    if (rc != 0)
        return rc;
    rc = eng__err_from_mdb(
        eng__state_get(&r, ledger->dbi_looms, "loom", loom_id, &loom, sizeof(loom), &found));
    if (rc == 0 && found)
        loom_view(&r, loom_id, strlen(loom_id), &loom, out);
    eng__read_end(ledger, r.txn);
    return rc != 0 ? rc : found ? 0 : FL_ENOENT;
}

int eng_loom_each(eng_ledger_t *ledger, eng_loom_cb cb, void *data)
{
    if (cb == NULL)
        return FL_EINVAL;
    rule_t r = {.ledger = ledger};
    MDB_cursor *cursor = NULL;
    int rc = eng__read_begin(ledger, &r.txn);
    if (rc != 0)
        return rc;
    if ((rc = mdb_cursor_open(r.txn, ledger->dbi_looms, &cursor)) != 0)
        goto done;
    MDB_val key, value;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        loom_t loom;
        eng_loom_view_t view;
        if (!eng__state_unpack(&value, &loom, sizeof(loom)) || key.mv_size <= 5 ||
            key.mv_size > 5 + EV_ID_LEN_MAX) {
            rc = MDB_CORRUPTED;
            break;
        }
        loom_view(&r, (const char *)key.mv_data + 5, key.mv_size - 5, &loom, &view);
        if (cb(&view, data) != 0)
            break;
    }
done:
    if (cursor != NULL)
        mdb_cursor_close(cursor);
    eng__read_end(ledger, r.txn);
    return rc == MDB_NOTFOUND ? 0 : eng__err_from_mdb(rc);
}

static void beam_view(const beam_t *beam, eng_beam_view_t *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->item, sizeof(out->item), "%s", beam->item);
    snprintf(out->loom, sizeof(out->loom), "%s", beam->loom);
    snprintf(out->position, sizeof(out->position), "%s",
             beam->position == BEAM_PILE ? "pile" : "ground");
    out->remaining_milli = beam->length_milli;
}

int eng_beam_get(eng_ledger_t *ledger, const char *beam_id, eng_beam_view_t *out)
{
    beam_t beam;
    memset(out, 0, sizeof(*out));
    int rc = state_read(ledger, ledger->dbi_beams, "beam", beam_id, &beam, sizeof(beam));
    if (rc == 0)
        beam_view(&beam, out);
    return rc;
}

static const struct {
    const char *kind;
    const char *const *states;
    uint8_t states_count;
} record_kinds[] = {
    {"int", eng__int_states, INT_CANCELLED + 1},
    {"nc", eng__nc_states, NC_CLOSED + 1},
    {"count", eng__count_states, COUNT_CLOSED + 1},
    {"ship", eng__ship_states, SHIP_DISPATCHED + 1},
    {"label", NULL, 0},
};

/* The kind's index in record_kinds, -1 when it is none of them. */
static int record_kind(const char *kind, size_t len)
{
    for (size_t i = 0; i < sizeof(record_kinds) / sizeof(record_kinds[0]); i++)
        if (strlen(record_kinds[i].kind) == len && memcmp(record_kinds[i].kind, kind, len) == 0)
            return (int)i;
    return -1;
}

static int record_view(int kind, const record_t *record, eng_record_view_t *out)
{
    memset(out, 0, sizeof(*out));
    if (record_kinds[kind].states == NULL)
        snprintf(out->state, sizeof(out->state), "printed");
    else if (record->state < record_kinds[kind].states_count)
        snprintf(out->state, sizeof(out->state), "%s", record_kinds[kind].states[record->state]);
    else
        return FL_ECORRUPT;
    snprintf(out->subject, sizeof(out->subject), "%s", record->subject);
    out->count = record->count;
    out->since_seq = record->since_seq;
    return 0;
}

int eng_record_get(eng_ledger_t *ledger, const char *kind, const char *id, eng_record_view_t *out)
{
    memset(out, 0, sizeof(*out));
    int index = kind != NULL ? record_kind(kind, strlen(kind)) : -1;
    if (index < 0)
        return FL_EINVAL;
    record_t record;
    int rc = state_read(ledger, ledger->dbi_records, kind, id, &record, sizeof(record));
    return rc != 0 ? rc : record_view(index, &record, out);
}

static void sublot_view(const sublot_t *lot, eng_sublot_view_t *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->state, sizeof(out->state), "%s", eng__sublot_states[lot->state]);
    snprintf(out->sub, sizeof(out->sub), "%s", lot->sub);
    snprintf(out->item, sizeof(out->item), "%s", lot->item);
    snprintf(out->unit, sizeof(out->unit), "%s", lot->unit);
    snprintf(out->location, sizeof(out->location), "%s", lot->location);
    out->sent_milli = lot->sent_milli;
    out->good_milli = lot->good_milli;
    out->rejected_milli = lot->rejected_milli;
    out->lost_milli = lot->lost_milli;
    out->allowance_milli = lot->allowance_milli;
    out->out_milli = lot->sent_milli - lot->good_milli - lot->rejected_milli - lot->lost_milli -
                     lot->allowance_milli;
}

int eng_sublot_get(eng_ledger_t *ledger, const char *sublot_id, eng_sublot_view_t *out)
{
    sublot_t lot;
    memset(out, 0, sizeof(*out));
    int rc = state_read(ledger, ledger->dbi_records, "sublot", sublot_id, &lot, sizeof(lot));
    if (rc == 0)
        sublot_view(&lot, out);
    return rc;
}

typedef char node_name_t[EV_NAME_LEN_MAX + 1];

/* One walk of the genealogy: its snapshot, the nodes met (breadth first) and where it stands. */
typedef struct {
    eng_ledger_t *ledger;
    MDB_txn *txn;
    MDB_cursor *cursor; /* on links */
    node_name_t *nodes;
    uint32_t count, nodes_max;
    uint32_t depth;
    eng_link_cb cb;
    void *data;
    bool stopped, truncated;
} walk_t;

static bool node_seen(const walk_t *walk, const char *name, size_t len)
{
    for (uint32_t i = 0; i < walk->count; i++)
        if (strlen(walk->nodes[i]) == len && memcmp(walk->nodes[i], name, len) == 0)
            return true;
    return false;
}

/* Gives one edge to the caller and queues its far end, once. */
static void walk_emit(walk_t *walk, const char *node, const char *other, size_t other_len,
                      bool down, const link_t *stored)
{
    eng_link_t link = {.seq = stored->seq, .depth = walk->depth};
    snprintf(link.kind, sizeof(link.kind), "%s", stored->kind);
    snprintf(down ? link.from : link.to, sizeof(link.from), "%s", node);
    snprintf(down ? link.to : link.from, sizeof(link.to), "%.*s", (int)other_len, other);
    if (walk->cb(&link, walk->data) != 0) {
        walk->stopped = true;
        return;
    }
    if (node_seen(walk, other, other_len))
        return;
    if (walk->count == walk->nodes_max) {
        walk->truncated = true;
        return;
    }
    snprintf(walk->nodes[walk->count++], sizeof(node_name_t), "%.*s", (int)other_len, other);
}

/* The stored links of one node in one direction. */
static int walk_stored(walk_t *walk, const char *node, char direction)
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
    for (rc = mdb_cursor_get(walk->cursor, &key, &value, MDB_SET_RANGE);
         rc == 0 && !walk->stopped && key.mv_size > prefix_len &&
         memcmp(key.mv_data, prefix, prefix_len) == 0;
         rc = mdb_cursor_get(walk->cursor, &key, &value, MDB_NEXT)) {
        const char *other = (const char *)key.mv_data + prefix_len;
        size_t other_len = key.mv_size - prefix_len;
        if (other_len > EV_NAME_LEN_MAX || value.mv_size != sizeof(link_t))
            return MDB_CORRUPTED;
        link_t stored;
        memcpy(&stored, value.mv_data, sizeof(stored));
        walk_emit(walk, node, other, other_len, direction == 'd', &stored);
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The 'u' link "to 0 u 0 from", when there is one. */
static int up_link(walk_t *walk, const char *to, size_t to_len, const char *from, link_t *out,
                   bool *found)
{
    uint8_t key_bytes[2 * EV_NAME_LEN_MAX + 4];
    size_t from_len = strlen(from);
    *found = false;
    if (to_len + from_len + 3 > sizeof(key_bytes))
        return 0;
    memcpy(key_bytes, to, to_len);
    key_bytes[to_len] = 0;
    key_bytes[to_len + 1] = 'u';
    key_bytes[to_len + 2] = 0;
    memcpy(key_bytes + to_len + 3, from, from_len);
    MDB_val key = {.mv_size = to_len + 3 + from_len, .mv_data = key_bytes}, value;
    int rc = mdb_get(walk->txn, walk->ledger->dbi_links, &key, &value);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0 || value.mv_size != sizeof(*out))
        return rc != 0 ? rc : MDB_CORRUPTED;
    memcpy(out, value.mv_data, sizeof(*out));
    *found = true;
    return 0;
}

/* Forward from `node` through the events naming `index` (from seq from, before seq until, 0:
 * no end): every entity of such an event that has an up link to node is something node went
 * into. This is how looms, orders and beams lead to their rolls without a 'd' key per roll. */
static int walk_events(walk_t *walk, const char *node, const char *index, uint64_t from,
                       uint64_t until)
{
    eng_iter_t *iter = NULL;
    int rc = eng_iter_entity(walk->ledger, index, from, ENG_FORWARD, &iter);
    if (rc != 0)
        return rc;
    eng_record_t record;
    while (!walk->stopped && (rc = eng_iter_next(iter, &record)) == 0) {
        if (until != 0 && record.seq >= until)
            break;
        for (uint32_t i = 0; i < record.entities_count && !walk->stopped; i++) {
            const eng_str_t *entity = &record.entities[i];
            link_t stored;
            bool found;
            if ((rc = up_link(walk, entity->ptr, entity->len, node, &stored, &found)) != 0)
                break;
            if (found)
                walk_emit(walk, node, entity->ptr, entity->len, true, &stored);
        }
        if (rc != 0)
            break;
    }
    eng_iter_close(iter);
    return rc == FL_EEOF ? 0 : rc;
}

#define BEAM_MOUNTS_MAX 64 /* mountings of one beam followed by a walk */

/* Forward from a beam: the rolls woven on each loom it was mounted on, while it was. */
static int walk_beam(walk_t *walk, const char *node)
{
    struct {
        char loom[EV_NAME_LEN_MAX + 1];
        uint64_t from, until;
    } mounts[BEAM_MOUNTS_MAX];
    uint32_t count = 0;
    eng_iter_t *iter = NULL;
    int rc = eng_iter_entity(walk->ledger, node, 1, ENG_FORWARD, &iter);
    if (rc != 0)
        return rc;
    eng_record_t record;
    while ((rc = eng_iter_next(iter, &record)) == 0) {
        bool mounted = record.type.len == 11 && memcmp(record.type.ptr, "BeamMounted", 11) == 0;
        bool dismounted =
            record.type.len == 14 && memcmp(record.type.ptr, "BeamDismounted", 14) == 0;
        if (dismounted && count > 0 && mounts[count - 1].until == 0)
            mounts[count - 1].until = record.seq;
        if (!mounted || count == BEAM_MOUNTS_MAX)
            continue;
        for (uint32_t i = 0; i < record.entities_count; i++)
            if (record.entities[i].len > 5 && memcmp(record.entities[i].ptr, "loom-", 5) == 0 &&
                record.entities[i].len <= EV_NAME_LEN_MAX) {
                snprintf(mounts[count].loom, sizeof(mounts[count].loom), "%.*s",
                         (int)record.entities[i].len, record.entities[i].ptr);
                mounts[count].from = record.seq;
                mounts[count++].until = 0;
                break;
            }
    }
    eng_iter_close(iter);
    if (rc != FL_EEOF)
        return rc;
    rc = 0;
    for (uint32_t i = 0; i < count && rc == 0 && !walk->stopped; i++)
        rc = walk_events(walk, node, mounts[i].loom, mounts[i].from, mounts[i].until);
    return rc;
}

/* Looms, orders and beams go into many rolls: their forward links are not stored twice (the
 * 'd' keys of a busy loom would land on a page of their own at every commit) but found from the
 * events, see rules.c's eng__link_add. */
bool eng__link_indexed(const char *from)
{
    return strncmp(from, "loom-", 5) == 0 || strncmp(from, "of-", 3) == 0 ||
           strncmp(from, "beam-", 5) == 0;
}

static int walk_node(walk_t *walk, const char *node, int direction)
{
    if (direction == ENG_BACKWARD)
        return walk_stored(walk, node, 'u');
    int rc = walk_stored(walk, node, 'd'); /* links written before the rule above, if any */
    if (rc != 0 || walk->stopped || !eng__link_indexed(node))
        return rc;
    if (strncmp(node, "beam-", 5) == 0)
        return walk_beam(walk, node);
    return walk_events(walk, node, node, 1, 0);
}

int eng_genealogy(eng_ledger_t *ledger, const char *entity, int direction, uint32_t depth_max,
                  uint32_t nodes_max, eng_link_cb cb, void *data)
{
    if (entity == NULL || strlen(entity) == 0 || strlen(entity) > EV_NAME_LEN_MAX ||
        (direction != ENG_FORWARD && direction != ENG_BACKWARD) || cb == NULL)
        return FL_EINVAL;
    if (nodes_max == 0 || nodes_max > ENG_GENEALOGY_NODES_MAX)
        nodes_max = ENG_GENEALOGY_NODES_MAX;
    walk_t walk = {.ledger = ledger, .nodes_max = nodes_max, .cb = cb, .data = data};
    if ((walk.nodes = calloc(nodes_max, sizeof(*walk.nodes))) == NULL)
        return FL_ENOMEM;
    int rc = eng__read_begin(ledger, &walk.txn);
    if (rc != 0)
        goto done;
    if ((rc = mdb_cursor_open(walk.txn, ledger->dbi_links, &walk.cursor)) != 0) {
        rc = eng__err_from_mdb(rc);
        goto done;
    }
    snprintf(walk.nodes[0], sizeof(node_name_t), "%s", entity);
    walk.count = 1;
    uint32_t level_start = 0, level_end = 1;
    for (walk.depth = 1; walk.depth <= depth_max && level_start < level_end && !walk.stopped;
         walk.depth++) {
        for (uint32_t i = level_start; i < level_end && !walk.stopped && rc == 0; i++)
            rc = walk_node(&walk, walk.nodes[i], direction);
        if (rc != 0)
            break;
        level_start = level_end;
        level_end = walk.count;
    }
    rc = rc < 0 ? rc : rc != 0 ? eng__err_from_mdb(rc) : walk.truncated ? FL_ETOOBIG : 0;
done:
    if (walk.cursor != NULL)
        mdb_cursor_close(walk.cursor);
    if (walk.txn != NULL)
        eng__read_end(ledger, walk.txn);
    free(walk.nodes);
    return rc;
}

/* ---- the change journal and whole tables, as rows */

/* The row of `kind` whose key (as the journal holds it) is key/len, read now in r's txn. */
static int row_read(rule_t *r, uint8_t kind, const char *key, size_t len, eng_row_t *row)
{
    eng_ledger_t *ledger = r->ledger;
    memset(row, 0, sizeof(*row));
    row->kind = (eng_row_kind_t)kind;
    if (len == 0 || len >= sizeof(row->id))
        return MDB_CORRUPTED;
    char id[sizeof(row->id)];
    memcpy(id, key, len);
    id[len] = '\0';
    bool found = false;
    int rc = 0;
    switch (kind) {
    case ENG_ROW_HU: {
        hu_t hu;
        snprintf(row->id, sizeof(row->id), "%s", id);
        if ((rc = eng__hu_get(r, id, &hu, &found)) == 0 && found)
            hu_view(&hu, &row->hu);
        break;
    }
    case ENG_ROW_STOCK: {
        MDB_val k = {.mv_size = len, .mv_data = (void *)key}, value;
        int64_t zero = 0;
        rc = mdb_get(r->txn, ledger->dbi_stock, &k, &value);
        found = rc == 0;
        if (rc == MDB_NOTFOUND) {
            rc = 0;
            value = (MDB_val){.mv_size = sizeof(zero), .mv_data = &zero};
        }
        if (rc == 0 && !stock_row(&k, &value, &row->stock))
            rc = MDB_CORRUPTED;
        snprintf(row->id, sizeof(row->id), "%.64s/%.64s/%.15s/%d", row->stock.item,
                 row->stock.location, row->stock.status, row->stock.grade);
        break;
    }
    case ENG_ROW_ORDER: {
        order_t order;
        snprintf(row->id, sizeof(row->id), "%s", id);
        if ((rc = eng__state_get(r, ledger->dbi_orders, "of", id, &order, sizeof(order), &found)) ==
                0 &&
            found)
            order_view(&order, &row->order);
        break;
    }
    case ENG_ROW_LOOM: {
        loom_t loom;
        snprintf(row->id, sizeof(row->id), "%s", id);
        if ((rc = eng__state_get(r, ledger->dbi_looms, "loom", id, &loom, sizeof(loom), &found)) ==
                0 &&
            found)
            loom_view(r, id, len, &loom, &row->loom);
        break;
    }
    case ENG_ROW_BEAM: {
        beam_t beam;
        snprintf(row->id, sizeof(row->id), "%s", id);
        if ((rc = eng__state_get(r, ledger->dbi_beams, "beam", id, &beam, sizeof(beam), &found)) ==
                0 &&
            found)
            beam_view(&beam, &row->beam);
        break;
    }
    case ENG_ROW_RECORD:
    case ENG_ROW_SUBLOT: {
        const char *dash = memchr(id, '-', len);
        if (dash == NULL)
            return MDB_CORRUPTED;
        size_t kind_len = (size_t)(dash - id);
        snprintf(row->kind_name, sizeof(row->kind_name), "%.*s", (int)kind_len, id);
        snprintf(row->id, sizeof(row->id), "%s", dash + 1);
        MDB_val k = {.mv_size = len, .mv_data = (void *)key}, value;
        rc = mdb_get(r->txn, ledger->dbi_records, &k, &value);
        found = rc == 0;
        if (rc == MDB_NOTFOUND)
            rc = 0;
        if (strcmp(row->kind_name, "sublot") == 0) {
            sublot_t lot;
            row->kind = ENG_ROW_SUBLOT;
            if (found && !eng__state_unpack(&value, &lot, sizeof(lot)))
                return MDB_CORRUPTED;
            if (found)
                sublot_view(&lot, &row->sublot);
        } else {
            record_t record;
            int index = record_kind(id, kind_len);
            row->kind = ENG_ROW_RECORD;
            if (index < 0 || (found && !eng__state_unpack(&value, &record, sizeof(record))))
                return MDB_CORRUPTED;
            if (found && (rc = record_view(index, &record, &row->record)) != 0)
                return MDB_CORRUPTED;
        }
        break;
    }
    case ENG_ROW_LINK: {
        /* to 0x00 'u' 0x00 from */
        const char *end = memchr(key, 0, len);
        MDB_val k = {.mv_size = len, .mv_data = (void *)key}, value;
        if (end == NULL || (size_t)(end - key) + 3 >= len || end[1] != 'u')
            return MDB_CORRUPTED;
        size_t to_len = (size_t)(end - key), from_len = len - to_len - 3;
        if (from_len >= sizeof(row->link.from) || to_len >= sizeof(row->link.to))
            return MDB_CORRUPTED;
        memcpy(row->link.to, key, to_len);
        memcpy(row->link.from, end + 3, from_len);
        snprintf(row->id, sizeof(row->id), "%.*s>%.*s", (int)from_len, end + 3, (int)to_len, key);
        rc = mdb_get(r->txn, ledger->dbi_links, &k, &value);
        found = rc == 0;
        if (rc == MDB_NOTFOUND)
            rc = 0;
        if (found) {
            link_t link;
            if (value.mv_size != sizeof(link))
                return MDB_CORRUPTED;
            memcpy(&link, value.mv_data, sizeof(link));
            row->link.seq = link.seq;
            snprintf(row->link.kind, sizeof(row->link.kind), "%s", link.kind);
        }
        break;
    }
    case ENG_ROW_ARTICLE: {
        article_t article;
        snprintf(row->id, sizeof(row->id), "%s", id);
        char name[EV_NAME_LEN_MAX + 1];
        int name_len = snprintf(name, sizeof(name), "item-%s", id);
        MDB_val k = {.mv_size = (size_t)name_len, .mv_data = name}, value;
        rc = mdb_get(r->txn, ledger->dbi_articles, &k, &value);
        found = rc == 0;
        if (rc == MDB_NOTFOUND)
            rc = 0;
        if (found) {
            if (value.mv_size != sizeof(article))
                return MDB_CORRUPTED;
            memcpy(&article, value.mv_data, sizeof(article));
            row->article.cutting_tolerance_permille = article.cutting_tolerance_permille;
            row->article.overproduction_allowed_permille = article.overproduction_allowed_permille;
            row->article.first_piece_required = article.first_piece_required;
        }
        break;
    }
    default:
        return MDB_CORRUPTED;
    }
    row->present = found;
    return rc;
}

/* The seq of the last record in this snapshot, 0 when the log is empty. */
static int snapshot_head(MDB_txn *txn, MDB_dbi log, uint64_t *seq)
{
    MDB_cursor *cursor;
    MDB_val key, value;
    *seq = 0;
    int rc = mdb_cursor_open(txn, log, &cursor);
    if (rc != 0)
        return rc;
    rc = mdb_cursor_get(cursor, &key, &value, MDB_LAST);
    if (rc == 0 && key.mv_size == sizeof(*seq))
        memcpy(seq, key.mv_data, sizeof(*seq));
    mdb_cursor_close(cursor);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int changes(eng_ledger_t *ledger, uint64_t after_seq, uint64_t until_seq,
                   uint32_t events_max, eng_change_cb cb, void *data, uint64_t *last_seq);

int eng_changes(eng_ledger_t *ledger, uint64_t after_seq, uint32_t events_max, eng_change_cb cb,
                void *data, uint64_t *last_seq)
{
    return changes(ledger, after_seq, UINT64_MAX, events_max, cb, data, last_seq);
}

int eng_changes_range(eng_ledger_t *ledger, uint64_t after_seq, uint64_t until_seq,
                      eng_change_cb cb, void *data)
{
    uint64_t last;
    return changes(ledger, after_seq, until_seq, UINT32_MAX, cb, data, &last);
}

static int changes(eng_ledger_t *ledger, uint64_t after_seq, uint64_t until_seq,
                   uint32_t events_max, eng_change_cb cb, void *data, uint64_t *last_seq)
{
    *last_seq = after_seq;
    if (cb == NULL || events_max == 0)
        return FL_EINVAL;
    rule_t r = {.ledger = ledger};
    MDB_cursor *cursor = NULL;
    int rc = eng__read_begin(ledger, &r.txn);
    if (rc != 0)
        return rc;
    if ((rc = mdb_cursor_open(r.txn, ledger->dbi_changes, &cursor)) != 0)
        goto done;
    uint64_t from = after_seq + 1;
    MDB_val key = {.mv_size = sizeof(from), .mv_data = &from}, value;
    uint32_t events = 0;
    bool stopped = false;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
         rc == 0 && events < events_max && !stopped;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        uint64_t seq;
        if (key.mv_size != sizeof(seq)) {
            rc = MDB_CORRUPTED;
            break;
        }
        memcpy(&seq, key.mv_data, sizeof(seq));
        if (seq > until_seq)
            break;
        const uint8_t *bytes = value.mv_data;
        for (size_t at = 0; at < value.mv_size && rc == 0 && !stopped;) {
            eng_row_t row;
            if (at + 3 > value.mv_size) {
                rc = MDB_CORRUPTED;
                break;
            }
            size_t len = (size_t)bytes[at + 1] << 8 | bytes[at + 2];
            if (at + 3 + len > value.mv_size) {
                rc = MDB_CORRUPTED;
                break;
            }
            if ((rc = row_read(&r, bytes[at], (const char *)bytes + at + 3, len, &row)) != 0)
                break;
            stopped = cb(seq, &row, data) != 0;
            at += 3 + len;
        }
        if (rc != 0)
            break;
        *last_seq = seq;
        events++;
    }
done:
    if (cursor != NULL)
        mdb_cursor_close(cursor);
    eng__read_end(ledger, r.txn);
    return rc == MDB_NOTFOUND ? 0 : eng__err_from_mdb(rc);
}

int eng_rows(eng_ledger_t *ledger, eng_row_kind_t kind, eng_change_cb cb, void *data,
             uint64_t *at_seq)
{
    static const struct {
        const char *prefix; /* of the table's keys, stripped to make the row key */
    } tables[ENG_ROW_KINDS] = {
        [ENG_ROW_HU] = {"hu-"},     [ENG_ROW_STOCK] = {""},     [ENG_ROW_ORDER] = {"of-"},
        [ENG_ROW_LOOM] = {"loom-"}, [ENG_ROW_BEAM] = {"beam-"}, [ENG_ROW_RECORD] = {""},
        [ENG_ROW_SUBLOT] = {""},    [ENG_ROW_LINK] = {""},      [ENG_ROW_ARTICLE] = {"item-"},
    };
    *at_seq = 0;
    if (cb == NULL || kind < ENG_ROW_HU || kind >= ENG_ROW_KINDS)
        return FL_EINVAL;
    MDB_dbi dbis[ENG_ROW_KINDS] = {
        [ENG_ROW_HU] = ledger->dbi_hus,           [ENG_ROW_STOCK] = ledger->dbi_stock,
        [ENG_ROW_ORDER] = ledger->dbi_orders,     [ENG_ROW_LOOM] = ledger->dbi_looms,
        [ENG_ROW_BEAM] = ledger->dbi_beams,       [ENG_ROW_RECORD] = ledger->dbi_records,
        [ENG_ROW_SUBLOT] = ledger->dbi_records,   [ENG_ROW_LINK] = ledger->dbi_links,
        [ENG_ROW_ARTICLE] = ledger->dbi_articles,
    };
    rule_t r = {.ledger = ledger};
    MDB_cursor *cursor = NULL;
    int rc = eng__read_begin(ledger, &r.txn);
    if (rc != 0)
        return rc;
    if ((rc = snapshot_head(r.txn, ledger->dbi_log, at_seq)) != 0 ||
        (rc = mdb_cursor_open(r.txn, dbis[kind], &cursor)) != 0)
        goto done;
    size_t skip = strlen(tables[kind].prefix);
    MDB_val key, value;
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        const char *bytes = key.mv_data;
        if (key.mv_size <= skip || memcmp(bytes, tables[kind].prefix, skip) != 0) {
            rc = MDB_CORRUPTED;
            break;
        }
        if (kind == ENG_ROW_LINK) { /* each edge once: its 'u' key, always written */
            const char *end = memchr(bytes, 0, key.mv_size);
            if (end == NULL || (size_t)(end - bytes) + 1 >= key.mv_size || end[1] != 'u')
                continue;
        }
        bool sublot = key.mv_size > 7 && memcmp(bytes, "sublot-", 7) == 0;
        if ((kind == ENG_ROW_RECORD && sublot) || (kind == ENG_ROW_SUBLOT && !sublot))
            continue;
        eng_row_t row;
        if ((rc = row_read(&r, kind == ENG_ROW_SUBLOT ? ENG_ROW_RECORD : kind, bytes + skip,
                           key.mv_size - skip, &row)) != 0)
            break;
        if (cb(0, &row, data) != 0)
            break;
    }
done:
    if (cursor != NULL)
        mdb_cursor_close(cursor);
    eng__read_end(ledger, r.txn);
    return rc == MDB_NOTFOUND ? 0 : eng__err_from_mdb(rc);
}
