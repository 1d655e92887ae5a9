/*
 * Fuzz target: bytes from the network through foutad's whole request path - llhttp and its glue,
 * the headers kept, the router, the guard (token, tenant, roles, rate limits, CORS), the
 * handlers' parameter checks and bodies, WebSocket upgrades - against a real server running in
 * this process (so the fuzzer sees its coverage), on loopback. Each input is one connection:
 * its bytes, with every "@T@" replaced by a valid access token of the manager (so that inputs
 * get past the guard), then the end of the stream.
 *
 * Properties: the server never crashes (ASan, UBSan); it closes the connection within the
 * request timeouts once the client has said everything (no hang); and it keeps serving: after
 * each input, GET /health/live answers 200 on a new connection.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"

#define FUZZ_REQUEST_BYTES_MAX (256 * 1024)
#define FUZZ_ANSWER_WAIT_S     5 /* past the server's header and body timeouts below */
#define FUZZ_PASSWORD          "fuzz-password"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int port;
static char token[2048];
static api_config_t config;

static void *serve(void *arg)
{
    (void)arg;
    api_server_run(&config);
    return NULL;
}

static int connect_server(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        abort();
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
        abort(); /* the server stopped listening */
    struct timeval wait = {.tv_sec = FUZZ_ANSWER_WAIT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof(wait));
    return fd;
}

/* Sends bytes, says the end, and reads the answers until the server closes: the bytes read
 * into out (cut at size), or -1 when the server did not close in time. */
static long exchange(const char *bytes, size_t len, char *out, size_t size)
{
    int fd = connect_server();
    for (size_t done = 0; done < len;) {
        ssize_t n = send(fd, bytes + done, len - done, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may close early on a bad request: fine */
        done += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    size_t got = 0;
    long result = 0;
    for (;;) {
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0)
            break;
        if (n < 0) {
            result = -1;
            break;
        }
        size_t keep = got + (size_t)n < size ? (size_t)n : size - got;
        memcpy(out + got, buf, keep);
        got += keep;
    }
    close(fd);
    if (size > 0)
        out[got < size ? got : size - 1] = '\0';
    return result < 0 ? -1 : (long)got;
}

static void start(void)
{
    char dir[] = "/tmp/fouta-fuzz-http-XXXXXX";
    if (mkdtemp(dir) == NULL)
        abort();
    api_config_defaults(&config);
    snprintf(config.data_dir, sizeof(config.data_dir), "%s/data", dir);
    snprintf(config.port_file, sizeof(config.port_file), "%s/port", dir);
    snprintf(config.listen_host, sizeof(config.listen_host), "127.0.0.1");
    config.listen_port = 0;
    config.log_level = 0;
    config.rate_per_min = 0;
    config.login_rate_burst = 1000000;
    config.argon2_memory_kib = 64;
    config.argon2_passes = 1;
    config.header_timeout_ms = 2000;
    config.body_timeout_ms = 2000;
    config.idle_timeout_ms = 2000;
    /* The manager of tenant "fuzz", then the server in a thread of this process. */
    setenv("FOUTA_USER_PASSWORD", FUZZ_PASSWORD, 1);
    snprintf(config.add_users[0], sizeof(config.add_users[0]), "fuzz:manager:manager");
    config.add_users_count = 1;
    if (api_add_users(&config) != 0)
        abort();
    config.add_users_count = 0;
    pthread_t thread;
    if (pthread_create(&thread, NULL, serve, NULL) != 0)
        abort();
    pthread_detach(thread);
    for (int i = 0; i < 1000 && port == 0; i++) {
        FILE *file = fopen(config.port_file, "r");
        if (file != NULL) {
            if (fscanf(file, "%d", &port) != 1)
                port = 0;
            fclose(file);
        }
        if (port == 0) {
            struct timespec pause = {.tv_nsec = 10 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    if (port == 0)
        abort();
    static const char body[] =
        "{\"tenant\":\"fuzz\",\"user\":\"manager\",\"password\":\"" FUZZ_PASSWORD "\"}";
    char request[512], answer[8192];
    snprintf(request, sizeof(request),
             "POST /api/v1/auth/login HTTP/1.1\r\nHost: f\r\nContent-Type: application/json\r\n"
             "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    if (exchange(request, strlen(request), answer, sizeof(answer)) <= 0)
        abort();
    const char *at = strstr(answer, "\"access_token\":\"");
    if (at == NULL)
        abort();
    at += strlen("\"access_token\":\"");
    size_t len = strcspn(at, "\"");
    if (len >= sizeof(token))
        abort();
    memcpy(token, at, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (port == 0)
        start();
    if (size > FUZZ_REQUEST_BYTES_MAX / 2)
        return 0;
    /* The input, with "@T@" standing for the token. */
    static char request[FUZZ_REQUEST_BYTES_MAX];
    size_t len = 0, token_len = strlen(token);
    for (size_t i = 0; i < size && len + token_len < sizeof(request);) {
        if (i + 3 <= size && memcmp(data + i, "@T@", 3) == 0) {
            memcpy(request + len, token, token_len);
            len += token_len;
            i += 3;
        } else {
            request[len++] = (char)data[i++];
        }
    }
    static char answer[64 * 1024];
    if (exchange(request, len, answer, sizeof(answer)) < 0)
        abort(); /* the server held a finished connection open: a hang */
    if (getenv("FL_FUZZ_HTTP_VERBOSE") != NULL) /* for writing seeds: each answer's status */
        for (const char *at = strstr(answer, "HTTP/1.1 "); at != NULL;
             at = strstr(at + 1, "HTTP/1.1 "))
            fprintf(stderr, "%.12s\n", at);
    static const char live[] = "GET /health/live HTTP/1.1\r\nHost: f\r\nConnection: close\r\n\r\n";
    if (exchange(live, sizeof(live) - 1, answer, sizeof(answer)) <= 0 ||
        strncmp(answer, "HTTP/1.1 200", 12) != 0)
        abort(); /* the server stopped serving */
    return 0;
}
