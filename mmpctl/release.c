/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mmpctl release DEVICE: have mmpd release DEVICE (it writes the CLEAN seq). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "libmmp.h"
#include "mmpctl.h"

static void release_usage(FILE *f)
{
        fprintf(f,
                "Usage: mmpctl release [--socket PATH] DEVICE\n"
                "\n"
                "Have mmpd release DEVICE (a path or a volume name): when it holds it, it\n"
                "writes the CLEAN sequence and forgets the volume.  Root or mmpd's admin\n"
                "group only.\n"
                "Exit status: 0 released, 1 not held (mmpd does not know DEVICE), 2 error.\n");
}

int mmpctl_cmd_release(struct mmpctl_ctx *ctx, int argc, char **argv)
{
        enum { OPT_SOCKET = 0x100 };
        static const struct option options[] = {
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "help",   no_argument,       NULL, 'h' },
                {}
        };
        struct mmp_client *client = NULL;
        const char *device;
        int c, r, ret;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_SOCKET:
                        ctx->socket_path = optarg;
                        break;
                case 'h':
                        release_usage(stdout);
                        return MMPCTL_EXIT_OK;
                default:
                        release_usage(stderr);
                        return MMPCTL_EXIT_ERROR;
                }
        }
        if (argc - optind != 1) {
                release_usage(stderr);
                return MMPCTL_EXIT_ERROR;
        }
        device = argv[optind];

        if (mmpctl_connect(ctx, MMPCTL_CALL_TIMEOUT_USEC, &client) < 0)
                return MMPCTL_EXIT_ERROR;
        r = mmp_release(client, device, NULL);
        if (r == 0) {
                if (isatty(STDERR_FILENO))
                        fprintf(stderr, "released %s\n", device);
                ret = MMPCTL_EXIT_OK;
        } else if (r == -ENOENT && mmpctl_is_reply_error(client)) {
                mmpctl_err_call(client, r, "not held");
                ret = MMPCTL_EXIT_UNUSABLE;
        } else {
                mmpctl_err_call(client, r, NULL);
                ret = MMPCTL_EXIT_ERROR;
        }
        mmp_client_free(client);
        return ret;
}
