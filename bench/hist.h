/*
 * bench/hist.h: the benchmarks' latency histogram - log-linear buckets, 32 per power of two
 * (within about 3%), covering every uint64_t, with exact count and maximum. Header-only: each
 * benchmark is one program.
 */
#ifndef FL_BENCH_HIST_H
#define FL_BENCH_HIST_H

#include <assert.h>
#include <stdint.h>

#define HIST_SUB_BITS  5
#define HIST_SUB_COUNT (1u << HIST_SUB_BITS)
#define HIST_BUCKETS   ((65 - HIST_SUB_BITS) * HIST_SUB_COUNT) /* covers every uint64_t */

typedef struct {
    uint64_t counts[HIST_BUCKETS];
    uint64_t total;
    uint64_t max;
} hist_t;

static inline unsigned hist_bucket(uint64_t value)
{
    if (value < 2 * HIST_SUB_COUNT)
        return (unsigned)value;
    unsigned shift = 63u - (unsigned)__builtin_clzll(value) - HIST_SUB_BITS;
    return shift * HIST_SUB_COUNT + (unsigned)(value >> shift);
}

static inline void hist_add(hist_t *hist, uint64_t value)
{
    unsigned bucket = hist_bucket(value);
    assert(bucket < HIST_BUCKETS);
    hist->counts[bucket]++;
    hist->total++;
    if (value > hist->max)
        hist->max = value;
}

static inline void hist_merge(hist_t *into, const hist_t *from)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->counts[i] += from->counts[i];
    into->total += from->total;
    if (from->max > into->max)
        into->max = from->max;
}

/* The value below which `fraction` of the samples fall: the middle of its bucket. */
static inline double hist_quantile(const hist_t *hist, double fraction)
{
    assert(fraction > 0 && fraction <= 1);
    if (hist->total == 0)
        return 0;
    double exact = fraction * (double)hist->total;
    uint64_t rank = (uint64_t)exact, seen = 0;
    if ((double)rank < exact || rank == 0)
        rank++;
    unsigned bucket = 0;
    while (seen + hist->counts[bucket] < rank)
        seen += hist->counts[bucket++];
    assert(bucket < HIST_BUCKETS);
    if (bucket < 2 * HIST_SUB_COUNT)
        return bucket;
    unsigned shift = bucket / HIST_SUB_COUNT - 1;
    uint64_t low = (uint64_t)(bucket - shift * HIST_SUB_COUNT) << shift;
    return (double)low + (double)(1ull << shift) / 2;
}

#endif
