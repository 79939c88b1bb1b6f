/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sm-beat N ROUNDS: the state machine's share of a heartbeat, alone.
 *
 * N state machines, each on a fake disk block of its own, are claimed under
 * a fake clock, then driven through ROUNDS heartbeats each, volume after
 * volume as mmpd's grid does (timer, check read done, write done), so each
 * machine's state is as cold as it is in mmpd with N volumes.  Prints the
 * wall time per heartbeat; under `valgrind --tool=callgrind --cache-sim=yes`
 * the instruction and cache-miss counts per heartbeat are exact and
 * repeatable, whatever else the machine does (docs/benchmarks.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmp-sm.h"

#define BS 1024
#define S(x) ((mmp_usec_t) (x) * MMP_USEC_PER_SEC)

struct vol {
        struct mmp_sm *sm;
        struct mmp_action act;
        mmp_usec_t now;
        uint32_t rng;
        uint8_t *disk;
        enum mmp_state state;
};

static uint32_t rng(void *userdata)
{
        struct vol *v = userdata;

        v->rng = v->rng * 1103515245u + 12345u;
        return (v->rng >> 8) % 0x100000u + 1000u;
}

static int step(struct vol *v, enum mmp_event_type type)
{
        struct mmp_event ev = { .type = type, .now = v->now, .wall = 1700000000 + v->now / MMP_USEC_PER_SEC };
        struct mmp_sm_status st;
        int r;

        if (type == MMP_EV_READ_DONE) {
                ev.data = v->disk;
                ev.len = BS;
        }
        r = mmp_sm_step(v->sm, &ev, &v->act);
        /* mmpd reads the status after every step (volume_perform). */
        mmp_sm_status(v->sm, &st);
        v->state = st.state;
        return r;
}

/* Perform the I/O the machine asks for, back to back, until it waits. */
static void perform(struct vol *v)
{
        for (;;) {
                if (v->act.type == MMP_ACT_READ) {
                        step(v, MMP_EV_READ_DONE);
                } else if (v->act.type == MMP_ACT_WRITE) {
                        memcpy(v->disk, v->act.data, BS);
                        step(v, MMP_EV_WRITE_DONE);
                } else {
                        return;
                }
        }
}

static void tick(struct vol *v)
{
        if (v->act.wake_at > v->now)
                v->now = v->act.wake_at;
        step(v, MMP_EV_TIMER);
        perform(v);
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The measured part (callgrind: --toggle-collect=run_beats). */
static __attribute__((noinline)) int run_beats(struct vol *vols, unsigned n, unsigned rounds,
                                               unsigned long *beats)
{
        for (unsigned r = 0; r < rounds; r++) {
                for (unsigned i = 0; i < n; i++) {
                        struct vol *v = &vols[i];

                        tick(v);
                        if (v->state != MMP_STATE_HELD) {
                                fprintf(stderr, "sm-beat: volume %u %s\n", i, mmp_state_name(v->state));
                                return -1;
                        }
                        (*beats)++;
                }
        }
        return 0;
}

int main(int argc, char **argv)
{
        unsigned n = argc > 1 ? (unsigned) atoi(argv[1]) : 10000;
        unsigned rounds = argc > 2 ? (unsigned) atoi(argv[2]) : 20;
        struct mmp_sb sb = {
                .block_size = BS, .blocks_count = 32768, .mmp_block = 1000,
                .update_interval = 5, .metadata_csum = true, .csum_seed = 0x12345678,
        };
        struct vol *vols = calloc(n, sizeof(*vols));
        unsigned long beats = 0;
        double t0, t1;

        if (!vols || n == 0 || rounds == 0) {
                fprintf(stderr, "usage: sm-beat [N [ROUNDS]]\n");
                return 2;
        }
        for (unsigned i = 0; i < n; i++) {
                struct vol *v = &vols[i];
                struct mmp_block clean = { .seq = MMP_SEQ_CLEAN, .check_interval = 5 };
                struct mmp_sm_config cfg = {
                        .sb = sb, .nodename = "node-a", .bdevname = "loop0",
                        .spread = true, .slot = (mmp_usec_t) i * S(5) / n,
                        .random_u32 = rng, .userdata = v,
                };

                v->rng = i + 1;
                v->now = S(1000);
                v->disk = aligned_alloc(4096, 4096);
                if (!v->disk || mmp_block_encode(&sb, &clean, v->disk, BS) < 0 || mmp_sm_new(&cfg, &v->sm) < 0) {
                        fprintf(stderr, "sm-beat: setup failed\n");
                        return 1;
                }
                step(v, MMP_EV_CLAIM);
                perform(v);
                while (v->act.type != MMP_ACT_CLAIMED) {
                        if (v->act.type == MMP_ACT_REFUSED || v->act.type == MMP_ACT_LOST ||
                            v->now > S(2000)) {
                                fprintf(stderr, "sm-beat: volume %u not claimed (%s)\n", i,
                                        mmp_action_name(v->act.type));
                                return 1;
                        }
                        tick(v);
                }
        }
        t0 = now_s();
        if (run_beats(vols, n, rounds, &beats) < 0)
                return 1;
        t1 = now_s();
        printf("volumes %u\nbeats %lu\nns_per_beat %.1f\n", n, beats, (t1 - t0) * 1e9 / beats);
        for (unsigned i = 0; i < n; i++) {
                mmp_sm_free(vols[i].sm);
                free(vols[i].disk);
        }
        free(vols);
        return 0;
}
