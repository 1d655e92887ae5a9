/*
 * Tests of the in-memory heads table: versions set and read back, rollback to a mark, pruning
 * at the watermark, and streams versions continuing across a kill that left a tail unfolded.
 */
#include "tests/support/support.h"

#include <sys/wait.h>

#include "engine/engine_int.h"

static eng_heads_t heads;

static void setup(void)
{
    cr_assert_eq(eng__heads_init(&heads), 0);
}

static void teardown(void)
{
    eng__heads_free(&heads);
}

TestSuite(heads, .init = setup, .fini = teardown, .timeout = 30);

Test(heads, a_set_version_reads_back_and_unknown_streams_read_zero)
{
    eng__heads_set(&heads, "hu-1", 4, 1, 10);
    eng__heads_set(&heads, "hu-1", 4, 2, 11);
    eng__heads_set(&heads, "hu-2", 4, 1, 12);
    eng__heads_commit(&heads);
    cr_assert_eq(eng__heads_get(&heads, "hu-1", 4), 2);
    cr_assert_eq(eng__heads_get(&heads, "hu-2", 4), 1);
    cr_assert_eq(eng__heads_get(&heads, "hu-3", 4), 0);
    cr_assert_eq(eng__heads_get(&heads, "hu-", 3), 0, "a prefix is another stream");
    cr_assert_eq(heads.used, 2);
}

Test(heads, rollback_takes_back_every_set_since_the_mark)
{
    eng__heads_set(&heads, "of-1", 4, 1, 1);
    eng__heads_commit(&heads);
    uint32_t mark = eng__heads_mark(&heads);
    eng__heads_set(&heads, "of-1", 4, 2, 2);
    eng__heads_set(&heads, "of-2", 4, 1, 3);
    eng__heads_set(&heads, "of-2", 4, 2, 4);
    eng__heads_rollback(&heads, mark);
    cr_assert_eq(eng__heads_get(&heads, "of-1", 4), 1);
    cr_assert_eq(eng__heads_get(&heads, "of-2", 4), 0);
    cr_assert_eq(heads.used, 1);
}

Test(heads, many_streams_with_colliding_probes_roll_back_cleanly)
{
    char name[32];
    for (unsigned i = 0; i < 3000; i++) {
        int len = snprintf(name, sizeof(name), "hu-%u", i);
        eng__heads_set(&heads, name, (size_t)len, 1, i + 1);
    }
    eng__heads_commit(&heads);
    uint32_t mark = eng__heads_mark(&heads);
    for (unsigned i = 3000; i < 6000; i++) {
        int len = snprintf(name, sizeof(name), "hu-%u", i);
        eng__heads_set(&heads, name, (size_t)len, 1, i + 1);
    }
    eng__heads_rollback(&heads, mark);
    cr_assert_eq(heads.used, 3000);
    for (unsigned i = 0; i < 6000; i++) {
        int len = snprintf(name, sizeof(name), "hu-%u", i);
        cr_assert_eq(eng__heads_get(&heads, name, (size_t)len), i < 3000 ? 1 : 0, "%s", name);
    }
}

Test(heads, pruning_keeps_only_streams_written_after_the_watermark)
{
    eng__heads_set(&heads, "a", 1, 1, 5);
    eng__heads_set(&heads, "b", 1, 3, 9);
    eng__heads_set(&heads, "c", 1, 2, 7);
    eng__heads_commit(&heads);
    eng__heads_prune(&heads, 7);
    cr_assert_eq(heads.used, 1);
    cr_assert_eq(eng__heads_get(&heads, "b", 1), 3);
    cr_assert_eq(eng__heads_get(&heads, "a", 1), 0);
    eng__heads_prune(&heads, 9);
    cr_assert_eq(heads.used, 0);
}

Test(heads, stream_versions_continue_after_a_kill_left_the_tail_unfolded)
{
    char dir[256];
    test_tmpdir(dir, sizeof(dir));
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        eng_config_t config = {
            .dir = dir, .fold_events_max = 3, .fold_idle_ms = ENG_FOLD_IDLE_NEVER};
        eng_ledger_t *ledger = NULL;
        if (eng_open(&ledger, &config) != 0)
            _exit(2);
        for (unsigned i = 0; i < 5; i++) {
            test_event_t e;
            test_event_make(&e, "of-7", i);
            eng_position_t position;
            if (eng_append(ledger, &e.event, 1, 0, &position, NULL) != 0)
                _exit(3);
        }
        _exit(0); /* no close: versions 4 and 5 stay past the watermark at 3 */
    }
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    eng_ledger_t *ledger = test_ledger_open(dir);
    eng_stats_t stats;
    eng_stats(ledger, &stats);
    cr_assert_eq(stats.folded_seq, 3);
    test_event_t e;
    test_event_make(&e, "of-7", 9);
    e.event.expected_version = 5;
    eng_position_t position = test_append_one(ledger, &e.event);
    cr_assert_eq(position.stream_version, 6);
    eng_close(ledger);
    test_tmpdir_remove(dir);
}
