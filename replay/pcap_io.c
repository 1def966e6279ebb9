#include "replay/pcap_io.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sc_pcapw {
    pcap_t *dead;
    pcap_dumper_t *dump;
    int failed;
};

struct sc_pcapw *
sc_pcapw_open(const char *path, int linktype, struct sc_err *err)
{
    struct sc_pcapw *w = calloc(1, sizeof(*w));

    if (!w)
        goto out_nomem;
    w->dead = pcap_open_dead_with_tstamp_precision(linktype, 65535, PCAP_TSTAMP_PRECISION_NANO);
    if (!w->dead)
        goto out_free;
    w->dump = pcap_dump_open(w->dead, path);
    if (!w->dump) {
        if (err) {
            err->code = -EIO;
            snprintf(err->msg, sizeof(err->msg), "%s: %s", path, pcap_geterr(w->dead));
        }
        pcap_close(w->dead);
        free(w);
        return NULL;
    }
    return w;

out_free:
    free(w);
out_nomem:
    if (err) {
        err->code = -ENOMEM;
        snprintf(err->msg, sizeof(err->msg), "%s: out of memory", path);
    }
    return NULL;
}

int
sc_pcapw_write(struct sc_pcapw *w, uint64_t ts_ns, const void *frame, size_t len)
{
    struct pcap_pkthdr h;

    h.ts.tv_sec = (time_t)(ts_ns / 1000000000u);
    h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000u); /* nanoseconds in NANO precision */
    h.caplen = h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)w->dump, &h, frame);
    return 0;
}

int
sc_pcapw_close(struct sc_pcapw *w)
{
    int rc = 0;

    if (!w)
        return 0;
    if (pcap_dump_flush(w->dump) != 0)
        rc = -EIO;
    pcap_dump_close(w->dump);
    pcap_close(w->dead);
    free(w);
    return rc;
}
