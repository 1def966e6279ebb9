/* seqcast-orderd: an order gateway. Takes orders (unsequenced messages whose
 * first 8 bytes are a big-endian order id) and answers each with a sequenced
 * acknowledgement carrying that id. An order counts as acknowledged only once
 * its acknowledgement is durable in the journal (the server sends nothing
 * before that). An order id acknowledged, or being acknowledged, is not
 * acknowledged twice -- a client resending after a reconnect or a timeout;
 * one whose acknowledgement the journal could not take, or rolled back after
 * a failed sync, is forgotten, so its resend is acknowledged. The set of ids
 * is rebuilt from the server's journal when the gateway restarts.
 *
 * One runner on one thread: every session's server is an agent, and the
 * gateway's own work -- counting the acknowledgements now durable, saying
 * when connections time out and when the journal fails or works again -- is
 * one more, after them in every cycle. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <seqcast/agent.h>
#include <seqcast/order.h>
#include <seqcast/proto/endian.h>

#include "apps/cli.h"
#include "apps/idset.h"

#define PROG "seqcast-orderd"
#define MAX_SESSIONS SC_CFG_MAX_SESSIONS

struct opts {
    const char *config;
    const char *names[MAX_SESSIONS]; /* --session, repeatable: none = every one with a listen */
    const char *sets[SC_CLI_MAX_SETS];
    int nnames, nsets;
    bool repair;
};

struct pend { /* an acknowledgement journaled, not durable yet */
    uint64_t seq, id;
};

struct gw { /* one session */
    struct sc_osrv *srv;
    const struct sc_runner *run; /* its time is the acknowledgements' */
    struct sc_idset ids;         /* acknowledged (durable) and pending */
    struct pend *pend;           /* by sequence: [head, tail) */
    size_t head, tail, cap;
    uint64_t orders, acks, duplicates, malformed, timeouts_seen;
    uint64_t not_journaled; /* the journal refused the acknowledgement: forgotten */
    uint64_t rolled_back;   /* acknowledgements rolled back by a failed sync: forgotten */
    uint64_t failures;      /* in the current burst of journal failures */
    const char *name;
};

struct app {
    struct sc_config cfg;
    struct sc_runner *run;
    struct gw gw[MAX_SESSIONS];
    int ngw;
    struct sc_shmstat *shm; /* stats.shm: one block per session */
};

static void say(const struct gw *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* an event on stderr, with the wall-clock time (operators and tests read it) */
static void
say(const struct gw *g, const char *fmt, ...)
{
    struct timespec ts;
    va_list ap;

    clock_gettime(CLOCK_REALTIME, &ts);
    fprintf(stderr, PROG ": %ld.%06ld session %s: ", (long)ts.tv_sec, ts.tv_nsec / 1000, g->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* once per burst of failures, not once per order */
static void
journal_failed(struct gw *g, const char *what, int err)
{
    if (!g->failures++)
        say(g, "journal %s: %s; orders are not acknowledged until it works again", what,
            strerror(-err));
}

/* ------------------------------------------------------ the gateway's logic */

static void
pend_push(struct gw *g, uint64_t seq, uint64_t id)
{
    if (g->tail == g->cap) {
        if (g->head) { /* the durable ones went: move down */
            memmove(g->pend, g->pend + g->head, (g->tail - g->head) * sizeof(*g->pend));
            g->tail -= g->head;
            g->head = 0;
        }
        if (g->tail == g->cap) {
            g->cap = g->cap ? 2 * g->cap : 1024;
            if (!(g->pend = realloc(g->pend, g->cap * sizeof(*g->pend))))
                abort();
        }
    }
    g->pend[g->tail++] = (struct pend){ seq, id };
}

static void
on_order(void *ctx, uint32_t conn, const char *user, const void *msg, size_t len)
{
    struct gw *g = ctx;
    uint64_t now = sc_runner_now(g->run), id;
    uint8_t ack[17];
    int64_t seq;

    (void)conn;
    (void)user;
    g->orders++;
    if (len < 8) {
        g->malformed++;
        return;
    }
    id = sc_load_be64(msg);
    if (sc_idset_has(&g->ids, id)) {
        g->duplicates++; /* its ack is journaled (sent, or on its way) */
        return;
    }
    memcpy(ack, msg, 8);
    ack[8] = 'A';
    sc_store_be64(ack + 9, now);
    if ((seq = sc_osrv_send(g->srv, ack, sizeof(ack), now)) < 0) {
        g->not_journaled++; /* forgotten: the client's resend gets its ack */
        journal_failed(g, "append failed", (int)seq);
        return;
    }
    pend_push(g, (uint64_t)seq, id);
    sc_idset_add(&g->ids, id);
}

/* A failed sync rolled first..last back: those orders are forgotten. */
static void
on_lost(void *ctx, uint64_t first, uint64_t last, int err)
{
    struct gw *g = ctx;

    while (g->tail > g->head && g->pend[g->tail - 1].seq >= first) {
        g->tail--;
        if (g->pend[g->tail].seq <= last) {
            sc_idset_del(&g->ids, g->pend[g->tail].id);
            g->rolled_back++;
        }
    }
    journal_failed(g, "sync failed (acknowledgements rolled back)", err);
}

/* Acknowledgements now durable count as acknowledged. @return how many. */
static int
settle(struct gw *g)
{
    uint64_t durable = sc_osrv_durable(g->srv);
    int n = 0;

    while (g->head < g->tail && g->pend[g->head].seq <= durable) {
        g->head++;
        g->acks++;
        n++;
    }
    if (n && g->failures) {
        say(g, "journal works again after %llu failure(s); resent orders are acknowledged",
            (unsigned long long)g->failures);
        g->failures = 0;
    }
    return n;
}

/* The gateway's agent, after the servers in every cycle: settles, and says
 * when connections timed out (operators and tests read when). */
static int
gateway_work(void *self, uint64_t now)
{
    struct app *a = self;
    int work = 0;

    (void)now;
    for (int i = 0; i < a->ngw; i++) {
        struct gw *g = &a->gw[i];
        struct sc_osrv_stats st;
        work += settle(g);
        sc_osrv_get_stats(g->srv, &st);
        if (st.closed_timeout != g->timeouts_seen) {
            say(g, "%llu connection(s) closed after the timeout without input",
                (unsigned long long)(st.closed_timeout - g->timeouts_seen));
            g->timeouts_seen = st.closed_timeout;
        }
    }
    return work;
}

/* no input, no timer of its own: it follows the servers' work */
static const struct sc_agent_ops gateway_ops = { "gateway", gateway_work, NULL, NULL, NULL };

/* ------------------------------------------------------------------ parse */

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " --config FILE [--session NAME]... [--repair]\n"
            "\n"
            "SoupBinTCP 4.0 order gateway: serves every session of the file that has a listen\n"
            "address (or the ones named). Each order -- an unsequenced message starting with an\n"
            "8-byte big-endian order id -- gets one sequenced acknowledgement carrying the id,\n"
            "sent once the journal holds it durably (per fsync). After a restart the journal is\n"
            "recovered -- a torn tail (the last record cut short by a crash) is cut -- and\n"
            "clients resume from any sequence number. Damage before the end of a journal stops\n"
            "the start with the file, byte offset and record named.\n"
            "\n"
            "  -c, --config FILE     the deployment (sessions: listen, users, journal, fsync, ...)\n"
            "  -s, --session NAME    serve this session only (repeatable)\n"
            "      --set KEY=VALUE   override a key, e.g. sessions.gw1.timeout=5s\n"
            "      --repair          salvage damaged journals, then exit: each one is copied to\n"
            "                        JOURNAL.damaged-UNIXTIME first, then cut after the last good\n"
            "                        record before the damage; says what it dropped. Records\n"
            "                        after the damage are lost to the gateway (the copy keeps\n"
            "                        them): their sequence numbers will be given to new messages.\n"
            "  -h, --help            this text\n"
            "\n"
            "Prints connection and journal events on stderr and a JSON summary on SIGINT/SIGTERM.\n");
}

/* @return -1 to go on, else the exit status */
static int
parse(int argc, char **argv, struct opts *o)
{
    static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
                                           { "session", required_argument, NULL, 's' },
                                           { "set", required_argument, NULL, SC_OPT_SET },
                                           { "repair", no_argument, NULL, SC_OPT_REPAIR },
                                           { "help", no_argument, NULL, 'h' },
                                           { NULL, 0, NULL, 0 } };
    int c;

    while ((c = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 's': if (o->nnames < MAX_SESSIONS) o->names[o->nnames++] = optarg; break;
        case SC_OPT_SET: sc_cli_add_set(PROG, o->sets, &o->nsets, optarg); break;
        case SC_OPT_REPAIR: o->repair = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!o->config) {
        fprintf(stderr, PROG ": --config FILE is required (sessions need users)\n");
        return 2;
    }
    return -1;
}

/* served: named, or (none named) it has a listen address */
static bool
wanted(const struct opts *o, const struct sc_session_cfg *s)
{
    bool want = o->nnames == 0 && s->listen[0];

    for (int k = 0; k < o->nnames; k++)
        want |= !strcmp(o->names[k], s->name);
    return want;
}

/* ----------------------------------------------------------------- repair */

static int
repair(const struct sc_config *cfg, const struct opts *o)
{
    int bad = 0;

    for (uint32_t i = 0; i < cfg->nsessions; i++) {
        const struct sc_session_cfg *s = &cfg->sessions[i];
        struct sc_journal_repair r;
        struct sc_err err;
        if (!wanted(o, s))
            continue;
        if (!s->journal[0]) {
            printf(PROG ": session %s: journal in memory, nothing to repair\n", s->name);
            continue;
        }
        if (sc_osrv_repair(s, time(NULL), &r, &err) < 0) {
            fprintf(stderr, PROG ": session %s: repair failed: %s\n", s->name, err.msg);
            bad = 1;
        } else if (!r.damaged) {
            printf(PROG ": session %s: journal %s has no damage (%llu records; a torn tail is "
                        "cut at start-up): left alone\n",
                   s->name, s->journal, (unsigned long long)r.kept);
        } else {
            printf(PROG ": session %s: journal %s repaired: kept records 1-%llu, dropped %llu "
                        "bytes holding %llu valid record(s) after the damage; the original is "
                        "%s\n",
                   s->name, s->journal, (unsigned long long)r.kept,
                   (unsigned long long)r.dropped_bytes, (unsigned long long)r.dropped_records,
                   r.aside);
        }
    }
    return bad;
}

/* -------------------------------------------------------------------- run */

/* The server of one session, its ids rebuilt from its journal. @return 0 or -1 (said why). */
static int
open_session(struct app *a, const struct opts *o, const struct sc_session_cfg *s)
{
    static uint8_t m[65536];
    struct gw *g = &a->gw[a->ngw];
    struct sc_osrv_stats st;
    struct sc_err err;

    g->name = s->name;
    g->run = a->run;
    if (sc_osrv_create(&g->srv, &a->cfg, s->name, on_order, g, &err) < 0) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        if (err.code == -EUCLEAN)
            fprintf(stderr, PROG ": the journal is damaged before its end; nothing was changed. "
                            "`" PROG " --config %s --session %s --repair` salvages it "
                            "(docs/OPERATIONS.md, \"Order gateway\")\n",
                    o->config, s->name);
        return -1;
    }
    a->ngw++;
    sc_osrv_on_lost(g->srv, on_lost);
    sc_osrv_get_stats(g->srv, &st);
    for (uint64_t q = 1; q <= st.journal_msgs; q++) { /* the ids acknowledged before */
        int n = sc_osrv_read(g->srv, q, m, sizeof(m));
        if (n < 0) {
            fprintf(stderr, PROG ": session %s: journal message %llu: %s\n", s->name,
                    (unsigned long long)q, strerror(-n));
            return -1;
        }
        if (n >= 8)
            sc_idset_add(&g->ids, sc_load_be64(m));
    }
    fprintf(stderr, PROG ": session %s on %s, journal %s: %llu messages (%llu torn bytes cut)\n",
            s->name, s->listen, s->journal[0] ? s->journal : "(memory)",
            (unsigned long long)st.journal_msgs, (unsigned long long)st.journal_torn_bytes);
    return sc_runner_add(a->run, sc_osrv_agent(g->srv)) < 0 ? -1 : 0;
}

/* A runner holding a server for every session served, then the gateway.
 * @return 0 or -1 (said why). */
static int
open_all(struct app *a, const struct opts *o)
{
    struct sc_err err;

    if (sc_runner_create(&a->run, SC_IDLE_SLEEP, &err) < 0) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        return -1;
    }
    for (uint32_t i = 0; i < a->cfg.nsessions; i++)
        if (wanted(o, &a->cfg.sessions[i]) && open_session(a, o, &a->cfg.sessions[i]) < 0)
            return -1;
    if (!a->ngw) {
        fprintf(stderr, PROG ": no session to serve (none with a listen address%s)\n",
                o->nnames ? " among those named" : "");
        return -1;
    }
    if (sc_shmstat_create_cfg(&a->shm, &a->cfg.stats, PROG, a->gw[0].name, &err) < 0) {
        fprintf(stderr, PROG ": stats.shm: %s\n", err.msg);
        return -1;
    }
    for (int i = 0; i < a->ngw; i++) {
        const struct sc_session_cfg *s = sc_config_session(&a->cfg, a->gw[i].name);
        char labels[SC_SHMSTAT_LABELS];
        snprintf(labels, sizeof(labels), "session=%s,listen=%.100s", a->gw[i].name,
                 s ? s->listen : "");
        if (sc_shmstat_add_osrv(a->shm, a->gw[i].srv, labels, &err) < 0) {
            fprintf(stderr, PROG ": stats.shm: %s\n", err.msg);
            return -1;
        }
    }
    if (sc_cli_shm_open(a->shm, a->run, PROG) < 0)
        return -1;
    return sc_runner_add(a->run, (struct sc_agent){ &gateway_ops, a });
}

/* ----------------------------------------------------------------- report */

/* The last batch synced and sent, then one JSON line per session: the
 * gateway's own counts, then every counter of its server. */
static void
report(struct app *a)
{
    for (int i = 0; i < a->ngw; i++) {
        struct gw *g = &a->gw[i];
        struct sc_osrv_stats st;
        sc_osrv_do_work(g->srv, sc_clock_now());
        settle(g);
        sc_osrv_get_stats(g->srv, &st);
        printf("{\"" PROG "\": {\"session\": \"%s\", \"orders\": %llu, \"acks\": %llu, "
               "\"duplicate_orders\": %llu, \"malformed_orders\": %llu, "
               "\"acks_not_journaled\": %llu, \"acks_rolled_back\": %llu, ",
               g->name, (unsigned long long)g->orders, (unsigned long long)g->acks,
               (unsigned long long)g->duplicates, (unsigned long long)g->malformed,
               (unsigned long long)g->not_journaled, (unsigned long long)g->rolled_back);
        sc_cli_json_stats(stdout, SC_COUNTERS_OSRV, &st, st.rx_bad);
        printf("}}\n");
    }
}

static void
close_all(struct app *a)
{
    sc_shmstat_destroy(a->shm);
    for (int i = 0; i < a->ngw; i++) {
        sc_osrv_destroy(a->gw[i].srv);
        sc_idset_free(&a->gw[i].ids);
        free(a->gw[i].pend);
    }
    sc_runner_destroy(a->run);
}

int
main(int argc, char **argv)
{
    static struct app a;
    struct opts o = { 0 };
    int rc = parse(argc, argv, &o);

    if (rc >= 0)
        return rc;
    if (sc_cli_load(PROG, o.config, o.sets, o.nsets, &a.cfg) < 0)
        return 1;
    if (o.repair)
        return repair(&a.cfg, &o);
    if (open_all(&a, &o) < 0) {
        close_all(&a);
        return 1;
    }
    sc_cli_signals();
    sc_runner_run(a.run, NULL, NULL, &sc_cli_stop, 100000000); /* until SIGINT/SIGTERM */
    report(&a);
    close_all(&a);
    return 0;
}
