/* A live-counter reader for make bench (bench/shm.sh): every file of a
 * directory read (sc_shmstat_read, as seqcast-stat does) --rate times a
 * second until SIGTERM, then one JSON line: reads done, seconds, reads a
 * second, failures.
 *   statread DIR RATE */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <seqcast/agent.h>
#include <seqcast/shmstat.h>

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
    (void)sig;
    stop = 1;
}

int
main(int argc, char **argv)
{
    uint64_t t0, next, reads = 0, fails = 0, period;
    double rate;

    if (argc != 3 || (rate = atof(argv[2])) <= 0) {
        fprintf(stderr, "usage: statread DIR READS_PER_SECOND\n");
        return 2;
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    period = (uint64_t)(1e9 / rate);
    t0 = next = sc_clock_now();
    while (!stop) {
        char **paths;
        int n = sc_shmstat_list(argv[1], &paths);
        for (int i = 0; i < n; i++) {
            struct sc_shmstat_snap *s;
            if (sc_shmstat_read(paths[i], &s, NULL) == 0)
                sc_shmstat_snap_free(s);
            else
                fails++;
        }
        if (n > 0)
            free(paths);
        reads++;
        next += period;
        uint64_t now = sc_clock_now();
        if (next > now) {
            struct timespec ts = { (time_t)((next - now) / 1000000000u),
                                   (long)((next - now) % 1000000000u) };
            nanosleep(&ts, NULL);
        }
    }
    double secs = (double)(sc_clock_now() - t0) / 1e9;
    printf("{\"reads\": %llu, \"seconds\": %.3f, \"reads_per_s\": %.0f, \"failed\": %llu}\n",
           (unsigned long long)reads, secs, secs > 0 ? (double)reads / secs : 0.0,
           (unsigned long long)fails);
    return 0;
}
