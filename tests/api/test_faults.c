/*
 * Storage faults under a running foutad, injected from outside as they happen in a plant:
 * - the writer stalled: another process (a backup or repair tool) holds the ledger's LMDB write
 *   lock, so foutad's writer thread waits in its transaction's begin;
 * - a full disk: the data directory is a small filesystem (a tmpfs in this test's own mount
 *   namespace) that fills up, then grows again;
 * - a read-only data directory at start.
 * Each must be a clear answer (a status, a code, a message), never a crash or a hang, and every
 * acknowledged event must be there exactly once afterwards.
 */
#define _GNU_SOURCE
#include "tests/api/client.h"

#include <lmdb.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>

TestSuite(faults, .timeout = 240);

static server_t server;

/* An array of count GoodsReceived events, ids first_id..; optionally atomic. */
static char *events_array(unsigned first_id, unsigned count, bool atomic)
{
    size_t size = (size_t)count * 400 + 64;
    char *body = malloc(size);
    cr_assert_not_null(body);
    size_t len = (size_t)snprintf(body, size, "%s[", atomic ? "{\"atomic\":true,\"events\":" : "");
    for (unsigned i = 0; i < count; i++) {
        char hu[32];
        snprintf(hu, sizeof(hu), "F%u", first_id + i);
        if (i > 0)
            body[len++] = ',';
        event_goods(body + len, size - len, first_id + i, hu, "1000");
        len += strlen(body + len);
    }
    snprintf(body + len, size - len, "]%s", atomic ? "}" : "");
    return body;
}

/* Posts as the raw-material storekeeper and waits for the answer. */
static int post(const char *body, response_t *response)
{
    client_t client;
    client_open(&client, server.port);
    client_request(&client, "POST", "/api/v1/events", ACTOR("store_raw"), body, response);
    client_close(&client);
    return response->status;
}

/* GET path as the manager: its status, the body copied to out. */
static int get(const char *path, char *out, size_t size)
{
    client_t client;
    client_open(&client, server.port);
    response_t response;
    client_request(&client, "GET", path, ACTOR("manager"), NULL, &response);
    snprintf(out, size, "%s", response.body);
    response_free(&response);
    client_close(&client);
    return response.status;
}

/* Whether an answer has started to arrive on fd (without waiting). */
static bool answered(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

/* The ledger verifies and holds exactly `events` events. */
static void assert_ledger_holds(unsigned long long events)
{
    char body[4096];
    cr_assert_eq(get("/api/v1/verify", body, sizeof(body)), 200, "%s", body);
    cr_assert(strstr(body, "\"ok\":true") != NULL, "%s", body);
    cr_assert_eq(json_number(body, "checked"), events, "%s", body);
}

/* The test's own hold on the ledger's write lock, released by the fini if a check fails. */
static MDB_env *held_env;
static MDB_txn *held_txn;

static void release_lock(void)
{
    if (held_txn != NULL)
        mdb_txn_abort(held_txn);
    if (held_env != NULL)
        mdb_env_close(held_env);
    held_txn = NULL;
    held_env = NULL;
}

static void release_and_stop(void)
{
    release_lock();
    server_stop(&server);
}

Test(faults, a_writer_held_by_another_process_queues_appends_reports_stuck_and_loses_none,
     .fini = release_and_stop)
{
    /* The queue's floor is one batch (4096 events): four arrays of 1000 fit, a fifth does not. */
    server_start_args(&server, (const char *const[]){"--queue-events-max", "1", NULL});
    ACTOR("store_raw");
    response_t response;
    char *first = events_array(1, 1, false);
    cr_assert_eq(post(first, &response), 201, "%s", response.body);
    response_free(&response);
    free(first);

    /* Another process takes the ledger's write lock, as a tool writing to it would. */
    char path[400];
    snprintf(path, sizeof(path), "%s/data/tenants/" TEST_TENANT "/ledger", server.dir);
    cr_assert_eq(mdb_env_create(&held_env), 0);
    cr_assert_eq(mdb_env_set_maxdbs(held_env, 24), 0);
    cr_assert_eq(mdb_env_open(held_env, path, MDB_NOTLS, 0640), 0);
    cr_assert_eq(mdb_txn_begin(held_env, NULL, 0, &held_txn), 0);

    /* Arrays of 1000 are posted one after the other until one is refused: the writer may have
     * taken the first into the batch it cannot begin, or be waiting itself (folding) with all
     * of them queued. */
    enum { ARRAYS = 6, PER_ARRAY = 1000 };
    char *arrays[ARRAYS];
    client_t posters[ARRAYS];
    for (unsigned a = 0; a < ARRAYS; a++) {
        arrays[a] = events_array(1000 + a * PER_ARRAY, PER_ARRAY, false);
        client_open(&posters[a], server.port);
    }
    char body[4096];
    unsigned refused = ARRAYS;
    unsigned long long queued = 0;
    for (unsigned a = 0; a < ARRAYS && refused == ARRAYS; a++) {
        client_send_request(&posters[a], "POST", "/api/v1/events", ACTOR("store_raw"), arrays[a]);
        bool waiting = false;
        for (int i = 0; i < 300 && !waiting && refused == ARRAYS; i++) {
            if (answered(posters[a].fd)) {
                client_read(&posters[a], &response);
                cr_assert_eq(response.status, 503, "%s", response.body);
                cr_assert(strstr(response.body, "\"code\":\"BUSY\"") != NULL, "%s", response.body);
                cr_assert(strstr(response.headers, "Retry-After:") != NULL, "%s", response.headers);
                response_free(&response);
                refused = a;
                break;
            }
            get("/health/ready", body, sizeof(body));
            unsigned long long now = json_number(body, "queue_events");
            waiting = now == queued + PER_ARRAY || (a == 0 && now == 0 && i >= 50);
            if (waiting)
                queued = now;
            else
                sleep_ms(10);
        }
        cr_assert(waiting || refused == a, "array %u neither queued nor refused: %s", a, body);
    }
    cr_assert(refused == 4 || refused == 5, "the full queue refused array %u", refused);

    /* Meanwhile foutad answers reads and health, and says its writer is stuck. */
    cr_assert_eq(get("/health/live", body, sizeof(body)), 200);
    cr_assert_eq(get("/api/v1/events?from_seq=1&limit=5", body, sizeof(body)), 200, "%s", body);
    cr_assert(strstr(body, "0190b2a0-7c1d-7000-8000-000000000001") != NULL, "%s", body);
    sleep_ms(5500);
    cr_assert_eq(get("/health/ready", body, sizeof(body)), 503, "%s", body);
    cr_assert(strstr(body, "\"writer\":\"stuck\"") != NULL, "%s", body);
    for (unsigned a = 0; a < refused; a++)
        cr_assert(!answered(posters[a].fd), "array %u was answered while the writer waited", a);

    /* The lock released, every waiting array is written and acknowledged. */
    release_lock();
    for (unsigned a = 0; a < refused; a++) {
        client_read(&posters[a], &response);
        cr_assert_eq(response.status, 201, "array %u: %s", a, response.body);
        response_free(&response);
    }
    cr_assert_eq(get("/health/ready", body, sizeof(body)), 200, "%s", body);
    /* The refused array, sent again, is written; an acknowledged one sent again is not. */
    client_request(&posters[refused], "POST", "/api/v1/events", ACTOR("store_raw"), arrays[refused],
                   &response);
    cr_assert_eq(response.status, 201, "%s", response.body);
    response_free(&response);
    client_request(&posters[0], "POST", "/api/v1/events", ACTOR("store_raw"), arrays[0], &response);
    cr_assert_eq(response.status, 200, "%s", response.body);
    response_free(&response);
    assert_ledger_holds(1 + (refused + 1) * PER_ARRAY);
    for (unsigned a = 0; a < ARRAYS; a++) {
        client_close(&posters[a]);
        free(arrays[a]);
    }
}

/* The server's data directory (written to data) on a tmpfs of `options`, mounted in a mount
 * namespace of this test's own (Criterion runs each test in its own process; foutad inherits the
 * namespace). Skips the test where mounting is not permitted. */
static void data_on_tmpfs(char *data, size_t size, const char *options)
{
    test_tmpdir(server.dir, sizeof(server.dir));
    snprintf(data, size, "%s/data", server.dir);
    cr_assert_eq(mkdir(data, 0750), 0);
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", data, "tmpfs", 0, options) != 0)
        cr_skip_test("mounting a tmpfs is not permitted here (needs CAP_SYS_ADMIN)");
}

static void unmount_and_stop(void)
{
    server_stop_keep(&server);
    char data[300];
    snprintf(data, sizeof(data), "%s/data", server.dir);
    umount2(data, MNT_DETACH);
    server_stop(&server);
}

Test(faults, a_full_disk_answers_507_keeps_every_acknowledged_event_and_recovers_when_space_returns,
     .fini = unmount_and_stop)
{
    char data[300];
    data_on_tmpfs(data, sizeof(data), "size=6m");
    server_start(&server);
    ACTOR("store_raw");
    ACTOR("manager"); /* a sign-in writes a refresh token: it too needs room */

    /* Atomic arrays of 200 until the disk is full: each is all acknowledged or not at all. */
    enum { PER_ARRAY = 200 };
    unsigned acked = 0, id = 1;
    response_t response;
    int status = 201;
    for (int round = 0; round < 200 && status == 201; round++) {
        char *body = events_array(id, PER_ARRAY, true);
        status = post(body, &response);
        free(body);
        if (status == 201) {
            acked += PER_ARRAY;
            id += PER_ARRAY;
        } else {
            cr_assert_eq(status, 507, "after %u events: %.300s", acked, response.body);
            cr_assert(strstr(response.body, "\"code\":\"NOSPC\"") != NULL, "%s", response.body);
            cr_assert(strstr(response.headers, "application/problem+json") != NULL);
        }
        response_free(&response);
    }
    cr_assert_eq(status, 507, "the disk never filled: %u events acknowledged", acked);
    cr_assert_gt(acked, 0);

    /* Full, foutad still serves: health, reads, the verified chain of what it acknowledged. */
    char body[4096];
    cr_assert_eq(get("/health/live", body, sizeof(body)), 200);
    assert_ledger_holds(acked);

    /* Space returns (the filesystem grows): the refused array is written after the others. */
    cr_assert_eq(mount("tmpfs", data, "tmpfs", MS_REMOUNT, "size=64m"), 0);
    char *again = events_array(id, PER_ARRAY, true);
    cr_assert_eq(post(again, &response), 201, "%s", response.body);
    char expected[64];
    snprintf(expected, sizeof(expected), "\"seq\":%u,", acked + 1);
    cr_assert(strstr(response.body, expected) != NULL, "%s", response.body);
    response_free(&response);
    free(again);
    acked += PER_ARRAY;

    /* Restarted, the ledger holds exactly what was acknowledged, and its chain verifies. */
    cr_assert_eq(server_stop_keep(&server), 0);
    server_start(&server);
    assert_ledger_holds(acked);
}

Test(faults, a_read_only_data_directory_stops_foutad_at_start_with_a_clear_message,
     .fini = unmount_and_stop)
{
    char data[300];
    data_on_tmpfs(data, sizeof(data), "size=64m");
    server_start(&server);
    response_t response;
    char *body = events_array(1, 1, false);
    cr_assert_eq(post(body, &response), 201, "%s", response.body);
    response_free(&response);
    free(body);
    cr_assert_eq(server_stop_keep(&server), 0);

    cr_assert_eq(mount("tmpfs", data, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL), 0);
    char log[400], port_file[400];
    snprintf(log, sizeof(log), "%s/stderr", server.dir);
    snprintf(port_file, sizeof(port_file), "%s/port", server.dir);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (freopen(log, "w", stderr) == NULL || freopen("/dev/null", "w", stdout) == NULL)
            _exit(126);
        execl(FOUTAD_PATH, FOUTAD_PATH, "--data-dir", data, "--listen", "127.0.0.1:0",
              "--port-file", port_file, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 500 && done == 0; i++) {
        done = waitpid(pid, &status, WNOHANG);
        if (done == 0)
            sleep_ms(10);
    }
    if (done == 0)
        kill(pid, SIGKILL);
    cr_assert_eq(done, pid, "foutad did not stop on a read-only data directory");
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0, "status %d", status);
    char said[4096] = "";
    FILE *file = fopen(log, "r");
    cr_assert_not_null(file);
    size_t n = fread(said, 1, sizeof(said) - 1, file);
    said[n] = '\0';
    fclose(file);
    cr_assert(strstr(said, "read-only file system") != NULL, "foutad said: %s", said);
    cr_assert(strstr(said, data) != NULL, "foutad did not name the directory: %s", said);

    /* Writable again, it starts on the same data, which verifies. */
    cr_assert_eq(mount("tmpfs", data, "tmpfs", MS_REMOUNT, NULL), 0);
    server_start(&server);
    assert_ledger_holds(1);
}
