/*
 * GET /api/v1/users: the tenant's users for the admin's user management, from the auth store
 * (which mirrors the ledger's user lifecycle events): each user's id, role and state. Nothing
 * else: no password hash, no token, and no personal data (a user's name and e-mail are sealed
 * in the ledger's UserInvited, read there by those who may). Admin and manager only (guard.c).
 */
#include "api/api_int.h"

#include <assert.h>

#define USERS_LIST_MAX 2000 /* users a tenant lists in one answer; more are "truncated" */

typedef struct {
    api_buf_t *out;
    uint32_t count;
} users_t;

static int user_json(const char *user, const api_user_t *view, void *data)
{
    users_t *users = data;
    assert(view->role < EV_ROLE_COUNT);
    api_buf_member_str(users->out, users->count > 0 ? ",{\"user_id\":" : "{\"user_id\":", user);
    api_buf_member_str(users->out, ",\"role\":", ev_role_name(view->role));
    /* Invited users have no password until an admin sets one (POST /api/v1/auth/password). */
    const char *state = view->disabled ? "disabled" : view->has_password ? "active" : "invited";
    api_buf_member_str(users->out, ",\"state\":", state);
    api_buf_str(users->out, "}");
    users->count++;
    return 0;
}

api_handled_t api_h_users_list(api_conn_t *conn)
{
    api_buf_t body = {0};
    users_t users = {.out = &body};
    bool truncated = false;
    api_buf_str(&body, "{\"users\":[");
    int rc = api_auth_user_each(conn->server->auth, conn->tenant->name, USERS_LIST_MAX, &truncated,
                                user_json, &users);
    if (rc != 0) {
        api_problem(conn, rc, "", "", "");
    } else {
        api_buf_printf(&body, "],\"count\":%u,\"truncated\":%s}", users.count,
                       truncated ? "true" : "false");
        api_respond_json(conn, 200, "", &body);
    }
    api_buf_free(&body);
    return API_DONE;
}
