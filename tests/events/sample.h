/*
 * sample.h: builds, from a type's own table, an event that the catalog must accept: every field
 * present with a value at its lower bound. The event tests mutate it field by field.
 */
#ifndef FL_TEST_EVENTS_SAMPLE_H
#define FL_TEST_EVENTS_SAMPLE_H

#include <jansson.h>
#include <string.h>

#include "events/events.h"

static json_t *sample_object(const ev_field_t *fields, uint32_t count);

static inline json_t *sample_value(const ev_field_t *field)
{
    char text[EV_STRING_LEN_MAX + 1];
    size_t count = field->min > 0 ? (size_t)field->min : 1;
    switch (field->kind) {
    case EV_STRING:
        memset(text, 'a', count);
        return json_stringn(text, count);
    case EV_ID:
        return json_string("R2026-0001");
    case EV_UUID:
        return json_string("0190b2a0-7c1d-7000-8000-000000000001");
    case EV_INT:
    case EV_QTY:
        return json_integer(field->min != 0 || field->max != 0 ? field->min : 0);
    case EV_TIME:
        return json_integer(field->min != 0 || field->max != 0 ? field->min : 1700000000000000);
    case EV_ENUM:
        return json_string(field->values[0]);
    case EV_BOOL:
        return json_true();
    case EV_SHA256:
        memset(text, 'a', 64);
        return json_stringn(text, 64);
    case EV_OBJECTS: {
        json_t *array = json_array();
        for (size_t i = 0; i < count; i++)
            json_array_append_new(array, sample_object(field->items, field->items_count));
        return array;
    }
    case EV_IDS: {
        json_t *array = json_array();
        for (size_t i = 0; i < count; i++) {
            snprintf(text, sizeof(text), "ID-%zu", i);
            json_array_append_new(array, json_string(text));
        }
        return array;
    }
    }
    return json_null();
}

static json_t *sample_object(const ev_field_t *fields, uint32_t count)
{
    json_t *object = json_object();
    for (uint32_t i = 0; i < count; i++)
        json_object_set_new(object, fields[i].name, sample_value(&fields[i]));
    return object;
}

/* {"id", "type", "occurred_at_us", "payload"} for type. */
static inline json_t *sample_event(const ev_type_t *type)
{
    return json_pack("{s:s, s:s, s:I, s:o}", "id", "0190b2a0-7c1d-7000-8000-0000000000aa", "type",
                     type->name, "occurred_at_us", (json_int_t)1700000000000000, "payload",
                     sample_object(type->fields, type->fields_count));
}

/* A role allowed to post type. */
static inline ev_actor_t sample_actor(const ev_type_t *type)
{
    ev_actor_t actor = {.user = "u1", .role = EV_ROLE_COUNT, .device = "d1"};
    for (int role = 0; role < EV_ROLE_COUNT && actor.role == EV_ROLE_COUNT; role++)
        if (ev_role_may_post(type, (ev_role_t)role))
            actor.role = (ev_role_t)role;
    return actor;
}

#endif
