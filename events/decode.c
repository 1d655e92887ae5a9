/*
 * decode.c: one event from JSON to a validated ev_event_t.
 *
 * JSON is parsed by jansson (which refuses invalid UTF-8 and, with JSON_REJECT_DUPLICATES,
 * repeated keys). The envelope is checked, then the payload field by field against its type's
 * table, and written as a msgpack map in the table's order, so that the same event always gives
 * the same bytes (the ledger's idempotency compares them). Entities are collected from every id
 * field that names one. The first fault ends the decoding with its code, path and message.
 */
#define _POSIX_C_SOURCE 200809L
#include "events/events.h"

#include <assert.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TIME_US_MIN        946684800000000LL  /* 2000-01-01 */
#define TIME_US_MAX        4102444800000000LL /* 2100-01-01 */
#define NUMBER_DEFAULT_MAX 1000000000000000LL

/* The state of one decoding: where the payload goes, the error, the path being checked. */
typedef struct {
    ev_event_t *out;
    ev_error_t *error;
    uint32_t flags; /* EV_DECODE_SEALED */
    msgpack_packer packer;
    uint32_t payload_len;
    bool payload_full;
    char path[EV_PATH_LEN_MAX];
} decoder_t;

static int fail(decoder_t *d, int code, const char *path, const char *format, ...)
{
    d->error->code = code;
    snprintf(d->error->path, sizeof(d->error->path), "%s", path);
    va_list args;
    va_start(args, format);
    vsnprintf(d->error->message, sizeof(d->error->message), format, args);
    va_end(args);
    return code;
}

/* msgpack-c's write callback, into the event's fixed payload buffer. */
static int payload_write(void *data, const char *bytes, size_t len)
{
    decoder_t *d = data;
    if (len > EV_PAYLOAD_BYTES_MAX - d->payload_len) {
        d->payload_full = true;
        return -1;
    }
    memcpy(d->out->payload + d->payload_len, bytes, len);
    d->payload_len += (uint32_t)len;
    return 0;
}

static void pack_text(decoder_t *d, const char *text, size_t len)
{
    msgpack_pack_str(&d->packer, len);
    msgpack_pack_str_body(&d->packer, text, len);
}

/* Appends "<kind>-<value>" to the entities, once. */
static int add_entity(decoder_t *d, const char *kind, const char *value, size_t len)
{
    char name[EV_NAME_LEN_MAX + 1];
    size_t kind_len = strlen(kind), written = kind_len + 1 + len;
    assert(written < sizeof(name)); /* an id is at most EV_ID_LEN_MAX */
    memcpy(name, kind, kind_len);
    name[kind_len] = '-';
    memcpy(name + kind_len + 1, value, len);
    name[written] = '\0';
    for (uint32_t i = 0; i < d->out->entities_count; i++)
        if (strcmp(d->out->entities[i], name) == 0)
            return 0;
    if (d->out->entities_count == EV_ENTITIES_MAX)
        return fail(d, FL_ETOO_LONG, d->path, "an event may name at most %d entities",
                    EV_ENTITIES_MAX);
    memcpy(d->out->entities[d->out->entities_count++], name, written + 1);
    return 0;
}

static bool id_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
}

static const char *kind_name(ev_kind_t kind)
{
    static const char *const names[] = {"a string",   "an id",    "a UUID",    "an integer",
                                        "an integer", "a string", "a boolean", "an integer",
                                        "a SHA-256",  "an array", "an array"};
    return names[kind];
}

/* A sensitive field once sealed (EV_DECODE_SEALED): its plaintext limits were checked before
 * sealing; the stored text only has to be sealed text of a bounded length. */
static int check_sealed(decoder_t *d, const json_t *value)
{
    size_t len = json_string_length(value);
    const char *text = json_string_value(value);
    if (len < EV_SEALED_PREFIX_LEN || memcmp(text, EV_SEALED_PREFIX, EV_SEALED_PREFIX_LEN) != 0)
        return fail(d, FL_EINVALID_VALUE, d->path, "a sensitive field must be sealed (%s...)",
                    EV_SEALED_PREFIX);
    if (len > EV_STRING_LEN_MAX)
        return fail(d, FL_ETOO_LONG, d->path, "sealed text of at most %d bytes, not %zu",
                    EV_STRING_LEN_MAX, len);
    for (size_t i = EV_SEALED_PREFIX_LEN; i < len; i++)
        if (!id_char(text[i]) || text[i] == '.')
            return fail(d, FL_EINVALID_VALUE, d->path,
                        "sealed text has only letters, digits and _ : - (found byte 0x%02x)",
                        (unsigned char)text[i]);
    pack_text(d, text, len);
    return 0;
}

static int check_string(decoder_t *d, const ev_field_t *field, const json_t *value)
{
    size_t len = json_string_length(value);
    const char *text = json_string_value(value);
    if ((d->flags & EV_DECODE_SEALED) && (field->flags & EV_SENSITIVE))
        return check_sealed(d, value);
    size_t len_max =
        field->max > 0 && field->max < EV_STRING_LEN_MAX ? (size_t)field->max : EV_STRING_LEN_MAX;
    if (len > len_max)
        return fail(d, FL_ETOO_LONG, d->path, "at most %zu bytes, not %zu", len_max, len);
    if (field->min > 0 && len < (size_t)field->min)
        return fail(d, FL_EOUT_OF_RANGE, d->path, "at least %lld bytes", (long long)field->min);
    if (memchr(text, '\0', len) != NULL)
        return fail(d, FL_EINVALID_VALUE, d->path, "text may not contain NUL characters");
    pack_text(d, text, len);
    return 0;
}

static int check_id(decoder_t *d, const ev_field_t *field, const json_t *value)
{
    size_t len = json_string_length(value);
    const char *text = json_string_value(value);
    if (len == 0 || len > EV_ID_LEN_MAX)
        return fail(d, len == 0 ? FL_EOUT_OF_RANGE : FL_ETOO_LONG, d->path,
                    "an id has 1 to %d characters", EV_ID_LEN_MAX);
    for (size_t i = 0; i < len; i++)
        if (!id_char(text[i]))
            return fail(d, FL_EINVALID_VALUE, d->path,
                        "an id has only letters, digits and . _ : - (found byte 0x%02x)",
                        (unsigned char)text[i]);
    pack_text(d, text, len);
    return field->entity != NULL ? add_entity(d, field->entity, text, len) : 0;
}

static int check_number(decoder_t *d, const ev_field_t *field, const json_t *value)
{
    json_int_t number = json_integer_value(value);
    int64_t min = field->min, max = field->max;
    if (min == 0 && max == 0) {
        min = field->kind == EV_TIME ? TIME_US_MIN : 0;
        max = field->kind == EV_TIME ? TIME_US_MAX : NUMBER_DEFAULT_MAX;
    }
    if (number < min || number > max)
        return fail(d, FL_EOUT_OF_RANGE, d->path, "%lld is outside [%lld, %lld]%s%s%s%s",
                    (long long)number, (long long)min, (long long)max,
                    field->unit != NULL ? " (" : "",
                    field->unit != NULL ? (field->kind == EV_QTY ? "thousandths of " : "") : "",
                    field->unit != NULL ? field->unit : "", field->unit != NULL ? ")" : "");
    msgpack_pack_int64(&d->packer, number);
    return 0;
}

static int check_enum(decoder_t *d, const ev_field_t *field, const json_t *value)
{
    const char *text = json_string_value(value);
    size_t len = json_string_length(value);
    for (const char *const *allowed = field->values; *allowed != NULL; allowed++) {
        if (strlen(*allowed) == len && memcmp(*allowed, text, len) == 0) {
            pack_text(d, text, len);
            return 0;
        }
    }
    char list[EV_MESSAGE_LEN_MAX / 2] = "";
    size_t used = 0;
    for (const char *const *allowed = field->values; *allowed != NULL && used < sizeof(list);
         allowed++)
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
                                 allowed == field->values ? "" : ", ", *allowed);
    return fail(d, FL_EINVALID_VALUE, d->path, "must be one of: %s", list);
}

static int check_sha256(decoder_t *d, const json_t *value)
{
    const char *text = json_string_value(value);
    size_t len = json_string_length(value);
    bool ok = len == 64;
    for (size_t i = 0; ok && i < len; i++)
        ok = (text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f');
    if (!ok)
        return fail(d, FL_EINVALID_VALUE, d->path, "a SHA-256 is 64 lower-case hex digits");
    pack_text(d, text, len);
    return 0;
}

static int check_uuid(decoder_t *d, const json_t *value)
{
    uint8_t id[16];
    if (fl_uuid_parse(json_string_value(value), json_string_length(value), id) != 0)
        return fail(d, FL_EINVALID_VALUE, d->path, "a UUID in its canonical 36-character form");
    pack_text(d, json_string_value(value), json_string_length(value));
    return 0;
}

static int check_object(decoder_t *d, const ev_field_t *fields, uint32_t count,
                        const json_t *object, int depth);

/* Sets d->path to base + ".name" for the duration of a check (cut to fit, as the path only
 * names the field in an error). Returns the previous length. Plain copies: a format's parsing,
 * twice for every field of every event, was a tenth of the decoding. */
static size_t path_push_field(decoder_t *d, const char *name)
{
    size_t before = strlen(d->path), room = sizeof(d->path) - 1 - before;
    size_t len = strlen(name);
    if (room > 0) {
        d->path[before] = '.';
        len = len < room - 1 ? len : room - 1;
        memcpy(d->path + before + 1, name, len);
        d->path[before + 1 + len] = '\0';
    }
    return before;
}

/* The same with "[index]". */
static size_t path_push_index(decoder_t *d, size_t index)
{
    size_t before = strlen(d->path);
    char digits[24];
    size_t len = 0;
    do {
        digits[len++] = (char)('0' + index % 10);
        index /= 10;
    } while (index > 0);
    size_t at = before, end = sizeof(d->path) - 1;
    if (at < end)
        d->path[at++] = '[';
    while (len > 0 && at < end)
        d->path[at++] = digits[--len];
    if (at < end)
        d->path[at++] = ']';
    d->path[at] = '\0';
    return before;
}

static int check_array(decoder_t *d, const ev_field_t *field, const json_t *value, int depth)
{
    size_t count = json_array_size(value);
    size_t count_max =
        field->max > 0 && field->max < EV_ARRAY_ITEMS_MAX ? (size_t)field->max : EV_ARRAY_ITEMS_MAX;
    if (count > count_max)
        return fail(d, FL_ETOO_LONG, d->path, "at most %zu items, not %zu", count_max, count);
    if (field->min > 0 && count < (size_t)field->min)
        return fail(d, FL_EOUT_OF_RANGE, d->path, "at least %lld items", (long long)field->min);
    msgpack_pack_array(&d->packer, count);
    for (size_t i = 0; i < count; i++) {
        const json_t *item = json_array_get(value, i);
        size_t before = path_push_index(d, i);
        int rc;
        if (field->kind == EV_IDS) {
            rc = json_is_string(item) ? check_id(d, field, item)
                                      : fail(d, FL_EWRONG_TYPE, d->path, "must be an id string");
        } else if (!json_is_object(item)) {
            rc = fail(d, FL_EWRONG_TYPE, d->path, "must be an object");
        } else {
            rc = check_object(d, field->items, field->items_count, item, depth + 1);
        }
        if (rc != 0)
            return rc;
        d->path[before] = '\0';
    }
    return 0;
}

static bool json_kind_fits(ev_kind_t kind, const json_t *value)
{
    switch (kind) {
    case EV_INT:
    case EV_QTY:
    case EV_TIME:
        return json_is_integer(value);
    case EV_BOOL:
        return json_is_boolean(value);
    case EV_OBJECTS:
    case EV_IDS:
        return json_is_array(value);
    default:
        return json_is_string(value);
    }
}

static int check_value(decoder_t *d, const ev_field_t *field, const json_t *value, int depth)
{
    if (!json_kind_fits(field->kind, value))
        return fail(d, FL_EWRONG_TYPE, d->path, "must be %s%s", kind_name(field->kind),
                    field->kind == EV_QTY ? " in thousandths of its unit, not a decimal" : "");
    switch (field->kind) {
    case EV_STRING:
        return check_string(d, field, value);
    case EV_ID:
        return check_id(d, field, value);
    case EV_UUID:
        return check_uuid(d, value);
    case EV_INT:
    case EV_QTY:
    case EV_TIME:
        return check_number(d, field, value);
    case EV_ENUM:
        return check_enum(d, field, value);
    case EV_BOOL:
        if (json_is_true(value))
            msgpack_pack_true(&d->packer);
        else
            msgpack_pack_false(&d->packer);
        return 0; /* a full payload buffer is reported once, at the end */
    case EV_SHA256:
        return check_sha256(d, value);
    case EV_OBJECTS:
    case EV_IDS:
        return check_array(d, field, value, depth);
    }
    return fail(d, FL_EINTERNAL, d->path, "unknown field kind");
}

static const ev_field_t *field_find(const ev_field_t *fields, uint32_t count, const char *name)
{
    for (uint32_t i = 0; i < count; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

/* Checks an object against fields and packs it as a map in the fields' order. Null members
 * count as absent. */
static int check_object(decoder_t *d, const ev_field_t *fields, uint32_t count,
                        const json_t *object, int depth)
{
    if (depth > EV_DEPTH_MAX)
        return fail(d, FL_ETOO_LONG, d->path, "nested deeper than %d levels", EV_DEPTH_MAX);
    const char *key;
    const json_t *value;
    size_t present = 0;
    json_object_foreach((json_t *)object, key, value)
    {
        if (field_find(fields, count, key) == NULL) {
            path_push_field(d, key);
            return fail(d, FL_EUNKNOWN_FIELD, d->path, "no field \"%s\" in this event", key);
        }
        present += !json_is_null(value);
    }
    msgpack_pack_map(&d->packer, present);
    for (uint32_t i = 0; i < count; i++) {
        const ev_field_t *field = &fields[i];
        value = json_object_get(object, field->name);
        size_t before = path_push_field(d, field->name);
        if (value == NULL || json_is_null(value)) {
            if (field->flags & EV_REQUIRED)
                return fail(d, FL_EMISSING_FIELD, d->path, "\"%s\" is required", field->name);
        } else {
            pack_text(d, field->name, strlen(field->name));
            int rc = check_value(d, field, value, depth);
            if (rc != 0)
                return rc;
        }
        d->path[before] = '\0';
    }
    return 0;
}

/* ---- the envelope */

static const char *const envelope_keys[] = {"id",
                                            "type",
                                            "schema_version",
                                            "occurred_at_us",
                                            "expected_version",
                                            "correlation_id",
                                            "causation_id",
                                            "payload",
                                            NULL};

static int envelope_uuid(decoder_t *d, const json_t *root, const char *key, bool required,
                         uint8_t out[16])
{
    const json_t *value = json_object_get(root, key);
    memset(out, 0, 16);
    if (value == NULL || json_is_null(value))
        return required ? fail(d, FL_EMISSING_FIELD, key, "\"%s\" is required", key) : 0;
    if (!json_is_string(value))
        return fail(d, FL_EWRONG_TYPE, key, "must be a UUID string");
    if (fl_uuid_parse(json_string_value(value), json_string_length(value), out) != 0)
        return fail(d, FL_EINVALID_VALUE, key, "a UUID in its canonical 36-character form");
    return 0;
}

static int envelope_integer(decoder_t *d, const json_t *root, const char *key, int64_t min,
                            int64_t max, int64_t *out)
{
    const json_t *value = json_object_get(root, key);
    if (!json_is_integer(value))
        return fail(d, FL_EWRONG_TYPE, key, "must be an integer");
    json_int_t number = json_integer_value(value);
    if (number < min || number > max)
        return fail(d, FL_EOUT_OF_RANGE, key, "%lld is outside [%lld, %lld]", (long long)number,
                    (long long)min, (long long)max);
    *out = number;
    return 0;
}

static int check_envelope_keys(decoder_t *d, const json_t *root)
{
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)root, key, value)
    {
        bool known = false;
        for (const char *const *allowed = envelope_keys; *allowed != NULL && !known; allowed++)
            known = strcmp(*allowed, key) == 0;
        if (!known)
            return fail(d, FL_EUNKNOWN_FIELD, key, "no field \"%s\" in an event's envelope", key);
    }
    return 0;
}

/* The type, the role's right to post it, and the schema version. */
static int envelope_type(decoder_t *d, const json_t *root, const ev_actor_t *actor)
{
    const json_t *name = json_object_get(root, "type");
    if (name == NULL)
        return fail(d, FL_EMISSING_FIELD, "type", "\"type\" is required");
    if (!json_is_string(name))
        return fail(d, FL_EWRONG_TYPE, "type", "must be a string");
    const ev_type_t *type = ev_type_find(json_string_value(name), json_string_length(name));
    if (type == NULL)
        return fail(d, FL_EUNKNOWN_TYPE, "type", "no event type \"%.64s\"",
                    json_string_value(name));
    if (!ev_role_may_post(type, actor->role))
        return fail(d, FL_EFORBIDDEN_ROLE, "type", "the role %s may not post %s",
                    ev_role_name(actor->role), type->name);
    d->out->type = type;
    int64_t version = type->schema_version;
    if (json_object_get(root, "schema_version") != NULL) {
        int rc = envelope_integer(d, root, "schema_version", 1, type->schema_version, &version);
        if (rc != 0)
            return rc;
    }
    d->out->schema_version = (uint32_t)version;
    return 0;
}

/* The stream: "<kind>-<value of the stream field>", already checked as an id. */
static int set_stream(decoder_t *d, const json_t *payload)
{
    const ev_type_t *type = d->out->type;
    const json_t *value = json_object_get(payload, type->stream_field);
    assert(json_is_string(value)); /* a required id field, checked before */
    size_t kind_len = strlen(type->stream_kind), len = json_string_length(value);
    assert(kind_len + 1 + len < sizeof(d->out->stream));
    memcpy(d->out->stream, type->stream_kind, kind_len);
    d->out->stream[kind_len] = '-';
    memcpy(d->out->stream + kind_len + 1, json_string_value(value), len + 1);
    return 0;
}

/* Brings a payload of an older schema version up to the type's current one. */
static int upcast(decoder_t *d, json_t *payload, uint32_t from_version)
{
    const ev_type_t *type = d->out->type;
    for (uint32_t version = from_version; version < type->schema_version; version++) {
        if (type->upcast == NULL || type->upcast(version, payload) != 0)
            return fail(d, FL_EINVALID_VALUE, "schema_version", "%s cannot be read at version %u",
                        type->name, version);
    }
    return 0;
}

static int decode_payload(decoder_t *d, const json_t *root)
{
    json_t *payload = json_object_get(root, "payload");
    if (payload == NULL)
        return fail(d, FL_EMISSING_FIELD, "payload", "\"payload\" is required");
    if (!json_is_object(payload))
        return fail(d, FL_EWRONG_TYPE, "payload", "must be an object");
    json_t *current = payload;
    if (d->out->schema_version < d->out->type->schema_version) {
        current = json_deep_copy(payload);
        if (current == NULL)
            return fail(d, FL_ENOMEM, "payload", "out of memory");
    }
    int rc = upcast(d, current, d->out->schema_version);
    memcpy(d->path, "payload", sizeof("payload"));
    if (rc == 0)
        rc = check_object(d, d->out->type->fields, d->out->type->fields_count, current, 0);
    if (rc == 0 && d->payload_full)
        rc =
            fail(d, FL_ETOOBIG, "payload", "more than %d bytes once encoded", EV_PAYLOAD_BYTES_MAX);
    if (rc == 0)
        rc = set_stream(d, current);
    if (current != payload)
        json_decref(current);
    d->out->schema_version = d->out->type->schema_version; /* stored at the current version */
    d->out->payload_len = d->payload_len;
    return rc;
}

int ev_decode_object(const void *json, const ev_actor_t *actor, ev_event_t *out, ev_error_t *error)
{
    return ev_decode_object_flags(json, actor, 0, out, error);
}

int ev_decode_object_flags(const void *json, const ev_actor_t *actor, uint32_t flags,
                           ev_event_t *out, ev_error_t *error)
{
    const json_t *root = json;
    decoder_t d = {.out = out, .error = error, .flags = flags};
    memset(error, 0, sizeof(*error));
    out->type = NULL;
    out->entities_count = 0;
    out->payload_len = 0;
    msgpack_packer_init(&d.packer, &d, payload_write);
    if (!json_is_object(root))
        return fail(&d, FL_EWRONG_TYPE, "", "an event is a JSON object");
    int rc;
    if ((rc = check_envelope_keys(&d, root)) != 0 || (rc = envelope_type(&d, root, actor)) != 0 ||
        (rc = envelope_uuid(&d, root, "id", true, out->id)) != 0 ||
        (rc = envelope_uuid(&d, root, "correlation_id", false, out->correlation_id)) != 0 ||
        (rc = envelope_uuid(&d, root, "causation_id", false, out->causation_id)) != 0 ||
        (rc = envelope_integer(&d, root, "occurred_at_us", TIME_US_MIN, TIME_US_MAX,
                               &out->occurred_at_us)) != 0)
        return rc;
    out->expected_version = -1;
    if (json_object_get(root, "expected_version") != NULL &&
        (rc = envelope_integer(&d, root, "expected_version", -1, INT64_MAX,
                               &out->expected_version)) != 0)
        return rc;
    return decode_payload(&d, root);
}

int ev_decode_json(const char *json, size_t len, const ev_actor_t *actor, ev_event_t *out,
                   ev_error_t *error)
{
    memset(error, 0, sizeof(*error));
    if (len > EV_JSON_BYTES_MAX) {
        error->code = FL_ETOOBIG;
        snprintf(error->message, sizeof(error->message), "an event is at most %d bytes of JSON",
                 EV_JSON_BYTES_MAX);
        return FL_ETOOBIG;
    }
    json_error_t parse_error;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &parse_error);
    if (root == NULL) {
        bool utf8 = json_error_code(&parse_error) == json_error_invalid_utf8;
        error->code = utf8 ? FL_EINVALID_UTF8 : FL_EINVALID_JSON;
        snprintf(error->message, sizeof(error->message), "line %d, column %d: %s", parse_error.line,
                 parse_error.column, parse_error.text);
        return error->code;
    }
    int rc = ev_decode_object(root, actor, out, error);
    json_decref(root);
    return rc;
}
