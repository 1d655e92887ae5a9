/*
 * record.c: the stored form of an event, in msgpack, and its hash.
 *
 * A stored value is the record's msgpack bytes followed by their 32-byte SHA-256. The record is
 * an array of ENG_RECORD_FIELDS elements, in this order:
 *   format, seq, stream_version, recorded_at_us, prev_hash (bin 32), id (bin 16), type (str),
 *   schema_version, stream (str), occurred_at_us, actor_user, actor_role, actor_device (str),
 *   correlation_id, causation_id (bin 16 or nil), entities (array of str), payload (bin).
 * Because prev_hash is inside the hashed bytes, each hash covers the previous one: the chain.
 */
#include "engine/engine_int.h"

#include <assert.h>
#include <openssl/sha.h>
#include <string.h>

static const uint8_t zero_id[ENG_ID_BYTES];

void eng__hash(const uint8_t *bytes, size_t len, uint8_t out[ENG_HASH_BYTES])
{
    SHA256(bytes, len, out);
}

static int pack_str(msgpack_packer *packer, const char *text)
{
    size_t len = strlen(text);
    return msgpack_pack_str(packer, len) | msgpack_pack_str_body(packer, text, len);
}

static int pack_bin(msgpack_packer *packer, const uint8_t *bytes, size_t len)
{
    return msgpack_pack_bin(packer, len) | msgpack_pack_bin_body(packer, bytes, len);
}

static int pack_optional_id(msgpack_packer *packer, const uint8_t id[ENG_ID_BYTES])
{
    if (memcmp(id, zero_id, ENG_ID_BYTES) == 0)
        return msgpack_pack_nil(packer);
    return pack_bin(packer, id, ENG_ID_BYTES);
}

int eng__record_encode(msgpack_sbuffer *buffer, const eng_event_t *event, uint64_t seq,
                       uint64_t stream_version, int64_t recorded_at_us,
                       const uint8_t prev_hash[ENG_HASH_BYTES])
{
    assert(seq >= 1 && stream_version >= 1);
    msgpack_sbuffer_clear(buffer);
    msgpack_packer packer;
    msgpack_packer_init(&packer, buffer, msgpack_sbuffer_write);
    /* The sbuffer's writer fails only on allocation failure; each call returns -1 then. */
    int rc = msgpack_pack_array(&packer, ENG_RECORD_FIELDS);
    rc |= msgpack_pack_uint32(&packer, ENG_FORMAT_VERSION);
    rc |= msgpack_pack_uint64(&packer, seq);
    rc |= msgpack_pack_uint64(&packer, stream_version);
    rc |= msgpack_pack_int64(&packer, recorded_at_us);
    rc |= pack_bin(&packer, prev_hash, ENG_HASH_BYTES);
    rc |= pack_bin(&packer, event->id, ENG_ID_BYTES);
    rc |= pack_str(&packer, event->type);
    rc |= msgpack_pack_uint32(&packer, event->schema_version);
    rc |= pack_str(&packer, event->stream);
    rc |= msgpack_pack_int64(&packer, event->occurred_at_us);
    rc |= pack_str(&packer, event->actor_user);
    rc |= pack_str(&packer, event->actor_role);
    rc |= pack_str(&packer, event->actor_device);
    rc |= pack_optional_id(&packer, event->correlation_id);
    rc |= pack_optional_id(&packer, event->causation_id);
    rc |= msgpack_pack_array(&packer, event->entities_count);
    for (uint32_t i = 0; i < event->entities_count; i++)
        rc |= pack_str(&packer, event->entities[i]);
    rc |= pack_bin(&packer, event->payload, event->payload_len);
    if (rc != 0)
        return FL_ENOMEM;
    return 0;
}

static bool get_u64(const msgpack_object *object, uint64_t *out)
{
    if (object->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return false;
    *out = object->via.u64;
    return true;
}

static bool get_i64(const msgpack_object *object, int64_t *out)
{
    if (object->type == MSGPACK_OBJECT_POSITIVE_INTEGER && object->via.u64 <= INT64_MAX) {
        *out = (int64_t)object->via.u64;
        return true;
    }
    if (object->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = object->via.i64;
        return true;
    }
    return false;
}

static bool get_str(const msgpack_object *object, uint32_t len_max, eng_str_t *out)
{
    if (object->type != MSGPACK_OBJECT_STR || object->via.str.size > len_max)
        return false;
    out->ptr = object->via.str.ptr;
    out->len = object->via.str.size;
    return true;
}

static bool get_fixed_bin(const msgpack_object *object, uint8_t *out, uint32_t len)
{
    if (object->type != MSGPACK_OBJECT_BIN || object->via.bin.size != len)
        return false;
    memcpy(out, object->via.bin.ptr, len);
    return true;
}

static bool get_optional_id(const msgpack_object *object, uint8_t out[ENG_ID_BYTES])
{
    if (object->type == MSGPACK_OBJECT_NIL) {
        memset(out, 0, ENG_ID_BYTES);
        return true;
    }
    return get_fixed_bin(object, out, ENG_ID_BYTES);
}

static bool decode_fields(const msgpack_object *fields, eng_record_t *out)
{
    uint64_t format = 0, schema_version = 0;
    if (!get_u64(&fields[0], &format) || format != ENG_FORMAT_VERSION)
        return false;
    const msgpack_object *entities = &fields[15];
    const msgpack_object *payload = &fields[16];
    bool ok = get_u64(&fields[1], &out->seq) && get_u64(&fields[2], &out->stream_version) &&
              get_i64(&fields[3], &out->recorded_at_us) &&
              get_fixed_bin(&fields[4], out->prev_hash, ENG_HASH_BYTES) &&
              get_fixed_bin(&fields[5], out->id, ENG_ID_BYTES) &&
              get_str(&fields[6], ENG_TYPE_LEN_MAX, &out->type) &&
              get_u64(&fields[7], &schema_version) && schema_version <= UINT32_MAX &&
              get_str(&fields[8], ENG_STREAM_LEN_MAX, &out->stream) &&
              get_i64(&fields[9], &out->occurred_at_us) &&
              get_str(&fields[10], ENG_ACTOR_LEN_MAX, &out->actor_user) &&
              get_str(&fields[11], ENG_ACTOR_LEN_MAX, &out->actor_role) &&
              get_str(&fields[12], ENG_ACTOR_LEN_MAX, &out->actor_device) &&
              get_optional_id(&fields[13], out->correlation_id) &&
              get_optional_id(&fields[14], out->causation_id) &&
              entities->type == MSGPACK_OBJECT_ARRAY &&
              entities->via.array.size <= ENG_ENTITIES_MAX && payload->type == MSGPACK_OBJECT_BIN &&
              payload->via.bin.size <= ENG_PAYLOAD_BYTES_MAX;
    if (!ok || out->seq == 0 || out->stream_version == 0 || out->type.len == 0 ||
        out->stream.len == 0)
        return false;
    out->schema_version = (uint32_t)schema_version;
    out->entities_count = entities->via.array.size;
    for (uint32_t i = 0; i < out->entities_count; i++)
        if (!get_str(&entities->via.array.ptr[i], ENG_ENTITY_LEN_MAX, &out->entities[i]))
            return false;
    out->payload = (const uint8_t *)payload->via.bin.ptr;
    out->payload_len = payload->via.bin.size;
    return true;
}

int eng__record_decode_zone(const uint8_t *raw, uint32_t len, msgpack_zone *zone,
                            eng_record_t *out)
{
    msgpack_object root;
    size_t offset = 0;
    msgpack_zone_clear(zone);
    msgpack_unpack_return ret = msgpack_unpack((const char *)raw, len, &offset, zone, &root);
    if (ret != MSGPACK_UNPACK_SUCCESS || offset != len || root.type != MSGPACK_OBJECT_ARRAY ||
        root.via.array.size != ENG_RECORD_FIELDS || !decode_fields(root.via.array.ptr, out)) {
        memset(out, 0, sizeof(*out));
        return FL_ECORRUPT;
    }
    out->raw = raw;
    out->raw_len = len;
    return 0;
}

int eng_record_decode(const uint8_t *raw, uint32_t len, eng_record_t *out)
{
    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, 4096))
        return FL_ENOMEM;
    int rc = eng__record_decode_zone(raw, len, &zone, out);
    msgpack_zone_destroy(&zone);
    return rc;
}

int eng__value_decode(const MDB_val *value, uint64_t seq, msgpack_zone *zone, eng_record_t *out)
{
    if (value->mv_size <= ENG_HASH_BYTES || value->mv_size > UINT32_MAX)
        goto corrupt;
    uint32_t raw_len = (uint32_t)(value->mv_size - ENG_HASH_BYTES);
    const uint8_t *raw = value->mv_data;
    if (eng__record_decode_zone(raw, raw_len, zone, out) != 0 || out->seq != seq)
        goto corrupt;
    memcpy(out->hash, raw + raw_len, ENG_HASH_BYTES);
    return 0;
corrupt:
    memset(out, 0, sizeof(*out));
    out->seq = seq;
    return FL_ECORRUPT;
}

static bool str_equal(const char *text, eng_str_t stored)
{
    size_t len = strlen(text);
    return len == stored.len && memcmp(text, stored.ptr, len) == 0;
}

bool eng__record_same_content(const eng_event_t *event, const eng_record_t *record)
{
    if (!str_equal(event->type, record->type) || event->schema_version != record->schema_version ||
        !str_equal(event->stream, record->stream) ||
        event->occurred_at_us != record->occurred_at_us ||
        !str_equal(event->actor_user, record->actor_user) ||
        !str_equal(event->actor_role, record->actor_role) ||
        !str_equal(event->actor_device, record->actor_device) ||
        memcmp(event->correlation_id, record->correlation_id, ENG_ID_BYTES) != 0 ||
        memcmp(event->causation_id, record->causation_id, ENG_ID_BYTES) != 0 ||
        event->entities_count != record->entities_count ||
        event->payload_len != record->payload_len ||
        (event->payload_len > 0 &&
         memcmp(event->payload, record->payload, event->payload_len) != 0))
        return false;
    for (uint32_t i = 0; i < event->entities_count; i++)
        if (!str_equal(event->entities[i], record->entities[i]))
            return false;
    return true;
}
