/* Codec result classes, shared by every parser in proto/.
 *
 * Parsers return a non-negative count (bytes consumed / packet length) or one
 * of these negative values. They are not errno values on purpose: each class is
 * a distinct drop reason with its own counter in the engine, and errno has no
 * words for "bad option chain" or "bad padding". SC_PERR_NEED_MORE is returned
 * only by stream parsers (SoupBinTCP) and means "not malformed, wait for bytes".
 *
 * The list is declared once: X(NAME, name, value, text), value = -code. It
 * makes the enum, sc_perr_name() (the counters' names: the rx_bad arrays of
 * the stats structs are indexed by -code) and sc_perr_str().
 */
#ifndef SC_PROTO_PERR_H
#define SC_PROTO_PERR_H

#define SC_PERR_LIST(X)                                                                   \
    X(NEED_MORE, need_more, 1, "need more bytes") /* stream: incomplete, read more */      \
    X(SHORT, short, 2, "truncated packet")        /* shorter than its fixed layout */      \
    X(VERSION, version, 3, "bad version")         /* bad version or reserved bits */       \
    X(TYPE, type, 4, "bad packet type")           /* unknown or unexpected type */         \
    X(OPTIONS, options, 5, "bad option chain")                                            \
    X(LENGTH, length, 6, "length mismatch")       /* a length field vs the bytes present */ \
    X(CHECKSUM, checksum, 7, "bad checksum")      /* bad or missing mandatory checksum */  \
    X(OVERSIZE, oversize, 8, "oversize")          /* larger than the protocol or caller allows */ \
    X(PADDING, padding, 9, "bad padding")         /* ASCII field not padded as required */ \
    X(ADDRESS, address, 10, "bad address")        /* unsupported family / bad address */   \
    X(FIELD, field, 11, "bad field value")        /* a field out of its legal range */     \
    X(NOSPACE, nospace, 12, "buffer too small")   /* encoder: the caller's buffer */

enum sc_perr {
#define SC_PERR_ENUM(N, n, v, text) SC_PERR_##N = -(v),
    SC_PERR_LIST(SC_PERR_ENUM)
#undef SC_PERR_ENUM
};

#define SC_PERR_COUNT 12 /* number of classes above; -class is the index, 1..12 */

/* "bad checksum" for SC_PERR_CHECKSUM; "ok" for >= 0 */
const char *sc_perr_str(int code);

/* "checksum" for SC_PERR_CHECKSUM (a counter's name); NULL outside the list */
const char *sc_perr_name(int code);

#endif
