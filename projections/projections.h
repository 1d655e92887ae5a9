/*
 * projections: the ledger projected into PostgreSQL (for reporting and BI) and Redis (for live
 * dashboards), fed asynchronously from the log and rebuilt from it at any time.
 *
 * A projector follows one ledger into one sink. It sleeps in eng_wait until a commit moves the
 * head, takes the next events (at most batch_events_max) with the rows the plant's rules wrote
 * for them (the change journal, eng_changes), and hands them to its sink, which writes them and
 * the projector's checkpoint (the last sequence applied) in one transaction (PostgreSQL) or one
 * MULTI/EXEC (Redis). A crash therefore repeats nothing and loses nothing, and applying a batch
 * twice changes nothing (rows are upserted by id, events keyed by sequence).
 *
 * A sink that is down costs its projector only: it backs off and reconnects, the writer and the
 * other projectors never wait for it. A server that answers nothing (stopped, a lock held by
 * someone else, a network gone silent) is down within io_timeout_ms, not a hang. An event its sink
 * refuses goes to the sink's dead letters with the error, and the projector skips it or pauses
 * (prj_config_t.on_poison).
 *
 * Error codes are those of base/base.h; a sink's own failures are FL_ESINK_DOWN (retried) and
 * FL_ESINK_REJECTED (the event is a dead letter). No libpq or hiredis type appears here.
 */
#ifndef PRJ_PROJECTIONS_H
#define PRJ_PROJECTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/base.h"
#include "engine/engine.h"

/* Limits. */
#define PRJ_NAME_LEN_MAX           48    /* a projector's name, [a-z0-9_] */
#define PRJ_TENANT_LEN_MAX         48    /* a tenant's name, [a-z0-9_] */
#define PRJ_URL_LEN_MAX            512   /* a sink's connection URL */
#define PRJ_ERROR_LEN_MAX          256   /* the last error a sink reported */
#define PRJ_BATCH_EVENTS_MAX       4096  /* events per sink transaction */
#define PRJ_BATCH_EVENTS_DEFAULT   1000  /* when prj_config_t.batch_events_max is 0 */
#define PRJ_WAIT_MS                200   /* longest eng_wait, so that a stop is prompt */
#define PRJ_RETRY_MS_MIN           50    /* first back-off after a sink failure */
#define PRJ_RETRY_MS_MAX           5000  /* longest back-off */
#define PRJ_CONNECT_TIMEOUT_S      2     /* a connection attempt to a sink */
#define PRJ_IO_TIMEOUT_S           10    /* a sink's server silent this long is down */
#define PRJ_LAG_SAMPLES            65536 /* commit-to-visible samples kept for the percentiles */
#define PRJ_PAYLOAD_JSON_BYTES_MAX (8 * ENG_PAYLOAD_BYTES_MAX) /* one event's payload as JSON */

typedef struct prj_sink prj_sink_t;
typedef struct prj_projector prj_projector_t;

/* Where a sink keeps one tenant: PostgreSQL schema "fouta_<tenant>", Redis keys
 * "fl:<tenant>:<generation>:...". Errors: FL_EINVAL (bad URL or tenant name), FL_ENOMEM. The
 * connection is made by the projector (or prj_rebuild), not here, so a sink down at start is
 * not an error. */
int prj_pg_sink_open(prj_sink_t **out, const char *url, const char *tenant);
int prj_redis_sink_open(prj_sink_t **out, const char *url, const char *tenant);

/* Disconnects and frees. Accepts NULL. The projector using it must be stopped first. */
void prj_sink_close(prj_sink_t *sink);

/* "postgres" or "redis". */
const char *prj_sink_kind(const prj_sink_t *sink);

typedef enum {
    PRJ_POISON_SKIP = 0, /* record the dead letter and go on with the next event */
    PRJ_POISON_PAUSE,    /* record the dead letter and stop applying until prj_resume */
} prj_poison_t;

typedef struct {
    const char *name;          /* the checkpoint's name in the sink, [a-z0-9_] */
    uint32_t batch_events_max; /* 0: PRJ_BATCH_EVENTS_DEFAULT; at most PRJ_BATCH_EVENTS_MAX */
    prj_poison_t on_poison;
    uint32_t retry_ms_max;  /* 0: PRJ_RETRY_MS_MAX */
    uint32_t io_timeout_ms; /* 0: PRJ_IO_TIMEOUT_S; each wait on the sink's server */
} prj_config_t;

typedef enum {
    PRJ_STATE_STARTING = 0, /* not yet connected once */
    PRJ_STATE_RUNNING,      /* caught up (less than one batch behind) */
    PRJ_STATE_CATCHING_UP,  /* more than one batch behind */
    PRJ_STATE_FAULTED,      /* sink down (retrying), or paused on a dead letter */
    PRJ_STATE_REBUILDING,   /* running, and a rebuild is filling the shadow copy */
    PRJ_STATE_STOPPED,
} prj_state_t;

/* "starting", "running", "catching_up", "faulted", "rebuilding", "stopped". */
const char *prj_state_name(prj_state_t state);

typedef struct {
    char name[PRJ_NAME_LEN_MAX + 1];
    const char *sink; /* prj_sink_kind */
    prj_state_t state;
    bool paused;           /* on a dead letter, with PRJ_POISON_PAUSE */
    uint64_t checkpoint;   /* last seq applied in the sink */
    uint64_t head;         /* the ledger's head */
    uint64_t lag_events;   /* head - checkpoint */
    uint64_t lag_ms;       /* age of the oldest event not yet applied, 0 when caught up */
    uint64_t batches;      /* applied since start */
    uint64_t events;       /* applied since start */
    uint64_t retries;      /* sink failures retried since start */
    uint64_t dead_letters; /* since start */
    uint64_t rebuilds;     /* swaps done since start */
    double visible_ms_p50; /* recorded_at to visible in the sink, over the last samples */
    double visible_ms_p99;
    int last_error; /* 0, or the last failure's code */
    char last_error_text[PRJ_ERROR_LEN_MAX];
} prj_status_t;

/*
 * Starts a projector thread that follows ledger into sink. The sink is the projector's until
 * prj_stop. Errors: FL_EINVAL (bad name or limits), FL_ENOMEM, FL_EIO (thread).
 */
int prj_start(prj_projector_t **out, eng_ledger_t *ledger, prj_sink_t *sink,
              const prj_config_t *config);

/* Stops the thread and frees the projector; the sink stays open. Returns within about
 * PRJ_WAIT_MS even while the sink's server answers nothing: the sink's waits look at the stop
 * between slices of PRJ_WAIT_MS, a host name's lookup included.
 * Call before eng_close. Accepts NULL. */
void prj_stop(prj_projector_t *projector);

void prj_status(prj_projector_t *projector, prj_status_t *out);

/* Retries a projector paused on a dead letter (after the sink was repaired). */
void prj_resume(prj_projector_t *projector);

/* Waits until the projector's checkpoint reaches seq: 0, or FL_ETIMEDOUT. */
int prj_wait_checkpoint(prj_projector_t *projector, uint64_t seq, uint32_t timeout_ms);

/*
 * Rebuilds the projector's sink from the ledger while the projector keeps running: every row
 * (eng_rows) and the log into a shadow copy (PostgreSQL: schema "fouta_<tenant>__shadow" by
 * COPY; Redis: a new key generation), then the projector itself catches the shadow up to its
 * checkpoint and swaps it in atomically (one transaction renaming the schemas; one MULTI/EXEC
 * moving the active generation). Returns when the swap is done: 0, FL_ETIMEDOUT (the projector
 * could not swap within timeout_ms: its sink is down), FL_ESINK_DOWN, FL_ESINK_REJECTED,
 * FL_ENOMEM, or an engine read error. *events_out (may be NULL) gets the events copied.
 */
int prj_rebuild(prj_projector_t *projector, uint32_t timeout_ms, uint64_t *events_out);

/* The test hook: the sink refuses the event at this seq as if the server had (0: none). */
void prj_sink_reject_seq_for_tests(prj_sink_t *sink, uint64_t seq);

#endif
