/*
 * type.c: finding a type in the catalog and naming roles.
 */
#include "events/events.h"

#include <string.h>

static int compare_name(const char *name, size_t len, const char *other)
{
    int order = strncmp(name, other, len);
    if (order != 0)
        return order;
    return other[len] == '\0' ? 0 : -1; /* name is a prefix of other: it sorts first */
}

const ev_type_t *ev_type_find(const char *name, size_t len)
{
    if (memchr(name, '\0', len) != NULL)
        return NULL;
    uint32_t low = 0, high = ev_catalog_count;
    while (low < high) {
        uint32_t middle = low + (high - low) / 2;
        int order = compare_name(name, len, ev_catalog[middle].name);
        if (order == 0)
            return &ev_catalog[middle];
        if (order < 0)
            high = middle;
        else
            low = middle + 1;
    }
    return NULL;
}

static bool fields_sensitive(const ev_field_t *fields, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        if (fields[i].flags & EV_SENSITIVE)
            return true;
        if (fields[i].kind == EV_OBJECTS && fields_sensitive(fields[i].items, fields[i].items_count))
            return true;
    }
    return false;
}

bool ev_type_sensitive(const ev_type_t *type)
{
    return fields_sensitive(type->fields, type->fields_count);
}

static const char *const role_names[] = {
#define EV_ROLE_TEXT(name, text) text,
    EV_ROLE_MAP(EV_ROLE_TEXT)
#undef EV_ROLE_TEXT
};

const char *ev_role_name(ev_role_t role)
{
    return role < EV_ROLE_COUNT ? role_names[role] : "unknown";
}

ev_role_t ev_role_parse(const char *name, size_t len)
{
    for (int role = 0; role < EV_ROLE_COUNT; role++)
        if (strlen(role_names[role]) == len && memcmp(role_names[role], name, len) == 0)
            return (ev_role_t)role;
    return EV_ROLE_COUNT;
}
