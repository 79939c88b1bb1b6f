/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmpctl mount DEVICE DIR: mount a volume mmpd holds and have mmpd watch the
 * kernel's MMP writes while it is mounted (docs/handoff.md).  Claims the
 * volume first when mmpd does not know it.
 *
 * The libmount context is prepared before the handoff, so that when mmpd
 * says go (the MMP block is CLEAN, or mmpd stopped writing) the only step
 * left is mount(2): the kernel's own MMP claim then writes the block at
 * once.  libmount only: no mount(8), no /sbin/mount.TYPE helper (a helper
 * would start a process inside that window, and could do anything).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmount.h>

#include "libmmp.h"
#include "mmpctl.h"

struct mount_go {
        struct libmnt_context *cxt;
        int rc;                 /* what libmount returned */
        bool went;              /* mmpd said go and we called mount(2) */
        bool mounted;           /* and it succeeded */
};

static void mount_usage(FILE *f)
{
        fprintf(f,
                "Usage: mmpctl mount [-o OPTIONS] [-t TYPE] [--mode fast|wait] [--socket PATH]\n"
                "                    DEVICE DIR\n"
                "\n"
                "Mount DEVICE on DIR and have mmpd watch the mount: mmpd hands the volume to\n"
                "the kernel (which then runs MMP itself) and fences the mount if another node\n"
                "appears or the kernel's heartbeat stops.  When mmpd does not hold DEVICE it\n"
                "claims it first (about 2W).  TYPE defaults to ext4.  --mode fast (mmpd\n"
                "writes CLEAN, the kernel mounts at once) or wait (the kernel waits 2W\n"
                "itself); default: the volume's configured mode.  Read-only mounts do no MMP\n"
                "and are refused.  Unmount with `mmpctl umount DIR`.  Root only.\n"
                "Exit status: 0 mounted and watched, 1 the volume is not usable (refused,\n"
                "in use, lost), 2 error (the mount failed: mmpd claims the volume again).\n");
}

/*
 * How long mount(2) is retried while it fails with EBUSY after go.  Under
 * systemd, mmpd's fd store holds a copy of mmpd's O_EXCL open of the device
 * until PID 1 has processed the FDSTOREREMOVE=1 that mmpd sends with go:
 * about a millisecond after go, and mount(2) fails with EBUSY until then.
 * A device that stays busy (mounted elsewhere, a busy mount point) fails
 * after this; the handoff timeout (default 5 s) is longer.
 */
#define MOUNT_BUSY_RETRY_USEC   (1000 * 1000)
#define MOUNT_BUSY_PAUSE_USEC   (2 * 1000)

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/*
 * mmpd has written CLEAN (or stopped writing): mount now.  Nothing before
 * mount(2) here; the mount table update follows it.
 */
static int on_go(struct mmp_client *client, struct mmp_volume *v, void *userdata)
{
        struct mount_go *g = userdata;
        uint64_t until = 0;

        g->went = true;
        g->rc = mnt_context_do_mount(g->cxt);
        while (g->rc != 0 && mnt_context_get_syscall_errno(g->cxt) == EBUSY) {
                if (!until)
                        until = now_usec() + MOUNT_BUSY_RETRY_USEC;
                else if (now_usec() >= until)
                        break;
                usleep(MOUNT_BUSY_PAUSE_USEC);
                mnt_context_reset_status(g->cxt);
                g->rc = mnt_context_do_mount(g->cxt);
        }
        if (g->rc == 0)
                g->rc = mnt_context_finalize_mount(g->cxt);
        /* Mounted is what the kernel says, whatever the utab update did. */
        g->mounted = mnt_context_get_status(g->cxt) == 1;
        if (g->mounted)
                return 0;
        return mnt_context_get_syscall_errno(g->cxt) > 0 ? -mnt_context_get_syscall_errno(g->cxt) : -EIO;
}

/* Source, target, type and options, checked and prepared as far as libmount
 * goes without mounting.  Returns 0, or the exit status after saying why. */
static int prepare(struct libmnt_context *cxt, const char *device, const char *dir,
                   const char *type, const char *opts)
{
        unsigned long flags = 0;
        char msg[1024] = "";
        const char *target;
        struct stat st;
        int r;

        /* libmount would look for a "user" entry in fstab: the handoff is
         * for root's own mounts. */
        if (geteuid() != 0) {
                mmpctl_err("cannot mount %s on %s: must be superuser to use mmpctl mount",
                           device, dir);
                return MMPCTL_EXIT_ERROR;
        }
        if (opts && mnt_optstr_get_flags(opts, &flags, mnt_get_builtin_optmap(MNT_LINUX_MAP)) == 0 &&
            (flags & MS_RDONLY)) {
                mmpctl_err("read-only mounts do no MMP; mmpctl mount hands volumes to read-write "
                           "mounts only (a read-only mount would not be watched)");
                return MMPCTL_EXIT_ERROR;
        }
        if (mnt_context_set_source(cxt, device) < 0 || mnt_context_set_target(cxt, dir) < 0 ||
            mnt_context_set_fstype(cxt, type) < 0 || (opts && mnt_context_set_options(cxt, opts) < 0) ||
            mnt_context_disable_helpers(cxt, 1) < 0 ||
            /* A write-protected device must fail, not fall back to ro. */
            mnt_context_enable_rwonly_mount(cxt, 1) < 0) {
                mmpctl_err("cannot set up the mount: %s", strerror(ENOMEM));
                return MMPCTL_EXIT_ERROR;
        }
        r = mnt_context_prepare_mount(cxt);
        if (r != 0) {
                mnt_context_get_excode(cxt, r, msg, sizeof(msg));
                mmpctl_err("cannot mount %s on %s: %s", device, dir, msg[0] ? msg : strerror(-r));
                return MMPCTL_EXIT_ERROR;
        }
        /* A mount that fails after the handoff costs the volume a full
         * claim: what can be seen now is said now. */
        target = mnt_context_get_target(cxt);
        if (target && (stat(target, &st) < 0 || !S_ISDIR(st.st_mode))) {
                mmpctl_err("cannot mount %s on %s: mount point %s", device, dir,
                           errno == ENOENT ? "does not exist" : "is not a directory");
                return MMPCTL_EXIT_ERROR;
        }
        /* What fstab or the options added, once resolved. */
        if (mnt_context_get_mflags(cxt, &flags) == 0 && (flags & MS_RDONLY)) {
                mmpctl_err("read-only mounts do no MMP; mmpctl mount hands volumes to read-write "
                           "mounts only (a read-only mount would not be watched)");
                return MMPCTL_EXIT_ERROR;
        }
        return 0;
}

/* mount(2) failed after go: say why, and have mmpd claim the volume back. */
static int mount_failed(struct mmp_client *client, struct mount_go *g, const char *device,
                        const char *dir)
{
        char msg[1024] = "";

        mnt_context_get_excode(g->cxt, g->rc, msg, sizeof(msg));
        mmpctl_err("cannot mount %s on %s: %s", device, dir, msg[0] ? msg : "mount failed");
        mmpctl_end_use(client, device, 1, false, NULL);
        return MMPCTL_EXIT_ERROR;
}

/* Mounted, but mmpd did not confirm it watches the mount: do not leave an
 * unwatched mount behind a failure exit. */
static int not_watched(struct mmp_client *client, const char *device, const char *dir, int r)
{
        const struct mmp_error *e = mmp_client_last_error(client);
        char msg[1024];

        mmpctl_err("mounted %s on %s, but mmpd does not watch it: %s", device, dir,
                   e ? mmp_error_get_message(e) : strerror(-r));
        if (mmpctl_unmount(dir, msg, sizeof(msg)) < 0) {
                mmpctl_err("cannot unmount %s: %s; it is mounted and not watched by mmpd: "
                           "unmount it", dir, msg);
                return MMPCTL_EXIT_ERROR;
        }
        fprintf(stderr, "unmounted %s again\n", dir);
        /* mmpd re-claims after HandoffFailed; after a broken connection it
         * may still wait for a user: tell it there is none. */
        if (!mmpctl_is_reply_error(client))
                mmpctl_end_use(client, device, 1, false, NULL);
        return MMPCTL_EXIT_ERROR;
}

static int handoff(struct mmp_client *client, struct mount_go *g, const char *device,
                   const char *dir, enum mmp_handoff_mode mode)
{
        struct mmp_handoff_opts opts = MMP_HANDOFF_OPTS_INIT;
        struct mmp_volume *v = NULL;
        uint32_t seq;
        int r, ret;

        opts.user = MMP_USE_KERNEL;
        opts.mount_point = dir;
        opts.mode = mode;
        r = mmp_handoff(client, device, &opts, on_go, g, &v);
        if (g->went && !g->mounted)
                return mount_failed(client, g, device, dir);
        if (r < 0 && g->mounted)
                return not_watched(client, device, dir, r);
        if (r < 0) {
                mmpctl_err_call(client, r, NULL);
                /* No go seen: a broken call may still have started the
                 * handoff on mmpd's side; EndUse is harmless if not. */
                if (!mmpctl_is_reply_error(client))
                        mmpctl_end_use(client, device, 1, false, NULL);
                return r == -ENOLCK || r == -EBUSY ? MMPCTL_EXIT_UNUSABLE : MMPCTL_EXIT_ERROR;
        }
        if (mmp_volume_get_state(v) == MMP_VOLUME_IN_USE) {
                if (mmp_volume_get_use_user_seq(v, &seq) == 0)
                        printf("mounted %s on %s, watched by mmpd (kernel seq %" PRIu32 ")\n",
                               device, dir, seq);
                else
                        printf("mounted %s on %s, watched by mmpd\n", device, dir);
                ret = MMPCTL_EXIT_OK;
        } else {
                _cleanup_free_ char *state = mmpctl_escape(mmp_volume_get_state_name(v));

                /* The use ended before mmpd saw it: someone unmounted already. */
                mmpctl_err("mounted %s on %s, but mmpd saw the use end already (state %s)",
                           device, dir, state ? state : "?");
                ret = MMPCTL_EXIT_ERROR;
        }
        mmp_volume_unref(v);
        return ret;
}

int mmpctl_cmd_mount(struct mmpctl_ctx *ctx, int argc, char **argv)
{
        enum { OPT_SOCKET = 0x100, OPT_MODE };
        static const struct option options[] = {
                { "options", required_argument, NULL, 'o' },
                { "types",   required_argument, NULL, 't' },
                { "mode",    required_argument, NULL, OPT_MODE },
                { "socket",  required_argument, NULL, OPT_SOCKET },
                { "help",    no_argument,       NULL, 'h' },
                {}
        };
        enum mmp_handoff_mode mode = MMP_HANDOFF_MODE_DEFAULT;
        struct mount_go g = {};
        struct mmp_client *client = NULL;
        const char *opts = NULL, *type = "ext4", *device, *dir;
        int c, ret;

        while ((c = getopt_long(argc, argv, "ho:t:", options, NULL)) >= 0) {
                switch (c) {
                case 'o':
                        opts = optarg;
                        break;
                case 't':
                        type = optarg;
                        break;
                case OPT_MODE:
                        if (strcmp(optarg, "fast") == 0)
                                mode = MMP_HANDOFF_MODE_FAST;
                        else if (strcmp(optarg, "wait") == 0)
                                mode = MMP_HANDOFF_MODE_WAIT;
                        else {
                                mmpctl_err("--mode: '%s' is neither fast nor wait", optarg);
                                mount_usage(stderr);
                                return MMPCTL_EXIT_ERROR;
                        }
                        break;
                case OPT_SOCKET:
                        ctx->socket_path = optarg;
                        break;
                case 'h':
                        mount_usage(stdout);
                        return MMPCTL_EXIT_OK;
                default:
                        mount_usage(stderr);
                        return MMPCTL_EXIT_ERROR;
                }
        }
        if (argc - optind != 2) {
                mount_usage(stderr);
                return MMPCTL_EXIT_ERROR;
        }
        device = argv[optind];
        dir = argv[optind + 1];

        g.cxt = mnt_new_context();
        if (!g.cxt) {
                mmpctl_err("cannot set up the mount: %s", strerror(ENOMEM));
                return MMPCTL_EXIT_ERROR;
        }
        /* Everything that can fail without mmpd fails before asking it. */
        ret = prepare(g.cxt, device, dir, type, opts);
        if (ret != 0)
                goto out;
        if (mmpctl_connect(ctx, 0, &client) < 0) {
                ret = MMPCTL_EXIT_ERROR;
                goto out;
        }
        ret = mmpctl_hold_for_use(client, device);
        if (ret == MMPCTL_EXIT_OK)
                /* The canonical path libmount mounts on is what mmpd shows. */
                ret = handoff(client, &g, device, mnt_context_get_target(g.cxt) ?: dir, mode);
out:
        mnt_free_context(g.cxt);
        mmp_client_free(client);
        if (fflush(stdout) != 0) {
                mmpctl_err("cannot write output: %s", strerror(errno));
                return MMPCTL_EXIT_ERROR;
        }
        return ret;
}
