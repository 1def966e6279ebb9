/* seqcast-stat: the live counters of running seqcast processes (those run
 * with stats.shm: on), read from their shared-memory files.
 *
 * parse   the options
 * run     one reading (--once, --loss), the live view refreshed every
 *         --interval, or the Prometheus endpoint (--prometheus)
 * report  the exit status: 0, or 1 when a file could not be read (--once)
 */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <seqcast/shmstat.h>

#include "apps/cli.h"
#include "apps/stat.h"

struct opts {
    const char *dir;        /* --dir */
    const char *prometheus; /* --prometheus ADDR:PORT */
    int pid;                /* --pid */
    double interval;        /* --interval SECONDS */
    long count;             /* --count N: live view refreshes, then exit */
    bool once, json, loss;
};

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: seqcast-stat [--once] [--json] [--loss] [--prometheus ADDR:PORT] [options]\n"
            "\n"
            "Shows the live counters of the seqcast processes that publish them (programs\n"
            "run with --set stats.shm=on, or stats: { shm: on } in their deployment): rates\n"
            "of messages, packets, NAKs, NCFs and repairs, gaps, losses and the transmit\n"
            "window, one line per channel or session of every process. Files of processes\n"
            "that ended without removing theirs are removed.\n"
            "\n"
            "      --once              print the processes once, then exit\n"
            "      --json              with --once: every counter of every process as JSON;\n"
            "                          with --loss: one JSON object per event\n"
            "      --loss              the loss logs: the last losses, NAKs unanswered and\n"
            "                          sources up and down, oldest first\n"
            "      --prometheus ADDR:PORT  serve every counter at http://ADDR:PORT/metrics in\n"
            "                          Prometheus's text format (ADDR may be empty: all)\n"
            "      --pid PID           only this process\n"
            "  -d, --dir DIR           where the files are (default: $SEQCAST_STAT_DIR, else\n"
            "                          /dev/shm/seqcast; stats.shm_dir of the processes)\n"
            "  -i, --interval SECONDS  refresh of the live view (default 1)\n"
            "  -n, --count N           stop the live view after N refreshes\n"
            "  -h, --help              this text\n"
            "\n"
            "Without --once, --loss or --prometheus on a terminal: the live view (q quits).\n"
            "Reading never disturbs the processes: no lock, no signal, no write.\n"
            "Example:  seqcast-sub --set stats.shm=on &  seqcast-stat\n");
}

/* @return -1 to go on, else the exit status (--help: 0, bad usage: 2) */
static int
parse(int argc, char **argv, struct opts *o)
{
    static const struct option opts[] = {
        { "once", no_argument, NULL, SC_OPT_ONCE },
        { "json", no_argument, NULL, SC_OPT_JSON },
        { "loss", no_argument, NULL, SC_OPT_LOSS_LOG },
        { "prometheus", required_argument, NULL, SC_OPT_PROMETHEUS },
        { "pid", required_argument, NULL, SC_OPT_PID },
        { "dir", required_argument, NULL, 'd' },
        { "interval", required_argument, NULL, 'i' },
        { "count", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int c;

    o->interval = 1;
    while ((c = getopt_long(argc, argv, "d:i:n:h", opts, NULL)) != -1) {
        char *e = NULL;
        switch (c) {
        case SC_OPT_ONCE: o->once = true; break;
        case SC_OPT_JSON: o->json = true; break;
        case SC_OPT_LOSS_LOG: o->loss = true; break;
        case SC_OPT_PROMETHEUS: o->prometheus = optarg; break;
        case SC_OPT_PID: o->pid = (int)strtol(optarg, &e, 10); break;
        case 'd': o->dir = optarg; break;
        case 'i': o->interval = strtod(optarg, &e); break;
        case 'n': o->count = strtol(optarg, &e, 10); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (e && (*e || e == optarg)) {
            fprintf(stderr, "seqcast-stat: %s: expected a number\n", optarg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "seqcast-stat: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (o->interval < 0.05 || o->interval > 3600) {
        fprintf(stderr, "seqcast-stat: --interval %g: expected 0.05 to 3600 seconds\n",
                o->interval);
        return 2;
    }
    return -1;
}

/* ------------------------------------------------------------------ run */

static int
once(const struct opts *o)
{
    struct sc_stat_set set;
    int rc = sc_stat_read(&set, o->dir, o->pid), bad = 0;

    if (rc < 0) {
        fprintf(stderr, "seqcast-stat: %s: %s\n", sc_shmstat_dir(o->dir), strerror(-rc));
        return 1;
    }
    if (o->loss)
        sc_stat_loss(stdout, &set, o->json);
    else if (o->json)
        sc_stat_json(stdout, &set, o->dir);
    else
        sc_stat_list(stdout, &set);
    for (int i = 0; i < set.n; i++)
        if (!set.snap[i]) {
            fprintf(stderr, "seqcast-stat: %s\n", set.errors[i] ? set.errors[i] : set.paths[i]);
            bad = 1;
        }
    sc_stat_free(&set);
    return bad;
}

/* The live view: the screen redrawn every interval; on a terminal, q quits. */
static int
live(const struct opts *o)
{
    struct sc_stat_set prev = { 0 }, cur;
    struct termios saved, raw;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    int rc = 0;

    if (tty) {
        raw = saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    for (long n = 0; !sc_cli_stop && (!o->count || n < o->count); n++) {
        struct pollfd p = { STDIN_FILENO, POLLIN, 0 };
        char ch;
        if ((rc = sc_stat_read(&cur, o->dir, o->pid)) < 0) {
            fprintf(stderr, "seqcast-stat: %s: %s\n", sc_shmstat_dir(o->dir), strerror(-rc));
            rc = 1;
            break;
        }
        fputs("\033[H\033[2J", stdout);
        sc_stat_top(stdout, &cur, n ? &prev : NULL, o->dir);
        fflush(stdout);
        sc_stat_free(&prev);
        prev = cur;
        if (o->count && n + 1 == o->count)
            break;
        if (poll(&p, tty ? 1 : 0, (int)(o->interval * 1000)) > 0 && read(STDIN_FILENO, &ch, 1) == 1 &&
            (ch == 'q' || ch == 'Q'))
            break;
    }
    sc_stat_free(&prev);
    if (tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    return rc;
}

static int
prometheus(const struct opts *o)
{
    char why[256];
    int fd = sc_stat_listen(o->prometheus, why, sizeof(why));

    if (fd < 0) {
        fprintf(stderr, "seqcast-stat: --prometheus %s\n", why);
        return fd == -22 ? 2 : 1;
    }
    fprintf(stderr, "seqcast-stat: serving http://%s/metrics from %s\n", o->prometheus,
            sc_shmstat_dir(o->dir));
    sc_stat_serve(fd, o->dir, &sc_cli_stop);
    close(fd);
    return 0;
}

int
main(int argc, char **argv)
{
    static struct opts o;
    int rc;

    if ((rc = parse(argc, argv, &o)) >= 0)
        return rc;
    sc_cli_signals();
    if (o.prometheus)
        return prometheus(&o);
    if (o.once || o.loss || (!isatty(STDOUT_FILENO) && !o.count))
        return once(&o);
    return live(&o);
}
