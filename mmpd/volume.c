/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A volume wires lib/'s state machine to the loop: its actions become
 * asynchronous I/O on the volume's one request, its wake_at becomes the
 * volume's one timer, and its outcomes become log lines and events.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "volume.h"

#define SB_READ_SIZE 4096u      /* covers the superblock at any sector size */

static void volume_perform(struct volume *v, const struct mmp_action *a);

const char *volume_name(const struct volume *v)
{
        return v->name;
}

const char *volume_device(const struct volume *v)
{
        return v->device;
}

static uint64_t wall_now(void)
{
        return (uint64_t) time(NULL);
}

static unsigned update_interval(const struct volume *v)
{
        return v->have_sb ? mmp_sb_update_interval(&v->sb) : 5;
}

/* Per-I/O deadline: the configured one, else the floor of the check_interval
 * we write, max(2 x update interval, 5) s: kmmpd itself tolerates writes up to
 * half the check_interval before it starts raising it. */
static mmp_usec_t io_timeout(const struct volume *v)
{
        if (v->opts.io_timeout > 0)
                return (mmp_usec_t) (v->opts.io_timeout * MMP_USEC_PER_SEC);
        return (mmp_usec_t) mmp_check_interval_to_write(update_interval(v), 0) * MMP_USEC_PER_SEC;
}

static void set_state(struct volume *v, enum mmp_state state, enum mmp_phase phase)
{
        bool progress = v->state == MMP_STATE_CLAIMING && state == MMP_STATE_CLAIMING && phase != v->phase;

        v->state = state;
        v->phase = phase;
        if (progress)
                manager_volume_event(v->m, v, VOLUME_EVENT_PROGRESS, 0, NULL, 0);
}

static void fail_claim(struct volume *v, int err, const char *text)
{
        v->error = err;
        v->error_text = text;
        v->state = MMP_STATE_REFUSED;
        v->phase = MMP_PHASE_NONE;
        log_vol(v, LOG_ERR, "cannot claim: %s", text);
        manager_volume_event(v->m, v, VOLUME_EVENT_REFUSED, err, text, 0);
        manager_volume_done(v->m, v);
}

/* ---- timer ---------------------------------------------------------------- */

static void arm_timer(struct volume *v, mmp_usec_t at)
{
        struct ev_loop *loop = manager_loop(v->m);
        mmp_usec_t now;

        /* Every step of every heartbeat ends here, mostly with the same fence
         * deadline while an I/O is in flight: leave the timer heap alone then. */
        if (at == v->armed_at && ev_is_active(&v->timer))
                return;
        ev_timer_stop(loop, &v->timer);
        v->armed_at = at;
        if (at == MMP_USEC_INFINITY)
                return;
        now = mmpd_now();
        ev_timer_set(&v->timer, at > now ? (double) (at - now) / MMP_USEC_PER_SEC : 0., 0.);
        ev_timer_start(loop, &v->timer);
}

static void step(struct volume *v, struct mmp_event *ev)
{
        struct mmp_action a;

        ev->now = mmpd_now();
        ev->wall = wall_now();
        if (mmp_sm_step(v->sm, ev, &a) < 0)
                log_vol(v, LOG_DEBUG, "ignored event %d in state %s", ev->type, mmp_state_name(v->state));
        volume_perform(v, &a);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
        struct volume *v = w->data;

        if (v->sm)
                step(v, &(struct mmp_event) { .type = MMP_EV_TIMER });
}

/* ---- I/O -------------------------------------------------------------------- */

static void submit(struct volume *v, const struct mmp_action *a)
{
        int r;

        if (mmpd_ioreq_busy(v->req)) {
                /* A timed-out I/O still owns the buffer: wait for it (idle_cb). */
                v->pending = *a;
                v->has_pending = true;
                return;
        }
        v->op = a->type == MMP_ACT_WRITE ? MMPD_IO_WRITE : MMPD_IO_READ;
        if (v->op == MMPD_IO_WRITE)
                memcpy(mmpd_ioreq_buf(v->req), a->data, a->len);
        r = mmpd_ioreq_submit(v->req, v->op, a->offset, a->len, mmpd_now() + io_timeout(v));
        if (r < 0)
                step(v, &(struct mmp_event) { .type = MMP_EV_IO_ERROR, .error = r });
}

static void note_io_time(struct volume *v, mmp_usec_t usec)
{
        bool slow = usec * 2 > (mmp_usec_t) update_interval(v) * MMP_USEC_PER_SEC;
        bool *was = &v->slow[v->op];    /* reads and writes separately: no flapping */

        if (slow && !*was) {
                log_vol(v, LOG_WARNING, "slow I/O: %s took %.3f s (update interval %u s)",
                        v->op == MMPD_IO_WRITE ? "write" : "read", (double) usec / MMP_USEC_PER_SEC,
                        update_interval(v));
                manager_volume_event(v->m, v, VOLUME_EVENT_SLOW_IO, 0, NULL, usec);
        } else if (!slow && *was) {
                log_vol(v, LOG_NOTICE, "%s I/O is fast again (%.3f s)", v->op == MMPD_IO_WRITE ? "write" : "read",
                        (double) usec / MMP_USEC_PER_SEC);
        }
        *was = slow;
}

static void on_sb_read(struct volume *v, ssize_t result);
static void on_probe_read(struct volume *v, ssize_t result);

static void on_io(struct mmpd_ioreq *req, ssize_t result, void *userdata)
{
        struct volume *v = userdata;
        struct mmp_event ev = {};

        if (v->reading_sb) {
                on_sb_read(v, result);
                return;
        }
        if (v->probing) {
                on_probe_read(v, result);
                return;
        }
        if (result >= 0)
                note_io_time(v, mmpd_ioreq_last_duration(req));
        if (result < 0) {
                ev.type = MMP_EV_IO_ERROR;
                ev.error = (int) result;
                log_vol(v, result == -ETIMEDOUT ? LOG_ERR : LOG_WARNING, "%s of the MMP block failed: %s",
                        v->op == MMPD_IO_WRITE ? "write" : "read",
                        result == -ETIMEDOUT ? "no completion by its deadline" : strerror((int) -result));
        } else if (v->op == MMPD_IO_WRITE) {
                ev.type = MMP_EV_WRITE_DONE;
        } else {
                ev.type = MMP_EV_READ_DONE;
                ev.data = mmpd_ioreq_buf(req);
                ev.len = (size_t) result;
        }
        step(v, &ev);
}

static void on_io_idle(struct mmpd_ioreq *req, void *userdata)
{
        struct volume *v = userdata;

        if (v->has_pending) {
                v->has_pending = false;
                /* The volume may have been declared LOST (or released) while
                 * the timed-out I/O drained: then nothing more goes to disk. */
                if (v->state == MMP_STATE_CLAIMING || v->state == MMP_STATE_HELD ||
                    v->state == MMP_STATE_RELEASING)
                        submit(v, &v->pending);
        } else if (v->removing && v->state != MMP_STATE_CLAIMING && v->state != MMP_STATE_HELD &&
                   v->state != MMP_STATE_RELEASING) {
                manager_volume_done(v->m, v);
        }
}

/* ---- claim: superblock first ------------------------------------------------ */

static void start_sm(struct volume *v)
{
        struct mmp_sm_config cfg = {
                .sb = v->sb,
                .nodename = manager_node_name(v->m),
                .bdevname = v->bdevname,
                .margin = (mmp_usec_t) (v->opts.margin * MMP_USEC_PER_SEC),
                .spread = true,
        };
        mmp_usec_t period;
        int r;

        /* Golden-ratio spacing puts any number of volumes evenly on the period. */
        period = mmp_heartbeat_period(mmp_sb_update_interval(&v->sb),
                                      mmp_check_interval_to_write(mmp_sb_update_interval(&v->sb), 0),
                                      cfg.margin);
        cfg.slot = (mmp_usec_t) ((double) period * ((double) v->opts.slot * 0.6180339887498949 -
                                                    (double) (uint64_t) ((double) v->opts.slot * 0.6180339887498949)));

        if (v->sb.block_size > SB_READ_SIZE) {
                struct mmpd_ioreq *req;

                r = mmpd_ioreq_new(manager_io(v->m), v->dev, v->sb.block_size, on_io, on_io_idle, v, &req);
                if (r < 0)
                        return fail_claim(v, r, "cannot allocate an I/O buffer");
                mmpd_ioreq_free(v->req);
                v->req = req;
        }
        r = mmp_sm_new(&cfg, &v->sm);
        if (r < 0)
                return fail_claim(v, r, "cannot set up the state machine");
        if (v->removing)
                return manager_volume_done(v->m, v);
        if (v->resuming) {
                /* A heartbeat write may have landed after the previous mmpd
                 * last recorded its seq: look before resuming. */
                v->probing = true;
                r = mmpd_ioreq_submit(v->req, MMPD_IO_READ, mmp_sb_mmp_offset(&v->sb), v->sb.block_size,
                                      mmpd_now() + io_timeout(v));
                if (r < 0)
                        on_probe_read(v, r);
                return;
        }
        step(v, &(struct mmp_event) { .type = MMP_EV_CLAIM });
}

static void on_probe_read(struct volume *v, ssize_t result)
{
        uint32_t seq = v->resume.seq;
        uint32_t next = seq >= MMP_SEQ_MAX ? 1 : seq + 1;
        uint16_t ci = v->resume.check_interval;
        struct mmp_block b;

        v->probing = false;
        if (v->removing)
                return manager_volume_done(v->m, v);
        /* Only the one seq the previous mmpd was writing next, with our node
         * name: anything else is left to the state machine to judge. */
        if (result >= (ssize_t) MMP_STRUCT_SIZE &&
            mmp_block_decode(&v->sb, mmpd_ioreq_buf(v->req), (size_t) result, &b) == 0 &&
            b.seq == next && strcmp(b.nodename, manager_node_name(v->m)) == 0) {
                log_vol(v, LOG_INFO, "resume: the heartbeat after the recorded seq %#x had landed", seq);
                seq = b.seq;
                ci = b.check_interval;
        }
        step(v, &(struct mmp_event) {
                .type = MMP_EV_RESUME, .seq = seq, .check_interval = ci,
                .last_good = v->resume.last_good,
        });
}

static void on_sb_read(struct volume *v, ssize_t result)
{
        int r;

        v->reading_sb = false;
        if (v->removing)
                return manager_volume_done(v->m, v);
        if (result < 0) {
                v->error = (int) result;
                return fail_claim(v, (int) result, result == -ETIMEDOUT ?
                                  "reading the superblock timed out" : "cannot read the superblock");
        }
        r = mmp_sb_decode((const uint8_t *) mmpd_ioreq_buf(v->req) + MMP_SB_OFFSET,
                          (size_t) result > MMP_SB_OFFSET ? (size_t) result - MMP_SB_OFFSET : 0, &v->sb);
        if (r < 0)
                return fail_claim(v, r, mmp_ondisk_strerror(r));
        if (mmp_sb_mmp_offset(&v->sb) + v->sb.block_size > mmpd_dev_size(v->dev))
                return fail_claim(v, -ERANGE, "the MMP block lies beyond the end of the device");
        v->have_sb = true;
        start_sm(v);
}

void volume_claim(struct volume *v)
{
        int r;

        v->claim_started = mmpd_now();
        v->error = 0;
        v->error_text = NULL;
        v->state = MMP_STATE_CLAIMING;
        v->phase = MMP_PHASE_READ;
        if (v->sm && v->have_sb) {
                step(v, &(struct mmp_event) { .type = MMP_EV_CLAIM });
                return;
        }
        v->reading_sb = true;
        r = mmpd_ioreq_submit(v->req, MMPD_IO_READ, 0, SB_READ_SIZE, mmpd_now() + io_timeout(v));
        if (r < 0) {
                v->reading_sb = false;
                fail_claim(v, r, "cannot read the superblock");
        }
}

void volume_resume(struct volume *v, uint32_t seq, uint16_t check_interval, mmp_usec_t last_good)
{
        v->resuming = true;
        v->resume.seq = seq;
        v->resume.check_interval = check_interval;
        v->resume.last_good = last_good;
        volume_claim(v);
}

void volume_release(struct volume *v)
{
        v->removing = true;
        if (v->sm && (v->state == MMP_STATE_CLAIMING || v->state == MMP_STATE_HELD)) {
                step(v, &(struct mmp_event) { .type = MMP_EV_RELEASE });
                return;
        }
        if (v->reading_sb)
                return;         /* on_sb_read finishes it */
        v->state = MMP_STATE_RELEASED;
        manager_volume_event(v->m, v, VOLUME_EVENT_RELEASED, 0, NULL, 0);
        manager_volume_done(v->m, v);
}

/* ---- outcomes --------------------------------------------------------------- */

static void describe_holder(const struct mmp_action *a, char *buf, size_t size)
{
        if (!a->have_holder) {
                snprintf(buf, size, "holder unknown");
                return;
        }
        snprintf(buf, size, "node '%s', device '%s', seq %#x (%s), check_interval %u s",
                 a->holder.nodename, a->holder.bdevname, a->holder.seq,
                 mmp_seq_class_name(mmp_seq_classify(a->holder.seq)), a->holder.check_interval);
}

static void volume_perform(struct volume *v, const struct mmp_action *a)
{
        struct mmp_sm_status st;
        char holder[256];

        mmp_sm_status(v->sm, &st);
        switch (a->type) {
        case MMP_ACT_READ:
        case MMP_ACT_WRITE:
                set_state(v, st.state, st.phase);
                submit(v, a);
                break;
        case MMP_ACT_WAIT:
                v->wait_until = a->wake_at;
                set_state(v, st.state, st.phase);
                if (st.phase == MMP_PHASE_WAIT_ACTIVE) {
                        describe_holder(a, holder, sizeof(holder));
                        log_vol(v, LOG_INFO, "MMP block is active (%s): watching it for %.0f s",
                                holder, (double) (a->wake_at - mmpd_now()) / MMP_USEC_PER_SEC);
                } else {
                        log_vol(v, LOG_INFO, "wrote our sequence, waiting %.0f s before verifying",
                                (double) (a->wake_at - mmpd_now()) / MMP_USEC_PER_SEC);
                }
                break;
        case MMP_ACT_CLAIMED:
                set_state(v, MMP_STATE_HELD, st.phase);
                v->last_ci = st.check_interval;
                log_vol(v, LOG_NOTICE, "claimed: seq %#x, update interval %u s, check_interval %u s, "
                        "peers wait %u s; claim took %.1f s", st.seq, st.update_interval,
                        st.check_interval, st.deadlines.wait_s,
                        (double) (mmpd_now() - v->claim_started) / MMP_USEC_PER_SEC);
                manager_volume_event(v->m, v, VOLUME_EVENT_CLAIMED, 0, NULL, 0);
                if (v->removing) {
                        step(v, &(struct mmp_event) { .type = MMP_EV_RELEASE });
                        return;
                }
                break;
        case MMP_ACT_REFUSED:
                describe_holder(a, holder, sizeof(holder));
                v->error = a->error;
                v->error_text = a->reason;
                set_state(v, MMP_STATE_REFUSED, MMP_PHASE_NONE);
                log_vol(v, LOG_WARNING, "claim refused: %s (%s)", a->reason, holder);
                manager_volume_event(v->m, v, VOLUME_EVENT_REFUSED, a->error, a->reason, 0);
                manager_volume_done(v->m, v);
                return;
        case MMP_ACT_LOST:
                describe_holder(a, holder, sizeof(holder));
                v->error = a->error;
                v->error_text = a->reason;
                set_state(v, MMP_STATE_LOST, MMP_PHASE_NONE);
                log_vol(v, LOG_CRIT, "LOST: %s (%s); last good heartbeat %.1f s ago",
                        a->reason, holder, st.last_good ? (double) (mmpd_now() - st.last_good) / MMP_USEC_PER_SEC : -1.);
                manager_volume_event(v->m, v, VOLUME_EVENT_LOST, a->error, a->reason, 0);
                if (v->removing) {
                        manager_volume_done(v->m, v);
                        return;
                }
                break;
        case MMP_ACT_RELEASED:
                v->error = a->error;
                set_state(v, MMP_STATE_RELEASED, MMP_PHASE_NONE);
                if (a->error)
                        log_vol(v, LOG_WARNING, "released, but CLEAN was not written (%s): peers will wait W",
                                strerror(-a->error));
                else
                        log_vol(v, LOG_NOTICE, "released (MMP block marked clean)");
                manager_volume_event(v->m, v, VOLUME_EVENT_RELEASED, a->error, NULL, 0);
                manager_volume_done(v->m, v);
                return;
        case MMP_ACT_NONE:
                set_state(v, st.state, st.phase);
                break;
        }
        /* Checked after every step: on a slow device heartbeats run back to
         * back and the machine may never come back to an idle action. */
        if (st.state == MMP_STATE_HELD && st.check_interval != v->last_ci && st.check_interval) {
                log_vol(v, LOG_NOTICE, "check_interval %u -> %u s (peers now wait %u s)",
                        v->last_ci, st.check_interval, st.deadlines.wait_s);
                v->last_ci = st.check_interval;
                manager_volume_event(v->m, v, VOLUME_EVENT_CHECK_INTERVAL, 0, NULL, 0);
        }
        if (v->state == MMP_STATE_HELD)
                manager_volume_beat(v->m, v, &st);
        arm_timer(v, a->wake_at);
}

/* ---- life cycle ------------------------------------------------------------- */

int volume_new(struct manager *m, const char *name, const char *device, int fd,
               const struct volume_opts *opts, struct volume **ret)
{
        _cleanup_free_ char *dup = NULL;
        struct volume *v;
        int r;

        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->m = m;
        v->opts = *opts;
        v->name = strdup(name ? name : device);
        v->device = strdup(device);
        dup = strdup(device);
        if (!v->name || !v->device || !dup) {
                volume_free(v);
                return -ENOMEM;
        }
        v->bdevname = strdup(basename(dup));
        if (!v->bdevname) {
                volume_free(v);
                return -ENOMEM;
        }
        ev_timer_init(&v->timer, on_timer, 0., 0.);
        v->timer.data = v;
        v->sd_slot = -1;

        r = fd >= 0 ? mmpd_dev_adopt(fd, device, &v->dev) : mmpd_dev_open_ex(device, opts->exclusive, &v->dev);
        if (r < 0) {
                volume_free(v);
                return r;
        }
        r = mmpd_ioreq_new(manager_io(m), v->dev, SB_READ_SIZE, on_io, on_io_idle, v, &v->req);
        if (r < 0) {
                volume_free(v);
                return r;
        }
        v->state = MMP_STATE_IDLE;
        *ret = v;
        return 0;
}

struct volume *volume_free(struct volume *v)
{
        if (!v)
                return NULL;
        if (v->m)
                ev_timer_stop(manager_loop(v->m), &v->timer);
        /* A busy request is freed by the I/O engine when the kernel is done. */
        mmpd_ioreq_free(v->req);
        mmpd_dev_free(v->dev);
        mmp_sm_free(v->sm);
        free(v->name);
        free(v->device);
        free(v->bdevname);
        free(v);
        return NULL;
}

void volume_get_info(struct volume *v, struct volume_info *ret)
{
        memset(ret, 0, sizeof(*ret));
        ret->name = v->name;
        ret->device = v->device;
        ret->state = v->state;
        ret->phase = v->phase;
        ret->is_static = v->opts.is_static;
        ret->have_sb = v->have_sb;
        if (v->have_sb)
                ret->sb = v->sb;
        if (v->sm)
                mmp_sm_status(v->sm, &ret->sm);
        ret->sm.state = v->state;
        ret->error = v->error;
        ret->error_text = v->error_text;
        ret->claim_started = v->claim_started;
        ret->wait_until = v->state == MMP_STATE_CLAIMING ? v->wait_until : 0;
        ret->now = mmpd_now();
        ret->wall_now = wall_now();
        if (v->state == MMP_STATE_LOST)
                ret->have_fence = fencer_get(manager_fencer(v->m), v->name, &ret->fence) >= 0;
}
