/* itch_parse: the ITCH 5.0 codec alone (sc_itch_decode, <seqcast/proto/itch.h>)
 * on one core: every message of a file in NASDAQ's framing (2-byte big-endian
 * length, then the message) decoded, nothing applied.
 *
 *   build/bench/itch_parse FILE [--passes N] [--portable]
 *
 * The whole file is read into memory first (not timed). Each pass walks the
 * records and decodes every message into one struct sc_itch_msg, timed on the
 * thread's CPU time (the machine may be shared); N passes (default 7), the
 * figure is the median pass, the best one beside it. So that no decode can be
 * skipped, each decoded message's header (type, locate, tracking, timestamp)
 * and the first 8 bytes of its body (the order reference of A F E C X D U P,
 * the symbol of R H Y ...; only the one defined byte of S and W) are folded
 * into a checksum that is printed; it is the same in every pass.
 *
 * --portable times sc_itch_decode_portable (the type switch) instead of
 * sc_itch_decode (its vector path where the CPU has one).
 *
 * Output, one JSON line: decode (the path timed: sc_itch_decode_impl, or
 * "portable"), msgs, bad (messages that did not decode), msgs_per_s and
 * ns_per_msg (the median pass), best_msgs_per_s, passes, checksum.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <seqcast/proto/itch.h>

static double
cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* The defined bytes of the body's first 8 (S and W carry one byte there). */
static uint64_t body_mask[256];

typedef int decode_fn(const uint8_t *buf, size_t len, struct sc_itch_msg *m);

/* One pass: every record of buf decoded; the checksum of what was decoded.
 * Inlined into its two callers, each with its decode called directly. */
static inline __attribute__((always_inline)) uint64_t
pass(const uint8_t *buf, size_t len, uint64_t *bad, decode_fn *decode)
{
    const uint8_t *p = buf, *end = buf + len;
    struct sc_itch_msg m;
    uint64_t sum = 0, nbad = 0;

    while (end - p >= 2) {
        size_t l = (size_t)p[0] << 8 | p[1];
        uint64_t body;

        if ((size_t)(end - p) < 2 + l)
            break;
        if (decode(p + 2, l, &m) < 0) {
            nbad++;
        } else {
            memcpy(&body, &m.add, sizeof(body));
            sum = (sum << 7 | sum >> 57) ^ (m.type | (uint64_t)m.locate << 8 |
                                            (uint64_t)m.tracking << 24) ^ m.ts;
            sum += body & body_mask[m.type];
        }
        p += 2 + l;
    }
    *bad = nbad;
    return sum;
}

static __attribute__((noinline)) uint64_t
pass_decode(const uint8_t *buf, size_t len, uint64_t *bad)
{
    return pass(buf, len, bad, sc_itch_decode);
}

static __attribute__((noinline)) uint64_t
pass_portable(const uint8_t *buf, size_t len, uint64_t *bad)
{
    return pass(buf, len, bad, sc_itch_decode_portable);
}

int
main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "passes", required_argument, NULL, 'n' },
        { "portable", no_argument, NULL, 'p' },
        { 0, 0, 0, 0 },
    };
    int passes = 7, portable = 0, c;

    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'n': passes = atoi(optarg); break;
        case 'p': portable = 1; break;
        default: goto usage;
        }
    }
    if (optind != argc - 1 || passes < 1) {
    usage:
        fprintf(stderr, "usage: %s FILE [--passes N] [--portable]\n", argv[0]);
        return 2;
    }

    FILE *fp = fopen(argv[optind], "rb");
    if (!fp)
        return fprintf(stderr, "itch_parse: %s: %s\n", argv[optind], strerror(errno)), 1;
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    rewind(fp);
    uint8_t *buf = size > 0 ? malloc((size_t)size) : NULL;
    if (!buf || fread(buf, 1, (size_t)size, fp) != (size_t)size)
        return fprintf(stderr, "itch_parse: %s: cannot read it whole\n", argv[optind]), 1;
    fclose(fp);

    /* the records, counted once: a cut record at the end is not decoded */
    uint64_t msgs = 0;
    size_t used = 0;
    while (size - used >= 2) {
        size_t l = (size_t)buf[used] << 8 | buf[used + 1];
        if ((size_t)size - used < 2 + l)
            break;
        used += 2 + l;
        msgs++;
    }
    if (!msgs)
        return fprintf(stderr, "itch_parse: %s: no whole record\n", argv[optind]), 1;

    for (int t = 0; t < 256; t++)
        body_mask[t] = ~UINT64_C(0);
    body_mask['S'] = body_mask['W'] = 0xff; /* event_code, breached_level */

    double *t = malloc((size_t)passes * sizeof(*t));
    uint64_t sum = 0, bad = 0;
    if (!t)
        return fprintf(stderr, "itch_parse: out of memory\n"), 1;
    for (int i = 0; i < passes; i++) {
        double t0 = cpu_s();
        uint64_t s = portable ? pass_portable(buf, used, &bad) : pass_decode(buf, used, &bad);
        t[i] = cpu_s() - t0;
        if (i > 0 && s != sum)
            return fprintf(stderr, "itch_parse: checksum differs between passes\n"), 1;
        sum = s;
    }
    qsort(t, (size_t)passes, sizeof(*t), cmp_double);
    double med = t[(passes - 1) / 2], best = t[0];

    printf("{\"decode\": \"%s\", \"msgs\": %llu, \"bad\": %llu, \"msgs_per_s\": %.0f, \"ns_per_msg\": %.2f, "
           "\"best_msgs_per_s\": %.0f, \"passes\": %d, \"checksum\": \"%016llx\"}\n",
           portable ? "portable" : sc_itch_decode_impl(), (unsigned long long)msgs,
           (unsigned long long)bad, msgs / med, med * 1e9 / msgs,
           msgs / best, passes, (unsigned long long)sum);
    free(t);
    free(buf);
    return 0;
}
