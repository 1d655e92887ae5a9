/*
 * Replay: the plant's state rebuilt from the log alone equals the state kept inline; a state
 * as of an earlier sequence equals what was current then; a row of the inline state changed
 * behind the ledger's back is found and named.
 */
#include "tests/engine/plant.h"

#include <lmdb.h>

#include "replay/replay.h"

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

Test(replay, a_stock_row_changed_behind_the_ledgers_back_is_named)
{
    the_plant_works_a_day();
    eng_close(ledger);
    /* Raise one balance directly in the data file, as a faulty tool or a hand edit would. */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    cr_assert_eq(mdb_env_create(&env), 0);
    cr_assert_eq(mdb_env_set_maxdbs(env, 32), 0);
    cr_assert_eq(mdb_env_open(env, dir, 0, 0640), 0);
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, "stock", 0, &dbi), 0);
    static const char key_bytes[] = "WARP-20\0MP1\0\1"; /* available, no grade */
    MDB_val key = {.mv_size = sizeof(key_bytes), .mv_data = (void *)key_bytes}, value;
    cr_assert_eq(mdb_get(txn, dbi, &key, &value), 0);
    int64_t forged = 999999;
    value = (MDB_val){.mv_size = sizeof(forged), .mv_data = &forged};
    cr_assert_eq(mdb_put(txn, dbi, &key, &value, 0), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    eng_config_t config = {.dir = dir, .rules = ENG_RULES_PLANT};
    cr_assert_eq(eng_open(&ledger, &config), 0);

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
