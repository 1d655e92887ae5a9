/*
 * The soak's short version, for CI (`bench/run hardening` runs the hour, in Release, and
 * measures memory and latency). The load is a realistic mix: the plant simulator's days, every
 * role's events, posted through foutad by fouta-sim on four connections, while WebSocket
 * subscribers follow the whole tenant and readers page through the log and ask for stock. It
 * goes in rounds; the first records the days, the next post the very same days again (a plant
 * whose phones all retry). Checked after each round: every subscriber received every event
 * once, in order; no read failed; the ledger verifies and holds the first round's events, no
 * more; and the server's open descriptors are back to what they were before the round. At the
 * end foutad stops cleanly, which under ASan includes its leak check. Memory is logged, not
 * asserted: under the sanitizers their quarantine dominates it.
 */
#include "tests/api/client.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>

#include "clients/client/client.h"
#include "events/events.h"

TestSuite(soak, .timeout = 600);

#define ROUNDS      3
#define SUBSCRIBERS 5
#define SIM_DAYS    "3"
#define SIM_LOOMS   "12"
#define SIM_WINDOW  "256" /* far below the stream: fouta-sim goes round its ring many times */

static server_t server;

static fc_client_t *open_client(const char *role)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", server.port);
    fc_config_t config = {.url = url, .role = role, .retries_max = 40};
    fc_client_t *client;
    cr_assert_eq(fc_open(&client, &config), 0);
    return client;
}

static unsigned open_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *dir = opendir(path);
    cr_assert_not_null(dir);
    unsigned count = 0;
    for (struct dirent *entry; (entry = readdir(dir)) != NULL;)
        count += entry->d_name[0] != '.';
    closedir(dir);
    return count;
}

static unsigned long rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *file = fopen(path, "r");
    cr_assert_not_null(file);
    unsigned long kib = 0;
    while (fgets(line, sizeof(line), file) != NULL)
        if (sscanf(line, "VmRSS: %lu", &kib) == 1)
            break;
    fclose(file);
    return kib;
}

/* A subscriber: the whole tenant from the first event, until stop_at (set once the round's
 * posts are done) or a few idle seconds. */
typedef struct {
    fc_client_t *client;
    uint64_t received, last_seq;
    bool out_of_order;
    int rc;
} subscriber_t;

static _Atomic uint64_t stop_at;

static int on_event(uint64_t seq, const char *json, size_t len, void *data)
{
    subscriber_t *s = data;
    (void)json;
    (void)len;
    if (seq != s->last_seq + 1)
        s->out_of_order = true;
    s->last_seq = seq;
    s->received++;
    return seq >= atomic_load(&stop_at);
}

static void *subscribe(void *arg)
{
    subscriber_t *s = arg;
    fc_tail_config_t config = {.from_seq = 1, .idle_ms = 5000};
    s->rc = fc_tail(s->client, &config, on_event, s, NULL);
    return NULL;
}

/* A reader: pages of the log and the stock, until the round's posts are done. */
typedef struct {
    fc_client_t *client;
    unsigned reads, failures;
} reader_t;

static atomic_bool posting;

static void *read_pages(void *arg)
{
    reader_t *r = arg;
    for (uint64_t from = 1; atomic_load(&posting); from += 100) {
        char path[96];
        snprintf(path, sizeof(path), "/api/v1/events?from_seq=%llu&limit=100",
                 (unsigned long long)from);
        fc_response_t page = {0}, stock = {0};
        r->failures += fc_get(r->client, path, &page, NULL) != 0;
        fc_response_free(&page);
        r->failures += fc_stock(r->client, NULL, &stock, NULL) != 0;
        fc_response_free(&stock);
        r->reads += 2;
    }
    return NULL;
}

/* The verified chain's length (GET /api/v1/verify). */
static unsigned long long ledger_events(void)
{
    client_t client;
    client_open(&client, server.port);
    response_t response;
    client_request(&client, "GET", "/api/v1/verify", "", NULL, &response);
    cr_assert_eq(response.status, 200, "%s", response.body);
    cr_assert(strstr(response.body, "\"ok\":true") != NULL, "%s", response.body);
    unsigned long long checked = json_number(response.body, "checked");
    response_free(&response);
    client_close(&client);
    return checked;
}

Test(soak, rounds_of_a_simulated_plant_with_subscribers_lose_nothing_and_leak_no_descriptor)
{
    server_start(&server);
    ledger_events(); /* the manager signed in, the tenant open: the baseline is steady */
    sleep_ms(100);
    unsigned fds_before = open_fds(server.pid);
    unsigned long long recorded = 0;
    for (int round = 1; round <= ROUNDS; round++) {
        atomic_store(&stop_at, UINT64_MAX);
        atomic_store(&posting, true);
        static subscriber_t subscribers[SUBSCRIBERS];
        pthread_t threads[SUBSCRIBERS + 1];
        for (int i = 0; i < SUBSCRIBERS; i++) {
            subscribers[i] = (subscriber_t){.client = open_client("manager")};
            cr_assert_eq(pthread_create(&threads[i], NULL, subscribe, &subscribers[i]), 0);
        }
        reader_t reader = {.client = open_client("store_raw")};
        cr_assert_eq(pthread_create(&threads[SUBSCRIBERS], NULL, read_pages, &reader), 0);

        char command[512];
        snprintf(command, sizeof(command),
                 "%s --seed 1 --looms " SIM_LOOMS " --days " SIM_DAYS
                 " --post http://127.0.0.1:%d --connections 4 --batch 20 --window " SIM_WINDOW
                 " >/dev/null 2>&1",
                 FOUTA_SIM, server.port);
        cr_assert_eq(system(command), 0, "round %d: fouta-sim had every event accepted", round);
        unsigned long long head = ledger_events();
        if (round == 1)
            recorded = head;
        cr_assert_gt(recorded, 1000, "a plant's days are thousands of events");
        cr_assert_eq(head, recorded, "round %d: the days posted again recorded something", round);
        atomic_store(&stop_at, head);
        atomic_store(&posting, false);

        pthread_join(threads[SUBSCRIBERS], NULL);
        cr_assert_eq(reader.failures, 0, "round %d: %u of %u reads failed", round, reader.failures,
                     reader.reads);
        fc_close(reader.client);
        for (int i = 0; i < SUBSCRIBERS; i++) {
            pthread_join(threads[i], NULL);
            subscriber_t *s = &subscribers[i];
            cr_assert_eq(s->rc, 0, "round %d, subscriber %d: %s", round, i, fl_strerror(s->rc));
            cr_assert_not(s->out_of_order, "round %d, subscriber %d: a gap or a duplicate", round,
                          i);
            cr_assert_eq(s->received, head, "round %d, subscriber %d: %llu of %llu events", round,
                         i, (unsigned long long)s->received, head);
            fc_close(s->client);
        }
        /* Every connection of the round is closed: the server holds what it held before. */
        unsigned fds = open_fds(server.pid);
        for (int i = 0; i < 200 && fds != fds_before; i++) {
            sleep_ms(10);
            fds = open_fds(server.pid);
        }
        cr_assert_eq(fds, fds_before, "round %d: %u descriptors open, %u before", round, fds,
                     fds_before);
        cr_log_info("round %d: %llu events, %u reads, each of %d subscribers received all; "
                    "%u descriptors; RSS %lu KiB",
                    round, head, reader.reads, SUBSCRIBERS, fds, rss_kib(server.pid));
    }
    cr_assert_eq(server_stop(&server), 0, "a clean stop (and, under ASan, no leak)");
}

/* ---- the soak's pacing: fouta-sim --rate, --seconds, --report-seconds, and a signal */

#define PACED_RATE         200 /* events per second */
#define PACED_SECONDS      3
#define PACED_STREAM_DAYS  "30" /* far more than the run takes: the time limit ends it */
#define SIM_OUTPUT_WAIT_MS 60000

/* fouta-sim posting the stream to the test's server with the extra arguments (NULL-ended),
 * its stdout into out: the child's pid. */
static pid_t sim_start(const char *out, const char *const *extra)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", server.port);
    const char *argv[24] = {FOUTA_SIM, "--seed",           "1",      "--looms", "12",
                            "--days",  PACED_STREAM_DAYS,  "--post", url,       "--connections",
                            "4",       "--report-seconds", "1"};
    int argc = 13;
    for (int i = 0; extra[i] != NULL && argc < 23; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (freopen(out, "w", stdout) == NULL || freopen("/dev/null", "w", stderr) == NULL)
            _exit(126);
        execv(FOUTA_SIM, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int sim_wait(pid_t pid)
{
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "fouta-sim ended by signal %d", WTERMSIG(status));
    return WEXITSTATUS(status);
}

/* What fouta-sim's report said: its total line, and the events of its window lines. */
typedef struct {
    unsigned long long events, accepted, duplicate, refused, windows_events;
    int ended, windows;
} sim_report_t;

static void sim_report_read(const char *out, sim_report_t *report)
{
    memset(report, 0, sizeof(*report));
    FILE *file = fopen(out, "r");
    cr_assert_not_null(file);
    char line[512];
    bool total = false;
    cr_assert(fgets(line, sizeof(line), file) != NULL && strcmp(line, "start\n") == 0,
              "fouta-sim's report begins with start, when its clock starts");
    while (fgets(line, sizeof(line), file) != NULL) {
        unsigned long long events;
        if (sscanf(line, "window=%*u at_s=%*f events=%llu", &events) == 1) {
            report->windows_events += events;
            report->windows++;
        } else if (sscanf(line,
                          "total events=%llu accepted=%llu duplicate=%llu refused=%llu "
                          "seconds=%*f per_s=%*f ended=%d",
                          &report->events, &report->accepted, &report->duplicate, &report->refused,
                          &report->ended) == 5) {
            total = true;
        }
    }
    fclose(file);
    cr_assert(total, "fouta-sim printed no total line");
}

/* Waits until fouta-sim printed its first window: it is posting, its signal handler set. */
static void sim_wait_first_window(const char *out)
{
    for (unsigned waited = 0; waited < SIM_OUTPUT_WAIT_MS; waited += 20) {
        FILE *file = fopen(out, "r");
        char line[512] = "";
        bool started = false;
        while (file != NULL && !started && fgets(line, sizeof(line), file) != NULL)
            started = strncmp(line, "window=1 ", 9) == 0;
        if (file != NULL)
            fclose(file);
        if (started)
            return;
        sleep_ms(20);
    }
    cr_assert_fail("fouta-sim reported no window");
}

/* The successful sign-ins foutad has answered (/metrics), read by reader (signed in already). */
static unsigned long long sign_ins(fc_client_t *reader)
{
    static const char key[] = "fouta_http_requests_total{route=\"login\",status=\"200\"} ";
    fc_response_t metrics = {0};
    cr_assert_eq(fc_get(reader, "/metrics", &metrics, NULL), 0);
    const char *at = strstr(metrics.body, key);
    cr_assert_not_null(at, "/metrics counts the sign-ins");
    unsigned long long count = strtoull(at + strlen(key), NULL, 10);
    fc_response_free(&metrics);
    return count;
}

Test(soak, a_paced_simulator_posts_each_event_it_takes_once_and_stops_at_its_time_limit)
{
    server_start(&server);
    fc_client_t *reader = open_client("manager");
    unsigned long long sign_ins_before = sign_ins(reader);
    char out[300];
    snprintf(out, sizeof(out), "%s/sim.out", server.dir);
    char rate[16], seconds[16];
    snprintf(rate, sizeof(rate), "%d", PACED_RATE);
    snprintf(seconds, sizeof(seconds), "%d", PACED_SECONDS);
    const char *paced[] = {"--rate", rate, "--seconds", seconds, NULL};
    cr_assert_eq(sim_wait(sim_start(out, paced)), 0, "every event accepted");
    sim_report_t first;
    sim_report_read(out, &first);
    cr_log_info("paced: %llu events in %d windows", first.events, first.windows);
    cr_assert_gt(first.events, 0);
    cr_assert_eq(first.accepted, first.events);
    cr_assert_eq(first.duplicate + first.refused, 0);
    cr_assert_eq(first.ended, 0, "the time limit ended it, not the stream (30 days)");
    /* The pace is a bound: event i is not taken before i / rate s, nor after the limit. */
    cr_assert_leq(first.events, PACED_RATE * PACED_SECONDS);
    cr_assert_eq(first.windows_events, first.events, "each event in one window's count");
    /* Its four connections share their tokens: one sign-in per role, not one per connection. */
    unsigned long long signed_in = sign_ins(reader) - sign_ins_before;
    fc_close(reader);
    cr_log_info("paced: %llu sign-ins", signed_in);
    cr_assert_gt(signed_in, 0);
    cr_assert_leq(signed_in, EV_ROLE_COUNT);
    cr_assert_eq(ledger_events(), first.events, "the ledger holds what was acknowledged");

    /* The same stream again, paced, stopped by SIGTERM: the events it had recorded are
     * answered as already recorded, the next ones recorded, and it stops cleanly. */
    const char *unbounded[] = {"--rate", rate, NULL};
    snprintf(out, sizeof(out), "%s/sim-stopped.out", server.dir);
    pid_t pid = sim_start(out, unbounded);
    sim_wait_first_window(out);
    kill(pid, SIGTERM);
    cr_assert_eq(sim_wait(pid), 0, "a signal is a clean stop");
    sim_report_t second;
    sim_report_read(out, &second);
    cr_log_info("stopped by SIGTERM: %llu events, %llu already recorded", second.events,
                second.duplicate);
    cr_assert_eq(second.refused, 0);
    cr_assert_eq(second.accepted + second.duplicate, second.events);
    cr_assert_eq(second.duplicate, second.events < first.events ? second.events : first.events);
    cr_assert_eq(ledger_events(), first.events + second.accepted);
    cr_assert_eq(server_stop(&server), 0);
}
