#include "perr.h"

#include <stddef.h>

const char *
sc_perr_str(int code)
{
    switch (code) {
#define SC_PERR_TEXT(N, n, v, text)                                                        \
    case SC_PERR_##N:                                                                    \
        return text;
        SC_PERR_LIST(SC_PERR_TEXT)
#undef SC_PERR_TEXT
    }
    return code >= 0 ? "ok" : "unknown error";
}

const char *
sc_perr_name(int code)
{
    switch (code) {
#define SC_PERR_NAME(N, n, v, text)                                                        \
    case SC_PERR_##N:                                                                    \
        return #n;
        SC_PERR_LIST(SC_PERR_NAME)
#undef SC_PERR_NAME
    }
    return NULL;
}
