/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One volume: its device, its one I/O request and its state machine, wired
 * to the loop.  Private to mmpd/; the control plane uses manager.h.
 */
#pragma once

#include <stdbool.h>

#include <ev.h>

#include "io.h"
#include "manager.h"
#include "mmp-sm.h"

struct volume_opts {
        bool is_static;
        bool exclusive;         /* O_EXCL on a block device */
        bool handoff_wait;      /* handoff = wait */
        double handoff_timeout; /* seconds, 0 = default */
        double margin;          /* seconds, 0 = automatic */
        double io_timeout;      /* seconds, 0 = automatic */
        unsigned slot;          /* spreading index */
};

struct volume {
        struct manager *m;
        struct volume *prev, *next;
        char *name;
        char *device;
        char *bdevname;         /* short name written to the MMP block */
        struct volume_opts opts;

        struct mmpd_dev *dev;
        struct mmpd_ioreq *req;
        struct mmp_sm *sm;
        bool have_sb;
        struct mmp_sb sb;
        bool reading_sb;

        ev_timer timer;
        mmp_usec_t armed_at;            /* what the timer is set for */
        bool has_pending;
        struct mmp_action pending;      /* I/O deferred until a timed-out one drains */
        enum mmpd_io_op op;             /* the I/O in flight */

        enum mmp_state state;
        enum mmp_phase phase;
        int error;
        const char *error_text;
        char *error_buf;                /* error_text when it is ours to free */
        mmp_usec_t claim_started;
        mmp_usec_t wait_until;
        bool removing;                  /* release requested: free after RELEASED */
        bool slow[2];                   /* last read/write was slow (for event edges) */
        unsigned last_ci;

        /* handed to a local user */
        struct {
                int user;               /* enum mmp_user, MMP_USER_NONE when not in use */
                pid_t pid;
                int pidfd;              /* tool: readable once it exits; -1 */
                ev_io pid_watcher;
                char *mount_point;
                bool keep;
                bool exited;            /* tool: its process has exited */
                bool seen_reported;     /* VOLUME_EVENT_IN_USE was sent */
                bool reclaiming;        /* the use ended; claiming again */
        } use;

        /* systemd fd store (manager.c, systemd.c) */
        int sd_slot;                    /* -1: not stored */
        uint32_t sd_seq;                /* what the record says */
        mmp_usec_t sd_last_good;
        bool resuming;                  /* started by volume_resume() */
        bool probing;                   /* resume: reading the MMP block first */
        struct {
                uint32_t seq;
                uint16_t check_interval;
                mmp_usec_t last_good;
        } resume;
};

int volume_new(struct manager *m, const char *name, const char *device, int fd,
               const struct volume_opts *opts, struct volume **ret);
/* A static volume whose device cannot be used (missing, a directory, a
 * FIFO, /dev/zero): listed as refused with the reason, no device. */
int volume_new_unusable(struct manager *m, const char *name, const char *device, int error,
                        struct volume **ret);
struct volume *volume_free(struct volume *v);
/* Start claiming: read the superblock, then run the state machine. */
void volume_claim(struct volume *v);
/*
 * Take over a hold from a previous mmpd (fd store): read the superblock,
 * then MMP_EV_RESUME with what it recorded: no claim wait; another holder
 * on disk or a passed fence deadline makes the volume LOST.
 */
void volume_resume(struct volume *v, uint32_t seq, uint16_t check_interval, mmp_usec_t last_good);
/* Release (or abort a claim); the manager removes the volume once done.
 * -EBUSY while a local user has it. */
int volume_release(struct volume *v);
int volume_handoff(struct volume *v, const struct handoff_request *req);
int volume_end_use(struct volume *v, int keep);
const char *volume_device(const struct volume *v);

/* manager.c, called by volume.c */
void manager_volume_event(struct manager *m, struct volume *v, enum volume_event_type type,
                          int error, const char *reason, mmp_usec_t io_usec);
void manager_volume_done(struct manager *m, struct volume *v);
/* fence.c: a fence run finished (a pending shutdown may go on). */
void manager_fence_done(struct manager *m);
/* After every step while held: keeps the fd store record current. */
void manager_volume_beat(struct manager *m, struct volume *v, const struct mmp_sm_status *st);
struct mmpd_io *manager_io(struct manager *m);
