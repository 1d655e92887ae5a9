/*
 * client.c: the HTTP/1.1 side of the client - one keep-alive connection (TLS for https://
 * URLs: the server's certificate checked against the system's authorities or FOUTA_CA_FILE, and
 * its name against the URL's host), requests written whole and answers read by Content-Length,
 * retries that resend the same bytes after a network error, a 503 or a 429, the verdicts of
 * posted events and the reads of the plant's state.
 */
#define _POSIX_C_SOURCE 200809L
#include "clients/client/client_int.h"

#include <assert.h>
#include <jansson.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---- the connection */

static int parse_url(fc_client_t *client, const char *url)
{
    const char *scheme = "http://";
    if (url != NULL && strncmp(url, "https://", 8) == 0) {
        scheme = "https://";
        client->tls = true;
    }
    if (url == NULL || strncmp(url, scheme, strlen(scheme)) != 0)
        return FL_EINVAL;
    const char *host = url + strlen(scheme);
    size_t host_len = strcspn(host, ":/");
    if (host_len == 0 || host_len >= sizeof(client->host))
        return FL_EINVAL;
    memcpy(client->host, host, host_len);
    client->host[host_len] = '\0';
    const char *rest = host + host_len;
    snprintf(client->port, sizeof(client->port), client->tls ? "443" : "80");
    if (*rest == ':') {
        size_t port_len = strspn(rest + 1, "0123456789");
        if (port_len == 0 || port_len >= sizeof(client->port))
            return FL_EINVAL;
        memcpy(client->port, rest + 1, port_len);
        client->port[port_len] = '\0';
        rest += 1 + port_len;
    }
    if (*rest != '\0' && *rest != '/')
        return FL_EINVAL;
    snprintf(client->prefix, sizeof(client->prefix), "%s", rest);
    size_t len = strlen(client->prefix);
    if (len > 0 && client->prefix[len - 1] == '/')
        client->prefix[len - 1] = '\0';
    return 0;
}

/* The TLS context of an https:// client: TLS 1.2 at least, the peer verified against ca_file,
 * FOUTA_CA_FILE, or else the system's authorities. */
static int tls_context(fc_client_t *client, const char *ca_file)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        return FL_ENOMEM;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* wslay may offer the rest of a frame from another address after a partial write. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (ca_file == NULL)
        ca_file = getenv("FOUTA_CA_FILE");
    int ok = ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
                             : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        SSL_CTX_free(ctx);
        ERR_clear_error();
        return FL_EINVAL;
    }
    client->ssl_ctx = ctx;
    return 0;
}

/* TLS over the connected socket: the handshake, the certificate and the host name. */
static int tls_start(fc_client_t *client)
{
    SSL *ssl = SSL_new(client->ssl_ctx);
    if (ssl == NULL)
        return FL_ENOMEM;
    struct in6_addr ip6;
    struct in_addr ip4;
    bool is_ip =
        inet_pton(AF_INET, client->host, &ip4) == 1 || inet_pton(AF_INET6, client->host, &ip6) == 1;
    int ok = SSL_set_fd(ssl, client->fd);
    if (ok == 1 && is_ip)
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), client->host);
    else if (ok == 1)
        ok = SSL_set_tlsext_host_name(ssl, client->host) == 1 && SSL_set1_host(ssl, client->host);
    if (ok == 1)
        ok = SSL_connect(ssl);
    if (ok != 1) {
        bool untrusted = SSL_get_verify_result(ssl) != X509_V_OK;
        SSL_free(ssl);
        ERR_clear_error();
        /* A certificate that does not prove the host is no network fault: never retried. */
        return untrusted ? FL_ETLS_UNTRUSTED : FL_EIO;
    }
    client->ssl = ssl;
    return 0;
}

ssize_t fc__recv(fc_client_t *client, void *buf, size_t len)
{
    if (client->ssl == NULL)
        return recv(client->fd, buf, len, 0);
    int n = SSL_read(client->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
    if (n > 0)
        return n;
    int error = SSL_get_error(client->ssl, n);
    ERR_clear_error();
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN; /* a non-blocking socket has nothing yet, or a timeout passed */
        return -1;
    }
    if (error == SSL_ERROR_ZERO_RETURN)
        return 0;
    if (error != SSL_ERROR_SYSCALL || errno == 0)
        errno = EIO;
    return -1;
}

ssize_t fc__send(fc_client_t *client, const void *bytes, size_t len)
{
    if (client->ssl == NULL)
        return send(client->fd, bytes, len, MSG_NOSIGNAL);
    int n = SSL_write(client->ssl, bytes, len > INT32_MAX ? INT32_MAX : (int)len);
    if (n > 0)
        return n;
    int error = SSL_get_error(client->ssl, n);
    ERR_clear_error();
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE)
        errno = EAGAIN;
    else if (error != SSL_ERROR_SYSCALL || errno == 0)
        errno = EIO;
    return -1;
}

bool fc__pending(const fc_client_t *client)
{
    return client->ssl != NULL && SSL_pending(client->ssl) > 0;
}

int fc_open(fc_client_t **out, const fc_config_t *config)
{
    *out = NULL;
    fc_client_t *client = calloc(1, sizeof(*client));
    if (client == NULL)
        return FL_ENOMEM;
    client->fd = -1;
    pthread_mutex_init(&client->own_tokens.lock, NULL);
    client->tokens = config->tokens != NULL ? config->tokens : &client->own_tokens;
    client->retries_max = config->retries_max != 0 ? config->retries_max : FC_RETRIES_DEFAULT;
    client->timeout_ms = config->timeout_ms != 0 ? config->timeout_ms : FC_TIMEOUT_MS_DEFAULT;
    int rc = parse_url(client, config->url);
    if (rc == 0 && client->tls)
        rc = tls_context(client, config->ca_file);
    if (rc == 0)
        rc = fc_set_actor(client, config->user != NULL ? config->user : "",
                          config->role != NULL ? config->role : "", config->device);
    if (rc != 0) {
        SSL_CTX_free(client->ssl_ctx);
        pthread_mutex_destroy(&client->own_tokens.lock);
        free(client);
        return rc;
    }
    *out = client;
    return 0;
}

void fc_close(fc_client_t *client)
{
    if (client == NULL)
        return;
    fc__disconnect(client);
    SSL_CTX_free(client->ssl_ctx);
    free(client->in);
    OPENSSL_cleanse(&client->own_tokens.tokens, sizeof(client->own_tokens.tokens));
    OPENSSL_cleanse(client->token, sizeof(client->token));
    pthread_mutex_destroy(&client->own_tokens.lock);
    free(client);
}

uint64_t fc_retries(const fc_client_t *client)
{
    return client->retries;
}

int fc_set_actor(fc_client_t *client, const char *user, const char *role, const char *device)
{
    /* Header values: no control characters, which would split the request. */
    const char *values[] = {user, role, device != NULL ? device : "fouta-client"};
    for (size_t i = 0; i < 3; i++)
        for (const char *p = values[i]; *p != '\0'; p++)
            if ((unsigned char)*p < 0x20)
                return FL_EINVAL;
    if (strlen(user) >= sizeof(client->user) || strlen(role) >= sizeof(client->role) ||
        strlen(values[2]) >= sizeof(client->device))
        return FL_EINVAL;
    snprintf(client->user, sizeof(client->user), "%s", user);
    snprintf(client->role, sizeof(client->role), "%s", role);
    snprintf(client->device, sizeof(client->device), "%s", values[2]);
    return 0;
}

void fc__disconnect(fc_client_t *client)
{
    SSL_free(client->ssl); /* no close_notify: the socket closes at once */
    client->ssl = NULL;
    if (client->fd >= 0)
        close(client->fd);
    client->fd = -1;
    client->in_len = 0;
}

int fc__connect(fc_client_t *client)
{
    if (client->fd >= 0)
        return 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *found;
    if (getaddrinfo(client->host, client->port, &hints, &found) != 0)
        return FL_EINVAL;
    int rc = -ECONNREFUSED;
    for (struct addrinfo *a = found; a != NULL; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) {
            rc = -errno;
            continue;
        }
        struct timeval timeout = {.tv_sec = client->timeout_ms / 1000,
                                  .tv_usec = (client->timeout_ms % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            client->fd = fd;
            client->in_len = 0;
            rc = client->ssl_ctx != NULL ? tls_start(client) : 0;
            if (rc != 0)
                fc__disconnect(client);
            break;
        }
        rc = -errno;
        close(fd);
    }
    freeaddrinfo(found);
    return rc;
}

int fc__send_all(fc_client_t *client, const char *bytes, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = fc__send(client, bytes + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? (errno == EAGAIN ? FL_ETIMEDOUT : -errno) : FL_EIO;
        done += (size_t)n;
    }
    return 0;
}

static bool has_head(const fc_client_t *client)
{
    for (size_t i = 0; i + 3 < client->in_len; i++)
        if (memcmp(client->in + i, "\r\n\r\n", 4) == 0)
            return true;
    return false;
}

int fc__fill(fc_client_t *client, size_t want)
{
    while (want == 0 ? !has_head(client) : client->in_len < want) {
        if (client->in_len == client->in_capacity) {
            size_t capacity = client->in_capacity != 0 ? client->in_capacity * 2 : 16384;
            if (capacity > FC_RESPONSE_BYTES_MAX + FC_HEADERS_BYTES_MAX)
                return FL_ETOOBIG;
            char *in = realloc(client->in, capacity + 1);
            if (in == NULL)
                return FL_ENOMEM;
            client->in = in;
            client->in_capacity = capacity;
        }
        ssize_t n =
            fc__recv(client, client->in + client->in_len, client->in_capacity - client->in_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? (errno == EAGAIN ? FL_ETIMEDOUT : -errno) : FL_EIO;
        client->in_len += (size_t)n;
        client->in[client->in_len] = '\0';
        if (want == 0 && client->in_len > FC_HEADERS_BYTES_MAX && !has_head(client))
            return FL_ETOOBIG;
    }
    return 0;
}

void fc__backoff(uint32_t attempt)
{
    uint64_t ms = FC_RETRY_DELAY_MS;
    for (uint32_t i = 1; i < attempt && ms < FC_RETRY_DELAY_MS_MAX; i++)
        ms *= 2;
    if (ms > FC_RETRY_DELAY_MS_MAX)
        ms = FC_RETRY_DELAY_MS_MAX;
    struct timespec pause = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&pause, NULL);
}

/* The value of a header in a response head, "" when absent. */
static void header_value(const char *head, size_t head_len, const char *name, char *out,
                         size_t size)
{
    out[0] = '\0';
    size_t name_len = strlen(name);
    for (const char *line = head; line < head + head_len;) {
        const char *end = strstr(line, "\r\n");
        if (end == NULL || end == line)
            break;
        if ((size_t)(end - line) > name_len && strncasecmp(line, name, name_len) == 0 &&
            line[name_len] == ':') {
            const char *value = line + name_len + 1;
            while (*value == ' ')
                value++;
            snprintf(out, size, "%.*s", (int)(end - value), value);
            return;
        }
        line = end + 2;
    }
}

/* Reads one answer from the connection into *response. */
static int read_response(fc_client_t *client, fc_response_t *response, bool *close_after)
{
    int rc = fc__fill(client, 0);
    if (rc != 0)
        return rc;
    const char *end = strstr(client->in, "\r\n\r\n");
    size_t head_len = (size_t)(end - client->in) + 4;
    int status;
    if (sscanf(client->in, "HTTP/1.%*d %d", &status) != 1)
        return FL_EIO;
    char value[64];
    header_value(client->in, head_len, "Transfer-Encoding", value, sizeof(value));
    if (value[0] != '\0')
        return FL_EIO; /* foutad answers with Content-Length */
    header_value(client->in, head_len, "Content-Length", value, sizeof(value));
    size_t body_len = strtoull(value, NULL, 10);
    if (body_len > FC_RESPONSE_BYTES_MAX)
        return FL_ETOOBIG;
    header_value(client->in, head_len, "Connection", value, sizeof(value));
    *close_after = strcasecmp(value, "close") == 0;
    if ((rc = fc__fill(client, head_len + body_len)) != 0)
        return rc;
    response->body = malloc(body_len + 1);
    if (response->body == NULL)
        return FL_ENOMEM;
    memcpy(response->body, client->in + head_len, body_len);
    response->body[body_len] = '\0';
    response->body_len = body_len;
    response->status = status;
    memmove(client->in, client->in + head_len + body_len, client->in_len - head_len - body_len);
    client->in_len -= head_len + body_len;
    return 0;
}

/* Sends a request and reads its answer, again on a fresh connection after a network error, a
 * 503 or a 429, with the same bytes, at most retries_max times. */
static int request(fc_client_t *client, const char *method, const char *path, const char *body,
                   size_t body_len, fc_response_t *response)
{
    char head[FC_URL_LEN_MAX * 2 + 2048], auth[1400];
    memset(response, 0, sizeof(*response));
    int rc = FL_EIO, head_len = 0;
    bool renewed = false;
    for (uint32_t attempt = 0; attempt <= client->retries_max; attempt++) {
        if (attempt > 0) {
            client->retries++;
            fc__backoff(attempt);
        }
        if (head_len == 0) { /* first, and again once the token was renewed */
            int auth_len = fc_auth_headers(client, auth, sizeof(auth));
            if (auth_len < 0)
                return auth_len;
            head_len =
                snprintf(head, sizeof(head),
                         "%s %s%s HTTP/1.1\r\nHost: %s:%s\r\n%s%sContent-Length: %zu\r\n\r\n",
                         method, client->prefix, path, client->host, client->port, auth,
                         body != NULL ? "Content-Type: application/json\r\n" : "", body_len);
            if (head_len < 0 || (size_t)head_len >= sizeof(head))
                return FL_ETOOBIG;
        }
        bool close_after = false;
        if ((rc = fc__connect(client)) != 0 ||
            (rc = fc__send_all(client, head, (size_t)head_len)) != 0 ||
            (body_len > 0 && (rc = fc__send_all(client, body, body_len)) != 0) ||
            (rc = read_response(client, response, &close_after)) != 0) {
            fc__disconnect(client);
            if (rc == FL_ENOMEM || rc == FL_ETOOBIG || rc == FL_EINVAL || rc == FL_ETLS_UNTRUSTED)
                return rc;
            continue;
        }
        if (close_after)
            fc__disconnect(client);
        /* An access token lives 15 minutes: one that expired is signed in again, once. */
        if (response->status == 401 && !renewed && fc__auth_renew(client)) {
            renewed = true;
            head_len = 0;
            fc_response_free(response);
            attempt--; /* not a retry of the network's */
            continue;
        }
        if (response->status != 503 && response->status != 429)
            return 0;
        /* 503: the append queue is full, or the ledger is closing; 429: this address's rate
         * limit. Both pass: retry, backing off. */
        rc = response->status == 429 ? FL_ERATE_LIMITED : FL_EBUSY;
        fc_response_free(response);
        fc__disconnect(client);
    }
    return rc;
}

void fc_response_free(fc_response_t *response)
{
    free(response->body);
    response->body = NULL;
    response->body_len = 0;
}

int fc_code_from_name(const char *name)
{
#define FC_NAME_CODE(code_name, value, status, message)                                            \
    if (strcmp(name, #code_name) == 0)                                                             \
        return FL_E##code_name;
    FL_ERR_MAP(FC_NAME_CODE)
#undef FC_NAME_CODE
    return FL_EINTERNAL;
}

/* ---- verdicts and problems */

static void copy_member(json_t *object, const char *key, char *out, size_t size)
{
    const char *text = json_string_value(json_object_get(object, key));
    snprintf(out, size, "%s", text != NULL ? text : "");
}

/* A problem object into *problem; returns its code. */
static int problem_from(json_t *object, int status, fc_problem_t *problem)
{
    memset(problem, 0, sizeof(*problem));
    problem->status = status;
    copy_member(object, "code", problem->code, sizeof(problem->code));
    copy_member(object, "field", problem->field, sizeof(problem->field));
    copy_member(object, "detail", problem->message, sizeof(problem->message));
    if (problem->code[0] == '\0') {
        snprintf(problem->code, sizeof(problem->code), "HTTP_%d", status);
        return FL_EINTERNAL;
    }
    return fc_code_from_name(problem->code);
}

static void verdict_from(json_t *object, int status, fc_verdict_t *verdict)
{
    memset(verdict, 0, sizeof(*verdict));
    verdict->status = status;
    if (status == 200 || status == 201) {
        verdict->seq = (uint64_t)json_integer_value(json_object_get(object, "seq"));
        verdict->duplicate = json_is_true(json_object_get(object, "duplicate"));
        return;
    }
    verdict->rc = problem_from(object, status, &verdict->problem);
}

int fc_post_event(fc_client_t *client, const char *json, size_t len, fc_verdict_t *verdict)
{
    fc_response_t response;
    memset(verdict, 0, sizeof(*verdict));
    int rc = request(client, "POST", "/api/v1/events", json, len, &response);
    if (rc != 0) {
        verdict->rc = rc;
        return rc;
    }
    json_t *root = json_loadb(response.body, response.body_len, 0, NULL);
    if (root == NULL)
        rc = FL_EIO;
    else
        verdict_from(root, response.status, verdict);
    json_decref(root);
    fc_response_free(&response);
    return rc != 0 ? rc : verdict->rc;
}

int fc_post_batch(fc_client_t *client, const char *const *events, const size_t *lens,
                  uint32_t count, fc_verdict_t *verdicts)
{
    if (count == 0 || count > FC_BATCH_EVENTS_MAX)
        return FL_EINVAL;
    size_t total = 2 + count;
    for (uint32_t i = 0; i < count; i++)
        total += lens[i];
    char *body = malloc(total + 1);
    if (body == NULL)
        return FL_ENOMEM;
    size_t at = 0;
    body[at++] = '[';
    for (uint32_t i = 0; i < count; i++) {
        if (i > 0)
            body[at++] = ',';
        memcpy(body + at, events[i], lens[i]);
        at += lens[i];
    }
    body[at++] = ']';
    fc_response_t response;
    memset(verdicts, 0, count * sizeof(*verdicts));
    int rc = request(client, "POST", "/api/v1/events", body, at, &response);
    free(body);
    if (rc != 0)
        return rc;
    json_t *root = json_loadb(response.body, response.body_len, 0, NULL);
    json_t *results = json_object_get(root, "results");
    if (root == NULL) {
        rc = FL_EIO;
    } else if (response.status >= 300 && response.status != 207) {
        rc = problem_from(root, response.status, &verdicts[0].problem); /* the whole request */
        for (uint32_t i = 0; i < count; i++) {
            verdicts[i].rc = rc;
            verdicts[i].status = response.status;
            verdicts[i].problem = verdicts[0].problem;
        }
    } else if (!json_is_array(results) || json_array_size(results) != count) {
        rc = FL_EIO;
    } else {
        for (uint32_t i = 0; i < count; i++) {
            json_t *result = json_array_get(results, i);
            verdict_from(result, (int)json_integer_value(json_object_get(result, "status")),
                         &verdicts[i]);
        }
    }
    json_decref(root);
    fc_response_free(&response);
    return rc;
}

/* ---- reads */

int fc_get(fc_client_t *client, const char *path, fc_response_t *response, fc_problem_t *problem)
{
    int rc = request(client, "GET", path, NULL, 0, response);
    if (rc != 0 || (response->status >= 200 && response->status < 300))
        return rc;
    json_t *root = json_loadb(response->body, response->body_len, 0, NULL);
    fc_problem_t local;
    rc = problem_from(root, response->status, problem != NULL ? problem : &local);
    json_decref(root);
    return rc;
}

int fc_query_add(char *query, size_t size, const char *name, const char *value)
{
    size_t len = strlen(query);
    int n = snprintf(query + len, size - len, "%s%s=", len > 0 ? "&" : "", name);
    if (n < 0 || (size_t)n >= size - len)
        return FL_ETOOBIG;
    len += (size_t)n;
    for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~,", *p) != NULL;
        n = plain ? snprintf(query + len, size - len, "%c", *p)
                  : snprintf(query + len, size - len, "%%%02X", *p);
        if (n < 0 || (size_t)n >= size - len)
            return FL_ETOOBIG;
        len += (size_t)n;
    }
    return 0;
}

static int get_path(fc_client_t *client, const char *format, const char *id, const char *query,
                    fc_response_t *response, fc_problem_t *problem)
{
    char path[FC_URL_LEN_MAX], escaped[FC_URL_LEN_MAX] = "";
    if (fc_query_add(escaped, sizeof(escaped), "x", id) != 0)
        return FL_ETOOBIG;
    int len = snprintf(path, sizeof(path), format, escaped + 2);
    if (len < 0 || (size_t)len >= sizeof(path))
        return FL_ETOOBIG;
    if (query != NULL && query[0] != '\0' &&
        snprintf(path + len, sizeof(path) - (size_t)len, "?%s", query) >=
            (int)(sizeof(path) - (size_t)len))
        return FL_ETOOBIG;
    return fc_get(client, path, response, problem);
}

int fc_hu(fc_client_t *client, const char *hu_id, fc_response_t *response, fc_problem_t *problem)
{
    return get_path(client, "/api/v1/hus/%s", hu_id, NULL, response, problem);
}

int fc_label(fc_client_t *client, const char *hu_id, bool zpl, fc_response_t *response,
             fc_problem_t *problem)
{
    return get_path(client, zpl ? "/api/v1/labels/%s/zpl" : "/api/v1/labels/%s/svg", hu_id, NULL,
                    response, problem);
}

int fc_genealogy(fc_client_t *client, const char *entity, bool down, uint32_t depth,
                 fc_response_t *response, fc_problem_t *problem)
{
    char query[64];
    snprintf(query, sizeof(query), "direction=%s&depth=%u", down ? "down" : "up",
             depth != 0 ? depth : 16);
    return get_path(client, "/api/v1/genealogy/%s", entity, query, response, problem);
}

int fc_order(fc_client_t *client, const char *of_id, fc_response_t *response, fc_problem_t *problem)
{
    return get_path(client, "/api/v1/orders/%s", of_id, NULL, response, problem);
}

int fc_stock(fc_client_t *client, const char *query, fc_response_t *response, fc_problem_t *problem)
{
    char path[FC_URL_LEN_MAX];
    int len = snprintf(path, sizeof(path), "/api/v1/stock%s%s",
                       query != NULL && query[0] != '\0' ? "?" : "", query != NULL ? query : "");
    if (len < 0 || (size_t)len >= sizeof(path))
        return FL_ETOOBIG;
    return fc_get(client, path, response, problem);
}
