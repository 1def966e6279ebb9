/* mold_peer: an independent MoldUDP64 1.00 listener and publisher/re-request
 * server, for interop tests against seqcast's native MoldUDP64 channels.
 *
 * Written from the protocol text only (NASDAQ MoldUDP64 1.00 as restated in
 * the project's wire references), sharing no code with seqcast: libc and POSIX
 * sockets, plus three Linux socket options (IP_PKTINFO, IP_MULTICAST_ALL,
 * SO_RXQ_OVFL). Its value is that it shares no misreading with ours.
 *
 * ---------------------------------------------------------------- command lines
 *
 *   mold_peer listen --group G:PORT --interface ADDR --server ADDR:PORT
 *                    [--session S] [--count N] [--output FILE] [--timeout SECONDS]
 *                    [--start first|SEQ] [--request-max K] [--retry-ms MS]
 *                    [--inflight R] [--window MSGS] [--reply-socket same|own]
 *                    [--drop-pct P] [--seed X]
 *
 *   mold_peer serve  --group G:PORT --interface ADDR --listen ADDR:PORT --session S
 *                    --input FILE [--rate MSGS_PER_S] [--first-seq N] [--mtu BYTES]
 *                    [--heartbeat-ms MS] [--linger SECONDS] [--eos-seconds SECONDS]
 *                    [--max-request K] [--drop-pct P] [--seed X]
 *
 *   mold_peer gen    --count N --output FILE [--seed X] [--max-size BYTES]
 *
 * Message files (--input, --output, gen) hold each message as a 2-byte
 * big-endian length followed by its bytes: the framing seqcast-pub --input
 * reads and seqcast-sub --output writes.
 *
 * --session S: up to 10 characters, left-justified and padded on the right
 * with spaces to the 10 bytes of the wire field; pass all 10 to be exact.
 * Sessions are compared as 10 opaque bytes.
 *
 * Both modes print one JSON object on stdout at the end ("key": value, one
 * line), and diagnostics on stderr. Exit status: 0 success; 1 listen ended
 * incomplete (timeout, or End of Session / --count reached with messages
 * missing); 2 usage or set-up error.
 *
 * ---------------------------------------------------------------- listen
 *
 * Joins G on ADDR (bound to INADDR_ANY:PORT with IP_MULTICAST_ALL off, so only
 * this group's datagrams and unicast to PORT arrive). Locks onto --session, or
 * else the session of the first well-formed packet; other sessions are counted
 * and ignored. At lock, `next` (the first sequence wanted) is --start SEQ, or,
 * with --start first (default), the sequence of that first packet (a data
 * packet's first message, or a heartbeat's / End of Session's next sequence).
 * `--start 1` makes a late joiner backfill the whole session by re-requests.
 *
 * Requests leave, by default (--reply-socket same), from the socket that
 * receives the multicast, so the server's unicast answers arrive on it mixed
 * with live data (IP_PKTINFO tells them apart, for the counters only: both are
 * handled alike, de-duplicated by sequence). That is the spec's own set-up;
 * but two listeners on one host bound to the same PORT would share unicast
 * answers at the kernel's whim, so --reply-socket own sends requests from a
 * second socket bound to ADDR:ephemeral, where the answers then arrive.
 *
 * State, per the locked session (all sequence numbers):
 *
 *        delivered          [next ........ next+W)  window (ring of W slots)
 *     ----------------|-----+--+---+----+----+--|------------------------->
 *                     next  ^present  ^missing   high = highest "next" any
 *                           (buffered)           packet implied (data seq+count,
 *                                                heartbeat/EOS seq)
 *   - a message with seq < next, or already buffered, is a duplicate (counted,
 *     dropped); seq == next is delivered, then every buffered successor;
 *     seq >= next+W is dropped (counted "beyond_window") and asked for later.
 *   - a gap is seen when a data packet starts above `high`, or a heartbeat or
 *     End of Session carries a sequence above `high`; everything missing in
 *     [next, high) is wanted.
 *   - requests: a table of at most R outstanding ranges [start, end), each at
 *     most K (--request-max) messages, never beyond next+W nor beyond what
 *     --count still needs. Invariant: every missing sequence below `req_hi` lies
 *     in an outstanding range; new ranges are cut from the missing sequences
 *     at and above req_hi. A range's start moves past sequences that arrived;
 *     if it moved (the server answered part of it: an answer holds only what
 *     fits one datagram) the rest is asked for at once; if nothing arrived for
 *     --retry-ms the same range is asked for again (no limit: the run's
 *     --timeout bounds it). A range is retired when all of it arrived.
 *   - ends when --count messages were delivered, or End of Session arrived and
 *     every message before its sequence was delivered, or at --timeout (or
 *     SIGINT/SIGTERM). The summary lists the missing ranges (inclusive) still
 *     open at the end: in [next, start + N) with --count N, else in
 *     [next, max(high, End of Session's sequence)).
 *
 * --drop-pct P --seed X discards P % of received downstream packets (live and
 * answers alike, chosen by a seeded generator) before looking at them, so the
 * repair path runs even on a clean network.
 *
 * Defaults: --timeout 60, --start first, --request-max 1000, --retry-ms 100,
 * --inflight 32, --window 131072, --reply-socket same.
 *
 * Answers are accepted from any source address (a request's answer is
 * recognised by its sequence numbers, not by who sent it).
 *
 * Summary keys: session, messages, first_seq, last_seq, next_seq, high_seq,
 * data_packets (live, to the group), responses (unicast answers),
 * response_messages, heartbeats, eos_packets, gaps (of which found by a
 * heartbeat: gaps_heartbeat, by End of Session: gaps_eos), gap_messages,
 * requests_sent (every request datagram, retries included), request_retries,
 * request_continuations, duplicates, beyond_window, before_start, malformed, other_session,
 * dropped_on_purpose, socket_drops (the kernel's, SO_RXQ_OVFL), elapsed_ms,
 * lost_ranges (up to 32 [first, last] pairs), lost_ranges_total,
 * lost_messages, reason (count|eos|timeout|signal), complete (true|false).
 *
 * ---------------------------------------------------------------- serve
 *
 * Loads --input, then sends its messages to G (IP_MULTICAST_IF ADDR, TTL 1,
 * loopback on) from a socket bound to --listen, numbered from --first-seq
 * (default 1). Every 1 ms tick it sends the messages --rate allows by then
 * (all of them when --rate is 0, the default), packed in downstream packets
 * filled up to the MTU (payload = --mtu - 28 bytes, default 1500; a message
 * too big for that goes alone in a larger datagram, counted as oversize). When
 * no multicast went out for --heartbeat-ms (default 1000) it sends a heartbeat
 * (count 0, next sequence). After the last message: heartbeats for --linger
 * seconds (default 1), then End of Session (count 0xFFFF, next sequence) at
 * once and every --heartbeat-ms for --eos-seconds (default 3), then exits (or
 * at SIGINT/SIGTERM, summary printed all the same). On stderr it prints
 * "mold_peer serve: all N messages sent" when the last one left (tests wait
 * for it).
 *
 * Requests arrive on --listen during all of that and are answered from the
 * full history, by unicast from that socket to the request's source IP:port,
 * with one downstream packet starting at the requested sequence, holding the
 * messages that fit one MTU (at least one), never more than asked nor beyond
 * what was sent. Ignored, each under its own counter: a datagram that is not
 * 20 bytes, another session, sequence 0, count 0, count above --max-request
 * (default 65535: none), sequence before --first-seq (not held), sequence not
 * sent yet. --drop-pct P --seed X withholds P % of its own multicast packets
 * (data, heartbeat, End of Session), never an answer.
 *
 * Summary keys: session, first_seq, next_seq, messages, data_packets,
 * heartbeats, eos_packets, dropped_on_purpose, oversize_packets, send_errors,
 * requests_received, requests_answered, answers_short, messages_retransmitted,
 * ignored_length, ignored_session, ignored_seq_zero, ignored_count_zero,
 * ignored_over_max, ignored_not_held, ignored_not_sent, ignored_total.
 *
 * ---------------------------------------------------------------- gen
 *
 * Writes N deterministic messages of mixed sizes (0.5 % empty, 69.5 % 12-50
 * bytes, 25 % 51-300, 5 % 301-max, max default 1400): first byte a letter,
 * then the message's index (8 bytes, when it fits), then seeded bytes.
 *
 * ---------------------------------------------------------------- interop use
 *
 * tests/interop/moldpeer.sh runs it against itself in two namespaces
 * (scripts/netns.sh: ${NS}a 198.18.21.1, ${NS}b 198.18.21.2). Against seqcast,
 * the same shapes with one side replaced, e.g. (group 239.198.18.41:36001,
 * re-request server 198.18.21.1:36101):
 *
 *   seqcast publisher -> this listener, in ${NS}b:
 *     mold_peer listen --group 239.198.18.41:36001 --interface 198.18.21.2 \
 *         --server 198.18.21.1:36101 --session MOLDTEST01 --start 1 \
 *         --count N --output out.bin --timeout 60
 *   this server -> seqcast subscriber, in ${NS}a:
 *     mold_peer serve --group 239.198.18.41:36001 --interface 198.18.21.1 \
 *         --listen 198.18.21.1:36101 --session MOLDTEST01 --input in.bin \
 *         --rate 50000 --drop-pct 1 --seed 7 --heartbeat-ms 100 --linger 1 \
 *         --eos-seconds 3
 *
 * then `cmp` the input with the output, and read the JSON counters.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MOLD_HDR 20
#define MOLD_SESSION 10
#define MOLD_EOS 0xFFFFu
#define MOLD_MAX_BLOCKS 65534u
#define IP_UDP_OVERHEAD 28
#define UDP_MAX_PAYLOAD 65507
#define MAX_RANGES_SHOWN 32

/* ---------------------------------------------------------------- helpers */

/* SIGINT / SIGTERM: both modes stop, print their summary and exit */
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void
catch_signals(void)
{
    struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: ppoll returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static _Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mold_peer: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t
get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* splitmix64: the seeded generator behind --drop-pct and gen */
static uint64_t
rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* true for pct % of calls */
static bool
chance(uint64_t *s, double pct)
{
    if (pct <= 0)
        return false;
    return (double)(rnd(s) >> 11) * (100.0 / 9007199254740992.0) < pct;
}

static void
parse_addr(const char *arg, struct sockaddr_in *sa, bool need_port, const char *what)
{
    char host[64];
    const char *colon = strrchr(arg, ':');
    size_t hl = colon ? (size_t)(colon - arg) : strlen(arg);
    unsigned long port = 0;

    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    if (hl >= sizeof(host))
        die("%s: bad address '%s'", what, arg);
    memcpy(host, arg, hl);
    host[hl] = 0;
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        die("%s: bad IPv4 address '%s'", what, arg);
    if (colon) {
        char *end;
        port = strtoul(colon + 1, &end, 10);
        if (*end || port == 0 || port > 65535)
            die("%s: bad port in '%s'", what, arg);
    } else if (need_port) {
        die("%s: '%s' needs :PORT", what, arg);
    }
    sa->sin_port = htons((uint16_t)port);
}

static uint64_t
parse_u64(const char *s, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || !*s || *s == '-')
        die("%s: bad number '%s'", what, s);
    return v;
}

static double
parse_num(const char *s, const char *what)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || !*s || !(v >= 0))
        die("%s: bad number '%s'", what, s);
    return v;
}

/* 10-byte session field: left-justified, space-padded */
static void
parse_session(const char *s, uint8_t out[MOLD_SESSION])
{
    size_t n = strlen(s);
    if (n > MOLD_SESSION)
        die("--session: '%s' is longer than %d characters", s, MOLD_SESSION);
    memset(out, ' ', MOLD_SESSION);
    memcpy(out, s, n);
}

static void
json_session(const uint8_t *s, bool have)
{
    printf("\"session\": \"");
    for (int i = 0; have && i < MOLD_SESSION; i++) {
        if (s[i] == '"' || s[i] == '\\')
            printf("\\%c", s[i]);
        else if (s[i] < 0x20 || s[i] >= 0x7f)
            printf("\\u%04x", s[i]);
        else
            putchar(s[i]);
    }
    printf("\"");
}

static void
set_int(int fd, int level, int opt, int v, const char *what)
{
    if (setsockopt(fd, level, opt, &v, sizeof(v)) < 0)
        die("setsockopt %s: %s", what, strerror(errno));
}

/* a large buffer: root may exceed rmem_max/wmem_max (the *FORCE options) */
static void
set_buf(int fd, int opt, int force_opt, int bytes)
{
    if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof(bytes)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
}

/* ---------------------------------------------------------------- options */

struct opts {
    const char *mode;
    struct sockaddr_in group, iface, server, listen;
    bool have_group, have_iface, have_server, have_listen;
    uint8_t session[MOLD_SESSION];
    bool have_session;
    uint64_t count;
    bool have_count;
    const char *output, *input;
    double timeout_s;
    bool start_first;
    uint64_t start_seq;
    uint64_t request_max, retry_ms, inflight, window;
    bool reply_own;
    double drop_pct;
    uint64_t seed;
    double rate;
    uint64_t first_seq, mtu, heartbeat_ms, max_request, max_size;
    double linger_s, eos_s;
};

static _Noreturn void
usage(void)
{
    fputs("usage:\n"
          "  mold_peer listen --group G:PORT --interface ADDR --server ADDR:PORT [--session S]\n"
          "                   [--count N] [--output FILE] [--timeout SECONDS] [--start first|SEQ]\n"
          "                   [--request-max K] [--retry-ms MS] [--inflight R] [--window MSGS]\n"
          "                   [--reply-socket same|own] [--drop-pct P] [--seed X]\n"
          "  mold_peer serve  --group G:PORT --interface ADDR --listen ADDR:PORT --session S\n"
          "                   --input FILE [--rate MSGS_PER_S] [--first-seq N] [--mtu BYTES]\n"
          "                   [--heartbeat-ms MS] [--linger SECONDS] [--eos-seconds SECONDS]\n"
          "                   [--max-request K] [--drop-pct P] [--seed X]\n"
          "  mold_peer gen    --count N --output FILE [--seed X] [--max-size BYTES]\n",
          stderr);
    exit(2);
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){ .timeout_s = 60, .start_first = true, .request_max = 1000, .retry_ms = 100,
                        .inflight = 32, .window = 131072, .seed = 1, .first_seq = 1, .mtu = 1500,
                        .heartbeat_ms = 1000, .max_request = 65535, .max_size = 1400,
                        .linger_s = 1, .eos_s = 3 };
    if (argc < 2)
        usage();
    o->mode = argv[1];
    for (int i = 2; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            die("%s needs a value", k);
        if (!strcmp(k, "--group")) {
            parse_addr(v, &o->group, true, k);
            if (!IN_MULTICAST(ntohl(o->group.sin_addr.s_addr)))
                die("--group: %s is not a multicast address", v);
            o->have_group = true;
        } else if (!strcmp(k, "--interface")) {
            parse_addr(v, &o->iface, false, k);
            o->have_iface = true;
        } else if (!strcmp(k, "--server")) {
            parse_addr(v, &o->server, true, k);
            o->have_server = true;
        } else if (!strcmp(k, "--listen")) {
            parse_addr(v, &o->listen, true, k);
            o->have_listen = true;
        } else if (!strcmp(k, "--session")) {
            parse_session(v, o->session);
            o->have_session = true;
        } else if (!strcmp(k, "--count")) {
            o->count = parse_u64(v, k);
            o->have_count = true;
        } else if (!strcmp(k, "--output")) {
            o->output = v;
        } else if (!strcmp(k, "--input")) {
            o->input = v;
        } else if (!strcmp(k, "--timeout")) {
            o->timeout_s = parse_num(v, k);
        } else if (!strcmp(k, "--start")) {
            o->start_first = !strcmp(v, "first");
            if (!o->start_first)
                o->start_seq = parse_u64(v, k);
        } else if (!strcmp(k, "--request-max")) {
            o->request_max = parse_u64(v, k);
            if (o->request_max < 1 || o->request_max > 65535)
                die("--request-max: 1..65535");
        } else if (!strcmp(k, "--retry-ms")) {
            o->retry_ms = parse_u64(v, k);
        } else if (!strcmp(k, "--inflight")) {
            o->inflight = parse_u64(v, k);
            if (o->inflight < 1 || o->inflight > 4096)
                die("--inflight: 1..4096");
        } else if (!strcmp(k, "--window")) {
            o->window = parse_u64(v, k);
            if (o->window < 1 || o->window > (1u << 26))
                die("--window: 1..%u", 1u << 26);
        } else if (!strcmp(k, "--reply-socket")) {
            if (strcmp(v, "same") && strcmp(v, "own"))
                die("--reply-socket: same or own");
            o->reply_own = !strcmp(v, "own");
        } else if (!strcmp(k, "--drop-pct")) {
            o->drop_pct = parse_num(v, k);
            if (o->drop_pct > 100)
                die("--drop-pct: 0..100");
        } else if (!strcmp(k, "--seed")) {
            o->seed = parse_u64(v, k);
        } else if (!strcmp(k, "--rate")) {
            o->rate = parse_num(v, k);
        } else if (!strcmp(k, "--first-seq")) {
            o->first_seq = parse_u64(v, k);
            if (o->first_seq < 1 || o->first_seq > UINT64_MAX / 2)
                die("--first-seq: 1..2^63");
        } else if (!strcmp(k, "--mtu")) {
            o->mtu = parse_u64(v, k);
            if (o->mtu < IP_UDP_OVERHEAD + MOLD_HDR + 2 + 1 || o->mtu > 65535)
                die("--mtu: %d..65535", IP_UDP_OVERHEAD + MOLD_HDR + 3);
        } else if (!strcmp(k, "--heartbeat-ms")) {
            o->heartbeat_ms = parse_u64(v, k);
            if (o->heartbeat_ms < 1)
                die("--heartbeat-ms: at least 1");
        } else if (!strcmp(k, "--linger")) {
            o->linger_s = parse_num(v, k);
        } else if (!strcmp(k, "--eos-seconds")) {
            o->eos_s = parse_num(v, k);
        } else if (!strcmp(k, "--max-request")) {
            o->max_request = parse_u64(v, k);
        } else if (!strcmp(k, "--max-size")) {
            o->max_size = parse_u64(v, k);
            if (o->max_size > 65535)
                die("--max-size: 0..65535");
        } else {
            die("unknown option %s", k);
        }
    }
}

/* ---------------------------------------------------------------- gen */

static int
do_gen(const struct opts *o)
{
    uint64_t s = o->seed;
    FILE *f;
    static uint8_t m[65536];

    if (!o->have_count || !o->output)
        die("gen needs --count and --output");
    if (!(f = fopen(o->output, "wb")))
        die("%s: %s", o->output, strerror(errno));
    for (uint64_t i = 0; i < o->count; i++) {
        uint64_t r = rnd(&s) % 1000, len;
        uint64_t mx = o->max_size;
        if (r < 5)
            len = 0;
        else if (r < 700)
            len = 12 + rnd(&s) % 39;
        else if (r < 950)
            len = 51 + rnd(&s) % 250;
        else
            len = 301 + rnd(&s) % (mx > 301 ? mx - 300 : 1);
        if (len > mx)
            len = mx;
        for (uint64_t j = 0; j < len; j++)
            m[j] = (uint8_t)rnd(&s);
        if (len >= 1)
            m[0] = (uint8_t)('A' + i % 26);
        if (len >= 9)
            put64(m + 1, i);
        uint8_t h[2];
        put16(h, (uint16_t)len);
        if (fwrite(h, 1, 2, f) != 2 || fwrite(m, 1, len, f) != len)
            die("%s: write failed", o->output);
    }
    if (fclose(f))
        die("%s: %s", o->output, strerror(errno));
    return 0;
}

/* ---------------------------------------------------------------- serve */

struct input {
    uint8_t *bytes;
    size_t *off; /* of each message's data */
    uint16_t *len;
    uint64_t n;
};

static void
load_input(const char *path, struct input *in)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 1 << 20, size = 0, r;
    uint64_t ncap = 1024;

    if (!f)
        die("%s: %s", path, strerror(errno));
    in->bytes = malloc(cap);
    while (in->bytes && (r = fread(in->bytes + size, 1, cap - size, f)) > 0) {
        size += r;
        if (size == cap)
            in->bytes = realloc(in->bytes, cap *= 2);
    }
    if (!in->bytes || ferror(f))
        die("%s: read failed", path);
    fclose(f);
    in->off = malloc(ncap * sizeof(*in->off));
    in->len = malloc(ncap * sizeof(*in->len));
    in->n = 0;
    for (size_t p = 0; p < size;) {
        if (p + 2 > size)
            die("%s: truncated length at byte %zu", path, p);
        uint16_t l = get16(in->bytes + p);
        if (p + 2 + l > size)
            die("%s: message %" PRIu64 " truncated", path, in->n);
        if (MOLD_HDR + 2 + l > UDP_MAX_PAYLOAD)
            die("%s: message %" PRIu64 " (%u bytes) cannot fit one UDP datagram", path, in->n, l);
        if (in->n == ncap) {
            ncap *= 2;
            in->off = realloc(in->off, ncap * sizeof(*in->off));
            in->len = realloc(in->len, ncap * sizeof(*in->len));
        }
        if (!in->off || !in->len)
            die("out of memory");
        in->off[in->n] = p + 2;
        in->len[in->n] = l;
        in->n++;
        p += 2 + (size_t)l;
    }
}

struct server {
    const struct opts *o;
    int fd;
    struct input in;
    uint64_t sent; /* messages multicast so far: next sequence = first_seq + sent */
    size_t payload_max;
    uint64_t rng;
    uint8_t pkt[MOLD_HDR + 2 + 65535];
    /* counters */
    uint64_t data_packets, heartbeats, eos_packets, dropped, oversize, send_errors;
    uint64_t req_received, req_answered, answers_short, retransmitted;
    uint64_t ign_length, ign_session, ign_seq_zero, ign_count_zero, ign_over_max, ign_not_held,
        ign_not_sent;
};

/* Builds a downstream packet in s->pkt holding messages from input index idx,
 * at most max_count of them, as many as fit s->payload_max (at least one).
 * Returns the datagram length; *count gets the number of blocks. */
static size_t
pack(struct server *s, uint64_t idx, uint64_t max_count, unsigned *count)
{
    size_t len = MOLD_HDR;
    unsigned c = 0;

    if (max_count > MOLD_MAX_BLOCKS)
        max_count = MOLD_MAX_BLOCKS;
    memcpy(s->pkt, s->o->session, MOLD_SESSION);
    put64(s->pkt + 10, s->o->first_seq + idx);
    while (c < max_count && idx + c < s->in.n) {
        uint16_t l = s->in.len[idx + c];
        if (len + 2 + l > s->payload_max && c > 0)
            break;
        put16(s->pkt + len, l);
        memcpy(s->pkt + len + 2, s->in.bytes + s->in.off[idx + c], l);
        len += 2 + (size_t)l;
        c++;
    }
    put16(s->pkt + 18, (uint16_t)c);
    if (len > s->payload_max)
        s->oversize++;
    *count = c;
    return len;
}

static void
send_to(struct server *s, const void *buf, size_t len, const struct sockaddr_in *to)
{
    while (sendto(s->fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to)) < 0) {
        if (errno == EINTR)
            continue;
        s->send_errors++;
        break;
    }
}

/* multicast, subject to --drop-pct */
static void
send_group(struct server *s, const void *buf, size_t len)
{
    if (chance(&s->rng, s->o->drop_pct)) {
        s->dropped++;
        return;
    }
    send_to(s, buf, len, &s->o->group);
}

static void
send_empty(struct server *s, uint16_t count)
{
    uint8_t h[MOLD_HDR];
    memcpy(h, s->o->session, MOLD_SESSION);
    put64(h + 10, s->o->first_seq + s->sent);
    put16(h + 18, count);
    if (count == 0)
        s->heartbeats++;
    else
        s->eos_packets++;
    send_group(s, h, sizeof(h));
}

static void
send_data(struct server *s, uint64_t upto)
{
    while (s->sent < upto) {
        unsigned c;
        size_t len = pack(s, s->sent, upto - s->sent, &c);
        s->data_packets++;
        send_group(s, s->pkt, len);
        s->sent += c;
    }
}

static void
serve_requests(struct server *s)
{
    const struct opts *o = s->o;
    for (;;) {
        uint8_t rq[64];
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t r = recvfrom(s->fd, rq, sizeof(rq), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        s->req_received++;
        if (r != MOLD_HDR) {
            s->ign_length++;
            continue;
        }
        if (memcmp(rq, o->session, MOLD_SESSION)) {
            s->ign_session++;
            continue;
        }
        uint64_t seq = get64(rq + 10), cnt = get16(rq + 18);
        if (seq == 0) {
            s->ign_seq_zero++;
        } else if (cnt == 0) {
            s->ign_count_zero++;
        } else if (cnt > o->max_request) {
            s->ign_over_max++;
        } else if (seq < o->first_seq) {
            s->ign_not_held++;
        } else if (seq - o->first_seq >= s->sent) {
            s->ign_not_sent++;
        } else {
            uint64_t idx = seq - o->first_seq, avail = s->sent - idx;
            unsigned c;
            size_t len = pack(s, idx, cnt < avail ? cnt : avail, &c);
            send_to(s, s->pkt, len, &from); /* never dropped on purpose */
            s->req_answered++;
            s->retransmitted += c;
            if (c < cnt)
                s->answers_short++;
        }
    }
}

static void
wait_until(int fd, uint64_t deadline)
{
    uint64_t t = now_ns();
    struct pollfd p = { .fd = fd, .events = POLLIN };
    struct timespec ts = { 0, 0 };
    if (deadline > t) {
        ts.tv_sec = (time_t)((deadline - t) / 1000000000u);
        ts.tv_nsec = (long)((deadline - t) % 1000000000u);
    }
    (void)ppoll(&p, 1, &ts, NULL);
}

static int
do_serve(const struct opts *o)
{
    static struct server s;
    const uint64_t tick = 1000000, hb = o->heartbeat_ms * 1000000u;
    enum { DATA, LINGER, EOS } phase = DATA;

    if (!o->have_group || !o->have_iface || !o->have_listen || !o->have_session || !o->input)
        die("serve needs --group, --interface, --listen, --session and --input");
    s.o = o;
    s.rng = o->seed;
    s.payload_max = o->mtu - IP_UDP_OVERHEAD;
    load_input(o->input, &s.in);

    if ((s.fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
        die("socket: %s", strerror(errno));
    set_int(s.fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
    if (bind(s.fd, (const struct sockaddr *)&o->listen, sizeof(o->listen)) < 0)
        die("bind --listen: %s", strerror(errno));
    struct in_addr ifa = o->iface.sin_addr;
    if (setsockopt(s.fd, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof(ifa)) < 0)
        die("IP_MULTICAST_IF: %s", strerror(errno));
    set_int(s.fd, IPPROTO_IP, IP_MULTICAST_TTL, 1, "IP_MULTICAST_TTL");
    set_int(s.fd, IPPROTO_IP, IP_MULTICAST_LOOP, 1, "IP_MULTICAST_LOOP");
    set_buf(s.fd, SO_SNDBUF, SO_SNDBUFFORCE, 4 << 20);
    set_buf(s.fd, SO_RCVBUF, SO_RCVBUFFORCE, 4 << 20);

    uint64_t t0 = now_ns(), next_tick = t0, last_tx = t0, data_end = 0, next_eos = 0;
    uint64_t linger = (uint64_t)(o->linger_s * 1e9), eos_len = (uint64_t)(o->eos_s * 1e9);
    while (!stop) {
        uint64_t t = now_ns(), wake;
        if (phase == DATA && t >= next_tick) {
            uint64_t due = o->rate > 0 ? (uint64_t)((double)(t - t0) / 1e9 * o->rate) + 1 : s.in.n;
            if (due > s.in.n)
                due = s.in.n;
            if (due > s.sent) {
                send_data(&s, due);
                last_tx = t;
            }
            next_tick = t + tick;
            if (s.sent == s.in.n) {
                phase = LINGER;
                data_end = t;
                fprintf(stderr, "mold_peer serve: all %" PRIu64 " messages sent\n", s.in.n);
            }
        }
        if (phase == LINGER && t >= data_end + linger) {
            phase = EOS;
            next_eos = t;
        }
        if (phase == EOS) {
            if (t >= data_end + linger + eos_len && s.eos_packets > 0)
                break;
            if (t >= next_eos) {
                send_empty(&s, MOLD_EOS);
                next_eos = t + hb;
            }
            wake = next_eos < data_end + linger + eos_len ? next_eos : data_end + linger + eos_len;
        } else {
            if (t - last_tx >= hb) {
                send_empty(&s, 0);
                last_tx = t;
            }
            wake = last_tx + hb;
            if (phase == DATA && next_tick < wake)
                wake = next_tick;
            if (phase == LINGER && data_end + linger < wake)
                wake = data_end + linger;
        }
        wait_until(s.fd, wake);
        serve_requests(&s);
    }
    serve_requests(&s);

    uint64_t ign = s.ign_length + s.ign_session + s.ign_seq_zero + s.ign_count_zero +
                   s.ign_over_max + s.ign_not_held + s.ign_not_sent;
    printf("{\"mode\": \"serve\", ");
    json_session(o->session, true);
    printf(", \"first_seq\": %" PRIu64 ", \"next_seq\": %" PRIu64 ", \"messages\": %" PRIu64
           ", \"data_packets\": %" PRIu64 ", \"heartbeats\": %" PRIu64 ", \"eos_packets\": %" PRIu64
           ", \"dropped_on_purpose\": %" PRIu64 ", \"oversize_packets\": %" PRIu64
           ", \"send_errors\": %" PRIu64 ", \"requests_received\": %" PRIu64
           ", \"requests_answered\": %" PRIu64 ", \"answers_short\": %" PRIu64
           ", \"messages_retransmitted\": %" PRIu64 ", \"ignored_length\": %" PRIu64
           ", \"ignored_session\": %" PRIu64 ", \"ignored_seq_zero\": %" PRIu64
           ", \"ignored_count_zero\": %" PRIu64 ", \"ignored_over_max\": %" PRIu64
           ", \"ignored_not_held\": %" PRIu64 ", \"ignored_not_sent\": %" PRIu64
           ", \"ignored_total\": %" PRIu64 "}\n",
           o->first_seq, o->first_seq + s.sent, s.sent, s.data_packets, s.heartbeats,
           s.eos_packets, s.dropped, s.oversize, s.send_errors, s.req_received, s.req_answered,
           s.answers_short, s.retransmitted, s.ign_length, s.ign_session, s.ign_seq_zero,
           s.ign_count_zero, s.ign_over_max, s.ign_not_held, s.ign_not_sent, ign);
    return 0;
}

/* ---------------------------------------------------------------- listen */

struct slot {
    uint64_t seq;
    uint8_t *data;
    uint16_t len;
    bool full;
};

struct range {
    uint64_t start, end; /* [start, end) still wanted */
    uint64_t sent_ns;
};

struct listener {
    const struct opts *o;
    int fd, req_fd; /* req_fd == fd with --reply-socket same */
    FILE *out;
    uint64_t rng;
    uint8_t session[MOLD_SESSION];
    bool locked;
    uint64_t start, next, high, req_hi, want_end;
    bool eos;
    uint64_t eos_seq;
    struct slot *win;
    uint64_t w;
    struct range *req;
    uint64_t nreq;
    /* counters */
    uint64_t delivered, first_seq, last_seq, data_packets, responses, response_msgs, heartbeats,
        eos_packets, gaps, gaps_heartbeat, gaps_eos, gap_msgs, requests, retries, continuations,
        dups, beyond, before_start,
        malformed, other_session, dropped, socket_drops;
};

static bool
present(const struct listener *l, uint64_t seq)
{
    const struct slot *sl = &l->win[seq % l->w];
    return seq < l->next || (sl->full && sl->seq == seq);
}

static bool
done(const struct listener *l)
{
    return l->o->have_count && l->delivered >= l->o->count;
}

static void
deliver(struct listener *l, uint64_t seq, const uint8_t *p, uint16_t len)
{
    if (l->out) {
        uint8_t h[2];
        put16(h, len);
        if (fwrite(h, 1, 2, l->out) != 2 || fwrite(p, 1, len, l->out) != len)
            die("%s: write failed", l->o->output);
    }
    if (l->delivered++ == 0)
        l->first_seq = seq;
    l->last_seq = seq;
    l->next = seq + 1;
}

/* one message block, sequence seq, from any downstream packet */
static void
on_message(struct listener *l, uint64_t seq, const uint8_t *p, uint16_t len)
{
    if (done(l))
        return;
    if (seq < l->start) {
        l->before_start++;
        return;
    }
    if (seq < l->next) {
        l->dups++;
        return;
    }
    if (seq == l->next) {
        deliver(l, seq, p, len);
        for (struct slot *sl = &l->win[l->next % l->w]; !done(l) && sl->full && sl->seq == l->next;
             sl = &l->win[l->next % l->w]) {
            deliver(l, sl->seq, sl->data, sl->len);
            free(sl->data);
            sl->data = NULL;
            sl->full = false;
        }
        return;
    }
    if (seq - l->next >= l->w) {
        l->beyond++;
        return;
    }
    struct slot *sl = &l->win[seq % l->w];
    if (sl->full) { /* window invariant: a full slot holds a sequence in [next, next+W) */
        l->dups++;
        return;
    }
    sl->data = malloc(len ? len : 1);
    if (!sl->data)
        die("out of memory");
    memcpy(sl->data, p, len);
    sl->len = len;
    sl->seq = seq;
    sl->full = true;
}

/* A packet told us messages exist below h; a gap when its first sequence is
 * above high. Returns whether it found one. */
static bool
saw_high(struct listener *l, uint64_t first, uint64_t h)
{
    bool gap = first > l->high;
    if (gap) {
        l->gaps++;
        l->gap_msgs += first - l->high;
    }
    if (h > l->high)
        l->high = h;
    return gap;
}

static void
send_request(struct listener *l, struct range *r, uint64_t t)
{
    uint8_t q[MOLD_HDR];
    uint64_t n = r->end - r->start;
    memcpy(q, l->session, MOLD_SESSION);
    put64(q + 10, r->start);
    put16(q + 18, (uint16_t)n);
    while (sendto(l->req_fd, q, sizeof(q), 0, (const struct sockaddr *)&l->o->server,
                  sizeof(l->o->server)) < 0 && errno == EINTR)
        ;
    r->sent_ns = t;
    l->requests++;
}

/* Trims, retries and retires outstanding ranges, then cuts new ones from the
 * missing sequences at and above req_hi (see the diagram in the header). */
static void
manage_requests(struct listener *l, uint64_t t)
{
    const uint64_t retry = l->o->retry_ms * 1000000u;
    uint64_t limit;

    for (uint64_t i = 0; i < l->nreq;) {
        struct range *r = &l->req[i];
        uint64_t old = r->start;
        while (r->start < r->end && present(l, r->start))
            r->start++;
        if (r->start >= r->end) {
            l->req[i] = l->req[--l->nreq];
            continue;
        }
        if (r->start != old) {
            send_request(l, r, t);
            l->continuations++;
        } else if (t - r->sent_ns >= retry) {
            send_request(l, r, t);
            l->retries++;
        }
        i++;
    }
    if (l->req_hi < l->next)
        l->req_hi = l->next;
    limit = l->high;
    if (limit > l->next + l->w)
        limit = l->next + l->w;
    if (limit > l->want_end)
        limit = l->want_end;
    while (l->req_hi < limit && l->nreq < l->o->inflight) {
        if (present(l, l->req_hi)) {
            l->req_hi++;
            continue;
        }
        struct range *r = &l->req[l->nreq++];
        r->start = r->end = l->req_hi;
        while (r->end < limit && r->end - r->start < l->o->request_max && !present(l, r->end))
            r->end++;
        l->req_hi = r->end;
        send_request(l, r, t);
    }
}

static void
on_packet(struct listener *l, const uint8_t *b, size_t n, bool mcast)
{
    const struct opts *o = l->o;
    if (chance(&l->rng, o->drop_pct)) {
        l->dropped++;
        return;
    }
    if (n < MOLD_HDR) {
        l->malformed++;
        return;
    }
    uint64_t seq = get64(b + 10);
    unsigned count = get16(b + 18);
    if (count == 0 || count == MOLD_EOS) {
        if (n != MOLD_HDR) {
            l->malformed++;
            return;
        }
    } else {
        size_t p = MOLD_HDR;
        for (unsigned i = 0; i < count; i++) {
            if (p + 2 > n || p + 2 + get16(b + p) > n) {
                l->malformed++;
                return;
            }
            p += 2 + (size_t)get16(b + p);
        }
        if (p != n || seq > UINT64_MAX - count) {
            l->malformed++;
            return;
        }
    }
    if (!l->locked) {
        if (o->have_session && memcmp(b, o->session, MOLD_SESSION)) {
            l->other_session++;
            return;
        }
        memcpy(l->session, b, MOLD_SESSION);
        l->locked = true;
        l->start = l->next = l->high = l->req_hi = o->start_first ? seq : o->start_seq;
        l->want_end = o->have_count ? l->start + o->count : UINT64_MAX;
    } else if (memcmp(b, l->session, MOLD_SESSION)) {
        l->other_session++;
        return;
    }
    if (count == 0) {
        l->heartbeats++;
        l->gaps_heartbeat += saw_high(l, seq, seq);
    } else if (count == MOLD_EOS) {
        l->eos_packets++;
        l->gaps_eos += saw_high(l, seq, seq);
        l->eos = true;
        l->eos_seq = seq;
    } else {
        if (mcast) {
            l->data_packets++;
        } else {
            l->responses++;
            l->response_msgs += count;
        }
        saw_high(l, seq, seq + count);
        size_t p = MOLD_HDR;
        for (unsigned i = 0; i < count; i++) {
            uint16_t len = get16(b + p);
            on_message(l, seq + i, b + p + 2, len);
            p += 2 + (size_t)len;
        }
    }
}

/* receives one datagram; *mcast: its destination address was a group */
static ssize_t
recv_one(struct listener *l, int fd, uint8_t *buf, size_t cap, bool *mcast)
{
    struct iovec iov = { .iov_base = buf, .iov_len = cap };
    union {
        char b[CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(uint32_t))];
        struct cmsghdr align;
    } c;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b,
                         .msg_controllen = sizeof(c.b) };
    ssize_t r;

    while ((r = recvmsg(fd, &mh, MSG_DONTWAIT)) < 0 && errno == EINTR)
        ;
    if (r < 0)
        return -1;
    *mcast = false;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
            *mcast = IN_MULTICAST(ntohl(pi.ipi_addr.s_addr));
        } else if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
            uint32_t d;
            memcpy(&d, CMSG_DATA(cm), sizeof(d));
            l->socket_drops = d; /* the socket's running total */
        }
    }
    if (mh.msg_flags & MSG_TRUNC)
        r = 0; /* cannot happen with a 64 KiB buffer; counted malformed */
    return r;
}

static int
open_listen_socket(const struct opts *o)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = o->group.sin_port,
                               .sin_addr.s_addr = htonl(INADDR_ANY) };
    struct ip_mreq mr = { .imr_multiaddr = o->group.sin_addr, .imr_interface = o->iface.sin_addr };

    if (fd < 0)
        die("socket: %s", strerror(errno));
    set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
    set_buf(fd, SO_RCVBUF, SO_RCVBUFFORCE, 16 << 20);
    if (bind(fd, (const struct sockaddr *)&any, sizeof(any)) < 0)
        die("bind *:%u: %s", ntohs(o->group.sin_port), strerror(errno));
    if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
        die("IP_ADD_MEMBERSHIP: %s", strerror(errno));
    set_int(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL");
    set_int(fd, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO");
    set_int(fd, SOL_SOCKET, SO_RXQ_OVFL, 1, "SO_RXQ_OVFL");
    return fd;
}

static int
open_reply_socket(const struct opts *o)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr = o->iface.sin_addr };

    if (fd < 0)
        die("socket: %s", strerror(errno));
    set_buf(fd, SO_RCVBUF, SO_RCVBUFFORCE, 4 << 20);
    if (bind(fd, (const struct sockaddr *)&a, sizeof(a)) < 0)
        die("bind %s:0: %s", inet_ntoa(o->iface.sin_addr), strerror(errno));
    set_int(fd, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO");
    return fd;
}

/* the missing ranges in [next, end), inclusive pairs; prints up to MAX_RANGES_SHOWN */
static void
print_lost(const struct listener *l)
{
    uint64_t end = l->locked ? (l->o->have_count ? l->want_end : l->high) : 0;
    uint64_t lost = 0, ranges = 0;

    if (l->locked && l->eos && l->eos_seq > end && !l->o->have_count)
        end = l->eos_seq;
    printf("\"lost_ranges\": [");
    for (uint64_t s = l->locked ? l->next : 0; s < end;) {
        if (present(l, s)) {
            s++;
            continue;
        }
        uint64_t e = s;
        while (e < end && !present(l, e) && e - l->next < l->w)
            e++;
        if (e - l->next >= l->w) /* nothing buffered beyond the window */
            e = end;
        if (ranges++ < MAX_RANGES_SHOWN)
            printf("%s[%" PRIu64 ", %" PRIu64 "]", ranges > 1 ? ", " : "", s, e - 1);
        lost += e - s;
        s = e;
    }
    printf("], \"lost_ranges_total\": %" PRIu64 ", \"lost_messages\": %" PRIu64, ranges, lost);
}

static int
do_listen(const struct opts *o)
{
    static struct listener l;
    static uint8_t buf[65536];
    const char *reason = "timeout";
    bool complete = false;

    if (!o->have_group || !o->have_iface || !o->have_server)
        die("listen needs --group, --interface and --server");
    l.o = o;
    l.rng = o->seed;
    for (l.w = 1; l.w < o->window; l.w <<= 1)
        ;
    l.win = calloc(l.w, sizeof(*l.win));
    l.req = calloc(o->inflight, sizeof(*l.req));
    if (!l.win || !l.req)
        die("out of memory");
    if (o->output) {
        if (!(l.out = fopen(o->output, "wb")))
            die("%s: %s", o->output, strerror(errno));
        setvbuf(l.out, NULL, _IOFBF, 1 << 20);
    }
    l.fd = open_listen_socket(o);
    l.req_fd = o->reply_own ? open_reply_socket(o) : l.fd;

    uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)(o->timeout_s * 1e9);
    for (;;) {
        uint64_t t = now_ns();
        if (l.locked && done(&l)) {
            reason = "count";
            complete = true;
            break;
        }
        if (l.locked && l.eos && l.next >= l.eos_seq) {
            reason = "eos";
            complete = !o->have_count || done(&l);
            break;
        }
        if (t >= deadline)
            break;
        if (stop) {
            reason = "signal";
            break;
        }
        uint64_t wake = deadline;
        for (uint64_t i = 0; i < l.nreq; i++)
            if (l.req[i].sent_ns + o->retry_ms * 1000000u < wake)
                wake = l.req[i].sent_ns + o->retry_ms * 1000000u;
        if (wake > t + 100000000u)
            wake = t + 100000000u;
        struct pollfd p[2] = { { .fd = l.fd, .events = POLLIN },
                               { .fd = l.req_fd, .events = POLLIN } };
        struct timespec ts = { (time_t)((wake - t) / 1000000000u),
                               (long)((wake - t) % 1000000000u) };
        if (wake <= t)
            ts = (struct timespec){ 0, 0 };
        (void)ppoll(p, o->reply_own ? 2 : 1, &ts, NULL);
        for (int k = 0; k < (o->reply_own ? 2 : 1); k++) {
            int fd = k ? l.req_fd : l.fd;
            for (int burst = 0; burst < 256; burst++) {
                bool mcast;
                ssize_t r = recv_one(&l, fd, buf, sizeof(buf), &mcast);
                if (r < 0)
                    break;
                on_packet(&l, buf, (size_t)r, mcast);
            }
        }
        if (l.locked && !done(&l))
            manage_requests(&l, now_ns());
    }
    if (l.out && fclose(l.out))
        die("%s: %s", o->output, strerror(errno));

    printf("{\"mode\": \"listen\", ");
    json_session(l.session, l.locked);
    printf(", \"messages\": %" PRIu64 ", \"first_seq\": %" PRIu64 ", \"last_seq\": %" PRIu64
           ", \"next_seq\": %" PRIu64 ", \"high_seq\": %" PRIu64 ", \"data_packets\": %" PRIu64
           ", \"responses\": %" PRIu64 ", \"response_messages\": %" PRIu64
           ", \"heartbeats\": %" PRIu64 ", \"eos_packets\": %" PRIu64 ", \"gaps\": %" PRIu64
           ", \"gaps_heartbeat\": %" PRIu64 ", \"gaps_eos\": %" PRIu64
           ", \"gap_messages\": %" PRIu64 ", \"requests_sent\": %" PRIu64
           ", \"request_retries\": %" PRIu64 ", \"request_continuations\": %" PRIu64
           ", \"duplicates\": %" PRIu64 ", \"beyond_window\": %" PRIu64
           ", \"before_start\": %" PRIu64 ", \"malformed\": %" PRIu64
           ", \"other_session\": %" PRIu64 ", \"dropped_on_purpose\": %" PRIu64
           ", \"socket_drops\": %" PRIu64 ", \"elapsed_ms\": %" PRIu64 ", ",
           l.delivered, l.first_seq, l.last_seq, l.next, l.high, l.data_packets, l.responses,
           l.response_msgs, l.heartbeats, l.eos_packets, l.gaps, l.gaps_heartbeat, l.gaps_eos,
           l.gap_msgs, l.requests, l.retries,
           l.continuations, l.dups, l.beyond, l.before_start, l.malformed, l.other_session,
           l.dropped, l.socket_drops, (now_ns() - t0) / 1000000u);
    print_lost(&l);
    printf(", \"reason\": \"%s\", \"complete\": %s}\n", reason, complete ? "true" : "false");
    return complete ? 0 : 1;
}

int
main(int argc, char **argv)
{
    struct opts o;
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    parse_opts(argc, argv, &o);
    catch_signals();
    if (!strcmp(o.mode, "listen"))
        return do_listen(&o);
    if (!strcmp(o.mode, "serve"))
        return do_serve(&o);
    if (!strcmp(o.mode, "gen"))
        return do_gen(&o);
    usage();
}
