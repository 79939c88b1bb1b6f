/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the fault device's command parser and rule table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "faultdev-rules.h"

static struct fdev_cmd parse_ok(const char *line)
{
        struct fdev_cmd c;

        memset(&c, 0xa5, sizeof(c));
        assert_int_equal(fdev_cmd_parse(line, &c), 0);
        return c;
}

static void test_parse_valid(void **state)
{
        struct fdev_cmd c;

        c = parse_ok("delay read 200");
        assert_int_equal(c.type, FDEV_CMD_RULE);
        assert_int_equal(c.rule.kind, FDEV_DELAY);
        assert_int_equal(c.rule.ops, FDEV_OP_READ);
        assert_int_equal(c.rule.delay_ms, 200);
        assert_int_equal(c.rule.length, 0);

        c = parse_ok("  stall\twrite 0x1000 512 ");
        assert_int_equal(c.rule.kind, FDEV_STALL);
        assert_int_equal(c.rule.ops, FDEV_OP_WRITE);
        assert_int_equal(c.rule.offset, 4096);
        assert_int_equal(c.rule.length, 512);

        c = parse_ok("fail all ENOSPC 010 1");
        assert_int_equal(c.rule.kind, FDEV_FAIL);
        assert_int_equal(c.rule.ops, FDEV_OP_ALL);
        assert_int_equal(c.rule.error, ENOSPC);
        assert_int_equal(c.rule.offset, 10);    /* decimal, not octal */

        assert_int_equal(parse_ok("resume").type, FDEV_CMD_RESUME);
        assert_int_equal(parse_ok("clear\r").type, FDEV_CMD_CLEAR);
        assert_int_equal(parse_ok("delay all 3600000").rule.delay_ms, FDEV_DELAY_MAX_MS);
        c = parse_ok("stall read 18446744073709551614 1");
        assert_true(c.rule.offset == UINT64_MAX - 1);
}

static void test_parse_invalid(void **state)
{
        static const char *const bad[] = {
                "", "   ", "bogus", "delay", "delay read", "delay read 0", "delay read -5",
                "delay read 3600001", "delay read 99999999999999999999", "delay sideways 10",
                "delay read 10 5", "delay read 10 5 0", "delay read 10 5 6 7",
                "stall", "stall read 1", "stall read 0 0", "stall read 1 2 3", "stall READ",
                "stall read 18446744073709551615 1", "stall read 0x 1", "stall read 1x 1",
                "fail read", "fail read EIOX", "fail read eio", "fail read 5", "fail EIO read",
                "resume now", "clear all", "Resume",
        };
        struct fdev_cmd c = { .type = 42 };
        char longline[FDEV_LINE_MAX + 2];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (fdev_cmd_parse(bad[i], &c) != -EINVAL)
                        fail_msg("accepted \"%s\"", bad[i]);
                assert_int_equal(c.type, 42);   /* untouched on failure */
        }
        memset(longline, ' ', sizeof(longline) - 1);
        longline[sizeof(longline) - 1] = 0;
        memcpy(longline, "clear", 5);
        assert_int_equal(fdev_cmd_parse(longline, &c), -EINVAL);
}

static void test_format_round_trip(void **state)
{
        static const char *const lines[] = {
                "delay read 200", "delay all 1 0 1", "stall write", "stall all 4096 512",
                "fail write EIO", "fail read ETIMEDOUT 1048576 4096",
        };
        char buf[FDEV_LINE_MAX];

        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                struct fdev_cmd c = parse_ok(lines[i]);

                fdev_rule_format(&c.rule, buf, sizeof(buf));
                assert_string_equal(buf, lines[i]);
        }
}

static void test_match_range(void **state)
{
        struct fdev_rule r = parse_ok("fail write EIO 4096 512").rule;

        assert_false(fdev_rule_matches(&r, FDEV_OP_READ, 4096, 512));
        assert_true(fdev_rule_matches(&r, FDEV_OP_WRITE, 4096, 512));
        assert_false(fdev_rule_matches(&r, FDEV_OP_WRITE, 3584, 512));   /* ends at 4096 */
        assert_true(fdev_rule_matches(&r, FDEV_OP_WRITE, 3585, 512));
        assert_true(fdev_rule_matches(&r, FDEV_OP_WRITE, 4607, 1));
        assert_false(fdev_rule_matches(&r, FDEV_OP_WRITE, 4608, 4096));  /* starts at the end */
        assert_true(fdev_rule_matches(&r, FDEV_OP_WRITE, 0, 1 << 20));   /* spans it */
        assert_true(fdev_rule_matches(&r, FDEV_OP_WRITE, 4100, 0));
        assert_false(fdev_rule_matches(&r, FDEV_OP_WRITE, 4608, 0));
        assert_true(fdev_rule_matches(&r, FDEV_OP_WRITE, 0, UINT64_MAX)); /* no overflow */

        r = parse_ok("stall all").rule;
        assert_true(fdev_rule_matches(&r, FDEV_OP_READ, UINT64_MAX - 1, 4096));
        assert_true(fdev_rule_matches(&r, FDEV_OP_WRITE, 0, 0));
}

static void add(struct fdev_rules *rs, const char *line)
{
        struct fdev_cmd c = parse_ok(line);

        assert_int_equal(fdev_rules_apply(rs, &c), 0);
}

static void test_plan(void **state)
{
        struct fdev_rules rs = {};
        struct fdev_plan p;

        p = fdev_rules_plan(&rs, FDEV_OP_READ, 0, 4096);
        assert_false(p.stall);
        assert_int_equal(p.delay_ms, 0);
        assert_int_equal(p.error, 0);

        add(&rs, "delay read 100");
        add(&rs, "delay all 300 0 4096");
        add(&rs, "delay read 200");
        add(&rs, "fail read EIO");
        add(&rs, "fail read ENOSPC 8192 4096");
        add(&rs, "stall write 0 512");

        p = fdev_rules_plan(&rs, FDEV_OP_READ, 0, 4096);
        assert_false(p.stall);
        assert_int_equal(p.delay_ms, 300);      /* the longest */
        assert_int_equal(p.error, EIO);

        p = fdev_rules_plan(&rs, FDEV_OP_READ, 8192, 512);
        assert_int_equal(p.delay_ms, 200);
        assert_int_equal(p.error, ENOSPC);      /* the newest */

        p = fdev_rules_plan(&rs, FDEV_OP_WRITE, 0, 4096);
        assert_true(p.stall);
        assert_int_equal(p.delay_ms, 300);
        assert_int_equal(p.error, 0);

        p = fdev_rules_plan(&rs, FDEV_OP_WRITE, 512, 4096);
        assert_false(p.stall);
}

static void test_apply(void **state)
{
        struct fdev_rules rs = {};
        struct fdev_cmd c;

        add(&rs, "stall read");
        add(&rs, "delay read 5");
        add(&rs, "stall write 0 1");
        add(&rs, "fail all EIO");
        assert_int_equal(rs.n, 4);

        c = parse_ok("resume");
        assert_int_equal(fdev_rules_apply(&rs, &c), 0);
        assert_int_equal(rs.n, 2);
        assert_int_equal(rs.rule[0].kind, FDEV_DELAY);
        assert_int_equal(rs.rule[1].kind, FDEV_FAIL);

        c = parse_ok("clear");
        assert_int_equal(fdev_rules_apply(&rs, &c), 0);
        assert_int_equal(rs.n, 0);

        for (size_t i = 0; i < FDEV_RULES_MAX; i++)
                add(&rs, "delay write 1");
        c = parse_ok("stall read");
        assert_int_equal(fdev_rules_apply(&rs, &c), -ENOSPC);
        assert_int_equal(rs.n, FDEV_RULES_MAX);
}

static void test_errno_names(void **state)
{
        assert_int_equal(fdev_errno_from_name("EIO"), EIO);
        assert_int_equal(fdev_errno_from_name("EREMOTEIO"), EREMOTEIO);
        assert_int_equal(fdev_errno_from_name("EWHAT"), 0);
        assert_string_equal(fdev_errno_to_name(ETIMEDOUT), "ETIMEDOUT");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_valid),
                cmocka_unit_test(test_parse_invalid),
                cmocka_unit_test(test_format_round_trip),
                cmocka_unit_test(test_match_range),
                cmocka_unit_test(test_plan),
                cmocka_unit_test(test_apply),
                cmocka_unit_test(test_errno_names),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
