/*
 * seal.c: personal data on its way into the ledger and back out (docs/security.md, "Personal
 * data at rest"). A posted event is first validated on the plaintext the client sent; then each
 * of its EV_SENSITIVE strings is sealed with the key of the person its type names (pii.c), and
 * the sealed event is decoded again with EV_DECODE_SEALED, which refuses a sensitive field left
 * in plaintext: nothing unsealed reaches the ledger by this path. A reader gets the payload with
 * those fields decrypted; a field whose person was erased is null, and the record says why.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <assert.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    api_tenant_t *tenant;
    char person[API_PII_PERSON_LEN_MAX + 1];
    char event_id[40];
    char sealed[API_PII_SEALED_LEN(EV_STRING_LEN_MAX) + 1];
} sealer_t;

static int seal_fields(sealer_t *s, const ev_field_t *fields, uint32_t count, json_t *object,
                       char *path, size_t path_len)
{
    for (uint32_t f = 0; f < count; f++) {
        const ev_field_t *field = &fields[f];
        json_t *value = json_object_get(object, field->name);
        int written = snprintf(path + path_len, EV_PATH_LEN_MAX - path_len, "%s%s",
                               path_len > 0 ? "." : "", field->name);
        if (value == NULL || written < 0 || (size_t)written >= EV_PATH_LEN_MAX - path_len)
            continue;
        size_t here = path_len + (size_t)written;
        int rc = 0;
        if ((field->flags & EV_SENSITIVE) && json_is_string(value)) {
            char context[EV_PATH_LEN_MAX + 48];
            snprintf(context, sizeof(context), "%s/%s", s->event_id, path);
            rc = api_pii_encrypt(s->tenant->server->auth, s->tenant->name, s->person, context,
                                 json_string_value(value), json_string_length(value), s->sealed,
                                 sizeof(s->sealed));
            if (rc > 0)
                rc = json_object_set_new(object, field->name, json_string(s->sealed)) == 0
                         ? 0
                         : FL_ENOMEM;
        } else if (field->kind == EV_OBJECTS && json_is_array(value)) {
            for (size_t i = 0; rc == 0 && i < json_array_size(value); i++) {
                int n = snprintf(path + here, EV_PATH_LEN_MAX - here, "[%zu]", i);
                if (n > 0 && (size_t)n < EV_PATH_LEN_MAX - here)
                    rc = seal_fields(s, field->items, field->items_count, json_array_get(value, i),
                                     path, here + (size_t)n);
            }
        }
        if (rc < 0)
            return rc;
        path[path_len] = '\0';
    }
    return 0;
}

int api_seal_event(api_tenant_t *tenant, const ev_type_t *type, void *event)
{
    json_t *payload = json_object_get(event, "payload");
    const char *id = json_string_value(json_object_get(event, "id"));
    const char *person = json_string_value(json_object_get(payload, type->person_field));
    /* The event was validated: its id is a UUID and the person field a required id. */
    if (type->person_kind == NULL || person == NULL || id == NULL)
        return FL_EINVAL;
    sealer_t *s = malloc(sizeof(*s));
    if (s == NULL)
        return FL_ENOMEM;
    s->tenant = tenant;
    int len = snprintf(s->person, sizeof(s->person), "%s:%s", type->person_kind, person);
    assert(len > 0 && (size_t)len < sizeof(s->person));
    snprintf(s->event_id, sizeof(s->event_id), "%s", id);
    char path[EV_PATH_LEN_MAX] = "";
    int rc = seal_fields(s, type->fields, type->fields_count, payload, path, 0);
    free(s);
    return rc;
}

/* ---- revealing ---- */

typedef struct {
    api_tenant_t *tenant;
    bool personal;  /* the reader may read personal data */
    char *redacted; /* a JSON object being built */
    size_t redacted_len;
} revealer_t;

bool api_role_reads_personal(ev_role_t role)
{
    return role == EV_ROLE_ADMIN || role == EV_ROLE_MANAGER;
}

static int reveal(const char *path, const char *text, size_t len, char *out, size_t size,
                  void *data)
{
    revealer_t *r = data;
    if (len < EV_SEALED_PREFIX_LEN || memcmp(text, EV_SEALED_PREFIX, EV_SEALED_PREFIX_LEN) != 0) {
        /* Written before sealing existed, or straight into the ledger by a tool: as stored. */
        if (len > size)
            return FL_ETOOBIG;
        memcpy(out, text, len);
        return (int)len;
    }
    int rc = r->personal
                 ? api_pii_decrypt(r->tenant->server->auth, r->tenant->name, text, len, out, size)
                 : FL_EFORBIDDEN;
    if (rc >= 0)
        return rc;
    size_t left = API_REDACTED_BYTES_MAX - r->redacted_len;
    int n = snprintf(r->redacted + r->redacted_len, left, "%s\"%s\":\"%s\"",
                     r->redacted_len == 0 ? "{" : ",", path,
                     rc == FL_EFORBIDDEN ? "restricted"
                     : rc == FL_EERASED  ? "erased"
                                         : "unreadable");
    if (n > 0 && (size_t)n < left - 1) /* room kept for the closing brace */
        r->redacted_len += (size_t)n;
    return rc;
}

int api_reveal_payload(api_tenant_t *tenant, const ev_type_t *type, uint32_t schema_version,
                       const uint8_t *payload, size_t payload_len, bool personal, char *out,
                       size_t size, char *redacted)
{
    revealer_t r = {.tenant = tenant, .personal = personal, .redacted = redacted};
    redacted[0] = '\0';
    if (!ev_type_sensitive(type))
        return ev_payload_to_json(type, schema_version, payload, payload_len, out, size);
    int rc = ev_payload_to_json_reveal(type, schema_version, payload, payload_len, out, size,
                                       reveal, &r);
    if (r.redacted_len > 0) {
        redacted[r.redacted_len] = '}';
        redacted[r.redacted_len + 1] = '\0';
    }
    return rc;
}
