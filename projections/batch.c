/*
 * batch.c: a projector's batch - the next events of the log, copied out of the map with their
 * payloads as JSON (upcast to the current schema), and the rows the change journal lists for
 * them, each row once. Buffers grow and are reused from batch to batch.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "events/events.h"
#include "projections/projections_int.h"

bool prj__name_valid(const char *name, size_t max)
{
    if (name == NULL || name[0] == '\0' || strlen(name) > max)
        return false;
    for (const char *c = name; *c != '\0'; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return false;
    return true;
}

const char *prj__grade_name(int grade)
{
    return grade == 1 ? "first" : grade == 2 ? "second" : "";
}

void prj__batch_reset(prj_batch_t *batch, uint64_t after_seq)
{
    batch->after_seq = after_seq;
    batch->last_seq = after_seq;
    batch->events_count = 0;
    batch->rows_count = 0;
    batch->text_len = 0;
}

void prj__batch_free(prj_batch_t *batch)
{
    free(batch->events);
    free(batch->rows);
    free(batch->text);
    memset(batch, 0, sizeof(*batch));
}

static int grow(void **items, uint32_t *cap, size_t item_size)
{
    uint32_t next = *cap == 0 ? 64 : *cap * 2;
    void *bigger = realloc(*items, (size_t)next * item_size);
    if (bigger == NULL)
        return FL_ENOMEM;
    *items = bigger;
    *cap = next;
    return 0;
}

static void copy_str(char *out, size_t size, eng_str_t in)
{
    size_t len = in.len < size - 1 ? in.len : size - 1;
    memcpy(out, in.ptr, len);
    out[len] = '\0';
}

static void uuid_text(const uint8_t id[ENG_ID_BYTES], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t at = 0;
    for (int i = 0; i < ENG_ID_BYTES; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[at++] = '-';
        out[at++] = hex[id[i] >> 4];
        out[at++] = hex[id[i] & 15];
    }
    out[at] = '\0';
}

/* Appends the payload as JSON to the batch's text; "null" for a type outside the catalog (a
 * generic log's opaque payloads). */
static int payload_json(prj_batch_t *batch, const eng_record_t *record, size_t *at)
{
    char type[ENG_TYPE_LEN_MAX + 1];
    copy_str(type, sizeof(type), record->type);
    const ev_type_t *found = ev_type_find(type, strlen(type));
    for (;;) {
        size_t room = batch->text_cap - batch->text_len;
        char *out = batch->text == NULL ? NULL : batch->text + batch->text_len;
        int len = FL_ETOOBIG;
        if (found != NULL && room > 0)
            len = ev_payload_to_json(found, record->schema_version, record->payload,
                                     record->payload_len, out, room);
        if ((found == NULL || len == FL_ECORRUPT) && room > 4) {
            memcpy(out, "null", 5); /* not the catalog's: the payload stays in the ledger */
            len = 4;
        } else if (found == NULL || len == FL_ECORRUPT) {
            len = FL_ETOOBIG;
        }
        if (len >= 0) {
            *at = batch->text_len;
            batch->text_len += (size_t)len + 1;
            return 0;
        }
        if (len != FL_ETOOBIG || batch->text_cap >= (size_t)PRJ_PAYLOAD_JSON_BYTES_MAX * 8)
            return len;
        size_t next = batch->text_cap < 65536 ? 65536 : batch->text_cap * 2;
        char *bigger = realloc(batch->text, next);
        if (bigger == NULL)
            return FL_ENOMEM;
        batch->text = bigger;
        batch->text_cap = next;
    }
}

static int event_copy(prj_batch_t *batch, const eng_record_t *record)
{
    int rc;
    if (batch->events_count == batch->events_cap &&
        (rc = grow((void **)&batch->events, &batch->events_cap, sizeof(prj_event_t))) != 0)
        return rc;
    prj_event_t *event = &batch->events[batch->events_count];
    event->seq = record->seq;
    event->stream_version = record->stream_version;
    event->recorded_at_us = record->recorded_at_us;
    event->occurred_at_us = record->occurred_at_us;
    event->schema_version = record->schema_version;
    uuid_text(record->id, event->id);
    copy_str(event->type, sizeof(event->type), record->type);
    copy_str(event->stream, sizeof(event->stream), record->stream);
    copy_str(event->actor_user, sizeof(event->actor_user), record->actor_user);
    copy_str(event->actor_role, sizeof(event->actor_role), record->actor_role);
    copy_str(event->actor_device, sizeof(event->actor_device), record->actor_device);
    if ((rc = payload_json(batch, record, &event->payload_at)) != 0)
        return rc;
    batch->events_count++;
    return 0;
}

int prj__batch_events(prj_batch_t *batch, eng_ledger_t *ledger, uint64_t last_seq)
{
    eng_iter_t *iter = NULL;
    eng_record_t record;
    int rc = eng_iter_log(ledger, batch->after_seq + 1, ENG_FORWARD, &iter);
    if (rc != 0)
        return rc;
    while (batch->last_seq < last_seq && (rc = eng_iter_next(iter, &record)) == 0) {
        assert(record.seq == batch->last_seq + 1);
        if ((rc = event_copy(batch, &record)) != 0)
            break;
        batch->last_seq = record.seq;
    }
    eng_iter_close(iter);
    return rc == FL_EEOF ? 0 : rc;
}

typedef struct {
    prj_batch_t *batch;
    int rc;
} rows_walk_t;

static int row_add(uint64_t seq, const eng_row_t *row, void *data)
{
    rows_walk_t *walk = data;
    prj_batch_t *batch = walk->batch;
    if (seq > batch->last_seq)
        return 1; /* past the batch: its next batch takes it */
    if (batch->rows_count == batch->rows_cap &&
        (walk->rc = grow((void **)&batch->rows, &batch->rows_cap, sizeof(eng_row_t))) != 0)
        return 1;
    batch->rows[batch->rows_count++] = *row;
    return 0;
}

static int row_order(const void *a, const void *b)
{
    const eng_row_t *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    int c = strcmp(x->kind_name, y->kind_name);
    return c != 0 ? c : strcmp(x->id, y->id);
}

int prj__batch_rows(prj_batch_t *batch, eng_ledger_t *ledger)
{
    assert(batch->rows_count == 0);
    if (batch->last_seq == batch->after_seq)
        return 0;
    rows_walk_t walk = {.batch = batch};
    uint64_t last = 0;
    uint64_t span = batch->last_seq - batch->after_seq;
    int rc = eng_changes(ledger, batch->after_seq, (uint32_t)span, row_add, &walk, &last);
    if (rc == 0)
        rc = walk.rc;
    if (rc != 0 || batch->rows_count < 2)
        return rc;
    /* Each row once: every copy of a row was read in the same transaction, so they are equal,
     * and PostgreSQL refuses to upsert one row twice in a statement. */
    qsort(batch->rows, batch->rows_count, sizeof(eng_row_t), row_order);
    uint32_t kept = 1;
    for (uint32_t i = 1; i < batch->rows_count; i++)
        if (row_order(&batch->rows[kept - 1], &batch->rows[i]) != 0)
            batch->rows[kept++] = batch->rows[i];
    batch->rows_count = kept;
    return 0;
}
