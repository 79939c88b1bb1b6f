/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmpctl: global options, then one command from the table below.  Each
 * command lives in its own file and parses its own options.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mmpctl.h"

struct mmpctl_cmd {
        const char *name;
        mmpctl_cmd_fn run;
        const char *args;
        const char *summary;
};

/* To add a command: write mmpctl/NAME.c with mmpctl_cmd_NAME(), declare it
 * in mmpctl.h, list the file in mmpctl/local.mk and add a row here. */
static const struct mmpctl_cmd commands[] = {
        { "dump", mmpctl_cmd_dump, "[--json] DEVICE",
          "show the superblock's MMP fields and the MMP block, read from DEVICE" },
        { "status", mmpctl_cmd_status, "[--json] [DEVICE]",
          "list the volumes mmpd knows, or one of them" },
        { "claim", mmpctl_cmd_claim, "[--name NAME] DEVICE",
          "have mmpd claim DEVICE; waits until the claim is decided" },
        { "release", mmpctl_cmd_release, "DEVICE",
          "have mmpd release DEVICE (it writes the CLEAN sequence)" },
        { "check", mmpctl_cmd_check, "[--quiet] DEVICE",
          "may this node use DEVICE now, and until when?" },
        { "watch", mmpctl_cmd_watch, "[--json]",
          "print mmpd's volume events as they happen, until interrupted" },
        { "hold", mmpctl_cmd_hold, "[--name NAME] DEVICE",
          "claim DEVICE and keep running while held (for mmpd@.service)" },
        { "mount", mmpctl_cmd_mount, "[-o OPTS] [-t TYPE] [--mode fast|wait] DEVICE DIR",
          "mount DEVICE (claimed first if need be) and have mmpd watch the mount" },
        { "umount", mmpctl_cmd_umount, "[--keep] DIR|DEVICE",
          "unmount, then have mmpd release the volume (or claim it again: --keep)" },
        { "exec", mmpctl_cmd_exec, "[--keep] DEVICE -- COMMAND [ARGS...]",
          "run an e2fsprogs tool on DEVICE while mmpd watches; release or keep after" },
        { "metrics", mmpctl_cmd_metrics, "",
          "print volumes and statistics as OpenMetrics text (node_exporter textfile)" },
};

void mmpctl_err(const char *fmt, ...)
{
        va_list ap;

        fputs("mmpctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: mmpctl [OPTIONS] COMMAND [ARGS...]\n"
                "\n"
                "Inspect and control ext4 Multi-Mount Protection.\n"
                "\n"
                "Options:\n"
                "  --json          print one JSON object instead of text\n"
                "  --socket PATH   mmpd's control socket (default: $MMPD_SOCKET, else\n"
                "                  /run/mmpd/io.mmpd)\n"
                "  -h, --help      show this help\n"
                "  --version       show the version\n"
                "\n"
                "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  %s%s%s\n      %s\n", commands[i].name, commands[i].args[0] ? " " : "",
                        commands[i].args, commands[i].summary);
        fprintf(f,
                "\n"
                "Exit status: 0 success, 1 the answer is no (the volume is not usable as is,\n"
                "the claim was refused, it is not held), 2 error.\n");
}

static const struct mmpctl_cmd *find_command(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

int main(int argc, char **argv)
{
        enum { OPT_JSON = 0x100, OPT_SOCKET, OPT_VERSION };
        static const struct option options[] = {
                { "json",    no_argument,       NULL, OPT_JSON },
                { "socket",  required_argument, NULL, OPT_SOCKET },
                { "help",    no_argument,       NULL, 'h' },
                { "version", no_argument,       NULL, OPT_VERSION },
                {}
        };
        struct mmpctl_ctx ctx = {};
        const struct mmpctl_cmd *cmd;
        int c;

        /* "+": stop at the command name; what follows belongs to the command. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_JSON:
                        ctx.json = true;
                        break;
                case OPT_SOCKET:
                        ctx.socket_path = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return MMPCTL_EXIT_OK;
                case OPT_VERSION:
                        printf("mmpctl %s\n", PACKAGE_VERSION);
                        return MMPCTL_EXIT_OK;
                default:
                        usage(stderr);
                        return MMPCTL_EXIT_ERROR;
                }
        }

        if (optind >= argc) {
                usage(stderr);
                return MMPCTL_EXIT_ERROR;
        }
        cmd = find_command(argv[optind]);
        if (!cmd) {
                mmpctl_err("unknown command '%s'", argv[optind]);
                usage(stderr);
                return MMPCTL_EXIT_ERROR;
        }

        argc -= optind;
        argv += optind;
        optind = 0;     /* glibc: full reset for the command's own getopt_long */
        return cmd->run(&ctx, argc, argv);
}
