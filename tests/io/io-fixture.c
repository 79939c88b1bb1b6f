/* SPDX-License-Identifier: GPL-2.0-or-later */
/* See io-fixture.h. */
#include <errno.h>
#include <fcntl.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "tests/io/io-fixture.h"

static bool sysfs_write(const char *path, const char *value);

/* The kernel ignores their argument; valgrind wants it addressable. */
#ifndef FITHAW
#define FITHAW   _IOWR('X', 120, int)
#endif

int fx_setup(void **state)
{
        struct fx *fx = calloc(1, sizeof(*fx));
        const char *tmp = getenv("TMPDIR");

        assert_non_null(fx);
        fx->loop = ev_loop_new(EVFLAG_AUTO);
        assert_non_null(fx->loop);
        assert_int_equal(mmpd_io_new(fx->loop, 256, &fx->io), 0);
        snprintf(fx->dir, sizeof(fx->dir), "%s/mmpd-io-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(fx->dir));
        fx->devs = calloc(FX_MAX_DEVS, sizeof(*fx->devs));
        assert_non_null(fx->devs);
        *state = fx;
        return 0;
}

static void guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
        *(bool *) w->data = true;
}

/* Run the loop until *@counter >= @target or @timeout_s passed. */
bool run_until(struct fx *fx, const int *counter, int target, double timeout_s)
{
        bool expired = false;
        ev_timer guard;

        ev_now_update(fx->loop);
        ev_timer_init(&guard, guard_cb, timeout_s, 0.);
        guard.data = &expired;
        ev_timer_start(fx->loop, &guard);
        while (*counter < target && !expired)
                ev_run(fx->loop, EVRUN_ONCE);
        ev_timer_stop(fx->loop, &guard);
        return *counter >= target;
}

/* Let the loop run for @s seconds (timers, not sleep). */
void run_for(struct fx *fx, double s)
{
        int never = 0;

        assert_false(run_until(fx, &never, 1, s));
}

unsigned io_inflight(struct mmpd_io *io)
{
        struct mmpd_io_stats st;

        mmpd_io_get_stats(io, &st);
        return st.inflight + st.queued;
}

int fx_teardown(void **state)
{
        struct fx *fx = *state;
        char cmd[PATH_MAX + 64];

        if (fx->frozen) {
                int fd = open(fx->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                if (fd >= 0) {
                        (void) ioctl(fd, FITHAW, &(int) {0});
                        close(fd);
                }
        }
        /* Drain, so nothing is left to the kernel at exit. */
        for (int i = 0; i < 100 && io_inflight(fx->io) > 0; i++)
                run_for(fx, 0.1);
        mmpd_io_free(fx->io);
        ev_loop_destroy(fx->loop);
        for (size_t i = 0; i < fx->n_devs; i++)
                mmpd_dev_free(fx->devs[i]);
        free(fx->devs);
        for (int i = fx->n_sysfs - 1; i >= 0; i--)
                if (!sysfs_write(fx->sysfs[i].path, fx->sysfs[i].value))
                        fprintf(stderr, "# putting back %s = %s failed\n",
                                fx->sysfs[i].path, fx->sysfs[i].value);
        /* Loop devices backed by files on the mount go first, then the
         * mount, then the rest. */
        for (int pass = 0; pass < 2; pass++) {
                for (int i = fx->n_loops - 1; i >= 0; i--) {
                        if (fx->loop_on_mnt[i] != (pass == 0))
                                continue;
                        snprintf(cmd, sizeof(cmd), "losetup -d %s", fx->loops[i]);
                        if (system(cmd) != 0)
                                fprintf(stderr, "# '%s' failed\n", cmd);
                }
                if (pass == 0 && fx->mounted && umount2(fx->mnt, 0) < 0)
                        fprintf(stderr, "# umount %s: %m\n", fx->mnt);
        }
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
        if (system(cmd) != 0)
                fprintf(stderr, "# '%s' failed\n", cmd);
        free(fx);
        return 0;
}

char *make_file(struct fx *fx, const char *name, off_t size, int fill)
{
        char *path;
        char *buf;
        int fd;

        assert_true(asprintf(&path, "%s/%s", fx->dir, name) > 0);
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        /* Allocated, not sparse: an O_DIRECT overwrite then needs no
         * block allocation in io_submit(). */
        buf = malloc((size_t) size);
        assert_non_null(buf);
        memset(buf, fill, (size_t) size);
        assert_int_equal(pwrite(fd, buf, (size_t) size, 0), (ssize_t) size);
        free(buf);
        assert_int_equal(fsync(fd), 0);
        assert_int_equal(close(fd), 0);
        return path;
}

void run_cmd(const char *fmt, ...)
{
        char cmd[2 * PATH_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        if (system(cmd) != 0)
                fail_msg("'%s' failed", cmd);
}

/* losetup -f --show --direct-io=on [-b SECTOR] IMG; returns the node. */
const char *loop_attach(struct fx *fx, const char *img, unsigned sector)
{
        char cmd[PATH_MAX + 128], sz[32] = "";
        char *dev;
        FILE *p;

        assert_true(fx->n_loops < MAX_LOOPS);
        if (sector)
                snprintf(sz, sizeof(sz), "--sector-size %u ", sector);
        snprintf(cmd, sizeof(cmd), "losetup -f --show --direct-io=on %s'%s'", sz, img);
        p = popen(cmd, "r");
        assert_non_null(p);
        dev = fx->loops[fx->n_loops];
        if (!fgets(dev, sizeof(fx->loops[0]), p))
                dev[0] = '\0';
        if (pclose(p) != 0 || strncmp(dev, "/dev/loop", 9) != 0)
                fail_msg("'%s' failed", cmd);
        dev[strcspn(dev, "\n")] = '\0';
        fx->loop_on_mnt[fx->n_loops] = fx->mnt[0] && strncmp(img, fx->mnt, strlen(fx->mnt)) == 0;
        fx->n_loops++;
        return dev;
}

static bool sysfs_write(const char *path, const char *value)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        bool ok;

        if (fd < 0)
                return false;
        ok = write(fd, value, strlen(value)) == (ssize_t) strlen(value);
        close(fd);
        return ok;
}

void fx_sysfs_set(struct fx *fx, const char *path, const char *value)
{
        char buf[256], *v, *end;
        ssize_t n;
        int fd;

        assert_true(fx->n_sysfs < FX_MAX_SYSFS);
        assert_true(strlen(path) < sizeof(fx->sysfs[0].path));
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        assert_true(n > 0);
        buf[n] = '\0';
        v = strchr(buf, '[');
        if (v) {
                v++;
                end = strchr(v, ']');
        } else {
                v = buf;
                end = strchr(v, '\n');
        }
        if (end)
                *end = '\0';
        assert_true(strlen(v) < sizeof(fx->sysfs[0].value));
        strcpy(fx->sysfs[fx->n_sysfs].path, path);
        strcpy(fx->sysfs[fx->n_sysfs].value, v);
        fx->n_sysfs++;
        assert_true(sysfs_write(path, value));
}

void keep_dev(struct fx *fx, struct mmpd_dev *dev)
{
        assert_true(fx->n_devs < FX_MAX_DEVS);
        fx->devs[fx->n_devs++] = dev;
}

struct mmpd_dev *open_dev(struct fx *fx, const char *path)
{
        struct mmpd_dev *dev = NULL;
        int r = mmpd_dev_open(path, &dev);

        if (r < 0)
                fail_msg("mmpd_dev_open(%s): %s", path, strerror(-r));
        keep_dev(fx, dev);
        return dev;
}

/* Forget a device the test freed itself. */
void drop_dev(struct fx *fx, struct mmpd_dev *dev)
{
        for (size_t i = 0; i < fx->n_devs; i++)
                if (fx->devs[i] == dev)
                        fx->devs[i] = NULL;
}

void rec_cb(struct mmpd_ioreq *req, ssize_t result, void *userdata)
{
        struct rec *rec = userdata;

        rec->n_cb++;
        rec->result = result;
        rec->t_cb = mmpd_now();
        rec->busy_in_cb = mmpd_ioreq_busy(req);
        if (rec->done)
                (*rec->done)++;
        if (rec->then)
                rec->then(req, rec);
}

void rec_idle(struct mmpd_ioreq *req, void *userdata)
{
        struct rec *rec = userdata;

        rec->n_idle++;
        rec->t_idle = mmpd_now();
}

struct mmpd_ioreq *new_req(struct fx *fx, struct mmpd_dev *dev, size_t size, struct rec *rec)
{
        struct mmpd_ioreq *req = NULL;

        assert_int_equal(mmpd_ioreq_new(fx->io, dev, size, rec_cb, rec_idle, rec, &req), 0);
        assert_non_null(req);
        assert_int_equal((uintptr_t) mmpd_ioreq_buf(req) % mmpd_dev_align(dev), 0);
        return req;
}

/* Submit, run to completion, return the result. */
ssize_t do_io(struct fx *fx, struct mmpd_ioreq *req, struct rec *rec,
                     enum mmpd_io_op op, uint64_t off, size_t len)
{
        int before = rec->n_cb;

        assert_int_equal(mmpd_ioreq_submit(req, op, off, len, mmpd_now() + 5 * MMP_USEC_PER_SEC), 0);
        assert_int_equal(rec->n_cb, before);    /* never from inside submit() */
        assert_true(mmpd_ioreq_busy(req));
        assert_true(run_until(fx, &rec->n_cb, before + 1, GUARD_S));
        assert_int_equal(rec->n_cb, before + 1);
        assert_false(mmpd_ioreq_busy(req));
        return rec->result;
}

void pread_check(const char *path, uint64_t off, const void *want, size_t len)
{
        char *got = malloc(len);
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        assert_non_null(got);
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, got, len, (off_t) off), (ssize_t) len);
        assert_memory_equal(got, want, len);
        close(fd);
        free(got);
}

/* Write @len bytes of @pattern at @off through the engine, check with a
 * separate pread of @check_path, read back through the engine. */
void roundtrip(struct fx *fx, struct mmpd_dev *dev, const char *check_path,
                      uint64_t off, size_t len, int pattern)
{
        struct rec wrec = {}, rrec = {};
        struct mmpd_ioreq *w = new_req(fx, dev, len, &wrec);
        struct mmpd_ioreq *r = new_req(fx, dev, len, &rrec);
        unsigned char *want = malloc(len);

        assert_non_null(want);
        for (size_t i = 0; i < len; i++)
                want[i] = (unsigned char) (pattern + i * 7);
        memcpy(mmpd_ioreq_buf(w), want, len);

        assert_int_equal(do_io(fx, w, &wrec, MMPD_IO_WRITE, off, len), (ssize_t) len);
        assert_true(mmpd_ioreq_last_duration(w) < 5 * MMP_USEC_PER_SEC);
        pread_check(check_path, off, want, len);

        assert_int_equal(do_io(fx, r, &rrec, MMPD_IO_READ, off, len), (ssize_t) len);
        assert_memory_equal(mmpd_ioreq_buf(r), want, len);

        mmpd_ioreq_free(w);
        mmpd_ioreq_free(r);
        free(want);
}

void assert_near(mmp_usec_t t, mmp_usec_t want, mmp_usec_t slack)
{
        long long d = (long long) t - (long long) want;

        if (d < -(long long) slack || d > (long long) slack)
                fail_msg("off by %lld us (allowed %llu)", d, (unsigned long long) slack);
}
