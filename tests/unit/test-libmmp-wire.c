/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmmp's side of the wire (lib/libmmp-wire.c, client_read_reply() in
 * lib/libmmp-client.c) over a socketpair, with libmmp's internals: messages
 * split across reads, several in one read, end of stream inside one, and
 * the reply rules it now shares with mmpd's server (lib/mmp-varlink.c):
 * "continues": null ends a stream like false.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "libmmp-internal.h"

struct fx {
        struct mmp_client *c;
        int peer;
};

static struct fx fx_new(void)
{
        struct fx f;
        int sv[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
        f.c = calloc(1, sizeof(*f.c));
        assert_non_null(f.c);
        f.c->path = strdup("@test-libmmp-wire");
        wire_init(&f.c->wire, sv[0]);
        f.peer = sv[1];
        return f;
}

static void fx_free(struct fx *f)
{
        mmp_client_free(f->c);
        if (f->peer >= 0)
                close(f->peer);
}

static void put(struct fx *f, const char *data, size_t len)
{
        assert_int_equal(send(f->peer, data, len, MSG_NOSIGNAL), (ssize_t) len);
}

#define PUT(f, lit) put(f, lit, sizeof(lit) - 1)       /* a literal, embedded NULs too */

static void framing(void **state)
{
        struct fx f = fx_new();
        const char *msg;
        size_t len;

        /* half a message: nothing yet (10 ms), then the rest */
        PUT(&f, "{\"param");
        assert_int_equal(wire_recv(&f.c->wire, 10000, &msg, &len), -ETIMEDOUT);
        PUT(&f, "eters\":{}}\0{\"a\":1}\0{\"b\"");
        assert_int_equal(wire_recv(&f.c->wire, 10000, &msg, &len), 0);
        assert_int_equal(len, strlen("{\"parameters\":{}}"));
        assert_string_equal(msg, "{\"parameters\":{}}");
        /* the second was in the same read */
        assert_int_equal(wire_recv(&f.c->wire, 10000, &msg, &len), 0);
        assert_string_equal(msg, "{\"a\":1}");
        /* the third ends with the stream: a reset, not a message */
        PUT(&f, ":2}");
        close(f.peer);
        f.peer = -1;
        assert_int_equal(wire_recv(&f.c->wire, 10000, &msg, &len), -ECONNRESET);
        fx_free(&f);
}

static void sending(void **state)
{
        struct fx f = fx_new();
        char buf[256];
        ssize_t n;

        assert_int_equal(client_send_call(f.c, "io.mmpd.Watch", json_object(), true), 0);
        n = recv(f.peer, buf, sizeof(buf), 0);
        assert_true(n > 0);
        /* one message, NUL-terminated, as the codec writes it */
        assert_int_equal(buf[n - 1], '\0');
        assert_string_equal(buf, "{\"method\":\"io.mmpd.Watch\",\"parameters\":{},\"more\":true}");
        fx_free(&f);
}

static void reply_rules(void **state)
{
        struct fx f = fx_new();
        json_t *p = NULL;
        bool cont = true;

        /* "continues": null is false (it once broke the call: -EBADMSG) */
        PUT(&f, "{\"parameters\":{\"n\":1},\"continues\":true}\0"
                "{\"parameters\":{\"n\":2},\"continues\":null}\0");
        assert_int_equal(client_read_reply(f.c, false, &p, &cont), 0);
        assert_true(cont);
        json_decref(p);
        assert_int_equal(client_read_reply(f.c, false, &p, &cont), 0);
        assert_false(cont);
        assert_int_equal(json_integer_value(json_object_get(p, "n")), 2);
        json_decref(p);

        /* "parameters" and "error" null: a plain reply */
        PUT(&f, "{\"parameters\":null,\"error\":null}\0");
        assert_int_equal(client_read_reply(f.c, false, &p, &cont), 0);
        assert_true(json_is_object(p));
        assert_int_equal(json_object_size(p), 0);
        assert_false(cont);
        json_decref(p);

        /* an error reply: the table's errno, the connection kept */
        PUT(&f, "{\"error\":\"io.mmpd.NoSuchVolume\",\"parameters\":{\"device\":\"/dev/x\"}}\0");
        assert_int_equal(client_read_reply(f.c, false, &p, &cont), -ENOENT);
        assert_string_equal(mmp_error_get_name(mmp_client_last_error(f.c)), "io.mmpd.NoSuchVolume");
        assert_string_equal(mmp_error_get_message(mmp_client_last_error(f.c)), "mmpd does not know /dev/x");
        assert_true(f.c->wire.fd >= 0);

        /* a name io.mmpd does not declare: -EPROTO */
        PUT(&f, "{\"error\":\"io.mmpd.PermissionDenied\"}\0");
        assert_int_equal(client_read_reply(f.c, false, &p, &cont), -EPROTO);

        /* broken: -EBADMSG with the reason, and the connection dropped */
        PUT(&f, "{\"parameters\":{},\"continues\":1}\0");
        assert_int_equal(client_read_reply(f.c, false, &p, &cont), -EBADMSG);
        assert_string_equal(mmp_error_get_message(mmp_client_last_error(f.c)),
                            "malformed reply from mmpd: bad continues");
        assert_true(f.c->wire.fd < 0);
        fx_free(&f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(framing),
                cmocka_unit_test(sending),
                cmocka_unit_test(reply_rules),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
