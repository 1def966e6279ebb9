/* Hostile input, on the simulated network: random bytes, truncated packets,
 * wrong checksums, NAKs outside the window and a NAK flood from one host, all
 * while a real stream with loss is being repaired. Each kind must end up in its
 * own counter; nothing crashes; the honest subscribers still get every message
 * once, in order. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "engine/pub_int.h"
#include "proto/endian.h"
#include "proto/pgm.h"
#include "tests/support/sim.h"
#include "tests/support/testutil.h"

#define ATTACKER "198.18.9.9"
#define S(x) ((uint64_t)(x) * 1000000000u)

static struct sim sim;

static uint32_t
ip(const char *s)
{
    return inet_addr(s);
}

/* a NAK the publisher would accept, for wire sequence sqn */
static int
forge_nak(uint8_t *b, size_t cap, uint32_t sqn, const struct sc_channel_cfg *ch)
{
    struct sc_pgm_pkt k;
    uint32_t pub = ip("198.18.0.1");

    memset(&k, 0, sizeof(k));
    sc_pub_tsi(sim.pub, k.gsi, &k.dport);
    k.sport = ch->pgm_port;
    k.type = SC_PGM_NAK;
    k.nak.sqn = sqn;
    k.nak.src.afi = k.nak.grp.afi = SC_PGM_AFI_IP;
    memcpy(k.nak.src.addr, &pub, 4);
    memcpy(k.nak.grp.addr, &ch->group.s_addr, 4);
    return sc_pgm_encode(b, cap, &k);
}

static void
attack_round(uint64_t *rng, const struct sc_channel_cfg *ch, uint64_t round)
{
    uint8_t b[1600];
    uint32_t pub = ip("198.18.0.1"), me = ip(ATTACKER);
    size_t n = 1 + tu_rand(rng) % 1500;
    int len;

    /* 1. random bytes, at the group and at the publisher's NAK port */
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)tu_rand(rng);
    sc_memnet_inject(sim.net, me, 40000, ch->group.s_addr, ch->port, b, (uint16_t)n);
    sc_memnet_inject(sim.net, me, 40000, pub, ch->nak_port, b, (uint16_t)n);
    /* 2. a valid NAK, truncated */
    len = forge_nak(b, sizeof(b), 5, ch);
    sc_memnet_inject(sim.net, me, 40000, pub, ch->nak_port, b, (uint16_t)(len - 1 - round % 20));
    /* 3. a valid NAK with a wrong checksum */
    len = forge_nak(b, sizeof(b), 6, ch);
    b[7] ^= 0x5a;
    sc_memnet_inject(sim.net, me, 40000, pub, ch->nak_port, b, (uint16_t)len);
    /* 4. NAKs far outside the window */
    len = forge_nak(b, sizeof(b), 0x40000000u + (uint32_t)round, ch);
    sc_memnet_inject(sim.net, me, 40000, pub, ch->nak_port, b, (uint16_t)len);
    /* 5. a NAK flood for data the publisher holds: 500 per round from one host,
     * ~300,000 a second, far past the per-receiver budget (20,000/s) */
    for (int i = 0; i < 500; i++) {
        len = forge_nak(b, sizeof(b), (uint32_t)(tu_rand(rng) % 64), ch);
        sc_memnet_inject(sim.net, me, 40000, pub, ch->nak_port, b, (uint16_t)len);
    }
    /* 6. a valid ODATA with a wrong checksum, at the subscribers */
    {
        struct sc_pgm_pkt k;
        memset(&k, 0, sizeof(k));
        sc_pub_tsi(sim.pub, k.gsi, &k.sport);
        k.dport = ch->pgm_port;
        k.type = SC_PGM_ODATA;
        k.data.sqn = 3;
        k.tsdu = (const uint8_t *)"evil";
        k.tsdu_len = 4;
        len = sc_pgm_encode(b, sizeof(b), &k);
        b[len - 1] ^= 1;
        sc_memnet_inject(sim.net, me, 40000, ch->group.s_addr, ch->port, b, (uint16_t)len);
    }
}

Test(hostile, garbage_and_floods_are_counted_and_the_stream_survives, .timeout = 120)
{
    struct sc_loss_params lp = { .seed = 21, .drop_ppm = 30000 };
    struct sc_channel_cfg ch;
    struct sc_pub_stats ps;
    uint64_t rng = 5, rounds = 0, bad_pub = 0, bad_sub = 0;
    const uint64_t n = 200000;

    sim_channel(&ch);
    sim_init(&sim, &ch, 3, &lp, NULL);
    for (uint64_t sent = 0; sent < n; sent += 2000) {
        sim_publish(&sim, 2000, 64);
        attack_round(&rng, &ch, rounds++);
    }
    cr_assert(sim_drain(&sim, n, S(5)), "the honest subscribers did not catch up");
    for (unsigned i = 0; i < sim.nsubs; i++) {
        struct sim_source *so = sim_source(&sim, i, 0);
        struct sc_sub_stats st;
        cr_assert_eq(sim.subs[i].order_errors + sim.subs[i].content_errors, 0, "%s",
                     sim.subs[i].first_error);
        cr_assert_eq(so->nloss, 0, "subscriber %u lost data", i);
        cr_assert_eq(so->delivered, n);
        sc_sub_get_stats(sim.subs[i].sub, &st);
        for (int c = 0; c < 13; c++)
            bad_sub += st.rx_bad[c];
        cr_assert_eq(st.sources_up, 1, "garbage must not become a source");
    }
    sc_pub_get_stats(sim.pub, &ps);
    for (int c = 0; c < 13; c++)
        bad_pub += ps.rx_bad[c];
    printf("# publisher: %llu malformed dropped (checksum %llu, short %llu), %llu NAKs outside "
           "the window, %llu over the per-receiver budget; subscribers: %llu malformed\n",
           (unsigned long long)bad_pub, (unsigned long long)ps.rx_bad[-SC_PERR_CHECKSUM],
           (unsigned long long)ps.rx_bad[-SC_PERR_SHORT], (unsigned long long)ps.nak_out_of_window,
           (unsigned long long)ps.nak_over_budget, (unsigned long long)bad_sub);
    /* wrong checksums and truncations (a cut packet fails its checksum first:
     * the checksum covers the whole datagram) */
    cr_assert_geq(ps.rx_bad[-SC_PERR_CHECKSUM], 2 * rounds, "damaged NAKs not counted");
    cr_assert_geq(ps.nak_out_of_window, rounds, "NAKs outside the window not counted");
    cr_assert_gt(ps.nak_over_budget, 0, "the flood was never limited");
    cr_assert_geq(bad_sub, 3 * rounds, "subscribers did not count the garbage");
    sim_fini(&sim);
}

/* Every truncation and every single-bit flip of real packets: no crash, and
 * each is either accepted (a flip the checksum cannot see is impossible: PGM
 * checksums catch all single-bit errors) or dropped with a reason. */
Test(hostile, every_truncation_and_bit_flip_is_rejected)
{
    struct sc_channel_cfg ch;
    uint8_t b[256], c[256];
    int len;

    sim_channel(&ch);
    sim_init(&sim, &ch, 1, NULL, NULL);
    len = forge_nak(b, sizeof(b), 7, &ch);
    for (int cut = 0; cut < len; cut++) {
        struct sc_pgm_pkt k;
        cr_assert_lt(sc_pgm_decode(b, (size_t)cut, &k, 0), 0, "truncated to %d accepted", cut);
    }
    for (int bit = 0; bit < len * 8; bit++) {
        struct sc_pgm_pkt k;
        memcpy(c, b, (size_t)len);
        c[bit / 8] ^= (uint8_t)(1 << (bit % 8));
        cr_assert_lt(sc_pgm_decode(c, (size_t)len, &k, 0), 0, "bit %d flip accepted", bit);
        sc_memnet_inject(sim.net, ip(ATTACKER), 40000, ip("198.18.0.1"), ch.nak_port, c,
                         (uint16_t)len);
    }
    sim_run_for(&sim, 1000000);
    sim_fini(&sim);
}
