/*
 * client_int.h: what the client's files share - the client itself, its connection and the
 * helpers that send a request and read its answer. Nothing outside clients/client includes it.
 */
#ifndef FC_CLIENT_INT_H
#define FC_CLIENT_INT_H

#include "clients/client/client.h"

#define FC_HOST_LEN_MAX      256
#define FC_HEADERS_BYTES_MAX (32 * 1024)

struct fc_client {
    char host[FC_HOST_LEN_MAX];
    char port[8];
    char prefix[FC_URL_LEN_MAX]; /* a path prefix of the URL, "" for none */
    char user[128], role[32], device[128];
    uint32_t retries_max, timeout_ms;
    int fd;   /* -1 when not connected */
    char *in; /* bytes read and not yet used */
    size_t in_len, in_capacity;
    uint64_t retries;
};

/* Connects (when not connected). 0 or -errno. */
int fc__connect(fc_client_t *client);
void fc__disconnect(fc_client_t *client);

/* Sends all bytes. 0 or -errno. */
int fc__send_all(fc_client_t *client, const char *bytes, size_t len);

/* Reads until the buffer holds at least `want` bytes, or a CRLFCRLF when want is 0. 0, -errno,
 * or FL_EIO at end of stream. */
int fc__fill(fc_client_t *client, size_t want);

/* The identity headers of a request, "Name: value\r\n" lines: today the development actor,
 * with issue 5 "Authorization: Bearer ...". Returns the length or FL_ETOOBIG. */
int fc_auth_headers(const fc_client_t *client, char *out, size_t size);

/* Sleeps before retry number `attempt` (1, 2...). */
void fc__backoff(uint32_t attempt);

#endif
