/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One volume: its device, its one I/O request, its one deadline and its
 * state machine (lib/mmp-sm), wired to the loop.
 *
 * A volume knows nothing of who owns it.  It is created with a
 * struct volume_host that carries what it needs (loop, I/O engine,
 * BOOTTIME timers, node name) and the three ways it reports back: events,
 * "done" (it may be unlinked and freed) and "beat" (after every step while
 * held).  The struct is private; callers use the functions below.
 *
 * Dependency direction in mmpd/ (tools/deps.sh checks it):
 *   main -> daemon -> {varlink methods, fence, fdstore} -> manager -> volume
 *        -> {io, timer, lib/}
 */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ev.h>

#include "io.h"
#include "mmp-hist.h"
#include "mmp-sm.h"
#include "timer.h"

struct volume;

/* For status: what the fence of one volume did (filled by the fencer
 * through the owner's info hook; see manager_set_info_hook()). */
enum fence_stage {
        FENCE_STAGE_NONE,
        FENCE_STAGE_NOTIFY,
        FENCE_STAGE_HOOK,
        FENCE_STAGE_KILL,
        FENCE_STAGE_SHUTDOWN,
        FENCE_STAGE_LAST_RESORT,
        FENCE_STAGE_DONE,
};

struct fence_info {
        enum fence_stage stage;
        const char *stage_name;      /* as in io.mmpd's Fence.stage */
        mmp_usec_t started;          /* 0: never fenced */
        mmp_usec_t finished;         /* 0: still running */
        mmp_usec_t deadline;         /* last good write + W */
        const char *outcome;         /* "running", "fenced", "failed", "late" */
};

/* Heartbeat and I/O latency histograms (io.mmpd's Stats). */
struct volume_stats {
        struct mmp_hist submit_late;     /* heartbeat due -> write submitted */
        struct mmp_hist landed_late;     /* heartbeat due -> write completed */
        struct mmp_hist io;              /* every I/O: submit -> complete */
};

/* A snapshot of one volume for status, Check and events. */
struct volume_info {
        const char *name;
        const char *device;
        enum mmp_state state;
        enum mmp_phase phase;
        bool is_static;              /* from the config file */
        bool have_sb;
        struct mmp_sb sb;
        struct mmp_sm_status sm;     /* seq, last_good, deadlines, holder... */
        int error;                   /* last error (-errno), 0 = none */
        const char *error_text;      /* human text for error, or NULL */
        mmp_usec_t claim_started;    /* CLOCK_BOOTTIME */
        mmp_usec_t wait_until;       /* claim waits: when the current wait ends */
        mmp_usec_t now;              /* CLOCK_BOOTTIME time of the snapshot */
        uint64_t wall_now;           /* wall time of the snapshot (to convert) */
        dev_t rdev;                  /* block device number; 0 for a regular file */
        bool have_fence;             /* this volume was (or is being) fenced */
        struct fence_info fence;
        /* Handed to a local user (state IN_USE, or LOST while in use):
         * sm.user, sm.user_block... and these. */
        bool in_use;
        pid_t use_pid;               /* tool: the process; 0 otherwise */
        const char *use_mount_point; /* kernel: where the caller mounted it, or NULL */
        bool use_keep;               /* re-claim when the use ends */
        const struct volume_stats *stats; /* NULL before the first I/O */
};

enum volume_event_type {
        VOLUME_EVENT_PROGRESS,       /* claim moved to another phase */
        VOLUME_EVENT_CLAIMED,
        VOLUME_EVENT_REFUSED,
        VOLUME_EVENT_RELEASED,
        VOLUME_EVENT_LOST,
        VOLUME_EVENT_SLOW_IO,        /* an I/O took longer than half the update interval */
        VOLUME_EVENT_CHECK_INTERVAL, /* the check_interval we write changed */
        VOLUME_EVENT_REMOVED,        /* the volume object is going away */
        VOLUME_EVENT_HANDOFF,        /* CLEAN written / writes stopped: start the user */
        VOLUME_EVENT_IN_USE,         /* the local user's first write is on disk */
        VOLUME_EVENT_USE_ENDED,      /* error 0: released by the user; else why it failed */
        VOLUME_EVENT_USE_BUSY,       /* EndUse found the user still writing (not for Watch) */
};

struct volume_event {
        enum volume_event_type type;
        struct volume *volume;
        const struct volume_info *info;
        int error;                   /* REFUSED/LOST/RELEASED */
        const char *reason;
        mmp_usec_t io_usec;          /* SLOW_IO */
};

/* Hand a held volume to a local user. */
struct handoff_request {
        int user;                    /* enum mmp_user */
        int mode;                    /* enum mmp_handoff_mode; -1 = the volume's */
        pid_t pid;                   /* tool */
        const char *mount_point;     /* kernel, informational */
        bool keep;
};

struct volume_host {
        struct ev_loop *loop;
        struct mmpd_io *io;
        struct mmpd_timers *timers;
        const char *node_name;       /* outlives the volume */
        /* Every outcome.  Not called for a volume being freed. */
        void (*event)(struct volume *v, enum volume_event_type type, int error,
                      const char *reason, mmp_usec_t io_usec, void *userdata);
        /* The volume is finished (released, refused and not static...):
         * the owner unlinks it and frees it outside this call stack. */
        void (*done)(struct volume *v, void *userdata);
        /* After every step while held (seq, last good write). */
        void (*beat)(struct volume *v, const struct mmp_sm_status *st, void *userdata);
        void *userdata;
};

struct volume_opts {
        bool is_static;
        bool exclusive;         /* O_EXCL on a block device */
        bool handoff_wait;      /* handoff = wait */
        double handoff_timeout; /* seconds, 0 = default */
        double margin;          /* seconds, 0 = automatic */
        double io_timeout;      /* seconds, 0 = automatic */
        unsigned slot;          /* spreading index */
        const char *host_name;  /* this machine's kernel node name (copied) */
};

int volume_new(const struct volume_host *host, const char *name, const char *device, int fd,
               const struct volume_opts *opts, struct volume **ret);
/* Where on a heartbeat period of @period the volume with spreading index
 * @slot beats: a multiple of the heartbeat grid, below @period, shared by
 * runs of consecutive indices (volume.c, BEAT_GROUP). */
mmp_usec_t volume_beat_slot(unsigned slot, mmp_usec_t period);
/* A static volume whose device cannot be used (missing, a directory, a
 * FIFO, /dev/zero): listed as refused with the reason, no device. */
int volume_new_unusable(const struct volume_host *host, const char *name, const char *device,
                        int error, struct volume **ret);
struct volume *volume_free(struct volume *v);

/* Start claiming: read the superblock, then run the state machine. */
void volume_claim(struct volume *v);
/*
 * Take over a hold from a previous mmpd (fd store): read the superblock,
 * then MMP_EV_RESUME with what it recorded: no claim wait; another holder
 * on disk or a passed fence deadline makes the volume LOST.
 */
void volume_resume(struct volume *v, uint32_t seq, uint16_t check_interval, mmp_usec_t last_good);
/* Release (or abort a claim); done() follows.  -EBUSY while a local user has it. */
int volume_release(struct volume *v);
/* -ENOLCK: not held; -EBUSY: already in use; -EINVAL: bad arguments; -ESRCH: no such pid. */
int volume_handoff(struct volume *v, const struct handoff_request *req);
/* @keep -1 = as given to the handoff. */
int volume_end_use(struct volume *v, int keep);

const char *volume_name(const struct volume *v);
const char *volume_device(const struct volume *v);
enum mmp_state volume_state(const struct volume *v);
bool volume_is_static(const struct volume *v);
bool volume_has_device(const struct volume *v);
/* Claiming, held, releasing or reading its superblock: not yet done. */
bool volume_is_busy(const struct volume *v);
/* Release was asked for: it goes once done. */
bool volume_is_removing(const struct volume *v);
/* Is @st (a stat of a path or fd) this volume's device? */
bool volume_same_device(const struct volume *v, const struct stat *st);
/* mmpd_dev_key() of its device (0 without one): see manager.c's index. */
uint64_t volume_device_key(const struct volume *v);
/* The same key for the stat() of a path (equal for any path to the device). */
uint64_t volume_stat_key(const struct stat *st);
/* A new fd on the device without O_EXCL (for the systemd fd store). */
int volume_open_shared(struct volume *v);
/* Take O_EXCL on the device again (after a resume from the fd store). */
int volume_set_exclusive(struct volume *v, bool exclusive);
/* The snapshot, without what only the owner knows (the fence). */
void volume_fill_info(struct volume *v, struct volume_info *ret);

/* Per-volume slots for the owner and its subscribers (registry, fd store). */
enum volume_slot { VOLUME_SLOT_REGISTRY, VOLUME_SLOT_FDSTORE, VOLUME_SLOT_MAX };
void *volume_slot(const struct volume *v, enum volume_slot s);
void volume_set_slot(struct volume *v, enum volume_slot s, void *data);
