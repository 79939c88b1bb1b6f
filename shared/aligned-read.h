/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Blocking, aligned reads for tools and worker threads (never the daemon's
 * event loop, whose device I/O goes through mmpd/io.c).  Not installed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Read @len bytes at @off through an aligned bounce buffer: O_DIRECT wants
 * the buffer address, the offset and the length all aligned to the logical
 * sector size (@align, a power of two), so the read covers the aligned span
 * around the wanted bytes.  *ret_data points at byte @off inside *ret_mem
 * (free() it); *ret_len may be short of @len at the end of a file.
 * Returns 0 or -errno (-EOVERFLOW for a span that does not fit off_t).
 */
int mmp_pread_span(int fd, size_t align, uint64_t off, size_t len,
                   void **ret_mem, const uint8_t **ret_data, size_t *ret_len);

/*
 * Prepare @fd for reading the MMP structures: a block device gets O_DIRECT
 * (set on this fd, so a path cannot be swapped between a check and the
 * open) and *ret_align its logical sector size (BLKSSZGET); a failed
 * BLKSSZGET is an error (-errno), a size that is not a power of two >= 512
 * is -EINVAL.  Anything else is read buffered with *ret_align 4096.
 * Clears O_NONBLOCK.  *ret_direct says which.
 */
int mmp_fd_make_direct(int fd, size_t *ret_align, bool *ret_direct);
