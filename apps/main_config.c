/* seqcast-config: check a deployment file, show the effective configuration,
 * print the references of every key and every counter.
 *
 * parse   the options
 * run     load the deployment and apply each --set (sc_cli_load)
 * report  "FILE: ok (...)", the effective YAML, or a reference
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <seqcast/config.h>
#include <seqcast/counters.h>

#include "apps/cli.h"

enum what { CHECK, PRINT, REFERENCE, COUNTERS };

struct opts {
    const char *file;
    const char *sets[SC_CLI_MAX_SETS];
    int nsets;
    enum what what;
};

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

/* @return -1 to go on, else the exit status (--help: 0, bad usage: 2) */
static int
parse(int argc, char **argv, struct opts *o)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },  { "set", required_argument, NULL, 's' },
        { "print", no_argument, NULL, 'p' },         { "reference", no_argument, NULL, 'r' },
        { "counters", no_argument, NULL, SC_OPT_COUNTERS },
        { "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 }
    };
    int c;

    while ((c = getopt_long(argc, argv, "c:s:prh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->file = optarg; break;
        case 's': sc_cli_add_set("seqcast-config", o->sets, &o->nsets, optarg); break;
        case 'p': o->what = PRINT; break;
        case 'r': o->what = REFERENCE; break;
        case SC_OPT_COUNTERS: o->what = COUNTERS; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "seqcast-config: unexpected argument '%s' (use --config FILE)\n",
                argv[optind]);
        return 2;
    }
    return -1;
}

static int
report(const struct opts *o, const struct sc_config *cfg)
{
    if (o->what == PRINT)
        sc_config_print(cfg, stdout);
    else
        printf("%s: ok (%u channel%s, %u session%s)\n", cfg->origin, cfg->nchannels,
               cfg->nchannels == 1 ? "" : "s", cfg->nsessions, cfg->nsessions == 1 ? "" : "s");
    return 0;
}

int
main(int argc, char **argv)
{
    static struct opts o;
    static struct sc_config cfg;
    int rc;

    if ((rc = parse(argc, argv, &o)) >= 0)
        return rc;
    if (o.what == REFERENCE || o.what == COUNTERS) {
        (o.what == REFERENCE ? sc_config_print_reference : sc_counters_print_reference)(stdout);
        return 0;
    }
    if (sc_cli_load("seqcast-config", o.file, o.sets, o.nsets, &cfg) < 0)
        return 1;
    return report(&o, &cfg);
}
