#include "engine/record.h"

#include <string.h>

#include <seqcast/proto/endian.h>

static uint32_t crc_table[8][256];

static inline uint32_t
load_le32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

/* slicing-by-8: eight bytes a step through eight tables (table k: a byte
 * followed by k zero bytes), four a step for a tail of four or more; the
 * archive checks every record it writes and serves, so the tables are made
 * when the library loads rather than checked for on every call */
__attribute__((constructor)) static void
crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t v = i;
        for (int k = 0; k < 8; k++)
            v = v & 1 ? 0xEDB88320u ^ (v >> 1) : v >> 1;
        crc_table[0][i] = v;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = crc_table[0][crc_table[t - 1][i] & 0xFF] ^ (crc_table[t - 1][i] >> 8);
}

uint32_t
sc_crc32(uint32_t c, const void *buf, size_t n)
{
    const uint8_t *p = buf;

    c = ~c;
    for (; n >= 8; n -= 8, p += 8) {
        uint32_t lo = c ^ load_le32(p);
        c = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
            crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^ crc_table[3][p[4]] ^
            crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
    }
    if (n >= 4) {
        uint32_t lo = c ^ load_le32(p);
        c = crc_table[3][lo & 0xFF] ^ crc_table[2][(lo >> 8) & 0xFF] ^
            crc_table[1][(lo >> 16) & 0xFF] ^ crc_table[0][lo >> 24];
        n -= 4;
        p += 4;
    }
    while (n--)
        c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}

/* v2: the CRC of length, sequence (the header's first 12 bytes) and payload */
static uint32_t
v2_crc(const uint8_t *hdr, const uint8_t *payload, size_t len)
{
    return sc_crc32(sc_crc32(0, hdr, 12), payload, len);
}

void
sc_rec_put_header(uint8_t *h, int version, uint64_t seq, const uint8_t *payload, uint32_t lenf)
{
    size_t len = lenf & SC_REC_LEN_MASK;

    sc_store_be32(h, lenf);
    if (version == 1) {
        sc_store_be32(h + 4, sc_crc32(0, payload, len));
        return;
    }
    sc_store_be64(h + 4, seq);
    sc_store_be32(h + 12, v2_crc(h, payload, len));
}

bool
sc_rec_check(const uint8_t *h, int version, uint64_t seq, const uint8_t *payload)
{
    size_t len = sc_load_be32(h) & SC_REC_LEN_MASK;

    if (version == 1)
        return sc_crc32(0, payload, len) == sc_load_be32(h + 4);
    return v2_crc(h, payload, len) == sc_load_be32(h + 12) && (!seq || sc_load_be64(h + 4) == seq);
}

uint64_t
sc_rec_span_end(const struct sc_rec *r)
{
    if (r->flags & SC_REC_GAP)
        return r->seq + sc_load_be64(r->payload) - 1;
    return r->seq;
}

static bool
all_zero(const uint8_t *p, uint64_t n)
{
    while (n && !*p)
        p++, n--;
    return n == 0;
}

uint64_t
sc_rec_at(const uint8_t *m, uint64_t size, uint64_t pos, int version, uint32_t flags_ok,
          uint64_t want_seq, uint64_t lo, uint64_t hi, struct sc_rec *r, const char **why)
{
    size_t h = sc_rec_hdr_len(version);
    uint32_t lenf, len, flags;
    uint64_t seq = 0;

    if (size - pos < h) {
        *why = "cut short in its header";
        return 0;
    }
    lenf = sc_load_be32(m + pos);
    len = lenf & SC_REC_LEN_MASK;
    flags = lenf & ~SC_REC_LEN_MASK;
    if (version == 2) {
        seq = sc_load_be64(m + pos + 4);
        if (want_seq ? seq != want_seq : seq < lo || seq > hi) {
            *why = "wrong sequence number";
            return 0;
        }
    } else if (!want_seq && lenf == 0) {
        *why = "empty"; /* in a search, zeros would look like empty v1 records */
        return 0;
    }
    if (flags & ~flags_ok) {
        *why = "impossible length";
        return 0;
    }
    if (size - pos - h < len) {
        *why = "extends past the end of the file";
        return 0;
    }
    if (!sc_rec_check(m + pos, version, 0, m + pos + h)) {
        *why = "CRC mismatch";
        return 0;
    }
    if ((flags & SC_REC_GAP) && (len != 8 || sc_load_be64(m + pos + h) == 0 ||
                                 sc_load_be64(m + pos + h) > UINT64_MAX - seq)) {
        *why = "malformed gap record";
        return 0;
    }
    r->seq = seq;
    r->flags = flags;
    r->len = len;
    r->payload = m + pos + h;
    return h + len;
}

int
sc_rec_scan(const uint8_t *m, uint64_t size, uint64_t start, int version, uint32_t flags_ok,
            bool contiguous, uint64_t first, sc_rec_fn fn, void *arg, struct sc_rec_scan *out)
{
    uint64_t pos = start, n = 0, l = 0, last = first - 1, lo, hi;
    const char *why = NULL;
    struct sc_rec rec;
    int rc;

    memset(out, 0, sizeof(*out));
    while (pos < size) {
        if (contiguous)
            l = sc_rec_at(m, size, pos, version, flags_ok, first + n, 0, 0, &rec, &why);
        else
            l = sc_rec_at(m, size, pos, version, flags_ok, 0, last + 1, UINT64_MAX, &rec, &why);
        if (l == sc_rec_hdr_len(1) && version == 1 && all_zero(m + pos, size - pos)) {
            why = "zero-filled to the end"; /* a v1 empty record and zeros look alike */
            l = 0;
        }
        if (!l)
            break;
        if (version == 1)
            rec.seq = first + n;
        if (fn && (rc = fn(arg, pos, &rec)) < 0)
            return rc;
        last = sc_rec_span_end(&rec);
        n++;
        pos += l;
    }
    out->records = n;
    out->good_end = pos;
    out->last = last;
    out->why = why;
    if (pos >= size)
        return 0;
    /* torn tail, or damage? Damage if anything valid follows. The sequence a
     * contiguous record there could carry is bounded by the bytes left. */
    lo = last + 1;
    hi = contiguous ? first + n + (size - pos) / SC_REC_V2_HDR : UINT64_MAX;
    for (uint64_t q = pos + 1; q < size; q++) {
        const char *w;
        uint64_t k = sc_rec_at(m, size, q, version, flags_ok, 0, lo, hi, &rec, &w);
        if (!k)
            continue;
        if (!out->damaged) {
            out->damaged = true;
            out->next_good = q;
            out->next_seq = rec.seq;
        }
        out->after++;
        q += k - 1;
    }
    return 0;
}
