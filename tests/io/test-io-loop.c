/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mmpd/io.c against real loop devices that the test makes itself
 * (losetup --direct-io=on), so it needs root.  Without root the whole
 * program is one TAP skip, except under CI=true, where it is a failure.
 * (cmocka 1.1.5 prints a skipped case as "not ok # SKIP", which automake's
 * TAP driver counts as failed, hence the skip-all plan.)
 *
 * The stuck I/O is real: a direct-I/O loop device over a file on a frozen
 * ext4 (FIFREEZE) takes writes and does not complete them until the thaw.
 * Run it under valgrind too: that test frees a request whose buffer the
 * kernel still owns.  test_submit_sleeps and test_queue_full cannot run
 * there: valgrind makes io_submit() holding its big lock, so while one
 * sleeps in the kernel no other thread runs, not even the one that thaws.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/io/io-fixture.h"

/* The kernel ignores their argument; valgrind wants it addressable. */
#ifndef FIFREEZE
#define FIFREEZE _IOWR('X', 119, int)
#define FITHAW   _IOWR('X', 120, int)
#endif

static int blk_ssz(const char *dev)
{
        int fd = open(dev, O_RDONLY | O_CLOEXEC), ssz = -1;

        assert_true(fd >= 0);
        assert_int_equal(ioctl(fd, BLKSSZGET, &ssz), 0);
        close(fd);
        return ssz;
}

static void test_loop_roundtrip(void **state)
{
        struct fx *fx = *state;
        _cleanup_free_ char *img = NULL;
        const char *node;
        struct mmpd_dev *dev;
        struct stat st;

        img = make_file(fx, "loop.img", 16 << 20, 0);
        node = loop_attach(fx, img, 0);
        dev = open_dev(fx, node);
        assert_int_equal(stat(node, &st), 0);
        assert_true(mmpd_dev_is_block(dev));
        assert_true(mmpd_dev_is_direct(dev));
        assert_int_equal(mmpd_dev_rdev(dev), st.st_rdev);
        assert_int_equal(mmpd_dev_size(dev), 16 << 20);
        assert_int_equal(mmpd_dev_align(dev), blk_ssz(node));
        assert_true(fcntl(mmpd_dev_fd(dev), F_GETFL) & O_DIRECT);
        fprintf(stderr, "# %s: logical block %zu\n", node, mmpd_dev_align(dev));

        roundtrip(fx, dev, img, 4096, 1024, 0x12);
        roundtrip(fx, dev, img, 8192, 4096, 0x34);
}

/* A 4096-byte logical block: that is the alignment, 1 KiB is refused. */
static void test_loop_4k(void **state)
{
        struct fx *fx = *state;
        _cleanup_free_ char *img = NULL;
        const char *node;
        struct mmpd_dev *dev;
        struct rec rec = {};
        struct mmpd_ioreq *req;

        img = make_file(fx, "loop4k.img", 8 << 20, 0);
        node = loop_attach(fx, img, 4096);
        dev = open_dev(fx, node);
        assert_int_equal(blk_ssz(node), 4096);
        assert_int_equal(mmpd_dev_align(dev), 4096);

        req = new_req(fx, dev, 1024, &rec);     /* buffer rounded to 4096 */
        assert_int_equal(mmpd_ioreq_submit(req, MMPD_IO_READ, 0, 1024, MMP_USEC_INFINITY), -EINVAL);
        assert_int_equal(mmpd_ioreq_submit(req, MMPD_IO_READ, 1024, 4096, MMP_USEC_INFINITY), -EINVAL);
        mmpd_ioreq_free(req);
        roundtrip(fx, dev, img, 4096, 4096, 0x56);
}

static void test_loop_adopt(void **state)
{
        struct fx *fx = *state;
        _cleanup_free_ char *img = NULL;
        _cleanup_close_ int buffered = -1, direct = -1;
        struct mmpd_dev *sentinel = (struct mmpd_dev *) fx, *dev = sentinel;
        const char *node;

        img = make_file(fx, "loop.img", 8 << 20, 0);
        node = loop_attach(fx, img, 0);

        buffered = open(node, O_RDWR | O_CLOEXEC);
        assert_true(buffered >= 0);
        assert_int_equal(mmpd_dev_adopt(buffered, node, &dev), -EBADFD);
        assert_ptr_equal(dev, sentinel);

        direct = open(node, O_RDWR | O_DIRECT | O_CLOEXEC);
        assert_true(direct >= 0);
        assert_int_equal(mmpd_dev_adopt(direct, node, &dev), 0);
        keep_dev(fx, dev);
        assert_true(mmpd_dev_is_block(dev));
        assert_int_equal(mmpd_dev_align(dev), blk_ssz(node));
        assert_int_equal(mmpd_dev_size(dev), 8 << 20);
        roundtrip(fx, dev, img, 0, 4096, 0x78);
        drop_dev(fx, dev);
        mmpd_dev_free(dev);
        assert_true(fcntl(direct, F_GETFD) >= 0);
}

static void test_loop_busy(void **state)
{
        struct fx *fx = *state;
        _cleanup_free_ char *img = NULL;
        struct mmpd_dev *sentinel = (struct mmpd_dev *) fx, *dev = sentinel, *held;
        const char *node;
        int fd;

        img = make_file(fx, "loop.img", 32 << 20, 0);
        node = loop_attach(fx, img, 0);

        /* We hold it exclusively: nobody else gets it, not even us again. */
        held = open_dev(fx, node);
        assert_int_equal(mmpd_dev_open(node, &dev), -EBUSY);
        fd = open(node, O_RDONLY | O_EXCL | O_CLOEXEC);
        assert_int_equal(fd, -1);
        assert_int_equal(errno, EBUSY);
        drop_dev(fx, held);
        mmpd_dev_free(held);

        /* Someone else holds it exclusively. */
        fd = open(node, O_RDONLY | O_EXCL | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(mmpd_dev_open(node, &dev), -EBUSY);
        close(fd);

        /* Mounted. */
        run_cmd("mkfs.ext4 -q -F '%s' >/dev/null 2>&1", node);
        snprintf(fx->mnt, sizeof(fx->mnt), "%s/mnt", fx->dir);
        assert_int_equal(mkdir(fx->mnt, 0700), 0);
        assert_int_equal(mount(node, fx->mnt, "ext4", 0, NULL), 0);
        fx->mounted = true;
        assert_int_equal(mmpd_dev_open(node, &dev), -EBUSY);
        assert_ptr_equal(dev, sentinel);
}

/* Completion errors: a write past the end is the kernel's -ENOSPC, a read
 * there returns 0 bytes, which is short: -EIO. */
static void test_loop_errors(void **state)
{
        struct fx *fx = *state;
        _cleanup_free_ char *img = NULL;
        struct mmpd_dev *dev;
        struct rec rec = {};
        struct mmpd_ioreq *req;
        uint64_t end;

        img = make_file(fx, "loop.img", 8 << 20, 0);
        dev = open_dev(fx, loop_attach(fx, img, 0));
        end = mmpd_dev_size(dev);
        req = new_req(fx, dev, 4096, &rec);
        assert_int_equal(do_io(fx, req, &rec, MMPD_IO_WRITE, end, 4096), -ENOSPC);
        assert_int_equal(do_io(fx, req, &rec, MMPD_IO_READ, end, 4096), -EIO);
        assert_int_equal(do_io(fx, req, &rec, MMPD_IO_READ, end - 4096, 4096), 4096);
        mmpd_ioreq_free(req);
}

/* A 64 MiB ext4 mounted on fx->mnt; returns its image.  Our own loop
 * device rather than mount -o loop: the teardown detaches exactly what the
 * test attached (and thaws and unmounts it). */
static char *mount_scratch(struct fx *fx)
{
        char *outer = make_file(fx, "outer.img", 64 << 20, 0);

        run_cmd("mkfs.ext4 -q -F '%s' >/dev/null 2>&1", outer);
        snprintf(fx->mnt, sizeof(fx->mnt), "%s/mnt", fx->dir);
        assert_int_equal(mkdir(fx->mnt, 0700), 0);
        assert_int_equal(mount(loop_attach(fx, outer, 0), fx->mnt, "ext4", 0, NULL), 0);
        fx->mounted = true;
        return outer;
}

/* A file of @blocks zeroed 4 KiB blocks on the scratch mount, on disk. */
static char *scratch_file(struct fx *fx, const char *name, int blocks)
{
        static const unsigned char zero[4096];
        char *path;
        int fd;

        assert_true(asprintf(&path, "%s/%s", fx->mnt, name) > 0);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        for (int i = 0; i < blocks; i++)
                assert_int_equal(write(fd, zero, sizeof(zero)), (ssize_t) sizeof(zero));
        assert_int_equal(fsync(fd), 0);
        close(fd);
        return path;
}

/* FIFREEZE the scratch mount; returns the fd that thaws it. */
static int freeze_scratch(struct fx *fx)
{
        int fd = open(fx->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(ioctl(fd, FIFREEZE, &(int) {0}), 0);
        fx->frozen = true;
        return fd;
}

/*
 * A stuck device: writes to a direct-I/O loop device whose backing file
 * sits on a frozen ext4 wait in the kernel until the thaw.
 */
static void test_loop_stuck(void **state)
{
        struct fx *fx = *state;
        _cleanup_free_ char *outer = NULL, *file = NULL, *back = NULL;
        _cleanup_close_ int mntfd = -1;
        struct mmpd_dev *stuck, *other;
        struct mmpd_io *io = fx->io;
        struct rec ra = {}, rb = {}, rc = {}, rf = {}, rq = {};
        struct mmpd_ioreq *a, *b, *c, *f, *q;
        struct mmpd_io_stats st;
        mmp_usec_t dl;
        unsigned char want[4096];

        /* 3 slots: a, b and c will fill them. */
        mmpd_io_free(fx->io);
        assert_int_equal(mmpd_io_new(fx->loop, 3, &fx->io), 0);
        io = fx->io;

        outer = mount_scratch(fx);
        back = scratch_file(fx, "back.img", 1024);
        memset(want, 0, sizeof(want));
        stuck = open_dev(fx, loop_attach(fx, back, 0));
        file = make_file(fx, "other.img", 65536, 0x99);
        other = open_dev(fx, file);

        a = new_req(fx, stuck, 4096, &ra);
        b = new_req(fx, stuck, 4096, &rb);
        c = new_req(fx, stuck, 4096, &rc);
        f = new_req(fx, other, 4096, &rf);
        q = new_req(fx, other, 4096, &rq);
        memset(mmpd_ioreq_buf(a), 0xa5, 4096);
        memset(mmpd_ioreq_buf(b), 0xb6, 4096);
        memset(mmpd_ioreq_buf(c), 0xc7, 4096);

        mntfd = freeze_scratch(fx);

        /* Two writes that cannot land: -ETIMEDOUT on time, still busy. */
        dl = mmpd_now() + 300 * MSEC;
        assert_int_equal(mmpd_ioreq_submit(a, MMPD_IO_WRITE, 0, 4096, dl), 0);
        assert_int_equal(mmpd_ioreq_submit(b, MMPD_IO_WRITE, 4096, 4096, dl), 0);
        assert_true(run_until(fx, &rb.n_cb, 1, GUARD_S));
        assert_true(run_until(fx, &ra.n_cb, 1, GUARD_S));
        assert_int_equal(ra.result, -ETIMEDOUT);
        assert_int_equal(rb.result, -ETIMEDOUT);
        fprintf(stderr, "# stuck writes: -ETIMEDOUT %+lld us, %+lld us from the deadline\n",
                (long long) (ra.t_cb - dl), (long long) (rb.t_cb - dl));
        assert_near(ra.t_cb, dl, 50 * MSEC);
        assert_near(rb.t_cb, dl, 50 * MSEC);
        assert_true(ra.busy_in_cb);
        assert_true(mmpd_ioreq_busy(a));
        assert_int_equal(mmpd_ioreq_submit(a, MMPD_IO_READ, 0, 4096, MMP_USEC_INFINITY), -EBUSY);
        mmpd_io_get_stats(io, &st);
        assert_int_equal(st.timeouts, 2);
        assert_int_equal(st.inflight, 2);

        /* The kernel still owns b's buffer: the free waits for it. */
        mmpd_ioreq_free(b);

        /* Another volume is not held up by the stuck one. */
        assert_int_equal(do_io(fx, f, &rf, MMPD_IO_READ, 0, 4096), 4096);
        assert_int_equal(((unsigned char *) mmpd_ioreq_buf(f))[0], 0x99);

        /* Fill the last slot; then q can only wait in the queue, and its
         * timeout makes it idle at once (the kernel never had it). */
        assert_int_equal(mmpd_ioreq_submit(c, MMPD_IO_WRITE, 8192, 4096,
                                           mmpd_now() + 8 * MMP_USEC_PER_SEC), 0);
        run_for(fx, 0.02);
        dl = mmpd_now() + 200 * MSEC;
        assert_int_equal(mmpd_ioreq_submit(q, MMPD_IO_READ, 0, 4096, dl), 0);
        assert_true(run_until(fx, &rq.n_idle, 1, GUARD_S));
        assert_int_equal(rq.n_cb, 1);
        assert_int_equal(rq.result, -ETIMEDOUT);
        assert_true(rq.busy_in_cb);
        assert_near(rq.t_cb, dl, 50 * MSEC);
        assert_true(rq.t_idle >= rq.t_cb && rq.t_idle - rq.t_cb < 20 * MSEC);
        assert_false(mmpd_ioreq_busy(q));
        mmpd_io_get_stats(io, &st);
        assert_int_equal(st.inflight, 3);
        assert_int_equal(st.submitted, 4);      /* a, b, f, c; never q */

        /* Still stuck a while later: no idle_cb, no second cb. */
        run_for(fx, 0.1);
        assert_int_equal(ra.n_idle, 0);
        assert_int_equal(ra.n_cb, 1);

        /* Thaw: the writes land, a becomes idle, c completes normally. */
        assert_int_equal(ioctl(mntfd, FITHAW, &(int) {0}), 0);
        fx->frozen = false;
        assert_true(run_until(fx, &ra.n_idle, 1, GUARD_S));
        assert_true(run_until(fx, &rc.n_cb, 1, GUARD_S));
        assert_int_equal(ra.n_cb, 1);
        assert_int_equal(rc.result, 4096);
        assert_int_equal(rc.n_idle, 0);
        for (int i = 0; i < 100 && io_inflight(io) > 0; i++)
                run_for(fx, 0.01);
        mmpd_io_get_stats(io, &st);
        assert_int_equal(st.inflight, 0);
        assert_int_equal(st.late, 2);
        assert_false(mmpd_ioreq_busy(a));
        assert_true(mmpd_ioreq_last_duration(a) >= 300 * MSEC);

        /* The timed-out writes did land: the kernel used those buffers. */
        assert_int_equal(do_io(fx, a, &ra, MMPD_IO_READ, 0, 4096), 4096);
        memset(want, 0xa5, sizeof(want));
        assert_memory_equal(mmpd_ioreq_buf(a), want, 4096);
        memset(want, 0xb6, sizeof(want));
        pread_check(back, 4096, want, sizeof(want));

        mmpd_ioreq_free(a);
        mmpd_ioreq_free(c);
        mmpd_ioreq_free(f);
        mmpd_ioreq_free(q);
}

struct thaw_later {
        int mntfd;
        unsigned ms;
        mmp_usec_t at;          /* when it thawed */
};

/* The test's own thread, not the loop: without it a loop that sleeps in
 * io_submit() would never wake. */
static void *thaw_thread(void *p)
{
        struct thaw_later *t = p;

        usleep(t->ms * 1000);
        t->at = mmpd_now();
        /* Not asserted here: on a failure the teardown may thaw first. */
        (void) ioctl(t->mntfd, FITHAW, &(int) {0});
        return NULL;
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
        *(mmp_usec_t *) w->data = mmpd_now();
}

/*
 * io_submit() itself sleeps: a direct write to a file on a frozen ext4
 * waits in the syscall (sb_start_write) until the thaw.  The loop does not
 * wait with it: a timer fires on time, the write's deadline is reported on
 * time, and so is that of a read on another device queued behind it
 * (submission is one batch at a time).  A second write in the same batch,
 * refused once the thaw lets io_submit() go on, only becomes idle: its
 * callback already had -ETIMEDOUT.
 */
static void test_submit_sleeps(void **state)
{
        struct fx *fx = *state;
        _cleanup_free_ char *outer = NULL, *back = NULL, *ro_path = NULL, *other_path = NULL;
        _cleanup_close_ int mntfd = -1, rw = -1, ro = -1;
        /* static: both outlive a failed assertion, which leaves the test */
        static struct thaw_later thaw;
        static ev_timer tick;
        struct rec rs = {}, rb = {}, ro_rec = {};
        struct mmpd_dev *stuck, *refused = NULL, *other;
        struct mmpd_ioreq *s, *b, *q;
        mmp_usec_t dl, tick_at = 0, tick_due;
        struct mmpd_io_stats st;
        unsigned char want[4096];
        pthread_t tid;

        thaw = (struct thaw_later) { .ms = 1500 };
        outer = mount_scratch(fx);
        back = scratch_file(fx, "back.img", 16);
        ro_path = scratch_file(fx, "ro.img", 16);
        stuck = open_dev(fx, back);
        assert_true(mmpd_dev_is_direct(stuck));
        /* A device whose fd the kernel refuses for writing (EBADF), made
         * read-only behind the engine's back. */
        rw = open(ro_path, O_RDWR | O_CLOEXEC);
        ro = open(ro_path, O_RDONLY | O_CLOEXEC);
        assert_true(rw >= 0 && ro >= 0);
        assert_int_equal(mmpd_dev_adopt(rw, ro_path, &refused), 0);
        keep_dev(fx, refused);
        assert_int_equal(dup3(ro, mmpd_dev_fd(refused), O_CLOEXEC), mmpd_dev_fd(refused));
        other_path = make_file(fx, "other.img", 65536, 0x77);
        other = open_dev(fx, other_path);

        s = new_req(fx, stuck, 4096, &rs);
        b = new_req(fx, refused, 4096, &rb);
        q = new_req(fx, other, 4096, &ro_rec);
        memset(mmpd_ioreq_buf(s), 0x5e, 4096);

        mntfd = freeze_scratch(fx);
        thaw.mntfd = mntfd;
        assert_int_equal(pthread_create(&tid, NULL, thaw_thread, &thaw), 0);

        ev_timer_init(&tick, tick_cb, 0.1, 0.);
        tick.data = &tick_at;
        ev_now_update(fx->loop);
        tick_due = mmpd_now() + 100 * MSEC;
        ev_timer_start(fx->loop, &tick);
        dl = mmpd_now() + 300 * MSEC;
        /* One batch: s, which will sleep in io_submit(), then b. */
        assert_int_equal(mmpd_ioreq_submit(s, MMPD_IO_WRITE, 0, 4096, dl), 0);
        assert_int_equal(mmpd_ioreq_submit(b, MMPD_IO_WRITE, 0, 4096, dl), 0);
        run_for(fx, 0.05);
        /* Queued behind the batch that sleeps. */
        assert_int_equal(mmpd_ioreq_submit(q, MMPD_IO_READ, 0, 4096, dl), 0);

        assert_true(run_until(fx, &rs.n_cb, 1, GUARD_S));
        assert_true(run_until(fx, &rb.n_cb, 1, GUARD_S));
        assert_true(run_until(fx, &ro_rec.n_idle, 1, GUARD_S));
        fprintf(stderr, "# io_submit() asleep: timer %+lld us late, deadlines %+lld / %+lld / %+lld us, "
                "thaw at %+lld us\n", (long long) (tick_at - tick_due), (long long) (rs.t_cb - dl),
                (long long) (rb.t_cb - dl), (long long) (ro_rec.t_cb - dl),
                thaw.at ? (long long) (thaw.at - dl) : -1LL);
        assert_true(tick_at > 0);
        assert_near(tick_at, tick_due, 50 * MSEC);
        assert_int_equal(rs.result, -ETIMEDOUT);
        assert_int_equal(rb.result, -ETIMEDOUT);
        assert_int_equal(ro_rec.result, -ETIMEDOUT);
        assert_near(rs.t_cb, dl, 50 * MSEC);
        assert_near(rb.t_cb, dl, 50 * MSEC);
        assert_near(ro_rec.t_cb, dl, 50 * MSEC);
        assert_int_equal(thaw.at, 0);           /* all of that while frozen */
        assert_true(rs.busy_in_cb && rb.busy_in_cb);
        /* q never reached the kernel: idle again at once. */
        assert_false(mmpd_ioreq_busy(q));
        assert_int_equal(ro_rec.n_cb, 1);

        /* The thaw: s lands and becomes idle; b is refused and becomes idle,
         * with no second callback. */
        assert_true(run_until(fx, &rs.n_idle, 1, GUARD_S));
        assert_true(run_until(fx, &rb.n_idle, 1, GUARD_S));
        assert_int_equal(pthread_join(tid, NULL), 0);
        fx->frozen = false;
        assert_true(thaw.at > 0);
        assert_int_equal(rs.n_cb, 1);
        assert_int_equal(rb.n_cb, 1);
        mmpd_io_get_stats(fx->io, &st);
        assert_int_equal(st.submit_errors, 0);  /* b's errno came after its timeout */
        assert_int_equal(st.late, 1);
        assert_int_equal(st.inflight, 0);
        assert_int_equal(st.queued, 0);
        memset(want, 0x5e, sizeof(want));
        pread_check(back, 0, want, sizeof(want));

        /* All three are usable again. */
        assert_int_equal(do_io(fx, q, &ro_rec, MMPD_IO_READ, 0, 4096), 4096);
        assert_int_equal(((unsigned char *) mmpd_ioreq_buf(q))[0], 0x77);
        assert_int_equal(do_io(fx, b, &rb, MMPD_IO_WRITE, 0, 4096), -EBADF);
        assert_int_equal(do_io(fx, s, &rs, MMPD_IO_READ, 0, 4096), 4096);
        assert_memory_equal(mmpd_ioreq_buf(s), want, 4096);
        ev_timer_stop(fx->loop, &tick);
        mmpd_ioreq_free(s);
        mmpd_ioreq_free(b);
        mmpd_ioreq_free(q);
}

/* echo VALUE > /sys/block/NAME/queue/KEY for the loop device @node, put
 * back by the teardown. */
static void queue_set(struct fx *fx, const char *node, const char *key, const char *value)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "/sys/block/%s/queue/%s", strrchr(node, '/') + 1, key);
        fx_sysfs_set(fx, path, value);
}

/*
 * A device whose request queue is full makes io_submit() sleep for a
 * request slot (tag), however healthy the other devices are: the loop
 * device here has 4 slots, and 4 writes that its frozen backing file
 * system holds take them all.  A fifth write to it and a read of another
 * device go in one batch, the write first.  The write's RWF_NOWAIT
 * submission comes back -EAGAIN at once and goes again on the blocking
 * lane, where it waits for a slot; the read lands at once.  After the
 * thaw all five writes land.  (With one lane and no RWF_NOWAIT, the read
 * waited for the thaw.)
 */
static void test_queue_full(void **state)
{
        enum { STRIDE = 65536 };        /* apart: the block layer merges neighbours */
        struct fx *fx = *state;
        _cleanup_free_ char *outer = NULL, *back = NULL, *other_path = NULL;
        _cleanup_close_ int mntfd = -1;
        static struct thaw_later thaw;  /* outlives a failed assertion */
        struct rec rw[5] = {}, rq = {};
        struct mmpd_ioreq *w[5], *q;
        struct mmpd_dev *full, *other;
        struct mmpd_io_stats st;
        mmp_usec_t t0, dl;
        unsigned char want[4096];
        const char *node;
        pthread_t tid;

        thaw = (struct thaw_later) { .ms = 1000 };
        outer = mount_scratch(fx);
        back = scratch_file(fx, "back.img", 256);
        node = loop_attach(fx, back, 0);
        queue_set(fx, node, "scheduler", "none");
        queue_set(fx, node, "nr_requests", "4");
        full = open_dev(fx, node);
        assert_true(mmpd_dev_is_block(full) && mmpd_dev_is_direct(full));
        other_path = make_file(fx, "other.img", 65536, 0x3c);
        other = open_dev(fx, other_path);
        for (int i = 0; i < 5; i++) {
                w[i] = new_req(fx, full, 4096, &rw[i]);
                memset(mmpd_ioreq_buf(w[i]), 0x60 + i, 4096);
        }
        q = new_req(fx, other, 4096, &rq);

        mntfd = freeze_scratch(fx);
        thaw.mntfd = mntfd;
        assert_int_equal(pthread_create(&tid, NULL, thaw_thread, &thaw), 0);

        dl = mmpd_now() + 5 * 1000 * MSEC;
        for (int i = 0; i < 4; i++)
                assert_int_equal(mmpd_ioreq_submit(w[i], MMPD_IO_WRITE, STRIDE * (uint64_t) i, 4096, dl), 0);
        run_for(fx, 0.1);
        mmpd_io_get_stats(fx->io, &st);
        assert_int_equal(st.inflight, 4);
        assert_int_equal(rw[0].n_cb + rw[1].n_cb + rw[2].n_cb + rw[3].n_cb, 0);

        /* One batch: the fifth write first, then the read. */
        t0 = mmpd_now();
        assert_int_equal(mmpd_ioreq_submit(w[4], MMPD_IO_WRITE, 4 * STRIDE, 4096, dl), 0);
        assert_int_equal(mmpd_ioreq_submit(q, MMPD_IO_READ, 0, 4096, dl), 0);
        assert_true(run_until(fx, &rq.n_cb, 1, GUARD_S));
        fprintf(stderr, "# queue full: the other device's read landed after %lld us, thaw at %+lld us\n",
                (long long) (rq.t_cb - t0), thaw.at ? (long long) (thaw.at - t0) : -1LL);
        assert_int_equal(rq.result, 4096);
        assert_int_equal(((unsigned char *) mmpd_ioreq_buf(q))[0], 0x3c);
        assert_int_equal(thaw.at, 0);           /* while the queue was full */
        assert_true(rq.t_cb - t0 < 200 * MSEC);
        mmpd_io_get_stats(fx->io, &st);
        assert_int_equal(st.punted, 1);
        assert_int_equal(st.nowait_refused, 0);
        assert_int_equal(rw[4].n_cb, 0);        /* waiting for a slot */

        for (int i = 0; i < 5; i++)
                assert_true(run_until(fx, &rw[i].n_cb, 1, GUARD_S));
        assert_int_equal(pthread_join(tid, NULL), 0);
        fx->frozen = false;
        assert_true(thaw.at > 0);
        for (int i = 0; i < 5; i++) {
                assert_int_equal(rw[i].result, 4096);
                assert_true(rw[i].t_cb >= thaw.at);
                memset(want, 0x60 + i, sizeof(want));
                pread_check(back, STRIDE * (uint64_t) i, want, sizeof(want));
        }
        mmpd_io_get_stats(fx->io, &st);
        assert_int_equal(st.punted, 1);
        assert_int_equal(st.timeouts, 0);
        assert_int_equal(st.inflight, 0);
        assert_int_equal(st.queued, 0);
        assert_int_equal(st.submitted, st.completed);
        for (int i = 0; i < 5; i++)
                mmpd_ioreq_free(w[i]);
        mmpd_ioreq_free(q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)
                T(test_loop_roundtrip),
                T(test_loop_4k),
                T(test_loop_adopt),
                T(test_loop_busy),
                T(test_loop_errors),
                T(test_loop_stuck),
                T(test_submit_sleeps),
                T(test_queue_full),
#undef T
        };
        const char *ci = getenv("CI");

        if (geteuid() != 0) {
                if (ci && strcmp(ci, "true") == 0) {
                        printf("Bail out! needs root for loop devices (CI=true: not skipping)\n");
                        return EXIT_FAILURE;
                }
                printf("1..0 # SKIP needs root for loop devices\n");
                return EXIT_SUCCESS;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
