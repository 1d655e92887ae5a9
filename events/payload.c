/*
 * payload.c: a stored payload back to JSON for readers, upcast to its type's current version.
 *
 * Payloads are msgpack maps written by decode.c; they are read here with msgpack-c's generic
 * unpacker (reads are not the ledger's hot path) and rebuilt as jansson values. A reader that
 * can decrypt personal data passes a reveal callback, which sees each sensitive field's sealed
 * text (api/pii.c decrypts it).
 */
#include "events/events.h"

#include <jansson.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>

#define PAYLOAD_DEPTH_MAX (2 * EV_DEPTH_MAX + 2)

static json_t *to_json(const msgpack_object *object, int depth)
{
    if (depth > PAYLOAD_DEPTH_MAX)
        return NULL;
    switch (object->type) {
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean(object->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return object->via.u64 <= INT64_MAX ? json_integer((json_int_t)object->via.u64) : NULL;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_integer(object->via.i64);
    case MSGPACK_OBJECT_STR:
        return json_stringn_nocheck(object->via.str.ptr, object->via.str.size);
    case MSGPACK_OBJECT_ARRAY: {
        json_t *array = json_array();
        for (uint32_t i = 0; array != NULL && i < object->via.array.size; i++) {
            json_t *item = to_json(&object->via.array.ptr[i], depth + 1);
            if (item == NULL || json_array_append_new(array, item) != 0) {
                json_decref(array);
                array = NULL;
            }
        }
        return array;
    }
    case MSGPACK_OBJECT_MAP: {
        json_t *map = json_object();
        for (uint32_t i = 0; map != NULL && i < object->via.map.size; i++) {
            const msgpack_object_kv *pair = &object->via.map.ptr[i];
            json_t *value =
                pair->key.type == MSGPACK_OBJECT_STR ? to_json(&pair->val, depth + 1) : NULL;
            if (value == NULL || json_object_setn_new_nocheck(map, pair->key.via.str.ptr,
                                                              pair->key.via.str.size, value)) {
                json_decref(value);
                json_decref(map);
                map = NULL;
            }
        }
        return map;
    }
    default:
        return NULL; /* nil, floats, bin and ext are never written by decode.c */
    }
}

/* Passes every sensitive string of object (described by fields) through reveal. */
static int reveal_fields(const ev_field_t *fields, uint32_t count, json_t *object, char *path,
                         size_t path_len, ev_reveal_cb reveal, void *data)
{
    for (uint32_t f = 0; f < count; f++) {
        const ev_field_t *field = &fields[f];
        json_t *value = json_object_get(object, field->name);
        int written = snprintf(path + path_len, EV_PATH_LEN_MAX - path_len, "%s%s",
                               path_len > 0 ? "." : "", field->name);
        if (value == NULL || written < 0 || (size_t)written >= EV_PATH_LEN_MAX - path_len)
            continue;
        size_t here = path_len + (size_t)written;
        if ((field->flags & EV_SENSITIVE) && json_is_string(value)) {
            char text[EV_STRING_LEN_MAX];
            int len = reveal(path, json_string_value(value), json_string_length(value), text,
                             sizeof(text), data);
            json_t *shown = len >= 0 ? json_stringn(text, (size_t)len) : json_null();
            if (shown == NULL || json_object_set_new(object, field->name, shown) != 0)
                return FL_ENOMEM;
        } else if (field->kind == EV_OBJECTS && json_is_array(value)) {
            for (size_t i = 0; i < json_array_size(value); i++) {
                int n = snprintf(path + here, EV_PATH_LEN_MAX - here, "[%zu]", i);
                if (n < 0 || (size_t)n >= EV_PATH_LEN_MAX - here)
                    break;
                int rc = reveal_fields(field->items, field->items_count, json_array_get(value, i),
                                       path, here + (size_t)n, reveal, data);
                if (rc != 0)
                    return rc;
            }
        }
        path[path_len] = '\0';
    }
    return 0;
}

int ev_payload_to_json(const ev_type_t *type, uint32_t schema_version, const uint8_t *payload,
                       size_t payload_len, char *out, size_t size)
{
    return ev_payload_to_json_reveal(type, schema_version, payload, payload_len, out, size, NULL,
                                     NULL);
}

int ev_payload_to_json_reveal(const ev_type_t *type, uint32_t schema_version,
                              const uint8_t *payload, size_t payload_len, char *out, size_t size,
                              ev_reveal_cb reveal, void *data)
{
    if (schema_version == 0 || schema_version > type->schema_version)
        return FL_ECORRUPT;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    size_t offset = 0;
    json_t *json = NULL;
    int rc = FL_ECORRUPT;
    if (msgpack_unpack_next(&unpacked, (const char *)payload, payload_len, &offset) !=
            MSGPACK_UNPACK_SUCCESS ||
        offset != payload_len || unpacked.data.type != MSGPACK_OBJECT_MAP)
        goto done;
    if ((json = to_json(&unpacked.data, 0)) == NULL)
        goto done;
    for (uint32_t version = schema_version; version < type->schema_version; version++)
        if (type->upcast == NULL || type->upcast(version, json) != 0)
            goto done;
    if (reveal != NULL) {
        char path[EV_PATH_LEN_MAX] = "";
        rc = reveal_fields(type->fields, type->fields_count, json, path, 0, reveal, data);
        if (rc != 0)
            goto done;
    }
    size_t len = json_dumpb(json, out, size > 0 ? size - 1 : 0, JSON_COMPACT);
    if (len == 0 || len >= size) {
        rc = FL_ETOOBIG;
        goto done;
    }
    out[len] = '\0';
    rc = (int)len;
done:
    json_decref(json);
    msgpack_unpacked_destroy(&unpacked);
    return rc;
}
