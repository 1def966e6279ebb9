/* Codec result classes, shared by every parser in proto/.
 *
 * Parsers return a non-negative count (bytes consumed / packet length) or one
 * of these negative values. They are not errno values on purpose: each class is
 * a distinct drop reason with its own counter in the engine, and errno has no
 * words for "bad option chain" or "bad padding". SC_PERR_NEED_MORE is returned
 * only by stream parsers (SoupBinTCP) and means "not malformed, wait for bytes".
 */
#ifndef SC_PROTO_PERR_H
#define SC_PROTO_PERR_H

enum sc_perr {
    SC_PERR_NEED_MORE = -1, /* stream: the packet is incomplete, read more */
    SC_PERR_SHORT = -2,     /* datagram shorter than its fixed layout */
    SC_PERR_VERSION = -3,   /* bad version or reserved bits */
    SC_PERR_TYPE = -4,      /* unknown or unexpected packet type */
    SC_PERR_OPTIONS = -5,   /* bad option chain */
    SC_PERR_LENGTH = -6,    /* a length field disagrees with the bytes present */
    SC_PERR_CHECKSUM = -7,  /* bad or missing mandatory checksum */
    SC_PERR_OVERSIZE = -8,  /* larger than the protocol or the caller allows */
    SC_PERR_PADDING = -9,   /* ASCII field not padded as the protocol requires */
    SC_PERR_ADDRESS = -10,  /* unsupported address family / bad address */
    SC_PERR_FIELD = -11,    /* a field value out of its legal range */
    SC_PERR_NOSPACE = -12,  /* encoder: the caller's buffer is too small */
};

#define SC_PERR_COUNT 12 /* number of classes above; -class is the index, 1..12 */

const char *sc_perr_str(int code);

#endif
