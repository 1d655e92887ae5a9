/*
 * openapi.c: the OpenAPI 3.1 document, generated at start from the two lists that define the
 * API: the route table (paths, parameters, statuses) and the event catalog (one schema per
 * event type's payload, from events/). Nothing here is written by hand per route or per type,
 * except the shapes of the plant's state answers (answer_schemas below), which a route names
 * by its schema member; test_api_plant checks that each state route names its schema.
 */
#include "api/api_int.h"

#include <assert.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *problem_schema(void)
{
    return json_pack("{s:s, s:[s,s,s,s], s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s, s:s}, s:{s:s}, "
                     "s:{s:s}, s:{s:s}}}",
                     "type", "object", "required", "type", "status", "code", "field", "properties",
                     "type", "type", "string", "title", "type", "string", "status", "type",
                     "integer", "code", "type", "string", "description",
                     "stable machine code (base/base.h FL_ERR_MAP)", "field", "type", "string",
                     "detail", "type", "string", "request_id", "type", "string");
}

/* The envelope of a posted event; payload is one of the catalog's payload schemas. */
static json_t *event_schema(json_t *payloads)
{
    json_t *types = json_array();
    for (uint32_t i = 0; i < ev_catalog_count; i++)
        json_array_append_new(types, json_string(ev_catalog[i].name));
    return json_pack(
        "{s:s, s:[s,s,s,s], s:{s:{s:s, s:s}, s:{s:s, s:o}, s:{s:s, s:i}, s:{s:s}, s:{s:s, "
        "s:s}, s:{s:s, s:s}, s:{s:s, s:s}, s:{s:o}}}",
        "type", "object", "required", "id", "type", "occurred_at_us", "payload", "properties", "id",
        "type", "string", "format", "uuid", "type", "type", "string", "enum", types,
        "schema_version", "type", "integer", "minimum", 1, "occurred_at_us", "type", "integer",
        "expected_version", "type", "integer", "description",
        "-1 any, 0 the stream must not exist, N exactly this version", "correlation_id", "type",
        "string", "format", "uuid", "causation_id", "type", "string", "format", "uuid", "payload",
        "oneOf", payloads);
}

static json_t *catalog_schemas(json_t *schemas)
{
    json_t *payloads = json_array();
    for (uint32_t i = 0; i < ev_catalog_count; i++) {
        char *text = ev_schema_json(&ev_catalog[i]);
        json_t *schema = text != NULL ? json_loads(text, 0, NULL) : NULL;
        free(text);
        if (schema == NULL)
            continue;
        char name[EV_TYPE_LEN_MAX + 16];
        snprintf(name, sizeof(name), "%sPayload", ev_catalog[i].name);
        json_object_set_new(schemas, name, schema);
        char ref[EV_TYPE_LEN_MAX + 48];
        snprintf(ref, sizeof(ref), "#/components/schemas/%s", name);
        json_array_append_new(payloads, json_pack("{s:s}", "$ref", ref));
    }
    return payloads;
}

/* Building blocks of the answer schemas, as JSON text. */
#define S_STR   "{\"type\":\"string\"}"
#define S_STR0  "{\"type\":[\"string\",\"null\"]}"
#define S_INT   "{\"type\":\"integer\"}"
#define S_BOOL  "{\"type\":\"boolean\"}"
#define S_GRADE "{\"enum\":[\"none\",\"first\",\"second\"]}"
#define S_STATUS                                                                                   \
    "{\"enum\":[\"available\",\"on hold\",\"released\",\"rejected\",\"consumed\",\"shipped\"]}"
#define S_OBJECT(members) "{\"type\":\"object\",\"properties\":{" members "}}"
#define S_ARRAY(items)    "{\"type\":\"array\",\"items\":" items "}"
#define S_REF(name)       "{\"$ref\":\"#/components/schemas/" name "\"}"
#define HU_MEMBERS                                                                                 \
    "\"hu_id\":" S_STR ",\"status\":" S_STATUS ",\"item\":" S_STR ",\"location\":" S_STR           \
    ",\"parent\":" S_STR0 ",\"qty_milli\":" S_INT ",\"unit\":" S_STR ",\"grade\":" S_GRADE         \
    ",\"created_seq\":" S_INT ",\"holder\":" S_STR0 ",\"out_milli\":" S_INT
#define LOOM_BEAM S_OBJECT("\"beam_id\":" S_STR ",\"remaining_milli\":" S_INT)

/* The 200 answers of the plant's state routes, by the name a route's schema member gives. */
static const struct {
    const char *name;
    const char *json;
} answer_schemas[] = {
    {"HandlingUnit",
     S_OBJECT(HU_MEMBERS ",\"contents\":" S_ARRAY(S_OBJECT(
         HU_MEMBERS ",\"depth\":" S_INT)) ",\"contents_count\":" S_INT ",\"truncated\":" S_BOOL)},
    {"Genealogy",
     S_OBJECT("\"entity\":" S_STR ",\"direction\":{\"enum\":[\"down\",\"up\"]},\"links\":" S_ARRAY(
         S_OBJECT("\"from\":" S_STR ",\"to\":" S_STR ",\"kind\":" S_STR ",\"seq\":" S_INT
                  ",\"depth\":" S_INT)) ",\"truncated\":" S_BOOL)},
    {"Stock",
     S_OBJECT("\"rows\":" S_ARRAY(S_OBJECT(
         "\"item\":" S_STR ",\"location\":" S_STR ",\"status\":" S_STATUS ",\"grade\":" S_GRADE
         ",\"qty_milli\":" S_INT)) ",\"count\":" S_INT
                                   ",\"group_by\":" S_ARRAY(S_STR) ",\"truncated\":" S_BOOL)},
    {"Order",
     S_OBJECT("\"of_id\":" S_STR ",\"state\":{\"enum\":[\"created\",\"released\",\"in progress\","
              "\"closed\",\"cancelled\"]},\"item\":" S_STR ",\"unit\":" S_STR
              ",\"planned_milli\":" S_INT ",\"declared_milli\":" S_INT
              ",\"progress_permille\":" S_INT)},
    {"Loom", S_OBJECT("\"loom_id\":" S_STR ",\"stopped\":" S_BOOL ",\"stop_class\":" S_STR0
                      ",\"stop_code\":" S_STR0 ",\"since_seq\":" S_INT ",\"of_id\":" S_STR0
                      ",\"first_piece_passed\":" S_BOOL ",\"beams\":" S_OBJECT(
                          "\"ground\":{\"oneOf\":[" LOOM_BEAM ",{\"type\":\"null\"}]},"
                          "\"pile\":{\"oneOf\":[" LOOM_BEAM ",{\"type\":\"null\"}]}"))},
    {"LoomBoard", S_OBJECT("\"looms\":" S_ARRAY(S_REF(
                      "Loom")) ",\"count\":" S_INT ",\"stopped\":" S_INT ",\"truncated\":" S_BOOL)},
    {"Beam", S_OBJECT("\"beam_id\":" S_STR ",\"item\":" S_STR
                      ",\"position\":{\"enum\":[\"ground\",\"pile\"]},\"loom_id\":" S_STR0
                      ",\"mounted\":" S_BOOL ",\"remaining_milli\":" S_INT)},
    {"Intervention", S_OBJECT("\"int_id\":" S_STR ",\"state\":" S_STR ",\"loom_id\":" S_STR
                              ",\"since_seq\":" S_INT)},
    {"NonConformity", S_OBJECT("\"nc_id\":" S_STR ",\"state\":" S_STR ",\"since_seq\":" S_INT)},
    {"Count", S_OBJECT("\"count_id\":" S_STR ",\"state\":" S_STR ",\"locations\":" S_INT
                       ",\"since_seq\":" S_INT)},
    {"Shipment",
     S_OBJECT("\"ship_id\":" S_STR ",\"state\":" S_STR ",\"customer_location_id\":" S_STR
              ",\"units_loaded\":" S_INT ",\"since_seq\":" S_INT)},
    {"Label",
     S_OBJECT("\"hu_id\":" S_STR ",\"state\":" S_STR ",\"prints\":" S_INT ",\"since_seq\":" S_INT)},
    {"SubcontractLot",
     S_OBJECT("\"sublot_id\":" S_STR ",\"state\":{\"enum\":[\"open\",\"closed\"]},\"sub_id\":" S_STR
              ",\"item\":" S_STR ",\"unit\":" S_STR ",\"location\":" S_STR ",\"sent_milli\":" S_INT
              ",\"good_milli\":" S_INT ",\"rejected_milli\":" S_INT ",\"lost_milli\":" S_INT
              ",\"allowance_milli\":" S_INT ",\"out_milli\":" S_INT)},
};

static void add_answer_schemas(json_t *schemas)
{
    for (size_t i = 0; i < sizeof(answer_schemas) / sizeof(answer_schemas[0]); i++) {
        json_error_t error;
        json_t *schema = json_loads(answer_schemas[i].json, 0, &error);
        /* The texts are constants of this file: one that does not parse is a typo here. */
        assert(schema != NULL);
        json_object_set_new(schemas, answer_schemas[i].name, schema);
    }
}

static json_t *parameters(const api_route_t *route)
{
    json_t *list = json_array();
    for (const char *p = strchr(route->pattern, '{'); p != NULL; p = strchr(p + 1, '{')) {
        const char *close = strchr(p, '}');
        json_t *name = json_stringn(p + 1, (size_t)(close - p - 1));
        json_array_append_new(list, json_pack("{s:o, s:s, s:b, s:{s:s}}", "name", name, "in",
                                              "path", "required", 1, "schema", "type", "string"));
    }
    for (const char *p = route->params; *p != '\0';) {
        size_t len = strcspn(p, ",");
        json_array_append_new(list, json_pack("{s:s%, s:s, s:{s:s}}", "name", p, len, "in", "query",
                                              "schema", "type", "string"));
        p += len + (p[len] == ',' ? 1 : 0);
    }
    return list;
}

static json_t *responses(const api_route_t *route)
{
    json_t *out = json_object();
    for (const char *p = route->statuses; *p != '\0';) {
        size_t len = strcspn(p, ",");
        char status[8];
        snprintf(status, sizeof(status), "%.*s", (int)len, p);
        json_t *response = json_pack("{s:s}", "description", status[0] >= '4' ? "problem" : "ok");
        if (strcmp(status, "200") == 0 && route->schema != NULL) {
            char ref[96];
            snprintf(ref, sizeof(ref), "#/components/schemas/%s", route->schema);
            json_object_set_new(response, "content",
                                json_pack("{s:{s:{s:s}}, s:{}}", "application/json", "schema",
                                          "$ref", ref, "application/msgpack"));
        }
        if (status[0] >= '4')
            json_object_set_new(response, "content",
                                json_pack("{s:{s:{s:s}}}", "application/problem+json", "schema",
                                          "$ref", "#/components/schemas/Problem"));
        json_object_set_new(out, status, response);
        p += len + (p[len] == ',' ? 1 : 0);
    }
    return out;
}

static json_t *operation(const api_route_t *route)
{
    json_t *op =
        json_pack("{s:s, s:s, s:o, s:o}", "operationId", route->id, "summary", route->summary,
                  "parameters", parameters(route), "responses", responses(route));
    if (route->flags & API_ROUTE_BODY_EVENTS) {
        json_t *body =
            json_pack("{s:b, s:{s:{s:{s:[{s:s}, {s:s, s:{s:s}}]}}, s:{s:{}}}}", "required", 1,
                      "content", "application/json", "schema", "oneOf", "$ref",
                      "#/components/schemas/Event", "type", "array", "items", "$ref",
                      "#/components/schemas/Event", "application/msgpack", "schema");
        json_object_set_new(op, "requestBody", body);
        json_object_set_new(op, "description",
                            json_string("The actor recorded is the access token's user, role and "
                                        "device; each event type's x-roles say which roles may "
                                        "post it (403 FORBIDDEN_ROLE otherwise)."));
    }
    if (route->flags & API_ROUTE_PUBLIC) {
        json_object_set_new(op, "security", json_array()); /* no token */
    } else {
        uint32_t roles = api_route_roles(route);
        if (roles != (1u << EV_ROLE_COUNT) - 1) {
            json_t *names = json_array();
            for (int role = 0; role < EV_ROLE_COUNT; role++)
                if (roles & (1u << role))
                    json_array_append_new(names, json_string(ev_role_name((ev_role_t)role)));
            json_object_set_new(op, "x-roles", names);
        }
    }
    if (route->flags & API_ROUTE_DEPRECATED)
        json_object_set_new(op, "deprecated", json_true());
    if (route->flags & API_ROUTE_BODY_BLOB)
        json_object_set_new(op, "requestBody",
                            json_pack("{s:b, s:{s:{}, s:{}}}", "required", 1, "content",
                                      "image/jpeg", "image/png"));
    return op;
}

char *api_openapi_build(size_t *len)
{
    json_t *schemas = json_object();
    json_t *payloads = catalog_schemas(schemas);
    json_object_set_new(schemas, "Event", event_schema(payloads));
    json_object_set_new(schemas, "Problem", problem_schema());
    add_answer_schemas(schemas);
    json_t *paths = json_object();
    for (uint32_t i = 0; i < api_routes_count; i++) {
        const api_route_t *route = &api_routes[i];
        if (route->flags & API_ROUTE_PREFIX)
            continue;
        json_t *item = json_object_get(paths, route->pattern);
        if (item == NULL) {
            item = json_object();
            json_object_set_new(paths, route->pattern, item);
        }
        json_object_set_new(item, route->method == HTTP_POST ? "post" : "get", operation(route));
    }
    json_t *doc = json_pack(
        "{s:s, s:{s:s, s:s, s:s}, s:o, s:{s:o, s:{s:{s:s, s:s, s:s, s:s}}}, s:[{s:[]}]}", "openapi",
        "3.1.0", "info", "title", "Fouta Ledger API", "version", "1", "description",
        "Event-sourced production ledger of a towel-weaving plant. Sign in with POST "
        "/api/v1/auth/login and send the access token as a bearer token; x-roles on an "
        "operation lists the only roles that may use it.",
        "paths", paths, "components", "schemas", schemas, "securitySchemes", "bearerAuth", "type",
        "http", "scheme", "bearer", "bearerFormat", "JWT", "description",
        "A short-lived access token from /api/v1/auth/login or /api/v1/auth/refresh", "security",
        "bearerAuth");
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    *len = text != NULL ? strlen(text) : 0;
    return text;
}
