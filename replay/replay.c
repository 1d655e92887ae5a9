/*
 * replay.c: replaying a log into a scratch plant ledger, and comparing two ledgers' states.
 */
#define _POSIX_C_SOURCE 200809L
#include "replay/replay.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "replay/replay_int.h"

static const char *arena_copy(rpl_arena_t *arena, const eng_str_t *text)
{
    if (arena->used + text->len + 1 > RPL_ARENA_BYTES)
        return NULL;
    char *out = arena->bytes + arena->used;
    memcpy(out, text->ptr, text->len);
    out[text->len] = '\0';
    arena->used += text->len + 1;
    return out;
}

/* The event a record was made from, its strings and payload copied into the arena. */
int rpl__event_of(const eng_record_t *record, rpl_arena_t *arena, eng_event_t *event)
{
    memset(event, 0, sizeof(*event));
    memcpy(event->id, record->id, sizeof(event->id));
    event->schema_version = record->schema_version;
    event->expected_version = ENG_EXPECT_ANY;
    event->occurred_at_us = record->occurred_at_us;
    memcpy(event->correlation_id, record->correlation_id, sizeof(event->correlation_id));
    memcpy(event->causation_id, record->causation_id, sizeof(event->causation_id));
    if ((event->type = arena_copy(arena, &record->type)) == NULL ||
        (event->stream = arena_copy(arena, &record->stream)) == NULL ||
        (event->actor_user = arena_copy(arena, &record->actor_user)) == NULL ||
        (event->actor_role = arena_copy(arena, &record->actor_role)) == NULL ||
        (event->actor_device = arena_copy(arena, &record->actor_device)) == NULL)
        return FL_ETOOBIG;
    event->entities_count = record->entities_count;
    for (uint32_t i = 0; i < record->entities_count; i++)
        if ((event->entities[i] = arena_copy(arena, &record->entities[i])) == NULL)
            return FL_ETOOBIG;
    eng_str_t payload = {.ptr = (const char *)record->payload, .len = record->payload_len};
    const char *copy = arena_copy(arena, &payload);
    if (copy == NULL)
        return FL_ETOOBIG;
    event->payload = (const uint8_t *)copy;
    event->payload_len = record->payload_len;
    return 0;
}

/* A batch of events to append, with what the writer answers. */
typedef struct replay replay_t;
typedef struct {
    eng_event_t events[RPL_BATCH_EVENTS];
    uint64_t seqs[RPL_BATCH_EVENTS];
    eng_position_t positions[RPL_BATCH_EVENTS];
    int results[RPL_BATCH_EVENTS];
    uint32_t count;
    rpl_arena_t arena;
    eng_append_req_t req;
    replay_t *replay;
    bool in_flight; /* submitted and not yet checked */
    bool answered;  /* under the replay's lock */
} batch_t;

struct replay {
    batch_t batches[RPL_BATCHES];
    uint32_t next; /* the batch being filled */
    pthread_mutex_t lock;
    pthread_cond_t answered;
};

static void batch_answered(eng_append_req_t *req, void *data)
{
    (void)req;
    batch_t *batch = data;
    pthread_mutex_lock(&batch->replay->lock);
    batch->answered = true;
    pthread_cond_broadcast(&batch->replay->answered);
    pthread_mutex_unlock(&batch->replay->lock);
}

/* Waits for a submitted batch's answer and counts it; the first refused event stops the replay
 * and is named. Returns 0, FL_ECORRUPT for a refusal, or the request's own failure. */
static void batch_wait(batch_t *batch)
{
    pthread_mutex_lock(&batch->replay->lock);
    while (batch->in_flight && !batch->answered)
        pthread_cond_wait(&batch->replay->answered, &batch->replay->lock);
    pthread_mutex_unlock(&batch->replay->lock);
    batch->in_flight = false;
}

static int batch_check(batch_t *batch, rpl_progress_t *progress)
{
    if (!batch->in_flight)
        return 0;
    batch_wait(batch);
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < batch->count; i++) {
        if (batch->results[i] == 0) {
            progress->events++;
            progress->last_seq = batch->seqs[i];
            continue;
        }
        if (fl_err_http_status(batch->results[i]) >= 500)
            return batch->results[i]; /* the target's storage, not the event */
        progress->failed_seq = batch->seqs[i];
        progress->failed_code = batch->results[i];
        snprintf(progress->detail, sizeof(progress->detail), "%s, refused on replay: %s",
                 batch->events[i].type, fl_strerror(batch->results[i]));
        rc = FL_ECORRUPT;
    }
    batch->count = 0;
    batch->arena.used = 0;
    return rc;
}

/* Submits the batch being filled and moves on to the next one, checked free first. */
static int batch_submit(eng_ledger_t *dst, replay_t *replay, rpl_progress_t *progress)
{
    batch_t *batch = &replay->batches[replay->next];
    if (batch->count == 0)
        return 0;
    batch->req = (eng_append_req_t){.events = batch->events,
                                    .count = batch->count,
                                    .positions = batch->positions,
                                    .results = batch->results,
                                    .cb = batch_answered,
                                    .data = batch};
    batch->answered = false;
    int rc = eng_append_submit(dst, &batch->req);
    if (rc != 0)
        return rc;
    batch->in_flight = true;
    replay->next = (replay->next + 1) % RPL_BATCHES;
    return batch_check(&replay->batches[replay->next], progress);
}

static replay_t *replay_new(void)
{
    replay_t *replay = calloc(1, sizeof(*replay));
    if (replay == NULL)
        return NULL;
    pthread_mutex_init(&replay->lock, NULL);
    pthread_cond_init(&replay->answered, NULL);
    for (int i = 0; i < RPL_BATCHES; i++) {
        replay->batches[i].replay = replay;
        if ((replay->batches[i].arena.bytes = malloc(RPL_ARENA_BYTES)) == NULL)
            return replay; /* replay_free frees what was allocated; the caller sees NULL arenas */
    }
    return replay;
}

/* Waits for every batch in flight (the writer answers into them), in order, counting them
 * while nothing has failed; then frees. Returns rc, or the first failure found. */
static int replay_free(replay_t *replay, int rc, rpl_progress_t *progress)
{
    for (uint32_t i = 1; i <= RPL_BATCHES; i++) {
        batch_t *batch = &replay->batches[(replay->next + i) % RPL_BATCHES];
        if (rc == 0)
            rc = batch_check(batch, progress);
        else
            batch_wait(batch);
    }
    for (int i = 0; i < RPL_BATCHES; i++)
        free(replay->batches[i].arena.bytes);
    pthread_cond_destroy(&replay->answered);
    pthread_mutex_destroy(&replay->lock);
    free(replay);
    return rc;
}

int rpl_replay(eng_ledger_t *src, eng_ledger_t *dst, uint64_t up_to_seq, rpl_progress_t *progress)
{
    memset(progress, 0, sizeof(*progress));
    eng_head_t dst_head;
    eng_head(dst, &dst_head);
    replay_t *replay = replay_new();
    if (replay == NULL)
        return FL_ENOMEM;
    eng_iter_t *iter = NULL;
    int rc = FL_ENOMEM;
    for (int i = 0; i < RPL_BATCHES; i++)
        if (replay->batches[i].arena.bytes == NULL)
            goto done;
    if ((rc = eng_iter_log(src, dst_head.seq + 1, ENG_FORWARD, &iter)) != 0)
        goto done;
    eng_record_t record;
    while ((rc = eng_iter_next(iter, &record)) == 0) {
        if (up_to_seq != 0 && record.seq > up_to_seq)
            break;
        batch_t *batch = &replay->batches[replay->next];
        /* A batch ends where the arena or the count would overflow. */
        if (batch->count == RPL_BATCH_EVENTS ||
            batch->arena.used + record.raw_len + 1024 > RPL_ARENA_BYTES) {
            if ((rc = batch_submit(dst, replay, progress)) != 0)
                goto done;
            batch = &replay->batches[replay->next];
        }
        if ((rc = rpl__event_of(&record, &batch->arena, &batch->events[batch->count])) != 0)
            goto done;
        batch->seqs[batch->count++] = record.seq;
    }
    if (rc != FL_EEOF && rc != 0)
        goto done;
    rc = batch_submit(dst, replay, progress);
done:
    if (iter != NULL)
        eng_iter_close(iter);
    return replay_free(replay, rc, progress);
}

/* ---- comparing states */

static const char *const kind_names[ENG_ROW_KINDS] = {
    [ENG_ROW_HU] = "hu",         [ENG_ROW_STOCK] = "stock", [ENG_ROW_ORDER] = "order",
    [ENG_ROW_LOOM] = "loom",     [ENG_ROW_BEAM] = "beam",   [ENG_ROW_RECORD] = "record",
    [ENG_ROW_SUBLOT] = "sublot", [ENG_ROW_LINK] = "link",   [ENG_ROW_ARTICLE] = "article",
};

void rpl_row_text(const eng_row_t *row, char key[192], char value[512])
{
    const char *kind = row->kind > 0 && row->kind < ENG_ROW_KINDS ? kind_names[row->kind] : "?";
    if (row->kind == ENG_ROW_RECORD)
        snprintf(key, 192, "%s/%s-%s", kind, row->kind_name, row->id);
    else
        snprintf(key, 192, "%s/%s", kind, row->id);
    switch (row->kind) {
    case ENG_ROW_HU: {
        const eng_hu_view_t *hu = &row->hu;
        snprintf(value, 512, "%s %s %s %lld %s at %s in %s held by %s grade %d out %lld since %llu",
                 hu->status, hu->item, hu->unit, (long long)hu->qty_milli, hu->unit, hu->location,
                 hu->parent, hu->holder, hu->grade, (long long)hu->out_milli,
                 (unsigned long long)hu->created_seq);
        break;
    }
    case ENG_ROW_STOCK:
        snprintf(value, 512, "%lld", (long long)row->stock.qty_milli);
        break;
    case ENG_ROW_ORDER:
        snprintf(value, 512, "%s %s %s planned %lld declared %lld", row->order.state,
                 row->order.item, row->order.unit, (long long)row->order.planned_milli,
                 (long long)row->order.declared_milli);
        break;
    case ENG_ROW_LOOM:
        snprintf(
            value, 512, "stopped %d %s %s since %llu order %s first piece %d beams %s %lld %s %lld",
            row->loom.stopped, row->loom.stop_class, row->loom.stop_code,
            (unsigned long long)row->loom.since_seq, row->loom.order, row->loom.first_piece_passed,
            row->loom.beams[0], (long long)row->loom.beam_remaining_milli[0], row->loom.beams[1],
            (long long)row->loom.beam_remaining_milli[1]);
        for (int i = 0; i < 4; i++)
            if (row->loom.operators[i][0] != '\0') {
                size_t used = strlen(value);
                snprintf(value + used, 512 - used, " op %.64s", row->loom.operators[i]);
            }
        break;
    case ENG_ROW_BEAM:
        snprintf(value, 512, "%s on %s %s left %lld", row->beam.item, row->beam.loom,
                 row->beam.position, (long long)row->beam.remaining_milli);
        break;
    case ENG_ROW_RECORD:
        snprintf(value, 512, "%s %s count %u since %llu", row->record.state, row->record.subject,
                 row->record.count, (unsigned long long)row->record.since_seq);
        break;
    case ENG_ROW_SUBLOT: {
        const eng_sublot_view_t *lot = &row->sublot;
        snprintf(value, 512,
                 "%s %s %s %s at %s sent %lld good %lld rejected %lld lost %lld "
                 "allowance %lld",
                 lot->state, lot->sub, lot->item, lot->unit, lot->location,
                 (long long)lot->sent_milli, (long long)lot->good_milli,
                 (long long)lot->rejected_milli, (long long)lot->lost_milli,
                 (long long)lot->allowance_milli);
        break;
    }
    case ENG_ROW_LINK:
        snprintf(value, 512, "%s at %llu", row->link.kind, (unsigned long long)row->link.seq);
        break;
    case ENG_ROW_ARTICLE:
        snprintf(value, 512, "tolerance %lld overproduction %lld first piece %d",
                 (long long)row->article.cutting_tolerance_permille,
                 (long long)row->article.overproduction_allowed_permille,
                 row->article.first_piece_required);
        break;
    default:
        value[0] = '\0';
    }
    if (!row->present)
        snprintf(value, 512, "(absent)");
}

typedef struct {
    EVP_MD_CTX *digest;
    uint64_t rows;
} digest_t;

static int digest_row(uint64_t seq, const eng_row_t *row, void *data)
{
    (void)seq;
    digest_t *digest = data;
    char key[192], value[512];
    rpl_row_text(row, key, value);
    EVP_DigestUpdate(digest->digest, key, strlen(key) + 1);
    EVP_DigestUpdate(digest->digest, value, strlen(value) + 1);
    digest->rows++;
    return 0;
}

static int kind_digest(eng_ledger_t *ledger, eng_row_kind_t kind, uint8_t out[32], uint64_t *rows)
{
    digest_t digest = {.digest = EVP_MD_CTX_new()};
    if (digest.digest == NULL)
        return FL_ENOMEM;
    uint64_t at;
    EVP_DigestInit_ex(digest.digest, EVP_sha256(), NULL);
    int rc = eng_rows(ledger, kind, digest_row, &digest, &at);
    unsigned len = 32;
    EVP_DigestFinal_ex(digest.digest, out, &len);
    EVP_MD_CTX_free(digest.digest);
    *rows = digest.rows;
    return rc;
}

typedef struct {
    char key[192];
    char value[512];
} text_row_t;

typedef struct {
    text_row_t *rows;
    size_t count, cap;
    int error;
} rows_t;

static int collect_row(uint64_t seq, const eng_row_t *row, void *data)
{
    (void)seq;
    rows_t *rows = data;
    if (rows->count == rows->cap) {
        size_t cap = rows->cap == 0 ? 1024 : rows->cap * 2;
        text_row_t *grown = realloc(rows->rows, cap * sizeof(*grown));
        if (grown == NULL) {
            rows->error = FL_ENOMEM;
            return 1;
        }
        rows->rows = grown;
        rows->cap = cap;
    }
    rpl_row_text(row, rows->rows[rows->count].key, rows->rows[rows->count].value);
    rows->count++;
    return 0;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const text_row_t *)a)->key, ((const text_row_t *)b)->key);
}

/* The first difference in one kind, by the rows' text keys (only run when digests differ). */
static int first_difference(eng_ledger_t *left, eng_ledger_t *right, eng_row_kind_t kind,
                            rpl_difference_t *difference)
{
    rows_t a = {0}, b = {0};
    uint64_t at;
    int rc = eng_rows(left, kind, collect_row, &a, &at);
    if (rc == 0)
        rc = a.error;
    if (rc == 0)
        rc = eng_rows(right, kind, collect_row, &b, &at);
    if (rc == 0)
        rc = b.error;
    if (rc != 0)
        goto done;
    qsort(a.rows, a.count, sizeof(*a.rows), by_key);
    qsort(b.rows, b.count, sizeof(*b.rows), by_key);
    difference->kind = kind;
    size_t i = 0, j = 0;
    while (i < a.count || j < b.count) {
        int order = i == a.count ? 1 : j == b.count ? -1 : strcmp(a.rows[i].key, b.rows[j].key);
        if (order == 0 && strcmp(a.rows[i].value, b.rows[j].value) == 0) {
            i++, j++;
            continue;
        }
        snprintf(difference->key, sizeof(difference->key), "%s",
                 order <= 0 ? a.rows[i].key : b.rows[j].key);
        snprintf(difference->left, sizeof(difference->left), "%s",
                 order <= 0 ? a.rows[i].value : "");
        snprintf(difference->right, sizeof(difference->right), "%s",
                 order >= 0 ? b.rows[j].value : "");
        rc = FL_ECORRUPT;
        break;
    }
done:
    free(a.rows);
    free(b.rows);
    return rc;
}

int rpl_compare(eng_ledger_t *left, eng_ledger_t *right, rpl_difference_t *difference)
{
    memset(difference, 0, sizeof(*difference));
    for (int kind = ENG_ROW_HU; kind < ENG_ROW_KINDS; kind++) {
        uint8_t a[32], b[32];
        uint64_t rows_a, rows_b;
        int rc = kind_digest(left, (eng_row_kind_t)kind, a, &rows_a);
        if (rc == 0)
            rc = kind_digest(right, (eng_row_kind_t)kind, b, &rows_b);
        if (rc != 0)
            return rc;
        difference->rows += rows_a;
        if (rows_a == rows_b && memcmp(a, b, sizeof(a)) == 0)
            continue;
        rc = first_difference(left, right, (eng_row_kind_t)kind, difference);
        return rc == 0 ? FL_EINTERNAL : rc; /* digests differ, rows do not: cannot be */
    }
    return 0;
}
