/* The floor for the order round trip: plain TCP (or Unix-socket) ping-pong of
 * fixed-size messages, TCP_NODELAY, blocking read/write, one in flight.
 *   pingpong server ENDPOINT SIZE
 *   pingpong client ENDPOINT SIZE COUNT   -> JSON with p50/p99/p99.9/max in us */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/osock.h"

static int
full(int fd, void *b, size_t n, bool rd)
{
    size_t o = 0;

    while (o < n) {
        ssize_t r = rd ? read(fd, (char *)b + o, n - o) : write(fd, (char *)b + o, n - o);
        if (r <= 0)
            return -1;
        o += (size_t)r;
    }
    return 0;
}

static void
make_blocking(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
}

static int
cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    static char buf[65536];
    size_t size;

    if (argc < 4)
        return 2;
    size = strtoul(argv[3], NULL, 10);
    if (!strcmp(argv[1], "server")) {
        int l = sc_osock_listen(argv[2], NULL);
        if (l < 0)
            return 1;
        make_blocking(l);
        for (;;) {
            struct sc_opeer peer;
            int fd = sc_osock_accept(l, &peer);
            if (fd < 0)
                continue;
            make_blocking(fd);
            while (full(fd, buf, size, true) == 0 && full(fd, buf, size, false) == 0)
                ;
            close(fd);
        }
    } else {
        unsigned long n = argc > 4 ? strtoul(argv[4], NULL, 10) : 10000;
        uint64_t *rtt = calloc(n, sizeof(uint64_t));
        bool pending;
        int fd = sc_osock_connect(argv[2], &pending, NULL);
        if (fd < 0 || !rtt)
            return 1;
        make_blocking(fd);
        usleep(100000); /* the connect completes */
        memset(buf, 'x', size);
        for (unsigned long i = 0; i < n; i++) {
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            if (full(fd, buf, size, false) < 0 || full(fd, buf, size, true) < 0)
                return 1;
            clock_gettime(CLOCK_MONOTONIC, &b);
            rtt[i] = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u + (uint64_t)(b.tv_nsec - a.tv_nsec);
        }
        qsort(rtt, n, sizeof(uint64_t), cmp);
        printf("{\"pingpong\": {\"n\": %lu, \"rtt_us\": {\"p50\": %.1f, \"p99\": %.1f, "
               "\"p999\": %.1f, \"max\": %.1f}}}\n",
               n, (double)rtt[n / 2] / 1e3, (double)rtt[(size_t)((double)(n - 1) * 0.99)] / 1e3,
               (double)rtt[(size_t)((double)(n - 1) * 0.999)] / 1e3, (double)rtt[n - 1] / 1e3);
    }
    return 0;
}
