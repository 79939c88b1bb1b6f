/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fence's time budget (mmpd/fence-plan.c): every stage fits before the deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fence.h"

#define SEC MMP_USEC_PER_SEC

/* Run the plan with each stage using its whole budget; returns the time used. */
static mmp_usec_t run_plan(const struct fence_plan *p, mmp_usec_t left, unsigned *ret_stages)
{
        mmp_usec_t used = 0;
        unsigned n = 0;

        for (size_t i = 0; p->order[i] != FENCE_STAGE_DONE; i++) {
                enum fence_stage s = p->order[i];

                if (s == FENCE_STAGE_NOTIFY || s == FENCE_STAGE_LAST_RESORT || !fence_plan_runs(p, s))
                        continue;
                used += fence_stage_budget(p, s, left > used ? left - used : 0);
                n++;
        }
        *ret_stages = n;
        return used;
}

static void test_all_stages_fit_with_a_tail(void **state)
{
        const enum fence_stage *orders[] = { fence_order_users_first, fence_order_shutdown_first };

        for (unsigned o = 0; o < 2; o++) {
                struct fence_plan p = {
                        .order = orders[o], .hook = true, .kill = true, .shutdown = true, .have_rdev = true,
                };

                for (mmp_usec_t left = 2 * SEC; left <= 400 * SEC; left += 7 * SEC) {
                        unsigned n;
                        mmp_usec_t used = run_plan(&p, left, &n);

                        assert_int_equal(n, 3);
                        /* Weights 3 + 4 + 2 and a tail of 1: a tenth stays for the last resort. */
                        assert_true(used <= left - left / 10 + 3);
                        assert_true(used >= left - left / 10 - 3);
                }
        }
}

static void test_shares(void **state)
{
        struct fence_plan p = {
                .order = fence_order_users_first, .hook = true, .kill = true, .shutdown = true,
                .have_rdev = true,
        };

        assert_int_equal(fence_stage_budget(&p, FENCE_STAGE_HOOK, 10 * SEC), 3 * SEC);
        /* After the hook, kill gets 4 of the remaining 4 + 2 + 1. */
        assert_int_equal(fence_stage_budget(&p, FENCE_STAGE_KILL, 7 * SEC), 4 * SEC);
        assert_int_equal(fence_stage_budget(&p, FENCE_STAGE_SHUTDOWN, 3 * SEC), 2 * SEC);
        /* Without a hook, kill's share grows. */
        p.hook = false;
        assert_int_equal(fence_stage_budget(&p, FENCE_STAGE_KILL, 7 * SEC), 4 * SEC);
        assert_false(fence_plan_runs(&p, FENCE_STAGE_HOOK));
}

static void test_late_stage_still_tries(void **state)
{
        struct fence_plan p = {
                .order = fence_order_shutdown_first, .hook = true, .kill = true, .shutdown = true,
                .have_rdev = true,
        };

        assert_int_equal(fence_stage_budget(&p, FENCE_STAGE_SHUTDOWN, 0), FENCE_MIN_STAGE_USEC);
        assert_int_equal(fence_stage_budget(&p, FENCE_STAGE_KILL, 1000), FENCE_MIN_STAGE_USEC);
}

static void test_file_volume_skips_kill_and_shutdown(void **state)
{
        struct fence_plan p = {
                .order = fence_order_users_first, .hook = true, .kill = true, .shutdown = true,
                .have_rdev = false,
        };
        unsigned n;

        assert_false(fence_plan_runs(&p, FENCE_STAGE_KILL));
        assert_false(fence_plan_runs(&p, FENCE_STAGE_SHUTDOWN));
        assert_true(fence_plan_runs(&p, FENCE_STAGE_HOOK));
        /* The hook alone: 3 of 3 + 1. */
        assert_int_equal(run_plan(&p, 8 * SEC, &n), 6 * SEC);
        assert_int_equal(n, 1);
}

static void test_order(void **state)
{
        struct fence_plan users = { .order = fence_order_users_first };
        struct fence_plan kernel = { .order = fence_order_shutdown_first };

        assert_true(fence_stage_pos(&users, FENCE_STAGE_KILL) < fence_stage_pos(&users, FENCE_STAGE_SHUTDOWN));
        assert_true(fence_stage_pos(&kernel, FENCE_STAGE_SHUTDOWN) < fence_stage_pos(&kernel, FENCE_STAGE_HOOK));
        assert_true(fence_stage_pos(&kernel, FENCE_STAGE_SHUTDOWN) < fence_stage_pos(&kernel, FENCE_STAGE_KILL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_all_stages_fit_with_a_tail),
                cmocka_unit_test(test_shares),
                cmocka_unit_test(test_late_stage_still_tries),
                cmocka_unit_test(test_file_volume_skips_kill_and_shutdown),
                cmocka_unit_test(test_order),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
