/*
 * projections.c: foutad's projectors - one per sink configured (--postgres-url, --redis-url),
 * started once the ledger is open and stopped before it closes, and their state for
 * /health/ready and /metrics. A sink that is down at start is no error: its projector retries.
 */
#include "api/api_int.h"

#define API_TENANT "plant" /* one tenant per foutad until tokens name theirs */

int api_projections_start(api_server_t *server)
{
    const char *urls[API_PROJECTORS_MAX] = {server->config.postgres_url, server->config.redis_url};
    int (*opens[API_PROJECTORS_MAX])(prj_sink_t **, const char *,
                                     const char *) = {prj_pg_sink_open, prj_redis_sink_open};
    for (int i = 0; i < API_PROJECTORS_MAX; i++) {
        if (urls[i][0] == '\0')
            continue;
        uint32_t n = server->projectors_count;
        int rc = opens[i](&server->sinks[n], urls[i], API_TENANT);
        if (rc == 0) {
            prj_config_t config = {.name = prj_sink_kind(server->sinks[n])};
            rc = prj_start(&server->projectors[n], server->ledger, server->sinks[n], &config);
        }
        if (rc != 0) {
            api_log(API_LOG_ERROR, NULL, "cannot start a projector",
                    ",\"sink\":%d,\"error\":\"%s\"", i, fl_errname(rc));
            prj_sink_close(server->sinks[n]);
            server->sinks[n] = NULL;
            api_projections_stop(server);
            return rc;
        }
        server->projectors_count++;
    }
    return 0;
}

void api_projections_stop(api_server_t *server)
{
    for (uint32_t i = 0; i < server->projectors_count; i++) {
        prj_stop(server->projectors[i]);
        prj_sink_close(server->sinks[i]);
        server->projectors[i] = NULL;
        server->sinks[i] = NULL;
    }
    server->projectors_count = 0;
}

uint32_t api_projections_status(api_server_t *server, prj_status_t out[API_PROJECTORS_MAX])
{
    for (uint32_t i = 0; i < server->projectors_count; i++)
        prj_status(server->projectors[i], &out[i]);
    return server->projectors_count;
}
