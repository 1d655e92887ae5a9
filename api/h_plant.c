/*
 * h_plant.c: the plant's state as the ledger keeps it beside the log: a handling unit now
 * (with what it contains), genealogy up and down, stock balances. Answers carry the head's
 * ETag like every read.
 */
#include "api/api_int.h"

#include <string.h>

#define GENEALOGY_DEPTH_DEFAULT 16
#define GENEALOGY_DEPTH_MAX     64

/* "R0001" and "hu-R0001" both name unit R0001. */
static const char *hu_id(const char *param)
{
    return strncmp(param, "hu-", 3) == 0 ? param + 3 : param;
}

static void hu_json(api_buf_t *out, const char *id, const eng_hu_view_t *hu)
{
    static const char *const grades[] = {"none", "first", "second"};
    api_buf_str(out, "{\"hu_id\":");
    api_buf_json_str(out, id, strlen(id));
    api_buf_str(out, ",\"status\":");
    api_buf_json_str(out, hu->status, strnlen(hu->status, sizeof(hu->status)));
    api_buf_str(out, ",\"item\":");
    api_buf_json_str(out, hu->item, strnlen(hu->item, sizeof(hu->item)));
    api_buf_str(out, ",\"location\":");
    api_buf_json_str(out, hu->location, strnlen(hu->location, sizeof(hu->location)));
    api_buf_str(out, ",\"parent\":");
    if (hu->parent[0] == '\0')
        api_buf_str(out, "null");
    else
        api_buf_json_str(out, hu->parent, strnlen(hu->parent, sizeof(hu->parent)));
    api_buf_printf(out, ",\"qty_milli\":%lld,\"unit\":", (long long)hu->qty_milli);
    api_buf_json_str(out, hu->unit, strnlen(hu->unit, sizeof(hu->unit)));
    api_buf_printf(out, ",\"grade\":\"%s\",\"created_seq\":%llu",
                   hu->grade >= 0 && hu->grade <= 2 ? grades[hu->grade] : "none",
                   (unsigned long long)hu->created_seq);
}

typedef struct {
    eng_ledger_t *ledger;
    const char *id;
    api_buf_t *out;
    uint32_t count;
} contents_t;

/* A link down from the unit names what it went into or holds; what it holds now is what
 * names it as its parent. */
static int content_link(const eng_link_t *link, void *data)
{
    contents_t *c = data;
    if (strncmp(link->to, "hu-", 3) != 0)
        return 0;
    eng_hu_view_t child;
    if (eng_hu_get(c->ledger, link->to + 3, &child) != 0 || strcmp(child.parent, c->id) != 0)
        return 0;
    if (c->count++ > 0)
        api_buf_str(c->out, ",");
    hu_json(c->out, link->to + 3, &child);
    api_buf_str(c->out, "}");
    return 0;
}

api_handled_t api_h_hu_get(api_conn_t *conn)
{
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    const char *id = hu_id(conn->req.params[0]);
    eng_hu_view_t hu;
    int rc = eng_hu_get(conn->server->ledger, id, &hu);
    if (rc != 0) {
        api_problem(conn, rc, "path:hu_id", rc == FL_ENOENT ? "no such handling unit" : "", "");
        return API_DONE;
    }
    api_buf_t body = {0};
    hu_json(&body, id, &hu);
    api_buf_str(&body, ",\"contents\":[");
    char entity[ENG_ENTITY_LEN_MAX + 1];
    snprintf(entity, sizeof(entity), "hu-%s", id);
    contents_t contents = {conn->server->ledger, id, &body, 0};
    rc = eng_genealogy(conn->server->ledger, entity, ENG_FORWARD, 1, ENG_GENEALOGY_NODES_MAX,
                       content_link, &contents);
    api_buf_str(&body, "]}");
    if (rc != 0 && rc != FL_ETOOBIG)
        api_problem(conn, rc, "", "", "");
    else
        api_respond_json(conn, 200, etag, &body);
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
    bool is_hu_route = strncmp(conn->req.path, "/api/v1/hu/", 11) == 0;
    int written = snprintf(entity, sizeof(entity), "%s%s", is_hu_route ? "hu-" : "",
                           is_hu_route ? hu_id(param) : param);
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
    int rc = eng_genealogy(conn->server->ledger, entity, up ? ENG_BACKWARD : ENG_FORWARD,
                           (uint32_t)depth, ENG_GENEALOGY_NODES_MAX, link_json, &links);
    api_buf_printf(&body, "],\"truncated\":%s}", rc == FL_ETOOBIG ? "true" : "false");
    if (rc != 0 && rc != FL_ETOOBIG)
        api_problem(conn, rc, "", "", "");
    else
        api_respond_json(conn, 200, etag, &body);
    api_buf_free(&body);
    return API_DONE;
}

api_handled_t api_h_stock_get(api_conn_t *conn)
{
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    const char *item = api_query_get(&conn->req, "item");
    const char *location = api_query_get(&conn->req, "location");
    const char *status = api_query_get(&conn->req, "status");
    if (item == NULL || location == NULL) {
        api_problem(conn, FL_EMISSING_FIELD, item == NULL ? "query:item" : "query:location",
                    "item and location are required", "");
        return API_DONE;
    }
    if (status == NULL)
        status = "available";
    int64_t qty = 0;
    int rc = eng_stock_get(conn->server->ledger, item, location, status, &qty);
    if (rc != 0) {
        api_problem(conn, rc == FL_EINVAL ? FL_EINVALID_VALUE : rc, "query:status",
                    "available, on hold, released, rejected, consumed or shipped", "");
        return API_DONE;
    }
    api_buf_t body = {0};
    api_buf_str(&body, "{\"item\":");
    api_buf_json_str(&body, item, strlen(item));
    api_buf_str(&body, ",\"location\":");
    api_buf_json_str(&body, location, strlen(location));
    api_buf_str(&body, ",\"status\":");
    api_buf_json_str(&body, status, strlen(status));
    api_buf_printf(&body, ",\"qty_milli\":%lld}", (long long)qty);
    api_respond_json(conn, 200, etag, &body);
    api_buf_free(&body);
    return API_DONE;
}
