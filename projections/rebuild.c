/*
 * rebuild.c: a projection rebuilt from the ledger while its projector keeps running. Two more
 * connections (clones of the projector's sink) fill the shadow at once, one with every row of
 * the plant's state as it is now (eng_rows, kind by kind), the other with the log up to the
 * head taken before the first row was read; then the shadow's checkpoint goes at that head. The
 * rows may be newer than that head; that is harmless, because the journal's rows are as they
 * are now, and applying them again converges. The projector's own thread then catches the
 * shadow up to its checkpoint and swaps it in, between two of its batches, so that nothing it
 * applies is lost in the swap. Two connections, because one server process receiving the whole
 * copy was the bottleneck with a core to spare (docs/projections.md).
 */
#include <pthread.h>
#include <stdlib.h>

#include "projections/projections_int.h"

#define PRJ_REBUILD_ROWS_CHUNK 4096 /* rows per COPY (PostgreSQL) or pipeline (Redis) */

typedef struct {
    prj_sink_t *shadow;
    eng_row_t *rows;
    uint32_t count;
    int rc;
} chunk_t;

static int chunk_add(uint64_t seq, const eng_row_t *row, void *data)
{
    (void)seq;
    chunk_t *chunk = data;
    chunk->rows[chunk->count++] = *row;
    if (chunk->count < PRJ_REBUILD_ROWS_CHUNK)
        return 0;
    chunk->rc = chunk->shadow->ops->shadow_rows(chunk->shadow, chunk->rows, chunk->count);
    chunk->count = 0;
    return chunk->rc != 0;
}

/* Every row, kind by kind. */
static int copy_rows(eng_ledger_t *ledger, chunk_t *chunk)
{
    for (int kind = ENG_ROW_HU; kind < ENG_ROW_KINDS; kind++) {
        uint64_t at = 0;
        chunk->count = 0;
        int rc = eng_rows(ledger, (eng_row_kind_t)kind, chunk_add, chunk, &at);
        if (rc == 0)
            rc = chunk->rc;
        if (rc == 0 && chunk->count > 0)
            rc = chunk->shadow->ops->shadow_rows(chunk->shadow, chunk->rows, chunk->count);
        if (rc != 0)
            return rc;
    }
    return chunk->shadow->ops->shadow_end(chunk->shadow, false);
}

/* The log up to at_seq, on a connection of its own (a thread of its own). */
typedef struct {
    eng_ledger_t *ledger;
    prj_sink_t *shadow;
    uint64_t at_seq;
    uint64_t events;
    int rc;
    bool stop; /* the rows failed: no use going on (atomic) */
} events_copy_t;

static void *copy_events(void *arg)
{
    events_copy_t *copy = arg;
    prj_batch_t batch = {0};
    int rc = copy->shadow->ops->connect(copy->shadow);
    if (rc == 0)
        rc = copy->shadow->ops->shadow_join(copy->shadow);
    for (uint64_t after = 0; after < copy->at_seq && rc == 0; after = batch.last_seq) {
        if (__atomic_load_n(&copy->stop, __ATOMIC_RELAXED)) {
            rc = FL_ECANCELED;
            break;
        }
        uint64_t last = after + PRJ_BATCH_EVENTS_MAX;
        prj__batch_reset(&batch, after);
        rc = prj__batch_events(&batch, copy->ledger, last < copy->at_seq ? last : copy->at_seq);
        if (rc == 0 && batch.last_seq == after)
            rc = FL_ECORRUPT; /* the log ends before the head it reported */
        if (rc == 0)
            rc = copy->shadow->ops->shadow_events(copy->shadow, &batch);
        copy->events += batch.events_count;
    }
    if (rc == 0)
        rc = copy->shadow->ops->shadow_end(copy->shadow, true);
    prj__batch_free(&batch);
    copy->shadow->ops->disconnect(copy->shadow);
    copy->rc = rc;
    return NULL;
}

int prj_rebuild(prj_projector_t *projector, uint32_t timeout_ms, uint64_t *events_out)
{
    prj_sink_t *sink = prj__sink_of(projector), *shadow = NULL;
    eng_ledger_t *ledger = prj__ledger_of(projector);
    chunk_t chunk = {0};
    events_copy_t events = {.ledger = ledger};
    bool events_started = false;
    pthread_t events_thread;
    if (events_out != NULL)
        *events_out = 0;
    int rc = sink->ops->clone(sink, &shadow);
    if (rc != 0)
        return rc;
    if ((rc = sink->ops->clone(sink, &events.shadow)) != 0) {
        shadow->ops->destroy(shadow);
        return rc;
    }
    prj__rebuilding(projector, true);
    if ((chunk.rows = malloc(PRJ_REBUILD_ROWS_CHUNK * sizeof(eng_row_t))) == NULL) {
        rc = FL_ENOMEM;
        goto done;
    }
    chunk.shadow = shadow;
    if ((rc = shadow->ops->connect(shadow)) != 0 || (rc = shadow->ops->shadow_begin(shadow)) != 0)
        goto done;
    /* The head before any row is read: every row reflects it or later. */
    eng_head_t head;
    eng_head(ledger, &head);
    events.at_seq = head.seq;
    if ((rc = pthread_create(&events_thread, NULL, copy_events, &events)) != 0) {
        rc = fl_err_from_errno(rc);
        goto done;
    }
    events_started = true;
    rc = copy_rows(ledger, &chunk);
    if (rc != 0)
        __atomic_store_n(&events.stop, true, __ATOMIC_RELAXED);
    pthread_join(events_thread, NULL);
    events_started = false;
    if (rc == 0)
        rc = events.rc;
    if (rc == 0) {
        prj_batch_t mark = {0};
        prj__batch_reset(&mark, events.at_seq);
        rc = shadow->ops->apply(shadow, PRJ_TARGET_SHADOW, prj__name_of(projector), &mark);
        prj__batch_free(&mark);
    }
    if (rc != 0)
        goto done;
    shadow->ops->disconnect(shadow);
    rc = prj__swap(projector, timeout_ms);
    if (rc == 0 && events_out != NULL)
        *events_out = events.events;
done:
    if (events_started)
        pthread_join(events_thread, NULL);
    prj__rebuilding(projector, false);
    free(chunk.rows);
    events.shadow->ops->destroy(events.shadow);
    shadow->ops->destroy(shadow);
    return rc;
}
