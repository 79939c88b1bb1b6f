/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fake of mmpd/io.h for the daemon's unit tests: one in-memory disk, a
 * fake CLOCK_BOOTTIME (mmpd_now()), and I/O that completes when the test
 * says time has passed.  Nothing touches a real device.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io.h"

struct fake_disk {
        uint8_t *data;
        size_t size;
        mmp_usec_t latency;     /* every I/O completes this long after submit */
        bool hang;              /* I/Os submitted now never complete (until cleared) */
        unsigned reads, writes; /* submitted */
        unsigned writes_landed;
        mmp_usec_t last_read_at;        /* when the last read was submitted */
};

extern struct fake_disk fake_disk;
extern mmp_usec_t fake_now;

/* Load @path (an image made by mkfs) as the disk. */
int fake_disk_load(const char *path);
void fake_disk_free(void);
/* The earliest completion or deadline of an I/O in flight. */
mmp_usec_t fake_io_next(void);
/* Complete (or time out) every I/O due at fake_now. */
void fake_io_run(void);
