/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmpctl status [--json] [DEVICE]: the volumes mmpd knows, as a table, or
 * as io.mmpd's own JSON ({"volumes":[...]} like List, or one Volume).  A
 * USE column ("kernel mount /srv", "tool pid 1234") is shown when some
 * volume is handed to a local user.  Times read as "4.2s", "3m12s", "2h05m";
 * on a terminal a lost volume's row is bold red (not with NO_COLOR set).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "libmmp.h"
#include "mmpctl.h"

enum {
        COL_VOLUME, COL_DEVICE, COL_STATE, COL_SEQ, COL_HEARTBEAT, COL_HOLDER, COL_CHECK,
        COL_USE,        /* last: only when a volume has a use */
        N_COLS
};

static const char *const headers[N_COLS] = {
        "VOLUME", "DEVICE", "STATE", "SEQ", "HEARTBEAT", "HOLDER", "CHECK", "USE",
};

static void status_usage(FILE *f)
{
        fprintf(f,
                "Usage: mmpctl status [--json] [--socket PATH] [DEVICE]\n"
                "\n"
                "List the volumes mmpd knows (or only DEVICE, a path or a volume name):\n"
                "state, sequence number, age of the last heartbeat, the node named in the\n"
                "MMP block, the check interval, and for a volume handed to a local user\n"
                "what uses it (kernel mount DIR, tool pid N).  On a terminal a lost volume\n"
                "is shown in bold red, unless NO_COLOR is set.  --json prints mmpd's own JSON.\n"
                "Exit status: 0 success, 2 error (mmpd unreachable, DEVICE unknown).\n");
}

/* One cell, malloc'ed; NULL only out of memory. */
static char *cell(const struct mmp_volume *v, int col)
{
        const struct mmp_holder *h = mmp_volume_get_holder(v);
        char buf[256];
        uint64_t u64;
        uint32_t u32;

        switch (col) {
        case COL_VOLUME:
                return mmpctl_escape(mmp_volume_get_name(v));
        case COL_DEVICE:
                return mmpctl_escape(mmp_volume_get_device(v));
        case COL_STATE:
                return mmpctl_escape(mmp_volume_get_state_name(v));
        case COL_SEQ:
                if (mmp_volume_get_seq(v, &u32) < 0)
                        return strdup("-");
                snprintf(buf, sizeof(buf), "%" PRIu32, u32);
                return strdup(buf);
        case COL_HEARTBEAT:
                if (mmp_volume_get_last_heartbeat_age_usec(v, &u64) < 0)
                        return strdup("-");
                mmpctl_format_duration(u64, buf, sizeof(buf));
                strcat(buf, " ago");
                return strdup(buf);
        case COL_HOLDER: {
                _cleanup_free_ char *node = NULL, *dev = NULL;

                if (!h)
                        return strdup("-");
                node = mmpctl_escape(mmp_holder_get_node(h));
                dev = mmpctl_escape(mmp_holder_get_device(h));
                if (!node || !dev)
                        return NULL;
                snprintf(buf, sizeof(buf), "%s/%s", node, dev);
                return strdup(buf);
        }
        case COL_CHECK:
                if (mmp_volume_get_check_interval(v, &u32) < 0)
                        return strdup("-");
                if (u32 < 60)   /* whole seconds: "5s", not "5.0s" */
                        snprintf(buf, sizeof(buf), "%" PRIu32 "s", u32);
                else
                        mmpctl_format_duration((uint64_t) u32 * 1000000u, buf, sizeof(buf));
                return strdup(buf);
        case COL_USE:
                return strdup(mmpctl_use_text(v, buf, sizeof(buf)));
        }
        return NULL;
}

/* @ncols columns padded to @width, two spaces apart; the last one not padded.
 * @color: an escape sequence for the whole row, or NULL. */
static void print_row(const char *const *row, const size_t *width, int ncols, const char *color)
{
        if (color)
                fputs(color, stdout);
        for (int c = 0; c + 1 < ncols; c++)
                printf("%-*s  ", (int) width[c], row[c]);
        printf("%s%s\n", row[ncols - 1], color ? MMPCTL_COLOR_RESET : "");
}

static int print_table(struct mmp_volume **vols, size_t n)
{
        size_t width[N_COLS];
        int ncols = N_COLS - 1;
        bool color = mmpctl_stdout_color();
        char **cells;
        int r = 0;

        for (size_t i = 0; i < n; i++)
                if (mmp_volume_in_use(vols[i]))
                        ncols = N_COLS;

        cells = calloc(n * N_COLS + 1, sizeof(char *));
        if (!cells)
                return -ENOMEM;
        for (int c = 0; c < N_COLS; c++)
                width[c] = strlen(headers[c]);
        for (size_t i = 0; i < n; i++)
                for (int c = 0; c < N_COLS; c++) {
                        char *s = cell(vols[i], c);

                        if (!s) {
                                r = -ENOMEM;
                                goto out;
                        }
                        cells[i * N_COLS + c] = s;
                        if (strlen(s) > width[c])
                                width[c] = strlen(s);
                }

        print_row(headers, width, ncols, NULL);
        for (size_t i = 0; i < n; i++)
                print_row((const char *const *) &cells[i * N_COLS], width, ncols,
                          color && mmp_volume_get_state(vols[i]) == MMP_VOLUME_LOST ?
                          MMPCTL_COLOR_LOST : NULL);
out:
        for (size_t i = 0; i < n * N_COLS; i++)
                free(cells[i]);
        free(cells);
        return r;
}

static void print_json(struct mmp_volume **vols, size_t n, const struct mmp_volume *one)
{
        if (one) {
                printf("%s\n", mmp_volume_get_json(one));
                return;
        }
        /* The List reply's parameters, from the volumes as mmpd sent them. */
        fputs("{\"volumes\":[", stdout);
        for (size_t i = 0; i < n; i++)
                printf("%s%s", i ? "," : "", mmp_volume_get_json(vols[i]));
        fputs("]}\n", stdout);
}

int mmpctl_cmd_status(struct mmpctl_ctx *ctx, int argc, char **argv)
{
        enum { OPT_SOCKET = 0x100 };
        static const struct option options[] = {
                { "json",   no_argument,       NULL, 'j' },
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "help",   no_argument,       NULL, 'h' },
                {}
        };
        struct mmp_client *client = NULL;
        struct mmp_volume **vols = NULL, *one = NULL;
        const char *device = NULL;
        bool json = ctx->json;
        size_t n = 0;
        int c, r, ret = MMPCTL_EXIT_ERROR;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        json = true;
                        break;
                case OPT_SOCKET:
                        ctx->socket_path = optarg;
                        break;
                case 'h':
                        status_usage(stdout);
                        return MMPCTL_EXIT_OK;
                default:
                        status_usage(stderr);
                        return MMPCTL_EXIT_ERROR;
                }
        }
        if (argc - optind > 1) {
                status_usage(stderr);
                return MMPCTL_EXIT_ERROR;
        }
        if (optind < argc)
                device = argv[optind];

        if (mmpctl_connect(ctx, MMPCTL_CALL_TIMEOUT_USEC, &client) < 0)
                return MMPCTL_EXIT_ERROR;
        r = mmp_list(client, &vols, &n);
        if (r < 0) {
                mmpctl_err_call(client, r, NULL);
                goto out;
        }
        if (device) {
                for (size_t i = 0; i < n && !one; i++)
                        if (strcmp(mmp_volume_get_device(vols[i]), device) == 0 ||
                            strcmp(mmp_volume_get_name(vols[i]), device) == 0)
                                one = vols[i];
                if (!one) {
                        mmpctl_err("mmpd does not know %s", device);
                        goto out;
                }
        }

        if (json)
                print_json(vols, n, one);
        else if ((r = print_table(one ? &one : vols, one ? 1 : n)) < 0) {
                mmpctl_err("%s", strerror(-r));
                goto out;
        }
        if (fflush(stdout) != 0) {
                mmpctl_err("cannot write output: %s", strerror(errno));
                goto out;
        }
        ret = MMPCTL_EXIT_OK;
out:
        mmp_list_free(vols, n);
        mmp_client_free(client);
        return ret;
}
