/*
 * api_int.h: what the files of api/ share, and nothing outside api/ includes. Third-party types
 * (libuv, llhttp) appear here and never in api.h.
 *
 * The shape: server.c owns the loop, the listener, the signals and the engine's completions;
 * http.c owns a connection (llhttp, limits, timers, ordered writes); router.c maps a request to
 * one handler of the route table; each h_*.c file is one family of handlers; ws.c turns an
 * upgraded connection into a subscription.
 */
#ifndef API_INT_H
#define API_INT_H

/* libuv's header needs POSIX types (pthread_rwlock_t): C11 alone does not declare them. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "llhttp.h"

#include "api/api.h"
#include "engine/engine.h"
#include "events/events.h"
#include "projections/projections.h"

#include "api/sec_int.h"

/* ---- buf.c: a growable byte buffer, reused across requests ---- */

/* Appends never fail one by one: the first failed allocation sets oom and later appends do
 * nothing, so a writer checks once at the end. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    bool oom;
} api_buf_t;

void api_buf_reset(api_buf_t *buf); /* len = 0, oom = false; keeps the memory */
void api_buf_free(api_buf_t *buf);  /* accepts a zeroed buf; safe twice */
bool api_buf_reserve(api_buf_t *buf, size_t extra);
void api_buf_add(api_buf_t *buf, const void *bytes, size_t len);
void api_buf_str(api_buf_t *buf, const char *text);
void api_buf_printf(api_buf_t *buf, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal with its quotes, escaping what RFC 8259 requires. */
void api_buf_json_str(api_buf_t *buf, const char *text, size_t len);
void api_buf_json_hex(api_buf_t *buf, const uint8_t *bytes, size_t len); /* "ab12..." */
void api_buf_json_uuid(api_buf_t *buf, const uint8_t id[16]);            /* "…" or null */
void api_buf_u64(api_buf_t *buf, uint64_t value); /* decimal, without printf */
/* member (",\"item\":" or "{\"item\":") then text as a JSON string; the _or_null form writes
 * null for "" (the views' "none"). text is NUL-terminated. */
void api_buf_member_str(api_buf_t *buf, const char *member, const char *text);
void api_buf_member_str_or_null(api_buf_t *buf, const char *member, const char *text);

/* ---- log.c: structured JSON logs, one object a line on stderr ---- */

#define API_LOG_ERROR 0
#define API_LOG_INFO  1
#define API_LOG_DEBUG 2

void api_log_init(int level);
/* fields is "" or more JSON members that start with a comma: ",\"status\":200". */
void api_log(int level, const char *request_id, const char *message, const char *fields_format, ...)
    __attribute__((format(printf, 4, 5)));
bool api_log_enabled(int level);
/* The request line of api_request_done, formatted without printf; path is escaped here. */
void api_log_request(const char *request_id, const char *method, const char *path, size_t path_len,
                     const char *route, int status, uint64_t duration_us);
/* on: lines logged on the calling thread (the loop's) below error level are gathered and
 * written by api_log_flush; off: flushes and writes every line at once again. */
void api_log_buffer(bool on);
void api_log_flush(void);
/* Writes the gathered lines when there are enough of them or the oldest is API_LOG_FLUSH_MS
 * old (now_ms on fl_mono_ns's clock). */
#define API_LOG_FLUSH_MS 100
void api_log_flush_due(uint64_t now_ms);

/* ---- request.c: what a handler sees of a request ---- */

#define API_REQUEST_ID_LEN_MAX   64
#define API_HEADER_NAME_LEN_MAX  64
#define API_HEADER_VALUE_LEN_MAX 1280 /* of the headers we keep (a token); longer are cut */
#define API_PARAMS_MAX           8    /* path parameters of a route */
#define API_QUERY_MAX            16   /* query parameters kept */

typedef enum { API_MEDIA_JSON = 0, API_MEDIA_MSGPACK } api_media_t;

/* Who posts: from the verified access token's claims (api_request_actor, guard.c), the one
 * place that knows where the actor comes from. */
typedef struct {
    char user[ENG_ACTOR_LEN_MAX + 1];
    char device[ENG_ACTOR_LEN_MAX + 1];
    ev_role_t role; /* EV_ROLE_COUNT: none given */
} api_actor_t;

typedef struct {
    const char *name;
    size_t name_len;
    const char *value; /* percent-decoded, NUL-terminated (points into the request) */
} api_param_t;

typedef struct {
    int method; /* llhttp_method_t */
    char url[API_URL_LEN_MAX + 1];
    size_t url_len;
    char path[API_URL_LEN_MAX + 1]; /* percent-decoded path, no query */
    char query_text[API_URL_LEN_MAX + 1];
    api_param_t query[API_QUERY_MAX];
    uint32_t query_count;
    const char *params[API_PARAMS_MAX]; /* path parameters in route order (into path_params) */
    uint32_t params_count;
    char path_params[API_URL_LEN_MAX + 1];

    /* Headers we keep, NUL-terminated, "" when absent. */
    char content_type[API_HEADER_VALUE_LEN_MAX];
    char accept[API_HEADER_VALUE_LEN_MAX];
    char if_none_match[API_HEADER_VALUE_LEN_MAX];
    char expect[64];
    char connection[128];
    char upgrade[64];
    char ws_key[64];
    char ws_version[16];
    char request_id[API_REQUEST_ID_LEN_MAX + 1];
    char authorization[API_TOKEN_LEN_MAX + 16];
    char origin[256];
    char acr_method[16]; /* Access-Control-Request-Method of a preflight */
    char device_id[API_DEVICE_LEN_MAX + 1];
    char host[256];
    char extra_headers[256]; /* added to the answer by a guard (Retry-After, WWW-Authenticate) */

    api_buf_t body;
    uint64_t start_ns;
    int route;  /* index in the route table, -1 before routing */
    int status; /* of the response, for the log and the metrics */
    api_media_t accept_media;
    bool headers_too_large;
} api_request_t;

/* The value of query parameter name, or NULL. */
const char *api_query_get(const api_request_t *req, const char *name);
/* Parses an unsigned query parameter: 0 and *out (def when absent), or FL_EINVAL. */
int api_query_u64(const api_request_t *req, const char *name, uint64_t def, uint64_t *out);
int api_query_i64(const api_request_t *req, const char *name, int64_t def, int64_t *out);
/* Splits url into path (decoded) and query. FL_EINVAL on a bad percent escape. */
int api_request_parse_url(api_request_t *req);
/* Chooses the response media type from Accept (JSON unless msgpack is preferred). */
api_media_t api_request_negotiate(const api_request_t *req);

/* ---- http.c: one connection ---- */

typedef struct api_server api_server_t;
typedef struct api_conn api_conn_t;
typedef struct api_ws api_ws_t;

typedef enum {
    API_CONN_IDLE,      /* keep-alive, waiting for a request */
    API_CONN_HEADERS,   /* reading a request's line and headers */
    API_CONN_BODY,      /* reading its body */
    API_CONN_HANDLING,  /* a handler has the request; reading is paused */
    API_CONN_WEBSOCKET, /* upgraded: ws.c has it */
    API_CONN_CLOSING
} api_conn_state_t;

struct api_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    llhttp_t parser;
    api_server_t *server;
    api_conn_state_t state;
    api_request_t req;
    char header_name[API_HEADER_NAME_LEN_MAX + 1];
    size_t header_name_len;
    char header_value[API_HEADER_VALUE_LEN_MAX];
    size_t header_value_len;
    size_t header_bytes;
    uint32_t body_limit;
    api_buf_t input; /* bytes read but not yet parsed (pipelined requests) */
    size_t input_pos;
    api_buf_t out;    /* response bytes waiting for the write in flight */
    api_buf_t flight; /* bytes of the write in flight */
    uv_write_t write_req;
    bool writing;
    bool keep_alive;
    bool close_after_write;
    bool pending_append;  /* the engine holds a request of this connection */
    bool closed_handles;  /* uv_close was called */
    bool close_requested; /* closed while the engine held an append: close when it answers */
    bool processing;      /* inside the parse loop: a response must not re-enter it */
    bool reading;
    int early_error; /* what a parser callback refused, answered after llhttp returns */
    uv_read_cb on_read;
    uv_alloc_cb alloc;
    int handles_open;
    void *append; /* h_events.c's reusable append context */
    api_ws_t *ws;
    struct api_tenant *tenant; /* the token's tenant, once the guard passed */
    api_claims_t claims;       /* the verified token of the current request */
    uint8_t peer_ip[16];       /* the client address (IPv4 mapped into IPv6) */
    void *tls;                 /* tls.c's state of a TLS connection, NULL for plain TCP */
    bool redirect_only;        /* accepted on the plain listener while TLS is on */
    api_conn_t *prev, *next;
    api_conn_t *done_next; /* server's list of finished appends */
};

/* Starts serving an accepted connection. */
void api_conn_start(api_conn_t *conn);
/* Logs and counts the end of the current request. */
void api_request_done(api_conn_t *conn, int status);
/* Bytes queued or in flight to the peer. */
size_t api_conn_queued(const api_conn_t *conn);
/* Queues bytes for the peer, in order. */
void api_conn_write(api_conn_t *conn, const void *bytes, size_t len);
/* Closes now (pending writes are dropped). Frees the connection when it is safe. */
void api_conn_close(api_conn_t *conn);
/* Closes once the queued bytes are written (graceful stop of idle connections). */
void api_conn_shutdown(api_conn_t *conn);

/* ---- responses (http.c) ---- */

/*
 * Writes a whole response for the current request and ends it: logs it, counts it, then
 * resumes parsing pipelined requests (or closes, without keep-alive). headers is "" or more
 * "Name: value\r\n" lines. The body is copied.
 */
void api_respond(api_conn_t *conn, int status, const char *content_type, const char *headers,
                 const void *body, size_t len);
/* A JSON body (from buf), converted to msgpack when the client asked for it. */
void api_respond_json(api_conn_t *conn, int status, const char *headers, const api_buf_t *json);

/* ---- problem.c: errors as application/problem+json (RFC 9457) ---- */

/* code is a code of base.h's list; field "" when the whole request is at fault; extra is ""
 * or more JSON members starting with a comma. */
void api_problem(api_conn_t *conn, int code, const char *field, const char *message,
                 const char *extra);
void api_problem_status(api_conn_t *conn, int status, int code, const char *field,
                        const char *message, const char *extra);
/* The answer to a failed read of one entity (what: "production order", id: the path's value):
 * 404 NOENT when it is unknown, 400 TOO_LONG for an id the engine refuses, else the error. */
void api_problem_lookup(api_conn_t *conn, int rc, const char *field, const char *what,
                        const char *id);
/* Writes the problem's JSON into out (for WebSocket errors and batch results). */
void api_problem_json(api_buf_t *out, int status, int code, const char *field, const char *message,
                      const char *request_id);

/* ---- router.c ---- */

typedef enum { API_DONE = 0, API_ASYNC = 1 } api_handled_t;
typedef api_handled_t (*api_handler_fn)(api_conn_t *conn);

typedef struct {
    int method;          /* llhttp_method_t */
    const char *pattern; /* "/api/v1/streams/{stream}" */
    api_handler_fn handler;
    const char *id;       /* operationId and the route label of the metrics */
    const char *summary;  /* OpenAPI */
    const char *statuses; /* "200,304,400" for OpenAPI */
    const char *params;   /* query parameters, "from_seq,limit" for OpenAPI */
    uint32_t flags;
    const char *schema; /* the 200 answer's schema in openapi.c's list ("Loom"), or NULL */
} api_route_t;

#define API_ROUTE_BODY_EVENTS 1u  /* the body holds events (API_BODY_BYTES_MAX) */
#define API_ROUTE_BODY_BLOB   2u  /* the body is a photo (API_BLOB_BYTES_MAX) */
#define API_ROUTE_PREFIX      4u  /* the pattern's last {param} takes the rest of the path */
#define API_ROUTE_DEPRECATED  8u  /* an older path kept for its clients (OpenAPI says so) */
#define API_ROUTE_PUBLIC      16u /* no access token (health, docs, sign-in) */
#define API_ROUTE_ADMIN       32u /* the admin role only */
#define API_ROUTE_LOGIN       64u /* the stricter rate limit of sign-in */

extern const api_route_t api_routes[];
extern const uint32_t api_routes_count;

/* Finds the route of req (fills req->route and its params). Returns 0, FL_ENOENT (no path
 * matches) or FL_EHTTP_METHOD (the path exists with another method). */
int api_route_match(api_request_t *req);
/* Route and dispatch the current request. */
api_handled_t api_route_dispatch(api_conn_t *conn);
/* The route label for metrics and logs ("unmatched" for none). */
const char *api_route_label(int route);

/* ---- handlers (h_*.c, ws.c, blobs.c, static.c) ---- */

/* Bounds of the plant's state reads (one answer, one LMDB read transaction). */
#define API_HU_CONTENTS_MAX     10000  /* units listed in one unit's contents */
#define API_STOCK_ROWS_MAX      10000  /* rows (or groups) in one stock answer */
#define API_STOCK_SCAN_ROWS_MAX 100000 /* stock rows one request may read */
#define API_LOOMS_MAX           10000  /* looms on the board */

/* A unit's id from a path parameter: "R0001" and "hu-R0001" both name unit R0001 (h_plant.c). */
const char *api_hu_id(const char *param);

api_handled_t api_h_events_post(api_conn_t *conn);
api_handled_t api_h_events_list(api_conn_t *conn);
api_handled_t api_h_event_get(api_conn_t *conn);
api_handled_t api_h_stream_get(api_conn_t *conn);
api_handled_t api_h_entity_history(api_conn_t *conn);
api_handled_t api_h_head_get(api_conn_t *conn);
api_handled_t api_h_hu_get(api_conn_t *conn);
api_handled_t api_h_hu_genealogy(api_conn_t *conn);
api_handled_t api_h_stock_get(api_conn_t *conn);
api_handled_t api_h_order_get(api_conn_t *conn);
api_handled_t api_h_looms_list(api_conn_t *conn);
api_handled_t api_h_loom_get(api_conn_t *conn);
api_handled_t api_h_beam_get(api_conn_t *conn);
api_handled_t api_h_intervention_get(api_conn_t *conn);
api_handled_t api_h_nc_get(api_conn_t *conn);
api_handled_t api_h_count_get(api_conn_t *conn);
api_handled_t api_h_shipment_get(api_conn_t *conn);
api_handled_t api_h_label_get(api_conn_t *conn);
api_handled_t api_h_label_render(api_conn_t *conn); /* label.c */
api_handled_t api_h_sublot_get(api_conn_t *conn);
/* h_audit.c: replay/ through the API, on libuv's thread pool. */
api_handled_t api_h_trace(api_conn_t *conn);
api_handled_t api_h_recall(api_conn_t *conn);
api_handled_t api_h_count_report(api_conn_t *conn);
api_handled_t api_h_verify(api_conn_t *conn);
api_handled_t api_h_export(api_conn_t *conn);
/* The as-of snapshots brought up to date every --asof-snapshot-period-ms in the background
 * (the timer made at start); stopped when foutad stops: a pass in flight gives way. */
void api_audit_snapshots_start(api_server_t *server);
void api_audit_snapshots_stop(api_server_t *server);
/* GET /api/v1/stock?as_of_seq=N: the stock after event N (filter and keys already read). */
api_handled_t api_stock_asof(api_conn_t *conn, const eng_stock_filter_t *filter, unsigned keys);
/* h_plant.c: the stock query's filter and keys (answers a 400 itself: non-zero), the stock of
 * a ledger as JSON into body (any thread: 0, FL_EINVAL for an item too long, FL_ENOMEM), and
 * the answer to its error. */
int api_stock_query(api_conn_t *conn, eng_stock_filter_t *filter, unsigned *keys);
int api_stock_render(eng_ledger_t *ledger, const eng_stock_filter_t *filter, unsigned keys,
                     const char *group_by, api_buf_t *body);
void api_stock_problem(api_conn_t *conn, int rc);
api_handled_t api_h_live(api_conn_t *conn);
api_handled_t api_h_ready(api_conn_t *conn);
api_handled_t api_h_metrics(api_conn_t *conn);
api_handled_t api_h_openapi(api_conn_t *conn);
api_handled_t api_h_ws(api_conn_t *conn);
api_handled_t api_h_blob_post(api_conn_t *conn);
api_handled_t api_h_blob_get(api_conn_t *conn);
api_handled_t api_h_docs(api_conn_t *conn);
api_handled_t api_h_web(api_conn_t *conn); /* web.c: the web app at /app */
api_handled_t api_h_login(api_conn_t *conn);
api_handled_t api_h_refresh(api_conn_t *conn);
api_handled_t api_h_logout(api_conn_t *conn);
api_handled_t api_h_password(api_conn_t *conn);
api_handled_t api_h_person_erase(api_conn_t *conn); /* h_persons.c */
api_handled_t api_h_users_list(api_conn_t *conn);   /* h_users.c */

/* ---- offload.c: a request's slow part on libuv's thread pool ---- */

/* Runs on a pool thread: no api_ call that answers, only the work's own data. */
typedef void (*api_offload_work_cb)(void *data);
/* Runs on the loop thread afterwards: answers on conn, or, when conn is NULL (the client left,
 * the work was cancelled or could not be queued: already answered), only frees. Frees data. */
typedef void (*api_offload_done_cb)(api_conn_t *conn, void *data);
/* Queues run then done for the request of conn: API_ASYNC, or API_DONE when it answered
 * (FL_EBUSY, FL_ENOMEM) after done(NULL, data). */
api_handled_t api_offload(api_conn_t *conn, void *data, api_offload_work_cb run,
                          api_offload_done_cb done);

/* ---- guard.c: rate limits, CORS, the token, the tenant, the route's roles ---- */

/* Runs before a request's handler: true to go on, false when it answered (401, 403, 429, a
 * CORS preflight). */
bool api_guard(api_conn_t *conn);
/* A sign-in or refresh was refused: drains the sign-in bucket of the client's address. */
void api_guard_signin_refused(api_conn_t *conn);
/* The actor of the request: the token's user, role and device. 0 or FL_EUNAUTHORIZED. */
int api_request_actor(const api_conn_t *conn, api_actor_t *out);
bool api_cors_origin_allowed(const api_server_t *server, const char *origin);
/* The roles that may use route, one bit per ev_role_t (docs/security.md). */
uint32_t api_route_roles(const api_route_t *route);

/* Called on the loop thread when the engine finished an append of conn (h_events.c). */
void api_events_append_done(api_conn_t *conn);
void api_events_free(api_conn_t *conn);
/* Appends a PersonDataErased event (a jansson json_t *, which this takes) as POST
 * /api/v1/events would, destroying the person's key once the event is valid: only the erasure
 * route records that type (h_persons.c). */
api_handled_t api_events_post_erasure(api_conn_t *conn, void *event);

/* ---- record_json.c ---- */

/* Appends a stored record as the JSON object readers get, its personal data decrypted with
 * tenant's keys (seal.c) when personal (api_role_reads_personal), else null and "restricted".
 * Returns 0, FL_ECORRUPT or FL_ENOMEM. */
int api_record_json(api_buf_t *out, const eng_record_t *record, struct api_tenant *tenant,
                    bool personal);

/* ETag of everything readable now: W/"<head seq>". Answers 304 and returns true when the
 * request's If-None-Match names it. */
bool api_etag_not_modified(api_conn_t *conn, char *etag_header, size_t size);

/* ---- metrics.c ---- */

#define API_LATENCY_BUCKETS 12

typedef struct {
    int route;
    int status;
    uint64_t count;
    uint64_t sum_us;
    uint64_t buckets[API_LATENCY_BUCKETS];
} api_route_metric_t;

#define API_ROUTE_METRICS_MAX 256

typedef struct {
    api_route_metric_t routes[API_ROUTE_METRICS_MAX];
    uint32_t routes_count;
    uint64_t appends; /* append requests acknowledged */
    uint64_t batch_events_buckets[8];
    uint64_t connections_accepted;
    uint64_t connections_refused;
    uint64_t ws_events_sent;
    uint64_t ws_lagged; /* times a subscriber fell back to catch-up */
} api_metrics_t;

void api_metrics_request(api_metrics_t *metrics, int route, int status, uint64_t duration_us);
void api_metrics_batch(api_metrics_t *metrics, uint32_t events);
void api_metrics_render(api_server_t *server, api_buf_t *out);

/* ---- server.c ---- */

typedef struct api_append api_append_t;

#define API_PROJECTORS_MAX 2 /* PostgreSQL and Redis, per tenant */
#define API_TENANTS_MAX    256

/* A tenant: its own ledger, photos, WebSocket hub and projectors (tenant.c). */
typedef struct api_tenant {
    char name[API_TENANT_LEN_MAX + 1];
    api_server_t *server;
    eng_ledger_t *ledger;
    char blob_dir[1200];
    void *hub;                             /* ws.c's subscriptions */
    prj_sink_t *sinks[API_PROJECTORS_MAX]; /* projections.c */
    prj_projector_t *projectors[API_PROJECTORS_MAX];
    uint32_t projectors_count;
    uint64_t snapshots_at; /* h_audit.c's background pass only: its last snapshot's sequence */
} api_tenant_t;

struct api_server {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    uv_async_t done_async;
    uv_timer_t stop_timer;
    uv_timer_t heartbeat;
    uv_check_t log_flush;      /* after each turn of the loop: writes the log lines when due */
    uv_timer_t log_timer;      /* every API_LOG_FLUSH_MS: the same while the loop is idle */
    uv_tcp_t tls_listener;     /* tls.c: HTTPS when a certificate is configured */
    uv_timer_t snapshot_timer; /* h_audit.c: the as-of snapshots made in the background */
    bool snapshots_busy;       /* a pass of them is on the thread pool */
    uv_signal_t sighup;        /* reloads the certificate and key */
    api_config_t config;
    api_tenant_t *tenants[API_TENANTS_MAX];
    uint32_t tenants_count;
    api_auth_t *auth;
    api_jwt_keys_t jwt_keys;
    void *tls; /* tls.c's SSL_CTX, NULL when TLS is off */
    int tls_port;
    pthread_mutex_t done_lock;
    api_conn_t *done_head; /* connections whose append finished, linked by done_next */
    api_conn_t *conns;
    uint32_t conns_count;
    uint32_t appends_pending;
    bool draining;
    bool stopped;
    api_metrics_t metrics;
    char *openapi; /* generated once at start */
    size_t openapi_len;
    /* health of the writer: progress seen at the last ready check */
    uint64_t ready_commits;
    uint64_t ready_at_ns;
};

/* The engine's callback (writer thread): hands conn back to the loop thread. */
void api_server_append_done(api_server_t *server, api_conn_t *conn);
/* A connection is gone: unlink it, and finish a graceful stop when it was the last. */
void api_server_conn_closed(api_server_t *server, api_conn_t *conn);
/* While draining: stops the loop's own handles once nothing is in flight. */
void api_server_maybe_finish(api_server_t *server);

/* ---- tenant.c ---- */

bool api_tenant_name_valid(const char *name);
/* Creates DATA/tenants/<name> and its photos' directory. 0, FL_EINVAL, -errno. */
int api_tenant_create_dirs(const char *data_dir, const char *name);
/* The open tenant called name, opening it when its directory exists: 0, FL_ENOENT, or the
 * ledger's open errors. */
int api_tenant_get(api_server_t *server, const char *name, api_tenant_t **out);
int api_tenants_open_all(api_server_t *server);
void api_tenants_close_all(api_server_t *server);
/* Sums of every tenant's ledger statistics and heads (health and metrics). */
void api_tenants_stats(api_server_t *server, eng_stats_t *stats, uint64_t *head_seq);

/* ---- projections.c ---- */

/* Starts a projector per configured sink for a tenant whose ledger is open: 0, FL_EINVAL. */
int api_projections_start(api_server_t *server, api_tenant_t *tenant);
/* Stops a tenant's projectors; before its ledger closes. */
void api_projections_stop(api_tenant_t *tenant);
/* The projectors' status (the first API_PROJECTORS_MAX of all tenants); returns how many. */
uint32_t api_projections_status(api_server_t *server, prj_status_t out[API_PROJECTORS_MAX]);

/* ---- openapi.c ---- */

/* The OpenAPI 3.1 document from the catalog and the route table (malloc'd, NUL-terminated). */
char *api_openapi_build(size_t *len);

/* ---- ws.c ---- */

int api_ws_hub_init(api_server_t *server, api_tenant_t *tenant);
void api_ws_hub_free(api_server_t *server);
/* New events were committed: subscribers at the tip read them. */
void api_ws_hub_wake(api_server_t *server);
void api_ws_heartbeat(api_server_t *server);
/* Bytes arrived on an upgraded connection. */
void api_ws_read(api_conn_t *conn, const char *bytes, size_t len);
/* The connection's write finished: a lagging subscriber may resume. */
void api_ws_writable(api_conn_t *conn);
void api_ws_free(api_conn_t *conn);
void api_ws_shutdown(api_conn_t *conn); /* close frame 1001, then close */
uint32_t api_ws_clients(api_server_t *server);
uint64_t api_ws_lag_max(api_server_t *server); /* events behind the head, worst subscriber */

/* ---- blobs.c ---- */

/* 0 when a blob with this hex SHA-256 is stored, FL_EBLOB_UNKNOWN otherwise. */
int api_blob_exists(api_tenant_t *tenant, const char *sha256_hex);

/* ---- tls.c ---- */

/* Loads the certificate and key (TLS 1.2 and 1.3): 0, FL_EINVAL with a log line. */
int api_tls_init(api_server_t *server);
/* Reloads them (SIGHUP); on failure the previous ones stay. */
int api_tls_reload(api_server_t *server);
void api_tls_free(api_server_t *server);
/* Starts TLS on an accepted connection: 0 or FL_ENOMEM. */
int api_tls_conn_start(api_conn_t *conn);
void api_tls_conn_free(api_conn_t *conn);
/* Ciphertext arrived: plaintext goes to the connection's reader. */
void api_tls_read(api_conn_t *conn, const char *bytes, size_t len);
/* Writes plaintext bufs through TLS with libuv's write semantics (cb runs once). */
int api_tls_write(api_conn_t *conn, uv_write_t *req, const uv_buf_t bufs[], unsigned nbufs,
                  uv_write_cb cb);
/* A connection's writes: plain uv_write, or through TLS. */
int api_conn_uv_write(api_conn_t *conn, uv_write_t *req, const uv_buf_t bufs[], unsigned nbufs,
                      uv_write_cb cb);
/* Plaintext bytes for the connection's HTTP or WebSocket reader (http.c). */
void api_conn_plain_read(api_conn_t *conn, const char *bytes, size_t len);

/* ---- msgpack.c: content negotiation ---- */

/* Converts a msgpack body into JSON text (into out). FL_EINVALID_JSON when it is not msgpack
 * that maps to JSON (maps with string keys, no binary or extension types). */
int api_msgpack_to_json(const void *bytes, size_t len, api_buf_t *out);
/* Converts JSON text into msgpack (into out). FL_EINVALID_JSON when json is not JSON. */
int api_json_to_msgpack(const char *json, size_t len, api_buf_t *out);

#endif
