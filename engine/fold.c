/*
 * fold.c: writes the stream and entity indexes from the log, in batches.
 *
 * Indexing every event inside its append transaction dirtied a scattered B-tree page per index
 * entry, so a commit of 43 events wrote about 1 MB where the log itself needed 20 KB. Folding
 * thousands of events at once lets entries of the same loom, order or actor share their pages.
 * Each fold writes its entries and the new watermark ("folded" in meta) in one transaction, so
 * after any crash the index holds exactly the events up to its watermark, and readers scan the
 * log after it (read.c). Nothing a reader sees depends on whether a fold has run.
 */
#define _POSIX_C_SOURCE 200809L
#include "engine/engine_int.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define ACTOR_PREFIX     "actor:"
#define ACTOR_ENTITY_MAX (sizeof(ACTOR_PREFIX) + ENG_ACTOR_LEN_MAX)

static const MDB_val folded_key = {.mv_size = 6, .mv_data = "folded"};

int eng__folded_get(eng_ledger_t *ledger, MDB_txn *txn, uint64_t *out)
{
    MDB_val key = folded_key, value;
    *out = 0;
    int rc = mdb_get(txn, ledger->dbi_meta, &key, &value);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return eng__err_from_mdb(rc);
    if (value.mv_size != sizeof(*out))
        return FL_ECORRUPT;
    memcpy(out, value.mv_data, sizeof(*out));
    return 0;
}

/* Flat keys rather than LMDB's duplicate sort: a busy loom's new entries land at the end of its
 * key range, one leaf page per fold, where a DUPSORT sub-tree also rewrote its branch and root
 * pages and the main-tree node holding them. */
static int put_entity(eng_ledger_t *ledger, MDB_txn *txn, const char *entity, size_t len,
                      uint64_t seq)
{
    uint8_t key_bytes[ENG_INDEX_KEY_MAX];
    MDB_val key = {.mv_size = eng__index_key(entity, len, seq, key_bytes), .mv_data = key_bytes};
    MDB_val value = {.mv_size = 0, .mv_data = NULL};
    return mdb_put(txn, ledger->dbi_entities, &key, &value, 0);
}

/* Index entries of one record. Records are folded in order, so the last head put wins.
 * Returns an LMDB code. */
static int fold_record(eng_ledger_t *ledger, MDB_txn *txn, const eng_record_t *record)
{
    uint8_t stream_key[ENG_INDEX_KEY_MAX];
    uint64_t seq = record->seq, version = record->stream_version;
    MDB_val key = {.mv_size = eng__index_key(record->stream.ptr, record->stream.len,
                                             record->stream_version, stream_key),
                   .mv_data = stream_key};
    MDB_val value = {.mv_size = sizeof(seq), .mv_data = &seq};
    MDB_val head_key = {.mv_size = record->stream.len, .mv_data = (void *)record->stream.ptr};
    MDB_val head_value = {.mv_size = sizeof(version), .mv_data = &version};
    int rc = mdb_put(txn, ledger->dbi_streams, &key, &value, 0);
    if (rc == 0)
        rc = mdb_put(txn, ledger->dbi_heads, &head_key, &head_value, 0);
    if (rc != 0)
        return rc;
    for (uint32_t i = 0; i < record->entities_count; i++)
        if ((rc = put_entity(ledger, txn, record->entities[i].ptr, record->entities[i].len, seq)) !=
            0)
            return rc;
    if (record->actor_user.len > 0) {
        char actor[ACTOR_ENTITY_MAX];
        int len = snprintf(actor, sizeof(actor), ACTOR_PREFIX "%.*s", (int)record->actor_user.len,
                           record->actor_user.ptr);
        assert(len > 0 && (size_t)len < sizeof(actor));
        rc = put_entity(ledger, txn, actor, (size_t)len, seq);
    }
    return rc;
}

int eng__fold_in(eng_ledger_t *ledger, MDB_txn *txn, uint32_t limit, uint64_t *last_out)
{
    MDB_cursor *cursor = NULL;
    int rc = mdb_cursor_open(txn, ledger->dbi_log, &cursor);
    if (rc != 0)
        return rc;
    uint64_t next = ledger->folded_seq + 1, last = ledger->folded_seq;
    MDB_val key = {.mv_size = sizeof(next), .mv_data = &next}, value;
    rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_KEY);
    for (uint32_t folded = 0; rc == 0 && folded < limit; folded++) {
        eng_record_t record;
        uint64_t seq;
        memcpy(&seq, key.mv_data, sizeof(seq));
        if (seq != last + 1 || eng__value_decode(&value, seq, &record) != 0) {
            rc = MDB_CORRUPTED;
            break;
        }
        if ((rc = fold_record(ledger, txn, &record)) != 0)
            break;
        last = seq;
        rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
    }
    mdb_cursor_close(cursor);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    MDB_val mark_key = folded_key, mark = {.mv_size = sizeof(last), .mv_data = &last};
    if ((rc = mdb_put(txn, ledger->dbi_meta, &mark_key, &mark, 0)) != 0)
        return rc;
    *last_out = last;
    return 0;
}

void eng__fold_done(eng_ledger_t *ledger, uint64_t last)
{
    assert(last >= ledger->folded_seq && last <= ledger->head.seq);
    ledger->folded_seq = last;
    eng__heads_prune(&ledger->heads, last);
    pthread_mutex_lock(&ledger->lock);
    ledger->stats.folds++;
    ledger->stats.folded_seq = last;
    ledger->stats.fold_error = 0;
    pthread_mutex_unlock(&ledger->lock);
}

void eng__fold_failed(eng_ledger_t *ledger, int err)
{
    /* Reads stay correct (they scan the log past the watermark); only speed suffers. A full
     * disk may pass, so only a corrupt record stops folding for good. */
    if (err == FL_ECORRUPT)
        ledger->fold_error = err;
    pthread_mutex_lock(&ledger->lock);
    ledger->stats.fold_error = err;
    pthread_mutex_unlock(&ledger->lock);
}

int eng__fold(eng_ledger_t *ledger)
{
    if (ledger->fold_error != 0)
        return ledger->fold_error;
    if (ledger->folded_seq >= ledger->head.seq) /* the writer's own copy of the head */
        return 0;
    for (;;) {
        MDB_txn *txn = NULL;
        uint64_t last = 0;
        int rc = mdb_txn_begin(ledger->env, NULL, 0, &txn);
        if (rc == 0) {
            rc = eng__fold_in(ledger, txn, ENG_FOLD_CHUNK_MAX, &last);
            if (rc == 0)
                rc = mdb_txn_commit(txn);
            else
                mdb_txn_abort(txn);
        }
        int err;
        if (rc == MDB_MAP_FULL) {
            if ((err = eng__map_grow(ledger)) == 0)
                continue;
        } else {
            err = eng__write_err(ledger, rc);
        }
        if (err != 0) {
            eng__fold_failed(ledger, err);
            return err;
        }
        eng__fold_done(ledger, last);
        return 0;
    }
}

int eng__fold_all(eng_ledger_t *ledger)
{
    int rc = 0;
    while (rc == 0 && ledger->folded_seq < ledger->head.seq)
        rc = eng__fold(ledger);
    return rc;
}

/* Loads the versions of the streams written after the watermark into the heads table.
 * FL_EBUSY when they do not fit (the caller folds first). */
static int tail_load(eng_ledger_t *ledger)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cursor = NULL;
    int rc = eng__read_begin(ledger, &txn);
    if (rc != 0)
        return rc;
    if ((rc = mdb_cursor_open(txn, ledger->dbi_log, &cursor)) != 0) {
        rc = eng__err_from_mdb(rc);
        goto done;
    }
    uint64_t next = ledger->folded_seq + 1;
    MDB_val key = {.mv_size = sizeof(next), .mv_data = &next}, value;
    int mrc = mdb_cursor_get(cursor, &key, &value, MDB_SET_KEY);
    for (; mrc == 0; mrc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        eng_record_t record;
        uint64_t seq;
        memcpy(&seq, key.mv_data, sizeof(seq));
        if ((rc = eng__value_decode(&value, seq, &record)) != 0)
            goto done;
        if (ledger->heads.used >= ENG_HEADS_FOLD_AT) {
            rc = FL_EBUSY;
            goto done;
        }
        eng__heads_set(&ledger->heads, record.stream.ptr, record.stream.len, record.stream_version,
                       seq);
        eng__heads_commit(&ledger->heads);
    }
    rc = mrc == MDB_NOTFOUND ? 0 : eng__err_from_mdb(mrc);
done:
    if (cursor != NULL)
        mdb_cursor_close(cursor);
    eng__read_end(ledger, txn);
    return rc;
}

int eng__heads_load(eng_ledger_t *ledger)
{
    int rc = tail_load(ledger);
    if (rc != FL_EBUSY)
        return rc;
    /* A tail longer than the table (folds failed before a restart): fold it now. */
    eng__heads_prune(&ledger->heads, UINT64_MAX);
    return eng__fold_all(ledger);
}
