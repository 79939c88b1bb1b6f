/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The floor under mmpd's CPU per heartbeat: the same I/O with nothing
 * around it.  N files in DIR (made here, sparse), each read and then
 * written, one block, O_DIRECT (and O_NOATIME, as mmpd opens image files),
 * once per INTERVAL_MS, in batches of the volumes of one GRID_MS grid point
 * as mmpd's heartbeat grid makes them (runs of 32 files, in the order they
 * were made, placed on the interval by the golden ratio, as
 * volume_beat_slot() places volumes; the order matters, see
 * docs/benchmarks.md): one io_submit() of the batch's reads,
 * a blocking io_getevents() for all of them, the same for the writes, then
 * sleep to the next grid point.  No event loop, no state machine, no
 * deadlines, no checksums: what is left is the kernel's cost of the I/O
 * itself, which mmpd pays too.  Blocking for completions is what mmpd may
 * never do; here it is the cheapest way to wait.
 *
 *   io-floor DIR N INTERVAL_MS GRID_MS SECONDS BLOCK_SIZE
 *
 * Prints "floor_beats B", "floor_cpu_ns C" (utime + stime over the run) and
 * "floor_us_per_beat X".  Exit status 1 on any error.
 */
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* volume_beat_slot() of mmpd/volume.c, in grid points */
static int grid_point(int k, int points)
{
        double f = (double) (k / 32) * 0.6180339887498949;

        return (int) ((double) points * (f - (double) (long long) f));
}

static long long cpu_ns(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
               (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

static long long mono_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int wait_all(io_context_t ctx, struct io_event *ev, int n, size_t bs)
{
        for (int got = 0; got < n;) {
                int r = io_getevents(ctx, 1, n - got, ev, NULL);

                if (r == -EINTR)
                        continue;
                if (r < 0) {
                        fprintf(stderr, "io-floor: io_getevents: %s\n", strerror(-r));
                        return -1;
                }
                for (int i = 0; i < r; i++)
                        if (ev[i].res != bs) {
                                fprintf(stderr, "io-floor: I/O returned %ld\n", (long) ev[i].res);
                                return -1;
                        }
                got += r;
        }
        return 0;
}

int main(int argc, char **argv)
{
        const char *dir;
        int n, interval_ms, grid_ms, points, batch = 0, *fds, *order, *start, p = 0;
        double secs;
        size_t bs;
        long long off, t_end, c0, beats = 0;
        struct timespec due;
        io_context_t ctx = 0;
        struct iocb *cbs, **cbp;
        struct io_event *ev;
        char *buf;
        int r;

        if (argc != 7) {
                fprintf(stderr, "usage: io-floor DIR N INTERVAL_MS GRID_MS SECONDS BLOCK_SIZE\n");
                return 2;
        }
        dir = argv[1];
        n = atoi(argv[2]);
        interval_ms = atoi(argv[3]);
        grid_ms = atoi(argv[4]);
        secs = atof(argv[5]);
        bs = (size_t) atol(argv[6]);
        if (n < 1 || interval_ms < 1 || grid_ms < 1 || grid_ms > interval_ms || secs <= 0 ||
            bs < 512 || (bs & (bs - 1))) {
                fprintf(stderr, "io-floor: bad arguments\n");
                return 2;
        }
        off = 16 * (long long) bs;
        /* the files of each grid point, in order: order[start[p]..start[p + 1]) */
        points = interval_ms / grid_ms;
        order = calloc((size_t) n, sizeof(*order));
        start = calloc((size_t) points + 1, sizeof(*start));
        if (!order || !start) {
                fprintf(stderr, "io-floor: out of memory\n");
                return 1;
        }
        for (int k = 0; k < n; k++)
                start[grid_point(k, points) + 1]++;
        for (int q = 0; q < points; q++) {
                batch = start[q + 1] > batch ? start[q + 1] : batch;
                start[q + 1] += start[q];
        }
        for (int k = 0; k < n; k++)             /* start[q] ends as start[q + 1] */
                order[start[grid_point(k, points)]++] = k;
        memmove(start + 1, start, (size_t) points * sizeof(*start));
        start[0] = 0;
        fds = calloc((size_t) n, sizeof(*fds));
        cbs = calloc((size_t) batch, sizeof(*cbs));
        cbp = calloc((size_t) batch, sizeof(*cbp));
        ev = calloc((size_t) batch, sizeof(*ev));
        if (!fds || !cbs || !cbp || !ev || posix_memalign((void **) &buf, 4096, bs * (size_t) batch)) {
                fprintf(stderr, "io-floor: out of memory\n");
                return 1;
        }
        memset(buf, 0x5a, bs * (size_t) batch);
        for (int i = 0; i < n; i++) {
                char path[4096];

                snprintf(path, sizeof(path), "%s/floor-%d", dir, i);
                fds[i] = open(path, O_RDWR | O_CREAT | O_DIRECT | O_NOATIME | O_CLOEXEC, 0600);
                if (fds[i] < 0 || ftruncate(fds[i], 64 * 1024) < 0 ||
                    pwrite(fds[i], buf, bs, off) != (ssize_t) bs) {   /* allocated, as an image's MMP block */
                        fprintf(stderr, "io-floor: %s: %s\n", path, strerror(errno));
                        return 1;
                }
        }
        r = io_setup(batch, &ctx);
        if (r < 0) {
                fprintf(stderr, "io-floor: io_setup: %s\n", strerror(-r));
                return 1;
        }

        c0 = cpu_ns();
        t_end = mono_ns() + (long long) (secs * 1e9);
        clock_gettime(CLOCK_MONOTONIC, &due);
        while (mono_ns() < t_end) {
                int m = start[p + 1] - start[p];

                for (int op = 0; m && op < 2; op++) {
                        for (int b = 0; b < m; b++) {
                                int f = order[start[p] + b];

                                if (op == 0)
                                        io_prep_pread(&cbs[b], fds[f], buf + bs * (size_t) b, bs, off);
                                else
                                        io_prep_pwrite(&cbs[b], fds[f], buf + bs * (size_t) b, bs, off);
                                cbp[b] = &cbs[b];
                        }
                        r = io_submit(ctx, m, cbp);
                        if (r != m) {
                                fprintf(stderr, "io-floor: io_submit: %s\n", r < 0 ? strerror(-r) : "short");
                                return 1;
                        }
                        if (wait_all(ctx, ev, m, bs) < 0)
                                return 1;
                }
                beats += m;
                p = (p + 1) % points;
                due.tv_nsec += grid_ms * 1000000L;
                while (due.tv_nsec >= 1000000000L) {
                        due.tv_nsec -= 1000000000L;
                        due.tv_sec++;
                }
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
        }
        printf("floor_beats %lld\nfloor_cpu_ns %lld\nfloor_us_per_beat %.2f\n", beats, cpu_ns() - c0,
               (double) (cpu_ns() - c0) / 1000.0 / (double) beats);
        io_destroy(ctx);
        for (int i = 0; i < n; i++)
                close(fds[i]);
        free(fds);
        free(order);
        free(start);
        free(cbs);
        free(cbp);
        free(ev);
        free(buf);
        return 0;
}
