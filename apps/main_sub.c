/* seqcast-sub: subscribe to a channel; write, verify and count what arrives.
 *
 * parse   the options (apps/cli.h's channel options, --record, its own)
 * run     the subscriber on one runner (on the network or a capture, behind
 *         --loss and --record wrappers), beside a watch agent that prints
 *         stats and says when to stop
 * report  the JSON summary (what arrived, what was lost, as exact ranges)
 *         and the exit status
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <seqcast/agent.h>
#include <seqcast/pcap.h>
#include <seqcast/pub.h>
#include <seqcast/sub.h>

#include "apps/cli.h"
#include "apps/msggen.h"

#define MAX_RANGES 64
#define MAX_SLEEP_NS 100000000u /* a cycle's longest sleep */

struct opts {
    struct sc_cli cli;
    struct sc_record_params rec;    /* --record */
    const char *output;             /* --output */
    const char *pcap, *pcap_filter; /* --pcap: a capture instead of the network */
    const char *republish;          /* --republish ipc:NAME */
    double loss_pct, timeout;       /* --loss, --timeout */
    uint64_t count;                 /* --count */
    bool verify, quiet;
    char archive[320], late_join[64], late_from[64]; /* --archive, --late-join as --set's */
};

/* What the callbacks see and count. */
struct app {
    FILE *out;
    struct sc_shmstat *shm; /* stats.shm: the loss log */
    bool verify, raw, quiet;
    uint64_t count;
    uint64_t delivered, verify_errors, lost_msgs, loss_events;
    uint64_t past_count; /* delivered after --count was reached (one work cycle can
                            deliver many: a rewind's): neither written nor counted */
    unsigned nranges;
    struct {
        uint64_t first, last;
        int reason;
        char upstream[24]; /* transport: ipc: the network source a bridge lost them from */
    } ranges[MAX_RANGES];
    unsigned sources_up, sources_down, fins;
    uint64_t first_verify_error;
    uint64_t t_first; /* when the first message was delivered */
    uint16_t data_port;  /* the channel's port, for the advice on NAKs unanswered */
    bool nak_port_auto;  /* nak_port: auto */
    bool mold;           /* protocol: moldudp64 (re-requests, not NAKs) */
    bool pcap;           /* --pcap: NAKs go nowhere, by design */
    struct sc_pub *rp;   /* --republish: every message delivered, written to a local log */
    uint64_t rp_errors;  /* messages it refused (other than for a moment: -EAGAIN) */
    unsigned bad_logs;   /* transport: ipc: a log that failed its checks (SC_DOWN_BAD_LOG) */
};

/* One line when a source does not answer our NAKs, with the likely fix. */
static void
say_naks_unanswered(const struct app *a, const struct sc_sub_event *ev)
{
    char to[INET_ADDRSTRLEN + 8], why[96];
    struct in_addr ia = { ev->nak.addr };
    const bool to_data_port = ev->nak.port == a->data_port;

    if (a->pcap)
        return;
    inet_ntop(AF_INET, &ia, to, sizeof(to));
    snprintf(to + strlen(to), sizeof(to) - strlen(to), ":%u", ev->nak.port);
    if (a->mold)
        fprintf(stderr,
                "seqcast-sub: re-requests to %s get no answer (%s; packets are being lost): "
                "no re-request server reads them there, or they or the answers are dropped on "
                "the way -- check mold.request_servers (auto: the source's address at the data "
                "port, %u), the server's mold.request_allow, and firewalls\n", to,
                ev->nak.reason == SC_NAK_UNREACHABLE ? "ICMP unreachable" : "no response",
                a->data_port);
    else if (ev->nak.reason == SC_NAK_UNREACHABLE && ev->nak.icmp_code == 3 && to_data_port)
        fprintf(stderr,
                "seqcast-sub: NAKs to %s get no answer (ICMP port unreachable): nothing "
                "listens on the data port there -- set nak_port to the port the sender reads "
                "NAKs on (a seqcast publisher's nak_port), e.g. --set nak_port=3055\n", to);
    else if (ev->nak.reason == SC_NAK_UNREACHABLE && ev->nak.icmp_code == 3)
        fprintf(stderr,
                "seqcast-sub: NAKs to %s get no answer (ICMP port unreachable): the sender "
                "listens elsewhere -- set nak_port to its data port, e.g. --set nak_port=%u "
                "(or nak_port=auto)\n", to, a->data_port);
    else if (ev->nak.reason == SC_NAK_UNREACHABLE)
        fprintf(stderr,
                "seqcast-sub: NAKs to %s get no answer (ICMP %s unreachable): the address the "
                "source advertises for NAKs (its SPM path NLA) cannot be reached from here -- "
                "check the sender's interface/source address (OpenPGM: its host name must "
                "resolve to it) and the route\n", to,
                ev->nak.icmp_code == 0 ? "network" : ev->nak.icmp_code == 1 ? "host"
                : ev->nak.icmp_code >= 9 && ev->nak.icmp_code != 11 && ev->nak.icmp_code != 12
                    ? "administratively filtered" : "destination");
    else {
        snprintf(why, sizeof(why), "%llu NAKs in a row, no NCF or repair",
                 (unsigned long long)ev->nak.naks);
        fprintf(stderr,
                "seqcast-sub: NAKs to %s get no answer (%s; packets are being lost): the "
                "sender does not read NAKs there, or they are dropped on the way -- check "
                "nak_port (%s; OpenPGM senders read NAKs on their data port, %u), firewalls, "
                "and the address the source advertises\n", to, why,
                a->nak_port_auto ? "auto: the data port" : "set explicitly", a->data_port);
    }
}

static const char *
reason_name(int r)
{
    switch (r) {
    case SC_LOSS_RETRIES: return "retries";
    case SC_LOSS_NOT_IN_WINDOW: return "not_in_window";
    case SC_LOSS_RX_WINDOW: return "rx_window";
    case SC_LOSS_NOT_IN_ARCHIVE: return "not_in_archive";
    case SC_LOSS_SOURCE_GONE: return "source_gone";
    }
    return "unknown";
}

/* --republish: a message (or, ev set, a loss: its reason and range go to the
 * local readers as theirs) into the local log; under ipc.backpressure block,
 * wait for its readers. */
static void
republish(struct app *a, const void *msg, size_t len, const struct sc_sub_event *ev)
{
    int rc;

    while ((rc = ev ? sc_pub_send_loss(a->rp, ev, sc_clock_now())
                    : sc_pub_send(a->rp, msg, len, sc_clock_now())) == -EAGAIN &&
           !sc_cli_stop) {
        sc_pub_do_work(a->rp, sc_clock_now());
        nanosleep(&(struct timespec){ 0, 20000 }, NULL);
    }
    if (rc < 0 && rc != -EAGAIN)
        a->rp_errors++;
}

static void
on_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    struct app *a = ctx;

    (void)src;
    if (a->count && a->delivered + a->lost_msgs >= a->count) {
        a->past_count++;
        return;
    }
    if (!a->delivered++)
        a->t_first = sc_clock_now();
    if (a->out) {
        uint8_t h[2] = { (uint8_t)(len >> 8), (uint8_t)len };
        fwrite(h, 1, 2, a->out);
        fwrite(msg, 1, len, a->out);
    }
    if (a->rp)
        republish(a, msg, len, NULL);
    if (a->verify) {
        uint64_t n = seq;
        if (a->raw) { /* raw framing: the generated number travels in the message */
            const uint8_t *m = msg;
            n = 0;
            for (size_t i = 0; i < 8 && i < len; i++)
                n = n << 8 | m[i];
        }
        if (len < 8 || !sc_msggen_check(n, msg, len)) {
            if (!a->verify_errors++)
                a->first_verify_error = seq;
        }
    }
}

/* A repaired run: only into the loss log (stats.shm). */
static void
on_repair(void *ctx, const struct sc_sub_event *ev)
{
    struct app *a = ctx;

    sc_shmstat_log_sub(a->shm, 0, ev);
}

static void
on_event(void *ctx, const struct sc_sub_event *ev)
{
    struct app *a = ctx;

    sc_shmstat_log_sub(a->shm, 0, ev);
    switch (ev->type) {
    case SC_EV_SOURCE_UP:
        a->sources_up++;
        if (!a->quiet)
            fprintf(stderr, "seqcast-sub: source %s up (%s, first packet %llu)\n", ev->src->name,
                    ev->up.join == SC_JOIN_FROM_START ? "from its start"
                    : ev->up.join == SC_JOIN_LIVE    ? "joined live"
                    : ev->up.join == SC_JOIN_RESUMED ? "heard again after a timeout, resuming"
                    : ev->up.join == SC_JOIN_FIRST   ? "joined, requesting from message 1"
                    : ev->up.join == SC_JOIN_ARCHIVE ? "joined, from the archives then live"
                                                     : "joined, recovering its window",
                    (unsigned long long)ev->up.first_packet);
        break;
    case SC_EV_SOURCE_DOWN:
        a->sources_down++;
        if (ev->down.reason == SC_DOWN_FIN)
            a->fins++;
        if (ev->down.reason == SC_DOWN_BAD_LOG)
            a->bad_logs++;
        if (!a->quiet)
            fprintf(stderr, "seqcast-sub: source %s down (%s)\n", ev->src->name,
                    ev->down.reason == SC_DOWN_FIN       ? "end of session"
                    : ev->down.reason == SC_DOWN_EVICTED ? "evicted: it never sent data and "
                                                           "the source table was full"
                    : ev->down.reason == SC_DOWN_BAD_LOG ? "its log fails its checks: no "
                                                           "longer read"
                                                         : "timeout");
        break;
    case SC_EV_NAK_UNANSWERED:
        say_naks_unanswered(a, ev);
        break;
    case SC_EV_REPAIR: /* only to on_repair */
        break;
    case SC_EV_LOSS:
        a->loss_events++;
        if (a->rp)
            republish(a, NULL, 0, ev);
        if (ev->loss.last != UINT64_MAX)
            a->lost_msgs += ev->loss.last - ev->loss.first + 1;
        if (a->nranges < MAX_RANGES) {
            a->ranges[a->nranges].first = ev->loss.first;
            a->ranges[a->nranges].last = ev->loss.last;
            a->ranges[a->nranges].reason = ev->loss.reason;
            snprintf(a->ranges[a->nranges].upstream, sizeof(a->ranges[0].upstream), "%s",
                     ev->loss.upstream ? ev->loss.upstream : "");
            a->nranges++;
        }
        if (ev->loss.upstream) /* the range is the network source's, through the log */
            fprintf(stderr, "seqcast-sub: LOSS from %s (upstream, through the log of %s): "
                            "messages %llu..%llu (%llu packets): %s\n",
                    ev->loss.upstream, ev->src->name, (unsigned long long)ev->loss.first,
                    (unsigned long long)ev->loss.last, (unsigned long long)ev->loss.packets,
                    reason_name(ev->loss.reason));
        else if (a->mold) /* the range is messages, and so is loss.packets */
            fprintf(stderr, "seqcast-sub: LOSS from %s: messages %llu..%llu: %s\n",
                    ev->src->name, (unsigned long long)ev->loss.first,
                    (unsigned long long)ev->loss.last, reason_name(ev->loss.reason));
        else
            fprintf(stderr, "seqcast-sub: LOSS from %s: messages %llu..%llu (%llu packets): %s\n",
                    ev->src->name, (unsigned long long)ev->loss.first,
                    (unsigned long long)ev->loss.last, (unsigned long long)ev->loss.packets,
                    reason_name(ev->loss.reason));
        break;
    }
}

/* The watch: an agent beside the subscriber that prints stats, notes when
 * the last message came (the rate), and decides when to stop. */
struct watch {
    const struct opts *o;
    const struct sc_channel_cfg *ch;
    struct app *a;
    struct sc_sub *sub;
    struct sc_xport *base; /* the innermost transport: the capture, with --pcap */
    uint64_t t0, end, next_stats, t_last, delivered_seen;
    struct sc_cli_quiet quiet; /* --pcap, the capture read */
    bool tty, stop;
};

static int
watch_work(void *self, uint64_t now)
{
    struct watch *w = self;
    const struct app *a = w->a;

    if (a->delivered != w->delivered_seen) { /* the rate: from the first message to the end
                                                of the cycle that delivered the last (the
                                                cycle's `now` is from before it delivered:
                                                a capture can be delivered in one cycle) */
        w->delivered_seen = a->delivered;
        w->t_last = sc_clock_now();
    }
    if (a->rp)
        sc_pub_do_work(a->rp, now); /* heartbeat, readers woken */
    if (w->o->cli.stats_every > 0 && now >= w->next_stats) {
        struct sc_sub_stats st;
        sc_sub_get_stats(w->sub, &st);
        sc_cli_sub_stats(stderr, &st, w->o->cli.json || !w->tty);
        sc_cli_sub_sources(stderr, w->sub, w->o->cli.json || !w->tty);
        w->next_stats = now + (uint64_t)(w->o->cli.stats_every * 1e9);
    }
    w->stop = sc_cli_stop || now >= w->end ||
              (a->count && a->delivered + a->lost_msgs >= a->count) ||
              sc_cli_sub_ended(&w->quiet, w->sub, w->ch, w->o->pcap ? w->base : NULL,
                               !a->count && a->fins && a->sources_down == a->sources_up, now);
    return 0;
}

static uint64_t
watch_deadline(const void *self, uint64_t now)
{
    const struct watch *w = self;
    uint64_t d = w->end;

    (void)now;
    if (w->o->cli.stats_every > 0 && w->next_stats < d)
        d = w->next_stats;
    if (w->quiet.end && w->quiet.end < d)
        d = w->quiet.end;
    if (w->a->rp && sc_pub_deadline(w->a->rp, now) < d)
        d = sc_pub_deadline(w->a->rp, now);
    return d;
}

static const struct sc_agent_ops watch_ops = { "watch", watch_work, watch_deadline, NULL, NULL };

static bool
stop_now(void *ctx)
{
    return ((const struct watch *)ctx)->stop;
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: seqcast-sub [options]\n"
            "\n"
            "Subscribes to a channel and delivers each message once, in order, or reports\n"
            "exactly what was lost.\n"
            "\n"
            "  -o, --output FILE       write messages to FILE ('-' = stdout), each a 2-byte\n"
            "                          big-endian length then the bytes (seqcast-pub --input's\n"
            "                          framing: a round trip is checked with cmp)\n"
            "  -v, --verify            check every byte of seqcast-pub --count's generated messages\n"
            "  -n, --count N           stop after N messages (more delivered in the same work\n"
            "                          cycle, as a rewind delivers, are dropped: past_count)\n"
            "  -t, --timeout SECONDS   give up after SECONDS (default: none)\n"
            "  -q, --quiet             no source up/down lines on stderr\n"
            "      --archive LIST      recover from these archives (seqcast-archive --rewind\n"
            "                          ADDR:PORT, comma-separated): what the publisher can no\n"
            "                          longer repair is rewound from them (recovery.rewind;\n"
            "                          and max_sources=1: an archive records one source)\n"
            "      --late-join MODE    live, window, first, or archive[:SEQ] (a rewind from SEQ,\n"
            "                          default 1, merged into the live stream; needs --archive)\n"
            "      --republish ipc:NAME  write every message delivered to the same-host IPC\n"
            "                          channel NAME (this channel's ipc.* keys, new sequence\n"
            "                          numbers from 1), and every loss: its readers get it as\n"
            "                          their loss event, with the reason and range (the\n"
            "                          network's numbers) reported here: a network feed fanned\n"
            "                          out to local readers (seqcast-sub --set transport=ipc)\n"
            "      --loss PERCENT      drop this share of received packets on purpose (testing,\n"
            "                          demos: the repairs that follow are real)\n"
            "      --pcap FILE         read the channel's packets from a capture instead of the\n"
            "                          network (NAKs go nowhere): reports exactly which ranges\n"
            "                          the capture lacks, then ends\n"
            "      --pcap-filter EXPR  BPF filter (tcpdump syntax) applied to --pcap's records\n"
            SC_RECORD_HELP
            SC_CLI_HELP
            "\n"
            "Ends when --count messages arrived, the source ends its session, --timeout passes\n"
            "or on SIGINT; prints a JSON summary on stdout (on stderr with --output -).\n"
            "Exit status 0 only if everything expected arrived, with no loss and (with --verify)\n"
            "no damaged message; 1 otherwise.\n"
            "Example:  seqcast-sub --count 100000 --verify --timeout 30\n");
}

/* ------------------------------------------------------------------- parse */

/* @return -1 to go on, else the exit status (--help: 0, bad usage: 2) */
static int
parse(int argc, char **argv, struct opts *o)
{
    static const struct option opts[] = { SC_CLI_OPTS,
                                           { "output", required_argument, NULL, 'o' },
                                           { "verify", no_argument, NULL, 'v' },
                                           { "count", required_argument, NULL, 'n' },
                                           { "timeout", required_argument, NULL, 't' },
                                           { "quiet", no_argument, NULL, 'q' },
                                           { "loss", required_argument, NULL, SC_OPT_LOSS },
                                           { "archive", required_argument, NULL, SC_OPT_ARCHIVE },
                                           { "late-join", required_argument, NULL,
                                             SC_OPT_LATE_JOIN },
                                           { "pcap", required_argument, NULL, SC_OPT_PCAP },
                                           { "republish", required_argument, NULL,
                                             SC_OPT_REPUBLISH },
                                           { "pcap-filter", required_argument, NULL,
                                             SC_OPT_PCAP_FILTER },
                                           SC_RECORD_OPTS,
                                           { "help", no_argument, NULL, 'h' },
                                           { NULL, 0, NULL, 0 } };
    int c;

    o->cli.prog = "seqcast-sub";
    while ((c = getopt_long(argc, argv, "c:o:vn:t:qh", opts, NULL)) != -1) {
        char *e = NULL;
        if (sc_cli_option(&o->cli, c, optarg))
            continue;
        switch (sc_cli_record_option(&o->rec, o->cli.prog, c, optarg)) {
        case 1: continue;
        case -1: return 2;
        }
        switch (c) {
        case SC_OPT_PCAP: o->pcap = optarg; break;
        case SC_OPT_REPUBLISH: o->republish = optarg; break;
        case SC_OPT_PCAP_FILTER: o->pcap_filter = optarg; break;
        case SC_OPT_LOSS: o->loss_pct = strtod(optarg, &e); break;
        case SC_OPT_ARCHIVE:
            snprintf(o->archive, sizeof(o->archive), "recovery.rewind=%s", optarg);
            break;
        case SC_OPT_LATE_JOIN: {
            const char *colon = strchr(optarg, ':');
            snprintf(o->late_join, sizeof(o->late_join), "late_join=%.*s",
                     colon ? (int)(colon - optarg) : (int)strlen(optarg), optarg);
            if (colon)
                snprintf(o->late_from, sizeof(o->late_from), "recovery.from=%s", colon + 1);
            break;
        }
        case 'o': o->output = optarg; break;
        case 'v': o->verify = true; break;
        case 'n': o->count = strtoull(optarg, &e, 10); break;
        case 't': o->timeout = strtod(optarg, &e); break;
        case 'q': o->quiet = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (e && *e) {
            fprintf(stderr, "seqcast-sub: --%s %s: expected a number\n",
                    c == 'n' ? "count" : c == 't' ? "timeout" : "loss", optarg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "seqcast-sub: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (o->loss_pct < 0 || o->loss_pct > 100) {
        fprintf(stderr, "seqcast-sub: --loss %g: expected a percentage from 0 to 100\n",
                o->loss_pct);
        return 2;
    }
    /* after every --set: one source (an archive records one), recovery.rewind,
     * then the late_join that needs it */
    if (o->archive[0]) {
        sc_cli_add_set(o->cli.prog, o->cli.sets, &o->cli.nsets, "max_sources=1");
        sc_cli_add_set(o->cli.prog, o->cli.sets, &o->cli.nsets, o->archive);
    }
    if (o->late_from[0])
        sc_cli_add_set(o->cli.prog, o->cli.sets, &o->cli.nsets, o->late_from);
    if (o->late_join[0])
        sc_cli_add_set(o->cli.prog, o->cli.sets, &o->cli.nsets, o->late_join);
    if (o->republish && (strncmp(o->republish, "ipc:", 4) || !o->republish[4])) {
        fprintf(stderr, "seqcast-sub: --republish %s: expected ipc:NAME\n", o->republish);
        return 2;
    }
    if (o->pcap_filter && !o->pcap) {
        fprintf(stderr, "seqcast-sub: --pcap-filter needs --pcap FILE\n");
        return 2;
    }
    return -1;
}

/* --------------------------------------------------------------------- run */

/* The subscriber on the network or on a capture, behind a seeded loss wrapper
 * when --loss asks for damage, and a recorder (outermost: it records what the
 * engine saw) when --record asks for one. *base is the innermost transport. */
static int
create(struct sc_sub **sub, const struct sc_config *cfg, const struct sc_channel_cfg *ch,
       const struct sc_sub_callbacks *cb, const struct opts *o, struct sc_xport **base,
       struct sc_err *err)
{
    struct sc_xport_params xp;
    struct sc_loss_params lp = { .drop_ppm = (uint32_t)(o->loss_pct * 10000),
                                 .seed = sc_clock_now() | 1 };
    struct sc_xport *x;
    int rc;

    if (ch->transport == SC_TRANSPORT_IPC) { /* a local log: no packets to wrap */
        if (o->pcap || o->loss_pct > 0 || o->rec.path) {
            snprintf(err->msg, sizeof(err->msg), "--pcap, --loss and --record take a network "
                                                 "channel, not transport: ipc");
            return -EINVAL;
        }
        *base = NULL;
        return sc_sub_create(sub, cfg, ch->name, cb, err);
    }
    sc_xport_params_from(&xp, ch, SC_XPORT_SUB);
    rc = o->pcap ? sc_xport_pcap_open(&x, o->pcap, o->pcap_filter, &xp, err)
                 : sc_xport_open(&x, cfg, ch, SC_XPORT_SUB, err);
    if (rc < 0)
        return rc;
    *base = x;
    if (o->loss_pct > 0 && (rc = sc_xport_loss_wrap(&x, x, &lp)) < 0) { /* owns x from here */
        snprintf(err->msg, sizeof(err->msg), "--loss: %s", strerror(-rc));
        return rc;
    }
    if (o->rec.path && (rc = sc_xport_record_wrap(&x, x, &xp, &o->rec, err)) < 0)
        return rc;
    return sc_sub_create_on(sub, ch, x, cb, lp.seed, err);
}

/* @return -1 when it ran (w and st filled), else the exit status */
static int
run(struct opts *o, struct app *a, struct watch *w, struct sc_sub_stats *st)
{
    static struct sc_config cfg;
    struct sc_sub_callbacks cb = { on_msg, on_event, a, on_repair };
    struct sc_runner *run;
    char labels[SC_SHMSTAT_LABELS];
    struct sc_err err;

    if (!(w->ch = sc_cli_config(&o->cli, &cfg)))
        return 2;
    a->raw = w->ch->framing == SC_FRAMING_RAW;
    a->data_port = w->ch->port;
    a->nak_port_auto = w->ch->nak_port == 0;
    a->mold = w->ch->protocol == SC_PROTOCOL_MOLDUDP64;
    a->pcap = o->pcap != NULL;
    a->verify = o->verify;
    a->quiet = o->quiet;
    a->count = o->count;
    if (o->output) {
        if (!(a->out = strcmp(o->output, "-") ? fopen(o->output, "wb") : stdout)) {
            fprintf(stderr, "seqcast-sub: %s: %s\n", o->output, strerror(errno));
            return 1;
        }
        setvbuf(a->out, NULL, _IOFBF, 1 << 20);
    }
    if (o->republish) {
        static struct sc_config rcfg;
        struct sc_channel_cfg *rch;
        rcfg = cfg;
        rch = sc_config_channel(&rcfg, w->ch->name);
        snprintf(rch->name, sizeof(rch->name), "%s", o->republish + 4);
        rch->transport = SC_TRANSPORT_IPC;
        if (sc_pub_create(&a->rp, &rcfg, rch->name, &err) < 0) {
            fprintf(stderr, "seqcast-sub: --republish %s: %s\n", o->republish, err.msg);
            return 1;
        }
    }
    if (create(&w->sub, &cfg, w->ch, &cb, o, &w->base, &err) < 0 ||
        sc_runner_create(&run, o->cli.spin ? SC_IDLE_SPIN : SC_IDLE_SLEEP, &err) < 0) {
        fprintf(stderr, "seqcast-sub: %s\n", err.msg);
        return 1;
    }
    sc_sub_get_stats(w->sub, st);
    sc_cli_warn_rcvbuf("seqcast-sub", st->rcvbuf_requested, st->rcvbuf_effective);
    sc_cli_signals();
    w->o = o;
    w->a = a;
    w->tty = isatty(STDERR_FILENO);
    if (o->cli.stats_every == 0 && w->tty)
        o->cli.stats_every = 1;
    w->t0 = sc_clock_now();
    w->end = o->timeout > 0 ? w->t0 + (uint64_t)(o->timeout * 1e9) : UINT64_MAX;
    w->next_stats = w->t0 + (uint64_t)(o->cli.stats_every * 1e9);
    sc_runner_add(run, sc_sub_agent(w->sub));
    sc_runner_add(run, (struct sc_agent){ &watch_ops, w });
    sc_cli_shm_labels(w->ch, labels, sizeof(labels));
    if (sc_shmstat_create_cfg(&a->shm, &cfg.stats, "seqcast-sub", w->ch->name, &err) < 0 ||
        sc_shmstat_add_sub(a->shm, w->sub, labels, &err) < 0) {
        fprintf(stderr, "seqcast-sub: stats.shm: %s\n", err.msg);
        return 1;
    }
    if (sc_cli_shm_open(a->shm, run, "seqcast-sub") < 0)
        return 1;
    sc_runner_run(run, stop_now, w, NULL, MAX_SLEEP_NS);
    sc_sub_get_stats(w->sub, st);
    if (a->rp) { /* its readers see the end at once */
        sc_pub_close(a->rp, sc_clock_now());
        sc_pub_destroy(a->rp);
        a->rp = NULL;
    }
    if (a->out)
        fflush(a->out);
    w->t_last = w->t_last ? w->t_last : sc_runner_now(run);
    w->end = sc_runner_now(run); /* from here: when it ended */
    sc_runner_destroy(run);
    sc_shmstat_destroy(a->shm);
    a->shm = NULL;
    return -1;
}

/* ------------------------------------------------------------------ report */

static int
report(const struct opts *o, const struct app *a, const struct watch *w,
       const struct sc_sub_stats *st)
{
    FILE *summary = a->out == stdout ? stderr : stdout;
    bool complete = o->count ? a->delivered == o->count
                             : (a->fins > 0 || o->timeout > 0 || (w->quiet.end && a->delivered));

    complete = complete && a->loss_events == 0 && a->verify_errors == 0 && !a->bad_logs &&
               !sc_cli_stop;
    fprintf(summary,
            "{\"seqcast-sub\": {\"channel\": \"%s\", \"complete\": %s, \"received\": %llu, "
            "\"expected\": %llu, \"past_count\": %llu, \"duplicates_dropped\": %llu, "
            "\"lost_messages\": %llu, "
            "\"verify_errors\": %llu, \"seconds\": %.3f, \"msgs_per_s\": %.0f, "
            "\"lost_ranges\": [",
            w->ch->name, complete ? "true" : "false", (unsigned long long)a->delivered,
            (unsigned long long)o->count, (unsigned long long)a->past_count,
            (unsigned long long)st->duplicates,
            (unsigned long long)a->lost_msgs, (unsigned long long)a->verify_errors,
            (double)(w->end - w->t0) / 1e9,
            w->t_last > a->t_first ? (double)a->delivered * 1e9 / (double)(w->t_last - a->t_first)
                                   : 0.0);
    for (unsigned i = 0; i < a->nranges; i++) {
        fprintf(summary, "%s{\"first\": %llu, \"last\": %llu, \"reason\": \"%s\"", i ? ", " : "",
                (unsigned long long)a->ranges[i].first, (unsigned long long)a->ranges[i].last,
                reason_name(a->ranges[i].reason));
        if (a->ranges[i].upstream[0]) /* printable, no quotes (engine/ipc.c) */
            fprintf(summary, ", \"upstream\": \"%s\"", a->ranges[i].upstream);
        fprintf(summary, "}");
    }
    fprintf(summary, "], ");
    sc_cli_json_sub(summary, st);
    fprintf(summary, "}}\n");
    if (o->pcap && sc_xport_pcap_error(w->base)) {
        fprintf(stderr, "seqcast-sub: %s\n", sc_xport_pcap_error(w->base));
        complete = false;
    }
    if (o->pcap && !st->rx_pkts) {
        const struct sc_pcapr_stats *ps = sc_xport_pcap_stats(w->base);
        char why[200];
        sc_pcapr_describe(ps, why, sizeof(why));
        fprintf(stderr, "seqcast-sub: %s: no packet for %s:%u (%s, %llu to other groups or ports)\n",
                o->pcap, inet_ntoa(w->ch->group), w->ch->port, why,
                (unsigned long long)(ps->datagrams - st->rx_pkts));
    }
    if (a->rp_errors) {
        fprintf(stderr, "seqcast-sub: --republish: %llu messages refused by the local log\n",
                (unsigned long long)a->rp_errors);
        complete = false;
    }
    if (a->verify_errors)
        fprintf(stderr, "seqcast-sub: %llu damaged messages (first: %llu)\n",
                (unsigned long long)a->verify_errors, (unsigned long long)a->first_verify_error);
    if (o->count && a->delivered < o->count && !a->loss_events)
        fprintf(stderr, "seqcast-sub: only %llu of %llu messages arrived before %s\n",
                (unsigned long long)a->delivered, (unsigned long long)o->count,
                sc_cli_stop ? "the signal" : "the timeout");
    return complete ? 0 : 1;
}

int
main(int argc, char **argv)
{
    static struct opts o;
    static struct app a;
    static struct watch w;
    static struct sc_sub_stats st;
    int rc;

    if ((rc = parse(argc, argv, &o)) >= 0)
        return rc;
    if ((rc = run(&o, &a, &w, &st)) >= 0)
        return rc;
    rc = report(&o, &a, &w, &st);
    if (a.out && a.out != stdout)
        fclose(a.out);
    sc_sub_destroy(w.sub); /* after the report: it reads the capture's counters */
    return rc;
}
