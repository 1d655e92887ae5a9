/*
 * server.c: the loop, the listener and the ledger. Accepts connections up to the limit,
 * brings the engine's append completions (writer thread) back to the loop thread through an
 * async handle, and stops gracefully on SIGTERM or SIGINT: stop accepting, let in-flight
 * requests and appends finish (up to shutdown_timeout_ms), close subscriptions with 1001, close
 * the ledger.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LISTEN_BACKLOG 511

#define OVERLOADED_BODY                                                                            \
    "{\"type\":\"urn:fouta:problem:BUSY\",\"status\":503,\"code\":\"BUSY\",\"field\":\"\","        \
    "\"detail\":\"too many connections\"}"

static const char overloaded[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
    "Retry-After: 1\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n";

static void maybe_finish(api_server_t *server);

static void free_handle(uv_handle_t *handle)
{
    free(handle);
}

/* Over the connection limit: a fixed 503 written without waiting, then closed. */
static void refuse(api_server_t *server)
{
    uv_tcp_t *tcp = malloc(sizeof(*tcp));
    if (tcp == NULL)
        return;
    uv_tcp_init(&server->loop, tcp);
    if (uv_accept((uv_stream_t *)&server->listener, (uv_stream_t *)tcp) == 0) {
        char response[sizeof(overloaded) + sizeof(OVERLOADED_BODY) + 16];
        int len = snprintf(response, sizeof(response), overloaded, sizeof(OVERLOADED_BODY) - 1);
        memcpy(response + len, OVERLOADED_BODY, sizeof(OVERLOADED_BODY) - 1);
        uv_buf_t buf = uv_buf_init(response, (unsigned)(len + sizeof(OVERLOADED_BODY) - 1));
        uv_try_write((uv_stream_t *)tcp, &buf, 1);
    }
    server->metrics.connections_refused++;
    uv_close((uv_handle_t *)tcp, free_handle);
}

static void on_connection(uv_stream_t *listener, int status)
{
    api_server_t *server = listener->data;
    if (status < 0 || server->draining)
        return;
    if (server->conns_count >= server->config.connections_max) {
        refuse(server);
        return;
    }
    api_conn_t *conn = calloc(1, sizeof(*conn));
    if (conn == NULL) {
        refuse(server);
        return;
    }
    conn->server = server;
    uv_tcp_init(&server->loop, &conn->tcp);
    uv_timer_init(&server->loop, &conn->timer);
    conn->tcp.data = conn;
    conn->timer.data = conn;
    int accepted = uv_accept(listener, (uv_stream_t *)&conn->tcp);
    conn->next = server->conns;
    if (server->conns != NULL)
        server->conns->prev = conn;
    server->conns = conn;
    server->conns_count++;
    server->metrics.connections_accepted++;
    if (accepted != 0) {
        api_conn_close(conn);
        return;
    }
    uv_tcp_nodelay(&conn->tcp, 1);
    api_conn_start(conn);
}

void api_server_conn_closed(api_server_t *server, api_conn_t *conn)
{
    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else
        server->conns = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    assert(server->conns_count > 0);
    server->conns_count--;
    if (server->draining)
        maybe_finish(server);
}

void api_server_append_done(api_server_t *server, api_conn_t *conn)
{
    pthread_mutex_lock(&server->done_lock);
    conn->done_next = server->done_head;
    server->done_head = conn;
    pthread_mutex_unlock(&server->done_lock);
    uv_async_send(&server->done_async);
}

static void on_done(uv_async_t *async)
{
    api_server_t *server = async->data;
    pthread_mutex_lock(&server->done_lock);
    api_conn_t *list = server->done_head;
    server->done_head = NULL;
    pthread_mutex_unlock(&server->done_lock);
    /* The list is in reverse order of completion; reverse it to answer in order. */
    api_conn_t *ordered = NULL;
    while (list != NULL) {
        api_conn_t *next = list->done_next;
        list->done_next = ordered;
        ordered = list;
        list = next;
    }
    /* Answers first, then the subscribers: the fan-out is bounded per turn of the loop but
     * can still take a while, and no POST waits for it. A client that sees its 201 and then
     * subscribes from now starts after the head (ws.c), so it is not told about its own
     * event either way. */
    while (ordered != NULL) {
        api_conn_t *next = ordered->done_next;
        api_events_append_done(ordered);
        ordered = next;
    }
    api_ws_hub_wake(server);
    if (server->draining)
        maybe_finish(server);
}

static void on_heartbeat(uv_timer_t *timer)
{
    api_ws_heartbeat(timer->data);
}

static void on_log_flush(uv_check_t *check)
{
    (void)check;
    api_log_flush();
}

static void close_server_handles(api_server_t *server)
{
    if (server->stopped)
        return;
    server->stopped = true;
    uv_close((uv_handle_t *)&server->done_async, NULL);
    uv_close((uv_handle_t *)&server->log_flush, NULL);
    uv_close((uv_handle_t *)&server->stop_timer, NULL);
    uv_close((uv_handle_t *)&server->heartbeat, NULL);
    /* The signal handlers stay (unreferenced) until the ledger is closed: a repeated SIGTERM
     * must not kill the process while it closes the ledger. */
    uv_unref((uv_handle_t *)&server->sigterm);
    uv_unref((uv_handle_t *)&server->sigint);
}

static void maybe_finish(api_server_t *server)
{
    if (server->conns_count == 0 && server->appends_pending == 0)
        close_server_handles(server);
}

/* Past the shutdown timeout: whatever is still open is cut (appends still finish: a
 * connection waiting for the engine closes when it answers). */
static void on_stop_timeout(uv_timer_t *timer)
{
    api_server_t *server = timer->data;
    api_log(API_LOG_INFO, NULL, "shutdown timeout: closing connections", ",\"open\":%u",
            server->conns_count);
    for (api_conn_t *conn = server->conns, *next; conn != NULL; conn = next) {
        next = conn->next;
        api_conn_close(conn);
    }
}

static void on_signal(uv_signal_t *signal, int signum)
{
    api_server_t *server = signal->data;
    if (server->draining)
        return;
    api_log(API_LOG_INFO, NULL, "stopping", ",\"signal\":%d,\"connections\":%u", signum,
            server->conns_count);
    server->draining = true;
    uv_close((uv_handle_t *)&server->listener, NULL);
    for (api_conn_t *conn = server->conns, *next; conn != NULL; conn = next) {
        next = conn->next;
        api_conn_shutdown(conn);
    }
    uv_timer_start(&server->stop_timer, on_stop_timeout, server->config.shutdown_timeout_ms, 0);
    maybe_finish(server);
}

static int write_port_file(const char *path, int port)
{
    char tmp[1100];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *file = fopen(tmp, "w");
    if (file == NULL)
        return FL_EIO;
    fprintf(file, "%d\n", port);
    if (fclose(file) != 0 || rename(tmp, path) != 0)
        return FL_EIO;
    return 0;
}

static int listen_on(api_server_t *server)
{
    struct sockaddr_storage addr;
    int rc = uv_ip4_addr(server->config.listen_host, server->config.listen_port,
                         (struct sockaddr_in *)&addr);
    if (rc != 0)
        rc = uv_ip6_addr(server->config.listen_host, server->config.listen_port,
                         (struct sockaddr_in6 *)&addr);
    if (rc != 0) {
        api_log(API_LOG_ERROR, NULL, "bad listen address", ",\"host\":\"%s\"",
                server->config.listen_host);
        return FL_EINVAL;
    }
    rc = uv_tcp_bind(&server->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&server->listener, LISTEN_BACKLOG, on_connection);
    if (rc != 0) {
        api_log(API_LOG_ERROR, NULL, "cannot listen", ",\"error\":\"%s\"", uv_strerror(rc));
        return FL_EIO;
    }
    struct sockaddr_storage bound;
    int len = sizeof(bound);
    uv_tcp_getsockname(&server->listener, (struct sockaddr *)&bound, &len);
    int port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                 : ((struct sockaddr_in *)&bound)->sin_port);
    api_log(API_LOG_INFO, NULL, "listening", ",\"port\":%d", port);
    if (server->config.port_file[0] != '\0')
        return write_port_file(server->config.port_file, port);
    return 0;
}

static int open_ledger(api_server_t *server)
{
    char dir[1100];
    mkdir(server->config.data_dir, 0755);
    snprintf(dir, sizeof(dir), "%s/ledger", server->config.data_dir);
    snprintf(server->blob_dir, sizeof(server->blob_dir), "%s/blobs", server->config.data_dir);
    if (mkdir(server->blob_dir, 0755) != 0 && errno != EEXIST)
        return fl_err_from_errno(errno);
    eng_config_t config = {.dir = dir, .rules = ENG_RULES_PLANT};
    int rc = eng_open(&server->ledger, &config);
    if (rc != 0)
        api_log(API_LOG_ERROR, NULL, "cannot open the ledger", ",\"error\":\"%s\"", fl_errname(rc));
    return rc;
}

static void init_handles(api_server_t *server)
{
    uv_tcp_init(&server->loop, &server->listener);
    server->listener.data = server;
    uv_async_init(&server->loop, &server->done_async, on_done);
    server->done_async.data = server;
    uv_timer_init(&server->loop, &server->stop_timer);
    server->stop_timer.data = server;
    uv_timer_init(&server->loop, &server->heartbeat);
    server->heartbeat.data = server;
    uv_timer_start(&server->heartbeat, on_heartbeat, server->config.ws_heartbeat_ms,
                   server->config.ws_heartbeat_ms);
    uv_check_init(&server->loop, &server->log_flush);
    uv_check_start(&server->log_flush, on_log_flush);
    uv_unref((uv_handle_t *)&server->log_flush);
    api_log_buffer(true);
    uv_signal_init(&server->loop, &server->sigterm);
    server->sigterm.data = server;
    uv_signal_start(&server->sigterm, on_signal, SIGTERM);
    uv_signal_init(&server->loop, &server->sigint);
    server->sigint.data = server;
    uv_signal_start(&server->sigint, on_signal, SIGINT);
}

int api_server_run(const api_config_t *config)
{
    api_server_t *server = calloc(1, sizeof(*server));
    if (server == NULL)
        return FL_ENOMEM;
    server->config = *config;
    api_log_init(config->log_level);
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&server->done_lock, NULL);
    int rc = uv_loop_init(&server->loop);
    if (rc != 0)
        goto fail_loop;
    server->openapi = api_openapi_build(&server->openapi_len);
    if (server->openapi == NULL) {
        rc = FL_ENOMEM;
        goto fail_openapi;
    }
    rc = open_ledger(server);
    if (rc != 0)
        goto fail_ledger;
    rc = api_projections_start(server);
    if (rc != 0)
        goto fail_projections;
    rc = api_ws_hub_init(server);
    if (rc != 0)
        goto fail_hub;
    init_handles(server);
    rc = listen_on(server);
    if (rc != 0) {
        on_signal(&server->sigterm, 0); /* closes everything it opened */
    }
    uv_run(&server->loop, UV_RUN_DEFAULT);
    api_log_buffer(false);
    api_ws_hub_free(server);
fail_hub:
    api_projections_stop(server); /* before the ledger closes */
fail_projections:
    eng_close(server->ledger);
    if (server->stopped) {
        /* Stopped: a late signal is ignored rather than killing the exit (closing a libuv
         * signal handle restores the default action, hence the order). */
        uv_close((uv_handle_t *)&server->sigterm, NULL);
        uv_close((uv_handle_t *)&server->sigint, NULL);
        uv_run(&server->loop, UV_RUN_NOWAIT);
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
    }
    api_log(API_LOG_INFO, NULL, "stopped", ",\"status\":\"%s\"", rc == 0 ? "ok" : fl_errname(rc));
fail_ledger:
    free(server->openapi);
fail_openapi:
    uv_run(&server->loop, UV_RUN_NOWAIT);
    uv_loop_close(&server->loop);
fail_loop:
    pthread_mutex_destroy(&server->done_lock);
    free(server);
    return rc;
}
