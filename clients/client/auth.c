/*
 * auth.c: who the client is, in one place. Every request carries "Authorization: Bearer
 * <access token>". The token is, in order: FOUTA_TOKEN; the file FOUTA_TOKEN_FILE (default
 * .fouta-token in the working directory) that `fouta login` wrote; or, when FOUTA_PASSWORD is
 * set, a sign-in of its own as the user named after the actor's role in tenant FOUTA_TENANT
 * (default "plant") - the demo tenant's convention, which lets fouta-sim post each event as
 * its role's user. The server records the token's user as the actor, never a header.
 */
#define _POSIX_C_SOURCE 200809L
#include "clients/client/client_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

int fc_tokens_new(fc_tokens_t **out)
{
    *out = calloc(1, sizeof(**out));
    if (*out == NULL)
        return FL_ENOMEM;
    pthread_mutex_init(&(*out)->lock, NULL);
    return 0;
}

void fc_tokens_free(fc_tokens_t *tokens)
{
    if (tokens == NULL)
        return;
    OPENSSL_cleanse(tokens->tokens, sizeof(tokens->tokens));
    pthread_mutex_destroy(&tokens->lock);
    free(tokens);
}

/* The value of "key":"..." in json, into out. */
static int json_text(const char *json, const char *key, char *out, size_t size)
{
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "\"%s\":\"", key);
    const char *at = strstr(json, pattern);
    if (at == NULL)
        return FL_ENOENT;
    at += strlen(pattern);
    size_t len = strcspn(at, "\"");
    if (len >= size)
        return FL_ETOOBIG;
    memcpy(out, at, len);
    out[len] = '\0';
    return 0;
}

/* Whether text may go between JSON quotes as it is: no quote, backslash or control byte. */
static bool json_plain(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++)
        if (*p < 0x20 || *p == '"' || *p == '\\')
            return false;
    return true;
}

/*
 * Sends one POST on a connection of its own (the client's may hold a request's state) and reads
 * the answer to the end: its status (0 when none came), with the answer NUL-terminated in
 * client->in for the caller, which must call oneshot_end. auth is "" or header lines.
 */
typedef struct {
    int fd;
    struct ssl_st *ssl; /* the connection's TLS, kept aside with it */
    size_t len;
    char *in;
} saved_t;

static int oneshot(fc_client_t *client, saved_t *saved, const char *path, const char *auth,
                   const char *body)
{
    char head[2048];
    size_t body_len = strlen(body);
    int head_len = snprintf(head, sizeof(head),
                            "POST %s%s HTTP/1.1\r\nHost: %s:%s\r\n%s"
                            "Content-Type: application/json\r\nConnection: close\r\n"
                            "Content-Length: %zu\r\n\r\n",
                            client->prefix, path, client->host, client->port, auth, body_len);
    if (head_len < 0 || (size_t)head_len >= sizeof(head))
        return FL_ETOOBIG;
    saved->fd = client->fd;
    saved->ssl = client->ssl;
    saved->len = client->in_len;
    saved->in = saved->len > 0 ? malloc(saved->len) : NULL;
    if (saved->len > 0 && saved->in == NULL)
        return FL_ENOMEM;
    if (saved->in != NULL)
        memcpy(saved->in, client->in, saved->len);
    client->fd = -1;
    client->ssl = NULL;
    client->in_len = 0;
    int rc = fc__connect(client);
    if (rc == 0)
        rc = fc__send_all(client, head, (size_t)head_len);
    if (rc == 0)
        rc = fc__send_all(client, body, body_len);
    while (rc == 0)
        rc = fc__fill(client, client->in_len + 1); /* to the end: Connection: close */
    if (client->in_len == 0)
        return 0; /* fc__fill keeps the bytes NUL-terminated */
    int status = 0;
    if (sscanf(client->in, "HTTP/1.1 %d", &status) != 1)
        status = 0;
    return status;
}

static void oneshot_end(fc_client_t *client, saved_t *saved)
{
    fc__disconnect(client);
    client->fd = saved->fd;
    client->ssl = saved->ssl;
    client->in_len = saved->len;
    if (saved->in != NULL)
        memcpy(client->in, saved->in, saved->len);
    free(saved->in);
}

static int status_error(int status)
{
    switch (status) {
    case 0:
        return FL_EIO;
    case 400:
        return FL_EINVAL;
    case 429:
        return FL_ERATE_LIMITED;
    default:
        return FL_EUNAUTHORIZED;
    }
}

int fc_login(fc_client_t *client, const char *tenant, const char *user, const char *password,
             bool bind, char *token, size_t size, char *refresh, size_t refresh_size)
{
    char body[768];
    const char *device = bind ? client->device : "";
    if (!json_plain(tenant) || !json_plain(user) || !json_plain(password) || !json_plain(device))
        return FL_EINVAL;
    int body_len =
        snprintf(body, sizeof(body),
                 "{\"tenant\":\"%s\",\"user\":\"%s\",\"password\":\"%s\",\"device\":\"%s\"}",
                 tenant, user, password, device);
    if (body_len < 0 || (size_t)body_len >= sizeof(body))
        return FL_EINVAL;
    saved_t saved;
    int status = oneshot(client, &saved, "/api/v1/auth/login", "", body);
    OPENSSL_cleanse(body, sizeof(body));
    if (status < 0)
        return status;
    int rc = status == 200 ? 0 : status_error(status);
    const char *json = rc == 0 ? strstr(client->in, "\r\n\r\n") : NULL;
    if (rc == 0)
        rc = json != NULL ? json_text(json, "access_token", token, size) : FL_EIO;
    if (rc == 0 && refresh != NULL)
        rc = json_text(json, "refresh_token", refresh, refresh_size);
    oneshot_end(client, &saved);
    return rc;
}

int fc_logout(fc_client_t *client)
{
    char auth[1400];
    int len = fc_auth_headers(client, auth, sizeof(auth));
    if (len < 0)
        return len;
    saved_t saved;
    int status = oneshot(client, &saved, "/api/v1/auth/logout", auth, "{}");
    if (status < 0)
        return status;
    oneshot_end(client, &saved);
    return status == 204 ? 0 : status_error(status);
}

/* The user a password sign-in uses for the actor: the demo tenant's convention names each
 * user after its role; reads with no role sign in as the manager. */
static const char *role_user(const fc_client_t *client)
{
    return client->role[0] != '\0' ? client->role : "manager";
}

/* The token of the actor's role, copied into client->token: signed in once, then cached; a
 * refused sign-in is remembered too, so that a file of a thousand events does not make a
 * thousand attempts. */
static int role_token(fc_client_t *client)
{
    fc_tokens_t *cache = client->tokens;
    const char *user = role_user(client);
    int rc = 0;
    pthread_mutex_lock(&cache->lock);
    uint32_t i = 0;
    while (i < cache->count && strcmp(cache->roles[i], user) != 0)
        i++;
    if (i == cache->count) {
        const char *password = getenv("FOUTA_PASSWORD");
        const char *tenant = getenv("FOUTA_TENANT");
        if (password == NULL || cache->count == FC_TOKENS_MAX) {
            rc = FL_EUNAUTHORIZED;
            goto out;
        }
        cache->count++;
        snprintf(cache->roles[i], sizeof(cache->roles[i]), "%s", user);
        rc = fc_login(client, tenant != NULL ? tenant : "plant", user, password, false,
                      cache->tokens[i], sizeof(cache->tokens[i]), NULL, 0);
        if (rc != 0)
            cache->tokens[i][0] = '\0';
    }
    memcpy(client->token, cache->tokens[i], sizeof(client->token));
    if (rc == 0 && client->token[0] == '\0')
        rc = FL_EUNAUTHORIZED;
out:
    pthread_mutex_unlock(&cache->lock);
    return rc;
}

int fc_authenticate(fc_client_t *client)
{
    return getenv("FOUTA_PASSWORD") != NULL ? role_token(client) : 0;
}

static const char *stored_token(fc_client_t *client)
{
    if (client->stored_token_read)
        return client->stored_token[0] != '\0' ? client->stored_token : NULL;
    client->stored_token_read = true;
    const char *env = getenv("FOUTA_TOKEN");
    if (env != NULL && strlen(env) < sizeof(client->stored_token)) {
        snprintf(client->stored_token, sizeof(client->stored_token), "%s", env);
        return client->stored_token;
    }
    const char *path = getenv("FOUTA_TOKEN_FILE");
    FILE *file = fopen(path != NULL ? path : FC_TOKEN_FILE_DEFAULT, "r");
    if (file == NULL)
        return NULL;
    if (fgets(client->stored_token, sizeof(client->stored_token), file) == NULL)
        client->stored_token[0] = '\0';
    fclose(file);
    client->stored_token[strcspn(client->stored_token, "\r\n")] = '\0';
    return client->stored_token[0] != '\0' ? client->stored_token : NULL;
}

bool fc__auth_renew(fc_client_t *client)
{
    if (getenv("FOUTA_PASSWORD") == NULL)
        return false;
    fc_tokens_t *cache = client->tokens;
    const char *user = role_user(client);
    pthread_mutex_lock(&cache->lock);
    for (uint32_t i = 0; i < cache->count; i++)
        if (strcmp(cache->roles[i], user) == 0) {
            /* Unless another client has renewed it already, the last entry takes its place. */
            if (strcmp(cache->tokens[i], client->token) == 0) {
                cache->count--;
                memcpy(cache->tokens[i], cache->tokens[cache->count], sizeof(cache->tokens[i]));
                memcpy(cache->roles[i], cache->roles[cache->count], sizeof(cache->roles[i]));
            }
            break;
        }
    pthread_mutex_unlock(&cache->lock);
    return true;
}

int fc_auth_headers(fc_client_t *client, char *out, size_t size)
{
    /* FOUTA_PASSWORD signs in per role; otherwise the stored token (fouta login). */
    const char *token = client->token;
    if (getenv("FOUTA_PASSWORD") == NULL || role_token(client) != 0)
        token = stored_token(client);
    int len = snprintf(out, size, "Authorization: Bearer %s\r\nX-Device-Id: %s\r\n",
                       token != NULL ? token : "none", client->device);
    return len < 0 || (size_t)len >= size ? FL_ETOOBIG : len;
}
