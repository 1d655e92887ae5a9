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

int fc_login(fc_client_t *client, const char *tenant, const char *user, const char *password,
             char *token, size_t size, char *refresh, size_t refresh_size)
{
    char body[768], head[1024];
    int body_len =
        snprintf(body, sizeof(body),
                 "{\"tenant\":\"%s\",\"user\":\"%s\",\"password\":\"%s\",\"device\":\"\"}", tenant,
                 user, password);
    if (body_len < 0 || (size_t)body_len >= sizeof(body) || strpbrk(password, "\"\\") != NULL)
        return FL_EINVAL;
    int head_len = snprintf(head, sizeof(head),
                            "POST %s/api/v1/auth/login HTTP/1.1\r\nHost: %s:%s\r\n"
                            "Content-Type: application/json\r\nConnection: close\r\n"
                            "Content-Length: %d\r\n\r\n",
                            client->prefix, client->host, client->port, body_len);
    /* Its own connection: the client's may hold a request's state. */
    int saved_fd = client->fd;
    size_t saved_len = client->in_len;
    char *saved = saved_len > 0 ? malloc(saved_len) : NULL;
    if (saved_len > 0 && saved == NULL)
        return FL_ENOMEM;
    if (saved != NULL)
        memcpy(saved, client->in, saved_len);
    client->fd = -1;
    int rc = fc__connect(client);
    if (rc == 0)
        rc = fc__send_all(client, head, (size_t)head_len);
    if (rc == 0)
        rc = fc__send_all(client, body, (size_t)body_len);
    while (rc == 0)
        rc = fc__fill(client, client->in_len + 1);
    rc = 0;
    if (client->in_len == 0 || strncmp(client->in, "HTTP/1.1 200", 12) != 0)
        rc = FL_EUNAUTHORIZED;
    if (rc == 0) {
        client->in[client->in_len - 1] = '\0';
        rc = json_text(client->in, "access_token", token, size);
        if (rc == 0 && refresh != NULL)
            rc = json_text(client->in, "refresh_token", refresh, refresh_size);
    }
    fc__disconnect(client);
    client->fd = saved_fd;
    client->in_len = saved_len;
    if (saved != NULL)
        memcpy(client->in, saved, saved_len);
    free(saved);
    return rc;
}

/* The token of the actor's role: signed in once, then cached. */
static int role_token(fc_client_t *client, const char **token)
{
    for (uint32_t i = 0; i < client->tokens_count; i++)
        if (strcmp(client->token_roles[i], client->role) == 0) {
            *token = client->tokens[i];
            return 0;
        }
    const char *password = getenv("FOUTA_PASSWORD");
    const char *tenant = getenv("FOUTA_TENANT");
    if (password == NULL || client->role[0] == '\0' || client->tokens_count == FC_TOKENS_MAX)
        return FL_EUNAUTHORIZED;
    uint32_t i = client->tokens_count;
    int rc = fc_login(client, tenant != NULL ? tenant : "plant", client->role, password,
                      client->tokens[i], sizeof(client->tokens[i]), NULL, 0);
    if (rc != 0)
        return rc;
    snprintf(client->token_roles[i], sizeof(client->token_roles[i]), "%s", client->role);
    client->tokens_count++;
    *token = client->tokens[i];
    return 0;
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

int fc_auth_headers(fc_client_t *client, char *out, size_t size)
{
    const char *token = NULL;
    if (getenv("FOUTA_PASSWORD") == NULL || client->role[0] == '\0')
        token = stored_token(client);
    if (token == NULL) {
        int rc = role_token(client, &token);
        if (rc != 0)
            token = stored_token(client);
    }
    int len = snprintf(out, size, "Authorization: Bearer %s\r\nX-Device-Id: %s\r\n",
                       token != NULL ? token : "none", client->device);
    return len < 0 || (size_t)len >= size ? FL_ETOOBIG : len;
}
