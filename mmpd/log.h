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

/*
 * The outcomes an admin looks up (catalog/mmpd.catalog explains each; a
 * fence's stages have their own in fence.c).  Under the journal the line
 * carries MESSAGE_ID, MMPD_VOLUME and MMPD_DEVICE, so `journalctl -x`
 * shows the catalog text and MMPD_VOLUME=NAME finds a volume's history.
 */
#define LOG_ID_CLAIMED   "155d5b7a40c247b19ca80a19eaca5ef2"
#define LOG_ID_REFUSED   "28d2724358844ef4b23c2a3610deecb4"
#define LOG_ID_RELEASED  "039a02e0d4014ea4909769780af64d9e"
#define LOG_ID_SLOW_IO   "c5a686575a024f879879b3fda3794a35"
#define LOG_ID_HANDOFF   "5f4e810499d14c1ebaaa024f1c360344"
#define LOG_ID_USE_ENDED "70e148aeac71448c9946488ce0927319"

void log_volume_id(const char *id, int prio, const char *name, const char *device, const char *fmt, ...)
        _printf_(5, 6);
#define log_vol_id(v, id, prio, fmt, ...) \
        log_volume_id(id, prio, volume_name(v), volume_device(v), fmt, ##__VA_ARGS__)
