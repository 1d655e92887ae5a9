/*
 * h_reads.c: reading the log. Events by sequence range and filters, a stream from a version,
 * the history of an entity, one event, the head. Each answer is a page: at most `limit` events
 * (API_PAGE_EVENTS_MAX) after scanning at most API_SCAN_RECORDS_MAX records, with a cursor to
 * continue from when there may be more. Every answer carries an ETag naming the head sequence,
 * so a polling app's If-None-Match costs one head read and a 304 while nothing was appended.
 */
#include "api/api_int.h"

#include <stdlib.h>
#include <string.h>

#define PAGE_EVENTS_DEFAULT 100
#define TYPES_FILTER_MAX    16

typedef struct {
    const char *types[TYPES_FILTER_MAX];
    size_t types_len[TYPES_FILTER_MAX];
    uint32_t types_count;
    const char *stream; /* NULL: any */
    int64_t since_us;
    int64_t until_us;
    uint64_t from_seq;
    uint64_t to_seq;
    uint64_t limit;
} filter_t;

typedef enum { CURSOR_SEQ, CURSOR_SEQ_BACKWARD, CURSOR_VERSION } cursor_kind_t;

static bool str_is(eng_str_t text, const char *value, size_t len)
{
    return text.len == len && memcmp(text.ptr, value, len) == 0;
}

static bool wanted(const filter_t *filter, const eng_record_t *record)
{
    if (record->recorded_at_us < filter->since_us)
        return false;
    if (filter->stream != NULL && !str_is(record->stream, filter->stream, strlen(filter->stream)))
        return false;
    if (filter->types_count == 0)
        return true;
    for (uint32_t i = 0; i < filter->types_count; i++)
        if (str_is(record->type, filter->types[i], filter->types_len[i]))
            return true;
    return false;
}

/* Past the end of the range: nothing further can match (the log is in sequence order and
 * recorded_at never goes back). */
static bool beyond(const filter_t *filter, const eng_record_t *record, cursor_kind_t kind)
{
    if (kind == CURSOR_SEQ_BACKWARD)
        return false;
    return record->seq > filter->to_seq || record->recorded_at_us > filter->until_us;
}

static void answer_read_error(api_conn_t *conn, int rc)
{
    api_problem(conn, rc, "", rc == FL_EBUSY ? "too many readers, retry" : "", "");
}

/* Writes one page from iter and answers it. */
static void page(api_conn_t *conn, eng_iter_t *iter, const filter_t *filter, cursor_kind_t kind,
                 const char *etag_header)
{
    api_buf_t body = {0};
    api_buf_str(&body, "{\"events\":[");
    uint64_t emitted = 0, scanned = 0, next = 0;
    bool more = false;
    eng_record_t record;
    int rc;
    while ((rc = eng_iter_next(iter, &record)) == 0) {
        if (beyond(filter, &record, kind))
            break;
        if (emitted == filter->limit || scanned == API_SCAN_RECORDS_MAX) {
            more = true;
            break;
        }
        scanned++;
        next = kind == CURSOR_VERSION ? record.stream_version + 1
               : kind == CURSOR_SEQ   ? record.seq + 1
                                      : record.seq - 1;
        if (!wanted(filter, &record))
            continue;
        if (emitted > 0)
            api_buf_str(&body, ",");
        rc = api_record_json(&body, &record, conn->tenant,
                             api_role_reads_personal(conn->claims.role));
        if (rc != 0)
            break;
        emitted++;
    }
    if (rc != 0 && rc != FL_EEOF) {
        api_buf_free(&body);
        answer_read_error(conn, rc);
        return;
    }
    if (kind == CURSOR_SEQ_BACKWARD && next == 0)
        more = false;
    eng_head_t head;
    eng_head(conn->tenant->ledger, &head);
    if (more)
        api_buf_printf(&body, "],\"next_cursor\":\"%llu\"", (unsigned long long)next);
    else
        api_buf_str(&body, "],\"next_cursor\":null");
    api_buf_printf(&body, ",\"count\":%llu,\"head_seq\":%llu}", (unsigned long long)emitted,
                   (unsigned long long)head.seq);
    api_respond_json(conn, 200, etag_header, &body);
    api_buf_free(&body);
}

/* Reads the common query parameters. Non-zero: answered already. */
static int read_filter(api_conn_t *conn, filter_t *filter, char *types_text, size_t types_size)
{
    const api_request_t *req = &conn->req;
    memset(filter, 0, sizeof(*filter));
    const char *bad = NULL;
    if (api_query_u64(req, "from_seq", 1, &filter->from_seq) != 0)
        bad = "from_seq";
    else if (api_query_u64(req, "to_seq", UINT64_MAX, &filter->to_seq) != 0)
        bad = "to_seq";
    else if (api_query_i64(req, "since_us", INT64_MIN, &filter->since_us) != 0)
        bad = "since_us";
    else if (api_query_i64(req, "until_us", INT64_MAX, &filter->until_us) != 0)
        bad = "until_us";
    else if (api_query_u64(req, "limit", PAGE_EVENTS_DEFAULT, &filter->limit) != 0 ||
             filter->limit == 0 || filter->limit > API_PAGE_EVENTS_MAX)
        bad = "limit";
    else if (api_query_u64(req, "cursor", filter->from_seq, &filter->from_seq) != 0)
        bad = "cursor";
    if (bad != NULL) {
        char field[32];
        snprintf(field, sizeof(field), "query:%s", bad);
        api_problem(conn, FL_EINVALID_VALUE, field,
                    "an unsigned integer (limit: 1 to 1000; times: microseconds)", "");
        return FL_EINVALID_VALUE;
    }
    const char *types = api_query_get(req, "type");
    if (types != NULL) {
        snprintf(types_text, types_size, "%s", types);
        for (char *p = types_text; *p != '\0' && filter->types_count < TYPES_FILTER_MAX;) {
            size_t len = strcspn(p, ",");
            filter->types[filter->types_count] = p;
            filter->types_len[filter->types_count++] = len;
            p += len + (p[len] == ',' ? 1 : 0);
        }
    }
    return 0;
}

api_handled_t api_h_events_list(api_conn_t *conn)
{
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    filter_t filter;
    char types[API_URL_LEN_MAX + 1];
    if (read_filter(conn, &filter, types, sizeof(types)) != 0)
        return API_DONE;
    const char *entity = api_query_get(&conn->req, "entity");
    filter.stream = api_query_get(&conn->req, "stream");
    if (filter.from_seq == 0)
        filter.from_seq = 1;
    eng_iter_t *iter = NULL;
    int rc;
    if (entity != NULL)
        rc = eng_iter_entity(conn->tenant->ledger, entity, filter.from_seq, ENG_FORWARD, &iter);
    else
        rc = eng_iter_log(conn->tenant->ledger, filter.from_seq, ENG_FORWARD, &iter);
    if (rc != 0) {
        answer_read_error(conn, rc);
        return API_DONE;
    }
    page(conn, iter, &filter, CURSOR_SEQ, etag);
    eng_iter_close(iter);
    return API_DONE;
}

api_handled_t api_h_stream_get(api_conn_t *conn)
{
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    filter_t filter;
    char types[API_URL_LEN_MAX + 1];
    if (read_filter(conn, &filter, types, sizeof(types)) != 0)
        return API_DONE;
    uint64_t from_version;
    if (api_query_u64(&conn->req, "from_version", 1, &from_version) != 0 ||
        api_query_u64(&conn->req, "cursor", from_version, &from_version) != 0) {
        api_problem(conn, FL_EINVALID_VALUE, "query:from_version", "a version, 1 or more", "");
        return API_DONE;
    }
    filter.from_seq = 1;
    eng_iter_t *iter = NULL;
    int rc = eng_iter_stream(conn->tenant->ledger, conn->req.params[0],
                             from_version != 0 ? from_version : 1, &iter);
    if (rc != 0) {
        answer_read_error(conn, rc);
        return API_DONE;
    }
    page(conn, iter, &filter, CURSOR_VERSION, etag);
    eng_iter_close(iter);
    return API_DONE;
}

api_handled_t api_h_entity_history(api_conn_t *conn)
{
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    filter_t filter;
    char types[API_URL_LEN_MAX + 1];
    if (read_filter(conn, &filter, types, sizeof(types)) != 0)
        return API_DONE;
    const char *direction = api_query_get(&conn->req, "direction");
    bool backward = direction != NULL && strcmp(direction, "backward") == 0;
    if (direction != NULL && !backward && strcmp(direction, "forward") != 0) {
        api_problem(conn, FL_EINVALID_VALUE, "query:direction", "forward or backward", "");
        return API_DONE;
    }
    uint64_t from = filter.from_seq;
    if (backward && api_query_get(&conn->req, "from_seq") == NULL &&
        api_query_get(&conn->req, "cursor") == NULL)
        from = 0; /* from the head */
    eng_iter_t *iter = NULL;
    int rc = eng_iter_entity(conn->tenant->ledger, conn->req.params[0], from,
                             backward ? ENG_BACKWARD : ENG_FORWARD, &iter);
    if (rc != 0) {
        answer_read_error(conn, rc);
        return API_DONE;
    }
    if (backward)
        filter.from_seq = 0;
    page(conn, iter, &filter, backward ? CURSOR_SEQ_BACKWARD : CURSOR_SEQ, etag);
    eng_iter_close(iter);
    return API_DONE;
}

api_handled_t api_h_event_get(api_conn_t *conn)
{
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    char *end;
    unsigned long long seq = strtoull(conn->req.params[0], &end, 10);
    if (*end != '\0' || seq == 0) {
        api_problem(conn, FL_EINVALID_VALUE, "path:seq", "a sequence number, 1 or more", "");
        return API_DONE;
    }
    eng_record_t record;
    eng_iter_t *iter = NULL;
    int rc = eng_read(conn->tenant->ledger, seq, &record, &iter);
    if (rc != 0) {
        eng_iter_close(iter);
        api_problem(conn, rc, "path:seq", rc == FL_ENOENT ? "no event at this sequence" : "", "");
        return API_DONE;
    }
    api_buf_t body = {0};
    rc = api_record_json(&body, &record, conn->tenant,
                             api_role_reads_personal(conn->claims.role));
    eng_iter_close(iter);
    if (rc != 0)
        api_problem(conn, rc, "", "", "");
    else
        api_respond_json(conn, 200, etag, &body);
    api_buf_free(&body);
    return API_DONE;
}

api_handled_t api_h_head_get(api_conn_t *conn)
{
    char etag[128];
    if (api_etag_not_modified(conn, etag, sizeof(etag)))
        return API_DONE;
    eng_head_t head;
    eng_head(conn->tenant->ledger, &head);
    api_buf_t body = {0};
    api_buf_printf(&body, "{\"seq\":%llu,\"hash\":", (unsigned long long)head.seq);
    api_buf_json_hex(&body, head.hash, ENG_HASH_BYTES);
    api_buf_printf(&body, ",\"recorded_at_us\":%lld}", (long long)head.recorded_at_us);
    api_respond_json(conn, 200, etag, &body);
    api_buf_free(&body);
    return API_DONE;
}
