/* One line describing a captured datagram (seqcast-replay --list): what the
 * round-trip tests compare, so the fields and their order are a contract. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <seqcast/pcap.h>
#include <seqcast/proto/mold.h>
#include <seqcast/proto/pgm.h>

struct out {
    char *buf;
    size_t len;
    int n; /* the whole line's length so far, as snprintf counts */
};

__attribute__((format(printf, 2, 3))) static void
put(struct out *o, const char *fmt, ...)
{
    size_t at = (size_t)o->n < o->len ? (size_t)o->n : o->len;
    va_list ap;
    int k;

    va_start(ap, fmt);
    k = vsnprintf(o->len ? o->buf + at : NULL, o->len - at, fmt, ap);
    va_end(ap);
    if (k > 0)
        o->n += k;
}

static uint64_t
fnv1a(const uint8_t *p, uint16_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (uint16_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void
put_data(struct out *o, const struct sc_pgm_pkt *k)
{
    struct sc_mold_iter it;
    struct sc_mold_hdr h;

    put(o, " sqn %u trail %u", k->data.sqn, k->data.trail);
    if (k->opt.present & SC_PGM_HAS_FRAGMENT)
        put(o, " frag %u+%u/%u", k->opt.frag.first_sqn, k->opt.frag.offset, k->opt.frag.apdu_len);
    if ((!(k->opt.present & SC_PGM_HAS_FRAGMENT) || k->opt.frag.offset == 0) &&
        sc_mold_iter_init(&it, k->tsdu, k->tsdu_len, &h) == 0 && h.count &&
        h.count != SC_MOLD_COUNT_EOS)
        put(o, " msgs %llu+%u", (unsigned long long)h.seq, h.count);
}

/* Not PGM: native MoldUDP64 (protocol: moldudp64), else "not-pgm" */
static void
put_mold(struct out *o, const struct sc_capd *d)
{
    struct sc_mold_iter it;
    struct sc_mold_hdr h;
    char sess[SC_MOLD_SESSION_LEN + 1];

    /* any 20 bytes whose count is 0 parse as a heartbeat: MoldUDP64 only if the session
     * is text (NASDAQ's are alphanumeric, space-padded) */
    if (d->len < SC_MOLD_SESSION_LEN) {
        put(o, " not-pgm");
        return;
    }
    memcpy(sess, d->payload, SC_MOLD_SESSION_LEN);
    for (int i = 0; i < SC_MOLD_SESSION_LEN; i++)
        if (sess[i] < 0x20 || sess[i] > 0x7e) {
            put(o, " not-pgm");
            return;
        }
    for (int i = 0; i < SC_MOLD_SESSION_LEN; i++) /* one word */
        sess[i] = sess[i] == ' ' ? '_' : sess[i];
    sess[SC_MOLD_SESSION_LEN] = 0;
    if (sc_mold_iter_init(&it, d->payload, d->len, &h) == 0) {
        put(o, " mold %s %s %llu", sess,
            h.count == SC_MOLD_COUNT_HEARTBEAT ? "heartbeat"
            : h.count == SC_MOLD_COUNT_EOS     ? "eos"
                                               : "msgs",
            (unsigned long long)h.seq);
        if (h.count != SC_MOLD_COUNT_HEARTBEAT && h.count != SC_MOLD_COUNT_EOS)
            put(o, "+%u", h.count);
    } else if (sc_mold_decode_request(d->payload, d->len, &h) == 0) {
        put(o, " mold %s request %llu+%u", sess, (unsigned long long)h.seq, h.count);
    } else {
        put(o, " not-pgm");
    }
}

int
sc_capd_format(char *buf, size_t len, const struct sc_capd *d)
{
    struct out o = { buf, len, 0 };
    char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
    struct sc_pgm_pkt k;

    if (len)
        buf[0] = 0;
    inet_ntop(AF_INET, &d->src_ip, src, sizeof(src));
    inet_ntop(AF_INET, &d->dst_ip, dst, sizeof(dst));
    put(&o, "%llu %llu.%09llu %s:%u > %s:%u len %u fnv %016llx", (unsigned long long)d->index,
        (unsigned long long)(d->ts_ns / 1000000000u), (unsigned long long)(d->ts_ns % 1000000000u),
        src, d->src_port, dst, d->dst_port, d->len,
        (unsigned long long)fnv1a(d->payload, d->len));
    if (sc_pgm_decode(d->payload, d->len, &k, 0) < 0) {
        put_mold(&o, d);
        return o.n;
    }
    put(&o, " %s", sc_pgm_type_str(k.type));
    if (k.type == SC_PGM_SPM)
        put(&o, " sqn %u trail %u lead %u%s", k.spm.sqn, k.spm.trail, k.spm.lead,
            k.opt.present & SC_PGM_HAS_FIN ? " fin" : "");
    if (k.type == SC_PGM_ODATA || k.type == SC_PGM_RDATA)
        put_data(&o, &k);
    if (k.type == SC_PGM_NAK || k.type == SC_PGM_NCF || k.type == SC_PGM_NNAK)
        put(&o, " sqn %u", k.nak.sqn);
    return o.n;
}
