/* seqcast-pub: publish messages on a channel and serve repairs.
 *
 * parse   the options (apps/cli.h's channel options, --record, its own)
 * run     two agents on one runner: the publisher, and the feed -- this
 *         program's own work: it publishes what is due, then closes the
 *         session, waits for the end to be sent, and lingers serving repairs
 * report  the JSON summary and the exit status
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seqcast/agent.h>
#include <seqcast/pcap.h>
#include <seqcast/pub.h>

#include "apps/cli.h"
#include "apps/msggen.h"

#define BLOCKED_WARN_NS 5000000000ull /* the transport refusing everything this long */
#define MAX_SLEEP_NS 50000000u        /* a cycle's longest sleep: signals are seen */

struct opts {
    struct sc_cli cli;
    struct sc_record_params rec;
    const char *input, *write_to;
    uint64_t count, size;
    double rate, linger;
    uint32_t wait_readers; /* --wait-readers */
};

/* The feed: this program's work, an agent beside the publisher. */
enum phase { FEEDING, CLOSING, LINGERING, DONE };

struct feed {
    const struct opts *o;
    struct sc_pub *pub;
    enum phase phase;
    FILE *in;
    pid_t gzip;  /* --input a gzip file: gzip -dc's pid */
    size_t held; /* length of a message read but refused for now (-EAGAIN); 0 = none */
    uint64_t in_msgs, sent, t0, linger_end, blocked_since, next_stats;
    uint64_t tick; /* --rate: publish on this grid from t0 (batch_delay); 0 = at each due time */
    bool truncated, stopped, warned, tty, readers_there;
    int error; /* a message sc_pub_send refused for good (-errno) */
    uint8_t msg[65536];
};

struct result {
    struct sc_pub_stats st;
    uint64_t sent, ns;
    bool truncated, stopped, closed;
    int error;
};

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: seqcast-pub [options] (--input FILE | --count N [--size BYTES] [--rate R])\n"
            "\n"
            "Publishes messages as sequenced PGM multicast and repairs what receivers lose.\n"
            "\n"
            "  -i, --input FILE        messages from FILE ('-' = stdin), each a 2-byte big-endian\n"
            "                          length then the bytes (NASDAQ's binary ITCH file framing;\n"
            "                          a gzip file, as NASDAQ publishes them, is decompressed)\n"
            "  -n, --count N           N generated messages; their content is a function of the\n"
            "                          sequence (seqcast-sub --verify checks every byte)\n"
            "  -s, --size BYTES        generated message size (default 0 = mixed: 8 to 64 bytes,\n"
            "                          and every thousandth message 3000 bytes, or what one\n"
            "                          packet holds on a MoldUDP64 channel)\n"
            "  -r, --rate MSGS         messages per second (default 0 = as fast as possible);\n"
            "                          batched framing: the messages due within one\n"
            "                          batch_delay share a packet (sent at the end of each\n"
            "                          batch_delay from the start), batch_delay 0 sends each\n"
            "                          alone at its time\n"
            "  -l, --linger SECONDS    keep serving NAKs after the session's end (default 2)\n"
            "  -w, --write FILE        with --count: write the generated messages to FILE in\n"
            "                          --input's framing instead of publishing them\n"
            "      --wait-readers N    transport: ipc with ipc.backpressure: block: publish only\n"
            "                          once N readers have registered (none misses the start)\n"
            SC_RECORD_HELP
            SC_CLI_HELP
            "\n"
            "At the end the session is closed: the rest of the data (within data_rate), the\n"
            "End of Session block and the FIN go out, then NAKs are served for --linger.\n"
            "SIGINT/SIGTERM end the session the same way without the linger; a second one\n"
            "exits at once. Prints a JSON summary on stdout at the end; exits 0 when\n"
            "everything was sent.\n"
            "Example (no YAML needed):\n"
            "  seqcast-pub --count 100000 --rate 50000 --group 239.192.0.1:3056\n");
}

/* ------------------------------------------------------------------- parse */

/* @return -1 to go on, else the exit status (--help: 0, bad usage: 2) */
static int
parse(int argc, char **argv, struct opts *o)
{
    static const struct option opts[] = { SC_CLI_OPTS,
                                           { "input", required_argument, NULL, 'i' },
                                           { "count", required_argument, NULL, 'n' },
                                           { "size", required_argument, NULL, 's' },
                                           { "rate", required_argument, NULL, 'r' },
                                           { "linger", required_argument, NULL, 'l' },
                                           { "write", required_argument, NULL, 'w' },
                                           { "wait-readers", required_argument, NULL,
                                             SC_OPT_WAIT_READERS },
                                           SC_RECORD_OPTS,
                                           { "help", no_argument, NULL, 'h' },
                                           { NULL, 0, NULL, 0 } };
    int c;

    o->cli.prog = "seqcast-pub";
    o->linger = 2;
    while ((c = getopt_long(argc, argv, "c:i:n:s:r:l:w:h", opts, NULL)) != -1) {
        char *end = NULL;
        if (sc_cli_option(&o->cli, c, optarg))
            continue;
        switch (sc_cli_record_option(&o->rec, o->cli.prog, c, optarg)) {
        case 1: continue;
        case -1: return 2;
        }
        switch (c) {
        case 'i': o->input = optarg; break;
        case 'n': o->count = strtoull(optarg, &end, 10); break;
        case 's': o->size = strtoull(optarg, &end, 10); break;
        case 'r': o->rate = strtod(optarg, &end); break;
        case 'l': o->linger = strtod(optarg, &end); break;
        case 'w': o->write_to = optarg; break;
        case SC_OPT_WAIT_READERS: o->wait_readers = (uint32_t)strtoul(optarg, &end, 10); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (end && *end) {
            fprintf(stderr, "seqcast-pub: -%c %s: expected a number\n", c, optarg);
            return 2;
        }
    }
    if (optind < argc || (!o->input && !o->count) || (o->input && o->count) || o->size > 65000 ||
        (o->write_to && !o->count)) {
        fprintf(stderr, "seqcast-pub: %s\n",
                optind < argc            ? "unexpected argument (see --help)"
                : o->size > 65000        ? "--size: at most 65000 bytes"
                : (o->input && o->count) ? "--input and --count exclude each other"
                : o->write_to            ? "--write needs --count N"
                                         : "nothing to publish: give --input FILE or --count N");
        return 2;
    }
    return -1;
}

/* --------------------------------------------------------------------- run */

/* --write: the generated messages to a file, nothing on the network */
static int
write_messages(const struct opts *o)
{
    static uint8_t gen[65536];
    FILE *f = strcmp(o->write_to, "-") ? fopen(o->write_to, "wb") : stdout;

    if (!f) {
        fprintf(stderr, "seqcast-pub: --write %s: %s\n", o->write_to, strerror(errno));
        return 1;
    }
    for (uint64_t i = 1; i <= o->count; i++) {
        size_t len = sc_msggen_size(i, o->size);
        uint8_t h[2] = { (uint8_t)(len >> 8), (uint8_t)len };
        sc_msggen_fill(i, gen, len);
        fwrite(h, 1, 2, f);
        fwrite(gen, 1, len, f);
    }
    return fclose(f) == 0 ? 0 : 1;
}

/* The next message into f->msg (or the one held back): 1, 0 at the end, -1
 * for a truncated file. */
static int
next_message(struct feed *f, size_t *len)
{
    uint8_t h[2];
    size_t n;

    if (f->held) {
        *len = f->held - 1;
        f->held = 0;
        return 1;
    }
    if (!f->in) {
        if (f->sent == f->o->count)
            return 0;
        *len = sc_msggen_size(f->sent + 1, f->o->size);
        if (!f->o->size && *len > sc_pub_max_msg(f->pub))
            *len = sc_pub_max_msg(f->pub); /* the mix's big ones, on a MoldUDP64 channel */
        sc_msggen_fill(f->sent + 1, f->msg, *len);
        return 1;
    }
    if ((n = fread(h, 1, 2, f->in)) == 0)
        return 0;
    *len = (size_t)h[0] << 8 | h[1];
    if (n != 2 || fread(f->msg, 1, *len, f->in) != *len)
        return -1;
    f->in_msgs++;
    return 1;
}

/* --rate: when the next message goes -- its time, or the first tick at or
 * after it */
static uint64_t
next_due(const struct feed *f)
{
    uint64_t t = (uint64_t)((double)f->sent * 1e9 / f->o->rate); /* from t0 */

    if (f->tick)
        t = (t + f->tick - 1) / f->tick * f->tick;
    return f->t0 + t;
}

/* Publish what is due: everything (256 at a time) without a rate, else on
 * schedule -- every message whose time has come, then a flush: a paced feed
 * wakes at each message's time (f->tick 0) or on f->tick's grid, so a message
 * waits at most a tick (batch_delay) to leave, with the others due in it.
 * @return messages published; moves to CLOSING at the end. */
static int
publish_due(struct feed *f, uint64_t now)
{
    const struct opts *o = f->o;
    uint64_t due = o->rate > 0 ? (uint64_t)((double)(now - f->t0) * o->rate / 1e9) + 1
                               : f->sent + 256;
    int work = 0, r = 1, rc;
    size_t len;

    if (f->tick && now < next_due(f) && !f->held)
        return 0; /* (the runner calls between ticks too: a deadline that close is spun for) */

    while (f->sent < due && (r = next_message(f, &len)) > 0) {
        if ((rc = sc_pub_send(f->pub, f->msg, len, now)) == -EAGAIN) {
            /* the window is full of unsent data: the publisher's turn, then again */
            if (!f->blocked_since)
                f->blocked_since = now;
            else if (!f->warned && now - f->blocked_since > BLOCKED_WARN_NS) {
                fprintf(stderr, "seqcast-pub: warning: the transport has refused packets for "
                                "5 s (link down, or no peer connected?); still trying\n");
                f->warned = true;
            }
            f->held = len + 1; /* sent next time */
            return work;
        }
        f->blocked_since = 0;
        if (rc < 0) {
            fprintf(stderr, "seqcast-pub: message %llu (%zu bytes): %s\n",
                    (unsigned long long)f->sent + 1, len, strerror(-rc));
            f->error = rc;
            f->phase = DONE;
            return work;
        }
        f->sent++;
        work++;
    }
    if (r <= 0) { /* the end of the messages: close the session */
        f->truncated = r < 0;
        sc_pub_close(f->pub, now);
        f->phase = CLOSING;
    } else if (o->rate > 0) {
        sc_pub_flush(f->pub, now); /* paced: what is due leaves now */
    }
    return work;
}

static void
print_stats(struct feed *f, uint64_t now)
{
    struct sc_pub_stats st;

    if (f->o->cli.stats_every <= 0 || now < f->next_stats)
        return;
    sc_pub_get_stats(f->pub, &st);
    sc_cli_pub_stats(stderr, &st, f->o->cli.json || !f->tty);
    f->next_stats = now + (uint64_t)(f->o->cli.stats_every * 1e9);
}

static int
feed_work(void *self, uint64_t now)
{
    struct feed *f = self;
    int work = 0;

    switch (f->phase) {
    case FEEDING:
        if (f->o->wait_readers && !f->readers_there) { /* ipc, block: until they registered */
            struct sc_pub_stats st;
            sc_pub_get_stats(f->pub, &st);
            if (st.ipc_readers < f->o->wait_readers && !sc_cli_stop)
                break;
            f->readers_there = true;
            f->t0 = now;
        }
        if (sc_cli_stop) { /* the first signal ends the session, without the linger */
            f->stopped = true;
            sc_cli_stop = 0;
            sc_pub_close(f->pub, now);
            f->phase = CLOSING;
            break;
        }
        work = publish_due(f, now);
        break;
    case CLOSING: /* the publisher sends the rest, the End of Session and the FIN */
        if (sc_pub_closed(f->pub)) {
            f->phase = f->stopped ? DONE : LINGERING;
            f->linger_end = now + (uint64_t)(f->o->linger * 1e9);
        } else if (sc_cli_stop) {
            f->phase = DONE; /* a second signal */
        }
        break;
    case LINGERING: /* repairs of the tail and of the End of Session block */
        if (now >= f->linger_end || sc_cli_stop)
            f->phase = DONE;
        break;
    case DONE:
        break;
    }
    print_stats(f, now);
    return work;
}

static uint64_t
feed_deadline(const void *self, uint64_t now)
{
    const struct feed *f = self;
    uint64_t d = UINT64_MAX;

    if (f->phase == FEEDING && f->o->wait_readers && !f->readers_there)
        d = now + 1000000; /* look again in a millisecond */
    else if (f->phase == FEEDING && f->held)
        d = UINT64_MAX; /* refused for now: when the publisher says (its deadline) */
    else if (f->phase == FEEDING)
        d = f->o->rate > 0 ? next_due(f) : now;
    else if (f->phase == LINGERING)
        d = f->linger_end;
    if (f->o->cli.stats_every > 0 && f->next_stats < d)
        d = f->next_stats;
    return d;
}

static const struct sc_agent_ops feed_ops = { "feed", feed_work, feed_deadline, NULL, NULL };

/* The publisher, behind a recorder when --record asks for one. */
static int
create(struct sc_pub **pub, const struct sc_config *cfg, const struct sc_channel_cfg *ch,
       const struct sc_record_params *rec, struct sc_err *err)
{
    struct sc_xport_params xp;
    struct sc_xport *x;
    int rc;

    if (!rec->path)
        return sc_pub_create(pub, cfg, ch->name, err);
    if ((rc = sc_xport_open(&x, cfg, ch, SC_XPORT_PUB, err)) < 0)
        return rc;
    sc_xport_params_from(&xp, ch, SC_XPORT_PUB);
    if ((rc = sc_xport_record_wrap(&x, x, &xp, rec, err)) < 0)
        return rc;
    return sc_pub_create_on(pub, ch, x, 0, err);
}

/* @return -1 when it ran (r filled), else the exit status */
static int
run(struct opts *o, const struct sc_channel_cfg **chp, struct result *r)
{
    static struct sc_config cfg;
    static struct feed f;
    struct sc_runner *run;
    struct sc_shmstat *shm = NULL;
    char labels[SC_SHMSTAT_LABELS];
    struct sc_err err;

    f.o = o;
    f.tty = isatty(STDERR_FILENO);
    if (o->input) {
        uint64_t size;
        int fd = sc_cli_input_open("seqcast-pub", o->input, &size, &f.gzip);

        if (fd < 0)
            return 1;
        if (!(f.in = fd == STDIN_FILENO ? stdin : fdopen(fd, "rb"))) {
            fprintf(stderr, "seqcast-pub: %s: %s\n", o->input, strerror(errno));
            return 1;
        }
    }
    if (!(*chp = sc_cli_config(&o->cli, &cfg)))
        return 2;
    if (create(&f.pub, &cfg, *chp, &o->rec, &err) < 0 ||
        sc_runner_create(&run, o->cli.spin ? SC_IDLE_SPIN : SC_IDLE_SLEEP, &err) < 0) {
        fprintf(stderr, "seqcast-pub: %s\n", err.msg);
        return 1;
    }
    /* paced batched PGM or MoldUDP64 packets: the messages due within one
     * batch_delay share one (ipc and raw framing have no packets to share) */
    if (o->rate > 0 && (*chp)->framing == SC_FRAMING_BATCHED &&
        (*chp)->transport != SC_TRANSPORT_IPC)
        f.tick = (*chp)->batch_delay_ns;
    sc_runner_add(run, (struct sc_agent){ &feed_ops, &f });
    sc_runner_add(run, sc_pub_agent(f.pub));
    sc_cli_shm_labels(*chp, labels, sizeof(labels));
    if (sc_shmstat_create_cfg(&shm, &cfg.stats, "seqcast-pub", (*chp)->name, &err) < 0 ||
        sc_shmstat_add_pub(shm, f.pub, labels, &err) < 0) {
        fprintf(stderr, "seqcast-pub: stats.shm: %s\n", err.msg);
        return 1;
    }
    if (sc_cli_shm_open(shm, run, "seqcast-pub") < 0)
        return 1;
    sc_cli_signals();
    if (o->cli.stats_every == 0 && f.tty)
        o->cli.stats_every = 1;
    f.t0 = sc_clock_now();
    f.next_stats = f.t0 + (uint64_t)(o->cli.stats_every * 1e9);
    while (f.phase != DONE)
        sc_runner_run_once(run, MAX_SLEEP_NS);
    if (f.in && f.in != stdin) {
        fclose(f.in);
        f.in = NULL;
        /* gzip's verdict counts only when the whole file was asked for */
        if (sc_cli_input_close(-1, f.gzip) < 0 && !f.stopped && !f.truncated && !f.error) {
            fprintf(stderr, "seqcast-pub: %s: gzip could not decompress it whole\n", o->input);
            f.truncated = true;
        }
    }
    sc_pub_get_stats(f.pub, &r->st);
    r->sent = f.sent;
    r->ns = sc_runner_now(run) - f.t0;
    r->truncated = f.truncated;
    r->stopped = f.stopped;
    r->closed = sc_pub_closed(f.pub);
    r->error = f.error;
    if (f.truncated)
        fprintf(stderr, "seqcast-pub: %s: truncated after %llu messages\n", o->input,
                (unsigned long long)f.in_msgs);
    if (!r->closed && !f.error)
        fprintf(stderr, "seqcast-pub: interrupted while closing: the session's end was not "
                        "sent\n");
    sc_runner_destroy(run);
    sc_shmstat_destroy(shm);
    sc_pub_destroy(f.pub);
    return -1;
}

/* ------------------------------------------------------------------ report */

static int
report(const struct sc_channel_cfg *ch, const struct result *r)
{
    sc_cli_warn_rcvbuf("seqcast-pub", r->st.rcvbuf_requested, r->st.rcvbuf_effective);
    printf("{\"seqcast-pub\": {\"channel\": \"%s\", \"framing\": \"%s\", \"sent\": %llu, "
           "\"seconds\": %.3f, ",
           ch->name, ch->framing == SC_FRAMING_RAW ? "raw" : "batched",
           (unsigned long long)r->sent, (double)r->ns / 1e9);
    sc_cli_json_pub(stdout, &r->st);
    printf("}}\n");
    if (r->st.close_unsent)
        fprintf(stderr, "seqcast-pub: the transport took nothing for close_timeout: %llu packets "
                        "were never sent\n", (unsigned long long)r->st.close_unsent);
    return r->truncated || r->stopped || r->error || !r->closed || r->st.close_unsent ? 1 : 0;
}

int
main(int argc, char **argv)
{
    static struct opts o;
    static struct result r;
    const struct sc_channel_cfg *ch = NULL;
    int rc;

    if ((rc = parse(argc, argv, &o)) >= 0)
        return rc;
    if (o.write_to)
        return write_messages(&o);
    if ((rc = run(&o, &ch, &r)) >= 0)
        return rc;
    return report(ch, &r);
}
