/* The counter lists (include/seqcast/counters.h): each struct is exactly its
 * list (no field declared anywhere else), the descriptors are the fields, the
 * JSON output names every counter, and docs/COUNTERS.md is what the code
 * prints. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/book.h>
#include <seqcast/counters.h>
#include <seqcast/itch.h>
#include <seqcast/itchgen.h>
#include <seqcast/order.h>
#include <seqcast/pub.h>
#include <seqcast/sub.h>

#include "apps/cli.h"

static void
check_set(enum sc_counter_set set, size_t struct_size, size_t extra)
{
    size_t n;
    const struct sc_counter_desc *d = sc_counter_descs(set, &n);

    cr_assert_not_null(d);
    cr_assert_eq(n * sizeof(uint64_t) + extra, struct_size,
                 "set %d: %zu counters + %zu bytes besides != the struct's %zu bytes: a field "
                 "is declared outside the list", set, n, extra, struct_size);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(d[i].off, i * sizeof(uint64_t), "%s is not where the list puts it", d[i].name);
        cr_assert(d[i].kind == 'c' || d[i].kind == 'g');
        cr_assert(d[i].show == 'a' || d[i].show == 'z' || d[i].show == 'n');
        cr_assert(d[i].unit[0] && d[i].help[0], "%s: no unit or meaning", d[i].name);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(d[i].name, d[j].name);
    }
}

Test(counters, every_struct_is_its_list)
{
    const size_t bad = (SC_PERR_COUNT + 1) * sizeof(uint64_t);

    check_set(SC_COUNTERS_PUB, sizeof(struct sc_pub_stats), bad + sizeof(struct sc_link_stats));
    check_set(SC_COUNTERS_SUB, sizeof(struct sc_sub_stats), bad + sizeof(struct sc_link_stats));
    check_set(SC_COUNTERS_LINK, sizeof(struct sc_link_stats), 0);
    check_set(SC_COUNTERS_OSRV, sizeof(struct sc_osrv_stats), bad);
    check_set(SC_COUNTERS_OCLI, sizeof(struct sc_ocli_stats), bad);
    check_set(SC_COUNTERS_BOOK, sizeof(struct sc_book_stats), 0);
    check_set(SC_COUNTERS_BOOK_INSTR, sizeof(struct sc_book_instr_stats), 0);
    check_set(SC_COUNTERS_ITCH_FEED, sizeof(struct sc_itch_feed_stats), bad);
    check_set(SC_COUNTERS_ITCHGEN, sizeof(struct sc_itchgen_stats), 0);
}

/* every counter reaches the JSON, with its value */
Test(counters, json_names_every_counter)
{
    struct sc_pub_stats st;
    char *buf = NULL, key[96];
    size_t len = 0, n;
    FILE *m = open_memstream(&buf, &len);
    const struct sc_counter_desc *d = sc_counter_descs(SC_COUNTERS_PUB, &n);

    memset(&st, 0, sizeof(st));
    for (size_t i = 0; i < n; i++)
        *(uint64_t *)(void *)((char *)&st + d[i].off) = 1000 + i;
    st.link.tx_calls = 77;
    st.rx_bad[-SC_PERR_CHECKSUM] = 5;
    sc_cli_json_pub(m, &st);
    fclose(m);
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "\"%s\": %zu", d[i].name, 1000 + i);
        cr_assert(strstr(buf, key), "%s missing from %s", key, buf);
    }
    cr_assert(strstr(buf, "\"link_tx_calls\": 77"));
    cr_assert(strstr(buf, "\"checksum\": 5"));
    cr_assert(strstr(buf, "\"rx_bad_total\": 5"));
    free(buf);
}

/* the JSON of any agent's stats (seqcast-orderd's, seqcast-order's): every
 * counter of its list, then rx_bad */
Test(counters, json_of_any_set_names_every_counter)
{
    static const enum sc_counter_set sets[] = { SC_COUNTERS_OSRV, SC_COUNTERS_OCLI };
    struct sc_osrv_stats osrv;
    struct sc_ocli_stats ocli;
    void *st[] = { &osrv, &ocli };
    uint64_t *bad[] = { osrv.rx_bad, ocli.rx_bad };

    for (int k = 0; k < 2; k++) {
        char *buf = NULL, key[96];
        size_t len = 0, n;
        FILE *m = open_memstream(&buf, &len);
        const struct sc_counter_desc *d = sc_counter_descs(sets[k], &n);

        memset(&osrv, 0, sizeof(osrv));
        memset(&ocli, 0, sizeof(ocli));
        for (size_t i = 0; i < n; i++)
            *(uint64_t *)(void *)((char *)st[k] + d[i].off) = 2000 + i;
        bad[k][-SC_PERR_LENGTH] = 3;
        sc_cli_json_stats(m, sets[k], st[k], bad[k]);
        fclose(m);
        for (size_t i = 0; i < n; i++) {
            snprintf(key, sizeof(key), "\"%s\": %zu", d[i].name, 2000 + i);
            cr_assert(strstr(buf, key), "%s missing from %s", key, buf);
        }
        cr_assert(strstr(buf, "\"length\": 3"), "%s", buf);
        cr_assert(strstr(buf, "\"rx_bad_total\": 3"), "%s", buf);
        cr_assert_eq(buf[0], '"', "a member list starts with its first key: %s", buf);
        free(buf);
    }
}

Test(counters, codec_classes_are_named_from_their_list)
{
    cr_assert_str_eq(sc_perr_name(SC_PERR_CHECKSUM), "checksum");
    cr_assert_str_eq(sc_perr_name(SC_PERR_SHORT), "short");
    cr_assert_str_eq(sc_perr_str(SC_PERR_SHORT), "truncated packet");
    cr_assert_null(sc_perr_name(-(SC_PERR_COUNT + 1)));
    for (int i = 1; i <= SC_PERR_COUNT; i++)
        cr_assert_not_null(sc_perr_name(-i), "class %d has no name", i);
}

Test(counters, counters_md_is_what_the_code_prints)
{
    char *ref = NULL, *doc;
    size_t reflen = 0;
    FILE *m = open_memstream(&ref, &reflen), *f = fopen("docs/COUNTERS.md", "r");
    long n;

    cr_assert_not_null(f, "docs/COUNTERS.md missing");
    sc_counters_print_reference(m);
    fclose(m);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    doc = calloc(1, (size_t)n + 1);
    cr_assert_eq(fread(doc, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    cr_assert(strstr(doc, ref), "docs/COUNTERS.md disagrees with the counter lists: regenerate "
                                "it with seqcast-config --counters");
    free(ref);
    free(doc);
}
