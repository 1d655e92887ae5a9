/*
 * Labels rendered by foutad: the SVG, turned into pixels (rsvg-convert) and read by a real
 * barcode reader (zbarimg), gives back the unit's id; the ZPL for thermal printers carries the
 * same symbol as a graphic field and the unit's lines; a format or a unit that does not exist
 * is refused with the field at fault.
 */
#include "tests/api/client.h"

static server_t server;
static client_t client;

static void setup(void)
{
    server_start(&server);
    client_open(&client, server.port);
    char event[1024];
    event_goods(event, sizeof(event), 1, "Y-LBL-7", "12500");
    response_t r;
    client_request(&client, "POST", "/api/v1/events", ACTOR("store_raw"), event, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    response_free(&r);
}

static void teardown(void)
{
    client_close(&client);
    cr_assert_eq(server_stop(&server), 0, "foutad did not stop cleanly");
}

TestSuite(labels, .init = setup, .fini = teardown, .timeout = 60);

/* Runs a shell command; its first output line into out. Returns the exit status. */
static int run_line(const char *command, char *out, size_t size)
{
    FILE *pipe = popen(command, "r");
    cr_assert_not_null(pipe);
    out[0] = '\0';
    if (fgets(out, (int)size, pipe) == NULL)
        out[0] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    int status = pclose(pipe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(labels, the_svg_label_scans_back_to_the_units_id_and_shows_its_lines)
{
    response_t r;
    client_request(&client, "GET", "/api/v1/labels/Y-LBL-7/svg", "", NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.headers, "image/svg+xml") != NULL, "%s", r.headers);
    cr_assert(strstr(r.body, "<svg") != NULL);
    cr_assert(strstr(r.body, ">Y-LBL-7</text>") != NULL, "%s", r.body);
    cr_assert(strstr(r.body, ">12.5 kg</text>") != NULL, "%s", r.body);
    cr_assert(strstr(r.body, ">YARN-30</text>") != NULL);
    cr_assert(strstr(r.body, ">MP1</text>") != NULL);
    char svg[400], png[400], command[1200], line[256];
    snprintf(svg, sizeof(svg), "%s/label.svg", server.dir);
    snprintf(png, sizeof(png), "%s/label.png", server.dir);
    FILE *file = fopen(svg, "w");
    cr_assert_not_null(file);
    fwrite(r.body, 1, r.body_len, file);
    fclose(file);
    response_free(&r);
    /* Four pixels a module, as a phone's camera would see it printed. */
    snprintf(command, sizeof(command), "rsvg-convert --zoom 2 --background-color white -o %s %s",
             png, svg);
    cr_assert_eq(system(command), 0, "rsvg-convert");
    snprintf(command, sizeof(command), "zbarimg --quiet --raw %s 2>/dev/null", png);
    cr_assert_eq(run_line(command, line, sizeof(line)), 0, "zbarimg found no code");
    cr_assert_str_eq(line, "Y-LBL-7");
}

Test(labels, the_zpl_label_carries_the_qr_code_as_a_graphic_and_the_units_lines)
{
    response_t r;
    client_request(&client, "GET", "/api/v1/labels/hu-Y-LBL-7/zpl", "", NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.headers, "application/zpl") != NULL, "%s", r.headers);
    cr_assert_eq(strncmp(r.body, "^XA", 3), 0);
    cr_assert(strstr(r.body, "^XZ") != NULL);
    cr_assert(strstr(r.body, "^GFA,") != NULL);
    cr_assert(strstr(r.body, "^FDY-LBL-7^FS") != NULL, "%s", r.body);
    cr_assert(strstr(r.body, "^FD12.5 kg^FS") != NULL, "%s", r.body);
    /* The graphic field's byte count matches the hex that follows it. */
    unsigned total, total_again, row;
    const char *gf = strstr(r.body, "^GFA,");
    cr_assert_eq(sscanf(gf, "^GFA,%u,%u,%u,", &total, &total_again, &row), 3);
    cr_assert_eq(total, total_again);
    const char *hex = gf;
    for (int commas = 0; commas < 4; hex++)
        commas += *hex == ',';
    cr_assert_eq(strspn(hex, "0123456789ABCDEF"), 2 * (size_t)total);
    response_free(&r);
}

Test(labels, an_unknown_format_or_unit_is_refused_with_the_field_at_fault)
{
    response_t r;
    client_request(&client, "GET", "/api/v1/labels/Y-LBL-7/pdf", "", NULL, &r);
    cr_assert_eq(r.status, 400);
    cr_assert(strstr(r.body, "\"field\":\"path:format\"") != NULL, "%s", r.body);
    response_free(&r);
    client_request(&client, "GET", "/api/v1/labels/NOPE/svg", "", NULL, &r);
    cr_assert_eq(r.status, 404);
    cr_assert(strstr(r.body, "\"field\":\"path:hu_id\"") != NULL, "%s", r.body);
    response_free(&r);
}
