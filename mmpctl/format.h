/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mmpctl: how durations and colours look on a terminal (mmpctl/format.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * @usec as a person reads it, at most two units: "0.0s" to "9.9s", "42s",
 * "3m12s", "2h05m", "3d04h".  Rounded down, so a shown time has passed.
 * Writes into @buf of @len bytes (16 is enough) and returns it.
 */
const char *mmpctl_format_duration(uint64_t usec, char *buf, size_t len);

/*
 * Whether to print colour on a stream: only to a terminal (@isatty), and
 * never when NO_COLOR is set and not empty (https://no-color.org, given as
 * @no_color, NULL when unset) or TERM is "dumb" (@term, NULL when unset).
 */
bool mmpctl_want_color(bool isatty, const char *no_color, const char *term);

/* mmpctl_want_color() for stdout, from the environment. */
bool mmpctl_stdout_color(void);

#define MMPCTL_COLOR_LOST  "\033[1;31m"  /* bold red */
#define MMPCTL_COLOR_RESET "\033[0m"
