#include "tests/support/moldrig.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apps/msggen.h"
#include <seqcast/proto/endian.h>

void
rig_channel(struct sc_channel_cfg *ch)
{
    struct sc_config cfg;

    sc_config_init(&cfg);
    *ch = cfg.channels[0];
    inet_pton(AF_INET, "239.198.0.18", &ch->group);
    inet_pton(AF_INET, RIG_PUB_ADDR, &ch->interface);
    ch->protocol = SC_PROTOCOL_MOLDUDP64;
    snprintf(ch->mold.session, sizeof(ch->mold.session), "%s", RIG_SESSION);
}

uint32_t
rig_lst(void)
{
    return inet_addr(RIG_LST_ADDR);
}

static struct sc_xport *
endpoint(struct rig *r, const char *addr, enum sc_xport_role role, uint32_t group, uint16_t port)
{
    struct sc_xport_params xp = { .role = role, .group = group, .port = port, .nak_port = port };
    struct sc_xport *x;

    cr_assert_eq(sc_memnet_open(r->net, &x, inet_addr(addr), &xp), 0);
    return x;
}

void
rig_init(struct rig *r, const struct sc_channel_cfg *ch,
         int (*wrap)(struct sc_xport **out, struct sc_xport *inner, void *arg), void *arg)
{
    struct sc_channel_cfg c = *ch; /* ch may be r->ch */
    struct sc_xport_params xp;
    struct sc_xport *x;
    struct sc_err err;

    memset(r, 0, sizeof(*r));
    r->ch = c;
    ch = &r->ch;
    r->now = 1000 * RIG_S;
    r->step_ns = 100000; /* 100 us */
    r->size = 40;
    r->net = sc_memnet_create(8, 8192);
    cr_assert_not_null(r->net);
    sc_xport_params_from(&xp, ch, SC_XPORT_PUB);
    cr_assert_eq(sc_memnet_open(r->net, &x, inet_addr(RIG_PUB_ADDR), &xp), 0);
    r->pub_x = x;
    if (wrap)
        cr_assert_eq(wrap(&x, x, arg), 0);
    cr_assert_eq(sc_pub_create_on(&r->pub, ch, x, 4242, &err), 0, "%s", err.msg);
    /* the listener: the group, the B line, and its own unicast address (a
     * publisher-role endpoint of the mem network is what takes unicast) */
    r->mc = endpoint(r, "198.18.1.2", SC_XPORT_SUB, ch->group.s_addr, ch->port);
    if (ch->group_b.s_addr)
        r->mcb = endpoint(r, "198.18.1.3", SC_XPORT_SUB, ch->group_b.s_addr, ch->port);
    r->uc = endpoint(r, RIG_LST_ADDR, SC_XPORT_PUB, 0, RIG_LST_PORT);
}

static void
list_free(struct rig_list *l)
{
    bool discard = l->discard;

    for (size_t i = 0; i < l->n; i++)
        free(l->p[i].data);
    free(l->p);
    memset(l, 0, sizeof(*l));
    l->discard = discard;
}

void
rig_clear(struct rig *r)
{
    list_free(&r->mcq);
    list_free(&r->mcbq);
    list_free(&r->ucq);
}

void
rig_fini(struct rig *r)
{
    sc_pub_destroy(r->pub);
    sc_memnet_destroy(r->net);
    rig_clear(r);
}

static void
drain(struct rig *r, struct sc_xport *x, struct rig_list *l, uint32_t to, uint16_t to_port)
{
    static uint8_t bufs[SC_BURST][2048];
    struct sc_pkt in[SC_BURST];
    uint16_t got;

    if (!x)
        return;
    do {
        for (unsigned i = 0; i < SC_BURST; i++)
            in[i] = (struct sc_pkt){ .data = bufs[i], .cap = sizeof(bufs[i]) };
        got = sc_xport_rx(x, in, SC_BURST);
        for (uint16_t i = 0; i < got; i++) {
            struct rig_pkt *p;
            struct sc_mold_iter it;
            struct sc_mold_hdr h;
            l->seen++;
            if (sc_mold_iter_init(&it, in[i].data, in[i].len, &h) == 0 &&
                h.count != SC_MOLD_COUNT_EOS)
                l->msgs += h.count;
            if (l->discard)
                continue;
            if (l->n == l->cap) {
                l->cap = l->cap ? 2 * l->cap : 256;
                l->p = realloc(l->p, l->cap * sizeof(*l->p));
                cr_assert_not_null(l->p);
            }
            p = &l->p[l->n++];
            memset(p, 0, sizeof(*p));
            p->t = r->now;
            p->to = to;
            p->to_port = to_port;
            p->len = in[i].len;
            p->data = malloc(in[i].len ? in[i].len : 1);
            memcpy(p->data, in[i].data, in[i].len);
            p->valid = sc_mold_iter_init(&it, p->data, p->len, &p->h) == 0;
        }
    } while (got == SC_BURST);
}

void
rig_tick(struct rig *r)
{
    sc_pub_do_work(r->pub, r->now);
    drain(r, r->mc, &r->mcq, r->ch.group.s_addr, r->ch.port);
    drain(r, r->mcb, &r->mcbq, r->ch.group_b.s_addr, r->ch.port);
    drain(r, r->uc, &r->ucq, rig_lst(), RIG_LST_PORT);
    r->now += r->step_ns;
}

void
rig_run_for(struct rig *r, uint64_t ns)
{
    rig_run_until(r, r->now + ns);
}

void
rig_run_until(struct rig *r, uint64_t t)
{
    while (r->now < t)
        rig_tick(r);
}

void
rig_publish(struct rig *r, uint64_t n)
{
    static uint8_t buf[65536];

    for (uint64_t i = 0; i < n; i++) {
        uint64_t seq = r->sent + 1;
        size_t len = sc_msggen_size(seq, r->size);
        int rc;
        sc_msggen_fill(seq, buf, len);
        while ((rc = sc_pub_send(r->pub, buf, len, r->now)) == -EAGAIN)
            rig_tick(r);
        cr_assert_eq(rc, 0, "send %llu: %d", (unsigned long long)seq, rc);
        r->sent++;
    }
    sc_pub_flush(r->pub, r->now);
}

void
rig_inject(struct rig *r, uint32_t addr, uint16_t port, const void *data, uint16_t len)
{
    sc_memnet_inject(r->net, addr, port, inet_addr(RIG_PUB_ADDR), r->ch.port, data, len);
}

void
rig_request(struct rig *r, uint32_t addr, uint16_t port, const char *session, uint64_t seq,
            uint16_t count)
{
    uint8_t b[SC_MOLD_REQUEST_LEN];

    memset(b, ' ', SC_MOLD_SESSION_LEN);
    memcpy(b, session, strnlen(session, SC_MOLD_SESSION_LEN));
    sc_store_be64(b + 10, seq);
    sc_store_be16(b + 18, count);
    rig_inject(r, addr, port, b, sizeof(b));
}

bool
rig_check_blocks(const struct rig *r, const struct rig_pkt *p, char *why, size_t len)
{
    struct sc_mold_iter it;
    struct sc_mold_hdr h;
    const uint8_t *msg;
    uint64_t seq, n = 0;
    uint16_t ml;

    if (sc_mold_iter_init(&it, p->data, p->len, &h) != 0) {
        snprintf(why, len, "not a well-formed MoldUDP64 packet (%u bytes)", p->len);
        return false;
    }
    if (memcmp(h.session, RIG_SESSION " ", SC_MOLD_SESSION_LEN) != 0) {
        snprintf(why, len, "session '%.10s'", (const char *)h.session);
        return false;
    }
    while (sc_mold_iter_next(&it, &seq, &msg, &ml)) {
        if (ml != sc_msggen_size(seq, r->size) || !sc_msggen_check(seq, msg, ml)) {
            snprintf(why, len, "message %llu: wrong content (%u bytes)", (unsigned long long)seq,
                     ml);
            return false;
        }
        n++;
    }
    if (n != (h.count == SC_MOLD_COUNT_EOS ? 0 : h.count)) {
        snprintf(why, len, "%llu blocks for count %u", (unsigned long long)n, h.count);
        return false;
    }
    return true;
}

size_t
rig_count(const struct rig_list *l, unsigned c)
{
    size_t n = 0;

    for (size_t i = 0; i < l->n; i++) {
        unsigned k = l->p[i].h.count;
        n += c == 1 ? (k != SC_MOLD_COUNT_HEARTBEAT && k != SC_MOLD_COUNT_EOS) : k == c;
    }
    return n;
}
