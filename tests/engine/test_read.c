/*
 * Tests of the read side: the log forwards and backwards, streams from a version, entities
 * through the secondary index, point reads and id lookups, and snapshot isolation.
 */
#include "tests/support/support.h"

static char dir[256];
static eng_ledger_t *ledger;

/* Every test runs three times: with all events in the log's unfolded tail, with all of them
 * folded into the indexes, and with the watermark in the middle (10 of 12). */
typedef enum { LAYOUT_TAIL, LAYOUT_INDEX, LAYOUT_SPLIT } layout_t;

static eng_ledger_t *open_with(layout_t layout)
{
    eng_config_t config = {.dir = dir,
                           .fold_events_max = layout == LAYOUT_SPLIT ? 5 : 1000000,
                           .fold_idle_ms = ENG_FOLD_IDLE_NEVER};
    eng_ledger_t *opened = NULL;
    cr_assert_eq(eng_open(&opened, &config), 0);
    return opened;
}

static uint64_t folded(void)
{
    eng_stats_t stats;
    eng_stats(ledger, &stats);
    return stats.folded_seq;
}

/* Twelve events: streams hu-A (1,4,7,10), hu-B (2,5,8,11), hu-C (3,6,9,12). */
static void fill(layout_t layout)
{
    test_tmpdir(dir, sizeof(dir));
    ledger = open_with(layout);
    const char *streams[] = {"hu-A", "hu-B", "hu-C"};
    for (unsigned i = 0; i < 12; i++) {
        test_event_t e;
        test_event_make(&e, streams[i % 3], i);
        if (i == 5)
            e.event.actor_user = "cutter-2";
        test_append_one(ledger, &e.event);
    }
    if (layout == LAYOUT_INDEX) { /* closing folds everything */
        eng_close(ledger);
        ledger = open_with(layout);
    }
    uint64_t expected[] = {[LAYOUT_TAIL] = 0, [LAYOUT_INDEX] = 12, [LAYOUT_SPLIT] = 10};
    test_wait_folded(ledger, expected[layout]);
    cr_assert_eq(folded(), expected[layout], "watermark %lu", (unsigned long)folded());
}

static void setup_tail(void)
{
    fill(LAYOUT_TAIL);
}

static void setup_index(void)
{
    fill(LAYOUT_INDEX);
}

static void setup_split(void)
{
    fill(LAYOUT_SPLIT);
}

static void teardown(void)
{
    eng_close(ledger);
    test_tmpdir_remove(dir);
}

TestSuite(read_tail, .init = setup_tail, .fini = teardown, .timeout = 30);
TestSuite(read_index, .init = setup_index, .fini = teardown, .timeout = 30);
TestSuite(read_split, .init = setup_split, .fini = teardown, .timeout = 30);

#define READ_TEST(name)                                                                            \
    static void name(void);                                                                        \
    Test(read_tail, name)                                                                          \
    {                                                                                              \
        name();                                                                                    \
    }                                                                                              \
    Test(read_index, name)                                                                         \
    {                                                                                              \
        name();                                                                                    \
    }                                                                                              \
    Test(read_split, name)                                                                         \
    {                                                                                              \
        name();                                                                                    \
    }                                                                                              \
    static void name(void)

/* Collects up to max sequences from an iterator and closes it. */
static unsigned collect(eng_iter_t *iter, uint64_t *seqs, unsigned max)
{
    eng_record_t record;
    unsigned count = 0;
    int rc;
    while ((rc = eng_iter_next(iter, &record)) == 0 && count < max)
        seqs[count++] = record.seq;
    cr_assert(rc == FL_EEOF || count == max, "iterator ended with %s", fl_strerror(rc));
    eng_iter_close(iter);
    return count;
}

READ_TEST(log_forwards_from_a_sequence_returns_every_later_record_in_order)
{
    eng_iter_t *iter;
    uint64_t seqs[20];
    cr_assert_eq(eng_iter_log(ledger, 5, ENG_FORWARD, &iter), 0);
    unsigned n = collect(iter, seqs, 20);
    cr_assert_eq(n, 8);
    for (unsigned i = 0; i < n; i++)
        cr_assert_eq(seqs[i], 5 + i);
}

READ_TEST(log_backwards_from_zero_starts_at_the_head)
{
    eng_iter_t *iter;
    uint64_t seqs[20];
    cr_assert_eq(eng_iter_log(ledger, 0, ENG_BACKWARD, &iter), 0);
    cr_assert_eq(collect(iter, seqs, 3), 3);
    cr_assert_eq(seqs[0], 12);
    cr_assert_eq(seqs[2], 10);
    cr_assert_eq(eng_iter_log(ledger, 4, ENG_BACKWARD, &iter), 0);
    cr_assert_eq(collect(iter, seqs, 20), 4);
    cr_assert_eq(seqs[0], 4);
    cr_assert_eq(seqs[3], 1);
    cr_assert_eq(eng_iter_log(ledger, 500, ENG_BACKWARD, &iter), 0);
    cr_assert_eq(collect(iter, seqs, 1), 1);
    cr_assert_eq(seqs[0], 12, "past the head, backwards starts at the head");
}

READ_TEST(a_stream_reads_from_a_version_and_stops_at_its_end)
{
    eng_iter_t *iter;
    uint64_t seqs[20];
    cr_assert_eq(eng_iter_stream(ledger, "hu-B", 2, &iter), 0);
    cr_assert_eq(collect(iter, seqs, 20), 3);
    cr_assert_eq(seqs[0], 5);
    cr_assert_eq(seqs[2], 11);
    cr_assert_eq(eng_iter_stream(ledger, "hu-", 1, &iter), 0);
    cr_assert_eq(collect(iter, seqs, 20), 0, "a prefix is not a stream");
    cr_assert_eq(eng_iter_stream(ledger, "hu-Z", 1, &iter), 0);
    cr_assert_eq(collect(iter, seqs, 20), 0);
}

READ_TEST(records_carry_what_was_appended)
{
    eng_iter_t *iter;
    cr_assert_eq(eng_iter_stream(ledger, "hu-C", 1, &iter), 0);
    eng_record_t r;
    cr_assert_eq(eng_iter_next(iter, &r), 0);
    cr_assert_eq(r.seq, 3);
    cr_assert_eq(r.stream_version, 1);
    cr_assert_eq(r.type.len, strlen("ProductionDeclared"));
    cr_assert_eq(memcmp(r.type.ptr, "ProductionDeclared", r.type.len), 0);
    cr_assert_eq(memcmp(r.stream.ptr, "hu-C", 4), 0);
    cr_assert_eq(r.schema_version, 1);
    cr_assert_eq(r.occurred_at_us, 1700000000000000 + 2);
    cr_assert_eq(r.entities_count, 2);
    cr_assert_eq(memcmp(r.entities[0].ptr, "hu:hu-C", r.entities[0].len), 0);
    cr_assert_eq(r.payload_len, 250);
    cr_assert_str_eq((const char *)r.payload, "hu-C#2");
    cr_assert_gt(r.recorded_at_us, 0);
    eng_iter_close(iter);
}

READ_TEST(an_entity_lists_every_event_that_named_it_both_ways)
{
    eng_iter_t *iter;
    uint64_t seqs[20];
    /* loom:L0N is named by events number N and N+8: seq N+1 and N+9. */
    cr_assert_eq(eng_iter_entity(ledger, "loom:L03", 0, ENG_FORWARD, &iter), 0);
    cr_assert_eq(collect(iter, seqs, 20), 2);
    cr_assert_eq(seqs[0], 4);
    cr_assert_eq(seqs[1], 12);
    cr_assert_eq(eng_iter_entity(ledger, "hu:hu-A", 5, ENG_FORWARD, &iter), 0);
    cr_assert_eq(collect(iter, seqs, 20), 2);
    cr_assert_eq(seqs[0], 7);
    cr_assert_eq(eng_iter_entity(ledger, "hu:hu-A", 0, ENG_BACKWARD, &iter), 0);
    cr_assert_eq(collect(iter, seqs, 20), 4);
    cr_assert_eq(seqs[0], 10);
    cr_assert_eq(seqs[3], 1);
    cr_assert_eq(eng_iter_entity(ledger, "hu:hu-A", 8, ENG_BACKWARD, &iter), 0);
    cr_assert_eq(collect(iter, seqs, 20), 3);
    cr_assert_eq(seqs[0], 7);
    cr_assert_eq(eng_iter_entity(ledger, "hu:hu-A", 99, ENG_BACKWARD, &iter), 0);
    cr_assert_eq(collect(iter, seqs, 20), 4);
    cr_assert_eq(eng_iter_entity(ledger, "hu:none", 0, ENG_BACKWARD, &iter), 0);
    cr_assert_eq(collect(iter, seqs, 20), 0);
}

READ_TEST(the_actor_of_an_event_is_an_entity)
{
    eng_iter_t *iter;
    uint64_t seqs[20];
    cr_assert_eq(eng_iter_entity(ledger, "actor:cutter-2", 0, ENG_FORWARD, &iter), 0);
    cr_assert_eq(collect(iter, seqs, 20), 1);
    cr_assert_eq(seqs[0], 6);
    cr_assert_eq(eng_iter_entity(ledger, "actor:weaver-1", 0, ENG_FORWARD, &iter), 0);
    cr_assert_eq(collect(iter, seqs, 20), 11);
}

READ_TEST(a_point_read_finds_a_record_and_names_a_missing_one)
{
    eng_iter_t *iter = NULL;
    eng_record_t r;
    cr_assert_eq(eng_read(ledger, 7, &r, &iter), 0);
    cr_assert_eq(r.seq, 7);
    eng_iter_close(iter);
    cr_assert_eq(eng_read(ledger, 13, &r, &iter), FL_ENOENT);
    cr_assert_null(iter);
    cr_assert_eq(eng_read(ledger, 0, &r, &iter), FL_ENOENT);
}

READ_TEST(an_id_lookup_returns_the_recorded_position)
{
    test_event_t e;
    test_event_make(&e, "hu-D", 99);
    eng_position_t appended = test_append_one(ledger, &e.event), found;
    cr_assert_eq(eng_lookup_id(ledger, e.event.id, &found), 0);
    cr_assert_eq(found.seq, appended.seq);
    cr_assert_arr_eq(found.hash, appended.hash, ENG_HASH_BYTES);
    uint8_t unknown[ENG_ID_BYTES] = {1};
    cr_assert_eq(eng_lookup_id(ledger, unknown, &found), FL_ENOENT);
}

READ_TEST(an_open_iterator_keeps_its_snapshot_while_appends_go_on)
{
    eng_iter_t *iter;
    cr_assert_eq(eng_iter_log(ledger, 0, ENG_FORWARD, &iter), 0);
    for (unsigned i = 0; i < 5; i++) {
        test_event_t e;
        test_event_make(&e, "hu-late", i);
        test_append_one(ledger, &e.event);
    }
    uint64_t seqs[40];
    cr_assert_eq(collect(iter, seqs, 40), 12);
}

READ_TEST(the_chain_links_each_record_to_the_one_before)
{
    eng_iter_t *iter;
    cr_assert_eq(eng_iter_log(ledger, 0, ENG_FORWARD, &iter), 0);
    eng_record_t r;
    uint8_t prev[ENG_HASH_BYTES] = {0};
    while (eng_iter_next(iter, &r) == 0) {
        cr_assert_arr_eq(r.prev_hash, prev, ENG_HASH_BYTES, "seq %lu", (unsigned long)r.seq);
        memcpy(prev, r.hash, ENG_HASH_BYTES);
    }
    eng_iter_close(iter);
    eng_head_t head;
    eng_head(ledger, &head);
    cr_assert_arr_eq(head.hash, prev, ENG_HASH_BYTES);
}

READ_TEST(invalid_iterator_arguments_are_refused)
{
    eng_iter_t *iter;
    cr_assert_eq(eng_iter_log(ledger, 0, 0, &iter), FL_EINVAL);
    cr_assert_eq(eng_iter_stream(ledger, "", 1, &iter), FL_EINVAL);
    cr_assert_eq(eng_iter_entity(ledger, NULL, 0, ENG_FORWARD, &iter), FL_EINVAL);
    cr_assert_eq(eng_iter_entity(ledger, "hu:x", 0, 2, &iter), FL_EINVAL);
}
