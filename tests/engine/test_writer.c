/*
 * Tests of the append path: sequences, idempotency, expected versions, atomic groups, group
 * commit under concurrency, map growth, a full disk and the queue's bound.
 */
#include "tests/support/support.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>

static char dir[256];
static eng_ledger_t *ledger;

static void setup(void)
{
    test_tmpdir(dir, sizeof(dir));
    ledger = test_ledger_open(dir);
}

static void teardown(void)
{
    eng_close(ledger);
    test_tmpdir_remove(dir);
}

TestSuite(writer, .init = setup, .fini = teardown, .timeout = 60);

static uint64_t count_log(eng_ledger_t *l)
{
    eng_iter_t *iter;
    cr_assert_eq(eng_iter_log(l, 0, ENG_FORWARD, &iter), 0);
    eng_record_t record;
    uint64_t count = 0;
    while (eng_iter_next(iter, &record) == 0)
        count++;
    eng_iter_close(iter);
    return count;
}

Test(writer, appended_events_get_contiguous_sequences_from_one)
{
    eng_head_t head;
    eng_head(ledger, &head);
    cr_assert_eq(head.seq, 0);
    for (unsigned i = 0; i < 10; i++) {
        test_event_t e;
        test_event_make(&e, i % 2 ? "hu-A" : "hu-B", i);
        eng_position_t position = test_append_one(ledger, &e.event);
        cr_assert_eq(position.seq, i + 1);
        cr_assert_eq(position.stream_version, i / 2 + 1);
        cr_assert_not(position.duplicate);
    }
    eng_head(ledger, &head);
    cr_assert_eq(head.seq, 10);
}

Test(writer, retry_with_same_event_id_returns_original_position)
{
    test_event_t e;
    test_event_make(&e, "hu-1", 1);
    eng_position_t first = test_append_one(ledger, &e.event);
    eng_position_t again = test_append_one(ledger, &e.event);
    cr_assert(again.duplicate);
    cr_assert_eq(again.seq, first.seq);
    cr_assert_eq(again.stream_version, first.stream_version);
    cr_assert_arr_eq(again.hash, first.hash, ENG_HASH_BYTES);
    cr_assert_eq(count_log(ledger), 1);
}

Test(writer, retry_with_same_event_id_after_reopen_returns_original_position)
{
    test_event_t e, other;
    test_event_make(&e, "hu-1", 1);
    test_event_make(&other, "hu-2", 2);
    test_append_one(ledger, &other.event);
    eng_position_t first = test_append_one(ledger, &e.event);
    eng_close(ledger);
    ledger = test_ledger_open(dir);
    eng_position_t again = test_append_one(ledger, &e.event);
    cr_assert(again.duplicate);
    cr_assert_eq(again.seq, first.seq);
    cr_assert_arr_eq(again.hash, first.hash, ENG_HASH_BYTES);
    cr_assert_eq(count_log(ledger), 2);
}

Test(writer, same_id_with_different_content_is_a_conflict_and_writes_nothing)
{
    test_event_t e;
    test_event_make(&e, "hu-1", 1);
    eng_position_t first = test_append_one(ledger, &e.event);
    e.payload[10] ^= 1;
    eng_position_t position;
    int result = 0;
    int rc = eng_append(ledger, &e.event, 1, 0, &position, &result);
    cr_assert_eq(rc, FL_ECONFLICT_ID);
    cr_assert_eq(result, FL_ECONFLICT_ID);
    cr_assert_eq(position.seq, first.seq, "the conflict names the original position");
    cr_assert_eq(count_log(ledger), 1);
}

Test(writer, duplicate_ids_inside_one_request_are_recorded_once)
{
    test_event_t e;
    test_event_make(&e, "hu-1", 1);
    eng_event_t events[3] = {e.event, e.event, e.event};
    eng_position_t positions[3];
    int results[3];
    cr_assert_eq(eng_append(ledger, events, 3, 0, positions, results), 0);
    cr_assert_not(positions[0].duplicate);
    cr_assert(positions[1].duplicate && positions[2].duplicate);
    cr_assert_eq(positions[1].seq, positions[0].seq);
    cr_assert_eq(count_log(ledger), 1);
}

Test(writer, expected_no_stream_refuses_an_existing_stream)
{
    test_event_t a, b;
    test_event_make(&a, "of-1", 1);
    test_event_make(&b, "of-1", 2);
    a.event.expected_version = ENG_EXPECT_NO_STREAM;
    test_append_one(ledger, &a.event);
    b.event.expected_version = ENG_EXPECT_NO_STREAM;
    eng_position_t position;
    cr_assert_eq(eng_append(ledger, &b.event, 1, 0, &position, NULL), FL_ECONFLICT_VERSION);
    cr_assert_eq(count_log(ledger), 1);
}

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
    int hold; /* while set, the first callback keeps the writer busy */
} gate_t;

static void gate_cb(eng_append_req_t *req, void *data)
{
    (void)req;
    gate_t *gate = data;
    pthread_mutex_lock(&gate->lock);
    while (gate->hold)
        pthread_cond_wait(&gate->cond, &gate->lock);
    gate->done++;
    pthread_cond_broadcast(&gate->cond);
    pthread_mutex_unlock(&gate->lock);
}

Test(writer, conflicting_expected_version_writes_nothing_and_reports_the_actual_version)
{
    test_event_t e[3];
    for (unsigned i = 0; i < 3; i++) {
        test_event_make(&e[i], "loom-7", i);
        test_append_one(ledger, &e[i].event);
    }
    test_event_t late;
    test_event_make(&late, "loom-7", 9);
    late.event.expected_version = 2;
    eng_position_t position;
    int result;
    gate_t gate = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    eng_append_req_t req = {.events = &late.event,
                            .count = 1,
                            .positions = &position,
                            .results = &result,
                            .cb = gate_cb,
                            .data = &gate};
    cr_assert_eq(eng_append_submit(ledger, &req), 0);
    pthread_mutex_lock(&gate.lock);
    while (gate.done == 0)
        pthread_cond_wait(&gate.cond, &gate.lock);
    pthread_mutex_unlock(&gate.lock);
    cr_assert_eq(req.status, FL_ECONFLICT_VERSION);
    cr_assert_eq(req.actual_version, 3);
    cr_assert_eq(position.seq, 0);
    cr_assert_eq(count_log(ledger), 3);
    late.event.expected_version = 3;
    cr_assert_eq(test_append_one(ledger, &late.event).stream_version, 4);
}

Test(writer, atomic_group_with_one_bad_member_writes_nothing)
{
    test_event_t existing;
    test_event_make(&existing, "hu-roll", 0);
    test_append_one(ledger, &existing.event);
    test_event_t cut[4];
    eng_event_t events[4];
    for (unsigned i = 0; i < 4; i++) {
        test_event_make(&cut[i], i == 0 ? "hu-roll" : "hu-bundle", i + 1);
        events[i] = cut[i].event;
    }
    events[2].expected_version = 7; /* hu-bundle is at version 2 by then */
    eng_position_t positions[4];
    int results[4];
    eng_head_t before, after;
    eng_head(ledger, &before);
    int rc = eng_append(ledger, events, 4, ENG_APPEND_ATOMIC, positions, results);
    cr_assert_eq(rc, FL_ECONFLICT_VERSION);
    cr_assert_eq(results[2], FL_ECONFLICT_VERSION);
    cr_assert_eq(results[0], FL_EABORTED);
    cr_assert_eq(results[1], FL_EABORTED);
    cr_assert_eq(results[3], FL_EABORTED);
    eng_head(ledger, &after);
    cr_assert_eq(after.seq, before.seq);
    cr_assert_arr_eq(after.hash, before.hash, ENG_HASH_BYTES);
    cr_assert_eq(count_log(ledger), 1);
    eng_position_t unknown;
    cr_assert_eq(eng_lookup_id(ledger, cut[0].event.id, &unknown), FL_ENOENT,
                 "an aborted member's id is not recorded");
    events[2].expected_version = ENG_EXPECT_ANY;
    cr_assert_eq(eng_append(ledger, events, 4, ENG_APPEND_ATOMIC, positions, results), 0);
    cr_assert_eq(positions[3].seq, 5);
    cr_assert_eq(positions[3].stream_version, 3);
}

Test(writer, non_atomic_request_writes_the_good_members)
{
    test_event_t e[3];
    eng_event_t events[3];
    for (unsigned i = 0; i < 3; i++) {
        test_event_make(&e[i], "hu-x", i);
        events[i] = e[i].event;
    }
    events[1].expected_version = 5;
    eng_position_t positions[3];
    int results[3];
    cr_assert_eq(eng_append(ledger, events, 3, 0, positions, results), FL_ECONFLICT_VERSION);
    cr_assert_eq(results[0], 0);
    cr_assert_eq(results[1], FL_ECONFLICT_VERSION);
    cr_assert_eq(results[2], 0);
    cr_assert_eq(positions[2].seq, 2);
    cr_assert_eq(count_log(ledger), 2);
}

Test(writer, malformed_events_are_refused_before_queuing)
{
    test_event_t e;
    test_event_make(&e, "hu-1", 1);
    eng_position_t position;
    eng_event_t bad = e.event;
    bad.type = "";
    cr_assert_eq(eng_append(ledger, &bad, 1, 0, &position, NULL), FL_EINVAL);
    bad = e.event;
    bad.schema_version = 0;
    cr_assert_eq(eng_append(ledger, &bad, 1, 0, &position, NULL), FL_EINVAL);
    bad = e.event;
    bad.expected_version = -5;
    cr_assert_eq(eng_append(ledger, &bad, 1, 0, &position, NULL), FL_EINVAL);
    bad = e.event;
    bad.entities_count = ENG_ENTITIES_MAX + 1;
    cr_assert_eq(eng_append(ledger, &bad, 1, 0, &position, NULL), FL_ETOOBIG);
    bad = e.event;
    bad.payload_len = ENG_PAYLOAD_BYTES_MAX + 1;
    cr_assert_eq(eng_append(ledger, &bad, 1, 0, &position, NULL), FL_ETOOBIG);
    char long_stream[ENG_STREAM_LEN_MAX + 2];
    memset(long_stream, 's', sizeof(long_stream) - 1);
    long_stream[sizeof(long_stream) - 1] = '\0';
    bad = e.event;
    bad.stream = long_stream;
    cr_assert_eq(eng_append(ledger, &bad, 1, 0, &position, NULL), FL_EINVAL);
    cr_assert_eq(eng_append(ledger, &e.event, 0, 0, &position, NULL), FL_EINVAL);
    cr_assert_eq(count_log(ledger), 0);
}

typedef struct {
    eng_ledger_t *ledger;
    unsigned thread;
    unsigned events;
    uint64_t *seqs;
} appender_t;

static void *appender_main(void *arg)
{
    appender_t *a = arg;
    char stream[32];
    snprintf(stream, sizeof(stream), "hu-t%u", a->thread);
    for (unsigned i = 0; i < a->events; i++) {
        test_event_t e;
        test_event_make(&e, stream, i);
        e.event.expected_version = (int64_t)i; /* each thread owns its stream */
        eng_position_t position;
        int rc = eng_append(a->ledger, &e.event, 1, 0, &position, NULL);
        if (rc != 0 || position.stream_version != i + 1)
            return (void *)1;
        a->seqs[i] = position.seq;
    }
    return NULL;
}

Test(writer, concurrent_appenders_get_contiguous_sequences_and_a_valid_chain)
{
    enum { THREADS = 16, EVENTS = 300 };
    static uint64_t seqs[THREADS][EVENTS];
    pthread_t threads[THREADS];
    appender_t appenders[THREADS];
    for (unsigned t = 0; t < THREADS; t++) {
        appenders[t] = (appender_t){ledger, t, EVENTS, seqs[t]};
        cr_assert_eq(pthread_create(&threads[t], NULL, appender_main, &appenders[t]), 0);
    }
    for (unsigned t = 0; t < THREADS; t++) {
        void *failed;
        pthread_join(threads[t], &failed);
        cr_assert_null(failed, "appender %u failed", t);
    }
    static uint8_t seen[THREADS * EVENTS + 1];
    for (unsigned t = 0; t < THREADS; t++)
        for (unsigned i = 0; i < EVENTS; i++) {
            uint64_t seq = seqs[t][i];
            cr_assert(seq >= 1 && seq <= THREADS * EVENTS);
            cr_assert_not(seen[seq], "sequence %lu given twice", (unsigned long)seq);
            seen[seq] = 1;
        }
    uint64_t checked, bad;
    cr_assert_eq(eng_verify(ledger, &checked, &bad), 0);
    cr_assert_eq(checked, THREADS * EVENTS);
    eng_stats_t stats;
    eng_stats(ledger, &stats);
    cr_assert_eq(stats.events_appended, THREADS * EVENTS);
    cr_assert_lt(stats.commits, stats.events_appended, "group commit batched nothing");
}

Test(writer, map_grows_by_itself_when_full)
{
    eng_close(ledger);
    test_tmpdir_remove(dir);
    test_tmpdir(dir, sizeof(dir));
    eng_config_t config = {.dir = dir, .map_bytes_initial = 256 * 1024};
    cr_assert_eq(eng_open(&ledger, &config), 0);
    enum { BATCH = 200, ROUNDS = 20 };
    static test_event_t e[BATCH];
    static eng_event_t events[BATCH];
    eng_position_t positions[BATCH];
    for (unsigned r = 0; r < ROUNDS; r++) {
        for (unsigned i = 0; i < BATCH; i++) {
            test_event_make(&e[i], "hu-big", r * BATCH + i);
            events[i] = e[i].event;
        }
        int rc = eng_append(ledger, events, BATCH, 0, positions, NULL);
        cr_assert_eq(rc, 0, "round %u: %s", r, fl_strerror(rc));
    }
    eng_stats_t stats;
    eng_stats(ledger, &stats);
    cr_assert_gt(stats.map_resizes, 0);
    cr_assert_gt(stats.map_bytes, 256 * 1024);
    uint64_t checked, bad;
    cr_assert_eq(eng_verify(ledger, &checked, &bad), 0);
    cr_assert_eq(checked, BATCH * ROUNDS);
}

Test(writer, a_ledger_at_its_maximum_size_refuses_appends_and_stays_readable)
{
    eng_close(ledger);
    test_tmpdir_remove(dir);
    test_tmpdir(dir, sizeof(dir));
    eng_config_t config = {
        .dir = dir, .map_bytes_initial = 256 * 1024, .map_bytes_max = 512 * 1024};
    cr_assert_eq(eng_open(&ledger, &config), 0);
    int rc = 0;
    uint64_t accepted = 0;
    for (unsigned i = 0; i < 5000 && rc == 0; i++) {
        test_event_t e;
        test_event_make(&e, "hu-full", i);
        eng_position_t position;
        rc = eng_append(ledger, &e.event, 1, 0, &position, NULL);
        accepted += rc == 0;
    }
    cr_assert_eq(rc, FL_ELEDGER_FULL);
    uint64_t checked, bad;
    cr_assert_eq(eng_verify(ledger, &checked, &bad), 0);
    cr_assert_eq(checked, accepted);
}

Test(writer, a_full_disk_is_a_clear_error_and_leaves_the_ledger_consistent)
{
    /* A file-size limit makes the data file's writes fail as a full disk would. */
    signal(SIGXFSZ, SIG_IGN);
    for (unsigned i = 0; i < 50; i++) {
        test_event_t e;
        test_event_make(&e, "hu-disk", i);
        test_append_one(ledger, &e.event);
    }
    struct stat st;
    char data_path[300];
    snprintf(data_path, sizeof(data_path), "%s/data.mdb", dir);
    cr_assert_eq(stat(data_path, &st), 0);
    struct rlimit limit = {.rlim_cur = (rlim_t)st.st_size, .rlim_max = RLIM_INFINITY};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
    int rc = 0;
    uint64_t accepted = 50;
    for (unsigned i = 0; i < 2000 && rc == 0; i++) {
        test_event_t e;
        test_event_make(&e, "hu-disk", 100 + i);
        eng_position_t position;
        rc = eng_append(ledger, &e.event, 1, 0, &position, NULL);
        accepted += rc == 0;
    }
    cr_assert_eq(rc, FL_ENOSPC, "got %s", fl_strerror(rc));
    limit.rlim_cur = RLIM_INFINITY;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
    uint64_t checked, bad;
    cr_assert_eq(eng_verify(ledger, &checked, &bad), 0);
    cr_assert_eq(checked, accepted);
    /* Space is back: appends continue the chain, and a reopen sees the same ledger. */
    test_event_t after;
    test_event_make(&after, "hu-disk", 9999);
    cr_assert_eq(test_append_one(ledger, &after.event).seq, accepted + 1);
    eng_close(ledger);
    ledger = test_ledger_open(dir);
    cr_assert_eq(eng_verify(ledger, &checked, &bad), 0);
    cr_assert_eq(checked, accepted + 1);
}

Test(writer, a_full_queue_refuses_with_busy_and_loses_nothing_queued)
{
    eng_close(ledger);
    test_tmpdir_remove(dir);
    test_tmpdir(dir, sizeof(dir));
    eng_config_t config = {.dir = dir, .queue_events_max = 1, .batch_events_max = 1};
    cr_assert_eq(eng_open(&ledger, &config), 0);
    /* The queue's floor is one request of ENG_REQUEST_EVENTS_MAX events. */
    enum { N = ENG_REQUEST_EVENTS_MAX };
    static test_event_t e[3][N];
    static eng_event_t events[3][N];
    static eng_position_t positions[3][N];
    static int results[3][N];
    gate_t gate = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .hold = 1};
    eng_append_req_t reqs[3];
    for (unsigned r = 0; r < 3; r++) {
        for (unsigned i = 0; i < N; i++) {
            test_event_make(&e[r][i], "hu-q", r * N + i);
            events[r][i] = e[r][i].event;
        }
        reqs[r] = (eng_append_req_t){.events = events[r],
                                     .count = N,
                                     .positions = positions[r],
                                     .results = results[r],
                                     .cb = gate_cb,
                                     .data = &gate};
    }
    /* The first request's callback holds the writer, so the second stays queued. */
    cr_assert_eq(eng_append_submit(ledger, &reqs[0]), 0);
    for (int spins = 0; spins < 1000; spins++) {
        eng_stats_t stats;
        eng_stats(ledger, &stats);
        if (stats.queue_events == 0 && stats.commits == 1)
            break;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    cr_assert_eq(eng_append_submit(ledger, &reqs[1]), 0);
    cr_assert_eq(eng_append_submit(ledger, &reqs[2]), FL_EBUSY);
    pthread_mutex_lock(&gate.lock);
    gate.hold = 0;
    pthread_cond_broadcast(&gate.cond);
    while (gate.done < 2)
        pthread_cond_wait(&gate.cond, &gate.lock);
    pthread_mutex_unlock(&gate.lock);
    cr_assert_eq(reqs[0].status, 0);
    cr_assert_eq(reqs[1].status, 0);
    cr_assert_eq(count_log(ledger), 2 * N);
}

static void count_cb(eng_append_req_t *req, void *data)
{
    (void)req;
    __atomic_add_fetch((int *)data, 1, __ATOMIC_SEQ_CST);
}

Test(writer, duplicate_ids_in_requests_queued_together_are_recorded_once)
{
    enum { N = 8 };
    test_event_t e;
    test_event_make(&e, "hu-1", 1);
    eng_append_req_t reqs[N];
    eng_position_t positions[N];
    int results[N];
    int answered = 0;
    /* Submitted back to back, they land in one or two batches; either way one record. */
    for (int i = 0; i < N; i++) {
        reqs[i] = (eng_append_req_t){.events = &e.event,
                                     .count = 1,
                                     .positions = &positions[i],
                                     .results = &results[i],
                                     .cb = count_cb,
                                     .data = &answered};
        cr_assert_eq(eng_append_submit(ledger, &reqs[i]), 0);
    }
    eng_close(ledger);
    ledger = test_ledger_open(dir);
    cr_assert_eq(answered, N);
    int originals = 0;
    for (int i = 0; i < N; i++) {
        cr_assert_eq(reqs[i].status, 0);
        cr_assert_eq(positions[i].seq, 1);
        originals += !positions[i].duplicate;
    }
    cr_assert_eq(originals, 1);
    cr_assert_eq(count_log(ledger), 1);
}

Test(writer, close_answers_every_queued_request_before_it_returns)
{
    enum { N = 64 };
    static test_event_t e[N];
    eng_append_req_t reqs[N];
    eng_position_t positions[N];
    int results[N];
    int answered = 0;
    for (unsigned i = 0; i < N; i++) {
        test_event_make(&e[i], "hu-close", i);
        reqs[i] = (eng_append_req_t){.events = &e[i].event,
                                     .count = 1,
                                     .positions = &positions[i],
                                     .results = &results[i],
                                     .cb = count_cb,
                                     .data = &answered};
        cr_assert_eq(eng_append_submit(ledger, &reqs[i]), 0);
    }
    eng_close(ledger);
    cr_assert_eq(answered, N);
    for (unsigned i = 0; i < N; i++)
        cr_assert_eq(reqs[i].status, 0);
    ledger = test_ledger_open(dir);
    cr_assert_eq(count_log(ledger), N);
}
