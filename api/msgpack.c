/*
 * msgpack.c: content negotiation for phones on weak Wi-Fi. A msgpack body is turned into the
 * JSON the catalog validates, and a JSON answer into msgpack, so the handlers have one path.
 * Only what maps to JSON is accepted: maps with string keys, arrays, strings, integers,
 * floats, booleans and nil.
 */
#include "api/api_int.h"

#include <jansson.h>
#include <msgpack.h>
#include <string.h>

#define MSGPACK_DEPTH_MAX 32

static int object_to_json(const msgpack_object *object, api_buf_t *out, int depth)
{
    if (depth > MSGPACK_DEPTH_MAX)
        return FL_EINVALID_JSON;
    switch (object->type) {
    case MSGPACK_OBJECT_NIL:
        api_buf_str(out, "null");
        return 0;
    case MSGPACK_OBJECT_BOOLEAN:
        api_buf_str(out, object->via.boolean ? "true" : "false");
        return 0;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        api_buf_printf(out, "%llu", (unsigned long long)object->via.u64);
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        api_buf_printf(out, "%lld", (long long)object->via.i64);
        return 0;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        api_buf_printf(out, "%.17g", object->via.f64);
        return 0;
    case MSGPACK_OBJECT_STR:
        api_buf_json_str(out, object->via.str.ptr, object->via.str.size);
        return 0;
    case MSGPACK_OBJECT_ARRAY:
        api_buf_str(out, "[");
        for (uint32_t i = 0; i < object->via.array.size; i++) {
            if (i > 0)
                api_buf_str(out, ",");
            int rc = object_to_json(&object->via.array.ptr[i], out, depth + 1);
            if (rc != 0)
                return rc;
        }
        api_buf_str(out, "]");
        return 0;
    case MSGPACK_OBJECT_MAP:
        api_buf_str(out, "{");
        for (uint32_t i = 0; i < object->via.map.size; i++) {
            const msgpack_object_kv *kv = &object->via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR)
                return FL_EINVALID_JSON;
            if (i > 0)
                api_buf_str(out, ",");
            api_buf_json_str(out, kv->key.via.str.ptr, kv->key.via.str.size);
            api_buf_str(out, ":");
            int rc = object_to_json(&kv->val, out, depth + 1);
            if (rc != 0)
                return rc;
        }
        api_buf_str(out, "}");
        return 0;
    default:
        return FL_EINVALID_JSON; /* bin and ext have no JSON form */
    }
}

int api_msgpack_to_json(const void *bytes, size_t len, api_buf_t *out)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    size_t offset = 0;
    int rc = FL_EINVALID_JSON;
    msgpack_unpack_return ret = msgpack_unpack_next(&unpacked, bytes, len, &offset);
    if (ret == MSGPACK_UNPACK_SUCCESS && offset == len)
        rc = object_to_json(&unpacked.data, out, 0);
    msgpack_unpacked_destroy(&unpacked);
    if (rc == 0 && out->oom)
        rc = FL_ENOMEM;
    return rc;
}

static int buf_write(void *data, const char *bytes, size_t len)
{
    api_buf_add(data, bytes, len);
    return ((api_buf_t *)data)->oom ? -1 : 0;
}

static void pack(msgpack_packer *packer, const json_t *json)
{
    switch (json_typeof(json)) {
    case JSON_OBJECT: {
        msgpack_pack_map(packer, json_object_size(json));
        const char *key;
        json_t *value;
        json_object_foreach((json_t *)json, key, value)
        {
            msgpack_pack_str(packer, strlen(key));
            msgpack_pack_str_body(packer, key, strlen(key));
            pack(packer, value);
        }
        break;
    }
    case JSON_ARRAY:
        msgpack_pack_array(packer, json_array_size(json));
        for (size_t i = 0; i < json_array_size(json); i++)
            pack(packer, json_array_get(json, i));
        break;
    case JSON_STRING:
        msgpack_pack_str(packer, json_string_length(json));
        msgpack_pack_str_body(packer, json_string_value(json), json_string_length(json));
        break;
    case JSON_INTEGER:
        msgpack_pack_int64(packer, json_integer_value(json));
        break;
    case JSON_REAL:
        msgpack_pack_double(packer, json_real_value(json));
        break;
    case JSON_TRUE:
        msgpack_pack_true(packer);
        break;
    case JSON_FALSE:
        msgpack_pack_false(packer);
        break;
    case JSON_NULL:
        msgpack_pack_nil(packer);
        break;
    }
}

int api_json_to_msgpack(const char *json, size_t len, api_buf_t *out)
{
    json_t *root = json_loadb(json, len, JSON_DECODE_ANY | JSON_PRESERVE_ORDER, NULL);
    if (root == NULL)
        return FL_EINVALID_JSON;
    msgpack_packer packer;
    msgpack_packer_init(&packer, out, buf_write);
    pack(&packer, root);
    json_decref(root);
    return out->oom ? FL_ENOMEM : 0;
}
