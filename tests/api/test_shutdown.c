/*
 * Graceful shutdown: SIGTERM while clients are appending. Every event foutad acknowledged
 * (201) must be in the ledger after a restart, at the position it was acknowledged with.
 */
#include "tests/api/client.h"

#define CONNECTIONS    8
#define PER_CONNECTION 40

Test(shutdown, sigterm_loses_no_acknowledged_event, .timeout = 120)
{
    server_t server = {0};
    server_start(&server);
    client_t c[CONNECTIONS];
    for (int i = 0; i < CONNECTIONS; i++) {
        client_open(&c[i], server.port);
        /* Pipelined appends: many are in flight when the signal lands. */
        for (int j = 0; j < PER_CONNECTION; j++) {
            char event[1024], hu[24];
            unsigned id = (unsigned)(i * PER_CONNECTION + j + 1);
            snprintf(hu, sizeof(hu), "S%u", id);
            event_goods(event, sizeof(event), id, hu, "1000");
            client_send_request(&c[i], "POST", "/api/v1/events", ACTOR("store_raw"), event);
        }
    }
    sleep_ms(30);
    kill(server.pid, SIGTERM);
    unsigned long long acked_seq[CONNECTIONS * PER_CONNECTION] = {0};
    unsigned acked = 0;
    for (int i = 0; i < CONNECTIONS; i++) {
        for (int j = 0; j < PER_CONNECTION; j++) {
            response_t r;
            client_read(&c[i], &r);
            if (r.status == -1)
                break; /* closed: the rest was never answered */
            if (r.status == 201)
                acked_seq[i * PER_CONNECTION + j] = json_number(r.body, "seq");
            acked += r.status == 201;
            response_free(&r);
        }
        client_close(&c[i]);
    }
    int stopped = server_stop_keep(&server);
    cr_assert_eq(stopped, 0, "foutad did not stop cleanly: %d", stopped);
    cr_assert_gt(acked, 0u);
    server_start(&server); /* the same data directory */
    client_t check;
    client_open(&check, server.port);
    for (unsigned k = 0; k < CONNECTIONS * PER_CONNECTION; k++) {
        if (acked_seq[k] == 0)
            continue;
        char path[64], id[48];
        snprintf(path, sizeof(path), "/api/v1/events/%llu", acked_seq[k]);
        snprintf(id, sizeof(id), "\"0190b2a0-7c1d-7000-8000-%012u\"", k + 1);
        response_t r;
        client_request(&check, "GET", path, "", NULL, &r);
        cr_assert_eq(r.status, 200, "acknowledged seq %llu is missing", acked_seq[k]);
        cr_assert_not_null(strstr(r.body, id), "seq %llu holds another event", acked_seq[k]);
        response_free(&r);
    }
    client_close(&check);
    cr_assert_eq(server_stop(&server), 0);
}
