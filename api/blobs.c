/*
 * blobs.c: photos. POST /api/v1/blobs takes a JPEG or PNG (the type is read from the bytes,
 * never from the client's Content-Type), stores it once under its SHA-256 (written to a
 * temporary file, fsynced, renamed: a hash that was answered is on disk), and answers the
 * hash that events reference. GET serves it with an immutable cache policy: a hash names its
 * bytes forever. Today the blob directory is the one tenant's; issue 5 gives each tenant its
 * own.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHA256_HEX_LEN 64
/* A photo's path: the tenant's blob directory, a slash, the hex digest. */
#define BLOB_PATH_LEN_MAX (sizeof(((api_tenant_t *)0)->blob_dir) + 1 + SHA256_HEX_LEN + 1)

static const char *media_type(const uint8_t *bytes, size_t len)
{
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len >= 4 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff)
        return "image/jpeg";
    if (len >= sizeof(png) && memcmp(bytes, png, sizeof(png)) == 0)
        return "image/png";
    return NULL;
}

static bool is_sha256_hex(const char *text)
{
    size_t i = 0;
    for (; text[i] != '\0'; i++)
        if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
            return false;
    return i == SHA256_HEX_LEN;
}

static void blob_path(api_tenant_t *tenant, const char *hex, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", tenant->blob_dir, hex);
}

int api_blob_exists(api_tenant_t *tenant, const char *sha256_hex)
{
    if (!is_sha256_hex(sha256_hex))
        return FL_EBLOB_UNKNOWN;
    char path[BLOB_PATH_LEN_MAX];
    blob_path(tenant, sha256_hex, path, sizeof(path));
    struct stat st;
    return stat(path, &st) == 0 ? 0 : FL_EBLOB_UNKNOWN;
}

/* Writes bytes to path durably: a temporary file, fsync, rename, fsync of the directory. */
static int store(api_tenant_t *tenant, const char *path, const void *bytes, size_t len)
{
    char tmp[BLOB_PATH_LEN_MAX + 16]; /* ".tmp." and a pid */
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fl_err_from_errno(errno);
    int rc = 0;
    size_t done = 0;
    while (done < len && rc == 0) {
        ssize_t n = write(fd, (const char *)bytes + done, len - done);
        if (n < 0 && errno != EINTR)
            rc = fl_err_from_errno(errno);
        else if (n > 0)
            done += (size_t)n;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = fl_err_from_errno(errno);
    close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = fl_err_from_errno(errno);
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    int dir = open(tenant->blob_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        fsync(dir);
        close(dir);
    }
    return 0;
}

api_handled_t api_h_blob_post(api_conn_t *conn)
{
    const api_buf_t *body = &conn->req.body;
    const uint8_t *bytes = (const uint8_t *)body->data;
    const char *type = bytes != NULL ? media_type(bytes, body->len) : NULL;
    if (type == NULL) {
        api_problem(conn, FL_EHTTP_MEDIA_TYPE, "body", "a photo is a JPEG or a PNG", "");
        return API_DONE;
    }
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(bytes, body->len, digest);
    char hex[SHA256_HEX_LEN + 1];
    fl_hex_format(digest, sizeof(digest), hex);
    char path[BLOB_PATH_LEN_MAX];
    blob_path(conn->tenant, hex, path, sizeof(path));
    struct stat st;
    bool stored = stat(path, &st) == 0;
    if (!stored) {
        int rc = store(conn->tenant, path, bytes, body->len);
        if (rc != 0) {
            api_problem(conn, rc, "", "the photo could not be stored", "");
            return API_DONE;
        }
    }
    api_buf_t out = {0};
    api_buf_printf(&out, "{\"sha256\":\"%s\",\"bytes\":%zu,\"media_type\":\"%s\"}", hex, body->len,
                   type);
    char headers[128];
    snprintf(headers, sizeof(headers), "Location: /api/v1/blobs/%s\r\n", hex);
    api_respond_json(conn, stored ? 200 : 201, headers, &out);
    api_buf_free(&out);
    return API_DONE;
}

api_handled_t api_h_blob_get(api_conn_t *conn)
{
    const char *hex = conn->req.params[0];
    if (!is_sha256_hex(hex)) {
        api_problem(conn, FL_EINVALID_VALUE, "path:sha256", "64 lower-case hex digits", "");
        return API_DONE;
    }
    char headers[256];
    snprintf(headers, sizeof(headers),
             "ETag: \"%s\"\r\nCache-Control: public, max-age=31536000, immutable\r\n", hex);
    if (conn->req.if_none_match[0] != '\0' && strstr(conn->req.if_none_match, hex) != NULL) {
        api_respond(conn, 304, "", headers, NULL, 0);
        return API_DONE;
    }
    char path[BLOB_PATH_LEN_MAX];
    blob_path(conn->tenant, hex, path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        api_problem(conn, FL_ENOENT, "path:sha256", "no photo with this hash", "");
        return API_DONE;
    }
    api_buf_t data = {0};
    struct stat st;
    int rc = fstat(fd, &st) == 0 && (uint64_t)st.st_size <= conn->server->config.blob_bytes_max
                 ? 0
                 : FL_EIO;
    if (rc == 0 && api_buf_reserve(&data, (size_t)st.st_size)) {
        ssize_t n = read(fd, data.data, (size_t)st.st_size);
        rc = n == st.st_size ? 0 : FL_EIO;
        data.len = rc == 0 ? (size_t)n : 0;
    } else if (rc == 0) {
        rc = FL_ENOMEM;
    }
    close(fd);
    const char *type = rc == 0 ? media_type((const uint8_t *)data.data, data.len) : NULL;
    if (rc != 0 || type == NULL)
        api_problem(conn, rc != 0 ? rc : FL_ECORRUPT, "", "", "");
    else
        api_respond(conn, 200, type, headers, data.data, data.len);
    api_buf_free(&data);
    return API_DONE;
}
