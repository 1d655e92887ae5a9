/*
 * Fuzz target: an event as an app posts it (JSON), through the catalog's decoder and validation.
 * Property: never a crash, a leak or undefined behaviour; a refusal is a catalog code with a
 * path; an accepted event's stored payload turns back into JSON that decodes to the very same
 * payload bytes (the canonical form is a fixed point).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "events/events.h"

#define JSON_OUT_MAX (512 * 1024)

static char json_out[JSON_OUT_MAX];
static char again[JSON_OUT_MAX + 256];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ev_event_t event, second;
    ev_error_t error;
    ev_actor_t actor = {.user = "fuzz", .role = EV_ROLE_MANAGER, .device = "fuzz"};
    int rc = ev_decode_json((const char *)data, size, &actor, &event, &error);
    /* A type the manager may not post: as the first role that may, to reach the payload. */
    for (int role = 0; rc == FL_EFORBIDDEN_ROLE && role < EV_ROLE_COUNT; role++) {
        actor.role = (ev_role_t)role;
        rc = ev_decode_json((const char *)data, size, &actor, &event, &error);
    }
    if (rc != 0) {
        if (rc >= 0 || fl_err_http_status(rc) < 400 || error.message[0] == '\0')
            abort(); /* a refusal always says what and why */
        return 0;
    }
    int len = ev_payload_to_json(event.type, event.schema_version, event.payload, event.payload_len,
                                 json_out, sizeof(json_out));
    if (len < 0)
        abort(); /* what was accepted must read back */
    /* Post it again with the current schema: the payload must come out byte for byte. */
    char id[37];
    fl_uuid_format(event.id, id);
    int total = snprintf(again, sizeof(again),
                         "{\"id\":\"%s\",\"type\":\"%s\",\"occurred_at_us\":%lld,\"payload\":%s}",
                         id, event.type->name, (long long)event.occurred_at_us, json_out);
    if (total < 0 || (size_t)total >= sizeof(again))
        return 0;
    if (event.schema_version != event.type->schema_version)
        return 0; /* an upcast payload gains fields: not the same bytes, by design */
    if (ev_decode_json(again, (size_t)total, &actor, &second, &error) != 0 ||
        second.payload_len != event.payload_len ||
        memcmp(second.payload, event.payload, event.payload_len) != 0)
        abort();
    return 0;
}
