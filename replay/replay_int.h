/*
 * replay_int.h: what the replay module's files share (module-private).
 */
#ifndef FL_REPLAY_REPLAY_INT_H
#define FL_REPLAY_REPLAY_INT_H

#include "replay/replay.h"

/* Strings of one batch, NUL-terminated copies of the records' (pointer, length) strings. */
#define RPL_ARENA_BYTES (ENG_BATCH_BYTES_MAX + RPL_BATCH_EVENTS * 4096)

typedef struct {
    char *bytes;
    size_t used;
} rpl_arena_t;

/* The event a record was made from, its strings and payload copied into the arena (NUL-ended,
 * as eng_append wants them); FL_ETOOBIG when the arena is full. */
int rpl__event_of(const eng_record_t *record, rpl_arena_t *arena, eng_event_t *event);

#endif
