/* Generated messages whose content is a function of their sequence, so a
 * subscriber can verify every byte (seqcast-pub --count, seqcast-sub --verify,
 * the simulations). Layout: 8-byte big-endian sequence, then filler bytes
 * derived from it. Messages shorter than 8 bytes carry a truncated sequence. */
#ifndef SC_APPS_MSGGEN_H
#define SC_APPS_MSGGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* size 0 = mixed sizes: 8 + seq % 57 bytes (8 to 64), and 3000 bytes for every
 * thousandth message (larger than a packet: fragmented) */
size_t sc_msggen_size(uint64_t seq, size_t size);
void sc_msggen_fill(uint64_t seq, uint8_t *buf, size_t len);
bool sc_msggen_check(uint64_t seq, const uint8_t *buf, size_t len);

#endif
