/* YAML deployment files -> struct sc_config.
 *
 * libyaml loads the document tree (every node carries its line and column);
 * this file walks it, checks the structure (mappings, lists, known keys) and
 * hands each scalar to config.c's key table. Every error names
 * file:line:column, the key path, the bad value and what was expected; unknown
 * keys get a "did you mean" when a known key is close.
 *
 * Order of application inside the file does not depend on key order:
 * `profiles` first, then the top-level `profile`, then channels (each starting
 * from its profile), dpdk, sessions and stats.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/config_int.h"

#define MAX_PROFILES 16
#define MAX_FILE_SIZE (1u << 20)

struct profile {
    char name[SC_CFG_NAME_MAX];
    struct sc_channel_cfg tmpl;
};

struct walk {
    const char *file;
    yaml_document_t *doc;
    struct sc_config *cfg;
    struct sc_err *err;
    struct sc_channel_cfg top; /* template for channels without their own profile */
    unsigned nprofiles;
    struct profile profiles[MAX_PROFILES];
};

static int
fail(struct walk *w, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    int o;

    if (!w->err)
        return -EINVAL;
    w->err->code = -EINVAL;
    o = snprintf(w->err->msg, sizeof(w->err->msg), "%s:%zu:%zu: ", w->file,
                 n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1);
    if (o < 0 || (size_t)o >= sizeof(w->err->msg))
        return -EINVAL;
    va_start(ap, fmt);
    vsnprintf(w->err->msg + o, sizeof(w->err->msg) - (size_t)o, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static yaml_node_t *
node(struct walk *w, int id)
{
    return yaml_document_get_node(w->doc, id);
}

static const char *
scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static const char *
kind_name(const yaml_node_t *n)
{
    return n->type == YAML_MAPPING_NODE ? "a mapping" : n->type == YAML_SEQUENCE_NODE ? "a list"
                                                                                       : "a value";
}

static int
expect(struct walk *w, const yaml_node_t *n, yaml_node_type_t t, const char *path)
{
    static const char *const want[] = { [YAML_SCALAR_NODE] = "a value",
                                        [YAML_SEQUENCE_NODE] = "a list",
                                        [YAML_MAPPING_NODE] = "a mapping" };
    if (n->type == t)
        return 0;
    return fail(w, n, "%s: expected %s, found %s", path, want[t], kind_name(n));
}

/* Find key in a mapping; also rejects duplicate keys. */
static int
lookup(struct walk *w, yaml_node_t *map, const char *key, const char *path, yaml_node_t **val)
{
    *val = NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(w, p->key);
        if (k->type == YAML_SCALAR_NODE && !strcmp(scalar(k), key)) {
            if (*val)
                return fail(w, k, "%s%s%s: duplicate key", path, *path ? "." : "", key);
            *val = node(w, p->value);
        }
    }
    return 0;
}

static int
check_unique_keys(struct walk *w, yaml_node_t *map, const char *path)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(w, p->key);
        if (k->type != YAML_SCALAR_NODE)
            return fail(w, k, "%s: keys must be plain names", path);
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++)
            if (!strcmp(scalar(node(w, q->key)), scalar(k)))
                return fail(w, k, "%s%s%s: duplicate key", path, *path ? "." : "", scalar(k));
    }
    return 0;
}

static int
set_scalar(struct walk *w, const struct sc_cfg_key *k, yaml_node_t *v, void *obj,
           const char *path)
{
    char why[160];

    if (sc_cfg_parse(k, scalar(v), obj, why, sizeof(why)) < 0)
        return fail(w, v, "%s: bad value '%s': %s", path, scalar(v), why);
    return 0;
}

/* Apply the keys of a mapping to obj through the section's key table. Keys in
 * skip (NULL-terminated) are handled by the caller. */
static int
walk_keys(struct walk *w, enum sc_cfg_section sec, yaml_node_t *map, void *obj,
          const char *path, const char *prefix, const char *const *skip)
{
    int rc;

    if ((rc = expect(w, map, YAML_MAPPING_NODE, path)) < 0 ||
        (rc = check_unique_keys(w, map, path)) < 0)
        return rc;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(w, p->key), *v = node(w, p->value);
        const char *key = scalar(kn);
        char full[128], kpath[256], sug[64];
        const struct sc_cfg_key *k;
        bool skipped = false;

        for (const char *const *s = skip; s && *s; s++)
            skipped |= !strcmp(*s, key);
        if (skipped)
            continue;
        snprintf(full, sizeof(full), "%s%s", prefix, key);
        snprintf(kpath, sizeof(kpath), "%s%s%s", path, *path ? "." : "", key);
        k = sc_cfg_key_find(sec, full);
        if (!k) {
            const char *s;
            if (sc_cfg_is_group(sec, full)) {
                char sub[136];
                snprintf(sub, sizeof(sub), "%s.", full);
                if ((rc = walk_keys(w, sec, v, obj, kpath, sub, NULL)) < 0)
                    return rc;
                continue;
            }
            s = sc_cfg_suggest(sec, prefix, key, sug, sizeof(sug));
            if (!s && skip) /* the caller's own keys are candidates too */
                s = sc_cfg_suggest_word(skip, key);
            return fail(w, kn, "%s: unknown key%s%s%s", kpath, s ? " (did you mean '" : "",
                        s ? s : "", s ? "'?)" : "");
        }
        if (sc_cfg_is_list(k)) {
            if ((rc = expect(w, v, YAML_SEQUENCE_NODE, kpath)) < 0)
                return rc;
            sc_cfg_list_clear(k, obj);
            for (yaml_node_item_t *it = v->data.sequence.items.start;
                 it < v->data.sequence.items.top; it++) {
                yaml_node_t *e = node(w, *it);
                if ((rc = expect(w, e, YAML_SCALAR_NODE, kpath)) < 0 ||
                    (rc = set_scalar(w, k, e, obj, kpath)) < 0)
                    return rc;
            }
            continue;
        }
        if ((rc = expect(w, v, YAML_SCALAR_NODE, kpath)) < 0 ||
            (rc = set_scalar(w, k, v, obj, kpath)) < 0)
            return rc;
    }
    return 0;
}

static const struct sc_channel_cfg *
find_profile(struct walk *w, const char *name, struct sc_channel_cfg *scratch)
{
    for (unsigned i = 0; i < w->nprofiles; i++)
        if (!strcmp(w->profiles[i].name, name))
            return &w->profiles[i].tmpl;
    return sc_cfg_profile_builtin(name, scratch) ? scratch : NULL;
}

static int
unknown_profile(struct walk *w, yaml_node_t *v, const char *path)
{
    const char *words[MAX_PROFILES + 3], *s;
    unsigned n = 0;

    for (const char *const *b = sc_cfg_profile_names; *b; b++)
        words[n++] = *b;
    for (unsigned i = 0; i < w->nprofiles; i++)
        words[n++] = w->profiles[i].name;
    words[n] = NULL;
    s = sc_cfg_suggest_word(words, scalar(v));
    return fail(w, v, "%s: bad value '%s': unknown profile (expected lan, wan or a name under "
                      "profiles:)%s%s%s",
                path, scalar(v), s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
}

static int
walk_profiles(struct walk *w, yaml_node_t *map)
{
    static const char *const skip[] = { "base", NULL };
    int rc;

    if ((rc = expect(w, map, YAML_MAPPING_NODE, "profiles")) < 0 ||
        (rc = check_unique_keys(w, map, "profiles")) < 0)
        return rc;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(w, p->key), *v = node(w, p->value), *base, *pv;
        struct profile *pr;
        struct sc_channel_cfg scratch;
        const struct sc_channel_cfg *t;
        char path[96];

        snprintf(path, sizeof(path), "profiles.%s", scalar(kn));
        if (sc_cfg_profile_builtin(scalar(kn), &scratch))
            return fail(w, kn, "%s: '%s' is a built-in profile; choose another name", path,
                        scalar(kn));
        if (w->nprofiles == MAX_PROFILES)
            return fail(w, kn, "%s: too many profiles (at most %d)", path, MAX_PROFILES);
        if (strlen(scalar(kn)) >= SC_CFG_NAME_MAX)
            return fail(w, kn, "%s: name too long (at most %d characters)", path,
                        SC_CFG_NAME_MAX - 1);
        if ((rc = expect(w, v, YAML_MAPPING_NODE, path)) < 0 ||
            (rc = lookup(w, v, "base", path, &base)) < 0 ||
            (rc = lookup(w, v, "profile", path, &pv)) < 0)
            return rc;
        if (pv)
            return fail(w, pv, "%s.profile: a profile builds on another with base:, not profile:",
                        path);
        t = find_profile(w, "lan", &scratch);
        if (base) {
            char bpath[112];
            snprintf(bpath, sizeof(bpath), "%s.base", path);
            if ((rc = expect(w, base, YAML_SCALAR_NODE, bpath)) < 0)
                return rc;
            if (!(t = find_profile(w, scalar(base), &scratch)))
                return unknown_profile(w, base, bpath);
        }
        pr = &w->profiles[w->nprofiles];
        pr->tmpl = *t;
        if ((rc = walk_keys(w, SC_SEC_CHANNEL, v, &pr->tmpl, path, "", skip)) < 0)
            return rc;
        snprintf(pr->name, sizeof(pr->name), "%s", scalar(kn));
        memcpy(pr->tmpl.profile, pr->name, sizeof(pr->name));
        w->nprofiles++;
    }
    return 0;
}

static int
walk_channels(struct walk *w, yaml_node_t *seq)
{
    static const char *const skip[] = { "profile", NULL };
    int rc;

    if ((rc = expect(w, seq, YAML_SEQUENCE_NODE, "channels")) < 0)
        return rc;
    w->cfg->nchannels = 0;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *m = node(w, *it), *pv, *nv;
        uint32_t i = w->cfg->nchannels;
        struct sc_channel_cfg *ch = &w->cfg->channels[i], scratch;
        char path[32], kpath[64], msg[160];
        const struct sc_channel_cfg *t = &w->top;

        snprintf(path, sizeof(path), "channels[%u]", i);
        if (i == SC_CFG_MAX_CHANNELS)
            return fail(w, m, "%s: too many channels (at most %d)", path, SC_CFG_MAX_CHANNELS);
        if ((rc = expect(w, m, YAML_MAPPING_NODE, path)) < 0 ||
            (rc = lookup(w, m, "profile", path, &pv)) < 0 ||
            (rc = lookup(w, m, "name", path, &nv)) < 0)
            return rc;
        if (pv) {
            snprintf(kpath, sizeof(kpath), "%s.profile", path);
            if ((rc = expect(w, pv, YAML_SCALAR_NODE, kpath)) < 0)
                return rc;
            if (!(t = find_profile(w, scalar(pv), &scratch)))
                return unknown_profile(w, pv, kpath);
        }
        *ch = *t;
        ch->name[0] = '\0';
        if (!nv)
            return fail(w, m, "%s: a channel needs a name (name: ...)", path);
        if ((rc = walk_keys(w, SC_SEC_CHANNEL, m, ch, path, "", skip)) < 0)
            return rc;
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(w->cfg->channels[j].name, ch->name))
                return fail(w, nv, "%s.name: bad value '%s': another channel has this name", path,
                            ch->name);
        if (sc_cfg_check_channel(ch, kpath, sizeof(kpath), msg, sizeof(msg)) < 0)
            return fail(w, m, "%s.%s: %s", path, kpath, msg);
        w->cfg->nchannels++;
    }
    return 0;
}

static int
walk_users(struct walk *w, yaml_node_t *seq, struct sc_session_cfg *s, const char *spath)
{
    char path[96];
    int rc;

    snprintf(path, sizeof(path), "%s.users", spath);
    if ((rc = expect(w, seq, YAML_SEQUENCE_NODE, path)) < 0)
        return rc;
    s->nusers = 0;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *m = node(w, *it), *nv;
        struct sc_user_cfg *u = &s->users[s->nusers];
        char upath[112];

        snprintf(upath, sizeof(upath), "%s[%u]", path, s->nusers);
        if (s->nusers == SC_CFG_MAX_USERS)
            return fail(w, m, "%s: too many users (at most %d)", upath, SC_CFG_MAX_USERS);
        memset(u, 0, sizeof(*u));
        if ((rc = expect(w, m, YAML_MAPPING_NODE, upath)) < 0 ||
            (rc = lookup(w, m, "name", upath, &nv)) < 0)
            return rc;
        if (!nv)
            return fail(w, m, "%s: a user needs a name", upath);
        if ((rc = walk_keys(w, SC_SEC_USER, m, u, upath, "", NULL)) < 0)
            return rc;
        for (uint32_t j = 0; j < s->nusers; j++)
            if (!strcmp(s->users[j].name, u->name))
                return fail(w, nv, "%s.name: bad value '%s': duplicate user", upath, u->name);
        s->nusers++;
    }
    return 0;
}

static int
walk_sessions(struct walk *w, yaml_node_t *seq)
{
    static const char *const skip[] = { "users", NULL };
    int rc;

    if ((rc = expect(w, seq, YAML_SEQUENCE_NODE, "sessions")) < 0)
        return rc;
    w->cfg->nsessions = 0;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *m = node(w, *it), *uv, *nv;
        uint32_t i = w->cfg->nsessions;
        struct sc_session_cfg *s = &w->cfg->sessions[i];
        char path[32], kpath[64], msg[192];

        snprintf(path, sizeof(path), "sessions[%u]", i);
        if (i == SC_CFG_MAX_SESSIONS)
            return fail(w, m, "%s: too many sessions (at most %d)", path, SC_CFG_MAX_SESSIONS);
        sc_cfg_session_defaults(s);
        if ((rc = expect(w, m, YAML_MAPPING_NODE, path)) < 0 ||
            (rc = lookup(w, m, "users", path, &uv)) < 0 ||
            (rc = lookup(w, m, "name", path, &nv)) < 0)
            return rc;
        if (!nv)
            return fail(w, m, "%s: a session needs a name (name: ...)", path);
        if ((rc = walk_keys(w, SC_SEC_SESSION, m, s, path, "", skip)) < 0)
            return rc;
        if (uv && (rc = walk_users(w, uv, s, path)) < 0)
            return rc;
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(w->cfg->sessions[j].name, s->name))
                return fail(w, nv, "%s.name: bad value '%s': another session has this name", path,
                            s->name);
        if (sc_cfg_check_session(s, kpath, sizeof(kpath), msg, sizeof(msg)) < 0)
            return fail(w, m, "%s.%s: %s", path, kpath, msg);
        w->cfg->nsessions++;
    }
    return 0;
}

/* archive: the channels seqcast-archive records, each checked as it is read
 * (channels[] and sessions[] are read before it) */
static int
walk_archives(struct walk *w, yaml_node_t *seq)
{
    int rc;

    if ((rc = expect(w, seq, YAML_SEQUENCE_NODE, "archive")) < 0)
        return rc;
    w->cfg->narchives = 0;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *m = node(w, *it);
        uint32_t i = w->cfg->narchives;
        char path[32], kpath[32], msg[192];

        snprintf(path, sizeof(path), "archive[%u]", i);
        if (i == SC_CFG_MAX_ARCHIVES)
            return fail(w, m, "%s: too many archived channels (at most %d)", path,
                        SC_CFG_MAX_ARCHIVES);
        sc_cfg_archive_defaults(&w->cfg->archives[i]);
        if ((rc = walk_keys(w, SC_SEC_ARCHIVE, m, &w->cfg->archives[i], path, "", NULL)) < 0)
            return rc;
        if (sc_cfg_check_archive(w->cfg, i, kpath, sizeof(kpath), msg, sizeof(msg)) < 0)
            return fail(w, m, "%s.%s: %s", path, kpath, msg);
        w->cfg->narchives++;
    }
    return 0;
}

static const char *const top_keys[] = { "version", "profile", "profiles", "channels", "dpdk",
                                        "sessions", "stats", "archive", NULL };

static int
walk_top(struct walk *w, yaml_node_t *root)
{
    yaml_node_t *v;
    int rc;

    if (!root) /* empty file: the defaults */
        return 0;
    if (root->type == YAML_SCALAR_NODE && scalar(root)[0] == '\0')
        return 0;
    if ((rc = expect(w, root, YAML_MAPPING_NODE, "(top level)")) < 0 ||
        (rc = check_unique_keys(w, root, "")) < 0)
        return rc;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = node(w, p->key);
        bool known = false;
        for (const char *const *t = top_keys; *t; t++)
            known |= !strcmp(*t, scalar(k));
        if (!known) {
            const char *s = sc_cfg_suggest_word(top_keys, scalar(k));
            if (!s && (sc_cfg_key_find(SC_SEC_CHANNEL, scalar(k)) ||
                       sc_cfg_is_group(SC_SEC_CHANNEL, scalar(k))))
                return fail(w, k, "%s: unknown key: channel settings go inside a channel "
                                  "(channels: - name: ...) or a profile", scalar(k));
            return fail(w, k, "%s: unknown key%s%s%s (expected version, profile, profiles, "
                              "channels, dpdk, sessions, stats, archive)",
                        scalar(k), s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
        }
    }
    if ((rc = lookup(w, root, "version", "", &v)) < 0)
        return rc;
    if (v && (v->type != YAML_SCALAR_NODE || strcmp(scalar(v), "1") != 0))
        return fail(w, v, "version: bad value '%s': expected 1",
                    v->type == YAML_SCALAR_NODE ? scalar(v) : kind_name(v));
    if ((rc = lookup(w, root, "profiles", "", &v)) < 0 || (v && (rc = walk_profiles(w, v)) < 0))
        return rc;
    if ((rc = lookup(w, root, "profile", "", &v)) < 0)
        return rc;
    if (v) {
        const struct sc_channel_cfg *t;
        struct sc_channel_cfg scratch;
        if ((rc = expect(w, v, YAML_SCALAR_NODE, "profile")) < 0)
            return rc;
        if (!(t = find_profile(w, scalar(v), &scratch)))
            return unknown_profile(w, v, "profile");
        w->top = *t;
        /* the built-in default channel follows the file's profile too */
        sc_cfg_apply_profile(&w->cfg->channels[0], t, true);
        snprintf(w->cfg->channels[0].profile, SC_CFG_NAME_MAX, "%s", t->profile);
    }
    if ((rc = lookup(w, root, "channels", "", &v)) < 0 || (v && (rc = walk_channels(w, v)) < 0))
        return rc;
    if ((rc = lookup(w, root, "dpdk", "", &v)) < 0 ||
        (v && (rc = walk_keys(w, SC_SEC_DPDK, v, &w->cfg->dpdk, "dpdk", "", NULL)) < 0))
        return rc;
    if ((rc = lookup(w, root, "sessions", "", &v)) < 0 || (v && (rc = walk_sessions(w, v)) < 0))
        return rc;
    if ((rc = lookup(w, root, "stats", "", &v)) < 0 ||
        (v && (rc = walk_keys(w, SC_SEC_STATS, v, &w->cfg->stats, "stats", "", NULL)) < 0))
        return rc;
    if ((rc = lookup(w, root, "archive", "", &v)) < 0 || (v && (rc = walk_archives(w, v)) < 0))
        return rc;
    return 0;
}

int
sc_config_load_string(struct sc_config *cfg, const char *name, const char *text, size_t len,
                      struct sc_err *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct walk *w;
    int rc;

    sc_config_init(cfg);
    snprintf(cfg->origin, sizeof(cfg->origin), "%s", name);
    if (!yaml_parser_initialize(&parser))
        return -ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        if (err) {
            err->code = -EINVAL;
            snprintf(err->msg, sizeof(err->msg), "%s:%zu:%zu: YAML syntax error: %s%s%s", name,
                     parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                     parser.problem ? parser.problem : "unknown",
                     parser.context ? " " : "", parser.context ? parser.context : "");
        }
        yaml_parser_delete(&parser);
        return -EINVAL;
    }
    w = calloc(1, sizeof(*w)); /* set-up time only; holds up to 16 profile templates */
    if (!w) {
        rc = -ENOMEM;
        goto out_delete;
    }
    w->file = name;
    w->doc = &doc;
    w->cfg = cfg;
    w->err = err;
    sc_cfg_profile_builtin("lan", &w->top);
    rc = walk_top(w, yaml_document_get_root_node(&doc));
    if (rc == 0)
        rc = sc_config_validate(cfg, err);
    free(w);
out_delete:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

int
sc_config_load_file(struct sc_config *cfg, const char *path, struct sc_err *err)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;
    int rc;

    if (!f) {
        rc = -errno;
        if (err) {
            err->code = rc;
            snprintf(err->msg, sizeof(err->msg), "%s: cannot open: %s", path, strerror(-rc));
        }
        return rc;
    }
    buf = malloc(MAX_FILE_SIZE + 1);
    if (!buf) {
        fclose(f);
        return -ENOMEM;
    }
    n = fread(buf, 1, MAX_FILE_SIZE + 1, f);
    if (ferror(f) || n > MAX_FILE_SIZE) {
        rc = ferror(f) ? -EIO : -EFBIG;
        if (err) {
            err->code = rc;
            snprintf(err->msg, sizeof(err->msg), "%s: %s", path,
                     rc == -EIO ? "read error" : "larger than 1 MiB: not a deployment file");
        }
    } else {
        rc = sc_config_load_string(cfg, path, buf, n, err);
    }
    free(buf);
    fclose(f);
    return rc;
}
