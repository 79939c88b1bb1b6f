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
 *
 *   [volume "NAME"]
 *   device = /dev/...        required
 *   margin = SECONDS         overrides the [mmpd] default
 *   io_timeout = SECONDS
 *
 * Every error names file:line and what was wrong; nothing is half-loaded.
 * Lines may be indented; comments are whole lines starting with '#' or ';',
 * or " ; text" after a value.  Multi-line values are not supported.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define MMPD_DEFAULT_CONFIG  "/etc/mmpd/mmpd.conf"
#define MMPD_DEFAULT_SOCKET  "/run/mmpd/io.mmpd"
#define MMPD_NAME_MAX        64      /* volume names: [A-Za-z0-9._:@-]+ */

/* Bounds on values (inclusive). */
#define MMPD_NODE_NAME_MAX   64      /* bytes: the on-disk mmp_nodename field is 64 bytes */
#define MMPD_SECONDS_MAX     3600    /* margin, io_timeout */
#define MMPD_VOLUMES_MAX     100000  /* upper bound for max_volumes */
#define MMPD_DEFAULT_MAX_VOLUMES 10000

struct mmpd_volume_conf {
        char *name;
        char *device;
        double margin;          /* seconds, 0 = automatic */
        double io_timeout;      /* seconds, 0 = automatic */
        unsigned line;          /* where the section started */
};

struct mmpd_conf {
        char *path;             /* NULL when built from defaults only */
        char *node_name;
        char *socket_path;
        char *admin_group;      /* NULL = root only */
        bool keep_on_stop;
        unsigned max_volumes;
        double margin;
        double io_timeout;
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
const struct mmpd_volume_conf *mmpd_conf_find_volume(const struct mmpd_conf *conf, const char *name);
