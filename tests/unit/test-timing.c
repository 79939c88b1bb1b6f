/* SPDX-License-Identifier: GPL-2.0-or-later */
/* c, W, the check_interval we write and the deadlines, at their edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mmp-timing.h"

#define S(x) ((mmp_usec_t) (x) * MMP_USEC_PER_SEC)

static void test_check_interval(void **state)
{
        /* c = max(update_interval, 5, on-disk check_interval) */
        assert_int_equal(mmp_check_interval(1, 0), 5);
        assert_int_equal(mmp_check_interval(1, 5), 5);
        assert_int_equal(mmp_check_interval(5, 10), 10);
        assert_int_equal(mmp_check_interval(60, 5), 60);
        assert_int_equal(mmp_check_interval(300, 300), 300);
        assert_int_equal(mmp_check_interval(5, 200), 200);     /* on-disk larger wins */
}

static void test_wait(void **state)
{
        /* W = min(2c + 1, c + 60) */
        assert_int_equal(mmp_wait_seconds(1, 5), 11);          /* the fastest possible */
        assert_int_equal(mmp_wait_seconds(5, 10), 21);         /* the default */
        assert_int_equal(mmp_wait_seconds(5, 0), 11);
        assert_int_equal(mmp_wait_seconds(60, 120), 180);      /* c + 60 wins above 59 */
        assert_int_equal(mmp_wait_seconds(60, 0), 120);
        assert_int_equal(mmp_wait_seconds(300, 300), 360);
        assert_int_equal(mmp_wait_seconds(59, 0), 119);        /* 2c+1 = c+60 at 59 */
        assert_int_equal(mmp_wait_seconds(5, 200), 260);       /* slow writer bought time */
        /* a claimant watches an active block W plus the slack */
        assert_true(mmp_claim_watch_usec(5, 10) == S(21) + MMP_CLAIM_SLACK_USEC);
        assert_true(MMP_CLAIM_SLACK_USEC >= S(1));
}

static void test_check_interval_to_write(void **state)
{
        /* floor max(2u, 5), kmmpd's clamp(2 x write time, 5, 300) above it */
        assert_int_equal(mmp_check_interval_to_write(1, 0), 5);
        assert_int_equal(mmp_check_interval_to_write(5, 0), 10);
        assert_int_equal(mmp_check_interval_to_write(60, 0), 120);
        assert_int_equal(mmp_check_interval_to_write(300, 0), 300);
        assert_int_equal(mmp_check_interval_to_write(5, S(4)), 10);
        assert_int_equal(mmp_check_interval_to_write(5, S(7)), 14);
        assert_int_equal(mmp_check_interval_to_write(1, 2400000), 5);   /* 4.8 -> 5 */
        assert_int_equal(mmp_check_interval_to_write(1, 2600000), 6);   /* 5.2 rounds up */
        assert_int_equal(mmp_check_interval_to_write(5, S(1000)), 300); /* clamped */
}

static void test_deadlines(void **state)
{
        struct mmp_deadlines d;

        mmp_deadlines(S(100), 5, 10, 0, &d);
        assert_int_equal(d.wait_s, 21);
        assert_true(d.peer_write_at == S(121));
        assert_true(d.peer_use_at == S(142));
        assert_true(d.margin == S(5));                          /* one update interval */
        assert_true(d.fence_at == S(116));

        mmp_deadlines(S(100), 1, 5, 0, &d);
        assert_true(d.margin == S(2));                          /* at least 2 s */
        assert_true(d.fence_at == S(109));

        mmp_deadlines(S(100), 5, 10, S(8), &d);                 /* configured margin */
        assert_true(d.fence_at == S(113));

        mmp_deadlines(S(100), 5, 10, S(50), &d);                /* margin >= W is capped */
        assert_true(d.fence_at == S(101));

        mmp_deadlines(S(100), 300, 300, 0, &d);
        assert_int_equal(d.wait_s, 360);
        assert_true(d.fence_at == S(160));
}

static void test_heartbeat_period(void **state)
{
        /* at least three heartbeats between a good write and its fence */
        assert_true(mmp_heartbeat_period(5, 10, 0) == S(5));
        assert_true(mmp_heartbeat_period(1, 5, 0) == S(1));
        assert_true(mmp_heartbeat_period(60, 120, 0) == S(40));
        assert_true(mmp_heartbeat_period(300, 300, 0) == S(20));
        for (unsigned u = 1; u <= 300; u++) {
                unsigned ci = u * 2 < 5 ? 5 : (u * 2 > 300 ? 300 : u * 2);
                struct mmp_deadlines d;
                mmp_usec_t p = mmp_heartbeat_period(u, ci, 0);

                mmp_deadlines(0, u, ci, 0, &d);
                assert_true(p > 0);
                assert_true(p <= S(u));
                assert_true(3 * p <= d.fence_at);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_check_interval),
                cmocka_unit_test(test_wait),
                cmocka_unit_test(test_check_interval_to_write),
                cmocka_unit_test(test_deadlines),
                cmocka_unit_test(test_heartbeat_period),
        };

        return cmocka_run_group_tests_name("timing", tests, NULL, NULL);
}
