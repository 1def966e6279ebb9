#include "soup.h"

#include <string.h>

#include "endian.h"

static bool
type_ok(uint8_t type, enum sc_soup_dir dir)
{
    switch (type) {
    case SC_SOUP_DEBUG:
        return true;
    case SC_SOUP_LOGIN_REQUEST:
    case SC_SOUP_UNSEQUENCED:
    case SC_SOUP_CLIENT_HEARTBEAT:
    case SC_SOUP_LOGOUT_REQUEST:
        return dir != SC_SOUP_FROM_SERVER;
    case SC_SOUP_LOGIN_ACCEPTED:
    case SC_SOUP_LOGIN_REJECTED:
    case SC_SOUP_SEQUENCED:
    case SC_SOUP_SERVER_HEARTBEAT:
    case SC_SOUP_END_OF_SESSION:
        return dir != SC_SOUP_FROM_CLIENT;
    }
    return false;
}

/* Packet length field a type must have; 0 = variable (at least 1). */
static unsigned
fixed_len(uint8_t type)
{
    switch (type) {
    case SC_SOUP_LOGIN_REQUEST: return SC_SOUP_LOGIN_REQUEST_LEN;
    case SC_SOUP_LOGIN_ACCEPTED: return SC_SOUP_LOGIN_ACCEPTED_LEN;
    case SC_SOUP_LOGIN_REJECTED: return SC_SOUP_LOGIN_REJECTED_LEN;
    case SC_SOUP_SERVER_HEARTBEAT:
    case SC_SOUP_END_OF_SESSION:
    case SC_SOUP_CLIENT_HEARTBEAT:
    case SC_SOUP_LOGOUT_REQUEST: return 1;
    }
    return 0;
}

/* Alpha field: printable ASCII, left-justified, right-padded with spaces.
 * allow_lead tolerates right-justified values (seen for sessions in the wild). */
static int
get_alpha(const uint8_t *p, size_t n, char *out, bool allow_lead)
{
    size_t i = 0, o = 0;

    for (size_t k = 0; k < n; k++)
        if (p[k] < 0x20 || p[k] > 0x7E)
            return SC_PERR_FIELD;
    if (allow_lead)
        while (i < n && p[i] == ' ')
            i++;
    else if (n && p[0] == ' ') {
        for (size_t k = 0; k < n; k++)
            if (p[k] != ' ')
                return SC_PERR_PADDING; /* right-justified where left is required */
        out[0] = '\0';
        return 0;
    }
    while (i < n && p[i] != ' ')
        out[o++] = (char)p[i++];
    out[o] = '\0';
    while (i < n)
        if (p[i++] != ' ')
            return SC_PERR_PADDING; /* a space inside the value */
    return 0;
}

/* Numeric field: right-justified decimal, left-padded with spaces. */
static int
get_numeric(const uint8_t *p, size_t n, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;

    while (i < n && p[i] == ' ')
        i++;
    if (i == n)
        return SC_PERR_PADDING; /* all blank */
    for (; i < n; i++) {
        if (p[i] == ' ')
            return SC_PERR_PADDING; /* left-justified */
        if (p[i] < '0' || p[i] > '9')
            return SC_PERR_FIELD;
        if (v > (UINT64_MAX - (uint64_t)(p[i] - '0')) / 10)
            return SC_PERR_FIELD;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return 0;
}

int
sc_soup_parse(const uint8_t *buf, size_t len, size_t max_payload, enum sc_soup_dir dir,
              struct sc_soup_pkt *out)
{
    unsigned plen, flen;
    const uint8_t *p;
    int rc;

    if (len < 2)
        return SC_PERR_NEED_MORE;
    plen = sc_load_be16(buf);
    if (plen == 0)
        return SC_PERR_LENGTH;
    if (max_payload > SC_SOUP_MAX_PAYLOAD)
        max_payload = SC_SOUP_MAX_PAYLOAD;
    if (plen - 1 > max_payload)
        return SC_PERR_OVERSIZE;
    if (len < 3)
        return SC_PERR_NEED_MORE;
    out->type = buf[2];
    if (!type_ok(out->type, dir))
        return SC_PERR_TYPE;
    flen = fixed_len(out->type);
    if (flen && plen != flen)
        return SC_PERR_LENGTH;
    if (len < 2u + plen)
        return SC_PERR_NEED_MORE;
    p = buf + 3;
    out->payload = p;
    out->payload_len = (uint16_t)(plen - 1);

    switch (out->type) {
    case SC_SOUP_LOGIN_REQUEST:
        if ((rc = get_alpha(p, 6, out->login.user, false)) < 0 ||
            (rc = get_alpha(p + 6, 10, out->login.password, false)) < 0 ||
            (rc = get_alpha(p + 16, 10, out->login.session, true)) < 0 ||
            (rc = get_numeric(p + 26, 20, &out->login.seq)) < 0)
            return rc;
        break;
    case SC_SOUP_LOGIN_ACCEPTED:
        if ((rc = get_alpha(p, 10, out->accepted.session, true)) < 0 ||
            (rc = get_numeric(p + 10, 20, &out->accepted.seq)) < 0)
            return rc;
        break;
    case SC_SOUP_LOGIN_REJECTED:
        if (p[0] != SC_SOUP_REJECT_NOT_AUTHORIZED && p[0] != SC_SOUP_REJECT_NO_SESSION)
            return SC_PERR_FIELD;
        out->reject_reason = (char)p[0];
        break;
    }
    return (int)(2 + plen);
}

void
sc_soup_put_hdr(uint8_t hdr[SC_SOUP_HDR_LEN], uint8_t type, uint16_t payload_len)
{
    sc_store_be16(hdr, (uint16_t)(payload_len + 1));
    hdr[2] = type;
}

int
sc_soup_encode(uint8_t *buf, size_t cap, uint8_t type, const void *payload, size_t len)
{
    unsigned flen;

    if (!type_ok(type, SC_SOUP_ANY) || type == SC_SOUP_LOGIN_REQUEST ||
        type == SC_SOUP_LOGIN_ACCEPTED || type == SC_SOUP_LOGIN_REJECTED)
        return SC_PERR_TYPE;
    flen = fixed_len(type);
    if (flen && len != 0)
        return SC_PERR_LENGTH;
    if (len > SC_SOUP_MAX_PAYLOAD)
        return SC_PERR_OVERSIZE;
    if (cap < SC_SOUP_HDR_LEN + len)
        return SC_PERR_NOSPACE;
    sc_soup_put_hdr(buf, type, (uint16_t)len);
    if (len)
        memmove(buf + SC_SOUP_HDR_LEN, payload, len);
    return (int)(SC_SOUP_HDR_LEN + len);
}

static int
put_alpha(uint8_t *p, size_t n, const char *s)
{
    size_t l = strlen(s);

    if (l > n)
        return SC_PERR_FIELD;
    for (size_t i = 0; i < l; i++)
        if (s[i] <= 0x20 || s[i] > 0x7E)
            return SC_PERR_FIELD;
    memcpy(p, s, l);
    memset(p + l, ' ', n - l);
    return 0;
}

static void
put_numeric(uint8_t *p, size_t n, uint64_t v)
{
    size_t i = n;

    do {
        p[--i] = (uint8_t)('0' + v % 10);
        v /= 10;
    } while (v && i);
    memset(p, ' ', i);
}

int
sc_soup_encode_login_request(uint8_t *buf, size_t cap, const char *user, const char *password,
                             const char *session, uint64_t seq)
{
    int rc;

    if (cap < 2u + SC_SOUP_LOGIN_REQUEST_LEN)
        return SC_PERR_NOSPACE;
    if ((rc = put_alpha(buf + 3, 6, user)) < 0 || (rc = put_alpha(buf + 9, 10, password)) < 0 ||
        (rc = put_alpha(buf + 19, 10, session)) < 0)
        return rc;
    put_numeric(buf + 29, 20, seq);
    sc_soup_put_hdr(buf, SC_SOUP_LOGIN_REQUEST, SC_SOUP_LOGIN_REQUEST_LEN - 1);
    return 2 + SC_SOUP_LOGIN_REQUEST_LEN;
}

int
sc_soup_encode_login_accepted(uint8_t *buf, size_t cap, const char *session, uint64_t seq)
{
    int rc;

    if (cap < 2u + SC_SOUP_LOGIN_ACCEPTED_LEN)
        return SC_PERR_NOSPACE;
    if ((rc = put_alpha(buf + 3, 10, session)) < 0)
        return rc;
    put_numeric(buf + 13, 20, seq);
    sc_soup_put_hdr(buf, SC_SOUP_LOGIN_ACCEPTED, SC_SOUP_LOGIN_ACCEPTED_LEN - 1);
    return 2 + SC_SOUP_LOGIN_ACCEPTED_LEN;
}

int
sc_soup_encode_login_rejected(uint8_t *buf, size_t cap, char reason)
{
    if (reason != SC_SOUP_REJECT_NOT_AUTHORIZED && reason != SC_SOUP_REJECT_NO_SESSION)
        return SC_PERR_FIELD;
    if (cap < 2u + SC_SOUP_LOGIN_REJECTED_LEN)
        return SC_PERR_NOSPACE;
    sc_soup_put_hdr(buf, SC_SOUP_LOGIN_REJECTED, 1);
    buf[3] = (uint8_t)reason;
    return 2 + SC_SOUP_LOGIN_REJECTED_LEN;
}
