/*
 * log.c: structured logs. Every line is one JSON object on stderr with the time, the level,
 * the message and the request id when there is one, so a request can be followed through
 * every line it caused. One write(2) a line keeps lines whole.
 */
#define _POSIX_C_SOURCE 200809L
#include "api/api_int.h"

#include <string.h>
#include <unistd.h>

#define LOG_LINE_BYTES_MAX 2048

static int log_level = API_LOG_INFO;

void api_log_init(int level)
{
    log_level = level;
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
    ssize_t written = write(STDERR_FILENO, line, (size_t)len);
    (void)written; /* a log line that cannot be written is not worth failing a request */
}
