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

int eng_order_get(eng_ledger_t *ledger, const char *of_id, eng_order_view_t *out)
{
    order_t order;
    memset(out, 0, sizeof(*out));
    int rc = state_read(ledger, ledger->dbi_orders, "of", of_id, &order, sizeof(order));
    if (rc != 0)
        return rc;
    snprintf(out->state, sizeof(out->state), "%s", eng__of_state_names[order.state]);
    snprintf(out->item, sizeof(out->item), "%s", order.item);
    snprintf(out->unit, sizeof(out->unit), "%s", order.unit);
    out->planned_milli = order.planned_milli;
    out->declared_milli = order.declared_milli;
    return 0;
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
        if (value.mv_size != sizeof(loom) || key.mv_size <= 5 || key.mv_size > 5 + EV_ID_LEN_MAX) {
            rc = MDB_CORRUPTED;
            break;
        }
        memcpy(&loom, value.mv_data, sizeof(loom));
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

int eng_beam_get(eng_ledger_t *ledger, const char *beam_id, eng_beam_view_t *out)
{
    beam_t beam;
    memset(out, 0, sizeof(*out));
    int rc = state_read(ledger, ledger->dbi_beams, "beam", beam_id, &beam, sizeof(beam));
    if (rc != 0)
        return rc;
    snprintf(out->item, sizeof(out->item), "%s", beam.item);
    snprintf(out->loom, sizeof(out->loom), "%s", beam.loom);
    snprintf(out->position, sizeof(out->position), "%s",
             beam.position == BEAM_PILE ? "pile" : "ground");
    out->remaining_milli = beam.length_milli;
    return 0;
}

int eng_record_get(eng_ledger_t *ledger, const char *kind, const char *id, eng_record_view_t *out)
{
    static const struct {
        const char *kind;
        const char *const *states;
        uint8_t states_count;
    } kinds[] = {
        {"int", eng__int_states, INT_CANCELLED + 1},
        {"nc", eng__nc_states, NC_CLOSED + 1},
        {"count", eng__count_states, COUNT_CLOSED + 1},
        {"ship", eng__ship_states, SHIP_DISPATCHED + 1},
        {"label", NULL, 0},
    };
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; kind != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(kinds[i].kind, kind) != 0)
            continue;
        record_t record;
        int rc = state_read(ledger, ledger->dbi_records, kind, id, &record, sizeof(record));
        if (rc != 0)
            return rc;
        if (kinds[i].states == NULL)
            snprintf(out->state, sizeof(out->state), "printed");
        else if (record.state < kinds[i].states_count)
            snprintf(out->state, sizeof(out->state), "%s", kinds[i].states[record.state]);
        else
            return FL_ECORRUPT;
        snprintf(out->subject, sizeof(out->subject), "%s", record.subject);
        out->count = record.count;
        out->since_seq = record.since_seq;
        return 0;
    }
    return FL_EINVAL;
}

int eng_sublot_get(eng_ledger_t *ledger, const char *sublot_id, eng_sublot_view_t *out)
{
    sublot_t lot;
    memset(out, 0, sizeof(*out));
    int rc = state_read(ledger, ledger->dbi_records, "sublot", sublot_id, &lot, sizeof(lot));
    if (rc != 0)
        return rc;
    snprintf(out->state, sizeof(out->state), "%s", eng__sublot_states[lot.state]);
    snprintf(out->sub, sizeof(out->sub), "%s", lot.sub);
    snprintf(out->item, sizeof(out->item), "%s", lot.item);
    snprintf(out->unit, sizeof(out->unit), "%s", lot.unit);
    snprintf(out->location, sizeof(out->location), "%s", lot.location);
    out->sent_milli = lot.sent_milli;
    out->good_milli = lot.good_milli;
    out->rejected_milli = lot.rejected_milli;
    out->lost_milli = lot.lost_milli;
    out->allowance_milli = lot.allowance_milli;
    out->out_milli =
        lot.sent_milli - lot.good_milli - lot.rejected_milli - lot.lost_milli - lot.allowance_milli;
    return 0;
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
