/* seqcast: set-up error reports.
 *
 * Set-up calls (config loading, create functions) return 0 or a negative errno
 * and, when the caller passes a struct sc_err, fill it with the code and a
 * complete human-readable message. Hot-path calls never format messages.
 */
#ifndef SEQCAST_ERR_H
#define SEQCAST_ERR_H

#define SC_ERR_MSG_MAX 256

struct sc_err {
    int code;                 /* negative errno, 0 when no error */
    char msg[SC_ERR_MSG_MAX]; /* e.g. "feed.yaml:12:7: channels[0].nak.backoff: ..." */
};

#endif
