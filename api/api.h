/*
 * api: foutad, the HTTP/1.1 and WebSocket front of the ledger.
 *
 * One libuv loop thread owns every connection; appends go to the engine's writer thread and
 * come back through a libuv async handle, so the durable acknowledgement is the HTTP response.
 * Reads run on the loop thread against LMDB read snapshots (a few microseconds each, bounded
 * by API_SCAN_RECORDS_MAX records per request).
 *
 * Every limit has a name, a default here, a flag and a FOUTA_* environment variable
 * (config.c; `foutad --help` lists them). Error codes are those of base/base.h.
 */
#ifndef API_API_H
#define API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* Defaults of the named limits. */
#define API_HEADER_BYTES_MAX        (16 * 1024)       /* request line and headers together */
#define API_BODY_BYTES_MAX          (4 * 1024 * 1024) /* one request body (events) */
#define API_BLOB_BYTES_MAX          (8 * 1024 * 1024) /* one photo */
#define API_CONNECTIONS_MAX         1024
#define API_HEADER_TIMEOUT_MS       10000 /* first byte of a request to the end of its headers */
#define API_BODY_TIMEOUT_MS         30000 /* end of headers to the end of the body */
#define API_IDLE_TIMEOUT_MS         60000 /* keep-alive connection with no request */
#define API_WS_BUFFER_BYTES_MAX     (1024 * 1024) /* queued to one subscriber before it lags */
#define API_WS_HEARTBEAT_MS         15000
#define API_ASOF_SNAPSHOT_EVERY     100000 /* events between a tenant's state snapshots (as-of) */
#define API_ASOF_SNAPSHOT_PERIOD_MS 60000  /* between two passes making them in the background */
#define API_SHUTDOWN_TIMEOUT_MS     10000  /* graceful stop, then connections are cut */

#define API_ACCESS_TTL_S       900     /* an access token lives 15 minutes */
#define API_REFRESH_TTL_S      2592000 /* a refresh token, 30 days (each use rotates it) */
#define API_RATE_PER_MIN       60000   /* requests per client address and minute */
#define API_RATE_BURST         10000   /* a plant's gateway posting a shift's backlog at once */
#define API_LOGIN_RATE_PER_MIN 10      /* refused sign-ins per client address and minute */
#define API_LOGIN_RATE_BURST   10
#define API_ARGON2_MEMORY_KIB  19456 /* OWASP's Argon2id minimum: 19 MiB, 2 passes */
#define API_ARGON2_PASSES      2
#define API_HSTS_MAX_AGE_S     31536000
#define API_ADD_USERS_MAX      16

#define API_URL_LEN_MAX      2048
#define API_PAGE_EVENTS_MAX  1000  /* events in one page of a read */
#define API_SCAN_RECORDS_MAX 10000 /* records one read request may scan before it pages */

typedef struct {
    char data_dir[1024];
    char listen_host[256];
    int listen_port;        /* 0: an ephemeral port (see port_file) */
    char port_file[1024];   /* "" or a file that receives the bound port once listening */
    char postgres_url[512]; /* "" when not configured */
    char redis_url[512];
    char swagger_ui_dir[1024]; /* the installed swagger-ui-dist files, served at /docs */
    char web_dir[1024];        /* the web app's files (clients/web), served at /app */
    uint32_t header_bytes_max;
    uint32_t body_bytes_max;
    uint32_t blob_bytes_max;
    uint32_t asof_snapshot_every;
    uint32_t asof_snapshot_period_ms;
    uint32_t connections_max;
    uint32_t header_timeout_ms;
    uint32_t body_timeout_ms;
    uint32_t idle_timeout_ms;
    uint32_t ws_buffer_bytes_max;
    uint32_t ws_heartbeat_ms;
    uint32_t shutdown_timeout_ms;
    uint32_t ledger_mib_max;   /* each tenant's ledger; 0: the engine's (1 TiB); beyond: 507 */
    uint32_t queue_events_max; /* appends waiting for each tenant's writer; 0: the engine's */
    int log_level;             /* 0 errors only, 1 info (one line per request), 2 debug */

    /* Security (docs/security.md). */
    char tls_cert_file[1024]; /* PEM chain; with tls_key_file: HTTPS on tls_listen */
    char tls_key_file[1024];
    char tls_listen_host[256];
    int tls_listen_port;
    char tls_port_file[1024];
    uint32_t hsts_max_age_s;
    char jwt_key_file[1024];    /* "" : DATA/auth/jwt.keys, made on first start */
    char master_key_file[1024]; /* "" : FOUTA_MASTER_KEY, else DATA/auth/master.key */
    char cors_origins[1024];    /* comma list of allowed origins, "" none */
    uint32_t access_ttl_s;
    uint32_t refresh_ttl_s;
    uint32_t rate_per_min; /* per client address, all routes; 0 turns it off */
    uint32_t rate_burst;
    uint32_t login_rate_per_min; /* refused sign-ins per client address */
    uint32_t login_rate_burst;
    uint32_t argon2_memory_kib;
    uint32_t argon2_passes;
    /* Command mode: --add-user TENANT:USER:ROLE (repeatable) creates users and exits. */
    char add_users[API_ADD_USERS_MAX][200];
    uint32_t add_users_count;
} api_config_t;

/* Fills config with the defaults. */
void api_config_defaults(api_config_t *config);

/*
 * Reads FOUTA_* environment variables, then flags (flags win). Returns 0, 1 when --help was
 * printed (the caller exits 0), or FL_EINVAL with a message on stderr.
 */
int api_config_parse(api_config_t *config, int argc, char **argv);

/* Prints the usage of every option to out (a FILE *). */
void api_config_usage(void *out);

/*
 * Command mode: creates each user of config->add_users (TENANT:USER:ROLE) in the auth store,
 * with the password of FOUTA_USER_PASSWORD or of the first line of standard input, and the
 * tenant's directory when it is new. Returns 0, FL_EINVAL (a bad name, role or password).
 */
int api_add_users(const api_config_t *config);

/*
 * Opens the ledger in config->data_dir, listens, and serves until SIGTERM or SIGINT, then
 * stops gracefully: it stops accepting, finishes in-flight appends and responses, closes the
 * ledger. Returns 0 after a clean stop, or FL_EINVAL, FL_EIO, FL_EACCES, FL_ENOMEM (the ledger's
 * open errors, or the address could not be bound: FL_EIO with a log line).
 */
int api_server_run(const api_config_t *config);

#endif
