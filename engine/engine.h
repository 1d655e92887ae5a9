/*
 * engine: the event log of one tenant (one plant), in its own LMDB environment.
 *
 * Appends go through a bounded queue to one writer thread, which takes everything pending
 * (bounded by events and bytes) into one write transaction and one durable commit, then tells
 * every caller its result. An acknowledgement therefore always means "on disk". Global
 * sequence numbers are assigned inside that transaction, so they are contiguous and a reader
 * never sees a gap. Each event id is indexed forever (idempotency), each stream keeps its
 * version (optimistic concurrency), and each record carries the hash of the one before it.
 *
 * Reads use LMDB read transactions and never wait for the writer. Records handed out by an
 * iterator point into the memory map and stay valid until the next call on that iterator or
 * its close.
 *
 * Error codes are those of base/base.h.
 */
#ifndef ENG_ENGINE_H
#define ENG_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/base.h"

/* Limits. The record encoding and the HTTP layer rely on them. */
#define ENG_TYPE_LEN_MAX       64
#define ENG_STREAM_LEN_MAX     128
#define ENG_ENTITY_LEN_MAX     128
#define ENG_ACTOR_LEN_MAX      128
#define ENG_ENTITIES_MAX       32
#define ENG_PAYLOAD_BYTES_MAX  (256 * 1024)
#define ENG_REQUEST_EVENTS_MAX 1000               /* events in one append request */
#define ENG_BATCH_EVENTS_MAX   4096               /* events in one write transaction */
#define ENG_BATCH_BYTES_MAX    (16 * 1024 * 1024) /* payload bytes in one write transaction */
#define ENG_QUEUE_EVENTS_MAX   65536              /* events waiting for the writer */

#define ENG_DETAIL_LEN_MAX 200 /* why an event was refused, naming the rule and the entity */

#define ENG_HASH_BYTES 32
#define ENG_ID_BYTES   16

#define ENG_FOLD_IDLE_NEVER UINT32_MAX /* fold only at fold_events_max and at close */

/* Expected stream version of an append. A value >= 1 means "exactly this version". */
#define ENG_EXPECT_ANY       (-1)
#define ENG_EXPECT_NO_STREAM 0

_Static_assert(ENG_REQUEST_EVENTS_MAX <= ENG_BATCH_EVENTS_MAX,
               "a whole request must fit in one write transaction");
_Static_assert(ENG_PAYLOAD_BYTES_MAX <= ENG_BATCH_BYTES_MAX,
               "a single event must fit in one write transaction");

typedef struct eng_ledger eng_ledger_t;
typedef struct eng_iter eng_iter_t;

typedef struct {
    const char *dir; /* environment directory, created if missing (read by eng_open only) */
    uint64_t map_bytes_initial; /* 0: 64 MiB. The map doubles by itself when full. */
    uint64_t map_bytes_max;     /* 0: 1 TiB. Past it appends fail with FL_ELEDGER_FULL. */
    uint32_t queue_events_max;  /* 0: ENG_QUEUE_EVENTS_MAX */
    uint32_t batch_events_max;  /* 0: ENG_BATCH_EVENTS_MAX */
    uint32_t readers_max;       /* 0: 512 concurrent read transactions */
    uint32_t fold_events_max;   /* 0: 4096 events appended before the indexes are folded */
    uint32_t fold_idle_ms;      /* 0: 20 ms idle before folding the rest; ENG_FOLD_IDLE_NEVER */
    int rules;                  /* ENG_RULES_NONE (a generic log) or ENG_RULES_PLANT */
    bool scratch;               /* no fsync: a throwaway ledger (a replay, a rebuild) whose
                                 * loss costs nothing but a rerun; never for a plant's log */
    bool state_only;            /* with ENG_RULES_PLANT: keep the plant's state and its sequence
                                 * only, no log (a replay's target, a snapshot); reads of the
                                 * log, streams and entities find nothing, eng_head gives the
                                 * sequence the state stands at (no hash) */
    bool held;                  /* with state_only: nothing is ever committed. Appends run on
                                 * the caller's thread (the callback before eng_append_submit
                                 * returns) into one write transaction, which every read of the
                                 * ledger sees and eng_close drops: the directory's state is left
                                 * as it was at open. A state as of a sequence replays over a
                                 * snapshot this way without copying it. Such a ledger is used
                                 * by the thread that opened it only; its appends, if the write
                                 * transaction outgrows the map, fail with FL_ELEDGER_FULL. */
} eng_config_t;

/* A plant ledger checks every event against the catalog and the plant's rules, and keeps the
 * plant's state beside the log (rules.c); a generic log stores opaque payloads. */
#define ENG_RULES_NONE  0
#define ENG_RULES_PLANT 1

/* One event to append. Strings are NUL-terminated and must stay valid until the request's
 * callback has run. The ledger adds sequence, stream version, recorded_at and the hashes. */
typedef struct {
    uint8_t id[ENG_ID_BYTES];               /* made by the device: a retry carries the same id */
    const char *type;                       /* catalog type name, 1..ENG_TYPE_LEN_MAX bytes */
    uint32_t schema_version;                /* >= 1 */
    const char *stream;                     /* "hu-…", "of-…", 1..ENG_STREAM_LEN_MAX bytes */
    int64_t expected_version;               /* ENG_EXPECT_ANY, ENG_EXPECT_NO_STREAM or N >= 1 */
    int64_t occurred_at_us;                 /* device clock */
    const char *actor_user;                 /* may be "" */
    const char *actor_role;                 /* may be "" */
    const char *actor_device;               /* may be "" */
    uint8_t correlation_id[ENG_ID_BYTES];   /* all zero: none */
    uint8_t causation_id[ENG_ID_BYTES];     /* all zero: none */
    const char *entities[ENG_ENTITIES_MAX]; /* secondary index keys, "hu-…", "loom-…" */
    uint32_t entities_count;
    const uint8_t *payload; /* opaque to the engine (msgpack from the catalog) */
    uint32_t payload_len;
    int64_t recorded_at_us; /* 0: the commit's time. Set only by an import that reproduces an
                             * exported log record for record (never earlier than the head) */
} eng_event_t;

/* Where an event stands in the log. */
typedef struct {
    uint64_t seq;
    uint64_t stream_version;
    uint8_t hash[ENG_HASH_BYTES];
    bool duplicate; /* true: this id was already recorded with the same content */
} eng_position_t;

/* Flags of a request. */
#define ENG_APPEND_ATOMIC 1u /* all events of the request are written, or none */

typedef struct eng_append_req eng_append_req_t;
typedef void (*eng_append_cb)(eng_append_req_t *req, void *data);

/*
 * An append request, allocated by the caller and untouched by it until the callback.
 * On return the callback finds in status 0, or the code of the first failure; in
 * positions[i] the outcome of each event; in results[i] each event's own status (0, or the
 * code that refused it; FL_EABORTED for the innocent members of a failed atomic group).
 * On FL_ECONFLICT_VERSION, actual_version holds the stream's version at the failing event.
 */
struct eng_append_req {
    const eng_event_t *events;
    uint32_t count;
    uint32_t flags;
    eng_position_t *positions; /* count entries, filled by the writer */
    int *results;              /* count entries, filled by the writer */
    int status;
    uint32_t failed_index;
    uint64_t actual_version;
    char detail[ENG_DETAIL_LEN_MAX]; /* for a broken plant rule: the rule and the entity */
    eng_append_cb cb; /* runs on the writer thread: it must be quick and not append */
    void *data;
    eng_append_req_t *next_; /* private: queue link */
    uint64_t bytes_;         /* private: payload bytes of the request */
};

/* A record as read back from the log. Pointers point into the map (see the file comment). */
typedef struct {
    const char *ptr;
    uint32_t len;
} eng_str_t;

typedef struct {
    uint64_t seq;
    uint64_t stream_version;
    int64_t recorded_at_us;
    uint8_t prev_hash[ENG_HASH_BYTES];
    uint8_t hash[ENG_HASH_BYTES];
    uint8_t id[ENG_ID_BYTES];
    eng_str_t type;
    uint32_t schema_version;
    eng_str_t stream;
    int64_t occurred_at_us;
    eng_str_t actor_user;
    eng_str_t actor_role;
    eng_str_t actor_device;
    uint8_t correlation_id[ENG_ID_BYTES];
    uint8_t causation_id[ENG_ID_BYTES];
    uint32_t entities_count;
    eng_str_t entities[ENG_ENTITIES_MAX];
    const uint8_t *payload;
    uint32_t payload_len;
    const uint8_t *raw; /* the stored bytes, hash excluded */
    uint32_t raw_len;
} eng_record_t;

typedef struct {
    uint64_t seq; /* 0: empty ledger */
    uint8_t hash[ENG_HASH_BYTES];
    int64_t recorded_at_us;
} eng_head_t;

typedef struct {
    uint64_t commits;
    uint64_t events_appended;
    uint64_t events_duplicate;
    uint64_t requests_failed;
    uint64_t folds;
    uint64_t folded_seq; /* streams and entities are indexed up to here; reads scan the rest */
    int fold_error;      /* 0, or why folding stopped (reads still answer, from the log) */
    uint64_t map_resizes;
    uint64_t map_bytes;
    uint64_t commit_ns_total;
    uint64_t commit_ns_max;
    uint64_t apply_ns_total; /* of commit_ns_total: the work before mdb_txn_commit (checks,
                              * rules, writes), the rest being the commit and its fsync */
    uint32_t queue_events;   /* waiting now */
} eng_stats_t;

/*
 * Opens (creating if needed) the ledger in config->dir and starts its writer thread.
 * Errors: FL_EINVAL, FL_ENOMEM, FL_EACCES, FL_EROFS, FL_ENOSPC, FL_EIO, FL_EFORMAT (written
 * by a newer format), FL_ECORRUPT (the last record does not decode).
 */
int eng_open(eng_ledger_t **out, const eng_config_t *config);

/* Stops accepting appends, finishes every queued request, stops the writer and closes the
 * environment. Accepts NULL. */
void eng_close(eng_ledger_t *ledger);

/*
 * Queues a request for the writer. Returns 0 (the callback will run exactly once) or, without
 * queuing and without calling back: FL_EINVAL (malformed request or event: the failing index is
 * in req->failed_index), FL_ETOOBIG (request over its limits), FL_EBUSY (queue full),
 * FL_ECANCELED (closing).
 */
int eng_append_submit(eng_ledger_t *ledger, eng_append_req_t *req);

/*
 * Appends and waits for the durable outcome. positions and results (count entries each, results
 * may be NULL) are filled as in eng_append_req_t. Returns the request's status: 0,
 * FL_ECONFLICT_VERSION, FL_ECONFLICT_ID, FL_EABORTED never (it is per event), FL_ENOSPC,
 * FL_ELEDGER_FULL, FL_EIO, FL_EBUSY, FL_ECANCELED, FL_EINVAL, FL_ETOOBIG.
 */
int eng_append(eng_ledger_t *ledger, const eng_event_t *events, uint32_t count, uint32_t flags,
               eng_position_t *positions, int *results);

/* The last committed record's sequence and hash (zero on an empty ledger). */
void eng_head(eng_ledger_t *ledger, eng_head_t *out);

void eng_stats(eng_ledger_t *ledger, eng_stats_t *out);

/* Iterators. Each holds an LMDB read snapshot taken at open: records committed later are not
 * seen. Open errors: FL_ENOMEM, FL_EBUSY (too many readers), FL_EIO, FL_EINVAL. */
#define ENG_FORWARD  1
#define ENG_BACKWARD (-1)

/* The log by global sequence, starting at from_seq (0 with ENG_BACKWARD: from the head). */
int eng_iter_log(eng_ledger_t *ledger, uint64_t from_seq, int direction, eng_iter_t **out);

/* One stream, from from_version (>= 1) upwards. */
int eng_iter_stream(eng_ledger_t *ledger, const char *stream, uint64_t from_version,
                    eng_iter_t **out);

/* Every event that named entity in its entities (or as its actor, "actor:USER"), by sequence,
 * starting at from_seq. */
int eng_iter_entity(eng_ledger_t *ledger, const char *entity, uint64_t from_seq, int direction,
                    eng_iter_t **out);

/* Next record: 0 and *out filled, FL_EEOF at the end, FL_ECORRUPT when a stored record does
 * not decode or does not match its key (out->seq names it). */
int eng_iter_next(eng_iter_t *iter, eng_record_t *out);

/* Accepts NULL. */
void eng_iter_close(eng_iter_t *iter);

/* Reads one record by sequence into out (valid until eng_iter_close of *iter_out, which the
 * caller closes). FL_ENOENT when seq is not in the log. */
int eng_read(eng_ledger_t *ledger, uint64_t seq, eng_record_t *out, eng_iter_t **iter_out);

/* The position an event id was recorded at. FL_ENOENT when unknown. */
int eng_lookup_id(eng_ledger_t *ledger, const uint8_t id[ENG_ID_BYTES], eng_position_t *out);

/*
 * Walks the whole log, recomputing each record's hash and the chain, checking sequences are
 * contiguous and each record decodes. Returns 0 and *checked = records checked, or FL_ECORRUPT
 * with *bad_seq = the first record that fails.
 */
int eng_verify(eng_ledger_t *ledger, uint64_t *checked, uint64_t *bad_seq);

/* The plant's state (a ledger opened with ENG_RULES_PLANT). Ids are without their kind prefix
 * ("R0001" for hu-R0001). */
typedef struct {
    char status[16]; /* available, on hold, released, rejected, consumed, shipped */
    char unit[8];
    char item[72];
    char location[72];
    char parent[72]; /* "" when in no container */
    int64_t qty_milli;
    int grade; /* 0 none, 1 first, 2 second */
    uint64_t created_seq;
    char holder[136];  /* "ship:<id>", "to:<location>" (in transit), "sublot:<id>", or "" */
    int64_t out_milli; /* issued to the floor and not returned (yarn) */
} eng_hu_view_t;

/* A handling unit now. FL_ENOENT when unknown. */
int eng_hu_get(eng_ledger_t *ledger, const char *hu_id, eng_hu_view_t *out);

/* A unit and everything it contains, depth first: cb gets the unit at depth 0, then its
 * contents at depth 1, theirs at 2... Return non-zero from cb to stop. FL_ENOENT when unknown. */
typedef int (*eng_hu_cb)(const char *hu_id, const eng_hu_view_t *hu, uint32_t depth, void *data);
int eng_hu_contents(eng_ledger_t *ledger, const char *hu_id, eng_hu_cb cb, void *data);

/* Stock balances now, one row per (item, location, status, grade) holding something. */
typedef struct {
    char item[72];
    char location[72];
    char status[16];
    int grade; /* 0 none, 1 first, 2 second */
    int64_t qty_milli;
} eng_stock_row_t;

/* NULL (or grade -1) matches anything. */
typedef struct {
    const char *item;
    const char *location;
    const char *status;
    int grade;
} eng_stock_filter_t;

typedef int (*eng_stock_cb)(const eng_stock_row_t *row, void *data);
/* Rows in (item, location, status, grade) order; return non-zero from cb to stop. FL_EINVAL
 * for an unknown status. */
int eng_stock_each(eng_ledger_t *ledger, const eng_stock_filter_t *filter, eng_stock_cb cb,
                   void *data);

/* A production order: state, plan and what was declared against it. */
typedef struct {
    char state[16]; /* created, released, in progress, closed, cancelled */
    char item[72];
    char unit[8];
    int64_t planned_milli;
    int64_t declared_milli;
} eng_order_view_t;
int eng_order_get(eng_ledger_t *ledger, const char *of_id, eng_order_view_t *out);

/* A loom on the board: running or stopped (why, since when), its order, its beams. */
typedef struct {
    char loom_id[72];
    bool stopped;
    char stop_class[16];
    char stop_code[72];
    uint64_t since_seq; /* the event that last stopped or restarted it, 0 when never */
    char order[72];     /* the order in progress, "" when none */
    bool first_piece_passed;
    char beams[2][72];     /* [0] ground, [1] pile; "" when none */
    char operators[4][72]; /* the weavers in charge, "" in the free places */
    int64_t beam_remaining_milli[2];
} eng_loom_view_t;
int eng_loom_get(eng_ledger_t *ledger, const char *loom_id, eng_loom_view_t *out);
typedef int (*eng_loom_cb)(const eng_loom_view_t *loom, void *data);
int eng_loom_each(eng_ledger_t *ledger, eng_loom_cb cb, void *data);

/* A warp beam: where it is mounted and the metres left on it (thousandths of m). */
typedef struct {
    char item[72];
    char loom[72];    /* "" when not mounted */
    char position[8]; /* ground, pile */
    int64_t remaining_milli;
} eng_beam_view_t;
int eng_beam_get(eng_ledger_t *ledger, const char *beam_id, eng_beam_view_t *out);

/* The state of an intervention ("int"), a non-conformity ("nc"), a count ("count"), a shipment
 * ("ship") or a unit's label ("label"). */
typedef struct {
    char state[32];
    char subject[72]; /* the loom of an intervention, the customer of a shipment */
    uint32_t count;   /* units loaded, labels printed, locations counted */
    uint64_t since_seq;
} eng_record_view_t;
int eng_record_get(eng_ledger_t *ledger, const char *kind, const char *id, eng_record_view_t *out);

/* A subcontract lot and its balance: out = sent - good - rejected - lost - allowance. */
typedef struct {
    char state[8]; /* open, closed */
    char sub[72];
    char item[72];
    char unit[8];
    char location[72];
    int64_t sent_milli, good_milli, rejected_milli, lost_milli, allowance_milli, out_milli;
} eng_sublot_view_t;
int eng_sublot_get(eng_ledger_t *ledger, const char *sublot_id, eng_sublot_view_t *out);

/* The balance of (item, location, status) now, in thousandths; 0 when none. status is one of
 * eng_hu_view_t's. Returns 0 or an error (FL_EINVAL for an unknown status). */
int eng_stock_get(eng_ledger_t *ledger, const char *item, const char *location, const char *status,
                  int64_t *qty_milli);

/* One genealogy edge met while walking: `from` went into `to` (a roll into its bundles, a bundle
 * into its carton, a loom, an order or a beam into the roll woven with it, a yarn lot into a
 * beam or an order). */
typedef struct {
    char from[136];
    char to[136];
    char kind[12];  /* "cut", "packed_in", "woven_on", "for_order", "warp", "yarn", ... */
    uint64_t seq;   /* the event that made the link */
    uint32_t depth; /* 1 for the start's own links */
} eng_link_t;

/* Return non-zero to stop the walk. */
typedef int (*eng_link_cb)(const eng_link_t *link, void *data);

#define ENG_GENEALOGY_NODES_MAX 2048

/*
 * Walks the genealogy from an entity ("hu-P1", "loom-L012", "yarn lot hu-Y7"), breadth first,
 * down (ENG_FORWARD: what it went into, up to the pallets that hold it) or up (ENG_BACKWARD:
 * what it was made of, down to the yarn lots and looms), to at most depth_max levels and
 * nodes_max entities (capped at ENG_GENEALOGY_NODES_MAX), each entity once. Returns 0,
 * FL_ETOOBIG when nodes_max stopped the walk early, FL_EINVAL, or a read error.
 */
int eng_genealogy(eng_ledger_t *ledger, const char *entity, int direction, uint32_t depth_max,
                  uint32_t nodes_max, eng_link_cb cb, void *data);

/* A consistent, compacted copy of the whole ledger into dir (created; it must hold no ledger),
 * taken from one read snapshot while appends go on: a backup, or a replay snapshot. */
int eng_copy(eng_ledger_t *ledger, const char *dir);

/* Waits until the log's head passes after_seq (woken by the commit itself, not by polling),
 * at most timeout_ms; *head_seq gets the head. Returns 0, FL_ETIMEDOUT, or FL_ECANCELED once
 * the ledger is closing (stop every waiter before eng_close returns). */
int eng_wait(eng_ledger_t *ledger, uint64_t after_seq, uint32_t timeout_ms, uint64_t *head_seq);

/* Wakes every eng_wait now: they return 0 even when the head has not moved (check *head_seq).
 * For a follower asked to stop, pause or swap while it sleeps. */
void eng_wake(eng_ledger_t *ledger);

/* ---- The change journal: what each event changed in the plant's state, for projections.
 * Every accepted event with a state effect records the keys of the rows it wrote, in the same
 * transaction; a reader gets each row as it is now (a projection that applies them in order
 * converges on the ledger's state, and applying one twice does no harm). */
typedef enum {
    ENG_ROW_HU = 1,  /* a handling unit (hu) */
    ENG_ROW_STOCK,   /* a stock balance (stock); gone when it reaches zero */
    ENG_ROW_ORDER,   /* a production order (order) */
    ENG_ROW_LOOM,    /* a loom (loom) */
    ENG_ROW_BEAM,    /* a beam (beam) */
    ENG_ROW_RECORD,  /* an intervention, NC, count, shipment or label (record, id "int-I1") */
    ENG_ROW_SUBLOT,  /* a subcontract lot (sublot) */
    ENG_ROW_LINK,    /* a genealogy edge (link), never removed */
    ENG_ROW_ARTICLE, /* an article's spec as the rules use it (article) */
    ENG_ROW_KINDS
} eng_row_kind_t;

typedef struct {
    int64_t cutting_tolerance_permille;
    int64_t overproduction_allowed_permille;
    bool first_piece_required;
} eng_article_view_t;

typedef struct {
    eng_row_kind_t kind;
    bool present;      /* false when the row no longer exists */
    char id[176];      /* the row's id: unit, order, loom, beam, item id; "kind-id" of a record */
    char kind_name[8]; /* of a record: int, nc, count, ship, label */
    union {
        eng_hu_view_t hu;
        eng_stock_row_t stock;
        eng_order_view_t order;
        eng_loom_view_t loom;
        eng_beam_view_t beam;
        eng_record_view_t record;
        eng_sublot_view_t sublot;
        eng_link_t link;
        eng_article_view_t article;
    };
} eng_row_t;

/* Return non-zero to stop. */
typedef int (*eng_change_cb)(uint64_t seq, const eng_row_t *row, void *data);

/* The rows changed by the events after after_seq, up to events_max events, oldest first, each
 * row as it is now; *last_seq gets the seq of the last event given (after_seq when none). One
 * read transaction. */
int eng_changes(eng_ledger_t *ledger, uint64_t after_seq, uint32_t events_max, eng_change_cb cb,
                void *data, uint64_t *last_seq);

/* The same for the events after after_seq up to until_seq included (a projector's batch). */
int eng_changes_range(eng_ledger_t *ledger, uint64_t after_seq, uint64_t until_seq,
                      eng_change_cb cb, void *data);

/* Every row of one kind as it is now (to rebuild a projection), in key order; seq is 0. One
 * read transaction; *at_seq gets the head it reflects. */
int eng_rows(eng_ledger_t *ledger, eng_row_kind_t kind, eng_change_cb cb, void *data,
             uint64_t *at_seq);

/* Fills out from a catalog event validated by events/ (ev_event_t) and the actor that posted
 * it, for eng_append. out points into event and actor, which must outlive the append. */
struct ev_event;
struct ev_actor;
void eng_event_from_catalog(const struct ev_event *event, const struct ev_actor *actor,
                            eng_event_t *out);

/* Decodes stored record bytes (hash excluded). FL_ECORRUPT when they are not a record. */
int eng_record_decode(const uint8_t *raw, uint32_t len, eng_record_t *out);

#endif
