#include "itch.h"

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
sc_itch_decode(const uint8_t *p, size_t len, struct sc_itch_msg *m)
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
