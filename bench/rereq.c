/* rereq: a MoldUDP64 re-request client for `make bench` (bench/rereq.sh): how
 * many messages a second a publisher's re-request server serves from its
 * window.
 *
 *   rereq --server ADDR:PORT --session NAME --msgs N [--count C] [--depth D]
 *         [--seconds S] [--bind ADDR]
 *
 * The publisher is `bench/peer seqcast send` on a MoldUDP64 channel (message n
 * starts with n, 8 bytes little-endian) that has sent messages 1..N and
 * lingers. rereq first asks for message N until it is answered (the publisher
 * has sent them all), then for S seconds keeps D requests in flight, each for
 * C messages from a random first message in [1, N - C + 1]: a response ends
 * a request (matched by its first message), and a request unanswered for
 * 20 ms is given up (`timeouts`) so a lost response does not stall the pipe.
 * Every message of every response is checked against its sequence number.
 *
 * One JSON line on stdout: requests, responses, messages served (the sum of
 * the responses' counts), per second over the S seconds, and what did not
 * fit the model (timeouts, answers not matching a request -- the server's
 * not-in-window answers -- and damaged messages). Exit 1 if a message was
 * damaged or nothing was served. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <seqcast/proto/mold.h>

#define BURST 64
#define MAX_DEPTH 1024
#define GIVE_UP_NS 20000000u

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t
xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static struct {
    uint64_t requests, responses, msgs, bytes, timeouts, unmatched, bad;
} st;

/* requests in flight: their first messages and when they left */
static uint64_t fl_first[MAX_DEPTH], fl_t[MAX_DEPTH];
static unsigned nfl;

static uint8_t session[SC_MOLD_SESSION_LEN];
/* not connect()ed: the answers leave from another port than the one asked */
static struct sockaddr_in srv = { .sin_family = AF_INET };
static uint8_t rbuf[BURST][2048];

static int
send_requests(int fd, uint64_t first[], unsigned n, uint16_t count)
{
    uint8_t req[BURST][SC_MOLD_REQUEST_LEN];
    struct iovec iov[BURST];
    struct mmsghdr mm[BURST];

    for (unsigned i = 0; i < n; i++) {
        struct sc_mold_hdr h = { .seq = first[i], .count = count };
        memcpy(h.session, session, sizeof(session));
        sc_mold_encode_request(req[i], sizeof(req[i]), &h);
        iov[i] = (struct iovec){ req[i], SC_MOLD_REQUEST_LEN };
        mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &srv, .msg_namelen = sizeof(srv),
                                               .msg_iov = &iov[i], .msg_iovlen = 1 } };
    }
    return sendmmsg(fd, mm, n, 0);
}

/* Reads what has arrived; each response's messages checked and counted.
 * @return the first message of the last response read (0: none). */
static uint64_t
read_responses(int fd, int counting)
{
    struct iovec iov[BURST];
    struct mmsghdr mm[BURST];
    uint64_t last = 0;
    int got;

    for (unsigned i = 0; i < BURST; i++) {
        iov[i] = (struct iovec){ rbuf[i], sizeof(rbuf[i]) };
        mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
    }
    got = recvmmsg(fd, mm, BURST, MSG_DONTWAIT, NULL);
    for (int i = 0; i < got; i++) {
        struct sc_mold_iter it;
        struct sc_mold_hdr h;
        const uint8_t *m;
        uint64_t seq, v;
        uint16_t len;
        unsigned k;

        if (sc_mold_iter_init(&it, rbuf[i], mm[i].msg_len, &h) < 0 ||
            memcmp(h.session, session, sizeof(session))) {
            st.bad++;
            continue;
        }
        if (h.count == SC_MOLD_COUNT_HEARTBEAT || h.count == SC_MOLD_COUNT_EOS)
            continue; /* the publisher's heartbeat-style "not held" answer: unmatched below */
        while (sc_mold_iter_next(&it, &seq, &m, &len)) {
            if (len < 8 || (memcpy(&v, m, 8), v != seq))
                st.bad++;
        }
        last = h.seq;
        if (!counting)
            continue;
        for (k = 0; k < nfl && fl_first[k] != h.seq; k++)
            ;
        if (k < nfl) {
            fl_first[k] = fl_first[--nfl];
            fl_t[k] = fl_t[nfl];
        } else {
            st.unmatched++;
        }
        st.responses++;
        st.msgs += h.count;
        st.bytes += mm[i].msg_len;
    }
    return last;
}

int
main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "server", 1, 0, 's' }, { "session", 1, 0, 'S' }, { "msgs", 1, 0, 'n' },
        { "count", 1, 0, 'c' },  { "depth", 1, 0, 'd' },   { "seconds", 1, 0, 't' },
        { "bind", 1, 0, 'b' },   { 0, 0, 0, 0 },
    };
    struct sockaddr_in me = { .sin_family = AF_INET };
    const char *server = NULL, *name = NULL;
    uint64_t n = 0, t0, t_end, t;
    unsigned count = 1000, depth = 64;
    double secs = 3;
    int c, fd, rcv = 8 << 20;

    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 's': server = optarg; break;
        case 'S': name = optarg; break;
        case 'n': n = strtoull(optarg, NULL, 10); break;
        case 'c': count = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'd': depth = (unsigned)strtoul(optarg, NULL, 10); break;
        case 't': secs = atof(optarg); break;
        case 'b':
            if (inet_pton(AF_INET, optarg, &me.sin_addr) != 1)
                goto usage;
            break;
        default: goto usage;
        }
    }
    if (!server || !name || strlen(name) > SC_MOLD_SESSION_LEN || !count || count > SC_MOLD_MAX_COUNT ||
        n < count || !depth || depth > MAX_DEPTH || secs <= 0) {
    usage:
        fprintf(stderr, "usage: rereq --server ADDR:PORT --session NAME --msgs N [--count C (1000)]\n"
                        "             [--depth D (64, at most %d)] [--seconds S (3)] [--bind ADDR]\n",
                MAX_DEPTH);
        return 2;
    }
    {
        const char *colon = strrchr(server, ':');
        char a[64];
        if (!colon || (size_t)(colon - server) >= sizeof(a))
            goto usage;
        snprintf(a, sizeof(a), "%.*s", (int)(colon - server), server);
        if (inet_pton(AF_INET, a, &srv.sin_addr) != 1)
            goto usage;
        srv.sin_port = htons((uint16_t)atoi(colon + 1));
    }
    memset(session, ' ', sizeof(session));
    memcpy(session, name, strlen(name));

    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)) < 0 ||
        bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
        perror("rereq: socket");
        return 3;
    }

    /* the publisher has sent all N once message N is answered */
    for (t_end = now_ns() + 10000000000u;;) {
        uint64_t last = n;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (send_requests(fd, &last, 1, 1) < 0) {
            perror("rereq: sendmmsg");
            return 3;
        }
        if (poll(&p, 1, 10) > 0 && read_responses(fd, 0) == n)
            break;
        if (now_ns() > t_end) {
            fprintf(stderr, "rereq: no answer for message %llu from %s in 10 s\n",
                    (unsigned long long)n, server);
            return 1;
        }
    }
    usleep(20000); /* late answers to the probe are not counted */
    read_responses(fd, 0);

    t0 = now_ns();
    t_end = t0 + (uint64_t)(secs * 1e9);
    while ((t = now_ns()) < t_end) {
        for (unsigned i = 0; i < nfl;) { /* unanswered too long: lost on the way */
            if (t - fl_t[i] > GIVE_UP_NS) {
                st.timeouts++;
                fl_first[i] = fl_first[--nfl];
                fl_t[i] = fl_t[nfl];
            } else {
                i++;
            }
        }
        if (nfl < depth) {
            uint64_t first[BURST];
            unsigned k = depth - nfl < BURST ? depth - nfl : BURST;
            int sent;
            for (unsigned i = 0; i < k; i++)
                first[i] = 1 + xorshift() % (n - count + 1);
            sent = send_requests(fd, first, k, (uint16_t)count);
            for (int i = 0; i < sent; i++) {
                fl_first[nfl] = first[i];
                fl_t[nfl++] = t;
            }
            st.requests += sent > 0 ? (uint64_t)sent : 0;
        }
        read_responses(fd, 1);
    }
    t = now_ns() - t0;
    printf("{\"test\": \"rereq\", \"msgs\": %llu, \"count\": %u, \"depth\": %u, \"seconds\": %.3f, "
           "\"requests\": %llu, \"responses\": %llu, \"msgs_served\": %llu, \"msgs_per_s\": %.0f, "
           "\"responses_per_s\": %.0f, \"mb_per_s\": %.1f, \"msgs_per_response\": %.1f, "
           "\"timeouts\": %llu, \"unmatched\": %llu, \"bad\": %llu}\n",
           (unsigned long long)n, count, depth, (double)t / 1e9, (unsigned long long)st.requests,
           (unsigned long long)st.responses, (unsigned long long)st.msgs,
           (double)st.msgs * 1e9 / (double)t, (double)st.responses * 1e9 / (double)t,
           (double)st.bytes * 1e3 / (double)t,
           st.responses ? (double)st.msgs / (double)st.responses : 0.0,
           (unsigned long long)st.timeouts, (unsigned long long)st.unmatched,
           (unsigned long long)st.bad);
    return st.bad || !st.msgs ? 1 : 0;
}
