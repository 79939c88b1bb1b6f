/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What mount, umount and exec share: a volume held before it is handed
 * over (docs/handoff.md), its use in words, and what the end of a use did.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "libmmp.h"
#include "mmpctl.h"

const char *mmpctl_use_text(const struct mmp_volume *v, char *buf, size_t len)
{
        const char *user = mmp_volume_get_use_user(v);
        const char *phase = mmp_volume_get_use_phase(v);
        const char *mp = mmp_volume_get_use_mount_point(v);
        _cleanup_free_ char *u = NULL, *m = NULL, *ph = NULL;
        char what[64] = "";
        pid_t pid;

        if (!mmp_volume_in_use(v)) {
                snprintf(buf, len, "-");
                return buf;
        }
        u = mmpctl_escape(user);
        m = mp ? mmpctl_escape(mp) : NULL;
        ph = mmpctl_escape(phase);
        if (strcmp(user, "kernel") == 0)
                snprintf(what, sizeof(what), "mount");
        else if (mmp_volume_get_use_pid(v, &pid) == 0)
                snprintf(what, sizeof(what), "pid %d", (int) pid);
        snprintf(buf, len, "%s%s%s%s%s%s%s%s", u ? u : "?", what[0] ? " " : "", what,
                 m ? " " : "", m ? m : "", strcmp(phase, "in_use") != 0 ? " (" : "",
                 strcmp(phase, "in_use") != 0 && ph ? ph : "",
                 strcmp(phase, "in_use") != 0 ? ")" : "");
        return buf;
}

int mmpctl_hold_for_use(struct mmp_client *client, const char *device)
{
        struct mmp_check chk = MMP_CHECK_INIT;
        const char *err;
        char use[512];
        int r, ret;

        r = mmp_check(client, device, &chk);
        if (r == -ENOENT && mmpctl_is_reply_error(client))
                return mmpctl_claim_volume(client, device, NULL, true);
        if (r < 0) {
                mmpctl_err_call(client, r, NULL);
                return MMPCTL_EXIT_ERROR;
        }
        switch (mmp_volume_get_state(chk.volume)) {
        case MMP_VOLUME_HELD:
                ret = MMPCTL_EXIT_OK;
                break;
        case MMP_VOLUME_CLAIMING:
                ret = mmpctl_wait_claimed(client, device, true);
                break;
        case MMP_VOLUME_IN_USE:
                mmpctl_err("%s is in use already: %s", device,
                           mmpctl_use_text(chk.volume, use, sizeof(use)));
                ret = MMPCTL_EXIT_UNUSABLE;
                break;
        default: {
                _cleanup_free_ char *state = mmpctl_escape(mmp_volume_get_state_name(chk.volume));
                _cleanup_free_ char *why = NULL;

                err = mmp_volume_get_error(chk.volume);
                why = err ? mmpctl_escape(err) : NULL;
                /* mmpd knows it, so a claim would be AlreadyClaimed: say why instead. */
                mmpctl_err("%s is not held by mmpd (state %s%s%s)", device, state ? state : "?",
                           why ? ": " : "", why ? why : "");
                ret = MMPCTL_EXIT_UNUSABLE;
        }
        }
        mmp_check_clear(&chk);
        return ret;
}

/* "PREFIX; TEXT" or "TEXT" on stderr. */
static void say(const char *prefix, const char *fmt, ...) _printf_(2, 3);
static void say(const char *prefix, const char *fmt, ...)
{
        va_list ap;

        if (prefix)
                fprintf(stderr, "%s; ", prefix);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int mmpctl_report_end_of_use(struct mmp_client *client, const char *device,
                             const struct mmp_volume *v, bool wait, const char *prefix)
{
        _cleanup_free_ char *state = mmpctl_escape(mmp_volume_get_state_name(v));
        uint32_t seq;

        switch (mmp_volume_get_state(v)) {
        case MMP_VOLUME_RELEASED:
        case MMP_VOLUME_RELEASING:
                say(prefix, "mmpd released %s", device);
                return MMPCTL_EXIT_OK;
        case MMP_VOLUME_HELD:
                if (mmp_volume_get_seq(v, &seq) == 0)
                        say(prefix, "mmpd holds %s (seq %" PRIu32 ")", device, seq);
                else
                        say(prefix, "mmpd holds %s", device);
                return MMPCTL_EXIT_OK;
        case MMP_VOLUME_CLAIMING:
                say(prefix, "mmpd claims %s again", device);
                return wait ? mmpctl_wait_claimed(client, device, true) : MMPCTL_EXIT_OK;
        default:
                say(prefix, "%s is %s", device, state ? state : "?");
                return mmp_volume_get_state(v) == MMP_VOLUME_LOST ? MMPCTL_EXIT_UNUSABLE :
                        MMPCTL_EXIT_OK;
        }
}

int mmpctl_end_use(struct mmp_client *client, const char *device, int keep, bool wait,
                   const char *prefix)
{
        const struct mmp_error *e;
        struct mmp_volume *v = NULL;
        int r, ret;

        r = mmp_end_use(client, device, keep, &v);
        if (r == -ENOENT && keep != 1 && mmpctl_is_reply_error(client)) {
                /* mmpd saw the end first (the user's CLEAN at its own read,
                 * the tool's exit through its pidfd), released the volume
                 * and forgot it: that is what was asked. */
                say(prefix, "mmpd released %s", device);
                return MMPCTL_EXIT_OK;
        }
        if (r < 0) {
                e = mmp_client_last_error(client);
                if (prefix)
                        fprintf(stderr, "%s\n", prefix);
                mmpctl_err("cannot end the use of %s: %s", device,
                           e ? mmp_error_get_message(e) : strerror(-r));
                return MMPCTL_EXIT_ERROR;
        }
        ret = mmpctl_report_end_of_use(client, device, v, wait, prefix);
        mmp_volume_unref(v);
        return ret;
}
