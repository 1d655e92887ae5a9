/*
 * static.c: Swagger UI at /docs. The files come from the swagger-ui-dist package installed by
 * scripts/setup (npm), served from its installed directory; only the page that starts it is
 * ours, pointing it at /api/v1/openapi.json.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATIC_FILE_BYTES_MAX (16 * 1024 * 1024)

static const char index_page[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<title>Fouta Ledger API</title>"
    "<link rel=\"stylesheet\" href=\"/docs/swagger-ui.css\"></head>\n<body>"
    "<div id=\"swagger-ui\"></div>"
    "<script src=\"/docs/swagger-ui-bundle.js\"></script>"
    "<script>window.ui = SwaggerUIBundle({url: \"/api/v1/openapi.json\", "
    "dom_id: \"#swagger-ui\"});</script>\n</body></html>\n";

static const char *content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return "application/octet-stream";
    if (strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    if (strcmp(dot, ".png") == 0)
        return "image/png";
    if (strcmp(dot, ".map") == 0 || strcmp(dot, ".json") == 0)
        return "application/json";
    return "application/octet-stream";
}

/* A file name of the package: letters, digits, '.', '-', '_', no path. */
static bool plain_name(const char *name)
{
    if (name[0] == '.' || name[0] == '\0')
        return false;
    for (const char *p = name; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-' || *p == '_'))
            return false;
    return true;
}

static void serve_file(api_conn_t *conn, const char *name)
{
    char path[1400];
    snprintf(path, sizeof(path), "%s/%s", conn->server->config.swagger_ui_dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > STATIC_FILE_BYTES_MAX) {
        if (fd >= 0)
            close(fd);
        api_problem(conn, FL_ENOENT, "path",
                    "not part of Swagger UI (is swagger-ui-dist "
                    "installed? see --swagger-ui-dir)",
                    "");
        return;
    }
    api_buf_t data = {0};
    ssize_t n = -1;
    if (api_buf_reserve(&data, (size_t)st.st_size))
        n = read(fd, data.data, (size_t)st.st_size);
    close(fd);
    if (n != st.st_size)
        api_problem(conn, FL_EIO, "", "", "");
    else
        api_respond(conn, 200, content_type(name), "Cache-Control: public, max-age=3600\r\n",
                    data.data, (size_t)n);
    api_buf_free(&data);
}

api_handled_t api_h_docs(api_conn_t *conn)
{
    if (conn->req.params_count == 0 || strcmp(conn->req.params[0], "index.html") == 0) {
        api_respond(conn, 200, "text/html; charset=utf-8", "Cache-Control: no-cache\r\n",
                    index_page, sizeof(index_page) - 1);
        return API_DONE;
    }
    if (!plain_name(conn->req.params[0])) {
        api_problem(conn, FL_ENOENT, "path", "no such file", "");
        return API_DONE;
    }
    serve_file(conn, conn->req.params[0]);
    return API_DONE;
}
