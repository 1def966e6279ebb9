#include "mold.h"

#include <string.h>

#include "endian.h"

int
sc_mold_enc_init(struct sc_mold_enc *e, uint8_t *buf, size_t cap,
                 const uint8_t session[SC_MOLD_SESSION_LEN], uint64_t first_seq)
{
    if (cap < SC_MOLD_HDR_LEN)
        return SC_PERR_NOSPACE;
    e->buf = buf;
    e->cap = cap;
    e->len = SC_MOLD_HDR_LEN;
    e->count = 0;
    memcpy(buf, session, SC_MOLD_SESSION_LEN);
    sc_store_be64(buf + 10, first_seq);
    sc_store_be16(buf + 18, 0);
    return 0;
}

static void
put_hdr(uint8_t *buf, const struct sc_mold_hdr *h)
{
    memcpy(buf, h->session, SC_MOLD_SESSION_LEN);
    sc_store_be64(buf + 10, h->seq);
    sc_store_be16(buf + 18, h->count);
}

int
sc_mold_encode_hdr(uint8_t *buf, size_t cap, const struct sc_mold_hdr *h)
{
    if (h->count != SC_MOLD_COUNT_HEARTBEAT && h->count != SC_MOLD_COUNT_EOS)
        return SC_PERR_FIELD;
    if (cap < SC_MOLD_HDR_LEN)
        return SC_PERR_NOSPACE;
    put_hdr(buf, h);
    return SC_MOLD_HDR_LEN;
}

int
sc_mold_encode_request(uint8_t *buf, size_t cap, const struct sc_mold_hdr *h)
{
    if (h->count == 0 || h->count == SC_MOLD_COUNT_EOS)
        return SC_PERR_FIELD;
    if (cap < SC_MOLD_REQUEST_LEN)
        return SC_PERR_NOSPACE;
    put_hdr(buf, h);
    return SC_MOLD_REQUEST_LEN;
}

static void
get_hdr(const uint8_t *buf, struct sc_mold_hdr *h)
{
    memcpy(h->session, buf, SC_MOLD_SESSION_LEN);
    h->seq = sc_load_be64(buf + 10);
    h->count = sc_load_be16(buf + 18);
}

int
sc_mold_decode_request(const uint8_t *buf, size_t len, struct sc_mold_hdr *h)
{
    if (len < SC_MOLD_REQUEST_LEN)
        return SC_PERR_SHORT;
    if (len != SC_MOLD_REQUEST_LEN)
        return SC_PERR_LENGTH;
    get_hdr(buf, h);
    if (h->count == 0 || h->count == SC_MOLD_COUNT_EOS)
        return SC_PERR_FIELD;
    return 0;
}

int
sc_mold_iter_init(struct sc_mold_iter *it, const uint8_t *buf, size_t len,
                  struct sc_mold_hdr *hdr)
{
    size_t off = SC_MOLD_HDR_LEN, last;

    if (len < SC_MOLD_HDR_LEN)
        return SC_PERR_SHORT;
    get_hdr(buf, hdr);
    it->p = buf + SC_MOLD_HDR_LEN;
    it->end = buf + len;
    it->seq = hdr->seq;
    it->left = 0;
    if (hdr->count == SC_MOLD_COUNT_HEARTBEAT || hdr->count == SC_MOLD_COUNT_EOS)
        return len == SC_MOLD_HDR_LEN ? 0 : SC_PERR_LENGTH;
    if (hdr->seq + hdr->count < hdr->seq)
        return SC_PERR_OVERSIZE;
    /* one check a message: a length prefix must start at or before len - 2
     * (offsets, so a length running past the end cannot wrap a pointer; the
     * next check or the last one catches it) */
    last = len - 2;
    for (unsigned i = 0; i < hdr->count; i++) {
        if (off > last)
            return SC_PERR_LENGTH;
        off += 2u + sc_load_be16(buf + off);
    }
    if (off != len)
        return SC_PERR_LENGTH;
    it->left = hdr->count;
    return 0;
}

