#include "apps/cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

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

bool
sc_cli_option(struct sc_cli *c, int opt, const char *arg)
{
    switch (opt) {
    case 'c': c->config = arg; return true;
    case 0x101: c->channel = arg; return true;
    case 0x102: c->group = arg; return true;
    case 0x103: c->interface = arg; return true;
    case 0x104:
        if (c->nsets == SC_CLI_MAX_SETS) {
            fprintf(stderr, "%s: too many --set options (at most %d)\n", c->prog,
                    SC_CLI_MAX_SETS);
            exit(2);
        }
        c->sets[c->nsets++] = arg;
        return true;
    case 0x105: c->json = true; return true;
    case 0x106: c->spin = true; return true;
    case 0x107: {
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

const struct sc_channel_cfg *
sc_cli_config(struct sc_cli *c, struct sc_config *cfg)
{
    struct sc_err err;
    struct sc_channel_cfg *ch;

    if (c->config) {
        if (sc_config_load_file(cfg, c->config, &err) < 0) {
            fprintf(stderr, "%s: %s\n", c->prog, err.msg);
            return NULL;
        }
    } else {
        sc_config_init(cfg);
    }
    if (c->channel && !sc_config_channel(cfg, c->channel)) {
        fprintf(stderr, "%s: %s has no channel named '%s'\n", c->prog, cfg->origin, c->channel);
        return NULL;
    }
    for (int i = 0; i < c->nsets; i++)
        if (sc_config_set(cfg, c->sets[i], &err) < 0) {
            fprintf(stderr, "%s: %s\n", c->prog, err.msg);
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

void
sc_cli_wait(const struct sc_cli *c, int fd, uint64_t deadline_ns, uint64_t max_wait_ns)
{
    uint64_t now, wait;
    struct pollfd p = { .fd = fd, .events = POLLIN };

    if (c->spin || fd < 0)
        return; /* busy-poll, or a poll-mode transport (DPDK) with nothing to wait on */
    now = sc_clock_now();
    if (deadline_ns <= now)
        return;
    wait = deadline_ns - now < max_wait_ns ? deadline_ns - now : max_wait_ns;
    if (wait < 50000)
        return; /* closer than the scheduler can wake us: spin */
    /* ppoll: nanoseconds (poll's milliseconds turned every wait under 1 ms
     * into a spin, and rounded the others down) */
    ppoll(&p, 1, &(struct timespec){ (time_t)(wait / 1000000000u), (long)(wait % 1000000000u) },
          NULL);
}

/* Counter tables: one place names every counter, for JSON and for humans. */
struct field {
    const char *name;
    size_t off;
};

/* the link counters, named link_* in JSON */
#define LINK(who)                                                                          \
    { "link_rx_filtered", offsetof(struct sc_##who##_stats, link.rx_filtered) },            \
        { "link_rx_malformed", offsetof(struct sc_##who##_stats, link.rx_malformed) },      \
        { "link_arp_replies", offsetof(struct sc_##who##_stats, link.arp_replies) },        \
        { "link_no_mbuf", offsetof(struct sc_##who##_stats, link.no_mbuf) },                \
        { "link_no_neighbour", offsetof(struct sc_##who##_stats, link.no_neighbour) },      \
        { "link_tx_dropped", offsetof(struct sc_##who##_stats, link.tx_dropped) },          \
        { "link_tx_gso_sends", offsetof(struct sc_##who##_stats, link.tx_gso_sends) },      \
        { "link_gso_disabled", offsetof(struct sc_##who##_stats, link.gso_disabled) },      \
        { "link_rx_gro_msgs", offsetof(struct sc_##who##_stats, link.rx_gro_msgs) },        \
        { "link_tx_calls", offsetof(struct sc_##who##_stats, link.tx_calls) }

#define PF(f) { #f, offsetof(struct sc_pub_stats, f) }
static const struct field pub_fields[] = {
    PF(msgs_sent),        PF(bytes_sent),        PF(odata_sent),       PF(rdata_sent),
    PF(ncf_sent),         PF(spm_sent),          PF(naks_received),    PF(nak_sqns),
    PF(nak_coalesced),    PF(nak_held_off),      PF(nak_ncf_held),      PF(nak_out_of_window),
    PF(nak_over_budget),  PF(nak_budget_shared), PF(nak_bad_nla),       PF(ncf_rate_limited),
    PF(spm_answers_held),
    PF(nak_rtx_overflow), PF(line_b_sent),       PF(line_b_dropped),
    PF(spmr_received),    PF(rtx_rate_limited),  PF(data_rate_limited), PF(window_evicted),
    PF(tx_backpressure),  PF(close_unsent),      PF(rx_not_ours),       PF(rx_wrong_type),    PF(rx_pkts),
    PF(rx_bytes),         PF(tx_pkts),           PF(tx_bytes),         PF(window_trail),
    PF(window_lead),      PF(next_msg_seq),      LINK(pub),
};

#define SF(f) { #f, offsetof(struct sc_sub_stats, f) }
static const struct field sub_fields[] = {
    SF(msgs_delivered), SF(bytes_delivered), SF(odata_received), SF(rdata_received),
    SF(duplicates),     SF(gaps),            SF(naks_sent),      SF(nak_sqns),
    SF(ncf_received),   SF(nak_suppressed),  SF(repaired),       SF(lost_packets),
    SF(loss_events),    SF(spm_received),    SF(sources_up),     SF(sources_down),
    SF(rx_bad_payload), SF(rx_not_ours),     SF(rx_wrong_type),  SF(rx_before_join),
    SF(rx_pool_empty),  SF(rx_pool_grow_failed), SF(source_table_full),
    SF(sources_evicted), SF(sources_forgotten), SF(rx_source_denied), SF(nak_unreachable),
    SF(nak_unanswered), SF(rx_pkts),      SF(rx_bytes),
    SF(tx_pkts),        SF(tx_bytes),        LINK(sub),
};

static const char *const bad_names[] = { NULL,         "need_more", "short",    "version",
                                         "type",       "options",   "length",   "checksum",
                                         "oversize",   "padding",   "address",  "field",
                                         "nospace" };

static void
json_fields(FILE *out, const void *st, const struct field *f, size_t n, const uint64_t *bad)
{
    uint64_t total_bad = 0;

    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s\"%s\": %llu", i ? ", " : "", f[i].name,
                (unsigned long long)*(const uint64_t *)(const void *)((const char *)st + f[i].off));
    fprintf(out, ", \"rx_bad\": {");
    for (int i = 1; i <= 12; i++) {
        fprintf(out, "%s\"%s\": %llu", i > 1 ? ", " : "", bad_names[i],
                (unsigned long long)bad[i]);
        total_bad += bad[i];
    }
    fprintf(out, "}, \"rx_bad_total\": %llu", (unsigned long long)total_bad);
}

void
sc_cli_json_pub(FILE *out, const struct sc_pub_stats *st)
{
    json_fields(out, st, pub_fields, sizeof(pub_fields) / sizeof(pub_fields[0]), st->rx_bad);
}

void
sc_cli_json_sub(FILE *out, const struct sc_sub_stats *st)
{
    json_fields(out, st, sub_fields, sizeof(sub_fields) / sizeof(sub_fields[0]), st->rx_bad);
}

void
sc_cli_pub_stats(FILE *out, const struct sc_pub_stats *st, bool json)
{
    if (json) {
        fprintf(out, "{\"stats\": \"pub\", ");
        sc_cli_json_pub(out, st);
        fprintf(out, "}\n");
    } else {
        fprintf(out,
                "pub: %llu msgs, %llu odata, %llu naks (%llu sqns) -> %llu ncf, %llu rdata, "
                "%llu spm; window %llu..%llu\n",
                (unsigned long long)st->msgs_sent, (unsigned long long)st->odata_sent,
                (unsigned long long)st->naks_received, (unsigned long long)st->nak_sqns,
                (unsigned long long)st->ncf_sent, (unsigned long long)st->rdata_sent,
                (unsigned long long)st->spm_sent, (unsigned long long)st->window_trail,
                (unsigned long long)st->window_lead);
        if (st->nak_over_budget + st->nak_bad_nla + st->ncf_rate_limited + st->spm_answers_held)
            fprintf(out, "pub: limits: %llu NAK sqns over budget (%llu on the shared budget), "
                         "%llu NAKs with a foreign NLA, %llu sqns without NCF (ncf_rate), "
                         "%llu SPM requests served by another's SPM\n",
                    (unsigned long long)st->nak_over_budget,
                    (unsigned long long)st->nak_budget_shared,
                    (unsigned long long)st->nak_bad_nla, (unsigned long long)st->ncf_rate_limited,
                    (unsigned long long)st->spm_answers_held);
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
        fprintf(out,
                "sub: %llu msgs, %llu gaps, %llu naks (%llu suppressed), %llu repaired, "
                "%llu lost, %llu dups",
                (unsigned long long)st->msgs_delivered, (unsigned long long)st->gaps,
                (unsigned long long)st->naks_sent, (unsigned long long)st->nak_suppressed,
                (unsigned long long)st->repaired, (unsigned long long)st->lost_packets,
                (unsigned long long)st->duplicates);
        /* what is zero in a healthy run is shown only when it is not */
        if (st->nak_unreachable || st->nak_unanswered)
            fprintf(out, "; naks unanswered: %llu icmp unreachable, %llu packets lost",
                    (unsigned long long)st->nak_unreachable,
                    (unsigned long long)st->nak_unanswered);
        if (st->sources_evicted || st->source_table_full || st->rx_source_denied)
            fprintf(out, "; sources: %llu evicted, %llu refused (table full), %llu packets "
                         "denied", (unsigned long long)st->sources_evicted,
                    (unsigned long long)st->source_table_full,
                    (unsigned long long)st->rx_source_denied);
        fprintf(out, "\n");
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
    case 0x201: rp->path = arg; return 1;
    case 0x202: case 0x203: case 0x204:
        v = strtod(arg, &end);
        if (*arg == 0 || *end || v < 0 || v > 1e15) {
            fprintf(stderr, "%s: --record-%s %s: expected a number >= 0\n", prog,
                    opt == 0x202 ? "size" : opt == 0x203 ? "count" : "files", arg);
            return -1;
        }
        if (opt == 0x202)
            rp->max_bytes = (uint64_t)(v * 1e6);
        else if (opt == 0x203)
            rp->max_packets = (uint64_t)v;
        else
            rp->files = (unsigned)v;
        return 1;
    }
    return 0;
}
