/*
 * writer.c: the append queue and the single writer thread.
 *
 * The writer takes every pending request (bounded by ENG_BATCH_EVENTS_MAX events and
 * ENG_BATCH_BYTES_MAX bytes) into one LMDB write transaction and one durable commit, then calls
 * each request back. Within the transaction each event is checked before anything of it is
 * written (idempotency, expected version), so a refused event leaves no trace; an atomic group
 * of several events runs in a nested transaction that is aborted whole when one member fails.
 * When the map is full the transaction is aborted, the map doubled and the batch run again:
 * callers never see MDB_MAP_FULL.
 */
#define _POSIX_C_SOURCE 200809L
#include "engine/engine_int.h"

#include <assert.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

/* The head of the chain as the batch advances it; published only after the commit. */
typedef struct {
    eng_head_t head;
    int64_t recorded_at_us;
} chain_t;

static bool text_ok(const char *text, size_t len_min, size_t len_max)
{
    if (text == NULL)
        return false;
    size_t len = strnlen(text, len_max + 1);
    return len >= len_min && len <= len_max;
}

static int validate_event(const eng_event_t *event)
{
    if (!text_ok(event->type, 1, ENG_TYPE_LEN_MAX) ||
        !text_ok(event->stream, 1, ENG_STREAM_LEN_MAX) || event->schema_version == 0 ||
        event->expected_version < ENG_EXPECT_ANY ||
        !text_ok(event->actor_user, 0, ENG_ACTOR_LEN_MAX) ||
        !text_ok(event->actor_role, 0, ENG_ACTOR_LEN_MAX) ||
        !text_ok(event->actor_device, 0, ENG_ACTOR_LEN_MAX) ||
        (event->payload_len > 0 && event->payload == NULL))
        return FL_EINVAL;
    if (event->entities_count > ENG_ENTITIES_MAX || event->payload_len > ENG_PAYLOAD_BYTES_MAX)
        return FL_ETOOBIG;
    for (uint32_t i = 0; i < event->entities_count; i++)
        if (!text_ok(event->entities[i], 1, ENG_ENTITY_LEN_MAX))
            return FL_EINVAL;
    return 0;
}

int eng_append_submit(eng_ledger_t *ledger, eng_append_req_t *req)
{
    assert(ledger != NULL && req != NULL);
    req->status = 0;
    req->failed_index = 0;
    req->actual_version = 0;
    if (req->count == 0 || req->events == NULL || req->positions == NULL || req->results == NULL ||
        req->cb == NULL)
        return FL_EINVAL;
    if (req->count > ENG_REQUEST_EVENTS_MAX)
        return FL_ETOOBIG;
    req->bytes_ = 0;
    for (uint32_t i = 0; i < req->count; i++) {
        int rc = validate_event(&req->events[i]);
        if (rc != 0) {
            req->failed_index = i;
            return rc;
        }
        req->bytes_ += req->events[i].payload_len + ENG_EVENT_OVERHEAD_BYTES;
    }
    req->next_ = NULL;
    if (ledger->config.held) {
        eng__held_append(ledger, req);
        return 0;
    }
    int rc = 0;
    pthread_mutex_lock(&ledger->lock);
    if (ledger->closing) {
        rc = FL_ECANCELED;
    } else if (ledger->queue_events + req->count > ledger->config.queue_events_max) {
        rc = FL_EBUSY;
    } else {
        if (ledger->queue_tail != NULL)
            ledger->queue_tail->next_ = req;
        else
            ledger->queue_head = req;
        ledger->queue_tail = req;
        ledger->queue_events += req->count;
        pthread_cond_signal(&ledger->wake);
    }
    pthread_mutex_unlock(&ledger->lock);
    return rc;
}

/* Detaches the longest prefix of the queue that fits one batch (at least one request).
 * Called with the lock held. */
static eng_append_req_t *take_batch(eng_ledger_t *ledger, uint32_t *events_out)
{
    eng_append_req_t *first = ledger->queue_head, *last = NULL;
    uint32_t events = 0;
    uint64_t bytes = 0;
    for (eng_append_req_t *req = first; req != NULL; req = req->next_) {
        if (last != NULL && (events + req->count > ledger->config.batch_events_max ||
                             bytes + req->bytes_ > ENG_BATCH_BYTES_MAX))
            break;
        events += req->count;
        bytes += req->bytes_;
        last = req;
    }
    assert(last != NULL);
    ledger->queue_head = last->next_;
    if (ledger->queue_head == NULL)
        ledger->queue_tail = NULL;
    last->next_ = NULL;
    ledger->queue_events -= events;
    *events_out = events;
    return first;
}

static void request_reset(eng_append_req_t *req)
{
    req->status = 0;
    req->detail[0] = '\0';
    req->failed_index = 0;
    req->actual_version = 0;
    memset(req->positions, 0, sizeof(*req->positions) * req->count);
    memset(req->results, 0, sizeof(*req->results) * req->count);
}

static void request_fail(eng_append_req_t *req, uint32_t index, int err)
{
    if (req->status == 0) {
        req->status = err;
        req->failed_index = index;
    }
    req->results[index] = err;
}

static void batch_fail(eng_append_req_t *batch, int err)
{
    for (eng_append_req_t *req = batch; req != NULL; req = req->next_) {
        request_reset(req);
        req->status = err;
        for (uint32_t i = 0; i < req->count; i++)
            req->results[i] = err;
    }
}

/* An id already recorded: the same content is a successful retry, other content a conflict.
 * Returns an LMDB code; the event's outcome goes to req. */
static int resolve_duplicate(eng_ledger_t *ledger, MDB_txn *txn, eng_append_req_t *req,
                             uint32_t index, const MDB_val *id_value)
{
    uint64_t seq;
    if (id_value->mv_size != sizeof(seq)) {
        request_fail(req, index, FL_ECORRUPT);
        return 0;
    }
    memcpy(&seq, id_value->mv_data, sizeof(seq));
    MDB_val key = {.mv_size = sizeof(seq), .mv_data = &seq}, value;
    int rc = mdb_get(txn, ledger->dbi_log, &key, &value);
    if (rc != 0)
        return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
    eng_record_t record;
    eng_position_t *position = &req->positions[index];
    if (eng__value_decode(&value, seq, &record) != 0) {
        request_fail(req, index, FL_ECORRUPT);
        return 0;
    }
    position->seq = record.seq;
    position->stream_version = record.stream_version;
    memcpy(position->hash, record.hash, ENG_HASH_BYTES);
    if (eng__record_same_content(&req->events[index], &record)) {
        position->duplicate = true;
        pthread_mutex_lock(&ledger->lock);
        ledger->stats.events_duplicate++;
        pthread_mutex_unlock(&ledger->lock);
    } else {
        request_fail(req, index, FL_ECONFLICT_ID);
    }
    return 0;
}

/* Writes one checked event: the record, its id and its stream's version. The stream and entity
 * indexes are folded from the log later (fold.c). */
static int write_event(eng_ledger_t *ledger, MDB_txn *txn, const eng_event_t *event,
                       uint64_t version, chain_t *chain, eng_position_t *position)
{
    uint64_t seq = chain->head.seq + 1;
    int64_t recorded_at_us =
        event->recorded_at_us != 0 ? event->recorded_at_us : chain->recorded_at_us;
    msgpack_sbuffer *buffer = &ledger->encode_buffer;
    if (eng__record_encode(buffer, event, seq, version, recorded_at_us, chain->head.hash))
        return ENOMEM;
    uint8_t hash[ENG_HASH_BYTES];
    eng__hash((const uint8_t *)buffer->data, buffer->size, hash);
    if (msgpack_sbuffer_write(buffer, (const char *)hash, ENG_HASH_BYTES) != 0)
        return ENOMEM;

    MDB_val key = {.mv_size = sizeof(seq), .mv_data = &seq};
    MDB_val value = {.mv_size = buffer->size, .mv_data = buffer->data};
#ifdef FL_EXPENSIVE_CHECKS
    {
        /* Paired with the check after every read: what goes in must come out. */
        eng_record_t check;
        int decoded = eng__value_decode(&value, seq, &check);
        assert(decoded == 0);
        assert(check.stream_version == version && memcmp(check.hash, hash, ENG_HASH_BYTES) == 0);
    }
#endif
    int rc = mdb_put(txn, ledger->dbi_log, &key, &value, MDB_APPEND);
    if (rc != 0)
        return rc;
    MDB_val id_key = {.mv_size = ENG_ID_BYTES, .mv_data = (void *)event->id};
    if ((rc = mdb_put(txn, ledger->dbi_ids, &id_key, &key, MDB_NOOVERWRITE)) != 0)
        return rc;
    eng__heads_set(&ledger->heads, event->stream, strlen(event->stream), version, seq);
    chain->head.seq = seq;
    chain->head.recorded_at_us = recorded_at_us;
    memcpy(chain->head.hash, hash, ENG_HASH_BYTES);
    position->seq = seq;
    position->stream_version = version;
    memcpy(position->hash, hash, ENG_HASH_BYTES);
    position->duplicate = false;
    return 0;
}

/* Checks then writes event index of req. Returns an LMDB code (storage failure, the whole
 * transaction is lost); the event's own outcome goes to req. */
/* A state-only ledger (a replay's scratch): the rules run and the state changes, but no record,
 * id, stream version or hash is kept; the sequence still counts, so that the state's sequences
 * (a unit's creation, a link's event) are the source's. */
static int apply_state_only(eng_ledger_t *ledger, MDB_txn *txn, eng_append_req_t *req,
                            uint32_t index, chain_t *chain)
{
    int code = 0;
    char detail[ENG_DETAIL_LEN_MAX];
    uint64_t seq = chain->head.seq + 1;
    int rc = eng__rules_apply(ledger, txn, &req->events[index], seq, &code, detail, sizeof(detail));
    if (rc != 0)
        return rc;
    if (code != 0) {
        if (req->status == 0)
            memcpy(req->detail, detail, sizeof(detail));
        request_fail(req, index, code);
        return 0;
    }
    chain->head.seq = seq;
    chain->head.recorded_at_us = chain->recorded_at_us;
    req->positions[index] = (eng_position_t){.seq = seq};
    return 0;
}

static int apply_event(eng_ledger_t *ledger, MDB_txn *txn, eng_append_req_t *req, uint32_t index,
                       chain_t *chain)
{
    const eng_event_t *event = &req->events[index];
    if (ledger->config.state_only)
        return apply_state_only(ledger, txn, req, index, chain);
    MDB_val key = {.mv_size = ENG_ID_BYTES, .mv_data = (void *)event->id}, value;
    int rc = mdb_get(txn, ledger->dbi_ids, &key, &value);
    if (rc == 0)
        return resolve_duplicate(ledger, txn, req, index, &value);
    if (rc != MDB_NOTFOUND)
        return rc;

    /* The version: from the heads table when written since the watermark, else folded. */
    size_t stream_len = strlen(event->stream);
    uint64_t current = eng__heads_get(&ledger->heads, event->stream, stream_len);
    if (current == 0) {
        key = (MDB_val){.mv_size = stream_len, .mv_data = (void *)event->stream};
        rc = mdb_get(ledger->index_txn, ledger->dbi_heads, &key, &value);
        if (rc == 0 && value.mv_size == sizeof(current))
            memcpy(&current, value.mv_data, sizeof(current));
        else if (rc != MDB_NOTFOUND)
            return rc == 0 ? MDB_CORRUPTED : rc;
    }
    if (event->recorded_at_us != 0 && event->recorded_at_us < chain->head.recorded_at_us) {
        request_fail(req, index, FL_EINVAL); /* an import never goes back in time */
        return 0;
    }
    if (event->expected_version != ENG_EXPECT_ANY && (uint64_t)event->expected_version != current) {
        if (req->status == 0)
            req->actual_version = current;
        request_fail(req, index, FL_ECONFLICT_VERSION);
        return 0;
    }
    if (ledger->config.rules == ENG_RULES_PLANT) {
        int code = 0;
        char detail[ENG_DETAIL_LEN_MAX];
        rc = eng__rules_apply(ledger, txn, event, chain->head.seq + 1, &code, detail,
                              sizeof(detail));
        if (rc != 0)
            return rc;
        if (code != 0) {
            if (req->status == 0)
                memcpy(req->detail, detail, sizeof(detail));
            request_fail(req, index, code);
            return 0;
        }
    }
    return write_event(ledger, txn, event, current + 1, chain, &req->positions[index]);
}

static int apply_atomic(eng_ledger_t *ledger, MDB_txn *txn, eng_append_req_t *req, chain_t *chain)
{
    MDB_txn *child = NULL;
    int rc = mdb_txn_begin(ledger->env, txn, 0, &child);
    if (rc != 0)
        return rc;
    chain_t saved = *chain;
    uint32_t mark = eng__heads_mark(&ledger->heads);
    for (uint32_t i = 0; i < req->count && req->status == 0; i++) {
        if ((rc = apply_event(ledger, child, req, i, chain)) != 0) {
            mdb_txn_abort(child);
            return rc;
        }
    }
    if (req->status == 0)
        return mdb_txn_commit(child);
    mdb_txn_abort(child);
    *chain = saved;
    eng__heads_rollback(&ledger->heads, mark);
    for (uint32_t i = 0; i < req->count; i++) {
        if (i != req->failed_index) {
            req->results[i] = FL_EABORTED;
            memset(&req->positions[i], 0, sizeof(req->positions[i]));
        }
    }
    return 0;
}

static int apply_request(eng_ledger_t *ledger, MDB_txn *txn, eng_append_req_t *req, chain_t *chain)
{
    if (req->count > 1 && (req->flags & ENG_APPEND_ATOMIC))
        return apply_atomic(ledger, txn, req, chain);
    for (uint32_t i = 0; i < req->count; i++) {
        int rc = apply_event(ledger, txn, req, i, chain);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The heads table holds the streams written since the watermark the writer last pruned it to;
 * the folder moves the watermark. Prunes to the folder's watermark, and when the table is still
 * too full for a batch, waits for the folder to fold everything. Returns 0 or an FL_ code. */
static int heads_make_room(eng_ledger_t *ledger, uint64_t folded)
{
    if (folded > ledger->folded_seq) {
        eng__heads_prune(&ledger->heads, folded);
        ledger->folded_seq = folded;
    }
    if (ledger->heads.used < ENG_HEADS_FOLD_AT)
        return 0;
    int rc = eng__fold_wait_all(ledger);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&ledger->lock);
    folded = ledger->folded;
    pthread_mutex_unlock(&ledger->lock);
    eng__heads_prune(&ledger->heads, folded);
    ledger->folded_seq = folded;
    return 0;
}

/* Opens the batch's snapshot of the folded heads: taken after the heads table was pruned, it
 * holds every stream the table no longer does. Returns 0 or an FL_ code. */
static int index_txn_begin(eng_ledger_t *ledger)
{
    ledger->index_txn = NULL;
    if (ledger->index_env == NULL)
        return 0;
    return eng__read_begin_env(ledger, ledger->index_env, &ledger->index_txn);
}

/* Before the commit: a map resize waits for every read transaction, the writer's included. */
static void index_txn_end(eng_ledger_t *ledger)
{
    if (ledger->index_txn != NULL) {
        eng__read_end(ledger, ledger->index_txn);
        ledger->index_txn = NULL;
    }
}

/* Runs one batch to its durable end, growing the map and retrying when it is full. */
static void run_batch(eng_ledger_t *ledger, eng_append_req_t *batch, uint64_t folded)
{
    int rc = heads_make_room(ledger, folded); /* the heads table must have room for a batch */
    if (rc != 0) {
        batch_fail(batch, rc);
        return;
    }
    for (;;) {
        uint64_t started_ns = fl_mono_ns();
        if ((rc = index_txn_begin(ledger)) != 0) {
            batch_fail(batch, rc);
            return;
        }
        MDB_txn *txn = NULL;
        rc = mdb_txn_begin(ledger->env, NULL, 0, &txn);
        if (rc != 0) {
            index_txn_end(ledger);
            batch_fail(batch, eng__write_err(ledger, rc));
            return;
        }
        chain_t chain = {.head = ledger->head, .recorded_at_us = fl_now_us()};
        if (chain.recorded_at_us < ledger->head.recorded_at_us)
            chain.recorded_at_us = ledger->head.recorded_at_us; /* time never goes back */
        for (eng_append_req_t *req = batch; req != NULL && rc == 0; req = req->next_) {
            request_reset(req);
            rc = apply_request(ledger, txn, req, &chain);
        }
        index_txn_end(ledger);
        if (rc == 0 && ledger->config.state_only && chain.head.seq != ledger->head.seq)
            rc = eng__state_head_put(ledger, txn, chain.head.seq);
        uint64_t applied_ns = fl_mono_ns() - started_ns;
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
        if (rc == 0)
            eng__heads_commit(&ledger->heads);
        else
            eng__heads_rollback(&ledger->heads, 0);
        if (rc == MDB_MAP_FULL) {
            int grown = eng__map_grow(ledger, ledger->env, &ledger->map_bytes);
            if (grown == 0)
                continue;
            batch_fail(batch, grown);
            return;
        }
        if (rc != 0) {
            batch_fail(batch, eng__write_err(ledger, rc));
            return;
        }
        uint64_t elapsed_ns = fl_mono_ns() - started_ns;
        pthread_mutex_lock(&ledger->lock);
        ledger->stats.events_appended += chain.head.seq - ledger->head.seq;
        ledger->head = chain.head;
        if (ledger->config.state_only)
            ledger->folded_seq = chain.head.seq; /* no log, nothing to fold */
        pthread_cond_broadcast(&ledger->committed);
        eng__fold_kick(ledger);
        ledger->stats.commits++;
        ledger->stats.commit_ns_total += elapsed_ns;
        ledger->stats.apply_ns_total += applied_ns;
        if (elapsed_ns > ledger->stats.commit_ns_max)
            ledger->stats.commit_ns_max = elapsed_ns;
        pthread_mutex_unlock(&ledger->lock);
        return;
    }
}

void *eng__writer_main(void *arg)
{
    eng_ledger_t *ledger = arg;
    prctl(PR_SET_NAME, "fl-writer"); /* as top -H, perf and gdb show it */
    pthread_mutex_lock(&ledger->lock);
    for (;;) {
        while (ledger->queue_head == NULL && !ledger->closing)
            pthread_cond_wait(&ledger->wake, &ledger->lock);
        if (ledger->queue_head == NULL)
            break; /* closing, and every queued request has been answered */
        uint32_t events = 0;
        eng_append_req_t *batch = take_batch(ledger, &events);
        uint64_t folded = ledger->folded;
        pthread_mutex_unlock(&ledger->lock);
        assert(events > 0);
        run_batch(ledger, batch, folded);
        uint64_t failed = 0;
        for (eng_append_req_t *req = batch, *next; req != NULL; req = next) {
            next = req->next_; /* the callback may free req */
            failed += req->status != 0;
            req->cb(req, req->data);
        }
        pthread_mutex_lock(&ledger->lock);
        ledger->stats.requests_failed += failed;
    }
    pthread_mutex_unlock(&ledger->lock);
    return NULL;
}

/* A held ledger's append: the batch of one request, applied in the transaction that is never
 * committed. A failure of the storage drops that transaction, and with it every append before:
 * from then on every call fails the same way. */
void eng__held_append(eng_ledger_t *ledger, eng_append_req_t *req)
{
    MDB_txn *txn = NULL;
    int rc = eng__held_txn(ledger, &txn);
    chain_t chain = {.head = ledger->head, .recorded_at_us = fl_now_us()};
    if (rc == 0) {
        request_reset(req);
        rc = apply_request(ledger, txn, req, &chain);
        if (rc == 0 && chain.head.seq != ledger->head.seq)
            rc = eng__state_head_put(ledger, txn, chain.head.seq);
        if (rc != 0) {
            mdb_txn_abort(txn);
            ledger->held_txn = NULL;
            /* The map is not grown under a transaction: a held ledger stays within it. */
            rc = rc == MDB_MAP_FULL ? FL_ELEDGER_FULL : eng__write_err(ledger, rc);
            ledger->held_error = rc;
        }
    }
    if (rc != 0)
        batch_fail(req, rc);
    pthread_mutex_lock(&ledger->lock);
    if (rc == 0) {
        ledger->stats.events_appended += chain.head.seq - ledger->head.seq;
        ledger->head = chain.head;
        ledger->folded_seq = chain.head.seq; /* no log, nothing to fold */
    }
    ledger->stats.requests_failed += req->status != 0;
    pthread_mutex_unlock(&ledger->lock);
    req->cb(req, req->data);
}

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    bool done;
} waiter_t;

static void waiter_wake(eng_append_req_t *req, void *data)
{
    (void)req;
    waiter_t *waiter = data;
    pthread_mutex_lock(&waiter->lock);
    waiter->done = true;
    pthread_cond_signal(&waiter->done_cond);
    pthread_mutex_unlock(&waiter->lock);
}

int eng_append(eng_ledger_t *ledger, const eng_event_t *events, uint32_t count, uint32_t flags,
               eng_position_t *positions, int *results)
{
    int local_results[ENG_REQUEST_EVENTS_MAX];
    waiter_t waiter = {.done = false};
    eng_append_req_t req = {.events = events,
                            .count = count,
                            .flags = flags,
                            .positions = positions,
                            .results = results != NULL ? results : local_results,
                            .cb = waiter_wake,
                            .data = &waiter};
    pthread_mutex_init(&waiter.lock, NULL);
    pthread_cond_init(&waiter.done_cond, NULL);
    int rc = eng_append_submit(ledger, &req);
    if (rc == 0) {
        pthread_mutex_lock(&waiter.lock);
        while (!waiter.done)
            pthread_cond_wait(&waiter.done_cond, &waiter.lock);
        pthread_mutex_unlock(&waiter.lock);
        rc = req.status;
    }
    pthread_cond_destroy(&waiter.done_cond);
    pthread_mutex_destroy(&waiter.lock);
    return rc;
}
