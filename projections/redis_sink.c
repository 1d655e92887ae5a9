/*
 * redis_sink.c: the Redis sink - what live dashboards read, under "fl:<tenant>:g<N>:" where N
 * is the active generation ("fl:<tenant>:active"): the loom board (loom:<id> hashes and the set
 * looms), order progress (order:<id>, orders), beams, stock and WIP by location (stock:<location>
 * hashes of "item|status|grade" -> thousandths, and stock:locations), records (record:<kind>:<id>,
 * records) with the open interventions and non-conformities (open:int, open:nc), and subcontract
 * lots. Each event is published on "fl:<tenant>:events" as JSON.
 *
 * Live per-shift counters (what a supervisor's screen shows during the shift): the calendar's
 * ShiftScheduled / ShiftCancelled events keep the sorted set shifts (start -> "start|end|id")
 * and the hash shiftdefs (id -> that member); every other event adds its figures (rolls and
 * pieces woven, stops by class, cut by grade and waste, first pieces, holds, releases, rejects,
 * interventions, NCs, subcontract returns, shipments, events) to the hash shift:<shift id> of
 * the shift its occurred_at falls in, or to shift:none:<UTC date> outside the calendar; the set
 * shifts:counted lists those hashes. One call a batch of a Lua script (loaded at connect and
 * again with each batch, called by its SHA-1) finds the shifts and adds the batch's sums, inside
 * the batch's MULTI, so the counters move with the rows and the checkpoint; a rebuild recounts them
 * from the log into the new generation. docs/projections.md lists the fields.
 *
 * A batch is one pipelined MULTI ... EXEC: the rows, the publications and the checkpoint, so
 * they happen together or not at all. A command Redis refuses when it is queued (the test hook
 * sends one) aborts the whole EXEC; one that fails while EXEC runs (WRONGTYPE on a key someone
 * else wrote) cannot be rolled back by Redis, so the sink puts the checkpoint back at once and
 * the framework finds the event and records it as a dead letter.
 *
 * No call waits on Redis without a deadline: the context is nonblocking (redisConnectNonBlock),
 * and the sink writes and reads it itself (redisBufferWrite, redisBufferRead) between polls of its
 * socket bounded by the sink's io_timeout_ms (PRJ_CONNECT_TIMEOUT_S while connecting) and cut
 * short by the projector's stop. A connection given up in the middle of a MULTI may still run it
 * (a stopped or paused Redis resumes with it in its buffer): the next connect kills that client
 * (CLIENT KILL ID) before it reads the checkpoint, and since Redis runs one command at a time the
 * MULTI has then either run whole or never will - nothing is published or counted twice.
 */
#define _POSIX_C_SOURCE 200809L
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "projections/projections_int.h"

#define REDIS_ARGS_MAX     24
#define REDIS_KEY_LEN_MAX  320
#define REDIS_HOST_LEN_MAX 256
#define REDIS_SCAN_COUNT   1000              /* keys per SCAN while deleting an old generation */
#define SHIFT_PAIRS_MAX    9                 /* counters one event adds to */
#define REDIS_CLIENT_NAME  "fouta-projector" /* what CLIENT LIST shows */

typedef struct {
    prj_sink_t base;
    redisContext *conn;
    bool ready;
    char host[REDIS_HOST_LEN_MAX];
    int port;
    char password[128];
    int db;
    uint64_t generation; /* the active one, read at connect */
    char shift_sha[48];  /* SHA-1 of shift_script, from SCRIPT LOAD at connect */
    uint32_t queued;     /* commands appended and not yet read */
    long long client_id; /* CLIENT ID of the connection, 0 when unknown */
    /* The client of a connection given up in the middle of an exchange (a timeout, a stop, a
     * break), which the next connect kills before it reads anything (0: none). */
    long long abandoned_id;
    uint32_t wait_ms; /* the timeout of the exchange under way, for its message */
} redis_sink_t;

/* One command's arguments; numbers and keys are formatted into the command itself. */
typedef struct {
    const char *argv[REDIS_ARGS_MAX];
    size_t lens[REDIS_ARGS_MAX];
    int argc;
    char texts[REDIS_ARGS_MAX][REDIS_KEY_LEN_MAX];
    int texts_used;
} command_t;

static redis_sink_t *redis_of(prj_sink_t *sink)
{
    return (redis_sink_t *)sink;
}

static void arg(command_t *c, const char *text)
{
    c->argv[c->argc] = text;
    c->lens[c->argc++] = strlen(text);
}

static void argf(command_t *c, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void argf(command_t *c, const char *format, ...)
{
    char *out = c->texts[c->texts_used++];
    va_list args;
    va_start(args, format);
    vsnprintf(out, REDIS_KEY_LEN_MAX, format, args);
    va_end(args);
    arg(c, out);
}

static void keep_error(redis_sink_t *r, const char *message)
{
    snprintf(r->base.error, sizeof(r->base.error), "%s", message);
}

static int queue(redis_sink_t *r, command_t *c)
{
    if (r->conn == NULL) /* lost earlier in this exchange: lose kept why */
        return FL_ESINK_DOWN;
    if (redisAppendCommandArgv(r->conn, c->argc, c->argv, c->lens) != REDIS_OK) {
        keep_error(r, r->conn->errstr);
        return FL_ESINK_DOWN;
    }
    r->queued++;
    c->argc = 0;
    c->texts_used = 0;
    return 0;
}

/* A reply's error: refused data (the command or its key) or a server that cannot serve now. */
static int reply_error(redis_sink_t *r, const redisReply *reply)
{
    keep_error(r, reply->str);
    if (strncmp(reply->str, "LOADING", 7) == 0 || strncmp(reply->str, "BUSY", 4) == 0 ||
        strncmp(reply->str, "OOM", 3) == 0 || strncmp(reply->str, "READONLY", 8) == 0 ||
        strncmp(reply->str, "MASTERDOWN", 10) == 0 || strncmp(reply->str, "NOAUTH", 6) == 0)
        return FL_ESINK_DOWN;
    return FL_ESINK_REJECTED;
}

static void redis_disconnect(prj_sink_t *sink)
{
    redis_sink_t *r = redis_of(sink);
    /* A connection that broke may be broken on this side only (a partition, the kernel's
     * tcp_user_timeout): its client, perhaps in a MULTI, is killed at the next connect. */
    if (r->conn != NULL && r->conn->err != 0 && r->abandoned_id == 0)
        r->abandoned_id = r->client_id;
    if (r->conn != NULL)
        redisFree(r->conn);
    r->conn = NULL;
    r->ready = false;
    r->queued = 0;
    r->client_id = 0;
}

/* ---- waits on Redis: each has a deadline, and a projector's stop cuts it short */

/* The deadline of one exchange: PRJ_CONNECT_TIMEOUT_S while connecting, else io_timeout_ms. */
static uint64_t deadline(redis_sink_t *r)
{
    r->wait_ms = r->ready ? prj__sink_timeout_ms(&r->base) : PRJ_CONNECT_TIMEOUT_S * 1000u;
    return prj__sink_deadline(&r->base, r->wait_ms);
}

/* Gives the connection up in the middle of an exchange (rc: FL_ETIMEDOUT, FL_ECANCELED, or the
 * error of poll); its client is remembered for the next connect to kill (identify).
 * Returns FL_ECANCELED for a stop, FL_ESINK_DOWN otherwise. */
static int lose(redis_sink_t *r, int rc)
{
    if (rc == FL_ETIMEDOUT && r->wait_ms % 1000 == 0)
        snprintf(r->base.error, sizeof(r->base.error), "Redis did not answer within %u s",
                 r->wait_ms / 1000);
    else if (rc == FL_ETIMEDOUT)
        snprintf(r->base.error, sizeof(r->base.error), "Redis did not answer within %u ms",
                 r->wait_ms);
    else if (rc == FL_ECANCELED)
        keep_error(r, "stopped while waiting for Redis");
    else
        snprintf(r->base.error, sizeof(r->base.error), "waiting for Redis: %s", fl_strerror(rc));
    if (r->abandoned_id == 0)
        r->abandoned_id = r->client_id;
    redis_disconnect(&r->base);
    return rc == FL_ECANCELED ? FL_ECANCELED : FL_ESINK_DOWN;
}

/* Sends all that hiredis holds. */
static int flush_out(redis_sink_t *r, uint64_t until)
{
    int done = 0;
    for (;;) {
        if (redisBufferWrite(r->conn, &done) != REDIS_OK) {
            keep_error(r, r->conn->errstr);
            return FL_ESINK_DOWN;
        }
        if (done)
            return 0;
        int rc = prj__sink_wait(&r->base, r->conn->fd, POLLOUT, until, NULL);
        if (rc != 0)
            return lose(r, rc);
    }
}

/* The next reply, read as it comes. */
static int next_reply(redis_sink_t *r, uint64_t until, redisReply **out)
{
    void *reply = NULL;
    for (;;) {
        if (redisGetReplyFromReader(r->conn, &reply) != REDIS_OK) {
            keep_error(r, r->conn->errstr);
            return FL_ESINK_DOWN;
        }
        if (reply != NULL) {
            *out = reply;
            return 0;
        }
        int rc = prj__sink_wait(&r->base, r->conn->fd, POLLIN, until, NULL);
        if (rc != 0)
            return lose(r, rc);
        if (redisBufferRead(r->conn) != REDIS_OK) { /* "Server closed the connection" */
            keep_error(r, r->conn->errstr);
            return FL_ESINK_DOWN;
        }
    }
}

/* Sends the queued commands and reads their replies, within one deadline; *last gets the last
 * reply (the caller frees it). */
static int replies(redis_sink_t *r, redisReply **last)
{
    int rc = 0;
    *last = NULL;
    if (r->conn == NULL)
        return FL_ESINK_DOWN;
    uint64_t until = deadline(r);
    int io = flush_out(r, until);
    while (io == 0 && r->queued > 0) {
        redisReply *got = NULL;
        if ((io = next_reply(r, until, &got)) != 0)
            break;
        r->queued--;
        if (got->type == REDIS_REPLY_ERROR && rc == 0 && r->queued > 0) {
            rc = reply_error(r, got); /* inside MULTI: EXEC will only say EXECABORT */
        }
        if (r->queued == 0) {
            *last = got;
        } else {
            freeReplyObject(got);
        }
    }
    if (io != 0) {
        r->queued = 0;
        return io;
    }
    return rc;
}

/* Runs one command and checks its reply is not an error; *out (may be NULL) keeps it. */
static int call(redis_sink_t *r, command_t *c, redisReply **out)
{
    redisReply *reply = NULL;
    int rc = queue(r, c);
    if (rc == 0)
        rc = replies(r, &reply);
    if (rc == 0 && reply != NULL && reply->type == REDIS_REPLY_ERROR)
        rc = reply_error(r, reply);
    if (out != NULL && rc == 0) {
        *out = reply;
        return 0;
    }
    if (reply != NULL)
        freeReplyObject(reply);
    return rc;
}

/* ---- connection */

static int read_generation(redis_sink_t *r)
{
    command_t c = {0};
    redisReply *reply = NULL;
    arg(&c, "SET");
    argf(&c, "fl:%s:active", r->base.tenant);
    arg(&c, "1");
    arg(&c, "NX"); /* a new tenant starts at generation 1 */
    int rc = call(r, &c, NULL);
    if (rc != 0)
        return rc;
    arg(&c, "GET");
    argf(&c, "fl:%s:active", r->base.tenant);
    if ((rc = call(r, &c, &reply)) != 0)
        return rc;
    r->generation = reply->type == REDIS_REPLY_STRING ? strtoull(reply->str, NULL, 10) : 1;
    freeReplyObject(reply);
    return 0;
}

/* ---- per-shift counters */

/* One call a batch. ARGV: the prefix, then the batch's events in order, each "s" (scheduled:
 * id, start, end), "x" (cancelled: id) or "c" (counted: occurred_at_us, the key outside the
 * calendar, the number of pairs, then field and increment pairs). The sums are gathered per
 * key and field and added once at the end; the shift found last is kept while the events fall
 * in it. Keys are made from the prefix, so a rebuild's call writes its own generation. */
static const char shift_script[] =
    "local p, i, sums, hit = ARGV[1], 2, {}, nil\n"
    "while i <= #ARGV do\n"
    "  local mode = ARGV[i]\n"
    "  if mode == 'c' then\n"
    "    local t, key = tonumber(ARGV[i + 1]), ARGV[i + 2]\n"
    "    if not (hit and t >= hit[1] and t < hit[2]) then\n"
    "      hit = nil\n"
    "      local m = redis.call('ZREVRANGEBYSCORE', p .. 'shifts', ARGV[i + 1], '-inf', 'LIMIT', "
    "0, 1)[1]\n"
    "      if m then\n"
    "        local s, e, id = string.match(m, '^(%d+)|(%d+)|(.+)$')\n"
    "        if e and t < tonumber(e) then hit = {tonumber(s), tonumber(e), 'shift:' .. id} end\n"
    "      end\n"
    "    end\n"
    "    if hit then key = hit[3] end\n"
    "    local sum = sums[key] or {}\n"
    "    sums[key] = sum\n"
    "    local n = tonumber(ARGV[i + 3])\n"
    "    for j = i + 4, i + 3 + 2 * n, 2 do sum[ARGV[j]] = (sum[ARGV[j]] or 0) + tonumber(ARGV[j + "
    "1]) end\n"
    "    i = i + 4 + 2 * n\n"
    "  else\n"
    "    local old = redis.call('HGET', p .. 'shiftdefs', ARGV[i + 1])\n"
    "    if old then redis.call('ZREM', p .. 'shifts', old) end\n"
    "    if mode == 's' then\n"
    "      local m = ARGV[i + 2] .. '|' .. ARGV[i + 3] .. '|' .. ARGV[i + 1]\n"
    "      redis.call('ZADD', p .. 'shifts', ARGV[i + 2], m)\n"
    "      redis.call('HSET', p .. 'shiftdefs', ARGV[i + 1], m)\n"
    "      i = i + 4\n"
    "    else\n"
    "      redis.call('HDEL', p .. 'shiftdefs', ARGV[i + 1])\n"
    "      i = i + 2\n"
    "    end\n"
    "    hit = nil\n"
    "  end\n"
    "end\n"
    "for key, sum in pairs(sums) do\n"
    "  redis.call('SADD', p .. 'shifts:counted', key)\n"
    "  for field, add in pairs(sum) do redis.call('HINCRBY', p .. key, field, add) end\n"
    "end\n"
    "return 0\n";

typedef struct {
    char field[SHIFT_PAIRS_MAX][REDIS_KEY_LEN_MAX / 4];
    long long add[SHIFT_PAIRS_MAX];
    int count;
} shift_counts_t;

static void count_add(shift_counts_t *counts, const char *field, long long add)
{
    for (int i = 0; i < counts->count; i++)
        if (strcmp(counts->field[i], field) == 0) {
            counts->add[i] += add;
            return;
        }
    if (counts->count == SHIFT_PAIRS_MAX)
        return;
    snprintf(counts->field[counts->count], sizeof(counts->field[0]), "%s", field);
    counts->add[counts->count++] = add;
}

static long long member_int(json_t *object, const char *name)
{
    return (long long)json_integer_value(json_object_get(object, name));
}

static const char *member_text(json_t *object, const char *name)
{
    const char *text = json_string_value(json_object_get(object, name));
    return text != NULL ? text : "";
}

/* The counters of one event (payload: its JSON). Events the calendar does not count add
 * "events" alone. */
static void shift_counts(const char *type, json_t *payload, shift_counts_t *counts)
{
    counts->count = 0;
    count_add(counts, "events", 1);
    char field[REDIS_KEY_LEN_MAX / 4];
    if (strcmp(type, "ProductionDeclared") == 0) {
        count_add(counts, "rolls", 1);
        count_add(counts, "woven_milli", member_int(payload, "qty_milli"));
        count_add(counts, "woven_length_milli", member_int(payload, "length_milli"));
        snprintf(field, sizeof(field), "woven_milli:%s", member_text(payload, "loom_id"));
        count_add(counts, field, member_int(payload, "qty_milli"));
    } else if (strcmp(type, "LoomStopped") == 0) {
        count_add(counts, "stops", 1);
        snprintf(field, sizeof(field), "stops:%s", member_text(payload, "stop_class"));
        count_add(counts, field, 1);
    } else if (strcmp(type, "CuttingDeclared") == 0) {
        count_add(counts, "cut_consumed_milli", member_int(payload, "consumed_qty_milli"));
        count_add(counts, "cut_waste_milli", member_int(payload, "waste_qty_milli"));
        size_t i;
        json_t *output;
        json_array_foreach(json_object_get(payload, "outputs"), i, output)
        {
            snprintf(field, sizeof(field), "cut_%s_milli", member_text(output, "grade"));
            count_add(counts, field, member_int(output, "qty_milli"));
        }
    } else if (strcmp(type, "FirstPieceInspected") == 0) {
        count_add(counts, "first_pieces", 1);
        count_add(counts, "first_pieces_failed",
                  strcmp(member_text(payload, "result"), "passed") != 0);
    } else if (strcmp(type, "LotReturnedFromSubcontractor") == 0) {
        count_add(counts, "sub_good_milli", member_int(payload, "good_qty_milli"));
        count_add(counts, "sub_rejected_milli", member_int(payload, "rejected_qty_milli"));
        count_add(counts, "sub_lost_milli", member_int(payload, "lost_qty_milli"));
    } else {
        static const char *const simple[][2] = {
            {"LotPutOnHold", "holds"},
            {"LotReleased", "releases"},
            {"LotRejected", "rejects"},
            {"InterventionRequested", "interventions_requested"},
            {"InterventionCompleted", "interventions_completed"},
            {"NCOpened", "ncs_opened"},
            {"ShipmentDispatched", "shipments"},
        };
        for (size_t k = 0; k < sizeof(simple) / sizeof(simple[0]); k++)
            if (strcmp(type, simple[k][0]) == 0)
                count_add(counts, simple[k][1], 1);
    }
}

/* The script's arguments for a batch: texts kept in one growing buffer, found by offset. */
typedef struct {
    char *text;
    size_t len, cap;
    size_t *at;
    uint32_t count, room;
    bool oom;
} shift_args_t;

static void shift_arg(shift_args_t *a, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static void shift_arg(shift_args_t *a, const char *format, ...)
{
    char item[REDIS_KEY_LEN_MAX];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(item, sizeof(item), format, args);
    va_end(args);
    if (a->oom || n < 0)
        return;
    if (a->count == a->room) {
        uint32_t room = a->room != 0 ? a->room * 2 : 256;
        size_t *at = realloc(a->at, room * sizeof(*at));
        if (at == NULL) {
            a->oom = true;
            return;
        }
        a->at = at, a->room = room;
    }
    if (a->len + (size_t)n + 1 > a->cap) {
        size_t cap = a->cap != 0 ? a->cap * 2 : 8192;
        while (cap < a->len + (size_t)n + 1)
            cap *= 2;
        char *text = realloc(a->text, cap);
        if (text == NULL) {
            a->oom = true;
            return;
        }
        a->text = text, a->cap = cap;
    }
    memcpy(a->text + a->len, item, (size_t)n + 1);
    a->at[a->count++] = a->len;
    a->len += (size_t)n + 1;
}

/* Adds one event's part of the call. */
static void shift_event(shift_args_t *a, const prj_batch_t *batch, const prj_event_t *event)
{
    json_t *payload = json_loads(batch->text + event->payload_at, 0, NULL);
    if (payload == NULL)
        return; /* the catalog's JSON always parses: nothing to count otherwise */
    if (strcmp(event->type, "ShiftScheduled") == 0) {
        shift_arg(a, "s");
        shift_arg(a, "%s", member_text(payload, "shift_id"));
        shift_arg(a, "%lld", member_int(payload, "starts_at_us"));
        shift_arg(a, "%lld", member_int(payload, "ends_at_us"));
    } else if (strcmp(event->type, "ShiftCancelled") == 0) {
        shift_arg(a, "x");
        shift_arg(a, "%s", member_text(payload, "shift_id"));
    } else {
        shift_counts_t counts;
        shift_counts(event->type, payload, &counts);
        time_t day = (time_t)(event->occurred_at_us / 1000000);
        struct tm tm;
        gmtime_r(&day, &tm);
        shift_arg(a, "c");
        shift_arg(a, "%lld", (long long)event->occurred_at_us);
        shift_arg(a, "shift:none:%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        shift_arg(a, "%d", counts.count);
        for (int i = 0; i < counts.count; i++) {
            shift_arg(a, "%s", counts.field[i]);
            shift_arg(a, "%lld", counts.add[i]);
        }
    }
    json_decref(payload);
}

/* Queues, for a batch's events under prefix p, SCRIPT LOAD (a Redis restarted or flushed since
 * the connect has the script again before it runs; the reply, the same SHA-1, is ignored) and
 * the one EVALSHA of the script. Two replies to read, or none when there is no event. */
static int send_shifts(redis_sink_t *r, const char *p, const prj_batch_t *batch)
{
    if (batch->events_count == 0)
        return 0;
    shift_args_t a = {0};
    shift_arg(&a, "EVALSHA");
    shift_arg(&a, "%s", r->shift_sha);
    shift_arg(&a, "0");
    shift_arg(&a, "%s", p);
    for (uint32_t i = 0; i < batch->events_count; i++)
        shift_event(&a, batch, &batch->events[i]);
    const char **argv = a.oom ? NULL : malloc(a.count * sizeof(*argv));
    size_t *lens = a.oom ? NULL : malloc(a.count * sizeof(*lens));
    int rc = FL_ENOMEM;
    if (argv != NULL && lens != NULL) {
        for (uint32_t i = 0; i < a.count; i++) {
            argv[i] = a.text + a.at[i];
            lens[i] = strlen(argv[i]);
        }
        command_t c = {0};
        arg(&c, "SCRIPT"), arg(&c, "LOAD"), arg(&c, shift_script);
        rc = queue(r, &c);
        if (rc == 0 && redisAppendCommandArgv(r->conn, (int)a.count, argv, lens) != REDIS_OK) {
            keep_error(r, r->conn->errstr);
            rc = FL_ESINK_DOWN;
        } else if (rc == 0) {
            r->queued++;
        }
    }
    free(argv);
    free(lens);
    free(a.text);
    free(a.at);
    return rc;
}

/* Waits for the nonblocking connect to end (PRJ_CONNECT_TIMEOUT_S), then has TCP notice a
 * network gone silent while the connection waits idle between batches: keepalives, and
 * tcp_user_timeout for data sent and never acknowledged. */
static int connected(redis_sink_t *r)
{
    uint32_t io_ms = prj__sink_timeout_ms(&r->base);
    int io_s = io_ms >= 1000 ? (int)(io_ms / 1000) : 1, error = 0, on = 1;
    int interval = io_s / 3 > 0 ? io_s / 3 : 1, count = 3;
    socklen_t len = sizeof(error);
    int rc = prj__sink_wait(&r->base, r->conn->fd, POLLOUT, deadline(r), NULL);
    if (rc != 0)
        return lose(r, rc);
    if (getsockopt(r->conn->fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
        error = errno;
    if (error != 0) {
        snprintf(r->base.error, sizeof(r->base.error), "connecting to Redis: %s", strerror(error));
        return FL_ESINK_DOWN;
    }
    setsockopt(r->conn->fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
    setsockopt(r->conn->fd, IPPROTO_TCP, TCP_KEEPIDLE, &io_s, sizeof(io_s));
    setsockopt(r->conn->fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
    setsockopt(r->conn->fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
    setsockopt(r->conn->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &io_ms, sizeof(io_ms));
    return 0;
}

/* Names the connection and learns its id, then kills the client of a connection given up in the
 * middle of an exchange: Redis runs one command at a time, so once CLIENT KILL is answered that
 * client's MULTI has run whole or never will, and the checkpoint read next is the truth. */
static int identify(redis_sink_t *r)
{
    command_t c = {0};
    redisReply *reply = NULL;
    arg(&c, "CLIENT"), arg(&c, "SETNAME"), arg(&c, REDIS_CLIENT_NAME);
    int rc = queue(r, &c);
    if (rc == 0) {
        arg(&c, "CLIENT"), arg(&c, "ID");
        rc = queue(r, &c);
    }
    if (rc == 0)
        rc = replies(r, &reply);
    if (rc != 0) {
        if (reply != NULL)
            freeReplyObject(reply);
        return rc;
    }
    r->client_id = reply != NULL && reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
    if (reply != NULL)
        freeReplyObject(reply);
    if (r->abandoned_id == 0)
        return 0;
    arg(&c, "CLIENT"), arg(&c, "KILL"), arg(&c, "ID");
    argf(&c, "%lld", r->abandoned_id);
    if ((rc = call(r, &c, NULL)) == 0)
        r->abandoned_id = 0;
    return rc;
}

static int redis_connect(prj_sink_t *sink)
{
    redis_sink_t *r = redis_of(sink);
    if (r->ready && r->conn != NULL && r->conn->err == 0)
        return 0;
    redis_disconnect(sink);
    /* hiredis would look a name up in redisConnectNonBlock, with no deadline: looked up here
     * (resolve.c), it connects to the first address. */
    const char *addr = r->host;
    prj_addrs_t found;
    if (!prj__host_is_numeric(r->host)) {
        char port[16];
        snprintf(port, sizeof(port), "%d", r->port);
        int rc = prj__sink_resolve(&r->base, r->host, port, prj__sink_deadline(&r->base, 0), &found,
                                   r->base.error, sizeof(r->base.error));
        if (rc != 0)
            return rc == FL_ETIMEDOUT || rc == FL_EINVAL ? FL_ESINK_DOWN : rc;
        addr = found.addrs[0];
    }
    r->conn = redisConnectNonBlock(addr, r->port);
    if (r->conn == NULL)
        return FL_ENOMEM;
    int rc = 0;
    command_t c = {0};
    if (r->conn->err != 0) {
        keep_error(r, r->conn->errstr);
        rc = FL_ESINK_DOWN;
        goto fail;
    }
    if ((rc = connected(r)) != 0)
        goto fail;
    if (r->password[0] != '\0') {
        arg(&c, "AUTH");
        arg(&c, r->password);
        if ((rc = call(r, &c, NULL)) != 0)
            goto fail;
    }
    if (r->db != 0) {
        arg(&c, "SELECT");
        argf(&c, "%d", r->db);
        if ((rc = call(r, &c, NULL)) != 0)
            goto fail;
    }
    if ((rc = identify(r)) != 0 || (rc = read_generation(r)) != 0)
        goto fail;
    redisReply *sha = NULL;
    arg(&c, "SCRIPT"), arg(&c, "LOAD"), arg(&c, shift_script);
    if ((rc = call(r, &c, &sha)) != 0)
        goto fail;
    bool loaded = sha != NULL && sha->type == REDIS_REPLY_STRING && sha->len < sizeof(r->shift_sha);
    if (loaded)
        memcpy(r->shift_sha, sha->str, sha->len + 1);
    if (sha != NULL)
        freeReplyObject(sha);
    if (!loaded) {
        keep_error(r, "SCRIPT LOAD answered no SHA-1");
        rc = FL_ESINK_DOWN;
        goto fail;
    }
    r->ready = true;
    return 0;
fail:
    redis_disconnect(sink);
    return rc == FL_ESINK_REJECTED ? FL_ESINK_DOWN : rc;
}

static uint64_t generation_of(const redis_sink_t *r, prj_target_t target)
{
    return target == PRJ_TARGET_LIVE ? r->generation : r->generation + 1;
}

static int redis_checkpoint_get(prj_sink_t *sink, prj_target_t target, const char *name,
                                uint64_t *seq)
{
    redis_sink_t *r = redis_of(sink);
    command_t c = {0};
    redisReply *reply = NULL;
    *seq = 0;
    arg(&c, "GET");
    argf(&c, "fl:%s:g%llu:checkpoint:%s", r->base.tenant,
         (unsigned long long)generation_of(r, target), name);
    int rc = call(r, &c, &reply);
    if (rc != 0)
        return rc;
    if (reply->type == REDIS_REPLY_STRING)
        *seq = strtoull(reply->str, NULL, 10);
    freeReplyObject(reply);
    return 0;
}

/* ---- rows as dashboards read them */

static bool open_record(const eng_row_t *row)
{
    const char *state = row->record.state;
    if (strcmp(row->kind_name, "int") == 0)
        return strcmp(state, "completed") != 0 && strcmp(state, "cancelled") != 0;
    return strcmp(state, "closed") != 0;
}

/* Queues the commands that make a row in generation prefix `p` what it is now. Units, links
 * and articles are PostgreSQL's only: no dashboard reads them. */
static int send_row(redis_sink_t *r, const char *p, const eng_row_t *row)
{
    command_t c = {0};
    int rc = 0;
    const char *set = NULL, *member = row->id;
    char hash[REDIS_KEY_LEN_MAX * 2];
    switch (row->kind) {
    case ENG_ROW_LOOM: {
        const eng_loom_view_t *l = &row->loom;
        set = "looms";
        snprintf(hash, sizeof(hash), "%sloom:%s", p, row->id);
        arg(&c, "HSET"), arg(&c, hash), arg(&c, "stopped"), arg(&c, l->stopped ? "1" : "0");
        arg(&c, "stop_class"), arg(&c, l->stop_class), arg(&c, "stop_code"), arg(&c, l->stop_code);
        arg(&c, "since_seq"), argf(&c, "%llu", (unsigned long long)l->since_seq);
        arg(&c, "order"), arg(&c, l->order), arg(&c, "first_piece_passed");
        arg(&c, l->first_piece_passed ? "1" : "0"), arg(&c, "ground_beam"), arg(&c, l->beams[0]);
        arg(&c, "pile_beam"), arg(&c, l->beams[1]), arg(&c, "ground_remaining_milli");
        argf(&c, "%lld", (long long)l->beam_remaining_milli[0]);
        arg(&c, "pile_remaining_milli");
        argf(&c, "%lld", (long long)l->beam_remaining_milli[1]);
        break;
    }
    case ENG_ROW_ORDER:
        set = "orders";
        snprintf(hash, sizeof(hash), "%sorder:%s", p, row->id);
        arg(&c, "HSET"), arg(&c, hash), arg(&c, "state"), arg(&c, row->order.state);
        arg(&c, "item"), arg(&c, row->order.item), arg(&c, "unit"), arg(&c, row->order.unit);
        arg(&c, "planned_milli"), argf(&c, "%lld", (long long)row->order.planned_milli);
        arg(&c, "declared_milli"), argf(&c, "%lld", (long long)row->order.declared_milli);
        break;
    case ENG_ROW_BEAM:
        set = "beams";
        snprintf(hash, sizeof(hash), "%sbeam:%s", p, row->id);
        arg(&c, "HSET"), arg(&c, hash), arg(&c, "item"), arg(&c, row->beam.item);
        arg(&c, "loom"), arg(&c, row->beam.loom), arg(&c, "position"), arg(&c, row->beam.position);
        arg(&c, "remaining_milli"), argf(&c, "%lld", (long long)row->beam.remaining_milli);
        break;
    case ENG_ROW_SUBLOT:
        set = "sublots";
        snprintf(hash, sizeof(hash), "%ssublot:%s", p, row->id);
        arg(&c, "HSET"), arg(&c, hash), arg(&c, "state"), arg(&c, row->sublot.state);
        arg(&c, "sub"), arg(&c, row->sublot.sub), arg(&c, "item"), arg(&c, row->sublot.item);
        arg(&c, "sent_milli"), argf(&c, "%lld", (long long)row->sublot.sent_milli);
        arg(&c, "out_milli"), argf(&c, "%lld", (long long)row->sublot.out_milli);
        break;
    case ENG_ROW_RECORD: {
        char *key = c.texts[c.texts_used++];
        snprintf(key, REDIS_KEY_LEN_MAX, "%s:%s", row->kind_name, row->id);
        set = "records", member = key;
        snprintf(hash, sizeof(hash), "%srecord:%.*s", p, REDIS_KEY_LEN_MAX - 1, key);
        arg(&c, "HSET"), arg(&c, hash), arg(&c, "state"), arg(&c, row->record.state);
        arg(&c, "subject"), arg(&c, row->record.subject);
        arg(&c, "count"), argf(&c, "%u", row->record.count);
        arg(&c, "since_seq"), argf(&c, "%llu", (unsigned long long)row->record.since_seq);
        break;
    }
    case ENG_ROW_STOCK: {
        const eng_stock_row_t *s = &row->stock;
        snprintf(hash, sizeof(hash), "%sstock:%s", p, s->location);
        arg(&c, row->present ? "HSET" : "HDEL"), arg(&c, hash);
        argf(&c, "%s|%s|%s", s->item, s->status, prj__grade_name(s->grade));
        if (row->present)
            argf(&c, "%lld", (long long)s->qty_milli);
        if ((rc = queue(r, &c)) != 0 || !row->present)
            return rc;
        arg(&c, "SADD"), argf(&c, "%sstock:locations", p), arg(&c, s->location);
        return queue(r, &c);
    }
    default:
        return 0;
    }
    if (!row->present) { /* gone: the hash and its membership */
        c.argc = 0;
        arg(&c, "DEL"), arg(&c, hash);
        if ((rc = queue(r, &c)) != 0)
            return rc;
        arg(&c, "SREM");
    } else {
        if ((rc = queue(r, &c)) != 0)
            return rc;
        arg(&c, "SADD");
    }
    char member_copy[REDIS_KEY_LEN_MAX];
    snprintf(member_copy, sizeof(member_copy), "%.*s", (int)sizeof(member_copy) - 1, member);
    argf(&c, "%s%s", p, set), arg(&c, member_copy);
    if ((rc = queue(r, &c)) != 0 || row->kind != ENG_ROW_RECORD)
        return rc;
    if (strcmp(row->kind_name, "int") != 0 && strcmp(row->kind_name, "nc") != 0)
        return 0;
    arg(&c, row->present && open_record(row) ? "SADD" : "SREM");
    argf(&c, "%sopen:%s", p, row->kind_name), arg(&c, row->id);
    return queue(r, &c);
}

/* Appends s to out as a JSON string. */
static size_t json_quote(char *out, size_t size, const char *s)
{
    size_t at = 0;
    out[at++] = '"';
    for (; *s != '\0' && at + 8 < size; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            out[at++] = '\\';
            out[at++] = (char)ch;
        } else if (ch < 0x20) {
            at += (size_t)snprintf(out + at, size - at, "\\u%04x", ch);
        } else {
            out[at++] = (char)ch;
        }
    }
    out[at++] = '"';
    out[at] = '\0';
    return at;
}

static int send_publish(redis_sink_t *r, const prj_batch_t *batch, const prj_event_t *event)
{
    char head[1024];
    size_t at = (size_t)snprintf(head, sizeof(head),
                                 "{\"seq\":%llu,\"type\":", (unsigned long long)event->seq);
    at += json_quote(head + at, sizeof(head) - at, event->type);
    at += (size_t)snprintf(head + at, sizeof(head) - at, ",\"stream\":");
    at += json_quote(head + at, sizeof(head) - at, event->stream);
    at +=
        (size_t)snprintf(head + at, sizeof(head) - at,
                         ",\"recorded_at_us\":%lld,\"payload\":", (long long)event->recorded_at_us);
    const char *payload = batch->text + event->payload_at;
    size_t payload_len = strlen(payload);
    char *message = malloc(at + payload_len + 2);
    if (message == NULL)
        return FL_ENOMEM;
    memcpy(message, head, at);
    memcpy(message + at, payload, payload_len);
    message[at + payload_len] = '}';
    command_t c = {0};
    arg(&c, "PUBLISH"), argf(&c, "fl:%s:events", r->base.tenant);
    c.argv[c.argc] = message;
    c.lens[c.argc++] = at + payload_len + 1;
    int rc = queue(r, &c); /* hiredis copies the arguments into its buffer */
    free(message);
    return rc;
}

static int send_checkpoint(redis_sink_t *r, const char *p, const char *name, uint64_t seq)
{
    command_t c = {0};
    arg(&c, "SET"), argf(&c, "%scheckpoint:%s", p, name);
    argf(&c, "%llu", (unsigned long long)seq);
    return queue(r, &c);
}

/* A failed command inside EXEC's answer (Redis ran the others). */
static int exec_result(redis_sink_t *r, const redisReply *reply)
{
    if (reply == NULL)
        return FL_ESINK_DOWN;
    if (reply->type == REDIS_REPLY_ERROR)
        return reply_error(r, reply);
    if (reply->type != REDIS_REPLY_ARRAY) {
        keep_error(r, "EXEC answered no array (a WATCH or a MULTI lost)");
        return FL_ESINK_DOWN;
    }
    for (size_t i = 0; i < reply->elements; i++)
        if (reply->element[i]->type == REDIS_REPLY_ERROR)
            return reply_error(r, reply->element[i]);
    return 0;
}

static int redis_apply(prj_sink_t *sink, prj_target_t target, const char *name,
                       const prj_batch_t *batch)
{
    redis_sink_t *r = redis_of(sink);
    if (!r->ready)
        return FL_ESINK_DOWN;
    char p[REDIS_KEY_LEN_MAX];
    snprintf(p, sizeof(p), "fl:%s:g%llu:", r->base.tenant,
             (unsigned long long)generation_of(r, target));
    command_t c = {0};
    arg(&c, "MULTI");
    int rc = queue(r, &c);
    if (rc == 0)
        rc = send_shifts(r, p, batch);
    for (uint32_t i = 0; i < batch->rows_count && rc == 0; i++)
        rc = send_row(r, p, &batch->rows[i]);
    for (uint32_t i = 0; i < batch->events_count && rc == 0; i++) {
        if (batch->events[i].seq == r->base.reject_seq) { /* the test hook: refused at queueing */
            arg(&c, "SET"), arg(&c, "fl:reject");
            rc = queue(r, &c);
        }
        if (rc == 0 && target == PRJ_TARGET_LIVE) /* a shadow's catch-up publishes nothing */
            rc = send_publish(r, batch, &batch->events[i]);
    }
    if (rc == 0)
        rc = send_checkpoint(r, p, name, batch->last_seq);
    if (rc == 0) {
        arg(&c, "EXEC");
        rc = queue(r, &c);
    }
    if (rc != 0)
        return rc;
    redisReply *exec = NULL;
    rc = replies(r, &exec);
    if (rc == 0) /* else EXEC was refused for that first error, which is the one to keep */
        rc = exec_result(r, exec);
    bool ran = exec != NULL && exec->type == REDIS_REPLY_ARRAY;
    if (exec != NULL)
        freeReplyObject(exec);
    if (rc == FL_ESINK_REJECTED && ran) {
        /* EXEC ran the rest: the checkpoint goes back (rows are as they are now: harmless). */
        int back = send_checkpoint(r, p, name, batch->after_seq);
        redisReply *reply = NULL;
        if (back == 0 && (back = replies(r, &reply)) == 0 && reply != NULL)
            freeReplyObject(reply);
        if (back != 0)
            return back;
    }
    return rc;
}

static int redis_dead_letter(prj_sink_t *sink, const char *name, uint64_t seq, const char *type,
                             const char *error, bool advance)
{
    redis_sink_t *r = redis_of(sink);
    char p[REDIS_KEY_LEN_MAX];
    snprintf(p, sizeof(p), "fl:%s:g%llu:", r->base.tenant, (unsigned long long)r->generation);
    command_t c = {0};
    arg(&c, "MULTI");
    int rc = queue(r, &c);
    arg(&c, "HSET"), argf(&c, "fl:%s:dead:%s", r->base.tenant, name);
    argf(&c, "%llu", (unsigned long long)seq), argf(&c, "%s: %s", type, error);
    if (rc == 0)
        rc = queue(r, &c);
    if (rc == 0 && advance)
        rc = send_checkpoint(r, p, name, seq);
    arg(&c, "EXEC");
    if (rc == 0)
        rc = queue(r, &c);
    if (rc != 0)
        return rc;
    redisReply *exec = NULL;
    int queued_rc = replies(r, &exec);
    if (exec == NULL) /* no answer: the connection was lost (or stopped) on the way */
        return queued_rc != 0 ? queued_rc : FL_ESINK_DOWN;
    rc = exec_result(r, exec);
    if (exec != NULL)
        freeReplyObject(exec);
    return rc != 0 ? rc : queued_rc;
}

/* ---- the rebuild's shadow: a new generation, then the active one moves */

/* Deletes every key of a generation (SCAN, so that Redis is never blocked for long). */
static int drop_generation(redis_sink_t *r, uint64_t generation)
{
    char cursor[32] = "0";
    do {
        command_t c = {0};
        redisReply *reply = NULL;
        arg(&c, "SCAN"), arg(&c, cursor), arg(&c, "MATCH");
        argf(&c, "fl:%s:g%llu:*", r->base.tenant, (unsigned long long)generation);
        arg(&c, "COUNT"), argf(&c, "%d", REDIS_SCAN_COUNT);
        int rc = call(r, &c, &reply);
        if (rc != 0)
            return rc;
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
            freeReplyObject(reply);
            return FL_ESINK_DOWN;
        }
        snprintf(cursor, sizeof(cursor), "%s", reply->element[0]->str);
        redisReply *keys = reply->element[1];
        if (keys->elements > 0) {
            const char **argv = malloc((keys->elements + 1) * sizeof(*argv));
            size_t *lens = malloc((keys->elements + 1) * sizeof(*lens));
            rc = argv == NULL || lens == NULL ? FL_ENOMEM : 0;
            if (rc == 0) {
                argv[0] = "UNLINK", lens[0] = 6;
                for (size_t i = 0; i < keys->elements; i++)
                    argv[i + 1] = keys->element[i]->str, lens[i + 1] = keys->element[i]->len;
                redisReply *gone = NULL;
                if (redisAppendCommandArgv(r->conn, (int)keys->elements + 1, argv, lens) !=
                    REDIS_OK) {
                    keep_error(r, r->conn->errstr);
                    rc = FL_ESINK_DOWN;
                } else {
                    r->queued++;
                    rc = replies(r, &gone);
                }
                if (gone != NULL)
                    freeReplyObject(gone);
            }
            free(argv);
            free(lens);
        }
        freeReplyObject(reply);
        if (rc != 0)
            return rc;
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

static int redis_shadow_begin(prj_sink_t *sink)
{
    redis_sink_t *r = redis_of(sink);
    return drop_generation(r, r->generation + 1); /* what a failed rebuild left */
}

static int redis_shadow_rows(prj_sink_t *sink, const eng_row_t *rows, uint32_t count)
{
    redis_sink_t *r = redis_of(sink);
    char p[REDIS_KEY_LEN_MAX];
    snprintf(p, sizeof(p), "fl:%s:g%llu:", r->base.tenant, (unsigned long long)(r->generation + 1));
    int rc = 0;
    for (uint32_t i = 0; i < count && rc == 0; i++)
        rc = send_row(r, p, &rows[i]);
    redisReply *reply = NULL;
    int read_rc = replies(r, &reply); /* one round trip for the whole pipeline */
    if (reply != NULL)
        freeReplyObject(reply);
    return rc != 0 ? rc : read_rc;
}

/* Redis keeps no events (they were published when they happened), only the shifts' counters:
 * the log up to the rebuild's head counts them anew in the new generation. */
static int redis_shadow_events(prj_sink_t *sink, const prj_batch_t *batch)
{
    redis_sink_t *r = redis_of(sink);
    char p[REDIS_KEY_LEN_MAX];
    snprintf(p, sizeof(p), "fl:%s:g%llu:", r->base.tenant, (unsigned long long)(r->generation + 1));
    int rc = send_shifts(r, p, batch);
    redisReply *reply = NULL;
    int read_rc = replies(r, &reply); /* one round trip for the whole pipeline */
    if (reply != NULL)
        freeReplyObject(reply);
    return rc != 0 ? rc : read_rc;
}

/* A second connection of a rebuild writes the new generation as it connects (the active one
 * + 1): nothing to join. */
static int redis_shadow_join(prj_sink_t *sink)
{
    (void)sink;
    return 0;
}

/* Each shadow call waits for its replies, and keys need no index: nothing to end. */
static int redis_shadow_end(prj_sink_t *sink, bool events)
{
    (void)sink;
    (void)events;
    return 0;
}

static int redis_shadow_swap(prj_sink_t *sink, const char *name)
{
    redis_sink_t *r = redis_of(sink);
    (void)name;
    command_t c = {0};
    arg(&c, "SET"), argf(&c, "fl:%s:active", r->base.tenant);
    argf(&c, "%llu", (unsigned long long)(r->generation + 1));
    int rc = call(r, &c, NULL);
    if (rc != 0)
        return rc;
    uint64_t old = r->generation++;
    return drop_generation(r, old);
}

/* ---- the sink */

static int redis_clone(const prj_sink_t *sink, prj_sink_t **out)
{
    return prj_redis_sink_open(out, sink->url, sink->tenant);
}

static void redis_destroy(prj_sink_t *sink)
{
    redis_disconnect(sink);
    free(redis_of(sink));
}

static const prj_sink_ops_t redis_ops = {
    .kind = "redis",
    .connect = redis_connect,
    .disconnect = redis_disconnect,
    .checkpoint_get = redis_checkpoint_get,
    .apply = redis_apply,
    .dead_letter = redis_dead_letter,
    .shadow_begin = redis_shadow_begin,
    .shadow_rows = redis_shadow_rows,
    .shadow_events = redis_shadow_events,
    .shadow_join = redis_shadow_join,
    .shadow_end = redis_shadow_end,
    .shadow_swap = redis_shadow_swap,
    .clone = redis_clone,
    .destroy = redis_destroy,
};

/* redis://[:password@]host[:port][/db] */
static int parse_url(redis_sink_t *r, const char *url)
{
    const char *at = strncmp(url, "redis://", 8) == 0 ? url + 8 : NULL;
    if (at == NULL)
        return FL_EINVAL;
    const char *credentials = strchr(at, '@');
    if (credentials != NULL) {
        const char *colon = memchr(at, ':', (size_t)(credentials - at));
        const char *password = colon != NULL ? colon + 1 : at;
        size_t len = (size_t)(credentials - password);
        if (len >= sizeof(r->password))
            return FL_EINVAL;
        memcpy(r->password, password, len);
        at = credentials + 1;
    }
    size_t host_len = strcspn(at, ":/");
    if (host_len == 0 || host_len >= sizeof(r->host))
        return FL_EINVAL;
    memcpy(r->host, at, host_len);
    at += host_len;
    r->port = 6379;
    if (*at == ':') {
        char *end;
        long port = strtol(at + 1, &end, 10);
        if (port <= 0 || port > 65535)
            return FL_EINVAL;
        r->port = (int)port;
        at = end;
    }
    if (*at == '/' && at[1] != '\0')
        r->db = atoi(at + 1);
    return 0;
}

int prj_redis_sink_open(prj_sink_t **out, const char *url, const char *tenant)
{
    *out = NULL;
    if (url == NULL || strlen(url) > PRJ_URL_LEN_MAX ||
        !prj__name_valid(tenant, PRJ_TENANT_LEN_MAX))
        return FL_EINVAL;
    redis_sink_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return FL_ENOMEM;
    int rc = parse_url(r, url);
    if (rc != 0) {
        free(r);
        return rc;
    }
    r->base.ops = &redis_ops;
    snprintf(r->base.url, sizeof(r->base.url), "%s", url);
    snprintf(r->base.tenant, sizeof(r->base.tenant), "%s", tenant);
    *out = &r->base;
    return 0;
}
