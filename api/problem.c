/*
 * problem.c: every error answer is application/problem+json (RFC 9457) with a stable machine
 * code from base.h's list, the field at fault and a message, plus the request id to quote.
 */
#include "api/api_int.h"

#include <string.h>

void api_problem_json(api_buf_t *out, int status, int code, const char *field, const char *message,
                      const char *request_id)
{
    const char *name = fl_errname(code);
    api_buf_printf(out, "{\"type\":\"urn:fouta:problem:%s\",\"title\":", name);
    const char *title = fl_strerror(code);
    api_buf_json_str(out, title, strlen(title));
    api_buf_printf(out, ",\"status\":%d,\"code\":\"%s\",\"field\":", status, name);
    api_buf_json_str(out, field, strlen(field));
    api_buf_str(out, ",\"detail\":");
    const char *detail = message != NULL && message[0] != '\0' ? message : title;
    api_buf_json_str(out, detail, strlen(detail));
    if (request_id != NULL && request_id[0] != '\0') {
        api_buf_str(out, ",\"request_id\":");
        api_buf_json_str(out, request_id, strlen(request_id));
    }
}

void api_problem_status(api_conn_t *conn, int status, int code, const char *field,
                        const char *message, const char *extra)
{
    api_buf_t body = {0};
    api_problem_json(&body, status, code, field, message, conn->req.request_id);
    api_buf_str(&body, extra);
    api_buf_str(&body, "}");
    const char *headers = "";
    if (status == 405)
        headers = "Allow: GET, POST\r\n";
    else if (status == 503)
        headers = "Retry-After: 1\r\n";
    if (body.oom) {
        static const char fallback[] = "{\"code\":\"NOMEM\",\"status\":503}";
        api_respond(conn, 503, "application/problem+json", "", fallback, sizeof(fallback) - 1);
    } else if (conn->req.accept_media == API_MEDIA_MSGPACK) {
        api_respond_json(conn, status, headers, &body);
    } else {
        api_respond(conn, status, "application/problem+json", headers, body.data, body.len);
    }
    api_buf_free(&body);
}

void api_problem(api_conn_t *conn, int code, const char *field, const char *message,
                 const char *extra)
{
    api_problem_status(conn, fl_err_http_status(code), code, field, message, extra);
}

void api_problem_lookup(api_conn_t *conn, int rc, const char *field, const char *what,
                        const char *id)
{
    char detail[256];
    if (rc == FL_ENOENT) {
        snprintf(detail, sizeof(detail), "no such %s: %.*s", what, 128, id);
        api_problem(conn, FL_ENOENT, field, detail, "");
    } else if (rc == FL_EINVAL) {
        /* Path parameters are never empty (the router), so the engine refused the length. */
        snprintf(detail, sizeof(detail), "an id has at most %d characters", EV_ID_LEN_MAX);
        api_problem(conn, FL_ETOO_LONG, field, detail, "");
    } else {
        api_problem(conn, rc, "", rc == FL_EBUSY ? "too many readers, retry" : "", "");
    }
}
