/* seqcast-orderd: an order gateway. Takes orders (unsequenced messages whose
 * first 8 bytes are a big-endian order id) and answers each with a sequenced
 * acknowledgement carrying that id, journaled before it is sent. An order id
 * already acknowledged -- a client resending after a reconnect -- is not
 * acknowledged twice; the set of acknowledged ids is rebuilt from the journal
 * when the gateway restarts. */
#include <getopt.h>
#include <poll.h>
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

struct gw {
    struct sc_osrv *srv;
    struct sc_idset acked;
    uint64_t orders, acks, duplicates, malformed, timeouts_seen;
    const char *name;
};

static uint64_t now_cached;

static void
on_order(void *ctx, uint32_t conn, const char *user, const void *msg, size_t len)
{
    struct gw *g = ctx;
    uint8_t ack[17];

    (void)conn;
    (void)user;
    g->orders++;
    if (len < 8) {
        g->malformed++;
        return;
    }
    if (!sc_idset_add(&g->acked, sc_load_be64(msg))) {
        g->duplicates++; /* resent after a reconnect: its ack is in the journal already */
        return;
    }
    memcpy(ack, msg, 8);
    ack[8] = 'A';
    sc_store_be64(ack + 9, now_cached);
    if (sc_osrv_send(g->srv, ack, sizeof(ack), now_cached) > 0)
        g->acks++;
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: seqcast-orderd --config FILE [--session NAME]...\n"
            "\n"
            "SoupBinTCP 4.0 order gateway: serves every session of the file that has a listen\n"
            "address (or the ones named). Each order -- an unsequenced message starting with an\n"
            "8-byte big-endian order id -- gets one sequenced acknowledgement carrying the id,\n"
            "journaled first; after a restart the journal is recovered (a torn tail is cut)\n"
            "and clients resume from any sequence number.\n"
            "\n"
            "  -c, --config FILE     the deployment (sessions: listen, users, journal, fsync, ...)\n"
            "  -s, --session NAME    serve this session only (repeatable)\n"
            "      --set KEY=VALUE   override a key, e.g. sessions.gw1.timeout=5s\n"
            "  -h, --help            this text\n"
            "\n"
            "Prints connection events on stderr and a JSON summary on SIGINT/SIGTERM.\n");
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
                                           { "session", required_argument, NULL, 's' },
                                           { "set", required_argument, NULL, 'S' },
                                           { "help", no_argument, NULL, 'h' },
                                           { NULL, 0, NULL, 0 } };
    static struct sc_config cfg;
    static struct gw gw[MAX_SESSIONS];
    const char *names[MAX_SESSIONS], *config = NULL, *sets[64];
    int nnames = 0, ngw = 0, nsets = 0, c;
    struct sc_err err;
    struct pollfd pfd[MAX_SESSIONS];

    while ((c = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 's': if (nnames < MAX_SESSIONS) names[nnames++] = optarg; break;
        case 'S': if (nsets < 64) sets[nsets++] = optarg; break;
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
    for (uint32_t i = 0; i < cfg.nsessions; i++) {
        const struct sc_session_cfg *s = &cfg.sessions[i];
        bool want = nnames == 0 && s->listen[0];
        for (int k = 0; k < nnames; k++)
            want |= !strcmp(names[k], s->name);
        if (!want)
            continue;
        gw[ngw].name = s->name;
        if (sc_osrv_create(&gw[ngw].srv, &cfg, s->name, on_order, &gw[ngw], &err) < 0) {
            fprintf(stderr, "seqcast-orderd: %s\n", err.msg);
            return 1;
        }
        { /* rebuild the acknowledged ids from the journal */
            struct sc_journal j;
            uint8_t m[65536];
            if (sc_journal_open(&j, s->journal, SC_FSYNC_NONE, NULL) == 0) {
                for (uint64_t q = 1; q <= j.count; q++)
                    if (sc_journal_read(&j, q, m, sizeof(m)) >= 8)
                        sc_idset_add(&gw[ngw].acked, sc_load_be64(m));
                fprintf(stderr, "seqcast-orderd: session %s on %s, journal %s: %llu messages\n",
                        s->name, s->listen, s->journal[0] ? s->journal : "(memory)",
                        (unsigned long long)j.count);
                sc_journal_close(&j);
            }
        }
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
            sc_osrv_get_stats(gw[i].srv, &st);
            if (st.closed_timeout != gw[i].timeouts_seen) { /* say when, for operators and tests */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                fprintf(stderr, "seqcast-orderd: %ld.%06ld session %s: %llu connection(s) closed "
                                "after the timeout without input\n",
                        (long)ts.tv_sec, ts.tv_nsec / 1000, gw[i].name,
                        (unsigned long long)(st.closed_timeout - gw[i].timeouts_seen));
                gw[i].timeouts_seen = st.closed_timeout;
            }
        }
    }
    for (int i = 0; i < ngw; i++) {
        struct sc_osrv_stats st;
        sc_osrv_get_stats(gw[i].srv, &st);
        printf("{\"seqcast-orderd\": {\"session\": \"%s\", \"orders\": %llu, \"acks\": %llu, "
               "\"duplicate_orders\": %llu, \"malformed_orders\": %llu, \"logins\": %llu, "
               "\"login_rejected_auth\": %llu, \"login_rejected_session\": %llu, "
               "\"closed_timeout\": %llu, \"closed_protocol\": %llu, \"closed_peer\": %llu, "
               "\"replayed\": %llu, \"heartbeats\": %llu, \"journal_msgs\": %llu, "
               "\"journal_torn_bytes\": %llu}}\n",
               gw[i].name, (unsigned long long)gw[i].orders, (unsigned long long)gw[i].acks,
               (unsigned long long)gw[i].duplicates, (unsigned long long)gw[i].malformed,
               (unsigned long long)st.logins, (unsigned long long)st.login_rejected_auth,
               (unsigned long long)st.login_rejected_session,
               (unsigned long long)st.closed_timeout, (unsigned long long)st.closed_protocol,
               (unsigned long long)st.closed_peer, (unsigned long long)st.replayed,
               (unsigned long long)st.tx_heartbeats, (unsigned long long)st.journal_msgs,
               (unsigned long long)st.journal_torn_bytes);
        sc_osrv_destroy(gw[i].srv);
        sc_idset_free(&gw[i].acked);
    }
    return 0;
}
