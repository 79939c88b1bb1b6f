/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mmpctl/format.c: humanised durations at every unit boundary, and when
 * mmpctl prints colour (a terminal, NO_COLOR unset or empty, TERM not dumb). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "format.h"

#define S 1000000ull

static void expect_duration(uint64_t usec, const char *want)
{
        char buf[32];

        memset(buf, 'x', sizeof(buf));
        assert_string_equal(mmpctl_format_duration(usec, buf, sizeof(buf)), want);
}

static void test_seconds(void **state)
{
        expect_duration(0, "0.0s");
        expect_duration(99999, "0.0s");         /* rounded down: never more than has passed */
        expect_duration(100000, "0.1s");
        expect_duration(4 * S + 250000, "4.2s");
        expect_duration(10 * S - 1, "9.9s");
        expect_duration(10 * S, "10s");
        expect_duration(60 * S - 1, "59s");
}

static void test_minutes_hours_days(void **state)
{
        expect_duration(60 * S, "1m00s");
        expect_duration(192 * S + 999999, "3m12s");
        expect_duration(3600 * S - 1, "59m59s");
        expect_duration(3600 * S, "1h00m");
        expect_duration((2 * 3600 + 5 * 60 + 59) * S, "2h05m");
        expect_duration(86400 * S - 1, "23h59m");
        expect_duration(86400 * S, "1d00h");
        expect_duration((3 * 86400 + 4 * 3600) * S, "3d04h");
        expect_duration(UINT64_MAX, "213503982d08h");     /* no overflow at the top */
}

static void test_small_buffer(void **state)
{
        char buf[4];

        /* Cut, NUL-terminated, never past the buffer. */
        assert_string_equal(mmpctl_format_duration(192 * S, buf, sizeof(buf)), "3m1");
}

static void test_color(void **state)
{
        assert_true(mmpctl_want_color(true, NULL, "xterm"));
        assert_true(mmpctl_want_color(true, NULL, NULL));
        assert_true(mmpctl_want_color(true, "", "xterm"));      /* no-color.org: empty = unset */
        assert_false(mmpctl_want_color(true, "1", "xterm"));
        assert_false(mmpctl_want_color(true, "0", "xterm"));    /* any non-empty value */
        assert_false(mmpctl_want_color(true, NULL, "dumb"));
        assert_false(mmpctl_want_color(false, NULL, "xterm"));  /* a pipe or a file */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_seconds),
                cmocka_unit_test(test_minutes_hours_days),
                cmocka_unit_test(test_small_buffer),
                cmocka_unit_test(test_color),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
