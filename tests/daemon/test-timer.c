/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mmpd/timer.c: the BOOTTIME deadline heap, driven by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "timer.h"

#define N 500

struct fired {
        unsigned n;
        mmp_usec_t last;
        bool ordered;
};

static struct fired fired;

static void on_fire(struct mmpd_timer *t, void *userdata)
{
        if (t->due < fired.last)
                fired.ordered = false;
        fired.last = t->due;
        fired.n++;
}

static void test_fires_in_order(void **state)
{
        struct ev_loop *loop = ev_loop_new(0);
        struct mmpd_timers *ts;
        static struct mmpd_timer t[N];

        assert_int_equal(mmpd_timers_new(loop, 0, &ts), 0);
        srand(7);
        for (unsigned i = 0; i < N; i++) {
                mmpd_timer_init(&t[i], on_fire, NULL);
                assert_int_equal(mmpd_timer_arm(ts, &t[i], 1000 + (mmp_usec_t) (rand() % 100000)), 0);
        }
        /* Re-arm half of them, earlier and later; stop a tenth. */
        for (unsigned i = 0; i < N; i += 2)
                assert_int_equal(mmpd_timer_arm(ts, &t[i], 1000 + (mmp_usec_t) (rand() % 100000)), 0);
        for (unsigned i = 0; i < N; i += 10)
                mmpd_timer_stop(ts, &t[i]);
        assert_false(mmpd_timer_active(&t[0]));
        fired = (struct fired) { .ordered = true };
        mmpd_timers_run(ts, 50000);
        assert_true(fired.n > 0);
        assert_true(fired.last <= 50000);
        assert_true(mmpd_timers_next(ts) > 50000);
        mmpd_timers_run(ts, 200000);
        assert_int_equal(fired.n, N - N / 10);
        assert_true(fired.ordered);
        assert_int_equal(mmpd_timers_next(ts), MMP_USEC_INFINITY);
        mmpd_timers_free(ts);
        ev_loop_destroy(loop);
}

static struct mmpd_timers *rearm_ts;
static unsigned rearm_calls;

static void rearm_in_past(struct mmpd_timer *t, void *userdata)
{
        rearm_calls++;
        mmpd_timer_arm(rearm_ts, t, 0);         /* always due: must not spin */
}

static void test_rearm_in_callback_is_bounded(void **state)
{
        struct ev_loop *loop = ev_loop_new(0);
        struct mmpd_timer t;

        assert_int_equal(mmpd_timers_new(loop, 0, &rearm_ts), 0);
        mmpd_timer_init(&t, rearm_in_past, NULL);
        mmpd_timer_arm(rearm_ts, &t, 5);
        mmpd_timers_run(rearm_ts, 10);
        assert_int_equal(rearm_calls, 1);
        mmpd_timers_free(rearm_ts);
        ev_loop_destroy(loop);
}

/* Random arms (earlier, later, the same), stops and runs on a heap of a few
 * thousand timers, against a model: after every operation the heap's next
 * deadline is the earliest armed one, and a run fires exactly the timers
 * due, in order, each with the deadline it was last armed for. */
#define M 3000

static mmp_usec_t model[M];             /* MMP_USEC_INFINITY: stopped */
static unsigned model_fired;
static bool model_ok = true;

static void on_model_fire(struct mmpd_timer *t, void *userdata)
{
        unsigned i = (unsigned) (uintptr_t) userdata;

        if (model[i] != t->due || t->due < fired.last)
                model_ok = false;
        fired.last = t->due;
        model[i] = MMP_USEC_INFINITY;
        model_fired++;
}

static mmp_usec_t model_min(void)
{
        mmp_usec_t m = MMP_USEC_INFINITY;

        for (unsigned i = 0; i < M; i++)
                if (model[i] < m)
                        m = model[i];
        return m;
}

static void test_random_ops_match_model(void **state)
{
        struct ev_loop *loop = ev_loop_new(0);
        struct mmpd_timers *ts;
        static struct mmpd_timer t[M];
        mmp_usec_t now = 0;

        assert_int_equal(mmpd_timers_new(loop, 0, &ts), 0);
        srand(11);
        for (unsigned i = 0; i < M; i++) {
                mmpd_timer_init(&t[i], on_model_fire, (void *) (uintptr_t) i);
                model[i] = MMP_USEC_INFINITY;
        }
        for (unsigned op = 0; op < 60000; op++) {
                unsigned i = (unsigned) rand() % M;
                int what = rand() % 100;

                if (what < 70) {
                        /* few distinct values: ties are common, as on the 10 ms grid */
                        mmp_usec_t at = now + (mmp_usec_t) (rand() % 64) * 1000;

                        assert_int_equal(mmpd_timer_arm(ts, &t[i], at), 0);
                        model[i] = at;
                } else if (what < 90) {
                        mmpd_timer_stop(ts, &t[i]);
                        model[i] = MMP_USEC_INFINITY;
                } else {
                        unsigned before = model_fired, due = 0;

                        now += 3000;
                        for (unsigned k = 0; k < M; k++)
                                due += model[k] <= now;
                        fired.last = 0;
                        mmpd_timers_run(ts, now);
                        assert_int_equal(model_fired - before, due);
                }
                assert_true(model_ok);
                assert_true(mmpd_timers_next(ts) == model_min());
                assert_int_equal(mmpd_timer_active(&t[i]), model[i] != MMP_USEC_INFINITY);
        }
        mmpd_timers_free(ts);
        ev_loop_destroy(loop);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fires_in_order),
                cmocka_unit_test(test_rearm_in_callback_is_bounded),
                cmocka_unit_test(test_random_ops_match_model),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
