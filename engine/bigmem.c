#include "engine/bigmem.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_2M ((size_t)2 << 20)

static void *
big(size_t bytes, bool touch)
{
    size_t len = (bytes + HUGE_2M - 1) & ~(HUGE_2M - 1);
    void *p = NULL;

    if (!bytes)
        return NULL;
    if (bytes < HUGE_2M) {
        p = malloc(bytes);
        if (p && touch)
            memset(p, 0, bytes);
        return p;
    }
    if (posix_memalign(&p, HUGE_2M, len) != 0)
        return NULL;
    (void)madvise(p, len, MADV_HUGEPAGE); /* a hint: without THP, 4 KiB pages */
    if (touch)
        memset(p, 0, len); /* fault everything in now */
    return p;
}

void *
sc_mem_big_alloc(size_t bytes)
{
    return big(bytes, true);
}

void *
sc_mem_big_reserve(size_t bytes)
{
    return big(bytes, false);
}
