/*
 * projections_test.h: what the projection tests share - a scratch plant ledger per test, a day
 * of the plant and a steady load posted through the catalog, the real servers that
 * tests/support/servers.sh started (FL_TEST_PG_URL, FL_TEST_REDIS_URL), and the ledger's own
 * state (eng_rows) as text, to compare with what the sinks hold.
 */
#ifndef FL_TESTS_PROJECTIONS_TEST_H
#define FL_TESTS_PROJECTIONS_TEST_H

#include "tests/engine/plant.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>

#include "projections/projections.h"

#define STATE_ROWS_INITIAL 8192 /* doubled as needed: a crash test's tables hold more */
#define STATE_ROWS_MAX     (1u << 22)

/* One row as "key=value" text; a table is sorted before it is compared. */
typedef struct {
    char (*lines)[384];
    unsigned count, capacity;
} state_t;

static inline void state_init(state_t *state)
{
    state->lines = calloc(STATE_ROWS_INITIAL, sizeof(*state->lines));
    cr_assert_not_null(state->lines);
    state->count = 0;
    state->capacity = STATE_ROWS_INITIAL;
}

static inline void state_free(state_t *state)
{
    free(state->lines);
    state->lines = NULL;
}

static inline void state_add(state_t *state, const char *line)
{
    if (state->count == state->capacity) {
        cr_assert_lt(state->capacity, STATE_ROWS_MAX);
        state->capacity *= 2;
        state->lines = realloc(state->lines, state->capacity * sizeof(*state->lines));
        cr_assert_not_null(state->lines);
    }
    snprintf(state->lines[state->count++], sizeof(state->lines[0]), "%s", line);
}

static inline int line_order(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Both tables sorted, then equal line by line (the first difference is named). */
static inline void state_assert_equal(state_t *expected, state_t *actual, const char *what)
{
    qsort(expected->lines, expected->count, sizeof(expected->lines[0]), line_order);
    qsort(actual->lines, actual->count, sizeof(actual->lines[0]), line_order);
    unsigned n = expected->count < actual->count ? expected->count : actual->count;
    for (unsigned i = 0; i < n; i++)
        cr_assert_str_eq(actual->lines[i], expected->lines[i], "%s: row %u is %s, not %s", what, i,
                         actual->lines[i], expected->lines[i]);
    cr_assert_eq(actual->count, expected->count, "%s: %u rows instead of %u", what, actual->count,
                 expected->count);
}

static inline void wait_ms(unsigned ms)
{
    nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000},
              NULL);
}

static inline const char *env_or_skip(const char *name)
{
    const char *value = getenv(name);
    cr_assert_not_null(value, "%s: run through tests/support/servers.sh (ctest does)", name);
    return value;
}

/* servers.sh pg-stop, pg-start, redis-stop, redis-start... on the test's servers. */
static inline void servers(const char *action)
{
    char command[1024];
    snprintf(command, sizeof(command), "%s %s %s", env_or_skip("FL_TEST_SERVERS_SH"), action,
             env_or_skip("FL_TEST_SERVERS"));
    cr_assert_eq(system(command), 0, "%s", command);
}

/* Tests share the servers (Criterion runs two at a time); one that breaks them - stops or
 * pauses a server, kills connections - takes them for itself, since the others would see its
 * faults, and it would see theirs. alone: exclusive, else shared. Held until the test's process
 * ends. */
static inline void servers_take(bool alone)
{
    static int fd = -1;
    if (fd < 0) {
        char path[600];
        snprintf(path, sizeof(path), "%s/faults.lock", env_or_skip("FL_TEST_SERVERS"));
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        cr_assert_geq(fd, 0, "%s", path);
    }
    cr_assert_eq(flock(fd, alone ? LOCK_EX : LOCK_SH), 0);
}

static char ledger_dir[512];

/* Opens the test's ledger: DIR/ledger, where fouta-project --data-dir DIR finds it. Scratch (no
 * fsync): these tests kill processes, not machines. */
static inline void ledger_open(void)
{
    eng_config_t config = {.dir = ledger_dir, .rules = ENG_RULES_PLANT, .scratch = true};
    cr_assert_eq(eng_open(&ledger, &config), 0);
}

static inline void projections_setup(void)
{
    test_tmpdir(dir, sizeof(dir));
    snprintf(ledger_dir, sizeof(ledger_dir), "%s/ledger", dir);
    ledger_open();
    next_id = 1;
}

/* fouta-project on the test's ledger in a child process (to be killed); the test's own ledger
 * handle must be closed first: one process writes a ledger at a time. */
static inline pid_t project_in_child(const char *sink_flag, const char *url, const char *tenant,
                                     const char *batch)
{
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execl(FOUTA_PROJECT, "fouta-project", "--data-dir", dir, sink_flag, url, "--tenant", tenant,
              "--batch", batch, (char *)NULL);
        _exit(127);
    }
    return child;
}

/* ---- a steady load after the plant's day: receipts, moves, and the loom stopping */

static inline void load_post(unsigned i)
{
    POSTED(EV_ROLE_STORE_RAW, "GoodsReceived",
           J("{\"hu_id\":\"G%u\",\"item_id\":\"YARN-30\",\"qty_milli\":%u,\"unit\":\"kg\","
             "\"location_id\":\"MP1\",\"supplier\":\"Filature du Sahel\"}",
             i, 1000 + i));
    POSTED(EV_ROLE_STORE_RAW, "StockTransferred",
           J("{\"hu_id\":\"G%u\",\"from_location_id\":\"MP1\",\"to_location_id\":\"MP%u\"}", i,
             2 + i % 3));
    if (i % 8 == 0)
        POSTED(EV_ROLE_WEAVER, "LoomStopped",
               "{\"loom_id\":\"L1\",\"stop_class\":\"weft\",\"reason_code\":\"F3\","
               "\"picks\":1800000}");
    if (i % 8 == 4)
        POSTED(EV_ROLE_WEAVER, "LoomRestarted", "{\"loom_id\":\"L1\",\"picks\":1800000}");
}

/* ---- the ledger's own state as text, in the form the sinks' comparisons use */

static inline void row_line(const eng_row_t *row, char *line, size_t size)
{
    switch (row->kind) {
    case ENG_ROW_HU: {
        const eng_hu_view_t *hu = &row->hu;
        snprintf(line, size, "hu %s=%s|%s|%s|%lld|%s|%s|%s|%s|%lld|%llu", row->id, hu->status,
                 hu->item, hu->unit, (long long)hu->qty_milli,
                 hu->grade == 1   ? "first"
                 : hu->grade == 2 ? "second"
                                  : "",
                 hu->location, hu->parent, hu->holder, (long long)hu->out_milli,
                 (unsigned long long)hu->created_seq);
        break;
    }
    case ENG_ROW_STOCK:
        snprintf(line, size, "stock %s|%s|%s|%s=%lld", row->stock.item, row->stock.location,
                 row->stock.status,
                 row->stock.grade == 1   ? "first"
                 : row->stock.grade == 2 ? "second"
                                         : "",
                 (long long)row->stock.qty_milli);
        break;
    case ENG_ROW_ORDER:
        snprintf(line, size, "order %s=%s|%s|%s|%lld|%lld", row->id, row->order.state,
                 row->order.item, row->order.unit, (long long)row->order.planned_milli,
                 (long long)row->order.declared_milli);
        break;
    case ENG_ROW_LOOM:
        snprintf(line, size, "loom %s=%d|%s|%s|%s|%s|%d|%llu", row->id, row->loom.stopped,
                 row->loom.stop_code, row->loom.order, row->loom.beams[0], row->loom.beams[1],
                 row->loom.first_piece_passed, (unsigned long long)row->loom.since_seq);
        break;
    case ENG_ROW_BEAM:
        snprintf(line, size, "beam %s=%s|%s|%s|%lld", row->id, row->beam.item, row->beam.loom,
                 row->beam.position, (long long)row->beam.remaining_milli);
        break;
    case ENG_ROW_RECORD:
        snprintf(line, size, "record %s:%s=%s|%s|%u|%llu", row->kind_name, row->id,
                 row->record.state, row->record.subject, row->record.count,
                 (unsigned long long)row->record.since_seq);
        break;
    case ENG_ROW_SUBLOT:
        snprintf(line, size, "sublot %s=%s|%s|%s|%lld", row->id, row->sublot.state, row->sublot.sub,
                 row->sublot.item, (long long)row->sublot.out_milli);
        break;
    case ENG_ROW_LINK:
        snprintf(line, size, "link %s>%s=%s|%llu", row->link.from, row->link.to, row->link.kind,
                 (unsigned long long)row->link.seq);
        break;
    default:
        snprintf(line, size, "article %s=%lld|%lld|%d", row->id,
                 (long long)row->article.cutting_tolerance_permille,
                 (long long)row->article.overproduction_allowed_permille,
                 row->article.first_piece_required);
    }
}

typedef struct {
    state_t *state;
    uint32_t kinds; /* bit per eng_row_kind_t to keep */
} ledger_walk_t;

static inline int ledger_row(uint64_t seq, const eng_row_t *row, void *data)
{
    (void)seq;
    ledger_walk_t *walk = data;
    char line[384];
    if ((walk->kinds & (1u << row->kind)) == 0)
        return 0;
    row_line(row, line, sizeof(line));
    state_add(walk->state, line);
    return 0;
}

/* The ledger's rows of the kinds in the mask. */
static inline void ledger_state(state_t *state, uint32_t kinds)
{
    ledger_walk_t walk = {state, kinds};
    uint64_t at;
    for (int kind = ENG_ROW_HU; kind < ENG_ROW_KINDS; kind++)
        cr_assert_eq(eng_rows(ledger, (eng_row_kind_t)kind, ledger_row, &walk, &at), 0);
}

static inline prj_projector_t *projector_start(prj_sink_t *sink, const char *name, uint32_t batch,
                                               prj_poison_t on_poison)
{
    prj_config_t config = {
        .name = name, .batch_events_max = batch, .on_poison = on_poison, .retry_ms_max = 200};
    prj_projector_t *projector = NULL;
    cr_assert_eq(prj_start(&projector, ledger, sink, &config), 0);
    return projector;
}

/* A projector whose waits on its server end after io_timeout_ms: the fault tests lower it, to
 * wait a second rather than PRJ_IO_TIMEOUT_S. */
static inline prj_projector_t *projector_start_timeout(prj_sink_t *sink, const char *name,
                                                       uint32_t batch, uint32_t io_timeout_ms)
{
    prj_config_t config = {.name = name,
                           .batch_events_max = batch,
                           .on_poison = PRJ_POISON_SKIP,
                           .retry_ms_max = 200,
                           .io_timeout_ms = io_timeout_ms};
    prj_projector_t *projector = NULL;
    cr_assert_eq(prj_start(&projector, ledger, sink, &config), 0);
    return projector;
}

/* Waits until the projector shows its sink down (faulted, FL_ESINK_DOWN) with a last error that
 * contains what; returns how long that took. */
static inline uint32_t faulted_with(prj_projector_t *projector, const char *what,
                                    uint32_t timeout_ms)
{
    prj_status_t status;
    uint64_t start = fl_mono_ns();
    for (;;) {
        prj_status(projector, &status);
        uint32_t waited = (uint32_t)((fl_mono_ns() - start) / 1000000);
        if (status.state == PRJ_STATE_FAULTED && status.last_error == FL_ESINK_DOWN &&
            strstr(status.last_error_text, what) != NULL)
            return waited;
        if (waited > timeout_ms)
            break;
        wait_ms(20);
    }
    cr_assert_fail("not faulted with \"%s\" after %u ms: %s, %s", what, timeout_ms,
                   prj_state_name(status.state), status.last_error_text);
    return 0;
}

/* prj_stop, timed: milliseconds. */
static inline uint32_t stop_timed(prj_projector_t *projector)
{
    uint64_t start = fl_mono_ns();
    prj_stop(projector);
    return (uint32_t)((fl_mono_ns() - start) / 1000000);
}

/* Waits for the projector's first connection (its schema made). */
static inline void connected(prj_projector_t *projector)
{
    prj_status_t status;
    for (int tries = 0; tries < 1000; tries++) {
        prj_status(projector, &status);
        if (status.state == PRJ_STATE_RUNNING)
            return;
        wait_ms(10);
    }
    cr_assert_fail("not connected: %s %s", prj_state_name(status.state), status.last_error_text);
}

static inline void caught_up(prj_projector_t *projector, uint32_t timeout_ms)
{
    uint64_t head = head_seq();
    int rc = prj_wait_checkpoint(projector, head, timeout_ms);
    prj_status_t status;
    prj_status(projector, &status);
    cr_assert_eq(rc, 0, "checkpoint %llu of %llu: %s %s", (unsigned long long)status.checkpoint,
                 (unsigned long long)head, prj_state_name(status.state), status.last_error_text);
}

/* ---- the fault tests: a load posted from a thread while the sink's server is broken */

typedef struct {
    unsigned count;
    int64_t slowest_us; /* the slowest append */
    pthread_t thread;
} load_t;

static inline void *load_main(void *arg)
{
    load_t *load = arg;
    for (unsigned i = 0; i < load->count; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        load_post(i); /* asserts that every append is accepted */
        clock_gettime(CLOCK_MONOTONIC, &t1);
        int64_t us = (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
        if (us > load->slowest_us)
            load->slowest_us = us;
        wait_ms(1);
    }
    return NULL;
}

/* load_post(0..count-1) from a thread, 1 ms apart. */
static inline void load_start(load_t *load, unsigned count)
{
    *load = (load_t){.count = count};
    cr_assert_eq(pthread_create(&load->thread, NULL, load_main, load), 0);
}

static inline void load_join(load_t *load)
{
    pthread_join(load->thread, NULL);
}

/* What a fault test holds: its sink, the projector on it, and the load it posts. */
typedef struct {
    prj_sink_t *sink;
    prj_projector_t *projector;
    load_t load;
} fault_scenario_t;

static inline void scenario_end(fault_scenario_t *s)
{
    prj_stop(s->projector);
    prj_sink_close(s->sink);
}

/* Kills the projector's connections every 150 ms, six times: how many kill_projector ended. */
static inline uint64_t kill_projector_six_times(uint64_t (*kill_projector)(void))
{
    uint64_t killed = 0;
    for (int i = 0; i < 6; i++) {
        wait_ms(150);
        killed += kill_projector();
    }
    return killed;
}

/* The projector met an error and tried again. */
static inline void assert_retried(prj_projector_t *projector)
{
    prj_status_t status;
    prj_status(projector, &status);
    cr_assert_gt(status.retries, 0);
}

/* A server stalled under load: the projector faults with what (its timeout, not a hang) while
 * it lags, and while the server stays stalled it keeps faulted and retrying: reconnecting to a
 * server that says nothing times out too, and again. */
static inline void assert_stall_times_out_and_retries(prj_projector_t *projector, const char *what)
{
    uint32_t ms = faulted_with(projector, what, 10000);
    cr_log_info("faulted %u ms after the pause", ms);
    prj_status_t status;
    prj_status(projector, &status);
    cr_assert_gt(status.lag_events, 0);
    uint64_t retries = status.retries;
    wait_ms(2500);
    prj_status(projector, &status);
    cr_assert_eq(status.state, PRJ_STATE_FAULTED, "%s", prj_state_name(status.state));
    cr_assert_gt(status.retries, retries, "the projector hangs in a connect");
}

#endif
