/* Shared by publisher and subscriber: find the channel to run, refuse what
 * this build cannot do, and describe the transport it needs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "engine/channel.h"
#include "engine/clock.h"

const struct sc_channel_cfg *
sc_channel_find(const struct sc_config *cfg, const char *name, struct sc_err *err)
{
    for (uint32_t i = 0; i < cfg->nchannels; i++)
        if (!name || !strcmp(cfg->channels[i].name, name))
            return &cfg->channels[i];
    if (err) {
        err->code = -ENOENT;
        snprintf(err->msg, sizeof(err->msg), "%.100s: no channel named '%.40s'", cfg->origin,
                 name ? name : "(any)");
    }
    return NULL;
}

uint16_t
sc_channel_nak_port(const struct sc_channel_cfg *ch, enum sc_xport_role role)
{
    if (ch->nak_port)
        return ch->nak_port;
    return role == SC_XPORT_SUB ? ch->port : SC_NAK_PORT_COMPAT;
}

void
sc_xport_params_from(struct sc_xport_params *x, const struct sc_channel_cfg *ch,
                     enum sc_xport_role role)
{
    memset(x, 0, sizeof(*x));
    x->role = role;
    x->group = ch->group.s_addr;
    x->group_b = ch->group_b.s_addr;
    x->port = ch->port;
    x->nak_port = sc_channel_nak_port(ch, role);
    x->interface = ch->interface.s_addr;
    x->ttl = ch->ttl;
    x->loop = ch->loop;
    x->gso = ch->gso;
    x->sub_unicast = role == SC_XPORT_SUB && ch->protocol == SC_PROTOCOL_MOLDUDP64;
    x->rcvbuf = ch->rcvbuf;
    x->sndbuf = ch->sndbuf;
    x->window = ch->window_packets;
}

int
sc_xport_open(struct sc_xport **out, const struct sc_config *cfg,
                      const struct sc_channel_cfg *ch, enum sc_xport_role role, struct sc_err *err)
{
    struct sc_xport_params xp;

    sc_xport_params_from(&xp, ch, role);
    if (ch->transport == SC_TRANSPORT_IPC) {
        if (err) {
            err->code = -EINVAL;
            snprintf(err->msg, sizeof(err->msg), "channel %s: transport: ipc is a shared-memory "
                     "log, not a packet transport (sc_pub_create / sc_sub_create take it)",
                     ch->name);
        }
        return -EINVAL;
    }
    if (ch->transport == SC_TRANSPORT_DPDK)
        return sc_xport_dpdk_open(out, &xp, &cfg->dpdk, err);
    return sc_xport_udp_open(out, &xp, err);
}

uint64_t
sc_seed_random(void)
{
    uint64_t seed;

    if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
        seed = ((uint64_t)(uintptr_t)&seed ^ 0x9e3779b97f4a7c15ull) + sc_clock_ns();
    return seed;
}

void
sc_link_stats_from(struct sc_link_stats *l, const struct sc_xport_stats *x)
{
    l->rx_filtered = x->rx_filtered;
    l->rx_malformed = x->rx_malformed;
    l->arp_replies = x->arp_replies;
    l->no_mbuf = x->tx_no_mbuf;
    l->no_neighbour = x->tx_no_neighbour;
    l->tx_zero_copy = x->tx_zero_copy;
    l->tx_dropped = x->tx_dropped;
    l->tx_gso_sends = x->tx_gso_sends;
    l->gso_disabled = x->gso_disabled;
    l->rx_gro_msgs = x->rx_gro_msgs;
    l->tx_calls = x->tx_calls;
    l->record_packets = x->record_packets;
    l->record_dropped = x->record_dropped;
    l->record_waited = x->record_waited;
    l->record_write_errors = x->record_write_errors;
}
