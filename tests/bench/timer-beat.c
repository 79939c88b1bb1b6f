/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * timer-beat N ROUNDS: mmpd's timer heap under the heartbeat grid, alone.
 *
 * N timers are spread over the 50 grid points of a 5 s period (as
 * volume_beat_slot() puts volumes: runs of 32 by the golden ratio); each
 * round runs every grid point in turn, and every timer that fires re-arms
 * itself one period later, as a heartbeat does.  Prints ns per fired timer;
 * under `valgrind --tool=callgrind --cache-sim=yes
 * --toggle-collect='run_rounds*'` the instruction and cache-miss counts are
 * exact (docs/benchmarks.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <ev.h>

#include "timer.h"

#define PERIOD (5 * MMP_USEC_PER_SEC)
#define GRID   (100 * 1000)

static struct mmpd_timers *timers;
static unsigned long fired;

static void on_fire(struct mmpd_timer *t, void *userdata)
{
        (void) userdata;
        fired++;
        mmpd_timer_arm(timers, t, t->due + PERIOD);
}

static __attribute__((noinline)) void run_rounds(unsigned rounds, mmp_usec_t start)
{
        for (unsigned r = 0; r < rounds; r++)
                for (mmp_usec_t g = 0; g < PERIOD; g += GRID)
                        mmpd_timers_run(timers, start + (mmp_usec_t) r * PERIOD + g);
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
        unsigned n = argc > 1 ? (unsigned) atoi(argv[1]) : 10000;
        unsigned rounds = argc > 2 ? (unsigned) atoi(argv[2]) : 20;
        /* Far in the future: the timerfd never fires while we run them. */
        mmp_usec_t start = (mmp_usec_t) 1 << 50;
        struct mmpd_timer *ts = calloc(n, sizeof(*ts));
        struct ev_loop *loop = ev_default_loop(0);
        double t0, t1;

        if (!ts || !loop || n == 0 || mmpd_timers_new(loop, 0, &timers) < 0 ||
            mmpd_timers_reserve(timers, n) < 0) {
                fprintf(stderr, "timer-beat: setup failed\n");
                return 1;
        }
        for (unsigned i = 0; i < n; i++) {
                double f = (double) (i / 32) * 0.6180339887498949;
                mmp_usec_t slot = (mmp_usec_t) ((double) PERIOD * (f - (double) (unsigned long) f));

                mmpd_timer_init(&ts[i], on_fire, NULL);
                mmpd_timer_arm(timers, &ts[i], start + slot - slot % GRID);
        }
        t0 = now_s();
        run_rounds(rounds, start);
        t1 = now_s();
        if (fired != (unsigned long) n * rounds) {
                fprintf(stderr, "timer-beat: %lu fired, %lu expected\n", fired, (unsigned long) n * rounds);
                return 1;
        }
        printf("timers %u\nfired %lu\nns_per_timer %.1f\n", n, fired, (t1 - t0) * 1e9 / fired);
        mmpd_timers_free(timers);
        free(ts);
        return 0;
}
