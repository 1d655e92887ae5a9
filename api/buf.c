/*
 * buf.c: the growable buffer every response, body and log line is written into. Buffers live
 * in a connection and are reset, not freed, between requests, so a keep-alive connection stops
 * allocating once its buffers have grown to its usual sizes.
 */
#include "api/api_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void api_buf_reset(api_buf_t *buf)
{
    buf->len = 0;
    buf->oom = false;
}

void api_buf_free(api_buf_t *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->oom = false;
}

bool api_buf_reserve(api_buf_t *buf, size_t extra)
{
    if (buf->oom)
        return false;
    if (buf->len + extra + 1 <= buf->cap)
        return true;
    size_t cap = buf->cap != 0 ? buf->cap : 256;
    while (cap < buf->len + extra + 1)
        cap *= 2;
    char *data = realloc(buf->data, cap);
    if (data == NULL) {
        buf->oom = true;
        return false;
    }
    buf->data = data;
    buf->cap = cap;
    return true;
}

void api_buf_add(api_buf_t *buf, const void *bytes, size_t len)
{
    if (!api_buf_reserve(buf, len))
        return;
    if (len > 0)
        memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
    buf->data[buf->len] = '\0'; /* the buffer is always a C string too */
}

void api_buf_str(api_buf_t *buf, const char *text)
{
    api_buf_add(buf, text, strlen(text));
}

void api_buf_printf(api_buf_t *buf, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char small[256];
    int len = vsnprintf(small, sizeof(small), format, args);
    va_end(args);
    assert(len >= 0);
    if ((size_t)len < sizeof(small)) {
        api_buf_add(buf, small, (size_t)len);
        return;
    }
    if (!api_buf_reserve(buf, (size_t)len))
        return;
    va_start(args, format);
    vsnprintf(buf->data + buf->len, (size_t)len + 1, format, args);
    va_end(args);
    buf->len += (size_t)len;
}

void api_buf_json_str(api_buf_t *buf, const char *text, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (!api_buf_reserve(buf, len + 2))
        return;
    api_buf_add(buf, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        api_buf_add(buf, text + start, i - start);
        start = i + 1;
        char escape[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
        if (c == '"' || c == '\\') {
            escape[1] = (char)c;
            escape[2] = 0;
        } else if (c == '\n') {
            escape[1] = 'n';
            escape[2] = 0;
        }
        api_buf_str(buf, escape);
    }
    api_buf_add(buf, text + start, len - start);
    api_buf_add(buf, "\"", 1);
}

void api_buf_member_str(api_buf_t *buf, const char *member, const char *text)
{
    api_buf_str(buf, member);
    api_buf_json_str(buf, text, strlen(text));
}

void api_buf_member_str_or_null(api_buf_t *buf, const char *member, const char *text)
{
    if (text[0] != '\0')
        api_buf_member_str(buf, member, text);
    else {
        api_buf_str(buf, member);
        api_buf_str(buf, "null");
    }
}

void api_buf_json_hex(api_buf_t *buf, const uint8_t *bytes, size_t len)
{
    char text[2 * 64 + 1];
    assert(len <= 64);
    fl_hex_format(bytes, len, text);
    api_buf_add(buf, "\"", 1);
    api_buf_add(buf, text, 2 * len);
    api_buf_add(buf, "\"", 1);
}

void api_buf_json_uuid(api_buf_t *buf, const uint8_t id[16])
{
    static const uint8_t zero[16];
    if (memcmp(id, zero, 16) == 0) {
        api_buf_str(buf, "null");
        return;
    }
    char text[37];
    fl_uuid_format(id, text);
    api_buf_add(buf, "\"", 1);
    api_buf_add(buf, text, 36);
    api_buf_add(buf, "\"", 1);
}

void api_buf_u64(api_buf_t *buf, uint64_t value)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof(digits) - 1 - n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0);
    api_buf_add(buf, digits + sizeof(digits) - n, n);
}
