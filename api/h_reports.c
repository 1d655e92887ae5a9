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
 * A report reads the log from its first event: it runs on libuv's thread pool (offload.c), so
 * the loop keeps serving while a month of a 200-loom plant is computed (docs/reporting.md).
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

/* A report to compute off the loop thread, and what it made. */
typedef struct {
    eng_ledger_t *ledger;
    bool planning, csv;
    rep_query_t query; /* kpis */
    int64_t at_us;     /* planning */
    int rc;
    char *text;
    size_t len;
} report_t;

static void report_run(void *data)
{
    report_t *r = data;
    if (r->planning) {
        rep_planning_t *planning;
        r->rc = rep_planning_run(r->ledger, r->at_us, &planning);
        if (r->rc == 0) {
            r->rc = r->csv ? rep_planning_csv(planning, &r->text, &r->len)
                           : rep_planning_json(planning, &r->text, &r->len);
            rep_planning_free(planning);
        }
        return;
    }
    rep_report_t *report;
    r->rc = rep_report_run(r->ledger, &r->query, &report);
    if (r->rc == 0) {
        r->rc = r->csv ? rep_report_csv(report, &r->text, &r->len)
                       : rep_report_json(report, &r->text, &r->len);
        rep_report_free(report);
    }
}

/* Answers text made by reporting/: CSV as it is, JSON through the negotiation. */
static void report_done(api_conn_t *conn, void *data)
{
    report_t *r = data;
    if (conn == NULL) {
        /* nothing to answer */
    } else if (r->rc != 0) {
        api_problem(conn, r->rc, "", r->rc == FL_EBUSY ? "too many readers, retry" : "", "");
    } else if (r->csv) {
        api_respond(conn, 200, "text/csv; charset=utf-8", "", r->text, r->len);
    } else {
        api_buf_t body = {.data = r->text, .len = r->len, .cap = r->len};
        api_respond_json(conn, 200, "", &body);
    }
    free(r->text);
    free(r);
}

static api_handled_t report_queue(api_conn_t *conn, const report_t *report)
{
    report_t *r = malloc(sizeof(*r));
    if (r == NULL) {
        api_problem(conn, FL_ENOMEM, "", "", "");
        return API_DONE;
    }
    *r = *report;
    r->ledger = ledger_of(conn);
    r->csv = wants_csv(conn);
    return api_offload(conn, r, report_run, report_done);
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
    report_t report = {
        .query = {.from_us = from, .to_us = to, .by = by, .now_us = now < to ? now : to}};
    return report_queue(conn, &report);
}

api_handled_t api_h_planning(api_conn_t *conn)
{
    report_t report = {.planning = true};
    if (time_param(conn, "at", now_us(), &report.at_us) != 0) {
        api_problem(conn, FL_EINVAL, "query:at", "a time in microseconds or a UTC date", "");
        return API_DONE;
    }
    return report_queue(conn, &report);
}
