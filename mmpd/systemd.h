/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * systemd glue: socket activation and the fd store that carries holds
 * across `systemctl restart mmpd` and crashes (Restart=on-failure).
 *
 * Stored fds (systemd 252: FDSTORE=1, FDNAME=, FDSTOREREMOVE=1, FDPOLL=0):
 *
 *   "mmpd-state"     a memfd of fixed-size records, one per slot
 *   "mmpd-vol-N"     the device anchor fd of the volume in slot N
 *
 * FDNAME must be printable ASCII without ':' and at most 255 bytes; volume
 * names may contain ':' and runtime names are device paths, so names go
 * into the record and the FDNAME is only the slot number.
 *
 * A record is written with pwrite() into the memfd: the fd in the store is
 * the same open file description, so systemd's copy sees every update
 * without a notify message.  Each heartbeat updates 16 bytes in place (seq,
 * check_interval, last_good); a whole record is written only when a
 * volume is stored or forgotten.
 *
 * Without $NOTIFY_SOCKET (not under systemd) everything here is a no-op.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "mmp-timing.h"

struct mmpd_systemd;

/* What a previous mmpd recorded for one volume. */
struct mmpd_sd_volume {
        unsigned slot;
        int fd;                    /* the stored device fd (ours to close) */
        const char *name;
        const char *device;
        const char *node;
        uint32_t seq;              /* last seq it verified on disk */
        uint16_t check_interval;
        mmp_usec_t last_good;      /* CLOCK_BOOTTIME of that write; 0 = unknown */
};

/* Take the inherited fds (sd_listen_fds_with_names) and read the state. */
int mmpd_systemd_new(struct mmpd_systemd **ret);
struct mmpd_systemd *mmpd_systemd_free(struct mmpd_systemd *s);

/* The socket-activated control socket, or -1.  The caller takes it over
 * (then call mmpd_systemd_took_varlink()). */
int mmpd_systemd_varlink_fd(const struct mmpd_systemd *s);
void mmpd_systemd_took_varlink(struct mmpd_systemd *s);

/* The volumes to resume, once, at start.  The caller closes each fd after
 * adopting it; a volume it does not resume must be forgotten. */
unsigned mmpd_systemd_n_stored(const struct mmpd_systemd *s);
const struct mmpd_sd_volume *mmpd_systemd_stored(const struct mmpd_systemd *s, unsigned i);
void mmpd_systemd_stored_done(struct mmpd_systemd *s);

/*
 * Put a held volume in the store: a record and a copy of @fd.  Returns the
 * slot (>= 0), or -errno (-EOPNOTSUPP when not under systemd); the volume
 * is then simply not carried over a restart.
 */
int mmpd_systemd_store(struct mmpd_systemd *s, int fd, const char *name, const char *device,
                       const char *node);
/* Mark @slot as used by a resumed volume (its fd is still in the store). */
void mmpd_systemd_keep(struct mmpd_systemd *s, unsigned slot);
/* A landed heartbeat. */
void mmpd_systemd_update(struct mmpd_systemd *s, unsigned slot, uint32_t seq,
                         uint16_t check_interval, mmp_usec_t last_good);
/* Released or lost: drop the record and the stored fd. */
void mmpd_systemd_forget(struct mmpd_systemd *s, unsigned slot);
