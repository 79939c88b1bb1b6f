/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmpctl metrics: mmpd's volumes (List) and its own statistics (Daemon) as
 * OpenMetrics text for node_exporter's textfile collector; the text itself
 * is made in openmetrics.c.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "libmmp.h"
#include "mmpctl.h"
#include "openmetrics.h"

static void metrics_usage(FILE *f)
{
        fprintf(f,
                "Usage: mmpctl metrics [--socket PATH]\n"
                "\n"
                "Print mmpd's volumes and statistics as OpenMetrics text, ending with\n"
                "\"# EOF\": per volume its state, seq, intervals, heartbeat lateness and I/O\n"
                "latency histograms and fence outcome; per daemon the volumes by state and\n"
                "the control connections.  For node_exporter's textfile collector, write\n"
                "to a temporary file and rename it into the collector's directory.\n"
                "Exit status: 0 success, 2 error (mmpd unreachable).\n");
}

static uint64_t now_msec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/*
 * io.mmpd.Daemon() on its own connection to @path.  libmmp has no call for
 * it yet: this is one varlink call (a JSON text and a NUL each way), bounded
 * in time and size like libmmp's.  Returns 0 and the reply's parameters in
 * *ret, -EOPNOTSUPP from an mmpd without the method, or -errno.
 */
static int call_daemon(const char *path, json_t **ret)
{
        static const char call[] = "{\"method\":\"io.mmpd.Daemon\"}";
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        uint64_t deadline = now_msec() + MMPCTL_CALL_TIMEOUT_USEC / 1000u;
        size_t n = strlen(path), len = 0, cap = 0;
        _cleanup_free_ char *buf = NULL;
        json_t *reply, *params;
        socklen_t salen;
        const char *err;
        int fd, r;

        if (n == 0 || n >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, n);
        if (path[0] == '@') {
                sa.sun_path[0] = '\0';
                salen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n);
        } else {
                salen = (socklen_t) sizeof(sa);
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, salen) < 0 ||
            send(fd, call, sizeof(call), MSG_NOSIGNAL) != (ssize_t) sizeof(call)) {
                r = -errno;
                goto out;
        }
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = now_msec();
                ssize_t k;

                if (len > 0 && buf[len - 1] == '\0')
                        break;
                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        goto out;
                }
                if (len == cap) {
                        char *nb;

                        if (cap >= MMP_CLIENT_MAX_MESSAGE) {
                                r = -EMSGSIZE;
                                goto out;
                        }
                        cap = cap ? 2 * cap : 65536;
                        nb = realloc(buf, cap);
                        if (!nb) {
                                r = -ENOMEM;
                                goto out;
                        }
                        buf = nb;
                }
                r = poll(&p, 1, (int) (deadline - now));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        r = -errno;
                        goto out;
                }
                if (r == 0)
                        continue;
                k = recv(fd, buf + len, cap - len, 0);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r = k < 0 ? -errno : -ECONNRESET;
                        goto out;
                }
                len += (size_t) k;
        }

        reply = json_loadb(buf, len - 1, 0, NULL);
        if (!json_is_object(reply)) {
                json_decref(reply);
                r = -EBADMSG;
                goto out;
        }
        err = json_string_value(json_object_get(reply, "error"));
        params = json_object_get(reply, "parameters");
        if (err) {
                r = strcmp(err, "org.varlink.service.MethodNotFound") == 0 ? -EOPNOTSUPP : -EPROTO;
                if (r == -EPROTO)
                        mmpctl_err("Daemon: %s", err);
        } else if (!json_is_object(params)) {
                r = -EBADMSG;
        } else {
                *ret = json_incref(params);
                r = 0;
        }
        json_decref(reply);
out:
        close(fd);
        return r;
}

int mmpctl_cmd_metrics(struct mmpctl_ctx *ctx, int argc, char **argv)
{
        enum { OPT_SOCKET = 0x100 };
        static const struct option options[] = {
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "help",   no_argument,       NULL, 'h' },
                {}
        };
        struct mmp_client *client = NULL;
        struct mmp_volume **vols = NULL;
        json_t *volumes = NULL, *daemon = NULL;
        size_t n = 0;
        int c, r, ret = MMPCTL_EXIT_ERROR;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_SOCKET:
                        ctx->socket_path = optarg;
                        break;
                case 'h':
                        metrics_usage(stdout);
                        return MMPCTL_EXIT_OK;
                default:
                        metrics_usage(stderr);
                        return MMPCTL_EXIT_ERROR;
                }
        }
        if (optind < argc) {
                metrics_usage(stderr);
                return MMPCTL_EXIT_ERROR;
        }

        if (mmpctl_connect(ctx, MMPCTL_CALL_TIMEOUT_USEC, &client) < 0)
                return MMPCTL_EXIT_ERROR;
        r = mmp_list(client, &vols, &n);
        if (r < 0) {
                mmpctl_err_call(client, r, NULL);
                goto out;
        }
        volumes = json_array();
        if (!volumes)
                goto oom;
        for (size_t i = 0; i < n; i++) {
                const char *text = mmp_volume_get_json(vols[i]);
                json_t *v = text ? json_loads(text, 0, NULL) : NULL;

                if (!v || json_array_append_new(volumes, v) < 0)
                        goto oom;
        }

        /* An mmpd older than Daemon still gives every volume's metrics. */
        r = call_daemon(mmp_client_get_socket_path(client), &daemon);
        if (r < 0 && r != -EOPNOTSUPP) {
                mmpctl_err("Daemon call failed: %s", strerror(-r));
                goto out;
        }

        if (mmpctl_openmetrics_write(stdout, volumes, daemon) < 0) {
                mmpctl_err("cannot write output: %s", strerror(errno));
                goto out;
        }
        ret = MMPCTL_EXIT_OK;
        goto out;
oom:
        mmpctl_err("%s", strerror(ENOMEM));
out:
        json_decref(daemon);
        json_decref(volumes);
        mmp_list_free(vols, n);
        mmp_client_free(client);
        return ret;
}
