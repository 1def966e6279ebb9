/* seqcast-rewind: read a channel's history from archives (seqcast-archive
 * --rewind), then, without --until, its live messages as they are archived.
 *
 * parse   the options
 * run     the rewind client (<seqcast/rewind.h>) on a runner beside a watch
 *         agent that says when to stop
 * report  the JSON summary (the client's counters, the ranges no archive had)
 *         and the exit status
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/agent.h>
#include <seqcast/config.h>
#include <seqcast/rewind.h>

#include "apps/cli.h"
#include "apps/msggen.h"

#define MAX_RANGES 64
#define MAX_SLEEP_NS 100000000u

struct opts {
    struct sc_rewind_cfg rc;
    uint64_t from, until;
    const char *output;
    bool verify;
    double timeout;
};

struct app {
    const struct opts *o;
    struct sc_rewind *r;
    FILE *out;
    uint64_t end, verify_errors, first_bad, out_of_order, last_seq;
    unsigned nranges;
    uint64_t gaps, gap_msgs;
    uint64_t ranges[MAX_RANGES][2];
    char reason[32];
    bool stop;
    uint64_t t_first, t_done; /* the first message came, until was reached (clock ns) */
};

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: seqcast-rewind --server ENDPOINT[,ENDPOINT...] [options]\n"
            "\n"
            "Logs in to an archive's rewind server (seqcast-archive --rewind: SoupBinTCP 4.0)\n"
            "asking for --from, and delivers every message once, in order: the archive's\n"
            "history, then live messages as the archive records them. A lost archive, a\n"
            "timeout, or a range it lacks: the next one is asked, from the same sequence; a\n"
            "range every archive lacks is reported (not_in_archive) and skipped.\n"
            "\n"
            "  -s, --server LIST       up to 4 archives: ADDR:PORT, tcp:ADDR:PORT or unix:/path\n"
            "  -f, --from SEQ          the first sequence wanted (default 1)\n"
            "  -u, --until SEQ         stop after SEQ (default: follow live until --timeout)\n"
            "  -o, --output FILE       the messages to FILE, each a 2-byte big-endian length then\n"
            "                          the bytes (seqcast-pub --input's framing)\n"
            "  -v, --verify            check every message is seqcast-pub --count's for its sequence\n"
            "  -t, --timeout SECONDS   stop after SECONDS (default: on SIGINT/SIGTERM)\n"
            "      --user NAME --password PW   the login (default blanks)\n"
            "\n"
            "Prints a JSON summary. Exit status 0 when --until was reached (or the timeout with\n"
            "no --until) with nothing lacking and nothing wrong; 1 otherwise; 2 for bad usage.\n");
}

static int
add_servers(struct opts *o, const char *list)
{
    char buf[1024], *save = NULL;

    snprintf(buf, sizeof(buf), "%s", list);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (o->rc.nservers == SC_REWIND_MAX_SERVERS || !strchr(t, ':'))
            return -1;
        snprintf(o->rc.servers[o->rc.nservers++], sizeof(o->rc.servers[0]), "%s%s",
                 strncmp(t, "tcp:", 4) && strncmp(t, "unix:", 5) ? "tcp:" : "", t);
    }
    return 0;
}

static int
parse(int argc, char **argv, struct opts *o)
{
    static const struct option opts[] = {{"server", required_argument, NULL, 's'},
                                         {"from", required_argument, NULL, 'f'},
                                         {"until", required_argument, NULL, 'u'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"verify", no_argument, NULL, 'v'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"user", required_argument, NULL, 'U'},
                                         {"password", required_argument, NULL, 'P'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;

    o->from = 1;
    o->rc.heartbeat_ns = 1000000000u;
    o->rc.timeout_ns = 3000000000u;
    o->rc.reconnect_ns = 200000000u;
    while ((c = getopt_long(argc, argv, "s:f:u:o:vt:h", opts, NULL)) != -1) {
        char *e = NULL;
        switch (c) {
        case 's':
            if (add_servers(o, optarg) < 0) {
                fprintf(stderr, "seqcast-rewind: --server %s: up to %d endpoints, "
                                "ADDR:PORT, tcp:ADDR:PORT or unix:/path\n",
                        optarg, SC_REWIND_MAX_SERVERS);
                return 2;
            }
            break;
        case 'f': o->from = strtoull(optarg, &e, 10); break;
        case 'u': o->until = strtoull(optarg, &e, 10); break;
        case 'o': o->output = optarg; break;
        case 'v': o->verify = true; break;
        case 't': o->timeout = strtod(optarg, &e); break;
        case 'U': snprintf(o->rc.user, sizeof(o->rc.user), "%s", optarg); break;
        case 'P': snprintf(o->rc.password, sizeof(o->rc.password), "%s", optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (e && (*e || e == optarg)) {
            fprintf(stderr, "seqcast-rewind: %s: expected a number\n", optarg);
            return 2;
        }
    }
    if (!o->rc.nservers || !o->from || (o->until && o->until < o->from) || optind < argc) {
        usage(stderr);
        return 2;
    }
    return -1;
}

static void
on_msg(void *ctx, uint64_t seq, const void *msg, size_t len)
{
    struct app *a = ctx;

    if (!a->t_first)
        a->t_first = sc_clock_now();
    if (a->last_seq && seq != a->last_seq + 1)
        a->out_of_order++; /* a reported gap comes between; see on_gap */
    a->last_seq = seq;
    if (a->out) {
        uint8_t h[2] = {(uint8_t)(len >> 8), (uint8_t)len};
        fwrite(h, 1, 2, a->out);
        fwrite(msg, 1, len, a->out);
    }
    if (a->o->verify && !sc_msggen_check(seq, msg, len) && !a->verify_errors++)
        a->first_bad = seq;
}

static void
on_gap(void *ctx, uint64_t from, uint64_t to, const char *why)
{
    struct app *a = ctx;

    fprintf(stderr, "seqcast-rewind: %llu-%llu not_in_archive (%s)\n", (unsigned long long)from,
            (unsigned long long)to, why);
    if (a->nranges < MAX_RANGES) {
        a->ranges[a->nranges][0] = from;
        a->ranges[a->nranges++][1] = to;
    }
    snprintf(a->reason, sizeof(a->reason), "%s", why);
    a->gaps++;
    a->gap_msgs += to - from + 1;
    a->last_seq = to;
}

static int
watch_work(void *self, uint64_t now)
{
    struct app *a = self;

    if (!a->t_done && sc_rewind_done(a->r))
        a->t_done = now;
    a->stop = sc_cli_stop || now >= a->end || sc_rewind_done(a->r);
    return 0;
}

static uint64_t
watch_deadline(const void *self, uint64_t now)
{
    const struct app *a = self;
    uint64_t s = now + MAX_SLEEP_NS;

    return a->end < s ? a->end : s;
}

static const struct sc_agent_ops watch_ops = {"watch", watch_work, watch_deadline, NULL, NULL};

static bool
stop_now(void *ctx)
{
    return ((const struct app *)ctx)->stop;
}

int
main(int argc, char **argv)
{
    static struct opts o;
    static struct app a;
    struct sc_rewind_stats st;
    struct sc_runner *run;
    struct sc_err err;
    int rc;

    if ((rc = parse(argc, argv, &o)) >= 0)
        return rc;
    a.o = &o;
    if (o.output && !(a.out = strcmp(o.output, "-") ? fopen(o.output, "wb") : stdout)) {
        fprintf(stderr, "seqcast-rewind: %s: %s\n", o.output, strerror(errno));
        return 1;
    }
    if (sc_rewind_create(&a.r, &o.rc, o.from, o.until, on_msg, on_gap, &a, &err) < 0 ||
        sc_runner_create(&run, SC_IDLE_SLEEP, &err) < 0) {
        fprintf(stderr, "seqcast-rewind: %s\n", err.msg);
        return 1;
    }
    sc_cli_signals();
    a.end = o.timeout > 0 ? sc_clock_now() + (uint64_t)(o.timeout * 1e9) : UINT64_MAX;
    sc_runner_add(run, sc_rewind_agent(a.r));
    sc_runner_add(run, (struct sc_agent){&watch_ops, &a});
    sc_runner_run(run, stop_now, &a, NULL, MAX_SLEEP_NS);
    sc_runner_destroy(run);
    if (a.out && a.out != stdout)
        fclose(a.out);
    sc_rewind_get_stats(a.r, &st);
    printf("{\"seqcast-rewind\": {\"from\": %llu, \"next\": %llu, \"done\": %s, "
           "\"verify_errors\": %llu, \"out_of_order\": %llu, \"not_in_archive\": [",
           (unsigned long long)o.from, (unsigned long long)sc_rewind_next(a.r),
           sc_rewind_done(a.r) ? "true" : "false", (unsigned long long)a.verify_errors,
           (unsigned long long)a.out_of_order);
    for (unsigned i = 0; i < a.nranges; i++)
        printf("%s{\"first\": %llu, \"last\": %llu}", i ? ", " : "",
               (unsigned long long)a.ranges[i][0], (unsigned long long)a.ranges[i][1]);
    printf("], ");
    if (a.t_first && a.t_done > a.t_first) /* first message to until: the rewind's rate */
        printf("\"seconds\": %.6f, \"msgs_per_s\": %.0f, ", (a.t_done - a.t_first) / 1e9,
               (double)st.msgs * 1e9 / (double)(a.t_done - a.t_first));
    sc_cli_json_stats(stdout, SC_COUNTERS_REWIND, &st, NULL);
    printf("}}\n");
    if (a.verify_errors)
        fprintf(stderr, "seqcast-rewind: %llu messages differ from seqcast-pub --count's "
                        "(first: %llu)\n", (unsigned long long)a.verify_errors,
                (unsigned long long)a.first_bad);
    rc = a.verify_errors || a.out_of_order || a.gaps || (o.until && !sc_rewind_done(a.r));
    sc_rewind_destroy(a.r);
    return rc;
}
