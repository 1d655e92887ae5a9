/*
 * The PostgreSQL projection against a real PostgreSQL 15 (tests/support/servers.sh): after a
 * day of the plant every table equals the ledger's own state; a projector killed mid-way applies
 * each event exactly once; a database stopped under load refuses no append and is caught up; a
 * row the database refuses becomes a dead letter; a rebuild swaps in equal tables. Faults: a
 * server that answers nothing (SIGSTOP), a table locked by someone else and connections killed
 * are each a timeout or an error, then a reconnect, never a hang, and every event is applied once;
 * a projector stops promptly while its server answers nothing.
 */
#include "tests/projections/pg_test.h"

#define FAULT_IO_TIMEOUT_MS 1000 /* the projector's io_timeout_ms in the fault tests */

static PGconn *db;
static char tenant[PRJ_TENANT_LEN_MAX + 1];
static char schema[PRJ_TENANT_LEN_MAX + 8];
static bool paused; /* the test paused the server: teardown resumes it, even after a failure */
static pid_t stopped_backend; /* one backend the test stopped, likewise */

static void pg_setup(void)
{
    servers_take(false);
    projections_setup();
    db = pg_connect_test();
    /* A tenant of its own: tests may run side by side on the same server. */
    snprintf(tenant, sizeof(tenant), "t%d_%ld", (int)getpid(), (long)time(NULL) % 100000);
    snprintf(schema, sizeof(schema), "fouta_%s", tenant);
}

static void pg_teardown(void)
{
    if (paused)
        servers("pg-resume");
    if (stopped_backend != 0)
        kill(stopped_backend, SIGCONT);
    char sql[256];
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", schema);
    PQclear(PQexec(db, sql));
    PQfinish(db);
    teardown();
}

TestSuite(pg, .init = pg_setup, .fini = pg_teardown, .timeout = 120);

static void sql_ok(const char *sql)
{
    pg_sql_ok(db, sql);
}

static uint64_t sql_number(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    uint64_t value = pg_vnumber(db, format, args);
    va_end(args);
    return value;
}

static void assert_pg_equals_ledger(void)
{
    pg_assert_equals_ledger(db, schema);
}

static prj_sink_t *sink_open(void)
{
    prj_sink_t *sink = NULL;
    cr_assert_eq(prj_pg_sink_open(&sink, env_or_skip("FL_TEST_PG_URL"), tenant), 0);
    return sink;
}

Test(pg, after_a_plant_day_every_table_equals_the_ledger_and_genealogy_walks_both_ways)
{
    prj_sink_t *sink = sink_open();
    prj_projector_t *projector = projector_start(sink, "postgres", 7, PRJ_POISON_SKIP);
    the_plant_works_a_day();
    caught_up(projector, 30000);
    assert_pg_equals_ledger();
    prj_status_t status;
    prj_status(projector, &status);
    cr_assert_eq(status.state, PRJ_STATE_RUNNING);
    cr_assert_eq(status.lag_events, 0);
    cr_assert_gt(status.batches, 1);
    /* The payload is jsonb a BI user can query. */
    cr_assert_eq(sql_number("SELECT count(*) FROM %s.events WHERE type = 'CuttingDeclared'"
                            " AND payload->>'input_hu_id' IN ('R1', 'R2')",
                            schema),
                 2);
    /* The pallet leads back to the warp lot, and the lot forward to the pallet. */
    cr_assert_eq(sql_number("SELECT count(*) FROM %s.genealogy('hu-P1')"
                            " WHERE from_id = 'hu-Y-WARP' AND to_id = 'beam-BM1'",
                            schema),
                 1);
    cr_assert_eq(sql_number("SELECT count(*) FROM %s.genealogy('hu-Y-WARP', 'forward')"
                            " WHERE from_id = 'hu-C1' AND to_id = 'hu-P1'",
                            schema),
                 1);
    cr_assert_eq(sql_number("SELECT count(*) FROM %s.interventions", schema), 0);
    /* 1: the events and the plant's state; 2 and 3: the KPI views and functions (reporting). */
    cr_assert_eq(sql_number("SELECT max(version) FROM %s.schema_migrations", schema), 3);
    prj_stop(projector);
    prj_sink_close(sink);
}

/* ---- exactly once: a trigger counts each committed insert of an event */

static void count_applications(void)
{
    pg_count_applications(db, schema);
}

Test(pg, a_projector_killed_mid_projection_and_restarted_applies_every_event_once)
{
    prj_sink_t *sink = sink_open();
    prj_projector_t *projector = projector_start(sink, "postgres", 5, PRJ_POISON_SKIP);
    connected(projector); /* the schema exists */
    prj_stop(projector);
    count_applications();
    the_plant_works_a_day();
    for (unsigned i = 0; i < 300; i++)
        load_post(i);
    uint64_t head = head_seq();
    eng_close(ledger);
    pid_t child = project_in_child("--pg", env_or_skip("FL_TEST_PG_URL"), tenant, "5");
    uint64_t at = 0;
    for (int tries = 0; tries < 2000 && at < head / 3; tries++) {
        wait_ms(5);
        at = sql_number("SELECT seq FROM %s.projector_checkpoints WHERE projector = 'postgres'",
                        schema);
    }
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    cr_assert(WIFSIGNALED(status), "the child ended by itself: %d", status);
    at =
        sql_number("SELECT seq FROM %s.projector_checkpoints WHERE projector = 'postgres'", schema);
    cr_assert(at > 0 && at < head, "killed at %llu of %llu", (unsigned long long)at,
              (unsigned long long)head);
    cr_assert_eq(sql_number("SELECT max(seq) FROM %s.events", schema), at,
                 "the batch and its"
                 " checkpoint commit together");
    ledger_open();
    projector = projector_start(sink, "postgres", 50, PRJ_POISON_SKIP);
    caught_up(projector, 30000);
    prj_stop(projector);
    assert_pg_equals_ledger();
    cr_assert_eq(head_seq(), head);
    pg_assert_applied_once(db, schema);
    prj_sink_close(sink);
}

/* ---- the database stops under load */

Test(pg, postgres_stopped_under_load_refuses_no_append_and_is_caught_up_to_a_rebuild)
{
    servers_take(true);
    prj_sink_t *sink = sink_open();
    prj_projector_t *projector = projector_start(sink, "postgres", 100, PRJ_POISON_SKIP);
    the_plant_works_a_day();
    caught_up(projector, 30000);
    load_t load;
    load_start(&load, 600);
    wait_ms(300);
    servers("pg-stop");
    wait_ms(1500);
    prj_status_t status;
    prj_status(projector, &status);
    cr_assert_eq(status.state, PRJ_STATE_FAULTED, "%s", prj_state_name(status.state));
    cr_assert_gt(status.lag_events, 0);
    servers("pg-start");
    PQreset(db);
    load_join(&load);
    cr_assert_lt(load.slowest_us, 1000000, "an append waited for the database");
    caught_up(projector, 60000);
    assert_pg_equals_ledger();
    prj_status(projector, &status);
    cr_assert_gt(status.retries, 0);
    /* The same as a full rebuild of it. */
    state_t before, after;
    state_init(&before);
    state_init(&after);
    pg_state(db, schema, &before);
    uint64_t events = 0;
    cr_assert_eq(prj_rebuild(projector, 30000, &events), 0);
    cr_assert_eq(events, head_seq());
    pg_state(db, schema, &after);
    state_assert_equal(&before, &after, "rebuilt");
    state_free(&before);
    state_free(&after);
    assert_pg_equals_ledger();
    prj_stop(projector);
    prj_sink_close(sink);
}

/* ---- a server that answers nothing, a lock held, connections killed */

static void assert_applied_once(void)
{
    pg_assert_applied_once(db, schema);
}

/* The postmaster and every backend stopped (SIGSTOP): connections are taken by the kernel and
 * nothing answers - what a hung host or a frozen VM looks like. */
static void pg_pause(void)
{
    paused = true;
    servers("pg-pause");
}

static void pg_resume(void)
{
    servers("pg-resume");
    paused = false;
}

/* A fault test's start: the servers taken, a projector (batch, io_timeout_ms; 0: the default)
 * connected, each application of an event counted, and a day of the plant posted. */
static void pg_fault_begin(fault_scenario_t *s, uint32_t batch, uint32_t io_timeout_ms)
{
    servers_take(true);
    s->sink = sink_open();
    s->projector = projector_start_timeout(s->sink, "postgres", batch, io_timeout_ms);
    connected(s->projector);
    count_applications();
    the_plant_works_a_day();
}

/* Every table equals the ledger's state, and each event was applied once. */
static void assert_pg_applied_once(void)
{
    assert_pg_equals_ledger();
    assert_applied_once();
}

Test(pg, a_stalled_postgres_times_out_reconnects_and_catches_up_exactly_once)
{
    fault_scenario_t s;
    pg_fault_begin(&s, 100, FAULT_IO_TIMEOUT_MS);
    caught_up(s.projector, 30000);
    load_start(&s.load, 600);
    wait_ms(200);
    pg_pause();
    assert_stall_times_out_and_retries(s.projector, "PostgreSQL did not answer within 1 s");
    pg_resume();
    load_join(&s.load);
    cr_assert_lt(s.load.slowest_us, 1000000, "an append waited for the database");
    caught_up(s.projector, 30000);
    assert_pg_applied_once();
    scenario_end(&s);
}

Test(pg, a_table_lock_held_by_another_session_is_a_timeout_not_a_hang)
{
    fault_scenario_t s;
    pg_fault_begin(&s, 100, FAULT_IO_TIMEOUT_MS);
    caught_up(s.projector, 30000);
    /* What a BI user may do: a lock taken in a transaction left open. */
    PGconn *bi = PQconnectdb(env_or_skip("FL_TEST_PG_URL"));
    cr_assert_eq(PQstatus(bi), CONNECTION_OK, "%s", PQerrorMessage(bi));
    char sql[256];
    snprintf(sql, sizeof(sql), "BEGIN; LOCK TABLE %s.events IN ACCESS EXCLUSIVE MODE", schema);
    PGresult *res = PQexec(bi, sql);
    cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
    PQclear(res);
    for (unsigned i = 0; i < 50; i++)
        load_post(i);
    uint32_t ms = faulted_with(s.projector, "lock timeout", 10000);
    cr_log_info("faulted %u ms after the appends", ms);
    prj_status_t status;
    prj_status(s.projector, &status);
    cr_assert_lt(status.checkpoint, head_seq());
    uint64_t retries = status.retries;
    wait_ms(1500); /* it keeps trying, each try bounded by the lock's timeout */
    prj_status(s.projector, &status);
    cr_assert_gt(status.retries, retries, "the projector hangs on the lock");
    cr_assert_lt(status.checkpoint, head_seq());
    res = PQexec(bi, "COMMIT");
    PQclear(res);
    PQfinish(bi);
    caught_up(s.projector, 30000);
    assert_pg_applied_once();
    scenario_end(&s);
}

static uint64_t terminate_projector_backends(void)
{
    return sql_number("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))"
                      " FROM pg_stat_activity WHERE application_name = 'fouta-projector'");
}

Test(pg, a_dropped_postgres_connection_reconnects_and_applies_each_event_once)
{
    fault_scenario_t s;
    pg_fault_begin(&s, 20, FAULT_IO_TIMEOUT_MS);
    load_start(&s.load, 600);
    uint64_t killed = kill_projector_six_times(terminate_projector_backends);
    load_join(&s.load);
    cr_assert_geq(killed, 3, "the projector's connection was killed %llu times",
                  (unsigned long long)killed);
    caught_up(s.projector, 30000);
    assert_pg_applied_once();
    assert_retried(s.projector);
    scenario_end(&s);
}

Test(pg, a_backend_given_up_mid_batch_is_ended_before_the_batch_is_applied_again)
{
    fault_scenario_t s;
    pg_fault_begin(&s, 100, FAULT_IO_TIMEOUT_MS);
    caught_up(s.projector, 30000);
    /* Only the projector's backend stops: the server takes new connections. The batch it is
     * sent stays in its socket, and would commit whenever it runs again - after a new
     * connection applied the same batch, unless the projector ends it first. */
    PGresult *res = PQexec(db, "SELECT pid FROM pg_stat_activity"
                               " WHERE application_name = 'fouta-projector'");
    cr_assert_eq(PQntuples(res), 1);
    stopped_backend = (pid_t)atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    cr_assert_eq(kill(stopped_backend, SIGSTOP), 0);
    for (unsigned i = 0; i < 20; i++)
        load_post(i);
    faulted_with(s.projector, "has not ended yet", 10000);
    prj_status_t status;
    prj_status(s.projector, &status);
    cr_assert_lt(status.checkpoint, head_seq(), "the batch was applied again");
    cr_assert_eq(kill(stopped_backend, SIGCONT), 0);
    stopped_backend = 0;
    caught_up(s.projector, 30000);
    assert_pg_applied_once();
    scenario_end(&s);
}

Test(pg, stopping_a_projector_while_postgres_is_stalled_returns_promptly)
{
    fault_scenario_t s;
    /* The default timeout (PRJ_IO_TIMEOUT_S): the stop must not wait for it. */
    pg_fault_begin(&s, 100, 0);
    caught_up(s.projector, 30000);
    pg_pause();
    for (unsigned i = 0; i < 20; i++)
        load_post(i);
    wait_ms(1000); /* the projector sent its batch and waits for an answer */
    prj_status_t status;
    prj_status(s.projector, &status);
    cr_assert_gt(status.lag_events, 0);
    uint32_t ms = stop_timed(s.projector);
    cr_log_info("stopped in %u ms", ms);
    cr_assert_lt(ms, 3000, "prj_stop took %u ms while PostgreSQL answered nothing", ms);
    pg_resume();
    /* The batch given up may still commit now: the next projector ends its backend before it
     * reads the checkpoint, and applies the rest once. */
    s.projector = projector_start(s.sink, "postgres", 100, PRJ_POISON_SKIP);
    caught_up(s.projector, 30000);
    assert_pg_applied_once();
    scenario_end(&s);
}

/* ---- dead letters */

Test(pg, an_event_the_database_refuses_is_a_dead_letter_and_the_projector_goes_on)
{
    prj_sink_t *sink = sink_open();
    prj_projector_t *projector = projector_start(sink, "postgres", 20, PRJ_POISON_SKIP);
    connected(projector);
    char sql[512];
    snprintf(sql, sizeof(sql),
             "ALTER TABLE %s.events ADD CONSTRAINT no_counts CHECK (type <> 'CountOpened')",
             schema);
    sql_ok(sql); /* what a DBA might do: the database now refuses that row */
    the_plant_works_a_day();
    caught_up(projector, 30000);
    uint64_t head = head_seq();
    cr_assert_eq(sql_number("SELECT count(*) FROM %s.dead_letters", schema), 1);
    cr_assert_eq(sql_number("SELECT count(*) FROM %s.dead_letters WHERE type = 'CountOpened'"
                            " AND error LIKE '%%no_counts%%'",
                            schema),
                 1);
    cr_assert_eq(sql_number("SELECT count(*) FROM %s.events", schema), head - 1);
    cr_assert_eq(sql_number("SELECT seq FROM %s.projector_checkpoints", schema), head);
    prj_status_t status;
    prj_status(projector, &status);
    cr_assert_eq(status.dead_letters, 1);
    prj_stop(projector);
    prj_sink_close(sink);
}

Test(pg, a_projector_set_to_pause_stops_at_a_dead_letter_until_resumed)
{
    prj_sink_t *sink = sink_open();
    prj_sink_reject_seq_for_tests(sink, 10);
    prj_projector_t *projector = projector_start(sink, "postgres", 20, PRJ_POISON_PAUSE);
    the_plant_works_a_day();
    cr_assert_eq(prj_wait_checkpoint(projector, 9, 20000), 0);
    wait_ms(500);
    prj_status_t status;
    prj_status(projector, &status);
    cr_assert_eq(status.checkpoint, 9);
    cr_assert(status.paused);
    cr_assert_eq(status.state, PRJ_STATE_FAULTED);
    cr_assert_eq(status.last_error, FL_ESINK_REJECTED);
    cr_assert_eq(sql_number("SELECT seq FROM %s.dead_letters", schema), 10);
    cr_assert_eq(sql_number("SELECT max(seq) FROM %s.events", schema), 9, "nothing of the batch");
    prj_sink_reject_seq_for_tests(sink, 0); /* repaired */
    prj_resume(projector);
    caught_up(projector, 30000);
    assert_pg_equals_ledger();
    prj_stop(projector);
    prj_sink_close(sink);
}

Test(pg, a_rebuild_while_appending_swaps_in_tables_equal_to_the_ledger)
{
    prj_sink_t *sink = sink_open();
    prj_projector_t *projector = projector_start(sink, "postgres", 50, PRJ_POISON_SKIP);
    the_plant_works_a_day();
    caught_up(projector, 30000);
    uint64_t indexes =
        sql_number("SELECT count(*) FROM pg_indexes WHERE schemaname = '%s'", schema);
    cr_assert_gt(indexes, 10);
    load_t load;
    load_start(&load, 300);
    wait_ms(100);
    uint64_t events = 0;
    cr_assert_eq(prj_rebuild(projector, 30000, &events), 0);
    cr_assert_gt(events, 0);
    cr_assert_eq(sql_number("SELECT count(*) FROM pg_indexes WHERE schemaname = '%s'", schema),
                 indexes, "the shadow's indexes, made after its load, are all there");
    load_join(&load);
    caught_up(projector, 30000);
    assert_pg_equals_ledger();
    prj_status_t status;
    prj_status(projector, &status);
    cr_assert_eq(status.rebuilds, 1);
    cr_assert_eq(
        sql_number("SELECT count(*) FROM pg_namespace WHERE nspname LIKE '%s\\_\\_%%'", schema), 0,
        "no shadow or old schema left");
    prj_stop(projector);
    prj_sink_close(sink);
}
