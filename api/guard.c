/*
 * guard.c: what every request passes before its handler - the rate limit of its client address
 * (a token bucket per IP, and a stricter one that refused sign-ins drain), CORS (the configured
 * origins; preflights answered here), the access token (api_request_actor's source: the verified
 * claims, never a header the client chose) with the user's current state, the tenant of the
 * token, and the route's roles. Each refusal is one problem+json with a clear message; none
 * logs a token or a password.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <assert.h>
#include <string.h>
#include <strings.h>

#define BUCKETS        4096 /* client addresses tracked; the oldest of a probe run is reused */
#define BUCKET_PROBES  8
#define CORS_MAX_AGE_S 600

typedef struct {
    uint8_t ip[16];
    uint8_t kind; /* 0 empty, 1 general, 2 login */
    uint64_t tokens_milli;
    uint64_t at_ns;
} bucket_t;

static bucket_t buckets[BUCKETS]; /* the loop thread's alone */

static uint32_t bucket_hash(const uint8_t ip[16], uint8_t kind)
{
    uint32_t h = 2166136261u ^ kind;
    for (int i = 0; i < 16; i++)
        h = (h ^ ip[i]) * 16777619u;
    return h;
}

/* The bucket of (ip, kind), refilled to now (a new one is full). */
static bucket_t *bucket_get(const uint8_t ip[16], uint8_t kind, uint32_t per_minute, uint32_t burst)
{
    uint64_t now = fl_mono_ns();
    uint32_t h = bucket_hash(ip, kind);
    bucket_t *found = NULL, *oldest = NULL;
    for (uint32_t p = 0; p < BUCKET_PROBES && found == NULL; p++) {
        bucket_t *b = &buckets[(h + p) % BUCKETS];
        if (b->kind == kind && memcmp(b->ip, ip, 16) == 0)
            found = b;
        else if (oldest == NULL || b->kind == 0 || b->at_ns < oldest->at_ns)
            oldest = oldest != NULL && oldest->kind == 0 ? oldest : b;
    }
    if (found == NULL) {
        found = oldest;
        memcpy(found->ip, ip, 16);
        found->kind = kind;
        found->tokens_milli = (uint64_t)burst * 1000;
        found->at_ns = now;
    }
    uint64_t refill = (now - found->at_ns) * per_minute / 60000000ull; /* thousandths */
    found->tokens_milli += refill;
    if (found->tokens_milli > (uint64_t)burst * 1000)
        found->tokens_milli = (uint64_t)burst * 1000;
    found->at_ns = now;
    return found;
}

/* 0 when the bucket holds a whole token, or the seconds until it does. */
static uint32_t bucket_wait(const bucket_t *b, uint32_t per_minute)
{
    if (b->tokens_milli >= 1000)
        return 0;
    uint64_t missing = 1000 - b->tokens_milli;
    uint64_t wait_s =
        per_minute > 0 ? (missing * 60 + per_minute * 1000 - 1) / (per_minute * 1000) : 60;
    return wait_s == 0 ? 1 : (uint32_t)wait_s;
}

static bool refuse_rate(api_conn_t *conn, uint32_t wait_s, const char *message)
{
    snprintf(conn->req.extra_headers, sizeof(conn->req.extra_headers), "Retry-After: %u\r\n",
             wait_s);
    api_problem(conn, FL_ERATE_LIMITED, "", message, "");
    return true;
}

/*
 * Every request takes a token from its address's general bucket. The sign-in routes also need
 * their address's sign-in bucket to hold one, and only a refused sign-in takes it
 * (api_guard_signin_refused): a plant's phones behind one address may all sign in at the start
 * of a shift, while guessing passwords is held to the sign-in rate.
 */
static bool rate_limited(api_conn_t *conn, bool login)
{
    const api_config_t *config = &conn->server->config;
    if (config->rate_per_min != 0) {
        bucket_t *b = bucket_get(conn->peer_ip, 1, config->rate_per_min, config->rate_burst);
        uint32_t wait_s = bucket_wait(b, config->rate_per_min);
        if (wait_s != 0)
            return refuse_rate(conn, wait_s, "too many requests");
        b->tokens_milli -= 1000;
    }
    if (!login)
        return false;
    bucket_t *b =
        bucket_get(conn->peer_ip, 2, config->login_rate_per_min, config->login_rate_burst);
    uint32_t wait_s = bucket_wait(b, config->login_rate_per_min);
    return wait_s != 0 && refuse_rate(conn, wait_s, "too many refused sign-ins from this address");
}

void api_guard_signin_refused(api_conn_t *conn)
{
    const api_config_t *config = &conn->server->config;
    bucket_t *b =
        bucket_get(conn->peer_ip, 2, config->login_rate_per_min, config->login_rate_burst);
    b->tokens_milli = b->tokens_milli >= 1000 ? b->tokens_milli - 1000 : 0;
}

/* ---- CORS ---- */

bool api_cors_origin_allowed(const api_server_t *server, const char *origin)
{
    const char *list = server->config.cors_origins;
    size_t len = strlen(origin);
    if (len == 0)
        return false;
    while (*list != '\0') {
        size_t item = strcspn(list, ",");
        if ((item == len && strncmp(list, origin, len) == 0) || (item == 1 && list[0] == '*'))
            return true;
        list += item;
        if (*list == ',')
            list++;
    }
    return false;
}

/* An OPTIONS request with Origin and Access-Control-Request-Method: answered here. */
static void preflight(api_conn_t *conn)
{
    api_request_t *req = &conn->req;
    if (!api_cors_origin_allowed(conn->server, req->origin)) {
        api_problem(conn, FL_EFORBIDDEN_ORIGIN, "header:Origin",
                    "this origin is not in foutad's --cors-origins", "");
        return;
    }
    int method = strcmp(req->acr_method, "GET") == 0    ? HTTP_GET
                 : strcmp(req->acr_method, "POST") == 0 ? HTTP_POST
                                                        : -1;
    int saved = req->method;
    req->method = method;
    int rc = method >= 0 ? api_route_match(req) : FL_EHTTP_METHOD;
    req->method = saved;
    if (rc != 0) {
        api_problem(conn, rc == FL_ENOENT ? FL_ENOENT : FL_EHTTP_METHOD,
                    "header:Access-Control-Request-Method", "no such route for this method", "");
        return;
    }
    char headers[1024];
    snprintf(headers, sizeof(headers),
             "Access-Control-Allow-Methods: GET, POST\r\n"
             "Access-Control-Allow-Headers: Authorization, Content-Type, Accept, X-Request-Id, "
             "X-Device-Id, If-None-Match\r\nAccess-Control-Max-Age: %d\r\n",
             CORS_MAX_AGE_S);
    api_respond(conn, 204, "", headers, "", 0);
}

/* ---- the token ---- */

static int bearer(const api_request_t *req, const char **token, size_t *len)
{
    if (strncasecmp(req->authorization, "Bearer ", 7) == 0) {
        *token = req->authorization + 7;
        *len = strlen(*token);
        return *len > 0 ? 0 : FL_EUNAUTHORIZED;
    }
    /* Browsers cannot set headers on a WebSocket: its upgrade may carry the token in the query
     * (never logged: log lines carry the path without its query). */
    const char *query = api_query_get(req, "access_token");
    if (req->authorization[0] == '\0' && query != NULL && req->upgrade[0] != '\0') {
        *token = query;
        *len = strlen(query);
        return 0;
    }
    return FL_EUNAUTHORIZED;
}

static bool unauthorized(api_conn_t *conn, const char *why)
{
    snprintf(conn->req.extra_headers, sizeof(conn->req.extra_headers),
             "WWW-Authenticate: Bearer realm=\"fouta\", error=\"invalid_token\"\r\n");
    api_problem(conn, FL_EUNAUTHORIZED, "header:Authorization", why, "");
    return false;
}

/* Verifies the token and the user's state now. Fills conn->claims and conn->tenant. */
static bool authenticate(api_conn_t *conn)
{
    api_server_t *server = conn->server;
    const char *token;
    size_t len;
    if (bearer(&conn->req, &token, &len) != 0)
        return unauthorized(conn, "sign in (POST /api/v1/auth/login) and send "
                                  "Authorization: Bearer <access token>");
    const char *why;
    api_claims_t *claims = &conn->claims;
    if (api_jwt_verify(&server->jwt_keys, token, len, fl_now_us() / 1000000, claims, &why) != 0)
        return unauthorized(conn, why);
    api_user_t user;
    if (api_auth_user_get(server->auth, claims->tenant, claims->user, &user) != 0 || user.disabled)
        return unauthorized(conn, "the token's user is disabled or unknown");
    if (user.generation != claims->generation || user.role != claims->role)
        return unauthorized(conn, "the user's role changed since the token was issued: refresh");
    if (api_auth_family_revoked(server->auth, claims->family))
        return unauthorized(conn, "the session was revoked (logout or a reused refresh token)");
    /* Nor can it send X-Device-Id: its upgrade may name the device in the query too. */
    const char *device = conn->req.device_id[0] == '\0' && conn->req.upgrade[0] != '\0'
                             ? api_query_get(&conn->req, "device_id")
                             : NULL;
    if (device != NULL)
        snprintf(conn->req.device_id, sizeof(conn->req.device_id), "%s", device);
    if (claims->device[0] != '\0' && strcmp(claims->device, conn->req.device_id) != 0)
        return unauthorized(conn, "the token is bound to another device (X-Device-Id)");
    if (api_tenant_get(server, claims->tenant, &conn->tenant) != 0)
        return unauthorized(conn, "the token's tenant does not exist here");
    return true;
}

/* A query parameter or filter naming a tenant must name the token's. */
static bool tenant_matches(api_conn_t *conn)
{
    const char *named = api_query_get(&conn->req, "tenant");
    if (named == NULL || strcmp(named, conn->claims.tenant) == 0)
        return true;
    api_problem(conn, FL_EFORBIDDEN_TENANT, "query:tenant",
                "the token's tenant is the only one this request may name", "");
    return false;
}

/* ---- which roles read which views ---- */

#define ROLE_BIT(name) (1u << EV_ROLE_##name)
#define DESK_ROLES     (ROLE_BIT(ADMIN) | ROLE_BIT(MANAGER))
#define STORE_ROLES    (ROLE_BIT(STORE_RAW) | ROLE_BIT(STORE_FINISHED) | ROLE_BIT(STORE_SUBCONTRACT))

/* The views not every role reads (docs/security.md); a route not listed is read by every role
 * of the tenant (the floor's apps read units, stock, looms, orders and the log), and posting is
 * decided per event type by the catalog. */
static const struct {
    const char *route; /* operationId */
    uint32_t roles;
} view_roles[] = {
    {"getKpis", DESK_ROLES | ROLE_BIT(QUALITY) | ROLE_BIT(MECHANIC)},
    {"getPlanning", DESK_ROLES | ROLE_BIT(MECHANIC)},
    {"getCountReport", DESK_ROLES | STORE_ROLES},
    {"traceEntity", DESK_ROLES | ROLE_BIT(QUALITY)},
    {"recall", DESK_ROLES | ROLE_BIT(QUALITY)},
    {"verifyChain", DESK_ROLES},
    {"exportLog", DESK_ROLES},
    {"listUsers", DESK_ROLES},
};

uint32_t api_route_roles(const api_route_t *route)
{
    if (route->flags & API_ROUTE_ADMIN)
        return ROLE_BIT(ADMIN);
    for (size_t i = 0; i < sizeof(view_roles) / sizeof(view_roles[0]); i++)
        if (strcmp(view_roles[i].route, route->id) == 0)
            return view_roles[i].roles;
    return (1u << EV_ROLE_COUNT) - 1;
}

static bool role_allowed(api_conn_t *conn, const api_route_t *route)
{
    uint32_t roles = api_route_roles(route);
    if (roles & (1u << conn->claims.role))
        return true;
    char message[256];
    int len = snprintf(message, sizeof(message), "the role %s may not use %s: only",
                       ev_role_name(conn->claims.role), route->id);
    for (int role = 0; role < EV_ROLE_COUNT && len > 0 && (size_t)len < sizeof(message); role++)
        if (roles & (1u << role))
            len += snprintf(message + len, sizeof(message) - (size_t)len, " %s",
                            ev_role_name((ev_role_t)role));
    api_problem(conn, FL_EFORBIDDEN, "", message, "");
    return false;
}

bool api_guard(api_conn_t *conn)
{
    api_request_t *req = &conn->req;
    conn->tenant = NULL;
    memset(&conn->claims, 0, sizeof(conn->claims));
    conn->claims.role = EV_ROLE_COUNT;
    bool login = req->route >= 0 && (api_routes[req->route].flags & API_ROUTE_LOGIN);
    if (rate_limited(conn, login))
        return false;
    if (req->method == HTTP_OPTIONS && req->origin[0] != '\0' && req->acr_method[0] != '\0') {
        preflight(conn);
        return false;
    }
    if (req->route < 0)
        return true; /* the router answers 404 or 405 */
    const api_route_t *route = &api_routes[req->route];
    if (route->flags & API_ROUTE_PUBLIC)
        return true;
    return authenticate(conn) && tenant_matches(conn) && role_allowed(conn, route);
}

int api_request_actor(const api_conn_t *conn, api_actor_t *out)
{
    memset(out, 0, sizeof(*out));
    out->role = EV_ROLE_COUNT;
    if (conn->tenant == NULL || conn->claims.role >= EV_ROLE_COUNT)
        return FL_EUNAUTHORIZED;
    snprintf(out->user, sizeof(out->user), "%s", conn->claims.user);
    snprintf(out->device, sizeof(out->device), "%s",
             conn->claims.device[0] != '\0' ? conn->claims.device : conn->req.device_id);
    out->role = conn->claims.role;
    return 0;
}
