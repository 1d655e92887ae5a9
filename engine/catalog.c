/*
 * catalog.c: the bridge from a validated catalog event (events/) to the ledger's own event.
 * The actor comes from the authenticated session: the ledger records who posted, never a name
 * the event's body chose.
 */
#include "engine/engine.h"
#include "events/events.h"

#include <assert.h>
#include <string.h>

void eng_event_from_catalog(const ev_event_t *event, const ev_actor_t *actor, eng_event_t *out)
{
    assert(event->type != NULL && event->entities_count <= ENG_ENTITIES_MAX);
    memset(out, 0, sizeof(*out));
    memcpy(out->id, event->id, ENG_ID_BYTES);
    out->type = event->type->name;
    out->schema_version = event->schema_version;
    out->stream = event->stream;
    out->expected_version = event->expected_version;
    out->occurred_at_us = event->occurred_at_us;
    out->actor_user = actor->user != NULL ? actor->user : "";
    out->actor_role = ev_role_name(actor->role);
    out->actor_device = actor->device != NULL ? actor->device : "";
    memcpy(out->correlation_id, event->correlation_id, ENG_ID_BYTES);
    memcpy(out->causation_id, event->causation_id, ENG_ID_BYTES);
    for (uint32_t i = 0; i < event->entities_count; i++)
        out->entities[i] = event->entities[i];
    out->entities_count = event->entities_count;
    out->payload = event->payload;
    out->payload_len = event->payload_len;
}
