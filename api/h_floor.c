/*
 * h_floor.c: the weaving floor's state as the ledger keeps it beside the log: production
 * orders and their progress, the loom board, warp beams, the records that follow a state
 * machine (interventions, non-conformities, counts, shipments, labels) and subcontract lots.
 * Each answer is one engine read (one LMDB read transaction) and carries the head's ETag; an
 * unknown id is 404 NOENT with the path parameter named.
 */
#include "api/api_int.h"

#include <string.h>

/* Declared per thousand of planned, rounded down; split so that declared * 1000 cannot
 * overflow. */
static int64_t progress_permille(int64_t declared_milli, int64_t planned_milli)
{
    if (planned_milli <= 0)
        return 0;
    return declared_milli / planned_milli * 1000 +
           declared_milli % planned_milli * 1000 / planned_milli;
}

api_handled_t api_h_order_get(api_conn_t *conn)
{
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    const char *id = conn->req.params[0];
    eng_order_view_t order;
    int rc = eng_order_get(conn->tenant->ledger, id, &order);
    if (rc != 0) {
        api_problem_lookup(conn, rc, "path:of_id", "production order", id);
        return API_DONE;
    }
    api_buf_t body = {0};
    api_buf_member_str(&body, "{\"of_id\":", id);
    api_buf_member_str(&body, ",\"state\":", order.state);
    api_buf_member_str(&body, ",\"item\":", order.item);
    api_buf_member_str(&body, ",\"unit\":", order.unit);
    api_buf_printf(&body,
                   ",\"planned_milli\":%lld,\"declared_milli\":%lld,"
                   "\"progress_permille\":%lld}",
                   (long long)order.planned_milli, (long long)order.declared_milli,
                   (long long)progress_permille(order.declared_milli, order.planned_milli));
    api_respond_json(conn, 200, etag, &body);
    api_buf_free(&body);
    return API_DONE;
}

static void loom_json(api_buf_t *out, const eng_loom_view_t *loom)
{
    static const char *const positions[] = {"ground", "pile"};
    api_buf_member_str(out, "{\"loom_id\":", loom->loom_id);
    api_buf_printf(out, ",\"stopped\":%s", loom->stopped ? "true" : "false");
    /* A loom that runs again has no stop: its last one stays in the log. */
    api_buf_member_str_or_null(out, ",\"stop_class\":", loom->stopped ? loom->stop_class : "");
    api_buf_member_str_or_null(out, ",\"stop_code\":", loom->stopped ? loom->stop_code : "");
    api_buf_printf(out, ",\"since_seq\":%llu", (unsigned long long)loom->since_seq);
    api_buf_member_str_or_null(out, ",\"of_id\":", loom->order);
    api_buf_printf(out, ",\"first_piece_passed\":%s,\"beams\":{",
                   loom->first_piece_passed ? "true" : "false");
    for (int position = 0; position < 2; position++) {
        api_buf_printf(out, "%s\"%s\":", position > 0 ? "," : "", positions[position]);
        if (loom->beams[position][0] == '\0') {
            api_buf_str(out, "null");
            continue;
        }
        api_buf_member_str(out, "{\"beam_id\":", loom->beams[position]);
        api_buf_printf(out, ",\"remaining_milli\":%lld}",
                       (long long)loom->beam_remaining_milli[position]);
    }
    api_buf_str(out, "}}");
}

api_handled_t api_h_loom_get(api_conn_t *conn)
{
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    const char *id = conn->req.params[0];
    eng_loom_view_t loom;
    int rc = eng_loom_get(conn->tenant->ledger, id, &loom);
    if (rc != 0) {
        api_problem_lookup(conn, rc, "path:loom_id", "loom", id);
        return API_DONE;
    }
    api_buf_t body = {0};
    loom_json(&body, &loom);
    api_respond_json(conn, 200, etag, &body);
    api_buf_free(&body);
    return API_DONE;
}

typedef struct {
    api_buf_t *out;
    uint32_t count;
    uint32_t stopped;
    bool truncated;
} board_t;

static int board_loom(const eng_loom_view_t *loom, void *data)
{
    board_t *board = data;
    if (board->count == API_LOOMS_MAX) {
        board->truncated = true;
        return 1;
    }
    if (board->count++ > 0)
        api_buf_str(board->out, ",");
    board->stopped += loom->stopped ? 1 : 0;
    loom_json(board->out, loom);
    return 0;
}

api_handled_t api_h_looms_list(api_conn_t *conn)
{
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    api_buf_t body = {0};
    board_t board = {.out = &body};
    api_buf_str(&body, "{\"looms\":[");
    int rc = eng_loom_each(conn->tenant->ledger, board_loom, &board);
    if (rc != 0) {
        api_problem(conn, rc, "", rc == FL_EBUSY ? "too many readers, retry" : "", "");
    } else {
        api_buf_printf(&body, "],\"count\":%u,\"stopped\":%u,\"truncated\":%s}", board.count,
                       board.stopped, board.truncated ? "true" : "false");
        api_respond_json(conn, 200, etag, &body);
    }
    api_buf_free(&body);
    return API_DONE;
}

api_handled_t api_h_beam_get(api_conn_t *conn)
{
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    const char *id = conn->req.params[0];
    eng_beam_view_t beam;
    int rc = eng_beam_get(conn->tenant->ledger, id, &beam);
    if (rc != 0) {
        api_problem_lookup(conn, rc, "path:beam_id", "beam", id);
        return API_DONE;
    }
    api_buf_t body = {0};
    api_buf_member_str(&body, "{\"beam_id\":", id);
    api_buf_member_str(&body, ",\"item\":", beam.item);
    api_buf_member_str(&body, ",\"position\":", beam.position);
    api_buf_member_str_or_null(&body, ",\"loom_id\":", beam.loom);
    api_buf_printf(&body, ",\"mounted\":%s,\"remaining_milli\":%lld}",
                   beam.loom[0] != '\0' ? "true" : "false", (long long)beam.remaining_milli);
    api_respond_json(conn, 200, etag, &body);
    api_buf_free(&body);
    return API_DONE;
}

/* A record kind of eng_record_get and how its answer names the view's members: the subject
 * and the count mean something else for each kind (NULL: the kind has none). */
typedef struct {
    const char *kind;  /* eng_record_get's */
    const char *what;  /* for the 404 */
    const char *field; /* the path parameter */
    const char *id_member;
    const char *subject_member;
    const char *count_member;
} record_kind_t;

static const record_kind_t record_int = {"int",        "intervention", "path:int_id",
                                         "\"int_id\"", "\"loom_id\"",  NULL};
static const record_kind_t record_nc = {"nc", "non-conformity", "path:nc_id", "\"nc_id\"", NULL,
                                        NULL};
static const record_kind_t record_count = {"count",        "count", "path:count_id",
                                           "\"count_id\"", NULL,    "\"locations\""};
static const record_kind_t record_ship = {"ship",
                                          "shipment",
                                          "path:ship_id",
                                          "\"ship_id\"",
                                          "\"customer_location_id\"",
                                          "\"units_loaded\""};
static const record_kind_t record_label = {"label",     "label", "path:hu_id",
                                           "\"hu_id\"", NULL,    "\"prints\""};

static api_handled_t record_get(api_conn_t *conn, const record_kind_t *kind, const char *id)
{
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    eng_record_view_t record;
    int rc = eng_record_get(conn->tenant->ledger, kind->kind, id, &record);
    if (rc != 0) {
        api_problem_lookup(conn, rc, kind->field, kind->what, id);
        return API_DONE;
    }
    api_buf_t body = {0};
    api_buf_printf(&body, "{%s:", kind->id_member);
    api_buf_json_str(&body, id, strlen(id));
    api_buf_member_str(&body, ",\"state\":", record.state);
    if (kind->subject_member != NULL) {
        api_buf_printf(&body, ",%s:", kind->subject_member);
        api_buf_json_str(&body, record.subject, strlen(record.subject));
    }
    if (kind->count_member != NULL)
        api_buf_printf(&body, ",%s:%u", kind->count_member, record.count);
    api_buf_printf(&body, ",\"since_seq\":%llu}", (unsigned long long)record.since_seq);
    api_respond_json(conn, 200, etag, &body);
    api_buf_free(&body);
    return API_DONE;
}

api_handled_t api_h_intervention_get(api_conn_t *conn)
{
    return record_get(conn, &record_int, conn->req.params[0]);
}

api_handled_t api_h_nc_get(api_conn_t *conn)
{
    return record_get(conn, &record_nc, conn->req.params[0]);
}

api_handled_t api_h_count_get(api_conn_t *conn)
{
    return record_get(conn, &record_count, conn->req.params[0]);
}

api_handled_t api_h_shipment_get(api_conn_t *conn)
{
    return record_get(conn, &record_ship, conn->req.params[0]);
}

api_handled_t api_h_label_get(api_conn_t *conn)
{
    return record_get(conn, &record_label, api_hu_id(conn->req.params[0]));
}

api_handled_t api_h_sublot_get(api_conn_t *conn)
{
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    const char *id = conn->req.params[0];
    eng_sublot_view_t lot;
    int rc = eng_sublot_get(conn->tenant->ledger, id, &lot);
    if (rc != 0) {
        api_problem_lookup(conn, rc, "path:sublot_id", "subcontract lot", id);
        return API_DONE;
    }
    api_buf_t body = {0};
    api_buf_member_str(&body, "{\"sublot_id\":", id);
    api_buf_member_str(&body, ",\"state\":", lot.state);
    api_buf_member_str(&body, ",\"sub_id\":", lot.sub);
    api_buf_member_str(&body, ",\"item\":", lot.item);
    api_buf_member_str(&body, ",\"unit\":", lot.unit);
    api_buf_member_str(&body, ",\"location\":", lot.location);
    api_buf_printf(&body,
                   ",\"sent_milli\":%lld,\"good_milli\":%lld,\"rejected_milli\":%lld,"
                   "\"lost_milli\":%lld,\"allowance_milli\":%lld,\"out_milli\":%lld}",
                   (long long)lot.sent_milli, (long long)lot.good_milli,
                   (long long)lot.rejected_milli, (long long)lot.lost_milli,
                   (long long)lot.allowance_milli, (long long)lot.out_milli);
    api_respond_json(conn, 200, etag, &body);
    api_buf_free(&body);
    return API_DONE;
}
