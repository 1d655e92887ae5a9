/*
 * Tests of the catalog table itself: sorted, complete descriptions, streams that exist, limits
 * on everything, and every role of the plant able to post something.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "events/events.h"

Test(catalog, types_are_sorted_by_name_and_found_by_name)
{
    cr_assert_gt(ev_catalog_count, 0);
    for (uint32_t i = 0; i < ev_catalog_count; i++) {
        const ev_type_t *type = &ev_catalog[i];
        if (i > 0)
            cr_assert_lt(strcmp(ev_catalog[i - 1].name, type->name), 0, "%s is out of order",
                         type->name);
        cr_assert_eq(ev_type_find(type->name, strlen(type->name)), type);
    }
    cr_assert_null(ev_type_find("NoSuchEvent", 11));
    cr_assert_null(ev_type_find("", 0));
}

static void check_fields(const ev_type_t *type, const ev_field_t *fields, uint32_t count, int depth)
{
    cr_assert_leq(depth, EV_DEPTH_MAX);
    for (uint32_t i = 0; i < count; i++) {
        const ev_field_t *f = &fields[i];
        cr_assert_not_null(f->name);
        cr_assert_not_null(f->doc, "%s.%s has no doc", type->name, f->name);
        for (uint32_t j = 0; j < i; j++)
            cr_assert_str_neq(f->name, fields[j].name, "%s repeats %s", type->name, f->name);
        if (f->kind == EV_ENUM)
            cr_assert(f->values != NULL && f->values[0] != NULL, "%s.%s", type->name, f->name);
        if (f->kind == EV_STRING || f->kind == EV_OBJECTS || f->kind == EV_IDS)
            cr_assert_gt(f->max, 0, "%s.%s has no upper bound", type->name, f->name);
        if (f->kind == EV_INT || f->kind == EV_QTY)
            cr_assert(f->max > f->min, "%s.%s has no range", type->name, f->name);
        if (f->kind == EV_OBJECTS) {
            cr_assert(f->items != NULL && f->items_count > 0, "%s.%s", type->name, f->name);
            check_fields(type, f->items, f->items_count, depth + 1);
        }
        if (f->entity != NULL)
            cr_assert(f->kind == EV_ID || f->kind == EV_IDS, "%s.%s", type->name, f->name);
    }
}

Test(catalog, every_type_is_fully_described_with_limits_on_every_field)
{
    for (uint32_t i = 0; i < ev_catalog_count; i++) {
        const ev_type_t *type = &ev_catalog[i];
        cr_assert_leq(strlen(type->name), EV_TYPE_LEN_MAX);
        cr_assert_geq(type->schema_version, 1);
        cr_assert_not_null(type->doc, "%s has no doc", type->name);
        cr_assert_neq(type->roles, 0, "nobody may post %s", type->name);
        cr_assert_eq(type->roles & ~EV_ROLES_ALL, 0);
        cr_assert(type->schema_version == 1 || type->upcast != NULL,
                  "%s is at version %u with no upcast", type->name, type->schema_version);
        check_fields(type, type->fields, type->fields_count, 0);
    }
}

Test(catalog, every_stream_is_a_required_id_of_its_own_kind)
{
    for (uint32_t i = 0; i < ev_catalog_count; i++) {
        const ev_type_t *type = &ev_catalog[i];
        const ev_field_t *stream = NULL;
        for (uint32_t j = 0; j < type->fields_count; j++)
            if (strcmp(type->fields[j].name, type->stream_field) == 0)
                stream = &type->fields[j];
        cr_assert_not_null(stream, "%s: no field %s", type->name, type->stream_field);
        cr_assert_eq(stream->kind, EV_ID, "%s: the stream field is not an id", type->name);
        cr_assert(stream->flags & EV_REQUIRED, "%s: the stream field is optional", type->name);
        cr_assert_str_eq(stream->entity, type->stream_kind, "%s", type->name);
    }
}

Test(catalog, every_role_of_the_plant_can_post_something)
{
    for (int role = 0; role < EV_ROLE_COUNT; role++) {
        uint32_t types = 0;
        for (uint32_t i = 0; i < ev_catalog_count; i++)
            types += ev_role_may_post(&ev_catalog[i], (ev_role_t)role);
        cr_assert_gt(types, 0, "the role %s can post nothing", ev_role_name((ev_role_t)role));
        const char *name = ev_role_name((ev_role_t)role);
        cr_assert_eq(ev_role_parse(name, strlen(name)), role);
    }
    cr_assert_eq(ev_role_parse("janitor", 7), EV_ROLE_COUNT);
}

Test(catalog, every_type_with_personal_data_names_the_person_it_belongs_to)
{
    uint32_t sensitive = 0;
    for (uint32_t i = 0; i < ev_catalog_count; i++) {
        const ev_type_t *type = &ev_catalog[i];
        if (!ev_type_sensitive(type)) {
            cr_assert_null(type->person_field, "%s names a person but has no sensitive field",
                           type->name);
            continue;
        }
        sensitive++;
        cr_assert(type->person_kind != NULL && type->person_field != NULL,
                  "%s has sensitive fields but names no person", type->name);
        const ev_field_t *person = NULL;
        for (uint32_t f = 0; f < type->fields_count; f++)
            if (strcmp(type->fields[f].name, type->person_field) == 0)
                person = &type->fields[f];
        cr_assert_not_null(person, "%s.%s does not exist", type->name, type->person_field);
        cr_assert(person->kind == EV_ID && (person->flags & EV_REQUIRED),
                  "%s.%s must be a required id", type->name, type->person_field);
        cr_assert(!(person->flags & EV_SENSITIVE), "%s: the person's id cannot be sealed",
                  type->name);
    }
    cr_assert_geq(sensitive, 2); /* UserInvited, SubcontractorOnboarded */
    cr_assert(ev_type_sensitive(ev_type_find("UserInvited", 11)));
    cr_assert(!ev_type_sensitive(ev_type_find("PersonDataErased", 16)));
}
