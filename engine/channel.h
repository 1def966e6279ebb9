#ifndef SC_ENGINE_CHANNEL_H
#define SC_ENGINE_CHANNEL_H

#include <seqcast/config.h>

#include "engine/transport/transport.h"

/* The channel called name (NULL: the first), if this build can run it; else
 * NULL with err filled (-ENOENT, -ENOTSUP). */
const struct sc_channel_cfg *sc_channel_find(const struct sc_config *cfg, const char *name,
                                             struct sc_err *err);

/* The transport description of a channel, for a publisher or a subscriber. */
void sc_xport_params_from(struct sc_xport_params *x, const struct sc_channel_cfg *ch,
                          enum sc_xport_role role);

#endif
