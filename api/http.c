/*
 * http.c: one HTTP/1.1 connection. llhttp parses; this file enforces the limits (header bytes,
 * body bytes, header, body and idle timeouts), answers `Expect: 100-continue`, and keeps
 * responses in request order: the parser pauses at the end of each request and reading stops
 * until its handler has answered, so pipelined requests wait in the connection's input buffer
 * and a handler that waits for the writer (an append) holds only its own connection.
 *
 * Every read lands in one buffer of the server (the loop is single-threaded); only the bytes
 * of pipelined requests not yet parsed are copied into the connection.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define READ_BUFFER_BYTES     (64 * 1024)
#define OUT_BYTES_HIGH        (1024 * 1024) /* queued responses before pipelined input waits */
#define REQUEST_ID_POOL_BYTES 4096          /* random bytes fetched at once for request ids */

static char read_buffer[READ_BUFFER_BYTES];

static void process_input(api_conn_t *conn);
static void flush(api_conn_t *conn);

static api_conn_t *conn_of(llhttp_t *parser)
{
    return (api_conn_t *)((char *)parser - offsetof(api_conn_t, parser));
}

static void timer_start(api_conn_t *conn, uint32_t timeout_ms);

static bool count_header_bytes(api_conn_t *conn, size_t len)
{
    conn->header_bytes += len;
    if (conn->header_bytes <= conn->server->config.header_bytes_max)
        return true;
    conn->req.headers_too_large = true;
    return false;
}

static int on_message_begin(llhttp_t *parser)
{
    api_conn_t *conn = conn_of(parser);
    api_request_t *req = &conn->req;
    conn->state = API_CONN_HEADERS;
    conn->header_bytes = 0;
    conn->header_name_len = 0;
    conn->header_value_len = 0;
    req->url_len = 0;
    req->url[0] = '\0';
    req->content_type[0] = req->accept[0] = req->if_none_match[0] = '\0';
    req->expect[0] = req->connection[0] = req->upgrade[0] = '\0';
    req->ws_key[0] = req->ws_version[0] = req->request_id[0] = '\0';
    req->authorization[0] = req->origin[0] = req->acr_method[0] = '\0';
    req->device_id[0] = req->host[0] = req->extra_headers[0] = '\0';
    req->query_count = 0;
    req->params_count = 0;
    req->route = -1;
    req->status = 0;
    req->accept_media = API_MEDIA_JSON;
    req->headers_too_large = false;
    api_buf_reset(&req->body);
    req->start_ns = fl_mono_ns();
    timer_start(conn, conn->server->config.header_timeout_ms);
    return 0;
}

static int on_url(llhttp_t *parser, const char *at, size_t len)
{
    api_conn_t *conn = conn_of(parser);
    if (!count_header_bytes(conn, len))
        return -1;
    api_request_t *req = &conn->req;
    if (req->url_len + len > API_URL_LEN_MAX) {
        req->headers_too_large = true;
        return -1;
    }
    memcpy(req->url + req->url_len, at, len);
    req->url_len += len;
    req->url[req->url_len] = '\0';
    return 0;
}

static int on_header_field(llhttp_t *parser, const char *at, size_t len)
{
    api_conn_t *conn = conn_of(parser);
    if (!count_header_bytes(conn, len))
        return -1;
    size_t room = API_HEADER_NAME_LEN_MAX - conn->header_name_len;
    size_t take = len < room ? len : room;
    memcpy(conn->header_name + conn->header_name_len, at, take);
    conn->header_name_len += take;
    if (take < len)
        conn->header_name_len = API_HEADER_NAME_LEN_MAX; /* too long: matches nothing */
    return 0;
}

static int on_header_value(llhttp_t *parser, const char *at, size_t len)
{
    api_conn_t *conn = conn_of(parser);
    if (!count_header_bytes(conn, len))
        return -1;
    size_t room = API_HEADER_VALUE_LEN_MAX - 1 - conn->header_value_len;
    size_t take = len < room ? len : room;
    memcpy(conn->header_value + conn->header_value_len, at, take);
    conn->header_value_len += take;
    return 0;
}

/* The headers we keep, and where they go. */
static char *kept_header(api_request_t *req, const char *name, size_t len, size_t *size)
{
#define KEEP(text, field)                                                                          \
    if (len == sizeof(text) - 1 && strncasecmp(name, text, len) == 0) {                            \
        *size = sizeof(req->field);                                                                \
        return req->field;                                                                         \
    }
    KEEP("content-type", content_type)
    KEEP("accept", accept)
    KEEP("if-none-match", if_none_match)
    KEEP("expect", expect)
    KEEP("connection", connection)
    KEEP("upgrade", upgrade)
    KEEP("sec-websocket-key", ws_key)
    KEEP("sec-websocket-version", ws_version)
    KEEP("x-request-id", request_id)
    KEEP("authorization", authorization)
    KEEP("origin", origin)
    KEEP("access-control-request-method", acr_method)
    KEEP("x-device-id", device_id)
    KEEP("host", host)
#undef KEEP
    return NULL;
}

static int on_header_value_complete(llhttp_t *parser)
{
    api_conn_t *conn = conn_of(parser);
    size_t size;
    char *field = kept_header(&conn->req, conn->header_name, conn->header_name_len, &size);
    if (field != NULL) {
        size_t len = conn->header_value_len < size - 1 ? conn->header_value_len : size - 1;
        memcpy(field, conn->header_value, len);
        field[len] = '\0';
    }
    conn->header_name_len = 0;
    conn->header_value_len = 0;
    return 0;
}

/* A UUIDv7 as fl_uuid7 makes it, with its random bits taken from a pool filled by one
 * getrandom(2) for hundreds of ids rather than one system call per request. */
static void request_uuid7(uint8_t id[16])
{
    static uint8_t pool[REQUEST_ID_POOL_BYTES];
    static size_t pool_pos = sizeof(pool);
    if (pool_pos + 10 > sizeof(pool)) {
        if (getrandom(pool, sizeof(pool), 0) != (ssize_t)sizeof(pool)) {
            if (fl_uuid7(id) != 0)
                memset(id, 0, 16);
            return;
        }
        pool_pos = 0;
    }
    uint64_t ms = (uint64_t)(fl_now_us() / 1000);
    memcpy(id + 6, pool + pool_pos, 10);
    pool_pos += 10;
    for (int i = 0; i < 6; i++)
        id[i] = (uint8_t)(ms >> (40 - 8 * i));
    id[6] = (uint8_t)(0x70 | (id[6] & 0x0f));
    id[8] = (uint8_t)(0x80 | (id[8] & 0x3f));
}

/* A request id from the client is kept when it is short and plain; otherwise one is made. */
static void request_id(api_request_t *req)
{
    bool plain = req->request_id[0] != '\0';
    for (const char *p = req->request_id; *p != '\0' && plain; p++)
        plain = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                *p == '-' || *p == '_' || *p == '.';
    if (plain)
        return;
    uint8_t id[16];
    request_uuid7(id);
    fl_uuid_format(id, req->request_id);
}

static int on_headers_complete(llhttp_t *parser)
{
    api_conn_t *conn = conn_of(parser);
    api_request_t *req = &conn->req;
    conn->state = API_CONN_BODY;
    req->method = llhttp_get_method(parser);
    request_id(req);
    req->accept_media = api_request_negotiate(req);
    conn->early_error = 0;
    if (api_request_parse_url(req) != 0) {
        conn->early_error = FL_EHTTP_MALFORMED;
        return -1;
    }
    int route_rc = api_route_match(req);
    uint32_t limit = conn->server->config.body_bytes_max;
    if (route_rc == 0 && (api_routes[req->route].flags & API_ROUTE_BODY_BLOB))
        limit = conn->server->config.blob_bytes_max;
    conn->body_limit = limit;
    if ((parser->flags & F_CONTENT_LENGTH) && parser->content_length > limit) {
        conn->early_error = FL_ETOOBIG;
        return -1;
    }
    if (strcasecmp(req->expect, "100-continue") == 0) {
        static const char proceed[] = "HTTP/1.1 100 Continue\r\n\r\n";
        api_conn_write(conn, proceed, sizeof(proceed) - 1);
    }
    timer_start(conn, conn->server->config.body_timeout_ms);
    return 0;
}

static int on_body(llhttp_t *parser, const char *at, size_t len)
{
    api_conn_t *conn = conn_of(parser);
    if (conn->req.body.len + len > conn->body_limit) {
        conn->early_error = FL_ETOOBIG;
        return -1;
    }
    api_buf_add(&conn->req.body, at, len);
    if (conn->req.body.oom) {
        conn->early_error = FL_ENOMEM;
        return -1;
    }
    return 0;
}

static int on_message_complete(llhttp_t *parser)
{
    api_conn_t *conn = conn_of(parser);
    conn->state = API_CONN_HANDLING;
    /* A request that asks to switch protocols ends HTTP on its connection: it becomes a
     * WebSocket (ws.c reads what follows), or closes after the answer. llhttp stays paused
     * after an upgrade request: parsing on would consume nothing, forever (fuzz_http). */
    conn->keep_alive =
        llhttp_should_keep_alive(parser) && !conn->server->draining && parser->upgrade == 0;
    uv_timer_stop(&conn->timer);
    return HPE_PAUSED; /* one request at a time: the rest waits for this one's answer */
}

static const llhttp_settings_t settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- responses ---- */

static const char *reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 207:
        return "Multi-Status";
    case 304:
        return "Not Modified";
    case 308:
        return "Permanent Redirect";
    case 401:
        return "Unauthorized";
    case 410:
        return "Gone";
    case 429:
        return "Too Many Requests";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 426:
        return "Upgrade Required";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 507:
        return "Insufficient Storage";
    default:
        return "Unknown";
    }
}

void api_request_done(api_conn_t *conn, int status)
{
    api_request_t *req = &conn->req;
    uint64_t duration_us = (fl_mono_ns() - req->start_ns) / 1000;
    req->status = status;
    api_metrics_request(&conn->server->metrics, req->route, status, duration_us);
    api_log_request(req->request_id, llhttp_method_name((llhttp_method_t)req->method), req->path,
                    strnlen(req->path, 256), api_route_label(req->route), status, duration_us);
}

/* Headers of every answer: a guard's (Retry-After, WWW-Authenticate), the usual hardening, HSTS
 * over TLS, and CORS for an allowed origin. /docs runs Swagger UI's scripts and styles. */
static void security_headers(api_conn_t *conn, api_buf_t *out)
{
    const api_request_t *req = &conn->req;
    api_buf_str(out, req->extra_headers);
    api_buf_str(out, "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
                     "Referrer-Policy: no-referrer\r\n");
    bool docs = strncmp(req->path, "/docs", 5) == 0;
    /* The web app (web.c): its own scripts, the API and its WebSocket, the camera's frames. */
    bool app = strncmp(req->path, "/app", 4) == 0;
    api_buf_str(out, docs  ? "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "
                             "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'\r\n"
                     : app ? "Content-Security-Policy: default-src 'self'; img-src 'self' data: "
                             "blob:; media-src 'self' blob:; frame-ancestors 'none'\r\n"
                           : "Content-Security-Policy: default-src 'none'; frame-ancestors "
                             "'none'\r\n");
    if (conn->tls != NULL) {
        api_buf_str(out, "Strict-Transport-Security: max-age=");
        api_buf_u64(out, conn->server->config.hsts_max_age_s);
        api_buf_str(out, "; includeSubDomains\r\n");
    }
    if (req->origin[0] != '\0' && api_cors_origin_allowed(conn->server, req->origin)) {
        api_buf_str(out, "Access-Control-Allow-Origin: ");
        api_buf_str(out, req->origin);
        api_buf_str(out, "\r\nAccess-Control-Expose-Headers: X-Request-Id, ETag, Location, "
                         "Retry-After\r\nVary: Origin\r\n");
    }
}

void api_respond(api_conn_t *conn, int status, const char *content_type, const char *headers,
                 const void *body, size_t len)
{
    assert(conn->state == API_CONN_HANDLING || conn->state == API_CONN_HEADERS ||
           conn->state == API_CONN_BODY || conn->state == API_CONN_IDLE);
    bool close = !conn->keep_alive || conn->server->draining || status == 408 || status == 431 ||
                 (conn->state != API_CONN_HANDLING);
    api_buf_t *out = &conn->out;
    /* Built by hand rather than with printf: this runs once per response. */
    api_buf_reserve(out, 600 + len);
    api_buf_str(out, "HTTP/1.1 ");
    api_buf_u64(out, (uint64_t)status);
    api_buf_str(out, " ");
    api_buf_str(out, reason(status));
    api_buf_str(out, "\r\nServer: foutad\r\nX-Request-Id: ");
    api_buf_str(out, conn->req.request_id);
    api_buf_str(out, "\r\n");
    if (status != 304 && status != 204) {
        api_buf_str(out, "Content-Type: ");
        api_buf_str(out, content_type);
        api_buf_str(out, "\r\nContent-Length: ");
        api_buf_u64(out, len);
        api_buf_str(out, "\r\n");
    }
    api_buf_str(out, headers);
    security_headers(conn, out);
    api_buf_str(out, close ? "Connection: close\r\n\r\n" : "\r\n");
    if (status != 304 && status != 204)
        api_buf_add(out, body, len);
    if (out->oom) {
        api_conn_close(conn);
        return;
    }
    api_request_done(conn, status);
    flush(conn);
    if (close) {
        conn->close_after_write = true;
        conn->state = API_CONN_CLOSING;
        return;
    }
    conn->state = API_CONN_IDLE;
    llhttp_resume(&conn->parser);
    timer_start(conn, conn->server->config.idle_timeout_ms);
    if (!conn->processing)
        process_input(conn);
}

void api_respond_json(api_conn_t *conn, int status, const char *headers, const api_buf_t *json)
{
    if (json->oom) {
        api_problem(conn, FL_ENOMEM, "", "", "");
        return;
    }
    if (conn->req.accept_media == API_MEDIA_MSGPACK) {
        api_buf_t packed = {0};
        int rc = api_json_to_msgpack(json->data, json->len, &packed);
        if (rc == 0)
            api_respond(conn, status, "application/msgpack", headers, packed.data, packed.len);
        else
            api_respond(conn, 500, "application/json", "", "{}", 2);
        api_buf_free(&packed);
        return;
    }
    const char *type = status >= 400 ? "application/problem+json" : "application/json";
    api_respond(conn, status, type, headers, json->data, json->len);
}

/* ---- writing ---- */

static void on_write(uv_write_t *write_req, int status)
{
    api_conn_t *conn = write_req->data;
    conn->writing = false;
    api_buf_reset(&conn->flight);
    if (status < 0 || conn->closed_handles) {
        api_conn_close(conn);
        return;
    }
    if (conn->out.len > 0) {
        flush(conn);
        return;
    }
    if (conn->state == API_CONN_WEBSOCKET) {
        api_ws_writable(conn); /* ws.c writes frames of its own: it decides when to close */
        return;
    }
    if (conn->close_after_write) {
        api_conn_close(conn);
        return;
    }
    if (conn->state == API_CONN_IDLE)
        process_input(conn); /* pipelined input may have waited for the output to drain */
}

static void flush(api_conn_t *conn)
{
    if (conn->writing || conn->out.len == 0 || conn->closed_handles)
        return;
    api_buf_t swap = conn->flight;
    conn->flight = conn->out;
    conn->out = swap;
    api_buf_reset(&conn->out);
    uv_buf_t buf = uv_buf_init(conn->flight.data, (unsigned)conn->flight.len);
    conn->write_req.data = conn;
    conn->writing = true;
    int rc = api_conn_uv_write(conn, &conn->write_req, &buf, 1, on_write);
    if (rc != 0) {
        conn->writing = false;
        api_conn_close(conn);
    }
}

void api_conn_write(api_conn_t *conn, const void *bytes, size_t len)
{
    if (conn->closed_handles)
        return;
    api_buf_add(&conn->out, bytes, len);
    if (conn->out.oom) {
        api_conn_close(conn);
        return;
    }
    flush(conn);
}

size_t api_conn_queued(const api_conn_t *conn)
{
    return conn->out.len + conn->flight.len;
}

/* ---- reading ---- */

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)handle;
    (void)suggested;
    *buf = uv_buf_init(read_buffer, sizeof(read_buffer));
}

/* Answers an error found while parsing and closes after the answer. */
static void parse_failed(api_conn_t *conn, llhttp_errno_t err)
{
    int code = conn->early_error;
    const char *message = NULL;
    if (conn->req.headers_too_large)
        code = FL_EHTTP_HEADERS_TOO_LARGE;
    else if (code == 0) {
        code = FL_EHTTP_MALFORMED;
        message = llhttp_get_error_reason(&conn->parser);
    }
    api_log(API_LOG_DEBUG, conn->req.request_id, "bad request", ",\"llhttp\":\"%s\"",
            llhttp_errno_name(err));
    if (conn->req.request_id[0] == '\0')
        request_id(&conn->req);
    conn->keep_alive = false;
    api_problem(conn, code, "", message != NULL ? message : "", "");
}

/* Parses bytes; returns how many were consumed. */
static size_t execute(api_conn_t *conn, const char *data, size_t len)
{
    llhttp_errno_t err = llhttp_execute(&conn->parser, data, len);
    if (err == HPE_OK)
        return len;
    if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
        const char *pos = llhttp_get_error_pos(&conn->parser);
        return pos != NULL ? (size_t)(pos - data) : len;
    }
    parse_failed(conn, err);
    return len;
}

/* Runs requests from the input buffer while the connection can take one. */
static void process_input(api_conn_t *conn)
{
    conn->processing = true;
    while (conn->state == API_CONN_IDLE && conn->input_pos < conn->input.len &&
           api_conn_queued(conn) < OUT_BYTES_HIGH && !conn->closed_handles) {
        size_t used =
            execute(conn, conn->input.data + conn->input_pos, conn->input.len - conn->input_pos);
        conn->input_pos += used;
        if (used == 0 && conn->state == API_CONN_IDLE) {
            assert(!"the parser took nothing"); /* never loop without progress */
            api_conn_close(conn);
            break;
        }
        if (conn->state == API_CONN_HANDLING)
            api_route_dispatch(conn);
        else if (conn->state == API_CONN_HEADERS || conn->state == API_CONN_BODY)
            assert(conn->input_pos == conn->input.len); /* the rest of it is still to come */
    }
    conn->processing = false;
    if (conn->input_pos == conn->input.len) {
        api_buf_reset(&conn->input);
        conn->input_pos = 0;
    }
    bool can_read = conn->state == API_CONN_IDLE || conn->state == API_CONN_HEADERS ||
                    conn->state == API_CONN_BODY;
    if (can_read && conn->input.len == 0 && !conn->closed_handles && !conn->reading) {
        conn->reading = true;
        uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, conn->on_read);
    }
}

int api_conn_uv_write(api_conn_t *conn, uv_write_t *req, const uv_buf_t bufs[], unsigned nbufs,
                      uv_write_cb cb)
{
    if (conn->tls != NULL)
        return api_tls_write(conn, req, bufs, nbufs, cb);
    return uv_write(req, (uv_stream_t *)&conn->tcp, bufs, nbufs, cb);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    api_conn_t *conn = stream->data;
    if (nread > 0) {
        if (conn->tls != NULL)
            api_tls_read(conn, buf->base, (size_t)nread);
        else
            api_conn_plain_read(conn, buf->base, (size_t)nread);
        return;
    }
    if (nread < 0) {
        if (conn->state == API_CONN_WEBSOCKET) {
            api_conn_close(conn);
            return;
        }
        /* A peer that half-closes after a complete request still gets its answer. */
        if (conn->state == API_CONN_HANDLING && nread == UV_EOF) {
            uv_read_stop(stream);
            conn->reading = false;
            conn->keep_alive = false;
            return;
        }
        api_conn_close(conn);
        return;
    }
}

void api_conn_plain_read(api_conn_t *conn, const char *bytes, size_t nread)
{
    uv_stream_t *stream = (uv_stream_t *)&conn->tcp;
    if (conn->closed_handles || nread == 0)
        return;
    if (conn->state == API_CONN_WEBSOCKET) {
        api_ws_read(conn, bytes, nread);
        return;
    }
    if ((conn->state != API_CONN_IDLE && conn->state != API_CONN_HEADERS &&
         conn->state != API_CONN_BODY) ||
        conn->input.len > 0) {
        /* A request is handled (TLS can hand over more plaintext than one request), or
         * pipelined input waits: keep the bytes behind it. */
        api_buf_add(&conn->input, bytes, nread);
        if (conn->state == API_CONN_IDLE && !conn->processing)
            process_input(conn);
        return;
    }
    conn->processing = true;
    size_t used = execute(conn, bytes, nread);
    if (conn->state == API_CONN_HANDLING || used < nread) {
        uv_read_stop(stream);
        conn->reading = false;
        api_buf_add(&conn->input, bytes + used, nread - used);
        conn->input_pos = 0;
    }
    if (conn->state == API_CONN_HANDLING)
        api_route_dispatch(conn);
    conn->processing = false;
    if (conn->state == API_CONN_IDLE)
        process_input(conn);
}

/* ---- timers and lifetime ---- */

static void on_timer(uv_timer_t *timer)
{
    api_conn_t *conn = timer->data;
    switch (conn->state) {
    case API_CONN_HEADERS:
    case API_CONN_BODY:
        conn->keep_alive = false;
        api_problem(conn, FL_EHTTP_TIMEOUT, "",
                    conn->state == API_CONN_HEADERS ? "headers did not arrive in time"
                                                    : "the body did not arrive in time",
                    "");
        break;
    case API_CONN_IDLE:
        api_conn_close(conn);
        break;
    default:
        break;
    }
}

static void timer_start(api_conn_t *conn, uint32_t timeout_ms)
{
    if (!conn->closed_handles)
        uv_timer_start(&conn->timer, on_timer, timeout_ms, 0);
}

void api_conn_start(api_conn_t *conn)
{
    llhttp_init(&conn->parser, HTTP_REQUEST, &settings);
    conn->state = API_CONN_IDLE;
    conn->tcp.data = conn;
    conn->timer.data = conn;
    conn->on_read = on_read;
    conn->alloc = on_alloc;
    conn->req.route = -1;
    timer_start(conn, conn->server->config.idle_timeout_ms);
    conn->reading = true;
    uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read);
}

static void on_close(uv_handle_t *handle)
{
    api_conn_t *conn = handle->data;
    if (--conn->handles_open > 0)
        return;
    api_server_t *server = conn->server;
    api_events_free(conn);
    api_ws_free(conn);
    api_buf_free(&conn->req.body);
    api_buf_free(&conn->input);
    api_buf_free(&conn->out);
    api_buf_free(&conn->flight);
    api_tls_conn_free(conn);
    api_server_conn_closed(server, conn);
    free(conn);
}

void api_conn_close(api_conn_t *conn)
{
    if (conn->closed_handles)
        return;
    conn->state = API_CONN_CLOSING;
    if (conn->pending_append) {
        conn->close_requested = true; /* the engine still points into this connection */
        return;
    }
    conn->closed_handles = true;
    conn->handles_open = 2;
    uv_close((uv_handle_t *)&conn->timer, on_close);
    uv_close((uv_handle_t *)&conn->tcp, on_close);
}

void api_conn_shutdown(api_conn_t *conn)
{
    if (conn->closed_handles)
        return;
    if (conn->state == API_CONN_WEBSOCKET) {
        api_ws_shutdown(conn);
        return;
    }
    if (conn->state == API_CONN_IDLE && !conn->writing && conn->out.len == 0) {
        api_conn_close(conn);
        return;
    }
    /* Busy: its response goes out with Connection: close (draining). */
    conn->keep_alive = false;
}
