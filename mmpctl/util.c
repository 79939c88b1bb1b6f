/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small output helpers shared by mmpctl's commands. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmpctl.h"

char *mmpctl_escape(const char *s)
{
        size_t n = strlen(s);
        char *out = malloc(4 * n + 1), *o = out;

        if (!out)
                return NULL;
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                if (c == '\\') {
                        *o++ = '\\';
                        *o++ = '\\';
                } else if (c >= 0x20 && c < 0x7f) {
                        *o++ = (char) c;
                } else {
                        o += sprintf(o, "\\x%02x", c);
                }
        }
        *o = '\0';
        return out;
}

const char *mmpctl_format_time(uint64_t t, char *buf, size_t len)
{
        time_t tt = (time_t) t;
        struct tm tm;

        /* debugfs dump_mmp prints ctime(): "Tue Nov 24 05:41:02 2026". */
        if (t > (uint64_t) INT64_MAX || (uint64_t) tt != t || !localtime_r(&tt, &tm) ||
            strftime(buf, len, "%a %b %e %H:%M:%S %Y", &tm) == 0)
                snprintf(buf, len, "(out of range)");
        return buf;
}
