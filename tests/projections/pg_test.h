/*
 * pg_test.h: what the tests that read a PostgreSQL projection share - a connection to the
 * server tests/support/servers.sh started, numbers read with SQL, and a schema's tables as the
 * lines ledger_state makes of the ledger's own rows, so that "the projection equals the ledger"
 * is one comparison wherever the projector ran (in the test, in fouta-project, in foutad).
 */
#ifndef FL_TESTS_PROJECTIONS_PG_TEST_H
#define FL_TESTS_PROJECTIONS_PG_TEST_H

#include "tests/projections/projections_test.h"

#include <libpq-fe.h>

/* The server's notices (a DROP ... IF EXISTS of nothing) would only clutter the output. */
static inline void pg_quiet(void *data, const char *message)
{
    (void)data;
    (void)message;
}

/* A connection to FL_TEST_PG_URL, notices silenced. */
static inline PGconn *pg_connect_test(void)
{
    PGconn *db = PQconnectdb(env_or_skip("FL_TEST_PG_URL"));
    cr_assert_eq(PQstatus(db), CONNECTION_OK, "%s", PQerrorMessage(db));
    PQsetNoticeProcessor(db, pg_quiet, NULL);
    return db;
}

static inline void pg_sql_ok(PGconn *db, const char *sql)
{
    PGresult *res = PQexec(db, sql);
    ExecStatusType status = PQresultStatus(res);
    char error[512];
    snprintf(error, sizeof(error), "%s", PQresultErrorMessage(res));
    PQclear(res);
    cr_assert(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK, "%s: %s", sql, error);
}

/* The first column of the first row as a number (0 for no row or NULL). */
static inline uint64_t pg_vnumber(PGconn *db, const char *format, va_list args)
{
    char sql[1024];
    vsnprintf(sql, sizeof(sql), format, args);
    PGresult *res = PQexec(db, sql);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(res));
    uint64_t value = PQntuples(res) == 0 || PQgetisnull(res, 0, 0)
                         ? 0
                         : strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return value;
}

static inline uint64_t pg_number(PGconn *db, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    uint64_t value = pg_vnumber(db, format, args);
    va_end(args);
    return value;
}

/* Adds each row of a query's one text column to state. */
static inline void pg_lines(PGconn *db, const char *sql, state_t *state)
{
    PGresult *res = PQexec(db, sql);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    for (int i = 0; i < PQntuples(res); i++)
        state_add(state, PQgetvalue(res, i, 0));
    PQclear(res);
}

/* Each table of schema as the lines row_line makes of the ledger's rows. */
static inline void pg_state(PGconn *db, const char *schema, state_t *state)
{
    static const char *const queries[] = {
        "SELECT 'hu ' || hu_id || '=' || concat_ws('|', status, item_id, unit, qty_milli,"
        " coalesce(grade, ''), location_id, coalesce(parent_hu_id, ''), coalesce(holder, ''),"
        " out_milli, created_seq) FROM %s.handling_units",
        "SELECT 'stock ' || concat_ws('|', item_id, location_id, status, grade) || '=' ||"
        " qty_milli FROM %s.stock_balances",
        "SELECT 'order ' || of_id || '=' || concat_ws('|', state, item_id, unit, planned_milli,"
        " declared_milli) FROM %s.production_orders",
        "SELECT 'loom ' || loom_id || '=' || concat_ws('|', stopped::int, coalesce(stop_code, ''),"
        " coalesce(of_id, ''), coalesce(ground_beam_id, ''), coalesce(pile_beam_id, ''),"
        " first_piece_passed::int, coalesce(since_seq, 0)) FROM %s.looms",
        "SELECT 'beam ' || beam_id || '=' || concat_ws('|', item_id, coalesce(loom_id, ''),"
        " position, remaining_milli) FROM %s.beams",
        "SELECT 'record ' || kind || ':' || record_id || '=' || concat_ws('|', state,"
        " coalesce(subject, ''), count, coalesce(since_seq, 0)) FROM %s.records",
        "SELECT 'sublot ' || sublot_id || '=' || concat_ws('|', state, sub_id, item_id,"
        " out_milli) FROM %s.subcontract_lots",
        "SELECT 'link ' || from_id || '>' || to_id || '=' || kind || '|' || seq"
        " FROM %s.genealogy_links",
        "SELECT 'article ' || item_id || '=' || concat_ws('|', cutting_tolerance_permille,"
        " overproduction_allowed_permille, first_piece_required::int) FROM %s.articles",
    };
    for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
        char sql[1024];
        snprintf(sql, sizeof(sql), queries[q], schema);
        pg_lines(db, sql, state);
    }
}

/* Every table of schema equals the ledger's state; the events table holds each seq once,
 * 1..head, and the checkpoint is the head. */
static inline void pg_assert_equals_ledger(PGconn *db, const char *schema)
{
    state_t expected, actual;
    state_init(&expected);
    state_init(&actual);
    ledger_state(&expected, ~0u);
    pg_state(db, schema, &actual);
    state_assert_equal(&expected, &actual, "postgres");
    state_free(&expected);
    state_free(&actual);
    uint64_t head = head_seq();
    cr_assert_eq(pg_number(db, "SELECT count(*) FROM %s.events", schema), head);
    cr_assert_eq(pg_number(db, "SELECT count(DISTINCT seq) FROM %s.events", schema), head);
    cr_assert_eq(pg_number(db, "SELECT max(seq) FROM %s.events", schema), head);
    cr_assert_eq(pg_number(db,
                           "SELECT seq FROM %s.projector_checkpoints WHERE projector = 'postgres'",
                           schema),
                 head);
}

/* ---- exactly once: a trigger counts each committed insert of an event */

/* From now on each insert of a seq into schema's events that commits is counted in
 * schema.applied, even one that ON CONFLICT turns into nothing (the trigger runs before the
 * conflict is found): an event applied twice shows as times 2. */
static inline void pg_count_applications(PGconn *db, const char *schema)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE %s.applied (seq bigint PRIMARY KEY, times integer NOT NULL);"
             "CREATE FUNCTION %s.count_applied() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
             " INSERT INTO %s.applied VALUES (NEW.seq, 1) ON CONFLICT (seq) DO UPDATE"
             " SET times = applied.times + 1; RETURN NEW; END $$;"
             "CREATE TRIGGER count_applied BEFORE INSERT ON %s.events FOR EACH ROW"
             " EXECUTE FUNCTION %s.count_applied()",
             schema, schema, schema, schema, schema);
    pg_sql_ok(db, sql);
}

/* Each seq 1..head was applied by exactly one committed transaction. */
static inline void pg_assert_applied_once(PGconn *db, const char *schema)
{
    cr_assert_eq(pg_number(db, "SELECT count(*) FROM %s.applied", schema), head_seq());
    cr_assert_eq(pg_number(db, "SELECT count(*) FROM %s.applied WHERE times <> 1", schema), 0,
                 "an event was applied twice");
}

#endif
