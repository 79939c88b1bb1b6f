/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The varlink server (mmpd/varlink-server.h) with a toy method table: no
 * manager, no volume, no io.mmpd.  A socketpair is the connection; the test
 * writes raw messages on its end and runs the loop until the replies come.
 * Calls, streaming with more/continues (synchronous and from a timer),
 * oneway, pipelining, unknown methods and interfaces, parameters and
 * access, broken messages, the per-message size limits, and the per-call
 * context's cleanup.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mmp-varlink.h"
#include "varlink-server.h"

#define TOY "org.example.toy"

static const char toy_idl[] =
        "interface org.example.toy\n"
        "method Echo(text: ?string, n: ?int) -> (text: ?string, n: ?int)\n"
        "method Count(n: int) -> (i: int)\n"
        "method Ticks(n: int) -> (i: int)\n"
        "method Hold() -> ()\n"
        "method Secret() -> ()\n"
        "method Fail() -> ()\n"
        "method Break() -> ()\n"
        "error Failed ()\n";

struct toy {
        unsigned calls;
        unsigned cleanups;
        bool destroyed;
        struct ev_loop *loop;
};

/* Ticks' context: a timer that streams one reply per tick. */
struct ticks {
        ev_timer timer;
        struct vl_call *call;
        struct toy *toy;
        int i, n;
};

static void count_cleanup(void *context)
{
        struct toy *t = context;

        t->cleanups++;
}

static int m_echo(struct vl_call *c, void *userdata)
{
        struct toy *t = userdata;

        t->calls++;
        return vl_reply(c, json_deep_copy(vl_call_params(c)), true);
}

static int m_count(struct vl_call *c, void *userdata)
{
        json_int_t n = json_integer_value(json_object_get(vl_call_params(c), "n"));

        if (!vl_call_more(c))
                return vl_reply_service_error(c, "ExpectedMore", NULL, NULL);
        for (json_int_t i = 0; i < n; i++) {
                int r = vl_reply(c, json_pack("{s:I}", "i", i), i == n - 1);

                if (r < 0)
                        return 0;       /* the connection is gone, and the call */
        }
        return 0;
}

static void ticks_cleanup(void *context)
{
        struct ticks *k = context;

        ev_timer_stop(k->toy->loop, &k->timer);
        k->toy->cleanups++;
        free(k);
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
        struct ticks *k = w->data;
        int i = k->i++;

        /* The final reply frees the call, and with it k. */
        vl_reply(k->call, json_pack("{s:i}", "i", i), i == k->n - 1);
}

static int m_ticks(struct vl_call *c, void *userdata)
{
        struct toy *t = userdata;
        struct ticks *k = calloc(1, sizeof(*k));

        if (!k)
                return -ENOMEM;
        k->call = c;
        k->toy = t;
        k->n = (int) json_integer_value(json_object_get(vl_call_params(c), "n"));
        vl_call_set_context(c, k, ticks_cleanup);
        ev_timer_init(&k->timer, on_tick, 0.001, 0.001);
        k->timer.data = k;
        ev_timer_start(t->loop, &k->timer);
        return 0;
}

/* Like a subscription: no reply until the peer goes. */
static int m_hold(struct vl_call *c, void *userdata)
{
        vl_call_set_context(c, userdata, count_cleanup);
        vl_call_set_endless(c);
        return 0;
}

static int m_secret(struct vl_call *c, void *userdata)
{
        return vl_reply(c, json_object(), true);
}

static int m_fail(struct vl_call *c, void *userdata)
{
        return vl_call_send(c, mmp_varlink_error_new(TOY ".Failed", NULL), true);
}

static int m_break(struct vl_call *c, void *userdata)
{
        return -EIO;
}

static const struct vl_param no_params[] = { { NULL } };
static const struct vl_param echo_params[] = {
        { "text", JSON_STRING, false },
        { "n", JSON_INTEGER, false },
        { NULL },
};
static const struct vl_param n_params[] = {
        { "n", JSON_INTEGER, true },
        { NULL },
};

static const struct vl_method toy_methods[] = {
        { TOY ".Echo", m_echo, 0, echo_params },
        { TOY ".Count", m_count, 0, n_params },
        { TOY ".Ticks", m_ticks, 0, n_params },
        { TOY ".Hold", m_hold, 0, no_params },
        { TOY ".Secret", m_secret, VL_METHOD_PRIVILEGED, no_params },
        { TOY ".Fail", m_fail, 0, no_params },
        { TOY ".Break", m_break, 0, no_params },
        { NULL },
};

static void toy_destroy(void *userdata)
{
        struct toy *t = userdata;

        t->destroyed = true;
}

/* ---- the fixture ------------------------------------------------------------------ */

struct fx {
        struct ev_loop *loop;
        struct varlink_server *s;
        struct toy toy;
        int peer;
        struct mmp_varlink_in *in;
};

static void quiet(int prio, const char *msg, void *userdata)
{
}

static struct fx *fx_new(uid_t uid, const struct varlink_options *opts)
{
        struct varlink_options o = opts ? *opts : (struct varlink_options) { 0 };
        struct ucred cred = { .pid = getpid(), .uid = uid, .gid = uid };
        struct fx *f = calloc(1, sizeof(*f));
        int sv[2];

        assert_non_null(f);
        o.log = quiet;
        f->loop = ev_loop_new(EVFLAG_AUTO);
        assert_non_null(f->loop);
        f->toy.loop = f->loop;
        assert_int_equal(varlink_transport_new(f->loop, &o, &f->s), 0);
        varlink_server_set_info(f->s, "example", "toy", "1", "https://example.org");
        assert_int_equal(varlink_server_add_interface(f->s, &(struct vl_interface) {
                .name = TOY, .description = toy_idl, .methods = toy_methods,
                .userdata = &f->toy, .destroy = toy_destroy,
        }), 0);
        /* the same name twice, or the service's own: refused */
        assert_int_equal(varlink_server_add_interface(f->s, &(struct vl_interface) {
                .name = TOY, .description = toy_idl, .methods = toy_methods,
        }), -EEXIST);
        assert_int_equal(varlink_server_add_interface(f->s, &(struct vl_interface) {
                .name = "org.varlink.service", .description = toy_idl, .methods = toy_methods,
        }), -EEXIST);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(vl_conn_new(f->s, sv[0], &cred), 0);
        assert_int_equal(varlink_server_connections(f->s), 1);
        f->peer = sv[1];
        assert_int_equal(mmp_varlink_in_new(0, &f->in), 0);
        return f;
}

static void fx_free(struct fx *f)
{
        if (f->s) {
                varlink_server_free(f->s);
                assert_true(f->toy.destroyed);
        }
        ev_loop_destroy(f->loop);
        if (f->peer >= 0)
                close(f->peer);
        mmp_varlink_in_free(f->in);
        free(f);
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void send_raw(struct fx *f, const void *data, size_t len)
{
        const char *p = data;

        while (len > 0) {
                ssize_t n = send(f->peer, p, len, MSG_NOSIGNAL);

                if (n < 0 && errno == EAGAIN) {
                        ev_run(f->loop, EVRUN_NOWAIT);
                        continue;
                }
                assert_true(n > 0);
                p += n;
                len -= (size_t) n;
        }
}

static void send_str(struct fx *f, const char *s)
{
        send_raw(f, s, strlen(s) + 1);          /* with its NUL */
}

/* Run the loop until a message arrives (1, *ret) or the server closed the
 * connection (0); at most 5 s. */
static int recv_msg(struct fx *f, json_t **ret)
{
        double end = now_s() + 5;

        while (now_s() < end) {
                const char *msg;
                size_t len;
                void *p;
                ssize_t n;
                int r;

                r = mmp_varlink_in_next(f->in, &msg, &len);
                assert_true(r >= 0);
                if (r > 0) {
                        json_error_t e;

                        *ret = json_loadb(msg, len, 0, &e);
                        assert_non_null(*ret);
                        return 1;
                }
                assert_int_equal(mmp_varlink_in_space(f->in, &p, (size_t *) &len), 0);
                n = recv(f->peer, p, len, MSG_DONTWAIT);
                if (n > 0) {
                        mmp_varlink_in_advance(f->in, (size_t) n);
                        continue;
                }
                if (n == 0 || (n < 0 && errno == ECONNRESET))
                        return 0;       /* closed (with our bytes unread: reset) */
                assert_int_equal(errno, EAGAIN);
                ev_run(f->loop, EVRUN_NOWAIT);
        }
        fail_msg("no message and no end of stream within 5 s");
        return -1;
}

static json_t *expect_msg(struct fx *f)
{
        json_t *m = NULL;

        assert_int_equal(recv_msg(f, &m), 1);
        return m;
}

static void expect_closed(struct fx *f)
{
        json_t *m = NULL;

        assert_int_equal(recv_msg(f, &m), 0);
        /* the server forgot it too */
        for (int i = 0; i < 10 && varlink_server_connections(f->s) > 0; i++)
                ev_run(f->loop, EVRUN_NOWAIT);
        assert_int_equal(varlink_server_connections(f->s), 0);
}

/* Nothing comes for a few loop iterations (and 20 ms). */
static void expect_quiet(struct fx *f)
{
        double end = now_s() + 0.02;
        char b;

        while (now_s() < end)
                ev_run(f->loop, EVRUN_NOWAIT);
        assert_false(mmp_varlink_in_ready(f->in));
        assert_int_equal(recv(f->peer, &b, 1, MSG_DONTWAIT | MSG_PEEK), -1);
        assert_int_equal(errno, EAGAIN);
}

static const char *error_of(json_t *m)
{
        return json_string_value(json_object_get(m, "error"));
}

static json_t *params_of(json_t *m)
{
        return json_object_get(m, "parameters");
}

static bool continues(json_t *m)
{
        return json_is_true(json_object_get(m, "continues"));
}

static void expect_error(struct fx *f, const char *name, const char *key, const char *value)
{
        json_t *m = expect_msg(f);
        char *text = json_dumps(m, JSON_COMPACT);

        print_message("# %s\n", text);
        free(text);
        assert_non_null(error_of(m));
        assert_string_equal(error_of(m), name);
        if (key)
                assert_string_equal(json_string_value(json_object_get(params_of(m), key)), value);
        assert_false(continues(m));
        json_decref(m);
}

/* ---- tests -------------------------------------------------------------------------- */

static void call_and_reply(void **state)
{
        struct fx *f = fx_new(65534, NULL);
        json_t *m;

        send_str(f, "{\"method\":\"" TOY ".Echo\",\"parameters\":{\"text\":\"hi\",\"n\":7}}");
        m = expect_msg(f);
        assert_null(error_of(m));
        assert_false(continues(m));
        assert_string_equal(json_string_value(json_object_get(params_of(m), "text")), "hi");
        assert_int_equal(json_integer_value(json_object_get(params_of(m), "n")), 7);
        assert_int_equal(f->toy.calls, 1);
        json_decref(m);

        /* an application error */
        send_str(f, "{\"method\":\"" TOY ".Fail\"}");
        expect_error(f, TOY ".Failed", NULL, NULL);

        /* parameters null = none; the connection carries on */
        send_str(f, "{\"method\":\"" TOY ".Echo\",\"parameters\":null,\"more\":null,\"oneway\":null}");
        m = expect_msg(f);
        assert_null(error_of(m));
        assert_int_equal(json_object_size(params_of(m)), 0);
        json_decref(m);
        fx_free(f);
}

static void streaming(void **state)
{
        struct fx *f = fx_new(65534, NULL);
        json_t *m;

        /* synchronous: three replies from the method itself */
        send_str(f, "{\"method\":\"" TOY ".Count\",\"parameters\":{\"n\":3},\"more\":true}");
        for (int i = 0; i < 3; i++) {
                m = expect_msg(f);
                assert_null(error_of(m));
                assert_int_equal(json_integer_value(json_object_get(params_of(m), "i")), i);
                assert_int_equal(continues(m), i < 2);
                json_decref(m);
        }
        /* without more: the method says so */
        send_str(f, "{\"method\":\"" TOY ".Count\",\"parameters\":{\"n\":3}}");
        expect_error(f, "org.varlink.service.ExpectedMore", NULL, NULL);

        /* from a timer, with the call's context, and a call pipelined
         * behind it that waits for the stream to end */
        send_str(f, "{\"method\":\"" TOY ".Ticks\",\"parameters\":{\"n\":3},\"more\":true}");
        send_str(f, "{\"method\":\"" TOY ".Echo\",\"parameters\":{\"text\":\"after\"}}");
        for (int i = 0; i < 3; i++) {
                m = expect_msg(f);
                assert_int_equal(json_integer_value(json_object_get(params_of(m), "i")), i);
                assert_int_equal(continues(m), i < 2);
                json_decref(m);
        }
        m = expect_msg(f);
        assert_string_equal(json_string_value(json_object_get(params_of(m), "text")), "after");
        json_decref(m);
        assert_int_equal(f->toy.cleanups, 1);   /* the context went with the call */

        /* a stream without more: only the final reply goes out */
        send_str(f, "{\"method\":\"" TOY ".Ticks\",\"parameters\":{\"n\":3}}");
        m = expect_msg(f);
        assert_int_equal(json_integer_value(json_object_get(params_of(m), "i")), 2);
        assert_false(continues(m));
        json_decref(m);
        assert_int_equal(f->toy.cleanups, 2);
        fx_free(f);
}

static void oneway(void **state)
{
        struct fx *f = fx_new(65534, NULL);
        json_t *m;

        /* in one write: two oneway calls (one to no method), then a call */
        send_raw(f, "{\"method\":\"" TOY ".Echo\",\"parameters\":{\"text\":\"first\"},\"oneway\":true}\0"
                    "{\"method\":\"" TOY ".Nope\",\"oneway\":true}\0"
                    "{\"method\":\"" TOY ".Echo\",\"parameters\":{\"text\":\"second\"}}\0",
                 strlen("{\"method\":\"" TOY ".Echo\",\"parameters\":{\"text\":\"first\"},\"oneway\":true}") + 1 +
                 strlen("{\"method\":\"" TOY ".Nope\",\"oneway\":true}") + 1 +
                 strlen("{\"method\":\"" TOY ".Echo\",\"parameters\":{\"text\":\"second\"}}") + 1);
        m = expect_msg(f);
        assert_string_equal(json_string_value(json_object_get(params_of(m), "text")), "second");
        json_decref(m);
        assert_int_equal(f->toy.calls, 2);      /* the oneway one ran */
        expect_quiet(f);

        /* a oneway stream sends nothing either */
        send_str(f, "{\"method\":\"" TOY ".Count\",\"parameters\":{\"n\":2},\"more\":true,\"oneway\":true}");
        expect_quiet(f);
        fx_free(f);
}

static void unknown_and_introspection(void **state)
{
        struct fx *f = fx_new(65534, NULL);
        json_t *m, *ifaces;

        send_str(f, "{\"method\":\"" TOY ".Nope\"}");
        expect_error(f, "org.varlink.service.MethodNotFound", "method", TOY ".Nope");
        send_str(f, "{\"method\":\"org.example.other.Echo\"}");
        expect_error(f, "org.varlink.service.InterfaceNotFound", "interface", "org.example.other");
        send_str(f, "{\"method\":\"org.varlink.service.Nope\"}");
        expect_error(f, "org.varlink.service.MethodNotFound", "method", "org.varlink.service.Nope");

        send_str(f, "{\"method\":\"org.varlink.service.GetInfo\"}");
        m = expect_msg(f);
        assert_string_equal(json_string_value(json_object_get(params_of(m), "product")), "toy");
        ifaces = json_object_get(params_of(m), "interfaces");
        assert_int_equal(json_array_size(ifaces), 2);
        assert_string_equal(json_string_value(json_array_get(ifaces, 0)), "org.varlink.service");
        assert_string_equal(json_string_value(json_array_get(ifaces, 1)), TOY);
        json_decref(m);

        send_str(f, "{\"method\":\"org.varlink.service.GetInterfaceDescription\","
                    "\"parameters\":{\"interface\":\"" TOY "\"}}");
        m = expect_msg(f);
        assert_string_equal(json_string_value(json_object_get(params_of(m), "description")), toy_idl);
        json_decref(m);
        send_str(f, "{\"method\":\"org.varlink.service.GetInterfaceDescription\","
                    "\"parameters\":{\"interface\":\"org.example.other\"}}");
        expect_error(f, "org.varlink.service.InterfaceNotFound", "interface", "org.example.other");
        assert_int_equal(f->toy.calls, 0);
        fx_free(f);
}

static void parameters_and_access(void **state)
{
        struct fx *f = fx_new(65534, NULL);
        json_t *m;

        send_str(f, "{\"method\":\"" TOY ".Echo\",\"parameters\":{\"bogus\":1}}");
        expect_error(f, "org.varlink.service.InvalidParameter", "parameter", "bogus");
        send_str(f, "{\"method\":\"" TOY ".Echo\",\"parameters\":{\"text\":5}}");
        expect_error(f, "org.varlink.service.InvalidParameter", "parameter", "text");
        send_str(f, "{\"method\":\"" TOY ".Count\",\"parameters\":{},\"more\":true}");
        expect_error(f, "org.varlink.service.InvalidParameter", "parameter", "n");
        send_str(f, "{\"method\":\"" TOY ".Echo\",\"upgrade\":true}");
        expect_error(f, "org.varlink.service.InvalidParameter", "parameter", "upgrade");
        send_str(f, "{\"method\":\"" TOY ".Secret\"}");
        expect_error(f, "org.varlink.service.PermissionDenied", NULL, NULL);
        assert_int_equal(f->toy.calls, 0);
        fx_free(f);

        f = fx_new(0, NULL);    /* root */
        send_str(f, "{\"method\":\"" TOY ".Secret\"}");
        m = expect_msg(f);
        assert_null(error_of(m));
        json_decref(m);
        fx_free(f);
}

static void broken_messages(void **state)
{
        static const char *const broken[] = {
                "{not json", "[1]", "{\"method\":5}", "{\"parameters\":{}}",
                "{\"method\":\"" TOY ".Echo\",\"more\":\"yes\"}",
                "{\"method\":\"" TOY ".Echo\",\"parameters\":[]}",
        };

        for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
                struct fx *f = fx_new(65534, NULL);

                print_message("# %s\n", broken[i]);
                send_str(f, broken[i]);
                expect_closed(f);
                assert_int_equal(f->toy.calls, 0);
                fx_free(f);
        }

        /* a method that fails with -errno closes the connection as well */
        {
                struct fx *f = fx_new(65534, NULL);

                send_str(f, "{\"method\":\"" TOY ".Break\"}");
                expect_closed(f);
                fx_free(f);
        }
}

/* {"method":"org.example.toy.Echo","parameters":{"text":"xxx..."}} of @size
 * bytes without its NUL. */
static char *echo_of_size(size_t size)
{
        const char *head = "{\"method\":\"" TOY ".Echo\",\"parameters\":{\"text\":\"";
        const char *tail = "\"}}";
        size_t fixed = strlen(head) + strlen(tail);
        char *s = malloc(size + 1);

        assert_non_null(s);
        assert_true(size > fixed);
        strcpy(s, head);
        memset(s + strlen(head), 'x', size - fixed);
        strcpy(s + size - strlen(tail), tail);
        assert_int_equal(strlen(s), size);
        return s;
}

static void message_size_limits(void **state)
{
        const struct varlink_options o = { .max_message = 2048, .max_message_unpriv = 256 };
        struct fx *f;
        char *s;
        json_t *m;

        /* unprivileged: 256 bytes pass, 257 close the connection, even
         * before the message ends */
        f = fx_new(65534, &o);
        s = echo_of_size(256);
        send_str(f, s);
        free(s);
        m = expect_msg(f);
        assert_true(json_string_length(json_object_get(params_of(m), "text")) > 150);
        json_decref(m);
        s = echo_of_size(257);
        send_raw(f, s, 257);            /* no NUL yet */
        free(s);
        expect_closed(f);
        fx_free(f);

        /* root: its own limit */
        f = fx_new(0, &o);
        s = echo_of_size(2048);
        send_str(f, s);
        free(s);
        m = expect_msg(f);
        assert_null(error_of(m));
        json_decref(m);
        s = echo_of_size(2049);
        send_str(f, s);
        free(s);
        expect_closed(f);
        fx_free(f);
}

static void context_cleanup(void **state)
{
        struct fx *f;

        /* the peer goes while an endless call waits: the connection ends, and
         * the context is cleaned up once */
        f = fx_new(65534, NULL);
        send_str(f, "{\"method\":\"" TOY ".Hold\"}");
        expect_quiet(f);
        assert_int_equal(f->toy.cleanups, 0);
        close(f->peer);
        f->peer = -1;
        for (int i = 0; i < 100 && varlink_server_connections(f->s) > 0; i++)
                ev_run(f->loop, EVRUN_NOWAIT);
        assert_int_equal(varlink_server_connections(f->s), 0);
        assert_int_equal(f->toy.cleanups, 1);
        fx_free(f);

        /* a call that ends by itself is not cancelled by the peer's going
         * (varlink-server.h): it runs to its end, then the connection goes */
        f = fx_new(65534, NULL);
        send_str(f, "{\"method\":\"" TOY ".Ticks\",\"parameters\":{\"n\":5}}");
        shutdown(f->peer, SHUT_WR);
        for (int i = 0; i < 5; i++)
                ev_run(f->loop, EVRUN_NOWAIT);
        assert_int_equal(varlink_server_connections(f->s), 1);
        assert_int_equal(f->toy.cleanups, 0);
        {
                json_t *m = expect_msg(f);      /* only the final reply: no more */

                assert_int_equal(json_integer_value(json_object_get(params_of(m), "i")), 4);
                json_decref(m);
        }
        expect_closed(f);
        assert_int_equal(f->toy.cleanups, 1);
        fx_free(f);

        /* the server goes: the same, before the interface is destroyed */
        f = fx_new(65534, NULL);
        send_str(f, "{\"method\":\"" TOY ".Ticks\",\"parameters\":{\"n\":1000},\"more\":true}");
        json_decref(expect_msg(f));
        assert_int_equal(f->toy.cleanups, 0);
        varlink_server_free(f->s);
        assert_int_equal(f->toy.cleanups, 1);
        assert_true(f->toy.destroyed);
        f->s = NULL;
        fx_free(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(call_and_reply),
                cmocka_unit_test(streaming),
                cmocka_unit_test(oneway),
                cmocka_unit_test(unknown_and_introspection),
                cmocka_unit_test(parameters_and_access),
                cmocka_unit_test(broken_messages),
                cmocka_unit_test(message_size_limits),
                cmocka_unit_test(context_cleanup),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
