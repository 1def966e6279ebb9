/* Built when DPDK is off (make DPDK=0, or no libdpdk-dev): the transport exists
 * and says clearly why it cannot run. */
#include <errno.h>
#include <stdio.h>

#include "engine/transport/transport.h"

int
sc_xport_dpdk_open(struct sc_xport **out, const struct sc_xport_params *p,
                   const struct sc_dpdk_cfg *cfg, struct sc_err *err)
{
    (void)out;
    (void)p;
    (void)cfg;
    if (err) {
        err->code = -ENOTSUP;
        snprintf(err->msg, sizeof(err->msg),
                 "transport dpdk: this seqcast was built without DPDK (install libdpdk-dev and "
                 "rebuild, or use transport: udp)");
    }
    return -ENOTSUP;
}
