/*
 * heads.c: the current version of every stream written since the folded watermark, in memory.
 *
 * The writer needs a stream's version to check and assign the next one. Keeping that in an
 * LMDB table written by each append dirtied a scattered page per event; instead the versions
 * of the unfolded tail live here, and the "heads" table is folded with the other indexes. The
 * table is bounded (ENG_HEADS_SLOTS): the writer waits for the folder before it fills. An
 * undo log lets an atomic group or a failed batch take back exactly what it set.
 */
#include "engine/engine_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

int eng__heads_init(eng_heads_t *heads)
{
    memset(heads, 0, sizeof(*heads));
    heads->slots = calloc(ENG_HEADS_SLOTS, sizeof(*heads->slots));
    heads->spare = calloc(ENG_HEADS_SLOTS, sizeof(*heads->spare));
    heads->undo = calloc(ENG_BATCH_EVENTS_MAX, sizeof(*heads->undo));
    if (heads->slots == NULL || heads->spare == NULL || heads->undo == NULL) {
        eng__heads_free(heads);
        return FL_ENOMEM;
    }
    return 0;
}

void eng__heads_free(eng_heads_t *heads)
{
    free(heads->slots);
    free(heads->spare);
    free(heads->undo);
    heads->slots = NULL;
    heads->spare = NULL;
    heads->undo = NULL;
}

static uint32_t hash_name(const char *name, size_t len)
{
    uint32_t hash = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        hash = (hash ^ (uint8_t)name[i]) * 16777619u;
    return hash;
}

/* The slot holding name, or the empty slot where it would go. */
static uint32_t find_slot(const eng_heads_t *heads, const char *name, size_t len)
{
    uint32_t mask = ENG_HEADS_SLOTS - 1, index = hash_name(name, len) & mask;
    for (;;) {
        const eng_head_slot_t *slot = &heads->slots[index];
        if (slot->version == 0 || (slot->len == len && memcmp(slot->name, name, len) == 0))
            return index;
        index = (index + 1) & mask;
    }
}

uint64_t eng__heads_get(const eng_heads_t *heads, const char *name, size_t len)
{
    return heads->slots[find_slot(heads, name, len)].version;
}

void eng__heads_set(eng_heads_t *heads, const char *name, size_t len, uint64_t version,
                    uint64_t seq)
{
    assert(len <= ENG_STREAM_LEN_MAX && version >= 1);
    assert(heads->used < ENG_HEADS_SLOTS - 1 && heads->undo_count < ENG_BATCH_EVENTS_MAX);
    uint32_t index = find_slot(heads, name, len);
    eng_head_slot_t *slot = &heads->slots[index];
    heads->undo[heads->undo_count++] =
        (eng_head_undo_t){.slot = index, .version = slot->version, .seq = slot->seq};
    if (slot->version == 0) {
        heads->used++;
        slot->len = (uint8_t)len;
        memcpy(slot->name, name, len);
    }
    slot->version = version;
    slot->seq = seq;
}

void eng__heads_rollback(eng_heads_t *heads, uint32_t mark)
{
    /* Undone newest first, so an emptied slot was the last one its probe chain reached. */
    while (heads->undo_count > mark) {
        const eng_head_undo_t *undo = &heads->undo[--heads->undo_count];
        eng_head_slot_t *slot = &heads->slots[undo->slot];
        if (undo->version == 0) {
            assert(heads->used > 0);
            heads->used--;
        }
        slot->version = undo->version;
        slot->seq = undo->seq;
    }
}

void eng__heads_commit(eng_heads_t *heads)
{
    heads->undo_count = 0;
}

void eng__heads_prune(eng_heads_t *heads, uint64_t folded_seq)
{
    assert(heads->undo_count == 0);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < ENG_HEADS_SLOTS; i++)
        kept += heads->slots[i].version != 0 && heads->slots[i].seq > folded_seq;
    if (kept == 0) {
        memset(heads->slots, 0, sizeof(*heads->slots) * ENG_HEADS_SLOTS);
        heads->used = 0;
        return;
    }
    /* The usual case while the folder runs behind the writer: the survivors go into the spare
     * table, which becomes the table (allocated once, at init). */
    eng_head_slot_t *old = heads->slots, *fresh = heads->spare;
    memset(fresh, 0, sizeof(*fresh) * ENG_HEADS_SLOTS);
    heads->slots = fresh;
    heads->spare = old;
    heads->used = 0;
    for (uint32_t i = 0; i < ENG_HEADS_SLOTS; i++) {
        if (old[i].version != 0 && old[i].seq > folded_seq) {
            eng_head_slot_t *slot = &fresh[find_slot(heads, old[i].name, old[i].len)];
            *slot = old[i];
            heads->used++;
        }
    }
}
