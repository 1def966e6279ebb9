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
 * PORT is used for both of OpenPGM's UDP encapsulation ports (as every OpenPGM
 * deployment does); DPORT is the PGM data-destination port. Single-threaded:
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

static pgm_sock_t *sock;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, pgm_error_t *err)
{
    fprintf(stderr, "pgm_peer: %s: %s\n", what, err ? err->message : "failed");
    exit(3);
}

static void
set_int(int opt, int v, const char *name)
{
    if (!pgm_setsockopt(sock, IPPROTO_PGM, opt, &v, sizeof(v))) {
        fprintf(stderr, "pgm_peer: setsockopt %s failed\n", name);
        exit(3);
    }
}

static void
open_sock(const char *ifaddr, const char *group, int port, int dport, int sender)
{
    struct pgm_addrinfo_t *res = NULL;
    pgm_error_t *err = NULL;
    struct pgm_sockaddr_t addr;
    char network[256];

    if (!pgm_init(&err))
        die("pgm_init", err);
    snprintf(network, sizeof(network), "%s;%s", ifaddr, group);
    if (!pgm_getaddrinfo(network, NULL, &res, &err))
        die("pgm_getaddrinfo", err);
    if (!pgm_socket(&sock, AF_INET, SOCK_SEQPACKET, IPPROTO_UDP, &err))
        die("pgm_socket", err);
    set_int(PGM_UDP_ENCAP_UCAST_PORT, port, "ucast port");
    set_int(PGM_UDP_ENCAP_MCAST_PORT, port, "mcast port");
    set_int(PGM_IP_ROUTER_ALERT, 0, "router alert");
    set_int(PGM_MTU, 1500, "mtu");
    if (sender) {
        /* heartbeat SPMs (microseconds) as in OpenPGM's examples, tightened for a LAN */
        static const int hb[] = { 1000, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000,
                                  256000, 512000, 1000000 };
        set_int(PGM_SEND_ONLY, 1, "send only");
        set_int(PGM_TXW_SQNS, 200000, "txw sqns");
        set_int(PGM_TXW_MAX_RTE, 5 * 1000 * 1000, "txw max rate"); /* 5 MB/s: ~40k msg/s */
        set_int(PGM_AMBIENT_SPM, 1000000, "ambient spm");
        if (!pgm_setsockopt(sock, IPPROTO_PGM, PGM_HEARTBEAT_SPM, hb, sizeof(hb)))
            die("heartbeat spm", NULL);
    } else {
        set_int(PGM_RECV_ONLY, 1, "recv only");
        set_int(PGM_PASSIVE, 0, "passive");
        set_int(PGM_RXW_SQNS, 65536, "rxw sqns");

        set_int(PGM_PEER_EXPIRY, 300 * 1000000, "peer expiry");
        set_int(PGM_SPMR_EXPIRY, 250 * 1000, "spmr expiry");
        set_int(PGM_NAK_BO_IVL, 5 * 1000, "nak bo ivl");
        set_int(PGM_NAK_RPT_IVL, 50 * 1000, "nak rpt ivl");
        set_int(PGM_NAK_RDATA_IVL, 50 * 1000, "nak rdata ivl");
        set_int(PGM_NAK_DATA_RETRIES, 50, "nak data retries");
        set_int(PGM_NAK_NCF_RETRIES, 50, "nak ncf retries");
    }
    memset(&addr, 0, sizeof(addr));
    addr.sa_port = (uint16_t)dport;
    addr.sa_addr.sport = 0; /* a random data-source port */
    if (!pgm_gsi_create_from_hostname(&addr.sa_addr.gsi, &err))
        die("gsi", err);
    if (!pgm_bind(sock, &addr, sizeof(addr), &err))
        die("pgm_bind", err);
    for (unsigned i = 0; i < res->ai_recv_addrs_len; i++)
        pgm_setsockopt(sock, IPPROTO_PGM, PGM_JOIN_GROUP, &res->ai_recv_addrs[i],
                       sizeof(struct group_req));
    pgm_setsockopt(sock, IPPROTO_PGM, PGM_SEND_GROUP, &res->ai_send_addrs[0],
                   sizeof(struct group_req));
    pgm_freeaddrinfo(res);
    set_int(PGM_MULTICAST_LOOP, 0, "loop");
    set_int(PGM_MULTICAST_HOPS, 1, "hops");
    set_int(PGM_NOBLOCK, 1, "noblock");
    if (!pgm_connect(sock, &err))
        die("pgm_connect", err);
    if (!sender) {
        /* a single-threaded receiver on a shared 2-core machine: give its socket
         * room to absorb scheduling stalls (libpgm 5.3 has no option for it) */
        int fd = -1, size = 16 << 20;
        socklen_t l = sizeof(fd);
        if (pgm_getsockopt(sock, IPPROTO_PGM, PGM_RECV_SOCK, &fd, &l) && fd >= 0 &&
            setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    }
}

/* Wait for the socket or its next timer, at most max_ms. */
static void
wait_sock(int status, int max_ms)
{
    fd_set rd;
    int nfds = 0;
    struct timeval tv = { 0, max_ms * 1000 };
    socklen_t l = sizeof(tv);

    if (status == PGM_IO_STATUS_TIMER_PENDING)
        pgm_getsockopt(sock, IPPROTO_PGM, PGM_TIME_REMAIN, &tv, &l);
    else if (status == PGM_IO_STATUS_RATE_LIMITED)
        pgm_getsockopt(sock, IPPROTO_PGM, PGM_RATE_REMAIN, &tv, &l);
    if (tv.tv_sec > 0 || tv.tv_usec > max_ms * 1000) {
        tv.tv_sec = 0;
        tv.tv_usec = max_ms * 1000;
    }
    FD_ZERO(&rd);
    pgm_select_info(sock, &rd, NULL, &nfds);
    select(nfds, &rd, NULL, NULL, &tv);
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
            wait_sock(st, 50);
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
    static char buf[4096];
    size_t len;
    int st;

    do {
        pgm_error_t *err = NULL;
        st = pgm_recv(sock, buf, sizeof(buf), MSG_DONTWAIT, &len, &err);
        if (err)
            pgm_error_free(err);
    } while (st == PGM_IO_STATUS_NORMAL);
    if (max_ms)
        wait_sock(st, max_ms);
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
        open_sock(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), 0);
        rc = do_recv(strtoull(argv[6], NULL, 10), argv[7], atof(argv[8]));
    } else if (argc == 8 && !strcmp(argv[1], "send")) {
        open_sock(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), 1);
        rc = do_send(argv[6], atof(argv[7]));
    } else {
        fprintf(stderr, "usage: pgm_peer recv IFADDR GROUP PORT DPORT COUNT OUTFILE TIMEOUT_S\n"
                        "       pgm_peer send IFADDR GROUP PORT DPORT INFILE LINGER_S\n");
        return 2;
    }
    pgm_close(sock, TRUE);
    pgm_shutdown();
    return rc;
}
