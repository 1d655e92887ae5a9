/*
 * Tests of the record codec: a stored record decodes to what was appended, and anything else
 * (truncations, other types, unknown format versions, random damage) is refused cleanly.
 */
#include "tests/support/support.h"

#include <msgpack.h>

static uint8_t raw[4096];
static uint32_t raw_len;

/* Appends one event to a scratch ledger and keeps a copy of its stored bytes. */
static void setup(void)
{
    char dir[256];
    test_tmpdir(dir, sizeof(dir));
    eng_ledger_t *ledger = test_ledger_open(dir);
    test_event_t e;
    test_event_make(&e, "hu-rec", 4);
    memset(e.event.correlation_id, 0xab, ENG_ID_BYTES);
    test_append_one(ledger, &e.event);
    eng_iter_t *iter;
    eng_record_t r;
    cr_assert_eq(eng_read(ledger, 1, &r, &iter), 0);
    cr_assert_leq(r.raw_len, sizeof(raw));
    memcpy(raw, r.raw, r.raw_len);
    raw_len = r.raw_len;
    eng_iter_close(iter);
    eng_close(ledger);
    test_tmpdir_remove(dir);
}

TestSuite(record, .init = setup, .timeout = 30);

Test(record, a_stored_record_decodes_to_what_was_appended)
{
    eng_record_t r;
    cr_assert_eq(eng_record_decode(raw, raw_len, &r), 0);
    cr_assert_eq(r.seq, 1);
    cr_assert_eq(r.stream_version, 1);
    cr_assert_eq(r.correlation_id[0], 0xab);
    cr_assert_eq(r.causation_id[0], 0, "no causation id decodes as zeros");
    cr_assert_eq(r.actor_role.len, strlen("weaver"));
    cr_assert_eq(r.raw, raw);
}

Test(record, every_truncation_is_refused)
{
    eng_record_t r;
    for (uint32_t len = 0; len < raw_len; len++)
        cr_assert_eq(eng_record_decode(raw, len, &r), FL_ECORRUPT, "length %u", len);
}

Test(record, trailing_bytes_are_refused)
{
    uint8_t longer[sizeof(raw) + 1];
    memcpy(longer, raw, raw_len);
    longer[raw_len] = 0xc0;
    eng_record_t r;
    cr_assert_eq(eng_record_decode(longer, raw_len + 1, &r), FL_ECORRUPT);
}

Test(record, an_unknown_format_version_is_refused)
{
    uint8_t copy[sizeof(raw)];
    memcpy(copy, raw, raw_len);
    /* 17 elements make an array 16 (0xdc, two length bytes); the format version follows. */
    cr_assert_eq(copy[0], 0xdc);
    cr_assert_eq(copy[3], 1, "the format version is the array's first element");
    copy[3] = 2;
    eng_record_t r;
    cr_assert_eq(eng_record_decode(copy, raw_len, &r), FL_ECORRUPT);
}

Test(record, msgpack_of_another_shape_is_refused)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer packer;
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_array(&packer, 17);
    for (int i = 0; i < 17; i++)
        msgpack_pack_uint32(&packer, 1);
    eng_record_t r;
    cr_assert_eq(eng_record_decode((const uint8_t *)buffer.data, (uint32_t)buffer.size, &r),
                 FL_ECORRUPT);
    msgpack_sbuffer_clear(&buffer);
    msgpack_pack_map(&packer, 0);
    cr_assert_eq(eng_record_decode((const uint8_t *)buffer.data, (uint32_t)buffer.size, &r),
                 FL_ECORRUPT);
    msgpack_sbuffer_destroy(&buffer);
}

Test(record, random_damage_never_crashes_the_decoder)
{
    uint8_t copy[sizeof(raw)];
    unsigned seed = 12345, refused = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(copy, raw, raw_len);
        for (int flips = 1 + round % 4; flips > 0; flips--) {
            seed = seed * 1103515245u + 12345u;
            copy[(seed >> 8) % raw_len] ^= (uint8_t)(1u << ((seed >> 4) % 8));
        }
        eng_record_t r;
        int rc = eng_record_decode(copy, raw_len, &r);
        cr_assert(rc == 0 || rc == FL_ECORRUPT);
        refused += rc != 0;
    }
    cr_assert_gt(refused, 0);
}

Test(record, msgpack_c_reads_a_stored_record_as_plain_msgpack)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    size_t offset = 0;
    cr_assert_eq(msgpack_unpack_next(&unpacked, (const char *)raw, raw_len, &offset),
                 MSGPACK_UNPACK_SUCCESS);
    cr_assert_eq(offset, raw_len);
    msgpack_object root = unpacked.data;
    cr_assert_eq(root.type, MSGPACK_OBJECT_ARRAY);
    cr_assert_eq(root.via.array.size, 17);
    eng_record_t r;
    cr_assert_eq(eng_record_decode(raw, raw_len, &r), 0);
    cr_assert_eq(root.via.array.ptr[1].via.u64, r.seq);
    msgpack_object stream = root.via.array.ptr[8];
    cr_assert_eq(stream.type, MSGPACK_OBJECT_STR);
    cr_assert_eq(stream.via.str.size, r.stream.len);
    cr_assert_eq(memcmp(stream.via.str.ptr, r.stream.ptr, r.stream.len), 0);
    msgpack_object payload = root.via.array.ptr[16];
    cr_assert_eq(payload.type, MSGPACK_OBJECT_BIN);
    cr_assert_eq(payload.via.bin.size, r.payload_len);
    msgpack_unpacked_destroy(&unpacked);
}
