/* Internal interface between config.c (schema, values, defaults, validation)
 * and yaml.c (the YAML walker). One key table per section drives YAML loading,
 * --set overrides, printing and the reference table in docs/CONFIG.md.
 */
#ifndef SC_CONFIG_INT_H
#define SC_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <seqcast/config.h>

enum sc_cfg_section {
    SC_SEC_CHANNEL = 0,
    SC_SEC_DPDK,
    SC_SEC_SESSION,
    SC_SEC_USER,
    SC_SEC_STATS,
    SC_SEC_ARCHIVE,
    SC_SEC_COUNT
};

struct sc_cfg_key;
struct sc_cfg_unit;

/* A value type: its handlers (config.c, nginx's ngx_conf_set_*_slot is the
 * model). parse reads one value into dst -- the field, or a list's next
 * element -- or fills why and returns -EINVAL; format writes one value as the
 * text that parses back to it. Lists, ranges and error framing are handled
 * once, around them (sc_cfg_parse, sc_cfg_format). */
struct sc_cfg_type {
    const char *ref; /* its name in the reference table of docs/CONFIG.md */
    bool list;       /* a list: elements of key->size at key->off, count at key->count_off */
    int (*parse)(const struct sc_cfg_key *k, const char *s, void *dst, char *why, size_t len);
    void (*format)(const struct sc_cfg_key *k, const void *src, char *buf, size_t len);
    const struct sc_cfg_unit *units; /* durations, sizes, rates */
    const char *expect;              /* their "expected ..." message */
};

extern const struct sc_cfg_type sc_cfg_vt_bool, sc_cfg_vt_uint, sc_cfg_vt_mode, sc_cfg_vt_duration,
    sc_cfg_vt_size, sc_cfg_vt_rate, sc_cfg_vt_ipv4, sc_cfg_vt_mcast, sc_cfg_vt_enum,
    sc_cfg_vt_str, sc_cfg_vt_alpha, sc_cfg_vt_endpoint, sc_cfg_vt_duration_list,
    sc_cfg_vt_str_list, sc_cfg_vt_cidr_list, sc_cfg_vt_addr_port_list;

#define SC_VT_BOOL (&sc_cfg_vt_bool)
#define SC_VT_UINT (&sc_cfg_vt_uint)         /* width from size: 1, 2, 4 bytes */
#define SC_VT_MODE (&sc_cfg_vt_mode)         /* uint32_t permission bits, octal */
#define SC_VT_DURATION (&sc_cfg_vt_duration) /* uint64_t ns; "50us", "2ms", "1.5s", "0" */
#define SC_VT_SIZE (&sc_cfg_vt_size)         /* uint64_t bytes; "8MiB", "64KiB", "1500" */
#define SC_VT_RATE (&sc_cfg_vt_rate)         /* uint64_t bit/s; "100Mbit", "0" = unlimited */
#define SC_VT_IPV4 (&sc_cfg_vt_ipv4)         /* struct in_addr; unicast */
#define SC_VT_MCAST (&sc_cfg_vt_mcast)       /* struct in_addr; multicast group */
#define SC_VT_ENUM (&sc_cfg_vt_enum)         /* unsigned enum, names in key->names */
#define SC_VT_STR (&sc_cfg_vt_str)           /* char[size] */
#define SC_VT_ALPHA (&sc_cfg_vt_alpha)       /* char[size]: printable ASCII, no spaces */
#define SC_VT_ENDPOINT (&sc_cfg_vt_endpoint) /* char[size]: "tcp:HOST:PORT" or "unix:/path" */
#define SC_VT_DURATION_LIST (&sc_cfg_vt_duration_list) /* uint64_t[max_items] */
#define SC_VT_STR_LIST (&sc_cfg_vt_str_list)           /* char[max_items][size] */
#define SC_VT_CIDR_LIST (&sc_cfg_vt_cidr_list) /* struct sc_cidr[]; "10.0.0.0/8", "10.1.2.3" */
#define SC_VT_ADDR_PORT_LIST (&sc_cfg_vt_addr_port_list) /* struct sc_addr_port[]; "10.1.2.3:3056" */

#define SC_KEY_IDENTITY 0x1 /* channel key that a profile never overrides */
#define SC_KEY_NONE_OK 0x2  /* address key: "none" (0.0.0.0) means unset */
#define SC_KEY_AUTO_OK 0x4  /* integer key: "auto" is 0 (chosen at run time) */

struct sc_cfg_key {
    const char *name; /* dotted path inside its section, e.g. "nak.backoff" */
    const struct sc_cfg_type *type;
    uint16_t off;       /* offset in the section struct */
    uint16_t size;      /* element size */
    uint16_t count_off; /* lists: offset of the uint32_t count */
    uint16_t max_items; /* lists: capacity */
    uint64_t min, max;  /* numeric range (durations, sizes, rates, uints) */
    const char *const *names; /* enums: names in value order, NULL-terminated */
    unsigned flags;
    const char *doc;
};

const struct sc_cfg_key *sc_cfg_keys(enum sc_cfg_section sec, size_t *n);
const struct sc_cfg_key *sc_cfg_key_find(enum sc_cfg_section sec, const char *name);

/* true when name is a strict prefix of some key ("nak" for "nak.backoff") */
bool sc_cfg_is_group(enum sc_cfg_section sec, const char *name);

/* Closest key or group name to a misspelt one, among those under the same
 * parent (prefix ends with '.' or is ""), or NULL when nothing is close. */
const char *sc_cfg_suggest(enum sc_cfg_section sec, const char *prefix, const char *bad,
                           char *buf, size_t len);

/* Closest of a NULL-terminated list of words. */
const char *sc_cfg_suggest_word(const char *const *words, const char *bad);

/* Parse a scalar value into base + key->off. Lists: append one element.
 * On error fill why ("expected a duration such as 50us or 2ms") and return -EINVAL. */
int sc_cfg_parse(const struct sc_cfg_key *k, const char *s, void *base, char *why, size_t len);
void sc_cfg_list_clear(const struct sc_cfg_key *k, void *base);
bool sc_cfg_is_list(const struct sc_cfg_key *k);

/* Canonical text of a value (what the parser reads back to the same value).
 * SC_CFG_FORMAT_MAX holds any value, escaped lists included. */
#define SC_CFG_FORMAT_MAX (SC_CFG_MAX_EAL_ARGS * (4 * SC_CFG_EAL_ARG_MAX + 8) + 16)
void sc_cfg_format(const struct sc_cfg_key *k, const void *base, char *buf, size_t len);

/* Profiles: built-in channel templates ("lan", "wan"). */
bool sc_cfg_profile_builtin(const char *name, struct sc_channel_cfg *out);
extern const char *const sc_cfg_profile_names[];

/* Copy a profile's values into ch; identity keys (name, group, ports,
 * addresses, transport, framing) are kept when keep_identity is set. */
void sc_cfg_apply_profile(struct sc_channel_cfg *ch, const struct sc_channel_cfg *tmpl,
                          bool keep_identity);

/* Section defaults */
void sc_cfg_session_defaults(struct sc_session_cfg *s);
void sc_cfg_archive_defaults(struct sc_archive_cfg *a);
/* archive[i]'s own checks and those against the channels and sessions (and
 * the archives before it). @return 0 or -EINVAL with path and msg. */
int sc_cfg_check_archive(const struct sc_config *cfg, uint32_t i, char *path, size_t plen,
                         char *msg, size_t mlen);

/* Per-section checks; msg gets the reason, path names the failing key. */
int sc_cfg_check_channel(const struct sc_channel_cfg *ch, char *path, size_t plen, char *msg,
                         size_t mlen);
int sc_cfg_check_session(const struct sc_session_cfg *s, char *path, size_t plen, char *msg,
                         size_t mlen);


#endif
