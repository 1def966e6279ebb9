#include "tests/support/sim.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/msggen.h"
#include "engine/channel.h"
#include "engine/pub_int.h"
#include "engine/sub_int.h"

#define PUB_ADDR "198.18.0.1"

static struct sim *current; /* callbacks find their sim here (one sim at a time) */
bool sim_lend;

static void tick(struct sim *s);

void
sim_channel(struct sc_channel_cfg *ch)
{
    struct sc_config cfg;

    sc_config_init(&cfg);
    *ch = cfg.channels[0];
    inet_pton(AF_INET, "239.198.0.1", &ch->group);
    inet_pton(AF_INET, PUB_ADDR, &ch->interface);
}

static struct sim_source *
source_of(struct sim_sub *ss, const struct sc_source *src)
{
    if (current->ignore_mask && (src->addr & current->ignore_mask) == current->ignore_net)
        return NULL;
    for (unsigned i = 0; i < ss->nsrc; i++)
        if (!strcmp(ss->src[i].name, src->name))
            return &ss->src[i];
    if (ss->nsrc == SIM_MAX_SOURCES)
        return NULL;
    memset(&ss->src[ss->nsrc], 0, sizeof(ss->src[0]));
    snprintf(ss->src[ss->nsrc].name, sizeof(ss->src[0].name), "%s", src->name);
    ss->src[ss->nsrc].next = 1; /* batched: message numbers; raw: generated message numbers */
    return &ss->src[ss->nsrc++];
}

static void
on_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    struct sim_sub *ss = ctx;
    struct sim_source *so = source_of(ss, src);

    if (!so)
        return;
    if (current->ch.framing == SC_FRAMING_RAW) {
        /* raw: seq is a packet sequence; the message carries its own number */
        if (len < 8 || seq < so->last_seq) {
            if (!ss->order_errors++)
                snprintf(ss->first_error, sizeof(ss->first_error), "raw seq %llu out of order",
                         (unsigned long long)seq);
        }
        so->last_seq = seq + 1;
        seq = (uint64_t)((const uint8_t *)msg)[0] << 56 | (uint64_t)((const uint8_t *)msg)[1] << 48 |
              (uint64_t)((const uint8_t *)msg)[2] << 40 | (uint64_t)((const uint8_t *)msg)[3] << 32 |
              (uint64_t)((const uint8_t *)msg)[4] << 24 | (uint64_t)((const uint8_t *)msg)[5] << 16 |
              (uint64_t)((const uint8_t *)msg)[6] << 8 | ((const uint8_t *)msg)[7];
    }
    if (!so->delivered) {
        so->first = seq;
        if (so->join != SC_JOIN_FROM_START)
            so->next = seq; /* a late joiner starts where it joined */
    }
    if (seq != so->next) {
        if (!ss->order_errors++)
            snprintf(ss->first_error, sizeof(ss->first_error),
                     "source %s: got message %llu, expected %llu", src->name,
                     (unsigned long long)seq, (unsigned long long)so->next);
    }
    if (len != sc_msggen_size(seq, current->msg_size) || !sc_msggen_check(seq, msg, len)) {
        if (!ss->content_errors++ && !ss->first_error[0])
            snprintf(ss->first_error, sizeof(ss->first_error),
                     "message %llu: bad content (len %zu, want %zu; first bytes %02x%02x%02x%02x"
                     "%02x%02x%02x%02x)",
                     (unsigned long long)seq, len, sc_msggen_size(seq, current->msg_size),
                     ((const uint8_t *)msg)[0], ((const uint8_t *)msg)[1], ((const uint8_t *)msg)[2],
                     ((const uint8_t *)msg)[3], ((const uint8_t *)msg)[4], ((const uint8_t *)msg)[5],
                     ((const uint8_t *)msg)[6], ((const uint8_t *)msg)[7]);
    }
    so->next = seq + 1;
    so->delivered++;
}

static void
on_repair(void *ctx, const struct sc_sub_event *ev)
{
    struct sim_sub *ss = ctx;

    ss->repair_events++;
    ss->repair_packets += ev->repair.packets;
    ss->repair_bad += ev->type != SC_EV_REPAIR || ev->repair.first > ev->repair.last ||
                      !ev->repair.packets ||
                      ev->repair.packets > ev->repair.last - ev->repair.first + 1 ||
                      !ev->repair.wait_ns;
}

static void
on_event(void *ctx, const struct sc_sub_event *ev)
{
    struct sim_sub *ss = ctx;
    struct sim_source *so = source_of(ss, ev->src);

    if (ev->type == SC_EV_NAK_UNANSWERED) {
        if (!ss->nak_events++) {
            ss->nak_src = *ev->src;
            ss->nak_reason = ev->nak.reason;
            ss->nak_addr = ev->nak.addr;
            ss->nak_port = ev->nak.port;
        }
        return;
    }
    if (!so) {
        ss->ignored_up += ev->type == SC_EV_SOURCE_UP;
        ss->ignored_down += ev->type == SC_EV_SOURCE_DOWN;
        ss->evicted_down += ev->type == SC_EV_SOURCE_DOWN && ev->down.reason == SC_DOWN_EVICTED;
        return;
    }
    switch (ev->type) {
    case SC_EV_SOURCE_UP:
        if (!so->join)
            so->join = ev->up.join; /* how it started */
        so->last_join = ev->up.join; /* how it came up last (resumed after a timeout) */
        break;
    case SC_EV_SOURCE_DOWN:
        so->down = true;
        so->down_reason = ev->down.reason;
        break;
    case SC_EV_LOSS:
        if (ev->loss.first != so->next && ev->loss.first != 0) {
            if (!ss->order_errors++)
                snprintf(ss->first_error, sizeof(ss->first_error),
                         "loss starts at %llu, expected %llu", (unsigned long long)ev->loss.first,
                         (unsigned long long)so->next);
        }
        if (so->nloss < SIM_MAX_LOSS)
            so->loss[so->nloss++] = (struct sim_loss){ ev->loss.first, ev->loss.last,
                                                       ev->loss.packets, ev->loss.reason };
        if (ev->loss.last != UINT64_MAX)
            so->next = ev->loss.last + 1;
        break;
    case SC_EV_NAK_UNANSWERED:
    case SC_EV_REPAIR: /* only to on_repair */
        break;
    }
}

void
sim_new_publisher(struct sim *s, const struct sc_loss_params *tx_loss)
{
    struct sc_xport_params xp;
    struct sc_xport *x;
    struct sc_err err;

    if (s->pub)
        sc_pub_destroy(s->pub);
    sc_xport_params_from(&xp, &s->ch, SC_XPORT_PUB);
    cr_assert_eq(sc_memnet_open(s->net, &x, inet_addr(PUB_ADDR), &xp), 0);
    if (tx_loss) {
        struct sc_xport *l;
        cr_assert_eq(sc_xport_loss_wrap(&l, x, tx_loss), 0);
        x = l;
    }
    cr_assert_eq(sc_pub_create_on(&s->pub, &s->ch, x, 1000 + s->npub, &err), 0, "%s", err.msg);
    s->npub++;
    s->sent = 0;
}

static struct sim_lender *
lender_of(struct sc_xport *x)
{
    return (struct sim_lender *)(void *)x;
}

static uint16_t
lender_lend(struct sc_xport *x, struct sc_pkt *pkts, uint16_t n)
{
    struct sim_lender *l = lender_of(x);
    struct sc_pkt in[SC_BURST_MAX];
    uint16_t got, out = 0;

    if (l->nlent)
        l->unreleased++;
    if (n > SC_BURST_MAX)
        n = SC_BURST_MAX;
    for (uint16_t i = 0; i < n; i++)
        in[i] = (struct sc_pkt){ .data = l->buf[i], .cap = sizeof(l->buf[i]) };
    got = sc_xport_rx(l->w.inner, in, n);
    x->st = l->w.inner->st;
    for (uint16_t i = 0; i < got; i++) {
        uint16_t cap = pkts[out].cap;
        if (in[i].len > cap)
            continue;
        pkts[out] = in[i];
        pkts[out++].cap = cap;
    }
    l->lends++;
    l->lent_pkts += out;
    l->nlent = got;
    return out;
}

static void
lender_release(struct sc_xport *x)
{
    struct sim_lender *l = lender_of(x);

    for (uint16_t i = 0; i < l->nlent; i++)
        memset(l->buf[i], 0xA5, sizeof(l->buf[i]));
    l->nlent = 0;
    l->releases++;
}

static void
lender_close(struct sc_xport *x)
{
    (void)x; /* the sim_sub owns it (its counters outlive the subscriber) */
}

static const struct sc_xport_ops lender_ops = {
    .name = "lender", .rx_lend = lender_lend, .rx_release = lender_release, .close = lender_close,
};

static void
add_sub(struct sim *s, const struct sc_channel_cfg *ch, const struct sc_loss_params *loss)
{
    unsigned i = s->nsubs++;
    struct sc_xport_params xp;
    struct sc_xport *x;
    struct sc_err err;
    struct sc_sub_callbacks cb = { on_msg, on_event, &s->subs[i], on_repair };
    char addr[32];

    cr_assert_lt(i, SIM_MAX_SUBS);
    snprintf(addr, sizeof(addr), "198.18.1.%u", i + 1);
    sc_xport_params_from(&xp, ch, SC_XPORT_SUB);
    cr_assert_eq(sc_memnet_open(s->net, &x, inet_addr(addr), &xp), 0);
    if (loss) {
        struct sc_loss_params lp = *loss;
        lp.seed = loss->seed * 7919 + i + 1;
        cr_assert_eq(sc_xport_loss_wrap(&s->subs[i].loss_x, x, &lp), 0);
        x = s->subs[i].loss_x;
    }
    if (sim_lend) {
        struct sim_lender *l = calloc(1, sizeof(*l));
        cr_assert_not_null(l);
        sc_xport_wrap_init(&l->w, &lender_ops, x);
        s->subs[i].lender = l;
        x = &l->w.x;
    }
    cr_assert_eq(sc_sub_create_on(&s->subs[i].sub, ch, x, &cb, 77 + i, &err), 0, "%s", err.msg);
}

void
sim_init(struct sim *s, const struct sc_channel_cfg *ch, unsigned nsubs,
         const struct sc_loss_params *loss, const struct sc_loss_params *tx_loss)
{
    memset(s, 0, sizeof(*s));
    current = s;
    s->ch = *ch;
    s->step_ns = 50000; /* 64 messages a step = ~1.3M msg/s, ~400 Mbit/s: a real feed */
    s->now = 1000000000;
    s->net = sc_memnet_create(SIM_MAX_SUBS + 4, 8192);
    cr_assert_not_null(s->net);
    for (unsigned i = 0; i < nsubs; i++)
        add_sub(s, ch, loss);
    sim_new_publisher(s, tx_loss);
}

void
sim_add_sub(struct sim *s, const struct sc_loss_params *loss, enum sc_late_join lj)
{
    struct sc_channel_cfg ch = s->ch;

    ch.late_join = lj;
    add_sub(s, &ch, loss);
}

void
sim_add_publisher(struct sim *s)
{
    struct sc_xport_params xp;
    struct sc_xport *x;
    struct sc_err err;
    char addr[32];

    cr_assert_lt(s->nmore, SIM_MAX_SOURCES - 1);
    snprintf(addr, sizeof(addr), "198.18.0.%u", 2 + s->nmore);
    sc_xport_params_from(&xp, &s->ch, SC_XPORT_PUB);
    cr_assert_eq(sc_memnet_open(s->net, &x, inet_addr(addr), &xp), 0);
    cr_assert_eq(sc_pub_create_on(&s->more[s->nmore], &s->ch, x, 2000 + s->nmore, &err), 0, "%s",
                 err.msg);
    s->nmore++;
}

static bool
all_closed(const struct sim *s)
{
    if (s->pub && !sc_pub_closed(s->pub))
        return false;
    for (unsigned i = 0; i < s->nmore; i++)
        if (!sc_pub_closed(s->more[i]))
            return false;
    return true;
}

bool
sim_close(struct sim *s, uint64_t max_ns)
{
    uint64_t end = s->now + max_ns;

    if (s->pub)
        sc_pub_close(s->pub, s->now);
    for (unsigned i = 0; i < s->nmore; i++)
        sc_pub_close(s->more[i], s->now);
    while (!all_closed(s) && s->now < end)
        tick(s);
    return all_closed(s);
}

void
sim_stop_publisher(struct sim *s)
{
    sc_pub_destroy(s->pub);
    s->pub = NULL;
}

void
sim_fini(struct sim *s)
{
    if (s->pub)
        sc_pub_destroy(s->pub);
    for (unsigned i = 0; i < s->nmore; i++)
        sc_pub_destroy(s->more[i]);
    for (unsigned i = 0; i < s->nsubs; i++) {
        sc_sub_destroy(s->subs[i].sub);
        free(s->subs[i].lender);
    }
    sc_memnet_destroy(s->net);
    current = NULL;
    sim_lend = false;
}

static void
tick(struct sim *s)
{
    if (s->pub)
        sc_pub_do_work(s->pub, s->now);
    for (unsigned i = 0; i < s->nmore; i++)
        sc_pub_do_work(s->more[i], s->now);
    for (unsigned i = 0; i < s->nsubs; i++)
        while (sc_sub_do_work(s->subs[i].sub, s->now) > 0)
            ;
    s->now += s->step_ns;
}

void
sim_publish(struct sim *s, uint64_t n, unsigned per_step)
{
    uint8_t buf[65536];

    for (uint64_t i = 0; i < n;) {
        for (unsigned k = 0; k < per_step && i < n; k++, i++) {
            uint64_t seq = s->sent + 1;
            size_t len = sc_msggen_size(seq, s->msg_size);
            int rc;
            sc_msggen_fill(seq, buf, len);
            while ((rc = sc_pub_send(s->pub, buf, len, s->now)) == -EAGAIN)
                tick(s);
            cr_assert_eq(rc, 0, "send %llu: %d", (unsigned long long)seq, rc);
            for (unsigned m = 0; m < s->nmore; m++) {
                while ((rc = sc_pub_send(s->more[m], buf, len, s->now)) == -EAGAIN)
                    tick(s);
                cr_assert_eq(rc, 0, "publisher %u: send %llu: %d", m + 1,
                             (unsigned long long)seq, rc);
            }
            s->sent++;
        }
        tick(s);
    }
    sc_pub_flush(s->pub, s->now);
    for (unsigned m = 0; m < s->nmore; m++)
        sc_pub_flush(s->more[m], s->now);
}

struct sim_source *
sim_source(struct sim *s, unsigned sub, unsigned pub_index)
{
    struct sim_sub *ss = &s->subs[sub];
    return pub_index < ss->nsrc ? &ss->src[pub_index] : NULL;
}

bool
sim_drain(struct sim *s, uint64_t want, uint64_t max_ns)
{
    uint64_t end = s->now + max_ns;

    while (s->now < end) {
        bool all = true;
        for (unsigned i = 0; i < s->nsubs && all; i++) {
            struct sim_source *so = sim_source(s, i, s->npub - 1);
            all = so && so->next > want;
        }
        if (all)
            return true;
        tick(s);
    }
    for (unsigned i = 0; i < s->nsubs; i++) { /* say who is behind, and why */
        struct sim_source *so = sim_source(s, i, s->npub - 1);
        struct sc_sub_stats st;
        sc_sub_get_stats(s->subs[i].sub, &st);
        if (so && so->next > want)
            continue;
        printf("# behind: sub %u next %llu of %llu; naks %llu ncf %llu repaired %llu lost %llu "
               "dups %llu pool-empty %llu bad %llu %s\n",
               i, so ? (unsigned long long)so->next : 0ull, (unsigned long long)want,
               (unsigned long long)st.naks_sent, (unsigned long long)st.ncf_received,
               (unsigned long long)st.repaired, (unsigned long long)st.lost_packets,
               (unsigned long long)st.duplicates, (unsigned long long)st.rx_pool_empty,
               (unsigned long long)st.rx_bad_payload, s->subs[i].first_error);
    }
    return false;
}

void
sim_run_for(struct sim *s, uint64_t ns)
{
    uint64_t end = s->now + ns;
    while (s->now < end)
        tick(s);
}
