#include "itch.h"

#include <stddef.h>
#include <string.h>

#include "endian.h"

/* Lengths from the reference's summary table (s.3.3); the layouts are s.4. */
const uint8_t sc_itch_len_table[256] = {
    ['S'] = 12, ['R'] = 39, ['H'] = 25, ['Y'] = 20, ['L'] = 26, ['V'] = 35,
    ['W'] = 12, ['K'] = 28, ['J'] = 35, ['h'] = 21, ['A'] = 36, ['F'] = 40,
    ['E'] = 31, ['C'] = 36, ['X'] = 23, ['D'] = 19, ['U'] = 35, ['P'] = 44,
    ['Q'] = 40, ['B'] = 19, ['I'] = 50, ['N'] = 20, ['O'] = 48,
};

const uint8_t sc_itch_types[SC_ITCH_NTYPES] = {
    'S', 'R', 'H', 'Y', 'L', 'V', 'W', 'K', 'J', 'h', 'A', 'F',
    'E', 'C', 'X', 'D', 'U', 'P', 'Q', 'B', 'I', 'N', 'O',
};

#define TS_MASK SC_ITCH_TS_MAX

/* The vector path of sc_itch_decode (below): x86-64 with GCC or clang; built
 * with -DSC_ITCH_VBMI=0, the portable decode is the only one. */
#ifndef SC_ITCH_VBMI
#if defined(__x86_64__) && defined(__GNUC__)
#define SC_ITCH_VBMI 1
#else
#define SC_ITCH_VBMI 0
#endif
#endif

static inline void
get8(char dst[8], const uint8_t *p)
{
    memcpy(dst, p, 8);
}

static inline void
get4(char dst[4], const uint8_t *p)
{
    memcpy(dst, p, 4);
}

static int
decode_error(const uint8_t *buf, size_t len)
{
    unsigned need;

    if (len == 0)
        return SC_PERR_SHORT;
    need = sc_itch_len_table[buf[0]];
    if (need == 0)
        return SC_PERR_TYPE;
    return len < need ? SC_PERR_SHORT : SC_PERR_LENGTH;
}

int
sc_itch_decode_portable(const uint8_t *p, size_t len, struct sc_itch_msg *m)
{
    uint64_t w;

    /* an unknown type has length 0, which no len >= 1 matches: one test for all */
    if (__builtin_expect(len == 0 || sc_itch_len_table[p[0]] != len, 0))
        return decode_error(p, len);
    m->type = p[0];
    m->locate = sc_load_be16(p + 1);
    w = sc_load_be64(p + 3); /* tracking(2) timestamp(6) */
    m->tracking = (uint16_t)(w >> 48);
    m->ts = w & TS_MASK;

    switch (p[0]) {
    case 'A':
    case 'F': {
        struct sc_itch_add_order *a = &m->add;
        a->ref = sc_load_be64(p + 11);
        a->side = (char)p[19];
        a->shares = sc_load_be32(p + 20);
        get8(a->stock, p + 24);
        a->price = sc_load_be32(p + 32);
        if (p[0] == 'F')
            get4(a->mpid, p + 36);
        else
            memset(a->mpid, 0, sizeof(a->mpid));
        break;
    }
    case 'E':
    case 'C': {
        struct sc_itch_order_executed *e = &m->exec;
        e->ref = sc_load_be64(p + 11);
        e->shares = sc_load_be32(p + 19);
        e->match = sc_load_be64(p + 23);
        if (p[0] == 'C') {
            e->printable = (char)p[31];
            e->price = sc_load_be32(p + 32);
        } else {
            e->printable = 0;
            e->price = 0;
        }
        break;
    }
    case 'X':
        m->cancel.ref = sc_load_be64(p + 11);
        m->cancel.shares = sc_load_be32(p + 19);
        break;
    case 'D':
        m->del.ref = sc_load_be64(p + 11);
        break;
    case 'U':
        m->replace.orig_ref = sc_load_be64(p + 11);
        m->replace.new_ref = sc_load_be64(p + 19);
        m->replace.shares = sc_load_be32(p + 27);
        m->replace.price = sc_load_be32(p + 31);
        break;
    case 'P': {
        struct sc_itch_trade *t = &m->trade;
        t->ref = sc_load_be64(p + 11);
        t->side = (char)p[19];
        t->shares = sc_load_be32(p + 20);
        get8(t->stock, p + 24);
        t->price = sc_load_be32(p + 32);
        t->match = sc_load_be64(p + 36);
        break;
    }
    case 'Q': {
        struct sc_itch_cross_trade *q = &m->cross;
        q->shares = sc_load_be64(p + 11);
        get8(q->stock, p + 19);
        q->price = sc_load_be32(p + 27);
        q->match = sc_load_be64(p + 31);
        q->cross_type = (char)p[39];
        break;
    }
    case 'B':
        m->broken.match = sc_load_be64(p + 11);
        break;
    case 'S':
        m->system_event.event_code = (char)p[11];
        break;
    case 'R': {
        struct sc_itch_stock_directory *r = &m->stock_directory;
        get8(r->stock, p + 11);
        r->market_category = (char)p[19];
        r->financial_status = (char)p[20];
        r->round_lot_size = sc_load_be32(p + 21);
        r->round_lots_only = (char)p[25];
        r->issue_classification = (char)p[26];
        r->issue_subtype[0] = (char)p[27];
        r->issue_subtype[1] = (char)p[28];
        r->authenticity = (char)p[29];
        r->short_sale_threshold = (char)p[30];
        r->ipo_flag = (char)p[31];
        r->luld_tier = (char)p[32];
        r->etp_flag = (char)p[33];
        r->etp_leverage_factor = sc_load_be32(p + 34);
        r->inverse = (char)p[38];
        break;
    }
    case 'H':
        get8(m->trading_action.stock, p + 11);
        m->trading_action.trading_state = (char)p[19];
        m->trading_action.reserved = (char)p[20];
        get4(m->trading_action.reason, p + 21);
        break;
    case 'Y':
        get8(m->reg_sho.stock, p + 11);
        m->reg_sho.action = (char)p[19];
        break;
    case 'L':
        get4(m->mp_position.mpid, p + 11);
        get8(m->mp_position.stock, p + 15);
        m->mp_position.primary_mm = (char)p[23];
        m->mp_position.mm_mode = (char)p[24];
        m->mp_position.state = (char)p[25];
        break;
    case 'V':
        m->mwcb_decline.level1 = sc_load_be64(p + 11);
        m->mwcb_decline.level2 = sc_load_be64(p + 19);
        m->mwcb_decline.level3 = sc_load_be64(p + 27);
        break;
    case 'W':
        m->mwcb_status.breached_level = (char)p[11];
        break;
    case 'K':
        get8(m->ipo_quoting.stock, p + 11);
        m->ipo_quoting.release_time = sc_load_be32(p + 19);
        m->ipo_quoting.qualifier = (char)p[23];
        m->ipo_quoting.price = sc_load_be32(p + 24);
        break;
    case 'J':
        get8(m->luld_collar.stock, p + 11);
        m->luld_collar.ref_price = sc_load_be32(p + 19);
        m->luld_collar.upper_price = sc_load_be32(p + 23);
        m->luld_collar.lower_price = sc_load_be32(p + 27);
        m->luld_collar.extension = sc_load_be32(p + 31);
        break;
    case 'h':
        get8(m->operational_halt.stock, p + 11);
        m->operational_halt.market_code = (char)p[19];
        m->operational_halt.action = (char)p[20];
        break;
    case 'I': {
        struct sc_itch_noii *n = &m->noii;
        n->paired_shares = sc_load_be64(p + 11);
        n->imbalance_shares = sc_load_be64(p + 19);
        n->direction = (char)p[27];
        get8(n->stock, p + 28);
        n->far_price = sc_load_be32(p + 36);
        n->near_price = sc_load_be32(p + 40);
        n->ref_price = sc_load_be32(p + 44);
        n->cross_type = (char)p[48];
        n->price_variation = (char)p[49];
        break;
    }
    case 'N':
        get8(m->rpii.stock, p + 11);
        m->rpii.interest_flag = (char)p[19];
        break;
    case 'O': {
        struct sc_itch_dlcr *o = &m->dlcr;
        get8(o->stock, p + 11);
        o->open_eligibility = (char)p[19];
        o->min_price = sc_load_be32(p + 20);
        o->max_price = sc_load_be32(p + 24);
        o->near_price = sc_load_be32(p + 28);
        o->near_time = sc_load_be64(p + 32);
        o->lower_collar = sc_load_be32(p + 40);
        o->upper_collar = sc_load_be32(p + 44);
        break;
    }
    }
    return (int)len;
}

/* ---- the vector path: one byte permutation per message (x86-64, AVX-512 VBMI)
 *
 * struct sc_itch_msg is 64 bytes (asserted), and every field of every type is
 * some wire bytes in some order: a big-endian integer is its bytes reversed
 * (the host is little-endian), an alpha field or a code its bytes as they are,
 * padding and the members a type does not carry are zero. So a message
 * decodes as: its len bytes loaded one place up into 64 byte lanes (two
 * 32-byte registers, masked: no byte past the message is read, and lane 0 is
 * zero), each 32-byte half of the struct one VPERMI2B of those 64 lanes by
 * the type's map below, two stores. No branch depends on the type, so a mix
 * of types costs what one type does; the switch above mispredicts on most
 * messages of a real mix. (32-byte registers: 512-bit ones cost the same here
 * and lower the clock of some CPUs.)
 *
 * map[type][i] is 1 + the wire offset of the struct's byte i, 0 for a zero
 * byte. The maps are written from the same layout tables as the switch, field
 * by field; tests/unit/test_itch.c checks the two paths give the same struct. */
#if SC_ITCH_VBMI
#include <immintrin.h>

_Static_assert(sizeof(struct sc_itch_msg) == 64, "the vector path stores the struct as 64 bytes");

#define OFF(f) offsetof(struct sc_itch_msg, f)
#define W(w) ((w) + 1)
#define CH(f, w) [OFF(f)] = W(w)
#define RAW4(f, w) [OFF(f)] = W(w), [OFF(f) + 1] = W((w) + 1), [OFF(f) + 2] = W((w) + 2),       \
                   [OFF(f) + 3] = W((w) + 3)
#define RAW8(f, w) RAW4(f, w), [OFF(f) + 4] = W((w) + 4), [OFF(f) + 5] = W((w) + 5),           \
                   [OFF(f) + 6] = W((w) + 6), [OFF(f) + 7] = W((w) + 7)
#define BE2(f, w) [OFF(f)] = W((w) + 1), [OFF(f) + 1] = W(w)
#define BE4(f, w) [OFF(f)] = W((w) + 3), [OFF(f) + 1] = W((w) + 2), [OFF(f) + 2] = W((w) + 1), \
                  [OFF(f) + 3] = W(w)
#define BE8(f, w) [OFF(f)] = W((w) + 7), [OFF(f) + 1] = W((w) + 6), [OFF(f) + 2] = W((w) + 5), \
                  [OFF(f) + 3] = W((w) + 4), [OFF(f) + 4] = W((w) + 3),                        \
                  [OFF(f) + 5] = W((w) + 2), [OFF(f) + 6] = W((w) + 1), [OFF(f) + 7] = W(w)
/* type, locate, tracking, the 6-byte timestamp into the low 6 bytes of ts */
#define HDR CH(type, 0), BE2(locate, 1), BE2(tracking, 3), [OFF(ts)] = W(10),                   \
            [OFF(ts) + 1] = W(9), [OFF(ts) + 2] = W(8), [OFF(ts) + 3] = W(7),                  \
            [OFF(ts) + 4] = W(6), [OFF(ts) + 5] = W(5)

/* the row of each type in vbmi_map; 0 for an unknown type (never used: the
 * length check comes first) */
static const uint8_t vbmi_row[256] = {
    ['S'] = 0,  ['R'] = 1,  ['H'] = 2,  ['Y'] = 3,  ['L'] = 4,  ['V'] = 5,
    ['W'] = 6,  ['K'] = 7,  ['J'] = 8,  ['h'] = 9,  ['A'] = 10, ['F'] = 11,
    ['E'] = 12, ['C'] = 13, ['X'] = 14, ['D'] = 15, ['U'] = 16, ['P'] = 17,
    ['Q'] = 18, ['B'] = 19, ['I'] = 20, ['N'] = 21, ['O'] = 22,
};

static _Alignas(64) const uint8_t vbmi_map[SC_ITCH_NTYPES][64] = {
    [0] = { HDR, CH(system_event.event_code, 11) },
    [1] = { HDR, RAW8(stock_directory.stock, 11), CH(stock_directory.market_category, 19),
            CH(stock_directory.financial_status, 20), BE4(stock_directory.round_lot_size, 21),
            CH(stock_directory.round_lots_only, 25), CH(stock_directory.issue_classification, 26),
            CH(stock_directory.issue_subtype[0], 27), CH(stock_directory.issue_subtype[1], 28),
            CH(stock_directory.authenticity, 29), CH(stock_directory.short_sale_threshold, 30),
            CH(stock_directory.ipo_flag, 31), CH(stock_directory.luld_tier, 32),
            CH(stock_directory.etp_flag, 33), BE4(stock_directory.etp_leverage_factor, 34),
            CH(stock_directory.inverse, 38) },
    [2] = { HDR, RAW8(trading_action.stock, 11), CH(trading_action.trading_state, 19),
            CH(trading_action.reserved, 20), RAW4(trading_action.reason, 21) },
    [3] = { HDR, RAW8(reg_sho.stock, 11), CH(reg_sho.action, 19) },
    [4] = { HDR, RAW4(mp_position.mpid, 11), RAW8(mp_position.stock, 15),
            CH(mp_position.primary_mm, 23), CH(mp_position.mm_mode, 24),
            CH(mp_position.state, 25) },
    [5] = { HDR, BE8(mwcb_decline.level1, 11), BE8(mwcb_decline.level2, 19),
            BE8(mwcb_decline.level3, 27) },
    [6] = { HDR, CH(mwcb_status.breached_level, 11) },
    [7] = { HDR, RAW8(ipo_quoting.stock, 11), BE4(ipo_quoting.release_time, 19),
            CH(ipo_quoting.qualifier, 23), BE4(ipo_quoting.price, 24) },
    [8] = { HDR, RAW8(luld_collar.stock, 11), BE4(luld_collar.ref_price, 19),
            BE4(luld_collar.upper_price, 23), BE4(luld_collar.lower_price, 27),
            BE4(luld_collar.extension, 31) },
    [9] = { HDR, RAW8(operational_halt.stock, 11), CH(operational_halt.market_code, 19),
            CH(operational_halt.action, 20) },
    [10] = { HDR, BE8(add.ref, 11), CH(add.side, 19), BE4(add.shares, 20), RAW8(add.stock, 24),
             BE4(add.price, 32) }, /* A: mpid zero */
    [11] = { HDR, BE8(add.ref, 11), CH(add.side, 19), BE4(add.shares, 20), RAW8(add.stock, 24),
             BE4(add.price, 32), RAW4(add.mpid, 36) },
    [12] = { HDR, BE8(exec.ref, 11), BE4(exec.shares, 19), BE8(exec.match, 23) },
    [13] = { HDR, BE8(exec.ref, 11), BE4(exec.shares, 19), BE8(exec.match, 23),
             CH(exec.printable, 31), BE4(exec.price, 32) },
    [14] = { HDR, BE8(cancel.ref, 11), BE4(cancel.shares, 19) },
    [15] = { HDR, BE8(del.ref, 11) },
    [16] = { HDR, BE8(replace.orig_ref, 11), BE8(replace.new_ref, 19),
             BE4(replace.shares, 27), BE4(replace.price, 31) },
    [17] = { HDR, BE8(trade.ref, 11), CH(trade.side, 19), BE4(trade.shares, 20),
             RAW8(trade.stock, 24), BE4(trade.price, 32), BE8(trade.match, 36) },
    [18] = { HDR, BE8(cross.shares, 11), RAW8(cross.stock, 19), BE4(cross.price, 27),
             BE8(cross.match, 31), CH(cross.cross_type, 39) },
    [19] = { HDR, BE8(broken.match, 11) },
    [20] = { HDR, BE8(noii.paired_shares, 11), BE8(noii.imbalance_shares, 19),
             CH(noii.direction, 27), RAW8(noii.stock, 28), BE4(noii.far_price, 36),
             BE4(noii.near_price, 40), BE4(noii.ref_price, 44), CH(noii.cross_type, 48),
             CH(noii.price_variation, 49) },
    [21] = { HDR, RAW8(rpii.stock, 11), CH(rpii.interest_flag, 19) },
    [22] = { HDR, RAW8(dlcr.stock, 11), CH(dlcr.open_eligibility, 19), BE4(dlcr.min_price, 20),
             BE4(dlcr.max_price, 24), BE4(dlcr.near_price, 28), BE8(dlcr.near_time, 32),
             BE4(dlcr.lower_collar, 40), BE4(dlcr.upper_collar, 44) },
};

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi"))) static int
decode_vbmi(const uint8_t *p, size_t len, struct sc_itch_msg *m)
{
    if (__builtin_expect(len == 0 || sc_itch_len_table[p[0]] != len, 0))
        return decode_error(p, len);
    /* lanes 1..len of the 64: the message (len <= 50); lane 0 and the rest: zero */
    uint64_t k = ((UINT64_C(1) << len) - 1) << 1;
    const uint8_t *q = (const uint8_t *)((uintptr_t)p - 1);
    const uint8_t *map = vbmi_map[vbmi_row[p[0]]];
    __m256i lo = _mm256_maskz_loadu_epi8((__mmask32)k, q);
    __m256i hi = _mm256_maskz_loadu_epi8((__mmask32)(k >> 32), q + 32);

    _mm256_storeu_si256((void *)m,
                        _mm256_permutex2var_epi8(lo, _mm256_load_si256((const void *)map), hi));
    _mm256_storeu_si256((void *)((uint8_t *)m + 32),
                        _mm256_permutex2var_epi8(lo, _mm256_load_si256((const void *)(map + 32)), hi));
    return (int)len;
}

/* evaluated at each call: a load and a test of libgcc's CPU model (set up
 * before any constructor of ours runs), predicted */
static inline int
have_vbmi(void)
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi");
}
#endif

int
sc_itch_decode(const uint8_t *p, size_t len, struct sc_itch_msg *m)
{
#if SC_ITCH_VBMI
    if (have_vbmi())
        return decode_vbmi(p, len, m);
#endif
    return sc_itch_decode_portable(p, len, m);
}

const char *
sc_itch_decode_impl(void)
{
#if SC_ITCH_VBMI
    if (have_vbmi())
        return "avx512vbmi";
#endif
    return "portable";
}

int
sc_itch_encode(uint8_t *p, size_t cap, const struct sc_itch_msg *m)
{
    unsigned len = sc_itch_len_table[m->type];

    if (len == 0)
        return SC_PERR_TYPE;
    if (m->ts > SC_ITCH_TS_MAX)
        return SC_PERR_FIELD;
    if (cap < len)
        return SC_PERR_NOSPACE;
    p[0] = m->type;
    sc_store_be16(p + 1, m->locate);
    sc_store_be16(p + 3, m->tracking);
    sc_store_be16(p + 5, (uint16_t)(m->ts >> 32));
    sc_store_be32(p + 7, (uint32_t)m->ts);

    switch (m->type) {
    case 'A':
    case 'F':
        sc_store_be64(p + 11, m->add.ref);
        p[19] = (uint8_t)m->add.side;
        sc_store_be32(p + 20, m->add.shares);
        memcpy(p + 24, m->add.stock, 8);
        sc_store_be32(p + 32, m->add.price);
        if (m->type == 'F')
            memcpy(p + 36, m->add.mpid, 4);
        break;
    case 'E':
    case 'C':
        sc_store_be64(p + 11, m->exec.ref);
        sc_store_be32(p + 19, m->exec.shares);
        sc_store_be64(p + 23, m->exec.match);
        if (m->type == 'C') {
            p[31] = (uint8_t)m->exec.printable;
            sc_store_be32(p + 32, m->exec.price);
        }
        break;
    case 'X':
        sc_store_be64(p + 11, m->cancel.ref);
        sc_store_be32(p + 19, m->cancel.shares);
        break;
    case 'D':
        sc_store_be64(p + 11, m->del.ref);
        break;
    case 'U':
        sc_store_be64(p + 11, m->replace.orig_ref);
        sc_store_be64(p + 19, m->replace.new_ref);
        sc_store_be32(p + 27, m->replace.shares);
        sc_store_be32(p + 31, m->replace.price);
        break;
    case 'P':
        sc_store_be64(p + 11, m->trade.ref);
        p[19] = (uint8_t)m->trade.side;
        sc_store_be32(p + 20, m->trade.shares);
        memcpy(p + 24, m->trade.stock, 8);
        sc_store_be32(p + 32, m->trade.price);
        sc_store_be64(p + 36, m->trade.match);
        break;
    case 'Q':
        sc_store_be64(p + 11, m->cross.shares);
        memcpy(p + 19, m->cross.stock, 8);
        sc_store_be32(p + 27, m->cross.price);
        sc_store_be64(p + 31, m->cross.match);
        p[39] = (uint8_t)m->cross.cross_type;
        break;
    case 'B':
        sc_store_be64(p + 11, m->broken.match);
        break;
    case 'S':
        p[11] = (uint8_t)m->system_event.event_code;
        break;
    case 'R': {
        const struct sc_itch_stock_directory *r = &m->stock_directory;
        memcpy(p + 11, r->stock, 8);
        p[19] = (uint8_t)r->market_category;
        p[20] = (uint8_t)r->financial_status;
        sc_store_be32(p + 21, r->round_lot_size);
        p[25] = (uint8_t)r->round_lots_only;
        p[26] = (uint8_t)r->issue_classification;
        p[27] = (uint8_t)r->issue_subtype[0];
        p[28] = (uint8_t)r->issue_subtype[1];
        p[29] = (uint8_t)r->authenticity;
        p[30] = (uint8_t)r->short_sale_threshold;
        p[31] = (uint8_t)r->ipo_flag;
        p[32] = (uint8_t)r->luld_tier;
        p[33] = (uint8_t)r->etp_flag;
        sc_store_be32(p + 34, r->etp_leverage_factor);
        p[38] = (uint8_t)r->inverse;
        break;
    }
    case 'H':
        memcpy(p + 11, m->trading_action.stock, 8);
        p[19] = (uint8_t)m->trading_action.trading_state;
        p[20] = (uint8_t)m->trading_action.reserved;
        memcpy(p + 21, m->trading_action.reason, 4);
        break;
    case 'Y':
        memcpy(p + 11, m->reg_sho.stock, 8);
        p[19] = (uint8_t)m->reg_sho.action;
        break;
    case 'L':
        memcpy(p + 11, m->mp_position.mpid, 4);
        memcpy(p + 15, m->mp_position.stock, 8);
        p[23] = (uint8_t)m->mp_position.primary_mm;
        p[24] = (uint8_t)m->mp_position.mm_mode;
        p[25] = (uint8_t)m->mp_position.state;
        break;
    case 'V':
        sc_store_be64(p + 11, m->mwcb_decline.level1);
        sc_store_be64(p + 19, m->mwcb_decline.level2);
        sc_store_be64(p + 27, m->mwcb_decline.level3);
        break;
    case 'W':
        p[11] = (uint8_t)m->mwcb_status.breached_level;
        break;
    case 'K':
        memcpy(p + 11, m->ipo_quoting.stock, 8);
        sc_store_be32(p + 19, m->ipo_quoting.release_time);
        p[23] = (uint8_t)m->ipo_quoting.qualifier;
        sc_store_be32(p + 24, m->ipo_quoting.price);
        break;
    case 'J':
        memcpy(p + 11, m->luld_collar.stock, 8);
        sc_store_be32(p + 19, m->luld_collar.ref_price);
        sc_store_be32(p + 23, m->luld_collar.upper_price);
        sc_store_be32(p + 27, m->luld_collar.lower_price);
        sc_store_be32(p + 31, m->luld_collar.extension);
        break;
    case 'h':
        memcpy(p + 11, m->operational_halt.stock, 8);
        p[19] = (uint8_t)m->operational_halt.market_code;
        p[20] = (uint8_t)m->operational_halt.action;
        break;
    case 'I': {
        const struct sc_itch_noii *n = &m->noii;
        sc_store_be64(p + 11, n->paired_shares);
        sc_store_be64(p + 19, n->imbalance_shares);
        p[27] = (uint8_t)n->direction;
        memcpy(p + 28, n->stock, 8);
        sc_store_be32(p + 36, n->far_price);
        sc_store_be32(p + 40, n->near_price);
        sc_store_be32(p + 44, n->ref_price);
        p[48] = (uint8_t)n->cross_type;
        p[49] = (uint8_t)n->price_variation;
        break;
    }
    case 'N':
        memcpy(p + 11, m->rpii.stock, 8);
        p[19] = (uint8_t)m->rpii.interest_flag;
        break;
    case 'O': {
        const struct sc_itch_dlcr *o = &m->dlcr;
        memcpy(p + 11, o->stock, 8);
        p[19] = (uint8_t)o->open_eligibility;
        sc_store_be32(p + 20, o->min_price);
        sc_store_be32(p + 24, o->max_price);
        sc_store_be32(p + 28, o->near_price);
        sc_store_be64(p + 32, o->near_time);
        sc_store_be32(p + 40, o->lower_collar);
        sc_store_be32(p + 44, o->upper_collar);
        break;
    }
    }
    return (int)len;
}

size_t
sc_itch_stock_str(const char stock[SC_ITCH_STOCK_LEN], char out[SC_ITCH_STOCK_LEN + 1])
{
    size_t n = SC_ITCH_STOCK_LEN;

    while (n > 0 && stock[n - 1] == ' ')
        n--;
    memcpy(out, stock, n);
    out[n] = '\0';
    return n;
}

const char *
sc_itch_type_name(uint8_t type)
{
    switch (type) {
    case 'S': return "System Event";
    case 'R': return "Stock Directory";
    case 'H': return "Stock Trading Action";
    case 'Y': return "Reg SHO Restriction";
    case 'L': return "Market Participant Position";
    case 'V': return "MWCB Decline Level";
    case 'W': return "MWCB Status";
    case 'K': return "IPO Quoting Period Update";
    case 'J': return "LULD Auction Collar";
    case 'h': return "Operational Halt";
    case 'A': return "Add Order";
    case 'F': return "Add Order with MPID";
    case 'E': return "Order Executed";
    case 'C': return "Order Executed With Price";
    case 'X': return "Order Cancel";
    case 'D': return "Order Delete";
    case 'U': return "Order Replace";
    case 'P': return "Trade";
    case 'Q': return "Cross Trade";
    case 'B': return "Broken Trade";
    case 'I': return "NOII";
    case 'N': return "RPII";
    case 'O': return "DLCR Price Discovery";
    }
    return NULL;
}
