/*
 * rep_int.h: what the files of reporting/ share, and nothing outside reporting/ includes: the
 * payload reader, the report's tables and the fold's state.
 */
#ifndef REP_INT_H
#define REP_INT_H

#include "reporting/reporting.h"

/* ---- mp.c: a payload's fields, read in place (no allocation) */

#define REP_FIELDS_MAX 24

typedef struct {
    const uint8_t *p, *end;
} rep_mp_t;

typedef struct {
    uint32_t count;
    const char *names[REP_FIELDS_MAX];
    uint32_t names_len[REP_FIELDS_MAX];
    rep_mp_t values[REP_FIELDS_MAX];
} rep_fields_t;

/* Reads a msgpack map's keys and where each value lies. false when it is not a map. */
bool rep__fields(const uint8_t *bytes, size_t len, rep_fields_t *out);
/* A field as text (not NUL-terminated), integer, boolean; false when absent or of another
 * kind. */
bool rep__str(const rep_fields_t *fields, const char *name, const char **text, size_t *len);
bool rep__int(const rep_fields_t *fields, const char *name, int64_t *value);
bool rep__bool(const rep_fields_t *fields, const char *name, bool *value);
/* An array field: *count items, the first at *items (advance with rep__mp_skip). */
bool rep__array(const rep_fields_t *fields, const char *name, rep_mp_t *items, uint32_t *count);
/* The extent of the value at the cursor; moves past it. false when malformed. */
bool rep__mp_skip(rep_mp_t *mp);
/* The value at the cursor as text; moves past it. */
bool rep__mp_str(rep_mp_t *mp, const char **text, size_t *len);

/* ---- the fold's tables (fold.c) */

/* A unit's or an event's place in each dimension: name indexes (0: none). */
typedef struct {
    uint32_t name[REP_BY_COUNT];
} rep_attr_t;

typedef struct {
    uint64_t hash; /* 0: a free slot */
    char text[REP_ID_LEN_MAX + 1];
} rep_name_t;

enum { STAGE_NONE = 0 }; /* else REP_WIP stage + 1 */

typedef struct {
    uint64_t hash; /* 0: a free slot */
    rep_attr_t attr;
    int64_t created_us, qty_milli;
    uint8_t stage;
    bool verdict; /* quality gave its first verdict */
} rep_unit_t;

typedef struct {
    uint32_t name;
    bool defined;
    int64_t nominal_ppm;
    int64_t last_us; /* time folded up to */
    bool stopped;
    int stop_class;
    int64_t stopped_us;
    bool picks_known;
    int64_t picks, picks_us;
    uint32_t order;
    uint32_t weavers[4];
    uint32_t beams[2];
    int64_t beam_off_us[2];
    /* over the period, for the beams' hours to beam-out */
    int64_t period_length_milli, period_scheduled_us;
} rep_loom_t;

typedef struct {
    bool defined;
    int64_t width_mm, repeat_mm, picks_per_cm_milli, pile_ratio_milli;
} rep_article_t;

#define REP_ASSIGN_MAX 4

typedef struct {
    uint32_t loom;
    uint32_t sequence;
    int64_t planned_milli, declared_milli;
    bool ended;
} rep_assign_t;

typedef struct {
    bool known;
    uint8_t state; /* 0 created, 1 released, 2 closed or cancelled */
    uint32_t item;
    int64_t planned_milli, declared_milli, due_us;
    rep_assign_t assign[REP_ASSIGN_MAX];
    uint32_t assign_count;
} rep_order_t;

typedef struct {
    bool known;
    rep_attr_t attr;
    int64_t requested_us, acknowledged_us, started_us, paused_us, paused_total_us;
} rep_int_t;

typedef struct {
    bool known, closed;
    rep_attr_t attr;
    int64_t opened_us;
} rep_nc_t;

typedef struct {
    bool known, pending;
    rep_attr_t attr;
    int64_t due_us, interval_us;
} rep_pm_t;

typedef struct {
    uint32_t loom; /* 0: not mounted */
    int position;
    int64_t mounted_milli, woven_milli;
} rep_beamstate_t;

typedef struct {
    uint32_t name;
    rep_attr_t attr;
    uint64_t units[24];
    uint32_t units_count;
} rep_sublot_t;

typedef struct {
    uint32_t name;
    int64_t start_us, end_us, break_us;
    bool cancelled;
} rep_shift_t;

typedef struct {
    int64_t occurrences, points;
} rep_defect_sum_t;

struct rep_report {
    eng_ledger_t *ledger;
    rep_query_t query;
    rep_result_t result;
    /* names, and the tables indexed by a name's index */
    rep_name_t *names;    /* REP_NAMES_MAX hash slots */
    uint32_t *name_slot;  /* index -> slot in names */
    uint32_t names_count; /* indexes 1..names_count are used */
    uint16_t *loom_of;    /* name -> loom index + 1 */
    uint32_t *slice_of;   /* name -> slice index + 1 */
    uint16_t *sublot_of;  /* name -> sublot index + 1 */
    uint8_t *weaver_seen; /* name -> declared production in the period */
    rep_article_t *articles;
    rep_order_t *orders;
    rep_int_t *ints;
    rep_nc_t *ncs;
    rep_pm_t *pms;
    rep_beamstate_t *beams;
    rep_defect_sum_t *defects;
    rep_unit_t *units; /* REP_UNITS_MAX hash slots */
    uint32_t units_count;
    rep_loom_t *looms;
    uint32_t looms_count;
    rep_sublot_t *sublots;
    uint32_t sublots_count;
    rep_shift_t *shifts;
    uint32_t shifts_count;
    uint32_t shift_hint;
    uint64_t *pairs; /* (slice << 32 | weaver) + 1, hash slots */
    rep_slice_t *slices;
    uint32_t slices_count;
    rep_defect_t *pareto;
    rep_beam_t *beam_list;
    /* the event being folded */
    int64_t t;
    bool in_period;
    rep_attr_t attr; /* the event's place, for its offline lag */
    bool attr_known;
};

/* The name's index (1...), made on first use; 0 when the table is full or text is empty. */
uint32_t rep__name(rep_report_t *report, const char *text, size_t len);
const char *rep__name_text(const rep_report_t *report, uint32_t name);
/* The slice of a name in the report's dimension, made on first use; NULL when full or none. */
rep_slice_t *rep__slice(rep_report_t *report, uint32_t name);
/* The shift whose time holds t (its name), 0 when none. */
uint32_t rep__shift_at(rep_report_t *report, int64_t t);
/* Scheduled time in [a, b): the calendar's shifts, breaks spread over each shift. */
typedef void (*rep_span_cb)(rep_report_t *report, uint32_t shift, int64_t scheduled_us, void *data);
void rep__calendar_spans(rep_report_t *report, int64_t a, int64_t b, rep_span_cb cb, void *data);
/* The moment at which scheduled_us of calendar time have passed after start. */
int64_t rep__calendar_advance(rep_report_t *report, int64_t start_us, int64_t scheduled_us);

/* Folds one record (fold.c's dispatch). */
void rep__fold(rep_report_t *report, const eng_record_t *record);
/* After the last record: time up to the period's end, WIP, open NCs, PM due, beams. */
void rep__fold_end(rep_report_t *report);
/* Calendar events of the first pass. */
void rep__calendar_event(rep_report_t *report, const eng_record_t *record);
void rep__calendar_sort(rep_report_t *report);

uint64_t rep__hash(const char *text, size_t len);

#endif
