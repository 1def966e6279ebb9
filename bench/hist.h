/* An HDR-style latency histogram for the benchmark programs: log-linear
 * buckets (64 per power of two above 128 ns, exact below), so every recorded
 * value is kept to within 1.6 % with a fixed 20 kB table and no allocation.
 *
 *   struct hist h = { 0 };
 *   hist_add(&h, ns);  ...  hist_pct(&h, 99.9)  // ns
 */
#ifndef SEQCAST_BENCH_HIST_H
#define SEQCAST_BENCH_HIST_H

#include <stdint.h>
#include <stdio.h>

#define HIST_SUB 64                       /* buckets per power of two */
#define HIST_N (128 + (64 - 7) * HIST_SUB) /* up to 2^64 ns */

struct hist {
    uint64_t n, max, min;
    uint64_t b[HIST_N];
};

static inline unsigned
hist_idx(uint64_t v)
{
    unsigned e;

    if (v < 128)
        return (unsigned)v;
    e = 63u - (unsigned)__builtin_clzll(v); /* >= 7 */
    return 128u + (e - 7u) * HIST_SUB + (unsigned)((v >> (e - 6u)) & (HIST_SUB - 1));
}

/* the highest value bucket i holds */
static inline uint64_t
hist_top(unsigned i)
{
    unsigned e, sub;

    if (i < 128)
        return i;
    e = (i - 128u) / HIST_SUB + 7u;
    sub = (i - 128u) % HIST_SUB;
    return ((uint64_t)(HIST_SUB + sub + 1) << (e - 6u)) - 1;
}

static inline void
hist_add(struct hist *h, uint64_t v)
{
    h->b[hist_idx(v)]++;
    if (!h->n || v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->n++;
}

/* the value at percentile p (0..100): the top of the bucket holding it, never above max */
static inline uint64_t
hist_pct(const struct hist *h, double p)
{
    uint64_t want = (uint64_t)((double)h->n * p / 100.0 + 0.999999), seen = 0;

    if (!h->n)
        return 0;
    if (want < 1)
        want = 1;
    for (unsigned i = 0; i < HIST_N; i++) {
        seen += h->b[i];
        if (seen >= want)
            return hist_top(i) < h->max ? hist_top(i) : h->max;
    }
    return h->max;
}

/* The percentile curve for plotting: "percentile value_us 1/(1-p)" rows, the
 * classic HDR layout (x on a log scale of nines). */
static inline void
hist_write_curve(const struct hist *h, FILE *f)
{
    static const double ps[] = { 0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999 };

    for (unsigned i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
        fprintf(f, "%g %.2f %g\n", ps[i], (double)hist_pct(h, ps[i]) / 1000.0,
                1.0 / (1.0 - ps[i] / 100.0));
    fprintf(f, "100 %.2f %g\n", (double)h->max / 1000.0, 1e6);
}

#endif
