/*
 * bench/http_load.c: the load generator of bench/run http. One binary, one mode per peer, so that
 * every server of the comparison is driven the same way: N clients, each with one request in
 * flight, for a fixed time, every request's latency into one histogram.
 *
 *   bench_http_load free-port
 *       prints a free TCP port on 127.0.0.1 (bind to port 0, read it back, close).
 *   bench_http_load http --port P --connections N --seconds S --expect STATUS [--threads T]
 *                   [--login TENANT:USER] [--tls CERT] [--get PATH]
 *       keep-alive HTTP/1.1 connections (epoll, non-blocking), each posting one GoodsReceived
 *       event at a time to POST /api/v1/events. Every event has a fresh id and a fresh handling
 *       unit, so that foutad appends each one (201). The same requests go to nginx, which
 *       answers 204 without storing anything: the HTTP ceiling. With --get, each request is
 *       GET PATH instead (a read's cost). With --tls, every connection speaks TLS (OpenSSL,
 *       handshakes done before the timed window, the server's certificate checked against
 *       CERT): the keep-alive cost of TLS on the same requests.
 *
 *   Every mode but free-port takes --login TENANT:USER: it first signs in (POST
 *   /api/v1/auth/login, password from the environment's BENCH_PASSWORD, never a command line)
 *   and sends the access token as "Authorization: Bearer" on every request, as an app does.
 *   bench_http_load pg --conninfo STR --connections N --seconds S
 *       libpq, one connection per client thread, a prepared INSERT of the same event (uuid id,
 *       stream, type, jsonb payload, recorded_at now()) in its own transaction (autocommit).
 *   bench_http_load redis --port P --connections N --seconds S
 *       hiredis, one connection per client thread: XADD of the same event's fields to a stream.
 *   bench_http_load ws --port P --subscribers N --rate R --seconds S [--posters K]
 *       N WebSocket subscribers to foutad's GET /api/v1/ws from now, then K poster threads post
 *       R events/s for S seconds, open loop: each event has its time slot, its occurred_at_us,
 *       and is posted then or, when foutad answers slower than the slots come, as soon as a
 *       poster is free. Every subscriber measures each event's delivery latency from its
 *       occurred_at_us (so it includes any wait for a poster, the POST and the durable commit:
 *       no coordinated omission) and from the POST's acknowledgement (the time the poster read
 *       the 201). The rate actually posted is reported.
 *   bench_http_load observe --port P --subscribers N --seconds S
 *       the subscribers alone, from the head at the start (from_seq), for S seconds, while
 *       someone else posts (fouta-sim in bench/hardening.sh's soak). Each delivery's latency is
 *       measured from the event's recorded_at_us (foutad's clock when its write batch began:
 *       the commit and the fan-out). Then the head is read and every subscriber must reach it
 *       (up to WS_DRAIN_SECONDS more): events, gaps and what is missing are reported.
 *
 * Each mode prints one line of key=value pairs (requests, errors, rate, latency quantiles) that
 * bench/http.sh turns into its table. Timings are printed, never asserted. The WebSocket frames
 * from the server are unmasked and small, so they are read by hand here rather than through
 * wslay; the only frame a subscriber sends is a masked pong.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include "bench/hist.h"

#define CONNECTIONS_MAX    4096
#define THREADS_MAX        16
#define SECONDS_MAX        600.0
#define REQUEST_BYTES_MAX  4096
#define RESPONSE_BYTES_MAX 16384
#define EVENT_BYTES_MAX    1024
#define NAME_BYTES         48
#define EPOLL_EVENTS       256
#define DRAIN_SECONDS      5.0   /* after the timed window: answers still awaited */
#define WS_DRAIN_SECONDS   10.0  /* after the last post: deliveries still awaited */
#define WS_BUFFER_BYTES    65536 /* per subscriber: frames being read */
#define WS_POSTERS_DEFAULT 8
#define WS_POSTERS_MAX     64
#define WS_EVENTS_MAX      1000000u
#define WS_LATE_US         1000
#define ERRORS_SHOWN       3
#define NS_PER_S           1000000000ull
#define NS_PER_US          1000ull
#define AUTH_LINE_MAX      1200 /* "Authorization: Bearer <access token>\r\n" */
#define PATH_BYTES_MAX     256

_Static_assert(EVENT_BYTES_MAX + 512 + AUTH_LINE_MAX <= REQUEST_BYTES_MAX,
               "an event, its headers and the token fit");

/* ---- Small helpers. ---- */

static uint64_t now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * NS_PER_S + (uint64_t)now.tv_nsec;
}

static int64_t wall_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

static void sleep_until_ns(uint64_t deadline)
{
    uint64_t now = now_ns();
    if (deadline <= now)
        return;
    uint64_t wait = deadline - now;
    struct timespec pause = {.tv_sec = (time_t)(wait / NS_PER_S),
                             .tv_nsec = (long)(wait % NS_PER_S)};
    nanosleep(&pause, NULL);
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_http_load: %s%s%s\n", what, detail[0] != '\0' ? ": " : "", detail);
    exit(1);
}

static void *xcalloc(size_t count, size_t size)
{
    void *memory = calloc(count, size);
    if (memory == NULL)
        die("calloc", strerror(errno));
    return memory;
}

/* Prints the first few failures of a run, then only counts them. */
static atomic_uint errors_shown;

static void show_error(const char *what, const char *detail, size_t len)
{
    if (atomic_fetch_add(&errors_shown, 1) < ERRORS_SHOWN)
        fprintf(stderr, "bench_http_load: %s: %.*s\n", what, (int)(len > 300 ? 300 : len), detail);
}

/* The first occurrence of needle in bytes[0, len), or NULL (memmem is not C11). */
static const char *find(const char *bytes, size_t len, const char *needle)
{
    size_t needle_len = strlen(needle);
    for (size_t i = 0; i + needle_len <= len; i++)
        if (bytes[i] == needle[0] && memcmp(bytes + i, needle, needle_len) == 0)
            return bytes + i;
    return NULL;
}

/* The unsigned number after `"key":` in bytes[0, len); false when absent. */
static bool json_u64(const char *bytes, size_t len, const char *quoted_key, uint64_t *out)
{
    const char *at = find(bytes, len, quoted_key);
    if (at == NULL)
        return false;
    const char *digit = at + strlen(quoted_key), *end = bytes + len;
    if (digit >= end || *digit < '0' || *digit > '9')
        return false;
    uint64_t value = 0;
    for (; digit < end && *digit >= '0' && *digit <= '9'; digit++)
        value = value * 10 + (uint64_t)(*digit - '0');
    *out = value;
    return true;
}

/* ---- The event every mode writes: GoodsReceived of a new handling unit. ---- */

/* Set once per process: ids and units of one run never collide with another run's. */
static uint32_t run_nonce;

typedef struct {
    char id[NAME_BYTES];    /* a UUIDv7: the millisecond now, the run's nonce, client, counter */
    char hu_id[NAME_BYTES]; /* "B" then the same three numbers in hex */
    char stream[NAME_BYTES + 4]; /* "hu-" + hu_id, the stream foutad derives */
} event_names_t;

/* The id leads with the millisecond it is made in, as the apps' UUIDv7 do (clients/web/js/
 * uuid.js, fl_uuid7): ids of one moment sort together whichever client made them. With the
 * run's one millisecond in front, each client's ids had their own range of the ledger's id
 * index, and a commit of 25 events wrote about 25 of its pages. */
static void event_names(event_names_t *names, uint32_t client, uint64_t counter)
{
    assert(client < 0x4000);
    uint64_t ms = (uint64_t)(wall_us() / 1000);
    snprintf(names->id, sizeof(names->id),
             "%08" PRIx64 "-%04" PRIx64 "-7%03" PRIx32 "-%04" PRIx32 "-%012" PRIx64, ms >> 16,
             ms & 0xffff, run_nonce & 0xfff, 0x8000 | client,
             (uint64_t)(counter & 0xffffffffffffull));
    snprintf(names->hu_id, sizeof(names->hu_id), "B%05" PRIx32 "%04" PRIx32 "%" PRIx64,
             run_nonce & 0xfffff, client, counter);
    snprintf(names->stream, sizeof(names->stream), "hu-%s", names->hu_id);
}

static int payload_json(char *out, size_t size, const event_names_t *names)
{
    return snprintf(out, size,
                    "{\"hu_id\":\"%s\",\"item_id\":\"YARN-30\",\"qty_milli\":25000,\"unit\":\"kg\","
                    "\"location_id\":\"MP1\",\"supplier\":\"Filature du Sahel\"}",
                    names->hu_id);
}

static int event_json(char *out, size_t size, const event_names_t *names, int64_t occurred_at_us)
{
    char payload[EVENT_BYTES_MAX / 2];
    payload_json(payload, sizeof(payload), names);
    return snprintf(out, size,
                    "{\"id\":\"%s\",\"type\":\"GoodsReceived\",\"occurred_at_us\":%" PRId64
                    ",\"payload\":%s}",
                    names->id, occurred_at_us, payload);
}

/* The signed-in user's "Authorization: Bearer ...\r\n" line (sign_in), "" when the run did not
 * sign in (nginx, /health/live). */
static char auth_line[AUTH_LINE_MAX];

/* A GET of path with the token: the read runs' request, always the same bytes. */
static size_t get_request(char *out, size_t size, const char *path)
{
    int len = snprintf(out, size, "GET %s HTTP/1.1\r\nHost: bench\r\n%s\r\n", path, auth_line);
    assert(len > 0 && (size_t)len < size);
    return (size_t)len;
}

/* The whole POST /api/v1/events request of one event; returns its length. */
static size_t event_request(char *out, size_t size, const event_names_t *names,
                            int64_t occurred_at_us)
{
    char body[EVENT_BYTES_MAX];
    int body_len = event_json(body, sizeof(body), names, occurred_at_us);
    assert(body_len > 0 && (size_t)body_len < sizeof(body));
    int len = snprintf(out, size,
                       "POST /api/v1/events HTTP/1.1\r\nHost: bench\r\n"
                       "Content-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s",
                       auth_line, body_len, body);
    assert(len > 0 && (size_t)len < size);
    return (size_t)len;
}

/* Length of the one complete response at the start of bytes (0: not complete yet) and its
 * status. Responses carry Content-Length (foutad, nginx) or none (204); chunked ones are not
 * expected from either server and count as malformed (-1). */
static long response_complete(const char *bytes, size_t len, int *status)
{
    const char *end = find(bytes, len, "\r\n\r\n");
    if (end == NULL)
        return 0;
    size_t head = (size_t)(end - bytes) + 4;
    if (len < 12 || memcmp(bytes, "HTTP/1.1 ", 9) != 0)
        return -1;
    *status = atoi(bytes + 9);
    uint64_t body = 0;
    for (const char *line = bytes; line < end;) {
        const char *next = find(line, (size_t)(end - line) + 2, "\r\n");
        if (next == NULL)
            break;
        if ((size_t)(next - line) > 15 && strncasecmp(line, "Content-Length:", 15) == 0)
            body = strtoull(line + 15, NULL, 10);
        else if ((size_t)(next - line) > 18 && strncasecmp(line, "Transfer-Encoding:", 18) == 0)
            return -1;
        line = next + 2;
    }
    if (len < head + body)
        return 0;
    return (long)(head + body);
}

static int connect_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket", strerror(errno));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
        die("connect", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static void set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
        die("fcntl", strerror(errno));
}

static void send_all(int fd, const char *bytes, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = send(fd, bytes + done, len - done, MSG_NOSIGNAL);
        if (n <= 0)
            die("send", n < 0 ? strerror(errno) : "closed");
        done += (size_t)n;
    }
}

/* ---- Links: a TCP connection, with TLS over it when the run has --tls. ---- */

/* The client side of --tls: TLS 1.2 or 1.3, the server's certificate verified against the file
 * given (the development certificate is its own anchor). NULL for plain HTTP. */
static SSL_CTX *tls_ctx;

typedef struct {
    int fd;
    SSL *ssl; /* NULL on a plain connection */
} link_t;

static void tls_die(const char *what)
{
    char reason[256] = "";
    ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
    die(what, reason);
}

static void tls_setup(const char *ca_file)
{
    tls_ctx = SSL_CTX_new(TLS_client_method());
    if (tls_ctx == NULL)
        tls_die("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
    if (SSL_CTX_load_verify_locations(tls_ctx, ca_file, NULL) != 1)
        tls_die("the --tls certificate");
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(tls_ctx), X509_V_FLAG_PARTIAL_CHAIN);
    SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/* Connects (blocking) and, with --tls, completes the handshake before any timed request. */
static link_t link_open(int port)
{
    link_t link = {.fd = connect_loopback(port), .ssl = NULL};
    if (tls_ctx == NULL)
        return link;
    link.ssl = SSL_new(tls_ctx);
    if (link.ssl == NULL || SSL_set_fd(link.ssl, link.fd) != 1)
        tls_die("SSL_new");
    SSL_set_tlsext_host_name(link.ssl, "localhost");
    if (SSL_connect(link.ssl) != 1)
        tls_die("TLS handshake");
    return link;
}

static void link_close(link_t *link)
{
    if (link->ssl != NULL) {
        SSL_shutdown(link->ssl);
        SSL_free(link->ssl);
        link->ssl = NULL;
    }
    if (link->fd >= 0)
        close(link->fd);
    link->fd = -1;
}

/* send() or SSL_write(): bytes taken, or -1 with errno EAGAIN (try again when the socket is
 * ready) or another errno. */
static ssize_t link_send(link_t *link, const char *bytes, size_t len)
{
    if (link->ssl == NULL)
        return send(link->fd, bytes, len, MSG_NOSIGNAL);
    int n = SSL_write(link->ssl, bytes, (int)len);
    if (n > 0)
        return n;
    int error = SSL_get_error(link->ssl, n);
    ERR_clear_error();
    errno = error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ ? EAGAIN : EPIPE;
    return -1;
}

/* recv() or SSL_read(): bytes read, 0 when the peer closed, -1 with errno as link_send. */
static ssize_t link_recv(link_t *link, char *bytes, size_t size)
{
    if (link->ssl == NULL)
        return recv(link->fd, bytes, size, 0);
    int n = SSL_read(link->ssl, bytes, (int)size);
    if (n > 0)
        return n;
    int error = SSL_get_error(link->ssl, n);
    ERR_clear_error();
    if (error == SSL_ERROR_ZERO_RETURN)
        return 0;
    errno = error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ ? EAGAIN : EPIPE;
    return -1;
}

static void link_send_all(link_t *link, const char *bytes, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = link_send(link, bytes + done, len - done);
        if (n <= 0)
            die("send", n < 0 ? strerror(errno) : "closed");
        done += (size_t)n;
    }
}

/* ---- Options: "--name value" pairs. ---- */

typedef struct {
    int port;
    unsigned connections;
    unsigned threads;
    double seconds;
    int expect;
    const char *conninfo;
    unsigned subscribers;
    unsigned rate;
    unsigned posters;
    const char *tls_ca;   /* --tls FILE: HTTPS, the server's certificate checked against FILE */
    const char *login;    /* --login TENANT:USER: sign in first (password: BENCH_PASSWORD) */
    const char *get_path; /* --get PATH: GET PATH instead of posting events */
} options_t;

static unsigned parse_unsigned(const char *name, const char *text, unsigned low, unsigned high)
{
    char *end = NULL;
    unsigned long value = strtoul(text, &end, 10);
    if (end == text || *end != '\0' || value < low || value > high)
        die("bad value for", name);
    return (unsigned)value;
}

static void options_parse(options_t *options, int argc, char **argv)
{
    *options = (options_t){.threads = 1, .seconds = 2.0, .posters = WS_POSTERS_DEFAULT};
    for (int i = 2; i < argc; i += 2) {
        const char *name = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (value == NULL)
            die("missing value for", name);
        if (strcmp(name, "--port") == 0)
            options->port = (int)parse_unsigned(name, value, 1, 65535);
        else if (strcmp(name, "--connections") == 0)
            options->connections = parse_unsigned(name, value, 1, CONNECTIONS_MAX);
        else if (strcmp(name, "--threads") == 0)
            options->threads = parse_unsigned(name, value, 1, THREADS_MAX);
        else if (strcmp(name, "--expect") == 0)
            options->expect = (int)parse_unsigned(name, value, 100, 599);
        else if (strcmp(name, "--conninfo") == 0)
            options->conninfo = value;
        else if (strcmp(name, "--subscribers") == 0)
            options->subscribers = parse_unsigned(name, value, 1, CONNECTIONS_MAX);
        else if (strcmp(name, "--rate") == 0)
            options->rate = parse_unsigned(name, value, 1, 1000000);
        else if (strcmp(name, "--tls") == 0)
            options->tls_ca = value;
        else if (strcmp(name, "--login") == 0)
            options->login = value;
        else if (strcmp(name, "--get") == 0) {
            if (value[0] != '/' || strlen(value) >= PATH_BYTES_MAX)
                die("bad value for", name);
            options->get_path = value;
        } else if (strcmp(name, "--posters") == 0)
            options->posters = parse_unsigned(name, value, 1, WS_POSTERS_MAX);
        else if (strcmp(name, "--seconds") == 0) {
            options->seconds = strtod(value, NULL);
            if (!(options->seconds > 0 && options->seconds <= SECONDS_MAX))
                die("bad value for", name);
        } else
            die("unknown option", name);
    }
}

/* One line for bench/http.sh: the rate counts answers within the timed window only. */
static void report(const char *mode, unsigned clients, uint64_t in_window, uint64_t errors,
                   double seconds, const hist_t *hist)
{
    printf("mode=%s clients=%u requests=%" PRIu64 " errors=%" PRIu64 " seconds=%.3f per_s=%.0f "
           "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
           mode, clients, in_window, errors, seconds, (double)in_window / seconds,
           hist_quantile(hist, 0.50) / 1000, hist_quantile(hist, 0.90) / 1000,
           hist_quantile(hist, 0.99) / 1000, (double)hist->max / 1000);
}

/* ---- http: keep-alive connections on epoll, one request in flight on each. ---- */

typedef struct {
    link_t link;
    uint32_t client;
    uint64_t counter;
    char out[REQUEST_BYTES_MAX];
    size_t out_len, out_sent;
    char in[RESPONSE_BYTES_MAX];
    size_t in_len;
    uint64_t sent_ns;
    bool busy; /* a request is in flight */
} http_conn_t;

typedef struct {
    const options_t *options;
    http_conn_t *conns;
    unsigned count;
    uint64_t start_ns, end_ns;
    hist_t hist;
    uint64_t in_window, errors;
} http_thread_t;

/* Writes what is left of the connection's request; false when the connection failed. */
static bool http_flush(http_conn_t *conn)
{
    while (conn->out_sent < conn->out_len) {
        ssize_t n =
            link_send(&conn->link, conn->out + conn->out_sent, conn->out_len - conn->out_sent);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n <= 0)
            return false;
        conn->out_sent += (size_t)n;
    }
    return true;
}

static bool http_send_next(http_conn_t *conn, const char *get_path)
{
    if (get_path != NULL) {
        conn->out_len = get_request(conn->out, sizeof(conn->out), get_path);
    } else {
        event_names_t names;
        event_names(&names, conn->client, conn->counter++);
        conn->out_len = event_request(conn->out, sizeof(conn->out), &names, wall_us());
    }
    conn->out_sent = 0;
    conn->busy = true;
    conn->sent_ns = now_ns();
    return http_flush(conn);
}

/* Reads what arrived; on a complete answer records it and sends the next request while the
 * window is open. Returns false when the connection is lost. */
static bool http_readable(http_thread_t *thread, http_conn_t *conn)
{
    for (;;) {
        ssize_t n =
            link_recv(&conn->link, conn->in + conn->in_len, sizeof(conn->in) - conn->in_len);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n <= 0)
            return false;
        conn->in_len += (size_t)n;
        int status = 0;
        long len = response_complete(conn->in, conn->in_len, &status);
        if (len < 0 || (len == 0 && conn->in_len == sizeof(conn->in)))
            return false;
        if (len == 0)
            continue;
        uint64_t done = now_ns();
        hist_add(&thread->hist, (done - conn->sent_ns) / NS_PER_US);
        if (status != thread->options->expect) {
            thread->errors++;
            show_error("unexpected answer", conn->in, (size_t)len);
        } else if (done <= thread->end_ns) {
            thread->in_window++;
        }
        memmove(conn->in, conn->in + len, conn->in_len - (size_t)len);
        conn->in_len -= (size_t)len;
        conn->busy = false;
        if (done < thread->end_ns && !http_send_next(conn, thread->options->get_path))
            return false;
    }
}

static void *http_thread_main(void *data)
{
    http_thread_t *thread = data;
    int epoll = epoll_create1(0);
    if (epoll < 0)
        die("epoll_create1", strerror(errno));
    for (unsigned i = 0; i < thread->count; i++) {
        struct epoll_event event = {.events = EPOLLIN | EPOLLOUT | EPOLLET,
                                    .data.ptr = &thread->conns[i]};
        if (epoll_ctl(epoll, EPOLL_CTL_ADD, thread->conns[i].link.fd, &event) != 0)
            die("epoll_ctl", strerror(errno));
    }
    sleep_until_ns(thread->start_ns);
    unsigned busy = 0;
    for (unsigned i = 0; i < thread->count; i++) {
        if (!http_send_next(&thread->conns[i], thread->options->get_path))
            die("send", "connection lost at the start");
        busy++;
    }
    struct epoll_event events[EPOLL_EVENTS];
    uint64_t deadline = thread->end_ns + (uint64_t)(DRAIN_SECONDS * NS_PER_S);
    while (busy > 0 && now_ns() < deadline) {
        int ready = epoll_wait(epoll, events, EPOLL_EVENTS, 10);
        for (int e = 0; e < ready; e++) {
            http_conn_t *conn = events[e].data.ptr;
            if (conn->link.fd < 0)
                continue;
            bool ok = true;
            if (events[e].events & EPOLLOUT)
                ok = http_flush(conn);
            if (ok && (events[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                ok = http_readable(thread, conn);
            if (!ok) {
                thread->errors++;
                show_error("connection lost", "", 0);
                link_close(&conn->link);
                conn->busy = false;
            }
        }
        busy = 0;
        for (unsigned i = 0; i < thread->count; i++)
            busy += thread->conns[i].busy;
    }
    thread->errors += busy; /* requests never answered */
    close(epoll);
    return NULL;
}

static int run_http(const options_t *options)
{
    if (options->port == 0 || options->connections == 0 || options->expect == 0)
        die("http needs", "--port, --connections and --expect");
    unsigned threads =
        options->threads < options->connections ? options->threads : options->connections;
    http_conn_t *conns = xcalloc(options->connections, sizeof(*conns));
    http_thread_t *workers = xcalloc(threads, sizeof(*workers));
    for (unsigned i = 0; i < options->connections; i++) {
        conns[i].link = link_open(options->port);
        conns[i].client = i;
        set_nonblocking(conns[i].link.fd);
    }
    uint64_t start = now_ns() + NS_PER_S / 10;
    uint64_t end = start + (uint64_t)(options->seconds * NS_PER_S);
    pthread_t ids[THREADS_MAX];
    for (unsigned t = 0, first = 0; t < threads; t++) {
        unsigned count = options->connections / threads + (t < options->connections % threads);
        workers[t] = (http_thread_t){.options = options,
                                     .conns = conns + first,
                                     .count = count,
                                     .start_ns = start,
                                     .end_ns = end};
        first += count;
        if (pthread_create(&ids[t], NULL, http_thread_main, &workers[t]) != 0)
            die("pthread_create", "");
    }
    hist_t *hist = xcalloc(1, sizeof(*hist));
    uint64_t in_window = 0, errors = 0;
    for (unsigned t = 0; t < threads; t++) {
        pthread_join(ids[t], NULL);
        hist_merge(hist, &workers[t].hist);
        in_window += workers[t].in_window;
        errors += workers[t].errors;
    }
    for (unsigned i = 0; i < options->connections; i++)
        link_close(&conns[i].link);
    report(options->get_path != NULL ? "get" : "http", options->connections, in_window, errors,
           options->seconds, hist);
    free(hist);
    free(workers);
    free(conns);
    return errors == 0 ? 0 : 1;
}

/* ---- pg and redis: one blocking client per thread, all started together. ---- */

typedef struct {
    const options_t *options;
    uint32_t client;
    pthread_barrier_t *ready;
    uint64_t start_ns, end_ns;
    hist_t hist;
    uint64_t in_window, errors;
} client_thread_t;

#define PG_INSERT                                                                                  \
    "INSERT INTO events (id, stream, type, payload, recorded_at) "                                 \
    "VALUES ($1::uuid, $2, $3, $4::jsonb, now())"

static void *pg_thread_main(void *data)
{
    client_thread_t *thread = data;
    PGconn *pg = PQconnectdb(thread->options->conninfo);
    if (PQstatus(pg) != CONNECTION_OK)
        die("PQconnectdb", PQerrorMessage(pg));
    PGresult *result = PQprepare(pg, "insert_event", PG_INSERT, 4, NULL);
    if (PQresultStatus(result) != PGRES_COMMAND_OK)
        die("PQprepare", PQerrorMessage(pg));
    PQclear(result);
    pthread_barrier_wait(thread->ready);
    sleep_until_ns(thread->start_ns);
    for (uint64_t counter = 0;; counter++) {
        uint64_t sent = now_ns();
        if (sent >= thread->end_ns)
            break;
        event_names_t names;
        event_names(&names, thread->client, counter);
        char payload[EVENT_BYTES_MAX];
        payload_json(payload, sizeof(payload), &names);
        const char *values[4] = {names.id, names.stream, "GoodsReceived", payload};
        result = PQexecPrepared(pg, "insert_event", 4, values, NULL, NULL, 0);
        uint64_t done = now_ns();
        hist_add(&thread->hist, (done - sent) / NS_PER_US);
        if (PQresultStatus(result) != PGRES_COMMAND_OK) {
            thread->errors++;
            const char *message = PQerrorMessage(pg);
            show_error("INSERT", message, strlen(message));
        } else if (done <= thread->end_ns) {
            thread->in_window++;
        }
        PQclear(result);
    }
    PQfinish(pg);
    return NULL;
}

static void *redis_thread_main(void *data)
{
    client_thread_t *thread = data;
    redisContext *redis = redisConnect("127.0.0.1", thread->options->port);
    if (redis == NULL || redis->err)
        die("redisConnect", redis != NULL ? redis->errstr : "no memory");
    pthread_barrier_wait(thread->ready);
    sleep_until_ns(thread->start_ns);
    for (uint64_t counter = 0;; counter++) {
        uint64_t sent = now_ns();
        if (sent >= thread->end_ns)
            break;
        event_names_t names;
        event_names(&names, thread->client, counter);
        char payload[EVENT_BYTES_MAX];
        payload_json(payload, sizeof(payload), &names);
        redisReply *reply = redisCommand(redis,
                                         "XADD events * id %s type GoodsReceived stream %s "
                                         "payload %s",
                                         names.id, names.stream, payload);
        uint64_t done = now_ns();
        hist_add(&thread->hist, (done - sent) / NS_PER_US);
        if (reply == NULL)
            die("XADD", redis->errstr);
        if (reply->type != REDIS_REPLY_STRING) {
            thread->errors++;
            show_error("XADD", reply->str != NULL ? reply->str : "", reply->len);
        } else if (done <= thread->end_ns) {
            thread->in_window++;
        }
        freeReplyObject(reply);
    }
    redisFree(redis);
    return NULL;
}

static int run_clients(const options_t *options, const char *mode, void *(*main)(void *))
{
    if (options->connections == 0)
        die(mode, "needs --connections");
    unsigned count = options->connections;
    client_thread_t *threads = xcalloc(count, sizeof(*threads));
    pthread_t *ids = xcalloc(count, sizeof(*ids));
    pthread_barrier_t ready;
    pthread_barrier_init(&ready, NULL, count + 1);
    for (unsigned i = 0; i < count; i++) {
        threads[i] = (client_thread_t){.options = options, .client = i, .ready = &ready};
        if (pthread_create(&ids[i], NULL, main, &threads[i]) != 0)
            die("pthread_create", "");
    }
    /* Every client is connected (and prepared) before the window opens. */
    uint64_t start = now_ns() + NS_PER_S / 10;
    for (unsigned i = 0; i < count; i++) {
        threads[i].start_ns = start;
        threads[i].end_ns = start + (uint64_t)(options->seconds * NS_PER_S);
    }
    pthread_barrier_wait(&ready);
    hist_t *hist = xcalloc(1, sizeof(*hist));
    uint64_t in_window = 0, errors = 0;
    for (unsigned i = 0; i < count; i++) {
        pthread_join(ids[i], NULL);
        hist_merge(hist, &threads[i].hist);
        in_window += threads[i].in_window;
        errors += threads[i].errors;
    }
    pthread_barrier_destroy(&ready);
    report(mode, count, in_window, errors, options->seconds, hist);
    free(hist);
    free(ids);
    free(threads);
    return errors == 0 ? 0 : 1;
}

/* ---- ws: subscribers on one epoll thread, posters on their own threads. ---- */

typedef struct {
    int fd;
    char in[WS_BUFFER_BYTES];
    size_t in_len;
    uint64_t next_seq; /* 0 until the first event */
    bool closed;
} ws_sub_t;

typedef struct {
    const options_t *options;
    unsigned index;
    uint64_t base_seq;             /* the head before the first post */
    uint64_t start_ns;             /* the first slot */
    int64_t start_wall_us;         /* the same instant on the wall clock */
    uint64_t total;                /* events of the whole run, over all posters */
    _Atomic int64_t *ack_us;       /* by seq - base_seq - 1: wall time of the 201, 0 before */
    uint64_t posted, errors, late; /* late: sent more than WS_LATE_US after its slot */
    int64_t last_ack_us;
    hist_t post; /* each POST's latency, send to 201 */
} ws_poster_t;

typedef struct {
    hist_t from_occurred, from_ack, from_recorded;
    uint64_t delivered, gaps, closed;
    uint64_t seq_limit; /* observe: deliveries past it (after the final head) are not counted */
} ws_tally_t;

/* Sends a request on a blocking connection and reads one whole answer into in. */
static int http_exchange(link_t *link, const char *request, size_t len, char *in, size_t size)
{
    link_send_all(link, request, len);
    size_t have = 0;
    int status = 0;
    for (;;) {
        ssize_t n = link_recv(link, in + have, size - 1 - have);
        if (n <= 0)
            die("recv", n < 0 ? strerror(errno) : "closed");
        have += (size_t)n;
        in[have] = '\0';
        long complete = response_complete(in, have, &status);
        if (complete < 0)
            die("malformed answer", in);
        if (complete > 0)
            return status;
        if (have == size - 1)
            die("answer too large", "");
    }
}

/* Events acknowledged so far, and posters still posting: the subscribers' reader waits for
 * every subscriber to receive every acknowledged event once the posters are done. */
static _Atomic uint64_t ws_posted;
static atomic_uint ws_posters_running;

static void *ws_poster_main(void *data)
{
    ws_poster_t *poster = data;
    const options_t *options = poster->options;
    link_t link = link_open(options->port);
    char request[REQUEST_BYTES_MAX], answer[RESPONSE_BYTES_MAX];
    uint64_t slot_ns = NS_PER_S / options->rate;
    uint64_t end_ns = poster->start_ns + (uint64_t)(options->seconds * NS_PER_S);
    for (uint64_t i = poster->index; i < poster->total; i += options->posters) {
        /* Open loop: an event occurs at its slot and is posted then, or as soon as the poster
         * is free when foutad answers slower than the slots come. Behind at the window's end,
         * the poster stops: the rate achieved is reported. */
        sleep_until_ns(poster->start_ns + i * slot_ns);
        if (now_ns() >= end_ns)
            break;
        event_names_t names;
        event_names(&names, poster->index, i);
        int64_t occurred = poster->start_wall_us + (int64_t)(i * slot_ns / NS_PER_US);
        int64_t sent = wall_us();
        poster->late += sent > occurred + WS_LATE_US;
        size_t len = event_request(request, sizeof(request), &names, occurred);
        int status = http_exchange(&link, request, len, answer, sizeof(answer));
        int64_t acked = wall_us();
        hist_add(&poster->post, acked > sent ? (uint64_t)(acked - sent) : 0);
        uint64_t seq = 0;
        if (status != 201 || !json_u64(answer, strlen(answer), "\"seq\":", &seq) ||
            seq <= poster->base_seq || seq > poster->base_seq + poster->total) {
            poster->errors++;
            show_error("post", answer, strlen(answer));
            continue;
        }
        atomic_store(&poster->ack_us[seq - poster->base_seq - 1], acked);
        atomic_fetch_add(&ws_posted, 1);
        poster->posted++;
        poster->last_ack_us = acked;
    }
    link_close(&link);
    atomic_fetch_sub(&ws_posters_running, 1);
    return NULL;
}

/* Subscribes to the whole tenant: from from_seq, or from now when it is 0. */
static void ws_open(ws_sub_t *sub, int port, uint64_t from_seq)
{
    sub->fd = connect_loopback(port);
    char upgrade[REQUEST_BYTES_MAX], query[48] = "";
    if (from_seq != 0)
        snprintf(query, sizeof(query), "?from_seq=%" PRIu64, from_seq);
    int len = snprintf(upgrade, sizeof(upgrade),
                       "GET /api/v1/ws%s HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n%s\r\n",
                       query, auth_line);
    assert(len > 0 && (size_t)len < sizeof(upgrade));
    send_all(sub->fd, upgrade, (size_t)len);
    for (;;) {
        ssize_t n = recv(sub->fd, sub->in + sub->in_len, sizeof(sub->in) - 1 - sub->in_len, 0);
        if (n <= 0)
            die("ws upgrade", n < 0 ? strerror(errno) : "closed");
        sub->in_len += (size_t)n;
        const char *end = find(sub->in, sub->in_len, "\r\n\r\n");
        if (end == NULL)
            continue;
        if (strncmp(sub->in, "HTTP/1.1 101", 12) != 0)
            die("ws upgrade refused", sub->in);
        size_t head = (size_t)(end - sub->in) + 4;
        memmove(sub->in, sub->in + head, sub->in_len - head);
        sub->in_len -= head;
        set_nonblocking(sub->fd);
        return;
    }
}

/* Answers a ping with a pong (client frames are masked; a zero mask keeps the bytes). */
static void ws_pong(ws_sub_t *sub, const char *payload, size_t len)
{
    if (len > 125)
        return;
    char frame[2 + 4 + 125] = {(char)0x8a, (char)(0x80 | len), 0, 0, 0, 0};
    memcpy(frame + 6, payload, len);
    (void)!send(sub->fd, frame, 6 + len, MSG_NOSIGNAL);
}

static void ws_message(const ws_poster_t *posters, ws_tally_t *tally, ws_sub_t *sub,
                       const char *text, size_t len)
{
    if (find(text, len, "\"kind\":\"event\"") == NULL)
        return;
    int64_t received = wall_us();
    uint64_t seq = 0, occurred = 0, recorded = 0;
    if (!json_u64(text, len, "\"seq\":", &seq) ||
        !json_u64(text, len, "\"occurred_at_us\":", &occurred) ||
        !json_u64(text, len, "\"recorded_at_us\":", &recorded))
        return;
    if (sub->next_seq != 0 && seq != sub->next_seq)
        tally->gaps++;
    sub->next_seq = seq + 1;
    if (tally->seq_limit != 0 && seq > tally->seq_limit)
        return;
    tally->delivered++;
    hist_add(&tally->from_occurred,
             received > (int64_t)occurred ? (uint64_t)received - occurred : 0);
    hist_add(&tally->from_recorded,
             received > (int64_t)recorded ? (uint64_t)received - recorded : 0);
    if (posters == NULL)
        return; /* observe: the posts are someone else's */
    const ws_poster_t *any = &posters[0];
    if (seq > any->base_seq && seq <= any->base_seq + any->total) {
        int64_t acked = atomic_load(&any->ack_us[seq - any->base_seq - 1]);
        /* Delivered before the poster read its ack: no delay after the ack. */
        hist_add(&tally->from_ack,
                 acked != 0 && received > acked ? (uint64_t)(received - acked) : 0);
    }
}

/* Takes every complete frame off the subscriber's buffer. */
static void ws_frames(const ws_poster_t *posters, ws_tally_t *tally, ws_sub_t *sub)
{
    size_t at = 0;
    for (;;) {
        const uint8_t *b = (const uint8_t *)sub->in + at;
        size_t have = sub->in_len - at;
        if (have < 2)
            break;
        size_t len = b[1] & 0x7f, head = 2;
        if (len == 126) {
            if (have < 4)
                break;
            len = (size_t)b[2] << 8 | b[3];
            head = 4;
        } else if (len == 127) {
            if (have < 10)
                break;
            len = 0;
            for (int i = 2; i < 10; i++)
                len = len << 8 | b[i];
            head = 10;
        }
        if (head + len > sizeof(sub->in))
            die("ws frame", "larger than the subscriber's buffer");
        if (have < head + len)
            break;
        int opcode = b[0] & 0x0f;
        const char *payload = (const char *)b + head;
        if (opcode == 1)
            ws_message(posters, tally, sub, payload, len);
        else if (opcode == 9)
            ws_pong(sub, payload, len);
        else if (opcode == 8)
            sub->closed = true;
        at += head + len;
    }
    memmove(sub->in, sub->in + at, sub->in_len - at);
    sub->in_len -= at;
}

/* Whether every subscriber has received each event up to seq (observe's drain). */
static bool ws_all_reached(const ws_sub_t *subs, unsigned count, uint64_t seq)
{
    for (unsigned i = 0; i < count; i++)
        if (!subs[i].closed && subs[i].next_seq <= seq)
            return false;
    return true;
}

/* Reads every subscriber until all deliveries arrived or the drain time is over. With no
 * posters (observe), until the deadline, or once each has reached tally->seq_limit. */
static void ws_receive(const options_t *options, ws_sub_t *subs, const ws_poster_t *posters,
                       ws_tally_t *tally, uint64_t deadline_ns)
{
    int epoll = epoll_create1(0);
    if (epoll < 0)
        die("epoll_create1", strerror(errno));
    for (unsigned i = 0; i < options->subscribers; i++) {
        struct epoll_event event = {.events = EPOLLIN, .data.ptr = &subs[i]};
        if (epoll_ctl(epoll, EPOLL_CTL_ADD, subs[i].fd, &event) != 0)
            die("epoll_ctl", strerror(errno));
    }
    struct epoll_event events[EPOLL_EVENTS];
    while (now_ns() < deadline_ns) {
        if (posters == NULL) {
            if (tally->seq_limit != 0 &&
                ws_all_reached(subs, options->subscribers, tally->seq_limit))
                break;
        } else if (atomic_load(&ws_posters_running) == 0 &&
                   tally->delivered >= options->subscribers * atomic_load(&ws_posted)) {
            break;
        }
        int ready = epoll_wait(epoll, events, EPOLL_EVENTS, 10);
        for (int e = 0; e < ready; e++) {
            ws_sub_t *sub = events[e].data.ptr;
            for (;;) {
                ssize_t n = recv(sub->fd, sub->in + sub->in_len, sizeof(sub->in) - sub->in_len, 0);
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                    break;
                if (n <= 0) {
                    epoll_ctl(epoll, EPOLL_CTL_DEL, sub->fd, NULL);
                    sub->closed = true;
                    break;
                }
                sub->in_len += (size_t)n;
                ws_frames(posters, tally, sub);
            }
        }
    }
    close(epoll);
}

/* The head sequence before the run (GET /api/v1/head). */
static uint64_t head_seq(int port)
{
    link_t link = link_open(port);
    char request[REQUEST_BYTES_MAX], answer[RESPONSE_BYTES_MAX];
    size_t len = get_request(request, sizeof(request), "/api/v1/head");
    uint64_t seq = 0;
    if (http_exchange(&link, request, len, answer, sizeof(answer)) != 200 ||
        !json_u64(answer, strlen(answer), "\"seq\":", &seq))
        die("GET /api/v1/head", answer);
    link_close(&link);
    return seq;
}

static int run_ws(const options_t *options)
{
    if (options->port == 0 || options->subscribers == 0 || options->rate == 0)
        die("ws needs", "--port, --subscribers and --rate");
    uint64_t total = (uint64_t)(options->seconds * options->rate);
    if (total == 0 || total > WS_EVENTS_MAX)
        die("ws", "rate times seconds out of range");
    ws_sub_t *subs = xcalloc(options->subscribers, sizeof(*subs));
    for (unsigned i = 0; i < options->subscribers; i++)
        ws_open(&subs[i], options->port, 0);
    _Atomic int64_t *ack_us = xcalloc(total, sizeof(*ack_us));
    ws_poster_t posters[WS_POSTERS_MAX];
    uint64_t base = head_seq(options->port);
    uint64_t start = now_ns() + NS_PER_S / 5; /* the subscriptions are registered by then */
    int64_t start_wall = wall_us() + (int64_t)((start - now_ns()) / NS_PER_US);
    atomic_store(&ws_posters_running, options->posters);
    pthread_t ids[WS_POSTERS_MAX];
    for (unsigned p = 0; p < options->posters; p++) {
        posters[p] = (ws_poster_t){.options = options,
                                   .index = p,
                                   .base_seq = base,
                                   .start_ns = start,
                                   .start_wall_us = start_wall,
                                   .total = total,
                                   .ack_us = ack_us};
        if (pthread_create(&ids[p], NULL, ws_poster_main, &posters[p]) != 0)
            die("pthread_create", "");
    }
    ws_tally_t *tally = xcalloc(1, sizeof(*tally));
    uint64_t deadline = start + (uint64_t)((options->seconds + WS_DRAIN_SECONDS) * NS_PER_S);
    ws_receive(options, subs, posters, tally, deadline);
    uint64_t posted = 0, errors = 0, late = 0;
    int64_t last_ack = start_wall;
    hist_t *post = xcalloc(1, sizeof(*post));
    for (unsigned p = 0; p < options->posters; p++) {
        pthread_join(ids[p], NULL);
        posted += posters[p].posted;
        errors += posters[p].errors;
        late += posters[p].late;
        if (posters[p].last_ack_us > last_ack)
            last_ack = posters[p].last_ack_us;
        hist_merge(post, &posters[p].post);
    }
    double posting_s = (double)(last_ack - start_wall) / 1e6;
    for (unsigned i = 0; i < options->subscribers; i++) {
        tally->closed += subs[i].closed;
        close(subs[i].fd);
    }
    uint64_t expected = posted * options->subscribers;
    printf("mode=ws subscribers=%u rate=%u scheduled=%" PRIu64 " posted=%" PRIu64
           " posted_per_s=%.0f late=%" PRIu64 " post_errors=%" PRIu64 " expected=%" PRIu64
           " delivered=%" PRIu64 " gaps=%" PRIu64 " closed=%" PRIu64 " p50_ms=%.3f p99_ms=%.3f "
           "max_ms=%.3f ack_p50_ms=%.3f ack_p99_ms=%.3f post_p50_ms=%.3f post_p99_ms=%.3f\n",
           options->subscribers, options->rate, total, posted,
           posting_s > 0 ? (double)posted / posting_s : 0, late, errors, expected, tally->delivered,
           tally->gaps, tally->closed, hist_quantile(&tally->from_occurred, 0.5) / 1000,
           hist_quantile(&tally->from_occurred, 0.99) / 1000,
           (double)tally->from_occurred.max / 1000, hist_quantile(&tally->from_ack, 0.5) / 1000,
           hist_quantile(&tally->from_ack, 0.99) / 1000, hist_quantile(post, 0.5) / 1000,
           hist_quantile(post, 0.99) / 1000);
    bool complete =
        errors == 0 && tally->delivered == expected && tally->gaps == 0 && posted == total;
    free(post);
    free(tally);
    free(ack_us);
    free(subs);
    return complete ? 0 : 1;
}

/* The subscribers alone: every event from the head at the start, posted by someone else. */
static int run_observe(const options_t *options)
{
    if (options->port == 0 || options->subscribers == 0)
        die("observe needs", "--port and --subscribers");
    uint64_t base = head_seq(options->port);
    ws_sub_t *subs = xcalloc(options->subscribers, sizeof(*subs));
    for (unsigned i = 0; i < options->subscribers; i++)
        ws_open(&subs[i], options->port, base + 1);
    ws_tally_t *tally = xcalloc(1, sizeof(*tally));
    uint64_t start = now_ns();
    ws_receive(options, subs, NULL, tally, start + (uint64_t)(options->seconds * NS_PER_S));
    uint64_t head = head_seq(options->port);
    double seconds = (double)(now_ns() - start) / 1e9;
    tally->seq_limit = head;
    if (head > base) /* else nothing was posted: nothing to wait for */
        ws_receive(options, subs, NULL, tally, now_ns() + (uint64_t)(WS_DRAIN_SECONDS * NS_PER_S));
    uint64_t missing = 0;
    for (unsigned i = 0; i < options->subscribers; i++) {
        uint64_t reached = subs[i].next_seq != 0 ? subs[i].next_seq - 1 : base;
        missing += head > reached ? head - reached : 0;
        tally->closed += subs[i].closed;
        close(subs[i].fd);
    }
    uint64_t events = head - base;
    printf("mode=observe subscribers=%u seconds=%.3f events=%" PRIu64
           " per_s=%.0f expected=%" PRIu64 " delivered=%" PRIu64 " missing=%" PRIu64
           " gaps=%" PRIu64 " closed=%" PRIu64 " p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
           options->subscribers, seconds, events, seconds > 0 ? (double)events / seconds : 0,
           events * options->subscribers, tally->delivered, missing, tally->gaps, tally->closed,
           hist_quantile(&tally->from_recorded, 0.5) / 1000,
           hist_quantile(&tally->from_recorded, 0.99) / 1000,
           (double)tally->from_recorded.max / 1000);
    bool complete = missing == 0 && tally->gaps == 0 && tally->closed == 0;
    free(tally);
    free(subs);
    return complete ? 0 : 1;
}

/* ---- Signing in: one POST /api/v1/auth/login before the run, like an app at its start. ---- */

/* Signs in as TENANT:USER with the password of BENCH_PASSWORD and keeps the access token's
 * Authorization line for every request of the run. The token lives for foutad's --access-ttl
 * (15 minutes by default), far longer than a run. */
static void sign_in(const options_t *options)
{
    const char *colon = strchr(options->login, ':');
    const char *password = getenv("BENCH_PASSWORD");
    if (colon == NULL || password == NULL || strpbrk(options->login, "\"\\") != NULL ||
        strpbrk(password, "\"\\") != NULL)
        die("--login TENANT:USER needs", "BENCH_PASSWORD (no quote or backslash in any)");
    char body[512], request[REQUEST_BYTES_MAX], answer[RESPONSE_BYTES_MAX];
    int body_len =
        snprintf(body, sizeof(body), "{\"tenant\":\"%.*s\",\"user\":\"%s\",\"password\":\"%s\"}",
                 (int)(colon - options->login), options->login, colon + 1, password);
    if (body_len < 0 || (size_t)body_len >= sizeof(body))
        die("--login", "too long");
    int len = snprintf(request, sizeof(request),
                       "POST /api/v1/auth/login HTTP/1.1\r\nHost: bench\r\n"
                       "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                       body_len, body);
    assert(len > 0 && (size_t)len < sizeof(request));
    link_t link = link_open(options->port);
    int status = http_exchange(&link, request, (size_t)len, answer, sizeof(answer));
    link_close(&link);
    const char *key = "\"access_token\":\"";
    const char *token = status == 200 ? strstr(answer, key) : NULL;
    if (token == NULL)
        die("sign-in refused",
            strstr(answer, "\r\n\r\n") != NULL ? strstr(answer, "\r\n\r\n") + 4 : "");
    token += strlen(key);
    size_t token_len = strcspn(token, "\"");
    len = snprintf(auth_line, sizeof(auth_line), "Authorization: Bearer %.*s\r\n", (int)token_len,
                   token);
    if (len < 0 || (size_t)len >= sizeof(auth_line))
        die("sign-in", "the access token is too long");
}

/* ---- free-port and main. ---- */

static int run_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
        die("free-port", strerror(errno));
    printf("%d\n", ntohs(addr.sin_port));
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage",
            "bench_http_load free-port | http | pg | redis | ws | observe [--name value ...]");
    run_nonce = (uint32_t)(now_ns() ^ ((uint64_t)getpid() << 16));
    setvbuf(stdout, NULL, _IOLBF, 0);
    options_t options;
    options_parse(&options, argc, argv);
    const char *mode = argv[1];
    if (strcmp(mode, "free-port") == 0)
        return run_free_port();
    if (options.tls_ca != NULL) {
        if (strcmp(mode, "http") != 0)
            die("--tls is for", "the http mode");
        tls_setup(options.tls_ca);
    }
    if (options.login != NULL) {
        if (options.port == 0)
            die("--login needs", "--port");
        sign_in(&options);
    }
    if (strcmp(mode, "http") == 0)
        return run_http(&options);
    if (strcmp(mode, "pg") == 0) {
        if (options.conninfo == NULL)
            die("pg needs", "--conninfo");
        return run_clients(&options, "pg", pg_thread_main);
    }
    if (strcmp(mode, "redis") == 0) {
        if (options.port == 0)
            die("redis needs", "--port");
        return run_clients(&options, "redis", redis_thread_main);
    }
    if (strcmp(mode, "ws") == 0)
        return run_ws(&options);
    if (strcmp(mode, "observe") == 0)
        return run_observe(&options);
    die("unknown mode", mode);
    return 2;
}
