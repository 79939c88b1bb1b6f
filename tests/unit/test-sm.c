/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The claim / heartbeat / release state machine under a fake clock and a
 * fake disk.  A tiny driver performs each action on an in-memory block,
 * advancing the clock to wake_at; faults are injected per test.
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
#define BS 4096

struct world {
        struct mmp_sb sb;
        uint8_t disk[BS];
        struct mmp_sm *sm;
        mmp_usec_t now;
        uint64_t wall;
        struct mmp_action act;
        unsigned reads, writes;
        /* faults */
        int fail_read, fail_write;     /* errno to return, 0 = none */
        int fail_count;                /* how many to fail; -1 forever */
        mmp_usec_t io_latency;         /* added to now on each completion */
        bool hang;                     /* the next I/O never completes */
        uint32_t rng;
};

static uint32_t fixed_rng(void *userdata)
{
        struct world *w = userdata;

        /* deterministic but varied; includes an out-of-range value first */
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

static struct world *world_new(unsigned upd, bool csum)
{
        struct world *w = calloc(1, sizeof(*w));
        struct mmp_sm_config cfg = {
                .nodename = "node-a",
                .bdevname = "sdb",
                .random_u32 = fixed_rng,
        };

        w->sb.block_size = BS;
        w->sb.blocks_count = 1000;
        w->sb.mmp_block = 100;
        w->sb.update_interval = upd;
        w->sb.metadata_csum = csum;
        w->sb.csum_seed = 0x12345678;
        w->now = S(1000);
        w->wall = 1700000000;
        w->rng = 7;
        memset(w->disk, 0xA5, BS);      /* the tail must survive our writes */
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

static void step(struct world *w, enum mmp_event_type type, int error)
{
        struct mmp_event ev = { .type = type, .now = w->now, .wall = w->wall, .error = error };

        if (type == MMP_EV_READ_DONE) {
                ev.data = w->disk;
                ev.len = BS;
        }
        mmp_sm_step(w->sm, &ev, &w->act);
}

static bool take_fault(struct world *w, int err)
{
        if (!err || w->fail_count == 0)
                return false;
        if (w->fail_count > 0)
                w->fail_count--;
        return true;
}

/* Perform I/O actions until the machine asks for time to pass or ends;
 * at most 3 per call, since on a slow device heartbeats run back to back. */
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

/* Deliver the timer at wake_at (or @at when earlier), then perform I/O. */
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

/* Run timers until the action is one of the terminal/claim outcomes. */
static void run_until(struct world *w, enum mmp_action_type want, mmp_usec_t limit)
{
        while (w->act.type != want) {
                assert_true(w->now < limit);
                assert_int_not_equal(w->act.type, MMP_ACT_REFUSED);
                assert_int_not_equal(w->act.type, MMP_ACT_LOST);
                tick(w);
        }
}

/* Run timers until the claim is decided (or @limit). */
static void run_until_end(struct world *w, mmp_usec_t limit)
{
        while (w->act.type != MMP_ACT_REFUSED && w->act.type != MMP_ACT_LOST &&
               w->act.type != MMP_ACT_CLAIMED && w->now < limit)
                tick(w);
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
}

/* ---- claim ------------------------------------------------------------- */

static void test_clean_still_waits(void **state)
{
        struct world *w = world_new(5, true);
        mmp_usec_t t0 = w->now, written_at;

        start(w, MMP_EV_CLAIM);
        /* CLEAN: no first wait, our seq is written at once ... */
        assert_int_equal(w->writes, 1);
        assert_int_equal(w->act.type, MMP_ACT_WAIT);
        assert_string_equal(disk_get(w).nodename, "node-a");
        assert_string_equal(disk_get(w).bdevname, "sdb");
        assert_int_equal(disk_get(w).check_interval, 10);       /* max(2u, 5) */
        written_at = w->now;
        /* ... but we ALWAYS wait W = 21 s (c = 10) after it, in rounds:
         * the seq is checked and rewritten every period (5 s). */
        assert_true(w->act.wait_end == written_at + S(21));
        assert_true(w->act.wake_at == written_at + S(5));
        w->now = written_at + S(4);
        step(w, MMP_EV_TIMER, 0);       /* early timer: nothing happens */
        assert_int_equal(w->act.type, MMP_ACT_NONE);
        assert_int_equal(w->reads, 1);
        run_until(w, MMP_ACT_CLAIMED, t0 + S(30));
        assert_true(w->now >= written_at + S(21));
        /* rounds at +5 and +10 (the last 2 periods before the final check
         * at +21), then the first heartbeat: seq+1 of the last round */
        assert_int_equal(w->writes, 4);
        assert_int_equal(disk_get(w).seq, status(w).seq);
        assert_true(status(w).last_good >= written_at + S(21));
        /* tail of the filesystem block untouched */
        assert_int_equal(w->disk[2000], 0xA5);
        assert_int_equal(w->disk[BS - 1], 0xA5);
        world_free(w);
}

/*
 * A peer (e2fsprogs, a kernel finding an active block) that reads our claim
 * seq at any moment, even 0-2 ms after it landed, watches it for W and must
 * see it change: from the claim write on, the block never stands still for
 * W.  (With one claim write and W of silence, a peer whose read landed right
 * after it re-read just before our first heartbeat and took the volume as
 * we reported it claimed.)
 */
static void test_claim_never_silent_for_w(void **state)
{
        static const unsigned upds[] = { 1, 2, 5, 9, 30 };

        for (size_t i = 0; i < sizeof(upds) / sizeof(upds[0]); i++) {
                struct world *w = world_new(upds[i], false);
                mmp_usec_t last, gap = 0, end, wait;
                unsigned n;

                start(w, MMP_EV_CLAIM);                 /* CLEAN: the claim write is done */
                assert_int_equal(w->writes, 1);
                last = w->now;
                n = w->writes;
                wait = (mmp_usec_t) mmp_wait_seconds(upds[i], disk_get(w).check_interval) * MMP_USEC_PER_SEC;
                end = w->now + 3 * wait;
                while (w->now < end) {
                        tick(w);
                        if (w->writes != n) {
                                if (w->now - last > gap)
                                        gap = w->now - last;
                                last = w->now;
                                n = w->writes;
                        }
                }
                assert_int_equal(status(w).state, MMP_STATE_HELD);
                /* every peer watching for W, from any offset, sees a change */
                if (gap >= wait)
                        fail_msg("update interval %u: the block stood still %.3f s, W is %.0f s",
                                 upds[i], (double) gap / 1e6, (double) wait / 1e6);
                world_free(w);
        }
}

/* Two claimants that both found CLEAN: the one overwritten backs off at its
 * next round, whatever the order; never both claim. */
static void test_claim_rounds_detect_concurrent_claimant(void **state)
{
        for (unsigned delay_ms = 0; delay_ms < 12000; delay_ms += 250) {
                struct world *w = world_new(1, false);
                struct mmp_block seen;

                start(w, MMP_EV_CLAIM);                 /* A writes its claim seq */
                w->now += (mmp_usec_t) delay_ms * 1000;
                /* B read CLEAN before A's write landed, then writes its own */
                disk_set(w, 0x777, "node-b", "sdc", 5);
                seen = disk_get(w);
                assert_string_equal(seen.nodename, "node-b");
                /* A must refuse at its next round or at its final check */
                run_until_end(w, w->now + S(40));
                assert_int_equal(w->act.type, MMP_ACT_REFUSED);
                assert_int_equal(w->act.error, -EBUSY);
                assert_string_equal(disk_get(w).nodename, "node-b");
                world_free(w);
        }
}

/* A read may lead to a write only while it is fresh: a claim stopped for
 * 22 s between its read of CLEAN and acting on it reads again (meanwhile a
 * tool may have claimed and written FSCK), and so does a verify acted on
 * 45 s late (found by tests/sim). */
static void test_stale_read_is_read_again(void **state)
{
        struct world *w = world_new(1, false);
        struct mmp_event ev = { .type = MMP_EV_CLAIM, .now = w->now, .wall = w->wall };

        mmp_sm_step(w->sm, &ev, &w->act);
        assert_int_equal(w->act.type, MMP_ACT_READ);
        /* the read sampled CLEAN; the process then stopped for 22 s and a
         * tool claimed meanwhile */
        w->now += S(22);
        step(w, MMP_EV_READ_DONE, 0);           /* delivers the CLEAN it read */
        assert_int_equal(w->act.type, MMP_ACT_READ);    /* not a write */
        disk_set(w, MMP_SEQ_FSCK, "toolhost", "sdb", 5);
        perform(w);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        assert_int_equal(w->act.error, -EINPROGRESS);
        assert_int_equal(w->writes, 0);
        world_free(w);

        /* the final verify acted on late: read again, and refuse a holder */
        w = world_new(1, false);
        start(w, MMP_EV_CLAIM);
        for (;;) {                              /* timers by hand, up to the verify read */
                if (w->act.wake_at > w->now)
                        w->now = w->act.wake_at;
                step(w, MMP_EV_TIMER, 0);
                if (w->act.type == MMP_ACT_READ && status(w).phase == MMP_PHASE_VERIFY)
                        break;
                perform(w);
                assert_int_equal(status(w).state, MMP_STATE_CLAIMING);
        }
        w->now += S(45);
        step(w, MMP_EV_READ_DONE, 0);           /* our seq, as read 45 s ago */
        assert_int_equal(w->act.type, MMP_ACT_READ);
        disk_set(w, 0x4242, "node-b", "sdc", 5);        /* node-b claimed meanwhile */
        perform(w);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        assert_string_equal(disk_get(w).nodename, "node-b");
        world_free(w);
}

static void test_active_unchanged_claims_after_two_waits(void **state)
{
        struct world *w = world_new(5, false);
        mmp_usec_t t0 = w->now;

        disk_set(w, 42, "node-b", "sdc", 10);
        start(w, MMP_EV_CLAIM);
        assert_int_equal(w->act.type, MMP_ACT_WAIT);
        assert_true(w->act.have_holder);
        assert_string_equal(w->act.holder.nodename, "node-b");
        assert_true(w->act.wake_at == t0 + S(21) + MMP_CLAIM_SLACK_USEC);
        assert_int_equal(w->writes, 0);
        run_until(w, MMP_ACT_CLAIMED, t0 + S(100));
        assert_true(w->now >= t0 + S(42));
        assert_string_equal(disk_get(w).nodename, "node-a");
        world_free(w);
}

static void test_changed_during_first_wait_refused(void **state)
{
        struct world *w = world_new(5, true);

        disk_set(w, 42, "node-b", "sdc", 10);
        start(w, MMP_EV_CLAIM);
        disk_set(w, 43, "node-b", "sdc", 10);   /* node-b heartbeats */
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        assert_int_equal(w->act.error, -EBUSY);
        assert_string_equal(w->act.holder.nodename, "node-b");
        assert_string_equal(w->act.holder.bdevname, "sdc");
        assert_int_equal(w->act.holder.seq, 43);
        assert_int_equal(w->writes, 0);          /* never wrote */
        assert_int_equal(status(w).state, MMP_STATE_REFUSED);
        world_free(w);
}

static void test_changed_during_second_wait_refused(void **state)
{
        struct world *w = world_new(1, true);

        start(w, MMP_EV_CLAIM);
        assert_int_equal(w->writes, 1);
        disk_set(w, 777, "node-b", "sdc", 5);    /* node-b raced us */
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        assert_int_equal(w->act.error, -EBUSY);
        assert_string_equal(w->act.holder.nodename, "node-b");
        assert_int_equal(w->writes, 1);          /* did not write again */
        world_free(w);
}

/* Discrete-event driver for two machines on one disk: each I/O takes the
 * world's latency and samples or lands on the disk when it completes. */
static mmp_usec_t sim_next(struct world *w, mmp_usec_t issued)
{
        if (w->act.type == MMP_ACT_READ || w->act.type == MMP_ACT_WRITE)
                return issued + w->io_latency;
        return w->act.wake_at;
}

static void sim_fire(struct world *w, uint8_t *disk, mmp_usec_t *issued, mmp_usec_t at)
{
        w->now = at;
        if (w->act.type == MMP_ACT_READ) {
                memcpy(w->disk, disk, BS);
                step(w, MMP_EV_READ_DONE, 0);
        } else if (w->act.type == MMP_ACT_WRITE) {
                memcpy(disk, w->act.data, BS);
                step(w, MMP_EV_WRITE_DONE, 0);
        } else {
                step(w, MMP_EV_TIMER, 0);
        }
        *issued = w->now;
}

/* B starts right after A's claim write landed and watches the block.  A is
 * silent for its post-write wait, then needs a verify read and a heartbeat
 * write: B's watch must outlast that, so B refuses and A keeps the volume
 * (without the slack B takes it and A is LOST a moment after CLAIMED). */
static void test_two_claimants_b_just_after_a(void **state)
{
        struct world *a = world_new(1, true), *b = world_new(1, true);
        struct mmp_sm_config cfg = {
                .sb = b->sb, .nodename = "node-b", .bdevname = "sdc",
                .random_u32 = fixed_rng, .userdata = b,
        };
        uint8_t disk[BS];
        mmp_usec_t ia, ib, t_a_written;

        mmp_sm_free(b->sm);
        b->rng = 99;
        assert_int_equal(mmp_sm_new(&cfg, &b->sm), 0);
        memcpy(disk, a->disk, BS);
        a->io_latency = 5000;                   /* 5 ms per I/O */
        b->io_latency = 0;

        step(a, MMP_EV_CLAIM, 0);               /* A: read ... */
        ia = a->now;
        sim_fire(a, disk, &ia, ia + a->io_latency);     /* CLEAN -> write */
        sim_fire(a, disk, &ia, ia + a->io_latency);     /* write lands: wait W */
        assert_int_equal(a->act.type, MMP_ACT_WAIT);
        t_a_written = a->now;

        b->now = t_a_written + 1000;            /* B: 1 ms after A's write landed */
        step(b, MMP_EV_CLAIM, 0);
        ib = b->now;

        for (int i = 0; i < 1000; i++) {
                mmp_usec_t na = sim_next(a, ia), nb = sim_next(b, ib);

                if (na == MMP_USEC_INFINITY && nb == MMP_USEC_INFINITY)
                        break;
                if (na <= nb)
                        sim_fire(a, disk, &ia, na);
                else
                        sim_fire(b, disk, &ib, nb);
                if (a->now > t_a_written + S(40))
                        break;
        }
        assert_int_equal(status(b).state, MMP_STATE_REFUSED);
        assert_string_equal(status(b).holder.nodename, "node-a");
        assert_int_equal(status(a).state, MMP_STATE_HELD);
        world_free(a);
        world_free(b);
}

static void test_same_seq_other_node_refused(void **state)
{
        struct world *w = world_new(1, false);

        start(w, MMP_EV_CLAIM);
        disk_set(w, disk_get(w).seq, "node-b", "sdc", 5);
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        assert_string_equal(w->act.holder.nodename, "node-b");
        world_free(w);
}

static void test_fsck_refused(void **state)
{
        struct world *w = world_new(5, true);

        disk_set(w, MMP_SEQ_FSCK, "fsckhost", "sdb", 5);
        start(w, MMP_EV_CLAIM);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        assert_int_equal(w->act.error, -EINPROGRESS);
        assert_non_null(strstr(w->act.reason, "clear_mmp"));
        assert_string_equal(w->act.holder.nodename, "fsckhost");
        assert_int_equal(w->writes, 0);
        world_free(w);
}

static void test_fsck_during_wait_refused(void **state)
{
        struct world *w = world_new(5, true);

        disk_set(w, 42, "node-b", "sdc", 10);
        start(w, MMP_EV_CLAIM);
        disk_set(w, MMP_SEQ_FSCK, "node-b", "sdc", 10);
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        assert_int_equal(w->act.error, -EINPROGRESS);
        world_free(w);
}

static void test_invalid_seq_refused(void **state)
{
        struct world *w = world_new(5, false);

        disk_set(w, MMP_SEQ_FSCK + 5, "x", "y", 5);
        start(w, MMP_EV_CLAIM);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        assert_int_equal(w->act.error, -EPROTO);
        assert_int_equal(w->writes, 0);
        world_free(w);
}

static void test_corrupt_block_refused(void **state)
{
        struct world *w = world_new(5, true);

        w->disk[0] ^= 0xFF;                      /* magic */
        start(w, MMP_EV_CLAIM);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        assert_int_equal(w->act.error, -EUCLEAN);
        world_free(w);

        w = world_new(5, true);
        w->disk[0x20] ^= 0x01;                   /* inside nodename: csum breaks */
        start(w, MMP_EV_CLAIM);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        assert_int_equal(w->act.error, -EBADMSG);
        assert_int_equal(w->writes, 0);
        world_free(w);
}

/*
 * A heartbeat's check read that returns our last write byte for byte is
 * decoded without computing its checksum again (take_block).  Any other
 * byte, checksummed or not, must take the full path: a broken checksum is
 * LOST, and a change past the struct (the rest of the fs block) is kept
 * in what we write next.
 */
static void test_heartbeat_read_compares_whole_block(void **state)
{
        struct world *w = world_new(5, true);
        unsigned writes;

        claim_ok(w);
        for (int i = 0; i < 3; i++)
                tick(w);
        assert_int_equal(status(w).state, MMP_STATE_HELD);
        /* Past the struct: not checksummed, not ours to change. */
        w->disk[BS - 1] ^= 0x5A;
        writes = w->writes;
        tick(w);
        assert_int_equal(status(w).state, MMP_STATE_HELD);
        assert_int_equal(w->writes, writes + 1);
        assert_int_equal(w->disk[BS - 1], 0xA5 ^ 0x5A);
        /* A pad byte inside the checksummed struct: the checksum breaks. */
        w->disk[0x200] ^= 0x01;
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -EBADMSG);
        world_free(w);
}

static void test_claim_io_errors_refused(void **state)
{
        struct world *w = world_new(5, true);

        w->fail_read = EIO;
        w->fail_count = 1;
        start(w, MMP_EV_CLAIM);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        assert_int_equal(w->act.error, -EIO);
        world_free(w);

        w = world_new(5, true);
        w->fail_write = EIO;
        w->fail_count = 1;
        start(w, MMP_EV_CLAIM);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        assert_int_equal(w->act.error, -EIO);
        world_free(w);
}

static void test_claim_again_after_refusal(void **state)
{
        struct world *w = world_new(1, true);

        disk_set(w, MMP_SEQ_FSCK, "fsckhost", "sdb", 5);
        start(w, MMP_EV_CLAIM);
        assert_int_equal(w->act.type, MMP_ACT_REFUSED);
        disk_set(w, MMP_SEQ_CLEAN, "fsckhost", "sdb", 5);
        claim_ok(w);
        world_free(w);
}

/* ---- heartbeat ----------------------------------------------------------- */

static void test_heartbeat_advances(void **state)
{
        struct world *w = world_new(5, true);
        uint32_t last;
        mmp_usec_t prev_good;

        claim_ok(w);
        last = disk_get(w).seq;
        prev_good = status(w).last_good;
        for (int i = 0; i < 12; i++) {
                tick(w);
                assert_int_equal(w->act.type, MMP_ACT_NONE);
                assert_int_equal(disk_get(w).seq, last + 1);
                assert_int_equal(status(w).seq, last + 1);
                /* one heartbeat per update interval, no drift */
                assert_true(status(w).last_good - prev_good == S(5));
                last++;
                prev_good = status(w).last_good;
        }
        /* deadlines follow the last write */
        assert_true(status(w).deadlines.fence_at == prev_good + S(21) - S(5));
        assert_true(status(w).deadlines.peer_use_at == prev_good + S(42));
        world_free(w);
}

static void test_spread_puts_beats_on_the_slot_grid(void **state)
{
        struct world *w = world_new(5, true);
        struct mmp_sm_config cfg = {
                .sb = w->sb, .nodename = "node-a", .bdevname = "sdb",
                .random_u32 = fixed_rng, .userdata = w,
                .spread = true, .slot = S(3) + 250000,     /* 3.25 s into each period */
        };
        mmp_usec_t prev;

        mmp_sm_free(w->sm);
        assert_int_equal(mmp_sm_new(&cfg, &w->sm), 0);
        claim_ok(w);
        prev = status(w).last_good;
        for (int i = 0; i < 6; i++) {
                tick(w);
                assert_int_equal(status(w).state, MMP_STATE_HELD);
                /* on the grid, and never more than one period apart */
                assert_true(status(w).last_good % S(5) == S(3) + 250000);
                assert_true(status(w).last_good - prev <= S(5));
                prev = status(w).last_good;
        }
        world_free(w);
}

static void test_rogue_write_lost_within_one_interval(void **state)
{
        struct world *w = world_new(5, true);
        mmp_usec_t rogue_at;

        claim_ok(w);
        tick(w);
        w->now += S(2);
        rogue_at = w->now;
        /* one-shot rogue write: our next write would hide it without the check read */
        disk_set(w, 5555, "node-b", "sdc", 10);
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -EBUSY);
        assert_string_equal(w->act.holder.nodename, "node-b");
        assert_int_equal(w->act.holder.seq, 5555);
        assert_true(w->now - rogue_at <= S(5));
        assert_int_equal(disk_get(w).seq, 5555); /* we did not overwrite it */
        assert_int_equal(status(w).state, MMP_STATE_LOST);
        /* a lost volume is never written again, not even by release */
        unsigned writes = w->writes;
        start(w, MMP_EV_RELEASE);
        assert_int_equal(w->writes, writes);
        assert_int_equal(disk_get(w).seq, 5555);
        world_free(w);
}

static void test_write_error_lost_at_fence_deadline(void **state)
{
        struct world *w = world_new(5, true);
        mmp_usec_t good, fence;

        claim_ok(w);
        good = status(w).last_good;
        fence = status(w).deadlines.fence_at;
        assert_true(fence == good + S(16));
        w->fail_write = EIO;
        w->fail_count = -1;
        while (w->act.type != MMP_ACT_LOST) {
                assert_true(w->now <= fence);
                assert_int_equal(status(w).state, MMP_STATE_HELD);
                tick(w);
        }
        assert_int_equal(w->act.error, -ETIMEDOUT);
        assert_true(w->now == fence);
        assert_true(status(w).failures >= 3);    /* retried, not given up early */
        world_free(w);
}

static void test_read_error_lost_at_fence_deadline(void **state)
{
        struct world *w = world_new(5, false);
        mmp_usec_t fence;

        claim_ok(w);
        fence = status(w).deadlines.fence_at;
        w->fail_read = EIO;
        w->fail_count = -1;
        while (w->act.type != MMP_ACT_LOST)
                tick(w);
        assert_true(w->now == fence);
        assert_int_equal(w->act.error, -ETIMEDOUT);
        world_free(w);
}

static void test_transient_error_recovers(void **state)
{
        struct world *w = world_new(5, true);

        claim_ok(w);
        w->fail_write = EIO;
        w->fail_count = 2;
        for (int i = 0; i < 6; i++)
                tick(w);
        assert_int_equal(status(w).state, MMP_STATE_HELD);
        assert_int_equal(status(w).failures, 0);
        assert_int_equal(disk_get(w).seq, status(w).seq);
        world_free(w);
}

static void test_hung_io_lost_at_deadline(void **state)
{
        struct world *w = world_new(5, true);
        mmp_usec_t fence;

        claim_ok(w);
        fence = status(w).deadlines.fence_at;
        w->hang = true;
        tick(w);                                 /* check read issued, never completes */
        assert_int_equal(w->act.type, MMP_ACT_READ);
        assert_true(w->act.wake_at == fence);    /* armed while the I/O hangs */
        w->now = fence - 1;
        step(w, MMP_EV_TIMER, 0);               /* not yet */
        assert_int_equal(w->act.type, MMP_ACT_NONE);
        w->now = fence;
        step(w, MMP_EV_TIMER, 0);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -ETIMEDOUT);
        /* the late completion is ignored */
        step(w, MMP_EV_READ_DONE, 0);
        assert_int_equal(w->act.type, MMP_ACT_NONE);
        assert_int_equal(status(w).state, MMP_STATE_LOST);
        world_free(w);
}

static void test_timed_out_write_that_landed_is_ours(void **state)
{
        struct world *w = world_new(5, true);
        struct mmp_event ev = { .type = MMP_EV_IO_ERROR, .error = -ETIMEDOUT };

        claim_ok(w);
        /* The write lands but is reported late as a timeout: next cycle's
         * check must still recognise the seq as ours. */
        w->now = w->act.wake_at;
        step(w, MMP_EV_TIMER, 0);
        step(w, MMP_EV_READ_DONE, 0);
        assert_int_equal(w->act.type, MMP_ACT_WRITE);
        memcpy(w->disk, w->act.data, BS);
        ev.now = w->now;
        mmp_sm_step(w->sm, &ev, &w->act);
        assert_int_equal(w->act.type, MMP_ACT_NONE);
        tick(w);
        assert_int_equal(status(w).state, MMP_STATE_HELD);
        assert_int_equal(status(w).failures, 0);
        world_free(w);
}

static void test_slow_writes_raise_check_interval(void **state)
{
        struct world *w = world_new(5, true);
        mmp_usec_t good;

        claim_ok(w);
        w->io_latency = S(8) / 2;                /* 4 s per I/O */
        tick(w);
        tick(w);
        good = status(w).last_good;
        /* 2 x 4 s = 8 < 10 floor; now 7 s per I/O, longer than the
         * update interval: check_interval rises and the hold survives. */
        w->io_latency = S(7);
        for (int i = 0; i < 10; i++)
                tick(w);
        assert_int_equal(status(w).state, MMP_STATE_HELD);
        assert_int_equal(disk_get(w).check_interval, 14);
        assert_true(status(w).deadlines.wait_s == 29);       /* 2 x 14 + 1 */
        assert_true(status(w).last_good > good);
        /* and falls back once the device is fast again */
        w->io_latency = 0;
        for (int i = 0; i < 4; i++)
                tick(w);
        assert_int_equal(disk_get(w).check_interval, 10);
        assert_int_equal(status(w).state, MMP_STATE_HELD);
        world_free(w);
}

static void test_short_stop_no_fence_long_stop_fences(void **state)
{
        struct world *w = world_new(5, true);
        mmp_usec_t fence;

        claim_ok(w);
        fence = status(w).deadlines.fence_at;
        /* stopped for 8 s: timer delivered late, still before the deadline */
        w->now = status(w).next_heartbeat + S(8);
        assert_true(w->now < fence);
        step(w, MMP_EV_TIMER, 0);
        perform(w);
        assert_int_equal(status(w).state, MMP_STATE_HELD);

        /* stopped past the deadline: LOST without writing anything */
        fence = status(w).deadlines.fence_at;
        unsigned writes = w->writes;
        w->now = fence + S(1);
        step(w, MMP_EV_TIMER, 0);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -ETIMEDOUT);
        assert_int_equal(w->writes, writes);
        world_free(w);
}

static void test_completion_after_deadline_never_writes(void **state)
{
        struct world *w = world_new(5, true);
        unsigned writes;

        claim_ok(w);
        w->now = w->act.wake_at;
        step(w, MMP_EV_TIMER, 0);               /* check read issued */
        writes = w->writes;
        w->now = status(w).deadlines.fence_at;  /* completion handled late */
        step(w, MMP_EV_READ_DONE, 0);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->writes, writes);
        world_free(w);
}

static void test_seq_wraps_below_max(void **state)
{
        struct world *w = world_new(5, true);
        struct mmp_event ev = { .type = MMP_EV_RESUME, .seq = MMP_SEQ_MAX - 1, .check_interval = 10 };

        disk_set(w, MMP_SEQ_MAX - 1, "node-a", "sdb", 10);
        ev.now = w->now;
        mmp_sm_step(w->sm, &ev, &w->act);
        perform(w);
        assert_int_equal(w->act.type, MMP_ACT_CLAIMED);
        assert_int_equal(disk_get(w).seq, MMP_SEQ_MAX);
        tick(w);
        assert_int_equal(disk_get(w).seq, 1);
        tick(w);
        assert_int_equal(disk_get(w).seq, 2);
        assert_int_equal(status(w).state, MMP_STATE_HELD);
        world_free(w);
}

/* ---- two I/Os per beat: what the check read must still catch ---------------- */

/*
 * An event-driven disk: every I/O takes @lat; a read samples the disk and a
 * write lands half-way, its completion comes at the end.  A foreign write
 * ("rogue": node-b, seq 5555) lands at rogue_at.
 */
struct ed {
        struct world *w;
        mmp_usec_t lat;
        bool busy, effected, is_write;
        mmp_usec_t submit;
        uint8_t buf[BS];
        mmp_usec_t rogue_at;         /* MMP_USEC_INFINITY: none */
        bool rogue_done;
        mmp_usec_t last_sample;      /* when our last read sampled the disk */
        mmp_usec_t hidden_window;    /* a write of ours hid the rogue: its land - last_sample */
        bool hidden;
        unsigned reads, writes;
        mmp_usec_t mark;             /* ed_beat: last_good before the beat */
};

static bool disk_is_rogue(struct world *w)
{
        struct mmp_block b;

        return mmp_block_decode(&w->sb, w->disk, BS, &b) == 0 && strcmp(b.nodename, "node-b") == 0;
}

static void ed_step(struct ed *e, enum mmp_event_type type)
{
        struct mmp_event ev = { .type = type, .now = e->w->now, .wall = e->w->wall };

        if (type == MMP_EV_READ_DONE) {
                ev.data = e->buf;
                ev.len = BS;
        }
        mmp_sm_step(e->w->sm, &ev, &e->w->act);
        if (e->w->act.type == MMP_ACT_READ || e->w->act.type == MMP_ACT_WRITE) {
                assert_false(e->busy);          /* one I/O at a time */
                e->busy = true;
                e->effected = false;
                e->is_write = e->w->act.type == MMP_ACT_WRITE;
                e->submit = e->w->now;
                if (e->is_write) {
                        memcpy(e->buf, e->w->act.data, BS);
                        e->writes++;
                } else {
                        e->reads++;
                }
        }
}

/* Run events until @stop says so or the clock passes @limit. */
static void ed_run(struct ed *e, bool (*stop)(struct ed *e), mmp_usec_t limit)
{
        struct world *w = e->w;

        for (int n = 0; n < 100000 && !stop(e); n++) {
                mmp_usec_t t_io = !e->busy ? MMP_USEC_INFINITY :
                                  e->effected ? e->submit + e->lat : e->submit + e->lat / 2;
                mmp_usec_t t_rogue = e->rogue_done ? MMP_USEC_INFINITY : e->rogue_at;
                mmp_usec_t t_timer = w->act.wake_at;

                assert_true(t_io != MMP_USEC_INFINITY || t_timer != MMP_USEC_INFINITY ||
                            t_rogue != MMP_USEC_INFINITY);
                if (t_rogue <= t_io && t_rogue <= t_timer) {
                        if (t_rogue > limit)
                                return;
                        w->now = t_rogue;
                        disk_set(w, 5555, "node-b", "sdc", 10);
                        e->rogue_done = true;
                } else if (t_io <= t_timer) {
                        if (t_io > limit)
                                return;
                        w->now = t_io;
                        if (!e->effected) {
                                e->effected = true;
                                if (!e->is_write) {
                                        memcpy(e->buf, w->disk, BS);
                                        e->last_sample = w->now;
                                } else {
                                        if (disk_is_rogue(w) && !e->hidden) {
                                                e->hidden = true;
                                                e->hidden_window = w->now - e->last_sample;
                                        }
                                        memcpy(w->disk, e->buf, BS);
                                }
                        } else {
                                e->busy = false;
                                ed_step(e, e->is_write ? MMP_EV_WRITE_DONE : MMP_EV_READ_DONE);
                        }
                } else {
                        if (t_timer > limit)
                                return;
                        if (t_timer > w->now)
                                w->now = t_timer;
                        ed_step(e, MMP_EV_TIMER);
                }
        }
}

static bool ed_claimed(struct ed *e)
{
        assert_int_not_equal(e->w->act.type, MMP_ACT_REFUSED);
        return e->w->act.type == MMP_ACT_CLAIMED;
}

static bool ed_lost(struct ed *e)
{
        return e->w->act.type == MMP_ACT_LOST;
}

static bool ed_beat_done(struct ed *e)
{
        assert_int_not_equal(e->w->act.type, MMP_ACT_LOST);
        return !e->busy && status(e->w).last_good > e->mark;
}

/* Run until the next heartbeat's write has completed. */
static void ed_beat(struct ed *e)
{
        e->mark = status(e->w).last_good;
        ed_run(e, ed_beat_done, e->w->now + S(100));
        assert_true(status(e->w).last_good > e->mark);
}

/* A hold in steady state: claimed, then @beats heartbeats. */
static struct ed ed_hold(unsigned upd, mmp_usec_t lat, unsigned beats)
{
        struct ed e = { .w = world_new(upd, true), .lat = lat, .rogue_at = MMP_USEC_INFINITY };

        ed_step(&e, MMP_EV_CLAIM);
        ed_run(&e, ed_claimed, e.w->now + S(200));
        assert_int_equal(e.w->act.type, MMP_ACT_CLAIMED);
        for (unsigned i = 0; i < beats; i++)
                ed_beat(&e);
        assert_int_equal(status(e.w).state, MMP_STATE_HELD);
        return e;
}

/* Steady state: each beat is one check read and one write, the read right
 * before the write, and the write moves the deadline one period on. */
static void test_two_ios_per_beat(void **state)
{
        static const unsigned upds[] = { 1, 5, 30 };
        static const mmp_usec_t lats[] = { 0, 20000, 700000 };

        for (size_t i = 0; i < sizeof(upds) / sizeof(upds[0]); i++)
                for (size_t j = 0; j < sizeof(lats) / sizeof(lats[0]); j++) {
                        struct ed e = ed_hold(upds[i], lats[j], 2);
                        mmp_usec_t period = mmp_heartbeat_period(upds[i], disk_get(e.w).check_interval, 0);

                        for (int beat = 0; beat < 20; beat++) {
                                unsigned r = e.reads, wr = e.writes;
                                mmp_usec_t good = status(e.w).last_good, at = status(e.w).next_heartbeat;
                                /* a beat longer than the period: the next one at once */
                                mmp_usec_t gap = period >= 2 * lats[j] ? period : 2 * lats[j];

                                if (at < e.w->now)
                                        at = e.w->now;

                                ed_beat(&e);
                                assert_int_equal(e.reads - r, 1);
                                assert_int_equal(e.writes - wr, 1);
                                /* the write follows its check read at once, and
                                 * beats are one period apart (no drift) */
                                assert_true(status(e.w).last_good == at + lats[j]);
                                assert_true(status(e.w).last_good - good == gap);
                                assert_int_equal(disk_get(e.w).seq, status(e.w).seq);
                                assert_int_equal(status(e.w).state, MMP_STATE_HELD);
                        }
                        world_free(e.w);
                }
}

/*
 * A foreign write at every offset of a beat period (10 ms steps, 20 ms per
 * I/O, sampled or landed half-way): it is either seen by a check read and
 * LOST, never written over, within period - I/O time / 2; or it landed
 * between a check read's sample and the write that read justified (the
 * one window no read-before-write protocol closes), at most one I/O time.
 * Both are what the 3-I/O beat (check, write, read-back) had: its worst
 * case was a write landing just after the read-back's sample, seen by the
 * next check read, which then came one period after the write was asked
 * for, so one read later than now.  The bound is far inside W - margin.
 */
static void test_rogue_write_detected_at_every_offset(void **state)
{
        static const unsigned upds[] = { 1, 5 };
        const mmp_usec_t lat = 20000, step_us = 10000;

        for (size_t i = 0; i < sizeof(upds) / sizeof(upds[0]); i++) {
                struct ed base = ed_hold(upds[i], lat, 2);
                struct mmp_sm_status st = status(base.w);
                mmp_usec_t period = mmp_heartbeat_period(upds[i], st.check_interval, 0);
                mmp_usec_t t0 = st.next_heartbeat;      /* the next beat's check read */
                mmp_usec_t worst = 0, bound = period - lat / 2;
                unsigned hidden = 0, n = 0;

                world_free(base.w);
                assert_true(bound < st.deadlines.fence_at - st.last_good);     /* W - margin */
                for (mmp_usec_t x = 0; x < period; x += step_us, n++) {
                        struct ed e = ed_hold(upds[i], lat, 2);
                        mmp_usec_t d;

                        assert_true(status(e.w).next_heartbeat == t0);  /* the same run each time */
                        e.rogue_at = t0 + x;
                        ed_run(&e, ed_lost, t0 + x + 3 * period);
                        if (e.hidden) {
                                /* overwritten unseen: only between a check read and its write */
                                assert_true(e.hidden_window <= lat);
                                assert_int_equal(status(e.w).state, MMP_STATE_HELD);
                                hidden++;
                                world_free(e.w);
                                continue;
                        }
                        assert_int_equal(e.w->act.type, MMP_ACT_LOST);
                        assert_int_equal(e.w->act.error, -EBUSY);
                        assert_int_equal(e.w->act.holder.seq, 5555);
                        assert_true(disk_is_rogue(e.w));        /* never written over */
                        d = e.w->now - e.rogue_at;
                        if (d > worst)
                                worst = d;
                        if (d > bound)
                                fail_msg("update interval %u: a foreign write at +%.3f s seen after %.3f s (bound %.3f s)",
                                         upds[i], (double) x / 1e6, (double) d / 1e6, (double) bound / 1e6);
                        world_free(e.w);
                }
                /* the unseen window is one I/O time, not a period */
                assert_true(hidden <= lat / step_us + 1);
                assert_true(hidden < n);
                print_message("# update interval %u: %u offsets, worst detection %.3f s (bound %.3f s, "
                              "W - margin %.3f s), %u unseen\n", upds[i], n, (double) worst / 1e6,
                              (double) bound / 1e6, (double) (st.deadlines.fence_at - st.last_good) / 1e6, hidden);
        }
}

/* A device that acknowledges a write it never made: the next check read
 * finds our previous seq and the volume is LOST then, one period later,
 * without writing again (the 3-I/O beat's read-back found it at once; a
 * peer still needs W of silence from the last landed write). */
static void test_dropped_write_lost_at_next_check(void **state)
{
        struct world *w = world_new(5, true);
        mmp_usec_t acked, fence;
        uint32_t landed;
        unsigned writes;

        claim_ok(w);
        tick(w);
        landed = disk_get(w).seq;
        w->now = w->act.wake_at;
        step(w, MMP_EV_TIMER, 0);
        assert_int_equal(w->act.type, MMP_ACT_READ);
        step(w, MMP_EV_READ_DONE, 0);
        assert_int_equal(w->act.type, MMP_ACT_WRITE);
        acked = w->now;
        step(w, MMP_EV_WRITE_DONE, 0);          /* acknowledged, never landed */
        assert_int_equal(w->act.type, MMP_ACT_NONE);
        assert_int_equal(disk_get(w).seq, landed);
        fence = status(w).deadlines.fence_at;
        writes = w->writes;
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.holder.seq, landed);
        assert_true(w->now - acked <= S(5));
        assert_true(w->now < fence);
        assert_int_equal(w->writes, writes);
        world_free(w);
}

/*
 * Stalls at every point of the 2-I/O beat.  Past the fence deadline
 * nothing is written; a check read completed more than W/2 after it was
 * asked for is read again before any write (a foreign write made during
 * the stall is then seen, not overwritten).
 */
static void test_stall_fences_without_writing(void **state)
{
        struct world *w = world_new(1, true);   /* W 11 s, margin 2 s, period 1 s */
        mmp_usec_t fence, asked;
        unsigned writes;

        /* stopped while idle: the late timer finds the deadline passed */
        claim_ok(w);
        tick(w);
        fence = status(w).deadlines.fence_at;
        writes = w->writes;
        w->now = fence + S(3);
        step(w, MMP_EV_TIMER, 0);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -ETIMEDOUT);
        assert_int_equal(w->writes, writes);
        {
                struct mmp_sm_status st = status(w);

                assert_false(mmp_sm_may_use(&st, w->now, NULL));
        }
        world_free(w);

        /* stopped between the check read and its completion, past the deadline */
        w = world_new(1, true);
        claim_ok(w);
        tick(w);
        w->now = w->act.wake_at;
        step(w, MMP_EV_TIMER, 0);
        assert_int_equal(w->act.type, MMP_ACT_READ);
        w->now = status(w).deadlines.fence_at + S(1);
        step(w, MMP_EV_READ_DONE, 0);           /* our seq, as read before the stop */
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -ETIMEDOUT);
        world_free(w);

        /* stopped for 6 s (> W/2) after the check read, before the deadline:
         * node-b wrote meanwhile; the old read is not acted on */
        w = world_new(1, true);
        claim_ok(w);
        tick(w);
        w->now = w->act.wake_at;
        asked = w->now;
        step(w, MMP_EV_TIMER, 0);
        assert_int_equal(w->act.type, MMP_ACT_READ);
        writes = w->writes;
        w->now = asked + S(6);
        assert_true(w->now < status(w).deadlines.fence_at);
        step(w, MMP_EV_READ_DONE, 0);           /* delivers our seq, read 6 s ago */
        assert_int_equal(w->act.type, MMP_ACT_READ);   /* read again, no write */
        assert_int_equal(status(w).phase, MMP_PHASE_HB_CHECK);
        disk_set(w, 5555, "node-b", "sdc", 10);
        perform(w);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -EBUSY);
        assert_int_equal(w->writes, writes);
        assert_int_equal(disk_get(w).seq, 5555);
        world_free(w);

        /* stopped while our write was in flight, past its own new deadline:
         * the completion moves nothing forward that is usable, and the next
         * timer is LOST with no more I/O */
        w = world_new(1, true);
        claim_ok(w);
        tick(w);
        w->now = w->act.wake_at;
        step(w, MMP_EV_TIMER, 0);
        step(w, MMP_EV_READ_DONE, 0);
        assert_int_equal(w->act.type, MMP_ACT_WRITE);
        asked = w->now;
        memcpy(w->disk, w->act.data, BS);
        w->now = asked + S(12);                 /* W 11 s: past any deadline of this write */
        step(w, MMP_EV_WRITE_DONE, 0);
        {
                struct mmp_sm_status st = status(w);

                assert_false(mmp_sm_may_use(&st, w->now, NULL));
        }
        assert_int_not_equal(w->act.type, MMP_ACT_READ);
        assert_int_not_equal(w->act.type, MMP_ACT_WRITE);
        writes = w->writes;
        tick(w);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -ETIMEDOUT);
        assert_int_equal(w->writes, writes);
        world_free(w);
}

/* A write that lowers check_interval shortens the peers' wait as soon as it
 * lands, before its completion is handled: from its submission on, the
 * deadline counts on the shorter wait (tests/sim found a stopped holder
 * whose block said ci 17, then 5, still saying may_use 24 s too long). */
static void test_lower_check_interval_deadline_at_submit(void **state)
{
        struct world *w = world_new(5, true);
        struct mmp_block next;
        mmp_usec_t fence_before;

        claim_ok(w);
        w->io_latency = S(7);                   /* slow: ci rises to 14, W 29 */
        for (int i = 0; i < 4; i++)
                tick(w);
        assert_int_equal(disk_get(w).check_interval, 14);
        w->io_latency = 0;
        for (int i = 0; i < 10; i++) {
                w->now = w->act.wake_at > w->now ? w->act.wake_at : w->now;
                step(w, MMP_EV_TIMER, 0);
                assert_int_equal(w->act.type, MMP_ACT_READ);
                fence_before = status(w).deadlines.fence_at;
                step(w, MMP_EV_READ_DONE, 0);
                assert_int_equal(w->act.type, MMP_ACT_WRITE);
                assert_int_equal(mmp_block_decode(&w->sb, w->act.data, BS, &next), 0);
                if (next.check_interval < status(w).check_interval)
                        break;
                memcpy(w->disk, w->act.data, BS);
                step(w, MMP_EV_WRITE_DONE, 0);
        }
        assert_int_equal(next.check_interval, 10);              /* W 21 */
        /* submitted, not completed: a peer may see ci 10 from now on */
        assert_true(status(w).deadlines.fence_at == w->now + S(21) - S(5));
        assert_true(status(w).deadlines.fence_at < fence_before);
        memcpy(w->disk, w->act.data, BS);                       /* it lands ... */
        w->now += S(17);                                        /* ... and we stop */
        {
                struct mmp_sm_status st = status(w);

                assert_false(mmp_sm_may_use(&st, w->now, NULL));
        }
        step(w, MMP_EV_TIMER, 0);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -ETIMEDOUT);
        world_free(w);
}

/* A resume without a known deadline (last_good 0) is a claim: its check
 * read, acted on long after it was asked for, is read again first. */
static void test_resume_stale_check_read_again(void **state)
{
        struct world *w = world_new(5, true);
        struct mmp_event ev = { .type = MMP_EV_RESUME, .seq = 300, .check_interval = 10 };

        disk_set(w, 300, "node-a", "sdb", 10);
        ev.now = w->now;
        mmp_sm_step(w->sm, &ev, &w->act);
        assert_int_equal(w->act.type, MMP_ACT_READ);
        w->now += S(60);                        /* stopped: node-b claimed meanwhile */
        step(w, MMP_EV_READ_DONE, 0);           /* our seq, as read 60 s ago */
        assert_int_equal(w->act.type, MMP_ACT_READ);
        disk_set(w, 9000, "node-b", "sdc", 10);
        perform(w);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -EBUSY);
        assert_int_equal(w->writes, 0);
        world_free(w);
}

/* ---- resume ------------------------------------------------------------- */

static void test_resume_no_wait(void **state)
{
        struct world *w = world_new(5, true);
        struct mmp_event ev = { .type = MMP_EV_RESUME, .seq = 300, .check_interval = 10 };
        mmp_usec_t t0 = w->now;

        disk_set(w, 300, "node-a", "sdb", 10);
        ev.now = w->now;
        ev.last_good = w->now - S(3);
        mmp_sm_step(w->sm, &ev, &w->act);
        perform(w);
        assert_int_equal(w->act.type, MMP_ACT_CLAIMED);
        assert_true(w->now == t0);               /* no claim wait at all */
        assert_int_equal(disk_get(w).seq, 301);
        world_free(w);
}

static void test_resume_other_holder_lost(void **state)
{
        struct world *w = world_new(5, true);
        struct mmp_event ev = { .type = MMP_EV_RESUME, .seq = 300, .check_interval = 10 };

        disk_set(w, 9000, "node-b", "sdc", 10);
        ev.now = w->now;
        mmp_sm_step(w->sm, &ev, &w->act);
        perform(w);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -EBUSY);
        assert_string_equal(w->act.holder.nodename, "node-b");
        assert_int_equal(w->writes, 0);
        world_free(w);
}

static void test_resume_past_deadline_lost(void **state)
{
        struct world *w = world_new(5, true);
        struct mmp_event ev = { .type = MMP_EV_RESUME, .seq = 300, .check_interval = 10 };

        disk_set(w, 300, "node-a", "sdb", 10);
        ev.now = w->now;
        ev.last_good = w->now - S(17);          /* fence at +16 */
        mmp_sm_step(w->sm, &ev, &w->act);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->act.error, -ETIMEDOUT);
        assert_int_equal(w->reads + w->writes, 0);
        world_free(w);
}

/* ---- release ------------------------------------------------------------ */

static void test_release_writes_clean(void **state)
{
        struct world *w = world_new(5, true);

        claim_ok(w);
        start(w, MMP_EV_RELEASE);
        assert_int_equal(w->act.type, MMP_ACT_RELEASED);
        assert_int_equal(w->act.error, 0);
        assert_int_equal(disk_get(w).seq, MMP_SEQ_CLEAN);
        assert_string_equal(disk_get(w).nodename, "node-a");
        assert_int_equal(status(w).state, MMP_STATE_RELEASED);
        assert_true(w->act.wake_at == MMP_USEC_INFINITY);
        world_free(w);
}

static void test_release_not_ours_never_writes(void **state)
{
        struct world *w = world_new(5, true);
        unsigned writes;

        claim_ok(w);
        disk_set(w, 4242, "node-b", "sdc", 10);
        writes = w->writes;
        start(w, MMP_EV_RELEASE);
        assert_int_equal(w->act.type, MMP_ACT_LOST);
        assert_int_equal(w->writes, writes);
        assert_int_equal(disk_get(w).seq, 4242);
        world_free(w);
}

static void test_release_during_first_wait(void **state)
{
        struct world *w = world_new(5, true);

        disk_set(w, 42, "node-b", "sdc", 10);
        start(w, MMP_EV_CLAIM);
        start(w, MMP_EV_RELEASE);
        assert_int_equal(w->act.type, MMP_ACT_RELEASED);
        assert_int_equal(w->writes, 0);
        assert_int_equal(disk_get(w).seq, 42);
        world_free(w);
}

static void test_release_during_second_wait(void **state)
{
        struct world *w = world_new(5, true);

        start(w, MMP_EV_CLAIM);
        assert_int_equal(w->act.type, MMP_ACT_WAIT);
        start(w, MMP_EV_RELEASE);
        assert_int_equal(w->act.type, MMP_ACT_RELEASED);
        assert_int_equal(disk_get(w).seq, MMP_SEQ_CLEAN);
        world_free(w);
}

static void test_release_while_io_in_flight(void **state)
{
        struct world *w = world_new(5, true);

        claim_ok(w);
        w->now = w->act.wake_at;
        step(w, MMP_EV_TIMER, 0);
        assert_int_equal(w->act.type, MMP_ACT_READ);  /* heartbeat check in flight */
        step(w, MMP_EV_RELEASE, 0);
        assert_int_equal(w->act.type, MMP_ACT_NONE);  /* deferred */
        step(w, MMP_EV_READ_DONE, 0);
        perform(w);
        assert_int_equal(w->act.type, MMP_ACT_RELEASED);
        assert_int_equal(disk_get(w).seq, MMP_SEQ_CLEAN);
        world_free(w);
}

static void test_release_write_error_reported(void **state)
{
        struct world *w = world_new(5, true);

        claim_ok(w);
        w->fail_write = EIO;
        w->fail_count = 1;
        start(w, MMP_EV_RELEASE);
        assert_int_equal(w->act.type, MMP_ACT_RELEASED);
        assert_int_equal(w->act.error, -EIO);
        assert_int_equal(status(w).state, MMP_STATE_RELEASED);
        world_free(w);
}

static void test_bad_events_rejected(void **state)
{
        struct world *w = world_new(5, true);
        struct mmp_event ev = { .type = MMP_EV_WRITE_DONE, .now = w->now };

        assert_int_equal(mmp_sm_step(w->sm, &ev, &w->act), -EINVAL);
        assert_int_equal(w->act.type, MMP_ACT_NONE);
        claim_ok(w);
        ev.type = MMP_EV_CLAIM;
        assert_int_equal(mmp_sm_step(w->sm, &ev, &w->act), -EINVAL);
        assert_int_equal(status(w).state, MMP_STATE_HELD);
        world_free(w);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_clean_still_waits),
                cmocka_unit_test(test_claim_never_silent_for_w),
                cmocka_unit_test(test_claim_rounds_detect_concurrent_claimant),
                cmocka_unit_test(test_stale_read_is_read_again),
                cmocka_unit_test(test_active_unchanged_claims_after_two_waits),
                cmocka_unit_test(test_changed_during_first_wait_refused),
                cmocka_unit_test(test_changed_during_second_wait_refused),
                cmocka_unit_test(test_two_claimants_b_just_after_a),
                cmocka_unit_test(test_same_seq_other_node_refused),
                cmocka_unit_test(test_fsck_refused),
                cmocka_unit_test(test_fsck_during_wait_refused),
                cmocka_unit_test(test_invalid_seq_refused),
                cmocka_unit_test(test_corrupt_block_refused),
                cmocka_unit_test(test_heartbeat_read_compares_whole_block),
                cmocka_unit_test(test_claim_io_errors_refused),
                cmocka_unit_test(test_claim_again_after_refusal),
                cmocka_unit_test(test_heartbeat_advances),
                cmocka_unit_test(test_spread_puts_beats_on_the_slot_grid),
                cmocka_unit_test(test_rogue_write_lost_within_one_interval),
                cmocka_unit_test(test_write_error_lost_at_fence_deadline),
                cmocka_unit_test(test_read_error_lost_at_fence_deadline),
                cmocka_unit_test(test_transient_error_recovers),
                cmocka_unit_test(test_hung_io_lost_at_deadline),
                cmocka_unit_test(test_timed_out_write_that_landed_is_ours),
                cmocka_unit_test(test_slow_writes_raise_check_interval),
                cmocka_unit_test(test_short_stop_no_fence_long_stop_fences),
                cmocka_unit_test(test_completion_after_deadline_never_writes),
                cmocka_unit_test(test_seq_wraps_below_max),
                cmocka_unit_test(test_two_ios_per_beat),
                cmocka_unit_test(test_rogue_write_detected_at_every_offset),
                cmocka_unit_test(test_dropped_write_lost_at_next_check),
                cmocka_unit_test(test_stall_fences_without_writing),
                cmocka_unit_test(test_resume_stale_check_read_again),
                cmocka_unit_test(test_lower_check_interval_deadline_at_submit),
                cmocka_unit_test(test_resume_no_wait),
                cmocka_unit_test(test_resume_other_holder_lost),
                cmocka_unit_test(test_resume_past_deadline_lost),
                cmocka_unit_test(test_release_writes_clean),
                cmocka_unit_test(test_release_not_ours_never_writes),
                cmocka_unit_test(test_release_during_first_wait),
                cmocka_unit_test(test_release_during_second_wait),
                cmocka_unit_test(test_release_while_io_in_flight),
                cmocka_unit_test(test_release_write_error_reported),
                cmocka_unit_test(test_bad_events_rejected),
        };

        return cmocka_run_group_tests_name("state machine", tests, NULL, NULL);
}
