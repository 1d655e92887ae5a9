/*
 * h_reports.c: the plant's KPIs over a period and the planning board, computed by reporting/
 * from the tenant's embedded ledger (no PostgreSQL needed), as JSON (or msgpack) and CSV.
 *
 *   GET /api/v1/kpis?from=&to=&by=loom|shift|weaver|article|order|beam|subcontractor
 *   GET /api/v1/planning?at=
 *
 * from, to and at are microseconds since the epoch or UTC dates ("2026-03-02",
 * "2026-03-02T06:00:00Z"); the period is [from, to), by default the last 7 days up to now.
 * CSV with "Accept: text/csv" or "?format=csv". docs/reporting.md gives every figure's formula.
 * A report reads the log in the loop thread: a month of a 200-loom plant is measured in
 * docs/reporting.md.
 */
#include "api/api_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reporting/reporting.h"

#define REPORT_DEFAULT_US (7LL * 24 * 3600 * 1000000)

/* The ledger of the request's tenant, as the other handlers take it (h_floor.c): the one line
 * that follows where the server keeps it. */
static eng_ledger_t *ledger_of(api_conn_t *conn)
{
    return conn->tenant->ledger;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* A time parameter: 0 and *out (def when absent), or FL_EINVAL. */
static int time_param(api_conn_t *conn, const char *name, int64_t def, int64_t *out)
{
    const char *text = api_query_get(&conn->req, name);
    *out = def;
    if (text == NULL || *text == '\0')
        return 0;
    char *end;
    long long number = strtoll(text, &end, 10);
    if (*end == '\0' && end - text > 8) {
        *out = number;
        return 0;
    }
    int y, mo, d, h = 0, mi = 0, s = 0, used = 0;
    if (sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3)
        return FL_EINVAL;
    if (text[used] == 'T' && sscanf(text + used, "T%2d:%2d:%2d%*[Z]", &h, &mi, &s) < 3)
        return FL_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return FL_EINVAL;
    *out = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 * 1000000LL + s * 1000000LL;
    return 0;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool wants_csv(api_conn_t *conn)
{
    const char *format = api_query_get(&conn->req, "format");
    if (format != NULL)
        return strcmp(format, "csv") == 0;
    return strstr(conn->req.accept, "text/csv") != NULL;
}

/* Answers text made by reporting/ (malloc'd): CSV as it is, JSON through the negotiation. */
static void respond_text(api_conn_t *conn, bool csv, char *text, size_t len)
{
    if (csv) {
        api_respond(conn, 200, "text/csv; charset=utf-8", "", text, len);
    } else {
        api_buf_t body = {.data = text, .len = len, .cap = len};
        api_respond_json(conn, 200, "", &body);
    }
    free(text);
}

static void report_failed(api_conn_t *conn, int rc)
{
    api_problem(conn, rc, "", rc == FL_EBUSY ? "too many readers, retry" : "", "");
}

api_handled_t api_h_kpis(api_conn_t *conn)
{
    int64_t now = now_us(), from, to;
    if (time_param(conn, "to", now, &to) != 0) {
        api_problem(conn, FL_EINVAL, "query:to", "a time in microseconds or a UTC date", "");
        return API_DONE;
    }
    if (time_param(conn, "from", to - REPORT_DEFAULT_US, &from) != 0 || from >= to) {
        api_problem(conn, FL_EINVAL, "query:from",
                    "a time in microseconds or a UTC date, before to", "");
        return API_DONE;
    }
    const char *by_text = api_query_get(&conn->req, "by");
    rep_by_t by = by_text == NULL ? REP_BY_TOTAL : rep_by_parse(by_text);
    if (by == REP_BY_COUNT) {
        api_problem(conn, FL_EINVALID_VALUE, "query:by",
                    "one of loom, shift, weaver, article, order, beam, subcontractor, total", "");
        return API_DONE;
    }
    rep_query_t query = {.from_us = from, .to_us = to, .by = by, .now_us = now < to ? now : to};
    rep_report_t *report;
    int rc = rep_report_run(ledger_of(conn), &query, &report);
    if (rc != 0) {
        report_failed(conn, rc);
        return API_DONE;
    }
    bool csv = wants_csv(conn);
    char *text;
    size_t len;
    rc = csv ? rep_report_csv(report, &text, &len) : rep_report_json(report, &text, &len);
    rep_report_free(report);
    if (rc != 0) {
        report_failed(conn, rc);
        return API_DONE;
    }
    respond_text(conn, csv, text, len);
    return API_DONE;
}

api_handled_t api_h_planning(api_conn_t *conn)
{
    int64_t at;
    if (time_param(conn, "at", now_us(), &at) != 0) {
        api_problem(conn, FL_EINVAL, "query:at", "a time in microseconds or a UTC date", "");
        return API_DONE;
    }
    rep_planning_t *planning;
    int rc = rep_planning_run(ledger_of(conn), at, &planning);
    if (rc != 0) {
        report_failed(conn, rc);
        return API_DONE;
    }
    bool csv = wants_csv(conn);
    char *text;
    size_t len;
    rc = csv ? rep_planning_csv(planning, &text, &len) : rep_planning_json(planning, &text, &len);
    rep_planning_free(planning);
    if (rc != 0) {
        report_failed(conn, rc);
        return API_DONE;
    }
    respond_text(conn, csv, text, len);
    return API_DONE;
}
