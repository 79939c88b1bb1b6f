/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mmpd configuration (libinih).  Default file /etc/mmpd/mmpd.conf.
 *
 *   [mmpd]
 *   node_name = ...          default: hostname
 *   socket = PATH            default: /run/mmpd/io.mmpd
 *   admin_group = GROUP      may Claim/Release besides root
 *   keep_on_stop = no        yes: SIGTERM leaves volumes held (restart handover)
 *   max_volumes = 10000
 *   margin = SECONDS         volume default: fence margin (0 = automatic)
 *   io_timeout = SECONDS     volume default: per-I/O deadline (0 = automatic)
 *   watchdog_device = PATH   petted while no volume is LOST and unfenced
 *   watchdog_interval = SECONDS  how often (default 1)
 *   exclusive, fence*        volume defaults, see below
 *
 *   [volume "NAME"]
 *   device = /dev/...        required
 *   margin = SECONDS         overrides the [mmpd] default
 *   io_timeout = SECONDS
 *   exclusive = yes          open O_EXCL (no: the filesystem may be mounted)
 *   fence = yes              run the staged fence when the volume is LOST
 *   fence_hook = PATH        stage (b): a program run with MMPD_* variables
 *   fence_hook_timeout = S   its share of the time (0 = automatic)
 *   fence_kill = yes         stage (c): SIGTERM, then SIGKILL, local users
 *   fence_kill_grace = S     SIGTERM -> SIGKILL (0 = automatic)
 *   fence_shutdown = yes     stage (d): FS_IOC_SHUTDOWN each mount
 *   fence_last_resort = none   stage (e): none|watchdog|reboot|hook
 *   fence_reboot_command = PATH  run instead of reboot(2) (tests)
 * Volume keys not set in a volume's section inherit the [mmpd] value.
 * See docs/fencing.md.
 *
 * Every error names file:line and what was wrong; nothing is half-loaded.
 * Lines may be indented; comments are whole lines starting with '#' or ';',
 * or " ; text" after a value.  Multi-line values are not supported.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MMPD_DEFAULT_CONFIG  "/etc/mmpd/mmpd.conf"
#define MMPD_DEFAULT_SOCKET  "/run/mmpd/io.mmpd"
#define MMPD_NAME_MAX        64      /* volume names: [A-Za-z0-9._:@-]+ */

/* Bounds on values (inclusive). */
#define MMPD_NODE_NAME_MAX   64      /* bytes: the on-disk mmp_nodename field is 64 bytes */
#define MMPD_SECONDS_MAX     3600    /* margin, io_timeout */
#define MMPD_VOLUMES_MAX     100000  /* upper bound for max_volumes */
#define MMPD_DEFAULT_MAX_VOLUMES 10000

enum mmpd_last_resort {
        MMPD_LAST_RESORT_NONE,
        MMPD_LAST_RESORT_WATCHDOG,
        MMPD_LAST_RESORT_REBOOT,
        MMPD_LAST_RESORT_HOOK,
};

/* Per volume, with [mmpd] defaults (docs/fencing.md). */
struct mmpd_fence_conf {
        bool exclusive;         /* open the device O_EXCL */
        bool enabled;           /* fence = */
        char *hook;             /* NULL: no hook stage */
        double hook_timeout;    /* seconds, 0 = automatic */
        bool kill;
        double kill_grace;      /* seconds, 0 = automatic */
        bool shutdown;
        int last_resort;        /* enum mmpd_last_resort */
        char *reboot_command;   /* NULL: reboot(2) */
        /* Handing the volume to a local user (docs/handoff.md); kept here
         * because it is per volume with an [mmpd] default, like fencing. */
        bool handoff_wait;      /* handoff = wait (else fast) */
        double handoff_timeout; /* seconds for the user's first write; 0 = default */
};

#define MMPD_DEFAULT_HANDOFF_TIMEOUT 5.0

struct mmpd_volume_conf {
        char *name;
        char *device;
        double margin;          /* seconds, 0 = automatic */
        double io_timeout;      /* seconds, 0 = automatic */
        struct mmpd_fence_conf fence;
        unsigned line;          /* where the section started */
        uint64_t set;           /* internal: keys set in this section */
};

struct mmpd_conf {
        char *path;             /* NULL when built from defaults only */
        char *node_name;
        char *socket_path;
        char *admin_group;      /* NULL = root only */
        char *host_name;        /* the name the kernel and e2fsprogs write (default: uname) */
        bool keep_on_stop;
        unsigned max_volumes;
        double margin;
        double io_timeout;
        char *watchdog_device;
        double watchdog_interval;
        struct mmpd_fence_conf fence;   /* volume defaults */
        struct mmpd_volume_conf *volumes;
        size_t n_volumes;
};

/*
 * Load @path (NULL: MMPD_DEFAULT_CONFIG).  @must_exist false: a missing file
 * yields the defaults (the default path need not exist); true: missing is an
 * error.  On error returns -errno (-EINVAL for a bad config, -ENOMEM, or the
 * open/read errno) and sets *ret_error to a malloc'd "FILE:LINE: message" (or
 * "FILE: message" when no line applies; NULL if even that allocation failed);
 * *ret is untouched.  @ret_error may be NULL; on success it is not touched.
 *
 * Volumes keep the order of the file.  Volume margin/io_timeout that are not
 * set in the volume's section inherit the [mmpd] values, wherever [mmpd] is.
 * Not thread-safe: libinih's line limit is a process-wide setting that is
 * raised for the duration of the parse.
 */
int mmpd_conf_load(const char *path, bool must_exist, struct mmpd_conf **ret, char **ret_error);
struct mmpd_conf *mmpd_conf_free(struct mmpd_conf *conf);
static inline void mmpd_conf_freep(struct mmpd_conf **conf) { mmpd_conf_free(*conf); }
#define _cleanup_conf_ __attribute__((cleanup(mmpd_conf_freep)))

/* NULL when there is no volume @name (names compare exactly). */
/* Deep copy / free of a fence conf (the fencer keeps one per run). */
int mmpd_fence_conf_copy(const struct mmpd_fence_conf *from, struct mmpd_fence_conf *to);
void mmpd_fence_conf_done(struct mmpd_fence_conf *fc);
const char *mmpd_last_resort_name(int lr);

const struct mmpd_volume_conf *mmpd_conf_find_volume(const struct mmpd_conf *conf, const char *name);
