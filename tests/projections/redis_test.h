/*
 * redis_test.h: what the tests that read a Redis projection share - a connection to the server
 * tests/support/servers.sh started, the dashboards' keys of a tenant's active generation as the
 * lines ledger_state makes of the ledger's own rows, the per-shift counters' sum, and a
 * subscriber that counts how many times each seq was published. The projector may have run in
 * the test, in fouta-project or in foutad: the keys say the same.
 */
#ifndef FL_TESTS_PROJECTIONS_REDIS_TEST_H
#define FL_TESTS_PROJECTIONS_REDIS_TEST_H

#include "tests/projections/projections_test.h"

#include <hiredis/hiredis.h>

/* The kinds of row Redis holds (units, links and articles are PostgreSQL's only). */
#define REDIS_STATE_KINDS                                                                          \
    (1u << ENG_ROW_STOCK | 1u << ENG_ROW_ORDER | 1u << ENG_ROW_LOOM | 1u << ENG_ROW_BEAM |         \
     1u << ENG_ROW_RECORD | 1u << ENG_ROW_SUBLOT)

/* A blocking connection to FL_TEST_REDIS_URL (redis://127.0.0.1:PORT). */
static inline redisContext *redis_connect_test(void)
{
    const char *url = env_or_skip("FL_TEST_REDIS_URL");
    const char *port = strrchr(url, ':');
    cr_assert_not_null(port);
    redisContext *c = redisConnect("127.0.0.1", atoi(port + 1));
    cr_assert(c != NULL && c->err == 0, "redis: %s", c != NULL ? c->errstr : "no memory");
    return c;
}

/* A command's reply, for the caller to free (freeReplyObject). */
static inline redisReply *redis_vcommand(redisContext *c, const char *format, va_list args)
{
    redisReply *reply = redisvCommand(c, format, args);
    cr_assert_not_null(reply, "redis: %s", c->errstr);
    return reply;
}

static inline redisReply *redis_command(redisContext *c, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    redisReply *reply = redis_vcommand(c, format, args);
    va_end(args);
    return reply;
}

/* A reply as a number: an integer, or a string's digits (0 for nil). */
static inline uint64_t redis_vnumber(redisContext *c, const char *format, va_list args)
{
    redisReply *reply = redis_vcommand(c, format, args);
    uint64_t value = reply->type == REDIS_REPLY_INTEGER  ? (uint64_t)reply->integer
                     : reply->type == REDIS_REPLY_STRING ? strtoull(reply->str, NULL, 10)
                                                         : 0;
    freeReplyObject(reply);
    return value;
}

static inline uint64_t redis_number(redisContext *c, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    uint64_t value = redis_vnumber(c, format, args);
    va_end(args);
    return value;
}

/* A hash's field, "" when absent. */
static inline const char *redis_field(const redisReply *hash, const char *name)
{
    for (size_t i = 0; i + 1 < hash->elements; i += 2)
        if (strcmp(hash->element[i]->str, name) == 0)
            return hash->element[i + 1]->str;
    return "";
}

typedef void (*redis_line_cb)(state_t *state, const char *id, const redisReply *hash);

/* The members of one set of the generation whose keys start with p, each with its hash. */
static inline void redis_each_member(redisContext *c, const char *p, const char *set,
                                     const char *hash_prefix, redis_line_cb line, state_t *state)
{
    redisReply *members = redis_command(c, "SMEMBERS %s%s", p, set);
    for (size_t i = 0; i < members->elements; i++) {
        const char *id = members->element[i]->str;
        redisReply *hash = redis_command(c, "HGETALL %s%s:%s", p, hash_prefix, id);
        line(state, id, hash);
        freeReplyObject(hash);
    }
    freeReplyObject(members);
}

static inline void redis_loom_line(state_t *state, const char *id, const redisReply *h)
{
    char line[384];
    snprintf(line, sizeof(line), "loom %s=%s|%s|%s|%s|%s|%s|%s", id, redis_field(h, "stopped"),
             redis_field(h, "stop_code"), redis_field(h, "order"), redis_field(h, "ground_beam"),
             redis_field(h, "pile_beam"), redis_field(h, "first_piece_passed"),
             redis_field(h, "since_seq"));
    state_add(state, line);
}

static inline void redis_order_line(state_t *state, const char *id, const redisReply *h)
{
    char line[384];
    snprintf(line, sizeof(line), "order %s=%s|%s|%s|%s|%s", id, redis_field(h, "state"),
             redis_field(h, "item"), redis_field(h, "unit"), redis_field(h, "planned_milli"),
             redis_field(h, "declared_milli"));
    state_add(state, line);
}

static inline void redis_beam_line(state_t *state, const char *id, const redisReply *h)
{
    char line[384];
    snprintf(line, sizeof(line), "beam %s=%s|%s|%s|%s", id, redis_field(h, "item"),
             redis_field(h, "loom"), redis_field(h, "position"), redis_field(h, "remaining_milli"));
    state_add(state, line);
}

static inline void redis_record_line(state_t *state, const char *id, const redisReply *h)
{
    char line[384];
    snprintf(line, sizeof(line), "record %s=%s|%s|%s|%s", id, redis_field(h, "state"),
             redis_field(h, "subject"), redis_field(h, "count"), redis_field(h, "since_seq"));
    state_add(state, line);
}

static inline void redis_sublot_line(state_t *state, const char *id, const redisReply *h)
{
    char line[384];
    snprintf(line, sizeof(line), "sublot %s=%s|%s|%s|%s", id, redis_field(h, "state"),
             redis_field(h, "sub"), redis_field(h, "item"), redis_field(h, "out_milli"));
    state_add(state, line);
}

/* "item|status|grade" -> "stock item|location|status|grade=qty" */
static inline void redis_stock_line(state_t *state, const char *location, const redisReply *h)
{
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        char item[128], rest[128], line[384];
        const char *bar = strchr(h->element[i]->str, '|');
        cr_assert_not_null(bar);
        snprintf(item, sizeof(item), "%.*s", (int)(bar - h->element[i]->str), h->element[i]->str);
        snprintf(rest, sizeof(rest), "%s", bar + 1);
        snprintf(line, sizeof(line), "stock %s|%s|%s=%s", item, location, rest,
                 h->element[i + 1]->str);
        state_add(state, line);
    }
}

static inline uint64_t redis_active_generation(redisContext *c, const char *tenant)
{
    return redis_number(c, "GET fl:%s:active", tenant);
}

/* The key prefix of the tenant's active generation: "fl:<tenant>:g<N>:". */
static inline void redis_prefix(redisContext *c, const char *tenant, char *out, size_t size)
{
    snprintf(out, size, "fl:%s:g%llu:", tenant,
             (unsigned long long)redis_active_generation(c, tenant));
}

/* The active generation's dashboards as lines. */
static inline void redis_state(redisContext *c, const char *tenant, state_t *state)
{
    char p[128];
    redis_prefix(c, tenant, p, sizeof(p));
    redis_each_member(c, p, "looms", "loom", redis_loom_line, state);
    redis_each_member(c, p, "orders", "order", redis_order_line, state);
    redis_each_member(c, p, "beams", "beam", redis_beam_line, state);
    redis_each_member(c, p, "records", "record", redis_record_line, state);
    redis_each_member(c, p, "sublots", "sublot", redis_sublot_line, state);
    redis_each_member(c, p, "stock:locations", "stock", redis_stock_line, state);
}

/* The dashboards equal the ledger's state and the checkpoint is its head. */
static inline void redis_assert_equals_ledger(redisContext *c, const char *tenant)
{
    state_t expected, actual;
    state_init(&expected);
    state_init(&actual);
    ledger_state(&expected, REDIS_STATE_KINDS);
    redis_state(c, tenant, &actual);
    state_assert_equal(&expected, &actual, "redis");
    state_free(&expected);
    state_free(&actual);
    char p[128];
    redis_prefix(c, tenant, p, sizeof(p));
    cr_assert_eq(redis_number(c, "GET %scheckpoint:redis", p), head_seq());
}

/* The per-shift counters add: a batch applied twice would show in them. Their `events` fields,
 * over every shift counted, sum to the head. */
static inline void redis_assert_counted_once(redisContext *c, const char *tenant)
{
    char p[128];
    redis_prefix(c, tenant, p, sizeof(p));
    redisReply *keys = redis_command(c, "SMEMBERS %sshifts:counted", p);
    uint64_t events = 0;
    for (size_t i = 0; i < keys->elements; i++)
        events += redis_number(c, "HGET %s%s events", p, keys->element[i]->str);
    freeReplyObject(keys);
    cr_assert_eq(events, head_seq(), "%llu events counted of %llu", (unsigned long long)events,
                 (unsigned long long)head_seq());
}

/* ---- a subscriber that counts the publications of each seq */

typedef struct {
    redisContext *conn;
    uint64_t until_seq; /* stop once this seq is seen */
    uint64_t seq_max;   /* times has this many entries: seqs 0..seq_max - 1 */
    unsigned *times;
    pthread_t thread;
} redis_subscriber_t;

static inline void *redis_subscriber_main(void *arg)
{
    redis_subscriber_t *s = arg;
    void *reply;
    while (redisGetReply(s->conn, &reply) == REDIS_OK) {
        redisReply *r = reply;
        uint64_t seq = 0;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
            strcmp(r->element[0]->str, "message") == 0) {
            const char *at = strstr(r->element[2]->str, "\"seq\":");
            seq = at != NULL ? strtoull(at + 6, NULL, 10) : 0;
            if (seq < s->seq_max)
                s->times[seq]++;
        }
        freeReplyObject(r);
        if (seq >= s->until_seq)
            break;
    }
    return NULL;
}

/* Subscribes to the tenant's events channel; counting starts with redis_subscriber_run. */
static inline void redis_subscriber_start(redis_subscriber_t *s, const char *tenant,
                                          uint64_t seq_max)
{
    memset(s, 0, sizeof(*s));
    s->times = calloc(seq_max, sizeof(*s->times));
    cr_assert_not_null(s->times);
    s->seq_max = seq_max;
    s->conn = redis_connect_test();
    redisSetTimeout(s->conn, (struct timeval){.tv_sec = 30});
    redisReply *reply = redisCommand(s->conn, "SUBSCRIBE fl:%s:events", tenant);
    cr_assert_not_null(reply);
    freeReplyObject(reply);
    s->until_seq = UINT64_MAX;
}

static inline void redis_subscriber_run(redis_subscriber_t *s, uint64_t until_seq)
{
    s->until_seq = until_seq;
    cr_assert_eq(pthread_create(&s->thread, NULL, redis_subscriber_main, s), 0);
}

/* Joins, and checks each seq 1..head was published once (but skip, never). */
static inline void redis_subscriber_assert_once(redis_subscriber_t *s, uint64_t head, uint64_t skip)
{
    pthread_join(s->thread, NULL);
    redisFree(s->conn);
    cr_assert_lt(head, s->seq_max);
    for (uint64_t seq = 1; seq <= head; seq++)
        cr_assert_eq(s->times[seq], seq == skip ? 0 : 1, "seq %llu published %u times",
                     (unsigned long long)seq, s->times[seq]);
    free(s->times);
    s->times = NULL;
}

/* Ends a subscriber run until seq_max - 1 once every event is projected: a message of that
 * seq, published (on c) after them, is the last it reads. */
static inline void redis_subscriber_finish(redis_subscriber_t *s, redisContext *c,
                                           const char *tenant, uint64_t head)
{
    freeReplyObject(redis_command(c, "PUBLISH fl:%s:events {\"seq\":%llu}", tenant,
                                  (unsigned long long)(s->seq_max - 1)));
    redis_subscriber_assert_once(s, head, 0);
}

#endif
