/*
 * h_auth.c: signing in and out. POST /api/v1/auth/login checks a password and answers a
 * short-lived access token (a JWT, jwt.c) and an opaque refresh token; /auth/refresh rotates the
 * refresh token; /auth/logout revokes the session; /auth/password sets a password (an admin for
 * a user of the tenant, or a user for themselves). Argon2id is slow by design, so the work runs
 * on libuv's thread pool and the connection waits as it waits for an append.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

typedef enum { WORK_LOGIN, WORK_REFRESH, WORK_PASSWORD } work_kind_t;

typedef struct {
    api_server_t *server;
    work_kind_t kind;
    char tenant[API_TENANT_LEN_MAX + 1];
    char user[API_USER_LEN_MAX + 1];
    char device[API_DEVICE_LEN_MAX + 1];
    char secret[API_PASSWORD_LEN_MAX + 1]; /* a password or a refresh token; cleansed */
    ev_role_t role;
    int rc;
    api_session_t session;
} work_t;

/* Copies a string member of body into out; false when absent, not a string or too long. */
static bool member(json_t *body, const char *name, char *out, size_t size, bool required)
{
    out[0] = '\0';
    json_t *value = json_object_get(body, name);
    if (value == NULL)
        return !required;
    const char *text = json_string_value(value);
    if (text == NULL || strlen(text) >= size)
        return false;
    memcpy(out, text, strlen(text) + 1);
    return true;
}

static json_t *body_object(api_conn_t *conn)
{
    json_t *body = json_loadb(conn->req.body.data != NULL ? conn->req.body.data : "",
                              conn->req.body.len, 0, NULL);
    if (!json_is_object(body)) {
        json_decref(body);
        api_problem(conn, FL_EINVALID_JSON, "", "a JSON object is expected", "");
        return NULL;
    }
    return body;
}

static void session_json(api_conn_t *conn, const work_t *w)
{
    api_server_t *server = conn->server;
    char token[API_TOKEN_LEN_MAX];
    int len = api_jwt_sign(&server->jwt_keys, &w->session.claims, token, sizeof(token));
    if (len < 0) {
        api_problem(conn, len, "", "", "");
        return;
    }
    api_buf_t body = {0};
    api_buf_str(&body, "{\"access_token\":");
    api_buf_json_str(&body, token, (size_t)len);
    api_buf_str(&body, ",\"token_type\":\"Bearer\",\"expires_in\":");
    api_buf_u64(&body, api_auth_access_ttl(server->auth));
    api_buf_str(&body, ",\"refresh_token\":");
    api_buf_json_str(&body, w->session.refresh, strlen(w->session.refresh));
    api_buf_member_str(&body, ",\"tenant\":", w->session.claims.tenant);
    api_buf_member_str(&body, ",\"user\":", w->session.claims.user);
    api_buf_member_str(&body, ",\"role\":", ev_role_name(w->session.claims.role));
    api_buf_str(&body, "}");
    api_respond_json(conn, 200, "Cache-Control: no-store\r\n", &body);
    OPENSSL_cleanse(body.data, body.len);
    OPENSSL_cleanse(token, sizeof(token));
    api_buf_free(&body);
}

static void run_work(void *data)
{
    work_t *w = data;
    switch (w->kind) {
    case WORK_LOGIN:
        w->rc = api_auth_login(w->server->auth, w->tenant, w->user, w->secret, w->device,
                               &w->session);
        break;
    case WORK_REFRESH:
        w->rc = api_auth_refresh(w->server->auth, w->secret, w->device, &w->session);
        break;
    case WORK_PASSWORD:
        w->rc = api_auth_user_set(w->server->auth, w->tenant, w->user, w->role, w->secret);
        break;
    }
    OPENSSL_cleanse(w->secret, sizeof(w->secret));
}

/* Answers (conn NULL: the client left or it could not run) and wipes the secrets. */
static void work_done(api_conn_t *conn, void *data)
{
    work_t *w = data;
    if (conn == NULL) {
        /* nothing to answer */
    } else if (w->rc == FL_EUNAUTHORIZED) {
        api_guard_signin_refused(conn);
        api_log(API_LOG_INFO, conn->req.request_id, "sign-in refused",
                ",\"tenant\":\"%s\",\"user\":\"%s\"", w->tenant, w->user);
        api_problem(conn, FL_EUNAUTHORIZED, "",
                    w->kind == WORK_LOGIN ? "unknown user, wrong password or disabled user"
                                          : "the refresh token is unknown, expired, revoked or "
                                            "was already used (its session is now revoked)",
                    "");
    } else if (w->rc != 0) {
        api_problem(conn, w->rc, w->kind == WORK_PASSWORD ? "password" : "",
                    w->rc == FL_EINVAL ? "a password has 8 to 256 bytes" : "", "");
    } else if (w->kind == WORK_PASSWORD) {
        api_respond(conn, 204, "", "", "", 0);
    } else {
        session_json(conn, w);
    }
    OPENSSL_cleanse(w, sizeof(*w));
    free(w);
}

static api_handled_t queue_work(api_conn_t *conn, work_t *w)
{
    w->server = conn->server;
    return api_offload(conn, w, run_work, work_done);
}

api_handled_t api_h_login(api_conn_t *conn)
{
    json_t *body = body_object(conn);
    if (body == NULL)
        return API_DONE;
    work_t *w = calloc(1, sizeof(*w));
    bool ok = w != NULL && member(body, "tenant", w->tenant, sizeof(w->tenant), true) &&
              member(body, "user", w->user, sizeof(w->user), true) &&
              member(body, "password", w->secret, sizeof(w->secret), true) &&
              member(body, "device", w->device, sizeof(w->device), false);
    json_decref(body);
    if (!ok) {
        if (w != NULL)
            OPENSSL_cleanse(w, sizeof(*w));
        free(w);
        api_problem(conn, FL_EINVAL, "",
                    "tenant, user and password are required strings; device is optional", "");
        return API_DONE;
    }
    w->kind = WORK_LOGIN;
    return queue_work(conn, w);
}

api_handled_t api_h_refresh(api_conn_t *conn)
{
    json_t *body = body_object(conn);
    if (body == NULL)
        return API_DONE;
    work_t *w = calloc(1, sizeof(*w));
    bool ok = w != NULL && member(body, "refresh_token", w->secret, sizeof(w->secret), true) &&
              member(body, "device", w->device, sizeof(w->device), false);
    json_decref(body);
    if (!ok) {
        free(w);
        api_problem(conn, FL_EINVAL, "refresh_token", "refresh_token is required", "");
        return API_DONE;
    }
    w->kind = WORK_REFRESH;
    return queue_work(conn, w);
}

/* Logout: the access token's session (its refresh family) is revoked, and with it every access
 * token of that session. */
api_handled_t api_h_logout(api_conn_t *conn)
{
    int rc = api_auth_revoke_family(conn->server->auth, conn->claims.family);
    if (rc != 0) {
        api_problem(conn, rc, "", "", "");
        return API_DONE;
    }
    api_respond(conn, 204, "", "", "", 0);
    return API_DONE;
}

/* Sets a password: {"user": id, "password": text}. An admin for any user of the tenant that
 * exists (invited by UserInvited), anyone for themselves. */
api_handled_t api_h_password(api_conn_t *conn)
{
    json_t *body = body_object(conn);
    if (body == NULL)
        return API_DONE;
    work_t *w = calloc(1, sizeof(*w));
    bool ok = w != NULL && member(body, "user", w->user, sizeof(w->user), true) &&
              member(body, "password", w->secret, sizeof(w->secret), true);
    json_decref(body);
    if (!ok) {
        if (w != NULL)
            OPENSSL_cleanse(w, sizeof(*w));
        free(w);
        api_problem(conn, FL_EINVAL, "", "user and password are required strings", "");
        return API_DONE;
    }
    snprintf(w->tenant, sizeof(w->tenant), "%s", conn->claims.tenant);
    api_user_t user;
    int rc = api_auth_user_get(conn->server->auth, w->tenant, w->user, &user);
    if (rc == 0 && conn->claims.role != EV_ROLE_ADMIN && strcmp(w->user, conn->claims.user) != 0)
        rc = FL_EFORBIDDEN;
    if (rc != 0) {
        OPENSSL_cleanse(w, sizeof(*w));
        free(w);
        api_problem(conn, rc, "user",
                    rc == FL_EFORBIDDEN ? "only an admin sets another user's password"
                                        : "no such user in this tenant (UserInvited first)",
                    "");
        return API_DONE;
    }
    w->role = user.role;
    w->kind = WORK_PASSWORD;
    return queue_work(conn, w);
}
