/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mmp-hist.h"

const mmp_usec_t mmp_hist_bounds[MMP_HIST_BUCKETS - 1] = {
        50, 100, 250, 500, 1000, 2500, 5000, 10000, 20000, 50000, 100000, 250000,
        500000, 1000000, 2500000, 5000000,
};

void mmp_hist_add(struct mmp_hist *h, mmp_usec_t usec)
{
        unsigned lo = 0, hi = MMP_HIST_BUCKETS - 1;

        /* The first bound >= usec (binary search over 16). */
        while (lo < hi) {
                unsigned mid = (lo + hi) / 2;

                if (usec <= mmp_hist_bounds[mid])
                        hi = mid;
                else
                        lo = mid + 1;
        }
        h->count[lo]++;
        h->n++;
        h->sum += usec;
        if (usec > h->max)
                h->max = usec;
}

void mmp_hist_merge(struct mmp_hist *into, const struct mmp_hist *h)
{
        for (unsigned i = 0; i < MMP_HIST_BUCKETS; i++)
                into->count[i] += h->count[i];
        into->n += h->n;
        into->sum += h->sum;
        if (h->max > into->max)
                into->max = h->max;
}

mmp_usec_t mmp_hist_quantile(const struct mmp_hist *h, double q)
{
        uint64_t want, seen = 0;

        if (!h->n)
                return 0;
        want = (uint64_t) (q * (double) h->n + 0.999999);
        if (want < 1)
                want = 1;
        for (unsigned i = 0; i < MMP_HIST_BUCKETS; i++) {
                seen += h->count[i];
                if (seen >= want)
                        return i < MMP_HIST_BUCKETS - 1 && mmp_hist_bounds[i] < h->max ? mmp_hist_bounds[i] : h->max;
        }
        return h->max;
}
