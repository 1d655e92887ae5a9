/*
 * foutad killed (SIGKILL) while four clients post through the API, again and again on the same
 * data: every event the server acknowledged (201, or 200 for one it already had) is there after
 * the restart, the sequence has no gap, and the ledger's chain and inline state verify. An event
 * whose answer was lost may or may not be there: posted again, it is recorded at most once.
 */
#include "tests/clients/crash_poster.h"

#include <pthread.h>

TestSuite(crash_http, .timeout = 300);

#define ROUNDS_DEFAULT 4 /* FL_CRASH_ROUNDS asks for more (bench/run hardening) */
#define POSTERS        4
#define KILL_AFTER_MS  400

static server_t server;

/* Event i of a poster: unit K<first_id + i> received. */
static void goods_event(char *out, size_t size, unsigned first_id, unsigned i)
{
    char hu[32];
    snprintf(hu, sizeof(hu), "K%u", first_id + i);
    event_goods(out, size, first_id + i, hu, "1000");
}

/* GET /api/v1/hus/K<id> on a keep-alive connection: 200 when the unit exists. */
static int hu_status(client_t *c, unsigned id)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/v1/hus/K%u", id);
    response_t r;
    client_request(c, "GET", path, "", NULL, &r);
    int status = r.status;
    response_free(&r);
    return status;
}

static void run_ledger_tool(const char *command, const char *dir)
{
    char line[1024];
    snprintf(line, sizeof(line), "%s %s %s/data/tenants/" TEST_TENANT "/ledger >/dev/null 2>&1",
             FOUTA_REPLAY, command, dir);
    cr_assert_eq(system(line), 0, "fouta-replay %s", command);
}

Test(crash_http, acknowledged_events_survive_sigkill_of_foutad_under_load_round_after_round)
{
    const char *env = getenv("FL_CRASH_ROUNDS");
    int rounds = env != NULL && atoi(env) > 0 ? atoi(env) : ROUNDS_DEFAULT;
    server_start(&server);
    unsigned next_id = 1, acked_total = 0, lost = 0;
    for (int round = 0; round < rounds; round++) {
        crash_poster_t posters[POSTERS];
        pthread_t threads[POSTERS];
        for (int i = 0; i < POSTERS; i++) {
            posters[i] =
                (crash_poster_t){.port = server.port, .first_id = next_id, .event = goods_event};
            next_id += CRASH_EVENTS_MAX;
            cr_assert_eq(pthread_create(&threads[i], NULL, crash_post_until_killed, &posters[i]),
                         0);
        }
        sleep_ms(KILL_AFTER_MS + 100 * (round % 8));
        kill(server.pid, SIGKILL);
        waitpid(server.pid, NULL, 0);
        server.pid = 0;
        for (int i = 0; i < POSTERS; i++)
            pthread_join(threads[i], NULL);
        server_start_args(&server, NULL); /* the same directory: recovery */
        for (int i = 0; i < POSTERS; i++) {
            cr_assert_gt(posters[i].acked, 0, "round %d: poster %d posted nothing", round, i);
            acked_total += posters[i].acked;
            /* Every acknowledged event is there. */
            client_t c;
            client_open(&c, server.port);
            for (unsigned k = 0; k < posters[i].acked; k++)
                lost += hu_status(&c, posters[i].first_id + k) != 200;
            client_close(&c);
            /* The one in flight at the kill, posted again: recorded at most once. */
            crash_post_in_flight_again(&posters[i], server.port);
        }
    }
    cr_log_info("%u events acknowledged over %d kills of foutad, %u lost", acked_total, rounds,
                lost);
    cr_assert_eq(lost, 0, "%u of the acknowledged events were lost", lost);
    cr_assert_gt(acked_total, 0);
    /* The whole log: no gap (the head is the count of records), the chain and the state. */
    cr_assert_eq(server_stop_keep(&server), 0);
    run_ledger_tool("verify-state", server.dir);
    server_stop(&server);
}
