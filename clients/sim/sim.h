/*
 * sim: a seeded plant simulator. It generates the event stream of a towel-weaving plant of N
 * looms over D days, as the role apps would post it: master data, yarn received, warp beams
 * wound and mounted (and changed when they run out), orders created, released, started on
 * looms and closed, first pieces, shifts with weavers on several looms, weaving with stops and
 * breakdowns (interventions through their whole state machine), cutting into grades, quality
 * verdicts (holds, releases, rejections and scrap), non-conformities, subcontract lots sent and
 * returned, packing, palletizing, shipments, and weekly counts with their adjustments.
 *
 * The simulator keeps the plant's state it needs so that every event passes the catalog and
 * every plant rule of the engine when the stream is appended in order. It is deterministic: the
 * same seed and parameters give the same events byte for byte, ids included (UUIDs are derived
 * from the seed, occurred_at from a simulated clock, never from the host's clock or random
 * source).
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/base.h"

#define SIM_LOOMS_MAX        500
#define SIM_DAYS_MAX         3660               /* ten years: a soak posts for hours */
#define SIM_START_US_DEFAULT 1772409600000000LL /* 2026-03-02 00:00 UTC */

typedef struct {
    uint64_t seed;
    uint32_t looms;   /* 1..SIM_LOOMS_MAX */
    uint32_t days;    /* 1..SIM_DAYS_MAX */
    int64_t start_us; /* midnight UTC of the first day; 0: SIM_START_US_DEFAULT */
} sim_config_t;

/* One generated event and who posts it. Pointers stay valid until the next sim_next or
 * sim_close. */
typedef struct {
    uint64_t index;     /* 0, 1, 2... in the stream */
    const char *type;   /* "ProductionDeclared" */
    const char *role;   /* a catalog role: "weaver" */
    const char *user;   /* "W-A-01" */
    const char *device; /* "dev-W-A-01" */
    const char *json;   /* the event as posted: {"id","type","occurred_at_us","payload"} */
    size_t json_len;
    int64_t occurred_at_us;
} sim_event_t;

typedef struct sim sim_t;

/* Starts a simulation. Errors: FL_EINVAL (looms or days out of range), FL_ENOMEM. */
int sim_open(sim_t **out, const sim_config_t *config);

/* The next event: 0 and *out filled, FL_EEOF after the last day, FL_ENOMEM. */
int sim_next(sim_t *sim, sim_event_t *out);

/* Accepts NULL. */
void sim_close(sim_t *sim);

/* Writes one NDJSON line for an event (with its newline):
 *   {"role":"weaver","user":"W-A-01","device":"dev-W-A-01","event":{...}}
 * Returns the length, or FL_ETOOBIG when size is short. */
int sim_ndjson_line(const sim_event_t *event, char *out, size_t size);

/* Writes the whole stream as NDJSON to file. *events_out (may be NULL) gets the count.
 * Errors: those of sim_open and sim_next, FL_EIO when writing fails. */
int sim_write_ndjson(const sim_config_t *config, FILE *file, uint64_t *events_out);

/* What an append of the stream to a ledger found. */
typedef struct {
    uint64_t events;   /* generated */
    uint64_t appended; /* accepted (new or duplicate) */
    uint64_t refused;
    int first_error;              /* the code of the first refusal, 0 when none */
    uint64_t first_error_index;   /* its index in the stream */
    char first_error_type[64];    /* its type */
    char first_error_detail[256]; /* its field and message, or the rule's detail */
} sim_report_t;

/*
 * Appends the stream to the plant ledger in dir (created if missing), through the catalog
 * (ev_decode_json as the event's role) and eng_append, in order, in requests of up to
 * batch_events events (0: 500) kept a few in flight. Every event is decoded and checked; a
 * refusal is counted in the report and the rest goes on. Returns 0 (refusals are in the
 * report, not in the return value) or an error opening or writing the ledger: FL_EINVAL,
 * FL_ENOMEM, FL_EACCES, FL_ENOSPC, FL_EIO, FL_ECANCELED.
 */
int sim_append_ledger(const sim_config_t *config, const char *dir, uint32_t batch_events,
                      sim_report_t *report);

#endif
