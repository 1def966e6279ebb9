/* seqcast-config: check a deployment file, show the effective configuration. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/config.h>
#include <seqcast/counters.h>


static void
usage(FILE *out)
{
    fprintf(out,
            "usage: seqcast-config [--config FILE] [--set KEY=VALUE]... [--print | --reference |\n"
            "                      --counters]\n"
            "\n"
            "Checks a seqcast deployment file and exits 0 if it is valid; errors name\n"
            "file:line:column, the key and what was expected.\n"
            "\n"
            "  -c, --config FILE   the YAML deployment (default: built-in defaults)\n"
            "  -s, --set KEY=VALUE override one key after loading; KEY is a channel key\n"
            "                      (every channel), channels.NAME.KEY, sessions.NAME.KEY or\n"
            "                      dpdk.KEY; lists are comma-separated. Repeatable.\n"
            "  -p, --print         print the effective configuration as YAML\n"
            "  -r, --reference     print the markdown reference of every key and default\n"
            "      --counters      print the markdown reference of every counter\n"
            "  -h, --help          this text\n"
            "\n"
            "Keys and defaults: docs/CONFIG.md; counters: docs/COUNTERS.md.\n");
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "set", required_argument, NULL, 's' },
        { "print", no_argument, NULL, 'p' },        { "reference", no_argument, NULL, 'r' },
        { "counters", no_argument, NULL, 'C' },
        { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 }
    };
    static struct sc_config cfg;
    struct sc_err err = { 0 };
    const char *file = NULL;
    char **sets = calloc((size_t)argc, sizeof(char *));
    int nsets = 0, print = 0, c, rc = 0;

    if (!sets) {
        fprintf(stderr, "seqcast-config: out of memory\n");
        return 1;
    }
    /* every exit from here on goes through out: (sets freed) */
    while ((c = getopt_long(argc, argv, "c:s:prh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': file = optarg; break;
        case 's': sets[nsets++] = optarg; break;
        case 'p': print = 1; break;
        case 'r': sc_config_print_reference(stdout); goto out;
        case 'C': sc_counters_print_reference(stdout); goto out;
        case 'h': usage(stdout); goto out;
        default: usage(stderr); rc = 2; goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "seqcast-config: unexpected argument '%s' (use --config FILE)\n",
                argv[optind]);
        rc = 2;
        goto out;
    }
    if (file ? sc_config_load_file(&cfg, file, &err) : (sc_config_init(&cfg), 0)) {
        fprintf(stderr, "seqcast-config: %s\n", err.msg);
        rc = 1;
        goto out;
    }
    for (int i = 0; i < nsets; i++)
        if (sc_config_set(&cfg, sets[i], &err) < 0) {
            fprintf(stderr, "seqcast-config: %s\n", err.msg);
            rc = 1;
            goto out;
        }
    if (print)
        sc_config_print(&cfg, stdout);
    else
        printf("%s: ok (%u channel%s, %u session%s)\n", cfg.origin, cfg.nchannels,
               cfg.nchannels == 1 ? "" : "s", cfg.nsessions, cfg.nsessions == 1 ? "" : "s");
out:
    free(sets);
    return rc;
}
