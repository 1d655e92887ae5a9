/*
 * sim_int.h: what the simulator's files share - its random source, the JSON writer of events,
 * the task queue of the simulated clock, and the plant state it tracks (units, looms, beams,
 * orders, interventions, NCs, lots, shipments). Nothing outside clients/sim includes it.
 */
#ifndef SIM_SIM_INT_H
#define SIM_SIM_INT_H

#include "clients/sim/sim.h"

#include <stdarg.h>

#define SIM_ID_LEN               24
#define MINUTE_US                60000000LL
#define HOUR_US                  (60 * MINUTE_US)
#define DAY_US                   (24 * HOUR_US)
#define MILLI                    1000
#define ROLL_LENGTH_MM           50000 /* a woven roll is 50 m */
#define LOOMS_PER_WEAVER         4
#define BUNDLES_PER_CARTON       2
#define CARTONS_PER_PALLET       6
#define PALLETS_PER_SHIPMENT_MAX 8
#define SUBLOT_BUNDLES_MAX       6
#define YARN_LOT_KG              1000
#define SPARE_LOT_PCS            200

/* Locations (LocationDefined at the start). */
enum {
    LOC_MP1,
    LOC_BEAMS,
    LOC_WEAVING,
    LOC_CUT,
    LOC_FG,
    LOC_DOCK,
    LOC_SPARES,
    LOC_SUB_BRODERIE,
    LOC_SUB_OURLET,
    LOC_CUST1,
    LOC_CUST2,
    LOC_CUST3,
    LOC_COUNT
};

/* Materials (ItemDefined). */
enum { ITEM_GROUND, ITEM_PILE, ITEM_WEFT, ITEM_PICKER, ITEM_HEALD, ITEM_COUNT };

enum { ARTICLE_COUNT = 3 };

typedef struct {
    const char *id, *name;
    int width_mm, repeat_mm, gsm;
    int64_t picks_per_cm_milli, pile_ratio_milli;
    bool first_piece_required;
    int tolerance_permille, overproduction_permille, pieces_per_carton;
} sim_article_t;

extern const sim_article_t sim__articles[ARTICLE_COUNT];
extern const char *const sim__loc_ids[LOC_COUNT];
extern const char *const sim__item_ids[ITEM_COUNT];

/* Handling units as the engine sees them. */
enum { HK_YARN, HK_SPARE, HK_ROLL, HK_BUNDLE, HK_CARTON, HK_PALLET };
enum { ST_AVAILABLE, ST_ON_HOLD, ST_RELEASED, ST_REJECTED, ST_CONSUMED, ST_SHIPPED };
enum { HOLDER_NONE, HOLDER_SUBLOT, HOLDER_SHIP };

typedef struct {
    char id[SIM_ID_LEN];
    uint8_t kind, status, grade; /* grade: 0 none, 1 first, 2 second */
    uint8_t holder;
    int16_t item;   /* ITEM_* for yarn and spares, the article for the rest */
    int16_t loc;    /* LOC_* */
    int32_t parent; /* unit index, -1 when loose */
    int32_t loom;   /* the loom that wove a roll or its bundles, -1 */
    int32_t nc;     /* the NC behind a hold, -1 */
    int64_t qty;    /* thousandths */
    int64_t out;    /* yarn issued to the floor and not returned */
    int64_t since_us;
    bool inspected;
} sim_hu_t;

/* Loom phases: what its next task does. */
enum { PH_ORDER, PH_ROLL, PH_STOP, PH_RESTART, PH_WAIT_MECHANIC, PH_BEAM, PH_PM, PH_PM_DONE };

typedef struct {
    char id[16];
    int phase;
    int order;        /* index in orders, -1 */
    int beam[2];      /* ground, pile: beam indices, -1 */
    int weaver;       /* the weaver in charge: team * weavers + number, -1 */
    int weft;         /* the yarn unit feeding it, -1 */
    int64_t woven_mm; /* on the roll being woven */
    int64_t picks;    /* the cumulative pick counter */
    int64_t run_since_us;
    int64_t next_pm_us;
    int ppm;
    int efficiency_permille;
    bool first_piece_passed;
} sim_loom_t;

typedef struct {
    char id[SIM_ID_LEN];
    int position; /* 0 ground, 1 pile */
    int64_t remaining_mm;
} sim_beam_t;

typedef struct {
    char id[SIM_ID_LEN];
    int article;
    int loom;
    int64_t planned, declared; /* thousandths of pieces */
    bool closed;
} sim_order_t;

typedef struct {
    char id[SIM_ID_LEN];
    int loom;
    int step; /* 0 requested, 1 acknowledged, 2 started, 3 paused, 4 done */
    bool pauses;
    int part; /* spare-part unit issued during the pause, -1 */
} sim_int_t;

typedef struct {
    char id[SIM_ID_LEN];
    int step; /* 0 open, 1 contained, 2 corrective action, 3 closed */
    int64_t since_us;
    int hus[4];
    int hus_count;
    int loom;
} sim_nc_t;

typedef struct {
    char id[SIM_ID_LEN];
    int sub; /* 0 BRODERIE, 1 OURLET */
    int hus[SUBLOT_BUNDLES_MAX];
    int hus_count;
    int64_t sent, out;
    int64_t back_us;
    int returns_left;
    bool closed;
} sim_sublot_t;

/* A growing array of elements of one type. */
typedef struct {
    void *data;
    size_t count, capacity, size;
} sim_vec_t;

typedef struct {
    char *data;
    size_t len, capacity;
    bool oom;
} sim_buf_t;

/* A task of the simulated clock. */
enum { T_DAY, T_SHIFT, T_LOOM, T_INT, T_CUT, T_QC, T_FG, T_SUB, T_SHIP, T_COUNT_TASK };

typedef struct {
    int64_t at_us;
    uint64_t order; /* ties in time keep the order of scheduling */
    int kind;
    int index;
} sim_task_t;

/* A queued event: offsets into sim->text, made pointers when handed out. */
typedef struct {
    size_t offset, len;
    const char *type, *role, *user;
    int64_t occurred_at_us;
} sim_queued_t;

#define SIM_TEAMS 3

struct sim {
    sim_config_t config;
    uint64_t rng;
    uint64_t id_counter;
    uint64_t next_index;
    int64_t now_us, end_us;
    uint64_t task_order;
    sim_vec_t tasks; /* a binary min-heap of sim_task_t */
    /* The events of the current fill. */
    sim_buf_t text;
    sim_vec_t queue; /* sim_queued_t */
    size_t queue_head;
    char device[64];
    char shift_id[48]; /* the shift on duty */
    /* The event being written. */
    sim_buf_t event;
    bool first_member[8];
    int depth;
    const char *event_type, *event_role, *event_user;
    /* The plant. */
    sim_vec_t hus, looms, beams, orders, ints, ncs, sublots;
    sim_vec_t materials; /* int: the yarn and spare-part units' indexes, in order (their kind
                          * never changes): what sim__yarn_take looks through, not every unit */
    int weavers_per_team;
    int team; /* the shift's team, -1 before the first shift */
    int64_t last_ship_us;
    uint32_t rolls, cartons, pallets, ships, counts, prs, returns, shifts_done;
    size_t cut_cursor; /* units below it are no rolls waiting for cutting */
    bool eof;
    int error;
};

/* ---- sim.c */
uint64_t sim__rand(sim_t *sim);
uint32_t sim__dice(sim_t *sim, uint32_t below);              /* 0..below-1 */
int64_t sim__between(sim_t *sim, int64_t low, int64_t high); /* low..high */
bool sim__chance(sim_t *sim, uint32_t per_mille);

void *sim__vec_push(sim_t *sim, sim_vec_t *vec); /* a zeroed new element, NULL when out of memory */
#define SIM_AT(vec, type, i) (&((type *)(vec).data)[(i)])

void sim__schedule(sim_t *sim, int64_t at_us, int kind, int index);

/* Writing one event: begin, members, end. Keys are plain ASCII; values are escaped. */
void sim__begin(sim_t *sim, const char *type, const char *role, const char *user);
void sim__str(sim_t *sim, const char *key, const char *format, ...);
void sim__int(sim_t *sim, const char *key, int64_t value);
void sim__bool(sim_t *sim, const char *key, bool value);
void sim__open(sim_t *sim, const char *key, char bracket); /* key NULL inside an array */
void sim__close(sim_t *sim, char bracket);
void sim__item_str(sim_t *sim, const char *value); /* a string in an array */
void sim__end(sim_t *sim);

/* The actors. */
const char *sim__weaver(sim_t *sim, int loom);
const char *sim__user(int role_index, int number); /* see sim.c's table */
enum {
    U_ADMIN,
    U_MANAGER,
    U_CUTTER,
    U_MECHANIC,
    U_STORE_RAW,
    U_STORE_FINISHED,
    U_STORE_SUB,
    U_QUALITY
};

/* Units. */
int sim__hu_new(sim_t *sim, int kind, int item, int loc, int64_t qty, const char *format, ...);
sim_hu_t *sim__hu(sim_t *sim, int index);
void sim__label(sim_t *sim, int hu, const char *role, const char *user);
int sim__yarn_take(sim_t *sim, int item,
                   int64_t qty_milli); /* a lot holding qty, received if need be */

/* ---- sim_floor.c */
void sim__loom_task(sim_t *sim, int loom);
void sim__int_task(sim_t *sim, int intervention);
void sim__shift_task(sim_t *sim);

/* ---- sim_flow.c */
void sim__cut_task(sim_t *sim);
void sim__qc_task(sim_t *sim);
void sim__fg_task(sim_t *sim);
void sim__sub_task(sim_t *sim);
void sim__ship_task(sim_t *sim);
void sim__count_task(sim_t *sim);

#endif
