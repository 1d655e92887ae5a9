/*
 * catalog.c: every event type of the plant, one table, sorted by name (ev_type_find searches it).
 *
 * Conventions: ids name their entity kind ("hu", "of", "loom", "beam", "item", "loc", "sub",
 * "nc", "int", "count", "pr", "user", "defect", "ship", "shift", "period", "sublot"); the entity
 * key indexed for an id field is "<kind>-<value>", the same shape as stream names, so an HU's
 * stream and the HU as an entity are one key. Quantities end in _milli (thousandths of their
 * unit); times end in _us; every id an event touches is indexed, so the history of any HU, OF,
 * loom, beam or person is one entity read.
 *
 * Bounds: an event indexes at most EV_ENTITIES_MAX (32) entities, so every array of ids is capped
 * so that even with all ids distinct a type stays within it (a pallet of more cartons is built by
 * several HUPalletized events). Rules that a field list cannot express (a reason required when a
 * quantity is not zero, a quantity that must match a stored one) are stated in the doc of the
 * field and checked by the plant's invariants at append time.
 *
 * The table is laid out by hand; clang-format is turned off for it.
 */
#include "events/events.h"

#include <jansson.h>

#define COUNT(array) (uint32_t)(sizeof(array) / sizeof((array)[0]))
#define ROLE(name)   EV_ROLE_BIT(name)

/* Who posts: the desktop (planning, master data), the three stores, everyone on the floor. */
#define DESK   (ROLE(MANAGER) | ROLE(ADMIN))
#define STORES (ROLE(STORE_RAW) | ROLE(STORE_FINISHED) | ROLE(STORE_SUBCONTRACT))
#define FLOOR  (EV_ROLES_ALL & ~ROLE(ADMIN))

/* Limits shared by many fields. */
#define QTY_MAX         1000000000000LL    /* a billion units, in thousandths */
#define LENGTH_MAX      100000000LL        /* 100 km, in thousandths of a metre */
#define PICKS_MAX       1000000000000LL    /* a loom's cumulative pick counter */
#define TIME_MIN        946684800000000LL  /* 2000-01-01 */
#define TIME_MAX        4102444800000000LL /* 2100-01-01 */
#define TEXT_CODE_MAX   64
#define TEXT_REF_MAX    100
#define TEXT_NAME_MAX   200
#define TEXT_REASON_MAX 500
#define TEXT_NOTE_MAX   2000
#define PHOTOS_MAX      10

/* clang-format off */

/* ==== Enumerations, shared where the same list repeats */
static const char *const grades[] = {"first", "second", NULL};
static const char *const units[] = {"pcs", "kg", "m", "cone", NULL};
#define ROLE_TEXT(name, text) text,
static const char *const roles[] = {EV_ROLE_MAP(ROLE_TEXT) NULL}; /* as events.h names them */
#undef ROLE_TEXT
static const char *const fault_classes[] = {"warp", "weft", "mechanical", "electrical", "quality",
                                            "no_material", "other", NULL};
static const char *const beam_positions[] = {"ground", "pile", NULL};
static const char *const label_formats[] = {"zpl", "pdf", "png", NULL};
static const char *const reprint_reasons[] = {"damaged", "lost", "unreadable", "wrong_data",
                                              "printer_error", "other", NULL};
static const char *const operations[] = {"hemming", "embroidery", "dyeing", "printing", "other",
                                         NULL};
static const char *const results[] = {"passed", "failed", NULL};
static const char *const severities[] = {"minor", "major", "critical", NULL};
static const char *const urgencies[] = {"low", "normal", "high", "critical", NULL};
static const char *const waste_reasons[] = {"weaving_defect", "yarn_defect", "cutting_error",
                                            "stain", "roll_end", "sample", "other", NULL};
static const char *const location_kinds[] = {"warehouse_raw", "warehouse_finished",
                                             "warehouse_spares", "zone", "weaving", "cutting",
                                             "finishing", "qc", "packing", "shipping",
                                             "subcontractor", "customer", "supplier", "transit",
                                             "scrap", NULL};
static const char *const item_categories[] = {"yarn", "spare_part", "packaging", "consumable",
                                              "chemical", "other", NULL};
static const char *const defect_categories[] = {"weaving", "yarn", "cutting", "sewing",
                                                "dyeing", "printing", "embroidery", "stain",
                                                "dimension", "packaging", "other", NULL};
static const char *const root_causes[] = {"wear", "breakage", "misadjustment", "lubrication",
                                          "electrical_fault", "operator_error",
                                          "material_defect", "design", "unknown", "other", NULL};
static const char *const pause_reasons[] = {"waiting_parts", "waiting_tools", "shift_end",
                                            "higher_priority", "waiting_production", "other",
                                            NULL};
static const char *const of_end_reasons[] = {"completed", "changeover", "suspended", "beam_out",
                                             "other", NULL};
static const char *const dismount_reasons[] = {"beam_out", "changeover", "fault", "other", NULL};
static const char *const return_reasons[] = {"leftover", "wrong_material", "defective",
                                             "of_closed", "other", NULL};
static const char *const scrap_reasons[] = {"damaged", "defective", "contaminated", "obsolete",
                                            "other", NULL};
static const char *const dispositions[] = {"scrap", "rework", "downgrade", "return_to_supplier",
                                           "return_to_subcontractor", NULL};
static const char *const nc_sources[] = {"raw_material", "weaving", "cutting", "subcontract",
                                         "finished_goods", "customer_complaint", "audit", "other",
                                         NULL};
static const char *const inspection_stages[] = {"incoming", "in_process", "final",
                                                "subcontract_return", "customer_return", NULL};
static const char *const count_scopes[] = {"full", "cycle", "spot", NULL};
static const char *const subcontractor_statuses[] = {"active", "suspended", "terminated", NULL};

/* ==== Shared object shapes */

/* A photo: the blob is stored by its content hash; the event only references it. */
static const ev_field_t photo[] = {
    {.name = "sha256", .kind = EV_SHA256, .flags = EV_REQUIRED,
     .doc = "content hash of the uploaded photo"},
    {.name = "caption", .kind = EV_STRING, .min = 0, .max = TEXT_NAME_MAX,
     .doc = "what the photo shows"},
};

/* Spare parts a mechanic used: maintenance history only; stock leaves through SparePartIssued. */
static const ev_field_t part_used[] = {
    {.name = "item_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "item",
     .doc = "the spare part"},
    {.name = "qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = QTY_MAX,
     .unit = "pcs", .doc = "how many were fitted"},
};

/* ==== Desktop: master data (articles, items, locations, looms, defect codes, shifts, periods) */

static const ev_field_t article_spec_defined[] = {
    {.name = "item_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "item",
     .doc = "the article (towel model); posting again replaces its spec"},
    {.name = "name", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1, .max = TEXT_NAME_MAX,
     .doc = "article name shown on labels and screens"},
    {.name = "unit", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = units,
     .doc = "unit in which the article is planned and counted (pcs for towels)"},
    {.name = "width_mm", .kind = EV_INT, .flags = EV_REQUIRED, .min = 100, .max = 5000,
     .unit = "mm", .doc = "finished width of one piece"},
    {.name = "repeat_length_mm", .kind = EV_INT, .flags = EV_REQUIRED, .min = 100, .max = 5000,
     .unit = "mm", .doc = "woven length of one piece along the warp"},
    {.name = "gsm", .kind = EV_INT, .flags = EV_REQUIRED, .min = 50, .max = 2000,
     .unit = "g/m2", .doc = "target fabric weight"},
    {.name = "picks_per_cm_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1000,
     .max = 100000, .unit = "picks/cm", .doc = "weft density"},
    {.name = "pile_ratio_milli", .kind = EV_QTY, .min = 0, .max = 20000, .unit = "ratio",
     .doc = "pile warp length per ground warp length; absent or 0 for flat-woven foutas"},
    {.name = "first_piece_required", .kind = EV_BOOL, .flags = EV_REQUIRED,
     .doc = "production may only be declared after a passed first-piece control"},
    {.name = "cutting_tolerance_permille", .kind = EV_INT, .flags = EV_REQUIRED, .min = 0,
     .max = 200, .unit = "permille",
     .doc = "allowed gap between a cut's input and its outputs plus waste, per 1000 of input"},
    {.name = "overproduction_allowed_permille", .kind = EV_INT, .flags = EV_REQUIRED, .min = 0,
     .max = 500, .unit = "permille",
     .doc = "production allowed beyond an order's planned quantity, per 1000 of it"},
    {.name = "pieces_per_carton", .kind = EV_INT, .min = 1, .max = 10000, .unit = "pcs",
     .doc = "standard carton content"},
    {.name = "composition", .kind = EV_STRING, .min = 0, .max = TEXT_NAME_MAX,
     .doc = "fibre composition, e.g. 100% cotton"},
    {.name = "color", .kind = EV_STRING, .min = 0, .max = TEXT_NAME_MAX,
     .doc = "colour or design name"},
    {.name = "active", .kind = EV_BOOL,
     .doc = "false withdraws the article from new orders; absent means true"},
};

static const ev_field_t item_defined[] = {
    {.name = "item_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "item",
     .doc = "the yarn, spare part or other material; posting again replaces it"},
    {.name = "name", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1, .max = TEXT_NAME_MAX,
     .doc = "item name"},
    {.name = "category", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = item_categories,
     .doc = "kind of material"},
    {.name = "unit", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = units,
     .doc = "unit in which the item is stocked"},
    {.name = "yarn_count", .kind = EV_STRING, .min = 0, .max = TEXT_CODE_MAX,
     .doc = "yarn count for yarns, e.g. Ne 20/1"},
    {.name = "composition", .kind = EV_STRING, .min = 0, .max = TEXT_NAME_MAX,
     .doc = "fibre composition for yarns"},
    {.name = "color", .kind = EV_STRING, .min = 0, .max = TEXT_NAME_MAX,
     .doc = "colour"},
    {.name = "reorder_point_milli", .kind = EV_QTY, .min = 0, .max = QTY_MAX,
     .doc = "stock level, in the item's unit, below which a purchase is suggested"},
    {.name = "active", .kind = EV_BOOL,
     .doc = "false withdraws the item; absent means true"},
};

static const ev_field_t location_defined[] = {
    {.name = "location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "the location; posting again replaces it"},
    {.name = "name", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1, .max = TEXT_NAME_MAX,
     .doc = "location name"},
    {.name = "kind", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = location_kinds,
     .doc = "what the location is for"},
    {.name = "parent_location_id", .kind = EV_ID, .entity = "loc",
     .doc = "the warehouse a zone belongs to"},
    {.name = "sub_id", .kind = EV_ID, .entity = "sub",
     .doc = "the subcontractor, for a subcontractor's site"},
    {.name = "active", .kind = EV_BOOL,
     .doc = "false closes the location to new stock; absent means true"},
};

static const ev_field_t loom_defined[] = {
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "the loom; posting again replaces it"},
    {.name = "name", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1, .max = TEXT_NAME_MAX,
     .doc = "loom name or number on the floor"},
    {.name = "model", .kind = EV_STRING, .min = 0, .max = TEXT_NAME_MAX,
     .doc = "make and model"},
    {.name = "location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "the weaving hall it stands in"},
    {.name = "nominal_picks_per_min", .kind = EV_INT, .flags = EV_REQUIRED, .min = 10,
     .max = 2000, .unit = "picks/min", .doc = "rated speed, the base of loom efficiency"},
    {.name = "reed_width_mm", .kind = EV_INT, .min = 100, .max = 6000, .unit = "mm",
     .doc = "maximum weaving width"},
    {.name = "terry", .kind = EV_BOOL, .flags = EV_REQUIRED,
     .doc = "true when the loom has a pile beam position besides the ground one"},
    {.name = "active", .kind = EV_BOOL,
     .doc = "false retires the loom; absent means true"},
};

static const ev_field_t defect_code_defined[] = {
    {.name = "defect_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "defect",
     .doc = "the defect code; posting again replaces it"},
    {.name = "name", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1, .max = TEXT_NAME_MAX,
     .doc = "defect name"},
    {.name = "category", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = defect_categories,
     .doc = "where the defect comes from"},
    {.name = "default_points", .kind = EV_INT, .flags = EV_REQUIRED, .min = 1, .max = 4,
     .unit = "points", .doc = "usual 4-point-system penalty"},
    {.name = "description", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "how to recognise it"},
    {.name = "active", .kind = EV_BOOL,
     .doc = "false withdraws the code; absent means true"},
};

static const ev_field_t shift_scheduled[] = {
    {.name = "shift_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "shift",
     .doc = "one shift of the calendar; posting again replaces it"},
    {.name = "name", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1, .max = TEXT_NAME_MAX,
     .doc = "e.g. 2026-03-02 morning"},
    {.name = "starts_at_us", .kind = EV_TIME, .flags = EV_REQUIRED, .min = TIME_MIN,
     .max = TIME_MAX, .unit = "us", .doc = "start of the shift"},
    {.name = "ends_at_us", .kind = EV_TIME, .flags = EV_REQUIRED, .min = TIME_MIN,
     .max = TIME_MAX, .unit = "us", .doc = "end of the shift, after its start"},
    {.name = "break_min", .kind = EV_INT, .min = 0, .max = 480, .unit = "min",
     .doc = "planned breaks, excluded from scheduled loom minutes"},
    {.name = "team", .kind = EV_STRING, .min = 0, .max = TEXT_NAME_MAX,
     .doc = "team or crew on duty"},
};

static const ev_field_t shift_cancelled[] = {
    {.name = "shift_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "shift",
     .doc = "the shift that will not be worked"},
    {.name = "reason", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_REASON_MAX, .doc = "holiday, power cut, no orders..."},
};

static const ev_field_t period_closed[] = {
    {.name = "period_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "period",
     .doc = "the reporting period, e.g. 2026-03"},
    {.name = "starts_at_us", .kind = EV_TIME, .flags = EV_REQUIRED, .min = TIME_MIN,
     .max = TIME_MAX, .unit = "us", .doc = "first moment of the period"},
    {.name = "ends_at_us", .kind = EV_TIME, .flags = EV_REQUIRED, .min = TIME_MIN,
     .max = TIME_MAX, .unit = "us", .doc = "end of the period (exclusive)"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "closing remarks"},
};

/* ==== Desktop: users (admin) */

/* Recorded by POST /api/v1/persons/{person}/erase once it destroyed the person's key. */
static const ev_field_t person_data_erased[] = {
    {.name = "person_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "person",
     .doc = "whose personal data: user:U1 for a user, sub:S1 for a subcontractor"},
    {.name = "reason", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_REASON_MAX, .doc = "why (the request it answers)"},
};

static const ev_field_t user_invited[] = {
    {.name = "user_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "user",
     .doc = "the new user's id"},
    {.name = "display_name", .kind = EV_STRING, .flags = EV_REQUIRED | EV_SENSITIVE, .min = 1,
     .max = TEXT_NAME_MAX, .doc = "the person's name"},
    {.name = "email", .kind = EV_STRING, .flags = EV_REQUIRED | EV_SENSITIVE, .min = 3,
     .max = 254, .doc = "where the invitation goes"},
    {.name = "role", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = roles,
     .doc = "the role the user will act in"},
};

static const ev_field_t user_role_changed[] = {
    {.name = "user_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "user",
     .doc = "the user"},
    {.name = "role", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = roles,
     .doc = "the new role"},
    {.name = "reason", .kind = EV_STRING, .min = 0, .max = TEXT_REASON_MAX,
     .doc = "why"},
};

/* UserDisabled and UserReactivated. */
static const ev_field_t user_status[] = {
    {.name = "user_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "user",
     .doc = "the user"},
    {.name = "reason", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_REASON_MAX, .doc = "why"},
};

/* ==== Desktop: production orders (OF) and planning */

static const ev_field_t of_created[] = {
    {.name = "of_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "of",
     .doc = "the new production order (its QR code)"},
    {.name = "item_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "item",
     .doc = "the article to weave"},
    {.name = "planned_qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1,
     .max = QTY_MAX, .doc = "quantity to make, in unit"},
    {.name = "unit", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = units,
     .doc = "unit of the planned quantity (the article's)"},
    {.name = "due_at_us", .kind = EV_TIME, .flags = EV_REQUIRED, .min = TIME_MIN,
     .max = TIME_MAX, .unit = "us", .doc = "when the order must be finished"},
    {.name = "priority", .kind = EV_INT, .flags = EV_REQUIRED, .min = 1, .max = 9,
     .doc = "1 is the most urgent"},
    {.name = "customer_location_id", .kind = EV_ID, .entity = "loc",
     .doc = "the customer it is made for, if any"},
    {.name = "customer_order_ref", .kind = EV_STRING, .min = 0, .max = TEXT_REF_MAX,
     .doc = "the customer's order number"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "instructions for the floor"},
};

static const ev_field_t of_released[] = {
    {.name = "of_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "of",
     .doc = "the order released to the floor"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
};

static const ev_field_t of_rescheduled[] = {
    {.name = "of_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "of",
     .doc = "the order"},
    {.name = "due_at_us", .kind = EV_TIME, .flags = EV_REQUIRED, .min = TIME_MIN,
     .max = TIME_MAX, .unit = "us", .doc = "the new due date"},
    {.name = "priority", .kind = EV_INT, .min = 1, .max = 9,
     .doc = "the new priority, 1 most urgent; absent keeps it"},
    {.name = "reason", .kind = EV_STRING, .min = 0, .max = TEXT_REASON_MAX,
     .doc = "why"},
};

static const ev_field_t of_quantity_revised[] = {
    {.name = "of_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "of",
     .doc = "the order"},
    {.name = "planned_qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1,
     .max = QTY_MAX, .doc = "the new planned quantity, in the order's unit"},
    {.name = "reason", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_REASON_MAX, .doc = "why"},
};

static const ev_field_t of_assigned_to_loom[] = {
    {.name = "of_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "of",
     .doc = "the order"},
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "a loom planned to weave it (an order may run on several)"},
    {.name = "planned_qty_milli", .kind = EV_QTY, .min = 1, .max = QTY_MAX,
     .doc = "share of the order planned on this loom, in the order's unit"},
    {.name = "planned_start_at_us", .kind = EV_TIME, .min = TIME_MIN, .max = TIME_MAX,
     .unit = "us", .doc = "planned start on this loom"},
    {.name = "sequence", .kind = EV_INT, .min = 1, .max = 1000,
     .doc = "position in the loom's queue of orders"},
};

static const ev_field_t of_unassigned_from_loom[] = {
    {.name = "of_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "of",
     .doc = "the order"},
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "the loom taken off the order's plan"},
    {.name = "reason", .kind = EV_STRING, .min = 0, .max = TEXT_REASON_MAX,
     .doc = "why"},
};

static const ev_field_t of_closed[] = {
    {.name = "of_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "of",
     .doc = "the order, finished or short-closed"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks, e.g. why it closed short"},
};

static const ev_field_t of_cancelled[] = {
    {.name = "of_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "of",
     .doc = "the order"},
    {.name = "reason", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_REASON_MAX, .doc = "why"},
};

static const ev_field_t preventive_maintenance_scheduled[] = {
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "the loom"},
    {.name = "task_code", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_CODE_MAX, .doc = "the maintenance task, e.g. LUB-500H"},
    {.name = "description", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "what to do"},
    {.name = "due_at_us", .kind = EV_TIME, .flags = EV_REQUIRED, .min = TIME_MIN,
     .max = TIME_MAX, .unit = "us", .doc = "when it is due"},
    {.name = "interval_days", .kind = EV_INT, .min = 1, .max = 3650, .unit = "days",
     .doc = "repeat interval, for recurring tasks"},
};

/* ==== Requests: purchases (cutter, stores, mechanic, quality) and spare parts (mechanic) */

static const ev_field_t purchase_requested[] = {
    {.name = "pr_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "pr",
     .doc = "the new request"},
    {.name = "item_id", .kind = EV_ID, .entity = "item",
     .doc = "the item, when it is in the master data"},
    {.name = "description", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_NOTE_MAX, .doc = "what is needed"},
    {.name = "qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = QTY_MAX,
     .doc = "how much, in unit"},
    {.name = "unit", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = units,
     .doc = "unit of the quantity"},
    {.name = "needed_by_us", .kind = EV_TIME, .min = TIME_MIN, .max = TIME_MAX, .unit = "us",
     .doc = "when it is needed"},
    {.name = "urgency", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = urgencies,
     .doc = "how urgent"},
    {.name = "reason", .kind = EV_STRING, .min = 0, .max = TEXT_REASON_MAX,
     .doc = "why it is needed"},
};

static const ev_field_t purchase_request_approved[] = {
    {.name = "pr_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "pr",
     .doc = "the request"},
    {.name = "approved_qty_milli", .kind = EV_QTY, .min = 1, .max = QTY_MAX,
     .doc = "quantity approved, when less than requested, in the request's unit"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks for the buyer"},
};

static const ev_field_t purchase_request_rejected[] = {
    {.name = "pr_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "pr",
     .doc = "the request"},
    {.name = "reason", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_REASON_MAX, .doc = "why"},
};

static const ev_field_t spare_part_requested[] = {
    {.name = "pr_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "pr",
     .doc = "the new request, served from stock or bought"},
    {.name = "item_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "item",
     .doc = "the spare part"},
    {.name = "qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = QTY_MAX,
     .doc = "how many, in the part's unit"},
    {.name = "loom_id", .kind = EV_ID, .entity = "loom",
     .doc = "the loom it is for"},
    {.name = "int_id", .kind = EV_ID, .entity = "int",
     .doc = "the intervention it is for"},
    {.name = "urgency", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = urgencies,
     .doc = "how urgent"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
};

/* ==== Weaver: looms, production, labels, intervention requests */

/* OperatorAssignedToLoom and OperatorUnassignedFromLoom. */
static const ev_field_t operator_loom[] = {
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "the loom"},
    {.name = "user_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "user",
     .doc = "the weaver (one weaver runs several looms)"},
    {.name = "shift_id", .kind = EV_ID, .entity = "shift",
     .doc = "the shift worked"},
};

static const ev_field_t of_started_on_loom[] = {
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "the loom"},
    {.name = "of_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "of",
     .doc = "the released order now in progress on it (scanned QR)"},
    {.name = "picks", .kind = EV_INT, .flags = EV_REQUIRED, .min = 0, .max = PICKS_MAX,
     .unit = "picks", .doc = "the loom's cumulative pick counter reading"},
};

static const ev_field_t of_ended_on_loom[] = {
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "the loom"},
    {.name = "of_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "of",
     .doc = "the order that stops running on it"},
    {.name = "reason", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = of_end_reasons,
     .doc = "why it ends here"},
    {.name = "picks", .kind = EV_INT, .flags = EV_REQUIRED, .min = 0, .max = PICKS_MAX,
     .unit = "picks", .doc = "the loom's cumulative pick counter reading"},
};

static const ev_field_t loom_stopped[] = {
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "the loom"},
    {.name = "stop_class", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = fault_classes,
     .doc = "class of the stop, for stops per 100,000 picks"},
    {.name = "reason_code", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_CODE_MAX, .doc = "the plant's stop reason code, e.g. WARP-BREAK"},
    {.name = "picks", .kind = EV_INT, .flags = EV_REQUIRED, .min = 0, .max = PICKS_MAX,
     .unit = "picks", .doc = "the loom's cumulative pick counter reading"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
};

static const ev_field_t loom_restarted[] = {
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "the loom"},
    {.name = "picks", .kind = EV_INT, .flags = EV_REQUIRED, .min = 0, .max = PICKS_MAX,
     .unit = "picks", .doc = "the loom's cumulative pick counter reading"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
};

/* ProductionDeclared: version 1 had the same fields without picks. */
static const ev_field_t production_declared[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the new roll's handling unit (its label)"},
    {.name = "of_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "of",
     .doc = "the production order woven, in progress on this loom"},
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "the loom that wove it"},
    {.name = "item_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "item",
     .doc = "the article, the order's"},
    {.name = "qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = QTY_MAX,
     .doc = "quantity in the roll, in unit (pieces for towels)"},
    {.name = "unit", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = units,
     .doc = "unit of the quantity, the order's"},
    {.name = "location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "where the roll is put down"},
    {.name = "length_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = LENGTH_MAX,
     .unit = "m", .doc = "roll length"},
    {.name = "weight_milli", .kind = EV_QTY, .min = 1, .max = QTY_MAX, .unit = "kg",
     .doc = "roll weight, when weighed"},
    {.name = "picks", .kind = EV_INT, .flags = EV_REQUIRED, .min = 0, .max = PICKS_MAX,
     .unit = "picks", .doc = "the loom's cumulative pick counter reading; 0 when unknown"},
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

static const ev_field_t label_printed[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the handling unit whose first label was printed"},
    {.name = "printer", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_REF_MAX, .doc = "printer name or Bluetooth address"},
    {.name = "format", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = label_formats,
     .doc = "label format sent to the printer"},
};

static const ev_field_t label_reprinted[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the handling unit; the new label replaces the active one"},
    {.name = "reason_code", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = reprint_reasons,
     .doc = "why the label was reprinted"},
    {.name = "reason", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_REASON_MAX, .doc = "what happened to the old label"},
    {.name = "printer", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_REF_MAX, .doc = "printer name or Bluetooth address"},
    {.name = "format", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = label_formats,
     .doc = "label format sent to the printer"},
};

static const ev_field_t intervention_requested[] = {
    {.name = "int_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "int",
     .doc = "the new intervention"},
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "the loom (or machine) that needs a mechanic"},
    {.name = "fault_class", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = fault_classes,
     .doc = "kind of problem"},
    {.name = "urgency", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = urgencies,
     .doc = "how urgent"},
    {.name = "description", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "what the operator sees"},
    {.name = "photos", .kind = EV_OBJECTS, .min = 0, .max = PHOTOS_MAX, .items = photo,
     .items_count = COUNT(photo), .doc = "photos of the problem"},
};

/* ==== Cutter: rolls received, cut into graded bundles, defects */

/* HUReceivedAtCutting, StockTransferred and TransferDispatched: one handling unit moves. */
static const ev_field_t hu_moved[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the handling unit moved, whole, with its contents"},
    {.name = "from_location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "where it is now"},
    {.name = "to_location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "where it goes"},
    {.name = "transfer_ref", .kind = EV_STRING, .min = 0, .max = TEXT_REF_MAX,
     .doc = "transfer note number"},
};

static const ev_field_t cutting_outputs[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the new bundle (its label)"},
    {.name = "item_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "item",
     .doc = "the article of the bundle"},
    {.name = "grade", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = grades,
     .doc = "first or second choice"},
    {.name = "qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = QTY_MAX,
     .doc = "quantity in the bundle, in the event's unit"},
};

static const ev_field_t cutting_declared[] = {
    {.name = "input_hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the roll cut (partly or wholly)"},
    {.name = "consumed_qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1,
     .max = QTY_MAX, .doc = "quantity taken from the roll, in unit"},
    {.name = "unit", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = units,
     .doc = "unit of every quantity here, the roll's (pieces for towels)"},
    {.name = "location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "the cutting area where the bundles are made"},
    {.name = "outputs", .kind = EV_OBJECTS, .flags = EV_REQUIRED, .min = 1, .max = 15,
     .items = cutting_outputs, .items_count = COUNT(cutting_outputs),
     .doc = "bundles made, by grade; more bundles are declared in a further cut"},
    {.name = "waste_qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 0,
     .max = QTY_MAX, .doc = "quantity thrown away, in unit"},
    {.name = "waste_reason", .kind = EV_ENUM, .values = waste_reasons,
     .doc = "why, required when there is waste"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
    {.name = "photos", .kind = EV_OBJECTS, .min = 0, .max = PHOTOS_MAX, .items = photo,
     .items_count = COUNT(photo), .doc = "photos of defects or waste"},
};

static const ev_field_t defect_recorded[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the roll or bundle with the defect"},
    {.name = "defect_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "defect",
     .doc = "the defect code"},
    {.name = "count", .kind = EV_INT, .flags = EV_REQUIRED, .min = 1, .max = 10000,
     .unit = "defects", .doc = "how many times it was seen"},
    {.name = "points", .kind = EV_INT, .min = 1, .max = 4, .unit = "points",
     .doc = "4-point-system penalty of each, when graded"},
    {.name = "position_milli", .kind = EV_QTY, .min = 0, .max = LENGTH_MAX, .unit = "m",
     .doc = "distance from the start of the roll"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
    {.name = "photos", .kind = EV_OBJECTS, .min = 0, .max = PHOTOS_MAX, .items = photo,
     .items_count = COUNT(photo), .doc = "photos of the defect"},
};

/* ==== Mechanic: interventions, first piece, beams, spare parts, preventive maintenance */

static const ev_field_t intervention_acknowledged[] = {
    {.name = "int_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "int",
     .doc = "the intervention"},
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "its loom (the request's)"},
    {.name = "assigned_user_id", .kind = EV_ID, .entity = "user",
     .doc = "the mechanic who will do it, when not the poster"},
    {.name = "eta_min", .kind = EV_INT, .min = 0, .max = 10080, .unit = "min",
     .doc = "expected time before arriving at the loom"},
};

/* InterventionStarted and InterventionResumed. */
static const ev_field_t intervention_step[] = {
    {.name = "int_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "int",
     .doc = "the intervention"},
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "its loom (the request's)"},
};

static const ev_field_t intervention_paused[] = {
    {.name = "int_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "int",
     .doc = "the intervention"},
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "its loom (the request's)"},
    {.name = "reason", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = pause_reasons,
     .doc = "why work stopped"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
};

static const ev_field_t intervention_completed[] = {
    {.name = "int_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "int",
     .doc = "the intervention"},
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "its loom (the request's)"},
    {.name = "root_cause", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = root_causes,
     .doc = "class of the root cause"},
    {.name = "root_cause_detail", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_NOTE_MAX, .doc = "what caused the failure"},
    {.name = "action_taken", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "what was done"},
    {.name = "parts_used", .kind = EV_OBJECTS, .min = 0, .max = 10, .items = part_used,
     .items_count = COUNT(part_used), .doc = "spare parts fitted (history only)"},
    {.name = "photos", .kind = EV_OBJECTS, .min = 0, .max = PHOTOS_MAX, .items = photo,
     .items_count = COUNT(photo), .doc = "photos of the repair"},
};

static const ev_field_t intervention_cancelled[] = {
    {.name = "int_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "int",
     .doc = "the intervention"},
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "its loom (the request's)"},
    {.name = "reason", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_REASON_MAX, .doc = "why, e.g. duplicate request"},
};

/* A defect found on a first piece. */
static const ev_field_t first_piece_defects[] = {
    {.name = "defect_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "defect",
     .doc = "the defect code"},
    {.name = "count", .kind = EV_INT, .flags = EV_REQUIRED, .min = 1, .max = 10000,
     .unit = "defects", .doc = "how many"},
};

static const ev_field_t first_piece_inspected[] = {
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "the loom"},
    {.name = "of_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "of",
     .doc = "the order in progress on it"},
    {.name = "result", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = results,
     .doc = "passed lets production be declared"},
    {.name = "width_mm", .kind = EV_INT, .min = 1, .max = 6000, .unit = "mm",
     .doc = "measured width"},
    {.name = "repeat_length_mm", .kind = EV_INT, .min = 1, .max = 6000, .unit = "mm",
     .doc = "measured piece length"},
    {.name = "gsm", .kind = EV_INT, .min = 1, .max = 3000, .unit = "g/m2",
     .doc = "measured fabric weight"},
    {.name = "defects", .kind = EV_OBJECTS, .min = 0, .max = 20, .items = first_piece_defects,
     .items_count = COUNT(first_piece_defects), .doc = "defects found"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
    {.name = "photos", .kind = EV_OBJECTS, .min = 0, .max = PHOTOS_MAX, .items = photo,
     .items_count = COUNT(photo), .doc = "photos of the piece"},
};

/* Yarn lots wound on a beam: the warp's genealogy, and their stock consumed. */
static const ev_field_t beam_yarn_lots[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "a yarn lot wound on the beam"},
    {.name = "qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = QTY_MAX,
     .doc = "quantity taken from it, in the lot's unit"},
};

static const ev_field_t beam_registered[] = {
    {.name = "beam_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "beam",
     .doc = "the physical beam, now carrying a new warp"},
    {.name = "item_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "item",
     .doc = "the warp yarn"},
    {.name = "position", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = beam_positions,
     .doc = "the loom position the warp is made for"},
    {.name = "length_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = LENGTH_MAX,
     .unit = "m", .doc = "warp length on the beam"},
    {.name = "ends", .kind = EV_INT, .min = 1, .max = 50000, .unit = "ends",
     .doc = "number of warp threads"},
    {.name = "location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "where the beam waits"},
    {.name = "of_id", .kind = EV_ID, .entity = "of",
     .doc = "the order it was prepared for"},
    {.name = "yarn_lots", .kind = EV_OBJECTS, .min = 0, .max = 12, .items = beam_yarn_lots,
     .items_count = COUNT(beam_yarn_lots),
     .doc = "yarn lots wound on it, consumed from stock; empty for a bought-in beam"},
};

static const ev_field_t beam_mounted[] = {
    {.name = "beam_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "beam",
     .doc = "the beam, on no other loom"},
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "the loom"},
    {.name = "position", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = beam_positions,
     .doc = "the loom position, which must be empty"},
    {.name = "length_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = LENGTH_MAX,
     .unit = "m", .doc = "warp length left on the beam when mounted"},
    {.name = "of_id", .kind = EV_ID, .entity = "of",
     .doc = "the order it is mounted for"},
};

static const ev_field_t beam_dismounted[] = {
    {.name = "beam_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "beam",
     .doc = "the beam"},
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "the loom it was on"},
    {.name = "position", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = beam_positions,
     .doc = "the position it was on"},
    {.name = "remaining_length_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 0,
     .max = LENGTH_MAX, .unit = "m", .doc = "warp length left; waste when the beam is done"},
    {.name = "reason", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = dismount_reasons,
     .doc = "why it came off"},
    {.name = "to_location_id", .kind = EV_ID, .entity = "loc",
     .doc = "where the beam goes"},
};

static const ev_field_t spare_part_issued[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the spare-part stock unit taken from"},
    {.name = "item_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "item",
     .doc = "the spare part, the unit's item"},
    {.name = "qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = QTY_MAX,
     .doc = "quantity issued, in the unit's unit (partial issue allowed)"},
    {.name = "from_location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "the store it leaves"},
    {.name = "pr_id", .kind = EV_ID, .entity = "pr",
     .doc = "the spare-part request served"},
    {.name = "loom_id", .kind = EV_ID, .entity = "loom",
     .doc = "the loom it is for"},
    {.name = "int_id", .kind = EV_ID, .entity = "int",
     .doc = "the intervention it is for"},
};

static const ev_field_t preventive_maintenance_done[] = {
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "the loom"},
    {.name = "task_code", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_CODE_MAX, .doc = "the scheduled task done"},
    {.name = "duration_min", .kind = EV_INT, .flags = EV_REQUIRED, .min = 1, .max = 10080,
     .unit = "min", .doc = "time spent"},
    {.name = "parts_used", .kind = EV_OBJECTS, .min = 0, .max = 10, .items = part_used,
     .items_count = COUNT(part_used), .doc = "spare parts fitted (history only)"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "findings"},
};

/* ==== Raw-material store: receipts, reservations, issues to looms, returns, transfers */

static const ev_field_t goods_received[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the new handling unit (yarn lot, cones, parts), its label"},
    {.name = "item_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "item",
     .doc = "the item received"},
    {.name = "qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = QTY_MAX,
     .doc = "quantity received, in unit"},
    {.name = "unit", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = units,
     .doc = "unit of the quantity, the item's"},
    {.name = "location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "where it is put away"},
    {.name = "supplier", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_NAME_MAX, .doc = "supplier name"},
    {.name = "supplier_lot", .kind = EV_STRING, .min = 0, .max = TEXT_REF_MAX,
     .doc = "the supplier's lot or batch reference, for recalls"},
    {.name = "delivery_note_ref", .kind = EV_STRING, .min = 0, .max = TEXT_REF_MAX,
     .doc = "delivery note number"},
    {.name = "cones", .kind = EV_INT, .min = 1, .max = 100000, .unit = "cones",
     .doc = "number of cones in a yarn lot"},
    {.name = "pr_id", .kind = EV_ID, .entity = "pr",
     .doc = "the purchase request it fulfils"},
};

/* MaterialReservedForOF and MaterialReservationReleased. */
static const ev_field_t material_reservation[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the material's handling unit"},
    {.name = "of_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "of",
     .doc = "the production order"},
    {.name = "qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = QTY_MAX,
     .doc = "quantity, in the unit's unit"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
};

static const ev_field_t material_issued_to_loom[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the yarn lot or cone taken from"},
    {.name = "loom_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loom",
     .doc = "the loom fed"},
    {.name = "of_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "of",
     .doc = "the order it is consumed for"},
    {.name = "qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = QTY_MAX,
     .doc = "quantity issued, in the unit's unit (partial issue allowed)"},
    {.name = "from_location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "where it was taken from"},
};

static const ev_field_t material_returned[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the handling unit it was issued from, which takes it back"},
    {.name = "qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = QTY_MAX,
     .doc = "quantity returned, in the unit's unit"},
    {.name = "to_location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "the store it goes back to"},
    {.name = "loom_id", .kind = EV_ID, .entity = "loom",
     .doc = "the loom it comes back from"},
    {.name = "of_id", .kind = EV_ID, .entity = "of",
     .doc = "the order it had been issued for"},
    {.name = "reason", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = return_reasons,
     .doc = "why it came back"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
};

static const ev_field_t transfer_received[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the handling unit in transit"},
    {.name = "to_location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "where it arrived, the dispatch's destination"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks on arrival"},
};

static const ev_field_t split_outputs[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "a new handling unit (its label)"},
    {.name = "qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = QTY_MAX,
     .doc = "quantity moved into it, in the source's unit"},
};

static const ev_field_t hu_split[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the source handling unit"},
    {.name = "outputs", .kind = EV_OBJECTS, .flags = EV_REQUIRED, .min = 1, .max = 30,
     .items = split_outputs, .items_count = COUNT(split_outputs),
     .doc = "new units, each with the source's item, grade, status and location"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
};

static const ev_field_t hu_scrapped[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the handling unit"},
    {.name = "qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = QTY_MAX,
     .doc = "quantity written off, in the unit's unit"},
    {.name = "reason", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = scrap_reasons,
     .doc = "why"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
    {.name = "nc_id", .kind = EV_ID, .entity = "nc",
     .doc = "the non-conformity behind it"},
    {.name = "photos", .kind = EV_OBJECTS, .min = 0, .max = PHOTOS_MAX, .items = photo,
     .items_count = COUNT(photo), .doc = "photos of the damage"},
};

/* ==== Finished-goods store: packing, palletizing, counts, shipments */

static const ev_field_t hu_packed[] = {
    {.name = "carton_hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the carton, created by its first packing"},
    {.name = "hu_ids", .kind = EV_IDS, .flags = EV_REQUIRED, .min = 1, .max = 28,
     .entity = "hu", .doc = "bundles packed whole into it, released and at location_id"},
    {.name = "location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "the packing location"},
};

static const ev_field_t hu_palletized[] = {
    {.name = "pallet_hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the pallet, created by its first load"},
    {.name = "hu_ids", .kind = EV_IDS, .flags = EV_REQUIRED, .min = 1, .max = 28,
     .entity = "hu", .doc = "cartons put on it, released and at location_id"},
    {.name = "location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "the palletizing location"},
};

static const ev_field_t hu_unpacked[] = {
    {.name = "container_hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the carton or pallet opened"},
    {.name = "hu_ids", .kind = EV_IDS, .flags = EV_REQUIRED, .min = 1, .max = 28,
     .entity = "hu", .doc = "contents taken out, left at the container's location"},
    {.name = "reason", .kind = EV_STRING, .min = 0, .max = TEXT_REASON_MAX,
     .doc = "why"},
};

static const ev_field_t count_opened[] = {
    {.name = "count_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "count",
     .doc = "the new count session; book quantities are taken as of this event"},
    {.name = "location_ids", .kind = EV_IDS, .flags = EV_REQUIRED, .min = 1, .max = 30,
     .entity = "loc", .doc = "locations counted"},
    {.name = "scope", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = count_scopes,
     .doc = "full inventory, cycle count or spot check"},
    {.name = "blind", .kind = EV_BOOL,
     .doc = "counters do not see book quantities"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "what is in scope and how"},
};

static const ev_field_t item_counted[] = {
    {.name = "count_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "count",
     .doc = "the open count session"},
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the handling unit scanned; an unknown id is stock found unlabelled"},
    {.name = "item_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "item",
     .doc = "the item seen"},
    {.name = "location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "where it was found, one of the session's"},
    {.name = "counted_qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 0,
     .max = QTY_MAX, .doc = "quantity counted, in unit"},
    {.name = "unit", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = units,
     .doc = "unit of the quantity"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "counter's remark"},
};

static const ev_field_t count_closed[] = {
    {.name = "count_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "count",
     .doc = "the session; no more lines after it"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
};

static const ev_field_t inventory_adjusted[] = {
    {.name = "count_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "count",
     .doc = "the closed count session that found the difference"},
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the handling unit corrected; an unknown id is created (found stock)"},
    {.name = "item_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "item",
     .doc = "its item"},
    {.name = "location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "where"},
    {.name = "delta_qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = -QTY_MAX,
     .max = QTY_MAX, .doc = "book correction in unit, counted minus book; not 0"},
    {.name = "unit", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = units,
     .doc = "unit of the quantity"},
    {.name = "reason", .kind = EV_STRING, .min = 0, .max = TEXT_REASON_MAX,
     .doc = "explanation of the difference"},
    {.name = "approved_by_user_id", .kind = EV_ID, .entity = "user",
     .doc = "second approver, when the difference exceeds the approval threshold"},
};

static const ev_field_t shipment_planned[] = {
    {.name = "ship_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "ship",
     .doc = "the new shipment"},
    {.name = "customer_location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "the customer it goes to"},
    {.name = "planned_at_us", .kind = EV_TIME, .flags = EV_REQUIRED, .min = TIME_MIN,
     .max = TIME_MAX, .unit = "us", .doc = "planned departure"},
    {.name = "customer_order_ref", .kind = EV_STRING, .min = 0, .max = TEXT_REF_MAX,
     .doc = "the customer's order number"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "instructions"},
};

static const ev_field_t shipment_loaded[] = {
    {.name = "ship_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "ship",
     .doc = "the planned shipment"},
    {.name = "hu_ids", .kind = EV_IDS, .flags = EV_REQUIRED, .min = 1, .max = 29,
     .entity = "hu", .doc = "released pallets or cartons loaded"},
    {.name = "from_location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "where they were loaded"},
};

static const ev_field_t shipment_unloaded[] = {
    {.name = "ship_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "ship",
     .doc = "the shipment, not yet dispatched"},
    {.name = "hu_ids", .kind = EV_IDS, .flags = EV_REQUIRED, .min = 1, .max = 29,
     .entity = "hu", .doc = "units taken off it"},
    {.name = "to_location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "where they are put back"},
    {.name = "reason", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_REASON_MAX, .doc = "why"},
};

static const ev_field_t shipment_dispatched[] = {
    {.name = "ship_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "ship",
     .doc = "the shipment; every unit loaded leaves with it"},
    {.name = "to_location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "the customer location, the planned one"},
    {.name = "carrier", .kind = EV_STRING, .min = 0, .max = TEXT_NAME_MAX,
     .doc = "transport company"},
    {.name = "vehicle_ref", .kind = EV_STRING, .min = 0, .max = TEXT_REF_MAX,
     .doc = "truck or container number"},
    {.name = "seal_ref", .kind = EV_STRING, .min = 0, .max = TEXT_REF_MAX,
     .doc = "seal number"},
    {.name = "delivery_note_ref", .kind = EV_STRING, .min = 0, .max = TEXT_REF_MAX,
     .doc = "delivery note number"},
};

/* ==== Subcontracting store: subcontractors, lots out and back */

static const ev_field_t subcontractor_onboarded[] = {
    {.name = "sub_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "sub",
     .doc = "the new subcontractor"},
    {.name = "name", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1, .max = TEXT_NAME_MAX,
     .doc = "company name"},
    {.name = "contact_name", .kind = EV_STRING, .flags = EV_SENSITIVE, .min = 0,
     .max = TEXT_NAME_MAX, .doc = "contact person"},
    {.name = "contact_phone", .kind = EV_STRING, .flags = EV_SENSITIVE, .min = 0, .max = 40,
     .doc = "contact person's phone"},
    {.name = "contact_email", .kind = EV_STRING, .flags = EV_SENSITIVE, .min = 0, .max = 254,
     .doc = "contact person's email"},
    {.name = "location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "its site as a stock location, created here if new"},
    {.name = "services", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "operations it does (hemming, embroidery, dyeing...)"},
};

static const ev_field_t subcontractor_status_changed[] = {
    {.name = "sub_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "sub",
     .doc = "the subcontractor"},
    {.name = "status", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = subcontractor_statuses,
     .doc = "suspended or terminated ones get no new lots"},
    {.name = "reason", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_REASON_MAX, .doc = "why"},
};

static const ev_field_t lot_sent_to_subcontractor[] = {
    {.name = "sublot_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "sublot",
     .doc = "the new subcontract lot: what goes out together, referenced by its returns"},
    {.name = "sub_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "sub",
     .doc = "the subcontractor, active"},
    {.name = "operation", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = operations,
     .doc = "work to be done"},
    {.name = "hu_ids", .kind = EV_IDS, .flags = EV_REQUIRED, .min = 1, .max = 24,
     .entity = "hu", .doc = "handling units sent whole, released and at from_location_id"},
    {.name = "qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 1, .max = QTY_MAX,
     .doc = "total sent, in unit: the sum of the units' quantities"},
    {.name = "unit", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = units,
     .doc = "unit of the quantities, the units' own"},
    {.name = "from_location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "where they leave from"},
    {.name = "to_location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "the subcontractor's site"},
    {.name = "of_id", .kind = EV_ID, .entity = "of",
     .doc = "the production order the work is for"},
    {.name = "expected_back_us", .kind = EV_TIME, .min = TIME_MIN, .max = TIME_MAX,
     .unit = "us", .doc = "promised return date"},
    {.name = "instructions", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "work instructions"},
    {.name = "delivery_note_ref", .kind = EV_STRING, .min = 0, .max = TEXT_REF_MAX,
     .doc = "delivery note number"},
};

static const ev_field_t lot_returned_from_subcontractor[] = {
    {.name = "sublot_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "sublot",
     .doc = "the lot sent; a lot may come back in several returns"},
    {.name = "sub_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "sub",
     .doc = "the subcontractor, the lot's"},
    {.name = "good_hu_id", .kind = EV_ID, .entity = "hu",
     .doc = "new unit holding the good quantity; required when good_qty_milli > 0"},
    {.name = "item_id", .kind = EV_ID, .entity = "item",
     .doc = "item of the returned goods when the work changed it; absent: as sent"},
    {.name = "grade", .kind = EV_ENUM, .values = grades,
     .doc = "grade of the good quantity; absent: as sent"},
    {.name = "good_qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 0, .max = QTY_MAX,
     .doc = "good quantity back, in the lot's unit"},
    {.name = "rejected_qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 0,
     .max = QTY_MAX, .doc = "quantity spoiled by the work, in the lot's unit"},
    {.name = "rejected_hu_id", .kind = EV_ID, .entity = "hu",
     .doc = "new unit holding rejects brought back; absent: rejects stay written off"},
    {.name = "lost_qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 0, .max = QTY_MAX,
     .doc = "quantity missing, in the lot's unit"},
    {.name = "allowance_qty_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = -QTY_MAX,
     .max = QTY_MAX,
     .doc = "accepted shrinkage (+) or process gain (-): good+rejected+lost+allowance = sent"},
    {.name = "allowance_reason", .kind = EV_STRING, .min = 0, .max = TEXT_REASON_MAX,
     .doc = "explanation, required when the allowance is not 0"},
    {.name = "to_location_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "loc",
     .doc = "where the returned units are put"},
    {.name = "closes_lot", .kind = EV_BOOL, .flags = EV_REQUIRED,
     .doc = "true on the last return: the lot must balance"},
    {.name = "delivery_note_ref", .kind = EV_STRING, .min = 0, .max = TEXT_REF_MAX,
     .doc = "the subcontractor's delivery note"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
    {.name = "photos", .kind = EV_OBJECTS, .min = 0, .max = PHOTOS_MAX, .items = photo,
     .items_count = COUNT(photo), .doc = "photos of rejects or damage"},
};

/* ==== Quality: inspections, grading, verdicts, non-conformities, deviations */

static const ev_field_t inspection_defects[] = {
    {.name = "defect_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "defect",
     .doc = "the defect code"},
    {.name = "points", .kind = EV_INT, .flags = EV_REQUIRED, .min = 1, .max = 4,
     .unit = "points", .doc = "4-point-system penalty of each occurrence"},
    {.name = "count", .kind = EV_INT, .flags = EV_REQUIRED, .min = 1, .max = 10000,
     .unit = "defects", .doc = "occurrences"},
    {.name = "position_milli", .kind = EV_QTY, .min = 0, .max = LENGTH_MAX, .unit = "m",
     .doc = "distance from the start of the roll"},
};

static const ev_field_t inspection_recorded[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the roll, bundle or lot inspected"},
    {.name = "stage", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = inspection_stages,
     .doc = "which inspection"},
    {.name = "inspected_length_milli", .kind = EV_QTY, .min = 0, .max = LENGTH_MAX,
     .unit = "m", .doc = "fabric length inspected"},
    {.name = "width_mm", .kind = EV_INT, .min = 1, .max = 6000, .unit = "mm",
     .doc = "fabric width, for points per 100 m2"},
    {.name = "sample_qty_milli", .kind = EV_QTY, .min = 0, .max = QTY_MAX,
     .doc = "quantity sampled, in the unit's unit, for piece inspections"},
    {.name = "defects", .kind = EV_OBJECTS, .flags = EV_REQUIRED, .min = 0, .max = 30,
     .items = inspection_defects, .items_count = COUNT(inspection_defects),
     .doc = "defects found, empty when none"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
    {.name = "photos", .kind = EV_OBJECTS, .min = 0, .max = PHOTOS_MAX, .items = photo,
     .items_count = COUNT(photo), .doc = "photos of defects"},
};

static const ev_field_t fabric_graded[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the roll or bundle graded"},
    {.name = "grade", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = grades,
     .doc = "the grade it now has"},
    {.name = "points_total", .kind = EV_INT, .flags = EV_REQUIRED, .min = 0, .max = 1000000,
     .unit = "points", .doc = "penalty points of its inspections"},
    {.name = "points_per_100m2_milli", .kind = EV_QTY, .flags = EV_REQUIRED, .min = 0,
     .max = QTY_MAX, .unit = "points/100 m2",
     .doc = "100,000 x points / (width mm x length m)"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
};

static const ev_field_t lot_released[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the unit released: it may now move, be packed and shipped"},
    {.name = "note", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "remarks"},
};

static const ev_field_t lot_put_on_hold[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the unit held: it may not move, be packed or shipped"},
    {.name = "reason", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_REASON_MAX, .doc = "why"},
    {.name = "nc_id", .kind = EV_ID, .entity = "nc",
     .doc = "the non-conformity behind it"},
};

static const ev_field_t lot_rejected[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the unit rejected"},
    {.name = "reason", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_REASON_MAX, .doc = "why"},
    {.name = "disposition", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = dispositions,
     .doc = "what will be done with it"},
    {.name = "nc_id", .kind = EV_ID, .entity = "nc",
     .doc = "the non-conformity behind it"},
    {.name = "photos", .kind = EV_OBJECTS, .min = 0, .max = PHOTOS_MAX, .items = photo,
     .items_count = COUNT(photo), .doc = "evidence"},
};

static const ev_field_t nc_opened[] = {
    {.name = "nc_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "nc",
     .doc = "the new non-conformity"},
    {.name = "title", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1, .max = TEXT_NAME_MAX,
     .doc = "short title"},
    {.name = "description", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_NOTE_MAX, .doc = "what was found"},
    {.name = "source", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = nc_sources,
     .doc = "where it was found"},
    {.name = "severity", .kind = EV_ENUM, .flags = EV_REQUIRED, .values = severities,
     .doc = "how serious"},
    {.name = "hu_ids", .kind = EV_IDS, .min = 0, .max = 20, .entity = "hu",
     .doc = "handling units concerned"},
    {.name = "of_id", .kind = EV_ID, .entity = "of",
     .doc = "the order concerned"},
    {.name = "loom_id", .kind = EV_ID, .entity = "loom",
     .doc = "the loom concerned"},
    {.name = "sub_id", .kind = EV_ID, .entity = "sub",
     .doc = "the subcontractor concerned"},
    {.name = "item_id", .kind = EV_ID, .entity = "item",
     .doc = "the article or material concerned"},
    {.name = "defect_id", .kind = EV_ID, .entity = "defect",
     .doc = "the main defect"},
    {.name = "photos", .kind = EV_OBJECTS, .min = 0, .max = PHOTOS_MAX, .items = photo,
     .items_count = COUNT(photo), .doc = "evidence"},
};

static const ev_field_t containment_recorded[] = {
    {.name = "nc_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "nc",
     .doc = "the open non-conformity"},
    {.name = "action", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_NOTE_MAX, .doc = "what was done to contain it"},
    {.name = "hu_ids", .kind = EV_IDS, .min = 0, .max = 25, .entity = "hu",
     .doc = "units contained (their holds are LotPutOnHold events)"},
    {.name = "photos", .kind = EV_OBJECTS, .min = 0, .max = PHOTOS_MAX, .items = photo,
     .items_count = COUNT(photo), .doc = "evidence"},
};

static const ev_field_t corrective_action_recorded[] = {
    {.name = "nc_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "nc",
     .doc = "the contained non-conformity"},
    {.name = "root_cause", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_NOTE_MAX, .doc = "why it happened"},
    {.name = "action", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_NOTE_MAX, .doc = "what will prevent it happening again"},
    {.name = "owner_user_id", .kind = EV_ID, .entity = "user",
     .doc = "who carries out the action"},
    {.name = "due_at_us", .kind = EV_TIME, .min = TIME_MIN, .max = TIME_MAX, .unit = "us",
     .doc = "deadline"},
};

static const ev_field_t nc_closed[] = {
    {.name = "nc_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "nc",
     .doc = "the corrected non-conformity"},
    {.name = "effective", .kind = EV_BOOL, .flags = EV_REQUIRED,
     .doc = "the corrective action was verified effective"},
    {.name = "conclusion", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_NOTE_MAX, .doc = "closing statement"},
};

static const ev_field_t deviation_approved[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "the held unit that may be used or shipped anyway"},
    {.name = "reason", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_REASON_MAX, .doc = "why it is acceptable"},
    {.name = "conditions", .kind = EV_STRING, .min = 0, .max = TEXT_NOTE_MAX,
     .doc = "limits of the deviation (customer, use, quantity)"},
    {.name = "valid_until_us", .kind = EV_TIME, .min = TIME_MIN, .max = TIME_MAX, .unit = "us",
     .doc = "end of validity"},
    {.name = "nc_id", .kind = EV_ID, .entity = "nc",
     .doc = "the non-conformity it answers"},
    {.name = "of_id", .kind = EV_ID, .entity = "of",
     .doc = "the order it applies to"},
};

/* ==== Corrections (manager) */

static const ev_field_t hu_voided[] = {
    {.name = "hu_id", .kind = EV_ID, .flags = EV_REQUIRED, .entity = "hu",
     .doc = "a unit created in error, not yet used: its quantity goes to 0"},
    {.name = "reason", .kind = EV_STRING, .flags = EV_REQUIRED, .min = 1,
     .max = TEXT_REASON_MAX, .doc = "what was wrong"},
    {.name = "reversed_event_id", .kind = EV_UUID,
     .doc = "the event that created it in error"},
};

/* ==== The catalog, sorted by name in strcmp order */

const ev_type_t ev_catalog[] = {
    {.name = "ArticleSpecDefined", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "item", .stream_field = "item_id",
     .fields = article_spec_defined, .fields_count = COUNT(article_spec_defined),
     .doc = "an article (towel model) and its weaving spec were defined or revised"},
    {.name = "BeamDismounted", .schema_version = 1,
     .roles = ROLE(MECHANIC) | ROLE(MANAGER),
     .stream_kind = "beam", .stream_field = "beam_id",
     .fields = beam_dismounted, .fields_count = COUNT(beam_dismounted),
     .doc = "a warp beam was taken off a loom, with the length left on it"},
    {.name = "BeamMounted", .schema_version = 1,
     .roles = ROLE(MECHANIC) | ROLE(MANAGER),
     .stream_kind = "beam", .stream_field = "beam_id",
     .fields = beam_mounted, .fields_count = COUNT(beam_mounted),
     .doc = "a warp beam was mounted on a loom position (ground or pile)"},
    {.name = "BeamRegistered", .schema_version = 1,
     .roles = ROLE(MECHANIC) | ROLE(STORE_RAW) | ROLE(MANAGER),
     .stream_kind = "beam", .stream_field = "beam_id",
     .fields = beam_registered, .fields_count = COUNT(beam_registered),
     .doc = "a beam carrying a new warp was registered"},
    {.name = "ContainmentRecorded", .schema_version = 1,
     .roles = ROLE(QUALITY) | ROLE(MANAGER),
     .stream_kind = "nc", .stream_field = "nc_id",
     .fields = containment_recorded, .fields_count = COUNT(containment_recorded),
     .doc = "a non-conformity was contained"},
    {.name = "CorrectiveActionRecorded", .schema_version = 1,
     .roles = ROLE(QUALITY) | ROLE(MANAGER),
     .stream_kind = "nc", .stream_field = "nc_id",
     .fields = corrective_action_recorded, .fields_count = COUNT(corrective_action_recorded),
     .doc = "a non-conformity got its root cause and corrective action"},
    {.name = "CountClosed", .schema_version = 1,
     .roles = STORES | ROLE(MANAGER),
     .stream_kind = "count", .stream_field = "count_id",
     .fields = count_closed, .fields_count = COUNT(count_closed),
     .doc = "a stock count session was closed"},
    {.name = "CountOpened", .schema_version = 1,
     .roles = STORES | ROLE(MANAGER),
     .stream_kind = "count", .stream_field = "count_id",
     .fields = count_opened, .fields_count = COUNT(count_opened),
     .doc = "a stock count session was opened on some locations"},
    {.name = "CuttingDeclared", .schema_version = 1,
     .roles = ROLE(CUTTER) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "input_hu_id",
     .fields = cutting_declared, .fields_count = COUNT(cutting_declared),
     .doc = "a woven roll was cut into first and second choice bundles and waste"},
    {.name = "DefectCodeDefined", .schema_version = 1,
     .roles = DESK | ROLE(QUALITY),
     .stream_kind = "defect", .stream_field = "defect_id",
     .fields = defect_code_defined, .fields_count = COUNT(defect_code_defined),
     .doc = "a defect code was defined or revised"},
    {.name = "DefectRecorded", .schema_version = 1,
     .roles = ROLE(WEAVER) | ROLE(CUTTER) | ROLE(QUALITY) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = defect_recorded, .fields_count = COUNT(defect_recorded),
     .doc = "a defect was seen on a roll or bundle"},
    {.name = "DeviationApproved", .schema_version = 1,
     .roles = ROLE(QUALITY) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = deviation_approved, .fields_count = COUNT(deviation_approved),
     .doc = "a held unit was approved for use despite a non-conformity"},
    {.name = "FabricGraded", .schema_version = 1,
     .roles = ROLE(QUALITY),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = fabric_graded, .fields_count = COUNT(fabric_graded),
     .doc = "fabric was graded by the 4-point system"},
    {.name = "FirstPieceInspected", .schema_version = 1,
     .roles = ROLE(MECHANIC) | ROLE(QUALITY),
     .stream_kind = "loom", .stream_field = "loom_id",
     .fields = first_piece_inspected, .fields_count = COUNT(first_piece_inspected),
     .doc = "the first piece of an order on a loom was checked"},
    {.name = "GoodsReceived", .schema_version = 1,
     .roles = ROLE(STORE_RAW) | ROLE(STORE_FINISHED) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = goods_received, .fields_count = COUNT(goods_received),
     .doc = "material from a supplier was received as a new unit"},
    {.name = "HUPacked", .schema_version = 1,
     .roles = ROLE(STORE_FINISHED) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "carton_hu_id",
     .fields = hu_packed, .fields_count = COUNT(hu_packed),
     .doc = "units were packed into a carton"},
    {.name = "HUPalletized", .schema_version = 1,
     .roles = ROLE(STORE_FINISHED) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "pallet_hu_id",
     .fields = hu_palletized, .fields_count = COUNT(hu_palletized),
     .doc = "cartons were put on a pallet"},
    {.name = "HUReceivedAtCutting", .schema_version = 1,
     .roles = ROLE(CUTTER) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = hu_moved, .fields_count = COUNT(hu_moved),
     .doc = "a woven roll arrived at cutting"},
    {.name = "HUScrapped", .schema_version = 1,
     .roles = STORES | ROLE(QUALITY) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = hu_scrapped, .fields_count = COUNT(hu_scrapped),
     .doc = "stock was written off"},
    {.name = "HUSplit", .schema_version = 1,
     .roles = STORES | ROLE(CUTTER) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = hu_split, .fields_count = COUNT(hu_split),
     .doc = "a unit was split into new labelled units"},
    {.name = "HUUnpacked", .schema_version = 1,
     .roles = ROLE(STORE_FINISHED) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "container_hu_id",
     .fields = hu_unpacked, .fields_count = COUNT(hu_unpacked),
     .doc = "units were taken out of a carton or off a pallet"},
    {.name = "HUVoided", .schema_version = 1,
     .roles = ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = hu_voided, .fields_count = COUNT(hu_voided),
     .doc = "a unit created in error was voided"},
    {.name = "InspectionRecorded", .schema_version = 1,
     .roles = ROLE(QUALITY),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = inspection_recorded, .fields_count = COUNT(inspection_recorded),
     .doc = "a quality inspection of a unit was recorded with its defects"},
    {.name = "InterventionAcknowledged", .schema_version = 1,
     .roles = ROLE(MECHANIC) | ROLE(MANAGER),
     .stream_kind = "int", .stream_field = "int_id",
     .fields = intervention_acknowledged, .fields_count = COUNT(intervention_acknowledged),
     .doc = "a mechanic took an intervention request"},
    {.name = "InterventionCancelled", .schema_version = 1,
     .roles = ROLE(MECHANIC) | ROLE(MANAGER),
     .stream_kind = "int", .stream_field = "int_id",
     .fields = intervention_cancelled, .fields_count = COUNT(intervention_cancelled),
     .doc = "an intervention request was cancelled"},
    {.name = "InterventionCompleted", .schema_version = 1,
     .roles = ROLE(MECHANIC),
     .stream_kind = "int", .stream_field = "int_id",
     .fields = intervention_completed, .fields_count = COUNT(intervention_completed),
     .doc = "an intervention was finished, with its root cause"},
    {.name = "InterventionPaused", .schema_version = 1,
     .roles = ROLE(MECHANIC),
     .stream_kind = "int", .stream_field = "int_id",
     .fields = intervention_paused, .fields_count = COUNT(intervention_paused),
     .doc = "work on an intervention paused"},
    {.name = "InterventionRequested", .schema_version = 1,
     .roles = ROLE(WEAVER) | ROLE(CUTTER) | ROLE(MECHANIC) | ROLE(QUALITY) | ROLE(MANAGER),
     .stream_kind = "int", .stream_field = "int_id",
     .fields = intervention_requested, .fields_count = COUNT(intervention_requested),
     .doc = "a mechanic was called to a loom"},
    {.name = "InterventionResumed", .schema_version = 1,
     .roles = ROLE(MECHANIC),
     .stream_kind = "int", .stream_field = "int_id",
     .fields = intervention_step, .fields_count = COUNT(intervention_step),
     .doc = "work on a paused intervention resumed"},
    {.name = "InterventionStarted", .schema_version = 1,
     .roles = ROLE(MECHANIC),
     .stream_kind = "int", .stream_field = "int_id",
     .fields = intervention_step, .fields_count = COUNT(intervention_step),
     .doc = "a mechanic started work at the loom"},
    {.name = "InventoryAdjusted", .schema_version = 1,
     .roles = ROLE(MANAGER),
     .stream_kind = "count", .stream_field = "count_id",
     .fields = inventory_adjusted, .fields_count = COUNT(inventory_adjusted),
     .doc = "book stock was corrected after a count"},
    {.name = "ItemCounted", .schema_version = 1,
     .roles = STORES | ROLE(MANAGER),
     .stream_kind = "count", .stream_field = "count_id",
     .fields = item_counted, .fields_count = COUNT(item_counted),
     .doc = "a unit was counted in a count session"},
    {.name = "ItemDefined", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "item", .stream_field = "item_id",
     .fields = item_defined, .fields_count = COUNT(item_defined),
     .doc = "a yarn, spare part or other material was defined or revised"},
    {.name = "LabelPrinted", .schema_version = 1,
     .roles = FLOOR,
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = label_printed, .fields_count = COUNT(label_printed),
     .doc = "a unit's label was printed"},
    {.name = "LabelReprinted", .schema_version = 1,
     .roles = FLOOR,
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = label_reprinted, .fields_count = COUNT(label_reprinted),
     .doc = "a unit's label was reprinted, replacing the active one"},
    {.name = "LocationDefined", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "loc", .stream_field = "location_id",
     .fields = location_defined, .fields_count = COUNT(location_defined),
     .doc = "a stock location was defined or revised"},
    {.name = "LoomDefined", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "loom", .stream_field = "loom_id",
     .fields = loom_defined, .fields_count = COUNT(loom_defined),
     .doc = "a loom was defined or revised"},
    {.name = "LoomRestarted", .schema_version = 1,
     .roles = ROLE(WEAVER) | ROLE(MECHANIC) | ROLE(MANAGER),
     .stream_kind = "loom", .stream_field = "loom_id",
     .fields = loom_restarted, .fields_count = COUNT(loom_restarted),
     .doc = "a stopped loom runs again"},
    {.name = "LoomStopped", .schema_version = 1,
     .roles = ROLE(WEAVER) | ROLE(MECHANIC) | ROLE(MANAGER),
     .stream_kind = "loom", .stream_field = "loom_id",
     .fields = loom_stopped, .fields_count = COUNT(loom_stopped),
     .doc = "a loom stopped, with the reason"},
    {.name = "LotPutOnHold", .schema_version = 1,
     .roles = ROLE(QUALITY) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = lot_put_on_hold, .fields_count = COUNT(lot_put_on_hold),
     .doc = "a unit was put on hold"},
    {.name = "LotRejected", .schema_version = 1,
     .roles = ROLE(QUALITY),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = lot_rejected, .fields_count = COUNT(lot_rejected),
     .doc = "a unit was rejected by quality"},
    {.name = "LotReleased", .schema_version = 1,
     .roles = ROLE(QUALITY),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = lot_released, .fields_count = COUNT(lot_released),
     .doc = "a unit was released by quality"},
    {.name = "LotReturnedFromSubcontractor", .schema_version = 1,
     .roles = ROLE(STORE_SUBCONTRACT) | ROLE(MANAGER),
     .stream_kind = "sublot", .stream_field = "sublot_id",
     .fields = lot_returned_from_subcontractor,
     .fields_count = COUNT(lot_returned_from_subcontractor),
     .doc = "goods of a subcontract lot came back: good, rejected, lost"},
    {.name = "LotSentToSubcontractor", .schema_version = 1,
     .roles = ROLE(STORE_SUBCONTRACT) | ROLE(MANAGER),
     .stream_kind = "sublot", .stream_field = "sublot_id",
     .fields = lot_sent_to_subcontractor, .fields_count = COUNT(lot_sent_to_subcontractor),
     .doc = "units were sent to a subcontractor as a lot"},
    {.name = "MaterialIssuedToLoom", .schema_version = 1,
     .roles = ROLE(STORE_RAW) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = material_issued_to_loom, .fields_count = COUNT(material_issued_to_loom),
     .doc = "yarn was issued to a loom for an order"},
    {.name = "MaterialReservationReleased", .schema_version = 1,
     .roles = ROLE(STORE_RAW) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = material_reservation, .fields_count = COUNT(material_reservation),
     .doc = "a reservation of material for an order was released"},
    {.name = "MaterialReservedForOF", .schema_version = 1,
     .roles = ROLE(STORE_RAW) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = material_reservation, .fields_count = COUNT(material_reservation),
     .doc = "material was reserved for an order"},
    {.name = "MaterialReturned", .schema_version = 1,
     .roles = ROLE(STORE_RAW) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = material_returned, .fields_count = COUNT(material_returned),
     .doc = "material issued to the floor came back to the store"},
    {.name = "NCClosed", .schema_version = 1,
     .roles = ROLE(QUALITY),
     .stream_kind = "nc", .stream_field = "nc_id",
     .fields = nc_closed, .fields_count = COUNT(nc_closed),
     .doc = "a non-conformity was closed"},
    {.name = "NCOpened", .schema_version = 1,
     .roles = ROLE(QUALITY) | ROLE(MANAGER),
     .stream_kind = "nc", .stream_field = "nc_id",
     .fields = nc_opened, .fields_count = COUNT(nc_opened),
     .doc = "a non-conformity was opened"},
    {.name = "OFAssignedToLoom", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "of", .stream_field = "of_id",
     .fields = of_assigned_to_loom, .fields_count = COUNT(of_assigned_to_loom),
     .doc = "a production order was planned on a loom"},
    {.name = "OFCancelled", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "of", .stream_field = "of_id",
     .fields = of_cancelled, .fields_count = COUNT(of_cancelled),
     .doc = "a production order was cancelled"},
    {.name = "OFClosed", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "of", .stream_field = "of_id",
     .fields = of_closed, .fields_count = COUNT(of_closed),
     .doc = "a production order was closed"},
    {.name = "OFCreated", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "of", .stream_field = "of_id",
     .fields = of_created, .fields_count = COUNT(of_created),
     .doc = "a production order was created"},
    {.name = "OFEndedOnLoom", .schema_version = 1,
     .roles = ROLE(WEAVER) | ROLE(MECHANIC) | ROLE(MANAGER),
     .stream_kind = "loom", .stream_field = "loom_id",
     .fields = of_ended_on_loom, .fields_count = COUNT(of_ended_on_loom),
     .doc = "a production order stopped running on a loom"},
    {.name = "OFQuantityRevised", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "of", .stream_field = "of_id",
     .fields = of_quantity_revised, .fields_count = COUNT(of_quantity_revised),
     .doc = "a production order's planned quantity changed"},
    {.name = "OFReleased", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "of", .stream_field = "of_id",
     .fields = of_released, .fields_count = COUNT(of_released),
     .doc = "a production order was released to the floor"},
    {.name = "OFRescheduled", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "of", .stream_field = "of_id",
     .fields = of_rescheduled, .fields_count = COUNT(of_rescheduled),
     .doc = "a production order's due date or priority changed"},
    {.name = "OFStartedOnLoom", .schema_version = 1,
     .roles = ROLE(WEAVER) | ROLE(MECHANIC) | ROLE(MANAGER),
     .stream_kind = "loom", .stream_field = "loom_id",
     .fields = of_started_on_loom, .fields_count = COUNT(of_started_on_loom),
     .doc = "a production order started on a loom"},
    {.name = "OFUnassignedFromLoom", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "of", .stream_field = "of_id",
     .fields = of_unassigned_from_loom, .fields_count = COUNT(of_unassigned_from_loom),
     .doc = "a loom was taken off a production order's plan"},
    {.name = "OperatorAssignedToLoom", .schema_version = 1,
     .roles = ROLE(WEAVER) | ROLE(MANAGER),
     .stream_kind = "loom", .stream_field = "loom_id",
     .fields = operator_loom, .fields_count = COUNT(operator_loom),
     .doc = "a weaver took charge of a loom"},
    {.name = "OperatorUnassignedFromLoom", .schema_version = 1,
     .roles = ROLE(WEAVER) | ROLE(MANAGER),
     .stream_kind = "loom", .stream_field = "loom_id",
     .fields = operator_loom, .fields_count = COUNT(operator_loom),
     .doc = "a weaver left a loom"},
    {.name = "PeriodClosed", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "period", .stream_field = "period_id",
     .fields = period_closed, .fields_count = COUNT(period_closed),
     .doc = "a reporting period was closed"},
    {.name = "PersonDataErased", .schema_version = 1,
     .roles = ROLE(ADMIN),
     .stream_kind = "person", .stream_field = "person_id",
     .fields = person_data_erased, .fields_count = COUNT(person_data_erased),
     .doc = "a person's personal data was erased: their key is destroyed, the chain stays "
            "(recorded only by POST /api/v1/persons/{person}/erase)"},
    {.name = "PreventiveMaintenanceDone", .schema_version = 1,
     .roles = ROLE(MECHANIC),
     .stream_kind = "loom", .stream_field = "loom_id",
     .fields = preventive_maintenance_done, .fields_count = COUNT(preventive_maintenance_done),
     .doc = "a preventive maintenance task was done on a loom"},
    {.name = "PreventiveMaintenanceScheduled", .schema_version = 1,
     .roles = DESK | ROLE(MECHANIC),
     .stream_kind = "loom", .stream_field = "loom_id",
     .fields = preventive_maintenance_scheduled,
     .fields_count = COUNT(preventive_maintenance_scheduled),
     .doc = "a preventive maintenance task was scheduled"},
    {.name = "ProductionDeclared", .schema_version = 2,
     .roles = ROLE(WEAVER) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = production_declared, .fields_count = COUNT(production_declared),
     .doc = "a weaver declared a woven roll, labelled as a new handling unit",
     .upcast = production_declared_upcast},
    {.name = "PurchaseRequestApproved", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "pr", .stream_field = "pr_id",
     .fields = purchase_request_approved, .fields_count = COUNT(purchase_request_approved),
     .doc = "a purchase request was approved"},
    {.name = "PurchaseRequestRejected", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "pr", .stream_field = "pr_id",
     .fields = purchase_request_rejected, .fields_count = COUNT(purchase_request_rejected),
     .doc = "a purchase request was rejected"},
    {.name = "PurchaseRequested", .schema_version = 1,
     .roles = ROLE(CUTTER) | ROLE(MECHANIC) | STORES | ROLE(QUALITY) | ROLE(MANAGER),
     .stream_kind = "pr", .stream_field = "pr_id",
     .fields = purchase_requested, .fields_count = COUNT(purchase_requested),
     .doc = "a purchase was requested"},
    {.name = "ShiftCancelled", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "shift", .stream_field = "shift_id",
     .fields = shift_cancelled, .fields_count = COUNT(shift_cancelled),
     .doc = "a scheduled shift was cancelled"},
    {.name = "ShiftScheduled", .schema_version = 1,
     .roles = DESK,
     .stream_kind = "shift", .stream_field = "shift_id",
     .fields = shift_scheduled, .fields_count = COUNT(shift_scheduled),
     .doc = "a shift was put on the calendar"},
    {.name = "ShipmentDispatched", .schema_version = 1,
     .roles = ROLE(STORE_FINISHED) | ROLE(MANAGER),
     .stream_kind = "ship", .stream_field = "ship_id",
     .fields = shipment_dispatched, .fields_count = COUNT(shipment_dispatched),
     .doc = "a shipment left for its customer"},
    {.name = "ShipmentLoaded", .schema_version = 1,
     .roles = ROLE(STORE_FINISHED) | ROLE(MANAGER),
     .stream_kind = "ship", .stream_field = "ship_id",
     .fields = shipment_loaded, .fields_count = COUNT(shipment_loaded),
     .doc = "units were loaded on a shipment"},
    {.name = "ShipmentPlanned", .schema_version = 1,
     .roles = DESK | ROLE(STORE_FINISHED),
     .stream_kind = "ship", .stream_field = "ship_id",
     .fields = shipment_planned, .fields_count = COUNT(shipment_planned),
     .doc = "a shipment to a customer was planned"},
    {.name = "ShipmentUnloaded", .schema_version = 1,
     .roles = ROLE(STORE_FINISHED) | ROLE(MANAGER),
     .stream_kind = "ship", .stream_field = "ship_id",
     .fields = shipment_unloaded, .fields_count = COUNT(shipment_unloaded),
     .doc = "units were taken off a shipment before it left"},
    {.name = "SparePartIssued", .schema_version = 1,
     .roles = ROLE(STORE_RAW) | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = spare_part_issued, .fields_count = COUNT(spare_part_issued),
     .doc = "a spare part was issued from stock"},
    {.name = "SparePartRequested", .schema_version = 1,
     .roles = ROLE(MECHANIC) | ROLE(MANAGER),
     .stream_kind = "pr", .stream_field = "pr_id",
     .fields = spare_part_requested, .fields_count = COUNT(spare_part_requested),
     .doc = "a mechanic requested a spare part"},
    {.name = "StockTransferred", .schema_version = 1,
     .roles = STORES | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = hu_moved, .fields_count = COUNT(hu_moved),
     .doc = "a unit moved between locations in one step"},
    {.name = "SubcontractorOnboarded", .schema_version = 1,
     .roles = DESK | ROLE(STORE_SUBCONTRACT),
     .stream_kind = "sub", .stream_field = "sub_id",
     .fields = subcontractor_onboarded, .fields_count = COUNT(subcontractor_onboarded),
     .doc = "a new subcontractor was set up",
     .person_kind = "sub", .person_field = "sub_id"},
    {.name = "SubcontractorStatusChanged", .schema_version = 1,
     .roles = DESK | ROLE(STORE_SUBCONTRACT),
     .stream_kind = "sub", .stream_field = "sub_id",
     .fields = subcontractor_status_changed, .fields_count = COUNT(subcontractor_status_changed),
     .doc = "a subcontractor was suspended, reinstated or ended"},
    {.name = "TransferDispatched", .schema_version = 1,
     .roles = STORES | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = hu_moved, .fields_count = COUNT(hu_moved),
     .doc = "a unit left for another location and is in transit"},
    {.name = "TransferReceived", .schema_version = 1,
     .roles = STORES | ROLE(MANAGER),
     .stream_kind = "hu", .stream_field = "hu_id",
     .fields = transfer_received, .fields_count = COUNT(transfer_received),
     .doc = "a unit in transit arrived"},
    {.name = "UserDisabled", .schema_version = 1,
     .roles = ROLE(ADMIN),
     .stream_kind = "user", .stream_field = "user_id",
     .fields = user_status, .fields_count = COUNT(user_status),
     .doc = "a user can no longer sign in"},
    {.name = "UserInvited", .schema_version = 1,
     .roles = ROLE(ADMIN),
     .stream_kind = "user", .stream_field = "user_id",
     .fields = user_invited, .fields_count = COUNT(user_invited),
     .doc = "a user was invited with a role",
     .person_kind = "user", .person_field = "user_id"},
    {.name = "UserReactivated", .schema_version = 1,
     .roles = ROLE(ADMIN),
     .stream_kind = "user", .stream_field = "user_id",
     .fields = user_status, .fields_count = COUNT(user_status),
     .doc = "a disabled user may sign in again"},
    {.name = "UserRoleChanged", .schema_version = 1,
     .roles = ROLE(ADMIN),
     .stream_kind = "user", .stream_field = "user_id",
     .fields = user_role_changed, .fields_count = COUNT(user_role_changed),
     .doc = "a user's role changed"},
};

/* clang-format on */

const uint32_t ev_catalog_count = COUNT(ev_catalog);
