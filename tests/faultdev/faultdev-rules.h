/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault rules for the test fault device: the ctl command parser, the rule
 * table and the decision "what happens to this request".  No FUSE, no locks,
 * no clock: mmp-faultdev.c wraps it, and it can be unit-tested alone.
 *
 * Command grammar (one command per line; OP is read, write or all; numbers
 * are decimal or 0x-prefixed hex; OFFSET LEN restrict the rule to requests
 * that overlap [OFFSET, OFFSET+LEN), LEN > 0; without them the rule matches
 * every offset):
 *
 *     delay OP MS [OFFSET LEN]
 *     stall OP [OFFSET LEN]
 *     fail OP ERRNO_NAME [OFFSET LEN]
 *     resume
 *     clear
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
        FDEV_OP_READ  = 1 << 0,
        FDEV_OP_WRITE = 1 << 1,
        FDEV_OP_ALL   = FDEV_OP_READ | FDEV_OP_WRITE,
};

enum fdev_kind {
        FDEV_DELAY,
        FDEV_STALL,
        FDEV_FAIL,
};

/* Longest delay a rule may ask for: one hour. */
#define FDEV_DELAY_MAX_MS 3600000u
/* Rules held at once; one more is refused with -ENOSPC. */
#define FDEV_RULES_MAX 64
/* Longest command line accepted (without its newline). */
#define FDEV_LINE_MAX 256

struct fdev_rule {
        enum fdev_kind kind;
        unsigned ops;        /* FDEV_OP_* mask */
        uint64_t offset;
        uint64_t length;     /* 0: every offset */
        unsigned delay_ms;   /* FDEV_DELAY */
        int error;           /* FDEV_FAIL: positive errno */
};

enum fdev_cmd_type {
        FDEV_CMD_RULE,
        FDEV_CMD_RESUME,
        FDEV_CMD_CLEAR,
};

struct fdev_cmd {
        enum fdev_cmd_type type;
        struct fdev_rule rule;   /* FDEV_CMD_RULE */
};

struct fdev_rules {
        struct fdev_rule rule[FDEV_RULES_MAX];
        size_t n;
};

/* What the fault device does to one request, in this order. */
struct fdev_plan {
        bool stall;          /* hold until resume */
        unsigned delay_ms;   /* longest matching delay */
        int error;           /* newest matching fail rule's errno, or 0 */
};

/* Parse one command line (no newline).  0 or -EINVAL; *ret untouched on failure. */
int fdev_cmd_parse(const char *line, struct fdev_cmd *ret);

/* Format a rule in command syntax ("fail write EIO 4096 512").  Returns the
 * length snprintf would produce. */
int fdev_rule_format(const struct fdev_rule *r, char *buf, size_t size);

/* Does a request of kind op (FDEV_OP_READ or _WRITE) on [off, off+len) match? */
bool fdev_rule_matches(const struct fdev_rule *r, unsigned op, uint64_t off, uint64_t len);

/* Apply a command to a table.  0, or -ENOSPC when the table is full. */
int fdev_rules_apply(struct fdev_rules *rs, const struct fdev_cmd *cmd);

struct fdev_plan fdev_rules_plan(const struct fdev_rules *rs, unsigned op, uint64_t off, uint64_t len);

/* "EIO" <-> EIO for the errno names the fail command accepts. */
int fdev_errno_from_name(const char *name);
const char *fdev_errno_to_name(int error);
