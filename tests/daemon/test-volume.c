/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's middle under cmocka: mmpd/volume.c and mmpd/manager.c with
 * the real BOOTTIME timer heap (mmpd/timer.c), a fake I/O engine on an
 * in-memory copy of a real mkfs.ext4 image, and a fake clock.  Time only
 * moves when the test moves it, so a suspend is one assignment.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>           /* MIN, MAX */
#include <unistd.h>

#include <cmocka.h>

#include "fake-io.h"
#include "fixture.h"
#include "manager.h"
#include "mmp-ondisk.h"

#define SEC MMP_USEC_PER_SEC
#define MAX_EVENTS 256

struct world {
        char dir[256];
        struct fixture fx;
        struct ev_loop *loop;
        struct mmpd_timers *timers;
        struct mmpd_conf *conf;
        struct manager *m;
        struct subscription *sub;
        enum volume_event_type events[MAX_EVENTS];
        mmp_usec_t event_at[MAX_EVENTS];
        unsigned n_events;
};

static void record(const struct volume_event *ev, void *userdata)
{
        struct world *w = userdata;

        if (w->n_events < MAX_EVENTS) {
                w->event_at[w->n_events] = fake_now;
                w->events[w->n_events++] = ev->type;
        }
}

static unsigned count_events(const struct world *w, enum volume_event_type t)
{
        unsigned n = 0;

        for (unsigned i = 0; i < w->n_events; i++)
                n += w->events[i] == t;
        return n;
}

static mmp_usec_t first_event_at(const struct world *w, enum volume_event_type t)
{
        for (unsigned i = 0; i < w->n_events; i++)
                if (w->events[i] == t)
                        return w->event_at[i];
        return 0;
}

static int load_conf(struct world *w, const char *extra)
{
        char path[512], *error = NULL;
        FILE *f;
        int r;

        snprintf(path, sizeof(path), "%s/mmpd.conf", w->dir);
        f = fopen(path, "w");
        if (!f)
                return -errno;
        fprintf(f, "[mmpd]\nnode_name = node-a\nsocket = %s/sock\n%s", w->dir, extra ? extra : "");
        fclose(f);
        r = mmpd_conf_load(path, true, &w->conf, &error);
        if (r < 0)
                fprintf(stderr, "config: %s\n", error ? error : strerror(-r));
        free(error);
        return r;
}

static int world_setup_with(void **state, const char *conf_extra)
{
        struct world *w = calloc(1, sizeof(*w));
        struct manager_env env;

        assert_non_null(w);
        assert_int_equal(fixture_dir_make(w->dir, sizeof(w->dir)), 0);
        assert_int_equal(fixture_mkfs(w->dir, "vol.img", "mmp,^has_journal", 4096, &w->fx), 0);
        assert_int_equal(fake_disk_load(w->fx.path), 0);
        assert_int_equal(load_conf(w, conf_extra), 0);
        w->loop = ev_loop_new(0);
        assert_non_null(w->loop);
        assert_int_equal(mmpd_timers_new(w->loop, 0, &w->timers), 0);
        env = (struct manager_env) { .loop = w->loop, .timers = w->timers, .node_name = "node-a" };
        assert_int_equal(manager_new(&env, w->conf, &w->m), 0);
        w->sub = manager_subscribe(w->m, record, w);
        *state = w;
        return 0;
}

static int world_setup(void **state)
{
        return world_setup_with(state, NULL);
}

static int world_teardown(void **state)
{
        struct world *w = *state;

        manager_unsubscribe(w->m, w->sub);
        manager_free(w->m);
        mmpd_timers_free(w->timers);
        ev_loop_destroy(w->loop);
        mmpd_conf_free(w->conf);
        fake_disk_free();
        fixture_free(&w->fx);
        fixture_dir_remove(w->dir);
        free(w);
        return 0;
}

/* Let fake time pass: I/O completes, timers fire, in time order. */
static void run_for(struct world *w, mmp_usec_t usec)
{
        mmp_usec_t until = fake_now + usec;

        for (unsigned guard = 0; guard < 10000000; guard++) {
                mmp_usec_t next = mmpd_timers_next(w->timers), io = fake_io_next();

                if (io < next)
                        next = io;
                if (next > until)
                        break;
                if (next > fake_now)
                        fake_now = next;
                fake_io_run();
                mmpd_timers_run(w->timers, fake_now);
                /* The manager frees finished volumes from an ev_check. */
                ev_run(w->loop, EVRUN_NOWAIT);
        }
        fake_now = until;
        fake_io_run();
        mmpd_timers_run(w->timers, fake_now);
        ev_run(w->loop, EVRUN_NOWAIT);
}

static struct mmp_block disk_block(struct world *w)
{
        struct mmp_sb sb;
        struct mmp_block b;

        assert_int_equal(mmp_sb_decode(fake_disk.data + MMP_SB_OFFSET, MMP_SB_SIZE, &sb), 0);
        assert_int_equal(mmp_block_decode(&sb, fake_disk.data + mmp_sb_mmp_offset(&sb), sb.block_size, &b), 0);
        return b;
}

static void disk_put(struct world *w, uint32_t seq, const char *node)
{
        struct mmp_sb sb;
        struct mmp_block b = { .seq = seq, .time = 1, .check_interval = 5 };

        assert_int_equal(mmp_sb_decode(fake_disk.data + MMP_SB_OFFSET, MMP_SB_SIZE, &sb), 0);
        mmp_name_set(b.nodename, sizeof(b.nodename), node);
        mmp_name_set(b.bdevname, sizeof(b.bdevname), "sdz");
        assert_int_equal(mmp_block_encode(&sb, &b, fake_disk.data + mmp_sb_mmp_offset(&sb), sb.block_size), 0);
}

static struct volume *claim(struct world *w)
{
        struct volume *v = NULL;

        assert_int_equal(manager_claim(w->m, w->fx.path, "vol", -1, &v), 0);
        assert_non_null(v);
        /* W is 11 s for update interval 1; the claim ends after it. */
        run_for(w, 30 * SEC);
        assert_int_equal(volume_state(v), MMP_STATE_HELD);
        return v;
}

/* ---- volume.c ----------------------------------------------------------------- */

static void test_claim_then_heartbeat(void **state)
{
        struct world *w = *state;
        struct volume *v = claim(w);
        struct volume_info info;
        struct mmp_block b = disk_block(w);
        unsigned writes, ios;
        uint64_t beats;

        assert_int_equal(count_events(w, VOLUME_EVENT_CLAIMED), 1);
        assert_string_equal(b.nodename, "node-a");
        volume_get_info(v, &info);
        assert_int_equal(b.seq, info.sm.seq);

        writes = fake_disk.writes_landed;
        ios = fake_disk.reads + fake_disk.writes;
        beats = info.stats ? info.stats->landed_late.n : 0;
        run_for(w, 60 * SEC);
        volume_get_info(v, &info);
        /* Update interval 1 s: a heartbeat at least every second. */
        assert_true(fake_disk.writes_landed - writes >= 59);
        assert_non_null(info.stats);
        assert_true(info.stats->landed_late.n - beats >= 59);
        /* 1 ms per I/O in this world: no beat is late by more than its I/Os. */
        assert_true(info.stats->submit_late.max <= 2000);
        assert_true(info.stats->landed_late.max <= 3000);
        assert_true(info.stats->io.n >= 2 * 59);
        /* 2 or 3 I/Os per heartbeat, never more. */
        assert_true((fake_disk.reads + fake_disk.writes - ios) <= 3 * (fake_disk.writes_landed - writes));
        b = disk_block(w);
        assert_int_equal(b.seq, info.sm.seq);
}

/*
 * Heartbeats start on a grid of 100 ms (each beat's check read is submitted
 * on a multiple of it), so that the volumes of one grid point share a
 * wakeup and an io_submit(); a beat is never more than a period after the
 * last one for it.
 */
static void test_beats_on_the_grid(void **state)
{
        struct world *w = *state;
        struct volume *v = claim(w);
        mmp_usec_t prev = 0;
        unsigned beats = 0;

        /* The first run of volumes beats at 0, on any grid: take the
         * second run's first (spreading index 32). */
        for (unsigned i = 0; i < 32; i++) {
                assert_int_equal(manager_release(w->m, v), 0);
                run_for(w, 5 * SEC);
                assert_null(manager_first(w->m));
                v = claim(w);
        }

        for (mmp_usec_t end = fake_now + 20 * SEC; fake_now < end;) {
                unsigned reads = fake_disk.reads;

                run_for(w, 10 * 1000);
                if (fake_disk.reads == reads)
                        continue;
                assert_int_equal(fake_disk.last_read_at % (100 * 1000), 0);
                if (prev)
                        assert_true(fake_disk.last_read_at - prev <= SEC);
                prev = fake_disk.last_read_at;
                beats++;
        }
        assert_true(beats >= 19);
        assert_int_equal(volume_state(v), MMP_STATE_HELD);
}

/*
 * Which grid point a volume beats on: runs of 32 volumes added one after
 * the other share one (they are neighbours in memory, the kernel's and
 * ours), and the runs spread evenly on the period.  At 10,000 volumes and
 * a 5 s period every one of the 50 grid points carries 160-224 beats.
 */
static void test_beat_slots(void **state)
{
        const mmp_usec_t period = 5 * SEC, grid = 100 * 1000;
        unsigned count[50] = { 0 }, lo = UINT_MAX, hi = 0;

        (void) state;
        for (unsigned k = 0; k < 10000; k++) {
                mmp_usec_t at = volume_beat_slot(k, period);

                assert_int_equal(at % grid, 0);
                assert_true(at < period);
                assert_int_equal(at, volume_beat_slot(k - k % 32, period));
                count[at / grid]++;
        }
        for (unsigned i = 0; i < 50; i++) {
                lo = MIN(lo, count[i]);
                hi = MAX(hi, count[i]);
        }
        assert_true(lo >= 150);
        assert_true(hi <= 240);
        /* Neighbouring runs beat apart; a period off the grid still works. */
        assert_int_not_equal(volume_beat_slot(31, period), volume_beat_slot(32, period));
        for (unsigned k = 0; k < 1000; k++)
                assert_true(volume_beat_slot(k, 1500 * 1000) < 1500 * 1000);
}

/*
 * Suspend: CLOCK_BOOTTIME jumps past the fence deadline while nothing ran
 * (CLOCK_MONOTONIC, and so any ev_timer, stood still).  On resume the
 * BOOTTIME timer fires at once and the volume is lost without one more
 * write: a peer may already have taken it.
 */
static void test_suspend_fences_without_writing(void **state)
{
        struct world *w = *state;
        struct volume *v = claim(w);
        struct volume_info info;
        unsigned writes;

        volume_get_info(v, &info);
        assert_true(info.sm.deadlines.fence_at > fake_now);
        writes = fake_disk.writes;
        fake_now = info.sm.deadlines.peer_write_at + 30 * SEC;     /* the machine slept */
        mmpd_timers_run(w->timers, fake_now);                       /* the timerfd on resume */
        fake_io_run();
        assert_int_equal(volume_state(v), MMP_STATE_LOST);
        assert_int_equal(fake_disk.writes, writes);
        assert_int_equal(count_events(w, VOLUME_EVENT_LOST), 1);
        run_for(w, 10 * SEC);
        assert_int_equal(fake_disk.writes, writes);
}

/* A short suspend (well inside the margin) is survived. */
static void test_short_suspend_survived(void **state)
{
        struct world *w = *state;
        struct volume *v = claim(w);

        fake_now += SEC / 2;
        mmpd_timers_run(w->timers, fake_now);
        run_for(w, 10 * SEC);
        assert_int_equal(volume_state(v), MMP_STATE_HELD);
        assert_int_equal(count_events(w, VOLUME_EVENT_LOST), 0);
}

static void test_rogue_write_is_lost(void **state)
{
        struct world *w = *state;
        struct volume *v = claim(w);
        unsigned landed;
        mmp_usec_t at = fake_now;

        disk_put(w, 0x1234, "node-b");
        run_for(w, 10 * SEC);
        assert_int_equal(volume_state(v), MMP_STATE_LOST);
        /* Seen by the next heartbeat's read, within one period (1 s). */
        assert_true(first_event_at(w, VOLUME_EVENT_LOST) - at <= 1100 * 1000);
        landed = fake_disk.writes_landed;
        run_for(w, 30 * SEC);
        assert_int_equal(fake_disk.writes_landed, landed);
        assert_string_equal(disk_block(w).nodename, "node-b");
}

static void test_hung_device_lost_before_deadline(void **state)
{
        struct world *w = *state;
        struct volume *v = claim(w);
        struct volume_info info;
        mmp_usec_t lost;

        fake_disk.hang = true;
        run_for(w, 60 * SEC);
        assert_int_equal(volume_state(v), MMP_STATE_LOST);
        volume_get_info(v, &info);
        lost = first_event_at(w, VOLUME_EVENT_LOST);
        /* Declared at the fence deadline (wakeups are rounded up to the
         * loop's 10 ms quantum), before any peer may write. */
        assert_true(lost <= info.sm.deadlines.fence_at + 10000);
        assert_true(lost < info.sm.deadlines.peer_write_at);
}

static void test_release_writes_clean_and_removes(void **state)
{
        struct world *w = *state;
        struct volume *v = claim(w);

        assert_int_equal(manager_release(w->m, v), 0);
        run_for(w, 5 * SEC);
        assert_int_equal(disk_block(w).seq, MMP_SEQ_CLEAN);
        assert_int_equal(count_events(w, VOLUME_EVENT_RELEASED), 1);
        assert_int_equal(count_events(w, VOLUME_EVENT_REMOVED), 1);
        assert_null(manager_first(w->m));
        assert_false(manager_busy(w->m));
}

static void test_claim_refused_by_active_peer(void **state)
{
        struct world *w = *state;
        struct volume *v = NULL;

        disk_put(w, 0x42, "node-b");
        assert_int_equal(manager_claim(w->m, w->fx.path, "vol", -1, &v), 0);
        /* node-b keeps writing: a live holder. */
        for (int i = 0; i < 30 && !count_events(w, VOLUME_EVENT_REFUSED); i++) {
                disk_put(w, 0x43 + (uint32_t) i, "node-b");
                run_for(w, SEC);
        }
        assert_int_equal(count_events(w, VOLUME_EVENT_REFUSED), 1);
        assert_string_equal(disk_block(w).nodename, "node-b");
        /* A runtime claim that was refused leaves the registry. */
        assert_null(manager_first(w->m));
}

/* ---- manager.c ------------------------------------------------------------------ */

static void test_registry_find_and_duplicates(void **state)
{
        struct world *w = *state;
        struct volume *v = NULL, *v2 = NULL;

        assert_int_equal(manager_claim(w->m, w->fx.path, "vol", -1, &v), 0);
        assert_ptr_equal(manager_find(w->m, "vol"), v);
        assert_ptr_equal(manager_find(w->m, w->fx.path), v);
        assert_null(manager_find(w->m, "other"));
        assert_int_equal(manager_claim(w->m, w->fx.path, "again", -1, &v2), -EEXIST);
        assert_ptr_equal(v2, v);
        assert_int_equal(manager_count(w->m, MMP_STATE_CLAIMING), 1);
        assert_true(manager_busy(w->m));
}

/* The name and path index stays right as volumes come and go (and grows
 * past its first 64 buckets). */
static void test_index_many_volumes(void **state)
{
        struct world *w = *state;
        struct volume *v[300];
        char dev[64], name[64];

        for (int i = 0; i < 300; i++) {
                snprintf(dev, sizeof(dev), "/dev/fake-%d", i);
                snprintf(name, sizeof(name), "v%d", i);
                assert_int_equal(manager_claim(w->m, dev, name, -1, &v[i]), 0);
        }
        for (int i = 0; i < 300; i += 2)
                assert_int_equal(manager_release(w->m, v[i]), 0);
        /* Long enough for the releases, well before any claim's W ends
         * (the 150 left share one fake disk and would refuse each other). */
        run_for(w, SEC / 10);
        for (int i = 0; i < 300; i++) {
                snprintf(dev, sizeof(dev), "/dev/fake-%d", i);
                snprintf(name, sizeof(name), "v%d", i);
                if (i % 2 == 0) {
                        assert_null(manager_find(w->m, name));
                        assert_null(manager_find(w->m, dev));
                } else {
                        assert_ptr_equal(manager_find(w->m, name), v[i]);
                        assert_ptr_equal(manager_find(w->m, dev), v[i]);
                }
        }
        /* A name may be used again once its volume is gone. */
        assert_int_equal(manager_claim(w->m, "/dev/fake-0", "v0", -1, &v[0]), 0);
        assert_ptr_equal(manager_find(w->m, "v0"), v[0]);
}

/* List's snapshot (manager_collect) is every registered volume once, in
 * registration order, the same as a walk of first/next, as volumes go
 * (leaving holes, then a compaction) and come (appended at the end). */
static void assert_collect_is_walk(struct manager *m, size_t want)
{
        struct volume *snap[400], *v = manager_first(m);
        unsigned per_state[MMP_STATE_IN_USE + 1];
        size_t n = manager_collect(m, snap, 400);

        assert_int_equal(manager_size(m), want);
        assert_int_equal(n, want);
        for (size_t i = 0; i < n; i++, v = manager_next(m, v))
                assert_ptr_equal(snap[i], v);
        assert_null(v);
        /* a smaller buffer gets the first ones */
        assert_int_equal(manager_collect(m, snap, 3), want < 3 ? want : 3);
        assert_ptr_equal(snap[0], manager_first(m));
        manager_count_states(m, per_state);
        for (int s = MMP_STATE_IDLE; s <= MMP_STATE_IN_USE; s++)
                assert_int_equal(per_state[s], manager_count(m, s));
}

/* Release v[from], v[from + step], ...; then @left remain, the i-th of
 * them v[first + stride * i]. */
static void release_and_check(struct world *w, struct volume **v, int from, int step, size_t left,
                              int first, int stride)
{
        struct volume *snap[400];

        for (int i = from; i < 300; i += step)
                assert_int_equal(manager_release(w->m, v[i]), 0);
        run_for(w, SEC / 10);
        assert_collect_is_walk(w->m, left);
        manager_collect(w->m, snap, 400);
        for (size_t i = 0; i < left; i++)
                assert_ptr_equal(snap[i], v[first + stride * (int) i]);
}

static void test_collect_in_order(void **state)
{
        struct world *w = *state;
        struct volume *v[300], *snap[400];
        char dev[64], name[64];

        assert_int_equal(manager_collect(w->m, snap, 400), 0);
        for (int i = 0; i < 300; i++) {
                snprintf(dev, sizeof(dev), "/dev/fake-%d", i);
                snprintf(name, sizeof(name), "v%d", i);
                assert_int_equal(manager_claim(w->m, dev, name, -1, &v[i]), 0);
        }
        assert_collect_is_walk(w->m, 300);
        assert_ptr_equal(manager_first(w->m), v[0]);
        /* Half go: holes, no compaction yet. */
        release_and_check(w, v, 0, 2, 150, 1, 2);
        /* More go: past half the array, it is compacted. */
        release_and_check(w, v, 1, 4, 75, 3, 4);
        /* A new one comes last. */
        assert_int_equal(manager_claim(w->m, "/dev/fake-0", "v0", -1, &v[0]), 0);
        assert_collect_is_walk(w->m, 76);
        manager_collect(w->m, snap, 400);
        assert_ptr_equal(snap[75], v[0]);
        assert_ptr_equal(snap[0], v[3]);
}

static int setup_one_volume(void **state)
{
        return world_setup_with(state, "max_volumes = 1\n");
}

static void test_max_volumes(void **state)
{
        struct world *w = *state;
        struct volume *v = NULL;

        assert_int_equal(manager_claim(w->m, w->fx.path, "vol", -1, &v), 0);
        assert_int_equal(manager_claim(w->m, "/dev/fake-second", "second", -1, &v), -ENOSPC);
}

static void test_stop_releases_and_refuses(void **state)
{
        struct world *w = *state;
        struct volume *v = claim(w);

        (void) v;
        manager_stop(w->m);
        assert_int_equal(manager_claim(w->m, "/dev/fake-second", "second", -1, &v), -ESHUTDOWN);
        run_for(w, 5 * SEC);
        assert_false(manager_busy(w->m));
        assert_int_equal(disk_block(w).seq, MMP_SEQ_CLEAN);
}

struct unsub {
        struct manager *m;
        struct subscription *s;
        unsigned calls;
};

static void unsubscribe_self(const struct volume_event *ev, void *userdata)
{
        struct unsub *u = userdata;

        u->calls++;
        u->s = manager_unsubscribe(u->m, u->s);
}

static void test_unsubscribe_in_callback(void **state)
{
        struct world *w = *state;
        struct unsub u = { .m = w->m };

        u.s = manager_subscribe(w->m, unsubscribe_self, &u);
        claim(w);
        assert_int_equal(u.calls, 1);
        assert_true(count_events(w, VOLUME_EVENT_CLAIMED) == 1);
}

struct beats {
        unsigned n;
        uint32_t last_seq;
};

static void count_beat(struct volume *v, const struct mmp_sm_status *st, void *userdata)
{
        struct beats *b = userdata;

        b->n++;
        b->last_seq = st->seq;
}

static void test_beat_subscribers(void **state)
{
        struct world *w = *state;
        struct beats b = {};
        struct subscription *s = manager_subscribe_beats(w->m, count_beat, &b);

        claim(w);
        run_for(w, 10 * SEC);
        assert_true(b.n >= 10);
        assert_int_equal(b.last_seq, disk_block(w).seq);
        manager_unsubscribe(w->m, s);
}

static void fill_fence(struct volume *v, struct volume_info *info, void *userdata)
{
        info->have_fence = true;
        info->fence.outcome = userdata;
}

static void test_info_hook(void **state)
{
        struct world *w = *state;
        struct volume *v = NULL;
        struct volume_info info;

        manager_set_info_hook(w->m, fill_fence, (void *) "fenced");
        assert_int_equal(manager_claim(w->m, w->fx.path, "vol", -1, &v), 0);
        volume_get_info(v, &info);
        assert_true(info.have_fence);
        assert_string_equal(info.fence.outcome, "fenced");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_beats_on_the_grid, world_setup, world_teardown),
                cmocka_unit_test(test_beat_slots),
                cmocka_unit_test_setup_teardown(test_claim_then_heartbeat, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_suspend_fences_without_writing, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_short_suspend_survived, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_rogue_write_is_lost, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_hung_device_lost_before_deadline, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_release_writes_clean_and_removes, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_claim_refused_by_active_peer, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_registry_find_and_duplicates, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_max_volumes, setup_one_volume, world_teardown),
                cmocka_unit_test_setup_teardown(test_collect_in_order, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_index_many_volumes, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_stop_releases_and_refuses, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_unsubscribe_in_callback, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_beat_subscribers, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_info_hook, world_setup, world_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
