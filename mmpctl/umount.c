/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmpctl umount DIR|DEVICE [--keep]: unmount a volume `mmpctl mount` handed
 * to the kernel, then tell mmpd the use is over (EndUse): it releases the
 * volume, or with --keep claims it again (docs/handoff.md).  The unmount
 * writes CLEAN (the kernel's kmmpd does it as it stops); mmpd reads that
 * at once instead of at its next read.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmount.h>

#include "libmmp.h"
#include "mmpctl.h"

/* How long a tool's daemon gets to let go of the device after the unmount. */
#define TOOL_END_TRIES          50
#define TOOL_END_PAUSE_USEC     100000

static void umount_usage(FILE *f)
{
        fprintf(f,
                "Usage: mmpctl umount [--keep] [--socket PATH] DIR|DEVICE\n"
                "\n"
                "Unmount a volume that mmpd watches while the kernel has it mounted, then\n"
                "have mmpd release it, or with --keep claim it again and wait until it is\n"
                "held (about 2W).  If the unmount fails (e.g. target is busy), mmpd is not\n"
                "told and goes on watching.  Root only.\n"
                "Exit status: 0 unmounted (and released or held again), 1 the new claim\n"
                "failed, 2 error (not mounted, not watched by mmpd, cannot unmount).\n");
}

int mmpctl_unmount(const char *target, char *msg, size_t len)
{
        struct libmnt_context *cxt = mnt_new_context();
        int r;

        msg[0] = '\0';
        if (!cxt || mnt_context_set_target(cxt, target) < 0 || mnt_context_disable_helpers(cxt, 1) < 0) {
                snprintf(msg, len, "%s", strerror(ENOMEM));
                mnt_free_context(cxt);
                return -ENOMEM;
        }
        r = mnt_context_umount(cxt);
        if (mnt_context_get_excode(cxt, r, msg, len) == MNT_EX_SUCCESS) {
                mnt_free_context(cxt);
                return 0;
        }
        if (!msg[0])
                snprintf(msg, len, "%s", strerror(r > 0 ? r : r < 0 ? -r : EIO));
        mnt_free_context(cxt);
        return r > 0 ? -r : r < 0 ? r : -EIO;
}

/* The mount @arg names (a mount point or a source), as libmount sees it. */
static struct libmnt_fs *find_mount(struct libmnt_table *tb, const char *arg)
{
        struct libmnt_fs *fs;

        fs = mnt_table_find_target(tb, arg, MNT_ITER_BACKWARD);
        if (!fs)
                fs = mnt_table_find_source(tb, arg, MNT_ITER_BACKWARD);
        return fs;
}

static bool same_block_device(const char *a, const char *b)
{
        struct stat sa, sb;

        return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && S_ISBLK(sa.st_mode) &&
               S_ISBLK(sb.st_mode) && sa.st_rdev == sb.st_rdev;
}

/* The volume mmpd handed to the mount on @target from @source, or NULL. */
static struct mmp_volume *find_volume(struct mmp_volume **vols, size_t n, const char *target,
                                      const char *source)
{
        for (size_t i = 0; i < n; i++) {
                const char *mp = mmp_volume_get_use_mount_point(vols[i]);

                if (mp && strcmp(mp, target) == 0)
                        return vols[i];
        }
        /* A use without a mount point, or one mmpd knows by another path. */
        for (size_t i = 0; i < n; i++) {
                const char *dev = mmp_volume_get_device(vols[i]);

                if (!mmp_volume_in_use(vols[i]))
                        continue;
                if ((source && strcmp(dev, source) == 0) || same_block_device(dev, source))
                        return vols[i];
        }
        return NULL;
}

static int umount_volume(const struct mmpctl_ctx *ctx, const char *target, const char *source,
                         bool keep)
{
        struct mmp_client *client = NULL;
        struct mmp_volume **vols = NULL, *v;
        _cleanup_free_ char *device = NULL, *prefix = NULL;
        char msg[1024];
        size_t n = 0;
        bool tool;
        int r, ret = MMPCTL_EXIT_ERROR;

        /* Which volume first: if mmpd cannot say, nothing is unmounted. */
        if (mmpctl_connect(ctx, 0, &client) < 0)
                return MMPCTL_EXIT_ERROR;
        r = mmp_list(client, &vols, &n);
        if (r < 0) {
                mmpctl_err_call(client, r, NULL);
                goto out;
        }
        v = find_volume(vols, n, target, source);
        if (!v) {
                mmpctl_err("mmpd does not watch the mount on %s (%s); unmount it with umount(8)",
                           target, source ? source : "?");
                goto out;
        }
        device = strdup(mmp_volume_get_device(v));
        if (!device || asprintf(&prefix, "unmounted %s", target) < 0) {
                mmpctl_err("%s", strerror(ENOMEM));
                goto out;
        }

        tool = strcmp(mmp_volume_get_use_user(v) ?: "", "tool") == 0;
        if (mmpctl_unmount(target, msg, sizeof(msg)) < 0) {
                mmpctl_err("cannot unmount %s: %s", target, msg);
                goto out;
        }
        /* A tool's daemon (fuse2fs without -f) writes CLEAN and closes the
         * device only after umount(2) returned, when it sees the unmount:
         * while mmpd still finds it at work, ask again for a moment. */
        for (int i = 0; tool && i < TOOL_END_TRIES; i++) {
                struct mmp_volume *ended = NULL;

                r = mmp_end_use(client, device, keep ? 1 : -1, &ended);
                if (r == 0) {
                        ret = mmpctl_report_end_of_use(client, device, ended, true, prefix);
                        mmp_volume_unref(ended);
                        goto out;
                }
                if (r != -EBUSY)
                        break;
                usleep(TOOL_END_PAUSE_USEC);
        }
        /* -1: what the handoff said, unless --keep. */
        ret = mmpctl_end_use(client, device, keep ? 1 : -1, true, prefix);
out:
        mmp_list_free(vols, n);
        mmp_client_free(client);
        return ret;
}

int mmpctl_cmd_umount(struct mmpctl_ctx *ctx, int argc, char **argv)
{
        enum { OPT_SOCKET = 0x100, OPT_KEEP };
        static const struct option options[] = {
                { "keep",   no_argument,       NULL, OPT_KEEP },
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "help",   no_argument,       NULL, 'h' },
                {}
        };
        struct libmnt_table *tb = NULL;
        struct libmnt_cache *cache = NULL;
        struct libmnt_fs *fs;
        _cleanup_free_ char *target = NULL, *source = NULL;
        bool keep = false;
        int c, r, ret = MMPCTL_EXIT_ERROR;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_KEEP:
                        keep = true;
                        break;
                case OPT_SOCKET:
                        ctx->socket_path = optarg;
                        break;
                case 'h':
                        umount_usage(stdout);
                        return MMPCTL_EXIT_OK;
                default:
                        umount_usage(stderr);
                        return MMPCTL_EXIT_ERROR;
                }
        }
        if (argc - optind != 1) {
                umount_usage(stderr);
                return MMPCTL_EXIT_ERROR;
        }

        tb = mnt_new_table();
        cache = mnt_new_cache();
        if (!tb || !cache || mnt_table_set_cache(tb, cache) < 0) {
                mmpctl_err("%s", strerror(ENOMEM));
                goto out;
        }
        r = mnt_table_parse_mtab(tb, NULL);
        if (r < 0) {
                mmpctl_err("cannot read the mount table: %s", strerror(-r));
                goto out;
        }
        fs = find_mount(tb, argv[optind]);
        if (!fs) {
                _cleanup_free_ char *arg = mmpctl_escape(argv[optind]);

                mmpctl_err("%s is not mounted", arg ? arg : argv[optind]);
                goto out;
        }
        target = mnt_fs_get_target(fs) ? strdup(mnt_fs_get_target(fs)) : NULL;
        source = mnt_fs_get_srcpath(fs) ? strdup(mnt_fs_get_srcpath(fs)) : NULL;
        if (!target) {
                mmpctl_err("%s", strerror(ENOMEM));
                goto out;
        }
        ret = umount_volume(ctx, target, source, keep);
out:
        mnt_unref_table(tb);
        mnt_unref_cache(cache);
        return ret;
}
