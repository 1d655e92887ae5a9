/*
 * export.c: a tenant's log out as NDJSON or msgpack, and back in - record for record, the same
 * chain.
 *
 * An entry per record. NDJSON: a line {"seq": N, "hash": "<hex>", "type": "...", "stream":
 * "...", "record": "<the stored record bytes in hex>"}. msgpack: one array per record, [seq,
 * hash (bin 32), type (str), stream (str), record (bin)], the arrays one after another (half the
 * size, no hex to decode). seq, type and stream are there for people and tools; the record is
 * what counts. An import reads either (its first byte tells which) and checks every entry
 * before it appends it: the record decodes, its SHA-256 is the entry's hash, its prev_hash is
 * the previous record's hash (the importing ledger's head for the first), its sequence follows
 * and is the entry's, type and stream agree; then it appends the event with the record's time
 * and stream version, and checks that the ledger wrote the very same hash. An edited export is
 * refused at the first entry that does not hold, and nothing after it is written.
 */
#define _POSIX_C_SOURCE 200809L
#include "replay/replay_int.h"

#include <inttypes.h>
#include <msgpack.h>
#include <msgpack/fbuffer.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

#define LINE_BYTES_MAX (2 * (ENG_PAYLOAD_BYTES_MAX + 64 * 1024) + 1024)

#define ENTRY_FIELDS 5 /* msgpack: [seq, hash, type, stream, record] */

static int export_ndjson(const eng_record_t *record, char *hex, FILE *out)
{
    char hash[2 * ENG_HASH_BYTES + 1];
    if (2 * (size_t)record->raw_len + 1 > LINE_BYTES_MAX)
        return FL_ETOOBIG;
    fl_hex_format(record->hash, ENG_HASH_BYTES, hash);
    fl_hex_format(record->raw, record->raw_len, hex);
    if (fprintf(out,
                "{\"seq\": %" PRIu64 ", \"hash\": \"%s\", \"type\": \"%.*s\", \"stream\": "
                "\"%.*s\", \"record\": \"%s\"}\n",
                record->seq, hash, (int)record->type.len, record->type.ptr, (int)record->stream.len,
                record->stream.ptr, hex) < 0)
        return FL_EIO;
    return 0;
}

static int export_msgpack(const eng_record_t *record, msgpack_packer *packer, FILE *out)
{
    msgpack_pack_array(packer, ENTRY_FIELDS);
    msgpack_pack_uint64(packer, record->seq);
    msgpack_pack_bin(packer, ENG_HASH_BYTES);
    msgpack_pack_bin_body(packer, record->hash, ENG_HASH_BYTES);
    msgpack_pack_str(packer, record->type.len);
    msgpack_pack_str_body(packer, record->type.ptr, record->type.len);
    msgpack_pack_str(packer, record->stream.len);
    msgpack_pack_str_body(packer, record->stream.ptr, record->stream.len);
    msgpack_pack_bin(packer, record->raw_len);
    msgpack_pack_bin_body(packer, record->raw, record->raw_len);
    return ferror(out) ? FL_EIO : 0;
}

int rpl_export(eng_ledger_t *ledger, uint64_t from_seq, uint64_t to_seq, rpl_format_t format,
               FILE *out, uint64_t *exported)
{
    *exported = 0;
    if (format != RPL_FORMAT_NDJSON && format != RPL_FORMAT_MSGPACK)
        return FL_EINVAL;
    eng_iter_t *iter = NULL;
    int rc = eng_iter_log(ledger, from_seq == 0 ? 1 : from_seq, ENG_FORWARD, &iter);
    if (rc != 0)
        return rc;
    char *hex = format == RPL_FORMAT_NDJSON ? malloc(LINE_BYTES_MAX) : NULL;
    if (format == RPL_FORMAT_NDJSON && hex == NULL) {
        eng_iter_close(iter);
        return FL_ENOMEM;
    }
    msgpack_packer packer;
    msgpack_packer_init(&packer, out, msgpack_fbuffer_write);
    eng_record_t record;
    while ((rc = eng_iter_next(iter, &record)) == 0 && (to_seq == 0 || record.seq <= to_seq)) {
        rc = format == RPL_FORMAT_NDJSON ? export_ndjson(&record, hex, out)
                                         : export_msgpack(&record, &packer, out);
        if (rc != 0)
            break;
        (*exported)++;
    }
    free(hex);
    eng_iter_close(iter);
    if ((rc == FL_EEOF || rc == 0) && fflush(out) != 0)
        rc = FL_EIO;
    return rc == FL_EEOF || rc == 0 ? 0 : rc;
}

/* ---- import */

/* One entry of an export, as read: what it states beside its record. */
typedef struct {
    uint64_t seq;
    uint8_t hash[ENG_HASH_BYTES];
    const char *type, *stream;
    size_t type_len, stream_len;
    const uint8_t *raw;
    size_t raw_len;
} entry_t;

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

/* An NDJSON line's fields; false when one is missing or malformed. raw receives the record. */
static bool line_entry(const char *line, uint8_t *raw, size_t raw_size, entry_t *entry)
{
    const char *value;
    size_t len;
    const char *seq = strstr(line, "\"seq\": ");
    if (seq == NULL)
        return false;
    entry->seq = strtoull(seq + strlen("\"seq\": "), NULL, 10);
    if (!line_text(line, "record", &value, &len) || !hex_decode(value, len, raw, raw_size))
        return false;
    entry->raw = raw;
    entry->raw_len = len / 2;
    if (!line_text(line, "hash", &value, &len) || len != 2 * ENG_HASH_BYTES ||
        !hex_decode(value, len, entry->hash, sizeof(entry->hash)))
        return false;
    return line_text(line, "type", &entry->type, &entry->type_len) &&
           line_text(line, "stream", &entry->stream, &entry->stream_len);
}

/* A msgpack entry's fields, pointing into object; false when it is not [seq, hash, type,
 * stream, record]. */
static bool object_entry(const msgpack_object *object, entry_t *entry)
{
    if (object->type != MSGPACK_OBJECT_ARRAY || object->via.array.size != ENTRY_FIELDS)
        return false;
    const msgpack_object *f = object->via.array.ptr;
    if (f[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || f[1].type != MSGPACK_OBJECT_BIN ||
        f[1].via.bin.size != ENG_HASH_BYTES || f[2].type != MSGPACK_OBJECT_STR ||
        f[3].type != MSGPACK_OBJECT_STR || f[4].type != MSGPACK_OBJECT_BIN)
        return false;
    entry->seq = f[0].via.u64;
    memcpy(entry->hash, f[1].via.bin.ptr, ENG_HASH_BYTES);
    entry->type = f[2].via.str.ptr;
    entry->type_len = f[2].via.str.size;
    entry->stream = f[3].via.str.ptr;
    entry->stream_len = f[3].via.str.size;
    entry->raw = (const uint8_t *)f[4].via.bin.ptr;
    entry->raw_len = f[4].via.bin.size;
    return true;
}

/* Checks one entry against the chain so far; fills record (pointing into the entry's bytes). */
static int entry_check(const entry_t *entry, uint64_t expected_seq,
                       const uint8_t previous[ENG_HASH_BYTES], eng_record_t *record,
                       uint8_t hash[ENG_HASH_BYTES], char *why, size_t why_size)
{
    if (entry->raw_len > UINT32_MAX ||
        eng_record_decode(entry->raw, (uint32_t)entry->raw_len, record) != 0) {
        snprintf(why, why_size, "the record does not decode");
        return FL_ECORRUPT;
    }
    EVP_Digest(entry->raw, entry->raw_len, hash, NULL, EVP_sha256(), NULL);
    if (memcmp(entry->hash, hash, ENG_HASH_BYTES) != 0) {
        snprintf(why, why_size, "the record's SHA-256 is not the entry's hash");
        return FL_ECORRUPT;
    }
    if (record->seq != expected_seq || entry->seq != record->seq) {
        snprintf(why, why_size,
                 "sequence %" PRIu64 " (stated %" PRIu64 ") where %" PRIu64 " follows", record->seq,
                 entry->seq, expected_seq);
        return FL_ECORRUPT;
    }
    if (memcmp(record->prev_hash, previous, ENG_HASH_BYTES) != 0) {
        snprintf(why, why_size, "its prev_hash is not the previous record's hash");
        return FL_ECORRUPT;
    }
    if (!same_text(&record->type, entry->type, entry->type_len) ||
        !same_text(&record->stream, entry->stream, entry->stream_len)) {
        snprintf(why, why_size, "type or stream differ from the record's");
        return FL_ECORRUPT;
    }
    return 0;
}

/* The import's state: the chain so far and the buffers, reused from entry to entry. */
typedef struct {
    eng_ledger_t *ledger;
    rpl_progress_t *progress;
    uint8_t previous[ENG_HASH_BYTES];
    uint64_t expected;
    rpl_arena_t arena;
} import_t;

/* Checks an entry and appends its event: one event per append, each checking that the
 * ledger wrote the entry's very record. */
static int import_entry(import_t *import, const entry_t *entry)
{
    rpl_progress_t *progress = import->progress;
    eng_record_t record;
    uint8_t hash[ENG_HASH_BYTES];
    int rc = entry_check(entry, import->expected, import->previous, &record, hash, progress->detail,
                         sizeof(progress->detail));
    if (rc != 0)
        return rc;
    eng_event_t event;
    eng_position_t position;
    int result = 0;
    import->arena.used = 0;
    if ((rc = rpl__event_of(&record, &import->arena, &event)) != 0)
        return rc;
    event.recorded_at_us = record.recorded_at_us;
    event.expected_version = (int64_t)record.stream_version - 1;
    if ((rc = eng_append(import->ledger, &event, 1, 0, &position, &result)) == 0 && result != 0)
        rc = result;
    if (rc != 0) {
        snprintf(progress->detail, sizeof(progress->detail), "%s refused: %s", event.type,
                 fl_strerror(rc));
        return rc;
    }
    if (position.seq != record.seq || memcmp(position.hash, hash, ENG_HASH_BYTES) != 0) {
        snprintf(progress->detail, sizeof(progress->detail),
                 "the ledger wrote another record than the export's");
        return FL_ECORRUPT;
    }
    memcpy(import->previous, hash, ENG_HASH_BYTES);
    progress->events++;
    progress->last_seq = record.seq;
    import->expected++;
    return 0;
}

static int import_ndjson(import_t *import, FILE *in)
{
    char *line = malloc(LINE_BYTES_MAX);
    uint8_t *raw = malloc(LINE_BYTES_MAX / 2);
    int rc = line != NULL && raw != NULL ? 0 : FL_ENOMEM;
    while (rc == 0 && fgets(line, LINE_BYTES_MAX, in) != NULL) {
        entry_t entry;
        if (!line_entry(line, raw, LINE_BYTES_MAX / 2, &entry)) {
            snprintf(import->progress->detail, sizeof(import->progress->detail),
                     "the line is not an export's: seq, hash, type, stream and record");
            rc = FL_ECORRUPT;
            break;
        }
        rc = import_entry(import, &entry);
    }
    if (rc == 0 && ferror(in))
        rc = FL_EIO;
    free(line);
    free(raw);
    return rc;
}

#define MSGPACK_READ_BYTES (64 * 1024)

static int import_msgpack(import_t *import, FILE *in)
{
    msgpack_unpacker unpacker;
    if (!msgpack_unpacker_init(&unpacker, MSGPACK_READ_BYTES))
        return FL_ENOMEM;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    int rc = 0;
    bool eof = false;
    while (rc == 0) {
        msgpack_unpack_return next = msgpack_unpacker_next(&unpacker, &unpacked);
        if (next == MSGPACK_UNPACK_SUCCESS) {
            entry_t entry;
            if (!object_entry(&unpacked.data, &entry)) {
                snprintf(import->progress->detail, sizeof(import->progress->detail),
                         "the entry is not an export's: [seq, hash, type, stream, record]");
                rc = FL_ECORRUPT;
            } else {
                rc = import_entry(import, &entry);
            }
            continue;
        }
        if (next != MSGPACK_UNPACK_CONTINUE) {
            snprintf(import->progress->detail, sizeof(import->progress->detail),
                     "the bytes are not msgpack");
            rc = next == MSGPACK_UNPACK_NOMEM_ERROR ? FL_ENOMEM : FL_ECORRUPT;
            break;
        }
        if (eof) { /* bytes left that do not make an entry */
            if (msgpack_unpacker_message_size(&unpacker) != 0) {
                snprintf(import->progress->detail, sizeof(import->progress->detail),
                         "the export ends inside an entry");
                rc = FL_ECORRUPT;
            }
            break;
        }
        if (msgpack_unpacker_message_size(&unpacker) > LINE_BYTES_MAX) {
            snprintf(import->progress->detail, sizeof(import->progress->detail),
                     "an entry is larger than any record");
            rc = FL_ECORRUPT;
            break;
        }
        if (!msgpack_unpacker_reserve_buffer(&unpacker, MSGPACK_READ_BYTES)) {
            rc = FL_ENOMEM;
            break;
        }
        size_t got = fread(msgpack_unpacker_buffer(&unpacker), 1, MSGPACK_READ_BYTES, in);
        msgpack_unpacker_buffer_consumed(&unpacker, got);
        if (got < MSGPACK_READ_BYTES) {
            if (ferror(in))
                rc = FL_EIO;
            eof = true;
        }
    }
    msgpack_unpacked_destroy(&unpacked);
    msgpack_unpacker_destroy(&unpacker);
    return rc;
}

int rpl_import(eng_ledger_t *ledger, FILE *in, rpl_progress_t *progress)
{
    memset(progress, 0, sizeof(*progress));
    eng_head_t head;
    eng_head(ledger, &head);
    import_t import = {.ledger = ledger,
                       .progress = progress,
                       .expected = head.seq + 1,
                       .arena = {.bytes = malloc(ENG_PAYLOAD_BYTES_MAX + 64 * 1024)}};
    memcpy(import.previous, head.hash, ENG_HASH_BYTES);
    int rc = import.arena.bytes != NULL ? 0 : FL_ENOMEM;
    /* The first byte tells the format: '{' an NDJSON line, a fixarray of 5 a msgpack entry. */
    int first = rc == 0 ? getc(in) : EOF;
    if (first != EOF && ungetc(first, in) == EOF)
        rc = FL_EIO;
    if (rc == 0 && first == '{')
        rc = import_ndjson(&import, in);
    else if (rc == 0 && first == (0x90 | ENTRY_FIELDS))
        rc = import_msgpack(&import, in);
    else if (rc == 0 && first != EOF) {
        snprintf(progress->detail, sizeof(progress->detail),
                 "neither an NDJSON nor a msgpack export");
        rc = FL_ECORRUPT;
    }
    if (rc != 0 && progress->failed_seq == 0)
        progress->failed_seq = import.expected;
    free(import.arena.bytes);
    return rc;
}
