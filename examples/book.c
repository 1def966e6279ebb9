/* Order books from NASDAQ TotalView-ITCH 5.0: a book engine, the ITCH glue
 * over it, a file in NASDAQ's format (2-byte length, then the message) fed
 * through, and every book's best bid and offer printed. Without a file it
 * feeds a few messages it makes itself. Build against an installed libseqcast:
 *
 *   cc book.c $(pkg-config --cflags --libs seqcast) -o book && ./book [day.itch]
 */
#include <stdio.h>
#include <string.h>

#include <seqcast/book.h>
#include <seqcast/itch.h>

/* A few messages in the file format, made with the codec's encoder. */
static size_t
sample(uint8_t *buf)
{
    struct sc_itch_msg m[4] = {
        { .type = 'R', .locate = 1, .ts = 1 },
        { .type = 'A', .locate = 1, .ts = 2, .add = { .ref = 1, .side = 'B', .shares = 100,
                                                      .price = 1850000 } },
        { .type = 'A', .locate = 1, .ts = 3, .add = { .ref = 2, .side = 'S', .shares = 300,
                                                      .price = 1850100 } },
        { .type = 'E', .locate = 1, .ts = 4, .exec = { .ref = 2, .shares = 100, .match = 1 } },
    };
    size_t len = 0;

    memcpy(m[0].stock_directory.stock, "AAPL    ", 8);
    for (int i = 0; i < 4; i++) {
        int n = sc_itch_encode(buf + len + 2, SC_ITCH_MAX_LEN, &m[i]);
        buf[len] = 0, buf[len + 1] = (uint8_t)n;
        len += 2 + (size_t)n;
    }
    return len;
}

int
main(int argc, char **argv)
{
    /* sides deeper than 32 levels share a pool of 1 Mi levels (16 MiB); one side holds
     * 65,536 at most */
    struct sc_book_cfg bc = { .max_orders = 1 << 20, .max_books = 8192, .max_levels = 1 << 16,
                              .level_pool = 1 << 20 };
    static uint8_t buf[1 << 20];
    struct sc_book *book;
    struct sc_itch_feed *feed;
    struct sc_itch_feed_cfg fc = { 0 };
    struct sc_itch_feed_stats st;
    struct sc_err err;
    static uint16_t locs[65536];
    size_t have = 0, n;

    if (sc_book_create(&book, &bc, &err) < 0 ||
        (fc.book = book, sc_itch_feed_create(&feed, &fc, &err) < 0)) {
        fprintf(stderr, "book: %s\n", err.msg);
        return 1;
    }
    if (argc > 1) { /* a file: read a chunk, apply the whole records, keep the rest */
        FILE *in = fopen(argv[1], "rb");
        if (!in) {
            perror(argv[1]);
            return 1;
        }
        while ((n = fread(buf + have, 1, sizeof(buf) - have, in)) > 0) {
            size_t used = sc_itch_feed_file(feed, buf, have + n);
            have = have + n - used;
            memmove(buf, buf + used, have);
        }
        fclose(in);
    } else {
        sc_itch_feed_file(feed, buf, sample(buf));
    }
    n = sc_book_books(book, locs, 65536);
    for (size_t i = 0; i < n; i++) {
        struct sc_book_bbo q;
        struct sc_book_info info;
        sc_book_bbo(book, locs[i], &q);
        sc_book_info(book, locs[i], &info);
        printf("%-8s %u @ %u.%04u  x  %u @ %u.%04u%s\n", info.symbol, (unsigned)q.bid_shares,
               q.bid_price / 10000, q.bid_price % 10000, (unsigned)q.ask_shares,
               q.ask_price / 10000, q.ask_price % 10000, q.stale ? " (stale)" : "");
    }
    sc_itch_feed_get_stats(feed, &st);
    printf("%llu messages, %zu books, %llu skipped\n", (unsigned long long)st.msgs, n,
           (unsigned long long)st.bad_msgs);
    sc_itch_feed_destroy(feed);
    sc_book_destroy(book);
    return 0;
}
