/*
 * raw_lmdb.h: changes made to a ledger's files with LMDB alone, as a tool, an older version or
 * a hand edit would; for tests that link LMDB. The ledger must be closed.
 */
#ifndef FL_TEST_RAW_LMDB_H
#define FL_TEST_RAW_LMDB_H

#include <criterion/criterion.h>
#include <lmdb.h>
#include <string.h>

/* Puts key -> value into the named database db (made when missing) of the environment in dir. */
static inline void test_raw_put(const char *dir, const char *db, const char *key, const void *value,
                                size_t value_len)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    cr_assert_eq(mdb_env_create(&env), 0);
    cr_assert_eq(mdb_env_set_maxdbs(env, 32), 0);
    cr_assert_eq(mdb_env_open(env, dir, 0, 0640), 0);
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, db, MDB_CREATE, &dbi), 0);
    MDB_val k = {.mv_size = strlen(key), .mv_data = (void *)key};
    MDB_val v = {.mv_size = value_len, .mv_data = (void *)value};
    cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

#endif
