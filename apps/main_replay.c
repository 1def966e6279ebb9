/* seqcast-replay: play a capture's UDP datagrams onto the network, with the
 * original timing (or a chosen rate) and controlled, seeded damage. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <seqcast/agent.h>
#include <seqcast/pcap.h>
#include <seqcast/xport.h>

#include "apps/cli.h"

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
            "      --spin              never sleep between datagrams (one core at 100%%; by\n"
            "                          default it sleeps, and spins the last 100 us of a wait)\n"
            "  -c, --config FILE, --channel NAME, --interface ADDR, --set KEY=VALUE\n"
            "                          as for seqcast-pub (the interface, TTL and loop used)\n"
            "  -h, --help              this text\n"
            "\n"
            "Shows progress on a tty; prints a JSON summary on stdout at the end (datagrams\n"
            "sent and damaged, rate, and how far the gaps between sends strayed from the\n"
            "intended ones: median and p99). Exit status 1 if the capture is damaged.\n"
            "Example:  seqcast-replay --loss 5 --seed 7 --group 239.192.0.9:3056 feed.pcap\n");
}

/* ------------------------------------------------------------------ parse */

struct opts {
    struct sc_cli cli;
    struct sc_replay_params rp;
    struct sc_loss_params loss;
    double wait_s;
    bool list, quiet;
    const char *path;
};

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
number(const char *opt, const char *arg, double *v)
{
    char *e;

    *v = strtod(arg, &e);
    if (!*e)
        return 0;
    fprintf(stderr, "seqcast-replay: %s %s: expected a number\n", opt, arg);
    return -1;
}

static int
whole(const char *opt, const char *arg, int base, unsigned long long *v)
{
    char *e;

    *v = strtoull(arg, &e, base);
    if (!*e)
        return 0;
    fprintf(stderr, "seqcast-replay: %s %s: expected a number\n", opt, arg);
    return -1;
}

static int
burst_loss(const char *arg, struct sc_loss_params *lp)
{
    char *e;
    unsigned long n = strtoul(arg, &e, 10);

    if (*e != '@' || n == 0 || n > 1000000 || pct("burst-loss", e + 1, &lp->burst_ppm)) {
        fprintf(stderr, "seqcast-replay: --burst-loss %s: expected N@PERCENT, e.g. 10@0.5\n", arg);
        return -1;
    }
    lp->burst_len = (uint32_t)n;
    return 0;
}

/* One option of seqcast-replay's own. @return 0, -1 a bad value (said), 1 unknown. */
static int
option(struct opts *o, int c, const char *arg)
{
    unsigned long long u = 0;

    switch (c) {
    case 'x': return number("-x", arg, &o->rp.speed);
    case 'p': return number("-p", arg, &o->rp.pps);
    case 'w': return number("-w", arg, &o->wait_s);
    case 'm': o->rp.max = true; return 0;
    case 'f': o->rp.filter = arg; return 0;
    case 'k': o->rp.keep_dest = true; return 0;
    case 'R': o->rp.raw_frames = o->rp.keep_dest = true; return 0;
    case 'l': o->list = true; return 0;
    case 'q': o->quiet = true; return 0;
    case 'L':
        if (whole("-L", arg, 10, &u) < 0)
            return -1;
        o->rp.loops = (unsigned long)u;
        o->rp.forever = u == 0;
        return 0;
    case SC_OPT_LOSS: return pct("loss", arg, &o->loss.drop_ppm);
    case SC_OPT_BURST_LOSS: return burst_loss(arg, &o->loss);
    case SC_OPT_REORDER: return pct("reorder", arg, &o->loss.reorder_ppm);
    case SC_OPT_DUPLICATE: return pct("duplicate", arg, &o->loss.dup_ppm);
    case SC_OPT_SEED:
        if (whole("--seed", arg, 0, &u) < 0)
            return -1;
        o->loss.seed = u;
        return 0;
    }
    return 1;
}

static const struct option options[] = {
    SC_CLI_OPTS,
    { "speed", required_argument, NULL, 'x' },
    { "pps", required_argument, NULL, 'p' },
    { "max", no_argument, NULL, 'm' },
    { "loop", required_argument, NULL, 'L' },
    { "wait", required_argument, NULL, 'w' },
    { "filter", required_argument, NULL, 'f' },
    { "keep-dest", no_argument, NULL, 'k' },
    { "raw-frames", no_argument, NULL, 'R' },
    { "loss", required_argument, NULL, SC_OPT_LOSS },
    { "burst-loss", required_argument, NULL, SC_OPT_BURST_LOSS },
    { "reorder", required_argument, NULL, SC_OPT_REORDER },
    { "duplicate", required_argument, NULL, SC_OPT_DUPLICATE },
    { "seed", required_argument, NULL, SC_OPT_SEED },
    { "list", no_argument, NULL, 'l' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

/* @return -1 to go on, else the exit status. */
static int
parse(int argc, char **argv, struct opts *o)
{
    int c, rc;

    *o = (struct opts){ .cli = { .prog = "seqcast-replay" }, .rp = { .speed = 1, .loops = 1 },
                        .loss = { .seed = 1, .on_tx = true } };
    while ((c = getopt_long(argc, argv, "c:x:p:mL:w:f:kRlqh", options, NULL)) != -1) {
        if (sc_cli_option(&o->cli, c, optarg))
            continue;
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if ((rc = option(o, c, optarg)) != 0) {
            if (rc > 0)
                usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "seqcast-replay: %s (see --help)\n",
                optind == argc ? "which capture? give FILE.pcap" : "one capture at a time");
        return 2;
    }
    if (!(o->rp.speed > 0) || o->rp.pps < 0 || (o->rp.pps > 0 && o->rp.max)) {
        fprintf(stderr, "seqcast-replay: %s\n",
                o->rp.pps > 0 && o->rp.max ? "--pps and --max exclude each other"
                                           : "--speed and --pps must be positive");
        return 2;
    }
    o->path = o->rp.path = argv[optind];
    return -1;
}

/* ------------------------------------------------------------------- list */

static int
list(const struct opts *o)
{
    struct sc_err err;
    struct sc_capd d;
    struct sc_pcapr *r = sc_pcapr_open(o->path, o->rp.filter, &err);
    char line[512];
    int rc;

    if (!r) {
        fprintf(stderr, "seqcast-replay: %s\n", err.msg);
        return 1;
    }
    while ((rc = sc_pcapr_next(r, &d)) == 1) {
        sc_capd_format(line, sizeof(line), &d);
        puts(line);
    }
    if (rc < 0)
        fprintf(stderr, "seqcast-replay: %s\n", sc_pcapr_error(r));
    sc_pcapr_close(r);
    return rc < 0 ? 1 : 0;
}

/* ------------------------------------------------------------------- play */

#define PROGRESS_EVERY_NS 250000000u

struct player {
    const struct sc_channel_cfg *ch;
    struct sc_replay *rp;
    struct sc_runner *run;
    bool tty, passes_shown; /* passes_shown: --loop other than 1 */
    uint64_t total; /* datagrams to send, for the progress line (tty only) */
    uint64_t t0, end, next_progress;
};

/* the datagrams of every pass: one quick pass over the capture */
static int
count(const struct opts *o, uint64_t *total)
{
    struct sc_err err;
    struct sc_capd d;
    struct sc_pcapr *r = sc_pcapr_open(o->path, o->rp.filter, &err);

    if (!r) {
        fprintf(stderr, "seqcast-replay: %s\n", err.msg);
        return -1;
    }
    for (*total = 0; sc_pcapr_next(r, &d) == 1;)
        ++*total;
    *total *= o->rp.forever ? 1 : o->rp.loops;
    sc_pcapr_close(r);
    return 0;
}

/* The channel's transport (kernel UDP: a send-only socket; DPDK: the port),
 * the replay agent on it, a runner. @return 0, or the exit status. */
static int
setup(struct opts *o, struct sc_config *cfg, struct player *pl)
{
    struct sc_xport *x;
    struct sc_err err;
    const struct sc_loss_params *l = &o->loss;
    int rc;

    if (!(pl->ch = sc_cli_config(&o->cli, cfg)))
        return 2;
    pl->tty = isatty(STDERR_FILENO) && !o->quiet;
    pl->passes_shown = o->rp.forever || o->rp.loops != 1;
    if (pl->tty && count(o, &pl->total) < 0)
        return 1;
    if (sc_xport_open(&x, cfg, pl->ch, SC_XPORT_SEND_ONLY, &err) < 0) {
        fprintf(stderr, "seqcast-replay: %s\n", err.msg);
        return 1;
    }
    o->rp.group = pl->ch->group.s_addr;
    o->rp.port = pl->ch->port;
    o->rp.loss = l->drop_ppm || l->burst_ppm || l->reorder_ppm || l->dup_ppm ? l : NULL;
    if (o->wait_s > 0) /* let subscribers join, a DPDK link come up */
        o->rp.start_ns = sc_clock_now() + (uint64_t)(o->wait_s * 1e9);
    if ((rc = sc_replay_create(&pl->rp, x, &o->rp, &err)) < 0) {
        fprintf(stderr, "seqcast-replay: %s\n", err.msg);
        return rc == -ENOTSUP ? 2 : 1;
    }
    if (sc_runner_create(&pl->run, o->cli.spin ? SC_IDLE_SPIN : SC_IDLE_SLEEP, &err) < 0) {
        fprintf(stderr, "seqcast-replay: %s\n", err.msg);
        sc_replay_destroy(pl->rp);
        return 1;
    }
    sc_runner_add(pl->run, sc_replay_agent(pl->rp));
    pl->t0 = o->rp.start_ns;
    sc_cli_signals();
    return 0;
}

static void
progress(const struct player *pl, uint64_t total, uint64_t now)
{
    struct sc_replay_stats st;
    double secs, rate, left;

    sc_replay_stats(pl->rp, &st);
    secs = now > pl->t0 ? (double)(now - pl->t0) / 1e9 : 0;
    rate = secs > 0 ? (double)st.sent / secs : 0;
    left = total && rate > 0 ? (double)(total - (st.sent < total ? st.sent : total)) / rate : 0;
    fprintf(stderr, "\r%llu/%llu datagrams (%.0f%%)  %.0f/s  ETA %.0fs",
            (unsigned long long)st.sent, (unsigned long long)total,
            total ? 100.0 * (double)st.sent / (double)total : 0.0, rate, left);
    if (pl->passes_shown)
        fprintf(stderr, "  pass %llu", (unsigned long long)st.passes);
    fprintf(stderr, "   ");
}

/* Run the replay to its end (or a signal), with a progress line on a tty. */
static void
play(struct player *pl)
{
    uint64_t now;

    if (!pl->t0)
        pl->t0 = sc_clock_now();
    pl->next_progress = pl->t0;
    while (!sc_replay_done(pl->rp) && !sc_cli_stop) {
        sc_runner_run_once(pl->run, PROGRESS_EVERY_NS / 2);
        now = sc_runner_now(pl->run);
        if (pl->tty && now >= pl->next_progress) {
            progress(pl, pl->total, now);
            pl->next_progress = now + PROGRESS_EVERY_NS;
        }
    }
    sc_replay_stop(pl->rp); /* a signal: what is batched still goes */
    pl->end = sc_clock_now();
}

/* ----------------------------------------------------------------- report */

static void
summary(const char *path, const struct sc_replay_stats *st, double secs, bool damaged)
{
    const struct sc_pcapr_stats *ps = &st->capture;
    const struct sc_loss_stats *ls = &st->loss;

    printf("{\"seqcast-replay\": {\"file\": \"%s\", \"records\": %llu, \"filtered\": %llu, "
           "\"not_udp\": %llu, \"cut_short\": %llu, \"malformed\": %llu, \"datagrams\": %llu, "
           "\"sent\": %llu, \"dropped\": %llu, \"burst_dropped\": %llu, \"reordered\": %llu, "
           "\"duplicated\": %llu, \"seconds\": %.3f, \"datagrams_per_s\": %.0f, "
           "\"gap_error_us\": {\"median\": %.2f, \"p99\": %.2f, \"gaps\": %llu}, "
           "\"too_big\": %llu, \"damaged_file\": %s}}\n",
           path, (unsigned long long)ps->records, (unsigned long long)ps->filtered,
           (unsigned long long)ps->not_udp, (unsigned long long)ps->truncated,
           (unsigned long long)ps->malformed, (unsigned long long)ps->datagrams,
           (unsigned long long)st->link.tx_pkts,
           (unsigned long long)(ls->dropped + ls->cut + ls->oversize),
           (unsigned long long)ls->burst_dropped, (unsigned long long)ls->reordered,
           (unsigned long long)ls->duplicated, secs,
           secs > 0 ? (double)st->link.tx_pkts / secs : 0.0,
           (double)st->gap_error_median_ns / 1e3, (double)st->gap_error_p99_ns / 1e3,
           (unsigned long long)st->gaps, (unsigned long long)st->too_big,
           damaged ? "true" : "false");
}

/* The progress line's last state, the JSON summary on stdout, why it failed.
 * @return the exit status: 1 if the capture is damaged, nothing was sent, or
 * a signal cut the replay short. */
static int
report(const struct opts *o, const struct player *pl)
{
    struct sc_replay_stats st;
    const char *damage = sc_replay_error(pl->rp);
    double secs = (double)(pl->end - pl->t0) / 1e9;

    sc_replay_stats(pl->rp, &st);
    if (pl->tty) {
        progress(pl, pl->total ? pl->total : st.sent, pl->end);
        fprintf(stderr, "\n");
    }
    if (damage)
        fprintf(stderr, "seqcast-replay: %s\n", damage);
    summary(o->path, &st, secs, damage != NULL);
    if (!st.sent && !damage) { /* a replay that sends nothing is not a success */
        char why[200];
        sc_pcapr_describe(&st.capture, why, sizeof(why));
        fprintf(stderr, "seqcast-replay: %s: nothing to send (%s)\n", o->path, why);
        return 1;
    }
    return damage || sc_cli_stop ? 1 : 0;
}

static void
teardown(struct player *pl)
{
    if (pl->ch->transport == SC_TRANSPORT_DPDK) /* let the port's queue drain before it goes
                                                   down (a memif peer loses what is in the ring) */
        nanosleep(&(struct timespec){ 0, 500000000 }, NULL);
    sc_replay_destroy(pl->rp);
    sc_runner_destroy(pl->run);
}

int
main(int argc, char **argv)
{
    static struct sc_config cfg;
    struct opts o;
    struct player pl = { 0 };
    int rc;

    if ((rc = parse(argc, argv, &o)) >= 0)
        return rc;
    if (o.list)
        return list(&o);
    if ((rc = setup(&o, &cfg, &pl)) != 0)
        return rc;
    play(&pl);
    rc = report(&o, &pl);
    teardown(&pl);
    return rc;
}
