/*
 * The security of the front (issue 5) against a real foutad: forged, expired and foreign access
 * tokens, a disabled user, refresh rotation and its reuse detection, logout, sign-in throttling,
 * each role's refusals and the recorded actor, CORS preflights, HTTPS with a development
 * certificate through curl (TLS 1.2 and 1.3, HSTS, the plain port's redirect), personal data
 * encrypted in the ledger's file and erased with the chain still verifying, and logs that never
 * hold a secret. Tokens are minted here with the server's own key file where a test needs one
 * the server would not issue (expired, alg none, RS256).
 */
#define _GNU_SOURCE /* memmem */
#include "tests/api/client.h"

#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "events/events.h"

static server_t server;

static void teardown(void)
{
    if (server.pid > 0)
        cr_assert_eq(server_stop(&server), 0, "foutad did not stop cleanly");
    else if (server.dir[0] != '\0')
        test_tmpdir_remove(server.dir);
    memset(&server, 0, sizeof(server));
}

TestSuite(security, .fini = teardown, .timeout = 120);

/* ---- requests ---- */

/* One request on a new connection; headers must carry an Authorization line ("Authorization:
 * none" for no token). Returns the status; the response is freed by the caller. */
static int call(const char *method, const char *path, const char *headers, const char *body,
                response_t *r)
{
    client_t c;
    client_open(&c, server.port);
    client_request(&c, method, path, headers, body, r);
    client_close(&c);
    return r->status;
}

static const char *bearer(char *out, size_t size, const char *token)
{
    snprintf(out, size, JSON_HEADERS "Authorization: Bearer %s\r\n", token);
    return out;
}

/* GET path with token: the status. */
static int get_with(const char *token, const char *path)
{
    char headers[1600];
    response_t r;
    int status = call("GET", path, bearer(headers, sizeof(headers), token), NULL, &r);
    response_free(&r);
    return status;
}

/* Signs in: the status; access and refresh tokens on 200. */
static int sign_in(const char *tenant, const char *user, const char *password, char *access,
                   char *refresh)
{
    response_t r;
    login_as(server.port, tenant, user, password, &r);
    int status = r.status;
    if (access != NULL)
        json_text(r.body, "access_token", access, 1200);
    if (refresh != NULL)
        json_text(r.body, "refresh_token", refresh, 128);
    response_free(&r);
    return status;
}

/* Rotates a refresh token: the status; the new pair on 200. */
static int refresh_with(const char *refresh, char *access, char *next)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\"}", refresh);
    response_t r;
    call("POST", "/api/v1/auth/refresh", JSON_HEADERS "Authorization: none\r\n", body, &r);
    int status = r.status;
    if (status == 200) {
        json_text(r.body, "access_token", access, 1200);
        json_text(r.body, "refresh_token", next, 128);
    }
    response_free(&r);
    return status;
}

static void data_path(char *out, size_t size, const char *rest)
{
    snprintf(out, size, "%s/data/%s", server.dir, rest);
}

/* Runs a shell command: its exit status, and its output (stdout and stderr) into out. */
static int run(const char *command, char *out, size_t size)
{
    char line[4200];
    snprintf(line, sizeof(line), "%s 2>&1", command);
    FILE *pipe = popen(line, "r");
    cr_assert_not_null(pipe, "popen %s", command);
    size_t len = fread(out, 1, size - 1, pipe);
    out[len] = '\0';
    int status = pclose(pipe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Whether a file's bytes hold text. */
static bool file_holds(const char *path, const char *text)
{
    FILE *file = fopen(path, "rb");
    cr_assert_not_null(file, "open %s", path);
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *bytes = malloc((size_t)size + 1);
    cr_assert_not_null(bytes);
    cr_assert_eq(fread(bytes, 1, (size_t)size, file), (size_t)size);
    fclose(file);
    bool found = memmem(bytes, (size_t)size, text, strlen(text)) != NULL;
    free(bytes);
    return found;
}

/* ---- tokens minted by the test ---- */

static void b64url(const uint8_t *bytes, size_t len, char *out)
{
    int n = EVP_EncodeBlock((unsigned char *)out, bytes, (int)len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (char *c = out; *c != '\0'; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
}

/* The JSON of a token's middle segment. */
static json_t *token_claims(const char *token)
{
    const char *start = strchr(token, '.') + 1;
    size_t len = strcspn(start, ".");
    char text[2048];
    snprintf(text, sizeof(text), "%.*s", (int)len, start);
    for (char *c = text; *c != '\0'; c++)
        *c = *c == '-' ? '+' : *c == '_' ? '/' : *c;
    while (strlen(text) % 4 != 0)
        strcat(text, "=");
    size_t padding = len % 4 == 0 ? 0 : 4 - len % 4;
    uint8_t bytes[1600];
    int n = EVP_DecodeBlock(bytes, (const unsigned char *)text, (int)strlen(text));
    cr_assert_gt(n, (int)padding);
    /* EVP_DecodeBlock counts the padding's zero bytes: they are not the JSON's */
    json_t *claims = json_loadb((const char *)bytes, (size_t)n - padding, 0, NULL);
    cr_assert_not_null(claims);
    return claims;
}

/* The server's signing key: the first key line of DATA/auth/jwt.keys, "KID HEX" ('#' starts a
 * comment line). */
static void signing_key(char *kid, uint8_t key[32])
{
    char path[400], line[256], hex[80] = "";
    data_path(path, sizeof(path), "auth/jwt.keys");
    FILE *file = fopen(path, "r");
    cr_assert_not_null(file, "the server's key file");
    while (hex[0] == '\0' && fgets(line, sizeof(line), file) != NULL)
        if (line[0] != '#' && sscanf(line, "%31s %64s", kid, hex) != 2)
            hex[0] = '\0';
    fclose(file);
    cr_assert_eq(strlen(hex), 64, "a key line in %s", path);
    for (int i = 0; i < 32; i++) {
        unsigned byte;
        cr_assert_eq(sscanf(hex + 2 * i, "%2x", &byte), 1);
        key[i] = (uint8_t)byte;
    }
}

/* header.claims.signature, signed with HMAC-SHA-256 under key (no signature when NULL). */
static void mint(const char *header, json_t *claims, const uint8_t *key, char *out)
{
    char *body = json_dumps(claims, JSON_COMPACT);
    char head64[256], body64[1600], sig64[64];
    b64url((const uint8_t *)header, strlen(header), head64);
    b64url((const uint8_t *)body, strlen(body), body64);
    free(body);
    sprintf(out, "%s.%s", head64, body64);
    if (key == NULL) {
        strcat(out, ".");
        return;
    }
    uint8_t mac[32];
    unsigned int mac_len = sizeof(mac);
    HMAC(EVP_sha256(), key, 32, (const uint8_t *)out, strlen(out), mac, &mac_len);
    b64url(mac, mac_len, sig64);
    strcat(out, ".");
    strcat(out, sig64);
}

static void check_refused(const char *token, const char *what)
{
    char headers[2400];
    response_t r;
    int status = call("GET", "/api/v1/head", bearer(headers, sizeof(headers), token), NULL, &r);
    cr_assert_eq(status, 401, "%s: %d %s", what, status, r.body);
    cr_assert_not_null(strstr(r.body, "\"code\":\"UNAUTHORIZED\""), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"field\":\"header:Authorization\""), "%s", r.body);
    response_free(&r);
}

Test(security, forged_tokens_are_refused_alg_none_rs256_unknown_key_bad_signature_and_expired)
{
    server_start(&server);
    char access[1200], kid[32], token[2400], header[128];
    uint8_t key[32];
    cr_assert_eq(sign_in(TEST_TENANT, "manager", TEST_PASSWORD, access, NULL), 200);
    cr_assert_eq(get_with(access, "/api/v1/head"), 200);
    signing_key(kid, key);
    json_t *claims = token_claims(access);

    /* The test's minting is right: the same claims signed with the server's key pass. */
    snprintf(header, sizeof(header), "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
    mint(header, claims, key, token);
    cr_assert_eq(get_with(token, "/api/v1/head"), 200, "a token minted like the server's");

    mint("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims, NULL, token);
    check_refused(token, "alg none");
    snprintf(header, sizeof(header), "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
    mint(header, claims, key, token);
    check_refused(token, "alg none with a signature");

    /* HMAC/RSA confusion: RS256 named, the server's own key used as an HMAC secret. */
    snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
    mint(header, claims, key, token);
    check_refused(token, "alg RS256");
    uint8_t other_key[32];
    memset(other_key, 0x5a, sizeof(other_key));
    mint("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"not-ours\"}", claims, other_key, token);
    check_refused(token, "a key id that is not ours");

    /* A bad signature: one character of the server's own token changed. */
    snprintf(token, sizeof(token), "%s", access);
    char *signature = strrchr(token, '.') + 1;
    signature[0] = signature[0] == 'A' ? 'B' : 'A';
    check_refused(token, "a bad signature");
    /* Claims changed under the server's signature (another user). */
    json_t *changed = json_deep_copy(claims);
    json_object_set_new(changed, "sub", json_string("admin"));
    json_object_set_new(changed, "role", json_string("admin"));
    snprintf(header, sizeof(header), "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
    mint(header, changed, other_key, token);
    check_refused(token, "claims signed with another key");
    json_decref(changed);

    /* Expired an hour ago, signed with the server's own key. */
    json_int_t now = (json_int_t)time(NULL);
    json_object_set_new(claims, "iat", json_integer(now - 7200));
    json_object_set_new(claims, "nbf", json_integer(now - 7200));
    json_object_set_new(claims, "exp", json_integer(now - 3600));
    mint(header, claims, key, token);
    check_refused(token, "an expired token");
    json_decref(claims);

    check_refused("not-a-token", "garbage");
    response_t r;
    cr_assert_eq(call("GET", "/api/v1/head", "Authorization: none\r\n", NULL, &r), 401);
    response_free(&r);
}

/* ---- tenants ---- */

Test(security, another_tenants_token_sees_nothing_here_and_cannot_name_this_tenant)
{
    test_tmpdir(server.dir, sizeof(server.dir));
    char data[300];
    snprintf(data, sizeof(data), "%s/data", server.dir);
    add_test_users(data);
    const char *argv[] = {FOUTAD_PATH,
                          "--data-dir",
                          data,
                          "--log-level",
                          "0",
                          "--argon2-memory-kib",
                          "64",
                          "--argon2-passes",
                          "1",
                          "--add-user",
                          "mill:admin:admin",
                          "--add-user",
                          "mill:miller:manager",
                          NULL};
    cr_assert_eq(run_foutad(argv), 0, "a second tenant's first admin");
    server_start(&server);

    char event[512], plant_token[1200], mill_token[1200];
    event_goods(event, sizeof(event), 1, "R1", "1000000");
    response_t r;
    cr_assert_eq(call("POST", "/api/v1/events", ACTOR("store_raw"), event, &r), 201, "%s", r.body);
    response_free(&r);
    cr_assert_eq(sign_in(TEST_TENANT, "admin", TEST_PASSWORD, plant_token, NULL), 200);
    cr_assert_eq(sign_in("mill", "admin", TEST_PASSWORD, mill_token, NULL), 200);
    cr_assert_eq(get_with(plant_token, "/api/v1/hus/R1"), 200);

    /* The mill's admin reads the mill's ledger: the plant's unit is not there. */
    cr_assert_eq(get_with(mill_token, "/api/v1/hus/R1"), 404);
    char headers[1600];
    cr_assert_eq(
        call("GET", "/api/v1/events", bearer(headers, sizeof(headers), mill_token), NULL, &r), 200);
    cr_assert_eq(json_number(r.body, "count"), 0, "%s", r.body);
    response_free(&r);

    /* Naming the plant in a query is refused, whatever the route. */
    cr_assert_eq(call("GET", "/api/v1/events?tenant=plant",
                      bearer(headers, sizeof(headers), mill_token), NULL, &r),
                 403);
    cr_assert_not_null(strstr(r.body, "\"code\":\"FORBIDDEN_TENANT\""), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"field\":\"query:tenant\""), "%s", r.body);
    response_free(&r);
    cr_assert_eq(get_with(mill_token, "/api/v1/stock?tenant=plant"), 403);
    cr_assert_eq(get_with(mill_token, "/api/v1/ws?tenant=plant"), 403);
    cr_assert_eq(get_with(plant_token, "/api/v1/events?tenant=plant"), 200);

    /* The mill's token with its tenant claim changed to the plant's is no longer signed. */
    json_t *claims = token_claims(mill_token);
    json_object_set_new(claims, "ten", json_string("plant"));
    char token[2400];
    snprintf(token, sizeof(token), "%.*s", (int)(strchr(mill_token, '.') - mill_token), mill_token);
    char *body = json_dumps(claims, JSON_COMPACT), body64[1600];
    b64url((const uint8_t *)body, strlen(body), body64);
    free(body);
    json_decref(claims);
    strcat(token, ".");
    strcat(token, body64);
    strcat(token, strrchr(mill_token, '.'));
    check_refused(token, "the mill's token claiming the plant");

    /* And a user of the mill cannot sign in to the plant. */
    cr_assert_eq(sign_in("mill", "miller", TEST_PASSWORD, NULL, NULL), 200);
    cr_assert_eq(sign_in(TEST_TENANT, "miller", TEST_PASSWORD, NULL, NULL), 401);
    cr_assert_eq(sign_in("no-such-tenant", "admin", TEST_PASSWORD, NULL, NULL), 401);
}

/* ---- users, sessions ---- */

Test(security, a_disabled_user_is_refused_at_once_and_cannot_refresh)
{
    server_start(&server);
    char access[1200], refresh[128];
    cr_assert_eq(sign_in(TEST_TENANT, "weaver", TEST_PASSWORD, access, refresh), 200);
    cr_assert_eq(get_with(access, "/api/v1/head"), 200);
    response_t r;
    cr_assert_eq(call("POST", "/api/v1/events", ACTOR("admin"),
                      "{\"id\":\"0190b2a0-7c1d-7000-8000-0000000000d1\",\"type\":\"UserDisabled\","
                      "\"occurred_at_us\":1764000000000000,\"payload\":{\"user_id\":\"weaver\","
                      "\"reason\":\"left the plant\"}}",
                      &r),
                 201, "%s", r.body);
    response_free(&r);
    check_refused(access, "a disabled user's access token");
    char next_access[1200], next_refresh[128];
    cr_assert_eq(refresh_with(refresh, next_access, next_refresh), 401);
    cr_assert_eq(sign_in(TEST_TENANT, "weaver", TEST_PASSWORD, NULL, NULL), 401);
}

/* Posts a user lifecycle event as the admin; expects 201. */
static void post_user_event(unsigned id, const char *type, const char *payload)
{
    char event[1024];
    snprintf(event, sizeof(event),
             "{\"id\":\"0190b2a0-7c1d-7000-8000-%012u\",\"type\":\"%s\","
             "\"occurred_at_us\":1764000000000000,\"payload\":%s}",
             id, type, payload);
    response_t r;
    cr_assert_eq(call("POST", "/api/v1/events", ACTOR("admin"), event, &r), 201, "%s: %s", type,
                 r.body);
    response_free(&r);
}

/* The users listing's entry of user, copied into out ("" when absent). */
static void users_entry(const char *body, const char *user, char *out, size_t size)
{
    char needle[128];
    snprintf(needle, sizeof(needle), "{\"user_id\":\"%s\",", user);
    const char *at = strstr(body, needle);
    const char *end = at != NULL ? strchr(at, '}') : NULL;
    snprintf(out, size, "%.*s", end != NULL ? (int)(end - at + 1) : 0, at != NULL ? at : "");
}

Test(security, the_users_are_listed_to_the_admin_and_the_manager_with_role_and_state_only)
{
    server_start(&server);
    response_t r;
    char entry[256];
    cr_assert_eq(call("GET", "/api/v1/users", ACTOR("admin"), NULL, &r), 200, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"count\":9,\"truncated\":false"), "%s", r.body);
    users_entry(r.body, "weaver", entry, sizeof(entry));
    cr_assert_str_eq(entry, "{\"user_id\":\"weaver\",\"role\":\"weaver\",\"state\":\"active\"}");
    response_free(&r);
    /* Invited (no password yet), given another role, disabled, reactivated: each shows. */
    post_user_event(0xe1, "UserInvited",
                    "{\"user_id\":\"U8\",\"display_name\":\"Salma Ben Ali\","
                    "\"email\":\"salma@example.tn\",\"role\":\"cutter\"}");
    post_user_event(0xe2, "UserRoleChanged",
                    "{\"user_id\":\"U8\",\"role\":\"quality\",\"reason\":\"moved to QC\"}");
    post_user_event(0xe3, "UserDisabled", "{\"user_id\":\"mechanic\",\"reason\":\"left\"}");
    cr_assert_eq(call("GET", "/api/v1/users", ACTOR("manager"), NULL, &r), 200, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"count\":10,"), "%s", r.body);
    users_entry(r.body, "U8", entry, sizeof(entry));
    cr_assert_str_eq(entry, "{\"user_id\":\"U8\",\"role\":\"quality\",\"state\":\"invited\"}");
    users_entry(r.body, "mechanic", entry, sizeof(entry));
    cr_assert_str_eq(entry,
                     "{\"user_id\":\"mechanic\",\"role\":\"mechanic\",\"state\":\"disabled\"}");
    /* No personal data, no password hash. */
    cr_assert_null(strstr(r.body, "Salma"), "%s", r.body);
    cr_assert_null(strstr(r.body, "example.tn"), "%s", r.body);
    cr_assert_null(strstr(r.body, "argon2"), "%s", r.body);
    response_free(&r);
    post_user_event(0xe4, "UserReactivated", "{\"user_id\":\"mechanic\",\"reason\":\"back\"}");
    cr_assert_eq(call("GET", "/api/v1/users", ACTOR("admin"), NULL, &r), 200, "%s", r.body);
    users_entry(r.body, "mechanic", entry, sizeof(entry));
    cr_assert_str_eq(entry,
                     "{\"user_id\":\"mechanic\",\"role\":\"mechanic\",\"state\":\"active\"}");
    response_free(&r);
    /* Another role is refused, and told who may. */
    cr_assert_eq(call("GET", "/api/v1/users", ACTOR("quality"), NULL, &r), 403, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"code\":\"FORBIDDEN\""), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "may not use listUsers: only admin manager"), "%s", r.body);
    response_free(&r);
    /* The OpenAPI document declares it. */
    cr_assert_eq(call("GET", "/api/v1/openapi.json", "", NULL, &r), 200);
    cr_assert_not_null(strstr(r.body, "\"/api/v1/users\""), "declared");
    cr_assert_not_null(strstr(r.body, "\"listUsers\""), "declared");
    response_free(&r);
}

Test(security, refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_family)
{
    server_start(&server);
    char access1[1200], refresh1[128], access2[1200], refresh2[128], access3[1200], refresh3[128];
    cr_assert_eq(sign_in(TEST_TENANT, "cutter", TEST_PASSWORD, access1, refresh1), 200);
    cr_assert_eq(strlen(refresh1), 64);
    cr_assert_eq(refresh_with(refresh1, access2, refresh2), 200);
    cr_assert_str_neq(refresh1, refresh2, "each refresh rotates the token");
    cr_assert_eq(get_with(access2, "/api/v1/head"), 200);

    /* refresh1 was rotated: presenting it again is theft. */
    cr_assert_eq(refresh_with(refresh1, access3, refresh3), 401);
    cr_assert_eq(refresh_with(refresh2, access3, refresh3), 401, "the newest one is revoked too");
    check_refused(access2, "an access token of the revoked family");
    check_refused(access1, "the first access token of the revoked family");

    /* Another sign-in opens a new family. */
    cr_assert_eq(sign_in(TEST_TENANT, "cutter", TEST_PASSWORD, access3, refresh3), 200);
    cr_assert_eq(get_with(access3, "/api/v1/head"), 200);
}

Test(security, logout_revokes_the_access_token_and_its_refresh_token)
{
    server_start(&server);
    char access[1200], refresh[128], headers[1600], other[1200], other_refresh[128];
    cr_assert_eq(sign_in(TEST_TENANT, "quality", TEST_PASSWORD, access, refresh), 200);
    cr_assert_eq(sign_in(TEST_TENANT, "quality", TEST_PASSWORD, other, other_refresh), 200);
    response_t r;
    cr_assert_eq(
        call("POST", "/api/v1/auth/logout", bearer(headers, sizeof(headers), access), "", &r), 204,
        "%s", r.body);
    response_free(&r);
    check_refused(access, "a signed-out token");
    char next[1200], next_refresh[128];
    cr_assert_eq(refresh_with(refresh, next, next_refresh), 401);
    /* The same user's other session (another phone) goes on. */
    cr_assert_eq(get_with(other, "/api/v1/head"), 200);
}

Test(security, sign_in_brute_force_is_throttled_with_429_and_retry_after)
{
    const char *extra[] = {"--login-rate-burst", "3", "--login-rate-per-min", "1", NULL};
    server_start_args(&server, extra);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(sign_in(TEST_TENANT, "admin", "guess-number-1", NULL, NULL), 401);
    response_t r;
    login_as(server.port, TEST_TENANT, "admin", "guess-number-4", &r);
    cr_assert_eq(r.status, 429, "%s", r.body);
    char retry[32];
    response_header(&r, "Retry-After", retry, sizeof(retry));
    cr_assert_gt(atoi(retry), 0, "Retry-After: %s", retry);
    cr_assert_not_null(strstr(r.body, "\"code\":\"RATE_LIMITED\""), "%s", r.body);
    response_free(&r);
    /* Even the right password waits: guessing cannot go on by mixing in a known one. */
    cr_assert_eq(sign_in(TEST_TENANT, "admin", TEST_PASSWORD, NULL, NULL), 429);
    char body[128] = "{\"refresh_token\":\"00\"}";
    cr_assert_eq(
        call("POST", "/api/v1/auth/refresh", JSON_HEADERS "Authorization: none\r\n", body, &r),
        429);
    response_free(&r);
}

/* ---- roles and the actor ---- */

Test(security, each_role_is_refused_a_type_it_may_not_post_with_403_and_a_clear_message)
{
    server_start(&server);
    for (int i = 0; i < TEST_ROLES; i++) {
        ev_role_t role = ev_role_parse(test_roles[i], strlen(test_roles[i]));
        cr_assert_lt(role, EV_ROLE_COUNT);
        const ev_type_t *type = NULL;
        for (uint32_t t = 0; t < ev_catalog_count && type == NULL; t++)
            if (!ev_role_may_post(&ev_catalog[t], role))
                type = &ev_catalog[t];
        cr_assert_not_null(type, "%s may post everything", test_roles[i]);
        char event[512], message[160];
        snprintf(event, sizeof(event),
                 "{\"id\":\"0190b2a0-7c1d-7000-8000-0000000001%02d\",\"type\":\"%s\","
                 "\"occurred_at_us\":1764000000000000,\"payload\":{}}",
                 i, type->name);
        response_t r;
        cr_assert_eq(call("POST", "/api/v1/events", ACTOR(test_roles[i]), event, &r), 403,
                     "%s posting %s: %s", test_roles[i], type->name, r.body);
        cr_assert_not_null(strstr(r.body, "\"code\":\"FORBIDDEN_ROLE\""), "%s", r.body);
        cr_assert_not_null(strstr(r.body, "\"field\":\"type\""), "%s", r.body);
        snprintf(message, sizeof(message), "the role %s may not post %s", test_roles[i],
                 type->name);
        cr_assert_not_null(strstr(r.body, message), "%s", r.body);
        response_free(&r);
    }
    /* A route of the admin alone: the same clear refusal. */
    response_t r;
    cr_assert_eq(
        call("POST", "/api/v1/persons/sub:S1/erase", ACTOR("manager"), "{\"reason\":\"x\"}", &r),
        403);
    cr_assert_not_null(strstr(r.body, "may not use erasePerson: only admin\""), "%s", r.body);
    response_free(&r);
    /* A view kept to some roles: a weaver does not read the KPIs, the recall or the chain. */
    const char *views[] = {"/api/v1/kpis", "/api/v1/recall?source=hu-X", "/api/v1/verify"};
    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
        cr_assert_eq(call("GET", views[i], ACTOR("weaver"), NULL, &r), 403, "%s", views[i]);
        cr_assert_not_null(strstr(r.body, "the role weaver may not use"), "%s", r.body);
        cr_assert_not_null(strstr(r.body, "only admin manager"), "%s", r.body);
        response_free(&r);
    }
    cr_assert_eq(call("GET", "/api/v1/kpis", ACTOR("quality"), NULL, &r), 200, "%s", r.body);
    response_free(&r);
}

Test(security, the_recorded_actor_is_the_tokens_user_whatever_the_request_says)
{
    server_start(&server);
    char event[512], headers[1800];
    event_goods(event, sizeof(event), 7, "R7", "1000");
    snprintf(headers, sizeof(headers), "%sX-Fouta-User: mallory\r\nX-Fouta-Role: admin\r\n",
             ACTOR("store_raw"));
    response_t r;
    cr_assert_eq(call("POST", "/api/v1/events", headers, event, &r), 201, "%s", r.body);
    response_free(&r);
    cr_assert_eq(call("GET", "/api/v1/events/1", ACTOR("manager"), NULL, &r), 200);
    cr_assert_not_null(strstr(r.body, "\"actor\":{\"user\":\"store_raw\",\"role\":\"store_raw\""),
                       "%s", r.body);
    cr_assert_null(strstr(r.body, "mallory"), "%s", r.body);
    response_free(&r);
    /* An event naming its actor is refused: the envelope has no such field. */
    cr_assert_eq(call("POST", "/api/v1/events", ACTOR("store_raw"),
                      "{\"id\":\"0190b2a0-7c1d-7000-8000-000000000008\",\"type\":\"GoodsReceived\","
                      "\"occurred_at_us\":1764000000000000,\"actor\":{\"user\":\"mallory\"},"
                      "\"payload\":{}}",
                      &r),
                 400);
    cr_assert_not_null(strstr(r.body, "\"code\":\"UNKNOWN_FIELD\""), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"field\":\"actor\""), "%s", r.body);
    response_free(&r);
}

/* A connection that asked for a WebSocket upgrade of /api/v1/ws?query with more headers
 * ("Name: value\r\n" lines, or ""): its descriptor. */
static int ws_upgrade(const char *query, const char *headers)
{
    int fd = client_connect(server.port);
    char upgrade[2048];
    snprintf(upgrade, sizeof(upgrade),
             "GET /api/v1/ws?%s HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\n%s\r\n",
             query, headers);
    client_send_text(fd, upgrade);
    return fd;
}

/* The first line of the answer to a WebSocket upgrade of /api/v1/ws?query. */
static void ws_upgrade_status(const char *query, char *line, size_t size)
{
    int fd = ws_upgrade(query, "");
    char answer[512];
    ssize_t n = recv(fd, answer, sizeof(answer) - 1, 0);
    close(fd);
    cr_assert_gt(n, 0, "no answer to the upgrade");
    answer[n] = '\0';
    snprintf(line, size, "%.*s", (int)strcspn(answer, "\r"), answer);
}

Test(security, a_token_bound_to_a_device_works_from_that_device_only_over_http_and_websocket)
{
    server_start(&server);
    response_t r;
    cr_assert_eq(call("POST", "/api/v1/auth/login", JSON_HEADERS "Authorization: none\r\n",
                      "{\"tenant\":\"" TEST_TENANT
                      "\",\"user\":\"store_raw\",\"password\":\"" TEST_PASSWORD
                      "\",\"device\":\"phone-7\"}",
                      &r),
                 200, "%s", r.body);
    char token[1200], refresh[1200], headers[1800], event[512];
    json_text(r.body, "access_token", token, sizeof(token));
    json_text(r.body, "refresh_token", refresh, sizeof(refresh));
    response_free(&r);
    /* From its device: accepted, and the event records the device. */
    snprintf(headers, sizeof(headers),
             JSON_HEADERS "Authorization: Bearer %s\r\nX-Device-Id: phone-7\r\n", token);
    event_goods(event, sizeof(event), 9, "R9", "1000");
    cr_assert_eq(call("POST", "/api/v1/events", headers, event, &r), 201, "%s", r.body);
    response_free(&r);
    cr_assert_eq(call("GET", "/api/v1/events/1", ACTOR("manager"), NULL, &r), 200);
    cr_assert_not_null(strstr(r.body, "\"device\":\"phone-7\""), "%s", r.body);
    response_free(&r);
    /* From another device, or none: 401, saying why. */
    snprintf(headers, sizeof(headers),
             JSON_HEADERS "Authorization: Bearer %s\r\nX-Device-Id: phone-8\r\n", token);
    cr_assert_eq(call("GET", "/api/v1/head", headers, NULL, &r), 401);
    cr_assert_not_null(strstr(r.body, "bound to another device"), "%s", r.body);
    response_free(&r);
    snprintf(headers, sizeof(headers), JSON_HEADERS "Authorization: Bearer %s\r\n", token);
    cr_assert_eq(call("GET", "/api/v1/head", headers, NULL, &r), 401);
    response_free(&r);
    /* A browser's WebSocket names token and device in the query. */
    char query[1600], line[256];
    snprintf(query, sizeof(query), "from_seq=1&access_token=%s&device_id=phone-7", token);
    ws_upgrade_status(query, line, sizeof(line));
    cr_assert_not_null(strstr(line, " 101 "), "%s", line);
    snprintf(query, sizeof(query), "from_seq=1&access_token=%s&device_id=phone-8", token);
    ws_upgrade_status(query, line, sizeof(line));
    cr_assert_not_null(strstr(line, " 401 "), "%s", line);
    snprintf(query, sizeof(query), "from_seq=1&access_token=%s", token);
    ws_upgrade_status(query, line, sizeof(line));
    cr_assert_not_null(strstr(line, " 401 "), "%s", line);
    /* Its refresh must name the same device. */
    char body[1400];
    snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\",\"device\":\"phone-8\"}", refresh);
    cr_assert_eq(
        call("POST", "/api/v1/auth/refresh", JSON_HEADERS "Authorization: none\r\n", body, &r), 401,
        "%s", r.body);
    response_free(&r);
    snprintf(body, sizeof(body), "{\"refresh_token\":\"%s\",\"device\":\"phone-7\"}", refresh);
    cr_assert_eq(
        call("POST", "/api/v1/auth/refresh", JSON_HEADERS "Authorization: none\r\n", body, &r), 200,
        "%s", r.body);
    response_free(&r);
}

/* ---- CORS ---- */

Test(security, a_cors_preflight_is_allowed_for_a_configured_origin_and_refused_for_another)
{
    const char *extra[] = {"--cors-origins", "https://desk.plant.example", NULL};
    server_start_args(&server, extra);
    response_t r;
    char value[256];
    cr_assert_eq(call("OPTIONS", "/api/v1/events",
                      "Authorization: none\r\nOrigin: https://desk.plant.example\r\n"
                      "Access-Control-Request-Method: POST\r\n"
                      "Access-Control-Request-Headers: Authorization, Content-Type\r\n",
                      NULL, &r),
                 204, "%s", r.body);
    cr_assert_str_eq(response_header(&r, "Access-Control-Allow-Origin", value, sizeof(value)),
                     "https://desk.plant.example");
    cr_assert_not_null(
        strstr(response_header(&r, "Access-Control-Allow-Methods", value, sizeof(value)), "POST"));
    cr_assert_not_null(
        strstr(response_header(&r, "Access-Control-Allow-Headers", value, sizeof(value)),
               "Authorization"));
    response_free(&r);

    cr_assert_eq(call("OPTIONS", "/api/v1/events",
                      "Authorization: none\r\nOrigin: https://evil.example\r\n"
                      "Access-Control-Request-Method: POST\r\n",
                      NULL, &r),
                 403);
    cr_assert_not_null(strstr(r.body, "\"code\":\"FORBIDDEN_ORIGIN\""), "%s", r.body);
    cr_assert_str_eq(response_header(&r, "Access-Control-Allow-Origin", value, sizeof(value)), "");
    response_free(&r);

    /* A real request from the configured origin gets it back; from another, not. */
    char headers[1800];
    snprintf(headers, sizeof(headers), "%sOrigin: https://desk.plant.example\r\n", AUTH("manager"));
    cr_assert_eq(call("GET", "/api/v1/head", headers, NULL, &r), 200);
    cr_assert_str_eq(response_header(&r, "Access-Control-Allow-Origin", value, sizeof(value)),
                     "https://desk.plant.example");
    response_free(&r);
    snprintf(headers, sizeof(headers), "%sOrigin: https://evil.example\r\n", AUTH("manager"));
    call("GET", "/api/v1/head", headers, NULL, &r);
    cr_assert_str_eq(response_header(&r, "Access-Control-Allow-Origin", value, sizeof(value)), "");
    response_free(&r);
}

/* ---- TLS ---- */

static int tls_port(void)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/tls-port", server.dir);
    for (int i = 0; i < 1000; i++) {
        FILE *file = fopen(path, "r");
        int port = 0;
        if (file != NULL) {
            int ok = fscanf(file, "%d", &port);
            fclose(file);
            if (ok == 1)
                return port;
        }
        sleep_ms(10);
    }
    cr_assert_fail("no TLS port");
    return 0;
}

/* Starts foutad with HTTPS on a development certificate (DIR/tls, made by scripts/devcert): the
 * certificate's path into cert, the TLS port returned. */
static int tls_server_start(char *cert, size_t size)
{
    char command[1024], out[4096], dir[300], key[320], port_file[320];
    test_tmpdir(server.dir, sizeof(server.dir));
    snprintf(dir, sizeof(dir), "%s/tls", server.dir);
    snprintf(command, sizeof(command), "%s %s", FL_DEVCERT, dir);
    cr_assert_eq(run(command, out, sizeof(out)), 0, "scripts/devcert: %s", out);
    snprintf(cert, size, "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(port_file, sizeof(port_file), "%s/tls-port", server.dir);
    const char *extra[] = {
        "--tls-cert",      cert,      "--tls-key", key, "--tls-listen", "127.0.0.1:0",
        "--tls-port-file", port_file, NULL};
    server_start_args(&server, extra);
    return tls_port();
}

Test(security, https_with_a_development_certificate_speaks_tls_1_2_and_1_3_and_plain_http_redirects)
{
    char command[4096], out[16384], cert[320];
    int port = tls_server_start(cert, sizeof(cert));

    /* Sign in over HTTPS, verifying the server against the development certificate. */
    snprintf(command, sizeof(command),
             "curl -sS --cacert %s -H 'Content-Type: application/json' -d "
             "'{\"tenant\":\"plant\",\"user\":\"manager\",\"password\":\"%s\"}' "
             "https://localhost:%d/api/v1/auth/login",
             cert, TEST_PASSWORD, port);
    cr_assert_eq(run(command, out, sizeof(out)), 0, "%s", out);
    char token[1200];
    json_text(out, "access_token", token, sizeof(token));
    cr_assert_gt(strlen(token), 100, "%s", out);

    const char *versions[2][2] = {{"--tlsv1.2 --tls-max 1.2", "TLSv1.2"}, {"--tlsv1.3", "TLSv1.3"}};
    for (int v = 0; v < 2; v++) {
        snprintf(command, sizeof(command),
                 "curl -sS -v -D - %s --cacert %s -H 'Authorization: Bearer %s' "
                 "https://localhost:%d/api/v1/head",
                 versions[v][0], cert, token, port);
        cr_assert_eq(run(command, out, sizeof(out)), 0, "%s", out);
        char using[64];
        snprintf(using, sizeof(using), "SSL connection using %s", versions[v][1]);
        cr_assert_not_null(strstr(out, using), "%s", out);
        cr_assert_not_null(strstr(out, "HTTP/1.1 200"), "%s", out);
        cr_assert_not_null(strstr(out, "\"seq\""), "%s", out);
        cr_assert_not_null(strcasestr(out, "Strict-Transport-Security: max-age="), "%s", out);
    }
    /* openssl s_client handshakes too, and verifies the chain. */
    snprintf(command, sizeof(command),
             "echo | openssl s_client -connect 127.0.0.1:%d -servername localhost -CAfile %s "
             "-verify_return_error -tls1_3",
             port, cert);
    cr_assert_eq(run(command, out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "Verify return code: 0 (ok)"), "%s", out);
    /* A client that does not trust the certificate stops at the handshake. */
    snprintf(command, sizeof(command), "curl -sS https://localhost:%d/health/live", port);
    cr_assert_neq(run(command, out, sizeof(out)), 0, "%s", out);

    /* Plain HTTP only redirects, to the same path over HTTPS. */
    response_t r;
    char location[256], expected[64];
    cr_assert_eq(call("GET", "/api/v1/head", "Authorization: none\r\n", NULL, &r), 308);
    response_header(&r, "Location", location, sizeof(location));
    snprintf(expected, sizeof(expected), ":%d/api/v1/head", port);
    cr_assert_eq(strncmp(location, "https://", 8), 0, "Location: %s", location);
    cr_assert_not_null(strstr(location, expected), "Location: %s", location);
    response_free(&r);
}

Test(security, sighup_reloads_a_renewed_certificate_without_a_restart)
{
    char command[4096], out[8192], renewed[300], cert[320], key[320];
    int port = tls_server_start(cert, sizeof(cert));
    snprintf(key, sizeof(key), "%s/tls/key.pem", server.dir);
    snprintf(renewed, sizeof(renewed), "%s/renewed", server.dir);
    snprintf(command, sizeof(command), "%s %s", FL_DEVCERT, renewed);
    cr_assert_eq(run(command, out, sizeof(out)), 0, "scripts/devcert: %s", out);
    snprintf(command, sizeof(command), "curl -sS --cacert %s https://localhost:%d/health/live",
             cert, port);
    cr_assert_eq(run(command, out, sizeof(out)), 0, "%s", out);
    /* The renewed pair replaces the files; SIGHUP; the old one is no longer served. */
    char old_cert[320];
    snprintf(old_cert, sizeof(old_cert), "%s/old.pem", server.dir);
    snprintf(command, sizeof(command), "cp %s %s && cp %s/cert.pem %s && cp %s/key.pem %s", cert,
             old_cert, renewed, cert, renewed, key);
    cr_assert_eq(run(command, out, sizeof(out)), 0, "%s", out);
    kill(server.pid, SIGHUP);
    snprintf(command, sizeof(command),
             "curl -sS --cacert %s/cert.pem https://localhost:%d/health/live", renewed, port);
    int rc = 1;
    for (int i = 0; i < 100 && rc != 0; i++) { /* the signal is handled by the loop, soon */
        rc = run(command, out, sizeof(out));
        if (rc != 0)
            sleep_ms(20);
    }
    cr_assert_eq(rc, 0, "the renewed certificate is served: %s", out);
    snprintf(command, sizeof(command), "curl -sS --cacert %s https://localhost:%d/health/live 2>&1",
             old_cert, port);
    cr_assert_neq(run(command, out, sizeof(out)), 0, "the old certificate is gone: %s", out);
    /* A broken pair on SIGHUP keeps the one that works. */
    snprintf(command, sizeof(command), "echo broken > %s", key);
    cr_assert_eq(run(command, out, sizeof(out)), 0);
    kill(server.pid, SIGHUP);
    sleep_ms(200);
    snprintf(command, sizeof(command),
             "curl -sS --cacert %s/cert.pem https://localhost:%d/health/live", renewed, port);
    cr_assert_eq(run(command, out, sizeof(out)), 0, "still served after a bad reload: %s", out);
    cr_assert_eq(server_stop(&server), 0);
}

/* ---- personal data ---- */

#define CONTACT_NAME  "Amina Zitouni"
#define CONTACT_PHONE "+216 71 000 111"
#define CONTACT_EMAIL "amina@brodeuse.example"
#define USER_NAME     "Karim Ben Salah"
#define USER_EMAIL    "karim.bensalah@plant.example"

static void post_people(void)
{
    response_t r;
    cr_assert_eq(call("POST", "/api/v1/events", ACTOR("store_subcontract"),
                      "{\"id\":\"0190b2a0-7c1d-7000-8000-0000000000a1\","
                      "\"type\":\"SubcontractorOnboarded\",\"occurred_at_us\":1764000000000000,"
                      "\"payload\":{\"sub_id\":\"S1\",\"name\":\"Brodeuse du Cap Bon\","
                      "\"contact_name\":\"" CONTACT_NAME "\",\"contact_phone\":\"" CONTACT_PHONE
                      "\",\"contact_email\":\"" CONTACT_EMAIL "\",\"location_id\":\"SUB-S1\"}}",
                      &r),
                 201, "%s", r.body);
    response_free(&r);
    cr_assert_eq(call("POST", "/api/v1/events", ACTOR("admin"),
                      "{\"id\":\"0190b2a0-7c1d-7000-8000-0000000000a2\",\"type\":\"UserInvited\","
                      "\"occurred_at_us\":1764000000000000,\"payload\":{\"user_id\":\"U7\","
                      "\"display_name\":\"" USER_NAME "\",\"email\":\"" USER_EMAIL
                      "\",\"role\":\"weaver\"}}",
                      &r),
                 201, "%s", r.body);
    response_free(&r);
}

static bool ledger_holds(const char *text)
{
    char path[400];
    data_path(path, sizeof(path), "tenants/plant/ledger/data.mdb");
    return file_holds(path, text);
}

Test(security, personal_data_is_encrypted_in_the_ledger_and_read_back_decrypted)
{
    server_start(&server);
    post_people();
    response_t r;
    cr_assert_eq(call("GET", "/api/v1/streams/sub-S1", ACTOR("manager"), NULL, &r), 200);
    cr_assert_not_null(strstr(r.body, "\"contact_name\":\"" CONTACT_NAME "\""), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"contact_phone\":\"" CONTACT_PHONE "\""), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"contact_email\":\"" CONTACT_EMAIL "\""), "%s", r.body);
    cr_assert_null(strstr(r.body, "redacted"), "%s", r.body);
    response_free(&r);
    cr_assert_eq(call("GET", "/api/v1/entities/user-U7/history", ACTOR("admin"), NULL, &r), 200);
    cr_assert_not_null(strstr(r.body, "\"display_name\":\"" USER_NAME "\""), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"email\":\"" USER_EMAIL "\""), "%s", r.body);
    response_free(&r);

    /* A retry of the same event is the same bytes: idempotent, not a conflict. */
    cr_assert_eq(call("POST", "/api/v1/events", ACTOR("admin"),
                      "{\"id\":\"0190b2a0-7c1d-7000-8000-0000000000a2\",\"type\":\"UserInvited\","
                      "\"occurred_at_us\":1764000000000000,\"payload\":{\"user_id\":\"U7\","
                      "\"display_name\":\"" USER_NAME "\",\"email\":\"" USER_EMAIL
                      "\",\"role\":\"weaver\"}}",
                      &r),
                 200, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"duplicate\":true"), "%s", r.body);
    response_free(&r);

    /* Limits apply to what the client sent: contact_phone allows 40 bytes. */
    cr_assert_eq(
        call("POST", "/api/v1/events", ACTOR("store_subcontract"),
             "{\"id\":\"0190b2a0-7c1d-7000-8000-0000000000a3\","
             "\"type\":\"SubcontractorOnboarded\",\"occurred_at_us\":1764000000000000,"
             "\"payload\":{\"sub_id\":\"S2\",\"name\":\"B\",\"contact_phone\":"
             "\"+216 71 000 000 000 000 000 000 000 000 000\",\"location_id\":\"SUB-S2\"}}",
             &r),
        400, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"code\":\"TOO_LONG\""), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"field\":\"payload.contact_phone\""), "%s", r.body);
    response_free(&r);

    /* The bytes on disk: sealed text, never the plaintext; nor in the auth store. */
    cr_assert(ledger_holds(EV_SEALED_PREFIX), "the ledger holds sealed fields");
    cr_assert(ledger_holds("Brodeuse du Cap Bon"), "a field that is not personal stays clear");
    const char *secrets[] = {CONTACT_NAME, CONTACT_PHONE, CONTACT_EMAIL, USER_NAME, USER_EMAIL};
    char auth_file[400];
    data_path(auth_file, sizeof(auth_file), "auth/data.mdb");
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        cr_assert(!ledger_holds(secrets[i]), "the ledger's file holds %s", secrets[i]);
        cr_assert(!file_holds(auth_file, secrets[i]), "the auth store holds %s", secrets[i]);
    }
}

Test(security, personal_data_is_read_by_the_admin_and_the_manager_only_and_never_streamed)
{
    server_start(&server);
    post_people();
    /* Every other role reads the event with the personal fields null and "restricted". */
    const char *others[] = {"weaver",    "cutter",         "mechanic",
                            "store_raw", "store_finished", "store_subcontract",
                            "quality"};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        response_t r;
        cr_assert_eq(call("GET", "/api/v1/streams/sub-S1", ACTOR(others[i]), NULL, &r), 200);
        cr_assert_not_null(strstr(r.body, "\"contact_name\":null"), "%s: %s", others[i], r.body);
        cr_assert_not_null(strstr(r.body, "\"redacted\":{\"contact_name\":\"restricted\","),
                           "%s: %s", others[i], r.body);
        cr_assert_null(strstr(r.body, CONTACT_NAME), "%s: %s", others[i], r.body);
        cr_assert_null(strstr(r.body, CONTACT_PHONE), "%s: %s", others[i], r.body);
        cr_assert_not_null(strstr(r.body, "Brodeuse du Cap Bon"), "what is not personal shows");
        response_free(&r);
    }
    response_t r;
    cr_assert_eq(call("GET", "/api/v1/events?from_seq=1", ACTOR("manager"), NULL, &r), 200);
    cr_assert_not_null(strstr(r.body, USER_EMAIL), "%s", r.body);
    response_free(&r);
    /* A live stream catches up the same events with no personal data, whatever the role. */
    int fd = ws_upgrade("from_seq=1", AUTH("admin"));
    static char stream[65536];
    size_t got = 0;
    for (int tries = 0; tries < 100 && strstr(stream, "UserInvited") == NULL; tries++) {
        ssize_t n = recv(fd, stream + got, sizeof(stream) - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        stream[got] = '\0';
    }
    close(fd);
    cr_assert_not_null(strstr(stream, "UserInvited"), "the stream caught up: %s", stream);
    cr_assert_not_null(strstr(stream, "\"email\":null"), "%s", stream);
    cr_assert_null(strstr(stream, USER_EMAIL), "%s", stream);
    cr_assert_null(strstr(stream, CONTACT_NAME), "%s", stream);
}

Test(security, erasing_a_person_leaves_the_chain_verifying_and_their_data_unreadable)
{
    server_start(&server);
    post_people();
    response_t r;
    cr_assert_eq(call("POST", "/api/v1/persons/sub:S1/erase", ACTOR("admin"),
                      "{\"reason\":\"GDPR request of the contact\","
                      "\"id\":\"0190b2a0-7c1d-7000-8000-0000000000e1\","
                      "\"occurred_at_us\":1764000000000001}",
                      &r),
                 201, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"stream\":\"person-sub:S1\""), "%s", r.body);
    response_free(&r);
    /* A retry of the same request is idempotent. */
    cr_assert_eq(call("POST", "/api/v1/persons/sub:S1/erase", ACTOR("admin"),
                      "{\"reason\":\"GDPR request of the contact\","
                      "\"id\":\"0190b2a0-7c1d-7000-8000-0000000000e1\","
                      "\"occurred_at_us\":1764000000000001}",
                      &r),
                 200, "%s", r.body);
    response_free(&r);
    cr_assert_eq(
        call("POST", "/api/v1/persons/sub:S404/erase", ACTOR("admin"), "{\"reason\":\"x\"}", &r),
        404);
    response_free(&r);
    cr_assert_eq(
        call("POST", "/api/v1/persons/nobody/erase", ACTOR("admin"), "{\"reason\":\"x\"}", &r),
        400);
    cr_assert_not_null(strstr(r.body, "\"field\":\"path:person\""), "%s", r.body);
    response_free(&r);
    /* Only the route that destroys the key records an erasure. */
    cr_assert_eq(call("POST", "/api/v1/events", ACTOR("admin"),
                      "{\"id\":\"0190b2a0-7c1d-7000-8000-0000000000e2\","
                      "\"type\":\"PersonDataErased\",\"occurred_at_us\":1764000000000000,"
                      "\"payload\":{\"person_id\":\"user:U7\",\"reason\":\"x\"}}",
                      &r),
                 403);
    response_free(&r);

    cr_assert_eq(call("GET", "/api/v1/streams/sub-S1", ACTOR("manager"), NULL, &r), 200);
    cr_assert_not_null(strstr(r.body, "\"contact_name\":null"), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"redacted\":{\"contact_name\":\"erased\","
                                      "\"contact_phone\":\"erased\",\"contact_email\":\"erased\"}"),
                       "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"name\":\"Brodeuse du Cap Bon\""), "%s", r.body);
    cr_assert_null(strstr(r.body, CONTACT_NAME), "%s", r.body);
    response_free(&r);
    /* Another person's data is untouched. */
    cr_assert_eq(call("GET", "/api/v1/entities/user-U7/history", ACTOR("admin"), NULL, &r), 200);
    cr_assert_not_null(strstr(r.body, "\"display_name\":\"" USER_NAME "\""), "%s", r.body);
    response_free(&r);

    /* The ledger still holds every record: the chain and the state verify. */
    cr_assert_eq(server_stop_keep(&server), 0);
    char ledger[400], command[1024], out[8192];
    data_path(ledger, sizeof(ledger), "tenants/plant/ledger");
    snprintf(command, sizeof(command), "%s verify %s", FOUTA_LEDGER, ledger);
    cr_assert_eq(run(command, out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "chain intact"), "%s", out);
    snprintf(command, sizeof(command), "%s verify-state %s", FOUTA_REPLAY, ledger);
    cr_assert_eq(run(command, out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "verify-state: ok"), "%s", out);

    /* After a restart the key is still gone. */
    server_start(&server);
    cr_assert_eq(
        call("GET", "/api/v1/events?type=SubcontractorOnboarded", ACTOR("manager"), NULL, &r), 200);
    cr_assert_not_null(strstr(r.body, "\"contact_email\":null"), "%s", r.body);
    cr_assert_null(strstr(r.body, CONTACT_EMAIL), "%s", r.body);
    response_free(&r);
}

/* ---- logs ---- */

/* Starts foutad as server_start does, its stdout and stderr going to log_path. */
static void start_logged(const char *log_path)
{
    test_tmpdir(server.dir, sizeof(server.dir));
    char data[300], port_file[300];
    snprintf(data, sizeof(data), "%s/data", server.dir);
    snprintf(port_file, sizeof(port_file), "%s/port", server.dir);
    add_test_users(data);
    const char *argv[] = {FOUTAD_PATH,   "--data-dir", data,          "--listen", "127.0.0.1:0",
                          "--port-file", port_file,    "--log-level", "2",        NULL};
    server.pid = fork();
    cr_assert_neq(server.pid, -1);
    if (server.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(126);
        execv(FOUTAD_PATH, (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 1000 && server.port == 0; i++) {
        FILE *file = fopen(port_file, "r");
        if (file != NULL) {
            if (fscanf(file, "%d", &server.port) != 1)
                server.port = 0;
            fclose(file);
        }
        if (server.port == 0)
            sleep_ms(10);
    }
    cr_assert_gt(server.port, 0, "foutad did not start");
    test_auth_port = server.port;
    memset(test_auth_headers, 0, sizeof(test_auth_headers));
}

Test(security, no_password_token_or_personal_data_appears_in_the_log)
{
    char log_path[300];
    char dir[256];
    test_tmpdir(dir, sizeof(dir));
    snprintf(log_path, sizeof(log_path), "%s/foutad.log", dir);
    start_logged(log_path);
    char access[1200], refresh[128], access2[1200], refresh2[128], headers[1800], path[1400];
    cr_assert_eq(sign_in(TEST_TENANT, "admin", TEST_PASSWORD, access, refresh), 200);
    cr_assert_eq(sign_in(TEST_TENANT, "admin", "a-wrong-secret-42", NULL, NULL), 401);
    cr_assert_eq(get_with(access, "/api/v1/head"), 200);
    snprintf(path, sizeof(path), "/api/v1/events?access_token=%s", access);
    cr_assert_eq(get_with(access, path), 200);
    cr_assert_eq(refresh_with(refresh, access2, refresh2), 200);
    cr_assert_eq(refresh_with(refresh, access2, refresh2), 401); /* reuse: logged as theft */
    check_refused(access2, "the revoked family");
    cr_assert_eq(sign_in(TEST_TENANT, "admin", TEST_PASSWORD, access, refresh), 200);
    post_people();
    response_t r;
    cr_assert_eq(call("POST", "/api/v1/auth/password", bearer(headers, sizeof(headers), access),
                      "{\"user\":\"weaver\",\"password\":\"a-new-password-77\"}", &r),
                 204, "%s", r.body);
    response_free(&r);
    cr_assert_eq(server_stop_keep(&server), 0);

    FILE *file = fopen(log_path, "r");
    cr_assert_not_null(file);
    static char log_text[1 << 20];
    size_t len = fread(log_text, 1, sizeof(log_text) - 1, file);
    log_text[len] = '\0';
    fclose(file);
    cr_assert_not_null(strstr(log_text, "\"msg\":\"request\""), "the log has request lines: %s",
                       log_text);
    const char *secrets[] = {TEST_PASSWORD,
                             "a-wrong-secret-42",
                             "a-new-password-77",
                             access,
                             refresh,
                             access2,
                             refresh2,
                             strrchr(access, '.') + 1,
                             CONTACT_NAME,
                             CONTACT_EMAIL,
                             USER_EMAIL};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        cr_assert_null(strstr(log_text, secrets[i]), "the log holds %.20s...", secrets[i]);
    test_tmpdir_remove(dir);
}
