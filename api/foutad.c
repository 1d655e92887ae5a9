/*
 * foutad: the ledger's server. Reads its options (flags and FOUTA_* variables) and serves
 * until SIGTERM; with --add-user it creates users (a tenant's first admin) and exits.
 */
#include "api/api.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    api_config_t config;
    api_config_defaults(&config);
    int rc = api_config_parse(&config, argc, argv);
    if (rc == 1)
        return 0;
    if (rc != 0)
        return 2;
    if (config.add_users_count > 0)
        return api_add_users(&config) == 0 ? 0 : 1;
    rc = api_server_run(&config);
    if (rc != 0) {
        fprintf(stderr, "foutad: %s\n", fl_strerror(rc));
        return 1;
    }
    return 0;
}
