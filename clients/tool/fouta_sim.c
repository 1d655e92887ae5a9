/*
 * fouta-sim: a simulated plant's events (fl_sim) as NDJSON on stdout or in a file, appended
 * straight into a ledger directory, or posted to foutad over several connections. Posting in
 * parallel keeps every event after those it depends on: an event waits until every earlier
 * event naming one of its units, orders, looms, beams or records has been answered (master
 * data waits for everything before it), so concurrent connections never reorder a unit's life.
 * A batch takes the next events of one actor while each has all its dependencies answered, or
 * all of them inside the batch (the server applies a batch in order).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/client/client.h"
#include "clients/sim/sim.h"
#include "events/events.h"

#define CONNECTIONS_MAX 64
#define BATCH_DEFAULT   100

static const char usage[] =
    "usage: fouta-sim [--seed N] [--looms N] [--days D] [--start-us US] [OUTPUT]\n"
    "  OUTPUT, one of:\n"
    "    (none)                  NDJSON on stdout: {\"role\",\"user\",\"device\",\"event\"} a "
    "line\n"
    "    --out FILE              NDJSON into FILE\n"
    "    --ledger DIR [--batch N]   appended to the plant ledger in DIR (eng_append through the\n"
    "                            catalog and the plant rules), for big volumes\n"
    "    --post URL [--connections C] [--batch N]   posted to foutad, C connections (default 4),\n"
    "                            batches of up to N events of one actor (default 100)\n"
    "  defaults: --seed 1 --looms 12 --days 7; same seed and parameters, same events\n";

typedef struct {
    char *json;
    size_t len;
    char user[64], role[32], device[72];
    uint64_t after; /* index + 1 of the last earlier event it depends on, 0 for none */
    uint64_t first; /* index + 1 of the first one */
} pending_t;

typedef struct {
    pending_t *events;
    size_t count;
    const char *url;
    uint32_t batch;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t next;      /* the first event no connection has taken */
    size_t watermark; /* every event below it is answered */
    bool *answered;
    uint64_t accepted, duplicate, refused;
    int error;
} poster_t;

/* ---- dependencies */

typedef struct {
    char name[EV_NAME_LEN_MAX + 1];
    uint64_t last; /* index + 1 */
} entity_t;

typedef struct {
    entity_t *slots;
    size_t capacity, used;
} entities_t;

static uint64_t hash_name(const char *name)
{
    uint64_t h = 1469598103934665603ull;
    for (; *name != '\0'; name++)
        h = (h ^ (uint8_t)*name) * 1099511628211ull;
    return h;
}

static entity_t *entity_slot(entities_t *table, const char *name)
{
    if (table->used * 2 >= table->capacity) {
        entities_t bigger = {.capacity = table->capacity != 0 ? table->capacity * 2 : 1024};
        bigger.slots = calloc(bigger.capacity, sizeof(*bigger.slots));
        if (bigger.slots == NULL)
            return NULL;
        for (size_t i = 0; i < table->capacity; i++)
            if (table->slots[i].name[0] != '\0') {
                entity_t *slot = entity_slot(&bigger, table->slots[i].name);
                slot->last = table->slots[i].last;
            }
        free(table->slots);
        *table = bigger;
    }
    size_t i = hash_name(name) & (table->capacity - 1);
    while (table->slots[i].name[0] != '\0' && strcmp(table->slots[i].name, name) != 0)
        i = (i + 1) & (table->capacity - 1);
    if (table->slots[i].name[0] == '\0') {
        snprintf(table->slots[i].name, sizeof(table->slots[i].name), "%s", name);
        table->used++;
    }
    return &table->slots[i];
}

/* Master data (articles, locations, defect codes, subcontractors, users) are barriers. */
static bool is_barrier(const char *stream)
{
    static const char *const kinds[] = {"item-", "loc-", "defect-", "sub-", "user-"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strncmp(stream, kinds[i], strlen(kinds[i])) == 0)
            return true;
    return false;
}

static bool orders_others(const char *entity)
{
    static const char *const kinds[] = {"hu-", "of-",    "loom-", "beam-",   "int-",
                                        "nc-", "count-", "ship-", "sublot-", "pr-"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strncmp(entity, kinds[i], strlen(kinds[i])) == 0)
            return true;
    return false;
}

static int dependencies(pending_t *events, size_t count)
{
    static ev_event_t decoded;
    entities_t table = {0};
    uint64_t barrier = 0;
    for (size_t i = 0; i < count; i++) {
        ev_actor_t actor = {.user = events[i].user,
                            .role = ev_role_parse(events[i].role, strlen(events[i].role)),
                            .device = events[i].device};
        ev_error_t error;
        uint64_t after = barrier, first = barrier;
        if (ev_decode_json(events[i].json, events[i].len, &actor, &decoded, &error) != 0 ||
            is_barrier(decoded.stream)) {
            after = i; /* everything before it */
            first = i > 0 ? 1 : 0;
            barrier = i + 1;
        } else {
            for (uint32_t e = 0; e < decoded.entities_count; e++) {
                if (!orders_others(decoded.entities[e]))
                    continue;
                entity_t *slot = entity_slot(&table, decoded.entities[e]);
                if (slot == NULL) {
                    free(table.slots);
                    return FL_ENOMEM;
                }
                if (slot->last > after)
                    after = slot->last;
                if (slot->last != 0 && (first == 0 || slot->last < first))
                    first = slot->last;
                slot->last = i + 1;
            }
        }
        events[i].after = after;
        events[i].first = first;
    }
    free(table.slots);
    return 0;
}

/* ---- posting */

static bool same_actor(const pending_t *a, const pending_t *b)
{
    return strcmp(a->user, b->user) == 0 && strcmp(a->role, b->role) == 0;
}

static void *post_main(void *arg)
{
    poster_t *p = arg;
    fc_config_t config = {.url = p->url};
    fc_client_t *client = NULL;
    const char **texts = calloc(p->batch, sizeof(*texts));
    size_t *lens = calloc(p->batch, sizeof(*lens));
    fc_verdict_t *verdicts = calloc(p->batch, sizeof(*verdicts));
    int rc =
        texts != NULL && lens != NULL && verdicts != NULL ? fc_open(&client, &config) : FL_ENOMEM;
    pthread_mutex_lock(&p->lock);
    if (rc != 0)
        p->error = rc;
    while (p->error == 0 && p->next < p->count) {
        size_t start = p->next;
        if (p->events[start].after > p->watermark) {
            pthread_cond_wait(&p->cond, &p->lock);
            continue;
        }
        size_t end = start + 1;
        while (end < p->count && end - start < p->batch &&
               same_actor(&p->events[start], &p->events[end]) &&
               (p->events[end].after <= p->watermark || p->events[end].first > start))
            end++;
        p->next = end;
        pthread_mutex_unlock(&p->lock);
        for (size_t i = start; i < end; i++) {
            texts[i - start] = p->events[i].json;
            lens[i - start] = p->events[i].len;
        }
        fc_set_actor(client, p->events[start].user, p->events[start].role, p->events[start].device);
        rc = fc_post_batch(client, texts, lens, (uint32_t)(end - start), verdicts);
        pthread_mutex_lock(&p->lock);
        if (rc != 0 && verdicts[0].problem.status == 0) {
            p->error = rc;
            break;
        }
        for (size_t i = start; i < end; i++) {
            const fc_verdict_t *v = &verdicts[i - start];
            if (v->rc != 0 && p->refused++ == 0)
                fprintf(stderr, "fouta-sim: event %zu refused: %s at %s: %s\n", i, v->problem.code,
                        v->problem.field, v->problem.message);
            p->accepted += v->rc == 0 && !v->duplicate;
            p->duplicate += v->rc == 0 && v->duplicate;
            p->answered[i] = true;
        }
        while (p->watermark < p->count && p->answered[p->watermark])
            p->watermark++;
        pthread_cond_broadcast(&p->cond);
    }
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    fc_close(client);
    free(texts);
    free(lens);
    free(verdicts);
    return NULL;
}

static int load(const sim_config_t *config, pending_t **out, size_t *count)
{
    sim_t *sim;
    int rc = sim_open(&sim, config);
    if (rc != 0)
        return rc;
    size_t capacity = 1024;
    pending_t *events = malloc(capacity * sizeof(*events));
    sim_event_t event;
    *count = 0;
    while (events != NULL && (rc = sim_next(sim, &event)) == 0) {
        if (*count == capacity) {
            pending_t *bigger = realloc(events, 2 * capacity * sizeof(*events));
            if (bigger == NULL)
                break;
            events = bigger;
            capacity *= 2;
        }
        pending_t *p = &events[(*count)++];
        memset(p, 0, sizeof(*p));
        p->json = strdup(event.json);
        p->len = event.json_len;
        snprintf(p->user, sizeof(p->user), "%s", event.user);
        snprintf(p->role, sizeof(p->role), "%s", event.role);
        snprintf(p->device, sizeof(p->device), "%s", event.device);
        if (p->json == NULL)
            break;
    }
    sim_close(sim);
    *out = events;
    return rc == FL_EEOF ? 0 : rc != 0 ? rc : FL_ENOMEM;
}

static int post(const sim_config_t *config, const char *url, uint32_t connections, uint32_t batch)
{
    poster_t p = {.url = url, .batch = batch};
    int rc = load(config, &p.events, &p.count);
    if (rc == 0)
        rc = dependencies(p.events, p.count);
    p.answered = calloc(p.count + 1, sizeof(*p.answered));
    if (rc == 0 && p.answered == NULL)
        rc = FL_ENOMEM;
    uint64_t started = fl_mono_ns();
    if (rc == 0) {
        pthread_t threads[CONNECTIONS_MAX];
        pthread_mutex_init(&p.lock, NULL);
        pthread_cond_init(&p.cond, NULL);
        for (uint32_t i = 0; i < connections; i++)
            pthread_create(&threads[i], NULL, post_main, &p);
        for (uint32_t i = 0; i < connections; i++)
            pthread_join(threads[i], NULL);
        pthread_mutex_destroy(&p.lock);
        pthread_cond_destroy(&p.cond);
        rc = p.error;
    }
    double seconds = (double)(fl_mono_ns() - started) / 1e9;
    fprintf(stderr,
            "fouta-sim: %zu events: %llu accepted, %llu already recorded, %llu refused in %.1f s "
            "(%.0f events/s, %u connections)\n",
            p.count, (unsigned long long)p.accepted, (unsigned long long)p.duplicate,
            (unsigned long long)p.refused, seconds, seconds > 0 ? (double)p.count / seconds : 0.0,
            connections);
    for (size_t i = 0; p.events != NULL && i < p.count; i++)
        free(p.events[i].json);
    free(p.events);
    free(p.answered);
    if (rc != 0)
        fprintf(stderr, "fouta-sim: %s\n", fl_strerror(rc));
    return rc != 0 ? 2 : p.refused > 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    sim_config_t config = {.seed = 1, .looms = 12, .days = 7};
    const char *out = NULL, *ledger = NULL, *url = NULL;
    uint32_t connections = 4, batch = 0;
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (value == NULL) {
            fputs(usage, stderr);
            return 2;
        }
        i++;
        if (strcmp(argv[i - 1], "--seed") == 0)
            config.seed = strtoull(value, NULL, 10);
        else if (strcmp(argv[i - 1], "--looms") == 0)
            config.looms = (uint32_t)strtoul(value, NULL, 10);
        else if (strcmp(argv[i - 1], "--days") == 0)
            config.days = (uint32_t)strtoul(value, NULL, 10);
        else if (strcmp(argv[i - 1], "--start-us") == 0)
            config.start_us = strtoll(value, NULL, 10);
        else if (strcmp(argv[i - 1], "--out") == 0)
            out = value;
        else if (strcmp(argv[i - 1], "--ledger") == 0)
            ledger = value;
        else if (strcmp(argv[i - 1], "--post") == 0)
            url = value;
        else if (strcmp(argv[i - 1], "--connections") == 0)
            connections = (uint32_t)strtoul(value, NULL, 10);
        else if (strcmp(argv[i - 1], "--batch") == 0)
            batch = (uint32_t)strtoul(value, NULL, 10);
        else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (connections < 1 || connections > CONNECTIONS_MAX || batch > FC_BATCH_EVENTS_MAX) {
        fprintf(stderr, "fouta-sim: --connections 1..%d, --batch 1..%d\n", CONNECTIONS_MAX,
                FC_BATCH_EVENTS_MAX);
        return 2;
    }
    if (url != NULL)
        return post(&config, url, connections, batch != 0 ? batch : BATCH_DEFAULT);
    if (ledger != NULL) {
        sim_report_t report;
        int rc = sim_append_ledger(&config, ledger, batch, &report);
        fprintf(stderr, "fouta-sim: %llu events, %llu appended, %llu refused\n",
                (unsigned long long)report.events, (unsigned long long)report.appended,
                (unsigned long long)report.refused);
        if (report.refused > 0)
            fprintf(stderr, "fouta-sim: first refused: #%llu %s %s\n",
                    (unsigned long long)report.first_error_index, report.first_error_type,
                    report.first_error_detail);
        if (rc != 0)
            fprintf(stderr, "fouta-sim: %s\n", fl_strerror(rc));
        return rc != 0 ? 2 : report.refused > 0 ? 1 : 0;
    }
    FILE *file = out != NULL ? fopen(out, "w") : stdout;
    if (file == NULL) {
        perror(out);
        return 2;
    }
    uint64_t events;
    int rc = sim_write_ndjson(&config, file, &events);
    if (file != stdout && fclose(file) != 0 && rc == 0)
        rc = FL_EIO;
    if (rc != 0)
        fprintf(stderr, "fouta-sim: %s\n", fl_strerror(rc));
    return rc != 0 ? 2 : 0;
}
