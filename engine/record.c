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

/*
 * Decoding reads the fixed layout directly instead of building msgpack-c's object tree: a scan
 * decodes millions of records a second, and the tree cost two thirds of that time. The format is
 * still plain msgpack (test_record checks that msgpack-c's generic unpacker reads it).
 */
typedef struct {
    const uint8_t *at;
    const uint8_t *end;
} reader_t;

static inline bool read_bytes(reader_t *r, size_t count, const uint8_t **out)
{
    if ((size_t)(r->end - r->at) < count)
        return false;
    *out = r->at;
    r->at += count;
    return true;
}

/* Big-endian integers of 1, 2, 4 or 8 bytes; written out per width so that compilers turn
 * each into one load and a byte swap. */
static inline bool read_be(reader_t *r, size_t width, uint64_t *out)
{
    const uint8_t *b;
    if (!read_bytes(r, width, &b))
        return false;
    switch (width) {
    case 1:
        *out = b[0];
        return true;
    case 2:
        *out = (uint64_t)b[0] << 8 | b[1];
        return true;
    case 4:
        *out = (uint64_t)b[0] << 24 | (uint64_t)b[1] << 16 | (uint64_t)b[2] << 8 | b[3];
        return true;
    case 8:
        *out = (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 | (uint64_t)b[2] << 40 |
               (uint64_t)b[3] << 32 | (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 |
               (uint64_t)b[6] << 8 | b[7];
        return true;
    default:
        return false;
    }
}

static inline bool read_tag(reader_t *r, uint8_t *tag)
{
    if (r->at >= r->end)
        return false;
    *tag = *r->at++;
    return true;
}

/* Any msgpack integer, as a signed 64-bit value when it fits (sign in *negative). */
static inline bool read_int(reader_t *r, int64_t *value, bool *negative)
{
    uint8_t tag;
    uint64_t raw;
    if (!read_tag(r, &tag))
        return false;
    *negative = false;
    if (tag <= 0x7f) {
        *value = tag;
        return true;
    }
    if (tag >= 0xe0) {
        *value = (int8_t)tag;
        *negative = true;
        return true;
    }
    static const uint8_t widths[] = {1, 2, 4, 8};
    if (tag >= 0xcc && tag <= 0xcf) { /* uint 8..64 */
        if (!read_be(r, widths[tag - 0xcc], &raw) || raw > INT64_MAX)
            return false;
        *value = (int64_t)raw;
        return true;
    }
    if (tag >= 0xd0 && tag <= 0xd3) { /* int 8..64 */
        size_t width = widths[tag - 0xd0];
        if (!read_be(r, width, &raw))
            return false;
        if (width < 8 && (raw >> (8 * width - 1)) != 0)
            raw |= UINT64_MAX << (8 * width); /* sign extension */
        memcpy(value, &raw, sizeof(*value));
        *negative = *value < 0;
        return true;
    }
    return false;
}

static inline bool read_u64(reader_t *r, uint64_t *out)
{
    int64_t value;
    bool negative;
    if (!read_int(r, &value, &negative) || negative)
        return false;
    *out = (uint64_t)value;
    return true;
}

static inline bool read_i64(reader_t *r, int64_t *out)
{
    bool negative;
    return read_int(r, out, &negative);
}

static inline bool read_str(reader_t *r, uint32_t len_max, eng_str_t *out)
{
    uint8_t tag;
    uint64_t len;
    if (!read_tag(r, &tag))
        return false;
    if ((tag & 0xe0) == 0xa0)
        len = tag & 0x1f;
    else if (tag < 0xd9 || tag > 0xdb || !read_be(r, (size_t)1 << (tag - 0xd9), &len))
        return false;
    const uint8_t *bytes;
    if (len > len_max || !read_bytes(r, (size_t)len, &bytes))
        return false;
    out->ptr = (const char *)bytes;
    out->len = (uint32_t)len;
    return true;
}

static inline bool read_bin(reader_t *r, uint32_t len_max, const uint8_t **out, uint32_t *len_out)
{
    uint8_t tag;
    uint64_t len;
    if (!read_tag(r, &tag) || tag < 0xc4 || tag > 0xc6 ||
        !read_be(r, (size_t)1 << (tag - 0xc4), &len) || len > len_max ||
        !read_bytes(r, (size_t)len, out))
        return false;
    *len_out = (uint32_t)len;
    return true;
}

static inline bool read_fixed_bin(reader_t *r, uint8_t *out, uint32_t len)
{
    const uint8_t *bytes;
    uint32_t got;
    if (!read_bin(r, len, &bytes, &got) || got != len)
        return false;
    memcpy(out, bytes, len);
    return true;
}

static inline bool read_optional_id(reader_t *r, uint8_t out[ENG_ID_BYTES])
{
    if (r->at < r->end && *r->at == 0xc0) {
        r->at++;
        memset(out, 0, ENG_ID_BYTES);
        return true;
    }
    return read_fixed_bin(r, out, ENG_ID_BYTES);
}

static inline bool read_array(reader_t *r, uint32_t *count)
{
    uint8_t tag;
    uint64_t value;
    if (!read_tag(r, &tag))
        return false;
    if ((tag & 0xf0) == 0x90) {
        *count = tag & 0x0f;
        return true;
    }
    if ((tag != 0xdc && tag != 0xdd) || !read_be(r, tag == 0xdc ? 2 : 4, &value))
        return false;
    *count = (uint32_t)value;
    return true;
}

static bool decode_fields(reader_t *r, eng_record_t *out)
{
    uint32_t fields = 0, entities = 0;
    uint64_t format = 0, schema_version = 0;
    bool ok = read_array(r, &fields) && fields == ENG_RECORD_FIELDS && read_u64(r, &format) &&
              format == ENG_FORMAT_VERSION && read_u64(r, &out->seq) &&
              read_u64(r, &out->stream_version) && read_i64(r, &out->recorded_at_us) &&
              read_fixed_bin(r, out->prev_hash, ENG_HASH_BYTES) &&
              read_fixed_bin(r, out->id, ENG_ID_BYTES) &&
              read_str(r, ENG_TYPE_LEN_MAX, &out->type) && read_u64(r, &schema_version) &&
              schema_version >= 1 && schema_version <= UINT32_MAX &&
              read_str(r, ENG_STREAM_LEN_MAX, &out->stream) && read_i64(r, &out->occurred_at_us) &&
              read_str(r, ENG_ACTOR_LEN_MAX, &out->actor_user) &&
              read_str(r, ENG_ACTOR_LEN_MAX, &out->actor_role) &&
              read_str(r, ENG_ACTOR_LEN_MAX, &out->actor_device) &&
              read_optional_id(r, out->correlation_id) && read_optional_id(r, out->causation_id) &&
              read_array(r, &entities) && entities <= ENG_ENTITIES_MAX;
    if (!ok || out->seq == 0 || out->stream_version == 0 || out->type.len == 0 ||
        out->stream.len == 0)
        return false;
    out->schema_version = (uint32_t)schema_version;
    out->entities_count = entities;
    for (uint32_t i = 0; i < entities; i++)
        if (!read_str(r, ENG_ENTITY_LEN_MAX, &out->entities[i]) || out->entities[i].len == 0)
            return false;
    return read_bin(r, ENG_PAYLOAD_BYTES_MAX, &out->payload, &out->payload_len) && r->at == r->end;
}

int eng_record_decode(const uint8_t *raw, uint32_t len, eng_record_t *out)
{
    reader_t reader = {.at = raw, .end = raw + len};
    if (!decode_fields(&reader, out)) {
        memset(out, 0, sizeof(*out));
        return FL_ECORRUPT;
    }
    out->raw = raw;
    out->raw_len = len;
    return 0;
}

int eng__value_decode(const MDB_val *value, uint64_t seq, eng_record_t *out)
{
    if (value->mv_size <= ENG_HASH_BYTES || value->mv_size > UINT32_MAX)
        goto corrupt;
    uint32_t raw_len = (uint32_t)(value->mv_size - ENG_HASH_BYTES);
    const uint8_t *raw = value->mv_data;
    if (eng_record_decode(raw, raw_len, out) != 0 || out->seq != seq)
        goto corrupt;
    memcpy(out->hash, raw + raw_len, ENG_HASH_BYTES);
    return 0;
corrupt:
    memset(out, 0, sizeof(*out));
    out->seq = seq;
    return FL_ECORRUPT;
}

#define ACTOR_PREFIX     "actor:"
#define ACTOR_PREFIX_LEN (sizeof(ACTOR_PREFIX) - 1)

bool eng__record_names(const eng_record_t *record, const char *entity, size_t len)
{
    for (uint32_t i = 0; i < record->entities_count; i++)
        if (record->entities[i].len == len && memcmp(record->entities[i].ptr, entity, len) == 0)
            return true;
    return len > ACTOR_PREFIX_LEN && memcmp(entity, ACTOR_PREFIX, ACTOR_PREFIX_LEN) == 0 &&
           record->actor_user.len == len - ACTOR_PREFIX_LEN &&
           memcmp(record->actor_user.ptr, entity + ACTOR_PREFIX_LEN, len - ACTOR_PREFIX_LEN) == 0;
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
