/*
 * The KPIs and the planning board through foutad: a simulated plant's two days posted through
 * the API (fouta-sim, each event as its role's user), then GET /api/v1/kpis by loom and by
 * shift, in JSON and CSV, and GET /api/v1/planning answer byte for byte what reporting/ computes
 * on the same ledger once foutad has stopped (test_reporting proves those figures against a
 * hand-computed day); the desk, quality and the mechanics read them (test_security: the others
 * may not); a bad period or slicing is refused with its field.
 */
#include "tests/api/client.h"

#include "engine/engine.h"
#include "reporting/reporting.h"

TestSuite(reports, .timeout = 120);

#define DAY_US  (24LL * 3600 * 1000000)
#define FROM_US 1772409600000000LL /* the simulator's first day, 2026-03-02 */
#define TO_US   (FROM_US + 3 * DAY_US)
#define AT_US   (FROM_US + 2 * DAY_US)

static char *http_get(int port, const char *role, const char *path, const char *accept)
{
    char headers[1600];
    snprintf(headers, sizeof(headers), "%s%s", AUTH(role), accept);
    client_t c;
    response_t r;
    client_open(&c, port);
    client_request(&c, "GET", path, headers, NULL, &r);
    client_close(&c);
    cr_assert_eq(r.status, 200, "%s: %d %s", path, r.status, r.body);
    return r.body; /* the caller frees */
}

static int http_status(int port, const char *path, char *field, size_t size)
{
    client_t c;
    response_t r;
    client_open(&c, port);
    client_request(&c, "GET", path, "", NULL, &r);
    client_close(&c);
    json_text(r.body, "field", field, size);
    int status = r.status;
    response_free(&r);
    return status;
}

static char *library_report(eng_ledger_t *ledger, rep_by_t by, bool csv)
{
    rep_query_t query = {.from_us = FROM_US, .to_us = TO_US, .by = by, .now_us = TO_US};
    rep_report_t *report;
    cr_assert_eq(rep_report_run(ledger, &query, &report), 0);
    char *text;
    size_t len;
    cr_assert_eq(csv ? rep_report_csv(report, &text, &len) : rep_report_json(report, &text, &len),
                 0);
    rep_report_free(report);
    return text;
}

Test(reports, the_kpis_and_the_planning_over_http_are_what_reporting_computes_on_the_ledger)
{
    server_t server = {0};
    server_start(&server);
    char command[1024];
    snprintf(command, sizeof(command),
             "%s --seed 3 --looms 4 --days 2 --post http://127.0.0.1:%d --connections 2 "
             ">/dev/null 2>&1",
             FOUTA_SIM, server.port);
    cr_assert_eq(system(command), 0, "fouta-sim posted every event");
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/kpis?from=%lld&to=%lld&by=loom", FROM_US, TO_US);
    char *by_loom = http_get(server.port, "quality", path, "");
    snprintf(path, sizeof(path), "/api/v1/kpis?from=2026-03-02&to=%lld&by=shift&format=csv", TO_US);
    char *by_shift_csv = http_get(server.port, "manager", path, "");
    snprintf(path, sizeof(path), "/api/v1/planning?at=%lld", AT_US);
    char *planning = http_get(server.port, "mechanic", path, "");
    char field[64];
    cr_assert_eq(http_status(server.port, "/api/v1/kpis?by=colour", field, sizeof(field)), 400);
    cr_assert_str_eq(field, "query:by");
    cr_assert_eq(http_status(server.port, "/api/v1/kpis?from=2026-03-05&to=2026-03-02", field,
                             sizeof(field)),
                 400);
    cr_assert_str_eq(field, "query:from");
    cr_assert_eq(http_status(server.port, "/api/v1/planning?at=yesterday", field, sizeof(field)),
                 400);
    cr_assert_str_eq(field, "query:at");
    cr_assert_eq(server_stop_keep(&server), 0);

    /* The same ledger, read by the library. */
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/data/tenants/" TEST_TENANT "/ledger", server.dir);
    eng_config_t config = {.dir = dir, .rules = ENG_RULES_PLANT};
    eng_ledger_t *ledger;
    cr_assert_eq(eng_open(&ledger, &config), 0);
    char *expected = library_report(ledger, REP_BY_LOOM, false);
    cr_assert(strstr(expected, "\"L001\"") != NULL, "four looms sliced: %.300s", expected);
    cr_assert_str_eq(by_loom, expected);
    free(expected);
    expected = library_report(ledger, REP_BY_SHIFT, true);
    cr_assert_str_eq(by_shift_csv, expected);
    free(expected);
    rep_planning_t *board;
    cr_assert_eq(rep_planning_run(ledger, AT_US, &board), 0);
    size_t len;
    cr_assert_eq(rep_planning_json(board, &expected, &len), 0);
    rep_planning_free(board);
    cr_assert_str_eq(planning, expected);
    free(expected);
    eng_close(ledger);
    free(by_loom);
    free(by_shift_csv);
    free(planning);
    server_stop(&server);
}
