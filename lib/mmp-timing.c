/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mmp-ondisk.h"
#include "mmp-timing.h"

static unsigned umax(unsigned a, unsigned b) { return a > b ? a : b; }
static unsigned umin(unsigned a, unsigned b) { return a < b ? a : b; }

unsigned mmp_check_interval(unsigned update_interval, unsigned ondisk_check_interval)
{
        return umax(umax(update_interval, MMP_MIN_CHECK_INTERVAL), ondisk_check_interval);
}

unsigned mmp_wait_seconds(unsigned update_interval, unsigned ondisk_check_interval)
{
        unsigned c = mmp_check_interval(update_interval, ondisk_check_interval);

        return umin(2 * c + 1, c + 60);
}

unsigned mmp_check_interval_to_write(unsigned update_interval, mmp_usec_t write_usec)
{
        /* kmmpd: max(min(2 * diff / HZ, 300), 5), rounding the observed
         * time up so a 2.4 s write buys 5 s, not 4. */
        mmp_usec_t observed = (2 * write_usec + MMP_USEC_PER_SEC - 1) / MMP_USEC_PER_SEC;
        unsigned ci = observed > MMP_MAX_CHECK_INTERVAL ? MMP_MAX_CHECK_INTERVAL : (unsigned) observed;

        ci = umax(ci, umax(2 * update_interval, MMP_MIN_CHECK_INTERVAL));
        return umin(ci, MMP_MAX_CHECK_INTERVAL);
}

mmp_usec_t mmp_default_margin(unsigned update_interval)
{
        return (mmp_usec_t) umax(update_interval, 2) * MMP_USEC_PER_SEC;
}

void mmp_deadlines(mmp_usec_t last_write, unsigned update_interval,
                   unsigned ondisk_check_interval, mmp_usec_t margin_usec,
                   struct mmp_deadlines *ret)
{
        unsigned w = mmp_wait_seconds(update_interval, ondisk_check_interval);
        mmp_usec_t wu = (mmp_usec_t) w * MMP_USEC_PER_SEC;

        if (margin_usec == 0)
                margin_usec = mmp_default_margin(update_interval);
        /* A margin as large as W would fence before the first heartbeat
         * could ever land; keep at least one second of hold. */
        if (margin_usec >= wu)
                margin_usec = wu - MMP_USEC_PER_SEC;

        ret->wait_s = w;
        ret->margin = margin_usec;
        ret->peer_write_at = last_write + wu;
        ret->peer_use_at = last_write + 2 * wu;
        ret->fence_at = ret->peer_write_at - margin_usec;
}

mmp_usec_t mmp_heartbeat_period(unsigned update_interval, unsigned ondisk_check_interval,
                                mmp_usec_t margin_usec)
{
        struct mmp_deadlines d;
        mmp_usec_t period = (mmp_usec_t) update_interval * MMP_USEC_PER_SEC;
        mmp_usec_t room;

        mmp_deadlines(0, update_interval, ondisk_check_interval, margin_usec, &d);
        room = d.fence_at / 3;
        if (room < period)
                period = room;
        return period ? period : MMP_USEC_PER_SEC;
}

mmp_usec_t mmp_claim_watch_usec(unsigned update_interval, unsigned ondisk_check_interval)
{
        return (mmp_usec_t) mmp_wait_seconds(update_interval, ondisk_check_interval) * MMP_USEC_PER_SEC +
               MMP_CLAIM_SLACK_USEC;
}
