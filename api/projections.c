/*
 * projections.c: foutad's projectors - per tenant, one per sink configured (--postgres-url,
 * --redis-url), started once the tenant's ledger is open and stopped before it closes, and their
 * state for /health/ready and /metrics. Each tenant has its own key space in the sink (the
 * tenant's name). A sink that is down at start is no error: its projector retries.
 */
#include "api/api_int.h"

int api_projections_start(api_server_t *server, api_tenant_t *tenant)
{
    const char *urls[API_PROJECTORS_MAX] = {server->config.postgres_url, server->config.redis_url};
    int (*opens[API_PROJECTORS_MAX])(prj_sink_t **, const char *,
                                     const char *) = {prj_pg_sink_open, prj_redis_sink_open};
    for (int i = 0; i < API_PROJECTORS_MAX; i++) {
        if (urls[i][0] == '\0')
            continue;
        uint32_t n = tenant->projectors_count;
        int rc = opens[i](&tenant->sinks[n], urls[i], tenant->name);
        if (rc == 0) {
            prj_config_t config = {.name = prj_sink_kind(tenant->sinks[n])};
            rc = prj_start(&tenant->projectors[n], tenant->ledger, tenant->sinks[n], &config);
        }
        if (rc != 0) {
            api_log(API_LOG_ERROR, NULL, "cannot start a projector",
                    ",\"tenant\":\"%s\",\"sink\":%d,\"error\":\"%s\"", tenant->name, i,
                    fl_errname(rc));
            prj_sink_close(tenant->sinks[n]);
            tenant->sinks[n] = NULL;
            api_projections_stop(tenant);
            return rc;
        }
        tenant->projectors_count++;
    }
    return 0;
}

void api_projections_stop(api_tenant_t *tenant)
{
    for (uint32_t i = 0; i < tenant->projectors_count; i++) {
        prj_stop(tenant->projectors[i]);
        prj_sink_close(tenant->sinks[i]);
        tenant->projectors[i] = NULL;
        tenant->sinks[i] = NULL;
    }
    tenant->projectors_count = 0;
}

uint32_t api_projections_status(api_server_t *server, prj_status_t out[API_PROJECTORS_MAX])
{
    uint32_t count = 0;
    for (uint32_t t = 0; t < server->tenants_count; t++) {
        api_tenant_t *tenant = server->tenants[t];
        for (uint32_t i = 0; i < tenant->projectors_count && count < API_PROJECTORS_MAX; i++)
            prj_status(tenant->projectors[i], &out[count++]);
    }
    return count;
}
