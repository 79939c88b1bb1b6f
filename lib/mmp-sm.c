/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Claim / heartbeat / release state machine (see mmp-sm.h for the protocol).
 *
 * Invariants:
 *   - at most one I/O is outstanding (io_busy); every other event that would
 *     need I/O waits for its completion (release_pending, timers);
 *   - nothing is ever written unless the block was read as CLEAN, as an
 *     unchanged ACTIVE seq after a full wait, or as ours;
 *   - once LOST, REFUSED or RELEASED, nothing more is written.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "mmp-sm.h"

struct mmp_sm {
        struct mmp_sb sb;
        char nodename[MMP_NODENAME_LEN + 1];
        char bdevname[MMP_BDEVNAME_LEN + 1];
        uint32_t (*random_u32)(void *userdata);
        void *userdata;
        unsigned upd;            /* effective update interval, s */
        mmp_usec_t margin_cfg;   /* as configured (0 = automatic) */
        bool spread;
        mmp_usec_t slot;

        uint8_t *image;          /* last block read; writes are encoded into it */
        bool image_ok;           /* it holds a whole block with a good checksum */
        size_t blen;
        uint64_t offset;

        enum mmp_state state;
        enum mmp_phase phase;
        bool io_busy;
        bool release_pending;
        bool written;            /* our seq may be on disk */
        bool resuming;           /* claim is a RESUME: failure means LOST */
        bool was_held;

        uint32_t seq_seen;       /* claim: seq of the first read */
        uint16_t ci_seen;
        uint32_t seq_good, seq_attempt;
        uint16_t ci_good, ci_attempt;

        mmp_usec_t wait_until;
        /* claim rounds: while waiting W after our claim write, check and
         * rewrite every claim_period, so the block never stays unchanged
         * for W (a peer watching it would take it); stop 2 periods before
         * the final check so any concurrent claimant's I/O lands between */
        mmp_usec_t claim_period;
        mmp_usec_t next_round;
        mmp_usec_t read_at;      /* submit time of the last read asked for */
        mmp_usec_t write_submitted;
        mmp_usec_t write_usec, prev_write_usec;
        mmp_usec_t last_good;
        mmp_usec_t next_hb;
        mmp_usec_t beat_at;      /* held: when this beat's check read was asked for; 0 none */
        mmp_usec_t period;
        struct mmp_deadlines dl;
        unsigned failures;
        int last_error;

        bool have_holder;
        struct mmp_block holder;

        /* local users (see mmp-sm.h, Handoff and use) */
        char local[MMP_LOCAL_NAMES_MAX][MMP_NODENAME_LEN + 1];
        unsigned n_local;
        bool clear_fsck;         /* this claim may take over a dead tool's FSCK */
        bool handoff_pending;    /* asked while a heartbeat I/O was in flight */
        struct mmp_event handoff_ev;
        bool end_pending, user_gone;
        enum mmp_user user;
        enum mmp_handoff_mode mode;
        mmp_usec_t use_since;
        mmp_usec_t handoff_deadline;
        mmp_usec_t next_read;
        mmp_usec_t read_submitted;   /* the read in flight */
        mmp_usec_t seen_at;          /* submit time of the last read that saw seen_seq */
        uint32_t seen_seq;           /* what the block said at the last read */
        char seen_node[MMP_NODENAME_LEN + 1];
        bool user_seen, kmmpd_started;
        mmp_usec_t last_change;
        mmp_usec_t stale_at;         /* kernel user: no change by then -> LOST */
        struct mmp_block user_block;
};

static uint32_t default_random_u32(void *userdata)
{
        uint32_t v = 0;

        /* getrandom() of 4 bytes never blocks once the pool is initialised
         * and never returns short; fall back to something non-constant. */
        if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
                v = (uint32_t) (uintptr_t) &v ^ (uint32_t) rand();
        return v;
}

int mmp_sm_new(const struct mmp_sm_config *cfg, struct mmp_sm **ret)
{
        struct mmp_sm *sm;

        if (!cfg || !ret || cfg->sb.block_size < MMP_STRUCT_SIZE || !cfg->nodename || !cfg->bdevname)
                return -EINVAL;
        sm = calloc(1, sizeof(*sm));
        if (!sm)
                return -ENOMEM;
        sm->image = calloc(1, cfg->sb.block_size);
        if (!sm->image) {
                free(sm);
                return -ENOMEM;
        }
        sm->sb = cfg->sb;
        mmp_name_set(sm->nodename, MMP_NODENAME_LEN, cfg->nodename);
        mmp_name_set(sm->bdevname, MMP_BDEVNAME_LEN, cfg->bdevname);
        sm->random_u32 = cfg->random_u32 ? cfg->random_u32 : default_random_u32;
        sm->userdata = cfg->userdata;
        sm->upd = mmp_sb_update_interval(&cfg->sb);
        sm->margin_cfg = cfg->margin;
        sm->spread = cfg->spread;
        sm->slot = cfg->slot;
        sm->blen = cfg->sb.block_size;
        sm->offset = mmp_sb_mmp_offset(&cfg->sb);
        mmp_name_set(sm->local[sm->n_local++], MMP_NODENAME_LEN, cfg->nodename);
        for (const char *const *n = cfg->local_names; n && *n && sm->n_local < MMP_LOCAL_NAMES_MAX; n++)
                mmp_name_set(sm->local[sm->n_local++], MMP_NODENAME_LEN, *n);
        sm->state = MMP_STATE_IDLE;
        *ret = sm;
        return 0;
}

struct mmp_sm *mmp_sm_free(struct mmp_sm *sm)
{
        if (sm) {
                free(sm->image);
                free(sm);
        }
        return NULL;
}

/* ---- claim rounds -------------------------------------------------------- */

/* Another round may be written if the final check still comes 2 periods
 * after it and no later than the end of the wait. */
static bool round_fits(const struct mmp_sm *sm)
{
        return sm->next_round + 2 * sm->claim_period <= sm->wait_until;
}

/* The final check: W after our first write, and 2 periods after our last. */
static mmp_usec_t claim_final_at(const struct mmp_sm *sm)
{
        mmp_usec_t t = sm->write_submitted + 2 * sm->claim_period;

        return t > sm->wait_until ? t : sm->wait_until;
}

/* ---- actions ---------------------------------------------------------- */

static mmp_usec_t wake_time(const struct mmp_sm *sm)
{
        switch (sm->state) {
        case MMP_STATE_CLAIMING:
                /* An I/O in flight has its own deadline (the driver's):
                 * no timer until it completes, or it would spin. */
                if (sm->io_busy && !(sm->resuming && sm->last_good))
                        return MMP_USEC_INFINITY;
                if (sm->phase == MMP_PHASE_WAIT_CLAIM)
                        return round_fits(sm) ? sm->next_round : claim_final_at(sm);
                if (sm->phase == MMP_PHASE_WAIT_ACTIVE)
                        return sm->wait_until;
                /* A resumed hold already has a deadline to keep. */
                if (sm->resuming && sm->last_good)
                        return sm->dl.fence_at;
                return MMP_USEC_INFINITY;
        case MMP_STATE_HELD:
                /* The fence deadline is armed even while an I/O hangs. */
                if (sm->io_busy || sm->next_hb > sm->dl.fence_at)
                        return sm->dl.fence_at;
                return sm->next_hb;
        case MMP_STATE_IN_USE: {
                mmp_usec_t t = sm->io_busy ? MMP_USEC_INFINITY : sm->next_read;

                /* Only a kernel mount heartbeats: its silence is a deadline. */
                if (sm->user_seen && sm->user == MMP_USER_KERNEL && sm->stale_at < t)
                        t = sm->stale_at;
                return t;
        }
        default:
                return MMP_USEC_INFINITY;
        }
}

static int act_none(struct mmp_sm *sm, struct mmp_action *a)
{
        a->type = MMP_ACT_NONE;
        return 0;
}

static int act_read(struct mmp_sm *sm, enum mmp_phase phase, struct mmp_action *a)
{
        sm->phase = phase;
        sm->io_busy = true;
        a->type = MMP_ACT_READ;
        a->offset = sm->offset;
        a->len = sm->blen;
        return 0;
}

/* Encode @seq with our identity into the image and ask for it to be written. */
static int act_write(struct mmp_sm *sm, const struct mmp_event *ev, enum mmp_phase phase,
                     uint32_t seq, uint16_t ci, struct mmp_action *a)
{
        struct mmp_block b = {
                .seq = seq,
                .time = ev->wall,
                .check_interval = ci,
        };

        memcpy(b.nodename, sm->nodename, sizeof(b.nodename));
        memcpy(b.bdevname, sm->bdevname, sizeof(b.bdevname));
        mmp_block_encode(&sm->sb, &b, sm->image, sm->blen);
        sm->image_ok = true;
        if (seq != MMP_SEQ_CLEAN) {
                sm->seq_attempt = seq;
                sm->ci_attempt = ci;
                sm->written = true;
        }
        sm->write_submitted = ev->now;
        sm->phase = phase;
        sm->io_busy = true;
        a->type = MMP_ACT_WRITE;
        a->offset = sm->offset;
        a->len = sm->blen;
        a->data = sm->image;
        return 0;
}

static void set_holder(struct mmp_sm *sm, const struct mmp_block *b, struct mmp_action *a)
{
        if (!b)
                return;
        sm->have_holder = true;
        sm->holder = *b;
        a->have_holder = true;
        a->holder = *b;
}

static const char *reason_text(int err)
{
        switch (-err) {
        case EBUSY:       return "the MMP block shows another node";
        case EINPROGRESS: return "fsck is running on the filesystem (if it is not, clear with: tune2fs -f -E clear_mmp DEVICE)";
        case EPROTO:      return "the MMP block has an invalid sequence number";
        case EUCLEAN:     return "the MMP block has a bad magic number";
        case EBADMSG:     return "the MMP block checksum does not match";
        case ENODATA:     return "the MMP block read was short";
        case ETIMEDOUT:   return "no heartbeat landed before the fence deadline";
        case ECANCELED:   return "claim aborted by a release";
        case ESTALE:      return "the local user's heartbeat stopped landing before the fence deadline";
        case ENOTUNIQ:    return "a sequence number the local user did not write appeared";
        }
        return "I/O error on the MMP block";
}

static int act_end(struct mmp_sm *sm, enum mmp_state state, enum mmp_action_type type,
                   int err, const struct mmp_block *b, struct mmp_action *a)
{
        sm->state = state;
        sm->phase = MMP_PHASE_NONE;
        sm->release_pending = false;
        sm->last_error = err;
        a->type = type;
        a->error = err;
        a->reason = err ? reason_text(err) : NULL;
        set_holder(sm, b, a);
        return 0;
}

/* A claim that fails: refused, or lost when we were resuming a hold. */
static int claim_fail(struct mmp_sm *sm, int err, const struct mmp_block *b, struct mmp_action *a)
{
        if (sm->resuming)
                return act_end(sm, MMP_STATE_LOST, MMP_ACT_LOST, err, b, a);
        return act_end(sm, MMP_STATE_REFUSED, MMP_ACT_REFUSED, err, b, a);
}

static int lost(struct mmp_sm *sm, int err, const struct mmp_block *b, struct mmp_action *a)
{
        return act_end(sm, MMP_STATE_LOST, MMP_ACT_LOST, err, b, a);
}

/* The use is over; the block holds no seq of ours.  error != 0 tells the
 * driver to re-claim (a failed handoff, or what a dead tool left). */
static int use_ended(struct mmp_sm *sm, int err, const char *reason, const struct mmp_block *b,
                     struct mmp_action *a)
{
        act_end(sm, MMP_STATE_RELEASED, MMP_ACT_USE_ENDED, err, b, a);
        a->reason = reason;
        sm->written = false;
        sm->end_pending = false;
        return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static uint32_t next_seq(uint32_t seq)
{
        /* kmmpd: seq counts up and wraps to 1 past SEQ_MAX */
        return seq >= MMP_SEQ_MAX ? 1 : seq + 1;
}

static uint32_t fresh_seq(struct mmp_sm *sm, uint32_t avoid)
{
        uint32_t s;

        /* kernel mmp_new_seq(): uniform below SEQ_MAX; also never the seq
         * we just read, or our write would be invisible to a watcher. */
        do
                s = sm->random_u32(sm->userdata);
        while (s > MMP_SEQ_MAX || s == avoid);
        return s;
}

static bool is_ours(const struct mmp_sm *sm, const struct mmp_block *b)
{
        if (strcmp(b->nodename, sm->nodename) != 0)
                return false;
        return b->seq == sm->seq_attempt || (sm->seq_good && b->seq == sm->seq_good);
}

static bool is_local(const struct mmp_sm *sm, const char *nodename)
{
        for (unsigned i = 0; i < sm->n_local; i++)
                if (strcmp(nodename, sm->local[i]) == 0)
                        return true;
        return false;
}

/* Decode what a read returned; keeps a copy as the base for the next write. */
static int take_block(struct mmp_sm *sm, const struct mmp_event *ev, struct mmp_block *b)
{
        int r;

        if (!ev->data || ev->len < sm->blen)
                return -ENODATA;
        /* Held, the check read returns the block of our last write: the
         * image is that block, and its checksum was good.  Nothing to copy
         * and no checksum to compute. */
        if (sm->image_ok && memcmp(ev->data, sm->image, sm->blen) == 0) {
                r = mmp_block_decode_same(&sm->sb, ev->data, sm->blen, b);
                sm->have_holder = true;
                sm->holder = *b;
                return r;
        }
        r = mmp_block_decode(&sm->sb, ev->data, sm->blen, b);
        if (r == 0 || r == -EUCLEAN || r == -EBADMSG) {
                sm->have_holder = true;
                sm->holder = *b;
        }
        if (r == 0) {
                memcpy(sm->image, ev->data, sm->blen);
                sm->image_ok = true;
        }
        return r;
}

static int seq_refusal(const struct mmp_block *b)
{
        switch (mmp_seq_classify(b->seq)) {
        case MMP_SEQ_CLASS_FSCK:    return -EINPROGRESS;
        case MMP_SEQ_CLASS_INVALID: return -EPROTO;
        default:                    return 0;
        }
}

/*
 * A read can justify a write only while it is fresh.  A process stopped
 * between a read and acting on it (SIGSTOP, a VM pause, a loaded machine)
 * must not write on what it saw: meanwhile a peer may have claimed the
 * volume (found by tests/sim: a CLEAN read acted on 22 s later overwrote a
 * tool's FSCK; a verify acted on 45 s later overwrote a peer's completed
 * claim).  Any peer's claim takes at least W from its first write, so a
 * read younger than W/2 cannot have missed a completed one: older reads
 * are done again.  That holds for the claim's reads, the release's check
 * and a heartbeat's check read too (a resume may have no deadline yet).
 * A held volume is also covered by its fence deadline (no peer that keeps
 * the protocol writes before it); there the bound caps how long a foreign
 * write can stand between our check read and the write it justifies, and
 * a check read completed past the deadline is not read again: LOST.
 */
static bool read_too_old(const struct mmp_sm *sm, const struct mmp_event *ev, const struct mmp_block *b)
{
        switch (sm->phase) {
        case MMP_PHASE_HB_CHECK:
                if (sm->last_good && ev->now >= sm->dl.fence_at)
                        return false;
                break;
        case MMP_PHASE_READ:
        case MMP_PHASE_REREAD:
        case MMP_PHASE_WAIT_CLAIM:
        case MMP_PHASE_VERIFY:
        case MMP_PHASE_RELEASE_CHECK:
                break;
        default:
                return false;   /* no write follows; the handoff's check: its fence deadline */
        }
        return ev->now > sm->read_at +
               (mmp_usec_t) mmp_wait_seconds(sm->upd, b->check_interval) * MMP_USEC_PER_SEC / 2;
}

/* A claim refuses FSCK, except the one a tool we saw die left with a local
 * name: that one is watched for W like an active block, then taken. */
static int claim_refusal(const struct mmp_sm *sm, const struct mmp_block *b)
{
        if (sm->clear_fsck && mmp_seq_classify(b->seq) == MMP_SEQ_CLASS_FSCK && is_local(sm, b->nodename))
                return 0;
        return seq_refusal(b);
}

static void record_good(struct mmp_sm *sm)
{
        mmp_usec_t base;

        sm->seq_good = sm->seq_attempt;
        sm->ci_good = sm->ci_attempt;
        sm->last_good = sm->write_submitted;
        sm->failures = 0;
        mmp_deadlines(sm->last_good, sm->upd, sm->ci_good, sm->margin_cfg, &sm->dl);
        sm->period = mmp_heartbeat_period(sm->upd, sm->ci_good, sm->margin_cfg);
        /* Beats are a period apart from check read to check read (from the
         * write when there was none: the claim's, a retry's): the read
         * time does not pile up on the period, and a foreign write that
         * lands just after ours is seen by the next check read no later
         * than one period after the read-back of 3-I/O beats saw it. */
        base = sm->beat_at && sm->beat_at <= sm->last_good ? sm->beat_at : sm->last_good;
        sm->beat_at = 0;
        sm->next_hb = base + sm->period;
        if (sm->spread) {
                /* Next grid point after base: at most one period away, so
                 * it is never later than the unspread beat; once on the
                 * grid each beat stays there (writing early is always safe). */
                mmp_usec_t d = (base + sm->period - sm->slot % sm->period) % sm->period;

                if (d)
                        sm->next_hb = base + sm->period - d;
        }
}

static int hb_write(struct mmp_sm *sm, const struct mmp_event *ev, struct mmp_action *a)
{
        mmp_usec_t slowest = sm->write_usec > sm->prev_write_usec ? sm->write_usec : sm->prev_write_usec;
        unsigned ci = mmp_check_interval_to_write(sm->upd, slowest);
        struct mmp_deadlines d;

        act_write(sm, ev, MMP_PHASE_HB_WRITE, next_seq(sm->seq_attempt), ci, a);
        /* A lower check_interval shortens the peers' wait from the moment
         * this write lands, which may be any time from now on, before its
         * completion is handled (a stopped process): the deadline must not
         * count on the longer wait any more (found by tests/sim: a hold
         * whose slow claim wrote ci 17 said may_use 24 s too long).  Raising
         * it buys time only once landed (record_good). */
        if (sm->last_good) {
                mmp_deadlines(sm->write_submitted, sm->upd, ci, sm->margin_cfg, &d);
                if (d.fence_at < sm->dl.fence_at)
                        sm->dl = d;
        }
        return 0;
}

static int release_write(struct mmp_sm *sm, const struct mmp_event *ev, struct mmp_action *a)
{
        sm->state = MMP_STATE_RELEASING;
        return act_write(sm, ev, MMP_PHASE_RELEASE_WRITE, MMP_SEQ_CLEAN,
                         sm->ci_good ? sm->ci_good : sm->ci_attempt, a);
}

/* A release asked while I/O was outstanding, picked up at its completion. */
static int do_release(struct mmp_sm *sm, struct mmp_action *a)
{
        sm->release_pending = false;
        if (!sm->written)
                return act_end(sm, MMP_STATE_RELEASED, MMP_ACT_RELEASED, 0, NULL, a);
        sm->state = MMP_STATE_RELEASING;
        return act_read(sm, MMP_PHASE_RELEASE_CHECK, a);
}

/* ---- handoff and use ------------------------------------------------------ */

/* While handing off, look often: the user's first write ends the handoff
 * (and the caller's wait), and a failed start must not leave CLEAN long. */
#define HANDOFF_POLL_USEC (100 * 1000)

static int use_read(struct mmp_sm *sm, const struct mmp_event *ev, enum mmp_phase phase, struct mmp_action *a)
{
        sm->read_submitted = ev->now;
        return act_read(sm, phase, a);
}

static int start_handoff(struct mmp_sm *sm, const struct mmp_event *ev, struct mmp_action *a)
{
        sm->handoff_pending = false;
        sm->user = sm->handoff_ev.user;
        sm->mode = sm->handoff_ev.mode;
        if (sm->last_good && ev->now >= sm->dl.fence_at)
                return lost(sm, -ETIMEDOUT, NULL, a);
        return act_read(sm, MMP_PHASE_HANDOFF_CHECK, a);
}

static int enter_use(struct mmp_sm *sm, const struct mmp_event *ev, struct mmp_action *a)
{
        mmp_usec_t t = sm->handoff_ev.timeout;

        sm->state = MMP_STATE_IN_USE;
        sm->phase = MMP_PHASE_HANDING_OFF;
        sm->use_since = ev->now;
        sm->user_seen = sm->kmmpd_started = false;
        sm->end_pending = sm->user_gone = false;
        sm->last_change = 0;
        /* What we left on disk: a write of anyone else changes it. */
        sm->seen_seq = sm->mode == MMP_HANDOFF_FAST ? MMP_SEQ_CLEAN : sm->seq_good;
        memcpy(sm->seen_node, sm->nodename, sizeof(sm->seen_node));
        sm->seen_at = sm->mode == MMP_HANDOFF_FAST ? sm->write_submitted : ev->now;
        /* In WAIT mode the user first watches our stale seq for W. */
        if (sm->mode == MMP_HANDOFF_WAIT)
                t += (mmp_usec_t) mmp_wait_seconds(sm->upd, sm->ci_good) * MMP_USEC_PER_SEC;
        sm->handoff_deadline = ev->now + t;
        sm->next_read = ev->now + HANDOFF_POLL_USEC;
        /* No guarantee until the user's own writes are on disk. */
        memset(&sm->dl, 0, sizeof(sm->dl));
        sm->written = false;
        a->type = MMP_ACT_HANDOFF_GO;
        return 0;
}

/* Is @seq what kmmpd writes next after what we saw (1, 2, 3..., wrapping
 * after SEQ_MAX), allowing for the writes that fit since then? */
static bool kmmpd_successor(const struct mmp_sm *sm, uint32_t seq, mmp_usec_t now)
{
        uint64_t n = (now - sm->seen_at) / ((mmp_usec_t) sm->upd * MMP_USEC_PER_SEC) + 3;
        uint64_t d;

        if (seq == 0 || seq > MMP_SEQ_MAX)
                return false;
        if (!sm->kmmpd_started)
                return seq <= n;     /* kmmpd's first writes after the kernel's claim seq */
        d = seq > sm->seen_seq ? seq - sm->seen_seq : (uint64_t) MMP_SEQ_MAX - sm->seen_seq + seq;
        return d >= 1 && d <= n;
}

/* A write of the local user's, seen by the read submitted at read_submitted. */
static void user_wrote(struct mmp_sm *sm, const struct mmp_block *b)
{
        /* It landed after the previous read saw the old value. */
        sm->last_change = sm->seen_at;
        sm->user_seen = true;
        sm->user_block = *b;
        /* Silence is judged by the user's own check_interval: a slow kmmpd
         * raises it to buy time, as we do. */
        mmp_deadlines(sm->last_change, sm->upd, b->check_interval, sm->margin_cfg, &sm->dl);
        sm->stale_at = sm->dl.fence_at;
        /* The guarantee (may_use) is not: the user's next write may lower
         * check_interval (kmmpd drops it back to 5 once its writes are fast)
         * or be CLEAN, and it may land right after the read that saw this
         * one; from then on a peer waits only the shortest W.  Count on that
         * one, as hb_write() does for our own writes (found by tests/sim: a
         * kernel user wrote ci 9, then 5 and CLEAN while our read hung, and
         * a peer mmpd claimed the CLEAN 6 s before our guarantee ran out). */
        mmp_deadlines(sm->last_change, sm->upd, 0, sm->margin_cfg, &sm->dl);
        /* The kernel's claim seq (kmmpd has not counted yet): the mount now
         * sleeps its claim wait (c floored at 2 x update interval) before
         * it verifies and starts kmmpd, whose first write is seq 1.  That
         * silence is the mount, not a dead heartbeat; the guarantee (dl)
         * still runs out at the usual fence.  Only in WAIT mode: after our
         * CLEAN the kernel's wait is 0 and kmmpd follows in milliseconds,
         * so there a silent claim seq is a stalled device like any other. */
        if (sm->user == MMP_USER_KERNEL && !sm->kmmpd_started && sm->mode == MMP_HANDOFF_WAIT)
                sm->stale_at += (mmp_usec_t) mmp_wait_seconds(2 * sm->upd, b->check_interval) * MMP_USEC_PER_SEC;
}

static int use_next(struct mmp_sm *sm, const struct mmp_event *ev, struct mmp_action *a)
{
        mmp_usec_t every = sm->phase == MMP_PHASE_HANDING_OFF ? HANDOFF_POLL_USEC : sm->period;

        if (every == 0)
                every = (mmp_usec_t) sm->upd * MMP_USEC_PER_SEC;
        sm->next_read = sm->read_submitted + every;
        if (sm->next_read <= ev->now)
                sm->next_read = ev->now + 1;
        return act_none(sm, a);
}

static void seen(struct mmp_sm *sm, const struct mmp_block *b)
{
        sm->seen_seq = b->seq;
        memcpy(sm->seen_node, b->nodename, sizeof(sm->seen_node));
        sm->seen_at = sm->read_submitted;
}

/* End of use asked (EndUse, the tool exited): what is on disk decides. */
static int on_end_read(struct mmp_sm *sm, const struct mmp_event *ev, const struct mmp_block *b,
                       struct mmp_action *a)
{
        enum mmp_seq_class cls = mmp_seq_classify(b->seq);
        bool unchanged = b->seq == sm->seen_seq && strcmp(b->nodename, sm->seen_node) == 0;

        sm->end_pending = false;
        if (!unchanged && !is_local(sm, b->nodename))
                return lost(sm, -EBUSY, b, a);
        if (cls == MMP_SEQ_CLASS_CLEAN) {
                if (!sm->user_seen && unchanged)
                        return use_ended(sm, -ECANCELED, "the local user stopped before it wrote the MMP block", b, a);
                return use_ended(sm, 0, NULL, b, a);
        }
        if (!sm->user_seen && unchanged)     /* WAIT mode: our stale seq */
                return use_ended(sm, -ECANCELED, "the local user stopped before it wrote the MMP block", b, a);
        if (sm->user == MMP_USER_TOOL && sm->user_gone) {
                if (cls == MMP_SEQ_CLASS_FSCK)
                        return use_ended(sm, -EINPROGRESS, "the tool exited and left FSCK on the MMP block", b, a);
                return use_ended(sm, -EOWNERDEAD, "the tool exited and left its claim seq on the MMP block", b, a);
        }
        /* Still in use.  A change is the user's write (a local name): it
         * moves the deadline like any other, and a first one ends the
         * handoff phase. */
        if (!unchanged) {
                user_wrote(sm, b);
                sm->phase = MMP_PHASE_IN_USE;
        }
        seen(sm, b);
        use_next(sm, ev, a);     /* sets NONE: the answer goes after it */
        set_holder(sm, b, a);
        a->type = MMP_ACT_USE_BUSY;
        return 0;
}

static int on_use_read(struct mmp_sm *sm, const struct mmp_event *ev, int r, const struct mmp_block *b,
                       struct mmp_action *a)
{
        enum mmp_seq_class cls;
        bool unchanged;

        if (r < 0) {
                /* A corrupt block under a user: nobody can tell who holds it. */
                return lost(sm, r, r == -ENODATA ? NULL : b, a);
        }
        if (sm->end_pending || sm->phase == MMP_PHASE_USE_END_READ) {
                sm->phase = sm->user_seen ? MMP_PHASE_IN_USE : MMP_PHASE_HANDING_OFF;
                return on_end_read(sm, ev, b, a);
        }
        cls = mmp_seq_classify(b->seq);
        unchanged = b->seq == sm->seen_seq && strcmp(b->nodename, sm->seen_node) == 0;
        if (unchanged) {
                /* The next change lands after this read: it is the last
                 * that saw the old value (seen_at). */
                sm->seen_at = sm->read_submitted;
                if (sm->phase == MMP_PHASE_HANDING_OFF && ev->now >= sm->handoff_deadline)
                        return use_ended(sm, -ETIMEDOUT, "no write from the local user within the handoff timeout",
                                         b, a);
                if (sm->phase == MMP_PHASE_IN_USE && sm->user == MMP_USER_KERNEL && ev->now >= sm->stale_at)
                        return lost(sm, -ESTALE, b, a);
                return use_next(sm, ev, a);
        }
        if (!is_local(sm, b->nodename))
                return lost(sm, -EBUSY, b, a);
        if (cls == MMP_SEQ_CLASS_INVALID)
                return lost(sm, -EPROTO, b, a);

        if (sm->user == MMP_USER_KERNEL) {
                /* Unmounted (or, in WAIT mode, mounted and unmounted
                 * between two reads): the kernel wrote CLEAN. */
                if (cls == MMP_SEQ_CLASS_CLEAN)
                        return use_ended(sm, 0, NULL, b, a);
                /* A kernel never writes FSCK; kmmpd counts up by one. */
                if (cls == MMP_SEQ_CLASS_FSCK)
                        return lost(sm, -EINPROGRESS, b, a);
                if (sm->user_seen || sm->mode == MMP_HANDOFF_FAST) {
                        bool succ = kmmpd_successor(sm, b->seq, ev->now);

                        /* The kernel's own claim seq is random: only as its first write. */
                        if (!succ && (sm->user_seen || sm->kmmpd_started))
                                return lost(sm, -ENOTUNIQ, b, a);
                        if (succ)
                                sm->kmmpd_started = true;
                }
        }
        /* A tool's random seqs, FSCK and CLEAN (it may close and reopen,
         * as e2fsck does): its process ending is what ends the use. */
        user_wrote(sm, b);
        seen(sm, b);
        if (sm->phase == MMP_PHASE_HANDING_OFF) {
                sm->phase = MMP_PHASE_IN_USE;
                use_next(sm, ev, a);
                a->type = MMP_ACT_IN_USE;
                return 0;
        }
        return use_next(sm, ev, a);
}

static int on_handoff(struct mmp_sm *sm, const struct mmp_event *ev, struct mmp_action *a)
{
        if (sm->state != MMP_STATE_HELD || sm->handoff_pending || sm->release_pending)
                return -EINVAL;
        sm->handoff_ev = *ev;
        if (ev->user != MMP_USER_KERNEL && ev->user != MMP_USER_TOOL)
                return -EINVAL;
        if (sm->io_busy) {
                sm->handoff_pending = true;
                return act_none(sm, a);
        }
        return start_handoff(sm, ev, a);
}

static int on_end_use(struct mmp_sm *sm, const struct mmp_event *ev, struct mmp_action *a)
{
        if (sm->state != MMP_STATE_IN_USE)
                return -EINVAL;
        sm->user_gone |= ev->user_gone;
        if (sm->io_busy) {
                sm->end_pending = true;
                return act_none(sm, a);
        }
        sm->end_pending = true;
        return use_read(sm, ev, MMP_PHASE_USE_END_READ, a);
}

/* ---- event handlers ----------------------------------------------------- */

static int on_read(struct mmp_sm *sm, const struct mmp_event *ev, struct mmp_action *a)
{
        struct mmp_block b;
        int r = take_block(sm, ev, &b);
        const struct mmp_block *seen = sm->have_holder && r != -ENODATA ? &b : NULL;

        sm->io_busy = false;
        if (sm->release_pending && sm->phase != MMP_PHASE_RELEASE_CHECK)
                return do_release(sm, a);
        /* Only a fresh read may lead to a write. */
        if (r == 0 && read_too_old(sm, ev, &b))
                return act_read(sm, sm->phase, a);

        switch (sm->phase) {
        case MMP_PHASE_READ:
                if (r < 0)
                        return claim_fail(sm, r, seen, a);
                if ((r = claim_refusal(sm, &b)) < 0)
                        return claim_fail(sm, r, &b, a);
                sm->seq_seen = b.seq;
                sm->ci_seen = b.check_interval;
                if (mmp_seq_classify(b.seq) == MMP_SEQ_CLASS_CLEAN)
                        goto claim_write;
                /* Someone may be heartbeating: watch for a full W. */
                set_holder(sm, &b, a);
                sm->phase = MMP_PHASE_WAIT_ACTIVE;
                sm->wait_until = ev->now + mmp_claim_watch_usec(sm->upd, b.check_interval);
                a->type = MMP_ACT_WAIT;
                return 0;

        case MMP_PHASE_REREAD:
                if (r < 0)
                        return claim_fail(sm, r, seen, a);
                if ((r = claim_refusal(sm, &b)) < 0)
                        return claim_fail(sm, r, &b, a);
                if (b.seq != sm->seq_seen)
                        return claim_fail(sm, -EBUSY, &b, a);
        claim_write:
                return act_write(sm, ev, MMP_PHASE_WRITE_SEQ, fresh_seq(sm, sm->seq_seen),
                                 mmp_check_interval_to_write(sm->upd, 0), a);

        case MMP_PHASE_WAIT_CLAIM:
                /* A round's check: anyone else's write means a concurrent
                 * claimant (or a peer that took it): back off. */
                if (r < 0)
                        return claim_fail(sm, r, seen, a);
                if (!is_ours(sm, &b))
                        return claim_fail(sm, seq_refusal(&b) ? seq_refusal(&b) : -EBUSY, &b, a);
                return act_write(sm, ev, MMP_PHASE_WAIT_CLAIM, next_seq(sm->seq_attempt), sm->ci_attempt, a);

        case MMP_PHASE_VERIFY:
                if (r < 0)
                        return claim_fail(sm, r, seen, a);
                if (!is_ours(sm, &b))
                        return claim_fail(sm, -EBUSY, &b, a);
                return hb_write(sm, ev, a);

        case MMP_PHASE_HB_CHECK:
                /* The completion may be handled before an overdue timer
                 * (after SIGSTOP, say): never write past the deadline. */
                if (sm->last_good && ev->now >= sm->dl.fence_at)
                        return lost(sm, -ETIMEDOUT, NULL, a);
                if (r < 0)
                        return sm->state == MMP_STATE_CLAIMING ? claim_fail(sm, r, seen, a) : lost(sm, r, seen, a);
                if (!is_ours(sm, &b))
                        return sm->state == MMP_STATE_CLAIMING ? claim_fail(sm, -EBUSY, &b, a) : lost(sm, -EBUSY, &b, a);
                return hb_write(sm, ev, a);

        case MMP_PHASE_HB_VERIFY:
                /* Only the claim's first heartbeat is read back (on_write). */
                if (r == 0 && b.seq == sm->seq_attempt && is_ours(sm, &b)) {
                        record_good(sm);
                        sm->phase = MMP_PHASE_HB_IDLE;
                        sm->state = MMP_STATE_HELD;
                        sm->was_held = true;
                        sm->resuming = false;
                        a->type = MMP_ACT_CLAIMED;
                        return 0;
                }
                if (r == 0)
                        r = -EBUSY;
                return claim_fail(sm, r, seen, a);

        case MMP_PHASE_HANDOFF_CHECK:
                if (sm->last_good && ev->now >= sm->dl.fence_at)
                        return lost(sm, -ETIMEDOUT, NULL, a);
                if (r < 0)
                        return lost(sm, r, seen, a);
                if (!is_ours(sm, &b))
                        return lost(sm, -EBUSY, &b, a);
                if (sm->mode == MMP_HANDOFF_FAST)
                        return act_write(sm, ev, MMP_PHASE_HANDOFF_WRITE, MMP_SEQ_CLEAN, sm->ci_good, a);
                return enter_use(sm, ev, a);

        case MMP_PHASE_HANDING_OFF:
        case MMP_PHASE_IN_USE:
        case MMP_PHASE_USE_END_READ:
                return on_use_read(sm, ev, r, &b, a);

        case MMP_PHASE_RELEASE_CHECK:
                sm->release_pending = false;
                if (r == 0 && is_ours(sm, &b))
                        return release_write(sm, ev, a);
                if (r == 0)
                        r = -EBUSY;
                /* Never write over someone else.  If we held it, it was lost. */
                if (sm->was_held)
                        return lost(sm, r, seen, a);
                return act_end(sm, MMP_STATE_RELEASED, MMP_ACT_RELEASED, 0, seen, a);

        default:
                return -EINVAL;
        }
}

static int on_write(struct mmp_sm *sm, const struct mmp_event *ev, struct mmp_action *a)
{
        sm->io_busy = false;
        sm->prev_write_usec = sm->write_usec;
        sm->write_usec = ev->now >= sm->write_submitted ? ev->now - sm->write_submitted : 0;

        if (sm->phase == MMP_PHASE_RELEASE_WRITE)
                return act_end(sm, MMP_STATE_RELEASED, MMP_ACT_RELEASED, 0, NULL, a);
        if (sm->phase == MMP_PHASE_HANDOFF_WRITE) {
                /* A release asked meanwhile: CLEAN is what it writes, so it
                 * is done; the user must not start (IN_USE refuses releases). */
                if (sm->release_pending)
                        return act_end(sm, MMP_STATE_RELEASED, MMP_ACT_RELEASED, 0, NULL, a);
                return enter_use(sm, ev, a);
        }
        if (sm->release_pending)
                return do_release(sm, a);

        switch (sm->phase) {
        case MMP_PHASE_WRITE_SEQ: {
                /* ALWAYS wait, also after CLEAN, and long enough for both the
                 * peer that read the old block and one that read ours. */
                unsigned w1 = mmp_wait_seconds(sm->upd, sm->ci_seen);
                unsigned w2 = mmp_wait_seconds(sm->upd, sm->ci_attempt);

                sm->phase = MMP_PHASE_WAIT_CLAIM;
                sm->wait_until = ev->now + (mmp_usec_t) (w1 > w2 ? w1 : w2) * MMP_USEC_PER_SEC;
                sm->claim_period = mmp_heartbeat_period(sm->upd, sm->ci_attempt, sm->margin_cfg);
                sm->next_round = sm->write_submitted + sm->claim_period;
                a->type = MMP_ACT_WAIT;
                a->wait_end = claim_final_at(sm);
                return 0;
        }
        case MMP_PHASE_WAIT_CLAIM:
                /* A round's write landed: the next one a period later. */
                sm->next_round = sm->write_submitted + sm->claim_period;
                return act_none(sm, a);
        case MMP_PHASE_HB_WRITE:
                /* The claim's (or resume's) first heartbeat is read back
                 * before CLAIMED is reported: a hold starts verified. */
                if (sm->state != MMP_STATE_HELD)
                        return act_read(sm, MMP_PHASE_HB_VERIFY, a);
                /* A completed O_DIRECT write is what peers read: it moves the
                 * deadline now.  No read-back: the next beat's check read,
                 * one period later and right before its write, verifies this
                 * write too (a takeover, or a device that drops writes, shows
                 * there as a block that is not seq_good: LOST), and a read
                 * right after the write would not shorten the window in
                 * which a foreign write is overwritten unseen, which is what
                 * lies between a check read and the write that follows it
                 * (see mmp-sm.h, Heartbeat). */
                record_good(sm);
                if (sm->handoff_pending)
                        return start_handoff(sm, ev, a);
                sm->phase = MMP_PHASE_HB_IDLE;
                return act_none(sm, a);
        default:
                return -EINVAL;
        }
}

static int on_io_error(struct mmp_sm *sm, const struct mmp_event *ev, struct mmp_action *a)
{
        int err = ev->error < 0 ? ev->error : -EIO;

        sm->io_busy = false;
        sm->last_error = err;
        switch (sm->state) {
        case MMP_STATE_CLAIMING:
                if (sm->release_pending)
                        return act_end(sm, MMP_STATE_RELEASED, MMP_ACT_RELEASED, err, NULL, a);
                return claim_fail(sm, err, NULL, a);
        case MMP_STATE_RELEASING:
                /* CLEAN not written: peers will simply wait W. */
                return act_end(sm, MMP_STATE_RELEASED, MMP_ACT_RELEASED, err, NULL, a);
        case MMP_STATE_HELD:
                if (sm->release_pending)
                        return act_end(sm, MMP_STATE_RELEASED, MMP_ACT_RELEASED, err, NULL, a);
                /* CLEAN may or may not have landed: only a full claim can tell. */
                if (sm->phase == MMP_PHASE_HANDOFF_WRITE)
                        return use_ended(sm, err, "writing CLEAN for the handoff failed", NULL, a);
                /* A failed check read: try the handoff again with the next beat. */
                if (sm->phase == MMP_PHASE_HANDOFF_CHECK)
                        sm->handoff_pending = true;
                /* Retry soon; the fence deadline decides when it is lost. */
                sm->failures++;
                sm->phase = MMP_PHASE_HB_IDLE;
                sm->next_hb = ev->now + (sm->period < MMP_USEC_PER_SEC ? sm->period : MMP_USEC_PER_SEC);
                return act_none(sm, a);
        case MMP_STATE_IN_USE:
                sm->failures++;
                if (sm->phase == MMP_PHASE_USE_END_READ)
                        sm->phase = sm->user_seen ? MMP_PHASE_IN_USE : MMP_PHASE_HANDING_OFF;
                sm->next_read = ev->now + (sm->period && sm->period < MMP_USEC_PER_SEC ? sm->period : MMP_USEC_PER_SEC);
                if (sm->end_pending) {
                        sm->end_pending = false;
                        a->type = MMP_ACT_USE_BUSY;
                        a->error = err;
                        return 0;
                }
                return act_none(sm, a);
        default:
                return -EINVAL;
        }
}

static int on_timer(struct mmp_sm *sm, const struct mmp_event *ev, struct mmp_action *a)
{
        bool deadline_known = sm->state == MMP_STATE_HELD || (sm->resuming && sm->last_good);

        /* Past the fence deadline nothing can be trusted, whatever happened
         * meanwhile (SIGSTOP, VM pause, hung I/O): we are LOST. */
        if (deadline_known && ev->now >= sm->dl.fence_at)
                return lost(sm, -ETIMEDOUT, NULL, a);

        switch (sm->state) {
        case MMP_STATE_CLAIMING:
                if (sm->io_busy)
                        return act_none(sm, a);
                if (sm->phase == MMP_PHASE_WAIT_CLAIM) {
                        if (ev->now >= claim_final_at(sm))
                                return act_read(sm, MMP_PHASE_VERIFY, a);
                        /* A round: check the block is still ours, rewrite it. */
                        if (round_fits(sm) && ev->now >= sm->next_round)
                                return act_read(sm, MMP_PHASE_WAIT_CLAIM, a);
                        return act_none(sm, a);
                }
                if (ev->now < sm->wait_until)
                        return act_none(sm, a);
                if (sm->phase == MMP_PHASE_WAIT_ACTIVE)
                        return act_read(sm, MMP_PHASE_REREAD, a);
                return act_none(sm, a);
        case MMP_STATE_HELD:
                if (sm->io_busy || ev->now < sm->next_hb)
                        return act_none(sm, a);
                sm->beat_at = ev->now;
                return act_read(sm, MMP_PHASE_HB_CHECK, a);
        case MMP_STATE_IN_USE:
                if (sm->user_seen && sm->user == MMP_USER_KERNEL && ev->now >= sm->stale_at)
                        return lost(sm, -ESTALE, NULL, a);
                if (sm->io_busy || ev->now < sm->next_read)
                        return act_none(sm, a);
                return use_read(sm, ev, sm->phase, a);
        default:
                return act_none(sm, a);
        }
}

static int on_release(struct mmp_sm *sm, const struct mmp_event *ev, struct mmp_action *a)
{
        switch (sm->state) {
        case MMP_STATE_CLAIMING:
        case MMP_STATE_HELD:
                if (sm->io_busy) {
                        sm->release_pending = true;
                        return act_none(sm, a);
                }
                return do_release(sm, a);
        case MMP_STATE_RELEASING:
                return act_none(sm, a);
        case MMP_STATE_IN_USE:
                return -EBUSY;      /* the local user holds it: end the use first */
        default:
                /* Nothing held: nothing to write, and a LOST volume is never written. */
                return act_end(sm, MMP_STATE_RELEASED, MMP_ACT_RELEASED, 0, NULL, a);
        }
}

int mmp_sm_step(struct mmp_sm *sm, const struct mmp_event *ev, struct mmp_action *a)
{
        int r = -EINVAL;

        memset(a, 0, sizeof(*a));
        switch (ev->type) {
        case MMP_EV_CLAIM:
        case MMP_EV_RESUME:
                if (sm->state != MMP_STATE_IDLE && sm->state != MMP_STATE_RELEASED &&
                    sm->state != MMP_STATE_REFUSED)
                        break;
                sm->state = MMP_STATE_CLAIMING;
                sm->written = sm->was_held = sm->release_pending = false;
                sm->seq_good = sm->seq_attempt = 0;
                sm->last_good = sm->beat_at = 0;
                sm->failures = 0;
                memset(&sm->dl, 0, sizeof(sm->dl));
                sm->have_holder = false;
                sm->last_error = 0;
                sm->resuming = ev->type == MMP_EV_RESUME;
                sm->clear_fsck = ev->type == MMP_EV_CLAIM && ev->clear_fsck;
                sm->user = MMP_USER_NONE;
                sm->user_seen = false;
                sm->handoff_pending = sm->end_pending = false;
                if (!sm->resuming) {
                        r = act_read(sm, MMP_PHASE_READ, a);
                        break;
                }
                /* Taking over from a previous mmpd: our seq must still be on
                 * disk; check it, then heartbeat at once (no claim wait). */
                sm->seq_good = sm->seq_attempt = ev->seq;
                sm->ci_good = sm->ci_attempt = ev->check_interval;
                sm->written = true;
                if (ev->last_good) {
                        /* CLOCK_BOOTTIME is system-wide: the old process's
                         * deadline still holds for us. */
                        sm->last_good = ev->last_good;
                        mmp_deadlines(sm->last_good, sm->upd, sm->ci_good, sm->margin_cfg, &sm->dl);
                        if (ev->now >= sm->dl.fence_at) {
                                r = lost(sm, -ETIMEDOUT, NULL, a);
                                break;
                        }
                }
                r = act_read(sm, MMP_PHASE_HB_CHECK, a);
                break;
        case MMP_EV_RELEASE:
                r = on_release(sm, ev, a);
                break;
        case MMP_EV_READ_DONE:
                if (sm->io_busy)
                        r = on_read(sm, ev, a);
                break;
        case MMP_EV_WRITE_DONE:
                if (sm->io_busy)
                        r = on_write(sm, ev, a);
                break;
        case MMP_EV_IO_ERROR:
                if (sm->io_busy)
                        r = on_io_error(sm, ev, a);
                break;
        case MMP_EV_TIMER:
                r = on_timer(sm, ev, a);
                break;
        case MMP_EV_HANDOFF:
                r = on_handoff(sm, ev, a);
                break;
        case MMP_EV_END_USE:
                r = on_end_use(sm, ev, a);
                break;
        }
        if (r < 0)
                a->type = MMP_ACT_NONE;
        if (a->type == MMP_ACT_READ)
                sm->read_at = ev->now;
        a->wake_at = wake_time(sm);
        return r;
}

void mmp_sm_status(const struct mmp_sm *sm, struct mmp_sm_status *ret)
{
        memset(ret, 0, sizeof(*ret));
        ret->state = sm->state;
        ret->phase = sm->phase;
        ret->seq = sm->seq_good;
        ret->check_interval = sm->ci_good;
        ret->update_interval = sm->upd;
        ret->last_good = sm->last_good;
        ret->next_heartbeat = sm->state == MMP_STATE_HELD ? sm->next_hb : 0;
        ret->write_usec = sm->write_usec;
        if (sm->last_good)
                ret->deadlines = sm->dl;
        ret->failures = sm->failures;
        ret->last_error = sm->last_error;
        ret->have_holder = sm->have_holder;
        if (sm->have_holder)
                ret->holder = sm->holder;
        ret->user = sm->user;
        ret->mode = sm->mode;
        if (sm->state == MMP_STATE_IN_USE) {
                ret->use_since = sm->use_since;
                ret->last_change = sm->last_change;
                ret->user_seen = sm->user_seen;
                ret->user_seq = sm->user_block.seq;
                ret->user_block = sm->user_block;
                ret->deadlines = sm->dl;
        }
}

bool mmp_sm_may_use(const struct mmp_sm_status *st, mmp_usec_t now, mmp_usec_t *ret_until)
{
        bool ok = false;

        /* Not while handing off: CLEAN is being written. */
        if (st->state == MMP_STATE_HELD)
                ok = st->last_good != 0 && st->phase != MMP_PHASE_HANDOFF_CHECK &&
                     st->phase != MMP_PHASE_HANDOFF_WRITE;
        else if (st->state == MMP_STATE_IN_USE)
                ok = st->user_seen;
        ok = ok && st->deadlines.fence_at && now < st->deadlines.fence_at;
        if (ret_until)
                *ret_until = ok ? st->deadlines.fence_at : 0;
        return ok;
}

const char *mmp_user_name(enum mmp_user u)
{
        switch (u) {
        case MMP_USER_KERNEL: return "kernel";
        case MMP_USER_TOOL:   return "tool";
        default:              return "none";
        }
}

const char *mmp_handoff_mode_name(enum mmp_handoff_mode m)
{
        return m == MMP_HANDOFF_WAIT ? "wait" : "fast";
}

const char *mmp_state_name(enum mmp_state s)
{
        static const char *const names[] = {
                [MMP_STATE_IDLE] = "idle",           [MMP_STATE_CLAIMING] = "claiming",
                [MMP_STATE_HELD] = "held",           [MMP_STATE_RELEASING] = "releasing",
                [MMP_STATE_RELEASED] = "released",   [MMP_STATE_REFUSED] = "refused",
                [MMP_STATE_LOST] = "lost",           [MMP_STATE_IN_USE] = "in_use",
        };
        return (unsigned) s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

const char *mmp_phase_name(enum mmp_phase p)
{
        static const char *const names[] = {
                [MMP_PHASE_NONE] = "none",
                [MMP_PHASE_READ] = "reading",
                [MMP_PHASE_WAIT_ACTIVE] = "waiting-active",
                [MMP_PHASE_REREAD] = "rereading",
                [MMP_PHASE_WRITE_SEQ] = "writing-seq",
                [MMP_PHASE_WAIT_CLAIM] = "waiting-claim",
                [MMP_PHASE_VERIFY] = "verifying",
                [MMP_PHASE_HB_CHECK] = "heartbeat-check",
                [MMP_PHASE_HB_WRITE] = "heartbeat-write",
                [MMP_PHASE_HB_VERIFY] = "heartbeat-verify",
                [MMP_PHASE_HB_IDLE] = "idle",
                [MMP_PHASE_RELEASE_CHECK] = "release-check",
                [MMP_PHASE_RELEASE_WRITE] = "release-write",
                [MMP_PHASE_HANDOFF_CHECK] = "handoff-check",
                [MMP_PHASE_HANDOFF_WRITE] = "handoff-write",
                [MMP_PHASE_HANDING_OFF] = "handing-off",
                [MMP_PHASE_IN_USE] = "in-use",
                [MMP_PHASE_USE_END_READ] = "use-end-check",
        };
        return (unsigned) p < sizeof(names) / sizeof(names[0]) ? names[p] : "unknown";
}

const char *mmp_action_name(enum mmp_action_type t)
{
        static const char *const names[] = {
                [MMP_ACT_NONE] = "none",       [MMP_ACT_READ] = "read",
                [MMP_ACT_WRITE] = "write",     [MMP_ACT_WAIT] = "wait",
                [MMP_ACT_CLAIMED] = "claimed", [MMP_ACT_REFUSED] = "refused",
                [MMP_ACT_LOST] = "lost",       [MMP_ACT_RELEASED] = "released",
                [MMP_ACT_HANDOFF_GO] = "handoff-go", [MMP_ACT_IN_USE] = "in-use",
                [MMP_ACT_USE_ENDED] = "use-ended",   [MMP_ACT_USE_BUSY] = "use-busy",
        };
        return (unsigned) t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}
