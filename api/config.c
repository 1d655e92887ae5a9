/*
 * config.c: foutad's options. One table names each option once: its flag, its FOUTA_*
 * environment variable, where it goes and what --help says, so the three cannot drift apart.
 * The environment is read first and flags override it.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum { OPT_TEXT, OPT_U32, OPT_LISTEN, OPT_TLS_LISTEN, OPT_ADD_USER } opt_kind_t;

typedef struct {
    const char *flag;
    const char *env;
    opt_kind_t kind;
    size_t offset;
    size_t size; /* OPT_TEXT: the field's size */
    const char *arg;
    const char *help;
} option_t;

#define TEXT(flag, env, field, arg, help)                                                          \
    {                                                                                              \
        flag, env, OPT_TEXT, offsetof(api_config_t, field), sizeof(((api_config_t *)0)->field),    \
            arg, help                                                                              \
    }
#define U32(flag, env, field, help)                                                                \
    {                                                                                              \
        flag, env, OPT_U32, offsetof(api_config_t, field), sizeof(uint32_t), "N", help             \
    }

static const option_t options[] = {
    TEXT("--data-dir", "FOUTA_DATA_DIR", data_dir, "DIR",
         "where the ledger (DIR/ledger) and the photos (DIR/blobs) live (required)"),
    {"--listen", "FOUTA_LISTEN", OPT_LISTEN, 0, 0, "HOST:PORT",
     "address to listen on (default 127.0.0.1:8080; port 0 picks a free one)"},
    TEXT("--port-file", "FOUTA_PORT_FILE", port_file, "FILE",
         "write the bound port to FILE once listening (tests, port 0)"),
    TEXT("--postgres-url", "FOUTA_POSTGRES_URL", postgres_url, "URL",
         "PostgreSQL read model; /health/ready checks it is reachable (optional)"),
    TEXT("--redis-url", "FOUTA_REDIS_URL", redis_url, "URL",
         "Redis read model; /health/ready checks it is reachable (optional)"),
    TEXT("--swagger-ui-dir", "FOUTA_SWAGGER_UI_DIR", swagger_ui_dir, "DIR",
         "installed swagger-ui-dist files served at /docs (default: swagger-ui-dist under npm's "
         "global root, /usr/local/lib/node_modules or /usr/lib/node_modules)"),
    TEXT("--web-dir", "FOUTA_WEB_DIR", web_dir, "DIR",
         "the web app's files served at /app (default: the source tree's clients/web)"),
    U32("--header-bytes-max", "FOUTA_HEADER_BYTES_MAX", header_bytes_max,
        "request line and headers, bytes (default 16384); beyond: 431"),
    U32("--body-bytes-max", "FOUTA_BODY_BYTES_MAX", body_bytes_max,
        "request body of events, bytes (default 4194304); beyond: 413"),
    U32("--blob-bytes-max", "FOUTA_BLOB_BYTES_MAX", blob_bytes_max,
        "one photo, bytes (default 8388608); beyond: 413"),
    U32("--asof-snapshot-every", "FOUTA_ASOF_SNAPSHOT_EVERY", asof_snapshot_every,
        "events between the state snapshots kept per tenant for as-of reads and count reports "
        "(default 100000): each read replays at most N events; a larger N keeps fewer "
        "snapshots, on less disk"),
    U32("--asof-snapshot-period-ms", "FOUTA_ASOF_SNAPSHOT_PERIOD_MS", asof_snapshot_period_ms,
        "how often the snapshots are brought up to the heads in the background (default 60000; "
        "0: only by the reads that need them)"),
    U32("--connections-max", "FOUTA_CONNECTIONS_MAX", connections_max,
        "open connections (default 1024); beyond, new ones get 503 and are closed"),
    U32("--header-timeout-ms", "FOUTA_HEADER_TIMEOUT_MS", header_timeout_ms,
        "from a request's first byte to the end of its headers (default 10000); then 408"),
    U32("--body-timeout-ms", "FOUTA_BODY_TIMEOUT_MS", body_timeout_ms,
        "from the end of the headers to the end of the body (default 30000); then 408"),
    U32("--idle-timeout-ms", "FOUTA_IDLE_TIMEOUT_MS", idle_timeout_ms,
        "keep-alive connection without a request (default 60000); then closed"),
    U32("--ws-buffer-bytes-max", "FOUTA_WS_BUFFER_BYTES_MAX", ws_buffer_bytes_max,
        "bytes queued to one WebSocket subscriber before it falls back to catch-up (1048576)"),
    U32("--ws-heartbeat-ms", "FOUTA_WS_HEARTBEAT_MS", ws_heartbeat_ms,
        "WebSocket ping and heartbeat message interval (default 15000)"),
    U32("--shutdown-timeout-ms", "FOUTA_SHUTDOWN_TIMEOUT_MS", shutdown_timeout_ms,
        "graceful stop: time given to in-flight requests before connections are cut (10000)"),
    U32("--ledger-mib-max", "FOUTA_LEDGER_MIB_MAX", ledger_mib_max,
        "largest size of each tenant's ledger, MiB (default 0: 1 TiB); beyond, appends get 507"),
    U32("--queue-events-max", "FOUTA_QUEUE_EVENTS_MAX", queue_events_max,
        "events waiting for each tenant's writer (default 65536); beyond, appends get 503 and "
        "Retry-After"),
    U32("--log-level", "FOUTA_LOG_LEVEL", log_level,
        "0 errors, 1 one line per request (default), 2 debug"),
    TEXT("--tls-cert", "FOUTA_TLS_CERT", tls_cert_file, "FILE",
         "PEM certificate chain: with --tls-key, HTTPS (TLS 1.2, 1.3) on --tls-listen, and the "
         "plain listener only redirects; SIGHUP reloads both files"),
    TEXT("--tls-key", "FOUTA_TLS_KEY", tls_key_file, "FILE", "PEM private key of --tls-cert"),
    {"--tls-listen", "FOUTA_TLS_LISTEN", OPT_TLS_LISTEN, 0, 0, "HOST:PORT",
     "HTTPS address (default 127.0.0.1:8443; port 0 picks a free one)"},
    TEXT("--tls-port-file", "FOUTA_TLS_PORT_FILE", tls_port_file, "FILE",
         "write the bound HTTPS port to FILE once listening"),
    U32("--hsts-max-age", "FOUTA_HSTS_MAX_AGE", hsts_max_age_s,
        "Strict-Transport-Security max-age of HTTPS answers, seconds (default 31536000)"),
    TEXT("--jwt-key-file", "FOUTA_JWT_KEY_FILE", jwt_key_file, "FILE",
         "access-token keys, \"KID HEX\" lines, the first signs (default DATA/auth/jwt.keys, "
         "made at first start)"),
    TEXT("--master-key-file", "FOUTA_MASTER_KEY_FILE", master_key_file, "FILE",
         "64 hex digits that wrap each person's data key (default: FOUTA_MASTER_KEY, else "
         "DATA/auth/master.key, made at first start)"),
    TEXT("--cors-origins", "FOUTA_CORS_ORIGINS", cors_origins, "LIST",
         "comma list of origins allowed by CORS (default none)"),
    U32("--access-ttl", "FOUTA_ACCESS_TTL", access_ttl_s,
        "seconds an access token lives (default 900)"),
    U32("--refresh-ttl", "FOUTA_REFRESH_TTL", refresh_ttl_s,
        "seconds a refresh token lives (default 2592000); each use rotates it"),
    U32("--rate-per-min", "FOUTA_RATE_PER_MIN", rate_per_min,
        "requests per client address and minute (default 60000; 0: off); beyond: 429"),
    U32("--rate-burst", "FOUTA_RATE_BURST", rate_burst,
        "requests a client address may make at once (default 10000)"),
    U32("--login-rate-per-min", "FOUTA_LOGIN_RATE_PER_MIN", login_rate_per_min,
        "refused sign-ins per client address and minute (default 10); beyond: 429"),
    U32("--login-rate-burst", "FOUTA_LOGIN_RATE_BURST", login_rate_burst,
        "refused sign-ins a client address may make at once (default 10)"),
    U32("--argon2-memory-kib", "FOUTA_ARGON2_MEMORY_KIB", argon2_memory_kib,
        "Argon2id memory of new password hashes, KiB (default 19456)"),
    U32("--argon2-passes", "FOUTA_ARGON2_PASSES", argon2_passes,
        "Argon2id passes of new password hashes (default 2)"),
    {"--add-user", "", OPT_ADD_USER, 0, 0, "TENANT:USER:ROLE",
     "create a user (the first admin of a tenant) with the password of FOUTA_USER_PASSWORD or "
     "of standard input's first line, then exit; repeatable"},
};

#define OPTIONS_COUNT (sizeof(options) / sizeof(options[0]))

/* Where `npm install -g` (scripts/setup) puts packages, `npm root -g`: npm's own default prefix
 * gives /usr/local/lib/node_modules (Debian's npm); a node built with prefix /usr and its
 * bundled npm give /usr/lib/node_modules. The first that holds swagger-ui-dist is the default;
 * --swagger-ui-dir names any other. */
static const char *const npm_global_roots[] = {"/usr/local/lib/node_modules",
                                               "/usr/lib/node_modules"};

static void swagger_ui_default(api_config_t *config)
{
    for (size_t i = 0; i < sizeof(npm_global_roots) / sizeof(npm_global_roots[0]); i++) {
        snprintf(config->swagger_ui_dir, sizeof(config->swagger_ui_dir), "%s/swagger-ui-dist",
                 npm_global_roots[i]);
        char bundle[sizeof(config->swagger_ui_dir) + 32];
        snprintf(bundle, sizeof(bundle), "%s/swagger-ui-bundle.js", config->swagger_ui_dir);
        if (access(bundle, R_OK) == 0)
            return;
    }
    /* Installed nowhere: /docs answers 404 naming the option; the first root is the default. */
    snprintf(config->swagger_ui_dir, sizeof(config->swagger_ui_dir), "%s/swagger-ui-dist",
             npm_global_roots[0]);
}

void api_config_defaults(api_config_t *config)
{
    memset(config, 0, sizeof(*config));
    snprintf(config->listen_host, sizeof(config->listen_host), "127.0.0.1");
    config->listen_port = 8080;
    swagger_ui_default(config);
    snprintf(config->web_dir, sizeof(config->web_dir), "%s", FOUTA_WEB_DIR);
    config->header_bytes_max = API_HEADER_BYTES_MAX;
    config->body_bytes_max = API_BODY_BYTES_MAX;
    config->blob_bytes_max = API_BLOB_BYTES_MAX;
    config->asof_snapshot_every = API_ASOF_SNAPSHOT_EVERY;
    config->asof_snapshot_period_ms = API_ASOF_SNAPSHOT_PERIOD_MS;
    config->connections_max = API_CONNECTIONS_MAX;
    config->header_timeout_ms = API_HEADER_TIMEOUT_MS;
    config->body_timeout_ms = API_BODY_TIMEOUT_MS;
    config->idle_timeout_ms = API_IDLE_TIMEOUT_MS;
    config->ws_buffer_bytes_max = API_WS_BUFFER_BYTES_MAX;
    config->ws_heartbeat_ms = API_WS_HEARTBEAT_MS;
    config->shutdown_timeout_ms = API_SHUTDOWN_TIMEOUT_MS;
    config->log_level = API_LOG_INFO;
    snprintf(config->tls_listen_host, sizeof(config->tls_listen_host), "127.0.0.1");
    config->tls_listen_port = 8443;
    config->hsts_max_age_s = API_HSTS_MAX_AGE_S;
    config->access_ttl_s = API_ACCESS_TTL_S;
    config->refresh_ttl_s = API_REFRESH_TTL_S;
    config->rate_per_min = API_RATE_PER_MIN;
    config->rate_burst = API_RATE_BURST;
    config->login_rate_per_min = API_LOGIN_RATE_PER_MIN;
    config->login_rate_burst = API_LOGIN_RATE_BURST;
    config->argon2_memory_kib = API_ARGON2_MEMORY_KIB;
    config->argon2_passes = API_ARGON2_PASSES;
}

void api_config_usage(void *out)
{
    FILE *file = out;
    fprintf(file, "usage: foutad --data-dir DIR [options]\n\n"
                  "Serves the Fouta Ledger HTTP/1.1 and WebSocket API (/api/v1, /docs, /health, "
                  "/metrics).\nEach option can also be set by its environment variable; a flag "
                  "wins over the environment.\nSIGTERM or SIGINT stops gracefully.\n\n");
    for (size_t i = 0; i < OPTIONS_COUNT; i++)
        fprintf(file, "  %s %s\n      %s (env %s)\n", options[i].flag, options[i].arg,
                options[i].help, options[i].env);
    fprintf(file, "  --help\n      this text\n");
}

static int set_listen(char *listen_host, size_t host_size, int *listen_port, const char *value)
{
    const char *colon = strrchr(value, ':');
    if (colon == NULL || colon == value || (size_t)(colon - value) >= host_size)
        return FL_EINVAL;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || end == colon + 1 || port < 0 || port > 65535)
        return FL_EINVAL;
    const char *host = value;
    size_t host_len = (size_t)(colon - value);
    if (host[0] == '[' && host_len >= 2 && host[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    memcpy(listen_host, host, host_len);
    listen_host[host_len] = '\0';
    *listen_port = (int)port;
    return 0;
}

static int set_option(api_config_t *config, const option_t *option, const char *value)
{
    char *field = (char *)config + option->offset;
    switch (option->kind) {
    case OPT_TEXT:
        if (strlen(value) >= option->size)
            return FL_ETOOBIG;
        memcpy(field, value, strlen(value) + 1);
        return 0;
    case OPT_U32: {
        char *end;
        if (!isdigit((unsigned char)value[0]))
            return FL_EINVAL;
        unsigned long long number = strtoull(value, &end, 10);
        if (*end != '\0' || number > UINT32_MAX)
            return FL_EINVAL;
        uint32_t u32 = (uint32_t)number;
        if (option->offset == offsetof(api_config_t, log_level))
            config->log_level = (int)u32;
        else
            memcpy(field, &u32, sizeof(u32));
        return 0;
    }
    case OPT_LISTEN:
        return set_listen(config->listen_host, sizeof(config->listen_host), &config->listen_port,
                          value);
    case OPT_TLS_LISTEN:
        return set_listen(config->tls_listen_host, sizeof(config->tls_listen_host),
                          &config->tls_listen_port, value);
    case OPT_ADD_USER:
        if (config->add_users_count == API_ADD_USERS_MAX ||
            strlen(value) >= sizeof(config->add_users[0]))
            return FL_ETOOBIG;
        snprintf(config->add_users[config->add_users_count++], sizeof(config->add_users[0]), "%s",
                 value);
        return 0;
    }
    return FL_EINVAL;
}

static int check(const api_config_t *config)
{
    if (config->data_dir[0] == '\0') {
        fprintf(stderr, "foutad: --data-dir (or FOUTA_DATA_DIR) is required\n");
        return FL_EINVAL;
    }
    if (config->header_bytes_max < 256 || config->connections_max == 0 ||
        config->body_bytes_max == 0 || config->blob_bytes_max == 0 ||
        config->asof_snapshot_every == 0 || config->header_timeout_ms == 0 ||
        config->body_timeout_ms == 0 || config->idle_timeout_ms == 0 ||
        config->ws_buffer_bytes_max < 4096 || config->ws_heartbeat_ms == 0 ||
        config->log_level > API_LOG_DEBUG || config->access_ttl_s == 0 ||
        config->refresh_ttl_s == 0 || config->login_rate_per_min == 0 ||
        config->login_rate_burst == 0 || config->argon2_memory_kib < 8 ||
        config->argon2_passes == 0) {
        fprintf(stderr, "foutad: a limit is out of its range (see --help)\n");
        return FL_EINVAL;
    }
    if ((config->tls_cert_file[0] != '\0') != (config->tls_key_file[0] != '\0')) {
        fprintf(stderr, "foutad: --tls-cert and --tls-key go together\n");
        return FL_EINVAL;
    }
    return 0;
}

int api_config_parse(api_config_t *config, int argc, char **argv)
{
    for (size_t i = 0; i < OPTIONS_COUNT; i++) {
        const char *value = options[i].env[0] != '\0' ? getenv(options[i].env) : NULL;
        if (value != NULL && set_option(config, &options[i], value) != 0) {
            fprintf(stderr, "foutad: bad value for %s: %s\n", options[i].env, value);
            return FL_EINVAL;
        }
    }
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
            api_config_usage(stdout);
            return 1;
        }
        const option_t *option = NULL;
        const char *value = NULL;
        for (size_t i = 0; i < OPTIONS_COUNT && option == NULL; i++) {
            size_t flag_len = strlen(options[i].flag);
            if (strncmp(argv[a], options[i].flag, flag_len) != 0)
                continue;
            if (argv[a][flag_len] == '=')
                value = argv[a] + flag_len + 1;
            else if (argv[a][flag_len] == '\0' && a + 1 < argc)
                value = argv[++a];
            else
                continue;
            option = &options[i];
        }
        if (option == NULL) {
            fprintf(stderr, "foutad: unknown option or missing value: %s (see --help)\n", argv[a]);
            return FL_EINVAL;
        }
        if (set_option(config, option, value) != 0) {
            fprintf(stderr, "foutad: bad value for %s: %s\n", option->flag, value);
            return FL_EINVAL;
        }
    }
    return check(config);
}
