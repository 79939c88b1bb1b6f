/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What mmpctl's mmpd commands share: connecting, error lines, times. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "libmmp.h"
#include "mmpctl.h"

int mmpctl_connect(const struct mmpctl_ctx *ctx, uint64_t timeout_usec, struct mmp_client **ret)
{
        const char *path = ctx->socket_path ? ctx->socket_path : mmp_default_socket_path();
        int r;

        r = mmp_client_connect(path, ret);
        if (r < 0) {
                const char *hint = "";

                if (r == -ENOENT || r == -ECONNREFUSED)
                        hint = " (is mmpd running?)";
                else if (r == -EACCES || r == -EPERM)
                        hint = " (not allowed to use the socket: root or mmpd's group?)";
                mmpctl_err("cannot reach mmpd at %s: %s%s", path, strerror(-r), hint);
                return r;
        }
        mmp_client_set_timeout(*ret, timeout_usec);
        return 0;
}

void mmpctl_err_call(struct mmp_client *client, int r, const char *prefix)
{
        const struct mmp_error *e = mmp_client_last_error(client);
        const char *msg = e ? mmp_error_get_message(e) : strerror(r < 0 ? -r : r);

        if (prefix)
                mmpctl_err("%s: %s", prefix, msg);
        else
                mmpctl_err("%s", msg);
}

bool mmpctl_is_reply_error(struct mmp_client *client)
{
        const struct mmp_error *e = mmp_client_last_error(client);

        return e && mmp_error_get_name(e);
}

const char *mmpctl_format_wall(int64_t t, char *buf, size_t len)
{
        time_t tt = (time_t) t;
        struct tm tm;

        if (!localtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, len, "(out of range)");
        return buf;
}

char *mmpctl_escape_or_dash(const char *s)
{
        return mmpctl_escape(s ? s : "-");
}
