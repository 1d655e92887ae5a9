/*
 * replay.h: the log replayed - the plant's state rebuilt from the events alone (into a scratch
 * ledger), as of the head or of any sequence, and compared row by row with the state a ledger
 * keeps inline, naming the first disagreement.
 *
 * A ledger's inline state is a projection of its log that happens to live beside it; these
 * functions are how an auditor checks that it is one.
 */
#ifndef FL_REPLAY_REPLAY_H
#define FL_REPLAY_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"

#define RPL_BATCH_EVENTS 1000 /* events per append while replaying */

typedef struct {
    uint64_t events;     /* replayed */
    uint64_t last_seq;   /* the last source sequence replayed */
    uint64_t failed_seq; /* 0, or the source event the rules refused on replay */
    int failed_code;     /* its code */
    char detail[ENG_DETAIL_LEN_MAX];
} rpl_progress_t;

/*
 * Appends the source's events after dst's head, up to up_to_seq (0: the source's head), into
 * dst (a plant ledger, usually opened with .scratch), in order and in batches. The rules run
 * again on every event: an event they refuse now although the source accepted it stops the
 * replay with FL_ECORRUPT and names it in progress->failed_seq. Returns 0 or an error.
 */
int rpl_replay(eng_ledger_t *src, eng_ledger_t *dst, uint64_t up_to_seq, rpl_progress_t *progress);

/* The first row that differs between two ledgers' states. */
typedef struct {
    eng_row_kind_t kind;
    char key[192];   /* the row ("hu/R1", "stock/TW-500/FG/released/1", ...) */
    char left[512];  /* as in the first ledger, "" when absent */
    char right[512]; /* as in the second */
    uint64_t rows;   /* rows compared in all */
} rpl_difference_t;

/*
 * Compares every row of the two ledgers' plant states (eng_rows, all kinds). Returns 0 when they
 * are equal, FL_ECORRUPT with *difference naming the first differing row, or a read error.
 */
int rpl_compare(eng_ledger_t *left, eng_ledger_t *right, rpl_difference_t *difference);

/* A row as canonical text: *key identifies it, *value is everything it holds. */
void rpl_row_text(const eng_row_t *row, char key[192], char value[512]);

#endif
