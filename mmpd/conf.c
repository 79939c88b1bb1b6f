/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mmpd configuration loader.
 *
 * libinih splits "key = value" lines, strips comments and trims whitespace.
 * Everything around it happens in conf_reader(), the line source handed to
 * ini_parse_stream(), because the Debian build of inih has three limits
 * that would otherwise lose information:
 *
 *  - the handler gets no line number, so the reader counts lines.  It hands
 *    inih exactly one physical line per call, so inih's own count (used for
 *    its syntax errors) stays equal to ours;
 *  - section names are truncated to 49 bytes and sections without keys are
 *    never reported, so the reader parses "[...]" headers itself on the
 *    full line and gives inih a blank line instead;
 *  - an indented line after a key is glued onto that key as a continuation,
 *    so an indented "margin = 5" would silently become part of the previous
 *    value; the reader strips leading whitespace, which turns continuations
 *    off and lets users indent keys under their section.
 *
 * Parsing stops at the first error (the reader reports end of file), so the
 * message always names the first problem in the file.  The value parsers
 * live in conf-values.c.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <search.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf-internal.h"
#include "mmp-names.h"

static int parse_device(struct parser *p, const struct conf_key *k, const char *value, void *dest);

#define MMPD_KEY(key, fn, field, lo, hi) \
        { SECTION_MMPD, key, fn, offsetof(struct mmpd_conf, field), lo, hi, 0 }
#define VOLUME_KEY(key, fn, field, lo, hi) \
        { SECTION_VOLUME, key, fn, offsetof(struct mmpd_volume_conf, field), lo, hi, 0 }
#define FENCE_KEY(key, fn, field, lo, hi) \
        { SECTION_MMPD, key, fn, offsetof(struct mmpd_conf, fence.field), lo, hi, \
          sizeof(((struct mmpd_fence_conf *) NULL)->field) }, \
        { SECTION_VOLUME, key, fn, offsetof(struct mmpd_volume_conf, fence.field), lo, hi, \
          sizeof(((struct mmpd_fence_conf *) NULL)->field) }

/* One line per key; the documentation is in conf.h and conf/mmpd.conf. */
static const struct conf_key conf_keys[] = {
        MMPD_KEY("node_name",     parse_text,    node_name,    1, MMPD_NODE_NAME_MAX),
        MMPD_KEY("socket",        parse_path,    socket_path,  1, SOCKET_PATH_MAX),
        MMPD_KEY("admin_group",   parse_text,    admin_group,  1, ADMIN_GROUP_MAX),
        MMPD_KEY("keep_on_stop",  parse_bool,    keep_on_stop, 0, 1),
        MMPD_KEY("max_volumes",   parse_uint,    max_volumes,  1, MMPD_VOLUMES_MAX),
        MMPD_KEY("margin",        parse_seconds, margin,       0, MMPD_SECONDS_MAX),
        MMPD_KEY("io_timeout",    parse_seconds, io_timeout,   0, MMPD_SECONDS_MAX),
        MMPD_KEY("watchdog_device", parse_path,  watchdog_device, 1, PATH_MAX - 1),
        MMPD_KEY("watchdog_interval", parse_seconds, watchdog_interval, 0, 60),
        FENCE_KEY("exclusive",    parse_bool,    exclusive,    0, 1),
        FENCE_KEY("fence",        parse_bool,    enabled,      0, 1),
        FENCE_KEY("fence_hook",   parse_path,    hook,         1, PATH_MAX - 1),
        FENCE_KEY("fence_hook_timeout", parse_seconds, hook_timeout, 0, MMPD_SECONDS_MAX),
        FENCE_KEY("fence_kill",   parse_bool,    kill,         0, 1),
        FENCE_KEY("fence_kill_grace", parse_seconds, kill_grace, 0, MMPD_SECONDS_MAX),
        FENCE_KEY("fence_shutdown", parse_bool,  shutdown,     0, 1),
        FENCE_KEY("fence_last_resort", parse_last_resort, last_resort, 0, 0),
        FENCE_KEY("fence_reboot_command", parse_path, reboot_command, 1, PATH_MAX - 1),
        FENCE_KEY("handoff",      parse_handoff, handoff_wait, 0, 1),
        FENCE_KEY("handoff_timeout", parse_seconds, handoff_timeout, 0, 600),
        MMPD_KEY("host_name",     parse_text,    host_name,    1, MMPD_NODE_NAME_MAX),

        VOLUME_KEY("device",      parse_device,  device,       1, PATH_MAX - 1),
        VOLUME_KEY("margin",      parse_seconds, margin,       0, MMPD_SECONDS_MAX),
        VOLUME_KEY("io_timeout",  parse_seconds, io_timeout,   0, MMPD_SECONDS_MAX),
};

_Static_assert(ELEMENTSOF(conf_keys) <= 64, "mmpd_volume_conf.set is a 64-bit mask");

static int compare_strings(const void *a, const void *b)
{
        return strcmp(a, b);
}

static void free_nothing(void *p)
{
}


static struct mmpd_volume_conf *current_volume(struct parser *p)
{
        return &p->conf->volumes[p->conf->n_volumes - 1];
}

/* "[mmpd]" or "[volume "NAME"]" for messages; @buf holds the longest name. */
static const char *section_desc(struct parser *p, char buf[static MMPD_NAME_MAX + 16])
{
        if (p->section == SECTION_VOLUME)
                snprintf(buf, MMPD_NAME_MAX + 16, "[volume \"%s\"]", current_volume(p)->name);
        else
                snprintf(buf, MMPD_NAME_MAX + 16, "[mmpd]");
        return buf;
}

static const struct mmpd_volume_conf *find_volume(const struct mmpd_conf *conf, const char *name)
{
        for (size_t i = 0; i < conf->n_volumes; i++)
                if (streq(conf->volumes[i].name, name))
                        return &conf->volumes[i];
        return NULL;
}


/*
 * Two volumes on one device would heartbeat against each other.  Only the
 * spelling is compared here; two paths to one device (a by-id symlink and
 * its /dev/sdX) can only be caught when the daemon opens them.
 */
static int parse_device(struct parser *p, const struct conf_key *k, const char *value, void *dest)
{
        char **field = dest;
        void *node;
        char *s = NULL;
        int r;

        r = dup_path(p, k, value, &s);
        if (r < 0)
                return r;

        node = tsearch(s, &p->devices, compare_strings);
        if (!node) {
                free(s);
                return parser_oom(p);
        }
        if (*(char **) node != s) {
                const struct mmpd_volume_conf *other = NULL;

                for (size_t i = 0; i < p->conf->n_volumes && !other; i++)
                        if (p->conf->volumes[i].device && streq(p->conf->volumes[i].device, s))
                                other = &p->conf->volumes[i];
                r = parser_error(p, -EINVAL, p->line,
                                 "device '%s' is already used by [volume \"%s\"] (line %u)",
                                 s, other ? other->name : "?", other ? other->line : 0);
                free(s);
                return r;
        }
        /* A second "device =" in one section is refused before we get here. */
        *field = s;
        return 0;
}

/* ---- sections ---------------------------------------------------------- */

/* Names end up in object paths and log lines, so keep them to plain ASCII. */
/* Checks that need the whole section, run when the next one starts or at EOF. */
static int end_section(struct parser *p)
{
        if (p->section == SECTION_VOLUME && !current_volume(p)->device)
                return parser_error(p, -EINVAL, p->section_line, "[volume \"%s\"] has no 'device ='",
                                    current_volume(p)->name);
        return 0;
}

static int begin_volume(struct parser *p, const char *name, size_t len)
{
        struct mmpd_conf *c = p->conf;
        void *node;
        char *n;

        if (c->n_volumes >= MMPD_VOLUMES_MAX)
                return parser_error(p, -EINVAL, p->line, "too many volumes: at most %d are supported",
                                    MMPD_VOLUMES_MAX);

        if (c->n_volumes == p->volumes_alloc) {
                size_t m = p->volumes_alloc ? p->volumes_alloc * 2 : 16;
                struct mmpd_volume_conf *v = reallocarray(c->volumes, m, sizeof(*v));

                if (!v)
                        return parser_oom(p);
                c->volumes = v;
                p->volumes_alloc = m;
        }

        n = strndup(name, len);
        if (!n)
                return parser_oom(p);
        node = tsearch(n, &p->names, compare_strings);
        if (!node) {
                free(n);
                return parser_oom(p);
        }
        if (*(char **) node != n) {
                int r = parser_error(p, -EINVAL, p->line, "duplicate volume \"%s\" (first defined at line %u)",
                                     n, find_volume(c, n)->line);
                free(n);
                return r;
        }

        c->volumes[c->n_volumes++] = (struct mmpd_volume_conf) {
                .name = n,
                .margin = SECONDS_UNSET,
                .io_timeout = SECONDS_UNSET,
                .line = p->line,
        };
        return 0;
}

/*
 * @s is a stripped line starting with '['.  Accepted: [mmpd] and
 * [volume "NAME"], with optional blanks inside the brackets and an optional
 * comment after them.
 */
static int parse_section_header(struct parser *p, const char *s)
{
        const char *kind, *name = NULL, *c = s + 1;
        size_t kind_len, name_len = 0, hdr_len;
        int r;

        hdr_len = strcspn(s, "\r\n");
        while (hdr_len > 0 && (s[hdr_len - 1] == ' ' || s[hdr_len - 1] == '\t'))
                hdr_len--;

        c += strspn(c, " \t");
        kind = c;
        kind_len = strcspn(c, " \t\"]\r\n");
        c += kind_len;
        c += strspn(c, " \t");
        if (*c == '"') {
                name = c + 1;
                name_len = strcspn(name, "\"\r\n");
                c = name + name_len;
                if (*c != '"')
                        goto bad;
                c++;
                c += strspn(c, " \t");
        }
        if (*c != ']')
                goto bad;
        c++;
        c += strspn(c, " \t\r\n");
        if (*c != '\0' && *c != ';' && *c != '#')
                goto bad;

        r = end_section(p);
        if (r < 0)
                return r;
        memset(p->key_line, 0, ELEMENTSOF(conf_keys) * sizeof(*p->key_line));
        p->section_line = p->line;

        if (kind_len == 4 && strncmp(kind, "mmpd", 4) == 0) {
                if (name)
                        return parser_error(p, -EINVAL, p->line, "bad section header '%.*s': [mmpd] takes no name",
                                            (int) hdr_len, s);
                if (p->mmpd_line)
                        return parser_error(p, -EINVAL, p->line, "duplicate section [mmpd] (first at line %u)",
                                            p->mmpd_line);
                p->mmpd_line = p->line;
                p->section = SECTION_MMPD;
                return 0;
        }

        if (kind_len == 6 && strncmp(kind, "volume", 6) == 0) {
                if (!name)
                        return parser_error(p, -EINVAL, p->line, "bad section header '%.*s': expected [volume \"NAME\"]",
                                            (int) hdr_len, s);
                if (!mmp_volume_name_valid(name, name_len))
                        return parser_error(p, -EINVAL, p->line,
                                            "invalid volume name \"%.*s\": expected 1 to %d characters of " MMP_VOLUME_NAME_CHARS,
                                            (int) name_len, name, MMP_VOLUME_NAME_MAX);
                r = begin_volume(p, name, name_len);
                if (r < 0)
                        return r;
                p->section = SECTION_VOLUME;
                return 0;
        }

        return parser_error(p, -EINVAL, p->line, "unknown section [%.*s]: expected [mmpd] or [volume \"NAME\"]",
                            (int) kind_len, kind);

bad:
        return parser_error(p, -EINVAL, p->line, "bad section header '%.*s': expected [mmpd] or [volume \"NAME\"]",
                            (int) hdr_len, s);
}

/* ---- inih glue --------------------------------------------------------- */

static int handle_key(struct parser *p, const char *key, const char *value)
{
        char desc[MMPD_NAME_MAX + 16];
        const struct conf_key *k = NULL;
        size_t i;
        void *base;

        if (!value)     /* only if someone turned on ini_allow_no_value */
                return parser_error(p, -EINVAL, p->line, "missing '=' after '%s'", key);
        if (key[0] == '\0')
                return parser_error(p, -EINVAL, p->line, "missing key name before '='");
        if (p->section == SECTION_NONE)
                return parser_error(p, -EINVAL, p->line,
                                    "key '%s' outside any section: put it under [mmpd] or [volume \"NAME\"]", key);

        for (i = 0; i < ELEMENTSOF(conf_keys); i++)
                if (conf_keys[i].section == p->section && streq(conf_keys[i].name, key)) {
                        k = &conf_keys[i];
                        break;
                }
        if (!k)
                return parser_error(p, -EINVAL, p->line, "unknown key '%s' in %s", key, section_desc(p, desc));
        if (p->key_line[i])
                return parser_error(p, -EINVAL, p->line, "duplicate key '%s' in %s (first set at line %u)",
                                    key, section_desc(p, desc), p->key_line[i]);
        p->key_line[i] = p->line;
        if (p->section == SECTION_VOLUME)
                current_volume(p)->set |= UINT64_C(1) << i;

        if (value[0] == '\0')
                return parser_error(p, -EINVAL, p->line, "empty value for '%s'", key);

        base = p->section == SECTION_MMPD ? (void *) p->conf : (void *) current_volume(p);
        return k->parse(p, k, value, (char *) base + k->offset);
}

static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
        /* @section is always "": headers never reach inih, see conf_reader(). */
        return handle_key(user, name, value) >= 0;
}

/*
 * fgets()-style: one physical line per call, bounded by @num, the size of
 * inih's buffer.  Returning NULL ends the parse, which is how the first
 * error stops it.
 */
static char *conf_reader(char *str, int num, void *stream)
{
        struct parser *p = stream;
        size_t len = 0, skip;
        int c;

        if (p->error_code || num < 3)
                return NULL;

        c = getc_unlocked(p->f);
        if (c == EOF) {
                if (ferror(p->f))
                        parser_error(p, -EIO, 0, "read error: %s", strerror(errno ? errno : EIO));
                return NULL;
        }
        p->line++;

        for (;;) {
                if (c == '\0') {
                        parser_error(p, -EINVAL, p->line, "line contains a NUL byte");
                        return NULL;
                }
                /* Leave room for the newline and the terminator. */
                if (len + 2 >= (size_t) num && c != '\n') {
                        parser_error(p, -EINVAL, p->line, "line too long (at most %d bytes)", num - 2);
                        return NULL;
                }
                str[len++] = (char) c;
                if (c == '\n')
                        break;
                c = getc_unlocked(p->f);
                if (c == EOF) {
                        if (ferror(p->f)) {
                                parser_error(p, -EIO, 0, "read error: %s", strerror(errno ? errno : EIO));
                                return NULL;
                        }
                        break;
                }
        }
        str[len] = '\0';

        skip = 0;
        if (p->line == 1 && len >= 3 && memcmp(str, "\xEF\xBB\xBF", 3) == 0)
                skip = 3;       /* UTF-8 byte order mark */
        while (str[skip] == ' ' || str[skip] == '\t')
                skip++;
        memmove(str, str + skip, len - skip + 1);

        if (str[0] == '[') {
                if (parse_section_header(p, str) < 0)
                        return NULL;
                strcpy(str, "\n");
        }
        return str;
}

/* ---- results ----------------------------------------------------------- */

static struct mmpd_conf *conf_new(void)
{
        struct mmpd_conf *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->socket_path = strdup(MMPD_DEFAULT_SOCKET);
        if (!c->socket_path)
                return mmpd_conf_free(c);
        c->max_volumes = MMPD_DEFAULT_MAX_VOLUMES;
        c->watchdog_interval = 1.0;
        c->fence = (struct mmpd_fence_conf) {
                .exclusive = true, .enabled = true, .kill = true, .shutdown = true,
                .handoff_timeout = MMPD_DEFAULT_HANDOFF_TIMEOUT,
        };
        return c;
}

/* Fence fields not set in the volume's section take the [mmpd] value. */
static int inherit_fence(const struct mmpd_conf *c, struct mmpd_volume_conf *v)
{
        struct mmpd_fence_conf merged;
        size_t base = offsetof(struct mmpd_volume_conf, fence);

        if (mmpd_fence_conf_copy(&c->fence, &merged) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(conf_keys); i++) {
                const struct conf_key *k = &conf_keys[i];
                size_t off = k->offset - base;

                if (k->section != SECTION_VOLUME || !k->fence_size || !(v->set & (UINT64_C(1) << i)))
                        continue;
                if (k->parse == parse_path)     /* move the string over */
                        free(*(char **) ((char *) &merged + off));
                memcpy((char *) &merged + off, (char *) &v->fence + off, k->fence_size);
                memset((char *) &v->fence + off, 0, k->fence_size);
        }
        mmpd_fence_conf_done(&v->fence);
        v->fence = merged;
        return 0;
}

static int default_node_name(struct parser *p)
{
        char host[HOST_NAME_MAX + 1] = "";

        if (p->conf->node_name)
                return 0;
        if (gethostname(host, sizeof(host)) < 0) {
                int err = errno;

                return parser_error(p, -err, 0, "cannot use the host name as node_name: %s; set node_name in [mmpd]",
                                    strerror(err));
        }
        host[sizeof(host) - 1] = '\0';
        if (host[0] == '\0')
                return parser_error(p, -EINVAL, 0, "the host name is empty; set node_name in [mmpd]");
        p->conf->node_name = strdup(host);
        if (!p->conf->node_name)
                return parser_oom(p);
        return 0;
}

/* What the kernel (init_utsname) and e2fsprogs (gethostname) write as node
 * name while they use a volume: the host name, unless set. */
static int default_host_name(struct parser *p)
{
        char host[HOST_NAME_MAX + 1] = "";

        if (p->conf->host_name)
                return 0;
        if (gethostname(host, sizeof(host)) < 0 || !host[0])
                snprintf(host, sizeof(host), "%s", p->conf->node_name);
        host[sizeof(host) - 1] = '\0';
        p->conf->host_name = strndup(host, MMPD_NODE_NAME_MAX);
        return p->conf->host_name ? 0 : parser_oom(p);
}

/* Checks and defaults that depend on the whole file. */
static int parser_finish(struct parser *p)
{
        struct mmpd_conf *c = p->conf;
        int r;

        r = end_section(p);
        if (r < 0)
                return r;

        /* max_volumes may be set after the volumes, so count only now. */
        if (c->n_volumes > c->max_volumes) {
                const struct mmpd_volume_conf *v = &c->volumes[c->max_volumes];

                return parser_error(p, -EINVAL, v->line,
                                    "too many volumes: [volume \"%s\"] is number %u but max_volumes = %u",
                                    v->name, c->max_volumes + 1, c->max_volumes);
        }

        for (size_t i = 0; i < c->n_volumes; i++) {
                r = inherit_fence(c, &c->volumes[i]);
                if (r < 0)
                        return parser_oom(p);
                if (c->volumes[i].margin == SECONDS_UNSET)
                        c->volumes[i].margin = c->margin;
                if (c->volumes[i].io_timeout == SECONDS_UNSET)
                        c->volumes[i].io_timeout = c->io_timeout;
        }

        r = default_node_name(p);
        return r < 0 ? r : default_host_name(p);
}

static int parse_file(struct parser *p)
{
        int r;

#if HAVE_DECL_INI_MAX_LINE
        /* Debian's inih sizes its (stack) line buffer from this global; the
         * default 200 bytes cannot hold a long device path. */
        int saved_max_line = ini_max_line;

        if (ini_max_line < CONF_LINE_MAX)
                ini_max_line = CONF_LINE_MAX;
#endif
        r = ini_parse_stream(conf_reader, p, conf_handler, p);
#if HAVE_DECL_INI_MAX_LINE
        ini_max_line = saved_max_line;
#endif

        /* inih keeps going after a line it cannot split and returns the first
         * such line; our reader stopped at our first error, so whichever line
         * comes first is the first problem in the file. */
        if (r > 0 && (!p->error_code || (unsigned) r < p->error_line)) {
                free(p->error);
                p->error = NULL;
                p->error_code = 0;
                return parser_error(p, -EINVAL, (unsigned) r,
                                    "syntax error: expected 'key = value', a [section] or a comment");
        }
        if (r < 0 && !p->error_code)
                return parser_oom(p);
        if (p->error_code)
                return p->error_code;
        return parser_finish(p);
}

static void parser_done(struct parser *p)
{
        tdestroy(p->names, free_nothing);
        tdestroy(p->devices, free_nothing);
        free(p->key_line);
        free(p->error);
        if (p->f)
                fclose(p->f);
        mmpd_conf_free(p->conf);
}

/*
 * open() never waits here: O_NONBLOCK, so a FIFO (or a device) put where
 * the config should be cannot hang the loop on SIGHUP or the start.  Only
 * regular files are read (a directory fails later with a read error).
 * 0 and *ret, -errno from open(), or -EINVAL with *ret_not_regular.
 */
static int open_config(const char *path, FILE **ret, bool *ret_not_regular)
{
        struct stat st;
        int fd, fl;

        *ret_not_regular = false;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
                close(fd);
                *ret_not_regular = true;
                return -EINVAL;
        }
        fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 || !(*ret = fdopen(fd, "r"))) {
                int r = -errno;

                close(fd);
                return r;
        }
        return 0;
}

int mmpd_conf_load(const char *path, bool must_exist, struct mmpd_conf **ret, char **ret_error)
{
        __attribute__((cleanup(parser_done))) struct parser p = {};
        bool not_regular;
        int r;

        if (!path)
                path = MMPD_DEFAULT_CONFIG;
        p.path = path;

        p.conf = conf_new();
        p.key_line = calloc(ELEMENTSOF(conf_keys), sizeof(*p.key_line));
        if (!p.conf || !p.key_line) {
                r = parser_oom(&p);
                goto fail;
        }

        r = open_config(path, &p.f, &not_regular);
        if (r < 0) {
                p.f = NULL;
                if (not_regular) {
                        parser_error(&p, r, 0, "cannot read: not a regular file");
                        goto fail;
                }
                if (r != -ENOENT || must_exist) {
                        parser_error(&p, r, 0, "cannot open: %s", strerror(-r));
                        goto fail;
                }
                r = default_node_name(&p);
                if (r < 0)
                        goto fail;
                *ret = TAKE_PTR(p.conf);
                return 0;
        }

        r = parse_file(&p);
        if (r < 0)
                goto fail;

        p.conf->path = strdup(path);
        if (!p.conf->path) {
                r = parser_oom(&p);
                goto fail;
        }
        *ret = TAKE_PTR(p.conf);
        return 0;

fail:
        if (ret_error)
                *ret_error = TAKE_PTR(p.error);
        return r;
}

struct mmpd_conf *mmpd_conf_free(struct mmpd_conf *conf)
{
        if (!conf)
                return NULL;
        for (size_t i = 0; i < conf->n_volumes; i++) {
                free(conf->volumes[i].name);
                free(conf->volumes[i].device);
                mmpd_fence_conf_done(&conf->volumes[i].fence);
        }
        mmpd_fence_conf_done(&conf->fence);
        free(conf->watchdog_device);
        free(conf->volumes);
        free(conf->path);
        free(conf->node_name);
        free(conf->socket_path);
        free(conf->admin_group);
        free(conf->host_name);
        free(conf);
        return NULL;
}

const struct mmpd_volume_conf *mmpd_conf_find_volume(const struct mmpd_conf *conf, const char *name)
{
        if (!conf || !name)
                return NULL;
        return find_volume(conf, name);
}
