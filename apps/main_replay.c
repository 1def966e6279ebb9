/* seqcast-replay: play a capture's UDP datagrams onto the network, with the
 * original timing (or a chosen rate) and controlled, seeded damage. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "apps/cli.h"
#include "engine/channel.h"
#include "engine/clock.h"
#include "engine/compiler.h"
#include "engine/transport/transport.h"
#include <seqcast/proto/mold.h>
#include <seqcast/proto/pgm.h>
#include <seqcast/pcap.h>

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: seqcast-replay [options] FILE.pcap\n"
            "\n"
            "Sends the UDP datagrams of a capture (pcap or pcapng; Ethernet, raw IP, Linux\n"
            "cooked or loopback) to the channel's group and port through kernel UDP, or\n"
            "through DPDK when the channel's transport is dpdk (--set transport=dpdk and\n"
            "dpdk.* keys: the datagrams are re-framed for the port's own MAC and address).\n"
            "\n"
            "Timing (default --speed 1: the capture's own gaps)\n"
            "  -x, --speed X           the original gaps divided by X\n"
            "  -p, --pps N             N datagrams per second, evenly spaced\n"
            "  -m, --max               as fast as possible\n"
            "  -L, --loop N            play the capture N times (default 1, 0 = until SIGINT)\n"
            "  -w, --wait SECONDS      pause before the first datagram (let subscribers join,\n"
            "                          a DPDK link come up)\n"
            "Selection and destination\n"
            "  -f, --filter EXPR       BPF filter (tcpdump syntax), e.g. 'udp dst port 3056'\n"
            "      --group ADDR:PORT   where to send (rewrites every datagram's destination;\n"
            "                          default: the channel's, 239.192.0.1:3056)\n"
            "  -k, --keep-dest         send each datagram to its captured group and port instead\n"
            "  -R, --raw-frames        DPDK only: send the captured Ethernet frames byte for byte\n"
            "                          (MACs, VLAN tags, TTL and all; implies --keep-dest)\n"
            "Damage, reproducible with --seed (percentages)\n"
            "      --loss P            drop P%% of datagrams at random\n"
            "      --burst-loss N@P    with chance P%% per datagram, drop the next N\n"
            "      --reorder P         hold back P%% of datagrams behind the next 1-3\n"
            "      --duplicate P       send P%% of datagrams twice\n"
            "      --seed S            damage seed (default 1)\n"
            "Other\n"
            "  -l, --list              print every selected datagram (index, time, addresses,\n"
            "                          length, a hash of its bytes, PGM type, sequence,\n"
            "                          MoldUDP64 messages) instead of sending\n"
            "  -q, --quiet             no progress line\n"
            "  -c, --config FILE, --channel NAME, --interface ADDR, --set KEY=VALUE\n"
            "                          as for seqcast-pub (the interface, TTL and loop used)\n"
            "  -h, --help              this text\n"
            "\n"
            "Shows progress on a tty; prints a JSON summary on stdout at the end (datagrams\n"
            "sent and damaged, rate, and how far the gaps between sends strayed from the\n"
            "intended ones: median and p99). Exit status 1 if the capture is damaged.\n"
            "Example:  seqcast-replay --loss 5 --seed 7 --group 239.192.0.9:3056 feed.pcap\n");
}

/* The DPDK port seen as a frame sender: tx_burst sends whole captured frames,
 * so the seeded damage wrapper can sit on top unchanged. */
struct framer {
    struct sc_xport x;
    struct sc_xport *inner;
};

static uint16_t
framer_tx(struct sc_xport *x, const struct sc_pkt *p, uint16_t n)
{
    struct framer *f = sc_container_of(x, struct framer, x);
    uint16_t k = f->inner->ops->tx_frames(f->inner, p, n);

    x->st = f->inner->st;
    return k;
}

static uint16_t
framer_rx(struct sc_xport *x, struct sc_pkt *p, uint16_t n)
{
    (void)x, (void)p, (void)n;
    return 0;
}

static void
framer_close(struct sc_xport *x)
{
    struct framer *f = sc_container_of(x, struct framer, x);

    sc_xport_close(f->inner);
    free(f);
}

static const struct sc_xport_ops framer_ops = {
    .name = "frames", .rx_burst = framer_rx, .tx_burst = framer_tx, .close = framer_close,
};

/* ------------------------------------------------------------------ list */

static void
list_one(const struct sc_capd *d)
{
    char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
    struct sc_pgm_pkt k;
    uint64_t fnv = 0xcbf29ce484222325ull; /* FNV-1a of the payload: equal bytes, equal hash */

    inet_ntop(AF_INET, &d->src_ip, src, sizeof(src));
    inet_ntop(AF_INET, &d->dst_ip, dst, sizeof(dst));
    for (uint16_t i = 0; i < d->len; i++)
        fnv = (fnv ^ d->payload[i]) * 0x100000001b3ull;
    printf("%llu %llu.%09llu %s:%u > %s:%u len %u fnv %016llx", (unsigned long long)d->index,
           (unsigned long long)(d->ts_ns / 1000000000u), (unsigned long long)(d->ts_ns % 1000000000u),
           src, d->src_port, dst, d->dst_port, d->len, (unsigned long long)fnv);
    if (sc_pgm_decode(d->payload, d->len, &k, 0) < 0) {
        printf(" not-pgm\n");
        return;
    }
    printf(" %s", sc_pgm_type_str(k.type));
    if (k.type == SC_PGM_SPM)
        printf(" sqn %u trail %u lead %u%s", k.spm.sqn, k.spm.trail, k.spm.lead,
               k.opt.present & SC_PGM_HAS_FIN ? " fin" : "");
    if (k.type == SC_PGM_ODATA || k.type == SC_PGM_RDATA) {
        struct sc_mold_iter it;
        struct sc_mold_hdr h;
        printf(" sqn %u trail %u", k.data.sqn, k.data.trail);
        if (k.opt.present & SC_PGM_HAS_FRAGMENT)
            printf(" frag %u+%u/%u", k.opt.frag.first_sqn, k.opt.frag.offset,
                   k.opt.frag.apdu_len);
        if ((!(k.opt.present & SC_PGM_HAS_FRAGMENT) || k.opt.frag.offset == 0) &&
            sc_mold_iter_init(&it, k.tsdu, k.tsdu_len, &h) == 0 && h.count &&
            h.count != SC_MOLD_COUNT_EOS)
            printf(" msgs %llu+%u", (unsigned long long)h.seq, h.count);
    }
    if (k.type == SC_PGM_NAK || k.type == SC_PGM_NCF || k.type == SC_PGM_NNAK)
        printf(" sqn %u", k.nak.sqn);
    printf("\n");
}

/* ------------------------------------------------------------------ main */

static int
pct(const char *opt, const char *arg, uint32_t *ppm)
{
    char *e;
    double v = strtod(arg, &e);

    if (*arg == 0 || *e || !(v >= 0 && v <= 100)) {
        fprintf(stderr, "seqcast-replay: --%s %s: expected a percentage from 0 to 100\n", opt, arg);
        return -1;
    }
    *ppm = (uint32_t)(v * 10000 + 0.5);
    return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sleep most of the way to t, then spin the rest (the scheduler wakes late). */
static uint64_t
wait_until(uint64_t t)
{
    uint64_t now = sc_clock_ns();

    if (t > now + 200000) {
        uint64_t d = t - now - 100000;
        struct timespec ts = { (time_t)(d / 1000000000u), (long)(d % 1000000000u) };
        nanosleep(&ts, NULL);
    }
    while ((now = sc_clock_ns()) < t && !sc_cli_stop)
        ;
    return now;
}

static void
progress(uint64_t sent, uint64_t total, uint64_t t0, uint64_t now, unsigned pass, unsigned loops)
{
    double secs = (double)(now - t0) / 1e9, rate = secs > 0 ? (double)sent / secs : 0;
    double left = total && rate > 0 ? (double)(total - (sent < total ? sent : total)) / rate : 0;

    fprintf(stderr, "\r%llu/%llu datagrams (%.0f%%)  %.0f/s  ETA %.0fs", (unsigned long long)sent,
            (unsigned long long)total, total ? 100.0 * (double)sent / (double)total : 0.0, rate,
            left);
    if (loops != 1)
        fprintf(stderr, "  pass %u", pass);
    fprintf(stderr, "   ");
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = { SC_CLI_OPTS,
                                           { "speed", required_argument, NULL, 'x' },
                                           { "pps", required_argument, NULL, 'p' },
                                           { "max", no_argument, NULL, 'm' },
                                           { "loop", required_argument, NULL, 'L' },
                                           { "wait", required_argument, NULL, 'w' },
                                           { "filter", required_argument, NULL, 'f' },
                                           { "keep-dest", no_argument, NULL, 'k' },
                                           { "raw-frames", no_argument, NULL, 'R' },
                                           { "loss", required_argument, NULL, 0x301 },
                                           { "burst-loss", required_argument, NULL, 0x302 },
                                           { "reorder", required_argument, NULL, 0x303 },
                                           { "duplicate", required_argument, NULL, 0x304 },
                                           { "seed", required_argument, NULL, 0x305 },
                                           { "list", no_argument, NULL, 'l' },
                                           { "quiet", no_argument, NULL, 'q' },
                                           { "help", no_argument, NULL, 'h' },
                                           { NULL, 0, NULL, 0 } };
    static struct sc_config cfg;
    static uint8_t bufs[SC_BURST][SC_PKT_MAX];
    struct sc_cli cli = { .prog = "seqcast-replay" };
    struct sc_loss_params lp = { .seed = 1, .on_tx = true };
    const struct sc_channel_cfg *ch;
    const char *path, *filter = NULL;
    double speed = 1, pps = 0, wait_s = 0;
    bool max = false, keep = false, raw = false, list = false, quiet = false, tty, damaged = false;
    unsigned long loops = 1, pass;
    struct sc_pcapr *r;
    struct sc_xport *x = NULL, *sock = NULL;
    struct sc_err err;
    struct sc_pkt burst[SC_BURST];
    uint16_t nb = 0;
    uint64_t total = 0, sent = 0, t0, now, next_progress, first_ts = 0, prev_target = 0,
             prev_actual = 0, ngaps = 0, gap_cap = 0;
    int64_t *gaps = NULL;
    uint64_t too_big = 0;
    int c, rc;

    while ((c = getopt_long(argc, argv, "c:x:p:mL:w:f:kRlqh", opts, NULL)) != -1) {
        char *e = NULL;
        if (sc_cli_option(&cli, c, optarg))
            continue;
        switch (c) {
        case 'x': speed = strtod(optarg, &e); break;
        case 'p': pps = strtod(optarg, &e); break;
        case 'm': max = true; break;
        case 'L': loops = strtoul(optarg, &e, 10); break;
        case 'w': wait_s = strtod(optarg, &e); break;
        case 'f': filter = optarg; break;
        case 'k': keep = true; break;
        case 'R': raw = keep = true; break;
        case 'l': list = true; break;
        case 'q': quiet = true; break;
        case 0x301: if (pct("loss", optarg, &lp.drop_ppm)) return 2; break;
        case 0x302: {
            unsigned long n = strtoul(optarg, &e, 10);
            if (*e != '@' || n == 0 || n > 1000000 || pct("burst-loss", e + 1, &lp.burst_ppm)) {
                fprintf(stderr, "seqcast-replay: --burst-loss %s: expected N@PERCENT, e.g. 10@0.5\n",
                        optarg);
                return 2;
            }
            lp.burst_len = (uint32_t)n;
            e = NULL;
            break;
        }
        case 0x303: if (pct("reorder", optarg, &lp.reorder_ppm)) return 2; break;
        case 0x304: if (pct("duplicate", optarg, &lp.dup_ppm)) return 2; break;
        case 0x305: lp.seed = strtoull(optarg, &e, 0); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (e && *e) {
            fprintf(stderr, "seqcast-replay: -%c %s: expected a number\n", c, optarg);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "seqcast-replay: %s (see --help)\n",
                optind == argc ? "which capture? give FILE.pcap" : "one capture at a time");
        return 2;
    }
    if (!(speed > 0) || pps < 0 || (pps > 0 && max)) {
        fprintf(stderr, "seqcast-replay: %s\n",
                pps > 0 && max ? "--pps and --max exclude each other"
                               : "--speed and --pps must be positive");
        return 2;
    }
    path = argv[optind];
    if (!(r = sc_pcapr_open(path, filter, &err))) {
        fprintf(stderr, "seqcast-replay: %s\n", err.msg);
        return 1;
    }
    if (list) {
        struct sc_capd d;
        while ((rc = sc_pcapr_next(r, &d)) == 1)
            list_one(&d);
        if (rc < 0)
            fprintf(stderr, "seqcast-replay: %s\n", sc_pcapr_error(r));
        sc_pcapr_close(r);
        return rc < 0 ? 1 : 0;
    }
    if (!(ch = sc_cli_config(&cli, &cfg)))
        return 2;
    tty = isatty(STDERR_FILENO) && !quiet;
    if (tty) { /* the total, for the percentage and ETA: one quick pass */
        struct sc_capd d;
        while (sc_pcapr_next(r, &d) == 1)
            total++;
        if (sc_pcapr_rewind(r, &err) < 0) {
            fprintf(stderr, "seqcast-replay: %s\n", err.msg);
            return 1;
        }
        total *= loops ? loops : 1;
    }
    /* kernel UDP: a send-only socket; DPDK: the engine's raw-Ethernet path */
    if (sc_xport_open(&sock, &cfg, ch, SC_XPORT_SEND_ONLY, &err) < 0) {
        fprintf(stderr, "seqcast-replay: %s\n", err.msg);
        return 1;
    }
    if (raw) {
        struct framer *f = calloc(1, sizeof(*f));
        if (!sock->ops->tx_frames || sc_pcapr_linktype(r) != 1 || !f) {
            fprintf(stderr, "seqcast-replay: --raw-frames: %s\n",
                    !sock->ops->tx_frames ? "needs a DPDK channel (--set transport=dpdk)"
                    : !f                  ? "out of memory"
                                          : "needs an Ethernet capture");
            free(f);
            sc_xport_close(sock);
            return 2;
        }
        f->x.ops = &framer_ops;
        f->inner = sock;
        sock = &f->x;
    }
    x = sock;
    if ((lp.drop_ppm || lp.burst_ppm || lp.reorder_ppm || lp.dup_ppm) &&
        (rc = sc_xport_loss_wrap(&x, sock, &lp)) < 0) {
        fprintf(stderr, "seqcast-replay: %s\n", strerror(-rc));
        return 1;
    }
    sc_cli_signals();
    if (wait_s > 0)
        wait_until(sc_clock_ns() + (uint64_t)(wait_s * 1e9));
    t0 = now = sc_clock_ns();
    next_progress = t0;
    for (pass = 1; (loops == 0 || pass <= loops) && !sc_cli_stop; pass++) {
        struct sc_capd d;
        uint64_t pass_t0 = sc_clock_ns(), i = 0;

        if (pass > 1 && sc_pcapr_rewind(r, &err) < 0) {
            fprintf(stderr, "seqcast-replay: %s\n", err.msg);
            damaged = true;
            break;
        }
        while (!sc_cli_stop && (rc = sc_pcapr_next(r, &d)) == 1) {
            uint64_t target;
            if (i == 0)
                first_ts = d.ts_ns;
            target = max      ? 0
                     : pps > 0 ? pass_t0 + (uint64_t)((double)i * 1e9 / pps)
                               : pass_t0 + (uint64_t)((double)(d.ts_ns - first_ts) / speed);
            i++;
            if (target > now)
                now = wait_until(target);
            if (!max) { /* how far this gap strayed from the intended one */
                if (prev_actual && target >= prev_target) {
                    if (ngaps == gap_cap) {
                        gap_cap = gap_cap ? 2 * gap_cap : 65536;
                        gaps = realloc(gaps, gap_cap * sizeof(*gaps));
                        if (!gaps) {
                            fprintf(stderr, "seqcast-replay: out of memory\n");
                            return 1;
                        }
                    }
                    gaps[ngaps++] = (int64_t)(now - prev_actual) - (int64_t)(target - prev_target);
                }
                prev_actual = now;
                prev_target = target;
            }
            if (raw && !d.frame)
                continue; /* a later packet of a split GSO record: the record went whole */
            if (raw && d.frame_len > SC_PKT_MAX) {
                too_big++; /* a jumbo capture record: no mbuf holds it */
                continue;
            }
            if (raw) {
                memcpy(bufs[nb], d.frame, d.frame_len);
                burst[nb] = (struct sc_pkt){ .data = bufs[nb], .len = (uint16_t)d.frame_len };
            } else {
                memcpy(bufs[nb], d.payload, d.len);
                burst[nb] = (struct sc_pkt){ .data = bufs[nb], .len = d.len,
                                             .addr = keep ? d.dst_ip : ch->group.s_addr,
                                             .port = keep ? d.dst_port : ch->port };
            }
            if (++nb == SC_BURST || !max) {
                uint16_t done = 0;
                while (done < nb && !sc_cli_stop) /* back-pressure: the socket buffer is full */
                    done += sc_xport_tx(x, burst + done, (uint16_t)(nb - done));
                nb = 0;
            }
            sent++;
            if (tty && (now = sc_clock_ns()) >= next_progress) {
                progress(sent, total, t0, now, (unsigned)pass, (unsigned)loops);
                next_progress = now + 250000000u;
            }
        }
        if (rc < 0) {
            fprintf(stderr, "%sseqcast-replay: %s\n", tty ? "\n" : "", sc_pcapr_error(r));
            damaged = true;
            break;
        }
        if (i == 0)
            break; /* nothing selected: looping would spin */
    }
    {
        uint16_t done = 0;
        while (done < nb)
            done += sc_xport_tx(x, burst + done, (uint16_t)(nb - done));
        for (int k = 0; k < 64; k++) /* release anything the reorderer still holds */
            sc_xport_tx(x, burst, 0);
    }
    now = sc_clock_ns();
    if (tty) {
        progress(sent, total ? total : sent, t0, now, (unsigned)pass - 1, (unsigned)loops);
        fprintf(stderr, "\n");
    }
    {
        const struct sc_pcapr_stats *ps = sc_pcapr_stats(r);
        const struct sc_loss_stats *ls = x != sock ? sc_xport_loss_stats(x) : NULL;
        double med = 0, p99 = 0, secs = (double)(now - t0) / 1e9;
        if (ngaps) {
            for (uint64_t k = 0; k < ngaps; k++)
                gaps[k] = gaps[k] < 0 ? -gaps[k] : gaps[k];
            qsort(gaps, ngaps, sizeof(*gaps), cmp_i64);
            med = (double)gaps[ngaps / 2] / 1e3;
            p99 = (double)gaps[(ngaps * 99) / 100] / 1e3;
        }
        printf("{\"seqcast-replay\": {\"file\": \"%s\", \"records\": %llu, \"filtered\": %llu, "
               "\"not_udp\": %llu, \"cut_short\": %llu, \"malformed\": %llu, \"datagrams\": %llu, "
               "\"sent\": %llu, \"dropped\": %llu, \"burst_dropped\": %llu, \"reordered\": %llu, "
               "\"duplicated\": %llu, \"seconds\": %.3f, \"datagrams_per_s\": %.0f, "
               "\"gap_error_us\": {\"median\": %.2f, \"p99\": %.2f, \"gaps\": %llu}, "
               "\"too_big\": %llu, \"damaged_file\": %s}}\n",
               path, (unsigned long long)ps->records, (unsigned long long)ps->filtered,
               (unsigned long long)ps->not_udp, (unsigned long long)ps->truncated,
               (unsigned long long)ps->malformed, (unsigned long long)ps->datagrams,
               (unsigned long long)sock->st.tx_pkts,
               (unsigned long long)(ls ? ls->dropped + ls->cut + ls->oversize : 0),
               (unsigned long long)(ls ? ls->burst_dropped : 0),
               (unsigned long long)(ls ? ls->reordered : 0),
               (unsigned long long)(ls ? ls->duplicated : 0), secs,
               secs > 0 ? (double)sock->st.tx_pkts / secs : 0.0, med, p99,
               (unsigned long long)ngaps, (unsigned long long)too_big, damaged ? "true" : "false");
    }
    if (!sent && !damaged) {
        char why[200];
        sc_pcapr_describe(sc_pcapr_stats(r), why, sizeof(why));
        fprintf(stderr, "seqcast-replay: %s: nothing to send (%s)\n", path, why);
        damaged = true; /* exit 1: a replay that sends nothing is not a success */
    }
    free(gaps);
    if (ch->transport == SC_TRANSPORT_DPDK) /* let the port's queue drain before it goes down
                                               (a memif peer loses what is still in the ring) */
        wait_until(sc_clock_ns() + 500000000u);
    sc_xport_close(x);
    sc_pcapr_close(r);
    return damaged || sc_cli_stop ? 1 : 0;
}
