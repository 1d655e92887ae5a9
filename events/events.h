/*
 * events: the catalog of the plant's event types, and their validation.
 *
 * Each type is described once, in a table (catalog.c): its name and schema version, the roles
 * that may post it, the field that names its stream, and its payload fields with their kinds,
 * limits, enumerations, units and the entities they name. Validation, the stored form (msgpack),
 * the JSON answered to readers and the OpenAPI schemas all come from that one table, so they
 * cannot drift apart.
 *
 * An event arrives as JSON (from the API), is checked field by field against its type, and
 * leaves as an ev_event_t: stream, entities and a canonical msgpack payload, ready for the
 * ledger. Every refusal says a machine code (base.h), the path of the field at fault
 * ("payload.outputs[1].qty_milli") and a readable message.
 *
 * Quantities are integers in thousandths of their unit (qty_milli: 12500 = 12.5 kg); times are
 * microseconds since the Unix epoch; ids are UUIDs in canonical text.
 */
#ifndef EV_EVENTS_H
#define EV_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* Limits, bound to the engine's (engine.h) by static assertions in the engine. */
#define EV_TYPE_LEN_MAX      64
#define EV_NAME_LEN_MAX      128 /* stream and entity keys: "hu-R2026000123" */
#define EV_ID_LEN_MAX        64  /* the value of an id field, before its kind prefix */
#define EV_ENTITIES_MAX      32
#define EV_PAYLOAD_BYTES_MAX (64 * 1024)
#define EV_JSON_BYTES_MAX    (256 * 1024) /* one event's JSON text */
#define EV_STRING_LEN_MAX    4096         /* any text field, whatever its own limit says */
#define EV_ARRAY_ITEMS_MAX   1000         /* any array field */
#define EV_DEPTH_MAX         4            /* nesting of arrays of objects */
#define EV_PATH_LEN_MAX      128
#define EV_MESSAGE_LEN_MAX   256

/* Roles of the plant (issue 5 gives them to users). A type lists who may post it. */
#define EV_ROLE_MAP(X)                                                                             \
    X(ADMIN, "admin")                                                                              \
    X(MANAGER, "manager")                                                                          \
    X(WEAVER, "weaver")                                                                            \
    X(CUTTER, "cutter")                                                                            \
    X(MECHANIC, "mechanic")                                                                        \
    X(STORE_RAW, "store_raw")                                                                      \
    X(STORE_FINISHED, "store_finished")                                                            \
    X(STORE_SUBCONTRACT, "store_subcontract")                                                      \
    X(QUALITY, "quality")

typedef enum {
#define EV_ROLE_ENUM(name, text) EV_ROLE_##name,
    EV_ROLE_MAP(EV_ROLE_ENUM)
#undef EV_ROLE_ENUM
        EV_ROLE_COUNT
} ev_role_t;

#define EV_ROLE_BIT(name) (1u << EV_ROLE_##name)
#define EV_ROLES_ALL      ((1u << EV_ROLE_COUNT) - 1)

typedef enum {
    EV_STRING, /* UTF-8 text; min/max bound its length in bytes */
    EV_ID,     /* an identifier [A-Za-z0-9._:-], 1..EV_ID_LEN_MAX; with entity: indexed */
    EV_UUID,   /* canonical UUID text */
    EV_INT,    /* integer in [min, max], in unit */
    EV_QTY,    /* fixed-point integer, thousandths of unit, in [min, max] */
    EV_ENUM,   /* one of values */
    EV_BOOL,
    EV_TIME,    /* microseconds since the Unix epoch */
    EV_SHA256,  /* 64 lower-case hex digits: a blob (photo) reference */
    EV_OBJECTS, /* array of objects described by items; min/max bound the count */
    EV_IDS      /* array of ids (entity applies to each); min/max bound the count */
} ev_kind_t;

#define EV_REQUIRED  1u /* absent is an error */
#define EV_SENSITIVE 2u /* personal data: encrypted at rest (issue 5) */

/*
 * Sealed text: how a sensitive field is stored once foutad encrypted it (api/pii.c),
 * "enc:v1:<key id>:<base64url>". The decoder checks sensitive fields against their plaintext
 * limits, as the client sent them; with EV_DECODE_SEALED it instead requires every sensitive
 * string to be sealed text (only [A-Za-z0-9_:-], up to EV_STRING_LEN_MAX bytes, whatever the
 * field's own limits say), so that a payload holding ciphertext is accepted and one still holding
 * plaintext is not. Readers of the ledger (projections, replay, exports) see sealed text.
 */
#define EV_SEALED_PREFIX     "enc:v1:"
#define EV_SEALED_PREFIX_LEN 7
#define EV_DECODE_SEALED     1u

typedef struct ev_field {
    const char *name;
    ev_kind_t kind;
    uint32_t flags;
    int64_t min; /* INT, QTY, TIME: value; STRING: length; OBJECTS, IDS: count */
    int64_t max;
    const char *unit;             /* "m", "kg", "pieces", "picks", "min", "points"... or NULL */
    const char *const *values;    /* ENUM: NULL-terminated */
    const char *entity;           /* ID, IDS: entity kind ("hu", "of", "loom"...), or NULL */
    const struct ev_field *items; /* OBJECTS */
    uint32_t items_count;
    const char *doc; /* one line for the OpenAPI description */
} ev_field_t;

/* Upgrades a payload (a jansson json_t * object) written at from_version to from_version + 1,
 * in place. Returns 0 or FL_EINVALID_VALUE. */
typedef int (*ev_upcast_fn)(uint32_t from_version, void *payload);

typedef struct {
    const char *name; /* "ProductionDeclared" */
    uint32_t schema_version;
    uint32_t roles;           /* EV_ROLE_BIT(...) | ... */
    const char *stream_kind;  /* "hu", "of", "loom"...: the stream is "<kind>-<value>" */
    const char *stream_field; /* required ID field whose value names the stream */
    const ev_field_t *fields;
    uint32_t fields_count;
    const char *doc;     /* one line: what happened on the shop floor */
    ev_upcast_fn upcast; /* NULL for types still at version 1 */
    /* Whose personal data the type's EV_SENSITIVE fields are: the person "<person_kind>:<value
     * of person_field>" ("user:U1", "sub:S1"), whose own key encrypts them. person_field is a
     * required top-level ID field. Both NULL for a type without sensitive fields. */
    const char *person_kind;
    const char *person_field;
} ev_type_t;

/* The catalog. Types are sorted by name; ev_type_find is a binary search. */
extern const ev_type_t ev_catalog[];
extern const uint32_t ev_catalog_count;

/* The type called name, or NULL. */
const ev_type_t *ev_type_find(const char *name, size_t len);

/* Whether any field of the type, at any depth, is EV_SENSITIVE. */
bool ev_type_sensitive(const ev_type_t *type);

/* A role's name ("weaver"), and back (EV_ROLE_COUNT when unknown). */
const char *ev_role_name(ev_role_t role);
ev_role_t ev_role_parse(const char *name, size_t len);

static inline bool ev_role_may_post(const ev_type_t *type, ev_role_t role)
{
    return role < EV_ROLE_COUNT && (type->roles & (1u << role)) != 0;
}

/* Why an event was refused. */
typedef struct {
    int code;                   /* FL_E... of base.h */
    char path[EV_PATH_LEN_MAX]; /* "payload.outputs[1].qty_milli", "" for the whole body */
    char message[EV_MESSAGE_LEN_MAX];
} ev_error_t;

/* Who posts: from the authenticated session, never from the event's JSON. */
typedef struct ev_actor {
    const char *user;
    ev_role_t role;
    const char *device;
} ev_actor_t;

/* A validated event, ready for the ledger. Strings are NUL-terminated and live in the struct. */
typedef struct ev_event {
    const ev_type_t *type;
    uint8_t id[16];
    uint32_t schema_version;
    int64_t expected_version; /* -1 any, 0 no stream, N */
    int64_t occurred_at_us;
    uint8_t correlation_id[16];
    uint8_t causation_id[16];
    char stream[EV_NAME_LEN_MAX + 1];
    char entities[EV_ENTITIES_MAX][EV_NAME_LEN_MAX + 1];
    uint32_t entities_count;
    uint8_t payload[EV_PAYLOAD_BYTES_MAX]; /* msgpack map, fields in catalog order */
    uint32_t payload_len;
} ev_event_t;

/*
 * Decodes and validates one event from JSON:
 *   {"id": uuid, "type": name, "schema_version": n (optional, the current one by default),
 *    "occurred_at_us": int, "expected_version": int (optional), "correlation_id": uuid
 *    (optional), "causation_id": uuid (optional), "payload": {...}}
 * Checks that actor->role may post the type. Returns 0, or a code with *error filled:
 * FL_EINVALID_JSON, FL_ETOOBIG, FL_EUNKNOWN_TYPE, FL_EUNKNOWN_FIELD, FL_EMISSING_FIELD,
 * FL_EWRONG_TYPE, FL_EOUT_OF_RANGE, FL_ETOO_LONG, FL_EINVALID_UTF8, FL_EINVALID_VALUE,
 * FL_EFORBIDDEN_ROLE.
 */
int ev_decode_json(const char *json, size_t len, const ev_actor_t *actor, ev_event_t *out,
                   ev_error_t *error);

/* The same from an already parsed JSON object (a member of an array of events). json is a
 * jansson json_t *; the type is void to keep jansson out of this header. */
int ev_decode_object(const void *json, const ev_actor_t *actor, ev_event_t *out, ev_error_t *error);

/* The same with flags: EV_DECODE_SEALED (above) for a payload whose sensitive fields were
 * sealed; a sensitive string that is not sealed text is then FL_EINVALID_VALUE. */
int ev_decode_object_flags(const void *json, const ev_actor_t *actor, uint32_t flags,
                           ev_event_t *out, ev_error_t *error);

/*
 * Writes a stored payload (msgpack, as ev_decode made it) back to JSON text, upcasting records of
 * an older schema version to the current one. Writes at most size bytes with a NUL; returns the
 * length, or FL_ECORRUPT when the payload does not fit its type, FL_ETOOBIG when out is short.
 */
int ev_payload_to_json(const ev_type_t *type, uint32_t schema_version, const uint8_t *payload,
                       size_t payload_len, char *out, size_t size);

/*
 * Reveals a sensitive string for a reader: given the field's path in the payload ("contact_name",
 * "items[2].name") and its stored text, writes the text to show into out (at most size bytes,
 * no NUL needed) and returns its length; or returns a negative code, and the field is shown as
 * null (the callback records why, e.g. the person's key was erased).
 */
typedef int (*ev_reveal_cb)(const char *path, const char *text, size_t len, char *out, size_t size,
                            void *data);

/* ev_payload_to_json, with every EV_SENSITIVE string of the payload passed through reveal. */
int ev_payload_to_json_reveal(const ev_type_t *type, uint32_t schema_version,
                              const uint8_t *payload, size_t payload_len, char *out, size_t size,
                              ev_reveal_cb reveal, void *data);

/* The JSON Schema (OpenAPI 3.1) of a type's payload, as JSON text in a malloc'd string the
 * caller frees; NULL when out of memory. */
char *ev_schema_json(const ev_type_t *type);

#endif
