/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CRC32C as ext4 and e2fsprogs compute it: ext2fs_crc32c_le(), the raw
 * reflected update with no inversion before or after, so a seed goes in
 * and the register comes out.  Every MMP block written and read is
 * checksummed (metadata_csum), so this is on the heartbeat path: with
 * SSE4.2 (x86-64) the CPU's crc32 instruction does it, several times
 * faster than the table-driven code in libext2fs; elsewhere it is
 * ext2fs_crc32c_le() itself.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

uint32_t mmp_crc32c(uint32_t crc, const void *buf, size_t len);

/* The same through libext2fs alone, whatever the CPU: for tests. */
uint32_t mmp_crc32c_generic(uint32_t crc, const void *buf, size_t len);

/* Does mmp_crc32c() use the CPU's instruction here? (for tests) */
int mmp_crc32c_is_hw(void);
