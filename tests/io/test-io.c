/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mmpd/io.c against regular files, as any user: round trips checked with a
 * separate pread(), batching (200 volumes, one io_submit()), the in-flight
 * bound, argument checks, short transfers, io_submit() errors delivered
 * from the loop, fd adoption, and the free paths.  Run it under valgrind
 * too.  Loop devices and the stuck-device deadline test are in
 * test-io-loop.c (root).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
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

#include "mmpd/io-internal.h"      /* test_nowait_refused sets dev->nowait */
#include "tests/io/io-fixture.h"

static void test_now(void **state)
{
        struct timespec ts;
        mmp_usec_t a, b, c;

        a = mmpd_now();
        assert_int_equal(clock_gettime(CLOCK_BOOTTIME, &ts), 0);
        b = (mmp_usec_t) ts.tv_sec * MMP_USEC_PER_SEC + (mmp_usec_t) ts.tv_nsec / 1000;
        c = mmpd_now();
        assert_true(a <= b && b <= c);
        assert_true(c - a < 100 * MSEC);
}

static void test_file_roundtrip(void **state)
{
        struct fx *fx = *state;
        _cleanup_free_ char *path = make_file(fx, "img", 1 << 20, 0);
        struct mmpd_dev *dev = open_dev(fx, path);
        size_t align = mmpd_dev_align(dev);

        assert_false(mmpd_dev_is_block(dev));
        assert_int_equal(mmpd_dev_rdev(dev), 0);
        assert_int_equal(mmpd_dev_size(dev), 1 << 20);
        assert_string_equal(mmpd_dev_path(dev), path);
        assert_true(align >= 512 && !(align & (align - 1)));
        assert_true(mmpd_dev_fd(dev) >= 0 && mmpd_dev_anchor_fd(dev) >= 0);
        assert_int_not_equal(mmpd_dev_fd(dev), mmpd_dev_anchor_fd(dev));
        assert_true(fcntl(mmpd_dev_fd(dev), F_GETFD) & FD_CLOEXEC);
        /* Our own file: reads do not update its atime. */
        assert_true(fcntl(mmpd_dev_fd(dev), F_GETFL) & O_NOATIME);
        fprintf(stderr, "# %s: align %zu, %s\n", path, align,
                mmpd_dev_is_direct(dev) ? "O_DIRECT" : "buffered");

        if (align <= 1024)
                roundtrip(fx, dev, path, 4096, 1024, 0x11);
        roundtrip(fx, dev, path, 8192, 4096, 0x22);
}

/* tmpfs refuses O_DIRECT: the image falls back to buffered I/O. */
static void unlinkp(char **path)
{
        if (*path) {
                unlink(*path);
                free(*path);
        }
}

/* A regular file without O_DIRECT is used buffered, with 512 alignment. */
static void test_file_buffered(void **state)
{
        struct fx *fx = *state;
        _cleanup_free_ char *path = make_file(fx, "img", 65536, 0);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
        struct mmpd_dev *dev = NULL;

        assert_true(fd >= 0);
        assert_int_equal(mmpd_dev_adopt(fd, path, &dev), 0);
        keep_dev(fx, dev);
        assert_false(mmpd_dev_is_direct(dev));
        assert_false(mmpd_dev_is_block(dev));
        assert_int_equal(mmpd_dev_align(dev), 512);
        assert_false(fcntl(mmpd_dev_fd(dev), F_GETFL) & O_DIRECT);
        roundtrip(fx, dev, path, 1024, 1024, 0x21);
        roundtrip(fx, dev, path, 4096, 4096, 0x43);
}

/* tmpfs: O_DIRECT since Linux 6.6, refused before; either way it works. */
static void test_file_tmpfs(void **state)
{
        struct fx *fx = *state;
        __attribute__((cleanup(unlinkp))) char *path = NULL;
        struct mmpd_dev *dev;
        int fd;

        if (access("/dev/shm", W_OK) < 0) {
                fprintf(stderr, "# no writable /dev/shm: case not run\n");
                return;
        }
        assert_true(asprintf(&path, "/dev/shm/mmpd-io-%d", (int) getpid()) > 0);
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 65536), 0);
        close(fd);
        dev = open_dev(fx, path);
        fprintf(stderr, "# tmpfs: align %zu, %s\n", mmpd_dev_align(dev),
                mmpd_dev_is_direct(dev) ? "O_DIRECT" : "buffered");
        assert_int_equal(!!mmpd_dev_is_direct(dev), !!(fcntl(mmpd_dev_fd(dev), F_GETFL) & O_DIRECT));
        if (mmpd_dev_align(dev) <= 1024)
                roundtrip(fx, dev, path, 1024, 1024, 0x21);
        roundtrip(fx, dev, path, 4096, 4096, 0x43);
}

/*
 * A device that refuses RWF_NOWAIT: tmpfs files have no FMODE_NOWAIT, so
 * io_submit() refuses the flag with -EOPNOTSUPP (block devices, where the
 * engine sets it, refuse it the same way when their driver cannot honour
 * it).  The request goes again without it and lands; so does the one
 * behind it in the batch; the device gets no RWF_NOWAIT from then on.
 */
static void test_nowait_refused(void **state)
{
        struct fx *fx = *state;
        __attribute__((cleanup(unlinkp))) char *path = NULL;
        _cleanup_free_ char *other_path = NULL;
        struct mmpd_dev *dev, *other;
        struct mmpd_ioreq *a, *b;
        struct rec ra = {}, rb = {};
        struct mmpd_io_stats st;
        mmp_usec_t dl;
        int fd;

        if (access("/dev/shm", W_OK) < 0) {
                fprintf(stderr, "# no writable /dev/shm: case not run\n");
                return;
        }
        assert_true(asprintf(&path, "/dev/shm/mmpd-io-nowait-%d", (int) getpid()) > 0);
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 65536), 0);
        assert_int_equal(pwrite(fd, "\x5a", 1, 4096), 1);
        close(fd);
        dev = open_dev(fx, path);
        dev->nowait = true;     /* as for a block device */
        other_path = make_file(fx, "other.img", 65536, 0x17);
        other = open_dev(fx, other_path);
        a = new_req(fx, dev, 4096, &ra);
        b = new_req(fx, other, 4096, &rb);

        dl = mmpd_now() + 2 * 1000 * MSEC;
        assert_int_equal(mmpd_ioreq_submit(a, MMPD_IO_READ, 4096, 4096, dl), 0);
        assert_int_equal(mmpd_ioreq_submit(b, MMPD_IO_READ, 0, 4096, dl), 0);
        assert_true(run_until(fx, &ra.n_cb, 1, GUARD_S));
        assert_true(run_until(fx, &rb.n_cb, 1, GUARD_S));
        assert_int_equal(ra.result, 4096);
        assert_int_equal(((unsigned char *) mmpd_ioreq_buf(a))[0], 0x5a);
        assert_int_equal(rb.result, 4096);
        assert_int_equal(((unsigned char *) mmpd_ioreq_buf(b))[0], 0x17);
        assert_false(dev->nowait);
        mmpd_io_get_stats(fx->io, &st);
        assert_int_equal(st.nowait_refused, 1);
        assert_int_equal(st.submit_errors, 0);
        assert_int_equal(st.punted, 0);

        /* Without the flag from now on: no second refusal. */
        assert_int_equal(do_io(fx, a, &ra, MMPD_IO_READ, 4096, 4096), 4096);
        mmpd_io_get_stats(fx->io, &st);
        assert_int_equal(st.nowait_refused, 1);
        assert_int_equal(st.inflight, 0);
        assert_int_equal(st.queued, 0);
        assert_int_equal(st.submitted, st.completed);
        mmpd_ioreq_free(a);
        mmpd_ioreq_free(b);
}

static void inc_then_write(struct mmpd_ioreq *req, struct rec *rec);

/* 200 volumes, one request each, submitted in one loop iteration. */
static void test_batch_200(void **state)
{
        struct fx *fx = *state;
        enum { N = 200 };
        struct mmpd_ioreq *req[N];
        struct rec rec[N];
        char *paths[N];
        struct mmpd_io_stats s0, s1, s2;
        int done = 0;

        for (int i = 0; i < N; i++) {
                char name[32];
                struct mmpd_dev *dev;

                snprintf(name, sizeof(name), "vol%03d", i);
                paths[i] = make_file(fx, name, 8192, i & 0xff);
                dev = open_dev(fx, paths[i]);
                rec[i] = (struct rec) { .done = &done, .tag = (unsigned) i };
                req[i] = new_req(fx, dev, 4096, &rec[i]);
        }

        mmpd_io_get_stats(fx->io, &s0);
        /* AIO slots are reserved as needed, not max_inflight (256) at once:
         * fs.aio-max-nr is system-wide. */
        assert_int_equal(s0.aio_slots, 64);
        for (int i = 0; i < N; i++)
                assert_int_equal(mmpd_ioreq_submit(req[i], MMPD_IO_READ, 0, 4096,
                                                   mmpd_now() + 5 * MMP_USEC_PER_SEC), 0);
        assert_int_equal(done, 0);
        assert_true(run_until(fx, &done, N, GUARD_S));
        mmpd_io_get_stats(fx->io, &s1);
        fprintf(stderr, "# %d reads: %" PRIu64 " io_submit call(s)\n",
                N, s1.submit_calls - s0.submit_calls);
        assert_true(s1.submit_calls - s0.submit_calls <= 2);
        /* grown once, to fit all that waited */
        assert_int_equal(s1.aio_slots, N);
        assert_int_equal(s1.submitted - s0.submitted, N);
        for (int i = 0; i < N; i++) {
                unsigned char *b = mmpd_ioreq_buf(req[i]);

                assert_int_equal(rec[i].result, 4096);
                assert_int_equal(b[0], i & 0xff);
                assert_int_equal(b[4095], i & 0xff);
        }

        /* Read-modify-write from inside the callbacks: each batch of
         * completions goes back out with one io_submit(). */
        done = 0;
        for (int i = 0; i < N; i++) {
                rec[i].then = inc_then_write;
                rec[i].tag = 1;         /* the next callback is for the read */
                assert_int_equal(mmpd_ioreq_submit(req[i], MMPD_IO_READ, 0, 4096,
                                                   mmpd_now() + 5 * MMP_USEC_PER_SEC), 0);
        }
        assert_true(run_until(fx, &done, 2 * N, GUARD_S));
        mmpd_io_get_stats(fx->io, &s2);
        fprintf(stderr, "# %d read+write cycles: %" PRIu64 " io_submit call(s)\n",
                N, s2.submit_calls - s1.submit_calls);
        assert_true(s2.submit_calls - s1.submit_calls < N);
        for (int i = 0; i < N; i++) {
                unsigned char want[4096];

                assert_int_equal(rec[i].result, 4096);
                memset(want, (i + 1) & 0xff, sizeof(want));
                pread_check(paths[i], 0, want, sizeof(want));
                mmpd_ioreq_free(req[i]);
                free(paths[i]);
        }
}

static void inc_then_write(struct mmpd_ioreq *req, struct rec *rec)
{
        unsigned char *b = mmpd_ioreq_buf(req);

        if (rec->tag == 1) {            /* the read is done: write b + 1 */
                rec->tag = 2;
                assert_int_equal(rec->result, 4096);
                memset(b, (b[0] + 1) & 0xff, 4096);
                assert_int_equal(mmpd_ioreq_submit(req, MMPD_IO_WRITE, 0, 4096,
                                                   mmpd_now() + 5 * MMP_USEC_PER_SEC), 0);
        }
}

/* No more than max_inflight in the kernel; the rest wait their turn. */
static void test_inflight_limit(void **state)
{
        struct fx *fx = *state;
        enum { N = 20 };
        struct mmpd_io *io = NULL;
        struct mmpd_ioreq *req[N];
        struct rec rec[N];
        struct mmpd_io_stats st;
        _cleanup_free_ char *path = make_file(fx, "img", N * 4096, 0x5a);
        struct mmpd_dev *dev = open_dev(fx, path);
        int done = 0;

        /* A second engine on the same loop, with 4 slots. */
        assert_int_equal(mmpd_io_new(fx->loop, 4, &io), 0);
        for (int i = 0; i < N; i++) {
                rec[i] = (struct rec) { .done = &done };
                assert_int_equal(mmpd_ioreq_new(io, dev, 4096, rec_cb, rec_idle, &rec[i], &req[i]), 0);
                assert_int_equal(mmpd_ioreq_submit(req[i], MMPD_IO_READ, (uint64_t) i * 4096, 4096,
                                                   MMP_USEC_INFINITY), 0);
        }
        ev_run(fx->loop, EVRUN_NOWAIT);        /* one iteration: one batch */
        mmpd_io_get_stats(io, &st);
        assert_int_equal(st.inflight, 4);
        assert_int_equal(st.queued, N - 4);
        assert_true(run_until(fx, &done, N, GUARD_S));
        mmpd_io_get_stats(io, &st);
        assert_int_equal(st.submitted, N);
        assert_int_equal(st.inflight, 0);
        assert_int_equal(st.queued, 0);
        for (int i = 0; i < N; i++) {
                assert_int_equal(rec[i].result, 4096);
                assert_int_equal(((unsigned char *) mmpd_ioreq_buf(req[i]))[0], 0x5a);
        }
        /* Left for mmpd_io_free() to take. */
        mmpd_io_free(io);
}

static void test_submit_validation(void **state)
{
        struct fx *fx = *state;
        _cleanup_free_ char *path = make_file(fx, "img", 65536, 0);
        struct mmpd_dev *dev = open_dev(fx, path);
        size_t a = mmpd_dev_align(dev);
        struct rec rec = {};
        struct mmpd_ioreq *req = new_req(fx, dev, 1000, &rec);       /* rounds up */
        struct mmpd_ioreq *sentinel = (struct mmpd_ioreq *) &rec;
        mmp_usec_t dl = mmpd_now() + 5 * MMP_USEC_PER_SEC;

        assert_int_equal(mmpd_ioreq_submit(req, MMPD_IO_READ, a / 2, a, dl), -EINVAL);
        assert_int_equal(mmpd_ioreq_submit(req, MMPD_IO_READ, 0, 0, dl), -EINVAL);
        assert_int_equal(mmpd_ioreq_submit(req, MMPD_IO_READ, 0, a / 2, dl), -EINVAL);
        assert_int_equal(mmpd_ioreq_submit(req, MMPD_IO_READ, 0, 2 * a + 1000, dl), -EINVAL);
        assert_int_equal(mmpd_ioreq_submit(req, (enum mmpd_io_op) 7, 0, a, dl), -EINVAL);
        assert_int_equal(mmpd_ioreq_submit(req, MMPD_IO_READ, UINT64_MAX - a + 1, a, dl), -EINVAL);
        assert_false(mmpd_ioreq_busy(req));

        assert_int_equal(mmpd_ioreq_submit(req, MMPD_IO_READ, 0, a, dl), 0);
        assert_int_equal(mmpd_ioreq_submit(req, MMPD_IO_READ, 0, a, dl), -EBUSY);
        assert_true(run_until(fx, &rec.n_cb, 1, GUARD_S));
        assert_int_equal(rec.result, (ssize_t) a);
        assert_int_equal(rec.n_cb, 1);
        assert_false(rec.busy_in_cb);   /* idle in its callback: may resubmit */

        /* ret_* untouched on failure */
        assert_int_equal(mmpd_ioreq_new(fx->io, dev, 0, rec_cb, NULL, NULL, &sentinel), -EINVAL);
        assert_ptr_equal(sentinel, (struct mmpd_ioreq *) &rec);
        assert_int_equal(mmpd_ioreq_new(fx->io, dev, 512, NULL, NULL, NULL, &sentinel), -EINVAL);
        assert_ptr_equal(sentinel, (struct mmpd_ioreq *) &rec);
        mmpd_ioreq_free(req);
}

/* A short transfer is -EIO: past the end of a 1536-byte file. */
static void test_short_io(void **state)
{
        struct fx *fx = *state;
        _cleanup_free_ char *path = make_file(fx, "short", 1536, 0x33);
        struct mmpd_dev *dev = open_dev(fx, path);
        struct rec rec = {};
        struct mmpd_ioreq *req = new_req(fx, dev, 4096, &rec);

        if (mmpd_dev_align(dev) > 512) {
                fprintf(stderr, "# alignment %zu: case needs 512, not run\n", mmpd_dev_align(dev));
                return;
        }
        assert_int_equal(do_io(fx, req, &rec, MMPD_IO_READ, 1024, 1024), -EIO);
        assert_int_equal(do_io(fx, req, &rec, MMPD_IO_READ, 8192, 512), -EIO);
        assert_int_equal(do_io(fx, req, &rec, MMPD_IO_READ, 1024, 512), 512);
        mmpd_ioreq_free(req);
}

static void read_after_error(struct mmpd_ioreq *req, struct rec *rec)
{
        if (rec->n_cb == 1)
                assert_int_equal(mmpd_ioreq_submit(req, MMPD_IO_READ, 0, 512, MMP_USEC_INFINITY), 0);
}

/* io_submit() refusing an iocb (EBADF: fd not open for writing) reaches
 * the callback from the loop, not from inside submit(). */
static void test_submit_error_async(void **state)
{
        struct fx *fx = *state;
        _cleanup_free_ char *path = make_file(fx, "ro", 4096, 0x44);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
        _cleanup_close_ int ro = open(path, O_RDONLY | O_CLOEXEC);
        struct mmpd_dev *dev = NULL;
        struct mmpd_io_stats st;
        struct rec rec = { .then = read_after_error };
        struct mmpd_ioreq *req;

        assert_true(fd >= 0 && ro >= 0);
        /* A read-only fd is refused at adoption ... */
        assert_int_equal(mmpd_dev_adopt(ro, path, &dev), -EBADF);
        assert_int_equal(mmpd_dev_adopt(fd, path, &dev), 0);
        keep_dev(fx, dev);
        /* ... so make the engine's own fd read-only behind its back. */
        assert_int_equal(dup3(ro, mmpd_dev_fd(dev), O_CLOEXEC), mmpd_dev_fd(dev));
        assert_false(mmpd_dev_is_direct(dev));
        req = new_req(fx, dev, 512, &rec);

        assert_int_equal(mmpd_ioreq_submit(req, MMPD_IO_WRITE, 0, 512, MMP_USEC_INFINITY), 0);
        assert_int_equal(rec.n_cb, 0);
        assert_true(run_until(fx, &rec.n_cb, 1, GUARD_S));
        assert_int_equal(rec.result, -EBADF);
        assert_false(rec.busy_in_cb);
        /* ...and its callback could resubmit at once. */
        assert_true(run_until(fx, &rec.n_cb, 2, GUARD_S));
        assert_int_equal(rec.result, 512);
        assert_int_equal(((unsigned char *) mmpd_ioreq_buf(req))[0], 0x44);
        mmpd_io_get_stats(fx->io, &st);
        assert_int_equal(st.submit_errors, 1);
        mmpd_ioreq_free(req);
}

/*
 * A batch whose third iocb io_submit() refuses: the two before it are the
 * kernel's, the refused one hears its errno, and the two after it go out
 * again, in order, and complete.
 */
static void test_submit_error_mid_batch(void **state)
{
        struct fx *fx = *state;
        enum { N = 5, BAD = 2 };
        _cleanup_free_ char *good_path = make_file(fx, "good", N * 4096, 0x21);
        _cleanup_free_ char *bad_path = make_file(fx, "bad", 4096, 0x22);
        _cleanup_close_ int fd = open(bad_path, O_RDWR | O_CLOEXEC);
        _cleanup_close_ int ro = open(bad_path, O_RDONLY | O_CLOEXEC);
        struct mmpd_dev *good = open_dev(fx, good_path), *bad = NULL;
        struct mmpd_io_stats s0, s1;
        struct mmpd_ioreq *req[N];
        struct rec rec[N];
        int done = 0;

        assert_true(fd >= 0 && ro >= 0);
        assert_int_equal(mmpd_dev_adopt(fd, bad_path, &bad), 0);
        keep_dev(fx, bad);
        assert_int_equal(dup3(ro, mmpd_dev_fd(bad), O_CLOEXEC), mmpd_dev_fd(bad));
        for (int i = 0; i < N; i++) {
                rec[i] = (struct rec) { .done = &done };
                req[i] = new_req(fx, i == BAD ? bad : good, 4096, &rec[i]);
                memset(mmpd_ioreq_buf(req[i]), 0x30 + i, 4096);
        }
        mmpd_io_get_stats(fx->io, &s0);
        /* All five in one loop iteration: one batch. */
        for (int i = 0; i < N; i++)
                assert_int_equal(mmpd_ioreq_submit(req[i], MMPD_IO_WRITE, i == BAD ? 0 : (uint64_t) i * 4096,
                                                   4096, mmpd_now() + 5 * MMP_USEC_PER_SEC), 0);
        assert_true(run_until(fx, &done, N, GUARD_S));
        mmpd_io_get_stats(fx->io, &s1);
        for (int i = 0; i < N; i++) {
                unsigned char want[4096];

                assert_int_equal(rec[i].n_cb, 1);
                if (i == BAD) {
                        assert_int_equal(rec[i].result, -EBADF);
                        continue;
                }
                assert_int_equal(rec[i].result, 4096);
                memset(want, 0x30 + i, sizeof(want));
                pread_check(good_path, (uint64_t) i * 4096, want, sizeof(want));
        }
        assert_int_equal(s1.submit_errors - s0.submit_errors, 1);
        assert_int_equal(s1.submitted - s0.submitted, N - 1);
        assert_int_equal(s1.inflight, 0);
        assert_int_equal(s1.queued, 0);
        for (int i = 0; i < N; i++)
                mmpd_ioreq_free(req[i]);
}

static void test_reject_types(void **state)
{
        struct fx *fx = *state;
        struct mmpd_dev *sentinel = (struct mmpd_dev *) fx, *dev = sentinel;
        char fifo[PATH_MAX + 8];
        int fd, sv[2];

        snprintf(fifo, sizeof(fifo), "%s/fifo", fx->dir);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        fd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(mmpd_dev_adopt(fd, fifo, &dev), -ENOTBLK);
        close(fd);
        assert_int_equal(mmpd_dev_open(fifo, &dev), -ENOTBLK);
        assert_int_equal(mmpd_dev_open(fx->dir, &dev), -ENOTBLK);
        assert_int_equal(mmpd_dev_open("/dev/null", &dev), -ENOTBLK);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(mmpd_dev_adopt(sv[0], "socket", &dev), -ENOTBLK);
        close(sv[0]);
        close(sv[1]);
        strcat(fifo, "-none");
        assert_int_equal(mmpd_dev_open(fifo, &dev), -ENOENT);
        assert_int_equal(mmpd_dev_adopt(-1, "x", &dev), -EBADF);
        assert_ptr_equal(dev, sentinel);
}

/* The dev owns dups; the caller's fd stays open and untouched. */
static void test_adopt_file(void **state)
{
        struct fx *fx = *state;
        _cleanup_free_ char *path = make_file(fx, "img", 65536, 0);
        _cleanup_close_ int fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
        struct mmpd_dev *dev = NULL;
        struct stat a, b;

        assert_true(fd >= 0);
        assert_int_equal(lseek(fd, 777, SEEK_SET), 777);
        assert_int_equal(mmpd_dev_adopt(fd, path, &dev), 0);
        keep_dev(fx, dev);
        assert_int_not_equal(mmpd_dev_fd(dev), fd);
        assert_int_not_equal(mmpd_dev_anchor_fd(dev), fd);
        assert_true(mmpd_dev_is_direct(dev));
        assert_int_equal(fstat(fd, &a), 0);
        assert_int_equal(fstat(mmpd_dev_fd(dev), &b), 0);
        assert_int_equal(a.st_ino, b.st_ino);

        roundtrip(fx, dev, path, 4096, 4096, 0x66);
        assert_int_equal(lseek(fd, 0, SEEK_CUR), 777);  /* positioned I/O only */

        drop_dev(fx, dev);
        mmpd_dev_free(dev);
        assert_true(fcntl(fd, F_GETFD) >= 0);
        assert_int_equal(fstat(fd, &b), 0);
        assert_int_equal(a.st_ino, b.st_ino);
}

/* Freeing: queued requests at once, devices only when unused, the engine
 * takes what is left (valgrind checks the leaks). */
static void test_free_paths(void **state)
{
        struct fx *fx = *state;
        _cleanup_free_ char *path = make_file(fx, "img", 65536, 0x77);
        struct mmpd_dev *dev = open_dev(fx, path);
        struct rec r1 = {}, r2 = {}, r3 = {};
        struct mmpd_ioreq *q1 = new_req(fx, dev, 4096, &r1);
        struct mmpd_ioreq *q2 = new_req(fx, dev, 4096, &r2);
        struct mmpd_ioreq *q3 = new_req(fx, dev, 4096, &r3);
        struct mmpd_io_stats st;

        /* Queued, never submitted: gone at once, no callback. */
        assert_int_equal(mmpd_ioreq_submit(q1, MMPD_IO_READ, 0, 4096, mmpd_now() + MMP_USEC_PER_SEC), 0);
        mmpd_ioreq_free(q1);
        mmpd_io_get_stats(fx->io, &st);
        assert_int_equal(st.queued, 0);

        /* The device outlives mmpd_dev_free() while q2 uses it. */
        drop_dev(fx, dev);
        mmpd_dev_free(dev);
        assert_int_equal(do_io(fx, q2, &r2, MMPD_IO_READ, 0, 4096), 4096);
        assert_int_equal(((unsigned char *) mmpd_ioreq_buf(q2))[0], 0x77);
        run_for(fx, 0.05);
        assert_int_equal(r1.n_cb, 0);

        /* Busy when the engine goes: no callback, no leak. */
        assert_int_equal(mmpd_ioreq_submit(q3, MMPD_IO_READ, 0, 4096, MMP_USEC_INFINITY), 0);
        mmpd_io_free(fx->io);
        assert_int_equal(mmpd_io_new(fx->loop, 256, &fx->io), 0);
        assert_int_equal(r3.n_cb, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_now),
#define T(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)
                T(test_file_roundtrip),
                T(test_file_buffered),
                T(test_file_tmpfs),
                T(test_nowait_refused),
                T(test_batch_200),
                T(test_inflight_limit),
                T(test_submit_validation),
                T(test_short_io),
                T(test_submit_error_async),
                T(test_submit_error_mid_batch),
                T(test_reject_types),
                T(test_adopt_file),
                T(test_free_paths),
#undef T
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
