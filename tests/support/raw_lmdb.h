/*
 * raw_lmdb.h: changes made to a ledger's files with LMDB alone, as a tool, an older version or
 * a hand edit would; for tests that link LMDB. The ledger must be closed.
 */
#ifndef FL_TEST_RAW_LMDB_H
#define FL_TEST_RAW_LMDB_H

#include <criterion/criterion.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

/* Changes one value of the named database db of the environment in env_dir (opened with flags).
 * With MDB_CREATE the database and the key may be new (edit then gets mv_data NULL); without
 * it, the key must be there. edit gets a copy of the value and sets the one to put. */
static inline void test_raw_edit(const char *env_dir, const char *db, unsigned flags, MDB_val key,
                                 void (*edit)(MDB_val *value, void *data), void *data)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val value;
    cr_assert_eq(mdb_env_create(&env), 0);
    cr_assert_eq(mdb_env_set_maxdbs(env, 32), 0);
    cr_assert_eq(mdb_env_open(env, env_dir, 0, 0640), 0);
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, db, flags, &dbi), 0);
    int rc = mdb_get(txn, dbi, &key, &value);
    cr_assert(rc == 0 || (rc == MDB_NOTFOUND && (flags & MDB_CREATE)), "%s", mdb_strerror(rc));
    uint8_t *copy = NULL; /* the map's bytes are read-only: edit works on a copy */
    if (rc == 0) {
        copy = malloc(value.mv_size > 0 ? value.mv_size : 1);
        cr_assert_not_null(copy);
        memcpy(copy, value.mv_data, value.mv_size);
        value.mv_data = copy;
    } else {
        value = (MDB_val){.mv_size = 0, .mv_data = NULL};
    }
    edit(&value, data);
    cr_assert_eq(mdb_put(txn, dbi, &key, &value, 0), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    free(copy);
}

/* test_raw_edit's edit that puts the MDB_val data points to. */
static inline void test_raw_set(MDB_val *value, void *data)
{
    *value = *(const MDB_val *)data;
}

/* Puts key -> value into the named database db (made when missing) of the environment in
 * env_dir. */
static inline void test_raw_put(const char *env_dir, const char *db, const char *key,
                                const void *value, size_t value_len)
{
    MDB_val k = {.mv_size = strlen(key), .mv_data = (void *)key};
    MDB_val v = {.mv_size = value_len, .mv_data = (void *)value};
    test_raw_edit(env_dir, db, MDB_CREATE, k, test_raw_set, &v);
}

#endif
