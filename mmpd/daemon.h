/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The composition root: loads the configuration, creates the I/O engine,
 * the BOOTTIME timers, the volume registry (manager), the fencer, the fd
 * store and the control socket, wires them together, and owns the life
 * cycle: signals (TERM/INT stop, HUP reload), sd_notify READY/STATUS/
 * STOPPING/WATCHDOG, and the shutdown order (releases, then running
 * fences, then exit).
 */
#pragma once

#include <stdbool.h>

#include <ev.h>

struct daemon;

struct daemon_options {
        const char *config_path;     /* NULL = default */
        bool config_must_exist;
        const char *node_name;       /* overrides config */
        const char *socket_path;     /* overrides config */
        bool keep_on_stop;           /* true overrides config */
};

int daemon_new(struct ev_loop *loop, const struct daemon_options *opts, struct daemon **ret);
/* Resume the fd store's holds, claim the static volumes, open the control
 * socket, notify READY=1. */
int daemon_start(struct daemon *d);
/* Re-read the config; on error keep the old one and return -errno. */
int daemon_reload(struct daemon *d);
struct daemon *daemon_free(struct daemon *d);
