/*
 * client: a C client of foutad. One keep-alive HTTP/1.1 connection (plain, or TLS for https://
 * URLs), events posted one by one or in batches with retries on network errors and
 * 503 or 429 that resend the very same bytes (event ids included), so that a retry of an event the
 * server had already recorded answers 200 and nothing is recorded twice. Reads of units,
 * genealogy, stock and orders; the live stream tailed over WebSocket (wslay) from a sequence,
 * resumed from the next sequence after a lost connection.
 *
 * Errors are the codes of base/base.h. A refusal by the server is its problem+json's code
 * (FL_ERULE_HU_HELD for "RULE_HU_HELD"...), with the code's name, the field at fault and the
 * message copied into an fc_problem_t. Network failures that outlast the retries are -errno
 * values (FL_EIO when there is none).
 *
 * Who the client is stands in one place, fc_auth_headers (auth.c): a bearer access token, from
 * FOUTA_TOKEN, the token file `fouta login` wrote, or a sign-in of the client's own when
 * FOUTA_PASSWORD is set. The server records the token's user as the actor.
 */
#ifndef FC_CLIENT_H
#define FC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

#define FC_URL_LEN_MAX          512
#define FC_BATCH_EVENTS_MAX     1000 /* foutad's limit per POST */
#define FC_RETRIES_DEFAULT      8
#define FC_RETRY_DELAY_MS       100 /* doubled at each retry */
#define FC_RETRY_DELAY_MS_MAX   3000
#define FC_TIMEOUT_MS_DEFAULT   15000
#define FC_RESPONSE_BYTES_MAX   (64 * 1024 * 1024)
#define FC_WS_MESSAGE_BYTES_MAX (16 * 1024 * 1024)

/* Sign-ins shared by clients, which may run on several threads: with FOUTA_PASSWORD, each
 * role's token is signed in once for all of them and renewed once when it expires. */
typedef struct fc_tokens fc_tokens_t;

typedef struct {
    const char *url; /* "http://127.0.0.1:8080" or "https://plant.example:8443" */
    const char
        *ca_file;     /* https: the authorities to trust; NULL: FOUTA_CA_FILE, else the system's */
    const char *user; /* informative: the server takes the actor from the token */
    const char *role; /* with FOUTA_PASSWORD, signs in as the user named after it */
    const char *device;   /* NULL: "fouta-client" */
    uint32_t retries_max; /* 0: FC_RETRIES_DEFAULT */
    uint32_t timeout_ms;  /* one send or receive; 0: FC_TIMEOUT_MS_DEFAULT */
    fc_tokens_t *tokens;  /* NULL: the client's own sign-ins */
} fc_config_t;

/* What the server said when it refused: problem+json members. */
typedef struct {
    int status;      /* HTTP status; 0 when no answer */
    char code[48];   /* "RULE_HU_HELD" */
    char field[128]; /* "payload.hu_id" */
    char message[256];
} fc_problem_t;

/* One event's outcome. */
typedef struct {
    int rc;         /* 0 recorded (now or before), else the refusal's code */
    int status;     /* 201 recorded, 200 already recorded, else the refusal's status */
    uint64_t seq;   /* its sequence when recorded */
    bool duplicate; /* it had been recorded before (a retry, a second post) */
    fc_problem_t problem;
} fc_verdict_t;

/* An answer to a read. body is malloc'd, NUL-terminated, freed by fc_response_free. */
typedef struct {
    int status;
    char *body;
    size_t body_len;
} fc_response_t;

typedef struct fc_client fc_client_t;

#define FC_TOKEN_FILE_DEFAULT ".fouta-token" /* where `fouta login` keeps the access token */

/* Signs in (POST /api/v1/auth/login) on a connection of its own: the access token into token
 * and, when refresh is not NULL, the refresh token; with bind, the tokens are bound to the
 * client's device (refused from another). 0, FL_EUNAUTHORIZED, FL_ERATE_LIMITED, FL_EINVAL,
 * FL_EIO, -errno. */
int fc_login(fc_client_t *client, const char *tenant, const char *user, const char *password,
             bool bind, char *token, size_t size, char *refresh, size_t refresh_size);
/* Signs out (POST /api/v1/auth/logout): the server revokes the token's refresh family. 0,
 * FL_EUNAUTHORIZED, or a network error. */
int fc_logout(fc_client_t *client);

/* Errors: FL_EINVAL (a URL that is not http[s]://host[:port], or an unreadable CA file),
 * FL_ENOMEM. Connects lazily. */
int fc_open(fc_client_t **out, const fc_config_t *config);

/* Accepts NULL. */
void fc_close(fc_client_t *client);

/* A cache of sign-ins for clients to share (fc_config_t.tokens). 0 or FL_ENOMEM. */
int fc_tokens_new(fc_tokens_t **out);
/* After every client that uses it is closed. Accepts NULL. */
void fc_tokens_free(fc_tokens_t *tokens);

/* With FOUTA_PASSWORD: signs in as the actor's role now unless its token is cached, so that a
 * timed run does not pay for it. 0, or the sign-in's error (FL_EUNAUTHORIZED...). */
int fc_authenticate(fc_client_t *client);

/* How many times a request was sent again after a network error, a 503 or a 429 (tests). */
uint64_t fc_retries(const fc_client_t *client);

/* Changes the actor of the next requests (a file whose lines name their own actor). */
int fc_set_actor(fc_client_t *client, const char *user, const char *role, const char *device);

/*
 * Posts one event (its JSON, as in docs/events.md). Returns 0 when it is recorded (verdict
 * status 201, or 200 when it already was), or the server's refusal code with verdict->problem
 * filled (FL_ERULE_*, FL_EMISSING_FIELD, FL_EFORBIDDEN_ROLE, FL_ECONFLICT_ID...), or a network
 * error once the retries are spent (-ECONNREFUSED, FL_ETIMEDOUT, FL_EIO), or FL_EBUSY when
 * every retry met a 503.
 */
int fc_post_event(fc_client_t *client, const char *json, size_t len, fc_verdict_t *verdict);

/*
 * Posts up to FC_BATCH_EVENTS_MAX events in one request (a JSON array, not atomic): each gets
 * its verdict in verdicts[i]. Returns 0 when the server answered for each (some may be
 * refused: see the verdicts), a refusal of the whole request (FL_ETOOBIG, FL_EINVALID_JSON...
 * with verdicts[0].problem), or a network error as fc_post_event.
 */
int fc_post_batch(fc_client_t *client, const char *const *events, const size_t *lens,
                  uint32_t count, fc_verdict_t *verdicts);

/* GET path (with its query, already escaped). Returns 0 for a 2xx answer, the problem's code
 * otherwise (FL_ENOENT for a 404...) with *problem filled when not NULL; the body is in
 * *response either way (when the server answered). */
int fc_get(fc_client_t *client, const char *path, fc_response_t *response, fc_problem_t *problem);

/* The reads of the plant's state (docs/api.md), answers as fc_get's. */
int fc_hu(fc_client_t *client, const char *hu_id, fc_response_t *response, fc_problem_t *problem);
/* A unit's label as the server renders it, QR code included: ZPL for a thermal printer, or
 * else SVG. */
int fc_label(fc_client_t *client, const char *hu_id, bool zpl, fc_response_t *response,
             fc_problem_t *problem);
int fc_genealogy(fc_client_t *client, const char *entity, bool down, uint32_t depth,
                 fc_response_t *response, fc_problem_t *problem);
int fc_order(fc_client_t *client, const char *of_id, fc_response_t *response,
             fc_problem_t *problem);
/* query: "item=TW-500&status=released&group_by=location" (values escaped by fc_query_add) or
 * NULL. */
int fc_stock(fc_client_t *client, const char *query, fc_response_t *response,
             fc_problem_t *problem);

/* Appends "name=value" (value percent-escaped) to a query of size bytes. FL_ETOOBIG when full. */
int fc_query_add(char *query, size_t size, const char *name, const char *value);

void fc_response_free(fc_response_t *response);

/* The code of base.h named by a problem's "code" ("RULE_HU_HELD"), FL_EINTERNAL when unknown. */
int fc_code_from_name(const char *name);

/* ---- the live stream */

/* An event of the stream: its sequence and its JSON text (valid during the call). Return
 * non-zero to stop tailing. */
typedef int (*fc_tail_cb)(uint64_t seq, const char *event_json, size_t len, void *data);

typedef struct {
    uint64_t from_seq;   /* 0: from the next event (live only) */
    const char *types;   /* "ProductionDeclared,LoomStopped" or NULL */
    const char *streams; /* or NULL */
    uint32_t idle_ms;    /* stop after this long without an event; 0: never */
} fc_tail_config_t;

/*
 * Subscribes to GET /api/v1/ws and calls cb for every event, in sequence order, each once.
 * A lost connection (a restart of foutad) is resumed from the sequence after the last one
 * delivered, up to the client's retries in a row. Returns 0 when cb stopped or idle_ms
 * passed, or a network error when the retries are spent, or FL_EINVAL for a bad answer to
 * the upgrade. *next_seq_out (may be NULL) gets the sequence to resume from.
 */
int fc_tail(fc_client_t *client, const fc_tail_config_t *config, fc_tail_cb cb, void *data,
            uint64_t *next_seq_out);

#endif
