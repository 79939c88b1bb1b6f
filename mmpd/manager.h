/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The volume registry and the daemon's life cycle.  The control plane
 * (varlink server) and systemd glue talk to volumes only through this API;
 * nothing here knows about sockets or JSON.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "conf.h"
#include "fence.h"
#include "mmp-sm.h"

struct manager;
struct volume;

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
        mmp_usec_t claim_started;    /* monotonic */
        mmp_usec_t wait_until;       /* claim waits: when the current wait ends */
        mmp_usec_t now;              /* monotonic time of the snapshot */
        uint64_t wall_now;           /* wall time of the snapshot (to convert) */
        bool have_fence;             /* this volume was (or is being) fenced */
        struct fence_info fence;
        /* Handed to a local user (state IN_USE, or LOST while in use):
         * sm.user, sm.user_block... and these. */
        bool in_use;
        pid_t use_pid;               /* tool: the process; 0 otherwise */
        const char *use_mount_point; /* kernel: where the caller mounted it, or NULL */
        bool use_keep;               /* re-claim when the use ends */
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

typedef void (*volume_event_cb)(const struct volume_event *ev, void *userdata);
struct subscription;

struct manager_options {
        const char *config_path;     /* NULL = default */
        bool config_must_exist;
        const char *node_name;       /* overrides config */
        const char *socket_path;     /* overrides config */
        bool keep_on_stop;           /* true overrides config */
};

int manager_new(struct ev_loop *loop, const struct manager_options *opts, struct manager **ret);
struct manager *manager_free(struct manager *m);
/* Claim the static volumes, open the control socket, notify READY=1. */
int manager_start(struct manager *m);
/* Re-read the config; on error keep the old one and return -errno. */
int manager_reload(struct manager *m);
struct ev_loop *manager_loop(struct manager *m);
const struct mmpd_conf *manager_conf(struct manager *m);
const char *manager_node_name(struct manager *m);
struct fencer *manager_fencer(struct manager *m);   /* fence.h */

/*
 * Claim a device at runtime.  @device is a path; @name defaults to the path.
 * @fd >= 0: use this already-open fd (dup'd; the caller keeps its own).
 * Returns the volume (claim in progress) or -EEXIST if the device or name is
 * already registered (*ret is then set to that volume), -errno on open errors.
 * Progress and the outcome arrive as events.
 */
int manager_claim(struct manager *m, const char *device, const char *name, int fd,
                  struct volume **ret);
/* Release: writes CLEAN if held; the volume is removed after RELEASED. */
int manager_release(struct manager *m, struct volume *v);

/*
 * Hand a held volume to a local user (see volume.h).  -ENOLCK: not held;
 * -EBUSY: already in use; -EINVAL: bad arguments; -ESRCH: no such pid.
 * Outcome as events: HANDOFF (go), then IN_USE, or USE_ENDED/LOST.
 */
struct handoff_request {
        int user;                    /* enum mmp_user */
        int mode;                    /* enum mmp_handoff_mode; -1 = the volume's */
        pid_t pid;                   /* tool */
        const char *mount_point;     /* kernel, informational */
        bool keep;
};
int manager_handoff(struct manager *m, struct volume *v, const struct handoff_request *req);
/* End the local use: @keep -1 = as given to the handoff.  Outcome as
 * events: USE_ENDED then RELEASED or a re-claim, USE_BUSY, or LOST. */
int manager_end_use(struct manager *m, struct volume *v, int keep);
/* Look a volume up by name, by path, or by the device node it resolves to. */
struct volume *manager_find(struct manager *m, const char *device_or_name);

/* Iterate: first/next in registration order; NULL at the end. */
struct volume *manager_first(struct manager *m);
struct volume *manager_next(struct manager *m, struct volume *v);
unsigned manager_count(struct manager *m, enum mmp_state state);

void volume_get_info(struct volume *v, struct volume_info *ret);
const char *volume_name(const struct volume *v);

/* Event subscription (Watch, claim progress).  Callbacks run on the loop;
 * a callback may unsubscribe itself.  Unsubscribe returns NULL. */
struct subscription *manager_subscribe(struct manager *m, volume_event_cb cb, void *userdata);
struct subscription *manager_unsubscribe(struct manager *m, struct subscription *s);
