/*
 * snapshot.c: state snapshots, so that a state as of any sequence replays only from the nearest
 * snapshot below it, not from the first event.
 *
 * A snapshot is a state-only ledger (the plant's state tables and the sequence they stand at,
 * no log) copied at a multiple of `every`: SNAPDIR/<seq, 20 digits>/data.mdb. One working
 * state-only ledger, SNAPDIR/work, is carried forward from snapshot to snapshot. A state as of a
 * sequence opens the snapshot below it held (eng_config_t.held) and replays the rest over it,
 * leaving it as it was.
 */
#define _POSIX_C_SOURCE 200809L
#include "replay/replay.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"

#define SNAPSHOT_PATH_MAX 1024
/* A held state's map must hold what its replay adds, since it cannot grow under the
 * transaction: the snapshot's size, this much per event replayed, and this much more. Address
 * space only. */
#define HELD_BYTES_PER_EVENT 4096u
#define HELD_BYTES_SPARE     (64ull << 20)

/* held: never committed (an as-of state over a snapshot), in a map of map_bytes (0: the
 * engine's default). */
static eng_ledger_t *state_open(const char *dir, bool held, uint64_t map_bytes, int *rc)
{
    eng_config_t config = {.dir = dir,
                           .rules = ENG_RULES_PLANT,
                           .scratch = true,
                           .state_only = true,
                           .held = held,
                           .map_bytes_initial = map_bytes};
    eng_ledger_t *ledger = NULL;
    *rc = eng_open(&ledger, &config);
    return ledger;
}

void rpl_state_remove(const char *dir)
{
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    char file[PATH_MAX];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        int len = snprintf(file, sizeof(file), "%s/%s", dir, files[i]);
        if (len > 0 && (size_t)len < sizeof(file)) /* a cut name would name another file */
            unlink(file);
    }
    rmdir(dir);
}

/* The largest snapshot at or below seq (0 when none). */
static uint64_t snapshot_below(const char *snapdir, uint64_t seq)
{
    DIR *dir = opendir(snapdir);
    uint64_t best = 0;
    struct dirent *entry;
    while (dir != NULL && (entry = readdir(dir)) != NULL) {
        char *end;
        uint64_t at = strtoull(entry->d_name, &end, 10);
        if (*end == '\0' && strlen(entry->d_name) == 20 && at <= seq && at > best)
            best = at;
    }
    if (dir != NULL)
        closedir(dir);
    return best;
}

int rpl_snapshot_update(eng_ledger_t *src, const char *snapdir, uint64_t every, const int *stop,
                        uint32_t *made)
{
    *made = 0;
    if (every == 0)
        return FL_EINVAL;
    if (mkdir(snapdir, 0750) != 0 && errno != EEXIST)
        return fl_err_from_errno(errno);
    char work[SNAPSHOT_PATH_MAX], path[SNAPSHOT_PATH_MAX];
    snprintf(work, sizeof(work), "%s/work", snapdir);
    int rc;
    eng_ledger_t *state = state_open(work, false, 0, &rc);
    if (rc != 0)
        return rc;
    eng_head_t src_head, at;
    eng_head(src, &src_head);
    eng_head(state, &at);
    rpl_progress_t progress;
    bool replay_failed = false;
    char partial[SNAPSHOT_PATH_MAX + 16];
    for (uint64_t next = (at.seq / every + 1) * every; next <= src_head.seq; next += every) {
        if (stop != NULL && __atomic_load_n(stop, __ATOMIC_RELAXED) != 0) {
            rc = FL_ECANCELED;
            break;
        }
        if ((rc = rpl_replay(src, state, next, &progress)) != 0) {
            replay_failed = true;
            break;
        }
        snprintf(path, sizeof(path), "%s/%020" PRIu64, snapdir, next);
        struct stat info;
        if (stat(path, &info) == 0)
            continue; /* made by an earlier run */
        /* Copied under another name, then renamed: a copy cut short is never taken for one. */
        snprintf(partial, sizeof(partial), "%s.partial", path);
        rpl_state_remove(partial);
        if ((rc = eng_copy(state, partial)) != 0)
            break;
        if (rename(partial, path) != 0) {
            rc = fl_err_from_errno(errno);
            break;
        }
        (*made)++;
    }
    eng_close(state);
    /* A replay that failed may have applied events past the one it stopped at: the working
     * state is not to be carried on from. The next call makes it again from the first event. */
    if (replay_failed)
        rpl_state_remove(work);
    return rc;
}

int rpl_asof_open(eng_ledger_t *src, const char *snapdir, uint64_t seq, const char *dir,
                  eng_ledger_t **out, uint64_t *from_snapshot)
{
    *out = NULL;
    *from_snapshot = snapdir != NULL ? snapshot_below(snapdir, seq) : 0;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return fl_err_from_errno(errno);
    char path[SNAPSHOT_PATH_MAX];
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    struct stat info;
    if (stat(path, &info) == 0)
        return FL_EEXIST; /* a state is there already: the caller's directory is not new */
    int rc;
    eng_ledger_t *state;
    if (*from_snapshot != 0) {
        /* Opened where it is: a copy took longer than the replay (docs/audit.md). */
        char snapshot[SNAPSHOT_PATH_MAX], file[SNAPSHOT_PATH_MAX + 16];
        snprintf(snapshot, sizeof(snapshot), "%s/%020" PRIu64, snapdir, *from_snapshot);
        snprintf(file, sizeof(file), "%s/data.mdb", snapshot);
        uint64_t map_bytes = (stat(file, &info) == 0 ? (uint64_t)info.st_size : 0) +
                             (seq - *from_snapshot) * HELD_BYTES_PER_EVENT + HELD_BYTES_SPARE;
        state = state_open(snapshot, true, map_bytes, &rc);
    } else {
        state = state_open(dir, false, 0, &rc);
    }
    if (rc != 0)
        return rc;
    rpl_progress_t progress;
    if ((rc = rpl_replay(src, state, seq, &progress)) != 0) {
        eng_close(state);
        return rc;
    }
    *out = state;
    return 0;
}
