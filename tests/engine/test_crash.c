/*
 * The crash test: a child process appends under load from several threads (single events,
 * atomic groups and retries of already-acknowledged ids) and reports each acknowledgement to
 * the parent through a pipe. The parent kills it with SIGKILL at a random moment, reopens the
 * ledger and checks that every acknowledged event is there exactly once at the position it was
 * acknowledged with, that sequences are contiguous and that the hash chain verifies. Many
 * rounds on the same ledger; FL_CRASH_ROUNDS overrides their number.
 */
#include "tests/support/support.h"

#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define CRASH_ROUNDS_DEFAULT 100
#define CRASH_THREADS        8
#define CRASH_ACKS_MAX       400000
#define CRASH_GROUP          3

/* What the child reports for each acknowledged event; 32 bytes, so pipe writes are atomic. */
typedef struct {
    uint8_t id[ENG_ID_BYTES];
    uint64_t seq;
    uint64_t round;
} ack_t;

_Static_assert(sizeof(ack_t) <= PIPE_BUF, "one ack is one atomic pipe write");

static char dir[256];
static ack_t *acks;
static size_t acks_count;

typedef struct {
    eng_ledger_t *ledger;
    int fd;
    unsigned thread;
    uint64_t round;
} child_thread_t;

static void report(int fd, const uint8_t id[ENG_ID_BYTES], uint64_t seq, uint64_t round)
{
    ack_t ack = {.seq = seq, .round = round};
    memcpy(ack.id, id, ENG_ID_BYTES);
    if (write(fd, &ack, sizeof(ack)) != (ssize_t)sizeof(ack))
        _exit(3);
}

static void *child_appender(void *arg)
{
    child_thread_t *t = arg;
    char stream[32];
    for (unsigned n = 0;; n++) {
        snprintf(stream, sizeof(stream), "hu-r%lu-t%u-%u", (unsigned long)t->round, t->thread,
                 n % 5);
        test_event_t e[CRASH_GROUP];
        eng_event_t events[CRASH_GROUP];
        eng_position_t positions[CRASH_GROUP];
        unsigned count = n % 4 == 3 ? CRASH_GROUP : 1;
        for (unsigned i = 0; i < count; i++) {
            test_event_make(&e[i], stream, n * CRASH_GROUP + i);
            events[i] = e[i].event;
        }
        uint32_t flags = count > 1 ? ENG_APPEND_ATOMIC : 0;
        if (eng_append(t->ledger, events, count, flags, positions, NULL) != 0)
            _exit(4);
        for (unsigned i = 0; i < count; i++)
            report(t->fd, events[i].id, positions[i].seq, t->round);
        if (n % 7 == 0) { /* a device retrying: same id, same answer */
            eng_position_t again;
            if (eng_append(t->ledger, &events[0], 1, 0, &again, NULL) != 0 ||
                again.seq != positions[0].seq || !again.duplicate)
                _exit(5);
        }
    }
    return NULL;
}

static void child_main(int fd, uint64_t round)
{
    /* Small folds and a small map: kills land in folds and map growth too. */
    eng_config_t config = {.dir = dir, .map_bytes_initial = 1 << 20, .fold_events_max = 64};
    eng_ledger_t *ledger = NULL;
    if (eng_open(&ledger, &config) != 0)
        _exit(2);
    child_thread_t threads[CRASH_THREADS];
    pthread_t ids[CRASH_THREADS];
    for (unsigned i = 0; i < CRASH_THREADS; i++) {
        threads[i] = (child_thread_t){ledger, fd, i, round};
        pthread_create(&ids[i], NULL, child_appender, &threads[i]);
    }
    pthread_join(ids[0], NULL); /* never returns: the parent kills us */
    _exit(6);
}

static void collect_acks(int fd, int timeout_ms)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = poll(&pfd, 1, timeout_ms);
        if (ready <= 0)
            return;
        ssize_t got = read(fd, &acks[acks_count], sizeof(ack_t) * (CRASH_ACKS_MAX - acks_count));
        if (got <= 0)
            return;
        cr_assert_eq(got % (ssize_t)sizeof(ack_t), 0, "a torn ack");
        acks_count += (size_t)got / sizeof(ack_t);
        cr_assert_lt(acks_count, CRASH_ACKS_MAX);
    }
}

/* Runs the child for about run_ms, then kills it; returns how it ended. */
static int run_and_kill(uint64_t round, int run_ms)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        child_main(fds[1], round);
    }
    close(fds[1]);
    uint64_t deadline = fl_mono_ns() + (uint64_t)run_ms * 1000000u;
    while (fl_mono_ns() < deadline)
        collect_acks(fds[0], 1);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    collect_acks(fds[0], 0); /* every ack written before the kill */
    close(fds[0]);
    return status;
}

/* The folded indexes and the log agree: each loom's history read through the entity index
 * (folded part and tail) is exactly the log's records that name it. */
static void check_indexes(eng_ledger_t *ledger)
{
    enum { LOOMS = 8 };
    static uint64_t expected[LOOMS][CRASH_ACKS_MAX / 4];
    size_t counts[LOOMS] = {0};
    eng_iter_t *iter;
    eng_record_t r;
    cr_assert_eq(eng_iter_log(ledger, 0, ENG_FORWARD, &iter), 0);
    while (eng_iter_next(iter, &r) == 0) {
        unsigned loom = (unsigned)(r.entities[1].ptr[r.entities[1].len - 1] - '0');
        cr_assert_lt(loom, LOOMS);
        cr_assert_lt(counts[loom], CRASH_ACKS_MAX / 4);
        expected[loom][counts[loom]++] = r.seq;
    }
    eng_iter_close(iter);
    for (unsigned loom = 0; loom < LOOMS; loom++) {
        char entity[16];
        snprintf(entity, sizeof(entity), "loom:L%02u", loom);
        cr_assert_eq(eng_iter_entity(ledger, entity, 0, ENG_FORWARD, &iter), 0);
        size_t found = 0;
        int rc;
        while ((rc = eng_iter_next(iter, &r)) == 0) {
            cr_assert_lt(found, counts[loom], "%s: more records than the log has", entity);
            cr_assert_eq(r.seq, expected[loom][found], "%s: index and log disagree", entity);
            found++;
        }
        cr_assert_eq(rc, FL_EEOF);
        cr_assert_eq(found, counts[loom], "%s: the index lost records", entity);
        eng_iter_close(iter);
    }
}

static void check_ledger(uint64_t round)
{
    eng_ledger_t *ledger = test_ledger_open(dir);
    uint64_t checked, bad;
    int rc = eng_verify(ledger, &checked, &bad);
    cr_assert_eq(rc, 0, "round %lu: chain broken at %lu", (unsigned long)round, (unsigned long)bad);
    eng_head_t head;
    eng_head(ledger, &head);
    cr_assert_eq(checked, head.seq, "sequences are contiguous from 1 to the head");
    for (size_t i = 0; i < acks_count; i++) {
        eng_position_t found;
        rc = eng_lookup_id(ledger, acks[i].id, &found);
        cr_assert_eq(rc, 0, "round %lu: acknowledged event of round %lu lost", (unsigned long)round,
                     (unsigned long)acks[i].round);
        cr_assert_eq(found.seq, acks[i].seq, "acknowledged event moved");
    }
    /* Exactly once: no id appears twice in the log. */
    eng_iter_t *iter;
    cr_assert_eq(eng_iter_log(ledger, 0, ENG_FORWARD, &iter), 0);
    eng_record_t r;
    while ((rc = eng_iter_next(iter, &r)) == 0) {
        eng_position_t found;
        cr_assert_eq(eng_lookup_id(ledger, r.id, &found), 0);
        cr_assert_eq(found.seq, r.seq, "an id recorded twice");
    }
    cr_assert_eq(rc, FL_EEOF);
    eng_iter_close(iter);
    check_indexes(ledger);
    eng_close(ledger);
}

Test(crash, every_acknowledged_event_survives_sigkill_exactly_once, .timeout = 600)
{
    const char *env = getenv("FL_CRASH_ROUNDS");
    unsigned rounds = env != NULL ? (unsigned)atoi(env) : CRASH_ROUNDS_DEFAULT;
    acks = calloc(CRASH_ACKS_MAX, sizeof(ack_t));
    cr_assert_not_null(acks);
    test_tmpdir(dir, sizeof(dir));
    unsigned seed = (unsigned)time(NULL);
    cr_log_info("crash test seed %u, %u rounds", seed, rounds);
    for (unsigned round = 1; round <= rounds; round++) {
        /* Mostly mid-load, sometimes while the ledger is still opening. */
        int run_ms = round % 5 == 0 ? (int)(rand_r(&seed) % 5) : 20 + (int)(rand_r(&seed) % 180);
        int status = run_and_kill(round, run_ms);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "round %u: the child ended by itself (status %d)", round, status);
        check_ledger(round);
    }
    cr_log_info("%u rounds, %zu acknowledged events checked", rounds, acks_count);
    cr_assert_gt(acks_count, 0);
    free(acks);
    test_tmpdir_remove(dir);
}
