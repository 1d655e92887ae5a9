/*
 * tls.c: HTTPS on the libuv front. OpenSSL runs over memory BIOs: libuv reads ciphertext into
 * the connection's read BIO, SSL_read hands plaintext to http.c (or ws.c) exactly as a plain
 * connection's bytes; a response's plaintext goes through SSL_write and the write BIO's
 * ciphertext is written by libuv, in order with any handshake records. TLS 1.2 and 1.3 only;
 * the certificate chain and key are files, reloaded on SIGHUP (a bad pair keeps the old one).
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#define TLS_PLAIN_CHUNK 16384

typedef struct {
    SSL *ssl;
    BIO *network_in;  /* ciphertext from the peer, read by OpenSSL */
    BIO *network_out; /* ciphertext OpenSSL made, for the peer */
} tls_conn_t;

typedef struct {
    uv_write_t req;
    uv_write_t *user; /* the caller's request, NULL for handshake records */
    uv_write_cb cb;
    char *bytes;
} tls_write_t;

static SSL_CTX *context_new(const api_config_t *config)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION);
    /* TLS 1.2: forward-secret AEAD suites only. */
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
    if (SSL_CTX_use_certificate_chain_file(ctx, config->tls_cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, config->tls_key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        char reason[256];
        ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
        ERR_clear_error();
        api_log(API_LOG_ERROR, NULL, "cannot load the TLS certificate or key", ",\"reason\":\"%s\"",
                reason);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int api_tls_init(api_server_t *server)
{
    server->tls = NULL;
    if (server->config.tls_cert_file[0] == '\0')
        return 0;
    server->tls = context_new(&server->config);
    return server->tls != NULL ? 0 : FL_EINVAL;
}

int api_tls_reload(api_server_t *server)
{
    if (server->tls == NULL)
        return 0;
    SSL_CTX *ctx = context_new(&server->config);
    if (ctx == NULL)
        return FL_EINVAL;
    /* Connections keep a reference to the context they started with. */
    SSL_CTX_free(server->tls);
    server->tls = ctx;
    api_log(API_LOG_INFO, NULL, "TLS certificate reloaded", "%s", "");
    return 0;
}

void api_tls_free(api_server_t *server)
{
    SSL_CTX_free(server->tls);
    server->tls = NULL;
}

int api_tls_conn_start(api_conn_t *conn)
{
    tls_conn_t *tls = calloc(1, sizeof(*tls));
    if (tls == NULL)
        return FL_ENOMEM;
    tls->ssl = SSL_new(conn->server->tls);
    tls->network_in = BIO_new(BIO_s_mem());
    tls->network_out = BIO_new(BIO_s_mem());
    if (tls->ssl == NULL || tls->network_in == NULL || tls->network_out == NULL) {
        BIO_free(tls->network_in);
        BIO_free(tls->network_out);
        SSL_free(tls->ssl);
        free(tls);
        return FL_ENOMEM;
    }
    SSL_set_bio(tls->ssl, tls->network_in, tls->network_out); /* the SSL owns them now */
    SSL_set_accept_state(tls->ssl);
    conn->tls = tls;
    return 0;
}

void api_tls_conn_free(api_conn_t *conn)
{
    tls_conn_t *tls = conn->tls;
    if (tls == NULL)
        return;
    SSL_free(tls->ssl);
    free(tls);
    conn->tls = NULL;
}

static void on_tls_write(uv_write_t *req, int status)
{
    tls_write_t *w = (tls_write_t *)req;
    if (w->cb != NULL)
        w->cb(w->user, status);
    free(w->bytes);
    free(w);
}

/* Writes what OpenSSL produced; cb (with user) runs once it is written. */
static int drain(api_conn_t *conn, uv_write_t *user, uv_write_cb cb)
{
    tls_conn_t *tls = conn->tls;
    size_t pending = BIO_ctrl_pending(tls->network_out);
    if (pending == 0 && cb == NULL)
        return 0;
    tls_write_t *w = calloc(1, sizeof(*w));
    char *bytes = malloc(pending > 0 ? pending : 1);
    if (w == NULL || bytes == NULL) {
        free(w);
        free(bytes);
        return FL_ENOMEM;
    }
    int n = pending > 0 ? BIO_read(tls->network_out, bytes, (int)pending) : 0;
    w->user = user;
    w->cb = cb;
    w->bytes = bytes;
    uv_buf_t buf = uv_buf_init(bytes, (unsigned)(n > 0 ? n : 0));
    int rc = uv_write(&w->req, (uv_stream_t *)&conn->tcp, &buf, 1, on_tls_write);
    if (rc != 0) {
        free(bytes);
        free(w);
        return rc;
    }
    return 0;
}

int api_tls_write(api_conn_t *conn, uv_write_t *req, const uv_buf_t bufs[], unsigned nbufs,
                  uv_write_cb cb)
{
    tls_conn_t *tls = conn->tls;
    for (unsigned i = 0; i < nbufs; i++) {
        size_t done = 0;
        while (done < bufs[i].len) {
            int n = SSL_write(tls->ssl, bufs[i].base + done, (int)(bufs[i].len - done));
            if (n <= 0) {
                ERR_clear_error();
                return UV_EPROTO;
            }
            done += (size_t)n;
        }
    }
    return drain(conn, req, cb);
}

void api_tls_read(api_conn_t *conn, const char *bytes, size_t len)
{
    static char plain[TLS_PLAIN_CHUNK];
    tls_conn_t *tls = conn->tls;
    if (BIO_write(tls->network_in, bytes, (int)len) != (int)len) {
        api_conn_close(conn);
        return;
    }
    for (;;) {
        int n = SSL_read(tls->ssl, plain, sizeof(plain));
        if (n > 0) {
            api_conn_plain_read(conn, plain, (size_t)n);
            if (conn->closed_handles || conn->tls == NULL)
                return;
            continue;
        }
        int error = SSL_get_error(tls->ssl, n);
        ERR_clear_error();
        if (drain(conn, NULL, NULL) != 0 ||
            (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)) {
            /* A failed handshake or the peer's close_notify ends the connection. */
            api_log(API_LOG_DEBUG, conn->req.request_id, "TLS connection ends", ",\"ssl_error\":%d",
                    error);
            api_conn_close(conn);
            return;
        }
        return;
    }
}
