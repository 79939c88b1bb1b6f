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

#include "mmp-timing.h"

struct manager;
struct fencer;

enum fence_stage {
        FENCE_STAGE_NONE,
        FENCE_STAGE_NOTIFY,
        FENCE_STAGE_HOOK,
        FENCE_STAGE_KILL,
        FENCE_STAGE_SHUTDOWN,
        FENCE_STAGE_LAST_RESORT,
        FENCE_STAGE_DONE,
};

/* For status: what the fence of one volume did. */
struct fence_info {
        enum fence_stage stage;
        const char *stage_name;      /* as in io.mmpd's Fence.stage */
        mmp_usec_t started;          /* 0: never fenced */
        mmp_usec_t finished;         /* 0: still running */
        mmp_usec_t deadline;         /* last good write + W */
        const char *outcome;         /* "running", "fenced", "failed", "late" */
};

int fencer_new(struct manager *m, struct fencer **ret);
struct fencer *fencer_free(struct fencer *f);
/* 0 and *ret filled when @volume_name has (or had) a fence run. */
int fencer_get(struct fencer *f, const char *volume_name, struct fence_info *ret);
const char *fence_stage_name(enum fence_stage s);
/* A fence is running: shutdown waits for it (each is bounded by its deadline). */
bool fencer_busy(struct fencer *f);

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
