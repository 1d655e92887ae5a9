/*
 * pii.c: the master key of personal data. Each person's data key is wrapped by this key and
 * kept in the auth store, never in the ledger (docs/security.md). The key is 32 bytes, written
 * as 64 hex digits in a key file or in FOUTA_MASTER_KEY; a missing default file is made at
 * first start (mode 0600).
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <fcntl.h>
#include <lmdb.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

MDB_env *api__auth_env(api_auth_t *auth, MDB_dbi *keys, uint8_t **master, bool **has_master);

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
