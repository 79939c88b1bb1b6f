/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/mmp-hist: bucket edges, overflow, merge, quantiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mmp-hist.h"

static void test_edges(void **state)
{
        struct mmp_hist h = {};

        mmp_hist_add(&h, 0);            /* bucket 0: <= 50 */
        mmp_hist_add(&h, 50);           /* bucket 0: the bound is inclusive */
        mmp_hist_add(&h, 51);           /* bucket 1: <= 100 */
        mmp_hist_add(&h, 20000);        /* <= 20 ms */
        mmp_hist_add(&h, 5000000);      /* last bound */
        mmp_hist_add(&h, 5000001);      /* overflow */
        assert_int_equal(h.count[0], 2);
        assert_int_equal(h.count[1], 1);
        assert_int_equal(h.count[8], 1);
        assert_int_equal(h.count[15], 1);
        assert_int_equal(h.count[16], 1);
        assert_int_equal(h.n, 6);
        assert_int_equal(h.max, 5000001);
        assert_int_equal(h.sum, 0 + 50 + 51 + 20000 + 5000000 + 5000001);
}

static void test_every_value_lands_in_its_bucket(void **state)
{
        for (mmp_usec_t x = 0; x < 6000000; x += 997) {
                struct mmp_hist h = {};
                unsigned i = 0;

                mmp_hist_add(&h, x);
                while (i < MMP_HIST_BUCKETS - 1 && x > mmp_hist_bounds[i])
                        i++;
                assert_int_equal(h.count[i], 1);
        }
}

static void test_merge_and_quantile(void **state)
{
        struct mmp_hist a = {}, b = {}, sum = {};

        for (int i = 0; i < 99; i++)
                mmp_hist_add(&a, 400);          /* <= 500 */
        mmp_hist_add(&b, 30000);                /* <= 50 ms */
        mmp_hist_merge(&sum, &a);
        mmp_hist_merge(&sum, &b);
        assert_int_equal(sum.n, 100);
        assert_int_equal(sum.max, 30000);
        assert_int_equal(mmp_hist_quantile(&sum, 0.5), 500);
        assert_int_equal(mmp_hist_quantile(&sum, 0.99), 500);
        /* The top bucket's bound is above the max: the max is reported. */
        assert_int_equal(mmp_hist_quantile(&sum, 1.0), 30000);
        assert_int_equal(mmp_hist_quantile(&(struct mmp_hist) {}, 0.99), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_edges),
                cmocka_unit_test(test_every_value_lands_in_its_bucket),
                cmocka_unit_test(test_merge_and_quantile),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
