/* engine/seterr.h: one way to fill a struct sc_err. */
#include <stdarg.h>
#include <stdio.h>

#include "engine/seterr.h"

int
sc_err_set(struct sc_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (err) {
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}
