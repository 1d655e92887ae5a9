/*
 * payload.c: a stored payload back to JSON for readers, upcast to its type's current version.
 *
 * Payloads are msgpack maps written by decode.c; they are read here with msgpack-c's generic
 * unpacker (reads are not the ledger's hot path) and rebuilt as jansson values.
 */
#include "events/events.h"

#include <jansson.h>
#include <msgpack.h>
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

int ev_payload_to_json(const ev_type_t *type, uint32_t schema_version, const uint8_t *payload,
                       size_t payload_len, char *out, size_t size)
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
