/*
 * log.c: structured logs. Every line is one JSON object on stderr with the time, the level,
 * the message and the request id when there is one, so a request can be followed through
 * every line it caused.
 *
 * A write(2) per line cost the loop thread a system call per request (a request log line per
 * request). While the server runs, lines written on the loop thread are gathered in one bounded
 * buffer and written when it holds LOG_FLUSH_BYTES or its oldest line is LOG_FLUSH_MS old
 * (api_log_flush_due, which the server calls after each turn of its loop and from a timer), and
 * when it would overflow: lines stay whole and in order. Once per turn was still a write of a
 * few lines every few requests, and appending to a file on ext4 cost the loop thread about a
 * third of its time at 25,000 requests a second. Error lines, lines from other threads and
 * lines outside a running server are written at once.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <string.h>
#include <unistd.h>

#define LOG_LINE_BYTES_MAX   2048
#define LOG_BUFFER_BYTES_MAX (64 * 1024) /* lines gathered before a write, at most */
#define LOG_FLUSH_BYTES      (32 * 1024) /* written once this much is gathered */

_Static_assert(LOG_BUFFER_BYTES_MAX >= 4 * LOG_LINE_BYTES_MAX, "the buffer holds several lines");

static int log_level = API_LOG_INFO;
static char pending[LOG_BUFFER_BYTES_MAX];
static size_t pending_len;
static uint64_t pending_since_ms; /* when the oldest pending line was gathered */
static bool buffering;
static pthread_t buffering_thread;

void api_log_init(int level)
{
    log_level = level;
}

bool api_log_enabled(int level)
{
    return level <= log_level;
}

static void write_all(const char *bytes, size_t len)
{
    while (len > 0) {
        ssize_t written = write(STDERR_FILENO, bytes, len);
        if (written <= 0)
            return; /* a log line that cannot be written is not worth failing a request */
        bytes += written;
        len -= (size_t)written;
    }
}

void api_log_flush(void)
{
    if (pending_len == 0)
        return;
    write_all(pending, pending_len);
    pending_len = 0;
}

void api_log_flush_due(uint64_t now_ms)
{
    if (pending_len >= LOG_FLUSH_BYTES ||
        (pending_len > 0 && now_ms - pending_since_ms >= API_LOG_FLUSH_MS))
        api_log_flush();
}

void api_log_buffer(bool on)
{
    if (!on)
        api_log_flush();
    buffering = on;
    buffering_thread = pthread_self();
}

/* Writes a whole line: into the buffer when the caller may, else at once. */
static void emit(int level, const char *line, size_t len)
{
    bool own = buffering && pthread_equal(pthread_self(), buffering_thread);
    if (!own || level == API_LOG_ERROR) {
        if (own)
            api_log_flush(); /* the loop's earlier lines first: an error follows what led to it */
        write_all(line, len);
        return;
    }
    if (pending_len + len > sizeof(pending))
        api_log_flush();
    if (pending_len == 0)
        pending_since_ms = fl_mono_ns() / 1000000;
    memcpy(pending + pending_len, line, len);
    pending_len += len;
}

void api_log(int level, const char *request_id, const char *message, const char *fields_format, ...)
{
    if (level > log_level)
        return;
    static const char *const names[] = {"error", "info", "debug"};
    char line[LOG_LINE_BYTES_MAX];
    int len = snprintf(line, sizeof(line), "{\"ts_us\":%lld,\"level\":\"%s\",\"msg\":\"%s\"",
                       (long long)fl_now_us(), names[level], message);
    if (len < 0 || (size_t)len >= sizeof(line))
        return;
    if (request_id != NULL && request_id[0] != '\0') {
        int added =
            snprintf(line + len, sizeof(line) - (size_t)len, ",\"request_id\":\"%s\"", request_id);
        if (added > 0 && (size_t)(len + added) < sizeof(line))
            len += added;
    }
    va_list args;
    va_start(args, fields_format);
    int added = vsnprintf(line + len, sizeof(line) - (size_t)len, fields_format, args);
    va_end(args);
    if (added > 0 && (size_t)(len + added) < sizeof(line) - 2)
        len += added;
    line[len++] = '}';
    line[len++] = '\n';
    emit(level, line, (size_t)len);
}

/* ---- the request line, without printf: one per request ---- */

typedef struct {
    char *at;
    char *end;
} cursor_t;

static void put(cursor_t *c, const char *text, size_t len)
{
    size_t room = (size_t)(c->end - c->at);
    if (len > room)
        len = room;
    memcpy(c->at, text, len);
    c->at += len;
}

static void put_str(cursor_t *c, const char *text)
{
    put(c, text, strlen(text));
}

static void put_u64(cursor_t *c, uint64_t value)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof(digits) - 1 - n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0);
    put(c, digits + sizeof(digits) - n, n);
}

/* text as a JSON string's content: what RFC 8259 requires escaped is escaped. */
static void put_escaped(cursor_t *c, const char *text, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            put(c, &text[i], 1);
        } else if (ch == '"' || ch == '\\') {
            char escape[2] = {'\\', (char)ch};
            put(c, escape, 2);
        } else {
            char escape[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            put(c, escape, 6);
        }
    }
}

void api_log_request(const char *request_id, const char *method, const char *path, size_t path_len,
                     const char *route, int status, uint64_t duration_us)
{
    if (API_LOG_INFO > log_level)
        return;
    char line[LOG_LINE_BYTES_MAX];
    cursor_t c = {line, line + sizeof(line) - 2}; /* room for the closing "}\n" */
    put_str(&c, "{\"ts_us\":");
    put_u64(&c, (uint64_t)fl_now_us());
    put_str(&c, ",\"level\":\"info\",\"msg\":\"request\"");
    if (request_id[0] != '\0') {
        put_str(&c, ",\"request_id\":\"");
        put_str(&c, request_id); /* plain by construction (http.c's request_id) */
        put_str(&c, "\"");
    }
    put_str(&c, ",\"method\":\"");
    put_str(&c, method);
    put_str(&c, "\",\"path\":\"");
    put_escaped(&c, path, path_len);
    put_str(&c, "\",\"route\":\"");
    put_str(&c, route);
    put_str(&c, "\",\"status\":");
    put_u64(&c, (uint64_t)(status > 0 ? status : 0));
    put_str(&c, ",\"duration_us\":");
    put_u64(&c, duration_us);
    if (c.at == c.end)
        return; /* cut: a line that is not whole JSON is not written */
    *c.at++ = '}';
    *c.at++ = '\n';
    emit(API_LOG_INFO, line, (size_t)(c.at - line));
}
