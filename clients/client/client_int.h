/*
 * client_int.h: what the client's files share - the client itself, its connection and the
 * helpers that send a request and read its answer. Nothing outside clients/client includes it.
 */
#ifndef FC_CLIENT_INT_H
#define FC_CLIENT_INT_H

#include "clients/client/client.h"

#include <pthread.h>
#include <sys/types.h>

#define FC_HOST_LEN_MAX      256
#define FC_HEADERS_BYTES_MAX (32 * 1024)
#define FC_TOKENS_MAX        12 /* one per catalog role, and a few to spare */
#define FC_TOKEN_BYTES_MAX   1100

/* Tokens signed in per role (auth.c): a client's own, or shared by several clients. */
struct fc_tokens {
    pthread_mutex_t lock; /* held through a sign-in: one sign-in per role for all */
    char tokens[FC_TOKENS_MAX][FC_TOKEN_BYTES_MAX]; /* "" remembers a refused sign-in */
    char roles[FC_TOKENS_MAX][32];
    uint32_t count;
};

struct fc_client {
    char host[FC_HOST_LEN_MAX];
    char port[8];
    char prefix[FC_URL_LEN_MAX]; /* a path prefix of the URL, "" for none */
    char user[128], role[32], device[128];
    uint32_t retries_max, timeout_ms;
    int fd;                     /* -1 when not connected */
    bool tls;                   /* an https:// URL */
    struct ssl_ctx_st *ssl_ctx; /* its TLS context, NULL for http:// */
    struct ssl_st *ssl;         /* the connection's TLS, NULL when plain or not connected */
    char *in;                   /* bytes read and not yet used */
    size_t in_len, in_capacity;
    uint64_t retries;
    /* auth.c: the tokens signed in per role (own_tokens, or the config's shared ones), the one
     * the last request carried, and the stored token (FOUTA_TOKEN, the token file). */
    fc_tokens_t own_tokens;
    fc_tokens_t *tokens;
    char token[FC_TOKEN_BYTES_MAX];
    char stored_token[FC_TOKEN_BYTES_MAX];
    bool stored_token_read;
};

/* The connection's bytes, through TLS for https: recv(2) and send(2)'s results and errno
 * (EAGAIN when a non-blocking socket has nothing yet). */
ssize_t fc__recv(fc_client_t *client, void *buf, size_t len);
ssize_t fc__send(fc_client_t *client, const void *bytes, size_t len);
/* Whether TLS holds decrypted bytes not yet read (poll(2) cannot see them). */
bool fc__pending(const fc_client_t *client);

/* Connects (when not connected), with the TLS handshake for https. 0, -errno, FL_EIO (a
 * failed handshake), FL_ETLS_UNTRUSTED (a certificate that does not prove the host). */
int fc__connect(fc_client_t *client);
void fc__disconnect(fc_client_t *client);

/* Sends all bytes. 0 or -errno. */
int fc__send_all(fc_client_t *client, const char *bytes, size_t len);

/* Reads until the buffer holds at least `want` bytes, or a CRLFCRLF when want is 0. 0, -errno,
 * or FL_EIO at end of stream. */
int fc__fill(fc_client_t *client, size_t want);

/* The identity headers of a request, "Name: value\r\n" lines: "Authorization: Bearer ..."
 * (auth.c says where the token comes from). Returns the length or FL_ETOOBIG. */
int fc_auth_headers(fc_client_t *client, char *out, size_t size);
/* After a 401: forgets the token signed in for the actor's role, so that the next
 * fc_auth_headers signs in again. True when that may help (FOUTA_PASSWORD is set), false for a
 * stored token, which only `fouta login` renews. */
bool fc__auth_renew(fc_client_t *client);

/* Sleeps before retry number `attempt` (1, 2...). */
void fc__backoff(uint32_t attempt);

#endif
