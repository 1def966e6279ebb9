/* seqcast-order: send orders to an order gateway and collect acknowledgements,
 * reconnecting and resuming until every order is acknowledged.
 *
 * One runner: the client agent first (it reads the acknowledgements), then
 * the application's sender (it sends what is due and writes it at once), so
 * an acknowledgement and the next order of a ping-pong share a cycle. The
 * sender has no input of its own: the runner sleeps in the client's wait. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/agent.h>
#include <seqcast/order.h>
#include <seqcast/proto/endian.h>

#include "apps/cli.h"

#define PROG "seqcast-order"

struct opts {
    const char *config, *session, *input;
    const char *sets[SC_CLI_MAX_SETS];
    int nsets;
    double timeout, resend_after;
    bool spin;
};

struct app {
    struct sc_ocli *cli;
    struct sc_runner *run;
    struct sc_shmstat *shm;  /* stats.shm */
    double rate;             /* orders per second; 0 = one in flight (ping-pong) */
    uint64_t t0, end;        /* started, gives up at */
    uint64_t n;              /* orders to send */
    uint64_t next_id;        /* the next order never sent by this process */
    uint64_t *sent_ns;       /* per order id: first sent (0 = not by this process) */
    uint64_t *tx_ns;         /* per order id: last sent, resends included */
    uint64_t oldest;         /* no order below it is unacknowledged */
    uint64_t resend_after_ns, resent_unacked;
    uint64_t resend_at;      /* the next resend --resend-after asks for */
    uint8_t *acked;          /* per order id */
    uint64_t *rtt;           /* round trips measured */
    uint64_t nrtt, nacked, dup_acks, out_of_order, last_seq, sent, resent;
    uint64_t caught_up_at;   /* resend unacked orders once next_seq reaches this */
    bool resend_pending, rejected, ended, print;
    size_t size;
    /* --input: the orders' bodies, in file order */
    uint8_t *body;
    uint64_t *body_off;
    uint16_t *body_len;
    uint8_t order[65536];
};

/* ------------------------------------------------------- the client's side */

static void
on_msg(void *ctx, uint64_t seq, const void *msg, size_t len)
{
    struct app *a = ctx;
    uint64_t now = sc_runner_now(a->run), id;

    if (a->last_seq && seq != a->last_seq + 1)
        a->out_of_order++;
    a->last_seq = seq;
    if (len < 9 || ((const uint8_t *)msg)[8] != 'A')
        return;
    id = sc_load_be64(msg);
    if (id >= a->n)
        return;
    if (a->acked[id]) {
        a->dup_acks++;
        return;
    }
    a->acked[id] = 1;
    a->nacked++;
    if (a->sent_ns[id])
        a->rtt[a->nrtt++] = now - a->sent_ns[id];
    if (a->print)
        printf("ack seq=%llu order=%llu rtt_us=%.1f\n", (unsigned long long)seq,
               (unsigned long long)id,
               a->sent_ns[id] ? (double)(now - a->sent_ns[id]) / 1e3 : -1.0);
}

static void
on_event(void *ctx, enum sc_ocli_event ev, uint64_t arg)
{
    struct app *a = ctx;

    switch (ev) {
    case SC_OCLI_LOGGED_IN:
        /* arg is where the stream starts (what we asked for), not the server's head:
         * SoupBinTCP never says how far the replay goes. So unacknowledged orders are
         * resent at once; the gateway recognises an order id it has acknowledged and
         * does not acknowledge it twice (its ack arrives in the replay). */
        a->caught_up_at = arg;
        a->resend_pending = true;
        break;
    case SC_OCLI_REJECTED:
        fprintf(stderr, PROG ": login rejected (%s)\n",
                arg == 'A' ? "not authorized" : "no such session");
        a->rejected = true;
        break;
    case SC_OCLI_END_OF_SESSION:
        fprintf(stderr, PROG ": the server ended the session\n");
        a->ended = true;
        break;
    case SC_OCLI_DISCONNECTED:
        fprintf(stderr, PROG ": disconnected (%s); reconnecting\n",
                arg == 1 ? "timeout" : arg == 2 ? "protocol error" : "peer closed");
        break;
    case SC_OCLI_GAP:
        fprintf(stderr, PROG ": the server no longer has messages from %llu\n",
                (unsigned long long)arg);
        break;
    case SC_OCLI_REWOUND:
        fprintf(stderr, PROG ": the server lost messages it had sent us (its journal was "
                        "repaired or replaced): it resumes at %llu\n", (unsigned long long)arg);
        break;
    }
}

/* --------------------------------------------------------------- the sender */

/* The order with this id: its 8-byte id, then the file's bytes or filler. */
static size_t
build(struct app *a, uint64_t id)
{
    sc_store_be64(a->order, id);
    if (a->body) {
        memcpy(a->order + 8, a->body + a->body_off[id], a->body_len[id]);
        return 8 + (size_t)a->body_len[id];
    }
    return a->size;
}

static int
send_order(struct app *a, uint64_t id, uint64_t now)
{
    int rc = sc_ocli_send(a->cli, a->order, build(a, id), now);

    if (rc == 0)
        a->tx_ns[id] = now;
    return rc;
}

/* After a login: what is unacknowledged goes again, once the replay caught up. */
static int
resend_unacked(struct app *a, uint64_t now)
{
    struct sc_ocli_stats st;
    int work = 0;

    sc_ocli_get_stats(a->cli, &st);
    if (st.next_seq < a->caught_up_at)
        return 0;
    a->resend_pending = false;
    for (uint64_t id = 0; id < a->next_id; id++)
        if (!a->acked[id] && send_order(a, id, now) == 0) {
            a->resent++;
            work++;
        }
    /* a restarted client: its earlier incarnation sent up to the highest acked id */
    while (a->next_id < a->n && a->acked[a->next_id])
        a->next_id++;
    return work;
}

/* The orders due: at --rate, or the next once the last is acknowledged. */
static int
send_due(struct app *a, uint64_t now)
{
    uint64_t due = a->rate > 0 ? (uint64_t)((double)(now - a->t0) * a->rate / 1e9) + 1
                               : a->nacked + 1; /* ping-pong: one in flight */
    int work = 0;

    while (a->next_id < a->n && a->next_id < due && (a->rate > 0 || a->next_id == a->nacked)) {
        if (a->acked[a->next_id]) {
            a->next_id++;
            continue;
        }
        if (send_order(a, a->next_id, now) < 0)
            break;
        a->sent_ns[a->next_id] = now;
        a->sent++;
        a->next_id++;
        work++;
    }
    return work;
}

/* Orders unacknowledged --resend-after after they were (last) sent go again:
 * an acknowledgement the gateway could not journal never comes otherwise. The
 * gateway acknowledges an order id once, so a resend of one merely slow is
 * only counted there. Orders go out in id order, so the scan stops at the
 * first one too young; it notes when the next resend is due. */
static int
resend_overdue(struct app *a, uint64_t now)
{
    int work = 0;

    a->resend_at = UINT64_MAX;
    while (a->oldest < a->next_id && a->acked[a->oldest])
        a->oldest++;
    for (uint64_t id = a->oldest; id < a->next_id; id++) {
        uint64_t first = a->sent_ns[id] ? a->sent_ns[id] : a->tx_ns[id];
        if (a->acked[id])
            continue;
        if (first + a->resend_after_ns > now) {
            if (first + a->resend_after_ns < a->resend_at)
                a->resend_at = first + a->resend_after_ns;
            break;
        }
        if (a->tx_ns[id] + a->resend_after_ns <= now) {
            if (send_order(a, id, now) < 0)
                break;
            a->resent_unacked++;
            work++;
        }
        if (a->tx_ns[id] + a->resend_after_ns < a->resend_at)
            a->resend_at = a->tx_ns[id] + a->resend_after_ns;
    }
    return work;
}

static int
sender_work(void *self, uint64_t now)
{
    struct app *a = self;
    int work = 0;

    if (!sc_ocli_logged_in(a->cli))
        return 0;
    if (a->resend_pending)
        work += resend_unacked(a, now);
    if (!a->resend_pending) {
        work += send_due(a, now);
        if (a->resend_after_ns)
            work += resend_overdue(a, now);
    }
    return work + sc_ocli_flush(a->cli, now); /* one send, no read */
}

/* The next order due (by the rate), the next resend, the time to give up. */
static uint64_t
sender_deadline(const void *self, uint64_t now)
{
    const struct app *a = self;
    uint64_t d = a->end;

    if (a->rejected || a->ended || a->nacked >= a->n)
        return now; /* finished: no sleep before the runner's stop condition sees it */
    if (!sc_ocli_logged_in(a->cli) || a->resend_pending)
        return d; /* a login, the replay: input */
    if (a->next_id < a->n && a->rate > 0) {
        uint64_t due = a->t0 + (uint64_t)((double)a->next_id * 1e9 / a->rate) + 1; /* up */
        if (due < d)
            d = due;
    } else if (a->next_id < a->n && a->next_id == a->nacked) {
        return now; /* ping-pong: it could not send (the client's buffer was full) */
    }
    if (a->resend_after_ns && a->resend_at < d)
        d = a->resend_at;
    return d;
}

static const struct sc_agent_ops sender_ops = { "sender", sender_work, sender_deadline, NULL,
                                                NULL };

static bool
finished(void *ctx)
{
    const struct app *a = ctx;

    return a->rejected || a->ended || a->nacked >= a->n || sc_runner_now(a->run) >= a->end;
}

/* ------------------------------------------------------------------ parse */

/* Orders from a file of 2-byte big-endian length + bytes records ('-' = stdin). */
static int
load(struct app *a, const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    size_t cap = 1 << 20, used = 0, n = 0, ncap = 1024;
    uint8_t h[2];

    if (!f) {
        fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
        return -1;
    }
    a->body = malloc(cap);
    a->body_off = malloc(ncap * sizeof(uint64_t));
    a->body_len = malloc(ncap * sizeof(uint16_t));
    while (a->body && a->body_off && a->body_len && fread(h, 1, 2, f) == 2) {
        size_t len = (size_t)h[0] << 8 | h[1];
        if (len > 65534 - 8) {
            fprintf(stderr, PROG ": %s: order %zu is %zu bytes (at most 65526)\n", path, n + 1,
                    len);
            return -1;
        }
        while (used + len > cap)
            a->body = realloc(a->body, cap *= 2);
        if (n == ncap) {
            ncap *= 2;
            a->body_off = realloc(a->body_off, ncap * sizeof(uint64_t));
            a->body_len = realloc(a->body_len, ncap * sizeof(uint16_t));
        }
        if (!a->body || !a->body_off || !a->body_len || fread(a->body + used, 1, len, f) != len) {
            fprintf(stderr, PROG ": %s: truncated after %zu orders\n", path, n);
            return -1;
        }
        a->body_off[n] = used;
        a->body_len[n++] = (uint16_t)len;
        used += len;
    }
    if (f != stdin)
        fclose(f);
    a->n = n;
    return n ? 0 : -1;
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " --config FILE [--session NAME] (--count N | --input FILE)\n"
            "                     [--rate R] [--size B] [--print] [--spin]\n"
            "\n"
            "Sends orders (unsequenced SoupBinTCP messages starting with an 8-byte big-endian\n"
            "order id) to seqcast-orderd and waits for each acknowledgement.\n"
            "Keeps reconnecting and resuming until every order is acknowledged, then prints a\n"
            "JSON summary (sent, acknowledged, duplicates, reconnects, round trips) and exits 0;\n"
            "1 if the timeout passes first or the login is rejected.\n"
            "\n"
            "  -c, --config FILE     the deployment (sessions: connect, login, heartbeat, ...)\n"
            "  -s, --session NAME    the session (default: the first with a connect address)\n"
            "  -n, --count N         N generated orders (the id, padded to --size bytes)\n"
            "  -i, --input FILE      orders from FILE ('-' = stdin), 2-byte big-endian length +\n"
            "                        bytes each; each is sent as its 8-byte id + those bytes\n"
            "  -p, --print           print each acknowledgement (sequence, order id, round trip)\n"
            "  -r, --rate R          orders per second (default 0 = one at a time, ping-pong)\n"
            "  -b, --size BYTES      order size (default 32, at least 8)\n"
            "  -t, --timeout SECONDS give up after this long (default 120)\n"
            "      --resend-after SECONDS\n"
            "                        resend an order unacknowledged this long after it was sent\n"
            "                        (default 0.5; 0 = only after a reconnect). The gateway\n"
            "                        acknowledges an order id once, so an ack that is merely\n"
            "                        slow costs a duplicate it counts; one it could not journal\n"
            "                        (a full disk) arrives once the resend is journaled\n"
            "      --spin            busy-poll the socket instead of sleeping while waiting for\n"
            "                        an acknowledgement (lower latency, a whole core)\n"
            "      --set KEY=VALUE   override a key, e.g. sessions.ouch.heartbeat=200ms\n"
            "  -h, --help            this text\n");
}

/* @return -1 to go on, else the exit status */
static int
parse(int argc, char **argv, struct opts *o, struct app *a)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "session", required_argument, NULL, 's' },
        { "count", required_argument, NULL, 'n' },
        { "rate", required_argument, NULL, 'r' },
        { "size", required_argument, NULL, 'b' },
        { "timeout", required_argument, NULL, 't' },
        { "set", required_argument, NULL, SC_OPT_SET },
        { "input", required_argument, NULL, 'i' },
        { "print", no_argument, NULL, 'p' },
        { "spin", no_argument, NULL, SC_OPT_SPIN_ORDER },
        { "resend-after", required_argument, NULL, SC_OPT_RESEND_AFTER },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int c;

    o->timeout = 120;
    o->resend_after = 0.5;
    a->size = 32;
    while ((c = getopt_long(argc, argv, "c:s:n:r:b:t:i:ph", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 's': o->session = optarg; break;
        case 'n': a->n = strtoull(optarg, NULL, 10); break;
        case 'r': a->rate = strtod(optarg, NULL); break;
        case 'b': a->size = strtoul(optarg, NULL, 10); break;
        case 't': o->timeout = strtod(optarg, NULL); break;
        case SC_OPT_SET: sc_cli_add_set(PROG, o->sets, &o->nsets, optarg); break;
        case 'i': o->input = optarg; break;
        case 'p': a->print = true; break;
        case SC_OPT_SPIN_ORDER: o->spin = true; break;
        case SC_OPT_RESEND_AFTER: o->resend_after = strtod(optarg, NULL); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (o->input && load(a, o->input) < 0)
        return 1;
    if (!o->config || !a->n || a->size < 8 || a->size > 65534) {
        fprintf(stderr, PROG ": %s\n", !o->config ? "--config FILE is required"
                                       : !a->n    ? "--count N or --input FILE is required"
                                                  : "--size: 8 to 65534 bytes");
        return 2;
    }
    return -1;
}

/* -------------------------------------------------------------------- run */

/* The client (resuming from sequence 1: the replay tells a restarted client
 * what was acknowledged), then the sender, on one runner. @return 0, or the
 * exit status after saying why. */
static int
open_all(struct app *a, const struct opts *o, const struct sc_config *cfg)
{
    struct sc_err err;

    if (o->resend_after < 0) {
        fprintf(stderr, PROG ": --resend-after: seconds, 0 or more\n");
        return 2;
    }
    a->resend_after_ns = (uint64_t)(o->resend_after * 1e9);
    a->resend_at = UINT64_MAX;
    a->sent_ns = calloc(a->n, sizeof(uint64_t));
    a->tx_ns = calloc(a->n, sizeof(uint64_t));
    a->acked = calloc(a->n, 1);
    a->rtt = calloc(a->n, sizeof(uint64_t));
    if (!a->sent_ns || !a->tx_ns || !a->acked || !a->rtt)
        return 1;
    if (sc_ocli_create(&a->cli, cfg, o->session, 1, on_msg, on_event, a, &err) < 0 ||
        sc_runner_create(&a->run, o->spin ? SC_IDLE_SPIN : SC_IDLE_SLEEP, &err) < 0) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        return 1;
    }
    sc_runner_add(a->run, sc_ocli_agent(a->cli));
    sc_runner_add(a->run, (struct sc_agent){ &sender_ops, a });
    {
        const char *name = o->session; /* else the first with a connect address, as the client */
        char labels[SC_SHMSTAT_LABELS];
        for (uint32_t i = 0; !name && i < cfg->nsessions; i++)
            if (cfg->sessions[i].connect[0])
                name = cfg->sessions[i].name;
        name = name ? name : "-";
        snprintf(labels, sizeof(labels), "session=%s", name);
        if (sc_shmstat_create_cfg(&a->shm, &cfg->stats, PROG, name, &err) < 0 ||
            sc_shmstat_add_ocli(a->shm, a->cli, labels, &err) < 0) {
            fprintf(stderr, PROG ": stats.shm: %s\n", err.msg);
            return 1;
        }
    }
    if (sc_cli_shm_open(a->shm, a->run, PROG) < 0)
        return 1;
    return 0;
}

/* ----------------------------------------------------------------- report */

static int
cmp64(const void *x, const void *y)
{
    uint64_t p = *(const uint64_t *)x, q = *(const uint64_t *)y;
    return p < q ? -1 : p > q;
}

/* The summary: the run's own counts and round trips, then every counter of
 * the client. @return the exit status. */
static int
report(struct app *a)
{
    struct sc_ocli_stats st;
    bool complete = a->nacked == a->n && !a->dup_acks && !a->out_of_order;

    sc_ocli_get_stats(a->cli, &st);
    qsort(a->rtt, a->nrtt, sizeof(uint64_t), cmp64);
#define PCT(q) (a->nrtt ? (double)a->rtt[(uint64_t)((double)(a->nrtt - 1) * (q))] / 1000.0 : 0.0)
    printf("{\"" PROG "\": {\"complete\": %s, \"orders\": %llu, \"sent\": %llu, "
           "\"resent\": %llu, \"resent_unacked\": %llu, \"acknowledged\": %llu, "
           "\"duplicate_acks\": %llu, \"out_of_order\": %llu, \"reconnects\": %llu, "
           "\"seconds\": %.3f, \"rtt_us\": {\"n\": %llu, \"p50\": %.1f, \"p99\": %.1f, "
           "\"p999\": %.1f, \"max\": %.1f}, ",
           complete ? "true" : "false", (unsigned long long)a->n, (unsigned long long)a->sent,
           (unsigned long long)a->resent, (unsigned long long)a->resent_unacked,
           (unsigned long long)a->nacked, (unsigned long long)a->dup_acks,
           (unsigned long long)a->out_of_order,
           (unsigned long long)(st.logins ? st.logins - 1 : 0),
           (double)(sc_clock_now() - a->t0) / 1e9, (unsigned long long)a->nrtt, PCT(0.5),
           PCT(0.99), PCT(0.999), a->nrtt ? (double)a->rtt[a->nrtt - 1] / 1000.0 : 0.0);
#undef PCT
    sc_cli_json_stats(stdout, SC_COUNTERS_OCLI, &st, st.rx_bad);
    printf("}}\n");
    return complete ? 0 : 1;
}

int
main(int argc, char **argv)
{
    static struct sc_config cfg;
    static struct app a;
    struct opts o = { 0 };
    int rc = parse(argc, argv, &o, &a);

    if (rc >= 0)
        return rc;
    if (sc_cli_load(PROG, o.config, o.sets, o.nsets, &cfg) < 0)
        return 1;
    if ((rc = open_all(&a, &o, &cfg)) != 0)
        return rc;
    sc_cli_signals();
    a.t0 = sc_clock_now();
    a.end = a.t0 + (uint64_t)(o.timeout * 1e9);
    sc_runner_run(a.run, finished, &a, &sc_cli_stop, 100000000);
    rc = report(&a);
    sc_ocli_logout(a.cli, sc_runner_now(a.run));
    sc_shmstat_destroy(a.shm);
    sc_ocli_destroy(a.cli);
    sc_runner_destroy(a.run);
    return rc;
}
