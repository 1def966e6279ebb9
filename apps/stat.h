/* seqcast-stat's work: what it prints from the counters files of running
 * processes (<seqcast/shmstat.h>) -- JSON, the loss log, the top-like view,
 * the Prometheus text exposition -- and the small HTTP server behind
 * --prometheus. apps/main_stat.c is its parse, run, report. */
#ifndef SC_APPS_STAT_H
#define SC_APPS_STAT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <seqcast/shmstat.h>

/* Every file of a directory, read (stale files removed first). */
struct sc_stat_set {
    int n;
    char **paths;                  /* from sc_shmstat_list */
    struct sc_shmstat_snap **snap; /* NULL where a file could not be read */
    char **errors;                 /* why, where snap is NULL */
    int removed;                   /* stale files removed */
    uint64_t mono_ns;              /* when it was read (CLOCK_MONOTONIC) */
};

/* Read dir's files (pid > 0: that process's alone). @return 0 or -errno. */
int sc_stat_read(struct sc_stat_set *set, const char *dir, int pid);
void sc_stat_free(struct sc_stat_set *set);

/* One JSON document: {"dir", "processes": [{program, pid, name, stale,
 * updated_ns, blocks: [{set, labels: {}, counters: {}}], loss_log_total,
 * loss: [...]}], "errors": [...]}. */
void sc_stat_json(FILE *out, const struct sc_stat_set *set, const char *dir);

/* The processes, one line each (--once without --json). */
void sc_stat_list(FILE *out, const struct sc_stat_set *set);

/* The loss logs, oldest first; json: one JSON object per line. */
void sc_stat_loss(FILE *out, const struct sc_stat_set *set, bool json);

/* The top-like screen: one line per block of every process, rates from prev
 * (NULL: none yet) to cur. */
void sc_stat_top(FILE *out, const struct sc_stat_set *cur, const struct sc_stat_set *prev,
                 const char *dir);

/* The Prometheus text exposition format (version 0.0.4): every counter as
 * seqcast_<set>_<name>[_total] with HELP and TYPE lines, labelled with the
 * program, pid, name and the block's labels; seqcast_up and
 * seqcast_last_update_age_seconds per process, seqcast_loss_log_events_total. */
void sc_stat_prometheus(FILE *out, const struct sc_stat_set *set);

/* Serve GET /metrics on a listening TCP socket until *stop: each scrape reads
 * dir afresh. @return 0, or -errno if the socket cannot be made. */
int sc_stat_listen(const char *addr_port, char *why, size_t len);
int sc_stat_serve(int fd, const char *dir, volatile const int *stop);

#endif
