/*
 * pg_schema.c: the PostgreSQL schema of one tenant ("fouta_<tenant>"), versioned by
 * schema_migrations, and the mapping of the ledger's rows to its tables. A BI user finds the
 * events (payload as jsonb), the handling units, stock balances, production orders, looms,
 * beams, records (with a view per kind: interventions, non_conformities, counts, shipments,
 * labels), subcontract lots, articles and genealogy links, and genealogy(entity, direction), a
 * recursive walk of the links both ways. The projector's checkpoints and dead letters live in
 * the same schema, so that a swap after a rebuild carries them with the tables.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "projections/pg_int.h"

/* Version 1. Names are unqualified: each migration runs with search_path set to the schema.
 * The functions name the live schema (LIVE) because they keep working after a swap. */
static const char *const schema_v1[] = {
    "CREATE TABLE events (seq bigint PRIMARY KEY, event_id uuid NOT NULL, type text NOT NULL,"
    " schema_version integer NOT NULL, stream text NOT NULL, stream_version bigint NOT NULL,"
    " occurred_at timestamptz NOT NULL, recorded_at timestamptz NOT NULL,"
    " actor_user text NOT NULL, actor_role text NOT NULL, actor_device text NOT NULL,"
    " payload jsonb);",
    "CREATE INDEX events_stream ON events (stream, stream_version);",
    "CREATE INDEX events_type ON events (type, seq);",
    "CREATE INDEX events_recorded_at ON events USING brin (recorded_at);",
    "CREATE TABLE handling_units (hu_id text PRIMARY KEY, status text NOT NULL,"
    " item_id text NOT NULL, unit text NOT NULL, qty_milli bigint NOT NULL, grade text,"
    " location_id text NOT NULL, parent_hu_id text, holder text, out_milli bigint NOT NULL,"
    " created_seq bigint NOT NULL);",
    "CREATE INDEX handling_units_location ON handling_units (location_id, item_id);",
    "CREATE INDEX handling_units_parent ON handling_units (parent_hu_id);",
    "CREATE TABLE stock_balances (item_id text, location_id text, status text, grade text,"
    " qty_milli bigint NOT NULL, PRIMARY KEY (item_id, location_id, status, grade));",
    "CREATE TABLE production_orders (of_id text PRIMARY KEY, state text NOT NULL,"
    " item_id text NOT NULL, unit text NOT NULL, planned_milli bigint NOT NULL,"
    " declared_milli bigint NOT NULL);",
    "CREATE TABLE looms (loom_id text PRIMARY KEY, stopped boolean NOT NULL, stop_class text,"
    " stop_code text, since_seq bigint, of_id text, first_piece_passed boolean NOT NULL,"
    " ground_beam_id text, pile_beam_id text, ground_remaining_milli bigint,"
    " pile_remaining_milli bigint);",
    "CREATE TABLE beams (beam_id text PRIMARY KEY, item_id text NOT NULL, loom_id text,"
    " position text NOT NULL, remaining_milli bigint NOT NULL);",
    "CREATE TABLE records (kind text, record_id text, state text NOT NULL, subject text,"
    " count integer NOT NULL, since_seq bigint, PRIMARY KEY (kind, record_id));",
    "CREATE TABLE subcontract_lots (sublot_id text PRIMARY KEY, state text NOT NULL,"
    " sub_id text NOT NULL, item_id text NOT NULL, unit text NOT NULL, location_id text,"
    " sent_milli bigint NOT NULL, good_milli bigint NOT NULL, rejected_milli bigint NOT NULL,"
    " lost_milli bigint NOT NULL, allowance_milli bigint NOT NULL, out_milli bigint NOT NULL);",
    "CREATE TABLE genealogy_links (from_id text, to_id text, kind text NOT NULL,"
    " seq bigint NOT NULL, PRIMARY KEY (from_id, to_id));",
    "CREATE INDEX genealogy_links_to ON genealogy_links (to_id);",
    "CREATE TABLE articles (item_id text PRIMARY KEY, cutting_tolerance_permille bigint NOT NULL,"
    " overproduction_allowed_permille bigint NOT NULL, first_piece_required boolean NOT NULL);",
    "CREATE TABLE projector_checkpoints (projector text PRIMARY KEY, seq bigint NOT NULL,"
    " updated_at timestamptz NOT NULL DEFAULT now());",
    "CREATE TABLE dead_letters (projector text, seq bigint, type text, error text NOT NULL,"
    " recorded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (projector, seq));",
    "CREATE VIEW interventions AS SELECT record_id AS intervention_id, state,"
    " subject AS loom_id, since_seq FROM records WHERE kind = 'int';",
    "CREATE VIEW non_conformities AS SELECT record_id AS nc_id, state, subject, since_seq"
    " FROM records WHERE kind = 'nc';",
    "CREATE VIEW counts AS SELECT record_id AS count_id, state, count AS locations,"
    " since_seq FROM records WHERE kind = 'count';",
    "CREATE VIEW shipments AS SELECT record_id AS ship_id, state,"
    " subject AS customer_location_id, count AS units_loaded, since_seq FROM records"
    " WHERE kind = 'ship';",
    "CREATE VIEW labels AS SELECT record_id AS hu_id, state, count AS printed, since_seq"
    " FROM records WHERE kind = 'label';",
    /* The walk: backward from a pallet to its yarn lots, forward from a lot to its pallets.
     * The links are a DAG; the depth bound is a guard against a corrupted cycle. */
    "CREATE FUNCTION genealogy(entity text, direction text DEFAULT 'backward')"
    " RETURNS TABLE (from_id text, to_id text, kind text, seq bigint, depth integer)"
    " LANGUAGE sql STABLE AS $f$"
    " WITH RECURSIVE walk (from_id, to_id, kind, seq, depth) AS ("
    "  SELECT l.from_id, l.to_id, l.kind, l.seq, 1 FROM LIVE.genealogy_links l"
    "   WHERE (direction = 'backward' AND l.to_id = entity)"
    "      OR (direction = 'forward' AND l.from_id = entity)"
    "  UNION"
    "  SELECT l.from_id, l.to_id, l.kind, l.seq, w.depth + 1 FROM walk w"
    "   JOIN LIVE.genealogy_links l ON (direction = 'backward' AND l.to_id = w.from_id)"
    "                               OR (direction = 'forward' AND l.from_id = w.to_id)"
    "   WHERE w.depth < 64)"
    " SELECT DISTINCT ON (w.from_id, w.to_id) w.from_id, w.to_id, w.kind, w.seq, w.depth"
    " FROM walk w ORDER BY w.from_id, w.to_id, w.depth $f$;",
    NULL,
};

static const struct {
    int version;
    const char *description;
    const char *const *statements;
} migrations[] = {
    {1, "the ledger's events and the plant's state", schema_v1},
    {2, "KPI views over the events (docs/reporting.md)", prj__pg_kpi_v2},
    {3, "KPIs over loom time, the shift calendar and the period's end", prj__pg_kpi_v3},
};

/* The migration's text with LIVE replaced by the live schema's name. */
static int expand(const char *sql, const char *live, char *out, size_t size)
{
    size_t at = 0, live_len = strlen(live);
    for (const char *c = sql; *c != '\0';) {
        if (strncmp(c, "LIVE.", 5) == 0) {
            if (at + live_len + 1 >= size)
                return FL_ETOOBIG;
            memcpy(out + at, live, live_len);
            at += live_len;
            c += 4;
            continue;
        }
        if (at + 2 >= size)
            return FL_ETOOBIG;
        out[at++] = *c++;
    }
    out[at] = '\0';
    return 0;
}

/* timeout_ms 0: the sink's io_timeout_ms; PG_BULK_TIMEOUT_S for work that grows with the rows. */
static int exec_ok(pg_sink_t *pg, const char *sql, uint32_t timeout_ms)
{
    PGresult *res = prj__pg_exec(pg, sql, 0, NULL, timeout_ms);
    int rc = prj__pg_result(pg, res, PGRES_COMMAND_OK);
    if (rc == FL_ESINK_REJECTED && PQresultStatus(res) == PGRES_TUPLES_OK)
        rc = 0;
    PQclear(res);
    return rc;
}

/* A secondary index of a migration: a rebuild's shadow makes them after its bulk load. */
static bool is_index(const char *statement)
{
    return strncmp(statement, "CREATE INDEX ", 13) == 0;
}

int prj__pg_schema_ensure(pg_sink_t *pg, const char *schema, bool defer_indexes)
{
    static char sql[16384];
    char head[512];
    int rc;
    if ((rc = exec_ok(pg, "BEGIN", 0)) != 0)
        return rc;
    snprintf(head, sizeof(head),
             "SELECT pg_advisory_xact_lock(hashtext('%s'));"
             "CREATE SCHEMA IF NOT EXISTS %s;"
             "SET LOCAL search_path = %s;"
             "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
             " description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());",
             schema, schema, schema);
    if ((rc = exec_ok(pg, head, 0)) != 0)
        goto fail;
    PGresult *res =
        prj__pg_exec(pg, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL, 0);
    if ((rc = prj__pg_result(pg, res, PGRES_TUPLES_OK)) != 0) {
        PQclear(res);
        goto fail;
    }
    int version = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    /* A schema that has rows may take long to migrate (an index over the events): the session's
     * statement_timeout and the client's deadline give way to PG_BULK_TIMEOUT_S. A new schema is
     * empty, and quick. */
    int latest = migrations[sizeof(migrations) / sizeof(migrations[0]) - 1].version;
    uint32_t timeout_ms = 0;
    if (version > 0 && version < latest) {
        timeout_ms = PG_BULK_TIMEOUT_S * 1000u;
        snprintf(head, sizeof(head), "SET LOCAL statement_timeout = %u", timeout_ms);
        if ((rc = exec_ok(pg, head, 0)) != 0)
            goto fail;
    }
    for (size_t i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
        if (migrations[i].version <= version)
            continue;
        for (const char *const *statement = migrations[i].statements; *statement != NULL;
             statement++) {
            if (defer_indexes && is_index(*statement))
                continue;
            if ((rc = expand(*statement, pg->schema, sql, sizeof(sql))) != 0)
                goto fail;
            if ((rc = exec_ok(pg, sql, timeout_ms)) != 0)
                goto fail;
        }
        char version_text[16];
        snprintf(version_text, sizeof(version_text), "%d", migrations[i].version);
        const char *values[] = {version_text, migrations[i].description};
        res =
            prj__pg_exec(pg, "INSERT INTO schema_migrations (version, description) VALUES ($1, $2)",
                         2, values, 0);
        rc = prj__pg_result(pg, res, PGRES_COMMAND_OK);
        PQclear(res);
        if (rc != 0)
            goto fail;
    }
    return exec_ok(pg, "COMMIT", 0);
fail:
    PQclear(prj__pg_exec(pg, "ROLLBACK", 0, NULL, 0));
    return rc;
}

/* Whether a migration's CREATE INDEX is over the events table (the rest are the state's). */
static bool is_events_index(const char *statement)
{
    return strstr(statement, " ON events ") != NULL || strstr(statement, " ON events(") != NULL;
}

int prj__pg_schema_indexes(pg_sink_t *pg, const char *schema, bool events)
{
    char head[256];
    /* An index over a rebuild's rows takes the time the rows take. */
    snprintf(head, sizeof(head),
             "BEGIN; SET LOCAL search_path = %s; SET LOCAL statement_timeout = %u;", schema,
             PG_BULK_TIMEOUT_S * 1000u);
    int rc = exec_ok(pg, head, 0);
    for (size_t i = 0; i < sizeof(migrations) / sizeof(migrations[0]) && rc == 0; i++)
        for (const char *const *statement = migrations[i].statements; *statement != NULL && rc == 0;
             statement++)
            if (is_index(*statement) && is_events_index(*statement) == events)
                rc = exec_ok(pg, *statement, PG_BULK_TIMEOUT_S * 1000u);
    if (rc != 0) {
        PQclear(prj__pg_exec(pg, "ROLLBACK", 0, NULL, 0));
        return rc;
    }
    return exec_ok(pg, "COMMIT", 0);
}

/* ---- rows to columns */

static const pg_table_t tables[ENG_ROW_KINDS] = {
    [ENG_ROW_HU] = {"handling_units",
                    {"hu_id", "status", "item_id", "unit", "qty_milli", "grade", "location_id",
                     "parent_hu_id", "holder", "out_milli", "created_seq"},
                    11,
                    1},
    [ENG_ROW_STOCK] = {"stock_balances",
                       {"item_id", "location_id", "status", "grade", "qty_milli"},
                       5,
                       4},
    [ENG_ROW_ORDER] = {"production_orders",
                       {"of_id", "state", "item_id", "unit", "planned_milli", "declared_milli"},
                       6,
                       1},
    [ENG_ROW_LOOM] = {"looms",
                      {"loom_id", "stopped", "stop_class", "stop_code", "since_seq", "of_id",
                       "first_piece_passed", "ground_beam_id", "pile_beam_id",
                       "ground_remaining_milli", "pile_remaining_milli"},
                      11,
                      1},
    [ENG_ROW_BEAM] = {"beams",
                      {"beam_id", "item_id", "loom_id", "position", "remaining_milli"},
                      5,
                      1},
    [ENG_ROW_RECORD] = {"records",
                        {"kind", "record_id", "state", "subject", "count", "since_seq"},
                        6,
                        2},
    [ENG_ROW_SUBLOT] = {"subcontract_lots",
                        {"sublot_id", "state", "sub_id", "item_id", "unit", "location_id",
                         "sent_milli", "good_milli", "rejected_milli", "lost_milli",
                         "allowance_milli", "out_milli"},
                        12,
                        1},
    [ENG_ROW_LINK] = {"genealogy_links", {"from_id", "to_id", "kind", "seq"}, 4, 2},
    [ENG_ROW_ARTICLE] = {"articles",
                         {"item_id", "cutting_tolerance_permille",
                          "overproduction_allowed_permille", "first_piece_required"},
                         4,
                         1},
};

const pg_table_t *prj__pg_table(eng_row_kind_t kind)
{
    return kind >= ENG_ROW_HU && kind < ENG_ROW_KINDS ? &tables[kind] : NULL;
}

static const char *opt(const char *text)
{
    return text[0] != '\0' ? text : NULL; /* "" (none) is NULL in SQL */
}

static const char *num(pg_values_t *v, int64_t value)
{
    char *out = v->numbers[v->numbers_used++];
    snprintf(out, sizeof(v->numbers[0]), "%lld", (long long)value);
    return out;
}

static const char *boolean(bool value)
{
    return value ? "t" : "f";
}

static void hu_values(const eng_row_t *row, pg_values_t *v, const char **c)
{
    const eng_hu_view_t *hu = &row->hu;
    c[0] = row->id, c[1] = hu->status, c[2] = hu->item, c[3] = hu->unit;
    c[4] = num(v, hu->qty_milli), c[5] = opt(prj__grade_name(hu->grade));
    c[6] = hu->location, c[7] = opt(hu->parent), c[8] = opt(hu->holder);
    c[9] = num(v, hu->out_milli), c[10] = num(v, (int64_t)hu->created_seq);
}

static void loom_values(const eng_row_t *row, pg_values_t *v, const char **c)
{
    const eng_loom_view_t *loom = &row->loom;
    c[0] = row->id, c[1] = boolean(loom->stopped), c[2] = opt(loom->stop_class);
    c[3] = opt(loom->stop_code), c[4] = loom->since_seq ? num(v, (int64_t)loom->since_seq) : NULL;
    c[5] = opt(loom->order), c[6] = boolean(loom->first_piece_passed);
    c[7] = opt(loom->beams[0]), c[8] = opt(loom->beams[1]);
    c[9] = loom->beams[0][0] ? num(v, loom->beam_remaining_milli[0]) : NULL;
    c[10] = loom->beams[1][0] ? num(v, loom->beam_remaining_milli[1]) : NULL;
}

static void sublot_values(const eng_row_t *row, pg_values_t *v, const char **c)
{
    const eng_sublot_view_t *lot = &row->sublot;
    c[0] = row->id, c[1] = lot->state, c[2] = lot->sub, c[3] = lot->item, c[4] = lot->unit;
    c[5] = opt(lot->location), c[6] = num(v, lot->sent_milli), c[7] = num(v, lot->good_milli);
    c[8] = num(v, lot->rejected_milli), c[9] = num(v, lot->lost_milli);
    c[10] = num(v, lot->allowance_milli), c[11] = num(v, lot->out_milli);
}

void prj__pg_row_values(const eng_row_t *row, pg_values_t *v)
{
    const char **c = v->values;
    v->numbers_used = 0;
    switch (row->kind) {
    case ENG_ROW_HU:
        hu_values(row, v, c);
        break;
    case ENG_ROW_STOCK:
        c[0] = row->stock.item, c[1] = row->stock.location, c[2] = row->stock.status;
        c[3] = prj__grade_name(row->stock.grade), c[4] = num(v, row->stock.qty_milli);
        break;
    case ENG_ROW_ORDER:
        c[0] = row->id, c[1] = row->order.state, c[2] = row->order.item, c[3] = row->order.unit;
        c[4] = num(v, row->order.planned_milli), c[5] = num(v, row->order.declared_milli);
        break;
    case ENG_ROW_LOOM:
        loom_values(row, v, c);
        break;
    case ENG_ROW_BEAM:
        c[0] = row->id, c[1] = row->beam.item, c[2] = opt(row->beam.loom);
        c[3] = row->beam.position, c[4] = num(v, row->beam.remaining_milli);
        break;
    case ENG_ROW_RECORD:
        c[0] = row->kind_name, c[1] = row->id, c[2] = row->record.state;
        c[3] = opt(row->record.subject), c[4] = num(v, row->record.count);
        c[5] = row->record.since_seq ? num(v, (int64_t)row->record.since_seq) : NULL;
        break;
    case ENG_ROW_SUBLOT:
        sublot_values(row, v, c);
        break;
    case ENG_ROW_LINK:
        c[0] = row->link.from, c[1] = row->link.to, c[2] = row->link.kind;
        c[3] = num(v, (int64_t)row->link.seq);
        break;
    default:
        c[0] = row->id, c[1] = num(v, row->article.cutting_tolerance_permille);
        c[2] = num(v, row->article.overproduction_allowed_permille);
        c[3] = boolean(row->article.first_piece_required);
    }
}

const char *const prj__pg_event_columns[PG_EVENT_COLUMNS] = {
    "seq",         "event_id",    "type",       "schema_version", "stream",       "stream_version",
    "occurred_at", "recorded_at", "actor_user", "actor_role",     "actor_device", "payload"};

static const char *timestamp(pg_values_t *v, int64_t us)
{
    char *out = v->numbers[v->numbers_used++];
    time_t seconds = (time_t)(us / 1000000);
    long micro = (long)(us % 1000000);
    if (micro < 0) {
        micro += 1000000;
        seconds--;
    }
    struct tm tm;
    gmtime_r(&seconds, &tm);
    size_t len = strftime(out, sizeof(v->numbers[0]), "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out + len, sizeof(v->numbers[0]) - len, ".%06ld+00", micro);
    return out;
}

void prj__pg_event_values(const prj_batch_t *batch, const prj_event_t *event, pg_values_t *v)
{
    const char **c = v->values;
    v->numbers_used = 0;
    c[0] = num(v, (int64_t)event->seq), c[1] = event->id, c[2] = event->type;
    c[3] = num(v, event->schema_version), c[4] = event->stream;
    c[5] = num(v, (int64_t)event->stream_version), c[6] = timestamp(v, event->occurred_at_us);
    c[7] = timestamp(v, event->recorded_at_us), c[8] = event->actor_user;
    c[9] = event->actor_role, c[10] = event->actor_device;
    c[11] = batch->text + event->payload_at;
}
