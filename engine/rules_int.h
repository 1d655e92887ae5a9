/*
 * rules_int.h: the plant's state tables and the helpers the rules share (engine-private).
 * rules.c describes the tables; rules_units.c, rules_floor.c hold the rules, rules_read.c
 * the read functions of engine.h over the same tables.
 */
#ifndef FL_ENGINE_RULES_INT_H
#define FL_ENGINE_RULES_INT_H

#include "engine/engine_int.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define ENG_NO_SEP (-1)

/* snprintf(out, size, "%s%c%s", a, sep, b), or "%s%s" with ENG_NO_SEP (a sep of 0 is a byte of
 * the key, as in the children's "group\0id"), without the parsing of a format, which the rules
 * paid on every key and field they built: copies what fits, always terminates, returns the
 * length asked for. */
static inline int eng__join(char *out, size_t size, const char *a, int sep, const char *b)
{
    size_t la = strlen(a), ls = sep == ENG_NO_SEP ? 0 : 1, lb = strlen(b);
    if (size == 0)
        return (int)(la + ls + lb);
    size_t room = size - 1, n = la < room ? la : room, at = n;
    memcpy(out, a, n);
    if (ls > 0 && at < room)
        out[at++] = (char)sep;
    n = lb < room - at ? lb : room - at;
    memcpy(out + at, b, n);
    out[at + n] = '\0';
    return (int)(la + ls + lb);
}

/* snprintf(out, size, "%s%s", a, b). */
static inline int eng__cat(char *out, size_t size, const char *a, const char *b)
{
    return eng__join(out, size, a, ENG_NO_SEP, b);
}

#define HU_FORMAT      1
#define ARTICLE_FORMAT 1
#define STOCK_KEY_MAX  (2 * (EV_ID_LEN_MAX + 1) + 2)

typedef enum {
    HU_AVAILABLE = 1,
    HU_ON_HOLD,
    HU_RELEASED,
    HU_REJECTED,
    HU_CONSUMED,
    HU_SHIPPED
} hu_status_t;

/* A handling unit as stored (native layout, with a format byte; the ledger is its source). */
typedef struct {
    uint8_t format;
    uint8_t status;
    uint8_t grade; /* 0 none, 1 first, 2 second */
    char unit[8];
    int64_t qty_milli;
    uint64_t created_seq;
    char item[EV_ID_LEN_MAX + 1];
    char location[EV_ID_LEN_MAX + 1];
    char parent[EV_ID_LEN_MAX + 1]; /* the container's id, "" when none */
    /* What holds the unit outside the plant's shelves, "" when nothing: "ship:<id>" while
     * loaded on a shipment, "to:<location>" while in transit, "sublot:<id>" at a
     * subcontractor. A held unit moves only by the events of its holder. */
    char holder[EV_NAME_LEN_MAX + 1];
    int64_t out_milli; /* issued to the floor (yarn on a loom), not yet returned */
} hu_t;

typedef struct {
    uint8_t format;
    int64_t cutting_tolerance_permille;
    int64_t overproduction_allowed_permille;
    bool first_piece_required;
    int64_t pile_ratio_milli; /* pile warp per metre of fabric, thousandths; 0: as the ground */
} article_t;

typedef enum { OF_CREATED = 1, OF_RELEASED, OF_IN_PROGRESS, OF_CLOSED, OF_CANCELLED } of_state_t;

typedef struct {
    uint8_t format;
    uint8_t state;
    char unit[8];
    char item[EV_ID_LEN_MAX + 1];
    int64_t planned_milli;
    int64_t declared_milli;
} order_t;

enum { BEAM_GROUND, BEAM_PILE, BEAM_POSITIONS };

#define LOOM_OPERATORS_MAX 4 /* weavers in charge of one loom at once */

typedef struct {
    uint8_t format;
    bool stopped;
    bool first_piece_passed;       /* for the order it runs now */
    char order[EV_ID_LEN_MAX + 1]; /* the order in progress on it, "" when none */
    char beams[BEAM_POSITIONS][EV_ID_LEN_MAX + 1];
    char stop_class[16]; /* why it stopped (LoomStopped), "" while running */
    char stop_code[EV_ID_LEN_MAX + 1];
    uint64_t since_seq; /* the event that last stopped or started it */
    char operators[LOOM_OPERATORS_MAX][EV_ID_LEN_MAX + 1]; /* weavers in charge, "" when free */
} loom_t;

typedef struct {
    uint8_t format;
    uint8_t position;
    char loom[EV_ID_LEN_MAX + 1]; /* "" when not mounted */
    int64_t length_milli;         /* remaining on it: weaving draws it down */
    char item[EV_ID_LEN_MAX + 1]; /* the warp yarn */
    int64_t mounted_milli;        /* as it was mounted: no dismount leaves more */
} beam_t;

/* The other stateful entities share one table, `records`, keyed "<kind>-<id>": a state
 * machine, its subject and, for subcontract lots, the running balance. */
typedef enum { SUBLOT_OPEN = 1, SUBLOT_CLOSED } sublot_state_t;
typedef struct {
    uint8_t format;
    uint8_t state;
    char unit[8];
    char sub[EV_ID_LEN_MAX + 1];
    char item[EV_ID_LEN_MAX + 1];
    char location[EV_ID_LEN_MAX + 1]; /* at the subcontractor */
    int64_t sent_milli;
    int64_t good_milli, rejected_milli, lost_milli, allowance_milli; /* returned so far */
} sublot_t;

typedef enum { SHIP_PLANNED = 1, SHIP_DISPATCHED } ship_state_t;
typedef enum { COUNT_OPEN = 1, COUNT_CLOSED } count_state_t;
typedef enum {
    INT_REQUESTED = 1,
    INT_ACKNOWLEDGED,
    INT_STARTED,
    INT_PAUSED,
    INT_COMPLETED,
    INT_CANCELLED
} int_state_t;
typedef enum { NC_OPEN = 1, NC_CONTAINED, NC_ACTION, NC_CLOSED } nc_state_t;

/* Shipments, counts, interventions, non-conformities and labels. */
typedef struct {
    uint8_t format;
    uint8_t state;
    uint32_t count;                  /* units loaded, labels printed */
    char subject[EV_ID_LEN_MAX + 1]; /* the loom, the customer location */
    uint64_t since_seq;              /* the event that set the state */
} record_t;

/* One event being checked. */
typedef struct {
    eng_ledger_t *ledger;
    MDB_txn *txn;
    uint64_t seq;
    msgpack_object payload; /* a map */
    int code;               /* the refusal, 0 while the event stands */
    char *detail;
    size_t detail_size;
} rule_t;

extern const char *const eng__hu_status_names[]; /* by hu_status_t */
extern const char *const eng__of_state_names[];  /* by of_state_t */
extern const char *const eng__int_states[];      /* by int_state_t */
extern const char *const eng__nc_states[];       /* by nc_state_t */
extern const char *const eng__ship_states[];     /* by ship_state_t */
extern const char *const eng__count_states[];    /* by count_state_t */
extern const char *const eng__sublot_states[];   /* by sublot_state_t */

/* A bit mask of the states a transition may start from. */
#define FROM(state) (1u << (state))

/* Genealogy: "from" went into "to" (a roll into its bundles, a bundle into its carton, a carton
 * onto its pallet, a beam or a loom into the roll woven with it). Both directions are written,
 * so a pallet leads up to its rolls, looms and yarn lots, and a yarn lot down to its pallets:
 *   links  to 0x00 'u' 0x00 from  -> link_t      (and  from 0x00 'd' 0x00 to, but for
 *                                                   looms, orders and beams: see eng__link_add)
 * Names are entity keys ("hu-R1", "loom-L012", "beam-B4"). */
typedef struct {
    uint64_t seq;
    char kind[12]; /* "cut", "packed_in", "woven_on", "for_order", "warp", ... */
} link_t;

/* ---- rules.c: the refusal, payload access and the state tables */

/* Sets the refusal (code and detail) and returns 0: the event is refused, the batch goes on. */
int eng__refuse(rule_t *r, int code, const char *format, ...) __attribute__((format(printf, 3, 4)));
const msgpack_object *eng__member(const msgpack_object *map, const char *name);
bool eng__text(const msgpack_object *map, const char *name, char *out, size_t size);
bool eng__number(const msgpack_object *map, const char *name, int64_t *out);
uint8_t eng__grade(const msgpack_object *map);

int eng__hu_get(rule_t *r, const char *id, hu_t *out, bool *found);
int eng__hu_put(rule_t *r, const char *id, const hu_t *hu);
/* The unit named id; refused with FL_ERULE_HU_UNKNOWN when there is none. */
int eng__hu_known(rule_t *r, const char *id, hu_t *hu);
/* Writes hu and moves its stock from what it was (old, NULL for a new unit). */
int eng__hu_update(rule_t *r, const char *id, const hu_t *old, const hu_t *hu);
/* A unit that may move, be cut or packed; false with the refusal set otherwise. */
bool eng__hu_usable(rule_t *r, const char *id, const hu_t *hu, bool found);
size_t eng__stock_key(const hu_t *hu, uint8_t status, uint8_t out[STOCK_KEY_MAX]);
int eng__article_get(rule_t *r, const char *item, article_t *out);
/* Records keyed "<kind>-<id>" (orders, looms, beams, ...): fixed layouts, format byte first,
 * stored packed (rules.c). eng__state_unpack reads a stored value into a record of size bytes
 * (false when it is not one); eng__state_pack writes one, packed or (when that would not be
 * smaller) whole, at most ENG_STATE_PACKED_MAX(size) bytes. */
#define ENG_STATE_RECORD_MAX       1024
#define ENG_STATE_PACKED_MAX(size) (size) /* a record that would not shrink is stored whole */
_Static_assert(sizeof(hu_t) <= ENG_STATE_RECORD_MAX && sizeof(loom_t) <= ENG_STATE_RECORD_MAX &&
                   sizeof(order_t) <= ENG_STATE_RECORD_MAX &&
                   sizeof(beam_t) <= ENG_STATE_RECORD_MAX &&
                   sizeof(record_t) <= ENG_STATE_RECORD_MAX &&
                   sizeof(sublot_t) <= ENG_STATE_RECORD_MAX,
               "the state's records fit the packing's buffers");
bool eng__state_unpack(const MDB_val *value, void *record, size_t size);
size_t eng__state_pack(const void *record, size_t size, uint8_t *out, size_t out_size);
int eng__state_get(rule_t *r, MDB_dbi dbi, const char *kind, const char *id, void *out, size_t size,
                   bool *found);
int eng__state_put(rule_t *r, MDB_dbi dbi, const char *kind, const char *id, const void *record,
                   size_t size);
/* Writes the edge's 'u' key always and its 'd' key unless from is a loom, an order or a beam,
 * whose forward edges the genealogy walk finds from the events instead (eng__link_indexed). */
int eng__link_add(rule_t *r, const char *from, const char *to, const char *kind);
bool eng__link_indexed(const char *from);
/* Notes that the event changed a row of the state (ENG_ROW_*, the row's key as eng_changes
 * gives it); the row puts above call it themselves. */
int eng__changed(rule_t *r, uint8_t kind, const void *key, size_t len);
/* Membership, in the `children` table: group 0x00 id -> empty. Groups are entity names:
 * "hu-<container>" (its contents), "ship-<id>" (units loaded), "sublot-<id>" (units sent),
 * "count-<id>" (locations counted). */
int eng__member_set(rule_t *r, const char *group, const char *id, bool add);
int eng__member_has(rule_t *r, const char *group, const char *id, bool *found);
/* Calls fn for each member of group, in key order; fn may write to any table. Stops at the
 * first non-zero return or refusal. */
int eng__members_each(rule_t *r, const char *group,
                      int (*fn)(rule_t *r, const char *id, void *data), void *data);
/* Calls fn on a unit, then on everything it contains, depth first. Stops at the first non-zero
 * return or refusal. */
int eng__hu_visit(rule_t *r, const char *id,
                  int (*fn)(rule_t *r, const char *id, hu_t *hu, void *data), void *data);
/* An eng__hu_visit step: the unit moves to location (const char *)data, stock with it. */
int eng__hu_move_one(rule_t *r, const char *id, hu_t *hu, void *data);
/* Takes qty out of a unit (consumed when none is left): refused beyond what it holds. */
int eng__hu_take(rule_t *r, const char *id, hu_t *hu, int64_t qty);
/* The outputs of a cut or a split: new, distinct units; *sum gets their total quantity. */
int eng__cut_outputs_check(rule_t *r, const msgpack_object *outputs, int64_t *sum);
/* Reads the id at index i of an array of strings in the payload; false when it is not one. */
bool eng__id_at(const msgpack_object *array, uint32_t i, char *out, size_t size);

/* ---- the rules, one per event type with state effects (dispatch table in rules.c) */

/* rules.c */
int eng__rule_article(rule_t *r);

/* rules_units.c: handling units, quality, cutting, packing, moves, labels, material */
int eng__rule_hu_moved(rule_t *r);
int eng__rule_transfer_dispatched(rule_t *r);
int eng__rule_transfer_received(rule_t *r);
int eng__rule_scrapped(rule_t *r);
int eng__rule_voided(rule_t *r);
int eng__rule_split(rule_t *r);
int eng__rule_material_issued(rule_t *r);
int eng__rule_material_returned(rule_t *r);
int eng__rule_spare_part_issued(rule_t *r);
int eng__rule_label_printed(rule_t *r);
int eng__rule_label_reprinted(rule_t *r);
int eng__rule_hold(rule_t *r);
int eng__rule_release(rule_t *r);
int eng__rule_deviation(rule_t *r);
int eng__rule_reject(rule_t *r);
int eng__rule_hu_created(rule_t *r);
int eng__rule_cut(rule_t *r);
int eng__rule_packed(rule_t *r);
int eng__rule_palletized(rule_t *r);
int eng__rule_unpacked(rule_t *r);

/* rules_stock.c: shipments, subcontract lots, counts */
int eng__rule_shipment_planned(rule_t *r);
int eng__rule_shipment_loaded(rule_t *r);
int eng__rule_shipment_unloaded(rule_t *r);
int eng__rule_shipment_dispatched(rule_t *r);
int eng__rule_lot_sent(rule_t *r);
int eng__rule_lot_returned(rule_t *r);
int eng__rule_count_opened(rule_t *r);
int eng__rule_item_counted(rule_t *r);
int eng__rule_count_closed(rule_t *r);
int eng__rule_inventory_adjusted(rule_t *r);

/* rules_floor.c: orders, production, looms, beams, interventions, non-conformities */
int eng__rule_production(rule_t *r);
int eng__rule_order_created(rule_t *r);
int eng__rule_order_released(rule_t *r);
int eng__rule_order_closed(rule_t *r);
int eng__rule_order_cancelled(rule_t *r);
int eng__rule_loom_defined(rule_t *r);
int eng__rule_order_started(rule_t *r);
int eng__rule_order_ended(rule_t *r);
int eng__rule_first_piece(rule_t *r);
int eng__rule_loom_stopped(rule_t *r);
int eng__rule_loom_restarted(rule_t *r);
int eng__rule_beam_mounted(rule_t *r);
int eng__rule_beam_dismounted(rule_t *r);
int eng__rule_beam_registered(rule_t *r);
int eng__rule_order_revised(rule_t *r);
int eng__rule_int_requested(rule_t *r);
int eng__rule_int_acknowledged(rule_t *r);
int eng__rule_int_started(rule_t *r);
int eng__rule_int_paused(rule_t *r);
int eng__rule_int_resumed(rule_t *r);
int eng__rule_int_completed(rule_t *r);
int eng__rule_int_cancelled(rule_t *r);
int eng__rule_nc_opened(rule_t *r);
int eng__rule_nc_contained(rule_t *r);
int eng__rule_nc_action(rule_t *r);
int eng__rule_nc_closed(rule_t *r);
int eng__rule_operator_assigned(rule_t *r);
int eng__rule_operator_unassigned(rule_t *r);

#endif
