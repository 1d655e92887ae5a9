/*
 * fouta: the command line of a Fouta Ledger plant, over foutad's API (fl_client). Posts events
 * from a file or stdin and says what became of each, tails the live stream, and reads units,
 * genealogy, stock and orders. Who it is comes from an access token: `fouta login` keeps one
 * in a file for the next commands; with FOUTA_PASSWORD set, it signs in by itself as the user
 * named after each event's role (the demo tenant's convention, which fouta-sim's files use).
 * The server records the token's user as the actor, whatever a file says.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clients/client/client.h"

#define POST_BATCH_EVENTS 200
#define INPUT_BYTES_MAX   (1024u * 1024u * 1024u)

static const char usage[] =
    "usage: fouta [--url URL] [--role ROLE] [--device DEVICE] COMMAND ...\n"
    "\n"
    "  login TENANT USER       signs in (the password: FOUTA_PASSWORD, else the first line of\n"
    "                          stdin) and keeps the access token in FOUTA_TOKEN_FILE (default\n"
    "                          .fouta-token, mode 0600) for the next commands\n"
    "  logout                  signs out: the server revokes the token's session\n"
    "  post FILE|- [--quiet]   post events: a JSON object, a JSON array, or NDJSON (one event a\n"
    "                          line, or {\"role\",\"user\",\"device\",\"event\"} as fouta-sim "
    "writes,\n"
    "                          whose role picks the user when FOUTA_PASSWORD is set);\n"
    "                          prints each verdict:\n"
    "                          accepted with its seq, already recorded, or refused with the\n"
    "                          code, field and message; exit status 1 when any was refused\n"
    "  tail [--from SEQ] [--type T[,T...]] [--limit N] [--idle-ms MS]\n"
    "                          the live stream as NDJSON, from SEQ (default: from now), resumed\n"
    "                          after a lost connection\n"
    "  hu ID                   a handling unit and everything it contains\n"
    "  genealogy ENTITY up|down [--depth N]   e.g. hu-P00001 up, hu-Y00012 down\n"
    "  stock [--item I] [--location L] [--status S] [--grade G] [--group-by K[,K]]\n"
    "        [--as-of SEQ]     the stock as it was after event SEQ\n"
    "  order ID                a production order's state and progress\n"
    "  trace ENTITY up|down [--depth N] [--dot]   recall picture: hu-Y7 down to the shipments,\n"
    "                          hu-P1 up to yarn lots, beams, looms (DOT for Graphviz)\n"
    "  recall SOURCE [--from-us T] [--until-us T] [--dot]   a loom's, a weaver's (actor:USER)\n"
    "                          or a subcontractor's (sub-ID) output over a period, down\n"
    "  count-report ID [--threshold-permille P] [--csv]   a count's reconciliation\n"
    "  verify                  the ledger's hash chain, record by record\n"
    "  export [--msgpack] [--from SEQ]   the log from SEQ (default 1) to the head, as\n"
    "                          fouta-replay export writes it (NDJSON, or msgpack), on stdout,\n"
    "                          fetched in pages; fouta-replay import checks and loads it\n"
    "  label HU [--zpl|--svg]  a unit's label: a text summary, or the server's label with its QR\n"
    "                          code, ZPL for a thermal printer (e.g. | nc PRINTER 9100) or SVG\n"
    "\n"
    "  --url     foutad's address (FOUTA_URL, default http://127.0.0.1:8080)\n"
    "  --role    with FOUTA_PASSWORD: sign in as the user named after ROLE (FOUTA_ROLE; reads\n"
    "            default to the manager) in tenant FOUTA_TENANT (default plant)\n"
    "  --device  the device a phone's token is bound to (default fouta-cli)\n"
    "  FOUTA_TOKEN   an access token to use instead of the token file\n"
    "  --help    this text\n";

static int fail(const char *what, int rc, const fc_problem_t *problem)
{
    if (problem != NULL && problem->code[0] != '\0')
        fprintf(stderr, "fouta: %s: %d %s%s%s: %s\n", what, problem->status, problem->code,
                problem->field[0] != '\0' ? " at " : "", problem->field, problem->message);
    else
        fprintf(stderr, "fouta: %s: %s (%s)\n", what, fl_strerror(rc), fl_errname(rc));
    return 1;
}

/* ---- post */

typedef struct {
    char **texts;
    size_t *lens;
    char (*users)[128];
    char (*roles)[32];
    char (*devices)[128];
    size_t count, capacity;
} events_t;

static int events_add(events_t *events, json_t *event, json_t *envelope)
{
    if (events->count == events->capacity) {
        size_t capacity = events->capacity != 0 ? events->capacity * 2 : 256;
        char **texts = realloc(events->texts, capacity * sizeof(*texts));
        if (texts != NULL)
            events->texts = texts;
        size_t *lens = realloc(events->lens, capacity * sizeof(*lens));
        if (lens != NULL)
            events->lens = lens;
        char(*users)[128] = realloc(events->users, capacity * sizeof(*users));
        if (users != NULL)
            events->users = users;
        char(*roles)[32] = realloc(events->roles, capacity * sizeof(*roles));
        if (roles != NULL)
            events->roles = roles;
        char(*devices)[128] = realloc(events->devices, capacity * sizeof(*devices));
        if (devices != NULL)
            events->devices = devices;
        if (texts == NULL || lens == NULL || users == NULL || roles == NULL || devices == NULL)
            return FL_ENOMEM;
        events->capacity = capacity;
    }
    size_t i = events->count;
    events->texts[i] = json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (events->texts[i] == NULL)
        return FL_ENOMEM;
    events->lens[i] = strlen(events->texts[i]);
    const char *user = json_string_value(json_object_get(envelope, "user"));
    const char *role = json_string_value(json_object_get(envelope, "role"));
    const char *device = json_string_value(json_object_get(envelope, "device"));
    snprintf(events->users[i], sizeof(events->users[i]), "%s", user != NULL ? user : "");
    snprintf(events->roles[i], sizeof(events->roles[i]), "%s", role != NULL ? role : "");
    snprintf(events->devices[i], sizeof(events->devices[i]), "%s", device != NULL ? device : "");
    events->count++;
    return 0;
}

/* One parsed value: an event, an envelope with its actor, or an array of either. */
static int events_take(events_t *events, json_t *value)
{
    if (json_is_array(value)) {
        for (size_t i = 0; i < json_array_size(value); i++) {
            int rc = events_take(events, json_array_get(value, i));
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    if (!json_is_object(value))
        return FL_EINVALID_JSON;
    json_t *inner = json_object_get(value, "event");
    return json_is_object(inner) ? events_add(events, inner, value)
                                 : events_add(events, value, NULL);
}

static int read_all(const char *path, char **out, size_t *len)
{
    FILE *file = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (file == NULL)
        return -errno;
    size_t capacity = 1 << 16, used = 0;
    char *data = malloc(capacity + 1);
    int rc = 0;
    while (data != NULL) {
        used += fread(data + used, 1, capacity - used, file);
        if (used < capacity)
            break;
        if (capacity >= INPUT_BYTES_MAX) {
            rc = FL_ETOOBIG;
            break;
        }
        capacity *= 2;
        char *bigger = realloc(data, capacity + 1);
        if (bigger == NULL)
            free(data);
        data = bigger;
    }
    if (data == NULL)
        rc = FL_ENOMEM;
    else if (ferror(file))
        rc = FL_EIO;
    if (file != stdin)
        fclose(file);
    if (rc != 0) {
        free(data);
        return rc;
    }
    data[used] = '\0';
    *out = data;
    *len = used;
    return 0;
}

/* The input as one JSON value, else as NDJSON: one value a line. */
static int parse_input(const char *text, size_t len, events_t *events)
{
    json_error_t error;
    json_t *whole = json_loadb(text, len, 0, &error);
    if (whole != NULL) {
        int rc = events_take(events, whole);
        json_decref(whole);
        return rc;
    }
    size_t line_number = 0;
    for (const char *line = text; line < text + len;) {
        const char *end = memchr(line, '\n', (size_t)(text + len - line));
        size_t line_len = end != NULL ? (size_t)(end - line) : (size_t)(text + len - line);
        line_number++;
        if (strspn(line, " \t\r") < line_len) {
            json_t *value = json_loadb(line, line_len, 0, &error);
            int rc = value != NULL ? events_take(events, value) : FL_EINVALID_JSON;
            json_decref(value);
            if (rc != 0) {
                fprintf(stderr, "fouta: line %zu: %s\n", line_number,
                        value == NULL ? error.text : fl_strerror(rc));
                return rc;
            }
        }
        line = line + line_len + 1;
    }
    return 0;
}

static void events_free(events_t *events)
{
    for (size_t i = 0; i < events->count; i++)
        free(events->texts[i]);
    free(events->texts);
    free(events->lens);
    free(events->users);
    free(events->roles);
    free(events->devices);
}

typedef struct {
    uint64_t accepted, duplicate, refused;
} tally_t;

static void print_verdict(const events_t *events, size_t i, const fc_verdict_t *v, bool quiet,
                          tally_t *tally)
{
    json_t *event = json_loadb(events->texts[i], events->lens[i], 0, NULL);
    const char *type = json_string_value(json_object_get(event, "type"));
    const char *id = json_string_value(json_object_get(event, "id"));
    type = type != NULL ? type : "?";
    id = id != NULL ? id : "?";
    if (v->rc == 0 && !v->duplicate) {
        tally->accepted++;
        if (!quiet)
            printf("#%zu %s %s: accepted, seq %llu\n", i + 1, type, id, (unsigned long long)v->seq);
    } else if (v->rc == 0) {
        tally->duplicate++;
        if (!quiet)
            printf("#%zu %s %s: already recorded, seq %llu\n", i + 1, type, id,
                   (unsigned long long)v->seq);
    } else {
        tally->refused++;
        printf("#%zu %s %s: refused %d %s%s%s: %s\n", i + 1, type, id, v->problem.status,
               v->problem.code, v->problem.field[0] != '\0' ? " at " : "", v->problem.field,
               v->problem.message);
    }
    json_decref(event);
}

static bool same_actor(const events_t *events, size_t a, size_t b)
{
    return strcmp(events->users[a], events->users[b]) == 0 &&
           strcmp(events->roles[a], events->roles[b]) == 0 &&
           strcmp(events->devices[a], events->devices[b]) == 0;
}

static int cmd_post(fc_client_t *client, const fc_config_t *config, int argc, char **argv)
{
    const char *path = NULL;
    bool quiet = false;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--quiet") == 0)
            quiet = true;
        else
            path = argv[i];
    if (path == NULL) {
        fputs(usage, stderr);
        return 2;
    }
    char *text = NULL;
    size_t len = 0;
    events_t events = {0};
    int rc = read_all(path, &text, &len);
    if (rc != 0)
        return fail(path, rc, NULL);
    rc = parse_input(text, len, &events);
    free(text);
    if (rc != 0) {
        events_free(&events);
        return fail("the input is neither JSON nor NDJSON events", rc, NULL);
    }
    static fc_verdict_t verdicts[POST_BATCH_EVENTS];
    tally_t tally = {0};
    for (size_t start = 0; start < events.count && rc == 0;) {
        size_t end = start + 1;
        while (end < events.count && end - start < POST_BATCH_EVENTS &&
               same_actor(&events, start, end))
            end++;
        const char *user = events.users[start][0] != '\0' ? events.users[start] : config->user;
        const char *role = events.roles[start][0] != '\0' ? events.roles[start] : config->role;
        const char *device =
            events.devices[start][0] != '\0' ? events.devices[start] : config->device;
        if ((rc = fc_set_actor(client, user != NULL ? user : "", role != NULL ? role : "",
                               device)) != 0)
            break;
        rc = fc_post_batch(client, (const char *const *)&events.texts[start], &events.lens[start],
                           (uint32_t)(end - start), verdicts);
        if (rc != 0 && verdicts[0].problem.status == 0)
            break; /* the network: nothing more can be said */
        rc = 0;
        for (size_t i = start; i < end; i++)
            print_verdict(&events, i, &verdicts[i - start], quiet, &tally);
        start = end;
    }
    printf("posted %zu: %llu accepted, %llu already recorded, %llu refused\n", events.count,
           (unsigned long long)tally.accepted, (unsigned long long)tally.duplicate,
           (unsigned long long)tally.refused);
    events_free(&events);
    if (rc != 0)
        return fail("post", rc, NULL);
    return tally.refused > 0 ? 1 : 0;
}

/* ---- tail */

typedef struct {
    uint64_t seen, limit;
} tail_state_t;

static int tail_print(uint64_t seq, const char *event_json, size_t len, void *data)
{
    (void)seq;
    tail_state_t *state = data;
    fwrite(event_json, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    return state->limit != 0 && ++state->seen >= state->limit;
}

static int cmd_tail(fc_client_t *client, int argc, char **argv)
{
    fc_tail_config_t config = {0};
    tail_state_t state = {0};
    for (int i = 0; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--from") == 0)
            config.from_seq = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--type") == 0)
            config.types = argv[i + 1];
        else if (strcmp(argv[i], "--limit") == 0)
            state.limit = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--idle-ms") == 0)
            config.idle_ms = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else {
            fputs(usage, stderr);
            return 2;
        }
    }
    int rc = fc_tail(client, &config, tail_print, &state, NULL);
    return rc != 0 ? fail("tail", rc, NULL) : 0;
}

/* ---- login, logout */

static const char *token_file(void)
{
    const char *path = getenv("FOUTA_TOKEN_FILE");
    return path != NULL ? path : FC_TOKEN_FILE_DEFAULT;
}

static int cmd_login(fc_client_t *client, const char *tenant, const char *user)
{
    char password[512];
    const char *env = getenv("FOUTA_PASSWORD");
    if (env != NULL)
        snprintf(password, sizeof(password), "%s", env);
    else if (fgets(password, sizeof(password), stdin) == NULL)
        password[0] = '\0';
    password[strcspn(password, "\r\n")] = '\0';
    static char token[2048];
    int rc = fc_login(client, tenant, user, password, true, token, sizeof(token), NULL, 0);
    memset(password, 0, sizeof(password));
    if (rc != 0)
        return fail("login", rc, NULL);
    const char *path = token_file();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return fail(path, -errno, NULL);
    size_t len = strlen(token);
    token[len] = '\n';
    bool ok = write(fd, token, len + 1) == (ssize_t)(len + 1);
    ok = close(fd) == 0 && ok;
    if (!ok)
        return fail(path, FL_EIO, NULL);
    printf("signed in as %s of %s; the token is in %s\n", user, tenant, path);
    return 0;
}

static int cmd_logout(fc_client_t *client)
{
    int rc = fc_logout(client);
    const char *path = token_file();
    if (unlink(path) != 0 && errno != ENOENT)
        return fail(path, -errno, NULL);
    if (rc != 0)
        return fail("logout", rc, NULL);
    printf("signed out\n");
    return 0;
}

/* ---- reads */

static int print_json(int rc, fc_response_t *response, const fc_problem_t *problem,
                      const char *what)
{
    if (rc != 0) {
        fc_response_free(response);
        return fail(what, rc, problem);
    }
    json_t *root = json_loadb(response->body, response->body_len, 0, NULL);
    char *text = root != NULL ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    puts(text != NULL ? text : response->body);
    free(text);
    json_decref(root);
    fc_response_free(response);
    return 0;
}

static int cmd_stock(fc_client_t *client, int argc, char **argv)
{
    static const char *const flags[][2] = {{"--item", "item"},         {"--location", "location"},
                                           {"--status", "status"},     {"--grade", "grade"},
                                           {"--group-by", "group_by"}, {"--as-of", "as_of_seq"}};
    char query[1024] = "";
    for (int i = 0; i + 1 < argc; i += 2) {
        size_t f = 0;
        while (f < 6 && strcmp(argv[i], flags[f][0]) != 0)
            f++;
        if (f == 6 || fc_query_add(query, sizeof(query), flags[f][1], argv[i + 1]) != 0) {
            fputs(usage, stderr);
            return 2;
        }
    }
    fc_response_t response;
    fc_problem_t problem;
    int rc = fc_stock(client, query, &response, &problem);
    return print_json(rc, &response, &problem, "stock");
}

static const char *text_of(json_t *object, const char *key)
{
    const char *text = json_string_value(json_object_get(object, key));
    return text != NULL ? text : "-";
}

/* The server's label, as it comes, to stdout. */
static int cmd_label_rendered(fc_client_t *client, const char *hu_id, bool zpl)
{
    fc_response_t response;
    fc_problem_t problem;
    int rc = fc_label(client, hu_id, zpl, &response, &problem);
    if (rc == 0)
        fwrite(response.body, 1, response.body_len, stdout);
    fc_response_free(&response);
    return rc != 0 ? fail("label", rc, &problem) : 0;
}

/* A unit's label as text: what the printed label will carry. */
static int cmd_label(fc_client_t *client, const char *hu_id)
{
    fc_response_t response;
    fc_problem_t problem;
    int rc = fc_hu(client, hu_id, &response, &problem);
    if (rc != 0) {
        fc_response_free(&response);
        return fail("label", rc, &problem);
    }
    json_t *hu = json_loadb(response.body, response.body_len, 0, NULL);
    static const char *const grades[] = {"-", "first", "second"};
    json_int_t grade = json_integer_value(json_object_get(hu, "grade"));
    const char *grade_text = json_is_string(json_object_get(hu, "grade"))
                                 ? text_of(hu, "grade")
                                 : grades[grade >= 0 && grade <= 2 ? grade : 0];
    json_int_t qty = json_integer_value(json_object_get(hu, "qty_milli"));
    char line[6][64];
    snprintf(line[0], sizeof(line[0]), "HU %s", text_of(hu, "hu_id"));
    snprintf(line[1], sizeof(line[1]), "item %s  grade %s", text_of(hu, "item"), grade_text);
    snprintf(line[2], sizeof(line[2]), "qty %lld.%03lld %s", (long long)(qty / 1000),
             (long long)(qty % 1000 < 0 ? -(qty % 1000) : qty % 1000), text_of(hu, "unit"));
    snprintf(line[3], sizeof(line[3]), "status %s", text_of(hu, "status"));
    snprintf(line[4], sizeof(line[4]), "at %s  in %s", text_of(hu, "location"),
             text_of(hu, "parent"));
    snprintf(line[5], sizeof(line[5]), "contains %zu units",
             json_array_size(json_object_get(hu, "contents")));
    printf("+------------------------------------------+\n| %-40s |\n", "FOUTA LEDGER");
    for (int i = 0; i < 6; i++)
        printf("| %-40s |\n", line[i]);
    printf("| %-40s |\n+------------------------------------------+\n",
           "[QR code: fouta label ID --svg or --zpl]");
    json_decref(hu);
    fc_response_free(&response);
    return 0;
}

/* ---- audit: replay/ through the API */

/* GET base (with "%s" for the escaped id, or none) + "?" + query: a JSON answer pretty-printed,
 * CSV or DOT as they come. */
static int audit_get(fc_client_t *client, const char *base, const char *id, const char *query,
                     bool raw, const char *what)
{
    char path[2048], escaped[1024] = "";
    if (id != NULL && fc_query_add(escaped, sizeof(escaped), "x", id) != 0)
        return fail(what, FL_ETOOBIG, NULL);
    int len = snprintf(path, sizeof(path), base, escaped + (id != NULL ? 2 : 0));
    if (len < 0 || (size_t)len >= sizeof(path) ||
        (query[0] != '\0' && snprintf(path + len, sizeof(path) - (size_t)len, "?%s", query) >=
                                 (int)(sizeof(path) - (size_t)len)))
        return fail(what, FL_ETOOBIG, NULL);
    fc_response_t response;
    fc_problem_t problem;
    int rc = fc_get(client, path, &response, &problem);
    if (rc != 0 || !raw)
        return print_json(rc, &response, &problem, what);
    fwrite(response.body, 1, response.body_len, stdout);
    fc_response_free(&response);
    return 0;
}

/* Turns "--flag VALUE" pairs (of flags[][0]) into query parameters (flags[][1]) and the bare
 * switch (--dot or --csv) into format=...; false on anything else. */
static bool audit_query(int argc, char **argv, const char *const (*flags)[2], size_t count,
                        const char *raw_switch, char *query, size_t size, bool *raw)
{
    *raw = false;
    for (int i = 0; i < argc; i++) {
        if (raw_switch != NULL && strcmp(argv[i], raw_switch) == 0) {
            *raw = true;
            if (fc_query_add(query, size, "format", raw_switch + 2) != 0)
                return false;
            continue;
        }
        size_t f = 0;
        while (f < count && strcmp(argv[i], flags[f][0]) != 0)
            f++;
        if (f == count || i + 1 == argc || fc_query_add(query, size, flags[f][1], argv[i + 1]) != 0)
            return false;
        i++;
    }
    return true;
}

#define EXPORT_PAGE_RECORDS 10000 /* records a request: the server's default page */

/* The log from --from to the head as it is now, page after page, to stdout. */
static int cmd_export(fc_client_t *client, int argc, char **argv)
{
    bool msgpack = false;
    unsigned long long from = 1;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--msgpack") == 0) {
            msgpack = true;
        } else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
            char *end;
            from = strtoull(argv[++i], &end, 10);
            if (*end != '\0' || from == 0)
                return fail("export", FL_EINVAL, NULL);
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    fc_response_t response;
    fc_problem_t problem;
    int rc = fc_get(client, "/api/v1/head", &response, &problem);
    if (rc != 0)
        return fail("export", rc, &problem);
    json_t *head = json_loadb(response.body, response.body_len, 0, NULL);
    unsigned long long last = (unsigned long long)json_integer_value(json_object_get(head, "seq"));
    json_decref(head);
    fc_response_free(&response);
    unsigned long long records = 0;
    for (; rc == 0 && from <= last; from += EXPORT_PAGE_RECORDS) {
        unsigned long long to =
            last - from < EXPORT_PAGE_RECORDS ? last : from + EXPORT_PAGE_RECORDS - 1;
        char path[160];
        snprintf(path, sizeof(path), "/api/v1/export?from_seq=%llu&to_seq=%llu&format=%s", from, to,
                 msgpack ? "msgpack" : "ndjson");
        if ((rc = fc_get(client, path, &response, &problem)) != 0)
            return fail("export", rc, &problem);
        if (fwrite(response.body, 1, response.body_len, stdout) != response.body_len)
            rc = FL_EIO;
        fc_response_free(&response);
        records += to - from + 1;
    }
    if (rc == 0 && fflush(stdout) != 0)
        rc = FL_EIO;
    if (rc != 0)
        return fail("export", rc, NULL);
    fprintf(stderr, "export: %llu records, up to %llu\n", records, last);
    return 0;
}

static int cmd_audit(fc_client_t *client, const char *command, int argc, char **argv)
{
    static const char *const trace_flags[][2] = {{"--depth", "depth"}};
    static const char *const recall_flags[][2] = {
        {"--from-us", "from_us"}, {"--until-us", "until_us"}, {"--depth", "depth"}};
    static const char *const count_flags[][2] = {{"--threshold-permille", "threshold_permille"}};
    char query[1024] = "";
    bool raw = false;
    if (strcmp(command, "verify") == 0 && argc == 0)
        return audit_get(client, "/api/v1/verify", NULL, "", false, "verify");
    if (strcmp(command, "trace") == 0 && argc >= 2 &&
        (strcmp(argv[1], "up") == 0 || strcmp(argv[1], "down") == 0) &&
        fc_query_add(query, sizeof(query), "direction", argv[1]) == 0 &&
        audit_query(argc - 2, argv + 2, trace_flags, 1, "--dot", query, sizeof(query), &raw))
        return audit_get(client, "/api/v1/trace/%s", argv[0], query, raw, "trace");
    if (strcmp(command, "recall") == 0 && argc >= 1 &&
        fc_query_add(query, sizeof(query), "source", argv[0]) == 0 &&
        audit_query(argc - 1, argv + 1, recall_flags, 3, "--dot", query, sizeof(query), &raw))
        return audit_get(client, "/api/v1/recall", NULL, query, raw, "recall");
    if (strcmp(command, "count-report") == 0 && argc >= 1 &&
        audit_query(argc - 1, argv + 1, count_flags, 1, "--csv", query, sizeof(query), &raw))
        return audit_get(client, "/api/v1/counts/%s/report", argv[0], query, raw, "count-report");
    fputs(usage, stderr);
    return 2;
}

static int run(fc_client_t *client, const fc_config_t *config, int argc, char **argv)
{
    const char *command = argv[0];
    fc_response_t response;
    fc_problem_t problem;
    if (strcmp(command, "login") == 0 && argc == 3)
        return cmd_login(client, argv[1], argv[2]);
    if (strcmp(command, "logout") == 0 && argc == 1)
        return cmd_logout(client);
    if (strcmp(command, "trace") == 0 || strcmp(command, "recall") == 0 ||
        strcmp(command, "count-report") == 0 || strcmp(command, "verify") == 0)
        return cmd_audit(client, command, argc - 1, argv + 1);
    if (strcmp(command, "post") == 0)
        return cmd_post(client, config, argc - 1, argv + 1);
    if (strcmp(command, "export") == 0)
        return cmd_export(client, argc - 1, argv + 1);
    if (strcmp(command, "tail") == 0)
        return cmd_tail(client, argc - 1, argv + 1);
    if (strcmp(command, "stock") == 0)
        return cmd_stock(client, argc - 1, argv + 1);
    if (strcmp(command, "hu") == 0 && argc == 2)
        return print_json(fc_hu(client, argv[1], &response, &problem), &response, &problem, "hu");
    if (strcmp(command, "order") == 0 && argc == 2)
        return print_json(fc_order(client, argv[1], &response, &problem), &response, &problem,
                          "order");
    if (strcmp(command, "label") == 0 && argc == 2)
        return cmd_label(client, argv[1]);
    if (strcmp(command, "label") == 0 && argc == 3 &&
        (strcmp(argv[2], "--zpl") == 0 || strcmp(argv[2], "--svg") == 0))
        return cmd_label_rendered(client, argv[1], strcmp(argv[2], "--zpl") == 0);
    if (strcmp(command, "genealogy") == 0 && (argc == 3 || argc == 5) &&
        (strcmp(argv[2], "up") == 0 || strcmp(argv[2], "down") == 0)) {
        uint32_t depth =
            argc == 5 && strcmp(argv[3], "--depth") == 0 ? (uint32_t)strtoul(argv[4], NULL, 10) : 0;
        int rc =
            fc_genealogy(client, argv[1], strcmp(argv[2], "down") == 0, depth, &response, &problem);
        return print_json(rc, &response, &problem, "genealogy");
    }
    fputs(usage, stderr);
    return 2;
}

int main(int argc, char **argv)
{
    fc_config_t config = {.url = getenv("FOUTA_URL"),
                          .user = getenv("FOUTA_USER"),
                          .role = getenv("FOUTA_ROLE"),
                          .device = "fouta-cli"};
    if (config.url == NULL)
        config.url = "http://127.0.0.1:8080";
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (i + 1 >= argc)
            break;
        if (strcmp(argv[i], "--url") == 0)
            config.url = argv[i + 1];
        else if (strcmp(argv[i], "--user") == 0)
            config.user = argv[i + 1];
        else if (strcmp(argv[i], "--role") == 0)
            config.role = argv[i + 1];
        else if (strcmp(argv[i], "--device") == 0)
            config.device = argv[i + 1];
        else
            break;
    }
    if (i >= argc || strncmp(argv[i], "--", 2) == 0) {
        fputs(usage, stderr);
        return 2;
    }
    for (int j = i; j < argc; j++)
        if (strcmp(argv[j], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
    fc_client_t *client;
    int rc = fc_open(&client, &config);
    if (rc != 0)
        return fail("--url must be http://HOST[:PORT] or https://HOST[:PORT]", rc, NULL);
    rc = run(client, &config, argc - i, argv + i);
    fc_close(client);
    return rc;
}
