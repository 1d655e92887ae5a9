/*
 * sec_int.h: what the security files of api/ share (jwt.c, auth.c, h_auth.c, guard.c,
 * tenant.c). Included by api_int.h; nothing outside api/ includes it. docs/security.md says why
 * each piece is shaped as it is.
 */
#ifndef API_SEC_INT_H
#define API_SEC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/events.h"

#define API_TENANT_LEN_MAX   32   /* [a-z0-9-], the directory DATA/tenants/<tenant> */
#define API_USER_LEN_MAX     64   /* a user id of the catalog */
#define API_DEVICE_LEN_MAX   64   /* the device a phone's token is bound to, "" for none */
#define API_TOKEN_LEN_MAX    1024 /* an access token's text */
#define API_PASSWORD_LEN_MAX 256
#define API_PASSWORD_LEN_MIN 8

/* ---- jwt.c ---- */

#define API_JWT_KEYS_MAX  8
#define API_JWT_KEY_BYTES 32
#define API_JWT_ISSUER    "foutad"
#define API_JWT_AUDIENCE  "fouta-api"

typedef struct {
    char kid[32];
    uint8_t key[API_JWT_KEY_BYTES];
} api_jwt_key_t;

/* keys[0] signs; every key verifies (rotation: add a key first, drop the old one later). */
typedef struct {
    api_jwt_key_t keys[API_JWT_KEYS_MAX];
    uint32_t count;
} api_jwt_keys_t;

/* What an access token says. */
typedef struct {
    char tenant[API_TENANT_LEN_MAX + 1];
    char user[API_USER_LEN_MAX + 1];
    char device[API_DEVICE_LEN_MAX + 1]; /* bound device, "" for none */
    ev_role_t role;
    uint8_t family[16];  /* the refresh family: logout or theft revokes it */
    uint64_t generation; /* the user's generation: a role change or a disable bumps it */
    int64_t issued_s;
    int64_t expires_s;
} api_claims_t;

/* base64url without padding: the encoded length (out needs 4 * len / 3 + 4 bytes). */
size_t api_b64url_encode(const uint8_t *bytes, size_t len, char *out);
/* The decoded length, or -1 on a bad character or when out is too small. */
long api_b64url_decode(const char *text, size_t len, uint8_t *out, size_t size);

/* Reads a key file ("KID HEX" lines). With create, first writes one with a random key when the
 * file does not exist (mode 0600). 0, FL_EINVAL (no key, a bad line), FL_ETOOBIG, -errno. */
int api_jwt_keys_load(api_jwt_keys_t *keys, const char *path, bool create);
/* Signs claims with keys[0]: the token's length, FL_ETOOBIG or FL_ENOMEM. */
int api_jwt_sign(const api_jwt_keys_t *keys, const api_claims_t *claims, char *out, size_t size);
/* Verifies a token: 0 with *out filled, or FL_EUNAUTHORIZED with *why saying what was wrong
 * (static text that never contains the token). */
int api_jwt_verify(const api_jwt_keys_t *keys, const char *token, size_t len, int64_t now_s,
                   api_claims_t *out, const char **why);

/* ---- auth.c: the auth store (users' credentials, refresh tokens, personal-data keys) ---- */

typedef struct api_auth api_auth_t;

typedef struct {
    uint32_t argon2_memory_kib; /* Argon2id parameters of new hashes */
    uint32_t argon2_passes;
    uint32_t access_ttl_s;
    uint32_t refresh_ttl_s;
} api_auth_config_t;

typedef struct {
    ev_role_t role;
    bool disabled;
    bool has_password;
    uint64_t generation;
} api_user_t;

#define API_REFRESH_TOKEN_BYTES 32 /* random; stored as its SHA-256 only */
#define API_REFRESH_TEXT_LEN    64 /* hex */

/* A login or a refresh that succeeded: what the access token says, and the new refresh token. */
typedef struct {
    api_claims_t claims;
    char refresh[API_REFRESH_TEXT_LEN + 1];
} api_session_t;

/* Opens (creating) the store in dir: an LMDB environment of its own. 0 or -errno, FL_EIO. */
int api_auth_open(api_auth_t **out, const char *dir, const api_auth_config_t *config);
void api_auth_close(api_auth_t *auth); /* accepts NULL */

/* Creates or updates a user: role, and a password when password is not NULL. Hashes with
 * Argon2id (slow by design: call it off the loop thread). 0, FL_EINVAL (a password out of
 * its length), FL_EIO. */
int api_auth_user_set(api_auth_t *auth, const char *tenant, const char *user, ev_role_t role,
                      const char *password);
/* The user now: 0, FL_ENOENT. A cheap read (the loop thread checks it on every request). */
int api_auth_user_get(api_auth_t *auth, const char *tenant, const char *user, api_user_t *out);
/* Called for each user of a tenant, in the order of their ids; a non-zero return stops the
 * walk and is returned. user and view are valid during the call only. */
typedef int (*api_auth_user_cb)(const char *user, const api_user_t *view, void *data);
/* Walks the users of tenant, at most users_max of them (*truncated says whether more exist).
 * 0, FL_EINVAL (a bad tenant name), FL_ECORRUPT, FL_EIO, or what cb returned. */
int api_auth_user_each(api_auth_t *auth, const char *tenant, uint32_t users_max, bool *truncated,
                       api_auth_user_cb cb, void *data);
/* Whether a refresh family was revoked (logout, theft, disable). */
bool api_auth_family_revoked(api_auth_t *auth, const uint8_t family[16]);
/* Applies a user lifecycle event of the tenant, once the ledger recorded it: UserInvited
 * (creates the user, without a password), UserRoleChanged, UserDisabled (revokes every
 * refresh family of the user), UserReactivated. payload_json is the event's payload. */
int api_auth_apply_event(api_auth_t *auth, const char *tenant, const char *type,
                         const char *payload_json, size_t len);
/* Checks a password (Argon2id: off the loop thread) and opens a refresh family. 0, or
 * FL_EUNAUTHORIZED for an unknown user, a wrong password, a disabled user. */
int api_auth_login(api_auth_t *auth, const char *tenant, const char *user, const char *password,
                   const char *device, api_session_t *out);
/* Rotates a refresh token. A token already rotated revokes its whole family (theft) and is
 * refused; so are unknown, expired and revoked tokens, a disabled user's, and a token bound
 * to another device. 0 or FL_EUNAUTHORIZED. */
int api_auth_refresh(api_auth_t *auth, const char *refresh, const char *device, api_session_t *out);
/* Revokes the family of a refresh token (logout). 0 or FL_EUNAUTHORIZED (unknown token). */
int api_auth_logout(api_auth_t *auth, const char *refresh);
/* Revokes a family by id (logout with the access token alone). */
int api_auth_revoke_family(api_auth_t *auth, const uint8_t family[16]);
/* Seconds an access token lives. */
uint32_t api_auth_access_ttl(const api_auth_t *auth);

/* ---- pii.c: personal data encrypted at rest, a key per person ---- */

/* The master key wraps every person's key: 32 bytes from a key file (hex) or FOUTA_MASTER_KEY. */
int api_pii_init(api_auth_t *auth, const char *master_key_file, bool create);
#define API_PII_PERSON_LEN_MAX 80 /* "<kind>:<id>": a catalog person kind and an id */
/* The length of the sealed text of len bytes: prefix, key id, ':', base64url of the nonce, the
 * ciphertext and the tag. */
#define API_PII_SEALED_LEN(len) (EV_SEALED_PREFIX_LEN + 16 + 1 + (4 * (12 + (len) + 16) + 2) / 3)

/* Seals text for person (tenant-wide id: "user:U1", "sub:S1") with that person's key, made on
 * first use (or anew after an erasure): out gets "enc:v1:<key id>:<base64url>" and a NUL; the
 * sealed length is returned. context (the event id and the field's path) makes the nonce with
 * the text: the same context and text give the same bytes. FL_EINVAL (a bad tenant or person),
 * FL_ETOOBIG (out is short), FL_EIO, FL_ENOSPC (the auth store). */
int api_pii_encrypt(api_auth_t *auth, const char *tenant, const char *person, const char *context,
                    const char *text, size_t len, char *out, size_t size);
/* Opens what api_pii_encrypt sealed: the plaintext length (out gets no NUL), FL_EERASED when
 * the person's key was destroyed, FL_ENOENT when the key is not in this auth store, FL_ECORRUPT
 * when the text or its tag is wrong, FL_ETOOBIG when out is short. */
int api_pii_decrypt(api_auth_t *auth, const char *tenant, const char *text, size_t text_len,
                    char *out, size_t size);
/* Destroys a person's key (GDPR erasure): their ciphertexts can never be read again. 0,
 * FL_EERASED (erased already), FL_ENOENT (nothing of theirs was ever sealed), FL_EINVAL. */
int api_pii_erase(api_auth_t *auth, const char *tenant, const char *person);

/* ---- seal.c: sealing a posted event, revealing a stored one ---- */

struct api_tenant;
#define API_REDACTED_BYTES_MAX 1024 /* the "redacted" member of one record */

/* Seals every sensitive string of the event object event (a jansson json_t *, validated on its
 * plaintext already) in place, for the person its type names ("<person_kind>:<id>"), with the
 * event's id and the field's path as context. 0, FL_EINVAL (the type names no person field),
 * or api_pii_encrypt's codes. */
int api_seal_event(struct api_tenant *tenant, const ev_type_t *type, void *event);
/* A stored payload as JSON for a reader of tenant (ev_payload_to_json's contract): sealed
 * fields decrypted when personal is true (a reader allowed personal data), else null; null too
 * when they cannot be decrypted. redacted (at least API_REDACTED_BYTES_MAX bytes) gets the JSON
 * object of the null fields' paths, each "restricted", "erased" or "unreadable", or "". */
int api_reveal_payload(struct api_tenant *tenant, const ev_type_t *type, uint32_t schema_version,
                       const uint8_t *payload, size_t payload_len, bool personal, char *out,
                       size_t size, char *redacted);
/* Whether a role may read personal data: the admin and the manager (who invite users and
 * onboard subcontractors); every other role reads those fields as null, "restricted". */
bool api_role_reads_personal(ev_role_t role);

#endif
