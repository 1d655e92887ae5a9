/*
 * catalog_md: prints the generated part of docs/events.md from the catalog table itself: the
 * types grouped by the role app that posts them, which types each role may post, and every field
 * with its kind, limits, unit, values and entity. Written from ev_catalog, it cannot drift from
 * what the ledger accepts; the doc's hand-written part stops at the marker line printed first.
 *
 * Regenerating (from the repository root, with the target built in build/):
 *   sed -i '/^<!-- catalog_md:/,$d' docs/events.md && build/events/catalog_md >> docs/events.md
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "events/events.h"

#define NUMBER_TEXT_MAX 32                    /* an int64 with its commas and sign, and a NUL */
#define UNITS_TEXT_MAX  (NUMBER_TEXT_MAX + 8) /* the same with a decimal part */
#define KINDS_MAX       (EV_ENTITIES_MAX + 1)

/* The role apps, in the order that picks a type's home: the first floor app whose role may post
 * it. The desktop (manager, admin) comes last and is home to the types no floor role may post. */
typedef struct {
    const char *title;
    uint32_t roles;
} app_t;

static const app_t apps[] = {
    {"Weaver", EV_ROLE_BIT(WEAVER)},
    {"Cutter", EV_ROLE_BIT(CUTTER)},
    {"Mechanic", EV_ROLE_BIT(MECHANIC)},
    {"Raw-material storekeeper", EV_ROLE_BIT(STORE_RAW)},
    {"Finished-goods storekeeper", EV_ROLE_BIT(STORE_FINISHED)},
    {"Subcontracting storekeeper", EV_ROLE_BIT(STORE_SUBCONTRACT)},
    {"Quality control", EV_ROLE_BIT(QUALITY)},
    {"Desktop", EV_ROLE_BIT(MANAGER) | EV_ROLE_BIT(ADMIN)},
};

#define APPS_COUNT  (sizeof(apps) / sizeof(apps[0]))
#define DESKTOP_APP (APPS_COUNT - 1)

static const char *const kind_names[] = {"string", "id",   "uuid",   "int",     "qty", "enum",
                                         "bool",   "time", "sha256", "objects", "ids"};

_Static_assert(sizeof(kind_names) / sizeof(kind_names[0]) == EV_IDS + 1,
               "one name for each field kind");

static size_t home_app(const ev_type_t *type)
{
    for (size_t app = 0; app < DESKTOP_APP; app++)
        if (type->roles & apps[app].roles)
            return app;
    return DESKTOP_APP;
}

/* 1000000 as "1,000,000". */
static const char *number_text(int64_t number, char out[NUMBER_TEXT_MAX])
{
    char digits[NUMBER_TEXT_MAX];
    unsigned long long magnitude =
        number < 0 ? 0ull - (unsigned long long)number : (unsigned long long)number;
    int len = snprintf(digits, sizeof(digits), "%llu", magnitude);
    size_t at = 0;
    if (number < 0)
        out[at++] = '-';
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[at++] = ',';
        out[at++] = digits[i];
    }
    out[at] = '\0';
    return out;
}

/* A quantity in thousandths as units: 1500 as "1.5", -1 as "-0.001". */
static const char *units_text(int64_t milli, char out[UNITS_TEXT_MAX])
{
    char whole[NUMBER_TEXT_MAX];
    int64_t fraction = milli % 1000;
    number_text(milli / 1000, whole);
    const char *sign = milli < 0 && milli / 1000 == 0 ? "-" : "";
    if (fraction == 0) {
        snprintf(out, UNITS_TEXT_MAX, "%s%s", sign, whole);
        return out;
    }
    char digits[4];
    snprintf(digits, sizeof(digits), "%03lld", (long long)(fraction < 0 ? -fraction : fraction));
    for (int last = 2; last > 0 && digits[last] == '0'; last--)
        digits[last] = '\0';
    snprintf(out, UNITS_TEXT_MAX, "%s%s.%s", sign, whole, digits);
    return out;
}

/* Microseconds since the epoch as a UTC date. */
static const char *date_text(int64_t time_us, char out[NUMBER_TEXT_MAX])
{
    time_t seconds = (time_t)(time_us / 1000000);
    struct tm tm;
    if (gmtime_r(&seconds, &tm) == NULL || strftime(out, NUMBER_TEXT_MAX, "%Y-%m-%d", &tm) == 0)
        snprintf(out, NUMBER_TEXT_MAX, "%lld us", (long long)time_us);
    return out;
}

/* A type's name as the anchor of its heading: markdown anchors are lower case. */
static const char *anchor(const char *name, char out[EV_TYPE_LEN_MAX + 1])
{
    size_t len = 0;
    for (; name[len] != '\0' && len < EV_TYPE_LEN_MAX; len++)
        out[len] = (char)tolower((unsigned char)name[len]);
    out[len] = '\0';
    return out;
}

/* Roles in the order of the apps, the desk roles last. */
static const ev_role_t role_order[] = {
    EV_ROLE_WEAVER,    EV_ROLE_CUTTER,         EV_ROLE_MECHANIC,
    EV_ROLE_STORE_RAW, EV_ROLE_STORE_FINISHED, EV_ROLE_STORE_SUBCONTRACT,
    EV_ROLE_QUALITY,   EV_ROLE_MANAGER,        EV_ROLE_ADMIN,
};

_Static_assert(sizeof(role_order) / sizeof(role_order[0]) == EV_ROLE_COUNT,
               "every role has its place in the order");

static void print_roles(uint32_t roles)
{
    const char *separator = "";
    for (size_t i = 0; i < EV_ROLE_COUNT; i++) {
        if (roles & (1u << role_order[i])) {
            printf("%s%s", separator, ev_role_name(role_order[i]));
            separator = ", ";
        }
    }
}

/* The fields in short: "hu_id, weight_milli?, outputs[](hu_id, grade)"; "?" marks optional. */
static void print_field_summary(const ev_field_t *fields, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        const ev_field_t *field = &fields[i];
        printf("%s%s%s", i > 0 ? ", " : "", field->name,
               field->kind == EV_OBJECTS || field->kind == EV_IDS ? "[]" : "");
        if (field->kind == EV_OBJECTS) {
            printf("(");
            print_field_summary(field->items, field->items_count);
            printf(")");
        }
        if (!(field->flags & EV_REQUIRED))
            printf("?");
    }
}

/* Adds the entity kinds that fields name to kinds, each once. */
static void collect_kinds(const ev_field_t *fields, uint32_t count, const char **kinds,
                          size_t *kinds_count)
{
    for (uint32_t i = 0; i < count; i++) {
        const ev_field_t *field = &fields[i];
        if (field->kind == EV_OBJECTS)
            collect_kinds(field->items, field->items_count, kinds, kinds_count);
        if (field->entity == NULL)
            continue;
        bool seen = false;
        for (size_t k = 0; k < *kinds_count && !seen; k++)
            seen = strcmp(kinds[k], field->entity) == 0;
        if (!seen && *kinds_count < KINDS_MAX)
            kinds[(*kinds_count)++] = field->entity;
    }
}

static void print_type_row(const ev_type_t *type)
{
    const char *kinds[KINDS_MAX];
    size_t kinds_count = 0;
    collect_kinds(type->fields, type->fields_count, kinds, &kinds_count);
    char link[EV_TYPE_LEN_MAX + 1];
    printf("| [%s](#%s) | %u | ", type->name, anchor(type->name, link), type->schema_version);
    print_roles(type->roles);
    printf(" | `%s-{%s}` | `", type->stream_kind, type->stream_field);
    print_field_summary(type->fields, type->fields_count);
    printf("` | ");
    for (size_t k = 0; k < kinds_count; k++)
        printf("%s%s", k > 0 ? ", " : "", kinds[k]);
    printf(" |\n");
}

static void print_app(size_t app)
{
    printf("\n### %s (", apps[app].title);
    print_roles(apps[app].roles);
    printf(")\n\n");
    printf("| type | v | roles | stream | fields (`?` optional) | entities |\n");
    printf("|---|---|---|---|---|---|\n");
    for (uint32_t i = 0; i < ev_catalog_count; i++)
        if (home_app(&ev_catalog[i]) == app)
            print_type_row(&ev_catalog[i]);
    if (app == DESKTOP_APP)
        return;
    uint32_t others = 0;
    for (uint32_t i = 0; i < ev_catalog_count; i++) {
        const ev_type_t *type = &ev_catalog[i];
        if ((type->roles & apps[app].roles) && home_app(type) != app) {
            char link[EV_TYPE_LEN_MAX + 1];
            printf("%s[%s](#%s)",
                   others++ == 0 ? "\nAlso open to this app, listed under another: " : ", ",
                   type->name, anchor(type->name, link));
        }
    }
    if (others > 0)
        printf(".\n");
}

/* Which types each role may post; a role that may post most of them is listed by exception. */
static void print_role_index(void)
{
    printf("\n### What each role may post\n\n");
    printf("| role | types | which |\n|---|---|---|\n");
    for (size_t r = 0; r < EV_ROLE_COUNT; r++) {
        ev_role_t role = role_order[r];
        uint32_t count = 0;
        for (uint32_t i = 0; i < ev_catalog_count; i++)
            count += ev_role_may_post(&ev_catalog[i], role);
        bool by_exception = count > ev_catalog_count / 2;
        printf("| %s | %u | %s", ev_role_name(role), count, by_exception ? "all but " : "");
        const char *separator = "";
        for (uint32_t i = 0; i < ev_catalog_count; i++) {
            if (ev_role_may_post(&ev_catalog[i], role) != by_exception) {
                printf("%s%s", separator, ev_catalog[i].name);
                separator = ", ";
            }
        }
        printf(" |\n");
    }
}

static void print_limits(const ev_field_t *field)
{
    char low[UNITS_TEXT_MAX], high[UNITS_TEXT_MAX];
    switch (field->kind) {
    case EV_STRING:
        printf("%s..%s bytes", number_text(field->min, low), number_text(field->max, high));
        break;
    case EV_INT:
        printf("%s..%s", number_text(field->min, low), number_text(field->max, high));
        break;
    case EV_QTY:
        printf("%s..%s", number_text(field->min, low), number_text(field->max, high));
        printf(" (%s..", units_text(field->min, low));
        printf("%s)", units_text(field->max, high));
        break;
    case EV_TIME:
        printf("%s..%s", date_text(field->min, low), date_text(field->max, high));
        break;
    case EV_ENUM:
        for (const char *const *value = field->values; *value != NULL; value++)
            printf("%s`%s`", value == field->values ? "" : ", ", *value);
        break;
    case EV_OBJECTS:
    case EV_IDS:
        printf("%s..%s items", number_text(field->min, low), number_text(field->max, high));
        break;
    case EV_ID:
    case EV_UUID:
    case EV_BOOL:
    case EV_SHA256:
        break;
    }
}

static void print_field_rows(const char *prefix, const ev_field_t *fields, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        const ev_field_t *field = &fields[i];
        printf("| `%s%s` | %s", prefix, field->name, kind_names[field->kind]);
        if (field->entity != NULL)
            printf(" (%s)", field->entity);
        printf(" | %s | ", field->flags & EV_REQUIRED ? "yes" : "");
        print_limits(field);
        printf(" | %s | %s%s |\n", field->unit != NULL ? field->unit : "",
               field->flags & EV_SENSITIVE ? "**sensitive**: " : "", field->doc);
        if (field->kind == EV_OBJECTS) {
            char nested[EV_PATH_LEN_MAX];
            snprintf(nested, sizeof(nested), "%s%s[].", prefix, field->name);
            print_field_rows(nested, field->items, field->items_count);
        }
    }
}

static void print_type_fields(const ev_type_t *type)
{
    printf("\n#### %s\n\n", type->name);
    printf("%c%s. Version %u; stream `%s-{%s}`; posted by ", toupper((unsigned char)type->doc[0]),
           type->doc + 1, type->schema_version, type->stream_kind, type->stream_field);
    print_roles(type->roles);
    if (type->person_kind != NULL)
        printf(". Its sensitive fields are the personal data of `%s:{%s}`, sealed with that "
               "person's key",
               type->person_kind, type->person_field);
    printf(".\n\n| field | kind | required | limits or values | unit | doc |\n");
    printf("|---|---|---|---|---|---|\n");
    print_field_rows("", type->fields, type->fields_count);
}

int main(void)
{
    printf("<!-- catalog_md: everything below is printed by events/tool/catalog_md; do not edit "
           "it by hand. -->\n");
    printf("\n## The catalog by role app\n\n");
    printf("%u types. Each is listed once, under the first app in this order whose role may post "
           "it; the roles column says who else may. Names link to the type's fields below.\n",
           ev_catalog_count);
    for (size_t app = 0; app < APPS_COUNT; app++)
        print_app(app);
    print_role_index();
    printf("\n## Every field\n\n");
    printf("Types in name order. Limits are those validation applies: text lengths in bytes; "
           "quantities (`qty`) in thousandths of the unit, followed by the same range in units; "
           "times in microseconds since the epoch, shown as dates (UTC). Nested fields are named "
           "by their path.\n");
    for (uint32_t i = 0; i < ev_catalog_count; i++)
        print_type_fields(&ev_catalog[i]);
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
