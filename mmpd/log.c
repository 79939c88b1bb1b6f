/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "log.h"

static bool use_prefix;         /* stderr is the journal */
static int max_level = LOG_INFO;

void log_setup(void)
{
        /* systemd sets JOURNAL_STREAM when stderr is connected to the journal. */
        use_prefix = getenv("JOURNAL_STREAM") != NULL;
        if (getenv("MMPD_DEBUG"))
                max_level = LOG_DEBUG;
}

void log_set_max_level(int level)
{
        max_level = level;
}

static void emit(int prio, const char *msg)
{
        static const char *const names[] = {
                "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
        };

        if (use_prefix)
                fprintf(stderr, "<%d>%s\n", prio, msg);
        else if (prio <= LOG_WARNING)
                fprintf(stderr, "mmpd: %s: %s\n", names[prio & 7], msg);
        else
                fprintf(stderr, "mmpd: %s\n", msg);
}

void log_msg(int prio, const char *fmt, ...)
{
        char buf[1024];
        va_list ap;

        if (prio > max_level)
                return;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        emit(prio, buf);
}

void log_volume_id(const char *id, int prio, const char *name, const char *device, const char *fmt, ...)
{
        char msg[1024], buf[1100];
        va_list ap;

        if (prio > max_level)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(buf, sizeof(buf), "volume %s (%s): %s", name, device, msg);
        if (!use_prefix || sd_journal_send("MESSAGE=%s", buf, "MESSAGE_ID=%s", id, "PRIORITY=%i", prio,
                                           "MMPD_VOLUME=%s", name, "MMPD_DEVICE=%s", device,
                                           "SYSLOG_IDENTIFIER=mmpd", NULL) < 0)
                emit(prio, buf);
}
