/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mmpd/offload.c: jobs finish on the loop, time out while their thread
 * keeps running, are bounded in number, can be cancelled, and outlive
 * offload_free() without leaking (run under valgrind to see that).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "offload.h"

struct arg {
        int pipe_rd;            /* -1: return at once; else block until readable */
        int value;
};

static atomic_int freed;

static void work(void *p)
{
        struct arg *a = p;
        char c;

        if (a->pipe_rd >= 0)
                (void) read(a->pipe_rd, &c, 1);
        a->value = 42;
}

static void free_arg(void *p)
{
        free(p);
        atomic_fetch_add(&freed, 1);
}

struct result {
        int calls;
        int result;
        int value;
};

static void done(int result, void *arg, void *userdata)
{
        struct result *r = userdata;

        r->calls++;
        r->result = result;
        r->value = arg ? ((struct arg *) arg)->value : -1;
}

static struct arg *arg_new(int pipe_rd)
{
        struct arg *a = calloc(1, sizeof(*a));

        assert_non_null(a);
        a->pipe_rd = pipe_rd;
        return a;
}

/* Run the loop until @cond or 5 s. */
#define RUN_UNTIL(loop, cond) do {                                              \
                for (int _i = 0; _i < 5000 && !(cond); _i++) {                \
                        ev_run(loop, EVRUN_NOWAIT);                            \
                        usleep(1000);                                          \
                }                                                              \
                assert_true(cond);                                             \
        } while (0)

static int setup(void **state)
{
        atomic_store(&freed, 0);
        *state = ev_loop_new(EVFLAG_AUTO);
        return *state ? 0 : -1;
}

static int teardown(void **state)
{
        ev_loop_destroy(*state);
        return 0;
}

static void completes(void **state)
{
        struct ev_loop *loop = *state;
        struct offload *o;
        struct result r = { 0 };

        assert_int_equal(offload_new(loop, 0, &o), 0);
        assert_int_equal(offload_run(o, work, arg_new(-1), free_arg, 5., done, &r, NULL), 0);
        RUN_UNTIL(loop, r.calls == 1);
        assert_int_equal(r.result, 0);
        assert_int_equal(r.value, 42);
        assert_int_equal(atomic_load(&freed), 1);
        RUN_UNTIL(loop, offload_threads(o) == 0);
        offload_free(o);
}

static void times_out_then_finishes(void **state)
{
        struct ev_loop *loop = *state;
        struct offload *o;
        struct result r = { 0 };
        int p[2];

        assert_int_equal(pipe(p), 0);
        assert_int_equal(offload_new(loop, 0, &o), 0);
        assert_int_equal(offload_run(o, work, arg_new(p[0]), free_arg, 0.05, done, &r, NULL), 0);
        RUN_UNTIL(loop, r.calls == 1);
        assert_int_equal(r.result, -ETIMEDOUT);
        assert_int_equal(r.value, -1);             /* no arg after a timeout */
        assert_int_equal(offload_threads(o), 1);   /* still stuck */
        assert_int_equal(atomic_load(&freed), 0);
        assert_int_equal(write(p[1], "x", 1), 1);
        RUN_UNTIL(loop, atomic_load(&freed) == 1);
        RUN_UNTIL(loop, offload_threads(o) == 0);
        assert_int_equal(r.calls, 1);               /* never twice */
        offload_free(o);
        close(p[0]);
        close(p[1]);
}

static void bounded(void **state)
{
        struct ev_loop *loop = *state;
        struct offload *o;
        struct result r[3] = { { 0 } };
        struct arg *a;
        int p[2];

        assert_int_equal(pipe(p), 0);
        assert_int_equal(offload_new(loop, 2, &o), 0);
        assert_int_equal(offload_run(o, work, arg_new(p[0]), free_arg, 0.01, done, &r[0], NULL), 0);
        assert_int_equal(offload_run(o, work, arg_new(p[0]), free_arg, 0, done, &r[1], NULL), 0);
        a = arg_new(-1);
        assert_int_equal(offload_run(o, work, a, free_arg, 0, done, &r[2], NULL), -EAGAIN);
        free(a);                                    /* still ours on error */
        /* a timed-out job still holds its thread */
        RUN_UNTIL(loop, r[0].calls == 1);
        a = arg_new(-1);
        assert_int_equal(offload_run(o, work, a, free_arg, 0, done, &r[2], NULL), -EAGAIN);
        free(a);
        assert_int_equal(write(p[1], "xy", 2), 2);
        RUN_UNTIL(loop, r[1].calls == 1 && offload_threads(o) == 0);
        assert_int_equal(offload_run(o, work, arg_new(-1), free_arg, 0, done, &r[2], NULL), 0);
        RUN_UNTIL(loop, r[2].calls == 1);
        assert_int_equal(atomic_load(&freed), 3);
        offload_free(o);
        close(p[0]);
        close(p[1]);
}

static void cancelled(void **state)
{
        struct ev_loop *loop = *state;
        struct offload *o;
        struct offload_job *job;
        struct result r = { 0 };
        int p[2];

        assert_int_equal(pipe(p), 0);
        assert_int_equal(offload_new(loop, 0, &o), 0);
        assert_int_equal(offload_run(o, work, arg_new(p[0]), free_arg, 1., done, &r, &job), 0);
        offload_cancel(o, job);
        assert_int_equal(write(p[1], "x", 1), 1);
        RUN_UNTIL(loop, atomic_load(&freed) == 1 && offload_threads(o) == 0);
        for (int i = 0; i < 20; i++)
                ev_run(loop, EVRUN_NOWAIT);
        assert_int_equal(r.calls, 0);

        /* cancelled after it finished but before the loop saw it */
        assert_int_equal(offload_run(o, work, arg_new(-1), free_arg, 1., done, &r, &job), 0);
        RUN_UNTIL(loop, offload_threads(o) == 0);
        offload_cancel(o, job);
        for (int i = 0; i < 20; i++)
                ev_run(loop, EVRUN_NOWAIT);
        assert_int_equal(r.calls, 0);
        assert_int_equal(atomic_load(&freed), 2);
        offload_free(o);
        close(p[0]);
        close(p[1]);
}

static void outlives_free(void **state)
{
        struct ev_loop *loop = *state;
        struct offload *o;
        struct result r = { 0 };
        int p[2];

        assert_int_equal(pipe(p), 0);
        assert_int_equal(offload_new(loop, 0, &o), 0);
        assert_int_equal(offload_run(o, work, arg_new(p[0]), free_arg, 0, done, &r, NULL), 0);
        assert_int_equal(offload_run(o, work, arg_new(-1), free_arg, 0, done, &r, NULL), 0);
        usleep(50000);          /* the second one has finished, unreported */
        offload_free(o);
        assert_int_equal(write(p[1], "x", 1), 1);
        for (int i = 0; i < 5000 && atomic_load(&freed) < 2; i++)
                usleep(1000);
        assert_int_equal(atomic_load(&freed), 2);
        assert_int_equal(r.calls, 0);
        usleep(50000);          /* let the thread drop the last reference */
        close(p[0]);
        close(p[1]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(completes, setup, teardown),
                cmocka_unit_test_setup_teardown(times_out_then_finishes, setup, teardown),
                cmocka_unit_test_setup_teardown(bounded, setup, teardown),
                cmocka_unit_test_setup_teardown(cancelled, setup, teardown),
                cmocka_unit_test_setup_teardown(outlives_free, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
