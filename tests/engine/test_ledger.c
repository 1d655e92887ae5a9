/*
 * Tests of opening and closing a ledger: the directory is made, bad configurations and
 * foreign formats are refused with clear codes, and close is safe on NULL.
 */
#include "tests/support/support.h"
#include "tests/support/raw_lmdb.h"

#include <lmdb.h>
#include <sys/stat.h>

static char dir[256];

static void setup(void)
{
    test_tmpdir(dir, sizeof(dir));
}

static void teardown(void)
{
    test_tmpdir_remove(dir);
}

TestSuite(ledger, .init = setup, .fini = teardown, .timeout = 30);

Test(ledger, open_makes_the_directory_and_starts_empty)
{
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/tenant-demo", dir);
    eng_ledger_t *ledger = test_ledger_open(sub);
    struct stat st;
    cr_assert_eq(stat(sub, &st), 0);
    cr_assert(S_ISDIR(st.st_mode));
    eng_head_t head;
    eng_head(ledger, &head);
    cr_assert_eq(head.seq, 0);
    uint64_t checked, bad;
    cr_assert_eq(eng_verify(ledger, &checked, &bad), 0);
    cr_assert_eq(checked, 0);
    eng_close(ledger);
}

Test(ledger, a_missing_directory_setting_is_invalid)
{
    eng_ledger_t *ledger = (eng_ledger_t *)1;
    eng_config_t config = {.dir = ""};
    cr_assert_eq(eng_open(&ledger, &config), FL_EINVAL);
    cr_assert_null(ledger, "the out-parameter is cleared on failure");
    cr_assert_eq(eng_open(&ledger, NULL), FL_EINVAL);
}

Test(ledger, a_directory_that_cannot_be_made_is_a_clear_error)
{
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/file", dir);
    FILE *file = fopen(sub, "w");
    cr_assert_not_null(file);
    fclose(file);
    char below[320];
    snprintf(below, sizeof(below), "%s/tenant", sub);
    eng_config_t config = {.dir = below};
    eng_ledger_t *ledger = NULL;
    int rc = eng_open(&ledger, &config);
    cr_assert_lt(rc, 0);
    cr_assert_str_neq(fl_errname(rc), "UNKNOWN", "got %d", rc);
    cr_assert_null(ledger);
}

Test(ledger, a_ledger_of_another_format_version_is_refused)
{
    eng_close(test_ledger_open(dir));
    uint32_t format = 2;
    test_raw_put(dir, "meta", "format", &format, sizeof(format));
    eng_config_t config = {.dir = dir};
    eng_ledger_t *ledger = NULL;
    cr_assert_eq(eng_open(&ledger, &config), FL_EFORMAT);
}

Test(ledger, close_accepts_null)
{
    eng_close(NULL);
}

Test(ledger, a_reopened_ledger_continues_the_chain)
{
    eng_ledger_t *ledger = test_ledger_open(dir);
    test_event_t e;
    test_event_make(&e, "hu-1", 1);
    eng_position_t first = test_append_one(ledger, &e.event);
    eng_close(ledger);
    ledger = test_ledger_open(dir);
    eng_head_t head;
    eng_head(ledger, &head);
    cr_assert_eq(head.seq, 1);
    cr_assert_arr_eq(head.hash, first.hash, ENG_HASH_BYTES);
    test_event_make(&e, "hu-1", 2);
    eng_position_t second = test_append_one(ledger, &e.event);
    cr_assert_eq(second.seq, 2);
    cr_assert_eq(second.stream_version, 2);
    eng_iter_t *iter;
    eng_record_t r;
    cr_assert_eq(eng_read(ledger, 2, &r, &iter), 0);
    cr_assert_arr_eq(r.prev_hash, first.hash, ENG_HASH_BYTES);
    eng_iter_close(iter);
    eng_close(ledger);
}

Test(ledger, a_ledger_with_its_indexes_beside_the_log_drops_them_and_folds_again)
{
    /* Ledgers made before the index environment kept heads, streams, entities and the
     * watermark in the log's environment; here a false head and a watermark past the log. */
    eng_config_t config = {.dir = dir, .map_bytes_initial = 1 << 20};
    eng_ledger_t *ledger = NULL;
    cr_assert_eq(eng_open(&ledger, &config), 0);
    enum { EVENTS = 4000, PER_CALL = 100 }; /* about 2 MB: more than the initial map */
    static test_event_t made[PER_CALL];
    static eng_event_t events[PER_CALL];
    static eng_position_t positions[PER_CALL];
    for (unsigned done = 0; done < EVENTS; done += PER_CALL) {
        for (unsigned i = 0; i < PER_CALL; i++) {
            test_event_make(&made[i], "hu-old", done + i);
            events[i] = made[i].event;
        }
        cr_assert_eq(eng_append(ledger, events, PER_CALL, 0, positions, NULL), 0);
    }
    eng_close(ledger);
    uint64_t head = 9999, seq = 1, none = 0, folded = 500;
    test_raw_put(dir, "heads", "hu-old", &head, sizeof(head));
    test_raw_put(dir, "streams", "hu-ghost", &seq, sizeof(seq));
    test_raw_put(dir, "entities", "loom:L99", &none, sizeof(none));
    test_raw_put(dir, "meta", "folded", &folded, sizeof(folded));
    MDB_env *env;
    MDB_txn *txn;
    cr_assert_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 32);
    cr_assert_eq(mdb_env_open(env, dir, 0, 0640), 0);
    /* A compacting copy has no free page: the file is exactly the pages in use, and LMDB maps
     * no more than that, so dropping the old indexes at open needs the map to grow first. */
    char old[512];
    snprintf(old, sizeof(old), "%s/old", dir);
    cr_assert_eq(mkdir(old, 0750), 0);
    cr_assert_eq(mdb_env_copy2(env, old, MDB_CP_COMPACT), 0);
    mdb_env_close(env);
    config.dir = old; /* as an older version left it: no index environment */

    cr_assert_eq(eng_open(&ledger, &config), 0);
    test_event_t e;
    test_event_make(&e, "hu-old", 4000);
    e.event.expected_version = 4000; /* from the log, not the false head */
    cr_assert_eq(test_append_one(ledger, &e.event).stream_version, 4001);
    eng_close(ledger);
    cr_assert_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 32);
    cr_assert_eq(mdb_env_open(env, old, MDB_RDONLY, 0640), 0);
    cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    MDB_dbi dbi;
    cr_assert_eq(mdb_dbi_open(txn, "streams", 0, &dbi), MDB_NOTFOUND);
    cr_assert_eq(mdb_dbi_open(txn, "heads", 0, &dbi), MDB_NOTFOUND);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    ledger = test_ledger_open(old);
    eng_stats_t stats;
    eng_stats(ledger, &stats);
    cr_assert_eq(stats.folded_seq, 4001, "folded again into the index environment");
    eng_close(ledger);
}
