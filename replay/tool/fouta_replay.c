/*
 * fouta-replay: the plant's state rebuilt from its log, offline.
 *
 *   fouta-replay verify-state DIR   replay DIR's log into a scratch ledger and compare every
 *                                   row with the state DIR keeps inline; names the first
 *                                   disagreement
 *   fouta-replay stock-asof DIR SEQ the stock balances as they were after event SEQ
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
#include <unistd.h>

#include "base/base.h"
#include "replay/replay.h"

#define SCRATCH_PATH_MAX 512

static int usage(void)
{
    fprintf(stderr, "usage: fouta-replay verify-state DIR\n"
                    "       fouta-replay stock-asof DIR SEQ\n");
    return 2;
}

/* A scratch plant ledger in a fresh temporary directory. */
static int scratch_open(char path[SCRATCH_PATH_MAX], eng_ledger_t **out)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, SCRATCH_PATH_MAX, "%s/fouta-replay-XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(path) == NULL)
        return fl_err_from_errno(errno);
    eng_config_t config = {.dir = path, .rules = ENG_RULES_PLANT, .scratch = true};
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

static int stock_asof(eng_ledger_t *ledger, eng_ledger_t *scratch, uint64_t seq)
{
    int rc = replayed(ledger, scratch, seq);
    if (rc != 0)
        return rc;
    printf("item\tlocation\tstatus\tgrade\tqty_milli\n");
    return eng_stock_each(scratch, NULL, print_stock, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    const char *command = argv[1];
    uint64_t seq = 0;
    if (strcmp(command, "stock-asof") == 0) {
        char *end;
        if (argc != 4 || (seq = strtoull(argv[3], &end, 10)) == 0 || *end != '\0')
            return usage();
    } else if (strcmp(command, "verify-state") != 0 || argc != 3) {
        return usage();
    }
    eng_config_t config = {.dir = argv[2], .rules = ENG_RULES_PLANT};
    eng_ledger_t *ledger = NULL, *scratch = NULL;
    char path[SCRATCH_PATH_MAX] = "";
    int rc = eng_open(&ledger, &config);
    if (rc != 0) {
        fprintf(stderr, "fouta-replay: %s: %s\n", argv[2], fl_strerror(rc));
        return 1;
    }
    if ((rc = scratch_open(path, &scratch)) != 0) {
        fprintf(stderr, "fouta-replay: scratch ledger: %s\n", fl_strerror(rc));
    } else {
        rc = seq != 0 ? stock_asof(ledger, scratch, seq) : verify_state(ledger, scratch);
        eng_close(scratch);
    }
    if (path[0] != '\0')
        scratch_remove(path);
    eng_close(ledger);
    return rc == 0 ? 0 : 1;
}
