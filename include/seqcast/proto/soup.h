/* SoupBinTCP 4.0 packets (wire-specs.md s.3) and a stream parser.
 *
 *   0        2      3
 *   | length | type | payload ...        length = 1 + payload bytes (u16 BE)
 *
 * Alpha fields are left-justified and space-padded on the right; numeric fields
 * (sequence numbers, 20 chars) are right-justified decimal, space-padded on the
 * left. The parser works on a byte stream: it returns the bytes one packet
 * takes, SC_PERR_NEED_MORE when the packet is not complete yet, or a negative
 * class when the bytes can never become a valid packet. It rejects as early as
 * the bytes allow (bad type, impossible length, oversize) so a hostile peer
 * cannot make a reader wait for 64 KiB of garbage.
 */
#ifndef SC_PROTO_SOUP_H
#define SC_PROTO_SOUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perr.h"

enum sc_soup_type {
    SC_SOUP_DEBUG = '+',
    SC_SOUP_LOGIN_REQUEST = 'L',
    SC_SOUP_LOGIN_ACCEPTED = 'A',
    SC_SOUP_LOGIN_REJECTED = 'J',
    SC_SOUP_SEQUENCED = 'S',
    SC_SOUP_SERVER_HEARTBEAT = 'H',
    SC_SOUP_END_OF_SESSION = 'Z',
    SC_SOUP_UNSEQUENCED = 'U',
    SC_SOUP_CLIENT_HEARTBEAT = 'R',
    SC_SOUP_LOGOUT_REQUEST = 'O',
};

enum sc_soup_dir {
    SC_SOUP_ANY = 0,
    SC_SOUP_FROM_CLIENT, /* what a server reads: L U R O + */
    SC_SOUP_FROM_SERVER, /* what a client reads: A J S H Z + */
};

#define SC_SOUP_USER_LEN 6
#define SC_SOUP_PASSWORD_LEN 10
#define SC_SOUP_SESSION_LEN 10
#define SC_SOUP_SEQ_LEN 20
#define SC_SOUP_LOGIN_REQUEST_LEN 47 /* packet length field values */
#define SC_SOUP_LOGIN_ACCEPTED_LEN 31
#define SC_SOUP_LOGIN_REJECTED_LEN 2
#define SC_SOUP_MAX_PAYLOAD 65534
#define SC_SOUP_HDR_LEN 3

#define SC_SOUP_REJECT_NOT_AUTHORIZED 'A'
#define SC_SOUP_REJECT_NO_SESSION 'S'

struct sc_soup_pkt {
    uint8_t type;
    const uint8_t *payload; /* into the input buffer */
    uint16_t payload_len;
    union {
        struct {
            char user[SC_SOUP_USER_LEN + 1]; /* padding removed, NUL-terminated */
            char password[SC_SOUP_PASSWORD_LEN + 1];
            char session[SC_SOUP_SESSION_LEN + 1]; /* "" = any current session */
            uint64_t seq;                          /* 0 = only new messages */
        } login;
        struct {
            char session[SC_SOUP_SESSION_LEN + 1];
            uint64_t seq; /* next sequenced message the server will send */
        } accepted;
        char reject_reason; /* 'A' or 'S' */
    };
};

/* Parse one packet from the front of buf.
 * @param max_payload the largest payload this reader accepts (<= 65534)
 * @param dir         which side is reading (types of the other direction are rejected)
 * @return bytes consumed (> 0), SC_PERR_NEED_MORE, or SC_PERR_LENGTH (a length
 *         that cannot be right for the type), SC_PERR_TYPE, SC_PERR_OVERSIZE,
 *         SC_PERR_PADDING, SC_PERR_FIELD.
 */
int sc_soup_parse(const uint8_t *buf, size_t len, size_t max_payload, enum sc_soup_dir dir,
                  struct sc_soup_pkt *out);

/* Write the 3-byte header of a packet whose payload follows separately (writev). */
void sc_soup_put_hdr(uint8_t hdr[SC_SOUP_HDR_LEN], uint8_t type, uint16_t payload_len);

/* Any packet with a free-form payload (S U +) or none (H Z R O).
 * @return bytes written, SC_PERR_NOSPACE, SC_PERR_OVERSIZE or SC_PERR_TYPE. */
int sc_soup_encode(uint8_t *buf, size_t cap, uint8_t type, const void *payload, size_t len);

/* Login packets. Strings are unpadded C strings; too long or non-printable
 * values (or spaces inside a value) give SC_PERR_FIELD. */
int sc_soup_encode_login_request(uint8_t *buf, size_t cap, const char *user, const char *password,
                                 const char *session, uint64_t seq);
int sc_soup_encode_login_accepted(uint8_t *buf, size_t cap, const char *session, uint64_t seq);
int sc_soup_encode_login_rejected(uint8_t *buf, size_t cap, char reason);

#endif
