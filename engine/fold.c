/*
 * fold.c: the stream and entity indexes, folded from the log in chunks by a thread of their own
 * into an LMDB environment of their own.
 *
 * Indexing every event inside its append transaction dirtied a scattered B-tree page per index
 * entry, so a commit of 43 events wrote about 1 MB where the log itself needed 20 KB. Folding
 * thousands of events at once lets entries of the same loom, order or actor share their pages.
 * Folded inside an append's commit, though, a chunk still put its megabytes and their fsync in
 * front of the callers of that commit (p99 per append 14-19 ms at 64 appenders). So the indexes
 * live in their own environment (the ledger's "index" subdirectory), written by the folder
 * thread while the writer goes on.
 *
 * Each fold writes its entries and the new watermark ("folded": the last seq folded and its
 * record's hash) in one transaction, so after any crash the index holds exactly the events up to
 * its watermark, and readers scan the log after it (read.c). Nothing a reader sees depends on
 * whether a fold has run. The environment syncs its data pages before its meta page
 * (MDB_NOMETASYNC): a crash keeps it whole and may take back the last folds, which the log
 * still holds. An index whose watermark is not a record of this log (a log restored without its
 * index) is dropped and folded again.
 */
#define _POSIX_C_SOURCE 200809L
#include "engine/engine_int.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ACTOR_PREFIX     "actor:"
#define ACTOR_ENTITY_MAX (sizeof(ACTOR_PREFIX) + ENG_ACTOR_LEN_MAX)
#define INDEX_DIR        "/index"
#define INDEX_PATH_MAX   4096
#define FOLD_RETRY_MS    100u /* after a fold that failed (a full disk), before the next try */

static const MDB_val folded_key = {.mv_size = 6, .mv_data = "folded"};

/* The watermark's value: the last seq folded and that record's hash. */
typedef struct {
    uint64_t seq;
    uint8_t hash[ENG_HASH_BYTES];
} watermark_t;

static int watermark_get(eng_ledger_t *ledger, MDB_txn *index_txn, watermark_t *out)
{
    memset(out, 0, sizeof(*out));
    MDB_val key = folded_key, value;
    int rc = mdb_get(index_txn, ledger->dbi_index_meta, &key, &value);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return eng__err_from_mdb(rc);
    if (value.mv_size != sizeof(*out))
        return FL_ECORRUPT;
    memcpy(out, value.mv_data, sizeof(*out));
    return 0;
}

int eng__folded_get(eng_ledger_t *ledger, MDB_txn *index_txn, uint64_t *out)
{
    *out = 0;
    if (index_txn == NULL)
        return 0;
    watermark_t mark;
    int rc = watermark_get(ledger, index_txn, &mark);
    *out = mark.seq;
    return rc;
}

/* ---- opening, closing, copying */

static int index_path(const char *dir, char path[INDEX_PATH_MAX])
{
    int len = snprintf(path, INDEX_PATH_MAX, "%s" INDEX_DIR, dir);
    if (len < 0 || len >= INDEX_PATH_MAX)
        return FL_ETOOBIG;
    if (mkdir(path, 0750) != 0 && errno != EEXIST)
        return fl_err_from_errno(errno);
    return 0;
}

/* Whether the watermark names a record of this log (the same seq and hash). */
static int watermark_matches(eng_ledger_t *ledger, const watermark_t *mark, bool *matches)
{
    *matches = mark->seq == 0;
    if (mark->seq == 0 || mark->seq > ledger->head.seq)
        return 0;
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(ledger->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return eng__err_from_mdb(rc);
    uint64_t seq = mark->seq;
    MDB_val key = {.mv_size = sizeof(seq), .mv_data = &seq}, value;
    eng_record_t record;
    rc = mdb_get(txn, ledger->dbi_log, &key, &value);
    if (rc == 0 && eng__value_decode(&value, seq, &record) == 0)
        *matches = memcmp(record.hash, mark->hash, ENG_HASH_BYTES) == 0;
    mdb_txn_abort(txn);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : eng__err_from_mdb(rc);
}

/* Opens the databases; an index that does not belong to this log is emptied. */
static int index_databases(eng_ledger_t *ledger)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(ledger->index_env, NULL, 0, &txn);
    if (rc != 0)
        return eng__err_from_mdb(rc);
    if ((rc = mdb_dbi_open(txn, "heads", MDB_CREATE, &ledger->dbi_heads)) ||
        (rc = mdb_dbi_open(txn, "streams", MDB_CREATE, &ledger->dbi_streams)) ||
        (rc = mdb_dbi_open(txn, "entities", MDB_CREATE, &ledger->dbi_entities)) ||
        (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &ledger->dbi_index_meta))) {
        mdb_txn_abort(txn);
        return eng__err_from_mdb(rc);
    }
    watermark_t mark;
    bool matches = false;
    int err = watermark_get(ledger, txn, &mark);
    if (err == FL_ECORRUPT)
        err = 0; /* an unreadable watermark: not this log's index either */
    else if (err == 0)
        err = watermark_matches(ledger, &mark, &matches);
    if (err == 0 && !matches) {
        mark.seq = 0;
        MDB_dbi dbis[] = {ledger->dbi_heads, ledger->dbi_streams, ledger->dbi_entities,
                          ledger->dbi_index_meta};
        for (size_t i = 0; i < sizeof(dbis) / sizeof(dbis[0]) && rc == 0; i++)
            rc = mdb_drop(txn, dbis[i], 0);
        err = eng__err_from_mdb(rc);
    }
    if (err != 0) {
        mdb_txn_abort(txn);
        return err;
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        return eng__err_from_mdb(rc);
    ledger->folded = ledger->folded_seq = mark.seq;
    return 0;
}

static int index_try_open(eng_ledger_t *ledger, const char *path)
{
    unsigned flags = MDB_NOMETASYNC | (ledger->config.scratch ? MDB_NOSYNC : 0);
    int rc = eng__env_open(ledger, path, flags, 4, &ledger->index_env, &ledger->index_map_bytes);
    if (rc != 0)
        return rc;
    if ((rc = index_databases(ledger)) != 0) {
        mdb_env_close(ledger->index_env);
        ledger->index_env = NULL;
    }
    return rc;
}

int eng__index_open(eng_ledger_t *ledger)
{
    char path[INDEX_PATH_MAX];
    int rc = index_path(ledger->config.dir, path);
    if (rc != 0)
        return rc;
    rc = index_try_open(ledger, path);
    if (rc != FL_EFORMAT && rc != FL_ECORRUPT)
        return rc;
    /* A damaged index file (a crash in its first moments, a bad copy): the log holds everything
     * it had, so it is made again, empty, and folded from the log. */
    char file[INDEX_PATH_MAX + 16];
    snprintf(file, sizeof(file), "%s/data.mdb", path);
    if (unlink(file) != 0 && errno != ENOENT)
        return fl_err_from_errno(errno);
    snprintf(file, sizeof(file), "%s/lock.mdb", path);
    if (unlink(file) != 0 && errno != ENOENT)
        return fl_err_from_errno(errno);
    return index_try_open(ledger, path);
}

void eng__index_close(eng_ledger_t *ledger)
{
    if (ledger->index_env == NULL)
        return;
    if (!ledger->config.scratch)
        mdb_env_sync(ledger->index_env, 1); /* the last folds' meta page */
    mdb_env_close(ledger->index_env);
    ledger->index_env = NULL;
}

int eng__index_copy(eng_ledger_t *ledger, const char *dir)
{
    if (ledger->index_env == NULL)
        return 0;
    char path[INDEX_PATH_MAX];
    int rc = index_path(dir, path);
    if (rc != 0)
        return rc;
    eng__gate_enter(ledger, ledger->index_env);
    rc = mdb_env_copy2(ledger->index_env, path, MDB_CP_COMPACT);
    eng__gate_leave(ledger, ledger->index_env);
    return rc == 0 ? 0 : eng__err_from_mdb(rc);
}

/* ---- folding */

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

/* Folds up to limit records after seq from (read in log_txn) into txn, with the watermark.
 * Returns an LMDB code (MDB_CORRUPTED for a record that does not decode). */
static int fold_in(eng_ledger_t *ledger, MDB_txn *log_txn, MDB_txn *txn, uint64_t from,
                   uint32_t limit, uint64_t *last_out)
{
    MDB_cursor *cursor = NULL;
    int rc = mdb_cursor_open(log_txn, ledger->dbi_log, &cursor);
    if (rc != 0)
        return rc;
    watermark_t mark = {.seq = from};
    uint64_t next = from + 1;
    MDB_val key = {.mv_size = sizeof(next), .mv_data = &next}, value;
    rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_KEY);
    for (uint32_t folded = 0; rc == 0 && folded < limit; folded++) {
        eng_record_t record;
        uint64_t seq;
        memcpy(&seq, key.mv_data, sizeof(seq));
        if (seq != mark.seq + 1 || eng__value_decode(&value, seq, &record) != 0) {
            rc = MDB_CORRUPTED;
            break;
        }
        if ((rc = fold_record(ledger, txn, &record)) != 0)
            break;
        mark.seq = seq;
        memcpy(mark.hash, record.hash, ENG_HASH_BYTES);
        rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
    }
    mdb_cursor_close(cursor);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (mark.seq == from)
        return MDB_CORRUPTED; /* the log ends before the head it reported */
    MDB_val mark_key = folded_key, mark_value = {.mv_size = sizeof(mark), .mv_data = &mark};
    if ((rc = mdb_put(txn, ledger->dbi_index_meta, &mark_key, &mark_value, 0)) != 0)
        return rc;
    *last_out = mark.seq;
    return 0;
}

/* One chunk, in a transaction of the index environment, growing its map when full.
 * Returns 0 or an FL_ code. */
static int fold_chunk(eng_ledger_t *ledger, uint64_t from, uint32_t limit, uint64_t *last_out)
{
    for (;;) {
        MDB_txn *log_txn = NULL, *txn = NULL;
        int rc = eng__read_begin(ledger, &log_txn);
        if (rc != 0)
            return rc;
        int mrc = mdb_txn_begin(ledger->index_env, NULL, 0, &txn);
        if (mrc == 0) {
            mrc = fold_in(ledger, log_txn, txn, from, limit, last_out);
            if (mrc == 0)
                mrc = mdb_txn_commit(txn);
            else
                mdb_txn_abort(txn);
        }
        eng__read_end(ledger, log_txn);
        if (mrc == MDB_MAP_FULL) {
            if ((rc = eng__map_grow(ledger, ledger->index_env, &ledger->index_map_bytes)) == 0)
                continue;
            return rc;
        }
        return mrc == 0 ? 0 : eng__write_err(ledger, mrc);
    }
}

int eng__fold_all(eng_ledger_t *ledger)
{
    if (ledger->index_env == NULL)
        return 0;
    while (ledger->folded < ledger->head.seq) {
        uint64_t last = 0;
        int rc = fold_chunk(ledger, ledger->folded, ENG_FOLD_CHUNK_MAX, &last);
        if (rc != 0)
            return rc;
        ledger->folded = ledger->folded_seq = last;
    }
    ledger->stats.folded_seq = ledger->folded;
    return 0;
}

/* ---- the folder thread */

/* How many records to fold now (0: none), with the lock held. A full chunk as soon as there is
 * one; the rest when asked, when closing, or when the head has not moved for fold_idle_ms. */
static uint32_t fold_due(const eng_ledger_t *ledger, uint64_t idle_head)
{
    uint64_t head = ledger->head.seq, unfolded = head - ledger->folded;
    if (ledger->fold_error == FL_ECORRUPT || unfolded == 0)
        return 0;
    if (unfolded >= ledger->config.fold_events_max)
        return ledger->config.fold_events_max;
    if (ledger->folder_stop || ledger->fold_all_asked > ledger->folded || idle_head == head)
        return (uint32_t)unfolded;
    return 0;
}

void *eng__folder_main(void *arg)
{
    eng_ledger_t *ledger = arg;
    prctl(PR_SET_NAME, "fl-folder");
    uint64_t idle_head = UINT64_MAX; /* the head when the last idle wait ran out */
    pthread_mutex_lock(&ledger->lock);
    for (;;) {
        uint32_t limit = fold_due(ledger, idle_head);
        if (limit == 0) {
            if (ledger->folder_stop)
                break;
            idle_head = UINT64_MAX;
            uint64_t head = ledger->head.seq;
            bool tail = head > ledger->folded && ledger->fold_error != FL_ECORRUPT;
            if (!tail || ledger->config.fold_idle_ms == ENG_FOLD_IDLE_NEVER) {
                ledger->folder_asleep = !tail;
                pthread_cond_wait(&ledger->fold_wake, &ledger->lock);
                ledger->folder_asleep = false;
            } else {
                struct timespec until = fl_realtime_after_ms(ledger->config.fold_idle_ms);
                if (pthread_cond_timedwait(&ledger->fold_wake, &ledger->lock, &until) == ETIMEDOUT)
                    idle_head = head;
            }
            continue;
        }
        assert(limit <= ENG_FOLD_CHUNK_MAX);
        uint64_t from = ledger->folded, last = from;
        pthread_mutex_unlock(&ledger->lock);
        int rc = fold_chunk(ledger, from, limit, &last);
        pthread_mutex_lock(&ledger->lock);
        if (rc == 0) {
            assert(last > from && last <= ledger->head.seq);
            ledger->folded = last;
            ledger->fold_error = 0;
            ledger->stats.folds++;
            ledger->stats.folded_seq = last;
        } else {
            /* Reads stay correct (they scan the log past the watermark); only speed suffers. A
             * full disk may pass, so only a corrupt record stops folding for good. */
            ledger->fold_error = rc;
            ledger->fold_failures++;
        }
        ledger->stats.fold_error = ledger->fold_error;
        pthread_cond_broadcast(&ledger->fold_moved);
        if (rc != 0 && rc != FL_ECORRUPT) {
            if (ledger->folder_stop)
                break; /* a reopen folds what is left */
            struct timespec until = fl_realtime_after_ms(FOLD_RETRY_MS);
            pthread_cond_timedwait(&ledger->fold_wake, &ledger->lock, &until);
        }
    }
    pthread_mutex_unlock(&ledger->lock);
    return NULL;
}

void eng__fold_kick(eng_ledger_t *ledger)
{
    if (ledger->index_env == NULL)
        return;
    bool chunk = ledger->head.seq - ledger->folded >= ledger->config.fold_events_max;
    bool idle_timing = ledger->folder_asleep && ledger->config.fold_idle_ms != ENG_FOLD_IDLE_NEVER;
    if (chunk || idle_timing)
        pthread_cond_signal(&ledger->fold_wake);
}

int eng__fold_wait_all(eng_ledger_t *ledger)
{
    if (ledger->index_env == NULL)
        return 0;
    pthread_mutex_lock(&ledger->lock);
    uint64_t target = ledger->head.seq, failures = ledger->fold_failures;
    int rc = 0;
    ledger->fold_all_asked = target;
    pthread_cond_signal(&ledger->fold_wake);
    while (ledger->folded < target && rc == 0) {
        if (ledger->fold_error == FL_ECORRUPT)
            rc = FL_ECORRUPT; /* folding has stopped for good */
        else if (ledger->fold_failures != failures && ledger->fold_error != 0)
            rc = ledger->fold_error;
        else if (ledger->fold_failures != failures)
            failures = ledger->fold_failures; /* failed, then folded again: wait on */
        else
            pthread_cond_wait(&ledger->fold_moved, &ledger->lock);
    }
    pthread_mutex_unlock(&ledger->lock);
    return rc;
}

/* ---- at open */

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
    if (ledger->config.state_only)
        return 0; /* no log, no streams */
    int rc = tail_load(ledger);
    if (rc != FL_EBUSY)
        return rc;
    /* A tail longer than the table (folds failed before a restart): fold it now. */
    eng__heads_prune(&ledger->heads, UINT64_MAX);
    return eng__fold_all(ledger);
}
