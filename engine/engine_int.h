/*
 * engine_int.h: what the engine's files share and nothing outside engine/ includes.
 *
 * A ledger is two LMDB environments. The log's (the ledger's directory):
 *   log       u64 seq (native, MDB_INTEGERKEY) -> record bytes || SHA-256 of those bytes
 *   ids       16-byte event id                 -> u64 seq (native)
 *   meta      "format"                         -> u32 record format version
 *   (and the plant's state tables, rules.c)
 * The folded indexes' (its "index" subdirectory; none for a state-only ledger):
 *   heads     stream                           -> u64 version (native)
 *   streams   stream || 0x00 || BE u64 version -> u64 seq (native)
 *   entities  entity || 0x00 || BE u64 seq     -> empty
 *   meta      "folded"                         -> u64 last seq folded into the three above
 *
 * The append transaction writes only log and ids, which grow at their right edge, and the state.
 * Streams' versions since the watermark are kept in memory (heads.c). The folder thread (fold.c)
 * writes the indexes from the log in chunks, each with its watermark in the same transaction of
 * the index environment, whose pages and fsync are thus off the append's commit; readers take the
 * index up to the watermark and scan the log after it, so an index is never behind what it claims.
 */
#ifndef ENG_ENGINE_INT_H
#define ENG_ENGINE_INT_H

#include <lmdb.h>
#include <msgpack.h>
#include <pthread.h>

#include "engine/engine.h"
#include "events/events.h"

#define ENG_FORMAT_VERSION       1u
#define ENG_RECORD_FIELDS        17
#define ENG_MAP_BYTES_INITIAL    (64ull << 20)
#define ENG_MAP_BYTES_MAX        (1ull << 40)
#define ENG_READERS_MAX          512u
#define ENG_DISK_FULL_BYTES      (1ull << 20) /* free room under which a short write is ENOSPC */
#define ENG_EVENT_OVERHEAD_BYTES 512u /* budget per event besides its payload, for batching */
#define ENG_INDEX_KEY_MAX        (ENG_STREAM_LEN_MAX + 1 + 8) /* name || 0x00 || BE u64 */
#define ENG_FOLD_EVENTS_MAX      4096u /* unfolded events that make the writer fold between batches */
#define ENG_FOLD_CHUNK_MAX       4096u  /* events folded in one transaction */
#define ENG_HEADS_SLOTS          16384u /* streams written since the watermark, in memory */
#define ENG_HEADS_FOLD_AT        (ENG_HEADS_SLOTS / 2) /* the writer folds before a batch past this */
#define ENG_FOLD_IDLE_MS         20u /* an idle writer folds the rest after this long */
#define ENG_ENGINE_READERS                                                                         \
    2u /* reader slots beyond readers_max: the writer's snapshot of the                            \
        * index, the folder's of the log */

enum { ENG_GATE_LOG, ENG_GATE_INDEX, ENG_GATES };

_Static_assert(sizeof(size_t) == 8, "the log's integer keys are 64-bit");
/* What the catalog accepts, the ledger stores. */
_Static_assert(EV_TYPE_LEN_MAX <= ENG_TYPE_LEN_MAX, "catalog type names fit the ledger");
_Static_assert(EV_NAME_LEN_MAX <= ENG_STREAM_LEN_MAX, "catalog streams fit the ledger");
_Static_assert(EV_NAME_LEN_MAX <= ENG_ENTITY_LEN_MAX, "catalog entities fit the ledger");
_Static_assert(EV_ENTITIES_MAX <= ENG_ENTITIES_MAX, "catalog entity lists fit the ledger");
_Static_assert(EV_PAYLOAD_BYTES_MAX <= ENG_PAYLOAD_BYTES_MAX, "catalog payloads fit the ledger");
_Static_assert((ENG_HEADS_SLOTS & (ENG_HEADS_SLOTS - 1)) == 0, "heads slots are a power of two");
_Static_assert(ENG_HEADS_FOLD_AT + ENG_BATCH_EVENTS_MAX < ENG_HEADS_SLOTS,
               "a batch always fits in the heads table after the writer's check");
_Static_assert(ENG_FOLD_EVENTS_MAX <= ENG_HEADS_FOLD_AT, "folds keep the heads table small");
_Static_assert(ENG_STREAM_LEN_MAX <= UINT8_MAX, "a head slot stores the length in a byte");

typedef struct {
    uint64_t version; /* 0: empty slot */
    uint64_t seq;     /* the last event of the stream */
    uint8_t len;
    char name[ENG_STREAM_LEN_MAX];
} eng_head_slot_t;

typedef struct {
    uint32_t slot;
    uint64_t version; /* what the slot held before */
    uint64_t seq;
} eng_head_undo_t;

typedef struct {
    eng_head_slot_t *slots; /* ENG_HEADS_SLOTS, open addressing */
    eng_head_slot_t *spare; /* ENG_HEADS_SLOTS: where a prune puts the survivors */
    uint32_t used;
    eng_head_undo_t *undo; /* ENG_BATCH_EVENTS_MAX */
    uint32_t undo_count;
} eng_heads_t;
_Static_assert(ENG_ENTITY_LEN_MAX <= ENG_STREAM_LEN_MAX, "entity keys fit ENG_INDEX_KEY_MAX");
_Static_assert(ENG_INDEX_KEY_MAX <= 511, "LMDB's default key size limit");

struct eng_ledger {
    MDB_env *env;
    MDB_dbi dbi_log, dbi_ids, dbi_meta;
    MDB_dbi dbi_hus, dbi_stock, dbi_articles, dbi_orders, dbi_looms, dbi_beams; /* rules.c */
    MDB_dbi dbi_children, dbi_links, dbi_records, dbi_changes;
    eng_config_t config;
    uint64_t map_bytes;
    MDB_env *index_env; /* NULL for a state-only ledger */
    MDB_dbi dbi_heads, dbi_streams, dbi_entities, dbi_index_meta;
    uint64_t index_map_bytes;

    /* The append queue, guarded by lock. */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t committed; /* broadcast with lock held when the head moves, and at close */
    uint64_t wakes;           /* eng_wake calls, under lock: a waiter returns when it moves */
    eng_append_req_t *queue_head, *queue_tail;
    uint32_t queue_events;
    bool closing;
    eng_stats_t stats;
    eng_head_t head; /* the last committed record; written by the writer under lock */

    /* The resize gates, one per environment (ENG_GATE_*): a map may only be resized while no
     * read transaction of its environment is open. Guarded by gate_lock. */
    pthread_mutex_t gate_lock;
    pthread_cond_t gate_wake;
    uint32_t readers_active[ENG_GATES];
    bool resizing[ENG_GATES];

    /* The folder (fold.c), guarded by lock. */
    pthread_t folder;
    bool folder_started;
    pthread_cond_t fold_wake;  /* the folder waits here for a tail to fold */
    pthread_cond_t fold_moved; /* broadcast when the watermark moves or a fold fails */
    uint64_t folded;           /* the watermark committed in the index environment */
    int fold_error;            /* the last fold's failure; FL_ECORRUPT stops folding for good */
    uint64_t fold_failures;    /* folds that failed so far */
    uint64_t fold_all_asked;   /* the writer waits for everything up to here to be folded */
    bool folder_stop;          /* closing: fold everything, then end */
    bool folder_asleep;        /* waiting with no tail: a commit must wake it to time idleness */

    pthread_t writer;
    bool writer_started;
    msgpack_sbuffer encode_buffer; /* writer-only, reused for every record */
    uint64_t folded_seq;           /* writer-only: the watermark the heads table is pruned to */
    eng_heads_t heads;             /* writer-only: stream versions written since the watermark */
    MDB_txn *index_txn;            /* writer-only: a batch's snapshot of the folded heads */
    MDB_txn *held_txn;             /* config.held: the write transaction never committed */
    int held_error;                /* config.held: why held_txn was dropped (every call fails) */
    pthread_t owner;               /* config.held: the only thread that uses the ledger */
    msgpack_zone rules_zone;       /* writer-only: payloads decoded for the rules */
    uint8_t *changes;              /* writer-only: the state keys the current event changed */
    size_t changes_len, changes_cap;
};

/* record.c */
int eng__record_encode(msgpack_sbuffer *buffer, const eng_event_t *event, uint64_t seq,
                       uint64_t stream_version, int64_t recorded_at_us,
                       const uint8_t prev_hash[ENG_HASH_BYTES]);
/* Splits a stored value into record bytes and hash, decodes, and checks the key. */
int eng__value_decode(const MDB_val *value, uint64_t seq, eng_record_t *out);
/* Whether a record names entity (in its entities, or as "actor:USER"). */
bool eng__record_names(const eng_record_t *record, const char *entity, size_t len);
bool eng__record_same_content(const eng_event_t *event, const eng_record_t *record);
void eng__hash(const uint8_t *bytes, size_t len, uint8_t out[ENG_HASH_BYTES]);

/* ledger.c */
int eng__err_from_mdb(int rc);
/* eng__err_from_mdb of a write's error, with a short write on a full filesystem as FL_ENOSPC. */
int eng__write_err(const eng_ledger_t *ledger, int rc);
int eng__read_begin(eng_ledger_t *ledger, MDB_txn **txn);
/* A read transaction of env (the log's or the index's) through its gate; eng__read_end ends
 * one (NULL: nothing). eng__gate_enter/leave count a reader that opens its own transactions
 * (mdb_env_copy2). */
int eng__read_begin_env(eng_ledger_t *ledger, MDB_env *env, MDB_txn **txn);
void eng__read_end(eng_ledger_t *ledger, MDB_txn *txn);
/* writer.c: a held ledger's append, run on its owner's thread. */
void eng__held_append(eng_ledger_t *ledger, eng_append_req_t *req);
/* ledger.c: a held ledger's write transaction, begun the first time. */
int eng__held_txn(eng_ledger_t *ledger, MDB_txn **txn);
void eng__gate_enter(eng_ledger_t *ledger, const MDB_env *env);
void eng__gate_leave(eng_ledger_t *ledger, const MDB_env *env);
/* Read snapshots of both environments, the index's first: its watermark is then at most the
 * log's head in the other snapshot. */
int eng__read_begin_index(eng_ledger_t *ledger, MDB_txn **index_txn, MDB_txn **txn);
void eng__read_end_index(eng_ledger_t *ledger, MDB_txn *index_txn, MDB_txn *txn);
/* Creates and opens the environment in dir (MDB_NOTLS | flags, dbs named databases, the config's
 * initial map and readers) and frees stale reader slots. Returns 0 or an FL_ code. */
int eng__env_open(eng_ledger_t *ledger, const char *dir, unsigned flags, unsigned dbs,
                  MDB_env **env, uint64_t *map_bytes);
/* Doubles the map of env (the log's or the index's), whose size is in *map_bytes. */
int eng__map_grow(eng_ledger_t *ledger, MDB_env *env, uint64_t *map_bytes);
/* A state-only ledger records the sequence its state stands at in the commit (writer). */
int eng__state_head_put(eng_ledger_t *ledger, MDB_txn *txn, uint64_t seq);

/* writer.c */
void *eng__writer_main(void *arg);

/* fold.c. The index environment: opened (and the old indexes of the log's environment dropped)
 * by eng__index_open, closed by eng__index_close; copied beside a copy of the log. */
int eng__index_open(eng_ledger_t *ledger);
void eng__index_close(eng_ledger_t *ledger);
int eng__index_copy(eng_ledger_t *ledger, const char *dir);
/* The folder thread: folds chunks of fold_events_max events as the log grows, the rest when the
 * writer has been idle fold_idle_ms, and everything when asked and at close. */
void *eng__folder_main(void *arg);
/* Writer: wakes the folder after a commit when a chunk is waiting; called with lock held. */
void eng__fold_kick(eng_ledger_t *ledger);
/* Writer: waits until everything committed is folded (the heads table is full). */
int eng__fold_wait_all(eng_ledger_t *ledger);
/* At open, before the threads start: folds until the watermark reaches the head. */
int eng__fold_all(eng_ledger_t *ledger);
/* At open: fills the heads table from the log after the watermark. */
int eng__heads_load(eng_ledger_t *ledger);
/* The watermark as seen by a transaction of the index environment (0 without one). */
int eng__folded_get(eng_ledger_t *ledger, MDB_txn *index_txn, uint64_t *out);

/* rules.c: checks event (to be seq) against the plant's state and, when it stands, writes its
 * effects in txn. Returns an LMDB code; a refusal sets *code (FL_E...) and detail. */
int eng__rules_apply(eng_ledger_t *ledger, MDB_txn *txn, const eng_event_t *event, uint64_t seq,
                     int *code, char *detail, size_t detail_size);

/* heads.c */
int eng__heads_init(eng_heads_t *heads);
void eng__heads_free(eng_heads_t *heads);
/* The version set since the watermark, 0 when the stream was not written since. */
uint64_t eng__heads_get(const eng_heads_t *heads, const char *name, size_t len);
void eng__heads_set(eng_heads_t *heads, const char *name, size_t len, uint64_t version,
                    uint64_t seq);
/* Undo marks: eng__heads_rollback(heads, mark) takes back every set since the mark. */
static inline uint32_t eng__heads_mark(const eng_heads_t *heads)
{
    return heads->undo_count;
}
void eng__heads_rollback(eng_heads_t *heads, uint32_t mark);
void eng__heads_commit(eng_heads_t *heads);
/* Drops the streams whose last event is at or before the watermark (now in the table). */
void eng__heads_prune(eng_heads_t *heads, uint64_t folded_seq);

/* read.c */
void eng__u64_to_be(uint64_t value, uint8_t out[8]);
uint64_t eng__u64_from_be(const uint8_t in[8]);
/* The key of the streams and entities indexes: name || 0x00 || big-endian number (a stream's
 * version, an entity's seq), so that a name's keys sort together, by number. */
size_t eng__index_key(const char *name, size_t len, uint64_t number,
                      uint8_t out[ENG_INDEX_KEY_MAX]);

#endif
