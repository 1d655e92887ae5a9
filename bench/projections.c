/*
 * bench/projections.c: how far behind the ledger its projections are, and how fast a
 * projection is rebuilt (bench/run projections; bench/projections.sh starts PostgreSQL 15 and
 * Redis for it and passes their addresses).
 *
 * One run, one plant ledger (durable, as foutad keeps it), fed by the seeded simulator:
 *   1. A month of the plant (LOOMS looms x 30 days of fl_sim's events, through the catalog and
 *      eng_append in batches of 1,000) is appended at full speed.
 *   2. The PostgreSQL projection is rebuilt from it (prj_rebuild: every row and every event by
 *      COPY into the shadow schema, then the swap), timed; then the Redis one. The projectors
 *      are started at the head as if caught up (their checkpoint is written into the sink
 *      first), so that nothing else runs while the rebuild is timed; the rebuild replaces the
 *      whole projection anyway.
 *   3. The peer: the tables the rebuild filled are read back as COPY text (untimed), and
 *      PostgreSQL's own COPY of those very rows into a fresh copy of the same tables (same
 *      indexes) is timed on one connection - what the rebuild would cost if producing the rows
 *      were free. Then once more into tables whose indexes are made after the rows (from the
 *      projection's own definitions): not the peer, a pointer to what a rebuild could do.
 *   4. The lag: the simulator's next days are appended at RATE events/s for BENCH_SECONDS, by a
 *      paced producer (a batch of 100 events every 10 ms at 10,000 events/s; a late batch goes
 *      at once, and the rate actually achieved is reported). One reader connection per sink
 *      polls the projector's checkpoint (PostgreSQL: its row in projector_checkpoints; Redis:
 *      its checkpoint key) every POLL_US and notes when each value first appears. A batch's lag
 *      is the time from eng_append's durable return to the first poll that sees the batch's
 *      last seq - the checkpoint commits with the batch, so that is when a reader can see it.
 *      The projectors' own commit-to-visible percentiles (from recorded_at, taken before the
 *      ledger's commit, to the sink's commit) are printed next to it.
 * Prints a table, then "RESULT key=value ...". Nothing is asserted about time.
 */
#define _POSIX_C_SOURCE 200809L
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"
#include "clients/sim/sim.h"
#include "events/events.h"
#include "projections/projections.h"

#define TENANT               "bench"
#define SCHEMA               "fouta_" TENANT
#define PEER_SCHEMA          "copy_peer"
#define SIM_SEED             1
#define LOOMS_DEFAULT        100
#define MONTH_DAYS           30
#define RATE_DEFAULT         10000
#define SECONDS_MAX          600
#define BULK_BATCH_EVENTS    1000 /* the month's append requests */
#define PACED_BATCH_EVENTS   100  /* the lag phase's append requests */
#define BATCH_EVENTS_MAX     BULK_BATCH_EVENTS
#define POLL_US              1000 /* a reader's pause between two polls */
#define POLLS_MAX            (1u << 20)
#define CATCH_UP_MS          120000
#define REBUILD_TIMEOUT_MS   600000
#define COPY_CHUNK_BYTES     (256 * 1024)
#define PEER_TABLES_MAX      32
#define CONNECT_TRIES        100
#define DAY_US               (86400LL * 1000000)
#define LAG_TARGET_MS        100.0
#define REBUILD_TARGET_PER_S 200000.0
#define RATIO_VS_COPY_TARGET 0.5

_Static_assert(BATCH_EVENTS_MAX <= ENG_REQUEST_EVENTS_MAX, "a batch is one append request");
_Static_assert(PACED_BATCH_EVENTS <= BATCH_EVENTS_MAX, "the paced batches fit the buffers");

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_projections: %s: %s\n", what, detail);
    exit(1);
}

static void check(int rc, const char *what)
{
    if (rc != 0)
        die(what, fl_strerror(rc));
}

static double seconds_since(uint64_t start_ns)
{
    return (double)(fl_mono_ns() - start_ns) / 1e9;
}

static void sleep_until_ns(uint64_t at_ns)
{
    struct timespec ts = {.tv_sec = (time_t)(at_ns / 1000000000u),
                          .tv_nsec = (long)(at_ns % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
    }
}

static void sleep_ms(uint32_t ms)
{
    sleep_until_ns(fl_mono_ns() + (uint64_t)ms * 1000000u);
}

/* ---- the feed: the simulator's events, decoded through the catalog and appended in batches */

typedef struct {
    char user[64], device[72];
    ev_actor_t actor;
} actor_copy_t;

typedef struct {
    sim_t *sim;
    eng_ledger_t *ledger;
    sim_event_t next; /* read ahead, valid until the next sim_next */
    bool have_next, eof;
    ev_event_t *decoded;
    actor_copy_t *actors;
    eng_event_t *events;
    eng_position_t *positions;
    int *results;
    uint32_t count;
    uint64_t refused;
} feed_t;

static void feed_open(feed_t *feed, eng_ledger_t *ledger, uint32_t looms, uint32_t days)
{
    sim_config_t config = {.seed = SIM_SEED, .looms = looms, .days = days};
    *feed = (feed_t){.ledger = ledger};
    check(sim_open(&feed->sim, &config), "the simulator");
    feed->decoded = calloc(BATCH_EVENTS_MAX, sizeof(*feed->decoded));
    feed->actors = calloc(BATCH_EVENTS_MAX, sizeof(*feed->actors));
    feed->events = calloc(BATCH_EVENTS_MAX, sizeof(*feed->events));
    feed->positions = calloc(BATCH_EVENTS_MAX, sizeof(*feed->positions));
    feed->results = calloc(BATCH_EVENTS_MAX, sizeof(*feed->results));
    if (feed->decoded == NULL || feed->actors == NULL || feed->events == NULL ||
        feed->positions == NULL || feed->results == NULL)
        check(FL_ENOMEM, "the feed's buffers");
}

static void feed_close(feed_t *feed)
{
    sim_close(feed->sim);
    free(feed->decoded);
    free(feed->actors);
    free(feed->events);
    free(feed->positions);
    free(feed->results);
}

/* Decodes the read-ahead event into the batch as its role posts it. */
static void feed_decode(feed_t *feed)
{
    const sim_event_t *event = &feed->next;
    uint32_t i = feed->count;
    actor_copy_t *copy = &feed->actors[i];
    snprintf(copy->user, sizeof(copy->user), "%s", event->user);
    snprintf(copy->device, sizeof(copy->device), "%s", event->device);
    copy->actor = (ev_actor_t){.user = copy->user,
                               .role = ev_role_parse(event->role, strlen(event->role)),
                               .device = copy->device};
    ev_error_t error;
    if (ev_decode_json(event->json, event->json_len, &copy->actor, &feed->decoded[i], &error) != 0)
        die(event->type, error.message);
    eng_event_from_catalog(&feed->decoded[i], &copy->actor, &feed->events[i]);
    feed->count++;
}

/* Fills the batch with up to max events that occurred before until_us; returns the count. */
static uint32_t feed_fill(feed_t *feed, uint32_t max, int64_t until_us)
{
    while (feed->count < max && !feed->eof) {
        if (!feed->have_next) {
            int rc = sim_next(feed->sim, &feed->next);
            if (rc == FL_EEOF) {
                feed->eof = true;
                break;
            }
            check(rc, "the simulator");
            feed->have_next = true;
        }
        if (feed->next.occurred_at_us >= until_us)
            break;
        feed_decode(feed);
        feed->have_next = false;
    }
    return feed->count;
}

/* Appends the batch (durably); returns the ledger's head after it. */
static uint64_t feed_flush(feed_t *feed)
{
    if (feed->count > 0) {
        check(
            eng_append(feed->ledger, feed->events, feed->count, 0, feed->positions, feed->results),
            "append");
        for (uint32_t i = 0; i < feed->count; i++)
            if (feed->results[i] != 0 && feed->refused++ == 0)
                fprintf(stderr, "bench_projections: %s refused: %s\n", feed->events[i].type,
                        fl_strerror(feed->results[i]));
        feed->count = 0;
    }
    eng_head_t head;
    eng_head(feed->ledger, &head);
    return head.seq;
}

/* ---- the sinks seen from outside: a libpq and a hiredis connection of the benchmark's own */

static void quiet(void *data, const char *message)
{
    (void)data;
    (void)message; /* "schema does not exist, skipping", "drop cascades to..." */
}

static PGconn *pg_connect(const char *url)
{
    PGconn *conn = PQconnectdb(url);
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
        die("PostgreSQL", conn != NULL ? PQerrorMessage(conn) : "out of memory");
    PQsetNoticeProcessor(conn, quiet, NULL);
    return conn;
}

static void pg_exec(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        die(sql, PQresultErrorMessage(res));
    PQclear(res);
}

static redisContext *redis_connect(const char *host, int port)
{
    redisContext *conn = redisConnect(host, port);
    if (conn == NULL || conn->err != 0)
        die("Redis", conn != NULL ? conn->errstr : "out of memory");
    return conn;
}

/* A command whose answer must not be an error; returns the reply's integer or string value. */
static uint64_t redis_call(redisContext *conn, const char *format, const char *key,
                           const char *value)
{
    redisReply *reply = redisCommand(conn, format, key, value);
    if (reply == NULL)
        die("Redis", conn->errstr);
    if (reply->type == REDIS_REPLY_ERROR)
        die(format, reply->str);
    uint64_t out = reply->type == REDIS_REPLY_STRING    ? strtoull(reply->str, NULL, 10)
                   : reply->type == REDIS_REPLY_INTEGER ? (uint64_t)reply->integer
                                                        : 0;
    freeReplyObject(reply);
    return out;
}

/* ---- the projectors */

typedef struct {
    const char *pg_url;
    const char *redis_host;
    int redis_port;
    char redis_url[PRJ_URL_LEN_MAX];
    prj_sink_t *pg_sink, *redis_sink;
    prj_projector_t *pg, *redis;
} sinks_t;

static prj_projector_t *projector_start(eng_ledger_t *ledger, prj_sink_t *sink, const char *name)
{
    prj_config_t config = {.name = name, .on_poison = PRJ_POISON_SKIP};
    prj_projector_t *projector;
    check(prj_start(&projector, ledger, sink, &config), name);
    return projector;
}

static void running(prj_projector_t *projector)
{
    prj_status_t status;
    for (int tries = 0; tries < CONNECT_TRIES * 10; tries++) {
        prj_status(projector, &status);
        if (status.state == PRJ_STATE_RUNNING)
            return;
        sleep_ms(10);
    }
    die(status.name, status.last_error_text[0] ? status.last_error_text : "did not connect");
}

/* The PostgreSQL schema, made by a first connection of the projector on the empty ledger. */
static void pg_schema_make(sinks_t *s, eng_ledger_t *ledger)
{
    check(prj_pg_sink_open(&s->pg_sink, s->pg_url, TENANT), "the PostgreSQL sink");
    check(prj_redis_sink_open(&s->redis_sink, s->redis_url, TENANT), "the Redis sink");
    prj_projector_t *projector = projector_start(ledger, s->pg_sink, "postgres");
    running(projector);
    prj_stop(projector);
}

/* Both projectors started at seq as if they had applied the ledger up to it: their checkpoints
 * are written into the sinks first. */
static void projectors_start_at(sinks_t *s, eng_ledger_t *ledger, uint64_t seq)
{
    char sql[256], text[24];
    snprintf(text, sizeof(text), "%" PRIu64, seq);
    snprintf(sql, sizeof(sql),
             "INSERT INTO " SCHEMA ".projector_checkpoints (projector, seq) VALUES"
             " ('postgres', %s) ON CONFLICT (projector) DO UPDATE SET seq = excluded.seq",
             text);
    PGconn *conn = pg_connect(s->pg_url);
    pg_exec(conn, sql);
    PQfinish(conn);
    redisContext *redis = redis_connect(s->redis_host, s->redis_port);
    redis_call(redis, "SET %s %s", "fl:" TENANT ":active", "1");
    redis_call(redis, "SET %s %s", "fl:" TENANT ":g1:checkpoint:redis", text);
    redisFree(redis);
    s->pg = projector_start(ledger, s->pg_sink, "postgres");
    s->redis = projector_start(ledger, s->redis_sink, "redis");
    running(s->pg);
    running(s->redis);
}

static double process_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A rebuild while the projector idles at the head; returns the seconds it took, and in *cpu_s
 * the CPU time of this process meanwhile: the rebuild's two threads (prj_rebuild's caller
 * writes the rows, a thread of its own the log), which read the ledger and write the COPY
 * text; the servers are processes of their own. */
static double rebuild(prj_projector_t *projector, uint64_t *events, double *cpu_s)
{
    double cpu = process_cpu_s();
    uint64_t started = fl_mono_ns();
    check(prj_rebuild(projector, REBUILD_TIMEOUT_MS, events), "rebuild");
    *cpu_s = process_cpu_s() - cpu;
    return seconds_since(started);
}

/* ---- the peer: PostgreSQL's own COPY of the rows the rebuild wrote */

typedef struct {
    char name[64];
    char *text; /* COPY text of every row */
    size_t len;
    uint64_t rows;
} peer_table_t;

typedef struct {
    peer_table_t tables[PEER_TABLES_MAX];
    uint32_t count;
    uint64_t rows, event_rows, bytes;
} peer_t;

/* The projection's tables of rows (events and state; not its bookkeeping). */
static void peer_list(PGconn *conn, peer_t *peer)
{
    PGresult *res = PQexec(conn, "SELECT tablename FROM pg_tables WHERE schemaname = '" SCHEMA
                                 "' AND tablename NOT IN ('projector_checkpoints',"
                                 " 'dead_letters', 'schema_migrations') ORDER BY 1");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        die("the projection's tables", PQresultErrorMessage(res));
    for (int i = 0; i < PQntuples(res) && peer->count < PEER_TABLES_MAX; i++)
        snprintf(peer->tables[peer->count++].name, sizeof(peer->tables[0].name), "%s",
                 PQgetvalue(res, i, 0));
    PQclear(res);
}

static void peer_read(PGconn *conn, peer_table_t *table)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "COPY " SCHEMA ".%s TO STDOUT", table->name);
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_OUT)
        die(sql, PQresultErrorMessage(res));
    PQclear(res);
    size_t cap = 0;
    char *line;
    int len;
    while ((len = PQgetCopyData(conn, &line, 0)) > 0) { /* one row a message */
        if (table->len + (size_t)len > cap) {
            cap = cap == 0 ? COPY_CHUNK_BYTES : cap * 2;
            if ((table->text = realloc(table->text, cap)) == NULL)
                check(FL_ENOMEM, "the peer's rows");
        }
        memcpy(table->text + table->len, line, (size_t)len);
        table->len += (size_t)len;
        table->rows++;
        PQfreemem(line);
    }
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            die(sql, PQresultErrorMessage(res));
        PQclear(res);
    }
}

static void peer_write(PGconn *conn, const peer_table_t *table)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "COPY " PEER_SCHEMA ".%s FROM STDIN", table->name);
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_IN)
        die(sql, PQresultErrorMessage(res));
    PQclear(res);
    for (size_t at = 0; at < table->len; at += COPY_CHUNK_BYTES) {
        size_t len = table->len - at < COPY_CHUNK_BYTES ? table->len - at : COPY_CHUNK_BYTES;
        if (PQputCopyData(conn, table->text + at, (int)len) != 1)
            die(sql, PQerrorMessage(conn));
    }
    if (PQputCopyEnd(conn, NULL) != 1)
        die(sql, PQerrorMessage(conn));
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            die(sql, PQresultErrorMessage(res));
        PQclear(res);
    }
}

/* Makes the peer's tables: like the projection's, with their indexes, or without any (they are
 * made after the COPY, from the projection's own definitions). */
static void peer_tables(PGconn *conn, const peer_t *peer, bool indexes)
{
    pg_exec(conn, "DROP SCHEMA IF EXISTS " PEER_SCHEMA " CASCADE");
    pg_exec(conn, "CREATE SCHEMA " PEER_SCHEMA);
    for (uint32_t i = 0; i < peer->count; i++) {
        char sql[256];
        snprintf(sql, sizeof(sql), "CREATE TABLE " PEER_SCHEMA ".%s (LIKE " SCHEMA ".%s %s)",
                 peer->tables[i].name, peer->tables[i].name,
                 indexes ? "INCLUDING ALL" : "INCLUDING DEFAULTS INCLUDING CONSTRAINTS");
        pg_exec(conn, sql);
    }
}

/* The projection's indexes on the peer's tables, primary keys included. */
static void peer_index(PGconn *conn)
{
    PGresult *res = PQexec(conn, "SELECT replace(indexdef, ' ON " SCHEMA ".', ' ON " PEER_SCHEMA
                                 ".') FROM pg_indexes WHERE schemaname = '" SCHEMA
                                 "' AND tablename NOT IN ('projector_checkpoints',"
                                 " 'dead_letters', 'schema_migrations')");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        die("the projection's indexes", PQresultErrorMessage(res));
    for (int i = 0; i < PQntuples(res); i++)
        pg_exec(conn, PQgetvalue(res, i, 0));
    PQclear(res);
}

/* One timed COPY of every table's rows into fresh tables; returns the seconds. */
static double peer_time(PGconn *conn, const peer_t *peer, bool indexes_after)
{
    peer_tables(conn, peer, !indexes_after);
    pg_exec(conn, "CHECKPOINT"); /* as before the rebuild: no dirty pages of others to write */
    uint64_t started = fl_mono_ns();
    for (uint32_t i = 0; i < peer->count; i++)
        peer_write(conn, &peer->tables[i]);
    if (indexes_after)
        peer_index(conn);
    double seconds = seconds_since(started);
    pg_exec(conn, "DROP SCHEMA " PEER_SCHEMA " CASCADE");
    return seconds;
}

/* Reads the projection's rows back as COPY text (untimed), then times PostgreSQL's COPY of the
 * same text into the same tables, and, as a pointer to what a rebuild could do, into tables
 * whose indexes are made after their rows. */
static void peer_copy(const char *url, peer_t *peer, double *copy_s, double *indexes_after_s)
{
    PGconn *conn = pg_connect(url);
    peer_list(conn, peer);
    for (uint32_t i = 0; i < peer->count; i++) {
        peer_table_t *table = &peer->tables[i];
        peer_read(conn, table);
        peer->rows += table->rows;
        peer->bytes += table->len;
        if (strcmp(table->name, "events") == 0)
            peer->event_rows = table->rows;
    }
    *copy_s = peer_time(conn, peer, false);
    *indexes_after_s = peer_time(conn, peer, true);
    PQfinish(conn);
    for (uint32_t i = 0; i < peer->count; i++)
        free(peer->tables[i].text);
}

/* ---- the lag: a paced producer, and a reader per sink that polls the checkpoint */

typedef struct {
    uint64_t at_ns;
    uint64_t seq;
} poll_t;

typedef struct reader reader_t;
struct reader {
    const char *sink;
    pthread_t thread;
    int (*read)(reader_t *reader, uint64_t *seq);
    PGconn *pg;
    redisContext *redis;
    char key[128];
    _Atomic uint64_t until_seq; /* the reader stops once it has seen this seq */
    atomic_bool stop;
    poll_t *polls; /* each new value of the checkpoint and when it was first seen */
    uint32_t polls_count;
    uint64_t polls_done;
};

static int pg_read(reader_t *reader, uint64_t *seq)
{
    PGresult *res = PQexecPrepared(reader->pg, "checkpoint", 0, NULL, NULL, NULL, 0);
    int rc = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 ? 0 : FL_ESINK_DOWN;
    if (rc == 0)
        *seq = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}

static int redis_read(reader_t *reader, uint64_t *seq)
{
    redisReply *reply = redisCommand(reader->redis, "GET %s", reader->key);
    int rc = reply != NULL && reply->type == REDIS_REPLY_STRING ? 0 : FL_ESINK_DOWN;
    if (rc == 0)
        *seq = strtoull(reply->str, NULL, 10);
    freeReplyObject(reply);
    return rc;
}

static void *reader_main(void *arg)
{
    reader_t *reader = arg;
    uint64_t last = 0, seq = 0;
    while (!atomic_load(&reader->stop)) {
        if (reader->read(reader, &seq) != 0)
            die(reader->sink, "the checkpoint could not be read");
        uint64_t now = fl_mono_ns();
        reader->polls_done++;
        if (seq > last && reader->polls_count < POLLS_MAX) {
            reader->polls[reader->polls_count++] = (poll_t){now, seq};
            last = seq;
        }
        if (last >= atomic_load(&reader->until_seq))
            break;
        sleep_until_ns(now + POLL_US * 1000u);
    }
    return NULL;
}

static void reader_start(reader_t *reader, const char *sink)
{
    reader->sink = sink;
    atomic_store(&reader->until_seq, UINT64_MAX);
    atomic_store(&reader->stop, false);
    if ((reader->polls = calloc(POLLS_MAX, sizeof(poll_t))) == NULL)
        check(FL_ENOMEM, "a reader's polls");
    if (pthread_create(&reader->thread, NULL, reader_main, reader) != 0)
        die(sink, "no reader thread");
}

static void readers_start(const sinks_t *s, reader_t *pg, reader_t *redis)
{
    pg->pg = pg_connect(s->pg_url);
    PGresult *res = PQprepare(pg->pg, "checkpoint",
                              "SELECT seq FROM " SCHEMA ".projector_checkpoints"
                              " WHERE projector = 'postgres'",
                              0, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        die("the reader's statement", PQresultErrorMessage(res));
    PQclear(res);
    pg->read = pg_read;
    reader_start(pg, "postgres");
    redis->redis = redis_connect(s->redis_host, s->redis_port);
    uint64_t generation = redis_call(redis->redis, "GET %s", "fl:" TENANT ":active", NULL);
    snprintf(redis->key, sizeof(redis->key), "fl:" TENANT ":g%" PRIu64 ":checkpoint:redis",
             generation);
    redis->read = redis_read;
    reader_start(redis, "redis");
}

static void reader_join(reader_t *reader)
{
    pthread_join(reader->thread, NULL);
    if (reader->pg != NULL)
        PQfinish(reader->pg);
    if (reader->redis != NULL)
        redisFree(reader->redis);
}

/* A paced batch: its last seq and when eng_append returned (the durable acknowledgement). */
typedef struct {
    uint64_t last_seq;
    uint64_t commit_ns;
} mark_t;

typedef struct {
    uint32_t rate;
    double seconds;
    mark_t *marks;
    uint32_t marks_count;
    uint64_t events, late;
    double elapsed_s;
} paced_t;

/* Appends the feed's next events at paced->rate for paced->seconds: batch i at its slot,
 * start + i * interval, or at once when the previous ones ran past it (counted late). */
static void produce(feed_t *feed, paced_t *paced)
{
    uint32_t batches = (uint32_t)(paced->rate * paced->seconds / PACED_BATCH_EVENTS);
    uint64_t interval_ns = (uint64_t)PACED_BATCH_EVENTS * 1000000000u / paced->rate;
    if ((paced->marks = calloc(batches + 1, sizeof(mark_t))) == NULL)
        check(FL_ENOMEM, "the marks");
    uint64_t start = fl_mono_ns() + interval_ns, end = start;
    for (uint32_t i = 0; i < batches; i++) {
        uint32_t count = feed_fill(feed, PACED_BATCH_EVENTS, INT64_MAX);
        if (count == 0)
            break; /* the simulation ended: reported as a lower rate */
        uint64_t slot = start + i * interval_ns;
        if (fl_mono_ns() > slot + interval_ns / 10)
            paced->late++;
        else
            sleep_until_ns(slot);
        uint64_t seq = feed_flush(feed);
        end = fl_mono_ns();
        paced->marks[paced->marks_count++] = (mark_t){seq, end};
        paced->events += count;
    }
    uint64_t window = start + (uint64_t)paced->marks_count * interval_ns;
    paced->elapsed_s = (double)((end > window ? end : window) - start) / 1e9;
}

typedef struct {
    double p50_ms, p99_ms, max_ms;
    uint32_t samples, unseen;
} lag_t;

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Each batch's lag: from its commit to the first poll that saw its last seq. */
static lag_t lags(const reader_t *reader, const paced_t *paced)
{
    lag_t lag = {0};
    double *ms = calloc(paced->marks_count + 1, sizeof(double));
    if (ms == NULL)
        check(FL_ENOMEM, "the lags");
    for (uint32_t i = 0; i < paced->marks_count; i++) {
        const mark_t *mark = &paced->marks[i];
        uint32_t low = 0, high = reader->polls_count; /* the first poll with seq >= last_seq */
        while (low < high) {
            uint32_t mid = low + (high - low) / 2;
            if (reader->polls[mid].seq < mark->last_seq)
                low = mid + 1;
            else
                high = mid;
        }
        if (low == reader->polls_count) {
            lag.unseen++;
            continue;
        }
        uint64_t seen = reader->polls[low].at_ns;
        ms[lag.samples++] = seen > mark->commit_ns ? (double)(seen - mark->commit_ns) / 1e6 : 0;
    }
    if (lag.samples > 0) {
        qsort(ms, lag.samples, sizeof(double), by_value);
        lag.p50_ms = ms[(lag.samples - 1) / 2];
        lag.p99_ms = ms[(lag.samples - 1) * 99 / 100];
        lag.max_ms = ms[lag.samples - 1];
    }
    free(ms);
    return lag;
}

/* The lag phase: readers polling, the paced producer, then both projectors caught up. */
static void lag_phase(sinks_t *s, feed_t *feed, paced_t *paced, reader_t *pg, reader_t *redis)
{
    readers_start(s, pg, redis);
    produce(feed, paced);
    uint64_t head = feed_flush(feed);
    atomic_store(&pg->until_seq, head);
    atomic_store(&redis->until_seq, head);
    int rc_pg = prj_wait_checkpoint(s->pg, head, CATCH_UP_MS);
    int rc_redis = prj_wait_checkpoint(s->redis, head, CATCH_UP_MS);
    if (rc_pg != 0 || rc_redis != 0) {
        atomic_store(&pg->stop, true);
        atomic_store(&redis->stop, true);
        fprintf(stderr, "bench_projections: a projector did not catch up in %d s\n",
                CATCH_UP_MS / 1000);
    }
    reader_join(pg);
    reader_join(redis);
}

/* ---- the run */

static int count_row(uint64_t seq, const eng_row_t *row, void *data)
{
    (void)seq;
    if (row->present)
        (*(uint64_t *)data)++;
    return 0;
}

/* The ledger's rows of state, to check that the rebuilt tables hold as many (not a test: a
 * guard against timing a rebuild that wrote too little). */
static uint64_t ledger_rows(eng_ledger_t *ledger)
{
    uint64_t count = 0, at;
    for (int kind = ENG_ROW_HU; kind < ENG_ROW_KINDS; kind++)
        check(eng_rows(ledger, (eng_row_kind_t)kind, count_row, &count, &at), "eng_rows");
    return count;
}

typedef struct {
    uint32_t looms;
    uint64_t month_events;
    double build_s;
    uint64_t pg_events, redis_events;
    double pg_rebuild_s, redis_rebuild_s, copy_s, copy_indexes_after_s;
    double pg_rebuild_cpu_s, redis_rebuild_cpu_s;
    peer_t peer;
    paced_t paced;
    lag_t lag_pg, lag_redis;
    prj_status_t status_pg, status_redis;
    uint64_t polls_pg, polls_redis;
    uint64_t refused, state_rows;
} run_t;

static uint32_t env_number(const char *name, uint32_t fallback, uint32_t max)
{
    const char *text = getenv(name);
    unsigned long value = text != NULL ? strtoul(text, NULL, 10) : 0;
    return value >= 1 && value <= max ? (uint32_t)value : fallback;
}

static const char *verdict(bool met)
{
    return met ? "met" : "NOT met";
}

static void report(const run_t *r)
{
    double pg_rate = (double)r->pg_events / r->pg_rebuild_s;
    double copy_rate = (double)r->peer.rows / r->copy_s;
    double ratio = r->copy_s / r->pg_rebuild_s; /* the same rows into the same tables */
    double achieved = (double)r->paced.events / r->paced.elapsed_s;
    printf("Fouta Ledger projections: PostgreSQL 15 and Redis started by the benchmark; the\n"
           "benchmark, its ledger and both servers share this machine's cores.\n\n");
    printf("Ledger: %u looms x %d days of the simulator (seed %d) = %" PRIu64
           " events, appended in %.1f s\n\n",
           r->looms, MONTH_DAYS, SIM_SEED, r->month_events, r->build_s);
    printf("%-40s %8s %8s %7s %10s %7s\n", "rebuild", "events", "rows", "s", "events/s", "cpu s");
    printf("%-40s %8" PRIu64 " %8" PRIu64 " %7.2f %10.0f %7.2f\n",
           "PostgreSQL: prj_rebuild (COPY, swap)", r->pg_events, r->peer.rows, r->pg_rebuild_s,
           pg_rate, r->pg_rebuild_cpu_s);
    printf("%-40s %8" PRIu64 " %8" PRIu64 " %7.2f %10.0f %7s\n",
           "PostgreSQL's own COPY of the same rows", r->peer.event_rows, r->peer.rows, r->copy_s,
           (double)r->peer.event_rows / r->copy_s, "");
    printf("%-40s %8" PRIu64 " %8" PRIu64 " %7.2f %10.0f %7s\n",
           "  the same, indexes made after the rows", r->peer.event_rows, r->peer.rows,
           r->copy_indexes_after_s, (double)r->peer.event_rows / r->copy_indexes_after_s, "");
    printf("%-40s %8" PRIu64 " %8s %7.2f %10.0f %7.2f\n", "Redis: prj_rebuild (new generation)",
           r->redis_events, "", r->redis_rebuild_s, (double)r->redis_events / r->redis_rebuild_s,
           r->redis_rebuild_cpu_s);
    printf("(rows: the events and the state tables' rows, %.0f MB of COPY text; the peer copies "
           "%.0f rows/s;\n cpu s: this process during prj_rebuild - its two threads reading "
           "the ledger and writing the rows and the log)\n\n",
           (double)r->peer.bytes / 1e6, copy_rate);
    printf("Lag at %u events/s asked for %.0f s: %" PRIu64 " events in %u batches of up to %d, "
           "%.0f events/s achieved, %" PRIu64 " batches late\n",
           r->paced.rate, r->paced.seconds, r->paced.events, r->paced.marks_count,
           PACED_BATCH_EVENTS, achieved, r->paced.late);
    printf("commit (eng_append's durable return) to visible (a reader polling the checkpoint "
           "every %d us)\n",
           POLL_US);
    printf("%-10s %8s %8s %8s %8s %8s   %s\n", "sink", "batches", "p50 ms", "p99 ms", "max ms",
           "polls", "projector's own p50/p99 ms (recorded_at to its commit)");
    printf("%-10s %8u %8.2f %8.2f %8.2f %8" PRIu64 "   %.2f / %.2f\n", "PostgreSQL",
           r->lag_pg.samples, r->lag_pg.p50_ms, r->lag_pg.p99_ms, r->lag_pg.max_ms, r->polls_pg,
           r->status_pg.visible_ms_p50, r->status_pg.visible_ms_p99);
    printf("%-10s %8u %8.2f %8.2f %8.2f %8" PRIu64 "   %.2f / %.2f\n", "Redis",
           r->lag_redis.samples, r->lag_redis.p50_ms, r->lag_redis.p99_ms, r->lag_redis.max_ms,
           r->polls_redis, r->status_redis.visible_ms_p50, r->status_redis.visible_ms_p99);
    printf("\nTargets (compared, not asserted):\n");
    printf("  lag p99 < %.0f ms at %u events/s: PostgreSQL %s, Redis %s\n", LAG_TARGET_MS,
           r->paced.rate, verdict(r->lag_pg.p99_ms < LAG_TARGET_MS),
           verdict(r->lag_redis.p99_ms < LAG_TARGET_MS));
    printf("  rebuild >= %.0f events/s: %s; >= %.1f of raw COPY (%.2f): %s\n", REBUILD_TARGET_PER_S,
           verdict(pg_rate >= REBUILD_TARGET_PER_S), RATIO_VS_COPY_TARGET, ratio,
           verdict(ratio >= RATIO_VS_COPY_TARGET));
    if (r->peer.rows - r->peer.event_rows != r->state_rows || r->peer.event_rows != r->pg_events)
        printf("  warning: the rebuilt tables hold %" PRIu64 " events and %" PRIu64
               " rows of state, the ledger %" PRIu64 " and %" PRIu64 "\n",
               r->peer.event_rows, r->peer.rows - r->peer.event_rows, r->pg_events, r->state_rows);
    if (r->refused > 0 || r->lag_pg.unseen > 0 || r->lag_redis.unseen > 0)
        printf("  warning: %" PRIu64 " events refused, %u + %u batches never seen visible\n",
               r->refused, r->lag_pg.unseen, r->lag_redis.unseen);
    printf("RESULT lag_p50_ms_pg=%.2f lag_p99_ms_pg=%.2f lag_p50_ms_redis=%.2f "
           "lag_p99_ms_redis=%.2f achieved_events_per_s=%.0f rebuild_events_per_s=%.0f "
           "copy_rows_per_s=%.0f ratio_vs_copy=%.3f events=%" PRIu64
           " redis_rebuild_events_per_s=%.0f copy_indexes_after_rows_per_s=%.0f\n",
           r->lag_pg.p50_ms, r->lag_pg.p99_ms, r->lag_redis.p50_ms, r->lag_redis.p99_ms, achieved,
           pg_rate, copy_rate, ratio, r->month_events, (double)r->redis_events / r->redis_rebuild_s,
           (double)r->peer.rows / r->copy_indexes_after_s);
}

/* The month of the plant, appended at full speed in requests of BULK_BATCH_EVENTS. */
static void build(feed_t *feed, run_t *r)
{
    int64_t month_end = SIM_START_US_DEFAULT + MONTH_DAYS * DAY_US;
    uint64_t started = fl_mono_ns();
    while (feed_fill(feed, BULK_BATCH_EVENTS, month_end) > 0)
        r->month_events = feed_flush(feed);
    r->build_s = seconds_since(started);
}

int main(int argc, char **argv)
{
    if (argc != 4 || argv[1][0] == '-') {
        fprintf(stderr, "usage: bench_projections DIR PG_CONNINFO REDIS_PORT\n"
                        "  (bench/projections.sh starts the servers; environment: BENCH_SECONDS,"
                        " PROJ_RATE, PROJ_LOOMS)\n");
        return 2;
    }
    static run_t r;
    static reader_t reader_pg, reader_redis;
    sinks_t s = {.pg_url = argv[2], .redis_host = "127.0.0.1", .redis_port = atoi(argv[3])};
    snprintf(s.redis_url, sizeof(s.redis_url), "redis://127.0.0.1:%d", s.redis_port);
    r.looms = env_number("PROJ_LOOMS", LOOMS_DEFAULT, SIM_LOOMS_MAX);
    r.paced.rate = env_number("PROJ_RATE", RATE_DEFAULT, 1000000);
    r.paced.seconds = env_number("BENCH_SECONDS", 2, SECONDS_MAX);
    /* Days enough for the paced phase after the month (a loom makes ~80 events a day). */
    uint32_t extra = 2 + (uint32_t)(r.paced.rate * r.paced.seconds / (r.looms * 40.0));
    uint32_t days = MONTH_DAYS + extra < SIM_DAYS_MAX ? MONTH_DAYS + extra : SIM_DAYS_MAX;

    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/ledger", argv[1]);
    eng_config_t config = {.dir = dir, .rules = ENG_RULES_PLANT};
    eng_ledger_t *ledger;
    check(eng_open(&ledger, &config), dir);
    feed_t feed;
    feed_open(&feed, ledger, r.looms, days);
    pg_schema_make(&s, ledger);
    build(&feed, &r);
    projectors_start_at(&s, ledger, r.month_events);

    PGconn *conn = pg_connect(s.pg_url);
    pg_exec(conn, "CHECKPOINT");
    PQfinish(conn);
    r.pg_rebuild_s = rebuild(s.pg, &r.pg_events, &r.pg_rebuild_cpu_s);
    r.redis_rebuild_s = rebuild(s.redis, &r.redis_events, &r.redis_rebuild_cpu_s);
    peer_copy(s.pg_url, &r.peer, &r.copy_s, &r.copy_indexes_after_s);
    r.state_rows = ledger_rows(ledger);

    lag_phase(&s, &feed, &r.paced, &reader_pg, &reader_redis);
    r.lag_pg = lags(&reader_pg, &r.paced);
    r.lag_redis = lags(&reader_redis, &r.paced);
    r.polls_pg = reader_pg.polls_done;
    r.polls_redis = reader_redis.polls_done;
    prj_status(s.pg, &r.status_pg);
    prj_status(s.redis, &r.status_redis);
    r.refused = feed.refused;

    prj_stop(s.pg);
    prj_stop(s.redis);
    prj_sink_close(s.pg_sink);
    prj_sink_close(s.redis_sink);
    feed_close(&feed);
    eng_close(ledger);
    report(&r);
    free(reader_pg.polls);
    free(reader_redis.polls);
    free(r.paced.marks);
    return r.refused == 0 ? 0 : 1;
}
