/* Replays a fuzz target's committed corpus (tests/fuzz/corpus/<name>/) through
 * it with the normal compiler, so every make test runs the corpus as a
 * regression suite even without clang. The binary is named
 * fuzz-replay-<name>; it reports one TAP line. A finding aborts the process. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

int
main(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/'), *name;
    char dir[512], path[1024];
    static uint8_t buf[1 << 20];
    struct dirent *de;
    unsigned n = 0;
    DIR *d;

    base = base ? base + 1 : argv[0];
    name = strncmp(base, "fuzz-replay-", 12) == 0 ? base + 12 : base;
    snprintf(dir, sizeof(dir), "%s/%s", argc > 1 ? argv[1] : "tests/fuzz/corpus", name);
    printf("TAP version 13\n1..1\n");
    if (!(d = opendir(dir))) {
        printf("not ok - fuzz corpus %s: cannot open %s\n", name, dir);
        return 1;
    }
    while ((de = readdir(d))) {
        FILE *f;
        size_t len;
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (!(f = fopen(path, "rb")))
            continue;
        len = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        fprintf(stderr, "%s\n", path); /* the last line names the culprit if we crash */
        LLVMFuzzerTestOneInput(buf, len);
        n++;
    }
    closedir(d);
    if (n == 0) {
        printf("not ok - fuzz corpus %s: empty\n", name);
        return 1;
    }
    printf("ok - fuzz corpus %s: %u inputs replayed\n", name, n);
    return 0;
}
