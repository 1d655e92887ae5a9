/*
 * export.c: a tenant's log out as NDJSON, and back in - record for record, the same chain.
 *
 * A line per record: {"seq": N, "hash": "<hex>", "type": "...", "stream": "...",
 * "record": "<the stored record bytes in hex>"}. type and stream are there for people and
 * tools; the record is what counts. An import checks every line before it appends it: the
 * record decodes, its SHA-256 is the line's hash, its prev_hash is the previous record's hash
 * (the importing ledger's head for the first), its sequence follows, type and stream agree;
 * then it appends the event with the record's time and stream version, and checks that the
 * ledger wrote the very same hash. An edited export is refused at the first line that does not
 * hold, and nothing after it is written.
 */
#define _POSIX_C_SOURCE 200809L
#include "replay/replay_int.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define LINE_BYTES_MAX (2 * (ENG_PAYLOAD_BYTES_MAX + 64 * 1024) + 1024)

int rpl_export(eng_ledger_t *ledger, uint64_t from_seq, uint64_t to_seq, FILE *out,
               uint64_t *exported)
{
    *exported = 0;
    eng_iter_t *iter = NULL;
    int rc = eng_iter_log(ledger, from_seq == 0 ? 1 : from_seq, ENG_FORWARD, &iter);
    if (rc != 0)
        return rc;
    char *hex = malloc(LINE_BYTES_MAX);
    if (hex == NULL) {
        eng_iter_close(iter);
        return FL_ENOMEM;
    }
    eng_record_t record;
    while ((rc = eng_iter_next(iter, &record)) == 0 && (to_seq == 0 || record.seq <= to_seq)) {
        char hash[2 * ENG_HASH_BYTES + 1];
        if (2 * (size_t)record.raw_len + 1 > LINE_BYTES_MAX) {
            rc = FL_ETOOBIG;
            break;
        }
        fl_hex_format(record.hash, ENG_HASH_BYTES, hash);
        fl_hex_format(record.raw, record.raw_len, hex);
        if (fprintf(out,
                    "{\"seq\": %" PRIu64 ", \"hash\": \"%s\", \"type\": \"%.*s\", \"stream\": "
                    "\"%.*s\", \"record\": \"%s\"}\n",
                    record.seq, hash, (int)record.type.len, record.type.ptr, (int)record.stream.len,
                    record.stream.ptr, hex) < 0) {
            rc = FL_EIO;
            break;
        }
        (*exported)++;
    }
    free(hex);
    eng_iter_close(iter);
    return rc == FL_EEOF || rc == 0 ? 0 : rc;
}

/* The value of "name": "..." in a line (no escapes: ids, names and hex only). */
static bool line_text(const char *line, const char *name, const char **value, size_t *len)
{
    char key[32];
    snprintf(key, sizeof(key), "\"%s\": \"", name);
    const char *at = strstr(line, key);
    if (at == NULL)
        return false;
    at += strlen(key);
    const char *end = strchr(at, '"');
    if (end == NULL)
        return false;
    *value = at;
    *len = (size_t)(end - at);
    return true;
}

static bool hex_decode(const char *hex, size_t len, uint8_t *out, size_t out_size)
{
    if (len % 2 != 0 || len / 2 > out_size)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = hex[i];
        int nibble = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (nibble < 0)
            return false;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(nibble << 4);
        else
            out[i / 2] |= (uint8_t)nibble;
    }
    return true;
}

static bool same_text(const eng_str_t *text, const char *value, size_t len)
{
    return text->len == len && memcmp(text->ptr, value, len) == 0;
}

/* Checks one line against the chain so far; fills record (pointing into raw). */
static int line_check(const char *line, uint8_t *raw, size_t raw_size, uint64_t expected_seq,
                      const uint8_t previous[ENG_HASH_BYTES], eng_record_t *record,
                      uint8_t hash[ENG_HASH_BYTES], char *why, size_t why_size)
{
    const char *value;
    size_t len;
    uint8_t stated[ENG_HASH_BYTES];
    if (!line_text(line, "record", &value, &len) || !hex_decode(value, len, raw, raw_size) ||
        eng_record_decode(raw, (uint32_t)(len / 2), record) != 0) {
        snprintf(why, why_size, "the record does not decode");
        return FL_ECORRUPT;
    }
    EVP_Digest(raw, len / 2, hash, NULL, EVP_sha256(), NULL);
    if (!line_text(line, "hash", &value, &len) || !hex_decode(value, len, stated, sizeof(stated)) ||
        len != 2 * ENG_HASH_BYTES || memcmp(stated, hash, ENG_HASH_BYTES) != 0) {
        snprintf(why, why_size, "the record's SHA-256 is not the line's hash");
        return FL_ECORRUPT;
    }
    if (record->seq != expected_seq) {
        snprintf(why, why_size, "sequence %" PRIu64 " where %" PRIu64 " follows", record->seq,
                 expected_seq);
        return FL_ECORRUPT;
    }
    if (memcmp(record->prev_hash, previous, ENG_HASH_BYTES) != 0) {
        snprintf(why, why_size, "its prev_hash is not the previous record's hash");
        return FL_ECORRUPT;
    }
    if (!line_text(line, "type", &value, &len) || !same_text(&record->type, value, len) ||
        !line_text(line, "stream", &value, &len) || !same_text(&record->stream, value, len)) {
        snprintf(why, why_size, "type or stream differ from the record's");
        return FL_ECORRUPT;
    }
    return 0;
}

int rpl_import(eng_ledger_t *ledger, FILE *in, rpl_progress_t *progress)
{
    memset(progress, 0, sizeof(*progress));
    eng_head_t head;
    eng_head(ledger, &head);
    char *line = malloc(LINE_BYTES_MAX);
    uint8_t *raw = malloc(LINE_BYTES_MAX / 2);
    rpl_arena_t arena = {.bytes = malloc(ENG_PAYLOAD_BYTES_MAX + 64 * 1024)};
    int rc = line != NULL && raw != NULL && arena.bytes != NULL ? 0 : FL_ENOMEM;
    uint8_t previous[ENG_HASH_BYTES], hash[ENG_HASH_BYTES];
    memcpy(previous, head.hash, ENG_HASH_BYTES);
    uint64_t expected = head.seq + 1;
    /* One event per append: each checks that the ledger wrote the line's very record. */
    while (rc == 0 && fgets(line, LINE_BYTES_MAX, in) != NULL) {
        eng_record_t record;
        if ((rc = line_check(line, raw, LINE_BYTES_MAX / 2, expected, previous, &record, hash,
                             progress->detail, sizeof(progress->detail))) != 0)
            break;
        eng_event_t event;
        eng_position_t position;
        int result = 0;
        arena.used = 0;
        if ((rc = rpl__event_of(&record, &arena, &event)) != 0)
            break;
        event.recorded_at_us = record.recorded_at_us;
        event.expected_version = (int64_t)record.stream_version - 1;
        if ((rc = eng_append(ledger, &event, 1, 0, &position, &result)) == 0 && result != 0)
            rc = result;
        if (rc != 0) {
            snprintf(progress->detail, sizeof(progress->detail), "%s refused: %s", event.type,
                     fl_strerror(rc));
            break;
        }
        if (position.seq != record.seq || memcmp(position.hash, hash, ENG_HASH_BYTES) != 0) {
            snprintf(progress->detail, sizeof(progress->detail),
                     "the ledger wrote another record than the export's");
            rc = FL_ECORRUPT;
            break;
        }
        memcpy(previous, hash, ENG_HASH_BYTES);
        progress->events++;
        progress->last_seq = record.seq;
        expected++;
    }
    if (rc != 0 && progress->failed_seq == 0)
        progress->failed_seq = expected;
    free(line);
    free(raw);
    free(arena.bytes);
    return rc;
}
