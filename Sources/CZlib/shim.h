#ifndef TED_CZLIB_SHIM_H
#define TED_CZLIB_SHIM_H

#include <zlib.h>

// inflateInit2 is a macro (it passes the header's version and sizeof(z_stream)), which Swift does not import.
// 15 + 16: the largest window, gzip framing only (a backup is a gzip file, not raw zlib).
static inline int ted_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 15 + 16);
}

#endif
