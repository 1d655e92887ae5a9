/*
 * auth.c: the auth store - credentials, refresh tokens and their families, and (pii.c) the
 * wrapped keys of each person's personal data. It is an LMDB environment of its own under
 * DATA/auth, never the ledger: a password hash, a token or a key is not a fact of the plant,
 * and erasing a person must be able to destroy their key while the ledger stays append-only.
 * The user lifecycle itself (invited, role changed, disabled, reactivated) is recorded as events
 * in the tenant's ledger; api_auth_apply_event mirrors each here once the ledger has it.
 *
 * Passwords are hashed with Argon2id (libargon2) and checked off the loop thread. A refresh
 * token is 32 random bytes given to the client once and stored only as its SHA-256; each use
 * rotates it within its family, and presenting a rotated token again revokes the family.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <argon2.h>
#include <jansson.h>
#include <assert.h>
#include <lmdb.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#define AUTH_MAP_BYTES     (256u * 1024 * 1024)
#define AUTH_HASH_LEN_MAX  160
#define AUTH_SALT_BYTES    16
#define AUTH_HASH_BYTES    32
#define AUTH_KEY_LEN_MAX   (API_TENANT_LEN_MAX + API_USER_LEN_MAX + 2)
#define AUTH_FAMILIES_SCAN 100000 /* families a disable may scan */

typedef struct {
    uint32_t role;
    uint32_t disabled;
    uint64_t generation;
    char hash[AUTH_HASH_LEN_MAX]; /* Argon2id encoded, "" before a password is set */
} user_rec_t;

typedef struct {
    char tenant[API_TENANT_LEN_MAX + 1];
    char user[API_USER_LEN_MAX + 1];
    char device[API_DEVICE_LEN_MAX + 1];
    uint8_t family[16];
    int64_t expires_s;
    uint32_t rotated; /* 1 once used: a second use is theft */
} refresh_rec_t;

typedef struct {
    char tenant[API_TENANT_LEN_MAX + 1];
    char user[API_USER_LEN_MAX + 1];
    uint32_t revoked;
} family_rec_t;

struct api_auth {
    MDB_env *env;
    MDB_dbi users, refresh, families, keys;
    api_auth_config_t config;
    char dummy_hash[AUTH_HASH_LEN_MAX]; /* an unknown user costs as much as a known one */
    uint8_t master[32];                 /* pii.c */
    bool has_master;
};

/* pii.c reaches the environment through these. */
MDB_env *api__auth_env(api_auth_t *auth, MDB_dbi *keys, uint8_t **master, bool **has_master);
int api__lmdb_error(int rc);

MDB_env *api__auth_env(api_auth_t *auth, MDB_dbi *keys, uint8_t **master, bool **has_master)
{
    *keys = auth->keys;
    *master = auth->master;
    *has_master = &auth->has_master;
    return auth->env;
}

int api__lmdb_error(int rc)
{
    if (rc == 0)
        return 0;
    if (rc == MDB_NOTFOUND)
        return FL_ENOENT;
    if (rc == MDB_MAP_FULL)
        return FL_ENOSPC;
    return rc < 0 ? FL_EIO : fl_err_from_errno(rc);
}

static int hash_password(const api_auth_t *auth, const char *password, char *out)
{
    uint8_t salt[AUTH_SALT_BYTES];
    if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
        return FL_EIO;
    int rc = argon2id_hash_encoded(auth->config.argon2_passes, auth->config.argon2_memory_kib, 1,
                                   password, strlen(password), salt, sizeof(salt), AUTH_HASH_BYTES,
                                   out, AUTH_HASH_LEN_MAX);
    return rc == ARGON2_OK ? 0 : FL_EINTERNAL;
}

int api_auth_open(api_auth_t **out, const char *dir, const api_auth_config_t *config)
{
    *out = NULL;
    api_auth_t *auth = calloc(1, sizeof(*auth));
    if (auth == NULL)
        return FL_ENOMEM;
    auth->config = *config;
    int rc = FL_EIO;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rc = fl_err_from_errno(errno);
        goto fail_alloc;
    }
    if (mdb_env_create(&auth->env) != 0)
        goto fail_alloc;
    mdb_env_set_maxdbs(auth->env, 4);
    mdb_env_set_mapsize(auth->env, AUTH_MAP_BYTES);
    rc = api__lmdb_error(mdb_env_open(auth->env, dir, MDB_NOTLS, 0600));
    if (rc != 0)
        goto fail_env;
    MDB_txn *txn;
    rc = api__lmdb_error(mdb_txn_begin(auth->env, NULL, 0, &txn));
    if (rc != 0)
        goto fail_env;
    rc = api__lmdb_error(mdb_dbi_open(txn, "users", MDB_CREATE, &auth->users));
    if (rc == 0)
        rc = api__lmdb_error(mdb_dbi_open(txn, "refresh", MDB_CREATE, &auth->refresh));
    if (rc == 0)
        rc = api__lmdb_error(mdb_dbi_open(txn, "families", MDB_CREATE, &auth->families));
    if (rc == 0)
        rc = api__lmdb_error(mdb_dbi_open(txn, "keys", MDB_CREATE, &auth->keys));
    if (rc == 0)
        rc = api__lmdb_error(mdb_txn_commit(txn));
    else
        mdb_txn_abort(txn);
    if (rc == 0)
        rc = hash_password(auth, "no user has this password", auth->dummy_hash);
    if (rc != 0)
        goto fail_env;
    *out = auth;
    return 0;
fail_env:
    mdb_env_close(auth->env);
fail_alloc:
    free(auth);
    return rc;
}

void api_auth_close(api_auth_t *auth)
{
    if (auth == NULL)
        return;
    mdb_env_close(auth->env);
    OPENSSL_cleanse(auth->master, sizeof(auth->master));
    free(auth);
}

uint32_t api_auth_access_ttl(const api_auth_t *auth)
{
    return auth->config.access_ttl_s;
}

static MDB_val user_key(const char *tenant, const char *user, char *buf)
{
    int len = snprintf(buf, AUTH_KEY_LEN_MAX + 1, "%s/%s", tenant, user);
    return (MDB_val){.mv_size = (size_t)len, .mv_data = buf};
}

static bool valid_names(const char *tenant, const char *user)
{
    size_t tenant_len = strlen(tenant), user_len = strlen(user);
    return tenant_len > 0 && tenant_len <= API_TENANT_LEN_MAX && user_len > 0 &&
           user_len <= API_USER_LEN_MAX && strchr(tenant, '/') == NULL;
}

static int user_read(MDB_txn *txn, api_auth_t *auth, const char *tenant, const char *user,
                     user_rec_t *out)
{
    char buf[AUTH_KEY_LEN_MAX + 1];
    MDB_val key = user_key(tenant, user, buf), value;
    int rc = api__lmdb_error(mdb_get(txn, auth->users, &key, &value));
    if (rc != 0)
        return rc;
    if (value.mv_size != sizeof(*out))
        return FL_ECORRUPT;
    memcpy(out, value.mv_data, sizeof(*out));
    return 0;
}

static int user_write(MDB_txn *txn, api_auth_t *auth, const char *tenant, const char *user,
                      const user_rec_t *rec)
{
    char buf[AUTH_KEY_LEN_MAX + 1];
    MDB_val key = user_key(tenant, user, buf);
    MDB_val value = {.mv_size = sizeof(*rec), .mv_data = (void *)rec};
    return api__lmdb_error(mdb_put(txn, auth->users, &key, &value, 0));
}

int api_auth_user_set(api_auth_t *auth, const char *tenant, const char *user, ev_role_t role,
                      const char *password)
{
    if (!valid_names(tenant, user) || role >= EV_ROLE_COUNT)
        return FL_EINVAL;
    char hash[AUTH_HASH_LEN_MAX] = "";
    if (password != NULL) {
        size_t len = strlen(password);
        if (len < API_PASSWORD_LEN_MIN || len > API_PASSWORD_LEN_MAX)
            return FL_EINVAL;
        int rc = hash_password(auth, password, hash);
        if (rc != 0)
            return rc;
    }
    MDB_txn *txn;
    int rc = api__lmdb_error(mdb_txn_begin(auth->env, NULL, 0, &txn));
    if (rc != 0)
        return rc;
    user_rec_t rec;
    rc = user_read(txn, auth, tenant, user, &rec);
    if (rc == FL_ENOENT) {
        memset(&rec, 0, sizeof(rec));
        rc = 0;
    }
    if (rc == 0) {
        if (rec.role != (uint32_t)role)
            rec.generation++;
        rec.role = (uint32_t)role;
        if (password != NULL)
            memcpy(rec.hash, hash, sizeof(rec.hash));
        rc = user_write(txn, auth, tenant, user, &rec);
    }
    if (rc == 0)
        return api__lmdb_error(mdb_txn_commit(txn));
    mdb_txn_abort(txn);
    return rc;
}

int api_auth_user_get(api_auth_t *auth, const char *tenant, const char *user, api_user_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!valid_names(tenant, user))
        return FL_ENOENT;
    MDB_txn *txn;
    int rc = api__lmdb_error(mdb_txn_begin(auth->env, NULL, MDB_RDONLY, &txn));
    if (rc != 0)
        return rc;
    user_rec_t rec;
    rc = user_read(txn, auth, tenant, user, &rec);
    mdb_txn_abort(txn);
    if (rc != 0)
        return rc;
    out->role = (ev_role_t)rec.role;
    out->disabled = rec.disabled != 0;
    out->has_password = rec.hash[0] != '\0';
    out->generation = rec.generation;
    return 0;
}

static void user_view(const user_rec_t *rec, api_user_t *out)
{
    memset(out, 0, sizeof(*out));
    out->role = (ev_role_t)rec->role;
    out->disabled = rec->disabled != 0;
    out->has_password = rec->hash[0] != '\0';
    out->generation = rec->generation;
}

int api_auth_user_each(api_auth_t *auth, const char *tenant, uint32_t users_max, bool *truncated,
                       api_auth_user_cb cb, void *data)
{
    assert(cb != NULL && truncated != NULL);
    *truncated = false;
    if (!valid_names(tenant, "-"))
        return FL_EINVAL;
    char prefix[API_TENANT_LEN_MAX + 2];
    size_t prefix_len = (size_t)snprintf(prefix, sizeof(prefix), "%s/", tenant);
    MDB_txn *txn;
    int rc = api__lmdb_error(mdb_txn_begin(auth->env, NULL, MDB_RDONLY, &txn));
    if (rc != 0)
        return rc;
    MDB_cursor *cursor;
    rc = api__lmdb_error(mdb_cursor_open(txn, auth->users, &cursor));
    if (rc != 0)
        goto fail_txn;
    MDB_val key = {.mv_size = prefix_len, .mv_data = prefix}, value;
    uint32_t count = 0;
    int step = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
    for (; step == 0; step = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        if (key.mv_size <= prefix_len || memcmp(key.mv_data, prefix, prefix_len) != 0)
            break; /* past the tenant's users */
        if (value.mv_size != sizeof(user_rec_t) || key.mv_size - prefix_len > API_USER_LEN_MAX) {
            rc = FL_ECORRUPT;
            break;
        }
        if (count == users_max) {
            *truncated = true;
            break;
        }
        char user[API_USER_LEN_MAX + 1];
        memcpy(user, (const char *)key.mv_data + prefix_len, key.mv_size - prefix_len);
        user[key.mv_size - prefix_len] = '\0';
        user_rec_t rec;
        memcpy(&rec, value.mv_data, sizeof(rec));
        api_user_t view;
        user_view(&rec, &view);
        count++;
        rc = cb(user, &view, data);
        if (rc != 0)
            break;
    }
    if (rc == 0 && step != 0 && step != MDB_NOTFOUND)
        rc = api__lmdb_error(step);
    mdb_cursor_close(cursor);
fail_txn:
    mdb_txn_abort(txn);
    return rc;
}

bool api_auth_family_revoked(api_auth_t *auth, const uint8_t family[16])
{
    MDB_txn *txn;
    if (mdb_txn_begin(auth->env, NULL, MDB_RDONLY, &txn) != 0)
        return true;
    MDB_val key = {.mv_size = 16, .mv_data = (void *)family}, value;
    bool revoked = true;
    if (mdb_get(txn, auth->families, &key, &value) == 0 && value.mv_size == sizeof(family_rec_t))
        revoked = ((const family_rec_t *)value.mv_data)->revoked != 0;
    mdb_txn_abort(txn);
    return revoked;
}

/* ---- refresh tokens ---- */

static void token_hash(const char *text, uint8_t out[32])
{
    SHA256((const unsigned char *)text, strlen(text), out);
}

/* Makes a new refresh token of family for (tenant, user, device) and stores its hash. */
static int refresh_issue(MDB_txn *txn, api_auth_t *auth, const refresh_rec_t *model,
                         char out[API_REFRESH_TEXT_LEN + 1])
{
    uint8_t random[API_REFRESH_TOKEN_BYTES], hash[32];
    if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random))
        return FL_EIO;
    fl_hex_format(random, sizeof(random), out);
    OPENSSL_cleanse(random, sizeof(random));
    token_hash(out, hash);
    refresh_rec_t rec = *model;
    rec.rotated = 0;
    rec.expires_s = fl_now_us() / 1000000 + auth->config.refresh_ttl_s;
    MDB_val key = {.mv_size = sizeof(hash), .mv_data = hash};
    MDB_val value = {.mv_size = sizeof(rec), .mv_data = &rec};
    return api__lmdb_error(mdb_put(txn, auth->refresh, &key, &value, 0));
}

static int family_set(MDB_txn *txn, api_auth_t *auth, const uint8_t family[16], const char *tenant,
                      const char *user, bool revoked)
{
    family_rec_t rec;
    memset(&rec, 0, sizeof(rec));
    snprintf(rec.tenant, sizeof(rec.tenant), "%s", tenant);
    snprintf(rec.user, sizeof(rec.user), "%s", user);
    rec.revoked = revoked;
    MDB_val key = {.mv_size = 16, .mv_data = (void *)family};
    MDB_val value = {.mv_size = sizeof(rec), .mv_data = &rec};
    return api__lmdb_error(mdb_put(txn, auth->families, &key, &value, 0));
}

static void session_claims(api_session_t *out, const refresh_rec_t *rec, const user_rec_t *user,
                           uint32_t ttl_s)
{
    api_claims_t *claims = &out->claims;
    snprintf(claims->tenant, sizeof(claims->tenant), "%s", rec->tenant);
    snprintf(claims->user, sizeof(claims->user), "%s", rec->user);
    snprintf(claims->device, sizeof(claims->device), "%s", rec->device);
    memcpy(claims->family, rec->family, 16);
    claims->role = (ev_role_t)user->role;
    claims->generation = user->generation;
    claims->issued_s = fl_now_us() / 1000000;
    claims->expires_s = claims->issued_s + ttl_s;
}

int api_auth_login(api_auth_t *auth, const char *tenant, const char *user, const char *password,
                   const char *device, api_session_t *out)
{
    memset(out, 0, sizeof(*out));
    user_rec_t rec;
    memset(&rec, 0, sizeof(rec));
    bool known = false;
    if (valid_names(tenant, user) && strlen(device) <= API_DEVICE_LEN_MAX) {
        MDB_txn *txn;
        if (mdb_txn_begin(auth->env, NULL, MDB_RDONLY, &txn) == 0) {
            known = user_read(txn, auth, tenant, user, &rec) == 0 && rec.hash[0] != '\0';
            mdb_txn_abort(txn);
        }
    }
    /* The same work for an unknown user: the answer's time does not tell who exists. */
    bool match = argon2id_verify(known ? rec.hash : auth->dummy_hash, password, strlen(password)) ==
                 ARGON2_OK;
    if (!known || !match || rec.disabled)
        return FL_EUNAUTHORIZED;
    refresh_rec_t model;
    memset(&model, 0, sizeof(model));
    snprintf(model.tenant, sizeof(model.tenant), "%s", tenant);
    snprintf(model.user, sizeof(model.user), "%s", user);
    snprintf(model.device, sizeof(model.device), "%s", device);
    if (getrandom(model.family, 16, 0) != 16)
        return FL_EIO;
    MDB_txn *txn;
    int rc = api__lmdb_error(mdb_txn_begin(auth->env, NULL, 0, &txn));
    if (rc != 0)
        return rc;
    rc = family_set(txn, auth, model.family, tenant, user, false);
    if (rc == 0)
        rc = refresh_issue(txn, auth, &model, out->refresh);
    if (rc == 0)
        rc = api__lmdb_error(mdb_txn_commit(txn));
    else
        mdb_txn_abort(txn);
    if (rc != 0) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    session_claims(out, &model, &rec, auth->config.access_ttl_s);
    return 0;
}

/* The checks of a refresh inside its write transaction; returns FL_EUNAUTHORIZED and sets
 * *revoke when the token was already used (the family must go). */
static int refresh_check(MDB_txn *txn, api_auth_t *auth, const refresh_rec_t *rec,
                         const char *device, user_rec_t *user, bool *revoke)
{
    *revoke = false;
    MDB_val key = {.mv_size = 16, .mv_data = (void *)rec->family}, value;
    if (mdb_get(txn, auth->families, &key, &value) != 0 || value.mv_size != sizeof(family_rec_t) ||
        ((const family_rec_t *)value.mv_data)->revoked)
        return FL_EUNAUTHORIZED;
    if (rec->rotated) {
        *revoke = true;
        return FL_EUNAUTHORIZED;
    }
    if (rec->expires_s <= fl_now_us() / 1000000 || strcmp(rec->device, device) != 0)
        return FL_EUNAUTHORIZED;
    if (user_read(txn, auth, rec->tenant, rec->user, user) != 0 || user->disabled)
        return FL_EUNAUTHORIZED;
    return 0;
}

int api_auth_refresh(api_auth_t *auth, const char *refresh, const char *device, api_session_t *out)
{
    memset(out, 0, sizeof(*out));
    if (strlen(refresh) != API_REFRESH_TEXT_LEN)
        return FL_EUNAUTHORIZED;
    uint8_t hash[32];
    token_hash(refresh, hash);
    MDB_txn *txn;
    int rc = api__lmdb_error(mdb_txn_begin(auth->env, NULL, 0, &txn));
    if (rc != 0)
        return rc;
    MDB_val key = {.mv_size = sizeof(hash), .mv_data = hash}, value;
    refresh_rec_t rec;
    user_rec_t user;
    bool revoke = false;
    rc = mdb_get(txn, auth->refresh, &key, &value) == 0 && value.mv_size == sizeof(rec)
             ? 0
             : FL_EUNAUTHORIZED;
    if (rc == 0) {
        memcpy(&rec, value.mv_data, sizeof(rec));
        rc = refresh_check(txn, auth, &rec, device, &user, &revoke);
    }
    if (revoke) {
        /* Theft: whoever holds the family's current token loses it too. */
        if (family_set(txn, auth, rec.family, rec.tenant, rec.user, true) == 0 &&
            mdb_txn_commit(txn) == 0)
            return FL_EUNAUTHORIZED;
        return FL_EUNAUTHORIZED; /* the commit failed and aborted the transaction */
    }
    if (rc == 0) {
        rec.rotated = 1;
        value = (MDB_val){.mv_size = sizeof(rec), .mv_data = &rec};
        rc = api__lmdb_error(mdb_put(txn, auth->refresh, &key, &value, 0));
    }
    if (rc == 0)
        rc = refresh_issue(txn, auth, &rec, out->refresh);
    if (rc != 0) {
        mdb_txn_abort(txn);
        memset(out, 0, sizeof(*out));
        return rc;
    }
    rc = api__lmdb_error(mdb_txn_commit(txn));
    if (rc != 0) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    session_claims(out, &rec, &user, auth->config.access_ttl_s);
    return 0;
}

int api_auth_revoke_family(api_auth_t *auth, const uint8_t family[16])
{
    MDB_txn *txn;
    int rc = api__lmdb_error(mdb_txn_begin(auth->env, NULL, 0, &txn));
    if (rc != 0)
        return rc;
    MDB_val key = {.mv_size = 16, .mv_data = (void *)family}, value;
    family_rec_t rec;
    rc = api__lmdb_error(mdb_get(txn, auth->families, &key, &value));
    if (rc == 0 && value.mv_size != sizeof(rec))
        rc = FL_ECORRUPT;
    if (rc == 0) {
        memcpy(&rec, value.mv_data, sizeof(rec));
        rc = family_set(txn, auth, family, rec.tenant, rec.user, true);
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return api__lmdb_error(mdb_txn_commit(txn));
}

int api_auth_logout(api_auth_t *auth, const char *refresh)
{
    if (strlen(refresh) != API_REFRESH_TEXT_LEN)
        return FL_EUNAUTHORIZED;
    uint8_t hash[32], family[16];
    token_hash(refresh, hash);
    MDB_txn *txn;
    if (mdb_txn_begin(auth->env, NULL, MDB_RDONLY, &txn) != 0)
        return FL_EIO;
    MDB_val key = {.mv_size = sizeof(hash), .mv_data = hash}, value;
    int rc =
        mdb_get(txn, auth->refresh, &key, &value) == 0 && value.mv_size == sizeof(refresh_rec_t)
            ? 0
            : FL_EUNAUTHORIZED;
    if (rc == 0)
        memcpy(family, ((const refresh_rec_t *)value.mv_data)->family, 16);
    mdb_txn_abort(txn);
    return rc == 0 ? api_auth_revoke_family(auth, family) : rc;
}

/* ---- the user lifecycle, mirrored from the ledger ---- */

/* Revokes every family of a user (a disable). */
static int revoke_user(MDB_txn *txn, api_auth_t *auth, const char *tenant, const char *user)
{
    MDB_cursor *cursor;
    int rc = api__lmdb_error(mdb_cursor_open(txn, auth->families, &cursor));
    if (rc != 0)
        return rc;
    MDB_val key, value;
    uint32_t scanned = 0;
    for (int op = MDB_FIRST; rc == 0 && scanned < AUTH_FAMILIES_SCAN; op = MDB_NEXT, scanned++) {
        if (mdb_cursor_get(cursor, &key, &value, (MDB_cursor_op)op) != 0)
            break;
        family_rec_t rec;
        if (value.mv_size != sizeof(rec))
            continue;
        memcpy(&rec, value.mv_data, sizeof(rec));
        if (rec.revoked || strcmp(rec.tenant, tenant) != 0 || strcmp(rec.user, user) != 0)
            continue;
        rec.revoked = 1;
        MDB_val update = {.mv_size = sizeof(rec), .mv_data = &rec};
        rc = api__lmdb_error(mdb_cursor_put(cursor, &key, &update, MDB_CURRENT));
    }
    mdb_cursor_close(cursor);
    return rc;
}

typedef enum { LIFE_INVITED, LIFE_ROLE, LIFE_DISABLED, LIFE_REACTIVATED, LIFE_NONE } life_t;

static life_t life_of(const char *type)
{
    static const char *const names[] = {"UserInvited", "UserRoleChanged", "UserDisabled",
                                        "UserReactivated"};
    for (int i = 0; i < LIFE_NONE; i++)
        if (strcmp(type, names[i]) == 0)
            return (life_t)i;
    return LIFE_NONE;
}

static int apply(MDB_txn *txn, api_auth_t *auth, const char *tenant, const char *user, life_t life,
                 ev_role_t role)
{
    user_rec_t rec;
    int rc = user_read(txn, auth, tenant, user, &rec);
    if (rc == FL_ENOENT && life == LIFE_INVITED) {
        memset(&rec, 0, sizeof(rec));
        rc = 0;
    }
    if (rc != 0)
        return rc == FL_ENOENT ? 0 : rc; /* a change of a user this store never saw */
    rec.generation++;
    if (life == LIFE_INVITED || life == LIFE_ROLE)
        rec.role = (uint32_t)role;
    if (life == LIFE_DISABLED)
        rec.disabled = 1;
    if (life == LIFE_REACTIVATED)
        rec.disabled = 0;
    rc = user_write(txn, auth, tenant, user, &rec);
    if (rc == 0 && (life == LIFE_DISABLED || life == LIFE_ROLE))
        rc = revoke_user(txn, auth, tenant, user);
    return rc;
}

int api_auth_apply_event(api_auth_t *auth, const char *tenant, const char *type,
                         const char *payload_json, size_t len)
{
    life_t life = life_of(type);
    if (life == LIFE_NONE)
        return 0;
    json_t *payload = json_loadb(payload_json, len, 0, NULL);
    const char *user = json_string_value(json_object_get(payload, "user_id"));
    const char *role_text = json_string_value(json_object_get(payload, "role"));
    ev_role_t role =
        role_text != NULL ? ev_role_parse(role_text, strlen(role_text)) : EV_ROLE_COUNT;
    int rc = user != NULL && valid_names(tenant, user) ? 0 : FL_EINVAL;
    if (rc == 0 && (life == LIFE_INVITED || life == LIFE_ROLE) && role == EV_ROLE_COUNT)
        rc = FL_EINVAL;
    MDB_txn *txn = NULL;
    if (rc == 0)
        rc = api__lmdb_error(mdb_txn_begin(auth->env, NULL, 0, &txn));
    if (rc == 0) {
        rc = apply(txn, auth, tenant, user, life, role);
        if (rc == 0)
            rc = api__lmdb_error(mdb_txn_commit(txn));
        else
            mdb_txn_abort(txn);
    }
    json_decref(payload);
    return rc;
}
