/*
 * mp.c: reads the fields of a stored payload (a msgpack map, as events/ wrote it) in place.
 * A report reads a few fields of hundreds of thousands of payloads: a small cursor over the
 * bytes costs no allocation, where an unpacker into objects would allocate per event.
 */
#include "reporting/rep_int.h"

#include "events/events.h"

#include <string.h>

static bool need(const rep_mp_t *mp, size_t n)
{
    return (size_t)(mp->end - mp->p) >= n;
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* The header at the cursor: its kind ('i' int, 's' str, 'a' array, 'm' map, 'x' other with
 * *extent bytes to skip), *value (int value or item count or byte length). */
static bool header(rep_mp_t *mp, char *kind, uint64_t *value)
{
    if (!need(mp, 1))
        return false;
    uint8_t b = *mp->p++;
    static const int sizes[] = {1, 2, 4, 8};
    if (b <= 0x7f || b >= 0xe0) {
        *kind = 'i', *value = (uint64_t)(int64_t)(int8_t)b;
        if (b <= 0x7f)
            *value = b;
        return true;
    }
    if ((b & 0xe0) == 0xa0)
        return *kind = 's', *value = b & 0x1f, true;
    if ((b & 0xf0) == 0x90)
        return *kind = 'a', *value = b & 0x0f, true;
    if ((b & 0xf0) == 0x80)
        return *kind = 'm', *value = b & 0x0f, true;
    int n = 0;
    switch (b) {
    case 0xc0: /* nil */
    case 0xc2:
    case 0xc3:
        *kind = b == 0xc0 ? 'n' : 'b', *value = b == 0xc3;
        return true;
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
        n = sizes[b - 0xcc];
        if (!need(mp, (size_t)n))
            return false;
        *kind = 'i', *value = be(mp->p, n), mp->p += n;
        return true;
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
        n = sizes[b - 0xd0];
        if (!need(mp, (size_t)n))
            return false;
        uint64_t raw = be(mp->p, n);
        int shift = 64 - 8 * n;
        /* Sign extension through an unsigned shift and an arithmetic one on int64. */
        *kind = 'i', *value = (uint64_t)((int64_t)(raw << shift) >> shift), mp->p += n;
        return true;
    }
    case 0xd9:
    case 0xda:
    case 0xdb:
    case 0xc4:
    case 0xc5:
    case 0xc6:
        n = b >= 0xd9 ? sizes[b - 0xd9] : sizes[b - 0xc4];
        if (!need(mp, (size_t)n))
            return false;
        *kind = b >= 0xd9 ? 's' : 'x', *value = be(mp->p, n), mp->p += n;
        return true;
    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf:
        n = (b == 0xdc || b == 0xde) ? 2 : 4;
        if (!need(mp, (size_t)n))
            return false;
        *kind = b <= 0xdd ? 'a' : 'm', *value = be(mp->p, n), mp->p += n;
        return true;
    case 0xca:
    case 0xcb:
        *kind = 'x', *value = b == 0xca ? 4 : 8;
        return true;
    default:
        return false; /* ext types: events/ never writes them */
    }
}

bool rep__mp_skip(rep_mp_t *mp)
{
    uint64_t pending = 1;
    while (pending > 0) {
        char kind;
        uint64_t value;
        if (!header(mp, &kind, &value))
            return false;
        pending--;
        if (kind == 's' || kind == 'x') {
            if (!need(mp, value))
                return false;
            mp->p += value;
        } else if (kind == 'a') {
            pending += value;
        } else if (kind == 'm') {
            pending += 2 * value;
        }
        if (pending > ENG_PAYLOAD_BYTES_MAX)
            return false;
    }
    return true;
}

bool rep__mp_str(rep_mp_t *mp, const char **text, size_t *len)
{
    char kind;
    uint64_t value;
    if (!header(mp, &kind, &value) || kind != 's' || !need(mp, value))
        return false;
    *text = (const char *)mp->p, *len = value;
    mp->p += value;
    return true;
}

bool rep__fields(const uint8_t *bytes, size_t len, rep_fields_t *out)
{
    rep_mp_t mp = {bytes, bytes + len};
    char kind;
    uint64_t count;
    out->count = 0;
    if (!header(&mp, &kind, &count) || kind != 'm')
        return false;
    for (uint64_t i = 0; i < count; i++) {
        const char *name;
        size_t name_len;
        if (!rep__mp_str(&mp, &name, &name_len))
            return false;
        rep_mp_t value = mp;
        if (!rep__mp_skip(&mp))
            return false;
        value.end = mp.p;
        if (out->count < REP_FIELDS_MAX) {
            out->names[out->count] = name;
            out->names_len[out->count] = (uint32_t)name_len;
            out->values[out->count++] = value;
        }
    }
    return true;
}

static const rep_mp_t *find(const rep_fields_t *fields, const char *name)
{
    size_t len = strlen(name);
    for (uint32_t i = 0; i < fields->count; i++)
        if (fields->names_len[i] == len && memcmp(fields->names[i], name, len) == 0)
            return &fields->values[i];
    return NULL;
}

bool rep__str(const rep_fields_t *fields, const char *name, const char **text, size_t *len)
{
    const rep_mp_t *found = find(fields, name);
    if (found == NULL)
        return false;
    rep_mp_t mp = *found;
    return rep__mp_str(&mp, text, len);
}

bool rep__int(const rep_fields_t *fields, const char *name, int64_t *value)
{
    const rep_mp_t *found = find(fields, name);
    if (found == NULL)
        return false;
    rep_mp_t mp = *found;
    char kind;
    uint64_t raw;
    if (!header(&mp, &kind, &raw) || kind != 'i')
        return false;
    *value = (int64_t)raw;
    return true;
}

bool rep__bool(const rep_fields_t *fields, const char *name, bool *value)
{
    const rep_mp_t *found = find(fields, name);
    if (found == NULL)
        return false;
    rep_mp_t mp = *found;
    char kind;
    uint64_t raw;
    if (!header(&mp, &kind, &raw) || kind != 'b')
        return false;
    *value = raw != 0;
    return true;
}

bool rep__array(const rep_fields_t *fields, const char *name, rep_mp_t *items, uint32_t *count)
{
    const rep_mp_t *found = find(fields, name);
    if (found == NULL)
        return false;
    rep_mp_t mp = *found;
    char kind;
    uint64_t n;
    if (!header(&mp, &kind, &n) || kind != 'a' || n > EV_ARRAY_ITEMS_MAX)
        return false;
    *items = mp, *count = (uint32_t)n;
    return true;
}
