/*
 * The C client library against a real foutad (started as tests/api does: a scratch data
 * directory, port 0 and --port-file): an event posted, posted again (200, the original
 * position), refused with the server's code, field and message; a batch with a refusal inside;
 * reads and their 404s; posts that retry through a restart of foutad without recording anything
 * twice; and a tail that resumes across that restart with no gap and no duplicate.
 */
#include "tests/api/client.h"

#include <pthread.h>

#include "clients/client/client.h"

TestSuite(client, .timeout = 120);

static server_t server;

static fc_client_t *open_client(const char *role)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", server.port);
    fc_config_t config = {.url = url, .user = "tester", .role = role, .retries_max = 40};
    fc_client_t *client;
    cr_assert_eq(fc_open(&client, &config), 0);
    return client;
}

static void goods(char *out, size_t size, unsigned id, const char *hu)
{
    event_goods(out, size, id, hu, "1000");
}

Test(client, an_event_is_recorded_once_and_its_retry_answers_the_original_position)
{
    server_start(&server);
    fc_client_t *client = open_client("store_raw");
    char event[1024];
    goods(event, sizeof(event), 1, "Y1");
    fc_verdict_t first, again;
    cr_assert_eq(fc_post_event(client, event, strlen(event), &first), 0);
    cr_assert_eq(first.status, 201);
    cr_assert_eq(first.seq, 1);
    cr_assert_not(first.duplicate);
    cr_assert_eq(fc_post_event(client, event, strlen(event), &again), 0);
    cr_assert_eq(again.status, 200);
    cr_assert_eq(again.seq, 1);
    cr_assert(again.duplicate);
    fc_close(client);
    server_stop(&server);
}

Test(client, a_refusal_surfaces_the_servers_code_field_and_message)
{
    server_start(&server);
    fc_client_t *client = open_client("store_finished");
    char event[1024];
    event_move(event, sizeof(event), 1, "NOPE", "MP1", "FG");
    fc_verdict_t verdict;
    cr_assert_eq(fc_post_event(client, event, strlen(event), &verdict), FL_ERULE_HU_UNKNOWN);
    cr_assert_eq(verdict.status, 422);
    cr_assert_str_eq(verdict.problem.code, "RULE_HU_UNKNOWN");
    cr_assert(strstr(verdict.problem.message, "hu-NOPE") != NULL, "%s", verdict.problem.message);
    const char *missing = "{\"id\":\"0190b2a0-7c1d-7000-8000-000000000009\",\"type\":"
                          "\"LotReleased\",\"occurred_at_us\":1764000000000000,\"payload\":{}}";
    cr_assert_eq(fc_set_actor(client, "tester", "quality", NULL), 0);
    cr_assert_eq(fc_post_event(client, missing, strlen(missing), &verdict), FL_EMISSING_FIELD);
    cr_assert_eq(verdict.status, 400);
    cr_assert_str_eq(verdict.problem.field, "payload.hu_id");
    cr_assert_eq(fc_set_actor(client, "tester", "weaver", NULL), 0);
    goods(event, sizeof(event), 2, "Y2");
    cr_assert_eq(fc_post_event(client, event, strlen(event), &verdict), FL_EFORBIDDEN_ROLE);
    cr_assert_str_eq(verdict.problem.field, "type");
    fc_close(client);
    server_stop(&server);
}

Test(client, a_batch_gets_one_verdict_per_event)
{
    server_start(&server);
    fc_client_t *client = open_client("store_raw");
    char a[1024], b[1024], c[1024];
    goods(a, sizeof(a), 1, "Y1");
    event_move(b, sizeof(b), 2, "Y9", "MP1", "MP2");
    goods(c, sizeof(c), 3, "Y3");
    const char *events[] = {a, b, c};
    size_t lens[] = {strlen(a), strlen(b), strlen(c)};
    fc_verdict_t verdicts[3];
    cr_assert_eq(fc_post_batch(client, events, lens, 3, verdicts), 0);
    cr_assert_eq(verdicts[0].rc, 0);
    cr_assert_eq(verdicts[0].seq, 1);
    cr_assert_eq(verdicts[1].rc, FL_ERULE_HU_UNKNOWN);
    cr_assert_eq(verdicts[1].status, 422);
    cr_assert_eq(verdicts[2].rc, 0);
    cr_assert_eq(verdicts[2].seq, 2);
    cr_assert_eq(fc_post_batch(client, events, lens, 3, verdicts), 0);
    cr_assert(verdicts[0].duplicate && verdicts[2].duplicate);
    fc_response_t response;
    fc_problem_t problem;
    cr_assert_eq(fc_hu(client, "Y1", &response, &problem), 0);
    cr_assert(strstr(response.body, "\"qty_milli\":1000") != NULL, "%s", response.body);
    fc_response_free(&response);
    cr_assert_eq(fc_hu(client, "Y9", &response, &problem), FL_ENOENT);
    cr_assert_eq(problem.status, 404);
    cr_assert_str_eq(problem.code, "NOENT");
    fc_response_free(&response);
    char query[256] = "";
    cr_assert_eq(fc_query_add(query, sizeof(query), "status", "on hold"), 0);
    cr_assert_str_eq(query, "status=on%20hold");
    cr_assert_eq(fc_stock(client, "item=YARN-30", &response, &problem), 0);
    cr_assert(strstr(response.body, "\"qty_milli\":2000") != NULL, "%s", response.body);
    fc_response_free(&response);
    fc_close(client);
    server_stop(&server);
}

Test(client, bad_urls_are_refused)
{
    fc_client_t *client;
    fc_config_t config = {.url = "ftp://plant.example", .user = "u", .role = "weaver"};
    cr_assert_eq(fc_open(&client, &config), FL_EINVAL);
    config.url = "https://plant.example";
    config.ca_file = "/nonexistent/ca.pem"; /* an authority file that cannot be read */
    cr_assert_eq(fc_open(&client, &config), FL_EINVAL);
    config.ca_file = NULL;
    config.url = "http://";
    cr_assert_eq(fc_open(&client, &config), FL_EINVAL);
    config.url = "http://h:x";
    cr_assert_eq(fc_open(&client, &config), FL_EINVAL);
    config.url = "http://127.0.0.1:1";
    config.user = "bad\r\nX-Evil: 1";
    cr_assert_eq(fc_open(&client, &config), FL_EINVAL);
}

/* ---- through a restart */

#define RESTART_EVENTS 240

typedef struct {
    fc_client_t *client;
    int failures, duplicates;
    unsigned posted;
} poster_t;

static void *post_main(void *arg)
{
    poster_t *p = arg;
    for (unsigned i = 1; i <= RESTART_EVENTS; i++) {
        char event[1024], hu[16];
        snprintf(hu, sizeof(hu), "Y%u", i);
        goods(event, sizeof(event), i, hu);
        fc_verdict_t verdict;
        if (fc_post_event(p->client, event, strlen(event), &verdict) != 0)
            p->failures++;
        p->duplicates += verdict.duplicate;
        p->posted = i;
    }
    return NULL;
}

typedef struct {
    uint64_t seqs[RESTART_EVENTS + 8];
    unsigned count;
    bool out_of_order;
} tailed_t;

static int tail_collect(uint64_t seq, const char *json, size_t len, void *data)
{
    tailed_t *t = data;
    (void)json;
    (void)len;
    if (t->count > 0 && seq != t->seqs[t->count - 1] + 1)
        t->out_of_order = true;
    t->seqs[t->count++] = seq;
    return t->count == RESTART_EVENTS;
}

typedef struct {
    fc_client_t *client;
    tailed_t tailed;
    int rc;
} tailer_t;

static void *tail_main(void *arg)
{
    tailer_t *t = arg;
    fc_tail_config_t config = {.from_seq = 1, .idle_ms = 20000};
    t->rc = fc_tail(t->client, &config, tail_collect, &t->tailed, NULL);
    return NULL;
}

Test(client, posts_and_a_tail_go_on_through_a_restart_of_foutad_without_duplicates)
{
    server_start(&server);
    int port = server.port;
    poster_t poster = {.client = open_client("store_raw")};
    tailer_t tailer = {.client = open_client("manager")};
    pthread_t post_thread, tail_thread;
    cr_assert_eq(pthread_create(&tail_thread, NULL, tail_main, &tailer), 0);
    cr_assert_eq(pthread_create(&post_thread, NULL, post_main, &poster), 0);
    while (poster.posted < RESTART_EVENTS / 3)
        sleep_ms(5);
    cr_assert_eq(server_stop_keep(&server), 0, "a clean stop");
    sleep_ms(300); /* posts and the tail meet a closed port and retry */
    char listen[32];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    const char *extra[] = {"--listen", listen, NULL};
    server_start_args(&server, extra);
    cr_assert_eq(server.port, port);
    pthread_join(post_thread, NULL);
    pthread_join(tail_thread, NULL);
    cr_assert_eq(poster.failures, 0);
    cr_assert_gt(fc_retries(poster.client), 0, "the restart was met");
    fc_response_t response;
    cr_assert_eq(fc_get(poster.client, "/api/v1/head", &response, NULL), 0);
    cr_assert_eq(json_number(response.body, "seq"), RESTART_EVENTS,
                 "every event once, none twice: %s", response.body);
    fc_response_free(&response);
    cr_assert_eq(tailer.rc, 0);
    cr_assert_eq(tailer.tailed.count, RESTART_EVENTS);
    cr_assert_not(tailer.tailed.out_of_order, "no gap, no duplicate");
    cr_assert_eq(tailer.tailed.seqs[RESTART_EVENTS - 1], RESTART_EVENTS);
    cr_assert_gt(fc_retries(tailer.client), 0, "the tail resumed");
    fc_close(poster.client);
    fc_close(tailer.client);
    server_stop(&server);
}

Test(client, an_expired_access_token_is_signed_in_again_for_posts_and_reads)
{
    const char *extra[] = {"--access-ttl", "1", NULL};
    server_start_args(&server, extra);
    fc_client_t *client = open_client("store_raw");
    char event[1024];
    goods(event, sizeof(event), 1, "EXP1");
    fc_verdict_t verdict;
    cr_assert_eq(fc_post_event(client, event, strlen(event), &verdict), 0);
    cr_assert_eq(verdict.status, 201);
    sleep_ms(2500); /* the token of the sign-in above has expired: it lived a second */
    goods(event, sizeof(event), 2, "EXP2");
    cr_assert_eq(fc_post_event(client, event, strlen(event), &verdict), 0, "%s",
                 verdict.problem.message);
    cr_assert_eq(verdict.status, 201);
    uint64_t retries = fc_retries(client);
    fc_response_t response;
    fc_problem_t problem;
    sleep_ms(2500);
    cr_assert_eq(fc_hu(client, "EXP2", &response, &problem), 0, "%s", problem.message);
    cr_assert_eq(response.status, 200);
    fc_response_free(&response);
    cr_assert_eq(fc_retries(client), retries, "a renewal is not a network retry");
    fc_close(client);
    server_stop(&server);
}
