/*
 * record_json.c: a stored record as readers see it (JSON), and the ETag that lets polling apps
 * skip a read when nothing was appended. Every view the API serves is derived from the log, so
 * the head sequence names the version of all of them at once. Personal data is decrypted here,
 * for the reader, and only here (seal.c).
 */
#include "api/api_int.h"

#include <string.h>

#define PAYLOAD_JSON_BYTES_START (4 * 1024)
#define PAYLOAD_JSON_BYTES_MAX   (4 * 1024 * 1024)

static void json_text(api_buf_t *out, eng_str_t text)
{
    api_buf_json_str(out, text.ptr, text.len);
}

/* The payload, its sensitive fields decrypted for the reader (seal.c); redacted gets the note
 * of those that could not be. */
static int payload_json(api_buf_t *out, const eng_record_t *record, api_tenant_t *tenant,
                        bool personal, char *redacted)
{
    redacted[0] = '\0';
    char name[ENG_TYPE_LEN_MAX + 1];
    size_t len = record->type.len < ENG_TYPE_LEN_MAX ? record->type.len : ENG_TYPE_LEN_MAX;
    memcpy(name, record->type.ptr, len);
    name[len] = '\0';
    const ev_type_t *type = ev_type_find(name, len);
    if (type == NULL) {
        api_buf_str(out, "null"); /* a generic ledger's opaque payload */
        return 0;
    }
    size_t size = PAYLOAD_JSON_BYTES_START + 4 * (size_t)record->payload_len;
    while (size <= PAYLOAD_JSON_BYTES_MAX) {
        if (!api_buf_reserve(out, size))
            return FL_ENOMEM;
        int written =
            api_reveal_payload(tenant, type, record->schema_version, record->payload,
                               record->payload_len, personal, out->data + out->len, size, redacted);
        if (written >= 0) {
            out->len += (size_t)written;
            return 0;
        }
        if (written != FL_ETOOBIG)
            return written;
        size *= 2;
    }
    return FL_ETOOBIG;
}

int api_record_json(api_buf_t *out, const eng_record_t *record, api_tenant_t *tenant, bool personal)
{
    api_buf_printf(out, "{\"seq\":%llu,\"id\":", (unsigned long long)record->seq);
    api_buf_json_uuid(out, record->id);
    api_buf_str(out, ",\"type\":");
    json_text(out, record->type);
    api_buf_printf(out, ",\"schema_version\":%u,\"stream\":", record->schema_version);
    json_text(out, record->stream);
    api_buf_printf(out,
                   ",\"stream_version\":%llu,\"occurred_at_us\":%lld,\"recorded_at_us\":%lld,"
                   "\"actor\":{\"user\":",
                   (unsigned long long)record->stream_version, (long long)record->occurred_at_us,
                   (long long)record->recorded_at_us);
    json_text(out, record->actor_user);
    api_buf_str(out, ",\"role\":");
    json_text(out, record->actor_role);
    api_buf_str(out, ",\"device\":");
    json_text(out, record->actor_device);
    api_buf_str(out, "},\"correlation_id\":");
    api_buf_json_uuid(out, record->correlation_id);
    api_buf_str(out, ",\"causation_id\":");
    api_buf_json_uuid(out, record->causation_id);
    api_buf_str(out, ",\"entities\":[");
    for (uint32_t i = 0; i < record->entities_count; i++) {
        if (i > 0)
            api_buf_str(out, ",");
        json_text(out, record->entities[i]);
    }
    api_buf_str(out, "],\"hash\":");
    api_buf_json_hex(out, record->hash, ENG_HASH_BYTES);
    api_buf_str(out, ",\"prev_hash\":");
    api_buf_json_hex(out, record->prev_hash, ENG_HASH_BYTES);
    api_buf_str(out, ",\"payload\":");
    char redacted[API_REDACTED_BYTES_MAX];
    int rc = payload_json(out, record, tenant, personal, redacted);
    if (redacted[0] != '\0') {
        api_buf_str(out, ",\"redacted\":");
        api_buf_str(out, redacted);
    }
    api_buf_str(out, "}");
    if (rc == 0 && out->oom)
        rc = FL_ENOMEM;
    return rc;
}

bool api_etag_not_modified(api_conn_t *conn, char *etag_header, size_t size)
{
    eng_head_t head;
    eng_head(conn->tenant->ledger, &head);
    char etag[40];
    snprintf(etag, sizeof(etag), "W/\"%llu\"", (unsigned long long)head.seq);
    snprintf(etag_header, size, "ETag: %s\r\nCache-Control: no-cache\r\n", etag);
    const char *match = conn->req.if_none_match;
    if (match[0] == '\0')
        return false;
    /* Weak comparison: W/"7" and "7" name the same version. */
    const char *bare = etag + 2;
    if (strstr(match, bare) == NULL && strcmp(match, "*") != 0)
        return false;
    api_respond(conn, 304, "", etag_header, NULL, 0);
    return true;
}
