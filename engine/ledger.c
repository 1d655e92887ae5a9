/*
 * ledger.c: opening and closing a ledger, LMDB error translation, the resize gate and the
 * map's growth. The map must only be resized while no transaction of this process is open,
 * so every read transaction passes through the gate and the writer closes it to resize.
 */
#define _POSIX_C_SOURCE 200809L
#include "engine/engine_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

int eng__err_from_mdb(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return 0;
    case MDB_NOTFOUND:
        return FL_ENOENT;
    case MDB_MAP_FULL:
        return FL_ELEDGER_FULL;
    case MDB_READERS_FULL:
        return FL_EBUSY;
    case MDB_PANIC:
        return FL_EPANIC;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
        return FL_ECORRUPT;
    case MDB_VERSION_MISMATCH:
    case MDB_INVALID:
        return FL_EFORMAT;
    default:
        return rc > 0 ? fl_err_from_errno(rc) : FL_EIO;
    }
}

/* LMDB reports a short write as EIO, and a short write is what a filesystem that fills up in the
 * middle of a commit gives: with (almost) no room left on the ledger's filesystem, it is told as
 * the full disk it is. */
int eng__write_err(const eng_ledger_t *ledger, int rc)
{
    int err = eng__err_from_mdb(rc);
    const char *dir = NULL; /* LMDB's copy: config.dir was the caller's, for eng_open only */
    struct statvfs fs;
    if (err == FL_EIO && mdb_env_get_path(ledger->env, &dir) == 0 && statvfs(dir, &fs) == 0 &&
        (uint64_t)fs.f_bavail * fs.f_frsize < ENG_DISK_FULL_BYTES)
        return FL_ENOSPC;
    return err;
}

/* Which of the ledger's environments env is, for its resize gate. */
static int gate_of(const eng_ledger_t *ledger, const MDB_env *env)
{
    assert(env == ledger->env || (env != NULL && env == ledger->index_env));
    return env == ledger->env ? ENG_GATE_LOG : ENG_GATE_INDEX;
}

void eng__gate_enter(eng_ledger_t *ledger, const MDB_env *env)
{
    int gate = gate_of(ledger, env);
    pthread_mutex_lock(&ledger->gate_lock);
    while (ledger->resizing[gate])
        pthread_cond_wait(&ledger->gate_wake, &ledger->gate_lock);
    ledger->readers_active[gate]++;
    pthread_mutex_unlock(&ledger->gate_lock);
}

void eng__gate_leave(eng_ledger_t *ledger, const MDB_env *env)
{
    int gate = gate_of(ledger, env);
    pthread_mutex_lock(&ledger->gate_lock);
    assert(ledger->readers_active[gate] > 0);
    if (--ledger->readers_active[gate] == 0)
        pthread_cond_broadcast(&ledger->gate_wake);
    pthread_mutex_unlock(&ledger->gate_lock);
}

int eng__read_begin(eng_ledger_t *ledger, MDB_txn **txn)
{
    return eng__read_begin_env(ledger, ledger->env, txn);
}

int eng__held_txn(eng_ledger_t *ledger, MDB_txn **txn)
{
    assert(ledger->config.held && pthread_equal(pthread_self(), ledger->owner));
    *txn = NULL;
    if (ledger->held_error != 0)
        return ledger->held_error;
    if (ledger->held_txn == NULL) {
        int rc = mdb_txn_begin(ledger->env, NULL, 0, &ledger->held_txn);
        if (rc != 0) {
            ledger->held_txn = NULL;
            return eng__write_err(ledger, rc);
        }
    }
    *txn = ledger->held_txn;
    return 0;
}

int eng__read_begin_env(eng_ledger_t *ledger, MDB_env *env, MDB_txn **txn)
{
    if (ledger->config.held) {      /* reads see the appends not committed: the same transaction */
        assert(env == ledger->env); /* state-only: there is no index environment */
        return eng__held_txn(ledger, txn);
    }
    eng__gate_enter(ledger, env);
    int rc = mdb_txn_begin(env, NULL, MDB_RDONLY, txn);
    if (rc != 0) {
        *txn = NULL;
        eng__gate_leave(ledger, env);
        return eng__err_from_mdb(rc);
    }
    return 0;
}

int eng__read_begin_index(eng_ledger_t *ledger, MDB_txn **index_txn, MDB_txn **txn)
{
    *index_txn = NULL;
    if (ledger->index_env != NULL) {
        int rc = eng__read_begin_env(ledger, ledger->index_env, index_txn);
        if (rc != 0)
            return rc;
    }
    /* After the index's snapshot: its watermark is then at most this log snapshot's head. */
    int rc = eng__read_begin(ledger, txn);
    if (rc != 0) {
        eng__read_end(ledger, *index_txn);
        *index_txn = NULL;
    }
    return rc;
}

void eng__read_end_index(eng_ledger_t *ledger, MDB_txn *index_txn, MDB_txn *txn)
{
    eng__read_end(ledger, index_txn);
    eng__read_end(ledger, txn);
}

void eng__read_end(eng_ledger_t *ledger, MDB_txn *txn)
{
    if (txn == NULL || txn == ledger->held_txn)
        return;
    MDB_env *env = mdb_txn_env(txn);
    mdb_txn_abort(txn);
    eng__gate_leave(ledger, env);
}

int eng__map_grow(eng_ledger_t *ledger, MDB_env *env, uint64_t *map_bytes)
{
    if (*map_bytes >= ledger->config.map_bytes_max)
        return FL_ELEDGER_FULL;
    uint64_t bytes = *map_bytes * 2;
    if (bytes > ledger->config.map_bytes_max)
        bytes = ledger->config.map_bytes_max;
    /* Only this environment's readers hold its map; one resize of it at a time. */
    int gate = gate_of(ledger, env);
    pthread_mutex_lock(&ledger->gate_lock);
    while (ledger->resizing[gate])
        pthread_cond_wait(&ledger->gate_wake, &ledger->gate_lock);
    ledger->resizing[gate] = true;
    while (ledger->readers_active[gate] > 0)
        pthread_cond_wait(&ledger->gate_wake, &ledger->gate_lock);
    int rc = mdb_env_set_mapsize(env, bytes);
    ledger->resizing[gate] = false;
    pthread_cond_broadcast(&ledger->gate_wake);
    pthread_mutex_unlock(&ledger->gate_lock);
    if (rc != 0)
        return eng__err_from_mdb(rc);
    *map_bytes = bytes;
    pthread_mutex_lock(&ledger->lock);
    ledger->stats.map_resizes++;
    if (env == ledger->env)
        ledger->stats.map_bytes = bytes;
    pthread_mutex_unlock(&ledger->lock);
    return 0;
}

static void config_defaults(eng_config_t *config)
{
    if (config->map_bytes_initial == 0)
        config->map_bytes_initial = ENG_MAP_BYTES_INITIAL;
    if (config->map_bytes_max == 0)
        config->map_bytes_max = ENG_MAP_BYTES_MAX;
    if (config->map_bytes_initial > config->map_bytes_max)
        config->map_bytes_initial = config->map_bytes_max;
    if (config->queue_events_max == 0)
        config->queue_events_max = ENG_QUEUE_EVENTS_MAX;
    if (config->batch_events_max == 0 || config->batch_events_max > ENG_BATCH_EVENTS_MAX)
        config->batch_events_max = ENG_BATCH_EVENTS_MAX;
    if (config->batch_events_max < ENG_REQUEST_EVENTS_MAX)
        config->batch_events_max = ENG_REQUEST_EVENTS_MAX;
    if (config->queue_events_max < config->batch_events_max)
        config->queue_events_max = config->batch_events_max;
    if (config->readers_max == 0)
        config->readers_max = ENG_READERS_MAX;
    if (config->fold_events_max == 0 || config->fold_events_max > ENG_FOLD_EVENTS_MAX)
        config->fold_events_max = ENG_FOLD_EVENTS_MAX;
    if (config->fold_idle_ms == 0)
        config->fold_idle_ms = ENG_FOLD_IDLE_MS;
}

/* Ledgers made before the index environment kept the folded indexes beside the log; the index
 * environment refolds them from the log, so they go. Returns an LMDB code. */
static int drop_old_indexes(MDB_txn *txn)
{
    static const char *const names[] = {"streams", "heads", "entities"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        MDB_dbi dbi;
        int rc = mdb_dbi_open(txn, names[i], 0, &dbi);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc != 0 || (rc = mdb_drop(txn, dbi, 1)) != 0)
            return rc;
    }
    MDB_dbi meta;
    int rc = mdb_dbi_open(txn, "meta", 0, &meta);
    if (rc == MDB_NOTFOUND)
        return 0;
    MDB_val key = {.mv_size = 6, .mv_data = "folded"};
    rc = rc != 0 ? rc : mdb_del(txn, meta, &key, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Opens the named databases and checks (or writes) the format version. */
static int open_databases(eng_ledger_t *ledger)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(ledger->env, NULL, 0, &txn);
    if (rc != 0)
        goto fail;
    if ((rc = mdb_dbi_open(txn, "log", MDB_CREATE | MDB_INTEGERKEY, &ledger->dbi_log)) ||
        (rc = mdb_dbi_open(txn, "ids", MDB_CREATE, &ledger->dbi_ids)) ||
        (rc = drop_old_indexes(txn)) ||
        (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &ledger->dbi_meta)) ||
        (rc = mdb_dbi_open(txn, "hus", MDB_CREATE, &ledger->dbi_hus)) ||
        (rc = mdb_dbi_open(txn, "stock", MDB_CREATE, &ledger->dbi_stock)) ||
        (rc = mdb_dbi_open(txn, "articles", MDB_CREATE, &ledger->dbi_articles)) ||
        (rc = mdb_dbi_open(txn, "orders", MDB_CREATE, &ledger->dbi_orders)) ||
        (rc = mdb_dbi_open(txn, "looms", MDB_CREATE, &ledger->dbi_looms)) ||
        (rc = mdb_dbi_open(txn, "beams", MDB_CREATE, &ledger->dbi_beams)) ||
        (rc = mdb_dbi_open(txn, "children", MDB_CREATE, &ledger->dbi_children)) ||
        (rc = mdb_dbi_open(txn, "links", MDB_CREATE, &ledger->dbi_links)) ||
        (rc = mdb_dbi_open(txn, "records", MDB_CREATE, &ledger->dbi_records)) ||
        (rc = mdb_dbi_open(txn, "changes", MDB_INTEGERKEY | MDB_CREATE, &ledger->dbi_changes)))
        goto fail_txn;
    MDB_val key = {.mv_size = 6, .mv_data = "format"}, value;
    rc = mdb_get(txn, ledger->dbi_meta, &key, &value);
    if (rc == MDB_NOTFOUND) {
        uint32_t format = ENG_FORMAT_VERSION;
        value = (MDB_val){.mv_size = sizeof(format), .mv_data = &format};
        if ((rc = mdb_put(txn, ledger->dbi_meta, &key, &value, 0)) != 0)
            goto fail_txn;
    } else if (rc != 0) {
        goto fail_txn;
    } else {
        uint32_t format = 0;
        if (value.mv_size == sizeof(format))
            memcpy(&format, value.mv_data, sizeof(format));
        if (format != ENG_FORMAT_VERSION) {
            mdb_txn_abort(txn);
            return FL_EFORMAT;
        }
    }
    return eng__err_from_mdb(mdb_txn_commit(txn));
fail_txn:
    mdb_txn_abort(txn);
fail:
    return eng__err_from_mdb(rc);
}

/* Reads the last record into ledger->head, so the writer can continue the chain. */
#define STATE_HEAD_KEY "state_head"

int eng__state_head_put(eng_ledger_t *ledger, MDB_txn *txn, uint64_t seq)
{
    MDB_val key = {.mv_size = sizeof(STATE_HEAD_KEY) - 1, .mv_data = STATE_HEAD_KEY};
    MDB_val value = {.mv_size = sizeof(seq), .mv_data = &seq};
    return mdb_put(txn, ledger->dbi_meta, &key, &value, 0);
}

/* A state-only ledger's head is the sequence its state stands at (meta "state_head"). */
static int load_state_head(eng_ledger_t *ledger)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(ledger->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return eng__err_from_mdb(rc);
    MDB_val key = {.mv_size = sizeof(STATE_HEAD_KEY) - 1, .mv_data = STATE_HEAD_KEY}, value;
    memset(&ledger->head, 0, sizeof(ledger->head));
    rc = mdb_get(txn, ledger->dbi_meta, &key, &value);
    if (rc == 0 && value.mv_size == sizeof(ledger->head.seq))
        memcpy(&ledger->head.seq, value.mv_data, sizeof(ledger->head.seq));
    else if (rc == 0)
        rc = MDB_CORRUPTED;
    mdb_txn_abort(txn);
    ledger->folded_seq = ledger->head.seq;
    return rc == MDB_NOTFOUND ? 0 : eng__err_from_mdb(rc);
}

static int load_head(eng_ledger_t *ledger)
{
    if (ledger->config.state_only)
        return load_state_head(ledger);
    MDB_txn *txn = NULL;
    MDB_cursor *cursor = NULL;
    int rc = mdb_txn_begin(ledger->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        goto fail;
    if ((rc = mdb_cursor_open(txn, ledger->dbi_log, &cursor)) != 0)
        goto fail_txn;
    MDB_val key, value;
    rc = mdb_cursor_get(cursor, &key, &value, MDB_LAST);
    if (rc == MDB_NOTFOUND) {
        memset(&ledger->head, 0, sizeof(ledger->head));
        rc = 0;
    } else if (rc == 0) {
        uint64_t seq;
        memcpy(&seq, key.mv_data, sizeof(seq));
        eng_record_t record;
        int err = eng__value_decode(&value, seq, &record);
        mdb_cursor_close(cursor);
        mdb_txn_abort(txn);
        if (err != 0)
            return err;
        ledger->head.seq = record.seq;
        ledger->head.recorded_at_us = record.recorded_at_us;
        memcpy(ledger->head.hash, record.hash, ENG_HASH_BYTES);
        return 0;
    }
    mdb_cursor_close(cursor);
fail_txn:
    mdb_txn_abort(txn);
fail:
    return eng__err_from_mdb(rc);
}

static int make_dir(const char *dir)
{
    if (mkdir(dir, 0750) == 0 || errno == EEXIST)
        return 0;
    return fl_err_from_errno(errno);
}

int eng__env_open(eng_ledger_t *ledger, const char *dir, unsigned flags, unsigned dbs,
                  MDB_env **env, uint64_t *map_bytes)
{
    int rc = mdb_env_create(env);
    if (rc != 0) {
        *env = NULL;
        return eng__err_from_mdb(rc);
    }
    if ((rc = mdb_env_set_maxdbs(*env, dbs)) != 0 ||
        (rc = mdb_env_set_maxreaders(*env, ledger->config.readers_max + ENG_ENGINE_READERS)) != 0 ||
        (rc = mdb_env_set_mapsize(*env, ledger->config.map_bytes_initial)) != 0 ||
        (rc = mdb_env_open(*env, dir, MDB_NOTLS | flags, 0640)) != 0) {
        mdb_env_close(*env);
        *env = NULL;
        return eng__err_from_mdb(rc);
    }
    /* Slots of readers that died with a killed process are freed here. */
    int stale = 0;
    mdb_reader_check(*env, &stale);
    /* LMDB maps at least the whole file, so a file as large as its map leaves the writes made
     * at open (dropping old indexes, emptying a stale index) no room: twice the pages in use,
     * while no transaction can be open yet. */
    MDB_envinfo info;
    MDB_stat stat;
    mdb_env_info(*env, &info);
    mdb_env_stat(*env, &stat);
    uint64_t wanted = ((uint64_t)info.me_last_pgno + 1) * stat.ms_psize * 2;
    if (wanted > ledger->config.map_bytes_max)
        wanted = ledger->config.map_bytes_max;
    if (wanted > info.me_mapsize && mdb_env_set_mapsize(*env, wanted) == 0)
        mdb_env_info(*env, &info);
    *map_bytes = info.me_mapsize;
    return 0;
}

/* Asks the folder to fold what is left and end, and waits for it. */
static void stop_folder(eng_ledger_t *ledger)
{
    if (!ledger->folder_started)
        return;
    pthread_mutex_lock(&ledger->lock);
    ledger->folder_stop = true;
    pthread_cond_signal(&ledger->fold_wake);
    pthread_mutex_unlock(&ledger->lock);
    pthread_join(ledger->folder, NULL);
    ledger->folder_started = false;
}

int eng_open(eng_ledger_t **out, const eng_config_t *config)
{
    *out = NULL;
    if (config == NULL || config->dir == NULL || config->dir[0] == '\0' ||
        (config->state_only && config->rules != ENG_RULES_PLANT) ||
        (config->held && !config->state_only))
        return FL_EINVAL; /* a state-only ledger without rules would keep nothing */
    eng_ledger_t *ledger = calloc(1, sizeof(*ledger));
    if (ledger == NULL)
        return FL_ENOMEM;
    ledger->config = *config;
    config_defaults(&ledger->config);
    int rc = make_dir(config->dir);
    if (rc != 0)
        goto fail_alloc;
    if ((rc = eng__env_open(ledger, config->dir, config->scratch ? MDB_NOSYNC | MDB_NOMETASYNC : 0,
                            24, &ledger->env, &ledger->map_bytes)) != 0)
        goto fail_alloc;
    ledger->stats.map_bytes = ledger->map_bytes;
    if ((rc = open_databases(ledger)) != 0 || (rc = load_head(ledger)) != 0)
        goto fail_env;
    if ((rc = eng__heads_init(&ledger->heads)) != 0)
        goto fail_env;
    if (!msgpack_zone_init(&ledger->rules_zone, 4096)) {
        eng__heads_free(&ledger->heads);
        rc = FL_ENOMEM;
        goto fail_env;
    }
    msgpack_sbuffer_init(&ledger->encode_buffer);
    pthread_mutex_init(&ledger->lock, NULL);
    pthread_cond_init(&ledger->wake, NULL);
    pthread_cond_init(&ledger->committed, NULL);
    pthread_mutex_init(&ledger->gate_lock, NULL);
    pthread_cond_init(&ledger->gate_wake, NULL);
    pthread_cond_init(&ledger->fold_wake, NULL);
    pthread_cond_init(&ledger->fold_moved, NULL);
    if (!config->state_only && (rc = eng__index_open(ledger)) != 0)
        goto fail_sync;
    if ((rc = eng__heads_load(ledger)) != 0)
        goto fail_index;
    ledger->stats.folded_seq = ledger->folded_seq;
    if (ledger->index_env != NULL) {
        if ((rc = pthread_create(&ledger->folder, NULL, eng__folder_main, ledger)) != 0) {
            rc = fl_err_from_errno(rc);
            goto fail_index;
        }
        ledger->folder_started = true;
    }
    ledger->owner = pthread_self();
    if (!config->held) { /* a held ledger's appends run on its owner's thread */
        if ((rc = pthread_create(&ledger->writer, NULL, eng__writer_main, ledger)) != 0) {
            rc = fl_err_from_errno(rc);
            goto fail_folder;
        }
        ledger->writer_started = true;
    }
    *out = ledger;
    return 0;
fail_folder:
    stop_folder(ledger);
fail_index:
    eng__index_close(ledger);
fail_sync:
    pthread_cond_destroy(&ledger->fold_moved);
    pthread_cond_destroy(&ledger->fold_wake);
    pthread_cond_destroy(&ledger->gate_wake);
    pthread_mutex_destroy(&ledger->gate_lock);
    pthread_cond_destroy(&ledger->wake);
    pthread_cond_destroy(&ledger->committed);
    pthread_mutex_destroy(&ledger->lock);
    msgpack_sbuffer_destroy(&ledger->encode_buffer);
    msgpack_zone_destroy(&ledger->rules_zone);
    eng__heads_free(&ledger->heads);
fail_env:
    mdb_env_close(ledger->env);
fail_alloc:
    free(ledger);
    return rc;
}

void eng_close(eng_ledger_t *ledger)
{
    if (ledger == NULL)
        return;
    pthread_mutex_lock(&ledger->lock);
    ledger->closing = true;
    pthread_cond_broadcast(&ledger->wake);
    pthread_cond_broadcast(&ledger->committed);
    pthread_mutex_unlock(&ledger->lock);
    if (ledger->writer_started)
        pthread_join(ledger->writer, NULL);
    stop_folder(ledger);            /* it folds everything first: a reopened ledger starts whole */
    if (ledger->held_txn != NULL) { /* dropped: the state stays as it was at open */
        assert(pthread_equal(pthread_self(), ledger->owner));
        mdb_txn_abort(ledger->held_txn);
        ledger->held_txn = NULL;
    }
    assert(ledger->queue_head == NULL);
    assert(ledger->readers_active[ENG_GATE_LOG] == 0 &&
           ledger->readers_active[ENG_GATE_INDEX] == 0);
    eng__index_close(ledger);
    mdb_env_close(ledger->env);
    msgpack_sbuffer_destroy(&ledger->encode_buffer);
    msgpack_zone_destroy(&ledger->rules_zone);
    free(ledger->changes);
    eng__heads_free(&ledger->heads);
    pthread_cond_destroy(&ledger->fold_moved);
    pthread_cond_destroy(&ledger->fold_wake);
    pthread_cond_destroy(&ledger->gate_wake);
    pthread_mutex_destroy(&ledger->gate_lock);
    pthread_cond_destroy(&ledger->wake);
    pthread_cond_destroy(&ledger->committed);
    pthread_mutex_destroy(&ledger->lock);
    free(ledger);
}

void eng_head(eng_ledger_t *ledger, eng_head_t *out)
{
    pthread_mutex_lock(&ledger->lock);
    *out = ledger->head;
    pthread_mutex_unlock(&ledger->lock);
}

void eng_stats(eng_ledger_t *ledger, eng_stats_t *out)
{
    pthread_mutex_lock(&ledger->lock);
    *out = ledger->stats;
    out->queue_events = ledger->queue_events;
    pthread_mutex_unlock(&ledger->lock);
}

int eng_wait(eng_ledger_t *ledger, uint64_t after_seq, uint32_t timeout_ms, uint64_t *head_seq)
{
    struct timespec until = fl_realtime_after_ms(timeout_ms);
    int rc = 0;
    pthread_mutex_lock(&ledger->lock);
    uint64_t wakes = ledger->wakes;
    while (ledger->head.seq <= after_seq && !ledger->closing && ledger->wakes == wakes && rc == 0)
        rc = pthread_cond_timedwait(&ledger->committed, &ledger->lock, &until);
    bool woken = ledger->wakes != wakes;
    *head_seq = ledger->head.seq;
    bool closing = ledger->closing;
    pthread_mutex_unlock(&ledger->lock);
    if (*head_seq > after_seq || (woken && !closing))
        return 0;
    return closing ? FL_ECANCELED : FL_ETIMEDOUT;
}

void eng_wake(eng_ledger_t *ledger)
{
    pthread_mutex_lock(&ledger->lock);
    ledger->wakes++;
    pthread_cond_broadcast(&ledger->committed);
    pthread_mutex_unlock(&ledger->lock);
}

int eng_copy(eng_ledger_t *ledger, const char *dir)
{
    if (dir == NULL || dir[0] == '\0' || ledger->config.held)
        return FL_EINVAL; /* a held ledger's state is in no file to copy */
    int rc = make_dir(dir);
    if (rc != 0)
        return rc;
    /* Compacting copies from read snapshots: the writer goes on meanwhile. The index first, so
     * that its watermark is not past the copied log's head. Each copy's read transaction is a
     * reader like any other: the map must not be resized under it. */
    if ((rc = eng__index_copy(ledger, dir)) != 0)
        return rc;
    eng__gate_enter(ledger, ledger->env);
    rc = mdb_env_copy2(ledger->env, dir, MDB_CP_COMPACT);
    eng__gate_leave(ledger, ledger->env);
    return rc == 0 ? 0 : eng__err_from_mdb(rc);
}
