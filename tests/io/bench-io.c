/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-io: N volumes (small image files), each with one request doing
 * read-then-write cycles through mmpd/io.c, all in flight together, the way
 * the daemon heartbeats.  Prints I/Os per second and CPU time per I/O.
 * Not run by `make check`.
 *
 *   bench-io [-n VOLUMES] [-c CYCLES] [-s IO_BYTES] [-d DIR]
 *
 * Defaults: 1000 volumes, 20 cycles, 4096 bytes, $TMPDIR or /tmp.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>          /* MAX */
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "mmpd/io.h"

#define IMAGE_SIZE (64 * 1024)

struct vol {
        struct mmpd_dev *dev;
        struct mmpd_ioreq *req;
        char *path;
        unsigned cycles;
        bool writing;
};

static struct {
        unsigned n, cycles;
        size_t io_size;
        unsigned done, errors;
        mmp_usec_t worst;
} bench = { .n = 1000, .cycles = 20, .io_size = 4096 };

static mmp_usec_t deadline(void)
{
        return mmpd_now() + 5 * MMP_USEC_PER_SEC;
}

static void vol_cb(struct mmpd_ioreq *req, ssize_t result, void *userdata)
{
        struct vol *v = userdata;
        uint32_t *seq = mmpd_ioreq_buf(req);
        int r;

        if (result != (ssize_t) bench.io_size) {
                bench.errors++;
                bench.done++;
                return;
        }
        bench.worst = MAX(bench.worst, mmpd_ioreq_last_duration(req));
        if (!v->writing) {
                (*seq)++;
                v->writing = true;
                r = mmpd_ioreq_submit(req, MMPD_IO_WRITE, 0, bench.io_size, deadline());
        } else {
                v->writing = false;
                if (++v->cycles == bench.cycles) {
                        bench.done++;
                        return;
                }
                r = mmpd_ioreq_submit(req, MMPD_IO_READ, 0, bench.io_size, deadline());
        }
        if (r < 0) {
                bench.errors++;
                bench.done++;
        }
}

static int make_image(const char *path)
{
        static char zero[IMAGE_SIZE];
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd < 0 || pwrite(fd, zero, sizeof(zero), 0) != (ssize_t) sizeof(zero) || fsync(fd) < 0)
                return -errno;
        return 0;
}

static double tv_usec(struct timeval tv)
{
        return (double) tv.tv_sec * 1e6 + (double) tv.tv_usec;
}

static void usage(void)
{
        fprintf(stderr, "usage: bench-io [-n VOLUMES] [-c CYCLES] [-s IO_BYTES] [-d DIR]\n");
        exit(EXIT_FAILURE);
}

int main(int argc, char **argv)
{
        const char *tmp = getenv("TMPDIR");
        char dir[PATH_MAX];
        struct ev_loop *loop = EV_DEFAULT;
        struct mmpd_io *io = NULL;
        struct mmpd_io_stats s0, s1;
        struct rusage ru0, ru1;
        struct rlimit rl;
        struct vol *vols;
        mmp_usec_t t0, t1;
        double cpu_user, cpu_sys, secs;
        uint64_t ios;
        unsigned direct = 0;
        int c, r, ret = EXIT_FAILURE;

        snprintf(dir, sizeof(dir), "%s", tmp && *tmp ? tmp : "/tmp");
        while ((c = getopt(argc, argv, "n:c:s:d:h")) != -1) {
                switch (c) {
                case 'n': bench.n = (unsigned) strtoul(optarg, NULL, 0); break;
                case 'c': bench.cycles = (unsigned) strtoul(optarg, NULL, 0); break;
                case 's': bench.io_size = strtoul(optarg, NULL, 0); break;
                case 'd': snprintf(dir, sizeof(dir), "%s", optarg); break;
                default: usage();
                }
        }
        if (bench.n == 0 || bench.cycles == 0 || bench.io_size == 0 || bench.io_size > IMAGE_SIZE)
                usage();

        /* Two fds per volume (anchor + I/O); root may raise the hard limit. */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                rlim_t want = 2 * (rlim_t) bench.n + 64;

                if (rl.rlim_cur < want) {
                        struct rlimit up = { want, MAX(want, rl.rlim_max) };

                        if (setrlimit(RLIMIT_NOFILE, &up) < 0) {
                                rl.rlim_cur = rl.rlim_max;
                                (void) setrlimit(RLIMIT_NOFILE, &rl);
                        }
                }
        }
        strncat(dir, "/mmpd-bench-XXXXXX", sizeof(dir) - strlen(dir) - 1);
        if (!mkdtemp(dir)) {
                fprintf(stderr, "mkdtemp %s: %m\n", dir);
                return EXIT_FAILURE;
        }

        vols = calloc(bench.n, sizeof(*vols));
        if (!vols)
                goto out;
        r = mmpd_io_new(loop, bench.n, &io);
        if (r < 0) {
                fprintf(stderr, "mmpd_io_new: %s\n", strerror(-r));
                goto out;
        }
        for (unsigned i = 0; i < bench.n; i++) {
                struct vol *v = &vols[i];

                if (asprintf(&v->path, "%s/vol%05u.img", dir, i) < 0) {
                        v->path = NULL;
                        goto out;
                }
                r = make_image(v->path);
                if (r >= 0)
                        r = mmpd_dev_open(v->path, &v->dev);
                if (r >= 0)
                        r = mmpd_ioreq_new(io, v->dev, bench.io_size, vol_cb, NULL, v, &v->req);
                if (r < 0) {
                        fprintf(stderr, "%s: %s\n", v->path, strerror(-r));
                        goto out;
                }
                direct += mmpd_dev_is_direct(v->dev);
        }

        mmpd_io_get_stats(io, &s0);
        getrusage(RUSAGE_SELF, &ru0);
        t0 = mmpd_now();
        for (unsigned i = 0; i < bench.n; i++)
                if (mmpd_ioreq_submit(vols[i].req, MMPD_IO_READ, 0, bench.io_size, deadline()) < 0)
                        goto out;
        while (bench.done < bench.n)
                ev_run(loop, EVRUN_ONCE);
        t1 = mmpd_now();
        getrusage(RUSAGE_SELF, &ru1);
        mmpd_io_get_stats(io, &s1);

        ios = s1.completed - s0.completed;
        secs = (double) (t1 - t0) / 1e6;
        cpu_user = tv_usec(ru1.ru_utime) - tv_usec(ru0.ru_utime);
        cpu_sys = tv_usec(ru1.ru_stime) - tv_usec(ru0.ru_stime);
        printf("volumes %u (%u O_DIRECT), cycles %u, I/O size %zu, dir %s\n",
               bench.n, direct, bench.cycles, bench.io_size, dir);
        printf("I/Os %" PRIu64 " in %.3f s: %.0f I/Os per second\n", ios, secs, (double) ios / secs);
        printf("CPU per I/O: %.2f us (user %.2f, sys %.2f)\n",
               (cpu_user + cpu_sys) / (double) ios, cpu_user / (double) ios, cpu_sys / (double) ios);
        printf("io_submit calls %" PRIu64 " (%.1f I/Os each), slowest I/O %.3f ms, errors %u, timeouts %" PRIu64 "\n",
               s1.submit_calls - s0.submit_calls,
               (double) (s1.submitted - s0.submitted) / (double) (s1.submit_calls - s0.submit_calls),
               (double) bench.worst / 1e3, bench.errors, s1.timeouts - s0.timeouts);
        ret = bench.errors ? EXIT_FAILURE : EXIT_SUCCESS;

out:
        for (unsigned i = 0; vols && i < bench.n; i++) {
                mmpd_ioreq_free(vols[i].req);
                mmpd_dev_free(vols[i].dev);
                if (vols[i].path)
                        unlink(vols[i].path);
                free(vols[i].path);
        }
        mmpd_io_free(io);
        ev_loop_destroy(loop);
        free(vols);
        rmdir(dir);
        return ret;
}
