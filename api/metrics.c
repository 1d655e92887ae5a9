/*
 * metrics.c: counters and histograms for /metrics in the Prometheus text format. The loop
 * thread is the only writer, so plain integers do. HTTP latency is kept per (route, status)
 * pair, a bounded table (API_ROUTE_METRICS_MAX pairs; routes and statuses are few).
 */
#include "api/api_int.h"

#include <string.h>

static const double latency_bounds_s[API_LATENCY_BUCKETS - 1] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0};
static const uint32_t batch_bounds[7] = {1, 2, 4, 16, 64, 256, 1000};

void api_metrics_request(api_metrics_t *metrics, int route, int status, uint64_t duration_us)
{
    api_route_metric_t *entry = NULL;
    for (uint32_t i = 0; i < metrics->routes_count && entry == NULL; i++)
        if (metrics->routes[i].route == route && metrics->routes[i].status == status)
            entry = &metrics->routes[i];
    if (entry == NULL) {
        if (metrics->routes_count == API_ROUTE_METRICS_MAX)
            return;
        entry = &metrics->routes[metrics->routes_count++];
        memset(entry, 0, sizeof(*entry));
        entry->route = route;
        entry->status = status;
    }
    entry->count++;
    entry->sum_us += duration_us;
    uint32_t bucket = 0;
    while (bucket < API_LATENCY_BUCKETS - 1 && duration_us > latency_bounds_s[bucket] * 1e6)
        bucket++;
    entry->buckets[bucket]++;
}

void api_metrics_batch(api_metrics_t *metrics, uint32_t events)
{
    uint32_t bucket = 0;
    while (bucket < 7 && events > batch_bounds[bucket])
        bucket++;
    metrics->batch_events_buckets[bucket]++;
    metrics->appends++;
}

static void http_metrics(const api_metrics_t *metrics, api_buf_t *out)
{
    api_buf_str(out, "# HELP fouta_http_requests_total HTTP requests answered.\n"
                     "# TYPE fouta_http_requests_total counter\n");
    for (uint32_t i = 0; i < metrics->routes_count; i++)
        api_buf_printf(out, "fouta_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                       api_route_label(metrics->routes[i].route), metrics->routes[i].status,
                       (unsigned long long)metrics->routes[i].count);
    api_buf_str(out, "# HELP fouta_http_request_duration_seconds From the request's first byte "
                     "to its response.\n# TYPE fouta_http_request_duration_seconds histogram\n");
    for (uint32_t i = 0; i < metrics->routes_count; i++) {
        const api_route_metric_t *m = &metrics->routes[i];
        const char *route = api_route_label(m->route);
        uint64_t cumulative = 0;
        for (uint32_t b = 0; b < API_LATENCY_BUCKETS; b++) {
            cumulative += m->buckets[b];
            if (b < API_LATENCY_BUCKETS - 1)
                api_buf_printf(out,
                               "fouta_http_request_duration_seconds_bucket{route=\"%s\","
                               "status=\"%d\",le=\"%g\"} %llu\n",
                               route, m->status, latency_bounds_s[b],
                               (unsigned long long)cumulative);
            else
                api_buf_printf(out,
                               "fouta_http_request_duration_seconds_bucket{route=\"%s\","
                               "status=\"%d\",le=\"+Inf\"} %llu\n",
                               route, m->status, (unsigned long long)cumulative);
        }
        api_buf_printf(out,
                       "fouta_http_request_duration_seconds_sum{route=\"%s\",status=\"%d\"} "
                       "%.6f\nfouta_http_request_duration_seconds_count{route=\"%s\","
                       "status=\"%d\"} %llu\n",
                       route, m->status, (double)m->sum_us / 1e6, route, m->status,
                       (unsigned long long)m->count);
    }
}

static void ledger_metrics(api_server_t *server, api_buf_t *out)
{
    eng_stats_t stats;
    eng_head_t head = {0};
    api_tenants_stats(server, &stats, &head.seq); /* every tenant's ledger, summed */
    double batch_avg = stats.commits > 0 ? (double)stats.events_appended / stats.commits : 0;
    api_buf_printf(
        out,
        "# TYPE fouta_ledger_events_appended_total counter\n"
        "fouta_ledger_events_appended_total %llu\n"
        "# TYPE fouta_ledger_events_duplicate_total counter\n"
        "fouta_ledger_events_duplicate_total %llu\n"
        "# TYPE fouta_ledger_commits_total counter\nfouta_ledger_commits_total %llu\n"
        "# HELP fouta_ledger_commit_seconds_total Time spent in durable commits.\n"
        "# TYPE fouta_ledger_commit_seconds_total counter\n"
        "fouta_ledger_commit_seconds_total %.6f\n"
        "# TYPE fouta_ledger_commit_seconds_max gauge\nfouta_ledger_commit_seconds_max %.6f\n"
        "# HELP fouta_ledger_batch_events_avg Events per write transaction since start.\n"
        "# TYPE fouta_ledger_batch_events_avg gauge\nfouta_ledger_batch_events_avg %.2f\n"
        "# TYPE fouta_ledger_queue_events gauge\nfouta_ledger_queue_events %u\n"
        "# TYPE fouta_ledger_head_seq gauge\nfouta_ledger_head_seq %llu\n"
        "# TYPE fouta_ledger_folded_seq gauge\nfouta_ledger_folded_seq %llu\n"
        "# TYPE fouta_ledger_map_bytes gauge\nfouta_ledger_map_bytes %llu\n",
        (unsigned long long)stats.events_appended, (unsigned long long)stats.events_duplicate,
        (unsigned long long)stats.commits, (double)stats.commit_ns_total / 1e9,
        (double)stats.commit_ns_max / 1e9, batch_avg, stats.queue_events,
        (unsigned long long)head.seq, (unsigned long long)stats.folded_seq,
        (unsigned long long)stats.map_bytes);
}

/* Each projector (projections/): its state, checkpoint, lag and failures. */
static void projector_metrics(api_server_t *server, api_buf_t *out)
{
    prj_status_t status[API_PROJECTORS_MAX];
    uint32_t count = api_projections_status(server, status);
    if (count == 0)
        return;
    api_buf_str(out, "# HELP fouta_projector_lag_events Events committed and not yet in the "
                     "sink.\n# TYPE fouta_projector_lag_events gauge\n"
                     "# HELP fouta_projector_lag_seconds Age of the oldest event not yet in the "
                     "sink.\n# TYPE fouta_projector_lag_seconds gauge\n"
                     "# HELP fouta_projector_state 1 for the projector's state.\n"
                     "# TYPE fouta_projector_state gauge\n");
    for (uint32_t i = 0; i < count; i++) {
        const prj_status_t *s = &status[i];
        api_buf_printf(out,
                       "fouta_projector_state{projector=\"%s\",state=\"%s\"} 1\n"
                       "fouta_projector_checkpoint_seq{projector=\"%s\"} %llu\n"
                       "fouta_projector_lag_events{projector=\"%s\"} %llu\n"
                       "fouta_projector_lag_seconds{projector=\"%s\"} %.3f\n"
                       "fouta_projector_events_total{projector=\"%s\"} %llu\n"
                       "fouta_projector_retries_total{projector=\"%s\"} %llu\n"
                       "fouta_projector_dead_letters_total{projector=\"%s\"} %llu\n"
                       "fouta_projector_visible_seconds{projector=\"%s\",quantile=\"0.5\"} %.4f\n"
                       "fouta_projector_visible_seconds{projector=\"%s\",quantile=\"0.99\"} %.4f\n",
                       s->name, prj_state_name(s->state), s->name,
                       (unsigned long long)s->checkpoint, s->name,
                       (unsigned long long)s->lag_events, s->name, (double)s->lag_ms / 1000.0,
                       s->name, (unsigned long long)s->events, s->name,
                       (unsigned long long)s->retries, s->name, (unsigned long long)s->dead_letters,
                       s->name, s->visible_ms_p50 / 1000.0, s->name, s->visible_ms_p99 / 1000.0);
    }
}

void api_metrics_render(api_server_t *server, api_buf_t *out)
{
    const api_metrics_t *metrics = &server->metrics;
    http_metrics(metrics, out);
    ledger_metrics(server, out);
    projector_metrics(server, out);
    api_buf_str(out, "# HELP fouta_api_append_request_events Events per POST /api/v1/events.\n"
                     "# TYPE fouta_api_append_request_events histogram\n");
    uint64_t cumulative = 0;
    for (uint32_t b = 0; b < 8; b++) {
        cumulative += metrics->batch_events_buckets[b];
        if (b < 7)
            api_buf_printf(out, "fouta_api_append_request_events_bucket{le=\"%u\"} %llu\n",
                           batch_bounds[b], (unsigned long long)cumulative);
        else
            api_buf_printf(out, "fouta_api_append_request_events_bucket{le=\"+Inf\"} %llu\n",
                           (unsigned long long)cumulative);
    }
    api_buf_printf(out, "fouta_api_append_request_events_count %llu\n",
                   (unsigned long long)metrics->appends);
    api_buf_printf(out,
                   "# TYPE fouta_http_connections gauge\nfouta_http_connections %u\n"
                   "# TYPE fouta_http_connections_accepted_total counter\n"
                   "fouta_http_connections_accepted_total %llu\n"
                   "# TYPE fouta_http_connections_refused_total counter\n"
                   "fouta_http_connections_refused_total %llu\n"
                   "# TYPE fouta_ws_clients gauge\nfouta_ws_clients %u\n"
                   "# HELP fouta_ws_lag_events Events between the head and the slowest "
                   "subscriber.\n# TYPE fouta_ws_lag_events gauge\nfouta_ws_lag_events %llu\n"
                   "# TYPE fouta_ws_events_sent_total counter\nfouta_ws_events_sent_total %llu\n"
                   "# HELP fouta_ws_lagged_total Times a subscriber fell back to catch-up.\n"
                   "# TYPE fouta_ws_lagged_total counter\nfouta_ws_lagged_total %llu\n",
                   server->conns_count, (unsigned long long)metrics->connections_accepted,
                   (unsigned long long)metrics->connections_refused, api_ws_clients(server),
                   (unsigned long long)api_ws_lag_max(server),
                   (unsigned long long)metrics->ws_events_sent,
                   (unsigned long long)metrics->ws_lagged);
}
