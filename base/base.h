/*
 * base: what every module of Fouta Ledger shares and nothing else. The one list of error
 * codes (FL_ERR_MAP generates the enum and fl_strerror), and small helpers for clocks and
 * ids that the engine, the catalog and the server all need.
 *
 * Functions that can fail return int: 0 on success, a negative code from this list on
 * failure. System errors are -errno; the ledger's own codes start at FL_ERR_BASE so they never
 * collide with an errno value.
 */
#ifndef FL_BASE_H
#define FL_BASE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* X(name, value, http status, message). The http status is what the API answers. */
#define FL_ERR_MAP(X)                                                                              \
    X(NOMEM, -ENOMEM, 503, "out of memory")                                                        \
    X(INVAL, -EINVAL, 400, "invalid argument")                                                     \
    X(IO, -EIO, 503, "input/output error")                                                         \
    X(NOSPC, -ENOSPC, 507, "no space left on the ledger's disk")                                   \
    X(ACCES, -EACCES, 503, "permission denied")                                                    \
    X(ROFS, -EROFS, 503, "read-only file system")                                                  \
    X(NOENT, -ENOENT, 404, "not found")                                                            \
    X(BUSY, -EBUSY, 503, "overloaded: append queue is full, retry later")                          \
    X(TOOBIG, -E2BIG, 413, "too large")                                                            \
    X(CANCELED, -ECANCELED, 503, "ledger is closing")                                              \
    X(TIMEDOUT, -ETIMEDOUT, 504, "timed out")                                                      \
    X(EXIST, -EEXIST, 409, "already exists")                                                       \
    X(CONFLICT_VERSION, FL_ERR_BASE - 1, 409,                                                      \
      "stream version does not match the expected version")                                        \
    X(CONFLICT_ID, FL_ERR_BASE - 2, 409, "event id already recorded with different content")       \
    X(CORRUPT, FL_ERR_BASE - 3, 500, "ledger record is corrupt")                                   \
    X(FORMAT, FL_ERR_BASE - 4, 500, "ledger was written by an unknown format version")             \
    X(LEDGER_FULL, FL_ERR_BASE - 5, 507, "ledger reached its configured maximum size")             \
    X(PANIC, FL_ERR_BASE - 6, 500, "storage failed; the ledger must be reopened")                  \
    X(EOF, FL_ERR_BASE - 7, 404, "no more records")                                                \
    X(ABORTED, FL_ERR_BASE - 8, 409, "not written: another event of the atomic group failed")      \
    X(INTERNAL, FL_ERR_BASE - 9, 500, "internal error")                                            \
    X(INVALID_JSON, FL_ERR_BASE - 20, 400, "the body is not valid JSON")                           \
    X(UNKNOWN_TYPE, FL_ERR_BASE - 21, 400, "unknown event type")                                   \
    X(UNKNOWN_FIELD, FL_ERR_BASE - 22, 400, "unknown field")                                       \
    X(MISSING_FIELD, FL_ERR_BASE - 23, 400, "a required field is missing")                         \
    X(WRONG_TYPE, FL_ERR_BASE - 24, 400, "a field has the wrong JSON type")                        \
    X(OUT_OF_RANGE, FL_ERR_BASE - 25, 400, "a value is out of its range")                          \
    X(TOO_LONG, FL_ERR_BASE - 26, 400, "a text or a list is too long")                             \
    X(INVALID_UTF8, FL_ERR_BASE - 27, 400, "text is not valid UTF-8")                              \
    X(INVALID_VALUE, FL_ERR_BASE - 28, 400, "a value is not one of those allowed")                 \
    X(FORBIDDEN_ROLE, FL_ERR_BASE - 29, 403, "this role may not post this event type")             \
    X(RULE_HU_UNKNOWN, FL_ERR_BASE - 40, 422, "the handling unit does not exist")                  \
    X(RULE_HU_EXISTS, FL_ERR_BASE - 41, 422, "the handling unit already exists")                   \
    X(RULE_HU_HELD, FL_ERR_BASE - 42, 422, "the handling unit is on hold or rejected")             \
    X(RULE_HU_LOCATION, FL_ERR_BASE - 43, 422, "the handling unit is not at that location")        \
    X(RULE_NEGATIVE_STOCK, FL_ERR_BASE - 44, 422, "stock would go negative")                       \
    X(RULE_CONSERVATION, FL_ERR_BASE - 45, 422, "quantities do not balance")                       \
    X(RULE_CONTAINMENT, FL_ERR_BASE - 46, 422, "containment would not stay a tree")                \
    X(RULE_STATE, FL_ERR_BASE - 47, 422, "not allowed in the current state")                       \
    X(RULE_OVERPRODUCTION, FL_ERR_BASE - 48, 422, "beyond the order's plan and allowance")         \
    X(HTTP_MALFORMED, FL_ERR_BASE - 60, 400, "the request is not valid HTTP/1.1")                  \
    X(HTTP_HEADERS_TOO_LARGE, FL_ERR_BASE - 61, 431, "the request's headers are too large")        \
    X(HTTP_TIMEOUT, FL_ERR_BASE - 62, 408, "the request did not arrive in time")                   \
    X(HTTP_METHOD, FL_ERR_BASE - 63, 405, "this method is not allowed on this resource")           \
    X(HTTP_MEDIA_TYPE, FL_ERR_BASE - 64, 415, "unsupported content type")                          \
    X(BLOB_UNKNOWN, FL_ERR_BASE - 65, 422, "the event references a photo that was not uploaded")   \
    X(UNAUTHORIZED, FL_ERR_BASE - 66, 401, "a valid access token is required")                     \
    X(FORBIDDEN, FL_ERR_BASE - 67, 403, "this role may not do this")                               \
    X(FORBIDDEN_TENANT, FL_ERR_BASE - 68, 403, "this names another tenant")                        \
    X(RATE_LIMITED, FL_ERR_BASE - 69, 429, "too many requests from this address, retry later")     \
    X(FORBIDDEN_ORIGIN, FL_ERR_BASE - 70, 403, "this origin is not allowed")                       \
    X(ERASED, FL_ERR_BASE - 71, 410, "this person's data was erased")                              \
    X(TLS_UNTRUSTED, FL_ERR_BASE - 79, 502,                                                        \
      "the server's certificate is not proven by a trusted authority for its name")                \
    X(SINK_DOWN, FL_ERR_BASE - 80, 503, "a projection's sink (PostgreSQL, Redis) is unreachable")  \
    X(SINK_REJECTED, FL_ERR_BASE - 81, 500, "a projection's sink refused what it was given")

#define FL_ERR_BASE (-30000)

typedef enum {
#define FL_ERR_ENUM(name, value, status, message) FL_E##name = (value),
    FL_ERR_MAP(FL_ERR_ENUM)
#undef FL_ERR_ENUM
} fl_err_t;

/* A readable message for any code of FL_ERR_MAP, or for any other negative errno. Static. */
const char *fl_strerror(int err);

/* The stable machine name of a code ("CONFLICT_VERSION"), "UNKNOWN" for others. Static. */
const char *fl_errname(int err);

/* The HTTP status the API answers for a code (500 for codes outside the list). */
int fl_err_http_status(int err);

/* Maps an errno value (positive) to a code of the list; unknown values become FL_EIO. */
int fl_err_from_errno(int errnum);

/* Wall clock in microseconds since the Unix epoch. */
int64_t fl_now_us(void);

/* Monotonic clock in nanoseconds, for measuring durations. */
uint64_t fl_mono_ns(void);

/* The wall-clock time ms milliseconds from now, as pthread_cond_timedwait takes it. */
struct timespec fl_realtime_after_ms(uint32_t ms);

/* Fills id with a UUIDv7 (48-bit millisecond time, random rest, RFC 9562 version and variant).
 * Returns 0 or FL_EIO when the system's random source fails. */
int fl_uuid7(uint8_t id[16]);

/* Writes the canonical 36-character form plus a NUL into out (37 bytes). */
void fl_uuid_format(const uint8_t id[16], char out[37]);

/* Parses the canonical form (hyphens required). Returns 0 or FL_EINVAL. */
int fl_uuid_parse(const char *text, size_t len, uint8_t id[16]);

/* Lower-case hex of len bytes into out (2 * len + 1 bytes with the NUL). */
void fl_hex_format(const uint8_t *bytes, size_t len, char *out);

#endif
