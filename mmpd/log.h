/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Daemon logging: stderr, with syslog level prefixes ("<3>") when stderr is
 * the journal, so journald keeps the priority.  Libraries never log; the
 * daemon logs once, where an error is handled, and every line about a volume
 * names it (log_vol).
 */
#pragma once

#include <syslog.h>

#include "macro.h"

void log_setup(void);
void log_set_max_level(int level);
void log_msg(int prio, const char *fmt, ...) _printf_(2, 3);

#define log_error(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LOG_DEBUG, __VA_ARGS__)

/* "volume NAME (DEVICE): ..." */
#define log_vol(v, prio, fmt, ...) \
        log_msg(prio, "volume %s (%s): " fmt, volume_name(v), volume_device(v), ##__VA_ARGS__)
