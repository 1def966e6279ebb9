/* seqcast-pub: publish messages on a channel and serve repairs. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seqcast/pub.h>

#include "apps/cli.h"
#include "apps/msggen.h"
#include "engine/channel.h"
#include "engine/clock.h"
#include "engine/pub_int.h"
#include <seqcast/pcap.h>

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: seqcast-pub [options] (--input FILE | --count N [--size BYTES] [--rate R])\n"
            "\n"
            "Publishes messages as sequenced PGM multicast and repairs what receivers lose.\n"
            "\n"
            "  -i, --input FILE        messages from FILE ('-' = stdin), each a 2-byte big-endian\n"
            "                          length then the bytes (NASDAQ's binary ITCH file framing)\n"
            "  -n, --count N           N generated messages; their content is a function of the\n"
            "                          sequence (seqcast-sub --verify checks every byte)\n"
            "  -s, --size BYTES        generated message size (default 0 = mixed: 8 to 64 bytes,\n"
            "                          and every thousandth message 3000 bytes)\n"
            "  -r, --rate MSGS         messages per second (default 0 = as fast as possible)\n"
            "  -l, --linger SECONDS    keep serving NAKs after the session's end (default 2)\n"
            "  -w, --write FILE        with --count: write the generated messages to FILE in\n"
            "                          --input's framing instead of publishing them\n"
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

struct input {
    FILE *f;
    uint8_t buf[65536];
    uint64_t msgs;
    const char *path;
};

/* Next message from the file: 1 = got one, 0 = end, -1 = truncated file. */
static int
next_input(struct input *in, size_t *len)
{
    uint8_t h[2];
    size_t n = fread(h, 1, 2, in->f);

    if (n == 0)
        return 0;
    if (n != 2)
        return -1;
    *len = (size_t)h[0] << 8 | h[1];
    if (fread(in->buf, 1, *len, in->f) != *len)
        return -1;
    in->msgs++;
    return 1;
}

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
    return sc_pub_create_on(pub, ch, x, sc_seed_random(), err);
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = { SC_CLI_OPTS,
                                           { "input", required_argument, NULL, 'i' },
                                           { "count", required_argument, NULL, 'n' },
                                           { "size", required_argument, NULL, 's' },
                                           { "rate", required_argument, NULL, 'r' },
                                           { "linger", required_argument, NULL, 'l' },
                                           { "write", required_argument, NULL, 'w' },
                                           SC_RECORD_OPTS,
                                           { "help", no_argument, NULL, 'h' },
                                           { NULL, 0, NULL, 0 } };
    static struct sc_config cfg;
    static struct input in;
    static uint8_t gen[65536];
    struct sc_cli cli = { .prog = "seqcast-pub" };
    struct sc_record_params rec = { 0 };
    const struct sc_channel_cfg *ch;
    struct sc_pub *pub;
    struct sc_pub_stats st;
    struct sc_err err;
    const char *input = NULL, *write_to = NULL;
    uint64_t count = 0, size = 0, t0, now, next_stats, linger_end;
    double rate = 0, linger = 2;
    bool tty = isatty(STDERR_FILENO), done = false, truncated = false;
    uint64_t sent = 0, blocked_since = 0;
    bool warned = false, stopped, closed;
    int c;

    while ((c = getopt_long(argc, argv, "c:i:n:s:r:l:w:h", opts, NULL)) != -1) {
        char *end = NULL;
        if (sc_cli_option(&cli, c, optarg))
            continue;
        switch (sc_cli_record_option(&rec, "seqcast-pub", c, optarg)) {
        case 1: continue;
        case -1: return 2;
        }
        switch (c) {
        case 'i': input = optarg; break;
        case 'n': count = strtoull(optarg, &end, 10); break;
        case 's': size = strtoull(optarg, &end, 10); break;
        case 'r': rate = strtod(optarg, &end); break;
        case 'l': linger = strtod(optarg, &end); break;
        case 'w': write_to = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (end && *end) {
            fprintf(stderr, "seqcast-pub: -%c %s: expected a number\n", c, optarg);
            return 2;
        }
    }
    if (optind < argc || (!input && !count) || (input && count) || size > 65000) {
        fprintf(stderr, "seqcast-pub: %s\n",
                optind < argc      ? "unexpected argument (see --help)"
                : size > 65000     ? "--size: at most 65000 bytes"
                : (input && count) ? "--input and --count exclude each other"
                                   : "nothing to publish: give --input FILE or --count N");
        return 2;
    }
    if (write_to) { /* the generated messages to a file, nothing on the network */
        FILE *f = strcmp(write_to, "-") ? fopen(write_to, "wb") : stdout;
        if (!f || !count) {
            fprintf(stderr, "seqcast-pub: --write %s: %s\n", write_to,
                    f ? "needs --count N" : strerror(errno));
            return f ? 2 : 1;
        }
        for (uint64_t i = 1; i <= count; i++) {
            size_t len = sc_msggen_size(i, size);
            uint8_t h[2] = { (uint8_t)(len >> 8), (uint8_t)len };
            sc_msggen_fill(i, gen, len);
            fwrite(h, 1, 2, f);
            fwrite(gen, 1, len, f);
        }
        return fclose(f) == 0 ? 0 : 1;
    }
    if (input) {
        in.path = input;
        in.f = strcmp(input, "-") ? fopen(input, "rb") : stdin;
        if (!in.f) {
            fprintf(stderr, "seqcast-pub: %s: %s\n", input, strerror(errno));
            return 1;
        }
    }
    if (!(ch = sc_cli_config(&cli, &cfg)))
        return 2;
    if (create(&pub, &cfg, ch, &rec, &err) < 0) {
        fprintf(stderr, "seqcast-pub: %s\n", err.msg);
        return 1;
    }
    sc_cli_signals();
    if (cli.stats_every == 0 && tty)
        cli.stats_every = 1;
    t0 = now = sc_clock_ns();
    next_stats = t0 + (uint64_t)(cli.stats_every * 1e9);
    while (!done && !sc_cli_stop) {
        /* publish what is due: everything at once without a rate, else on schedule */
        uint64_t due = rate > 0 ? (uint64_t)((double)(now - t0) * rate / 1e9) + 1 : sent + 256;
        while (sent < due && !done) {
            size_t len;
            const uint8_t *msg = gen;
            int rc;
            if (input) {
                int r = next_input(&in, &len);
                if (r <= 0) {
                    truncated = r < 0;
                    done = true;
                    break;
                }
                msg = in.buf;
            } else {
                len = sc_msggen_size(sent + 1, size);
                sc_msggen_fill(sent + 1, gen, len);
            }
            while ((rc = sc_pub_send(pub, msg, len, now)) == -EAGAIN && !sc_cli_stop) {
                sc_pub_do_work(pub, now);
                now = sc_clock_ns();
                if (!blocked_since)
                    blocked_since = now;
                else if (!warned && now - blocked_since > 5000000000ull) {
                    fprintf(stderr, "seqcast-pub: warning: the transport has refused packets for "
                                    "5 s (link down, or no peer connected?); still trying\n");
                    warned = true;
                }
            }
            blocked_since = 0;
            if (rc < 0) {
                fprintf(stderr, "seqcast-pub: message %llu (%zu bytes): %s\n",
                        (unsigned long long)sent + 1, len, strerror(-rc));
                return 1;
            }
            sent++;
            if (count && sent == count)
                done = true;
        }
        if (done || rate > 0)
            sc_pub_flush(pub, now);
        while (sc_pub_do_work(pub, now) > 0)
            now = sc_clock_ns();
        now = sc_clock_ns();
        if (cli.stats_every > 0 && now >= next_stats) {
            sc_pub_get_stats(pub, &st);
            sc_cli_pub_stats(stderr, &st, cli.json || !tty);
            next_stats = now + (uint64_t)(cli.stats_every * 1e9);
        }
        if (!done && rate > 0) {
            uint64_t next_msg = t0 + (uint64_t)((double)sent * 1e9 / rate);
            uint64_t d = sc_pub_deadline(pub, now);
            sc_cli_wait(&cli, sc_pub_fd(pub), d < next_msg ? d : next_msg, 10000000);
            now = sc_clock_ns();
        }
    }
    if (truncated)
        fprintf(stderr, "seqcast-pub: %s: truncated after %llu messages\n", in.path,
                (unsigned long long)in.msgs);
    /* the end: do_work sends the backlog (within data_rate), the End of Session
     * block and the FIN SPMs with the real time; a second signal gives up */
    stopped = sc_cli_stop;
    sc_cli_stop = 0;
    sc_pub_close(pub, now);
    while (!sc_cli_stop) {
        sc_pub_do_work(pub, now);
        now = sc_clock_ns();
        if (sc_pub_closed(pub))
            break;
        sc_cli_wait(&cli, sc_pub_fd(pub), sc_pub_deadline(pub, now), 10000000);
        now = sc_clock_ns();
        if (cli.stats_every > 0 && now >= next_stats) {
            sc_pub_get_stats(pub, &st);
            sc_cli_pub_stats(stderr, &st, cli.json || !tty);
            next_stats = now + (uint64_t)(cli.stats_every * 1e9);
        }
    }
    if (!sc_pub_closed(pub))
        fprintf(stderr, "seqcast-pub: interrupted while closing: the session's end was not "
                        "sent\n");
    /* linger: repairs of the tail and of the End of Session block */
    linger_end = now + (uint64_t)(linger * 1e9);
    while (!stopped && !sc_cli_stop && now < linger_end) {
        while (sc_pub_do_work(pub, now) > 0)
            now = sc_clock_ns();
        sc_cli_wait(&cli, sc_pub_fd(pub), sc_pub_deadline(pub, now) < linger_end ? sc_pub_deadline(pub, now)
                                                                           : linger_end,
                    50000000);
        now = sc_clock_ns();
        if (cli.stats_every > 0 && now >= next_stats) {
            sc_pub_get_stats(pub, &st);
            sc_cli_pub_stats(stderr, &st, cli.json || !tty);
            next_stats = now + (uint64_t)(cli.stats_every * 1e9);
        }
    }
    sc_pub_get_stats(pub, &st);
    sc_cli_warn_rcvbuf("seqcast-pub", st.rcvbuf_requested, st.rcvbuf_effective);
    printf("{\"seqcast-pub\": {\"channel\": \"%s\", \"framing\": \"%s\", \"sent\": %llu, "
           "\"seconds\": %.3f, ",
           ch->name, ch->framing == SC_FRAMING_RAW ? "raw" : "batched",
           (unsigned long long)sent, (double)(now - t0) / 1e9);
    sc_cli_json_pub(stdout, &st);
    printf("}}\n");
    closed = sc_pub_closed(pub);
    if (st.close_unsent)
        fprintf(stderr, "seqcast-pub: the transport took nothing for close_timeout: %llu packets "
                        "were never sent\n", (unsigned long long)st.close_unsent);
    sc_pub_destroy(pub);
    if (in.f && in.f != stdin)
        fclose(in.f);
    return truncated || stopped || sc_cli_stop || !closed || st.close_unsent ? 1 : 0;
}
