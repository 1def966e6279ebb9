/* A set of 64-bit ids (open addressing, grows by doubling): the order gateway's
 * record of orders it has acknowledged or is acknowledging, rebuilt from its
 * journal after a restart. */
#ifndef SC_APPS_IDSET_H
#define SC_APPS_IDSET_H

#include <stdbool.h>
#include <stdint.h>

struct sc_idset {
    uint64_t *slot; /* id + 1; 0 = empty */
    uint64_t mask, n;
};

bool sc_idset_add(struct sc_idset *s, uint64_t id); /* false if already there */
bool sc_idset_has(const struct sc_idset *s, uint64_t id);
bool sc_idset_del(struct sc_idset *s, uint64_t id); /* false if it was not there */
void sc_idset_free(struct sc_idset *s);

#endif
