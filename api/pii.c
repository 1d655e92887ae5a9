/*
 * pii.c: personal data encrypted at rest (docs/security.md, "Personal data at rest").
 *
 * The master key is 32 bytes, written as 64 hex digits in a key file or in FOUTA_MASTER_KEY; a
 * missing default file is made at first start (mode 0600). Each person ("user:U1", "sub:S1") of
 * a tenant has a data key of their own, made on first use, wrapped by the master key
 * (AES-256-GCM) and kept in the auth store's "keys" database, never in the ledger:
 *   "p:<tenant>:<person>" -> the person's current key id (and whether it was erased)
 *   "k:<tenant>:<key id>" -> the wrapped key, or a tombstone once erased
 * Erasing a person overwrites their key with a tombstone: every ciphertext under it can never
 * be read again, while the ledger (and its hash chain) is left as it was.
 *
 * A field is sealed as "enc:v1:<key id>:<base64url of nonce | ciphertext | tag>", AES-256-GCM
 * with the tenant and key id as associated data. The nonce is synthetic: an HMAC of the
 * caller's context (the event id and the field's path) and the plaintext under a key of its
 * own, so that a client retrying the same event gets the very same bytes (the ledger's
 * idempotency compares them), and two different plaintexts never share a nonce.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <assert.h>
#include <fcntl.h>
#include <lmdb.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* auth.c's: its environment and keys, and the errors of LMDB as the project's. */
MDB_env *api__auth_env(api_auth_t *auth, MDB_dbi *keys, uint8_t **master, bool **has_master);
int api__lmdb_error(int rc);

static int parse_hex_key(const char *text, uint8_t out[32])
{
    size_t len = strcspn(text, "\r\n");
    if (len != 64)
        return FL_EINVAL;
    for (size_t i = 0; i < 32; i++) {
        unsigned byte;
        if (sscanf(text + 2 * i, "%2x", &byte) != 1)
            return FL_EINVAL;
        out[i] = (uint8_t)byte;
    }
    return 0;
}

static int create_master(const char *path)
{
    uint8_t key[32];
    char hex[65];
    if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
        return FL_EIO;
    fl_hex_format(key, sizeof(key), hex);
    OPENSSL_cleanse(key, sizeof(key));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        OPENSSL_cleanse(hex, sizeof(hex));
        return errno == EEXIST ? 0 : fl_err_from_errno(errno);
    }
    hex[64] = '\n';
    bool ok = write(fd, hex, 65) == 65 && fsync(fd) == 0;
    OPENSSL_cleanse(hex, sizeof(hex));
    close(fd);
    return ok ? 0 : FL_EIO;
}

int api_pii_init(api_auth_t *auth, const char *master_key_file, bool create)
{
    MDB_dbi keys;
    uint8_t *master;
    bool *has_master;
    api__auth_env(auth, &keys, &master, &has_master);
    const char *env = getenv("FOUTA_MASTER_KEY");
    if (create && env != NULL) {
        int rc = parse_hex_key(env, master);
        *has_master = rc == 0;
        return rc;
    }
    if (create) {
        int rc = create_master(master_key_file);
        if (rc != 0)
            return rc;
    }
    FILE *file = fopen(master_key_file, "r");
    if (file == NULL)
        return fl_err_from_errno(errno);
    char line[128];
    int rc = fgets(line, sizeof(line), file) != NULL ? parse_hex_key(line, master) : FL_EINVAL;
    OPENSSL_cleanse(line, sizeof(line));
    fclose(file);
    *has_master = rc == 0;
    return rc;
}

/* ---- the keys of persons ---- */

#define KID_BYTES      8
#define KID_HEX        (2 * KID_BYTES)
#define DATA_KEY_BYTES 32
#define NONCE_BYTES    12
#define TAG_BYTES      16
#define RECORD_KEY_MAX (2 + API_TENANT_LEN_MAX + 1 + API_PII_PERSON_LEN_MAX + 1)

typedef struct {
    uint8_t kid[KID_BYTES];
    uint32_t erased;
} person_rec_t;

typedef struct {
    uint32_t erased; /* 1: a tombstone, the rest is zero */
    uint8_t nonce[NONCE_BYTES];
    uint8_t wrapped[DATA_KEY_BYTES];
    uint8_t tag[TAG_BYTES];
} key_rec_t;

/* AES-256-GCM one shot: seal (encrypt) or open (decrypt and check the tag). */
static int gcm(bool seal, const uint8_t key[32], const uint8_t nonce[NONCE_BYTES], const char *aad,
               size_t aad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[TAG_BYTES])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return FL_ENOMEM;
    int out_len = 0, ok;
    if (seal)
        ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
             EVP_EncryptUpdate(ctx, NULL, &out_len, (const uint8_t *)aad, (int)aad_len) == 1 &&
             (len == 0 || EVP_EncryptUpdate(ctx, out, &out_len, in, (int)len) == 1) &&
             EVP_EncryptFinal_ex(ctx, out + (len == 0 ? 0 : out_len), &out_len) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) == 1;
    else
        ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
             EVP_DecryptUpdate(ctx, NULL, &out_len, (const uint8_t *)aad, (int)aad_len) == 1 &&
             (len == 0 || EVP_DecryptUpdate(ctx, out, &out_len, in, (int)len) == 1) &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag) == 1 &&
             EVP_DecryptFinal_ex(ctx, out + (len == 0 ? 0 : out_len), &out_len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : seal ? FL_EINTERNAL : FL_ECORRUPT;
}

static bool person_valid(const char *person)
{
    size_t len = strlen(person);
    return len > 0 && len <= API_PII_PERSON_LEN_MAX && strchr(person, ':') != NULL;
}

static void kid_hex(const uint8_t kid[KID_BYTES], char out[KID_HEX + 1])
{
    fl_hex_format(kid, KID_BYTES, out);
}

/* The associated data of a wrapped key and of a sealed field: which tenant, which key. */
static size_t key_aad(const char *tenant, const char *kid, char *out, size_t size)
{
    int len = snprintf(out, size, "fouta-pii:v1:%s:%s", tenant, kid);
    assert(len > 0 && (size_t)len < size);
    return (size_t)len;
}

/* Unwraps the key kid of tenant: 0, FL_EERASED (a tombstone), FL_ENOENT, FL_ECORRUPT. */
static int key_load(api_auth_t *auth, MDB_txn *txn, const char *tenant, const char *kid,
                    uint8_t key[DATA_KEY_BYTES])
{
    MDB_dbi keys;
    uint8_t *master;
    bool *has_master;
    MDB_env *env = api__auth_env(auth, &keys, &master, &has_master);
    (void)env;
    if (!*has_master)
        return FL_EINTERNAL;
    char name[RECORD_KEY_MAX];
    int len = snprintf(name, sizeof(name), "k:%s:%s", tenant, kid);
    MDB_val k = {.mv_size = (size_t)len, .mv_data = name}, v;
    int rc = api__lmdb_error(mdb_get(txn, keys, &k, &v));
    if (rc != 0)
        return rc;
    if (v.mv_size != sizeof(key_rec_t))
        return FL_ECORRUPT;
    key_rec_t rec;
    memcpy(&rec, v.mv_data, sizeof(rec));
    if (rec.erased)
        return FL_EERASED;
    char aad[128];
    size_t aad_len = key_aad(tenant, kid, aad, sizeof(aad));
    rc = gcm(false, master, rec.nonce, aad, aad_len, rec.wrapped, DATA_KEY_BYTES, key, rec.tag);
    OPENSSL_cleanse(&rec, sizeof(rec));
    return rc;
}

/* Makes a new key for person in a write transaction. */
static int key_create(api_auth_t *auth, MDB_txn *txn, const char *tenant, const char *person,
                      uint8_t kid[KID_BYTES], uint8_t key[DATA_KEY_BYTES])
{
    MDB_dbi keys;
    uint8_t *master;
    bool *has_master;
    api__auth_env(auth, &keys, &master, &has_master);
    if (!*has_master)
        return FL_EINTERNAL;
    key_rec_t rec = {0};
    if (getrandom(kid, KID_BYTES, 0) != KID_BYTES ||
        getrandom(key, DATA_KEY_BYTES, 0) != DATA_KEY_BYTES ||
        getrandom(rec.nonce, NONCE_BYTES, 0) != NONCE_BYTES)
        return FL_EIO;
    char hex[KID_HEX + 1], aad[128], name[RECORD_KEY_MAX];
    kid_hex(kid, hex);
    size_t aad_len = key_aad(tenant, hex, aad, sizeof(aad));
    int rc = gcm(true, master, rec.nonce, aad, aad_len, key, DATA_KEY_BYTES, rec.wrapped, rec.tag);
    if (rc != 0)
        return rc;
    int len = snprintf(name, sizeof(name), "k:%s:%s", tenant, hex);
    MDB_val k = {.mv_size = (size_t)len, .mv_data = name};
    MDB_val v = {.mv_size = sizeof(rec), .mv_data = &rec};
    rc = api__lmdb_error(mdb_put(txn, keys, &k, &v, MDB_NOOVERWRITE));
    if (rc != 0)
        return rc;
    person_rec_t person_rec = {.erased = 0};
    memcpy(person_rec.kid, kid, KID_BYTES);
    len = snprintf(name, sizeof(name), "p:%s:%s", tenant, person);
    k = (MDB_val){.mv_size = (size_t)len, .mv_data = name};
    v = (MDB_val){.mv_size = sizeof(person_rec), .mv_data = &person_rec};
    return api__lmdb_error(mdb_put(txn, keys, &k, &v, 0));
}

/* A person's record ("p:<tenant>:<person>"): 0, FL_ENOENT, FL_ECORRUPT. */
static int person_get(MDB_txn *txn, MDB_dbi keys, const char *tenant, const char *person,
                      person_rec_t *rec)
{
    char name[RECORD_KEY_MAX];
    int len = snprintf(name, sizeof(name), "p:%s:%s", tenant, person);
    MDB_val k = {.mv_size = (size_t)len, .mv_data = name}, v;
    int rc = api__lmdb_error(mdb_get(txn, keys, &k, &v));
    if (rc == 0 && v.mv_size != sizeof(*rec))
        rc = FL_ECORRUPT;
    if (rc == 0)
        memcpy(rec, v.mv_data, sizeof(*rec));
    return rc;
}

/* The person's current key, made (and committed, synced, before any ciphertext under it can
 * reach the ledger) when they have none or theirs was erased. */
static int person_key(api_auth_t *auth, const char *tenant, const char *person,
                      uint8_t kid[KID_BYTES], uint8_t key[DATA_KEY_BYTES])
{
    MDB_dbi keys;
    uint8_t *master;
    bool *has_master;
    MDB_env *env = api__auth_env(auth, &keys, &master, &has_master);
    char hex[KID_HEX + 1];
    MDB_txn *txn;
    int rc = api__lmdb_error(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
    if (rc != 0)
        return rc;
    person_rec_t rec;
    rc = person_get(txn, keys, tenant, person, &rec);
    if (rc == 0) {
        memcpy(kid, rec.kid, KID_BYTES);
        kid_hex(kid, hex);
        rc = rec.erased ? FL_EERASED : key_load(auth, txn, tenant, hex, key);
    }
    mdb_txn_abort(txn);
    if (rc != FL_ENOENT && rc != FL_EERASED)
        return rc;
    rc = api__lmdb_error(mdb_txn_begin(env, NULL, 0, &txn));
    if (rc != 0)
        return rc;
    rc = key_create(auth, txn, tenant, person, kid, key);
    if (rc == 0)
        return api__lmdb_error(mdb_txn_commit(txn));
    mdb_txn_abort(txn);
    return rc;
}

/* The field's key and its nonce key, both derived from the person's data key. */
static void derive(const uint8_t key[DATA_KEY_BYTES], const char *label, uint8_t out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, DATA_KEY_BYTES, (const uint8_t *)label, strlen(label), out, &len);
}

int api_pii_encrypt(api_auth_t *auth, const char *tenant, const char *person, const char *context,
                    const char *text, size_t len, char *out, size_t size)
{
    assert(context != NULL && text != NULL);
    if (size > 0)
        out[0] = '\0';
    if (!person_valid(person) || !api_tenant_name_valid(tenant))
        return FL_EINVAL;
    if (len > EV_STRING_LEN_MAX || API_PII_SEALED_LEN(len) + 1 > size)
        return FL_ETOOBIG;
    uint8_t kid[KID_BYTES], key[DATA_KEY_BYTES], gcm_key[32], nonce_key[32];
    int rc = person_key(auth, tenant, person, kid, key);
    if (rc != 0)
        return rc;
    derive(key, "fouta-pii:v1:gcm", gcm_key);
    derive(key, "fouta-pii:v1:nonce", nonce_key);
    OPENSSL_cleanse(key, sizeof(key));
    /* nonce | ciphertext | tag, then base64url of it after the prefix */
    uint8_t *sealed = malloc(NONCE_BYTES + len + TAG_BYTES);
    if (sealed == NULL) {
        rc = FL_ENOMEM;
        goto done;
    }
    uint8_t mac[32];
    unsigned int mac_len = sizeof(mac);
    /* HMAC(nonce_key, context NUL text): a retry of the same event seals the same bytes */
    size_t context_len = strlen(context);
    uint8_t *input = malloc(context_len + 1 + len);
    if (input == NULL) {
        rc = FL_ENOMEM;
        goto done_sealed;
    }
    memcpy(input, context, context_len + 1);
    memcpy(input + context_len + 1, text, len);
    HMAC(EVP_sha256(), nonce_key, sizeof(nonce_key), input, context_len + 1 + len, mac, &mac_len);
    OPENSSL_cleanse(input, context_len + 1 + len);
    free(input);
    memcpy(sealed, mac, NONCE_BYTES);
    char hex[KID_HEX + 1], aad[128];
    kid_hex(kid, hex);
    size_t aad_len = key_aad(tenant, hex, aad, sizeof(aad));
    rc = gcm(true, gcm_key, sealed, aad, aad_len, (const uint8_t *)text, len, sealed + NONCE_BYTES,
             sealed + NONCE_BYTES + len);
    if (rc == 0) {
        int head = snprintf(out, size, EV_SEALED_PREFIX "%s:", hex);
        size_t body = api_b64url_encode(sealed, NONCE_BYTES + len + TAG_BYTES, out + head);
        out[head + body] = '\0';
        rc = head + (int)body;
        assert((size_t)rc <= API_PII_SEALED_LEN(len));
    }
done_sealed:
    free(sealed);
done:
    OPENSSL_cleanse(gcm_key, sizeof(gcm_key));
    OPENSSL_cleanse(nonce_key, sizeof(nonce_key));
    return rc;
}

int api_pii_decrypt(api_auth_t *auth, const char *tenant, const char *text, size_t text_len,
                    char *out, size_t size)
{
    if (text_len < EV_SEALED_PREFIX_LEN + KID_HEX + 1 ||
        memcmp(text, EV_SEALED_PREFIX, EV_SEALED_PREFIX_LEN) != 0 ||
        text[EV_SEALED_PREFIX_LEN + KID_HEX] != ':' || !api_tenant_name_valid(tenant))
        return FL_ECORRUPT;
    char hex[KID_HEX + 1];
    memcpy(hex, text + EV_SEALED_PREFIX_LEN, KID_HEX);
    hex[KID_HEX] = '\0';
    const char *body = text + EV_SEALED_PREFIX_LEN + KID_HEX + 1;
    size_t body_len = text_len - (size_t)(body - text);
    if (body_len > 4 * (EV_STRING_LEN_MAX / 3 + 1))
        return FL_ECORRUPT;
    uint8_t *sealed = malloc(body_len);
    if (sealed == NULL)
        return FL_ENOMEM;
    long sealed_len = api_b64url_decode(body, body_len, sealed, body_len);
    int rc = FL_ECORRUPT;
    if (sealed_len < NONCE_BYTES + TAG_BYTES)
        goto done;
    size_t len = (size_t)sealed_len - NONCE_BYTES - TAG_BYTES;
    if (len > size) {
        rc = FL_ETOOBIG;
        goto done;
    }
    MDB_dbi keys;
    uint8_t *master;
    bool *has_master;
    MDB_env *env = api__auth_env(auth, &keys, &master, &has_master);
    MDB_txn *txn;
    uint8_t key[DATA_KEY_BYTES], gcm_key[32];
    rc = api__lmdb_error(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
    if (rc != 0)
        goto done;
    rc = key_load(auth, txn, tenant, hex, key);
    mdb_txn_abort(txn);
    if (rc != 0)
        goto done;
    derive(key, "fouta-pii:v1:gcm", gcm_key);
    OPENSSL_cleanse(key, sizeof(key));
    char aad[128];
    size_t aad_len = key_aad(tenant, hex, aad, sizeof(aad));
    rc = gcm(false, gcm_key, sealed, aad, aad_len, sealed + NONCE_BYTES, len, (uint8_t *)out,
             sealed + NONCE_BYTES + len);
    OPENSSL_cleanse(gcm_key, sizeof(gcm_key));
    if (rc == 0)
        rc = (int)len;
    else
        OPENSSL_cleanse(out, len);
done:
    free(sealed);
    return rc;
}

int api_pii_erase(api_auth_t *auth, const char *tenant, const char *person)
{
    if (!person_valid(person) || !api_tenant_name_valid(tenant))
        return FL_EINVAL;
    MDB_dbi keys;
    uint8_t *master;
    bool *has_master;
    MDB_env *env = api__auth_env(auth, &keys, &master, &has_master);
    char name[RECORD_KEY_MAX], hex[KID_HEX + 1];
    MDB_txn *txn;
    int rc = api__lmdb_error(mdb_txn_begin(env, NULL, 0, &txn));
    if (rc != 0)
        return rc;
    person_rec_t rec;
    rc = person_get(txn, keys, tenant, person, &rec);
    if (rc != 0)
        goto fail_txn;
    int len = snprintf(name, sizeof(name), "p:%s:%s", tenant, person);
    MDB_val k = {.mv_size = (size_t)len, .mv_data = name}, v;
    if (rec.erased) {
        rc = FL_EERASED;
        goto fail_txn;
    }
    rec.erased = 1;
    v = (MDB_val){.mv_size = sizeof(rec), .mv_data = &rec};
    rc = api__lmdb_error(mdb_put(txn, keys, &k, &v, 0));
    if (rc != 0)
        goto fail_txn;
    /* A tombstone takes the wrapped key's place, so that decrypting says "erased" rather
     * than "unknown key". (LMDB copies pages on write: the old page stays in the auth store's
     * file, still wrapped by the master key, until LMDB reuses it; docs/security.md.) */
    kid_hex(rec.kid, hex);
    len = snprintf(name, sizeof(name), "k:%s:%s", tenant, hex);
    k = (MDB_val){.mv_size = (size_t)len, .mv_data = name};
    key_rec_t tombstone = {.erased = 1};
    v = (MDB_val){.mv_size = sizeof(tombstone), .mv_data = &tombstone};
    rc = api__lmdb_error(mdb_put(txn, keys, &k, &v, 0));
    if (rc != 0)
        goto fail_txn;
    return api__lmdb_error(mdb_txn_commit(txn));
fail_txn:
    mdb_txn_abort(txn);
    return rc;
}
