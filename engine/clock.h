/* The one place that reads the clock. Engine code takes now_ns as a parameter
 * (DESIGN s.5); only run loops (binaries, examples) call this. */
#ifndef SC_ENGINE_CLOCK_H
#define SC_ENGINE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
sc_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wall-clock time (ns since the epoch): for stamps a person or another
 * process reads (a file's creation time), never for intervals. */
static inline uint64_t
sc_clock_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
