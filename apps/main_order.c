/* seqcast-order: send orders to an order gateway and collect acknowledgements,
 * reconnecting and resuming until every order is acknowledged. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seqcast/order.h>

#include "apps/cli.h"
#include "engine/clock.h"
#include <seqcast/proto/endian.h>

struct app {
    uint64_t n;              /* orders to send */
    uint64_t *sent_ns;       /* per order id: first sent (0 = not by this process) */
    uint64_t *tx_ns;         /* per order id: last sent, resends included */
    uint64_t oldest;         /* no order below it is unacknowledged */
    uint64_t resend_after_ns, resent_unacked;
    uint8_t *acked;          /* per order id */
    uint64_t *rtt;           /* round trips measured */
    uint64_t nrtt, nacked, dup_acks, out_of_order, last_seq, sent, resent;
    uint64_t caught_up_at;   /* resend unacked orders once next_seq reaches this */
    bool resend_pending, rejected, ended, print;
    size_t size;
    /* --input: the orders' bodies, in file order */
    uint8_t *body;
    uint64_t *body_off;
    uint16_t *body_len;
};

static struct app a;
static uint64_t now_cached;

static void
on_msg(void *ctx, uint64_t seq, const void *msg, size_t len)
{
    uint64_t id;

    (void)ctx;
    if (a.last_seq && seq != a.last_seq + 1)
        a.out_of_order++;
    a.last_seq = seq;
    if (len < 9 || ((const uint8_t *)msg)[8] != 'A')
        return;
    id = sc_load_be64(msg);
    if (id >= a.n)
        return;
    if (a.acked[id]) {
        a.dup_acks++;
        return;
    }
    a.acked[id] = 1;
    a.nacked++;
    if (a.sent_ns[id])
        a.rtt[a.nrtt++] = now_cached - a.sent_ns[id];
    if (a.print)
        printf("ack seq=%llu order=%llu rtt_us=%.1f\n", (unsigned long long)seq,
               (unsigned long long)id,
               a.sent_ns[id] ? (double)(now_cached - a.sent_ns[id]) / 1e3 : -1.0);
}

/* The order with this id: its 8-byte id, then the file's bytes or filler. */
static size_t
build(uint8_t *o, uint64_t id)
{
    sc_store_be64(o, id);
    if (a.body) {
        memcpy(o + 8, a.body + a.body_off[id], a.body_len[id]);
        return 8 + (size_t)a.body_len[id];
    }
    return a.size;
}

/* Orders from a file of 2-byte big-endian length + bytes records ('-' = stdin). */
static int
load(const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    size_t cap = 1 << 20, used = 0, n = 0, ncap = 1024;
    uint8_t h[2];

    if (!f) {
        fprintf(stderr, "seqcast-order: %s: %s\n", path, strerror(errno));
        return -1;
    }
    a.body = malloc(cap);
    a.body_off = malloc(ncap * sizeof(uint64_t));
    a.body_len = malloc(ncap * sizeof(uint16_t));
    while (a.body && a.body_off && a.body_len && fread(h, 1, 2, f) == 2) {
        size_t len = (size_t)h[0] << 8 | h[1];
        if (len > 65534 - 8) {
            fprintf(stderr, "seqcast-order: %s: order %zu is %zu bytes (at most 65526)\n",
                    path, n + 1, len);
            return -1;
        }
        while (used + len > cap)
            a.body = realloc(a.body, cap *= 2);
        if (n == ncap) {
            ncap *= 2;
            a.body_off = realloc(a.body_off, ncap * sizeof(uint64_t));
            a.body_len = realloc(a.body_len, ncap * sizeof(uint16_t));
        }
        if (!a.body || !a.body_off || !a.body_len || fread(a.body + used, 1, len, f) != len) {
            fprintf(stderr, "seqcast-order: %s: truncated after %zu orders\n", path, n);
            return -1;
        }
        a.body_off[n] = used;
        a.body_len[n++] = (uint16_t)len;
        used += len;
    }
    if (f != stdin)
        fclose(f);
    a.n = n;
    return n ? 0 : -1;
}

static void
on_event(void *ctx, enum sc_ocli_event ev, uint64_t arg)
{
    (void)ctx;
    switch (ev) {
    case SC_OCLI_LOGGED_IN:
        /* arg is where the stream starts (what we asked for), not the server's head:
         * SoupBinTCP never says how far the replay goes. So unacknowledged orders are
         * resent at once; the gateway recognises an order id it has acknowledged and
         * does not acknowledge it twice (its ack arrives in the replay). */
        a.caught_up_at = arg;
        a.resend_pending = true;
        break;
    case SC_OCLI_REJECTED:
        fprintf(stderr, "seqcast-order: login rejected (%s)\n",
                arg == 'A' ? "not authorized" : "no such session");
        a.rejected = true;
        break;
    case SC_OCLI_END_OF_SESSION:
        fprintf(stderr, "seqcast-order: the server ended the session\n");
        a.ended = true;
        break;
    case SC_OCLI_DISCONNECTED:
        fprintf(stderr, "seqcast-order: disconnected (%s); reconnecting\n",
                arg == 1 ? "timeout" : arg == 2 ? "protocol error" : "peer closed");
        break;
    case SC_OCLI_GAP:
        fprintf(stderr, "seqcast-order: the server no longer has messages from %llu\n",
                (unsigned long long)arg);
        break;
    case SC_OCLI_REWOUND:
        fprintf(stderr, "seqcast-order: the server lost messages it had sent us (its journal was "
                        "repaired or replaced): it resumes at %llu\n", (unsigned long long)arg);
        break;
    }
}

static int
send_order(struct sc_ocli *cli, uint8_t *order, uint64_t id)
{
    int rc = sc_ocli_send(cli, order, build(order, id), now_cached);

    if (rc == 0)
        a.tx_ns[id] = now_cached;
    return rc;
}

/* Orders unacknowledged --resend-after after they were (last) sent go again:
 * an acknowledgement the gateway could not journal never comes otherwise. The
 * gateway acknowledges an order id once, so a resend of one merely slow is
 * only counted there. Orders go out in id order, so the scan stops at the
 * first one too young. */
static void
resend_overdue(struct sc_ocli *cli, uint8_t *order, uint64_t next_id)
{
    while (a.oldest < next_id && a.acked[a.oldest])
        a.oldest++;
    for (uint64_t id = a.oldest; id < next_id; id++) {
        uint64_t first = a.sent_ns[id] ? a.sent_ns[id] : a.tx_ns[id];
        if (a.acked[id])
            continue;
        if (first + a.resend_after_ns > now_cached)
            break;
        if (a.tx_ns[id] + a.resend_after_ns <= now_cached) {
            if (send_order(cli, order, id) < 0)
                break;
            a.resent_unacked++;
        }
    }
}

static int
cmp64(const void *x, const void *y)
{
    uint64_t p = *(const uint64_t *)x, q = *(const uint64_t *)y;
    return p < q ? -1 : p > q;
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: seqcast-order --config FILE [--session NAME] (--count N | --input FILE)\n"
            "                     [--rate R] [--size B] [--print] [--spin]\n"
            "\n"
            "Sends orders (unsequenced SoupBinTCP messages starting with an 8-byte big-endian\n"
            "order id) to seqcast-orderd and waits for each acknowledgement.\n"
            "Keeps reconnecting and resuming until every order is acknowledged, then prints a\n"
            "JSON summary (sent, acknowledged, duplicates, reconnects, round trips) and exits 0;\n"
            "1 if the timeout passes first or the login is rejected.\n"
            "\n"
            "  -c, --config FILE     the deployment (sessions: connect, login, heartbeat, ...)\n"
            "  -s, --session NAME    the session (default: the first with a connect address)\n"
            "  -n, --count N         N generated orders (the id, padded to --size bytes)\n"
            "  -i, --input FILE      orders from FILE ('-' = stdin), 2-byte big-endian length +\n"
            "                        bytes each; each is sent as its 8-byte id + those bytes\n"
            "  -p, --print           print each acknowledgement (sequence, order id, round trip)\n"
            "  -r, --rate R          orders per second (default 0 = one at a time, ping-pong)\n"
            "  -b, --size BYTES      order size (default 32, at least 8)\n"
            "  -t, --timeout SECONDS give up after this long (default 120)\n"
            "      --resend-after SECONDS\n"
            "                        resend an order unacknowledged this long after it was sent\n"
            "                        (default 0.5; 0 = only after a reconnect). The gateway\n"
            "                        acknowledges an order id once, so an ack that is merely\n"
            "                        slow costs a duplicate it counts; one it could not journal\n"
            "                        (a full disk) arrives once the resend is journaled\n"
            "      --spin            busy-poll the socket instead of sleeping in poll() while\n"
            "                        waiting for an acknowledgement (lower latency, a whole core)\n"
            "      --set KEY=VALUE   override a key, e.g. sessions.ouch.heartbeat=200ms\n"
            "  -h, --help            this text\n");
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
                                           { "session", required_argument, NULL, 's' },
                                           { "count", required_argument, NULL, 'n' },
                                           { "rate", required_argument, NULL, 'r' },
                                           { "size", required_argument, NULL, 'b' },
                                           { "timeout", required_argument, NULL, 't' },
                                           { "set", required_argument, NULL, 'S' },
                                           { "input", required_argument, NULL, 'i' },
                                           { "print", no_argument, NULL, 'p' },
                                           { "spin", no_argument, NULL, 'P' },
                                           { "resend-after", required_argument, NULL, 'A' },
                                           { "help", no_argument, NULL, 'h' },
                                           { NULL, 0, NULL, 0 } };
    static struct sc_config cfg;
    static uint8_t order[65536];
    const char *config = NULL, *session = NULL, *sets[64], *input = NULL;
    double rate = 0, timeout = 120, resend_after = 0.5;
    int nsets = 0, c;
    bool spin = false;
    struct sc_ocli *cli;
    struct sc_ocli_stats st;
    struct sc_err err;
    uint64_t t0, end, next_id = 0;

    a.size = 32;
    while ((c = getopt_long(argc, argv, "c:s:n:r:b:t:i:ph", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 's': session = optarg; break;
        case 'n': a.n = strtoull(optarg, NULL, 10); break;
        case 'r': rate = strtod(optarg, NULL); break;
        case 'b': a.size = strtoul(optarg, NULL, 10); break;
        case 't': timeout = strtod(optarg, NULL); break;
        case 'S': if (nsets < 64) sets[nsets++] = optarg; break;
        case 'i': input = optarg; break;
        case 'p': a.print = true; break;
        case 'P': spin = true; break;
        case 'A': resend_after = strtod(optarg, NULL); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (input && load(input) < 0)
        return 1;
    if (!config || !a.n || a.size < 8 || a.size > 65534) {
        fprintf(stderr, "seqcast-order: %s\n", !config ? "--config FILE is required"
                                               : !a.n  ? "--count N or --input FILE is required"
                                                       : "--size: 8 to 65534 bytes");
        return 2;
    }
    if (sc_config_load_file(&cfg, config, &err) < 0) {
        fprintf(stderr, "seqcast-order: %s\n", err.msg);
        return 1;
    }
    for (int i = 0; i < nsets; i++)
        if (sc_config_set(&cfg, sets[i], &err) < 0) {
            fprintf(stderr, "seqcast-order: %s\n", err.msg);
            return 1;
        }
    if (resend_after < 0) {
        fprintf(stderr, "seqcast-order: --resend-after: seconds, 0 or more\n");
        return 2;
    }
    a.resend_after_ns = (uint64_t)(resend_after * 1e9);
    a.sent_ns = calloc(a.n, sizeof(uint64_t));
    a.tx_ns = calloc(a.n, sizeof(uint64_t));
    a.acked = calloc(a.n, 1);
    a.rtt = calloc(a.n, sizeof(uint64_t));
    if (!a.sent_ns || !a.tx_ns || !a.acked || !a.rtt)
        return 1;
    /* resume from sequence 1: the replay tells a restarted client what was acknowledged */
    if (sc_ocli_create(&cli, &cfg, session, 1, on_msg, on_event, NULL, &err) < 0) {
        fprintf(stderr, "seqcast-order: %s\n", err.msg);
        return 1;
    }
    sc_cli_signals();
    t0 = now_cached = sc_clock_ns();
    end = t0 + (uint64_t)(timeout * 1e9);
    while (!sc_cli_stop && !a.rejected && !a.ended && a.nacked < a.n && now_cached < end) {
        struct pollfd p = { .fd = sc_ocli_fd(cli), .events = POLLIN };
        sc_ocli_do_work(cli, now_cached);
        now_cached = sc_clock_ns();
        sc_ocli_get_stats(cli, &st);
        if (sc_ocli_logged_in(cli) && a.resend_pending && st.next_seq >= a.caught_up_at) {
            a.resend_pending = false; /* resend what is unacknowledged (see on_event) */
            for (uint64_t id = 0; id < next_id; id++)
                if (!a.acked[id] && send_order(cli, order, id) == 0)
                    a.resent++;
            /* a restarted client: its earlier incarnation sent up to the highest acked id */
            while (next_id < a.n && a.acked[next_id])
                next_id++;
        }
        if (sc_ocli_logged_in(cli) && !a.resend_pending && next_id < a.n) {
            uint64_t due = rate > 0 ? (uint64_t)((double)(now_cached - t0) * rate / 1e9) + 1
                                    : a.nacked + 1; /* ping-pong: one in flight */
            while (next_id < a.n && next_id < due && (rate > 0 || next_id == a.nacked)) {
                if (a.acked[next_id]) {
                    next_id++;
                    continue;
                }
                if (send_order(cli, order, next_id) < 0)
                    break;
                a.sent_ns[next_id] = now_cached;
                a.sent++;
                next_id++;
            }
        }
        if (sc_ocli_logged_in(cli) && !a.resend_pending && a.resend_after_ns)
            resend_overdue(cli, order, next_id);
        if (sc_ocli_logged_in(cli))
            sc_ocli_flush(cli, now_cached); /* one send, no read */
        /* wait for the acknowledgement (1 ms: heartbeats) -- sleeping in the read itself */
        if (p.fd >= 0 && rate == 0 && a.nacked < a.n && (spin || sc_ocli_wait(cli, 1000000) < 0))
            poll(&p, 1, spin ? 0 : 1);
        else if (p.fd < 0)
            usleep(1000);
        now_cached = sc_clock_ns();
    }
    sc_ocli_get_stats(cli, &st);
    qsort(a.rtt, a.nrtt, sizeof(uint64_t), cmp64);
#define PCT(q) (a.nrtt ? (double)a.rtt[(uint64_t)((double)(a.nrtt - 1) * (q))] / 1000.0 : 0.0)
    printf("{\"seqcast-order\": {\"complete\": %s, \"orders\": %llu, \"sent\": %llu, "
           "\"resent\": %llu, \"resent_unacked\": %llu, \"acknowledged\": %llu, \"duplicate_acks\": %llu, "
           "\"out_of_order\": %llu, \"reconnects\": %llu, \"logins\": %llu, \"seconds\": %.3f, "
           "\"rtt_us\": {\"n\": %llu, \"p50\": %.1f, \"p99\": %.1f, \"p999\": %.1f, \"max\": %.1f}}}\n",
           a.nacked == a.n && !a.dup_acks && !a.out_of_order ? "true" : "false",
           (unsigned long long)a.n, (unsigned long long)a.sent, (unsigned long long)a.resent, (unsigned long long)a.resent_unacked,
           (unsigned long long)a.nacked, (unsigned long long)a.dup_acks,
           (unsigned long long)a.out_of_order, (unsigned long long)(st.logins ? st.logins - 1 : 0),
           (unsigned long long)st.logins, (double)(now_cached - t0) / 1e9,
           (unsigned long long)a.nrtt, PCT(0.5), PCT(0.99), PCT(0.999),
           a.nrtt ? (double)a.rtt[a.nrtt - 1] / 1000.0 : 0.0);
    sc_ocli_logout(cli, now_cached);
    sc_ocli_destroy(cli);
    return a.nacked == a.n && !a.dup_acks && !a.out_of_order ? 0 : 1;
}
