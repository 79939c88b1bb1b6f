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
/* The commands that ask mmpd, through libmmp's public header only. */
int mmpctl_cmd_status(struct mmpctl_ctx *ctx, int argc, char **argv);
int mmpctl_cmd_claim(struct mmpctl_ctx *ctx, int argc, char **argv);
int mmpctl_cmd_release(struct mmpctl_ctx *ctx, int argc, char **argv);
int mmpctl_cmd_check(struct mmpctl_ctx *ctx, int argc, char **argv);
int mmpctl_cmd_watch(struct mmpctl_ctx *ctx, int argc, char **argv);
int mmpctl_cmd_hold(struct mmpctl_ctx *ctx, int argc, char **argv);
int mmpctl_cmd_mount(struct mmpctl_ctx *ctx, int argc, char **argv);
int mmpctl_cmd_umount(struct mmpctl_ctx *ctx, int argc, char **argv);
int mmpctl_cmd_exec(struct mmpctl_ctx *ctx, int argc, char **argv);
int mmpctl_cmd_metrics(struct mmpctl_ctx *ctx, int argc, char **argv);

/* Errors and warnings, as "mmpctl: ..." on stderr. */
void mmpctl_err(const char *fmt, ...) _printf_(1, 2);

/*
 * A volume's superblock and MMP block, read straight from the device with
 * positioned reads (O_DIRECT and sector-aligned buffers on a block device;
 * a regular image file is read without O_DIRECT).
 */
struct mmpctl_ondisk {
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
int mmpctl_ondisk_read(const char *path, struct mmpctl_ondisk *ret, const char **ret_what);

/*
 * A name from disk made safe to print: printable ASCII is kept, a backslash
 * becomes "\\", every other byte "\xNN".  Lossless and unambiguous.
 * Returns a malloc'ed string, or NULL when out of memory.
 */
char *mmpctl_escape(const char *s);

/* mmp_time as debugfs prints it (ctime(3) in local time, no newline), or
 * "(out of range)".  Writes into @buf of @len bytes and returns it. */
const char *mmpctl_format_time(uint64_t t, char *buf, size_t len);

/* ---- talking to mmpd (mmpctl/client.c) ------------------------------------ */

struct mmp_client;

/* How long status, check and release wait for mmpd's answer. */
#define MMPCTL_CALL_TIMEOUT_USEC (30u * 1000000u)

/*
 * Connect to mmpd at ctx->socket_path (--socket), else $MMPD_SOCKET, else
 * the default, with a reply timeout of @timeout_usec (0: none).  On
 * failure prints "cannot reach mmpd at PATH: ERROR (is mmpd running?)"
 * and returns -errno.
 */
int mmpctl_connect(const struct mmpctl_ctx *ctx, uint64_t timeout_usec, struct mmp_client **ret);

/* Print why a call failed: "mmpctl: [PREFIX: ]MESSAGE", the message being
 * libmmp's last error of @client, or strerror(-@r) without one. */
void mmpctl_err_call(struct mmp_client *client, int r, const char *prefix);

/* True when the last call on @client failed with an error reply from mmpd
 * (not on this side: a timeout, a closed connection). */
bool mmpctl_is_reply_error(struct mmp_client *client);

/* Wall-clock seconds as "2026-11-24 05:41:02 UTC" (local time zone). */
const char *mmpctl_format_wall(int64_t t, char *buf, size_t len);

/* Like mmpctl_escape(), for strings that may be NULL: NULL gives "-". */
char *mmpctl_escape_or_dash(const char *s);

/* ---- claiming (mmpctl/claim.c) -------------------------------------------- */

struct mmp_volume;

/*
 * Claim @device as `mmpctl claim` does, progress on a terminal; with
 * @announce also a line on stderr when it starts and ends off a terminal.
 * Already held by this node is fine.  Returns the exit status, having said
 * why when it is not MMPCTL_EXIT_OK.
 */
int mmpctl_claim_volume(struct mmp_client *client, const char *device, const char *name,
                        bool announce);

/*
 * Wait while mmpd claims @device (polling Check), progress as for a claim.
 * Returns MMPCTL_EXIT_OK once held, else the exit status, having said why.
 */
int mmpctl_wait_claimed(struct mmp_client *client, const char *device, bool announce);

/* ---- handing volumes to local users (mmpctl/use.c) -------------------------- */

/*
 * For mount and exec: make sure mmpd holds @device.  Claims it when mmpd
 * does not know it, waits while it is being claimed; a volume in use,
 * lost or released is refused with the reason.  Returns the exit status.
 */
int mmpctl_hold_for_use(struct mmp_client *client, const char *device);

/* A volume's use as one phrase: "kernel mount /srv", "tool pid 1234",
 * followed by " (handing_off)" outside phase in_use; "-" without a use. */
const char *mmpctl_use_text(const struct mmp_volume *v, char *buf, size_t len);

/*
 * Say what EndUse did with @device (the volume @v it returned), as "PREFIX;
 * mmpd released DEV" or "PREFIX; mmpd claims DEV again" on stderr (@prefix
 * may be NULL).  With @wait, a new claim is followed until decided.
 * Returns the exit status: MMPCTL_EXIT_UNUSABLE when that claim failed.
 */
int mmpctl_report_end_of_use(struct mmp_client *client, const char *device,
                             const struct mmp_volume *v, bool wait, const char *prefix);

/* mmp_end_use() on @client and mmpctl_report_end_of_use(); a failed call is
 * said and returns MMPCTL_EXIT_ERROR. */
int mmpctl_end_use(struct mmp_client *client, const char *device, int keep, bool wait,
                   const char *prefix);

/* ---- unmounting (mmpctl/umount.c) ------------------------------------------- */

/*
 * Unmount @target with libmount.  0, or -errno with the reason in @msg
 * (libmount's words, e.g. "target is busy").
 */
int mmpctl_unmount(const char *target, char *msg, size_t len);
