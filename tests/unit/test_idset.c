/* The order gateway's id set: add, membership, and deletion that keeps every
 * other id findable (linear probing without tombstones), through growth. */
#include <criterion/criterion.h>

#include "apps/idset.h"
#include "tests/support/testutil.h"

Test(idset, add_has_del_against_a_model)
{
    enum { RANGE = 4096 };
    static bool model[RANGE];
    struct sc_idset s = { 0 };
    uint64_t r = 42;

    for (int i = 0; i < 200000; i++) {
        uint64_t id = tu_rand(&r) % RANGE;
        if (tu_rand(&r) % 3) {
            cr_assert_eq(sc_idset_add(&s, id), !model[id], "add %llu", (unsigned long long)id);
            model[id] = true;
        } else {
            cr_assert_eq(sc_idset_del(&s, id), model[id], "del %llu", (unsigned long long)id);
            model[id] = false;
        }
        if (i % 1000 == 0)
            for (uint64_t k = 0; k < RANGE; k++)
                cr_assert_eq(sc_idset_has(&s, k), model[k], "id %llu after %d steps",
                             (unsigned long long)k, i);
    }
    sc_idset_free(&s);
    cr_assert(!sc_idset_has(&s, 1));
}
