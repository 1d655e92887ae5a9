/*
 * Replay: the plant's state rebuilt from the log alone equals the state kept inline; a state
 * as of an earlier sequence equals what was current then; a row of the inline state changed
 * behind the ledger's back is found and named.
 */
#include "tests/engine/plant.h"

#include <lmdb.h>
#include <msgpack.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/rules_int.h"
#include "replay/replay.h"
#include "tests/support/raw_lmdb.h"

TestSuite(replay, .init = setup, .fini = teardown, .timeout = 60);

static char scratch_dir[256];

static eng_ledger_t *scratch_open(void)
{
    test_tmpdir(scratch_dir, sizeof(scratch_dir));
    eng_config_t config = {.dir = scratch_dir, .rules = ENG_RULES_PLANT, .scratch = true};
    eng_ledger_t *scratch = NULL;
    cr_assert_eq(eng_open(&scratch, &config), 0);
    return scratch;
}

static void scratch_close(eng_ledger_t *scratch)
{
    eng_close(scratch);
    test_tmpdir_remove(scratch_dir);
}

static void stock_text(eng_ledger_t *of, char text[8192])
{
    text[0] = '\0';
    cr_assert_eq(eng_stock_each(of, NULL, snapshot_row, text), 0);
}

Test(replay, the_state_rebuilt_from_the_log_equals_the_state_kept_inline)
{
    the_plant_works_a_day();
    eng_ledger_t *scratch = scratch_open();
    rpl_progress_t progress;
    cr_assert_eq(rpl_replay(ledger, scratch, 0, &progress), 0, "%s", progress.detail);
    cr_assert_eq(progress.events, head_seq());
    cr_assert_eq(progress.last_seq, head_seq());
    rpl_difference_t difference;
    cr_assert_eq(rpl_compare(ledger, scratch, &difference), 0, "%s: %s / %s", difference.key,
                 difference.left, difference.right);
    cr_assert_gt(difference.rows, 40);
    scratch_close(scratch);
}

static int count_change(uint64_t seq, const eng_row_t *row, void *data)
{
    (void)seq;
    (void)row;
    (void)data;
    cr_assert_fail("a state-only ledger journaled a change");
    return 1;
}

Test(replay,
     a_state_only_ledger_rebuilt_from_the_log_equals_the_inline_state_and_reopens_at_its_sequence)
{
    the_plant_works_a_day();
    test_tmpdir(scratch_dir, sizeof(scratch_dir));
    eng_config_t config = {
        .dir = scratch_dir, .rules = ENG_RULES_PLANT, .scratch = true, .state_only = true};
    eng_ledger_t *state = NULL;
    cr_assert_eq(eng_open(&state, &config), 0);
    rpl_progress_t progress;
    uint64_t half = head_seq() / 2;
    cr_assert_eq(rpl_replay(ledger, state, half, &progress), 0, "%s", progress.detail);
    eng_close(state); /* and on again from where it stands, after a reopen */
    cr_assert_eq(eng_open(&state, &config), 0);
    eng_head_t head;
    eng_head(state, &head);
    cr_assert_eq(head.seq, half);
    cr_assert_eq(rpl_replay(ledger, state, 0, &progress), 0, "%s", progress.detail);
    cr_assert_eq(progress.events, head_seq() - half);
    rpl_difference_t difference;
    cr_assert_eq(rpl_compare(ledger, state, &difference), 0, "%s: %s / %s", difference.key,
                 difference.left, difference.right);
    eng_iter_t *iter = NULL;
    eng_record_t record;
    cr_assert_eq(eng_iter_log(state, 1, ENG_FORWARD, &iter), 0);
    cr_assert_eq(eng_iter_next(iter, &record), FL_EEOF, "no log is kept");
    eng_iter_close(iter);
    uint64_t last = 99;
    cr_assert_eq(eng_changes(state, 0, 1000, count_change, NULL, &last), 0);
    cr_assert_eq(last, 0, "nor a change journal: no projection reads one");
    eng_close(state);
    test_tmpdir_remove(scratch_dir);
    config.rules = ENG_RULES_NONE;
    cr_assert_eq(eng_open(&state, &config), FL_EINVAL);
}

Test(replay, a_state_as_of_a_sequence_from_the_nearest_snapshot_equals_one_from_the_first_event)
{
    the_plant_works_a_day();
    char snapdir[300], asof_dir[300], plain_dir[300];
    snprintf(snapdir, sizeof(snapdir), "%s/snapshots", dir);
    snprintf(asof_dir, sizeof(asof_dir), "%s/asof", dir);
    snprintf(plain_dir, sizeof(plain_dir), "%s/plain", dir);
    uint32_t made = 0;
    int stop = 1; /* asked to stop: nothing made, and the next call makes them all */
    cr_assert_eq(rpl_snapshot_update(ledger, snapdir, 10, &stop, &made), FL_ECANCELED);
    cr_assert_eq(made, 0);
    stop = 0;
    cr_assert_eq(rpl_snapshot_update(ledger, snapdir, 10, &stop, &made), 0);
    cr_assert_eq(made, head_seq() / 10);
    cr_assert_eq(rpl_snapshot_update(ledger, snapdir, 10, NULL, &made), 0);
    cr_assert_eq(made, 0, "nothing new to snapshot");
    for (uint64_t seq = 5; seq <= head_seq(); seq += 7) {
        eng_ledger_t *from_snapshot = NULL, *from_start = NULL;
        uint64_t snapshot = 99, none = 99;
        cr_assert_eq(rpl_asof_open(ledger, snapdir, seq, asof_dir, &from_snapshot, &snapshot), 0);
        cr_assert_eq(snapshot, seq / 10 * 10);
        cr_assert_eq(rpl_asof_open(ledger, NULL, seq, plain_dir, &from_start, &none), 0);
        cr_assert_eq(none, 0);
        eng_head_t head;
        eng_head(from_snapshot, &head);
        cr_assert_eq(head.seq, seq);
        rpl_difference_t difference;
        cr_assert_eq(rpl_compare(from_snapshot, from_start, &difference), 0, "as of %llu: %s",
                     (unsigned long long)seq, difference.key);
        eng_close(from_snapshot);
        eng_close(from_start);
        test_tmpdir_remove(asof_dir);
        test_tmpdir_remove(plain_dir);
    }
}

static uint8_t *file_read(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    cr_assert_not_null(file, "%s", path);
    cr_assert_eq(fseek(file, 0, SEEK_END), 0);
    long length = ftell(file);
    cr_assert_gt(length, 0);
    rewind(file);
    uint8_t *bytes = malloc((size_t)length);
    cr_assert_not_null(bytes);
    cr_assert_eq(fread(bytes, 1, (size_t)length, file), (size_t)length);
    fclose(file);
    *size = (size_t)length;
    return bytes;
}

Test(replay, a_state_as_of_over_a_snapshot_reads_its_replay_and_leaves_the_snapshot_as_it_was)
{
    the_plant_works_a_day();
    cr_assert_geq(head_seq(), 19);
    char snapdir[300], asof_dir[300], snapshot_dir[340], data[360], copy_dir[300];
    snprintf(snapdir, sizeof(snapdir), "%s/snapshots", dir);
    snprintf(asof_dir, sizeof(asof_dir), "%s/asof", dir);
    snprintf(copy_dir, sizeof(copy_dir), "%s/copy", dir);
    snprintf(snapshot_dir, sizeof(snapshot_dir), "%s/%020d", snapdir, 10);
    snprintf(data, sizeof(data), "%s/data.mdb", snapshot_dir);
    uint32_t made = 0;
    cr_assert_eq(rpl_snapshot_update(ledger, snapdir, 10, NULL, &made), 0);
    size_t size_before, size_after;
    uint8_t *before = file_read(data, &size_before);
    /* What was current after event 19, for comparison: replayed from the first event. */
    eng_ledger_t *state = NULL, *from_start = NULL;
    uint64_t snapshot = 0, none = 99;
    char plain_dir[300];
    snprintf(plain_dir, sizeof(plain_dir), "%s/plain", dir);
    cr_assert_eq(rpl_asof_open(ledger, NULL, 19, plain_dir, &from_start, &none), 0);
    char expected[8192], first[8192], again[8192];
    stock_text(from_start, expected);
    eng_close(from_start);
    cr_assert_eq(rpl_asof_open(ledger, snapdir, 19, asof_dir, &state, &snapshot), 0);
    cr_assert_eq(snapshot, 10);
    eng_head_t head;
    eng_head(state, &head);
    cr_assert_eq(head.seq, 19, "the nine events after the snapshot, read back uncommitted");
    stock_text(state, first);
    cr_assert_str_eq(first, expected);
    cr_assert_eq(eng_copy(state, copy_dir), FL_EINVAL, "a held state is in no file to copy");
    eng_close(state);
    uint8_t *after = file_read(data, &size_after);
    cr_assert_eq(size_after, size_before);
    cr_assert_arr_eq(after, before, size_before, "the snapshot's file is byte for byte the same");
    free(before);
    free(after);
    /* It still opens at its own sequence, and the same as-of gives the same state again. */
    eng_config_t config = {
        .dir = snapshot_dir, .rules = ENG_RULES_PLANT, .scratch = true, .state_only = true};
    cr_assert_eq(eng_open(&state, &config), 0);
    eng_head(state, &head);
    cr_assert_eq(head.seq, 10);
    eng_close(state);
    cr_assert_eq(rpl_asof_open(ledger, snapdir, 19, asof_dir, &state, &snapshot), 0);
    stock_text(state, again);
    cr_assert_str_eq(again, expected);
    eng_close(state);
    /* Held needs a state-only ledger: a log's appends must be committed to be acknowledged. */
    config.state_only = false;
    config.held = true;
    cr_assert_eq(eng_open(&state, &config), FL_EINVAL);
}

/* Posts through the plant helpers into another ledger than the suite's. */
static int post_into(eng_ledger_t *into, const char *type, const char *payload)
{
    eng_ledger_t *suite = ledger;
    ledger = into;
    int rc = post(EV_ROLE_STORE_RAW, type, payload);
    ledger = suite;
    return rc;
}

static int post_group_into(eng_ledger_t *into, const char *const *types,
                           const char *const *payloads, uint32_t count)
{
    eng_ledger_t *suite = ledger;
    ledger = into;
    int rc = post_group(EV_ROLE_STORE_RAW, types, payloads, count);
    ledger = suite;
    return rc;
}

Test(replay, a_held_state_refuses_a_broken_group_and_past_its_map_fails_whole_leaving_its_files)
{
    char state_dir[300];
    snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
    eng_config_t config = {
        .dir = state_dir, .rules = ENG_RULES_PLANT, .scratch = true, .state_only = true};
    eng_ledger_t *state = NULL;
    cr_assert_eq(eng_open(&state, &config), 0);
    cr_assert_eq(post_into(state, "GoodsReceived", RECEIVE("Y1", "25000")), 0);
    eng_close(state);

    config.held = true;
    config.map_bytes_initial = 256 << 10; /* a small map: the appends below outgrow it */
    cr_assert_eq(eng_open(&state, &config), 0);
    cr_assert_eq(post_into(state, "GoodsReceived", RECEIVE("Y2", "5000")), 0);
    /* An atomic group with a broken rule leaves nothing, within the held transaction too. */
    const char *types[] = {"StockTransferred", "StockTransferred"};
    const char *payloads[] = {MOVE("Y2", "MP1", "MP2"), MOVE("GHOST", "MP1", "MP2")};
    cr_assert_eq(post_group_into(state, types, payloads, 2), FL_ERULE_HU_UNKNOWN);
    eng_hu_view_t unit;
    cr_assert_eq(eng_hu_get(state, "Y2", &unit), 0);
    cr_assert_str_eq(unit.location, "MP1");
    eng_head_t head;
    eng_head(state, &head);
    cr_assert_eq(head.seq, 2);
    /* Past the map: the transaction is dropped, and every later call says so. */
    int rc = 0;
    char payload[256];
    for (int i = 0; i < 20000 && rc == 0; i++) {
        snprintf(payload, sizeof(payload),
                 "{\"hu_id\":\"F%d\",\"item_id\":\"YARN-30\",\"qty_milli\":1000,\"unit\":\"kg\","
                 "\"location_id\":\"MP1\",\"supplier\":\"Filature du Sahel\"}",
                 i);
        rc = post_into(state, "GoodsReceived", payload);
    }
    cr_assert_eq(rc, FL_ELEDGER_FULL, "%s", fl_errname(rc));
    cr_assert_eq(post_into(state, "GoodsReceived", RECEIVE("Y3", "1000")), FL_ELEDGER_FULL);
    cr_assert_eq(eng_hu_get(state, "Y1", &unit), FL_ELEDGER_FULL, "reads too");
    eng_close(state);

    config.held = false;
    cr_assert_eq(eng_open(&state, &config), 0);
    eng_head(state, &head);
    cr_assert_eq(head.seq, 1, "the directory holds what it held at the held open");
    cr_assert_eq(eng_hu_get(state, "Y1", &unit), 0);
    cr_assert_eq(eng_hu_get(state, "Y2", &unit), FL_ENOENT);
    eng_close(state);
}

Test(replay, an_event_the_rules_refuse_on_replay_stops_it_and_is_named)
{
    POSTED(EV_ROLE_STORE_RAW, "GoodsReceived", RECEIVE("Y1", "25000"));
    POSTED(EV_ROLE_STORE_RAW, "GoodsReceived", RECEIVE("Y2", "5000"));
    /* A log written without the plant's rules: a move of a unit that never existed. */
    eng_close(ledger);
    eng_config_t config = {.dir = dir, .rules = ENG_RULES_NONE};
    cr_assert_eq(eng_open(&ledger, &config), 0);
    POSTED(EV_ROLE_STORE_RAW, "StockTransferred", MOVE("GHOST", "MP1", "MP2"));
    for (int i = 0; i < 2500; i++) /* more batches after it */
        POSTED(EV_ROLE_STORE_RAW, "StockTransferred", MOVE("GHOST", "MP1", "MP2"));
    eng_ledger_t *scratch = scratch_open();
    rpl_progress_t progress;
    cr_assert_eq(rpl_replay(ledger, scratch, 0, &progress), FL_ECORRUPT);
    cr_assert_eq(progress.failed_seq, 3, "failed %llu events %llu: %s",
                 (unsigned long long)progress.failed_seq, (unsigned long long)progress.events,
                 progress.detail);
    cr_assert_eq(progress.failed_code, FL_ERULE_HU_UNKNOWN, "%s", fl_errname(progress.failed_code));
    cr_assert_eq(progress.events, 2);
    cr_assert_eq(progress.last_seq, 2);
    cr_assert_not_null(strstr(progress.detail, "StockTransferred"), "%s", progress.detail);
    scratch_close(scratch);
    /* Snapshots stop there too, and their working state is not carried on from. */
    char snapdir[300], work[320];
    snprintf(snapdir, sizeof(snapdir), "%s/snapshots", dir);
    snprintf(work, sizeof(work), "%s/work", snapdir);
    uint32_t made = 0;
    int rc = rpl_snapshot_update(ledger, snapdir, 2, NULL, &made);
    cr_assert_eq(rc, FL_ECORRUPT, "%s", fl_errname(rc));
    cr_assert_eq(made, 1, "the snapshot at 2, before the refused event");
    struct stat info;
    cr_assert_neq(stat(work, &info), 0, "the working state was removed");
}

Test(replay, a_state_as_of_into_a_directory_that_holds_one_is_refused_and_left_alone)
{
    the_plant_works_a_day();
    char asof_dir[300];
    snprintf(asof_dir, sizeof(asof_dir), "%s/asof", dir);
    eng_ledger_t *state = NULL, *again = NULL;
    uint64_t snapshot = 0;
    cr_assert_eq(rpl_asof_open(ledger, NULL, 5, asof_dir, &state, &snapshot), 0);
    eng_close(state);
    cr_assert_eq(rpl_asof_open(ledger, NULL, head_seq(), asof_dir, &again, &snapshot), FL_EEXIST);
    cr_assert_null(again);
    cr_assert_str_eq(fl_strerror(FL_EEXIST), "already exists");
    eng_config_t config = {
        .dir = asof_dir, .rules = ENG_RULES_PLANT, .scratch = true, .state_only = true};
    cr_assert_eq(eng_open(&state, &config), 0);
    eng_head_t head;
    eng_head(state, &head);
    cr_assert_eq(head.seq, 5, "the state there is the first one's");
    eng_close(state);
}

Test(replay, a_state_as_of_a_sequence_is_the_state_that_was_current_then)
{
    POSTED(EV_ROLE_STORE_RAW, "GoodsReceived", RECEIVE("Y1", "25000"));
    POSTED(EV_ROLE_STORE_RAW, "GoodsReceived", RECEIVE("Y2", "5000"));
    uint64_t then = head_seq();
    char before[8192], now[8192], asof[8192];
    stock_text(ledger, before);
    POSTED(EV_ROLE_STORE_RAW, "StockTransferred",
           "{\"hu_id\":\"Y1\",\"from_location_id\":\"MP1\",\"to_location_id\":\"MP2\"}");
    stock_text(ledger, now);
    cr_assert_str_neq(before, now);
    eng_ledger_t *scratch = scratch_open();
    rpl_progress_t progress;
    cr_assert_eq(rpl_replay(ledger, scratch, then, &progress), 0);
    cr_assert_eq(progress.last_seq, then);
    stock_text(scratch, asof);
    cr_assert_str_eq(asof, before);
    /* And on from there: the rest of the log brings it to now. */
    cr_assert_eq(rpl_replay(ledger, scratch, 0, &progress), 0);
    cr_assert_eq(progress.events, 1);
    stock_text(scratch, asof);
    cr_assert_str_eq(asof, now);
    scratch_close(scratch);
}

/* Closes the ledger and rewrites one value of one of its tables directly in the data file, as
 * a faulty tool or a hand edit would; then opens the ledger again. edit changes a copy of the
 * value in place. */
static void tamper(const char *table, unsigned flags, MDB_val key,
                   void (*edit)(MDB_val *value, void *data), void *data)
{
    eng_close(ledger);
    test_raw_edit(dir, table, flags, key, edit, data);
    eng_config_t config = {.dir = dir, .rules = ENG_RULES_PLANT};
    cr_assert_eq(eng_open(&ledger, &config), 0);
}

static void put_legacy_unit(MDB_val *value, void *data)
{
    value->mv_data = data;
    value->mv_size = sizeof(hu_t);
}

Test(replay, a_unit_stored_whole_by_an_earlier_version_reads_and_moves)
{
    POSTED(EV_ROLE_STORE_RAW, "GoodsReceived", RECEIVE("Y1", "25000"));
    /* Units were stored as the whole hu_t (368 bytes) before their packed form. */
    hu_t legacy = {
        .format = HU_FORMAT, .status = HU_AVAILABLE, .qty_milli = 25000, .created_seq = 1};
    strcpy(legacy.unit, "kg");
    strcpy(legacy.item, "YARN-30");
    strcpy(legacy.location, "MP1");
    tamper("hus", 0, (MDB_val){.mv_size = 5, .mv_data = "hu-Y1"}, put_legacy_unit, &legacy);
    eng_hu_view_t unit;
    cr_assert_eq(eng_hu_get(ledger, "Y1", &unit), 0);
    cr_assert_str_eq(unit.location, "MP1");
    cr_assert_eq(unit.qty_milli, 25000);
    POSTED(EV_ROLE_STORE_RAW, "StockTransferred", MOVE("Y1", "MP1", "MP2"));
    cr_assert_eq(eng_hu_get(ledger, "Y1", &unit), 0);
    cr_assert_str_eq(unit.location, "MP2");
    cr_assert_str_eq(unit.item, "YARN-30");
    cr_assert_str_eq(unit.unit, "kg");
    cr_assert_eq(unit.created_seq, 1);
}

static void forge_balance(MDB_val *value, void *data)
{
    cr_assert_eq(value->mv_size, sizeof(int64_t));
    memcpy(value->mv_data, data, sizeof(int64_t));
}

static void flip_payload_byte(MDB_val *value, void *data)
{
    (void)data;
    ((uint8_t *)value->mv_data)[value->mv_size - 40] ^= 0x01; /* just before the stored hash */
}

Test(replay, a_stock_row_changed_behind_the_ledgers_back_is_named)
{
    the_plant_works_a_day();
    static const char key_bytes[] = "WARP-20\0MP1\0\1"; /* available, no grade */
    int64_t forged = 999999;
    tamper("stock", 0, (MDB_val){.mv_size = sizeof(key_bytes), .mv_data = (void *)key_bytes},
           forge_balance, &forged);
    eng_ledger_t *scratch = scratch_open();
    rpl_progress_t progress;
    cr_assert_eq(rpl_replay(ledger, scratch, 0, &progress), 0);
    rpl_difference_t difference;
    cr_assert_eq(rpl_compare(ledger, scratch, &difference), FL_ECORRUPT);
    cr_assert_str_eq(difference.key, "stock/WARP-20/MP1/available/0");
    cr_assert_str_eq(difference.left, "999999");
    cr_assert_str_eq(difference.right, "100000");
    scratch_close(scratch);
}

/* ---- verifiable history */

static char private_path[300], public_path[300];

static void keys(const char *name)
{
    snprintf(private_path, sizeof(private_path), "%s/%s.key", dir, name);
    snprintf(public_path, sizeof(public_path), "%s/%s.pub", dir, name);
    cr_assert_eq(rpl_keygen(private_path, public_path), 0);
}

/* A digest written out as text and read back, as a plant would store and fetch it. */
static rpl_digest_t stored(const rpl_digest_t *digest)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_eq(rpl_digest_write(out, digest), 0);
    fclose(out);
    FILE *in = fmemopen(text, len, "r");
    rpl_digest_t back;
    cr_assert_eq(rpl_digest_read(in, &back), 0, "%s", text);
    fclose(in);
    free(text);
    return back;
}

Test(replay, a_digest_signed_yesterday_still_checks_today)
{
    keys("plant");
    POSTED(EV_ROLE_STORE_RAW, "GoodsReceived", RECEIVE("Y1", "25000"));
    POSTED(EV_ROLE_STORE_RAW, "GoodsReceived", RECEIVE("Y2", "5000"));
    rpl_digest_t yesterday;
    cr_assert_eq(rpl_digest_sign(ledger, private_path, &yesterday), 0);
    cr_assert_eq(yesterday.seq, 2);
    yesterday = stored(&yesterday);
    the_plant_works_a_day();
    uint64_t bad = 99;
    cr_assert_eq(rpl_digest_check(ledger, &yesterday, public_path, &bad), 0);
    cr_assert_eq(bad, 0);
    /* Another plant's key, or a digest edited by hand, does not check. */
    rpl_digest_t edited = yesterday;
    edited.seq = 3;
    cr_assert_eq(rpl_digest_check(ledger, &edited, public_path, &bad), FL_ECORRUPT);
    keys("other");
    cr_assert_eq(rpl_digest_check(ledger, &yesterday, public_path, &bad), FL_ECORRUPT);
}

Test(replay, a_byte_flipped_in_a_record_breaks_the_digest_and_names_the_record)
{
    keys("plant");
    the_plant_works_a_day();
    rpl_digest_t digest;
    cr_assert_eq(rpl_digest_sign(ledger, private_path, &digest), 0);
    uint64_t seq = 7;
    tamper("log", MDB_INTEGERKEY, (MDB_val){.mv_size = sizeof(seq), .mv_data = &seq},
           flip_payload_byte, NULL);
    uint64_t bad = 0;
    cr_assert_eq(rpl_digest_check(ledger, &digest, public_path, &bad), FL_ECORRUPT);
    cr_assert_eq(bad, 7);
}

Test(replay, a_proof_for_one_event_checks_without_the_ledger_and_not_once_edited)
{
    keys("plant");
    the_plant_works_a_day();
    rpl_digest_t digest;
    cr_assert_eq(rpl_digest_sign(ledger, private_path, &digest), 0);
    char *proof = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&proof, &len);
    cr_assert_eq(rpl_proof_write(ledger, 20, &digest, out), 0);
    fclose(out);
    eng_close(ledger); /* a third party has the proof, the digest and the public key only */
    ledger = NULL;
    uint64_t proved = 0;
    FILE *in = fmemopen(proof, len, "r");
    cr_assert_eq(rpl_proof_check(in, &digest, public_path, &proved), 0);
    fclose(in);
    cr_assert_eq(proved, 20);
    /* One character changed in the second record: the chain no longer reaches the digest. */
    char *second = strchr(proof, '\n') + 1;
    char *hex = strchr(second, ' ') + 40;
    *hex = *hex == '0' ? '1' : '0';
    in = fmemopen(proof, len, "r");
    cr_assert_eq(rpl_proof_check(in, &digest, public_path, &proved), FL_ECORRUPT);
    fclose(in);
    free(proof);
    eng_config_t config = {.dir = dir, .rules = ENG_RULES_PLANT};
    cr_assert_eq(eng_open(&ledger, &config), 0); /* for the teardown */
}

/* ---- the command line, end to end */

static int run(const char *format, ...)
{
    char command[2048];
    va_list args;
    va_start(args, format);
    vsnprintf(command, sizeof(command), format, args);
    va_end(args);
    int status = system(command);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(replay, the_command_line_verifies_the_state_and_signs_checks_and_proves)
{
    the_plant_works_a_day();
    eng_close(ledger);
    ledger = NULL;
    const char *tool = FOUTA_REPLAY;
    cr_assert_eq(run("%s verify-state %s | grep -q '^verify-state: ok'", tool, dir), 0);
    cr_assert_eq(
        run("%s stock-asof %s 4 | grep -q '^WARP-20\tMP1\tavailable\t0\t500000$'", tool, dir), 0,
        "before the beams were wound, all 500 kg of warp were there");
    cr_assert_eq(run("%s snapshot %s %s/snaps 10 | grep -q '^snapshot: 4 new'", tool, dir, dir), 0);
    cr_assert_eq(run("%s stock-asof %s 4 %s/snaps | grep -q '^WARP-20\tMP1\tavailable\t0\t500000$'",
                     tool, dir, dir),
                 0);
    cr_assert_eq(
        run("%s stock-asof %s 39 %s/snaps 2>&1 | grep -q 'from snapshot 30'", tool, dir, dir), 0);
    cr_assert_eq(
        run("cd %s && %s keygen k.pem p.pem && %s digest %s k.pem > d.txt", dir, tool, tool, dir),
        0);
    cr_assert_eq(run("cd %s && %s digest-check %s d.txt p.pem >/dev/null", dir, tool, dir), 0);
    cr_assert_eq(run("cd %s && %s proof %s 12 d.txt > proof.txt && %s proof-check proof.txt "
                     "d.txt p.pem | grep -q 'event 12 is in the chain'",
                     dir, tool, dir, tool),
                 0);
    cr_assert_eq(run("%s export %s > %s/log.ndjson 2>/dev/null && %s import %s/copy %s/log.ndjson "
                     "| grep -q '^import: 40 records'",
                     tool, dir, dir, tool, dir, dir),
                 0);
    cr_assert_eq(run("%s export --msgpack %s > %s/log.msgpack 2>/dev/null && %s import "
                     "%s/copy-mp %s/log.msgpack | grep -q '^import: 40 records'",
                     tool, dir, dir, tool, dir, dir),
                 0);
    cr_assert_eq(run("%s digest /nonexistent-ledger-dir/x k.pem 2>/dev/null", tool), 1);
    cr_assert_eq(run("%s frobnicate %s 2>/dev/null", tool, dir), 2);
    eng_config_t config = {.dir = dir, .rules = ENG_RULES_PLANT};
    cr_assert_eq(eng_open(&ledger, &config), 0);
}

Test(replay, a_recall_from_the_warp_yarn_finds_the_pallet_and_a_trace_up_finds_the_yarn)
{
    the_plant_works_a_day();
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_eq(rpl_trace(ledger, "hu-Y-WARP", ENG_FORWARD, 32, false, out), 0);
    fclose(out);
    cr_assert_not_null(strstr(text, "\"root\": \"hu-Y-WARP\", \"direction\": \"down\""), "%s",
                       text);
    cr_assert_not_null(strstr(text, "{\"id\": \"hu-P1\", \"kind\": \"hu\", \"item\": \"TW-500\", "
                                    "\"qty_milli\": 0, \"unit\": \"pcs\", \"status\": \"shipped\""),
                       "%s", text);
    cr_assert_not_null(strstr(text, "{\"from\": \"hu-C1\", \"to\": \"hu-P1\", \"kind\": "
                                    "\"packed_in\""),
                       "%s", text);
    free(text);
    out = open_memstream(&text, &len);
    cr_assert_eq(rpl_trace(ledger, "hu-P1", ENG_BACKWARD, 32, true, out), 0);
    fclose(out);
    cr_assert_not_null(strstr(text, "digraph trace {"), "%s", text);
    cr_assert_not_null(strstr(text, "\"hu-Y-WARP\" -> \"beam-BM1\" [label=\"yarn\"];"), "%s", text);
    cr_assert_not_null(strstr(text, "\"loom-L1\" [shape=ellipse];"), "%s", text);
    free(text);
}

/* ---- inventory reconciliation */

static void receive(const char *hu, const char *qty, const char *location)
{
    POSTED(EV_ROLE_STORE_FINISHED, "GoodsReceived",
           J("{\"hu_id\":\"%s\",\"item_id\":\"TW-500\",\"qty_milli\":%s,\"unit\":\"pcs\","
             "\"location_id\":\"%s\",\"supplier\":\"in-house\"}",
             hu, qty, location));
}

static void counted(const char *hu, const char *qty)
{
    POSTED(EV_ROLE_STORE_FINISHED, "ItemCounted",
           J("{\"count_id\":\"K1\",\"hu_id\":\"%s\",\"item_id\":\"TW-500\","
             "\"location_id\":\"FG\",\"counted_qty_milli\":%s,\"unit\":\"pcs\"}",
             hu, qty));
}

Test(replay, a_count_with_moves_during_counting_flags_them_and_proposes_the_right_adjustments)
{
    receive("B1", "100000", "FG");
    receive("B2", "50000", "FG");
    receive("B3", "20000", "FG");
    receive("B4", "5000", "DOCK");
    POSTED(EV_ROLE_STORE_FINISHED, "CountOpened",
           "{\"count_id\":\"K1\",\"location_ids\":[\"FG\"],\"scope\":\"cycle\"}");
    receive("B5", "1000", "FG"); /* arrives after the opening: not in its book */
    counted("B1", "98000");
    counted("B2", "45000");
    counted("B2", "40000"); /* a recount: the last line wins */
    counted("B4", "5000");
    counted("B5", "1000");
    POSTED(EV_ROLE_STORE_FINISHED, "StockTransferred",
           "{\"hu_id\":\"B1\",\"from_location_id\":\"FG\",\"to_location_id\":\"DOCK\"}");
    POSTED(EV_ROLE_STORE_FINISHED, "CountClosed", "{\"count_id\":\"K1\"}");

    char *json = NULL, *csv = NULL;
    size_t json_len = 0, csv_len = 0;
    FILE *json_out = open_memstream(&json, &json_len), *csv_out = open_memstream(&csv, &csv_len);
    rpl_count_summary_t summary;
    cr_assert_eq(rpl_count_report(ledger, "K1", 50, NULL, json_out, csv_out, &summary), 0);
    fclose(json_out);
    fclose(csv_out);
    cr_assert_eq(summary.lines, 5, "B1 B2 B3 B4 B5\n%s", csv);
    cr_assert_eq(summary.counted, 4);
    cr_assert_eq(summary.outdated, 1, "B1 moved after it was counted");
    cr_assert_eq(summary.uncounted, 1, "B3");
    cr_assert_eq(summary.unknown, 2, "B4 is at DOCK, B5 came after the opening");
    cr_assert_eq(summary.adjustments, 2, "B2 and B3");
    cr_assert_eq(summary.approvals, 2, "B2 is 20%% short, B3 was not found");
    cr_assert_not_null(strstr(csv, "B1,TW-500,FG,pcs,100000,98000,-2000,outdated,0,no\n"), "%s",
                       csv);
    cr_assert_not_null(strstr(csv, "B2,TW-500,FG,pcs,50000,40000,-10000,difference,-10000,yes\n"),
                       "%s", csv);
    cr_assert_not_null(strstr(csv, "B3,TW-500,FG,pcs,20000,0,-20000,not counted,-20000,yes\n"),
                       "%s", csv);
    cr_assert_not_null(strstr(csv, "B4,TW-500,FG,pcs,0,5000,5000,not expected here,0,no\n"), "%s",
                       csv);
    cr_assert_not_null(strstr(json, "{\"needs_approval\": true, \"payload\": {\"count_id\": "
                                    "\"K1\", \"hu_id\": \"B2\", \"item_id\": \"TW-500\", "
                                    "\"location_id\": \"FG\", \"delta_qty_milli\": -10000, "
                                    "\"unit\": \"pcs\"}}"),
                       "%s", json);
    cr_assert_not_null(strstr(json, "{\"item_id\": \"TW-500\", \"location_id\": \"FG\", "
                                    "\"book_milli\": 170000, \"counted_milli\": 144000"),
                       "%s", json);
    /* The same report with the book from the nearest snapshot below the opening (one every
     * 2 events: the opening is event 5, its book comes from the snapshot at 4). */
    char snapdir[300], *from_snapshot = NULL;
    size_t from_snapshot_len = 0;
    snprintf(snapdir, sizeof(snapdir), "%s/snapshots", dir);
    uint32_t made = 0;
    cr_assert_eq(rpl_snapshot_update(ledger, snapdir, 2, NULL, &made), 0);
    cr_assert_gt(made, 2);
    FILE *again = open_memstream(&from_snapshot, &from_snapshot_len);
    rpl_count_summary_t same;
    cr_assert_eq(rpl_count_report(ledger, "K1", 50, snapdir, again, NULL, &same), 0);
    fclose(again);
    cr_assert_str_eq(from_snapshot, json);
    cr_assert_eq(same.adjustments, summary.adjustments);
    free(from_snapshot);
    /* The proposed adjustment posts as it is. */
    POSTED(EV_ROLE_MANAGER, "InventoryAdjusted",
           "{\"count_id\":\"K1\",\"hu_id\":\"B2\",\"item_id\":\"TW-500\",\"location_id\":\"FG\","
           "\"delta_qty_milli\":-10000,\"unit\":\"pcs\"}");
    free(json);
    free(csv);
    cr_assert_eq(rpl_count_report(ledger, "K404", 50, NULL, NULL, NULL, &summary), FL_ENOENT);
}

/* ---- export and import */

static char *exported_as(rpl_format_t format, size_t *len)
{
    char *text = NULL;
    FILE *out = open_memstream(&text, len);
    uint64_t count = 0;
    cr_assert_eq(rpl_export(ledger, 0, 0, format, out, &count), 0);
    fclose(out);
    cr_assert_eq(count, head_seq());
    return text;
}

static char *exported(size_t *len)
{
    return exported_as(RPL_FORMAT_NDJSON, len);
}

static int imported(const char *text, size_t len, eng_ledger_t **into, rpl_progress_t *progress)
{
    test_tmpdir(scratch_dir, sizeof(scratch_dir));
    eng_config_t config = {.dir = scratch_dir, .rules = ENG_RULES_PLANT, .scratch = true};
    cr_assert_eq(eng_open(into, &config), 0);
    FILE *in = fmemopen((void *)text, len, "r");
    int rc = rpl_import(*into, in, progress);
    fclose(in);
    return rc;
}

/* copy holds the test's ledger: the same head, hash and state. */
static void assert_same_chain_and_state(eng_ledger_t *copy)
{
    eng_head_t ours, theirs;
    eng_head(ledger, &ours);
    eng_head(copy, &theirs);
    cr_assert_eq(theirs.seq, ours.seq);
    cr_assert_eq(memcmp(theirs.hash, ours.hash, ENG_HASH_BYTES), 0, "the very same chain");
    rpl_difference_t difference;
    cr_assert_eq(rpl_compare(ledger, copy, &difference), 0, "%s", difference.key);
}

Test(replay, an_imported_export_is_the_same_chain_and_the_same_state)
{
    the_plant_works_a_day();
    size_t len;
    char *text = exported(&len);
    eng_ledger_t *copy = NULL;
    rpl_progress_t progress;
    cr_assert_eq(imported(text, len, &copy, &progress), 0, "%s", progress.detail);
    cr_assert_eq(progress.events, head_seq());
    assert_same_chain_and_state(copy);
    /* Imported again on top: every record is refused at the first line. */
    FILE *in = fmemopen(text, len, "r");
    cr_assert_eq(rpl_import(copy, in, &progress), FL_ECORRUPT);
    fclose(in);
    scratch_close(copy);
    free(text);
}

Test(replay, an_edited_export_is_refused_at_the_edited_record_and_nothing_after_it_is_written)
{
    the_plant_works_a_day();
    size_t len;
    char *text = exported(&len);
    /* One payload digit changed in the tenth record (a quantity, a name...). */
    char *line = text;
    for (int i = 1; i < 10; i++)
        line = strchr(line, '\n') + 1;
    char *record = strstr(line, "\"record\": \"") + 11;
    char *digit = strchr(record, '"') - 10;
    *digit = *digit == '0' ? '1' : '0';
    eng_ledger_t *copy = NULL;
    rpl_progress_t progress;
    cr_assert_eq(imported(text, len, &copy, &progress), FL_ECORRUPT);
    cr_assert_eq(progress.failed_seq, 10);
    cr_assert_eq(progress.events, 9);
    cr_assert_not_null(strstr(progress.detail, "hash"), "%s", progress.detail);
    eng_head_t head;
    eng_head(copy, &head);
    cr_assert_eq(head.seq, 9);
    scratch_close(copy);
    free(text);
}

/* Where msgpack entry number n (from 1) of an export ends. */
static size_t entry_end(const char *bytes, size_t len, int n)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    size_t offset = 0;
    for (int i = 0; i < n; i++)
        cr_assert_eq(msgpack_unpack_next(&unpacked, bytes, len, &offset), MSGPACK_UNPACK_SUCCESS);
    msgpack_unpacked_destroy(&unpacked);
    return offset;
}

Test(replay, a_msgpack_export_imports_as_the_same_chain_and_is_smaller_than_ndjson)
{
    the_plant_works_a_day();
    /* Rolls enough for an export of several of the import's reads (64 KiB each). */
    for (int i = 0; i < 400; i++) {
        char id[32];
        snprintf(id, sizeof(id), "R-MORE-%d", i);
        day_roll(id, "1000");
    }
    size_t ndjson_len, len;
    char *ndjson = exported(&ndjson_len);
    char *bytes = exported_as(RPL_FORMAT_MSGPACK, &len);
    cr_log_info("%llu events: NDJSON %zu bytes, msgpack %zu", (unsigned long long)head_seq(),
                ndjson_len, len);
    cr_assert_lt(len * 3, ndjson_len * 2, "no hex: about half the size");
    cr_assert_eq(entry_end(bytes, len, (int)head_seq()), len, "one entry a record, nothing else");
    eng_ledger_t *copy = NULL;
    rpl_progress_t progress;
    cr_assert_eq(imported(bytes, len, &copy, &progress), 0, "%s", progress.detail);
    cr_assert_eq(progress.events, head_seq());
    assert_same_chain_and_state(copy);
    scratch_close(copy);
    free(bytes);
    free(ndjson);
}

Test(replay, an_edited_cut_or_foreign_msgpack_export_is_refused_where_it_stops_holding)
{
    the_plant_works_a_day();
    size_t len;
    char *bytes = exported_as(RPL_FORMAT_MSGPACK, &len);
    eng_ledger_t *copy = NULL;
    rpl_progress_t progress;
    eng_head_t head;
    /* Cut inside its last entry: every record before it imported, then refused. */
    cr_assert_eq(imported(bytes, len - 3, &copy, &progress), FL_ECORRUPT);
    cr_assert_eq(progress.events, head_seq() - 1);
    cr_assert_eq(progress.failed_seq, head_seq());
    cr_assert_not_null(strstr(progress.detail, "ends inside"), "%s", progress.detail);
    scratch_close(copy);
    /* One byte changed in the tenth record, five before its end (in its payload). */
    bytes[entry_end(bytes, len, 10) - 5] ^= 0x10;
    cr_assert_eq(imported(bytes, len, &copy, &progress), FL_ECORRUPT);
    cr_assert_eq(progress.failed_seq, 10);
    cr_assert_eq(progress.events, 9);
    cr_assert_not_null(strstr(progress.detail, "hash"), "%s", progress.detail);
    eng_head(copy, &head);
    cr_assert_eq(head.seq, 9, "nothing of the edited record or after it written");
    scratch_close(copy);
    /* Neither format: nothing written. */
    static const char foreign[] = "seq,hash,type\n1,00,GoodsReceived\n";
    cr_assert_eq(imported(foreign, sizeof(foreign) - 1, &copy, &progress), FL_ECORRUPT);
    cr_assert_eq(progress.events, 0);
    cr_assert_not_null(strstr(progress.detail, "neither"), "%s", progress.detail);
    scratch_close(copy);
    free(bytes);
}

static char *recall_text(const char *source, int64_t from_us, int64_t until_us, uint32_t *seeds)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_eq(rpl_recall(ledger, source, from_us, until_us, 32, false, out, seeds), 0);
    fclose(out);
    return text;
}

Test(replay, a_recall_from_a_loom_a_weaver_or_a_subcontractor_over_a_period_finds_the_pallets)
{
    the_plant_works_a_day(); /* every event occurred at 1764000000000000 */
    uint32_t seeds;
    char *text = recall_text("loom-L1", 0, 0, &seeds);
    cr_assert_eq(seeds, 2, "the two rolls woven on L1:\n%s", text);
    cr_assert_not_null(strstr(text, "{\"from\": \"hu-C1\", \"to\": \"hu-P1\""), "%s", text);
    cr_assert_null(strstr(text, "hu-Y-WEFT"), "the weft issued to L1 is not its output");
    free(text);
    text = recall_text("sub-BRODERIE", 0, 0, &seeds);
    cr_assert_eq(seeds, 1, "what came back from the embroiderer:\n%s", text);
    cr_assert_not_null(strstr(text, "{\"from\": \"hu-E1\", \"to\": \"hu-C2\""), "%s", text);
    cr_assert_null(strstr(text, "hu-C1"), "the other carton holds nothing of it");
    free(text);
    text = recall_text("actor:tester", 1764000000000000, 1764000000000001, &seeds);
    cr_assert_eq(seeds, 6, "two rolls, four bundles:\n%s", text);
    free(text);
    text = recall_text("loom-L1", 1764000000000001, 0, &seeds);
    cr_assert_eq(seeds, 0, "nothing woven after the day");
    cr_assert_not_null(strstr(text, "\"nodes\": [\n  ]"), "%s", text);
    free(text);
}
