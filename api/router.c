/*
 * router.c: the route table, the one list of what foutad serves. The OpenAPI document and the
 * metrics' route labels come from it too. A pattern is a path whose {segments} are parameters;
 * with API_ROUTE_PREFIX the last parameter takes the rest of the path.
 */
#include "api/api_int.h"

#include <ctype.h>
#include <string.h>

#define GET  HTTP_GET
#define POST HTTP_POST

/* h_reports.c: the KPIs and the planning board (reporting/). */
api_handled_t api_h_kpis(api_conn_t *conn);
api_handled_t api_h_planning(api_conn_t *conn);

const api_route_t api_routes[] = {
    {POST, "/api/v1/events", api_h_events_post, "postEvents",
     "Append one event or an array of events (atomic with ?atomic=true); the answer is the "
     "durable acknowledgement",
     "200,201,207,400,403,409,413,415,422,503,507", "atomic", API_ROUTE_BODY_EVENTS, NULL},
    {GET, "/api/v1/events", api_h_events_list, "listEvents",
     "Events by sequence range and filters, a page at a time (cursor)", "200,304,400",
     "from_seq,to_seq,type,stream,entity,since_us,until_us,limit,cursor", 0, NULL},
    {GET, "/api/v1/events/{seq}", api_h_event_get, "getEvent", "One event by its sequence",
     "200,304,400,404", "", 0, NULL},
    {GET, "/api/v1/head", api_h_head_get, "getHead", "The last sequence and its hash", "200,304",
     "", 0, NULL},
    {GET, "/api/v1/streams/{stream}", api_h_stream_get, "getStream",
     "A stream's events from a version, a page at a time", "200,304,400",
     "from_version,limit,cursor", 0, NULL},
    {GET, "/api/v1/entities/{entity}/history", api_h_entity_history, "getEntityHistory",
     "Every event that named an entity (hu-R1, loom-L012, actor:USER), in order", "200,304,400",
     "from_seq,direction,limit,cursor", 0, NULL},
    {GET, "/api/v1/hus/{hu_id}", api_h_hu_get, "getHandlingUnit",
     "A handling unit now, with every unit it contains at any depth", "200,304,400,404", "", 0,
     "HandlingUnit"},
    {GET, "/api/v1/hus/{hu_id}/genealogy", api_h_hu_genealogy, "getGenealogy",
     "Genealogy of a handling unit: down to what it went into, up to what it came from",
     "200,304,400", "direction,depth", 0, "Genealogy"},
    {GET, "/api/v1/hu/{hu_id}", api_h_hu_get, "getHandlingUnitOld", "Same as /api/v1/hus/{hu_id}",
     "200,304,400,404", "", API_ROUTE_DEPRECATED, "HandlingUnit"},
    {GET, "/api/v1/hu/{hu_id}/genealogy", api_h_hu_genealogy, "getGenealogyOld",
     "Same as /api/v1/hus/{hu_id}/genealogy", "200,304,400", "direction,depth",
     API_ROUTE_DEPRECATED, "Genealogy"},
    {GET, "/api/v1/genealogy/{entity}", api_h_hu_genealogy, "getEntityGenealogy",
     "Genealogy from any entity (hu-R1, loom-L012, beam-B4)", "200,304,400", "direction,depth", 0,
     "Genealogy"},
    {GET, "/api/v1/stock", api_h_stock_get, "getStock",
     "Stock balances in thousandths, filtered by any of item, location, status (available, on "
     "hold, released, rejected, consumed, shipped) and grade (0 none, 1 first, 2 second); "
     "group_by sums them by a comma list of those keys",
     "200,304,400", "item,location,status,grade,group_by", 0, "Stock"},
    {GET, "/api/v1/orders/{of_id}", api_h_order_get, "getOrder",
     "A production order: state, plan, what was declared and the progress per thousand",
     "200,304,400,404", "", 0, "Order"},
    {GET, "/api/v1/looms", api_h_looms_list, "listLooms",
     "The loom board: every loom, stopped or not, its order and beams", "200,304", "", 0,
     "LoomBoard"},
    {GET, "/api/v1/looms/{loom_id}", api_h_loom_get, "getLoom",
     "One loom: stopped (why, since which event) or not, its order, its beams", "200,304,400,404",
     "", 0, "Loom"},
    {GET, "/api/v1/beams/{beam_id}", api_h_beam_get, "getBeam",
     "A warp beam: the loom it is mounted on and the length left", "200,304,400,404", "", 0,
     "Beam"},
    {GET, "/api/v1/interventions/{int_id}", api_h_intervention_get, "getIntervention",
     "A maintenance intervention's state and loom", "200,304,400,404", "", 0, "Intervention"},
    {GET, "/api/v1/ncs/{nc_id}", api_h_nc_get, "getNonConformity", "A non-conformity's state",
     "200,304,400,404", "", 0, "NonConformity"},
    {GET, "/api/v1/counts/{count_id}", api_h_count_get, "getCount",
     "An inventory count's state and the locations it covers", "200,304,400,404", "", 0, "Count"},
    {GET, "/api/v1/counts/{count_id}/report", api_h_count_report, "getCountReport",
     "A count's reconciliation: the book at its opening against the lines counted, outdated, "
     "uncounted and unknown units, proposed adjustments (above threshold_permille: a manager "
     "approves); format=csv for people",
     "200,400,404", "", 0, NULL},
    {GET, "/api/v1/trace/{entity}", api_h_trace, "traceEntity",
     "Recall traceability: what an entity became (direction=down, to pallets and shipments) or "
     "was made of (up, to yarn lots, beams, looms), nodes and edges; format=dot for Graphviz",
     "200,400", "", 0, NULL},
    {GET, "/api/v1/recall", api_h_recall, "recall",
     "Recall from a source over a period (from_us, until_us): a loom's rolls, a weaver's or "
     "cutter's declarations (source=actor:USER), a subcontractor's returns, down to shipments",
     "200,400", "", 0, NULL},
    {GET, "/api/v1/verify", api_h_verify, "verifyChain",
     "Walks the hash chain record by record: ok, records checked, the first bad sequence", "200",
     "", 0, NULL},
    {GET, "/api/v1/export", api_h_export, "exportLog",
     "The log's records from_seq..to_seq (default: 10,000 from 1; at most 100,000 a request) "
     "as fouta-replay export writes them, format=ndjson (application/x-ndjson) or msgpack "
     "(application/msgpack); X-Next-From-Seq names the next page until the head. Pages "
     "concatenated are an export fouta-replay import checks and loads",
     "200,400,404", "", 0, NULL},
    {GET, "/api/v1/shipments/{ship_id}", api_h_shipment_get, "getShipment",
     "A shipment's state, customer and units loaded", "200,304,400,404", "", 0, "Shipment"},
    {GET, "/api/v1/labels/{hu_id}", api_h_label_get, "getLabel",
     "A unit's label: printed, and how many times", "200,304,400,404", "", 0, "Label"},
    {GET, "/api/v1/labels/{hu_id}/{format}", api_h_label_render, "renderLabel",
     "A unit's label rendered with its QR code (the unit's id): format zpl for thermal printers "
     "(application/zpl), svg for screens and print dialogs (image/svg+xml)",
     "200,304,400,404", "", 0, NULL},
    {GET, "/api/v1/sublots/{sublot_id}", api_h_sublot_get, "getSubcontractLot",
     "A subcontract lot and its balance: out = sent - good - rejected - lost - allowance",
     "200,304,400,404", "", 0, "SubcontractLot"},
    {GET, "/api/v1/kpis", api_h_kpis, "getKpis",
     "The plant's KPIs over [from, to) (microseconds or UTC dates; the last 7 days by default), "
     "for the total or sliced by loom, shift, weaver, article, order, beam or subcontractor; "
     "CSV with Accept: text/csv or format=csv (docs/reporting.md)",
     "200,400", "from,to,by,format", 0, NULL},
    {GET, "/api/v1/planning", api_h_planning, "getPlanning",
     "The planning board at a moment (now by default): each loom's running and queued orders "
     "with their expected finish and the beam-outs before it; CSV as for kpis",
     "200,400", "at,format", 0, NULL},
    {GET, "/api/v1/ws", api_h_ws, "subscribe",
     "WebSocket subscription: catch-up from a sequence, then live (see docs/api.md)", "101,400,426",
     "from_seq,types,streams,entities", 0, NULL},
    {POST, "/api/v1/blobs", api_h_blob_post, "postBlob",
     "Store a photo (JPEG or PNG); answers its SHA-256, which events reference",
     "200,201,400,413,415", "", API_ROUTE_BODY_BLOB, NULL},
    {GET, "/api/v1/blobs/{sha256}", api_h_blob_get, "getBlob", "A stored photo", "200,304,400,404",
     "", 0, NULL},
    {POST, "/api/v1/auth/login", api_h_login, "login",
     "Sign in: {tenant, user, password, device?} answers a short-lived access token (JWT) and a "
     "refresh token",
     "200,400,401,429", "", API_ROUTE_PUBLIC | API_ROUTE_LOGIN, NULL},
    {POST, "/api/v1/auth/refresh", api_h_refresh, "refresh",
     "Rotate a refresh token: {refresh_token, device?}; a token used twice revokes its session",
     "200,400,401,429", "", API_ROUTE_PUBLIC | API_ROUTE_LOGIN, NULL},
    {POST, "/api/v1/auth/logout", api_h_logout, "logout",
     "Sign out: revokes the session of the access token and its refresh token", "204,401", "", 0,
     NULL},
    {POST, "/api/v1/auth/password", api_h_password, "setPassword",
     "Set a password: {user, password}; an admin for a user of the tenant, anyone for themselves",
     "204,400,401,403,404", "", 0, NULL},
    {GET, "/api/v1/users", api_h_users_list, "listUsers",
     "The tenant's users: id, role and state (active, invited: no password yet, disabled); "
     "admin and manager only",
     "200,401,403", "", 0, NULL},
    {POST, "/api/v1/persons/{person}/erase", api_h_person_erase, "erasePerson",
     "Erase a person's personal data (GDPR; admin): {reason, id?} destroys the key that "
     "encrypted it (user:<user_id>, sub:<sub_id>) and records PersonDataErased; the chain stays",
     "200,201,400,401,403,404", "", API_ROUTE_ADMIN, NULL},
    {GET, "/api/v1/openapi.json", api_h_openapi, "openapi", "This document", "200", "",
     API_ROUTE_PUBLIC, NULL},
    {GET, "/health/live", api_h_live, "live", "The process answers", "200", "", API_ROUTE_PUBLIC,
     NULL},
    {GET, "/health/ready", api_h_ready, "ready",
     "The ledger is open, the writer moves, PostgreSQL and Redis answer when configured", "200,503",
     "", API_ROUTE_PUBLIC, NULL},
    {GET, "/metrics", api_h_metrics, "metrics", "Prometheus text format", "200", "",
     API_ROUTE_PUBLIC, NULL},
    {GET, "/docs", api_h_docs, "docs", "Swagger UI", "200", "", API_ROUTE_PUBLIC, NULL},
    {GET, "/app", api_h_web, "app", "The web app (PWA): 308 to /app/", "308", "", API_ROUTE_PUBLIC,
     NULL},
    {GET, "/app{path}", api_h_web, "appFile", "The web app's files (--web-dir)", "200,404", "",
     API_ROUTE_PREFIX | API_ROUTE_PUBLIC, NULL},
    {GET, "/docs/{file}", api_h_docs, "docsFile", "Swagger UI files", "200,404", "",
     API_ROUTE_PREFIX | API_ROUTE_PUBLIC, NULL},
};

const uint32_t api_routes_count = sizeof(api_routes) / sizeof(api_routes[0]);

/* Matches path against pattern, copying parameters into req. */
static bool match(const api_route_t *route, api_request_t *req)
{
    const char *p = route->pattern;
    const char *s = req->path;
    size_t out = 0;
    uint32_t params = 0;
    while (*p != '\0') {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            bool rest = (route->flags & API_ROUTE_PREFIX) && close[1] == '\0';
            size_t len = rest ? strlen(s) : strcspn(s, "/");
            if (len == 0 || params == API_PARAMS_MAX)
                return false;
            memcpy(req->path_params + out, s, len);
            req->path_params[out + len] = '\0';
            req->params[params++] = req->path_params + out;
            out += len + 1;
            s += len;
            p = close + 1;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    if (*s != '\0')
        return false;
    req->params_count = params;
    return true;
}

int api_route_match(api_request_t *req)
{
    bool path_found = false;
    for (uint32_t i = 0; i < api_routes_count; i++) {
        if (!match(&api_routes[i], req))
            continue;
        if (api_routes[i].method == req->method) {
            req->route = (int)i;
            return 0;
        }
        path_found = true;
    }
    req->route = -1;
    return path_found ? FL_EHTTP_METHOD : FL_ENOENT;
}

/* TLS is on and this came over plain HTTP: 308 to the same URL over HTTPS (the Host's name,
 * foutad's HTTPS port). */
static void redirect_https(api_conn_t *conn)
{
    const api_request_t *req = &conn->req;
    char host[256];
    snprintf(host, sizeof(host), "%s",
             req->host[0] != '\0' ? req->host : conn->server->config.tls_listen_host);
    char *colon = strrchr(host, ':');
    const char *bracket = strchr(host, ']');
    if (colon != NULL && (bracket == NULL || bracket < colon))
        *colon = '\0'; /* the port of the plain listener */
    bool plain = true;
    for (const char *p = host; *p != '\0'; p++)
        plain = plain && (isalnum((unsigned char)*p) || strchr(".-[]:", *p) != NULL);
    if (!plain)
        snprintf(host, sizeof(host), "%s", conn->server->config.tls_listen_host);
    char headers[API_URL_LEN_MAX + 400];
    snprintf(headers, sizeof(headers), "Location: https://%s:%d%s\r\n", host,
             conn->server->tls_port, req->url);
    static const char body[] = "{\"detail\":\"HTTPS only\"}";
    api_respond(conn, 308, "application/json", headers, body, sizeof(body) - 1);
}

api_handled_t api_route_dispatch(api_conn_t *conn)
{
    api_request_t *req = &conn->req;
    int rc = api_route_match(req);
    if (conn->redirect_only) {
        redirect_https(conn);
        return API_DONE;
    }
    if (!api_guard(conn))
        return API_DONE;
    if (rc != 0) {
        api_problem(conn, rc, "", rc == FL_ENOENT ? "no such resource" : "", "");
        return API_DONE;
    }
    return api_routes[req->route].handler(conn);
}

const char *api_route_label(int route)
{
    if (route < 0 || (uint32_t)route >= api_routes_count)
        return "unmatched";
    return api_routes[route].id;
}
