/*
 * auth.c: who the client is, in one place. Until issue 5 the server takes the actor from the
 * development headers; issue 5 replaces this body with a bearer token obtained by `fouta
 * login` (and the transport with HTTPS), and nothing else in the client changes.
 */
#define _POSIX_C_SOURCE 200809L
#include "clients/client/client_int.h"

#include <stdio.h>

int fc_auth_headers(const fc_client_t *client, char *out, size_t size)
{
    int len = snprintf(out, size, "X-Fouta-User: %s\r\nX-Fouta-Role: %s\r\nX-Fouta-Device: %s\r\n",
                       client->user, client->role, client->device);
    return len < 0 || (size_t)len >= size ? FL_ETOOBIG : len;
}
