/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fault rules: ctl command parser, rule table, per-request decision. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "faultdev-rules.h"

static const struct {
        const char *name;
        int error;
} errno_names[] = {
        { "EIO",       EIO },
        { "ENOSPC",    ENOSPC },
        { "EROFS",     EROFS },
        { "EPERM",     EPERM },
        { "EACCES",    EACCES },
        { "ENXIO",     ENXIO },
        { "ENODEV",    ENODEV },
        { "ENOMEM",    ENOMEM },
        { "EAGAIN",    EAGAIN },
        { "EBUSY",     EBUSY },
        { "EINTR",     EINTR },
        { "EINVAL",    EINVAL },
        { "EFBIG",     EFBIG },
        { "EDQUOT",    EDQUOT },
        { "ENODATA",   ENODATA },
        { "ENOLINK",   ENOLINK },
        { "EILSEQ",    EILSEQ },
        { "EBADMSG",   EBADMSG },
        { "ETIMEDOUT", ETIMEDOUT },
        { "EREMOTEIO", EREMOTEIO },
        { "ECANCELED", ECANCELED },
        { "ENOTCONN",  ENOTCONN },
        { "ESTALE",    ESTALE },
        { "ENOMEDIUM", ENOMEDIUM },
        { "EOPNOTSUPP", EOPNOTSUPP },
};

int fdev_errno_from_name(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(errno_names); i++)
                if (strcmp(errno_names[i].name, name) == 0)
                        return errno_names[i].error;
        return 0;
}

const char *fdev_errno_to_name(int error)
{
        for (size_t i = 0; i < ELEMENTSOF(errno_names); i++)
                if (errno_names[i].error == error)
                        return errno_names[i].name;
        return "E?";
}

/* Decimal, or hex with a 0x prefix.  No sign, no octal surprise for "010". */
static int parse_u64(const char *s, uint64_t *ret)
{
        unsigned base = 10;
        uint64_t v = 0;

        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                base = 16;
                s += 2;
        }
        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                unsigned d;

                if (*s >= '0' && *s <= '9')
                        d = (unsigned) (*s - '0');
                else if (base == 16 && *s >= 'a' && *s <= 'f')
                        d = (unsigned) (*s - 'a' + 10);
                else if (base == 16 && *s >= 'A' && *s <= 'F')
                        d = (unsigned) (*s - 'A' + 10);
                else
                        return -EINVAL;
                if (v > (UINT64_MAX - d) / base)
                        return -EINVAL;
                v = v * base + d;
        }
        *ret = v;
        return 0;
}

static int parse_op(const char *s, unsigned *ret)
{
        if (strcmp(s, "read") == 0)
                *ret = FDEV_OP_READ;
        else if (strcmp(s, "write") == 0)
                *ret = FDEV_OP_WRITE;
        else if (strcmp(s, "all") == 0)
                *ret = FDEV_OP_ALL;
        else
                return -EINVAL;
        return 0;
}

/* The optional trailing "OFFSET LEN": absent (n == 0) or both present. */
static int parse_range(char **tok, size_t n, struct fdev_rule *r)
{
        if (n == 0)
                return 0;
        if (n != 2)
                return -EINVAL;
        if (parse_u64(tok[0], &r->offset) < 0 || parse_u64(tok[1], &r->length) < 0)
                return -EINVAL;
        if (r->length == 0 || r->offset > UINT64_MAX - r->length)
                return -EINVAL;
        return 0;
}

#define MAX_TOKENS 8

int fdev_cmd_parse(const char *line, struct fdev_cmd *ret)
{
        char buf[FDEV_LINE_MAX + 1], *tok[MAX_TOKENS], *save = NULL, *t;
        struct fdev_cmd cmd = {};
        struct fdev_rule *r = &cmd.rule;
        size_t n = 0, len = strlen(line);
        uint64_t ms;

        if (len > FDEV_LINE_MAX)
                return -EINVAL;
        memcpy(buf, line, len + 1);
        for (t = strtok_r(buf, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
                if (n == MAX_TOKENS)
                        return -EINVAL;
                tok[n++] = t;
        }
        if (n == 0)
                return -EINVAL;

        if (strcmp(tok[0], "resume") == 0 || strcmp(tok[0], "clear") == 0) {
                if (n != 1)
                        return -EINVAL;
                cmd.type = tok[0][0] == 'r' ? FDEV_CMD_RESUME : FDEV_CMD_CLEAR;
                *ret = cmd;
                return 0;
        }

        cmd.type = FDEV_CMD_RULE;
        if (n < 2 || parse_op(tok[1], &r->ops) < 0)
                return -EINVAL;

        if (strcmp(tok[0], "delay") == 0) {
                r->kind = FDEV_DELAY;
                if (n < 3 || parse_u64(tok[2], &ms) < 0 || ms == 0 || ms > FDEV_DELAY_MAX_MS)
                        return -EINVAL;
                r->delay_ms = (unsigned) ms;
                if (parse_range(tok + 3, n - 3, r) < 0)
                        return -EINVAL;
        } else if (strcmp(tok[0], "stall") == 0) {
                r->kind = FDEV_STALL;
                if (parse_range(tok + 2, n - 2, r) < 0)
                        return -EINVAL;
        } else if (strcmp(tok[0], "fail") == 0) {
                r->kind = FDEV_FAIL;
                if (n < 3 || (r->error = fdev_errno_from_name(tok[2])) == 0)
                        return -EINVAL;
                if (parse_range(tok + 3, n - 3, r) < 0)
                        return -EINVAL;
        } else
                return -EINVAL;

        *ret = cmd;
        return 0;
}

int fdev_rule_format(const struct fdev_rule *r, char *buf, size_t size)
{
        static const char *const kinds[] = { "delay", "stall", "fail" };
        static const char *const ops[] = { "?", "read", "write", "all" };
        char arg[32] = "", range[48] = "";

        if (r->kind == FDEV_DELAY)
                snprintf(arg, sizeof(arg), " %u", r->delay_ms);
        else if (r->kind == FDEV_FAIL)
                snprintf(arg, sizeof(arg), " %s", fdev_errno_to_name(r->error));
        if (r->length)
                snprintf(range, sizeof(range), " %llu %llu",
                         (unsigned long long) r->offset, (unsigned long long) r->length);
        return snprintf(buf, size, "%s %s%s%s", kinds[r->kind], ops[r->ops & FDEV_OP_ALL], arg, range);
}

bool fdev_rule_matches(const struct fdev_rule *r, unsigned op, uint64_t off, uint64_t len)
{
        if (!(r->ops & op))
                return false;
        if (r->length == 0)
                return true;
        /* Overlap of [off, off+len) and [offset, offset+length); the range
         * end cannot overflow (the parser checks), the request end saturates.
         * A zero-length request matches when it sits inside the range. */
        uint64_t end = off > UINT64_MAX - len ? UINT64_MAX : off + len;

        if (len == 0)
                return off >= r->offset && off - r->offset < r->length;
        return off < r->offset + r->length && r->offset < end;
}

int fdev_rules_apply(struct fdev_rules *rs, const struct fdev_cmd *cmd)
{
        size_t i, j;

        switch (cmd->type) {
        case FDEV_CMD_RULE:
                if (rs->n == FDEV_RULES_MAX)
                        return -ENOSPC;
                rs->rule[rs->n++] = cmd->rule;
                return 0;
        case FDEV_CMD_RESUME:
                for (i = j = 0; i < rs->n; i++)
                        if (rs->rule[i].kind != FDEV_STALL)
                                rs->rule[j++] = rs->rule[i];
                rs->n = j;
                return 0;
        case FDEV_CMD_CLEAR:
                rs->n = 0;
                return 0;
        }
        return -EINVAL;
}

struct fdev_plan fdev_rules_plan(const struct fdev_rules *rs, unsigned op, uint64_t off, uint64_t len)
{
        struct fdev_plan p = {};

        for (size_t i = 0; i < rs->n; i++) {
                const struct fdev_rule *r = &rs->rule[i];

                if (!fdev_rule_matches(r, op, off, len))
                        continue;
                switch (r->kind) {
                case FDEV_STALL:
                        p.stall = true;
                        break;
                case FDEV_DELAY:
                        if (r->delay_ms > p.delay_ms)
                                p.delay_ms = r->delay_ms;
                        break;
                case FDEV_FAIL:
                        p.error = r->error;   /* later rules win */
                        break;
                }
        }
        return p;
}
