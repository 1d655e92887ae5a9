/*
 * projections_int.h: what the projector framework and its sinks share, and nothing outside
 * projections/ includes. A sink is a struct of function pointers (as Redis's rio); the
 * framework owns the thread, the batches, the back-off and the dead-letter policy, the sinks own
 * their connections and the translation of their library's errors.
 */
#ifndef PRJ_PROJECTIONS_INT_H
#define PRJ_PROJECTIONS_INT_H

#include <stddef.h>

#include "projections/projections.h"

/* One event of a batch, copied out of the map (an iterator's records do not outlive it). */
typedef struct {
    uint64_t seq;
    uint64_t stream_version;
    int64_t recorded_at_us;
    int64_t occurred_at_us;
    uint32_t schema_version;
    char id[37]; /* UUID text */
    char type[ENG_TYPE_LEN_MAX + 1];
    char stream[ENG_STREAM_LEN_MAX + 1];
    char actor_user[ENG_ACTOR_LEN_MAX + 1];
    char actor_role[ENG_ACTOR_LEN_MAX + 1];
    char actor_device[ENG_ACTOR_LEN_MAX + 1];
    size_t payload_at; /* the payload as JSON: batch->text + payload_at, NUL-terminated */
} prj_event_t;

/* The events after a checkpoint and the rows they changed, each row once (as it is now). */
typedef struct {
    uint64_t after_seq; /* the checkpoint the batch starts from */
    uint64_t last_seq;  /* the checkpoint once it is applied */
    prj_event_t *events;
    uint32_t events_count, events_cap;
    eng_row_t *rows;
    uint32_t rows_count, rows_cap;
    char *text;
    size_t text_len, text_cap;
} prj_batch_t;

/* Which copy a sink writes: the live one, or the shadow a rebuild fills. */
typedef enum { PRJ_TARGET_LIVE = 0, PRJ_TARGET_SHADOW = 1 } prj_target_t;

typedef struct {
    const char *kind;
    /* Connects if not connected, and makes sure the schema is there. FL_ESINK_DOWN. */
    int (*connect)(prj_sink_t *sink);
    void (*disconnect)(prj_sink_t *sink);
    /* The checkpoint of name in target (0 when none). */
    int (*checkpoint_get)(prj_sink_t *sink, prj_target_t target, const char *name, uint64_t *seq);
    /* Writes the batch and moves the checkpoint of name to batch->last_seq, atomically. */
    int (*apply)(prj_sink_t *sink, prj_target_t target, const char *name, const prj_batch_t *batch);
    /* Records a dead letter for seq, and moves the checkpoint to seq when advance, atomically. */
    int (*dead_letter)(prj_sink_t *sink, const char *name, uint64_t seq, const char *type,
                       const char *error, bool advance);
    /* Rebuild: an empty shadow; rows of one kind; a batch of events; the swap. */
    int (*shadow_begin)(prj_sink_t *sink);
    /* A second connection writing the shadow that another one began (a rebuild's log). */
    int (*shadow_join)(prj_sink_t *sink);
    int (*shadow_rows)(prj_sink_t *sink, const eng_row_t *rows, uint32_t count);
    int (*shadow_events)(prj_sink_t *sink, const prj_batch_t *batch);
    /* Ends what this connection's shadow writes left open (PostgreSQL's COPY), committed, then
     * makes the secondary indexes of what it wrote: the log (events) or the state's rows. */
    int (*shadow_end)(prj_sink_t *sink, bool events);
    int (*shadow_swap)(prj_sink_t *sink, const char *name);
    /* Another sink on the same server and tenant, with a connection of its own (a rebuild's). */
    int (*clone)(const prj_sink_t *sink, prj_sink_t **out);
    void (*destroy)(prj_sink_t *sink);
} prj_sink_ops_t;

/* The part of every sink the framework reads; each sink's struct starts with it. */
struct prj_sink {
    const prj_sink_ops_t *ops;
    char tenant[PRJ_TENANT_LEN_MAX + 1];
    char url[PRJ_URL_LEN_MAX + 1];
    char error[PRJ_ERROR_LEN_MAX]; /* the last failure, for the status */
    uint64_t reject_seq;           /* test hook */
    uint32_t io_timeout_ms;        /* each wait on the server; 0: PRJ_IO_TIMEOUT_S */
    /* Set by the projector that uses the sink (NULL otherwise, as for a rebuild's clone): true
     * once it is asked to stop, so that a wait on a server that answers nothing ends at once. */
    bool (*stopping)(void *data);
    void *stopping_data;
};

/* A deadline for one exchange with the server: fl_mono_ns() + timeout_ms (0: the sink's
 * io_timeout_ms). */
uint64_t prj__sink_deadline(const prj_sink_t *sink, uint32_t timeout_ms);

/* The sink's io_timeout_ms, its default applied. */
uint32_t prj__sink_timeout_ms(const prj_sink_t *sink);

/* Waits until fd is ready for events (POLLIN, POLLOUT), in slices of PRJ_WAIT_MS between which
 * it asks sink->stopping. 0 (*revents, which may be NULL, gets what is ready), FL_ETIMEDOUT at
 * deadline_ns, FL_ECANCELED when the projector stops, or the error of poll. */
int prj__sink_wait(const prj_sink_t *sink, int fd, short events, uint64_t deadline_ns,
                   short *revents);

/* ---- a sink's host name, looked up with a deadline (resolve.c) */

#define PRJ_HOST_LEN_MAX      253 /* a DNS name */
#define PRJ_RESOLVE_ADDRS_MAX 4   /* addresses of one name a sink tries, in the resolver's order */
#define PRJ_ADDR_LEN_MAX      46  /* INET6_ADDRSTRLEN */

typedef struct {
    char addrs[PRJ_RESOLVE_ADDRS_MAX][PRJ_ADDR_LEN_MAX];
    uint32_t count;
} prj_addrs_t;

/* Whether host is an IPv4 or IPv6 address (no lookup needed). */
bool prj__host_is_numeric(const char *host);

/* The addresses of host for port (a number or a service), numeric, in the resolver's order:
 * looked up on a thread of its own and awaited in slices of PRJ_WAIT_MS, between which it asks
 * sink->stopping, so that a resolver that answers nothing costs deadline_ns at most, and a stop
 * ends the wait at once. 0; FL_ESINK_DOWN when the name does not resolve, FL_ETIMEDOUT at
 * deadline_ns (why says which, with the name); FL_ECANCELED; FL_EINVAL (a name too long);
 * FL_ENOMEM. */
int prj__sink_resolve(const prj_sink_t *sink, const char *host, const char *port,
                      uint64_t deadline_ns, prj_addrs_t *out, char *why, size_t why_size);

/* A batch's buffers; prj__batch_free accepts a zeroed batch. */
void prj__batch_reset(prj_batch_t *batch, uint64_t after_seq);
void prj__batch_free(prj_batch_t *batch);
/* Copies the events (after_seq, last_seq] from the log, with their payloads as JSON. */
int prj__batch_events(prj_batch_t *batch, eng_ledger_t *ledger, uint64_t last_seq);
/* Adds the rows the journal lists for the batch's events, each row once. */
int prj__batch_rows(prj_batch_t *batch, eng_ledger_t *ledger);

/* The rebuild's side of the projector (projector.c): shows the state, asks the projector's
 * thread to catch the shadow up and swap it in, and waits for its answer. */
void prj__rebuilding(prj_projector_t *projector, bool on);
int prj__swap(prj_projector_t *projector, uint32_t timeout_ms);
prj_sink_t *prj__sink_of(prj_projector_t *projector);
eng_ledger_t *prj__ledger_of(prj_projector_t *projector);
const char *prj__name_of(prj_projector_t *projector);

/* A name made only of [a-z0-9_], 1..max bytes. */
bool prj__name_valid(const char *name, size_t max);

/* Text of a row's qualifiers shared by the sinks. */
const char *prj__grade_name(int grade);

#endif
