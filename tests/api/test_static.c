/*
 * Swagger UI at /docs: the page is foutad's and points Swagger UI at /api/v1/openapi.json; the
 * files come from the swagger-ui-dist package that scripts/setup installs with npm, found under
 * npm's global root by default. Nothing outside the package is served.
 */
#include "tests/api/client.h"

static server_t server;
static client_t client;

static void setup(void)
{
    server_start(&server);
    client_open(&client, server.port);
}

static void teardown(void)
{
    client_close(&client);
    cr_assert_eq(server_stop(&server), 0, "foutad did not stop cleanly");
}

TestSuite(docs, .init = setup, .fini = teardown, .timeout = 60);

Test(docs, the_docs_page_loads_swagger_ui_and_points_it_at_the_openapi_document)
{
    response_t r;
    client_request(&client, "GET", "/docs", "", NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    char type[64];
    cr_assert_str_eq(response_header(&r, "Content-Type", type, sizeof(type)),
                     "text/html; charset=utf-8");
    cr_assert_not_null(strstr(r.body, "<script src=\"/docs/swagger-ui-bundle.js\">"), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "href=\"/docs/swagger-ui.css\""));
    cr_assert_not_null(strstr(r.body, "SwaggerUIBundle({url: \"/api/v1/openapi.json\""));
    response_free(&r);
}

Test(docs, the_swagger_ui_bundle_is_served_from_the_installed_package_as_javascript)
{
    response_t r;
    client_request(&client, "GET", "/docs/swagger-ui-bundle.js", "", NULL, &r);
    cr_assert_eq(r.status, 200,
                 "swagger-ui-dist is not installed under npm's global root: run scripts/setup "
                 "as root (%s)",
                 r.body);
    char type[64];
    cr_assert_str_eq(response_header(&r, "Content-Type", type, sizeof(type)),
                     "text/javascript; charset=utf-8");
    cr_assert_gt(r.body_len, 100000, "the whole bundle");
    cr_assert_not_null(strstr(r.body, "SwaggerUIBundle"), "it defines what the page calls");
    response_free(&r);
    client_request(&client, "GET", "/docs/swagger-ui.css", "", NULL, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(response_header(&r, "Content-Type", type, sizeof(type)),
                     "text/css; charset=utf-8");
    response_free(&r);
}

Test(docs, a_path_outside_the_package_is_not_served)
{
    const char *paths[] = {"/docs/..%2F..%2F..%2Fetc%2Fpasswd", "/docs/../../etc/passwd",
                           "/docs/.hidden", "/docs/node_modules/x.js"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        response_t r;
        client_request(&client, "GET", paths[i], "", NULL, &r);
        cr_assert_eq(r.status, 404, "%s: %d", paths[i], r.status);
        cr_assert_null(strstr(r.body, "root:"), "%s", paths[i]);
        response_free(&r);
    }
}

Test(docs, without_the_package_a_file_is_404_naming_the_option)
{
    server_t bare = {0};
    const char *extra[] = {"--swagger-ui-dir", "/nonexistent-swagger-ui", NULL};
    server_start_args(&bare, extra);
    client_t c;
    client_open(&c, bare.port);
    response_t r;
    client_request(&c, "GET", "/docs/swagger-ui-bundle.js", "", NULL, &r);
    cr_assert_eq(r.status, 404);
    cr_assert_not_null(strstr(r.body, "\"code\":\"NOENT\""), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "--swagger-ui-dir"), "%s", r.body);
    response_free(&r);
    client_close(&c);
    cr_assert_eq(server_stop(&bare), 0);
}
