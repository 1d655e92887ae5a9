/*
 * bench/engine.c: how fast the ledger engine appends, scans and reads, measured in one run next
 * to the raw LMDB it is built on.
 *
 * Every append is durable (default LMDB flags, so an fsync on every commit), because "on disk"
 * is what an acknowledgement promises and the only throughput that matters to a plant. Two
 * workloads:
 *   - the worst case ("reused streams", runs c1 .. batch1000): every thread appends in turn to
 *     its own 100 streams with names that do not sort by time, so every commit touches streams
 *     and index entries scattered across the key space;
 *   - the plant mix (runs plant_cN): a towel-weaving plant with 200 looms and 20 active orders,
 *     each thread one operator's device working 3 looms, one event per call: 85% a production
 *     declaration that creates a new handling unit (stream "hu-" + a UUIDv7 in hex, so new units
 *     sort at the right edge), 10% a loom stopped or restarted (stream of the loom), 5% a recent
 *     unit of the thread moved or inspected.
 * The run measures:
 *   - 1, 16, 64 and 256 threads each appending one event at a time and waiting for it: the
 *     writer's group commit is what turns concurrent callers into throughput;
 *   - one thread appending 100 or 1000 events per call (and 100 atomically);
 *   - the plant mix at 16, 64 and 256 threads;
 *   - 64 appenders driven by one thread (c64_submit, plant_c64_submit): each appender is one
 *     request in flight at a time, submitted with eng_append_submit as foutad's event loop does,
 *     so that what 64 appenders get is measured apart from what 64 threads cost;
 *   - the ceiling: a plain LMDB environment, one MDB_INTEGERKEY database, values of the size the
 *     engine stores, written with MDB_APPEND at 1, at the engine's own average events per commit
 *     with 64 appenders (threads, then driven), at 100 and at 1000 per transaction, and at the
 *     plant runs' events per commit with their mean record size. The ratios engine/raw at the
 *     same events per transaction show what the engine's indexes, hashing and hand-off cost;
 *   - a full scan of the largest worst-case ledger (decoded records) next to a raw cursor scan,
 *     SCAN_PASSES times each: the first pass (which also faults the map's pages in) and the best
 *     of the others (scan_events_per_s), with the resident memory before and after, to show
 *     that a scan does not allocate with log size;
 *   - the latency of random point reads.
 * Every run starts on a fresh ledger in a directory under the one named on the command line,
 * which the caller removes afterwards (bench/run does). A table for people goes to stdout, then
 * one last line "RESULT key=value ..." for machines. Nothing here asserts a timing.
 */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "engine/engine.h"
#include "bench/done.h"
#include "bench/hist.h"

#define SECONDS_DEFAULT      2.0
#define SECONDS_MAX          600.0
#define PAYLOAD_BYTES        250
#define STREAMS_PER_APPENDER 100 /* stream "hu-<appender>-<n % this>" */
#define LOOMS                40  /* entity "loom:L<appender % this>" */
#define NAME_BYTES_MAX       48
#define PATH_BYTES_MAX       4096
#define BATCH_SMALL_EVENTS   100 /* events per call of the batch runs */
#define BATCH_LARGE_EVENTS   1000
#define POINT_READS          100000
#define SCAN_PASSES          3 /* the first faults the map in; the best of the others is kept */
#define RUNS_MAX             12
/* The plant mix. The rest of the events after declarations and looms: HUMoved and
 * InspectionRecorded. */
#define PLANT_LOOMS              200  /* "loom-L001" .. "loom-L200" */
#define PLANT_ORDERS             20   /* "of-OF2026001" ..; loom l runs order l % this */
#define PLANT_LOOMS_PER_APPENDER 3    /* appender a works looms 3a .. 3a+2, mod PLANT_LOOMS */
#define PLANT_DECLARED_PERCENT   85   /* ProductionDeclared of a new unit */
#define PLANT_LOOM_PERCENT       10   /* LoomStopped or LoomRestarted */
#define PLANT_RECENT_UNITS       8    /* an appender's newest units, which it moves or inspects */
#define PLANT_RECORDS_SAMPLED    1024 /* newest records whose mean size the raw peer writes */
/* Sparse, and large enough that no run pays for a map resize: the engine and the raw peer are
 * both measured in their steady state. */
#define MAP_BYTES (16ull << 30)

_Static_assert(NAME_BYTES_MAX > sizeof("loom:L") + 10 && NAME_BYTES_MAX <= ENG_STREAM_LEN_MAX,
               "generated names fit their buffers and the engine's limits");
_Static_assert(NAME_BYTES_MAX > sizeof("hu-") + 2 * ENG_ID_BYTES, "a unit's name fits");
_Static_assert(PLANT_DECLARED_PERCENT + PLANT_LOOM_PERCENT < 100, "the plant mix adds up");

/* ---- Small helpers. ---- */

/* Setup failures (no disk, no memory, no threads) end the benchmark: there is nothing to
 * measure without them. err is a code of base/base.h. */
static void die(const char *what, int err)
{
    fprintf(stderr, "bench_engine: %s: %s\n", what, fl_strerror(err));
    exit(1);
}

/* The same for the raw peer, whose codes are LMDB's. */
static void die_mdb(const char *what, int rc)
{
    fprintf(stderr, "bench_engine: %s: %s\n", what, mdb_strerror(rc));
    exit(1);
}

static void *xcalloc(size_t count, size_t size)
{
    void *memory = calloc(count, size);
    if (memory == NULL)
        die("calloc", FL_ENOMEM);
    return memory;
}

static double seconds_from_env(void)
{
    const char *text = getenv("BENCH_SECONDS");
    if (text == NULL || text[0] == '\0')
        return SECONDS_DEFAULT;
    char *end = NULL;
    double seconds = strtod(text, &end);
    if (*end != '\0' || !(seconds > 0) || seconds > SECONDS_MAX) {
        fprintf(stderr, "bench_engine: BENCH_SECONDS must be in (0, %.0f], not \"%s\"\n",
                SECONDS_MAX, text);
        exit(2);
    }
    return seconds;
}

static void path_join(char out[PATH_BYTES_MAX], const char *dir, const char *name)
{
    int len = snprintf(out, PATH_BYTES_MAX, "%s/%s", dir, name);
    if (len < 0 || len >= PATH_BYTES_MAX)
        die("path too long", FL_EINVAL);
}

typedef struct {
    long rss_kb;  /* everything resident, the map's file pages included */
    long anon_kb; /* the heap and stacks: what would grow if a scan allocated */
} rss_t;

static void rss_read(rss_t *out)
{
    out->rss_kb = out->anon_kb = -1;
    FILE *file = fopen("/proc/self/status", "r");
    if (file == NULL)
        return;
    char line[256];
    while (fgets(line, sizeof(line), file) != NULL) {
        sscanf(line, "VmRSS: %ld", &out->rss_kb);
        sscanf(line, "RssAnon: %ld", &out->anon_kb);
    }
    fclose(file);
}

/* Bytes this process has handed to write(2) and friends so far: LMDB (without MDB_WRITEMAP)
 * writes every dirty page with pwrite, so the difference across a run is what its commits
 * wrote, the few lines of progress on stderr aside. */
static uint64_t written_bytes(void)
{
    unsigned long long bytes = 0;
    FILE *file = fopen("/proc/self/io", "r");
    if (file == NULL)
        return 0;
    char line[256];
    while (fgets(line, sizeof(line), file) != NULL)
        if (sscanf(line, "wchar: %llu", &bytes) == 1)
            break;
    fclose(file);
    return bytes;
}

static double per_second(uint64_t count, uint64_t ns)
{
    return ns > 0 ? (double)count * 1e9 / (double)ns : 0;
}

static double per_event(uint64_t amount, uint64_t events)
{
    return events > 0 ? (double)amount / (double)events : 0;
}

/* ---- The events: a realistic production declaration around an opaque payload. ---- */

static uint8_t payload[PAYLOAD_BYTES];

/* The payload stands for the catalog's msgpack; the engine never looks inside, so any bytes
 * of the right length will do. */
static void payload_fill(void)
{
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < sizeof(payload); i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        payload[i] = (uint8_t)state;
    }
}

/* The strings an event points to; they live as long as the event. */
typedef struct {
    char stream[NAME_BYTES_MAX];
    char entity_unit[NAME_BYTES_MAX];
    char entity_loom[NAME_BYTES_MAX];
    char entity_context[NAME_BYTES_MAX]; /* plant mix: the order or the location */
    char actor_user[NAME_BYTES_MAX];
    char actor_device[NAME_BYTES_MAX];
} envelope_t;

/* The n-th event of an appender, with a fresh id. Returns 0 or fl_uuid7's error. */
static int event_fill(eng_event_t *event, envelope_t *envelope, int appender, uint64_t n)
{
    unsigned unit = (unsigned)(n % STREAMS_PER_APPENDER);
    snprintf(envelope->stream, NAME_BYTES_MAX, "hu-%d-%u", appender, unit);
    snprintf(envelope->entity_unit, NAME_BYTES_MAX, "hu:%d-%u", appender, unit);
    snprintf(envelope->entity_loom, NAME_BYTES_MAX, "loom:L%d", appender % LOOMS);
    snprintf(envelope->actor_user, NAME_BYTES_MAX, "weaver-%d", appender);
    snprintf(envelope->actor_device, NAME_BYTES_MAX, "tablet-%d", appender);
    *event = (eng_event_t){.type = "ProductionDeclared",
                           .schema_version = 1,
                           .stream = envelope->stream,
                           .expected_version = ENG_EXPECT_ANY,
                           .occurred_at_us = fl_now_us(),
                           .actor_user = envelope->actor_user,
                           .actor_role = "weaver",
                           .actor_device = envelope->actor_device,
                           .entities = {envelope->entity_unit, envelope->entity_loom},
                           .entities_count = 2,
                           .payload = payload,
                           .payload_len = PAYLOAD_BYTES};
    return fl_uuid7(event->id);
}

/* What one appender of the plant mix remembers between events. */
typedef struct {
    uint64_t random; /* xorshift state, never 0 */
    bool loom_stopped[PLANT_LOOMS_PER_APPENDER];
    uint64_t units; /* units created so far; the newest in recent[(units - 1) % RECENT] */
    char recent[PLANT_RECENT_UNITS][NAME_BYTES_MAX];
} plant_t;

static void plant_init(plant_t *plant, int appender)
{
    *plant = (plant_t){.random = 0x9e3779b97f4a7c15ull ^
                                 ((uint64_t)appender + 1) * 0xbf58476d1ce4e5b9ull};
}

static unsigned plant_roll(plant_t *plant, unsigned below)
{
    plant->random ^= plant->random << 13;
    plant->random ^= plant->random >> 7;
    plant->random ^= plant->random << 17;
    return (unsigned)(plant->random % below);
}

/* The next event of an appender of the plant mix, with a fresh id (see the file comment).
 * Returns 0 or fl_uuid7's error. */
static int plant_event_fill(eng_event_t *event, envelope_t *envelope, plant_t *plant, int appender)
{
    unsigned roll = plant_roll(plant, 100);
    unsigned which = plant_roll(plant, PLANT_LOOMS_PER_APPENDER);
    bool declare = roll < PLANT_DECLARED_PERCENT ||
                   (roll >= PLANT_DECLARED_PERCENT + PLANT_LOOM_PERCENT && plant->units == 0);
    /* Production goes to a running loom of the three, if there is one. */
    for (unsigned i = 0; declare && i < PLANT_LOOMS_PER_APPENDER && plant->loom_stopped[which]; i++)
        which = (which + 1) % PLANT_LOOMS_PER_APPENDER;
    unsigned loom = ((unsigned)appender * PLANT_LOOMS_PER_APPENDER + which) % PLANT_LOOMS;
    snprintf(envelope->entity_loom, NAME_BYTES_MAX, "loom-L%03u", loom + 1);
    snprintf(envelope->entity_context, NAME_BYTES_MAX, "of-OF2026%03u", loom % PLANT_ORDERS + 1);
    snprintf(envelope->actor_user, NAME_BYTES_MAX, "weaver-%02d", appender);
    snprintf(envelope->actor_device, NAME_BYTES_MAX, "tablet-%02d", appender);
    *event = (eng_event_t){.schema_version = 1,
                           .stream = envelope->stream,
                           .expected_version = ENG_EXPECT_ANY,
                           .occurred_at_us = fl_now_us(),
                           .actor_user = envelope->actor_user,
                           .actor_role = "weaver",
                           .actor_device = envelope->actor_device,
                           .payload = payload,
                           .payload_len = PAYLOAD_BYTES};
    if (declare) {
        uint8_t unit[ENG_ID_BYTES];
        char hex[2 * ENG_ID_BYTES + 1];
        int rc = fl_uuid7(unit);
        if (rc != 0)
            return rc;
        fl_hex_format(unit, sizeof(unit), hex);
        snprintf(envelope->stream, NAME_BYTES_MAX, "hu-%s", hex);
        memcpy(envelope->entity_unit, envelope->stream, NAME_BYTES_MAX);
        memcpy(plant->recent[plant->units++ % PLANT_RECENT_UNITS], envelope->stream,
               NAME_BYTES_MAX);
        event->type = "ProductionDeclared";
        event->expected_version = ENG_EXPECT_NO_STREAM;
        event->entities[0] = envelope->entity_unit;
        event->entities[1] = envelope->entity_loom;
        event->entities[2] = envelope->entity_context;
        event->entities_count = 3;
    } else if (roll < PLANT_DECLARED_PERCENT + PLANT_LOOM_PERCENT) {
        event->type = plant->loom_stopped[which] ? "LoomRestarted" : "LoomStopped";
        plant->loom_stopped[which] = !plant->loom_stopped[which];
        memcpy(envelope->stream, envelope->entity_loom, NAME_BYTES_MAX);
        event->entities[0] = envelope->entity_loom;
        event->entities[1] = envelope->entity_context;
        event->entities_count = 2;
    } else {
        uint64_t known = plant->units < PLANT_RECENT_UNITS ? plant->units : PLANT_RECENT_UNITS;
        const char *unit = plant->recent[plant_roll(plant, (unsigned)known)];
        bool inspection = plant_roll(plant, 2) == 0;
        memcpy(envelope->stream, unit, NAME_BYTES_MAX);
        memcpy(envelope->entity_unit, unit, NAME_BYTES_MAX);
        snprintf(envelope->entity_context, NAME_BYTES_MAX, "%s", inspection ? "loc-QC" : "loc-WH1");
        event->type = inspection ? "InspectionRecorded" : "HUMoved";
        event->entities[0] = envelope->entity_unit;
        event->entities[1] = envelope->entity_context;
        event->entities_count = 2;
    }
    return fl_uuid7(event->id);
}

/* ---- Engine appends: N threads, each appending `per_call` events per blocking call. ---- */

typedef enum {
    WORKLOAD_REUSED, /* the worst case: event_fill */
    WORKLOAD_PLANT,  /* the plant mix: plant_event_fill, one event per call */
} workload_t;

typedef struct {
    const char *name; /* of the row; the RESULT keys' suffix unless key is set */
    int appenders;
    uint32_t per_call;
    uint32_t flags;
    workload_t workload;
    const char *key; /* plant mix: keys are "plant_" KEY "_" this, e.g. plant_p99_us_c64 */
    bool submit;     /* the appenders are requests driven by one thread (async_drive) */
} engine_plan_t;

typedef struct {
    engine_plan_t plan;
    uint64_t events, calls, errors, commits, commit_ns_total, written_bytes;
    uint64_t ns; /* wall time with several appenders; time inside eng_append with one */
    int first_error;
    uint32_t record_bytes; /* stored size of the last record (raw_len + hash); plant mix: the
                              mean of the newest PLANT_RECORDS_SAMPLED */
    hist_t latency;        /* ns per eng_append call */
} engine_run_t;

typedef struct {
    eng_ledger_t *ledger;
    pthread_barrier_t *start;
    const uint64_t *deadline_ns;
    const engine_plan_t *plan;
    int index;
    envelope_t *envelopes;
    eng_event_t *events;
    eng_position_t *positions;
    uint64_t events_done, calls, errors, busy_ns;
    int first_error;
    plant_t plant;
    hist_t latency;
    /* Driven appenders (plan->submit) only: */
    eng_append_req_t req;
    int *results;
    uint64_t submitted_ns, n;
    done_list_t *completions;
    done_node_t done;
} appender_t;

static void appender_note_error(appender_t *appender, int err)
{
    appender->errors++;
    if (appender->first_error == 0)
        appender->first_error = err;
}

/* The appender's next events, per_call of them. Returns 0 or fl_uuid7's error. */
static int appender_fill(appender_t *appender)
{
    for (uint32_t i = 0; i < appender->plan->per_call; i++, appender->n++) {
        int rc = appender->plan->workload == WORKLOAD_PLANT
                     ? plant_event_fill(&appender->events[i], &appender->envelopes[i],
                                        &appender->plant, appender->index)
                     : event_fill(&appender->events[i], &appender->envelopes[i], appender->index,
                                  appender->n);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void *appender_main(void *arg)
{
    appender_t *appender = arg;
    const uint32_t per_call = appender->plan->per_call;
    pthread_barrier_wait(appender->start);
    const uint64_t deadline_ns = *appender->deadline_ns; /* published before the barrier */
    while (fl_mono_ns() < deadline_ns) {
        int rc = appender_fill(appender);
        if (rc != 0) {
            appender_note_error(appender, rc);
            return NULL;
        }
        uint64_t started_ns = fl_mono_ns();
        rc = eng_append(appender->ledger, appender->events, per_call, appender->plan->flags,
                        appender->positions, NULL);
        uint64_t elapsed_ns = fl_mono_ns() - started_ns;
        appender->busy_ns += elapsed_ns;
        appender->calls++;
        hist_add(&appender->latency, elapsed_ns);
        if (rc != 0) {
            appender_note_error(appender, rc);
            return NULL; /* a failing append is a bug to look at, not a load to keep up */
        }
        appender->events_done += per_call;
    }
    return NULL;
}

/*
 * Appenders driven as foutad's loop drives the engine: each appender is one request in flight at
 * a time (an appender still waits for its durable outcome before its next event), and one thread
 * submits them all with eng_append_submit. The writer's callback only hands the finished request
 * back; that thread takes every finished one at once, records its latency and submits the
 * appender's next event.
 */
static void driven_appended(eng_append_req_t *req, void *data)
{
    (void)req;
    appender_t *appender = data;
    done_push(appender->completions, &appender->done);
}

/* Fills and submits the appender's next request. Returns 0 (its callback will run) or why not. */
static int driven_submit(appender_t *appender)
{
    int rc = appender_fill(appender);
    if (rc != 0)
        return rc;
    appender->req = (eng_append_req_t){.events = appender->events,
                                       .count = appender->plan->per_call,
                                       .flags = appender->plan->flags,
                                       .positions = appender->positions,
                                       .results = appender->results,
                                       .cb = driven_appended,
                                       .data = appender};
    appender->submitted_ns = fl_mono_ns();
    return eng_append_submit(appender->ledger, &appender->req);
}

/* Runs count driven appenders until deadline_ns, then until the last request is answered. */
static void driven_run(appender_t *appenders, int count, done_list_t *completions,
                       uint64_t deadline_ns)
{
    int in_flight = 0;
    for (int i = 0; i < count; i++) {
        int rc = driven_submit(&appenders[i]);
        if (rc != 0)
            appender_note_error(&appenders[i], rc);
        else
            in_flight++;
    }
    while (in_flight > 0) {
        done_node_t *node = done_take(completions), *next;
        uint64_t now_ns = fl_mono_ns();
        for (; node != NULL; node = next) {
            next = node->next;
            appender_t *appender = DONE_OWNER(node, appender_t, done);
            in_flight--;
            uint64_t elapsed_ns = now_ns - appender->submitted_ns;
            appender->busy_ns += elapsed_ns;
            appender->calls++;
            hist_add(&appender->latency, elapsed_ns);
            if (appender->req.status != 0) {
                appender_note_error(appender, appender->req.status);
                continue; /* a failing append is a bug to look at, not a load to keep up */
            }
            appender->events_done += appender->plan->per_call;
            if (now_ns >= deadline_ns)
                continue;
            int rc = driven_submit(appender);
            if (rc != 0)
                appender_note_error(appender, rc);
            else
                in_flight++;
        }
    }
}

static appender_t *appenders_create(eng_ledger_t *ledger, const engine_plan_t *plan,
                                    pthread_barrier_t *start, const uint64_t *deadline_ns)
{
    appender_t *appenders = xcalloc((size_t)plan->appenders, sizeof(*appenders));
    for (int i = 0; i < plan->appenders; i++) {
        appender_t *appender = &appenders[i];
        appender->ledger = ledger;
        appender->start = start;
        appender->deadline_ns = deadline_ns;
        appender->plan = plan;
        appender->index = i;
        plant_init(&appender->plant, i);
        appender->envelopes = xcalloc(plan->per_call, sizeof(*appender->envelopes));
        appender->events = xcalloc(plan->per_call, sizeof(*appender->events));
        appender->positions = xcalloc(plan->per_call, sizeof(*appender->positions));
        appender->results = xcalloc(plan->per_call, sizeof(*appender->results));
    }
    return appenders;
}

/* Adds every appender's counts to run and frees them. Returns the time spent inside
 * eng_append, summed over the appenders. */
static uint64_t appenders_collect(appender_t *appenders, engine_run_t *run)
{
    uint64_t busy_ns = 0;
    for (int i = 0; i < run->plan.appenders; i++) {
        appender_t *appender = &appenders[i];
        run->events += appender->events_done;
        run->calls += appender->calls;
        run->errors += appender->errors;
        if (run->first_error == 0)
            run->first_error = appender->first_error;
        hist_merge(&run->latency, &appender->latency);
        busy_ns += appender->busy_ns;
        free(appender->envelopes);
        free(appender->events);
        free(appender->positions);
        free(appender->results);
    }
    free(appenders);
    return busy_ns;
}

/* The stored size of the newest record, as the raw peer must write it. */
static uint32_t record_bytes_read(eng_ledger_t *ledger)
{
    eng_head_t head;
    eng_head(ledger, &head);
    if (head.seq == 0)
        return 0;
    eng_record_t record;
    eng_iter_t *iter = NULL;
    int rc = eng_read(ledger, head.seq, &record, &iter);
    if (rc != 0)
        die("eng_read of the head", rc);
    uint32_t bytes = record.raw_len + ENG_HASH_BYTES;
    eng_iter_close(iter);
    return bytes;
}

/* The mean stored size of the newest PLANT_RECORDS_SAMPLED records, rounded: the plant mix's
 * records differ in size by type. */
static uint32_t record_bytes_mean(eng_ledger_t *ledger)
{
    eng_iter_t *iter = NULL;
    int rc = eng_iter_log(ledger, 0, ENG_BACKWARD, &iter);
    if (rc != 0)
        die("eng_iter_log", rc);
    eng_record_t record;
    uint64_t records = 0, bytes = 0;
    while (records < PLANT_RECORDS_SAMPLED && (rc = eng_iter_next(iter, &record)) == 0) {
        records++;
        bytes += record.raw_len + ENG_HASH_BYTES;
    }
    if (rc != 0 && rc != FL_EEOF)
        die("eng_iter_next", rc);
    eng_iter_close(iter);
    return records > 0 ? (uint32_t)((bytes + records / 2) / records) : 0;
}

static void engine_run(const char *dir, double seconds, engine_run_t *run)
{
    eng_config_t config = {.dir = dir, .map_bytes_initial = MAP_BYTES};
    eng_ledger_t *ledger = NULL;
    int rc = eng_open(&ledger, &config);
    if (rc != 0)
        die(dir, rc);
    const int count = run->plan.appenders;
    const int threads_count = run->plan.submit ? 0 : count;
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads_count + 1);
    uint64_t deadline_ns = 0;
    appender_t *appenders = appenders_create(ledger, &run->plan, &start, &deadline_ns);
    done_list_t completions;
    done_init(&completions);
    for (int i = 0; i < count; i++)
        appenders[i].completions = &completions;
    pthread_t *threads = xcalloc((size_t)count, sizeof(*threads));
    for (int i = 0; i < threads_count; i++)
        if ((rc = pthread_create(&threads[i], NULL, appender_main, &appenders[i])) != 0)
            die("pthread_create", fl_err_from_errno(rc));
    uint64_t written_before = written_bytes(), started_ns = fl_mono_ns();
    deadline_ns = started_ns + (uint64_t)(seconds * 1e9);
    pthread_barrier_wait(&start);
    if (run->plan.submit)
        driven_run(appenders, count, &completions, deadline_ns);
    for (int i = 0; i < threads_count; i++)
        pthread_join(threads[i], NULL);
    uint64_t wall_ns = fl_mono_ns() - started_ns;
    run->written_bytes = written_bytes() - written_before;
    uint64_t busy_ns = appenders_collect(appenders, run);
    /* A lone appender prepares its events while nothing else runs: leave that time out. */
    run->ns = count == 1 ? busy_ns : wall_ns;
    done_destroy(&completions);
    eng_stats_t stats;
    eng_stats(ledger, &stats);
    run->commits = stats.commits;
    run->commit_ns_total = stats.commit_ns_total;
    run->record_bytes = run->plan.workload == WORKLOAD_PLANT ? record_bytes_mean(ledger)
                                                             : record_bytes_read(ledger);
    free(threads);
    pthread_barrier_destroy(&start);
    eng_close(ledger);
}

/* ---- The raw LMDB peer: one INTEGERKEY database, MDB_APPEND, durable commits. ---- */

typedef struct {
    const char *name;
    uint32_t per_txn;
} raw_plan_t;

typedef struct {
    raw_plan_t plan;
    uint32_t value_len;
    uint64_t events, commits, ns, written_bytes;
    hist_t latency; /* ns per transaction, begin to durable commit */
} raw_run_t;

static void raw_open(const char *dir, unsigned flags, MDB_env **env_out, MDB_dbi *dbi_out)
{
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        die(dir, fl_err_from_errno(errno));
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    int rc = mdb_env_create(&env);
    if (rc == 0 && (rc = mdb_env_set_mapsize(env, MAP_BYTES)) == 0 &&
        (rc = mdb_env_open(env, dir, flags, 0640)) == 0 &&
        (rc = mdb_txn_begin(env, NULL, flags & MDB_RDONLY, &txn)) == 0 &&
        (rc = mdb_dbi_open(txn, NULL, MDB_INTEGERKEY, dbi_out)) == 0)
        rc = mdb_txn_commit(txn);
    if (rc != 0)
        die_mdb(dir, rc);
    *env_out = env;
}

/* One transaction of per_txn records, committed durably. */
static void raw_txn(MDB_env *env, MDB_dbi dbi, uint32_t per_txn, uint8_t *value_bytes,
                    size_t value_len, uint64_t *seq)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(env, NULL, 0, &txn);
    for (uint32_t i = 0; rc == 0 && i < per_txn; i++) {
        ++*seq;
        memcpy(value_bytes, seq, sizeof(*seq)); /* no two values alike, as in the engine */
        MDB_val key = {.mv_size = sizeof(*seq), .mv_data = seq};
        MDB_val value = {.mv_size = value_len, .mv_data = value_bytes};
        rc = mdb_put(txn, dbi, &key, &value, MDB_APPEND);
    }
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    if (rc != 0)
        die_mdb("raw LMDB append", rc);
}

static void raw_run(const char *dir, double seconds, uint32_t value_len, raw_run_t *run)
{
    MDB_env *env = NULL;
    MDB_dbi dbi;
    raw_open(dir, 0, &env, &dbi);
    run->value_len = value_len;
    uint8_t *value = xcalloc(value_len, 1);
    memcpy(value + sizeof(uint64_t), payload,
           value_len - sizeof(uint64_t) < PAYLOAD_BYTES ? value_len - sizeof(uint64_t)
                                                        : PAYLOAD_BYTES);
    uint64_t written_before = written_bytes(), seq = 0, started_ns = fl_mono_ns();
    uint64_t deadline_ns = started_ns + (uint64_t)(seconds * 1e9), now_ns = started_ns;
    while (now_ns < deadline_ns) {
        raw_txn(env, dbi, run->plan.per_txn, value, value_len, &seq);
        uint64_t done_ns = fl_mono_ns();
        hist_add(&run->latency, done_ns - now_ns);
        now_ns = done_ns;
        run->commits++;
    }
    run->events = seq;
    run->ns = now_ns - started_ns;
    run->written_bytes = written_bytes() - written_before;
    free(value);
    mdb_env_close(env);
}

/* ---- Reads: full scans and point reads. ---- */

/* A scan runs SCAN_PASSES times over one open ledger: the first pass also faults the map's
 * pages in, the others show the steady rate of a process that has them mapped. */
typedef struct {
    uint64_t events, bytes;
    uint64_t first_ns; /* the first pass */
    uint64_t ns;       /* the fastest of the others */
    rss_t before, after;
} scan_t;

static void scan_pass_done(scan_t *out, int pass, uint64_t events, uint64_t bytes, uint64_t ns)
{
    if (pass == 0) {
        out->events = events;
        out->bytes = bytes;
        out->first_ns = ns;
    } else if (events != out->events) {
        die("two scans of one snapshot counted different events", FL_ECORRUPT);
    } else if (out->ns == 0 || ns < out->ns) {
        out->ns = ns;
    }
}

static void scan_engine(eng_ledger_t *ledger, scan_t *out)
{
    rss_read(&out->before);
    for (int pass = 0; pass < SCAN_PASSES; pass++) {
        eng_iter_t *iter = NULL;
        int rc = eng_iter_log(ledger, 0, ENG_FORWARD, &iter);
        if (rc != 0)
            die("eng_iter_log", rc);
        eng_record_t record;
        uint64_t started_ns = fl_mono_ns(), expected_seq = 1, events = 0, bytes = 0;
        while ((rc = eng_iter_next(iter, &record)) == 0) {
            if (record.seq != expected_seq++)
                die("scan found a gap in the log", FL_ECORRUPT);
            events++;
            bytes += record.raw_len + ENG_HASH_BYTES;
        }
        uint64_t ns = fl_mono_ns() - started_ns;
        if (rc != FL_EEOF)
            die("eng_iter_next", rc);
        eng_iter_close(iter);
        scan_pass_done(out, pass, events, bytes, ns);
    }
    rss_read(&out->after);
}

static void scan_raw(const char *dir, scan_t *out)
{
    MDB_env *env = NULL;
    MDB_dbi dbi;
    raw_open(dir, MDB_RDONLY, &env, &dbi);
    for (int pass = 0; pass < SCAN_PASSES; pass++) {
        MDB_txn *txn = NULL;
        MDB_cursor *cursor = NULL;
        int rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
        if (rc != 0 || (rc = mdb_cursor_open(txn, dbi, &cursor)) != 0)
            die_mdb(dir, rc);
        MDB_val key, value;
        uint64_t started_ns = fl_mono_ns(), events = 0, bytes = 0;
        for (rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
            events++;
            bytes += value.mv_size;
        }
        uint64_t ns = fl_mono_ns() - started_ns;
        if (rc != MDB_NOTFOUND)
            die_mdb("raw scan", rc);
        mdb_cursor_close(cursor);
        mdb_txn_abort(txn);
        scan_pass_done(out, pass, events, bytes, ns);
    }
    mdb_env_close(env);
}

/* POINT_READS reads of uniformly random existing sequences, each with its iterator's close. */
static void point_reads(eng_ledger_t *ledger, uint64_t head_seq, hist_t *latency)
{
    uint64_t state = 0x2545f4914f6cdd1dull;
    for (int i = 0; i < POINT_READS; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        uint64_t seq = 1 + state % head_seq;
        eng_record_t record;
        eng_iter_t *iter = NULL;
        uint64_t started_ns = fl_mono_ns();
        int rc = eng_read(ledger, seq, &record, &iter);
        if (rc == 0)
            eng_iter_close(iter);
        hist_add(latency, fl_mono_ns() - started_ns);
        if (rc != 0 || record.seq != seq)
            die("eng_read", rc != 0 ? rc : FL_ECORRUPT);
    }
}

/* ---- The whole benchmark and its report. ---- */

typedef struct {
    double seconds;
    engine_run_t engine[RUNS_MAX];
    size_t engine_count;
    raw_run_t raw[RUNS_MAX];
    size_t raw_count;
    uint32_t value_len; /* of the raw runs but raw-plant_c64 */
    const engine_run_t *largest;
    const raw_run_t *raw_largest;
    scan_t scan, raw_scan;
    rss_t after_reads;
    hist_t point_read;
} report_t;

static const engine_plan_t engine_plan[] = {
    {.name = "c1", .appenders = 1, .per_call = 1},
    {.name = "c16", .appenders = 16, .per_call = 1},
    {.name = "c64", .appenders = 64, .per_call = 1},
    {.name = "c256", .appenders = 256, .per_call = 1},
    {.name = "batch100", .appenders = 1, .per_call = BATCH_SMALL_EVENTS},
    {.name = "batch100_atomic",
     .appenders = 1,
     .per_call = BATCH_SMALL_EVENTS,
     .flags = ENG_APPEND_ATOMIC},
    {.name = "batch1000", .appenders = 1, .per_call = BATCH_LARGE_EVENTS},
    {.name = "plant_c16", .appenders = 16, .per_call = 1, .workload = WORKLOAD_PLANT, .key = "c16"},
    {.name = "plant_c64", .appenders = 64, .per_call = 1, .workload = WORKLOAD_PLANT, .key = "c64"},
    {.name = "plant_c256",
     .appenders = 256,
     .per_call = 1,
     .workload = WORKLOAD_PLANT,
     .key = "c256"},
    {.name = "c64_submit", .appenders = 64, .per_call = 1, .submit = true},
    {.name = "plant_c64_submit",
     .appenders = 64,
     .per_call = 1,
     .workload = WORKLOAD_PLANT,
     .key = "c64_submit",
     .submit = true},
};
#define ENGINE_RUNS (sizeof(engine_plan) / sizeof(engine_plan[0]))
_Static_assert(ENGINE_RUNS <= RUNS_MAX, "the report has room for every run");
_Static_assert(BATCH_LARGE_EVENTS <= ENG_REQUEST_EVENTS_MAX, "a large batch fits one request");

static const engine_run_t *engine_find(const report_t *report, const char *name)
{
    for (size_t i = 0; i < report->engine_count; i++)
        if (strcmp(report->engine[i].plan.name, name) == 0)
            return &report->engine[i];
    assert(!"every looked-up run is in engine_plan");
    return NULL;
}

static const raw_run_t *raw_find(const report_t *report, const char *name)
{
    for (size_t i = 0; i < report->raw_count; i++)
        if (strcmp(report->raw[i].plan.name, name) == 0)
            return &report->raw[i];
    assert(!"every looked-up raw run is planned");
    return NULL;
}

static double engine_rate(const engine_run_t *run)
{
    return per_second(run->events, run->ns);
}

static double raw_rate(const raw_run_t *run)
{
    return per_second(run->events, run->ns);
}

static double avg_batch(const engine_run_t *run)
{
    return run->commits > 0 ? (double)run->events / (double)run->commits : 0;
}

static void run_engine_plan(report_t *report, const char *dir)
{
    char path[PATH_BYTES_MAX];
    for (size_t i = 0; i < ENGINE_RUNS; i++) {
        engine_run_t *run = &report->engine[report->engine_count++];
        run->plan = engine_plan[i];
        path_join(path, dir, run->plan.name);
        fprintf(stderr, "bench_engine: %s ...\n", run->plan.name);
        engine_run(path, report->seconds, run);
        if (run->plan.workload == WORKLOAD_REUSED &&
            (report->largest == NULL || run->events > report->largest->events))
            report->largest = run;
    }
}

static uint32_t per_txn_of(const engine_run_t *run)
{
    double rounded = avg_batch(run) + 0.5;
    return rounded >= 1 ? (uint32_t)rounded : 1;
}

/* The raw peer at 1, at the engine's events per commit with 64 appenders (threads, then
 * driven), at 100 and 1000, with c64's record size; then at plant_c64's and plant_c64_submit's
 * events per commit with their mean record size. */
static void run_raw_plan(report_t *report, const char *dir)
{
    const raw_plan_t plan[] = {
        {.name = "1", .per_txn = 1},
        {.name = "c64", .per_txn = per_txn_of(engine_find(report, "c64"))},
        {.name = "c64_submit", .per_txn = per_txn_of(engine_find(report, "c64_submit"))},
        {.name = "100", .per_txn = BATCH_SMALL_EVENTS},
        {.name = "1000", .per_txn = BATCH_LARGE_EVENTS},
    };
    report->value_len = engine_find(report, "c64")->record_bytes;
    char path[PATH_BYTES_MAX], name[NAME_BYTES_MAX];
    for (size_t i = 0; i < sizeof(plan) / sizeof(plan[0]); i++) {
        raw_run_t *run = &report->raw[report->raw_count++];
        run->plan = plan[i];
        snprintf(name, sizeof(name), "raw-%s", run->plan.name);
        path_join(path, dir, name);
        fprintf(stderr, "bench_engine: raw %u per txn ...\n", run->plan.per_txn);
        raw_run(path, report->seconds, report->value_len, run);
        if (report->raw_largest == NULL || run->events > report->raw_largest->events)
            report->raw_largest = run;
    }
    static const char *const plants[] = {"plant_c64", "plant_c64_submit"};
    for (size_t i = 0; i < sizeof(plants) / sizeof(plants[0]); i++) {
        const engine_run_t *plant = engine_find(report, plants[i]);
        raw_run_t *run = &report->raw[report->raw_count++];
        run->plan = (raw_plan_t){.name = plants[i], .per_txn = per_txn_of(plant)};
        snprintf(name, sizeof(name), "raw-%s", run->plan.name);
        path_join(path, dir, name);
        fprintf(stderr, "bench_engine: raw %u per txn, %u-byte values ...\n", run->plan.per_txn,
                plant->record_bytes);
        raw_run(path, report->seconds, plant->record_bytes, run);
    }
}

static void run_reads(report_t *report, const char *dir)
{
    char path[PATH_BYTES_MAX], name[NAME_BYTES_MAX];
    path_join(path, dir, report->largest->plan.name);
    fprintf(stderr, "bench_engine: scans and point reads ...\n");
    eng_config_t config = {.dir = path, .map_bytes_initial = MAP_BYTES};
    eng_ledger_t *ledger = NULL;
    int rc = eng_open(&ledger, &config);
    if (rc != 0)
        die(path, rc);
    scan_engine(ledger, &report->scan);
    point_reads(ledger, report->scan.events, &report->point_read);
    rss_read(&report->after_reads);
    eng_close(ledger);
    snprintf(name, sizeof(name), "raw-%s", report->raw_largest->plan.name);
    path_join(path, dir, name);
    scan_raw(path, &report->raw_scan);
}

static void print_engine_table(const report_t *report)
{
    printf("%-16s %7s %8s %9s %10s %8s %9s %9s %8s %8s %8s\n", "engine run", "threads", "per call",
           "events", "events/s", "commits", "ev/commit", "commit ms", "B/event", "p50 us",
           "p99 us");
    for (size_t i = 0; i < report->engine_count; i++) {
        const engine_run_t *run = &report->engine[i];
        double commit_ms =
            run->commits > 0 ? (double)run->commit_ns_total / 1e6 / (double)run->commits : 0;
        printf("%-16s %7d %8u %9llu %10.0f %8llu %9.1f %9.2f %8.0f %8.0f %8.0f\n", run->plan.name,
               run->plan.appenders, run->plan.per_call, (unsigned long long)run->events,
               engine_rate(run), (unsigned long long)run->commits, avg_batch(run), commit_ms,
               per_event(run->written_bytes, run->events), hist_quantile(&run->latency, 0.50) / 1e3,
               hist_quantile(&run->latency, 0.99) / 1e3);
    }
    printf("  worst case, reused streams (c1 .. batch1000): each thread appends in turn to its own"
           " %d streams.\n"
           "  plant mix (plant_*): %d%% new units hu-<uuid7>, %d%% loom stops/restarts, %d%% unit"
           " moves/inspections.\n",
           STREAMS_PER_APPENDER, PLANT_DECLARED_PERCENT, PLANT_LOOM_PERCENT,
           100 - PLANT_DECLARED_PERCENT - PLANT_LOOM_PERCENT);
    printf("  *_submit: 64 appenders, each one request in flight at a time, driven by one thread\n"
           "  through eng_append_submit, as foutad's event loop drives the engine.\n");
    printf("  latency is per eng_append call. Rates of one thread count its time inside\n"
           "  eng_append (not preparing events); rates of several threads count wall time.\n"
           "  commit ms: the writer's transaction, begin to durable commit (eng_stats).\n"
           "  B/event: bytes the process wrote (pwrite of LMDB pages) per event appended.\n\n");
}

static void print_raw_table(const report_t *report)
{
    printf("%-20s %7s %8s %9s %10s %8s %19s %8s %8s\n", "raw LMDB", "value B", "per txn", "events",
           "events/s", "txns", "B/event", "p50 us", "p99 us");
    for (size_t i = 0; i < report->raw_count; i++) {
        const raw_run_t *run = &report->raw[i];
        printf("raw-%-16s %7u %8u %9llu %10.0f %8llu %19.0f %8.0f %8.0f\n", run->plan.name,
               run->value_len, run->plan.per_txn, (unsigned long long)run->events, raw_rate(run),
               (unsigned long long)run->commits, per_event(run->written_bytes, run->events),
               hist_quantile(&run->latency, 0.50) / 1e3, hist_quantile(&run->latency, 0.99) / 1e3);
    }
    printf("  one MDB_INTEGERKEY db, MDB_APPEND, values of the engine's stored record size (c64's\n"
           "  last record; the mean of plant_c64's newest %u for raw-plant_c64), durable commit\n"
           "  per txn; latency is per transaction.\n\n",
           PLANT_RECORDS_SAMPLED);
}

static void print_ratio(const report_t *report, const char *engine_name, const char *raw_name)
{
    const engine_run_t *run = engine_find(report, engine_name);
    const raw_run_t *raw = raw_find(report, raw_name);
    printf("  %-16s / raw-%-16s (%4u per txn) %6.3f\n", engine_name, raw_name, raw->plan.per_txn,
           raw_rate(raw) > 0 ? engine_rate(run) / raw_rate(raw) : 0);
}

static void print_reads(const report_t *report)
{
    const scan_t *scan = &report->scan, *raw = &report->raw_scan;
    double rate = per_second(scan->events, scan->ns), raw_rate_s = per_second(raw->events, raw->ns);
    printf("full scan, %d passes over one open ledger; the best after the first, then the first\n"
           "(its time includes faulting the map's pages in):\n"
           "  engine %-10s %8llu events  %9.0f events/s  first %9.0f (eng_iter_next, decoded)\n"
           "  raw-%-14s %8llu records %9.0f records/s first %9.0f (cursor); engine/raw %.3f\n",
           SCAN_PASSES, report->largest->plan.name, (unsigned long long)scan->events, rate,
           per_second(scan->events, scan->first_ns), report->raw_largest->plan.name,
           (unsigned long long)raw->events, raw_rate_s, per_second(raw->events, raw->first_ns),
           raw_rate_s > 0 ? rate / raw_rate_s : 0);
    printf("memory: VmRSS %ld kB before the scan, %ld kB after (map pages of the file count);\n"
           "        RssAnon %ld kB before, %ld kB after, %ld kB after point reads\n",
           scan->before.rss_kb, scan->after.rss_kb, scan->before.anon_kb, scan->after.anon_kb,
           report->after_reads.anon_kb);
    printf("point reads: %d random eng_read + eng_iter_close: p50 %.2f us, p99 %.2f us\n\n",
           POINT_READS, hist_quantile(&report->point_read, 0.50) / 1e3,
           hist_quantile(&report->point_read, 0.99) / 1e3);
}

static void print_table(const report_t *report)
{
    printf("Fouta Ledger engine benchmark: durable commits (fsync each), %.1f s per run, "
           "%d-byte payloads\n\n",
           report->seconds, PAYLOAD_BYTES);
    print_engine_table(report);
    print_raw_table(report);
    printf("engine / raw LMDB at the same events per transaction:\n");
    print_ratio(report, "c1", "1");
    print_ratio(report, "c64", "c64");
    print_ratio(report, "batch100", "100");
    print_ratio(report, "batch1000", "1000");
    print_ratio(report, "plant_c64", "plant_c64");
    print_ratio(report, "c64_submit", "c64_submit");
    print_ratio(report, "plant_c64_submit", "plant_c64_submit");
    printf("\n");
    print_reads(report);
}

static void print_result(const report_t *report)
{
    printf("RESULT seconds=%g record_bytes=%u", report->seconds, report->value_len);
    for (size_t i = 0; i < report->engine_count; i++) {
        const engine_run_t *run = &report->engine[i];
        const char *name = run->plan.key != NULL ? run->plan.key : run->plan.name;
        const char *p = run->plan.workload == WORKLOAD_PLANT ? "plant_" : "";
        printf(" %sevents_per_s_%s=%.0f %scommits_%s=%llu %savg_batch_%s=%.1f %sp50_us_%s=%.0f"
               " %sp99_us_%s=%.0f %swritten_bytes_per_event_%s=%.0f %serrors_%s=%llu",
               p, name, engine_rate(run), p, name, (unsigned long long)run->commits, p, name,
               avg_batch(run), p, name, hist_quantile(&run->latency, 0.50) / 1e3, p, name,
               hist_quantile(&run->latency, 0.99) / 1e3, p, name,
               per_event(run->written_bytes, run->events), p, name,
               (unsigned long long)run->errors);
        if (run->plan.workload == WORKLOAD_PLANT)
            printf(" plant_record_bytes_%s=%u", name, run->record_bytes);
    }
    for (size_t i = 0; i < report->raw_count; i++)
        printf(" raw_events_per_s_%s=%.0f raw_per_txn_%s=%u raw_written_bytes_per_event_%s=%.0f",
               report->raw[i].plan.name, raw_rate(&report->raw[i]), report->raw[i].plan.name,
               report->raw[i].plan.per_txn, report->raw[i].plan.name,
               per_event(report->raw[i].written_bytes, report->raw[i].events));
    static const char *const pairs[][2] = {{"c1", "1"},
                                           {"c64", "c64"},
                                           {"batch100", "100"},
                                           {"batch1000", "1000"},
                                           {"c64_submit", "c64_submit"}};
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        double raw = raw_rate(raw_find(report, pairs[i][1]));
        printf(" ratio_vs_raw_%s=%.3f", pairs[i][0],
               raw > 0 ? engine_rate(engine_find(report, pairs[i][0])) / raw : 0);
    }
    static const char *const plants[][2] = {{"plant_c64", "c64"},
                                            {"plant_c64_submit", "c64_submit"}};
    for (size_t i = 0; i < sizeof(plants) / sizeof(plants[0]); i++) {
        double raw = raw_rate(raw_find(report, plants[i][0]));
        printf(" plant_ratio_vs_raw_%s=%.3f", plants[i][1],
               raw > 0 ? engine_rate(engine_find(report, plants[i][0])) / raw : 0);
    }
    printf(" scan_events=%llu scan_events_per_s=%.0f scan_first_pass_events_per_s=%.0f"
           " raw_scan_events_per_s=%.0f"
           " rss_kb_before_scan=%ld rss_kb_after_scan=%ld rss_anon_kb_before_scan=%ld"
           " rss_anon_kb_after_scan=%ld point_read_p50_us=%.2f point_read_p99_us=%.2f\n",
           (unsigned long long)report->scan.events,
           per_second(report->scan.events, report->scan.ns),
           per_second(report->scan.events, report->scan.first_ns),
           per_second(report->raw_scan.events, report->raw_scan.ns), report->scan.before.rss_kb,
           report->scan.after.rss_kb, report->scan.before.anon_kb, report->scan.after.anon_kb,
           hist_quantile(&report->point_read, 0.50) / 1e3,
           hist_quantile(&report->point_read, 0.99) / 1e3);
}

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr,
                "usage: bench_engine DIR\n"
                "  Appends to fresh ledgers under DIR (which must exist; the caller\n"
                "  removes it). BENCH_SECONDS sets each run's length (default %.0f).\n",
                SECONDS_DEFAULT);
        return 2;
    }
    static report_t report; /* large (histograms): not on the stack */
    report.seconds = seconds_from_env();
    payload_fill();
    run_engine_plan(&report, argv[1]);
    run_raw_plan(&report, argv[1]);
    run_reads(&report, argv[1]);
    print_table(&report);
    print_result(&report);
    uint64_t errors = 0;
    for (size_t i = 0; i < report.engine_count; i++) {
        errors += report.engine[i].errors;
        if (report.engine[i].errors > 0)
            fprintf(stderr, "bench_engine: %s: %llu failed appends, first: %s\n",
                    report.engine[i].plan.name, (unsigned long long)report.engine[i].errors,
                    fl_strerror(report.engine[i].first_error));
    }
    return errors > 0 ? 1 : 0;
}
