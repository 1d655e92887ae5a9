/*
 * web.c: the role apps' web app (clients/web, a PWA) at /app. Files come from --web-dir
 * (default: the source tree's clients/web); a path is one or more plain names separated by '/'
 * (letters, digits, '.', '-', '_', none starting with '.'), so nothing outside the directory,
 * hidden or "..", is ever opened. /app answers 308 to /app/ so that the page and its service
 * worker share the scope /app/.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WEB_FILE_BYTES_MAX (8 * 1024 * 1024)
#define WEB_PATH_LEN_MAX   256

static const struct {
    const char *ext;
    const char *type;
} web_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *content_type(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash != NULL ? slash : name, '.');
    if (dot != NULL)
        for (size_t i = 0; i < sizeof(web_types) / sizeof(web_types[0]); i++)
            if (strcmp(dot, web_types[i].ext) == 0)
                return web_types[i].type;
    return "application/octet-stream";
}

/* "a/b.js": plain names joined by single slashes; no empty, hidden or dot-dot segment. */
static bool path_ok(const char *path)
{
    size_t len = strlen(path);
    if (len == 0 || len > WEB_PATH_LEN_MAX)
        return false;
    bool segment_start = true;
    for (const char *p = path; *p != '\0'; p++) {
        if (*p == '/') {
            if (segment_start)
                return false; /* "//" or a leading '/' */
            segment_start = true;
            continue;
        }
        if (segment_start && *p == '.')
            return false; /* ".", "..", ".hidden" */
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-' || *p == '_'))
            return false;
        segment_start = false;
    }
    return !segment_start; /* no trailing '/' here: the caller adds index.html */
}

static void not_found(api_conn_t *conn)
{
    api_problem(conn, FL_ENOENT, "path", "no such file of the web app (see --web-dir)", "");
}

api_handled_t api_h_web(api_conn_t *conn)
{
    if (conn->req.params_count == 0) {
        static const char body[] = "{\"detail\":\"the web app is at /app/\"}";
        api_respond(conn, 308, "application/json", "Location: /app/\r\n", body, sizeof(body) - 1);
        return API_DONE;
    }
    const char *rest = conn->req.params[0];
    if (rest[0] != '/') { /* "/appfoo" */
        not_found(conn);
        return API_DONE;
    }
    char name[WEB_PATH_LEN_MAX + 16];
    size_t rest_len = strlen(rest + 1);
    if (rest_len > WEB_PATH_LEN_MAX) {
        not_found(conn);
        return API_DONE;
    }
    snprintf(name, sizeof(name), "%s%s", rest + 1,
             rest_len == 0 || rest[rest_len] == '/' ? "index.html" : "");
    if (!path_ok(name)) {
        not_found(conn);
        return API_DONE;
    }
    char path[sizeof(conn->server->config.web_dir) + sizeof(name) + 2];
    snprintf(path, sizeof(path), "%s/%s", conn->server->config.web_dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > WEB_FILE_BYTES_MAX) {
        if (fd >= 0)
            close(fd);
        not_found(conn);
        return API_DONE;
    }
    api_buf_t data = {0};
    ssize_t n = -1;
    if (st.st_size == 0 || api_buf_reserve(&data, (size_t)st.st_size))
        n = st.st_size == 0 ? 0 : read(fd, data.data, (size_t)st.st_size);
    close(fd);
    /* The service worker keeps the app for offline use; the network copy is always revalidated. */
    if (n != st.st_size)
        api_problem(conn, FL_EIO, "", "", "");
    else
        api_respond(conn, 200, content_type(name), "Cache-Control: no-cache\r\n",
                    n > 0 ? data.data : "", (size_t)n);
    api_buf_free(&data);
    return API_DONE;
}
