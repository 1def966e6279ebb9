/* The publisher over a zero-copy transport that still holds window buffers
 * (sc_xport_ops.tx_busy): a message that needs several packets (fragments)
 * is refused with -EAGAIN while the buffer of any of them is held, and stored
 * whole once none is -- never written through a reserve that was refused. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/config.h>
#include <seqcast/pub.h>
#include <seqcast/xport.h>

struct held {
    struct sc_xport x;
    const uint8_t *first; /* the first buffer tx_busy was asked about: free */
    bool hold_others;     /* every other buffer is still the device's */
    unsigned sent;
};

static uint16_t
held_rx(struct sc_xport *x, struct sc_pkt *p, uint16_t n)
{
    (void)x, (void)p, (void)n;
    return 0;
}

static uint16_t
held_tx(struct sc_xport *x, const struct sc_pkt *p, uint16_t n)
{
    (void)p;
    ((struct held *)(void *)x)->sent += n;
    return n;
}

static bool
held_busy(struct sc_xport *x, const uint8_t *data)
{
    struct held *h = (struct held *)(void *)x;

    if (!h->first)
        h->first = data;
    return h->hold_others && data != h->first;
}

static void
held_close(struct sc_xport *x)
{
    free(x);
}

static const struct sc_xport_ops held_ops = {
    .name = "held", .rx_burst = held_rx, .tx_burst = held_tx, .tx_busy = held_busy,
    .close = held_close,
};

Test(pub_busy, a_fragmented_message_waits_until_none_of_its_buffers_is_held, .timeout = 10)
{
    static struct sc_config cfg;
    static uint8_t msg[4000]; /* three fragments */
    struct sc_channel_cfg ch;
    struct held *h = calloc(1, sizeof(*h));
    struct sc_pub *pub = NULL;
    struct sc_err err = { 0 };

    cr_assert_not_null(h);
    h->x.ops = &held_ops;
    h->x.local_addr = 0x0100007f;
    h->hold_others = true;
    sc_config_init(&cfg);
    ch = cfg.channels[0];
    ch.framing = SC_FRAMING_RAW;
    cr_assert_eq(sc_pub_create_on(&pub, &ch, &h->x, 7, &err), 0, "%s", err.msg);
    memset(msg, 0xA5, sizeof(msg));
    cr_assert_eq(sc_pub_send(pub, msg, sizeof(msg), 1000000), -EAGAIN,
                 "the second fragment's buffer is held");
    h->hold_others = false;
    cr_assert_eq(sc_pub_send(pub, msg, sizeof(msg), 2000000), 0);
    sc_pub_flush(pub, 2000000);
    for (uint64_t t = 2000000; t < 200000000 && h->sent < 3; t += 1000000)
        sc_pub_do_work(pub, t);
    cr_assert_geq(h->sent, 3, "the three fragments went out (%u packets)", h->sent);
    sc_pub_destroy(pub);
}
