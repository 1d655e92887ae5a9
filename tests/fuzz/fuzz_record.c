/*
 * Fuzz target: stored record bytes through the engine's direct msgpack decoder (the one every
 * read and verify uses). Property: never a crash or an out-of-bounds read; a decoded record's
 * strings, entities and payload lie inside the input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "engine/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const uint8_t *data, size_t size, const void *ptr, size_t len)
{
    const uint8_t *at = ptr;
    if (len > 0 && (at < data || at + len > data + size))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eng_record_t record;
    if (size > UINT32_MAX || eng_record_decode(data, (uint32_t)size, &record) != 0)
        return 0;
    inside(data, size, record.type.ptr, record.type.len);
    inside(data, size, record.stream.ptr, record.stream.len);
    inside(data, size, record.actor_user.ptr, record.actor_user.len);
    if (record.entities_count > ENG_ENTITIES_MAX)
        abort();
    for (uint32_t i = 0; i < record.entities_count; i++)
        inside(data, size, record.entities[i].ptr, record.entities[i].len);
    inside(data, size, record.payload, record.payload_len);
    return 0;
}
