/*
 * fouta-ledger: the operator's tool over a ledger directory, working on the engine directly
 * (no server). It runs a demo plant, verifies the hash chain, prints the head, and dumps the
 * log, a stream or an entity's history as one JSON line per event.
 *
 * Until foutad exists it is also the README's "run" job: `fouta-ledger demo DIR` appends a
 * simulated plant's events from concurrent appenders with durable commits and verifies them.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"

#define DEMO_APPENDERS      16
#define DEMO_EVENTS_DEFAULT 20000
#define DUMP_LIMIT_DEFAULT  100

static int usage(void)
{
    fprintf(stderr,
            "usage: fouta-ledger COMMAND DIR [ARGS]\n"
            "  demo DIR [EVENTS]         append a simulated plant's events (default %d)\n"
            "  verify DIR                check the hash chain and sequences\n"
            "  head DIR                  print the last sequence and hash\n"
            "  log DIR [FROM] [LIMIT]    print events from a sequence (default 1, %d)\n"
            "  stream DIR NAME           print a stream's events\n"
            "  entity DIR NAME           print every event that named an entity (hu:…)\n",
            DEMO_EVENTS_DEFAULT, DUMP_LIMIT_DEFAULT);
    return 2;
}

static int open_ledger(const char *dir, eng_ledger_t **ledger)
{
    eng_config_t config = {.dir = dir};
    int rc = eng_open(ledger, &config);
    if (rc != 0)
        fprintf(stderr, "fouta-ledger: cannot open %s: %s\n", dir, fl_strerror(rc));
    return rc;
}

/* Prints a string as a JSON string body (the engine's strings are bounded and NUL-free). */
static void print_json_text(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
}

static void print_record(const eng_record_t *r)
{
    char id[37], hash[2 * ENG_HASH_BYTES + 1];
    fl_uuid_format(r->id, id);
    fl_hex_format(r->hash, ENG_HASH_BYTES, hash);
    printf("{\"seq\":%llu,\"id\":\"%s\",\"type\":\"%.*s\",\"stream\":\"%.*s\",\"version\":%llu,"
           "\"recorded_at_us\":%lld,\"actor\":\"%.*s\",\"entities\":[",
           (unsigned long long)r->seq, id, (int)r->type.len, r->type.ptr, (int)r->stream.len,
           r->stream.ptr, (unsigned long long)r->stream_version, (long long)r->recorded_at_us,
           (int)r->actor_user.len, r->actor_user.ptr);
    for (uint32_t i = 0; i < r->entities_count; i++)
        printf("%s\"%.*s\"", i ? "," : "", (int)r->entities[i].len, r->entities[i].ptr);
    printf("],\"payload_bytes\":%u,\"payload\":\"", r->payload_len);
    print_json_text((const char *)r->payload, r->payload_len);
    printf("\",\"hash\":\"%s\"}\n", hash);
}

static int print_iter(eng_iter_t *iter, uint64_t limit)
{
    eng_record_t r;
    int rc;
    uint64_t printed = 0;
    while (printed < limit && (rc = eng_iter_next(iter, &r)) == 0) {
        print_record(&r);
        printed++;
    }
    eng_iter_close(iter);
    if (printed < limit && rc != FL_EEOF) {
        fprintf(stderr, "fouta-ledger: %s at sequence %llu\n", fl_strerror(rc),
                (unsigned long long)r.seq);
        return 1;
    }
    return 0;
}

typedef struct {
    eng_ledger_t *ledger;
    unsigned appender;
    unsigned events;
    int status;
} demo_appender_t;

/* One appender plays a weaver on two looms: rolls declared, with a stop now and then. */
static void *demo_main(void *arg)
{
    demo_appender_t *a = arg;
    char stream[64], hu[64], loom[64], user[32], payload[200];
    snprintf(user, sizeof(user), "weaver-%02u", a->appender);
    for (unsigned n = 0; n < a->events && a->status == 0; n++) {
        unsigned loom_number = a->appender * 2 + n % 2;
        bool stop = n % 10 == 9;
        eng_event_t event = {.schema_version = 1,
                             .expected_version = ENG_EXPECT_ANY,
                             .occurred_at_us = fl_now_us(),
                             .actor_user = user,
                             .actor_role = "weaver",
                             .actor_device = "demo"};
        if (fl_uuid7(event.id) != 0) {
            a->status = FL_EIO;
            break;
        }
        snprintf(loom, sizeof(loom), "loom:L%03u", loom_number);
        snprintf(hu, sizeof(hu), "hu:R%02u%06u", a->appender, n);
        if (stop) {
            event.type = "LoomStopped";
            snprintf(stream, sizeof(stream), "loom-L%03u", loom_number);
            snprintf(payload, sizeof(payload), "{\"loom\":\"L%03u\",\"reason\":\"warp_break\"}",
                     loom_number);
        } else {
            event.type = "ProductionDeclared";
            snprintf(stream, sizeof(stream), "hu-R%02u%06u", a->appender, n);
            snprintf(payload, sizeof(payload),
                     "{\"of\":\"OF-2026-%03u\",\"loom\":\"L%03u\",\"pieces\":120,"
                     "\"metres_milli\":%u,\"picks\":%u,\"output_hu\":\"R%02u%06u\"}",
                     a->appender, loom_number, 60000 + n % 500, 1800000 + n, a->appender, n);
            event.entities[event.entities_count++] = hu;
        }
        event.stream = stream;
        event.entities[event.entities_count++] = loom;
        event.payload = (const uint8_t *)payload;
        event.payload_len = (uint32_t)strlen(payload);
        eng_position_t position;
        a->status = eng_append(a->ledger, &event, 1, 0, &position, NULL);
    }
    return NULL;
}

static int command_demo(eng_ledger_t *ledger, unsigned events)
{
    demo_appender_t appenders[DEMO_APPENDERS];
    pthread_t threads[DEMO_APPENDERS];
    uint64_t started = fl_mono_ns();
    for (unsigned i = 0; i < DEMO_APPENDERS; i++) {
        appenders[i] = (demo_appender_t){ledger, i, events / DEMO_APPENDERS, 0};
        pthread_create(&threads[i], NULL, demo_main, &appenders[i]);
    }
    int status = 0;
    for (unsigned i = 0; i < DEMO_APPENDERS; i++) {
        pthread_join(threads[i], NULL);
        if (appenders[i].status != 0)
            status = appenders[i].status;
    }
    double seconds = (double)(fl_mono_ns() - started) / 1e9;
    if (status != 0) {
        fprintf(stderr, "fouta-ledger: demo append failed: %s\n", fl_strerror(status));
        return 1;
    }
    eng_stats_t stats;
    eng_stats(ledger, &stats);
    printf("demo: %llu events from %d concurrent appenders in %.2f s: %.0f durable events/s, "
           "%llu commits (%.1f events per commit)\n",
           (unsigned long long)stats.events_appended, DEMO_APPENDERS, seconds,
           (double)stats.events_appended / seconds, (unsigned long long)stats.commits,
           stats.commits ? (double)stats.events_appended / (double)stats.commits : 0.0);
    return 0;
}

static int command_verify(eng_ledger_t *ledger)
{
    uint64_t checked, bad;
    int rc = eng_verify(ledger, &checked, &bad);
    if (rc == FL_ECORRUPT) {
        printf("verify: FAILED at sequence %llu (%llu records before it are sound)\n",
               (unsigned long long)bad, (unsigned long long)checked);
        return 1;
    }
    if (rc != 0) {
        fprintf(stderr, "fouta-ledger: verify: %s\n", fl_strerror(rc));
        return 1;
    }
    printf("verify: ok, %llu records, chain intact\n", (unsigned long long)checked);
    return 0;
}

static int command_head(eng_ledger_t *ledger)
{
    eng_head_t head;
    eng_head(ledger, &head);
    char hash[2 * ENG_HASH_BYTES + 1];
    fl_hex_format(head.hash, ENG_HASH_BYTES, hash);
    printf("{\"seq\":%llu,\"hash\":\"%s\",\"recorded_at_us\":%lld}\n", (unsigned long long)head.seq,
           hash, (long long)head.recorded_at_us);
    return 0;
}

static int run(const char *command, eng_ledger_t *ledger, int argc, char **argv)
{
    eng_iter_t *iter = NULL;
    int rc;
    if (strcmp(command, "demo") == 0) {
        unsigned events = argc > 0 ? (unsigned)strtoul(argv[0], NULL, 10) : DEMO_EVENTS_DEFAULT;
        if (events < DEMO_APPENDERS)
            return usage();
        rc = command_demo(ledger, events);
        return rc != 0 ? rc : command_verify(ledger) || command_head(ledger);
    }
    if (strcmp(command, "verify") == 0)
        return command_verify(ledger);
    if (strcmp(command, "head") == 0)
        return command_head(ledger);
    if (strcmp(command, "log") == 0) {
        uint64_t from = argc > 0 ? strtoull(argv[0], NULL, 10) : 1;
        uint64_t limit = argc > 1 ? strtoull(argv[1], NULL, 10) : DUMP_LIMIT_DEFAULT;
        rc = eng_iter_log(ledger, from, ENG_FORWARD, &iter);
        return rc != 0 ? 1 : print_iter(iter, limit);
    }
    if (strcmp(command, "stream") == 0 && argc > 0) {
        rc = eng_iter_stream(ledger, argv[0], 1, &iter);
        return rc != 0 ? 1 : print_iter(iter, UINT64_MAX);
    }
    if (strcmp(command, "entity") == 0 && argc > 0) {
        rc = eng_iter_entity(ledger, argv[0], 0, ENG_FORWARD, &iter);
        return rc != 0 ? 1 : print_iter(iter, UINT64_MAX);
    }
    return usage();
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    eng_ledger_t *ledger = NULL;
    if (open_ledger(argv[2], &ledger) != 0)
        return 1;
    int status = run(argv[1], ledger, argc - 3, argv + 3);
    eng_close(ledger);
    return status;
}
