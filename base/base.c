/*
 * base: the error list's lookups, clocks, UUIDv7 and hex. See base.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "base/base.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

const char *fl_strerror(int err)
{
    switch (err) {
#define FL_ERR_MESSAGE(name, value, status, message)                                               \
    case value:                                                                                    \
        return message;
        FL_ERR_MAP(FL_ERR_MESSAGE)
#undef FL_ERR_MESSAGE
    default:
        break;
    }
    if (err < 0 && err > FL_ERR_BASE)
        return strerror(-err);
    return "unknown error";
}

const char *fl_errname(int err)
{
    switch (err) {
#define FL_ERR_NAME(name, value, status, message)                                                  \
    case value:                                                                                    \
        return #name;
        FL_ERR_MAP(FL_ERR_NAME)
#undef FL_ERR_NAME
    default:
        return "UNKNOWN";
    }
}

int fl_err_http_status(int err)
{
    switch (err) {
#define FL_ERR_STATUS(name, value, status, message)                                                \
    case value:                                                                                    \
        return status;
        FL_ERR_MAP(FL_ERR_STATUS)
#undef FL_ERR_STATUS
    default:
        return 500;
    }
}

int fl_err_from_errno(int errnum)
{
    switch (errnum) {
    case ENOMEM:
    case EINVAL:
    case EIO:
    case ENOSPC:
    case EACCES:
    case EROFS:
    case ENOENT:
    case EBUSY:
    case E2BIG:
    case ECANCELED:
    case EEXIST:
        return -errnum;
    case EFBIG: /* a file-size limit is a full disk for the ledger */
    case EDQUOT:
        return FL_ENOSPC;
    case EPERM:
        return FL_EACCES;
    default:
        return FL_EIO;
    }
}

int64_t fl_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t fl_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct timespec fl_realtime_after_ms(uint32_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return until;
}

int fl_uuid7(uint8_t id[16])
{
    uint64_t ms = (uint64_t)(fl_now_us() / 1000);
    if (getrandom(id + 6, 10, 0) != 10)
        return FL_EIO;
    for (int i = 0; i < 6; i++)
        id[i] = (uint8_t)(ms >> (40 - 8 * i));
    id[6] = (uint8_t)(0x70 | (id[6] & 0x0f));
    id[8] = (uint8_t)(0x80 | (id[8] & 0x3f));
    return 0;
}

void fl_hex_format(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

void fl_uuid_format(const uint8_t id[16], char out[37])
{
    char hex[33];
    fl_hex_format(id, 16, hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

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

int fl_uuid_parse(const char *text, size_t len, uint8_t id[16])
{
    if (len != 36)
        return FL_EINVAL;
    size_t byte = 0;
    for (size_t i = 0; i < len;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return FL_EINVAL;
            i++;
            continue;
        }
        int high = hex_value(text[i]), low = hex_value(text[i + 1]);
        if (high < 0 || low < 0)
            return FL_EINVAL;
        id[byte++] = (uint8_t)(high << 4 | low);
        i += 2;
    }
    assert(byte == 16);
    return 0;
}
