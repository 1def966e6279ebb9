/* Filling a caller's struct sc_err (<seqcast/err.h>) at set-up: one helper
 * for the engine's modules, so no module carries its own (shmstat.c and dpdk.c use it;
 * order_server.c still has its copy, fail()). */
#ifndef SC_ENGINE_SETERR_H
#define SC_ENGINE_SETERR_H

#include <seqcast/err.h>

/* err (may be NULL) gets code and the formatted message. @return code. */
int sc_err_set(struct sc_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
