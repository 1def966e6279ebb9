#include "apps/cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seqcast/agent.h>

volatile int sc_cli_stop;

static void
on_signal(int sig)
{
    (void)sig;
    sc_cli_stop = 1;
}

void
sc_cli_signals(void)
{
    struct sigaction sa = { .sa_handler = on_signal };

    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* and wake on time: the default 50 us timer slack delays every timed
     * wake-up, NAK back-offs of tens of microseconds included (OPERATIONS.md) */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
}

int
sc_cli_input_open(const char *prog, const char *path, uint64_t *size, pid_t *child)
{
    unsigned char magic[2];
    struct stat sb;
    int fd, pfd[2], rc;
    posix_spawn_file_actions_t fa;
    char *argv[] = { (char[]){ "gzip" }, (char[]){ "-dc" }, (char[]){ "--" }, NULL, NULL };

    *size = 0;
    *child = 0;
    if (!strcmp(path, "-"))
        return STDIN_FILENO;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        if (pread(fd, magic, 2, 0) != 2 || magic[0] != 0x1f || magic[1] != 0x8b) {
            *size = (uint64_t)sb.st_size;
            return fd;
        }
    } else {
        return fd; /* a pipe or a device: read as it is */
    }
    /* gzip: its output through a pipe */
    close(fd);
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
    rc = (argv[3] = strdup(path)) ? posix_spawnp(child, "gzip", &fa, NULL, argv, environ) : ENOMEM;
    free(argv[3]);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        *child = 0;
        fprintf(stderr, "%s: %s is gzip-compressed and gzip could not be run: %s\n", prog, path,
                strerror(rc));
        return -1;
    }
    return pfd[0];
}

int
sc_cli_input_close(int fd, pid_t child)
{
    int status = 0;

    if (fd > STDIN_FILENO)
        close(fd); /* before the wait: a gzip still writing gets EPIPE and ends */
    if (!child)
        return 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

bool
sc_cli_option(struct sc_cli *c, int opt, const char *arg)
{
    switch (opt) {
    case 'c': c->config = arg; return true;
    case SC_OPT_CHANNEL: c->channel = arg; return true;
    case SC_OPT_GROUP: c->group = arg; return true;
    case SC_OPT_INTERFACE: c->interface = arg; return true;
    case SC_OPT_SET: sc_cli_add_set(c->prog, c->sets, &c->nsets, arg); return true;
    case SC_OPT_JSON: c->json = true; return true;
    case SC_OPT_SPIN: c->spin = true; return true;
    case SC_OPT_STATS: {
        char *end;
        c->stats_every = strtod(arg, &end);
        if (*end || c->stats_every < 0) {
            fprintf(stderr, "%s: --stats %s: expected seconds, e.g. 1 or 0.5\n", c->prog, arg);
            exit(2);
        }
        return true;
    }
    }
    return false;
}

static int
apply(struct sc_cli *c, struct sc_config *cfg, const char *key, const char *value)
{
    char a[512];
    struct sc_err err;

    if (c->channel)
        snprintf(a, sizeof(a), "channels.%s.%s=%s", c->channel, key, value);
    else
        snprintf(a, sizeof(a), "%s=%s", key, value);
    if (sc_config_set(cfg, a, &err) < 0) {
        fprintf(stderr, "%s: %s\n", c->prog, err.msg);
        return -1;
    }
    return 0;
}

void
sc_cli_add_set(const char *prog, const char **sets, int *nsets, const char *arg)
{
    if (*nsets == SC_CLI_MAX_SETS) {
        fprintf(stderr, "%s: too many --set options (at most %d)\n", prog, SC_CLI_MAX_SETS);
        exit(2);
    }
    sets[(*nsets)++] = arg;
}

int
sc_cli_load(const char *prog, const char *file, const char *const *sets, int nsets,
            struct sc_config *cfg)
{
    struct sc_err err;

    if (file) {
        if (sc_config_load_file(cfg, file, &err) < 0) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            return -1;
        }
    } else {
        sc_config_init(cfg);
    }
    for (int i = 0; i < nsets; i++)
        if (sc_config_set(cfg, sets[i], &err) < 0) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            return -1;
        }
    return 0;
}

const struct sc_channel_cfg *
sc_cli_config(struct sc_cli *c, struct sc_config *cfg)
{
    struct sc_channel_cfg *ch;

    if (sc_cli_load(c->prog, c->config, c->sets, c->nsets, cfg) < 0)
        return NULL;
    if (c->channel && !sc_config_channel(cfg, c->channel)) {
        fprintf(stderr, "%s: %s has no channel named '%s'\n", c->prog, cfg->origin, c->channel);
        return NULL;
    }
    if (c->group) {
        char addr[64];
        const char *colon = strrchr(c->group, ':');
        if (!colon || colon == c->group || (size_t)(colon - c->group) >= sizeof(addr)) {
            fprintf(stderr, "%s: --group %s: expected ADDR:PORT, e.g. 239.192.0.1:3056\n",
                    c->prog, c->group);
            return NULL;
        }
        snprintf(addr, sizeof(addr), "%.*s", (int)(colon - c->group), c->group);
        if (apply(c, cfg, "group", addr) < 0 || apply(c, cfg, "port", colon + 1) < 0)
            return NULL;
    }
    if (c->interface && apply(c, cfg, "interface", c->interface) < 0)
        return NULL;
    ch = sc_config_channel(cfg, c->channel);
    if (!ch)
        fprintf(stderr, "%s: %s defines no channel\n", c->prog, cfg->origin);
    return ch;
}

/* Stats output, JSON and human, from the counter lists of
 * <seqcast/counters.h>: nothing here names a counter. */

/* "name": value for every counter of a set (JSON members), prefix before each name */
static void
json_set(FILE *out, enum sc_counter_set set, const void *st, const char *prefix, bool *first)
{
    size_t n;
    const struct sc_counter_desc *d = sc_counter_descs(set, &n);

    for (size_t i = 0; i < n; i++, *first = false)
        fprintf(out, "%s\"%s%s\": %llu", *first ? "" : ", ", prefix, d[i].name,
                (unsigned long long)sc_counter_get(&d[i], st));
}

/* "rx_bad": {"short": n, ...}, "rx_bad_total": n */
static void
json_rx_bad(FILE *out, const uint64_t *bad)
{
    uint64_t total = 0;

    fprintf(out, ", \"rx_bad\": {");
    for (int i = 1; i <= SC_PERR_COUNT; i++) {
        fprintf(out, "%s\"%s\": %llu", i > 1 ? ", " : "", sc_perr_name(-i),
                (unsigned long long)bad[i]);
        total += bad[i];
    }
    fprintf(out, "}, \"rx_bad_total\": %llu", (unsigned long long)total);
}

/* " name value" for the counters a human wants to see: those shown always,
 * and those zero in a healthy run when they are not */
static void
human_set(FILE *out, enum sc_counter_set set, const void *st)
{
    size_t n;
    const struct sc_counter_desc *d = sc_counter_descs(set, &n);

    for (size_t i = 0; i < n; i++) {
        uint64_t v = sc_counter_get(&d[i], st);
        if (d[i].show == 'a' || (d[i].show == 'z' && v))
            fprintf(out, " %s %llu", d[i].name, (unsigned long long)v);
    }
}

static void
human_rx_bad(FILE *out, const uint64_t *bad)
{
    for (int i = 1; i <= SC_PERR_COUNT; i++)
        if (bad[i])
            fprintf(out, " rx_bad_%s %llu", sc_perr_name(-i), (unsigned long long)bad[i]);
}

void
sc_cli_json_pub(FILE *out, const struct sc_pub_stats *st)
{
    bool first = true;

    json_set(out, SC_COUNTERS_PUB, st, "", &first);
    json_set(out, SC_COUNTERS_LINK, &st->link, "link_", &first);
    json_rx_bad(out, st->rx_bad);
}

void
sc_cli_json_sub(FILE *out, const struct sc_sub_stats *st)
{
    bool first = true;

    json_set(out, SC_COUNTERS_SUB, st, "", &first);
    json_set(out, SC_COUNTERS_LINK, &st->link, "link_", &first);
    json_rx_bad(out, st->rx_bad);
}

void
sc_cli_json_stats(FILE *out, enum sc_counter_set set, const void *st, const uint64_t *rx_bad)
{
    bool first = true;

    json_set(out, set, st, "", &first);
    if (rx_bad)
        json_rx_bad(out, rx_bad);
}

void
sc_cli_pub_stats(FILE *out, const struct sc_pub_stats *st, bool json)
{
    if (json) {
        fprintf(out, "{\"stats\": \"pub\", ");
        sc_cli_json_pub(out, st);
        fprintf(out, "}\n");
    } else {
        fprintf(out, "pub:");
        human_set(out, SC_COUNTERS_PUB, st);
        human_set(out, SC_COUNTERS_LINK, &st->link);
        human_rx_bad(out, st->rx_bad);
        fprintf(out, "\n");
    }
    fflush(out);
}

void
sc_cli_sub_stats(FILE *out, const struct sc_sub_stats *st, bool json)
{
    if (json) {
        fprintf(out, "{\"stats\": \"sub\", ");
        sc_cli_json_sub(out, st);
        fprintf(out, "}\n");
    } else {
        fprintf(out, "sub:");
        human_set(out, SC_COUNTERS_SUB, st);
        human_set(out, SC_COUNTERS_LINK, &st->link);
        human_rx_bad(out, st->rx_bad);
        fprintf(out, "\n");
    }
    fflush(out);
}

void
sc_cli_sub_sources(FILE *out, const struct sc_sub *sub, bool json)
{
    struct sc_sub_source_stats st;
    int rc;

    for (unsigned i = 0; (rc = sc_sub_get_source(sub, i, &st)) >= 0; i++) {
        bool first = false;
        if (!rc)
            continue;
        if (json) {
            fputs("{\"stats\": \"source\", \"source\": \"", out);
            for (const char *c = st.src.name; *c; c++) /* MoldUDP64: printable, '?' else */
                fprintf(out, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
            fputc('"', out);
            json_set(out, SC_COUNTERS_SUB_SOURCE, &st, "", &first);
            fputs("}\n", out);
        } else {
            fprintf(out, "sub source %s:", st.src.name);
            human_set(out, SC_COUNTERS_SUB_SOURCE, &st);
            fputc('\n', out);
        }
    }
    fflush(out);
}

void
sc_cli_warn_rcvbuf(const char *prog, uint64_t requested, uint64_t effective)
{
    if (requested && effective && effective < requested)
        fprintf(stderr,
                "%s: warning: SO_RCVBUF is %llu bytes, not the %llu configured: the kernel "
                "clamped it (raise net.core.rmem_max, or run as root)\n",
                prog, (unsigned long long)effective, (unsigned long long)requested);
}

int
sc_cli_record_option(struct sc_record_params *rp, const char *prog, int opt, const char *arg)
{
    char *end = NULL;
    double v;

    switch (opt) {
    case SC_OPT_RECORD: rp->path = arg; return 1;
    case SC_OPT_RECORD_FULL:
        if (strcmp(arg, "block") && strcmp(arg, "drop")) {
            fprintf(stderr, "%s: --record-full %s: expected block or drop\n", prog, arg);
            return -1;
        }
        rp->full = strcmp(arg, "drop") ? SC_RECORD_BLOCK : SC_RECORD_DROP;
        return 1;
    case SC_OPT_RECORD_RING:
        v = strtod(arg, &end);
        if (*arg == 0 || *end || !(v >= 0.25 && v <= 1024)) {
            fprintf(stderr, "%s: --record-ring %s: expected megabytes from 0.25 to 1024\n", prog,
                    arg);
            return -1;
        }
        rp->ring_bytes = (uint64_t)(v * 1048576);
        return 1;
    case SC_OPT_RECORD_SIZE: case SC_OPT_RECORD_COUNT: case SC_OPT_RECORD_FILES:
        v = strtod(arg, &end);
        if (*arg == 0 || *end || v < 0 || v > 1e15) {
            fprintf(stderr, "%s: --record-%s %s: expected a number >= 0\n", prog,
                    opt == SC_OPT_RECORD_SIZE    ? "size"
                    : opt == SC_OPT_RECORD_COUNT ? "count"
                                                 : "files", arg);
            return -1;
        }
        if (opt == SC_OPT_RECORD_SIZE)
            rp->max_bytes = (uint64_t)(v * 1e6);
        else if (opt == SC_OPT_RECORD_COUNT)
            rp->max_packets = (uint64_t)v;
        else
            rp->files = (unsigned)v;
        return 1;
    }
    return 0;
}

bool
sc_cli_sub_ended(struct sc_cli_quiet *q, const struct sc_sub *sub, const struct sc_channel_cfg *ch,
                 const struct sc_xport *capture, bool sources_ended, uint64_t now)
{
    const bool read = !capture || sc_xport_pcap_done(capture);

    if (capture && read) {
        struct sc_sub_stats st;
        uint64_t wait = ch->nak.rdata_ns > ch->nak.repeat_ns ? ch->nak.rdata_ns : ch->nak.repeat_ns;
        uint64_t quiet = ch->nak.backoff_ns + 2 * wait + 20000000u, progress;

        sc_sub_get_stats(sub, &st);
        progress = st.naks_sent + st.requests_sent + st.lost_packets + st.msgs_delivered;
        /* a timer due within the quiet time (a retry's back-off after a stall) is to come */
        if (!q->end || progress != q->progress || sc_sub_deadline(sub, now) <= now + quiet)
            q->end = now + quiet;
        q->progress = progress;
    }
    return (sources_ended && read) || (q->end && now >= q->end);
}

void
sc_cli_shm_labels(const struct sc_channel_cfg *ch, char *buf, size_t len)
{
    char g[INET_ADDRSTRLEN], i[INET_ADDRSTRLEN];

    inet_ntop(AF_INET, &ch->group, g, sizeof(g));
    inet_ntop(AF_INET, &ch->interface, i, sizeof(i));
    snprintf(buf, len, "channel=%s,group=%s:%u,interface=%s,protocol=%s", ch->name, g, ch->port,
             i, ch->protocol == SC_PROTOCOL_MOLDUDP64 ? "moldudp64" : "pgm");
}

int
sc_cli_shm_open(struct sc_shmstat *s, struct sc_runner *run, const char *prog)
{
    struct sc_err err = { 0 };

    if (!s)
        return 0;
    if (sc_shmstat_open(s, &err) < 0) {
        fprintf(stderr, "%s: stats.shm: %s\n", prog, err.msg);
        return -1;
    }
    return sc_runner_add(run, sc_shmstat_agent(s)) < 0 ? -1 : 0;
}
