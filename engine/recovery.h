/* A subscriber's recovery from archives (recovery.rewind; late_join: archive),
 * between the subscriber's in-order delivery and the application's callbacks.
 *
 * The subscriber delivers to it; it passes messages through while nothing is
 * missing. A loss event of the recovered source (the first source heard)
 * with a known end is not passed on: a rewind (engine/rewind.c) is started
 * from its first sequence, and from then on live messages are held -- a
 * contiguous run, started again at the newest when recovery.hold is full or
 * the live stream has another gap -- while the rewind delivers. When the
 * rewind reaches the first message held, the hold is delivered and the rewind
 * stopped (Aeron's ReplayMerge: replay to the live stream's buffered position,
 * then switch), so the application sees each sequence once, in order. A
 * range every archive lacks becomes a loss event, reason not_in_archive; so
 * does what a recovery that delivers nothing for recovery.timeout still waits
 * for. late_join: archive starts the same way at the first live message, from
 * recovery.from (its SOURCE_UP is passed on as SC_JOIN_ARCHIVE, first_packet
 * recovery.from: no gap for the application to take the late join for). Other sources, and losses with no known end, pass through. */
#ifndef SC_ENGINE_RECOVERY_H
#define SC_ENGINE_RECOVERY_H

#include <seqcast/config.h>
#include <seqcast/err.h>
#include <seqcast/sub.h>

struct sc_recovery;

/* @return 0 or -errno (err filled). *wrapped: the callbacks the subscriber
 * calls instead of app's. */
int sc_recovery_create(struct sc_recovery **out, const struct sc_channel_cfg *ch,
                       const struct sc_sub_callbacks *app, struct sc_sub_callbacks *wrapped,
                       struct sc_err *err);
/* Run the rewind, if one runs; called first in each of the subscriber's do_work
 * (its now is the callbacks'). */
int sc_recovery_do_work(struct sc_recovery *r, uint64_t now_ns);
uint64_t sc_recovery_deadline(const struct sc_recovery *r, uint64_t now_ns);
/* the rewind's fd while one runs, else -1 */
int sc_recovery_fd(const struct sc_recovery *r);
/* its counters into st (msgs_delivered: what the application got) */
void sc_recovery_stats(const struct sc_recovery *r, struct sc_sub_stats *st);
void sc_recovery_destroy(struct sc_recovery *r);

#endif
