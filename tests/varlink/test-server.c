/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The varlink server on a libev loop with the fake registry, for
 * conformance.py.  Prints "READY" on stdout once it accepts connections;
 * SIGTERM/SIGINT stop it cleanly (everything freed, for valgrind), after
 * it printed how late the fake heartbeats were at worst.
 *
 *   test-server --socket PATH | --listen-fd N   [server and fake options]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "fake-manager.h"
#include "varlink-methods.h"

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
        ev_break(loop, EVBREAK_ALL);
}

static double num(const char *s)
{
        char *end;
        double d = strtod(s, &end);

        if (*s == '\0' || *end != '\0') {
                fprintf(stderr, "test-server: not a number: %s\n", s);
                exit(2);
        }
        return d;
}

int main(int argc, char **argv)
{
        static const struct option longopts[] = {
                { "socket", required_argument, NULL, 's' },
                { "listen-fd", required_argument, NULL, 'F' },
                { "admin-group", required_argument, NULL, 'g' },
                { "max-connections", required_argument, NULL, 'c' },
                { "root-reserve", required_argument, NULL, 'r' },
                { "max-message", required_argument, NULL, 'm' },
                { "max-output", required_argument, NULL, 'o' },
                { "idle-timeout", required_argument, NULL, 'i' },
                { "partial-timeout", required_argument, NULL, 'p' },
                { "inspect-timeout", required_argument, NULL, 't' },
                { "max-volumes", required_argument, NULL, 'V' },
                { "fake-wait", required_argument, NULL, 'W' },
                { "fake-heartbeat", required_argument, NULL, 'H' },
                { NULL },
        };
        struct varlink_options vo = { 0 };
        struct fake_options fo = { 0 };
        struct ev_loop *loop = ev_default_loop(0);
        struct varlink_server *server = NULL;
        struct manager *m = NULL;
        ev_signal sigterm, sigint;
        struct rlimit rl;
        int listen_fd = -1, opt, r;

        while ((opt = getopt_long(argc, argv, "", longopts, NULL)) >= 0) {
                switch (opt) {
                case 's': vo.socket_path = optarg; break;
                case 'F': listen_fd = (int) num(optarg); break;
                case 'g': vo.admin_group = optarg; break;
                case 'c': vo.max_connections = (unsigned) num(optarg); break;
                case 'r': vo.root_reserve = (unsigned) num(optarg); break;
                case 'm': vo.max_message = (size_t) num(optarg); break;
                case 'o': vo.max_output = (size_t) num(optarg); break;
                case 'i': vo.idle_timeout = num(optarg); break;
                case 'p': vo.partial_timeout = num(optarg); break;
                case 't': vo.inspect_timeout = num(optarg); break;
                case 'V': fo.max_volumes = (unsigned) num(optarg); break;
                case 'W': fo.wait = num(optarg); break;
                case 'H': fo.heartbeat = num(optarg); break;
                default: return 2;
                }
        }
        /* Thousands of connections need thousands of fds. */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
        signal(SIGPIPE, SIG_IGN);

        r = fake_manager_new(loop, &m);
        if (r < 0)
                goto fail;
        fake_manager_configure(m, &fo);
        r = varlink_server_new(loop, m, &vo, &server);
        if (r < 0)
                goto fail;
        r = listen_fd >= 0 ? varlink_server_adopt_fd(server, listen_fd)
                           : varlink_server_listen_path(server, NULL);
        if (r < 0)
                goto fail;

        ev_signal_init(&sigterm, on_signal, SIGTERM);
        ev_signal_init(&sigint, on_signal, SIGINT);
        ev_signal_start(loop, &sigterm);
        ev_signal_start(loop, &sigint);
        printf("READY\n");
        fflush(stdout);
        ev_run(loop, 0);
        ev_signal_stop(loop, &sigterm);
        ev_signal_stop(loop, &sigint);
        printf("max-heartbeat-lateness-usec %llu\n", (unsigned long long) fake_manager_max_lateness(m));

        varlink_server_free(server);
        manager_free(m);
        ev_loop_destroy(loop);
        return 0;
fail:
        fprintf(stderr, "test-server: %s\n", strerror(-r));
        varlink_server_free(server);
        manager_free(m);
        ev_loop_destroy(loop);
        return 1;
}
