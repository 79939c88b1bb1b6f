/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fencing: the staged response to a LOST volume, finished before the last
 * good heartbeat write + W, when a peer may first legally write the MMP
 * block.  docs/fencing.md has the timing argument and the stage table.
 *
 *   (a) notify    the LOST event itself (Watch, STATUS); logged
 *   (b) hook      fence_hook, SIGKILLed when it overruns its share
 *   (c) kill      SIGTERM, then SIGKILL, every local user of the device
 *   (d) shutdown  FS_IOC_SHUTDOWN (NOLOGFLUSH) on every mount of it
 *   (e) last resort when a stage failed or the deadline passed:
 *                 stop petting the watchdog, reboot, or run the hook again
 *
 * Everything on the loop is asynchronous: children through ev_child, /proc
 * scans and the ioctl on offload threads, each stage bounded by a timer.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "manager.h"
#include "mmp-timing.h"
#include "timer.h"

struct fencer;

/* The fencer subscribes to @m's events; @done runs when a fence run
 * finishes (a pending shutdown may go on).  Stage deadlines are @timers. */
int fencer_new(struct manager *m, struct mmpd_timers *timers, void (*done)(void *userdata),
               void *userdata, struct fencer **ret);
struct fencer *fencer_free(struct fencer *f);
/* 0 and *ret filled when @volume_name has (or had) a fence run. */
int fencer_get(struct fencer *f, const char *volume_name, struct fence_info *ret);
const char *fence_stage_name(enum fence_stage s);
/* A fence is running: shutdown waits for it (each is bounded by its deadline). */
bool fencer_busy(struct fencer *f);

/* ---- fence-plan.c: the time budget, pure ---- */

#define FENCE_MIN_STAGE_USEC (200 * 1000)   /* when already late: still try */

/* The usual order: the hook may stop services gracefully before users are
 * killed, and a filesystem is shut down once nothing uses it any more. */
extern const enum fence_stage fence_order_users_first[];
/* A volume handed to a kernel mount: the kernel writes to it until it is
 * shut down, so FS_IOC_SHUTDOWN comes first, then its users. */
extern const enum fence_stage fence_order_shutdown_first[];

struct fence_plan {
        const enum fence_stage *order;  /* ends with FENCE_STAGE_DONE */
        bool hook, kill, shutdown;      /* configured */
        bool have_rdev;                 /* a block device (kill/shutdown can match it) */
};

size_t fence_stage_pos(const struct fence_plan *p, enum fence_stage s);
/* Does stage @s run at all in this plan? */
bool fence_plan_runs(const struct fence_plan *p, enum fence_stage s);
/*
 * Stage @s's share of @left (the time to the deadline when it starts): its
 * weight (hook 3, kill 4, shutdown 2) over the weights of it and every
 * stage after it that runs, plus a tail share of 1 kept for the last
 * resort and slack; never less than FENCE_MIN_STAGE_USEC, so a stage that
 * starts late still gets its try.
 */
mmp_usec_t fence_stage_budget(const struct fence_plan *p, enum fence_stage s, mmp_usec_t left);

/* ---- fence-proc.c: blocking helpers for offload threads ---- */

#define FENCE_PIDS_MAX 1024

struct fence_pids {
        size_t n;
        bool truncated;
        pid_t pid[FENCE_PIDS_MAX];
        int fd[FENCE_PIDS_MAX];      /* pidfds */
};

/* Processes (not @self, not PID 1) with @dev open, or with an fd, cwd, root
 * or mapping on a filesystem whose st_dev is @dev. */
int fence_scan_users(dev_t dev, pid_t self, struct fence_pids *ret);
void fence_pids_done(struct fence_pids *p);

struct fence_shutdown_result {
        unsigned found, done;
        int error;                   /* first failure, -errno */
        char failed_at[256];
};

/* FS_IOC_SHUTDOWN with EXT4_GOING_FLAGS_NOLOGFLUSH on each mount of @dev
 * in our mount namespace. */
int fence_shutdown_mounts(dev_t dev, struct fence_shutdown_result *ret);
