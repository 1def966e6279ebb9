/* The raw-UDP floor for `make bench`: plain sendmmsg/recvmmsg multicast over
 * loopback, no reliability, no framing beyond an 8-byte sequence number.
 *
 *   udpfloor recv GROUP:PORT SIZE N TIMEOUT_S   counts datagrams, prints JSON
 *   udpfloor send GROUP:PORT SIZE N             sends N as fast as the kernel takes them
 *
 * The receiver's msgs/s run from its first datagram to its last; lost and
 * duplicates come from the sequence numbers. The sender blocks when its
 * socket buffer is full, so loss happens only at the receiver's socket. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
parse(const char *s, struct sockaddr_in *a)
{
    char host[64];
    const char *c = strchr(s, ':');

    if (!c || (size_t)(c - s) >= sizeof(host))
        return -1;
    memcpy(host, s, (size_t)(c - s));
    host[c - s] = 0;
    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)atoi(c + 1));
    return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

int
main(int argc, char **argv)
{
    struct sockaddr_in g;
    size_t size;
    uint64_t n;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1, buf = 32 << 20;
    struct in_addr lo = { htonl(INADDR_LOOPBACK) };
    static uint8_t data[BATCH][65536];
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];

    if (argc < 5 || parse(argv[2], &g) < 0 || fd < 0) {
        fprintf(stderr, "usage: udpfloor recv|send GROUP:PORT SIZE N [TIMEOUT_S]\n");
        return 2;
    }
    size = strtoul(argv[3], NULL, 10);
    n = strtoull(argv[4], NULL, 10);
    if (size < 8 || size > 65000)
        size = size < 8 ? 8 : 65000;
    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){ data[i], size };
        m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
    }
    if (!strcmp(argv[1], "recv")) {
        struct ip_mreq mr = { g.sin_addr, lo };
        struct timeval tv = { 0, 200000 };
        uint64_t got = 0, dups = 0, t_first = 0, t_last = 0, end;
        uint8_t *seen = calloc(n + 1, 1);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (bind(fd, (struct sockaddr *)&g, sizeof(g)) < 0 ||
            setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0 || !seen) {
            perror("udpfloor recv");
            return 1;
        }
        end = now_ns() + (uint64_t)(atof(argc > 5 ? argv[5] : "30") * 1e9);
        while (got < n && now_ns() < end) {
            int k = recvmmsg(fd, m, BATCH, 0, NULL);
            if (k <= 0) {
                if (t_first && now_ns() - t_last > 1000000000u)
                    break; /* a second of silence after data: the sender is done */
                continue;
            }
            t_last = now_ns();
            if (!t_first)
                t_first = t_last;
            for (int i = 0; i < k; i++) {
                uint64_t s;
                memcpy(&s, data[i], 8);
                if (s >= 1 && s <= n) {
                    if (seen[s]++)
                        dups++;
                    else
                        got++;
                }
            }
        }
        {
            double secs = t_last > t_first ? (double)(t_last - t_first) / 1e9 : 0;
            printf("{\"received\": %llu, \"lost\": %llu, \"duplicates\": %llu, \"seconds\": %.3f, "
                   "\"msgs_per_s\": %.0f, \"mb_per_s\": %.1f}\n",
                   (unsigned long long)got, (unsigned long long)(n - got),
                   (unsigned long long)dups, secs, secs > 0 ? (double)got / secs : 0.0,
                   secs > 0 ? (double)got * (double)size / secs / 1e6 : 0.0);
        }
        return 0;
    }
    {
        unsigned char loop = 1, ttl = 0;
        uint64_t s = 1;
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof(lo));
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, 1);
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, 1);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
        for (int i = 0; i < BATCH; i++) {
            m[i].msg_hdr.msg_name = &g;
            m[i].msg_hdr.msg_namelen = sizeof(g);
        }
        while (s <= n) {
            int k = (int)(n - s + 1 < BATCH ? n - s + 1 : BATCH), sent;
            for (int i = 0; i < k; i++) {
                uint64_t v = s + (uint64_t)i;
                memcpy(data[i], &v, 8);
            }
            sent = sendmmsg(fd, m, (unsigned)k, 0);
            if (sent > 0)
                s += (uint64_t)sent;
        }
    }
    return 0;
}
