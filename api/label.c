/*
 * label.c: a unit's label, rendered by the server so that every phone and printer shows the
 * same one. GET /api/v1/labels/{hu_id}/{format}: "zpl" for the plant's thermal printers (the QR
 * code sent as a graphic field, so the printer draws exactly the symbol libqrencode made), or
 * "svg" for screens and the browser's print dialog. The QR code holds the unit's id alone: a
 * scan and a manual entry are the same thing to the apps. The text lines repeat what a person
 * needs without a scanner: id, item, quantity and unit, grade, status, location.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <qrencode.h>
#include <string.h>

#define LABEL_QR_DOTS      6 /* printer dots per QR module (8 dots/mm: 0.75 mm) */
#define LABEL_SVG_MODULE   4 /* SVG units per QR module */
#define LABEL_QUIET_MODULE 4 /* the quiet zone QR asks for, in modules */

typedef struct {
    char id[80], item[80], qty[48], grade[16], status[24], location[80];
} label_text_t;

static const char *grade_name(int grade)
{
    return grade == 1 ? "first" : grade == 2 ? "second" : "-";
}

/* "12.5 kg" from thousandths: no trailing zeros, no float. */
static void qty_text(int64_t milli, const char *unit, char *out, size_t size)
{
    const char *sign = milli < 0 ? "-" : "";
    uint64_t v = milli < 0 ? (uint64_t)(-(milli + 1)) + 1 : (uint64_t)milli;
    char frac[8];
    snprintf(frac, sizeof(frac), "%03u", (unsigned)(v % 1000));
    for (int i = 2; i >= 0 && frac[i] == '0'; i--)
        frac[i] = '\0';
    snprintf(out, size, "%s%llu%s%s %s", sign, (unsigned long long)(v / 1000),
             frac[0] != '\0' ? "." : "", frac, unit);
}

/* Printer text: ZPL's command characters (^ ~) and control bytes become spaces. */
static void zpl_text(api_buf_t *out, const char *text)
{
    for (const char *p = text; *p != '\0'; p++)
        api_buf_add(out, (*p == '^' || *p == '~' || (unsigned char)*p < 0x20) ? " " : p, 1);
}

static void xml_text(api_buf_t *out, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        switch (*p) {
        case '&':
            api_buf_str(out, "&amp;");
            break;
        case '<':
            api_buf_str(out, "&lt;");
            break;
        case '>':
            api_buf_str(out, "&gt;");
            break;
        case '"':
            api_buf_str(out, "&quot;");
            break;
        default:
            if ((unsigned char)*p >= 0x20)
                api_buf_add(out, p, 1);
        }
    }
}

/* ^GFA: the QR symbol as a bitmap, LABEL_QR_DOTS dots per module, at (x, y). */
static void zpl_qr(api_buf_t *out, const QRcode *qr, int x, int y)
{
    int width = qr->width * LABEL_QR_DOTS;
    int row_bytes = (width + 7) / 8;
    int total = row_bytes * width;
    api_buf_printf(out, "^FO%d,%d^GFA,%d,%d,%d,", x, y, total, total, row_bytes);
    static const char hex[] = "0123456789ABCDEF";
    for (int row = 0; row < width; row++) {
        const unsigned char *modules = qr->data + (row / LABEL_QR_DOTS) * qr->width;
        for (int byte = 0; byte < row_bytes; byte++) {
            unsigned bits = 0;
            for (int bit = 0; bit < 8; bit++) {
                int dot = byte * 8 + bit;
                if (dot < width && (modules[dot / LABEL_QR_DOTS] & 1))
                    bits |= 0x80u >> bit;
            }
            char pair[2] = {hex[bits >> 4], hex[bits & 15]};
            api_buf_add(out, pair, 2);
        }
    }
    api_buf_str(out, "^FS\n");
}

static void render_zpl(api_buf_t *out, const QRcode *qr, const label_text_t *t)
{
    /* A 100 x 60 mm label at 8 dots/mm. */
    api_buf_str(out, "^XA\n^CI28\n^PW800\n^LL480\n");
    zpl_qr(out, qr, 30, 30);
    const char *lines[] = {t->id, t->item, t->qty, t->grade, t->status, t->location};
    const int heights[] = {50, 34, 34, 28, 28, 28};
    int y = 40;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        api_buf_printf(out, "^FO%d,%d^A0N,%d,%d^FD", 60 + qr->width * LABEL_QR_DOTS, y, heights[i],
                       heights[i]);
        zpl_text(out, lines[i]);
        api_buf_str(out, "^FS\n");
        y += heights[i] + 18;
    }
    api_buf_str(out, "^XZ\n");
}

static void render_svg(api_buf_t *out, const QRcode *qr, const label_text_t *t)
{
    int side = (qr->width + 2 * LABEL_QUIET_MODULE) * LABEL_SVG_MODULE;
    int width = side + 320, height = side > 200 ? side : 200;
    api_buf_printf(out,
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
                   "height=\"%d\" shape-rendering=\"crispEdges\">\n"
                   "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"",
                   width, height, width, height, width, height);
    /* One path: a square per dark module. */
    for (int row = 0; row < qr->width; row++)
        for (int col = 0; col < qr->width; col++)
            if (qr->data[row * qr->width + col] & 1)
                api_buf_printf(out, "M%d %dh%dv%dh-%dz",
                               (col + LABEL_QUIET_MODULE) * LABEL_SVG_MODULE,
                               (row + LABEL_QUIET_MODULE) * LABEL_SVG_MODULE, LABEL_SVG_MODULE,
                               LABEL_SVG_MODULE, LABEL_SVG_MODULE);
    api_buf_str(out, "\"/>\n<g font-family=\"sans-serif\" fill=\"#000\">\n");
    const char *lines[] = {t->id, t->item, t->qty, t->grade, t->status, t->location};
    const int sizes[] = {26, 18, 18, 15, 15, 15};
    int y = 34;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        api_buf_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"%d\"%s>", side + 8, y, sizes[i],
                       i == 0 ? " font-weight=\"bold\"" : "");
        xml_text(out, lines[i]);
        api_buf_str(out, "</text>\n");
        y += sizes[i] + 12;
    }
    api_buf_str(out, "</g>\n</svg>\n");
}

api_handled_t api_h_label_render(api_conn_t *conn)
{
    const char *id = api_hu_id(conn->req.params[0]);
    const char *format = conn->req.params[1];
    bool zpl = strcmp(format, "zpl") == 0;
    if (!zpl && strcmp(format, "svg") != 0) {
        api_problem(conn, FL_EINVAL, "path:format", "a label is rendered as zpl or svg", "");
        return API_DONE;
    }
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    eng_hu_view_t hu;
    int rc = eng_hu_get(conn->tenant->ledger, id, &hu);
    if (rc != 0) {
        api_problem_lookup(conn, rc, "path:hu_id", "unit", id);
        return API_DONE;
    }
    label_text_t t;
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.item, sizeof(t.item), "%s", hu.item);
    qty_text(hu.qty_milli, hu.unit, t.qty, sizeof(t.qty));
    snprintf(t.grade, sizeof(t.grade), "%s", grade_name(hu.grade));
    snprintf(t.status, sizeof(t.status), "%s", hu.status);
    snprintf(t.location, sizeof(t.location), "%s", hu.location);
    /* Level M: a label survives some dirt and creasing on the shop floor. */
    QRcode *qr = QRcode_encodeString8bit(id, 0, QR_ECLEVEL_M);
    if (qr == NULL) {
        api_problem(conn, FL_ENOMEM, "", "", "");
        return API_DONE;
    }
    api_buf_t body = {0};
    if (zpl)
        render_zpl(&body, qr, &t);
    else
        render_svg(&body, qr, &t);
    QRcode_free(qr);
    if (body.oom)
        api_problem(conn, FL_ENOMEM, "", "", "");
    else
        api_respond(conn, 200, zpl ? "application/zpl" : "image/svg+xml", etag, body.data,
                    body.len);
    api_buf_free(&body);
    return API_DONE;
}
