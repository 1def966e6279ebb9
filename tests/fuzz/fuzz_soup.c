/* SoupBinTCP stream parser: consumes the input packet by packet in both
 * directions; every packet it accepts lies inside the input; feeding the same
 * bytes split at every point never changes the outcome ("need more" is never
 * confused with "malformed"). */
#include <string.h>

#include <seqcast/proto/soup.h>
#include "tests/fuzz/fuzz.h"

static int
consume(const uint8_t *data, size_t size, enum sc_soup_dir dir, size_t maxp, size_t *used)
{
    struct sc_soup_pkt p;
    size_t off = 0;
    int rc = 0;

    while (off < size) {
        rc = sc_soup_parse(data + off, size - off, maxp, dir, &p);
        if (rc <= 0)
            break;
        FUZZ_CHECK((size_t)rc <= size - off);
        FUZZ_CHECK(p.payload + p.payload_len == data + off + (size_t)rc);
        off += (size_t)rc;
    }
    *used = off;
    return off == size ? 0 : rc; /* 0: every byte consumed */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t used, used2;
    int rc;

    if (size > 1 << 17)
        return 0;
    for (int d = SC_SOUP_ANY; d <= SC_SOUP_FROM_SERVER; d++) {
        rc = consume(data, size, (enum sc_soup_dir)d, 4096, &used);
        /* a prefix is either the same verdict, or "need more" */
        for (size_t cut = used; cut < size && cut < used + 64; cut++) {
            int rc2 = consume(data, cut, (enum sc_soup_dir)d, 4096, &used2);
            FUZZ_CHECK(used2 == used);
            FUZZ_CHECK(rc2 == rc || rc2 == SC_PERR_NEED_MORE || (used2 == cut && rc2 == 0));
            FUZZ_CHECK(rc != SC_PERR_NEED_MORE || rc2 == SC_PERR_NEED_MORE || rc2 == 0);
        }
    }
    return 0;
}
