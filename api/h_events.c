/*
 * h_events.c: POST /api/v1/events. One event or an array (atomic on request) is decoded and
 * validated by the catalog (events/), photo references are checked against the stored blobs,
 * and the events go to the writer. The connection waits, without blocking the loop, for the
 * durable outcome, which is the response: 201 with the position, 200 with the original position
 * on an idempotent retry, 409/422 when the ledger refused.
 *
 * Each connection keeps one append context and reuses it: the decoded events are copied
 * compactly into an arena (the catalog's ev_event_t is large, about 70 KB, so only one scratch
 * copy exists per connection), and a keep-alive client posting single events allocates nothing
 * once its buffers have grown.
 */
#include "api/api_int.h"

#include <assert.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t stream;
    size_t entities[ENG_ENTITIES_MAX];
    uint32_t entities_count;
    size_t payload;
    uint32_t payload_len;
} placed_t;

typedef struct {
    ev_event_t scratch;
    api_buf_t arena;
    api_buf_t msgpack_json; /* a msgpack body converted to JSON */
    api_buf_t response;     /* the answer's body and headers, reused */
    api_buf_t headers;
    eng_event_t *events;
    placed_t *placed;
    eng_position_t *positions;
    int *results;
    uint32_t cap;
    uint32_t count;
    bool single;
    bool atomic;
    bool erasure; /* the erasure route's PersonDataErased (h_persons.c) */
    api_actor_t actor;
    eng_append_req_t req;
    api_conn_t *conn;
} append_t;

static int reserve(append_t *a, uint32_t count)
{
    if (count <= a->cap)
        return 0;
    eng_event_t *events = realloc(a->events, count * sizeof(*events));
    if (events != NULL)
        a->events = events;
    placed_t *placed = realloc(a->placed, count * sizeof(*placed));
    if (placed != NULL)
        a->placed = placed;
    eng_position_t *positions = realloc(a->positions, count * sizeof(*positions));
    if (positions != NULL)
        a->positions = positions;
    int *results = realloc(a->results, count * sizeof(*results));
    if (results != NULL)
        a->results = results;
    if (events == NULL || placed == NULL || positions == NULL || results == NULL)
        return FL_ENOMEM;
    a->cap = count;
    return 0;
}

void api_events_free(api_conn_t *conn)
{
    append_t *a = conn->append;
    if (a == NULL)
        return;
    assert(!conn->pending_append);
    api_buf_free(&a->arena);
    api_buf_free(&a->msgpack_json);
    api_buf_free(&a->response);
    api_buf_free(&a->headers);
    free(a->events);
    free(a->placed);
    free(a->positions);
    free(a->results);
    free(a);
    conn->append = NULL;
}

static size_t place(api_buf_t *arena, const void *bytes, size_t len)
{
    size_t at = arena->len;
    api_buf_add(arena, bytes, len);
    api_buf_add(arena, "", 1); /* NUL: strings stay C strings */
    return at;
}

/* Copies the scratch event into the arena (offsets: the arena may move as it grows). */
static void keep(append_t *a, uint32_t index)
{
    const ev_event_t *event = &a->scratch;
    placed_t *placed = &a->placed[index];
    eng_event_from_catalog(
        event,
        &(ev_actor_t){.user = a->actor.user, .role = a->actor.role, .device = a->actor.device},
        &a->events[index]);
    placed->stream = place(&a->arena, event->stream, strlen(event->stream));
    placed->entities_count = event->entities_count;
    for (uint32_t i = 0; i < event->entities_count; i++)
        placed->entities[i] = place(&a->arena, event->entities[i], strlen(event->entities[i]));
    placed->payload = place(&a->arena, event->payload, event->payload_len);
    placed->payload_len = event->payload_len;
}

static void point_into_arena(append_t *a)
{
    for (uint32_t i = 0; i < a->count; i++) {
        eng_event_t *event = &a->events[i];
        const placed_t *placed = &a->placed[i];
        event->stream = a->arena.data + placed->stream;
        for (uint32_t e = 0; e < placed->entities_count; e++)
            event->entities[e] = a->arena.data + placed->entities[e];
        event->payload = (const uint8_t *)a->arena.data + placed->payload;
        event->payload_len = placed->payload_len;
        event->actor_user = a->actor.user;
        event->actor_device = a->actor.device;
    }
}

/* Checks that every photo an event references is stored (fields of kind EV_SHA256, at any
 * depth). Fills path on failure. */
static int check_blobs(api_tenant_t *tenant, const ev_field_t *fields, uint32_t count,
                       json_t *object, char *path, size_t path_size, size_t path_len)
{
    for (uint32_t f = 0; f < count; f++) {
        const ev_field_t *field = &fields[f];
        json_t *value = json_object_get(object, field->name);
        if (value == NULL)
            continue;
        int len = snprintf(path + path_len, path_size - path_len, ".%s", field->name);
        size_t here = path_len + (size_t)(len > 0 ? len : 0);
        if (field->kind == EV_SHA256 && json_is_string(value)) {
            int rc = api_blob_exists(tenant, json_string_value(value));
            if (rc != 0)
                return rc;
        } else if (field->kind == EV_OBJECTS && json_is_array(value)) {
            for (size_t i = 0; i < json_array_size(value); i++) {
                int n = snprintf(path + here, path_size - here, "[%zu]", i);
                size_t item = here + (size_t)(n > 0 ? n : 0);
                int rc = check_blobs(tenant, field->items, field->items_count,
                                     json_array_get(value, i), path, path_size, item);
                if (rc != 0)
                    return rc;
            }
        }
        path[path_len] = '\0';
    }
    return 0;
}

#define ERASURE_TYPE "PersonDataErased"

/* PersonDataErased only comes from the erasure route, which destroys the person's key here,
 * once the event is known valid and before it is appended (a retry finds the key erased
 * already and records the erasure). */
static int erase_person(api_conn_t *conn, const append_t *a, json_t *json, ev_error_t *error)
{
    if (!a->erasure) {
        snprintf(error->path, sizeof(error->path), "type");
        snprintf(error->message, sizeof(error->message),
                 "PersonDataErased is recorded by POST /api/v1/persons/{person}/erase, which "
                 "destroys the person's key");
        return FL_EFORBIDDEN;
    }
    const char *person =
        json_string_value(json_object_get(json_object_get(json, "payload"), "person_id"));
    int rc = api_pii_erase(conn->server->auth, conn->tenant->name, person);
    if (rc == 0 || rc == FL_EERASED)
        return 0;
    snprintf(error->path, sizeof(error->path), "path:person");
    snprintf(error->message, sizeof(error->message), "%s",
             rc == FL_ENOENT ? "no personal data of this person was ever encrypted here"
                             : "the person's key could not be destroyed");
    return rc;
}

/* Replaces the decoded event by the same event with its sensitive fields sealed (seal.c). */
static int seal(api_conn_t *conn, append_t *a, json_t *json, ev_error_t *error)
{
    json_t *copy = json_deep_copy(json);
    if (copy == NULL)
        return FL_ENOMEM;
    const ev_type_t *type = a->scratch.type;
    int rc = api_seal_event(conn->tenant, type, copy);
    if (rc == 0) {
        rc = ev_decode_object_flags(
            copy,
            &(ev_actor_t){.user = a->actor.user, .role = a->actor.role, .device = a->actor.device},
            EV_DECODE_SEALED, &a->scratch, error);
        if (rc != 0) { /* the catalog and the sealing disagree: a bug, never the client's */
            api_log(API_LOG_ERROR, conn->req.request_id, "a sealed event does not decode",
                    ",\"type\":\"%s\",\"error\":\"%s\"", type->name, fl_errname(rc));
            rc = FL_EINTERNAL;
        }
    }
    json_decref(copy);
    if (rc != 0) {
        snprintf(error->path, sizeof(error->path), "payload");
        snprintf(error->message, sizeof(error->message),
                 "the personal data could not be encrypted");
    }
    return rc;
}

/* Decodes member index of the request; on failure answers the problem and returns non-zero. */
static int decode_one(api_conn_t *conn, append_t *a, json_t *json, uint32_t index)
{
    ev_error_t error;
    int rc = ev_decode_object(
        json,
        &(ev_actor_t){.user = a->actor.user, .role = a->actor.role, .device = a->actor.device},
        &a->scratch, &error);
    char path[EV_PATH_LEN_MAX + 16];
    if (rc == 0) {
        size_t start =
            (size_t)snprintf(path, sizeof(path), a->single ? "payload" : "[%u].payload", index);
        rc = check_blobs(conn->tenant, a->scratch.type->fields, a->scratch.type->fields_count,
                         json_object_get(json, "payload"), path, sizeof(path), start);
        if (rc != 0) {
            snprintf(error.message, sizeof(error.message),
                     "no photo with this SHA-256 was uploaded (POST /api/v1/blobs first)");
        }
        if (rc == 0 && strcmp(a->scratch.type->name, ERASURE_TYPE) == 0)
            rc = erase_person(conn, a, json, &error);
        if (rc == 0 && ev_type_sensitive(a->scratch.type))
            rc = seal(conn, a, json, &error);
        if (rc != 0 && error.path[0] != '\0' && a->single)
            snprintf(path, sizeof(path), "%s", error.path);
        else if (rc != 0 && error.path[0] != '\0')
            snprintf(path, sizeof(path), "[%u].%s", index, error.path);
    } else if (a->single) {
        snprintf(path, sizeof(path), "%s", error.path);
    } else {
        snprintf(path, sizeof(path), "[%u]%s%s", index, error.path[0] != '\0' ? "." : "",
                 error.path);
    }
    if (rc != 0) {
        api_problem(conn, rc, path, error.message, "");
        return rc;
    }
    keep(a, index);
    return 0;
}

static void on_appended(eng_append_req_t *req, void *data)
{
    append_t *a = data;
    (void)req;
    api_server_append_done(a->conn->server, a->conn);
}

/* Turns the body into a parsed JSON value; answers the problem and returns NULL on failure. */
static json_t *parse_body(api_conn_t *conn, append_t *a)
{
    const api_request_t *req = &conn->req;
    const char *text = req->body.data != NULL ? req->body.data : "";
    size_t len = req->body.len;
    const char *type = req->content_type;
    size_t type_len = strcspn(type, ";");
    while (type_len > 0 && type[type_len - 1] == ' ')
        type_len--;
    bool is_msgpack = (type_len == 19 && strncmp(type, "application/msgpack", 19) == 0) ||
                      (type_len == 21 && strncmp(type, "application/x-msgpack", 21) == 0);
    bool is_json = type_len == 0 || (type_len == 16 && strncmp(type, "application/json", 16) == 0);
    if (!is_json && !is_msgpack) {
        api_problem(conn, FL_EHTTP_MEDIA_TYPE, "header:Content-Type",
                    "send application/json or application/msgpack", "");
        return NULL;
    }
    if (is_msgpack) {
        api_buf_reset(&a->msgpack_json);
        if (api_msgpack_to_json(text, len, &a->msgpack_json) != 0) {
            api_problem(conn, FL_EINVALID_JSON, "", "the body is not msgpack that maps to JSON",
                        "");
            return NULL;
        }
        text = a->msgpack_json.data;
        len = a->msgpack_json.len;
    }
    json_error_t error;
    json_t *json = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    if (json == NULL) {
        char message[EV_MESSAGE_LEN_MAX];
        snprintf(message, sizeof(message), "%s (line %d, column %d)", error.text, error.line,
                 error.column);
        api_problem(conn, FL_EINVALID_JSON, "", message, "");
    }
    return json;
}

static int atomic_param(api_conn_t *conn, bool *atomic)
{
    const char *value = api_query_get(&conn->req, "atomic");
    *atomic = false;
    if (value == NULL || strcmp(value, "false") == 0)
        return 0;
    if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0) {
        *atomic = true;
        return 0;
    }
    api_problem(conn, FL_EINVALID_VALUE, "query:atomic", "atomic is true or false", "");
    return FL_EINVALID_VALUE;
}

/* Decodes every event of the body into the context. Non-zero: answered already. */
static int decode_all(api_conn_t *conn, append_t *a, json_t *json)
{
    json_t *events = json;
    if (json_is_object(json) && json_object_get(json, "events") != NULL) {
        events = json_object_get(json, "events");
        json_t *atomic = json_object_get(json, "atomic");
        if (atomic != NULL && !json_is_boolean(atomic)) {
            api_problem(conn, FL_EWRONG_TYPE, "atomic", "atomic is true or false", "");
            return FL_EWRONG_TYPE;
        }
        a->atomic = a->atomic || json_is_true(atomic);
        if (!json_is_array(events)) {
            api_problem(conn, FL_EWRONG_TYPE, "events", "events is an array of events", "");
            return FL_EWRONG_TYPE;
        }
    }
    a->single = !json_is_array(events);
    if (a->single && !json_is_object(events)) {
        api_problem(conn, FL_EWRONG_TYPE, "", "the body is an event or an array of events", "");
        return FL_EWRONG_TYPE;
    }
    size_t count = a->single ? 1 : json_array_size(events);
    if (count == 0) {
        api_problem(conn, FL_EMISSING_FIELD, "", "the array holds no event", "");
        return FL_EMISSING_FIELD;
    }
    if (count > ENG_REQUEST_EVENTS_MAX) {
        api_problem(conn, FL_ETOOBIG, "", "at most 1000 events in one request", "");
        return FL_ETOOBIG;
    }
    if (reserve(a, (uint32_t)count) != 0) {
        api_problem(conn, FL_ENOMEM, "", "", "");
        return FL_ENOMEM;
    }
    api_buf_reset(&a->arena);
    a->count = (uint32_t)count;
    for (uint32_t i = 0; i < a->count; i++) {
        json_t *one = a->single ? events : json_array_get(events, i);
        int rc = decode_one(conn, a, one, i);
        if (rc != 0)
            return rc;
    }
    if (a->arena.oom) {
        api_problem(conn, FL_ENOMEM, "", "", "");
        return FL_ENOMEM;
    }
    point_into_arena(a);
    return 0;
}

/* The connection's append context, made on its first append. NULL: answered already. */
static append_t *context_of(api_conn_t *conn)
{
    if (conn->append == NULL) {
        conn->append = calloc(1, sizeof(append_t));
        if (conn->append == NULL) {
            api_problem(conn, FL_ENOMEM, "", "", "");
            return NULL;
        }
    }
    append_t *a = conn->append;
    a->conn = conn;
    int rc = api_request_actor(conn, &a->actor);
    if (rc != 0) {
        api_problem(conn, rc, "header:Authorization", "the access token names who posts", "");
        return NULL;
    }
    return a;
}

/* Decodes json (taken) and hands the events to the writer. */
static api_handled_t submit(api_conn_t *conn, append_t *a, json_t *json)
{
    int rc = decode_all(conn, a, json);
    json_decref(json);
    if (rc != 0)
        return API_DONE;
    memset(&a->req, 0, sizeof(a->req));
    a->req.events = a->events;
    a->req.count = a->count;
    a->req.flags = a->atomic ? ENG_APPEND_ATOMIC : 0;
    a->req.positions = a->positions;
    a->req.results = a->results;
    a->req.cb = on_appended;
    a->req.data = a;
    conn->pending_append = true;
    conn->server->appends_pending++;
    rc = eng_append_submit(conn->tenant->ledger, &a->req);
    if (rc != 0) {
        conn->pending_append = false;
        conn->server->appends_pending--;
        char path[32] = "";
        if (rc == FL_EINVAL && !a->single)
            snprintf(path, sizeof(path), "[%u]", a->req.failed_index);
        api_problem(conn, rc, path, "", "");
        return API_DONE;
    }
    return API_ASYNC;
}

api_handled_t api_h_events_post(api_conn_t *conn)
{
    append_t *a = context_of(conn);
    if (a == NULL)
        return API_DONE;
    a->erasure = false;
    if (atomic_param(conn, &a->atomic) != 0)
        return API_DONE;
    json_t *json = parse_body(conn, a);
    if (json == NULL)
        return API_DONE;
    return submit(conn, a, json);
}

api_handled_t api_events_post_erasure(api_conn_t *conn, void *event)
{
    append_t *a = context_of(conn);
    if (a == NULL) {
        json_decref(event);
        return API_DONE;
    }
    a->erasure = true;
    a->atomic = false;
    return submit(conn, a, event);
}

static void position_json(api_buf_t *out, const append_t *a, uint32_t i)
{
    const eng_position_t *position = &a->positions[i];
    api_buf_str(out, "{\"seq\":");
    api_buf_u64(out, position->seq);
    api_buf_str(out, ",\"stream_version\":");
    api_buf_u64(out, position->stream_version);
    api_buf_str(out, ",\"hash\":");
    api_buf_json_hex(out, position->hash, ENG_HASH_BYTES);
    api_buf_str(out, ",\"id\":");
    api_buf_json_uuid(out, a->events[i].id);
    api_buf_str(out, ",\"stream\":");
    api_buf_json_str(out, a->events[i].stream, strlen(a->events[i].stream));
    api_buf_str(out, position->duplicate ? ",\"duplicate\":true" : ",\"duplicate\":false");
}

/* Why event i was refused: its field, its message and what the client needs to recover. */
static void refusal(const append_t *a, uint32_t i, int code, char *field, size_t field_size,
                    char *message, size_t message_size, api_buf_t *extra)
{
    char index[16] = "";
    if (!a->single)
        snprintf(index, sizeof(index), "[%u].", i);
    snprintf(message, message_size, "%s", fl_strerror(code));
    switch (code) {
    case FL_ECONFLICT_VERSION:
        snprintf(field, field_size, "%sexpected_version", index);
        snprintf(message, message_size, "the stream %s is at version %llu", a->events[i].stream,
                 (unsigned long long)a->req.actual_version);
        api_buf_printf(extra, ",\"actual_version\":%llu",
                       (unsigned long long)a->req.actual_version);
        break;
    case FL_ECONFLICT_ID:
        snprintf(field, field_size, "%sid", index);
        if (a->positions[i].seq != 0)
            api_buf_printf(extra, ",\"original_seq\":%llu",
                           (unsigned long long)a->positions[i].seq);
        break;
    case FL_EABORTED:
        snprintf(field, field_size, "%s", index[0] != '\0' ? index : "");
        break;
    default:
        /* The server's own failure (storage, overload) is no field's fault. */
        if (fl_err_http_status(code) >= 500) {
            field[0] = '\0';
            break;
        }
        snprintf(field, field_size, "%spayload", index);
        if (a->req.detail[0] != '\0' && i == a->req.failed_index)
            snprintf(message, message_size, "%s", a->req.detail);
        break;
    }
    size_t len = strlen(field);
    if (len > 0 && field[len - 1] == '.')
        field[len - 1] = '\0';
}

static void respond_single(api_conn_t *conn, append_t *a)
{
    int code = a->results[0] != 0 ? a->results[0] : a->req.status;
    if (code == 0) {
        api_buf_t *body = &a->response, *headers = &a->headers;
        api_buf_reset(body);
        position_json(body, a, 0);
        api_buf_str(body, "}");
        api_buf_reset(headers);
        api_buf_str(headers, "Location: /api/v1/events/");
        api_buf_u64(headers, a->positions[0].seq);
        api_buf_str(headers, "\r\n");
        api_respond_json(conn, a->positions[0].duplicate ? 200 : 201,
                         headers->oom ? "" : headers->data, body);
        return;
    }
    char field[EV_PATH_LEN_MAX], message[EV_MESSAGE_LEN_MAX];
    api_buf_t extra = {0};
    refusal(a, 0, code, field, sizeof(field), message, sizeof(message), &extra);
    api_problem(conn, code, field, message, extra.data != NULL ? extra.data : "");
    api_buf_free(&extra);
}

static void respond_many(api_conn_t *conn, append_t *a)
{
    api_buf_t results = {0};
    uint32_t failed = 0, created = 0;
    api_buf_str(&results, "[");
    for (uint32_t i = 0; i < a->count; i++) {
        int code = a->results[i];
        if (i > 0)
            api_buf_str(&results, ",");
        if (code == 0) {
            position_json(&results, a, i);
            api_buf_printf(&results, ",\"index\":%u,\"status\":%d}", i,
                           a->positions[i].duplicate ? 200 : 201);
            created += a->positions[i].duplicate ? 0 : 1;
            continue;
        }
        failed++;
        char field[EV_PATH_LEN_MAX], message[EV_MESSAGE_LEN_MAX];
        api_buf_t extra = {0};
        refusal(a, i, code, field, sizeof(field), message, sizeof(message), &extra);
        api_problem_json(&results, fl_err_http_status(code), code, field, message, "");
        api_buf_printf(&results, ",\"index\":%u%s}", i, extra.data != NULL ? extra.data : "");
        api_buf_free(&extra);
    }
    api_buf_str(&results, "]");
    if (failed > 0 && a->atomic) {
        uint32_t i = a->req.failed_index < a->count ? a->req.failed_index : 0;
        int code = a->results[i] != 0 ? a->results[i] : a->req.status;
        char field[EV_PATH_LEN_MAX], message[EV_MESSAGE_LEN_MAX];
        api_buf_t extra = {0};
        refusal(a, i, code, field, sizeof(field), message, sizeof(message), &extra);
        api_buf_printf(&extra, ",\"index\":%u,\"results\":%s", i,
                       results.data != NULL ? results.data : "[]");
        api_problem(conn, code, field, message, extra.oom ? "" : extra.data);
        api_buf_free(&extra);
    } else {
        api_buf_t body = {0};
        api_buf_printf(&body, "{\"atomic\":%s,\"results\":", a->atomic ? "true" : "false");
        api_buf_add(&body, results.data, results.len);
        api_buf_str(&body, "}");
        int status = failed > 0 ? 207 : created > 0 ? 201 : 200;
        api_respond_json(conn, status, "", &body);
        api_buf_free(&body);
    }
    api_buf_free(&results);
}

/* User lifecycle events the ledger recorded are mirrored in the auth store (role, disabled),
 * so that the next request of that user is checked against them. */
static void mirror_users(api_conn_t *conn, const append_t *a)
{
    for (uint32_t i = 0; i < a->count; i++) {
        const eng_event_t *event = &a->events[i];
        int result = a->results[i] != 0 ? a->results[i] : a->req.status;
        if (result != 0 || strncmp(event->type, "User", 4) != 0 || a->positions[i].duplicate)
            continue;
        const ev_type_t *type = ev_type_find(event->type, strlen(event->type));
        char json[4096];
        int len = type != NULL ? ev_payload_to_json(type, event->schema_version, event->payload,
                                                    event->payload_len, json, sizeof(json))
                               : FL_EINVAL;
        int rc = len < 0 ? len
                         : api_auth_apply_event(conn->server->auth, conn->tenant->name, event->type,
                                                json, (size_t)len);
        if (rc != 0)
            api_log(API_LOG_ERROR, conn->req.request_id, "cannot mirror a user event",
                    ",\"type\":\"%s\",\"error\":\"%s\"", event->type, fl_errname(rc));
    }
}

void api_events_append_done(api_conn_t *conn)
{
    append_t *a = conn->append;
    assert(a != NULL && conn->pending_append);
    conn->pending_append = false;
    conn->server->appends_pending--;
    if (a->req.status == 0 || a->req.status == FL_EABORTED || a->results[0] == 0)
        api_metrics_batch(&conn->server->metrics, a->count);
    mirror_users(conn, a);
    if (conn->close_requested) {
        api_conn_close(conn);
        return;
    }
    if (a->single)
        respond_single(conn, a);
    else
        respond_many(conn, a);
}
