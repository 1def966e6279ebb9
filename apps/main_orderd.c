/* seqcast-orderd: an order gateway. Takes orders (unsequenced messages whose
 * first 8 bytes are a big-endian order id) and answers each with a sequenced
 * acknowledgement carrying that id. An order counts as acknowledged only once
 * its acknowledgement is durable in the journal (the server sends nothing
 * before that). An order id acknowledged, or being acknowledged, is not
 * acknowledged twice -- a client resending after a reconnect or a timeout;
 * one whose acknowledgement the journal could not take, or rolled back after
 * a failed sync, is forgotten, so its resend is acknowledged. The set of ids
 * is rebuilt from the server's journal when the gateway restarts. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <seqcast/order.h>

#include "apps/cli.h"
#include "apps/idset.h"
#include "engine/clock.h"
#include "engine/journal.h"
#include <seqcast/proto/endian.h>

#define MAX_SESSIONS SC_CFG_MAX_SESSIONS

struct pend { /* an acknowledgement journaled, not durable yet */
    uint64_t seq, id;
};

struct gw {
    struct sc_osrv *srv;
    struct sc_idset ids; /* acknowledged (durable) and pending */
    struct pend *pend;   /* by sequence: [head, tail) */
    size_t head, tail, cap;
    uint64_t orders, acks, duplicates, malformed, timeouts_seen;
    uint64_t not_journaled; /* the journal refused the acknowledgement: forgotten */
    uint64_t rolled_back;   /* acknowledgements rolled back by a failed sync: forgotten */
    uint64_t failures;      /* in the current burst of journal failures */
    const char *name;
};

static uint64_t now_cached;

static void say(const struct gw *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* an event on stderr, with the wall-clock time (operators and tests read it) */
static void
say(const struct gw *g, const char *fmt, ...)
{
    struct timespec ts;
    va_list ap;

    clock_gettime(CLOCK_REALTIME, &ts);
    fprintf(stderr, "seqcast-orderd: %ld.%06ld session %s: ", (long)ts.tv_sec, ts.tv_nsec / 1000,
            g->name);
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

static void
on_order(void *ctx, uint32_t conn, const char *user, const void *msg, size_t len)
{
    struct gw *g = ctx;
    uint8_t ack[17];
    uint64_t id;
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
    sc_store_be64(ack + 9, now_cached);
    if ((seq = sc_osrv_send(g->srv, ack, sizeof(ack), now_cached)) < 0) {
        g->not_journaled++; /* forgotten: the client's resend gets its ack */
        journal_failed(g, "append failed", (int)seq);
        return;
    }
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
    g->pend[g->tail++] = (struct pend){ (uint64_t)seq, id };
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

/* Acknowledgements now durable count as acknowledged. */
static void
settle(struct gw *g)
{
    uint64_t durable = sc_osrv_durable(g->srv);
    bool any = false;

    while (g->head < g->tail && g->pend[g->head].seq <= durable) {
        g->head++;
        g->acks++;
        any = true;
    }
    if (any && g->failures) {
        say(g, "journal works again after %llu failure(s); resent orders are acknowledged",
            (unsigned long long)g->failures);
        g->failures = 0;
    }
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: seqcast-orderd --config FILE [--session NAME]... [--repair]\n"
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

static int
repair(const struct sc_config *cfg, const char *const *names, int nnames)
{
    int bad = 0;

    for (uint32_t i = 0; i < cfg->nsessions; i++) {
        const struct sc_session_cfg *s = &cfg->sessions[i];
        struct sc_journal_repair r;
        struct sc_err err;
        bool want = nnames == 0 && s->listen[0];
        for (int k = 0; k < nnames; k++)
            want |= !strcmp(names[k], s->name);
        if (!want)
            continue;
        if (!s->journal[0]) {
            printf("seqcast-orderd: session %s: journal in memory, nothing to repair\n", s->name);
            continue;
        }
        if (sc_journal_repair(s->journal, time(NULL), &r, &err) < 0) {
            fprintf(stderr, "seqcast-orderd: session %s: repair failed: %s\n", s->name, err.msg);
            bad = 1;
        } else if (!r.damaged) {
            printf("seqcast-orderd: session %s: journal %s has no damage (%llu records; a torn "
                   "tail is cut at start-up): left alone\n",
                   s->name, s->journal, (unsigned long long)r.kept);
        } else {
            printf("seqcast-orderd: session %s: journal %s repaired: kept records 1-%llu, "
                   "dropped %llu bytes holding %llu valid record(s) after the damage; the "
                   "original is %s\n",
                   s->name, s->journal, (unsigned long long)r.kept,
                   (unsigned long long)r.dropped_bytes, (unsigned long long)r.dropped_records,
                   r.aside);
        }
    }
    return bad;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
                                           { "session", required_argument, NULL, 's' },
                                           { "set", required_argument, NULL, 'S' },
                                           { "repair", no_argument, NULL, 'R' },
                                           { "help", no_argument, NULL, 'h' },
                                           { NULL, 0, NULL, 0 } };
    static struct sc_config cfg;
    static struct gw gw[MAX_SESSIONS];
    static uint8_t m[65536];
    const char *names[MAX_SESSIONS], *config = NULL, *sets[64];
    int nnames = 0, ngw = 0, nsets = 0, c;
    bool do_repair = false;
    struct sc_err err;
    struct pollfd pfd[MAX_SESSIONS];

    while ((c = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 's': if (nnames < MAX_SESSIONS) names[nnames++] = optarg; break;
        case 'S': if (nsets < 64) sets[nsets++] = optarg; break;
        case 'R': do_repair = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!config) {
        fprintf(stderr, "seqcast-orderd: --config FILE is required (sessions need users)\n");
        return 2;
    }
    if (sc_config_load_file(&cfg, config, &err) < 0) {
        fprintf(stderr, "seqcast-orderd: %s\n", err.msg);
        return 1;
    }
    for (int i = 0; i < nsets; i++)
        if (sc_config_set(&cfg, sets[i], &err) < 0) {
            fprintf(stderr, "seqcast-orderd: %s\n", err.msg);
            return 1;
        }
    if (do_repair)
        return repair(&cfg, names, nnames);
    for (uint32_t i = 0; i < cfg.nsessions; i++) {
        const struct sc_session_cfg *s = &cfg.sessions[i];
        struct sc_osrv_stats st;
        struct gw *g = &gw[ngw];
        bool want = nnames == 0 && s->listen[0];
        for (int k = 0; k < nnames; k++)
            want |= !strcmp(names[k], s->name);
        if (!want)
            continue;
        g->name = s->name;
        if (sc_osrv_create(&g->srv, &cfg, s->name, on_order, g, &err) < 0) {
            fprintf(stderr, "seqcast-orderd: %s\n", err.msg);
            if (err.code == -EUCLEAN)
                fprintf(stderr, "seqcast-orderd: the journal is damaged before its end; nothing "
                                "was changed. `seqcast-orderd --config %s --session %s --repair` "
                                "salvages it (docs/OPERATIONS.md, \"Order gateway\")\n",
                        config, s->name);
            return 1;
        }
        sc_osrv_on_lost(g->srv, on_lost);
        sc_osrv_get_stats(g->srv, &st);
        for (uint64_t q = 1; q <= st.journal_msgs; q++) { /* the ids acknowledged before */
            int n = sc_osrv_read(g->srv, q, m, sizeof(m));
            if (n < 0) {
                fprintf(stderr, "seqcast-orderd: session %s: journal message %llu: %s\n",
                        s->name, (unsigned long long)q, strerror(-n));
                return 1;
            }
            if (n >= 8)
                sc_idset_add(&g->ids, sc_load_be64(m));
        }
        fprintf(stderr, "seqcast-orderd: session %s on %s, journal %s: %llu messages (%llu torn "
                        "bytes cut)\n",
                s->name, s->listen, s->journal[0] ? s->journal : "(memory)",
                (unsigned long long)st.journal_msgs, (unsigned long long)st.journal_torn_bytes);
        ngw++;
    }
    if (!ngw) {
        fprintf(stderr, "seqcast-orderd: no session to serve (none with a listen address%s)\n",
                nnames ? " among those named" : "");
        return 1;
    }
    sc_cli_signals();
    while (!sc_cli_stop) {
        /* heartbeats and timeouts: 10 ms resolution */
        if (ngw == 1) {
            sc_osrv_wait(gw[0].srv, 10); /* one system call for the wait and the readiness */
        } else {
            for (int i = 0; i < ngw; i++)
                pfd[i] = (struct pollfd){ .fd = sc_osrv_fd(gw[i].srv), .events = POLLIN };
            poll(pfd, (nfds_t)ngw, 10);
        }
        now_cached = sc_clock_ns();
        for (int i = 0; i < ngw; i++) {
            struct sc_osrv_stats st;
            while (sc_osrv_do_work(gw[i].srv, now_cached) > 0)
                now_cached = sc_clock_ns();
            settle(&gw[i]);
            sc_osrv_get_stats(gw[i].srv, &st);
            if (st.closed_timeout != gw[i].timeouts_seen) { /* say when, for operators and tests */
                say(&gw[i], "%llu connection(s) closed after the timeout without input",
                    (unsigned long long)(st.closed_timeout - gw[i].timeouts_seen));
                gw[i].timeouts_seen = st.closed_timeout;
            }
        }
    }
    for (int i = 0; i < ngw; i++) {
        struct gw *g = &gw[i];
        struct sc_osrv_stats st;
        sc_osrv_do_work(g->srv, sc_clock_ns()); /* the last batch: synced and sent */
        settle(g);
        sc_osrv_get_stats(g->srv, &st);
        printf("{\"seqcast-orderd\": {\"session\": \"%s\", \"orders\": %llu, \"acks\": %llu, "
               "\"duplicate_orders\": %llu, \"malformed_orders\": %llu, "
               "\"acks_not_journaled\": %llu, \"acks_rolled_back\": %llu, \"accepted\": %llu, "
               "\"logins\": %llu, \"login_rejected_auth\": %llu, \"login_rejected_session\": %llu, "
               "\"closed_timeout\": %llu, \"closed_protocol\": %llu, \"closed_peer\": %llu, "
               "\"closed_login_timeout\": %llu, \"pending_evicted\": %llu, \"refused_full\": %llu, "
               "\"login_locked_out\": %llu, \"lockouts\": %llu, \"lockout_table_full\": %llu, "
               "\"login_seq_ahead\": %llu, \"accept_errors\": %llu, \"epoll_errors\": %llu, "
               "\"replayed\": %llu, \"heartbeats\": %llu, \"journal_msgs\": %llu, "
               "\"journal_durable\": %llu, \"journal_torn_bytes\": %llu, \"journal_syncs\": %llu, "
               "\"journal_write_errors\": %llu, \"journal_sync_errors\": %llu, "
               "\"journal_rolled_back\": %llu, \"journal_read_errors\": %llu, "
               "\"closed_journal\": %llu}}\n",
               g->name, (unsigned long long)g->orders, (unsigned long long)g->acks,
               (unsigned long long)g->duplicates, (unsigned long long)g->malformed,
               (unsigned long long)g->not_journaled, (unsigned long long)g->rolled_back,
               (unsigned long long)st.accepted, (unsigned long long)st.logins,
               (unsigned long long)st.login_rejected_auth,
               (unsigned long long)st.login_rejected_session,
               (unsigned long long)st.closed_timeout, (unsigned long long)st.closed_protocol,
               (unsigned long long)st.closed_peer, (unsigned long long)st.closed_login_timeout,
               (unsigned long long)st.pending_evicted, (unsigned long long)st.refused_full,
               (unsigned long long)st.login_locked_out, (unsigned long long)st.lockouts,
               (unsigned long long)st.lockout_table_full, (unsigned long long)st.login_seq_ahead,
               (unsigned long long)st.accept_errors, (unsigned long long)st.epoll_errors,
               (unsigned long long)st.replayed, (unsigned long long)st.tx_heartbeats,
               (unsigned long long)st.journal_msgs, (unsigned long long)st.journal_durable,
               (unsigned long long)st.journal_torn_bytes, (unsigned long long)st.journal_syncs,
               (unsigned long long)st.journal_write_errors,
               (unsigned long long)st.journal_sync_errors,
               (unsigned long long)st.journal_rolled_back,
               (unsigned long long)st.journal_read_errors, (unsigned long long)st.closed_journal);
        sc_osrv_destroy(g->srv);
        sc_idset_free(&g->ids);
        free(g->pend);
    }
    return 0;
}
