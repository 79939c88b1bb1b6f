/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MMP timing as pure functions.  Monotonic time is mmp_usec_t (CLOCK_BOOTTIME
 * or CLOCK_MONOTONIC microseconds, chosen by the caller); on-disk mmp_time is
 * wall-clock seconds and stays a plain uint64_t so the two are never mixed.
 *
 * The formula every peer uses (e2fsprogs ext2fs_mmp_start(), the shortest
 * wait of any peer, so the one our deadlines must respect):
 *     c = max(update_interval, 5, on-disk check_interval)
 *     W = min(2c + 1, c + 60)                      seconds
 * The kernel's mount path floors c at 2 x update_interval instead, which only
 * makes it wait longer; we always write check_interval >= max(2u, 5) so the
 * two agree for blocks we wrote.
 */
#pragma once

#include <stdint.h>

typedef uint64_t mmp_usec_t;

#define MMP_USEC_PER_SEC   UINT64_C(1000000)
#define MMP_USEC_INFINITY  UINT64_MAX

/* c: the check interval a peer derives, in seconds. */
unsigned mmp_check_interval(unsigned update_interval, unsigned ondisk_check_interval);

/* W: how long a peer waits between its two reads, in seconds. */
unsigned mmp_wait_seconds(unsigned update_interval, unsigned ondisk_check_interval);

/*
 * The check_interval to write: kmmpd's clamp(2 x observed write time, 5, 300),
 * never below max(2 x update_interval, 5) (also clamped to 300).
 * @write_usec is the slowest recent write.
 */
unsigned mmp_check_interval_to_write(unsigned update_interval, mmp_usec_t write_usec);

/*
 * Deadlines that follow from a heartbeat write submitted at @last_write
 * whose block carried @ondisk_check_interval:
 *   peer_write_at = last_write + W      no peer may write the MMP block before this
 *   peer_use_at   = last_write + 2W     no peer may touch data before this
 *   fence_at      = peer_write_at - margin   when we must declare the volume lost
 * margin is at least one update interval (docs/protocol.md, Timing); @margin_usec of 0
 * picks the default, max(update_interval, 2 s).
 */
struct mmp_deadlines {
        mmp_usec_t fence_at;
        mmp_usec_t peer_write_at;
        mmp_usec_t peer_use_at;
        mmp_usec_t margin;
        unsigned wait_s;
};

void mmp_deadlines(mmp_usec_t last_write, unsigned update_interval,
                   unsigned ondisk_check_interval, mmp_usec_t margin_usec,
                   struct mmp_deadlines *ret);

/*
 * How long a claimant watches an ACTIVE block before deciding it is dead:
 * W plus MMP_CLAIM_SLACK_USEC.  A holder that has just written its claim
 * seq is silent for its own post-write wait (W), then verifies and writes
 * its first heartbeat.  A claimant that read the claim seq right after it
 * landed and watched for exactly W could re-read just before that first
 * heartbeat, find the block unchanged and take a volume that was claimed a
 * moment before.  The slack covers the holder's verify read and write.
 */
#define MMP_CLAIM_SLACK_USEC (2 * MMP_USEC_PER_SEC)
mmp_usec_t mmp_claim_watch_usec(unsigned update_interval, unsigned ondisk_check_interval);

/* Default margin for an update interval, in microseconds. */
mmp_usec_t mmp_default_margin(unsigned update_interval);

/*
 * How often to heartbeat: the update interval, but never so rarely that
 * fewer than three heartbeats fit between a good write and its fence
 * deadline (with update_interval 300, W is 360 and a 300 s margin leaves
 * 60 s: we then write every 20 s).  Writing more often than the update
 * interval is always safe for peers; writing less often is not.
 */
mmp_usec_t mmp_heartbeat_period(unsigned update_interval, unsigned ondisk_check_interval,
                                mmp_usec_t margin_usec);
