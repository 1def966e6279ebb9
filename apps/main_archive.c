/* seqcast-archive: record a channel to disk; read an archive back.
 *
 * parse   the options (apps/cli.h's channel options, the store's, --dump)
 * run     the archive agents (--dir's, or one per entry of the configuration's
 *         archive: list) on one runner beside a watch agent that prints
 *         stats, says when appends stop and resume, and says when to stop;
 *         or (--dump) read an archive from its first sequence to its last
 * report  the JSON summary and the exit status
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seqcast/agent.h>
#include <seqcast/archive.h>
#include <seqcast/sub.h>

#include "apps/cli.h"
#include "apps/msggen.h"

#define MAX_SLEEP_NS 100000000u
#define MAX_RANGES 64

struct opts {
    struct sc_cli cli;
    struct sc_archive_params ap;
    const char *dump;   /* --dump DIR */
    const char *output; /* --output FILE (with --dump) */
    char rewind[200];   /* --rewind, as an endpoint */
    const char *rewind_session; /* --rewind-session NAME */
    bool list, verify, quiet;
    const char *store_opts; /* the last of --segment-size .. --rewind-session given */
    uint64_t count;     /* --count */
    double timeout;     /* --timeout */
};

struct rec;
struct watch {
    const struct opts *o;
    struct rec *r; /* the channels recorded */
    uint32_t n;
    uint64_t end, next_stats;
    bool tty, stop;
};

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: seqcast-archive --dir DIR [options]        record a channel\n"
            "       seqcast-archive --config FILE [--channel NAME] [options]\n"
            "                                                  record the file's archive: list\n"
            "       seqcast-archive --dump DIR [--output FILE] [--verify] [--list]\n"
            "\n"
            "Subscribes to a channel (PGM or MoldUDP64, as seqcast-sub) and appends every\n"
            "message it delivers, with its 64-bit sequence, to segment files in DIR. What it\n"
            "never received (a loss, the time it was down) is recorded as a gap. Restarted on\n"
            "the same DIR it recovers (a torn tail record is cut) and carries on.\n"
            "Without --dir, it records every channel of the configuration's archive: list\n"
            "(docs/CONFIG.md), each in its own directory with its own re-request and rewind\n"
            "servers, in one process (--channel NAME: that one only); the store and server\n"
            "options below are then the list's keys, not options.\n"
            "\n"
            "  -d, --dir DIR           the archive's directory (created; its parent must exist)\n"
            "      --segment-size SIZE start a new segment file past SIZE (default 64M; K, M, G or\n"
            "                          KiB, MiB, GiB; KB, MB, GB are powers of 1000)\n"
            "      --index-every SIZE  one index entry per SIZE of records (default 4K)\n"
            "      --retain-size SIZE  delete whole oldest segments past SIZE in all (default: keep)\n"
            "      --retain-age SECS   ... and those last written SECS ago (s, m, h, d; default: keep)\n"
            "      --fsync POLICY      batch (default: once per wake-up that appended), message,\n"
            "                          or none (left to the kernel)\n"
            "      --fsync-interval D  batch: a sync starts at most every D (default 5ms; 0: one\n"
            "                          after another); rewinds serve what is durable\n"
            "      --serve ADDR:PORT   answer MoldUDP64 re-requests for anything archived, on\n"
            "                          this unicast address (point subscribers' mold.request_servers\n"
            "                          at it); the publisher's defences: mold.request_allow,\n"
            "                          mold.request_max, rtx.budget, rtx.rate\n"
            "      --rewind ADDR:PORT  serve rewinds: SoupBinTCP 4.0 sessions (TCP; or\n"
            "                          unix:/path) whose Login Request's sequence number picks\n"
            "                          the start (1: the first held, 0: the next archived); the\n"
            "                          archive's messages, then live ones as they are archived\n"
            "      --rewind-session NAME  the config's session whose users, heartbeat, timeout\n"
            "                          and limits the rewinds use (default: the session defaults,\n"
            "                          any login accepted)\n"
            "  -n, --count N           stop after N messages archived (on every channel)\n"
            "  -t, --timeout SECONDS   stop after SECONDS (default: on SIGINT/SIGTERM)\n"
            "  -q, --quiet             no source up/down lines\n"
            "      --dump DIR          read the archive in DIR (not being written): every\n"
            "                          message, gap and damaged range, a JSON summary\n"
            "  -o, --output FILE       with --dump: the messages to FILE ('-' = stdout), each a\n"
            "                          2-byte big-endian length then the bytes (seqcast-pub\n"
            "                          --input's framing)\n"
            "  -v, --verify            with --dump: check every message is seqcast-pub --count's\n"
            "                          for its sequence\n"
            "      --list              with --dump: one line per message, gap, damaged range\n"
            SC_CLI_HELP
            "\n"
            "Prints a JSON summary on stdout (the archive's counters, then its subscriber's),\n"
            "a line per channel recorded.\n"
            "Exit status 0, or 1 if appends were stopped at the end (disk full, I/O error)\n"
            "or the archive could not be opened; 2 for bad usage.\n"
            "Example:  seqcast-archive --dir /var/lib/seqcast/feed --set protocol=moldudp64\n");
}

/* --retain-age: bare seconds, or a duration as the keys take it ("90m", "2h", "7d") */
static bool
parse_age(const char *s, uint64_t *secs)
{
    uint64_t ns;

    if (*s && s[strspn(s, "0123456789")] == '\0') {
        *secs = strtoull(s, NULL, 10);
        return true;
    }
    if (sc_config_parse_duration(s, &ns) < 0)
        return false;
    *secs = ns / 1000000000u;
    return true;
}

static bool
parse_size(const char *s, uint64_t *bytes)
{
    return sc_config_parse_size(s, bytes) == 0;
}

static int
bad(const char *opt, const char *arg, const char *want)
{
    fprintf(stderr, "seqcast-archive: %s %s: expected %s\n", opt, arg, want);
    return 2;
}

/* @return -1 to go on, else the exit status */
static int
parse(int argc, char **argv, struct opts *o)
{
    static const struct option opts[] = {SC_CLI_OPTS,
                                         {"dir", required_argument, NULL, 'd'},
                                         {"segment-size", required_argument, NULL, SC_OPT_SEGMENT_SIZE},
                                         {"index-every", required_argument, NULL, SC_OPT_INDEX_EVERY},
                                         {"retain-size", required_argument, NULL, SC_OPT_RETAIN_SIZE},
                                         {"retain-age", required_argument, NULL, SC_OPT_RETAIN_AGE},
                                         {"fsync", required_argument, NULL, SC_OPT_FSYNC},
                                         {"fsync-interval", required_argument, NULL,
                                          SC_OPT_FSYNC_INTERVAL},
                                         {"serve", required_argument, NULL, SC_OPT_SERVE},
                                         {"rewind", required_argument, NULL, SC_OPT_REWIND},
                                         {"rewind-session", required_argument, NULL, SC_OPT_REWIND_SESSION},
                                         {"count", required_argument, NULL, 'n'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"dump", required_argument, NULL, SC_OPT_DUMP},
                                         {"output", required_argument, NULL, 'o'},
                                         {"verify", no_argument, NULL, 'v'},
                                         {"list", no_argument, NULL, SC_OPT_LIST},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c, li = -1;

    o->cli.prog = "seqcast-archive";
    o->ap.fsync = SC_FSYNC_BATCH;
    o->ap.fsync_interval_ns = 5000000;
    while ((c = getopt_long(argc, argv, "c:d:n:t:qo:vh", opts, &li)) != -1) {
        char *e = NULL;
        if (sc_cli_option(&o->cli, c, optarg))
            continue;
        if (c >= SC_OPT_SEGMENT_SIZE && c <= SC_OPT_REWIND_SESSION && c != SC_OPT_DUMP &&
            c != SC_OPT_LIST && li >= 0) /* the store's and servers' (long options only) */
            o->store_opts = opts[li].name;
        li = -1;
        switch (c) {
        case 'd': o->ap.dir = optarg; break;
        case SC_OPT_SEGMENT_SIZE:
            if (!parse_size(optarg, &o->ap.segment_bytes) || o->ap.segment_bytes < 4096)
                return bad("--segment-size", optarg, "a size of at least 4K, e.g. 64M");
            break;
        case SC_OPT_INDEX_EVERY:
            if (!parse_size(optarg, &o->ap.index_bytes) || !o->ap.index_bytes)
                return bad("--index-every", optarg, "a size, e.g. 4K");
            break;
        case SC_OPT_RETAIN_SIZE:
            if (!parse_size(optarg, &o->ap.retain_bytes))
                return bad("--retain-size", optarg, "a size, e.g. 100G");
            break;
        case SC_OPT_RETAIN_AGE:
            if (!parse_age(optarg, &o->ap.retain_age_s))
                return bad("--retain-age", optarg, "seconds, or a number with s, m, h or d");
            break;
        case SC_OPT_FSYNC:
            if (!strcmp(optarg, "batch"))
                o->ap.fsync = SC_FSYNC_BATCH;
            else if (!strcmp(optarg, "message"))
                o->ap.fsync = SC_FSYNC_MESSAGE;
            else if (!strcmp(optarg, "none"))
                o->ap.fsync = SC_FSYNC_NONE;
            else
                return bad("--fsync", optarg, "batch, message or none");
            break;
        case SC_OPT_FSYNC_INTERVAL:
            if (sc_config_parse_duration(optarg, &o->ap.fsync_interval_ns) < 0 ||
                o->ap.fsync_interval_ns > 10000000000ull)
                return bad("--fsync-interval", optarg, "a duration up to 10s, e.g. 5ms or 0");
            break;
        case SC_OPT_SERVE: {
            char host[64];
            const char *colon = strrchr(optarg, ':');
            struct in_addr ia;
            unsigned long port = colon ? strtoul(colon + 1, &e, 10) : 0;
            if (!colon || (size_t)(colon - optarg) >= sizeof(host) || !port || port > 65535 ||
                *e)
                return bad("--serve", optarg, "ADDR:PORT, e.g. 127.0.0.1:26500");
            e = NULL;
            memcpy(host, optarg, (size_t)(colon - optarg));
            host[colon - optarg] = 0;
            if (inet_pton(AF_INET, host, &ia) != 1)
                return bad("--serve", optarg, "an IPv4 address before the port");
            o->ap.serve_addr = ia.s_addr;
            o->ap.serve_port = (uint16_t)port;
            break;
        }
        case SC_OPT_REWIND:
            if (!strchr(optarg, ':'))
                return bad("--rewind", optarg, "ADDR:PORT, tcp:ADDR:PORT or unix:/path");
            snprintf(o->rewind, sizeof(o->rewind), "%s%s",
                     strncmp(optarg, "tcp:", 4) && strncmp(optarg, "unix:", 5) ? "tcp:" : "",
                     optarg);
            o->ap.rewind = o->rewind;
            break;
        case SC_OPT_REWIND_SESSION: o->rewind_session = optarg; break;
        case 'n': o->count = strtoull(optarg, &e, 10); break;
        case 't': o->timeout = strtod(optarg, &e); break;
        case 'q': o->quiet = true; break;
        case SC_OPT_DUMP: o->dump = optarg; break;
        case 'o': o->output = optarg; break;
        case 'v': o->verify = true; break;
        case SC_OPT_LIST: o->list = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (e && (*e || e == optarg))
            return bad(c == 'n' ? "--count" : "--timeout", optarg, "a number");
    }
    if (optind < argc) {
        fprintf(stderr, "seqcast-archive: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (!o->dump && !o->ap.dir && !o->cli.config) {
        fprintf(stderr, "seqcast-archive: --dir DIR is needed, or --config FILE with an archive: "
                        "section (or --dump DIR to read one; see --help)\n");
        return 2;
    }
    if (!o->dump && !o->ap.dir && o->store_opts) {
        fprintf(stderr, "seqcast-archive: --%s goes with --dir; with the configuration's archive: "
                        "section, set it there\n", o->store_opts);
        return 2;
    }
    if (o->dump && o->ap.dir) {
        fprintf(stderr, "seqcast-archive: --dir records, --dump reads: one or the other\n");
        return 2;
    }
    if (!o->dump && (o->output || o->verify || o->list)) {
        fprintf(stderr, "seqcast-archive: --output, --verify and --list go with --dump\n");
        return 2;
    }
    return -1;
}

/* ---------------------------------------------------------------- record */

/* The rewind's session: name's (--rewind-session, archive[].rewind_session),
 * or the session defaults (a configuration of that one session, made by the
 * configuration's loader). */
static const struct sc_session_cfg *
rewind_session(const char *name, struct sc_config *cfg)
{
    static struct sc_config dflt;
    static const char yaml[] = "sessions:\n  - name: rewind\n    listen: unix:/unused\n";
    struct sc_session_cfg *s;
    struct sc_err err;

    if (name && name[0]) {
        if (!(s = sc_config_session(cfg, name)))
            fprintf(stderr, "seqcast-archive: rewind session %s: %s has no session so named\n",
                    name, cfg->origin);
        return s;
    }
    sc_config_init(&dflt);
    if (sc_config_load_string(&dflt, "rewind defaults", yaml, sizeof(yaml) - 1, &err) < 0) {
        fprintf(stderr, "seqcast-archive: %s\n", err.msg);
        return NULL;
    }
    return sc_config_session(&dflt, NULL);
}

/* One channel recorded: --dir's, or an entry of the archive: list. */
struct rec {
    struct sc_archive *a;
    const struct sc_channel_cfg *ch;
    const char *dir;
    bool serve, rewind;
    int error; /* the error last said */
    struct sc_shmstat *shm; /* stats.shm (its subscriber's events into the loss log) */
    int sub_block;
    /* the ingest rate: msgs_archived when first seen above 0, and when last seen to grow */
    uint64_t n0, t0, n1, t1;
    bool other_said; /* another source's messages were said (once) */
};

static int
watch_work(void *self, uint64_t now)
{
    struct watch *w = self;
    bool counted = false;

    for (uint32_t i = 0; i < w->n; i++) {
        struct rec *r = &w->r[i];
        struct sc_archive_stats st;
        int err = sc_archive_error(r->a);

        sc_archive_get_stats(r->a, &st);
        if (st.msgs_archived && !r->t0) {
            r->n0 = r->n1 = st.msgs_archived;
            r->t0 = r->t1 = now;
        } else if (st.msgs_archived > r->n1) {
            r->n1 = st.msgs_archived;
            r->t1 = now;
        }
        if (st.msgs_other_source && !r->other_said) {
            r->other_said = true;
            fprintf(stderr,
                    "seqcast-archive: %s: another source's messages are not recorded "
                    "(msgs_other_source): this directory holds the session of the first source "
                    "heard, one sequence space; a publisher's new session (a restart numbers "
                    "from 1 again) needs an archive on a directory of its own "
                    "(docs/OPERATIONS.md, \"One source\")\n",
                    r->dir);
        }
        if (err != r->error) {
            if (err)
                fprintf(stderr,
                        "seqcast-archive: %s: appends stopped at sequence %llu: %s; messages are "
                        "counted (msgs_not_archived) and appending is tried again every second\n",
                        r->dir, (unsigned long long)st.last_seq + 1, strerror(-err));
            else
                fprintf(stderr,
                        "seqcast-archive: %s: appending again; %llu messages were not archived "
                        "(recorded as a gap)\n",
                        r->dir, (unsigned long long)st.msgs_not_archived);
            r->error = err;
        }
        if (w->o->cli.stats_every > 0 && now >= w->next_stats) {
            if (w->o->cli.json || !w->tty) {
                fprintf(stderr, "{\"stats\": \"archive\", \"channel\": \"%s\", ", r->ch->name);
                sc_cli_json_stats(stderr, SC_COUNTERS_ARCHIVE, &st, NULL);
                fprintf(stderr, "}\n");
            } else {
                size_t n;
                const struct sc_counter_desc *d = sc_counter_descs(SC_COUNTERS_ARCHIVE, &n);
                fprintf(stderr, "archive %s:", r->ch->name);
                for (size_t k = 0; k < n; k++) {
                    uint64_t v = sc_counter_get(&d[k], &st);
                    if (d[k].show == 'a' || (d[k].show == 'z' && v))
                        fprintf(stderr, " %s %llu", d[k].name, (unsigned long long)v);
                }
                fprintf(stderr, "\n");
            }
        }
        /* --count: every channel has archived that many */
        if (!w->o->count || st.msgs_archived < w->o->count)
            counted = true;
    }
    if (w->o->cli.stats_every > 0 && now >= w->next_stats)
        w->next_stats = now + (uint64_t)(w->o->cli.stats_every * 1e9);
    w->stop = sc_cli_stop || now >= w->end || (w->o->count && !counted);
    return 0;
}

static uint64_t
watch_deadline(const void *self, uint64_t now)
{
    const struct watch *w = self;
    uint64_t d = w->end, s = now + 1000000000u; /* errors said within a second */

    if (w->o->cli.stats_every > 0 && w->next_stats < d)
        d = w->next_stats;
    return s < d ? s : d;
}

static const struct sc_agent_ops watch_ops = {"watch", watch_work, watch_deadline, NULL, NULL};

static bool
stop_now(void *ctx)
{
    return ((const struct watch *)ctx)->stop;
}

/* The subscriber's events, repairs too, into the loss log (stats.shm). */
static void
sub_event(void *ctx, const struct sc_sub_event *ev)
{
    const struct rec *r = ctx;

    if (r->shm)
        sc_shmstat_log_sub(r->shm, r->sub_block, ev);
}

static void
get_rewind(const void *a, void *st)
{
    sc_archive_get_rewind_stats(a, st);
}

/* r's rewind server's sessions, as an order server's: "session=rewind". */
static int
add_rewind_block(struct sc_shmstat *shm, const struct rec *r, const char *labels,
                 struct sc_err *err)
{
    char l[SC_SHMSTAT_LABELS];
    struct sc_shmstat_block b = { SC_COUNTERS_OSRV, l, get_rewind, r->a,
                                  sizeof(struct sc_osrv_stats), 0, true,
                                  offsetof(struct sc_osrv_stats, rx_bad) };

    if (!r->rewind)
        return 0;
    if (snprintf(l, sizeof(l), "%s%ssession=rewind", labels, *labels ? "," : "") >=
        (int)sizeof(l))
        snprintf(l, sizeof(l), "session=rewind"); /* the channel's labels fill it */
    return sc_shmstat_add(shm, &b, err);
}

/* Open r's archive: --dir's (the options), or cfg's archive entry ac. @return 0 or 1 */
static int
open_one(struct opts *o, struct sc_config *cfg, const struct sc_archive_cfg *ac, struct rec *r)
{
    struct sc_archive_stats st;
    struct sc_sub_stats sst;
    struct sc_err err;
    const char *dmg;
    int rc;

    if (ac) { /* the entry's keys as the options would give them */
        struct sc_archive_params p = {ac->dir, ac->segment_bytes, ac->index_bytes,
                                      ac->retain_bytes, ac->retain_age_ns / 1000000000u, ac->fsync,
                                      ac->fsync_interval_ns};
        if (ac->nserve) {
            p.serve_addr = ac->serve[0].addr.s_addr;
            p.serve_port = ac->serve[0].port;
        }
        if (ac->rewind[0]) {
            p.rewind = ac->rewind;
            if (!(p.rewind_session = rewind_session(ac->rewind_session, cfg)))
                return 1;
        }
        r->dir = ac->dir;
        r->serve = ac->nserve;
        r->rewind = ac->rewind[0];
        p.on_sub_event = sub_event;
        p.sub_event_ctx = r;
        rc = sc_archive_create(&r->a, cfg, ac->channel, &p, &err);
    } else {
        r->dir = o->ap.dir;
        r->serve = o->ap.serve_port;
        r->rewind = o->ap.rewind;
        o->ap.on_sub_event = sub_event;
        o->ap.sub_event_ctx = r;
        rc = sc_archive_create(&r->a, cfg, r->ch->name, &o->ap, &err);
    }
    if (rc < 0) {
        fprintf(stderr, "seqcast-archive: %s\n", err.msg);
        return 1;
    }
    if ((dmg = sc_archive_damage(r->a)))
        fprintf(stderr, "seqcast-archive: %s (never served; recording carries on)\n", dmg);
    sc_archive_get_stats(r->a, &st);
    if (st.torn_bytes && !o->quiet)
        fprintf(stderr, "seqcast-archive: %s: a torn record (%llu bytes) cut from the end, "
                        "recovering from sequence %llu\n", r->dir,
                (unsigned long long)st.torn_bytes, (unsigned long long)st.last_seq + 1);
    sc_sub_get_stats(sc_archive_sub(r->a), &sst);
    sc_cli_warn_rcvbuf("seqcast-archive", sst.rcvbuf_requested, sst.rcvbuf_effective);
    return 0;
}

/* The JSON summary of r (its archive destroyed first: synced and closed
 * before the summary says so). @return 1 if appends were stopped at the end */
static int
report(struct rec *r)
{
    struct sc_archive_stats st;
    static struct sc_pub_stats srv;
    static struct sc_osrv_stats rew;
    struct sc_sub_stats sst;
    int rc = sc_archive_error(r->a) ? 1 : 0;

    sc_archive_get_stats(r->a, &st);
    sc_sub_get_stats(sc_archive_sub(r->a), &sst);
    sc_archive_get_server_stats(r->a, &srv);
    sc_archive_get_rewind_stats(r->a, &rew);
    sc_archive_destroy(r->a);
    r->a = NULL;
    printf("{\"seqcast-archive\": {\"channel\": \"%s\", \"dir\": \"%s\", ", r->ch->name, r->dir);
    /* from the first wake-up that archived to the last (the first's messages not counted) */
    printf("\"seconds\": %.6f, \"msgs_per_s\": %.0f, ", (double)(r->t1 - r->t0) / 1e9,
           r->t1 > r->t0 ? (double)(r->n1 - r->n0) * 1e9 / (double)(r->t1 - r->t0) : 0.0);
    sc_cli_json_stats(stdout, SC_COUNTERS_ARCHIVE, &st, NULL);
    if (r->serve) { /* the re-request server: the publisher's mold_* counters */
        size_t n;
        const struct sc_counter_desc *d = sc_counter_descs(SC_COUNTERS_PUB, &n);
        printf(", \"server\": {");
        for (size_t i = 0, k = 0; i < n; i++)
            if (!strncmp(d[i].name, "mold_", 5))
                printf("%s\"%s\": %llu", k++ ? ", " : "", d[i].name,
                       (unsigned long long)sc_counter_get(&d[i], &srv));
        printf("}");
    }
    if (r->rewind) { /* the rewind server: the order server's counters */
        printf(", \"rewind\": {");
        sc_cli_json_stats(stdout, SC_COUNTERS_OSRV, &rew, rew.rx_bad);
        printf("}");
    }
    printf(", \"sub\": {");
    sc_cli_json_sub(stdout, &sst);
    printf("}}}\n");
    return rc;
}

static int
record(struct opts *o)
{
    static struct sc_config cfg;
    static struct rec recs[SC_CFG_MAX_ARCHIVES];
    const struct sc_channel_cfg *ch;
    const struct sc_archive_cfg *acs[SC_CFG_MAX_ARCHIVES];
    struct sc_runner *run = NULL;
    struct sc_shmstat *shm = NULL;
    char labels[SC_SHMSTAT_LABELS];
    struct sc_err err;
    struct watch w = {.o = o, .r = recs};
    int rc = 0;

    if (!(ch = sc_cli_config(&o->cli, &cfg)))
        return 2;
    if (o->ap.dir) { /* one channel, as the options say */
        if (o->ap.rewind && !(o->ap.rewind_session = rewind_session(o->rewind_session, &cfg)))
            return 2;
        recs[0].ch = ch;
        acs[0] = NULL;
        w.n = 1;
    } else { /* the archive: list (--channel: that channel's entry only) */
        for (uint32_t i = 0; i < cfg.narchives; i++) {
            if (o->cli.channel && strcmp(cfg.archives[i].channel, o->cli.channel))
                continue;
            acs[w.n] = &cfg.archives[i];
            recs[w.n++].ch = sc_config_channel(&cfg, cfg.archives[i].channel);
        }
        if (!w.n) {
            fprintf(stderr, "seqcast-archive: %s has no archive: entry%s%s (give --dir DIR, or "
                            "list the channels to record under archive:)\n", cfg.origin,
                    o->cli.channel ? " for channel " : "", o->cli.channel ? o->cli.channel : "");
            return 2;
        }
    }
    for (uint32_t i = 0; i < w.n && !rc; i++)
        rc = open_one(o, &cfg, acs[i], &recs[i]);
    if (!rc && sc_runner_create(&run, o->cli.spin ? SC_IDLE_SPIN : SC_IDLE_SLEEP, &err) < 0) {
        fprintf(stderr, "seqcast-archive: %s\n", err.msg);
        rc = 1;
    }
    if (rc) {
        for (uint32_t i = 0; i < w.n; i++)
            sc_archive_destroy(recs[i].a);
        return 1;
    }
    sc_cli_signals();
    w.tty = isatty(STDERR_FILENO);
    w.end = o->timeout > 0 ? sc_clock_now() + (uint64_t)(o->timeout * 1e9) : UINT64_MAX;
    w.next_stats = sc_clock_now() + (uint64_t)(o->cli.stats_every * 1e9);
    for (uint32_t i = 0; i < w.n; i++)
        sc_runner_add(run, sc_archive_agent(recs[i].a));
    sc_runner_add(run, (struct sc_agent){&watch_ops, &w});
    err.msg[0] = '\0';
    rc = sc_shmstat_create_cfg(&shm, &cfg.stats, "seqcast-archive",
                               w.n == 1 ? recs[0].ch->name : "archives", &err);
    for (uint32_t i = 0; i < w.n && rc >= 0; i++) {
        sc_cli_shm_labels(recs[i].ch, labels, sizeof(labels));
        if ((rc = sc_shmstat_add_archive(shm, recs[i].a, labels, &err)) >= 0 &&
            (rc = recs[i].sub_block = sc_shmstat_add_sub(shm, sc_archive_sub(recs[i].a), labels,
                                                         &err)) >= 0)
            rc = add_rewind_block(shm, &recs[i], labels, &err);
    }
    if (rc < 0 || sc_cli_shm_open(shm, run, "seqcast-archive") < 0) {
        if (shm && err.msg[0])
            fprintf(stderr, "seqcast-archive: stats.shm: %s\n", err.msg);
        sc_shmstat_destroy(shm);
        sc_runner_destroy(run);
        for (uint32_t i = 0; i < w.n; i++)
            sc_archive_destroy(recs[i].a);
        return 1;
    }
    for (uint32_t i = 0; i < w.n; i++)
        recs[i].shm = shm;
    sc_runner_run(run, stop_now, &w, NULL, MAX_SLEEP_NS);
    for (uint32_t i = 0; i < w.n; i++)
        recs[i].shm = NULL;
    sc_runner_destroy(run);
    sc_shmstat_destroy(shm);
    rc = 0;
    for (uint32_t i = 0; i < w.n; i++)
        rc |= report(&recs[i]);
    return rc;
}

/* ------------------------------------------------------------------ dump */

struct ranges {
    unsigned n;
    uint64_t count, msgs;
    uint64_t r[MAX_RANGES][2];
};

static void
add_range(struct ranges *rs, uint64_t from, uint64_t to)
{
    if (rs->n < MAX_RANGES) {
        rs->r[rs->n][0] = from;
        rs->r[rs->n][1] = to;
        rs->n++;
    }
    rs->count++;
    rs->msgs += to - from + 1;
}

static void
print_ranges(FILE *f, const char *name, const struct ranges *rs)
{
    fprintf(f, "\"%s\": [", name);
    for (unsigned i = 0; i < rs->n; i++)
        fprintf(f, "%s{\"first\": %llu, \"last\": %llu}", i ? ", " : "",
                (unsigned long long)rs->r[i][0], (unsigned long long)rs->r[i][1]);
    fprintf(f, "]");
}

static int
dump(const struct opts *o)
{
    static uint8_t buf[65536];
    struct sc_archive_reader *r;
    struct sc_archive_stats st;
    struct ranges gaps = {0}, dmg = {0};
    struct sc_err err;
    struct stat sb;
    uint64_t first, last, msgs = 0, bytes = 0, verify_errors = 0, first_bad = 0;
    FILE *out = NULL, *summary = stdout;
    int rc = 0;

    if (stat(o->dump, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "seqcast-archive: --dump %s: %s\n", o->dump,
                errno ? strerror(errno) : "not a directory");
        return 1;
    }
    if (sc_archive_reader_open(&r, o->dump, &err) < 0) {
        fprintf(stderr, "seqcast-archive: %s\n", err.msg);
        return 1;
    }
    if (sc_archive_reader_damage(r))
        fprintf(stderr, "seqcast-archive: %s\n", sc_archive_reader_damage(r));
    if (o->output) {
        if (!strcmp(o->output, "-")) {
            out = stdout;
            summary = stderr;
        } else if (!(out = fopen(o->output, "wb"))) {
            fprintf(stderr, "seqcast-archive: %s: %s\n", o->output, strerror(errno));
            sc_archive_reader_close(r);
            return 1;
        }
    }
    sc_archive_reader_range(r, &first, &last);
    for (uint64_t seq = first; seq <= last && seq;) {
        uint64_t from, to;
        int n = sc_archive_read(r, seq, buf, sizeof(buf), &from, &to);
        if (n >= 0) {
            msgs++;
            bytes += (uint64_t)n;
            if (o->list)
                fprintf(summary, "message %llu %d bytes\n", (unsigned long long)seq, n);
            if (out) {
                uint8_t h[2] = {(uint8_t)(n >> 8), (uint8_t)n};
                fwrite(h, 1, 2, out);
                fwrite(buf, 1, (size_t)n, out);
            }
            if (o->verify && (n < 8 || !sc_msggen_check(seq, buf, (size_t)n)) && !verify_errors++)
                first_bad = seq;
            seq++;
            continue;
        }
        if (n == -ENODATA || n == -EBADMSG) {
            add_range(n == -ENODATA ? &gaps : &dmg, seq, to);
            if (o->list)
                fprintf(summary, "%s %llu-%llu\n", n == -ENODATA ? "gap" : "damaged",
                        (unsigned long long)seq, (unsigned long long)to);
            seq = to + 1;
            continue;
        }
        fprintf(stderr, "seqcast-archive: %s: sequence %llu: %s\n", o->dump,
                (unsigned long long)seq, strerror(-n));
        rc = 1;
        break;
    }
    sc_archive_reader_stats(r, &st);
    sc_archive_reader_close(r);
    if (out && out != stdout)
        fclose(out);
    fprintf(summary,
            "{\"seqcast-archive-dump\": {\"dir\": \"%s\", \"first\": %llu, \"last\": %llu, "
            "\"messages\": %llu, \"bytes\": %llu, \"gap_ranges\": %llu, \"gap_msgs\": %llu, "
            "\"damaged_ranges\": %llu, \"damaged_msgs\": %llu, \"verify_errors\": %llu, "
            "\"torn_bytes\": %llu, \"segments\": %llu, ",
            o->dump, (unsigned long long)(last ? first : 0), (unsigned long long)last,
            (unsigned long long)msgs, (unsigned long long)bytes, (unsigned long long)gaps.count,
            (unsigned long long)gaps.msgs, (unsigned long long)dmg.count,
            (unsigned long long)dmg.msgs, (unsigned long long)verify_errors,
            (unsigned long long)st.torn_bytes, (unsigned long long)st.segments);
    print_ranges(summary, "gaps", &gaps);
    fprintf(summary, ", ");
    print_ranges(summary, "damaged", &dmg);
    fprintf(summary, "}}\n");
    if (verify_errors) {
        fprintf(stderr, "seqcast-archive: %llu messages differ from what seqcast-pub --count "
                        "sends (first: %llu)\n", (unsigned long long)verify_errors,
                (unsigned long long)first_bad);
        rc = 1;
    }
    return rc || dmg.count ? 1 : 0;
}

int
main(int argc, char **argv)
{
    static struct opts o;
    int rc;

    if ((rc = parse(argc, argv, &o)) >= 0)
        return rc;
    return o.dump ? dump(&o) : record(&o);
}
