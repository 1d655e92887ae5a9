/*
 * bench/replay.c: replay and audit at plant scale.
 *
 * Builds a plant ledger of DAYS plant days (each: yarn received, a beam wound from it and
 * mounted, an order started on one of the looms after a passed first piece, two rolls, cut into
 * bundles, released, packed in a carton, palletized, shipped - about 30 events and five
 * genealogy levels from the yarn lot to the pallet), then measures in the same run:
 *   - the raw scan of the log (eng_iter_log), the peer;
 *   - a full replay into a state-only scratch ledger (decode, rules, state), against the scan;
 *   - a state as of the middle of the log (a replay to it), and as of an event 49,999 past a
 *     snapshot (as foutad reads one): near the middle, before the millionth event and before
 *     the ten millionth when the log is that long (REPLAY_DAYS=500000 makes 10 million);
 *   - recall queries: from random yarn lots down to their pallets, p50/p99;
 *   - closing a count of COUNT_LINES units (the reconciliation report).
 * Prints a table, then "RESULT key=value ...". Nothing is asserted about time.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <inttypes.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "events/events.h"
#include "replay/replay.h"

#define DAYS_DEFAULT   2000
#define DAYS_MAX       600000
#define LOOMS          50
#define BATCH_EVENTS   1000
#define RECALLS        1000
#define COUNT_LINES    10000
#define SNAPSHOT_EVERY 50000 /* events between two state snapshots */
/* Past it, a snapshot every SNAPSHOT_EVERY events would take tens of GB: only the one below
 * each as-of measured is made. */
#define SNAPSHOTS_ALL_EVENTS_MAX 2000000
#define JSON_BYTES_MAX           2048

typedef struct {
    eng_ledger_t *ledger;
    ev_event_t *decoded; /* BATCH_EVENTS */
    ev_actor_t actors[BATCH_EVENTS];
    eng_event_t events[BATCH_EVENTS];
    eng_position_t positions[BATCH_EVENTS];
    int results[BATCH_EVENTS];
    uint32_t count;
    uint64_t next_id;
    uint64_t refused;
} feed_t;

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_replay: %s: %s\n", what, fl_strerror(rc));
    exit(1);
}

static void flush(feed_t *feed)
{
    if (feed->count == 0)
        return;
    int rc = eng_append(feed->ledger, feed->events, feed->count, 0, feed->positions, feed->results);
    if (rc != 0)
        die("append", rc);
    for (uint32_t i = 0; i < feed->count; i++)
        if (feed->results[i] != 0 && feed->refused++ == 0)
            fprintf(stderr, "bench_replay: %s refused: %s\n", feed->events[i].type,
                    fl_strerror(feed->results[i]));
    feed->count = 0;
}

/* One event from a type and a payload format, posted as the first role allowed to. */
static void post(feed_t *feed, const char *type, const char *format, ...)
{
    char payload[JSON_BYTES_MAX], json[JSON_BYTES_MAX + 256];
    va_list args;
    va_start(args, format);
    vsnprintf(payload, sizeof(payload), format, args);
    va_end(args);
    feed->next_id++;
    snprintf(json, sizeof(json),
             "{\"id\":\"0190b2a0-7c1d-7000-8000-%012" PRIu64 "\",\"type\":\"%s\","
             "\"occurred_at_us\":%" PRIu64 ",\"payload\":%s}",
             feed->next_id, type, (uint64_t)1764000000000000 + feed->next_id * 1000000, payload);
    const ev_type_t *kind = ev_type_find(type, strlen(type));
    if (kind == NULL)
        die(type, FL_EUNKNOWN_TYPE);
    ev_actor_t *actor = &feed->actors[feed->count];
    *actor = (ev_actor_t){.user = "bench", .device = "bench"};
    for (int role = 0; role < EV_ROLE_COUNT; role++)
        if (ev_role_may_post(kind, (ev_role_t)role)) {
            actor->role = (ev_role_t)role;
            break;
        }
    ev_error_t error;
    ev_event_t *event = &feed->decoded[feed->count];
    int rc = ev_decode_json(json, strlen(json), actor, event, &error);
    if (rc != 0) {
        fprintf(stderr, "bench_replay: %s at %s: %s\n", type, error.path, error.message);
        die("decode", rc);
    }
    eng_event_from_catalog(event, actor, &feed->events[feed->count]);
    if (++feed->count == BATCH_EVENTS)
        flush(feed);
}

/* Day d: a chain from yarn lot Y<d> to pallet P<d>, on loom L<d % LOOMS>. */
static void plant_day(feed_t *feed, uint32_t d)
{
    uint32_t loom = d % LOOMS;
    if (d < LOOMS)
        post(feed, "LoomDefined",
             "{\"loom_id\":\"L%u\",\"name\":\"L%u\",\"location_id\":\"WEAVING\","
             "\"nominal_picks_per_min\":450,\"terry\":true}",
             loom, loom);
    if (d >= LOOMS) { /* the loom's previous order and beam make way */
        uint32_t before = d - LOOMS;
        post(feed, "OFEndedOnLoom",
             "{\"loom_id\":\"L%u\",\"of_id\":\"OF%u\",\"reason\":\"completed\",\"picks\":1}", loom,
             before);
        post(feed, "BeamDismounted",
             "{\"beam_id\":\"BM%u\",\"loom_id\":\"L%u\",\"position\":\"ground\","
             "\"remaining_length_milli\":1000,\"reason\":\"beam_out\"}",
             before, loom);
    }
    post(feed, "GoodsReceived",
         "{\"hu_id\":\"Y%u\",\"item_id\":\"WARP-20\",\"qty_milli\":500000,\"unit\":\"kg\","
         "\"location_id\":\"MP1\",\"supplier\":\"Filature\"}",
         d);
    post(feed, "BeamRegistered",
         "{\"beam_id\":\"BM%u\",\"item_id\":\"WARP-20\",\"position\":\"ground\","
         "\"length_milli\":3000000,\"location_id\":\"BEAMS\","
         "\"yarn_lots\":[{\"hu_id\":\"Y%u\",\"qty_milli\":400000}]}",
         d, d);
    post(feed, "BeamMounted",
         "{\"beam_id\":\"BM%u\",\"loom_id\":\"L%u\",\"position\":\"ground\","
         "\"length_milli\":3000000}",
         d, loom);
    post(feed, "OFCreated",
         "{\"of_id\":\"OF%u\",\"item_id\":\"TW-500\",\"planned_qty_milli\":1000000,"
         "\"unit\":\"pcs\",\"due_at_us\":1767000000000000,\"priority\":1}",
         d);
    post(feed, "OFReleased", "{\"of_id\":\"OF%u\"}", d);
    post(feed, "OFStartedOnLoom", "{\"loom_id\":\"L%u\",\"of_id\":\"OF%u\",\"picks\":1}", loom, d);
    post(feed, "FirstPieceInspected",
         "{\"loom_id\":\"L%u\",\"of_id\":\"OF%u\",\"result\":\"passed\"}", loom, d);
    for (int r = 0; r < 2; r++) {
        post(feed, "ProductionDeclared",
             "{\"hu_id\":\"R%u-%d\",\"of_id\":\"OF%u\",\"loom_id\":\"L%u\",\"item_id\":"
             "\"TW-500\",\"qty_milli\":120000,\"unit\":\"pcs\",\"location_id\":\"WEAVING\","
             "\"length_milli\":60000,\"picks\":%d}",
             d, r, d, loom, 1800000 * (r + 1));
        post(feed, "CuttingDeclared",
             "{\"input_hu_id\":\"R%u-%d\",\"consumed_qty_milli\":120000,\"unit\":\"pcs\","
             "\"location_id\":\"FG\",\"outputs\":[{\"hu_id\":\"B%u-%d\",\"item_id\":\"TW-500\","
             "\"grade\":\"first\",\"qty_milli\":119000}],\"waste_qty_milli\":1000,"
             "\"waste_reason\":\"roll_end\"}",
             d, r, d, r);
        post(feed, "LotReleased", "{\"hu_id\":\"B%u-%d\"}", d, r);
    }
    post(feed, "HUPacked",
         "{\"carton_hu_id\":\"C%u\",\"hu_ids\":[\"B%u-0\",\"B%u-1\"],\"location_id\":\"FG\"}", d, d,
         d);
    post(feed, "HUPalletized",
         "{\"pallet_hu_id\":\"P%u\",\"hu_ids\":[\"C%u\"],\"location_id\":\"FG\"}", d, d);
    post(feed, "ShipmentPlanned",
         "{\"ship_id\":\"S%u\",\"customer_location_id\":\"CUST\","
         "\"planned_at_us\":1767000000000000}",
         d);
    post(feed, "ShipmentLoaded",
         "{\"ship_id\":\"S%u\",\"hu_ids\":[\"P%u\"],\"from_location_id\":"
         "\"FG\"}",
         d, d);
    post(feed, "ShipmentDispatched", "{\"ship_id\":\"S%u\",\"to_location_id\":\"CUST\"}", d);
}

/* A scratch plant ledger; with state_only, the state and its sequence without a log. */
static eng_ledger_t *scratch_open(const char *dir, const char *name, bool state_only)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    eng_config_t config = {
        .dir = path, .rules = ENG_RULES_PLANT, .scratch = true, .state_only = state_only};
    eng_ledger_t *ledger = NULL;
    int rc = eng_open(&ledger, &config);
    if (rc != 0)
        die(path, rc);
    return ledger;
}

static double seconds_since(uint64_t start_ns)
{
    return (double)(fl_mono_ns() - start_ns) / 1e9;
}

/* Removes a directory of snapshots made for one measure: its states, then itself. */
static void snapdir_remove(const char *snapdir)
{
    DIR *dir = opendir(snapdir);
    struct dirent *entry;
    char path[1400];
    while (dir != NULL && (entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", snapdir, entry->d_name);
        rpl_state_remove(path);
    }
    if (dir != NULL)
        closedir(dir);
    rmdir(snapdir);
}

static int count_row(const eng_stock_row_t *row, void *data)
{
    (void)row;
    (*(uint64_t *)data)++;
    return 0;
}

/* An as-of stock read as foutad answers one: the state after event `at` from the snapshot below
 * it (one every SNAPSHOT_EVERY events; only that one is made, beforehand, untimed), then every
 * stock row read. Returns the milliseconds; *replayed gets the events replayed. */
static double asof_stock_ms(eng_ledger_t *ledger, const char *dir, const char *name, uint64_t at,
                            uint64_t *replayed)
{
    char snapdir[1100], asofdir[1100], snapshot[40];
    snprintf(snapdir, sizeof(snapdir), "%s/snapshots-%s", dir, name);
    snprintf(asofdir, sizeof(asofdir), "%s/asof-%s", dir, name);
    uint64_t below = at / SNAPSHOT_EVERY * SNAPSHOT_EVERY;
    if (mkdir(snapdir, 0750) != 0)
        die(snapdir, fl_err_from_errno(errno));
    rpl_progress_t progress;
    int rc;
    if (below > 0) { /* a snapshot is a state-only ledger at its sequence */
        snprintf(snapshot, sizeof(snapshot), "%020" PRIu64, below);
        eng_ledger_t *state = scratch_open(snapdir, snapshot, true);
        if ((rc = rpl_replay(ledger, state, below, &progress)) != 0)
            die("snapshot", rc);
        eng_close(state);
    }
    uint64_t started = fl_mono_ns(), from = 0, rows = 0;
    eng_ledger_t *asof = NULL;
    if ((rc = rpl_asof_open(ledger, snapdir, at, asofdir, &asof, &from)) != 0)
        die("as-of from a snapshot", rc);
    if ((rc = eng_stock_each(asof, NULL, count_row, &rows)) != 0)
        die("as-of stock", rc);
    eng_close(asof);
    double ms = seconds_since(started) * 1e3;
    if (from != below)
        die("as-of: not from the snapshot below", FL_EINVAL);
    *replayed = at - from;
    rpl_state_remove(asofdir);
    snapdir_remove(snapdir);
    return ms;
}

static int count_link(const eng_link_t *link, void *data)
{
    (void)link;
    (*(uint32_t *)data)++;
    return 0;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: bench_replay DIR   (REPLAY_DAYS: plant days, default %d)\n",
                DAYS_DEFAULT);
        return 2;
    }
    const char *days_text = getenv("REPLAY_DAYS");
    uint32_t days = days_text != NULL ? (uint32_t)strtoul(days_text, NULL, 10) : DAYS_DEFAULT;
    if (days < LOOMS || days > DAYS_MAX)
        days = DAYS_DEFAULT;
    static feed_t feed;
    if ((feed.decoded = calloc(BATCH_EVENTS, sizeof(*feed.decoded))) == NULL)
        die("memory", FL_ENOMEM);

    /* The plant's log. */
    feed.ledger = scratch_open(argv[1], "plant", false);
    uint64_t started = fl_mono_ns();
    for (uint32_t d = 0; d < days; d++)
        plant_day(&feed, d);
    flush(&feed);
    double build_s = seconds_since(started);
    eng_head_t head;
    eng_head(feed.ledger, &head);
    if (feed.refused > 0)
        fprintf(stderr, "bench_replay: %" PRIu64 " events refused while building\n", feed.refused);

    /* The peer: a raw scan of the log. */
    started = fl_mono_ns();
    eng_iter_t *iter = NULL;
    eng_record_t record;
    uint64_t scanned = 0;
    int rc = eng_iter_log(feed.ledger, 1, ENG_FORWARD, &iter);
    while (rc == 0 && (rc = eng_iter_next(iter, &record)) == 0)
        scanned++;
    eng_iter_close(iter);
    double scan_s = seconds_since(started);

    /* A full replay into a scratch plant ledger, then the state as of the middle. */
    eng_ledger_t *full = scratch_open(argv[1], "replayed", true);
    rpl_progress_t progress;
    started = fl_mono_ns();
    if ((rc = rpl_replay(feed.ledger, full, 0, &progress)) != 0)
        die(progress.detail[0] ? progress.detail : "replay", rc);
    double replay_s = seconds_since(started);
    eng_close(full);
    eng_ledger_t *middle = scratch_open(argv[1], "asof", true);
    started = fl_mono_ns();
    if ((rc = rpl_replay(feed.ledger, middle, head.seq / 2, &progress)) != 0)
        die("as-of replay", rc);
    double asof_s = seconds_since(started);
    eng_close(middle);
    /* Snapshots every SNAPSHOT_EVERY events, as foutad keeps them (on a log not too long). */
    char snapdir[1024];
    snprintf(snapdir, sizeof(snapdir), "%s/snapshots", argv[1]);
    uint32_t made = 0;
    double snapshots_s = -1;
    if (head.seq <= SNAPSHOTS_ALL_EVENTS_MAX) {
        started = fl_mono_ns();
        if ((rc = rpl_snapshot_update(feed.ledger, snapdir, SNAPSHOT_EVERY, NULL, &made)) != 0)
            die("snapshots", rc);
        snapshots_s = seconds_since(started);
        snapdir_remove(snapdir);
    }
    /* As-of reads 49,999 events past a snapshot (the longest replay): near the middle, then
     * before the millionth and the ten millionth event where the log reaches them. */
    uint64_t asof_seq = head.seq / 2 / SNAPSHOT_EVERY * SNAPSHOT_EVERY + SNAPSHOT_EVERY - 1;
    uint64_t replayed = 0;
    if (asof_seq > head.seq)
        asof_seq = head.seq;
    double asof_snapshot_ms = asof_stock_ms(feed.ledger, argv[1], "middle", asof_seq, &replayed);
    static const struct {
        uint64_t at;
        const char *key;
    } marks[] = {{1000000 - 1, "1m"}, {10000000 - 1, "10m"}};
    double mark_ms[2] = {-1, -1};
    uint64_t mark_replayed[2] = {0, 0};
    for (int i = 0; i < 2; i++)
        if (marks[i].at <= head.seq)
            mark_ms[i] =
                asof_stock_ms(feed.ledger, argv[1], marks[i].key, marks[i].at, &mark_replayed[i]);

    /* Recall: from random yarn lots down to their pallets (5 levels). */
    static double recall_ms[RECALLS];
    unsigned seed = 2026;
    uint32_t reached_total = 0;
    for (int i = 0; i < RECALLS; i++) {
        char yarn[32];
        seed = seed * 1103515245u + 12345u;
        snprintf(yarn, sizeof(yarn), "hu-Y%u", (seed >> 8) % days);
        uint32_t reached = 0;
        started = fl_mono_ns();
        if ((rc = eng_genealogy(feed.ledger, yarn, ENG_FORWARD, 8, 0, count_link, &reached)) != 0)
            die("recall", rc);
        recall_ms[i] = seconds_since(started) * 1e3;
        reached_total += reached;
    }
    qsort(recall_ms, RECALLS, sizeof(recall_ms[0]), by_value);

    /* A count of COUNT_LINES units in a ledger of its own. */
    eng_close(feed.ledger);
    feed.ledger = scratch_open(argv[1], "count", false);
    for (uint32_t i = 0; i < COUNT_LINES; i++)
        post(&feed, "GoodsReceived",
             "{\"hu_id\":\"K%u\",\"item_id\":\"TW-500\",\"qty_milli\":1000,\"unit\":\"pcs\","
             "\"location_id\":\"FG\",\"supplier\":\"in-house\"}",
             i);
    post(&feed, "CountOpened",
         "{\"count_id\":\"K1\",\"location_ids\":[\"FG\"],\"scope\":\"full\"}");
    for (uint32_t i = 0; i < COUNT_LINES; i++)
        post(&feed, "ItemCounted",
             "{\"count_id\":\"K1\",\"hu_id\":\"K%u\",\"item_id\":\"TW-500\",\"location_id\":"
             "\"FG\",\"counted_qty_milli\":%u,\"unit\":\"pcs\"}",
             i, i % 50 == 0 ? 900 : 1000);
    post(&feed, "CountClosed", "{\"count_id\":\"K1\"}");
    flush(&feed);
    rpl_count_summary_t summary;
    FILE *sink = fopen("/dev/null", "w");
    started = fl_mono_ns();
    if ((rc = rpl_count_report(feed.ledger, "K1", 20, NULL, sink, NULL, &summary)) != 0)
        die("count report", rc);
    double count_s = seconds_since(started);
    fclose(sink);
    eng_close(feed.ledger);
    free(feed.decoded);

    double replay_rate = (double)progress.events > 0 ? (double)head.seq / replay_s : 0;
    double scan_rate = (double)scanned / scan_s;
    printf("Fouta Ledger replay benchmark: %u plant days, %" PRIu64 " events (built in %.1f s)\n\n",
           days, head.seq, build_s);
    printf("%-34s %14s\n", "measure", "value");
    printf("%-34s %14.0f\n", "raw scan, events/s (peer)", scan_rate);
    printf("%-34s %14.0f\n", "full replay, events/s", replay_rate);
    printf("%-34s %14.3f\n", "replay / scan", replay_rate / scan_rate);
    printf("%-34s %14.1f\n", "as of the middle, no snapshot, ms", asof_s * 1e3);
    printf("%-34s %14.1f   (%" PRIu64 " events after the snapshot)\n", "as of, from a snapshot, ms",
           asof_snapshot_ms, replayed);
    for (int i = 0; i < 2; i++) {
        char label[64];
        snprintf(label, sizeof(label), "as of event %" PRIu64 ", ms", marks[i].at);
        if (mark_ms[i] >= 0)
            printf("%-34s %14.1f   (%" PRIu64 " events after the snapshot)\n", label, mark_ms[i],
                   mark_replayed[i]);
        else
            printf("%-34s %14s   (the log is shorter)\n", label, "-");
    }
    if (snapshots_s >= 0)
        printf("%-34s %14.1f   (%u of them)\n", "snapshots made, s", snapshots_s, made);
    printf("%-34s %14.3f\n", "recall p50, ms", recall_ms[RECALLS / 2]);
    printf("%-34s %14.3f\n", "recall p99, ms", recall_ms[RECALLS * 99 / 100]);
    printf("%-34s %14.1f\n", "edges per recall", (double)reached_total / RECALLS);
    printf("%-34s %14.1f\n", "count of 10,000 lines closed, ms", count_s * 1e3);
    printf("\n(snapshots every %d events: an as-of query opens the nearest one below and replays"
           "\n the rest over it without committing, then reads every stock row; so does the"
           "\n count's report for its book at the opening)\n",
           SNAPSHOT_EVERY);
    printf("RESULT days=%u events=%" PRIu64 " scan_events_per_s=%.0f replay_events_per_s=%.0f "
           "ratio_vs_scan=%.3f asof_ms_%" PRIu64 "=%.1f asof_snapshot_ms=%.1f recall_p50_ms=%.3f "
           "recall_p99_ms=%.3f "
           "count_close_ms_10k=%.1f count_adjustments=%u refused=%" PRIu64,
           days, head.seq, scan_rate, replay_rate, replay_rate / scan_rate, head.seq / 2,
           asof_s * 1e3, asof_snapshot_ms, recall_ms[RECALLS / 2], recall_ms[RECALLS * 99 / 100],
           count_s * 1e3, summary.adjustments, feed.refused);
    for (int i = 0; i < 2; i++)
        if (mark_ms[i] >= 0)
            printf(" asof_ms_%s=%.1f", marks[i].key, mark_ms[i]);
    printf("\n");
    return feed.refused == 0 ? 0 : 1;
}
