/* The IPC log's reader (engine/ipc.c) on hostile files.
 *
 * The input is used twice:
 *   - as a whole file: sc_ipc_check_header either refuses it or says what a
 *     reader then trusts (geometry inside the file, sizes within bounds);
 *   - as the words and ring of a log whose fixed header is valid: the first
 *     byte picks late_join, the next 24 are tail, head and next_seq, the rest
 *     is copied into the ring at offset 0 and again at its end (records that
 *     meet the wrap). A reader follows it for a bounded number of do_work
 *     calls: whatever the bytes, every message it delivers is numbered one
 *     past the one before (or past a loss event), lies inside the reader's
 *     buffer, and it never crashes or loops; a loss record's event carries
 *     a known reason and an ordered range.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ipc.h"
#include "tests/fuzz/fuzz.h"

#define LOG (64u << 10)

struct seen {
    uint64_t next; /* 0: nothing yet */
    uint64_t msgs, events, sum;
    bool down;
    const struct sc_sub_stats *st;
    uint64_t upstream; /* st->ipc_upstream_losses when last seen */
};

static void
on_msg(void *ctx, const struct sc_source *src, uint64_t seq, const void *msg, size_t len)
{
    struct seen *s = ctx;

    (void)src;
    FUZZ_CHECK(!s->down);
    FUZZ_CHECK(len <= SC_IPC_MAX_MSG);
    FUZZ_CHECK(seq != 0 && (s->next == 0 || seq == s->next));
    for (size_t i = 0; i < len; i++) /* every byte readable (ASan: inside the buffer) */
        s->sum += ((const uint8_t *)msg)[i];
    s->next = seq + 1;
    s->msgs++;
}

static void
on_event(void *ctx, const struct sc_sub_event *ev)
{
    struct seen *s = ctx;

    s->events++;
    if (ev->type == SC_EV_LOSS && s->st->ipc_upstream_losses != s->upstream) {
        /* a loss record: the upstream numbers, the local ones go on */
        s->upstream = s->st->ipc_upstream_losses;
        FUZZ_CHECK(ev->loss.reason >= SC_LOSS_RETRIES && ev->loss.reason <= SC_LOSS_NOT_IN_ARCHIVE);
        FUZZ_CHECK(ev->loss.first <= ev->loss.last);
        FUZZ_CHECK(s->next == 0 || ev->src != NULL);
        /* the upstream source's name: printable, JSON as it is, bounded */
        for (size_t i = 0; ev->loss.upstream && i < 24 && ev->loss.upstream[i]; i++)
            FUZZ_CHECK(ev->loss.upstream[i] > ' ' && ev->loss.upstream[i] < 0x7f &&
                       ev->loss.upstream[i] != '"' && ev->loss.upstream[i] != '\\');
        FUZZ_CHECK(!ev->loss.upstream || memchr(ev->loss.upstream, 0, 24));
    } else if (ev->type == SC_EV_LOSS) {
        FUZZ_CHECK(ev->loss.reason == SC_LOSS_NOT_IN_WINDOW);
        FUZZ_CHECK(ev->loss.upstream == NULL);
        FUZZ_CHECK(ev->loss.first <= ev->loss.last);
        FUZZ_CHECK(s->next == 0 || ev->loss.first == s->next);
        s->next = ev->loss.last + 1;
    } else if (ev->type == SC_EV_SOURCE_UP) {
        if (ev->up.join != SC_JOIN_RESUMED)
            s->next = ev->up.first_packet;
    } else if (ev->type == SC_EV_SOURCE_DOWN) {
        s->down = ev->down.reason == SC_DOWN_BAD_LOG || ev->down.reason == SC_DOWN_FIN;
    }
}

static void
valid_header(struct sc_ipc_hdr *h)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, SC_IPC_MAGIC, 8);
    h->version = SC_IPC_VERSION;
    h->hdr_size = SC_IPC_HDR_SIZE;
    h->log_size = LOG;
    h->file_size = SC_IPC_HDR_SIZE + LOG;
    h->max_msg = 4096;
    h->epoch = 0x1234;
    memcpy(h->channel, "fuzz", 5);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t file[SC_IPC_HDR_SIZE + LOG] __attribute__((aligned(64)));
    struct sc_ipc_hdr *h = (struct sc_ipc_hdr *)file;
    struct sc_channel_cfg ch;
    struct sc_ipc_info info;
    struct sc_sub_stats st;
    struct seen s = { 0 };
    struct sc_sub_callbacks cb = { on_msg, on_event, &s };
    struct sc_ipc_reader *r;
    uint64_t w[3];
    size_t body;
    char why[200];

    /* 1. the input as a whole file */
    memset(file, 0, sizeof(file));
    memcpy(file, data, size < sizeof(file) ? size : sizeof(file));
    if (sc_ipc_check_header(file, size, &info, why, sizeof(why)) == 0) {
        FUZZ_CHECK(info.file_size <= size);
        FUZZ_CHECK(info.log_size >= SC_IPC_MIN_LOG && !(info.log_size & (info.log_size - 1)));
        FUZZ_CHECK(info.max_msg <= SC_IPC_MAX_MSG && info.max_msg <= info.log_size / 4);
    } else {
        FUZZ_CHECK(why[0] != '\0');
    }

    /* 2. a valid header over hostile words and records */
    if (size < 25)
        return 0;
    memset(file, 0, sizeof(file));
    valid_header(h);
    h->hdr_check = sc_ipc_hdr_check(h);
    memcpy(w, data + 1, sizeof(w));
    body = size - 25 < LOG ? size - 25 : LOG;
    memcpy(file + SC_IPC_HDR_SIZE, data + 25, body);
    if (body > 64) /* the same bytes before the ring's end: records meeting the wrap */
        memcpy(file + SC_IPC_HDR_SIZE + LOG - 64, data + 25, 64);
    atomic_store(&h->tail, w[0]);
    atomic_store(&h->head, w[1]);
    atomic_store(&h->next_seq, w[2]);
    atomic_store(&h->gen, w[0] * 2);
    atomic_store(&h->heartbeat_ns, 1);
    atomic_store(&h->closed, data[0] >> 7);

    memset(&ch, 0, sizeof(ch));
    memcpy(ch.name, "fuzz", 5);
    ch.late_join = data[0] & 1 ? SC_LATE_JOIN_WINDOW : SC_LATE_JOIN_LIVE;
    ch.source_timeout_ns = 1000000000;
    memset(&st, 0, sizeof(st));
    s.st = &st;
    FUZZ_CHECK(sc_ipcr_create_mem(&r, &ch, file, sizeof(file), &cb, &st, NULL) == 0);
    for (int i = 0; i < 64; i++) { /* bounded: each call returns */
        sc_ipcr_do_work(r, 2);
        (void)sc_ipcr_deadline(r, 2);
    }
    FUZZ_CHECK(st.msgs_delivered == s.msgs);
    FUZZ_CHECK(s.msgs <= LOG / SC_IPC_REC_HDR * 64 + 1);
    sc_ipcr_destroy(r);
    return 0;
}
