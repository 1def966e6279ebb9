/* Config: every example loads; each error class gives its message at the right
 * line:column; defaults are what docs/CONFIG.md says; profiles, --set, and
 * print -> load round trips. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <seqcast/config.h>

#include "config/config_int.h"

static struct sc_config cfg;

static int
load(const char *yaml, struct sc_err *err)
{
    memset(err, 0, sizeof(*err));
    return sc_config_load_string(&cfg, "t.yaml", yaml, strlen(yaml), err);
}

Test(config, every_example_loads)
{
    glob_t g;
    struct sc_err err;

    cr_assert_eq(glob("examples/*.yaml", 0, NULL, &g), 0, "run from the repository root");
    cr_assert_geq(g.gl_pathc, 4);
    for (size_t i = 0; i < g.gl_pathc; i++)
        cr_assert_eq(sc_config_load_file(&cfg, g.gl_pathv[i], &err), 0, "%s", err.msg);
    globfree(&g);

    cr_assert_eq(sc_config_load_file(&cfg, "examples/netns.yaml", &err), 0, "%s", err.msg);
    cr_assert_eq(cfg.nchannels, 2);
    cr_assert_str_eq(cfg.channels[0].profile, "lab");
    cr_assert_eq(cfg.channels[0].nak.backoff_ns, 100000, "profile lab sets 100us");
    cr_assert_eq(cfg.channels[0].nak.ncf_retries, 10, "lab inherits lan's retries");
    cr_assert_eq(cfg.channels[0].rcvbuf, 16u << 20);
    cr_assert_eq(cfg.channels[1].framing, SC_FRAMING_RAW);
    cr_assert_eq(cfg.channels[0].loop, false);
    cr_assert_eq(cfg.nsessions, 1);
    cr_assert_eq(cfg.sessions[0].nusers, 2);
    cr_assert_str_eq(cfg.sessions[0].users[1].name, "DESK2");
    cr_assert_str_eq(cfg.sessions[0].login.name, "DESK1");
    cr_assert_eq(cfg.sessions[0].fsync, SC_FSYNC_MESSAGE);

    cr_assert_eq(sc_config_load_file(&cfg, "examples/dpdk-af_packet.yaml", &err), 0);
    cr_assert_eq(cfg.channels[0].transport, SC_TRANSPORT_DPDK);
    cr_assert(cfg.dpdk.no_huge);
    cr_assert(strstr(cfg.dpdk.device, "net_af_packet0") != NULL);
}

struct err_case {
    const char *yaml;
    const char *msg; /* the whole message must contain this, position included */
};

static const struct err_case err_cases[] = {
    /* unknown key, with a suggestion */
    { "channels:\n  - name: a\n    nak:\n      backof: 50us\n",
      "t.yaml:4:7: channels[0].nak.backof: unknown key (did you mean 'backoff'?)" },
    { "chanels: []\n", "t.yaml:1:1: chanels: unknown key (did you mean 'channels'?)" },
    { "channels:\n  - name: a\n    nakk: {backoff: 1ms}\n",
      "t.yaml:3:5: channels[0].nakk: unknown key (did you mean 'nak'?)" },
    { "nak: {backoff: 1ms}\n", "t.yaml:1:1: nak: unknown key: channel settings go inside" },
    /* bad values, each naming the value and what was expected */
    { "channels:\n  - name: a\n    nak: { backoff: 50 }\n",
      "t.yaml:3:21: channels[0].nak.backoff: bad value '50': expected a duration with a unit" },
    { "channels:\n  - name: a\n    group: 10.0.0.1\n",
      "t.yaml:3:12: channels[0].group: bad value '10.0.0.1': expected a multicast group" },
    { "channels:\n  - name: a\n    interface: 239.1.1.1\n",
      "t.yaml:3:16: channels[0].interface: bad value '239.1.1.1': expected a unicast address" },
    { "channels:\n  - name: a\n    framing: batch\n",
      "t.yaml:3:14: channels[0].framing: bad value 'batch': expected one of: batched raw" },
    { "channels:\n  - name: a\n    port: 70000\n",
      "t.yaml:3:11: channels[0].port: bad value '70000': out of range: expected 1 to 65535" },
    { "channels:\n  - name: a\n    nak: {backoff: 20s}\n",
      "channels[0].nak.backoff: bad value '20s': out of range: expected 1us to 10s" },
    { "channels:\n  - name: a\n    loop: maybe\n",
      "t.yaml:3:11: channels[0].loop: bad value 'maybe': expected true or false" },
    { "channels:\n  - name: a\n    rtx: {rate: 100M}\n",
      "channels[0].rtx.rate: bad value '100M': expected a rate in bits per second" },
    { "channels:\n  - name: a\n    rcvbuf: 8 furlongs\n",
      "channels[0].rcvbuf: bad value '8 furlongs': expected a size in bytes" },
    { "sessions:\n  - name: s\n    listen: tcp:1.2.3.4\n",
      "t.yaml:3:13: sessions[0].listen: bad value 'tcp:1.2.3.4': expected tcp:HOST:PORT" },
    { "sessions:\n  - name: s\n    users: [ {name: TOOLONGUSER, password: x} ]\n",
      "sessions[0].users[0].name: bad value 'TOOLONGUSER': too long: at most 6 characters" },
    { "version: 2\n", "t.yaml:1:10: version: bad value '2': expected 1" },
    { "channels:\n  - name: a\n    source_allow: [10.0.0.0/8, 10.1.2.3/8]\n",
      "t.yaml:3:32: channels[0].source_allow: bad value '10.1.2.3/8': host bits set after the /8 "
      "prefix: did you mean 10.0.0.0/8?" },
    { "channels:\n  - name: a\n    source_allow: [10.0.0.0/33]\n",
      "t.yaml:3:20: channels[0].source_allow: bad value '10.0.0.0/33': expected an IPv4 address "
      "or prefix, e.g. 10.1.2.3 or 198.18.0.0/15" },
    { "channels:\n  - name: a\n    source_allow: [host.example]\n",
      "channels[0].source_allow: bad value 'host.example': expected an IPv4 address or prefix" },
    { "channels:\n  - name: a\n    source_allow: [239.1.1.1]\n",
      "channels[0].source_allow: bad value '239.1.1.1': expected a unicast address or prefix" },
    { "channels:\n  - name: a\n    source_allow: 10.0.0.0/8\n",
      "channels[0].source_allow: expected a list, found a value" },
    { "channels:\n  - name: a\n    nak_port: 0\n",
      "channels[0].nak_port: bad value '0': out of range: expected 1 to 65535, or auto" },
    { "channels:\n  - name: a\n    max_sources: 0\n",
      "channels[0].max_sources: bad value '0': out of range: expected 1 to 4096" },
    /* structure */
    { "channels:\n  name: a\n", "t.yaml:2:3: channels: expected a list, found a mapping" },
    { "channels:\n  - name: a\n    nak: 5ms\n",
      "t.yaml:3:10: channels[0].nak: expected a mapping, found a value" },
    { "channels:\n  - name: a\n    spm: {heartbeat: 1ms}\n",
      "channels[0].spm.heartbeat: expected a list, found a value" },
    { "channels:\n  - name: a\n    ttl: 1\n    ttl: 2\n",
      "t.yaml:4:5: channels[0].ttl: duplicate key" },
    { "channels:\n  - group: 239.1.1.1\n", "t.yaml:2:5: channels[0]: a channel needs a name" },
    { "channels:\n  - name: a\n  - name: a\n",
      "t.yaml:3:11: channels[1].name: bad value 'a': another channel has this name" },
    { "channels: [ name: a\n", "YAML syntax error" },
    /* profiles */
    { "channels:\n  - name: a\n    profile: wna\n",
      "t.yaml:3:14: channels[0].profile: bad value 'wna': unknown profile" },
    { "profiles:\n  lan: {ttl: 3}\n", "t.yaml:2:3: profiles.lan: 'lan' is a built-in profile" },
    { "profiles:\n  p: {base: nope}\n", "profiles.p.base: bad value 'nope': unknown profile" },
    /* cross-field */
    { "channels:\n  - name: a\n    spm: {ambient: 10s}\n    source_timeout: 5s\n",
      "t.yaml:2:5: channels[0].source_timeout: must be longer than spm.ambient" },
    { "channels:\n  - name: a\n    group_b: 10.0.0.1\n",
      "t.yaml:3:14: channels[0].group_b: bad value '10.0.0.1': expected a multicast group" },
    { "channels:\n  - name: a\n    group: 239.1.1.1\n    group_b: 239.1.1.1\n",
      "channels[0].group_b: the B line must be a different group from `group`" },
    { "channels:\n  - name: a\n    transport: dpdk\n    group_b: 239.1.1.2\n",
      "channels[0].group_b: A/B lines are supported on the kernel UDP transport only" },
    { "sessions:\n  - name: s\n    heartbeat: 20s\n",
      "sessions[0].timeout: must be longer than heartbeat" },
    { "sessions:\n  - name: a_very_long_name\n",
      "sessions[0].session_id: the name 'a_very_long_name' cannot be a SoupBinTCP session id" },
    /* MoldUDP64 */
    { "channels:\n  - name: a\n    protocol: mold\n",
      "t.yaml:3:15: channels[0].protocol: bad value 'mold': expected one of: pgm moldudp64" },
    { "channels:\n  - name: a\n    protocol: moldudp64\n    framing: raw\n",
      "t.yaml:2:5: channels[0].framing: protocol: moldudp64 sends MoldUDP64 blocks: framing must "
      "be batched" },
    { "channels:\n  - name: a\n    mold: {session: ABCDEFGHIJK}\n",
      "t.yaml:3:21: channels[0].mold.session: bad value 'ABCDEFGHIJK': too long: at most 10 "
      "characters" },
    { "channels:\n  - name: a\n    mold: {session: 'AB CD'}\n",
      "channels[0].mold.session: bad value 'AB CD': expected printable ASCII without spaces" },
    { "channels:\n  - name: a\n    protocol: moldudp64\n    mold: {response_bytes: 1453}\n",
      "channels[0].mold.response_bytes: 1453 bytes do not fit one packet: at most 1452 at mtu "
      "1500" },
    { "channels:\n  - name: a\n    mold: {response_bytes: 10}\n",
      "channels[0].mold.response_bytes: bad value '10': out of range: expected 64 to 65507, or "
      "auto" },
    { "channels:\n  - name: a\n    protocol: moldudp64\n    mold: {request_max: 100, "
      "request_count: 101}\n",
      "channels[0].mold.request_count: must not exceed mold.request_max (100)" },
    { "channels:\n  - name: a\n    mold: {request_max: 65535}\n",
      "channels[0].mold.request_max: bad value '65535': out of range: expected 1 to 65534" },
    { "channels:\n  - name: a\n    mold: {request_count: 0}\n",
      "channels[0].mold.request_count: bad value '0': out of range: expected 1 to 65534" },
    { "channels:\n  - name: a\n    mold: {heartbeat: 0}\n",
      "channels[0].mold.heartbeat: bad value '0': out of range: expected 1ms to" },
    { "channels:\n  - name: a\n    mold: {response: broadcast}\n",
      "channels[0].mold.response: bad value 'broadcast': expected one of: unicast multicast" },
    { "channels:\n  - name: a\n    late_join: first\n",
      "t.yaml:2:5: channels[0].late_join: `first` is for protocol: moldudp64" },
    { "channels:\n  - name: a\n    protocol: moldudp64\n    mold: {heartbeat: 10s}\n",
      "channels[0].source_timeout: must be longer than mold.heartbeat" },
    { "channels:\n  - name: a\n    mold: {request_servers: [10.1.2.3]}\n",
      "channels[0].mold.request_servers: bad value '10.1.2.3': expected ADDR:PORT, e.g. "
      "10.1.2.3:3056 (port 1-65535)" },
    { "channels:\n  - name: a\n    mold: {request_servers: [10.1.2.3:0]}\n",
      "channels[0].mold.request_servers: bad value '10.1.2.3:0': expected ADDR:PORT" },
    { "channels:\n  - name: a\n    mold: {request_servers: [host:3056]}\n",
      "channels[0].mold.request_servers: bad value 'host:3056': expected ADDR:PORT" },
    { "channels:\n  - name: a\n    mold: {request_servers: [239.1.1.1:3056]}\n",
      "channels[0].mold.request_servers: bad value '239.1.1.1:3056': expected a unicast "
      "address" },
    { "channels:\n  - name: a\n    mold: {request_allow: [10.1.2.3/8]}\n",
      "channels[0].mold.request_allow: bad value '10.1.2.3/8': host bits set" },
    { "channels:\n  - name: a\n    mold: {request_servers: [1.1.1.1:1, 1.1.1.1:2, 1.1.1.1:3, "
      "1.1.1.1:4, 1.1.1.1:5, 1.1.1.1:6, 1.1.1.1:7, 1.1.1.1:8, 1.1.1.1:9]}\n",
      "channels[0].mold.request_servers: bad value '1.1.1.1:9': too many entries: at most 8" },
};

Test(config, each_error_class_names_position_key_value_and_expectation)
{
    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        struct sc_err err;
        int rc = load(err_cases[i].yaml, &err);
        cr_assert_lt(rc, 0, "case %zu was accepted:\n%s", i, err_cases[i].yaml);
        cr_assert(strstr(err.msg, err_cases[i].msg) != NULL, "case %zu:\n got: %s\nwant: %s", i,
                  err.msg, err_cases[i].msg);
    }
}

Test(config, the_b_line_is_optional)
{
    struct sc_err err;
    char a[INET_ADDRSTRLEN];

    cr_assert_eq(load("channels:\n  - name: a\n    group_b: none\n", &err), 0, "%s", err.msg);
    cr_assert_eq(cfg.channels[0].group_b.s_addr, 0);
    cr_assert_eq(load("channels:\n  - name: a\n    group_b: 239.192.0.2\n", &err), 0, "%s",
                 err.msg);
    inet_ntop(AF_INET, &cfg.channels[0].group_b, a, sizeof(a));
    cr_assert_str_eq(a, "239.192.0.2");
    cr_assert_eq(load("channels:\n  - name: a\n", &err), 0, "%s", err.msg);
    cr_assert_eq(cfg.channels[0].group_b.s_addr, 0, "a B line by default");
}

Test(config, missing_file)
{
    struct sc_err err;
    cr_assert_lt(sc_config_load_file(&cfg, "no/such/file.yaml", &err), 0);
    cr_assert(strstr(err.msg, "no/such/file.yaml: cannot open") != NULL, "%s", err.msg);
}

/* docs/CONFIG.md holds the generated reference table; every row must match. */
Test(config, defaults_are_what_config_md_says)
{
    char *ref = NULL, *doc, *line, *save = NULL;
    size_t reflen = 0, rows = 0;
    FILE *m = open_memstream(&ref, &reflen), *f = fopen("docs/CONFIG.md", "r");
    long n;

    cr_assert_not_null(f, "docs/CONFIG.md missing");
    sc_config_print_reference(m);
    fclose(m);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    doc = calloc(1, (size_t)n + 1);
    cr_assert_eq(fread(doc, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    for (line = strtok_r(ref, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char needle[1024];
        if (strncmp(line, "| `", 3) != 0)
            continue;
        snprintf(needle, sizeof(needle), "\n%s\n", line);
        cr_assert(strstr(doc, needle) != NULL,
                  "docs/CONFIG.md disagrees with the code on:\n%s\n(regenerate with "
                  "seqcast-config --reference)", line);
        rows++;
    }
    cr_assert_geq(rows, 50);
    free(ref);
    free(doc);
}

Test(config, builtin_defaults)
{
    const struct sc_channel_cfg *c;

    sc_config_init(&cfg);
    cr_assert_eq(cfg.nchannels, 1);
    c = &cfg.channels[0];
    cr_assert_str_eq(c->name, "default");
    cr_assert_eq(c->interface.s_addr, htonl(0x7F000001), "loopback: nothing leaves the machine");
    cr_assert_eq(c->group.s_addr, htonl(0xEFC00001));
    cr_assert_eq(c->ttl, 1);
    cr_assert_eq(c->nak.backoff_ns, 50000, "LAN back-off in tens of microseconds");
    cr_assert_eq(c->spm.heartbeat_ns[0], 100000);
    cr_assert_eq(c->nak_port, 0, "nak_port: auto");
    cr_assert_eq(c->max_sources, 16);
    cr_assert_eq(c->nsource_allow, 0, "packets from any address");
    cr_assert_eq(sc_config_validate(&cfg, NULL), 0);
}

/* sc_config_validate on a configuration a program built: a name repeated by
 * the very next channel (not only the first), a session whose timeout only
 * equals its heartbeat. */
Test(config, validate_refuses_what_a_program_builds_wrong)
{
    struct sc_err err;

    sc_config_init(&cfg);
    cfg.channels[1] = cfg.channels[0];
    snprintf(cfg.channels[1].name, sizeof(cfg.channels[1].name), "b");
    cfg.channels[2] = cfg.channels[1];
    cfg.nchannels = 3;
    cr_assert_eq(sc_config_validate(&cfg, &err), -EINVAL);
    cr_assert(strstr(err.msg, "channels.b.name: duplicate channel name") != NULL, "%s", err.msg);
    snprintf(cfg.channels[2].name, sizeof(cfg.channels[2].name), "c");
    cr_assert_eq(sc_config_validate(&cfg, NULL), 0);

    sc_cfg_session_defaults(&cfg.sessions[0]);
    snprintf(cfg.sessions[0].name, sizeof(cfg.sessions[0].name), "s");
    cfg.nsessions = 1;
    cr_assert_eq(sc_config_validate(&cfg, NULL), 0);
    cfg.sessions[0].timeout_ns = cfg.sessions[0].heartbeat_ns;
    cr_assert_eq(sc_config_validate(&cfg, &err), -EINVAL);
    cr_assert(strstr(err.msg, "sessions.s.timeout: must be longer than heartbeat") != NULL, "%s",
              err.msg);
    cfg.sessions[0].timeout_ns = cfg.sessions[0].heartbeat_ns + 1;
    cr_assert_eq(sc_config_validate(&cfg, NULL), 0);
}

Test(config, source_allow_and_nak_port_auto)
{
    struct sc_err err;
    char a[INET_ADDRSTRLEN];
    const struct sc_channel_cfg *c = &cfg.channels[0];

    cr_assert_eq(load("channels:\n  - name: a\n    nak_port: auto\n    source_allow: "
                      "[198.18.0.0/15, 10.1.2.3, 0.0.0.0/0]\n", &err), 0, "%s", err.msg);
    cr_assert_eq(c->nak_port, 0);
    cr_assert_eq(c->nsource_allow, 3);
    inet_ntop(AF_INET, &c->source_allow[0].addr, a, sizeof(a));
    cr_assert_str_eq(a, "198.18.0.0");
    cr_assert_eq(c->source_allow[0].prefix, 15);
    inet_ntop(AF_INET, &c->source_allow[1].addr, a, sizeof(a));
    cr_assert_str_eq(a, "10.1.2.3");
    cr_assert_eq(c->source_allow[1].prefix, 32);
    cr_assert_eq(c->source_allow[2].prefix, 0);
    cr_assert_eq(sc_config_set(&cfg, "nak_port=3056", &err), 0, "%s", err.msg);
    cr_assert_eq(c->nak_port, 3056);
    cr_assert_eq(sc_config_set(&cfg, "nak_port=auto", &err), 0, "%s", err.msg);
    cr_assert_eq(c->nak_port, 0);
    cr_assert_eq(sc_config_set(&cfg, "source_allow=10.0.0.0/8", &err), 0, "%s", err.msg);
    cr_assert_eq(c->nsource_allow, 1);
    cr_assert_eq(sc_config_set(&cfg, "source_allow=", &err), 0, "%s", err.msg);
    cr_assert_eq(c->nsource_allow, 0, "an empty --set clears the list");
    cr_assert_lt(sc_config_set(&cfg, "source_allow=10.0.0.1/24", &err), 0);
    cr_assert(strstr(err.msg, "did you mean 10.0.0.0/24?"), "%s", err.msg);
}

Test(config, profiles_apply_in_order)
{
    struct sc_err err;
    const char *y = "profile: mine\n"
                    "profiles:\n"
                    "  mine: { base: wan, ttl: 4 }\n"
                    "  fast: { base: mine, nak: { backoff: 10us } }\n"
                    "channels:\n"
                    "  - name: a\n"
                    "  - name: b\n"
                    "    profile: fast\n"
                    "    ttl: 9\n"
                    "  - name: c\n"
                    "    profile: lan\n";

    cr_assert_eq(load(y, &err), 0, "%s", err.msg);
    cr_assert_eq(cfg.channels[0].ttl, 4);
    cr_assert_eq(cfg.channels[0].nak.backoff_ns, 50000000, "mine is based on wan");
    cr_assert_str_eq(cfg.channels[0].profile, "mine");
    cr_assert_eq(cfg.channels[1].ttl, 9, "a channel's own keys win");
    cr_assert_eq(cfg.channels[1].nak.backoff_ns, 10000);
    cr_assert_eq(cfg.channels[1].spm.ambient_ns, 30000000000ull, "fast <- mine <- wan");
    cr_assert_eq(cfg.channels[2].nak.backoff_ns, 50000);
    cr_assert_eq(cfg.channels[2].ttl, 1);
}

Test(config, set_overrides)
{
    struct sc_err err;

    cr_assert_eq(sc_config_load_file(&cfg, "examples/netns.yaml", &err), 0, "%s", err.msg);
    cr_assert_eq(sc_config_set(&cfg, "nak.backoff=75us", &err), 0, "%s", err.msg);
    cr_assert_eq(cfg.channels[0].nak.backoff_ns, 75000);
    cr_assert_eq(cfg.channels[1].nak.backoff_ns, 75000, "a bare key sets every channel");
    cr_assert_eq(sc_config_set(&cfg, "channels.feed-b.ttl=7", &err), 0, "%s", err.msg);
    cr_assert_eq(cfg.channels[1].ttl, 7);
    cr_assert_eq(cfg.channels[0].ttl, 1);
    cr_assert_eq(sc_config_set(&cfg, "spm.heartbeat=1ms, 2ms,4ms", &err), 0, "%s", err.msg);
    cr_assert_eq(cfg.channels[0].spm.nheartbeat, 3);
    cr_assert_eq(cfg.channels[0].spm.heartbeat_ns[2], 4000000);
    cr_assert_eq(sc_config_set(&cfg, "dpdk.eal_args=--log-level=8,-l,0", &err), 0, "%s", err.msg);
    cr_assert_eq(cfg.dpdk.neal_args, 3);
    cr_assert_str_eq(cfg.dpdk.eal_args[1], "-l");
    cr_assert_eq(sc_config_set(&cfg, "sessions.gw1.timeout=30s", &err), 0, "%s", err.msg);
    cr_assert_eq(cfg.sessions[0].timeout_ns, 30000000000ull);
    cr_assert_eq(sc_config_set(&cfg, "profile=wan", &err), 0, "%s", err.msg);
    cr_assert_eq(cfg.channels[0].nak.backoff_ns, 50000000);
    cr_assert_eq(cfg.channels[0].group.s_addr, htonl(0xEFC61201), "identity survives a profile");

    cr_assert_lt(sc_config_set(&cfg, "nak.backof=1ms", &err), 0);
    cr_assert(strstr(err.msg, "did you mean 'nak.backoff'") != NULL, "%s", err.msg);
    cr_assert_lt(sc_config_set(&cfg, "channels.nope.ttl=1", &err), 0);
    cr_assert(strstr(err.msg, "no channel named 'nope'") != NULL, "%s", err.msg);
    cr_assert_lt(sc_config_set(&cfg, "ttl", &err), 0);
    cr_assert(strstr(err.msg, "expected KEY=VALUE") != NULL, "%s", err.msg);
    cr_assert_lt(sc_config_set(&cfg, "source_timeout=1ms", &err), 0, "cross-field check");
    cr_assert_lt(sc_config_set(&cfg, "profile=space", &err), 0);
}

/* The MoldUDP64 keys: defaults per profile, YAML, --set (lists, late_join first),
 * the checks run by --set too, and print -> load. */
Test(config, moldudp64_keys)
{
    static struct sc_config a;
    const struct sc_channel_cfg *c = &cfg.channels[0];
    struct sc_err err;
    char *text = NULL, s[INET_ADDRSTRLEN];
    size_t len = 0;
    FILE *m;

    sc_config_init(&cfg);
    cr_assert_eq(c->protocol, SC_PROTOCOL_PGM, "PGM unless asked");
    cr_assert_eq(c->mold.heartbeat_ns, 100000000ull, "lan: 100 ms");
    cr_assert_eq(c->mold.eos_time_ns, 1000000000ull);
    cr_assert_eq(c->mold.request_max, 65534);
    cr_assert_eq(c->mold.request_count, 1000);
    cr_assert_eq(c->mold.response_bytes, 0, "auto");
    cr_assert_eq(c->mold.response, SC_MOLD_RESPONSE_UNICAST);
    cr_assert_eq(c->mold.session[0], '\0');
    cr_assert_eq(c->mold.nrequest_servers + c->mold.nrequest_allow, 0);
    cr_assert_eq(sc_config_set(&cfg, "profile=wan", &err), 0, "%s", err.msg);
    cr_assert_eq(c->mold.heartbeat_ns, 1000000000ull, "wan: NASDAQ's second");
    cr_assert_eq(c->mold.eos_time_ns, 10000000000ull);

    cr_assert_eq(load("channels:\n  - name: a\n    protocol: moldudp64\n    late_join: first\n"
                      "    mold:\n      session: NQTV01\n      heartbeat: 250ms\n"
                      "      eos_time: 0\n      response: multicast\n      request_max: 4000\n"
                      "      response_bytes: 1000\n      request_allow: [198.18.0.0/15]\n"
                      "      request_servers: [198.18.0.1:3056, 198.18.0.2:4000]\n"
                      "      request_count: 500\n", &err), 0, "%s", err.msg);
    cr_assert_eq(c->protocol, SC_PROTOCOL_MOLDUDP64);
    cr_assert_eq(c->late_join, SC_LATE_JOIN_FIRST);
    cr_assert_str_eq(c->mold.session, "NQTV01");
    cr_assert_eq(c->mold.heartbeat_ns, 250000000ull);
    cr_assert_eq(c->mold.eos_time_ns, 0);
    cr_assert_eq(c->mold.response, SC_MOLD_RESPONSE_MULTICAST);
    cr_assert_eq(c->mold.request_max, 4000);
    cr_assert_eq(c->mold.response_bytes, 1000);
    cr_assert_eq(c->mold.nrequest_allow, 1);
    cr_assert_eq(c->mold.request_allow[0].prefix, 15);
    cr_assert_eq(c->mold.nrequest_servers, 2);
    inet_ntop(AF_INET, &c->mold.request_servers[1].addr, s, sizeof(s));
    cr_assert_str_eq(s, "198.18.0.2");
    cr_assert_eq(c->mold.request_servers[1].port, 4000);
    cr_assert_eq(c->mold.request_count, 500);
    /* profiles keep what names the feed */
    cr_assert_eq(sc_config_set(&cfg, "profile=lan", &err), 0, "%s", err.msg);
    cr_assert_eq(c->protocol, SC_PROTOCOL_MOLDUDP64);
    cr_assert_str_eq(c->mold.session, "NQTV01");
    cr_assert_eq(c->mold.nrequest_servers, 2);
    cr_assert_eq(c->mold.heartbeat_ns, 100000000ull, "a profile's timer");
    cr_assert_eq(c->mold.request_count, 1000);

    /* --set: lists, the auto value, and the cross-field checks */
    cr_assert_eq(sc_config_set(&cfg, "mold.request_servers=10.0.0.1:1, 10.0.0.2:2", &err), 0,
                 "%s", err.msg);
    cr_assert_eq(c->mold.nrequest_servers, 2);
    cr_assert_eq(c->mold.request_servers[0].port, 1);
    cr_assert_eq(sc_config_set(&cfg, "mold.request_servers=", &err), 0, "%s", err.msg);
    cr_assert_eq(c->mold.nrequest_servers, 0, "an empty --set clears the list: auto");
    cr_assert_eq(sc_config_set(&cfg, "mold.response_bytes=auto", &err), 0, "%s", err.msg);
    cr_assert_eq(c->mold.response_bytes, 0);
    cr_assert_lt(sc_config_set(&cfg, "framing=raw", &err), 0);
    cr_assert(strstr(err.msg, "channels.a.framing: protocol: moldudp64 sends MoldUDP64 blocks"),
              "%s", err.msg);
    cr_assert_eq(sc_config_set(&cfg, "framing=batched", &err), 0, "%s", err.msg);
    cr_assert_eq(sc_config_set(&cfg, "mtu=9000", &err), 0, "%s", err.msg);
    cr_assert_eq(sc_config_set(&cfg, "mold.response_bytes=8952", &err), 0, "%s", err.msg);
    cr_assert_lt(sc_config_set(&cfg, "mold.response_bytes=8953", &err), 0);
    cr_assert(strstr(err.msg, "mold.response_bytes: 8953 bytes do not fit one packet: at most "
                              "8952 at mtu 9000"), "%s", err.msg);
    cr_assert_eq(sc_config_set(&cfg, "mold.response_bytes=auto", &err), 0, "%s", err.msg);
    cr_assert_eq(sc_config_set(&cfg, "mold.request_max=4000", &err), 0, "%s", err.msg);
    cr_assert_lt(sc_config_set(&cfg, "mold.request_count=4001", &err), 0, "over request_max");
    cr_assert_eq(sc_config_set(&cfg, "mold.request_count=1000", &err), 0, "%s", err.msg);
    cr_assert_eq(sc_config_set(&cfg, "mold.request_max=65534", &err), 0, "%s", err.msg);
    cr_assert_eq(sc_config_set(&cfg, "mold.request_count=65534", &err), 0, "%s", err.msg);

    /* print -> load */
    cr_assert_eq(sc_config_set(&cfg, "mold.request_servers=10.0.0.1:1,10.0.0.2:2", &err), 0,
                 "%s", err.msg);
    a = cfg;
    m = open_memstream(&text, &len);
    sc_config_print(&a, m);
    fclose(m);
    cr_assert_eq(sc_config_load_string(&cfg, "printed", text, len, &err), 0, "%s\n%s", err.msg,
                 text);
    {
        size_t nk;
        const struct sc_cfg_key *k = sc_cfg_keys(SC_SEC_CHANNEL, &nk);
        for (size_t i = 0; i < nk; i++) {
            static char vx[SC_CFG_FORMAT_MAX], vy[SC_CFG_FORMAT_MAX];
            if (!strcmp(k[i].name, "profile"))
                continue;
            sc_cfg_format(&k[i], &a.channels[0], vx, sizeof(vx));
            sc_cfg_format(&k[i], &cfg.channels[0], vy, sizeof(vy));
            cr_assert_str_eq(vx, vy, "%s differs after round trip", k[i].name);
        }
    }
    cr_assert(strstr(text, "request_servers: [10.0.0.1:1, 10.0.0.2:2]"), "%s", text);
    free(text);

    /* the example deployment */
    cr_assert_eq(sc_config_load_file(&cfg, "examples/moldudp64.yaml", &err), 0, "%s", err.msg);
    cr_assert_eq(c->protocol, SC_PROTOCOL_MOLDUDP64);
    cr_assert_str_eq(c->mold.session, "ITCHDEMO01");
    cr_assert_eq(c->mold.heartbeat_ns, 1000000000ull, "wan");
}

/* sc_config_print writes YAML that loads back to the same values, key by key. */
Test(config, print_load_round_trip)
{
    static struct sc_config a;
    struct sc_err err;
    char *text = NULL;
    size_t len = 0;
    FILE *m;

    cr_assert_eq(sc_config_load_file(&a, "examples/netns.yaml", &err), 0, "%s", err.msg);
    cr_assert_eq(sc_config_set(&a, "dpdk.eal_args=-l,0,--x=\"q\\\\u\"", &err), 0, "%s", err.msg);
    cr_assert_eq(sc_config_set(&a, "dpdk.device=net_pcap0,rx_pcap=/tmp/a\\b\"c\td", &err), 0,
                 "%s", err.msg);
    cr_assert_eq(sc_config_set(&a, "source_allow=198.18.0.0/15,10.1.2.3", &err), 0, "%s",
                 err.msg);
    m = open_memstream(&text, &len);
    sc_config_print(&a, m);
    fclose(m);
    cr_assert_eq(sc_config_load_string(&cfg, "printed", text, len, &err), 0, "%s\n%s", err.msg,
                 text);
    cr_assert_eq(cfg.nchannels, a.nchannels);
    for (enum sc_cfg_section sec = SC_SEC_CHANNEL; sec <= SC_SEC_SESSION; sec++) {
        size_t nk;
        const struct sc_cfg_key *k = sc_cfg_keys(sec, &nk);
        uint32_t nobj = sec == SC_SEC_CHANNEL ? a.nchannels : sec == SC_SEC_DPDK ? 1 : a.nsessions;
        for (uint32_t o = 0; o < nobj; o++) {
            const void *x = sec == SC_SEC_CHANNEL ? (void *)&a.channels[o]
                            : sec == SC_SEC_DPDK  ? (void *)&a.dpdk : (void *)&a.sessions[o];
            const void *y = sec == SC_SEC_CHANNEL ? (void *)&cfg.channels[o]
                            : sec == SC_SEC_DPDK  ? (void *)&cfg.dpdk : (void *)&cfg.sessions[o];
            for (size_t i = 0; i < nk; i++) {
                static char vx[SC_CFG_FORMAT_MAX], vy[SC_CFG_FORMAT_MAX];
                if (!strcmp(k[i].name, "profile"))
                    continue;
                sc_cfg_format(&k[i], x, vx, sizeof(vx));
                sc_cfg_format(&k[i], y, vy, sizeof(vy));
                cr_assert_str_eq(vx, vy, "%s differs after round trip", k[i].name);
            }
        }
    }
    cr_assert_eq(cfg.sessions[0].nusers, 2);
    cr_assert_str_eq(cfg.sessions[0].users[1].password, "pw2");
    free(text);
}

/* The value parsers the programs share with the keys: sizes with or without
 * a unit (K, M, G binary as command lines write them), durations only with
 * one (or 0), and what is not one refused. */
Test(config, sizes_and_durations_parse_as_the_keys_take_them)
{
    uint64_t v;

    cr_assert_eq(sc_config_parse_size("65536", &v), 0);
    cr_assert_eq(v, 65536);
    cr_assert_eq(sc_config_parse_size("64KiB", &v), 0);
    cr_assert_eq(v, 65536);
    cr_assert_eq(sc_config_parse_size("64K", &v), 0);
    cr_assert_eq(v, 65536);
    cr_assert_eq(sc_config_parse_size("8M", &v), 0);
    cr_assert_eq(v, 8u << 20);
    cr_assert_eq(sc_config_parse_size("2G", &v), 0);
    cr_assert_eq(v, 2ull << 30);
    cr_assert_eq(sc_config_parse_size("1MB", &v), 0);
    cr_assert_eq(v, 1000000);
    cr_assert_eq(sc_config_parse_size("12X", &v), -EINVAL);
    cr_assert_eq(sc_config_parse_size("M", &v), -EINVAL);
    cr_assert_eq(sc_config_parse_size("99999999999999999999", &v), -ERANGE);
    cr_assert_eq(sc_config_parse_duration("250us", &v), 0);
    cr_assert_eq(v, 250000);
    cr_assert_eq(sc_config_parse_duration("90m", &v), 0);
    cr_assert_eq(v, 90ull * 60 * 1000000000);
    cr_assert_eq(sc_config_parse_duration("2h", &v), 0);
    cr_assert_eq(v, 7200ull * 1000000000);
    cr_assert_eq(sc_config_parse_duration("7d", &v), 0);
    cr_assert_eq(v, 7ull * 86400 * 1000000000);
    cr_assert_eq(sc_config_parse_duration("0", &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(sc_config_parse_duration("50", &v), -EINVAL, "a bare number is no duration");
    cr_assert_eq(sc_config_parse_duration("5x", &v), -EINVAL);
}

/* stats: the live-counter keys, from YAML and --set, with their defaults */
Test(config, stats_section)
{
    struct sc_err err;

    sc_config_init(&cfg);
    cr_assert_not(cfg.stats.shm);
    cr_assert_eq(cfg.stats.shm_interval_ns, 100000000);
    cr_assert_eq(cfg.stats.loss_log, 256);
    cr_assert_eq(load("stats: { shm: on, shm_dir: /tmp/x, shm_interval: 250ms, loss_log: 32 }\n",
                      &err), 0, "%s", err.msg);
    cr_assert(cfg.stats.shm);
    cr_assert_str_eq(cfg.stats.shm_dir, "/tmp/x");
    cr_assert_eq(cfg.stats.shm_interval_ns, 250000000);
    cr_assert_eq(cfg.stats.loss_log, 32);
    cr_assert_eq(sc_config_set(&cfg, "stats.shm=off", &err), 0, "%s", err.msg);
    cr_assert_not(cfg.stats.shm);
    cr_assert_lt(sc_config_set(&cfg, "stats.loss_log=0", &err), 0);
    cr_assert_lt(load("stats: { shmm: on }\n", &err), 0);
    cr_assert(strstr(err.msg, "shm") != NULL, "%s", err.msg);
}

/* archive: the channels seqcast-archive records -- each entry's keys, its
 * defaults, and errors naming the entry, the key and the line: a channel that
 * is not one, a channel or directory twice, re-requests on a PGM channel, a
 * rewind session that is not one or without a rewind; the print round trip;
 * and recovery's login. */
Test(config, archive_section)
{
    static const char chans[] =
        "channels:\n"
        "  - { name: feed, protocol: moldudp64, mold: { session: FEED }, recovery: { rewind: "
        "[10.0.0.9:26600], user: DESK1, password: pw1 } }\n"
        "  - { name: pg, group: 239.1.1.9 }\n"
        "sessions:\n"
        "  - { name: rw, listen: unix:/unused, users: [{ name: DESK1, password: pw1 }] }\n";
    static const struct err_case bad[] = {
        { "archive:\n  - { channel: nope, dir: /a }\n",
          "t.yaml:7:5: archive[0].channel: bad value 'nope': no channel so named" },
        { "archive:\n  - { channel: feed }\n", "t.yaml:7:5: archive[0].dir: an archive needs" },
        { "archive:\n  - { channel: pg, dir: /a, serve: [1.2.3.4:5] }\n",
          "archive[0].serve: re-requests are MoldUDP64's" },
        { "archive:\n  - { channel: feed, dir: /a }\n  - { channel: feed, dir: /b }\n",
          "t.yaml:8:5: archive[1].channel: 'feed' is recorded by archive[0] already" },
        { "archive:\n  - { channel: feed, dir: /a }\n  - { channel: pg, dir: /a }\n",
          "archive[1].dir: '/a' is archive[0]'s" },
        { "archive:\n  - { channel: feed, dir: /a, rewind: 'tcp:1.2.3.4:5', rewind_session: x }\n",
          "archive[0].rewind_session: bad value 'x': no session so named" },
        { "archive:\n  - { channel: feed, dir: /a, rewind_session: rw }\n",
          "archive[0].rewind_session: without rewind" },
        { "archive:\n  - { channel: feed, dir: /a, fsync: sometimes }\n", "archive[0].fsync" },
        { "archive:\n  - { chanel: feed }\n", "did you mean 'channel'" },
        { "archive: { channel: feed }\n", "archive" },
    };
    static struct sc_config a;
    static char y[2048];
    struct sc_err err;
    char *text = NULL;
    size_t len = 0;
    FILE *m;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(y, sizeof(y), "%s%s", chans, bad[i].yaml);
        cr_assert_lt(load(y, &err), 0, "accepted: %s", bad[i].yaml);
        cr_assert(strstr(err.msg, bad[i].msg), "%s\nwanted: %s", err.msg, bad[i].msg);
    }
    snprintf(y, sizeof(y), "%sarchive:\n"
             "  - { channel: feed, dir: /a/feed, serve: [127.0.0.1:26500], rewind: "
             "'tcp:127.0.0.1:26600', rewind_session: rw, retain_age: 7d, fsync: message }\n"
             "  - { channel: pg, dir: /a/pg, segment_size: 1MiB }\n", chans);
    cr_assert_eq(load(y, &err), 0, "%s", err.msg);
    cr_assert_eq(cfg.narchives, 2);
    cr_assert_str_eq(cfg.archives[0].rewind_session, "rw");
    cr_assert_eq(cfg.archives[0].nserve, 1);
    cr_assert_eq(cfg.archives[0].serve[0].port, 26500);
    cr_assert_eq(cfg.archives[0].retain_age_ns, 7ull * 86400 * 1000000000);
    cr_assert_eq(cfg.archives[0].fsync, SC_FSYNC_MESSAGE);
    cr_assert_eq(cfg.archives[1].segment_bytes, 1u << 20);
    cr_assert_eq(cfg.archives[1].index_bytes, 4096, "the default");
    cr_assert_eq(cfg.archives[1].fsync, SC_FSYNC_BATCH, "the default");
    cr_assert_eq(cfg.archives[1].nserve, 0);
    cr_assert_str_eq(cfg.channels[0].recovery.user, "DESK1");
    cr_assert_str_eq(cfg.channels[0].recovery.password, "pw1");
    a = cfg;
    m = open_memstream(&text, &len);
    sc_config_print(&a, m);
    fclose(m);
    cr_assert_eq(sc_config_load_string(&cfg, "printed", text, len, &err), 0, "%s\n%s", err.msg,
                 text);
    cr_assert_eq(cfg.narchives, 2);
    for (uint32_t o = 0; o < 2; o++) {
        size_t nk;
        const struct sc_cfg_key *k = sc_cfg_keys(SC_SEC_ARCHIVE, &nk);
        for (size_t i = 0; i < nk; i++) {
            static char vx[SC_CFG_FORMAT_MAX], vy[SC_CFG_FORMAT_MAX];
            sc_cfg_format(&k[i], &a.archives[o], vx, sizeof(vx));
            sc_cfg_format(&k[i], &cfg.archives[o], vy, sizeof(vy));
            cr_assert_str_eq(vx, vy, "archive[%u].%s differs after round trip", o, k[i].name);
        }
    }
    cr_assert_str_eq(cfg.channels[0].recovery.password, "pw1");
    free(text);
}

/* Recovery follows one source, as an archive records one: recovery.rewind on
 * a channel that may follow several is refused, and how to fix it is said. */
Test(config, recovery_needs_one_source)
{
    struct sc_err err;

    cr_assert_lt(load("channels:\n  - { name: a, recovery: { rewind: [10.0.0.9:1] } }\n", &err), 0);
    cr_assert(strstr(err.msg, "recovery.rewind: an archive records one source: set "
                              "max_sources: 1, so"), "%s", err.msg);
    cr_assert_lt(load("channels:\n  - { name: a, protocol: moldudp64, recovery: { rewind: "
                      "[10.0.0.9:1] } }\n", &err), 0);
    cr_assert(strstr(err.msg, "max_sources: 1 (or mold.session)"), "%s", err.msg);
    cr_assert_eq(load("channels:\n  - { name: a, max_sources: 1, recovery: { rewind: "
                      "[10.0.0.9:1] } }\n", &err), 0, "%s", err.msg);
    cr_assert_eq(load("channels:\n  - { name: a, protocol: moldudp64, mold: { session: S }, "
                      "recovery: { rewind: [10.0.0.9:1] } }\n", &err), 0, "%s", err.msg);
    sc_config_init(&cfg);
    cr_assert_lt(sc_config_set(&cfg, "recovery.rewind=10.0.0.9:1", &err), 0);
    cr_assert_eq(sc_config_set(&cfg, "max_sources=1", &err), 0, "%s", err.msg);
    cr_assert_eq(sc_config_set(&cfg, "recovery.rewind=10.0.0.9:1", &err), 0, "%s", err.msg);
}

/* recovery.request_servers: MoldUDP64 re-request servers, several; a PGM
 * channel is told its second line is recovery.rewind. */
Test(config, recovery_request_servers)
{
    struct sc_err err;

    cr_assert_eq(load("channels:\n  - { name: a, protocol: moldudp64, recovery: { "
                      "request_servers: [10.0.0.9:7001, 10.0.0.10:7001] } }\n", &err), 0, "%s",
                 err.msg);
    cr_assert_eq(cfg.channels[0].recovery.nrequest_servers, 2);
    cr_assert_eq(cfg.channels[0].recovery.request_servers[1].port, 7001);
    cr_assert_eq(cfg.channels[0].mold.nrequest_servers, 0, "the first line stays the publisher");
    cr_assert_lt(load("channels:\n  - { name: a, recovery: { request_servers: [10.0.0.9:7001] } }\n",
                      &err), 0);
    cr_assert(strstr(err.msg, "recovery.request_servers: re-requests are MoldUDP64's"), "%s",
              err.msg);
}
