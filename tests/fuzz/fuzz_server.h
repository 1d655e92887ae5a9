/*
 * fuzz_server.h: what the targets that talk to a real foutad share (fuzz_http, fuzz_ws). The
 * server runs in a thread of the fuzzer's process (so that the fuzzer sees its coverage) on an
 * ephemeral loopback port, in a scratch directory, with tenant "fuzz" and its manager signed in
 * (fuzz_token). Header-only: each target is one translation unit.
 */
#ifndef FL_FUZZ_SERVER_H
#define FL_FUZZ_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
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

static int fuzz_port;
static char fuzz_token[2048];
static api_config_t fuzz_config;

static void *fuzz_serve(void *arg)
{
    (void)arg;
    api_server_run(&fuzz_config);
    return NULL;
}

/* After recv failed: whether it was the receive timeout (the server kept the connection open)
 * rather than a reset (a server may close with bytes of the client's still unread). */
static bool fuzz_timed_out(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK;
}

static int fuzz_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        abort();
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fuzz_port)};
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
static long fuzz_exchange(const char *bytes, size_t len, char *out, size_t size)
{
    int fd = fuzz_connect();
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
            result = fuzz_timed_out() ? -1 : 0;
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

static void fuzz_start(void)
{
    char dir[] = "/tmp/fouta-fuzz-XXXXXX";
    if (mkdtemp(dir) == NULL)
        abort();
    api_config_defaults(&fuzz_config);
    snprintf(fuzz_config.data_dir, sizeof(fuzz_config.data_dir), "%s/data", dir);
    snprintf(fuzz_config.port_file, sizeof(fuzz_config.port_file), "%s/port", dir);
    snprintf(fuzz_config.listen_host, sizeof(fuzz_config.listen_host), "127.0.0.1");
    fuzz_config.listen_port = 0;
    fuzz_config.log_level = 0;
    fuzz_config.rate_per_min = 0;
    fuzz_config.login_rate_burst = 1000000;
    fuzz_config.argon2_memory_kib = 64;
    fuzz_config.argon2_passes = 1;
    fuzz_config.header_timeout_ms = 2000;
    fuzz_config.body_timeout_ms = 2000;
    fuzz_config.idle_timeout_ms = 2000;
    /* The manager of tenant "fuzz", then the server in a thread of this process. */
    setenv("FOUTA_USER_PASSWORD", FUZZ_PASSWORD, 1);
    snprintf(fuzz_config.add_users[0], sizeof(fuzz_config.add_users[0]), "fuzz:manager:manager");
    fuzz_config.add_users_count = 1;
    if (api_add_users(&fuzz_config) != 0)
        abort();
    fuzz_config.add_users_count = 0;
    pthread_t thread;
    if (pthread_create(&thread, NULL, fuzz_serve, NULL) != 0)
        abort();
    pthread_detach(thread);
    for (int i = 0; i < 1000 && fuzz_port == 0; i++) {
        FILE *file = fopen(fuzz_config.port_file, "r");
        if (file != NULL) {
            if (fscanf(file, "%d", &fuzz_port) != 1)
                fuzz_port = 0;
            fclose(file);
        }
        if (fuzz_port == 0) {
            struct timespec pause = {.tv_nsec = 10 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    if (fuzz_port == 0)
        abort();
    static const char body[] =
        "{\"tenant\":\"fuzz\",\"user\":\"manager\",\"password\":\"" FUZZ_PASSWORD "\"}";
    char request[512], answer[8192];
    snprintf(request, sizeof(request),
             "POST /api/v1/auth/login HTTP/1.1\r\nHost: f\r\nContent-Type: application/json\r\n"
             "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    if (fuzz_exchange(request, strlen(request), answer, sizeof(answer)) <= 0)
        abort();
    const char *at = strstr(answer, "\"access_token\":\"");
    if (at == NULL)
        abort();
    at += strlen("\"access_token\":\"");
    size_t len = strcspn(at, "\"");
    if (len >= sizeof(fuzz_token))
        abort();
    memcpy(fuzz_token, at, len);
}

/* The server still serves: GET /health/live answers 200 on a new connection; aborts if not. */
static void fuzz_check_alive(void)
{
    static const char live[] = "GET /health/live HTTP/1.1\r\nHost: f\r\nConnection: close\r\n\r\n";
    static char answer[4096];
    if (fuzz_exchange(live, sizeof(live) - 1, answer, sizeof(answer)) <= 0 ||
        strncmp(answer, "HTTP/1.1 200", 12) != 0)
        abort(); /* the server stopped serving */
}

#endif
