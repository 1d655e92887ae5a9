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
#include <stdio.h>

#include "engine/engine.h"

#define RPL_BATCH_EVENTS 1000 /* events per append while replaying */
#define RPL_BATCHES      3    /* appends in flight while replaying */

typedef struct {
    uint64_t events;     /* replayed */
    uint64_t last_seq;   /* the last source sequence replayed */
    uint64_t failed_seq; /* 0, or the source event the rules refused on replay */
    int failed_code;     /* its code */
    char detail[ENG_DETAIL_LEN_MAX];
} rpl_progress_t;

/*
 * Appends the source's events after dst's head, up to up_to_seq (0: the source's head), into
 * dst (a plant ledger, usually opened with .scratch), in order and in batches, several in
 * flight (RPL_BATCHES) so that the writer takes them into one transaction while the next is
 * read. The rules run again on every event: an event they refuse now although the source
 * accepted it stops the replay with FL_ECORRUPT and names it in progress->failed_seq (the
 * events counted in progress->events are those before it); events after it in the batches
 * already submitted may have been applied, so dst is then to be thrown away. Returns 0 or an
 * error.
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

/* ---- snapshots and states as of a sequence (snapshot.c) */

/* Removes a state-only ledger's directory (a snapshot, an as-of state): its two files, then
 * itself; nothing when it is not there. */
void rpl_state_remove(const char *dir);

/* Brings the snapshots in snapdir up to the source's head: one at every multiple of `every`
 * (a state-only ledger copied at that sequence), carried forward from the last one by a working
 * state-only ledger snapdir/work. *made gets the number of snapshots added. stop (may be NULL)
 * is read between two snapshots: when it is not zero the call ends with FL_ECANCELED, the
 * snapshots made so far kept and the working state where it stands. */
int rpl_snapshot_update(eng_ledger_t *src, const char *snapdir, uint64_t every, const int *stop,
                        uint32_t *made);

/* The plant's state as it was after event seq. From the nearest snapshot at or below seq
 * (snapdir may be NULL: none), opened held (eng_config_t.held): the events after it are
 * replayed into a transaction that is never committed, so the snapshot is neither copied nor
 * changed, and *out is then read and closed by the calling thread only, one as-of state per
 * snapshot at a time. Without a snapshot, a new state-only ledger in dir replayed from the
 * first event. dir must hold no state (FL_EEXIST when it does). *from_snapshot gets the
 * snapshot's sequence, 0 when there was none. The caller closes *out and removes dir. */
int rpl_asof_open(eng_ledger_t *src, const char *snapdir, uint64_t seq, const char *dir,
                  eng_ledger_t **out, uint64_t *from_snapshot);

/* ---- recall traceability (trace.c) */

/* The genealogy of entity ("hu-P1", "hu-Y7", "loom-L3", "beam-B2", "of-OF1") down
 * (ENG_FORWARD: where it went, to the pallets and shipments) or up (ENG_BACKWARD: what it was
 * made of, to the yarn lots, beams, looms and orders), at most depth_max levels: JSON
 * {root, direction, truncated, nodes: [{id, kind, item, qty_milli, unit, status, location,
 * grade, container}], edges: [{from, to, kind, seq, depth}]}, or DOT for Graphviz. */
int rpl_trace(eng_ledger_t *ledger, const char *entity, int direction, uint32_t depth_max, bool dot,
              FILE *out);

/* ---- inventory reconciliation (count.c) */

typedef struct {
    uint64_t opened_seq, closed_seq; /* closed_seq 0 while the count is open */
    uint32_t lines;                  /* units in the report: counted or expected */
    uint32_t counted;                /* units counted */
    uint32_t outdated;               /* counted, then moved or changed before the close */
    uint32_t uncounted;              /* expected by the book, counted by nobody */
    uint32_t unknown;                /* counted where the book did not expect them */
    uint32_t adjustments;            /* proposed */
    uint32_t approvals;              /* of which above the threshold, waiting for a manager */
} rpl_count_summary_t;

/*
 * The report of count session count_id: the book at its opening (the state replayed to that
 * event, from the nearest of the snapshots in snapdir at or below it, or from the first event
 * when snapdir is NULL or holds none) against the lines counted, as JSON (lines, adjustments as
 * InventoryAdjusted payloads, totals by item and location) and/or CSV (one row per unit),
 * either FILE may be NULL. A difference above threshold_permille of the book, and any unit not
 * found, needs a manager's approval. FL_ENOENT when there is no such count.
 */
int rpl_count_report(eng_ledger_t *ledger, const char *count_id, int64_t threshold_permille,
                     const char *snapdir, FILE *json, FILE *csv, rpl_count_summary_t *summary);

/* ---- export and import of a log (export.c) */

typedef enum {
    RPL_FORMAT_NDJSON,  /* a line a record: {"seq", "hash", "type", "stream", "record": the
                         * stored bytes in hex} */
    RPL_FORMAT_MSGPACK, /* an array a record: [seq, hash (bin), type, stream, record (bin)] */
} rpl_format_t;

/* Writes the records from from_seq to to_seq (0: the first, the head) in format. FL_EINVAL
 * for an unknown format, FL_EIO when out fails. */
int rpl_export(eng_ledger_t *ledger, uint64_t from_seq, uint64_t to_seq, rpl_format_t format,
               FILE *out, uint64_t *exported);

/* Appends an export, in either format (its first byte tells which), to ledger (empty, or
 * standing at the record before the export's first), checking the chain entry by entry: each
 * record's hash, its link to the previous one, its sequence; the ledger writes the same records
 * with the same hashes. FL_ECORRUPT at the first entry that does not hold
 * (progress->failed_seq, ->detail), with nothing of it written. */
int rpl_import(eng_ledger_t *ledger, FILE *in, rpl_progress_t *progress);

/* The recall of a source over a window of time: every unit the source's events made in it
 * (from_us <= occurred_at < until_us; 0: open) and, down from each, everything made from it to
 * the shipments - for a loom (its rolls), a weaver or cutter ("actor:USER": the rolls and
 * bundles they declared), a subcontractor ("sub-ID": what came back from it), or any entity
 * (every unit its events name). The same JSON (with "source", "seeds") or DOT as rpl_trace. */
#define RPL_RECALL_SEEDS_MAX 4096
int rpl_recall(eng_ledger_t *ledger, const char *source, int64_t from_us, int64_t until_us,
               uint32_t depth_max, bool dot, FILE *out, uint32_t *seeds_count);

/* ---- verifiable history (audit.c, docs/audit.md) */

/* A signed statement of the chain's head: "this ledger had event seq with this hash". */
typedef struct {
    uint64_t seq;
    uint8_t hash[ENG_HASH_BYTES];
    int64_t signed_at_us;
    uint8_t signature[64]; /* Ed25519 over the digest's text without its signature line */
} rpl_digest_t;

/* A new Ed25519 key pair as PEM files (neither may exist yet). */
int rpl_keygen(const char *private_path, const char *public_path);

/* Signs the ledger's head now. FL_ENOENT on an empty ledger, FL_EINVAL for an unusable key. */
int rpl_digest_sign(eng_ledger_t *ledger, const char *private_path, rpl_digest_t *digest);

/* Checks a digest, however old, against the ledger: the signature, the record at its seq
 * having its hash, and the chain from the first record to the head. 0 when all hold;
 * FL_ECORRUPT otherwise (*bad_seq names the first record that breaks it, when one does). */
int rpl_digest_check(eng_ledger_t *ledger, const rpl_digest_t *digest, const char *public_path,
                     uint64_t *bad_seq);

/* A digest as text (five lines) and back. */
int rpl_digest_write(FILE *out, const rpl_digest_t *digest);
int rpl_digest_read(FILE *in, rpl_digest_t *digest);

/* A proof that event seq is in the chain under a digest: one line per record from seq to the
 * digest's head, "<seq> <record bytes in hex>". */
int rpl_proof_write(eng_ledger_t *ledger, uint64_t seq, const rpl_digest_t *digest, FILE *out);

/* Checks a proof with no ledger at hand: every record's SHA-256 is the next one's prev_hash, and
 * the last one's is the digest's hash, under a valid signature. *proved_seq gets the first
 * record's seq. 0 or FL_ECORRUPT. */
int rpl_proof_check(FILE *in, const rpl_digest_t *digest, const char *public_path,
                    uint64_t *proved_seq);

#endif
