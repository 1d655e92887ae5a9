/*
 * request.c: the request context a handler sees: the decoded path and query, the headers we
 * keep and the negotiated media type. Who the actor is comes from the verified access token
 * (guard.c's api_request_actor), never from a header the client chose.
 */
#include "api/api_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX (and '+' in a query) from text[0..len) into out (NUL-terminated, at most len+1
 * bytes). Returns the decoded length or -1 on a bad escape or a NUL byte. */
static long decode(const char *text, size_t len, char *out, bool plus_is_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int high = hex_value(text[i + 1]), low = hex_value(text[i + 2]);
            if (high < 0 || low < 0 || (high == 0 && low == 0))
                return -1;
            c = (char)(high * 16 + low);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}

int api_request_parse_url(api_request_t *req)
{
    const char *question = memchr(req->url, '?', req->url_len);
    size_t path_len = question != NULL ? (size_t)(question - req->url) : req->url_len;
    req->query_count = 0;
    if (decode(req->url, path_len, req->path, false) < 0)
        return FL_EINVAL;
    if (question == NULL) {
        req->query_text[0] = '\0';
        return 0;
    }
    /* The decoded query is stored as name\0value\0 pairs; params point into it. */
    const char *query = question + 1;
    size_t query_len = req->url_len - path_len - 1;
    size_t o = 0;
    size_t i = 0;
    while (i < query_len && req->query_count < API_QUERY_MAX) {
        const char *amp = memchr(query + i, '&', query_len - i);
        size_t end = amp != NULL ? (size_t)(amp - query) : query_len;
        const char *eq = memchr(query + i, '=', end - i);
        size_t name_end = eq != NULL ? (size_t)(eq - query) : end;
        api_param_t *param = &req->query[req->query_count];
        long name_len = decode(query + i, name_end - i, req->query_text + o, true);
        if (name_len < 0)
            return FL_EINVAL;
        param->name = req->query_text + o;
        param->name_len = (size_t)name_len;
        o += (size_t)name_len + 1;
        size_t value_start = eq != NULL ? name_end + 1 : end;
        long value_len = decode(query + value_start, end - value_start, req->query_text + o, true);
        if (value_len < 0)
            return FL_EINVAL;
        param->value = req->query_text + o;
        o += (size_t)value_len + 1;
        if (name_len > 0)
            req->query_count++;
        i = end + 1;
    }
    return 0;
}

const char *api_query_get(const api_request_t *req, const char *name)
{
    size_t len = strlen(name);
    for (uint32_t i = 0; i < req->query_count; i++)
        if (req->query[i].name_len == len && memcmp(req->query[i].name, name, len) == 0)
            return req->query[i].value;
    return NULL;
}

int api_query_u64(const api_request_t *req, const char *name, uint64_t def, uint64_t *out)
{
    const char *value = api_query_get(req, name);
    *out = def;
    if (value == NULL)
        return 0;
    if (!isdigit((unsigned char)value[0]))
        return FL_EINVAL;
    char *end;
    errno = 0;
    unsigned long long number = strtoull(value, &end, 10);
    if (*end != '\0' || errno != 0)
        return FL_EINVAL;
    *out = number;
    return 0;
}

int api_query_i64(const api_request_t *req, const char *name, int64_t def, int64_t *out)
{
    const char *value = api_query_get(req, name);
    *out = def;
    if (value == NULL)
        return 0;
    char *end;
    errno = 0;
    long long number = strtoll(value, &end, 10);
    if (*end != '\0' || end == value || errno != 0)
        return FL_EINVAL;
    *out = number;
    return 0;
}

/* Finds media in an Accept header and returns its q in thousandths (0 when absent). */
static int accept_q(const char *accept, const char *media)
{
    size_t media_len = strlen(media);
    const char *p = accept;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = p + strcspn(p, ",");
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *type_end = semi != NULL ? semi : end;
        while (type_end > p && type_end[-1] == ' ')
            type_end--;
        if ((size_t)(type_end - p) == media_len && strncasecmp(p, media, media_len) == 0) {
            const char *q = semi != NULL ? strstr(semi, "q=") : NULL;
            if (q == NULL || q > end)
                return 1000;
            return (int)(strtod(q + 2, NULL) * 1000);
        }
        p = end;
    }
    return 0;
}

api_media_t api_request_negotiate(const api_request_t *req)
{
    if (req->accept[0] == '\0')
        return API_MEDIA_JSON;
    int msgpack = accept_q(req->accept, "application/msgpack");
    int msgpack_x = accept_q(req->accept, "application/x-msgpack");
    if (msgpack_x > msgpack)
        msgpack = msgpack_x;
    int json = accept_q(req->accept, "application/json");
    return msgpack > json ? API_MEDIA_MSGPACK : API_MEDIA_JSON;
}
