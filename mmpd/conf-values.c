/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mmpd configuration: errors and the value parsers of the key table.
 * Values are validated strictly; every error names FILE:LINE.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "conf-internal.h"

int parser_error(struct parser *p, int err, unsigned line, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        if (p->error_code)
                return err;

        p->error_code = err;
        p->error_line = line;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0) {
                msg = NULL;
                return err;
        }

        if (line > 0)
                r = asprintf(&p->error, "%s:%u: %s", p->path, line, msg);
        else
                r = asprintf(&p->error, "%s: %s", p->path, msg);
        if (r < 0)
                p->error = NULL;
        return err;
}

int parser_oom(struct parser *p)
{
        return parser_error(p, -ENOMEM, 0, "out of memory");
}

/* ---- values ------------------------------------------------------------ */

int parse_seconds(struct parser *p, const struct conf_key *k, const char *value, void *dest)
{
        char *end;
        double d;

        /* Plain decimals only: strtod() would also take "nan", "1e3", "0x10" and "-1". */
        if (value[strspn(value, "0123456789.")] != '\0' || !strpbrk(value, "0123456789"))
                goto invalid;
        errno = 0;
        d = strtod(value, &end);
        if (*end != '\0' || errno != 0)
                goto invalid;
        if (d < (double) k->min || d > (double) k->max)
                return parser_error(p, -EINVAL, p->line,
                                    "invalid value '%s' for '%s': out of range, expected %lld to %lld seconds",
                                    value, k->name, k->min, k->max);
        *(double *) dest = d;
        return 0;

invalid:
        return parser_error(p, -EINVAL, p->line,
                            "invalid value '%s' for '%s': expected seconds (a number >= 0)",
                            value, k->name);
}

int parse_uint(struct parser *p, const struct conf_key *k, const char *value, void *dest)
{
        unsigned long long u;
        char *end;

        if (value[strspn(value, "0123456789")] != '\0')
                goto invalid;
        errno = 0;
        u = strtoull(value, &end, 10);
        if (*end != '\0' || errno != 0 || u < (unsigned long long) k->min || u > (unsigned long long) k->max)
                goto invalid;
        *(unsigned *) dest = (unsigned) u;
        return 0;

invalid:
        return parser_error(p, -EINVAL, p->line,
                            "invalid value '%s' for '%s': expected a whole number from %lld to %lld",
                            value, k->name, k->min, k->max);
}

int parse_bool(struct parser *p, const struct conf_key *k, const char *value, void *dest)
{
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(value, yes[i]) == 0) {
                        *(bool *) dest = true;
                        return 0;
                }
                if (strcasecmp(value, no[i]) == 0) {
                        *(bool *) dest = false;
                        return 0;
                }
        }
        return parser_error(p, -EINVAL, p->line,
                            "invalid value '%s' for '%s': expected yes/no, true/false, on/off or 1/0",
                            value, k->name);
}

static int check_length(struct parser *p, const struct conf_key *k, const char *value)
{
        size_t len = strlen(value);

        if (len > (size_t) k->max)
                return parser_error(p, -EINVAL, p->line,
                                    "value for '%s' is too long: %zu bytes (at most %lld)",
                                    k->name, len, k->max);
        return 0;
}

/* Validate @value as an absolute path; the result is a copy in *ret. */
int dup_path(struct parser *p, const struct conf_key *k, const char *value, char **ret)
{
        char *s;
        int r;

        if (value[0] != '/')
                return parser_error(p, -EINVAL, p->line,
                                    "invalid value '%s' for '%s': expected an absolute path",
                                    value, k->name);
        r = check_length(p, k, value);
        if (r < 0)
                return r;
        s = strdup(value);
        if (!s)
                return parser_oom(p);
        *ret = s;
        return 0;
}

int parse_path(struct parser *p, const struct conf_key *k, const char *value, void *dest)
{
        char **field = dest;
        char *s = NULL;
        int r;

        r = dup_path(p, k, value, &s);
        if (r < 0)
                return r;
        free(*field);
        *field = s;
        return 0;
}

/* Free text that ends up in logs or on disk: no control characters. */
int parse_text(struct parser *p, const struct conf_key *k, const char *value, void *dest)
{
        char **field = dest;
        char *s;
        int r;

        for (const char *c = value; *c; c++)
                if (iscntrl((unsigned char) *c))
                        return parser_error(p, -EINVAL, p->line,
                                            "invalid value for '%s': control characters are not allowed",
                                            k->name);
        r = check_length(p, k, value);
        if (r < 0)
                return r;
        s = strdup(value);
        if (!s)
                return parser_oom(p);
        free(*field);
        *field = s;
        return 0;
}

static const char *const last_resort_names[] = { "none", "watchdog", "reboot", "hook" };

const char *mmpd_last_resort_name(int lr)
{
        return lr >= 0 && (size_t) lr < ELEMENTSOF(last_resort_names) ? last_resort_names[lr] : "?";
}

int parse_last_resort(struct parser *p, const struct conf_key *k, const char *value, void *dest)
{
        for (size_t i = 0; i < ELEMENTSOF(last_resort_names); i++)
                if (streq(value, last_resort_names[i])) {
                        *(int *) dest = (int) i;
                        return 0;
                }
        return parser_error(p, -EINVAL, p->line,
                            "invalid value '%s' for '%s': expected none, watchdog, reboot or hook", value, k->name);
}

int parse_handoff(struct parser *p, const struct conf_key *k, const char *value, void *dest)
{
        if (streq(value, "fast") || streq(value, "wait")) {
                *(bool *) dest = streq(value, "wait");
                return 0;
        }
        return parser_error(p, -EINVAL, p->line, "invalid value '%s' for '%s': expected fast or wait",
                            value, k->name);
}

int mmpd_fence_conf_copy(const struct mmpd_fence_conf *from, struct mmpd_fence_conf *to)
{
        struct mmpd_fence_conf c = *from;

        c.hook = from->hook ? strdup(from->hook) : NULL;
        c.reboot_command = from->reboot_command ? strdup(from->reboot_command) : NULL;
        if ((from->hook && !c.hook) || (from->reboot_command && !c.reboot_command)) {
                mmpd_fence_conf_done(&c);
                return -ENOMEM;
        }
        *to = c;
        return 0;
}

void mmpd_fence_conf_done(struct mmpd_fence_conf *fc)
{
        free(fc->hook);
        free(fc->reboot_command);
        fc->hook = fc->reboot_command = NULL;
}
