/*
 * crash_poster.h: the clients of the crash tests (test_crash_http, test_crash_sinks). Each
 * posts its own events one by one as store_raw until the server is killed under it, counting
 * those it saw acknowledged; after the restart, the one in flight at the kill is posted again.
 */
#ifndef FL_TESTS_CLIENTS_CRASH_POSTER_H
#define FL_TESTS_CLIENTS_CRASH_POSTER_H

#include "tests/api/client.h"

#include "clients/client/client.h"

#define CRASH_EVENTS_MAX 20000 /* per poster and round: more than fit before the kill */

/* Event i of a poster whose event ids start at first_id, as JSON into out. */
typedef void (*crash_event_fn)(char *out, size_t size, unsigned first_id, unsigned i);

typedef struct {
    int port;
    unsigned first_id;    /* this poster's event ids: first_id, first_id + 1, ... */
    unsigned acked;       /* how many of them, in order, were acknowledged */
    crash_event_fn event; /* what it posts */
} crash_poster_t;

static inline fc_client_t *crash_client(int port, uint32_t retries_max)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    fc_config_t config = {
        .url = url, .role = "store_raw", .retries_max = retries_max, .timeout_ms = 2000};
    fc_client_t *client = NULL;
    return fc_open(&client, &config) == 0 ? client : NULL;
}

/* A thread's body: posts until a post fails (the server is gone). */
static inline void *crash_post_until_killed(void *arg)
{
    crash_poster_t *p = arg;
    fc_client_t *client = crash_client(p->port, 1);
    for (unsigned i = 0; client != NULL && i < CRASH_EVENTS_MAX; i++) {
        char event[1024];
        p->event(event, sizeof(event), p->first_id, i);
        fc_verdict_t verdict;
        if (fc_post_event(client, event, strlen(event), &verdict) != 0)
            break; /* the server is gone: this one's fate is unknown */
        p->acked = i + 1;
    }
    fc_close(client);
    return NULL;
}

/* The one in flight at the kill, posted again after the restart: recorded at most once (201
 * when the kill lost it, 200 when it was in). From then on it counts as acknowledged. */
static inline void crash_post_in_flight_again(crash_poster_t *p, int port)
{
    fc_client_t *client = crash_client(port, 0);
    cr_assert_not_null(client);
    char event[1024];
    p->event(event, sizeof(event), p->first_id, p->acked);
    fc_verdict_t verdict;
    cr_assert_eq(fc_post_event(client, event, strlen(event), &verdict), 0, "%s",
                 verdict.problem.message);
    cr_assert(verdict.status == 201 || verdict.status == 200);
    p->acked++;
    fc_close(client);
}

#endif
