/*
 * fouta-project: runs the projectors of one ledger outside foutad - to project a ledger that no
 * server is serving, to rebuild a projection, or to watch a projector's state. Its projectors
 * are woken by this process's own commits only: while another process appends to the ledger,
 * they see new events within PRJ_WAIT_MS.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "projections/projections.h"

static volatile sig_atomic_t stopping;

static void on_signal(int signal_number)
{
    (void)signal_number;
    stopping = 1;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: fouta-project --data-dir DIR [--pg URL] [--redis URL] [--tenant NAME]\n"
            "                     [--batch N] [--once] [--rebuild]\n"
            "  --data-dir DIR   foutad's data directory (the ledger is DIR/ledger)\n"
            "  --pg URL         PostgreSQL (postgresql://user@host:port/db)\n"
            "  --redis URL      Redis (redis://host:port)\n"
            "  --tenant NAME    the tenant's name in the sinks ([a-z0-9_], default plant)\n"
            "  --batch N        events per sink transaction (default %d)\n"
            "  --once           stop once every projector has caught up with the head\n"
            "  --rebuild        rebuild every projection from the ledger first\n",
            PRJ_BATCH_EVENTS_DEFAULT);
    return 2;
}

static void print_status(prj_projector_t *projector)
{
    prj_status_t s;
    prj_status(projector, &s);
    printf("%s %s: %s checkpoint=%llu head=%llu lag_events=%llu lag_ms=%llu dead_letters=%llu "
           "visible_ms_p99=%.1f%s%s\n",
           s.name, s.sink, prj_state_name(s.state), (unsigned long long)s.checkpoint,
           (unsigned long long)s.head, (unsigned long long)s.lag_events,
           (unsigned long long)s.lag_ms, (unsigned long long)s.dead_letters, s.visible_ms_p99,
           s.last_error_text[0] ? " error=" : "", s.last_error_text);
    fflush(stdout);
}

static bool caught_up(prj_projector_t *projector)
{
    prj_status_t s;
    prj_status(projector, &s);
    return s.lag_events == 0 && s.state != PRJ_STATE_STARTING && s.state != PRJ_STATE_FAULTED;
}

int main(int argc, char **argv)
{
    const char *data_dir = NULL, *pg_url = NULL, *redis_url = NULL, *tenant = "plant";
    bool once = false, rebuild = false;
    uint32_t batch = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--once") == 0)
            once = true;
        else if (strcmp(argv[i], "--rebuild") == 0)
            rebuild = true;
        else if (i + 1 < argc && strcmp(argv[i], "--data-dir") == 0)
            data_dir = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--pg") == 0)
            pg_url = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--redis") == 0)
            redis_url = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--tenant") == 0)
            tenant = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--batch") == 0)
            batch = (uint32_t)strtoul(argv[++i], NULL, 10);
        else
            return usage();
    }
    if (data_dir == NULL || (pg_url == NULL && redis_url == NULL))
        return usage();
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/ledger", data_dir);
    eng_config_t config = {.dir = dir, .rules = ENG_RULES_PLANT};
    eng_ledger_t *ledger = NULL;
    int rc = eng_open(&ledger, &config);
    if (rc != 0) {
        fprintf(stderr, "fouta-project: cannot open %s: %s\n", dir, fl_strerror(rc));
        return 1;
    }
    prj_sink_t *sinks[2] = {NULL, NULL};
    prj_projector_t *projectors[2] = {NULL, NULL};
    int count = 0;
    if (pg_url != NULL && (rc = prj_pg_sink_open(&sinks[count++], pg_url, tenant)) != 0)
        goto done;
    if (redis_url != NULL && (rc = prj_redis_sink_open(&sinks[count++], redis_url, tenant)) != 0)
        goto done;
    for (int i = 0; i < count; i++) {
        prj_config_t pc = {.name = prj_sink_kind(sinks[i]), .batch_events_max = batch};
        if ((rc = prj_start(&projectors[i], ledger, sinks[i], &pc)) != 0)
            goto done;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    for (int i = 0; i < count && rebuild; i++) {
        uint64_t events = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if ((rc = prj_rebuild(projectors[i], 60000, &events)) != 0)
            goto done;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        printf("%s rebuilt: %llu events in %.2f s (%.0f events/s)\n", prj_sink_kind(sinks[i]),
               (unsigned long long)events, s, s > 0 ? (double)events / s : 0.0);
    }
    for (unsigned tick = 0; !stopping; tick++) {
        bool all = true;
        for (int i = 0; i < count; i++)
            all = all && caught_up(projectors[i]);
        if (once && all)
            break;
        if (tick % 20 == 0)
            for (int i = 0; i < count; i++)
                print_status(projectors[i]);
        nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
    }
    for (int i = 0; i < count; i++)
        print_status(projectors[i]);
done:
    if (rc != 0)
        fprintf(stderr, "fouta-project: %s\n", fl_strerror(rc));
    for (int i = 0; i < 2; i++) {
        prj_stop(projectors[i]); /* before the ledger closes */
        prj_sink_close(sinks[i]);
    }
    eng_close(ledger);
    return rc == 0 ? 0 : 1;
}
