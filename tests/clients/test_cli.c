/*
 * The fouta command line against a real foutad: a simulated day (fouta-sim's NDJSON) posted
 * with every event accepted, posted again with every event reported as already recorded, a
 * tail that receives events posted while it runs, the reads printing the values the day made,
 * a refusal reported with its code, and --help.
 */
#include "tests/api/client.h"

#include <stdarg.h>

TestSuite(cli, .timeout = 120);

static server_t server;
static char output[1 << 20];

/* Runs a shell command, keeps its stdout (and stderr) in `output`; returns its exit status. */
static int run(const char *format, ...)
{
    char command[2048];
    va_list args;
    va_start(args, format);
    vsnprintf(command, sizeof(command), format, args);
    va_end(args);
    FILE *pipe = popen(command, "r");
    cr_assert_not_null(pipe);
    size_t len = fread(output, 1, sizeof(output) - 1, pipe);
    output[len] = '\0';
    int status = pclose(pipe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static unsigned count_of(const char *text, const char *needle)
{
    unsigned count = 0;
    for (const char *at = strstr(text, needle); at != NULL; at = strstr(at + 1, needle))
        count++;
    return count;
}

/* The text value of "key":"..." in the first line of file holding `type`. */
static void first_value(const char *file, const char *type, const char *key, char *out, size_t size)
{
    char pattern[128];
    snprintf(pattern, sizeof(pattern), "\"type\":\"%s\"", type);
    FILE *in = fopen(file, "r");
    cr_assert_not_null(in);
    static char line[1 << 16];
    out[0] = '\0';
    while (fgets(line, sizeof(line), in) != NULL) {
        if (strstr(line, pattern) == NULL)
            continue;
        snprintf(pattern, sizeof(pattern), "\"%s\":", key);
        const char *at = strstr(line, pattern);
        cr_assert_not_null(at, "%s has no %s", type, key);
        at += strlen(pattern);
        if (*at == '"')
            sscanf(at + 1, "%[^\"]", out);
        else
            snprintf(out, size, "%lld", strtoll(at, NULL, 10));
        break;
    }
    fclose(in);
    cr_assert_neq(out[0], '\0', "no %s in %s", type, file);
}

#define FOUTA "%s --url http://127.0.0.1:%d"

Test(cli, a_simulated_day_is_posted_then_reported_already_recorded_and_read_back)
{
    server_start(&server);
    char day[300];
    snprintf(day, sizeof(day), "%s/day.ndjson", server.dir);
    cr_assert_eq(run("%s --seed 11 --looms 6 --days 1 --out %s", FOUTA_SIM, day), 0);
    cr_assert_eq(run("wc -l < %s", day), 0);
    unsigned events = (unsigned)strtoul(output, NULL, 10);
    cr_assert_gt(events, 300);
    char expected[128];
    cr_assert_eq(run(FOUTA " post %s --quiet", FOUTA_CLI, server.port, day), 0, "%s", output);
    snprintf(expected, sizeof(expected), "posted %u: %u accepted, 0 already recorded, 0 refused",
             events, events);
    cr_assert(strstr(output, expected) != NULL, "%s", output);
    cr_assert_eq(run(FOUTA " post %s", FOUTA_CLI, server.port, day), 0);
    cr_assert_eq(count_of(output, ": already recorded, seq "), events);
    snprintf(expected, sizeof(expected), "posted %u: 0 accepted, %u already recorded, 0 refused",
             events, events);
    cr_assert(strstr(output, expected) != NULL, "%s", output);

    /* The reads print what the day made. */
    char roll[64], loom[64], order[64], planned[64], item[64];
    first_value(day, "ProductionDeclared", "hu_id", roll, sizeof(roll));
    first_value(day, "ProductionDeclared", "loom_id", loom, sizeof(loom));
    first_value(day, "OFCreated", "of_id", order, sizeof(order));
    first_value(day, "OFCreated", "planned_qty_milli", planned, sizeof(planned));
    first_value(day, "OFCreated", "item_id", item, sizeof(item));
    cr_assert_eq(run(FOUTA " hu %s", FOUTA_CLI, server.port, roll), 0);
    cr_assert(strstr(output, roll) != NULL && strstr(output, "\"status\"") != NULL, "%s", output);
    cr_assert_eq(run(FOUTA " genealogy hu-%s up", FOUTA_CLI, server.port, roll), 0);
    snprintf(expected, sizeof(expected), "loom-%s", loom);
    cr_assert(strstr(output, expected) != NULL, "%s", output);
    cr_assert_eq(run(FOUTA " order %s", FOUTA_CLI, server.port, order), 0);
    snprintf(expected, sizeof(expected), "\"planned_milli\": %s", planned);
    cr_assert(strstr(output, expected) != NULL, "%s", output);
    snprintf(expected, sizeof(expected), "\"item\": \"%s\"", item);
    cr_assert(strstr(output, expected) != NULL, "%s", output);
    cr_assert_eq(run(FOUTA " stock --location WEAVING --status available --group-by item",
                     FOUTA_CLI, server.port),
                 0);
    cr_assert(strstr(output, "\"rows\"") != NULL, "%s", output);
    cr_assert_eq(run(FOUTA " label %s", FOUTA_CLI, server.port, roll), 0);
    snprintf(expected, sizeof(expected), "HU %s", roll);
    cr_assert(strstr(output, expected) != NULL, "%s", output);
    cr_assert_eq(run(FOUTA " label %s --zpl", FOUTA_CLI, server.port, roll), 0);
    snprintf(expected, sizeof(expected), "^FD%s^FS", roll);
    cr_assert(strncmp(output, "^XA", 3) == 0 && strstr(output, expected) != NULL, "%s", output);
    cr_assert_eq(run(FOUTA " hu NOPE 2>&1", FOUTA_CLI, server.port), 1);
    cr_assert(strstr(output, "404 NOENT") != NULL, "%s", output);

    /* The log exported, in either format, is the chain fouta-replay imports whole. */
    static const char *const formats[] = {"", " --msgpack"};
    for (int f = 0; f < 2; f++) {
        char file[400], copy[400];
        snprintf(file, sizeof(file), "%s/export-%d", server.dir, f);
        snprintf(copy, sizeof(copy), "%s/imported-%d", server.dir, f);
        cr_assert_eq(run(FOUTA " export%s 2>&1 >%s", FOUTA_CLI, server.port, formats[f], file), 0,
                     "%s", output);
        unsigned long long records = 0, head = 0;
        cr_assert_eq(sscanf(output, "export: %llu records, up to %llu", &records, &head), 2, "%s",
                     output);
        cr_assert_eq(records, head);
        cr_assert_geq(records, events);
        cr_assert_eq(run("%s import %s %s", FOUTA_REPLAY, copy, file), 0, "%s", output);
        snprintf(expected, sizeof(expected), "import: %llu records, the chain checked", records);
        cr_assert(strstr(output, expected) != NULL, "%s", output);
    }
    cr_assert_eq(run(FOUTA " export --from 0 2>&1", FOUTA_CLI, server.port), 1);
    server_stop(&server);
}

Test(cli, tail_receives_events_posted_while_it_runs)
{
    server_start(&server);
    char command[1024], file[300];
    snprintf(command, sizeof(command), FOUTA " tail --type GoodsReceived --limit 2", FOUTA_CLI,
             server.port);
    FILE *tail = popen(command, "r");
    cr_assert_not_null(tail);
    sleep_ms(500); /* subscribed from now */
    snprintf(file, sizeof(file), "%s/two.json", server.dir);
    FILE *out = fopen(file, "w");
    char a[1024], b[1024], c[1024];
    event_goods(a, sizeof(a), 1, "T1", "1000");
    event_move(b, sizeof(b), 2, "T1", "MP1", "MP2");
    event_goods(c, sizeof(c), 3, "T2", "2000");
    fprintf(out, "[%s,%s,%s]", a, b, c);
    fclose(out);
    cr_assert_eq(run(FOUTA " --user sr --role store_raw post %s", FOUTA_CLI, server.port, file), 0,
                 "%s", output);
    char line[4096];
    cr_assert_not_null(fgets(line, sizeof(line), tail));
    cr_assert(strstr(line, "\"hu_id\":\"T1\"") != NULL, "%s", line);
    cr_assert_not_null(fgets(line, sizeof(line), tail));
    cr_assert(strstr(line, "\"hu_id\":\"T2\"") != NULL, "%s", line);
    cr_assert_eq(pclose(tail), 0, "tail stops after --limit");
    server_stop(&server);
}

Test(cli, a_refused_event_is_reported_with_its_code_and_the_exit_status_says_so)
{
    server_start(&server);
    char file[300], event[1024];
    snprintf(file, sizeof(file), "%s/bad.ndjson", server.dir);
    FILE *out = fopen(file, "w");
    event_move(event, sizeof(event), 1, "GHOST", "MP1", "FG");
    fprintf(out, "{\"role\":\"store_finished\",\"user\":\"sf\",\"event\":%s}\n", event);
    fclose(out);
    cr_assert_eq(run(FOUTA " post %s", FOUTA_CLI, server.port, file), 1);
    cr_assert(strstr(output, "refused 422 RULE_HU_UNKNOWN") != NULL, "%s", output);
    cr_assert(strstr(output, "hu-GHOST") != NULL, "%s", output);
    cr_assert_eq(run("%s --help", FOUTA_CLI), 0);
    cr_assert(strstr(output, "genealogy ENTITY up|down") != NULL);
    cr_assert_eq(run("%s frobnicate 2>/dev/null", FOUTA_CLI), 2);
    server_stop(&server);
}

Test(cli, fouta_sim_posts_two_days_over_four_connections_with_no_event_refused)
{
    server_start(&server);
    cr_assert_eq(run("%s --seed 1 --looms 12 --days 2 --post http://127.0.0.1:%d "
                     "--connections 4 2>&1",
                     FOUTA_SIM, server.port),
                 0, "%s", output);
    cr_assert(strstr(output, "0 already recorded, 0 refused") != NULL, "%s", output);
    server_stop(&server);
}

Test(cli, login_keeps_a_token_the_reads_use_and_logout_revokes_it)
{
    server_start(&server);
    char file[300], env[400];
    snprintf(file, sizeof(file), "%s/token", server.dir);
    snprintf(env, sizeof(env), "env -u FOUTA_PASSWORD FOUTA_TOKEN_FILE=%s", file);
    /* No password in the environment, no token: refused. */
    cr_assert_eq(run("%s " FOUTA " stock 2>&1", env, FOUTA_CLI, server.port), 1);
    cr_assert(strstr(output, "401 UNAUTHORIZED") != NULL, "%s", output);
    /* A wrong password: refused, and no token file. */
    cr_assert_eq(run("echo wrong-password | %s " FOUTA " login " TEST_TENANT " quality 2>&1", env,
                     FOUTA_CLI, server.port),
                 1);
    cr_assert(access(file, F_OK) != 0);
    /* The password on stdin: the token is kept, readable by its owner only, and reads use it. */
    cr_assert_eq(run("echo " TEST_PASSWORD " | %s " FOUTA " login " TEST_TENANT " quality", env,
                     FOUTA_CLI, server.port),
                 0, "%s", output);
    cr_assert(strstr(output, "signed in as quality of " TEST_TENANT) != NULL, "%s", output);
    struct stat st;
    cr_assert_eq(stat(file, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(run("%s " FOUTA " stock", env, FOUTA_CLI, server.port), 0, "%s", output);
    /* Logout revokes the session on the server: the same token is refused afterwards. */
    char token[2048];
    FILE *in = fopen(file, "r");
    cr_assert_not_null(in);
    cr_assert_not_null(fgets(token, sizeof(token), in));
    fclose(in);
    token[strcspn(token, "\n")] = '\0';
    cr_assert_eq(run("%s " FOUTA " logout", env, FOUTA_CLI, server.port), 0, "%s", output);
    cr_assert(access(file, F_OK) != 0, "logout forgets the token file");
    cr_assert_eq(run("env -u FOUTA_PASSWORD FOUTA_TOKEN=%s " FOUTA " stock 2>&1", token, FOUTA_CLI,
                     server.port),
                 1);
    cr_assert(strstr(output, "401 UNAUTHORIZED") != NULL, "%s", output);
    server_stop(&server);
}

Test(cli, the_command_line_speaks_https_and_refuses_a_certificate_it_cannot_trust)
{
    server_t tls = {0};
    char dir[100], other[120], cert[160], key[160], port_file[160];
    snprintf(dir, sizeof(dir), "/tmp/fouta-cli-tls-%d", (int)getpid());
    snprintf(other, sizeof(other), "%s/other", dir);
    cr_assert_eq(run("%s %s >/dev/null && %s %s >/dev/null", DEVCERT, dir, DEVCERT, other), 0);
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(port_file, sizeof(port_file), "%s/tls-port", dir);
    const char *extra[] = {
        "--tls-cert",      cert,      "--tls-key", key, "--tls-listen", "127.0.0.1:0",
        "--tls-port-file", port_file, NULL};
    server_start_args(&tls, extra);
    int port = 0;
    for (int i = 0; i < 500 && port == 0; i++) {
        FILE *file = fopen(port_file, "r");
        if (file != NULL) {
            if (fscanf(file, "%d", &port) != 1)
                port = 0;
            fclose(file);
        }
        if (port == 0)
            sleep_ms(10);
    }
    cr_assert_gt(port, 0);
    /* Posts and reads over TLS, trusting the development certificate. */
    char file[300], a[1024], b[1024];
    snprintf(file, sizeof(file), "%s/two.json", dir);
    FILE *out = fopen(file, "w");
    cr_assert_not_null(out);
    event_goods(a, sizeof(a), 1, "TLS1", "1000");
    event_goods(b, sizeof(b), 2, "TLS2", "2000");
    fprintf(out, "[%s,%s]", a, b);
    fclose(out);
    cr_assert_eq(run("FOUTA_CA_FILE=%s %s --url https://127.0.0.1:%d --role store_raw post %s",
                     cert, FOUTA_CLI, port, file),
                 0, "%s", output);
    cr_assert(strstr(output, "2 accepted") != NULL, "%s", output);
    cr_assert_eq(
        run("FOUTA_CA_FILE=%s %s --url https://localhost:%d hu TLS2", cert, FOUTA_CLI, port), 0,
        "%s", output);
    cr_assert(strstr(output, "TLS2") != NULL, "%s", output);
    /* Two roles in one file: the second signs in while the first's TLS connection is open. */
    char move[1024], goods[1024];
    event_move(move, sizeof(move), 3, "TLS1", "MP1", "MP2");
    event_goods(goods, sizeof(goods), 4, "TLS3", "3000");
    snprintf(file, sizeof(file), "%s/roles.ndjson", dir);
    out = fopen(file, "w");
    cr_assert_not_null(out);
    fprintf(out, "{\"role\":\"store_finished\",\"user\":\"sf\",\"event\":%s}\n", move);
    fprintf(out, "{\"role\":\"store_raw\",\"user\":\"sr\",\"event\":%s}\n", goods);
    fclose(out);
    cr_assert_eq(
        run("FOUTA_CA_FILE=%s %s --url https://127.0.0.1:%d post %s", cert, FOUTA_CLI, port, file),
        0, "%s", output);
    cr_assert(strstr(output, "2 accepted") != NULL, "%s", output);
    /* The live stream over TLS. */
    cr_assert_eq(run("FOUTA_CA_FILE=%s %s --url https://127.0.0.1:%d tail --from 1 --limit 2", cert,
                     FOUTA_CLI, port),
                 0, "%s", output);
    cr_assert(strstr(output, "TLS1") != NULL && strstr(output, "TLS2") != NULL, "%s", output);
    /* A certificate signed by no authority the client trusts: nothing is sent. */
    snprintf(cert, sizeof(cert), "%s/cert.pem", other);
    cr_assert_eq(
        run("FOUTA_CA_FILE=%s %s --url https://127.0.0.1:%d hu TLS2 2>&1", cert, FOUTA_CLI, port),
        1, "%s", output);
    server_stop(&tls);
    char rm[400];
    snprintf(rm, sizeof(rm), "rm -rf %s", dir);
    cr_assert_eq(system(rm), 0);
}

Test(cli, the_audit_commands_trace_recall_verify_and_read_the_stock_as_of_a_sequence)
{
    server_start(&server);
    char file[300], a[1024], b[1024], c[1024];
    snprintf(file, sizeof(file), "%s/three.json", server.dir);
    FILE *out = fopen(file, "w");
    cr_assert_not_null(out);
    event_goods(a, sizeof(a), 1, "AU1", "1000");
    event_move(b, sizeof(b), 2, "AU1", "MP1", "MP2");
    event_goods(c, sizeof(c), 3, "AU2", "2000");
    fprintf(out, "[%s,%s,%s]", a, b, c);
    fclose(out);
    cr_assert_eq(run(FOUTA " --role store_raw post %s", FOUTA_CLI, server.port, file), 0, "%s",
                 output);
    /* As of event 1: AU1 still at MP1, AU2 not yet received. */
    cr_assert_eq(run(FOUTA " stock --as-of 1", FOUTA_CLI, server.port), 0, "%s", output);
    cr_assert(strstr(output, "\"location\": \"MP1\"") != NULL, "%s", output);
    cr_assert(strstr(output, "\"count\": 1") != NULL, "%s", output);
    cr_assert_eq(run(FOUTA " trace hu-AU1 down --dot", FOUTA_CLI, server.port), 0, "%s", output);
    cr_assert(strncmp(output, "digraph", 7) == 0, "%s", output);
    cr_assert_eq(run(FOUTA " recall hu-AU1 --depth 5", FOUTA_CLI, server.port), 0, "%s", output);
    cr_assert(strstr(output, "\"source\"") != NULL, "%s", output);
    cr_assert_eq(run(FOUTA " verify", FOUTA_CLI, server.port), 0, "%s", output);
    cr_assert(strstr(output, "\"ok\": true") != NULL && strstr(output, "\"checked\": 3") != NULL,
              "%s", output);
    cr_assert_eq(run(FOUTA " count-report NOPE 2>&1", FOUTA_CLI, server.port), 1);
    cr_assert(strstr(output, "404 NOENT") != NULL, "%s", output);
    cr_assert_eq(run(FOUTA " trace hu-AU1 sideways 2>/dev/null", FOUTA_CLI, server.port), 2);
    server_stop(&server);
}
