/*
 * h_health.c: /health/live (the process answers), /health/ready (the ledger is open, its writer
 * moves, PostgreSQL and Redis accept connections when configured), /metrics and the OpenAPI
 * document.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#define WRITER_STUCK_NS    (5ull * 1000 * 1000 * 1000) /* queue not moving this long */
#define PROBE_TIMEOUT_MS   200
#define PROBE_HOST_LEN_MAX 255

api_handled_t api_h_live(api_conn_t *conn)
{
    static const char body[] = "{\"status\":\"live\"}";
    api_respond(conn, 200, "application/json", "Cache-Control: no-store\r\n", body,
                sizeof(body) - 1);
    return API_DONE;
}

/* Whether the writer moved: commits advanced, or nothing waits for it. */
static bool writer_moves(api_server_t *server, eng_stats_t *stats)
{
    uint64_t now = fl_mono_ns();
    uint64_t head_seq;
    api_tenants_stats(server, stats, &head_seq);
    if (stats->commits != server->ready_commits || stats->queue_events == 0 ||
        server->ready_at_ns == 0) {
        server->ready_commits = stats->commits;
        server->ready_at_ns = now;
        return true;
    }
    return now - server->ready_at_ns < WRITER_STUCK_NS;
}

/* Can a TCP connection be opened to the host and port of url ("scheme://[user@]host[:port]/")
 * within PROBE_TIMEOUT_MS? Blocking, but bounded: readiness probes are rare. */
static bool reachable(const char *url, const char *default_port)
{
    const char *start = strstr(url, "://");
    start = start != NULL ? start + 3 : url;
    const char *at = strchr(start, '@');
    const char *slash = strchr(start, '/');
    if (at != NULL && (slash == NULL || at < slash))
        start = at + 1;
    size_t len = strcspn(start, "/?");
    char host[PROBE_HOST_LEN_MAX + 1], port[8];
    if (len == 0 || len > PROBE_HOST_LEN_MAX)
        return false;
    memcpy(host, start, len);
    host[len] = '\0';
    char *colon = strrchr(host, ':');
    snprintf(port, sizeof(port), "%s", default_port);
    if (colon != NULL && strchr(host, ']') < colon) {
        snprintf(port, sizeof(port), "%s", colon + 1);
        *colon = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *found = NULL;
    if (getaddrinfo(host, port, &hints, &found) != 0)
        return false;
    bool ok = false;
    int fd = socket(found->ai_family, SOCK_STREAM, 0);
    if (fd >= 0) {
        fcntl(fd, F_SETFL, O_NONBLOCK);
        int rc = connect(fd, found->ai_addr, found->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int error = 0;
            socklen_t error_len = sizeof(error);
            rc = poll(&pfd, 1, PROBE_TIMEOUT_MS) == 1 &&
                         getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len) == 0 && error == 0
                     ? 0
                     : -1;
        }
        ok = rc == 0;
        close(fd);
    }
    freeaddrinfo(found);
    return ok;
}

/* "projectors":[...]} - each projector's state and lag (they never make foutad unready: the
 * ledger serves every read without them). */
static void projectors_json(api_server_t *server, api_buf_t *body)
{
    prj_status_t status[API_PROJECTORS_MAX];
    uint32_t count = api_projections_status(server, status);
    api_buf_str(body, "\"projectors\":[");
    for (uint32_t i = 0; i < count; i++) {
        const prj_status_t *s = &status[i];
        api_buf_printf(body,
                       "%s{\"name\":\"%s\",\"sink\":\"%s\",\"state\":\"%s\",\"paused\":%s,"
                       "\"checkpoint\":%llu,\"lag_events\":%llu,\"lag_ms\":%llu,"
                       "\"dead_letters\":%llu,\"error\":\"%s\"}",
                       i ? "," : "", s->name, s->sink, prj_state_name(s->state),
                       s->paused ? "true" : "false", (unsigned long long)s->checkpoint,
                       (unsigned long long)s->lag_events, (unsigned long long)s->lag_ms,
                       (unsigned long long)s->dead_letters,
                       s->last_error != 0 ? fl_errname(s->last_error) : "");
    }
    api_buf_str(body, "]}");
}

api_handled_t api_h_ready(api_conn_t *conn)
{
    api_server_t *server = conn->server;
    eng_stats_t stats;
    bool writer = writer_moves(server, &stats);
    bool open = !server->draining;
    const char *postgres = "not configured", *redis = "not configured";
    bool ok = open && writer;
    if (server->config.postgres_url[0] != '\0') {
        bool up = reachable(server->config.postgres_url, "5432");
        postgres = up ? "up" : "down";
        ok = ok && up;
    }
    if (server->config.redis_url[0] != '\0') {
        bool up = reachable(server->config.redis_url, "6379");
        redis = up ? "up" : "down";
        ok = ok && up;
    }
    api_buf_t body = {0};
    api_buf_printf(&body,
                   "{\"status\":\"%s\",\"ledger\":\"%s\",\"writer\":\"%s\",\"queue_events\":%u,"
                   "\"fold_error\":\"%s\",\"postgres\":\"%s\",\"redis\":\"%s\",",
                   ok ? "ready" : "not ready", open ? "open" : "closing",
                   writer ? "moving" : "stuck", stats.queue_events,
                   stats.fold_error != 0 ? fl_errname(stats.fold_error) : "", postgres, redis);
    projectors_json(server, &body);
    api_respond(conn, ok ? 200 : 503, "application/json", "Cache-Control: no-store\r\n", body.data,
                body.len);
    api_buf_free(&body);
    return API_DONE;
}

api_handled_t api_h_metrics(api_conn_t *conn)
{
    api_buf_t body = {0};
    api_metrics_render(conn->server, &body);
    if (body.oom)
        api_problem(conn, FL_ENOMEM, "", "", "");
    else
        api_respond(conn, 200, "text/plain; version=0.0.4; charset=utf-8",
                    "Cache-Control: no-store\r\n", body.data, body.len);
    api_buf_free(&body);
    return API_DONE;
}

api_handled_t api_h_openapi(api_conn_t *conn)
{
    api_respond(conn, 200, "application/json", "Cache-Control: public, max-age=60\r\n",
                conn->server->openapi, conn->server->openapi_len);
    return API_DONE;
}
