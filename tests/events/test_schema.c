/*
 * Tests of the generated JSON Schemas: one per type, parseable, naming every field, its
 * required ones, its roles and its stream, with the limits validation applies.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "events/events.h"

Test(schema, every_type_has_a_schema_that_matches_its_table)
{
    for (uint32_t i = 0; i < ev_catalog_count; i++) {
        const ev_type_t *type = &ev_catalog[i];
        char *text = ev_schema_json(type);
        cr_assert_not_null(text);
        json_error_t parse_error;
        json_t *schema = json_loads(text, 0, &parse_error);
        cr_assert_not_null(schema, "%s: %s", type->name, parse_error.text);
        cr_assert_str_eq(json_string_value(json_object_get(schema, "title")), type->name);
        cr_assert(json_is_false(json_object_get(schema, "additionalProperties")));
        json_t *properties = json_object_get(schema, "properties");
        cr_assert_eq(json_object_size(properties), type->fields_count, "%s", type->name);
        size_t required = 0;
        for (uint32_t f = 0; f < type->fields_count; f++) {
            json_t *property = json_object_get(properties, type->fields[f].name);
            cr_assert_not_null(property, "%s.%s", type->name, type->fields[f].name);
            required += (type->fields[f].flags & EV_REQUIRED) != 0;
            if (type->fields[f].kind == EV_STRING)
                cr_assert_eq(json_integer_value(json_object_get(property, "maxLength")),
                             type->fields[f].max);
            if (type->fields[f].flags & EV_SENSITIVE)
                cr_assert(json_is_true(json_object_get(property, "x-sensitive")));
        }
        cr_assert_eq(json_array_size(json_object_get(schema, "required")), required);
        cr_assert_gt(json_array_size(json_object_get(schema, "x-roles")), 0);
        cr_assert_not_null(
            strstr(json_string_value(json_object_get(schema, "x-stream")), type->stream_field));
        json_decref(schema);
        free(text);
    }
}
