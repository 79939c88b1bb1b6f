/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The volume registry and its event bus.  Volumes are created here, from a
 * runtime claim, a static [volume] section or a hold resumed from the fd
 * store, with the options the configuration gives them; their outcomes go
 * to subscribers.  Nothing here knows about sockets, JSON, systemd or
 * fencing: those subscribe (see daemon.c, the composition root).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "conf.h"
#include "mmp-sm.h"
#include "volume.h"

struct manager;
struct subscription;

typedef void (*volume_event_cb)(const struct volume_event *ev, void *userdata);
typedef void (*volume_beat_cb)(struct volume *v, const struct mmp_sm_status *st, void *userdata);
/* Adds what the owner knows to a snapshot (the fence of a lost volume). */
typedef void (*volume_info_hook)(struct volume *v, struct volume_info *info, void *userdata);

struct manager_env {
        struct ev_loop *loop;
        struct mmpd_io *io;
        struct mmpd_timers *timers;
        const char *node_name;       /* outlives the manager */
};

int manager_new(const struct manager_env *env, const struct mmpd_conf *conf, struct manager **ret);
struct manager *manager_free(struct manager *m);
struct ev_loop *manager_loop(struct manager *m);
const struct mmpd_conf *manager_conf(struct manager *m);
const char *manager_node_name(struct manager *m);
void manager_set_info_hook(struct manager *m, volume_info_hook hook, void *userdata);

/*
 * Claim a device at runtime.  @device is a path; @name defaults to the path.
 * @fd >= 0: use this already-open fd (dup'd; the caller keeps its own).
 * Returns the volume (claim in progress) or -EEXIST if the device or name is
 * already registered (*ret is then set to that volume), -ESHUTDOWN while
 * stopping, -errno on open errors.  Progress and the outcome arrive as events.
 */
int manager_claim(struct manager *m, const char *device, const char *name, int fd,
                  struct volume **ret);
/* Take over a hold a previous mmpd recorded (no claim wait). */
struct manager_resume {
        const char *device, *name;
        int fd;                      /* the stored fd (dup'd) */
        uint32_t seq;
        uint16_t check_interval;
        mmp_usec_t last_good;
};
int manager_resume(struct manager *m, const struct manager_resume *res, struct volume **ret);
/* Release: writes CLEAN if held; the volume is removed after RELEASED. */
int manager_release(struct manager *m, struct volume *v);
/* See volume_handoff(), volume_end_use(). */
int manager_handoff(struct manager *m, struct volume *v, const struct handoff_request *req);
int manager_end_use(struct manager *m, struct volume *v, int keep);
/* Look a volume up by name, by path, or by the device node it resolves to. */
struct volume *manager_find(struct manager *m, const char *device_or_name);

/* Claim every static volume not registered yet (start, reload). */
void manager_claim_static(struct manager *m);
/* A new configuration (the old one stays valid until this returns):
 * static volumes gone from it are released, unusable ones retried, new ones
 * claimed.  The caller keeps @conf alive while the manager uses it. */
void manager_set_conf(struct manager *m, const struct mmpd_conf *conf);
/* Stop: refuse new claims, release every volume (a volume in local use is
 * left to its user).  Whether anything is still in progress: manager_busy(). */
void manager_stop(struct manager *m);
bool manager_busy(struct manager *m);

/* Iterate: first/next in registration order; NULL at the end. */
struct volume *manager_first(struct manager *m);
struct volume *manager_next(struct manager *m, struct volume *v);
unsigned manager_count(struct manager *m, enum mmp_state state);
/* How many volumes are registered. */
unsigned manager_size(struct manager *m);
/* Up to @cap volumes in registration order into @vols; how many were
 * written.  A copy of the registry's own array that touches no volume:
 * List takes its snapshot in one step, where at 10,000 volumes a walk
 * through the volume objects missed the cache three times a volume
 * (10 ms of the loop, every Check waiting behind it). */
size_t manager_collect(struct manager *m, struct volume **vols, size_t cap);
/* The volumes in each state, in one walk: @ret[state] for every
 * enum mmp_state up to MMP_STATE_IN_USE. */
void manager_count_states(struct manager *m, unsigned ret[MMP_STATE_IN_USE + 1]);

/* volume_fill_info() and the info hook. */
void volume_get_info(struct volume *v, struct volume_info *ret);

/* Event subscription (Watch, claim progress, fd store, fencer).  Callbacks
 * run on the loop; a callback may unsubscribe itself.  Unsubscribe returns
 * NULL.  Beat subscribers are called after every step of a held volume. */
struct subscription *manager_subscribe(struct manager *m, volume_event_cb cb, void *userdata);
struct subscription *manager_subscribe_beats(struct manager *m, volume_beat_cb cb, void *userdata);
struct subscription *manager_unsubscribe(struct manager *m, struct subscription *s);
