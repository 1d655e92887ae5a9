/*
 * client.h: what the api tests share. Starts a real foutad (FOUTAD_PATH, built by CMake) on an
 * ephemeral port in a scratch directory, and talks to it through sockets: raw bytes when a test
 * needs malformed HTTP, or whole requests and responses. Header-only, like support.h.
 *
 * Tests sign in like the apps: before the first start on a directory, `foutad --add-user` makes
 * one user per catalog role in tenant "plant" (the user's name is the role's, the password
 * TEST_PASSWORD); ACTOR(role) signs in as that user (POST /api/v1/auth/login, once per start)
 * and gives the headers with its access token. A request sent without an Authorization header
 * carries the manager's token.
 */
#ifndef FL_TEST_API_CLIENT_H
#define FL_TEST_API_CLIENT_H

#include "tests/support/support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#define CLIENT_RECV_TIMEOUT_S 10
#define CLIENT_BUFFER_BYTES   (4 * 1024 * 1024)

static inline void sleep_ms(unsigned ms)
{
    struct timespec pause = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
}

typedef struct {
    char dir[256];
    pid_t pid;
    int port;
} server_t;

#define TEST_TENANT   "plant"
#define TEST_PASSWORD "test-password"
#define TEST_ROLES    9

static const char *const test_roles[TEST_ROLES] = {
    "admin",          "manager",           "weaver", "cutter", "mechanic", "store_raw",
    "store_finished", "store_subcontract", "quality"};

/* The port of the server the helpers sign in to, and the tokens signed in since its start. */
static int test_auth_port;
static char test_auth_headers[TEST_ROLES][1400];

/* Runs foutad with argv (NULL-terminated) and waits: its exit status. */
static inline int run_foutad(const char *const *argv)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        if (freopen("/dev/null", "w", stdout) == NULL)
            _exit(126);
        execv(FOUTAD_PATH, (char *const *)argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* One user per role in tenant plant (cheap Argon2id parameters: tests only). */
static inline void add_test_users(const char *data)
{
    const char *argv[48] = {FOUTAD_PATH, "--data-dir",          data, "--log-level",
                            "0",         "--argon2-memory-kib", "64", "--argon2-passes",
                            "1"};
    int argc = 9;
    char specs[TEST_ROLES][64];
    for (int i = 0; i < TEST_ROLES; i++) {
        snprintf(specs[i], sizeof(specs[i]), TEST_TENANT ":%s:%s", test_roles[i], test_roles[i]);
        argv[argc++] = "--add-user";
        argv[argc++] = specs[i];
    }
    argv[argc] = NULL;
    setenv("FOUTA_USER_PASSWORD", TEST_PASSWORD, 1);
    int rc = run_foutad(argv);
    cr_assert_eq(rc, 0, "foutad --add-user");
}

/* Starts foutad with extra flags (NULL-terminated list), in a fresh scratch directory unless
 * server->dir names one already (a restart on the same data). */
static inline void server_start_args(server_t *server, const char *const *extra)
{
    if (server->dir[0] == '\0')
        test_tmpdir(server->dir, sizeof(server->dir));
    char stale[300];
    snprintf(stale, sizeof(stale), "%s/port", server->dir);
    remove(stale);
    char data[300], port_file[300], auth[320];
    snprintf(data, sizeof(data), "%s/data", server->dir);
    snprintf(port_file, sizeof(port_file), "%s/port", server->dir);
    snprintf(auth, sizeof(auth), "%s/auth", data);
    if (access(auth, F_OK) != 0)
        add_test_users(data);
    setenv("FOUTA_PASSWORD", TEST_PASSWORD, 1); /* fl_client signs in as its role's user */
    const char *argv[48] = {
        FOUTAD_PATH, "--data-dir",  data, "--listen",           "127.0.0.1:0", "--port-file",
        port_file,   "--log-level", "0",  "--login-rate-burst", "100000",      "--rate-per-min",
        "0"};
    int argc = 13;
    for (int i = 0; extra != NULL && extra[i] != NULL && argc < 38; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    server->pid = fork();
    cr_assert_neq(server->pid, -1);
    if (server->pid == 0) {
        /* A test that fails stops where it is: foutad must not outlive it (and hold ctest's
         * pipe open until the timeout). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execv(FOUTAD_PATH, (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 1000; i++) {
        FILE *file = fopen(port_file, "r");
        if (file != NULL) {
            int ok = fscanf(file, "%d", &server->port);
            fclose(file);
            if (ok == 1) {
                test_auth_port = server->port;
                memset(test_auth_headers, 0, sizeof(test_auth_headers));
                return;
            }
        }
        sleep_ms(10);
    }
    cr_assert_fail("foutad did not start");
}

static inline void server_start(server_t *server)
{
    server_start_args(server, NULL);
}

/* Sends SIGTERM and waits, keeping the data: returns foutad's exit status (0: a clean stop). */
static inline int server_stop_keep(server_t *server)
{
    int status = -1;
    if (server->pid > 0) {
        kill(server->pid, SIGTERM);
        waitpid(server->pid, &status, 0);
        server->pid = 0;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Stops foutad and removes its directory. */
static inline int server_stop(server_t *server)
{
    int rc = server_stop_keep(server);
    test_tmpdir_remove(server->dir);
    server->dir[0] = '\0';
    return rc;
}

static inline int client_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0, "connect");
    struct timeval timeout = {.tv_sec = CLIENT_RECV_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static inline void client_send(int fd, const void *bytes, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(fd, (const char *)bytes + done, len - done, MSG_NOSIGNAL);
        cr_assert_gt(n, 0, "send failed");
        done += (size_t)n;
    }
}

static inline void client_send_text(int fd, const char *text)
{
    client_send(fd, text, strlen(text));
}

/* A connection with a receive buffer, so that pipelined responses can be read one by one. */
typedef struct {
    int fd;
    char *buf;
    size_t len;
} client_t;

typedef struct {
    int status;
    char headers[8192];
    char *body; /* NUL-terminated, malloc'd */
    size_t body_len;
} response_t;

static inline void client_open(client_t *client, int port)
{
    client->fd = client_connect(port);
    client->buf = malloc(CLIENT_BUFFER_BYTES);
    cr_assert_not_null(client->buf);
    client->len = 0;
}

static inline void client_close(client_t *client)
{
    close(client->fd);
    free(client->buf);
    client->buf = NULL;
}

static inline void response_free(response_t *response)
{
    free(response->body);
    response->body = NULL;
}

/* Reads more bytes; returns false at EOF or on a timeout. */
static inline bool client_fill(client_t *client)
{
    cr_assert_lt(client->len, CLIENT_BUFFER_BYTES - 1, "response too large for the test");
    ssize_t n =
        recv(client->fd, client->buf + client->len, CLIENT_BUFFER_BYTES - 1 - client->len, 0);
    if (n <= 0)
        return false;
    client->len += (size_t)n;
    client->buf[client->len] = '\0';
    return true;
}

/* The value of a response header (case-insensitive name), copied into out; "" when absent. */
static inline const char *response_header(const response_t *response, const char *name, char *out,
                                          size_t size)
{
    out[0] = '\0';
    size_t len = strlen(name);
    for (const char *line = response->headers; *line != '\0';) {
        const char *end = strstr(line, "\r\n");
        if (end == NULL)
            break;
        if (strncasecmp(line, name, len) == 0 && line[len] == ':') {
            const char *value = line + len + 1;
            while (*value == ' ')
                value++;
            snprintf(out, size, "%.*s", (int)(end - value), value);
            return out;
        }
        line = end + 2;
    }
    return out;
}

/* Reads one response (status -1 when the server closed first). */
static inline void client_read(client_t *client, response_t *response)
{
    memset(response, 0, sizeof(*response));
    response->status = -1;
    char *end;
    while ((end = client->len > 0 ? strstr(client->buf, "\r\n\r\n") : NULL) == NULL)
        if (!client_fill(client))
            return;
    size_t head_len = (size_t)(end - client->buf) + 4;
    cr_assert_eq(sscanf(client->buf, "HTTP/1.1 %d", &response->status), 1, "status line: %.40s",
                 client->buf);
    snprintf(response->headers, sizeof(response->headers), "%.*s", (int)head_len, client->buf);
    char value[64];
    size_t body_len =
        strtoul(response_header(response, "Content-Length", value, sizeof(value)), NULL, 10);
    while (client->len < head_len + body_len)
        cr_assert(client_fill(client), "connection closed inside a body");
    response->body = malloc(body_len + 1);
    memcpy(response->body, client->buf + head_len, body_len);
    response->body[body_len] = '\0';
    response->body_len = body_len;
    memmove(client->buf, client->buf + head_len + body_len, client->len - head_len - body_len);
    client->len -= head_len + body_len;
    client->buf[client->len] = '\0';
}

/* Whether the server closed the connection (EOF before any further byte). */
static inline bool client_closed_by_server(client_t *client)
{
    return client->len == 0 && !client_fill(client);
}

/* Sends a request with a body (NULL: none) and extra header lines ("" or "A: b\r\n"). */
static inline const char *AUTH(const char *role);

static inline void client_send_request(client_t *client, const char *method, const char *path,
                                       const char *headers, const char *body)
{
    char head[4096];
    /* Without a token of its own, a request carries the manager's ("Authorization: none"
     * sends none that foutad accepts). */
    const char *auth = strstr(headers, "Authorization:") != NULL ? "" : AUTH("manager");
    snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: test\r\n%s%sContent-Length: %zu\r\n\r\n",
             method, path, auth, headers, body != NULL ? strlen(body) : 0);
    client_send_text(client->fd, head);
    if (body != NULL)
        client_send_text(client->fd, body);
}

static inline void client_request(client_t *client, const char *method, const char *path,
                                  const char *headers, const char *body, response_t *response)
{
    client_send_request(client, method, path, headers, body);
    client_read(client, response);
}

#define JSON_HEADERS "Content-Type: application/json\r\n"

/* The value of a string member "key":"..." of a JSON text, copied into out ("" when absent). */
static inline const char *json_text(const char *json, const char *key, char *out, size_t size)
{
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "\"%s\":\"", key);
    const char *at = strstr(json, pattern);
    out[0] = '\0';
    if (at != NULL) {
        at += strlen(pattern);
        snprintf(out, size, "%.*s", (int)strcspn(at, "\""), at);
    }
    return out;
}

/* Signs in (POST /api/v1/auth/login) as user with password: the response, on a new connection. */
static inline void login_as(int port, const char *tenant, const char *user, const char *password,
                            response_t *r)
{
    char body[512];
    snprintf(body, sizeof(body), "{\"tenant\":\"%s\",\"user\":\"%s\",\"password\":\"%s\"}", tenant,
             user, password);
    client_t c;
    client_open(&c, port);
    client_request(&c, "POST", "/api/v1/auth/login", JSON_HEADERS "Authorization: none\r\n", body,
                   r);
    client_close(&c);
}

/* The headers of a request posted as role's user: JSON and its access token. Valid until the
 * server's next start. */
static inline const char *ACTOR(const char *role)
{
    int i = 0;
    while (i < TEST_ROLES && strcmp(test_roles[i], role) != 0)
        i++;
    cr_assert_lt(i, TEST_ROLES, "a catalog role: %s", role);
    if (test_auth_headers[i][0] == '\0') {
        response_t r;
        login_as(test_auth_port, TEST_TENANT, role, TEST_PASSWORD, &r);
        cr_assert_eq(r.status, 200, "login as %s: %s", role, r.body);
        char token[1200];
        json_text(r.body, "access_token", token, sizeof(token));
        snprintf(test_auth_headers[i], sizeof(test_auth_headers[i]),
                 JSON_HEADERS "Authorization: Bearer %s\r\n", token);
        response_free(&r);
    }
    return test_auth_headers[i];
}

/* The Authorization header alone of role's token (for raw requests). */
static inline const char *AUTH(const char *role)
{
    return ACTOR(role) + strlen(JSON_HEADERS);
}

/* A GoodsReceived event of unit hu (qty in thousandths of kg) at location MP1. */
static inline void event_goods(char *out, size_t size, unsigned id, const char *hu, const char *qty)
{
    snprintf(out, size,
             "{\"id\":\"0190b2a0-7c1d-7000-8000-%012u\",\"type\":\"GoodsReceived\","
             "\"occurred_at_us\":1764000000000000,\"payload\":{\"hu_id\":\"%s\","
             "\"item_id\":\"YARN-30\",\"qty_milli\":%s,\"unit\":\"kg\",\"location_id\":\"MP1\","
             "\"supplier\":\"Filature du Sahel\"}}",
             id, hu, qty);
}

/* A StockTransferred event of unit hu from one location to another. */
static inline void event_move(char *out, size_t size, unsigned id, const char *hu, const char *from,
                              const char *to)
{
    snprintf(out, size,
             "{\"id\":\"0190b2a0-7c1d-7000-8000-%012u\",\"type\":\"StockTransferred\","
             "\"occurred_at_us\":1764000000000000,\"payload\":{\"hu_id\":\"%s\","
             "\"from_location_id\":\"%s\",\"to_location_id\":\"%s\"}}",
             id, hu, from, to);
}

/* The unsigned number after "key": in a JSON text (0 when absent). */
static inline unsigned long long json_number(const char *json, const char *key)
{
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "\"%s\":", key);
    const char *at = strstr(json, pattern);
    return at != NULL ? strtoull(at + strlen(pattern), NULL, 10) : 0;
}

#endif
