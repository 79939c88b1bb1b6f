/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fixed-bucket latency histograms, cheap enough to stay on for every
 * heartbeat: 16 bounds from 50 us to 5 s and an overflow bucket, plus
 * count, sum and max.  io.mmpd's Stats carries them as they are.
 */
#pragma once

#include <stdint.h>

#include "mmp-timing.h"

#define MMP_HIST_BUCKETS 17          /* 16 bounds and +Inf */
extern const mmp_usec_t mmp_hist_bounds[MMP_HIST_BUCKETS - 1];

struct mmp_hist {
        uint64_t count[MMP_HIST_BUCKETS];
        uint64_t n;
        mmp_usec_t sum, max;
};

void mmp_hist_add(struct mmp_hist *h, mmp_usec_t usec);
void mmp_hist_merge(struct mmp_hist *into, const struct mmp_hist *h);
/* The upper bound of the bucket holding quantile @q (0..1); the max for
 * the overflow bucket; 0 when empty. */
mmp_usec_t mmp_hist_quantile(const struct mmp_hist *h, double q);
