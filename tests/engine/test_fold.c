/*
 * Tests of folding: when the folder thread folds the stream and entity indexes (at the
 * threshold, when idle, at close) and that the watermark only moves with the entries it covers.
 */
#include "tests/support/support.h"
#include "tests/support/raw_lmdb.h"

#include <pthread.h>

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

Test(fold, the_folder_folds_a_chunk_when_the_tail_reaches_its_threshold)
{
    eng_ledger_t *ledger = open_with(4, ENG_FOLD_IDLE_NEVER);
    append_n(ledger, 3);
    cr_assert_eq(stats_of(ledger).folded_seq, 0);
    append_n(ledger, 2); /* the 4th reaches the threshold: a chunk of 4, the 5th left */
    cr_assert_eq(test_wait_folded(ledger, 4), 4);
    cr_assert_eq(stats_of(ledger).folds, 1);
    append_n(ledger, 4);
    cr_assert_eq(test_wait_folded(ledger, 8), 8);
    cr_assert_eq(stats_of(ledger).folds, 2);
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
    cr_assert_eq(test_wait_folded(ledger, 99), 99, "folds every 3 events");
    eng_close(ledger);
}

/* ---- the index environment (the ledger's "index" subdirectory) */

static eng_ledger_t *open_dir(const char *path, uint32_t fold_events_max)
{
    eng_config_t config = {
        .dir = path, .fold_events_max = fold_events_max, .fold_idle_ms = ENG_FOLD_IDLE_NEVER};
    eng_ledger_t *ledger = NULL;
    cr_assert_eq(eng_open(&ledger, &config), 0);
    return ledger;
}

static void append_to(eng_ledger_t *ledger, const char *stream, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        test_event_t e;
        test_event_make(&e, stream, i);
        test_append_one(ledger, &e.event);
    }
}

/* How many records a stream read gives, checking their versions run 1, 2, 3... */
static uint64_t stream_count(eng_ledger_t *ledger, const char *stream)
{
    eng_iter_t *iter;
    cr_assert_eq(eng_iter_stream(ledger, stream, 1, &iter), 0);
    eng_record_t r;
    uint64_t count = 0;
    int rc;
    while ((rc = eng_iter_next(iter, &r)) == 0) {
        cr_assert_eq(r.stream_version, count + 1, "%s: version %llu", stream,
                     (unsigned long long)r.stream_version);
        count++;
    }
    cr_assert_eq(rc, FL_EEOF, "%s: %s", stream, fl_strerror(rc));
    eng_iter_close(iter);
    return count;
}

static void path_in(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

Test(fold, a_copy_carries_its_index_and_opens_without_folding)
{
    char source[512], copy[512];
    path_in(source, sizeof(source), "source");
    path_in(copy, sizeof(copy), "copy");
    eng_ledger_t *ledger = open_dir(source, 5);
    append_to(ledger, "hu-fold", 12);
    cr_assert_eq(test_wait_folded(ledger, 10), 10);
    cr_assert_eq(eng_copy(ledger, copy), 0);
    eng_close(ledger);
    eng_ledger_t *copied = open_dir(copy, 5);
    cr_assert_eq(stats_of(copied).folded_seq, 10, "the copy's index came with it");
    cr_assert_eq(stats_of(copied).folds, 0);
    cr_assert_eq(stream_count(copied, "hu-fold"), 12);
    eng_close(copied);
}

/* Puts the index of the ledger in from beside the log of the ledger in to, in place of its own. */
static void move_index(const char *from, const char *to)
{
    char from_index[600], to_index[600];
    snprintf(from_index, sizeof(from_index), "%s/index", from);
    snprintf(to_index, sizeof(to_index), "%s/index", to);
    test_tmpdir_remove(to_index);
    cr_assert_eq(rename(from_index, to_index), 0);
}

#define NO_CHUNK 1000 /* a threshold no test reaches: the watermark moves only at close */

Test(fold, an_index_of_another_log_is_dropped_and_folded_again)
{
    char a[512], b[512];
    path_in(a, sizeof(a), "a");
    path_in(b, sizeof(b), "b");
    eng_ledger_t *ledger = open_dir(a, 4);
    append_to(ledger, "hu-a", 8);
    eng_close(ledger);
    ledger = open_dir(b, 4);
    append_to(ledger, "hu-b", 8);
    eng_close(ledger);
    move_index(a, b); /* the same watermark (8), another record there */
    ledger = open_dir(b, NO_CHUNK);
    cr_assert_eq(stats_of(ledger).folded_seq, 0, "a's index was dropped");
    cr_assert_eq(stream_count(ledger, "hu-a"), 0);
    cr_assert_eq(stream_count(ledger, "hu-b"), 8);
    eng_close(ledger);
    ledger = open_dir(b, NO_CHUNK);
    cr_assert_eq(stats_of(ledger).folded_seq, 8, "folded again at close");
    cr_assert_eq(stream_count(ledger, "hu-b"), 8);
    eng_close(ledger);
}

Test(fold, an_index_ahead_of_a_log_restored_from_a_copy_is_folded_again)
{
    char live[512], backup[512];
    path_in(live, sizeof(live), "live");
    path_in(backup, sizeof(backup), "backup");
    eng_ledger_t *ledger = open_dir(live, 4);
    append_to(ledger, "hu-fold", 4);
    cr_assert_eq(eng_copy(ledger, backup), 0);
    append_to(ledger, "hu-late", 8);
    eng_close(ledger);
    move_index(live, backup); /* the backup's log (4 events), the live index (watermark 12) */
    ledger = open_dir(backup, NO_CHUNK);
    cr_assert_eq(stats_of(ledger).folded_seq, 0);
    cr_assert_eq(stream_count(ledger, "hu-fold"), 4);
    cr_assert_eq(stream_count(ledger, "hu-late"), 0);
    append_to(ledger, "hu-fold", 1);
    cr_assert_eq(stream_count(ledger, "hu-fold"), 5);
    eng_close(ledger);
}

Test(fold, appends_to_more_streams_than_the_heads_table_holds_keep_every_version)
{
    /* More streams than the heads table holds (8,192) while the folder folds behind the writer:
     * the writer prunes the table as the watermark moves (and would wait for the folder were
     * it full), and a stream pruned from it is found in the folded heads. */
    enum { STREAMS = 9000, PER_CALL = 1000 };
    eng_ledger_t *ledger = open_with(4096, ENG_FOLD_IDLE_NEVER);
    static test_event_t events[PER_CALL];
    static eng_event_t batch[PER_CALL];
    static eng_position_t positions[PER_CALL];
    char stream[32];
    for (unsigned done = 0; done < STREAMS; done += PER_CALL) {
        for (unsigned i = 0; i < PER_CALL; i++) {
            snprintf(stream, sizeof(stream), "hu-many-%u", done + i);
            test_event_make(&events[i], stream, i);
            batch[i] = events[i].event;
        }
        cr_assert_eq(eng_append(ledger, batch, PER_CALL, 0, positions, NULL), 0);
    }
    cr_assert_geq(test_wait_folded(ledger, 8192), 8192);
    /* a stream from before the wait, now known only to the folded heads */
    test_event_t e;
    test_event_make(&e, "hu-many-7", 1);
    e.event.expected_version = 1;
    eng_position_t position = test_append_one(ledger, &e.event);
    cr_assert_eq(position.stream_version, 2);
    eng_close(ledger);
}

/* ---- faults of the index environment */

/* Replaces the index's watermark with a value of another size, with LMDB alone. */
static void forge_watermark(const char *ledger_dir)
{
    char index[600];
    snprintf(index, sizeof(index), "%s/index", ledger_dir);
    uint64_t seq = 8;
    test_raw_put(index, "meta", "folded", &seq, sizeof(seq));
}

Test(fold, an_unreadable_watermark_drops_the_index_which_is_folded_again)
{
    char path[512];
    path_in(path, sizeof(path), "l");
    eng_ledger_t *ledger = open_dir(path, 4);
    append_to(ledger, "hu-fold", 8);
    eng_close(ledger);
    forge_watermark(path);
    ledger = open_dir(path, NO_CHUNK);
    cr_assert_eq(stats_of(ledger).folded_seq, 0);
    cr_assert_eq(stream_count(ledger, "hu-fold"), 8);
    append_to(ledger, "hu-fold", 1);
    cr_assert_eq(stream_count(ledger, "hu-fold"), 9);
    eng_close(ledger);
    ledger = open_dir(path, NO_CHUNK);
    cr_assert_eq(stats_of(ledger).folded_seq, 9, "folded again, and it stays");
    eng_close(ledger);
}

Test(fold, a_damaged_index_file_is_made_again_and_the_ledger_opens)
{
    char path[512], file[600];
    path_in(path, sizeof(path), "l");
    eng_ledger_t *ledger = open_dir(path, 4);
    append_to(ledger, "hu-fold", 8);
    eng_close(ledger);
    snprintf(file, sizeof(file), "%s/index/data.mdb", path);
    FILE *out = fopen(file, "w");
    cr_assert_not_null(out);
    for (int i = 0; i < 3 * 4096; i++)
        fputc("garbage"[i % 7], out);
    fclose(out);
    ledger = open_dir(path, NO_CHUNK);
    cr_assert_eq(stats_of(ledger).folded_seq, 0);
    cr_assert_eq(stream_count(ledger, "hu-fold"), 8);
    eng_close(ledger);
}

Test(fold, appends_go_on_while_every_reader_slot_is_taken)
{
    /* The writer's snapshot of the index and the folder's of the log have slots of their own. */
    eng_config_t config = {.dir = dir, .readers_max = 1, .fold_events_max = 4};
    eng_ledger_t *ledger = NULL;
    cr_assert_eq(eng_open(&ledger, &config), 0);
    append_to(ledger, "hu-fold", 2);
    eng_iter_t *iter;
    cr_assert_eq(eng_iter_stream(ledger, "hu-fold", 1, &iter), 0);
    append_to(ledger, "hu-other", 10); /* and folds run */
    cr_assert_geq(test_wait_folded(ledger, 8), 8);
    eng_iter_close(iter);
    cr_assert_eq(stream_count(ledger, "hu-other"), 10);
    eng_close(ledger);
}

static void *append_growing(void *arg)
{
    append_to(arg, "hu-grow", 2000);
    return NULL;
}

Test(fold, copies_taken_while_both_maps_grow_are_whole)
{
    /* mdb_env_copy2 reads without the ledger's own read transactions: it must hold the resize
     * gates all the same, or a map growing under it is unmapped (a narrow window, which a
     * standalone loop hit in every run; here copies run back to back while both maps double
     * several times, and the last is checked whole). */
    eng_config_t config = {.dir = dir, .map_bytes_initial = 64 << 10, .fold_events_max = 64};
    eng_ledger_t *ledger = NULL;
    cr_assert_eq(eng_open(&ledger, &config), 0);
    pthread_t appender;
    cr_assert_eq(pthread_create(&appender, NULL, append_growing, ledger), 0);
    char copy[512];
    int copies = 0;
    for (; stats_of(ledger).events_appended < 2000 && copies < 400; copies++) {
        snprintf(copy, sizeof(copy), "%s/copy", dir);
        test_tmpdir_remove(copy);
        cr_assert_eq(eng_copy(ledger, copy), 0);
    }
    pthread_join(appender, NULL);
    eng_stats_t stats = stats_of(ledger);
    cr_assert_gt(stats.map_resizes, 2, "the maps grew %llu times",
                 (unsigned long long)stats.map_resizes);
    eng_close(ledger);
    eng_config_t last = {.dir = copy, .fold_events_max = NO_CHUNK};
    cr_assert_eq(eng_open(&ledger, &last), 0, "copy %d", copies);
    eng_head_t head;
    eng_head(ledger, &head);
    cr_assert_eq(stream_count(ledger, "hu-grow"), head.seq);
    eng_close(ledger);
}
