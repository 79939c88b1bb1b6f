/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmpctl watch [--json]: one line per mmpd volume event, as it happens,
 * until interrupted.  --json prints each io.mmpd Event as one JSON line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libmmp.h"
#include "mmpctl.h"

static void watch_usage(FILE *f)
{
        fprintf(f,
                "Usage: mmpctl watch [--json] [--socket PATH]\n"
                "\n"
                "Print one line per mmpd volume event (claim progress, claimed, refused,\n"
                "released, lost, slow I/O, check interval changes) until interrupted.\n"
                "--json prints each event as one JSON object per line.\n"
                "Exit status: 0 interrupted (SIGINT, SIGTERM) or mmpd ended the watch,\n"
                "2 error (mmpd unreachable, or the connection broke).\n");
}

/* Interrupting is how a watch ends: a clean exit, output already flushed. */
static void on_signal(int sig)
{
        _exit(MMPCTL_EXIT_OK);
}

static void details(const struct mmp_volume_event *ev, char *buf, size_t len)
{
        const struct mmp_volume *v = mmp_volume_event_get_volume(ev);
        const struct mmp_holder *h = mmp_volume_get_holder(v);
        const char *reason = mmp_volume_event_get_reason(ev);
        _cleanup_free_ char *why = reason ? mmpctl_escape(reason) : NULL;
        _cleanup_free_ char *state = mmpctl_escape(mmp_volume_get_state_name(v));
        _cleanup_free_ char *phase = mmpctl_escape(mmp_volume_get_phase(v));
        uint64_t u64;
        uint32_t u32;

        buf[0] = '\0';
        switch (mmp_volume_event_get_type(ev)) {
        case MMP_VOLUME_EVENT_PROGRESS:
                if (mmp_volume_get_wait_seconds(v, &u32) == 0 && phase && strncmp(phase, "waiting", 7) == 0)
                        snprintf(buf, len, ": %s, %" PRIu32 " s", phase, u32);
                else
                        snprintf(buf, len, ": %s", phase ? phase : "?");
                break;
        case MMP_VOLUME_EVENT_CLAIMED:
                if (mmp_volume_get_seq(v, &u32) == 0)
                        snprintf(buf, len, ": seq %" PRIu32, u32);
                break;
        case MMP_VOLUME_EVENT_REFUSED:
                if (h) {
                        _cleanup_free_ char *node = mmpctl_escape(mmp_holder_get_node(h));
                        _cleanup_free_ char *dev = mmpctl_escape(mmp_holder_get_device(h));

                        snprintf(buf, len, ": node '%s' holds it (device %s, seq %" PRIu32 ")%s%s",
                                 node ? node : "?", dev ? dev : "?", mmp_holder_get_seq(h),
                                 why ? "; " : "", why ? why : "");
                } else if (why) {
                        snprintf(buf, len, ": %s", why);
                }
                break;
        case MMP_VOLUME_EVENT_SLOW_IO:
                if (mmp_volume_event_get_io_usec(ev, &u64) == 0)
                        snprintf(buf, len, ": an MMP I/O took %.1f s", (double) u64 / 1e6);
                break;
        case MMP_VOLUME_EVENT_CHECK_INTERVAL:
                if (mmp_volume_get_check_interval(v, &u32) == 0)
                        snprintf(buf, len, ": check_interval now %" PRIu32 " s", u32);
                break;
        case MMP_VOLUME_EVENT_RELEASED:
        case MMP_VOLUME_EVENT_LOST:
        case MMP_VOLUME_EVENT_REMOVED:
                if (why)
                        snprintf(buf, len, ": %s", why);
                break;
        case MMP_VOLUME_EVENT_HANDOFF:
        case MMP_VOLUME_EVENT_IN_USE:
        case MMP_VOLUME_EVENT_USE_ENDED: {
                char use[512];

                /* The user while there is one, else what the volume became. */
                if (mmp_volume_in_use(v))
                        snprintf(buf, len, ": %s%s%s", mmpctl_use_text(v, use, sizeof(use)),
                                 why ? "; " : "", why ? why : "");
                else
                        snprintf(buf, len, ": state %s%s%s", state ? state : "?",
                                 why ? "; " : "", why ? why : "");
                break;
        }
        default:
                snprintf(buf, len, ": state %s", state ? state : "?");
        }
}

struct watch_view {
        bool json;
        int out_err;            /* writing stdout failed: -errno */
};

static int on_event(struct mmp_client *client, const struct mmp_volume_event *ev, void *userdata)
{
        struct watch_view *w = userdata;
        const struct mmp_volume *v = mmp_volume_event_get_volume(ev);
        _cleanup_free_ char *type = NULL, *name = NULL, *dev = NULL;
        char date[64], more[768];

        if (w->json) {
                printf("%s\n", mmp_volume_event_get_json(ev));
        } else {
                type = mmpctl_escape(mmp_volume_event_get_type_name(ev));
                name = mmpctl_escape(mmp_volume_get_name(v));
                dev = mmpctl_escape(mmp_volume_get_device(v));
                if (!type || !name || !dev) {
                        w->out_err = -ENOMEM;
                        return w->out_err;
                }
                details(ev, more, sizeof(more));
                printf("%s %s %s (%s)%s\n",
                       mmpctl_format_wall((int64_t) time(NULL), date, sizeof(date)),
                       type, name, dev, more);
        }
        /* A reader at the other end of a pipe sees each event at once. */
        if (fflush(stdout) != 0) {
                w->out_err = -errno;
                return w->out_err;
        }
        return 0;
}

int mmpctl_cmd_watch(struct mmpctl_ctx *ctx, int argc, char **argv)
{
        enum { OPT_SOCKET = 0x100 };
        static const struct option options[] = {
                { "json",   no_argument,       NULL, 'j' },
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "help",   no_argument,       NULL, 'h' },
                {}
        };
        struct sigaction sa = { .sa_handler = on_signal };
        struct mmp_client *client = NULL;
        struct watch_view w = { .json = ctx->json };
        int c, r, ret;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        w.json = true;
                        break;
                case OPT_SOCKET:
                        ctx->socket_path = optarg;
                        break;
                case 'h':
                        watch_usage(stdout);
                        return MMPCTL_EXIT_OK;
                default:
                        watch_usage(stderr);
                        return MMPCTL_EXIT_ERROR;
                }
        }
        if (argc - optind != 0) {
                watch_usage(stderr);
                return MMPCTL_EXIT_ERROR;
        }

        if (mmpctl_connect(ctx, 0, &client) < 0)
                return MMPCTL_EXIT_ERROR;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);

        r = mmp_watch(client, on_event, &w);
        if (r == 0) {
                mmpctl_err("mmpd ended the watch");
                ret = MMPCTL_EXIT_OK;
        } else if (w.out_err) {
                mmpctl_err("cannot write output: %s", strerror(-w.out_err));
                ret = MMPCTL_EXIT_ERROR;
        } else {
                mmpctl_err_call(client, r, NULL);
                ret = MMPCTL_EXIT_ERROR;
        }
        mmp_client_free(client);
        return ret;
}
