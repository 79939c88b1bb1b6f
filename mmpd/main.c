/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mmpd: options and the loop.  daemon.c puts the pieces together. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <ev.h>

#include "log.h"
#include "conf.h"
#include "daemon.h"

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: mmpd [OPTIONS]\n"
                "Hold ext4 MMP volumes for this cluster node and fence when they are lost.\n\n"
                "  -c, --config FILE     configuration file (default %s)\n"
                "  -n, --node-name NAME  node name written to MMP blocks (default: hostname)\n"
                "  -s, --socket PATH     control socket (default %s)\n"
                "      --keep-on-stop    on SIGTERM keep volumes held (overrides keep_on_stop;\n"
                "                        mmpd.service uses it with the systemd fd store)\n"
                "  -h, --help            show this help\n"
                "      --version         show the version\n",
                MMPD_DEFAULT_CONFIG, MMPD_DEFAULT_SOCKET);
}

/* Two fds per volume (anchor + I/O dup): 10,000 volumes need far more than
 * the traditional soft limit of 1024.  Use the hard limit, as systemd advises. */
static void raise_fd_limit(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        log_warning("cannot raise the file descriptor limit: %m");
        }
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "node-name", required_argument, NULL, 'n' },
                { "socket", required_argument, NULL, 's' },
                { "keep-on-stop", no_argument, NULL, 'K' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        struct daemon_options opts = {};
        struct daemon *d = NULL;
        struct ev_loop *loop;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:n:s:h", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        opts.config_path = optarg;
                        opts.config_must_exist = true;
                        break;
                case 'n':
                        opts.node_name = optarg;
                        break;
                case 's':
                        opts.socket_path = optarg;
                        break;
                case 'K':
                        opts.keep_on_stop = true;
                        break;
                case 'h':
                        usage(stdout);
                        return EXIT_SUCCESS;
                case 'V':
                        puts(PACKAGE_STRING);
                        return EXIT_SUCCESS;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "mmpd: unexpected argument '%s'\n", argv[optind]);
                usage(stderr);
                return 2;
        }
        if (opts.node_name && (!*opts.node_name || strlen(opts.node_name) > 64)) {
                fprintf(stderr, "mmpd: --node-name must be 1 to 64 bytes\n");
                return 2;
        }

        log_setup();
        signal(SIGPIPE, SIG_IGN);
        raise_fd_limit();
        loop = ev_default_loop(EVFLAG_AUTO | EVFLAG_SIGNALFD);
        if (!loop) {
                log_error("cannot create the event loop");
                return EXIT_FAILURE;
        }
        r = daemon_new(loop, &opts, &d);
        if (r < 0)
                return EXIT_FAILURE;
        r = daemon_start(d);
        if (r >= 0)
                ev_run(loop, 0);
        daemon_free(d);
        ev_loop_destroy(loop);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
