/*
 * audit.c: verifiable history - signed digests of the chain's head, checked later against the
 * ledger, and proofs that one event lies in the chain under a digest, checkable by a third
 * party with SHA-256, a msgpack reader and an Ed25519 verifier (docs/audit.md).
 */
#define _POSIX_C_SOURCE 200809L
#include "replay/replay.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define DIGEST_MESSAGE_MAX 256
#define PROOF_LINE_MAX     (2 * (ENG_PAYLOAD_BYTES_MAX + 64 * 1024) + 64)

/* The bytes an Ed25519 signature covers. */
static int digest_message(const rpl_digest_t *digest, char out[DIGEST_MESSAGE_MAX])
{
    char hash[2 * ENG_HASH_BYTES + 1];
    fl_hex_format(digest->hash, ENG_HASH_BYTES, hash);
    return snprintf(out, DIGEST_MESSAGE_MAX,
                    "fouta-digest 1\nseq %" PRIu64 "\nhash %s\nsigned_at_us %" PRId64 "\n",
                    digest->seq, hash, digest->signed_at_us);
}

static EVP_PKEY *key_read(const char *path, bool private_key)
{
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return NULL;
    EVP_PKEY *key = private_key ? PEM_read_PrivateKey(file, NULL, NULL, NULL)
                                : PEM_read_PUBKEY(file, NULL, NULL, NULL);
    fclose(file);
    if (key != NULL && EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

int rpl_keygen(const char *private_path, const char *public_path)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (key == NULL)
        return FL_EINTERNAL;
    int rc = FL_EIO;
    FILE *private_file = fopen(private_path, "wx"), *public_file = NULL;
    if (private_file == NULL)
        goto done;
    if (PEM_write_PrivateKey(private_file, key, NULL, NULL, 0, NULL, NULL) != 1)
        goto done;
    if ((public_file = fopen(public_path, "wx")) == NULL || PEM_write_PUBKEY(public_file, key) != 1)
        goto done;
    rc = 0;
done:
    if (private_file != NULL && fclose(private_file) != 0)
        rc = FL_EIO;
    if (public_file != NULL && fclose(public_file) != 0)
        rc = FL_EIO;
    EVP_PKEY_free(key);
    return rc;
}

int rpl_digest_sign(eng_ledger_t *ledger, const char *private_path, rpl_digest_t *digest)
{
    memset(digest, 0, sizeof(*digest));
    eng_head_t head;
    eng_head(ledger, &head);
    if (head.seq == 0)
        return FL_ENOENT;
    digest->seq = head.seq;
    memcpy(digest->hash, head.hash, ENG_HASH_BYTES);
    digest->signed_at_us = fl_now_us();
    EVP_PKEY *key = key_read(private_path, true);
    if (key == NULL)
        return FL_EINVAL;
    char message[DIGEST_MESSAGE_MAX];
    int len = digest_message(digest, message);
    size_t signature_len = sizeof(digest->signature);
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    int ok = context != NULL && EVP_DigestSignInit(context, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestSign(context, digest->signature, &signature_len,
                            (const unsigned char *)message, (size_t)len) == 1 &&
             signature_len == sizeof(digest->signature);
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(key);
    return ok ? 0 : FL_EINTERNAL;
}

static int signature_check(const rpl_digest_t *digest, const char *public_path)
{
    EVP_PKEY *key = key_read(public_path, false);
    if (key == NULL)
        return FL_EINVAL;
    char message[DIGEST_MESSAGE_MAX];
    int len = digest_message(digest, message);
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    int ok = context != NULL && EVP_DigestVerifyInit(context, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestVerify(context, digest->signature, sizeof(digest->signature),
                              (const unsigned char *)message, (size_t)len) == 1;
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(key);
    return ok ? 0 : FL_ECORRUPT;
}

int rpl_digest_check(eng_ledger_t *ledger, const rpl_digest_t *digest, const char *public_path,
                     uint64_t *bad_seq)
{
    *bad_seq = 0;
    int rc = signature_check(digest, public_path);
    if (rc != 0)
        return rc;
    eng_record_t record;
    eng_iter_t *iter = NULL;
    if ((rc = eng_read(ledger, digest->seq, &record, &iter)) != 0)
        return rc == FL_ENOENT ? FL_ECORRUPT : rc; /* the ledger lost what was signed */
    bool same = memcmp(record.hash, digest->hash, ENG_HASH_BYTES) == 0;
    eng_iter_close(iter);
    if (!same) {
        *bad_seq = digest->seq;
        return FL_ECORRUPT;
    }
    uint64_t checked;
    rc = eng_verify(ledger, &checked, bad_seq); /* and the chain through it, to the head */
    return rc;
}

int rpl_digest_write(FILE *out, const rpl_digest_t *digest)
{
    char message[DIGEST_MESSAGE_MAX], signature[2 * sizeof(digest->signature) + 1];
    digest_message(digest, message);
    fl_hex_format(digest->signature, sizeof(digest->signature), signature);
    return fprintf(out, "%ssignature %s\n", message, signature) < 0 ? FL_EIO : 0;
}

static bool hex_parse(const char *text, uint8_t *out, size_t len)
{
    if (strlen(text) != 2 * len)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned byte;
        if (sscanf(text + 2 * i, "%2x", &byte) != 1)
            return false;
        out[i] = (uint8_t)byte;
    }
    return true;
}

int rpl_digest_read(FILE *in, rpl_digest_t *digest)
{
    memset(digest, 0, sizeof(*digest));
    char hash[2 * ENG_HASH_BYTES + 2], signature[2 * sizeof(digest->signature) + 2];
    int version;
    if (fscanf(in,
               "fouta-digest %d seq %" SCNu64 " hash %65s signed_at_us %" SCNd64 " signature %129s",
               &version, &digest->seq, hash, &digest->signed_at_us, signature) != 5 ||
        version != 1 || !hex_parse(hash, digest->hash, ENG_HASH_BYTES) ||
        !hex_parse(signature, digest->signature, sizeof(digest->signature)))
        return FL_EINVAL;
    return 0;
}

/* ---- proofs: the records from one event to a digest's head */

int rpl_proof_write(eng_ledger_t *ledger, uint64_t seq, const rpl_digest_t *digest, FILE *out)
{
    if (seq == 0 || seq > digest->seq)
        return FL_EINVAL;
    eng_iter_t *iter = NULL;
    int rc = eng_iter_log(ledger, seq, ENG_FORWARD, &iter);
    if (rc != 0)
        return rc;
    char *hex = malloc(PROOF_LINE_MAX);
    if (hex == NULL) {
        eng_iter_close(iter);
        return FL_ENOMEM;
    }
    eng_record_t record;
    while ((rc = eng_iter_next(iter, &record)) == 0 && record.seq <= digest->seq) {
        if (2 * (size_t)record.raw_len + 1 > PROOF_LINE_MAX) {
            rc = FL_ETOOBIG;
            break;
        }
        fl_hex_format(record.raw, record.raw_len, hex);
        if (fprintf(out, "%" PRIu64 " %s\n", record.seq, hex) < 0) {
            rc = FL_EIO;
            break;
        }
        if (record.seq == digest->seq) {
            rc = 0;
            break;
        }
    }
    free(hex);
    eng_iter_close(iter);
    return rc == FL_EEOF ? FL_ECORRUPT : rc; /* the log ended before the digest's head */
}

int rpl_proof_check(FILE *in, const rpl_digest_t *digest, const char *public_path,
                    uint64_t *proved_seq)
{
    *proved_seq = 0;
    int rc = signature_check(digest, public_path);
    if (rc != 0)
        return rc;
    char *line = malloc(PROOF_LINE_MAX);
    uint8_t *raw = malloc(PROOF_LINE_MAX / 2);
    if (line == NULL || raw == NULL) {
        free(line);
        free(raw);
        return FL_ENOMEM;
    }
    uint8_t previous[ENG_HASH_BYTES], hash[ENG_HASH_BYTES];
    uint64_t expected = 0, seq = 0;
    rc = FL_ECORRUPT;
    while (fgets(line, PROOF_LINE_MAX, in) != NULL) {
        char *space = strchr(line, ' ');
        size_t hex_len = space != NULL ? strcspn(space + 1, "\n") : 0;
        if (space == NULL || sscanf(line, "%" SCNu64, &seq) != 1 || hex_len % 2 != 0 ||
            hex_len / 2 > PROOF_LINE_MAX / 2 || (expected != 0 && seq != expected))
            goto done;
        space[1 + hex_len] = '\0';
        if (!hex_parse(space + 1, raw, hex_len / 2))
            goto done;
        eng_record_t record;
        if (eng_record_decode(raw, (uint32_t)(hex_len / 2), &record) != 0 || record.seq != seq)
            goto done;
        if (expected != 0 && memcmp(record.prev_hash, previous, ENG_HASH_BYTES) != 0)
            goto done; /* the chain breaks here */
        EVP_Digest(raw, hex_len / 2, hash, NULL, EVP_sha256(), NULL);
        memcpy(previous, hash, ENG_HASH_BYTES);
        if (expected == 0)
            *proved_seq = seq;
        expected = seq + 1;
    }
    if (expected != 0 && seq == digest->seq && memcmp(hash, digest->hash, ENG_HASH_BYTES) == 0)
        rc = 0;
done:
    if (rc != 0)
        *proved_seq = 0;
    free(line);
    free(raw);
    return rc;
}
