/*
 * offload.c: a request's slow part on libuv's thread pool - password hashing, reports, replays,
 * chain checks - so that the loop thread keeps serving everyone else. The connection waits as
 * it waits for an append (pending_append: no other request of its is parsed, a graceful stop
 * waits for it); when the work is done, the loop thread answers, unless the client left.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <stdlib.h>

typedef struct {
    uv_work_t work;
    api_conn_t *conn;
    void *data;
    api_offload_work_cb run;
    api_offload_done_cb done;
} offload_t;

static void on_work(uv_work_t *req)
{
    offload_t *o = req->data;
    o->run(o->data);
}

static void on_done(uv_work_t *req, int status)
{
    offload_t *o = req->data;
    api_conn_t *conn = o->conn;
    api_server_t *server = conn->server;
    conn->pending_append = false;
    server->appends_pending--;
    bool answer = !conn->close_requested && status == 0;
    if (conn->close_requested)
        api_conn_close(conn);
    else if (status != 0)
        api_problem(conn, FL_ECANCELED, "", "", "");
    o->done(answer ? conn : NULL, o->data); /* frees data */
    free(o);
    if (server->draining)
        api_server_maybe_finish(server);
}

api_handled_t api_offload(api_conn_t *conn, void *data, api_offload_work_cb run,
                          api_offload_done_cb done)
{
    offload_t *o = malloc(sizeof(*o));
    if (o == NULL) {
        done(NULL, data);
        api_problem(conn, FL_ENOMEM, "", "", "");
        return API_DONE;
    }
    *o = (offload_t){.conn = conn, .data = data, .run = run, .done = done};
    o->work.data = o;
    conn->pending_append = true;
    conn->server->appends_pending++;
    if (uv_queue_work(&conn->server->loop, &o->work, on_work, on_done) != 0) {
        conn->pending_append = false;
        conn->server->appends_pending--;
        free(o);
        done(NULL, data);
        api_problem(conn, FL_EBUSY, "", "", "");
        return API_DONE;
    }
    return API_ASYNC;
}
