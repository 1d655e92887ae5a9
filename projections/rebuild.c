/*
 * rebuild.c: a projection rebuilt from the ledger while its projector keeps running. A second
 * connection (a clone of the projector's sink) fills the shadow: every row of the plant's state
 * as it is now (eng_rows, kind by kind) and the log up to the head the first kind reflected,
 * then the shadow's checkpoint at that head. The rows of later kinds may be newer than that
 * head; that is harmless, because the journal's rows are as they are now, and applying them
 * again converges. The projector's own thread then catches the shadow up to its checkpoint and
 * swaps it in, between two of its batches, so that nothing it applies is lost in the swap.
 */
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

/* Every row, kind by kind; *at_seq gets the head the first kind reflected. */
static int copy_rows(eng_ledger_t *ledger, chunk_t *chunk, uint64_t *at_seq)
{
    *at_seq = UINT64_MAX;
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
        if (at < *at_seq)
            *at_seq = at;
    }
    return 0;
}

/* The log up to at_seq, then the shadow's checkpoint there. */
static int copy_events(eng_ledger_t *ledger, prj_sink_t *shadow, const char *name, uint64_t at_seq,
                       uint64_t *events)
{
    prj_batch_t batch = {0};
    int rc = 0;
    *events = 0;
    for (uint64_t after = 0; after < at_seq && rc == 0; after = batch.last_seq) {
        uint64_t last = after + PRJ_BATCH_EVENTS_MAX;
        prj__batch_reset(&batch, after);
        rc = prj__batch_events(&batch, ledger, last < at_seq ? last : at_seq);
        if (rc == 0 && batch.last_seq == after)
            rc = FL_ECORRUPT; /* the log ends before the head it reported */
        if (rc == 0)
            rc = shadow->ops->shadow_events(shadow, &batch);
        *events += batch.events_count;
    }
    if (rc == 0) {
        prj__batch_reset(&batch, at_seq);
        rc = shadow->ops->apply(shadow, PRJ_TARGET_SHADOW, name, &batch);
    }
    prj__batch_free(&batch);
    return rc;
}

int prj_rebuild(prj_projector_t *projector, uint32_t timeout_ms, uint64_t *events_out)
{
    prj_sink_t *sink = prj__sink_of(projector), *shadow = NULL;
    eng_ledger_t *ledger = prj__ledger_of(projector);
    chunk_t chunk = {0};
    uint64_t at_seq = 0, events = 0;
    if (events_out != NULL)
        *events_out = 0;
    int rc = sink->ops->clone(sink, &shadow);
    if (rc != 0)
        return rc;
    prj__rebuilding(projector, true);
    if ((chunk.rows = malloc(PRJ_REBUILD_ROWS_CHUNK * sizeof(eng_row_t))) == NULL) {
        rc = FL_ENOMEM;
        goto done;
    }
    chunk.shadow = shadow;
    if ((rc = shadow->ops->connect(shadow)) != 0 || (rc = shadow->ops->shadow_begin(shadow)) != 0)
        goto done;
    if ((rc = copy_rows(ledger, &chunk, &at_seq)) != 0)
        goto done;
    if ((rc = copy_events(ledger, shadow, prj__name_of(projector), at_seq, &events)) != 0)
        goto done;
    shadow->ops->disconnect(shadow);
    rc = prj__swap(projector, timeout_ms);
    if (rc == 0 && events_out != NULL)
        *events_out = events;
done:
    prj__rebuilding(projector, false);
    free(chunk.rows);
    shadow->ops->destroy(shadow);
    return rc;
}
