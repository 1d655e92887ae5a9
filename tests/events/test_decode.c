/*
 * Tests of decoding and validation. Most run over every type of the catalog, from a sample built
 * out of the type's own table (sample.h): each type accepts its sample; dropping each required
 * field, or giving each field the wrong JSON type, is refused with the right code at the right
 * path. Then the envelope, JSON itself, roles, and damage that must never crash the decoder.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include <msgpack.h>

#include "tests/events/sample.h"

static ev_event_t event;
static ev_error_t error;

/* Decodes a jansson event through its JSON text, as the API will. */
static int decode(json_t *json, const ev_actor_t *actor)
{
    char *text = json_dumps(json, JSON_COMPACT);
    cr_assert_not_null(text);
    int rc = ev_decode_json(text, strlen(text), actor, &event, &error);
    free(text);
    return rc;
}

Test(decode, every_type_accepts_a_sample_built_from_its_own_table)
{
    for (uint32_t i = 0; i < ev_catalog_count; i++) {
        const ev_type_t *type = &ev_catalog[i];
        json_t *json = sample_event(type);
        ev_actor_t actor = sample_actor(type);
        int rc = decode(json, &actor);
        cr_assert_eq(rc, 0, "%s: %s at %s: %s", type->name, fl_errname(rc), error.path,
                     error.message);
        cr_assert_eq(event.type, type);
        cr_assert_eq(event.schema_version, type->schema_version);
        cr_assert_gt(event.payload_len, 0);
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "%s-", type->stream_kind);
        cr_assert_eq(strncmp(event.stream, prefix, strlen(prefix)), 0, "%s: stream %s", type->name,
                     event.stream);
        bool stream_is_entity = false;
        for (uint32_t e = 0; e < event.entities_count; e++)
            stream_is_entity |= strcmp(event.entities[e], event.stream) == 0;
        cr_assert(stream_is_entity, "%s: the stream is one of its entities", type->name);
        json_decref(json);
    }
}

Test(decode, a_missing_required_field_is_named_by_its_path)
{
    for (uint32_t i = 0; i < ev_catalog_count; i++) {
        const ev_type_t *type = &ev_catalog[i];
        ev_actor_t actor = sample_actor(type);
        for (uint32_t f = 0; f < type->fields_count; f++) {
            if (!(type->fields[f].flags & EV_REQUIRED))
                continue;
            json_t *json = sample_event(type);
            json_object_del(json_object_get(json, "payload"), type->fields[f].name);
            cr_assert_eq(decode(json, &actor), FL_EMISSING_FIELD, "%s.%s", type->name,
                         type->fields[f].name);
            char path[EV_PATH_LEN_MAX];
            snprintf(path, sizeof(path), "payload.%s", type->fields[f].name);
            cr_assert_str_eq(error.path, path);
            json_decref(json);
        }
    }
}

Test(decode, a_field_of_the_wrong_json_type_is_named_by_its_path)
{
    for (uint32_t i = 0; i < ev_catalog_count; i++) {
        const ev_type_t *type = &ev_catalog[i];
        ev_actor_t actor = sample_actor(type);
        for (uint32_t f = 0; f < type->fields_count; f++) {
            const ev_field_t *field = &type->fields[f];
            json_t *json = sample_event(type);
            bool wants_text = field->kind != EV_INT && field->kind != EV_QTY &&
                              field->kind != EV_TIME && field->kind != EV_BOOL &&
                              field->kind != EV_OBJECTS && field->kind != EV_IDS;
            json_object_set_new(json_object_get(json, "payload"), field->name,
                                wants_text ? json_integer(7) : json_string("7"));
            cr_assert_eq(decode(json, &actor), FL_EWRONG_TYPE, "%s.%s", type->name, field->name);
            char path[EV_PATH_LEN_MAX];
            snprintf(path, sizeof(path), "payload.%s", field->name);
            cr_assert_str_eq(error.path, path);
            json_decref(json);
        }
    }
}

Test(decode, an_unknown_payload_field_is_refused)
{
    const ev_type_t *type = &ev_catalog[0];
    ev_actor_t actor = sample_actor(type);
    json_t *json = sample_event(type);
    json_object_set_new(json_object_get(json, "payload"), "colour", json_string("blue"));
    cr_assert_eq(decode(json, &actor), FL_EUNKNOWN_FIELD);
    cr_assert_str_eq(error.path, "payload.colour");
    json_decref(json);
}

Test(decode, the_same_event_gives_the_same_bytes_whatever_the_key_order)
{
    for (uint32_t i = 0; i < ev_catalog_count; i++) {
        const ev_type_t *type = &ev_catalog[i];
        ev_actor_t actor = sample_actor(type);
        json_t *json = sample_event(type);
        cr_assert_eq(decode(json, &actor), 0);
        uint8_t first[EV_PAYLOAD_BYTES_MAX];
        uint32_t first_len = event.payload_len;
        memcpy(first, event.payload, first_len);
        char *sorted = json_dumps(json, JSON_COMPACT | JSON_SORT_KEYS);
        cr_assert_eq(ev_decode_json(sorted, strlen(sorted), &actor, &event, &error), 0);
        cr_assert_eq(event.payload_len, first_len);
        cr_assert_arr_eq(event.payload, first, first_len, "%s", type->name);
        free(sorted);
        json_decref(json);
    }
}

Test(decode, every_stored_payload_reads_back_as_the_json_it_came_from)
{
    char text[EV_JSON_BYTES_MAX];
    for (uint32_t i = 0; i < ev_catalog_count; i++) {
        const ev_type_t *type = &ev_catalog[i];
        ev_actor_t actor = sample_actor(type);
        json_t *json = sample_event(type);
        cr_assert_eq(decode(json, &actor), 0);
        int len = ev_payload_to_json(type, event.schema_version, event.payload, event.payload_len,
                                     text, sizeof(text));
        cr_assert_gt(len, 0, "%s: %s", type->name, fl_errname(len));
        json_t *back = json_loads(text, 0, NULL);
        cr_assert(json_equal(back, json_object_get(json, "payload")), "%s: %s", type->name, text);
        json_decref(back);
        json_decref(json);
    }
}

Test(decode, a_role_that_may_not_post_a_type_is_refused)
{
    for (uint32_t i = 0; i < ev_catalog_count; i++) {
        const ev_type_t *type = &ev_catalog[i];
        for (int role = 0; role < EV_ROLE_COUNT; role++) {
            if (ev_role_may_post(type, (ev_role_t)role))
                continue;
            ev_actor_t actor = {.user = "u", .role = (ev_role_t)role, .device = "d"};
            json_t *json = sample_event(type);
            cr_assert_eq(decode(json, &actor), FL_EFORBIDDEN_ROLE, "%s by %s", type->name,
                         ev_role_name((ev_role_t)role));
            cr_assert_str_eq(error.path, "type");
            json_decref(json);
        }
    }
}

Test(decode, envelope_faults_name_their_field)
{
    const ev_type_t *type = &ev_catalog[0];
    ev_actor_t actor = sample_actor(type);
    struct {
        const char *key;
        json_t *value;
        int code;
    } cases[] = {
        {"id", json_string("not-a-uuid"), FL_EINVALID_VALUE},
        {"id", json_null(), FL_EMISSING_FIELD},
        {"type", json_string("Teleported"), FL_EUNKNOWN_TYPE},
        {"type", json_integer(3), FL_EWRONG_TYPE},
        {"occurred_at_us", json_real(1.5), FL_EWRONG_TYPE},
        {"occurred_at_us", json_integer(5), FL_EOUT_OF_RANGE},
        {"expected_version", json_integer(-2), FL_EOUT_OF_RANGE},
        {"schema_version", json_integer(type->schema_version + 1), FL_EOUT_OF_RANGE},
        {"schema_version", json_integer(0), FL_EOUT_OF_RANGE},
        {"payload", json_string("{}"), FL_EWRONG_TYPE},
        {"actor", json_string("someone else"), FL_EUNKNOWN_FIELD},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *json = sample_event(type);
        json_object_set_new(json, cases[i].key, cases[i].value);
        int rc = decode(json, &actor);
        cr_assert_eq(rc, cases[i].code, "%s: got %s (%s)", cases[i].key, fl_errname(rc),
                     error.message);
        cr_assert_str_eq(error.path, cases[i].key);
        cr_assert_neq(error.message[0], '\0');
        json_decref(json);
    }
}

Test(decode, broken_json_duplicate_keys_and_invalid_utf8_are_refused)
{
    ev_actor_t actor = sample_actor(&ev_catalog[0]);
    const char *broken = "{\"id\": ";
    cr_assert_eq(ev_decode_json(broken, strlen(broken), &actor, &event, &error), FL_EINVALID_JSON);
    cr_assert_neq(error.message[0], '\0');
    const char *twice = "{\"id\": \"a\", \"id\": \"b\"}";
    cr_assert_eq(ev_decode_json(twice, strlen(twice), &actor, &event, &error), FL_EINVALID_JSON);
    const char utf8[] = "{\"type\": \"\xff\xfe\"}";
    cr_assert_eq(ev_decode_json(utf8, sizeof(utf8) - 1, &actor, &event, &error), FL_EINVALID_UTF8);
    cr_assert_eq(ev_decode_json("[]", 2, &actor, &event, &error), FL_EWRONG_TYPE);
    static char big[EV_JSON_BYTES_MAX + 2];
    memset(big, ' ', sizeof(big));
    cr_assert_eq(ev_decode_json(big, sizeof(big), &actor, &event, &error), FL_ETOOBIG);
}

Test(decode, oversized_strings_and_arrays_are_refused)
{
    for (uint32_t i = 0; i < ev_catalog_count; i++) {
        const ev_type_t *type = &ev_catalog[i];
        ev_actor_t actor = sample_actor(type);
        for (uint32_t f = 0; f < type->fields_count; f++) {
            const ev_field_t *field = &type->fields[f];
            json_t *value = NULL;
            if (field->kind == EV_STRING) {
                char *text = malloc((size_t)field->max + 2);
                memset(text, 'a', (size_t)field->max + 1);
                value = json_stringn(text, (size_t)field->max + 1);
                free(text);
            } else if (field->kind == EV_IDS || field->kind == EV_OBJECTS) {
                json_t *sample = sample_value(field);
                json_t *one = json_array_get(sample, 0);
                value = json_array();
                for (int64_t n = 0; n <= field->max; n++)
                    json_array_append(value, one);
                json_decref(sample);
            } else {
                continue;
            }
            json_t *json = sample_event(type);
            json_object_set_new(json_object_get(json, "payload"), field->name, value);
            int rc = decode(json, &actor);
            cr_assert(rc == FL_ETOO_LONG || (rc == FL_ETOOBIG && field->kind == EV_OBJECTS),
                      "%s.%s: %s", type->name, field->name, fl_errname(rc));
            json_decref(json);
        }
    }
}

Test(decode, random_damage_to_valid_events_never_crashes_the_decoder)
{
    unsigned seed = 2026;
    for (uint32_t i = 0; i < ev_catalog_count; i++) {
        const ev_type_t *type = &ev_catalog[i];
        ev_actor_t actor = sample_actor(type);
        json_t *json = sample_event(type);
        char *text = json_dumps(json, JSON_COMPACT);
        size_t len = strlen(text);
        for (int round = 0; round < 200; round++) {
            char *copy = strdup(text);
            for (int flips = 1 + round % 3; flips > 0; flips--) {
                seed = seed * 1103515245u + 12345u;
                copy[(seed >> 8) % len] = (char)(seed >> 16);
            }
            int rc = ev_decode_json(copy, len, &actor, &event, &error);
            cr_assert(rc == 0 || (rc < 0 && fl_err_http_status(rc) >= 400));
            free(copy);
        }
        free(text);
        json_decref(json);
    }
}

/* ---- the same checks on real events, written as an app would send them */

static const ev_actor_t weaver = {.user = "w1", .role = EV_ROLE_WEAVER, .device = "phone-1"};
static const ev_actor_t cutter = {.user = "c1", .role = EV_ROLE_CUTTER, .device = "phone-2"};

#define ROLL_V1                                                                                    \
    "{\"id\":\"0190b2a0-7c1d-7000-8000-000000000101\",\"type\":\"ProductionDeclared\","            \
    "\"schema_version\":1,\"occurred_at_us\":1764000000000000,\"payload\":{"                       \
    "\"hu_id\":\"R0001\",\"of_id\":\"OF2026-7\",\"loom_id\":\"L012\",\"item_id\":\"TW-500\","      \
    "\"qty_milli\":120000,\"unit\":\"pcs\",\"location_id\":\"WEAVING\","                           \
    "\"length_milli\":60000}}"

Test(decode, a_version_1_roll_is_upcast_and_stored_at_the_current_version)
{
    cr_assert_eq(ev_decode_json(ROLL_V1, strlen(ROLL_V1), &weaver, &event, &error), 0, "%s: %s",
                 error.path, error.message);
    cr_assert_eq(event.schema_version, 2);
    char text[4096];
    cr_assert_gt(
        ev_payload_to_json(event.type, 2, event.payload, event.payload_len, text, sizeof(text)), 0);
    json_t *payload = json_loads(text, 0, NULL);
    cr_assert_eq(json_integer_value(json_object_get(payload, "picks")), 0);
    json_decref(payload);
    cr_assert_str_eq(event.stream, "hu-R0001");
    const char *expected[] = {"hu-R0001", "of-OF2026-7", "loom-L012", "item-TW-500", "loc-WEAVING"};
    cr_assert_eq(event.entities_count, 5);
    for (int i = 0; i < 5; i++)
        cr_assert_str_eq(event.entities[i], expected[i]);
}

Test(decode, a_stored_version_1_payload_reads_back_upcast)
{
    /* A record written before version 2 existed: the payload without picks. */
    json_t *v1 = json_pack("{s:s}", "hu_id", "R0001");
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init(&buffer);
    msgpack_packer packer;
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map(&packer, 1);
    msgpack_pack_str(&packer, 5);
    msgpack_pack_str_body(&packer, "hu_id", 5);
    msgpack_pack_str(&packer, 5);
    msgpack_pack_str_body(&packer, "R0001", 5);
    const ev_type_t *type = ev_type_find("ProductionDeclared", 18);
    char text[256];
    cr_assert_gt(
        ev_payload_to_json(type, 1, (const uint8_t *)buffer.data, buffer.size, text, sizeof(text)),
        0);
    cr_assert_str_eq(text, "{\"hu_id\":\"R0001\",\"picks\":0}");
    cr_assert_eq(
        ev_payload_to_json(type, 3, (const uint8_t *)buffer.data, buffer.size, text, sizeof(text)),
        FL_ECORRUPT, "a version from the future");
    cr_assert_eq(ev_payload_to_json(type, 1, (const uint8_t *)buffer.data, buffer.size - 1, text,
                                    sizeof(text)),
                 FL_ECORRUPT, "a truncated payload");
    cr_assert_eq(ev_payload_to_json(type, 1, (const uint8_t *)buffer.data, buffer.size, text, 8),
                 FL_ETOOBIG);
    msgpack_sbuffer_destroy(&buffer);
    json_decref(v1);
}

#define CUT(grade, qty)                                                                            \
    "{\"id\":\"0190b2a0-7c1d-7000-8000-000000000202\",\"type\":\"CuttingDeclared\","               \
    "\"occurred_at_us\":1764000000000000,\"payload\":{\"input_hu_id\":\"R0001\","                  \
    "\"consumed_qty_milli\":120000,\"unit\":\"pcs\",\"location_id\":\"CUT\",\"outputs\":["         \
    "{\"hu_id\":\"B1\",\"item_id\":\"TW-500\",\"grade\":\"first\",\"qty_milli\":100000},"          \
    "{\"hu_id\":\"B2\",\"item_id\":\"TW-500\",\"grade\":" grade ",\"qty_milli\":" qty "}],"        \
    "\"waste_qty_milli\":2000,\"waste_reason\":\"roll_end\"}}"

Test(decode, a_fault_inside_an_array_of_objects_names_its_index)
{
    const char *bad_grade = CUT("\"third\"", "18000");
    cr_assert_eq(ev_decode_json(bad_grade, strlen(bad_grade), &cutter, &event, &error),
                 FL_EINVALID_VALUE);
    cr_assert_str_eq(error.path, "payload.outputs[1].grade");
    cr_assert_not_null(strstr(error.message, "first, second"), "%s", error.message);
    const char *decimal = CUT("\"second\"", "18.5");
    cr_assert_eq(ev_decode_json(decimal, strlen(decimal), &cutter, &event, &error), FL_EWRONG_TYPE);
    cr_assert_str_eq(error.path, "payload.outputs[1].qty_milli");
    cr_assert_not_null(strstr(error.message, "thousandths"), "%s", error.message);
    const char *good = CUT("\"second\"", "18000");
    int rc = ev_decode_json(good, strlen(good), &cutter, &event, &error);
    cr_assert_eq(rc, 0, "%s: %s", error.path, error.message);
    cr_assert_str_eq(event.stream, "hu-R0001");
    /* TW-500 is named by both outputs: one entity. */
    int items = 0;
    for (uint32_t i = 0; i < event.entities_count; i++)
        items += strcmp(event.entities[i], "item-TW-500") == 0;
    cr_assert_eq(items, 1);
    cr_assert_eq(ev_decode_json(good, strlen(good), &weaver, &event, &error), FL_EFORBIDDEN_ROLE,
                 "a weaver does not cut");
}

/* ---- sealed personal data (EV_DECODE_SEALED) */

static json_t *onboarded(const char *contact_name)
{
    return json_pack("{s:s,s:s,s:I,s:{s:s,s:s,s:s,s:s}}", "id",
                     "0190b2a0-7c1d-7000-8000-000000000001", "type", "SubcontractorOnboarded",
                     "occurred_at_us", (json_int_t)1700000000000000, "payload", "sub_id", "S1",
                     "name", "Brodeuse", "contact_name", contact_name, "location_id", "SUB-S1");
}

static const ev_actor_t desk = {.user = "u", .role = EV_ROLE_MANAGER, .device = ""};

Test(decode, a_sealed_sensitive_field_is_accepted_beyond_its_plaintext_limit)
{
    char sealed[1024] = EV_SEALED_PREFIX "0123456789abcdef:";
    size_t len = strlen(sealed);
    memset(sealed + len, 'A', 600); /* contact_name's own limit is 200 bytes */
    json_t *json = onboarded(sealed);
    cr_assert_eq(ev_decode_object_flags(json, &desk, EV_DECODE_SEALED, &event, &error), 0, "%s",
                 error.message);
    /* The same text as plaintext is checked against the field's limit. */
    cr_assert_eq(ev_decode_object(json, &desk, &event, &error), FL_ETOO_LONG);
    cr_assert_str_eq(error.path, "payload.contact_name");
    json_decref(json);
}

Test(decode, a_sensitive_field_left_in_plaintext_is_refused_when_sealing_is_required)
{
    json_t *json = onboarded("Amina Zitouni");
    cr_assert_eq(ev_decode_object(json, &desk, &event, &error), 0);
    cr_assert_eq(ev_decode_object_flags(json, &desk, EV_DECODE_SEALED, &event, &error),
                 FL_EINVALID_VALUE);
    cr_assert_str_eq(error.path, "payload.contact_name");
    json_decref(json);
    json = onboarded(EV_SEALED_PREFIX "0123456789abcdef:not base64!");
    cr_assert_eq(ev_decode_object_flags(json, &desk, EV_DECODE_SEALED, &event, &error),
                 FL_EINVALID_VALUE);
    json_decref(json);
}

static int reveal_upper(const char *path, const char *text, size_t len, char *out, size_t size,
                        void *data)
{
    (void)data;
    cr_assert_str_eq(path, "contact_name");
    if (strcmp(text, EV_SEALED_PREFIX "0123456789abcdef:gone") == 0)
        return FL_EERASED;
    cr_assert_leq(len, size);
    for (size_t i = 0; i < len; i++)
        out[i] = (char)(text[i] >= 'a' && text[i] <= 'z' ? text[i] - 32 : text[i]);
    return (int)len;
}

Test(decode, a_reader_sees_each_sensitive_field_through_its_reveal_callback)
{
    json_t *json = onboarded("amina");
    cr_assert_eq(ev_decode_object(json, &desk, &event, &error), 0);
    char out[4096];
    int len = ev_payload_to_json_reveal(event.type, event.schema_version, event.payload,
                                        event.payload_len, out, sizeof(out), reveal_upper, NULL);
    cr_assert_gt(len, 0);
    cr_assert_not_null(strstr(out, "\"contact_name\":\"AMINA\""), "%s", out);
    cr_assert_not_null(strstr(out, "\"name\":\"Brodeuse\""), "%s", out); /* not sensitive */
    json_decref(json);
    json = onboarded(EV_SEALED_PREFIX "0123456789abcdef:gone");
    cr_assert_eq(ev_decode_object_flags(json, &desk, EV_DECODE_SEALED, &event, &error), 0);
    len = ev_payload_to_json_reveal(event.type, event.schema_version, event.payload,
                                    event.payload_len, out, sizeof(out), reveal_upper, NULL);
    cr_assert_gt(len, 0);
    cr_assert_not_null(strstr(out, "\"contact_name\":null"), "%s", out);
    json_decref(json);
}
