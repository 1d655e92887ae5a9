/*
 * catalog.c: every event type of the plant, one table, sorted by name (ev_type_find searches it).
 *
 * Conventions: ids name their entity kind ("hu", "of", "loom", "beam", "item", "loc", "sub",
 * "nc", "int", "count", "pr", "user", "defect"); the entity key indexed for an id field is
 * "<kind>-<value>", the same shape as stream names, so an HU's stream and the HU as an entity are
 * one key. Quantities end in _milli (thousandths of their unit); times end in _us.
 */
#include "events/events.h"

#include <jansson.h>

#define COUNT(array) (uint32_t)(sizeof(array) / sizeof((array)[0]))
#define ROLE(name) EV_ROLE_BIT(name)

static const char *const grades[] = {"first", "second", NULL};

/* ---- ProductionDeclared: a weaver declares a woven roll (version 2 added the pick counter) */
static const ev_field_t production_declared[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the new roll's handling unit (its label)"},
    {.name = "of_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "of",
     .doc = "the production order woven"},
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "the loom that wove it"},
    {.name = "item_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "item",
     .doc = "the article"},
    {.name = "pieces", .kind = EV_INT, .flags = EV_REQUIRED, .min = 1, .max = 100000,
     .unit = "pieces", .doc = "towels in the roll"},
    {.name = "length_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1,
     .max = 10000000000, .unit = "m", .doc = "roll length"},
    {.name = "picks", .kind = EV_INT, .flags = EV_REQUIRED, .min = 0, .max = 1000000000000,
     .unit = "picks", .doc = "pick counter reading for this roll"},
};

static int production_declared_upcast(uint32_t from_version, void *payload)
{
    /* Version 1 had no pick counter: the roll's picks are unknown, recorded as 0. */
    if (from_version != 1)
        return FL_EINVALID_VALUE;
    return json_object_set_new((json_t *)payload, "picks", json_integer(0)) == 0
               ? 0
               : FL_EINVALID_VALUE;
}

/* ---- CuttingDeclared: a roll cut into graded bundles and waste */
static const ev_field_t cutting_outputs[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the new bundle"},
    {.name = "grade", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = grades,
     .doc = "first or second choice"},
    {.name = "pieces", .kind = EV_INT, .flags = EV_REQUIRED, .min = 1, .max = 100000,
     .unit = "pieces", .doc = "towels in the bundle"},
};

static const ev_field_t cutting_declared[] = {
    {.name = "input_hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the roll cut"},
    {.name = "outputs", .kind = EV_OBJECTS, .flags = EV_REQUIRED, .min = 1, .max = 200,
     .items = cutting_outputs, .items_count = COUNT(cutting_outputs),
     .doc = "bundles made, by grade"},
    {.name = "waste_pieces", .kind = EV_INT, .flags = EV_REQUIRED, .min = 0, .max = 100000,
     .unit = "pieces", .doc = "pieces thrown away"},
    {.name = "waste_reason", .kind = EV_STRING, .min = 0, .max = 200,
     .doc = "why, when there is waste"},
};

const ev_type_t ev_catalog[] = {
    {.name = "CuttingDeclared", .schema_version = 1, .roles = ROLE(CUTTER),
     .stream_kind = "hu", .stream_field = "input_hu_id", .fields = cutting_declared,
     .fields_count = COUNT(cutting_declared),
     .doc = "a woven roll was cut into first and second choice bundles and waste"},
    {.name = "ProductionDeclared", .schema_version = 2, .roles = ROLE(WEAVER),
     .stream_kind = "hu", .stream_field = "hu_id", .fields = production_declared,
     .fields_count = COUNT(production_declared),
     .doc = "a weaver declared a woven roll, labelled as a new handling unit",
     .upcast = production_declared_upcast},
};

const uint32_t ev_catalog_count = COUNT(ev_catalog);
