/*
 * h_audit.c: replay/ through the API - the reads an auditor, a quality manager or a storekeeper
 * closing a count asks for, which walk much of the log or replay it:
 *
 *   GET /api/v1/trace/{entity}?direction=down|up&depth=N&format=json|dot   recall picture
 *   GET /api/v1/recall?source=S&from_us=T&until_us=T&depth=N&format=json|dot
 *   GET /api/v1/counts/{count_id}/report?threshold_permille=P&format=json|csv
 *   GET /api/v1/stock?as_of_seq=N&...                       the stock as it was after event N
 *   GET /api/v1/verify                                      the hash chain, record by record
 *   GET /api/v1/export?from_seq=N&to_seq=M&format=ndjson|msgpack   the log, for fouta-replay import
 *
 * Each runs on libuv's thread pool (read transactions beside the writer, never the loop thread)
 * and writes into memory through the same functions as fouta-replay, so the API and the tool
 * answer alike; the connection waits as it waits for an append.
 *
 * The as-of snapshots are also made in the background: every --asof-snapshot-period-ms a pass
 * on the thread pool brings each tenant's up to its head, so that the first as-of read of a long
 * log does not make them all itself. The pass gives way to an as-of read or a count report
 * between two snapshots, and to a graceful stop.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replay/replay.h"

#define AUDIT_DEPTH_DEFAULT              32 /* pallet > carton > bundle > roll > beam > yarn is 5 */
#define AUDIT_DEPTH_MAX                  64
#define AUDIT_THRESHOLD_DEFAULT_PERMILLE 20
#define AUDIT_EXPORT_DEFAULT             10000u /* records of an export page when to_seq is not said */
#define AUDIT_EXPORT_MAX                 100000u /* records of one export request (about 60 MB) */

typedef enum {
    AUDIT_TRACE,
    AUDIT_RECALL,
    AUDIT_COUNT,
    AUDIT_ASOF,
    AUDIT_VERIFY,
    AUDIT_EXPORT
} audit_kind_t;

typedef struct {
    api_tenant_t *tenant;
    audit_kind_t kind;
    char subject[EV_NAME_LEN_MAX + 16];
    int direction;
    uint32_t depth;
    bool dot, csv;
    int64_t from_us, until_us, threshold_permille;
    uint64_t seq, to_seq, head; /* as of: seq; export: [seq, to_seq] of head */
    bool msgpack;               /* export */
    /* as of: the filter's texts are copied (the request's buffers are the loop thread's) */
    char item[EV_ID_LEN_MAX + 1], location[EV_ID_LEN_MAX + 1], status[16], group_by[64];
    eng_stock_filter_t filter;
    unsigned keys;
    char dir[1200]; /* the tenant's directory */
    /* results */
    int rc;
    char *out;
    size_t out_len;
    uint64_t checked, bad_seq, from_snapshot;
} audit_t;

/* As-of reads and count reports of every tenant take turns: each brings the snapshots up to
 * date first. The background pass holds the lock too, and stops between two snapshots while
 * asof_waiting is not zero: a read waiting for the lock, or a stop (which never takes its
 * count back). */
static pthread_mutex_t asof_lock = PTHREAD_MUTEX_INITIALIZER;
static int asof_waiting;

static void asof_lock_take(void)
{
    __atomic_add_fetch(&asof_waiting, 1, __ATOMIC_RELAXED);
    pthread_mutex_lock(&asof_lock);
    __atomic_sub_fetch(&asof_waiting, 1, __ATOMIC_RELAXED);
}

/* Removes what an as-of read killed midway left in tmp (as-of reads take turns: none is in
 * use while this runs). */
static void remove_leftovers(const char *tmp)
{
    DIR *dir = opendir(tmp);
    if (dir == NULL)
        return;
    char path[1500];
    for (struct dirent *entry; (entry = readdir(dir)) != NULL;)
        if (strncmp(entry->d_name, "asof.", 5) == 0) {
            int len = snprintf(path, sizeof(path), "%s/%s", tmp, entry->d_name);
            if (len > 0 && (size_t)len < sizeof(path))
                rpl_state_remove(path);
        }
    closedir(dir);
}

/* The stock after event w->seq: the nearest snapshot, replayed to seq without being changed
 * (rpl_asof_open; a scratch ledger when there is no snapshot below seq yet). The
 * snapshots are brought up to the head first (one every --asof-snapshot-every events), so an
 * as-of read costs at most that many events of replay once the first one has made them. */
/* Brings the tenant's snapshots up to the head, in snapdir; with asof_lock held. stop: see
 * rpl_snapshot_update. */
static int snapshots_update(api_tenant_t *tenant, const int *stop, char snapdir[1300])
{
    const api_config_t *config = &tenant->server->config;
    snprintf(snapdir, 1300, "%s/tenants/%s/snapshots", config->data_dir, tenant->name);
    if (mkdir(snapdir, 0700) != 0 && errno != EEXIST)
        return -errno;
    uint32_t made = 0;
    return rpl_snapshot_update(tenant->ledger, snapdir, config->asof_snapshot_every, stop, &made);
}

static int asof_stock(audit_t *w, api_buf_t *body)
{
    char snapdir[1300], tmp[1300], scratch[1320];
    snprintf(tmp, sizeof(tmp), "%s/tmp", w->dir);
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return -errno;
    remove_leftovers(tmp);
    int rc = snapshots_update(w->tenant, NULL, snapdir);
    if (rc != 0)
        return rc;
    snprintf(scratch, sizeof(scratch), "%s/asof.XXXXXX", tmp);
    if (mkdtemp(scratch) == NULL) /* ours, empty: rpl_asof_open fills it */
        return -errno;
    eng_ledger_t *asof = NULL;
    rc = rpl_asof_open(w->tenant->ledger, snapdir, w->seq, scratch, &asof, &w->from_snapshot);
    if (rc == 0)
        rc = api_stock_render(asof, &w->filter, w->keys,
                              w->group_by[0] != '\0' ? w->group_by : NULL, body);
    if (asof != NULL)
        eng_close(asof);
    rpl_state_remove(scratch);
    return rc;
}

static void run_work(void *data)
{
    audit_t *w = data;
    eng_ledger_t *ledger = w->tenant->ledger;
    if (w->kind == AUDIT_VERIFY) {
        w->rc = eng_verify(ledger, &w->checked, &w->bad_seq);
        return;
    }
    if (w->kind == AUDIT_ASOF) {
        api_buf_t body = {0};
        asof_lock_take();
        w->rc = asof_stock(w, &body);
        pthread_mutex_unlock(&asof_lock);
        w->out = body.data; /* handed over: freed in work_done */
        w->out_len = body.len;
        return;
    }
    FILE *out = open_memstream(&w->out, &w->out_len);
    if (out == NULL) {
        w->rc = FL_ENOMEM;
        return;
    }
    uint32_t seeds = 0;
    switch (w->kind) {
    case AUDIT_TRACE:
        w->rc = rpl_trace(ledger, w->subject, w->direction, w->depth, w->dot, out);
        break;
    case AUDIT_RECALL:
        w->rc =
            rpl_recall(ledger, w->subject, w->from_us, w->until_us, w->depth, w->dot, out, &seeds);
        break;
    case AUDIT_EXPORT: {
        uint64_t exported = 0;
        w->rc = rpl_export(ledger, w->seq, w->to_seq,
                           w->msgpack ? RPL_FORMAT_MSGPACK : RPL_FORMAT_NDJSON, out, &exported);
        if (w->rc == 0 && exported != w->to_seq - w->seq + 1)
            w->rc = FL_ECORRUPT; /* the log has no gap: a page holds every record asked */
        break;
    }
    case AUDIT_COUNT: {
        /* The book from the nearest snapshot: at most --asof-snapshot-every events replayed. */
        rpl_count_summary_t summary;
        char snapdir[1300];
        asof_lock_take();
        w->rc = snapshots_update(w->tenant, NULL, snapdir);
        if (w->rc == 0)
            w->rc = rpl_count_report(ledger, w->subject, w->threshold_permille, snapdir,
                                     w->csv ? NULL : out, w->csv ? out : NULL, &summary);
        pthread_mutex_unlock(&asof_lock);
        break;
    }
    default:
        break;
    }
    if (fclose(out) != 0 && w->rc == 0)
        w->rc = FL_ENOMEM;
}

static void respond(api_conn_t *conn, audit_t *w)
{
    if (w->kind == AUDIT_VERIFY) {
        api_buf_t body = {0};
        api_buf_printf(&body,
                       "{\"ok\":%s,\"checked\":%llu,\"bad_seq\":", w->rc == 0 ? "true" : "false",
                       (unsigned long long)w->checked);
        if (w->rc == 0)
            api_buf_str(&body, "null}");
        else
            api_buf_printf(&body, "%llu}", (unsigned long long)w->bad_seq);
        if (w->rc == 0 || w->rc == FL_ECORRUPT)
            api_respond_json(conn, 200, "Cache-Control: no-store\r\n", &body);
        else
            api_problem(conn, w->rc, "", "", "");
        api_buf_free(&body);
        return;
    }
    if (w->rc == FL_ENOENT && w->kind == AUDIT_COUNT) {
        api_problem_lookup(conn, w->rc, "path:count_id", "count session", w->subject);
    } else if (w->rc == FL_EINVAL && w->kind == AUDIT_ASOF) {
        api_stock_problem(conn, w->rc);
    } else if (w->rc == FL_EINVAL) {
        api_problem(conn, FL_EINVALID_VALUE,
                    w->kind == AUDIT_RECALL ? "query:source" : "path:entity",
                    "an entity name: kind-id, as hu-P1, loom-L3, beam-B2, of-OF1, sub-S1, "
                    "actor:USER",
                    "");
    } else if (w->rc != 0) {
        api_problem(conn, w->rc, "", "", "");
    } else if (w->kind == AUDIT_EXPORT) {
        char headers[160];
        int len = snprintf(headers, sizeof(headers),
                           "Cache-Control: no-store\r\nX-Export-Records: %llu\r\n",
                           (unsigned long long)(w->to_seq - w->seq + 1));
        if (w->to_seq < w->head)
            snprintf(headers + len, sizeof(headers) - (size_t)len, "X-Next-From-Seq: %llu\r\n",
                     (unsigned long long)(w->to_seq + 1));
        api_respond(conn, 200, w->msgpack ? "application/msgpack" : "application/x-ndjson", headers,
                    w->out, w->out_len);
    } else if (w->dot) {
        api_respond(conn, 200, "text/vnd.graphviz", "", w->out, w->out_len);
    } else if (w->csv) {
        api_respond(conn, 200, "text/csv; charset=utf-8", "", w->out, w->out_len);
    } else {
        api_buf_t body = {.data = w->out, .len = w->out_len, .cap = w->out_len};
        api_respond_json(conn, 200, "", &body); /* msgpack too, when asked */
    }
}

static void work_done(api_conn_t *conn, void *data)
{
    audit_t *w = data;
    if (conn != NULL)
        respond(conn, w);
    free(w->out);
    free(w);
}

static api_handled_t queue(api_conn_t *conn, audit_t *w)
{
    w->tenant = conn->tenant;
    snprintf(w->dir, sizeof(w->dir), "%s/tenants/%s", conn->server->config.data_dir,
             conn->tenant->name);
    return api_offload(conn, w, run_work, work_done);
}

/* A new request of kind, or NULL when memory ran out (answered). */
static audit_t *audit_new(api_conn_t *conn, audit_kind_t kind)
{
    audit_t *w = calloc(1, sizeof(*w));
    if (w == NULL)
        api_problem(conn, FL_ENOMEM, "", "", "");
    else
        w->kind = kind;
    return w;
}

/* format=json|dot (graph) or json|csv (report): false when answered with a 400. */
static bool format_arg(api_conn_t *conn, audit_t *w, const char *other)
{
    const char *format = api_query_get(&conn->req, "format");
    if (format == NULL || strcmp(format, "json") == 0)
        return true;
    if (strcmp(format, other) == 0) {
        *(strcmp(other, "dot") == 0 ? &w->dot : &w->csv) = true;
        return true;
    }
    char detail[64];
    snprintf(detail, sizeof(detail), "json or %s", other);
    api_problem(conn, FL_EINVALID_VALUE, "query:format", detail, "");
    return false;
}

static bool depth_arg(api_conn_t *conn, audit_t *w)
{
    uint64_t depth;
    if (api_query_u64(&conn->req, "depth", AUDIT_DEPTH_DEFAULT, &depth) != 0 || depth == 0 ||
        depth > AUDIT_DEPTH_MAX) {
        api_problem(conn, FL_EINVALID_VALUE, "query:depth", "1 to 64 levels", "");
        return false;
    }
    w->depth = (uint32_t)depth;
    return true;
}

static bool copy_arg(api_conn_t *conn, const char *value, const char *field, char *out, size_t size)
{
    if (value == NULL || value[0] == '\0') {
        api_problem(conn, FL_EMISSING_FIELD, field, "required", "");
        return false;
    }
    if (strlen(value) >= size) {
        api_problem(conn, FL_ETOO_LONG, field, "too long for an entity name", "");
        return false;
    }
    memcpy(out, value, strlen(value) + 1);
    return true;
}

api_handled_t api_h_trace(api_conn_t *conn)
{
    audit_t *w = audit_new(conn, AUDIT_TRACE);
    if (w == NULL)
        return API_DONE;
    const char *direction = api_query_get(&conn->req, "direction");
    bool ok = copy_arg(conn, conn->req.params[0], "path:entity", w->subject, EV_NAME_LEN_MAX + 1);
    if (ok && direction != NULL && strcmp(direction, "up") != 0 && strcmp(direction, "down") != 0) {
        api_problem(conn, FL_EINVALID_VALUE, "query:direction",
                    "down (where it went) or up (what it was made of)", "");
        ok = false;
    }
    ok = ok && depth_arg(conn, w) && format_arg(conn, w, "dot");
    if (!ok) {
        free(w);
        return API_DONE;
    }
    w->direction = direction != NULL && strcmp(direction, "up") == 0 ? ENG_BACKWARD : ENG_FORWARD;
    return queue(conn, w);
}

api_handled_t api_h_recall(api_conn_t *conn)
{
    audit_t *w = audit_new(conn, AUDIT_RECALL);
    if (w == NULL)
        return API_DONE;
    bool ok = copy_arg(conn, api_query_get(&conn->req, "source"), "query:source", w->subject,
                       EV_NAME_LEN_MAX + 1);
    if (ok && (api_query_i64(&conn->req, "from_us", 0, &w->from_us) != 0 || w->from_us < 0)) {
        api_problem(conn, FL_EINVALID_VALUE, "query:from_us", "microseconds since 1970", "");
        ok = false;
    }
    if (ok && (api_query_i64(&conn->req, "until_us", 0, &w->until_us) != 0 || w->until_us < 0 ||
               (w->until_us != 0 && w->until_us <= w->from_us))) {
        api_problem(conn, FL_EINVALID_VALUE, "query:until_us",
                    "microseconds since 1970, after from_us", "");
        ok = false;
    }
    ok = ok && depth_arg(conn, w) && format_arg(conn, w, "dot");
    if (!ok) {
        free(w);
        return API_DONE;
    }
    return queue(conn, w);
}

api_handled_t api_h_count_report(api_conn_t *conn)
{
    audit_t *w = audit_new(conn, AUDIT_COUNT);
    if (w == NULL)
        return API_DONE;
    bool ok = copy_arg(conn, conn->req.params[0], "path:count_id", w->subject, EV_ID_LEN_MAX + 1);
    if (ok && (api_query_i64(&conn->req, "threshold_permille", AUDIT_THRESHOLD_DEFAULT_PERMILLE,
                             &w->threshold_permille) != 0 ||
               w->threshold_permille < 0 || w->threshold_permille > 1000)) {
        api_problem(conn, FL_EINVALID_VALUE, "query:threshold_permille",
                    "0 to 1000: a difference above it waits for a manager's approval", "");
        ok = false;
    }
    ok = ok && format_arg(conn, w, "csv");
    if (!ok) {
        free(w);
        return API_DONE;
    }
    return queue(conn, w);
}

api_handled_t api_stock_asof(api_conn_t *conn, const eng_stock_filter_t *filter, unsigned keys)
{
    audit_t *w = audit_new(conn, AUDIT_ASOF);
    if (w == NULL)
        return API_DONE;
    eng_head_t head;
    eng_head(conn->tenant->ledger, &head);
    if (api_query_u64(&conn->req, "as_of_seq", 0, &w->seq) != 0 || w->seq == 0 ||
        w->seq > head.seq) {
        char detail[96];
        snprintf(detail, sizeof(detail), "a sequence from 1 to the head (%llu)",
                 (unsigned long long)head.seq);
        api_problem(conn, FL_EINVALID_VALUE, "query:as_of_seq", detail, "");
        free(w);
        return API_DONE;
    }
    if ((filter->item != NULL && strlen(filter->item) >= sizeof(w->item)) ||
        (filter->location != NULL && strlen(filter->location) >= sizeof(w->location))) {
        api_stock_problem(conn, FL_EINVAL);
        free(w);
        return API_DONE;
    }
    /* The texts are the request's: copied, as the request may not outlive the work. */
    const char *group_by = api_query_get(&conn->req, "group_by");
    snprintf(w->item, sizeof(w->item), "%s", filter->item != NULL ? filter->item : "");
    snprintf(w->location, sizeof(w->location), "%s",
             filter->location != NULL ? filter->location : "");
    snprintf(w->status, sizeof(w->status), "%s", filter->status != NULL ? filter->status : "");
    snprintf(w->group_by, sizeof(w->group_by), "%s", group_by != NULL ? group_by : "");
    w->filter = (eng_stock_filter_t){.item = filter->item != NULL ? w->item : NULL,
                                     .location = filter->location != NULL ? w->location : NULL,
                                     .status = filter->status != NULL ? w->status : NULL,
                                     .grade = filter->grade};
    w->keys = keys;
    return queue(conn, w);
}

api_handled_t api_h_verify(api_conn_t *conn)
{
    audit_t *w = audit_new(conn, AUDIT_VERIFY);
    return w == NULL ? API_DONE : queue(conn, w);
}

api_handled_t api_h_export(api_conn_t *conn)
{
    audit_t *w = audit_new(conn, AUDIT_EXPORT);
    if (w == NULL)
        return API_DONE;
    eng_head_t head;
    eng_head(conn->tenant->ledger, &head);
    w->head = head.seq;
    const char *format = api_query_get(&conn->req, "format");
    char detail[128];
    if (format != NULL && strcmp(format, "ndjson") != 0 && strcmp(format, "msgpack") != 0) {
        api_problem(conn, FL_EINVALID_VALUE, "query:format", "ndjson (default) or msgpack", "");
        goto refused;
    }
    if (head.seq == 0) {
        api_problem(conn, FL_ENOENT, "", "the ledger holds no event yet", "");
        goto refused;
    }
    if (api_query_u64(&conn->req, "from_seq", 1, &w->seq) != 0 || w->seq == 0 ||
        w->seq > head.seq) {
        snprintf(detail, sizeof(detail), "a sequence from 1 to the head (%llu)",
                 (unsigned long long)head.seq);
        api_problem(conn, FL_EINVALID_VALUE, "query:from_seq", detail, "");
        goto refused;
    }
    uint64_t left = head.seq - w->seq + 1;
    uint64_t page = left < AUDIT_EXPORT_DEFAULT ? left : AUDIT_EXPORT_DEFAULT;
    if (api_query_u64(&conn->req, "to_seq", w->seq + page - 1, &w->to_seq) != 0 ||
        w->to_seq < w->seq || w->to_seq > head.seq || w->to_seq - w->seq >= AUDIT_EXPORT_MAX) {
        snprintf(detail, sizeof(detail),
                 "from from_seq to the head (%llu), at most %u records a request",
                 (unsigned long long)head.seq, AUDIT_EXPORT_MAX);
        api_problem(conn, FL_EINVALID_VALUE, "query:to_seq", detail, "");
        goto refused;
    }
    w->msgpack = format != NULL && strcmp(format, "msgpack") == 0;
    return queue(conn, w);
refused:
    free(w);
    return API_DONE;
}

/* ---- snapshots made in the background */

/* One pass over the tenants open when it began, on the thread pool. */
typedef struct {
    uv_work_t work;
    api_server_t *server;
    uint32_t count;
    api_tenant_t *tenants[API_TENANTS_MAX];
} snapshot_pass_t;

static void snapshot_pass_run(uv_work_t *req)
{
    snapshot_pass_t *pass = req->data;
    for (uint32_t i = 0; i < pass->count; i++) {
        if (__atomic_load_n(&asof_waiting, __ATOMIC_RELAXED) != 0)
            return; /* a read waits, or foutad stops: the next pass goes on */
        api_tenant_t *tenant = pass->tenants[i];
        uint64_t every = pass->server->config.asof_snapshot_every;
        eng_head_t head;
        eng_head(tenant->ledger, &head);
        uint64_t due = head.seq / every * every;
        if (due == 0 || due <= tenant->snapshots_at)
            continue; /* no multiple of every passed since the last pass */
        char snapdir[1300];
        pthread_mutex_lock(&asof_lock);
        int rc = snapshots_update(tenant, &asof_waiting, snapdir);
        pthread_mutex_unlock(&asof_lock);
        if (rc == 0)
            tenant->snapshots_at = due;
        if (rc != 0 && rc != FL_ECANCELED)
            api_log(API_LOG_ERROR, NULL, "snapshots not made",
                    ",\"tenant\":\"%s\",\"error\":\"%s\"", tenant->name, fl_errname(rc));
    }
}

static void snapshot_pass_done(uv_work_t *req, int status)
{
    (void)status;
    snapshot_pass_t *pass = req->data;
    api_server_t *server = pass->server;
    server->snapshots_busy = false;
    server->appends_pending--;
    free(pass);
    if (server->draining)
        api_server_maybe_finish(server);
}

static void on_snapshot_timer(uv_timer_t *timer)
{
    api_server_t *server = timer->data;
    if (server->snapshots_busy || server->draining || server->tenants_count == 0)
        return;
    snapshot_pass_t *pass = malloc(sizeof(*pass));
    if (pass == NULL)
        return; /* the next tick tries again */
    pass->server = server;
    pass->count = server->tenants_count; /* tenants open later wait for the next pass */
    memcpy(pass->tenants, server->tenants, pass->count * sizeof(pass->tenants[0]));
    pass->work.data = pass;
    if (uv_queue_work(&server->loop, &pass->work, snapshot_pass_run, snapshot_pass_done) != 0) {
        free(pass);
        return;
    }
    server->snapshots_busy = true;
    server->appends_pending++; /* a graceful stop waits for the pass, which gives way */
}

void api_audit_snapshots_start(api_server_t *server)
{
    uv_timer_init(&server->loop, &server->snapshot_timer);
    server->snapshot_timer.data = server;
    uint32_t period = server->config.asof_snapshot_period_ms;
    if (period > 0)
        uv_timer_start(&server->snapshot_timer, on_snapshot_timer, period, period);
}

void api_audit_snapshots_stop(api_server_t *server)
{
    uv_timer_stop(&server->snapshot_timer);
    __atomic_add_fetch(&asof_waiting, 1, __ATOMIC_RELAXED); /* never taken back */
}
