/* The counter lists of <seqcast/counters.h> as data: name, unit, meaning and
 * offset in their stats struct, for JSON, the human stats line, the docs and
 * (later) shared-memory counters. */
#include <stddef.h>

#include <seqcast/archive.h>
#include <seqcast/book.h>
#include <seqcast/counters.h>
#include <seqcast/itch.h>
#include <seqcast/itchgen.h>
#include <seqcast/order.h>
#include <seqcast/rewind.h>
#include <seqcast/pub.h>
#include <seqcast/sub.h>

enum { KIND_C = 'c', KIND_G = 'g', SHOW_A = 'a', SHOW_Z = 'z', SHOW_N = 'n' };

#define DESC_PUB(name, kind, unit, show, help)                                             \
    { #name, unit, help, offsetof(struct sc_pub_stats, name), KIND_##kind, SHOW_##show },
#define DESC_SUB(name, kind, unit, show, help)                                             \
    { #name, unit, help, offsetof(struct sc_sub_stats, name), KIND_##kind, SHOW_##show },
#define DESC_LINK(name, kind, unit, show, help)                                            \
    { #name, unit, help, offsetof(struct sc_link_stats, name), KIND_##kind, SHOW_##show },
#define DESC_OSRV(name, kind, unit, show, help)                                            \
    { #name, unit, help, offsetof(struct sc_osrv_stats, name), KIND_##kind, SHOW_##show },
#define DESC_OCLI(name, kind, unit, show, help)                                            \
    { #name, unit, help, offsetof(struct sc_ocli_stats, name), KIND_##kind, SHOW_##show },
#define DESC_BOOK(name, kind, unit, show, help)                                            \
    { #name, unit, help, offsetof(struct sc_book_stats, name), KIND_##kind, SHOW_##show },
#define DESC_BOOK_INSTR(name, kind, unit, show, help)                                      \
    { #name, unit, help, offsetof(struct sc_book_instr_stats, name), KIND_##kind, SHOW_##show },
#define DESC_ITCH_FEED(name, kind, unit, show, help)                                       \
    { #name, unit, help, offsetof(struct sc_itch_feed_stats, name), KIND_##kind, SHOW_##show },
#define DESC_ITCHGEN(name, kind, unit, show, help)                                         \
    { #name, unit, help, offsetof(struct sc_itchgen_stats, name), KIND_##kind, SHOW_##show },

#define DESC_ARCHIVE(name, kind, unit, show, help)                                         \
    { #name, unit, help, offsetof(struct sc_archive_stats, name), KIND_##kind, SHOW_##show },

#define DESC_SUB_SOURCE(name, kind, unit, show, help)                                      \
    { #name, unit, help, offsetof(struct sc_sub_source_stats, name), KIND_##kind, SHOW_##show },

#define DESC_REWIND(name, kind, unit, show, help)                                          \
    { #name, unit, help, offsetof(struct sc_rewind_stats, name), KIND_##kind, SHOW_##show },

static const struct sc_counter_desc pub_descs[] = { SC_PUB_COUNTERS(DESC_PUB) };
static const struct sc_counter_desc sub_descs[] = { SC_SUB_COUNTERS(DESC_SUB) };
static const struct sc_counter_desc link_descs[] = { SC_LINK_COUNTERS(DESC_LINK) };
static const struct sc_counter_desc osrv_descs[] = { SC_OSRV_COUNTERS(DESC_OSRV) };
static const struct sc_counter_desc ocli_descs[] = { SC_OCLI_COUNTERS(DESC_OCLI) };
static const struct sc_counter_desc book_descs[] = { SC_BOOK_COUNTERS(DESC_BOOK) };
static const struct sc_counter_desc book_instr_descs[] = { SC_BOOK_INSTR_COUNTERS(DESC_BOOK_INSTR) };
static const struct sc_counter_desc itch_feed_descs[] = { SC_ITCH_FEED_COUNTERS(DESC_ITCH_FEED) };
static const struct sc_counter_desc itchgen_descs[] = { SC_ITCHGEN_COUNTERS(DESC_ITCHGEN) };
static const struct sc_counter_desc archive_descs[] = { SC_ARCHIVE_COUNTERS(DESC_ARCHIVE) };
static const struct sc_counter_desc rewind_descs[] = { SC_REWIND_COUNTERS(DESC_REWIND) };
static const struct sc_counter_desc sub_source_descs[] = { SC_SUB_SOURCE_COUNTERS(DESC_SUB_SOURCE) };

const struct sc_counter_desc *
sc_counter_descs(enum sc_counter_set set, size_t *n)
{
    switch (set) {
    case SC_COUNTERS_PUB: *n = sizeof(pub_descs) / sizeof(pub_descs[0]); return pub_descs;
    case SC_COUNTERS_SUB: *n = sizeof(sub_descs) / sizeof(sub_descs[0]); return sub_descs;
    case SC_COUNTERS_LINK: *n = sizeof(link_descs) / sizeof(link_descs[0]); return link_descs;
    case SC_COUNTERS_OSRV: *n = sizeof(osrv_descs) / sizeof(osrv_descs[0]); return osrv_descs;
    case SC_COUNTERS_OCLI: *n = sizeof(ocli_descs) / sizeof(ocli_descs[0]); return ocli_descs;
    case SC_COUNTERS_BOOK: *n = sizeof(book_descs) / sizeof(book_descs[0]); return book_descs;
    case SC_COUNTERS_BOOK_INSTR:
        *n = sizeof(book_instr_descs) / sizeof(book_instr_descs[0]);
        return book_instr_descs;
    case SC_COUNTERS_ITCH_FEED:
        *n = sizeof(itch_feed_descs) / sizeof(itch_feed_descs[0]);
        return itch_feed_descs;
    case SC_COUNTERS_ITCHGEN:
        *n = sizeof(itchgen_descs) / sizeof(itchgen_descs[0]);
        return itchgen_descs;
    case SC_COUNTERS_ARCHIVE:
        *n = sizeof(archive_descs) / sizeof(archive_descs[0]);
        return archive_descs;
    case SC_COUNTERS_REWIND:
        *n = sizeof(rewind_descs) / sizeof(rewind_descs[0]);
        return rewind_descs;
    case SC_COUNTERS_SUB_SOURCE:
        *n = sizeof(sub_source_descs) / sizeof(sub_source_descs[0]);
        return sub_source_descs;
    default: break;
    }
    *n = 0;
    return NULL;
}

static void
print_set(FILE *out, enum sc_counter_set set, const char *title, const char *intro)
{
    size_t n;
    const struct sc_counter_desc *d = sc_counter_descs(set, &n);

    if (!d)
        return;
    fprintf(out, "\n#### %s\n\n%s\n\n| counter | kind | unit | on the human line | meaning |\n"
                 "|---|---|---|---|---|\n", title, intro);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "| `%s` | %s | %s | %s | %s |\n", d[i].name,
                d[i].kind == 'c' ? "counter" : "gauge", d[i].unit,
                d[i].show == 'a' ? "always" : d[i].show == 'z' ? "when not 0" : "no", d[i].help);
}

void
sc_counters_print_reference(FILE *out)
{
    print_set(out, SC_COUNTERS_PUB, "Publisher (`struct sc_pub_stats`, seqcast-pub)",
              "Besides these: `rx_bad` (below) and the link counters, named `link_*`.");
    print_set(out, SC_COUNTERS_SUB, "Subscriber (`struct sc_sub_stats`, seqcast-sub)",
              "Besides these: `rx_bad` (below) and the link counters, named `link_*`.");
    print_set(out, SC_COUNTERS_SUB_SOURCE,
              "One source of a subscriber (`struct sc_sub_source_stats`, `sc_sub_get_source`)",
              "A PGM session (GSI and TSI port) or a MoldUDP64 session; `source` lines of "
              "seqcast-stat and `seqcast_source_*` in Prometheus, labelled with the source.");
    print_set(out, SC_COUNTERS_LINK, "Link (`struct sc_link_stats`, `link_*` in JSON)",
              "The transport under a channel, in the publisher's and the subscriber's stats.");
    print_set(out, SC_COUNTERS_OSRV, "Order server (`struct sc_osrv_stats`, seqcast-orderd)",
              "One set per session. Besides these: `rx_bad` (below).");
    print_set(out, SC_COUNTERS_OCLI, "Order client (`struct sc_ocli_stats`, seqcast-order)",
              "One set per session. Besides these: `rx_bad` (below).");
    print_set(out, SC_COUNTERS_BOOK, "Order books (`struct sc_book_stats`, `<seqcast/book.h>`)",
              "The order-book engine, every book together.");
    print_set(out, SC_COUNTERS_BOOK_INSTR,
              "One instrument's book (`struct sc_book_instr_stats`, in `struct sc_book_info`)",
              "Per stock locate; `bid_levels` and `ask_levels` are filled in by the query.");
    print_set(out, SC_COUNTERS_ITCH_FEED,
              "ITCH 5.0 feed (`struct sc_itch_feed_stats`, `<seqcast/itch.h>`, seqcast-feedhandler)",
              "The glue from ITCH messages to the books. Besides these: `bad` by codec class "
              "(`rx_bad` in JSON: the classes below).");
    print_set(out, SC_COUNTERS_ITCHGEN,
              "ITCH generator (`struct sc_itchgen_stats`, `<seqcast/itchgen.h>`, seqcast-itchgen)",
              "The synthetic trading day: messages by type, and the generator's live orders.");
    print_set(out, SC_COUNTERS_ARCHIVE,
              "Archive (`struct sc_archive_stats`, `<seqcast/archive.h>`, seqcast-archive)",
              "What the archive recorded and could not, and its store. Its subscriber's "
              "counters are the subscriber's (above).");
    print_set(out, SC_COUNTERS_REWIND,
              "Rewind client (`struct sc_rewind_stats`, `<seqcast/rewind.h>`, seqcast-rewind)",
              "A rewind from archives (SoupBinTCP), with failover between them. The archive's "
              "rewind server counts as an order server (`rewind` in seqcast-archive's summary).");
    fprintf(out, "\n#### Dropped packets by codec class (`rx_bad`)\n\n"
                 "Every stats struct that reads packets has `rx_bad[]`, indexed by `-enum sc_perr` "
                 "(`<seqcast/proto/perr.h>`); JSON names them, and sums them in `rx_bad_total`.\n\n"
                 "| class | meaning |\n|---|---|\n");
#define ROW(N, n, v, text) fprintf(out, "| `%s` | %s |\n", #n, text);
    SC_PERR_LIST(ROW)
#undef ROW
}
