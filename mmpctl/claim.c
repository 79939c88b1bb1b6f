/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmpctl claim [--name NAME] DEVICE: have mmpd claim DEVICE and wait until
 * the claim is decided (about 2W: ~42 s with default intervals).  On a
 * terminal one line on stderr shows where the claim is; otherwise quiet.
 * mount and exec claim through mmpctl_claim_volume() and wait for a claim
 * under way with mmpctl_wait_claimed().
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libmmp.h"
#include "mmpctl.h"

static void claim_usage(FILE *f)
{
        fprintf(f,
                "Usage: mmpctl claim [--name NAME] [--socket PATH] DEVICE\n"
                "\n"
                "Have mmpd claim DEVICE (as volume NAME, default the path) and wait until\n"
                "the claim is decided: mmpd reads the MMP block, waits for a live holder,\n"
                "writes its own sequence, waits again and verifies.  On a terminal the\n"
                "progress shows on stderr.  Root or mmpd's admin group only.\n"
                "Exit status: 0 claimed (or already held by this node), 1 refused (another\n"
                "node or an e2fsprogs tool holds it, or its MMP block is corrupt), 2 error.\n");
}

struct claim_view {
        bool tty;
        bool line_shown;
};

/* What a progress event means, for the live line. */
static void progress_text(const struct mmp_volume *v, char *buf, size_t len)
{
        const char *phase = mmp_volume_get_phase(v);
        uint32_t w;

        if (strcmp(phase, "waiting-active") == 0 || strcmp(phase, "waiting-claim") == 0) {
                if (mmp_volume_get_wait_seconds(v, &w) == 0)
                        snprintf(buf, len, "waiting %" PRIu32 " s for a live holder...", w);
                else
                        snprintf(buf, len, "waiting for a live holder...");
        } else if (strcmp(phase, "reading") == 0 || strcmp(phase, "rereading") == 0) {
                snprintf(buf, len, "reading the MMP block...");
        } else if (strcmp(phase, "writing-seq") == 0) {
                snprintf(buf, len, "writing our sequence number...");
        } else if (strcmp(phase, "verifying") == 0 || strcmp(phase, "heartbeat-check") == 0) {
                snprintf(buf, len, "verifying");
        } else {
                _cleanup_free_ char *p = mmpctl_escape(phase);

                snprintf(buf, len, "%s", p ? p : "...");
        }
}

static void clear_line(struct claim_view *cv)
{
        if (cv->line_shown) {
                fputs("\r\033[K", stderr);
                cv->line_shown = false;
        }
}

static int on_progress(struct mmp_client *client, const struct mmp_volume_event *ev,
                       void *userdata)
{
        struct claim_view *cv = userdata;
        struct mmp_volume *v = mmp_volume_event_get_volume(ev);
        _cleanup_free_ char *dev = NULL;
        char text[256];

        if (!cv->tty || mmp_volume_event_get_type(ev) != MMP_VOLUME_EVENT_PROGRESS)
                return 0;
        dev = mmpctl_escape(mmp_volume_get_device(v));
        progress_text(v, text, sizeof(text));
        /* One line, rewritten in place. */
        fprintf(stderr, "\r\033[K%s: %s", dev ? dev : "?", text);
        fflush(stderr);
        cv->line_shown = true;
        return 0;
}

/* AlreadyClaimed: fine if this node holds it; ask mmpd. */
static int already_claimed(struct mmp_client *client, const char *device, struct claim_view *cv,
                           bool announce)
{
        struct mmp_check chk = MMP_CHECK_INIT;
        bool held;
        int r;

        r = mmp_check(client, device, &chk);
        held = r == 0 && chk.volume && mmp_volume_get_state(chk.volume) == MMP_VOLUME_HELD;
        mmp_check_clear(&chk);
        if (held) {
                if (cv->tty || announce)
                        fprintf(stderr, "%s is already held by this node\n", device);
                return MMPCTL_EXIT_OK;
        }
        return -1;
}

static void print_refused(struct mmp_client *client, const char *device)
{
        const struct mmp_error *e = mmp_client_last_error(client);
        const char *node = e ? mmp_error_get_holder_node(e) : NULL;
        const char *ndev = e ? mmp_error_get_holder_device(e) : NULL;
        _cleanup_free_ char *dev = mmpctl_escape(device);
        _cleanup_free_ char *n = NULL, *d = NULL;
        uint32_t seq;

        if (!e || mmp_error_get_errno(e) != -EBUSY || !node || !dev) {
                mmpctl_err_call(client, -EBUSY, "refused");
                return;
        }
        n = mmpctl_escape(node);
        d = mmpctl_escape_or_dash(ndev);
        if (!n || !d) {
                mmpctl_err_call(client, -EBUSY, "refused");
                return;
        }
        if (mmp_error_get_holder_seq(e, &seq) == 0)
                mmpctl_err("refused: %s is in use by node '%s' (device %s, seq %" PRIu32 ")",
                           dev, n, d, seq);
        else
                mmpctl_err("refused: %s is in use by node '%s' (device %s)", dev, n, d);
}

int mmpctl_cmd_claim(struct mmpctl_ctx *ctx, int argc, char **argv)
{
        enum { OPT_SOCKET = 0x100 };
        static const struct option options[] = {
                { "name",   required_argument, NULL, 'n' },
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "help",   no_argument,       NULL, 'h' },
                {}
        };
        struct mmp_client *client = NULL;
        const char *name = NULL, *device;
        int c, ret;

        while ((c = getopt_long(argc, argv, "hn:", options, NULL)) >= 0) {
                switch (c) {
                case 'n':
                        name = optarg;
                        break;
                case OPT_SOCKET:
                        ctx->socket_path = optarg;
                        break;
                case 'h':
                        claim_usage(stdout);
                        return MMPCTL_EXIT_OK;
                default:
                        claim_usage(stderr);
                        return MMPCTL_EXIT_ERROR;
                }
        }
        if (argc - optind != 1) {
                claim_usage(stderr);
                return MMPCTL_EXIT_ERROR;
        }
        device = argv[optind];

        /* No timeout: mmpd streams progress, but a wait may last W (up to 360 s). */
        if (mmpctl_connect(ctx, 0, &client) < 0)
                return MMPCTL_EXIT_ERROR;
        ret = mmpctl_claim_volume(client, device, name, false);
        mmp_client_free(client);
        return ret;
}

int mmpctl_claim_volume(struct mmp_client *client, const char *device, const char *name,
                        bool announce)
{
        struct claim_view cv = { .tty = isatty(STDERR_FILENO) };
        struct mmp_volume *v = NULL;
        int r, ret;

        if (announce && !cv.tty)
                fprintf(stderr, "claiming %s (this takes about twice its MMP wait)\n", device);
        r = mmp_claim(client, device, name, on_progress, &cv, &v);
        clear_line(&cv);

        switch (r) {
        case 0: {
                uint32_t seq;

                if (cv.tty || announce) {
                        if (mmp_volume_get_seq(v, &seq) == 0)
                                fprintf(stderr, "claimed %s (seq %" PRIu32 ")\n", device, seq);
                        else
                                fprintf(stderr, "claimed %s\n", device);
                }
                ret = MMPCTL_EXIT_OK;
                break;
        }
        case -EBUSY:
                print_refused(client, device);
                ret = MMPCTL_EXIT_UNUSABLE;
                break;
        case -EEXIST: {
                const struct mmp_error *e = mmp_client_last_error(client);
                _cleanup_free_ char *msg = e ? strdup(mmp_error_get_message(e)) : NULL;

                ret = already_claimed(client, device, &cv, announce);
                if (ret >= 0)
                        break;
                /* A claim of it is under way (or it was lost): not ours now. */
                mmpctl_err("refused: %s", msg ? msg : "the volume is already claimed");
                ret = MMPCTL_EXIT_UNUSABLE;
                break;
        }
        case -EINPROGRESS:
        case -EUCLEAN:
                mmpctl_err_call(client, r, "refused");
                ret = MMPCTL_EXIT_UNUSABLE;
                break;
        default:
                mmpctl_err_call(client, r, NULL);
                ret = MMPCTL_EXIT_ERROR;
        }
        mmp_volume_unref(v);
        return ret;
}

/* ---- waiting for a claim under way --------------------------------------- */

#define WAIT_POLL_NSEC (500 * 1000 * 1000)

/* Why a claim we waited for did not end held, for "mmpctl: ...". */
static void print_not_held(const char *device, const struct mmp_volume *v)
{
        const struct mmp_holder *h = mmp_volume_get_holder(v);
        const char *err = mmp_volume_get_error(v);
        _cleanup_free_ char *state = mmpctl_escape(mmp_volume_get_state_name(v));
        _cleanup_free_ char *why = err ? mmpctl_escape(err) : NULL;
        _cleanup_free_ char *node = h ? mmpctl_escape(mmp_holder_get_node(h)) : NULL;

        if (mmp_volume_get_state(v) == MMP_VOLUME_REFUSED && node)
                mmpctl_err("refused: %s is in use by node '%s' (seq %" PRIu32 ")", device, node,
                           mmp_holder_get_seq(h));
        else
                mmpctl_err("%s is not held: state %s%s%s", device, state ? state : "?",
                           why ? ": " : "", why ? why : "");
}

int mmpctl_wait_claimed(struct mmp_client *client, const char *device, bool announce)
{
        struct claim_view cv = { .tty = isatty(STDERR_FILENO) };
        const struct timespec pause = { 0, WAIT_POLL_NSEC };
        bool said = false;
        int ret;

        for (;;) {
                struct mmp_check chk = MMP_CHECK_INIT;
                enum mmp_volume_state st;
                char text[256];
                uint32_t seq;
                int r;

                r = mmp_check(client, device, &chk);
                if (r == -ENOENT && mmpctl_is_reply_error(client)) {
                        /* A refused or failed claim is forgotten: its reason
                         * went by as an event (mmpctl watch) and in the log. */
                        clear_line(&cv);
                        mmpctl_err("the claim of %s did not end held: mmpd no longer knows it "
                                   "(refused or failed; mmpd's log says why)", device);
                        return MMPCTL_EXIT_UNUSABLE;
                }
                if (r < 0) {
                        clear_line(&cv);
                        mmpctl_err_call(client, r, NULL);
                        return MMPCTL_EXIT_ERROR;
                }
                st = mmp_volume_get_state(chk.volume);
                if (st == MMP_VOLUME_CLAIMING) {
                        if (cv.tty) {
                                progress_text(chk.volume, text, sizeof(text));
                                fprintf(stderr, "\r\033[K%s: %s", device, text);
                                fflush(stderr);
                                cv.line_shown = true;
                        } else if (announce && !said) {
                                fprintf(stderr, "waiting for mmpd's claim of %s\n", device);
                                said = true;
                        }
                        mmp_check_clear(&chk);
                        nanosleep(&pause, NULL);
                        continue;
                }
                clear_line(&cv);
                if (st == MMP_VOLUME_HELD) {
                        if (cv.tty || announce) {
                                if (mmp_volume_get_seq(chk.volume, &seq) == 0)
                                        fprintf(stderr, "claimed %s (seq %" PRIu32 ")\n", device, seq);
                                else
                                        fprintf(stderr, "claimed %s\n", device);
                        }
                        ret = MMPCTL_EXIT_OK;
                } else {
                        print_not_held(device, chk.volume);
                        ret = MMPCTL_EXIT_UNUSABLE;
                }
                mmp_check_clear(&chk);
                return ret;
        }
}
