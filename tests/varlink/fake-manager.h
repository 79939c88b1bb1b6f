/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An in-memory implementation of mmpd/manager.h for the varlink server's
 * tests (check-only, never installed).  No device is touched: volumes go
 * through the claim phases on timers and report what a real volume would.
 *
 * The device path chooses the outcome:
 *   /dev/fake-missing*  manager_claim() fails with -ENOENT (cannot open)
 *   /dev/fake-busy*     refused after the wait: -EBUSY, held by "peer-node"
 *   /dev/fake-fsck*     refused at once: -EINPROGRESS, seq FSCK by "fsck-node"
 *   /dev/fake-nommp*    refused at once: -EOPNOTSUPP (no mmp feature)
 *   /dev/fake-corrupt*  refused at once: -EUCLEAN (bad MMP magic)
 *   /dev/fake-noisy*    claimed; every heartbeat also reports SLOW_IO
 *   /dev/fake-handofffail*  claimed; a Handoff goes (HANDOFF) but no user
 *                       write follows: USE_ENDED -ETIMEDOUT, then a re-claim
 *   /dev/fake-busyuse*  claimed; EndUse finds the user still writing: USE_BUSY
 *   anything else       claimed after the wait, then heartbeats
 * A Handoff (any other device) goes one step later (HANDOFF, state in_use,
 * phase handing_off); the user's first write ("host-a", seq 1, 2...) is seen
 * one step after that (IN_USE), then every heartbeat period.  EndUse reads
 * one step, then releases (USE_ENDED, RELEASED) or, with keep, re-claims
 * (USE_ENDED in state claiming); before the user's first write it ends the
 * handoff with -ECANCELED and re-claims.
 * Timings are the timer steps of the simulation, not MMP's real W; the
 * deadlines reported are computed with lib/mmp-timing.h for update
 * interval 5 s from the simulated heartbeats.
 */
#pragma once

#include "manager.h"

struct fake_options {
        double step;            /* seconds between claim phases */
        double wait;            /* the simulated W */
        double heartbeat;       /* heartbeat period while held */
        double noisy_heartbeat; /* ... for /dev/fake-noisy* */
        unsigned max_volumes;
};

/* The fake registry on @loop (node "fake-node", the default socket path). */
int fake_manager_new(struct ev_loop *loop, struct manager **ret);
void fake_manager_configure(struct manager *m, const struct fake_options *o);
/* How late, at worst, a held volume's heartbeat timer fired. */
mmp_usec_t fake_manager_max_lateness(struct manager *m);
