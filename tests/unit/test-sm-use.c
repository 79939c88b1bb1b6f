/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Handoff and use (lib/mmp-sm.h, "Handoff and use") under a fake clock and
 * a fake disk: a held volume is handed to a local user (a kernel mount with
 * kmmpd, or a libext2fs tool) and watched.  The driver is the one of
 * test-sm.c, plus a small discrete-event simulator for local users and
 * per-read latencies.
 *
 * update interval 1 s, check_interval 5: W = 11 s, margin 2 s, fence 9 s.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mmp-sm.h"

#define S(x) ((mmp_usec_t) (x) * MMP_USEC_PER_SEC)
#define MS(x) ((mmp_usec_t) (x) * 1000)
#define BS 4096
#define W_S 11                   /* W for update interval 1, check_interval 5 */
/* After reading our CLEAN the kernel's claim wait is 0: kmmpd's first
 * write follows its claim seq within milliseconds (1-12 ms measured). */
#define KERNEL_FAST_WAIT MS(10)
#define MARGIN S(2)
#define FENCE (S(W_S) - MARGIN)  /* last change + W - margin */
#define LOG_MAX 64

struct logent {
        enum mmp_action_type type;
        mmp_usec_t at;
        int error;
};

struct world {
        struct mmp_sb sb;
        uint8_t disk[BS];
        struct mmp_sm *sm;
        mmp_usec_t now;
        uint64_t wall;
        struct mmp_action act;
        int rc;                        /* of the last mmp_sm_step() */
        unsigned reads, writes;
        mmp_usec_t read_at;            /* submit time of the last read done */
        struct mmp_sm_status in_use;   /* status at the last step while IN_USE */
        /* faults */
        int fail_read, fail_write;     /* errno to return, 0 = none */
        int fail_count;                /* how many to fail; -1 forever */
        mmp_usec_t io_latency;         /* added to now on each completion */
        bool hang;                     /* the next I/O never completes */
        uint32_t rng;
        /* every outcome the machine reported (not NONE/READ/WRITE/WAIT) */
        struct logent log[LOG_MAX];
        unsigned nlog;
};

static uint32_t fixed_rng(void *userdata)
{
        struct world *w = userdata;

        w->rng = w->rng * 1103515245u + 12345u;
        return w->rng == 0 ? MMP_SEQ_FSCK : (w->rng % 0x10000u) + 1000u;
}

static void disk_set(struct world *w, uint32_t seq, const char *node, const char *dev, uint16_t ci)
{
        struct mmp_block b = { .seq = seq, .check_interval = ci, .time = 1 };

        snprintf(b.nodename, sizeof(b.nodename), "%s", node);
        snprintf(b.bdevname, sizeof(b.bdevname), "%s", dev);
        assert_int_equal(mmp_block_encode(&w->sb, &b, w->disk, BS), 0);
}

static struct mmp_block disk_get(struct world *w)
{
        struct mmp_block b;

        assert_int_equal(mmp_block_decode(&w->sb, w->disk, BS, &b), 0);
        return b;
}

/* Rewrite only the seq, keeping names and check_interval as on disk (what
 * the kernel's claim and e2fsprogs' ext2fs_mmp_start() do). */
static void disk_set_seq(struct world *w, uint32_t seq)
{
        struct mmp_block b = disk_get(w);

        disk_set(w, seq, b.nodename, b.bdevname, b.check_interval);
}

static struct world *world_new(unsigned upd)
{
        static const char *const local_names[] = { "host-a", NULL };
        struct world *w = calloc(1, sizeof(*w));
        struct mmp_sm_config cfg = {
                .nodename = "node-a",
                .bdevname = "sdb",
                .random_u32 = fixed_rng,
                .local_names = local_names,
        };

        assert_non_null(w);
        w->sb.block_size = BS;
        w->sb.blocks_count = 1000;
        w->sb.mmp_block = 100;
        w->sb.update_interval = upd;
        w->sb.metadata_csum = true;
        w->sb.csum_seed = 0x12345678;
        w->now = S(1000);
        w->wall = 1700000000;
        w->rng = 7;
        memset(w->disk, 0xA5, BS);
        disk_set(w, MMP_SEQ_CLEAN, "old", "old", 5);
        cfg.sb = w->sb;
        cfg.userdata = w;
        assert_int_equal(mmp_sm_new(&cfg, &w->sm), 0);
        return w;
}

static void world_free(struct world *w)
{
        mmp_sm_free(w->sm);
        free(w);
}

static void record(struct world *w)
{
        switch (w->act.type) {
        case MMP_ACT_NONE: case MMP_ACT_READ: case MMP_ACT_WRITE: case MMP_ACT_WAIT:
                return;
        default:
                break;
        }
        assert_true(w->nlog < LOG_MAX);
        w->log[w->nlog++] = (struct logent) { w->act.type, w->now, w->act.error };
}

static void step_ev(struct world *w, struct mmp_event *ev)
{
        ev->now = w->now;
        ev->wall = w->wall;
        if (ev->type == MMP_EV_READ_DONE) {
                ev->data = w->disk;
                ev->len = BS;
        }
        struct mmp_sm_status st;

        w->rc = mmp_sm_step(w->sm, ev, &w->act);
        record(w);
        mmp_sm_status(w->sm, &st);
        if (st.state == MMP_STATE_IN_USE)
                w->in_use = st;
}

static void step(struct world *w, enum mmp_event_type type, int error)
{
        struct mmp_event ev = { .type = type, .error = error };

        step_ev(w, &ev);
}

static bool take_fault(struct world *w, int err)
{
        if (!err || w->fail_count == 0)
                return false;
        if (w->fail_count > 0)
                w->fail_count--;
        return true;
}

static void perform(struct world *w)
{
        for (int n = 0; n < 3; n++) {
                if (w->act.type == MMP_ACT_READ) {
                        assert_int_equal(w->act.offset, 100 * BS);
                        if (w->hang) {
                                w->hang = false;
                                return;
                        }
                        w->reads++;
                        w->read_at = w->now;
                        w->now += w->io_latency;
                        if (take_fault(w, w->fail_read))
                                step(w, MMP_EV_IO_ERROR, -w->fail_read);
                        else
                                step(w, MMP_EV_READ_DONE, 0);
                } else if (w->act.type == MMP_ACT_WRITE) {
                        assert_int_equal(w->act.len, BS);
                        if (w->hang) {
                                w->hang = false;
                                return;
                        }
                        w->writes++;
                        w->now += w->io_latency;
                        if (take_fault(w, w->fail_write)) {
                                step(w, MMP_EV_IO_ERROR, -w->fail_write);
                        } else {
                                memcpy(w->disk, w->act.data, BS);
                                step(w, MMP_EV_WRITE_DONE, 0);
                        }
                } else {
                        return;
                }
        }
}

static void tick(struct world *w)
{
        if (w->act.type == MMP_ACT_READ || w->act.type == MMP_ACT_WRITE) {
                perform(w);
                return;
        }
        assert_true(w->act.wake_at != MMP_USEC_INFINITY);
        if (w->act.wake_at > w->now)
                w->now = w->act.wake_at;
        step(w, MMP_EV_TIMER, 0);
        perform(w);
}

static void start(struct world *w, enum mmp_event_type type)
{
        step(w, type, 0);
        perform(w);
}

static void run_until(struct world *w, enum mmp_action_type want, mmp_usec_t limit)
{
        while (w->act.type != want) {
                assert_true(w->now < limit);
                assert_int_not_equal(w->act.type, MMP_ACT_REFUSED);
                assert_int_not_equal(w->act.type, MMP_ACT_LOST);
                tick(w);
        }
}

static struct mmp_sm_status status(struct world *w)
{
        struct mmp_sm_status st;

        mmp_sm_status(w->sm, &st);
        return st;
}

static void claim_ok(struct world *w)
{
        start(w, MMP_EV_CLAIM);
        run_until(w, MMP_ACT_CLAIMED, w->now + S(200));
        assert_int_equal(status(w).state, MMP_STATE_HELD);
        /* a couple of ordinary beats, then idle between beats */
        tick(w);
        tick(w);
        assert_int_equal(status(w).state, MMP_STATE_HELD);
        assert_int_equal(status(w).phase, MMP_PHASE_HB_IDLE);
        w->nlog = 0;
}

static void handoff_ev(struct world *w, enum mmp_user user, enum mmp_handoff_mode mode, mmp_usec_t timeout)
{
        struct mmp_event ev = { .type = MMP_EV_HANDOFF, .user = user, .mode = mode, .timeout = timeout };

        step_ev(w, &ev);
}

static void end_use(struct world *w, bool user_gone)
{
        struct mmp_event ev = { .type = MMP_EV_END_USE, .user_gone = user_gone };

        step_ev(w, &ev);
        perform(w);
}

static void claim_ev(struct world *w, bool clear_fsck)
{
        struct mmp_event ev = { .type = MMP_EV_CLAIM, .clear_fsck = clear_fsck };

        step_ev(w, &ev);
        perform(w);
}

/* Claimed, then handed off FAST: CLEAN with our names on disk, GO. */
static struct world *handed_off(enum mmp_user user, enum mmp_handoff_mode mode, mmp_usec_t timeout)
{
        struct world *w = world_new(1);

        claim_ok(w);
        handoff_ev(w, user, mode, timeout);
        perform(w);
        assert_int_equal(w->act.type, MMP_ACT_HANDOFF_GO);
        assert_int_equal(status(w).state, MMP_STATE_IN_USE);
        assert_int_equal(status(w).phase, MMP_PHASE_HANDING_OFF);
        return w;
}

/* Let @d pass with the user silent, the machine reading as it wishes. */
static void idle(struct world *w, mmp_usec_t d)
{
        mmp_usec_t target = w->now + d;

        while (w->act.wake_at <= target) {
                tick(w);
                assert_int_equal(status(w).state, MMP_STATE_IN_USE);
        }
        w->now = target;
}

static unsigned count(const struct world *w, enum mmp_action_type t)
{
        unsigned n = 0;

        for (unsigned i = 0; i < w->nlog; i++)
                n += w->log[i].type == t;
        return n;
}

static const struct logent *find(const struct world *w, enum mmp_action_type t)
{
        for (unsigned i = 0; i < w->nlog; i++)
                if (w->log[i].type == t)
                        return &w->log[i];
        return NULL;
}

static void dump(const struct world *w)
{
        for (unsigned i = 0; i < w->nlog; i++)
                fprintf(stderr, "  %s at %+.3f err %d\n", mmp_action_name(w->log[i].type), (double) ((int64_t) w->log[i].at - (int64_t) S(1000)) / 1e6, w->log[i].error);
}

static bool ended(const struct world *w)
{
        enum mmp_state s;
        struct mmp_sm_status st;

        mmp_sm_status(w->sm, &st);
        s = st.state;
        return s != MMP_STATE_IN_USE && s != MMP_STATE_HELD && s != MMP_STATE_CLAIMING;
}

/* ---- a discrete-event simulator for local users ------------------------ */

/*
 * A scripted local user writes the block at given times.  Reads take
 * lat_min..lat_max (random) and sample the disk when they complete; the
 * machine's timers fire at wake_at even while a read is in flight.
 */
struct usim {
        /* kernel: claim seq at claim_at (names as read), then after its
         * claim wait kmmpd writes 1, 2, 3... with @node every interval
         * (+ jitter) until stop_at */
        bool kernel;
        mmp_usec_t claim_at;     /* INFINITY: kmmpd only (from kmmpd_at) */
        uint32_t claim_seq;
        mmp_usec_t kmmpd_at;     /* first kmmpd write */
        uint32_t kseq;           /* last seq kmmpd wrote */
        mmp_usec_t next;         /* next kmmpd write */
        mmp_usec_t interval, jitter;
        mmp_usec_t stop_at;      /* kmmpd stops (hangs) here */
        const char *node;
        /* read latency */
        mmp_usec_t lat_min, lat_max;
        uint64_t rs;             /* xorshift state */
        /* bookkeeping */
        mmp_usec_t last_write;   /* last user write that landed */
};

static uint64_t xs(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

static mmp_usec_t rnd(struct usim *u, mmp_usec_t lo, mmp_usec_t hi)
{
        return hi > lo ? lo + xs(&u->rs) % (hi - lo + 1) : lo;
}

static mmp_usec_t usim_next(const struct usim *u)
{
        mmp_usec_t t = u->claim_at;

        if (u->next < t)
                t = u->next;
        return t;
}

static void usim_fire(struct world *w, struct usim *u)
{
        if (u->claim_at <= u->next) {
                disk_set_seq(w, u->claim_seq);
                u->claim_at = MMP_USEC_INFINITY;
        } else {
                struct mmp_block b = disk_get(w);

                u->kseq = u->kseq >= MMP_SEQ_MAX ? 1 : u->kseq + 1;
                disk_set(w, u->kseq, u->node, b.bdevname, 5);
                u->next += u->interval + rnd(u, 0, u->jitter);
                if (u->next >= u->stop_at)
                        u->next = MMP_USEC_INFINITY;
        }
        u->last_write = w->now;
}

/* Run until @until or the use ends.  Returns false if it ended. */
static bool usim_run(struct world *w, struct usim *u, mmp_usec_t until)
{
        mmp_usec_t rc = MMP_USEC_INFINITY;       /* read completion */

        if (w->act.type == MMP_ACT_READ)
                rc = w->now + rnd(u, u->lat_min, u->lat_max);
        while (!ended(w)) {
                mmp_usec_t tu = usim_next(u), tt = w->act.wake_at, t;
                bool timer = false;

                assert_int_not_equal(w->act.type, MMP_ACT_WRITE);
                t = rc;
                if (tt < t) {
                        t = tt;
                        timer = true;
                }
                if (tu <= t) {
                        t = tu;
                        timer = false;
                }
                if (t == MMP_USEC_INFINITY || t > until)
                        break;
                if (t > w->now)
                        w->now = t;
                if (t == tu) {
                        usim_fire(w, u);
                        continue;
                }
                if (timer) {
                        step(w, MMP_EV_TIMER, 0);
                } else {
                        rc = MMP_USEC_INFINITY;
                        w->reads++;
                        step(w, MMP_EV_READ_DONE, 0);
                }
                if (w->act.type == MMP_ACT_READ) {
                        assert_true(rc == MMP_USEC_INFINITY);
                        w->read_at = w->now;
                        rc = w->now + rnd(u, u->lat_min, u->lat_max);
                }
        }
        if (w->now < until && !ended(w))
                w->now = until;
        return !ended(w);
}

/* The kernel mounting at @t: writes its random claim seq keeping the names
 * it read, waits (0 after reading CLEAN, as after a FAST handoff; W when it
 * found a seq, as in WAIT mode: its c floors at 2 x update interval, 11 s
 * here), verifies, starts kmmpd: 1, 2, 3... */
static void usim_kernel_wait(struct usim *u, mmp_usec_t t, mmp_usec_t stop_at, mmp_usec_t claim_wait)
{
        memset(u, 0, sizeof(*u));
        u->kernel = true;
        u->claim_at = t + MS(20);
        u->claim_seq = 0x1234567;
        u->kmmpd_at = u->claim_at + claim_wait + MS(10);
        u->next = u->kmmpd_at;
        u->interval = S(1);
        u->stop_at = stop_at;
        u->node = "host-a";
        u->rs = 88172645463325252ull;
}

static void usim_kernel(struct usim *u, mmp_usec_t t, mmp_usec_t stop_at)
{
        usim_kernel_wait(u, t, stop_at, 0);
}

/* ---- handoff ------------------------------------------------------------ */

static void test_fast_handoff_writes_clean_then_never(void **state)
{
        struct world *w = world_new(1);
        unsigned reads, writes;
        struct usim u;

        claim_ok(w);
        reads = w->reads;
        writes = w->writes;
        handoff_ev(w, MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        assert_int_equal(w->rc, 0);
        assert_int_equal(w->act.type, MMP_ACT_READ);            /* check read first */
        assert_int_equal(status(w).phase, MMP_PHASE_HANDOFF_CHECK);
        assert_int_equal(w->writes, writes);
        perform(w);
        assert_int_equal(w->reads, reads + 1);
        assert_int_equal(w->writes, writes + 1);                /* CLEAN */
        assert_int_equal(w->act.type, MMP_ACT_HANDOFF_GO);
        assert_int_equal(disk_get(w).seq, MMP_SEQ_CLEAN);
        assert_string_equal(disk_get(w).nodename, "node-a");
        assert_string_equal(disk_get(w).bdevname, "sdb");
        assert_int_equal(disk_get(w).check_interval, 5);
        assert_int_equal(status(w).state, MMP_STATE_IN_USE);
        assert_int_equal(status(w).phase, MMP_PHASE_HANDING_OFF);
        assert_int_equal(status(w).user, MMP_USER_KERNEL);
        assert_int_equal(status(w).mode, MMP_HANDOFF_FAST);
        assert_false(status(w).user_seen);
        assert_false(mmp_sm_may_use(&(struct mmp_sm_status) { 0 }, w->now, NULL));
        {
                struct mmp_sm_status st = status(w);
                mmp_usec_t until = 1;

                assert_false(mmp_sm_may_use(&st, w->now, &until));   /* nothing guaranteed yet */
                assert_true(until == 0);
        }
        assert_true(w->act.wake_at > w->now && w->act.wake_at <= w->now + MS(100));  /* polled */
        /* the kernel mounts and runs for a minute: we never write again */
        writes = w->writes;
        usim_kernel(&u, w->now, MMP_USEC_INFINITY);
        if (!usim_run(w, &u, w->now + S(60)))
                dump(w), fail();
        assert_int_equal(w->writes, writes);
        assert_int_equal(count(w, MMP_ACT_LOST), 0);
        assert_int_equal(count(w, MMP_ACT_IN_USE), 1);
        assert_int_equal(status(w).phase, MMP_PHASE_IN_USE);
        world_free(w);
}

static void test_handoff_deferred_while_beat_in_flight(void **state)
{
        struct world *w = world_new(1);
        unsigned writes;
        uint32_t seq;

        claim_ok(w);
        w->now = w->act.wake_at;
        step(w, MMP_EV_TIMER, 0);
        assert_int_equal(w->act.type, MMP_ACT_READ);            /* beat's check read */
        handoff_ev(w, MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        assert_int_equal(w->rc, 0);
        assert_int_equal(w->act.type, MMP_ACT_NONE);            /* deferred */
        assert_int_equal(status(w).state, MMP_STATE_HELD);
        /* a second handoff while one is pending makes no sense */
        handoff_ev(w, MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        assert_int_equal(w->rc, -EINVAL);
        seq = status(w).seq;
        writes = w->writes;
        step(w, MMP_EV_READ_DONE, 0);
        assert_int_equal(w->act.type, MMP_ACT_WRITE);           /* the beat goes on */
        perform(w);
        /* beat write, then the handoff's check read and CLEAN */
        if (w->act.type != MMP_ACT_HANDOFF_GO)
                perform(w);
        assert_int_equal(w->act.type, MMP_ACT_HANDOFF_GO);
        assert_int_equal(w->writes, writes + 2);
        assert_int_equal(status(w).seq, seq + 1);
        assert_int_equal(disk_get(w).seq, MMP_SEQ_CLEAN);
        assert_int_equal(status(w).state, MMP_STATE_IN_USE);
        world_free(w);
}

static void test_handoff_deferred_while_beat_write_in_flight(void **state)
{
        struct world *w = world_new(1);

        claim_ok(w);
        w->now = w->act.wake_at;
        step(w, MMP_EV_TIMER, 0);
        step(w, MMP_EV_READ_DONE, 0);
        assert_int_equal(w->act.type, MMP_ACT_WRITE);
        memcpy(w->disk, w->act.data, BS);
        w->writes++;
        handoff_ev(w, MMP_USER_TOOL, MMP_HANDOFF_FAST, S(30));
        assert_int_equal(w->act.type, MMP_ACT_NONE);
        step(w, MMP_EV_WRITE_DONE, 0);
        perform(w);
        assert_int_equal(w->act.type, MMP_ACT_HANDOFF_GO);
        assert_int_equal(disk_get(w).seq, MMP_SEQ_CLEAN);
        assert_int_equal(status(w).user, MMP_USER_TOOL);
        world_free(w);
}

static void test_handoff_block_changed_lost(void **state)
{
        struct world *w = world_new(1);
        unsigned writes;

        claim_ok(w);
        disk_set(w, 4242, "node-b", "sdc", 5);   /* rogue write since our beat */
        writes = w->writes;
        handoff_ev(w, MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        perform(w);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -EBUSY);
        assert_true(w->act.have_holder);
        assert_string_equal(w->act.holder.nodename, "node-b");
        assert_int_equal(w->writes, writes);
        assert_int_equal(disk_get(w).seq, 4242);
        assert_int_equal(status(w).state, MMP_STATE_LOST);
        assert_int_equal(count(w, MMP_ACT_HANDOFF_GO), 0);
        world_free(w);

        /* same seq, another name: also not ours */
        w = world_new(1);
        claim_ok(w);
        disk_set(w, disk_get(w).seq, "host-a", "sdb", 5);
        writes = w->writes;
        handoff_ev(w, MMP_USER_KERNEL, MMP_HANDOFF_WAIT, S(30));
        perform(w);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -EBUSY);
        assert_int_equal(w->writes, writes);
        world_free(w);
}

static void test_handoff_bad_requests(void **state)
{
        struct world *w = world_new(1);

        handoff_ev(w, MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));   /* not held */
        assert_int_equal(w->rc, -EINVAL);
        claim_ok(w);
        handoff_ev(w, MMP_USER_NONE, MMP_HANDOFF_FAST, S(30));
        assert_int_equal(w->rc, -EINVAL);
        assert_int_equal(w->act.type, MMP_ACT_NONE);
        assert_int_equal(status(w).state, MMP_STATE_HELD);
        end_use(w, false);                                          /* not in use */
        assert_int_equal(w->rc, -EINVAL);
        /* still heartbeats normally */
        tick(w);
        tick(w);
        assert_int_equal(status(w).state, MMP_STATE_HELD);
        assert_int_equal(disk_get(w).seq, status(w).seq);
        world_free(w);
}

static void test_wait_handoff_writes_nothing(void **state)
{
        struct world *w = world_new(1);
        unsigned writes, reads;
        uint32_t seq;
        mmp_usec_t go;

        claim_ok(w);
        writes = w->writes;
        reads = w->reads;
        seq = disk_get(w).seq;
        handoff_ev(w, MMP_USER_KERNEL, MMP_HANDOFF_WAIT, S(30));
        assert_int_equal(w->act.type, MMP_ACT_READ);
        perform(w);
        assert_int_equal(w->act.type, MMP_ACT_HANDOFF_GO);          /* right after the check */
        assert_int_equal(w->reads, reads + 1);
        assert_int_equal(w->writes, writes);
        assert_int_equal(disk_get(w).seq, seq);                     /* our stale seq */
        assert_int_equal(status(w).mode, MMP_HANDOFF_WAIT);
        go = w->now;
        /* nobody comes: the deadline is timeout + W */
        while (!ended(w)) {
                assert_true(w->now <= go + S(30) + S(W_S) + MS(100));
                tick(w);
        }
        assert_int_equal(w->act.type, MMP_ACT_USE_ENDED);
        assert_int_equal(w->act.error, -ETIMEDOUT);
        assert_non_null(w->act.reason);
        assert_true(w->now >= go + S(30) + S(W_S));
        assert_int_equal(w->writes, writes);
        assert_int_equal(status(w).state, MMP_STATE_RELEASED);
        world_free(w);
}

/* WAIT: the kernel watches our stale seq for W, writes its claim seq,
 * waits W again, then kmmpd runs.  Neither wait is a lost volume. */
static void test_wait_handoff_kernel_full_claim(void **state)
{
        struct world *w = world_new(1);
        unsigned writes;
        struct usim u;
        mmp_usec_t go;

        claim_ok(w);
        handoff_ev(w, MMP_USER_KERNEL, MMP_HANDOFF_WAIT, S(5));
        perform(w);
        assert_int_equal(w->act.type, MMP_ACT_HANDOFF_GO);
        go = w->now;
        writes = w->writes;
        /* after its first wait, and its claim wait */
        usim_kernel_wait(&u, go + S(W_S) + MS(10), MMP_USEC_INFINITY, S(W_S));
        assert_true(usim_run(w, &u, go + S(90)));
        assert_int_equal(w->writes, writes);
        assert_int_equal(count(w, MMP_ACT_LOST), 0);
        assert_int_equal(count(w, MMP_ACT_USE_ENDED), 0);
        assert_int_equal(count(w, MMP_ACT_IN_USE), 1);
        assert_true(find(w, MMP_ACT_IN_USE)->at >= go + S(W_S));
        assert_int_equal(status(w).user_seq, u.kseq);
        assert_string_equal(status(w).user_block.nodename, "host-a");
        world_free(w);
}

/* ---- kernel user ------------------------------------------------------- */

static void test_kernel_user_may_use(void **state)
{
        struct world *w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        struct mmp_sm_status st;
        mmp_usec_t go = w->now, until, prev_submit = go;
        unsigned writes = w->writes;
        uint32_t seq = 0;

        /* the kernel's claim seq, names as read (ours) */
        disk_set_seq(w, 0x2345678);
        assert_string_equal(disk_get(w).nodename, "node-a");
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_IN_USE);
        assert_int_equal(status(w).phase, MMP_PHASE_IN_USE);
        assert_true(status(w).user_seen);
        assert_int_equal(status(w).user_seq, 0x2345678);
        assert_true(status(w).use_since == go);
        /* the change landed after the previous look: our CLEAN write's submit */
        st = status(w);
        assert_true(st.last_change <= go && st.last_change >= go - MS(1));
        assert_true(mmp_sm_may_use(&st, w->now, &until));
        assert_true(until == st.last_change + FENCE);

        /* the kernel's claim wait (W), then kmmpd every second */
        idle(w, KERNEL_FAST_WAIT);
        for (uint32_t i = 0; i < 40; i++) {
                mmp_usec_t t_write = w->now + MS(300);

                /* reads until just before the write: each sees the old value */
                while (w->act.wake_at <= t_write) {
                        tick(w);
                        assert_int_equal(status(w).state, MMP_STATE_IN_USE);
                }
                prev_submit = w->read_at;
                w->now = t_write;
                disk_set(w, ++seq, "host-a", "sdc", 5);
                /* the next read sees it; the guarantee runs from the read before */
                tick(w);
                assert_int_equal(w->act.type, MMP_ACT_NONE);
                st = status(w);
                assert_int_equal(st.state, MMP_STATE_IN_USE);
                assert_int_equal(st.user_seq, seq);
                assert_string_equal(st.user_block.nodename, "host-a");
                assert_true(st.last_change == prev_submit);
                assert_true(mmp_sm_may_use(&st, w->now, &until));
                assert_true(until == prev_submit + S(W_S) - MARGIN);
                assert_true(st.deadlines.peer_write_at == prev_submit + S(W_S));
                assert_false(mmp_sm_may_use(&st, until, NULL));
                w->now = t_write + MS(700) - 1 > w->now ? t_write + MS(700) - 1 : w->now;
        }
        assert_int_equal(count(w, MMP_ACT_IN_USE), 1);
        assert_int_equal(count(w, MMP_ACT_LOST), 0);
        assert_int_equal(w->writes, writes);
        world_free(w);
}

/* kmmpd stops: LOST -ESTALE exactly at last change + W - margin. */
static void test_kernel_heartbeat_stops_lost_at_deadline(void **state)
{
        for (int lat = 0; lat < 3; lat++) {
                struct world *w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
                struct usim u;
                const struct logent *l;
                mmp_usec_t fence;
                unsigned writes = w->writes;

                usim_kernel(&u, w->now, w->now + S(40));
                u.lat_min = u.lat_max = (mmp_usec_t) lat * MS(150);
                assert_false(usim_run(w, &u, w->now + S(120)));
                l = find(w, MMP_ACT_LOST);
                assert_non_null(l);
                assert_int_equal(l->error, -ESTALE);
                assert_int_equal(count(w, MMP_ACT_LOST), 1);
                assert_int_equal(status(w).state, MMP_STATE_LOST);
                fence = w->in_use.deadlines.fence_at;
                /* the last write landed after the read that last saw the old
                 * value: the deadline follows from that read's submit time */
                assert_true(fence == w->in_use.last_change + FENCE);
                assert_true(w->in_use.last_change <= u.last_write);
                assert_true(u.last_write - w->in_use.last_change <= S(1) + MS(300));
                assert_true(l->at == fence);                    /* not later, not earlier */
                assert_true(u.last_write >= S(1000));
                assert_int_equal(w->writes, writes);
                world_free(w);
        }
}

/* A kernel user that raised check_interval (slow kmmpd writes) buys time
 * against -ESTALE, as we do, but not our guarantee: its next write may
 * lower it again or be CLEAN, landing right after our read (tests/sim: a
 * peer mmpd claimed such a CLEAN while we still said may_use). */
static void test_kernel_raised_ci_not_counted_on(void **state)
{
        struct world *w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        struct mmp_sm_status st;
        mmp_usec_t until, change;

        disk_set_seq(w, 0x2345678);
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_IN_USE);
        idle(w, KERNEL_FAST_WAIT);
        disk_set(w, 1, "host-a", "sdc", 9);             /* peers reading this wait 19 s */
        tick(w);
        st = status(w);
        assert_int_equal(st.user_seq, 1);
        change = st.last_change;
        assert_true(mmp_sm_may_use(&st, w->now, &until));
        assert_true(until == change + FENCE);           /* W 11: ci may drop back to 5 */
        /* kmmpd silent from here: LOST only at its own deadline (W 19) */
        while (!ended(w))
                tick(w);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -ESTALE);
        assert_true(w->now == change + S(19) - MARGIN);
        world_free(w);
}

/* The timer alone fences: a read that hangs forever does not postpone it. */
static void test_kernel_hung_read_lost_by_timer(void **state)
{
        struct world *w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        mmp_usec_t fence;

        disk_set_seq(w, 0x2345678);
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_IN_USE);
        idle(w, KERNEL_FAST_WAIT);
        disk_set(w, 1, "host-a", "sdc", 5);
        tick(w);
        assert_int_equal(status(w).user_seq, 1);
        fence = status(w).deadlines.fence_at;
        w->now = w->act.wake_at;
        w->hang = true;
        step(w, MMP_EV_TIMER, 0);
        assert_int_equal(w->act.type, MMP_ACT_READ);
        perform(w);                                     /* hangs */
        assert_true(w->act.wake_at == fence);           /* armed while the read hangs */
        disk_set(w, 2, "host-a", "sdc", 5);             /* unseen: the read hangs */
        w->now = fence - 1;
        step(w, MMP_EV_TIMER, 0);
        assert_int_equal(w->act.type, MMP_ACT_NONE);
        w->now = fence;
        step(w, MMP_EV_TIMER, 0);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -ESTALE);
        step(w, MMP_EV_READ_DONE, 0);                   /* late completion ignored */
        assert_int_equal(status(w).state, MMP_STATE_LOST);
        world_free(w);
}

/* Read errors are retried; for a kernel user the deadline still fires. */
static void test_kernel_read_errors_retried_then_deadline(void **state)
{
        struct world *w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        struct usim u;
        unsigned reads;

        usim_kernel(&u, w->now, MMP_USEC_INFINITY);
        assert_true(usim_run(w, &u, w->now + S(20)));
        assert_int_equal(status(w).phase, MMP_PHASE_IN_USE);
        /* three failed reads, then fine again */
        w->fail_read = EIO;
        w->fail_count = 3;
        for (int i = 0; i < 8; i++) {
                u.next = w->now;                        /* kmmpd goes on */
                usim_fire(w, &u);
                tick(w);
        }
        assert_int_equal(w->fail_count, 0);
        assert_int_equal(status(w).state, MMP_STATE_IN_USE);
        assert_int_equal(status(w).user_seq, u.kseq);
        assert_true(status(w).failures >= 3);
        /* every read fails from now on: LOST at the deadline, not before */
        w->fail_count = -1;
        reads = w->reads;
        {
                mmp_usec_t fence = status(w).deadlines.fence_at;

                while (!ended(w)) {
                        assert_true(w->now <= fence);
                        tick(w);
                }
                assert_int_equal(w->act.type, MMP_ACT_LOST);
                assert_int_equal(w->act.error, -ESTALE);
                assert_true(w->now == fence);
                assert_true(w->reads - reads >= 5);     /* retried all along */
        }
        world_free(w);
}

static void test_kernel_other_node_lost(void **state)
{
        const uint32_t seqs[] = { 3, 4, 0x2345678, MMP_SEQ_CLEAN, MMP_SEQ_FSCK };

        for (unsigned i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
                struct world *w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
                unsigned writes = w->writes;

                disk_set_seq(w, 0x2345678);
                tick(w);
                idle(w, KERNEL_FAST_WAIT);
                disk_set(w, 1, "host-a", "sdc", 5);
                tick(w);
                idle(w, S(1));
                disk_set(w, 2, "host-a", "sdc", 5);
                tick(w);
                assert_int_equal(status(w).user_seq, 2);
                disk_set(w, seqs[i], "node-b", "sdx", 5);
                tick(w);
                assert_int_equal(w->act.type, MMP_ACT_LOST);
                assert_int_equal(w->act.error, -EBUSY);
                assert_string_equal(w->act.holder.nodename, "node-b");
                assert_int_equal(w->act.holder.seq, seqs[i]);
                assert_int_equal(w->writes, writes);
                world_free(w);
        }
        /* also before the user's first write */
        {
                struct world *w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));

                disk_set(w, 777, "node-b", "sdx", 5);
                tick(w);
                assert_int_equal(w->act.type, MMP_ACT_LOST);
                assert_int_equal(w->act.error, -EBUSY);
                world_free(w);
        }
}

static void test_kernel_seq_jump_lost(void **state)
{
        struct world *w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));

        disk_set_seq(w, 0x2345678);
        tick(w);
        idle(w, KERNEL_FAST_WAIT);
        for (uint32_t s = 1; s <= 5; s++) {
                disk_set(w, s, "host-a", "sdc", 5);
                tick(w);
                assert_int_equal(status(w).state, MMP_STATE_IN_USE);
                idle(w, S(1) - MS(1));
        }
        disk_set(w, 90000, "host-a", "sdc", 5);
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -ENOTUNIQ);
        assert_int_equal(w->act.holder.seq, 90000);
        world_free(w);

        /* going backwards is not kmmpd either */
        w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        disk_set_seq(w, 0x2345678);
        tick(w);
        idle(w, KERNEL_FAST_WAIT);
        for (uint32_t s = 1; s <= 5; s++) {
                disk_set(w, s, "host-a", "sdc", 5);
                tick(w);
        }
        disk_set(w, 3, "node-a", "sdc", 5);
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -ENOTUNIQ);
        world_free(w);

        /* a kmmpd that missed a beat or two (slow disk) is still kmmpd */
        w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        disk_set_seq(w, 0x2345678);
        tick(w);
        idle(w, KERNEL_FAST_WAIT);
        disk_set(w, 1, "host-a", "sdc", 5);
        tick(w);
        disk_set(w, 3, "host-a", "sdc", 5);             /* 2 came and went unseen */
        tick(w);
        assert_int_equal(status(w).state, MMP_STATE_IN_USE);
        assert_int_equal(status(w).user_seq, 3);
        world_free(w);
}

static void test_kernel_fsck_lost(void **state)
{
        struct world *w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));

        disk_set_seq(w, 0x2345678);
        tick(w);
        disk_set(w, MMP_SEQ_FSCK, "host-a", "sdb", 5);
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -EINPROGRESS);
        world_free(w);

        /* FSCK as the first write under a kernel user, too */
        w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        disk_set(w, MMP_SEQ_FSCK, "node-a", "sdb", 5);
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        world_free(w);
}

static void test_corrupt_block_lost(void **state)
{
        for (int user = 0; user < 2; user++) {
                struct world *w = handed_off(user ? MMP_USER_TOOL : MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
                unsigned writes = w->writes;

                disk_set_seq(w, 0x2345678);
                tick(w);
                assert_int_equal(status(w).state, MMP_STATE_IN_USE);
                w->disk[0] ^= 0xFF;                     /* magic */
                tick(w);
                assert_int_equal(w->act.type, MMP_ACT_LOST);
                assert_int_equal(w->act.error, -EUCLEAN);
                assert_int_equal(w->writes, writes);
                world_free(w);
        }
        /* bad checksum while handing off */
        {
                struct world *w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));

                w->disk[0x20] ^= 0x01;
                tick(w);
                assert_int_equal(w->act.type, MMP_ACT_LOST);
                assert_int_equal(w->act.error, -EBADMSG);
                world_free(w);
        }
        /* invalid seq (above FSCK, not CLEAN) with a local name */
        {
                struct world *w = handed_off(MMP_USER_TOOL, MMP_HANDOFF_FAST, S(30));

                disk_set(w, MMP_SEQ_FSCK + 7, "host-a", "sdb", 5);
                tick(w);
                assert_int_equal(w->act.type, MMP_ACT_LOST);
                assert_int_equal(w->act.error, -EPROTO);
                world_free(w);
        }
}

static void test_kmmpd_wraps(void **state)
{
        struct world *w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));

        disk_set_seq(w, 0x2345678);
        tick(w);
        idle(w, KERNEL_FAST_WAIT);
        disk_set(w, 1, "host-a", "sdc", 5);
        tick(w);
        /* a very long mount: fast-forward kmmpd's counter */
        disk_set(w, MMP_SEQ_MAX - 1, "host-a", "sdc", 5);
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_LOST);    /* a jump is a jump */
        assert_int_equal(w->act.error, -ENOTUNIQ);
        world_free(w);

        /* The kernel's claim seq may be anything up to SEQ_MAX; kmmpd then
         * starts at 1 (a wrap, seen from our side).  A kmmpd counter really
         * wrapping needs 2^32 beats: the same arithmetic, not reachable here. */
        for (int mode = 0; mode < 2; mode++) {
                w = handed_off(MMP_USER_KERNEL, mode ? MMP_HANDOFF_WAIT : MMP_HANDOFF_FAST, S(30));
                disk_set(w, MMP_SEQ_MAX, "node-a", "sdb", 5);
                tick(w);
                assert_int_equal(w->act.type, MMP_ACT_IN_USE);
                assert_int_equal(status(w).user_seq, MMP_SEQ_MAX);
                idle(w, KERNEL_FAST_WAIT);
                for (uint32_t s = 1; s <= 4; s++) {
                        disk_set(w, s, "host-a", "sdc", 5);
                        tick(w);
                        assert_int_equal(status(w).state, MMP_STATE_IN_USE);
                        assert_int_equal(status(w).user_seq, s);
                        idle(w, MS(900));
                }
                assert_int_equal(count(w, MMP_ACT_LOST), 0);
                world_free(w);
        }
}

static void test_kernel_unmount_ends_use(void **state)
{
        struct world *w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        unsigned writes = w->writes;
        struct usim u;

        usim_kernel(&u, w->now, MMP_USEC_INFINITY);
        assert_true(usim_run(w, &u, w->now + S(30)));
        assert_true(u.kseq > 10);
        /* umount: kmmpd stops and writes CLEAN with its names */
        disk_set(w, MMP_SEQ_CLEAN, "host-a", "sdc", 5);
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_USE_ENDED);
        assert_int_equal(w->act.error, 0);
        assert_null(w->act.reason);
        assert_int_equal(status(w).state, MMP_STATE_RELEASED);
        assert_true(w->act.wake_at == MMP_USEC_INFINITY);
        assert_int_equal(w->writes, writes);
        assert_false(mmp_sm_may_use(&(struct mmp_sm_status) { .state = status(w).state }, w->now, NULL));
        /* it can be claimed again */
        claim_ev(w, false);
        run_until(w, MMP_ACT_CLAIMED, w->now + S(60));
        world_free(w);
}

static void test_handoff_timeout_then_claim(void **state)
{
        struct world *w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(10));
        mmp_usec_t go = w->now, claim_written;
        unsigned writes = w->writes;

        while (!ended(w)) {
                assert_true(w->now <= go + S(10) + MS(100));
                tick(w);
        }
        assert_int_equal(w->act.type, MMP_ACT_USE_ENDED);
        assert_int_equal(w->act.error, -ETIMEDOUT);
        assert_true(w->now >= go + S(10));
        assert_int_equal(w->writes, writes);
        assert_int_equal(status(w).state, MMP_STATE_RELEASED);
        assert_int_equal(disk_get(w).seq, MMP_SEQ_CLEAN);
        /* re-claim: CLEAN path, a fresh seq, then the full W */
        claim_ev(w, false);
        assert_int_equal(w->act.type, MMP_ACT_WAIT);
        assert_int_equal(w->writes, writes + 1);
        assert_true(disk_get(w).seq <= MMP_SEQ_MAX);
        assert_string_equal(disk_get(w).nodename, "node-a");
        claim_written = w->now;
        run_until(w, MMP_ACT_CLAIMED, w->now + S(60));
        assert_true(w->now >= claim_written + S(W_S));
        assert_int_equal(status(w).state, MMP_STATE_HELD);
        world_free(w);
}

/* ---- tool user --------------------------------------------------------- */

static void test_tool_lifecycle(void **state)
{
        struct world *w = handed_off(MMP_USER_TOOL, MMP_HANDOFF_FAST, S(30));
        unsigned writes = w->writes;

        /* ext2fs_mmp_start(): a random seq, its host name */
        disk_set(w, 0x3456789, "host-a", "sdb", 5);
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_IN_USE);
        assert_true(mmp_sm_may_use(&(struct mmp_sm_status) { 0 }, w->now, NULL) == false);
        /* e2fsck: FSCK, static for ten minutes: no deadline for a tool */
        w->now += S(3);
        disk_set(w, MMP_SEQ_FSCK, "host-a", "sdb", 5);
        for (int i = 0; i < 600; i++) {
                tick(w);
                assert_int_equal(status(w).state, MMP_STATE_IN_USE);
                assert_true(w->act.wake_at != MMP_USEC_INFINITY);
        }
        assert_int_equal(status(w).user_seq, MMP_SEQ_FSCK);
        /* closes (CLEAN) and reopens (random seq again) */
        disk_set(w, MMP_SEQ_CLEAN, "host-a", "sdb", 5);
        tick(w);
        assert_int_equal(status(w).state, MMP_STATE_IN_USE);
        assert_int_equal(status(w).user_seq, MMP_SEQ_CLEAN);
        w->now += S(2);
        disk_set(w, 0x1111, "host-a", "sdb", 5);
        tick(w);
        disk_set(w, MMP_SEQ_FSCK, "host-a", "sdb", 5);
        tick(w);
        assert_int_equal(status(w).state, MMP_STATE_IN_USE);
        assert_int_equal(count(w, MMP_ACT_IN_USE), 1);
        assert_int_equal(count(w, MMP_ACT_LOST), 0);
        assert_int_equal(w->writes, writes);
        /* still running: END_USE is busy */
        end_use(w, false);
        assert_int_equal(w->rc, 0);
        assert_int_equal(w->act.type, MMP_ACT_USE_BUSY);
        assert_true(w->act.have_holder);
        assert_int_equal(w->act.holder.seq, MMP_SEQ_FSCK);
        assert_int_equal(status(w).state, MMP_STATE_IN_USE);
        tick(w);
        assert_int_equal(status(w).state, MMP_STATE_IN_USE);
        /* the tool died leaving FSCK */
        end_use(w, true);
        assert_int_equal(w->act.type, MMP_ACT_USE_ENDED);
        assert_int_equal(w->act.error, -EINPROGRESS);
        assert_int_equal(status(w).state, MMP_STATE_RELEASED);
        assert_int_equal(w->writes, writes);
        world_free(w);
}

static void tool_left_fsck(struct world **wp, const char *node)
{
        struct world *w = handed_off(MMP_USER_TOOL, MMP_HANDOFF_FAST, S(30));

        disk_set(w, 0x3456789, "host-a", "sdb", 5);
        tick(w);
        disk_set(w, MMP_SEQ_FSCK, node, "sdb", 5);
        tick(w);
        end_use(w, true);
        assert_int_equal(w->act.type, MMP_ACT_USE_ENDED);
        assert_int_equal(w->act.error, -EINPROGRESS);
        *wp = w;
}

static void test_clear_fsck_claim(void **state)
{
        struct world *w;
        mmp_usec_t t0;
        unsigned writes;

        /* a normal claim refuses the FSCK */
        tool_left_fsck(&w, "host-a");
        writes = w->writes;
        claim_ev(w, false);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        assert_int_equal(w->act.error, -EINPROGRESS);
        assert_int_equal(w->writes, writes);
        /* clear_fsck: watch W like an active block, then take it */
        t0 = w->now;
        claim_ev(w, true);
        assert_int_equal(w->act.type, MMP_ACT_WAIT);
        assert_int_equal(w->writes, writes);
        assert_true(w->act.wake_at >= t0 + S(W_S));
        run_until(w, MMP_ACT_CLAIMED, t0 + S(60));
        assert_true(w->now >= t0 + 2 * S(W_S));
        assert_string_equal(disk_get(w).nodename, "node-a");
        assert_int_equal(disk_get(w).seq, status(w).seq);
        world_free(w);

        /* our own node name works as well */
        tool_left_fsck(&w, "node-a");
        claim_ev(w, true);
        run_until(w, MMP_ACT_CLAIMED, w->now + S(60));
        world_free(w);

        /* the tool is back during the watch: refused */
        tool_left_fsck(&w, "host-a");
        claim_ev(w, true);
        disk_set(w, 0x4444, "host-a", "sdb", 5);
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        assert_int_equal(w->act.error, -EBUSY);
        world_free(w);
}

static void test_clear_fsck_other_node_refused(void **state)
{
        struct world *w = world_new(1);
        unsigned writes;

        claim_ok(w);
        start(w, MMP_EV_RELEASE);
        disk_set(w, MMP_SEQ_FSCK, "node-b", "sdc", 5);
        writes = w->writes;
        claim_ev(w, true);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        assert_int_equal(w->act.error, -EINPROGRESS);
        assert_string_equal(w->act.holder.nodename, "node-b");
        assert_int_equal(w->writes, writes);
        world_free(w);

        /* FSCK of another node appearing during the clear_fsck watch */
        tool_left_fsck(&w, "host-a");
        claim_ev(w, true);
        disk_set(w, MMP_SEQ_FSCK, "node-b", "sdc", 5);
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        assert_int_equal(w->act.error, -EINPROGRESS);
        world_free(w);
}

/* An END_USE read that finds the user's next write (FSCK after its claim
 * seq) answers busy, and counts it as the user's write: status and the
 * deadline follow it. */
static void test_tool_end_read_records_the_users_write(void **state)
{
        struct world *w = handed_off(MMP_USER_TOOL, MMP_HANDOFF_FAST, S(30));
        struct mmp_sm_status st;

        disk_set(w, 0x3456789, "host-a", "sdb", 5);
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_IN_USE);
        idle(w, S(11));                         /* the tool sleeps W; we keep reading */
        disk_set(w, MMP_SEQ_FSCK, "host-a", "sdb", 5);
        end_use(w, false);                      /* before the watch read saw it */
        assert_int_equal(w->act.type, MMP_ACT_USE_BUSY);
        st = status(w);
        assert_int_equal(st.user_seq, MMP_SEQ_FSCK);
        assert_true(st.last_change > st.use_since);
        assert_true(mmp_sm_may_use(&st, w->now, NULL));
        world_free(w);
}

/* A user whose first write only the END_USE read sees was not too late:
 * it is in use (the read answers busy).  Before, the handoff phase went on
 * and its timeout took a tool sleeping its W for a failed handoff, and the
 * re-claim then wrote over the live tool's claim. */
static void test_end_read_sees_first_write(void **state)
{
        struct world *w = handed_off(MMP_USER_TOOL, MMP_HANDOFF_FAST, S(5));
        unsigned writes = w->writes;

        disk_set(w, 0x2468ace, "host-a", "sdb", 5);     /* its claim seq, then it sleeps W */
        end_use(w, false);
        assert_int_equal(w->act.type, MMP_ACT_USE_BUSY);
        assert_true(status(w).user_seen);
        assert_int_equal(status(w).phase, MMP_PHASE_IN_USE);
        idle(w, S(12));
        assert_int_equal(status(w).state, MMP_STATE_IN_USE);
        assert_int_equal(count(w, MMP_ACT_USE_ENDED), 0);
        assert_int_equal(w->writes, writes);
        world_free(w);
}

static void test_tool_other_node_lost(void **state)
{
        struct world *w = handed_off(MMP_USER_TOOL, MMP_HANDOFF_FAST, S(30));

        disk_set(w, 0x3456789, "host-a", "sdb", 5);
        tick(w);
        disk_set(w, MMP_SEQ_FSCK, "node-b", "sdb", 5);
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -EBUSY);
        world_free(w);
}

static void test_tool_exit_clean_and_seq(void **state)
{
        struct world *w = handed_off(MMP_USER_TOOL, MMP_HANDOFF_FAST, S(30));

        disk_set(w, 0x3456789, "host-a", "sdb", 5);
        tick(w);
        disk_set(w, MMP_SEQ_CLEAN, "host-a", "sdb", 5);
        end_use(w, true);                       /* reads at once */
        assert_int_equal(w->act.type, MMP_ACT_USE_ENDED);
        assert_int_equal(w->act.error, 0);
        world_free(w);

        /* CLEAN already seen by a watch read, then the tool exits */
        w = handed_off(MMP_USER_TOOL, MMP_HANDOFF_FAST, S(30));
        disk_set(w, 0x3456789, "host-a", "sdb", 5);
        tick(w);
        disk_set(w, MMP_SEQ_CLEAN, "host-a", "sdb", 5);
        tick(w);
        assert_int_equal(status(w).state, MMP_STATE_IN_USE);
        end_use(w, false);
        assert_int_equal(w->act.type, MMP_ACT_USE_ENDED);
        assert_int_equal(w->act.error, 0);
        world_free(w);

        /* died holding its random seq */
        w = handed_off(MMP_USER_TOOL, MMP_HANDOFF_FAST, S(30));
        disk_set(w, 0x3456789, "host-a", "sdb", 5);
        tick(w);
        end_use(w, true);
        assert_int_equal(w->act.type, MMP_ACT_USE_ENDED);
        assert_true(w->act.error < 0);
        assert_int_not_equal(w->act.error, -EINPROGRESS);
        world_free(w);
}

/* END_USE while a watch read is in flight: answered at its completion. */
static void test_end_use_while_read_in_flight(void **state)
{
        struct world *w = handed_off(MMP_USER_TOOL, MMP_HANDOFF_FAST, S(30));

        disk_set(w, 0x3456789, "host-a", "sdb", 5);
        tick(w);
        disk_set(w, MMP_SEQ_FSCK, "host-a", "sdb", 5);
        w->now = w->act.wake_at;
        step(w, MMP_EV_TIMER, 0);
        assert_int_equal(w->act.type, MMP_ACT_READ);
        end_use(w, true);
        assert_int_equal(w->rc, 0);
        assert_int_equal(w->act.type, MMP_ACT_NONE);
        step(w, MMP_EV_READ_DONE, 0);
        assert_int_equal(w->act.type, MMP_ACT_USE_ENDED);
        assert_int_equal(w->act.error, -EINPROGRESS);
        world_free(w);
}

static void test_end_use_handing_off_cancelled(void **state)
{
        for (int mode = 0; mode < 2; mode++) {
                struct world *w = handed_off(MMP_USER_TOOL, mode ? MMP_HANDOFF_WAIT : MMP_HANDOFF_FAST, S(30));
                unsigned writes = w->writes;

                tick(w);
                tick(w);
                end_use(w, true);
                assert_int_equal(w->act.type, MMP_ACT_USE_ENDED);
                assert_int_equal(w->act.error, -ECANCELED);
                assert_non_null(w->act.reason);
                assert_int_equal(status(w).state, MMP_STATE_RELEASED);
                assert_int_equal(w->writes, writes);
                /* and re-claiming works */
                claim_ev(w, false);
                run_until(w, MMP_ACT_CLAIMED, w->now + S(60));
                world_free(w);
        }
}

static void test_release_in_use_ebusy(void **state)
{
        struct world *w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        struct mmp_sm_status before, after;
        unsigned writes = w->writes;

        disk_set_seq(w, 0x2345678);
        tick(w);
        before = status(w);
        step(w, MMP_EV_RELEASE, 0);
        assert_int_equal(w->rc, -EBUSY);
        assert_int_equal(w->act.type, MMP_ACT_NONE);
        after = status(w);
        assert_int_equal(after.state, MMP_STATE_IN_USE);
        assert_int_equal(after.phase, before.phase);
        assert_true(after.deadlines.fence_at == before.deadlines.fence_at);
        assert_int_equal(after.user_seq, before.user_seq);
        /* and while handing off, and with a read in flight */
        world_free(w);
        w = handed_off(MMP_USER_TOOL, MMP_HANDOFF_FAST, S(30));
        w->now = w->act.wake_at;
        step(w, MMP_EV_TIMER, 0);
        assert_int_equal(w->act.type, MMP_ACT_READ);
        step(w, MMP_EV_RELEASE, 0);
        assert_int_equal(w->rc, -EBUSY);
        disk_set(w, 0x3456789, "host-a", "sdb", 5);
        step(w, MMP_EV_READ_DONE, 0);
        assert_int_equal(w->act.type, MMP_ACT_IN_USE);
        for (int i = 0; i < 5; i++)
                tick(w);
        assert_int_equal(status(w).state, MMP_STATE_IN_USE);
        assert_int_equal(w->writes, writes);
        world_free(w);
}

/* A release asked while the handoff's CLEAN is being written. */
static void test_release_during_handoff_write(void **state)
{
        struct world *w = world_new(1);

        claim_ok(w);
        handoff_ev(w, MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        step(w, MMP_EV_READ_DONE, 0);
        assert_int_equal(w->act.type, MMP_ACT_WRITE);
        memcpy(w->disk, w->act.data, BS);
        step(w, MMP_EV_RELEASE, 0);
        assert_int_equal(w->rc, 0);
        step(w, MMP_EV_WRITE_DONE, 0);
        /* CLEAN is what the release writes: it is done, the user must not
         * start (a GO here used to be followed by a silent RELEASED). */
        assert_int_equal(w->act.type, MMP_ACT_RELEASED);
        assert_int_equal(w->act.error, 0);
        assert_int_equal(count(w, MMP_ACT_HANDOFF_GO), 0);
        assert_int_equal(status(w).state, MMP_STATE_RELEASED);
        assert_int_equal(disk_get(w).seq, MMP_SEQ_CLEAN);
        assert_true(w->act.wake_at == MMP_USEC_INFINITY);
        world_free(w);
}

static void test_handoff_write_error(void **state)
{
        struct world *w = world_new(1);

        claim_ok(w);
        w->fail_write = EIO;
        w->fail_count = 1;
        handoff_ev(w, MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        perform(w);
        assert_int_equal(w->act.type, MMP_ACT_USE_ENDED);
        assert_int_equal(w->act.error, -EIO);
        assert_int_equal(count(w, MMP_ACT_HANDOFF_GO), 0);
        assert_int_equal(status(w).state, MMP_STATE_RELEASED);
        world_free(w);

        /* a failed check read: retried with the next beat */
        w = world_new(1);
        claim_ok(w);
        w->fail_read = EIO;
        w->fail_count = 1;
        handoff_ev(w, MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        perform(w);
        assert_int_equal(status(w).state, MMP_STATE_HELD);
        for (int i = 0; i < 3 && w->act.type != MMP_ACT_HANDOFF_GO; i++)
                tick(w);
        assert_int_equal(w->act.type, MMP_ACT_HANDOFF_GO);
        assert_int_equal(disk_get(w).seq, MMP_SEQ_CLEAN);
        world_free(w);
}

static void test_tool_read_errors_retried(void **state)
{
        struct world *w = handed_off(MMP_USER_TOOL, MMP_HANDOFF_FAST, S(30));

        disk_set(w, 0x3456789, "host-a", "sdb", 5);
        tick(w);
        disk_set(w, MMP_SEQ_FSCK, "host-a", "sdb", 5);
        w->fail_read = EIO;
        w->fail_count = -1;
        for (int i = 0; i < 120; i++) {
                tick(w);
                assert_int_equal(status(w).state, MMP_STATE_IN_USE);
        }
        w->fail_count = 0;
        tick(w);
        tick(w);
        assert_int_equal(status(w).user_seq, MMP_SEQ_FSCK);
        /* END_USE whose read fails: busy with the error, still in use */
        w->fail_count = 1;
        end_use(w, true);
        assert_int_equal(w->act.type, MMP_ACT_USE_BUSY);
        assert_int_equal(w->act.error, -EIO);
        assert_int_equal(status(w).state, MMP_STATE_IN_USE);
        end_use(w, true);
        assert_int_equal(w->act.type, MMP_ACT_USE_ENDED);
        assert_int_equal(w->act.error, -EINPROGRESS);
        world_free(w);
}

/* After a FAST handoff the kernel does not wait after its claim seq: a claim
 * seq that stays alone (the device stalled before kmmpd's first write) is
 * a silent heartbeat like any other, LOST by claim + W - margin. */
static void test_kernel_fast_silent_claim_seq_lost(void **state)
{
        struct world *w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
        const struct logent *l;
        struct usim u;
        mmp_usec_t claim;

        usim_kernel(&u, w->now, MMP_USEC_INFINITY);
        claim = u.claim_at;
        u.next = MMP_USEC_INFINITY;             /* kmmpd's writes never land */
        usim_run(w, &u, w->now + S(60));
        l = find(w, MMP_ACT_LOST);
        assert_non_null(l);
        assert_int_equal(l->error, -ESTALE);
        assert_true(u.last_write == claim);
        assert_true(l->at <= claim + FENCE);
        world_free(w);
}

/* ---- property: no false LOST, always a LOST in time --------------------- */

static void test_kernel_random_runs(void **state)
{
        unsigned false_lost = 0, late = 0;

        for (unsigned run = 0; run < 2000; run++) {
                struct world *w = handed_off(MMP_USER_KERNEL, MMP_HANDOFF_FAST, S(30));
                struct usim u;
                mmp_usec_t stop, beat_end;
                const struct logent *l = NULL;

                usim_kernel(&u, w->now, MMP_USEC_INFINITY);
                u.rs = 0x9E3779B97F4A7C15ull ^ ((uint64_t) run * 0xBF58476D1CE4E5B9ull);
                xs(&u.rs);
                u.claim_at = w->now + rnd(&u, 0, MS(500));
                u.claim_seq = (uint32_t) rnd(&u, 100, MMP_SEQ_MAX);
                u.kmmpd_at = u.claim_at + rnd(&u, MS(1), MS(200));   /* after CLEAN: no claim wait */
                u.next = u.kmmpd_at;
                u.interval = S(1);
                u.jitter = rnd(&u, 0, MS(300));
                u.lat_min = 0;
                u.lat_max = MS(300);
                stop = u.kmmpd_at + rnd(&u, S(5), S(40));
                u.stop_at = stop;
                beat_end = stop;
                /* kmmpd writes every second (+ jitter): never LOST */
                if (!usim_run(w, &u, beat_end))
                        false_lost++;
                /* it stops: LOST -ESTALE no later than the last write +
                 * W - margin, and no earlier than that minus what the
                 * reads cannot see (a read period plus its latency) */
                if (!false_lost) {
                        usim_run(w, &u, beat_end + S(60));
                        l = find(w, MMP_ACT_LOST);
                        if (!l || l->error != -ESTALE || l->at > u.last_write + FENCE ||
                            l->at < u.last_write + FENCE - S(1) - MS(300) ||
                            l->at != w->in_use.deadlines.fence_at)
                                late++;
                }
                assert_int_equal(count(w, MMP_ACT_IN_USE), 1);
                assert_int_equal(count(w, MMP_ACT_USE_ENDED), 0);
                world_free(w);
                if (false_lost || late)
                        fail_msg("run %u: false LOST %u, late/missing LOST %u", run, false_lost, late);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fast_handoff_writes_clean_then_never),
                cmocka_unit_test(test_handoff_deferred_while_beat_in_flight),
                cmocka_unit_test(test_handoff_deferred_while_beat_write_in_flight),
                cmocka_unit_test(test_handoff_block_changed_lost),
                cmocka_unit_test(test_handoff_bad_requests),
                cmocka_unit_test(test_wait_handoff_writes_nothing),
                cmocka_unit_test(test_wait_handoff_kernel_full_claim),
                cmocka_unit_test(test_kernel_user_may_use),
                cmocka_unit_test(test_kernel_raised_ci_not_counted_on),
                cmocka_unit_test(test_tool_end_read_records_the_users_write),
                cmocka_unit_test(test_end_read_sees_first_write),
                cmocka_unit_test(test_kernel_fast_silent_claim_seq_lost),
                cmocka_unit_test(test_kernel_heartbeat_stops_lost_at_deadline),
                cmocka_unit_test(test_kernel_hung_read_lost_by_timer),
                cmocka_unit_test(test_kernel_read_errors_retried_then_deadline),
                cmocka_unit_test(test_kernel_other_node_lost),
                cmocka_unit_test(test_kernel_seq_jump_lost),
                cmocka_unit_test(test_kernel_fsck_lost),
                cmocka_unit_test(test_corrupt_block_lost),
                cmocka_unit_test(test_kmmpd_wraps),
                cmocka_unit_test(test_kernel_unmount_ends_use),
                cmocka_unit_test(test_handoff_timeout_then_claim),
                cmocka_unit_test(test_tool_lifecycle),
                cmocka_unit_test(test_clear_fsck_claim),
                cmocka_unit_test(test_clear_fsck_other_node_refused),
                cmocka_unit_test(test_tool_other_node_lost),
                cmocka_unit_test(test_tool_exit_clean_and_seq),
                cmocka_unit_test(test_end_use_while_read_in_flight),
                cmocka_unit_test(test_end_use_handing_off_cancelled),
                cmocka_unit_test(test_release_in_use_ebusy),
                cmocka_unit_test(test_release_during_handoff_write),
                cmocka_unit_test(test_handoff_write_error),
                cmocka_unit_test(test_tool_read_errors_retried),
                cmocka_unit_test(test_kernel_random_runs),
        };

        return cmocka_run_group_tests_name("handoff and use", tests, NULL, NULL);
}
