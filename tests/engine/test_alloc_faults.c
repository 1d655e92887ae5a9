/*
 * Allocation failures: the Nth allocation made by the project's own code fails (malloc, calloc
 * and realloc are wrapped at link time, -Wl,--wrap), for every N a plant day's work reaches.
 * Each run opens a plant ledger, appends a day of events through the catalog, and closes it.
 * Whatever fails must fail with a clear error, leak nothing (LeakSanitizer), and lose nothing
 * that was acknowledged: reopened without faults, the chain verifies and every acknowledged
 * event is there.
 */
#include "tests/engine/plant.h"

#include <stdatomic.h>

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *memory, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *memory, size_t size);

static atomic_long allocations; /* counted while armed */
static atomic_long fail_at;     /* the allocation that fails, 0: none */
static atomic_long failed;

static bool fault(void)
{
    long at = atomic_load(&fail_at);
    if (at == 0)
        return false;
    if (atomic_fetch_add(&allocations, 1) + 1 != at)
        return false;
    atomic_fetch_add(&failed, 1);
    return true;
}

void *__wrap_malloc(size_t size)
{
    return fault() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t count, size_t size)
{
    return fault() ? NULL : __real_calloc(count, size);
}

void *__wrap_realloc(void *memory, size_t size)
{
    return fault() ? NULL : __real_realloc(memory, size);
}

TestSuite(alloc_faults, .timeout = 300);

#define EVENTS_MAX 64

/* One plant day with the Nth allocation failing; returns how many events were acknowledged. */
static uint64_t faulty_day(long n, uint64_t acked[EVENTS_MAX], int *open_rc)
{
    atomic_store(&allocations, 0);
    atomic_store(&failed, 0);
    atomic_store(&fail_at, n);
    eng_config_t config = {.dir = dir, .rules = ENG_RULES_PLANT, .scratch = true};
    *open_rc = eng_open(&ledger, &config);
    uint64_t count = 0;
    if (*open_rc == 0) {
        /* The day's events one by one, as plant.h posts them, keeping what was acknowledged. */
        static const char *const types[] = {"ArticleSpecDefined", "LoomDefined", "OFCreated",
                                            "OFReleased", "GoodsReceived"};
        const char *payloads[] = {SPEC("10"), LOOM("L1"), ORDER("OF1", "1000000"),
                                  "{\"of_id\":\"OF1\"}", RECEIVE("Y1", "25000")};
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
            ev_actor_t actor = {.user = "t", .role = EV_ROLE_MANAGER, .device = "d"};
            if (strcmp(types[i], "GoodsReceived") == 0)
                actor.role = EV_ROLE_STORE_RAW;
            char json[2048];
            snprintf(json, sizeof(json),
                     "{\"id\":\"0190b2a0-7c1d-7000-8000-%012zu\",\"type\":\"%s\","
                     "\"occurred_at_us\":1764000000000000,\"payload\":%s}",
                     i + 1, types[i], payloads[i]);
            static ev_event_t decoded;
            ev_error_t error;
            eng_event_t event;
            eng_position_t position;
            int result = 0;
            int rc = ev_decode_json(json, strlen(json), &actor, &decoded, &error);
            if (rc != 0) {
                cr_assert(rc == FL_ENOMEM || fl_err_http_status(rc) >= 400, "%s", fl_errname(rc));
                continue;
            }
            eng_event_from_catalog(&decoded, &actor, &event);
            rc = eng_append(ledger, &event, 1, 0, &position, &result);
            if (rc == 0 && result == 0) {
                cr_assert_lt(count, EVENTS_MAX);
                acked[count++] = position.seq;
            } else {
                int code = rc != 0 ? rc : result;
                cr_assert(code < 0 && fl_err_http_status(code) >= 400, "%s", fl_errname(code));
            }
        }
        eng_close(ledger);
    } else {
        cr_assert(*open_rc < 0 && fl_err_http_status(*open_rc) >= 400, "%s", fl_errname(*open_rc));
    }
    atomic_store(&fail_at, 0);
    ledger = NULL;
    return count;
}

Test(alloc_faults, every_allocation_that_fails_is_a_clear_error_and_loses_nothing_acknowledged)
{
    long runs = 0, refused = 0;
    for (long n = 1;; n++) {
        test_tmpdir(dir, sizeof(dir));
        uint64_t acked[EVENTS_MAX];
        int open_rc;
        uint64_t count = faulty_day(n, acked, &open_rc);
        bool hit = atomic_load(&failed) > 0;
        /* Reopened without faults: the chain and every acknowledged event. */
        eng_config_t config = {.dir = dir, .rules = ENG_RULES_PLANT};
        cr_assert_eq(eng_open(&ledger, &config), 0, "run %ld", n);
        uint64_t checked = 0, bad = 0;
        cr_assert_eq(eng_verify(ledger, &checked, &bad), 0, "run %ld: bad at %llu", n,
                     (unsigned long long)bad);
        for (uint64_t i = 0; i < count; i++) {
            eng_record_t record;
            eng_iter_t *iter = NULL;
            cr_assert_eq(eng_read(ledger, acked[i], &record, &iter), 0, "run %ld: seq %llu lost", n,
                         (unsigned long long)acked[i]);
            eng_iter_close(iter);
        }
        eng_close(ledger);
        ledger = NULL;
        test_tmpdir_remove(dir);
        runs++;
        refused += hit && (open_rc != 0 || count < 5);
        if (!hit)
            break; /* the day needed fewer allocations than n: every one has failed once */
    }
    cr_assert_gt(runs, 3, "the day allocates (the hot path does not: buffers are reused)");
    cr_log_info("%ld runs, %ld of them refused something", runs, refused);
}
