/*
 * support.h: what the Criterion tests share: scratch directories and event builders.
 * Header-only so that each test executable stays one file plus this.
 */
#ifndef FL_TEST_SUPPORT_H
#define FL_TEST_SUPPORT_H

#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"

/* A fresh directory under $TMPDIR (or /tmp), removed by test_tmpdir_remove. */
static inline void test_tmpdir(char *out, size_t size)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, size, "%s/fouta-test-XXXXXX", base != NULL ? base : "/tmp");
    cr_assert_not_null(mkdtemp(out), "mkdtemp failed");
}

static inline int test_remove_entry(const char *path, const struct stat *st, int flag,
                                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void test_tmpdir_remove(const char *dir)
{
    nftw(dir, test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* An event with a fresh id, a 250-byte payload naming its stream and number, and two
 * entities. Strings point into the builder, which must outlive the append. */
typedef struct {
    eng_event_t event;
    char stream[ENG_STREAM_LEN_MAX + 1];
    char entity_hu[ENG_ENTITY_LEN_MAX + 1];
    char entity_loom[ENG_ENTITY_LEN_MAX + 1];
    uint8_t payload[250];
} test_event_t;

static inline void test_event_make(test_event_t *out, const char *stream, unsigned number)
{
    memset(out, 0, sizeof(*out));
    cr_assert_eq(fl_uuid7(out->event.id), 0);
    snprintf(out->stream, sizeof(out->stream), "%s", stream);
    snprintf(out->entity_hu, sizeof(out->entity_hu), "hu:%s", stream);
    snprintf(out->entity_loom, sizeof(out->entity_loom), "loom:L%02u", number % 8);
    memset(out->payload, 'x', sizeof(out->payload));
    snprintf((char *)out->payload, sizeof(out->payload), "%s#%u", stream, number);
    out->event.type = "ProductionDeclared";
    out->event.schema_version = 1;
    out->event.stream = out->stream;
    out->event.expected_version = ENG_EXPECT_ANY;
    out->event.occurred_at_us = 1700000000000000 + number;
    out->event.actor_user = "weaver-1";
    out->event.actor_role = "weaver";
    out->event.actor_device = "phone-7";
    out->event.entities[0] = out->entity_hu;
    out->event.entities[1] = out->entity_loom;
    out->event.entities_count = 2;
    out->event.payload = out->payload;
    out->event.payload_len = sizeof(out->payload);
}

static inline eng_ledger_t *test_ledger_open(const char *dir)
{
    eng_config_t config = {.dir = dir};
    eng_ledger_t *ledger = NULL;
    int rc = eng_open(&ledger, &config);
    cr_assert_eq(rc, 0, "eng_open: %s", fl_strerror(rc));
    return ledger;
}

/* Appends one event and asserts it was accepted; returns its position. */
static inline eng_position_t test_append_one(eng_ledger_t *ledger, const eng_event_t *event)
{
    eng_position_t position;
    int rc = eng_append(ledger, event, 1, 0, &position, NULL);
    cr_assert_eq(rc, 0, "append: %s", fl_strerror(rc));
    return position;
}

/* Waits, at most 10 s, for the folder thread to move the watermark to seq or past it; returns
 * the watermark then. */
static inline uint64_t test_wait_folded(eng_ledger_t *ledger, uint64_t seq)
{
    eng_stats_t stats;
    for (int waited_ms = 0;; waited_ms++) {
        eng_stats(ledger, &stats);
        if (stats.folded_seq >= seq || waited_ms >= 10000)
            return stats.folded_seq;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
}

#endif
