/*
 * h_persons.c: POST /api/v1/persons/{person}/erase (admin only). Erasing a person (GDPR)
 * destroys the key that sealed their personal data (pii.c) and records a PersonDataErased
 * event; the ledger keeps every record, so its hash chain still verifies, while what was
 * sealed under that key can never be read again (readers get null and a "redacted" note).
 * The body is {"reason": "...", "id": "<UUID>"?, "occurred_at_us": N?}; a retry of the same
 * body (id and time) answers 200 with the first erasure's position, as any idempotent post does.
 */
#include "api/api_int.h"

#include <jansson.h>
#include <string.h>

/* "<person_kind>:<id>", a kind the catalog names (user, sub) and an id of the catalog. */
static bool person_valid(const char *person)
{
    const char *colon = strchr(person, ':');
    if (colon == NULL || strlen(person) > API_PII_PERSON_LEN_MAX)
        return false;
    size_t kind_len = (size_t)(colon - person), id_len = strlen(colon + 1);
    if (id_len == 0 || id_len > EV_ID_LEN_MAX)
        return false;
    for (const char *c = colon + 1; *c != '\0'; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '_' || *c == ':' || *c == '-'))
            return false;
    for (uint32_t i = 0; i < ev_catalog_count; i++) {
        const char *kind = ev_catalog[i].person_kind;
        if (kind != NULL && strlen(kind) == kind_len && memcmp(kind, person, kind_len) == 0)
            return true;
    }
    return false;
}

/* The PersonDataErased event of the request, or NULL with the problem answered. */
static json_t *erasure_event(api_conn_t *conn, const char *person)
{
    json_t *body = json_loadb(conn->req.body.data != NULL ? conn->req.body.data : "",
                              conn->req.body.len, JSON_REJECT_DUPLICATES, NULL);
    json_t *reason = json_object_get(body, "reason");
    json_t *id = json_object_get(body, "id");
    json_t *at = json_object_get(body, "occurred_at_us");
    if (!json_is_object(body) || !json_is_string(reason) || (id != NULL && !json_is_string(id)) ||
        (at != NULL && !json_is_integer(at))) {
        api_problem(conn, !json_is_object(body) ? FL_EINVALID_JSON : FL_EWRONG_TYPE,
                    !json_is_object(body)       ? ""
                    : !json_is_string(reason)   ? "reason"
                    : at != NULL && !json_is_integer(at) ? "occurred_at_us"
                                                         : "id",
                    "send {\"reason\": \"why\", \"id\": \"<UUID>\"?, \"occurred_at_us\": N?} (id "
                    "and time make a retry idempotent)",
                    "");
        json_decref(body);
        return NULL;
    }
    char id_text[37] = "";
    if (id == NULL) {
        uint8_t uuid[16];
        fl_uuid7(uuid);
        fl_uuid_format(uuid, id_text);
    }
    json_t *id_value = id != NULL ? json_incref(id) : json_string(id_text);
    json_t *event = json_pack("{s:o,s:s,s:I,s:{s:s,s:O}}", "id", id_value, "type",
                              "PersonDataErased", "occurred_at_us",
                              at != NULL ? json_integer_value(at) : (json_int_t)fl_now_us(),
                              "payload", "person_id", person, "reason", reason);
    json_decref(body);
    if (event == NULL)
        api_problem(conn, FL_ENOMEM, "", "", "");
    return event;
}

api_handled_t api_h_person_erase(api_conn_t *conn)
{
    const char *person = conn->req.params[0];
    if (!person_valid(person)) {
        api_problem(conn, FL_EINVALID_VALUE, "path:person",
                    "a person is user:<user_id> or sub:<sub_id>", "");
        return API_DONE;
    }
    json_t *event = erasure_event(conn, person);
    if (event == NULL)
        return API_DONE;
    return api_events_post_erasure(conn, event);
}
