/*
 * foutad with both projections (--postgres-url, --redis-url: the real PostgreSQL 15 and Redis
 * that tests/support/servers.sh starts) SIGKILLed at random moments while four clients post
 * through HTTP, round after round on the same data. The kill lands wherever it lands: in a
 * write batch, between a projector's batch and its checkpoint, in a MULTI. After the last
 * restart both projectors must catch up, bounded by a deadline (no hang), and then hold exactly
 * the ledger: PostgreSQL's events table each seq 1..head once with the ledger's event id, type
 * and stream, each applied by one committed transaction (a trigger counts them), every state
 * table equal to the ledger's inline state, no dead letter; Redis's
 * checkpoint at the head, its dashboards equal to the ledger, its per-shift counters summing to
 * the head and each event published once to a subscriber that stayed connected through every
 * kill. And, as in test_crash_http, every event a client saw acknowledged is in the ledger
 * exactly once, and the chain verifies.
 */
#include "tests/clients/crash_poster.h"
#include "tests/projections/pg_test.h"
#include "tests/projections/redis_test.h"

TestSuite(crash_sinks, .timeout = 600);

#define ROUNDS_DEFAULT     4 /* FL_CRASH_ROUNDS asks for more */
#define ROUNDS_MAX         64
#define POSTERS            4
#define KILL_AFTER_MS_MIN  200
#define KILL_AFTER_MS_SPAN 1000       /* the kill comes at a random moment of this span */
#define CONVERGE_MS_MAX    120000     /* both projectors at the head within this, or it is a hang */
#define PUBLISHED_SEQ_MAX  (1u << 20) /* the subscriber counts seqs below this */
#define SCHEMA             "fouta_" TEST_TENANT

static server_t server;
static PGconn *db;
static redisContext *redis;
static unsigned behind_at_kill[2]; /* rounds whose kill found PostgreSQL, Redis behind */

/* Event i of a poster whose ids start at first_id: even, a unit received at MP1; odd, that
 * unit moved to one of three other stores. Units and balances move in both projections. */
static void poster_event(char *out, size_t size, unsigned first_id, unsigned i)
{
    char hu[32];
    snprintf(hu, sizeof(hu), "K%u", first_id + (i & ~1u));
    if (i % 2 == 0) {
        event_goods(out, size, first_id + i, hu, "1000");
    } else {
        char to[8];
        snprintf(to, sizeof(to), "MP%u", 2 + (i / 2) % 3);
        event_move(out, size, first_id + i, hu, "MP1", to);
    }
}

static const char *const *sink_flags(void)
{
    static const char *flags[5];
    flags[0] = "--postgres-url";
    flags[1] = env_or_skip("FL_TEST_PG_URL");
    flags[2] = "--redis-url";
    flags[3] = env_or_skip("FL_TEST_REDIS_URL");
    flags[4] = NULL;
    return flags;
}

/* The projector's checkpoint in PostgreSQL, 0 before its schema exists. */
static uint64_t pg_checkpoint(void)
{
    PGresult *res = PQexec(db, "SELECT seq FROM " SCHEMA ".projector_checkpoints"
                               " WHERE projector = 'postgres'");
    uint64_t seq = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
                       ? strtoull(PQgetvalue(res, 0, 0), NULL, 10)
                       : 0;
    PQclear(res);
    return seq;
}

static uint64_t head_now(void)
{
    client_t c;
    client_open(&c, server.port);
    response_t r;
    client_request(&c, "GET", "/api/v1/head", "", NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    uint64_t head = json_number(r.body, "seq");
    response_free(&r);
    client_close(&c);
    return head;
}

/* One round: posters until the kill, the restart, the in-flight events posted again. Whether
 * the kill found a projector behind the log is counted, not asserted (it depends on timing):
 * it says how often the rounds killed a projection at work. */
static void crash_round(crash_poster_t posters[POSTERS], unsigned *id_next, unsigned kill_after_ms)
{
    pthread_t threads[POSTERS];
    for (int i = 0; i < POSTERS; i++) {
        posters[i] =
            (crash_poster_t){.port = server.port, .first_id = *id_next, .event = poster_event};
        *id_next += CRASH_EVENTS_MAX;
        cr_assert_eq(pthread_create(&threads[i], NULL, crash_post_until_killed, &posters[i]), 0);
    }
    sleep_ms(kill_after_ms);
    kill(server.pid, SIGKILL);
    waitpid(server.pid, NULL, 0);
    server.pid = 0;
    for (int i = 0; i < POSTERS; i++)
        pthread_join(threads[i], NULL);
    uint64_t at_kill[2] = {pg_checkpoint(),
                           redis_number(redis, "GET fl:" TEST_TENANT ":g1:checkpoint:redis")};
    server_start_args(&server, sink_flags()); /* the same directory: recovery */
    uint64_t head = head_now();
    for (int sink = 0; sink < 2; sink++)
        behind_at_kill[sink] += at_kill[sink] < head;
    for (int i = 0; i < POSTERS; i++) {
        cr_assert_gt(posters[i].acked, 0, "poster %d posted nothing", i);
        crash_post_in_flight_again(&posters[i], server.port);
    }
}

/* The checkpoint of the projector named name in /health/ready's body (0 when absent). */
static uint64_t ready_checkpoint(const char *body, const char *name)
{
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "\"name\":\"%s\"", name);
    const char *at = strstr(body, pattern);
    return at != NULL ? json_number(at, "checkpoint") : 0;
}

/* Waits until both projectors' checkpoints (/health/ready) reach the head (GET /api/v1/head),
 * which nothing moves any more; fails, showing the projectors, past CONVERGE_MS_MAX. */
static uint64_t wait_converged(void)
{
    client_t c;
    client_open(&c, server.port);
    char last[2048] = "";
    uint64_t head = 0;
    for (unsigned waited = 0; waited <= CONVERGE_MS_MAX; waited += 50) {
        response_t r;
        client_request(&c, "GET", "/api/v1/head", "", NULL, &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        head = json_number(r.body, "seq");
        response_free(&r);
        client_request(&c, "GET", "/health/ready", "", NULL, &r);
        snprintf(last, sizeof(last), "%s", r.body);
        bool done = ready_checkpoint(r.body, "postgres") == head &&
                    ready_checkpoint(r.body, "redis") == head;
        response_free(&r);
        if (done) {
            cr_log_info("both projections at head %llu after %u ms", (unsigned long long)head,
                        waited);
            client_close(&c);
            return head;
        }
        sleep_ms(50);
    }
    cr_assert_fail("the projections did not reach head %llu in %u ms: %s", (unsigned long long)head,
                   CONVERGE_MS_MAX, last);
    return 0;
}

/* Each acknowledged event is in the ledger (the events table's distinct ids, checked against
 * the log below, make it once): how many are missing. */
static unsigned acked_missing(const crash_poster_t *posters, unsigned count)
{
    unsigned missing = 0;
    for (unsigned p = 0; p < count; p++)
        for (unsigned k = 0; k < posters[p].acked; k++) {
            char text[40];
            uint8_t id[ENG_ID_BYTES];
            snprintf(text, sizeof(text), "0190b2a0-7c1d-7000-8000-%012u", posters[p].first_id + k);
            cr_assert_eq(fl_uuid_parse(text, strlen(text), id), 0);
            eng_position_t position;
            missing += eng_lookup_id(ledger, id, &position) != 0;
        }
    return missing;
}

/* The log as "seq id type stream" lines, and the same from PostgreSQL's events table. */
static void assert_events_table_equals_log(void)
{
    state_t expected, actual;
    state_init(&expected);
    state_init(&actual);
    eng_iter_t *iter;
    cr_assert_eq(eng_iter_log(ledger, 1, ENG_FORWARD, &iter), 0);
    eng_record_t record;
    int rc;
    while ((rc = eng_iter_next(iter, &record)) == 0) {
        char id[37], line[384];
        fl_uuid_format(record.id, id);
        snprintf(line, sizeof(line), "%llu %s %.*s %.*s", (unsigned long long)record.seq, id,
                 (int)record.type.len, record.type.ptr, (int)record.stream.len, record.stream.ptr);
        state_add(&expected, line);
    }
    cr_assert_eq(rc, FL_EEOF);
    eng_iter_close(iter);
    pg_lines(db,
             "SELECT seq || ' ' || event_id || ' ' || type || ' ' || stream FROM " SCHEMA ".events",
             &actual);
    state_assert_equal(&expected, &actual, "events");
    state_free(&expected);
    state_free(&actual);
    cr_assert_eq(pg_number(db, "SELECT count(DISTINCT event_id) FROM " SCHEMA ".events"),
                 head_seq(), "an event id twice in the ledger");
    cr_assert_eq(pg_number(db, "SELECT count(*) FROM " SCHEMA ".dead_letters"), 0);
}

/* The sinks start empty for this tenant (servers.sh gives each test executable its own, but a
 * run by hand may reuse them). */
static void sinks_clear(void)
{
    pg_sql_ok(db, "DROP SCHEMA IF EXISTS " SCHEMA " CASCADE");
    redisReply *keys = redis_command(redis, "KEYS fl:" TEST_TENANT ":*");
    for (size_t i = 0; i < keys->elements; i++)
        freeReplyObject(redis_command(redis, "DEL %s", keys->element[i]->str));
    freeReplyObject(keys);
}

/* Once foutad's PostgreSQL projector has made the schema (before the first event), each
 * application of an event is counted from then on. */
static void count_applications_once_connected(void)
{
    for (unsigned waited = 0; waited < CONVERGE_MS_MAX; waited += 20) {
        if (pg_number(db, "SELECT count(*) FROM pg_tables WHERE schemaname = '" SCHEMA
                          "' AND tablename = 'events'") == 1) {
            pg_count_applications(db, SCHEMA);
            return;
        }
        sleep_ms(20);
    }
    cr_assert_fail("foutad's projector made no schema " SCHEMA);
}

/* Both projections hold exactly the ledger (opened in this process), each event once. */
static void assert_sinks_equal_ledger(redis_subscriber_t *subscriber)
{
    pg_assert_equals_ledger(db, SCHEMA);
    pg_assert_applied_once(db, SCHEMA);
    assert_events_table_equals_log();
    redis_assert_equals_ledger(redis, TEST_TENANT);
    redis_assert_counted_once(redis, TEST_TENANT);
    redis_subscriber_finish(subscriber, redis, TEST_TENANT, head_seq());
}

static void ledger_open_after_stop(void)
{
    snprintf(ledger_dir, sizeof(ledger_dir), "%s/data/tenants/" TEST_TENANT "/ledger", server.dir);
    eng_config_t config = {.dir = ledger_dir, .rules = ENG_RULES_PLANT};
    cr_assert_eq(eng_open(&ledger, &config), 0);
}

Test(crash_sinks, projections_converge_exactly_once_after_foutad_is_sigkilled_round_after_round)
{
    const char *env = getenv("FL_CRASH_ROUNDS");
    int rounds = env != NULL && atoi(env) > 0 ? atoi(env) : ROUNDS_DEFAULT;
    env = getenv("FL_CRASH_SEED");
    unsigned seed = env != NULL ? (unsigned)atoi(env) : (unsigned)time(NULL);
    cr_log_info("FL_CRASH_SEED=%u", seed);
    db = pg_connect_test();
    redis = redis_connect_test();
    sinks_clear();
    static redis_subscriber_t subscriber;
    redis_subscriber_start(&subscriber, TEST_TENANT, PUBLISHED_SEQ_MAX);
    redis_subscriber_run(&subscriber, PUBLISHED_SEQ_MAX - 1);

    server_start_args(&server, sink_flags());
    count_applications_once_connected();
    static crash_poster_t posters[ROUNDS_MAX][POSTERS];
    cr_assert_leq(rounds, ROUNDS_MAX);
    unsigned id_next = 1;
    for (int round = 0; round < rounds; round++)
        crash_round(posters[round], &id_next,
                    KILL_AFTER_MS_MIN + (unsigned)rand_r(&seed) % KILL_AFTER_MS_SPAN);
    uint64_t head = wait_converged();
    cr_assert_eq(server_stop_keep(&server), 0, "a clean stop");

    ledger_open_after_stop();
    cr_assert_eq(head_seq(), head);
    uint64_t checked = 0, bad = 0;
    cr_assert_eq(eng_verify(ledger, &checked, &bad), 0, "the chain breaks at %llu",
                 (unsigned long long)bad);
    cr_assert_eq(checked, head);
    unsigned acked = 0;
    for (int round = 0; round < rounds; round++)
        for (int i = 0; i < POSTERS; i++)
            acked += posters[round][i].acked;
    unsigned missing = acked_missing(&posters[0][0], (unsigned)rounds * POSTERS);
    cr_log_info("%u events acknowledged over %d kills of foutad with both projections, %u lost; "
                "head %llu; the kill found PostgreSQL behind in %u rounds, Redis in %u",
                acked, rounds, missing, (unsigned long long)head, behind_at_kill[0],
                behind_at_kill[1]);
    cr_assert_eq(missing, 0, "%u of the acknowledged events were lost", missing);
    assert_sinks_equal_ledger(&subscriber);

    eng_close(ledger);
    ledger = NULL;
    redisFree(redis);
    PQfinish(db);
    server_stop(&server);
}
