/*
 * Tests of folding: when the writer folds the stream and entity indexes (at the threshold, when
 * idle, at close) and that the watermark only moves with the entries it covers.
 */
#include "tests/support/support.h"

#include <time.h>

static char dir[256];

static void setup(void)
{
    test_tmpdir(dir, sizeof(dir));
}

static void teardown(void)
{
    test_tmpdir_remove(dir);
}

TestSuite(fold, .init = setup, .fini = teardown, .timeout = 30);

static eng_ledger_t *open_with(uint32_t fold_events_max, uint32_t fold_idle_ms)
{
    eng_config_t config = {
        .dir = dir, .fold_events_max = fold_events_max, .fold_idle_ms = fold_idle_ms};
    eng_ledger_t *ledger = NULL;
    cr_assert_eq(eng_open(&ledger, &config), 0);
    return ledger;
}

static void append_n(eng_ledger_t *ledger, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        test_event_t e;
        test_event_make(&e, "hu-fold", i);
        test_append_one(ledger, &e.event);
    }
}

static eng_stats_t stats_of(eng_ledger_t *ledger)
{
    eng_stats_t stats;
    eng_stats(ledger, &stats);
    return stats;
}

Test(fold, the_writer_folds_when_the_tail_reaches_its_threshold)
{
    eng_ledger_t *ledger = open_with(4, ENG_FOLD_IDLE_NEVER);
    append_n(ledger, 3);
    cr_assert_eq(stats_of(ledger).folded_seq, 0);
    append_n(ledger, 2); /* the 4th reaches the threshold; the fold runs before the 5th */
    cr_assert_eq(stats_of(ledger).folded_seq, 4);
    cr_assert_eq(stats_of(ledger).folds, 1);
    append_n(ledger, 4);
    cr_assert_eq(stats_of(ledger).folded_seq, 8);
    eng_close(ledger);
}

Test(fold, an_idle_writer_folds_the_rest)
{
    eng_ledger_t *ledger = open_with(1000, 5);
    append_n(ledger, 3);
    for (int waited = 0; waited < 2000 && stats_of(ledger).folded_seq < 3; waited++)
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    cr_assert_eq(stats_of(ledger).folded_seq, 3);
    eng_close(ledger);
}

Test(fold, closing_folds_everything_and_a_reopen_keeps_the_watermark)
{
    eng_ledger_t *ledger = open_with(1000, ENG_FOLD_IDLE_NEVER);
    append_n(ledger, 7);
    cr_assert_eq(stats_of(ledger).folded_seq, 0);
    eng_close(ledger);
    ledger = open_with(1000, ENG_FOLD_IDLE_NEVER);
    cr_assert_eq(stats_of(ledger).folded_seq, 7);
    eng_iter_t *iter;
    cr_assert_eq(eng_iter_stream(ledger, "hu-fold", 6, &iter), 0);
    eng_record_t r;
    cr_assert_eq(eng_iter_next(iter, &r), 0);
    cr_assert_eq(r.stream_version, 6);
    cr_assert_eq(eng_iter_next(iter, &r), 0);
    cr_assert_eq(r.stream_version, 7);
    cr_assert_eq(eng_iter_next(iter, &r), FL_EEOF);
    eng_iter_close(iter);
    eng_close(ledger);
}

Test(fold, a_stream_read_across_many_folds_sees_every_version_once)
{
    eng_ledger_t *ledger = open_with(3, ENG_FOLD_IDLE_NEVER);
    append_n(ledger, 100);
    eng_iter_t *iter;
    cr_assert_eq(eng_iter_stream(ledger, "hu-fold", 1, &iter), 0);
    eng_record_t r;
    uint64_t version = 0;
    while (eng_iter_next(iter, &r) == 0)
        cr_assert_eq(r.stream_version, ++version);
    eng_iter_close(iter);
    cr_assert_eq(version, 100);
    cr_assert_geq(stats_of(ledger).folded_seq, 96, "folds every 3 events");
    eng_close(ledger);
}
