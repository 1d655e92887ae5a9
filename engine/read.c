/*
 * read.c: iterators over the log, a stream or an entity; point reads; id lookups; and the
 * verification of the whole hash chain. Every read runs in an LMDB read transaction taken
 * through the resize gate, and every record read is decoded and checked against its key
 * before it is handed out (the other half of the writer's check before the put).
 */
#define _POSIX_C_SOURCE 200809L
#include "engine/engine_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef enum { ITER_LOG, ITER_STREAM, ITER_ENTITY } iter_kind_t;

/* Streams and entities are read from their folded index (entries up to the watermark) and from
 * the log after it. Forwards: index, then tail. Backwards: tail, then index. */
typedef enum { PHASE_START, PHASE_INDEX, PHASE_TAIL, PHASE_DONE } iter_phase_t;

struct eng_iter {
    eng_ledger_t *ledger;
    MDB_txn *txn;           /* the log's snapshot */
    MDB_txn *index_txn;     /* index iterators: the index's (NULL on a state-only ledger) */
    MDB_cursor *cursor;     /* on log (ITER_LOG) or on the index (NULL without one) */
    MDB_cursor *log_cursor; /* index iterators: the tail scan */
    iter_kind_t kind;
    iter_phase_t phase;
    int direction;
    bool started;                  /* the index cursor is positioned */
    bool tail_started;             /* the log cursor is positioned */
    uint64_t from;                 /* seq, or version for a stream */
    uint64_t folded;               /* the watermark in this snapshot */
    char name[ENG_STREAM_LEN_MAX]; /* the stream or the entity */
    size_t name_len;
    /* A log scan keeps the cursor one record ahead of the caller (its key and value here, or
     * its LMDB code), so that the next record's bytes are on their way while this one decodes. */
    int ahead_rc;
    MDB_val ahead_key, ahead_value;
};

void eng__u64_to_be(uint64_t value, uint8_t out[8])
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(value >> (56 - 8 * i));
}

uint64_t eng__u64_from_be(const uint8_t in[8])
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = value << 8 | in[i];
    return value;
}

size_t eng__index_key(const char *name, size_t len, uint64_t number, uint8_t out[ENG_INDEX_KEY_MAX])
{
    assert(len <= ENG_STREAM_LEN_MAX);
    memcpy(out, name, len);
    out[len] = 0;
    eng__u64_to_be(number, out + len + 1);
    return len + 1 + 8;
}

static int iter_open(eng_ledger_t *ledger, iter_kind_t kind, MDB_dbi dbi, eng_iter_t **out)
{
    *out = NULL;
    eng_iter_t *iter = calloc(1, sizeof(*iter));
    if (iter == NULL)
        return FL_ENOMEM;
    int rc = kind == ITER_LOG ? eng__read_begin(ledger, &iter->txn)
                              : eng__read_begin_index(ledger, &iter->index_txn, &iter->txn);
    if (rc != 0)
        goto fail_alloc;
    MDB_txn *cursor_txn = kind == ITER_LOG ? iter->txn : iter->index_txn;
    if (cursor_txn != NULL && (rc = mdb_cursor_open(cursor_txn, dbi, &iter->cursor)) != 0) {
        rc = eng__err_from_mdb(rc);
        goto fail_txn;
    }
    if (kind != ITER_LOG) {
        if ((rc = mdb_cursor_open(iter->txn, ledger->dbi_log, &iter->log_cursor)) != 0) {
            rc = eng__err_from_mdb(rc);
            goto fail_cursor;
        }
        if ((rc = eng__folded_get(ledger, iter->index_txn, &iter->folded)) != 0)
            goto fail_log_cursor;
    }
    iter->ledger = ledger;
    iter->kind = kind;
    iter->direction = ENG_FORWARD;
    *out = iter;
    return 0;
fail_log_cursor:
    mdb_cursor_close(iter->log_cursor);
fail_cursor:
    if (iter->cursor != NULL)
        mdb_cursor_close(iter->cursor);
fail_txn:
    eng__read_end_index(ledger, iter->index_txn, iter->txn);
fail_alloc:
    free(iter);
    return rc;
}

void eng_iter_close(eng_iter_t *iter)
{
    if (iter == NULL)
        return;
    if (iter->log_cursor != NULL)
        mdb_cursor_close(iter->log_cursor);
    if (iter->cursor != NULL)
        mdb_cursor_close(iter->cursor);
    eng__read_end_index(iter->ledger, iter->index_txn, iter->txn);
    free(iter);
}

int eng_iter_log(eng_ledger_t *ledger, uint64_t from_seq, int direction, eng_iter_t **out)
{
    if (direction != ENG_FORWARD && direction != ENG_BACKWARD)
        return FL_EINVAL;
    int rc = iter_open(ledger, ITER_LOG, ledger->dbi_log, out);
    if (rc == 0) {
        (*out)->direction = direction;
        (*out)->from = from_seq;
    }
    return rc;
}

int eng_iter_stream(eng_ledger_t *ledger, const char *stream, uint64_t from_version,
                    eng_iter_t **out)
{
    size_t len = stream != NULL ? strnlen(stream, ENG_STREAM_LEN_MAX + 1) : 0;
    if (len == 0 || len > ENG_STREAM_LEN_MAX)
        return FL_EINVAL;
    int rc = iter_open(ledger, ITER_STREAM, ledger->dbi_streams, out);
    if (rc == 0) {
        (*out)->from = from_version > 0 ? from_version : 1;
        (*out)->name_len = len;
        memcpy((*out)->name, stream, len);
    }
    return rc;
}

int eng_iter_entity(eng_ledger_t *ledger, const char *entity, uint64_t from_seq, int direction,
                    eng_iter_t **out)
{
    size_t len = entity != NULL ? strnlen(entity, ENG_ENTITY_LEN_MAX + 1) : 0;
    if (len == 0 || len > ENG_ENTITY_LEN_MAX ||
        (direction != ENG_FORWARD && direction != ENG_BACKWARD))
        return FL_EINVAL;
    int rc = iter_open(ledger, ITER_ENTITY, ledger->dbi_entities, out);
    if (rc == 0) {
        (*out)->direction = direction;
        (*out)->from = from_seq;
        (*out)->name_len = len;
        memcpy((*out)->name, entity, len);
    }
    return rc;
}

/* Positions a log cursor on the first record at or after (forwards) or at or before
 * (backwards, 0 meaning the last) from. */
static int log_seek(MDB_cursor *cursor, uint64_t from, int direction, MDB_val *key, MDB_val *value)
{
    *key = (MDB_val){.mv_size = sizeof(from), .mv_data = &from};
    if (direction == ENG_FORWARD)
        return mdb_cursor_get(cursor, key, value, from == 0 ? MDB_FIRST : MDB_SET_RANGE);
    if (from == 0)
        return mdb_cursor_get(cursor, key, value, MDB_LAST);
    int rc = mdb_cursor_get(cursor, key, value, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND)
        return mdb_cursor_get(cursor, key, value, MDB_LAST);
    uint64_t found;
    if (rc == 0 && (memcpy(&found, key->mv_data, sizeof(found)), found > from))
        return mdb_cursor_get(cursor, key, value, MDB_PREV);
    return rc;
}

/* Next key of the iterator's name in its index (name || 0x00 || BE number), in its direction,
 * starting at iter->from (0 backwards: the last). *number is the key's number, *value its value.
 * MDB_NOTFOUND past the name's last key. */
static int index_step(eng_iter_t *iter, uint64_t *number, MDB_val *value)
{
    bool forward = iter->direction == ENG_FORWARD;
    uint8_t first[ENG_INDEX_KEY_MAX];
    MDB_val key;
    int rc;
    if (iter->cursor == NULL)
        return MDB_NOTFOUND; /* no index: everything is in the log */
    if (!iter->started) {
        iter->started = true;
        uint64_t from = !forward && iter->from == 0 ? UINT64_MAX : iter->from;
        key.mv_size = eng__index_key(iter->name, iter->name_len, from, first);
        key.mv_data = first;
        size_t first_len = key.mv_size;
        rc = mdb_cursor_get(iter->cursor, &key, value, MDB_SET_RANGE);
        if (!forward && rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(iter->cursor, &key, value, MDB_LAST);
        else if (!forward && rc == 0 &&
                 (key.mv_size != first_len || memcmp(key.mv_data, first, first_len) != 0))
            rc = mdb_cursor_get(iter->cursor, &key, value, MDB_PREV); /* past from: step back */
    } else {
        rc = mdb_cursor_get(iter->cursor, &key, value, forward ? MDB_NEXT : MDB_PREV);
    }
    if (rc != 0)
        return rc;
    const uint8_t *bytes = key.mv_data;
    if (key.mv_size != iter->name_len + 1 + 8 || memcmp(bytes, iter->name, iter->name_len) != 0 ||
        bytes[iter->name_len] != 0)
        return MDB_NOTFOUND; /* another name's keys */
    *number = eng__u64_from_be(bytes + iter->name_len + 1);
    return 0;
}

static int read_seq(eng_iter_t *iter, uint64_t seq, eng_record_t *out)
{
    MDB_val key = {.mv_size = sizeof(seq), .mv_data = &seq}, value;
    int rc = mdb_get(iter->txn, iter->ledger->dbi_log, &key, &value);
    if (rc == MDB_NOTFOUND)
        return FL_ENOENT;
    if (rc != 0)
        return eng__err_from_mdb(rc);
    return eng__value_decode(&value, seq, out);
}

/* Whether a tail record belongs to the iterator's stream or entity. */
static bool tail_matches(const eng_iter_t *iter, const eng_record_t *record)
{
    if (iter->kind == ITER_STREAM)
        return record->stream.len == iter->name_len &&
               memcmp(record->stream.ptr, iter->name, iter->name_len) == 0 &&
               record->stream_version >= iter->from;
    return eng__record_names(record, iter->name, iter->name_len);
}

/* Scans the log after the watermark for the next record of the stream or entity. */
static int tail_next(eng_iter_t *iter, eng_record_t *out)
{
    MDB_val key, value;
    int rc;
    if (!iter->tail_started) {
        iter->tail_started = true;
        uint64_t from = iter->folded + 1;
        if (iter->kind == ITER_ENTITY && iter->direction == ENG_FORWARD && iter->from > from)
            from = iter->from;
        if (iter->direction == ENG_BACKWARD)
            from = iter->from; /* 0: from the last record */
        rc = log_seek(iter->log_cursor, from, iter->direction, &key, &value);
    } else {
        MDB_cursor_op op = iter->direction == ENG_FORWARD ? MDB_NEXT : MDB_PREV;
        rc = mdb_cursor_get(iter->log_cursor, &key, &value, op);
    }
    for (; rc == 0; rc = mdb_cursor_get(iter->log_cursor, &key, &value,
                                        iter->direction == ENG_FORWARD ? MDB_NEXT : MDB_PREV)) {
        uint64_t seq;
        if (key.mv_size != sizeof(seq))
            return FL_ECORRUPT;
        memcpy(&seq, key.mv_data, sizeof(seq));
        if (seq <= iter->folded)
            return FL_EEOF; /* backwards: the rest is in the index */
        int err = eng__value_decode(&value, seq, out);
        if (err != 0)
            return err;
        if (tail_matches(iter, out))
            return 0;
    }
    return rc == MDB_NOTFOUND ? FL_EEOF : eng__err_from_mdb(rc);
}

/* The index part of a stream or entity iterator. */
static int index_next(eng_iter_t *iter, eng_record_t *out)
{
    uint64_t number = 0, seq = 0;
    MDB_val value;
    int rc = index_step(iter, &number, &value);
    if (rc == MDB_NOTFOUND)
        return FL_EEOF;
    if (rc != 0)
        return eng__err_from_mdb(rc);
    if (iter->kind == ITER_ENTITY) {
        seq = number;
    } else if (value.mv_size == sizeof(seq)) {
        memcpy(&seq, value.mv_data, sizeof(seq)); /* streams: version -> seq */
    } else {
        return FL_ECORRUPT;
    }
    if (seq > iter->folded) {
        out->seq = seq; /* an index entry past its watermark */
        return FL_ECORRUPT;
    }
    rc = read_seq(iter, seq, out);
    if (rc == FL_ENOENT) { /* an index entry without its record */
        out->seq = seq;
        return FL_ECORRUPT;
    }
    return rc;
}

static int indexed_next(eng_iter_t *iter, eng_record_t *out)
{
    bool forward = iter->direction == ENG_FORWARD;
    for (;;) {
        int rc;
        switch (iter->phase) {
        case PHASE_START:
            iter->phase = forward ? PHASE_INDEX : PHASE_TAIL;
            continue;
        case PHASE_INDEX:
            if ((rc = index_next(iter, out)) != FL_EEOF)
                return rc;
            iter->phase = forward ? PHASE_TAIL : PHASE_DONE;
            continue;
        case PHASE_TAIL:
            if ((rc = tail_next(iter, out)) != FL_EEOF)
                return rc;
            iter->phase = forward ? PHASE_DONE : PHASE_INDEX;
            continue;
        case PHASE_DONE:
            return FL_EEOF;
        }
    }
}

/* Asks for every cache line of a stored value. A scan is bound by memory latency more than by
 * decoding: issued one record ahead, these misses overlap with the current record's decoding. */
static inline void prefetch_value(const MDB_val *value)
{
    const char *bytes = value->mv_data;
    for (size_t line = 0; line < value->mv_size; line += 64)
        __builtin_prefetch(bytes + line);
}

int eng_iter_next(eng_iter_t *iter, eng_record_t *out)
{
    if (iter->kind != ITER_LOG)
        return indexed_next(iter, out);
    if (iter->phase == PHASE_DONE)
        return FL_EEOF;
    MDB_val key, value;
    int rc;
    MDB_cursor_op op = iter->direction == ENG_FORWARD ? MDB_NEXT : MDB_PREV;
    if (iter->phase == PHASE_START) {
        rc = log_seek(iter->cursor, iter->from, iter->direction, &key, &value);
        iter->phase = PHASE_INDEX;
    } else {
        rc = iter->ahead_rc;
        key = iter->ahead_key;
        value = iter->ahead_value;
    }
    if (rc == 0) {
        iter->ahead_rc = mdb_cursor_get(iter->cursor, &iter->ahead_key, &iter->ahead_value, op);
        if (iter->ahead_rc == 0)
            prefetch_value(&iter->ahead_value);
        uint64_t seq;
        if (key.mv_size != sizeof(seq))
            return FL_ECORRUPT;
        memcpy(&seq, key.mv_data, sizeof(seq));
        return eng__value_decode(&value, seq, out);
    }
    if (rc == MDB_NOTFOUND) {
        iter->phase = PHASE_DONE;
        return FL_EEOF;
    }
    return eng__err_from_mdb(rc);
}

int eng_read(eng_ledger_t *ledger, uint64_t seq, eng_record_t *out, eng_iter_t **iter_out)
{
    int rc = iter_open(ledger, ITER_LOG, ledger->dbi_log, iter_out);
    if (rc != 0)
        return rc;
    (*iter_out)->phase = PHASE_DONE;
    rc = read_seq(*iter_out, seq, out);
    if (rc != 0) {
        eng_iter_close(*iter_out);
        *iter_out = NULL;
    }
    return rc;
}

int eng_lookup_id(eng_ledger_t *ledger, const uint8_t id[ENG_ID_BYTES], eng_position_t *out)
{
    memset(out, 0, sizeof(*out));
    eng_iter_t *iter = NULL;
    int rc = iter_open(ledger, ITER_LOG, ledger->dbi_ids, &iter);
    if (rc != 0)
        return rc;
    MDB_val key = {.mv_size = ENG_ID_BYTES, .mv_data = (void *)id}, value;
    uint64_t seq = 0;
    rc = mdb_get(iter->txn, ledger->dbi_ids, &key, &value);
    if (rc != 0) {
        rc = eng__err_from_mdb(rc);
        goto done;
    }
    if (value.mv_size != sizeof(seq)) {
        rc = FL_ECORRUPT;
        goto done;
    }
    memcpy(&seq, value.mv_data, sizeof(seq));
    eng_record_t record;
    if ((rc = read_seq(iter, seq, &record)) != 0) {
        rc = rc == FL_ENOENT ? FL_ECORRUPT : rc;
        goto done;
    }
    out->seq = record.seq;
    out->stream_version = record.stream_version;
    memcpy(out->hash, record.hash, ENG_HASH_BYTES);
    out->duplicate = true;
done:
    eng_iter_close(iter);
    return rc;
}

/* Checks one stored value against the chain so far. */
static bool verify_one(const MDB_val *key, const MDB_val *value, uint64_t expected_seq,
                       const uint8_t prev_hash[ENG_HASH_BYTES], uint8_t hash_out[ENG_HASH_BYTES])
{
    uint64_t seq;
    if (key->mv_size != sizeof(seq) || value->mv_size <= ENG_HASH_BYTES)
        return false;
    memcpy(&seq, key->mv_data, sizeof(seq));
    if (seq != expected_seq)
        return false;
    const uint8_t *raw = value->mv_data;
    size_t raw_len = value->mv_size - ENG_HASH_BYTES;
    eng__hash(raw, raw_len, hash_out);
    if (memcmp(hash_out, raw + raw_len, ENG_HASH_BYTES) != 0)
        return false;
    eng_record_t record;
    return eng__value_decode(value, seq, &record) == 0 &&
           memcmp(record.prev_hash, prev_hash, ENG_HASH_BYTES) == 0;
}

int eng_verify(eng_ledger_t *ledger, uint64_t *checked, uint64_t *bad_seq)
{
    *checked = 0;
    *bad_seq = 0;
    eng_head_t head; /* committed before the snapshot, so the snapshot must reach it */
    eng_head(ledger, &head);
    eng_iter_t *iter = NULL;
    int rc = eng_iter_log(ledger, 0, ENG_FORWARD, &iter);
    if (rc != 0)
        return rc;
    uint8_t prev_hash[ENG_HASH_BYTES] = {0}, hash[ENG_HASH_BYTES];
    uint64_t expected = 1;
    MDB_val key, value;
    for (rc = mdb_cursor_get(iter->cursor, &key, &value, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(iter->cursor, &key, &value, MDB_NEXT)) {
        if (!verify_one(&key, &value, expected, prev_hash, hash)) {
            *bad_seq = expected;
            eng_iter_close(iter);
            return FL_ECORRUPT;
        }
        memcpy(prev_hash, hash, ENG_HASH_BYTES);
        expected++;
        (*checked)++;
    }
    eng_iter_close(iter);
    if (rc != MDB_NOTFOUND)
        return eng__err_from_mdb(rc);
    if (head.seq > *checked) {
        *bad_seq = *checked + 1;
        return FL_ECORRUPT;
    }
    return 0;
}
