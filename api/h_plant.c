/*
 * h_plant.c: the plant's units and stock as the ledger keeps them beside the log: a handling
 * unit now with everything it contains, genealogy up and down, stock balances filtered and
 * grouped. Answers carry the head's ETag like every read. The floor (orders, looms, beams,
 * records, subcontract lots) is h_floor.c.
 */
#include "api/api_int.h"

#include <stdlib.h>
#include <string.h>

#define GENEALOGY_DEPTH_DEFAULT 16
#define GENEALOGY_DEPTH_MAX     64

const char *api_hu_id(const char *param)
{
    return strncmp(param, "hu-", 3) == 0 ? param + 3 : param;
}

static const char *grade_name(int grade)
{
    static const char *const grades[] = {"none", "first", "second"};
    return grade >= 0 && grade <= 2 ? grades[grade] : "none";
}

/* The members of a unit, without the closing brace (contents may follow). */
static void hu_json(api_buf_t *out, const char *id, const eng_hu_view_t *hu)
{
    api_buf_member_str(out, "{\"hu_id\":", id);
    api_buf_member_str(out, ",\"status\":", hu->status);
    api_buf_member_str(out, ",\"item\":", hu->item);
    api_buf_member_str(out, ",\"location\":", hu->location);
    api_buf_member_str_or_null(out, ",\"parent\":", hu->parent);
    api_buf_printf(out, ",\"qty_milli\":%lld", (long long)hu->qty_milli);
    api_buf_member_str(out, ",\"unit\":", hu->unit);
    api_buf_printf(out, ",\"grade\":\"%s\",\"created_seq\":%llu", grade_name(hu->grade),
                   (unsigned long long)hu->created_seq);
    api_buf_member_str_or_null(out, ",\"holder\":", hu->holder);
    api_buf_printf(out, ",\"out_milli\":%lld", (long long)hu->out_milli);
}

typedef struct {
    api_buf_t *out;
    uint32_t count; /* contents written */
    bool truncated;
} contents_t;

/* The unit itself comes first (depth 0) and opens the answer; each unit it holds, at any
 * depth, is one element of "contents" (its parent member says where it sits in the tree). */
static int content_json(const char *id, const eng_hu_view_t *hu, uint32_t depth, void *data)
{
    contents_t *c = data;
    if (depth == 0) {
        hu_json(c->out, id, hu);
        api_buf_str(c->out, ",\"contents\":[");
        return 0;
    }
    if (c->count == API_HU_CONTENTS_MAX) {
        c->truncated = true;
        return 1;
    }
    if (c->count++ > 0)
        api_buf_str(c->out, ",");
    hu_json(c->out, id, hu);
    api_buf_printf(c->out, ",\"depth\":%u}", depth);
    return 0;
}

api_handled_t api_h_hu_get(api_conn_t *conn)
{
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    const char *id = api_hu_id(conn->req.params[0]);
    api_buf_t body = {0};
    contents_t contents = {&body, 0, false};
    int rc = eng_hu_contents(conn->tenant->ledger, id, content_json, &contents);
    if (rc != 0) {
        api_problem_lookup(conn, rc, "path:hu_id", "handling unit", id);
    } else {
        api_buf_printf(&body, "],\"contents_count\":%u,\"truncated\":%s}", contents.count,
                       contents.truncated ? "true" : "false");
        api_respond_json(conn, 200, etag, &body);
    }
    api_buf_free(&body);
    return API_DONE;
}

typedef struct {
    api_buf_t *out;
    uint32_t count;
} links_t;

static int link_json(const eng_link_t *link, void *data)
{
    links_t *links = data;
    if (links->count++ > 0)
        api_buf_str(links->out, ",");
    api_buf_str(links->out, "{\"from\":");
    api_buf_json_str(links->out, link->from, strnlen(link->from, sizeof(link->from)));
    api_buf_str(links->out, ",\"to\":");
    api_buf_json_str(links->out, link->to, strnlen(link->to, sizeof(link->to)));
    api_buf_str(links->out, ",\"kind\":");
    api_buf_json_str(links->out, link->kind, strnlen(link->kind, sizeof(link->kind)));
    api_buf_printf(links->out, ",\"seq\":%llu,\"depth\":%u}", (unsigned long long)link->seq,
                   link->depth);
    return 0;
}

api_handled_t api_h_hu_genealogy(api_conn_t *conn)
{
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    /* /hu/{id}/genealogy names a unit; /genealogy/{entity} any entity. */
    char entity[ENG_ENTITY_LEN_MAX + 1];
    const char *param = conn->req.params[0];
    bool is_hu_route = strstr(api_routes[conn->req.route].pattern, "{hu_id}") != NULL;
    int written = snprintf(entity, sizeof(entity), "%s%s", is_hu_route ? "hu-" : "",
                           is_hu_route ? api_hu_id(param) : param);
    if (written < 0 || (size_t)written >= sizeof(entity)) {
        api_problem(conn, FL_ETOO_LONG, "path", "the entity name is too long", "");
        return API_DONE;
    }
    const char *direction = api_query_get(&conn->req, "direction");
    bool up = direction != NULL && strcmp(direction, "up") == 0;
    if (direction != NULL && !up && strcmp(direction, "down") != 0) {
        api_problem(conn, FL_EINVALID_VALUE, "query:direction", "up or down", "");
        return API_DONE;
    }
    uint64_t depth;
    if (api_query_u64(&conn->req, "depth", GENEALOGY_DEPTH_DEFAULT, &depth) != 0 || depth == 0 ||
        depth > GENEALOGY_DEPTH_MAX) {
        api_problem(conn, FL_EINVALID_VALUE, "query:depth", "1 to 64", "");
        return API_DONE;
    }
    api_buf_t body = {0};
    api_buf_str(&body, "{\"entity\":");
    api_buf_json_str(&body, entity, strlen(entity));
    api_buf_printf(&body, ",\"direction\":\"%s\",\"links\":[", up ? "up" : "down");
    links_t links = {&body, 0};
    int rc = eng_genealogy(conn->tenant->ledger, entity, up ? ENG_BACKWARD : ENG_FORWARD,
                           (uint32_t)depth, ENG_GENEALOGY_NODES_MAX, link_json, &links);
    api_buf_printf(&body, "],\"truncated\":%s}", rc == FL_ETOOBIG ? "true" : "false");
    if (rc != 0 && rc != FL_ETOOBIG)
        api_problem(conn, rc, "", "", "");
    else
        api_respond_json(conn, 200, etag, &body);
    api_buf_free(&body);
    return API_DONE;
}

/* ---- stock: rows filtered by any subset of (item, location, status, grade), optionally summed
 * by some of those keys */

#define STOCK_KEY_ITEM     1u
#define STOCK_KEY_LOCATION 2u
#define STOCK_KEY_STATUS   4u
#define STOCK_KEY_GRADE    8u
#define STOCK_KEYS_ALL     15u
#define STOCK_SLOTS        32768u /* hash slots of the groups: a power of two */

_Static_assert(STOCK_SLOTS >= 2 * API_STOCK_ROWS_MAX, "the group table stays at most half full");
_Static_assert((STOCK_SLOTS & (STOCK_SLOTS - 1)) == 0, "slots are masked, not divided");

static const char *const stock_keys[] = {"item", "location", "status", "grade"};
static const char *const stock_statuses[] = {"available", "on hold",  "released",
                                             "rejected",  "consumed", "shipped"};

typedef struct {
    api_buf_t *out;
    unsigned keys; /* the members of a row: the group_by keys, all four without group_by */
    bool grouped;
    eng_stock_row_t *groups; /* grouped: rows with only the keys, summed */
    uint32_t groups_count;
    uint32_t *slots; /* grouped: 1 + index in groups, 0 when empty */
    uint32_t rows;   /* rows written, when not grouped */
    uint32_t scanned;
    bool truncated;
} stock_t;

static void stock_row_json(api_buf_t *out, unsigned keys, const eng_stock_row_t *row)
{
    const char *separator = "{";
    const char *values[] = {row->item, row->location, row->status, grade_name(row->grade)};
    for (unsigned k = 0; k < 4; k++) {
        if (!(keys & (1u << k)))
            continue;
        api_buf_printf(out, "%s\"%s\":", separator, stock_keys[k]);
        api_buf_json_str(out, values[k], strlen(values[k]));
        separator = ",";
    }
    api_buf_printf(out, "%s\"qty_milli\":%lld}", separator, (long long)row->qty_milli);
}

/* FNV-1a over the kept keys of a row. */
static uint32_t group_hash(const eng_stock_row_t *row)
{
    uint32_t hash = 2166136261u;
    const char *texts[] = {row->item, row->location, row->status};
    for (unsigned k = 0; k < 3; k++) {
        for (const char *p = texts[k]; *p != '\0'; p++)
            hash = (hash ^ (uint8_t)*p) * 16777619u;
        hash = (hash ^ 0xffu) * 16777619u;
    }
    return (hash ^ (uint8_t)(row->grade + 1)) * 16777619u;
}

static bool group_same(const eng_stock_row_t *a, const eng_stock_row_t *b)
{
    return a->grade == b->grade && strcmp(a->item, b->item) == 0 &&
           strcmp(a->location, b->location) == 0 && strcmp(a->status, b->status) == 0;
}

/* Adds a row to its group (the row with the other keys blanked). Non-zero: the table is full. */
static int group_add(stock_t *stock, const eng_stock_row_t *row)
{
    eng_stock_row_t key = {.grade = -1, .qty_milli = row->qty_milli};
    if (stock->keys & STOCK_KEY_ITEM)
        memcpy(key.item, row->item, sizeof(key.item));
    if (stock->keys & STOCK_KEY_LOCATION)
        memcpy(key.location, row->location, sizeof(key.location));
    if (stock->keys & STOCK_KEY_STATUS)
        memcpy(key.status, row->status, sizeof(key.status));
    if (stock->keys & STOCK_KEY_GRADE)
        key.grade = row->grade;
    for (uint32_t slot = group_hash(&key);; slot++) {
        uint32_t *entry = &stock->slots[slot & (STOCK_SLOTS - 1)];
        if (*entry == 0) {
            if (stock->groups_count == API_STOCK_ROWS_MAX)
                return 1;
            stock->groups[stock->groups_count++] = key;
            *entry = stock->groups_count;
            return 0;
        }
        eng_stock_row_t *group = &stock->groups[*entry - 1];
        if (group_same(group, &key)) {
            group->qty_milli += row->qty_milli;
            return 0;
        }
    }
}

static int stock_each_row(const eng_stock_row_t *row, void *data)
{
    stock_t *stock = data;
    if (stock->scanned == API_STOCK_SCAN_ROWS_MAX ||
        (!stock->grouped && stock->rows == API_STOCK_ROWS_MAX) ||
        (stock->grouped && group_add(stock, row) != 0)) {
        stock->truncated = true;
        return 1;
    }
    stock->scanned++;
    if (stock->grouped)
        return 0;
    if (stock->rows++ > 0)
        api_buf_str(stock->out, ",");
    stock_row_json(stock->out, stock->keys, row);
    return 0;
}

int api_stock_query(api_conn_t *conn, eng_stock_filter_t *filter, unsigned *keys)
{
    const api_request_t *req = &conn->req;
    *filter = (eng_stock_filter_t){.item = api_query_get(req, "item"),
                                   .location = api_query_get(req, "location"),
                                   .status = api_query_get(req, "status"),
                                   .grade = -1};
    bool status_ok = filter->status == NULL;
    for (size_t i = 0; i < sizeof(stock_statuses) / sizeof(stock_statuses[0]); i++)
        status_ok = status_ok || strcmp(filter->status, stock_statuses[i]) == 0;
    if (!status_ok) {
        api_problem(conn, FL_EINVALID_VALUE, "query:status",
                    "one of available, on hold, released, rejected, consumed, shipped", "");
        return FL_EINVALID_VALUE;
    }
    const char *grade = api_query_get(req, "grade");
    for (int g = 0; grade != NULL && g <= 2; g++)
        if (strcmp(grade, grade_name(g)) == 0 || (grade[0] == '0' + g && grade[1] == '\0'))
            filter->grade = g;
    if (grade != NULL && filter->grade < 0) {
        api_problem(conn, FL_EINVALID_VALUE, "query:grade", "0 (none), 1 (first) or 2 (second)",
                    "");
        return FL_EINVALID_VALUE;
    }
    const char *group_by = api_query_get(req, "group_by");
    *keys = group_by == NULL ? STOCK_KEYS_ALL : 0;
    for (const char *p = group_by; p != NULL;) {
        size_t len = strcspn(p, ",");
        unsigned key = 0;
        for (unsigned k = 0; k < 4; k++)
            if (len == strlen(stock_keys[k]) && memcmp(p, stock_keys[k], len) == 0)
                key = 1u << k;
        if (key == 0) {
            api_problem(conn, FL_EINVALID_VALUE, "query:group_by",
                        "a comma list of item, location, status, grade", "");
            return FL_EINVALID_VALUE;
        }
        *keys |= key;
        p = p[len] == ',' ? p + len + 1 : NULL;
    }
    return 0;
}

/* Writes the groups and the end of the answer. */
static void stock_end(stock_t *stock, const char *group_by)
{
    for (uint32_t i = 0; i < stock->groups_count; i++) {
        if (i > 0)
            api_buf_str(stock->out, ",");
        stock_row_json(stock->out, stock->keys, &stock->groups[i]);
    }
    uint32_t count = stock->grouped ? stock->groups_count : stock->rows;
    api_buf_printf(stock->out, "],\"count\":%u,\"group_by\":[", count);
    for (unsigned k = 0, n = 0; group_by != NULL && k < 4; k++)
        if (stock->keys & (1u << k))
            api_buf_printf(stock->out, "%s\"%s\"", n++ > 0 ? "," : "", stock_keys[k]);
    api_buf_printf(stock->out, "],\"truncated\":%s}", stock->truncated ? "true" : "false");
}

int api_stock_render(eng_ledger_t *ledger, const eng_stock_filter_t *filter, unsigned keys,
                     const char *group_by, api_buf_t *body)
{
    stock_t stock = {.out = body, .keys = keys, .grouped = group_by != NULL};
    if (stock.grouped) {
        stock.groups = malloc(API_STOCK_ROWS_MAX * sizeof(*stock.groups));
        stock.slots = calloc(STOCK_SLOTS, sizeof(*stock.slots));
    }
    int rc = FL_ENOMEM;
    if (!stock.grouped || (stock.groups != NULL && stock.slots != NULL)) {
        api_buf_str(body, "{\"rows\":[");
        rc = eng_stock_each(ledger, filter, stock_each_row, &stock);
    }
    if (rc == 0)
        stock_end(&stock, group_by);
    free(stock.groups);
    free(stock.slots);
    return rc == 0 && body->oom ? FL_ENOMEM : rc;
}

void api_stock_problem(api_conn_t *conn, int rc)
{
    if (rc == FL_EINVAL) {
        /* The status was checked: only an item longer than an id is left. */
        char detail[64];
        snprintf(detail, sizeof(detail), "an id has at most %d characters", EV_ID_LEN_MAX);
        api_problem(conn, FL_ETOO_LONG, "query:item", detail, "");
    } else {
        api_problem(conn, rc, "", "", "");
    }
}

api_handled_t api_h_stock_get(api_conn_t *conn)
{
    eng_stock_filter_t filter;
    unsigned keys;
    if (api_stock_query(conn, &filter, &keys) != 0)
        return API_DONE;
    if (api_query_get(&conn->req, "as_of_seq") != NULL)
        return api_stock_asof(conn, &filter, keys); /* h_audit.c */
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    api_buf_t body = {0};
    int rc = api_stock_render(conn->tenant->ledger, &filter, keys,
                              api_query_get(&conn->req, "group_by"), &body);
    if (rc != 0)
        api_stock_problem(conn, rc);
    else
        api_respond_json(conn, 200, etag, &body);
    api_buf_free(&body);
    return API_DONE;
}
