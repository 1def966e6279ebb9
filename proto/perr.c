#include "perr.h"

const char *
sc_perr_str(int code)
{
    switch (code) {
    case SC_PERR_NEED_MORE: return "need more bytes";
    case SC_PERR_SHORT: return "truncated packet";
    case SC_PERR_VERSION: return "bad version";
    case SC_PERR_TYPE: return "bad packet type";
    case SC_PERR_OPTIONS: return "bad option chain";
    case SC_PERR_LENGTH: return "length mismatch";
    case SC_PERR_CHECKSUM: return "bad checksum";
    case SC_PERR_OVERSIZE: return "oversize";
    case SC_PERR_PADDING: return "bad padding";
    case SC_PERR_ADDRESS: return "bad address";
    case SC_PERR_FIELD: return "bad field value";
    case SC_PERR_NOSPACE: return "buffer too small";
    }
    return code >= 0 ? "ok" : "unknown error";
}
