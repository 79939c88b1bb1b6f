/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The parties of mmp-sim: mmpd nodes (lib/mmp-sm.c driven as mmpd/volume.c
 * drives it), kernel mounts (fs/ext4/mmp.c) and e2fsprogs read-write opens
 * (lib/ext2fs/mmp.c).  docs/simulator.md lists what each model does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

enum cmd { CMD_CLAIM, CMD_CLAIM_CLEAR, CMD_RELEASE, CMD_DECIDE, CMD_END_USE, CMD_END_USE_GONE, CMD_HANDOFF };



static struct peer *K(struct world *w, int i) { return &w->p[i].k; }
static struct mmpd *M(struct world *w, int i) { return &w->p[i].m; }

static usec_t wall(struct world *w) { return 1700000000 + w->now / MMP_USEC_PER_SEC; }

static void cmd(struct world *w, int i, usec_t at, enum cmd c)
{
        schedule(w, at, E_CMD, i, c);
}

/* ---- stalls ------------------------------------------------------------------ */

bool in_stall(struct world *w, int i, usec_t t, usec_t *until)
{
        struct mmpd *m = M(w, i);

        for (int s = 0; s < m->nstalls; s++)
                if (m->stall_from[s] >= m->born && t >= m->stall_from[s] && t < m->stall_to[s]) {
                        *until = m->stall_to[s];
                        return true;
                }
        return false;
}

/* ---- kernel mount and e2fsprogs ----------------------------------------------- */

static uint32_t new_seq(struct world *w)
{
        uint32_t s;

        do
                s = (uint32_t) rnd(w);
        while (s > MMP_SEQ_MAX);
        return s;
}

static void peer_sleep(struct world *w, int i, usec_t at, int step)
{
        schedule(w, at, E_PEER, i, ((uint64_t) K(w, i)->gen << 16) | (unsigned) step);
}

static void peer_io(struct world *w, int i, int step, bool write)
{
        struct peer *k = K(w, i);

        k->step = step;
        k->io = io_start(w, i, write, k->blk, NEVER);
        w->ios[k->io].tag = step;
}

static void local_end(struct world *w, int i, bool gone)
{
        struct peer *k = K(w, i);

        if (k->handed_by >= 0)
                cmd(w, k->handed_by, w->now + MS(1), gone ? CMD_END_USE_GONE : CMD_END_USE);
}

static void peer_fail(struct world *w, int i, const char *why)
{
        struct peer *k = K(w, i);
        struct party *p = &w->p[i];

        LOG(w, i, "%s refused: %s", p->type == P_KERNEL ? "mount" : "open", why);
        if (p->type == P_KERNEL)
                w->st->kernel_refused++;
        else
                w->st->tool_failed++;
        k->finished = true;
        local_end(w, i, p->type == P_TOOL);
        if (k->handed_by < 0 && k->retries-- > 0)
                peer_sleep(w, i, w->now + rnd_range(w, SEC(1), SEC(30)), PS_RETRY);
}

static void peer_set(struct world *w, int i, uint32_t seq, bool names)
{
        struct peer *k = K(w, i);
        struct mmp_block b;

        mmp_block_decode(&w->sb, k->blk, BS, &b);
        b.seq = seq;
        if (names) {
                b.time = wall(w);
                mmp_name_set(b.nodename, MMP_NODENAME_LEN, k->host);
                mmp_name_set(b.bdevname, MMP_BDEVNAME_LEN, k->bdev);
        }
        mmp_block_encode(&w->sb, &b, k->blk, BS);
}

static void peer_start(struct world *w, int i)
{
        struct peer *k = K(w, i);

        k->gen++;
        k->finished = k->using = k->stopping = k->shutdown = k->killed = false;
        k->clean_path = false;
        k->clean_from = -2;
        k->claim_land = k->use_land = 0;
        k->peer_double = false;
        LOG(w, i, "%s starts", w->p[i].type == P_KERNEL ? "mount" : "tool");
        peer_io(w, i, PS_READ1, false);
        if (w->p[i].type == P_TOOL && chance(w, 60))
                peer_sleep(w, i, w->now + rnd_range(w, SEC(1), SEC(40)), PS_KILL);
}

static void kmmpd_write(struct world *w, int i)
{
        struct peer *k = K(w, i);
        struct mmp_block b;

        if (k->stopping) {
                peer_set(w, i, MMP_SEQ_CLEAN, true);
                LOG(w, i, "kmmpd writes CLEAN");
                peer_io(w, i, PS_WCLEAN, true);
                return;
        }
        k->kseq = k->kseq >= MMP_SEQ_MAX ? 1 : k->kseq + 1;
        mmp_block_decode(&w->sb, k->blk, BS, &b);
        b.check_interval = (uint16_t) k->kci;
        mmp_block_encode(&w->sb, &b, k->blk, BS);
        peer_set(w, i, k->kseq, true);
        k->kwrite_at = w->now;
        peer_io(w, i, PS_KWRITE, true);
}

static void peer_read_done(struct world *w, int i, const uint8_t *buf, int writer)
{
        struct peer *k = K(w, i);
        bool kernel = w->p[i].type == P_KERNEL;
        struct mmp_block b;
        int r = mmp_block_decode(&w->sb, buf, BS, &b);

        if (r < 0)
                return peer_fail(w, i, "bad MMP block");
        switch (k->step) {
        case PS_READ1:
                memcpy(k->blk, buf, BS);
                k->seq = b.seq;
                /* kernel: c floored at 2 x update interval; e2fsprogs: at the update interval */
                k->wait_s = mmp_wait_seconds(kernel ? 2 * w->upd : w->upd, b.check_interval);
                if (b.seq == MMP_SEQ_CLEAN) {
                        k->clean_path = true;
                        k->clean_from = writer;
                        if (kernel)
                                k->wait_s = 0;
                        goto claim;
                }
                if (b.seq == MMP_SEQ_FSCK)
                        return peer_fail(w, i, "FSCK");
                if (!kernel && b.seq > MMP_SEQ_FSCK)
                        return peer_fail(w, i, "unknown seq");
                k->step = PS_WAIT1;
                peer_sleep(w, i, w->now + SEC(k->wait_s), PS_WAIT1);
                return;
        case PS_READ2:
                if (b.seq != k->seq)
                        return peer_fail(w, i, "changed during the first wait");
                memcpy(k->blk, buf, BS);
        claim:
                k->seq = new_seq(w);
                peer_set(w, i, k->seq, !kernel);   /* the kernel keeps the names it read */
                peer_io(w, i, PS_WCLAIM, true);
                return;
        case PS_READ3:
                if (b.seq != k->seq)
                        return peer_fail(w, i, "changed during the second wait");
                if (kernel) {
                        k->using = true;
                        k->use_since = w->now;
                        w->st->kernel_mounts++;
                        LOG(w, i, "MOUNTED (%s path)", k->clean_path ? "CLEAN" : "full");
                        k->kseq = 0;
                        k->kci = mmp_check_interval_to_write(w->upd, 0);
                        k->step = PS_KMMPD;
                        peer_sleep(w, i, w->now + rnd_range(w, MS(1), MS(12)), PS_KMMPD);
                        peer_sleep(w, i, w->now + k->hold, PS_HOLD_END);
                } else {
                        peer_set(w, i, MMP_SEQ_FSCK, true);
                        peer_io(w, i, PS_WFSCK, true);
                }
                return;
        case PS_CLOSE_READ: {
                struct mmp_block mine;

                mmp_block_decode(&w->sb, k->blk, BS, &mine);
                if (b.seq == mine.seq && strcmp(b.nodename, mine.nodename) == 0) {
                        peer_set(w, i, MMP_SEQ_CLEAN, true);
                        peer_io(w, i, PS_WCLEAN, true);
                        return;
                }
                LOG(w, i, "close: block changed, no CLEAN");
                k->finished = true;
                w->st->tool_ok++;
                local_end(w, i, true);
                return;
        }
        }
}

static void peer_io_done(struct world *w, int i, int io_i)
{
        struct peer *k = K(w, i);
        struct io *io = &w->ios[io_i];
        int err = io->err;
        uint8_t buf[BS];
        int writer = io->writer;

        if (io_i != k->io || io->inc != w->p[i].inc || k->killed) {
                io_put(w, io_i);
                return;
        }
        k->io = -1;
        if (!io->write)
                memcpy(buf, io->buf, BS);
        io_put(w, io_i);
        if (k->step == PS_KWRITE) {
                usec_t diff = w->now - k->kwrite_at;

                /* errors are only logged; sleep out the update interval */
                if (k->stopping && !k->shutdown)
                        return kmmpd_write(w, i);
                k->step = PS_KMMPD;
                peer_sleep(w, i, diff < SEC(w->upd) ? k->kwrite_at + SEC(w->upd) : w->now, PS_KMMPD);
                return;
        }
        if (k->step == PS_WCLEAN) {
                k->finished = true;
                if (w->p[i].type == P_TOOL)
                        w->st->tool_ok++;
                LOG(w, i, "%s done", w->p[i].type == P_KERNEL ? "unmount" : "tool");
                local_end(w, i, w->p[i].type == P_TOOL);
                return;
        }
        if (err) {
                k->using = false;
                return peer_fail(w, i, "I/O error");
        }
        switch (k->step) {
        case PS_READ1: case PS_READ2: case PS_READ3: case PS_CLOSE_READ:
                return peer_read_done(w, i, buf, writer);
        case PS_WCLAIM:
                k->step = PS_WAIT2;
                peer_sleep(w, i, w->now + SEC(k->wait_s), PS_WAIT2);
                return;
        case PS_WFSCK:
                /* ext2fs_mmp_start() returns: the tool works from here */
                k->using = true;
                k->use_since = w->now;
                LOG(w, i, "FSCK written: in use");
                k->step = PS_HOLD_END;
                peer_sleep(w, i, w->now + k->hold, PS_HOLD_END);
                return;
        }
}

static void peer_event(struct world *w, struct event *e)
{
        int i = e->party;
        struct peer *k = K(w, i);
        int step = (int) (e->arg & 0xffff);

        if (e->type == E_START) {
                if (k->handed_by < 0)
                        peer_start(w, i);
                return;
        }
        if (e->inc != w->p[i].inc || (e->arg >> 16) != k->gen || k->killed)
                return;
        switch (step) {
        case PS_WAIT1:
                peer_io(w, i, PS_READ2, false);
                return;
        case PS_WAIT2:
                peer_io(w, i, PS_READ3, false);
                return;
        case PS_KMMPD: {
                usec_t diff = w->now - k->kwrite_at;

                if (k->step != PS_KMMPD)
                        return;
                if (k->kseq) {
                        unsigned ci = (unsigned) (2 * diff / MMP_USEC_PER_SEC);

                        k->kci = ci > 300 ? 300 : ci < 5 ? 5 : ci;
                }
                kmmpd_write(w, i);
                return;
        }
        case PS_HOLD_END:
                if (!k->using)
                        return;
                k->using = false;
                k->stopping = true;
                if (w->p[i].type == P_KERNEL) {
                        LOG(w, i, "unmount");
                        if (k->step == PS_KMMPD) {     /* kthread_stop wakes it */
                                k->gen++;
                                kmmpd_write(w, i);
                        }
                        return;
                }
                LOG(w, i, "close");
                peer_io(w, i, PS_CLOSE_READ, false);
                return;
        case PS_SHUTDOWN:
                if (!k->using)
                        return;
                LOG(w, i, "FS_IOC_SHUTDOWN (fence)");
                k->using = false;
                k->stopping = k->shutdown = true;     /* kmmpd writes CLEAN at its next tick */
                return;
        case PS_KILL:
                if (k->finished)
                        return;
                LOG(w, i, "tool killed%s", k->using ? " (leaves FSCK)" : "");
                w->st->tool_killed++;
                k->killed = true;
                k->using = false;
                k->finished = true;
                local_end(w, i, true);
                return;
        case PS_RETRY:
                w->p[i].inc++;
                peer_start(w, i);
                return;
        }
}

/* ---- mmpd: the driver of mmpd/volume.c ------------------------------------------ */

bool mmpd_may_use(struct world *w, int i)
{
        return mmp_sm_may_use(&M(w, i)->st, w->now, NULL);
}

enum mmp_state mmpd_state(struct world *w, int i)
{
        return M(w, i)->st.state;
}

static uint32_t sm_random(void *userdata)
{
        return (uint32_t) rnd(userdata);
}

static void mmpd_step(struct world *w, int i, struct mmp_event *ev);

static usec_t io_timeout(struct world *w)
{
        return SEC(mmp_check_interval_to_write(w->upd, 0));
}

static void mmpd_submit(struct world *w, int i, const struct mmp_action *a)
{
        struct mmpd *m = M(w, i);

        if (m->io >= 0) {       /* a timed-out I/O still owns the buffer */
                m->pending = *a;
                if (a->type == MMP_ACT_WRITE)
                        memcpy(m->pending_buf, a->data, BS);
                m->has_pending = true;
                return;
        }
        m->io = io_start(w, i, a->type == MMP_ACT_WRITE, a->type == MMP_ACT_WRITE ? a->data : NULL,
                         io_timeout(w));
        m->io_timed_out = false;
}

static int lost_slot(int err)
{
        switch (-err) {
        case ETIMEDOUT: return 0;
        case EBUSY: return 1;
        case ESTALE: return 2;
        case ENOTUNIQ: return 3;
        case EIO: return 4;
        default: return 5;
        }
}

static void start_local_user(struct world *w, int i)
{
        struct mmpd *m = M(w, i);
        int u = m->local_user;

        w->p[u].inc++;
        K(w, u)->hold = rnd_range(w, SEC(1), SEC(30));
        K(w, u)->finished = false;
        schedule(w, w->now + rnd_range(w, MS(2), MS(10)), E_PEER, u, ((uint64_t) K(w, u)->gen << 16) | PS_RETRY);
        K(w, u)->retries = 0;
}

static void mmpd_perform(struct world *w, int i, const struct mmp_action *a, enum mmp_state before,
                          bool before_timer)
{
        struct mmpd *m = M(w, i);
        struct stats *st = w->st;
        int u = m->local_user;

        mmp_sm_status(m->sm, &m->st);
        if (w->verbose && a->type != MMP_ACT_NONE)
                LOG(w, i, "sm -> %s%s%s (%s/%s)%s%s", mmp_action_name(a->type), a->error ? " " : "",
                    a->error ? strerror(-a->error) : "", mmp_state_name(m->st.state), mmp_phase_name(m->st.phase),
                    mmp_sm_may_use(&m->st, w->now, NULL) ? " may_use" : "", a->type == MMP_ACT_WRITE ? " write" : "");
        switch (a->type) {
        case MMP_ACT_READ:
        case MMP_ACT_WRITE:
                mmpd_submit(w, i, a);
                break;
        case MMP_ACT_CLAIMED:
                st->claimed++;
                m->rec.valid = true;
                cmd(w, i, w->now + rnd_range(w, SEC(1), SEC(40)), CMD_DECIDE);
                break;
        case MMP_ACT_REFUSED:
                st->refused++;
                m->rec.valid = false;
                if (m->claims_left-- > 0)
                        cmd(w, i, w->now + rnd_range(w, MS(100), SEC(30)), CMD_CLAIM);
                else
                        m->wants = false;
                break;
        case MMP_ACT_LOST:
                st->lost++;
                st->lost_reason[lost_slot(a->error)]++;
                m->rec.valid = false;
                if (before == MMP_STATE_HELD || before == MMP_STATE_IN_USE)
                        st->fenced++;
                if (before == MMP_STATE_CLAIMING && m->st.last_good)
                        st->resume_lost++;
                /* the fence: a local user is shut down / killed first */
                if (u >= 0 && !K(w, u)->finished)
                        schedule(w, w->now + rnd_range(w, MS(5), MS(50)), E_PEER, u,
                                 ((uint64_t) K(w, u)->gen << 16) |
                                         (w->p[u].type == P_KERNEL ? PS_SHUTDOWN : PS_KILL));
                if (m->claims_left-- > 0)
                        cmd(w, i, w->now + rnd_range(w, SEC(1), SEC(40)), CMD_CLAIM);
                else
                        m->wants = false;
                break;
        case MMP_ACT_RELEASED:
                st->released++;
                m->rec.valid = false;
                break;
        case MMP_ACT_HANDOFF_GO:
                st->handoffs++;
                m->rec.valid = false;
                start_local_user(w, i);
                break;
        case MMP_ACT_IN_USE:
                st->in_use++;
                break;
        case MMP_ACT_USE_ENDED:
                m->rec.valid = false;
                if (a->error == 0) {
                        st->use_ended_ok++;
                        if (chance(w, 500) && m->claims_left-- > 0)
                                cmd(w, i, w->now + MS(1), CMD_CLAIM);
                        else
                                m->wants = false;
                } else {
                        st->use_ended_err++;
                        cmd(w, i, w->now + MS(1), a->error == -EINPROGRESS ? CMD_CLAIM_CLEAR : CMD_CLAIM);
                }
                break;
        case MMP_ACT_USE_BUSY:
                cmd(w, i, w->now + SEC(1), CMD_END_USE);
                break;
        default:
                break;
        }
        if (m->st.state == MMP_STATE_HELD) {
                m->rec.seq = m->st.seq;
                m->rec.ci = (uint16_t) m->st.check_interval;
                m->rec.last_good = m->st.last_good;
        }
        if (a->wake_at != NEVER && a->wake_at != m->armed_at) {
                usec_t at = a->wake_at;

                /* A wake_at already past right after a timer that did
                 * nothing: mmpd's libev timer would fire again at once (a
                 * busy loop until the I/O completes).  Counted; delivered
                 * again 10 ms later here. */
                if (at <= w->now && before_timer) {
                        w->st->timer_spins++;
                        if (!m->spinning)
                                LOG(w, i, "wake_at %.6f already past after a timer (state %s/%s, I/O in flight): busy loop",
                                    (double) at / 1e6, mmp_state_name(m->st.state), mmp_phase_name(m->st.phase));
                        m->spinning = true;
                        at = w->now + MS(10);
                } else {
                        m->spinning = false;
                }
                m->armed_at = a->wake_at;
                schedule(w, at, E_TIMER, i, ++m->timer_gen);
        }
}

static void mmpd_step(struct world *w, int i, struct mmp_event *ev)
{
        struct mmpd *m = M(w, i);
        struct mmp_action a;
        enum mmp_state before = m->st.state;

        ev->now = w->now;
        ev->wall = wall(w);
        mmp_sm_step(m->sm, ev, &a);
        mmpd_perform(w, i, &a, before, ev->type == MMP_EV_TIMER);
}

void mmpd_new_sm(struct world *w, int i)
{
        struct mmpd *m = M(w, i);
        struct mmp_sm_config cfg = {
                .sb = w->sb, .nodename = m->nodename, .bdevname = "sdb",
                .spread = m->spread, .slot = m->slot, .local_names = m->local_names,
                .random_u32 = sm_random, .userdata = w,
        };

        m->sm = mmp_sm_free(m->sm);
        if (mmp_sm_new(&cfg, &m->sm) < 0)
                abort();
        mmp_sm_status(m->sm, &m->st);
        m->io = -1;
        m->has_pending = false;
        m->armed_at = NEVER;
        m->alive = true;
        m->born = w->now;
}

static void mmpd_io_done(struct world *w, int i, int io_i)
{
        struct mmpd *m = M(w, i);
        struct io *io = &w->ios[io_i];
        struct mmp_event ev = { 0 };

        if (io->inc != w->p[i].inc || io_i != m->io) {
                io_put(w, io_i);
                return;
        }
        m->io = -1;
        if (m->probing) {
                /* volume.c on_probe_read(): our next seq landed after the record */
                struct mmp_block b;
                uint32_t seq = m->rec.seq, next = seq >= MMP_SEQ_MAX ? 1 : seq + 1;
                uint16_t ci = m->rec.ci;

                m->probing = false;
                if (!io->err && !m->io_timed_out && mmp_block_decode(&w->sb, io->buf, BS, &b) == 0 &&
                    b.seq == next && strcmp(b.nodename, m->nodename) == 0) {
                        seq = b.seq;
                        ci = b.check_interval;
                }
                io_put(w, io_i);
                w->st->resumes++;
                ev = (struct mmp_event) { .type = MMP_EV_RESUME, .seq = seq, .check_interval = ci,
                                          .last_good = m->rec.last_good };
                return mmpd_step(w, i, &ev);
        }
        if (m->io_timed_out) {
                /* on_io_idle(): the pending I/O goes only while it still matters */
                io_put(w, io_i);
                if (m->has_pending) {
                        m->has_pending = false;
                        if (m->st.state == MMP_STATE_CLAIMING || m->st.state == MMP_STATE_HELD ||
                            m->st.state == MMP_STATE_RELEASING) {
                                if (m->pending.type == MMP_ACT_WRITE)
                                        m->pending.data = m->pending_buf;
                                mmpd_submit(w, i, &m->pending);
                        }
                }
                return;
        }
        if (io->err) {
                ev.type = MMP_EV_IO_ERROR;
                ev.error = io->err;
        } else if (io->write) {
                ev.type = MMP_EV_WRITE_DONE;
        } else {
                ev.type = MMP_EV_READ_DONE;
                ev.data = io->buf;
                ev.len = BS;
        }
        io_put(w, io_i);
        mmpd_step(w, i, &ev);
}

void party_io_timeout(struct world *w, int i, int io_i)
{
        struct mmpd *m = M(w, i);
        struct io *io = &w->ios[io_i];

        if (w->p[i].type != P_MMPD || io->inc != w->p[i].inc || io_i != m->io || m->io_timed_out)
                return;
        if (io->complete <= w->now)     /* completed while stopped: reaped first */
                return;
        m->io_timed_out = true;
        w->st->io_timeouts++;
        LOG(w, i, "I/O timed out (submitted %.6f)", (double) io->submit / 1e6);
        if (m->probing) {
                m->probing = false;
                w->st->resumes++;
                return mmpd_step(w, i, &(struct mmp_event) { .type = MMP_EV_RESUME, .seq = m->rec.seq,
                                                             .check_interval = m->rec.ci,
                                                             .last_good = m->rec.last_good });
        }
        mmpd_step(w, i, &(struct mmp_event) { .type = MMP_EV_IO_ERROR, .error = -ETIMEDOUT });
}

void party_io_done(struct world *w, int i, int io_i)
{
        if (w->p[i].type == P_MMPD)
                mmpd_io_done(w, i, io_i);
        else
                peer_io_done(w, i, io_i);
}

static void mmpd_cmd(struct world *w, int i, enum cmd c)
{
        struct mmpd *m = M(w, i);
        struct mmp_event ev = { 0 };

        if (!m->alive)
                return;
        switch (c) {
        case CMD_CLAIM:
        case CMD_CLAIM_CLEAR:
                m->wants = true;
                ev.type = MMP_EV_CLAIM;
                ev.clear_fsck = c == CMD_CLAIM_CLEAR;
                break;
        case CMD_RELEASE:
                ev.type = MMP_EV_RELEASE;
                m->wants = false;
                break;
        case CMD_DECIDE: {
                int u = m->local_user;

                if (m->st.state != MMP_STATE_HELD)
                        return;
                if (u >= 0 && K(w, u)->finished && chance(w, 700)) {
                        ev.type = MMP_EV_HANDOFF;
                        ev.user = w->p[u].type == P_KERNEL ? MMP_USER_KERNEL : MMP_USER_TOOL;
                        ev.mode = chance(w, 600) ? MMP_HANDOFF_FAST : MMP_HANDOFF_WAIT;
                        ev.timeout = SEC(5);
                        LOG(w, i, "handoff to the local %s (%s)", mmp_user_name(ev.user),
                            mmp_handoff_mode_name(ev.mode));
                } else if (chance(w, 500)) {
                        LOG(w, i, "release");
                        ev.type = MMP_EV_RELEASE;
                        m->wants = false;
                } else {
                        return;     /* keep holding */
                }
                break;
        }
        case CMD_END_USE:
        case CMD_END_USE_GONE:
                ev.type = MMP_EV_END_USE;
                ev.user_gone = c == CMD_END_USE_GONE;
                break;
        default:
                return;
        }
        mmpd_step(w, i, &ev);
}

static void mmpd_event(struct world *w, struct event *e)
{
        int i = e->party;
        struct mmpd *m = M(w, i);

        switch (e->type) {
        case E_START:
                m->wants = true;
                if (!m->alive)
                        return;     /* the restarted process claims */
                LOG(w, i, "claim");
                mmpd_step(w, i, &(struct mmp_event) { .type = MMP_EV_CLAIM });
                return;
        case E_TIMER:
                if (e->inc != w->p[i].inc || e->arg != m->timer_gen || !m->alive)
                        return;
                m->armed_at = NEVER;
                mmpd_step(w, i, &(struct mmp_event) { .type = MMP_EV_TIMER });
                return;
        case E_CMD:
                if (e->inc == w->p[i].inc)
                        mmpd_cmd(w, i, (enum cmd) e->arg);
                return;
        case E_KILL:
                if (!m->alive)
                        return;
                LOG(w, i, "mmpd killed (restart in %.3f s)%s", (double) m->restart_delay / 1e6,
                    m->rec.valid ? ", record kept" : "");
                w->st->restarts++;
                w->p[i].inc++;
                m->alive = false;
                m->sm = mmp_sm_free(m->sm);
                schedule(w, w->now + m->restart_delay, E_RESTART, i, 0);
                return;
        case E_RESTART: {
                int u = m->local_user;

                mmpd_new_sm(w, i);
                if (m->rec.valid) {
                        LOG(w, i, "mmpd restarted: resume seq %#x last_good %.6f", m->rec.seq,
                            (double) m->rec.last_good / 1e6);
                        m->probing = true;
                        m->io = io_start(w, i, false, NULL, io_timeout(w));
                        m->io_timed_out = false;
                } else if (m->wants && (u < 0 || K(w, u)->finished)) {
                        LOG(w, i, "mmpd restarted: claim");
                        mmpd_step(w, i, &(struct mmp_event) { .type = MMP_EV_CLAIM });
                } else {
                        LOG(w, i, "mmpd restarted: idle");
                }
                return;
        }
        default:
                return;
        }
}

void party_event(struct world *w, struct event *e)
{
        if (w->p[e->party].type == P_MMPD)
                mmpd_event(w, e);
        else
                peer_event(w, e);
}

void party_teardown(struct world *w)
{
        for (int i = 0; i < w->np; i++)
                if (w->p[i].type == P_MMPD)
                        w->p[i].m.sm = mmp_sm_free(w->p[i].m.sm);
}
