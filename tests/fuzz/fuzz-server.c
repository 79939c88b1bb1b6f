/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * See fuzz-server.h.  One loop for the process; a manager and a server per
 * input, so no state carries from one input to the next.  The fake
 * registry's timers are shortened so a Claim is decided in a few ms.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "fake-manager.h"
#include "fuzz-server.h"
#include "varlink-methods.h"

#define RUN_SECONDS   0.3       /* loop time per input at most: a call pipelined
                                 * after an endless Watch is never answered */
#define TICK          0.005     /* the loop never sleeps longer */

static struct ev_loop *loop;

static void quiet(int prio, const char *msg, void *userdata)
{
}

static void on_tick(struct ev_loop *l, ev_timer *w, int revents)
{
}

static double mono(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Replies in @buf[0..*len): check and drop the complete ones. */
static void check_replies(char *buf, size_t *len)
{
        size_t start = 0;

        for (size_t i = 0; i < *len; i++) {
                json_error_t jerr;
                json_t *o, *p, *e;

                if (buf[i] != '\0')
                        continue;
                o = json_loadb(buf + start, i - start, 0, &jerr);
                if (!o || !json_is_object(o)) {
                        fprintf(stderr, "fuzz: server sent a malformed reply (%s): %.*s\n",
                                o ? "not an object" : jerr.text, (int) (i - start), buf + start);
                        abort();
                }
                p = json_object_get(o, "parameters");
                e = json_object_get(o, "error");
                if ((p && !json_is_object(p)) || (e && !json_is_string(e)) || (!p && !e)) {
                        fprintf(stderr, "fuzz: reply without parameters or error: %.*s\n",
                                (int) (i - start), buf + start);
                        abort();
                }
                json_decref(o);
                start = i + 1;
        }
        memmove(buf, buf + start, *len - start);
        *len -= start;
}

static void drain(int fd, char **buf, size_t *len, size_t *cap)
{
        for (;;) {
                ssize_t n;

                if (*cap - *len < 65536) {
                        *cap = *cap * 2 + 65536;
                        *buf = realloc(*buf, *cap);
                        if (!*buf)
                                abort();
                }
                n = recv(fd, *buf + *len, *cap - *len, MSG_DONTWAIT);
                if (n <= 0)
                        break;
                *len += (size_t) n;
        }
        check_replies(*buf, len);
}

void fuzz_server_run(const uint8_t *data, size_t size, uid_t uid, gid_t gid)
{
        struct fake_options fo = {
                .step = 0.0005, .wait = 0.002, .heartbeat = 0.001, .noisy_heartbeat = 0.001,
                .max_volumes = 16,
        };
        struct varlink_options vo = {
                .log = quiet, .inspect_timeout = 0.2, .max_inspects = 4,
                .idle_timeout = RUN_SECONDS, .partial_timeout = RUN_SECONDS,
        };
        struct ucred cred = { .pid = getpid(), .uid = uid, .gid = gid };
        struct varlink_server *s = NULL;
        struct manager *m = NULL;
        char *buf = NULL;
        size_t off = 0, len = 0, cap = 0;
        bool shut = false;
        ev_timer tick;
        double end;
        int sv[2];

        if (!loop) {
                signal(SIGPIPE, SIG_IGN);
                loop = ev_loop_new(EVFLAG_AUTO);
                if (!loop)
                        abort();
        }
        if (fake_manager_new(loop, &m) < 0)
                abort();
        fake_manager_configure(m, &fo);
        if (varlink_server_new(loop, m, &vo, &s) < 0)
                abort();
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
                abort();
        if (vl_conn_new(s, sv[0], &cred) < 0)
                abort();
        ev_timer_init(&tick, on_tick, TICK, TICK);
        ev_timer_start(loop, &tick);

        end = mono() + RUN_SECONDS;
        while (mono() < end) {
                if (off < size) {
                        ssize_t n = send(sv[1], data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);

                        if (n > 0)
                                off += (size_t) n;
                        else if (errno != EAGAIN)
                                off = size;     /* the server closed: the rest cannot go */
                }
                if (off >= size && !shut) {
                        shutdown(sv[1], SHUT_WR);
                        shut = true;
                }
                drain(sv[1], &buf, &len, &cap);
                if (varlink_server_connections(s) == 0)
                        break;
                ev_run(loop, EVRUN_ONCE);
        }
        drain(sv[1], &buf, &len, &cap);
        ev_timer_stop(loop, &tick);
        close(sv[1]);
        varlink_server_free(s);
        manager_free(m);
        /* What the freed server and manager left on the loop (their
         * watchers are stopped; a fed event or a removed volume's reaper
         * may still be pending). */
        ev_run(loop, EVRUN_NOWAIT);
        free(buf);
}
