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
#include <openssl/crypto.h>
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

void api_server_maybe_finish(api_server_t *server)
{
    maybe_finish(server);
}

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

/* The client's address, IPv4 mapped into IPv6, for the rate limits. */
static void peer_address(api_conn_t *conn)
{
    struct sockaddr_storage peer;
    int len = sizeof(peer);
    memset(conn->peer_ip, 0, sizeof(conn->peer_ip));
    if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&peer, &len) != 0)
        return;
    if (peer.ss_family == AF_INET6) {
        memcpy(conn->peer_ip, &((struct sockaddr_in6 *)&peer)->sin6_addr, 16);
    } else if (peer.ss_family == AF_INET) {
        conn->peer_ip[10] = conn->peer_ip[11] = 0xff;
        memcpy(conn->peer_ip + 12, &((struct sockaddr_in *)&peer)->sin_addr, 4);
    }
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
    peer_address(conn);
    if (listener == (uv_stream_t *)&server->tls_listener) {
        if (api_tls_conn_start(conn) != 0) {
            api_conn_close(conn);
            return;
        }
    } else if (server->tls != NULL) {
        conn->redirect_only = true; /* TLS is on: plain HTTP only redirects */
    }
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
    api_log_flush_due(fl_mono_ns() / 1000000);
}

static void on_log_timer(uv_timer_t *timer)
{
    (void)timer;
    api_log_flush_due(fl_mono_ns() / 1000000);
}

static void close_server_handles(api_server_t *server)
{
    if (server->stopped)
        return;
    server->stopped = true;
    uv_close((uv_handle_t *)&server->done_async, NULL);
    uv_close((uv_handle_t *)&server->log_flush, NULL);
    uv_close((uv_handle_t *)&server->log_timer, NULL);
    uv_close((uv_handle_t *)&server->stop_timer, NULL);
    uv_close((uv_handle_t *)&server->heartbeat, NULL);
    uv_close((uv_handle_t *)&server->snapshot_timer, NULL);
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
    api_audit_snapshots_stop(server);
    uv_close((uv_handle_t *)&server->listener, NULL);
    uv_close((uv_handle_t *)&server->tls_listener, NULL);
    uv_close((uv_handle_t *)&server->sighup, NULL);
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

static int listen_on(api_server_t *server, uv_tcp_t *listener, const char *host, int port_wanted,
                     const char *port_file)
{
    struct sockaddr_storage addr;
    int rc = uv_ip4_addr(host, port_wanted, (struct sockaddr_in *)&addr);
    if (rc != 0)
        rc = uv_ip6_addr(host, port_wanted, (struct sockaddr_in6 *)&addr);
    if (rc != 0) {
        api_log(API_LOG_ERROR, NULL, "bad listen address", ",\"host\":\"%s\"", host);
        return FL_EINVAL;
    }
    rc = uv_tcp_bind(listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)listener, LISTEN_BACKLOG, on_connection);
    if (rc != 0) {
        api_log(API_LOG_ERROR, NULL, "cannot listen", ",\"error\":\"%s\"", uv_strerror(rc));
        return FL_EIO;
    }
    struct sockaddr_storage bound;
    int len = sizeof(bound);
    uv_tcp_getsockname(listener, (struct sockaddr *)&bound, &len);
    int port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                 : ((struct sockaddr_in *)&bound)->sin_port);
    bool tls = listener == &server->tls_listener;
    if (tls)
        server->tls_port = port;
    api_log(API_LOG_INFO, NULL, "listening", ",\"port\":%d,\"tls\":%s", port,
            tls ? "true" : "false");
    if (port_file[0] != '\0')
        return write_port_file(port_file, port);
    return 0;
}

/* HTTPS first (the plain listener's redirects name its port), then plain HTTP. */
static int listen_all(api_server_t *server)
{
    const api_config_t *config = &server->config;
    int rc = 0;
    if (server->tls != NULL)
        rc = listen_on(server, &server->tls_listener, config->tls_listen_host,
                       config->tls_listen_port, config->tls_port_file);
    if (rc == 0)
        rc = listen_on(server, &server->listener, config->listen_host, config->listen_port,
                       config->port_file);
    return rc;
}

static void auth_config_of(const api_config_t *config, api_auth_config_t *out)
{
    *out = (api_auth_config_t){.argon2_memory_kib = config->argon2_memory_kib,
                               .argon2_passes = config->argon2_passes,
                               .access_ttl_s = config->access_ttl_s,
                               .refresh_ttl_s = config->refresh_ttl_s};
}

/* The auth store, the token keys and the master key of personal data (docs/security.md). */
static int open_auth(const api_config_t *config, api_auth_t **auth, api_jwt_keys_t *keys)
{
    char dir[1100], key_file[1200];
    if (mkdir(config->data_dir, 0750) != 0 && errno != EEXIST)
        return fl_err_from_errno(errno);
    snprintf(dir, sizeof(dir), "%s/auth", config->data_dir);
    api_auth_config_t auth_config;
    auth_config_of(config, &auth_config);
    int rc = api_auth_open(auth, dir, &auth_config);
    if (rc != 0) {
        api_log(API_LOG_ERROR, NULL, "cannot open the auth store",
                ",\"dir\":\"%s\",\"error\":\"%s\",\"message\":\"%s\"", dir, fl_errname(rc),
                fl_strerror(rc));
        return rc;
    }
    bool default_keys = config->jwt_key_file[0] == '\0';
    snprintf(key_file, sizeof(key_file), "%s/jwt.keys", dir);
    rc = api_jwt_keys_load(keys, default_keys ? key_file : config->jwt_key_file, default_keys);
    if (rc != 0)
        api_log(API_LOG_ERROR, NULL, "cannot read the token keys", ",\"error\":\"%s\"",
                fl_errname(rc));
    if (rc == 0) {
        bool default_master = config->master_key_file[0] == '\0';
        snprintf(key_file, sizeof(key_file), "%s/master.key", dir);
        rc = api_pii_init(*auth, default_master ? key_file : config->master_key_file,
                          default_master);
        if (rc != 0)
            api_log(API_LOG_ERROR, NULL, "cannot read the master key", ",\"error\":\"%s\"",
                    fl_errname(rc));
    }
    if (rc != 0) {
        api_auth_close(*auth);
        *auth = NULL;
    }
    return rc;
}

static int open_ledgers(api_server_t *server)
{
    int rc = open_auth(&server->config, &server->auth, &server->jwt_keys);
    if (rc == 0)
        rc = api_tenants_open_all(server);
    if (rc != 0) {
        api_tenants_close_all(server);
        api_auth_close(server->auth);
        server->auth = NULL;
    }
    return rc;
}

/* Reads a password: FOUTA_USER_PASSWORD, else the first line of standard input. */
static int read_password(char *out, size_t size)
{
    const char *env = getenv("FOUTA_USER_PASSWORD");
    if (env != NULL) {
        snprintf(out, size, "%s", env);
        return strlen(env) < size ? 0 : FL_EINVAL;
    }
    if (fgets(out, (int)size, stdin) == NULL)
        return FL_EINVAL;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static int add_user(const api_config_t *config, api_auth_t *auth, const char *spec,
                    const char *password)
{
    char tenant[API_TENANT_LEN_MAX + 2], user[API_USER_LEN_MAX + 2], role[32];
    if (sscanf(spec, "%33[^:]:%65[^:]:%31s", tenant, user, role) != 3 ||
        !api_tenant_name_valid(tenant) || strlen(user) > API_USER_LEN_MAX) {
        fprintf(stderr, "foutad: --add-user TENANT:USER:ROLE (tenant [a-z0-9-], 1-32): %s\n", spec);
        return FL_EINVAL;
    }
    ev_role_t parsed = ev_role_parse(role, strlen(role));
    int rc = parsed == EV_ROLE_COUNT ? FL_EINVAL : api_tenant_create_dirs(config->data_dir, tenant);
    if (rc == 0)
        rc = api_auth_user_set(auth, tenant, user, parsed, password);
    if (rc != 0)
        fprintf(stderr, "foutad: cannot add %s: %s (a catalog role; a password of 8-256 bytes)\n",
                spec, fl_strerror(rc));
    else
        printf("foutad: user %s of tenant %s can sign in as %s\n", user, tenant, role);
    return rc;
}

int api_add_users(const api_config_t *config)
{
    api_log_init(config->log_level);
    api_auth_t *auth;
    api_jwt_keys_t keys;
    int rc = open_auth(config, &auth, &keys);
    if (rc != 0)
        return rc;
    char password[API_PASSWORD_LEN_MAX + 2];
    rc = read_password(password, sizeof(password));
    for (uint32_t i = 0; rc == 0 && i < config->add_users_count; i++)
        rc = add_user(config, auth, config->add_users[i], password);
    OPENSSL_cleanse(password, sizeof(password));
    OPENSSL_cleanse(&keys, sizeof(keys));
    api_auth_close(auth);
    return rc;
}

static void on_sighup(uv_signal_t *signal, int signum)
{
    (void)signum;
    api_tls_reload(signal->data);
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
    uv_timer_init(&server->loop, &server->log_timer);
    uv_timer_start(&server->log_timer, on_log_timer, API_LOG_FLUSH_MS, API_LOG_FLUSH_MS);
    uv_unref((uv_handle_t *)&server->log_timer);
    api_log_buffer(true);
    uv_signal_init(&server->loop, &server->sigterm);
    server->sigterm.data = server;
    uv_signal_start(&server->sigterm, on_signal, SIGTERM);
    uv_signal_init(&server->loop, &server->sigint);
    server->sigint.data = server;
    uv_signal_start(&server->sigint, on_signal, SIGINT);
    uv_signal_init(&server->loop, &server->sighup);
    server->sighup.data = server;
    uv_signal_start(&server->sighup, on_sighup, SIGHUP);
    uv_unref((uv_handle_t *)&server->sighup);
    uv_tcp_init(&server->loop, &server->tls_listener);
    server->tls_listener.data = server;
    api_audit_snapshots_start(server);
}

int api_server_run(const api_config_t *config)
{
    api_server_t *server = calloc(1, sizeof(*server));
    if (server == NULL)
        return FL_ENOMEM;
    server->config = *config;
    api_log_init(config->log_level);
    signal(SIGPIPE, SIG_IGN);
    /* A file-size limit (ulimit -f) is then a write error, a 507, not a killed server. */
    signal(SIGXFSZ, SIG_IGN);
    pthread_mutex_init(&server->done_lock, NULL);
    int rc = uv_loop_init(&server->loop);
    if (rc != 0)
        goto fail_loop;
    server->openapi = api_openapi_build(&server->openapi_len);
    if (server->openapi == NULL) {
        rc = FL_ENOMEM;
        goto fail_openapi;
    }
    rc = api_tls_init(server);
    if (rc != 0)
        goto fail_tls;
    rc = open_ledgers(server);
    if (rc != 0)
        goto fail_ledger;
    init_handles(server);
    rc = listen_all(server);
    if (rc != 0) {
        on_signal(&server->sigterm, 0); /* closes everything it opened */
    }
    uv_run(&server->loop, UV_RUN_DEFAULT);
    api_log_buffer(false);
    api_ws_hub_free(server);
    api_tenants_close_all(server); /* projectors, then ledgers */
    api_auth_close(server->auth);
    OPENSSL_cleanse(&server->jwt_keys, sizeof(server->jwt_keys));
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
    api_tls_free(server);
fail_tls:
    free(server->openapi);
fail_openapi:
    uv_run(&server->loop, UV_RUN_NOWAIT);
    uv_loop_close(&server->loop);
fail_loop:
    pthread_mutex_destroy(&server->done_lock);
    free(server);
    return rc;
}
