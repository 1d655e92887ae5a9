/*
 * count.c: inventory reconciliation - a count session's report.
 *
 * A count is events: CountOpened (at a sequence, on locations), ItemCounted lines from any
 * number of devices, CountClosed. The report sets the book as it stood at the opening (the
 * state replayed to that sequence) against what was counted: a line per counted unit with its
 * difference, lines whose unit moved after being counted flagged as outdated, expected units
 * nobody counted, counted units the book did not expect there, totals by item and location, and
 * the adjustments to post, those above the threshold waiting for a manager's approval.
 */
#define _POSIX_C_SOURCE 200809L
#include "replay/replay.h"

#include <inttypes.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "events/events.h"

#define COUNT_LOCATIONS_MAX 64
#define COUNT_SCRATCH_MAX   512

typedef struct {
    char hu[EV_ID_LEN_MAX + 1];
    char item[EV_ID_LEN_MAX + 1];
    char location[EV_ID_LEN_MAX + 1];
    char unit[8];
    int64_t book_milli;    /* at the opening; 0 when the book did not have it there */
    int64_t counted_milli; /* the last line for the unit; -1 when not counted */
    uint64_t counted_seq;
    bool expected; /* in the book at the opening, at one of the count's locations */
    bool known;    /* the unit existed at the opening */
    bool outdated; /* moved or changed after it was counted, before the close */
} line_t;

typedef struct {
    line_t *lines;
    size_t count, cap;
    char locations[COUNT_LOCATIONS_MAX][EV_ID_LEN_MAX + 1];
    uint32_t locations_count;
    size_t counted; /* lines[0..counted) are the counted units, sorted by unit */
    uint64_t opened_seq, closed_seq;
    int error;
} session_t;

static const msgpack_object *field(const msgpack_object *map, const char *name)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *key = &map->via.map.ptr[i].key;
        if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == strlen(name) &&
            memcmp(key->via.str.ptr, name, key->via.str.size) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

static void text(const msgpack_object *map, const char *name, char *out, size_t size)
{
    const msgpack_object *value = field(map, name);
    out[0] = '\0';
    if (value != NULL && value->type == MSGPACK_OBJECT_STR && value->via.str.size < size) {
        memcpy(out, value->via.str.ptr, value->via.str.size);
        out[value->via.str.size] = '\0';
    }
}

static int64_t number(const msgpack_object *map, const char *name)
{
    const msgpack_object *value = field(map, name);
    if (value == NULL)
        return 0;
    if (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return (int64_t)value->via.u64;
    return value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? value->via.i64 : 0;
}

static bool type_is(const eng_record_t *record, const char *type)
{
    return record->type.len == strlen(type) &&
           memcmp(record->type.ptr, type, record->type.len) == 0;
}

/* A new line at the end (counts may repeat a unit: session_sort keeps its last line). */
static line_t *line_add(session_t *session, const char *hu)
{
    if (session->count == session->cap) {
        size_t cap = session->cap == 0 ? 256 : session->cap * 2;
        line_t *grown = realloc(session->lines, cap * sizeof(*grown));
        if (grown == NULL)
            return NULL;
        session->lines = grown;
        session->cap = cap;
    }
    line_t *line = &session->lines[session->count++];
    memset(line, 0, sizeof(*line));
    snprintf(line->hu, sizeof(line->hu), "%.*s", EV_ID_LEN_MAX, hu); /* an id: never longer */
    line->counted_milli = -1;
    return line;
}

static int by_unit(const void *a, const void *b)
{
    const line_t *x = a, *y = b;
    int order = strcmp(x->hu, y->hu);
    return order != 0                        ? order
           : x->counted_seq < y->counted_seq ? -1
                                             : x->counted_seq > y->counted_seq;
}

/* Sorts the counted lines by unit and keeps each unit's last line: the recount wins. */
static void session_sort(session_t *session)
{
    qsort(session->lines, session->count, sizeof(*session->lines), by_unit);
    size_t kept = 0;
    for (size_t i = 0; i < session->count; i++) {
        if (kept > 0 && strcmp(session->lines[kept - 1].hu, session->lines[i].hu) == 0)
            kept--;
        session->lines[kept++] = session->lines[i];
    }
    session->count = kept;
    session->counted = kept;
}

static line_t *line_counted(session_t *session, const char *hu)
{
    line_t key;
    snprintf(key.hu, sizeof(key.hu), "%.64s", hu);
    key.counted_seq = 0;
    size_t low = 0, high = session->counted;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        int order = strcmp(session->lines[middle].hu, key.hu);
        if (order == 0)
            return &session->lines[middle];
        if (order < 0)
            low = middle + 1;
        else
            high = middle;
    }
    return NULL;
}

/* The session's events: the opening (locations), the lines, the close. */
static int session_read(eng_ledger_t *ledger, const char *count_id, session_t *session)
{
    char entity[EV_NAME_LEN_MAX + 1];
    snprintf(entity, sizeof(entity), "count-%s", count_id);
    eng_iter_t *iter = NULL;
    int rc = eng_iter_entity(ledger, entity, 1, ENG_FORWARD, &iter);
    if (rc != 0)
        return rc;
    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, 4096)) {
        eng_iter_close(iter);
        return FL_ENOMEM;
    }
    eng_record_t record;
    while ((rc = eng_iter_next(iter, &record)) == 0) {
        msgpack_object payload;
        size_t offset = 0;
        msgpack_zone_clear(&zone);
        if (msgpack_unpack((const char *)record.payload, record.payload_len, &offset, &zone,
                           &payload) != MSGPACK_UNPACK_SUCCESS) {
            rc = FL_ECORRUPT;
            break;
        }
        if (type_is(&record, "CountOpened")) {
            session->opened_seq = record.seq;
            const msgpack_object *ids = field(&payload, "location_ids");
            for (uint32_t i = 0; ids != NULL && ids->type == MSGPACK_OBJECT_ARRAY &&
                                 i < ids->via.array.size && i < COUNT_LOCATIONS_MAX;
                 i++) {
                const msgpack_object *id = &ids->via.array.ptr[i];
                if (id->type == MSGPACK_OBJECT_STR && id->via.str.size <= EV_ID_LEN_MAX)
                    snprintf(session->locations[session->locations_count++], EV_ID_LEN_MAX + 1,
                             "%.*s", (int)id->via.str.size, id->via.str.ptr);
            }
        } else if (type_is(&record, "ItemCounted")) {
            char hu[EV_ID_LEN_MAX + 1];
            text(&payload, "hu_id", hu, sizeof(hu));
            line_t *line = line_add(session, hu);
            if (line == NULL) {
                rc = FL_ENOMEM;
                break;
            }
            text(&payload, "item_id", line->item, sizeof(line->item));
            text(&payload, "location_id", line->location, sizeof(line->location));
            text(&payload, "unit", line->unit, sizeof(line->unit));
            line->counted_milli = number(&payload, "counted_qty_milli");
            line->counted_seq = record.seq;
        } else if (type_is(&record, "CountClosed")) {
            session->closed_seq = record.seq;
        }
    }
    msgpack_zone_destroy(&zone);
    eng_iter_close(iter);
    if (rc != FL_EEOF)
        return rc;
    return session->opened_seq == 0 ? FL_ENOENT : 0;
}

static bool in_scope(const session_t *session, const char *location)
{
    for (uint32_t i = 0; i < session->locations_count; i++)
        if (strcmp(session->locations[i], location) == 0)
            return true;
    return false;
}

/* The book at the opening: every unit the replayed state holds at the count's locations. */
static int book_row(uint64_t seq, const eng_row_t *row, void *data)
{
    (void)seq;
    session_t *session = data;
    const eng_hu_view_t *hu = &row->hu;
    line_t *line = line_counted(session, row->id);
    if (line != NULL)
        line->known = true;
    bool on_shelf = strcmp(hu->status, "consumed") != 0 && strcmp(hu->status, "shipped") != 0 &&
                    hu->qty_milli > 0 && hu->holder[0] == '\0';
    if (!on_shelf || !in_scope(session, hu->location))
        return 0;
    if (line == NULL && (line = line_add(session, row->id)) == NULL) {
        session->error = FL_ENOMEM;
        return 1;
    }
    line->known = line->expected = true;
    line->book_milli = hu->qty_milli;
    if (line->counted_milli < 0) { /* not counted: the book says where and what */
        snprintf(line->item, sizeof(line->item), "%.64s", hu->item);
        snprintf(line->location, sizeof(line->location), "%.64s", hu->location);
        snprintf(line->unit, sizeof(line->unit), "%s", hu->unit);
    }
    return 0;
}

/* The book: the state as it was at the count's opening, in a scratch ledger replayed from the
 * nearest snapshot in snapdir at or below it (NULL: from the first event). */
static int book_at_opening(eng_ledger_t *ledger, const char *snapdir, session_t *session)
{
    const char *tmp = getenv("TMPDIR");
    char path[COUNT_SCRATCH_MAX];
    snprintf(path, sizeof(path), "%s/fouta-count-XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(path) == NULL) /* ours (0700, a fresh name): rpl_asof_open fills it */
        return FL_EIO;
    eng_ledger_t *scratch = NULL;
    uint64_t at, from_snapshot;
    int rc = rpl_asof_open(ledger, snapdir, session->opened_seq, path, &scratch, &from_snapshot);
    if (rc == 0)
        rc = eng_rows(scratch, ENG_ROW_HU, book_row, session, &at);
    if (rc == 0)
        rc = session->error;
    eng_close(scratch);
    rpl_state_remove(path);
    return rc;
}

/* A line is outdated when its unit changed after it was counted, before the close. */
static int mark_outdated(eng_ledger_t *ledger, const session_t *session, line_t *line)
{
    if (line->counted_milli < 0)
        return 0;
    char entity[EV_NAME_LEN_MAX + 1];
    snprintf(entity, sizeof(entity), "hu-%s", line->hu);
    eng_iter_t *iter = NULL;
    int rc = eng_iter_entity(ledger, entity, line->counted_seq + 1, ENG_FORWARD, &iter);
    if (rc != 0)
        return rc;
    eng_record_t record;
    while ((rc = eng_iter_next(iter, &record)) == 0) {
        if (session->closed_seq != 0 && record.seq > session->closed_seq)
            break;
        if (!type_is(&record, "ItemCounted") && !type_is(&record, "LabelPrinted") &&
            !type_is(&record, "LabelReprinted")) {
            line->outdated = true;
            break;
        }
    }
    eng_iter_close(iter);
    return rc == FL_EEOF ? 0 : rc;
}

static int64_t abs64(int64_t value)
{
    return value < 0 ? -value : value;
}

/* What the report proposes for a line, and whether it waits for a manager. */
static const char *line_verdict(const line_t *line, int64_t threshold_permille, int64_t *delta,
                                bool *approval)
{
    *delta = 0;
    *approval = false;
    if (line->outdated)
        return "outdated";
    if (line->counted_milli < 0) {
        *delta = -line->book_milli;
        *approval = true; /* a unit not found is never written off without a manager */
        return "not counted";
    }
    if (!line->known)
        return "unknown unit";
    if (!line->expected)
        return "not expected here";
    *delta = line->counted_milli - line->book_milli;
    *approval = abs64(*delta) * 1000 > line->book_milli * threshold_permille;
    return *delta == 0 ? "ok" : "difference";
}

static int by_place(const void *a, const void *b)
{
    const line_t *x = a, *y = b;
    int order = strcmp(x->item, y->item);
    if (order == 0)
        order = strcmp(x->location, y->location);
    return order != 0 ? order : strcmp(x->hu, y->hu);
}

int rpl_count_report(eng_ledger_t *ledger, const char *count_id, int64_t threshold_permille,
                     const char *snapdir, FILE *json, FILE *csv, rpl_count_summary_t *summary)
{
    session_t session = {0};
    memset(summary, 0, sizeof(*summary));
    int rc = session_read(ledger, count_id, &session);
    if (rc == 0) {
        session_sort(&session);
        rc = book_at_opening(ledger, snapdir, &session);
    }
    for (size_t i = 0; rc == 0 && i < session.count; i++)
        rc = mark_outdated(ledger, &session, &session.lines[i]);
    if (rc != 0)
        goto done;
    qsort(session.lines, session.count, sizeof(*session.lines), by_place);
    summary->opened_seq = session.opened_seq;
    summary->closed_seq = session.closed_seq;
    if (csv != NULL)
        fprintf(csv, "hu_id,item_id,location_id,unit,book_milli,counted_milli,difference_milli,"
                     "verdict,proposed_delta_milli,needs_approval\n");
    if (json != NULL)
        fprintf(json,
                "{\"count_id\": \"%s\", \"opened_seq\": %" PRIu64 ", \"closed_seq\": %" PRIu64
                ", \"threshold_permille\": %" PRId64 ",\n  \"lines\": [",
                count_id, session.opened_seq, session.closed_seq, threshold_permille);
    for (size_t i = 0; i < session.count; i++) {
        const line_t *line = &session.lines[i];
        int64_t delta;
        bool approval;
        const char *verdict = line_verdict(line, threshold_permille, &delta, &approval);
        int64_t counted = line->counted_milli < 0 ? 0 : line->counted_milli;
        summary->lines++;
        summary->counted += line->counted_milli >= 0;
        summary->outdated += line->outdated;
        summary->uncounted += line->counted_milli < 0;
        summary->unknown += line->counted_milli >= 0 && (!line->known || !line->expected);
        summary->adjustments += delta != 0;
        summary->approvals += delta != 0 && approval;
        if (csv != NULL)
            fprintf(csv, "%s,%s,%s,%s,%" PRId64 ",%" PRId64 ",%" PRId64 ",%s,%" PRId64 ",%s\n",
                    line->hu, line->item, line->location, line->unit, line->book_milli, counted,
                    counted - line->book_milli, verdict, delta,
                    delta != 0 && approval ? "yes" : "no");
        if (json != NULL) {
            char counted_text[24] = "null";
            if (line->counted_milli >= 0)
                snprintf(counted_text, sizeof(counted_text), "%" PRId64, line->counted_milli);
            fprintf(json,
                    "%s\n    {\"hu_id\": \"%s\", \"item_id\": \"%s\", \"location_id\": \"%s\", "
                    "\"unit\": \"%s\", \"book_milli\": %" PRId64 ", \"counted_milli\": %s, "
                    "\"verdict\": \"%s\", \"proposed_delta_milli\": %" PRId64
                    ", \"needs_approval\": %s}",
                    i == 0 ? "" : ",", line->hu, line->item, line->location, line->unit,
                    line->book_milli, counted_text, verdict, delta,
                    delta != 0 && approval ? "true" : "false");
        }
    }
    if (json != NULL) { /* the adjustments to post, as InventoryAdjusted payloads */
        fprintf(json, "\n  ],\n  \"adjustments\": [");
        for (size_t i = 0, first = 1; i < session.count; i++) {
            const line_t *line = &session.lines[i];
            int64_t delta;
            bool approval;
            line_verdict(line, threshold_permille, &delta, &approval);
            if (delta == 0)
                continue;
            fprintf(json,
                    "%s\n    {\"needs_approval\": %s, \"payload\": {\"count_id\": \"%s\", "
                    "\"hu_id\": \"%s\", \"item_id\": \"%s\", \"location_id\": \"%s\", "
                    "\"delta_qty_milli\": %" PRId64 ", \"unit\": \"%s\"}}",
                    first ? "" : ",", approval ? "true" : "false", count_id, line->hu, line->item,
                    line->location, delta, line->unit);
            first = 0;
        }
        fprintf(json, "\n  ],\n  \"totals\": [");
        /* Book against counted by item and location (lines are sorted that way). */
        for (size_t i = 0, first = 1; i < session.count;) {
            const line_t *head = &session.lines[i];
            int64_t book = 0, counted = 0;
            size_t j = i;
            for (; j < session.count && strcmp(session.lines[j].item, head->item) == 0 &&
                   strcmp(session.lines[j].location, head->location) == 0;
                 j++) {
                book += session.lines[j].book_milli;
                counted += session.lines[j].counted_milli < 0 ? 0 : session.lines[j].counted_milli;
            }
            fprintf(
                json,
                "%s\n    {\"item_id\": \"%s\", \"location_id\": \"%s\", \"book_milli\": %" PRId64
                ", \"counted_milli\": %" PRId64 ", \"difference_milli\": %" PRId64 "}",
                first ? "" : ",", head->item, head->location, book, counted, counted - book);
            first = 0;
            i = j;
        }
        fprintf(json, "\n  ]\n}\n");
    }
    if ((json != NULL && ferror(json)) || (csv != NULL && ferror(csv)))
        rc = FL_EIO;
done:
    free(session.lines);
    return rc;
}
