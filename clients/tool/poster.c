/*
 * poster.c: fouta-sim's --post (poster.h). Posting in parallel keeps every event after those it
 * depends on: an event is sent only once every earlier event naming one of its units, orders,
 * looms, beams or records has been answered, and master data (articles, locations, defect
 * codes, subcontractors, users) once everything before it has been, with everything after it
 * waiting for it; so concurrent connections never reorder a unit's life, while events of
 * unrelated units overtake one another as a plant's phones do. A batch takes the next events of
 * one actor while each has its dependencies answered or inside the batch (the server applies a
 * batch in order), and, when paced, while each one's time has come.
 *
 * The stream lives in a ring of window_events slots: event i in slot i % window_events. The
 * poster that finds no event ready generates the next ones outside the lock, into slots whose
 * previous events are all answered; the table of entities that orders events forgets the ones
 * whose last event is answered whenever it would grow, so it stays the size of the window too.
 *
 * One poster at a time, the head, looks for the first event not taken whose dependencies are
 * answered and whose time has come (at most SCAN_EVENTS past the first not taken), waits for
 * one, and takes it; the others wait for their turn. Waking every poster at each answer, as one
 * condition for all did, spent most of the tool's CPU in context switches (perf: 58% at 900
 * events/s on eight connections). Taking events strictly in stream order held the mix at about
 * 2,000 events/s whatever the connections: each event waited for all the earlier ones.
 */
#define _POSIX_C_SOURCE 200809L
#include "clients/tool/poster.h"

#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clients/client/client.h"
#include "events/events.h"

#define GENERATE_EVENTS  512  /* generated at a time by a poster that finds none ready */
#define SCAN_EVENTS      4096 /* how far past the first event not taken the head looks */
#define DEPS_MAX         (EV_ENTITIES_MAX + 1) /* an event's entities and the last barrier */
#define ENTITIES_INITIAL 1024                  /* slots of the entity table; it stays half empty */
#define WAIT_SLICE_NS    100000000ull /* a wait looks at the time limit and signals this often */
#define SAMPLES_MAX      (1u << 20)   /* request latencies kept per report window */
#define NS_PER_S         1000000000ull
#define NS_PER_US        1000ull

typedef struct {
    char *json; /* malloc'd, freed when its slot is reused */
    size_t len;
    char user[64], role[32], device[72];
    uint64_t deps[DEPS_MAX]; /* index + 1 of each earlier event it waits for */
    uint32_t deps_count;
    bool barrier; /* master data: waits for every earlier event */
    bool taken;   /* sent, or in a batch being sent */
    bool answered;
} pending_t;

typedef struct {
    char name[EV_NAME_LEN_MAX + 1];
    uint64_t last; /* index + 1 of the last event naming it */
} entity_t;

typedef struct {
    entity_t *slots;
    size_t capacity, used;
} entities_t;

/* What happened since the last report. */
typedef struct {
    uint64_t events, accepted, duplicate, refused, requests;
    uint64_t behind_ns_max; /* the latest an event was taken after its time */
    uint32_t *samples;      /* each request's latency, microseconds */
    uint32_t samples_count;
} window_t;

typedef struct {
    const poster_config_t *config;
    fc_tokens_t *tokens; /* the connections' sign-ins, one per role for all */
    /* The generator's: only the head poster touches them, the lock released. */
    sim_t *sim;
    entities_t entities;
    uint64_t barrier; /* index + 1 of the last master-data event */
    pending_t *ring;
    uint32_t window_events; /* the ring's slots */
    /* The rest under the lock. */
    pthread_mutex_t lock;
    pthread_cond_t ready;    /* the head: an answer moved the watermark, or the end */
    pthread_cond_t turn;     /* the others: the head took its batch, or the end */
    pthread_cond_t finished; /* the main thread: the last poster is done */
    bool head_waiting;       /* a poster is the head */
    bool ended, stopping;
    uint64_t loaded;    /* events generated: [watermark, loaded) are in the ring */
    uint64_t next;      /* the first event no connection has taken (later ones may be) */
    uint64_t watermark; /* every event below it is answered */
    uint64_t start_ns, stop_ns;
    uint32_t running; /* posters not yet finished */
    int error;
    poster_totals_t totals;
    window_t window;
} run_t;

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int signal_number)
{
    (void)signal_number;
    stop_signal = 1;
}

static uint64_t mono_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * NS_PER_S + (uint64_t)now.tv_nsec;
}

static pending_t *slot(const run_t *run, uint64_t index)
{
    return &run->ring[index % run->window_events];
}

/* When event index may be sent: 0 for an unpaced run. */
static uint64_t due_ns(const run_t *run, uint64_t index)
{
    if (run->config->rate == 0)
        return 0;
    return run->start_ns + index * NS_PER_S / run->config->rate;
}

/* Under the lock: waits for cond or until deadline_ns (CLOCK_MONOTONIC). */
static void wait_until(run_t *run, pthread_cond_t *cond, uint64_t deadline_ns)
{
    struct timespec deadline = {.tv_sec = (time_t)(deadline_ns / NS_PER_S),
                                .tv_nsec = (long)(deadline_ns % NS_PER_S)};
    pthread_cond_timedwait(cond, &run->lock, &deadline);
}

/* Under the lock: every poster looks again (the run is over). */
static void wake_all(run_t *run)
{
    pthread_cond_broadcast(&run->ready);
    pthread_cond_broadcast(&run->turn);
}

/* ---- dependencies */

static uint64_t hash_name(const char *name)
{
    uint64_t h = 1469598103934665603ull;
    for (; *name != '\0'; name++)
        h = (h ^ (uint8_t)*name) * 1099511628211ull;
    return h;
}

static entity_t *entity_find(entities_t *table, const char *name)
{
    size_t i = hash_name(name) & (table->capacity - 1);
    while (table->slots[i].name[0] != '\0' && strcmp(table->slots[i].name, name) != 0)
        i = (i + 1) & (table->capacity - 1);
    return &table->slots[i];
}

/* A new table with the entities whose last event is not yet answered (the others order
 * nothing any more), at most a quarter full. */
static int entities_rebuild(entities_t *table, uint64_t answered)
{
    size_t live = 0;
    for (size_t i = 0; i < table->capacity; i++)
        live += table->slots[i].name[0] != '\0' && table->slots[i].last > answered;
    entities_t fresh = {.capacity = ENTITIES_INITIAL};
    while (fresh.capacity < live * 4)
        fresh.capacity *= 2;
    fresh.slots = calloc(fresh.capacity, sizeof(*fresh.slots));
    if (fresh.slots == NULL)
        return FL_ENOMEM;
    for (size_t i = 0; i < table->capacity; i++) {
        const entity_t *old = &table->slots[i];
        if (old->name[0] == '\0' || old->last <= answered)
            continue;
        *entity_find(&fresh, old->name) = *old;
        fresh.used++;
    }
    free(table->slots);
    *table = fresh;
    return 0;
}

/* The entity's slot, added when new; NULL without memory. answered: every event below it is
 * answered (entities last named before are dropped when the table is rebuilt). */
static entity_t *entity_slot(entities_t *table, const char *name, uint64_t answered)
{
    if ((table->used + 1) * 2 > table->capacity && entities_rebuild(table, answered) != 0)
        return NULL;
    entity_t *entity = entity_find(table, name);
    if (entity->name[0] == '\0') {
        snprintf(entity->name, sizeof(entity->name), "%s", name);
        table->used++;
    }
    return entity;
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

static void depend_on(pending_t *p, uint64_t dep)
{
    if (dep == 0)
        return;
    for (uint32_t i = 0; i < p->deps_count; i++)
        if (p->deps[i] == dep)
            return;
    assert(p->deps_count < DEPS_MAX);
    p->deps[p->deps_count++] = dep;
}

/* Sets p's dependencies for event index (the generator's). */
static int depend(run_t *run, pending_t *p, uint64_t index, uint64_t answered)
{
    static ev_event_t decoded; /* large: one generator at a time */
    ev_actor_t actor = {
        .user = p->user, .role = ev_role_parse(p->role, strlen(p->role)), .device = p->device};
    ev_error_t error;
    if (ev_decode_json(p->json, p->len, &actor, &decoded, &error) != 0 ||
        is_barrier(decoded.stream)) {
        p->barrier = true;
        run->barrier = index + 1;
        return 0;
    }
    depend_on(p, run->barrier);
    for (uint32_t e = 0; e < decoded.entities_count; e++) {
        if (!orders_others(decoded.entities[e]))
            continue;
        entity_t *entity = entity_slot(&run->entities, decoded.entities[e], answered);
        if (entity == NULL)
            return FL_ENOMEM;
        depend_on(p, entity->last);
        entity->last = index + 1;
    }
    return 0;
}

/* ---- the stream, generated into the ring */

/* Generates up to count events into the slots of from, from + 1...: outside the lock, into
 * slots whose events are all answered. */
static int generate(run_t *run, uint64_t from, uint64_t count, uint64_t answered, uint64_t *made,
                    bool *ended)
{
    *made = 0;
    *ended = false;
    for (uint64_t i = 0; i < count; i++) {
        sim_event_t event;
        int rc = sim_next(run->sim, &event);
        if (rc == FL_EEOF) {
            *ended = true;
            return 0;
        }
        if (rc != 0)
            return rc;
        pending_t *p = slot(run, from + i);
        free(p->json);
        memset(p, 0, sizeof(*p));
        p->json = malloc(event.json_len + 1);
        if (p->json == NULL)
            return FL_ENOMEM;
        memcpy(p->json, event.json, event.json_len + 1);
        p->len = event.json_len;
        snprintf(p->user, sizeof(p->user), "%s", event.user);
        snprintf(p->role, sizeof(p->role), "%s", event.role);
        snprintf(p->device, sizeof(p->device), "%s", event.device);
        rc = depend(run, p, from + i, answered);
        if (rc != 0)
            return rc;
        (*made)++;
    }
    return 0;
}

/* Under the lock, by the head poster that found no event ready: the next events, generated
 * with the lock released (answers go on meanwhile; the others wait for their turn). */
static void refill(run_t *run)
{
    assert(run->head_waiting);
    uint64_t from = run->loaded, answered = run->watermark;
    uint64_t room = run->window_events - (run->loaded - run->watermark);
    uint64_t count = room < GENERATE_EVENTS ? room : GENERATE_EVENTS;
    pthread_mutex_unlock(&run->lock);
    uint64_t made;
    bool ended;
    int rc = generate(run, from, count, answered, &made, &ended);
    pthread_mutex_lock(&run->lock);
    run->loaded += made;
    run->ended = ended;
    if (rc != 0 && run->error == 0)
        run->error = rc;
}

/* ---- posting */

static bool same_actor(const pending_t *a, const pending_t *b)
{
    return strcmp(a->user, b->user) == 0 && strcmp(a->role, b->role) == 0;
}

/* Whether the run is over for new events: an error, the time limit, a signal. */
static bool over(run_t *run, uint64_t now)
{
    if (!run->stopping &&
        (stop_signal || (run->stop_ns != 0 && now >= run->stop_ns) || run->error != 0)) {
        run->stopping = true;
        run->totals.stopped = run->error == 0;
        wake_all(run);
    }
    return run->stopping;
}

/* Under the lock: whether event dep - 1 is answered (0: no event). */
static bool answered(const run_t *run, uint64_t dep)
{
    return dep <= run->watermark || slot(run, dep - 1)->answered;
}

/* Under the lock: whether event index may be sent in a request that starts with event start
 * (start == index: on its own); the events from start to it go first, in that request. */
static bool ready(const run_t *run, uint64_t index, uint64_t start)
{
    const pending_t *p = slot(run, index);
    if (p->barrier)
        return run->watermark >= start;
    for (uint32_t i = 0; i < p->deps_count; i++)
        if (p->deps[i] <= start && !answered(run, p->deps[i]))
            return false;
    return true;
}

/* How many events from start go in one request: the actor's next ones that are ready. */
static uint64_t batch_end(run_t *run, uint64_t start, uint64_t now)
{
    const pending_t *first = slot(run, start);
    uint64_t end = start + 1;
    while (end < run->loaded && end - start < run->config->batch && !slot(run, end)->taken &&
           same_actor(first, slot(run, end)) && ready(run, end, start) && due_ns(run, end) <= now)
        end++;
    return end;
}

/* Under the lock: the head's look for an event to send, into *start; false when there is none
 * yet (it has waited, or generated more). */
static bool head_ready(run_t *run, uint64_t now, uint64_t *start)
{
    uint64_t until = now + WAIT_SLICE_NS, scan_end = run->next + SCAN_EVENTS;
    uint64_t index = run->next;
    for (; index < run->loaded && index < scan_end; index++) {
        uint64_t due = due_ns(run, index);
        if (due > now) { /* nor any later one */
            if (due < until)
                until = due;
            break;
        }
        if (slot(run, index)->taken || !ready(run, index, index))
            continue;
        if (due != 0 && now - due > run->window.behind_ns_max)
            run->window.behind_ns_max = now - due;
        *start = index;
        return true;
    }
    if (index == run->loaded && !run->ended && run->loaded - run->watermark < run->window_events)
        refill(run);
    else
        wait_until(run, &run->ready, until);
    return false;
}

/* Under the lock: waits until a batch can be taken and takes it, [*start, *end); false when
 * the run is over. */
static bool next_batch(run_t *run, uint64_t *start, uint64_t *end)
{
    bool head = false;
    for (;;) {
        uint64_t now = mono_ns();
        if (over(run, now) || (run->next == run->loaded && run->ended)) {
            if (head)
                run->head_waiting = false;
            wake_all(run);
            return false;
        }
        if (!head) {
            if (run->head_waiting) {
                wait_until(run, &run->turn, now + WAIT_SLICE_NS);
                continue;
            }
            run->head_waiting = head = true;
        }
        if (!head_ready(run, now, start))
            continue;
        *end = batch_end(run, *start, now);
        for (uint64_t i = *start; i < *end; i++)
            slot(run, i)->taken = true;
        while (run->next < run->loaded && slot(run, run->next)->taken)
            run->next++;
        run->head_waiting = false;
        pthread_cond_signal(&run->turn);
        return true;
    }
}

/* Under the lock: the verdicts of [start, end), answered after latency_us. */
static void record(run_t *run, uint64_t start, uint64_t end, int rc, const fc_verdict_t *verdicts,
                   uint64_t latency_us)
{
    if (rc != 0 && verdicts[0].problem.status == 0) {
        if (run->error == 0)
            run->error = rc;
        wake_all(run);
        return;
    }
    window_t *w = &run->window;
    for (uint64_t i = start; i < end; i++) {
        const fc_verdict_t *v = &verdicts[i - start];
        if (v->rc != 0 && run->totals.refused == 0)
            fprintf(stderr, "fouta-sim: event %llu refused: %s at %s: %s\n", (unsigned long long)i,
                    v->problem.code, v->problem.field, v->problem.message);
        bool refused = v->rc != 0, duplicate = !refused && v->duplicate;
        run->totals.refused += refused;
        run->totals.duplicate += duplicate;
        run->totals.accepted += !refused && !duplicate;
        w->refused += refused;
        w->duplicate += duplicate;
        w->accepted += !refused && !duplicate;
        slot(run, i)->answered = true;
    }
    run->totals.events += end - start;
    w->events += end - start;
    w->requests++;
    if (w->samples != NULL && w->samples_count < SAMPLES_MAX)
        w->samples[w->samples_count++] =
            latency_us > UINT32_MAX ? UINT32_MAX : (uint32_t)latency_us;
    while (run->watermark < run->loaded && slot(run, run->watermark)->answered)
        run->watermark++;
    pthread_cond_signal(&run->ready);
}

static void *post_main(void *arg)
{
    run_t *run = arg;
    uint32_t batch = run->config->batch;
    fc_config_t config = {.url = run->config->url, .tokens = run->tokens};
    fc_client_t *client = NULL;
    const char **texts = calloc(batch, sizeof(*texts));
    size_t *lens = calloc(batch, sizeof(*lens));
    fc_verdict_t *verdicts = calloc(batch, sizeof(*verdicts));
    int rc =
        texts != NULL && lens != NULL && verdicts != NULL ? fc_open(&client, &config) : FL_ENOMEM;
    pthread_mutex_lock(&run->lock);
    if (rc != 0 && run->error == 0)
        run->error = rc;
    uint64_t start, end;
    while (rc == 0 && next_batch(run, &start, &end)) {
        pthread_mutex_unlock(&run->lock);
        /* The batch's slots are not answered: no refill reuses them while they are read. */
        for (uint64_t i = start; i < end; i++) {
            texts[i - start] = slot(run, i)->json;
            lens[i - start] = slot(run, i)->len;
        }
        const pending_t *first = slot(run, start);
        fc_set_actor(client, first->user, first->role, first->device);
        uint64_t sent = mono_ns();
        int post_rc = fc_post_batch(client, texts, lens, (uint32_t)(end - start), verdicts);
        uint64_t latency_us = (mono_ns() - sent) / NS_PER_US;
        pthread_mutex_lock(&run->lock);
        record(run, start, end, post_rc, verdicts, latency_us);
    }
    if (--run->running == 0)
        pthread_cond_signal(&run->finished);
    pthread_mutex_unlock(&run->lock);
    fc_close(client);
    free(texts);
    free(lens);
    free(verdicts);
    return NULL;
}

/* ---- reports */

static int sample_order(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The q quantile of sorted samples, milliseconds. */
static double quantile_ms(const uint32_t *sorted, uint32_t count, double q)
{
    if (count == 0)
        return 0;
    uint32_t rank = (uint32_t)(q * count + 0.999999);
    return sorted[rank > 0 ? rank - 1 : 0] / 1000.0;
}

/* Prints a window taken off the run (outside the lock: the sort is the window's). */
static void window_print(window_t *w, uint32_t number, double at_s, double seconds)
{
    qsort(w->samples, w->samples_count, sizeof(*w->samples), sample_order);
    printf("window=%u at_s=%.1f events=%llu per_s=%.0f accepted=%llu duplicate=%llu "
           "refused=%llu requests=%llu post_p50_ms=%.3f post_p99_ms=%.3f post_max_ms=%.3f "
           "behind_ms_max=%.1f\n",
           number, at_s, (unsigned long long)w->events,
           seconds > 0 ? (double)w->events / seconds : 0.0, (unsigned long long)w->accepted,
           (unsigned long long)w->duplicate, (unsigned long long)w->refused,
           (unsigned long long)w->requests, quantile_ms(w->samples, w->samples_count, 0.5),
           quantile_ms(w->samples, w->samples_count, 0.99),
           w->samples_count > 0 ? w->samples[w->samples_count - 1] / 1000.0 : 0.0,
           (double)w->behind_ns_max / 1e6);
    fflush(stdout);
}

/* Under the lock, on the main thread: until every poster is done, a line per window of
 * report_seconds (and one for the last, shorter window). */
static void report_until_done(run_t *run, uint32_t **spare)
{
    uint64_t every = (uint64_t)run->config->report_seconds * NS_PER_S;
    if (every != 0) { /* the clock starts: a soak aligns its own windows on this line */
        printf("start\n");
        fflush(stdout);
    }
    uint64_t last = run->start_ns, next = every != 0 ? run->start_ns + every : 0;
    uint32_t number = 0;
    for (;;) {
        uint64_t now = mono_ns();
        bool done = run->running == 0;
        /* The last window, shorter, only when something happened in it. */
        bool empty = run->window.requests == 0 && run->window.events == 0;
        if (every != 0 && ((done && !empty) || now >= next)) {
            window_t w = run->window;
            run->window = (window_t){.samples = *spare};
            *spare = w.samples;
            pthread_mutex_unlock(&run->lock);
            window_print(&w, ++number, (double)(now - run->start_ns) / 1e9,
                         (double)(now - last) / 1e9);
            pthread_mutex_lock(&run->lock);
            last = now;
            next += every;
        }
        if (done)
            return;
        uint64_t until = now + WAIT_SLICE_NS;
        wait_until(run, &run->finished, every != 0 && next < until ? next : until);
    }
}

/* ---- the run */

/* Whatever fails, run_free undoes what was done. */
static int run_init(run_t *run, const sim_config_t *sim_config, const poster_config_t *config)
{
    memset(run, 0, sizeof(*run));
    run->config = config;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* deadlines from mono_ns */
    pthread_cond_init(&run->ready, &attr);
    pthread_cond_init(&run->turn, &attr);
    pthread_cond_init(&run->finished, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&run->lock, NULL);
    run->window_events =
        config->window_events != 0 ? config->window_events : POSTER_WINDOW_EVENTS_DEFAULT;
    run->ring = calloc(run->window_events, sizeof(*run->ring));
    run->entities.capacity = ENTITIES_INITIAL;
    run->entities.slots = calloc(ENTITIES_INITIAL, sizeof(*run->entities.slots));
    if (config->report_seconds != 0)
        run->window.samples = malloc(SAMPLES_MAX * sizeof(*run->window.samples));
    if (fc_tokens_new(&run->tokens) != 0 || run->ring == NULL || run->entities.slots == NULL ||
        (config->report_seconds != 0 && run->window.samples == NULL))
        return FL_ENOMEM;
    return sim_open(&run->sim, sim_config);
}

static void run_free(run_t *run)
{
    pthread_mutex_destroy(&run->lock);
    pthread_cond_destroy(&run->ready);
    pthread_cond_destroy(&run->turn);
    pthread_cond_destroy(&run->finished);
    sim_close(run->sim);
    for (size_t i = 0; run->ring != NULL && i < run->window_events; i++)
        free(run->ring[i].json);
    free(run->ring);
    free(run->entities.slots);
    free(run->window.samples);
    fc_tokens_free(run->tokens);
}

/* Signs in as every role before the clock starts (FOUTA_PASSWORD): a sign-in is an Argon2id
 * on the server, which a run's first seconds should not measure. Stops at the first failure;
 * the connections then sign in as they need. */
static void sign_in_roles(run_t *run)
{
    fc_config_t config = {.url = run->config->url, .tokens = run->tokens};
    fc_client_t *client;
    if (fc_open(&client, &config) != 0)
        return;
    for (int role = 0; role < EV_ROLE_COUNT; role++)
        if (fc_set_actor(client, "", ev_role_name((ev_role_t)role), NULL) != 0 ||
            fc_authenticate(client) != 0)
            break;
    fc_close(client);
}

/* SIGINT and SIGTERM set stop_signal; SA_RESTART keeps the connections' reads going. */
static void catch_stop_signals(void)
{
    struct sigaction action = {.sa_handler = on_stop_signal, .sa_flags = SA_RESTART};
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
}

int poster_run(const sim_config_t *sim_config, const poster_config_t *config,
               poster_totals_t *totals)
{
    memset(totals, 0, sizeof(*totals));
    if (config->connections < 1 || config->connections > POSTER_CONNECTIONS_MAX ||
        config->batch < 1 || config->rate > POSTER_RATE_MAX ||
        config->seconds > POSTER_SECONDS_MAX || config->window_events > POSTER_WINDOW_EVENTS_MAX)
        return FL_EINVAL;
    run_t run;
    int rc = run_init(&run, sim_config, config);
    uint32_t *spare = NULL; /* the report's other window of samples */
    if (rc == 0 && config->report_seconds != 0 &&
        (spare = malloc(SAMPLES_MAX * sizeof(*spare))) == NULL)
        rc = FL_ENOMEM;
    if (rc == 0) {
        catch_stop_signals();
        sign_in_roles(&run);
        pthread_t threads[POSTER_CONNECTIONS_MAX];
        uint32_t started = 0;
        run.start_ns = mono_ns();
        run.stop_ns = config->seconds != 0 ? run.start_ns + config->seconds * NS_PER_S : 0;
        pthread_mutex_lock(&run.lock);
        while (started < config->connections &&
               pthread_create(&threads[started], NULL, post_main, &run) == 0)
            started++;
        run.running = started;
        if (started == 0)
            run.error = FL_ENOMEM;
        report_until_done(&run, &spare);
        pthread_mutex_unlock(&run.lock);
        for (uint32_t i = 0; i < started; i++)
            pthread_join(threads[i], NULL);
        rc = run.error;
        run.totals.seconds = (double)(mono_ns() - run.start_ns) / 1e9;
        run.totals.ended = run.ended && run.next == run.loaded;
        run.totals.stopped = run.totals.stopped && !run.totals.ended;
        *totals = run.totals;
    }
    free(spare);
    run_free(&run);
    return rc;
}
