/* YAML config loader: any input either loads or fails with a positioned
 * message; a loaded config validates, prints, and the printout loads again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/config.h>

#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sc_config cfg, again;
    struct sc_err err = { 0 };
    char *text = NULL;
    size_t len = 0;
    FILE *m;

    if (size > 1 << 16)
        return 0;
    if (sc_config_load_string(&cfg, "fuzz.yaml", (const char *)data, size, &err) != 0) {
        FUZZ_CHECK(err.code < 0);
        FUZZ_CHECK(strncmp(err.msg, "fuzz.yaml", 9) == 0);
        return 0;
    }
    FUZZ_CHECK(sc_config_validate(&cfg, NULL) == 0);
    m = open_memstream(&text, &len);
    FUZZ_CHECK(m != NULL);
    sc_config_print(&cfg, m);
    fclose(m);
    if (sc_config_load_string(&again, "printed", text, len, &err) != 0) {
        fprintf(stderr, "printout does not load: %s\n%s\n", err.msg, text);
        abort();
    }
    FUZZ_CHECK(again.nchannels == cfg.nchannels && again.nsessions == cfg.nsessions);
    free(text);
    return 0;
}
