/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmpctl check [--quiet] DEVICE: may this node touch DEVICE now?  Yes only
 * while mmpd holds it and its fence deadline is ahead; the answer says
 * until when, or why not.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "libmmp.h"
#include "mmpctl.h"

static void check_usage(FILE *f)
{
        fprintf(f,
                "Usage: mmpctl check [--quiet] [--socket PATH] DEVICE\n"
                "\n"
                "Say whether this node may use DEVICE now: only while mmpd holds it and\n"
                "has proven its heartbeat recently enough.  Prints until when, or why not;\n"
                "--quiet prints nothing but errors.\n"
                "Exit status: 0 this node may use it now, 1 it may not, 2 error.\n");
}

/* Why a volume mmpd knows may not be used. */
static void why_not(const struct mmp_volume *v, char *buf, size_t len)
{
        const struct mmp_holder *h = mmp_volume_get_holder(v);
        const char *err = mmp_volume_get_error(v);
        _cleanup_free_ char *phase = mmpctl_escape(mmp_volume_get_phase(v));
        _cleanup_free_ char *state = mmpctl_escape(mmp_volume_get_state_name(v));
        _cleanup_free_ char *error = err ? mmpctl_escape(err) : NULL;

        switch (mmp_volume_get_state(v)) {
        case MMP_VOLUME_HELD:
                snprintf(buf, len, "its fence deadline has passed (no heartbeat verified in time)");
                break;
        case MMP_VOLUME_CLAIMING:
                snprintf(buf, len, "a claim is in progress (%s)", phase ? phase : "?");
                break;
        case MMP_VOLUME_REFUSED:
                if (h) {
                        _cleanup_free_ char *node = mmpctl_escape(mmp_holder_get_node(h));
                        _cleanup_free_ char *dev = mmpctl_escape(mmp_holder_get_device(h));

                        snprintf(buf, len, "node '%s' holds it (device %s, seq %" PRIu32 ")",
                                 node ? node : "?", dev ? dev : "?", mmp_holder_get_seq(h));
                } else {
                        snprintf(buf, len, "the claim was refused");
                }
                break;
        case MMP_VOLUME_LOST:
                snprintf(buf, len, "the hold was lost%s%s", error ? ": " : "", error ? error : "");
                break;
        case MMP_VOLUME_RELEASING:
        case MMP_VOLUME_RELEASED:
                snprintf(buf, len, "it is released");
                break;
        default:
                snprintf(buf, len, "it is not held (%s)", state ? state : "?");
        }
}

int mmpctl_cmd_check(struct mmpctl_ctx *ctx, int argc, char **argv)
{
        enum { OPT_SOCKET = 0x100 };
        static const struct option options[] = {
                { "quiet",  no_argument,       NULL, 'q' },
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "help",   no_argument,       NULL, 'h' },
                {}
        };
        struct mmp_check chk = MMP_CHECK_INIT;
        struct mmp_client *client = NULL;
        _cleanup_free_ char *dev = NULL;
        bool quiet = false;
        char why[512], date[64];
        int c, r, ret;

        while ((c = getopt_long(argc, argv, "hq", options, NULL)) >= 0) {
                switch (c) {
                case 'q':
                        quiet = true;
                        break;
                case OPT_SOCKET:
                        ctx->socket_path = optarg;
                        break;
                case 'h':
                        check_usage(stdout);
                        return MMPCTL_EXIT_OK;
                default:
                        check_usage(stderr);
                        return MMPCTL_EXIT_ERROR;
                }
        }
        if (argc - optind != 1) {
                check_usage(stderr);
                return MMPCTL_EXIT_ERROR;
        }
        dev = mmpctl_escape(argv[optind]);
        if (!dev) {
                mmpctl_err("%s", strerror(ENOMEM));
                return MMPCTL_EXIT_ERROR;
        }

        if (mmpctl_connect(ctx, MMPCTL_CALL_TIMEOUT_USEC, &client) < 0)
                return MMPCTL_EXIT_ERROR;
        r = mmp_check(client, argv[optind], &chk);
        if (r == -ENOENT && mmpctl_is_reply_error(client)) {
                if (!quiet)
                        printf("may not use %s: mmpd does not hold it\n", dev);
                ret = MMPCTL_EXIT_UNUSABLE;
        } else if (r < 0) {
                mmpctl_err_call(client, r, NULL);
                ret = MMPCTL_EXIT_ERROR;
        } else if (chk.may_use) {
                if (quiet)
                        ;
                else if (chk.has_guarantee)
                        printf("may use %s until %s (in %" PRIu64 " s)\n", dev,
                               mmpctl_format_wall(chk.guaranteed_until_wall, date, sizeof(date)),
                               chk.guaranteed_for_usec / 1000000u);
                else
                        printf("may use %s\n", dev);
                ret = MMPCTL_EXIT_OK;
        } else {
                if (!quiet) {
                        why_not(chk.volume, why, sizeof(why));
                        printf("may not use %s: %s\n", dev, why);
                }
                ret = MMPCTL_EXIT_UNUSABLE;
        }
        mmp_check_clear(&chk);
        mmp_client_free(client);
        if (fflush(stdout) != 0) {
                mmpctl_err("cannot write output: %s", strerror(errno));
                return MMPCTL_EXIT_ERROR;
        }
        return ret;
}
