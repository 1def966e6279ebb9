/* seqcast-stat's work (apps/stat.h): reading a directory of counters files,
 * and what is printed or served from them. Every name printed comes from the
 * files (which carry the counter lists), none from here, except the few
 * counters the top view puts in its columns. */
#include "apps/stat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <seqcast/agent.h>

/* ----------------------------------------------------------------- read */

int
sc_stat_read(struct sc_stat_set *set, const char *dir, int pid)
{
    int n;

    memset(set, 0, sizeof(*set));
    set->removed = sc_shmstat_clean(dir);
    set->mono_ns = sc_clock_now();
    if ((n = sc_shmstat_list(dir, &set->paths)) < 0)
        return n;
    set->snap = calloc((size_t)n + 1, sizeof(*set->snap));
    set->errors = calloc((size_t)n + 1, sizeof(*set->errors));
    if (!set->snap || !set->errors) {
        sc_stat_free(set);
        return -ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        struct sc_err err = { 0 };
        struct sc_shmstat_snap *s;
        if (sc_shmstat_read(set->paths[i], &s, &err) < 0) {
            if (err.code != -ENOENT) /* gone between the listing and the read */
                set->errors[set->n] = strdup(err.msg);
            else
                continue;
        } else if (pid > 0 && s->pid != pid) {
            sc_shmstat_snap_free(s);
            continue;
        } else {
            set->snap[set->n] = s;
        }
        set->paths[set->n++] = set->paths[i];
    }
    return 0;
}

void
sc_stat_free(struct sc_stat_set *set)
{
    for (int i = 0; i < set->n; i++) {
        if (set->snap)
            sc_shmstat_snap_free(set->snap[i]);
        if (set->errors)
            free(set->errors[i]);
    }
    free(set->snap);
    free(set->errors);
    free(set->paths);
    memset(set, 0, sizeof(*set));
}

/* ---------------------------------------------------------------- JSON */

static void
json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/* "k=v,k=v" as JSON members, or as Prometheus labels (prom: names made
 * [A-Za-z0-9_], values escaped). */
static void
labels_out(FILE *out, const char *labels, bool prom)
{
    char buf[SC_SHMSTAT_LABELS], *save = NULL;
    bool first = true;

    snprintf(buf, sizeof(buf), "%s", labels);
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq || eq == kv)
            continue;
        *eq = '\0';
        if (prom) {
            fputc(',', out);
            for (char *k = kv; *k; k++)
                fputc((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
                              (*k >= '0' && *k <= '9' && k > kv) || *k == '_'
                          ? *k
                          : '_', out);
            fputs("=\"", out);
            for (char *v = eq + 1; *v; v++)
                if (*v == '"' || *v == '\\')
                    fprintf(out, "\\%c", *v);
                else if (*v == '\n')
                    fputs("\\n", out);
                else
                    fputc(*v, out);
            fputc('"', out);
        } else {
            fprintf(out, "%s", first ? "" : ", ");
            json_str(out, kv);
            fputs(": ", out);
            json_str(out, eq + 1);
        }
        first = false;
    }
}

static void
json_event(FILE *out, const struct sc_shmstat_snap *s, const struct sc_shmstat_event *e)
{
    fprintf(out, "{\"time_ns\": %llu, \"program\": ", (unsigned long long)e->time_ns);
    json_str(out, s->program);
    fprintf(out, ", \"pid\": %d, \"name\": ", s->pid);
    json_str(out, s->name);
    fprintf(out, ", \"event\": \"%s\", \"reason\": \"%s\", \"source\": ", sc_shmstat_ev_name(e->type),
            sc_shmstat_reason_name(e->type, e->reason));
    json_str(out, e->source);
    fprintf(out, ", \"first\": %llu, \"last\": ", (unsigned long long)e->first);
    if (e->last == UINT64_MAX)
        fputs("null", out);
    else
        fprintf(out, "%llu", (unsigned long long)e->last);
    fprintf(out, ", \"count\": %llu, \"repair_ns\": %llu, \"peer\": ",
            (unsigned long long)e->count, (unsigned long long)e->repair_ns);
    json_str(out, e->peer);
    fputc('}', out);
}

void
sc_stat_json(FILE *out, const struct sc_stat_set *set, const char *dir)
{
    bool first = true;

    fputs("{\"dir\": ", out);
    json_str(out, sc_shmstat_dir(dir));
    fprintf(out, ", \"stale_removed\": %d, \"processes\": [", set->removed);
    for (int i = 0; i < set->n; i++) {
        const struct sc_shmstat_snap *s = set->snap[i];
        if (!s)
            continue;
        fprintf(out, "%s{\"program\": ", first ? "" : ", ");
        first = false;
        json_str(out, s->program);
        fprintf(out, ", \"pid\": %d, \"name\": ", s->pid);
        json_str(out, s->name);
        fputs(", \"file\": ", out);
        json_str(out, set->paths[i]);
        fprintf(out, ", \"stale\": %s, \"created_ns\": %llu, \"updated_ns\": %llu, "
                     "\"interval_ns\": %llu, \"blocks\": [",
                s->stale ? "true" : "false", (unsigned long long)s->created_ns,
                (unsigned long long)s->updated_ns, (unsigned long long)s->interval_ns);
        for (uint32_t b = 0, nb = 0; b < s->nblocks; b++) {
            const struct sc_shmstat_rblock *rb = &s->blocks[b];
            const char *sn = sc_shmstat_set_name(rb->set);
            if (rb->vacant)
                continue;
            fprintf(out, "%s{\"set\": \"%s\", \"labels\": {", nb++ ? ", " : "", sn ? sn : "?");
            labels_out(out, rb->labels, false);
            fputs("}, \"counters\": {", out);
            for (uint32_t k = 0; k < rb->n; k++) {
                fprintf(out, "%s", k ? ", " : "");
                json_str(out, rb->c[k].name);
                fprintf(out, ": %llu", (unsigned long long)rb->c[k].value);
            }
            fputs("}}", out);
        }
        fprintf(out, "], \"loss_log_total\": %llu, \"repairs_unlogged\": %llu, \"loss\": [",
                (unsigned long long)s->loss_total, (unsigned long long)s->repairs_unlogged);
        for (uint32_t k = 0; k < s->nloss; k++) {
            fputs(k ? ", " : "", out);
            json_event(out, s, &s->loss[k]);
        }
        fputs("]}", out);
    }
    fputs("], \"errors\": [", out);
    first = true;
    for (int i = 0; i < set->n; i++)
        if (!set->snap[i]) {
            fputs(first ? "" : ", ", out);
            json_str(out, set->errors[i] ? set->errors[i] : set->paths[i]);
            first = false;
        }
    fputs("]}\n", out);
}

/* ---------------------------------------------------------- text views */

static double
age_s(const struct sc_shmstat_snap *s)
{
    struct timespec ts;
    uint64_t now;

    clock_gettime(CLOCK_REALTIME, &ts);
    now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    return now > s->updated_ns ? (double)(now - s->updated_ns) / 1e9 : 0.0;
}

void
sc_stat_list(FILE *out, const struct sc_stat_set *set)
{
    fprintf(out, "%-20s %8s  %-16s %6s  %s\n", "PROGRAM", "PID", "NAME", "AGE", "BLOCKS");
    for (int i = 0; i < set->n; i++) {
        const struct sc_shmstat_snap *s = set->snap[i];
        if (!s) {
            fprintf(out, "%s: %s\n", set->paths[i], set->errors[i] ? set->errors[i] : "unreadable");
            continue;
        }
        fprintf(out, "%-20s %8d  %-16s %5.1fs  ", s->program, s->pid, s->name, age_s(s));
        for (uint32_t b = 0, nb = 0; b < s->nblocks; b++) {
            const char *sn = sc_shmstat_set_name(s->blocks[b].set);
            if (!s->blocks[b].vacant)
                fprintf(out, "%s%s", nb++ ? "," : "", sn ? sn : "?");
        }
        fprintf(out, "%s\n", s->stale ? "  (stale)" : "");
    }
    if (set->removed)
        fprintf(out, "(%d stale file%s of ended processes removed)\n", set->removed,
                set->removed == 1 ? "" : "s");
}

static void
time_str(uint64_t ns, char *buf, size_t len)
{
    time_t t = (time_t)(ns / 1000000000ull);
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(buf, len, "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned)(ns / 1000000 % 1000));
}

void
sc_stat_loss(FILE *out, const struct sc_stat_set *set, bool json)
{
    unsigned lines = 0;

    if (!json)
        fprintf(out, "%-12s %-16s %7s %-14s %-13s %-20s %-24s %9s %s\n", "TIME(UTC)", "PROGRAM",
                "PID", "EVENT", "REASON", "SOURCE", "SEQUENCES", "COUNT", "REPAIR/PEER");
    for (int i = 0; i < set->n; i++) {
        const struct sc_shmstat_snap *s = set->snap[i];
        for (uint32_t k = 0; s && k < s->nloss; k++, lines++) {
            const struct sc_shmstat_event *e = &s->loss[k];
            char t[32], seq[48], extra[64] = "";
            if (json) {
                json_event(out, s, e);
                fputc('\n', out);
                continue;
            }
            time_str(e->time_ns, t, sizeof(t));
            if (e->type == SC_SHMSTAT_EV_LOSS || e->type == SC_SHMSTAT_EV_REPAIR) {
                if (e->last == UINT64_MAX)
                    snprintf(seq, sizeof(seq), "%llu..?", (unsigned long long)e->first);
                else
                    snprintf(seq, sizeof(seq), "%llu..%llu", (unsigned long long)e->first,
                             (unsigned long long)e->last);
            } else if (e->type == SC_SHMSTAT_EV_SOURCE_UP) {
                snprintf(seq, sizeof(seq), "from %llu", (unsigned long long)e->first);
            } else {
                snprintf(seq, sizeof(seq), "-");
            }
            if (e->repair_ns)
                snprintf(extra, sizeof(extra), "%.3f ms", (double)e->repair_ns / 1e6);
            else if (e->peer[0])
                snprintf(extra, sizeof(extra), "%s", e->peer);
            fprintf(out, "%-12s %-16s %7d %-14s %-13s %-20s %-24s %9llu %s\n", t, s->program,
                    s->pid, sc_shmstat_ev_name(e->type), sc_shmstat_reason_name(e->type, e->reason),
                    e->source, seq, (unsigned long long)e->count, extra);
        }
    }
    if (!json && !lines)
        fprintf(out, "(no loss, repair, NAK or source event logged)\n");
    for (int i = 0; !json && i < set->n; i++)
        if (set->snap[i] && set->snap[i]->repairs_unlogged)
            fprintf(out, "(%s %d: %llu repair event%s over the log's budget, not logged)\n",
                    set->snap[i]->program, set->snap[i]->pid,
                    (unsigned long long)set->snap[i]->repairs_unlogged,
                    set->snap[i]->repairs_unlogged == 1 ? "" : "s");
}

/* The top view's columns: for each set, the counter behind each (NULL: none).
 * Rates for the first five, totals for the rest. */
enum { C_MSGS, C_PKTS, C_NAKS, C_NCFS, C_REPAIRS, C_GAPS, C_LOST, C_LOSSEV, C_COLS };

static const char *const columns[][C_COLS] = {
    [SC_COUNTERS_PUB] = { "msgs_sent", "odata_sent", "naks_received", "ncf_sent", "rdata_sent",
                          NULL, NULL, NULL },
    [SC_COUNTERS_SUB] = { "msgs_delivered", "rx_pkts", "naks_sent", "ncf_received", "repaired",
                          "gaps", "lost_packets", "loss_events" },
    [SC_COUNTERS_OSRV] = { "rx_msgs", "tx_sequenced", NULL, NULL, "replayed", NULL, NULL, NULL },
    [SC_COUNTERS_OCLI] = { "tx_unsequenced", "rx_sequenced", NULL, NULL, NULL, NULL, NULL, NULL },
    [SC_COUNTERS_ITCH_FEED] = { "msgs", NULL, NULL, NULL, NULL, NULL, "lost_msgs", "loss_events" },
    [SC_COUNTERS_ARCHIVE] = { "msgs_archived", NULL, NULL, NULL, NULL, "gaps_recorded",
                              "gap_msgs", NULL },
    [SC_COUNTERS_SUB_SOURCE] = { "msgs_delivered", NULL, "naks_sent", NULL, "repaired", "gaps",
                                 "lost_packets", "loss_events" },
};

static const struct sc_shmstat_rblock *
prev_block(const struct sc_stat_set *prev, const struct sc_shmstat_snap *s, uint32_t b)
{
    for (int i = 0; prev && i < prev->n; i++) {
        const struct sc_shmstat_snap *p = prev->snap[i];
        if (p && p->pid == s->pid && p->start_ticks == s->start_ticks &&
            !strcmp(p->name, s->name) && b < p->nblocks && p->blocks[b].set == s->blocks[b].set &&
            !strcmp(p->blocks[b].labels, s->blocks[b].labels)) /* a source's place: the same one */
            return &p->blocks[b];
    }
    return NULL;
}

static void
fmt_num(char *buf, size_t len, double v)
{
    if (v < 0)
        snprintf(buf, len, "-");
    else if (v >= 1e9)
        snprintf(buf, len, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, len, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, len, "%.1fk", v / 1e3);
    else
        snprintf(buf, len, "%.0f", v);
}

void
sc_stat_top(FILE *out, const struct sc_stat_set *cur, const struct sc_stat_set *prev,
            const char *dir)
{
    static const char *const heads[C_COLS] = { "MSG/S", "PKT/S", "NAK/S", "NCF/S", "RPR/S",
                                               "GAPS", "LOST", "LOSSEV" };
    double dt = prev && cur->mono_ns > prev->mono_ns
                    ? (double)(cur->mono_ns - prev->mono_ns) / 1e9 : 0;
    struct timespec ts;
    char now[32];
    int procs = 0;

    clock_gettime(CLOCK_REALTIME, &ts);
    time_str((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec, now, sizeof(now));
    for (int i = 0; i < cur->n; i++)
        procs += cur->snap[i] != NULL;
    fprintf(out, "seqcast-stat  %s UTC  %s  %d process%s  (q: quit)\n", now,
            sc_shmstat_dir(dir), procs, procs == 1 ? "" : "es");
    fprintf(out, "%-14s %7s %-10s %-6s", "PROGRAM", "PID", "NAME", "SET");
    for (int c = 0; c < C_COLS; c++)
        fprintf(out, " %8s", heads[c]);
    fprintf(out, " %10s %8s %8s  %s\n", "WINDOW", "RPR-MS", "LAG", "LABELS");
    for (int i = 0; i < cur->n; i++) {
        const struct sc_shmstat_snap *s = cur->snap[i];
        for (uint32_t b = 0; s && b < s->nblocks; b++) {
            const struct sc_shmstat_rblock *rb = &s->blocks[b], *pb = prev_block(prev, s, b);
            const char *sn = sc_shmstat_set_name(rb->set);
            char cell[32], win[32] = "-", lat[32] = "-", lag[32] = "-";
            uint64_t lead, trail, w1, w0, r1, r0, g;
            if (rb->set == SC_COUNTERS_LINK || rb->set >= sizeof(columns) / sizeof(columns[0]) ||
                rb->vacant)
                continue;
            fprintf(out, "%-14.14s %7d %-10.10s %-6.6s", s->program, s->pid, s->name,
                    sn ? sn : "?");
            for (int c = 0; c < C_COLS; c++) {
                const char *name = columns[rb->set][c];
                uint64_t v, pv;
                double shown = -1;
                if (name && sc_shmstat_value(rb, name, &v)) {
                    if (c > C_REPAIRS)
                        shown = (double)v;
                    else if (pb && dt > 0 && sc_shmstat_value(pb, name, &pv) && v >= pv)
                        shown = (double)(v - pv) / dt;
                }
                fmt_num(cell, sizeof(cell), shown);
                fprintf(out, " %8s", cell);
            }
            if (sc_shmstat_value(rb, "window_lead", &lead) &&
                sc_shmstat_value(rb, "window_trail", &trail) && lead >= trail && lead)
                snprintf(win, sizeof(win), "%llu", (unsigned long long)(lead - trail + 1));
            /* the mean repair latency between the two readings, ms */
            if (pb && sc_shmstat_value(rb, "repair_wait", &w1) &&
                sc_shmstat_value(pb, "repair_wait", &w0) &&
                sc_shmstat_value(rb, "repaired", &r1) && sc_shmstat_value(pb, "repaired", &r0) &&
                r1 > r0 && w1 >= w0)
                snprintf(lat, sizeof(lat), "%.2f", (double)(w1 - w0) / (double)(r1 - r0) / 1e3);
            if (sc_shmstat_value(rb, "lag", &g))
                fmt_num(lag, sizeof(lag), (double)g);
            if (rb->set == SC_COUNTERS_SUB_SOURCE && sc_shmstat_value(rb, "missing", &g))
                snprintf(win, sizeof(win), "%llu miss", (unsigned long long)g);
            fprintf(out, " %10s %8s %8s  %s%s\n", win, lat, lag, rb->labels,
                    s->stale ? " (stale)" : "");
        }
        if (!s)
            fprintf(out, "%s: %s\n", cur->paths[i], cur->errors[i] ? cur->errors[i] : "unreadable");
    }
    if (!procs)
        fprintf(out, "(no seqcast process publishes counters here: run one with "
                     "--set stats.shm=on)\n");
}

/* ----------------------------------------------------------- Prometheus */

struct sample {
    char family[112];
    const char *help;
    char kind;
    int snap;
    uint32_t block, counter;
};

static int
cmp_sample(const void *a, const void *b)
{
    const struct sample *x = a, *y = b;
    int c = strcmp(x->family, y->family);

    if (c)
        return c;
    if (x->snap != y->snap)
        return x->snap - y->snap;
    return x->block < y->block ? -1 : x->block > y->block;
}

static void
proc_labels(FILE *out, const struct sc_shmstat_snap *s)
{
    fputs("program=\"", out);
    for (const char *p = s->program; *p; p++)
        fputc(*p == '"' || *p == '\\' ? '_' : *p, out);
    fprintf(out, "\",pid=\"%d\",name=\"", s->pid);
    for (const char *p = s->name; *p; p++)
        fputc(*p == '"' || *p == '\\' ? '_' : *p, out);
    fputc('"', out);
}

static void
help_text(FILE *out, const char *h)
{
    for (; *h; h++)
        if (*h == '\\')
            fputs("\\\\", out);
        else if (*h == '\n')
            fputs("\\n", out);
        else
            fputc(*h, out);
}

void
sc_stat_prometheus(FILE *out, const struct sc_stat_set *set)
{
    struct sample *v = NULL;
    size_t n = 0, cap = 0;

    fputs("# HELP seqcast_up 1 for every seqcast process publishing counters\n"
          "# TYPE seqcast_up gauge\n", out);
    for (int i = 0; i < set->n; i++)
        if (set->snap[i]) {
            fputs("seqcast_up{", out);
            proc_labels(out, set->snap[i]);
            fprintf(out, "} %d\n", set->snap[i]->stale ? 0 : 1);
        }
    fputs("# HELP seqcast_last_update_age_seconds since the process last published its counters"
          "\n# TYPE seqcast_last_update_age_seconds gauge\n", out);
    for (int i = 0; i < set->n; i++)
        if (set->snap[i]) {
            fputs("seqcast_last_update_age_seconds{", out);
            proc_labels(out, set->snap[i]);
            fprintf(out, "} %.3f\n", age_s(set->snap[i]));
        }
    fputs("# HELP seqcast_loss_log_events_total events written to the process's loss log "
          "(losses, repairs, NAKs unanswered, sources up and down)\n"
          "# TYPE seqcast_loss_log_events_total counter\n", out);
    for (int i = 0; i < set->n; i++)
        if (set->snap[i]) {
            fputs("seqcast_loss_log_events_total{", out);
            proc_labels(out, set->snap[i]);
            fprintf(out, "} %llu\n", (unsigned long long)set->snap[i]->loss_total);
        }
    fputs("# HELP seqcast_loss_log_repairs_unlogged_total repair events over the loss log's "
          "budget (loss_log / 16 a second): counted, not logged\n"
          "# TYPE seqcast_loss_log_repairs_unlogged_total counter\n", out);
    for (int i = 0; i < set->n; i++)
        if (set->snap[i]) {
            fputs("seqcast_loss_log_repairs_unlogged_total{", out);
            proc_labels(out, set->snap[i]);
            fprintf(out, "} %llu\n", (unsigned long long)set->snap[i]->repairs_unlogged);
        }
    for (int i = 0; i < set->n; i++) {
        const struct sc_shmstat_snap *s = set->snap[i];
        for (uint32_t b = 0; s && b < s->nblocks; b++)
            for (uint32_t k = 0; !s->blocks[b].vacant && k < s->blocks[b].n; k++) {
                const struct sc_shmstat_counter *c = &s->blocks[b].c[k];
                const char *sn = sc_shmstat_set_name(s->blocks[b].set);
                if (n == cap) {
                    struct sample *nv = realloc(v, (cap = cap ? cap * 2 : 256) * sizeof(*v));
                    if (!nv) {
                        free(v);
                        return;
                    }
                    v = nv;
                }
                snprintf(v[n].family, sizeof(v[n].family), "seqcast_%s_%s%s", sn ? sn : "x",
                         c->name, c->kind == 'c' ? "_total" : "");
                v[n].help = c->help;
                v[n].kind = c->kind;
                v[n].snap = i;
                v[n].block = b;
                v[n].counter = k;
                n++;
            }
    }
    if (n)
        qsort(v, n, sizeof(*v), cmp_sample);
    for (size_t j = 0; j < n; j++) {
        const struct sc_shmstat_snap *s = set->snap[v[j].snap];
        const struct sc_shmstat_rblock *rb = &s->blocks[v[j].block];
        const struct sc_shmstat_counter *c = &rb->c[v[j].counter];
        if (!j || strcmp(v[j].family, v[j - 1].family)) {
            fprintf(out, "# HELP %s ", v[j].family);
            help_text(out, c->help);
            fprintf(out, " (%s)\n# TYPE %s %s\n", c->unit, v[j].family,
                    c->kind == 'c' ? "counter" : "gauge");
        }
        fprintf(out, "%s{", v[j].family);
        proc_labels(out, s);
        labels_out(out, rb->labels, true);
        fprintf(out, "} %llu\n", (unsigned long long)c->value);
    }
    free(v);
}

int
sc_stat_listen(const char *addr_port, char *why, size_t len)
{
    char host[64];
    const char *colon = strrchr(addr_port, ':');
    struct sockaddr_in sa = { .sin_family = AF_INET };
    char *end;
    unsigned long port;
    int fd, one = 1;

    if (!colon || (size_t)(colon - addr_port) >= sizeof(host)) {
        snprintf(why, len, "%s: expected ADDR:PORT", addr_port);
        return -EINVAL;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - addr_port), addr_port);
    port = strtoul(colon + 1, &end, 10);
    if (*end || !colon[1] || port > 65535 ||
        (host[0] && inet_pton(AF_INET, host, &sa.sin_addr) != 1)) {
        snprintf(why, len, "%s: expected ADDR:PORT (an IPv4 address, a port)", addr_port);
        return -EINVAL;
    }
    sa.sin_port = htons((uint16_t)port);
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
        int e = errno;
        snprintf(why, len, "%s: %s", addr_port, strerror(e));
        if (fd >= 0)
            close(fd);
        return -e;
    }
    return fd;
}

static void
send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* One connection: read the request head (8 KiB, 2 s at most), answer, close. */
static void
serve_one(int c, const char *dir)
{
    char req[8192], *body = NULL, head[256];
    size_t got = 0, blen = 0;
    struct pollfd p = { c, POLLIN, 0 };
    uint64_t end = sc_clock_now() + 2000000000ull;
    FILE *m;

    while (got < sizeof(req) - 1) {
        uint64_t now = sc_clock_now();
        ssize_t r;
        if (now >= end || poll(&p, 1, (int)((end - now) / 1000000 + 1)) <= 0)
            return;
        if ((r = recv(c, req + got, sizeof(req) - 1 - got, 0)) <= 0)
            return;
        got += (size_t)r;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
            break;
    }
    if (strncmp(req, "GET ", 4)) {
        snprintf(head, sizeof(head), "HTTP/1.0 405 Method Not Allowed\r\nContent-Length: 0\r\n"
                                     "Connection: close\r\n\r\n");
        send_all(c, head, strlen(head));
        return;
    }
    if (!(m = open_memstream(&body, &blen)))
        return;
    if (!strncmp(req + 4, "/metrics", 8) && (req[12] == ' ' || req[12] == '?')) {
        struct sc_stat_set set;
        if (sc_stat_read(&set, dir, 0) == 0) {
            sc_stat_prometheus(m, &set);
            sc_stat_free(&set);
        }
        fclose(m);
        snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\nContent-Type: text/plain; "
                                     "version=0.0.4; charset=utf-8\r\nContent-Length: %zu\r\n"
                                     "Connection: close\r\n\r\n", blen);
    } else {
        fputs("seqcast-stat: the metrics are at /metrics\n", m);
        fclose(m);
        snprintf(head, sizeof(head), "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n"
                                     "Content-Length: %zu\r\nConnection: close\r\n\r\n", blen);
    }
    send_all(c, head, strlen(head));
    send_all(c, body, blen);
    free(body);
}

int
sc_stat_serve(int fd, const char *dir, volatile const int *stop)
{
    while (!*stop) {
        struct pollfd p = { fd, POLLIN, 0 };
        int c;
        if (poll(&p, 1, 200) <= 0)
            continue;
        if ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
            continue;
        serve_one(c, dir);
        close(c);
    }
    return 0;
}
