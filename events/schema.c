/*
 * schema.c: the JSON Schema (OpenAPI 3.1 dialect) of each type's payload, from the same table
 * that validation reads, so the documentation cannot drift from what the ledger accepts.
 */
#include "events/events.h"

#include <jansson.h>
#include <stdio.h>

static json_t *field_schema(const ev_field_t *field);

static json_t *object_schema(const ev_field_t *fields, uint32_t count, const char *doc)
{
    json_t *schema = json_pack("{s:s, s:b}", "type", "object", "additionalProperties", 0);
    json_t *properties = json_object(), *required = json_array();
    for (uint32_t i = 0; i < count; i++) {
        json_object_set_new(properties, fields[i].name, field_schema(&fields[i]));
        if (fields[i].flags & EV_REQUIRED)
            json_array_append_new(required, json_string(fields[i].name));
    }
    json_object_set_new(schema, "properties", properties);
    json_object_set_new(schema, "required", required);
    if (doc != NULL)
        json_object_set_new(schema, "description", json_string(doc));
    return schema;
}

static json_t *number_schema(const ev_field_t *field)
{
    json_t *schema = json_pack("{s:s}", "type", "integer");
    if (field->min != 0 || field->max != 0) {
        json_object_set_new(schema, "minimum", json_integer(field->min));
        json_object_set_new(schema, "maximum", json_integer(field->max));
    }
    if (field->unit != NULL)
        json_object_set_new(schema, "x-unit", json_string(field->unit));
    if (field->kind == EV_QTY)
        json_object_set_new(schema, "x-fixed-point", json_string("thousandths of the unit"));
    if (field->kind == EV_TIME)
        json_object_set_new(schema, "x-unit", json_string("microseconds since the Unix epoch"));
    return schema;
}

static json_t *id_schema(void)
{
    return json_pack("{s:s, s:i, s:i, s:s}", "type", "string", "minLength", 1, "maxLength",
                     EV_ID_LEN_MAX, "pattern", "^[A-Za-z0-9._:-]+$");
}

static json_t *field_schema(const ev_field_t *field)
{
    json_t *schema = NULL;
    switch (field->kind) {
    case EV_STRING:
        schema = json_pack("{s:s, s:I}", "type", "string", "maxLength",
                           (json_int_t)(field->max > 0 ? field->max : EV_STRING_LEN_MAX));
        if (field->min > 0)
            json_object_set_new(schema, "minLength", json_integer(field->min));
        break;
    case EV_ID:
        schema = id_schema();
        break;
    case EV_UUID:
        schema = json_pack("{s:s, s:s}", "type", "string", "format", "uuid");
        break;
    case EV_INT:
    case EV_QTY:
    case EV_TIME:
        schema = number_schema(field);
        break;
    case EV_ENUM: {
        json_t *values = json_array();
        for (const char *const *value = field->values; *value != NULL; value++)
            json_array_append_new(values, json_string(*value));
        schema = json_pack("{s:s, s:o}", "type", "string", "enum", values);
        break;
    }
    case EV_BOOL:
        schema = json_pack("{s:s}", "type", "boolean");
        break;
    case EV_SHA256:
        schema = json_pack("{s:s, s:s}", "type", "string", "pattern", "^[0-9a-f]{64}$");
        break;
    case EV_OBJECTS:
    case EV_IDS:
        schema =
            json_pack("{s:s, s:o, s:I}", "type", "array", "items",
                      field->kind == EV_IDS ? id_schema()
                                            : object_schema(field->items, field->items_count, NULL),
                      "maxItems", (json_int_t)(field->max > 0 ? field->max : EV_ARRAY_ITEMS_MAX));
        if (field->min > 0)
            json_object_set_new(schema, "minItems", json_integer(field->min));
        break;
    }
    if (schema == NULL)
        return json_object();
    if (field->doc != NULL)
        json_object_set_new(schema, "description", json_string(field->doc));
    if (field->entity != NULL)
        json_object_set_new(schema, "x-entity", json_string(field->entity));
    if (field->flags & EV_SENSITIVE)
        json_object_set_new(schema, "x-sensitive", json_true());
    return schema;
}

char *ev_schema_json(const ev_type_t *type)
{
    json_t *schema = object_schema(type->fields, type->fields_count, type->doc);
    if (schema == NULL)
        return NULL;
    json_t *roles = json_array();
    for (int role = 0; role < EV_ROLE_COUNT; role++)
        if (ev_role_may_post(type, (ev_role_t)role))
            json_array_append_new(roles, json_string(ev_role_name((ev_role_t)role)));
    json_object_set_new(schema, "title", json_string(type->name));
    json_object_set_new(schema, "x-schema-version", json_integer(type->schema_version));
    json_object_set_new(schema, "x-roles", roles);
    char stream[EV_NAME_LEN_MAX];
    snprintf(stream, sizeof(stream), "%s-{%s}", type->stream_kind, type->stream_field);
    json_object_set_new(schema, "x-stream", json_string(stream));
    char *text = json_dumps(schema, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(schema);
    return text;
}
