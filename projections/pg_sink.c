/*
 * pg_sink.c: the PostgreSQL sink. A batch goes in one round trip through libpq's pipeline mode:
 * prepared upserts of the batch's events (keyed by seq) and rows (keyed by their ids), deletes of
 * the rows that are gone, and the checkpoint, all before one Sync - the extended protocol runs
 * the messages up to a Sync as one transaction, so the batch and its checkpoint commit together
 * or not at all. A rebuild fills a shadow schema with COPY and swaps it in by renaming schemas in
 * one transaction. Every PGresult is cleared where it is read.
 *
 * No call waits on the server without a deadline: the connection is nonblocking (PQconnectPoll,
 * PQsetnonblocking) and every wait is a poll on its socket, bounded by the sink's io_timeout_ms
 * and cut short by the projector's stop. A stopped server, or one that a network partition
 * silenced, is then FL_ESINK_DOWN after that time, and the projector's back-off takes over. The
 * session's own lock_timeout and statement_timeout, below the client's, make the server give a
 * lock held by someone else up first, with an error that names it, on a connection still usable.
 * A connection given up may still have a batch on its way in the server; the next connect ends
 * its backend before reading the checkpoint, so the checkpoint says for certain what committed.
 */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projections/pg_int.h"

#define PG_SQL_LEN_MAX 2048

static pg_sink_t *pg_of(prj_sink_t *sink)
{
    return (pg_sink_t *)sink;
}

static void keep_error(pg_sink_t *pg, const char *message)
{
    snprintf(pg->base.error, sizeof(pg->base.error), "%s", message);
    char *newline = strchr(pg->base.error, '\n');
    if (newline != NULL)
        *newline = '\0';
}

int prj__pg_result(pg_sink_t *pg, const PGresult *res, ExecStatusType expected)
{
    if (res != NULL && PQresultStatus(res) == expected)
        return 0;
    if (res == NULL && pg->conn == NULL) /* lost on the way (lose kept why), or never made */
        return pg->lost != 0 ? pg->lost : FL_ESINK_DOWN;
    keep_error(pg, res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(pg->conn));
    if (pg->base.error[0] == '\0')
        keep_error(pg, PQerrorMessage(pg->conn));
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (res == NULL || state == NULL || PQstatus(pg->conn) != CONNECTION_OK)
        return FL_ESINK_DOWN;
    /* The data itself (a data exception, an integrity constraint, a trigger's raise) is refused
     * whatever the retries; anything else (connection, shutdown, resources, a conflict of
     * transactions, or a schema someone changed) is retried with back-off. */
    if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0 ||
        strncmp(state, "P0", 2) == 0)
        return FL_ESINK_REJECTED;
    return FL_ESINK_DOWN;
}

static void pg_disconnect(prj_sink_t *sink)
{
    pg_sink_t *pg = pg_of(sink);
    /* A connection that broke may be broken on this side only (a partition, the kernel's
     * tcp_user_timeout): its backend, perhaps still in a batch, is ended at the next connect. */
    if (pg->conn != NULL && PQstatus(pg->conn) != CONNECTION_OK && pg->abandoned_pid == 0)
        pg->abandoned_pid = PQbackendPID(pg->conn);
    if (pg->conn != NULL)
        PQfinish(pg->conn); /* a COPY left open is rolled back; nonblocking, so it never waits */
    pg->conn = NULL;
    pg->ready = false;
    pg->copy_table[0] = '\0';
    pg->copy_len = 0;
}

/* ---- waits on the server: each has a deadline, and a projector's stop cuts it short */

/* The deadline of one exchange; its timeout is kept for the message if it passes. */
static uint64_t deadline(pg_sink_t *pg, uint32_t timeout_ms)
{
    pg->wait_ms = timeout_ms != 0 ? timeout_ms : prj__sink_timeout_ms(&pg->base);
    return prj__sink_deadline(&pg->base, pg->wait_ms);
}

/* Gives the connection up in the middle of an exchange (rc: FL_ETIMEDOUT, FL_ECANCELED, or the
 * error of poll). The server may still be working on what it was sent - a stopped server
 * resumes with the batch in its socket - so the backend is remembered for the next connect to
 * end (end_abandoned). Returns FL_ECANCELED for a stop, FL_ESINK_DOWN otherwise. */
static int lose(pg_sink_t *pg, int rc)
{
    if (rc == FL_ETIMEDOUT && pg->wait_ms % 1000 == 0)
        snprintf(pg->base.error, sizeof(pg->base.error), "PostgreSQL did not answer within %u s",
                 pg->wait_ms / 1000);
    else if (rc == FL_ETIMEDOUT)
        snprintf(pg->base.error, sizeof(pg->base.error), "PostgreSQL did not answer within %u ms",
                 pg->wait_ms);
    else if (rc == FL_ECANCELED)
        keep_error(pg, "stopped while waiting for PostgreSQL");
    else
        snprintf(pg->base.error, sizeof(pg->base.error), "waiting for PostgreSQL: %s",
                 fl_strerror(rc));
    if (pg->abandoned_pid == 0)
        pg->abandoned_pid = PQbackendPID(pg->conn); /* 0 before the server said who it is */
    pg_disconnect(&pg->base);
    pg->lost = rc == FL_ECANCELED ? FL_ECANCELED : FL_ESINK_DOWN;
    return pg->lost;
}

static int await(pg_sink_t *pg, short events, uint64_t until, short *ready)
{
    int fd = PQsocket(pg->conn);
    if (fd < 0) {
        keep_error(pg, PQerrorMessage(pg->conn));
        return FL_ESINK_DOWN;
    }
    int rc = prj__sink_wait(&pg->base, fd, events, until, ready);
    return rc == 0 ? 0 : lose(pg, rc);
}

/* Sends all that libpq holds. While the socket is full the server may be waiting for us to read
 * its answers, so both are awaited and what came is read (libpq's advice for nonblocking use). */
static int flush_all(pg_sink_t *pg, uint64_t until)
{
    int left;
    while ((left = PQflush(pg->conn)) == 1) {
        short ready = 0;
        int rc = await(pg, POLLIN | POLLOUT, until, &ready);
        if (rc != 0)
            return rc;
        if ((ready & POLLIN) != 0 && PQconsumeInput(pg->conn) != 1)
            break;
    }
    if (left != 0 || PQstatus(pg->conn) != CONNECTION_OK) {
        keep_error(pg, PQerrorMessage(pg->conn));
        return FL_ESINK_DOWN;
    }
    return 0;
}

/* The next result, read once libpq holds all of it, so that PQgetResult never blocks. On a
 * failure the error text is the caller's to keep (a pipeline keeps its first error's). */
static int next_result(pg_sink_t *pg, uint64_t until, PGresult **res)
{
    *res = NULL;
    while (PQisBusy(pg->conn)) {
        int rc = await(pg, POLLIN, until, NULL);
        if (rc != 0)
            return rc;
        if (PQconsumeInput(pg->conn) != 1)
            return FL_ESINK_DOWN;
    }
    *res = PQgetResult(pg->conn);
    return 0;
}

/* The answer to what sent (a PQsend* call's return) queued, as PQexec would return it. */
static PGresult *answer(pg_sink_t *pg, int sent, uint64_t until)
{
    if (sent != 1 || flush_all(pg, until) != 0)
        return NULL; /* prj__pg_result reads libpq's message, or lose's */
    PGresult *kept = NULL, *res = NULL;
    while (next_result(pg, until, &res) == 0) {
        if (res == NULL)
            return kept;
        ExecStatusType status = PQresultStatus(res);
        if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
            PQclear(kept);
            return res;
        }
        if (kept != NULL && PQresultStatus(kept) == PGRES_FATAL_ERROR) {
            PQclear(res); /* the first error says what went wrong */
        } else {
            PQclear(kept);
            kept = res;
        }
    }
    PQclear(kept);
    return NULL;
}

PGresult *prj__pg_exec(pg_sink_t *pg, const char *sql, int count, const char *const *values,
                       uint32_t timeout_ms)
{
    if (pg->conn == NULL)
        return NULL;
    uint64_t until = deadline(pg, timeout_ms);
    int sent = count == 0 ? PQsendQuery(pg->conn, sql)
                          : PQsendQueryParams(pg->conn, sql, count, NULL, values, NULL, NULL, 0);
    return answer(pg, sent, until);
}

static int copy_close(pg_sink_t *pg);

static void quiet(void *data, const char *message)
{
    (void)data;
    (void)message; /* "relation already exists, skipping" and the like */
}

/* ---- statements: 'l' for the live schema, 's' for the shadow, prepared once per connection */

static int prepare(pg_sink_t *pg, char prefix, const char *name, const char *sql)
{
    char statement[32];
    snprintf(statement, sizeof(statement), "%c%s", prefix, name);
    uint64_t until = deadline(pg, 0);
    PGresult *res = pg->conn == NULL
                        ? NULL
                        : answer(pg, PQsendPrepare(pg->conn, statement, sql, 0, NULL), until);
    int rc = prj__pg_result(pg, res, PGRES_COMMAND_OK);
    PQclear(res);
    return rc;
}

static int prepare_kind(pg_sink_t *pg, char prefix, const char *schema, eng_row_kind_t kind)
{
    const pg_table_t *t = prj__pg_table(kind);
    char sql[PG_SQL_LEN_MAX], name[16];
    size_t at = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s.%s (", schema, t->table);
    for (uint32_t i = 0; i < t->columns_count; i++)
        at += (size_t)snprintf(sql + at, sizeof(sql) - at, "%s%s", i ? ", " : "", t->columns[i]);
    at += (size_t)snprintf(sql + at, sizeof(sql) - at, ") VALUES (");
    for (uint32_t i = 0; i < t->columns_count; i++)
        at += (size_t)snprintf(sql + at, sizeof(sql) - at, "%s$%u", i ? ", " : "", i + 1);
    at += (size_t)snprintf(sql + at, sizeof(sql) - at, ") ON CONFLICT (");
    for (uint32_t i = 0; i < t->keys; i++)
        at += (size_t)snprintf(sql + at, sizeof(sql) - at, "%s%s", i ? ", " : "", t->columns[i]);
    at += (size_t)snprintf(sql + at, sizeof(sql) - at, ") DO UPDATE SET ");
    for (uint32_t i = t->keys; i < t->columns_count; i++)
        at += (size_t)snprintf(sql + at, sizeof(sql) - at, "%s%s = excluded.%s",
                               i > t->keys ? ", " : "", t->columns[i], t->columns[i]);
    assert(at < sizeof(sql));
    snprintf(name, sizeof(name), "up%d", kind);
    int rc = prepare(pg, prefix, name, sql);
    if (rc != 0)
        return rc;
    at = (size_t)snprintf(sql, sizeof(sql), "DELETE FROM %s.%s WHERE ", schema, t->table);
    for (uint32_t i = 0; i < t->keys; i++)
        at += (size_t)snprintf(sql + at, sizeof(sql) - at, "%s%s = $%u", i ? " AND " : "",
                               t->columns[i], i + 1);
    snprintf(name, sizeof(name), "del%d", kind);
    return prepare(pg, prefix, name, sql);
}

static int prepare_all(pg_sink_t *pg, char prefix, const char *schema)
{
    char sql[PG_SQL_LEN_MAX];
    int rc = 0;
    for (int kind = ENG_ROW_HU; kind < ENG_ROW_KINDS && rc == 0; kind++)
        rc = prepare_kind(pg, prefix, schema, (eng_row_kind_t)kind);
    if (rc != 0)
        return rc;
    size_t at = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s.events (", schema);
    for (int i = 0; i < PG_EVENT_COLUMNS; i++)
        at += (size_t)snprintf(sql + at, sizeof(sql) - at, "%s%s", i ? ", " : "",
                               prj__pg_event_columns[i]);
    at += (size_t)snprintf(sql + at, sizeof(sql) - at, ") VALUES (");
    for (int i = 0; i < PG_EVENT_COLUMNS; i++)
        at += (size_t)snprintf(sql + at, sizeof(sql) - at, "%s$%d", i ? ", " : "", i + 1);
    snprintf(sql + at, sizeof(sql) - at, ") ON CONFLICT (seq) DO NOTHING");
    if ((rc = prepare(pg, prefix, "ev", sql)) != 0)
        return rc;
    snprintf(sql, sizeof(sql),
             "INSERT INTO %s.projector_checkpoints (projector, seq) VALUES ($1, $2)"
             " ON CONFLICT (projector) DO UPDATE SET seq = excluded.seq, updated_at = now()"
             " WHERE %s.projector_checkpoints.seq < excluded.seq",
             schema, schema);
    return prepare(pg, prefix, "ckpt", sql);
}

/* ---- connection */

/* The URL's host looked up with a deadline (resolve.c) as host and hostaddr lists for libpq,
 * which would otherwise look it up in PQconnectStart with no deadline: "h,h" and "a1,a2", one
 * entry per address, so that libpq still tries them in turn. Left to libpq (hosts[0] = '\0'): a
 * numeric host, a socket directory, several hosts, a URL with its own hostaddr, no host. */
static int resolve_host(pg_sink_t *pg, char *hosts, size_t hosts_size, char *addrs,
                        size_t addrs_size)
{
    hosts[0] = addrs[0] = '\0';
    char *error = NULL;
    PQconninfoOption *options = PQconninfoParse(pg->base.url, &error);
    if (options == NULL) {
        keep_error(pg, error != NULL ? error : "the URL does not parse");
        PQfreemem(error);
        return error != NULL ? FL_ESINK_DOWN : FL_ENOMEM;
    }
    const char *host = NULL, *hostaddr = NULL, *port = NULL;
    for (const PQconninfoOption *o = options; o->keyword != NULL; o++) {
        if (strcmp(o->keyword, "host") == 0)
            host = o->val;
        else if (strcmp(o->keyword, "hostaddr") == 0)
            hostaddr = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
    }
    int rc = 0;
    if (host != NULL && host[0] != '\0' && host[0] != '/' && strchr(host, ',') == NULL &&
        (hostaddr == NULL || hostaddr[0] == '\0') && !prj__host_is_numeric(host)) {
        prj_addrs_t found;
        rc = prj__sink_resolve(&pg->base, host, port != NULL && port[0] != '\0' ? port : "5432",
                               prj__sink_deadline(&pg->base, 0), &found, pg->base.error,
                               sizeof(pg->base.error));
        size_t h = 0, a = 0;
        for (uint32_t i = 0; rc == 0 && i < found.count; i++) {
            h += (size_t)snprintf(hosts + h, h < hosts_size ? hosts_size - h : 0, "%s%s",
                                  i ? "," : "", host);
            a += (size_t)snprintf(addrs + a, a < addrs_size ? addrs_size - a : 0, "%s%s",
                                  i ? "," : "", found.addrs[i]);
        }
        if (h >= hosts_size || a >= addrs_size)
            hosts[0] = addrs[0] = '\0'; /* cannot be: the buffers hold the most addresses */
        if (rc == FL_ETIMEDOUT || rc == FL_EINVAL)
            rc = FL_ESINK_DOWN; /* the error says it was the lookup */
    }
    PQconninfoFree(options);
    return rc;
}

/* Connects without blocking (PQconnectPoll): a server that takes the TCP connection and then
 * says nothing (stopped) costs PRJ_CONNECT_TIMEOUT_S, and a stop less. The session brings its
 * own limits: the server gives a lock up at half the client's timeout and a statement at three
 * quarters, with an error that names the cause; TCP keepalives and tcp_user_timeout notice a
 * network that went silent while the connection waits idle between batches. */
static int open_connection(pg_sink_t *pg)
{
    uint32_t io_ms = prj__sink_timeout_ms(&pg->base);
    uint32_t io_s = io_ms >= 1000 ? io_ms / 1000 : 1;
    char options[96], idle[16], interval[16], user_timeout[16];
    snprintf(options, sizeof(options), "-c lock_timeout=%u -c statement_timeout=%u",
             io_ms / 2 > 0 ? io_ms / 2 : 1, io_ms / 4 * 3 > 0 ? io_ms / 4 * 3 : 1);
    snprintf(idle, sizeof(idle), "%u", io_s);
    snprintf(interval, sizeof(interval), "%u", io_s / 3 > 0 ? io_s / 3 : 1);
    snprintf(user_timeout, sizeof(user_timeout), "%u", io_ms);
    char hosts[PRJ_RESOLVE_ADDRS_MAX * (PRJ_HOST_LEN_MAX + 1)];
    char addrs[PRJ_RESOLVE_ADDRS_MAX * PRJ_ADDR_LEN_MAX];
    int rc = resolve_host(pg, hosts, sizeof(hosts), addrs, sizeof(addrs));
    if (rc != 0)
        return rc;
    /* After dbname, which the URL expands into: these override the URL's own. */
    const char *keys[] = {"dbname",
                          "application_name",
                          "options",
                          "keepalives",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "tcp_user_timeout",
                          "host",
                          "hostaddr",
                          NULL};
    const char *values[] = {pg->base.url, PG_APPLICATION_NAME, options, "1",   idle, interval,
                            "3",          user_timeout,        hosts,   addrs, NULL};
    if (hosts[0] == '\0')
        keys[8] = NULL; /* the URL's host, as it is */
    pg->conn = PQconnectStartParams(keys, values, 1);
    if (pg->conn == NULL)
        return FL_ENOMEM;
    uint64_t until = deadline(pg, PRJ_CONNECT_TIMEOUT_S * 1000);
    PostgresPollingStatusType polled = PGRES_POLLING_WRITING;
    while (PQstatus(pg->conn) != CONNECTION_BAD &&
           (polled == PGRES_POLLING_READING || polled == PGRES_POLLING_WRITING)) {
        rc = await(pg, polled == PGRES_POLLING_READING ? POLLIN : POLLOUT, until, NULL);
        if (rc != 0)
            return rc;
        polled = PQconnectPoll(pg->conn); /* the socket may change (another address) */
    }
    if (polled != PGRES_POLLING_OK || PQsetnonblocking(pg->conn, 1) != 0) {
        keep_error(pg, PQerrorMessage(pg->conn));
        return FL_ESINK_DOWN;
    }
    PQsetNoticeProcessor(pg->conn, quiet, NULL);
    return 0;
}

/* Ends the backend of a connection given up in the middle of an exchange, and waits until it is
 * gone (half the timeout at most): a batch it still had is then committed or rolled back for
 * good, and the checkpoint read next is the truth - no batch is applied twice. A backend of
 * another role, which only a superuser may end, is left to the locks: a batch waits for it. */
static int end_abandoned(pg_sink_t *pg)
{
    char pid[16], wait_ms[16];
    uint32_t io_ms = prj__sink_timeout_ms(&pg->base);
    snprintf(pid, sizeof(pid), "%d", pg->abandoned_pid);
    snprintf(wait_ms, sizeof(wait_ms), "%u", io_ms / 2 > 0 ? io_ms / 2 : 1);
    const char *values[] = {pid, wait_ms};
    PGresult *res = prj__pg_exec(pg,
                                 "SELECT pg_terminate_backend(pid, $2) FROM pg_stat_activity"
                                 " WHERE pid = $1 AND pid <> pg_backend_pid()"
                                 " AND application_name = '" PG_APPLICATION_NAME "'",
                                 2, values, 0);
    int rc = prj__pg_result(pg, res, PGRES_TUPLES_OK);
    if (rc == 0 && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        snprintf(pg->base.error, sizeof(pg->base.error),
                 "the backend (pid %d) of a connection given up has not ended yet",
                 pg->abandoned_pid);
        rc = FL_ESINK_DOWN;
    }
    PQclear(res);
    if (rc == FL_ESINK_REJECTED)
        rc = 0;
    if (rc == 0)
        pg->abandoned_pid = 0;
    return rc;
}

static int pg_connect(prj_sink_t *sink)
{
    pg_sink_t *pg = pg_of(sink);
    if (pg->ready && PQstatus(pg->conn) == CONNECTION_OK)
        return 0;
    pg_disconnect(sink);
    pg->lost = 0;
    int rc = open_connection(pg);
    if (rc == 0 && pg->abandoned_pid != 0)
        rc = end_abandoned(pg);
    if (rc == 0)
        rc = prj__pg_schema_ensure(pg, pg->schema, false);
    if (rc == 0)
        rc = prepare_all(pg, 'l', pg->schema);
    if (rc != 0) {
        pg_disconnect(sink);
        return rc == FL_ESINK_REJECTED ? FL_ESINK_DOWN : rc;
    }
    pg->ready = true;
    return 0;
}

static int pg_checkpoint_get(prj_sink_t *sink, prj_target_t target, const char *name, uint64_t *seq)
{
    pg_sink_t *pg = pg_of(sink);
    char sql[256];
    *seq = 0;
    int rc = copy_close(pg);
    if (rc != 0)
        return rc;
    snprintf(sql, sizeof(sql), "SELECT seq FROM %s.projector_checkpoints WHERE projector = $1",
             target == PRJ_TARGET_LIVE ? pg->schema : pg->shadow);
    PGresult *res = prj__pg_exec(pg, sql, 1, &name, 0);
    rc = prj__pg_result(pg, res, PGRES_TUPLES_OK);
    if (rc == 0 && PQntuples(res) == 1)
        *seq = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}

/* ---- a batch in one pipeline */

static int send_prepared(pg_sink_t *pg, char prefix, const char *name, int count,
                         const char *const *values, uint32_t *sent)
{
    char statement[32];
    snprintf(statement, sizeof(statement), "%c%s", prefix, name);
    if (PQsendQueryPrepared(pg->conn, statement, count, values, NULL, NULL, 0) != 1) {
        keep_error(pg, PQerrorMessage(pg->conn));
        return FL_ESINK_DOWN;
    }
    (*sent)++;
    return 0;
}

static int send_batch(pg_sink_t *pg, char prefix, const char *name, const prj_batch_t *batch,
                      uint32_t *sent)
{
    pg_values_t v;
    char statement[16];
    int rc = 0;
    for (uint32_t i = 0; i < batch->events_count && rc == 0; i++) {
        const prj_event_t *event = &batch->events[i];
        prj__pg_event_values(batch, event, &v);
        rc = send_prepared(pg, prefix, "ev", PG_EVENT_COLUMNS, v.values, sent);
        if (rc == 0 && event->seq == pg->base.reject_seq) { /* the test hook: 22012 */
            if (PQsendQueryParams(pg->conn, "SELECT 1 / 0", 0, NULL, NULL, NULL, NULL, 0) != 1)
                rc = FL_ESINK_DOWN;
            (*sent)++;
        }
    }
    for (uint32_t i = 0; i < batch->rows_count && rc == 0; i++) {
        const eng_row_t *row = &batch->rows[i];
        const pg_table_t *t = prj__pg_table(row->kind);
        prj__pg_row_values(row, &v);
        snprintf(statement, sizeof(statement), "%s%d", row->present ? "up" : "del", row->kind);
        rc = send_prepared(pg, prefix, statement, (int)(row->present ? t->columns_count : t->keys),
                           v.values, sent);
    }
    if (rc != 0)
        return rc;
    char last[24];
    snprintf(last, sizeof(last), "%llu", (unsigned long long)batch->last_seq);
    const char *values[] = {name, last};
    return send_prepared(pg, prefix, "ckpt", 2, values, sent);
}

/* Reads every result up to the Sync; the first error decides. */
static int pipeline_results(pg_sink_t *pg, uint32_t sent, uint64_t until)
{
    int rc = 0;
    uint32_t nulls = 0;
    for (;;) {
        PGresult *res;
        int io = next_result(pg, until, &res);
        if (io != 0) {
            if (rc == 0 && pg->conn != NULL)
                keep_error(pg, PQerrorMessage(pg->conn));
            return io;
        }
        if (res == NULL) {
            if (PQstatus(pg->conn) != CONNECTION_OK || ++nulls > sent + 1) {
                if (rc == 0)
                    keep_error(pg, PQerrorMessage(pg->conn));
                return FL_ESINK_DOWN;
            }
            continue;
        }
        ExecStatusType status = PQresultStatus(res);
        if (status == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            return rc;
        }
        if (rc == 0 && status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK &&
            status != PGRES_PIPELINE_ABORTED)
            rc = prj__pg_result(pg, res, PGRES_COMMAND_OK);
        PQclear(res);
    }
}

static int ensure_shadow_statements(pg_sink_t *pg)
{
    /* Prepared on demand: the shadow exists only during a rebuild, and the swap reconnects. */
    uint64_t until = deadline(pg, 0);
    PGresult *res = answer(pg, PQsendDescribePrepared(pg->conn, "sckpt"), until);
    if (res == NULL)
        return prj__pg_result(pg, NULL, PGRES_COMMAND_OK);
    bool have = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    return have ? 0 : prepare_all(pg, 's', pg->shadow);
}

static int pg_apply(prj_sink_t *sink, prj_target_t target, const char *name,
                    const prj_batch_t *batch)
{
    pg_sink_t *pg = pg_of(sink);
    if (!pg->ready)
        return FL_ESINK_DOWN;
    char prefix = target == PRJ_TARGET_LIVE ? 'l' : 's';
    int rc = copy_close(pg);
    if (rc != 0)
        return rc;
    if (target == PRJ_TARGET_SHADOW && (rc = ensure_shadow_statements(pg)) != 0)
        return rc;
    if (PQenterPipelineMode(pg->conn) != 1) {
        keep_error(pg, PQerrorMessage(pg->conn));
        return FL_ESINK_DOWN;
    }
    /* One deadline for the round trip: the batch sent, its results read. */
    uint64_t until = deadline(pg, 0);
    uint32_t sent = 0;
    rc = send_batch(pg, prefix, name, batch, &sent);
    if (rc == 0 && PQpipelineSync(pg->conn) != 1) {
        keep_error(pg, PQerrorMessage(pg->conn));
        rc = FL_ESINK_DOWN;
    }
    if (rc == 0)
        rc = flush_all(pg, until);
    if (rc == 0)
        rc = pipeline_results(pg, sent, until);
    if (pg->conn != NULL && PQexitPipelineMode(pg->conn) != 1 && rc == 0)
        rc = FL_ESINK_DOWN; /* results left unread: only a broken connection does that */
    return rc;
}

/* ---- dead letters */

static int exec_params(pg_sink_t *pg, const char *sql, int count, const char *const *values)
{
    PGresult *res = prj__pg_exec(pg, sql, count, values, 0);
    int rc = prj__pg_result(pg, res, PGRES_COMMAND_OK);
    PQclear(res);
    return rc;
}

static int pg_dead_letter(prj_sink_t *sink, const char *name, uint64_t seq, const char *type,
                          const char *error, bool advance)
{
    pg_sink_t *pg = pg_of(sink);
    char sql[512], text[24];
    snprintf(text, sizeof(text), "%llu", (unsigned long long)seq);
    const char *values[] = {name, text, type, error};
    int rc = exec_params(pg, "BEGIN", 0, NULL);
    if (rc != 0)
        return rc;
    snprintf(sql, sizeof(sql),
             "INSERT INTO %s.dead_letters (projector, seq, type, error) VALUES ($1, $2, $3, $4)"
             " ON CONFLICT (projector, seq) DO UPDATE SET error = excluded.error,"
             " recorded_at = now()",
             pg->schema);
    if ((rc = exec_params(pg, sql, 4, values)) != 0)
        goto fail;
    snprintf(sql, sizeof(sql),
             "INSERT INTO %s.projector_checkpoints (projector, seq) VALUES ($1, $2)"
             " ON CONFLICT (projector) DO UPDATE SET seq = excluded.seq, updated_at = now()"
             " WHERE %s.projector_checkpoints.seq < excluded.seq",
             pg->schema, pg->schema);
    if (advance && (rc = exec_params(pg, sql, 2, values)) != 0)
        goto fail;
    return exec_params(pg, "COMMIT", 0, NULL);
fail:
    PQclear(prj__pg_exec(pg, "ROLLBACK", 0, NULL, 0));
    return rc;
}

/* ---- the rebuild's shadow: COPY in, then a swap by renaming */

/* A connection of the rebuild's own: a COPY streams a whole table as one statement, which the
 * session's usual statement timeout would cancel on a long log. */
static int pg_shadow_join(prj_sink_t *sink)
{
    pg_sink_t *pg = pg_of(sink);
    char sql[64];
    snprintf(sql, sizeof(sql), "SET statement_timeout = %u", PG_BULK_TIMEOUT_S * 1000u);
    int rc = copy_close(pg);
    return rc != 0 ? rc : exec_params(pg, sql, 0, NULL);
}

static int pg_shadow_begin(prj_sink_t *sink)
{
    pg_sink_t *pg = pg_of(sink);
    char sql[256];
    int rc = pg_shadow_join(sink);
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", pg->shadow);
    if (rc == 0)
        rc = exec_params(pg, sql, 0, NULL);
    /* The secondary indexes come after the bulk load (pg_shadow_swap): building one at the end
     * is cheaper than keeping it up to date row by row. */
    return rc != 0 ? rc : prj__pg_schema_ensure(pg, pg->shadow, true);
}

/* Appends one COPY text field: \N for NULL, and backslash, tab, newline, CR escaped. */
static int copy_field(pg_sink_t *pg, const char *value, bool last)
{
    size_t need = value == NULL ? 3 : strlen(value) * 2 + 1;
    if (pg->copy_len + need + 1 > pg->copy_cap) {
        size_t cap = pg->copy_cap == 0 ? PG_COPY_FLUSH_BYTES * 2 : pg->copy_cap;
        while (pg->copy_len + need + 1 > cap)
            cap *= 2;
        char *bigger = realloc(pg->copy, cap);
        if (bigger == NULL)
            return FL_ENOMEM;
        pg->copy = bigger;
        pg->copy_cap = cap;
    }
    char *out = pg->copy + pg->copy_len;
    if (value == NULL) {
        memcpy(out, "\\N", 2);
        out += 2;
    }
    for (const char *c = value; c != NULL && *c != '\0'; c++) {
        char escaped = *c == '\\'   ? '\\'
                       : *c == '\t' ? 't'
                       : *c == '\n' ? 'n'
                       : *c == '\r' ? 'r'
                                    : 0;
        if (escaped != 0) {
            *out++ = '\\';
            *out++ = escaped;
        } else {
            *out++ = *c;
        }
    }
    *out++ = last ? '\n' : '\t';
    pg->copy_len = (size_t)(out - pg->copy);
    return 0;
}

/* Sends the buffered lines. PQputCopyData answers 0 when libpq's buffer has no room left
 * (nonblocking): what it holds is sent first, then the lines are tried once more. */
static int copy_flush(pg_sink_t *pg)
{
    if (pg->copy_len == 0)
        return 0;
    uint64_t until = deadline(pg, 0);
    int sent = PQputCopyData(pg->conn, pg->copy, (int)pg->copy_len);
    int rc = sent == 0 ? flush_all(pg, until) : 0;
    if (rc == 0 && sent == 0)
        sent = PQputCopyData(pg->conn, pg->copy, (int)pg->copy_len);
    pg->copy_len = 0;
    if (rc == 0 && sent != 1) {
        keep_error(pg, sent == 0 ? "no memory for the COPY's data" : PQerrorMessage(pg->conn));
        rc = sent == 0 ? FL_ENOMEM : FL_ESINK_DOWN;
    }
    return rc != 0 ? rc : flush_all(pg, until);
}

static int copy_begin(pg_sink_t *pg, const char *table, const char *const *columns, uint32_t count)
{
    char sql[PG_SQL_LEN_MAX];
    size_t at = (size_t)snprintf(sql, sizeof(sql), "COPY %s.%s (", pg->shadow, table);
    for (uint32_t i = 0; i < count; i++)
        at += (size_t)snprintf(sql + at, sizeof(sql) - at, "%s%s", i ? ", " : "", columns[i]);
    snprintf(sql + at, sizeof(sql) - at, ") FROM STDIN");
    PGresult *res = prj__pg_exec(pg, sql, 0, NULL, 0);
    int rc = prj__pg_result(pg, res, PGRES_COPY_IN);
    PQclear(res);
    pg->copy_len = 0;
    return rc;
}

static int copy_end(pg_sink_t *pg, int rc)
{
    if (rc == 0)
        rc = copy_flush(pg);
    if (pg->conn == NULL)
        return rc; /* lost on the way: the server rolls the COPY back */
    uint64_t until = deadline(pg, 0);
    const char *why = rc == 0 ? NULL : "the rebuild failed";
    int ended = PQputCopyEnd(pg->conn, why);
    if (ended == 0 && flush_all(pg, until) == 0) /* no room in libpq's buffer: send, retry */
        ended = PQputCopyEnd(pg->conn, why);
    if (ended != 1 && rc == 0 && pg->conn != NULL) {
        keep_error(pg, PQerrorMessage(pg->conn));
        rc = FL_ESINK_DOWN;
    }
    int io = pg->conn != NULL ? flush_all(pg, until) : pg->lost;
    PGresult *res = NULL;
    while (io == 0 && (io = next_result(pg, until, &res)) == 0 && res != NULL) {
        int copy_rc = prj__pg_result(pg, res, PGRES_COMMAND_OK);
        if (rc == 0)
            rc = copy_rc;
        PQclear(res);
    }
    if (io != 0 && rc == 0 && pg->conn != NULL)
        keep_error(pg, PQerrorMessage(pg->conn));
    return rc != 0 ? rc : io;
}

/* Ends the COPY a previous call left open, if any: before any other statement. */
static int copy_close(pg_sink_t *pg)
{
    if (pg->copy_table[0] == '\0')
        return 0;
    pg->copy_table[0] = '\0';
    return copy_end(pg, 0);
}

/* A COPY into table: the one the previous call left open when it is the same table. The rows
 * of one kind, chunk after chunk, and the log, batch after batch, thus stream through one COPY
 * each: the server consumes what was sent while the rebuild reads the next chunk from the
 * ledger, instead of waiting for it, and commits each table once. */
static int copy_continue(pg_sink_t *pg, const char *table, const char *const *columns,
                         uint32_t count)
{
    if (strcmp(pg->copy_table, table) == 0)
        return 0;
    int rc = copy_close(pg);
    if (rc == 0)
        rc = copy_begin(pg, table, columns, count);
    if (rc == 0)
        snprintf(pg->copy_table, sizeof(pg->copy_table), "%s", table);
    return rc;
}

/* The end of one call's rows: sent (the COPY stays open for the next call), or on a failure
 * the COPY aborted. */
static int copy_pause(pg_sink_t *pg, int rc)
{
    if (rc == 0 && (rc = copy_flush(pg)) == 0)
        return 0;
    pg->copy_table[0] = '\0';
    return copy_end(pg, rc);
}

static int pg_shadow_rows(prj_sink_t *sink, const eng_row_t *rows, uint32_t count)
{
    pg_sink_t *pg = pg_of(sink);
    if (count == 0)
        return 0;
    const pg_table_t *t = prj__pg_table(rows[0].kind);
    int rc = copy_continue(pg, t->table, t->columns, t->columns_count);
    if (rc != 0)
        return rc;
    pg_values_t v;
    for (uint32_t i = 0; i < count && rc == 0; i++) {
        assert(rows[i].kind == rows[0].kind);
        if (!rows[i].present)
            continue;
        prj__pg_row_values(&rows[i], &v);
        for (uint32_t c = 0; c < t->columns_count && rc == 0; c++)
            rc = copy_field(pg, v.values[c], c + 1 == t->columns_count);
        if (rc == 0 && pg->copy_len >= PG_COPY_FLUSH_BYTES)
            rc = copy_flush(pg);
    }
    return copy_pause(pg, rc);
}

static int pg_shadow_events(prj_sink_t *sink, const prj_batch_t *batch)
{
    pg_sink_t *pg = pg_of(sink);
    if (batch->events_count == 0)
        return 0;
    int rc = copy_continue(pg, "events", prj__pg_event_columns, PG_EVENT_COLUMNS);
    if (rc != 0)
        return rc;
    pg_values_t v;
    for (uint32_t i = 0; i < batch->events_count && rc == 0; i++) {
        prj__pg_event_values(batch, &batch->events[i], &v);
        for (uint32_t c = 0; c < PG_EVENT_COLUMNS && rc == 0; c++)
            rc = copy_field(pg, v.values[c], c + 1 == PG_EVENT_COLUMNS);
        if (rc == 0 && pg->copy_len >= PG_COPY_FLUSH_BYTES)
            rc = copy_flush(pg);
    }
    return copy_pause(pg, rc);
}

static int pg_shadow_end(prj_sink_t *sink, bool events)
{
    pg_sink_t *pg = pg_of(sink);
    int rc = copy_close(pg);
    return rc != 0 ? rc : prj__pg_schema_indexes(pg, pg->shadow, events);
}

static int pg_shadow_swap(prj_sink_t *sink, const char *name)
{
    pg_sink_t *pg = pg_of(sink);
    (void)name;
    char sql[1024];
    int rc = copy_close(pg); /* the indexes are made: each side's shadow_end */
    if (rc != 0)
        return rc;
    /* The dead letters stay; the shadow's checkpoints are those of its rows. Readers wait for
     * the renames' locks for the moment of the commit, then see the new tables. */
    snprintf(sql, sizeof(sql),
             "BEGIN;"
             "INSERT INTO %s.dead_letters SELECT * FROM %s.dead_letters ON CONFLICT DO NOTHING;"
             "ALTER SCHEMA %s RENAME TO %s__old;"
             "ALTER SCHEMA %s RENAME TO %s;"
             "DROP SCHEMA %s__old CASCADE;"
             "COMMIT",
             pg->shadow, pg->schema, pg->schema, pg->schema, pg->shadow, pg->schema, pg->schema);
    PGresult *res = prj__pg_exec(pg, sql, 0, NULL, 0);
    rc = prj__pg_result(pg, res, PGRES_COMMAND_OK);
    PQclear(res);
    if (rc != 0)
        PQclear(prj__pg_exec(pg, "ROLLBACK", 0, NULL, 0));
    pg_disconnect(sink); /* the statements named the old tables: prepare them again */
    return rc;
}

/* ---- the sink */

static int pg_clone(const prj_sink_t *sink, prj_sink_t **out)
{
    int rc = prj_pg_sink_open(out, sink->url, sink->tenant);
    if (rc == 0)
        (*out)->io_timeout_ms = sink->io_timeout_ms;
    return rc;
}

static void pg_destroy(prj_sink_t *sink)
{
    pg_sink_t *pg = pg_of(sink);
    pg_disconnect(sink);
    free(pg->copy);
    free(pg);
}

static const prj_sink_ops_t pg_ops = {
    .kind = "postgres",
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .checkpoint_get = pg_checkpoint_get,
    .apply = pg_apply,
    .dead_letter = pg_dead_letter,
    .shadow_begin = pg_shadow_begin,
    .shadow_join = pg_shadow_join,
    .shadow_rows = pg_shadow_rows,
    .shadow_events = pg_shadow_events,
    .shadow_end = pg_shadow_end,
    .shadow_swap = pg_shadow_swap,
    .clone = pg_clone,
    .destroy = pg_destroy,
};

int prj_pg_sink_open(prj_sink_t **out, const char *url, const char *tenant)
{
    *out = NULL;
    if (url == NULL || url[0] == '\0' || strlen(url) > PRJ_URL_LEN_MAX ||
        !prj__name_valid(tenant, PRJ_TENANT_LEN_MAX))
        return FL_EINVAL;
    pg_sink_t *pg = calloc(1, sizeof(*pg));
    if (pg == NULL)
        return FL_ENOMEM;
    pg->base.ops = &pg_ops;
    snprintf(pg->base.url, sizeof(pg->base.url), "%s", url);
    snprintf(pg->base.tenant, sizeof(pg->base.tenant), "%s", tenant);
    snprintf(pg->schema, sizeof(pg->schema), "fouta_%s", tenant);
    snprintf(pg->shadow, sizeof(pg->shadow), "fouta_%s__shadow", tenant);
    *out = &pg->base;
    return 0;
}
