/* The loss wrapper (replay/impair.c), reordering: every packet held back comes
 * out once, its own bytes, behind later ones -- on what is received, and on
 * what is sent one packet per call (as seqcast-replay paces it). A fake inner
 * transport numbers what it hands out and notes what it is given. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/xport.h>

#define N 2000

struct fake {
    struct sc_xport x;
    uint32_t next_rx; /* rx: the number of the next packet handed out */
    unsigned n;       /* tx: packets given */
    unsigned window;  /* tx: of them, flagged SC_PKT_WINDOW */
    uint32_t got[2 * N];
};

static struct fake *
fake_of(struct sc_xport *x)
{
    return (struct fake *)(void *)x;
}

static uint16_t
fake_rx(struct sc_xport *x, struct sc_pkt *p, uint16_t n)
{
    struct fake *f = fake_of(x);
    uint16_t k = 0;

    for (; k < n && f->next_rx < N; k++, f->next_rx++) {
        memset(p[k].data, 0, 64);
        memcpy(p[k].data, &f->next_rx, 4);
        p[k].len = 64;
    }
    return k;
}

static uint16_t
fake_tx(struct sc_xport *x, const struct sc_pkt *p, uint16_t n)
{
    struct fake *f = fake_of(x);

    for (uint16_t i = 0; i < n; i++) {
        cr_assert_lt(f->n, 2 * N);
        f->window += !!(p[i].flags & SC_PKT_WINDOW);
        memcpy(&f->got[f->n++], p[i].data, 4);
    }
    return n;
}

static void
fake_close(struct sc_xport *x)
{
    (void)x; /* the test's */
}

static const struct sc_xport_ops fake_ops = {
    .name = "fake", .rx_burst = fake_rx, .tx_burst = fake_tx, .close = fake_close,
};

/* Each of 0..N-1 exactly once in seq[0..n), and some out of order. */
static void
check_reordered(const uint32_t *seq, unsigned n, const struct sc_loss_stats *st)
{
    static unsigned seen[N];
    unsigned late = 0;

    memset(seen, 0, sizeof(seen));
    cr_assert_gt(st->reordered, N / 20, "reordered %llu", (unsigned long long)st->reordered);
    cr_assert_eq(n, N, "%u packets came out of %u", n, N);
    for (unsigned i = 0; i < n; i++) {
        cr_assert_lt(seq[i], N);
        cr_assert_eq(seen[seq[i]]++, 0, "packet %u twice", seq[i]);
        if (i && seq[i] < seq[i - 1])
            late++;
    }
    cr_assert_geq(late, st->reordered / 2, "%u came behind later ones (%llu held back)", late,
                  (unsigned long long)st->reordered);
}

Test(impair, reorder_on_rx_delivers_each_packet_once_with_its_own_bytes)
{
    static struct fake f = { .x = { .ops = &fake_ops } };
    struct sc_loss_params lp = { .seed = 3, .reorder_ppm = 200000 };
    struct sc_xport *x;
    static uint8_t bufs[SC_BURST][2048];
    struct sc_pkt p[SC_BURST];
    static uint32_t seq[2 * N];
    unsigned n = 0, idle = 0;

    cr_assert_eq(sc_xport_loss_wrap(&x, &f.x, &lp), 0);
    while (idle < 64) { /* reads that find nothing release what is held */
        uint16_t k;
        for (unsigned i = 0; i < SC_BURST; i++)
            p[i] = (struct sc_pkt){ .data = bufs[i], .cap = sizeof(bufs[i]) };
        k = sc_xport_rx(x, p, 7);
        idle = k ? 0 : idle + 1;
        for (uint16_t i = 0; i < k; i++) {
            cr_assert_lt(n, 2 * N);
            memcpy(&seq[n++], p[i].data, 4);
        }
    }
    check_reordered(seq, n, sc_xport_loss_stats(x));
    sc_xport_close(x);
}

Test(impair, reorder_on_tx_one_packet_per_call_holds_it_behind_the_next)
{
    static struct fake f = { .x = { .ops = &fake_ops } };
    struct sc_loss_params lp = { .seed = 5, .reorder_ppm = 200000, .on_tx = true };
    struct sc_xport *x;
    uint8_t buf[64] = { 0 };

    cr_assert_eq(sc_xport_loss_wrap(&x, &f.x, &lp), 0);
    for (uint32_t i = 0; i < N; i++) {
        struct sc_pkt p = { .data = buf, .len = sizeof(buf) };
        memcpy(buf, &i, 4);
        cr_assert_eq(sc_xport_tx(x, &p, 1), 1);
        memset(buf, 0xee, sizeof(buf)); /* the wrapper keeps its own copy */
    }
    for (int i = 0; i < 64; i++) /* calls that send nothing release what is held */
        sc_xport_tx(x, NULL, 0);
    check_reordered(f.got, f.n, sc_xport_loss_stats(x));
    sc_xport_close(x);
}

/* A copy is not the window's buffer: a zero-copy transport under the wrapper
 * must not take the wrapper's buffers (no headroom, reused) for the
 * publisher's, so what the wrapper sends from its copies is unflagged. */
Test(impair, what_it_sends_from_its_copies_is_not_flagged_as_window_buffers)
{
    static struct fake f = { .x = { .ops = &fake_ops } };
    struct sc_loss_params lp = { .seed = 5, .drop_ppm = 1000, .on_tx = true };
    struct sc_xport *x;
    uint8_t buf[64] = { 0 };

    cr_assert_eq(sc_xport_loss_wrap(&x, &f.x, &lp), 0);
    for (uint32_t i = 0; i < 100; i++) {
        struct sc_pkt p = { .data = buf, .len = sizeof(buf), .flags = SC_PKT_WINDOW };
        memcpy(buf, &i, 4);
        cr_assert_eq(sc_xport_tx(x, &p, 1), 1);
    }
    cr_assert_gt(f.n, 50);
    cr_assert_eq(f.window, 0, "%u of %u sent flagged as the window's", f.window, f.n);
    sc_xport_close(x);
}
