/* seqcast-feedhandler: NASDAQ TotalView-ITCH 5.0 into order books.
 *
 * parse   the options (apps/cli.h's channel options, the input, the output)
 * run     the books (<seqcast/book.h>) behind the ITCH glue (<seqcast/itch.h>),
 *         fed by a file reader, or by a subscriber on the network or on a
 *         capture; a watch agent beside it draws the progress bar, prints
 *         depth snapshots and says when to stop -- all on one runner
 * report  the last depth snapshot, the JSON summary, the exit status
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <seqcast/agent.h>
#include <seqcast/book.h>
#include <seqcast/itch.h>
#include <seqcast/mdrec.h>
#include <seqcast/pcap.h>
#include <seqcast/pub.h>
#include <seqcast/sub.h>

#include "apps/cli.h"

#define MAX_SLEEP_NS 100000000u /* a cycle's longest sleep */
#define CHUNK (1u << 16)        /* --input read size: small enough to stay in the cache beside
                                   the books (1 MiB was 5 % slower on the generated day) */
#define CHUNK_BUF (CHUNK + 2 + 65535) /* a chunk after the longest record a chunk can cut */
#define MAX_DEPTH 1000
#define PROGRESS_NS 100000000u  /* the progress bar's redraw */

struct opts {
    struct sc_cli cli;
    const char *input;              /* --input: ITCH file framing */
    const char *pcap, *pcap_filter; /* --pcap: a capture instead of the network */
    const char *symbols;            /* --symbols A,B,C */
    const char *publish;            /* --publish ipc:NAME */
    unsigned depth;                 /* --depth N */
    double every, timeout;          /* --every, --timeout */
    uint32_t max_orders, max_books, max_levels, level_pool;
    bool csv, quiet;
};

/* What the callbacks see, count and print. */
struct app {
    FILE *out;
    bool csv, quiet;
    struct sc_book *book;
    struct sc_itch_feed *feed;
    struct sc_shmstat *shm; /* stats.shm: the feed's, the books' and the subscriber's */
    char (*sym)[9];     /* by locate: the directory's symbol ("" unnamed) */
    uint8_t *want;      /* by locate: printed (NULL: every book) */
    char (*wanted)[9];  /* --symbols */
    unsigned nwanted;
    uint64_t delivered, loss_events, lost_msgs, late_joins;
    unsigned sources_up, sources_down, fins;
    int join;           /* the last source's join (SC_JOIN_*) */
    bool first_checked; /* its first message looked at */
    uint64_t t_first, t_last;
    struct sc_pub *rp;  /* --publish: BBO and trade records to a local IPC channel */
    uint64_t rp_sent, rp_errors;
};

/* ------------------------------------------------------------------ output */

static const char *
price(char *buf, uint32_t p)
{
    if (!p)
        return "";
    snprintf(buf, 16, "%u.%04u", p / 10000, p % 10000);
    return buf;
}

/* a JSON value: the price, or null for none */
static const char *
jprice(char *buf, uint32_t p)
{
    return p ? price(buf, p) : "null";
}

static bool
wanted(const struct app *a, uint16_t locate)
{
    return !a->want || a->want[locate];
}

static uint64_t
ts_now(const struct app *a)
{
    return sc_itch_feed_current(a->feed)->ts;
}

/* --publish: one record to the local channel; under ipc.backpressure: block
 * it waits for the channel's readers */
static void
rp_send(struct app *a, const void *rec, size_t len)
{
    int rc;

    while ((rc = sc_pub_send(a->rp, rec, len, sc_clock_now())) == -EAGAIN && !sc_cli_stop) {
        sc_pub_do_work(a->rp, sc_clock_now());
        nanosleep(&(struct timespec){ 0, 20000 }, NULL);
    }
    if (rc == 0)
        a->rp_sent++;
    else
        a->rp_errors++;
}

static void
rp_symbol(const struct app *a, uint16_t locate, char out[8])
{
    size_t n = strnlen(a->sym[locate], 8);

    memset(out, ' ', 8);
    memcpy(out, a->sym[locate], n);
    if (!n)
        memset(out, 0, 8);
}

static void
on_bbo(void *ctx, const struct sc_book_bbo *q)
{
    struct app *a = ctx;
    char b[16], s[16];

    if (a->rp && wanted(a, q->locate)) {
        struct sc_mdrec_bbo r = { .type = SC_MDREC_BBO, .version = SC_MDREC_VERSION,
                                  .locate = q->locate, .stale = q->stale, .ts = ts_now(a),
                                  .bid_price = q->bid_price, .ask_price = q->ask_price,
                                  .bid_orders = q->bid_orders, .ask_orders = q->ask_orders,
                                  .bid_shares = q->bid_shares, .ask_shares = q->ask_shares };
        rp_symbol(a, q->locate, r.symbol);
        rp_send(a, &r, sizeof(r));
    }

    if (a->quiet || !wanted(a, q->locate))
        return;
    if (a->csv)
        fprintf(a->out, "bbo,%llu,%u,%s,%d,%s,%llu,%u,%s,%llu,%u,,,,,,,\n",
                (unsigned long long)ts_now(a), q->locate, a->sym[q->locate], q->stale,
                price(b, q->bid_price), (unsigned long long)q->bid_shares, q->bid_orders,
                price(s, q->ask_price), (unsigned long long)q->ask_shares, q->ask_orders);
    else
        fprintf(a->out,
                "{\"type\": \"bbo\", \"ts\": %llu, \"locate\": %u, \"symbol\": \"%s\", "
                "\"bid\": %s, \"bid_shares\": %llu, \"bid_orders\": %u, \"ask\": %s, "
                "\"ask_shares\": %llu, \"ask_orders\": %u, \"stale\": %s}\n",
                (unsigned long long)ts_now(a), q->locate, a->sym[q->locate],
                jprice(b, q->bid_price), (unsigned long long)q->bid_shares, q->bid_orders,
                jprice(s, q->ask_price), (unsigned long long)q->ask_shares, q->ask_orders,
                q->stale ? "true" : "false");
}

static void
on_trade(void *ctx, const struct sc_book_trade *t)
{
    struct app *a = ctx;
    char p[16];

    if (a->rp && (!t->locate || wanted(a, t->locate))) {
        struct sc_mdrec_trade r = { .type = SC_MDREC_TRADE, .version = SC_MDREC_VERSION,
                                    .locate = t->locate, .kind = t->kind, .side = t->side,
                                    .printable = t->printable, .cross_type = t->cross_type,
                                    .ts = ts_now(a), .shares = t->shares, .match = t->match,
                                    .ref = t->ref, .price = t->price };
        rp_symbol(a, t->locate, r.symbol);
        rp_send(a, &r, sizeof(r));
    }
    if (a->quiet || (t->locate && !wanted(a, t->locate)))
        return;
    if (a->csv)
        fprintf(a->out, "trade,%llu,%u,%s,,,,,,,,%c,%c,,%s,%llu,,%llu\n",
                (unsigned long long)ts_now(a), t->locate, a->sym[t->locate], t->kind,
                t->side ? t->side : ' ', price(p, t->price), (unsigned long long)t->shares,
                (unsigned long long)t->match);
    else
        fprintf(a->out,
                "{\"type\": \"trade\", \"kind\": \"%c\", \"ts\": %llu, \"locate\": %u, "
                "\"symbol\": \"%s\", \"price\": %s, \"shares\": %llu, \"side\": \"%.*s\", "
                "\"match\": %llu, \"ref\": %llu, \"printable\": %s}\n",
                t->kind, (unsigned long long)ts_now(a), t->locate, a->sym[t->locate],
                jprice(p, t->price), (unsigned long long)t->shares, t->side ? 1 : 0, &t->side,
                (unsigned long long)t->match, (unsigned long long)t->ref,
                t->printable ? "true" : "false");
}

static void
on_state(void *ctx, const struct sc_book_info *info, enum sc_book_change what)
{
    struct app *a = ctx;

    if (what != SC_BOOK_CHG_SYMBOL)
        return;
    memcpy(a->sym[info->locate], info->symbol, sizeof(info->symbol));
    if (a->want)
        for (unsigned i = 0; i < a->nwanted; i++)
            if (!strcmp(a->wanted[i], info->symbol))
                a->want[info->locate] = 1;
}

/* Every wanted book's n best levels of each side, one line per book (CSV:
 * one row per level). */
static void
print_depth(struct app *a, unsigned n)
{
    static uint16_t locs[65536];
    static struct sc_book_level lv[2][MAX_DEPTH];
    size_t nb = sc_book_books(a->book, locs, 65536);
    char p[16];

    for (size_t i = 0; i < nb; i++) {
        uint16_t l = locs[i];
        struct sc_book_info info;
        int k[2];
        if (!wanted(a, l) || sc_book_info(a->book, l, &info) < 0)
            continue;
        k[0] = sc_book_depth(a->book, l, SC_BOOK_BID, lv[0], n);
        k[1] = sc_book_depth(a->book, l, SC_BOOK_ASK, lv[1], n);
        if (a->csv) {
            for (int s = 0; s < 2; s++)
                for (int j = 0; j < k[s]; j++)
                    fprintf(a->out, "depth,%llu,%u,%s,%d,,,,,,,,%c,%d,%s,%llu,%u,\n",
                            (unsigned long long)ts_now(a), l, info.symbol, info.stale,
                            s ? 'S' : 'B', j + 1, price(p, lv[s][j].price),
                            (unsigned long long)lv[s][j].shares, lv[s][j].orders);
            continue;
        }
        fprintf(a->out,
                "{\"type\": \"depth\", \"ts\": %llu, \"locate\": %u, \"symbol\": \"%s\", "
                "\"stale\": %s, \"trading_state\": \"%.*s\", \"orders\": %llu",
                (unsigned long long)ts_now(a), l, info.symbol, info.stale ? "true" : "false",
                info.trading_state ? 1 : 0, &info.trading_state,
                (unsigned long long)info.stats.orders);
        for (int s = 0; s < 2; s++) {
            fprintf(a->out, ", \"%s\": [", s ? "asks" : "bids");
            for (int j = 0; j < k[s]; j++)
                fprintf(a->out, "%s[%s, %llu, %u]", j ? ", " : "", price(p, lv[s][j].price),
                        (unsigned long long)lv[s][j].shares, lv[s][j].orders);
            fprintf(a->out, "]");
        }
        fprintf(a->out, "}\n");
    }
    fflush(a->out);
}

/* -------------------------------------------------------------- the inputs */

/* --input: NASDAQ's file framing, a chunk per cycle, as an agent without
 * input (always due until the end of the file). A regular file is mapped and
 * fed where it lies (read() copied every byte once more: 8 % of the book
 * build); a pipe or a gzip file is read into buf. */
struct filer {
    struct sc_itch_feed *feed;
    int fd;
    uint8_t *map;          /* a regular file, mapped (size bytes); NULL: read into buf */
    uint8_t *buf;
    size_t have;           /* bytes in buf not applied yet (a record cut by the chunk) */
    uint64_t done, size;   /* bytes applied; the file's size (0: a pipe, a gzip file) */
    pid_t gzip;            /* reading a gzip file through gzip -dc: its pid */
    bool gzip_bad;         /* gzip found the file damaged or cut */
    bool eof;
    int err;               /* errno of a failed read */
};

static int
filer_work(void *self, uint64_t now)
{
    struct filer *r = self;
    ssize_t n;
    size_t used;

    (void)now;
    if (r->eof)
        return 0;
    if (r->map) { /* what a chunk cuts is fed with the next one; the end is the file's */
        size_t left = r->size - r->done, len = left < CHUNK_BUF ? left : CHUNK_BUF;

        used = sc_itch_feed_file(r->feed, r->map + r->done, len);
        r->done += used;
        if (used == 0 || r->done == r->size) {
            r->eof = true;
            if (r->done < r->size)
                sc_itch_feed_truncated(r->feed, r->size - r->done);
        }
        return 1;
    }
    n = read(r->fd, r->buf + r->have, CHUNK_BUF - r->have < CHUNK ? CHUNK_BUF - r->have : CHUNK);
    if (n <= 0) {
        if (n < 0 && errno == EINTR)
            return 0;
        r->err = n < 0 ? errno : 0;
        r->eof = true;
        r->gzip_bad = sc_cli_input_close(r->fd, r->gzip) < 0;
        r->fd = -1;
        if (r->have)
            sc_itch_feed_truncated(r->feed, r->have);
        return 1;
    }
    r->have += (size_t)n;
    used = sc_itch_feed_file(r->feed, r->buf, r->have);
    r->done += used;
    memmove(r->buf, r->buf + used, r->have - used);
    r->have -= used;
    return 1;
}

static uint64_t
filer_deadline(const void *self, uint64_t now)
{
    return ((const struct filer *)self)->eof ? UINT64_MAX : now;
}

static const struct sc_agent_ops filer_ops = { "file", filer_work, filer_deadline, NULL, NULL };

/* The subscriber's messages and events. */
static void
on_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    struct app *a = ctx;

    (void)src;
    if (!a->delivered++)
        a->t_first = sc_clock_now();
    /* A source joined by recovering its window (or asking from message 1)
     * whose first message is not message 1: what came before is not here. */
    if (!a->first_checked) {
        a->first_checked = true;
        if (seq > 1 && (a->join == SC_JOIN_WINDOW || a->join == SC_JOIN_FIRST)) {
            a->late_joins++;
            sc_itch_feed_loss(a->feed, 1, seq - 1);
            fprintf(stderr, "seqcast-feedhandler: source %s joined at message %llu: "
                    "messages 1..%llu are not here, every book is stale\n", src->name,
                    (unsigned long long)seq, (unsigned long long)(seq - 1));
        }
    }
    sc_itch_feed_msg(a->feed, msg, len);
}

/* A repaired run: only into the loss log (stats.shm). */
static void
on_repair(void *ctx, const struct sc_sub_event *ev)
{
    struct app *a = ctx;

    sc_shmstat_log_sub(a->shm, 2, ev);
}

static void
on_event(void *ctx, const struct sc_sub_event *ev)
{
    struct app *a = ctx;

    sc_shmstat_log_sub(a->shm, 2, ev);
    switch (ev->type) {
    case SC_EV_SOURCE_UP:
        a->sources_up++;
        a->join = ev->up.join;
        a->first_checked = false;
        if (ev->up.join == SC_JOIN_LIVE) { /* what came before is not here: a gap */
            a->late_joins++;
            sc_itch_feed_loss(a->feed, 1, UINT64_MAX);
        }
        if (!a->quiet)
            fprintf(stderr, "seqcast-feedhandler: source %s up%s\n", ev->src->name,
                    ev->up.join == SC_JOIN_LIVE      ? " (joined live: every book is stale)"
                    : ev->up.join == SC_JOIN_ARCHIVE ? " (joined late: the books are built from the "
                                                       "archives' rewind, then live)"
                                                     : "");
        break;
    case SC_EV_SOURCE_DOWN:
        a->sources_down++;
        if (ev->down.reason == SC_DOWN_FIN)
            a->fins++;
        if (!a->quiet)
            fprintf(stderr, "seqcast-feedhandler: source %s down (%s)\n", ev->src->name,
                    ev->down.reason == SC_DOWN_FIN ? "end of session" : "timeout");
        break;
    case SC_EV_LOSS:
        a->loss_events++;
        if (ev->loss.last != UINT64_MAX)
            a->lost_msgs += ev->loss.last - ev->loss.first + 1;
        sc_itch_feed_loss(a->feed, ev->loss.first, ev->loss.last);
        fprintf(stderr, "seqcast-feedhandler: LOSS from %s: messages %llu..%llu: every book "
                "is stale\n", ev->src->name, (unsigned long long)ev->loss.first,
                (unsigned long long)ev->loss.last);
        break;
    case SC_EV_NAK_UNANSWERED:
        fprintf(stderr, "seqcast-feedhandler: %s does not answer repair requests\n",
                ev->src->name);
        break;
    case SC_EV_REPAIR: /* only to on_repair */
        break;
    }
}

/* ------------------------------------------------------------------ limits */

/* The tables' limits (--max-orders, --max-books, --max-levels, --level-pool): an order or a
 * book refused for one leaves its book stale. Said once on stderr as it
 * happens, and counted in the summary (limits_report). */
struct limit {
    const char *opt, *what, *effect; /* "<what> <opt> N: <effect>" */
    uint64_t (*count)(const struct sc_book_stats *);
};

static uint64_t lim_orders(const struct sc_book_stats *s) { return s->orders_full; }
static uint64_t lim_books(const struct sc_book_stats *s) { return s->books_full; }
static uint64_t lim_levels(const struct sc_book_stats *s) { return s->levels_full; }
static uint64_t lim_pool(const struct sc_book_stats *s) { return s->level_pool_full; }

static const struct limit limits[] = {
    { "--max-orders", "the live orders reached",
      "an add that does not fit is refused and its book is stale", lim_orders },
    { "--max-books", "the instruments reached",
      "the messages of one more are dropped (it has no book)", lim_books },
    { "--max-levels", "a side of a book reached",
      "an order at a new price there is refused and the book is stale", lim_levels },
    { "--level-pool", "a side outgrew its block and no larger one is left in",
      "an order at a new price there is refused and the book is stale", lim_pool },
};
#define NLIMITS (sizeof(limits) / sizeof(limits[0]))

static uint32_t
limit_value(const struct opts *o, size_t i)
{
    const uint32_t v[] = { o->max_orders, o->max_books, o->max_levels, o->level_pool };

    return v[i];
}

/* Each limit's first refusal, once. */
static void
limits_warn(const struct opts *o, const struct sc_book *book, bool *warned)
{
    struct sc_book_stats bs;

    sc_book_get_stats(book, &bs);
    for (size_t i = 0; i < NLIMITS; i++) {
        if (!warned[i] && limits[i].count(&bs)) {
            warned[i] = true;
            fprintf(stderr, "seqcast-feedhandler: warning: %s %s %u: %s; raise %s\n",
                    limits[i].what, limits[i].opt, limit_value(o, i), limits[i].effect,
                    limits[i].opt);
        }
    }
}

/* At the end: what each limit refused. @return whether any refused. */
static bool
limits_report(const struct opts *o, const struct sc_book_stats *bs)
{
    bool any = false;

    for (size_t i = 0; i < NLIMITS; i++) {
        if (limits[i].count(bs)) {
            any = true;
            fprintf(stderr, "seqcast-feedhandler: %s %u: %llu messages refused "
                    "(%llu books stale at the end); raise %s\n", limits[i].opt, limit_value(o, i),
                    (unsigned long long)limits[i].count(bs), (unsigned long long)bs->stale_books,
                    limits[i].opt);
        }
    }
    return any;
}

/* ------------------------------------------------------------------- watch */

/* Beside the input: the progress bar, --every's snapshots, when to stop. */
struct watch {
    const struct opts *o;
    const struct sc_channel_cfg *ch;
    struct app *a;
    struct filer *file;    /* --input */
    struct sc_sub *sub;    /* else */
    struct sc_xport *base; /* the capture, with --pcap */
    uint64_t t0, end, next_depth, next_bar, delivered_seen;
    uint64_t next_limits; /* limits_warn: every PROGRESS_NS, not every cycle */
    bool warned[NLIMITS];
    struct sc_cli_quiet quiet; /* --pcap, the capture read */
    bool bar, stop;
};

static void
draw_bar(struct watch *w, bool last)
{
    struct sc_itch_feed_stats st;

    sc_itch_feed_get_stats(w->a->feed, &st);
    if (w->file && w->file->size) {
        double f = (double)w->file->done / (double)w->file->size;
        int n = (int)(f * 40);
        fprintf(stderr, "\r[%.*s%*s] %5.1f%% %llu messages", n,
                "========================================", 40 - n, "", f * 100,
                (unsigned long long)st.msgs);
    } else if (w->file) {
        fprintf(stderr, "\r%llu messages", (unsigned long long)st.msgs);
    } else {
        const struct sc_pcapr_stats *ps = sc_xport_pcap_stats(w->base);
        fprintf(stderr, "\r%llu records, %llu messages%s", (unsigned long long)ps->records,
                (unsigned long long)st.msgs, sc_xport_pcap_done(w->base) ? " (read)" : "");
    }
    fprintf(stderr, last ? "\n" : "");
}

static int
watch_work(void *self, uint64_t now)
{
    struct watch *w = self;
    const struct app *a = w->a;
    bool input_done;

    if (a->rp)
        sc_pub_do_work(a->rp, now); /* heartbeat, readers woken */
    if (w->bar && now >= w->next_bar) {
        draw_bar(w, false);
        w->next_bar = now + PROGRESS_NS;
    }
    if (now >= w->next_limits) {
        limits_warn(w->o, a->book, w->warned);
        w->next_limits = now + PROGRESS_NS;
    }
    if (w->o->every > 0 && now >= w->next_depth) {
        print_depth(w->a, w->o->depth);
        w->next_depth = now + (uint64_t)(w->o->every * 1e9);
    }
    if (w->file) {
        input_done = w->file->eof;
    } else {
        if (a->delivered != w->delivered_seen) { /* the rate: to the cycle of the last one */
            w->delivered_seen = a->delivered;
            w->a->t_last = sc_clock_now();
        }
        input_done = sc_cli_sub_ended(&w->quiet, w->sub, w->ch, w->o->pcap ? w->base : NULL,
                                      a->fins && a->sources_down == a->sources_up, now);
    }
    w->stop = sc_cli_stop || now >= w->end || input_done;
    return 0;
}

static uint64_t
watch_deadline(const void *self, uint64_t now)
{
    const struct watch *w = self;
    uint64_t d = w->end;

    (void)now;
    if (w->bar && w->next_bar < d)
        d = w->next_bar;
    if (w->o->every > 0 && w->next_depth < d)
        d = w->next_depth;
    if (w->quiet.end && w->quiet.end < d)
        d = w->quiet.end;
    if (w->a->rp && sc_pub_deadline(w->a->rp, now) < d)
        d = sc_pub_deadline(w->a->rp, now);
    return d;
}

static const struct sc_agent_ops watch_ops = { "watch", watch_work, watch_deadline, NULL, NULL };

static bool
stop_now(void *ctx)
{
    return ((const struct watch *)ctx)->stop;
}

/* ------------------------------------------------------------------- parse */

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: seqcast-feedhandler [options] [--input FILE | --pcap FILE]\n"
            "\n"
            "Builds order books from NASDAQ TotalView-ITCH 5.0 messages -- from a file, a\n"
            "capture, or a live channel (the default) -- and prints BBO changes and trades.\n"
            "\n"
            "Input (one of):\n"
            "  -i, --input FILE        NASDAQ's ITCH file format: each message a 2-byte\n"
            "                          big-endian length, then its bytes ('-' = stdin; a\n"
            "                          gzip file, as NASDAQ publishes them, is decompressed)\n"
            "      --pcap FILE         the channel's packets from a capture (e.g. seqcast-pub\n"
            "                          --record): gaps are detected and reported as on the\n"
            "                          network (NAKs go nowhere)\n"
            "      --pcap-filter EXPR  BPF filter (tcpdump syntax) applied to --pcap's records\n"
            "  (neither)               the channel of --config/--channel/--group/--set, PGM\n"
            "                          (framing: batched) or MoldUDP64 (protocol: moldudp64)\n"
            "\n"
            "Output (stdout):\n"
            "      --csv               CSV instead of JSON lines (header: event,ts,locate,\n"
            "                          symbol,stale,bid,bid_shares,bid_orders,ask,ask_shares,\n"
            "                          ask_orders,kind,side,level,price,shares,orders,match)\n"
            "      --symbols LIST      only these symbols (comma-separated, e.g. AAPL,MSFT;\n"
            "                          named by the stock directory, R)\n"
            "      --depth N           a snapshot of every book's N best levels a side at the\n"
            "                          end (1..%d)\n"
            "      --every SECONDS     ... and every SECONDS (needs --depth)\n"
            "  -q, --quiet             no BBO or trade lines, no source lines, no progress bar\n"
            "      --publish ipc:NAME  also write every BBO change and trade (of --symbols) as\n"
            "                          a fixed-layout record (<seqcast/mdrec.h>) to the\n"
            "                          same-host IPC channel NAME, for strategy processes; its\n"
            "                          ipc.* keys from --set (with --input too)\n"
            "  -t, --timeout SECONDS   stop after SECONDS (default: the end of the input)\n"
            "      --max-orders N      live orders the books hold (default 1048576)\n"
            "      --max-books N       instruments (default 8192)\n"
            "      --max-levels N      price levels a side of a book at most (default 65536)\n"
            "      --level-pool N      levels for the sides deeper than 32, all books together\n"
            "                          (default 2097152: 32 MiB); a side takes blocks of 64,\n"
            "                          128, ... levels (+ 28) as it grows\n"
            "\n"
            "Live channel and capture options:\n"
            SC_CLI_HELP
            "\n"
            "BBO changes: {\"type\": \"bbo\", \"ts\": ns since midnight, \"locate\", \"symbol\",\n"
            "\"bid\", \"bid_shares\", \"bid_orders\", \"ask\", ..., \"stale\"}; trades (E, C, P, Q,\n"
            "B): {\"type\": \"trade\", \"kind\", \"price\", \"shares\", \"side\", \"match\", ...};\n"
            "prices in dollars, 4 decimals. A loss the transport cannot repair marks every\n"
            "book stale, and so does joining a live channel after its message 1 (late_join:\n"
            "live, or a window that no longer holds it). Ends at the end of the input (a live\n"
            "source's end of session), --timeout or SIGINT; prints a JSON summary last. A\n"
            "progress bar goes to stderr when it is a terminal and the input a file.\n"
            "Exit status: 0 when the input was read whole with no loss and nothing refused for\n"
            "a table's limit (--max-*: each said on stderr as first hit); 1 otherwise; 2 bad\n"
            "usage.\n"
            "Example:  seqcast-feedhandler --input day.itch --symbols AAPL --depth 5 --quiet\n",
            MAX_DEPTH);
}

static bool
number(const char *prog, const char *opt, const char *arg, double lo, double hi, double *v)
{
    char *e;

    *v = strtod(arg, &e);
    if (!*arg || *e || *v < lo || *v > hi) {
        fprintf(stderr, "%s: --%s %s: expected a number from %g to %g\n", prog, opt, arg, lo, hi);
        return false;
    }
    return true;
}

/* @return -1 to go on, else the exit status (--help: 0, bad usage: 2) */
static int
parse(int argc, char **argv, struct opts *o)
{
    static const struct option opts[] = {
        SC_CLI_OPTS,
        { "input", required_argument, NULL, 'i' },
        { "pcap", required_argument, NULL, SC_OPT_PCAP },
        { "pcap-filter", required_argument, NULL, SC_OPT_PCAP_FILTER },
        { "csv", no_argument, NULL, SC_OPT_CSV },
        { "publish", required_argument, NULL, SC_OPT_PUBLISH },
        { "symbols", required_argument, NULL, SC_OPT_SYMBOLS },
        { "depth", required_argument, NULL, SC_OPT_DEPTH },
        { "every", required_argument, NULL, SC_OPT_EVERY },
        { "quiet", no_argument, NULL, 'q' },
        { "timeout", required_argument, NULL, 't' },
        { "max-orders", required_argument, NULL, SC_OPT_MAX_ORDERS },
        { "max-books", required_argument, NULL, SC_OPT_MAX_BOOKS },
        { "max-levels", required_argument, NULL, SC_OPT_MAX_LEVELS },
        { "level-pool", required_argument, NULL, SC_OPT_LEVEL_POOL },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *p = "seqcast-feedhandler";
    double v;
    int c;

    o->cli.prog = p;
    o->max_orders = 1u << 20;
    o->max_books = 8192;
    o->max_levels = 1u << 16;
    o->level_pool = 1u << 21;
    while ((c = getopt_long(argc, argv, "c:i:qt:h", opts, NULL)) != -1) {
        if (sc_cli_option(&o->cli, c, optarg))
            continue;
        switch (c) {
        case 'i': o->input = optarg; break;
        case SC_OPT_PCAP: o->pcap = optarg; break;
        case SC_OPT_PCAP_FILTER: o->pcap_filter = optarg; break;
        case SC_OPT_CSV: o->csv = true; break;
        case SC_OPT_SYMBOLS: o->symbols = optarg; break;
        case SC_OPT_PUBLISH: o->publish = optarg; break;
        case 'q': o->quiet = true; break;
        case SC_OPT_DEPTH:
            if (!number(p, "depth", optarg, 1, MAX_DEPTH, &v))
                return 2;
            o->depth = (unsigned)v;
            break;
        case SC_OPT_EVERY:
            if (!number(p, "every", optarg, 0.001, 1e9, &v))
                return 2;
            o->every = v;
            break;
        case 't':
            if (!number(p, "timeout", optarg, 0, 1e9, &v))
                return 2;
            o->timeout = v;
            break;
        case SC_OPT_MAX_ORDERS:
            if (!number(p, "max-orders", optarg, 1, 1 << 28, &v))
                return 2;
            o->max_orders = (uint32_t)v;
            break;
        case SC_OPT_MAX_BOOKS:
            if (!number(p, "max-books", optarg, 1, 65535, &v))
                return 2;
            o->max_books = (uint32_t)v;
            break;
        case SC_OPT_MAX_LEVELS:
            if (!number(p, "max-levels", optarg, 1, 1 << 20, &v))
                return 2;
            o->max_levels = (uint32_t)v;
            break;
        case SC_OPT_LEVEL_POOL:
            if (!number(p, "level-pool", optarg, 1, 1 << 30, &v))
                return 2;
            o->level_pool = (uint32_t)v;
            break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "%s: see --help for the options\n", p);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", p, argv[optind]);
        return 2;
    }
    if (o->input && o->pcap) {
        fprintf(stderr, "%s: --input and --pcap exclude each other\n", p);
        return 2;
    }
    if (o->pcap_filter && !o->pcap) {
        fprintf(stderr, "%s: --pcap-filter needs --pcap FILE\n", p);
        return 2;
    }
    if (o->publish && (strncmp(o->publish, "ipc:", 4) || !o->publish[4])) {
        fprintf(stderr, "%s: --publish %s: expected ipc:NAME\n", p, o->publish);
        return 2;
    }
    if (o->input && !o->publish && (o->cli.config || o->cli.channel || o->cli.group ||
                                    o->cli.nsets || o->cli.interface)) {
        fprintf(stderr, "%s: --input reads a file: the channel options do not apply\n", p);
        return 2;
    }
    if (o->every > 0 && !o->depth) {
        fprintf(stderr, "%s: --every needs --depth N (how many levels to show)\n", p);
        return 2;
    }
    if (o->symbols && !*o->symbols) {
        fprintf(stderr, "%s: --symbols: expected a list, e.g. AAPL,MSFT\n", p);
        return 2;
    }
    return -1;
}

/* --symbols: the wanted set, matched when the directory names a locate */
static int
symbols(struct app *a, const char *list)
{
    char *copy = strdup(list), *save = NULL;
    unsigned n = 1;

    for (const char *s = list; *s; s++)
        n += *s == ',';
    a->wanted = calloc(n, sizeof(*a->wanted));
    a->want = calloc(65536, 1);
    if (!copy || !a->wanted || !a->want) {
        free(copy);
        return -1;
    }
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strlen(t) > SC_ITCH_STOCK_LEN) {
            fprintf(stderr, "seqcast-feedhandler: --symbols: '%s' is longer than %d characters\n",
                    t, SC_ITCH_STOCK_LEN);
            free(copy);
            return -2;
        }
        snprintf(a->wanted[a->nwanted++], sizeof(a->wanted[0]), "%s", t);
    }
    free(copy);
    return 0;
}

/* --------------------------------------------------------------------- run */

/* The getters of the live counters' feed and book blocks (open_shm). */
static void
get_feed(const void *o, void *st)
{
    sc_itch_feed_get_stats(o, st);
}

static void
get_book(const void *o, void *st)
{
    sc_book_get_stats(o, st);
}

/* Live counters (stats.shm), on the network only: the feed (block 0), the
 * books (1), the subscriber (2: its events go to the loss log there) and its
 * link. @return 0, or -1 after saying why. */
static int
open_shm(struct app *a, const struct sc_config *cfg, const struct sc_channel_cfg *ch,
         struct sc_sub *sub, struct sc_runner *run)
{
    const struct sc_shmstat_block feed = { SC_COUNTERS_ITCH_FEED, NULL, get_feed, a->feed,
                                           sizeof(struct sc_itch_feed_stats), 0, true,
                                           offsetof(struct sc_itch_feed_stats, bad) };
    const struct sc_shmstat_block book = { SC_COUNTERS_BOOK, NULL, get_book, a->book,
                                           sizeof(struct sc_book_stats), 0, false, 0 };
    struct sc_shmstat_block b;
    char labels[SC_SHMSTAT_LABELS];
    struct sc_err err = { 0 };

    sc_cli_shm_labels(ch, labels, sizeof(labels));
    if (sc_shmstat_create_cfg(&a->shm, &cfg->stats, "seqcast-feedhandler", ch->name, &err) < 0)
        goto fail;
    b = feed;
    b.labels = labels;
    if (sc_shmstat_add(a->shm, &b, &err) < 0)
        goto fail;
    b = book;
    b.labels = labels;
    if (sc_shmstat_add(a->shm, &b, &err) < 0 || sc_shmstat_add_sub(a->shm, sub, labels, &err) < 0)
        goto fail;
    return sc_cli_shm_open(a->shm, run, "seqcast-feedhandler");
fail:
    fprintf(stderr, "seqcast-feedhandler: stats.shm: %s\n", err.msg);
    return -1;
}


/* The subscriber on the network or on a capture; *base is the innermost transport. */
static int
create_sub(struct sc_sub **sub, const struct sc_config *cfg, const struct sc_channel_cfg *ch,
           const struct sc_sub_callbacks *cb, const struct opts *o, struct sc_xport **base,
           struct sc_err *err)
{
    struct sc_xport_params xp;
    struct sc_xport *x;
    int rc;

    sc_xport_params_from(&xp, ch, SC_XPORT_SUB);
    rc = o->pcap ? sc_xport_pcap_open(&x, o->pcap, o->pcap_filter, &xp, err)
                 : sc_xport_open(&x, cfg, ch, SC_XPORT_SUB, err);
    if (rc < 0)
        return rc;
    *base = x;
    return sc_sub_create_on(sub, ch, x, cb, 0, err);
}

/* @return -1 when it ran, else the exit status */
static int
run(struct opts *o, struct app *a, struct watch *w)
{
    static struct sc_config cfg;
    static struct filer file;
    struct sc_book_cfg bc = { .max_orders = o->max_orders, .max_books = o->max_books,
                              .max_levels = o->max_levels, .level_pool = o->level_pool,
                              .on_bbo = on_bbo,
                              .on_trade = on_trade, .on_state = on_state, .ctx = a };
    struct sc_sub_callbacks cb = { on_msg, on_event, a, on_repair };
    struct sc_itch_feed_cfg fc;
    struct sc_runner *run;
    struct sc_err err;
    int rc;

    a->out = stdout;
    setvbuf(stdout, NULL, _IOFBF, 1 << 20);
    a->csv = o->csv;
    a->quiet = o->quiet;
    if (!(a->sym = calloc(65536, sizeof(*a->sym))))
        return 1;
    if (o->symbols && (rc = symbols(a, o->symbols)) < 0)
        return rc == -2 ? 2 : 1;
    if (!o->input && !(w->ch = sc_cli_config(&o->cli, &cfg)))
        return 2;
    if (sc_book_create(&a->book, &bc, &err) < 0) {
        fprintf(stderr, "seqcast-feedhandler: %s\n", err.msg);
        return 1;
    }
    fc = (struct sc_itch_feed_cfg){ .book = a->book };
    if (sc_itch_feed_create(&a->feed, &fc, &err) < 0) {
        fprintf(stderr, "seqcast-feedhandler: %s\n", err.msg);
        return 1;
    }
    if (o->publish) { /* the local channel: the channel options' keys, another name */
        static struct sc_config pcfg;
        const struct sc_channel_cfg *base = w->ch ? w->ch : sc_cli_config(&o->cli, &cfg);
        struct sc_channel_cfg *pch;
        if (!base)
            return 2;
        pcfg = cfg;
        pch = sc_config_channel(&pcfg, base->name);
        snprintf(pch->name, sizeof(pch->name), "%s", o->publish + 4);
        pch->transport = SC_TRANSPORT_IPC;
        if (sc_pub_create(&a->rp, &pcfg, pch->name, &err) < 0) {
            fprintf(stderr, "seqcast-feedhandler: --publish %s: %s\n", o->publish, err.msg);
            return 1;
        }
    }
    if (o->input) {
        file.feed = a->feed;
        file.fd = sc_cli_input_open("seqcast-feedhandler", o->input, &file.size, &file.gzip);
        if (file.fd < 0)
            return 1;
        if (file.size && !file.gzip) {
            void *m = mmap(NULL, file.size, PROT_READ, MAP_PRIVATE, file.fd, 0);

            if (m != MAP_FAILED) {
                (void)madvise(m, file.size, MADV_SEQUENTIAL);
                file.map = m;
            }
        }
        if (!file.map && !(file.buf = malloc(CHUNK_BUF))) {
            fprintf(stderr, "seqcast-feedhandler: out of memory\n");
            return 1;
        }
        w->file = &file;
    } else if (create_sub(&w->sub, &cfg, w->ch, &cb, o, &w->base, &err) < 0) {
        fprintf(stderr, "seqcast-feedhandler: %s\n", err.msg);
        return 1;
    }
    if (sc_runner_create(&run, o->cli.spin ? SC_IDLE_SPIN : SC_IDLE_SLEEP, &err) < 0) {
        fprintf(stderr, "seqcast-feedhandler: %s\n", err.msg);
        return 1;
    }
    if (o->csv)
        fprintf(a->out, "event,ts,locate,symbol,stale,bid,bid_shares,bid_orders,ask,ask_shares,"
                        "ask_orders,kind,side,level,price,shares,orders,match\n");
    sc_cli_signals();
    w->o = o;
    w->a = a;
    w->bar = !o->quiet && (o->input || o->pcap) && isatty(STDERR_FILENO);
    w->t0 = sc_clock_now();
    w->end = o->timeout > 0 ? w->t0 + (uint64_t)(o->timeout * 1e9) : UINT64_MAX;
    w->next_depth = w->t0 + (uint64_t)(o->every * 1e9);
    sc_runner_add(run, w->file ? (struct sc_agent){ &filer_ops, w->file } : sc_sub_agent(w->sub));
    sc_runner_add(run, (struct sc_agent){ &watch_ops, w });
    if (w->sub && open_shm(a, &cfg, w->ch, w->sub, run) < 0)
        return 1;
    sc_runner_run(run, stop_now, w, NULL, MAX_SLEEP_NS);
    limits_warn(o, a->book, w->warned); /* a limit first hit since the last look */
    if (w->bar)
        draw_bar(w, true);
    w->end = sc_runner_now(run); /* from here: when it ended */
    if (a->rp) { /* its readers see the end at once */
        sc_pub_close(a->rp, sc_clock_now());
        sc_pub_destroy(a->rp);
        a->rp = NULL;
    }
    if (w->file)
        a->t_first = w->t0, a->t_last = w->end;
    sc_runner_destroy(run);
    sc_shmstat_destroy(a->shm);
    a->shm = NULL;
    return -1;
}

/* ------------------------------------------------------------------ report */

static int
report(const struct opts *o, const struct app *a, const struct watch *w)
{
    struct sc_book_stats bs;
    struct sc_itch_feed_stats fs;
    static uint16_t locs[65536];
    size_t nb = sc_book_books(a->book, locs, 65536);
    uint64_t stale_periods = 0;
    bool read_whole, complete;

    sc_book_get_stats(a->book, &bs);
    sc_itch_feed_get_stats(a->feed, &fs);
    for (size_t i = 0; i < nb; i++) {
        struct sc_book_info info;
        if (sc_book_info(a->book, locs[i], &info) == 0)
            stale_periods += info.stats.stale_periods;
    }
    if (w->file)
        read_whole = w->file->eof && !w->file->err && !w->file->gzip_bad && !fs.truncated;
    else
        read_whole = !sc_cli_stop && (a->fins > 0 || w->quiet.end) &&
                     (!o->pcap || !sc_xport_pcap_error(w->base));
    complete = read_whole && !fs.loss_events && !sc_cli_stop;
    fprintf(a->out,
            "{\"seqcast-feedhandler\": {\"input\": \"%s\", \"complete\": %s, \"messages\": %llu, "
            "\"seconds\": %.3f, \"msgs_per_s\": %.0f, \"books\": %llu, \"live_orders\": %llu, "
            "\"bbo_updates\": %llu, \"unknown_refs\": %llu, \"stale_books\": %llu, "
            "\"stale_periods\": %llu, \"loss_events\": %llu, \"lost_messages\": %llu, "
            "\"memory_bytes\": %zu, \"feed\": {",
            w->file ? o->input : o->pcap ? o->pcap : w->ch->name, complete ? "true" : "false",
            (unsigned long long)fs.msgs, (double)(w->end - w->t0) / 1e9,
            a->t_last > a->t_first ? (double)fs.msgs * 1e9 / (double)(a->t_last - a->t_first)
                                   : 0.0,
            (unsigned long long)bs.books, (unsigned long long)bs.orders_live,
            (unsigned long long)bs.bbo_updates,
            (unsigned long long)(bs.unknown_execute + bs.unknown_cancel + bs.unknown_delete +
                                 bs.unknown_replace),
            (unsigned long long)bs.stale_books, (unsigned long long)stale_periods,
            (unsigned long long)fs.loss_events, (unsigned long long)fs.lost_msgs,
            sc_book_memory(a->book));
    sc_cli_json_stats(a->out, SC_COUNTERS_ITCH_FEED, &fs, fs.bad);
    fprintf(a->out, "}, \"book\": {");
    sc_cli_json_stats(a->out, SC_COUNTERS_BOOK, &bs, NULL);
    fprintf(a->out, "}");
    if (w->sub) {
        struct sc_sub_stats ss;
        sc_sub_get_stats(w->sub, &ss);
        fprintf(a->out, ", \"sub\": {");
        sc_cli_json_sub(a->out, &ss);
        fprintf(a->out, "}");
    }
    if (o->publish)
        fprintf(a->out, ", \"published\": %llu, \"publish_refused\": %llu",
                (unsigned long long)a->rp_sent, (unsigned long long)a->rp_errors);
    fprintf(a->out, "}}\n");
    fflush(a->out);
    if (a->rp_errors) {
        fprintf(stderr, "seqcast-feedhandler: --publish %s: %llu records refused\n", o->publish,
                (unsigned long long)a->rp_errors);
        complete = false;
    }
    if (limits_report(o, &bs))
        complete = false;
    if (w->file && w->file->err)
        fprintf(stderr, "seqcast-feedhandler: %s: %s\n", o->input, strerror(w->file->err));
    if (w->file && w->file->gzip_bad)
        fprintf(stderr, "seqcast-feedhandler: %s: gzip could not decompress it whole\n", o->input);
    if (fs.truncated)
        fprintf(stderr, "seqcast-feedhandler: %s: the last record is cut short (%llu bytes)\n",
                o->input, (unsigned long long)fs.truncated);
    if (o->pcap && sc_xport_pcap_error(w->base)) {
        fprintf(stderr, "seqcast-feedhandler: %s\n", sc_xport_pcap_error(w->base));
    }
    if (w->sub && !a->delivered && o->pcap) {
        char why[200];
        sc_pcapr_describe(sc_xport_pcap_stats(w->base), why, sizeof(why));
        fprintf(stderr, "seqcast-feedhandler: %s: no message for the channel (%s)\n", o->pcap,
                why);
    }
    return complete ? 0 : 1;
}

int
main(int argc, char **argv)
{
    static struct opts o;
    static struct app a;
    static struct watch w;
    int rc;

    if ((rc = parse(argc, argv, &o)) >= 0)
        return rc;
    if ((rc = run(&o, &a, &w)) >= 0)
        return rc;
    if (o.depth)
        print_depth(&a, o.depth);
    rc = report(&o, &a, &w);
    sc_sub_destroy(w.sub); /* after the report: it reads the capture's counters */
    sc_itch_feed_destroy(a.feed);
    sc_book_destroy(a.book);
    if (w.file) {
        free(w.file->buf);
        if (w.file->map)
            munmap(w.file->map, w.file->size);
        if (w.file->fd >= 0) /* stopped before the end, or mapped */
            sc_cli_input_close(w.file->fd, w.file->gzip);
    }
    free(a.sym);
    free(a.want);
    free(a.wanted);
    return rc;
}
