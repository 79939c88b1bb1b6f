/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The claim / heartbeat / release state machine for one volume.
 *
 * Pure: no I/O, no clock, no sleeping.  The driver (mmpd, mmpctl, a unit
 * test with a fake clock) feeds events and performs the one action each
 * event returns.  Every action also carries wake_at: the monotonic time at
 * which the driver must deliver MMP_EV_TIMER (MMP_USEC_INFINITY: none).
 * Delivering a timer early or twice is harmless; late is what fencing is for.
 *
 * Claim (never shortcut, see docs/protocol.md, Peers):
 *   read; FSCK -> refuse; invalid seq / bad magic / bad csum -> refuse;
 *   ACTIVE -> wait W (+ slack, see mmp_claim_watch_usec), re-read,
 *   changed -> refuse naming the holder;
 *   CLEAN skips that first wait only.  Write a fresh random seq with our node,
 *   device and check_interval; ALWAYS wait W (the kernel's zero wait after
 *   CLEAN lets two mounters both win), but in rounds: every heartbeat period
 *   re-read (still ours? else refuse: a concurrent claimant) and write seq+1,
 *   so the block never stays unchanged for W while we claim: a peer that
 *   read our claim seq and watched it for W would otherwise take the volume
 *   the moment we report it claimed.  The last round is written at least 2
 *   periods before the final check, so a concurrent claimant's check or
 *   write must land between them (docs/protocol.md).  Final check: seq and
 *   node must be ours.  Then one heartbeat (write seq+1, verify) before
 *   reporting CLAIMED, so a hold always starts with a fresh fence deadline.
 *
 * Heartbeat, every mmp_heartbeat_period(): 2 I/Os.
 *   Check read (still our last seq and node?), then write seq+1.  The check
 *   read is also the read-back of the previous beat's write: a block that
 *   is not the seq we last wrote (a takeover, a rogue write, a device that
 *   dropped our write) -> LOST, and nothing is written.  A write can only
 *   hide a foreign write that lands between the check read and itself, so
 *   the read comes right before the write (as kmmpd's, when it reads),
 *   never a period earlier; one older than W/2 when it completes (the
 *   process was stopped) is read again.  Beats are one period apart from
 *   check read to check read, so a foreign write landing after our write
 *   is LOST by the next check read no later than a read-back after each
 *   write and a check a period after the write would have found it (the
 *   3-I/O beat this replaces; tests/unit/test-sm.c).  A completed write moves
 *   the fence deadline (last landed write + W - margin); I/O errors are
 *   retried; no landed write by then -> LOST.  The claim's first heartbeat
 *   alone is also read back (HB_VERIFY) before CLAIMED is reported.
 *
 * Release: check read, then write CLEAN if (and only if) the block is ours.
 *
 * Handoff and use (docs/handoff.md): a held volume is handed to a local
 * user that claims MMP itself (the kernel's ext4 mount, a libext2fs tool).
 *   MMP_EV_HANDOFF: check read (still ours?), then mode FAST writes CLEAN
 *   so the user takes the CLEAN path at once; mode WAIT writes nothing
 *   more and the user does its full claim on our stale seq.  Either way
 *   MMP_ACT_HANDOFF_GO: start the user now.  State IN_USE, phase
 *   HANDING_OFF: the block is read often until a write from the local
 *   user appears (MMP_ACT_IN_USE), or the handoff timeout passes, or the
 *   user gives up (MMP_EV_END_USE): MMP_ACT_USE_ENDED with an error, and
 *   the driver re-claims with MMP_EV_CLAIM (a full claim).
 *   While in use the block is read every update interval; only the local
 *   user may write it: a kernel mount's kmmpd (seq 1, 2, 3... with a local
 *   node name; a kernel never writes FSCK), a tool's random seqs, FSCK and
 *   CLEAN with a local node name.  Anything else, or (kernel) no change by
 *   the last change + W - margin, is MMP_ACT_LOST.  CLEAN under a kernel
 *   user, or MMP_EV_END_USE finding CLEAN, ends the use (MMP_ACT_USE_ENDED,
 *   error 0).  A tool that is gone (ev.user_gone) and left FSCK ends it
 *   with -EINPROGRESS; MMP_EV_CLAIM with clear_fsck then treats that local
 *   FSCK as an active block (watch W, write) rather than refusing it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmp-ondisk.h"
#include "mmp-timing.h"

enum mmp_state {
        MMP_STATE_IDLE,
        MMP_STATE_CLAIMING,
        MMP_STATE_HELD,
        MMP_STATE_RELEASING,
        MMP_STATE_RELEASED,
        MMP_STATE_REFUSED,
        MMP_STATE_LOST,
        MMP_STATE_IN_USE,        /* handed to a local user; mmpd watches, never writes */
};

#define MMP_LOCAL_NAMES_MAX 4

/* Who uses a handed-off volume. */
enum mmp_user {
        MMP_USER_NONE,
        MMP_USER_KERNEL,         /* ext4 mount: kmmpd heartbeats */
        MMP_USER_TOOL,           /* libext2fs program: random seq, FSCK, CLEAN */
};

enum mmp_handoff_mode {
        MMP_HANDOFF_FAST,        /* write CLEAN: the user claims in milliseconds */
        MMP_HANDOFF_WAIT,        /* stop writing: the user does its full 2W claim */
};

/* Where a claim is, for progress reports. */
enum mmp_phase {
        MMP_PHASE_NONE,
        MMP_PHASE_READ,          /* claim: first read */
        MMP_PHASE_WAIT_ACTIVE,   /* claim: block was active, waiting W */
        MMP_PHASE_REREAD,        /* claim: second read */
        MMP_PHASE_WRITE_SEQ,     /* claim: writing our random seq */
        MMP_PHASE_WAIT_CLAIM,    /* claim: waiting W after our write */
        MMP_PHASE_VERIFY,        /* claim: reading back our seq */
        MMP_PHASE_HB_CHECK,      /* heartbeat (and claim's last step) */
        MMP_PHASE_HB_WRITE,
        MMP_PHASE_HB_VERIFY,     /* the claim's first heartbeat read back */
        MMP_PHASE_HB_IDLE,       /* held, waiting for the next heartbeat */
        MMP_PHASE_RELEASE_CHECK,
        MMP_PHASE_RELEASE_WRITE,
        MMP_PHASE_HANDOFF_CHECK, /* handoff: is it still ours? */
        MMP_PHASE_HANDOFF_WRITE, /* handoff: writing CLEAN */
        MMP_PHASE_HANDING_OFF,   /* waiting for the local user's first write */
        MMP_PHASE_IN_USE,        /* the local user writes; we watch */
        MMP_PHASE_USE_END_READ,  /* end of use: what did the user leave? */
};

enum mmp_event_type {
        MMP_EV_CLAIM,       /* start claiming */
        MMP_EV_RESUME,      /* take over a hold from a previous mmpd: ev.seq */
        MMP_EV_RELEASE,     /* release (or abort a claim) */
        MMP_EV_READ_DONE,   /* ev.data/len: the block as read */
        MMP_EV_WRITE_DONE,
        MMP_EV_IO_ERROR,    /* ev.error: -errno; -ETIMEDOUT for a missed I/O deadline */
        MMP_EV_TIMER,
        MMP_EV_HANDOFF,     /* ev.user, ev.mode, ev.timeout */
        MMP_EV_END_USE,     /* ev.user_gone: the tool's process has exited */
};

struct mmp_event {
        enum mmp_event_type type;
        mmp_usec_t now;          /* monotonic */
        uint64_t wall;           /* wall-clock seconds, written to mmp_time */
        const void *data;
        size_t len;
        int error;
        /* MMP_EV_RESUME: what the previous process recorded */
        uint32_t seq;            /* last seq it wrote */
        uint16_t check_interval; /* check_interval in that block */
        mmp_usec_t last_good;    /* its last verified write (same clock); 0 = unknown */
        /* MMP_EV_HANDOFF */
        enum mmp_user user;
        enum mmp_handoff_mode mode;
        mmp_usec_t timeout;      /* handoff: no user write by then -> failed */
        /* MMP_EV_END_USE */
        bool user_gone;
        /* MMP_EV_CLAIM: a local FSCK left by a tool known dead is not a refusal */
        bool clear_fsck;
};

enum mmp_action_type {
        MMP_ACT_NONE,       /* nothing to do but honour wake_at */
        MMP_ACT_READ,       /* read len bytes at offset */
        MMP_ACT_WRITE,      /* write data/len at offset (data owned by the sm, copy it) */
        MMP_ACT_WAIT,       /* a claim wait started: nothing to do until wake_at */
        MMP_ACT_CLAIMED,
        MMP_ACT_REFUSED,    /* error, reason, holder */
        MMP_ACT_LOST,       /* error, reason, holder (holder.magic 0 when unknown) */
        MMP_ACT_RELEASED,   /* error != 0: CLEAN could not be written */
        MMP_ACT_HANDOFF_GO, /* start the local user now */
        MMP_ACT_IN_USE,     /* the user's first write is on disk */
        MMP_ACT_USE_ENDED,  /* error 0: the user released it (CLEAN); else why the
                             * handoff failed or what was left (-EINPROGRESS: FSCK) */
        MMP_ACT_USE_BUSY,   /* END_USE, but the user still holds it (holder) */
};

struct mmp_action {
        enum mmp_action_type type;
        uint64_t offset;
        size_t len;
        const void *data;
        mmp_usec_t wake_at;
        mmp_usec_t wait_end;     /* WAIT: when the wait ends (wake_at may be a round before) */
        int error;               /* REFUSED/LOST/RELEASED: negative errno */
        const char *reason;      /* static text for error, NULL otherwise */
        bool have_holder;
        struct mmp_block holder; /* what the disk said, for REFUSED/LOST */
};

/*
 * Reasons (action.error) have one meaning each:
 *   -EBUSY        another node's seq or name on disk
 *   -EINPROGRESS  seq is FSCK: an e2fsprogs tool holds it (hint: clear_mmp)
 *   -EPROTO       seq above FSCK and not CLEAN
 *   -EUCLEAN      bad MMP magic            -EBADMSG  bad MMP checksum
 *   -ETIMEDOUT    no heartbeat verified by the fence deadline
 *   -ECANCELED    claim aborted by a release
 *   other -errno  I/O error during a claim or release
 */

struct mmp_sm_config {
        struct mmp_sb sb;
        const char *nodename;            /* written to mmp_nodename (<= 64 bytes used) */
        const char *bdevname;            /* written to mmp_bdevname (<= 32 bytes used) */
        mmp_usec_t margin;               /* fence margin; 0 = mmp_default_margin() */
        /* Spread heartbeats of many volumes over the period: beats are put on
         * the grid slot + k * period (never later than last write + period).
         * Without it, a beat follows the last write by exactly one period. */
        bool spread;
        mmp_usec_t slot;
        /* Node names a local user may write besides @nodename: the host
         * name (e2fsprogs' gethostname(), the kernel's utsname).  NULL-ended. */
        const char *const *local_names;
        /* Random seq source; NULL = getrandom().  Tests pass a fixed one. */
        uint32_t (*random_u32)(void *userdata);
        void *userdata;
};

struct mmp_sm;

int mmp_sm_new(const struct mmp_sm_config *cfg, struct mmp_sm **ret);
struct mmp_sm *mmp_sm_free(struct mmp_sm *sm);

/* Feed one event; returns the next action in *ret (always filled).
 * Returns 0, or -EINVAL for an event that makes no sense in this state
 * (the action is then NONE with the current wake_at). */
int mmp_sm_step(struct mmp_sm *sm, const struct mmp_event *ev, struct mmp_action *ret);

/* Read-only view for status, Check and persistence. */
struct mmp_sm_status {
        enum mmp_state state;
        enum mmp_phase phase;
        uint32_t seq;                /* last seq known on disk as ours */
        uint32_t check_interval;     /* in that block */
        unsigned update_interval;
        mmp_usec_t last_good;        /* submit time of the last landed write; 0 = never */
        mmp_usec_t next_heartbeat;
        mmp_usec_t write_usec;       /* duration of the last write */
        struct mmp_deadlines deadlines;  /* from last_good; zero when not held */
        unsigned failures;           /* failed heartbeat attempts since last_good */
        int last_error;
        bool have_holder;
        struct mmp_block holder;     /* last block seen on disk */
        /* IN_USE */
        enum mmp_user user;
        enum mmp_handoff_mode mode;
        mmp_usec_t use_since;        /* handoff started */
        mmp_usec_t last_change;      /* the user's last write landed after this */
        bool user_seen;              /* a write of the user's is on disk */
        uint32_t user_seq;
        struct mmp_block user_block; /* the user's last block (user_seen) */
};

/* May this node use the volume at @now (Check's may_use)?  Held with a
 * landed heartbeat, or in use by a local user whose writes we saw, and
 * before the fence deadline.  *ret_until: that deadline. */
bool mmp_sm_may_use(const struct mmp_sm_status *st, mmp_usec_t now, mmp_usec_t *ret_until);

void mmp_sm_status(const struct mmp_sm *sm, struct mmp_sm_status *ret);

const char *mmp_state_name(enum mmp_state s);
const char *mmp_phase_name(enum mmp_phase p);
const char *mmp_action_name(enum mmp_action_type a);
const char *mmp_user_name(enum mmp_user u);
const char *mmp_handoff_mode_name(enum mmp_handoff_mode m);
