/*
 * fouta-replay: the plant's state rebuilt from its log, offline.
 *
 *   fouta-replay verify-state DIR   replay DIR's log into a scratch ledger and compare every
 *                                   row with the state DIR keeps inline; names the first
 *                                   disagreement
 *   fouta-replay stock-asof DIR SEQ [SNAPDIR]   the stock balances as they were after event
 *                                   SEQ, from the nearest snapshot below it when SNAPDIR is given
 *   fouta-replay snapshot DIR SNAPDIR [EVERY]   state snapshots every EVERY events up to the head
 *   fouta-replay trace DIR ENTITY up|down [--dot]   recall traceability, JSON or DOT
 *   fouta-replay recall DIR SOURCE [FROM_US [UNTIL_US]] [--dot]   what a loom, a weaver
 *                                    ("actor:USER") or a subcontractor ("sub-ID") made in a
 *                                    period, down to the pallets
 *   fouta-replay count DIR COUNT_ID [PERMILLE] [--csv]   a count's reconciliation report
 *   fouta-replay export [--msgpack] DIR [FROM [TO]]   the log as NDJSON (or msgpack), on stdout
 *   fouta-replay import DIR FILE     an export (either format) into DIR (a new plant ledger, or
 *                                    one standing just before the export), the chain checked
 *                                    entry by entry
 *   fouta-replay keygen KEY PUB      a new Ed25519 key pair (PEM)
 *   fouta-replay digest DIR KEY      a signed digest of DIR's head, on stdout
 *   fouta-replay digest-check DIR DIGEST PUB   the digest still holds for DIR
 *   fouta-replay proof DIR SEQ DIGEST          a proof that event SEQ is under the digest
 *   fouta-replay proof-check PROOF DIGEST PUB  checks a proof, no ledger needed
 *
 * The ledger must not be open elsewhere (foutad stopped). Exit status 0 when sound, 1 when a
 * disagreement or an error is found, 2 on a usage error.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "replay/replay.h"

#define SCRATCH_PATH_MAX         512
#define COUNT_THRESHOLD_PERMILLE 20     /* differences above 2% of the book wait for a manager */
#define SNAPSHOT_EVERY           100000 /* events between two snapshots, by default */
#define TRACE_DEPTH_MAX          32 /* levels: pallet > carton > bundle > roll > beam > yarn is 5 */

static int usage(void)
{
    fprintf(stderr, "usage: fouta-replay verify-state DIR\n"
                    "       fouta-replay stock-asof DIR SEQ [SNAPDIR]\n"
                    "       fouta-replay snapshot DIR SNAPDIR [EVERY]\n"
                    "       fouta-replay trace DIR ENTITY up|down [--dot]\n"
                    "       fouta-replay recall DIR SOURCE [FROM_US [UNTIL_US]] [--dot]\n"
                    "       fouta-replay count DIR COUNT_ID [PERMILLE] [--csv]\n"
                    "       fouta-replay export [--msgpack] DIR [FROM [TO]]\n"
                    "       fouta-replay import DIR FILE\n"
                    "       fouta-replay keygen KEY PUB\n"
                    "       fouta-replay digest DIR KEY\n"
                    "       fouta-replay digest-check DIR DIGEST PUB\n"
                    "       fouta-replay proof DIR SEQ DIGEST\n"
                    "       fouta-replay proof-check PROOF DIGEST PUB\n");
    return 2;
}

/* A scratch plant ledger in a fresh temporary directory. */
static int scratch_dir(char path[SCRATCH_PATH_MAX])
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, SCRATCH_PATH_MAX, "%s/fouta-replay-XXXXXX", tmp != NULL ? tmp : "/tmp");
    return mkdtemp(path) == NULL ? fl_err_from_errno(errno) : 0;
}

static int scratch_open(char path[SCRATCH_PATH_MAX], eng_ledger_t **out)
{
    int rc = scratch_dir(path);
    if (rc != 0)
        return rc;
    eng_config_t config = {
        .dir = path, .rules = ENG_RULES_PLANT, .scratch = true, .state_only = true};
    return eng_open(out, &config);
}

static void scratch_remove(const char path[SCRATCH_PATH_MAX])
{
    char file[SCRATCH_PATH_MAX + 16];
    snprintf(file, sizeof(file), "%s/data.mdb", path);
    unlink(file);
    snprintf(file, sizeof(file), "%s/lock.mdb", path);
    unlink(file);
    rmdir(path);
}

static int replayed(eng_ledger_t *ledger, eng_ledger_t *scratch, uint64_t up_to)
{
    rpl_progress_t progress;
    uint64_t started = fl_mono_ns();
    int rc = rpl_replay(ledger, scratch, up_to, &progress);
    double seconds = (double)(fl_mono_ns() - started) / 1e9;
    if (rc == FL_ECORRUPT && progress.failed_seq != 0) {
        printf("replay: event %" PRIu64 " was accepted but is refused now: %s\n",
               progress.failed_seq, progress.detail);
        return rc;
    }
    if (rc != 0) {
        fprintf(stderr, "fouta-replay: replay: %s\n", fl_strerror(rc));
        return rc;
    }
    fprintf(stderr, "replay: %" PRIu64 " events in %.2f s (%.0f events/s)\n", progress.events,
            seconds, seconds > 0 ? (double)progress.events / seconds : 0.0);
    return 0;
}

static int verify_state(eng_ledger_t *ledger, eng_ledger_t *scratch)
{
    int rc = replayed(ledger, scratch, 0);
    if (rc != 0)
        return rc;
    rpl_difference_t difference;
    rc = rpl_compare(ledger, scratch, &difference);
    if (rc == FL_ECORRUPT) {
        printf("verify-state: FAILED at %s\n  inline:   %s\n  from log: %s\n", difference.key,
               difference.left[0] ? difference.left : "(none)",
               difference.right[0] ? difference.right : "(none)");
        return rc;
    }
    if (rc != 0) {
        fprintf(stderr, "fouta-replay: compare: %s\n", fl_strerror(rc));
        return rc;
    }
    printf("verify-state: ok, %" PRIu64 " rows equal to the state rebuilt from the log\n",
           difference.rows);
    return 0;
}

static int print_stock(const eng_stock_row_t *row, void *data)
{
    (void)data;
    printf("%s\t%s\t%s\t%d\t%lld\n", row->item, row->location, row->status, row->grade,
           (long long)row->qty_milli);
    return 0;
}

/* The stock as it was after event seq, from the nearest snapshot in snapdir (may be NULL). */
static int stock_asof(eng_ledger_t *ledger, uint64_t seq, const char *snapdir)
{
    char path[SCRATCH_PATH_MAX];
    eng_ledger_t *state = NULL;
    uint64_t from = 0, started = fl_mono_ns();
    int rc = scratch_dir(path);
    if (rc != 0)
        return rc;
    if ((rc = rpl_asof_open(ledger, snapdir, seq, path, &state, &from)) == 0) {
        fprintf(stderr,
                "stock-asof: state after event %" PRIu64 " from %s %" PRIu64 " in %.0f ms\n", seq,
                from != 0 ? "snapshot" : "event", from != 0 ? from : 1,
                (double)(fl_mono_ns() - started) / 1e6);
        printf("item\tlocation\tstatus\tgrade\tqty_milli\n");
        rc = eng_stock_each(state, NULL, print_stock, NULL);
        eng_close(state);
    }
    scratch_remove(path);
    return rc;
}

static int digest_load(const char *path, rpl_digest_t *digest)
{
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return fl_err_from_errno(errno);
    int rc = rpl_digest_read(file, digest);
    fclose(file);
    return rc;
}

/* Opens an existing ledger: the tools never create one where there was none. */
static int ledger_open(const char *dir, eng_ledger_t **out)
{
    char file[SCRATCH_PATH_MAX];
    struct stat info;
    snprintf(file, sizeof(file), "%s/data.mdb", dir);
    if (stat(file, &info) != 0) {
        fprintf(stderr, "fouta-replay: no ledger in %s (foutad keeps it in DATA_DIR/ledger)\n",
                dir);
        return FL_ENOENT;
    }
    eng_config_t config = {.dir = dir, .rules = ENG_RULES_PLANT};
    return eng_open(out, &config);
}

static int report(const char *what, int rc)
{
    if (rc != 0)
        fprintf(stderr, "fouta-replay: %s: %s\n", what, fl_strerror(rc));
    return rc == 0 ? 0 : 1;
}

/* The audit commands: digests and proofs. Returns -1 when command is none of them. */
static int audit_command(int argc, char **argv)
{
    const char *command = argv[1];
    rpl_digest_t digest;
    uint64_t seq = 0;
    int rc;
    if (strcmp(command, "trace") == 0 && (argc == 5 || argc == 6)) {
        bool up = strcmp(argv[4], "up") == 0, dot = argc == 6 && strcmp(argv[5], "--dot") == 0;
        if ((!up && strcmp(argv[4], "down") != 0) || (argc == 6 && !dot))
            return usage();
        eng_ledger_t *ledger = NULL;
        if ((rc = ledger_open(argv[2], &ledger)) != 0)
            return report(argv[2], rc);
        rc = rpl_trace(ledger, argv[3], up ? ENG_BACKWARD : ENG_FORWARD, TRACE_DEPTH_MAX, dot,
                       stdout);
        eng_close(ledger);
        return report("trace", rc);
    }
    if (strcmp(command, "recall") == 0 && argc >= 4 && argc <= 7) {
        bool dot = strcmp(argv[argc - 1], "--dot") == 0;
        int numbers = argc - dot - 4;
        int64_t from = numbers > 0 ? strtoll(argv[4], NULL, 10) : 0;
        int64_t until = numbers > 1 ? strtoll(argv[5], NULL, 10) : 0;
        uint32_t seeds = 0;
        if (numbers > 2)
            return usage();
        eng_ledger_t *ledger = NULL;
        if ((rc = ledger_open(argv[2], &ledger)) != 0)
            return report(argv[2], rc);
        rc = rpl_recall(ledger, argv[3], from, until, TRACE_DEPTH_MAX, dot, stdout, &seeds);
        eng_close(ledger);
        if (rc == 0)
            fprintf(stderr, "recall: %u units made by %s in the period\n", seeds, argv[3]);
        return report("recall", rc);
    }
    if (strcmp(command, "count") == 0 && argc >= 4 && argc <= 6) {
        bool csv = strcmp(argv[argc - 1], "--csv") == 0;
        int64_t threshold = COUNT_THRESHOLD_PERMILLE;
        if (argc - csv == 5) {
            char *end;
            threshold = strtoll(argv[4], &end, 10);
            if (*end != '\0' || threshold < 0 || threshold > 1000)
                return usage();
        } else if (argc - csv != 4) {
            return usage();
        }
        eng_ledger_t *ledger = NULL;
        rpl_count_summary_t summary;
        if ((rc = ledger_open(argv[2], &ledger)) != 0)
            return report(argv[2], rc);
        rc = rpl_count_report(ledger, argv[3], threshold, NULL, csv ? NULL : stdout,
                              csv ? stdout : NULL, &summary);
        eng_close(ledger);
        if (rc == 0)
            fprintf(stderr,
                    "count %s: %u units, %u counted, %u outdated, %u not counted, %u not "
                    "expected; %u adjustments, %u waiting for approval\n",
                    argv[3], summary.lines, summary.counted, summary.outdated, summary.uncounted,
                    summary.unknown, summary.adjustments, summary.approvals);
        return report("count", rc);
    }
    if (strcmp(command, "export") == 0 && argc >= 3) {
        rpl_format_t format = RPL_FORMAT_NDJSON;
        if (strcmp(argv[2], "--msgpack") == 0) {
            format = RPL_FORMAT_MSGPACK;
            argv++;
            argc--;
        }
        if (argc < 3 || argc > 5)
            return usage();
        uint64_t from = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
        uint64_t to = argc > 4 ? strtoull(argv[4], NULL, 10) : 0, count = 0;
        eng_ledger_t *ledger = NULL;
        if ((rc = ledger_open(argv[2], &ledger)) != 0)
            return report(argv[2], rc);
        rc = rpl_export(ledger, from, to, format, stdout, &count);
        eng_close(ledger);
        if (rc == 0)
            fprintf(stderr, "export: %" PRIu64 " records\n", count);
        return report("export", rc);
    }
    if (strcmp(command, "import") == 0 && argc == 4) {
        FILE *in = fopen(argv[3], "r");
        if (in == NULL)
            return report(argv[3], fl_err_from_errno(errno));
        eng_config_t config = {.dir = argv[2], .rules = ENG_RULES_PLANT};
        eng_ledger_t *ledger = NULL;
        rpl_progress_t progress;
        if ((rc = eng_open(&ledger, &config)) == 0) {
            rc = rpl_import(ledger, in, &progress);
            eng_close(ledger);
            if (rc == 0)
                printf("import: %" PRIu64 " records, the chain checked, up to %" PRIu64 "\n",
                       progress.events, progress.last_seq);
            else
                printf("import: REFUSED at record %" PRIu64 ": %s (%" PRIu64 " imported before)\n",
                       progress.failed_seq, progress.detail, progress.events);
        }
        fclose(in);
        return report("import", rc);
    }
    if (strcmp(command, "keygen") == 0 && argc == 4)
        return report("keygen", rpl_keygen(argv[2], argv[3]));
    if (strcmp(command, "proof-check") == 0 && argc == 5) {
        FILE *proof = fopen(argv[2], "r");
        if (proof == NULL)
            return report(argv[2], fl_err_from_errno(errno));
        if ((rc = digest_load(argv[3], &digest)) == 0)
            rc = rpl_proof_check(proof, &digest, argv[4], &seq);
        fclose(proof);
        if (rc == 0)
            printf("proof-check: ok, event %" PRIu64 " is in the chain under digest %" PRIu64 "\n",
                   seq, digest.seq);
        return report("proof-check", rc);
    }
    bool digest_cmd = strcmp(command, "digest") == 0 && argc == 4;
    bool check_cmd = strcmp(command, "digest-check") == 0 && argc == 5;
    bool proof_cmd = strcmp(command, "proof") == 0 && argc == 5;
    if (!digest_cmd && !check_cmd && !proof_cmd)
        return -1;
    if (proof_cmd) {
        char *end;
        if ((seq = strtoull(argv[3], &end, 10)) == 0 || *end != '\0')
            return usage();
    }
    eng_ledger_t *ledger = NULL;
    if ((rc = ledger_open(argv[2], &ledger)) != 0)
        return report(argv[2], rc);
    if (digest_cmd) {
        if ((rc = rpl_digest_sign(ledger, argv[3], &digest)) == 0)
            rc = rpl_digest_write(stdout, &digest);
    } else if (check_cmd) {
        uint64_t bad = 0;
        if ((rc = digest_load(argv[3], &digest)) == 0)
            rc = rpl_digest_check(ledger, &digest, argv[4], &bad);
        if (rc == 0)
            printf("digest-check: ok, event %" PRIu64 " still has its signed hash\n", digest.seq);
        else if (bad != 0)
            printf("digest-check: FAILED at event %" PRIu64 "\n", bad);
    } else if ((rc = digest_load(argv[4], &digest)) == 0) {
        rc = rpl_proof_write(ledger, seq, &digest, stdout);
    }
    eng_close(ledger);
    return report(command, rc);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    int audit = audit_command(argc, argv);
    if (audit >= 0)
        return audit;
    const char *command = argv[1];
    uint64_t seq = 0;
    if (strcmp(command, "stock-asof") == 0) {
        char *end;
        if ((argc != 4 && argc != 5) || (seq = strtoull(argv[3], &end, 10)) == 0 || *end != '\0')
            return usage();
        eng_ledger_t *ledger = NULL;
        int rc = ledger_open(argv[2], &ledger);
        if (rc != 0)
            return report(argv[2], rc);
        rc = stock_asof(ledger, seq, argc == 5 ? argv[4] : NULL);
        eng_close(ledger);
        return report("stock-asof", rc);
    }
    if (strcmp(command, "snapshot") == 0 && (argc == 4 || argc == 5)) {
        char *end = "";
        uint64_t every = argc == 5 ? strtoull(argv[4], &end, 10) : SNAPSHOT_EVERY;
        if (every == 0 || *end != '\0')
            return usage();
        eng_ledger_t *ledger = NULL;
        uint32_t made = 0;
        int rc = ledger_open(argv[2], &ledger);
        if (rc != 0)
            return report(argv[2], rc);
        if ((rc = rpl_snapshot_update(ledger, argv[3], every, NULL, &made)) == 0)
            printf("snapshot: %u new, one every %" PRIu64 " events\n", made, every);
        eng_close(ledger);
        return report("snapshot", rc);
    }
    if (strcmp(command, "verify-state") != 0 || argc != 3)
        return usage();
    eng_ledger_t *ledger = NULL, *scratch = NULL;
    char path[SCRATCH_PATH_MAX] = "";
    int rc = ledger_open(argv[2], &ledger);
    if (rc != 0) {
        fprintf(stderr, "fouta-replay: %s: %s\n", argv[2], fl_strerror(rc));
        return 1;
    }
    if ((rc = scratch_open(path, &scratch)) != 0) {
        fprintf(stderr, "fouta-replay: scratch ledger: %s\n", fl_strerror(rc));
    } else {
        rc = verify_state(ledger, scratch);
        eng_close(scratch);
    }
    if (path[0] != '\0')
        scratch_remove(path);
    eng_close(ledger);
    return rc == 0 ? 0 : 1;
}
