/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rules shared by the daemon, its control plane and the tools, each in one
 * place: what a volume name may be, and the clock every *_usec time uses.
 * Inline, so any part links them without another library.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "mmp-timing.h"

/* Volume names: 1 to 64 characters of A-Z a-z 0-9 . _ : @ - */
#define MMP_VOLUME_NAME_MAX 64
#define MMP_VOLUME_NAME_CHARS "A-Z a-z 0-9 . _ : @ -"
static inline bool mmp_volume_name_valid(const char *name, size_t len)
{
        if (len < 1 || len > MMP_VOLUME_NAME_MAX)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = name[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      (c != '\0' && strchr("._:@-", c))))
                        return false;
        }
        return true;
}

/* CLOCK_BOOTTIME in microseconds: counts suspend, never steps.  Every
 * *_usec time mmpd reports and every deadline it keeps is on this clock.
 * Inline: the I/O engine and libmmp use it without linking more. */
static inline mmp_usec_t mmp_boottime_usec(void)
{
        struct timespec ts;

        /* Cannot fail for a valid clock id and pointer. */
        (void) clock_gettime(CLOCK_BOOTTIME, &ts);
        return (mmp_usec_t) ts.tv_sec * MMP_USEC_PER_SEC + (mmp_usec_t) ts.tv_nsec / 1000;
}
