/* pgm_peer: a small OpenPGM 5.3 program for the interop tests, one of
 *
 *   pgm_peer recv IFADDR GROUP PORT DPORT COUNT OUTFILE TIMEOUT_S
 *       receive COUNT messages, write them (2-byte big-endian length + bytes);
 *       exit 0 when all arrived with no unrecoverable loss (PGM_IO_STATUS_RESET)
 *   pgm_peer send IFADDR GROUP PORT DPORT INFILE LINGER_S
 *       publish INFILE's messages (same framing), then keep serving NAKs
 *
 * IFADDR is the interface's address. OpenPGM 5.3 takes its own unicast address
 * (IP_MULTICAST_IF, the SPM path NLA, and the NLA it requires in NAKs) from the
 * host name, not from IFADDR: the host name must resolve to IFADDR, which the
 * test arranges with a per-namespace hosts file (/etc/netns/NAME/hosts).
 *
 * Known defect: Debian's libpgm 5.3.128 crashes (SIGSEGV in
 * pgm_compat_csum_partial_copy, from pgm_send and pgm_sendv alike) when asked to
 * send any APDU larger than one TPDU over UDP encapsulation, so the send mode
 * is used with messages that fit one packet. Receiving fragments works.
 *
 * PORT is used for both of OpenPGM's UDP encapsulation ports (as most OpenPGM
 * deployments do); PORT `default` leaves them at OpenPGM's defaults (3055
 * unicast, 3056 multicast). DPORT is the PGM data-destination port. Single-threaded:
 * the sender interleaves pgm_send with non-blocking pgm_recv, which is what
 * makes OpenPGM read NAKs and run its timers.
 */
#include <errno.h>
#include <pgm/pgm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>

#include "pgm_sock.h"

static pgm_sock_t *sock;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
open_sock(const char *ifaddr, const char *group, const char *port_arg, int dport, int sender)
{
    int port = strcmp(port_arg, "default") ? atoi(port_arg) : 0;
    /* 5 MB/s: ~40k msg/s of 100 B; NAK timers 5/50/50 ms */
    struct pgm_sock_params p = { .ifaddr = ifaddr, .group = group, .port = port, .dport = dport,
                                 .sender = sender, .max_rate = 5 * 1000 * 1000, .txw_sqns = 200000,
                                 .nak_bo_us = 5000, .nak_rpt_us = 50000, .nak_rdata_us = 50000,
                                 /* a single-threaded receiver on a shared 2-core machine:
                                  * room to absorb scheduling stalls */
                                 .rcvbuf = 16 << 20 };
    sock = pgm_sock_open(&p);
}

static int
do_recv(uint64_t count, const char *out_path, double timeout)
{
    static char buf[65536];
    FILE *out = fopen(out_path, "wb");
    uint64_t got = 0, resets = 0;
    double end = now_s() + timeout;

    if (!out)
        return 3;
    while (got < count && now_s() < end) {
        size_t len = 0;
        pgm_error_t *err = NULL;
        int st = pgm_recv(sock, buf, sizeof(buf), 0, &len, &err);
        switch (st) {
        case PGM_IO_STATUS_NORMAL: {
            unsigned char h[2] = { (unsigned char)(len >> 8), (unsigned char)len };
            fwrite(h, 1, 2, out);
            fwrite(buf, 1, len, out);
            got++;
            break;
        }
        case PGM_IO_STATUS_RESET:
            resets++; /* unrecoverable loss */
            fprintf(stderr, "pgm_peer: session reset (loss)%s%s\n", err ? ": " : "",
                    err ? err->message : "");
            break;
        case PGM_IO_STATUS_TIMER_PENDING:
        case PGM_IO_STATUS_RATE_LIMITED:
        case PGM_IO_STATUS_WOULD_BLOCK:
            pgm_sock_wait(sock, st, 50000);
            break;
        default:
            if (err)
                fprintf(stderr, "pgm_peer: %s\n", err->message);
            break;
        }
        if (err)
            pgm_error_free(err);
    }
    fclose(out);
    printf("{\"pgm_peer\": \"recv\", \"received\": %llu, \"expected\": %llu, \"resets\": %llu}\n",
           (unsigned long long)got, (unsigned long long)count, (unsigned long long)resets);
    return got == count && resets == 0 ? 0 : 1;
}

/* Serve NAKs and timers (non-blocking pgm_recv on the sending socket). */
static void
pump(int max_ms)
{
    int st = pgm_sock_pump(sock);

    if (max_ms)
        pgm_sock_wait(sock, st, (long)max_ms * 1000);
}

static int
do_send(const char *in_path, double linger)
{
    static unsigned char buf[65536];
    FILE *in = fopen(in_path, "rb");
    uint64_t sent = 0;
    unsigned char h[2];
    double end;

    if (!in)
        return 3;
    while (fread(h, 1, 2, in) == 2) {
        size_t len = (size_t)h[0] << 8 | h[1], wrote = 0;
        if (fread(buf, 1, len, in) != len)
            break;
        for (;;) {
            int st = pgm_send(sock, buf, len, &wrote);
            if (st == PGM_IO_STATUS_NORMAL)
                break;
            if (st != PGM_IO_STATUS_RATE_LIMITED && st != PGM_IO_STATUS_WOULD_BLOCK) {
                fprintf(stderr, "pgm_peer: pgm_send failed (%d)\n", st);
                return 3;
            }
            pump(1);
        }
        sent++;
        pump(0); /* OpenPGM reads NAKs and sends repairs only from its receive path */
    }
    fclose(in);
    for (end = now_s() + linger; now_s() < end;)
        pump(20);
    printf("{\"pgm_peer\": \"send\", \"sent\": %llu}\n", (unsigned long long)sent);
    return 0;
}

int
main(int argc, char **argv)
{
    int rc;

    if (argc == 9 && !strcmp(argv[1], "recv")) {
        open_sock(argv[2], argv[3], argv[4], atoi(argv[5]), 0);
        rc = do_recv(strtoull(argv[6], NULL, 10), argv[7], atof(argv[8]));
    } else if (argc == 8 && !strcmp(argv[1], "send")) {
        open_sock(argv[2], argv[3], argv[4], atoi(argv[5]), 1);
        rc = do_send(argv[6], atof(argv[7]));
    } else {
        fprintf(stderr, "usage: pgm_peer recv IFADDR GROUP PORT|default DPORT COUNT OUTFILE TIMEOUT_S\n"
                        "       pgm_peer send IFADDR GROUP PORT|default DPORT INFILE LINGER_S\n");
        return 2;
    }
    pgm_close(sock, TRUE);
    pgm_shutdown();
    return rc;
}
