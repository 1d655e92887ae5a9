/*
 * sim_out.c: where a simulated stream goes - NDJSON lines (one event and the actor to post it
 * as), or straight into a plant ledger through the catalog and eng_append, for volumes where
 * HTTP would only add time.
 */
#define _POSIX_C_SOURCE 200809L
#include "clients/sim/sim.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "events/events.h"

#define LEDGER_BATCH_DEFAULT 500

int sim_ndjson_line(const sim_event_t *event, char *out, size_t size)
{
    int len =
        snprintf(out, size, "{\"role\":\"%s\",\"user\":\"%s\",\"device\":\"%s\",\"event\":%s}\n",
                 event->role, event->user, event->device, event->json);
    if (len < 0 || (size_t)len >= size)
        return FL_ETOOBIG;
    return len;
}

int sim_write_ndjson(const sim_config_t *config, FILE *file, uint64_t *events_out)
{
    sim_t *sim;
    uint64_t events = 0;
    int rc = sim_open(&sim, config);
    if (rc != 0)
        goto done;
    char *line = malloc(EV_JSON_BYTES_MAX + 512);
    if (line == NULL) {
        rc = FL_ENOMEM;
        goto fail_sim;
    }
    sim_event_t event;
    while ((rc = sim_next(sim, &event)) == 0) {
        int len = sim_ndjson_line(&event, line, EV_JSON_BYTES_MAX + 512);
        if (len < 0) {
            rc = len;
            break;
        }
        if (fwrite(line, 1, (size_t)len, file) != (size_t)len) {
            rc = FL_EIO;
            break;
        }
        events++;
    }
    if (rc == FL_EEOF)
        rc = fflush(file) == 0 ? 0 : FL_EIO;
    free(line);
fail_sim:
    sim_close(sim);
done:
    if (events_out != NULL)
        *events_out = events;
    return rc;
}

/* The actor of one event, copied: the simulator's strings change with each sim_next. */
typedef struct {
    char user[64], device[72];
    ev_actor_t actor;
} actor_copy_t;

typedef struct {
    ev_event_t *decoded;
    actor_copy_t *actors;
    eng_event_t *events;
    eng_position_t *positions;
    int *results;
    uint64_t *indexes; /* each event's index in the stream */
    char (*types)[64];
    uint32_t count;
} batch_t;

static void report_error(sim_report_t *report, uint64_t index, const char *type, int code,
                         const char *detail)
{
    report->refused++;
    if (report->first_error != 0)
        return;
    report->first_error = code;
    report->first_error_index = index;
    snprintf(report->first_error_type, sizeof(report->first_error_type), "%.63s", type);
    snprintf(report->first_error_detail, sizeof(report->first_error_detail), "%.255s", detail);
}

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
} waiter_t;

static void wake(eng_append_req_t *req, void *data)
{
    (void)req;
    waiter_t *waiter = data;
    pthread_mutex_lock(&waiter->lock);
    waiter->done = true;
    pthread_cond_signal(&waiter->cond);
    pthread_mutex_unlock(&waiter->lock);
}

/* Appends the batch (not atomic: each event stands alone) and reports each refusal, with the
 * rule's detail for the first one of the request. */
static int batch_flush(eng_ledger_t *ledger, batch_t *batch, sim_report_t *report)
{
    if (batch->count == 0)
        return 0;
    waiter_t waiter = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    eng_append_req_t req = {.events = batch->events,
                            .count = batch->count,
                            .positions = batch->positions,
                            .results = batch->results,
                            .cb = wake,
                            .data = &waiter};
    int rc = eng_append_submit(ledger, &req);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&waiter.lock);
    while (!waiter.done)
        pthread_cond_wait(&waiter.cond, &waiter.lock);
    pthread_mutex_unlock(&waiter.lock);
    if (req.status != 0 && req.status > FL_ERR_BASE)
        return req.status; /* the disk, the map, the ledger closing: not a refusal */
    for (uint32_t i = 0; i < batch->count; i++) {
        if (batch->results[i] == 0) {
            report->appended++;
            continue;
        }
        char detail[512];
        snprintf(detail, sizeof(detail), "%s: %s", fl_errname(batch->results[i]),
                 i == req.failed_index ? req.detail : "");
        report_error(report, batch->indexes[i], batch->types[i], batch->results[i], detail);
    }
    batch->count = 0;
    return 0;
}

static int batch_alloc(batch_t *batch, uint32_t size)
{
    batch->decoded = calloc(size, sizeof(*batch->decoded));
    batch->actors = calloc(size, sizeof(*batch->actors));
    batch->events = calloc(size, sizeof(*batch->events));
    batch->positions = calloc(size, sizeof(*batch->positions));
    batch->results = calloc(size, sizeof(*batch->results));
    batch->indexes = calloc(size, sizeof(*batch->indexes));
    batch->types = calloc(size, sizeof(*batch->types));
    batch->count = 0;
    return batch->decoded != NULL && batch->actors != NULL && batch->events != NULL &&
                   batch->positions != NULL && batch->results != NULL && batch->indexes != NULL &&
                   batch->types != NULL
               ? 0
               : FL_ENOMEM;
}

static void batch_free(batch_t *batch)
{
    free(batch->decoded);
    free(batch->actors);
    free(batch->events);
    free(batch->positions);
    free(batch->results);
    free(batch->indexes);
    free(batch->types);
}

/* Decodes one event into the batch as its role; a refusal is reported, not appended. */
static void batch_add(batch_t *batch, const sim_event_t *event, sim_report_t *report)
{
    uint32_t i = batch->count;
    actor_copy_t *copy = &batch->actors[i];
    snprintf(copy->user, sizeof(copy->user), "%s", event->user);
    snprintf(copy->device, sizeof(copy->device), "%s", event->device);
    copy->actor = (ev_actor_t){.user = copy->user,
                               .role = ev_role_parse(event->role, strlen(event->role)),
                               .device = copy->device};
    ev_error_t error;
    int rc = ev_decode_json(event->json, event->json_len, &copy->actor, &batch->decoded[i], &error);
    if (rc != 0) {
        char detail[512];
        snprintf(detail, sizeof(detail), "%s at %s: %s", fl_errname(rc), error.path, error.message);
        report_error(report, event->index, event->type, rc, detail);
        return;
    }
    eng_event_from_catalog(&batch->decoded[i], &copy->actor, &batch->events[i]);
    batch->indexes[i] = event->index;
    snprintf(batch->types[i], sizeof(batch->types[i]), "%.63s", event->type);
    batch->count++;
}

int sim_append_ledger(const sim_config_t *config, const char *dir, uint32_t batch_events,
                      sim_report_t *report)
{
    memset(report, 0, sizeof(*report));
    if (batch_events == 0)
        batch_events = LEDGER_BATCH_DEFAULT;
    if (batch_events > ENG_REQUEST_EVENTS_MAX)
        return FL_EINVAL;
    sim_t *sim;
    eng_ledger_t *ledger;
    batch_t batch;
    int rc = sim_open(&sim, config);
    if (rc != 0)
        return rc;
    eng_config_t ledger_config = {.dir = dir, .rules = ENG_RULES_PLANT};
    if ((rc = eng_open(&ledger, &ledger_config)) != 0)
        goto fail_sim;
    if ((rc = batch_alloc(&batch, batch_events)) != 0)
        goto fail_batch;
    sim_event_t event;
    while ((rc = sim_next(sim, &event)) == 0) {
        report->events++;
        batch_add(&batch, &event, report);
        if (batch.count == batch_events && (rc = batch_flush(ledger, &batch, report)) != 0)
            break;
    }
    if (rc == FL_EEOF)
        rc = batch_flush(ledger, &batch, report);
fail_batch:
    batch_free(&batch);
    eng_close(ledger);
fail_sim:
    sim_close(sim);
    return rc;
}
