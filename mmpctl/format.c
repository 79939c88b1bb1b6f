/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Durations and colours for mmpctl's tables. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"

const char *mmpctl_format_duration(uint64_t usec, char *buf, size_t len)
{
        uint64_t s = usec / 1000000u;

        if (s < 10)
                snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "s", s, usec / 100000u % 10u);
        else if (s < 60)
                snprintf(buf, len, "%" PRIu64 "s", s);
        else if (s < 3600)
                snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
        else if (s < 86400)
                snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s % 3600 / 60);
        else
                snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s % 86400 / 3600);
        return buf;
}

bool mmpctl_want_color(bool isatty, const char *no_color, const char *term)
{
        if (!isatty)
                return false;
        if (no_color && no_color[0])
                return false;
        return !(term && strcmp(term, "dumb") == 0);
}

bool mmpctl_stdout_color(void)
{
        return mmpctl_want_color(isatty(STDOUT_FILENO), getenv("NO_COLOR"), getenv("TERM"));
}
