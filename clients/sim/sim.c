/*
 * sim.c: the simulator's clock and its output. A binary heap of tasks ordered by simulated
 * time (ties by the order they were scheduled) drives the plant; each task writes events
 * through a small JSON writer into the current fill, which sim_next hands out one by one.
 * Also here: the seeded random source (splitmix64), the ids derived from it, the plant's
 * master data and the daily planning task.
 */
#define _POSIX_C_SOURCE 200809L
#include "clients/sim/sim_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

const sim_article_t sim__articles[ARTICLE_COUNT] = {
    {"TW-500", "Towel 50x90 terry", 500, 900, 450, 18000, 4000, true, 10, 50, 48},
    {"TW-700", "Bath towel 70x140 terry", 700, 1400, 500, 20000, 4500, true, 10, 30, 24},
    {"FT-1000", "Fouta 100x200 honeycomb", 1000, 2000, 300, 16000, 3000, false, 20, 50, 12},
};

const char *const sim__loc_ids[LOC_COUNT] = {"MP1",        "BEAMS",  "WEAVING", "CUT",
                                             "FG",         "DOCK",   "SPARES",  "SUB-BRODERIE",
                                             "SUB-OURLET", "CUST-1", "CUST-2",  "CUST-3"};
static const char *const loc_kinds[LOC_COUNT] = {
    "warehouse_raw",      "zone",     "weaving",          "cutting",
    "warehouse_finished", "shipping", "warehouse_spares", "subcontractor",
    "subcontractor",      "customer", "customer",         "customer"};
static const char *const loc_names[LOC_COUNT] = {
    "Raw material store", "Beam rack",      "Weaving hall",  "Cutting room",
    "Finished goods",     "Shipping dock",  "Spare parts",   "Broderie du Cap",
    "Ourlet Service",     "Maison du Bain", "Hammam Supply", "Coton Export"};

const char *const sim__item_ids[ITEM_COUNT] = {"YARN-G20", "YARN-P16", "YARN-F30", "SP-PICKER",
                                               "SP-HEALD"};

/* ---- random source and small containers */

uint64_t sim__rand(sim_t *sim)
{
    uint64_t z = (sim->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t sim__dice(sim_t *sim, uint32_t below)
{
    assert(below > 0);
    return (uint32_t)(sim__rand(sim) % below);
}

int64_t sim__between(sim_t *sim, int64_t low, int64_t high)
{
    assert(high >= low);
    return low + (int64_t)(sim__rand(sim) % (uint64_t)(high - low + 1));
}

bool sim__chance(sim_t *sim, uint32_t per_mille)
{
    return sim__dice(sim, 1000) < per_mille;
}

void *sim__vec_push(sim_t *sim, sim_vec_t *vec)
{
    if (vec->count == vec->capacity) {
        size_t capacity = vec->capacity != 0 ? vec->capacity * 2 : 64;
        void *data = realloc(vec->data, capacity * vec->size);
        if (data == NULL) {
            sim->error = FL_ENOMEM;
            return NULL;
        }
        vec->data = data;
        vec->capacity = capacity;
    }
    char *slot = (char *)vec->data + vec->count++ * vec->size;
    memset(slot, 0, vec->size);
    return slot;
}

static void buf_add(sim_buf_t *buf, const char *bytes, size_t len)
{
    if (buf->oom)
        return;
    if (buf->len + len + 1 > buf->capacity) {
        size_t capacity = buf->capacity != 0 ? buf->capacity : 4096;
        while (capacity < buf->len + len + 1)
            capacity *= 2;
        char *data = realloc(buf->data, capacity);
        if (data == NULL) {
            buf->oom = true;
            return;
        }
        buf->data = data;
        buf->capacity = capacity;
    }
    memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
}

static void buf_text(sim_buf_t *buf, const char *text)
{
    buf_add(buf, text, strlen(text));
}

/* ---- the task heap */

static bool task_before(const sim_task_t *a, const sim_task_t *b)
{
    return a->at_us != b->at_us ? a->at_us < b->at_us : a->order < b->order;
}

void sim__schedule(sim_t *sim, int64_t at_us, int kind, int index)
{
    sim_task_t *slot = sim__vec_push(sim, &sim->tasks);
    if (slot == NULL)
        return;
    *slot = (sim_task_t){.at_us = at_us, .order = sim->task_order++, .kind = kind, .index = index};
    sim_task_t *heap = sim->tasks.data;
    size_t i = sim->tasks.count - 1;
    while (i > 0 && task_before(&heap[i], &heap[(i - 1) / 2])) {
        sim_task_t swap = heap[i];
        heap[i] = heap[(i - 1) / 2];
        heap[(i - 1) / 2] = swap;
        i = (i - 1) / 2;
    }
}

static sim_task_t task_pop(sim_t *sim)
{
    sim_task_t *heap = sim->tasks.data;
    assert(sim->tasks.count > 0);
    sim_task_t top = heap[0];
    heap[0] = heap[--sim->tasks.count];
    size_t i = 0, n = sim->tasks.count;
    for (;;) {
        size_t left = 2 * i + 1, right = left + 1, least = i;
        if (left < n && task_before(&heap[left], &heap[least]))
            least = left;
        if (right < n && task_before(&heap[right], &heap[least]))
            least = right;
        if (least == i)
            break;
        sim_task_t swap = heap[i];
        heap[i] = heap[least];
        heap[least] = swap;
        i = least;
    }
    return top;
}

/* ---- writing events */

/* A UUIDv7 whose time is the simulated clock and whose other bits come from the seed and
 * the event's number: the same run always makes the same ids. */
static void event_id(sim_t *sim, int64_t at_us, char out[37])
{
    uint64_t mix = sim->config.seed ^ (0x6a09e667f3bcc909ull * ++sim->id_counter);
    mix = (mix ^ (mix >> 31)) * 0x9e3779b97f4a7c15ull;
    uint64_t mix2 = (mix ^ (mix >> 29)) * 0xbf58476d1ce4e5b9ull;
    uint8_t id[16];
    uint64_t ms = (uint64_t)(at_us / 1000);
    for (int i = 0; i < 6; i++)
        id[i] = (uint8_t)(ms >> (40 - 8 * i));
    for (int i = 6; i < 16; i++)
        id[i] = (uint8_t)((i < 12 ? mix : mix2) >> (8 * (i % 8)));
    id[6] = (uint8_t)(0x70 | (id[6] & 0x0f));
    id[8] = (uint8_t)(0x80 | (id[8] & 0x3f));
    fl_uuid_format(id, out);
}

static void escape(sim_buf_t *buf, const char *text)
{
    buf_add(buf, "\"", 1);
    for (const char *p = text; *p != '\0'; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = *p;
            buf_add(buf, esc, 2);
        } else if ((unsigned char)*p < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)(unsigned char)*p);
            buf_add(buf, esc, 6);
        } else {
            buf_add(buf, p, 1);
        }
    }
    buf_add(buf, "\"", 1);
}

static void member(sim_t *sim, const char *key)
{
    if (!sim->first_member[sim->depth])
        buf_add(&sim->event, ",", 1);
    sim->first_member[sim->depth] = false;
    if (key != NULL) {
        escape(&sim->event, key);
        buf_add(&sim->event, ":", 1);
    }
}

void sim__begin(sim_t *sim, const char *type, const char *role, const char *user)
{
    assert(sim->depth == 0);
    sim->now_us += sim__between(sim, 1000000, 20000000); /* 1 to 20 s after the last one */
    char id[37];
    event_id(sim, sim->now_us, id);
    sim->event.len = 0;
    sim->event.oom = false;
    char head[256];
    snprintf(head, sizeof(head),
             "{\"id\":\"%s\",\"type\":\"%s\",\"occurred_at_us\":%lld,\"payload\":{", id, type,
             (long long)sim->now_us);
    buf_text(&sim->event, head);
    sim->depth = 1;
    sim->first_member[1] = true;
    sim->event_type = type;
    sim->event_role = role;
    sim->event_user = user;
}

void sim__str(sim_t *sim, const char *key, const char *format, ...)
{
    char value[512];
    va_list args;
    va_start(args, format);
    vsnprintf(value, sizeof(value), format, args);
    va_end(args);
    member(sim, key);
    escape(&sim->event, value);
}

void sim__int(sim_t *sim, const char *key, int64_t value)
{
    char text[32];
    snprintf(text, sizeof(text), "%lld", (long long)value);
    member(sim, key);
    buf_text(&sim->event, text);
}

void sim__bool(sim_t *sim, const char *key, bool value)
{
    member(sim, key);
    buf_text(&sim->event, value ? "true" : "false");
}

void sim__open(sim_t *sim, const char *key, char bracket)
{
    member(sim, key);
    buf_add(&sim->event, &bracket, 1);
    assert(sim->depth + 1 < (int)(sizeof(sim->first_member) / sizeof(sim->first_member[0])));
    sim->first_member[++sim->depth] = true;
}

void sim__close(sim_t *sim, char bracket)
{
    assert(sim->depth > 1);
    buf_add(&sim->event, &bracket, 1);
    sim->depth--;
}

void sim__item_str(sim_t *sim, const char *value)
{
    member(sim, NULL);
    escape(&sim->event, value);
}

void sim__end(sim_t *sim)
{
    assert(sim->depth == 1);
    buf_text(&sim->event, "}}");
    sim->depth = 0;
    if (sim->event.oom) {
        sim->error = FL_ENOMEM;
        return;
    }
    sim_queued_t *queued = sim__vec_push(sim, &sim->queue);
    if (queued == NULL)
        return;
    *queued = (sim_queued_t){.offset = sim->text.len,
                             .len = sim->event.len,
                             .type = sim->event_type,
                             .role = sim->event_role,
                             .user = sim->event_user,
                             .occurred_at_us = sim->now_us};
    buf_add(&sim->text, sim->event.data, sim->event.len + 1); /* with its NUL */
    if (sim->text.oom)
        sim->error = FL_ENOMEM;
}

/* ---- actors */

/* The users of each desk role, by number; weavers are by team (sim__weaver). */
static const char *const user_names[][3] = {
    [U_ADMIN] = {"ADM-1", "ADM-1", "ADM-1"},  [U_MANAGER] = {"MGR-1", "MGR-2", "MGR-1"},
    [U_CUTTER] = {"CUT-1", "CUT-2", "CUT-3"}, [U_MECHANIC] = {"MEC-1", "MEC-2", "MEC-3"},
    [U_STORE_RAW] = {"SR-1", "SR-2", "SR-1"}, [U_STORE_FINISHED] = {"SF-1", "SF-2", "SF-1"},
    [U_STORE_SUB] = {"SS-1", "SS-1", "SS-1"}, [U_QUALITY] = {"QC-1", "QC-2", "QC-3"},
};

const char *sim__user(int role_index, int number)
{
    return user_names[role_index][number % 3];
}

/* Weaver names: "W-A-01" (team A, first weaver). Enough for SIM_LOOMS_MAX looms. */
static char weaver_names[SIM_TEAMS][SIM_LOOMS_MAX / LOOMS_PER_WEAVER + 1][24];

const char *sim__weaver(sim_t *sim, int loom)
{
    int team = sim->team >= 0 ? sim->team : 0;
    return weaver_names[team][loom / LOOMS_PER_WEAVER];
}

/* ---- units */

sim_hu_t *sim__hu(sim_t *sim, int index)
{
    assert(index >= 0 && (size_t)index < sim->hus.count);
    return SIM_AT(sim->hus, sim_hu_t, index);
}

int sim__hu_new(sim_t *sim, int kind, int item, int loc, int64_t qty, const char *format, ...)
{
    sim_hu_t *hu = sim__vec_push(sim, &sim->hus);
    if (hu == NULL)
        return 0; /* sim->error is set; the run stops at the end of this task */
    va_list args;
    va_start(args, format);
    vsnprintf(hu->id, sizeof(hu->id), format, args);
    va_end(args);
    hu->kind = (uint8_t)kind;
    hu->item = (int16_t)item;
    hu->loc = (int16_t)loc;
    hu->qty = qty;
    hu->parent = hu->loom = hu->nc = -1;
    hu->status = ST_AVAILABLE;
    hu->since_us = sim->now_us;
    int index = (int)(sim->hus.count - 1);
    if (kind == HK_YARN || kind == HK_SPARE) {
        int *material = sim__vec_push(sim, &sim->materials);
        if (material != NULL)
            *material = index;
    }
    return index;
}

void sim__label(sim_t *sim, int hu, const char *role, const char *user)
{
    sim__begin(sim, "LabelPrinted", role, user);
    sim__str(sim, "hu_id", "%s", sim__hu(sim, hu)->id);
    sim__str(sim, "printer", "zebra-%s", user);
    sim__str(sim, "format", "zpl");
    sim__end(sim);
}

static const char *const suppliers[] = {"Filature du Sahel", "Cotonniere de Monastir",
                                        "Egyptian Giza Mills"};

/* Receives a lot of a material at its store. */
static int receive(sim_t *sim, int item, int64_t qty_milli)
{
    static uint32_t lots;
    (void)lots;
    bool spare = item == ITEM_PICKER || item == ITEM_HEALD;
    int loc = spare ? LOC_SPARES : LOC_MP1;
    int hu = sim__hu_new(sim, spare ? HK_SPARE : HK_YARN, item, loc, qty_milli, "%s%05u",
                         spare ? "SP" : "Y", (unsigned)sim->hus.count);
    sim__begin(sim, "GoodsReceived", "store_raw", sim__user(U_STORE_RAW, hu));
    sim__str(sim, "hu_id", "%s", sim__hu(sim, hu)->id);
    sim__str(sim, "item_id", "%s", sim__item_ids[item]);
    sim__int(sim, "qty_milli", qty_milli);
    sim__str(sim, "unit", spare ? "pcs" : "kg");
    sim__str(sim, "location_id", "%s", sim__loc_ids[loc]);
    sim__str(sim, "supplier", "%s", suppliers[sim__dice(sim, 3)]);
    sim__str(sim, "supplier_lot", "LOT-%u", 24000 + sim__dice(sim, 1000));
    if (!spare)
        sim__int(sim, "cones", qty_milli / MILLI / 2);
    sim__end(sim);
    if (!spare)
        sim__label(sim, hu, "store_raw", sim__user(U_STORE_RAW, hu));
    return hu;
}

/* A loose, available unit of a material at its store holding qty, received when none does. */
int sim__yarn_take(sim_t *sim, int item, int64_t qty_milli)
{
    for (size_t i = 0; i < sim->materials.count; i++) {
        int index = *SIM_AT(sim->materials, int, i);
        sim_hu_t *hu = sim__hu(sim, index);
        if (hu->item == item && hu->status == ST_AVAILABLE && hu->qty >= qty_milli)
            return index;
    }
    int64_t lot =
        item == ITEM_PICKER || item == ITEM_HEALD ? SPARE_LOT_PCS * MILLI : YARN_LOT_KG * MILLI;
    return receive(sim, item, qty_milli > lot ? qty_milli : lot);
}

/* ---- master data and the day's planning */

static void master_locations(sim_t *sim)
{
    for (int i = 0; i < LOC_COUNT; i++) {
        if (i == LOC_SUB_BRODERIE || i == LOC_SUB_OURLET)
            continue; /* made by SubcontractorOnboarded */
        sim__begin(sim, "LocationDefined", "admin", sim__user(U_ADMIN, 0));
        sim__str(sim, "location_id", "%s", sim__loc_ids[i]);
        sim__str(sim, "name", "%s", loc_names[i]);
        sim__str(sim, "kind", "%s", loc_kinds[i]);
        sim__end(sim);
    }
    static const char *const subs[2][3] = {{"BRODERIE", "Broderie du Cap", "embroidery"},
                                           {"OURLET", "Ourlet Service", "hemming"}};
    for (int i = 0; i < 2; i++) {
        sim__begin(sim, "SubcontractorOnboarded", "store_subcontract", sim__user(U_STORE_SUB, 0));
        sim__str(sim, "sub_id", "%s", subs[i][0]);
        sim__str(sim, "name", "%s", subs[i][1]);
        sim__str(sim, "location_id", "%s", sim__loc_ids[LOC_SUB_BRODERIE + i]);
        sim__str(sim, "services", "%s", subs[i][2]);
        sim__end(sim);
    }
}

static void master_items(sim_t *sim)
{
    static const char *const names[ITEM_COUNT] = {"Ground warp Ne 20/1", "Pile warp Ne 16/1",
                                                  "Weft Ne 30/1", "Picker", "Heald frame wire"};
    for (int i = 0; i < ITEM_COUNT; i++) {
        bool spare = i == ITEM_PICKER || i == ITEM_HEALD;
        sim__begin(sim, "ItemDefined", "admin", sim__user(U_ADMIN, 0));
        sim__str(sim, "item_id", "%s", sim__item_ids[i]);
        sim__str(sim, "name", "%s", names[i]);
        sim__str(sim, "category", spare ? "spare_part" : "yarn");
        sim__str(sim, "unit", spare ? "pcs" : "kg");
        if (!spare)
            sim__str(sim, "composition", "100%% cotton");
        sim__end(sim);
    }
    for (int i = 0; i < ARTICLE_COUNT; i++) {
        const sim_article_t *a = &sim__articles[i];
        sim__begin(sim, "ArticleSpecDefined", "manager", sim__user(U_MANAGER, 0));
        sim__str(sim, "item_id", "%s", a->id);
        sim__str(sim, "name", "%s", a->name);
        sim__str(sim, "unit", "pcs");
        sim__int(sim, "width_mm", a->width_mm);
        sim__int(sim, "repeat_length_mm", a->repeat_mm);
        sim__int(sim, "gsm", a->gsm);
        sim__int(sim, "picks_per_cm_milli", a->picks_per_cm_milli);
        sim__int(sim, "pile_ratio_milli", a->pile_ratio_milli);
        sim__bool(sim, "first_piece_required", a->first_piece_required);
        sim__int(sim, "cutting_tolerance_permille", a->tolerance_permille);
        sim__int(sim, "overproduction_allowed_permille", a->overproduction_permille);
        sim__int(sim, "pieces_per_carton", a->pieces_per_carton);
        sim__str(sim, "composition", "100%% cotton");
        sim__end(sim);
    }
    static const char *const defects[][3] = {{"BROKEN-PICK", "Broken pick", "weaving"},
                                             {"PILE-MISSING", "Missing pile loops", "weaving"},
                                             {"SELVEDGE", "Faulty selvedge", "weaving"},
                                             {"SLUB", "Slub in yarn", "yarn"},
                                             {"STAIN", "Oil stain", "stain"},
                                             {"CUT-SKEW", "Skewed cut", "cutting"}};
    for (size_t i = 0; i < sizeof(defects) / sizeof(defects[0]); i++) {
        sim__begin(sim, "DefectCodeDefined", "quality", sim__user(U_QUALITY, 0));
        sim__str(sim, "defect_id", "%s", defects[i][0]);
        sim__str(sim, "name", "%s", defects[i][1]);
        sim__str(sim, "category", "%s", defects[i][2]);
        sim__int(sim, "default_points", 1 + (int64_t)(i % 4));
        sim__end(sim);
    }
}

static void master_people(sim_t *sim)
{
    static const char *const roles[] = {"manager",   "cutter",         "mechanic",
                                        "store_raw", "store_finished", "store_subcontract",
                                        "quality"};
    static const int role_users[] = {U_MANAGER,        U_CUTTER,    U_MECHANIC, U_STORE_RAW,
                                     U_STORE_FINISHED, U_STORE_SUB, U_QUALITY};
    for (size_t r = 0; r < sizeof(roles) / sizeof(roles[0]); r++)
        for (int n = 0; n < 3; n++) {
            const char *user = sim__user(role_users[r], n);
            if (n > 0 && strcmp(user, sim__user(role_users[r], 0)) == 0)
                continue;
            if (n == 2 && strcmp(user, sim__user(role_users[r], 1)) == 0)
                continue;
            sim__begin(sim, "UserInvited", "admin", sim__user(U_ADMIN, 0));
            sim__str(sim, "user_id", "%s", user);
            sim__str(sim, "display_name", "%s %s", roles[r], user);
            sim__str(sim, "email", "%s@plant.example", user);
            sim__str(sim, "role", "%s", roles[r]);
            sim__end(sim);
        }
    for (int team = 0; team < SIM_TEAMS; team++)
        for (int w = 0; w < sim->weavers_per_team; w++) {
            sim__begin(sim, "UserInvited", "admin", sim__user(U_ADMIN, 0));
            sim__str(sim, "user_id", "%s", weaver_names[team][w]);
            sim__str(sim, "display_name", "weaver %s", weaver_names[team][w]);
            sim__str(sim, "email", "%s@plant.example", weaver_names[team][w]);
            sim__str(sim, "role", "weaver");
            sim__end(sim);
        }
}

static void master_looms(sim_t *sim)
{
    static const char *const models[] = {"Picanol Terryplus", "Dornier PTS", "Toyota JAT"};
    for (size_t i = 0; i < sim->looms.count; i++) {
        sim_loom_t *loom = SIM_AT(sim->looms, sim_loom_t, i);
        sim__begin(sim, "LoomDefined", "manager", sim__user(U_MANAGER, 0));
        sim__str(sim, "loom_id", "%s", loom->id);
        sim__str(sim, "name", "Loom %s", loom->id);
        sim__str(sim, "model", "%s", models[i % 3]);
        sim__str(sim, "location_id", "WEAVING");
        sim__int(sim, "nominal_picks_per_min", loom->ppm);
        sim__int(sim, "reed_width_mm", 2800);
        sim__bool(sim, "terry", true);
        sim__end(sim);
        sim__begin(sim, "PreventiveMaintenanceScheduled", "mechanic", sim__user(U_MECHANIC, 0));
        sim__str(sim, "loom_id", "%s", loom->id);
        sim__str(sim, "task_code", "LUB-WEEKLY");
        sim__str(sim, "description", "lubricate the sley and check the pickers");
        sim__int(sim, "due_at_us", loom->next_pm_us);
        sim__int(sim, "interval_days", 7);
        sim__end(sim);
    }
}

static void civil_date(int64_t us, char out[32])
{
    /* Howard Hinnant's days-to-civil, for the shift names. */
    int64_t z = us / DAY_US + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    snprintf(out, 32, "%04lld%02lld%02lld", (long long)y, (long long)m, (long long)d);
}

/* Each morning: the day's shifts on the calendar, and the store's spare parts topped up. */
static void day_task(sim_t *sim, int day)
{
    int64_t midnight = sim->config.start_us + day * DAY_US;
    char date[32];
    civil_date(midnight, date);
    static const char *const names[SIM_TEAMS] = {"morning", "afternoon", "night"};
    for (int team = 0; team < SIM_TEAMS; team++) {
        sim__begin(sim, "ShiftScheduled", "manager", sim__user(U_MANAGER, 0));
        sim__str(sim, "shift_id", "SH-%s-%c", date, 'A' + team);
        sim__str(sim, "name", "%s %s", date, names[team]);
        sim__int(sim, "starts_at_us", midnight + (6 + 8 * team) * HOUR_US);
        sim__int(sim, "ends_at_us", midnight + (14 + 8 * team) * HOUR_US);
        sim__int(sim, "break_min", 30);
        sim__str(sim, "team", "team %c", 'A' + team);
        sim__end(sim);
        sim__schedule(sim, midnight + (6 + 8 * team) * HOUR_US, T_SHIFT, team);
    }
    (void)sim__yarn_take(sim, ITEM_PICKER, 20 * MILLI);
    if (day + 1 < (int)sim->config.days)
        sim__schedule(sim, midnight + DAY_US + 5 * HOUR_US, T_DAY, day + 1);
    for (int64_t t = midnight + 6 * HOUR_US + 20 * MINUTE_US; t < midnight + DAY_US;
         t += 45 * MINUTE_US)
        sim__schedule(sim, t, T_CUT, 0);
    for (int64_t t = midnight + 7 * HOUR_US; t < midnight + 22 * HOUR_US; t += HOUR_US)
        sim__schedule(sim, t, T_QC, 0);
    for (int64_t t = midnight + 8 * HOUR_US; t < midnight + 22 * HOUR_US; t += 2 * HOUR_US)
        sim__schedule(sim, t, T_FG, 0);
    sim__schedule(sim, midnight + 9 * HOUR_US, T_SUB, day);
    sim__schedule(sim, midnight + 15 * HOUR_US, T_SHIP, day);
    if (day % 7 == 6)
        sim__schedule(sim, midnight + 18 * HOUR_US, T_COUNT_TASK, day);
}

static void master_data(sim_t *sim)
{
    master_locations(sim);
    master_items(sim);
    master_people(sim);
    master_looms(sim);
    (void)sim__yarn_take(sim, ITEM_HEALD, 20 * MILLI);
    for (int item = ITEM_GROUND; item <= ITEM_WEFT; item++)
        (void)receive(sim, item, YARN_LOT_KG * MILLI);
}

/* ---- the public functions */

int sim_open(sim_t **out, const sim_config_t *config)
{
    *out = NULL;
    if (config->looms < 1 || config->looms > SIM_LOOMS_MAX || config->days < 1 ||
        config->days > SIM_DAYS_MAX)
        return FL_EINVAL;
    sim_t *sim = calloc(1, sizeof(*sim));
    if (sim == NULL)
        return FL_ENOMEM;
    sim->config = *config;
    if (sim->config.start_us == 0)
        sim->config.start_us = SIM_START_US_DEFAULT;
    sim->rng = config->seed;
    sim->now_us = sim->config.start_us + 4 * HOUR_US;
    sim->end_us = sim->config.start_us + (int64_t)config->days * DAY_US;
    sim->team = -1;
    sim->tasks.size = sizeof(sim_task_t);
    sim->queue.size = sizeof(sim_queued_t);
    sim->hus.size = sizeof(sim_hu_t);
    sim->looms.size = sizeof(sim_loom_t);
    sim->beams.size = sizeof(sim_beam_t);
    sim->orders.size = sizeof(sim_order_t);
    sim->ints.size = sizeof(sim_int_t);
    sim->ncs.size = sizeof(sim_nc_t);
    sim->sublots.size = sizeof(sim_sublot_t);
    sim->materials.size = sizeof(int);
    sim->weavers_per_team = (int)((config->looms + LOOMS_PER_WEAVER - 1) / LOOMS_PER_WEAVER);
    for (int team = 0; team < SIM_TEAMS; team++)
        for (int w = 0; w < sim->weavers_per_team; w++)
            snprintf(weaver_names[team][w], sizeof(weaver_names[team][w]), "W-%c-%02d", 'A' + team,
                     w + 1);
    for (uint32_t i = 0; i < config->looms; i++) {
        sim_loom_t *loom = sim__vec_push(sim, &sim->looms);
        if (loom == NULL)
            break;
        snprintf(loom->id, sizeof(loom->id), "L%03u", i + 1);
        loom->order = loom->weft = loom->weaver = -1;
        loom->beam[0] = loom->beam[1] = -1;
        loom->ppm = 400 + 50 * (int)(i % 3);
        loom->efficiency_permille = 880 + (int)sim__dice(sim, 60);
        loom->picks = (int64_t)sim__between(sim, 1000000, 90000000);
        loom->next_pm_us = sim->config.start_us + (int64_t)(1 + i % 7) * DAY_US + 10 * HOUR_US;
        loom->phase = PH_ORDER;
        sim__schedule(sim, sim->config.start_us + 5 * HOUR_US + (int64_t)i * 7 * MINUTE_US, T_LOOM,
                      (int)i);
    }
    sim__schedule(sim, sim->config.start_us + 5 * HOUR_US - MINUTE_US, T_DAY, 0);
    if (sim->error != 0) {
        int rc = sim->error;
        sim_close(sim);
        return rc;
    }
    *out = sim;
    return 0;
}

static void run_task(sim_t *sim, const sim_task_t *task)
{
    if (task->at_us > sim->now_us)
        sim->now_us = task->at_us;
    switch (task->kind) {
    case T_DAY:
        if (task->index == 0)
            master_data(sim);
        day_task(sim, task->index);
        break;
    case T_SHIFT: {
        char date[32];
        civil_date(sim->now_us, date);
        sim->team = task->index;
        snprintf(sim->shift_id, sizeof(sim->shift_id), "SH-%s-%c", date, 'A' + task->index);
        sim__shift_task(sim);
        break;
    }
    case T_LOOM:
        sim__loom_task(sim, task->index);
        break;
    case T_INT:
        sim__int_task(sim, task->index);
        break;
    case T_CUT:
        sim__cut_task(sim);
        break;
    case T_QC:
        sim__qc_task(sim);
        break;
    case T_FG:
        sim__fg_task(sim);
        break;
    case T_SUB:
        sim__sub_task(sim);
        break;
    case T_SHIP:
        sim__ship_task(sim);
        break;
    default:
        sim__count_task(sim);
        break;
    }
}

/* Runs tasks until some events are queued, or the last day is over. */
static void fill(sim_t *sim)
{
    sim->queue.count = 0;
    sim->queue_head = 0;
    sim->text.len = 0;
    while (sim->queue.count == 0 && sim->error == 0) {
        if (sim->tasks.count == 0 || ((sim_task_t *)sim->tasks.data)[0].at_us >= sim->end_us) {
            sim->eof = true;
            return;
        }
        sim_task_t task = task_pop(sim);
        run_task(sim, &task);
    }
}

int sim_next(sim_t *sim, sim_event_t *out)
{
    memset(out, 0, sizeof(*out));
    if (sim->error != 0)
        return sim->error;
    if (sim->queue_head == sim->queue.count) {
        if (sim->eof)
            return FL_EEOF;
        fill(sim);
        if (sim->error != 0)
            return sim->error;
        if (sim->queue.count == 0)
            return FL_EEOF;
    }
    const sim_queued_t *queued = SIM_AT(sim->queue, sim_queued_t, sim->queue_head++);
    snprintf(sim->device, sizeof(sim->device), "dev-%s", queued->user);
    *out = (sim_event_t){.index = sim->next_index++,
                         .type = queued->type,
                         .role = queued->role,
                         .user = queued->user,
                         .device = sim->device,
                         .json = sim->text.data + queued->offset,
                         .json_len = queued->len,
                         .occurred_at_us = queued->occurred_at_us};
    return 0;
}

void sim_close(sim_t *sim)
{
    if (sim == NULL)
        return;
    sim_vec_t *vecs[] = {&sim->tasks,  &sim->queue, &sim->hus, &sim->looms,   &sim->beams,
                         &sim->orders, &sim->ints,  &sim->ncs, &sim->sublots, &sim->materials};
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
        free(vecs[i]->data);
    free(sim->text.data);
    free(sim->event.data);
    free(sim);
}
