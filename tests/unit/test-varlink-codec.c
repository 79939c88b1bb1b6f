/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lib/mmp-varlink: the one varlink codec of mmpd's server and libmmp:
 * framing of NUL-delimited JSON messages (partial reads, several messages
 * in one read, the size limit), the output queue, the builders, and the
 * parsers' rules (absent and null optional members mean the default, and
 * what counts as a broken message).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mmp-varlink.h"

#define ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static struct mmp_varlink_in *in_new(size_t max)
{
        struct mmp_varlink_in *in = NULL;

        assert_int_equal(mmp_varlink_in_new(max, &in), 0);
        return in;
}

static void expect_msg(struct mmp_varlink_in *in, const char *want)
{
        const char *msg = NULL;
        size_t len = 0;

        assert_int_equal(mmp_varlink_in_next(in, &msg, &len), 1);
        assert_int_equal(len, strlen(want));
        assert_memory_equal(msg, want, len);
        assert_int_equal(msg[len], '\0');
}

static void split_across_feeds(void **state)
{
        struct mmp_varlink_in *in = in_new(0);
        const char *msg;
        size_t len;

        assert_int_equal(mmp_varlink_in_feed(in, "{\"meth", 6), 0);
        assert_int_equal(mmp_varlink_in_next(in, &msg, &len), 0);
        assert_int_equal(mmp_varlink_in_partial(in), 6);
        assert_false(mmp_varlink_in_ready(in));
        assert_int_equal(mmp_varlink_in_feed(in, "od\":1}", 7), 0);    /* with its NUL */
        assert_true(mmp_varlink_in_ready(in));
        assert_int_equal(mmp_varlink_in_partial(in), 0);
        expect_msg(in, "{\"method\":1}");
        assert_int_equal(mmp_varlink_in_next(in, &msg, &len), 0);
        mmp_varlink_in_free(in);
}

static void several_in_one_feed(void **state)
{
        static const char data[] = "{\"a\":1}\0{\"b\":2}\0{\"c\":3}\0{\"d\"";
        struct mmp_varlink_in *in = in_new(0);
        const char *msg;
        size_t len;

        assert_int_equal(mmp_varlink_in_feed(in, data, sizeof(data) - 1), 0);
        assert_int_equal(mmp_varlink_in_partial(in), 4);
        expect_msg(in, "{\"a\":1}");
        expect_msg(in, "{\"b\":2}");
        expect_msg(in, "{\"c\":3}");
        assert_int_equal(mmp_varlink_in_next(in, &msg, &len), 0);
        assert_int_equal(mmp_varlink_in_partial(in), 4);
        mmp_varlink_in_free(in);
}

static void empty_message_is_a_message(void **state)
{
        struct mmp_varlink_in *in = in_new(0);

        assert_int_equal(mmp_varlink_in_feed(in, "\0", 1), 0);
        expect_msg(in, "");
        mmp_varlink_in_free(in);
}

static void limit_exact_and_over(void **state)
{
        struct mmp_varlink_in *in = in_new(10);
        const char *msg;
        size_t len;

        /* exactly the limit, with its NUL: fine */
        assert_int_equal(mmp_varlink_in_feed(in, "0123456789", 11), 0);
        expect_msg(in, "0123456789");
        /* 10 bytes without a NUL: still a possible message */
        assert_int_equal(mmp_varlink_in_feed(in, "0123456789", 10), 0);
        assert_int_equal(mmp_varlink_in_next(in, &msg, &len), 0);
        /* the 11th byte that is not a NUL makes it too long */
        assert_int_equal(mmp_varlink_in_feed(in, "x", 1), 0);
        assert_int_equal(mmp_varlink_in_next(in, &msg, &len), -EMSGSIZE);
        mmp_varlink_in_free(in);
}

static void space_is_bounded(void **state)
{
        struct mmp_varlink_in *in = in_new(100);
        size_t total = 0, len;
        void *p;

        /* a peer that never sends a NUL can fill at most max + 1 bytes */
        while (mmp_varlink_in_space(in, &p, &len) == 0) {
                assert_true(len > 0);
                memset(p, 'a', len);
                mmp_varlink_in_advance(in, len);
                total += len;
                assert_true(total <= 101);
        }
        assert_int_equal(total, 101);
        assert_int_equal(mmp_varlink_in_space(in, &p, &len), -ENOBUFS);
        assert_int_equal(mmp_varlink_in_feed(in, "a", 1), -ENOBUFS);
        assert_int_equal(mmp_varlink_in_next(in, (const char **) &p, &len), -EMSGSIZE);
        mmp_varlink_in_free(in);
}

static void big_message_through_small_reads(void **state)
{
        const size_t n = 300000;
        struct mmp_varlink_in *in = in_new(0);
        char *big = malloc(n + 1);
        const char *msg;
        size_t off = 0, len;

        assert_non_null(big);
        memset(big, 'x', n);
        big[n] = '\0';
        while (off <= n) {
                void *p;
                size_t room;

                assert_int_equal(mmp_varlink_in_space(in, &p, &room), 0);
                if (room > 1000)
                        room = 1000;
                if (room > n + 1 - off)
                        room = n + 1 - off;
                memcpy(p, big + off, room);
                mmp_varlink_in_advance(in, room);
                off += room;
                if (off <= n)
                        assert_int_equal(mmp_varlink_in_next(in, &msg, &len), 0);
        }
        assert_int_equal(mmp_varlink_in_next(in, &msg, &len), 1);
        assert_int_equal(len, n);
        assert_memory_equal(msg, big, n);
        free(big);
        mmp_varlink_in_free(in);
}

static void output_queue(void **state)
{
        struct mmp_varlink_out *out = NULL;
        json_t *m;

        assert_int_equal(mmp_varlink_out_new(&out), 0);
        assert_int_equal(mmp_varlink_out_pending(out), 0);
        m = mmp_varlink_reply_new(json_pack("{s:i}", "x", 1), true);
        assert_non_null(m);
        assert_int_equal(mmp_varlink_out_append(out, m), 0);
        assert_int_equal(mmp_varlink_out_append(out, m), 0);
        json_decref(m);
        {
                static const char one[] = "{\"parameters\":{\"x\":1},\"continues\":true}";
                size_t n = sizeof(one);      /* with the NUL */

                assert_int_equal(mmp_varlink_out_pending(out), 2 * n);
                assert_memory_equal(mmp_varlink_out_data(out), one, n);
                mmp_varlink_out_consume(out, n - 3);
                assert_int_equal(mmp_varlink_out_pending(out), n + 3);
                mmp_varlink_out_consume(out, 3);
                assert_memory_equal(mmp_varlink_out_data(out), one, n);
                mmp_varlink_out_consume(out, n);
                assert_int_equal(mmp_varlink_out_pending(out), 0);
        }
        mmp_varlink_out_free(out);
}

static void builders(void **state)
{
        json_t *m;
        char *s;
        size_t n;

        m = mmp_varlink_call_new("io.mmpd.Claim", json_pack("{s:s}", "device", "/dev/x"),
                                 MMP_VARLINK_MORE);
        assert_int_equal(mmp_varlink_serialize(m, &s, &n), 0);
        assert_string_equal(s, "{\"method\":\"io.mmpd.Claim\",\"parameters\":{\"device\":\"/dev/x\"},\"more\":true}");
        assert_int_equal(n, strlen(s) + 1);
        free(s);
        json_decref(m);

        m = mmp_varlink_call_new("a.B", NULL, MMP_VARLINK_ONEWAY);
        assert_int_equal(mmp_varlink_serialize(m, &s, &n), 0);
        assert_string_equal(s, "{\"method\":\"a.B\",\"parameters\":{},\"oneway\":true}");
        free(s);
        json_decref(m);

        m = mmp_varlink_error_new("org.varlink.service.InvalidParameter",
                                  json_pack("{s:s}", "parameter", "device"));
        assert_int_equal(mmp_varlink_serialize(m, &s, &n), 0);
        assert_string_equal(s, "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"device\"}}");
        free(s);
        json_decref(m);

        m = mmp_varlink_reply_new(NULL, false);
        assert_int_equal(mmp_varlink_serialize(m, &s, &n), 0);
        assert_string_equal(s, "{\"parameters\":{}}");
        free(s);
        json_decref(m);

        /* invalid UTF-8 cannot become a JSON string */
        assert_null(mmp_varlink_error_new("bad\xff", NULL));
}

static int parse_call(const char *s, struct mmp_varlink_call *c)
{
        json_t *root = NULL;
        int r = mmp_varlink_call_parse(s, strlen(s), &root, c);

        json_decref(root);
        return r;
}

static void call_parsing(void **state)
{
        struct mmp_varlink_call c;
        json_t *root;
        const char *s = "{\"method\":\"io.mmpd.Watch\",\"more\":true,\"future\":1}";

        assert_int_equal(mmp_varlink_call_parse(s, strlen(s), &root, &c), 0);
        assert_string_equal(c.method, "io.mmpd.Watch");
        assert_true(c.more);
        assert_false(c.oneway);
        assert_true(json_is_object(c.parameters));
        assert_int_equal(json_object_size(c.parameters), 0);
        json_decref(root);

        assert_int_equal(parse_call("{\"method\":\"a.B\",\"parameters\":null,\"oneway\":true}", &c), 0);

        /* broken: the connection must be closed */
        static const char *const broken[] = {
                "", "nul", "[1,2]", "\"str\"", "{", "{\"method\":1}", "{\"parameters\":{}}",
                "{\"method\":\"a.B\",\"parameters\":[]}", "{\"method\":\"a.B\",\"parameters\":1}",
                "{\"method\":\"a.B\",\"oneway\":1}", "{\"method\":\"a.B\",\"more\":\"yes\"}",
                "{\"method\":\"a.B\",\"method\":\"c.D\"}", "{\"method\":\"a\xff\"}",
                "{\"method\":\"a.B\"} trailing",
        };
        for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
                print_message("# broken: %s\n", broken[i]);
                assert_int_equal(parse_call(broken[i], &c), -EBADMSG);
        }
}

static void reply_parsing(void **state)
{
        struct mmp_varlink_reply r;
        json_t *root;
        const char *s = "{\"error\":\"io.mmpd.NoSuchVolume\",\"parameters\":{\"device\":\"x\"}}";

        assert_int_equal(mmp_varlink_reply_parse(s, strlen(s), &root, &r, NULL), 0);
        assert_string_equal(r.error, "io.mmpd.NoSuchVolume");
        assert_false(r.continues);
        assert_string_equal(json_string_value(json_object_get(r.parameters, "device")), "x");
        json_decref(root);

        s = "{\"parameters\":{},\"continues\":true}";
        assert_int_equal(mmp_varlink_reply_parse(s, strlen(s), &root, &r, NULL), 0);
        assert_null(r.error);
        assert_true(r.continues);
        json_decref(root);

        s = "{\"error\":7}";
        assert_int_equal(mmp_varlink_reply_parse(s, strlen(s), &root, &r, NULL), -EBADMSG);
}

/* ',"key":value', or "" for an absent member (@value NULL). */
static void member_of(char *buf, size_t size, const char *key, const char *value)
{
        if (value)
                snprintf(buf, size, ",\"%s\":%s", key, value);
        else
                buf[0] = '\0';
}

/* Every optional flag: absent, null, false, true, and the wrong type. */
static void optional_flags(void **state)
{
        static const struct {
                const char *json;       /* the member's value as sent, NULL for absent */
                int r;                  /* 0, or -EBADMSG */
                bool value;
        } cases[] = {
                { NULL, 0, false },
                { "null", 0, false },
                { "false", 0, false },
                { "true", 0, true },
                { "1", -EBADMSG, false },
                { "\"true\"", -EBADMSG, false },
                { "{}", -EBADMSG, false },
        };
        static const char *const call_flags[] = { "oneway", "more", "upgrade" };

        for (size_t i = 0; i < ELEMENTS(cases); i++) {
                char member[64], s[160];

                for (size_t f = 0; f < ELEMENTS(call_flags); f++) {
                        struct mmp_varlink_call c;
                        json_t *root = NULL;
                        bool v;
                        int r;

                        member_of(member, sizeof(member), call_flags[f], cases[i].json);
                        snprintf(s, sizeof(s), "{\"method\":\"a.B\"%s}", member);
                        print_message("# call %s\n", s);
                        r = mmp_varlink_call_parse(s, strlen(s), &root, &c);
                        assert_int_equal(r, cases[i].r);
                        if (r < 0)
                                continue;
                        v = f == 0 ? c.oneway : f == 1 ? c.more : c.upgrade;
                        assert_int_equal(v, cases[i].value);
                        json_decref(root);
                }

                /* "continues": null ends a stream like false does; libmmp and
                 * mmpd's server once disagreed on this. */
                {
                        struct mmp_varlink_reply rep;
                        json_error_t why;
                        json_t *root = NULL;
                        int r;

                        member_of(member, sizeof(member), "continues", cases[i].json);
                        snprintf(s, sizeof(s), "{\"parameters\":{\"n\":1}%s}", member);
                        print_message("# reply %s\n", s);
                        r = mmp_varlink_reply_parse(s, strlen(s), &root, &rep, &why);
                        assert_int_equal(r, cases[i].r);
                        if (r < 0) {
                                assert_string_equal(why.text, "bad continues");
                                continue;
                        }
                        assert_int_equal(rep.continues, cases[i].value);
                        assert_null(rep.error);
                        assert_int_equal(json_integer_value(json_object_get(rep.parameters, "n")), 1);
                        json_decref(root);
                }
        }
}

/* "error" and "parameters" null are absent; the reason for a broken reply. */
static void reply_nulls_and_reasons(void **state)
{
        static const struct {
                const char *s;
                const char *why;        /* NULL: parses */
        } cases[] = {
                { "{\"error\":null,\"parameters\":null,\"continues\":null}", NULL },
                { "{}", NULL },
                { "{\"error\":\"a.B\",\"parameters\":null}", NULL },
                { "this is not JSON", "'[' or '{' expected near 'this'" },
                { "[]", "not an object" },
                { "{\"error\":7}", "bad error" },
                { "{\"parameters\":[]}", "bad parameters" },
                { "{\"parameters\":{},\"parameters\":{}}", NULL /* below */ },
        };

        for (size_t i = 0; i < ELEMENTS(cases); i++) {
                struct mmp_varlink_reply rep;
                json_error_t why = { 0 };
                json_t *root = NULL;
                int r;

                print_message("# reply %s\n", cases[i].s);
                r = mmp_varlink_reply_parse(cases[i].s, strlen(cases[i].s), &root, &rep, &why);
                if (i == ELEMENTS(cases) - 1) {
                        /* a duplicate key is broken too */
                        assert_int_equal(r, -EBADMSG);
                        assert_true(strlen(why.text) > 0);
                        continue;
                }
                if (cases[i].why) {
                        assert_int_equal(r, -EBADMSG);
                        assert_string_equal(why.text, cases[i].why);
                        continue;
                }
                assert_int_equal(r, 0);
                assert_false(rep.continues);
                assert_true(json_is_object(rep.parameters));
                assert_int_equal(json_object_size(rep.parameters), 0);
                if (i == 2)
                        assert_string_equal(rep.error, "a.B");
                else
                        assert_null(rep.error);
                json_decref(root);
        }
        /* NULL for the reason is fine */
        assert_int_equal(mmp_varlink_reply_parse("[", 1, NULL, NULL, NULL), -EBADMSG);
}

/* What the builders write, the parsers read back, through a byte-by-byte
 * stream with other messages around it. */
static void round_trip_byte_by_byte(void **state)
{
        json_t *msgs[] = {
                mmp_varlink_call_new("x.Y", json_pack("{s:s}", "device", "/dev/\xc3\xa9"),
                                     MMP_VARLINK_MORE),
                mmp_varlink_reply_new(json_pack("{s:i}", "n", 1), true),
                mmp_varlink_reply_new(json_pack("{s:i}", "n", 2), false),
                mmp_varlink_error_new("x.Failed", NULL),
                mmp_varlink_call_new("x.Z", NULL, MMP_VARLINK_ONEWAY),
        };
        struct mmp_varlink_out *out = NULL;
        struct mmp_varlink_in *in = in_new(128);
        const unsigned char *p;
        size_t n, got = 0;

        assert_int_equal(mmp_varlink_out_new(&out), 0);
        for (size_t i = 0; i < ELEMENTS(msgs); i++) {
                assert_non_null(msgs[i]);
                assert_int_equal(mmp_varlink_out_append(out, msgs[i]), 0);
        }
        n = mmp_varlink_out_pending(out);
        p = mmp_varlink_out_data(out);
        for (size_t k = 0; k < n; k++) {
                const char *msg;
                size_t len;
                int r;

                assert_int_equal(mmp_varlink_in_feed(in, p + k, 1), 0);
                r = mmp_varlink_in_next(in, &msg, &len);
                assert_true(r >= 0);
                if (r == 0)
                        continue;
                /* complete exactly at its NUL */
                assert_int_equal(p[k], 0);
                {
                        json_t *root = NULL;

                        if (got == 0 || got == 4) {
                                struct mmp_varlink_call c;

                                assert_int_equal(mmp_varlink_call_parse(msg, len, &root, &c), 0);
                                assert_string_equal(c.method, got == 0 ? "x.Y" : "x.Z");
                                assert_int_equal(c.more, got == 0);
                                assert_int_equal(c.oneway, got == 4);
                                if (got == 0)
                                        assert_string_equal(json_string_value(json_object_get(c.parameters, "device")),
                                                            "/dev/\xc3\xa9");
                        } else {
                                struct mmp_varlink_reply rep;

                                assert_int_equal(mmp_varlink_reply_parse(msg, len, &root, &rep, NULL), 0);
                                assert_int_equal(rep.continues, got == 1);
                                if (got == 3)
                                        assert_string_equal(rep.error, "x.Failed");
                                else
                                        assert_int_equal(json_integer_value(json_object_get(rep.parameters, "n")),
                                                         (json_int_t) got);
                        }
                        json_decref(root);
                }
                got++;
        }
        assert_int_equal(got, ELEMENTS(msgs));
        assert_int_equal(mmp_varlink_in_partial(in), 0);
        for (size_t i = 0; i < ELEMENTS(msgs); i++)
                json_decref(msgs[i]);
        mmp_varlink_out_free(out);
        mmp_varlink_in_free(in);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(split_across_feeds),
                cmocka_unit_test(several_in_one_feed),
                cmocka_unit_test(empty_message_is_a_message),
                cmocka_unit_test(limit_exact_and_over),
                cmocka_unit_test(space_is_bounded),
                cmocka_unit_test(big_message_through_small_reads),
                cmocka_unit_test(output_queue),
                cmocka_unit_test(builders),
                cmocka_unit_test(call_parsing),
                cmocka_unit_test(reply_parsing),
                cmocka_unit_test(optional_flags),
                cmocka_unit_test(reply_nulls_and_reasons),
                cmocka_unit_test(round_trip_byte_by_byte),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
