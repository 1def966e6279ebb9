/* The ITCH 5.0 feed glue (feedhandler/itch_feed.c), differentially: the input
 * in NASDAQ's file framing goes, record by record, through sc_itch_feed_msg
 * (which applies the order types straight from the wire) into one book, and
 * through sc_itch_decode + sc_itch_feed_apply (the decoded message) into
 * another. After every record both books hold the same counters, and the
 * message sc_itch_feed_current gives back encodes to the record's bytes;
 * at the end every book's BBO and depth agree. Small tables, so the limits,
 * the ring and its overflow map are reached. */
#include <string.h>

#include <seqcast/book.h>
#include <seqcast/itch.h>
#include <seqcast/proto/endian.h>
#include <seqcast/proto/itch.h>
#include "tests/fuzz/fuzz.h"

struct side_by_side {
    struct sc_book *book;
    struct sc_itch_feed *feed;
};

static void
mk(struct side_by_side *s)
{
    struct sc_book_cfg bc = { .max_orders = 64, .max_books = 8, .max_levels = 16 };
    struct sc_itch_feed_cfg fc = { 0 };
    struct sc_err err;

    FUZZ_CHECK(sc_book_create(&s->book, &bc, &err) == 0);
    fc.book = s->book;
    FUZZ_CHECK(sc_itch_feed_create(&s->feed, &fc, &err) == 0);
}

static void
same_books(const struct side_by_side *a, const struct side_by_side *b)
{
    struct sc_book_stats sa, sb;
    uint16_t la[8], lb[8];
    size_t na = sc_book_books(a->book, la, 8), nb = sc_book_books(b->book, lb, 8);

    sc_book_get_stats(a->book, &sa);
    sc_book_get_stats(b->book, &sb);
    FUZZ_CHECK(memcmp(&sa, &sb, sizeof(sa)) == 0);
    FUZZ_CHECK(na == nb && memcmp(la, lb, (na < 8 ? na : 8) * sizeof(la[0])) == 0);
    for (size_t i = 0; i < na && i < 8; i++) {
        struct sc_book_level da[16], db[16];

        for (int s = 0; s < 2; s++) {
            int ka = sc_book_depth(a->book, la[i], (enum sc_book_side)s, da, 16);
            int kb = sc_book_depth(b->book, la[i], (enum sc_book_side)s, db, 16);

            FUZZ_CHECK(ka == kb);
            for (int k = 0; k < ka; k++)
                FUZZ_CHECK(da[k].price == db[k].price && da[k].shares == db[k].shares &&
                           da[k].orders == db[k].orders);
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct side_by_side fast, slow;
    const uint8_t *p = data, *end = data + size;

    mk(&fast);
    mk(&slow);
    while (end - p >= 2) {
        size_t n = sc_load_be16(p);
        uint8_t rec[SC_ITCH_MAX_LEN + 1], out[SC_ITCH_MAX_LEN];
        struct sc_itch_msg m;
        int rc, rd;

        p += 2;
        if (n > (size_t)(end - p))
            n = (size_t)(end - p);
        if (n > SC_ITCH_MAX_LEN + 1)
            n = SC_ITCH_MAX_LEN + 1;
        memcpy(rec, p, n); /* the record alone: nothing past n is there to read */
        rc = sc_itch_feed_msg(fast.feed, rec, n);
        rd = sc_itch_decode(rec, n, &m);
        FUZZ_CHECK(rc == (rd < 0 ? rd : (int)rec[0]));
        if (rd > 0) {
            sc_itch_feed_apply(slow.feed, &m);
            memset(rec, 0xEE, sizeof(rec)); /* current must not read the caller's buffer */
            FUZZ_CHECK(sc_itch_encode(out, sizeof(out), sc_itch_feed_current(fast.feed)) ==
                       (int)n);
            FUZZ_CHECK(memcmp(out, p, n) == 0);
        }
        p += n;
        same_books(&fast, &slow);
    }
    sc_itch_feed_destroy(fast.feed);
    sc_itch_feed_destroy(slow.feed);
    sc_book_destroy(fast.book);
    sc_book_destroy(slow.book);
    return 0;
}
