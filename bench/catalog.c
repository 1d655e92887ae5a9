/*
 * bench/catalog.c: what the event catalog's decoding and validation cost on the durable append
 * path, measured in one run next to a plain append of the very same events.
 *
 * Every event the API accepts arrives as JSON and is decoded and checked against its type
 * (ev_decode_json), then bridged to the ledger (eng_event_from_catalog) before eng_append. The
 * question is what that costs a plant: does validation take throughput from durable appends, or
 * does the wait for the group commit's fsync hide it?
 *
 * The events are a towel-weaving plant at work, generated from a fixed seed before anything is
 * timed (only the event ids differ between runs: fresh UUIDv7s). 200 looms run 20 orders and
 * declare rolls (new handling units, hu_id from a counter); the oldest rolls are cut into graded
 * bundles; bundles are inspected, released, moved to packing and packed into cartons; cartons
 * and rolls are moved; bundles are counted; looms stop and restart; weavers call mechanics and
 * print labels. Each event is posted by a role the catalog allows for its type. The ledger does
 * not enforce the plant's invariants yet, but the events keep to them (an event only names units
 * that exist, in the state it needs, at least DEPENDENCY_LAG events after the unit last changed,
 * so racing appenders cannot reorder the two), and every run first receives the plant's master
 * data (locations, articles, defect codes, looms, released orders started on their looms, an
 * open count session), untimed, so that the mix stays meaningful once invariants are checked.
 *
 * Runs:
 *   - validated: APPENDERS threads take events from one shared atomic index, one event per
 *     blocking call: ev_decode_json with the poster's actor + eng_event_from_catalog +
 *     eng_append, the path the API takes;
 *   - plain: the same events, decoded once before the timer; each call is eng_append of the same
 *     payload bytes, stream and entities;
 *   - decode only: one thread, ev_decode_json in a loop over the events, no ledger.
 * Both append runs use a fresh ledger with durable commits (an fsync per commit) under the
 * directory named on the command line, which the caller removes (bench/run does). A table for
 * people goes to stdout, then one last line "RESULT key=value ...". Nothing here asserts a
 * timing; an event the catalog refuses is a bug of the generator, reported and exit status 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "engine/engine.h"
#include "events/events.h"
#include "bench/done.h"
#include "bench/hist.h"

#define SECONDS_DEFAULT 2.0
#define SECONDS_MAX     600.0
#define APPENDERS       64
#define SEED            0x5eed20260302ull
/* Events generated for the timed runs: enough that the plain run (about 42,000 events/s on the
 * 2-core VM) does not run dry within BENCH_SECONDS, bounded so that memory stays reasonable
 * (about 0.7 KB per event: JSON, decoded payload and names). A run that runs dry stops early and
 * says so (ran_dry=1); its rate is still right. */
#define POOL_EVENTS_MIN        200000u
#define POOL_EVENTS_PER_SECOND 100000u
#define POOL_EVENTS_MAX        1000000u
#define SETUP_EVENTS_MAX       1024u /* master data, appended untimed before each run */
#define SETUP_BATCH_EVENTS     100u  /* master-data events per eng_append */
/* An event names a unit or a loom only when the newest event naming it lies at least this far
 * back in the pool: appenders racing on the shared index cannot then append the two in the
 * wrong order. */
#define DEPENDENCY_LAG     (2u * APPENDERS)
#define LOOMS              200u /* "L001" ..; loom l runs order l % ORDERS */
#define ORDERS             20u  /* "OF2026-001" ..; order o weaves article o % ARTICLES */
#define USERS_PER_ROLE     16u  /* "weaver-01" .. with their devices */
#define ROLL_PIECES_MIN    80u
#define ROLL_PIECES_SPAN   161u /* a roll holds 80 to 240 pieces */
#define CUT_OUTPUTS_MIN    2u
#define CUT_OUTPUTS_SPAN   3u /* a cut makes 2 to 4 bundles, the last one second grade */
#define CUT_WASTE_SPAN     4u /* 0 to 3 % of the roll is waste */
#define DEFECTS_MIN        1u
#define DEFECTS_SPAN       3u        /* an inspection finds 1 to 3 defects */
#define CARTON_BUNDLES_MAX 2u        /* bundles per carton: releases (5%) feed packings (6%) */
#define ORDER_PIECES       10000000u /* enough that no run weaves past a plan */
#define START_US           1772431200000000LL /* 2026-03-02 06:00 UTC: the first master-data event */
#define STEP_US_MIN        200000u            /* between two events: 0.2 to 3 s */
#define STEP_US_SPAN       2800000u
#define DAY_US             86400000000LL
#define COUNT_ID           "CNT2026-03"
#define NAME_BYTES         48
#define PATH_BYTES_MAX     4096
#define MAP_BYTES          (16ull << 30) /* sparse: no run pays for a map resize */
#define ERRORS_SHOWN       5
#define WRITER_DEPTH_MAX   8
#define BUFFER_BYTES_MIN   (1u << 20)
#define MILLI              1000

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

#define HU_ID    "%c2026%07" PRIu32 /* prefix (R roll, B bundle, C carton), then the counter */
#define LOOM_ID  "L%03u"
#define ORDER_ID "OF2026-%03u"

_Static_assert(LOOMS % ORDERS == 0, "every order runs on as many looms");
_Static_assert(USERS_PER_ROLE <= UINT16_MAX, "a user fits pooled_t");
_Static_assert(CARTON_BUNDLES_MAX + 2 <= EV_ENTITIES_MAX, "a packing names few entities");

/* ---- Small helpers. ---- */

/* Setup failures (no disk, no memory, no threads) end the benchmark. err is a code of base.h. */
static void die(const char *what, int err)
{
    fprintf(stderr, "bench_catalog: %s: %s\n", what, fl_strerror(err));
    exit(1);
}

static void *xcalloc(size_t count, size_t size)
{
    void *memory = calloc(count, size);
    if (memory == NULL)
        die("calloc", FL_ENOMEM);
    return memory;
}

static void *xrealloc(void *memory, size_t size)
{
    void *moved = realloc(memory, size);
    if (moved == NULL)
        die("realloc", FL_ENOMEM);
    return moved;
}

static double seconds_from_env(void)
{
    const char *text = getenv("BENCH_SECONDS");
    if (text == NULL || text[0] == '\0')
        return SECONDS_DEFAULT;
    char *end = NULL;
    double seconds = strtod(text, &end);
    if (*end != '\0' || !(seconds > 0) || seconds > SECONDS_MAX) {
        fprintf(stderr, "bench_catalog: BENCH_SECONDS must be in (0, %.0f], not \"%s\"\n",
                SECONDS_MAX, text);
        exit(2);
    }
    return seconds;
}

static double per_second(uint64_t count, uint64_t ns)
{
    return ns > 0 ? (double)count * 1e9 / (double)ns : 0;
}

static double average(uint64_t total, uint64_t count)
{
    return count > 0 ? (double)total / (double)count : 0;
}

/* ---- A growing byte buffer, and a JSON writer on it (our own values never need escapes). ---- */

typedef struct {
    char *bytes;
    size_t len, cap;
} buffer_t;

static void buffer_reserve(buffer_t *buffer, size_t more)
{
    if (buffer->cap - buffer->len >= more)
        return;
    size_t cap = buffer->cap > 0 ? buffer->cap : BUFFER_BYTES_MIN;
    while (cap - buffer->len < more)
        cap *= 2;
    buffer->bytes = xrealloc(buffer->bytes, cap);
    buffer->cap = cap;
}

static void buffer_append(buffer_t *buffer, const void *bytes, size_t len)
{
    buffer_reserve(buffer, len);
    memcpy(buffer->bytes + buffer->len, bytes, len);
    buffer->len += len;
}

/* Appends formatted text; a NUL follows it in the buffer but is not counted. */
static void buffer_vprintf(buffer_t *buffer, const char *format, va_list args)
{
    va_list again;
    va_copy(again, args);
    buffer_reserve(buffer, NAME_BYTES);
    int len = vsnprintf(buffer->bytes + buffer->len, buffer->cap - buffer->len, format, args);
    if (len < 0)
        die("vsnprintf", FL_EINVAL);
    if ((size_t)len >= buffer->cap - buffer->len) {
        buffer_reserve(buffer, (size_t)len + 1);
        vsnprintf(buffer->bytes + buffer->len, buffer->cap - buffer->len, format, again);
    }
    va_end(again);
    buffer->len += (size_t)len;
}

static void buffer_printf(buffer_t *buffer, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static void buffer_printf(buffer_t *buffer, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    buffer_vprintf(buffer, format, args);
    va_end(args);
}

typedef struct {
    buffer_t *out;
    unsigned depth;
    bool started[WRITER_DEPTH_MAX]; /* a member is already written at this depth */
} writer_t;

/* Starts a member: the comma before it, and its key inside an object (NULL in an array). */
static void w_key(writer_t *w, const char *key)
{
    if (w->started[w->depth])
        buffer_append(w->out, ",", 1);
    w->started[w->depth] = true;
    if (key != NULL)
        buffer_printf(w->out, "\"%s\":", key);
}

static void w_open(writer_t *w, const char *key, char bracket)
{
    w_key(w, key);
    buffer_append(w->out, &bracket, 1);
    assert(w->depth + 1 < WRITER_DEPTH_MAX);
    w->started[++w->depth] = false;
}

static void w_close(writer_t *w, char bracket)
{
    assert(w->depth > 0);
    w->depth--;
    buffer_append(w->out, &bracket, 1);
}

static void w_str(writer_t *w, const char *key, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static void w_str(writer_t *w, const char *key, const char *format, ...)
{
    w_key(w, key);
    buffer_append(w->out, "\"", 1);
    size_t start = w->out->len;
    va_list args;
    va_start(args, format);
    buffer_vprintf(w->out, format, args);
    va_end(args);
    assert(strcspn(w->out->bytes + start, "\"\\") == w->out->len - start);
    buffer_append(w->out, "\"", 1);
}

static void w_int(writer_t *w, const char *key, int64_t value)
{
    w_key(w, key);
    buffer_printf(w->out, "%" PRId64, value);
}

static void w_bool(writer_t *w, const char *key, bool value)
{
    w_key(w, key);
    buffer_printf(w->out, "%s", value ? "true" : "false");
}

/* ---- The plant: its master data. ---- */

enum { LOC_WEAVING, LOC_CUT_BUFFER, LOC_CUTTING, LOC_QC, LOC_PACKING, LOC_FINISHED, LOC_SHIPPING };

static const struct {
    const char *id, *name, *kind;
} locations[] = {
    [LOC_WEAVING] = {"WEAVING", "Weaving hall", "weaving"},
    [LOC_CUT_BUFFER] = {"CUT-BUFFER", "Rolls waiting for cutting", "zone"},
    [LOC_CUTTING] = {"CUTTING", "Cutting room", "cutting"},
    [LOC_QC] = {"QC", "Quality control", "qc"},
    [LOC_PACKING] = {"PACKING", "Packing", "packing"},
    [LOC_FINISHED] = {"FG-WH", "Finished goods warehouse", "warehouse_finished"},
    [LOC_SHIPPING] = {"SHIPPING", "Shipping dock", "shipping"},
};

typedef struct {
    const char *id, *name;
    uint32_t width_mm, repeat_mm, gsm, picks_per_cm_milli, pile_ratio_milli, pieces_per_carton;
} article_t;

static const article_t articles[] = {
    {"TW-500-WHT", "Bath towel 500 g/m2 white", 700, 1400, 500, 18000, 4000, 24},
    {"TW-500-NVY", "Bath towel 500 g/m2 navy", 700, 1400, 500, 18000, 4000, 24},
    {"TW-400-HND", "Hand towel 400 g/m2", 500, 1000, 400, 16000, 3500, 48},
    {"TW-600-SHT", "Bath sheet 600 g/m2", 1000, 1600, 600, 20000, 4500, 12},
    {"TW-350-GST", "Guest towel 350 g/m2", 300, 500, 350, 15000, 3000, 96},
    {"FT-180-STR", "Fouta 180 g/m2 striped", 1000, 1800, 180, 14000, 0, 30},
    {"FT-220-HNY", "Fouta honeycomb 220 g/m2", 1000, 1900, 220, 16000, 0, 30},
    {"TW-450-BCH", "Beach towel 450 g/m2 printed", 900, 1700, 450, 17000, 3800, 20},
};
#define ARTICLES ((unsigned)COUNT_OF(articles))

static uint32_t picks_per_piece(const article_t *article)
{
    return article->repeat_mm * article->picks_per_cm_milli / 10000; /* mm to cm, milli */
}

static uint32_t piece_grams(const article_t *article)
{
    return article->gsm * article->width_mm / 1000 * article->repeat_mm / 1000;
}

static const struct {
    const char *id, *name, *category;
    unsigned points;
} defects[] = {
    {"D-SLUB", "Slub in the weft", "yarn", 1}, {"D-MISPICK", "Mispick", "weaving", 2},
    {"D-OIL", "Oil stain", "stain", 3},        {"D-PILE", "Pulled pile loop", "weaving", 2},
    {"D-HEM", "Uneven hem", "sewing", 1},      {"D-SIZE", "Out of size", "dimension", 4},
};

/* Stop classes of the catalog and the plant's own reason codes, side by side. */
static const char *const stop_classes[] = {"warp",    "weft",        "mechanical", "electrical",
                                           "quality", "no_material", "other"};
static const char *const stop_codes[] = {"WARP-BREAK",    "WEFT-BREAK", "MECH-FAULT", "ELEC-FAULT",
                                         "QUALITY-CHECK", "NO-YARN",    "OTHER"};
_Static_assert(COUNT_OF(stop_classes) == COUNT_OF(stop_codes), "a code per class");

static const char *const urgencies[] = {"low", "normal", "high", "critical"};
static const char *const waste_reasons[] = {"weaving_defect", "yarn_defect", "cutting_error",
                                            "stain", "roll_end"};
static const char *const notes[] = {
    "checked with the shift leader",    "yarn tension adjusted", "second time this shift",
    "see photo on the tablet",          "edge slightly loose",   "waiting for the mechanic",
    "temple marks on the first metres", "ok after re-threading",
};

/* ---- The events of the pool, and what the generator and the runs keep about them. ---- */

typedef enum {
    MIX_PRODUCTION,
    MIX_LOOM_STOP,
    MIX_LOOM_RESTART,
    MIX_CUTTING,
    MIX_TRANSFER,
    MIX_INSPECTION,
    MIX_RELEASE,
    MIX_PACK,
    MIX_COUNT,
    MIX_INTERVENTION,
    MIX_LABEL,
    MIX_KINDS,
    MIX_SETUP = MIX_KINDS /* master data, appended untimed */
} mix_t;

typedef struct {
    uint64_t json_offset;
    uint32_t json_len;
    uint8_t role;  /* ev_role_t of the poster */
    uint8_t mix;   /* mix_t */
    uint16_t user; /* which of the role's USERS_PER_ROLE users */
} pooled_t;

/* An event as ev_decode_json made it, kept compactly for the plain run. */
typedef struct {
    uint8_t id[ENG_ID_BYTES], correlation_id[ENG_ID_BYTES], causation_id[ENG_ID_BYTES];
    const char *type;
    uint32_t schema_version, entities_count, payload_len;
    int64_t expected_version, occurred_at_us;
    uint64_t names_offset;   /* in pool->decoded: the stream, then each entity, NUL-terminated */
    uint64_t payload_offset; /* in pool->decoded */
} decoded_t;

typedef struct {
    uint64_t events, json_bytes, payload_bytes, entities;
    uint64_t decode_calls, decode_ns; /* of the decode-only run */
} kind_stats_t;

typedef struct {
    pooled_t *events;
    decoded_t *decoded_events;
    uint32_t count, cap, setup_count; /* events [0, setup_count) are the master data */
    buffer_t json, decoded;
    kind_stats_t kinds[MIX_KINDS + 1]; /* by mix_t, MIX_SETUP last */
} pool_t;

static const char *json_of(const pool_t *pool, uint32_t index)
{
    return pool->json.bytes + pool->events[index].json_offset;
}

/* Who posts: a few users per role, each with a device. */
static char user_names[EV_ROLE_COUNT][USERS_PER_ROLE][NAME_BYTES];
static char device_names[EV_ROLE_COUNT][USERS_PER_ROLE][NAME_BYTES];

static void actors_init(void)
{
    for (unsigned role = 0; role < EV_ROLE_COUNT; role++) {
        for (unsigned user = 0; user < USERS_PER_ROLE; user++) {
            snprintf(user_names[role][user], NAME_BYTES, "%s-%02u", ev_role_name(role), user + 1);
            snprintf(device_names[role][user], NAME_BYTES, "tab-%s-%02u", ev_role_name(role),
                     user + 1);
        }
    }
}

static ev_actor_t actor_of(const pooled_t *event)
{
    return (ev_actor_t){.user = user_names[event->role][event->user],
                        .role = (ev_role_t)event->role,
                        .device = device_names[event->role][event->user]};
}

/* ---- The generator's state: looms, units and how far each stage of the flow has got. ---- */

typedef struct {
    char prefix;         /* R roll, B bundle, C carton */
    uint32_t number;     /* from the one counter of units */
    uint32_t last_event; /* pool index of the newest event naming it */
    uint32_t pieces;
    uint8_t article, location;
    bool labelled; /* one LabelPrinted per unit (the plant's rule) */
} hu_t;

typedef struct {
    hu_t *items;
    uint32_t count, cap;
} hus_t;

typedef struct {
    bool stopped;
    uint32_t last_event;
    int64_t picks; /* the cumulative pick counter */
} loom_t;

/* Each stage takes units in the order they were made, so a cursor per stage says how far it
 * got. Bundles: packed <= moved (to packing) <= released <= inspected <= made. Rolls: cut, and
 * moved to the cutting buffer only while not cut. Cartons: moved to the warehouse. */
typedef struct {
    pool_t *pool;
    writer_t writer;
    uint64_t random;
    int64_t now_us;
    uint32_t event; /* pool index of the event being made */
    uint32_t units, interventions, transfers;
    loom_t looms[LOOMS];
    hus_t rolls, bundles, cartons;
    uint32_t rolls_cut, rolls_moved;
    uint32_t bundles_inspected, bundles_released, bundles_moved, bundles_packed;
    uint32_t cartons_moved;
} gen_t;

/* A number in [0, below), from the seeded xorshift. */
static uint32_t dice(gen_t *g, uint32_t below)
{
    g->random ^= g->random << 13;
    g->random ^= g->random >> 7;
    g->random ^= g->random << 17;
    return (uint32_t)(g->random % below);
}

static bool ready(const gen_t *g, uint32_t last_event)
{
    return last_event + DEPENDENCY_LAG <= g->event;
}

static hu_t *hu_new(gen_t *g, hus_t *list, char prefix, unsigned article, unsigned location,
                    uint32_t pieces)
{
    if (list->count == list->cap) {
        list->cap = list->cap > 0 ? 2 * list->cap : 1024;
        list->items = xrealloc(list->items, list->cap * sizeof(*list->items));
    }
    hu_t *hu = &list->items[list->count++];
    *hu = (hu_t){.prefix = prefix,
                 .number = ++g->units,
                 .last_event = g->event,
                 .pieces = pieces,
                 .article = (uint8_t)article,
                 .location = (uint8_t)location};
    return hu;
}

/* Starts the JSON of the next event, up to its open payload. The role must be one the type
 * allows: the generator checks it here rather than learn it from a refusal. */
static void event_begin(gen_t *g, mix_t mix, const char *type, ev_role_t role, unsigned user)
{
    const ev_type_t *found = ev_type_find(type, strlen(type));
    if (found == NULL || !ev_role_may_post(found, role)) {
        fprintf(stderr, "bench_catalog: generator bug: %s may not post %s\n", ev_role_name(role),
                type);
        exit(1);
    }
    pool_t *pool = g->pool;
    assert(pool->count < pool->cap && g->event == pool->count);
    pool->events[pool->count] = (pooled_t){.json_offset = pool->json.len,
                                           .role = (uint8_t)role,
                                           .mix = (uint8_t)mix,
                                           .user = (uint16_t)(user % USERS_PER_ROLE)};
    uint8_t id[ENG_ID_BYTES];
    char text[37];
    int rc = fl_uuid7(id);
    if (rc != 0)
        die("fl_uuid7", rc);
    fl_uuid_format(id, text);
    g->now_us += STEP_US_MIN + dice(g, STEP_US_SPAN);
    writer_t *w = &g->writer;
    w->depth = 0;
    w->started[0] = false;
    w_open(w, NULL, '{');
    w_str(w, "id", "%s", text);
    w_str(w, "type", "%s", type);
    w_int(w, "occurred_at_us", g->now_us);
    w_open(w, "payload", '{');
}

static void event_end(gen_t *g)
{
    w_close(&g->writer, '}');
    w_close(&g->writer, '}');
    pool_t *pool = g->pool;
    pooled_t *event = &pool->events[pool->count++];
    event->json_len = (uint32_t)(pool->json.len - event->json_offset);
    g->event = pool->count;
}

static void maybe_note(gen_t *g, uint32_t one_in)
{
    if (dice(g, one_in) == 0)
        w_str(&g->writer, "note", "%s", notes[dice(g, COUNT_OF(notes))]);
}

/* ---- Master data: what the floor's events refer to. ---- */

static void setup_locations(gen_t *g)
{
    writer_t *w = &g->writer;
    for (unsigned i = 0; i < COUNT_OF(locations); i++) {
        event_begin(g, MIX_SETUP, "LocationDefined", EV_ROLE_MANAGER, 0);
        w_str(w, "location_id", "%s", locations[i].id);
        w_str(w, "name", "%s", locations[i].name);
        w_str(w, "kind", "%s", locations[i].kind);
        event_end(g);
    }
}

static void setup_articles(gen_t *g)
{
    writer_t *w = &g->writer;
    for (unsigned i = 0; i < ARTICLES; i++) {
        const article_t *a = &articles[i];
        event_begin(g, MIX_SETUP, "ArticleSpecDefined", EV_ROLE_MANAGER, 0);
        w_str(w, "item_id", "%s", a->id);
        w_str(w, "name", "%s", a->name);
        w_str(w, "unit", "pcs");
        w_int(w, "width_mm", a->width_mm);
        w_int(w, "repeat_length_mm", a->repeat_mm);
        w_int(w, "gsm", a->gsm);
        w_int(w, "picks_per_cm_milli", a->picks_per_cm_milli);
        if (a->pile_ratio_milli > 0)
            w_int(w, "pile_ratio_milli", a->pile_ratio_milli);
        w_bool(w, "first_piece_required", false);
        w_int(w, "cutting_tolerance_permille", 20);
        w_int(w, "overproduction_allowed_permille", 50);
        w_int(w, "pieces_per_carton", a->pieces_per_carton);
        w_str(w, "composition", "100%% cotton");
        event_end(g);
    }
}

static void setup_defects(gen_t *g)
{
    writer_t *w = &g->writer;
    for (unsigned i = 0; i < COUNT_OF(defects); i++) {
        event_begin(g, MIX_SETUP, "DefectCodeDefined", EV_ROLE_MANAGER, 0);
        w_str(w, "defect_id", "%s", defects[i].id);
        w_str(w, "name", "%s", defects[i].name);
        w_str(w, "category", "%s", defects[i].category);
        w_int(w, "default_points", defects[i].points);
        event_end(g);
    }
}

static void setup_looms(gen_t *g)
{
    writer_t *w = &g->writer;
    for (unsigned l = 0; l < LOOMS; l++) {
        event_begin(g, MIX_SETUP, "LoomDefined", EV_ROLE_MANAGER, 0);
        w_str(w, "loom_id", LOOM_ID, l + 1);
        w_str(w, "name", "Loom %u", l + 1);
        w_str(w, "model", "%s", l % 2 == 0 ? "Picanol TerryPlus-i" : "Dornier PTS");
        w_str(w, "location_id", "%s", locations[LOC_WEAVING].id);
        w_int(w, "nominal_picks_per_min", 400 + dice(g, 250));
        w_int(w, "reed_width_mm", 2800);
        w_bool(w, "terry", articles[l % ORDERS % ARTICLES].pile_ratio_milli > 0);
        event_end(g);
    }
}

static void setup_orders(gen_t *g)
{
    writer_t *w = &g->writer;
    for (unsigned o = 0; o < ORDERS; o++) {
        event_begin(g, MIX_SETUP, "OFCreated", EV_ROLE_MANAGER, 0);
        w_str(w, "of_id", ORDER_ID, o + 1);
        w_str(w, "item_id", "%s", articles[o % ARTICLES].id);
        w_int(w, "planned_qty_milli", (int64_t)ORDER_PIECES * MILLI);
        w_str(w, "unit", "pcs");
        w_int(w, "due_at_us", START_US + (int64_t)(10 + o) * DAY_US);
        w_int(w, "priority", 1 + o % 9);
        w_str(w, "customer_order_ref", "PO-%05u", 41000 + o);
        event_end(g);
        event_begin(g, MIX_SETUP, "OFReleased", EV_ROLE_MANAGER, 0);
        w_str(w, "of_id", ORDER_ID, o + 1);
        event_end(g);
    }
}

/* Every loom is planned on its order and starts it, at its pick counter's reading. */
static void setup_loom_starts(gen_t *g)
{
    writer_t *w = &g->writer;
    for (unsigned l = 0; l < LOOMS; l++) {
        event_begin(g, MIX_SETUP, "OFAssignedToLoom", EV_ROLE_MANAGER, 0);
        w_str(w, "of_id", ORDER_ID, l % ORDERS + 1);
        w_str(w, "loom_id", LOOM_ID, l + 1);
        w_int(w, "planned_qty_milli", (int64_t)ORDER_PIECES * MILLI / (LOOMS / ORDERS));
        w_int(w, "sequence", 1);
        event_end(g);
        g->looms[l].picks = 1000000 * (int64_t)(1 + dice(g, 90));
        g->looms[l].last_event = g->event;
        event_begin(g, MIX_SETUP, "OFStartedOnLoom", EV_ROLE_WEAVER, l);
        w_str(w, "loom_id", LOOM_ID, l + 1);
        w_str(w, "of_id", ORDER_ID, l % ORDERS + 1);
        w_int(w, "picks", g->looms[l].picks);
        event_end(g);
    }
}

static void setup_count(gen_t *g)
{
    writer_t *w = &g->writer;
    event_begin(g, MIX_SETUP, "CountOpened", EV_ROLE_STORE_FINISHED, 0);
    w_str(w, "count_id", COUNT_ID);
    w_open(w, "location_ids", '[');
    for (unsigned i = 0; i < COUNT_OF(locations); i++)
        w_str(w, NULL, "%s", locations[i].id);
    w_close(w, ']');
    w_str(w, "scope", "cycle");
    w_bool(w, "blind", false);
    event_end(g);
}

/* ---- The floor: one generator per kind of the mix. Each returns false, having written
 * nothing, when the plant has nothing for it to do yet. ---- */

/* A loom in the given state whose last event lies DEPENDENCY_LAG back, or -1. */
static int loom_pick(gen_t *g, bool stopped)
{
    unsigned start = dice(g, LOOMS);
    for (unsigned i = 0; i < LOOMS; i++) {
        unsigned l = (start + i) % LOOMS;
        if (g->looms[l].stopped == stopped && ready(g, g->looms[l].last_event))
            return (int)l;
    }
    return -1;
}

static bool gen_production(gen_t *g)
{
    int found = loom_pick(g, false);
    if (found < 0)
        return false;
    unsigned l = (unsigned)found, order = l % ORDERS, article = order % ARTICLES;
    const article_t *a = &articles[article];
    uint32_t pieces = ROLL_PIECES_MIN + dice(g, ROLL_PIECES_SPAN);
    loom_t *loom = &g->looms[l];
    loom->picks += (int64_t)pieces * picks_per_piece(a);
    loom->last_event = g->event;
    const hu_t *roll = hu_new(g, &g->rolls, 'R', article, LOC_WEAVING, pieces);
    writer_t *w = &g->writer;
    event_begin(g, MIX_PRODUCTION, "ProductionDeclared", EV_ROLE_WEAVER, l);
    w_str(w, "hu_id", HU_ID, roll->prefix, roll->number);
    w_str(w, "of_id", ORDER_ID, order + 1);
    w_str(w, "loom_id", LOOM_ID, l + 1);
    w_str(w, "item_id", "%s", a->id);
    w_int(w, "qty_milli", (int64_t)pieces * MILLI);
    w_str(w, "unit", "pcs");
    w_str(w, "location_id", "%s", locations[LOC_WEAVING].id);
    w_int(w, "length_milli", (int64_t)pieces * a->repeat_mm); /* mm: thousandths of a metre */
    if (dice(g, 2) == 0)
        w_int(w, "weight_milli", (int64_t)pieces * piece_grams(a)); /* g: thousandths of kg */
    w_int(w, "picks", loom->picks);
    event_end(g);
    return true;
}

static bool gen_loom_stop(gen_t *g)
{
    int found = loom_pick(g, false);
    if (found < 0)
        return false;
    unsigned l = (unsigned)found, cause = dice(g, COUNT_OF(stop_classes));
    loom_t *loom = &g->looms[l];
    loom->stopped = true;
    loom->last_event = g->event;
    loom->picks += 100 + dice(g, 5000);
    bool mechanic = dice(g, 5) == 0;
    writer_t *w = &g->writer;
    event_begin(g, MIX_LOOM_STOP, "LoomStopped", mechanic ? EV_ROLE_MECHANIC : EV_ROLE_WEAVER, l);
    w_str(w, "loom_id", LOOM_ID, l + 1);
    w_str(w, "stop_class", "%s", stop_classes[cause]);
    w_str(w, "reason_code", "%s", stop_codes[cause]);
    w_int(w, "picks", loom->picks);
    maybe_note(g, 4);
    event_end(g);
    return true;
}

static bool gen_loom_restart(gen_t *g)
{
    int found = loom_pick(g, true);
    if (found < 0)
        return false;
    unsigned l = (unsigned)found;
    loom_t *loom = &g->looms[l];
    loom->stopped = false;
    loom->last_event = g->event;
    bool mechanic = dice(g, 3) == 0;
    writer_t *w = &g->writer;
    event_begin(g, MIX_LOOM_RESTART, "LoomRestarted", mechanic ? EV_ROLE_MECHANIC : EV_ROLE_WEAVER,
                l);
    w_str(w, "loom_id", LOOM_ID, l + 1);
    w_int(w, "picks", loom->picks); /* a stopped loom's counter does not move */
    maybe_note(g, 4);
    event_end(g);
    return true;
}

/* The bundles of a cut: first grade shares the good pieces, the last bundle is second grade. */
static void cut_outputs(gen_t *g, const hu_t *input, uint32_t good)
{
    unsigned outputs = CUT_OUTPUTS_MIN + dice(g, CUT_OUTPUTS_SPAN);
    uint32_t second = good * (2 + dice(g, 6)) / 100;
    second = second > 0 ? second : 1;
    uint32_t first_each = (good - second) / (outputs - 1);
    uint32_t first_rest = (good - second) % (outputs - 1);
    writer_t *w = &g->writer;
    w_open(w, "outputs", '[');
    for (unsigned o = 0; o < outputs; o++) {
        bool is_second = o == outputs - 1;
        uint32_t pieces = is_second ? second : first_each + (o == 0 ? first_rest : 0);
        const hu_t *bundle = hu_new(g, &g->bundles, 'B', input->article, LOC_CUTTING, pieces);
        w_open(w, NULL, '{');
        w_str(w, "hu_id", HU_ID, bundle->prefix, bundle->number);
        w_str(w, "item_id", "%s", articles[input->article].id);
        w_str(w, "grade", "%s", is_second ? "second" : "first");
        w_int(w, "qty_milli", (int64_t)pieces * MILLI);
        w_close(w, '}');
    }
    w_close(w, ']');
}

static bool gen_cutting(gen_t *g)
{
    if (g->rolls_cut == g->rolls.count || !ready(g, g->rolls.items[g->rolls_cut].last_event))
        return false;
    hu_t *input = &g->rolls.items[g->rolls_cut++];
    input->last_event = g->event;
    uint32_t waste = input->pieces * dice(g, CUT_WASTE_SPAN) / 100;
    writer_t *w = &g->writer;
    event_begin(g, MIX_CUTTING, "CuttingDeclared", EV_ROLE_CUTTER, dice(g, USERS_PER_ROLE));
    w_str(w, "input_hu_id", HU_ID, input->prefix, input->number);
    w_int(w, "consumed_qty_milli", (int64_t)input->pieces * MILLI);
    w_str(w, "unit", "pcs");
    w_str(w, "location_id", "%s", locations[LOC_CUTTING].id);
    cut_outputs(g, input, input->pieces - waste);
    w_int(w, "waste_qty_milli", (int64_t)waste * MILLI);
    if (waste > 0)
        w_str(w, "waste_reason", "%s", waste_reasons[dice(g, COUNT_OF(waste_reasons))]);
    maybe_note(g, 5);
    event_end(g);
    return true;
}

static void transfer_write(gen_t *g, hu_t *hu, unsigned to, ev_role_t role)
{
    unsigned from = hu->location;
    hu->location = (uint8_t)to;
    hu->last_event = g->event;
    writer_t *w = &g->writer;
    event_begin(g, MIX_TRANSFER, "StockTransferred", role, dice(g, USERS_PER_ROLE));
    w_str(w, "hu_id", HU_ID, hu->prefix, hu->number);
    w_str(w, "from_location_id", "%s", locations[from].id);
    w_str(w, "to_location_id", "%s", locations[to].id);
    if (dice(g, 2) == 0)
        w_str(w, "transfer_ref", "TR2026-%06" PRIu32, ++g->transfers);
    event_end(g);
}

/* A released bundle goes to packing; else a carton to the warehouse; else a roll waiting for
 * cutting to the cutting buffer. */
static bool gen_transfer(gen_t *g)
{
    if (g->bundles_moved < g->bundles_released &&
        ready(g, g->bundles.items[g->bundles_moved].last_event)) {
        transfer_write(g, &g->bundles.items[g->bundles_moved++], LOC_PACKING,
                       EV_ROLE_STORE_FINISHED);
        return true;
    }
    if (g->cartons_moved < g->cartons.count &&
        ready(g, g->cartons.items[g->cartons_moved].last_event)) {
        transfer_write(g, &g->cartons.items[g->cartons_moved++], LOC_FINISHED,
                       EV_ROLE_STORE_FINISHED);
        return true;
    }
    if (g->rolls_moved < g->rolls_cut)
        g->rolls_moved = g->rolls_cut; /* a roll cut where it lay is not moved any more */
    if (g->rolls_moved < g->rolls.count && ready(g, g->rolls.items[g->rolls_moved].last_event)) {
        transfer_write(g, &g->rolls.items[g->rolls_moved++], LOC_CUT_BUFFER, EV_ROLE_STORE_RAW);
        return true;
    }
    return false;
}

/* Defects found, with their place along the roll when length_milli > 0. */
static void defects_write(gen_t *g, uint32_t length_milli)
{
    writer_t *w = &g->writer;
    unsigned count = DEFECTS_MIN + dice(g, DEFECTS_SPAN);
    w_open(w, "defects", '[');
    for (unsigned i = 0; i < count; i++) {
        unsigned d = dice(g, COUNT_OF(defects));
        w_open(w, NULL, '{');
        w_str(w, "defect_id", "%s", defects[d].id);
        w_int(w, "points", defects[d].points);
        w_int(w, "count", 1 + dice(g, 3));
        if (length_milli > 0)
            w_int(w, "position_milli", dice(g, length_milli));
        w_close(w, '}');
    }
    w_close(w, ']');
}

/* A roll still on the floor (not cut), checked in process along its length. */
static bool inspect_roll(gen_t *g)
{
    if (g->rolls_cut == g->rolls.count)
        return false;
    hu_t *roll = &g->rolls.items[g->rolls_cut + dice(g, g->rolls.count - g->rolls_cut)];
    if (!ready(g, roll->last_event))
        return false;
    roll->last_event = g->event;
    const article_t *a = &articles[roll->article];
    uint32_t length_milli = roll->pieces * a->repeat_mm;
    writer_t *w = &g->writer;
    event_begin(g, MIX_INSPECTION, "InspectionRecorded", EV_ROLE_QUALITY, dice(g, USERS_PER_ROLE));
    w_str(w, "hu_id", HU_ID, roll->prefix, roll->number);
    w_str(w, "stage", "in_process");
    w_int(w, "inspected_length_milli", length_milli);
    w_int(w, "width_mm", a->width_mm);
    defects_write(g, length_milli);
    maybe_note(g, 4);
    event_end(g);
    return true;
}

/* The oldest bundle not yet inspected, sampled in its final inspection. */
static bool inspect_bundle(gen_t *g)
{
    if (g->bundles_inspected == g->bundles.count ||
        !ready(g, g->bundles.items[g->bundles_inspected].last_event))
        return false;
    hu_t *bundle = &g->bundles.items[g->bundles_inspected++];
    bundle->last_event = g->event;
    uint32_t sample = 5 + dice(g, 16);
    writer_t *w = &g->writer;
    event_begin(g, MIX_INSPECTION, "InspectionRecorded", EV_ROLE_QUALITY, dice(g, USERS_PER_ROLE));
    w_str(w, "hu_id", HU_ID, bundle->prefix, bundle->number);
    w_str(w, "stage", "final");
    w_int(w, "sample_qty_milli",
          (int64_t)(sample < bundle->pieces ? sample : bundle->pieces) * MILLI);
    defects_write(g, 0);
    maybe_note(g, 4);
    event_end(g);
    return true;
}

static bool gen_inspection(gen_t *g)
{
    if (dice(g, 4) == 0)
        return inspect_roll(g) || inspect_bundle(g);
    return inspect_bundle(g) || inspect_roll(g);
}

static bool gen_release(gen_t *g)
{
    if (g->bundles_released == g->bundles_inspected ||
        !ready(g, g->bundles.items[g->bundles_released].last_event))
        return false;
    hu_t *bundle = &g->bundles.items[g->bundles_released++];
    bundle->last_event = g->event;
    event_begin(g, MIX_RELEASE, "LotReleased", EV_ROLE_QUALITY, dice(g, USERS_PER_ROLE));
    w_str(&g->writer, "hu_id", HU_ID, bundle->prefix, bundle->number);
    maybe_note(g, 6);
    event_end(g);
    return true;
}

/* A new carton of the oldest released bundles already at packing, up to CARTON_BUNDLES_MAX. */
static bool gen_pack(gen_t *g)
{
    uint32_t take = 0;
    while (take < CARTON_BUNDLES_MAX && g->bundles_packed + take < g->bundles_moved &&
           ready(g, g->bundles.items[g->bundles_packed + take].last_event))
        take++;
    if (take == 0)
        return false;
    hu_t *first = &g->bundles.items[g->bundles_packed];
    hu_t *carton = hu_new(g, &g->cartons, 'C', first->article, LOC_PACKING, 0);
    writer_t *w = &g->writer;
    event_begin(g, MIX_PACK, "HUPacked", EV_ROLE_STORE_FINISHED, dice(g, USERS_PER_ROLE));
    w_str(w, "carton_hu_id", HU_ID, carton->prefix, carton->number);
    w_open(w, "hu_ids", '[');
    for (uint32_t i = 0; i < take; i++) {
        hu_t *bundle = &g->bundles.items[g->bundles_packed++];
        bundle->last_event = g->event;
        carton->pieces += bundle->pieces;
        w_str(w, NULL, HU_ID, bundle->prefix, bundle->number);
    }
    w_close(w, ']');
    w_str(w, "location_id", "%s", locations[LOC_PACKING].id);
    event_end(g);
    return true;
}

/* A bundle not packed yet is counted where it lies; now and then one piece is missing. */
static bool gen_count(gen_t *g)
{
    if (g->bundles_packed == g->bundles.count)
        return false;
    hu_t *bundle =
        &g->bundles.items[g->bundles_packed + dice(g, g->bundles.count - g->bundles_packed)];
    if (!ready(g, bundle->last_event))
        return false;
    bundle->last_event = g->event;
    bool short_one = bundle->pieces > 1 && dice(g, 20) == 0;
    writer_t *w = &g->writer;
    event_begin(g, MIX_COUNT, "ItemCounted", EV_ROLE_STORE_FINISHED, dice(g, USERS_PER_ROLE));
    w_str(w, "count_id", COUNT_ID);
    w_str(w, "hu_id", HU_ID, bundle->prefix, bundle->number);
    w_str(w, "item_id", "%s", articles[bundle->article].id);
    w_str(w, "location_id", "%s", locations[bundle->location].id);
    w_int(w, "counted_qty_milli", (int64_t)(bundle->pieces - short_one) * MILLI);
    w_str(w, "unit", "pcs");
    if (short_one)
        w_str(w, "note", "one piece missing from the bundle");
    event_end(g);
    return true;
}

/* Always possible: any loom may need a mechanic. One request in four comes with a photo. */
static bool gen_intervention(gen_t *g)
{
    unsigned l = dice(g, LOOMS), cause = dice(g, COUNT_OF(stop_classes));
    writer_t *w = &g->writer;
    event_begin(g, MIX_INTERVENTION, "InterventionRequested", EV_ROLE_WEAVER, l);
    w_str(w, "int_id", "INT2026-%06" PRIu32, ++g->interventions);
    w_str(w, "loom_id", LOOM_ID, l + 1);
    w_str(w, "fault_class", "%s", stop_classes[cause]);
    w_str(w, "urgency", "%s", urgencies[dice(g, COUNT_OF(urgencies))]);
    w_str(w, "description", "%s", notes[dice(g, COUNT_OF(notes))]);
    if (dice(g, 4) == 0) {
        w_open(w, "photos", '[');
        w_open(w, NULL, '{');
        w_str(w, "sha256", "%08x%08x%08x%08x%08x%08x%08x%08x", dice(g, UINT32_MAX),
              dice(g, UINT32_MAX), dice(g, UINT32_MAX), dice(g, UINT32_MAX), dice(g, UINT32_MAX),
              dice(g, UINT32_MAX), dice(g, UINT32_MAX), dice(g, UINT32_MAX));
        w_str(w, "caption", "loom %u", l + 1);
        w_close(w, '}');
        w_close(w, ']');
    }
    event_end(g);
    return true;
}

/* A roll still on the floor gets its label at the loom's printer. */
static bool gen_label(gen_t *g)
{
    if (g->rolls_cut == g->rolls.count)
        return false;
    hu_t *roll = &g->rolls.items[g->rolls_cut + dice(g, g->rolls.count - g->rolls_cut)];
    if (!ready(g, roll->last_event) || roll->labelled)
        return false;
    roll->last_event = g->event;
    roll->labelled = true;
    writer_t *w = &g->writer;
    event_begin(g, MIX_LABEL, "LabelPrinted", EV_ROLE_WEAVER, dice(g, USERS_PER_ROLE));
    w_str(w, "hu_id", HU_ID, roll->prefix, roll->number);
    w_str(w, "printer", "ZT411-WEAVING-%u", 1 + dice(g, 4));
    w_str(w, "format", "zpl");
    event_end(g);
    return true;
}

/* The mix: the share of each kind among the draws, and what to make instead when the plant has
 * nothing for a kind yet (every chain ends at an intervention, which is always possible). The
 * kinds actually made are counted and printed. */
static const struct {
    const char *type;
    unsigned percent;
    mix_t fallback;
    bool (*generate)(gen_t *g);
} mix_plan[MIX_KINDS] = {
    [MIX_PRODUCTION] = {"ProductionDeclared", 35, MIX_LOOM_RESTART, gen_production},
    [MIX_LOOM_STOP] = {"LoomStopped", 8, MIX_INTERVENTION, gen_loom_stop},
    [MIX_LOOM_RESTART] = {"LoomRestarted", 8, MIX_LOOM_STOP, gen_loom_restart},
    [MIX_CUTTING] = {"CuttingDeclared", 10, MIX_PRODUCTION, gen_cutting},
    [MIX_TRANSFER] = {"StockTransferred", 10, MIX_PRODUCTION, gen_transfer},
    [MIX_INSPECTION] = {"InspectionRecorded", 8, MIX_CUTTING, gen_inspection},
    [MIX_RELEASE] = {"LotReleased", 5, MIX_INSPECTION, gen_release},
    [MIX_PACK] = {"HUPacked", 6, MIX_RELEASE, gen_pack},
    [MIX_COUNT] = {"ItemCounted", 5, MIX_PRODUCTION, gen_count},
    [MIX_INTERVENTION] = {"InterventionRequested", 3, MIX_INTERVENTION, gen_intervention},
    [MIX_LABEL] = {"LabelPrinted", 2, MIX_PRODUCTION, gen_label},
};

static const char *mix_name(unsigned kind)
{
    return kind < MIX_KINDS ? mix_plan[kind].type : "master data (untimed)";
}

static void mix_event(gen_t *g)
{
    unsigned draw = dice(g, 100), kind = 0;
    while (draw >= mix_plan[kind].percent)
        draw -= mix_plan[kind++].percent;
    while (!mix_plan[kind].generate(g)) {
        assert(kind != MIX_INTERVENTION);
        kind = mix_plan[kind].fallback;
    }
}

static uint32_t pool_size(double seconds)
{
    double wanted = seconds * POOL_EVENTS_PER_SECOND;
    if (wanted < POOL_EVENTS_MIN)
        return POOL_EVENTS_MIN;
    return wanted > POOL_EVENTS_MAX ? POOL_EVENTS_MAX : (uint32_t)wanted;
}

/* The master data, then `events` events of the mix, as JSON into pool. */
static void generate(pool_t *pool, uint32_t events)
{
    unsigned percent = 0;
    for (unsigned kind = 0; kind < MIX_KINDS; kind++)
        percent += mix_plan[kind].percent;
    assert(percent == 100);
    gen_t *g = xcalloc(1, sizeof(*g));
    *g = (gen_t){.pool = pool, .writer = {.out = &pool->json}, .random = SEED, .now_us = START_US};
    pool->cap = SETUP_EVENTS_MAX + events;
    pool->events = xcalloc(pool->cap, sizeof(*pool->events));
    setup_locations(g);
    setup_articles(g);
    setup_defects(g);
    setup_looms(g);
    setup_orders(g);
    setup_loom_starts(g);
    setup_count(g);
    pool->setup_count = pool->count;
    while (pool->count < pool->setup_count + events)
        mix_event(g);
    free(g->rolls.items);
    free(g->bundles.items);
    free(g->cartons.items);
    free(g);
}

/* ---- Decoding: once before the runs (it also proves every event valid), and the decoded
 * form that the plain run appends. ---- */

static void report_refusal(const pool_t *pool, uint32_t index, const ev_error_t *error)
{
    fprintf(stderr,
            "bench_catalog: event %" PRIu32 " (%s) refused: %s (%d) at \"%s\": %s\n  %.*s\n", index,
            mix_name(pool->events[index].mix), fl_errname(error->code), error->code, error->path,
            error->message, (int)pool->events[index].json_len, json_of(pool, index));
}

static void decoded_store(pool_t *pool, uint32_t index, const ev_event_t *event)
{
    decoded_t *d = &pool->decoded_events[index];
    memcpy(d->id, event->id, ENG_ID_BYTES);
    memcpy(d->correlation_id, event->correlation_id, ENG_ID_BYTES);
    memcpy(d->causation_id, event->causation_id, ENG_ID_BYTES);
    d->type = event->type->name;
    d->schema_version = event->schema_version;
    d->expected_version = event->expected_version;
    d->occurred_at_us = event->occurred_at_us;
    d->names_offset = pool->decoded.len;
    buffer_append(&pool->decoded, event->stream, strlen(event->stream) + 1);
    for (uint32_t i = 0; i < event->entities_count; i++)
        buffer_append(&pool->decoded, event->entities[i], strlen(event->entities[i]) + 1);
    d->entities_count = event->entities_count;
    d->payload_offset = pool->decoded.len;
    buffer_append(&pool->decoded, event->payload, event->payload_len);
    d->payload_len = event->payload_len;
    kind_stats_t *kind = &pool->kinds[pool->events[index].mix];
    kind->events++;
    kind->json_bytes += pool->events[index].json_len;
    kind->payload_bytes += event->payload_len;
    kind->entities += event->entities_count;
}

/* Decodes every event of the pool into its decoded form. Returns how many were refused. */
static uint64_t decode_all(pool_t *pool)
{
    ev_event_t *event = xcalloc(1, sizeof(*event));
    pool->decoded_events = xcalloc(pool->count, sizeof(*pool->decoded_events));
    uint64_t refused = 0;
    for (uint32_t i = 0; i < pool->count; i++) {
        ev_actor_t actor = actor_of(&pool->events[i]);
        ev_error_t error;
        if (ev_decode_json(json_of(pool, i), pool->events[i].json_len, &actor, event, &error) !=
            0) {
            if (++refused <= ERRORS_SHOWN)
                report_refusal(pool, i, &error);
            continue;
        }
        decoded_store(pool, i, event);
    }
    free(event);
    return refused;
}

/* The ledger's event from the decoded form, as eng_event_from_catalog would fill it. */
static void plain_event(const pool_t *pool, uint32_t index, eng_event_t *out)
{
    const decoded_t *d = &pool->decoded_events[index];
    ev_actor_t actor = actor_of(&pool->events[index]);
    memset(out, 0, sizeof(*out));
    memcpy(out->id, d->id, ENG_ID_BYTES);
    memcpy(out->correlation_id, d->correlation_id, ENG_ID_BYTES);
    memcpy(out->causation_id, d->causation_id, ENG_ID_BYTES);
    out->type = d->type;
    out->schema_version = d->schema_version;
    out->expected_version = d->expected_version;
    out->occurred_at_us = d->occurred_at_us;
    out->actor_user = actor.user;
    out->actor_role = ev_role_name(actor.role);
    out->actor_device = actor.device;
    const char *name = pool->decoded.bytes + d->names_offset;
    out->stream = name;
    for (uint32_t i = 0; i < d->entities_count; i++) {
        name += strlen(name) + 1;
        out->entities[i] = name;
    }
    out->entities_count = d->entities_count;
    out->payload = (const uint8_t *)pool->decoded.bytes + d->payload_offset;
    out->payload_len = d->payload_len;
}

/* ---- The single-threaded decode-only run. ---- */

typedef struct {
    uint64_t events, ns;
} decode_run_t;

/* ev_decode_json over the mix's events, round and round, for `seconds`; per kind timings go to
 * pool->kinds. */
static void run_decode_only(pool_t *pool, double seconds, decode_run_t *run)
{
    ev_event_t *event = xcalloc(1, sizeof(*event));
    uint32_t index = pool->setup_count;
    uint64_t started_ns = fl_mono_ns(), now_ns = started_ns;
    uint64_t deadline_ns = started_ns + (uint64_t)(seconds * 1e9);
    while (now_ns < deadline_ns) {
        const pooled_t *pooled = &pool->events[index];
        ev_actor_t actor = actor_of(pooled);
        ev_error_t error;
        int rc = ev_decode_json(json_of(pool, index), pooled->json_len, &actor, event, &error);
        uint64_t done_ns = fl_mono_ns();
        if (rc != 0) {
            report_refusal(pool, index, &error);
            exit(1); /* decode_all accepted it: the catalog is not deterministic */
        }
        pool->kinds[pooled->mix].decode_calls++;
        pool->kinds[pooled->mix].decode_ns += done_ns - now_ns;
        now_ns = done_ns;
        run->events++;
        if (++index == pool->count)
            index = pool->setup_count;
    }
    run->ns = now_ns - started_ns;
    free(event);
}

/* ---- The append runs: APPENDERS threads on one shared index, one event per call. ---- */

typedef enum { PATH_VALIDATED, PATH_PLAIN } path_t;
#define RUNS 4 /* validated and plain with APPENDERS threads, then driven by one thread */

typedef struct {
    const pool_t *pool;
    eng_ledger_t *ledger;
    path_t path;
    pthread_barrier_t start;
    uint64_t deadline_ns; /* written before the barrier */
    atomic_uint next;     /* the next event of the pool to append */
} shared_t;

typedef struct {
    shared_t *shared;
    ev_event_t *event; /* validated path: where the JSON is decoded (large) */
    uint64_t events;
    bool ran_dry;
    int error; /* the first failure, 0 when none */
    uint32_t error_index;
    ev_error_t refusal; /* when that failure is the catalog's */
    hist_t latency;     /* ns per event: decode + bridge + append, or append */
    /* Driven runs only (run_driven): the request in flight. */
    done_list_t *completions;
    done_node_t done;
    eng_event_t request_event;
    eng_position_t position;
    int result;
    eng_append_req_t req;
    uint32_t index;
    uint64_t started_ns;
} appender_t;

typedef struct {
    const char *name;
    path_t path;
    bool driven; /* one thread submits for every appender (run_driven), not a thread each */
    uint64_t events, ns, commits;
    uint64_t commit_ns; /* in the writer: the transaction's work and its fsync */
    uint64_t apply_ns;  /* of which the work before the commit: checks, rules, writes */
    bool ran_dry;
    uint64_t failures;
    int error;
    uint32_t error_index;
    ev_error_t refusal;
    hist_t latency;
} run_t;

/* The validated run's ledger checks the plant's rules; the plain one appends without them. */
static eng_ledger_t *ledger_open(const char *dir, path_t path)
{
    eng_config_t config = {.dir = dir,
                           .map_bytes_initial = MAP_BYTES,
                           .rules = path == PATH_VALIDATED ? ENG_RULES_PLANT : ENG_RULES_NONE};
    eng_ledger_t *ledger = NULL;
    int rc = eng_open(&ledger, &config);
    if (rc != 0)
        die(dir, rc);
    return ledger;
}

/* The master data, in order, in batches of one call each. */
static void append_setup(const pool_t *pool, eng_ledger_t *ledger)
{
    static eng_event_t events[SETUP_BATCH_EVENTS];
    static eng_position_t positions[SETUP_BATCH_EVENTS];
    for (uint32_t first = 0; first < pool->setup_count; first += SETUP_BATCH_EVENTS) {
        uint32_t count = pool->setup_count - first;
        count = count < SETUP_BATCH_EVENTS ? count : SETUP_BATCH_EVENTS;
        for (uint32_t i = 0; i < count; i++)
            plain_event(pool, first + i, &events[i]);
        int rc = eng_append(ledger, events, count, 0, positions, NULL);
        if (rc != 0)
            die("appending the master data", rc);
    }
}

/* The event to append for the pool's event index: decoded and checked (validated path) or
 * as decoded before the timer (plain). Returns 0 or the catalog's refusal. */
static int event_prepare(appender_t *appender, uint32_t index, eng_event_t *event)
{
    const shared_t *shared = appender->shared;
    if (shared->path == PATH_PLAIN) {
        plain_event(shared->pool, index, event);
        return 0;
    }
    const pooled_t *pooled = &shared->pool->events[index];
    ev_actor_t actor = actor_of(pooled);
    int rc = ev_decode_json(json_of(shared->pool, index), pooled->json_len, &actor, appender->event,
                            &appender->refusal);
    if (rc != 0)
        return rc;
    eng_event_from_catalog(appender->event, &actor, event);
    return 0;
}

static int append_one(appender_t *appender, uint32_t index)
{
    eng_event_t event;
    eng_position_t position;
    int rc = event_prepare(appender, index, &event);
    return rc != 0 ? rc : eng_append(appender->shared->ledger, &event, 1, 0, &position, NULL);
}

static void appender_fail(appender_t *appender, uint32_t index, int rc)
{
    appender->error = rc;
    appender->error_index = index;
}

static void *appender_main(void *arg)
{
    appender_t *appender = arg;
    shared_t *shared = appender->shared;
    pthread_barrier_wait(&shared->start);
    while (fl_mono_ns() < shared->deadline_ns) {
        uint32_t index = atomic_fetch_add(&shared->next, 1);
        if (index >= shared->pool->count) {
            appender->ran_dry = true;
            break;
        }
        uint64_t started_ns = fl_mono_ns();
        int rc = append_one(appender, index);
        hist_add(&appender->latency, fl_mono_ns() - started_ns);
        if (rc != 0) {
            appender_fail(appender, index, rc);
            break; /* a refused or failed event is a bug to look at, not a load to keep up */
        }
        appender->events++;
    }
    return NULL;
}

/*
 * Driven runs: the APPENDERS appenders are requests, each one in flight at a time as before, but
 * one thread decodes and submits them all with eng_append_submit, as foutad's event loop does
 * for its connections. The writer's callback only hands a finished request back; the thread
 * takes every finished one at once, records its latency (from before its decoding to now) and
 * starts that appender's next event.
 */
static void driven_appended(eng_append_req_t *req, void *data)
{
    (void)req;
    appender_t *appender = data;
    done_push(appender->completions, &appender->done);
}

/* Starts the appender's next event, if the run goes on. Returns whether a request is in flight. */
static bool driven_next(appender_t *appender)
{
    shared_t *shared = appender->shared;
    if (fl_mono_ns() >= shared->deadline_ns)
        return false;
    uint32_t index = atomic_fetch_add(&shared->next, 1);
    if (index >= shared->pool->count) {
        appender->ran_dry = true;
        return false;
    }
    appender->index = index;
    appender->started_ns = fl_mono_ns();
    int rc = event_prepare(appender, index, &appender->request_event);
    if (rc == 0) {
        appender->req = (eng_append_req_t){.events = &appender->request_event,
                                           .count = 1,
                                           .positions = &appender->position,
                                           .results = &appender->result,
                                           .cb = driven_appended,
                                           .data = appender};
        rc = eng_append_submit(shared->ledger, &appender->req);
    }
    if (rc != 0)
        appender_fail(appender, index, rc);
    return rc == 0;
}

static void run_driven(appender_t *appenders)
{
    done_list_t completions;
    done_init(&completions);
    int in_flight = 0;
    for (int i = 0; i < APPENDERS; i++) {
        appenders[i].completions = &completions;
        in_flight += driven_next(&appenders[i]);
    }
    while (in_flight > 0) {
        done_node_t *node = done_take(&completions), *next;
        uint64_t now_ns = fl_mono_ns();
        for (; node != NULL; node = next) {
            next = node->next;
            appender_t *appender = DONE_OWNER(node, appender_t, done);
            in_flight--;
            hist_add(&appender->latency, now_ns - appender->started_ns);
            if (appender->req.status != 0) {
                appender_fail(appender, appender->index, appender->req.status);
                continue; /* a refused or failed event is a bug to look at */
            }
            appender->events++;
            in_flight += driven_next(appender);
        }
    }
    done_destroy(&completions);
}

static void appenders_collect(appender_t *appenders, run_t *run)
{
    for (int i = 0; i < APPENDERS; i++) {
        appender_t *appender = &appenders[i];
        run->events += appender->events;
        run->ran_dry |= appender->ran_dry;
        hist_merge(&run->latency, &appender->latency);
        if (appender->error != 0 && run->failures++ == 0) {
            run->error = appender->error;
            run->error_index = appender->error_index;
            run->refusal = appender->refusal;
        }
        free(appender->event);
    }
}

/* One run on a fresh ledger in dir: the master data untimed, then the mix for `seconds`. */
static void run_appenders(const pool_t *pool, const char *dir, double seconds, run_t *run)
{
    eng_ledger_t *ledger = ledger_open(dir, run->path);
    append_setup(pool, ledger);
    eng_stats_t before, after;
    eng_stats(ledger, &before);
    shared_t shared = {.pool = pool, .ledger = ledger, .path = run->path};
    atomic_init(&shared.next, pool->setup_count);
    const int threads_count = run->driven ? 0 : APPENDERS;
    pthread_barrier_init(&shared.start, NULL, (unsigned)threads_count + 1);
    appender_t *appenders = xcalloc(APPENDERS, sizeof(*appenders));
    pthread_t threads[APPENDERS];
    for (int i = 0; i < APPENDERS; i++) {
        appenders[i].shared = &shared;
        if (run->path == PATH_VALIDATED)
            appenders[i].event = xcalloc(1, sizeof(ev_event_t));
    }
    for (int i = 0; i < threads_count; i++) {
        int rc = pthread_create(&threads[i], NULL, appender_main, &appenders[i]);
        if (rc != 0)
            die("pthread_create", fl_err_from_errno(rc));
    }
    uint64_t started_ns = fl_mono_ns();
    shared.deadline_ns = started_ns + (uint64_t)(seconds * 1e9);
    pthread_barrier_wait(&shared.start);
    if (run->driven)
        run_driven(appenders);
    for (int i = 0; i < threads_count; i++)
        pthread_join(threads[i], NULL);
    run->ns = fl_mono_ns() - started_ns;
    eng_stats(ledger, &after);
    run->commits = after.commits - before.commits;
    run->commit_ns = after.commit_ns_total - before.commit_ns_total;
    run->apply_ns = after.apply_ns_total - before.apply_ns_total;
    appenders_collect(appenders, run);
    free(appenders);
    pthread_barrier_destroy(&shared.start);
    eng_close(ledger);
}

/* ---- The report. ---- */

typedef struct {
    double seconds;
    const pool_t *pool;
    decode_run_t decode;
    run_t runs[RUNS]; /* validated, plain, then the same driven */
} report_t;

static double run_rate(const run_t *run)
{
    return per_second(run->events, run->ns);
}

/* Validated against plain, with threads (first = 0) or driven (first = 2). */
static double ratio_vs_plain(const report_t *report, int first)
{
    double plain = run_rate(&report->runs[first + PATH_PLAIN]);
    return plain > 0 ? run_rate(&report->runs[first + PATH_VALIDATED]) / plain : 0;
}

/* The mix's events together (the master data left out). */
static kind_stats_t mix_total(const pool_t *pool)
{
    kind_stats_t total = {0};
    for (unsigned kind = 0; kind < MIX_KINDS; kind++) {
        const kind_stats_t *k = &pool->kinds[kind];
        total.events += k->events;
        total.json_bytes += k->json_bytes;
        total.payload_bytes += k->payload_bytes;
        total.entities += k->entities;
        total.decode_calls += k->decode_calls;
        total.decode_ns += k->decode_ns;
    }
    return total;
}

static void print_kind(const char *name, const kind_stats_t *k, uint64_t events_all)
{
    printf("%-28s %8" PRIu64 " %6.1f%% %7.0f %9.0f %8.1f %9.2f\n", name, k->events,
           100.0 * average(k->events, events_all), average(k->json_bytes, k->events),
           average(k->payload_bytes, k->events), average(k->entities, k->events),
           average(k->decode_ns, k->decode_calls) / 1e3);
}

static void print_mix(const pool_t *pool)
{
    kind_stats_t total = mix_total(pool);
    printf("%-28s %8s %7s %7s %9s %8s %9s\n", "event type", "events", "share", "JSON B",
           "payload B", "entities", "decode us");
    for (unsigned kind = 0; kind < MIX_KINDS; kind++)
        print_kind(mix_name(kind), &pool->kinds[kind], total.events);
    print_kind("all of the mix", &total, total.events);
    printf("%-28s %8" PRIu64 "   (appended in batches of %u before each run, untimed)\n\n",
           mix_name(MIX_SETUP), pool->kinds[MIX_SETUP].events, SETUP_BATCH_EVENTS);
}

static void print_runs(const report_t *report)
{
    printf("%-18s %7s %9s %10s %8s %9s %9s %9s\n", "run", "threads", "events", "events/s",
           "commits", "ev/commit", "p50 us", "p99 us");
    for (int i = 0; i < RUNS; i++) {
        const run_t *run = &report->runs[i];
        printf("%-18s %7d %9" PRIu64 " %10.0f %8" PRIu64 " %9.1f %9.0f %9.0f%s\n", run->name,
               run->driven ? 1 : APPENDERS, run->events, run_rate(run), run->commits,
               average(run->events, run->commits), hist_quantile(&run->latency, 0.50) / 1e3,
               hist_quantile(&run->latency, 0.99) / 1e3, run->ran_dry ? "  (ran dry)" : "");
    }
    const decode_run_t *decode = &report->decode;
    printf("%-18s %7d %9" PRIu64 " %10.0f %8s %9s %9.2f us/event (mean)\n", "decode only", 1,
           decode->events, per_second(decode->events, decode->ns), "-", "-",
           average(decode->ns, decode->events) / 1e3);
    printf("validated / plain: %.3f (%d threads); %.3f (driven)\n", ratio_vs_plain(report, 0),
           APPENDERS, ratio_vs_plain(report, 2));
    printf("  validated: ev_decode_json (the poster's role) + eng_event_from_catalog + eng_append"
           " per event;\n"
           "  plain: the same events decoded before the timer, eng_append of the same bytes.\n"
           "  One event per blocking call; latency per event (validated: decode included).\n"
           "  *_submit (driven): the same %d appenders, one event in flight each, decoded and\n"
           "  submitted (eng_append_submit) by one thread, as foutad's event loop does.\n"
           "  decode only: one thread, ev_decode_json alone; decode us per type above comes from"
           " it.\n",
           APPENDERS);
}

static void print_table(const report_t *report)
{
    printf("Fouta Ledger catalog benchmark: %" PRIu32 " plant events as JSON (seed %#llx), "
           "durable commits, %.1f s per run\n\n",
           report->pool->count - report->pool->setup_count, (unsigned long long)SEED,
           report->seconds);
    print_mix(report->pool);
    print_runs(report);
}

static void print_run_keys(const run_t *run)
{
    printf(" %s_events=%" PRIu64 " %s_commits=%" PRIu64 " %s_ev_per_commit=%.1f %s_p50_us=%.0f"
           " %s_p99_us=%.0f",
           run->name, run->events, run->name, run->commits, run->name,
           average(run->events, run->commits), run->name, hist_quantile(&run->latency, 0.50) / 1e3,
           run->name, hist_quantile(&run->latency, 0.99) / 1e3);
    printf(" %s_commit_us_avg=%.0f %s_apply_us_per_event=%.2f", run->name,
           average(run->commit_ns, run->commits) / 1e3, run->name,
           average(run->apply_ns, run->events) / 1e3);
}

static void print_result(const report_t *report, uint64_t errors)
{
    const pool_t *pool = report->pool;
    kind_stats_t total = mix_total(pool);
    const run_t *validated = &report->runs[PATH_VALIDATED], *plain = &report->runs[PATH_PLAIN];
    const run_t *validated_submit = &report->runs[2 + PATH_VALIDATED];
    const run_t *plain_submit = &report->runs[2 + PATH_PLAIN];
    printf("RESULT seconds=%g appenders=%d pool_events=%" PRIu32 " setup_events=%" PRIu32,
           report->seconds, APPENDERS, pool->count - pool->setup_count, pool->setup_count);
    printf(" validated_events_per_s=%.0f plain_events_per_s=%.0f ratio_vs_plain=%.3f",
           run_rate(validated), run_rate(plain), ratio_vs_plain(report, 0));
    printf(" validated_submit_events_per_s=%.0f plain_submit_events_per_s=%.0f"
           " ratio_vs_plain_submit=%.3f",
           run_rate(validated_submit), run_rate(plain_submit), ratio_vs_plain(report, 2));
    for (int i = 0; i < RUNS; i++)
        print_run_keys(&report->runs[i]);
    printf(" decode_events_per_s=%.0f decode_us_per_event=%.2f json_bytes_avg=%.0f"
           " payload_bytes_avg=%.0f entities_avg=%.1f ran_dry=%d errors=%" PRIu64 "\n",
           per_second(report->decode.events, report->decode.ns),
           average(report->decode.ns, report->decode.events) / 1e3,
           average(total.json_bytes, total.events), average(total.payload_bytes, total.events),
           average(total.entities, total.events),
           validated->ran_dry || plain->ran_dry || validated_submit->ran_dry ||
               plain_submit->ran_dry,
           errors);
}

static uint64_t report_failures(const report_t *report)
{
    uint64_t failures = 0;
    for (int i = 0; i < RUNS; i++) {
        const run_t *run = &report->runs[i];
        failures += run->failures;
        if (run->failures == 0)
            continue;
        fprintf(stderr,
                "bench_catalog: %s: %" PRIu64 " appenders stopped; first at event %" PRIu32
                ": %s (%d)",
                run->name, run->failures, run->error_index, fl_errname(run->error), run->error);
        if (run->refusal.code != 0)
            fprintf(stderr, " at \"%s\": %s", run->refusal.path, run->refusal.message);
        const pooled_t *event = &report->pool->events[run->error_index];
        fprintf(stderr, "\n  the event: %.*s\n", (int)event->json_len,
                json_of(report->pool, run->error_index));
    }
    return failures;
}

static void path_join(char out[PATH_BYTES_MAX], const char *dir, const char *name)
{
    int len = snprintf(out, PATH_BYTES_MAX, "%s/%s", dir, name);
    if (len < 0 || len >= PATH_BYTES_MAX)
        die("path too long", FL_EINVAL);
}

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr,
                "usage: bench_catalog DIR\n"
                "  Appends to fresh ledgers under DIR (which must exist; the caller\n"
                "  removes it). BENCH_SECONDS sets each run's length (default %.0f).\n",
                SECONDS_DEFAULT);
        return 2;
    }
    static pool_t pool;
    static report_t report = {
        .runs = {{.name = "validated", .path = PATH_VALIDATED},
                 {.name = "plain", .path = PATH_PLAIN},
                 {.name = "validated_submit", .path = PATH_VALIDATED, .driven = true},
                 {.name = "plain_submit", .path = PATH_PLAIN, .driven = true}}};
    report.seconds = seconds_from_env();
    report.pool = &pool;
    actors_init();
    fprintf(stderr, "bench_catalog: generating %" PRIu32 " events ...\n",
            pool_size(report.seconds));
    generate(&pool, pool_size(report.seconds));
    fprintf(stderr, "bench_catalog: decoding them once ...\n");
    uint64_t refused = decode_all(&pool);
    if (refused > 0) {
        printf("RESULT errors=%" PRIu64 "\n", refused);
        return 1;
    }
    fprintf(stderr, "bench_catalog: decode only ...\n");
    run_decode_only(&pool, report.seconds, &report.decode);
    char path[PATH_BYTES_MAX];
    for (int i = 0; i < RUNS; i++) {
        fprintf(stderr, "bench_catalog: %s ...\n", report.runs[i].name);
        path_join(path, argv[1], report.runs[i].name);
        run_appenders(&pool, path, report.seconds, &report.runs[i]);
    }
    uint64_t failures = report_failures(&report);
    print_table(&report);
    print_result(&report, failures);
    return failures > 0 ? 1 : 0;
}
