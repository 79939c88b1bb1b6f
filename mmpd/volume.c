/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A volume wires lib/'s state machine to the loop: its actions become
 * asynchronous I/O on the volume's one request, its wake_at becomes the
 * volume's one timer, and its outcomes become log lines and events.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "volume.h"


struct volume {
        struct volume_host host;
        char *name;
        char *device;
        char *bdevname;         /* short name written to the MMP block */
        char *host_name;        /* opts.host_name, ours */
        struct volume_opts opts;
        void *slots[VOLUME_SLOT_MAX];

        struct mmpd_dev *dev;
        struct mmpd_ioreq *req;
        size_t req_size;                /* its buffer */
        uint64_t sb_off;                /* the superblock read: aligned span */
        size_t sb_len;
        struct mmp_sm *sm;
        bool have_sb;
        struct mmp_sb sb;
        bool reading_sb;

        struct mmpd_timer timer;        /* the state machine's wake_at, quantised */
        mmp_usec_t wake_at;             /* ... as the state machine asked */
        bool has_pending;
        struct mmp_action pending;      /* I/O deferred until a timed-out one drains */
        enum mmpd_io_op op;             /* the I/O in flight */
        bool op_beat;                   /* ...is a heartbeat write */
        mmp_usec_t beat_due;            /* when that heartbeat was due */

        enum mmp_state state;
        enum mmp_phase phase;
        int error;
        const char *error_text;
        char *error_buf;                /* error_text when it is ours to free */
        mmp_usec_t claim_started;
        mmp_usec_t wait_until;
        bool removing;                  /* release requested: done() after RELEASED */
        bool slow[2];                   /* last read/write was slow (for event edges) */
        unsigned last_ci;
        bool have_stats;
        struct volume_stats stats;

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
                bool settling;          /* CLEAN on disk, waiting for the device to be let go */
                mmp_usec_t settle_end;
                ev_timer settle;
        } use;

        bool resuming;                  /* started by volume_resume() */
        bool probing;                   /* resume: reading the MMP block first */
        struct {
                uint32_t seq;
                uint16_t check_interval;
                mmp_usec_t last_good;
        } resume;
};

static void emit(struct volume *v, enum volume_event_type type, int error, const char *reason,
                 mmp_usec_t io_usec)
{
        if (v->host.event)
                v->host.event(v, type, error, reason, io_usec, v->host.userdata);
}

static void done(struct volume *v)
{
        if (v->host.done)
                v->host.done(v, v->host.userdata);
}

/* ---- accessors ------------------------------------------------------------ */

enum mmp_state volume_state(const struct volume *v) { return v->state; }
bool volume_is_static(const struct volume *v) { return v->opts.is_static; }
bool volume_has_device(const struct volume *v) { return v->dev != NULL; }
bool volume_is_removing(const struct volume *v) { return v->removing; }
void *volume_slot(const struct volume *v, enum volume_slot s) { return v->slots[s]; }
void volume_set_slot(struct volume *v, enum volume_slot s, void *data) { v->slots[s] = data; }

bool volume_is_busy(const struct volume *v)
{
        return v->state == MMP_STATE_CLAIMING || v->state == MMP_STATE_HELD ||
               v->state == MMP_STATE_RELEASING || v->reading_sb;
}

bool volume_same_device(const struct volume *v, const struct stat *st)
{
        return v->dev && mmpd_dev_is(v->dev, st);
}

uint64_t volume_device_key(const struct volume *v)
{
        return v->dev ? mmpd_dev_key(v->dev) : 0;
}

uint64_t volume_stat_key(const struct stat *st)
{
        return mmpd_dev_stat_key(st);
}

int volume_open_shared(struct volume *v)
{
        return v->dev ? mmpd_dev_open_shared(v->dev) : -ENODEV;
}

int volume_set_exclusive(struct volume *v, bool exclusive)
{
        return v->dev ? mmpd_dev_set_exclusive(v->dev, exclusive) : -ENODEV;
}


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
                emit(v, VOLUME_EVENT_PROGRESS, 0, NULL, 0);
}

static void fail_claim(struct volume *v, int err, const char *text)
{
        v->error = err;
        v->error_text = text;
        v->state = MMP_STATE_REFUSED;
        v->phase = MMP_PHASE_NONE;
        log_vol_id(v, LOG_ID_REFUSED, LOG_ERR, "cannot claim: %s", text);
        emit(v, VOLUME_EVENT_REFUSED, err, text, 0);
        done(v);
}

/* ---- timer ---------------------------------------------------------------- */

/*
 * Future wakeups are rounded up to the next multiple of this: volumes whose
 * heartbeats fall due within one quantum wake the loop once and their I/O
 * goes to the kernel in one io_submit(), instead of one wakeup, one
 * context switch and one doorbell each.  A heartbeat is at most this much
 * later (counted in its lateness), and so is a fence deadline, which the
 * margin (at least 2 s) covers.  Wakeups already due are not delayed.
 */
#define TIMER_QUANTUM_USEC (10 * 1000)

/*
 * Heartbeats fall on multiples of this (when the period is one, as it is for
 * every whole-second update interval with the default margin), so at 10,000
 * volumes and 5 s each grid point carries ~200 beats, whose reads and then
 * writes go to the kernel in a few io_submit() calls.  The cost per I/O
 * falls with the batch (a doorbell, a context switch and a wakeup shared):
 * at 9,872 image files, 20.6 us of CPU per beat on a 50 ms grid, 17-19 on
 * 100 ms, 18 on 200 ms.  A beat is not later for it: the grid point is its
 * due time; 200 beats' I/O takes a few ms.
 */
#define BEAT_GRID_USEC (100 * 1000)

/*
 * Which volumes share a grid point: runs of BEAT_GROUP volumes in the order
 * they were added (the slot counter), each run placed on the period by the
 * golden ratio, which spreads any number of runs evenly.  Volumes added
 * together are mostly neighbours in memory, ours (allocated in that order)
 * and the kernel's (files opened in order, image files made in order, so
 * their inodes, extent trees and fd table entries lie side by side).  The
 * golden ratio alone scattered them: a grid point's ~200 volumes were k,
 * k + 34, k + 89, ... of the whole range, every one a fresh set of cache
 * lines and pages.  With runs of 32, the kernel's direct I/O to 9,872 image
 * files (tests/bench/io-floor in both orders) cost 4.8 us a beat instead of
 * 8.1; runs of 8 gave 5.6, of 128 4.3-5.0.  Runs are few when volumes are
 * few: up to 32 volumes share one wakeup a period, as they should.
 */
#define BEAT_GROUP 32

mmp_usec_t volume_beat_slot(unsigned slot, mmp_usec_t period)
{
        double f = (double) (slot / BEAT_GROUP) * 0.6180339887498949;
        mmp_usec_t at = (mmp_usec_t) ((double) period * (f - (double) (uint64_t) f));

        return at - at % BEAT_GRID_USEC;
}

static void arm_timer(struct volume *v, mmp_usec_t at)
{
        mmp_usec_t now;

        /* Every step of every heartbeat ends here, mostly with the same fence
         * deadline while an I/O is in flight: leave the timer heap alone then. */
        if (at == v->wake_at && (at == MMP_USEC_INFINITY || mmpd_timer_active(&v->timer)))
                return;
        v->wake_at = at;
        if (at != MMP_USEC_INFINITY && at > (now = mmpd_now()) && at % TIMER_QUANTUM_USEC)
                at += TIMER_QUANTUM_USEC - at % TIMER_QUANTUM_USEC;
        if (at == v->timer.at)
                return;
        if (mmpd_timer_arm(v->host.timers, &v->timer, at) < 0)
                /* Out of memory for the heap: poll instead of sleeping past
                 * a deadline (the state machine re-arms on every step). */
                mmpd_timer_arm(v->host.timers, &v->timer, mmpd_now() + MMP_USEC_PER_SEC / 10);
}

static int step(struct volume *v, struct mmp_event *ev)
{
        struct mmp_action a;
        int r;

        ev->now = mmpd_now();
        ev->wall = wall_now();
        r = mmp_sm_step(v->sm, ev, &a);
        if (r < 0)
                log_vol(v, LOG_DEBUG, "ignored event %d in state %s", ev->type, mmp_state_name(v->state));
        volume_perform(v, &a);
        return r;
}

static void on_timer(struct mmpd_timer *t, void *userdata)
{
        struct volume *v = userdata;

        /* A heartbeat's lateness is counted from here (volume_stats). */
        v->beat_due = v->state == MMP_STATE_HELD ? v->wake_at : 0;
        v->wake_at = MMP_USEC_INFINITY;
        if (v->sm)
                step(v, &(struct mmp_event) { .type = MMP_EV_TIMER });
}

/* ---- I/O -------------------------------------------------------------------- */

static void submit(struct volume *v, const struct mmp_action *a)
{
        mmp_usec_t now;
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
        now = mmpd_now();
        v->op_beat = v->op == MMPD_IO_WRITE && v->state == MMP_STATE_HELD && v->beat_due;
        if (v->op_beat) {
                v->have_stats = true;
                mmp_hist_add(&v->stats.submit_late, now > v->beat_due ? now - v->beat_due : 0);
        }
        r = mmpd_ioreq_submit(v->req, v->op, a->offset, a->len, now + io_timeout(v));
        if (r < 0)
                step(v, &(struct mmp_event) { .type = MMP_EV_IO_ERROR, .error = r });
}

static void note_io_time(struct volume *v, mmp_usec_t usec)
{
        bool slow = usec * 2 > (mmp_usec_t) update_interval(v) * MMP_USEC_PER_SEC;
        bool *was = &v->slow[v->op];    /* reads and writes separately: no flapping */

        if (slow && !*was) {
                log_vol_id(v, LOG_ID_SLOW_IO, LOG_WARNING, "slow I/O: %s took %.3f s (update interval %u s)",
                        v->op == MMPD_IO_WRITE ? "write" : "read", (double) usec / MMP_USEC_PER_SEC,
                        update_interval(v));
                emit(v, VOLUME_EVENT_SLOW_IO, 0, NULL, usec);
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
        if (result >= 0) {
                mmp_usec_t took = mmpd_ioreq_last_duration(req);

                note_io_time(v, took);
                v->have_stats = true;
                mmp_hist_add(&v->stats.io, took);
                if (v->op_beat) {
                        mmp_usec_t now = mmpd_now();

                        mmp_hist_add(&v->stats.landed_late, now > v->beat_due ? now - v->beat_due : 0);
                }
        }
        if (v->op_beat) {
                v->op_beat = false;
                v->beat_due = 0;
        }
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
                done(v);
        }
}

/* ---- claim: superblock first ------------------------------------------------ */

static void start_sm(struct volume *v)
{
        struct mmp_sm_config cfg = {
                .sb = v->sb,
                .nodename = v->host.node_name,
                .bdevname = v->bdevname,
                .margin = (mmp_usec_t) (v->opts.margin * MMP_USEC_PER_SEC),
                .spread = true,
                .local_names = (const char *const[]) { v->host_name, NULL },
        };
        mmp_usec_t period;
        int r;

        /* Runs of volumes spread evenly on the period, on a grid of
         * BEAT_GRID_USEC: the volumes of one grid point share a wakeup and
         * an io_submit() (see BEAT_GROUP). */
        period = mmp_heartbeat_period(mmp_sb_update_interval(&v->sb),
                                      mmp_check_interval_to_write(mmp_sb_update_interval(&v->sb), 0),
                                      cfg.margin);
        cfg.slot = volume_beat_slot(v->opts.slot, period);

        if (v->sb.block_size > v->req_size) {
                struct mmpd_ioreq *req;

                r = mmpd_ioreq_new(v->host.io, v->dev, v->sb.block_size, on_io, on_io_idle, v, &req);
                if (r < 0)
                        return fail_claim(v, r, "cannot allocate an I/O buffer");
                mmpd_ioreq_free(v->req);
                v->req = req;
                v->req_size = v->sb.block_size;
        }
        r = mmp_sm_new(&cfg, &v->sm);
        if (r < 0)
                return fail_claim(v, r, "cannot set up the state machine");
        if (v->removing)
                return done(v);
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
                return done(v);
        /* Only the one seq the previous mmpd was writing next, with our node
         * name: anything else is left to the state machine to judge. */
        if (result >= (ssize_t) MMP_STRUCT_SIZE &&
            mmp_block_decode(&v->sb, mmpd_ioreq_buf(v->req), (size_t) result, &b) == 0 &&
            b.seq == next && strcmp(b.nodename, v->host.node_name) == 0) {
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
        size_t skip;
        int r;

        v->reading_sb = false;
        if (v->removing)
                return done(v);
        if (result < 0) {
                v->error = (int) result;
                return fail_claim(v, (int) result, result == -ETIMEDOUT ?
                                  "reading the superblock timed out" : "cannot read the superblock");
        }
        skip = MMP_SB_OFFSET - v->sb_off;
        r = mmp_sb_decode((const uint8_t *) mmpd_ioreq_buf(v->req) + skip,
                          (size_t) result > skip ? (size_t) result - skip : 0, &v->sb);
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
        r = mmpd_ioreq_submit(v->req, MMPD_IO_READ, v->sb_off, v->sb_len, mmpd_now() + io_timeout(v));
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

int volume_release(struct volume *v)
{
        /* Never pull a volume from under its local user: EndUse first. */
        if (v->state == MMP_STATE_IN_USE)
                return -EBUSY;
        v->removing = true;
        if (v->sm && (v->state == MMP_STATE_CLAIMING || v->state == MMP_STATE_HELD)) {
                step(v, &(struct mmp_event) { .type = MMP_EV_RELEASE });
                return 0;
        }
        if (v->reading_sb)
                return 0;       /* on_sb_read finishes it */
        v->state = MMP_STATE_RELEASED;
        emit(v, VOLUME_EVENT_RELEASED, 0, NULL, 0);
        done(v);
        return 0;
}

/*
 * CLEAN on disk while someone still holds the device: how long to wait for
 * it to be let go, and how often to look.
 */
#define USE_SETTLE_USEC         (5 * MMP_USEC_PER_SEC)
#define USE_SETTLE_POLL_S       0.02

/* ---- handoff to a local user ------------------------------------------------ */

static const char *user_text(const struct volume *v, char *buf, size_t size)
{
        if (v->use.user == MMP_USER_KERNEL)
                snprintf(buf, size, "kernel mount%s%s", v->use.mount_point ? " " : "",
                         v->use.mount_point ? v->use.mount_point : "");
        else
                snprintf(buf, size, "pid %d", (int) v->use.pid);
        return buf;
}

static void use_stop_watching(struct volume *v)
{
        if (v->use.pidfd >= 0) {
                ev_io_stop(v->host.loop, &v->use.pid_watcher);
                close(v->use.pidfd);
                v->use.pidfd = -1;
        }
}

static void settle_stop(struct volume *v);

static void use_clear(struct volume *v)
{
        use_stop_watching(v);
        settle_stop(v);
        free(v->use.mount_point);
        v->use.mount_point = NULL;
        v->use.user = MMP_USER_NONE;
        v->use.pid = 0;
        v->use.exited = false;
        v->use.seen_reported = false;
}

/* A pidfd is readable once its process has exited. */
static bool user_exited(struct volume *v)
{
        struct pollfd p = { .fd = v->use.pidfd, .events = POLLIN };

        if (v->use.exited)
                return true;
        return v->use.pidfd >= 0 && poll(&p, 1, 0) == 1;
}

/*
 * Does anyone still have the device open exclusively?  The kernel's mount,
 * e2fsprogs' read-write opens and fuse2fs all do, so this is how mmpd tells
 * that a use is really over: a tool that exited may have left a daemon
 * (fuse2fs without -f), a CLEAN may come from a remount read-only.  For a
 * block device this takes O_EXCL (given back unless configured); a regular
 * file cannot tell and counts as free.
 */
static bool device_free(struct volume *v)
{
        int r = mmpd_dev_set_exclusive(v->dev, true);

        if (r == -EBUSY)
                return false;
        if (r < 0)
                log_vol(v, LOG_WARNING, "cannot reopen the device to see whether it is still in use: %s",
                        strerror(-r));
        else if (!v->opts.exclusive)
                mmpd_dev_set_exclusive(v->dev, false);
        return true;
}

/* The tool's process is gone and nothing else holds the device. */
static bool tool_gone(struct volume *v)
{
        if (!user_exited(v))
                return false;
        if (device_free(v))
                return true;
        log_vol(v, LOG_WARNING, "pid %d has exited, but the device is still open exclusively "
                "(a process it left behind, e.g. fuse2fs without -f): the use goes on", (int) v->use.pid);
        return false;
}

static void on_user_exit(struct ev_loop *loop, ev_io *w, int revents)
{
        struct volume *v = w->data;

        ev_io_stop(loop, w);
        v->use.exited = true;
        log_vol(v, LOG_INFO, "the tool (pid %d) has exited", (int) v->use.pid);
        if (v->state == MMP_STATE_IN_USE)
                step(v, &(struct mmp_event) { .type = MMP_EV_END_USE, .user_gone = tool_gone(v) });
}

int volume_handoff(struct volume *v, const struct handoff_request *req)
{
        char who[PATH_MAX + 32];
        struct mmp_event ev = { .type = MMP_EV_HANDOFF };
        double timeout = v->opts.handoff_timeout > 0 ? v->opts.handoff_timeout : MMPD_DEFAULT_HANDOFF_TIMEOUT;
        int pidfd = -1, r;

        /* In use, or a handoff's check read or CLEAN write in flight. */
        if (v->state == MMP_STATE_IN_USE || v->use.user != MMP_USER_NONE)
                return -EBUSY;
        if (v->state != MMP_STATE_HELD || !v->sm)
                return -ENOLCK;
        if (req->user != MMP_USER_KERNEL && req->user != MMP_USER_TOOL)
                return -EINVAL;
        if (req->user == MMP_USER_TOOL) {
                if (req->pid <= 0)
                        return -EINVAL;
                pidfd = (int) syscall(SYS_pidfd_open, req->pid, 0);
                if (pidfd < 0)
                        return -errno;
        }
        use_clear(v);
        v->use.mount_point = req->mount_point ? strdup(req->mount_point) : NULL;
        if (req->mount_point && !v->use.mount_point) {
                if (pidfd >= 0)
                        close(pidfd);
                return -ENOMEM;
        }
        /* The kernel's mount and e2fsprogs' open need the device free of
         * O_EXCL openers; mmpd watches through a shared fd meanwhile. */
        r = mmpd_dev_set_exclusive(v->dev, false);
        if (r < 0) {
                log_vol(v, LOG_ERR, "cannot reopen the device without O_EXCL for the handoff: %s", strerror(-r));
                if (pidfd >= 0)
                        close(pidfd);
                use_clear(v);
                return r;
        }
        v->use.user = req->user;
        v->use.pid = req->user == MMP_USER_TOOL ? req->pid : 0;
        v->use.keep = req->keep;
        v->use.reclaiming = false;
        v->use.pidfd = pidfd;
        if (pidfd >= 0) {
                ev_io_init(&v->use.pid_watcher, on_user_exit, pidfd, EV_READ);
                ev_set_priority(&v->use.pid_watcher, MMPD_PRIO_HEARTBEAT);
                v->use.pid_watcher.data = v;
                ev_io_start(v->host.loop, &v->use.pid_watcher);
        }
        ev.user = (enum mmp_user) req->user;
        ev.mode = req->mode >= 0 ? (enum mmp_handoff_mode) req->mode :
                  v->opts.handoff_wait ? MMP_HANDOFF_WAIT : MMP_HANDOFF_FAST;
        ev.timeout = (mmp_usec_t) (timeout * MMP_USEC_PER_SEC);
        log_vol(v, LOG_INFO, "handoff to %s requested (%s)", user_text(v, who, sizeof(who)),
                mmp_handoff_mode_name(ev.mode));
        r = step(v, &ev);
        if (r < 0) {
                use_clear(v);
                return -EBUSY;
        }
        return 0;
}

static void use_finish(struct volume *v, int error, const char *reason, bool reclaim);

int volume_end_use(struct volume *v, int keep)
{
        if (keep >= 0)
                v->use.keep = keep;
        if (v->use.settling) {
                /* The end is known; the answer comes when the device is let go. */
                if (v->use.keep) {
                        settle_stop(v);
                        use_finish(v, 0, NULL, true);
                }
                return 0;
        }
        switch (v->state) {
        case MMP_STATE_IN_USE:
                step(v, &(struct mmp_event) {
                        .type = MMP_EV_END_USE,
                        .user_gone = v->use.user == MMP_USER_TOOL && tool_gone(v),
                });
                return 0;
        case MMP_STATE_HELD:
                /* Nothing in use (a handoff that failed and was re-claimed):
                 * keep it, or release it as the end of a use would. */
                if (keep > 0)
                        return -EALREADY;
                return volume_release(v);
        case MMP_STATE_CLAIMING:
                return -EALREADY;       /* re-claiming after the use */
        default:
                return -ENOLCK;
        }
}

/*
 * The use is over, or the handoff failed (@error): release or re-claim.
 * The volume leaves IN_USE here.
 */
static void use_finish(struct volume *v, int error, const char *reason, bool reclaim)
{
        char who[PATH_MAX + 32];
        int r;

        user_text(v, who, sizeof(who));
        if (error)
                log_vol_id(v, LOG_ID_USE_ENDED, LOG_WARNING, "use by %s ended: %s; re-claiming with the full claim",
                           who, reason);
        else
                log_vol_id(v, LOG_ID_USE_ENDED, LOG_NOTICE, "use by %s ended: CLEAN on disk; %s", who,
                        reclaim ? "re-claiming (keep)" : "released");
        v->error = error;
        v->error_text = reason;
        v->use.reclaiming = reclaim;
        set_state(v, reclaim ? MMP_STATE_CLAIMING : MMP_STATE_RELEASED, MMP_PHASE_NONE);
        emit(v, VOLUME_EVENT_USE_ENDED, error, reason, 0);
        use_clear(v);
        if (!reclaim) {
                emit(v, VOLUME_EVENT_RELEASED, 0, NULL, 0);
                v->removing = true;
                done(v);
                return;
        }
        if (v->opts.exclusive && (r = mmpd_dev_set_exclusive(v->dev, true)) < 0)
                log_vol(v, LOG_WARNING, "cannot reopen the device with O_EXCL (%s): "
                        "the local kernel could mount it behind mmpd's back", strerror(-r));
        v->claim_started = mmpd_now();
        step(v, &(struct mmp_event) { .type = MMP_EV_CLAIM, .clear_fsck = error == -EINPROGRESS });
}

static void settle_stop(struct volume *v)
{
        if (!v->use.settling)
                return;
        ev_timer_stop(v->host.loop, &v->use.settle);
        v->use.settling = false;
}

/* Settling: has the device been let go, or is it time to keep guarding? */
static void on_settle(struct ev_loop *loop, ev_timer *w, int revents)
{
        struct volume *v = w->data;
        char who[PATH_MAX + 32];

        (void) loop;
        (void) revents;
        if (device_free(v)) {
                settle_stop(v);
                use_finish(v, 0, NULL, false);
                return;
        }
        if (mmpd_now() < v->use.settle_end)
                return;
        settle_stop(v);
        log_vol(v, LOG_WARNING, "%s wrote CLEAN but the device is still open exclusively after %.0f s "
                "(remounted read-only?): re-claiming to keep guarding it",
                user_text(v, who, sizeof(who)), (double) USE_SETTLE_USEC / MMP_USEC_PER_SEC);
        use_finish(v, 0, NULL, true);
}

/* What the state machine found at the end of a use (a->error 0: CLEAN). */
static void use_ended(struct volume *v, const struct mmp_action *a)
{
        char who[PATH_MAX + 32];

        if (a->error || v->use.keep || device_free(v)) {
                use_finish(v, a->error, a->reason, a->error || v->use.keep);
                return;
        }
        /*
         * CLEAN, but someone still holds the device.  umount(2) has kmmpd
         * write CLEAN some moments before it lets the device go, and a read
         * of ours may land in between; a remount read-only (CLEAN, then no
         * MMP) or a tool's daemon holds it for good.  Wait a little for the
         * first; keep guarding in the other cases.  Nothing writes meanwhile:
         * CLEAN is on disk, and a peer's claim takes 2 * check_interval, far
         * longer than this wait.
         */
        log_vol(v, LOG_INFO, "%s wrote CLEAN, the device is still open exclusively: "
                "waiting up to %.0f s for it to be let go", user_text(v, who, sizeof(who)),
                (double) USE_SETTLE_USEC / MMP_USEC_PER_SEC);
        use_stop_watching(v);
        v->use.settling = true;
        v->use.settle_end = mmpd_now() + USE_SETTLE_USEC;
        ev_timer_init(&v->use.settle, on_settle, USE_SETTLE_POLL_S, USE_SETTLE_POLL_S);
        ev_set_priority(&v->use.settle, MMPD_PRIO_HEARTBEAT);
        v->use.settle.data = v;
        ev_timer_start(v->host.loop, &v->use.settle);
        set_state(v, MMP_STATE_IN_USE, MMP_PHASE_USE_END_READ);
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
        char holder[256], who[PATH_MAX + 32];

        mmp_sm_status(v->sm, &st);
        switch (a->type) {
        case MMP_ACT_READ:
        case MMP_ACT_WRITE:
                set_state(v, st.state, st.phase);
                submit(v, a);
                break;
        case MMP_ACT_WAIT:
                v->wait_until = a->wait_end ? a->wait_end : a->wake_at;
                set_state(v, st.state, st.phase);
                if (st.phase == MMP_PHASE_WAIT_ACTIVE) {
                        describe_holder(a, holder, sizeof(holder));
                        log_vol(v, LOG_INFO, "MMP block is active (%s): watching it for %.0f s",
                                holder, (double) (v->wait_until - mmpd_now()) / MMP_USEC_PER_SEC);
                } else {
                        log_vol(v, LOG_INFO, "wrote our sequence, rewriting it every heartbeat for %.0f s "
                                "before verifying", (double) (v->wait_until - mmpd_now()) / MMP_USEC_PER_SEC);
                }
                break;
        case MMP_ACT_CLAIMED:
                set_state(v, MMP_STATE_HELD, st.phase);
                v->last_ci = st.check_interval;
                log_vol_id(v, LOG_ID_CLAIMED, LOG_NOTICE, "claimed: seq %#x, update interval %u s, check_interval %u s, "
                        "peers wait %u s; claim took %.1f s", st.seq, st.update_interval,
                        st.check_interval, st.deadlines.wait_s,
                        (double) (mmpd_now() - v->claim_started) / MMP_USEC_PER_SEC);
                emit(v, VOLUME_EVENT_CLAIMED, 0, NULL, 0);
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
                log_vol_id(v, LOG_ID_REFUSED, LOG_WARNING, "claim refused: %s (%s)", a->reason, holder);
                emit(v, VOLUME_EVENT_REFUSED, a->error, a->reason, 0);
                done(v);
                return;
        case MMP_ACT_LOST:
                use_stop_watching(v);
                describe_holder(a, holder, sizeof(holder));
                v->error = a->error;
                v->error_text = a->reason;
                set_state(v, MMP_STATE_LOST, MMP_PHASE_NONE);
                if (v->use.user != MMP_USER_NONE)
                        log_vol(v, LOG_CRIT, "LOST while in use by %s: %s (%s)",
                                user_text(v, who, sizeof(who)), a->reason, holder);
                else
                        log_vol(v, LOG_CRIT, "LOST: %s (%s); last good heartbeat %.1f s ago", a->reason, holder,
                                st.last_good ? (double) (mmpd_now() - st.last_good) / MMP_USEC_PER_SEC : -1.);
                emit(v, VOLUME_EVENT_LOST, a->error, a->reason, 0);
                if (v->removing) {
                        done(v);
                        return;
                }
                break;
        case MMP_ACT_RELEASED:
                v->error = a->error;
                set_state(v, MMP_STATE_RELEASED, MMP_PHASE_NONE);
                if (a->error)
                        log_vol_id(v, LOG_ID_RELEASED, LOG_WARNING, "released, but CLEAN was not written (%s): peers will wait W",
                                strerror(-a->error));
                else
                        log_vol_id(v, LOG_ID_RELEASED, LOG_NOTICE, "released (MMP block marked clean)");
                emit(v, VOLUME_EVENT_RELEASED, a->error, NULL, 0);
                done(v);
                return;
        case MMP_ACT_HANDOFF_GO:
                set_state(v, MMP_STATE_IN_USE, st.phase);
                log_vol_id(v, LOG_ID_HANDOFF, LOG_NOTICE, "handing off to %s: %s", user_text(v, holder, sizeof(holder)),
                        st.mode == MMP_HANDOFF_FAST ? "CLEAN written, start it now" :
                        "no more writes; it claims on its own (W, then W again)");
                emit(v, VOLUME_EVENT_HANDOFF, 0, NULL, 0);
                if (v->use.user == MMP_USER_TOOL && user_exited(v)) {
                        arm_timer(v, a->wake_at);
                        step(v, &(struct mmp_event) { .type = MMP_EV_END_USE, .user_gone = true });
                        return;
                }
                break;
        case MMP_ACT_IN_USE: {
                v->use.seen_reported = true;
                set_state(v, MMP_STATE_IN_USE, st.phase);
                log_vol(v, LOG_NOTICE, "in use by %s: seq %#x by node '%s' device '%s', seen %.0f ms after the handoff",
                        user_text(v, who, sizeof(who)), st.user_block.seq, st.user_block.nodename,
                        st.user_block.bdevname, (double) (mmpd_now() - st.use_since) / 1000.);
                emit(v, VOLUME_EVENT_IN_USE, 0, NULL, 0);
                break;
        }
        case MMP_ACT_USE_ENDED:
                arm_timer(v, MMP_USEC_INFINITY);
                use_ended(v, a);
                return;
        case MMP_ACT_USE_BUSY:
                set_state(v, st.state, st.phase);
                /* The user's first write, seen by the read an EndUse asked for. */
                if (st.user_seen && !v->use.seen_reported) {
                        v->use.seen_reported = true;
                        emit(v, VOLUME_EVENT_IN_USE, 0, NULL, 0);
                }
                emit(v, VOLUME_EVENT_USE_BUSY, a->error, a->have_holder ?
                                     "the local user still writes the MMP block" : "cannot read the MMP block", 0);
                break;
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
                emit(v, VOLUME_EVENT_CHECK_INTERVAL, 0, NULL, 0);
        }
        if (v->state == MMP_STATE_HELD && v->host.beat)
                v->host.beat(v, &st, v->host.userdata);
        arm_timer(v, a->wake_at);
        /* A tool whose process exited but whose daemon went on (fuse2fs
         * without -f) wrote CLEAN when it was unmounted: once nobody holds
         * the device, its use is over, without anyone calling EndUse. */
        if (a->type == MMP_ACT_NONE && v->state == MMP_STATE_IN_USE && v->use.user == MMP_USER_TOOL &&
            v->use.exited && st.user_seen && st.user_block.seq == MMP_SEQ_CLEAN &&
            st.phase == MMP_PHASE_IN_USE && device_free(v)) {
                log_vol(v, LOG_INFO, "CLEAN on disk and the device free: the tool's use is over");
                step(v, &(struct mmp_event) { .type = MMP_EV_END_USE, .user_gone = true });
        }
}

/* ---- life cycle ------------------------------------------------------------- */

static struct volume *volume_alloc(const struct volume_host *host, const struct volume_opts *opts)
{
        struct volume *v = calloc(1, sizeof(*v));

        if (!v)
                return NULL;
        v->host = *host;
        v->opts = *opts;
        v->use.pidfd = -1;
        mmpd_timer_init(&v->timer, on_timer, v);
        v->wake_at = MMP_USEC_INFINITY;
        v->host_name = opts->host_name ? strdup(opts->host_name) : NULL;
        v->opts.host_name = v->host_name;
        if (opts->host_name && !v->host_name) {
                free(v);
                return NULL;
        }
        return v;
}

int volume_new(const struct volume_host *host, const char *name, const char *device, int fd,
               const struct volume_opts *opts, struct volume **ret)
{
        _cleanup_free_ char *dup = NULL;
        struct volume *v;
        size_t align;
        int r;

        v = volume_alloc(host, opts);
        if (!v)
                return -ENOMEM;
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

        r = fd >= 0 ? mmpd_dev_adopt(fd, device, &v->dev) : mmpd_dev_open_ex(device, opts->exclusive, &v->dev);
        if (r < 0) {
                volume_free(v);
                return r;
        }
        /* The superblock's aligned span: 1 KiB at 1024 on a 512-byte
         * device, 4 KiB at 0 on a 4Kn one; the buffer grows to the MMP
         * block later if that is larger (start_sm).  Sized so, 10,000
         * volumes of 1 KiB blocks need 10 MB of buffers, not 40. */
        align = mmpd_dev_align(v->dev);
        v->sb_off = MMP_SB_OFFSET - MMP_SB_OFFSET % align;
        v->sb_len = (MMP_SB_OFFSET + MMP_SB_SIZE - v->sb_off + align - 1) / align * align;
        v->req_size = v->sb_len;
        r = mmpd_ioreq_new(host->io, v->dev, v->req_size, on_io, on_io_idle, v, &v->req);
        if (r < 0) {
                volume_free(v);
                return r;
        }
        v->state = MMP_STATE_IDLE;
        *ret = v;
        return 0;
}

int volume_new_unusable(const struct volume_host *host, const char *name, const char *device,
                        int error, struct volume **ret)
{
        struct volume *v = volume_alloc(host, &(struct volume_opts) { .is_static = true });

        if (!v)
                return -ENOMEM;
        v->name = strdup(name);
        v->device = strdup(device);
        if (asprintf(&v->error_buf, "cannot use the device: %s",
                     error == -ENOTBLK ? "not a block device or regular file" : strerror(-error)) < 0)
                v->error_buf = NULL;
        if (!v->name || !v->device || !v->error_buf) {
                volume_free(v);
                return -ENOMEM;
        }
        v->state = MMP_STATE_REFUSED;
        v->error = error;
        v->error_text = v->error_buf;
        *ret = v;
        return 0;
}

struct volume *volume_free(struct volume *v)
{
        if (!v)
                return NULL;
        mmpd_timer_stop(v->host.timers, &v->timer);
        use_clear(v);
        /* A busy request is freed by the I/O engine when the kernel is done. */
        mmpd_ioreq_free(v->req);
        mmpd_dev_free(v->dev);
        mmp_sm_free(v->sm);
        free(v->name);
        free(v->device);
        free(v->bdevname);
        free(v->host_name);
        free(v->error_buf);
        free(v);
        return NULL;
}

void volume_fill_info(struct volume *v, struct volume_info *ret)
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
        ret->rdev = v->dev ? mmpd_dev_rdev(v->dev) : 0;
        /* From the handoff request until the use ends (kept when lost). */
        ret->in_use = v->use.user != MMP_USER_NONE;
        ret->use_pid = v->use.pid;
        ret->use_mount_point = v->use.mount_point;
        ret->use_keep = v->use.keep;
        ret->stats = v->have_stats ? &v->stats : NULL;
}
