/*
 * fouta-sim: a simulated plant's events (fl_sim) as NDJSON on stdout or in a file, appended
 * straight into a ledger directory, or posted to foutad over several connections (poster.c:
 * in order where it matters, optionally paced and bounded in time, for soaks).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/client/client.h"
#include "clients/sim/sim.h"
#include "clients/tool/poster.h"

#define BATCH_DEFAULT 100

static const char usage[] =
    "usage: fouta-sim [--seed N] [--looms N] [--days D] [--start-us US] [OUTPUT]\n"
    "  OUTPUT, one of:\n"
    "    (none)                  NDJSON on stdout: {\"role\",\"user\",\"device\",\"event\"} a "
    "line\n"
    "    --out FILE              NDJSON into FILE\n"
    "    --ledger DIR [--batch N]   appended to the plant ledger in DIR (eng_append through the\n"
    "                            catalog and the plant rules), for big volumes\n"
    "    --post URL [--connections C] [--batch N]   posted to foutad, C connections (default 4),\n"
    "                            batches of up to N events of one actor (default 100), with:\n"
    "      --rate R              paced: event i sent at the earliest i / R s after the start\n"
    "      --seconds S           no event taken after S s (the rest of the stream is left)\n"
    "      --report-seconds W    a line on stdout every W s (events, rate, request latency,\n"
    "                            how far behind the pace), and a total line at the end\n"
    "      --window N            events held between the generator and the last answer (65536)\n"
    "    SIGINT or SIGTERM stops taking events; those in flight are answered, totals printed\n"
    "  defaults: --seed 1 --looms 12 --days 7; same seed and parameters, same events\n";

/* Posts the stream (poster.c) and prints what happened: 0, 1 when something was refused, 2
 * when posting failed. */
static int post(const sim_config_t *sim_config, const poster_config_t *config)
{
    poster_totals_t totals;
    int rc = poster_run(sim_config, config, &totals);
    fprintf(stderr,
            "fouta-sim: %llu events: %llu accepted, %llu already recorded, %llu refused in %.1f s "
            "(%.0f events/s, %u connections)",
            (unsigned long long)totals.events, (unsigned long long)totals.accepted,
            (unsigned long long)totals.duplicate, (unsigned long long)totals.refused,
            totals.seconds, totals.seconds > 0 ? (double)totals.events / totals.seconds : 0.0,
            config->connections);
    if (config->rate != 0)
        fprintf(stderr, ", paced at %u events/s", config->rate);
    if (totals.stopped)
        fprintf(stderr, "; stopped before the stream's end (time limit or signal)");
    fputc('\n', stderr);
    if (config->report_seconds != 0)
        printf("total events=%llu accepted=%llu duplicate=%llu refused=%llu seconds=%.1f "
               "per_s=%.0f ended=%d\n",
               (unsigned long long)totals.events, (unsigned long long)totals.accepted,
               (unsigned long long)totals.duplicate, (unsigned long long)totals.refused,
               totals.seconds, totals.seconds > 0 ? (double)totals.events / totals.seconds : 0.0,
               totals.ended);
    if (rc != 0)
        fprintf(stderr, "fouta-sim: %s\n", fl_strerror(rc));
    return rc != 0 ? 2 : totals.refused > 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    sim_config_t config = {.seed = 1, .looms = 12, .days = 7};
    const char *out = NULL, *ledger = NULL;
    poster_config_t posting = {.connections = 4};
    uint32_t batch = 0;
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (value == NULL) {
            fputs(usage, stderr);
            return 2;
        }
        i++;
        if (strcmp(argv[i - 1], "--seed") == 0)
            config.seed = strtoull(value, NULL, 10);
        else if (strcmp(argv[i - 1], "--looms") == 0)
            config.looms = (uint32_t)strtoul(value, NULL, 10);
        else if (strcmp(argv[i - 1], "--days") == 0)
            config.days = (uint32_t)strtoul(value, NULL, 10);
        else if (strcmp(argv[i - 1], "--start-us") == 0)
            config.start_us = strtoll(value, NULL, 10);
        else if (strcmp(argv[i - 1], "--out") == 0)
            out = value;
        else if (strcmp(argv[i - 1], "--ledger") == 0)
            ledger = value;
        else if (strcmp(argv[i - 1], "--post") == 0)
            posting.url = value;
        else if (strcmp(argv[i - 1], "--connections") == 0)
            posting.connections = (uint32_t)strtoul(value, NULL, 10);
        else if (strcmp(argv[i - 1], "--rate") == 0)
            posting.rate = (uint32_t)strtoul(value, NULL, 10);
        else if (strcmp(argv[i - 1], "--seconds") == 0)
            posting.seconds = (uint32_t)strtoul(value, NULL, 10);
        else if (strcmp(argv[i - 1], "--report-seconds") == 0)
            posting.report_seconds = (uint32_t)strtoul(value, NULL, 10);
        else if (strcmp(argv[i - 1], "--window") == 0)
            posting.window_events = (uint32_t)strtoul(value, NULL, 10);
        else if (strcmp(argv[i - 1], "--batch") == 0)
            batch = (uint32_t)strtoul(value, NULL, 10);
        else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (posting.connections < 1 || posting.connections > POSTER_CONNECTIONS_MAX ||
        batch > FC_BATCH_EVENTS_MAX || posting.rate > POSTER_RATE_MAX ||
        posting.seconds > POSTER_SECONDS_MAX || posting.report_seconds > POSTER_SECONDS_MAX ||
        posting.window_events > POSTER_WINDOW_EVENTS_MAX) {
        fprintf(stderr,
                "fouta-sim: --connections 1..%d, --batch 1..%d, --rate 0..%u, --seconds and "
                "--report-seconds 0..%u, --window 1..%u\n",
                POSTER_CONNECTIONS_MAX, FC_BATCH_EVENTS_MAX, POSTER_RATE_MAX, POSTER_SECONDS_MAX,
                POSTER_WINDOW_EVENTS_MAX);
        return 2;
    }
    if (posting.url != NULL) {
        posting.batch = batch != 0 ? batch : BATCH_DEFAULT;
        return post(&config, &posting);
    }
    if (ledger != NULL) {
        sim_report_t report;
        int rc = sim_append_ledger(&config, ledger, batch, &report);
        fprintf(stderr, "fouta-sim: %llu events, %llu appended, %llu refused\n",
                (unsigned long long)report.events, (unsigned long long)report.appended,
                (unsigned long long)report.refused);
        if (report.refused > 0)
            fprintf(stderr, "fouta-sim: first refused: #%llu %s %s\n",
                    (unsigned long long)report.first_error_index, report.first_error_type,
                    report.first_error_detail);
        if (rc != 0)
            fprintf(stderr, "fouta-sim: %s\n", fl_strerror(rc));
        return rc != 0 ? 2 : report.refused > 0 ? 1 : 0;
    }
    FILE *file = out != NULL ? fopen(out, "w") : stdout;
    if (file == NULL) {
        perror(out);
        return 2;
    }
    uint64_t events;
    int rc = sim_write_ndjson(&config, file, &events);
    if (file != stdout && fclose(file) != 0 && rc == 0)
        rc = FL_EIO;
    if (rc != 0)
        fprintf(stderr, "fouta-sim: %s\n", fl_strerror(rc));
    return rc != 0 ? 2 : 0;
}
