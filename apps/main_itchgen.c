/* seqcast-itchgen: write a deterministic synthetic NASDAQ TotalView-ITCH 5.0
 * trading day in NASDAQ's ITCH file format (<seqcast/itchgen.h> makes it). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <seqcast/counters.h>
#include <seqcast/itchgen.h>

#include "apps/cli.h"

#define PROG "seqcast-itchgen"

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " [options] --output FILE\n"
            "\n"
            "Writes a synthetic NASDAQ TotalView-ITCH 5.0 trading day in NASDAQ's ITCH file\n"
            "format (each message: a 2-byte big-endian length, then the message), the input\n"
            "of seqcast-pub --input and seqcast-feedhandler --input. The same options give\n"
            "the same bytes.\n"
            "\n"
            "The day: system events (start of messages, system hours, market hours, and their\n"
            "ends); a directory of the symbols (stock locates 1..N) and their trading actions;\n"
            "Reg SHO for a few; orders around a moving mid price per symbol -- adds (A, F),\n"
            "deletes (D), replaces (U), executions (E, C), cancels (X) -- in roughly NASDAQ's\n"
            "proportions, non-cross trades (P), the opening and closing crosses (Q) and their\n"
            "imbalance indicators (I), and one symbol halted and resumed.\n"
            "\n"
            "  -o, --output FILE       where to write the day ('-' = stdout; required)\n"
            "  -n, --messages N        messages in the day, every type counted (default\n"
            "                          1000000; suffixes k, M, G: 10M = 10000000)\n"
            "  -s, --symbols N         symbols in the directory, 1 to 65535 (default 100)\n"
            "      --seed S            the day's seed (default 1)\n"
            "  -h, --help              this text\n"
            "\n"
            "Prints a JSON summary at the end (messages by type, symbols, orders live at the\n"
            "end, the time taken and the rate) on stdout, or on stderr when the day goes to\n"
            "stdout. Exit status 2 for bad options, 1 when the file cannot be written.\n"
            "Example:  " PROG " -n 10M --seed 7 -o day.itch && seqcast-pub --input day.itch\n");
}

/* ------------------------------------------------------------------ parse */

struct opts {
    struct sc_itchgen_cfg cfg;
    const char *output;
};

/* A whole number with an optional k, M or G (x 1000 each). @return 0, -1 (said) */
static int
count(const char *opt, const char *arg, uint64_t max, uint64_t *v)
{
    char *e;
    unsigned long long n;
    uint64_t mult = 1;

    errno = 0;
    n = strtoull(arg, &e, 10);
    if (*e == 'k' || *e == 'K')
        mult = 1000, e++;
    else if (*e == 'M')
        mult = 1000000, e++;
    else if (*e == 'G')
        mult = 1000000000, e++;
    if (arg[0] < '0' || arg[0] > '9' || *e || errno || n > max / mult) {
        fprintf(stderr, PROG ": %s %s: expected a whole number up to %llu (k, M, G allowed)\n",
                opt, arg, (unsigned long long)max);
        return -1;
    }
    *v = n * mult;
    return 0;
}

static const struct option options[] = {
    { "output", required_argument, NULL, 'o' },
    { "messages", required_argument, NULL, 'n' },
    { "symbols", required_argument, NULL, 's' },
    { "seed", required_argument, NULL, SC_OPT_SEED },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

/* @return -1 to go on, else the exit status. */
static int
parse(int argc, char **argv, struct opts *o)
{
    int c;
    uint64_t v;

    *o = (struct opts){ .cfg = { .messages = 1000000, .symbols = 100, .seed = 1 } };
    while ((c = getopt_long(argc, argv, "o:n:s:h", options, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return 0;
        case 'o': o->output = optarg; break;
        case 'n':
            if (count("--messages", optarg, UINT64_MAX, &o->cfg.messages) < 0)
                return 2;
            break;
        case 's':
            if (count("--symbols", optarg, SC_ITCHGEN_MAX_SYMBOLS, &v) < 0)
                return 2;
            o->cfg.symbols = (uint32_t)v;
            break;
        case SC_OPT_SEED:
            if (count("--seed", optarg, UINT64_MAX, &o->cfg.seed) < 0)
                return 2;
            break;
        default:
            fprintf(stderr, "try '" PROG " --help'\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s' (try --help)\n", argv[optind]);
        return 2;
    }
    if (!o->output) {
        fprintf(stderr, PROG ": where to? give --output FILE ('-' for stdout)\n");
        return 2;
    }
    if (!strcmp(o->output, "-") && isatty(STDOUT_FILENO)) {
        fprintf(stderr, PROG ": not writing binary ITCH to a terminal (redirect stdout)\n");
        return 2;
    }
    return -1;
}

/* -------------------------------------------------------------------- run */

static double
now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* @return 0, or 1 after saying why */
static int
run(const struct opts *o, struct sc_itchgen *g, double *secs)
{
    static uint8_t buf[1 << 20];
    bool to_stdout = !strcmp(o->output, "-");
    FILE *out = to_stdout ? stdout : fopen(o->output, "wb");
    double t0 = now_s();
    size_t n;

    if (!out) {
        fprintf(stderr, PROG ": %s: %s\n", o->output, strerror(errno));
        return 1;
    }
    while ((n = sc_itchgen_write(g, buf, sizeof(buf))) > 0)
        if (fwrite(buf, 1, n, out) != n)
            break;
    if (ferror(out) || (to_stdout ? fflush(out) : fclose(out)) != 0) {
        fprintf(stderr, PROG ": %s: %s\n", to_stdout ? "stdout" : o->output, strerror(errno));
        if (!to_stdout)
            fclose(out);
        return 1;
    }
    *secs = now_s() - t0;
    return 0;
}

/* ----------------------------------------------------------------- report */

static void
report(FILE *out, const struct opts *o, const struct sc_itchgen_stats *st, double secs)
{
    /* the message counts by type letter, from the counter list */
    static const struct { char type; size_t off; } by_type[] = {
#define T(c, f) { c, offsetof(struct sc_itchgen_stats, f) }
        T('S', system_events), T('R', directory), T('H', trading_actions), T('Y', reg_sho),
        T('A', adds), T('F', adds_mpid), T('E', executes), T('C', executes_price),
        T('X', cancels), T('D', deletes), T('U', replaces), T('P', trades), T('Q', crosses),
        T('I', noii),
#undef T
    };

    fprintf(out, "{\"output\": \"");
    for (const char *p = o->output; *p; p++)
        fprintf(out, *p == '"' || *p == '\\' ? "\\%c" : (unsigned char)*p < 0x20 ? "?" : "%c", *p);
    fprintf(out, "\", \"seed\": %llu, ", (unsigned long long)o->cfg.seed);
    sc_cli_json_stats(out, SC_COUNTERS_ITCHGEN, st, NULL);
    fprintf(out, ", \"by_type\": {");
    for (size_t i = 0; i < sizeof(by_type) / sizeof(by_type[0]); i++)
        fprintf(out, "%s\"%c\": %llu", i ? ", " : "", by_type[i].type,
                (unsigned long long)*(const uint64_t *)(const void *)((const char *)st +
                                                                      by_type[i].off));
    fprintf(out, "}, \"seconds\": %.3f, \"msgs_per_s\": %.0f}\n", secs,
            secs > 0 ? (double)st->messages / secs : 0.0);
}

int
main(int argc, char **argv)
{
    struct opts o;
    struct sc_itchgen *g;
    struct sc_itchgen_stats st;
    struct sc_err err = { 0 };
    double secs = 0;
    int rc = parse(argc, argv, &o);

    if (rc >= 0)
        return rc;
    if (sc_itchgen_create(&g, &o.cfg, &err) < 0) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        return err.code == -EINVAL ? 2 : 1;
    }
    rc = run(&o, g, &secs);
    sc_itchgen_get_stats(g, &st);
    sc_itchgen_destroy(g);
    if (rc == 0)
        report(strcmp(o.output, "-") ? stdout : stderr, &o, &st, secs);
    return rc;
}
