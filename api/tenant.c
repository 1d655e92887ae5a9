/*
 * tenant.c: the tenants of a foutad. Each tenant has a directory DATA/tenants/<tenant> with its
 * own ledger (an LMDB environment of the engine), its photos, its WebSocket hub and its
 * projectors; nothing of one tenant is reachable from another's token. A tenant is created by
 * the command line (`foutad --add-user TENANT:USER:ROLE`, the first admin); the server opens
 * every tenant it finds at start, and one created while it runs on the first request of a token
 * that names it.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool api_tenant_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > API_TENANT_LEN_MAX || name[0] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '-'))
            return false;
    return true;
}

int api_tenant_create_dirs(const char *data_dir, const char *name)
{
    if (!api_tenant_name_valid(name))
        return FL_EINVAL;
    char path[1200];
    const char *parts[] = {"", "/tenants", "/tenants/%s", "/tenants/%s/blobs"};
    for (int i = 0; i < 4; i++) {
        char tail[128];
        snprintf(tail, sizeof(tail), parts[i], name);
        snprintf(path, sizeof(path), "%s%s", data_dir, tail);
        if (mkdir(path, 0750) != 0 && errno != EEXIST)
            return fl_err_from_errno(errno);
    }
    return 0;
}

static int tenant_open(api_server_t *server, const char *name, api_tenant_t **out)
{
    *out = NULL;
    if (server->tenants_count == API_TENANTS_MAX)
        return FL_ETOOBIG;
    api_tenant_t *tenant = calloc(1, sizeof(*tenant));
    if (tenant == NULL)
        return FL_ENOMEM;
    snprintf(tenant->name, sizeof(tenant->name), "%s", name);
    char dir[1200];
    snprintf(dir, sizeof(dir), "%s/tenants/%s/ledger", server->config.data_dir, name);
    snprintf(tenant->blob_dir, sizeof(tenant->blob_dir), "%s/tenants/%s/blobs",
             server->config.data_dir, name);
    int rc = 0;
    if (mkdir(tenant->blob_dir, 0750) != 0 && errno != EEXIST)
        rc = fl_err_from_errno(errno);
    eng_config_t config = {.dir = dir,
                           .rules = ENG_RULES_PLANT,
                           .map_bytes_max = (uint64_t)server->config.ledger_mib_max << 20,
                           .queue_events_max = server->config.queue_events_max};
    if (rc == 0)
        rc = eng_open(&tenant->ledger, &config);
    if (rc == 0) {
        tenant->server = server;
        rc = api_projections_start(server, tenant);
        if (rc != 0)
            eng_close(tenant->ledger);
    }
    if (rc == 0) {
        rc = api_ws_hub_init(server, tenant);
        if (rc != 0) {
            api_projections_stop(tenant);
            eng_close(tenant->ledger);
        }
    }
    if (rc != 0) {
        api_log(API_LOG_ERROR, NULL, "cannot open a tenant",
                ",\"tenant\":\"%s\",\"dir\":\"%s\",\"error\":\"%s\",\"message\":\"%s\"", name, dir,
                fl_errname(rc), fl_strerror(rc));
        free(tenant);
        return rc;
    }
    server->tenants[server->tenants_count++] = tenant;
    api_log(API_LOG_INFO, NULL, "tenant open", ",\"tenant\":\"%s\"", name);
    *out = tenant;
    return 0;
}

int api_tenant_get(api_server_t *server, const char *name, api_tenant_t **out)
{
    *out = NULL;
    for (uint32_t i = 0; i < server->tenants_count; i++)
        if (strcmp(server->tenants[i]->name, name) == 0) {
            *out = server->tenants[i];
            return 0;
        }
    if (!api_tenant_name_valid(name) || server->draining)
        return FL_ENOENT;
    char dir[1200];
    struct stat st;
    snprintf(dir, sizeof(dir), "%s/tenants/%s", server->config.data_dir, name);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return FL_ENOENT;
    return tenant_open(server, name, out);
}

int api_tenants_open_all(api_server_t *server)
{
    char dir[1200];
    snprintf(dir, sizeof(dir), "%s/tenants", server->config.data_dir);
    DIR *listing = opendir(dir);
    if (listing == NULL)
        return errno == ENOENT ? 0 : fl_err_from_errno(errno);
    int rc = 0;
    struct dirent *entry;
    while (rc == 0 && (entry = readdir(listing)) != NULL) {
        if (!api_tenant_name_valid(entry->d_name))
            continue;
        api_tenant_t *tenant;
        rc = api_tenant_get(server, entry->d_name, &tenant);
    }
    closedir(listing);
    return rc;
}

void api_tenants_close_all(api_server_t *server)
{
    for (uint32_t i = 0; i < server->tenants_count; i++) {
        api_tenant_t *tenant = server->tenants[i];
        api_projections_stop(tenant); /* before the ledger closes */
        eng_close(tenant->ledger);
        free(tenant);
        server->tenants[i] = NULL;
    }
    server->tenants_count = 0;
}

void api_tenants_stats(api_server_t *server, eng_stats_t *stats, uint64_t *head_seq)
{
    memset(stats, 0, sizeof(*stats));
    *head_seq = 0;
    for (uint32_t i = 0; i < server->tenants_count; i++) {
        eng_stats_t one;
        eng_head_t head;
        eng_stats(server->tenants[i]->ledger, &one);
        eng_head(server->tenants[i]->ledger, &head);
        stats->commits += one.commits;
        stats->events_appended += one.events_appended;
        stats->events_duplicate += one.events_duplicate;
        stats->requests_failed += one.requests_failed;
        stats->folds += one.folds;
        stats->folded_seq += one.folded_seq;
        if (stats->fold_error == 0)
            stats->fold_error = one.fold_error;
        stats->map_resizes += one.map_resizes;
        stats->map_bytes += one.map_bytes;
        stats->commit_ns_total += one.commit_ns_total;
        if (one.commit_ns_max > stats->commit_ns_max)
            stats->commit_ns_max = one.commit_ns_max;
        stats->apply_ns_total += one.apply_ns_total;
        stats->queue_events += one.queue_events;
        *head_seq += head.seq;
    }
}
