/*
 * The Redis projection against a real Redis (tests/support/servers.sh): after a day of the
 * plant the dashboards' keys equal the ledger's state and each event is published once; a
 * projector killed mid-way publishes nothing twice; a Redis stopped under load refuses no
 * append and is caught up; a refused batch leaves a dead letter; a rebuild moves the active
 * generation to keys equal to the ledger. Faults: a Redis that answers nothing (SIGSTOP, CLIENT
 * PAUSE) and connections killed are each a timeout or an error, then a reconnect, never a hang;
 * nothing is published or counted twice, even when the batch of a connection given up reaches
 * Redis late; a projector stops promptly while Redis answers nothing.
 */
#include "tests/projections/redis_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>

#define FAULT_IO_TIMEOUT_MS 1000 /* the projector's io_timeout_ms in the fault tests */

static redisContext *rc_db;
static char tenant[PRJ_TENANT_LEN_MAX + 1];
static bool paused; /* the test stopped Redis: teardown continues it, even after a failure */

static void redis_setup(void)
{
    servers_take(false);
    projections_setup();
    rc_db = redis_connect_test();
    snprintf(tenant, sizeof(tenant), "t%d_%ld", (int)getpid(), (long)time(NULL) % 100000);
}

static void redis_teardown(void)
{
    if (paused)
        servers("redis-resume");
    redisFree(rc_db);
    teardown();
}

TestSuite(redis, .init = redis_setup, .fini = redis_teardown, .timeout = 120);

static redisReply *command(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    redisReply *reply = redis_vcommand(rc_db, format, args);
    va_end(args);
    return reply;
}

static uint64_t number(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    uint64_t value = redis_vnumber(rc_db, format, args);
    va_end(args);
    return value;
}

static uint64_t active_generation(void)
{
    return redis_active_generation(rc_db, tenant);
}

static void assert_redis_equals_ledger(void)
{
    redis_assert_equals_ledger(rc_db, tenant);
}

static prj_sink_t *sink_open(void)
{
    prj_sink_t *sink = NULL;
    cr_assert_eq(prj_redis_sink_open(&sink, env_or_skip("FL_TEST_REDIS_URL"), tenant), 0);
    return sink;
}

/* ---- a subscriber that counts the publications of each seq */

#define SEQ_MAX 4096

typedef redis_subscriber_t subscriber_t;

static void subscriber_start(subscriber_t *s)
{
    redis_subscriber_start(s, tenant, SEQ_MAX);
}

Test(redis, after_a_plant_day_the_dashboard_keys_equal_the_ledger_and_each_event_is_published)
{
    static subscriber_t subscriber;
    subscriber_start(&subscriber);
    prj_sink_t *sink = sink_open();
    prj_projector_t *projector = projector_start(sink, "redis", 7, PRJ_POISON_SKIP);
    the_plant_works_a_day();
    uint64_t head = head_seq();
    redis_subscriber_run(&subscriber, head);
    caught_up(projector, 30000);
    assert_redis_equals_ledger();
    redis_subscriber_assert_once(&subscriber, head, 0);
    /* The board's lists: the loom stopped then restarted; no intervention is open. */
    char p[128];
    snprintf(p, sizeof(p), "fl:%s:g1:", tenant);
    cr_assert_eq(number("HGET %sloom:L1 stopped", p), 0);
    cr_assert_eq(number("HGET %sorder:OF1 declared_milli", p), 240000);
    cr_assert_eq(number("SCARD %sopen:int", p), 0);
    cr_assert_eq(number("HGET %sstock:CUST-1 TW-500|shipped|first", p), 210000);
    prj_stop(projector);
    prj_sink_close(sink);
}

Test(redis, a_projector_killed_mid_projection_and_restarted_publishes_every_event_once)
{
    static subscriber_t subscriber;
    subscriber_start(&subscriber);
    the_plant_works_a_day();
    for (unsigned i = 0; i < 300; i++)
        load_post(i);
    uint64_t head = head_seq();
    redis_subscriber_run(&subscriber, head);
    eng_close(ledger);
    pid_t child = project_in_child("--redis", env_or_skip("FL_TEST_REDIS_URL"), tenant, "5");
    uint64_t at = 0;
    for (int tries = 0; tries < 2000 && at < head / 3; tries++) {
        wait_ms(5);
        at = number("GET fl:%s:g1:checkpoint:redis", tenant);
    }
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    cr_assert(WIFSIGNALED(status), "the child ended by itself: %d", status);
    at = number("GET fl:%s:g1:checkpoint:redis", tenant);
    cr_assert(at > 0 && at < head, "killed at %llu of %llu", (unsigned long long)at,
              (unsigned long long)head);
    ledger_open();
    prj_sink_t *sink = sink_open();
    prj_projector_t *projector = projector_start(sink, "redis", 50, PRJ_POISON_SKIP);
    caught_up(projector, 30000);
    prj_stop(projector);
    assert_redis_equals_ledger();
    redis_subscriber_assert_once(&subscriber, head, 0);
    prj_sink_close(sink);
}

Test(redis, redis_stopped_under_load_refuses_no_append_and_is_caught_up_to_a_rebuild)
{
    servers_take(true);
    prj_sink_t *sink = sink_open();
    prj_projector_t *projector = projector_start(sink, "redis", 100, PRJ_POISON_SKIP);
    the_plant_works_a_day();
    caught_up(projector, 30000);
    load_t load;
    load_start(&load, 600);
    wait_ms(300);
    servers("redis-stop");
    wait_ms(1500);
    prj_status_t status;
    prj_status(projector, &status);
    cr_assert_eq(status.state, PRJ_STATE_FAULTED, "%s", prj_state_name(status.state));
    servers("redis-start");
    load_join(&load);
    caught_up(projector, 60000);
    redisFree(rc_db);
    rc_db = redis_connect_test();
    assert_redis_equals_ledger();
    state_t before, after;
    state_init(&before);
    state_init(&after);
    redis_state(rc_db, tenant, &before);
    cr_assert_eq(prj_rebuild(projector, 30000, NULL), 0);
    cr_assert_eq(active_generation(), 2);
    redis_state(rc_db, tenant, &after);
    state_assert_equal(&before, &after, "rebuilt");
    state_free(&before);
    state_free(&after);
    prj_stop(projector);
    prj_sink_close(sink);
}

/* ---- a Redis that answers nothing, connections killed */

/* Ends a subscriber run until SEQ_MAX - 1 once every event is projected. */
static void subscriber_finish(subscriber_t *s, uint64_t head)
{
    redis_subscriber_finish(s, rc_db, tenant, head);
}

static void assert_counted_once(void)
{
    redis_assert_counted_once(rc_db, tenant);
}

static void redis_pause(void)
{
    paused = true;
    servers("redis-pause");
}

static void redis_resume(void)
{
    servers("redis-resume");
    paused = false;
}

static subscriber_t fault_subscriber;

/* A fault test's start: the servers taken, every publication counted from now on, a projector
 * (batch, io_timeout_ms; 0: the default) on the Redis at url, and a day of the plant posted. */
static void redis_fault_begin(fault_scenario_t *s, const char *url, uint32_t batch,
                              uint32_t io_timeout_ms)
{
    servers_take(true);
    subscriber_start(&fault_subscriber);
    redis_subscriber_run(&fault_subscriber, SEQ_MAX - 1);
    s->sink = NULL;
    cr_assert_eq(prj_redis_sink_open(&s->sink, url, tenant), 0);
    s->projector = projector_start_timeout(s->sink, "redis", batch, io_timeout_ms);
    the_plant_works_a_day();
}

/* The keys equal the ledger's state, and each event was counted and published once. */
static void assert_redis_applied_once(void)
{
    assert_redis_equals_ledger();
    assert_counted_once();
    subscriber_finish(&fault_subscriber, head_seq());
}

Test(redis, a_stalled_redis_times_out_reconnects_and_publishes_each_event_once)
{
    fault_scenario_t s;
    redis_fault_begin(&s, env_or_skip("FL_TEST_REDIS_URL"), 100, FAULT_IO_TIMEOUT_MS);
    caught_up(s.projector, 30000);
    load_start(&s.load, 600);
    wait_ms(200);
    redis_pause();
    assert_stall_times_out_and_retries(s.projector, "Redis did not answer within 1 s");
    redis_resume();
    load_join(&s.load);
    caught_up(s.projector, 30000);
    assert_redis_applied_once();
    scenario_end(&s);
}

Test(redis, a_paused_redis_times_out_and_counts_and_publishes_each_event_once)
{
    fault_scenario_t s;
    redis_fault_begin(&s, env_or_skip("FL_TEST_REDIS_URL"), 100, FAULT_IO_TIMEOUT_MS);
    caught_up(s.projector, 30000);
    load_start(&s.load, 600);
    wait_ms(200);
    /* Every client waits, this one too: the pause ends by itself. The batch the projector gave
     * up runs when it ends, before the new connection's first command. */
    freeReplyObject(command("CLIENT PAUSE 2500 ALL"));
    uint32_t ms = faulted_with(s.projector, "Redis did not answer within 1 s", 10000);
    cr_log_info("faulted %u ms after the pause", ms);
    load_join(&s.load);
    caught_up(s.projector, 30000);
    assert_redis_applied_once();
    assert_retried(s.projector);
    scenario_end(&s);
}

/* Every client but this one and the subscriber (of type pubsub). */
static uint64_t kill_normal_clients(void)
{
    return number("CLIENT KILL TYPE normal SKIPME yes");
}

Test(redis, a_dropped_redis_connection_reconnects_and_publishes_each_event_once)
{
    fault_scenario_t s;
    redis_fault_begin(&s, env_or_skip("FL_TEST_REDIS_URL"), 20, FAULT_IO_TIMEOUT_MS);
    load_start(&s.load, 600);
    uint64_t killed = kill_projector_six_times(kill_normal_clients);
    load_join(&s.load);
    cr_assert_geq(killed, 3, "the projector's connection was killed %llu times",
                  (unsigned long long)killed);
    caught_up(s.projector, 30000);
    assert_redis_applied_once();
    assert_retried(s.projector);
    scenario_end(&s);
}

/* ---- one connection's bytes held on the way, then delivered late */

#define PROXY_PAIRS_MAX 16

/* A client's connection and the proxy's own to Redis. */
typedef struct {
    int client, upstream; /* -1 once closed */
    bool held;            /* what the client sends waits in buffer */
    char *buffer;
    size_t len, cap;
} proxy_pair_t;

/* A TCP proxy to Redis on loopback. Asked to hold, it keeps what the connections open then send
 * from Redis - what a network partition does to one connection, while new ones get through -
 * and on release delivers it late, as a partition that heals: the client that had given up has
 * closed its end long before. */
typedef struct {
    int listener, port, redis_port;
    atomic_bool hold, release, stop;
    proxy_pair_t pairs[PROXY_PAIRS_MAX];
    pthread_t thread;
} proxy_t;

static void write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the other end closed it: what is left goes nowhere */
        data += n, len -= (size_t)n;
    }
}

static void pair_close(proxy_pair_t *pair)
{
    if (pair->client >= 0)
        close(pair->client);
    if (pair->upstream >= 0)
        close(pair->upstream);
    pair->client = pair->upstream = -1;
    pair->held = false;
    pair->len = 0;
}

static void proxy_accept(proxy_t *proxy)
{
    int client = accept(proxy->listener, NULL, NULL);
    int upstream = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in redis = {.sin_family = AF_INET, .sin_port = htons(proxy->redis_port)};
    redis.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < PROXY_PAIRS_MAX; i++) {
        proxy_pair_t *pair = &proxy->pairs[i];
        if (pair->client >= 0 || pair->upstream >= 0)
            continue;
        if (client >= 0 && upstream >= 0 &&
            connect(upstream, (struct sockaddr *)&redis, sizeof(redis)) == 0) {
            pair->client = client, pair->upstream = upstream;
            return;
        }
        break;
    }
    close(client);
    close(upstream);
}

/* Moves what one side sent to the other, or into the buffer while held. */
static void proxy_move(proxy_pair_t *pair, bool from_client)
{
    char data[16384];
    ssize_t n = read(from_client ? pair->client : pair->upstream, data, sizeof(data));
    if (n <= 0 && from_client && pair->held) { /* the client gave up; the bytes wait */
        close(pair->client);
        pair->client = -1;
    } else if (n <= 0) {
        pair_close(pair);
    } else if (from_client && pair->held) {
        if (pair->len + (size_t)n > pair->cap) {
            pair->cap = (pair->len + (size_t)n) * 2;
            pair->buffer = realloc(pair->buffer, pair->cap);
        }
        memcpy(pair->buffer + pair->len, data, (size_t)n);
        pair->len += (size_t)n;
    } else if (from_client) {
        write_all(pair->upstream, data, (size_t)n);
    } else if (pair->client >= 0) {
        write_all(pair->client, data, (size_t)n);
    }
}

/* What the test asked: hold every connection open now, or deliver what was held. */
static void proxy_commands(proxy_t *proxy)
{
    bool hold = atomic_exchange(&proxy->hold, false);
    bool release = atomic_exchange(&proxy->release, false);
    for (int i = 0; i < PROXY_PAIRS_MAX; i++) {
        proxy_pair_t *pair = &proxy->pairs[i];
        if (hold && pair->upstream >= 0)
            pair->held = true;
        if (release && pair->held) {
            write_all(pair->upstream, pair->buffer, pair->len);
            pair->held = false;
            pair->len = 0;
            if (pair->client < 0)
                pair_close(pair); /* Redis reads all that was sent, then the end */
        }
    }
}

static void *proxy_main(void *arg)
{
    proxy_t *proxy = arg;
    while (!atomic_load(&proxy->stop)) {
        proxy_commands(proxy);
        struct pollfd fds[1 + 2 * PROXY_PAIRS_MAX] = {{.fd = proxy->listener, .events = POLLIN}};
        for (int i = 0; i < PROXY_PAIRS_MAX; i++) {
            fds[1 + 2 * i] = (struct pollfd){.fd = proxy->pairs[i].client, .events = POLLIN};
            fds[2 + 2 * i] = (struct pollfd){.fd = proxy->pairs[i].upstream, .events = POLLIN};
        }
        if (poll(fds, 1 + 2 * PROXY_PAIRS_MAX, 20) <= 0)
            continue;
        if (fds[0].revents & POLLIN)
            proxy_accept(proxy);
        for (int i = 0; i < PROXY_PAIRS_MAX; i++) {
            if (fds[1 + 2 * i].revents != 0 && proxy->pairs[i].client >= 0)
                proxy_move(&proxy->pairs[i], true);
            if (fds[2 + 2 * i].revents != 0 && proxy->pairs[i].upstream >= 0)
                proxy_move(&proxy->pairs[i], false);
        }
    }
    for (int i = 0; i < PROXY_PAIRS_MAX; i++) {
        pair_close(&proxy->pairs[i]);
        free(proxy->pairs[i].buffer);
    }
    close(proxy->listener);
    return NULL;
}

static void proxy_start(proxy_t *proxy)
{
    memset(proxy, 0, sizeof(*proxy));
    for (int i = 0; i < PROXY_PAIRS_MAX; i++)
        proxy->pairs[i].client = proxy->pairs[i].upstream = -1;
    const char *url = env_or_skip("FL_TEST_REDIS_URL");
    proxy->redis_port = atoi(strrchr(url, ':') + 1);
    proxy->listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = {.sin_family = AF_INET};
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(any);
    cr_assert_eq(bind(proxy->listener, (struct sockaddr *)&any, sizeof(any)), 0);
    cr_assert_eq(listen(proxy->listener, 16), 0);
    cr_assert_eq(getsockname(proxy->listener, (struct sockaddr *)&any, &len), 0);
    proxy->port = ntohs(any.sin_port);
    cr_assert_eq(pthread_create(&proxy->thread, NULL, proxy_main, proxy), 0);
}

static void proxy_stop(proxy_t *proxy)
{
    atomic_store(&proxy->stop, true);
    pthread_join(proxy->thread, NULL);
}

Test(redis, a_batch_held_on_the_network_and_delivered_late_is_not_applied_twice)
{
    static proxy_t proxy;
    proxy_start(&proxy);
    char url[64];
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", proxy.port);
    fault_scenario_t s;
    redis_fault_begin(&s, url, 100, FAULT_IO_TIMEOUT_MS);
    caught_up(s.projector, 30000);
    /* The projector's connection goes silent; its batch waits on the way; it gives up after
     * its timeout and reconnects through the proxy, which lets new connections through. */
    atomic_store(&proxy.hold, true);
    wait_ms(100);
    for (unsigned i = 0; i < 20; i++)
        load_post(i);
    caught_up(s.projector, 30000);
    prj_status_t status;
    prj_status(s.projector, &status);
    cr_assert_gt(status.retries, 0, "the batch went through: nothing was held");
    /* The partition heals: the batch reaches Redis, on the connection the projector gave up. */
    atomic_store(&proxy.release, true);
    wait_ms(300);
    assert_redis_applied_once();
    scenario_end(&s);
    proxy_stop(&proxy);
}

Test(redis, stopping_a_projector_while_redis_is_stalled_returns_promptly)
{
    fault_scenario_t s;
    /* The default timeout (PRJ_IO_TIMEOUT_S): the stop must not wait for it. */
    redis_fault_begin(&s, env_or_skip("FL_TEST_REDIS_URL"), 100, 0);
    caught_up(s.projector, 30000);
    redis_pause();
    for (unsigned i = 0; i < 20; i++)
        load_post(i);
    wait_ms(1000); /* the projector sent its batch and waits for an answer */
    uint32_t ms = stop_timed(s.projector);
    cr_log_info("stopped in %u ms", ms);
    cr_assert_lt(ms, 3000, "prj_stop took %u ms while Redis answered nothing", ms);
    redis_resume();
    /* The batch given up runs now, unless the next connection ends its client first: either
     * way the checkpoint read next says which. */
    s.projector = projector_start(s.sink, "redis", 100, PRJ_POISON_SKIP);
    caught_up(s.projector, 30000);
    assert_redis_applied_once();
    scenario_end(&s);
}

Test(redis, a_batch_redis_refuses_leaves_a_dead_letter_and_nothing_else_of_its_event)
{
    static subscriber_t subscriber;
    subscriber_start(&subscriber);
    prj_sink_t *sink = sink_open();
    prj_sink_reject_seq_for_tests(sink, 12);
    prj_projector_t *projector = projector_start(sink, "redis", 20, PRJ_POISON_SKIP);
    the_plant_works_a_day();
    uint64_t head = head_seq();
    redis_subscriber_run(&subscriber, head);
    caught_up(projector, 30000);
    redisReply *dead = command("HGET fl:%s:dead:redis 12", tenant);
    cr_assert_eq(dead->type, REDIS_REPLY_STRING);
    cr_assert_not_null(strstr(dead->str, "wrong number of arguments"), "%s", dead->str);
    freeReplyObject(dead);
    cr_assert_eq(number("HLEN fl:%s:dead:redis", tenant), 1);
    redis_subscriber_assert_once(&subscriber, head, 12);
    prj_status_t status;
    prj_status(projector, &status);
    cr_assert_eq(status.dead_letters, 1);
    cr_assert_eq(status.checkpoint, head);
    prj_stop(projector);
    prj_sink_close(sink);
}

Test(redis, a_rebuild_while_appending_moves_the_active_generation_to_equal_keys)
{
    prj_sink_t *sink = sink_open();
    prj_projector_t *projector = projector_start(sink, "redis", 50, PRJ_POISON_SKIP);
    the_plant_works_a_day();
    load_t load;
    load_start(&load, 300);
    wait_ms(100);
    cr_assert_eq(prj_rebuild(projector, 30000, NULL), 0);
    load_join(&load);
    caught_up(projector, 30000);
    cr_assert_eq(active_generation(), 2);
    assert_redis_equals_ledger();
    redisReply *old = command("KEYS fl:%s:g1:*", tenant);
    cr_assert_eq(old->elements, 0, "the old generation is gone");
    freeReplyObject(old);
    prj_stop(projector);
    prj_sink_close(sink);
}

/* The shift hash's field as a number (0 when absent). */
static long long shift_field(const char *p, const char *key, const char *name)
{
    return (long long)number("HGET %s%s %s", p, key, name);
}

/* The day's figures, counted by hand from tests/engine/plant.h: two rolls of 120,000 pieces
 * (60 m each) on L1, one warp stop, two cuts (first 100,000 + 110,000, second 18,000 + 9,000,
 * waste 2,000 + 1,000 of 240,000 consumed), one first piece passed, one hold, five releases
 * (R1-A, R1-B, R2-A, R2-B, E1), a subcontract return of 8,500 good and 200 lost, a shipment. */
static void assert_day_counted(const char *p, const char *key, uint64_t events)
{
    cr_assert_eq(shift_field(p, key, "events"), (long long)events);
    cr_assert_eq(shift_field(p, key, "rolls"), 2);
    cr_assert_eq(shift_field(p, key, "woven_milli"), 240000);
    cr_assert_eq(shift_field(p, key, "woven_length_milli"), 120000);
    cr_assert_eq(shift_field(p, key, "woven_milli:L1"), 240000);
    cr_assert_eq(shift_field(p, key, "stops"), 1);
    cr_assert_eq(shift_field(p, key, "stops:warp"), 1);
    cr_assert_eq(shift_field(p, key, "cut_consumed_milli"), 240000);
    cr_assert_eq(shift_field(p, key, "cut_first_milli"), 210000);
    cr_assert_eq(shift_field(p, key, "cut_second_milli"), 27000);
    cr_assert_eq(shift_field(p, key, "cut_waste_milli"), 3000);
    cr_assert_eq(shift_field(p, key, "first_pieces"), 1);
    cr_assert_eq(shift_field(p, key, "first_pieces_failed"), 0);
    cr_assert_eq(shift_field(p, key, "holds"), 1);
    cr_assert_eq(shift_field(p, key, "releases"), 5);
    cr_assert_eq(shift_field(p, key, "sub_good_milli"), 8500);
    cr_assert_eq(shift_field(p, key, "sub_lost_milli"), 200);
    cr_assert_eq(shift_field(p, key, "shipments"), 1);
}

Test(redis, each_shift_counts_its_events_live_and_a_rebuild_counts_them_again)
{
    prj_sink_t *sink = sink_open();
    prj_projector_t *projector = projector_start(sink, "redis", 16, PRJ_POISON_SKIP);
    /* The day's events all occur at 1764000000000000: inside the morning shift. An earlier
     * shift, rescheduled, and a cancelled one must not take them. */
    POSTED(EV_ROLE_MANAGER, "ShiftScheduled",
           "{\"shift_id\":\"NIGHT\",\"name\":\"night\",\"starts_at_us\":1763950000000000,"
           "\"ends_at_us\":1763990000000000}");
    POSTED(EV_ROLE_MANAGER, "ShiftScheduled",
           "{\"shift_id\":\"MORNING\",\"name\":\"morning\",\"starts_at_us\":1763980000000000,"
           "\"ends_at_us\":1763990000000000}");
    POSTED(EV_ROLE_MANAGER, "ShiftScheduled", /* posted again: replaces the first */
           "{\"shift_id\":\"MORNING\",\"name\":\"morning\",\"starts_at_us\":1763990000000000,"
           "\"ends_at_us\":1764020000000000}");
    POSTED(EV_ROLE_MANAGER, "ShiftScheduled",
           "{\"shift_id\":\"LATE\",\"name\":\"late\",\"starts_at_us\":1763995000000000,"
           "\"ends_at_us\":1764030000000000}");
    POSTED(EV_ROLE_MANAGER, "ShiftCancelled", "{\"shift_id\":\"LATE\",\"reason\":\"holiday\"}");
    uint64_t calendar = head_seq();
    the_plant_works_a_day();
    uint64_t day = head_seq() - calendar;
    caught_up(projector, 30000);
    char p[128];
    snprintf(p, sizeof(p), "fl:%s:g1:", tenant);
    assert_day_counted(p, "shift:MORNING", day);
    cr_assert_eq(number("EXISTS %sshift:NIGHT", p), 0);
    cr_assert_eq(number("EXISTS %sshift:LATE", p), 0);
    cr_assert_eq(number("SCARD %sshifts:counted", p), 1);
    cr_assert_eq(number("ZCARD %sshifts", p), 2, "NIGHT and MORNING: LATE was cancelled");
    /* A rebuild counts the same from the log into the next generation. */
    cr_assert_eq(prj_rebuild(projector, 30000, NULL), 0);
    caught_up(projector, 30000);
    snprintf(p, sizeof(p), "fl:%s:g2:", tenant);
    assert_day_counted(p, "shift:MORNING", day);
    cr_assert_eq(number("SCARD %sshifts:counted", p), 1);
    prj_stop(projector);
    prj_sink_close(sink);
}
