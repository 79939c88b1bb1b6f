/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mmpctl: what the command files share with main and with each other. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "mmp-ondisk.h"

/* Exit statuses, the same for every command. */
#define MMPCTL_EXIT_OK        0
#define MMPCTL_EXIT_UNUSABLE  1   /* the answer is "no": e.g. a corrupt MMP block */
#define MMPCTL_EXIT_ERROR     2   /* usage error, or the question could not be answered */

/* Global options, parsed by main before the command name. */
struct mmpctl_ctx {
        bool json;                 /* --json: one JSON object on stdout */
        const char *socket_path;   /* --socket PATH: mmpd's control socket */
};

/* Every command: argv[0] is the command name, options follow. */
typedef int (*mmpctl_cmd_fn)(struct mmpctl_ctx *ctx, int argc, char **argv);

int mmpctl_cmd_dump(struct mmpctl_ctx *ctx, int argc, char **argv);

/* Errors and warnings, as "mmpctl: ..." on stderr. */
void mmpctl_err(const char *fmt, ...) _printf_(1, 2);

/*
 * A volume's superblock and MMP block, read straight from the device with
 * positioned reads (O_DIRECT and sector-aligned buffers on a block device;
 * a regular image file is read without O_DIRECT).
 */
struct mmpctl_volume {
        struct mmp_sb sb;
        struct mmp_block blk;
        int blk_err;          /* 0, or -EUCLEAN / -EBADMSG: blk holds what is on disk */
        bool direct;          /* read with O_DIRECT */
        size_t align;         /* buffer/offset alignment used */
};

/*
 * Read and decode.  Returns 0 (then ret->blk_err may still report a corrupt
 * MMP block) or a negative errno.  On failure *ret_what names the step that
 * failed ("cannot open", "cannot read"), to be followed by strerror(); it is
 * NULL when the bytes were read but do not decode: use mmp_ondisk_strerror().
 */
int mmpctl_volume_read(const char *path, struct mmpctl_volume *ret, const char **ret_what);

/*
 * A name from disk made safe to print: printable ASCII is kept, a backslash
 * becomes "\\", every other byte "\xNN".  Lossless and unambiguous.
 * Returns a malloc'ed string, or NULL when out of memory.
 */
char *mmpctl_escape(const char *s);

/* mmp_time as debugfs prints it (ctime(3) in local time, no newline), or
 * "(out of range)".  Writes into @buf of @len bytes and returns it. */
const char *mmpctl_format_time(uint64_t t, char *buf, size_t len);
