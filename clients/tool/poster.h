/*
 * poster.h: fouta-sim's --post, apart from its other outputs. The simulator's stream is posted
 * to foutad over several keep-alive connections while it is generated: at most window_events
 * events are held between the generator and the last answer, so a run of any length (a soak's
 * hour) holds a bounded memory. It can be paced - event i is not sent
 * before start + i / rate, the way a plant's phones post as things happen - and bounded in
 * time, and it can print a line per window of seconds (events, rate, request latency, how far
 * behind its schedule) for a soak to read. SIGINT and SIGTERM stop it as the time limit does:
 * no new event is taken, those in flight are answered, the totals are given.
 */
#ifndef FOUTA_SIM_POSTER_H
#define FOUTA_SIM_POSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "clients/sim/sim.h"

#define POSTER_CONNECTIONS_MAX       64
#define POSTER_WINDOW_EVENTS_DEFAULT 65536u /* generated and not yet all answered */
#define POSTER_WINDOW_EVENTS_MAX     (1u << 22)
#define POSTER_RATE_MAX              1000000u /* events per second */
#define POSTER_SECONDS_MAX           2592000u /* thirty days */

typedef struct {
    const char *url;
    uint32_t connections;    /* 1..POSTER_CONNECTIONS_MAX */
    uint32_t batch;          /* at most this many consecutive events of one actor a request */
    uint32_t rate;           /* events per second; 0: as fast as they are answered */
    uint32_t seconds;        /* no event taken after this long; 0: until the stream ends */
    uint32_t report_seconds; /* a "window=..." line on stdout this often, and a "total ..."
                              * line at the end; 0: none */
    uint32_t window_events;  /* 0: POSTER_WINDOW_EVENTS_DEFAULT; a small one makes the tests
                              * go round the ring and forget entities */
} poster_config_t;

typedef struct {
    uint64_t events; /* taken from the stream, each answered */
    uint64_t accepted, duplicate, refused;
    double seconds;
    bool ended;   /* the stream ran out */
    bool stopped; /* the time limit or a signal stopped it first */
} poster_totals_t;

/*
 * Generates the stream of sim_config and posts it as config says (signing in as each event's
 * role: FOUTA_PASSWORD, FOUTA_TENANT). Returns 0 when every event taken was answered - the
 * refusals are counted in *totals, not returned - or the error that stopped it: the
 * simulator's (FL_EINVAL, FL_ENOMEM), or a network error once the client's retries are spent
 * (-ECONNREFUSED, FL_ETIMEDOUT, FL_EIO, FL_EBUSY).
 */
int poster_run(const sim_config_t *sim_config, const poster_config_t *config,
               poster_totals_t *totals);

#endif
