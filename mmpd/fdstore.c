/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fd store as a subscriber of volume events: see fdstore.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdstore.h"
#include "log.h"

struct fdstore {
        struct manager *m;
        struct mmpd_systemd *sd;
        struct subscription *events, *beats;
};

/* What the store says about one volume (VOLUME_SLOT_FDSTORE). */
struct record {
        unsigned slot;
        uint32_t seq;
        mmp_usec_t last_good;
};

static void forget(struct fdstore *fs, struct volume *v)
{
        struct record *rec = volume_slot(v, VOLUME_SLOT_FDSTORE);

        if (!rec)
                return;
        mmpd_systemd_forget(fs->sd, rec->slot);
        volume_set_slot(v, VOLUME_SLOT_FDSTORE, NULL);
        free(rec);
}

static void remember(struct fdstore *fs, struct volume *v, unsigned slot, uint32_t seq,
                     mmp_usec_t last_good)
{
        struct record *rec = calloc(1, sizeof(*rec));

        if (!rec) {
                /* Without a record the stored fd would stay forever. */
                mmpd_systemd_forget(fs->sd, slot);
                log_vol(v, LOG_WARNING, "out of memory: a restart of mmpd will not keep it");
                return;
        }
        rec->slot = slot;
        rec->seq = seq;
        rec->last_good = last_good;
        volume_set_slot(v, VOLUME_SLOT_FDSTORE, rec);
}

static void on_event(const struct volume_event *ev, void *userdata)
{
        struct fdstore *fs = userdata;
        struct volume *v = ev->volume;
        int fd, r;

        switch (ev->type) {
        case VOLUME_EVENT_CLAIMED:
                if (volume_slot(v, VOLUME_SLOT_FDSTORE))
                        return;
                /* A fresh fd without O_EXCL: the store's copy must never
                 * keep a mount out at a handoff (systemd drops a stored fd
                 * only some time after FDSTOREREMOVE). */
                fd = volume_open_shared(v);
                if (fd < 0) {
                        log_vol(v, LOG_WARNING, "cannot open the device for the fd store (%s): "
                                "a restart of mmpd will not keep it", strerror(-fd));
                        return;
                }
                r = mmpd_systemd_store(fs->sd, fd, volume_name(v), volume_device(v), manager_node_name(fs->m));
                close(fd);
                if (r >= 0)
                        remember(fs, v, (unsigned) r, 0, 0);
                else if (r != -EOPNOTSUPP)
                        log_vol(v, LOG_WARNING, "cannot put it in the fd store (%s): "
                                "a restart of mmpd will not keep it", strerror(-r));
                return;
        case VOLUME_EVENT_LOST:
        case VOLUME_EVENT_RELEASED:
        case VOLUME_EVENT_REFUSED:
        case VOLUME_EVENT_REMOVED:
        /* In local use the disk shows the user's seq, not ours: a new mmpd
         * resuming it would call it lost and fence the user. */
        case VOLUME_EVENT_HANDOFF:
                /* Never resume a lost volume; never pin a released one. */
                forget(fs, v);
                return;
        default:
                return;
        }
}

static void on_beat(struct volume *v, const struct mmp_sm_status *st, void *userdata)
{
        struct fdstore *fs = userdata;
        struct record *rec = volume_slot(v, VOLUME_SLOT_FDSTORE);

        if (!rec || (st->seq == rec->seq && st->last_good == rec->last_good))
                return;
        mmpd_systemd_update(fs->sd, rec->slot, st->seq, (uint16_t) st->check_interval, st->last_good);
        rec->seq = st->seq;
        rec->last_good = st->last_good;
}

void fdstore_resume(struct fdstore *fs)
{
        const char *node = manager_node_name(fs->m);

        for (unsigned i = 0; i < mmpd_systemd_n_stored(fs->sd); i++) {
                const struct mmpd_sd_volume *sv = mmpd_systemd_stored(fs->sd, i);
                struct manager_resume res = {
                        .device = sv->device, .name = sv->name, .fd = sv->fd,
                        .seq = sv->seq, .check_interval = sv->check_interval,
                        .last_good = sv->last_good,
                };
                struct volume *v;
                int r;

                if (strcmp(sv->node, node) != 0)
                        log_warning("volume %s (%s): stored by node '%s', this is '%s': "
                                    "resuming will find it is not ours", sv->name, sv->device,
                                    sv->node, node);
                r = manager_resume(fs->m, &res, &v);
                if (r < 0) {
                        log_error("volume %s (%s): cannot resume from the fd store: %s",
                                  sv->name, sv->device, strerror(-r));
                        mmpd_systemd_forget(fs->sd, sv->slot);
                        continue;
                }
                remember(fs, v, sv->slot, sv->seq, sv->last_good);
                log_vol(v, LOG_NOTICE, "resuming the hold (seq %#x) from the fd store", sv->seq);
        }
        mmpd_systemd_stored_done(fs->sd);
}

int fdstore_new(struct manager *m, struct mmpd_systemd *sd, struct fdstore **ret)
{
        struct fdstore *fs = calloc(1, sizeof(*fs));

        if (!fs)
                return -ENOMEM;
        fs->m = m;
        fs->sd = sd;
        fs->events = manager_subscribe(m, on_event, fs);
        fs->beats = manager_subscribe_beats(m, on_beat, fs);
        if (!fs->events || !fs->beats) {
                fdstore_free(fs);
                return -ENOMEM;
        }
        *ret = fs;
        return 0;
}

struct fdstore *fdstore_free(struct fdstore *fs)
{
        if (!fs)
                return NULL;
        /* Records stay in the store for the next mmpd; only ours go. */
        for (struct volume *v = manager_first(fs->m); v; v = manager_next(fs->m, v)) {
                free(volume_slot(v, VOLUME_SLOT_FDSTORE));
                volume_set_slot(v, VOLUME_SLOT_FDSTORE, NULL);
        }
        manager_unsubscribe(fs->m, fs->events);
        manager_unsubscribe(fs->m, fs->beats);
        free(fs);
        return NULL;
}
